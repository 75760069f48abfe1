#!/bin/sh
# Peak memory of the big-attestation paths: a generated SPDX 2.3 JSON SBOM of PACKAGES packages
# (default 350000, about 93 MiB) attested to a sample image in an OCI layout, then
# verify-attestation and verify --policy with SBOM conditions. Prints wall seconds and peak RSS
# (GNU time) per command, and RSS / SBOM size. Usage: benches/sbom-policy.sh [PACKAGES] [BIN]
# BIN defaults to target/release/signet (built here if missing). Needs /usr/bin/time, python3.
set -eu
cd "$(dirname "$0")/.."
packages=${1:-350000}
bin=${2:-$PWD/target/release/signet}
[ -x "$bin" ] || cargo build --release --quiet --bin signet
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

layout=$work/layout
mkdir -p "$layout/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
blob() { d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
printf 'sbom bench' > "$work/layer"
layer=$(blob "$work/layer")
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$layer" > "$work/config.json"
config=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
  "$config" "$(stat -c%s "$work/config.json")" "$layer" "$(stat -c%s "$work/layer")" > "$work/manifest.json"
manifest=$(blob "$work/manifest.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest" "$(stat -c%s "$work/manifest.json")" > "$layout/index.json"
image="oci:$layout@sha256:$manifest"

python3 - "$packages" "$work/sbom.json" <<'PY'
import json, sys, datetime
n, out = int(sys.argv[1]), sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
with open(out, "w") as f:
    f.write('{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT",'
            '"name":"bench","documentNamespace":"https://example.com/bench",'
            '"creationInfo":{"created":"%s","creators":["Tool: bench"]},"packages":[' % now)
    for i in range(n):
        if i:
            f.write(",")
        f.write(json.dumps({"SPDXID": "SPDXRef-Package-%d" % i, "name": "pkg-%d" % i,
            "versionInfo": "1.%d.0" % (i % 100), "licenseConcluded": "MIT",
            "downloadLocation": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": "pkg:npm/pkg-%d@1.%d.0" % (i, i % 100)}]}))
    f.write("]}")
PY
size=$(stat -c%s "$work/sbom.json")
(cd "$work" && COSIGN_PASSWORD=bench "$bin" generate-key-pair --output-key-prefix k >/dev/null 2>&1)
cat > "$work/policy.yaml" <<YAML
apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  k: { key: { path: k.pub }, transparencyLog: ignore }
policies:
  - name: sbom
    images: ["**"]
    attestations:
      - predicateType: spdxjson
        authorities: [k]
        sbom: { maxAge: 24h, deniedPackages: [{ name: left-pad }], deniedLicenses: [GPL-3.0-only] }
YAML
run() {
  label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs kib < "$work/time"
  awk -v l="$label" -v s="$secs" -v k="$kib" -v z="$size" \
    'BEGIN { printf "%-40s %7.2f s %8.0f MiB  %4.1f x SBOM\n", l, s, k/1024, k*1024/z }'
}
echo "SBOM: $packages packages, $size bytes; signet: $bin"
run "attest --type spdxjson" env COSIGN_PASSWORD=bench "$bin" attest --key "$work/k.key" --tlog-upload=false --type spdxjson --predicate "$work/sbom.json" "$image"
run "verify-attestation --type spdxjson" "$bin" verify-attestation --key "$work/k.pub" --insecure-ignore-tlog=true --type spdxjson "$image"
run "verify --policy (SBOM conditions)" "$bin" verify --policy "$work/policy.yaml" "$image"
