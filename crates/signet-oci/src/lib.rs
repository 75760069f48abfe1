//! Where images and their signatures are stored: OCI registries and OCI image layouts.
//!
//! Both stores sit behind one object-safe trait, [`OciRepository`], with the handful of
//! operations signing and verifying need: read a manifest by tag or digest, list the OCI 1.1
//! referrers of a digest, read a blob with a size bound, write a blob, write a manifest under
//! a tag. [`OciClient`] opens a repository for an [`ImageReference`]: registries go through
//! `oci-client` (one connection pool per registry, Docker config credentials, bearer-token
//! flows), `oci:` references through [`layout::LayoutRepository`], which needs no server.
//!
//! Every read is bounded by [`Limits`]; every error says which registry or layout failed and is
//! an operational failure ("could not find out"), never a verdict. A missing manifest is not an
//! error: it is `Ok(None)`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), signet_oci::Error> {
//! use signet_oci::{ClientOptions, OciClient};
//! let client = OciClient::new(ClientOptions::default());
//! let image = "oci:./layout:latest".parse().expect("valid reference");
//! let (repository, reference) = client.open(&image)?;
//! let manifest = repository.manifest(&reference).await?;
//! # let _ = manifest; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
pub mod copy;
mod error;
mod fetch;
pub mod http;
pub mod layout;
pub mod referrers;
mod registry;
pub mod save;
mod stream;
mod token;
pub mod walk;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use error::Error;
pub use registry::{ClientOptions, HttpPolicy, TlsPolicy};
use signet_core::digest::Digest;
pub use signet_core::limits::Limits;
use signet_core::reference::{ImageReference, LayoutSelector, Repository};

/// A boxed future, so [`OciRepository`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A blob's bytes as they arrive, chunk by chunk, so that a blob of any size is copied in
/// constant memory. The stream checks what it yields against the size and digest it was opened
/// for, and ends with an error (never with a short or altered blob) when either differs.
pub type BlobStream = Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, Error>> + Send>>;

/// A manifest as stored: its exact bytes, their digest and the media type the store reported.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The manifest bytes; signatures cover these exactly.
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`, computed here, not taken from the registry.
    pub digest: Digest,
    /// The media type the store reported, if any.
    pub media_type: Option<String>,
}

/// The `mediaType` a manifest declares in its own body, for stores that do not report one.
fn declared_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct MediaTypeOnly {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<MediaTypeOnly>(bytes)
        .ok()
        .and_then(|m| m.media_type)
}

/// Which manifest of a repository is meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ManifestRef {
    /// A tag.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(t) => write!(f, ":{t}"),
            Self::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// One repository of a registry, or one OCI image layout.
pub trait OciRepository: Send + Sync + fmt::Debug {
    /// The repository's name as signatures claim it (`registry/path`, or the layout's path).
    fn name(&self) -> String;

    /// Reads a manifest. `Ok(None)` when there is none under that tag or digest.
    fn manifest<'a>(
        &'a self,
        reference: &'a ManifestRef,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>>;

    /// Reads a blob of at most `max_bytes` and checks it against its digest.
    fn blob<'a>(
        &'a self,
        digest: &'a Digest,
        max_bytes: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>>;

    /// Reads the OCI 1.1 referrers of `subject` (`GET /v2/<name>/referrers/<digest>`): an
    /// image index listing the manifests whose `subject` is that digest, bounded like a
    /// manifest. `Ok(None)` when the store has no referrers API (a registry answering 404,
    /// such as docker-registry 2.8, or a layout): look under the referrers tag schema
    /// (`sha256-<hex>`) instead.
    fn referrers<'a>(
        &'a self,
        subject: &'a Digest,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>>;

    /// Stores a blob (a no-op if it is already there) and returns its digest.
    fn push_blob<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Digest, Error>>;

    /// Stores a manifest under `tag` and returns its digest. A `tag` that is a digest
    /// (`sha256:…`) stores the manifest untagged, as OCI 1.1 referrers are pushed.
    fn push_manifest<'a>(
        &'a self,
        tag: &'a str,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>>;

    /// Stores a manifest that another manifest references (a platform manifest of an image
    /// index), by digest and without a name. A registry stores it as `PUT
    /// /manifests/<digest>`; a layout writes the blob only, since its `index.json` lists what
    /// is named, not every manifest an index reaches.
    fn push_manifest_by_digest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>>;

    /// Whether the store holds the blob `digest` (without reading it).
    fn has_blob<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, Result<bool, Error>>;

    /// Opens the blob `digest` of `size` bytes (as its descriptor says) for reading in chunks;
    /// see [`BlobStream`].
    fn blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
    ) -> BoxFuture<'a, Result<BlobStream, Error>>;

    /// Makes the blob `digest` of the repository `from` (as [`OciRepository::name`] names it)
    /// available here without sending it, if the store can (a registry's cross-repository
    /// mount, within one registry). `Ok(false)` when it cannot; the caller then copies it.
    fn mount_blob<'a>(
        &'a self,
        digest: &'a Digest,
        from: &'a str,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let _ = (digest, from);
        Box::pin(async { Ok(false) })
    }

    /// Stores the blob `digest` of `size` bytes from `stream`. If the stream fails, or yields
    /// other bytes, nothing is stored under `digest`.
    fn push_blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
        stream: BlobStream,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// Opens repositories of registries and layouts, sharing connection pools and credentials.
#[derive(Debug)]
pub struct OciClient {
    registries: registry::RegistryPool,
}

impl OciClient {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Self {
        Self {
            registries: registry::RegistryPool::new(options),
        }
    }

    /// How many HTTP requests this client has made to registries so far (authentication
    /// included; layouts make none).
    pub fn request_count(&self) -> u64 {
        self.registries.requests()
    }

    /// The limits reads are bounded by.
    pub fn limits(&self) -> &Limits {
        self.registries.limits()
    }

    /// The repository that holds `image`, and which manifest in it `image` names.
    pub fn open(
        &self,
        image: &ImageReference,
    ) -> Result<(Arc<dyn OciRepository>, ManifestRef), Error> {
        match image {
            ImageReference::Registry(r) => {
                let repo = self.open_repository(r.repository());
                let reference = match (r.digest(), r.tag()) {
                    (Some(d), _) => ManifestRef::Digest(d.clone()),
                    (None, Some(t)) => ManifestRef::Tag(t.to_owned()),
                    (None, None) => ManifestRef::Tag("latest".to_owned()),
                };
                Ok((repo, reference))
            }
            ImageReference::Layout(l) => {
                let repo = layout::LayoutRepository::open(l.path(), *self.limits())?;
                let reference = match l.selector() {
                    LayoutSelector::Tag(t) => ManifestRef::Tag(t.clone()),
                    LayoutSelector::Digest(d) => ManifestRef::Digest(d.clone()),
                };
                Ok((Arc::new(repo), reference))
            }
        }
    }

    /// Where the attachments (signatures, attestations) of an image in `repository` live:
    /// the same repository, or `other` (`COSIGN_REPOSITORY`), which only registries support.
    pub fn attachment_repository(
        &self,
        image: &ImageReference,
        repository: &Arc<dyn OciRepository>,
        other: Option<&Repository>,
    ) -> Result<Arc<dyn OciRepository>, Error> {
        match (other, image) {
            (None, _) => Ok(Arc::clone(repository)),
            (Some(other), ImageReference::Registry(_)) => Ok(self.open_repository(other)),
            (Some(_), ImageReference::Layout(_)) => Err(Error::LayoutFormat {
                path: repository.name(),
                reason: "COSIGN_REPOSITORY applies to registry images, not to OCI layouts"
                    .to_owned(),
            }),
        }
    }

    /// Like [`OciClient::open`], for writing: an OCI layout that does not exist yet is created
    /// (an empty `index.json`); registries need nothing created.
    pub fn open_for_writing(
        &self,
        image: &ImageReference,
    ) -> Result<(Arc<dyn OciRepository>, ManifestRef), Error> {
        if let ImageReference::Layout(l) = image {
            layout::LayoutRepository::init(l.path(), *self.limits())?;
        }
        self.open(image)
    }

    /// A repository of a registry, for example the one `COSIGN_REPOSITORY` names.
    pub fn open_repository(&self, repository: &Repository) -> Arc<dyn OciRepository> {
        Arc::new(self.registries.repository(repository.clone()))
    }
}
