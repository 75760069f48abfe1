#!/usr/bin/env bash
# Runs every benchmark of issue 6 and prints one table: figure, signet, baseline, ratio,
# target, met?. Each benchmark's full report (commands, machine, load, per-round numbers) is
# kept in the log directory printed at the end.
#
# Usage:   benches/run-all.sh [BLOB_SIZE]      (default 256M; docs/performance.md's figure is 1G)
#
#   1. benches/sign-blob.sh BLOB_SIZE   sign-blob / verify-blob vs openssl dgst -sha256
#   2. benches/verify-batch.sh 1000     verify --policy over 1000 images vs curl, same requests
#   3. benches/bundles-compare.sh 20    139 CPython bundles: signet vs sigstore-python (sample)
#   4. benches/verify-one.sh            one verify --key process vs curl, same requests
#   5. benches/vsa-gate.sh              deciding an image by its VSA vs by its full evidence
#
# Environment: BENCH_IMAGES (default 1000), BENCH_SAMPLE (default 20), BENCH_LOGDIR (default: a
# new directory under /var/tmp), SIGNET; each script's own variables pass through, except
# BENCH_RUNS which means something different in each and is therefore not passed on.
# Takes about 5-10 minutes on 2 cores, most of it setting up 1000 signed images and running
# sigstore-python. Installs nothing: each script checks its tools and says what to install.
# Run it niced on a shared machine (nice -n 10 benches/run-all.sh); the ratios are measured in
# the same run, so both sides share the noise.
set -u
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"
size=${1:-256M}
images=${BENCH_IMAGES:-1000}
sample=${BENCH_SAMPLE:-20}
signet=${SIGNET:-$repo/target/release/signet}
unset BENCH_RUNS

[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"
newest=$(find "$repo/crates" "$repo/Cargo.lock" -newer "$signet" -name '*.rs' -o -newer "$signet" -name Cargo.lock 2>/dev/null | head -1)
[ -n "$newest" ] && echo "warning: $signet is older than $newest; rebuild with cargo build --release --bin signet" >&2

logs=${BENCH_LOGDIR:-$(mktemp -d /var/tmp/signet-bench-logs.XXXXXX)}
mkdir -p "$logs"
: >"$logs/table"
started=$(date -u)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

run() { # NAME SCRIPT ARGS...: runs a bench, its report to $logs/NAME.txt; 0 if it succeeded
    local name=$1 t0
    shift
    echo "# $(date -u +%H:%M:%S) $name: $*" >&2
    t0=$(now)
    if "$@" >"$logs/$name.txt" 2>"$logs/$name.err"; then
        echo "#   done in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s" >&2
        return 0
    fi
    echo "#   FAILED; see $logs/$name.err:" >&2
    tail -3 "$logs/$name.err" | sed 's/^/#     /' >&2
    return 1
}

# 1. sign-blob / verify-blob: rows parsed from its Markdown table.
if run sign-blob "$repo/benches/sign-blob.sh" "$size"; then
    awk -F'|' -v size="$size" '
        function trim(s) { gsub(/^ +| +$/, "", s); return s }
        trim($2) == "openssl dgst -sha256" { base = trim($6) + 0 }
        trim($2) == "signet sign-blob" { s_mibs = trim($6) + 0; s_ratio = trim($8) + 0; s_rss = trim($9) + 0 }
        trim($2) == "signet verify-blob" { v_mibs = trim($6) + 0; v_ratio = trim($8) + 0; v_rss = trim($9) + 0 }
        # "sign-blob   throughput: 711 MiB/s including ... (ratio 0.75 ...), 1320 MiB/s excluding it (... ratio 1.39)"
        /^sign-blob +throughput:/ { x = $0; sub(/.*, /, "", x); split(x, w, " "); sx_mibs = w[1] + 0; r = $0; sub(/.*ratio /, "", r); sx_ratio = r + 0 }
        END {
            printf "TABLE|sign-blob %s (MiB/s, whole process)|%.0f MiB/s|%.0f MiB/s (openssl dgst -sha256)|%.2f|>= 0.9|%s\n", size, s_mibs, base, s_ratio, (s_ratio >= 0.9 ? "yes" : "NO")
            printf "TABLE|sign-blob %s, excluding the 0.17 s key decryption|%.0f MiB/s|%.0f MiB/s (openssl dgst -sha256)|%.2f|(>= 0.9)|%s\n", size, sx_mibs, base, sx_ratio, (sx_ratio >= 0.9 ? "yes" : "NO")
            printf "TABLE|verify-blob %s (MiB/s, whole process)|%.0f MiB/s|%.0f MiB/s (openssl dgst -sha256)|%.2f|>= 0.9|%s\n", size, v_mibs, base, v_ratio, (v_ratio >= 0.9 ? "yes" : "NO")
            printf "TABLE|sign-blob peak RSS|%.1f MiB|-|-|<= 32 MiB|%s\n", s_rss, (s_rss <= 32 ? "yes" : "NO")
            printf "TABLE|verify-blob peak RSS|%.1f MiB|-|-|<= 32 MiB|%s\n", v_rss, (v_rss <= 32 ? "yes" : "NO")
        }' "$logs/sign-blob.txt" >>"$logs/table"
else
    echo "TABLE|sign-blob / verify-blob $size|failed|-|-|-|-" >>"$logs/table"
fi

for bench in "verify-batch verify-batch.sh $images" "bundles bundles-compare.sh $sample" "verify-one verify-one.sh" "vsa-gate vsa-gate.sh"; do
    # shellcheck disable=SC2086 # split on purpose: name, script, arguments
    set -- $bench
    name=$1 script=$2
    shift 2
    if run "$name" "$repo/benches/$script" "$@" && grep '^TABLE|' "$logs/$name.txt" >>"$logs/table"; then
        :
    else
        echo "TABLE|$name|failed|-|-|-|-" >>"$logs/table"
    fi
done

echo
echo "signet benchmarks (issue 6): started $started, load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(machine_line); $("$signet" --version), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
echo
echo "| figure | signet | baseline | ratio | target | met? |"
echo "|---|---:|---:|---:|---|---|"
sed 's/^TABLE|//; s/|/ | /g; s/^/| /; s/$/ |/' "$logs/table"
echo
echo "ratios: sign/verify-blob = signet MiB/s / openssl MiB/s; batch = signet images/s / curl images/s;"
echo "bundles = sigstore-python time for 139 (extrapolated from the sample) / signet time; one image = signet time / curl time."
echo "full reports (commands, per-round numbers, load): $logs"
