//! One call per question about a file: "does this attestation bundle say, signed by …, that
//! this file has predicate type T". The signature over a file in a bundle is
//! [`BundleVerifier::verify`]; the blob attestation checks the same bundle, then the statement
//! it signs.

use signet_core::digest::Digest;
use signet_core::intoto::{PredicateType, Statement, StatementError};

use crate::Authority;
use crate::bundle::{Artifact, BundleFailure, BundleVerifier, VerifiedBundle};

/// The payload type of a DSSE envelope holding an in-toto statement.
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why a file's attestation bundle was refused: the first check it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileAttestationFailure {
    /// The bundle failed a Sigstore check (certificate, identity, log, signature, subject…).
    #[error(transparent)]
    Bundle(BundleFailure),
    /// The bundle signs a message, not a DSSE envelope.
    #[error("the bundle holds a message signature, not an attestation (DSSE envelope)")]
    NotAnAttestation,
    /// The DSSE envelope's payload is not an in-toto statement.
    #[error("the payload type is {0:?}, not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})")]
    NotInToto(String),
    /// The statement cannot be parsed.
    #[error("the statement cannot be read: {0}")]
    Statement(#[source] StatementError),
    /// The statement has another predicate type.
    #[error("the predicate type is {found:?}, not {wanted:?}")]
    PredicateType {
        /// What the statement has.
        found: String,
        /// What was asked for.
        wanted: String,
    },
}

impl FileAttestationFailure {
    /// A short, stable name for the failed check: the bundle check's code, else
    /// `not-an-attestation`, `payload-type`, `statement`, `predicate-type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Bundle(failure) => failure.check().code(),
            Self::NotAnAttestation => "not-an-attestation",
            Self::NotInToto(_) => "payload-type",
            Self::Statement(_) => "statement",
            Self::PredicateType { .. } => "predicate-type",
        }
    }

    /// Whether this is a failure to find out (unreadable trusted root or artifact) rather than
    /// a refusal.
    pub fn is_operational(&self) -> bool {
        matches!(self, Self::Bundle(failure) if failure.check().is_operational())
    }
}

/// A file attestation that passed every check. Only [`check_file_attestation`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedFileAttestation {
    bundle: VerifiedBundle,
    predicate_type: String,
}

impl VerifiedFileAttestation {
    /// The verified bundle (identity, issuer, signing times, the statement).
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.bundle
    }

    /// The statement's predicate type.
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }
}

/// Does `bundle` attest, signed by `authority`, that the file with digest `subject` has
/// `predicate_type`? The bundle is verified offline against the authority's trusted root
/// (a key authority without one cannot check a bundle: `None` then), then the statement it
/// signs is read and its predicate type compared.
pub fn check_file_attestation(
    bundle: &[u8],
    subject: &Digest,
    authority: &Authority,
    predicate_type: &PredicateType,
) -> Option<Result<VerifiedFileAttestation, FileAttestationFailure>> {
    let (verifier, policy) = authority.bundle_policy()?;
    Some(judge_file_attestation(
        verifier,
        bundle,
        subject,
        &policy,
        predicate_type,
    ))
}

fn judge_file_attestation(
    verifier: &BundleVerifier,
    bundle: &[u8],
    subject: &Digest,
    policy: &crate::bundle::BundlePolicy,
    predicate_type: &PredicateType,
) -> Result<VerifiedFileAttestation, FileAttestationFailure> {
    let verified = verifier
        .verify(bundle, Artifact::Digest(subject), policy)
        .map_err(FileAttestationFailure::Bundle)?;
    let (payload_type, payload) = verified
        .dsse_payload()
        .ok_or(FileAttestationFailure::NotAnAttestation)?;
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(FileAttestationFailure::NotInToto(
            payload_type.chars().take(100).collect(),
        ));
    }
    let statement = Statement::parse(payload).map_err(FileAttestationFailure::Statement)?;
    if statement.predicate_type != predicate_type.uri() {
        return Err(FileAttestationFailure::PredicateType {
            found: statement.predicate_type.chars().take(200).collect(),
            wanted: predicate_type.uri().to_owned(),
        });
    }
    let found = statement.predicate_type.to_owned();
    Ok(VerifiedFileAttestation {
        bundle: verified,
        predicate_type: found,
    })
}
