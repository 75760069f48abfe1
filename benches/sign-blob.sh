#!/usr/bin/env bash
# Benchmark `signet sign-blob` and `signet verify-blob` against `openssl dgst -sha256`
# on one large file (default 1 GiB) read from the page cache.
#
# Usage:   benches/sign-blob.sh [SIZE]
#          SIZE in bytes, or with a binary suffix: 1G (default), 256M, 64K.
#
# Environment:
#   BENCH_RUNS=5        timed runs of each command (interleaved, see below)
#   SIGNET=PATH         signet binary (default: <repo>/target/release/signet;
#                       build it first with `cargo build --release --bin signet`)
#   BENCH_TMPDIR=DIR    where the temporary directory goes (default: $TMPDIR or /tmp,
#                       falling back to /var/tmp when that is a tmpfs)
#   BENCH_MAX_LOAD=0.5  1-minute load average considered "quiet"
#   BENCH_WAIT_SECS=0   wait up to this long for the load to drop below BENCH_MAX_LOAD
#                       before measuring (0: do not wait, only report the load)
#
# What it does, all inside one temporary directory that is removed on exit:
#   1. writes SIZE bytes of deterministic pseudo-random data (AES-128-CTR keystream with a
#      fixed key, so every run hashes the same bytes), syncs it to disk and reads it once so
#      every measured command reads it from the page cache;
#   2. makes a signet key pair (Cosign format, scrypt-encrypted) and an OpenSSL P-256 key;
#   3. runs, BENCH_RUNS times, one round of:
#        openssl dgst -sha256 FILE
#        signet sign-blob FILE
#        openssl dgst -sha256 -sign key.pem FILE        (same work as sign-blob)
#        signet verify-blob FILE                          (must exit 0: checks this round's signature)
#        openssl dgst -sha256 -verify pub.pem FILE       (must print "Verified OK")
#        signet sign-blob EMPTY / signet verify-blob EMPTY   (the fixed per-process cost)
#      so any background noise falls on both tools alike;
#   4. checks signet's signature independently with openssl, and that verify-blob rejects a
#      file the signature was not made over;
#   5. prints a Markdown table of medians, throughput, throughput ratios and peak RSS.
#
# Wall time is taken with `date +%s.%N` around each command; CPU time and peak RSS come
# from GNU time (/usr/bin/time). The script never installs anything.
set -eu
set -o pipefail
export LC_ALL=C

runs=${BENCH_RUNS:-5}
max_load=${BENCH_MAX_LOAD:-0.5}
wait_secs=${BENCH_WAIT_SECS:-0}
size_arg=${1:-1G}

die() { echo "sign-blob.sh: $*" >&2; exit 1; }

case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$runs'" ;; esac
case $size_arg in
    *[Kk]) mult=1024 ;;
    *[Mm]) mult=1048576 ;;
    *[Gg]) mult=1073741824 ;;
    *) mult=1 ;;
esac
size_num=${size_arg%[KkMmGg]}
case $size_num in '' | *[!0-9]*) die "SIZE must be bytes or a number with K, M or G, not '$size_arg'" ;; esac
size=$((size_num * mult))
[ "$size" -gt 0 ] || die "SIZE must be positive"

repo=$(cd "$(dirname "$0")/.." && pwd)
signet=${SIGNET:-$repo/target/release/signet}

# --- prerequisites (checked, never installed) ---------------------------------------------
if ! /usr/bin/time --version 2>&1 | grep -q 'GNU'; then
    die "GNU time is needed at /usr/bin/time for CPU time and peak RSS; install it (Debian/Ubuntu: apt-get install -y time) and run again"
fi
command -v openssl >/dev/null || die "openssl is not on PATH"
for tool in awk sort base64 head stat df; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"

# --- temporary directory, off tmpfs ---------------------------------------------------------
parent=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
if [ -z "${BENCH_TMPDIR:-}" ] && [ "$(stat -f -c %T "$parent")" = tmpfs ] && [ -d /var/tmp ] \
    && [ "$(stat -f -c %T /var/tmp)" != tmpfs ]; then
    parent=/var/tmp
fi
[ "$(stat -f -c %T "$parent")" = tmpfs ] \
    && echo "note: $parent is a tmpfs; the test file will live in RAM (set BENCH_TMPDIR to avoid)" >&2
avail_kib=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
[ $((avail_kib * 1024)) -gt $((size + 64 * 1048576)) ] || die "not enough free space in $parent for $size bytes"
mem_avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
[ $((mem_avail_kib * 1024)) -gt $((size + 512 * 1048576)) ] \
    || echo "warning: MemAvailable (${mem_avail_kib} KiB) is not comfortably above the file size; reads may not come from the page cache" >&2

work=
cleanup() { if [ -n "$work" ]; then rm -rf -- "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "$parent/signet-bench.XXXXXX")

file=$work/blob
empty=$work/empty
results=$work/results   # lines: label wall_s cpu_s maxrss_kib
: >"$results"
: >"$empty"

# --- test data ------------------------------------------------------------------------------
echo "# generating $size bytes in $work" >&2
head -c "$size" /dev/zero \
    | openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 >"$file"
[ "$(stat -c %s "$file")" -eq "$size" ] || die "the test file has the wrong size"
sync "$file"   # so write-back does not run during the measurements
cat "$file" >/dev/null
file_sha256=$(openssl dgst -sha256 -r "$file" | awk '{ print $1 }')

# --- keys -----------------------------------------------------------------------------------
export COSIGN_PASSWORD=signet-bench
"$signet" generate-key-pair --output-key-prefix "$work/bench" >"$work/keygen.log" 2>&1 \
    || { cat "$work/keygen.log" >&2; die "signet generate-key-pair failed"; }
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null

# --- measuring ------------------------------------------------------------------------------
# measure LABEL CMD...: runs CMD once, appends "LABEL wall cpu maxrss_kib" to $results.
measure() {
    label=$1
    shift
    t0=$(date +%s.%N)
    if ! /usr/bin/time -f '%U %S %M' -o "$work/time.out" "$@" >"$work/cmd.out" 2>"$work/cmd.err"; then
        echo "command failed: $*" >&2
        cat "$work/cmd.out" "$work/cmd.err" >&2
        die "aborting: a measured command failed, so the results would be meaningless"
    fi
    t1=$(date +%s.%N)
    awk -v l="$label" -v t0="$t0" -v t1="$t1" 'END { printf "%s %.6f %.2f %d\n", l, t1 - t0, $1 + $2, $3 }' \
        "$work/time.out" >>"$results"
}

load1() { awk '{ print $1 }' /proc/loadavg; }

# Untimed warm-up: page in both binaries and the key files.
"$signet" sign-blob --key "$work/bench.key" --tlog-upload=false --output-signature "$work/empty.sig" "$empty" 2>/dev/null
openssl dgst -sha256 "$empty" >/dev/null
cat "$file" >/dev/null

if [ "$wait_secs" -gt 0 ]; then
    waited=0
    while awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l >= m) }' && [ "$waited" -lt "$wait_secs" ]; do
        [ $((waited % 60)) -eq 0 ] && echo "# load $(load1) >= $max_load, waiting (${waited}s of ${wait_secs}s)" >&2
        sleep 10
        waited=$((waited + 10))
    done
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u)
awk -v l="${load_before%% *}" -v m="$max_load" 'BEGIN { exit !(l >= m) }' \
    && echo "warning: 1-minute load average is ${load_before%% *} (>= $max_load); results may be noisy" >&2

sig=$work/signet.sig
osig=$work/openssl.sig
i=1
while [ "$i" -le "$runs" ]; do
    echo "# round $i of $runs (load $(load1))" >&2
    measure openssl-dgst openssl dgst -sha256 "$file"
    rm -f "$sig"
    measure signet-sign "$signet" sign-blob --key "$work/bench.key" --tlog-upload=false --output-signature "$sig" "$file"
    rm -f "$osig"
    measure openssl-sign openssl dgst -sha256 -sign "$work/key.pem" -out "$osig" "$file"
    measure signet-verify "$signet" verify-blob --key "$work/bench.pub" --signature "$sig" --insecure-ignore-tlog=true "$file"
    grep -q '^Verified OK' "$work/cmd.out" "$work/cmd.err" || die "signet verify-blob exited 0 without saying Verified OK"
    measure openssl-verify openssl dgst -sha256 -verify "$work/pub.pem" -signature "$osig" "$file"
    grep -q '^Verified OK' "$work/cmd.out" || die "openssl did not verify its own signature"
    measure signet-sign-empty "$signet" sign-blob --key "$work/bench.key" --tlog-upload=false --output-signature "$work/empty.sig" "$empty"
    measure signet-verify-empty "$signet" verify-blob --key "$work/bench.pub" --signature "$work/empty.sig" --insecure-ignore-tlog=true "$empty"
    i=$((i + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- correctness checks beyond the exit codes -----------------------------------------------
# signet's signature (base64 DER ECDSA over SHA-256) must verify with openssl and signet's public key.
base64 -d "$sig" >"$work/signet.sig.der"
openssl dgst -sha256 -verify "$work/bench.pub" -signature "$work/signet.sig.der" "$file" | grep -q '^Verified OK' \
    || die "openssl does not accept signet's signature"
# verify-blob must reject a file the signature was not made over.
if "$signet" verify-blob --key "$work/bench.pub" --signature "$sig" --insecure-ignore-tlog=true "$empty" >/dev/null 2>&1; then
    die "signet verify-blob accepted the signature over the wrong file"
fi

cached=$(fincore --bytes --noheadings --output RES "$file" 2>/dev/null || echo unknown)

# --- report ---------------------------------------------------------------------------------
openssl_speed=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null \
    | awk '$1 == "sha256" { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1048576 }' || true)

echo
echo "signet sign-blob / verify-blob vs openssl dgst -sha256"
echo
echo "- date: $started (start of the measurements)"
echo "- command: benches/sign-blob.sh $size_arg (BENCH_RUNS=$runs), $size bytes, sha256 $file_sha256"
echo "- machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p'), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
echo "- signet: $("$signet" --version) ($signet, built $(date -u -r "$signet" '+%Y-%m-%d %H:%M UTC')), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo 'no git')"
echo "- openssl: $(openssl version)"
echo "- load average (1/5/15 min): before $load_before, after $load_after"
echo "- test file resident in page cache after the runs: $cached of $size bytes"
[ -n "$openssl_speed" ] && echo "- openssl speed -evp sha256 (1 MiB blocks, in memory): $openssl_speed MiB/s"
echo

awk -v size="$size" -v runs="$runs" '
function median(label,   n, i, j, t, a) {
    n = 0
    for (i = 1; i <= cnt[label]; i++) a[++n] = wall[label, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function cpumedian(label,   n, i, j, t, a) {
    n = 0
    for (i = 1; i <= cnt[label]; i++) a[++n] = cpu[label, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "met" : "NOT met" }
function mibs(secs) { return secs > 0 ? size / 1048576 / secs : 0 }
function row(name, label, base, secs,   m) {
    m = mibs(secs)
    printf "| %s | %.3f | %.3f-%.3f | %.2f | %.0f | %s | %s | %.1f |\n", name, secs, lo[label], hi[label], cpumedian(label), m,
        base == "" ? "-" : sprintf("%.2f", m / mibs(med[base])),
        sprintf("%.2f", m / mibs(med["openssl-dgst"])), rss[label] / 1024
}
{
    l = $1; c = ++cnt[l]; wall[l, c] = $2; cpu[l, c] = $3
    if (!(l in lo) || $2 < lo[l]) lo[l] = $2
    if (!(l in hi) || $2 > hi[l]) hi[l] = $2
    if ($4 > rss[l]) rss[l] = $4
}
END {
    for (l in cnt) med[l] = median(l)
    fixed_s = med["signet-sign-empty"]; fixed_v = med["signet-verify-empty"]
    printf "| command (%d runs each, interleaved) | median wall s | min-max s | median CPU s | MiB/s | ratio vs same-work openssl | ratio vs openssl dgst -sha256 | peak RSS MiB |\n", runs
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    row("openssl dgst -sha256", "openssl-dgst", "", med["openssl-dgst"])
    row("openssl dgst -sha256 -sign (P-256)", "openssl-sign", "", med["openssl-sign"])
    row("openssl dgst -sha256 -verify (P-256)", "openssl-verify", "", med["openssl-verify"])
    row("signet sign-blob", "signet-sign", "openssl-sign", med["signet-sign"])
    row("signet verify-blob", "signet-verify", "openssl-verify", med["signet-verify"])
    printf "| signet sign-blob, empty file (fixed cost) | %.3f | %.3f-%.3f | %.2f | - | - | - | %.1f |\n", fixed_s, lo["signet-sign-empty"], hi["signet-sign-empty"], cpumedian("signet-sign-empty"), rss["signet-sign-empty"] / 1024
    printf "| signet verify-blob, empty file (fixed cost) | %.3f | %.3f-%.3f | %.2f | - | - | - | %.1f |\n", fixed_v, lo["signet-verify-empty"], hi["signet-verify-empty"], cpumedian("signet-verify-empty"), rss["signet-verify-empty"] / 1024
    print ""
    s_in = mibs(med["signet-sign"]); s_ex = mibs(med["signet-sign"] - fixed_s)
    v_in = mibs(med["signet-verify"]); v_ex = mibs(med["signet-verify"] - fixed_v)
    o = mibs(med["openssl-dgst"])
    printf "sign-blob   throughput: %.0f MiB/s including the fixed cost (ratio %.2f vs openssl dgst -sha256), %.0f MiB/s excluding it (median - empty-file median = %.3f s; ratio %.2f)\n", s_in, s_in / o, s_ex, med["signet-sign"] - fixed_s, s_ex / o
    printf "verify-blob throughput: %.0f MiB/s including the fixed cost (ratio %.2f vs openssl dgst -sha256), %.0f MiB/s excluding it (median - empty-file median = %.3f s; ratio %.2f)\n", v_in, v_in / o, v_ex, med["signet-verify"] - fixed_v, v_ex / o
    printf "targets: throughput ratio >= 0.90 vs openssl dgst -sha256: sign-blob %s (incl. fixed cost) / %s (excl.), verify-blob %s / %s; peak RSS <= 32 MiB: sign-blob %s (%.1f MiB), verify-blob %s (%.1f MiB)\n",
        verdict(s_in / o >= 0.9), verdict(s_ex / o >= 0.9),
        verdict(v_in / o >= 0.9), verdict(v_ex / o >= 0.9),
        verdict(rss["signet-sign"] <= 32768), rss["signet-sign"] / 1024,
        verdict(rss["signet-verify"] <= 32768), rss["signet-verify"] / 1024
    printf "peak RSS growth from the empty file to the %d-byte file: sign-blob %+.1f MiB, verify-blob %+.1f MiB\n", size,
        (rss["signet-sign"] - rss["signet-sign-empty"]) / 1024, (rss["signet-verify"] - rss["signet-verify-empty"]) / 1024
}' "$results"
echo
echo "checks: every signet verify-blob run exited 0 and printed Verified OK; openssl verified signet's signature with signet's public key; verify-blob rejected the signature on another file."
