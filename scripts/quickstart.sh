#!/bin/sh
# The main job, with no server: build signet, make a sample image in an OCI image layout,
# generate a key pair, sign the image, add a second signature with the demo key in
# keys-example/, and verify both. Prints each step and the verdict.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --bin signet
signet=$PWD/target/debug/signet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== a sample image in the OCI layout $work/layout"
layout=$work/layout
mkdir -p "$layout/blobs/sha256" "$work/rootfs"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
printf 'hello from signet\n' > "$work/rootfs/hello.txt"
tar --mtime=@0 --owner=0 --group=0 -C "$work/rootfs" -cf "$work/layer.tar" hello.txt
blob() { d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
layer=$(blob "$work/layer.tar")
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$layer" > "$work/config.json"
config=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
  "$config" "$(stat -c%s "$work/config.json")" "$layer" "$(stat -c%s "$work/layer.tar")" > "$work/manifest.json"
manifest=$(blob "$work/manifest.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest" "$(stat -c%s "$work/manifest.json")" > "$layout/index.json"
image="oci:$layout@sha256:$manifest"
echo "   image: $image"

echo "== signet generate-key-pair"
(cd "$work" && COSIGN_PASSWORD=quickstart "$signet" generate-key-pair --output-key-prefix release)

echo "== signet sign (release key, then the demo key from keys-example/)"
COSIGN_PASSWORD=quickstart "$signet" sign --key "$work/release.key" --tlog-upload=false "$image"
COSIGN_PASSWORD=signet-demo "$signet" sign --key keys-example/cosign.key --tlog-upload=false "$image"

echo "== signet verify"
for pub in "$work/release.pub" keys-example/cosign.pub; do
  "$signet" verify --key "$pub" --insecure-ignore-tlog=true "$image"
done

echo "== signet verify --policy keys-example/policy.yaml (a trust policy instead of a key)"
"$signet" verify --policy keys-example/policy.yaml --output text "$image"

echo "== a key that did not sign is refused"
(cd "$work" && COSIGN_PASSWORD=x "$signet" generate-key-pair --output-key-prefix stranger)
if "$signet" verify --key "$work/stranger.pub" --insecure-ignore-tlog=true "$image"; then
  echo "VERDICT: FAILED (a key that did not sign was accepted)"; exit 1
fi
echo "VERDICT: OK: signed by two keys, both verify; an unrelated key is refused" >&2
