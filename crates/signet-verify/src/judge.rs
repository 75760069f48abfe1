use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::{BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_core::digest::Digest;
use signet_core::payload::{COSIGN_SIGNATURE_TYPE, SimpleSigning};

use crate::KeyVerifier;
use crate::gather::{AttachmentEvidence, LayerEvidence};

/// Whether signatures must be in a transparency log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlogPolicy {
    /// Every accepted signature needs a verified transparency-log entry, as Cosign requires by
    /// default. signet cannot verify log entries yet, so under this policy no signature passes.
    #[default]
    Require,
    /// Accept signatures without a log entry (`--insecure-ignore-tlog=true`): nothing then
    /// shows when the signature was made or that it was made publicly.
    InsecureIgnore,
}

/// What the judgement checks beyond the signature itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Annotations each accepted payload must carry with exactly these values.
    pub required_annotations: BTreeMap<String, String>,
    /// Whether a transparency-log entry is required.
    pub tlog: TlogPolicy,
}

/// The first check a signature failed.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    PayloadUnavailable(String),
    /// The signature does not verify over the payload with the key.
    SignatureMismatch,
    /// The payload is not a simple-signing document.
    MalformedPayload(String),
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
        /// Whether the signature carries a (not yet verifiable) Rekor bundle.
        has_bundle: bool,
    },
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
                "no transparency-log entry: the signature was not uploaded to Rekor (pass --insecure-ignore-tlog=true to accept key-only signatures)",
            ),
            Self::TlogRequired { has_bundle: true } => f.write_str(
                "the signature carries a Rekor bundle, which this version of signet cannot verify yet (pass --insecure-ignore-tlog=true to skip the log check)",
            ),
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
}

/// A signature that failed, and the first check it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Decides each signature in `evidence`. Pure: no I/O, no clock.
pub fn judge(
    evidence: &AttachmentEvidence,
    key: &KeyVerifier,
    options: &CheckOptions,
) -> ImageReport {
    let mut verified = Vec::new();
    let mut rejected = Vec::new();
    for signature in &evidence.layers {
        match check_signature(signature, &evidence.digest, key, options) {
            Ok((payload, claims)) => verified.push(VerifiedSignature {
                index: signature.index,
                layer_digest: signature.layer.digest.clone(),
                payload,
                claims,
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

fn check_signature(
    signature: &LayerEvidence,
    digest: &Digest,
    key: &KeyVerifier,
    options: &CheckOptions,
) -> Result<(Vec<u8>, SimpleSigning), SignatureFailure> {
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
    if !key.verifies(payload, &raw_signature) {
        return Err(SignatureFailure::SignatureMismatch);
    }
    let claims = SimpleSigning::parse(payload).map_err(|e| {
        let detail = std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default();
        SignatureFailure::MalformedPayload(detail)
    })?;
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
    if options.tlog == TlogPolicy::Require {
        return Err(SignatureFailure::TlogRequired {
            has_bundle: layer.annotations.contains_key(BUNDLE_ANNOTATION),
        });
    }
    Ok((payload.clone(), claims))
}
