#!/usr/bin/env bash
# sign-blob on one large file (default 1 GiB) with each key backend — a key file, a PKCS#11
# token (SoftHSM2) and AWS KMS (moto's server on loopback) — against `openssl dgst -sha256`
# on the same file in the same rounds. Shows that token and KMS keys stream: only the digest
# goes to the key, so time follows hashing and memory stays flat whatever the file's size.
#
# Usage:   benches/key-backends.sh [SIZE]       SIZE: bytes, or 1G (default), 256M, 64K
# Environment:
#   BENCH_RUNS=3   timed rounds (each round runs every command once, interleaved)
#   SIGNET=PATH    signet binary (default <repo>/target/release/signet)
#
# Needs softhsm2 and opensc (pkcs11-tool), python3 with moto[server] 5.2.1, openssl, GNU time
# (.ci/run installs the first two); installs nothing. Every signature is checked with openssl.
set -eu
set -o pipefail
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib/common.sh disable=SC1091
. "$repo/benches/lib/common.sh"

runs=${BENCH_RUNS:-3}
size_arg=${1:-1G}
case $size_arg in
    *[Kk]) mult=1024 ;;
    *[Mm]) mult=1048576 ;;
    *[Gg]) mult=1073741824 ;;
    *) mult=1 ;;
esac
size=$((${size_arg%[KkMmGg]} * mult))
signet=${SIGNET:-$repo/target/release/signet}
module=/usr/lib/softhsm/libsofthsm2.so

[ -x "$signet" ] && signet=$(cd "$(dirname "$signet")" && pwd)/$(basename "$signet")
[ -x "$signet" ] || die "no signet binary at $signet; cargo build --release --bin signet (or set SIGNET)"
/usr/bin/time --version 2>&1 | grep -q GNU || die "GNU time is needed at /usr/bin/time"
require openssl "apt-get install -y openssl"
require softhsm2-util "apt-get install -y softhsm2"
require pkcs11-tool "apt-get install -y opensc"
[ -f "$module" ] || die "$module is missing (apt-get install -y softhsm2)"
python3 -c 'import moto.server' 2>/dev/null || die "python3 cannot import moto (pip install 'moto[server]==5.2.1')"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/signet-keybench.XXXXXX")
moto_pid=
cleanup() {
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# The file: deterministic pseudo-random bytes, read once so every command hashes from cache.
{ openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null || true; } \
    | head -c "$size" >blob
cat blob >/dev/null

# Key file.
COSIGN_PASSWORD=bench "$signet" generate-key-pair --output-key-prefix file >/dev/null 2>&1

# PKCS#11 token with a P-256 key made by signet.
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 0815 --pin 4711 >/dev/null
token="pkcs11:token=bench;object=signer?module-path=$module&pin-value=4711"
"$signet" generate-key-pair --output-key-prefix token --kms "$token" >/dev/null 2>&1

# moto's KMS with authentication, and a P-256 key made by signet.
MOTO_KMS_SERVE_UNTIL_KILLED=1 python3 "$repo/tests/util/moto_kms.py" </dev/null >moto.out 2>moto.err &
moto_pid=$!
for _ in $(seq 120); do [ -s moto.out ] && break; sleep 0.5; done
read -r moto_json <moto.out || die "moto did not start: $(cat moto.err)"
field() { printf '%s' "$moto_json" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
export AWS_ENDPOINT_URL_KMS; AWS_ENDPOINT_URL_KMS=$(field endpoint)
export AWS_REGION; AWS_REGION=$(field region)
export AWS_ACCESS_KEY_ID; AWS_ACCESS_KEY_ID=$(field access_key_id)
export AWS_SECRET_ACCESS_KEY; AWS_SECRET_ACCESS_KEY=$(field secret_access_key)
kms=awskms:///alias/bench
"$signet" generate-key-pair --output-key-prefix kms --kms "$kms" >/dev/null 2>&1

measure() { # NAME COMMAND...: one timed run; appends wall seconds and peak KiB
    local name=$1; shift
    local start end
    start=$(now)
    /usr/bin/time -f '%M' -o "$name.rss" "$@" >/dev/null 2>"$name.err" || { cat "$name.err" >&2; die "$name failed"; }
    end=$(now)
    echo "$end - $start" | bc -l >>"$name.wall"
    cat "$name.rss" >>"$name.kib"
}

for _ in $(seq "$runs"); do
    measure openssl openssl dgst -sha256 blob
    measure file env COSIGN_PASSWORD=bench "$signet" sign-blob --tlog-upload=false --b64=false --key file.key --output-signature file.sig blob
    measure token "$signet" sign-blob --tlog-upload=false --b64=false --key "$token" --output-signature token.sig blob
    measure kms "$signet" sign-blob --tlog-upload=false --b64=false --key "$kms" --output-signature kms.sig blob
done
for backend in file token kms; do
    openssl dgst -sha256 -verify "$backend.pub" -signature "$backend.sig" blob | grep -q 'Verified OK' \
        || die "openssl does not verify the $backend signature"
done

base=$(median openssl.wall)
echo "Machine: $(machine_line); load before/after: see uptime; $runs rounds; file $size bytes"
echo
echo "| command | median s | MB/s | vs openssl dgst | peak RSS MiB |"
echo "|---|---|---|---|---|"
for name in openssl file token kms; do
    wall=$(median "$name.wall")
    kib=$(sort -g "$name.kib" | tail -1)
    printf '| %s | %.3f | %.0f | %.2f | %.1f |\n' "$name" "$wall" "$(echo "$size / $wall / 1000000" | bc -l)" \
        "$(echo "$base / $wall" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
done
uptime
