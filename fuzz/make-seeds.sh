#!/usr/bin/env bash
# Writes the seed corpora fuzz/corpus/<target>/seed-* (the files kept in git; see README.md).
# Real inputs come from Cosign's test data in the project's shared/ folder (../../shared/testdata
# from here, or $SIGNET_TESTDATA); the rest are small hand-written inputs, written here so that
# each seed has a visible origin. Rerunning it rewrites the seeds and touches nothing else.
#
# Needs: bash, python3 (standard library only), openssl (PKCS#8 conversions), base64.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
testdata=${SIGNET_TESTDATA:-$here/../../shared/testdata}
cosign=$testdata/cosign
keys=$cosign/extracted/pkg/cosign/keys_test
attest=$cosign/extracted/cmd/cosign/cli/verify/verify_blob_attestation_test
verifiers=$cosign/extracted/pkg/cosign/verifiers_test
test -d "$keys" || { echo "error: Cosign test data not found under $testdata" >&2; exit 1; }

corpus=$here/corpus
targets=(image_reference digest encrypted_key unencrypted_key_pem pkcs8_der public_key
  simple_signing dsse_envelope intoto_statement predicate oci_manifest trust_policy scope_glob
  policy_conditions sigstore_bundle trusted_root checkpoint cosign_legacy_annotations
  containers_policy_json bundle_documents admission_review manifests)
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  rm -f "$corpus/$t"/seed-*
done

# seed TARGET NAME TEXT: a hand-written seed, without a trailing newline.
seed() { printf '%s' "$3" > "$corpus/$1/seed-$2"; }
# copy TARGET FILE...: real inputs, named after the file.
copy() {
  local t=$1 f
  shift
  for f in "$@"; do cp "$f" "$corpus/$t/seed-$(basename "$f")"; done
}

d256=sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec
d384=sha384:$(printf x | sha384sum | cut -d' ' -f1)
d512=sha512:$(printf x | sha512sum | cut -d' ' -f1)

# --- image_reference -------------------------------------------------------------------------
i=0
for r in ubuntu ubuntu:24.04 "docker.io/library/ubuntu@$d256" "127.0.0.1:5000/app@$d256" \
  localhost:5000/a/b:v1 "[::1]:5000/app:tag" registry.example.com/prod/team/app:1.2.3@$d256 \
  index.docker.io/namespace/image oci:./layout:latest "oci:/tmp/x@$d256" oci:layout \
  "ghcr.io/acme/app:sha256-${d256#sha256:}.sig" "my-registry.local:5000/a__b/c.d/e--f"; do
  i=$((i + 1))
  seed image_reference "$i" "$r"
done

# --- digest ----------------------------------------------------------------------------------
seed digest sha256 "$d256"
seed digest sha384 "$d384"
seed digest sha512 "$d512"
seed digest json "\"$d256\""
seed digest uppercase "sha256:4AA3054270F7A70B4528F2064EE90961788E1E1518703592AE4463DE3B889DEC"

# --- keys ------------------------------------------------------------------------------------
# Encrypted key files: real ones (they reach scrypt, so the target skips them as they are; they
# give the fuzzer the format), and two that fail before scrypt: a cost outside 2^15..2^17 and a
# short nonce.
copy encrypted_key "$keys/pemcosignkey.pem" "$keys/pemsigstorekey.pem" \
  "$keys/pemcosigneckey.pem" "$cosign/.github/workflows/cosign-test.key"
python3 - "$keys/pemsigstorekey.pem" "$corpus/encrypted_key" <<'EOF'
import base64, json, sys
text = open(sys.argv[1]).read().split("\n")
body = "".join(l for l in text if l and not l.startswith("-----"))
envelope = json.loads(base64.b64decode(body))
def write(name, env):
    b64 = base64.b64encode(json.dumps(env, separators=(",", ":")).encode()).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    pem = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(lines) + \
        "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    open(f"{sys.argv[2]}/seed-{name}", "w").write(pem)
cheap = json.loads(json.dumps(envelope)); cheap["kdf"]["params"]["N"] = 1024
write("cost-2-10.pem", cheap)
short = json.loads(json.dumps(envelope)); short["cipher"]["nonce"] = "AAAA"
write("short-nonce.pem", short)
open(f"{sys.argv[2]}/seed-envelope.json", "w").write(json.dumps(cheap))
EOF

copy unencrypted_key_pem "$keys"/valid*.pem "$keys/ed25519key.pem" "$keys"/invalid*.pem

openssl pkey -in "$keys/validecpkcs8.pem" -outform DER -out "$corpus/pkcs8_der/seed-ecp256.der"
openssl pkcs8 -topk8 -nocrypt -in "$keys/validecp384.pem" -outform DER \
  -out "$corpus/pkcs8_der/seed-ecp384.der"
openssl pkcs8 -topk8 -nocrypt -in "$keys/validecp521.pem" -outform DER \
  -out "$corpus/pkcs8_der/seed-ecp521.der"
openssl pkey -in "$keys/validrsapkcs8.pem" -outform DER -out "$corpus/pkcs8_der/seed-rsa2048.der"
openssl pkey -in "$keys/ed25519key.pem" -outform DER -out "$corpus/pkcs8_der/seed-ed25519.der"

copy public_key "$cosign/pkg/cosign/testdata/google" "$cosign/pkg/cosign/testdata/rsa" \
  "$cosign/pkg/cosign/testdata/letsencrypt-testflume-2021" \
  "$cosign/pkg/cosign/testdata/garbage-there-are-limits" \
  "$cosign/.github/workflows/cosign-test.pub" "$cosign/release/release-cosign.pub" \
  "$attest/pubkey.pem"
openssl pkey -in "$keys/ed25519key.pem" -pubout -out "$corpus/public_key/seed-ed25519.pub"
openssl pkey -in "$keys/validecp521.pem" -pubout -outform DER \
  -out "$corpus/public_key/seed-ecp521.der"
openssl rsa -in "$keys/validrsa.pem" -RSAPublicKey_out -outform DER \
  -out "$corpus/public_key/seed-rsa2048-pkcs1.der" 2>/dev/null

# --- simple_signing --------------------------------------------------------------------------
copy simple_signing "$cosign/extracted/pkg/cosign/obsolete_test/simplesigning-payload-golden.json"
seed simple_signing annotated '{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"'"$d256"'"},"type":"cosign container image signature"},"optional":{"env":"prod","n":1,"html":"\u003ca\u003e\u0026"}}'
# containers/image writes the tag into the identity and creator/timestamp into optional.
seed simple_signing containers-image '{"critical":{"identity":{"docker-reference":"registry.example.com/app:v1"},"image":{"docker-manifest-digest":"'"$d512"'"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.34","timestamp":1700000000}}'

# --- dsse_envelope, intoto_statement ---------------------------------------------------------
copy dsse_envelope "$attest"/*.dsse.json "$verifiers"/*.dsse.json
cp "$cosign/pkg/policy/testdata/valid/custom" "$corpus/dsse_envelope/seed-custom.dsse.json"
cp "$cosign/pkg/policy/testdata/valid/vuln" "$corpus/dsse_envelope/seed-vuln.dsse.json"
python3 - "$corpus/intoto_statement" "$attest"/*.dsse.json "$verifiers"/*.dsse.json \
  "$cosign/pkg/policy/testdata/valid/custom" "$cosign/pkg/policy/testdata/valid/vuln" <<'EOF'
import base64, json, os, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    try:
        payload = base64.b64decode(json.load(open(path))["payload"], validate=True)
    except Exception:
        continue  # the bad-base64 vector
    name = os.path.basename(path).replace(".dsse.json", "")
    open(f"{out}/seed-{name}.json", "wb").write(payload)
EOF
cp "$testdata/conformance/statement.json" "$corpus/intoto_statement/seed-slsa-v1.json"

# --- predicate: "TYPE\nFILE" -----------------------------------------------------------------
td=$cosign/test/testdata
{ printf 'custom\n'; cat "$td/test-result.json"; } > "$corpus/predicate/seed-custom"
{ printf 'vuln\n'; cat "$td/attestations/vuln-predicate.json"; } > "$corpus/predicate/seed-vuln"
{ printf 'spdxjson\n'; cat "$td/bom-go-mod.spdx.json"; } > "$corpus/predicate/seed-spdxjson"
{ printf 'cyclonedx\n'; cat "$td/bom-go-mod.cyclonedx.json"; } > "$corpus/predicate/seed-cyclonedx"
{ printf 'spdx\n'; head -c 1200 "$td/bom-go-mod.spdx"; } > "$corpus/predicate/seed-spdx"
{ printf 'slsaprovenance1\n'; python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["predicate"]))' \
  "$testdata/conformance/statement.json"; } > "$corpus/predicate/seed-slsaprovenance1"
seed predicate link 'link
{"_type":"link","name":"build","materials":{},"products":{},"byproducts":{},"command":["make"],"environment":{}}'
seed predicate uri 'https://example.com/predicate/v1
{"a":[1,2.5,null,true,"\u00e9"]}'

# --- oci_manifest ----------------------------------------------------------------------------
seed oci_manifest signature-manifest '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"'"$d256"'"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":247,"digest":"'"$d256"'","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}]}'
seed oci_manifest docker-v2 '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"'"$d256"'"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2811969,"digest":"'"$d512"'","urls":["https://example.com/l"]}],"annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"},"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"'"$d256"'"}}'
seed oci_manifest layout-index '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":402,"digest":"'"$d256"'","annotations":{"org.opencontainers.image.ref.name":"latest"},"platform":{"architecture":"amd64","os":"linux"}}]}'

# --- trust_policy ----------------------------------------------------------------------------
pub=$(sed 's/^/        /' "$here/../keys-example/cosign.pub")
cat > "$corpus/trust_policy/seed-example.yaml" <<EOF
# keys-example/policy.yaml with the key inline (the target reads no key files).
apiVersion: signet.dev/v1
kind: TrustPolicy
noMatch: deny
authorities:
  demo:
    key:
      data: |
$pub
    transparencyLog: ignore
policies:
  - name: everything-signed-by-demo
    images: ["**"]
    signatures:
      authorities: [demo]
EOF
cat > "$corpus/trust_policy/seed-full.yaml" <<EOF
# The shapes of docs/policy.md, every section once.
apiVersion: signet.dev/v1
kind: TrustPolicy
noMatch: warn
authorities:
  security:
    key:
      data: |
$pub
    transparencyLog: ignore
  github-release:
    keyless:
      issuer:  { exact: https://token.actions.githubusercontent.com }
      subject: { regex: "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v.*" }
      githubWorkflowRepository: acme/app
      githubWorkflowRef: refs/heads/main
      githubWorkflowTrigger: push
policies:
  - name: production
    mode: enforce
    images: ["registry.example.com/prod/**", "*.example.com/platform/*"]
    exclude: ["registry.example.com/prod/sandbox/**"]
    signatures:
      authorities: [security, github-release]
      threshold: 2
      required: [security]
      annotations: { env: prod }
      signedIdentity: { type: matchRepository }
    attestations:
      - name: provenance
        predicateType: slsaprovenance
        authorities: [github-release]
        slsa: { builderId: { prefix: "https://github.com/slsa-framework/" }, sourceRepository: github.com/acme/app, branch: main }
      - predicateType: spdxjson
        authorities: [security]
        sbom:
          format: spdx
          maxAge: 720h
          deniedPackages: [{ name: log4j-core, versions: "<2.17.1" }, { purl: pkg:npm/event-stream }]
          deniedLicenses: [GPL-3.0-only]
      - predicateType: vuln
        authorities: [security]
        vulnerabilities: { maxSeverity: high, maxAge: 168h }
        rego: |
          package signature
          allow { input.predicate.scanner.result.Results == [] }
  - name: staging
    mode: audit
    images: ["docker.io/acme/*"]
    signatures:
      authorities: [security]
      signedIdentity: { type: exactRepository, dockerRepository: index.docker.io/acme/app }
EOF

seed trust_policy key-path 'apiVersion: signet.dev/v1
kind: TrustPolicy
authorities: { release: { key: { path: keys/release.pub } } }
policies: [{ name: p, images: ["ghcr.io/acme/*"], signatures: { authorities: [release] } }]'

# --- scope_glob: "GLOB\nREPOSITORY" ----------------------------------------------------------
seed scope_glob prod-any 'registry.example.com/prod/**
registry.example.com/prod/team/app'
seed scope_glob host-star '*.example.com/platform/*
eu.registry.example.com/platform/api'
seed scope_glob docker-hub 'docker.io/library/nginx
index.docker.io/library/nginx'
seed scope_glob everything '**
anything/at/all'
seed scope_glob port 'localhost:5000/app-*-v*
localhost:5000/app-frontend-v2'
seed scope_glob middle '**/team/**/app
registry.example.com/a/team/b/c/app'

# --- policy_conditions: statements the fixed conditions read ---------------------------------
python3 - "$corpus/policy_conditions" "$testdata/conformance/statement.json" \
  "$attest/blobSLSAProvenanceSignature.dsse.json" "$cosign/pkg/policy/testdata/valid/vuln" \
  "$cosign/pkg/policy/testdata/valid/custom" "$td/bom-go-mod.spdx" <<'EOF'
import base64, json, sys
out, slsa1, slsa02, vuln, custom, spdx_tv = sys.argv[1:]
def payload(path):
    return json.loads(base64.b64decode(json.load(open(path))["payload"]))
def write(name, value):
    open(f"{out}/seed-{name}.json", "w").write(json.dumps(value, separators=(",", ":")))
def statement(predicate_type, predicate):
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": "00" * 32}}],
            "predicateType": predicate_type, "predicate": predicate}
write("slsa-v1", json.load(open(slsa1)))
write("slsa-v02", payload(slsa02))
write("vuln", payload(vuln))
write("custom", payload(custom))
write("spdx-json", statement("https://spdx.dev/Document", {
    "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
    "creationInfo": {"created": "2025-06-01T00:00:00Z", "creators": ["Tool: syft"]},
    "packages": [
        {"name": "log4j-core", "versionInfo": "2.14.1", "licenseConcluded": "Apache-2.0",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]},
        {"name": "readline", "versionInfo": "8.2", "licenseDeclared": "GPL-3.0-only OR MIT"}]}))
write("cyclonedx", statement("https://cyclonedx.org/bom", {
    "bomFormat": "CycloneDX", "specVersion": "1.5",
    "metadata": {"timestamp": "2025-06-01T00:00:00Z"},
    "components": [
        {"type": "library", "name": "event-stream", "version": "3.3.6",
         "purl": "pkg:npm/event-stream@3.3.6", "licenses": [{"license": {"id": "MIT"}}]},
        {"type": "library", "name": "x", "version": "v1.2", "purl": "pkg:npm/%40evil/x@1.2.0",
         "licenses": [{"expression": "AGPL-3.0-only"}]}]}))
text = open(spdx_tv).read(1500)
write("spdx-tag-value", statement("https://spdx.dev/Document", text[:text.rfind("\n") + 1]))
EOF

# --- sigstore_bundle, trusted_root, checkpoint, cosign_legacy_annotations --------------------
# Real Sigstore material: sigstore-conformance's bundles (the cases against the production root,
# which the targets load), a few real-world bundles, every distinct trusted root, every distinct
# checkpoint, and the legacy Cosign annotations equivalent to the message-signature bundles.
python3 - "$corpus" "$testdata" <<'EOF2'
import base64, hashlib, json, os, sys
out, testdata = sys.argv[1:]
conformance = f"{testdata}/conformance"
realworld = f"{testdata}/realworld"
cases = json.load(open(f"{conformance}/cases.json"))["cases"]

def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    open(f"{out}/{target}/seed-{name}", "wb").write(data)

# sigstore_bundle: ≤ 40 bundles.
production = [c for c in cases if c["trusted_root"] == "_trust/production/trusted_root.json"]
for c in production:
    write("sigstore_bundle", c["name"] + ".json", open(f"{conformance}/{c['bundle']}", "rb").read())
for path in ["sigstore-python/bundle_v3.txt.sigstore", "sigstore-python/bundle_v3_github.whl.sigstore",
             "sigstore-python/bundle_no_cert_v1.txt.sigstore",
             "sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json",
             "cpython/3.14.0/python-3.14.0-embed-win32.zip.sigstore.json",
             "cpython/3.9.14/Python-3.9.14.tgz.sigstore.json"]:
    if os.path.exists(f"{realworld}/{path}"):
        write("sigstore_bundle", "realworld-" + os.path.basename(path),
              open(f"{realworld}/{path}", "rb").read())

# trusted_root: every distinct root.
roots = [f"{conformance}/_trust/production/trusted_root.json",
         f"{conformance}/_trust/staging/trusted_root.json",
         f"{realworld}/sigstore-rs/trust_root/prod/trusted_root.json",
         f"{testdata}/cosign/pkg/cosign/testdata/trusted_root_pgi.json"]
roots += sorted(f"{conformance}/{c['trusted_root']}" for c in cases)
roots += sorted(f"{realworld}/sigstore-python/trusted_root/{f}"
                for f in os.listdir(f"{realworld}/sigstore-python/trusted_root"))
seen = set()
for path in roots:
    data = open(path, "rb").read()
    if hashlib.sha256(data).digest() in seen:
        continue
    seen.add(hashlib.sha256(data).digest())
    name = os.path.relpath(path, testdata).replace("/", "_")
    write("trusted_root", name, data)

# checkpoint: every distinct checkpoint envelope in the conformance bundles.
seen = set()
for c in cases:
    try:
        bundle = json.load(open(f"{conformance}/{c['bundle']}"))
        entries = bundle["verificationMaterial"]["tlogEntries"]
    except (ValueError, KeyError):
        continue
    for entry in entries:
        envelope = entry.get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
        if envelope and envelope not in seen:
            seen.add(envelope)
            write("checkpoint", c["name"], envelope)

# cosign_legacy_annotations: certificate, chain, Rekor bundle, timestamp and signature
# separated by 0xFF, as Cosign would have written them for each message-signature bundle.
def pem(der):
    b64 = base64.b64encode(der).decode()
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(
        b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END CERTIFICATE-----\n"
root = json.load(open(f"{conformance}/_trust/production/trusted_root.json"))
fulcio_chain = "".join(pem(base64.b64decode(c["rawBytes"]))
                       for c in root["certificateAuthorities"][-1]["certChain"]["certificates"])
for name in ["happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3", "managed-key-happy-path",
             "set-invalid-signature_fail", "signature-mismatch_fail"]:
    bundle = json.load(open(f"{conformance}/bundle-verify/{name}/bundle.sigstore.json"))
    material = bundle["verificationMaterial"]
    if "certificate" in material:
        certificates = [material["certificate"]["rawBytes"]]
    else:
        certificates = [c["rawBytes"] for c in material.get("x509CertificateChain", {}).get("certificates", [])]
    certificate = pem(base64.b64decode(certificates[0])) if certificates else ""
    chain = "".join(pem(base64.b64decode(c)) for c in certificates[1:]) or fulcio_chain
    entry = material["tlogEntries"][0]
    rekor = json.dumps({"SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
                        "Payload": {"body": entry["canonicalizedBody"],
                                    "integratedTime": int(entry["integratedTime"]),
                                    "logIndex": int(entry["logIndex"]),
                                    "logID": base64.b64decode(entry["logId"]["keyId"]).hex()}},
                       separators=(",", ":"))
    stamps = material.get("timestampVerificationData", {}).get("rfc3161Timestamps", [])
    stamp = json.dumps({"SignedRFC3161Timestamp": stamps[0]["signedTimestamp"]},
                       separators=(",", ":")) if stamps else ""
    signature = base64.b64decode(bundle["messageSignature"]["signature"])
    fields = [certificate.encode(), chain.encode() if certificate else b"", rekor.encode(),
              stamp.encode(), signature]
    write("cosign_legacy_annotations", name, b"\xff".join(fields))
# An RFC 3161 timestamp from a Rekor v2 bundle (the Rekor v1 bundles above have none).
bundle = json.load(open(f"{conformance}/bundle-verify/rekor2-happy-path/bundle.sigstore.json"))
stamp = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
write("cosign_legacy_annotations", "timestamp-only",
      b"\xff\xff\xff" + json.dumps({"SignedRFC3161Timestamp": stamp["signedTimestamp"]}).encode()
      + b"\xff")
EOF2

# --- containers_policy_json ------------------------------------------------------------------
# The shapes of containers-policy.json(5), every requirement type and signedIdentity rule.
keydata=$(base64 -w0 "$here/../keys-example/cosign.pub")
seed containers_policy_json default-accept '{"default":[{"type":"insecureAcceptAnything"}]}'
seed containers_policy_json scopes '{"default":[{"type":"reject"}],"transports":{"docker":{"quay.io/app:v1":[{"type":"insecureAcceptAnything"}],"registry.example.com:5000/team":[{"type":"reject"}],"*.example.com":[{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchRepository"}}],"docker.io/library/ubuntu":[{"type":"insecureAcceptAnything"}],"":[{"type":"reject"}]},"oci":{"/tmp":[{"type":"insecureAcceptAnything"}]},"docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}'
seed containers_policy_json sigstore-keydata '{"default":[{"type":"sigstoreSigned","keyData":"'"$keydata"'","signedIdentity":{"type":"matchRepoDigestOrExact"}}],"transports":{"docker":{"quay.io":[{"type":"sigstoreSigned","keyDatas":["'"$keydata"'","'"$keydata"'"],"rekorPublicKeyData":"'"$keydata"'","signedIdentity":{"type":"matchRepository"}}]}}}'
seed containers_policy_json sigstore-keypath '{"default":[{"type":"sigstoreSigned","keyPath":"../keys-example/cosign.pub","signedIdentity":{"type":"exactReference","dockerReference":"quay.io/app:v1"}}],"transports":{"docker":{"a.b.example.com/x":[{"type":"sigstoreSigned","keyPaths":["../keys-example/cosign.pub"],"rekorPublicKeyPaths":["../keys-example/cosign.pub"],"signedIdentity":{"type":"exactRepository","dockerRepository":"a.b.example.com/x/y"}}]}}}'
seed containers_policy_json remap '{"default":[{"type":"reject"}],"transports":{"docker":{"registry.example.com:5000":[{"type":"sigstoreSigned","keyData":"'"$keydata"'","rekorPublicKeyDatas":["'"$keydata"'"],"signedIdentity":{"type":"remapIdentity","prefix":"registry.example.com:5000","signedPrefix":"quay.io/mirror"}}],"docker.io":[{"type":"sigstoreSigned","keyData":"'"$keydata"'","signedIdentity":{"type":"matchExact"}}]}}}'
seed containers_policy_json refused '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/etc/pki/key.gpg"}],"transports":{"docker":{"quay.io":[{"type":"sigstoreSigned","fulcio":{"caData":"AA==","oidcIssuer":"https://issuer","subjectEmail":"a@b.c"}}]}}}'

# --- bundle_documents: files of bundles as published (the repository's real-world data) ----
rw=$here/../tests/data/realworld
copy bundle_documents \
  "$rw/slsa-verifier/cli/slsa-verifier/testdata/npm/gha/supreme-googles-cli-v02-tag.tgz.json" \
  "$rw/gh-cli/pkg/cmd/attestation/test/data/sigstore-js-2.1.0_with_2_bundles.jsonl" \
  "$rw/warehouse/tests/functional/_fixtures/sampleproject-3.0.0.tar.gz.publish.attestation" \
  "$rw/warehouse/tests/_fixtures/sampleproject-4.0.0.tar.gz.provenance" \
  "$rw/sigstore-go/examples/bundle-publish.json"

printf "seed corpus: %s bytes in %s files\n" "$(cat "$corpus"/*/seed-* | wc -c)" "$(ls "$corpus"/*/seed-* | wc -l)"

# admission_review, manifests: the AdmissionReview requests of the e2e tests (written from the
# Kubernetes API reference, tests/data/admission/README.md), and manifests made of their objects.
admission=$here/../tests/data/admission
copy admission_review "$admission"/*-create.json "$admission"/*-update*.json "$admission"/pod-delete.json
python3 - "$admission" "$corpus/manifests" <<'PY'
import glob, json, os, sys
src, out = sys.argv[1], sys.argv[2]
objects = []
for path in sorted(glob.glob(os.path.join(src, "*-create.json"))):
    objects.append(json.load(open(path))["request"]["object"])
with open(os.path.join(out, "seed-objects.json"), "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, f)
with open(os.path.join(out, "seed-documents.yaml"), "w") as f:
    for o in objects:
        f.write("---\n" + json.dumps(o) + "\n")
PY

