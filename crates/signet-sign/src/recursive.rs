//! `--recursive`: a multi-platform image signed (or attested) at every level.
//!
//! Cosign's `sign --recursive` signs the manifest the reference names and, when that is an
//! image index, every manifest the index reaches, nested indexes included, each by its own
//! digest (`walk.SignedEntity`: an index before its children). [`recursive_targets`] lists
//! those manifests, read once and pinned by digest, so that one signer (one decrypted key, one
//! identity token) signs them all, and a tag is resolved only once.

use signet_core::digest::Digest;
use signet_core::reference::ImageReference;
use signet_oci::walk::{Platform, walk};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;

/// The manifests a recursive signature covers.
#[derive(Debug, Clone)]
pub struct RecursiveTargets {
    /// The manifest the reference named.
    pub root: Digest,
    /// True when the reference named a tag, resolved here once.
    pub resolved_from_tag: bool,
    /// Every manifest, pinned by digest: the root first, each index before its children.
    pub images: Vec<ImageReference>,
    /// The platform the parent index lists each manifest for (`None` for the root and for
    /// entries without one), in the order of `images`.
    pub platforms: Vec<Option<Platform>>,
}

/// Reads `image` and, if it is an image index, every manifest it reaches (each bounded and
/// checked against its digest); see the module documentation.
pub async fn recursive_targets(
    client: &OciClient,
    image: &ImageReference,
) -> Result<RecursiveTargets, Error> {
    let (repository, reference) = client.open(image)?;
    let tree = walk(repository.as_ref(), &reference).await?;
    Ok(RecursiveTargets {
        root: tree.root().digest().clone(),
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        images: tree
            .nodes()
            .iter()
            .map(|n| image.pinned(n.digest().clone()))
            .collect(),
        platforms: tree.nodes().iter().map(|n| n.platform.clone()).collect(),
    })
}
