// sigstore-js's verdict on every row of the real-world index, as the reference for signet's.
//
//   node realworld.js DATA_DIR PRODUCTION_TRUSTED_ROOT > verdicts.tsv
//
// DATA_DIR is tests/data/realworld (its index.tsv lists the rows). For each row this prints
// `id <TAB> pass|fail <TAB> reason`: whether @sigstore/verify 4.1.3 (certificate chain, SCT,
// transparency log, timestamps, signature, identity) accepts the row's bundle, and then, as
// the library leaves it to its caller, whether the in-toto statement names the artifact (by
// any of sha256/sha384/sha512) and has the predicate type asked for. It reads the files as
// published, on its own: a bundle, JSON Lines, `{"attestations": [...]}` listings, PEP 740
// attestations and PyPI provenance (rebuilt as the bundle v0.3 pypi-attestations makes of
// them), and Cosign legacy layers (rebuilt as bundle v0.1 from their annotations).
//
// What sigstore-js does not check is not checked here: SLSA provenance contents
// (--builder-id, --source-*). Rows that differ from signet for that reason say so in their
// `divergence` column (docs/compatibility.md).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [dataDir, productionRoot] = process.argv.slice(2);
const ROOTS = {
  production: productionRoot,
  github: path.join(dataDir, 'sigstore-rust/sigstore-trust-root/trusted_root_github.json'),
};
const IN_TOTO = 'application/vnd.in-toto+json';
const TYPES = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
};

function parseFlags(text) {
  const flags = {};
  if (text === '-') return flags;
  for (const token of text.split(' ')) {
    const eq = token.indexOf('=');
    if (eq < 0) flags[token.slice(2)] = true;
    else flags[token.slice(2, eq)] = token.slice(eq + 1);
  }
  return flags;
}

// --- the files bundles are published in -------------------------------------------------
function pep740ToBundle(a) {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: a.verification_material.certificate },
      tlogEntries: a.verification_material.transparency_entries,
      timestampVerificationData: {
        rfc3161Timestamps: (a.verification_material.timestamps || []).map((t) => ({ signedTimestamp: t })),
      },
    },
    dsseEnvelope: {
      payload: a.envelope.statement,
      payloadType: IN_TOTO,
      signatures: [{ sig: a.envelope.signature, keyid: '' }],
    },
  };
}

function bundlesOf(value) {
  if (Array.isArray(value.attestations)) return value.attestations.map((e) => e.bundle);
  if (Array.isArray(value.attestation_bundles)) {
    return value.attestation_bundles.flatMap((g) => g.attestations.map(pep740ToBundle));
  }
  if (value.verification_material) return [pep740ToBundle(value)];
  return [value];
}

function readDocument(file) {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return bundlesOf(JSON.parse(text));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return text.split('\n').filter((l) => l.trim()).flatMap((l) => bundlesOf(JSON.parse(l)));
  }
}

// --- Cosign legacy layers as bundle v0.1 ------------------------------------------------
function legacyBundle(annotations, content) {
  const rekor = JSON.parse(annotations['dev.sigstore.cosign/bundle']);
  const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString('utf8'));
  const pems = (text) => (text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) || [])
    .map((pem) => new crypto.X509Certificate(pem));
  const certificates = [
    ...pems(annotations['dev.sigstore.cosign/certificate']),
    ...pems(annotations['dev.sigstore.cosign/chain'] || '').filter((c) => c.subject !== c.issuer),
  ].map((c) => ({ rawBytes: c.raw.toString('base64') }));
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates },
      tlogEntries: [{
        logIndex: String(rekor.Payload.logIndex),
        logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
        kindVersion: { kind: body.kind, version: body.apiVersion },
        integratedTime: String(rekor.Payload.integratedTime),
        inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
        canonicalizedBody: rekor.Payload.body,
      }],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
  };
  if (content.dsse) {
    const envelope = JSON.parse(content.dsse.toString('utf8'));
    bundle.dsseEnvelope = envelope;
  } else {
    bundle.messageSignature = {
      messageDigest: { algorithm: 'SHA2_256', digest: crypto.createHash('sha256').update(content.payload).digest('base64') },
      signature: annotations['dev.cosignproject.cosign/signature'],
    };
  }
  return bundle;
}

function layoutAttestations(dir) {
  const blob = (digest) => fs.readFileSync(path.join(dir, 'blobs', ...digest.split(':')));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const atts = index.manifests.find((m) => (m.annotations || {}).kind === 'dev.cosignproject.cosign/atts');
  const manifest = JSON.parse(blob(atts.digest).toString('utf8'));
  return manifest.layers.map((layer) => ({ annotations: layer.annotations, content: blob(layer.digest) }));
}

// --- one row ---------------------------------------------------------------------------
function digestsOf(row) {
  const artifact = row.artifact;
  if (/^sha(256|384|512):/.test(artifact) && !fs.existsSync(path.join(dataDir, artifact))) {
    const [alg, hex] = artifact.split(':');
    return { [alg]: hex };
  }
  const bytes = fs.readFileSync(path.join(dataDir, artifact));
  return Object.fromEntries(['sha256', 'sha384', 'sha512'].map((a) => [a, crypto.createHash(a).update(bytes).digest('hex')]));
}

function statementOf(bundle) {
  if (!bundle.dsseEnvelope) return null;
  if (bundle.dsseEnvelope.payloadType !== IN_TOTO) {
    throw new Error(`payload type ${bundle.dsseEnvelope.payloadType} is not an in-toto statement`);
  }
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

function verifyOne(json, row, flags, digests, types) {
  const statement = statementOf(json);
  if (types && statement && !types.includes(statement.predicateType)) {
    return { skipped: statement.predicateType };
  }
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(ROOTS[row.trusted_root], 'utf8')));
  let keys;
  if (flags.key) {
    const key = crypto.createPublicKey(fs.readFileSync(path.join(dataDir, flags.key)));
    keys = () => ({ publicKey: key, validFor: () => true });
  }
  const verifier = new Verifier(toTrustMaterial(root, keys), {
    tlogThreshold: flags['insecure-ignore-tlog'] ? 0 : 1,
    ctlogThreshold: flags['insecure-ignore-sct'] || flags.key ? 0 : 1,
  });
  const bundle = bundleFromJSON(json);
  const signer = verifier.verify(toSignedEntity(bundle));
  if (!flags.key) {
    const san = signer.identity && signer.identity.subjectAlternativeName;
    const issuer = (signer.identity && signer.identity.extensions && signer.identity.extensions.issuer) || '';
    const whole = (re) => new RegExp(`^(?:${re})$`);
    if (flags['certificate-identity'] !== undefined && san !== flags['certificate-identity']) {
      throw new Error(`identity ${san}`);
    }
    if (flags['certificate-identity-regexp'] !== undefined && !whole(flags['certificate-identity-regexp']).test(san || '')) {
      throw new Error(`identity ${san}`);
    }
    if (flags['certificate-oidc-issuer'] !== undefined && issuer !== flags['certificate-oidc-issuer']) {
      throw new Error(`issuer ${issuer}`);
    }
    if (flags['certificate-oidc-issuer-regexp'] !== undefined && !whole(flags['certificate-oidc-issuer-regexp']).test(issuer)) {
      throw new Error(`issuer ${issuer}`);
    }
  }
  if (statement) {
    const named = (statement.subject || []).some((s) => Object.entries(digests)
      .some(([alg, hex]) => s.digest && s.digest[alg] === hex));
    if (!named) throw new Error('no subject names the artifact');
  }
  return { ok: true };
}

function predicateTypes(row, flags) {
  if (row.command === 'bundle') return null;
  if (flags.type) return [TYPES[flags.type] || flags.type];
  if (flags['builder-id'] || flags['source-uri']) return [TYPES.slsaprovenance02, TYPES.slsaprovenance1];
  return [TYPES.custom];
}

function verdict(row) {
  const flags = parseFlags(row.flags);
  if (row.command === 'legacy-signature') {
    const dir = path.join(dataDir, row.bundle);
    const payload = fs.readFileSync(path.join(dir, 'payload.json'));
    const annotations = {
      'dev.cosignproject.cosign/signature': fs.readFileSync(path.join(dir, 'signature.b64'), 'utf8'),
      'dev.sigstore.cosign/certificate': fs.readFileSync(path.join(dir, 'certificate.pem'), 'utf8'),
      'dev.sigstore.cosign/bundle': fs.readFileSync(path.join(dir, 'rekor-bundle.json'), 'utf8'),
    };
    const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(ROOTS[row.trusted_root], 'utf8')));
    const verifier = new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: flags['insecure-ignore-sct'] ? 0 : 1 });
    verifier.verify(toSignedEntity(bundleFromJSON(legacyBundle(annotations, { payload })), payload));
    return 'pass';
  }
  const types = predicateTypes(row, flags);
  let candidates;
  let digests;
  if (row.command === 'legacy-attestation') {
    // The image the attestation is about: the digest the layout's `.digest` file names.
    const [layersFrom, annotationsFrom] = row.bundle.split('+');
    const layers = layoutAttestations(path.join(dataDir, layersFrom));
    const annotations = annotationsFrom ? layoutAttestations(path.join(dataDir, annotationsFrom)) : layers;
    candidates = layers.map((l, i) => legacyBundle(annotations[i].annotations, { dsse: l.content }));
    const [alg, hex] = row.digest.split(':');
    digests = { [alg]: hex };
  } else {
    digests = digestsOf(row);
    candidates = readDocument(path.join(dataDir, row.bundle));
  }
  let firstError = null;
  const skipped = [];
  for (const candidate of candidates) {
    try {
      const result = verifyOne(candidate, row, flags, digests, types);
      if (result.ok) return 'pass';
      skipped.push(result.skipped);
    } catch (e) {
      if (!firstError) firstError = e;
    }
  }
  throw firstError || new Error(`no attestation of type ${types}; found ${skipped}`);
}

const lines = fs.readFileSync(path.join(dataDir, 'index.tsv'), 'utf8').split('\n').filter((l) => l.trim());
const header = lines[0].split('\t');
for (const line of lines.slice(1)) {
  const row = Object.fromEntries(line.split('\t').map((v, i) => [header[i], v]));
  let result;
  try {
    result = `${verdict(row)}\t-`;
  } catch (e) {
    const reason = `${e.code ? `${e.code} ` : ''}${e.message}`.replace(/[\t\n\r]+/g, ' ').slice(0, 160);
    result = `fail\t${reason}`;
  }
  console.log(`${row.id}\t${result}`);
}
