//! Verifying attestations: DSSE envelopes holding in-toto statements about an image or file.

use std::fmt;
use std::sync::Arc;

use signet_core::cosign::BUNDLE_ANNOTATION;
use signet_core::digest::Digest;
use signet_core::dsse::{DSSE_MEDIA_TYPE, Envelope, EnvelopeError, IN_TOTO_PAYLOAD_TYPE};
use signet_core::intoto::{PredicateType, Statement, StatementError, SubjectMatch};

use crate::KeyVerifier;
use crate::bundle::{BundleFailure, BundlePolicy, BundleVerifier, FailureHint};
use crate::gather::{AttachmentEvidence, Unreadable};
use crate::judge::TlogPolicy;

/// The first check an attestation failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AttestationFailure {
    /// The layer is not a DSSE envelope.
    NotDsse {
        /// Its media type.
        media_type: String,
    },
    /// The envelope could not be read.
    Unavailable(Unreadable),
    /// The envelope is malformed.
    Envelope(EnvelopeError),
    /// The envelope does not hold an in-toto statement.
    WrongPayloadType(String),
    /// No signature of the envelope verifies over its PAE with the key.
    SignatureMismatch,
    /// The payload is not an in-toto statement.
    Statement(StatementError),
    /// No subject of the statement is the artifact.
    Subject(SubjectMatch),
    /// The statement's predicate type is not the one asked for.
    WrongPredicateType {
        /// What the statement has.
        found: String,
        /// What was asked for.
        wanted: String,
    },
    /// A transparency-log entry is required and none was verified.
    TlogRequired {
        /// Whether the layer carries a (not yet verifiable) Rekor bundle.
        has_bundle: bool,
    },
    /// The attestation's Sigstore material (certificate, Rekor entry, timestamps) failed a
    /// check.
    /// The failure's check, hint (e.g. an identity regex that matched only part of the
    /// certificate's identity) and detail (its source) are the bundle failure's.
    Sigstore(Arc<BundleFailure>),
}

impl AttestationFailure {
    /// What else the reader should know about this failure, if anything.
    pub fn hint(&self) -> Option<FailureHint> {
        match self {
            Self::Sigstore(failure) => failure.hint(),
            _ => None,
        }
    }

    /// A short, stable name for the failed check: the [`BundleCheck`](crate::bundle::BundleCheck) code for Sigstore
    /// checks, else one of `media-type`, `unavailable`, `envelope`, `payload-type`,
    /// `signature`, `statement`, `subject`, `predicate-type`, `tlog`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotDsse { .. } => "media-type",
            Self::Unavailable(_) => "unavailable",
            Self::Envelope(_) => "envelope",
            Self::WrongPayloadType(_) => "payload-type",
            Self::SignatureMismatch => "signature",
            Self::Statement(_) => "statement",
            Self::Subject(_) => "subject",
            Self::WrongPredicateType { .. } => "predicate-type",
            Self::TlogRequired { .. } => "tlog",
            Self::Sigstore(failure) => failure.check().code(),
        }
    }
}

impl fmt::Display for AttestationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDsse { media_type } => {
                write!(f, "layer media type is {media_type:?}, not {DSSE_MEDIA_TYPE}")
            }
            Self::Unavailable(why) => write!(f, "the envelope could not be read: {why}"),
            Self::Envelope(e) => e.fmt(f),
            Self::WrongPayloadType(t) => {
                write!(f, "the envelope's payload type is {t:?}, not {IN_TOTO_PAYLOAD_TYPE:?}")
            }
            Self::SignatureMismatch => f.write_str(
                "invalid signature: no signature of the envelope verifies over it with the given key",
            ),
            Self::Statement(e) => e.fmt(f),
            Self::Subject(SubjectMatch::Empty) => f.write_str("the statement has no subjects"),
            Self::Subject(SubjectMatch::NoSha256) => {
                f.write_str("no subject of the statement has a sha256 digest")
            }
            Self::Subject(SubjectMatch::NullSubject) => {
                f.write_str("the statement has a null subject")
            }
            Self::Subject(_) => f.write_str(
                "no subject of the statement is this artifact: the attestation belongs to another image or file",
            ),
            Self::WrongPredicateType { found, wanted } => {
                write!(f, "the predicate type is {found:?}, not {wanted:?}")
            }
            Self::TlogRequired { has_bundle: false } => f.write_str(
                "no transparency-log entry: the attestation was not uploaded to Rekor",
            ),
            Self::TlogRequired { has_bundle: true } => f.write_str(
                "the attestation carries a Rekor bundle, but no trusted root was given to check it against",
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

/// An attestation that passed every check. Only the verifier constructs these.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    index: usize,
    layer_digest: Option<Digest>,
    /// The stored envelope, or the decoded statement, as [`AttestationOptions::keep`] asked.
    kept: Vec<u8>,
    keep: Retained,
    predicate_type: String,
}

impl VerifiedAttestation {
    /// The layer's position in the attestation manifest.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The layer's digest (none for a file's attestation).
    pub fn layer_digest(&self) -> Option<&Digest> {
        self.layer_digest.as_ref()
    }

    /// The envelope exactly as stored; empty unless [`AttestationOptions::keep`] is
    /// [`Retained::Envelope`] (the default).
    pub fn envelope(&self) -> &[u8] {
        match self.keep {
            Retained::Envelope => &self.kept,
            Retained::Statement => &[],
        }
    }

    /// The in-toto statement (the envelope's decoded payload) whose signature verified; empty
    /// unless [`AttestationOptions::keep`] is [`Retained::Statement`].
    pub fn statement(&self) -> &[u8] {
        match self.keep {
            Retained::Statement => &self.kept,
            Retained::Envelope => &[],
        }
    }

    /// The statement's predicate type.
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }
}

/// An attestation that failed, and why.
#[derive(Debug, Clone)]
pub struct RejectedAttestation {
    /// The layer's position in the attestation manifest.
    pub index: usize,
    /// The layer's digest.
    pub layer_digest: Digest,
    /// The first check it failed.
    pub failure: AttestationFailure,
}

impl fmt::Display for RejectedAttestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attestation {} (layer {}): {}",
            self.index + 1,
            self.layer_digest,
            self.failure
        )
    }
}

/// The verdict on an image's attestations.
#[derive(Debug, Clone)]
pub struct AttestationReport {
    image: String,
    location: String,
    verified: Vec<VerifiedAttestation>,
    rejected: Vec<RejectedAttestation>,
    skipped_layers: usize,
}

impl AttestationReport {
    /// The image, pinned to its digest.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Attestations that passed every check.
    pub fn verified(&self) -> &[VerifiedAttestation] {
        &self.verified
    }

    /// Attestations that failed, each with its reason.
    pub fn rejected(&self) -> &[RejectedAttestation] {
        &self.rejected
    }

    /// True when at least one attestation passed every check.
    pub fn is_verified(&self) -> bool {
        !self.verified.is_empty()
    }

    /// Layers over the per-image limit, not considered.
    pub fn skipped_layers(&self) -> usize {
        self.skipped_layers
    }

    /// One line: how many passed, or why none did.
    pub fn summary(&self) -> String {
        let total = self.verified.len() + self.rejected.len();
        if self.is_verified() {
            format!(
                "{}: {} of {total} attestation(s) verified",
                self.image,
                self.verified.len()
            )
        } else if total == 0 {
            format!(
                "{}: no attestations found (looked in {})",
                self.image, self.location
            )
        } else {
            format!("{}: none of {total} attestation(s) qualified", self.image)
        }
    }
}

/// Checks one envelope against a key, the digest of the artifact it must be about, and an
/// optional predicate type; returns the statement's predicate type. Pure.
pub fn verify_blob_attestation(
    envelope: &[u8],
    key: &KeyVerifier,
    subject: &Digest,
    predicate_type: Option<&PredicateType>,
) -> Result<String, AttestationFailure> {
    check_envelope(envelope, key, subject, predicate_type).map(|(kind, _)| kind)
}

/// [`verify_blob_attestation`], keeping the decoded statement (moved out of the envelope, not
/// copied).
fn check_envelope(
    envelope: &[u8],
    key: &KeyVerifier,
    subject: &Digest,
    predicate_type: Option<&PredicateType>,
) -> Result<(String, Vec<u8>), AttestationFailure> {
    let envelope = Envelope::parse(envelope).map_err(AttestationFailure::Envelope)?;
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(AttestationFailure::WrongPayloadType(
            envelope.payload_type.chars().take(100).collect(),
        ));
    }
    if !envelope
        .signatures
        .iter()
        .any(|s| key.verifies_dsse(&envelope.payload_type, &envelope.payload, &s.sig))
    {
        return Err(AttestationFailure::SignatureMismatch);
    }
    let statement = Statement::parse(&envelope.payload).map_err(AttestationFailure::Statement)?;
    match statement.match_digest(subject) {
        SubjectMatch::Matches => {}
        other => return Err(AttestationFailure::Subject(other)),
    }
    if let Some(wanted) = predicate_type
        && statement.predicate_type != wanted.uri()
    {
        return Err(AttestationFailure::WrongPredicateType {
            found: statement.predicate_type.chars().take(200).collect(),
            wanted: wanted.uri().to_owned(),
        });
    }
    let kind = statement.predicate_type;
    Ok((kind, envelope.payload))
}

/// What the attestation judgement checks beyond signatures.
#[derive(Debug, Clone, Default)]
pub struct AttestationOptions {
    /// The predicate type every accepted statement must have, if any.
    pub predicate_type: Option<PredicateType>,
    /// Whether a transparency-log entry is required.
    pub tlog: TlogPolicy,
    /// What each verified attestation keeps: one copy, of what the caller reads (a 100 MiB
    /// SBOM is then held twice, as stored and as kept, not three times).
    pub keep: Retained,
}

/// What a [`VerifiedAttestation`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retained {
    /// The envelope as stored (to print it, as `verify-attestation` does).
    #[default]
    Envelope,
    /// The decoded statement (to check its predicate, as policies do).
    Statement,
}

/// Who must have made a legacy (`.att`) attestation.
#[derive(Debug, Clone, Copy)]
pub enum AttestationAuthority<'a> {
    /// A public key. With `log`, a required transparency-log entry (the layer's
    /// `dev.sigstore.cosign/bundle` annotation) is verified against that trusted root.
    Key {
        /// The key.
        key: &'a KeyVerifier,
        /// The trusted root Rekor entries are checked against, if any.
        log: Option<&'a BundleVerifier>,
    },
    /// A Fulcio certificate in the layer's annotations, with its Rekor entry, checked against
    /// `verifier`'s trusted root, and the identity `policy` names.
    Certificate {
        /// The trusted root.
        verifier: &'a BundleVerifier,
        /// The identity and issuer required.
        policy: &'a BundlePolicy,
    },
}

/// Decides each attestation in `evidence` against a key. Pure: no I/O, no clock.
pub fn judge_attestations(
    evidence: &AttachmentEvidence,
    key: &KeyVerifier,
    options: &AttestationOptions,
) -> AttestationReport {
    judge_attestations_with(
        evidence,
        AttestationAuthority::Key { key, log: None },
        options,
    )
}

/// Decides each attestation in `evidence` against `authority`. No I/O; the clock is read only
/// to refuse log entries integrated in the future.
pub fn judge_attestations_with(
    evidence: &AttachmentEvidence,
    authority: AttestationAuthority<'_>,
    options: &AttestationOptions,
) -> AttestationReport {
    let mut verified = Vec::new();
    let mut rejected = Vec::new();
    for layer in &evidence.layers {
        let outcome = (|| {
            if layer.layer.media_type != DSSE_MEDIA_TYPE {
                return Err(AttestationFailure::NotDsse {
                    media_type: layer.layer.media_type.chars().take(100).collect(),
                });
            }
            let content = layer
                .content
                .as_ref()
                .map_err(|why| AttestationFailure::Unavailable(why.clone()))?;
            let annotations = &layer.layer.annotations;
            let sigstore_failure = |e: BundleFailure| AttestationFailure::Sigstore(Arc::new(e));
            let (predicate_type, statement) = match authority {
                AttestationAuthority::Key { key, log } => {
                    let checked = check_envelope(
                        content,
                        key,
                        &evidence.digest,
                        options.predicate_type.as_ref(),
                    )?;
                    if options.tlog == TlogPolicy::Require {
                        let has_bundle = annotations.contains_key(BUNDLE_ANNOTATION);
                        let Some(log) = log.filter(|_| has_bundle) else {
                            return Err(AttestationFailure::TlogRequired { has_bundle });
                        };
                        log.verify_legacy_attestation(
                            annotations,
                            content,
                            &evidence.digest,
                            &BundlePolicy::Key(key.key().clone()),
                        )
                        .map_err(sigstore_failure)?;
                    }
                    checked
                }
                AttestationAuthority::Certificate { verifier, policy } => {
                    let envelope =
                        Envelope::parse(content).map_err(AttestationFailure::Envelope)?;
                    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
                        return Err(AttestationFailure::WrongPayloadType(
                            envelope.payload_type.chars().take(100).collect(),
                        ));
                    }
                    // Certificate, log entry, signature over the PAE and subject digest.
                    verifier
                        .verify_legacy_attestation(annotations, content, &evidence.digest, policy)
                        .map_err(sigstore_failure)?;
                    let statement = Statement::parse(&envelope.payload)
                        .map_err(AttestationFailure::Statement)?;
                    if let Some(wanted) = options.predicate_type.as_ref()
                        && statement.predicate_type != wanted.uri()
                    {
                        return Err(AttestationFailure::WrongPredicateType {
                            found: statement.predicate_type.chars().take(200).collect(),
                            wanted: wanted.uri().to_owned(),
                        });
                    }
                    let kind = statement.predicate_type;
                    (kind, envelope.payload)
                }
            };
            let kept = match options.keep {
                Retained::Envelope => {
                    // Freed before the copy, so that the two are never held at once.
                    drop(statement);
                    content.clone()
                }
                Retained::Statement => statement,
            };
            Ok((kept, predicate_type))
        })();
        match outcome {
            Ok((kept, predicate_type)) => verified.push(VerifiedAttestation {
                index: layer.index,
                layer_digest: Some(layer.layer.digest.clone()),
                kept,
                keep: options.keep,
                predicate_type,
            }),
            Err(failure) => rejected.push(RejectedAttestation {
                index: layer.index,
                layer_digest: layer.layer.digest.clone(),
                failure,
            }),
        }
    }
    AttestationReport {
        image: evidence.image.clone(),
        location: evidence.location.clone(),
        verified,
        rejected,
        skipped_layers: evidence.skipped_layers,
    }
}
