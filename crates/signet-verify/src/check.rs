//! One call per question about an image: "is it signed by …", "does it carry an attestation
//! of type T by …". Every format an authority can have signed is looked at — Cosign's legacy
//! `.sig`/`.att` attachments and Cosign v3's Sigstore bundles attached as OCI referrers — and
//! the answer is one [`ImageCheck`]: verified, denied (each entry with the check it failed),
//! or undecided (the reason the evidence could not be read). Never an exit code, never a panic.
//!
//! Like the format judges underneath, a check runs in two steps that an embedder can also call
//! apart: [`Verifier::gather`] resolves the image to a digest once and reads what the
//! question needs ([`ImageEvidence`]); [`judge_image`] decides from that evidence alone, with
//! no I/O. Policies (signet-policy) gather once per image and judge each authority with the
//! same [`judge_image`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;
use signet_core::cosign::Attachment;
use signet_core::digest::Digest;
use signet_core::intoto::PredicateType;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::OciClient;

use crate::attestation::{
    AttestationAuthority, AttestationOptions, AttestationReport, Retained, judge_attestations_with,
};
use crate::bundle::{BundlePolicy, BundleVerifier};
use crate::contents::{ImageContents, read_contents};
use crate::gather::{AttachmentEvidence, Resolved, read_attachments, resolve, resolve_descriptor};
use crate::judge::{CheckOptions, ImageReport, SignatureAuthority, TlogPolicy, judge_with};
use crate::notation::{
    NotationAuthority, NotationEvidence, NotationRejection, NotationReport, judge_notation,
    read_notation_signatures,
};
use crate::platform::{
    IndexLink, IndexLinkFailure, IndexSignatures, IndexSource, gather_index_link, judge_index_link,
};
use crate::referrers::{
    BundlePurpose, ReferrerEvidence, ReferrerReport, judge_referrer_bundles, read_referrer_bundles,
};
use crate::{Error, KeyVerifier};
pub(crate) use signet_core::error_text::error_chain;

/// How many images are checked at once over the shared connections.
const CONCURRENT_IMAGES: usize = 8;

/// Who must have signed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authority {
    /// A public key (from a key file, a KMS or a hardware token).
    Key(KeyAuthority),
    /// A keyless identity: a Fulcio certificate for this identity and issuer, chaining to a
    /// trusted root, with its transparency-log entry.
    Identity(IdentityAuthority),
    /// Notary Project (Notation) signatures under a trust policy statement and the
    /// certificates of its trust stores.
    Notation(NotationAuthority),
}

/// A public key, and how its signatures' transparency-log entries are checked.
#[derive(Debug, Clone)]
pub struct KeyAuthority {
    key: KeyVerifier,
    tlog: TlogPolicy,
    trusted_root: Option<Arc<BundleVerifier>>,
}

impl KeyAuthority {
    /// Signatures by `key`, with a transparency-log entry required (as Cosign requires it) and
    /// checked against `trusted_root`. Without a trusted root, a required entry cannot be
    /// checked and every signature fails that check; with one, Sigstore bundles signed with
    /// the key are looked at too.
    pub fn new(key: KeyVerifier, trusted_root: Option<Arc<BundleVerifier>>) -> Self {
        Self {
            key,
            tlog: TlogPolicy::Require,
            trusted_root,
        }
    }

    /// Whether the transparency-log entry is required.
    pub fn with_tlog(mut self, tlog: TlogPolicy) -> Self {
        self.tlog = tlog;
        self
    }

    /// The key.
    pub fn key(&self) -> &KeyVerifier {
        &self.key
    }

    /// Whether log entries are required.
    pub fn tlog(&self) -> TlogPolicy {
        self.tlog
    }

    /// The trusted root log entries are checked against.
    pub fn trusted_root(&self) -> Option<&Arc<BundleVerifier>> {
        self.trusted_root.as_ref()
    }
}

/// A keyless identity and the trusted root its certificates must chain to.
#[derive(Debug, Clone)]
pub struct IdentityAuthority {
    trusted_root: Arc<BundleVerifier>,
    identity: BundlePolicy,
}

impl IdentityAuthority {
    /// Certificates for `identity` (an identity policy: [`BundlePolicy::Identity`] or
    /// [`BundlePolicy::Certificate`]) from `trusted_root`'s certificate authorities.
    pub fn new(trusted_root: Arc<BundleVerifier>, identity: BundlePolicy) -> Self {
        Self {
            trusted_root,
            identity,
        }
    }

    /// The identity required.
    pub fn identity(&self) -> &BundlePolicy {
        &self.identity
    }

    /// The trusted root.
    pub fn trusted_root(&self) -> &Arc<BundleVerifier> {
        &self.trusted_root
    }
}

impl Authority {
    /// Whether this authority can have signed Sigstore bundles attached as referrers (a key
    /// only when its log entries can be checked: a bundle always carries one).
    fn reads_bundles(&self) -> bool {
        match self {
            Self::Key(k) => k.trusted_root.is_some(),
            Self::Identity(_) => true,
            Self::Notation(_) => false,
        }
    }

    /// The trusted root and signer policy Sigstore bundles are verified with, if this
    /// authority can have signed any (a key without a trusted root cannot: every bundle
    /// carries a log entry to check).
    pub fn bundle_policy(&self) -> Option<(&BundleVerifier, BundlePolicy)> {
        match self {
            Self::Key(k) => k
                .trusted_root
                .as_deref()
                .map(|root| (root, BundlePolicy::Key(k.key.key().clone()))),
            Self::Identity(i) => Some((&*i.trusted_root, i.identity.clone())),
            Self::Notation(_) => None,
        }
    }
}

/// What is asked about an image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Question {
    /// Is it signed? Each accepted signature's payload must carry these annotations with
    /// exactly these values (for Cosign's legacy signatures, which sign annotations).
    Signature {
        /// Required annotations.
        annotations: BTreeMap<String, String>,
    },
    /// Does it carry an attestation of this predicate type?
    Attestation {
        /// The predicate type.
        predicate_type: PredicateType,
        /// What each verified legacy attestation keeps (the envelope to print, or the
        /// statement to read).
        keep: Retained,
    },
}

impl Question {
    /// Is the image signed (no annotations required)?
    pub fn signature() -> Self {
        Self::Signature {
            annotations: BTreeMap::new(),
        }
    }

    /// Does the image carry an attestation of `predicate_type`? Keeps the envelopes.
    pub fn attestation(predicate_type: PredicateType) -> Self {
        Self::Attestation {
            predicate_type,
            keep: Retained::Envelope,
        }
    }

    /// The predicate type of the statements a referrer bundle answering this question signs.
    fn referrer_predicate_type(&self) -> PredicateType {
        match self {
            Self::Signature { .. } => PredicateType::cosign_sign(),
            Self::Attestation { predicate_type, .. } => predicate_type.clone(),
        }
    }

    fn purpose(&self) -> BundlePurpose {
        match self {
            Self::Signature { .. } => BundlePurpose::Signature,
            Self::Attestation { predicate_type, .. } => {
                BundlePurpose::Attestation(predicate_type.clone())
            }
        }
    }
}

/// Which formats to read for an image. Policies take the union over their authorities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceNeeds {
    /// Cosign's legacy signatures (`sha256-<hex>.sig`).
    pub signatures: bool,
    /// Cosign's legacy attestations (`sha256-<hex>.att`).
    pub attestations: bool,
    /// Sigstore bundles attached as OCI referrers (Cosign v3).
    pub referrers: bool,
    /// Read only referrers annotated with this predicate type (a hint to skip reads; every
    /// bundle read is still checked against its signed statement). `None`: all of them.
    pub referrer_predicate_type: Option<PredicateType>,
    /// Notary Project signatures attached as OCI referrers (the image manifest is read for
    /// the descriptor they sign).
    pub notation: bool,
    /// The image's own manifest (or index) and configurations, for rules on what the image
    /// is rather than who signed it.
    pub image: bool,
}

impl EvidenceNeeds {
    /// What answering `question` for `authority` needs.
    pub fn for_question(authority: &Authority, question: &Question) -> Self {
        if let Authority::Notation(_) = authority {
            return Self {
                notation: matches!(question, Question::Signature { .. }),
                ..Self::default()
            };
        }
        Self {
            notation: false,
            signatures: matches!(question, Question::Signature { .. }),
            attestations: matches!(question, Question::Attestation { .. }),
            referrers: authority.reads_bundles(),
            referrer_predicate_type: Some(question.referrer_predicate_type()),
            image: false,
        }
    }

    /// Only the image's manifest and configurations ([`ImageContents`]).
    pub fn contents() -> Self {
        Self {
            image: true,
            ..Self::default()
        }
    }

    /// Both needs together (a filter kept only if both ask for the same one).
    pub fn union(self, other: &Self) -> Self {
        let referrer_predicate_type = match (&self, other) {
            (a, b) if !a.referrers => b.referrer_predicate_type.clone(),
            (a, b) if !b.referrers => a.referrer_predicate_type.clone(),
            (a, b)
                if a.referrer_predicate_type.as_ref().map(PredicateType::uri)
                    == b.referrer_predicate_type.as_ref().map(PredicateType::uri) =>
            {
                a.referrer_predicate_type.clone()
            }
            _ => None,
        };
        Self {
            signatures: self.signatures || other.signatures,
            attestations: self.attestations || other.attestations,
            referrers: self.referrers || other.referrers,
            referrer_predicate_type,
            notation: self.notation || other.notation,
            image: self.image || other.image,
        }
    }
}

/// What was read about one image: its digest (resolved once) and each format asked for, or
/// why that format could not be read.
#[derive(Debug, Clone)]
pub struct ImageEvidence {
    image: String,
    digest: Digest,
    resolved_from_tag: bool,
    signatures: Option<Result<AttachmentEvidence, Arc<Error>>>,
    attestations: Option<Result<AttachmentEvidence, Arc<Error>>>,
    referrers: Option<Result<ReferrerEvidence, Arc<Error>>>,
    notation: Option<Result<NotationEvidence, Arc<Error>>>,
    contents: Option<Result<ImageContents, Arc<Error>>>,
}

impl ImageEvidence {
    /// Evidence put together by hand (tests, stored evidence); `None` for a format not read.
    pub fn new(
        image: impl Into<String>,
        digest: Digest,
        signatures: Option<Result<AttachmentEvidence, Arc<Error>>>,
        attestations: Option<Result<AttachmentEvidence, Arc<Error>>>,
        referrers: Option<Result<ReferrerEvidence, Arc<Error>>>,
    ) -> Self {
        Self {
            image: image.into(),
            digest,
            resolved_from_tag: false,
            signatures,
            attestations,
            referrers,
            notation: None,
            contents: None,
        }
    }

    /// Adds Notary Project signatures read by hand (`None`: not read).
    pub fn with_notation(mut self, notation: Option<Result<NotationEvidence, Arc<Error>>>) -> Self {
        self.notation = notation;
        self
    }

    /// The Notary Project signatures, if they were asked for.
    pub fn notation(&self) -> Option<&Result<NotationEvidence, Arc<Error>>> {
        self.notation.as_ref()
    }

    /// The same evidence with the image's contents (read elsewhere: tests, stored evidence).
    pub fn with_contents(mut self, contents: Result<ImageContents, Arc<Error>>) -> Self {
        self.contents = Some(contents);
        self
    }

    /// The image as asked for.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The manifest digest the image resolved to: every format read is about this digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Whether a tag was read to find the digest.
    pub fn resolved_from_tag(&self) -> bool {
        self.resolved_from_tag
    }

    /// The legacy signatures, if they were asked for.
    pub fn signatures(&self) -> Option<&Result<AttachmentEvidence, Arc<Error>>> {
        self.signatures.as_ref()
    }

    /// The legacy attestations, if they were asked for.
    pub fn attestations(&self) -> Option<&Result<AttachmentEvidence, Arc<Error>>> {
        self.attestations.as_ref()
    }

    /// The referrer bundles, if they were asked for.
    pub fn referrers(&self) -> Option<&Result<ReferrerEvidence, Arc<Error>>> {
        self.referrers.as_ref()
    }

    /// The image's manifest and configurations, if they were asked for.
    pub fn contents(&self) -> Option<&Result<ImageContents, Arc<Error>>> {
        self.contents.as_ref()
    }

    /// The first format (or the image's contents) that could not be read, if any.
    pub fn first_error(&self) -> Option<&Arc<Error>> {
        [
            self.signatures.as_ref().and_then(|r| r.as_ref().err()),
            self.attestations.as_ref().and_then(|r| r.as_ref().err()),
            self.referrers.as_ref().and_then(|r| r.as_ref().err()),
            self.notation.as_ref().and_then(|r| r.as_ref().err()),
            self.contents.as_ref().and_then(|r| r.as_ref().err()),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

/// Reads images' evidence and answers questions about them, through one client (one
/// connection pool, one token flow per repository).
#[derive(Debug, Clone)]
pub struct Verifier<'a> {
    client: &'a OciClient,
    signature_repository: Option<&'a Repository>,
    index_signatures: IndexSignatures,
}

impl<'a> Verifier<'a> {
    /// A verifier reading through `client`.
    pub fn new(client: &'a OciClient) -> Self {
        Self {
            client,
            signature_repository: None,
            index_signatures: IndexSignatures::Ignore,
        }
    }

    /// Whether an image that is not signed itself may be verified through a signed image
    /// index that lists it ([`IndexSignatures::Accept`]); by default it may not, as in Cosign.
    /// Only signature questions go through an index: an attestation is about the image itself.
    pub fn with_index_signatures(mut self, index_signatures: IndexSignatures) -> Self {
        self.index_signatures = index_signatures;
        self
    }

    /// Reads signatures and attestations from another repository (Cosign's
    /// `COSIGN_REPOSITORY`).
    pub fn with_signature_repository(mut self, repository: Option<&'a Repository>) -> Self {
        self.signature_repository = repository;
        self
    }

    /// The manifest digest `image` names: for a digest reference, that digest (no read); for a
    /// tag, what the store serves under it now (one manifest read). An admission server
    /// resolves a tag with this once, then verifies and pins the digest it got, so that a tag
    /// moved in between changes nothing that was checked.
    pub async fn resolve(&self, image: &ImageReference) -> Result<Digest, Error> {
        resolve(self.client, image).await.map(|r| r.digest)
    }

    /// Resolves `image` to a digest once and reads what `needs` names, each format
    /// concurrently and bounded by the client's limits. `Err` only when the image itself
    /// cannot be found or its store read; a format that cannot be read is recorded in the
    /// evidence.
    pub async fn gather(
        &self,
        image: &ImageReference,
        needs: &EvidenceNeeds,
    ) -> Result<ImageEvidence, Error> {
        let resolved = if needs.notation {
            resolve_descriptor(self.client, image).await?
        } else {
            resolve(self.client, image).await?
        };
        let read = |kind: Attachment, wanted: bool| {
            let resolved = &resolved;
            async move {
                if !wanted {
                    return None;
                }
                Some(
                    read_attachments(
                        self.client,
                        image,
                        resolved,
                        kind,
                        self.signature_repository,
                    )
                    .await
                    .map_err(Arc::new),
                )
            }
        };
        let referrers = async {
            if !needs.referrers {
                return None;
            }
            Some(
                read_referrer_bundles(
                    self.client,
                    image,
                    &resolved,
                    self.signature_repository,
                    needs.referrer_predicate_type.as_ref(),
                )
                .await
                .map_err(Arc::new),
            )
        };
        let notation = async {
            if !needs.notation {
                return None;
            }
            Some(
                read_notation_signatures(self.client, image, &resolved, self.signature_repository)
                    .await
                    .map_err(Arc::new),
            )
        };
        let contents = async {
            if !needs.image {
                return None;
            }
            Some(
                read_contents(self.client, &resolved)
                    .await
                    .map_err(Arc::new),
            )
        };
        let ((signatures, attestations), (referrers, notation, contents)) =
            futures_util::future::join(
                futures_util::future::join(
                    read(Attachment::Signature, needs.signatures),
                    read(Attachment::Attestation, needs.attestations),
                ),
                futures_util::future::join3(referrers, notation, contents),
            )
            .await;
        let Resolved {
            digest,
            resolved_from_tag,
            ..
        } = resolved;
        Ok(ImageEvidence {
            image: image.to_string(),
            digest,
            resolved_from_tag,
            signatures,
            attestations,
            referrers,
            notation,
            contents,
        })
    }

    /// Answers `question` about `image` for `authority`: gathers, then judges; and, when
    /// the image's own evidence does not verify and index signatures are accepted, the same
    /// through the index (see [`crate::platform`]).
    pub async fn check(
        &self,
        image: &ImageReference,
        authority: &Authority,
        question: &Question,
    ) -> ImageCheck {
        let mut check = self.check_own(image, authority, question).await;
        if let (IndexSignatures::Accept(source), Question::Signature { .. }, Some(digest)) =
            (&self.index_signatures, question, check.digest.clone())
            && !check.is_verified()
        {
            check.through_index = Some(
                self.through_index(image, &digest, source, authority, question)
                    .await,
            );
        }
        check
    }

    async fn check_own(
        &self,
        image: &ImageReference,
        authority: &Authority,
        question: &Question,
    ) -> ImageCheck {
        let needs = EvidenceNeeds::for_question(authority, question);
        match self.gather(image, &needs).await {
            Ok(evidence) => judge_image(&evidence, authority, question),
            Err(error) => ImageCheck::from_unresolved(image.to_string(), error),
        }
    }

    /// The index `source` names for `image` (whose digest is `digest`): read, checked to list
    /// the digest, and if it does, checked itself.
    async fn through_index(
        &self,
        image: &ImageReference,
        digest: &Digest,
        source: &IndexSource,
        authority: &Authority,
        question: &Question,
    ) -> ThroughIndex {
        let Some(index) = source.index_for(image) else {
            return ThroughIndex::NotLinked(IndexLinkFailure::NoIndexNamed {
                image: image.to_string(),
            });
        };
        let evidence = match gather_index_link(self.client, image, &index).await {
            Ok(evidence) => evidence,
            Err(error) => return ThroughIndex::Unreadable(Arc::new(error)),
        };
        match judge_index_link(&evidence, digest) {
            Ok(link) => {
                let check = self.check_own(link.index(), authority, question).await;
                ThroughIndex::Linked {
                    link,
                    check: Box::new(check),
                }
            }
            Err(failure) => ThroughIndex::NotLinked(failure),
        }
    }

    /// [`Self::check`] for several images, concurrently over the shared connections; the
    /// answers are in the order of `images`.
    pub async fn check_all(
        &self,
        images: &[ImageReference],
        authority: &Authority,
        question: &Question,
    ) -> Vec<ImageCheck> {
        futures_util::stream::iter(images.iter().map(|i| self.check(i, authority, question)))
            .buffered(CONCURRENT_IMAGES)
            .collect()
            .await
    }
}

/// Answers `question` for `authority` from `evidence`. Pure: no I/O; the clock is read only
/// to refuse transparency-log entries integrated in the future.
pub fn judge_image(
    evidence: &ImageEvidence,
    authority: &Authority,
    question: &Question,
) -> ImageCheck {
    if let Authority::Notation(notation) = authority {
        return judge_notation_image(evidence, notation, question);
    }
    let mut findings = Vec::new();
    match question {
        Question::Signature { annotations } => {
            let options = CheckOptions {
                required_annotations: annotations.clone(),
                tlog: match authority {
                    Authority::Key(k) => k.tlog,
                    Authority::Identity(_) | Authority::Notation(_) => TlogPolicy::Require,
                },
            };
            let legacy = match authority {
                Authority::Key(k) => SignatureAuthority::Key {
                    key: &k.key,
                    log: k.trusted_root.as_deref(),
                },
                Authority::Identity(i) => SignatureAuthority::Certificate {
                    verifier: &i.trusted_root,
                    policy: &i.identity,
                },
                Authority::Notation(n) => return judge_notation_image(evidence, n, question),
            };
            findings.push(match evidence.signatures.as_ref() {
                Some(Ok(signatures)) => {
                    Finding::CosignSignatures(judge_with(signatures, legacy, &options))
                }
                Some(Err(error)) => Finding::Unreadable {
                    format: Format::CosignSignature,
                    error: Arc::clone(error),
                },
                None => Finding::Unreadable {
                    format: Format::CosignSignature,
                    error: Arc::new(Error::NotGathered {
                        what: "legacy signatures",
                    }),
                },
            });
        }
        Question::Attestation {
            predicate_type,
            keep,
        } => {
            let options = AttestationOptions {
                predicate_type: Some(predicate_type.clone()),
                tlog: match authority {
                    Authority::Key(k) => k.tlog,
                    Authority::Identity(_) | Authority::Notation(_) => TlogPolicy::Require,
                },
                keep: *keep,
            };
            let legacy = match authority {
                Authority::Key(k) => AttestationAuthority::Key {
                    key: &k.key,
                    log: k.trusted_root.as_deref(),
                },
                Authority::Identity(i) => AttestationAuthority::Certificate {
                    verifier: &i.trusted_root,
                    policy: &i.identity,
                },
                Authority::Notation(n) => return judge_notation_image(evidence, n, question),
            };
            findings.push(match evidence.attestations.as_ref() {
                Some(Ok(attestations)) => Finding::CosignAttestations(judge_attestations_with(
                    attestations,
                    legacy,
                    &options,
                )),
                Some(Err(error)) => Finding::Unreadable {
                    format: Format::CosignAttestation,
                    error: Arc::clone(error),
                },
                None => Finding::Unreadable {
                    format: Format::CosignAttestation,
                    error: Arc::new(Error::NotGathered {
                        what: "legacy attestations",
                    }),
                },
            });
        }
    }
    if let Some((root, policy)) = authority.bundle_policy() {
        findings.push(match evidence.referrers.as_ref() {
            Some(Ok(referrers)) => Finding::SigstoreBundles(judge_referrer_bundles(
                referrers,
                root,
                &policy,
                &question.purpose(),
            )),
            Some(Err(error)) => Finding::Unreadable {
                format: Format::SigstoreBundle,
                error: Arc::clone(error),
            },
            None => Finding::Unreadable {
                format: Format::SigstoreBundle,
                error: Arc::new(Error::NotGathered {
                    what: "Sigstore bundles",
                }),
            },
        });
    }
    ImageCheck {
        image: evidence.image.clone(),
        digest: Some(evidence.digest.clone()),
        resolved_from_tag: evidence.resolved_from_tag,
        findings,
        unresolved: None,
        through_index: None,
    }
}

/// A Notation authority's answer: its signatures are Notary Project signatures only, and
/// they sign images, not attestations.
fn judge_notation_image(
    evidence: &ImageEvidence,
    authority: &NotationAuthority,
    question: &Question,
) -> ImageCheck {
    let finding = match (question, evidence.notation.as_ref()) {
        (Question::Attestation { .. }, _) => {
            Finding::NotarySignatures(crate::notation::NotationReport::not_applicable(
                evidence.image.clone(),
                "Notary Project signatures sign images, not attestations",
            ))
        }
        (Question::Signature { annotations }, Some(Ok(notation))) => Finding::NotarySignatures(
            judge_notation(notation, authority, annotations, authority.time()),
        ),
        (Question::Signature { .. }, Some(Err(error))) => Finding::Unreadable {
            format: Format::NotarySignature,
            error: Arc::clone(error),
        },
        (Question::Signature { .. }, None) => Finding::Unreadable {
            format: Format::NotarySignature,
            error: Arc::new(Error::NotGathered {
                what: "Notary Project signatures",
            }),
        },
    };
    ImageCheck {
        image: evidence.image.clone(),
        digest: Some(evidence.digest.clone()),
        resolved_from_tag: evidence.resolved_from_tag,
        findings: vec![finding],
        unresolved: None,
        through_index: None,
    }
}

/// A format signet reads signatures and attestations in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Cosign's legacy signatures: layers of `sha256-<hex>.sig`.
    CosignSignature,
    /// Cosign's legacy attestations: DSSE layers of `sha256-<hex>.att`.
    CosignAttestation,
    /// Sigstore bundles attached as OCI 1.1 referrers (Cosign v3).
    SigstoreBundle,
    /// Notary Project signatures attached as OCI 1.1 referrers (Notation).
    NotarySignature,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CosignSignature => "Cosign signatures",
            Self::CosignAttestation => "Cosign attestations",
            Self::SigstoreBundle => "Sigstore bundles",
            Self::NotarySignature => "Notary Project signatures",
        })
    }
}

/// What one format said about the image.
#[derive(Debug)]
#[non_exhaustive]
pub enum Finding {
    /// The legacy signatures, each verified or rejected with its check.
    CosignSignatures(ImageReport),
    /// The legacy attestations, each verified or rejected with its check.
    CosignAttestations(AttestationReport),
    /// The referrer bundles, each verified or rejected with its check.
    SigstoreBundles(ReferrerReport),
    /// The Notary Project signatures, each verified or rejected with its check.
    NotarySignatures(NotationReport),
    /// The format could not be read: nothing is known from it.
    Unreadable {
        /// Which format.
        format: Format,
        /// Why.
        error: Arc<Error>,
    },
}

impl Finding {
    /// The format this finding is about.
    pub fn format(&self) -> Format {
        match self {
            Self::CosignSignatures(_) => Format::CosignSignature,
            Self::CosignAttestations(_) => Format::CosignAttestation,
            Self::SigstoreBundles(_) => Format::SigstoreBundle,
            Self::NotarySignatures(_) => Format::NotarySignature,
            Self::Unreadable { format, .. } => *format,
        }
    }

    /// Whether at least one entry of this format passed every check.
    pub fn is_verified(&self) -> bool {
        match self {
            Self::CosignSignatures(r) => r.is_verified(),
            Self::CosignAttestations(r) => r.is_verified(),
            Self::SigstoreBundles(r) => r.is_verified(),
            Self::NotarySignatures(r) => r.is_verified(),
            Self::Unreadable { .. } => false,
        }
    }

    /// Each rejected entry: where it is, the check it failed, and why.
    pub fn rejections(&self) -> Vec<Rejection> {
        match self {
            Self::CosignSignatures(r) => r
                .rejected()
                .iter()
                .map(|s| Rejection {
                    format: Format::CosignSignature,
                    entry: format!("signature {} (layer {})", s.index + 1, s.layer_digest),
                    check: s.failure.code(),
                    reason: s.failure.to_string(),
                })
                .collect(),
            Self::CosignAttestations(r) => r
                .rejected()
                .iter()
                .map(|a| Rejection {
                    format: Format::CosignAttestation,
                    entry: format!("attestation {} (layer {})", a.index + 1, a.layer_digest),
                    check: a.failure.code(),
                    reason: a.failure.to_string(),
                })
                .collect(),
            Self::SigstoreBundles(r) => r
                .rejected()
                .iter()
                .map(|b| Rejection {
                    format: Format::SigstoreBundle,
                    entry: format!("bundle {}", b.manifest),
                    check: b.failure.code(),
                    reason: b.failure.to_string(),
                })
                .collect(),
            Self::NotarySignatures(r) => r
                .rejected()
                .iter()
                .map(|n| Rejection {
                    format: Format::NotarySignature,
                    entry: format!("notation signature {}", n.manifest),
                    check: n.failure.code(),
                    reason: match &n.failure {
                        NotationRejection::Signature(f) => format!("{f}: {}", f.detail()),
                        other => other.to_string(),
                    },
                })
                .collect(),
            Self::Unreadable { .. } => Vec::new(),
        }
    }

    /// One line: how many entries passed, or why none did.
    pub fn summary(&self) -> String {
        match self {
            Self::CosignSignatures(r) => r.summary(),
            Self::CosignAttestations(r) => r.summary(),
            Self::SigstoreBundles(r) => r.summary(),
            Self::NotarySignatures(r) => r.summary(),
            Self::Unreadable { format, error } => {
                format!(
                    "{format} could not be read: {}",
                    error_chain(error.as_ref())
                )
            }
        }
    }
}

/// One rejected signature, attestation or bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its format.
    pub format: Format,
    /// Which entry (position and layer or manifest digest).
    pub entry: String,
    /// A short, stable name of the check it failed.
    pub check: &'static str,
    /// What failed.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.entry, self.check, self.reason)
    }
}

/// The answer about one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At least one signature (or attestation) passed every check.
    Verified,
    /// Every format was read and nothing passed.
    Denied,
    /// Nothing passed, and some evidence could not be read: the answer is unknown.
    Undecided,
}

/// How an image whose own evidence did not verify fared through an image index
/// ([`IndexSignatures::Accept`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ThroughIndex {
    /// The index lists the image; `check` is the same question asked about the index.
    Linked {
        /// What links the index to the image.
        link: IndexLink,
        /// The index's own check.
        check: Box<ImageCheck>,
    },
    /// The index does not vouch for the image, and why.
    NotLinked(IndexLinkFailure),
    /// The index could not be read.
    Unreadable(Arc<Error>),
}

impl ThroughIndex {
    /// One line: why the index did not verify the image (or that it did).
    pub fn summary(&self) -> String {
        match self {
            Self::Linked { link, check } if check.is_verified() => {
                format!("it is {link}, whose signature verified")
            }
            Self::Linked { link, check } => format!(
                "it is {link}, but no signature of the index verified: {}",
                check.reasons().join("; ")
            ),
            Self::NotLinked(failure) => failure.to_string(),
            Self::Unreadable(error) => format!(
                "the index could not be read: {}",
                error_chain(error.as_ref())
            ),
        }
    }
}

/// The answer to one question about one image, with everything that led to it. Only this
/// crate makes one.
#[derive(Debug)]
pub struct ImageCheck {
    image: String,
    digest: Option<Digest>,
    resolved_from_tag: bool,
    findings: Vec<Finding>,
    unresolved: Option<Error>,
    through_index: Option<ThroughIndex>,
}

impl ImageCheck {
    fn from_unresolved(image: String, error: Error) -> Self {
        Self {
            image,
            digest: None,
            resolved_from_tag: false,
            findings: Vec::new(),
            unresolved: Some(error),
            through_index: None,
        }
    }

    /// Verified, denied or undecided: verified by the image's own evidence, or through an
    /// index that lists it and verified; undecided when nothing verified and some evidence
    /// (the image's, or the index's when it was looked at) could not be read.
    pub fn verdict(&self) -> Verdict {
        let own = if self.findings.iter().any(Finding::is_verified) {
            Verdict::Verified
        } else if self.unresolved.is_some()
            || self
                .findings
                .iter()
                .any(|f| matches!(f, Finding::Unreadable { .. }))
        {
            Verdict::Undecided
        } else {
            Verdict::Denied
        };
        match (&self.through_index, own) {
            (_, Verdict::Verified) => Verdict::Verified,
            (Some(ThroughIndex::Linked { check, .. }), _) if check.is_verified() => {
                Verdict::Verified
            }
            (Some(ThroughIndex::Linked { check, .. }), _)
                if check.verdict() == Verdict::Undecided =>
            {
                Verdict::Undecided
            }
            (Some(ThroughIndex::Unreadable(_)), _) => Verdict::Undecided,
            (_, own) => own,
        }
    }

    /// What was found through an image index, when the image's own evidence did not verify
    /// and index signatures were accepted.
    pub fn through_index(&self) -> Option<&ThroughIndex> {
        self.through_index.as_ref()
    }

    /// When the image verified only through an index: the link and the index's check.
    pub fn verified_through_index(&self) -> Option<(&IndexLink, &ImageCheck)> {
        if self.findings.iter().any(Finding::is_verified) {
            return None;
        }
        match &self.through_index {
            Some(ThroughIndex::Linked { link, check }) if check.is_verified() => {
                Some((link, check))
            }
            _ => None,
        }
    }

    /// Whether the answer is yes.
    pub fn is_verified(&self) -> bool {
        self.verdict() == Verdict::Verified
    }

    /// The image as asked about.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The digest every finding is about (what was verified); `None` if the image could not
    /// be resolved.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Whether a tag was read to find the digest.
    pub fn resolved_from_tag(&self) -> bool {
        self.resolved_from_tag
    }

    /// What each format said, in the order they were judged.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Why the image could not be resolved at all (not found, store unreachable).
    pub fn unresolved(&self) -> Option<&Error> {
        self.unresolved.as_ref()
    }

    /// Every rejected entry of every format.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.findings.iter().flat_map(Finding::rejections).collect()
    }

    /// Why the answer is not yes, in one line per reason: each format's summary and, for
    /// undecided formats, the error.
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons = match &self.unresolved {
            Some(error) => vec![format!(
                "could not verify {}: {}",
                self.image,
                error_chain(error)
            )],
            None => self.findings.iter().map(Finding::summary).collect(),
        };
        if let Some(through) = &self.through_index {
            reasons.push(format!("through an image index: {}", through.summary()));
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Digest {
        format!("sha256:{}", c.to_string().repeat(64))
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A check whose own evidence is `findings` (empty: read, and nothing verified).
    fn check(findings: Vec<Finding>, through_index: Option<ThroughIndex>) -> ImageCheck {
        ImageCheck {
            image: "registry.example/app:v1@sha256:aaa…".into(),
            digest: Some(digest('a')),
            resolved_from_tag: false,
            findings,
            unresolved: None,
            through_index,
        }
    }

    fn unreadable() -> Finding {
        Finding::Unreadable {
            format: Format::CosignSignature,
            error: Arc::new(Error::NotGathered { what: "test" }),
        }
    }

    #[test]
    fn an_index_that_does_not_list_the_image_leaves_it_denied_and_says_why() {
        let failure = IndexLinkFailure::NotListed {
            index: "registry.example/app:v1".into(),
            digest: digest('e'),
            platform: digest('a'),
            unread: 0,
        };
        let c = check(Vec::new(), Some(ThroughIndex::NotLinked(failure)));
        assert_eq!(c.verdict(), Verdict::Denied);
        assert!(
            c.reasons()
                .iter()
                .any(|r| r.starts_with("through an image index: the index")
                    && r.contains("does not list")),
            "{:?}",
            c.reasons()
        );
    }

    #[test]
    fn an_index_that_cannot_be_read_leaves_the_image_undecided_not_denied() {
        let c = check(
            Vec::new(),
            Some(ThroughIndex::Unreadable(Arc::new(Error::NotGathered {
                what: "the index",
            }))),
        );
        assert_eq!(c.verdict(), Verdict::Undecided);
    }

    #[test]
    fn a_linked_index_counts_only_with_its_own_verdict() {
        let linked = |index: ImageCheck| {
            let evidence = crate::platform::IndexEvidence {
                named: "registry.example/app:v1".into(),
                index: format!("registry.example/app@{}", digest('e'))
                    .parse()
                    .unwrap_or_else(|e| panic!("{e}")),
                digest: digest('e'),
                media_type: None,
                indexes: vec![(
                    digest('e'),
                    signet_core::manifest::ImageIndex::parse(
                        format!(
                            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"{}"}}]}}"#,
                            digest('a')
                        )
                        .as_bytes(),
                    )
                    .unwrap_or_else(|e| panic!("{e}")),
                )],
                unread: 0,
            };
            let link = judge_index_link(&evidence, &digest('a')).unwrap_or_else(|e| panic!("{e}"));
            ThroughIndex::Linked {
                link,
                check: Box::new(index),
            }
        };
        // The index's own check denied: still denied.
        let c = check(Vec::new(), Some(linked(check(Vec::new(), None))));
        assert_eq!(c.verdict(), Verdict::Denied);
        assert!(c.verified_through_index().is_none());
        // The index's evidence could not be read: undecided.
        let c = check(Vec::new(), Some(linked(check(vec![unreadable()], None))));
        assert_eq!(c.verdict(), Verdict::Undecided);
    }
}
