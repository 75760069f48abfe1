//! Notary Project (Notation) signatures on images: gathered from the image's referrers (the
//! referrers API, or the referrers tag schema on registries without one), judged offline by
//! `signet-notation` under one trust policy statement.
//!
//! As for Cosign signatures, verification is two steps: [`gather_notation_signatures`] does
//! the I/O (every read bounded), [`judge_notation`] is pure and takes the time as an argument.

mod load;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use signet_core::digest::Digest;
use signet_core::reference::{ImageReference, Repository};
use signet_notation::{
    Limits, NotationCheck, NotationFailure, Statement, TargetArtifact, TrustStore,
    VerifiedSignature, VerifyOptions, verify_signature_layer,
};
use signet_oci::OciClient;

pub use load::{NotationConfigError, load_trust_policy, load_trust_store};

use crate::Error;
use crate::gather::Unreadable;
use crate::referrers::{ReferrersSource, Wanted, read_referrers};

/// One Notary Project signature manifest referring to the image: its envelope's media type
/// and bytes, or why it could not be read.
#[derive(Debug, Clone)]
pub struct NotationReferrer {
    /// The signature manifest's digest.
    pub manifest: Digest,
    /// The envelope layer's media type and bytes, or why the referrer holds none.
    pub content: Result<(String, Vec<u8>), Unreadable>,
}

/// Everything needed to judge an image's Notary Project signatures.
#[derive(Debug, Clone)]
pub struct NotationEvidence {
    /// The image, pinned to its digest.
    pub image: String,
    /// The image's repository (`registry/path`), which selects a trust policy statement.
    pub repository: String,
    /// The image manifest's descriptor, which each payload must sign; `None` when the store
    /// reported no media type.
    pub target: Option<TargetArtifact>,
    /// The image digest.
    pub digest: Digest,
    /// Where the referrers were looked for.
    pub source: ReferrersSource,
    /// The signatures, up to the per-image limit.
    pub signatures: Vec<NotationReferrer>,
    /// Signatures beyond the limit, not considered.
    pub skipped: usize,
}

/// Resolves `image` (reading its manifest for the descriptor a payload signs) and reads the
/// Notary Project signatures that refer to it.
pub async fn gather_notation_signatures(
    client: &OciClient,
    image: &ImageReference,
    repository_override: Option<&Repository>,
) -> Result<NotationEvidence, Error> {
    let resolved = crate::gather::resolve_descriptor(client, image).await?;
    read_notation_signatures(client, image, &resolved, repository_override).await
}

/// Reads the Notary Project signatures of an image already resolved (with its manifest's
/// descriptor).
pub(crate) async fn read_notation_signatures(
    client: &OciClient,
    image: &ImageReference,
    resolved: &crate::gather::Resolved,
    repository_override: Option<&Repository>,
) -> Result<NotationEvidence, Error> {
    let gathered = read_referrers(
        client,
        image,
        resolved,
        repository_override,
        Wanted::NotarySignatures,
    )
    .await?;
    let target = match (&gathered.subject.media_type, gathered.subject.size) {
        (Some(media_type), Some(size)) => Some(TargetArtifact {
            media_type: media_type.clone(),
            digest: gathered.subject.digest.clone(),
            size,
        }),
        _ => None,
    };
    Ok(NotationEvidence {
        image: gathered.image,
        repository: gathered.repository,
        target,
        digest: gathered.subject.digest,
        source: gathered.source,
        signatures: gathered
            .referrers
            .into_iter()
            .map(|r| NotationReferrer {
                manifest: r.manifest,
                content: r.content,
            })
            .collect(),
        skipped: gathered.skipped,
    })
}

/// Whom Notary Project signatures must be by: a trust policy statement (level, named trust
/// stores, trusted identities) and the certificates of those stores.
#[derive(Debug, Clone)]
pub struct NotationAuthority {
    statement: Statement,
    trust_store: Arc<TrustStore>,
    at: Option<SystemTime>,
}

impl NotationAuthority {
    /// An authority verifying under `statement` with the certificates of `trust_store`, at
    /// the time of judging.
    pub fn new(statement: Statement, trust_store: Arc<TrustStore>) -> Self {
        Self {
            statement,
            trust_store,
            at: None,
        }
    }

    /// Verifies as of `time` instead of the clock at judging time (expiry and certificate
    /// validity without a timestamp depend on it): for stored evidence and tests.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.at = Some(time);
        self
    }

    /// The time signatures are verified at: the one set with [`Self::at`], else now.
    pub(crate) fn time(&self) -> SystemTime {
        self.at.unwrap_or_else(SystemTime::now)
    }

    /// The statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }
}

/// Why a Notary Project signature was rejected.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NotationRejection {
    /// The referrer could not be read, or is not a signature of this image.
    #[error("unreadable: {0}")]
    Unreadable(Unreadable),
    /// The store did not say the image manifest's media type, which the signature signs.
    #[error(
        "unreadable: the store did not say the image manifest's media type, which the signature signs"
    )]
    TargetUnknown,
    /// A check of the signature failed.
    #[error(transparent)]
    Signature(NotationFailure),
}

impl NotationRejection {
    /// A short, stable name for the failed check: `unreadable`, or the
    /// [`NotationCheck`] code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreadable(_) | Self::TargetUnknown => "unreadable",
            Self::Signature(f) => f.check().code(),
        }
    }

    /// The check that failed, if the signature was read.
    pub fn check(&self) -> Option<NotationCheck> {
        match self {
            Self::Unreadable(_) | Self::TargetUnknown => None,
            Self::Signature(f) => Some(f.check()),
        }
    }

    /// Whether the failure is another signer's signature rather than a defect: a chain no
    /// trust store names, or another identity. Used to pick the most useful failure.
    fn is_other_signer(&self) -> bool {
        matches!(
            self.check(),
            Some(NotationCheck::TrustStore | NotationCheck::TrustedIdentity)
        )
    }
}

/// A signature that passed. Only [`judge_notation`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedNotation {
    manifest: Digest,
    signature: VerifiedSignature,
}

impl VerifiedNotation {
    /// The signature manifest's digest.
    pub fn manifest(&self) -> &Digest {
        &self.manifest
    }

    /// What was verified (signer, scheme, times, logged failures).
    pub fn signature(&self) -> &VerifiedSignature {
        &self.signature
    }
}

/// A signature that failed, and why.
#[derive(Debug)]
pub struct RejectedNotation {
    /// The signature manifest's digest.
    pub manifest: Digest,
    /// Why.
    pub failure: NotationRejection,
}

impl fmt::Display for RejectedNotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "notation signature {} [{}]: {}",
            self.manifest,
            self.failure.code(),
            self.failure
        )?;
        if let NotationRejection::Signature(failure) = &self.failure {
            write!(f, ": {}", failure.detail())?;
        }
        Ok(())
    }
}

/// The verdict on an image's Notary Project signatures.
#[derive(Debug)]
pub struct NotationReport {
    image: String,
    source: ReferrersSource,
    verified: Vec<VerifiedNotation>,
    rejected: Vec<RejectedNotation>,
    skipped: usize,
    note: Option<String>,
}

impl NotationReport {
    /// A report saying why no signature could count (asking a Notation authority for an
    /// attestation).
    pub(crate) fn not_applicable(image: String, why: &str) -> Self {
        Self {
            source: ReferrersSource::Api(image.clone()),
            image,
            verified: Vec::new(),
            rejected: Vec::new(),
            skipped: 0,
            note: Some(why.to_owned()),
        }
    }

    /// Whether at least one signature passed every enforced check (notation's rule: one
    /// signature suffices).
    pub fn is_verified(&self) -> bool {
        !self.verified.is_empty()
    }

    /// The image, pinned.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Where the signatures were looked for.
    pub fn source(&self) -> &ReferrersSource {
        &self.source
    }

    /// The signatures that passed.
    pub fn verified(&self) -> &[VerifiedNotation] {
        &self.verified
    }

    /// The signatures that failed, each with its check.
    pub fn rejected(&self) -> &[RejectedNotation] {
        &self.rejected
    }

    /// Signatures not considered (over the per-image limit).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The most useful rejection: one that is not merely another signer's signature.
    pub fn most_specific(&self) -> Option<&RejectedNotation> {
        self.rejected
            .iter()
            .find(|r| !r.failure.is_other_signer())
            .or_else(|| self.rejected.first())
    }

    /// One line: how many signatures passed, or why none did.
    pub fn summary(&self) -> String {
        if let Some(note) = &self.note {
            return format!("{}: {note}", self.image);
        }
        if self.is_verified() {
            format!(
                "{}: {} Notary Project signature(s) verified",
                self.image,
                self.verified.len()
            )
        } else if self.rejected.is_empty() {
            format!(
                "{}: no Notary Project signatures found at {}",
                self.image, self.source
            )
        } else {
            format!(
                "{}: none of {} Notary Project signature(s) at {} verified",
                self.image,
                self.rejected.len(),
                self.source
            )
        }
    }
}

/// Judges each gathered signature under `authority` at time `now`; each payload must sign the
/// image's descriptor and carry `annotations`. Pure: no I/O.
pub fn judge_notation(
    evidence: &NotationEvidence,
    authority: &NotationAuthority,
    annotations: &BTreeMap<String, String>,
    now: SystemTime,
) -> NotationReport {
    let mut report = NotationReport {
        image: evidence.image.clone(),
        source: evidence.source.clone(),
        verified: Vec::new(),
        rejected: Vec::new(),
        skipped: evidence.skipped,
        note: None,
    };
    for referrer in &evidence.signatures {
        match judge_one(referrer, evidence, authority, annotations, now) {
            Ok(signature) => report.verified.push(VerifiedNotation {
                manifest: referrer.manifest.clone(),
                signature,
            }),
            Err(failure) => report.rejected.push(RejectedNotation {
                manifest: referrer.manifest.clone(),
                failure,
            }),
        }
    }
    report
}

fn judge_one(
    referrer: &NotationReferrer,
    evidence: &NotationEvidence,
    authority: &NotationAuthority,
    annotations: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<VerifiedSignature, NotationRejection> {
    let (media_type, bytes) = referrer
        .content
        .as_ref()
        .map_err(|why| NotationRejection::Unreadable(why.clone()))?;
    let Some(target) = &evidence.target else {
        return Err(NotationRejection::TargetUnknown);
    };
    verify_signature_layer(
        media_type,
        bytes,
        &VerifyOptions {
            statement: &authority.statement,
            trust_store: &authority.trust_store,
            target,
            required_annotations: annotations,
            now,
            limits: Limits::default(),
        },
    )
    .map_err(NotationRejection::Signature)
}
