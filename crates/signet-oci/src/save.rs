//! `save` and `load`: an image with its signatures and attestations in an OCI layout, in the
//! format of `cosign save` and `cosign load`.
//!
//! Cosign's format (`pkg/oci/layout` in sigstore/cosign): a layout whose `index.json` lists the
//! saved image (an image, `kind: dev.cosignproject.cosign/image`, or an index,
//! `kind: dev.cosignproject.cosign/imageIndex`), its signature manifest
//! (`kind: dev.cosignproject.cosign/sigs`) and its attestation manifest
//! (`kind: dev.cosignproject.cosign/atts`), every blob they reach under `blobs/`. Cosign's
//! loader takes the first entry of each kind; it finds the image's OCI 1.1 referrers (Sigstore
//! bundles) by reading the blobs for manifests whose `subject` is the image.
//!
//! `signet save` writes exactly that, and what Cosign's format has no place for in entries
//! Cosign's loader passes over: the signatures, attestations and SBOMs of an index's platform
//! manifests and the image's SBOM under Cosign's tag names
//! (`org.opencontainers.image.ref.name: sha256-<hex>.sig`), and every referrer listed without
//! a name (Cosign leaves them unlisted). `cosign save` drops all of these (see
//! docs/compatibility.md). Blobs are written first and `index.json` last, in one rename, so
//! an interrupted save leaves the previous `index.json`.
//!
//! `load` is a [`copy`](crate::copy) out of such a layout, which [`LayoutRepository`] reads as
//! if its entries were tagged.

use std::collections::BTreeMap;

use signet_core::cosign::{Attachment, attachment_tag};
use signet_core::digest::Digest;
use signet_core::manifest::Descriptor;

use crate::copy::{CopyPlan, CopyReport, Overwrite, Selection, plan_copy};
use crate::layout::{
    CosignKind, KIND_ANNOTATION, LayoutRepository, REF_NAME_ANNOTATION, cosign_saved_image,
};
use signet_core::reference::{ImageReference, Repository};

use crate::{Error, Limits, ManifestRef, OciClient, OciRepository};

/// What a save wrote.
#[derive(Debug, Clone)]
pub struct SaveReport {
    /// The digest of the image saved.
    pub digest: Digest,
    /// Whether it is an image index.
    pub is_index: bool,
    /// Blobs written, and blobs the directory already held.
    pub copy: CopyReport,
    /// The entries of the new `index.json`: `(kind or tag, digest)`.
    pub entries: Vec<(String, Digest)>,
}

/// Saves the image `reference` names in `src` (attachments read from `attachments`) with its
/// signatures, attestations, SBOMs and referrers into the layout directory `dir`, in Cosign's
/// format. `dir` may be new, empty, or a layout an earlier save wrote (its `index.json` is
/// replaced, as Cosign replaces it); a layout holding anything else is refused.
pub async fn save(
    src: &dyn OciRepository,
    attachments: &dyn OciRepository,
    reference: &ManifestRef,
    dir: &str,
    limits: &Limits,
) -> Result<SaveReport, Error> {
    refuse_foreign_layout(dir, limits)?;
    let plan = plan_copy(src, attachments, reference, Selection::everything(), limits).await?;
    let layout = LayoutRepository::init(dir, *limits)?;
    // Every blob and every manifest as a blob; nothing listed yet.
    let copy = plan
        .execute(
            src,
            attachments,
            &BlobsOnly(&layout),
            None,
            Overwrite::Replace,
        )
        .await?;
    let entries = index_entries(&plan);
    let listed = entries
        .iter()
        .map(|d| {
            let name = d
                .annotations
                .get(KIND_ANNOTATION)
                .or_else(|| d.annotations.get(REF_NAME_ANNOTATION))
                .cloned()
                .unwrap_or_else(|| "(referrer)".to_owned());
            (name, d.digest.clone())
        })
        .collect();
    layout.replace_index(entries)?;
    let root = plan.tree().root();
    Ok(SaveReport {
        digest: root.digest().clone(),
        is_index: root.is_index(),
        copy,
        entries: listed,
    })
}

/// Pushes the image saved in the layout `dir` (by `cosign save` or `signet save`), with its
/// signatures, attestations and referrers, into `dst` under `dst_tag`.
pub async fn load(
    dir: &str,
    dst: &dyn OciRepository,
    dst_tag: Option<&str>,
    overwrite: Overwrite,
    limits: &Limits,
) -> Result<CopyReport, Error> {
    let layout = LayoutRepository::open(dir, *limits)?;
    let index = layout.entries()?;
    let saved = saved_image(&index, dir)?;
    let plan = plan_copy(
        &layout,
        &layout,
        &ManifestRef::Digest(saved),
        Selection::everything(),
        limits,
    )
    .await?;
    plan.execute(&layout, &layout, dst, dst_tag, overwrite)
        .await
}

/// Saves the image `image` names (attachments read from `attachments_from` if given,
/// `COSIGN_REPOSITORY`) into the layout directory `dir`; see [`save`].
pub async fn save_image(
    client: &OciClient,
    image: &ImageReference,
    attachments_from: Option<&Repository>,
    dir: &str,
) -> Result<SaveReport, Error> {
    let (repository, reference) = client.open(image)?;
    let attachments = client.attachment_repository(image, &repository, attachments_from)?;
    save(
        repository.as_ref(),
        attachments.as_ref(),
        &reference,
        dir,
        client.limits(),
    )
    .await
}

/// Pushes the image saved in `dir` to `dst` (its tag, or `latest`; a digest must be the saved
/// image's); see [`load`].
pub async fn load_image(
    client: &OciClient,
    dir: &str,
    dst: &ImageReference,
    overwrite: Overwrite,
) -> Result<CopyReport, Error> {
    let limits = client.limits();
    let layout = LayoutRepository::open(dir, *limits)?;
    let saved = saved_image(&layout.entries()?, dir)?;
    let (dst_repo, dst_ref) = client.open_for_writing(dst)?;
    let tag = crate::copy::destination_tag(&dst_ref, dst, &saved)?;
    load(dir, dst_repo.as_ref(), tag.as_deref(), overwrite, limits).await
}

/// The digest of the image a `cosign save` layout holds.
fn saved_image(entries: &[Descriptor], dir: &str) -> Result<Digest, Error> {
    let index = signet_core::manifest::ImageIndex {
        schema_version: 2,
        media_type: None,
        manifests: entries.to_vec(),
        extra: serde_json::Map::new(),
    };
    cosign_saved_image(&index)
        .map(|d| d.digest.clone())
        .ok_or_else(|| Error::LayoutFormat {
            path: dir.to_owned(),
            reason: format!(
                "no entry of index.json is marked {KIND_ANNOTATION}: {} or {}: not a layout written by `cosign save` or `signet save` (for any other layout, copy from oci:{dir}:TAG)",
                CosignKind::Image.annotation(),
                CosignKind::ImageIndex.annotation()
            ),
        })
}

/// Refuses a directory holding a layout that no save wrote: its `index.json` would be
/// replaced, and whatever it names lost.
fn refuse_foreign_layout(dir: &str, limits: &Limits) -> Result<(), Error> {
    let path = std::path::Path::new(dir);
    if !path.join("oci-layout").is_file() {
        if path.is_dir()
            && path
                .read_dir()
                .map_err(|source| Error::LayoutIo {
                    path: dir.to_owned(),
                    action: "listing the directory".to_owned(),
                    source,
                })?
                .next()
                .is_some()
        {
            return Err(Error::LayoutFormat {
                path: dir.to_owned(),
                reason: "the directory is not empty and holds no OCI layout: save into a new or empty directory".to_owned(),
            });
        }
        return Ok(());
    }
    let entries = LayoutRepository::open(dir, *limits)?.entries()?;
    if !entries.is_empty() && saved_image(&entries, dir).is_err() {
        return Err(Error::LayoutFormat {
            path: dir.to_owned(),
            reason: format!(
                "it holds an OCI layout with {} entr(y/ies) that no save wrote; saving would replace its index.json: save into a new or empty directory",
                entries.len()
            ),
        });
    }
    Ok(())
}

/// The entries of a saved layout's `index.json`: Cosign's three kinds first, then what
/// Cosign's format has no kind for.
fn index_entries(plan: &CopyPlan) -> Vec<Descriptor> {
    let root = plan.tree().root();
    let mut entries = Vec::new();
    let mut saved = root.descriptor();
    let kind = if root.is_index() {
        CosignKind::ImageIndex
    } else {
        CosignKind::Image
    };
    saved
        .annotations
        .insert(KIND_ANNOTATION.to_owned(), kind.annotation().to_owned());
    entries.push(saved);
    let mut tagged = Vec::new();
    for attachment in plan.attachments() {
        let mut entry = Descriptor::for_bytes(
            attachment
                .manifest
                .media_type
                .as_deref()
                .unwrap_or(signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE),
            &attachment.manifest.bytes,
        );
        let cosign_kind = match attachment.kind {
            Attachment::Signature => Some(CosignKind::Signatures),
            Attachment::Attestation => Some(CosignKind::Attestations),
            Attachment::Sbom => None,
        };
        match cosign_kind {
            Some(kind) if attachment.subject == *root.digest() => {
                entry
                    .annotations
                    .insert(KIND_ANNOTATION.to_owned(), kind.annotation().to_owned());
                entries.push(entry);
            }
            _ => {
                entry.annotations.insert(
                    REF_NAME_ANNOTATION.to_owned(),
                    attachment_tag(&attachment.subject, attachment.kind),
                );
                tagged.push(entry);
            }
        }
    }
    entries.extend(tagged);
    let mut seen = BTreeMap::new();
    for referrer in plan.referrers() {
        seen.entry(referrer.manifest.digest.clone())
            .or_insert_with(|| referrer.descriptor.clone());
    }
    entries.extend(seen.into_values());
    entries
}

/// A layout seen as a store that only takes blobs: manifests pushed by digest or tag are
/// written as blobs and listed nowhere, so that `index.json` can be written once, last.
#[derive(Debug)]
struct BlobsOnly<'a>(&'a LayoutRepository);

impl OciRepository for BlobsOnly<'_> {
    fn name(&self) -> String {
        self.0.name()
    }

    fn manifest<'a>(
        &'a self,
        reference: &'a ManifestRef,
    ) -> crate::BoxFuture<'a, Result<Option<crate::FetchedManifest>, Error>> {
        self.0.manifest(reference)
    }

    fn blob<'a>(
        &'a self,
        digest: &'a Digest,
        max_bytes: u64,
    ) -> crate::BoxFuture<'a, Result<Vec<u8>, Error>> {
        self.0.blob(digest, max_bytes)
    }

    /// Nothing is listed yet: the referrers are listed in `index.json` at the end.
    fn referrers<'a>(
        &'a self,
        _subject: &'a Digest,
    ) -> crate::BoxFuture<'a, Result<Option<crate::FetchedManifest>, Error>> {
        Box::pin(async move {
            Ok(Some(crate::FetchedManifest {
                bytes: br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
                digest: Digest::sha256_of(br#"{"schemaVersion":2,"manifests":[]}"#),
                media_type: None,
            }))
        })
    }

    fn push_blob<'a>(&'a self, bytes: &'a [u8]) -> crate::BoxFuture<'a, Result<Digest, Error>> {
        self.0.push_blob(bytes)
    }

    fn push_manifest<'a>(
        &'a self,
        _tag: &'a str,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> crate::BoxFuture<'a, Result<Digest, Error>> {
        self.0.push_manifest_by_digest(bytes, media_type)
    }

    fn push_manifest_by_digest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> crate::BoxFuture<'a, Result<Digest, Error>> {
        self.0.push_manifest_by_digest(bytes, media_type)
    }

    fn has_blob<'a>(&'a self, digest: &'a Digest) -> crate::BoxFuture<'a, Result<bool, Error>> {
        self.0.has_blob(digest)
    }

    fn blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
    ) -> crate::BoxFuture<'a, Result<crate::BlobStream, Error>> {
        self.0.blob_stream(digest, size)
    }

    fn push_blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
        stream: crate::BlobStream,
    ) -> crate::BoxFuture<'a, Result<(), Error>> {
        self.0.push_blob_stream(digest, size, stream)
    }
}
