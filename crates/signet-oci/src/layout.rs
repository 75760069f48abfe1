//! The OCI image-layout store: images and their signatures in a directory, no server needed.
//!
//! The layout is the standard one (`oci-layout`, `index.json`, `blobs/sha256/…`); tags are the
//! `org.opencontainers.image.ref.name` annotations of `index.json`'s entries, and signatures
//! live under Cosign's tag names (`sha256-<hex>.sig`) in the same layout. Blobs and the index
//! are written to a temporary file and renamed into place, and index updates are serialised
//! with a lock file, so an interrupted or concurrent write never loses an entry.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use signet_core::cosign::OCI_INDEX_MEDIA_TYPE;
use signet_core::digest::Digest;
use signet_core::limits::Limits;
use signet_core::manifest::{Descriptor, ImageIndex};

use crate::{BoxFuture, Error, FetchedManifest, ManifestRef, OciRepository};

/// The annotation an image layout's index uses for tags.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const INDEX_FILE: &str = "index.json";
const LOCK_FILE: &str = "index.json.lock";

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct LayoutRepository {
    root: PathBuf,
    display: String,
    limits: Limits,
}

impl LayoutRepository {
    /// Opens the layout at `path`, which must exist and hold an `oci-layout` file.
    pub fn open(path: &str, limits: Limits) -> Result<Self, Error> {
        let repo = Self {
            root: PathBuf::from(path),
            display: path.to_owned(),
            limits,
        };
        if !repo.root.join(LAYOUT_FILE).is_file() {
            return Err(Error::LayoutFormat {
                path: path.to_owned(),
                reason: "no oci-layout file: not an OCI image layout (create one with `signet layout init` or a tool such as skopeo)".to_owned(),
            });
        }
        Ok(repo)
    }

    /// Creates an empty layout at `path` (or opens it if one is already there).
    pub fn init(path: &str, limits: Limits) -> Result<Self, Error> {
        let repo = Self {
            root: PathBuf::from(path),
            display: path.to_owned(),
            limits,
        };
        fs::create_dir_all(repo.root.join("blobs").join("sha256"))
            .map_err(|e| repo.io("creating the layout directories", e))?;
        if !repo.root.join(LAYOUT_FILE).exists() {
            repo.write_atomically(&repo.root.join(LAYOUT_FILE), LAYOUT_CONTENT)?;
        }
        if !repo.root.join(INDEX_FILE).exists() {
            let empty = ImageIndex {
                schema_version: 2,
                media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
                manifests: Vec::new(),
                extra: serde_json::Map::new(),
            };
            repo.write_index(&empty)?;
        }
        Ok(repo)
    }

    fn io(&self, action: &str, source: std::io::Error) -> Error {
        Error::LayoutIo {
            path: self.display.clone(),
            action: action.to_owned(),
            source,
        }
    }

    fn format(&self, reason: String) -> Error {
        Error::LayoutFormat {
            path: self.display.clone(),
            reason,
        }
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    fn read_bounded(
        &self,
        path: &Path,
        max_bytes: u64,
        what: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&format!("reading {what}"), e)),
        };
        let mut bytes = Vec::new();
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(&format!("reading {what}"), e))?;
        if bytes.len() as u64 > max_bytes {
            return Err(Error::TooLarge {
                what: format!("{what} in {}", self.display),
                limit: max_bytes,
            });
        }
        Ok(Some(bytes))
    }

    fn read_index(&self) -> Result<ImageIndex, Error> {
        let bytes = self
            .read_bounded(
                &self.root.join(INDEX_FILE),
                self.limits.max_manifest_bytes,
                "index.json",
            )?
            .ok_or_else(|| self.format("index.json is missing".to_owned()))?;
        ImageIndex::parse(&bytes).map_err(|e| self.format(format!("index.json: {e}")))
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), Error> {
        let bytes = serde_json::to_vec(index)
            .map_err(|e| self.format(format!("serialising index.json: {e}")))?;
        self.write_atomically(&self.root.join(INDEX_FILE), &bytes)
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(self.io(&format!("writing {name}"), e));
        }
        Ok(())
    }

    fn lock_index(&self) -> Result<File, Error> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(LOCK_FILE))
            .map_err(|e| self.io("opening the index lock", e))?;
        lock.lock().map_err(|e| self.io("locking the index", e))?;
        Ok(lock)
    }

    fn get_manifest(&self, reference: &ManifestRef) -> Result<Option<FetchedManifest>, Error> {
        let (digest, media_type) = match reference {
            ManifestRef::Digest(d) => (d.clone(), None),
            ManifestRef::Tag(tag) => {
                let index = self.read_index()?;
                let found = index
                    .manifests
                    .iter()
                    .rev()
                    .find(|m| m.annotations.get(REF_NAME_ANNOTATION) == Some(tag));
                match found {
                    Some(m) => (m.digest.clone(), Some(m.media_type.clone())),
                    None => return Ok(None),
                }
            }
        };
        let what = format!("manifest {digest}");
        let Some(bytes) = self.read_bounded(
            &self.blob_path(&digest),
            self.limits.max_manifest_bytes,
            &what,
        )?
        else {
            return match reference {
                ManifestRef::Digest(_) => Ok(None),
                ManifestRef::Tag(_) => Err(Error::MissingBlob {
                    what,
                    location: self.display.clone(),
                }),
            };
        };
        let actual = Digest::sha256_of(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                what,
                expected: digest,
                actual,
            });
        }
        let media_type = media_type.or_else(|| crate::declared_media_type(&bytes));
        Ok(Some(FetchedManifest {
            bytes,
            digest,
            media_type,
        }))
    }

    fn get_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let what = format!("blob {digest}");
        let bytes = self
            .read_bounded(&self.blob_path(digest), max_bytes, &what)?
            .ok_or_else(|| Error::MissingBlob {
                what: what.clone(),
                location: self.display.clone(),
            })?;
        let actual = Digest::sha256_of(&bytes);
        if actual != *digest {
            return Err(Error::DigestMismatch {
                what,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256_of(bytes);
        let path = self.blob_path(&digest);
        if !path.exists() {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| self.io("creating blobs/sha256", e))?;
            }
            self.write_atomically(&path, bytes)?;
        }
        Ok(digest)
    }

    fn put_manifest(&self, tag: &str, bytes: &[u8], media_type: &str) -> Result<Digest, Error> {
        let digest = self.put_blob(bytes)?;
        let _lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let mut descriptor = Descriptor::for_bytes(media_type, bytes);
        if tag.parse::<Digest>().is_ok() {
            // An untagged manifest (an OCI 1.1 referrer): listed once, without a name.
            if index
                .manifests
                .iter()
                .any(|m| m.digest == descriptor.digest)
            {
                return Ok(digest);
            }
        } else {
            index.manifests.retain(|m| {
                m.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) != Some(tag)
            });
            descriptor
                .annotations
                .insert(REF_NAME_ANNOTATION.to_owned(), tag.to_owned());
        }
        index.manifests.push(descriptor);
        self.write_index(&index)?;
        Ok(digest)
    }
}

/// Most manifests of `index.json` read when looking for referrers by subject.
const MAX_REFERRER_CANDIDATES: usize = 1000;

impl LayoutRepository {
    fn referrers_by_subject(&self, subject: &Digest) -> Result<Option<FetchedManifest>, Error> {
        let index = self.read_index()?;
        let tag = format!("{}-{}", subject.algorithm().name(), subject.hex());
        if index
            .manifests
            .iter()
            .any(|m| m.annotations.get(REF_NAME_ANNOTATION) == Some(&tag))
        {
            return Ok(None);
        }
        let mut referrers = Vec::new();
        for entry in index
            .manifests
            .iter()
            .filter(|m| m.digest != *subject && m.media_type.ends_with("manifest.v1+json"))
            .take(MAX_REFERRER_CANDIDATES)
        {
            let Some(fetched) = self.get_manifest(&ManifestRef::Digest(entry.digest.clone()))?
            else {
                continue;
            };
            let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&fetched.bytes) else {
                continue;
            };
            if manifest["subject"]["digest"].as_str() != Some(subject.to_string().as_str()) {
                continue;
            }
            let artifact_type = manifest["artifactType"]
                .as_str()
                .or_else(|| manifest["config"]["mediaType"].as_str())
                .unwrap_or_default();
            let mut descriptor = Descriptor::for_bytes(&entry.media_type, &fetched.bytes);
            if let Some(annotations) = manifest["annotations"].as_object() {
                for (k, v) in annotations {
                    if let Some(v) = v.as_str() {
                        descriptor.annotations.insert(k.clone(), v.to_owned());
                    }
                }
            }
            descriptor
                .extra
                .insert("artifactType".to_owned(), artifact_type.into());
            referrers.push(descriptor);
        }
        if referrers.is_empty() {
            return Ok(None);
        }
        let answer = ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
            manifests: referrers,
            extra: serde_json::Map::new(),
        };
        let bytes = serde_json::to_vec(&answer)
            .map_err(|e| self.format(format!("serialising the referrers: {e}")))?;
        Ok(Some(FetchedManifest {
            digest: Digest::sha256_of(&bytes),
            bytes,
            media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
        }))
    }
}

impl OciRepository for LayoutRepository {
    fn name(&self) -> String {
        self.display.clone()
    }

    fn manifest<'a>(
        &'a self,
        reference: &'a ManifestRef,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>> {
        Box::pin(async move { self.get_manifest(reference) })
    }

    fn blob<'a>(
        &'a self,
        digest: &'a Digest,
        max_bytes: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move { self.get_blob(digest, max_bytes) })
    }

    /// A layout has no referrers API. When it has no referrers tag schema index for
    /// `subject` either, the manifests `index.json` lists are its referrers, as oras (and so
    /// notation) keeps them: those whose `subject` is the image, returned as the index the
    /// API would answer.
    fn referrers<'a>(
        &'a self,
        subject: &'a Digest,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>> {
        Box::pin(async move { self.referrers_by_subject(subject) })
    }

    fn push_blob<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(async move { self.put_blob(bytes) })
    }

    fn push_manifest<'a>(
        &'a self,
        tag: &'a str,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(async move { self.put_manifest(tag, bytes, media_type) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(f)
    }

    #[test]
    fn stores_and_reads_back_manifests_by_tag_and_digest() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().to_string_lossy().into_owned();
        let repo =
            LayoutRepository::init(&path, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let manifest = br#"{"schemaVersion":2}"#;
        let digest = block_on(repo.push_manifest(
            "v1",
            manifest,
            "application/vnd.oci.image.manifest.v1+json",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let by_tag = block_on(repo.manifest(&ManifestRef::Tag("v1".into())))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("tag not found"));
        assert_eq!(by_tag.digest, digest);
        assert_eq!(by_tag.bytes, manifest);
        // Re-tagging replaces the entry instead of adding a second one.
        block_on(repo.push_manifest("v1", b"{}", "application/vnd.oci.image.manifest.v1+json"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(repo.read_index().map(|i| i.manifests.len()).ok(), Some(1));
        assert!(
            block_on(repo.manifest(&ManifestRef::Tag("nope".into())))
                .ok()
                .flatten()
                .is_none()
        );
    }

    #[test]
    fn refuses_blobs_over_the_limit_and_corrupt_blobs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().to_string_lossy().into_owned();
        let repo =
            LayoutRepository::init(&path, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let digest = block_on(repo.push_blob(b"0123456789")).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            block_on(repo.blob(&digest, 5)),
            Err(Error::TooLarge { .. })
        ));
        fs::write(repo.blob_path(&digest), b"tampered!!").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            block_on(repo.blob(&digest, 100)),
            Err(Error::DigestMismatch { .. })
        ));
    }

    #[test]
    fn a_directory_without_oci_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = LayoutRepository::open(&dir.path().to_string_lossy(), Limits::default()).err();
        assert!(matches!(err, Some(Error::LayoutFormat { .. })));
    }
}
