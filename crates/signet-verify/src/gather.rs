//! Reading an image's attachments (signatures or attestations) from its store: the only I/O
//! of verification.

use signet_core::cosign::{Attachment, attachment_tag};
use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageManifest};
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;

/// One layer of an attachment manifest and its content.
#[derive(Debug, Clone)]
pub struct LayerEvidence {
    /// The layer's position in the manifest (0-based).
    pub index: usize,
    /// The layer descriptor, with its annotations.
    pub layer: Descriptor,
    /// The layer's bytes (a signature payload, a DSSE envelope), or why they could not be read
    /// (missing, over the size limit, not matching the layer digest).
    pub content: Result<Vec<u8>, String>,
}

/// Everything needed to judge an image's signatures or attestations.
#[derive(Debug, Clone)]
pub struct AttachmentEvidence {
    /// The image, pinned to the digest it resolved to.
    pub image: String,
    /// The image's repository name.
    pub repository: String,
    /// The manifest digest the image resolved to.
    pub digest: Digest,
    /// Whether a tag was resolved to find the digest.
    pub resolved_from_tag: bool,
    /// Where the attachments were looked for (`repository:tag`).
    pub location: String,
    /// The layers, up to the per-image limit.
    pub layers: Vec<LayerEvidence>,
    /// Layers beyond the limit, which were not considered.
    pub skipped_layers: usize,
}

/// Resolves `image` and reads its `kind` attachments, each bounded by the client's limits.
pub async fn gather_attachments(
    client: &OciClient,
    image: &ImageReference,
    kind: Attachment,
    repository_override: Option<&Repository>,
) -> Result<AttachmentEvidence, Error> {
    let resolved = resolve(client, image).await?;
    read_attachments(client, image, &resolved, kind, repository_override).await
}

/// Reads the `kind` attachments of an image already resolved to a digest.
pub(crate) async fn read_attachments(
    client: &OciClient,
    image: &ImageReference,
    resolved: &Resolved,
    kind: Attachment,
    repository_override: Option<&Repository>,
) -> Result<AttachmentEvidence, Error> {
    let Resolved {
        repository,
        digest,
        resolved_from_tag,
        ..
    } = resolved;
    let (digest, resolved_from_tag) = (digest.clone(), *resolved_from_tag);
    let attachments = client.attachment_repository(image, repository, repository_override)?;
    let tag = attachment_tag(&digest, kind);
    let location = format!("{}:{tag}", attachments.name());
    let mut evidence = AttachmentEvidence {
        image: image.pinned(digest.clone()).to_string(),
        repository: repository.name(),
        digest,
        resolved_from_tag,
        location: location.clone(),
        layers: Vec::new(),
        skipped_layers: 0,
    };
    let Some(fetched) = attachments.manifest(&ManifestRef::Tag(tag)).await? else {
        return Ok(evidence);
    };
    let manifest = ImageManifest::parse(&fetched.bytes)
        .map_err(|source| Error::MalformedAttachmentManifest { location, source })?;
    let limits = *client.limits();
    let considered = manifest.layers.len().min(limits.max_signatures_per_image);
    evidence.skipped_layers = manifest.layers.len() - considered;
    for (index, layer) in manifest.layers.into_iter().take(considered).enumerate() {
        let content = if layer.size > limits.max_attachment_bytes {
            Err(format!(
                "the layer is {} bytes, over the limit of {} bytes",
                layer.size, limits.max_attachment_bytes
            ))
        } else {
            match attachments
                .blob(&layer.digest, limits.max_attachment_bytes)
                .await
            {
                Ok(bytes) => Ok(bytes),
                Err(
                    e @ (signet_oci::Error::MissingBlob { .. }
                    | signet_oci::Error::TooLarge { .. }
                    | signet_oci::Error::DigestMismatch { .. }),
                ) => Err(e.to_string()),
                Err(other) => return Err(other.into()),
            }
        };
        evidence.layers.push(LayerEvidence {
            index,
            layer,
            content,
        });
    }
    Ok(evidence)
}

/// An image's repository and the manifest digest its reference named, found once and used
/// for every format read afterwards (a tag is read once, so every format is about one digest).
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) repository: std::sync::Arc<dyn signet_oci::OciRepository>,
    pub(crate) digest: Digest,
    pub(crate) resolved_from_tag: bool,
    /// The manifest's media type and size, when it was read (Notary Project signatures sign
    /// them; a digest reference is otherwise not read).
    pub(crate) media_type: Option<String>,
    pub(crate) size: Option<u64>,
}

/// Opens `image`'s repository and the digest it names (reading the manifest for a tag).
pub(crate) async fn resolve(client: &OciClient, image: &ImageReference) -> Result<Resolved, Error> {
    let (repository, reference) = client.open(image)?;
    let digest = match &reference {
        // A digest reference needs no manifest read: the digest is what is verified.
        ManifestRef::Digest(d) => d.clone(),
        ManifestRef::Tag(_) => {
            repository
                .manifest(&reference)
                .await?
                .ok_or_else(|| Error::ImageNotFound {
                    image: image.to_string(),
                })?
                .digest
        }
    };
    Ok(Resolved {
        repository,
        digest,
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        media_type: None,
        size: None,
    })
}

/// Like [`resolve`], but always reads the manifest (by tag or digest, bounded) for the
/// descriptor a Notary Project payload signs: digest, media type and size.
pub(crate) async fn resolve_descriptor(
    client: &OciClient,
    image: &ImageReference,
) -> Result<Resolved, Error> {
    let (repository, reference) = client.open(image)?;
    let fetched = repository
        .manifest(&reference)
        .await?
        .ok_or_else(|| Error::ImageNotFound {
            image: image.to_string(),
        })?;
    Ok(Resolved {
        repository,
        digest: fetched.digest,
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        media_type: fetched.media_type,
        size: Some(fetched.bytes.len() as u64),
    })
}
