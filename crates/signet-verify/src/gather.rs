//! Reading an image's attachments (signatures or attestations) from its store: the only I/O
//! of verification.

use std::sync::Arc;

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
    pub content: Result<Vec<u8>, Unreadable>,
}

/// Why one signature's, attestation's or bundle's content could not be read. That entry is
/// rejected with this reason; the others are still judged (a store that cannot be read at all
/// is an [`Error`] instead: the answer is then unknown).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Unreadable {
    /// The descriptor declares a size over the limit: nothing was fetched.
    #[error("the {what} is {size} bytes, over the limit of {limit} bytes")]
    OverLimit {
        /// `layer`, `bundle`.
        what: &'static str,
        /// The declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The store has no such blob, sent more than the limit, or sent content that does not
    /// match its digest.
    #[error(transparent)]
    Store(Arc<signet_oci::Error>),
    /// The referrer manifest listed in the index is not in the store.
    #[error("the referrer manifest is missing")]
    MissingReferrer,
    /// The referrer manifest does not parse.
    #[error("the referrer manifest is malformed: {0}")]
    MalformedReferrer(Arc<signet_core::Error>),
    /// The referrer is another kind of artifact.
    #[error("the referrer's artifact type is {0:?}, not a Sigstore bundle")]
    NotABundle(String),
    /// The referrer refers to another manifest (or to none).
    #[error("the referrer's subject is {}, not the image", .0.as_deref().unwrap_or("absent"))]
    OtherSubject(Option<String>),
    /// The referrer manifest has no layer holding a bundle.
    #[error("the referrer has no Sigstore bundle layer")]
    NoBundleLayer,
    /// The referrer is not a Notary Project signature manifest.
    #[error(
        "the referrer (artifact type {artifact_type:?}, config {config:?}) is not a Notary Project signature"
    )]
    NotANotarySignature {
        /// Its `artifactType` (empty when absent).
        artifact_type: String,
        /// Its config's media type.
        config: String,
    },
    /// A Notary Project signature manifest with other than one envelope layer.
    #[error("a Notary Project signature manifest holds exactly one envelope, this one {0}")]
    EnvelopeCount(usize),
}

impl Unreadable {
    /// The store failure as the reason an entry could not be read, if it is about that entry
    /// (missing, too large, corrupt); `Err` gives back a failure of the store itself.
    pub(crate) fn from_store(error: signet_oci::Error) -> Result<Self, signet_oci::Error> {
        match error {
            e @ (signet_oci::Error::MissingBlob { .. }
            | signet_oci::Error::TooLarge { .. }
            | signet_oci::Error::DigestMismatch { .. }) => Ok(Self::Store(Arc::new(e))),
            other => Err(other),
        }
    }
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
            Err(Unreadable::OverLimit {
                what: "layer",
                size: layer.size,
                limit: limits.max_attachment_bytes,
            })
        } else {
            match attachments
                .blob(&layer.digest, limits.max_attachment_bytes)
                .await
            {
                Ok(bytes) => Ok(bytes),
                Err(e) => Err(Unreadable::from_store(e)?),
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
    /// The manifest, when a tag was read to find the digest (kept so that reading the
    /// image's contents does not fetch it again).
    pub(crate) manifest: Option<signet_oci::FetchedManifest>,
}

/// Opens `image`'s repository and the digest it names (reading the manifest for a tag).
pub(crate) async fn resolve(client: &OciClient, image: &ImageReference) -> Result<Resolved, Error> {
    let (repository, reference) = client.open(image)?;
    let (digest, manifest) = match &reference {
        // A digest reference needs no manifest read: the digest is what is verified.
        ManifestRef::Digest(d) => (d.clone(), None),
        ManifestRef::Tag(_) => {
            let fetched =
                repository
                    .manifest(&reference)
                    .await?
                    .ok_or_else(|| Error::ImageNotFound {
                        image: image.to_string(),
                    })?;
            (fetched.digest.clone(), Some(fetched))
        }
    };
    Ok(Resolved {
        repository,
        digest,
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        media_type: None,
        size: None,
        manifest,
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
        digest: fetched.digest.clone(),
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        media_type: fetched.media_type.clone(),
        size: Some(fetched.bytes.len() as u64),
        manifest: Some(fetched),
    })
}
