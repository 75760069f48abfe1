//! Appending a layer to an attachment manifest (`.sig`, `.att`) without losing any other.

use std::time::{Duration, Instant};

use signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE;
use signet_core::manifest::{Descriptor, ImageManifest, signature_manifest};
use std::sync::Arc;

use signet_core::digest::Digest;
use signet_core::reference::ImageReference;
use signet_oci::{ManifestRef, OciClient, OciRepository};

use crate::Error;

/// How many times an append is merged and written again when another writer replaced the
/// manifest in between.
const MAX_APPEND_ATTEMPTS: usize = 10;
/// Bounds of the wait before the final re-check (see [`append_layer`]).
const MIN_SETTLE: Duration = Duration::from_millis(100);
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// An image resolved for attaching: its repository, how it was named, and its digest. A tag
/// is resolved here, once.
pub(crate) struct ResolvedImage {
    pub(crate) repository: Arc<dyn OciRepository>,
    pub(crate) reference: ManifestRef,
    pub(crate) digest: Digest,
}

/// Reads `image`'s manifest to learn its digest.
pub(crate) async fn resolve_image(
    client: &OciClient,
    image: &ImageReference,
) -> Result<ResolvedImage, Error> {
    let (repository, reference) = client.open(image)?;
    let digest = repository
        .manifest(&reference)
        .await?
        .ok_or_else(|| Error::ImageNotFound {
            image: image.to_string(),
        })?
        .digest;
    Ok(ResolvedImage {
        repository,
        reference,
        digest,
    })
}

/// Where a layer is appended.
pub(crate) struct AppendTarget<'a> {
    pub(crate) repository: &'a dyn OciRepository,
    pub(crate) tag: &'a str,
    /// `repository:tag`, for messages.
    pub(crate) location: &'a str,
    pub(crate) max_layers: usize,
}

/// What an append did.
pub(crate) enum Appended {
    /// The layer was added; the manifest now has `count` layers.
    Added { count: usize },
    /// An equivalent layer was already there; nothing was written.
    AlreadyPresent { count: usize },
}

/// Appends `layer` (with its bytes, `layer_blob`) to the manifest under `target.tag`, keeping
/// every existing layer except those `is_replaced` selects, and adding nothing if
/// `is_duplicate` matches one. The manifest is only written after its config blob.
///
/// Registries such as docker-registry have no conditional manifest writes, so a concurrent
/// signer that read the manifest before this write can overwrite it with a stale copy. The
/// append therefore reads the manifest back, and once more after a wait three times as long
/// as its own read-merge-write took (another signer's window is about as long): if `layer`
/// is missing either time, the layers are merged again and rewritten.
pub(crate) async fn append_layer(
    target: AppendTarget<'_>,
    layer: Descriptor,
    layer_blob: &[u8],
    is_duplicate: impl Fn(&Descriptor) -> bool,
    is_replaced: impl Fn(&Descriptor) -> bool,
) -> Result<Appended, Error> {
    for _ in 0..MAX_APPEND_ATTEMPTS {
        let started = Instant::now();
        let existing = read_layers(target.repository, target.tag, target.location).await?;
        if existing.iter().any(&is_duplicate) {
            return Ok(Appended::AlreadyPresent {
                count: existing.len(),
            });
        }
        let mut layers: Vec<Descriptor> =
            existing.into_iter().filter(|l| !is_replaced(l)).collect();
        if layers.len() >= target.max_layers {
            return Err(Error::TooManyLayers {
                location: target.location.to_owned(),
                count: layers.len(),
                limit: target.max_layers,
            });
        }
        layers.push(layer.clone());
        let count = layers.len();
        let (manifest, config) = signature_manifest(layers);
        target.repository.push_blob(layer_blob).await?;
        target.repository.push_blob(&config).await?;
        match target
            .repository
            .push_manifest(target.tag, &manifest.to_bytes(), OCI_MANIFEST_MEDIA_TYPE)
            .await
        {
            Ok(_) => {}
            // Another signer's upload of the same blob was still being committed: try again.
            Err(signet_oci::Error::MissingBlob { .. }) => {
                tokio::time::sleep(MIN_SETTLE).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let written = read_layers(target.repository, target.tag, target.location).await?;
        if !written.iter().any(|l| l == &layer) {
            continue;
        }
        let settle = (started.elapsed() * 3).clamp(MIN_SETTLE, MAX_SETTLE);
        tokio::time::sleep(settle).await;
        let settled = read_layers(target.repository, target.tag, target.location).await?;
        if settled.iter().any(|l| l == &layer) {
            return Ok(Appended::Added {
                count: count.max(settled.len()),
            });
        }
    }
    Err(Error::Contended {
        location: target.location.to_owned(),
        attempts: MAX_APPEND_ATTEMPTS,
    })
}

/// The layers of the manifest under `tag`; none if there is no such manifest.
pub(crate) async fn read_layers(
    repository: &dyn OciRepository,
    tag: &str,
    location: &str,
) -> Result<Vec<Descriptor>, Error> {
    let Some(fetched) = repository
        .manifest(&ManifestRef::Tag(tag.to_owned()))
        .await?
    else {
        return Ok(Vec::new());
    };
    let manifest = ImageManifest::parse(&fetched.bytes).map_err(|source| {
        Error::MalformedAttachmentManifest {
            location: location.to_owned(),
            source,
        }
    })?;
    Ok(manifest.layers)
}
