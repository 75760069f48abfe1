#!/usr/bin/env bash
# Sigstore bundles (issue 6, figure 3): all 139 CPython release bundles verified in one signet
# process (benches/bundles.sh), against PyPI sigstore 4.5.1 verifying bundles one by one
# (`python3 -m sigstore verify identity --offline`, one process per bundle, as a user would),
# timed on a fixed sample and extrapolated to 139; and the cost per bundle against the raw
# ECDSA verification cost of aws-lc-rs (the library signet uses) and of `openssl speed`.
#
# Usage:   benches/bundles-compare.sh [SAMPLE]     (default 20 bundles for sigstore-python)
#
# Environment:
#   BENCH_RUNS=3    rounds; each round runs signet's 5 in-process passes, then the sample
#
# Needs (checked, never installed): cargo (it runs `cargo test --release`, building the
# release test binaries the first time), python3 with sigstore 4.5.1
# (pip install sigstore==4.5.1), openssl. Last line, for benches/run-all.sh:
#   TABLE|figure|signet|baseline|ratio|target|met
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"
sample=${1:-20}
runs=${BENCH_RUNS:-3}
data=$(cd "$repo/../shared/testdata/realworld" 2>/dev/null && pwd) \
    || die "the test data ../shared/testdata/realworld is missing"
index=$data/cpython/index.tsv

require cargo "a Rust toolchain: https://rustup.rs"
require openssl "Debian/Ubuntu: apt-get install -y openssl"
require python3 "Debian/Ubuntu: apt-get install -y python3"
sigstore_version=$(python3 -c 'import importlib.metadata as m; print(m.version("sigstore"))' 2>/dev/null) \
    || die "PyPI sigstore is not installed for python3; install it (pip install sigstore==4.5.1) and run again"
[ "$sigstore_version" = 4.5.1 ] || echo "warning: sigstore $sigstore_version, not 4.5.1" >&2
case "$sample" in '' | *[!0-9]*) die "SAMPLE must be a number of bundles" ;; esac

work=
cleanup() { [ -n "$work" ] && rm -rf -- "$work"; return 0; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/signet-bundles.XXXXXX")

# A fixed sample: every (139 / SAMPLE)-th bundle of index.tsv, spread over all release lines.
total=$(($(wc -l <"$index") - 1))
awk -F'\t' -v n="$sample" -v t="$total" 'NR > 1 && ((NR - 2) % int(t / n)) == 0 && c < n { c++; print }' "$index" >"$work/sample.tsv"
sample=$(wc -l <"$work/sample.tsv")

# Build first (untimed), so the rounds do not include compiling.
echo "# building the release test binaries (cargo test --release --no-run)" >&2
# The rounds then run these binaries directly (what benches/bundles.sh runs through cargo), so
# that edits made by others meanwhile cannot trigger a rebuild between rounds.
test_binary() { # PACKAGE TEST -> path of the release test executable
    (cd "$repo" && cargo test --release -p "$1" --test "$2" --no-run 2>&1) | tee -a "$work/build.log" \
        | sed -n "s/^ *Executable tests\/$2.rs (\(.*\))$/\1/p" | tail -1
}
bundles_bin=$(test_binary signet-verify bundle_realworld)
ecdsa_bin=$(test_binary signet-core ecdsa_cost)
if [ -z "$bundles_bin" ] || [ -z "$ecdsa_bin" ]; then
    tail -20 "$work/build.log" >&2
    die "cargo test --release --no-run failed (someone mid-edit? retry in a minute)"
fi
case "$bundles_bin" in /*) ;; *) bundles_bin=$repo/$bundles_bin ecdsa_bin=$repo/$ecdsa_bin ;; esac

python_one() { # LINE of index.tsv -> seconds
    local f digest identity issuer t0 t1
    IFS=$'\t' read -r f digest identity issuer _ <<<"$1"
    t0=$(now)
    (cd "$data" && python3 -m sigstore verify identity --offline --bundle "cpython/$f" \
        --cert-identity "$identity" --cert-oidc-issuer "$issuer" "sha256:$digest") >"$work/py.out" 2>&1 \
        || { cat "$work/py.out" >&2; die "sigstore-python did not verify cpython/$f"; }
    t1=$(now)
    grep -q '^OK: ' "$work/py.out" || { cat "$work/py.out" >&2; die "sigstore-python did not print OK for cpython/$f"; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u)
: >"$work/signet"
: >"$work/python"
for r in $(seq 1 "$runs"); do
    echo "# round $r of $runs (load $(load1))" >&2
    (cd "$repo/crates/signet-verify" && BENCH_RUNS=5 "$bundles_bin" cpython_bundles_in_one_process --ignored --nocapture) \
        >"$work/signet.out" 2>&1 || { cat "$work/signet.out" >&2; die "the bundles test failed"; }
    line=$(grep '^cpython:' "$work/signet.out") || { cat "$work/signet.out" >&2; die "the bundles test printed no figure"; }
    echo "$line" | sed -n 's/^cpython: 139 bundles verified in \([0-9.]*\) ms.*/\1/p' >>"$work/signet"
    : >"$work/py.round"
    while IFS= read -r l; do python_one "$l" >>"$work/py.round"; done <"$work/sample.tsv"
    awk '{ s += $1 } END { printf "%.6f\n", s }' "$work/py.round" >>"$work/python"   # sample total, s
    cat "$work/py.round" >>"$work/python.each"
done
# Python's start-up and imports alone (the part of each run that is not verification).
: >"$work/pyimport"
for _ in 1 2 3 4 5; do
    t0=$(now); python3 -c 'import sigstore.verify, sigstore.models' >/dev/null 2>&1; t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$work/pyimport"
done
ecdsa=$(cd "$repo/crates/signet-core" && "$ecdsa_bin" ecdsa_verify_cost --ignored --nocapture 2>/dev/null | grep '^ecdsa:')
speed=$(openssl speed -seconds 3 ecdsap256 ecdsap384 2>/dev/null | awk '/ecdsa \(nistp(256|384)\)/ { printf "%s %s ", $4, $NF }')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

s_ms=$(median "$work/signet")
py_sample=$(median "$work/python")
py_each=$(median "$work/python.each")
py_import=$(median "$work/pyimport")
p256_us=$(echo "$ecdsa" | sed -n 's/.*P-256 [0-9]* verifies\/s (\([0-9.]*\) µs.*/\1/p')
p384_us=$(echo "$ecdsa" | sed -n 's/.*P-384 [0-9]* verifies\/s (\([0-9.]*\) µs.*/\1/p')
# Leaf keys of the 139 bundles: count P-256 and P-384 (the artifact signature uses the leaf key).
leaf_p384=$(cd "$data/cpython" && python3 - <<'EOF'
import base64, json
from cryptography import x509
n = 0
for line in open("index.tsv").read().splitlines()[1:]:
    vm = json.load(open(line.split("\t")[0]))["verificationMaterial"]
    cert = (vm.get("x509CertificateChain") or {}).get("certificates", [vm.get("certificate")])[0]
    key = x509.load_der_x509_certificate(base64.b64decode(cert["rawBytes"])).public_key()
    n += key.curve.name == "secp384r1"
print(n)
EOF
)

echo
echo "Sigstore bundles: 139 CPython release bundles, signet in one process vs sigstore-python one by one"
echo "- date: $started; load average before $load_before, after $load_after"
echo "- machine: $(machine_line)"
echo "- signet: the test benches/bundles.sh runs, $(basename "$bundles_bin") (one process, trusted root parsed once, 5 passes, median), $runs rounds: $(tr '\n' ' ' <"$work/signet")ms"
echo "- sigstore-python $sigstore_version: python3 -m sigstore verify identity --offline, one process per bundle, a fixed SAMPLE of $sample of the 139 (every $((total / sample))th line of cpython/index.tsv), $runs rounds; sample totals: $(tr '\n' ' ' <"$work/python")s"
echo "- python3 -c 'import sigstore.verify, sigstore.models' alone (start-up and imports): median $py_import s"
echo "- $ecdsa"
echo "- openssl speed -seconds 3 ecdsap256 ecdsap384 (verify/s): $speed($(openssl version | cut -d' ' -f1-2))"
awk -v s="$s_ms" -v ps="$py_sample" -v pe="$py_each" -v n="$sample" -v p256="$p256_us" -v p384="$p384_us" -v leaf384="$leaf_p384" -v pi="$py_import" -v runs="$runs" 'BEGIN {
    per = s * 1000 / 139
    py139 = ps / n * 139
    printf "- signet: median %.1f ms for the 139 bundles = %.0f µs per bundle (target: the set in <= 300 ms)\n", s, per
    printf "- sigstore-python: median %.2f s per bundle (median of %d single runs), sample of %d in a median %.1f s; extrapolated to 139: %.0f s\n", pe, n * runs, n, ps, py139
    printf "- ratio sigstore-python (139, extrapolated) / signet: %.0fx\n", py139 / (s / 1000)
    # signature checks per bundle: artifact (leaf key: P-256 or P-384), chain: the leaf by the
    # intermediate (P-384; sigstore-verify makes every certificate of the trusted root'"'"'s Fulcio
    # chains a trust anchor, so intermediate-by-root is not checked per bundle), SCT, SET and
    # checkpoint (P-256 keys of the CT log and Rekor).
    n256 = 3 + (139 - leaf384) / 139; n384 = 1 + leaf384 / 139
    cost = n256 * p256 + n384 * p384
    printf "- ECDSA checks per bundle: artifact signature (%d of 139 leaf keys are P-384, the rest P-256), certificate chain 1 (leaf by the Fulcio intermediate, a trust anchor; P-384), SCT 1, SET 1, checkpoint 1 (P-256) = 5; on average %.2f P-256 + %.2f P-384 = %.0f µs with aws-lc-rs (12 bundles also carry an RFC 3161 timestamp: one more signature and its chain, not counted)\n", leaf384, n256, n384, cost
    printf "- that is %.0f%% of signet'"'"'s %.0f µs per bundle; the remaining %.0f µs (if positive; both figures are noisy) are parsing (JSON, DER certificates, trusted-root lookups), hashing and the inclusion proof\n", 100 * cost / per, per, per - cost
    printf "TABLE|139 CPython bundles in one process (ms)|%.1f ms|%.0f s (sigstore-python, %d-bundle sample x 139/%d)|%.0fx faster|<= 300 ms|%s\n", s, py139, n, n, py139 / (s / 1000), (s <= 300 ? "yes" : "NO")
}'
