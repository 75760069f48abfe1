#!/usr/bin/env bash
# The admission server's four figures (issue 12), each against its baseline in the same run:
#
#   1. warm-cache decision at 200 requests/s (a Pod with 3 signed images, pinned by digest as
#      the mutating webhook leaves them): p50/p99 of the server's own decision time (its log's
#      elapsedMicros), and end to end over HTTPS (wrk, keep-alive) against a bare HTTPS echo
#      server with the same TLS and HTTP stack (crates/signet-admission/examples/https_echo.rs)
#      at the same rate. Targets: decision p99 <= 1 ms; end to end p99 <= 1.5x the echo's.
#   2. cold decision (images never seen) of a Pod with 3 images (one curl request) against
#      `signet verify --policy` of 3 other fresh images in one process. Target <= 1.1x.
#   3. single flight: 100 concurrent admissions (curl --parallel) of one uncached image, against
#      one admission of another: the registry requests each made (the server's
#      signet_admission_registry_requests_total). Target: equal.
#   4. 1,000 distinct images at 50 concurrent requests (curl --parallel-max 50, ?timeout=10s):
#      the slowest answer against the deadline, and the server's peak RSS (VmHWM).
#
# Usage:   benches/admission.sh
#
# Environment:
#   BENCH_RUNS=3          rounds of figures 1 and 2 (each round: server, then baseline)
#   BENCH_SECONDS=20      length of each figure-1 wrk run
#   BENCH_COLD=5          fresh pods per round of figure 2
#   BENCH_IMAGES=1000     images of figure 4
#   SIGNET=PATH           signet binary (default <repo>/target/release/signet)
#   ECHO=PATH             the echo server (default <repo>/target/release/examples/https_echo)
#   BENCH_TMPDIR=DIR      where the registry storage goes (default /var/tmp)
#
# Needs (checked, never installed): /usr/bin/docker-registry, openssl, curl >= 7.66, wrk,
# python3. The last lines are machine-readable for benches/run-all.sh:
#   TABLE|figure|signet|baseline|ratio|target|met
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"
helper="python3 $repo/benches/lib/admission.py"

runs=${BENCH_RUNS:-3}
seconds=${BENCH_SECONDS:-20}
cold=${BENCH_COLD:-5}
count=${BENCH_IMAGES:-1000}
signet=${SIGNET:-$repo/target/release/signet}
echo_server=${ECHO:-$repo/target/release/examples/https_echo}

require_docker_registry
require openssl "Debian/Ubuntu: apt-get install -y openssl"
require curl "Debian/Ubuntu: apt-get install -y curl"
require wrk "Debian/Ubuntu: apt-get install -y wrk"
require python3 "Debian/Ubuntu: apt-get install -y python3"
[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"
[ -x "$echo_server" ] || die "no echo server at $echo_server; build it with: cargo build --release -p signet-admission --example https_echo (or set ECHO)"

work=
server_pid=
echo_pid=
cleanup() {
    for pid in "$server_pid" "$echo_pid" "${REGISTRY_PID_reg:-}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/signet-admission-bench.XXXXXX")

# --- setup (untimed) ---------------------------------------------------------------------------
start_registry reg "$work/storage" false
host=$REGISTRY_HOST
need=$((3 + 2 * 3 * cold * runs + 3 + count))
echo "# registry on $host; pushing $need images" >&2
python3 "$repo/benches/lib/regbench.py" populate "$host" "$need" 10 "$work/images.txt" >&2
export COSIGN_PASSWORD=signet-bench
"$signet" generate-key-pair --output-key-prefix "$work/bench" >/dev/null 2>&1 || die "generate-key-pair failed"
# shellcheck disable=SC2046 # one argument per image, on purpose
"$signet" sign --key "$work/bench.key" --tlog-upload=false $(cat "$work/images.txt") >/dev/null 2>"$work/sign.err" \
    || { tail -5 "$work/sign.err" >&2; die "signet sign failed"; }
cat >"$work/policy.yaml" <<EOF
apiVersion: signet.dev/v1
kind: TrustPolicy
noMatch: deny
authorities:
  bench: { key: { path: bench.pub }, transparencyLog: ignore }
policies:
  - name: bench-images
    images: ["**"]
    signatures: { authorities: [bench] }
EOF
# Images by use: 3 warm, 2 x 3 x cold x runs cold, 3 single flight, count for figure 4.
split_images() { sed -n "$1,$2p" "$work/images.txt"; }
warm=$(split_images 1 3)
first_cold=4
first_flight=$((4 + 2 * 3 * cold * runs))
split_images "$((first_flight + 3))" "$need" >"$work/many.txt"

# TLS: a CA and a certificate for 127.0.0.1.
(
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 \
        -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls.key -out tls.csr -subj /CN=bench 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >tls.ext
    openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -set_serial 1 -days 2 -out tls.crt -extfile tls.ext 2>/dev/null
) || die "openssl could not make the certificates"

port=$(free_port)
"$signet" admission serve --policy "$work/policy.yaml" --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" \
    --listen "127.0.0.1:$port" 2>"$work/server.log" &
server_pid=$!
url=https://127.0.0.1:$port
until curl -fsS --cacert "$work/ca.crt" -o /dev/null "$url/healthz" 2>/dev/null; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the admission server exited"; }
    sleep 0.1
done
metric() { $helper metric "$url/metrics" "$work/ca.crt" "$1"; }
post() { # BODY_FILE -> "seconds http_code"
    curl -sS --cacert "$work/ca.crt" -o "$work/answer.json" -w '%{time_total} %{http_code}\n' \
        -H 'Content-Type: application/json' --data-binary "@$1" "$url/validate?timeout=30s"
}
allowed() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["response"]["allowed"] else 1)' "$work/answer.json"; }

# The echo answers what the server answers.
# shellcheck disable=SC2086
$helper review warm-0 "$work/warm.json" $warm
read -r _ code < <(post "$work/warm.json")
[ "$code" = 200 ] && allowed || die "the warm pod was not admitted: $(cat "$work/answer.json")"
cp "$work/answer.json" "$work/echo-body.json"
echo_port=$(free_port)
"$echo_server" "127.0.0.1:$echo_port" "$work/tls.crt" "$work/tls.key" "$work/echo-body.json" 2>"$work/echo.log" &
echo_pid=$!
until curl -fsS --cacert "$work/ca.crt" -o /dev/null -X POST -d '{}' "https://127.0.0.1:$echo_port/" 2>/dev/null; do
    kill -0 "$echo_pid" 2>/dev/null || { cat "$work/echo.log" >&2; die "the echo server exited"; }
    sleep 0.1
done

started=$(date -u)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- figure 1: warm cache at 200 requests/s ----------------------------------------------------
# 4 connections, each waiting 20 ms after every answer: at most 200 requests/s.
wrk_script() { # UID -> a wrk script POSTing the warm pod with that uid
    $helper review "$1" "$work/$1.json" $warm
    cat >"$work/$1.lua" <<EOF
local f = assert(io.open("$work/$1.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
function delay() return 20 end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %.3f %d %d %d\n", summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99), errors))
end
EOF
}
: >"$work/warm.res"
for i in $(seq 1 "$runs"); do
    echo "# figure 1, round $i of $runs (load $(load1))" >&2
    wrk_script "warm-$i"
    s=$(wrk -t2 -c4 -d"${seconds}s" -s "$work/warm-$i.lua" "$url/validate?timeout=10s" | sed -n 's/^RESULT //p')
    e=$(wrk -t2 -c4 -d"${seconds}s" -s "$work/warm-$i.lua" "https://127.0.0.1:$echo_port/" | sed -n 's/^RESULT //p')
    $helper decision-times "$work/server.log" "warm-$i" "$work/decision-$i.ms" >/dev/null
    read -r d50 d99 < <($helper percentiles "$work/decision-$i.ms" 50 99 | paste -sd' ')
    echo "$s $e $d50 $d99" >>"$work/warm.res"
done
# columns: requests rate p50us p99us errors | echo: requests rate p50us p99us errors | decision p50ms p99ms
col() { awk -v c="$2" '{ print $c }' "$1" >"$work/col"; median "$work/col"; }
w_rate=$(col "$work/warm.res" 2); w_p50=$(col "$work/warm.res" 3); w_p99=$(col "$work/warm.res" 4)
e_rate=$(col "$work/warm.res" 7); e_p50=$(col "$work/warm.res" 8); e_p99=$(col "$work/warm.res" 9)
d_p50=$(col "$work/warm.res" 11); d_p99=$(col "$work/warm.res" 12)
awk '{ print $4 / $9 }' "$work/warm.res" >"$work/ratios"
warm_ratio=$(median "$work/ratios")
errors=$(awk '{ s += $5 + $10 } END { print s }' "$work/warm.res")

# --- figure 2: cold decisions, a pod with 3 images vs verify --policy of 3 images ---------------
: >"$work/cold.res"
next=$first_cold
for i in $(seq 1 "$runs"); do
    echo "# figure 2, round $i of $runs (load $(load1))" >&2
    for j in $(seq 1 "$cold"); do
        a=$(split_images "$next" $((next + 2))); next=$((next + 3))
        b=$(split_images "$next" $((next + 2))); next=$((next + 3))
        # shellcheck disable=SC2086
        $helper review "cold-$i-$j" "$work/cold.json" $b
        # Alternate which goes first, so that neither always meets the registry warmer.
        if [ $((j % 2)) = 0 ]; then
            read -r s code < <(post "$work/cold.json"); allowed || die "a cold pod was not admitted"
        fi
        t0=$(now)
        # shellcheck disable=SC2086
        "$signet" verify --policy "$work/policy.yaml" $a >/dev/null 2>&1 || die "verify --policy refused a signed image"
        c=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.6f", b - a }')
        if [ $((j % 2)) = 1 ]; then
            read -r s code < <(post "$work/cold.json"); allowed || die "a cold pod was not admitted"
        fi
        echo "$s $c" >>"$work/cold.res"
    done
done
$helper decision-times "$work/server.log" "cold-" "$work/cold-decision.ms" >/dev/null
cold_decision=$(median "$work/cold-decision.ms")
awk '{ print $1 }' "$work/cold.res" >"$work/col"; cold_server=$(median "$work/col")
awk '{ print $2 }' "$work/cold.res" >"$work/col"; cold_cli=$(median "$work/col")
awk '{ print $1 / $2 }' "$work/cold.res" >"$work/ratios"
cold_ratio=$(median "$work/ratios")

# --- figure 3: single flight ----------------------------------------------------------------
echo "# figure 3 (load $(load1))" >&2
solo=$(split_images "$first_flight" "$first_flight")
crowd=$(split_images $((first_flight + 1)) $((first_flight + 1)))
$helper review solo "$work/solo.json" "$solo"
before=$(metric signet_admission_registry_requests_total)
read -r _ _ < <(post "$work/solo.json"); allowed || die "the single-flight baseline was not admitted"
one_set=$(( $(metric signet_admission_registry_requests_total) - before ))
flight() { # IMAGE NAME -> registry requests made by 100 concurrent admissions of IMAGE
    mkdir -p "$work/$2"
    for n in $(seq 0 99); do $helper review "$2-$n" "$work/$2/$n.json" "$1"; done
    $helper curl-config "$url/validate?timeout=30s" "$work/$2" "$work/$2.cfg" "$work/ca.crt" '%{http_code}'
    local b a
    b=$(metric signet_admission_registry_requests_total)
    curl -sS --parallel --parallel-max 100 --config "$work/$2.cfg" >"$work/$2.codes"
    a=$(metric signet_admission_registry_requests_total)
    [ "$(grep -c '^200$' "$work/$2.codes")" = 100 ] || die "not every concurrent admission answered 200"
    echo $((a - b))
}
crowd_requests=$(flight "$crowd" crowd)
# The same by tag: a tag is resolved for every request that arrives after the shared
# verification finished (tags are never cached), so this may be more than one set.
tag_line_no=$((first_flight + 2))
crowd_tag_ref="$(split_images "$tag_line_no" "$tag_line_no" | sed 's/@sha256:.*//'):img-$((tag_line_no - 1))"
tag_requests=$(flight "$crowd_tag_ref" crowdtag)
tag_line="- by tag ($crowd_tag_ref): 100 concurrent admissions made $tag_requests registry requests"

# --- figure 4: 1000 distinct images at 50 concurrent requests -----------------------------------
echo "# figure 4: $count images (load $(load1))" >&2
$helper reviews many "$work/many.txt" "$work/many" >/dev/null
$helper curl-config "$url/validate?timeout=10s" "$work/many" "$work/many.cfg" "$work/ca.crt" '%{time_total} %{http_code}'
rss_before=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
t0=$(now)
curl -sS --parallel --parallel-immediate --parallel-max 50 --config "$work/many.cfg" >"$work/many.res"
many_wall=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
[ "$(grep -c ' 200$' "$work/many.res")" = "$count" ] || die "not every one of the $count admissions answered 200"
awk '{ print $1 }' "$work/many.res" >"$work/many.times"
read -r many_p50 many_p99 many_max < <($helper percentiles "$work/many.times" 50 99 100 | paste -sd' ')
$helper decision-times "$work/server.log" "many-" "$work/many-decision.ms" >/dev/null
many_decision_max=$($helper percentiles "$work/many-decision.ms" 100)
denied=$(python3 - "$work/server.log" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("msg") == "admission" and str(e.get("uid", "")).startswith("many-") and not e.get("allowed"):
        n += 1
print(n)
EOF
)
rss_peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
rss_after=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ----------------------------------------------------------------------------------------
echo
echo "admission server: warm and cold decisions, single flight, 1000 images"
echo "- date: $started; load average before $load_before, after $load_after"
echo "- machine: $(machine_line)"
echo "- signet: $("$signet" --version | head -1) ($signet, built $(date -u -r "$signet" '+%Y-%m-%d %H:%M UTC')), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
echo "- registry: docker-registry on loopback; images: one-layer OCI images signed with a P-256 key (no log entry)"
echo "- figure 1 (per round: server requests rate p50us p99us errors | echo the same | decision p50ms p99ms):"
sed 's/^/    /' "$work/warm.res"
awk -v d50="$d_p50" -v d99="$d_p99" -v w50="$w_p50" -v w99="$w_p99" -v e50="$e_p50" -v e99="$e_p99" -v wr="$w_rate" -v er="$e_rate" -v r="$warm_ratio" -v err="$errors" 'BEGIN {
    printf "- warm decision (server log): p50 %.3f ms, p99 %.3f ms (target p99 <= 1 ms)\n", d50, d99
    printf "- end to end (wrk, HTTPS keep-alive): server %.0f req/s p50 %.2f ms p99 %.2f ms; echo %.0f req/s p50 %.2f ms p99 %.2f ms; ratio of p99s %.2f (target <= 1.5); errors %d\n", wr, w50 / 1000, w99 / 1000, er, e50 / 1000, e99 / 1000, r, err
}'
echo "- figure 2 (per pod: server s | verify --policy s):"
sed 's/^/    /' "$work/cold.res" | paste -sd' ' | fold -w 100
awk -v s="$cold_server" -v c="$cold_cli" -v r="$cold_ratio" -v d="$cold_decision" 'BEGIN {
    printf "- cold, 3 images: admission request median %.3f s (server decision %.1f ms) vs verify --policy %.3f s; median ratio %.2f (target <= 1.1)\n", s, d, c, r
}'
echo "- figure 3: one admission alone made $one_set registry requests; 100 concurrent admissions of another uncached image made $crowd_requests"
[ -z "$tag_line" ] || echo "$tag_line"
awk -v c="$count" -v w="$many_wall" -v p50="$many_p50" -v p99="$many_p99" -v mx="$many_max" -v dm="$many_decision_max" -v den="$denied" -v rb="$rss_before" -v rp="$rss_peak" -v ra="$rss_after" 'BEGIN {
    printf "- figure 4: %d images, 50 concurrent: %.1f s, %.0f admissions/s; answer p50 %.3f s, p99 %.3f s, slowest %.3f s (deadline 10 s, answer by 9 s); slowest server decision %.0f ms; refused %d\n", c, w, c / w, p50, p99, mx, dm, den
    printf "- memory: RSS before %.1f MiB, after %.1f MiB, peak (VmHWM) %.1f MiB\n", rb / 1024, ra / 1024, rp / 1024
}'
awk -v d99="$d_p99" -v r="$warm_ratio" -v cr="$cold_ratio" -v one="$one_set" -v crowd="$crowd_requests" -v mx="$many_max" -v rp="$rss_peak" 'BEGIN {
    printf "TABLE|warm decision p99 (server)|%.3f ms|-|-|<= 1 ms|%s\n", d99, (d99 <= 1 ? "yes" : "NO")
    printf "TABLE|warm end-to-end p99 vs HTTPS echo, 200 req/s|x%.2f|1.00|%.2f|<= 1.5|%s\n", r, r, (r <= 1.5 ? "yes" : "NO")
    printf "TABLE|cold pod of 3 images vs verify --policy|x%.2f|1.00|%.2f|<= 1.1|%s\n", cr, cr, (cr <= 1.1 ? "yes" : "NO")
    printf "TABLE|single flight: registry requests, 100 concurrent vs 1|%d|%d|%.2f|equal|%s\n", crowd, one, crowd / one, (crowd == one ? "yes" : "NO")
    printf "TABLE|1000 images at 50 concurrent: slowest answer; peak RSS|%.2f s; %.0f MiB|deadline 10 s|-|< 10 s, bounded|%s\n", mx, rp / 1024, (mx < 10 ? "yes" : "NO")
}'
