//! OCI 1.1 referrers: finding the manifests whose `subject` is an image, and listing new ones
//! on stores without a referrers API.
//!
//! A registry with the referrers API (`GET /v2/<name>/referrers/<digest>`) indexes a manifest
//! with a `subject` itself. On one without it (docker-registry 2.8, GHCR) and in an OCI layout,
//! the referrers are listed in an image index tagged `sha256-<hex>` (the distribution spec's
//! referrers tag schema), which every writer reads, extends and writes back, as
//! go-containerregistry (and so Cosign) does. docker-registry has no conditional writes, so a
//! concurrent writer can replace the index with a stale copy: [`add_to_tag_schema_index`]
//! reads it back, and once more after a wait three times as long as its own read-merge-write
//! took, and merges again when an entry went missing, so concurrent writers keep every entry.

use std::time::{Duration, Instant};

use signet_core::cosign::OCI_INDEX_MEDIA_TYPE;
use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageIndex};

use crate::{Error, ManifestRef, OciRepository};

const MAX_INDEX_ATTEMPTS: usize = 10;
const MIN_SETTLE: Duration = Duration::from_millis(100);
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// The referrers tag schema's tag for `subject`: `sha256:abc…` becomes `sha256-abc…`.
pub fn tag_schema_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().name(), subject.hex())
}

/// Where a list of referrers came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferrersListing {
    /// The store's referrers API.
    Api,
    /// The index tagged [`tag_schema_tag`].
    TagSchema,
}

/// The referrers of `subject` in `store`: the referrers API's answer, or else the index under
/// the referrers tag schema (`None` when there is none), parsed.
pub async fn list_referrers(
    store: &dyn OciRepository,
    subject: &Digest,
) -> Result<(Option<ImageIndex>, ReferrersListing), Error> {
    let (fetched, listing) = match store.referrers(subject).await? {
        Some(index) => (Some(index), ReferrersListing::Api),
        None => (
            store
                .manifest(&ManifestRef::Tag(tag_schema_tag(subject)))
                .await?,
            ReferrersListing::TagSchema,
        ),
    };
    let Some(fetched) = fetched else {
        return Ok((None, listing));
    };
    let index = ImageIndex::parse(&fetched.bytes).map_err(|e| Error::UnsupportedManifest {
        what: format!("the referrers of {subject} in {}", store.name()),
        reason: format!("not an image index: {e}"),
    })?;
    Ok((Some(index), listing))
}

/// Adds `entries` to the referrers tag schema index of `subject` in `store` (creating it),
/// keeping every entry already listed; see the module documentation for concurrent writers.
/// Returns `repository:tag`.
pub async fn add_to_tag_schema_index(
    store: &dyn OciRepository,
    subject: &Digest,
    entries: &[Descriptor],
) -> Result<String, Error> {
    let tag = tag_schema_tag(subject);
    let location = format!("{}:{tag}", store.name());
    let all_listed = |index: &Option<ImageIndex>| {
        entries.iter().all(|e| {
            index
                .as_ref()
                .is_some_and(|i| i.manifests.iter().any(|m| m.digest == e.digest))
        })
    };
    for _ in 0..MAX_INDEX_ATTEMPTS {
        let started = Instant::now();
        let current = read_index(store, &tag, &location).await?;
        if !all_listed(&current) {
            let mut index = current.unwrap_or_else(|| ImageIndex {
                schema_version: 2,
                media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
                manifests: Vec::new(),
                extra: serde_json::Map::new(),
            });
            for entry in entries {
                if !index.manifests.iter().any(|m| m.digest == entry.digest) {
                    index.manifests.push(entry.clone());
                }
            }
            let bytes = serde_json::to_vec(&index).map_err(|e| Error::UnsupportedManifest {
                what: location.clone(),
                reason: format!("cannot serialise the referrers index: {e}"),
            })?;
            store
                .push_manifest(&tag, &bytes, OCI_INDEX_MEDIA_TYPE)
                .await?;
        }
        if !all_listed(&read_index(store, &tag, &location).await?) {
            continue;
        }
        let settle = (started.elapsed() * 3).clamp(MIN_SETTLE, MAX_SETTLE);
        tokio::time::sleep(settle).await;
        if all_listed(&read_index(store, &tag, &location).await?) {
            return Ok(location);
        }
    }
    Err(Error::Contended {
        location,
        attempts: MAX_INDEX_ATTEMPTS,
    })
}

async fn read_index(
    store: &dyn OciRepository,
    tag: &str,
    location: &str,
) -> Result<Option<ImageIndex>, Error> {
    match store.manifest(&ManifestRef::Tag(tag.to_owned())).await? {
        Some(fetched) => {
            ImageIndex::parse(&fetched.bytes)
                .map(Some)
                .map_err(|e| Error::UnsupportedManifest {
                    what: location.to_owned(),
                    reason: format!("not an image index: {e}"),
                })
        }
        None => Ok(None),
    }
}
