//! A platform image verified through the image index that lists it.
//!
//! What a node pulls, and what many admission requests name, is a platform manifest's digest;
//! what a release pipeline signs is often only the image index. Cosign (and signet by default)
//! requires the digest itself to be signed ([`IndexSignatures::Ignore`]). When the caller says
//! so ([`IndexSignatures::Accept`]), a valid signature on an index whose content lists the
//! platform digest also counts: the signer signed the index digest, the index digest fixes the
//! index's bytes, and those bytes name the platform digest, so the link is as strong as the
//! signature. It is checked, never assumed: [`gather_index_link`] reads the index from the
//! store (bounded, digest-checked; nested indexes too, bounded in depth and number) and
//! [`judge_index_link`] looks for the platform digest in what was read. The index's
//! signatures are then verified like any image's, against the index digest.

use std::collections::HashSet;
use std::fmt;

use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageIndex};
use signet_core::reference::ImageReference;
use signet_oci::walk::{Platform, is_index_type};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;

/// Most nested indexes read below the named one.
pub const MAX_NESTED_INDEXES: usize = 64;

/// How deeply nested indexes are followed below the named one.
pub const MAX_INDEX_DEPTH: usize = 4;

/// Whether a platform image's signature requirement may be met by a signature on its index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IndexSignatures {
    /// Only the image's own digest counts (Cosign's rule).
    #[default]
    Ignore,
    /// A valid signature on the index `source` names counts too, if that index lists the
    /// image's digest.
    Accept(IndexSource),
}

/// Which index a platform image is verified through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSource {
    /// The index the image reference's own tag names: `repo:v1@sha256:<platform digest>`
    /// (how Kubernetes pod specs pin a tag), read now.
    ReferenceTag,
    /// This index (a tag or a digest), in the image's repository.
    Named(ImageReference),
}

impl IndexSource {
    /// The index reference for `image`: `None` when the source is the reference's tag and
    /// `image` has none.
    pub fn index_for(&self, image: &ImageReference) -> Option<ImageReference> {
        match self {
            Self::Named(index) => Some(index.clone()),
            Self::ReferenceTag => match image {
                ImageReference::Registry(r) => {
                    let tag = r.tag()?;
                    signet_core::reference::RegistryReference::with_tag(r.repository().clone(), tag)
                        .ok()
                        .map(ImageReference::Registry)
                }
                ImageReference::Layout(_) => None,
            },
        }
    }
}

/// An index as read, to be judged by [`judge_index_link`].
#[derive(Debug, Clone)]
pub struct IndexEvidence {
    /// The index as named.
    pub named: String,
    /// The index pinned to the digest it resolved to.
    pub index: ImageReference,
    /// That digest.
    pub digest: Digest,
    /// The media type the index declares or was served with.
    pub media_type: Option<String>,
    /// The named index and every nested index read below it: `(digest, parsed)`; empty when
    /// the named manifest is not an index.
    pub indexes: Vec<(Digest, ImageIndex)>,
    /// Nested indexes not read (over [`MAX_NESTED_INDEXES`] or [`MAX_INDEX_DEPTH`]).
    pub unread: usize,
}

/// Reads the index `index` names, for verifying `image` through it: the index (bounded by the
/// client's limits, checked against its digest), and the indexes it lists, down to
/// [`MAX_INDEX_DEPTH`]. The index must be in `image`'s repository.
pub async fn gather_index_link(
    client: &OciClient,
    image: &ImageReference,
    index: &ImageReference,
) -> Result<IndexEvidence, Error> {
    if index.repository_name() != image.repository_name() {
        return Err(Error::IndexElsewhere {
            image: image.to_string(),
            index: index.to_string(),
        });
    }
    let (repository, reference) = client.open(index)?;
    let fetched = repository
        .manifest(&reference)
        .await?
        .ok_or_else(|| Error::ImageNotFound {
            image: index.to_string(),
        })?;
    let mut evidence = IndexEvidence {
        named: index.to_string(),
        index: index.pinned(fetched.digest.clone()),
        digest: fetched.digest.clone(),
        media_type: fetched.media_type.clone(),
        indexes: Vec::new(),
        unread: 0,
    };
    let Some(parsed) = parse_index(&fetched.bytes, fetched.media_type.as_deref()) else {
        return Ok(evidence);
    };
    let mut seen = HashSet::from([fetched.digest.clone()]);
    let mut queue: Vec<(Descriptor, usize)> = nested(&parsed, 1);
    evidence.indexes.push((fetched.digest, parsed));
    while let Some((entry, depth)) = queue.pop() {
        if !seen.insert(entry.digest.clone()) {
            continue;
        }
        if depth > MAX_INDEX_DEPTH || evidence.indexes.len() > MAX_NESTED_INDEXES {
            evidence.unread += 1;
            continue;
        }
        let Some(child) = repository
            .manifest(&ManifestRef::Digest(entry.digest.clone()))
            .await?
        else {
            continue;
        };
        if let Some(parsed) = parse_index(&child.bytes, Some(&entry.media_type)) {
            queue.extend(nested(&parsed, depth + 1));
            evidence.indexes.push((child.digest, parsed));
        }
    }
    Ok(evidence)
}

fn parse_index(bytes: &[u8], media_type: Option<&str>) -> Option<ImageIndex> {
    let declared_index = media_type.is_some_and(is_index_type);
    let parsed = ImageIndex::parse(bytes).ok()?;
    (declared_index || parsed.media_type.as_deref().is_some_and(is_index_type)).then_some(parsed)
}

fn nested(index: &ImageIndex, depth: usize) -> Vec<(Descriptor, usize)> {
    index
        .manifests
        .iter()
        .filter(|m| is_index_type(&m.media_type))
        .map(|m| (m.clone(), depth))
        .collect()
}

/// Proof that an index lists a platform manifest; only [`judge_index_link`] makes one.
#[derive(Debug, Clone)]
pub struct IndexLink {
    index: ImageReference,
    digest: Digest,
    listed_by: Digest,
    platform: Option<Platform>,
}

impl IndexLink {
    /// The index, pinned to its digest: the image whose signatures now count.
    pub fn index(&self) -> &ImageReference {
        &self.index
    }

    /// The index's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The index that lists the platform digest: the named one, or one nested in it.
    pub fn listed_by(&self) -> &Digest {
        &self.listed_by
    }

    /// The platform the index lists the digest for.
    pub fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref()
    }
}

impl fmt::Display for IndexLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listed by the index {}", self.index)?;
        if self.listed_by != self.digest {
            write!(f, " (in its nested index {})", self.listed_by)?;
        }
        if let Some(platform) = &self.platform {
            write!(f, " for {platform}")?;
        }
        Ok(())
    }
}

/// Why an index does not vouch for a platform digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexLinkFailure {
    /// The named manifest is not an image index.
    #[error("{index} ({digest}) is not an image index (media type {media_type})")]
    NotAnIndex {
        /// The index as named.
        index: String,
        /// Its digest.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
    /// The index does not list the digest (in any nested index read).
    #[error("the index {index} ({digest}) does not list {platform}{}", unread_note(.unread))]
    NotListed {
        /// The index as named.
        index: String,
        /// Its digest.
        digest: Digest,
        /// The platform digest looked for.
        platform: Digest,
        /// Nested indexes not read (over the bounds).
        unread: usize,
    },
    /// The image reference has no tag naming an index.
    #[error(
        "{image} names no tag, so no index to verify it through (name one, as repo:tag@digest)"
    )]
    NoIndexNamed {
        /// The image as named.
        image: String,
    },
}

fn unread_note(unread: &usize) -> String {
    if *unread == 0 {
        String::new()
    } else {
        format!(" ({unread} nested index(es) beyond the read bounds were not looked in)")
    }
}

/// Whether the index in `evidence` lists `platform` (directly, or in a nested index read).
pub fn judge_index_link(
    evidence: &IndexEvidence,
    platform: &Digest,
) -> Result<IndexLink, IndexLinkFailure> {
    if evidence.indexes.is_empty() {
        return Err(IndexLinkFailure::NotAnIndex {
            index: evidence.named.clone(),
            digest: evidence.digest.clone(),
            media_type: evidence
                .media_type
                .clone()
                .unwrap_or_else(|| "(none)".to_owned()),
        });
    }
    for (digest, index) in &evidence.indexes {
        if let Some(entry) = index.manifests.iter().find(|m| m.digest == *platform) {
            return Ok(IndexLink {
                index: evidence.index.clone(),
                digest: evidence.digest.clone(),
                listed_by: digest.clone(),
                platform: Platform::of(entry),
            });
        }
    }
    Err(IndexLinkFailure::NotListed {
        index: evidence.named.clone(),
        digest: evidence.digest.clone(),
        platform: platform.clone(),
        unread: evidence.unread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Digest {
        format!("sha256:{}", c.to_string().repeat(64))
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn index_listing(entries: &[(Digest, &str)]) -> ImageIndex {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(d, arch)| {
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": d, "size": 1,
                    "platform": {"os": "linux", "architecture": arch},
                })
            })
            .collect();
        ImageIndex::parse(
            serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn evidence(indexes: Vec<(Digest, ImageIndex)>) -> IndexEvidence {
        let index: ImageReference = format!("registry.example/app@{}", digest('e'))
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        IndexEvidence {
            named: "registry.example/app:v1".into(),
            index,
            digest: digest('e'),
            media_type: Some("application/vnd.oci.image.index.v1+json".into()),
            indexes,
            unread: 0,
        }
    }

    #[test]
    fn a_listed_digest_is_linked_with_its_platform() {
        let e = evidence(vec![(
            digest('e'),
            index_listing(&[(digest('a'), "amd64"), (digest('b'), "arm64")]),
        )]);
        let link = judge_index_link(&e, &digest('b')).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            link.platform().map(ToString::to_string).as_deref(),
            Some("linux/arm64")
        );
        assert_eq!(link.digest(), &digest('e'));
    }

    #[test]
    fn a_digest_the_index_does_not_list_is_refused_with_that_reason() {
        let e = evidence(vec![(
            digest('e'),
            index_listing(&[(digest('a'), "amd64")]),
        )]);
        let err = judge_index_link(&e, &digest('c')).err();
        assert!(
            matches!(&err, Some(IndexLinkFailure::NotListed { platform, .. }) if *platform == digest('c')),
            "{err:?}"
        );
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("does not list sha256:ccc"), "{text}");
    }

    #[test]
    fn a_digest_listed_by_a_nested_index_is_linked() {
        let e = evidence(vec![
            (digest('e'), index_listing(&[(digest('a'), "amd64")])),
            (digest('d'), index_listing(&[(digest('b'), "arm64")])),
        ]);
        let link = judge_index_link(&e, &digest('b')).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(link.listed_by(), &digest('d'));
    }

    #[test]
    fn a_manifest_that_is_not_an_index_links_nothing() {
        let e = evidence(Vec::new());
        assert!(matches!(
            judge_index_link(&e, &digest('a')),
            Err(IndexLinkFailure::NotAnIndex { .. })
        ));
    }
}
