#!/usr/bin/env bash
# Batch verification (issue 6, figure 1): COUNT signed images in a local docker-registry,
# `signet verify --policy --stats` over all of them in one process, against curl fetching the
# same objects (each signature manifest by its sha256-<hex>.sig tag, then each signature layer
# blob) with the same concurrency over keep-alive connections.
#
# Usage:   benches/verify-batch.sh [COUNT]        (default 1000 images)
#
# Environment:
#   BENCH_RUNS=5          timed rounds; each round runs signet, then the baseline (interleaved)
#   BENCH_CONCURRENCY=16  the baseline's parallel transfers; keep it equal to signet's
#                         CONCURRENT_IMAGES (crates/signet-verify/src/policy/evaluate.rs)
#   SIGNET=PATH           signet binary (default: <repo>/target/release/signet)
#   BENCH_TMPDIR=DIR      where the registry storage goes (default /var/tmp)
#
# Needs (checked, never installed): /usr/bin/docker-registry, curl >= 7.66 (--parallel),
# python3, GNU time. Setup (push COUNT images, sign them in one `signet sign` process) is not
# timed. The last line is machine-readable for benches/run-all.sh:
#   TABLE|figure|signet|baseline|ratio|target|met
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"

count=${1:-1000}
runs=${BENCH_RUNS:-5}
conc=${BENCH_CONCURRENCY:-16}
signet=${SIGNET:-$repo/target/release/signet}
case "$count" in '' | *[!0-9]*) die "COUNT must be a number of images, not '$count'" ;; esac

require_docker_registry
require curl "Debian/Ubuntu: apt-get install -y curl"
require python3 "Debian/Ubuntu: apt-get install -y python3"
/usr/bin/time --version 2>&1 | grep -q GNU || die "GNU time is needed at /usr/bin/time; install it (apt-get install -y time)"
curl --help all 2>/dev/null | grep -q -- '--parallel-max' || die "curl is too old for --parallel (7.66 or later is needed)"
[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"
grep -q "CONCURRENT_IMAGES: usize = $conc;" "$repo/crates/signet-verify/src/policy/evaluate.rs" \
    || echo "warning: BENCH_CONCURRENCY=$conc differs from signet's CONCURRENT_IMAGES; the comparison is not like for like" >&2

work=
cleanup() {
    if [ -n "${REGISTRY_PID_reg:-}" ]; then kill "$REGISTRY_PID_reg" 2>/dev/null || true; wait "$REGISTRY_PID_reg" 2>/dev/null || true; fi
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/signet-verify-batch.XXXXXX")

# --- setup (untimed) --------------------------------------------------------------------------
start_registry reg "$work/storage" false
host=$REGISTRY_HOST
echo "# registry on $host; pushing $count images" >&2
t0=$(now)
python3 "$repo/benches/lib/regbench.py" populate "$host" "$count" 10 "$work/images.txt"
echo "# pushed in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s; signing them in one process" >&2
export COSIGN_PASSWORD=signet-bench
"$signet" generate-key-pair --output-key-prefix "$work/bench" >/dev/null 2>&1 || die "generate-key-pair failed"
t0=$(now)
# shellcheck disable=SC2046 # one argument per image, on purpose
"$signet" sign --key "$work/bench.key" --tlog-upload=false $(cat "$work/images.txt") >/dev/null 2>"$work/sign.err" \
    || { tail -5 "$work/sign.err" >&2; die "signet sign failed"; }
echo "# signed in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s" >&2
cat >"$work/policy.yaml" <<EOF
apiVersion: signet.dev/v1
kind: TrustPolicy
noMatch: deny
authorities:
  bench:
    key: { path: bench.pub }
    transparencyLog: ignore
policies:
  - name: bench-images
    images: ["**"]
    signatures:
      authorities: [bench]
EOF
python3 "$repo/benches/lib/regbench.py" urls "$host" "$work/images.txt" "$work/manifests.cfg" "$work/blobs.cfg" >&2
# The same images by tag (repo:img-N), for the request count from a tag.
awk -F'[@/]' '{ n = NR - 1; print $1 "/" $2 "/" $3 ":img-" n }' "$work/images.txt" >"$work/tags.txt"

accept="Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

reg_cpu() { awk '{ print $14 + $15 }' "/proc/$REGISTRY_PID_reg/stat"; }
ticks=$(getconf CLK_TCK)

run_signet() { # FILE OF IMAGES -> appends "wall cpu requests registry_cpu" to $work/signet.res
    local c0 t0 t1 c1
    c0=$(reg_cpu)
    t0=$(now)
    # shellcheck disable=SC2046
    if ! /usr/bin/time -f '%U %S' -o "$work/time.out" "$signet" verify --policy "$work/policy.yaml" --stats \
        $(cat "$1") >"$work/report.json" 2>"$work/verify.err"; then
        tail -5 "$work/verify.err" >&2
        die "signet verify --policy did not allow every image"
    fi
    t1=$(now)
    c1=$(reg_cpu)
    [ "$(grep -c ': allowed$' "$work/verify.err")" -eq "$count" ] || die "signet did not report $count allowed images"
    requests=$(sed -n 's/^stats: \([0-9]*\) registry requests.*/\1/p' "$work/verify.err")
    [ -n "$requests" ] || die "signet verify --stats printed no request count"
    awk -v a="$t0" -v b="$t1" -v r="$requests" -v c0="$c0" -v c1="$c1" -v hz="$ticks" \
        '{ printf "%.6f %.2f %d %.2f\n", b - a, $1 + $2, r, (c1 - c0) / hz }' "$work/time.out"
}

run_baseline() { # -> "wall cpu requests registry_cpu"
    local c0 t0 t1 c1
    c0=$(reg_cpu)
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$work/time1.out" curl -sS --no-progress-meter --fail --parallel --parallel-max "$conc" \
        -H "$accept" --config "$work/manifests.cfg" -w '%{http_code}\n' >"$work/codes" 2>"$work/curl.err" \
        || { cat "$work/curl.err" >&2; die "curl failed on a signature manifest"; }
    /usr/bin/time -f '%U %S' -o "$work/time2.out" curl -sS --no-progress-meter --fail --parallel --parallel-max "$conc" \
        --config "$work/blobs.cfg" -w '%{http_code}\n' >>"$work/codes" 2>"$work/curl.err" \
        || { cat "$work/curl.err" >&2; die "curl failed on a signature blob"; }
    t1=$(now)
    c1=$(reg_cpu)
    [ "$(grep -c '^200$' "$work/codes")" -eq $((2 * count)) ] || die "the baseline did not get $((2 * count)) answers 200"
    cat "$work/time1.out" "$work/time2.out" | awk -v a="$t0" -v b="$t1" -v r=$((2 * count)) -v c0="$c0" -v c1="$c1" -v hz="$ticks" \
        '{ cpu += $1 + $2 } END { printf "%.6f %.2f %d %.2f\n", b - a, cpu, r, (c1 - c0) / hz }'
}

# Warm-up (untimed): page in the binaries, the registry's storage and its caches.
run_signet "$work/images.txt" >/dev/null
run_baseline >/dev/null
# Requests from tags (one run, reported, not compared).
tag_line=$(run_signet "$work/tags.txt")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u)
: >"$work/signet.res"
: >"$work/baseline.res"
for i in $(seq 1 "$runs"); do
    echo "# round $i of $runs (load $(load1))" >&2
    run_signet "$work/images.txt" >>"$work/signet.res"
    run_baseline >>"$work/baseline.res"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ----------------------------------------------------------------------------------
col() { awk -v c="$2" '{ print $c }' "$1" >"$work/col"; median "$work/col"; }
s_wall=$(col "$work/signet.res" 1)
b_wall=$(col "$work/baseline.res" 1)
s_req=$(col "$work/signet.res" 3)
# ratio per round (same round, same conditions), then the median of the ratios
paste -d' ' "$work/signet.res" "$work/baseline.res" | awk '{ print $5 / $1 }' >"$work/ratios"
ratio=$(median "$work/ratios")
echo
echo "batch verify: $count signed images, signet verify --policy vs curl (same objects, $conc parallel, keep-alive)"
echo "- date: $started; load average before $load_before, after $load_after"
echo "- machine: $(machine_line)"
echo "- signet: $("$signet" --version) ($signet, built $(date -u -r "$signet" '+%Y-%m-%d %H:%M UTC')), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
echo "- baseline: $(curl --version | head -1 | cut -d' ' -f1-2) --parallel --parallel-max $conc: all signature manifests, then all signature blobs (two processes)"
echo "- per round (wall s, CPU s, requests, registry CPU s):"
paste -d' ' "$work/signet.res" "$work/baseline.res" | awk '{ printf "    signet %s s (CPU %s s, %d requests, registry CPU %s s) | curl %s s (CPU %s s, %d requests, registry CPU %s s) | ratio %.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $5 / $1 }'
awk -v c="$count" -v s="$s_wall" -v b="$b_wall" -v r="$s_req" -v ratio="$ratio" 'BEGIN {
    printf "- signet:   median %.3f s = %.0f images/s, %.2f registry requests per image (from digest references; the minimum is 2)\n", s, c / s, r / c
    printf "- baseline: median %.3f s = %.0f images/s, 2.00 requests per image\n", b, c / b
    printf "- ratio signet/baseline throughput: median of per-round ratios %.2f (target >= 0.8)\n", ratio
}'
echo "$tag_line" | awk -v c="$count" '{ printf "- from tags (one run): %.2f requests per image (the minimum is 3), %.3f s\n", $3 / c, $1 }'
awk -v c="$count" -v s="$s_wall" -v b="$b_wall" -v r="$s_req" -v ratio="$ratio" 'BEGIN {
    printf "TABLE|batch verify, %d images (images/s; requests/image)|%.0f/s; %.2f req|%.0f/s (curl, 2 req)|%.2f|>= 0.8|%s\n",
        c, c / s, r / c, c / b, ratio, (ratio >= 0.8 ? "yes" : "NO")
}'
