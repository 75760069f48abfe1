use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::{SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_core::digest::Digest;
use signet_core::payload::{COSIGN_SIGNATURE_TYPE, SimpleSigning};

use crate::KeyVerifier;
use crate::bundle::{BundleFailure, BundlePolicy, BundleVerifier, FailureHint, has_rekor_bundle};
use crate::gather::{AttachmentEvidence, LayerEvidence, Unreadable};

pub use crate::bundle::TlogPolicy;

/// What the judgement checks beyond the signature itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Annotations each accepted payload must carry with exactly these values.
    pub required_annotations: BTreeMap<String, String>,
    /// Whether a transparency-log entry is required.
    pub tlog: TlogPolicy,
}

/// The first check a signature failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SignatureFailure {
    /// The layer is not a simple-signing payload.
    NotSimpleSigning {
        /// Its media type.
        media_type: String,
    },
    /// The layer has no `dev.cosignproject.cosign/signature` annotation.
    MissingSignature,
    /// The signature annotation is not base64.
    MalformedSignature,
    /// The payload could not be read.
    PayloadUnavailable(Unreadable),
    /// The signature does not verify over the payload with the key.
    SignatureMismatch,
    /// The payload is not a simple-signing document.
    MalformedPayload(Arc<serde_json::Error>),
    /// The payload's `critical.type` is not Cosign's.
    WrongPayloadType(String),
    /// The payload signs another manifest (a signature copied from another image).
    DigestMismatch {
        /// What the payload claims.
        claimed: String,
        /// The image's digest.
        actual: Digest,
    },
    /// A required annotation is missing or has another value.
    AnnotationMismatch {
        /// The annotation.
        key: String,
        /// The required value.
        expected: String,
        /// The payload's value, if any.
        actual: Option<String>,
    },
    /// A transparency-log entry is required and none was verified.
    TlogRequired {
        /// Whether the signature carries a Rekor bundle (then a trusted root was missing).
        has_bundle: bool,
    },
    /// The signature's Sigstore material (certificate, Rekor entry, timestamps) failed a check.
    /// The failure's check, hint (e.g. an identity regex that matched only part of the
    /// certificate's identity) and detail (its source) are the bundle failure's.
    Sigstore(Arc<BundleFailure>),
}

impl SignatureFailure {
    /// What else the reader should know about this failure, if anything.
    pub fn hint(&self) -> Option<FailureHint> {
        match self {
            Self::Sigstore(failure) => failure.hint(),
            _ => None,
        }
    }

    /// A short, stable name for the failed check: the [`BundleCheck`](crate::bundle::BundleCheck) code for Sigstore
    /// checks, else one of `media-type`, `signature-annotation`, `signature-encoding`,
    /// `payload-unavailable`, `signature`, `payload`, `payload-type`, `digest`, `annotation`,
    /// `tlog`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSimpleSigning { .. } => "media-type",
            Self::MissingSignature => "signature-annotation",
            Self::MalformedSignature => "signature-encoding",
            Self::PayloadUnavailable(_) => "payload-unavailable",
            Self::SignatureMismatch => "signature",
            Self::MalformedPayload(_) => "payload",
            Self::WrongPayloadType(_) => "payload-type",
            Self::DigestMismatch { .. } => "digest",
            Self::AnnotationMismatch { .. } => "annotation",
            Self::TlogRequired { .. } => "tlog",
            Self::Sigstore(failure) => failure.check().code(),
        }
    }
}

impl fmt::Display for SignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSimpleSigning { media_type } => {
                write!(f, "layer media type is {media_type:?}, not {SIMPLE_SIGNING_MEDIA_TYPE}")
            }
            Self::MissingSignature => write!(f, "the layer has no {SIGNATURE_ANNOTATION} annotation"),
            Self::MalformedSignature => f.write_str("the signature annotation is not valid base64"),
            Self::PayloadUnavailable(why) => write!(f, "the payload could not be read: {why}"),
            Self::SignatureMismatch => {
                f.write_str("invalid signature: it does not verify over the payload with the given key")
            }
            Self::MalformedPayload(why) => write!(f, "the payload is not a simple-signing document: {why}"),
            Self::WrongPayloadType(t) => {
                write!(f, "the payload type is {t:?}, not {COSIGN_SIGNATURE_TYPE:?}")
            }
            Self::DigestMismatch { claimed, actual } => write!(
                f,
                "the payload signs {claimed}, not this image ({actual}): the signature belongs to another image"
            ),
            Self::AnnotationMismatch { key, expected, actual: Some(actual) } => {
                write!(f, "annotation {key} is {actual:?}, required {expected:?}")
            }
            Self::AnnotationMismatch { key, expected, actual: None } => {
                write!(f, "annotation {key} is missing, required {expected:?}")
            }
            Self::TlogRequired { has_bundle: false } => f.write_str(
                "no transparency-log entry: the signature was not uploaded to Rekor",
            ),
            Self::TlogRequired { has_bundle: true } => f.write_str(
                "the signature carries a Rekor bundle, but no trusted root was given to check it against",
            ),
            Self::Sigstore(failure) => {
                let check = failure.check();
                write!(f, "[{}] {check}: ", check.code())?;
                match std::error::Error::source(&**failure) {
                    Some(detail) => write!(f, "{detail}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A signature that passed every check. Only the verifier constructs these.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    index: usize,
    layer_digest: Digest,
    payload: Vec<u8>,
    claims: SimpleSigning,
    sigstore: SigstoreEvidence,
}

/// What a signature's verified Sigstore material established.
#[derive(Debug, Clone, Default)]
struct SigstoreEvidence {
    identity: Option<String>,
    issuer: Option<String>,
    integrated_time: Option<std::time::SystemTime>,
}

impl VerifiedSignature {
    /// The layer's position in the signature manifest.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The payload layer's digest.
    pub fn layer_digest(&self) -> &Digest {
        &self.layer_digest
    }

    /// The exact signed payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The parsed claims.
    pub fn claims(&self) -> &SimpleSigning {
        &self.claims
    }

    /// The verified certificate identity (SAN) of a keyless signature; `None` for a key.
    pub fn identity(&self) -> Option<&str> {
        self.sigstore.identity.as_deref()
    }

    /// The verified certificate's OIDC issuer of a keyless signature; `None` for a key.
    pub fn issuer(&self) -> Option<&str> {
        self.sigstore.issuer.as_deref()
    }

    /// When the transparency log integrated the signature, if its entry was verified.
    pub fn integrated_time(&self) -> Option<std::time::SystemTime> {
        self.sigstore.integrated_time
    }
}

/// A signature that failed, and the first check it failed.
#[derive(Debug, Clone)]
pub struct RejectedSignature {
    /// The layer's position in the signature manifest.
    pub index: usize,
    /// The payload layer's digest.
    pub layer_digest: Digest,
    /// Why it was rejected.
    pub failure: SignatureFailure,
}

impl fmt::Display for RejectedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signature {} (layer {}): {}",
            self.index + 1,
            self.layer_digest,
            self.failure
        )
    }
}

/// The verdict for one image.
#[derive(Debug, Clone)]
pub struct ImageReport {
    image: String,
    digest: Digest,
    signature_location: String,
    verified: Vec<VerifiedSignature>,
    rejected: Vec<RejectedSignature>,
    skipped_layers: usize,
}

impl ImageReport {
    /// The image, pinned to the verified digest.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The digest that was verified.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Where signatures were looked for.
    pub fn signature_location(&self) -> &str {
        &self.signature_location
    }

    /// Signatures that passed every check.
    pub fn verified(&self) -> &[VerifiedSignature] {
        &self.verified
    }

    /// Signatures that failed, each with its reason.
    pub fn rejected(&self) -> &[RejectedSignature] {
        &self.rejected
    }

    /// Signature layers over the per-image limit, not considered.
    pub fn skipped_layers(&self) -> usize {
        self.skipped_layers
    }

    /// True when at least one signature passed every check.
    pub fn is_verified(&self) -> bool {
        !self.verified.is_empty()
    }

    /// One line: how many signatures passed, or why none did.
    pub fn summary(&self) -> String {
        if self.is_verified() {
            format!(
                "{}: {} of {} signature(s) verified",
                self.image,
                self.verified.len(),
                self.verified.len() + self.rejected.len()
            )
        } else if self.rejected.is_empty() {
            format!(
                "{}: no signatures found (looked in {})",
                self.image, self.signature_location
            )
        } else {
            format!(
                "{}: none of {} signature(s) verified",
                self.image,
                self.rejected.len()
            )
        }
    }
}

/// Who must have made a legacy (`.sig`) signature.
#[derive(Debug, Clone, Copy)]
pub enum SignatureAuthority<'a> {
    /// A public key. With `log`, a required transparency-log entry (the layer's
    /// `dev.sigstore.cosign/bundle` annotation) is verified against that trusted root.
    Key {
        /// The key.
        key: &'a KeyVerifier,
        /// The trusted root Rekor entries are checked against, if any.
        log: Option<&'a BundleVerifier>,
    },
    /// A Fulcio certificate carried in the layer's annotations: its chain, SCT, Rekor entry
    /// and timestamps are checked against `verifier`'s trusted root, and its identity against
    /// `policy` (an identity policy, not a key).
    Certificate {
        /// The trusted root.
        verifier: &'a BundleVerifier,
        /// The identity and issuer required.
        policy: &'a BundlePolicy,
    },
}

/// Decides each signature in `evidence` against a key. Pure: no I/O, no clock.
pub fn judge(
    evidence: &AttachmentEvidence,
    key: &KeyVerifier,
    options: &CheckOptions,
) -> ImageReport {
    judge_with(
        evidence,
        SignatureAuthority::Key { key, log: None },
        options,
    )
}

/// Decides each signature in `evidence` against `authority`. No I/O; the clock is read only
/// to refuse log entries integrated in the future.
pub fn judge_with(
    evidence: &AttachmentEvidence,
    authority: SignatureAuthority<'_>,
    options: &CheckOptions,
) -> ImageReport {
    let mut verified = Vec::new();
    let mut rejected = Vec::new();
    for signature in &evidence.layers {
        match check_signature(signature, &evidence.digest, authority, options) {
            Ok((payload, claims, sigstore)) => verified.push(VerifiedSignature {
                index: signature.index,
                layer_digest: signature.layer.digest.clone(),
                payload,
                claims,
                sigstore,
            }),
            Err(failure) => rejected.push(RejectedSignature {
                index: signature.index,
                layer_digest: signature.layer.digest.clone(),
                failure,
            }),
        }
    }
    ImageReport {
        image: evidence.image.clone(),
        digest: evidence.digest.clone(),
        signature_location: evidence.location.clone(),
        verified,
        rejected,
        skipped_layers: evidence.skipped_layers,
    }
}

fn evidence_of(verified: &crate::bundle::VerifiedBundle) -> SigstoreEvidence {
    SigstoreEvidence {
        identity: verified.identity().map(str::to_owned),
        issuer: verified.issuer().map(str::to_owned),
        integrated_time: verified.integrated_time(),
    }
}

fn check_signature(
    signature: &LayerEvidence,
    digest: &Digest,
    authority: SignatureAuthority<'_>,
    options: &CheckOptions,
) -> Result<(Vec<u8>, SimpleSigning, SigstoreEvidence), SignatureFailure> {
    let layer = &signature.layer;
    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
        return Err(SignatureFailure::NotSimpleSigning {
            media_type: layer.media_type.chars().take(100).collect(),
        });
    }
    let encoded = layer
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or(SignatureFailure::MissingSignature)?;
    let raw_signature = STANDARD
        .decode(encoded.trim())
        .map_err(|_| SignatureFailure::MalformedSignature)?;
    let payload = signature
        .content
        .as_ref()
        .map_err(|why| SignatureFailure::PayloadUnavailable(why.clone()))?;
    let mut sigstore = SigstoreEvidence::default();
    match authority {
        SignatureAuthority::Key { key, .. } => {
            if !key.verifies(payload, &raw_signature) {
                return Err(SignatureFailure::SignatureMismatch);
            }
        }
        // The certificate, its identity, the log entry and the signature are all checked here.
        SignatureAuthority::Certificate { verifier, policy } => {
            let verified = verifier
                .verify_legacy(&layer.annotations, &raw_signature, payload, policy)
                .map_err(|e| SignatureFailure::Sigstore(Arc::new(e)))?;
            sigstore = evidence_of(&verified);
        }
    }
    let claims = serde_json::from_slice::<SimpleSigning>(payload)
        .map_err(|e| SignatureFailure::MalformedPayload(Arc::new(e)))?;
    if claims.critical.kind != COSIGN_SIGNATURE_TYPE {
        return Err(SignatureFailure::WrongPayloadType(
            claims.critical.kind.chars().take(100).collect(),
        ));
    }
    let claimed = &claims.critical.image.docker_manifest_digest;
    if *claimed != digest.to_string() {
        return Err(SignatureFailure::DigestMismatch {
            claimed: claimed.chars().take(200).collect(),
            actual: digest.clone(),
        });
    }
    let present = claims.string_annotations();
    for (key, expected) in &options.required_annotations {
        let actual = present.get(key);
        if actual != Some(expected) {
            return Err(SignatureFailure::AnnotationMismatch {
                key: key.clone(),
                expected: expected.clone(),
                actual: actual.cloned(),
            });
        }
    }
    if let SignatureAuthority::Key { key, log } = authority
        && options.tlog == TlogPolicy::Require
    {
        let has_bundle = has_rekor_bundle(&layer.annotations);
        let Some(log) = log.filter(|_| has_bundle) else {
            return Err(SignatureFailure::TlogRequired { has_bundle });
        };
        let policy = BundlePolicy::Key(key.key().clone());
        let verified = log
            .verify_legacy(&layer.annotations, &raw_signature, payload, &policy)
            .map_err(|e| SignatureFailure::Sigstore(Arc::new(e)))?;
        sigstore = evidence_of(&verified);
    }
    Ok((payload.clone(), claims, sigstore))
}
