//! Rekor v1 entry kinds older clients wrote: `rekord` 0.0.1 and `intoto` 0.0.1 (signet patch).
//!
//! Cosign signed with `rekord` entries until hashedrekord replaced them (2021-era signatures),
//! and recorded attestations (`.att` layers, slsa-github-generator's container provenance
//! until 2023) as `intoto` 0.0.1. Their bodies are checked against the bundle as the kinds
//! upstream supports are, so that a valid entry for other materials cannot ride along
//! (CVE-2022-36056):
//!
//! - `rekord`: the logged artifact digest, signature and public key (or certificate) must be
//!   the artifact's, the bundle's signature and the bundle's key.
//! - `intoto`: the logged payload hash must be the envelope payload's, and the logged key (or
//!   certificate) the bundle's. The entry records no signature, only a hash of the envelope
//!   as submitted, which a bundle cannot reproduce byte for byte; a caller holding those bytes
//!   (a Cosign `.att` layer) compares that hash itself. An entry without `payloadHash` (Rekor
//!   before late 2022) cannot be bound to a bundle's envelope and is refused.

use crate::artifact::PreparedArtifact;
use crate::error::{Error, Result};
use base64::Engine;
use serde::Deserialize;
use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{Bundle, DerCertificate, DerPublicKey, TransparencyLogEntry};
use x509_cert::der::{Decode, Encode};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<Spec> {
    api_version: String,
    kind: String,
    spec: Spec,
}

#[derive(Deserialize)]
struct LoggedHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
struct RekordSpec {
    data: RekordData,
    signature: RekordSignature,
}

#[derive(Deserialize)]
struct RekordData {
    hash: Option<LoggedHash>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekordSignature {
    content: String,
    format: String,
    public_key: RekordPublicKey,
}

#[derive(Deserialize)]
struct RekordPublicKey {
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSpec {
    content: IntotoContent,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent {
    #[serde(default)]
    payload_hash: Option<LoggedHash>,
}

fn parse_body<Spec: serde::de::DeserializeOwned>(
    entry: &TransparencyLogEntry,
    kind: &str,
) -> Result<Spec> {
    let body: Body<Spec> = serde_json::from_slice(entry.canonicalized_body.as_bytes())
        .map_err(|e| Error::malformed_entry(format!("failed to parse the {kind} body: {e}")))?;
    if body.kind != kind || body.api_version != "0.0.1" {
        return Err(Error::malformed_entry(format!(
            "the entry says {kind} 0.0.1 but its body is {} {}",
            body.kind, body.api_version
        )));
    }
    Ok(body.spec)
}

fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::malformed_entry(format!("{field} is not base64: {e}")))
}

/// The logged verifier (a PEM certificate or public key, base64-encoded) as a public key.
fn logged_public_key(field: &str, base64_pem: &str) -> Result<DerPublicKey> {
    let pem = decode_base64(field, base64_pem)?;
    let pem = std::str::from_utf8(&pem)
        .map_err(|e| Error::malformed_entry(format!("{field} is not PEM text: {e}")))?;
    match DerCertificate::from_pem(pem) {
        Ok(certificate) => certificate_public_key(&certificate),
        Err(_) => DerPublicKey::from_pem(pem).map_err(|e| {
            Error::malformed_entry(format!("{field} is neither a certificate nor a key: {e}"))
        }),
    }
}

fn certificate_public_key(certificate: &DerCertificate) -> Result<DerPublicKey> {
    let certificate = x509_cert::Certificate::from_der(certificate.as_bytes())
        .map_err(|e| Error::cert_malformed(format!("failed to parse a certificate: {e}")))?;
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| Error::cert_malformed(format!("failed to encode a public key: {e}")))?;
    Ok(DerPublicKey::new(spki))
}

/// The bundle's signing key: its certificate's, or the managed key the caller verifies with.
fn bundle_public_key(bundle: &Bundle, managed_key: Option<&DerPublicKey>) -> Result<DerPublicKey> {
    match &bundle.verification_material.content {
        VerificationMaterialContent::X509CertificateChain { certificates } => {
            let leaf = certificates
                .first()
                .ok_or_else(|| Error::InvalidBundle("bundle certificate chain is empty".into()))?;
            certificate_public_key(&leaf.raw_bytes)
        }
        VerificationMaterialContent::Certificate(certificate) => {
            certificate_public_key(&certificate.raw_bytes)
        }
        VerificationMaterialContent::PublicKey(_) => managed_key.cloned().ok_or_else(|| {
            Error::entry_mismatch(
                "the Rekor entry cannot be bound without the managed public key".into(),
            )
        }),
        _ => Err(Error::UnsupportedBundle(
            "unsupported bundle verification material".into(),
        )),
    }
}

fn logged_sha256(field: &str, hash: &LoggedHash) -> Result<Vec<u8>> {
    if !hash.algorithm.eq_ignore_ascii_case("sha256") {
        return Err(Error::UnsupportedBundle(format!(
            "{field} uses {}, not sha256",
            hash.algorithm
        )));
    }
    hex::decode(&hash.value)
        .map_err(|e| Error::malformed_entry(format!("{field} is not hex: {e}")))
}

/// A `rekord` 0.0.1 entry for a message signature.
pub(crate) fn verify_rekord_v001(
    entry: &TransparencyLogEntry,
    signature: &sigstore_types::bundle::MessageSignature,
    bundle: &Bundle,
    artifact: &PreparedArtifact<'_>,
    managed_key: Option<&DerPublicKey>,
) -> Result<()> {
    let spec: RekordSpec = parse_body(entry, "rekord")?;
    if spec.signature.format != "x509" {
        return Err(Error::UnsupportedBundle(format!(
            "rekord signature format {:?} (only x509 keys and certificates are verified)",
            spec.signature.format
        )));
    }
    let hash = spec.data.hash.as_ref().ok_or_else(|| {
        Error::entry_mismatch("the rekord entry records no artifact digest".into())
    })?;
    let logged = logged_sha256("spec.data.hash", hash)?;
    if artifact.sha256()?.as_bytes() != logged.as_slice() {
        return Err(Error::entry_mismatch(
            "the artifact digest in the rekord entry is not the artifact's".into(),
        ));
    }
    let logged_signature = decode_base64("spec.signature.content", &spec.signature.content)?;
    if logged_signature != signature.signature.as_bytes() {
        return Err(Error::entry_mismatch(
            "the signature in the rekord entry is not the bundle's".into(),
        ));
    }
    let logged_key = logged_public_key(
        "spec.signature.publicKey.content",
        &spec.signature.public_key.content,
    )?;
    if logged_key != bundle_public_key(bundle, managed_key)? {
        return Err(Error::entry_mismatch(
            "the key in the rekord entry is not the bundle's signing key".into(),
        ));
    }
    Ok(())
}

/// An `intoto` 0.0.1 entry for a DSSE envelope.
pub(crate) fn verify_intoto_v001(
    entry: &TransparencyLogEntry,
    envelope: &sigstore_types::DsseEnvelope,
    bundle: &Bundle,
    managed_key: Option<&DerPublicKey>,
) -> Result<()> {
    let spec: IntotoSpec = parse_body(entry, "intoto")?;
    let hash = spec.content.payload_hash.as_ref().ok_or_else(|| {
        Error::entry_mismatch(
            "the intoto 0.0.1 entry records no payload hash, so it cannot be bound to the envelope"
                .into(),
        )
    })?;
    let logged = logged_sha256("spec.content.payloadHash", hash)?;
    if sigstore_crypto::sha256(envelope.payload.as_bytes()).as_bytes() != logged.as_slice() {
        return Err(Error::entry_mismatch(
            "the payload hash in the intoto entry is not the envelope payload's".into(),
        ));
    }
    let logged_key = logged_public_key("spec.publicKey", &spec.public_key)?;
    if logged_key != bundle_public_key(bundle, managed_key)? {
        return Err(Error::entry_mismatch(
            "the key in the intoto entry is not the bundle's signing key".into(),
        ));
    }
    Ok(())
}
