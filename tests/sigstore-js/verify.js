// sigstore-js's verifier as a peer: node verify.js TRUSTED_ROOT BUNDLE IDENTITY ISSUER FILE
// Verifies a Sigstore bundle with @sigstore/verify (certificate chain, SCT, transparency log,
// timestamps, signature) for the given identity and OIDC issuer. For a message signature the
// FILE's bytes are the artifact; for a DSSE bundle the library does not look at subjects, so
// this script also requires the in-toto statement to name FILE's sha256 as a subject (FILE may
// also be `sha256:HEX`, the digest itself: an image's manifest digest).
// Prints "OK" and exits 0, or prints the failure and exits 1.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [rootPath, bundlePath, identity, issuer, file] = process.argv.slice(2);
try {
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const byDigest = file.startsWith('sha256:');
  const artifact = byDigest ? Buffer.alloc(0) : fs.readFileSync(file);
  const isDsse = bundle.content.$case === 'dsseEnvelope';
  const entity = toSignedEntity(bundle, isDsse ? undefined : artifact);
  const verifier = new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1 });
  verifier.verify(entity, { subjectAlternativeName: identity, extensions: { issuer } });
  if (isDsse) {
    const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
    const digest = byDigest
      ? file.slice('sha256:'.length)
      : crypto.createHash('sha256').update(artifact).digest('hex');
    const named = (statement.subject || []).some((s) => s.digest && s.digest.sha256 === digest);
    if (!named) throw new Error(`the statement has no subject with sha256 ${digest}`);
  }
  console.log('OK');
} catch (e) {
  console.log(`FAIL: ${e.code || ''} ${e.message}`);
  process.exit(1);
}
