//! One call per question about a file: "does this attestation file say, signed by …, that
//! this file has predicate type T". The signature over a file in a bundle is
//! [`BundleVerifier::verify`]; the blob attestation checks the bundles of the file they were
//! published in ([`crate::bundle::read_document`]: a bundle, JSON Lines, npm's or GitHub's
//! listing, a PEP 740 attestation, PyPI provenance), then the statement the one that verified
//! signs.

use signet_core::intoto::{PredicateType, Statement, StatementError};

use crate::Authority;
use crate::bundle::{ArtifactDigests, BundleFailure, BundleVerifier, VerifiedBundle};

/// The payload type of a DSSE envelope holding an in-toto statement.
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why a file's attestation bundle was refused: the first check it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileAttestationFailure {
    /// The bundle failed a Sigstore check (certificate, identity, log, signature, subject,
    /// payload type, no bundle of the predicate type…).
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
    #[error("the predicate type is {found:?}, not {wanted}")]
    PredicateType {
        /// What the statement has.
        found: String,
        /// What was asked for (one of these).
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
    label: String,
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

    /// Where in the attestation file the bundle that verified is (`bundle`, `line 2`,
    /// `attestations[1]`, …).
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Does `document` (a bundle, or a file of bundles as published) attest, signed by
/// `authority`, that the file with these digests has one of `predicate_types`? The bundles
/// of those types are verified offline against the authority's trusted root (a key authority
/// without one cannot check a bundle: `None` then), the first that verifies wins, then the
/// statement it signs is read and its predicate type compared. The artifact's digests are the
/// ones [`ArtifactDigests::of_reader`] computes in one pass, so that a statement naming the
/// file by sha256, sha384 or sha512 matches.
pub fn check_file_attestation(
    document: &[u8],
    artifact: &ArtifactDigests,
    authority: &Authority,
    predicate_types: &[PredicateType],
) -> Option<Result<VerifiedFileAttestation, FileAttestationFailure>> {
    let (verifier, policy) = authority.bundle_policy()?;
    Some(judge_file_attestation(
        verifier,
        document,
        artifact,
        &policy,
        predicate_types,
    ))
}

fn judge_file_attestation(
    verifier: &BundleVerifier,
    document: &[u8],
    artifact: &ArtifactDigests,
    policy: &crate::bundle::BundlePolicy,
    predicate_types: &[PredicateType],
) -> Result<VerifiedFileAttestation, FileAttestationFailure> {
    let wanted: Vec<&str> = predicate_types.iter().map(PredicateType::uri).collect();
    let verified = verifier
        .verify_document(document, artifact, policy, &wanted)
        .map_err(FileAttestationFailure::Bundle)?;
    let label = verified.label().to_owned();
    let verified = verified.bundle().clone();
    let (payload_type, payload) = verified
        .dsse_payload()
        .ok_or(FileAttestationFailure::NotAnAttestation)?;
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(FileAttestationFailure::NotInToto(
            payload_type.chars().take(100).collect(),
        ));
    }
    let statement = Statement::parse(payload).map_err(FileAttestationFailure::Statement)?;
    if !wanted.is_empty() && !wanted.contains(&statement.predicate_type.as_str()) {
        return Err(FileAttestationFailure::PredicateType {
            found: statement.predicate_type.chars().take(200).collect(),
            wanted: wanted.join(" or "),
        });
    }
    let found = statement.predicate_type.to_owned();
    Ok(VerifiedFileAttestation {
        bundle: verified,
        predicate_type: found,
        label,
    })
}
