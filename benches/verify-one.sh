#!/usr/bin/env bash
# One image, one process (issue 6, figure 4): `signet verify --key` of one signed image in a
# local docker-registry, against one curl process performing the same HTTP requests in the same
# order over one keep-alive connection. The request sequence is taken from the registry's
# access log of a signet run, so the baseline does exactly signet's fetches and nothing else.
#
# Usage:   benches/verify-one.sh
#
# Environment:
#   BENCH_ROUNDS=7     hyperfine invocations; each measures both commands (order alternating;
#                      many short rounds interleave the two better than a few long ones)
#   BENCH_RUNS=15      runs of each command per hyperfine invocation (after 5 warm-up runs)
#   SIGNET=PATH        signet binary (default: <repo>/target/release/signet)
#   BENCH_TMPDIR=DIR   where the registry storage goes (default /var/tmp)
#
# Needs (checked, never installed): hyperfine (Debian/Ubuntu: apt-get install -y hyperfine),
# /usr/bin/docker-registry, curl, python3. Last line, for benches/run-all.sh:
#   TABLE|figure|signet|baseline|ratio|target|met
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"

rounds=${BENCH_ROUNDS:-7}
runs=${BENCH_RUNS:-15}
signet=${SIGNET:-$repo/target/release/signet}

require hyperfine "Debian/Ubuntu: apt-get install -y hyperfine"
require curl "Debian/Ubuntu: apt-get install -y curl"
require python3 "Debian/Ubuntu: apt-get install -y python3"
require_docker_registry
[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"

work=
cleanup() {
    for pid in "${REGISTRY_PID_reg:-}" "${REGISTRY_PID_logged:-}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/signet-verify-one.XXXXXX")

# --- setup: one signed image; a second registry on the same storage logs every request ------
start_registry reg "$work/storage" false
host=$REGISTRY_HOST
python3 "$repo/benches/lib/regbench.py" populate "$host" 1 1 "$work/images.txt"
image=$(cat "$work/images.txt")
export COSIGN_PASSWORD=signet-bench
"$signet" generate-key-pair --output-key-prefix "$work/bench" >/dev/null 2>&1 || die "generate-key-pair failed"
"$signet" sign --key "$work/bench.key" --tlog-upload=false "$image" >/dev/null 2>&1 || die "signet sign failed"
verify=("$signet" verify --key "$work/bench.pub" --insecure-ignore-tlog=true "$image")
"${verify[@]}" >/dev/null 2>&1 || die "signet verify --key failed on the signed image"

start_registry logged "$work/storage" true
logged_host=$REGISTRY_HOST
# start_registry's own readiness probe (GET /v2/) is in the log already: skip what is there.
log_offset=$(stat -c %s "$work/logged.log")
"$signet" verify --key "$work/bench.pub" --insecure-ignore-tlog=true "${image/#$host/$logged_host}" >/dev/null 2>&1 \
    || die "signet verify --key failed against the logging registry"
sleep 0.2
# Access log lines: ... "METHOD /path HTTP/1.1" STATUS SIZE "referer" "user-agent"
tail -c +$((log_offset + 1)) "$work/logged.log" | grep -ao '"[A-Z]* /v2/[^ ]* HTTP/1.1" [0-9]*' | tr -d '"' | awk '{ print $1, $2, $4 }' >"$work/requests"
[ -s "$work/requests" ] || { cat "$work/logged.log" >&2; die "no requests in the registry's access log"; }
kill "$REGISTRY_PID_logged" || true
wait "$REGISTRY_PID_logged" 2>/dev/null || true
REGISTRY_PID_logged=

# The baseline: one curl process, the same requests in order, one connection (--next keeps the
# connection pool), bodies discarded. Accept as signet sends it for manifests.
accept="Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
curl_cmd=(curl -s -o /dev/null)
first=true
while read -r method path _status; do
    $first || curl_cmd+=(--next -s -o /dev/null)
    first=false
    [ "$method" = HEAD ] && curl_cmd+=(-I)
    case "$path" in */manifests/*) curl_cmd+=(-H "$accept") ;; esac
    curl_cmd+=(-w '%{http_code}\n' "http://$host$path")
done <"$work/requests"
"${curl_cmd[@]}" >"$work/codes" || die "the curl baseline failed"
awk '{ print $3 }' "$work/requests" | diff - "$work/codes" >/dev/null \
    || { paste "$work/requests" "$work/codes" >&2; die "curl's status codes differ from those signet got"; }
nreq=$(wc -l <"$work/requests")

quote() { printf '%q ' "$@"; }
signet_cmd=$(quote "${verify[@]}")
baseline_cmd=$(quote "${curl_cmd[@]}")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u)
: >"$work/rounds"
for r in $(seq 1 "$rounds"); do
    echo "# round $r of $rounds (load $(load1))" >&2
    if [ $((r % 2)) -eq 1 ]; then order=("$signet_cmd" "$baseline_cmd"); else order=("$baseline_cmd" "$signet_cmd"); fi
    hyperfine -N --style none --warmup 5 --runs "$runs" --export-json "$work/hf.json" \
        -n first "${order[0]}" -n second "${order[1]}" >/dev/null 2>"$work/hf.err" \
        || { cat "$work/hf.err" >&2; die "hyperfine failed"; }
    python3 - "$work/hf.json" "$r" >>"$work/rounds" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
first, second = (r["median"] for r in results)
signet, curl = (first, second) if int(sys.argv[2]) % 2 == 1 else (second, first)
print(f"{signet:.6f} {curl:.6f} {signet / curl:.4f}")
EOF
done
# Start-up alone, for the interpretation: each program printing its version.
hyperfine -N --style none --warmup 5 --runs "$runs" --export-json "$work/hf.json" \
    -n signet "$(quote "$signet" --version)" -n curl "curl --version" >/dev/null 2>"$work/hf.err" \
    || { cat "$work/hf.err" >&2; die "hyperfine failed"; }
startup=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"]; print(" ".join("%.2f" % (x["median"] * 1000) for x in r))' "$work/hf.json")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

awk '{ print $1 }' "$work/rounds" >"$work/c"; s=$(median "$work/c")
awk '{ print $2 }' "$work/rounds" >"$work/c"; b=$(median "$work/c")
awk '{ print $3 }' "$work/rounds" >"$work/c"; ratio=$(median "$work/c")

echo
echo "one image, one process: signet verify --key vs curl doing the same $nreq request(s)"
echo "- date: $started; load average before $load_before, after $load_after"
echo "- machine: $(machine_line)"
echo "- signet: $("$signet" --version) ($signet, built $(date -u -r "$signet" '+%Y-%m-%d %H:%M UTC')), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
echo "- $(hyperfine --version), -N (no shell), $rounds rounds x $runs runs each (+5 warm-up), order alternating"
echo "- requests signet made (from the registry's access log), replayed by curl:"
sed 's/^/    /' "$work/requests"
echo "- signet command:   $signet_cmd"
echo "- baseline command: $baseline_cmd"
echo "- per round (median ms): signet, curl, ratio"
awk '{ printf "    %.2f  %.2f  %.2f\n", $1 * 1000, $2 * 1000, $3 }' "$work/rounds"
echo "$startup" | awk '{ printf "- start-up alone (--version, median of one hyperfine run): signet %s ms, curl %s ms\n", $1, $2 }'
awk -v s="$s" -v b="$b" -v r="$ratio" 'BEGIN { printf "- medians: signet %.2f ms, curl %.2f ms, ratio (median of per-round ratios) %.2f (target <= 1.5)\n", s * 1000, b * 1000, r }'
awk -v s="$s" -v b="$b" -v r="$ratio" -v n="$nreq" 'BEGIN {
    printf "TABLE|one image, one verify --key process (ms; %d requests)|%.1f ms|%.1f ms (curl)|%.2f|<= 1.5|%s\n", n, s * 1000, b * 1000, r, (r <= 1.5 ? "yes" : "NO")
}'
