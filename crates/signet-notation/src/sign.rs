//! Signing as `notation sign` does with a local key and certificate chain: scheme
//! `notary.x509`, a JWS or COSE envelope over the artifact's descriptor, and the signature
//! manifest that refers to the artifact.
//!
//! Only ECDSA keys sign here: signet-core's RSA keys sign PKCS#1 v1.5 (Cosign's padding),
//! and the Notary Project requires RSASSA-PSS. No timestamp is requested (that needs a TSA
//! over the network).

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use signet_core::keys::{KeyKind, PrivateKey};

use crate::certificate::{self, Certificate, Purpose};
use crate::check::{NotationCheck, NotationFailure, Outcome, fail};
use crate::envelope::{
    self, EnvelopeFormat, HEADER_EXPIRY, HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME,
    PAYLOAD_CONTENT_TYPE, SignatureAlgorithm,
};
use crate::payload::{self, TargetArtifact};

/// What to sign, and how.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// The artifact's descriptor.
    pub target: &'a TargetArtifact,
    /// Annotations signed into the payload (`--user-metadata`).
    pub annotations: &'a BTreeMap<String, String>,
    /// DER certificates, the signing certificate first and the root last.
    pub certificate_chain: &'a [Vec<u8>],
    /// The signing time written into the envelope (the certificates must be valid then).
    pub signing_time: SystemTime,
    /// An optional expiry.
    pub expiry: Option<SystemTime>,
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// The signing agent written unprotected, e.g. `signet/0.1.0`.
    pub signing_agent: &'a str,
}

/// An envelope ready to push, with what its manifest needs.
#[derive(Debug, Clone)]
pub struct SignedEnvelope {
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// The envelope bytes (the manifest's one layer).
    pub bytes: Vec<u8>,
    /// SHA-256 fingerprints of the chain (the thumbprint annotation).
    pub thumbprints: Vec<String>,
    /// The signing time, RFC 3339 (`org.opencontainers.image.created`).
    pub created: String,
}

impl SignedEnvelope {
    /// The signature manifest notation pushes: `artifactType`
    /// `application/vnd.cncf.notary.signature`, the empty config, the envelope as its layer,
    /// `subject` the artifact, and the thumbprint and creation annotations.
    pub fn manifest(&self, subject: &TargetArtifact) -> Vec<u8> {
        let layer_digest = signet_core::digest::Digest::sha256_of(&self.bytes);
        let thumbprints = serde_json::to_string(&self.thumbprints).unwrap_or_default();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": crate::SIGNATURE_ARTIFACT_TYPE,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": EMPTY_CONFIG_DIGEST,
                "size": 2,
                "data": "e30="
            },
            "layers": [{
                "mediaType": self.format.media_type(),
                "digest": layer_digest.to_string(),
                "size": self.bytes.len()
            }],
            "subject": {
                "mediaType": subject.media_type,
                "digest": subject.digest.to_string(),
                "size": subject.size
            },
            "annotations": {
                crate::THUMBPRINT_ANNOTATION: thumbprints,
                "org.opencontainers.image.created": self.created
            }
        });
        manifest.to_string().into_bytes()
    }
}

/// The digest of the empty JSON object `{}`, the config of OCI 1.1 artifacts.
pub const EMPTY_CONFIG_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Signs `request.target` with `key`, whose public key must be the signing certificate's.
pub fn sign(
    request: &SignRequest<'_>,
    key: &PrivateKey,
) -> Result<SignedEnvelope, NotationFailure> {
    let chain: Vec<Certificate> = request
        .certificate_chain
        .iter()
        .map(|der| {
            Certificate::from_der(der)
                .map_err(|e| NotationFailure::because(NotationCheck::CertificateChain, e))
        })
        .collect::<Result<_, _>>()?;
    certificate::check_chain(&chain, Purpose::CodeSigning)?;
    let signing_time = seconds(request.signing_time);
    let expiry = request.expiry.map(seconds);
    if expiry.is_some_and(|e| e <= signing_time) {
        return fail(
            NotationCheck::Expiry,
            "the expiry is not after the signing time",
        );
    }
    for c in &chain {
        if !c.valid_at(signing_time) {
            return fail(
                NotationCheck::CertificateValidity,
                format!(
                    "certificate {:?} is not valid at the signing time",
                    c.subject()
                ),
            );
        }
    }
    let leaf = &chain[0];
    let algorithm = leaf
        .key()
        .spec()
        .and_then(SignatureAlgorithm::for_key)
        .ok_or_else(|| NotationFailure::new(NotationCheck::Algorithm, leaf.key().describe()))?;
    let public = key
        .public_key()
        .map_err(|e| NotationFailure::because(NotationCheck::Algorithm, e))?;
    if public.spki_der() != leaf.spki_der().as_slice() {
        return fail(
            NotationCheck::Algorithm,
            "the key is not the signing certificate's key",
        );
    }
    let coordinate = match key.kind() {
        KeyKind::EcdsaP256 => 32,
        KeyKind::EcdsaP384 => 48,
        KeyKind::EcdsaP521 => 66,
        other => {
            return fail(
                NotationCheck::Algorithm,
                format!(
                    "signet signs Notary Project signatures with ECDSA keys; this is {other} (RSA would need RSASSA-PSS)"
                ),
            );
        }
    };
    let payload = payload::encode(request.target, request.annotations);
    let sign_fixed = |message: &[u8]| -> Outcome<Vec<u8>> {
        let der_signature = key
            .sign(message)
            .map_err(|e| NotationFailure::because(NotationCheck::Signature, e))?;
        ecdsa_der_to_fixed(&der_signature, coordinate)
    };
    let bytes = match request.format {
        EnvelopeFormat::Jws => {
            let mut protected = serde_json::Map::new();
            protected.insert("alg".into(), algorithm.jws_name().into());
            let mut critical = vec![HEADER_SIGNING_SCHEME];
            if expiry.is_some() {
                critical.push(HEADER_EXPIRY);
            }
            protected.insert("crit".into(), critical.into());
            protected.insert("cty".into(), PAYLOAD_CONTENT_TYPE.into());
            protected.insert(HEADER_SIGNING_SCHEME.into(), "notary.x509".into());
            protected.insert(
                HEADER_SIGNING_TIME.into(),
                envelope::format_rfc3339(signing_time).into(),
            );
            if let Some(expiry) = expiry {
                protected.insert(
                    HEADER_EXPIRY.into(),
                    envelope::format_rfc3339(expiry).into(),
                );
            }
            let protected_b64 =
                URL_SAFE_NO_PAD.encode(serde_json::Value::Object(protected).to_string());
            let payload_b64 = URL_SAFE_NO_PAD.encode(&payload);
            let signature = sign_fixed(format!("{protected_b64}.{payload_b64}").as_bytes())?;
            envelope::encode_flattened(
                &protected_b64,
                &payload_b64,
                &signature,
                request.certificate_chain,
                request.signing_agent,
            )
        }
        EnvelopeFormat::Cose => {
            let (protected, to_be_signed) = envelope::cose_protected_and_to_be_signed(
                algorithm,
                signing_time,
                expiry,
                &payload,
            );
            let signature = sign_fixed(&to_be_signed)?;
            envelope::encode_sign1(
                &protected,
                request.certificate_chain,
                request.signing_agent,
                &payload,
                &signature,
            )
        }
    };
    Ok(SignedEnvelope {
        format: request.format,
        bytes,
        thumbprints: chain.iter().map(Certificate::sha256_hex).collect(),
        created: envelope::format_rfc3339(signing_time),
    })
}

/// An ASN.1 `Ecdsa-Sig-Value` as the fixed-size `r || s` JWS and COSE use.
fn ecdsa_der_to_fixed(der_signature: &[u8], coordinate: usize) -> Outcome<Vec<u8>> {
    use der::Decode;
    #[derive(der::Sequence)]
    struct EcdsaSig<'a> {
        r: der::asn1::UintRef<'a>,
        s: der::asn1::UintRef<'a>,
    }
    let parsed = EcdsaSig::from_der(der_signature)
        .map_err(|e| NotationFailure::because(NotationCheck::Signature, e))?;
    let mut out = vec![0u8; coordinate * 2];
    for (i, part) in [parsed.r.as_bytes(), parsed.s.as_bytes()]
        .iter()
        .enumerate()
    {
        if part.len() > coordinate {
            return fail(NotationCheck::Signature, "an ECDSA integer is too long");
        }
        let end = (i + 1) * coordinate;
        out[end - part.len()..end].copy_from_slice(part);
    }
    Ok(out)
}
