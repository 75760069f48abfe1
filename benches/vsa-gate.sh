#!/usr/bin/env bash
# Deciding an image by its SLSA verification summary against deciding it by its full evidence
# (issue 14): one image in a local docker-registry, signed, with a SLSA provenance, an SPDX
# SBOM of PACKAGES packages and a vulnerability report attested; `verify --policy full.yaml`
# checks all four (signature, provenance conditions, SBOM conditions, vulnerability
# conditions) and writes and attaches a VSA; `verify --policy gate.yaml` checks only that VSA.
# Both commands are timed in the same rounds (hyperfine, order alternating) and their registry
# requests counted (--stats).
#
# Usage:   benches/vsa-gate.sh [PACKAGES]      (default 20000)
#
# Environment:
#   BENCH_ROUNDS=5     hyperfine invocations, each measuring both commands
#   BENCH_RUNS=10      runs of each command per invocation (after 3 warm-up runs)
#   SIGNET=PATH        signet binary (default: <repo>/target/release/signet)
#   BENCH_TMPDIR=DIR   where the registry storage goes (default /var/tmp)
#
# Needs (checked, never installed): hyperfine, /usr/bin/docker-registry, curl, python3.
# Last line, for benches/run-all.sh:  TABLE|figure|signet|baseline|ratio|target|met
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benches/lib/common.sh"

packages=${1:-20000}
rounds=${BENCH_ROUNDS:-5}
runs=${BENCH_RUNS:-10}
signet=${SIGNET:-$repo/target/release/signet}

require hyperfine "Debian/Ubuntu: apt-get install -y hyperfine"
require curl "Debian/Ubuntu: apt-get install -y curl"
require python3 "Debian/Ubuntu: apt-get install -y python3"
require_docker_registry
[ -x "$signet" ] || die "no signet binary at $signet; build it with: cargo build --release --bin signet (or set SIGNET)"

work=
cleanup() {
    if [ -n "${REGISTRY_PID_reg:-}" ]; then kill "$REGISTRY_PID_reg" 2>/dev/null || true; wait "$REGISTRY_PID_reg" 2>/dev/null || true; fi
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/signet-vsa-gate.XXXXXX")

# --- setup ----------------------------------------------------------------------------------
start_registry reg "$work/storage" false
host=$REGISTRY_HOST
python3 "$repo/benches/lib/regbench.py" populate "$host" 1 1 "$work/images.txt"
image=$(cat "$work/images.txt")
export COSIGN_PASSWORD=signet-bench
cd "$work"
for k in release builder verifier; do
    "$signet" generate-key-pair --output-key-prefix "$k" >/dev/null 2>&1 || die "generate-key-pair $k failed"
done
"$signet" sign --key release.key --tlog-upload=false "$image" >/dev/null 2>&1 || die "sign failed"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >provenance.json <<EOF
{"buildDefinition": {"buildType": "https://example.invalid/build@v1",
  "externalParameters": {"source": "git+https://github.com/acme/app@refs/heads/main"},
  "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}]},
 "runDetails": {"builder": {"id": "https://example.invalid/builder"}, "metadata": {"startedOn": "$now"}}}
EOF
python3 - "$packages" sbom.json "$now" <<'PY'
import json, sys
n, out, now = int(sys.argv[1]), sys.argv[2], sys.argv[3]
packages = [{"SPDXID": "SPDXRef-Package-%d" % i, "name": "pkg-%d" % i, "versionInfo": "1.%d.0" % (i % 100),
             "licenseConcluded": "MIT", "downloadLocation": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:npm/pkg-%d@1.%d.0" % (i, i % 100)}]} for i in range(n)]
json.dump({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "bench",
           "documentNamespace": "https://example.com/bench", "creationInfo": {"created": now, "creators": ["Tool: bench"]},
           "packages": packages}, open(out, "w"))
PY
cat >vuln.json <<EOF
{"invocation": {"uri": "", "event_id": "", "builder.id": ""},
 "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.50.0", "version": "0.50.0", "db": {"uri": "", "version": ""},
   "result": {"SchemaVersion": 2, "ArtifactName": "bench", "Results": [{"Target": "bench", "Vulnerabilities": [
     {"VulnerabilityID": "CVE-2024-0001", "PkgName": "pkg-1", "Severity": "LOW"}]}]}},
 "metadata": {"scanStartedOn": "$now", "scanFinishedOn": "$now"}}
EOF
"$signet" attest --key builder.key --tlog-upload=false --type slsaprovenance1 --predicate provenance.json "$image" >/dev/null 2>&1 || die "attest provenance failed"
"$signet" attest --key builder.key --tlog-upload=false --type spdxjson --predicate sbom.json "$image" >/dev/null 2>&1 || die "attest sbom failed"
"$signet" attest --key builder.key --tlog-upload=false --type vuln --predicate vuln.json "$image" >/dev/null 2>&1 || die "attest vuln failed"

cat >full.yaml <<EOF
apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  release: { key: { path: release.pub }, transparencyLog: ignore }
  builder: { key: { path: builder.pub }, transparencyLog: ignore }
policies:
  - name: release
    images: ["$host/**"]
    signatures: { authorities: [release] }
    attestations:
      - { name: provenance, predicateType: slsaprovenance1, authorities: [builder], slsa: { builderId: { exact: "https://example.invalid/builder" } } }
      - { name: sbom, predicateType: spdxjson, authorities: [builder], sbom: { maxAge: 30d, deniedPackages: [{ name: left-pad }], deniedLicenses: [GPL-3.0-only] } }
      - { name: vulnerabilities, predicateType: vuln, authorities: [builder], vulnerabilities: { maxSeverity: medium, maxAge: 30d } }
EOF
full=("$signet" verify --policy full.yaml "$image")
"${full[@]}" >/dev/null 2>full.err || { cat full.err >&2; die "the full policy does not allow the image"; }
"$signet" verify --policy full.yaml --vsa-key verifier.key --vsa-out vsa.jsonl \
    --vsa-verifier-id https://example.invalid/verifier --vsa-level SLSA_BUILD_LEVEL_2 --vsa-attach "$image" >/dev/null 2>&1 \
    || die "writing the VSA failed"
policy_digest=sha256:$(sha256sum full.yaml | cut -d' ' -f1)
cat >gate.yaml <<EOF
apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  verifier: { key: { path: verifier.pub }, transparencyLog: ignore }
policies:
  - name: gate
    images: ["$host/**"]
    attestations:
      - name: summary
        predicateType: https://slsa.dev/verification_summary/v1
        authorities: [verifier]
        vsa: { verifierId: "https://example.invalid/verifier", policyDigest: "$policy_digest", verifiedLevels: [SLSA_BUILD_LEVEL_2], maxAge: 1d }
EOF
gate=("$signet" verify --policy gate.yaml "$image")
"${gate[@]}" >/dev/null 2>gate.err || { cat gate.err >&2; die "the gate does not allow the image by its VSA"; }
requests() { "$@" --stats 2>&1 >/dev/null | sed -n 's/^stats: \([0-9]*\) registry requests.*/\1/p'; }
full_requests=$(requests "$signet" verify --policy full.yaml "$image")
gate_requests=$(requests "$signet" verify --policy gate.yaml "$image")
sbom_bytes=$(stat -c %s sbom.json)

# --- measure --------------------------------------------------------------------------------
quote() { printf '%q ' "$@"; }
full_cmd=$(quote "${full[@]}")
gate_cmd=$(quote "${gate[@]}")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u)
: >rounds
for r in $(seq 1 "$rounds"); do
    echo "# round $r of $rounds (load $(load1))" >&2
    if [ $((r % 2)) -eq 1 ]; then order=("$gate_cmd" "$full_cmd"); else order=("$full_cmd" "$gate_cmd"); fi
    hyperfine -N --style none --warmup 3 --runs "$runs" --export-json hf.json \
        -n first "${order[0]}" -n second "${order[1]}" >/dev/null 2>hf.err \
        || { cat hf.err >&2; die "hyperfine failed"; }
    python3 - hf.json "$r" >>rounds <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
first, second = (r["median"] for r in results)
gate, full = (first, second) if int(sys.argv[2]) % 2 == 1 else (second, first)
print(f"{gate:.6f} {full:.6f} {gate / full:.4f}")
EOF
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
awk '{ print $1 }' rounds >c; g=$(median c)
awk '{ print $2 }' rounds >c; f=$(median c)
awk '{ print $3 }' rounds >c; ratio=$(median c)

echo
echo "deciding one image by its VSA vs by its full evidence (signature, provenance, SBOM, vulnerabilities)"
echo "- date: $started; load average before $load_before, after $load_after"
echo "- machine: $(machine_line)"
echo "- signet: $("$signet" --version) ($signet), repository at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
echo "- SBOM: $packages packages, $sbom_bytes bytes; registry requests: full $full_requests, VSA gate $gate_requests"
echo "- $(hyperfine --version), -N, $rounds rounds x $runs runs each (+3 warm-up), order alternating"
echo "- per round (median ms): gate, full, ratio"
awk '{ printf "    %.2f  %.2f  %.2f\n", $1 * 1000, $2 * 1000, $3 }' rounds
awk -v g="$g" -v f="$f" -v r="$ratio" 'BEGIN { printf "- medians: VSA gate %.2f ms, full evidence %.2f ms, ratio (median of per-round ratios) %.2f\n", g * 1000, f * 1000, r }'
awk -v g="$g" -v f="$f" -v r="$ratio" -v n="$packages" 'BEGIN {
    printf "TABLE|decide by VSA vs full evidence (%d-package SBOM)|%.1f ms|%.1f ms (full)|%.2f|< 1|%s\n", n, g * 1000, f * 1000, r, (r < 1 ? "yes" : "NO")
}'
