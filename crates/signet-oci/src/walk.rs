//! Walking an image: its manifest, or an image index and every manifest it reaches.
//!
//! A multi-platform image is an image index (or Docker manifest list) listing one manifest per
//! platform; an index may list other indexes. [`walk`] reads the whole tree by digest, each
//! manifest bounded by the store's limits and checked against its digest, in the order
//! Cosign's `walk.SignedEntity` visits it: an index before its children, children in the
//! order listed. A child of a media type that is neither an image manifest nor an index is an
//! error, as it is for Cosign (`unknown mime type`).

use std::collections::HashSet;
use std::fmt;

use signet_core::cosign::{
    DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE,
};
use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageIndex, ImageManifest};

use crate::{Error, FetchedManifest, ManifestRef, OciRepository};

/// How deeply indexes may nest (an index of indexes is depth 2).
pub const MAX_DEPTH: usize = 8;

/// Most manifests one walk reads.
pub const MAX_MANIFESTS: usize = 4096;

/// The platform an index entry is for (`os/architecture[/variant]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `os`, such as `linux`.
    pub os: String,
    /// `architecture`, such as `arm64`.
    pub architecture: String,
    /// `variant`, such as `v8`, if given.
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of an index entry, if it names one.
    pub fn of(descriptor: &Descriptor) -> Option<Self> {
        let platform = descriptor.extra.get("platform")?;
        let field = |name: &str| {
            platform
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Some(Self {
            os: field("os")?,
            architecture: field("architecture")?,
            variant: field("variant").filter(|v| !v.is_empty()),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// What a manifest of the tree is.
#[derive(Debug, Clone)]
pub enum ManifestKind {
    /// An image manifest: its config and layers.
    Image {
        /// The config descriptor.
        config: Descriptor,
        /// The layer descriptors.
        layers: Vec<Descriptor>,
    },
    /// An image index: the manifests it lists.
    Index {
        /// The entries, as listed.
        manifests: Vec<Descriptor>,
    },
}

/// One manifest of an image's tree.
#[derive(Debug, Clone)]
pub struct TreeNode {
    /// The manifest as stored (digest checked).
    pub manifest: FetchedManifest,
    /// Its media type: as the parent index lists it, else as the store or the body says.
    pub media_type: String,
    /// What it is.
    pub kind: ManifestKind,
    /// The index listing it; `None` for the root.
    pub parent: Option<Digest>,
    /// The platform its parent lists it for.
    pub platform: Option<Platform>,
    /// 0 for the root, 1 for an entry of the root index, and so on.
    pub depth: usize,
}

impl TreeNode {
    /// The manifest's digest.
    pub fn digest(&self) -> &Digest {
        &self.manifest.digest
    }

    /// Whether it is an image index.
    pub fn is_index(&self) -> bool {
        matches!(self.kind, ManifestKind::Index { .. })
    }

    /// Its descriptor (media type, size, digest), as an index or `index.json` lists it.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::for_bytes(&self.media_type, &self.manifest.bytes)
    }
}

/// An image and everything its index reaches.
#[derive(Debug, Clone)]
pub struct ImageTree {
    nodes: Vec<TreeNode>,
}

impl ImageTree {
    /// The manifest the walk started from.
    pub fn root(&self) -> &TreeNode {
        // A tree is only built with its root.
        &self.nodes[0]
    }

    /// Every manifest, the root first, each index before its children.
    pub fn nodes(&self) -> &[TreeNode] {
        &self.nodes
    }

    /// The manifest with `digest`, if the tree has it.
    pub fn node(&self, digest: &Digest) -> Option<&TreeNode> {
        self.nodes.iter().find(|n| n.digest() == digest)
    }
}

/// Reads the manifest `reference` names in `repository` and, if it is an index, every
/// manifest it reaches.
pub async fn walk(
    repository: &dyn OciRepository,
    reference: &ManifestRef,
) -> Result<ImageTree, Error> {
    let what = format!("{}{reference}", repository.name());
    let root = repository
        .manifest(reference)
        .await?
        .ok_or_else(|| Error::MissingBlob {
            what: format!("manifest {reference}"),
            location: repository.name(),
        })?;
    // A manifest that declares no media type (OCI allows it) is taken for what its body is.
    let kind = classify(&root.bytes, root.media_type.as_deref().unwrap_or(""), &what)?;
    let media_type = root.media_type.clone().unwrap_or_else(|| {
        match kind {
            ManifestKind::Index { .. } => OCI_INDEX_MEDIA_TYPE,
            ManifestKind::Image { .. } => OCI_MANIFEST_MEDIA_TYPE,
        }
        .to_owned()
    });
    let mut nodes = vec![TreeNode {
        manifest: root,
        media_type,
        kind,
        parent: None,
        platform: None,
        depth: 0,
    }];
    let mut seen: HashSet<Digest> = HashSet::from([nodes[0].digest().clone()]);
    // Depth first, each index before its children: a stack of (index position, next entry).
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    while let Some((at, next)) = stack.pop() {
        let ManifestKind::Index { manifests } = &nodes[at].kind else {
            continue;
        };
        let Some(entry) = manifests.get(next).cloned() else {
            continue;
        };
        stack.push((at, next + 1));
        if !seen.insert(entry.digest.clone()) {
            continue;
        }
        let parent = nodes[at].digest().clone();
        let depth = nodes[at].depth + 1;
        let what = format!(
            "{}@{} (listed by {parent})",
            repository.name(),
            entry.digest
        );
        if !is_manifest_type(&entry.media_type) && !is_index_type(&entry.media_type) {
            return Err(Error::UnsupportedManifest {
                what,
                reason: format!(
                    "an image index lists it with media type {:?}, neither an image manifest nor an index",
                    entry.media_type
                ),
            });
        }
        if depth > MAX_DEPTH {
            return Err(Error::UnsupportedManifest {
                what,
                reason: format!("image indexes nest more than {MAX_DEPTH} deep"),
            });
        }
        if nodes.len() >= MAX_MANIFESTS {
            return Err(Error::TooLarge {
                what: format!("the image {}", nodes[0].digest()),
                limit: MAX_MANIFESTS as u64,
            });
        }
        let manifest = repository
            .manifest(&ManifestRef::Digest(entry.digest.clone()))
            .await?
            .ok_or_else(|| Error::MissingBlob {
                what: format!("manifest {} (listed by {parent})", entry.digest),
                location: repository.name(),
            })?;
        let kind = classify(&manifest.bytes, &entry.media_type, &what)?;
        let is_index = matches!(kind, ManifestKind::Index { .. });
        nodes.push(TreeNode {
            manifest,
            media_type: entry.media_type.clone(),
            kind,
            parent: Some(parent),
            platform: Platform::of(&entry),
            depth,
        });
        if is_index {
            stack.push((nodes.len() - 1, 0));
        }
    }
    Ok(ImageTree { nodes })
}

/// Whether `media_type` is an image manifest's.
pub fn is_manifest_type(media_type: &str) -> bool {
    media_type == OCI_MANIFEST_MEDIA_TYPE || media_type == DOCKER_MANIFEST_MEDIA_TYPE
}

/// Whether `media_type` is an image index's.
pub fn is_index_type(media_type: &str) -> bool {
    media_type == OCI_INDEX_MEDIA_TYPE || media_type == DOCKER_MANIFEST_LIST_MEDIA_TYPE
}

/// Parses `bytes` as what `media_type` says, or (for a media type that says neither) as what
/// the body looks like: an index has `manifests`, an image manifest a `config`.
fn classify(bytes: &[u8], media_type: &str, what: &str) -> Result<ManifestKind, Error> {
    let unsupported = |reason: String| Error::UnsupportedManifest {
        what: what.to_owned(),
        reason,
    };
    let as_index = || {
        ImageIndex::parse(bytes)
            .map(|i| ManifestKind::Index {
                manifests: i.manifests,
            })
            .map_err(|e| unsupported(format!("not a valid image index: {e}")))
    };
    let as_image = || {
        ImageManifest::parse(bytes)
            .map(|m| ManifestKind::Image {
                config: m.config,
                layers: m.layers,
            })
            .map_err(|e| unsupported(format!("not a valid image manifest: {e}")))
    };
    if is_index_type(media_type) {
        return as_index();
    }
    if is_manifest_type(media_type) {
        return as_image();
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| unsupported(format!("not JSON: {e}")))?;
    if value.get("manifests").is_some() {
        as_index()
    } else if value.get("config").is_some() {
        as_image()
    } else {
        Err(unsupported(format!(
            "media type {media_type:?} is neither an image manifest nor an index"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LayoutRepository;
    use signet_core::limits::Limits;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(f)
    }

    fn image(repo: &LayoutRepository, content: &[u8]) -> Descriptor {
        let layer = block_on(repo.push_blob(content)).unwrap_or_else(|e| panic!("{e}"));
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let config_digest = block_on(repo.push_blob(config)).unwrap_or_else(|e| panic!("{e}"));
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": content.len()}],
        })
        .to_string();
        block_on(repo.push_manifest_by_digest(manifest.as_bytes(), OCI_MANIFEST_MEDIA_TYPE))
            .unwrap_or_else(|e| panic!("{e}"));
        Descriptor::for_bytes(OCI_MANIFEST_MEDIA_TYPE, manifest.as_bytes())
    }

    fn index(repo: &LayoutRepository, entries: &[(Descriptor, &str)]) -> Descriptor {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(d, arch)| {
                let mut v = serde_json::to_value(d).unwrap_or_default();
                v["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
                v
            })
            .collect();
        let bytes = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX_MEDIA_TYPE, "manifests": manifests})
            .to_string();
        block_on(repo.push_manifest_by_digest(bytes.as_bytes(), OCI_INDEX_MEDIA_TYPE))
            .unwrap_or_else(|e| panic!("{e}"));
        Descriptor::for_bytes(OCI_INDEX_MEDIA_TYPE, bytes.as_bytes())
    }

    #[test]
    fn walks_nested_indexes_parent_first_with_platforms() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let repo = LayoutRepository::init(&dir.path().to_string_lossy(), Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let amd = image(&repo, b"amd64");
        let arm = image(&repo, b"arm64");
        let inner = index(&repo, &[(arm.clone(), "arm64")]);
        let outer = index(&repo, &[(amd.clone(), "amd64"), (inner.clone(), "arm64")]);
        let tree = block_on(walk(&repo, &ManifestRef::Digest(outer.digest.clone())))
            .unwrap_or_else(|e| panic!("{e}"));
        let order: Vec<&Digest> = tree.nodes().iter().map(TreeNode::digest).collect();
        assert_eq!(
            order,
            vec![&outer.digest, &amd.digest, &inner.digest, &arm.digest]
        );
        assert_eq!(
            tree.node(&amd.digest)
                .and_then(|n| n.platform.as_ref())
                .map(ToString::to_string)
                .as_deref(),
            Some("linux/amd64")
        );
        assert_eq!(
            tree.node(&arm.digest).map(|n| n.parent.clone()),
            Some(Some(inner.digest.clone()))
        );
    }

    #[test]
    fn an_unknown_child_media_type_is_refused_as_cosign_refuses_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let repo = LayoutRepository::init(&dir.path().to_string_lossy(), Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut odd = image(&repo, b"x");
        odd.media_type = "application/vnd.example.thing".to_owned();
        let top = index(&repo, &[(odd, "amd64")]);
        let err = block_on(walk(&repo, &ManifestRef::Digest(top.digest))).err();
        assert!(
            matches!(&err, Some(Error::UnsupportedManifest { reason, .. }) if reason.contains("application/vnd.example.thing")),
            "{err:?}"
        );
    }
}
