//! Cosign's legacy Sigstore annotations on a `.sig` layer, rewritten as the Sigstore bundle
//! v0.1 they amount to, so that one verifier checks both formats.
//!
//! A keyless legacy signature carries its certificate (`dev.sigstore.cosign/certificate`), the
//! rest of the chain (`dev.sigstore.cosign/chain`), the Rekor signed entry timestamp with the
//! entry it signs (`dev.sigstore.cosign/bundle`) and optionally an RFC 3161 timestamp
//! (`dev.sigstore.cosign/rfc3161timestamp`). A bundle v0.1 holds exactly that: a certificate
//! chain, a tlog entry with an inclusion promise and no inclusion proof, timestamps, and a
//! message signature over the payload. Verifying the bundle then checks what Cosign checks
//! for the legacy format: the chain to a Fulcio CA at the integrated time, the SCT, the SET
//! against a Rekor key of the trusted root, the entry body against the signature, certificate
//! and payload digest, and the signature over the payload.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use signet_core::cosign::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION,
};
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::dsse::Envelope;
use signet_core::rekor_annotations::{MAX_ANNOTATION_BYTES, RekorBundle, Rfc3161Timestamp};
use x509_cert::der::Decode;

use super::{BundleCheck, BundleFailure};

/// The bundle v0.1 media type.
const BUNDLE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

/// Certificates read from the chain annotation, at most (Fulcio's chains have 1 or 2).
const MAX_CHAIN_CERTIFICATES: usize = 10;

/// What the signature's key is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegacyMaterial {
    /// A Fulcio certificate in the layer's annotations.
    Certificate,
    /// The verifier's public key (the bundle carries an empty key hint).
    Key,
}

/// Whether a layer carries a Rekor bundle annotation.
pub(crate) fn has_rekor_bundle(annotations: &BTreeMap<String, String>) -> bool {
    annotations.contains_key(BUNDLE_ANNOTATION)
}

/// What a legacy layer signs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LegacyContent<'a> {
    /// A `.sig` layer: `signature` (raw bytes, the `dev.cosignproject.cosign/signature`
    /// annotation decoded) over `payload` (the simple-signing document).
    Message {
        /// The raw signature.
        signature: &'a [u8],
        /// The signed bytes.
        payload: &'a [u8],
    },
    /// An `.att` layer: the DSSE envelope itself (the signature is inside), parsed from
    /// `layer`, the layer's bytes as pushed (what an `intoto` 0.0.1 entry hashes).
    Dsse {
        /// The parsed envelope.
        envelope: &'a Envelope,
        /// The layer's bytes.
        layer: &'a [u8],
    },
}

/// The Sigstore bundle v0.1 equivalent to a legacy signature or attestation layer with the
/// layer's `annotations`. Fails with [`BundleCheck::Material`] when the annotations `material`
/// needs are missing, [`BundleCheck::Parse`] when one does not decode.
pub(crate) fn bundle_from_annotations(
    annotations: &BTreeMap<String, String>,
    content: LegacyContent<'_>,
    material: LegacyMaterial,
) -> Result<Vec<u8>, BundleFailure> {
    let rekor_text = annotations.get(BUNDLE_ANNOTATION).ok_or_else(|| {
        BundleFailure::new(
            BundleCheck::Material,
            format!("the signature has no {BUNDLE_ANNOTATION} annotation: it was not recorded in a transparency log"),
        )
    })?;
    let rekor = RekorBundle::parse(rekor_text).map_err(|e| parse_failure(BUNDLE_ANNOTATION, &e))?;
    let kind = rekor
        .entry_kind()
        .map_err(|e| parse_failure(BUNDLE_ANNOTATION, &e))?;
    if let LegacyContent::Dsse { layer, .. } = content
        && kind.kind == "intoto"
        && kind.api_version == "0.0.1"
    {
        check_intoto_envelope_hash(&rekor.body, layer)?;
    }

    let verification_content = match material {
        LegacyMaterial::Key => json!({"publicKey": {"hint": ""}}),
        LegacyMaterial::Certificate => {
            let leaf = annotations.get(CERTIFICATE_ANNOTATION).ok_or_else(|| {
                BundleFailure::new(
                    BundleCheck::Material,
                    format!("the signature has no {CERTIFICATE_ANNOTATION} annotation: it was made with a key, not keylessly"),
                )
            })?;
            let mut certificates = certificates_from_pem(CERTIFICATE_ANNOTATION, leaf)?;
            if certificates.len() != 1 {
                return Err(BundleFailure::new(
                    BundleCheck::Material,
                    format!(
                        "the {CERTIFICATE_ANNOTATION} annotation holds {} certificates, not one",
                        certificates.len()
                    ),
                ));
            }
            if let Some(chain) = annotations.get(CHAIN_ANNOTATION) {
                // Cosign's chain usually ends with the root. Trust comes only from the
                // trusted root, so self-issued certificates are left out rather than trusted.
                for der in certificates_from_pem(CHAIN_ANNOTATION, chain)? {
                    if !is_self_issued(&der)? {
                        certificates.push(der);
                    }
                }
            }
            let certificates: Vec<_> = certificates
                .iter()
                .map(|der| json!({"rawBytes": STANDARD.encode(der)}))
                .collect();
            json!({"x509CertificateChain": {"certificates": certificates}})
        }
    };

    let mut timestamps = Vec::new();
    if let Some(text) = annotations.get(RFC3161_TIMESTAMP_ANNOTATION) {
        let timestamp = Rfc3161Timestamp::parse(text)
            .map_err(|e| parse_failure(RFC3161_TIMESTAMP_ANNOTATION, &e))?;
        timestamps.push(json!({"signedTimestamp": STANDARD.encode(timestamp.signed_timestamp)}));
    }

    let mut verification_material = json!({
        "tlogEntries": [{
            "logIndex": rekor.log_index.to_string(),
            "logId": {"keyId": STANDARD.encode(rekor.log_id_bytes())},
            "kindVersion": {"kind": kind.kind, "version": kind.api_version},
            "integratedTime": rekor.integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": STANDARD.encode(&rekor.signed_entry_timestamp)},
            "canonicalizedBody": STANDARD.encode(&rekor.body),
        }],
        "timestampVerificationData": {"rfc3161Timestamps": timestamps},
    });
    if let (Some(target), Some(content)) = (
        verification_material.as_object_mut(),
        verification_content.as_object(),
    ) {
        for (field, value) in content {
            target.insert(field.clone(), value.clone());
        }
    }
    let mut bundle = json!({
        "mediaType": BUNDLE_V0_1,
        "verificationMaterial": verification_material,
    });
    let (field, value) = match content {
        LegacyContent::Message { signature, payload } => {
            let digest = MessageDigest::of(DigestAlgorithm::Sha256, payload);
            (
                "messageSignature",
                json!({
                    "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest.as_bytes())},
                    "signature": STANDARD.encode(signature),
                }),
            )
        }
        LegacyContent::Dsse { envelope, .. } => {
            let [signature] = envelope.signatures.as_slice() else {
                return Err(BundleFailure::new(
                    BundleCheck::Material,
                    format!(
                        "the envelope has {} signatures; a keyless or logged attestation has one",
                        envelope.signatures.len()
                    ),
                ));
            };
            (
                "dsseEnvelope",
                json!({
                    "payload": STANDARD.encode(&envelope.payload),
                    "payloadType": envelope.payload_type,
                    "signatures": [{"sig": STANDARD.encode(&signature.sig), "keyid": signature.keyid}],
                }),
            )
        }
    };
    if let Some(object) = bundle.as_object_mut() {
        object.insert(field.to_owned(), value);
    }
    serde_json::to_vec(&bundle)
        .map_err(|e| BundleFailure::new(BundleCheck::Parse, format!("writing the bundle: {e}")))
}

/// An `intoto` 0.0.1 entry logs the sha256 of the envelope as submitted, which is the `.att`
/// layer byte for byte (Cosign compares the two the same way). A bundle cannot carry those
/// bytes, so this is checked here, before the layer becomes a bundle; the entry's payload
/// hash and key are checked with the bundle.
fn check_intoto_envelope_hash(body: &[u8], layer: &[u8]) -> Result<(), BundleFailure> {
    #[derive(serde::Deserialize)]
    struct Body {
        spec: Spec,
    }
    #[derive(serde::Deserialize)]
    struct Spec {
        content: Content,
    }
    #[derive(serde::Deserialize)]
    struct Content {
        hash: Hash,
    }
    #[derive(serde::Deserialize)]
    struct Hash {
        algorithm: String,
        value: String,
    }
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        BundleFailure::new(
            BundleCheck::TlogEntry,
            format!("the intoto 0.0.1 entry has no readable envelope hash: {e}"),
        )
    })?;
    let hash = body.spec.content.hash;
    let layer_hash = MessageDigest::of(DigestAlgorithm::Sha256, layer);
    let hex: String = layer_hash
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if hash.algorithm != "sha256" || !hash.value.eq_ignore_ascii_case(&hex) {
        return Err(BundleFailure::new(
            BundleCheck::TlogEntry,
            format!(
                "the intoto entry logs envelope {}:{}, but the layer is sha256:{hex}",
                hash.algorithm, hash.value
            ),
        ));
    }
    Ok(())
}

fn parse_failure(annotation: &str, error: &signet_core::Error) -> BundleFailure {
    BundleFailure::new(
        BundleCheck::Parse,
        format!("the {annotation} annotation does not decode: {error}"),
    )
}

fn certificates_from_pem(annotation: &str, text: &str) -> Result<Vec<Vec<u8>>, BundleFailure> {
    if text.len() > MAX_ANNOTATION_BYTES {
        return Err(BundleFailure::new(
            BundleCheck::TooLarge,
            format!("the {annotation} annotation is larger than {MAX_ANNOTATION_BYTES} bytes"),
        ));
    }
    let blocks = pem::parse_many(text).map_err(|e| {
        BundleFailure::new(
            BundleCheck::CertificateChain,
            format!("the {annotation} annotation is not PEM: {e}"),
        )
    })?;
    if blocks.len() > MAX_CHAIN_CERTIFICATES {
        return Err(BundleFailure::new(
            BundleCheck::CertificateChain,
            format!(
                "the {annotation} annotation holds {} certificates, more than {MAX_CHAIN_CERTIFICATES}",
                blocks.len()
            ),
        ));
    }
    blocks
        .into_iter()
        .map(|block| {
            if block.tag() == "CERTIFICATE" {
                Ok(block.into_contents())
            } else {
                Err(BundleFailure::new(
                    BundleCheck::CertificateChain,
                    format!(
                        "the {annotation} annotation holds a {:?} PEM block, not a CERTIFICATE",
                        block.tag()
                    ),
                ))
            }
        })
        .collect()
}

fn is_self_issued(der: &[u8]) -> Result<bool, BundleFailure> {
    let certificate = x509_cert::Certificate::from_der(der).map_err(|e| {
        BundleFailure::new(
            BundleCheck::CertificateChain,
            format!("a certificate of the {CHAIN_ANNOTATION} annotation does not parse: {e}"),
        )
    })?;
    Ok(certificate.tbs_certificate.subject == certificate.tbs_certificate.issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const REKOR: &str = r#"{"SignedEntryTimestamp":"MEUCIQDx","Payload":{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIn0=","integratedTime":1690000000,"logIndex":25579,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}"#;

    #[test]
    fn a_key_signature_with_a_rekor_bundle_becomes_a_v0_1_bundle() {
        let json = bundle_from_annotations(
            &annotations(&[(BUNDLE_ANNOTATION, REKOR)]),
            LegacyContent::Message {
                signature: b"sig",
                payload: b"payload",
            },
            LegacyMaterial::Key,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let value: serde_json::Value =
            serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["mediaType"], BUNDLE_V0_1);
        let entry = &value["verificationMaterial"]["tlogEntries"][0];
        assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
        assert_eq!(entry["integratedTime"], "1690000000");
        assert_eq!(entry["logIndex"], "25579");
        assert_eq!(value["verificationMaterial"]["publicKey"]["hint"], "");
        assert_eq!(
            value["messageSignature"]["signature"],
            STANDARD.encode(b"sig")
        );
    }

    #[test]
    fn missing_or_broken_annotations_name_the_check() {
        let check = |pairs: &[(&str, &str)], material| {
            let content = LegacyContent::Message {
                signature: b"s",
                payload: b"p",
            };
            bundle_from_annotations(&annotations(pairs), content, material)
                .map(|_| ())
                .map_err(|e| e.check())
        };
        assert_eq!(check(&[], LegacyMaterial::Key), Err(BundleCheck::Material));
        assert_eq!(
            check(&[(BUNDLE_ANNOTATION, REKOR)], LegacyMaterial::Certificate),
            Err(BundleCheck::Material)
        );
        assert_eq!(
            check(&[(BUNDLE_ANNOTATION, "{")], LegacyMaterial::Key),
            Err(BundleCheck::Parse)
        );
        assert_eq!(
            check(
                &[
                    (BUNDLE_ANNOTATION, REKOR),
                    (CERTIFICATE_ANNOTATION, "no PEM block here")
                ],
                LegacyMaterial::Certificate
            ),
            Err(BundleCheck::Material)
        );
        let key_block = "-----BEGIN PUBLIC KEY-----\nMAo=\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            check(
                &[
                    (BUNDLE_ANNOTATION, REKOR),
                    (CERTIFICATE_ANNOTATION, key_block)
                ],
                LegacyMaterial::Certificate
            ),
            Err(BundleCheck::CertificateChain)
        );
    }
}
