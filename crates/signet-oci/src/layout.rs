//! The OCI image-layout store: images and their signatures in a directory, no server needed.
//!
//! The layout is the standard one (`oci-layout`, `index.json`, `blobs/sha256/…`); tags are the
//! `org.opencontainers.image.ref.name` annotations of `index.json`'s entries, and signatures
//! live under Cosign's tag names (`sha256-<hex>.sig`) in the same layout. Blobs and the index
//! are written to a temporary file and renamed into place, and index updates are serialised
//! with a lock file, so an interrupted or concurrent write never loses an entry.
//!
//! A layout written by `cosign save` (or `signet save`) names nothing by tag: it holds one
//! image, and marks `index.json`'s entries with a `kind` annotation ([`CosignKind`]) instead,
//! as Cosign's `pkg/oci/layout` writes and reads them. Such a layout is read as if its entries
//! were tagged: the image (or image index) answers to the tag `latest`, the `sigs` and `atts`
//! entries to that image's `sha256-<hex>.sig` and `.att` tags, and signing into the layout
//! replaces the `sigs` entry, so Cosign still finds the signatures. Cosign stores OCI 1.1
//! referrers (Sigstore bundles) in such a layout as unlisted blobs and finds them by reading
//! every blob that could be a manifest; [`OciRepository::referrers`] does the same here,
//! bounded (see [`MAX_SCANNED_BLOBS`]).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use signet_core::cosign::{
    Attachment, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, attachment_tag,
};
use signet_core::digest::{Digest, Hasher};
use signet_core::limits::Limits;
use signet_core::manifest::{Descriptor, ImageIndex};

use crate::{BlobStream, BoxFuture, Error, FetchedManifest, ManifestRef, OciRepository, stream};

/// The annotation an image layout's index uses for tags.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The annotation `cosign save` marks each entry of `index.json` with (Cosign's
/// `pkg/oci/layout`, `kindAnnotation`).
pub const KIND_ANNOTATION: &str = "kind";

/// Most blobs [`OciRepository::referrers`] reads when it looks for the referrers in a layout
/// written by `cosign save`; a layout with more is refused rather than read for minutes.
pub const MAX_SCANNED_BLOBS: usize = 100_000;

/// What an entry of a layout written by `cosign save` is: the value of its `kind` annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CosignKind {
    /// The saved image (`dev.cosignproject.cosign/image`).
    Image,
    /// The saved image index (`dev.cosignproject.cosign/imageIndex`).
    ImageIndex,
    /// The image's signature manifest (`dev.cosignproject.cosign/sigs`).
    Signatures,
    /// The image's attestation manifest (`dev.cosignproject.cosign/atts`).
    Attestations,
}

impl CosignKind {
    /// The annotation value Cosign writes.
    pub fn annotation(self) -> &'static str {
        match self {
            Self::Image => "dev.cosignproject.cosign/image",
            Self::ImageIndex => "dev.cosignproject.cosign/imageIndex",
            Self::Signatures => "dev.cosignproject.cosign/sigs",
            Self::Attestations => "dev.cosignproject.cosign/atts",
        }
    }

    fn of(descriptor: &Descriptor) -> Option<Self> {
        match descriptor.annotations.get(KIND_ANNOTATION)?.as_str() {
            "dev.cosignproject.cosign/image" => Some(Self::Image),
            "dev.cosignproject.cosign/imageIndex" => Some(Self::ImageIndex),
            "dev.cosignproject.cosign/sigs" => Some(Self::Signatures),
            "dev.cosignproject.cosign/atts" => Some(Self::Attestations),
            _ => None,
        }
    }

    fn for_attachment(attachment: Attachment) -> Option<Self> {
        match attachment {
            Attachment::Signature => Some(Self::Signatures),
            Attachment::Attestation => Some(Self::Attestations),
            Attachment::Sbom => None,
        }
    }
}

/// The entry of a `cosign save` layout's index that is the saved image: the image index if
/// there is one, else the image, the first of each, in the order Cosign's
/// `VerifyLocalImageSignatures` looks for them.
pub fn cosign_saved_image(index: &ImageIndex) -> Option<&Descriptor> {
    let first = |kind: CosignKind| {
        index
            .manifests
            .iter()
            .find(|m| CosignKind::of(m) == Some(kind))
    };
    first(CosignKind::ImageIndex).or_else(|| first(CosignKind::Image))
}
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
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", unique_suffix()));
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
                match find_tagged(&index, tag) {
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
            match cosign_kind_of_tag(&index, tag) {
                // A `cosign save` layout: the saved image's signatures stay where Cosign
                // looks for them, in the one entry of their kind.
                Some(kind) => {
                    index.manifests.retain(|m| CosignKind::of(m) != Some(kind));
                    descriptor
                        .annotations
                        .insert(KIND_ANNOTATION.to_owned(), kind.annotation().to_owned());
                }
                None => {
                    descriptor
                        .annotations
                        .insert(REF_NAME_ANNOTATION.to_owned(), tag.to_owned());
                }
            }
        }
        index.manifests.push(descriptor);
        self.write_index(&index)?;
        Ok(digest)
    }

    fn open_blob_stream(&self, digest: &Digest, size: u64) -> Result<BlobStream, Error> {
        let path = self.blob_path(digest);
        let what = format!("blob {digest} in {}", self.display);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingBlob {
                    what: format!("blob {digest}"),
                    location: self.display.clone(),
                });
            }
            Err(e) => return Err(self.io(&format!("reading {what}"), e)),
        };
        let actual = file
            .metadata()
            .map_err(|e| self.io(&format!("reading {what}"), e))?
            .len();
        if actual != size {
            return Err(Error::SizeMismatch {
                what,
                expected: size,
                actual,
            });
        }
        let display = self.display.clone();
        let action = format!("reading {what}");
        let chunks = stream::file_chunks(tokio::fs::File::from_std(file), move |source| {
            Error::LayoutIo {
                path: display.clone(),
                action: action.clone(),
                source,
            }
        });
        Ok(stream::verified(chunks, digest.clone(), size, what))
    }

    /// Writes the blob from `source` to a temporary file, then renames it into place if it
    /// was complete and correct (the stream checks size and digest).
    async fn write_blob_stream(
        &self,
        digest: &Digest,
        size: u64,
        mut source: BlobStream,
    ) -> Result<(), Error> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;

        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| self.io("creating blobs/sha256", e))?;
        }
        let tmp = path.with_file_name(format!(".{}.{}.tmp", digest.hex(), unique_suffix()));
        let what = format!("writing blob {digest}");
        let result: Result<(), Error> = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| self.io(&what, e))?;
            let mut hasher = Hasher::new(digest.algorithm());
            let mut written = 0u64;
            while let Some(chunk) = source.next().await {
                let chunk = chunk?;
                hasher.update(&chunk);
                written += chunk.len() as u64;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| self.io(&what, e))?;
            }
            file.sync_all().await.map_err(|e| self.io(&what, e))?;
            // The stream checks what it yields; this checks the stream.
            let actual = hasher.finish();
            if written != size || actual != *digest {
                return Err(Error::DigestMismatch {
                    what: format!("blob {digest} for {}", self.display),
                    expected: digest.clone(),
                    actual,
                });
            }
            fs::rename(&tmp, &path).map_err(|e| self.io(&what, e))
        }
        .await;
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// The referrers of `subject` in a `cosign save` layout: every blob that is a manifest
    /// whose `subject` is `subject`, as Cosign's `getLocalBundleDescriptors` finds them, as an
    /// image index like the referrers API answers. `None` for any other layout, whose
    /// referrers are listed under the referrers tag schema.
    fn scan_referrers(&self, subject: &Digest) -> Result<Option<FetchedManifest>, Error> {
        let index = self.read_index()?;
        if cosign_saved_image(&index).is_none() {
            return Ok(None);
        }
        let dir = self.root.join("blobs").join(subject.algorithm().name());
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(referrers_index(Vec::new())));
            }
            Err(e) => return Err(self.io("listing the blobs", e)),
        };
        let mut found = Vec::new();
        for (count, entry) in entries.enumerate() {
            if count >= MAX_SCANNED_BLOBS {
                return Err(Error::TooLarge {
                    what: format!(
                        "the blobs of {} (read to find the referrers of {subject})",
                        self.display
                    ),
                    limit: MAX_SCANNED_BLOBS as u64,
                });
            }
            let entry = entry.map_err(|e| self.io("listing the blobs", e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(digest) = format!("{}:{name}", subject.algorithm().name()).parse::<Digest>()
            else {
                continue;
            };
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() || meta.len() > self.limits.max_manifest_bytes {
                continue;
            }
            let Some(bytes) = self.read_manifest_candidate(&entry.path())? else {
                continue;
            };
            if let Some(descriptor) = referrer_descriptor(&bytes, digest, subject) {
                found.push(descriptor);
            }
        }
        found.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(Some(referrers_index(found)))
    }

    /// The bytes of a blob that may be a JSON manifest; `None` for one that cannot be (its
    /// first byte is not `{`: a layer), which is then not read further.
    fn read_manifest_candidate(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("reading a blob", e)),
        };
        let mut first = [0u8; 1];
        match file.read(&mut first) {
            Ok(1) if first[0] == b'{' => {}
            Ok(_) => return Ok(None),
            Err(e) => return Err(self.io("reading a blob", e)),
        }
        let mut bytes = vec![b'{'];
        file.take(self.limits.max_manifest_bytes)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io("reading a blob", e))?;
        Ok(Some(bytes))
    }

    /// Replaces `index.json` with `manifests`, whatever it listed: `cosign save` and
    /// `signet save` write a layout that holds one image. The blobs must already be written.
    pub fn replace_index(&self, manifests: Vec<Descriptor>) -> Result<(), Error> {
        let _lock = self.lock_index()?;
        self.write_index(&ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
            manifests,
            extra: serde_json::Map::new(),
        })
    }

    /// The entries of `index.json`.
    pub fn entries(&self) -> Result<Vec<Descriptor>, Error> {
        Ok(self.read_index()?.manifests)
    }

    /// The layout's directory as given.
    pub fn path(&self) -> &str {
        &self.display
    }
}

/// The entry `tag` names: the last one annotated with it, else in a `cosign save` layout the
/// entry of the `kind` the tag stands for.
fn find_tagged<'i>(index: &'i ImageIndex, tag: &str) -> Option<&'i Descriptor> {
    let named = index
        .manifests
        .iter()
        .rev()
        .find(|m| m.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) == Some(tag));
    if named.is_some() {
        return named;
    }
    let saved = cosign_saved_image(index)?;
    if tag == "latest" {
        return Some(saved);
    }
    let kind = cosign_kind_of_tag(index, tag)?;
    index
        .manifests
        .iter()
        .find(|m| CosignKind::of(m) == Some(kind))
}

/// In a `cosign save` layout, which `kind` entry Cosign's tag `tag` stands for: the saved
/// image's `.sig` and `.att` tags. `None` in any other layout, or for any other tag.
fn cosign_kind_of_tag(index: &ImageIndex, tag: &str) -> Option<CosignKind> {
    let saved = cosign_saved_image(index)?;
    [Attachment::Signature, Attachment::Attestation]
        .into_iter()
        .find(|a| attachment_tag(&saved.digest, *a) == tag)
        .and_then(CosignKind::for_attachment)
}

/// The referrers-API descriptor of the manifest `bytes` (stored as `digest`) if its `subject`
/// is `subject`: media type, size, digest, `artifactType` (the manifest's, else its config's
/// media type, as the distribution spec says) and the manifest's annotations.
fn referrer_descriptor(bytes: &[u8], digest: Digest, subject: &Digest) -> Option<Descriptor> {
    #[derive(serde::Deserialize)]
    struct Candidate {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        #[serde(rename = "artifactType")]
        artifact_type: Option<String>,
        config: Option<ConfigOnly>,
        subject: Option<SubjectOnly>,
        #[serde(default)]
        annotations: std::collections::BTreeMap<String, String>,
    }
    #[derive(serde::Deserialize)]
    struct ConfigOnly {
        #[serde(rename = "mediaType")]
        media_type: String,
    }
    #[derive(serde::Deserialize)]
    struct SubjectOnly {
        digest: String,
    }
    let candidate: Candidate = serde_json::from_slice(bytes).ok()?;
    if candidate.subject?.digest != subject.to_string() {
        return None;
    }
    let mut descriptor = Descriptor {
        media_type: candidate
            .media_type
            .unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_owned()),
        size: bytes.len() as u64,
        digest,
        annotations: candidate.annotations,
        extra: serde_json::Map::new(),
    };
    if let Some(artifact_type) = candidate
        .artifact_type
        .or(candidate.config.map(|c| c.media_type))
    {
        descriptor
            .extra
            .insert("artifactType".to_owned(), artifact_type.into());
    }
    Some(descriptor)
}

/// An image index listing `manifests`, as a referrers API answers.
fn referrers_index(manifests: Vec<Descriptor>) -> FetchedManifest {
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
        manifests,
        extra: serde_json::Map::new(),
    };
    let bytes = serde_json::to_vec(&index).unwrap_or_default();
    FetchedManifest {
        digest: Digest::sha256_of(&bytes),
        bytes,
        media_type: Some(OCI_INDEX_MEDIA_TYPE.to_owned()),
    }
}

/// A suffix that keeps temporary files of concurrent writers (threads or processes) apart.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
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

    /// A layout has no referrers API. A `cosign save` layout's referrers are found by reading
    /// its blobs, as Cosign does. Any other layout's, when it has no referrers tag schema index
    /// for `subject`, are the manifests `index.json` lists whose `subject` is the image, as oras
    /// (and so notation) keeps them, returned as the index the API would answer.
    fn referrers<'a>(
        &'a self,
        subject: &'a Digest,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>> {
        Box::pin(async move {
            match self.scan_referrers(subject)? {
                Some(found) => Ok(Some(found)),
                None => self.referrers_by_subject(subject),
            }
        })
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

    fn push_manifest_by_digest<'a>(
        &'a self,
        bytes: &'a [u8],
        _media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(async move { self.put_blob(bytes) })
    }

    fn has_blob<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move { Ok(self.blob_path(digest).is_file()) })
    }

    fn blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
    ) -> BoxFuture<'a, Result<BlobStream, Error>> {
        Box::pin(async move { self.open_blob_stream(digest, size) })
    }

    fn push_blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
        stream: BlobStream,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.write_blob_stream(digest, size, stream))
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

    /// A layout as `cosign save` writes it: the image and its signatures, marked by `kind`,
    /// and a referrer of the image stored as blobs only.
    fn cosign_saved(dir: &tempfile::TempDir) -> (LayoutRepository, Digest, Digest, Digest) {
        let path = dir.path().to_string_lossy().into_owned();
        let repo =
            LayoutRepository::init(&path, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
        let sigs = br#"{"schemaVersion":2,"layers":[]}"#;
        let image_digest = repo.put_blob(image).unwrap_or_else(|e| panic!("{e}"));
        let sigs_digest = repo.put_blob(sigs).unwrap_or_else(|e| panic!("{e}"));
        let referrer = format!(
            r#"{{"schemaVersion":2,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":{},"digest":"{image_digest}"}},"annotations":{{"dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1"}}}}"#,
            image.len()
        );
        let referrer_digest = repo
            .put_blob(referrer.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        repo.put_blob(b"\x1f\x8b not a manifest")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut image_entry = Descriptor::for_bytes(OCI_MANIFEST_MEDIA_TYPE, image);
        image_entry.annotations.insert(
            KIND_ANNOTATION.into(),
            CosignKind::Image.annotation().into(),
        );
        let mut sigs_entry = Descriptor::for_bytes(OCI_MANIFEST_MEDIA_TYPE, sigs);
        sigs_entry.annotations.insert(
            KIND_ANNOTATION.into(),
            CosignKind::Signatures.annotation().into(),
        );
        repo.replace_index(vec![image_entry, sigs_entry])
            .unwrap_or_else(|e| panic!("{e}"));
        (repo, image_digest, sigs_digest, referrer_digest)
    }

    #[test]
    fn a_cosign_save_layout_reads_as_if_tagged() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (repo, image, sigs, _) = cosign_saved(&dir);
        let by_tag = |tag: String| {
            block_on(repo.manifest(&ManifestRef::Tag(tag)))
                .unwrap_or_else(|e| panic!("{e}"))
                .map(|m| m.digest)
        };
        assert_eq!(by_tag("latest".into()), Some(image.clone()));
        assert_eq!(
            by_tag(attachment_tag(&image, Attachment::Signature)),
            Some(sigs)
        );
        assert_eq!(
            by_tag(attachment_tag(&image, Attachment::Attestation)),
            None
        );
        // Another digest's tags are not the saved image's.
        let other = Digest::sha256_of(b"other");
        assert_eq!(by_tag(attachment_tag(&other, Attachment::Signature)), None);
    }

    #[test]
    fn signing_into_a_cosign_save_layout_replaces_its_sigs_entry() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (repo, image, old_sigs, _) = cosign_saved(&dir);
        let new_sigs = br#"{"schemaVersion":2,"layers":[{"n":2}]}"#;
        block_on(repo.push_manifest(
            &attachment_tag(&image, Attachment::Signature),
            new_sigs,
            OCI_MANIFEST_MEDIA_TYPE,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let index = repo.read_index().unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<(Option<CosignKind>, &Digest)> = index
            .manifests
            .iter()
            .map(|m| (CosignKind::of(m), &m.digest))
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert!(!kinds.iter().any(|(_, d)| **d == old_sigs));
        assert!(kinds.contains(&(Some(CosignKind::Signatures), &Digest::sha256_of(new_sigs))));
    }

    #[test]
    fn referrers_of_a_cosign_save_layout_are_found_among_its_blobs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (repo, image, _, referrer) = cosign_saved(&dir);
        let found = block_on(repo.referrers(&image))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("a cosign save layout answers referrers"));
        let index = ImageIndex::parse(&found.bytes).unwrap_or_else(|e| panic!("{e}"));
        let digests: Vec<&Digest> = index.manifests.iter().map(|m| &m.digest).collect();
        assert_eq!(digests, vec![&referrer]);
        assert_eq!(
            index.manifests[0].extra.get("artifactType"),
            Some(&serde_json::Value::from(
                "application/vnd.dev.sigstore.bundle.v0.3+json"
            ))
        );
        // Any other layout keeps its referrers under the tag schema.
        let plain = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let plain = LayoutRepository::init(&plain.path().to_string_lossy(), Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            block_on(plain.referrers(&image))
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
    }

    #[test]
    fn a_directory_without_oci_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = LayoutRepository::open(&dir.path().to_string_lossy(), Limits::default()).err();
        assert!(matches!(err, Some(Error::LayoutFormat { .. })));
    }
}
