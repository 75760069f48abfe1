#!/usr/bin/env bash
# Benchmark `signet copy` against `skopeo copy` (the baseline, measured in the same run) on one
# image with one large layer (default 256 MiB), between an OCI layout and a docker-registry
# and between two docker-registries.
#
# Usage:   benches/copy.sh [SIZE]          SIZE in bytes or with K, M, G (default 256M)
#
# Environment:
#   BENCH_RUNS=3        timed runs of each command, interleaved round by round
#   SIGNET=PATH         signet binary (default: <repo>/target/release/signet)
#   SKOPEO=PATH         skopeo (default: $SIGNET_TEST_SKOPEO, else
#                       ~/.cache/skopeo-sigstore/skopeo from ../shared/tools/install-skopeo-sigstore)
#   BENCH_TMPDIR=DIR    where the temporary directory goes (default: $TMPDIR or /tmp)
#
# skopeo runs with --preserve-digests, so that it copies bytes as signet does (it would
# otherwise compress the uncompressed layer on its way to a registry).
# Every copy has a layer of its own and goes into a fresh repository or directory, so neither
# tool finds the layer anywhere it could skip or mount it from. After the runs the script
# checks that every registry copy holds the manifest it was copied from. Wall time is `date +%s.%N` around each
# command; peak RSS comes from GNU time. The script never installs anything.
set -eu
set -o pipefail
export LC_ALL=C

runs=${BENCH_RUNS:-3}
size_arg=${1:-256M}
die() { echo "copy.sh: $*" >&2; exit 1; }
case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac
case $size_arg in
    *[Kk]) mult=1024 ;;
    *[Mm]) mult=1048576 ;;
    *[Gg]) mult=1073741824 ;;
    *) mult=1 ;;
esac
size_num=${size_arg%[KkMmGg]}
case $size_num in '' | *[!0-9]*) die "SIZE must be bytes or a number with K, M or G" ;; esac
size=$((size_num * mult))

repo=$(cd "$(dirname "$0")/.." && pwd)
signet=${SIGNET:-$repo/target/release/signet}
skopeo=${SKOPEO:-${SIGNET_TEST_SKOPEO:-$HOME/.cache/skopeo-sigstore/skopeo}}
[ -x "$signet" ] || die "no signet binary at $signet (cargo build --release --bin signet, or set SIGNET)"
[ -x "$skopeo" ] || die "no skopeo at $skopeo (sh ../shared/tools/install-skopeo-sigstore)"
[ -x /usr/bin/docker-registry ] || die "docker-registry is not installed (see .ci/run)"
/usr/bin/time --version 2>&1 | grep -q GNU || die "GNU time is needed at /usr/bin/time"
command -v python3 >/dev/null || die "python3 is not on PATH"

work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/signet-copy-bench.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# --- source layouts: one image each, one layer of SIZE deterministic pseudo-random bytes ---
# Every measured copy gets a layer of its own (another seed), so that neither tool can skip it
# because it remembers where an equal blob already is (skopeo's blob-info cache would mount
# it from another repository of the destination registry).
make_layout() { # DIR SEED: writes the layout, prints its manifest digest
    python3 - "$1" "$size" "$2" <<'PY'
import hashlib, json, os, sys
root, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs)
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)
layer, written, counter = hashlib.sha256(), 0, 0
tmp = os.path.join(blobs, "partial")
with open(tmp, "wb") as f:
    while written < size:
        block = (hashlib.sha512(seed + counter.to_bytes(8, "big")).digest() * 1024)[: size - written]
        layer.update(block); f.write(block); written += len(block); counter += 1
layer_digest = "sha256:" + layer.hexdigest()
os.rename(tmp, os.path.join(blobs, layer.hexdigest()))
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
config_digest, config_size = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": size}]}).encode()
digest, length = put(manifest)
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest, "size": length, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
with open(os.path.join(root, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
print(digest)
PY
}

# --- two registries on free loopback ports ------------------------------------------------
start_registry() {
    local name=$1 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$work/$name"
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$work/$name" "$port" > "$work/$name.yml"
    /usr/bin/docker-registry serve "$work/$name.yml" > "$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do
        curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { echo "127.0.0.1:$port"; return; }
        sleep 0.2
    done
    die "docker-registry $name did not start: $(cat "$work/$name.log")"
}
one=$(start_registry one)
two=$(start_registry two)
for run in $(seq "$runs"); do
    for tool in signet skopeo; do
        echo "$(make_layout "$work/L-$run-$tool" "L-$run-$tool") $one/$tool$run" >> "$work/expected"
        echo "$(make_layout "$work/R-$run-$tool" "R-$run-$tool") $two/$tool$run" >> "$work/expected"
        "$signet" copy "oci:$work/R-$run-$tool:v1" "$one/seed-$run-$tool:v1" 2>/dev/null
    done
done

echo "# benches/copy.sh: $((size / 1048576)) MiB layer, $runs runs, $(date -u +%FT%TZ), load $(cut -d' ' -f1 /proc/loadavg)"
results="$work/results"
: > "$results"
measure() { # label command...
    local label=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err" || die "$label failed: $(cat "$work/err")"
    t1=$(date +%s.%N)
    echo "$label $(echo "$t1 - $t0" | bc) $(cat "$work/rss")" >> "$results"
}
for run in $(seq "$runs"); do
    measure "signet layout->registry" "$signet" copy "oci:$work/L-$run-signet:v1" "$one/signet$run:v1"
    measure "skopeo layout->registry" "$skopeo" --insecure-policy copy --preserve-digests --dest-tls-verify=false "oci:$work/L-$run-skopeo:v1" "docker://$one/skopeo$run:v1"
    measure "signet registry->layout" "$signet" copy "$one/seed-$run-signet:v1" "oci:$work/out-$run-signet:v1"
    measure "skopeo registry->layout" "$skopeo" --insecure-policy copy --preserve-digests --src-tls-verify=false "docker://$one/seed-$run-skopeo:v1" "oci:$work/out-$run-skopeo:v1"
    measure "signet registry->registry" "$signet" copy "$one/seed-$run-signet:v1" "$two/signet$run:v1"
    measure "skopeo registry->registry" "$skopeo" --insecure-policy copy --preserve-digests --src-tls-verify=false --dest-tls-verify=false "docker://$one/seed-$run-skopeo:v1" "docker://$two/skopeo$run:v1"
done

# --- each registry copy is the image it was copied from ------------------------------------
while read -r digest target; do
    got=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "http://${target%%/*}/v2/${target#*/}/manifests/v1" | sha256sum | cut -d' ' -f1)
    [ "sha256:$got" = "$digest" ] || die "$target:v1 is not $digest"
done < "$work/expected"

echo
echo "| copy | tool | median wall s | MiB/s | ratio vs skopeo (time) | peak RSS MiB |"
echo "|---|---|---:|---:|---:|---:|"
for what in "layout->registry" "registry->layout" "registry->registry"; do
    for tool in skopeo signet; do
        line=$(grep "^$tool $what " "$results" | awk '{print $3, $4}' | sort -n | awk '{a[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); print a[m], r[m]}')
        echo "$tool $what $line"
    done
done | awk -v size="$size" '
    { t[$1 " " $2] = $3; rss[$1 " " $2] = $4; order[NR] = $1 " " $2 }
    END {
        for (i = 1; i <= NR; i++) {
            split(order[i], k, " ")
            base = t["skopeo " k[2]]
            printf "| %s | %s | %.2f | %.0f | %.2f | %.1f |\n", k[2], k[1], t[order[i]], size / 1048576 / t[order[i]], t[order[i]] / base, rss[order[i]] / 1024
        }
    }'
