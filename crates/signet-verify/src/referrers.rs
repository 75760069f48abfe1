//! Cosign v3's signatures and attestations: one Sigstore bundle (v0.3) per OCI 1.1 referrer
//! manifest of the image.
//!
//! Cosign v3 (and Cosign 2 with `--new-bundle-format`) stores each signature or attestation as
//! a manifest with `artifactType` [`BUNDLE_ARTIFACT_TYPE`], an empty config, `subject` = the
//! image's descriptor and one layer holding the bundle JSON; its annotation
//! `dev.sigstore.bundle.predicateType` names the statement's predicate type. A signature is a
//! DSSE in-toto statement of predicate type [`COSIGN_SIGN_PREDICATE_TYPE`] whose subject is the
//! image digest; an attestation carries the user's statement.
//!
//! As for the legacy format, verification is two steps: [`gather_referrer_bundles`] does the
//! I/O (the referrers API, or on registries without one the referrers tag schema index
//! `sha256-<hex>`; every read bounded), [`judge_referrer_bundles`] is pure: each bundle is
//! verified offline with a [`BundleVerifier`] against the image digest, then its statement's
//! subject and predicate type are checked.

use std::fmt;
use std::sync::Arc;

use signet_core::cosign::OCI_INDEX_MEDIA_TYPE;
use signet_core::digest::Digest;
use signet_core::intoto::PredicateType;
use signet_core::manifest::{Descriptor, ImageIndex, ImageManifest};
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;
use crate::bundle::{
    Artifact, BundleFailure, BundlePolicy, BundleVerifier, FailureHint, VerifiedBundle,
};
use crate::gather::Unreadable;

/// The `artifactType` of a Cosign v3 referrer manifest, and the media type of its layer.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The predicate type of the statement `cosign sign` v3 signs.
pub const COSIGN_SIGN_PREDICATE_TYPE: &str = signet_core::intoto::COSIGN_SIGN_V1;

/// The annotation in which Cosign records a bundle's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// The payload type of a DSSE envelope holding an in-toto statement.
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Where the referrers were found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferrersSource {
    /// The registry's referrers API (`/v2/<name>/referrers/<digest>`).
    Api(String),
    /// The referrers tag schema: the image index tagged `sha256-<hex>`.
    TagSchema(String),
}

impl fmt::Display for ReferrersSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api(location) => write!(f, "{location} (referrers API)"),
            Self::TagSchema(location) => write!(f, "{location} (referrers tag schema)"),
        }
    }
}

/// One referrer manifest holding a bundle, and the bundle's bytes.
#[derive(Debug, Clone)]
pub struct ReferrerBundle {
    /// The referrer manifest's digest.
    pub manifest: Digest,
    /// The bundle JSON, or why it could not be read (missing, over the limit, a manifest that
    /// is not a bundle referrer of this image).
    pub content: Result<Vec<u8>, Unreadable>,
}

/// Everything needed to judge an image's Cosign v3 bundles.
#[derive(Debug, Clone)]
pub struct ReferrerEvidence {
    /// The image, pinned to its digest.
    pub image: String,
    /// The digest the bundles must be about.
    pub digest: Digest,
    /// Where the referrers were looked for.
    pub source: ReferrersSource,
    /// The bundle referrers, up to the per-image limit.
    pub bundles: Vec<ReferrerBundle>,
    /// Bundle referrers beyond the limit, not considered.
    pub skipped: usize,
}

/// Resolves `image` and reads the Sigstore bundles that refer to it. With `predicate_type`,
/// referrers annotated with another predicate type are not read (the annotation is only a
/// hint: every bundle read is still checked against its signed statement).
pub async fn gather_referrer_bundles(
    client: &OciClient,
    image: &ImageReference,
    repository_override: Option<&Repository>,
    predicate_type: Option<&PredicateType>,
) -> Result<ReferrerEvidence, Error> {
    let resolved = crate::gather::resolve(client, image).await?;
    read_referrer_bundles(
        client,
        image,
        &resolved,
        repository_override,
        predicate_type,
    )
    .await
}

/// Reads the Sigstore bundles referring to an image already resolved to a digest.
pub(crate) async fn read_referrer_bundles(
    client: &OciClient,
    image: &ImageReference,
    resolved: &crate::gather::Resolved,
    repository_override: Option<&Repository>,
    predicate_type: Option<&PredicateType>,
) -> Result<ReferrerEvidence, Error> {
    let gathered = read_referrers(
        client,
        image,
        resolved,
        repository_override,
        Wanted::SigstoreBundles { predicate_type },
    )
    .await?;
    Ok(ReferrerEvidence {
        image: gathered.image,
        digest: gathered.subject.digest,
        source: gathered.source,
        bundles: gathered
            .referrers
            .into_iter()
            .map(|r| ReferrerBundle {
                manifest: r.manifest,
                content: r.content.map(|(_, bytes)| bytes),
            })
            .collect(),
        skipped: gathered.skipped,
    })
}

/// Which referrers to read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wanted<'a> {
    /// Cosign v3 bundles, optionally of one predicate type (by annotation).
    SigstoreBundles {
        predicate_type: Option<&'a PredicateType>,
    },
    /// Notary Project signatures.
    NotarySignatures,
}

impl Wanted<'_> {
    /// Whether an index entry may be one (its `artifactType` is only a hint: each manifest
    /// read is checked again).
    fn lists(&self, d: &Descriptor) -> bool {
        let kind = artifact_type(&d.extra);
        match self {
            Self::SigstoreBundles { predicate_type } => {
                kind.is_none_or(|t| t == BUNDLE_ARTIFACT_TYPE)
                    && predicate_type.is_none_or(|wanted| {
                        d.annotations
                            .get(PREDICATE_TYPE_ANNOTATION)
                            .is_none_or(|t| t == wanted.uri())
                    })
            }
            Self::NotarySignatures => kind.is_none_or(|t| t == NOTARY_SIGNATURE_ARTIFACT_TYPE),
        }
    }
}

/// The `artifactType` of a Notary Project signature (and its `config.mediaType` on
/// registries without OCI 1.1).
pub(crate) const NOTARY_SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";

/// The image the referrers are about: its manifest's descriptor.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub(crate) digest: Digest,
    pub(crate) media_type: Option<String>,
    pub(crate) size: Option<u64>,
}

/// One referrer read: its manifest digest and its envelope layer (media type, bytes), or why
/// it holds none.
#[derive(Debug, Clone)]
pub(crate) struct Referrer {
    pub(crate) manifest: Digest,
    pub(crate) content: Result<(String, Vec<u8>), Unreadable>,
}

#[derive(Debug)]
pub(crate) struct Gathered {
    pub(crate) image: String,
    pub(crate) repository: String,
    pub(crate) subject: Subject,
    pub(crate) source: ReferrersSource,
    pub(crate) referrers: Vec<Referrer>,
    pub(crate) skipped: usize,
}

/// Reads the referrers `wanted` of an image already resolved: the registry's referrers API, or
/// the referrers tag schema index `sha256-<hex>`; every read bounded by the client's limits.
pub(crate) async fn read_referrers(
    client: &OciClient,
    image: &ImageReference,
    resolved: &crate::gather::Resolved,
    repository_override: Option<&Repository>,
    wanted: Wanted<'_>,
) -> Result<Gathered, Error> {
    let repository = &resolved.repository;
    let subject = Subject {
        digest: resolved.digest.clone(),
        media_type: resolved.media_type.clone(),
        size: resolved.size,
    };
    let digest = subject.digest.clone();
    let store = client.attachment_repository(image, repository, repository_override)?;
    let (index, source) = match store.referrers(&digest).await? {
        Some(index) => (
            Some(index),
            ReferrersSource::Api(format!("{}@{digest}", store.name())),
        ),
        None => {
            let tag = format!("{}-{}", digest.algorithm().name(), digest.hex());
            let location = format!("{}:{tag}", store.name());
            (
                store.manifest(&ManifestRef::Tag(tag)).await?,
                ReferrersSource::TagSchema(location),
            )
        }
    };
    let mut gathered = Gathered {
        image: image.pinned(digest.clone()).to_string(),
        repository: repository.name(),
        subject,
        source,
        referrers: Vec::new(),
        skipped: 0,
    };
    let Some(index) = index else {
        return Ok(gathered);
    };
    let location = gathered.source.to_string();
    let index = ImageIndex::parse(&index.bytes)
        .map_err(|source| Error::MalformedAttachmentManifest { location, source })?;
    if index
        .media_type
        .as_deref()
        .is_some_and(|m| m != OCI_INDEX_MEDIA_TYPE)
    {
        return Ok(gathered);
    }
    let candidates: Vec<Descriptor> = index
        .manifests
        .into_iter()
        .filter(|d| wanted.lists(d))
        .collect();
    let limits = *client.limits();
    let considered = candidates.len().min(limits.max_signatures_per_image);
    gathered.skipped = candidates.len() - considered;
    for descriptor in candidates.into_iter().take(considered) {
        let content =
            read_referrer(store.as_ref(), &descriptor.digest, &digest, &limits, wanted).await?;
        gathered.referrers.push(Referrer {
            manifest: descriptor.digest,
            content,
        });
    }
    Ok(gathered)
}

/// The `artifactType` of a descriptor or manifest, from its unmodelled fields.
fn artifact_type(extra: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    extra.get("artifactType").and_then(|t| t.as_str())
}

/// Reads one referrer manifest and its envelope layer. The outer error is operational (the
/// store failed); the inner one says why this referrer holds nothing usable.
async fn read_referrer(
    store: &dyn signet_oci::OciRepository,
    manifest: &Digest,
    subject: &Digest,
    limits: &signet_oci::Limits,
    wanted: Wanted<'_>,
) -> Result<Result<(String, Vec<u8>), Unreadable>, Error> {
    let reference = ManifestRef::Digest(manifest.clone());
    let fetched = match store.manifest(&reference).await {
        Ok(Some(fetched)) => fetched,
        Ok(None) => return Ok(Err(Unreadable::MissingReferrer)),
        // Reading a manifest, a missing blob is a failure of the store itself.
        Err(e @ signet_oci::Error::MissingBlob { .. }) => return Err(e.into()),
        Err(e) => return Ok(Err(Unreadable::from_store(e)?)),
    };
    let parsed = match ImageManifest::parse(&fetched.bytes) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(Err(Unreadable::MalformedReferrer(Arc::new(e)))),
    };
    let declared = artifact_type(&parsed.extra);
    let layer = match wanted {
        Wanted::SigstoreBundles { .. } => {
            let kind = declared.unwrap_or(parsed.config.media_type.as_str());
            if kind != BUNDLE_ARTIFACT_TYPE {
                return Ok(Err(Unreadable::NotABundle(
                    kind.chars().take(200).collect(),
                )));
            }
            let layer = parsed.layers.iter().find(|l| {
                l.media_type
                    .starts_with("application/vnd.dev.sigstore.bundle")
            });
            let Some(layer) = layer else {
                return Ok(Err(Unreadable::NoBundleLayer));
            };
            layer
        }
        Wanted::NotarySignatures => {
            // OCI 1.1: artifactType and the empty config; before it: the config media type.
            let is_signature = match declared {
                Some(NOTARY_SIGNATURE_ARTIFACT_TYPE) => {
                    parsed.config.media_type == "application/vnd.oci.empty.v1+json"
                }
                Some(_) => false,
                None => parsed.config.media_type == NOTARY_SIGNATURE_ARTIFACT_TYPE,
            };
            if !is_signature {
                return Ok(Err(Unreadable::NotANotarySignature {
                    artifact_type: declared.unwrap_or("").chars().take(200).collect(),
                    config: parsed.config.media_type.chars().take(200).collect(),
                }));
            }
            match parsed.layers.as_slice() {
                [layer] => layer,
                layers => return Ok(Err(Unreadable::EnvelopeCount(layers.len()))),
            }
        }
    };
    let referred = parsed
        .extra
        .get("subject")
        .and_then(|s| s.get("digest"))
        .and_then(|d| d.as_str());
    if referred != Some(subject.to_string().as_str()) {
        return Ok(Err(Unreadable::OtherSubject(
            referred.map(|r| r.chars().take(200).collect()),
        )));
    }
    if layer.size > limits.max_attachment_bytes {
        return Ok(Err(Unreadable::OverLimit {
            what: "envelope",
            size: layer.size,
            limit: limits.max_attachment_bytes,
        }));
    }
    match store.blob(&layer.digest, limits.max_attachment_bytes).await {
        Ok(bytes) => Ok(Ok((layer.media_type.clone(), bytes))),
        Err(e) => Ok(Err(Unreadable::from_store(e)?)),
    }
}

/// What the bundles must be: Cosign signatures, or attestations of one predicate type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundlePurpose {
    /// `cosign sign` v3: statements of predicate type [`COSIGN_SIGN_PREDICATE_TYPE`].
    Signature,
    /// `cosign attest` v3: statements of this predicate type.
    Attestation(PredicateType),
}

impl BundlePurpose {
    /// The predicate type the statement must have.
    pub fn predicate_type(&self) -> &str {
        match self {
            Self::Signature => COSIGN_SIGN_PREDICATE_TYPE,
            Self::Attestation(predicate_type) => predicate_type.uri(),
        }
    }
}

/// Why a referrer bundle was rejected: the first check it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReferrerFailure {
    /// The bundle could not be read from the store, or the referrer is not a bundle of this
    /// image.
    #[error("unreadable: {0}")]
    Unreadable(Unreadable),
    /// The bundle failed a Sigstore check (certificate, identity, log, signature, …).
    #[error(transparent)]
    Bundle(BundleFailure),
    /// The bundle signs no in-toto statement (a message signature, or a payload that does not
    /// parse).
    #[error("the bundle does not sign an in-toto statement: {0}")]
    Statement(NotAStatement),
    /// The statement's subjects do not include the image digest.
    #[error("the statement's subject is not {expected}")]
    Subject {
        /// The image digest.
        expected: Digest,
    },
    /// The statement has another predicate type.
    #[error("the statement's predicate type is {found:?}, required {expected:?}")]
    PredicateType {
        /// The predicate type required.
        expected: String,
        /// The predicate type signed.
        found: String,
    },
}

impl ReferrerFailure {
    /// A short, stable name for the failed check: the [`BundleCheck`](crate::bundle::BundleCheck)
    /// code for Sigstore checks, else `unreadable`, `statement`, `subject` or `predicate-type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreadable(_) => "unreadable",
            Self::Bundle(failure) => failure.check().code(),
            Self::Statement(_) => "statement",
            Self::Subject { .. } => "subject",
            Self::PredicateType { .. } => "predicate-type",
        }
    }

    /// What else the reader should know about this failure, if anything.
    pub fn hint(&self) -> Option<FailureHint> {
        match self {
            Self::Bundle(failure) => failure.hint(),
            _ => None,
        }
    }
}

/// Why a verified bundle's content is not an in-toto statement.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NotAStatement {
    /// The bundle signs a message, not a DSSE envelope.
    #[error("it is a message signature, not a DSSE envelope")]
    MessageSignature,
    /// The envelope's payload type is not in-toto's.
    #[error("the payload type is {0:?}")]
    PayloadType(String),
    /// The payload does not parse as JSON.
    #[error("the payload is not JSON: {0}")]
    NotJson(Arc<serde_json::Error>),
}

/// A referrer bundle that passed every check. Only [`judge_referrer_bundles`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedReferrer {
    manifest: Digest,
    bundle: VerifiedBundle,
    statement: serde_json::Value,
}

impl VerifiedReferrer {
    /// The referrer manifest's digest.
    pub fn manifest(&self) -> &Digest {
        &self.manifest
    }

    /// The verified bundle (identity, issuer, signing times).
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.bundle
    }

    /// The verified in-toto statement.
    pub fn statement(&self) -> &serde_json::Value {
        &self.statement
    }
}

/// A referrer bundle that failed, and the check it failed.
#[derive(Debug)]
pub struct RejectedReferrer {
    /// The referrer manifest's digest.
    pub manifest: Digest,
    /// Why it was rejected.
    pub failure: ReferrerFailure,
}

impl fmt::Display for RejectedReferrer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bundle {} [{}]: {}",
            self.manifest,
            self.failure.code(),
            self.failure
        )?;
        // A Sigstore check's detail (which identity, which log) is its error's source.
        match &self.failure {
            ReferrerFailure::Bundle(failure) => match std::error::Error::source(failure) {
                Some(detail) => write!(f, ": {detail}"),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// The verdict on an image's referrer bundles.
#[derive(Debug)]
pub struct ReferrerReport {
    image: String,
    source: ReferrersSource,
    verified: Vec<VerifiedReferrer>,
    rejected: Vec<RejectedReferrer>,
    skipped: usize,
}

impl ReferrerReport {
    /// Whether at least one bundle passed every check.
    pub fn is_verified(&self) -> bool {
        !self.verified.is_empty()
    }

    /// The image, pinned to its digest.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Where the referrers were looked for.
    pub fn source(&self) -> &ReferrersSource {
        &self.source
    }

    /// The bundles that passed.
    pub fn verified(&self) -> &[VerifiedReferrer] {
        &self.verified
    }

    /// The bundles that failed, each with the check it failed.
    pub fn rejected(&self) -> &[RejectedReferrer] {
        &self.rejected
    }

    /// Bundle referrers not considered (over the per-image limit).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// One line: how many bundles passed, or why none did.
    pub fn summary(&self) -> String {
        if self.is_verified() {
            format!(
                "{}: {} Sigstore bundle(s) verified",
                self.image,
                self.verified.len()
            )
        } else if self.rejected.is_empty() {
            format!(
                "{}: no Sigstore bundles found at {}",
                self.image, self.source
            )
        } else {
            format!(
                "{}: none of {} Sigstore bundle(s) at {} verified",
                self.image,
                self.rejected.len(),
                self.source
            )
        }
    }
}

/// Judges each gathered bundle: verified offline against the image digest under `policy`,
/// then its statement's subject and predicate type checked against `purpose`. Pure: no I/O.
pub fn judge_referrer_bundles(
    evidence: &ReferrerEvidence,
    verifier: &BundleVerifier,
    policy: &BundlePolicy,
    purpose: &BundlePurpose,
) -> ReferrerReport {
    let mut report = ReferrerReport {
        image: evidence.image.clone(),
        source: evidence.source.clone(),
        verified: Vec::new(),
        rejected: Vec::new(),
        skipped: evidence.skipped,
    };
    for bundle in &evidence.bundles {
        match judge_one(bundle, &evidence.digest, verifier, policy, purpose) {
            Ok(verified) => report.verified.push(verified),
            Err(failure) => report.rejected.push(RejectedReferrer {
                manifest: bundle.manifest.clone(),
                failure,
            }),
        }
    }
    report
}

fn judge_one(
    bundle: &ReferrerBundle,
    digest: &Digest,
    verifier: &BundleVerifier,
    policy: &BundlePolicy,
    purpose: &BundlePurpose,
) -> Result<VerifiedReferrer, ReferrerFailure> {
    let bytes = bundle
        .content
        .as_ref()
        .map_err(|why| ReferrerFailure::Unreadable(why.clone()))?;
    let verified = verifier
        .verify(bytes, Artifact::Digest(digest), policy)
        .map_err(ReferrerFailure::Bundle)?;
    let Some((payload_type, payload)) = verified.dsse_payload() else {
        return Err(ReferrerFailure::Statement(NotAStatement::MessageSignature));
    };
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(ReferrerFailure::Statement(NotAStatement::PayloadType(
            payload_type.chars().take(100).collect(),
        )));
    }
    let statement: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| ReferrerFailure::Statement(NotAStatement::NotJson(Arc::new(e))))?;
    let names_image = statement
        .get("subject")
        .and_then(|s| s.as_array())
        .is_some_and(|subjects| {
            subjects.iter().any(|s| {
                s.get("digest")
                    .and_then(|d| d.get(digest.algorithm().name()))
                    .and_then(|h| h.as_str())
                    .is_some_and(|hex| hex.eq_ignore_ascii_case(digest.hex()))
            })
        });
    if !names_image {
        return Err(ReferrerFailure::Subject {
            expected: digest.clone(),
        });
    }
    let found = statement
        .get("predicateType")
        .and_then(|p| p.as_str())
        .unwrap_or("");
    if found != purpose.predicate_type() {
        return Err(ReferrerFailure::PredicateType {
            expected: purpose.predicate_type().to_owned(),
            found: found.to_owned(),
        });
    }
    Ok(VerifiedReferrer {
        manifest: bundle.manifest.clone(),
        bundle: verified,
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleCheck, BundleLimits};

    const EMPTY_ROOT: &str = r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [], "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}"#;

    #[test]
    fn unreadable_and_failing_bundles_are_rejected_with_their_check() {
        let verifier = BundleVerifier::new(EMPTY_ROOT.as_bytes(), BundleLimits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let digest = Digest::sha256_of(b"image");
        let evidence = ReferrerEvidence {
            image: format!("r.example/app@{digest}"),
            digest: digest.clone(),
            source: ReferrersSource::TagSchema("r.example/app:sha256-x".into()),
            bundles: vec![
                ReferrerBundle {
                    manifest: Digest::sha256_of(b"1"),
                    content: Err(Unreadable::MissingReferrer),
                },
                ReferrerBundle {
                    manifest: Digest::sha256_of(b"2"),
                    content: Ok(b"{\"mediaType\": ".to_vec()),
                },
            ],
            skipped: 0,
        };
        let report = judge_referrer_bundles(
            &evidence,
            &verifier,
            &BundlePolicy::identity("a", "b"),
            &BundlePurpose::Signature,
        );
        assert!(!report.is_verified());
        let codes: Vec<&str> = report.rejected().iter().map(|r| r.failure.code()).collect();
        assert_eq!(codes, ["unreadable", BundleCheck::Parse.code()]);
        assert!(report.summary().contains("none of 2"));
    }
}
