//! Copying a signed image between stores: the image (every manifest of its index), its
//! signatures, attestations and SBOMs under Cosign's tags, and the OCI 1.1 referrers of each
//! manifest (Cosign v3's Sigstore bundles among them), all by digest.
//!
//! A copy is planned first ([`plan_copy`]: every manifest read, bounded and digest-checked;
//! no blob content yet), then carried out ([`CopyPlan::execute`]) in an order that loses
//! nothing if it stops half-way: blobs (streamed, each checked against its digest), then the
//! manifests that reference them, children before the indexes that list them, then the
//! attachment tags and referrer listings, and the destination tag last. Before writing
//! anything, a copy that would replace a tag holding other content is refused
//! ([`Overwrite::Refuse`]) unless the caller chose to replace it.
//!
//! What the destination tags differs from Cosign's `copy` in one respect: Cosign also tags
//! every copied manifest `sha256-<hex>`, the referrers tag schema's name; signet pushes
//! platform manifests by digest and leaves that tag to the referrers index.

use std::collections::{BTreeMap, HashSet};

use futures_util::StreamExt;
use signet_core::cosign::{Attachment, attachment_tag};
use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageManifest};

use crate::referrers::{ReferrersListing, add_to_tag_schema_index, list_referrers};
use crate::walk::{ImageTree, ManifestKind, walk};
use signet_core::reference::{ImageReference, Repository};

use crate::{Error, FetchedManifest, Limits, ManifestRef, OciClient, OciRepository};

/// Blobs copied at once.
const CONCURRENT_BLOBS: usize = 4;

/// The `artifactType` (and layer media type) of Cosign v3's Sigstore bundle referrers.
const BUNDLE_ARTIFACT_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The annotation naming a bundle referrer's predicate type.
const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// The predicate type of the statement `cosign sign` v3 signs.
const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// What a copy takes along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    image: bool,
    signatures: bool,
    attestations: bool,
    sboms: bool,
    other_referrers: bool,
}

impl Selection {
    /// The image and everything attached to it (Cosign's `copy` without `--only`).
    pub fn everything() -> Self {
        Self {
            image: true,
            signatures: true,
            attestations: true,
            sboms: true,
            other_referrers: true,
        }
    }

    /// Only these attachments (`--only sig,att,sbom`), not the image and not its tag:
    /// signatures are the `.sig` tags and the Sigstore bundles of `cosign sign`, attestations
    /// the `.att` tags and every other Sigstore bundle, SBOMs the `.sbom` tags.
    pub fn only(kinds: &[Attachment]) -> Self {
        Self {
            image: false,
            signatures: kinds.contains(&Attachment::Signature),
            attestations: kinds.contains(&Attachment::Attestation),
            sboms: kinds.contains(&Attachment::Sbom),
            other_referrers: false,
        }
    }

    /// Whether the image itself (and the destination tag) is copied.
    pub fn includes_image(&self) -> bool {
        self.image
    }

    fn includes(&self, kind: Attachment) -> bool {
        match kind {
            Attachment::Signature => self.signatures,
            Attachment::Attestation => self.attestations,
            Attachment::Sbom => self.sboms,
        }
    }
}

/// What happens to a destination tag that already holds other content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// The copy is refused before anything is written ([`Error::Conflict`]).
    #[default]
    Refuse,
    /// The tag is moved to the copied content (Cosign's `--force`); what it held stays in the
    /// destination by digest.
    Replace,
}

/// What a referrer is, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrerKind {
    /// A Sigstore bundle of `cosign sign` (predicate type `https://sigstore.dev/cosign/sign/v1`).
    SignatureBundle,
    /// Any other Sigstore bundle: an attestation.
    AttestationBundle,
    /// Any other artifact.
    Other,
}

/// An attachment manifest under one of Cosign's tags, planned for copying.
#[derive(Debug, Clone)]
pub struct PlannedAttachment {
    /// The manifest it is attached to.
    pub subject: Digest,
    /// Signatures, attestations or SBOM.
    pub kind: Attachment,
    /// Its tag (`sha256-<hex>.sig`, …).
    pub tag: String,
    /// The manifest as read.
    pub manifest: FetchedManifest,
    blobs: Vec<Descriptor>,
}

/// A referrer manifest (a manifest whose `subject` is one of the image's), planned for copying.
#[derive(Debug, Clone)]
pub struct PlannedReferrer {
    /// The manifest it refers to.
    pub subject: Digest,
    /// What it is.
    pub kind: ReferrerKind,
    /// The manifest as read.
    pub manifest: FetchedManifest,
    /// Its entry in a referrers index (artifact type, annotations).
    pub descriptor: Descriptor,
    blobs: Vec<Descriptor>,
}

/// Everything a copy will write, read from the source.
#[derive(Debug, Clone)]
pub struct CopyPlan {
    tree: ImageTree,
    selection: Selection,
    attachments: Vec<PlannedAttachment>,
    referrers: Vec<PlannedReferrer>,
    /// Referrers listed for a manifest whose `subject` is another: listed, not copied.
    mislisted: Vec<Digest>,
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// The digest of the image copied.
    pub digest: Option<Digest>,
    /// Manifests of the image written (the root and its index's manifests).
    pub manifests: usize,
    /// Blobs written.
    pub blobs_copied: usize,
    /// Their bytes.
    pub bytes_copied: u64,
    /// Blobs the destination already held.
    pub blobs_present: usize,
    /// Blobs the destination registry mounted from the source repository (no bytes sent).
    pub blobs_mounted: usize,
    /// Attachment tags written, by kind.
    pub attachments: BTreeMap<String, usize>,
    /// Referrer manifests written.
    pub referrers: usize,
    /// Where the destination tag points, if one was written (`repository:tag`).
    pub tagged: Option<String>,
    /// Referrers the source listed for a manifest but whose `subject` is another one; not
    /// copied.
    pub mislisted_referrers: Vec<Digest>,
}

impl CopyPlan {
    /// The image and its index's manifests.
    pub fn tree(&self) -> &ImageTree {
        &self.tree
    }

    /// The attachment manifests to copy.
    pub fn attachments(&self) -> &[PlannedAttachment] {
        &self.attachments
    }

    /// The referrer manifests to copy.
    pub fn referrers(&self) -> &[PlannedReferrer] {
        &self.referrers
    }

    /// Every blob the plan writes, once each, with the store it is read from (`true`: the
    /// attachment store).
    fn blobs(&self) -> Vec<(Descriptor, bool)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut add = |d: &Descriptor, from_attachments: bool| {
            if is_foreign(d) {
                return;
            }
            if seen.insert(d.digest.clone()) {
                out.push((d.clone(), from_attachments));
            }
        };
        if self.selection.image {
            for node in self.tree.nodes() {
                if let ManifestKind::Image { config, layers } = &node.kind {
                    add(config, false);
                    layers.iter().for_each(|l| add(l, false));
                }
            }
        }
        for a in &self.attachments {
            a.blobs.iter().for_each(|b| add(b, true));
        }
        for r in &self.referrers {
            r.blobs.iter().for_each(|b| add(b, true));
        }
        out
    }

    /// Refuses, before anything is written, a copy that would move `dst_tag` or an attachment
    /// tag of `dst` to other content than it holds.
    async fn check_overwrites(
        &self,
        dst: &dyn OciRepository,
        dst_tag: Option<&str>,
    ) -> Result<(), Error> {
        let mut tags: Vec<(String, &Digest)> = self
            .attachments
            .iter()
            .map(|a| (a.tag.clone(), &a.manifest.digest))
            .collect();
        if let (true, Some(tag)) = (self.selection.image, dst_tag) {
            tags.push((tag.to_owned(), self.tree.root().digest()));
        }
        for (tag, incoming) in tags {
            if let Some(existing) = dst.manifest(&ManifestRef::Tag(tag.clone())).await?
                && existing.digest != *incoming
            {
                return Err(Error::Conflict {
                    location: format!("{}:{tag}", dst.name()),
                    existing: existing.digest,
                    incoming: incoming.clone(),
                });
            }
        }
        Ok(())
    }

    /// Writes the plan into `dst`: blobs, manifests, attachment tags and referrers, and, if
    /// the image is selected and `dst_tag` is given, the tag last. `src` is the store the
    /// plan was read from, `attachments` where its attachments were read.
    pub async fn execute(
        &self,
        src: &dyn OciRepository,
        attachments: &dyn OciRepository,
        dst: &dyn OciRepository,
        dst_tag: Option<&str>,
        overwrite: Overwrite,
    ) -> Result<CopyReport, Error> {
        if overwrite == Overwrite::Refuse {
            self.check_overwrites(dst, dst_tag).await?;
        }
        let mut report = CopyReport {
            digest: Some(self.tree.root().digest().clone()),
            mislisted_referrers: self.mislisted.clone(),
            ..CopyReport::default()
        };
        let results: Vec<Result<BlobCopy, Error>> =
            futures_util::stream::iter(self.blobs().into_iter().map(|(blob, from_att)| {
                let from = if from_att { attachments } else { src };
                copy_blob(from, dst, blob)
            }))
            .buffer_unordered(CONCURRENT_BLOBS)
            .collect()
            .await;
        for result in results {
            match result? {
                BlobCopy::Copied(bytes) => {
                    report.blobs_copied += 1;
                    report.bytes_copied += bytes;
                }
                BlobCopy::Mounted => report.blobs_mounted += 1,
                BlobCopy::Present => report.blobs_present += 1,
            }
        }
        if self.selection.image {
            // Children before the indexes that list them; the root by digest too, so that
            // the attachments below never point at a manifest the destination lacks.
            for node in self.tree.nodes().iter().rev() {
                dst.push_manifest_by_digest(&node.manifest.bytes, &node.media_type)
                    .await?;
                report.manifests += 1;
            }
        }
        for a in &self.attachments {
            let media_type = a
                .manifest
                .media_type
                .as_deref()
                .unwrap_or(signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE);
            dst.push_manifest(&a.tag, &a.manifest.bytes, media_type)
                .await?;
            *report
                .attachments
                .entry(attachment_name(a.kind).to_owned())
                .or_default() += 1;
        }
        let mut by_subject: BTreeMap<&Digest, Vec<Descriptor>> = BTreeMap::new();
        for r in &self.referrers {
            dst.push_manifest(
                &r.manifest.digest.to_string(),
                &r.manifest.bytes,
                &r.descriptor.media_type,
            )
            .await?;
            report.referrers += 1;
            by_subject
                .entry(&r.subject)
                .or_default()
                .push(r.descriptor.clone());
        }
        for (subject, entries) in by_subject {
            // A registry with the referrers API has indexed them on upload.
            if dst.referrers(subject).await?.is_none() {
                add_to_tag_schema_index(dst, subject, &entries).await?;
            }
        }
        if let (true, Some(tag)) = (self.selection.image, dst_tag) {
            let root = self.tree.root();
            dst.push_manifest(tag, &root.manifest.bytes, &root.media_type)
                .await?;
            report.tagged = Some(format!("{}:{tag}", dst.name()));
        }
        Ok(report)
    }
}

/// Copies the image `src` names to `dst` (a registry repository or an OCI layout, created if
/// need be), with what `selection` takes along, its attachments read from `attachments_from`
/// if given (`COSIGN_REPOSITORY`) and written next to the image. `dst`'s tag (or `latest`)
/// is moved to the image last; a `dst` naming a digest must name the image's.
pub async fn copy_image(
    client: &OciClient,
    src: &ImageReference,
    dst: &ImageReference,
    attachments_from: Option<&Repository>,
    selection: Selection,
    overwrite: Overwrite,
) -> Result<CopyReport, Error> {
    let (src_repo, src_ref) = client.open(src)?;
    let attachments = client.attachment_repository(src, &src_repo, attachments_from)?;
    let plan = plan_copy(
        src_repo.as_ref(),
        attachments.as_ref(),
        &src_ref,
        selection,
        client.limits(),
    )
    .await?;
    let (dst_repo, dst_ref) = client.open_for_writing(dst)?;
    let tag = destination_tag(&dst_ref, dst, plan.tree().root().digest())?;
    plan.execute(
        src_repo.as_ref(),
        attachments.as_ref(),
        dst_repo.as_ref(),
        tag.as_deref(),
        overwrite,
    )
    .await
}

/// The tag `dst` names, or none when it names the image's digest; an error when it names
/// another digest.
pub(crate) fn destination_tag(
    dst_ref: &ManifestRef,
    dst: &ImageReference,
    image: &Digest,
) -> Result<Option<String>, Error> {
    match dst_ref {
        ManifestRef::Tag(tag) => Ok(Some(tag.clone())),
        ManifestRef::Digest(named) if named == image => Ok(None),
        ManifestRef::Digest(named) => Err(Error::DestinationDigest {
            destination: dst.to_string(),
            named: named.clone(),
            image: image.clone(),
        }),
    }
}

/// Reads what copying the image `reference` names from `src` would write: the image's tree,
/// the selected attachments of every manifest in it (read from `attachments`, the same store
/// unless `COSIGN_REPOSITORY` says otherwise), and the selected referrers of each.
pub async fn plan_copy(
    src: &dyn OciRepository,
    attachments: &dyn OciRepository,
    reference: &ManifestRef,
    selection: Selection,
    limits: &Limits,
) -> Result<CopyPlan, Error> {
    let tree = walk(src, reference).await?;
    let mut plan = CopyPlan {
        tree,
        selection,
        attachments: Vec::new(),
        referrers: Vec::new(),
        mislisted: Vec::new(),
    };
    let digests: Vec<Digest> = plan
        .tree
        .nodes()
        .iter()
        .map(|n| n.digest().clone())
        .collect();
    for digest in &digests {
        for kind in [
            Attachment::Signature,
            Attachment::Attestation,
            Attachment::Sbom,
        ] {
            if !selection.includes(kind) {
                continue;
            }
            let tag = attachment_tag(digest, kind);
            let Some(manifest) = attachments.manifest(&ManifestRef::Tag(tag.clone())).await? else {
                continue;
            };
            let blobs = manifest_blobs(&manifest, &format!("{}:{tag}", attachments.name()))?;
            plan.attachments.push(PlannedAttachment {
                subject: digest.clone(),
                kind,
                tag,
                manifest,
                blobs,
            });
        }
        plan_referrers(&mut plan, attachments, digest, limits).await?;
    }
    Ok(plan)
}

/// Adds the selected referrers of `subject` to `plan`, each read by digest and checked to
/// refer to `subject` (a listing is never taken on trust).
async fn plan_referrers(
    plan: &mut CopyPlan,
    store: &dyn OciRepository,
    subject: &Digest,
    limits: &Limits,
) -> Result<(), Error> {
    if !(plan.selection.signatures || plan.selection.attestations || plan.selection.other_referrers)
    {
        return Ok(());
    }
    let (Some(index), listing) = list_referrers(store, subject).await? else {
        return Ok(());
    };
    if index.manifests.len() > limits.max_signatures_per_image {
        return Err(Error::TooLarge {
            what: format!(
                "the referrers of {subject} in {} ({})",
                store.name(),
                match listing {
                    ReferrersListing::Api => "referrers API",
                    ReferrersListing::TagSchema => "referrers tag schema",
                }
            ),
            limit: limits.max_signatures_per_image as u64,
        });
    }
    for entry in index.manifests {
        let Some(manifest) = store
            .manifest(&ManifestRef::Digest(entry.digest.clone()))
            .await?
        else {
            return Err(Error::MissingBlob {
                what: format!("referrer {} of {subject}", entry.digest),
                location: store.name(),
            });
        };
        let location = format!("{}@{}", store.name(), entry.digest);
        let parsed =
            ImageManifest::parse(&manifest.bytes).map_err(|e| Error::UnsupportedManifest {
                what: location.clone(),
                reason: format!("a referrer that is not an image manifest: {e}"),
            })?;
        let refers_to = parsed
            .extra
            .get("subject")
            .and_then(|s| s.get("digest"))
            .and_then(|d| d.as_str());
        if refers_to != Some(subject.to_string().as_str()) {
            plan.mislisted.push(entry.digest.clone());
            continue;
        }
        let kind = referrer_kind(&parsed);
        let wanted = match kind {
            ReferrerKind::SignatureBundle => plan.selection.signatures,
            ReferrerKind::AttestationBundle => plan.selection.attestations,
            ReferrerKind::Other => plan.selection.other_referrers,
        };
        if !wanted {
            continue;
        }
        let mut descriptor = Descriptor::for_bytes(
            manifest
                .media_type
                .as_deref()
                .unwrap_or(signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE),
            &manifest.bytes,
        );
        descriptor.annotations = parsed.annotations.clone();
        if let Some(t) = artifact_type(&parsed) {
            descriptor
                .extra
                .insert("artifactType".to_owned(), t.to_owned().into());
        }
        let mut blobs = vec![parsed.config.clone()];
        blobs.extend(parsed.layers.iter().cloned());
        plan.referrers.push(PlannedReferrer {
            subject: subject.clone(),
            kind,
            manifest,
            descriptor,
            blobs,
        });
    }
    Ok(())
}

/// The `artifactType` of a referrer: its own, else its config's media type.
fn artifact_type(manifest: &ImageManifest) -> Option<&str> {
    manifest
        .extra
        .get("artifactType")
        .and_then(|t| t.as_str())
        .or(Some(manifest.config.media_type.as_str()))
}

fn referrer_kind(manifest: &ImageManifest) -> ReferrerKind {
    let is_bundle = artifact_type(manifest).is_some_and(|t| t.starts_with(BUNDLE_ARTIFACT_PREFIX))
        || manifest
            .layers
            .iter()
            .any(|l| l.media_type.starts_with(BUNDLE_ARTIFACT_PREFIX));
    if !is_bundle {
        return ReferrerKind::Other;
    }
    match manifest
        .annotations
        .get(BUNDLE_PREDICATE_ANNOTATION)
        .map(String::as_str)
    {
        Some(COSIGN_SIGN_PREDICATE) => ReferrerKind::SignatureBundle,
        _ => ReferrerKind::AttestationBundle,
    }
}

/// The config and layers of an attachment manifest.
fn manifest_blobs(manifest: &FetchedManifest, location: &str) -> Result<Vec<Descriptor>, Error> {
    let parsed = ImageManifest::parse(&manifest.bytes).map_err(|e| Error::UnsupportedManifest {
        what: location.to_owned(),
        reason: format!("not an image manifest: {e}"),
    })?;
    let mut blobs = vec![parsed.config];
    blobs.extend(parsed.layers);
    Ok(blobs)
}

/// Layers a registry never holds (Windows base layers): their descriptor lists `urls`, or the
/// media type says so.
fn is_foreign(descriptor: &Descriptor) -> bool {
    descriptor.extra.contains_key("urls")
        || descriptor.media_type.contains("foreign")
        || descriptor.media_type.contains("nondistributable")
}

fn attachment_name(kind: Attachment) -> &'static str {
    match kind {
        Attachment::Signature => "signatures",
        Attachment::Attestation => "attestations",
        Attachment::Sbom => "sboms",
    }
}

/// What copying one blob took.
enum BlobCopy {
    /// The destination had it.
    Present,
    /// The destination registry mounted it from the source repository.
    Mounted,
    /// This many bytes were sent.
    Copied(u64),
}

/// Copies one blob unless `dst` has it or can mount it. A transfer that breaks off is started
/// once more from the beginning.
async fn copy_blob(
    src: &dyn OciRepository,
    dst: &dyn OciRepository,
    blob: Descriptor,
) -> Result<BlobCopy, Error> {
    if dst.has_blob(&blob.digest).await? {
        return Ok(BlobCopy::Present);
    }
    // Within one registry, a mount moves no bytes; it is checked like any other write.
    if dst.mount_blob(&blob.digest, &src.name()).await? && dst.has_blob(&blob.digest).await? {
        return Ok(BlobCopy::Mounted);
    }
    let mut attempts = 0;
    loop {
        attempts += 1;
        let stream = src.blob_stream(&blob.digest, blob.size).await?;
        match dst.push_blob_stream(&blob.digest, blob.size, stream).await {
            Ok(()) => return Ok(BlobCopy::Copied(blob.size)),
            Err(Error::Unreachable { .. } | Error::Registry { .. }) if attempts < 2 => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LayoutRepository;
    use signet_core::cosign::{OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE};
    use signet_core::manifest::signature_manifest;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(f)
    }

    fn layout(dir: &tempfile::TempDir, name: &str) -> LayoutRepository {
        LayoutRepository::init(&dir.path().join(name).to_string_lossy(), Limits::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// An image tagged `v1` with one signature under Cosign's tag.
    fn signed_image(repo: &LayoutRepository) -> Digest {
        let layer = b"a layer";
        let layer_digest = block_on(repo.push_blob(layer)).unwrap_or_else(|e| panic!("{e}"));
        let config = br#"{"os":"linux"}"#;
        let config_digest = block_on(repo.push_blob(config)).unwrap_or_else(|e| panic!("{e}"));
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
        })
        .to_string();
        let digest =
            block_on(repo.push_manifest("v1", manifest.as_bytes(), OCI_MANIFEST_MEDIA_TYPE))
                .unwrap_or_else(|e| panic!("{e}"));
        let payload = b"{\"critical\":{}}";
        block_on(repo.push_blob(payload)).unwrap_or_else(|e| panic!("{e}"));
        let (sig, config) = signature_manifest(vec![Descriptor::for_bytes(
            SIMPLE_SIGNING_MEDIA_TYPE,
            payload,
        )]);
        block_on(repo.push_blob(&config)).unwrap_or_else(|e| panic!("{e}"));
        block_on(repo.push_manifest(
            &attachment_tag(&digest, Attachment::Signature),
            &sig.to_bytes(),
            OCI_MANIFEST_MEDIA_TYPE,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        digest
    }

    fn copy(
        src: &LayoutRepository,
        dst: &LayoutRepository,
        selection: Selection,
        overwrite: Overwrite,
    ) -> Result<CopyReport, Error> {
        block_on(async {
            let plan = plan_copy(
                src,
                src,
                &ManifestRef::Tag("v1".into()),
                selection,
                &Limits::default(),
            )
            .await?;
            plan.execute(src, src, dst, Some("copied"), overwrite).await
        })
    }

    #[test]
    fn copies_the_image_and_its_signatures_and_tags_it_last() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (src, dst) = (layout(&dir, "src"), layout(&dir, "dst"));
        let digest = signed_image(&src);
        let report = copy(&src, &dst, Selection::everything(), Overwrite::Refuse)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.blobs_copied, 4, "{report:?}");
        assert_eq!(report.attachments.get("signatures"), Some(&1));
        let tagged = block_on(dst.manifest(&ManifestRef::Tag("copied".into())))
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|m| m.digest);
        assert_eq!(tagged, Some(digest.clone()));
        let sig = block_on(dst.manifest(&ManifestRef::Tag(attachment_tag(
            &digest,
            Attachment::Signature,
        ))))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(sig.is_some());
        // A second copy finds everything there and writes no blob.
        let again = copy(&src, &dst, Selection::everything(), Overwrite::Refuse)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((again.blobs_copied, again.blobs_present), (0, 4));
    }

    #[test]
    fn a_tag_holding_other_content_is_refused_before_anything_is_written_unless_replaced() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (src, dst) = (layout(&dir, "src"), layout(&dir, "dst"));
        signed_image(&src);
        block_on(dst.push_manifest("copied", br#"{"other":1}"#, OCI_MANIFEST_MEDIA_TYPE))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = copy(&src, &dst, Selection::everything(), Overwrite::Refuse).err();
        assert!(matches!(err, Some(Error::Conflict { .. })), "{err:?}");
        let blobs = std::fs::read_dir(dir.path().join("dst/blobs/sha256"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(blobs, 1, "only the conflicting manifest itself is there");
        copy(&src, &dst, Selection::everything(), Overwrite::Replace)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn only_signatures_copies_neither_the_image_nor_the_tag() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (src, dst) = (layout(&dir, "src"), layout(&dir, "dst"));
        signed_image(&src);
        let report = copy(
            &src,
            &dst,
            Selection::only(&[Attachment::Signature]),
            Overwrite::Refuse,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((report.manifests, report.tagged.as_deref()), (0, None));
        assert_eq!(report.blobs_copied, 2, "the payload and the config");
        assert!(
            block_on(dst.manifest(&ManifestRef::Tag("copied".into())))
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
    }
}
