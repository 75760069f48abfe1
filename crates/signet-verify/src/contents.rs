//! What an image is, read from the digest it resolved to: its manifest (or, for a
//! multi-platform image, its index and each platform's manifest) and each configuration. Policies
//! judge rules on the image itself from this (the user it runs as, its environment, base,
//! platforms, labels, ports, layers); signatures say who vouched for the same digest.
//!
//! Everything is read by digest from the one digest the image resolved to (the manifest a tag
//! named is kept from resolving it, not read twice), each read bounded: manifests and configs
//! by the client's manifest limit, an index's platforms by [`MAX_PLATFORM_IMAGES`].

use std::collections::BTreeMap;

use signet_core::digest::Digest;
use signet_core::image_config::{ImageConfig, Platform};
use signet_core::manifest::{Descriptor, ImageIndex, ImageManifest};
use signet_oci::{FetchedManifest, ManifestRef, OciRepository};

use crate::Error;
use crate::gather::Resolved;

/// The most platform images of one index read; the rest are counted in
/// [`ImageContents::skipped_platforms`].
pub const MAX_PLATFORM_IMAGES: usize = 32;

/// The annotation BuildKit puts on the index entries that hold attestations, not images.
const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// One platform's image: its manifest and configuration.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    digest: Digest,
    listed_platform: Option<Platform>,
    manifest: ImageManifest,
    config: ImageConfig,
}

impl PlatformImage {
    /// An image read elsewhere (tests, stored evidence): its manifest digest, the platform an
    /// index lists it under (if any), its manifest and configuration.
    pub fn new(
        digest: Digest,
        listed_platform: Option<Platform>,
        manifest: ImageManifest,
        config: ImageConfig,
    ) -> Self {
        Self {
            digest,
            listed_platform,
            manifest,
            config,
        }
    }

    /// The manifest's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The platform: as the index lists it, else as the configuration says.
    pub fn platform(&self) -> Platform {
        self.listed_platform
            .clone()
            .unwrap_or_else(|| self.config.platform())
    }

    /// The manifest (layers with their sizes, annotations).
    pub fn manifest(&self) -> &ImageManifest {
        &self.manifest
    }

    /// The configuration (user, environment, labels, ports, creation time).
    pub fn config(&self) -> &ImageConfig {
        &self.config
    }
}

/// An image's manifest or index and its platforms' configurations.
#[derive(Debug, Clone)]
pub struct ImageContents {
    digest: Digest,
    index: Option<IndexSummary>,
    images: Vec<PlatformImage>,
    skipped_platforms: usize,
}

/// What an index says itself.
#[derive(Debug, Clone)]
struct IndexSummary {
    annotations: BTreeMap<String, String>,
    platforms: Vec<Platform>,
}

impl ImageContents {
    /// A single-platform image with digest `digest`.
    pub fn single(digest: Digest, manifest: ImageManifest, config: ImageConfig) -> Self {
        Self {
            images: vec![PlatformImage::new(digest.clone(), None, manifest, config)],
            digest,
            index: None,
            skipped_platforms: 0,
        }
    }

    /// A multi-platform image: the index with digest `digest` and the platform images read
    /// from it (`skipped`: how many more it lists that were not read).
    pub fn index(
        digest: Digest,
        index: &ImageIndex,
        images: Vec<PlatformImage>,
        skipped: usize,
    ) -> Self {
        Self {
            digest,
            index: Some(IndexSummary {
                annotations: index_annotations(index),
                platforms: index
                    .manifests
                    .iter()
                    .filter(|d| is_platform_image(d))
                    .filter_map(listed_platform)
                    .collect(),
            }),
            images,
            skipped_platforms: skipped,
        }
    }

    /// The digest the image resolved to (an index's or a manifest's).
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Whether the digest names an index (a multi-platform image).
    pub fn is_index(&self) -> bool {
        self.index.is_some()
    }

    /// The platforms the image is for: those its index lists (attestation entries left out),
    /// or the one its configuration names.
    pub fn platforms(&self) -> Vec<Platform> {
        match &self.index {
            Some(index) => index.platforms.clone(),
            None => self.images.iter().map(PlatformImage::platform).collect(),
        }
    }

    /// The annotations of the index, or of the single manifest.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match (&self.index, self.images.first()) {
            (Some(index), _) => &index.annotations,
            (None, Some(image)) => &image.manifest.annotations,
            (None, None) => empty_annotations(),
        }
    }

    /// Each platform's image that was read.
    pub fn images(&self) -> &[PlatformImage] {
        &self.images
    }

    /// Platform images the index lists beyond [`MAX_PLATFORM_IMAGES`], not read.
    pub fn skipped_platforms(&self) -> usize {
        self.skipped_platforms
    }
}

fn empty_annotations() -> &'static BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    &EMPTY
}

fn index_annotations(index: &ImageIndex) -> BTreeMap<String, String> {
    index
        .extra
        .get("annotations")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default()
}

/// Whether an index entry is an image rather than an attestation manifest (BuildKit lists
/// those under `unknown/unknown`, annotated `vnd.docker.reference.type`).
fn is_platform_image(descriptor: &Descriptor) -> bool {
    !descriptor.annotations.contains_key(DOCKER_REFERENCE_TYPE)
        && listed_platform(descriptor)
            .is_none_or(|p| !(p.os == "unknown" && p.architecture == "unknown"))
}

fn listed_platform(descriptor: &Descriptor) -> Option<Platform> {
    descriptor
        .extra
        .get("platform")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
}

/// Reads the contents of an image already resolved to a digest.
pub(crate) async fn read_contents(
    client: &signet_oci::OciClient,
    resolved: &Resolved,
) -> Result<ImageContents, Error> {
    let repository = resolved.repository.as_ref();
    let digest = &resolved.digest;
    let location = |d: &Digest| format!("{}@{d}", repository.name());
    let top = match &resolved.manifest {
        Some(fetched) => fetched.clone(),
        None => fetch_manifest(repository, digest, "the image manifest").await?,
    };
    let limit = client.limits().max_manifest_bytes;
    if is_index(&top) {
        let index = ImageIndex::parse(&top.bytes).map_err(|source| Error::MalformedImage {
            location: location(digest),
            source,
        })?;
        let entries: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| is_platform_image(d))
            .collect();
        let read = entries.len().min(MAX_PLATFORM_IMAGES);
        let mut images = Vec::with_capacity(read);
        for entry in entries.iter().take(read) {
            let fetched = fetch_manifest(repository, &entry.digest, "a platform manifest").await?;
            let manifest =
                ImageManifest::parse(&fetched.bytes).map_err(|source| Error::MalformedImage {
                    location: location(&entry.digest),
                    source,
                })?;
            let config =
                read_config(repository, &manifest, limit, &location(&entry.digest)).await?;
            images.push(PlatformImage::new(
                entry.digest.clone(),
                listed_platform(entry),
                manifest,
                config,
            ));
        }
        return Ok(ImageContents::index(
            digest.clone(),
            &index,
            images,
            entries.len() - read,
        ));
    }
    let manifest = ImageManifest::parse(&top.bytes).map_err(|source| Error::MalformedImage {
        location: location(digest),
        source,
    })?;
    let config = read_config(repository, &manifest, limit, &location(digest)).await?;
    Ok(ImageContents::single(digest.clone(), manifest, config))
}

/// Whether a manifest is an index: by its media type, else by its shape (`manifests`, no
/// `config`).
fn is_index(fetched: &FetchedManifest) -> bool {
    const INDEX_TYPES: [&str; 2] = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];
    if let Some(media_type) = &fetched.media_type {
        return INDEX_TYPES.contains(&media_type.as_str());
    }
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(default)]
        manifests: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        config: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Shape>(&fetched.bytes)
        .is_ok_and(|s| s.manifests.is_some() && s.config.is_none())
}

async fn fetch_manifest(
    repository: &dyn OciRepository,
    digest: &Digest,
    what: &'static str,
) -> Result<FetchedManifest, Error> {
    repository
        .manifest(&ManifestRef::Digest(digest.clone()))
        .await?
        .ok_or_else(|| Error::MissingImagePart {
            what,
            location: format!("{}@{digest}", repository.name()),
        })
}

async fn read_config(
    repository: &dyn OciRepository,
    manifest: &ImageManifest,
    limit: u64,
    location: &str,
) -> Result<ImageConfig, Error> {
    let bytes = match repository.blob(&manifest.config.digest, limit).await {
        Ok(bytes) => bytes,
        Err(signet_oci::Error::MissingBlob { .. }) => {
            return Err(Error::MissingImagePart {
                what: "the image configuration",
                location: location.to_owned(),
            });
        }
        Err(other) => return Err(other.into()),
    };
    ImageConfig::parse(&bytes).map_err(|source| Error::MalformedImage {
        location: format!("{location} (configuration {})", manifest.config.digest),
        source,
    })
}
