#!/usr/bin/env python3
"""Extracts the 2021 Cosign signature layer that sigstore-rs's unit tests build in code.

Usage: extract.py SIGNATURE_LAYERS_RS OUTDIR, where SIGNATURE_LAYERS_RS is
src/cosign/signature_layers.rs of github.com/sigstore/sigstore-rs (commit in README.md).

`build_correct_signature_layer_with_certificate` holds a real production signature of
2021-10-20 as Cosign's legacy `.sig` layer carried it: the simple-signing payload, the
signature (`dev.cosignproject.cosign/signature`), the Fulcio certificate
(`dev.sigstore.cosign/certificate`) and the Rekor bundle (`dev.sigstore.cosign/bundle`, a
`rekord` 0.0.1 entry). Writes them byte for byte (the payload as serde_json writes the json!
value: keys sorted, no spaces) and checks that the payload's sha256 is the digest the Rekor
entry logged.
"""
import base64, hashlib, json, re, sys

source, out = sys.argv[1], sys.argv[2]
text = open(source, encoding="utf-8").read()
layer = text[text.index("fn build_correct_signature_layer_with_certificate"):]
bundle_fn = text[text.index("fn build_bundle()"):]

def json_block(code, start):
    """The JSON object of the json!({...}) macro after `start` (Rust json! is JSON here)."""
    begin = code.index("json!(", code.index(start)) + len("json!(")
    depth = 0
    for i, c in enumerate(code[begin:], begin):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0:
            return json.loads(code[begin:i + 1])
    raise SystemExit("unterminated json! block")

payload = json_block(layer, "let ss_value")
rekor = json_block(bundle_fn, "let bundle_value")
certificate = re.search(r'let cert_raw = r#"(.*?)"#;', layer, re.S).group(1)
signature = re.search(r'signature: Some\(String::from\(\s*"([^"]+)"', layer).group(1)

payload_bytes = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
body = json.loads(base64.b64decode(rekor["Payload"]["body"]))
logged = body["spec"]["data"]["hash"]["value"]
if hashlib.sha256(payload_bytes).hexdigest() != logged:
    raise SystemExit("the payload bytes are not what the Rekor entry logged")

files = {
    "payload.json": payload_bytes,
    "signature.b64": signature.encode(),
    "certificate.pem": certificate.encode() + b"\n",
    "rekor-bundle.json": json.dumps(rekor, separators=(",", ":")).encode(),
}
for name, data in files.items():
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)
print(f"payload sha256 {logged} (the rekord entry's); integratedTime {rekor['Payload']['integratedTime']}")
