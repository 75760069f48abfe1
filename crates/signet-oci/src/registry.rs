//! Registry access through `oci-client`: one client (connection pool) per registry host.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use signet_core::cosign::{
    DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE,
};
use signet_core::digest::{Digest, DigestAlgorithm, Hasher};
use signet_core::limits::Limits;
use signet_core::reference::Repository;

use crate::{BoxFuture, Error, FetchedManifest, ManifestRef, OciRepository, auth};

/// Waits before retrying a transient failure (5xx, connection reset, timeout); after the last
/// one the failure is reported.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(800),
];

/// Whether a failure may go away if the request is repeated.
fn is_transient(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::RequestError(e) => {
            e.is_timeout()
                || e.is_connect()
                || e.is_body()
                || e.status().is_some_and(|s| s.is_server_error())
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

const ACCEPTED_MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST_MEDIA_TYPE,
    OCI_INDEX_MEDIA_TYPE,
    DOCKER_MANIFEST_MEDIA_TYPE,
    DOCKER_MANIFEST_LIST_MEDIA_TYPE,
];

/// When plain HTTP is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpPolicy {
    /// HTTPS, except for registries on this machine (localhost, 127.0.0.0/8, ::1), as Cosign.
    #[default]
    LoopbackOnly,
    /// Plain HTTP for every registry (`--allow-http-registry`).
    AnyRegistry,
}

/// Whether registry TLS certificates are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Verify certificates against the system's roots.
    #[default]
    Verify,
    /// Accept any certificate (`--allow-insecure-registry`). Anyone on the path can then
    /// impersonate the registry; signatures still protect image content.
    DangerAcceptInvalidCertificates,
}

/// How registries are reached.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Bounds on what is read.
    pub limits: Limits,
    /// When plain HTTP is used.
    pub http: HttpPolicy,
    /// Whether certificates are verified.
    pub tls: TlsPolicy,
}

struct Connection {
    client: Client,
    auth: RegistryAuth,
    authenticated: Mutex<HashSet<(String, bool)>>,
}

#[derive(Debug)]
pub(crate) struct RegistryPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    options: ClientOptions,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
    /// HTTP requests made, for `--stats`.
    requests: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for PoolInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryPool")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RegistryPool {
    pub(crate) fn new(options: ClientOptions) -> Self {
        Self {
            inner: Arc::new(PoolInner {
                options,
                connections: Mutex::new(HashMap::new()),
                requests: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.inner.options.limits
    }

    pub(crate) fn requests(&self) -> u64 {
        self.inner
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn repository(&self, repository: Repository) -> RegistryRepository {
        RegistryRepository {
            pool: Arc::clone(&self.inner),
            repository,
        }
    }
}

impl PoolInner {
    /// Counts `n` HTTP requests.
    fn count(&self, n: u64) {
        self.requests
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn connection(&self, repository: &Repository) -> Result<Arc<Connection>, Error> {
        let registry = repository.registry();
        let mut connections = self
            .connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(conn) = connections.get(registry) {
            return Ok(Arc::clone(conn));
        }
        let protocol = if self.options.http == HttpPolicy::AnyRegistry || repository.is_loopback() {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            accept_invalid_certificates: self.options.tls
                == TlsPolicy::DangerAcceptInvalidCertificates,
            use_monolithic_push: true,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("signet/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let conn = Arc::new(Connection {
            client: Client::new(config),
            auth: auth::credentials_for(registry)?,
            authenticated: Mutex::new(HashSet::new()),
        });
        connections.insert(registry.to_owned(), Arc::clone(&conn));
        Ok(conn)
    }
}

/// A repository in a registry.
#[derive(Debug)]
pub(crate) struct RegistryRepository {
    pool: Arc<PoolInner>,
    repository: Repository,
}

impl RegistryRepository {
    fn reference(&self, manifest: &ManifestRef) -> Reference {
        let registry = self.repository.registry().to_owned();
        let path = self.repository.path().to_owned();
        match manifest {
            ManifestRef::Tag(t) => Reference::with_tag(registry, path, t.clone()),
            ManifestRef::Digest(d) => Reference::with_digest(registry, path, d.to_string()),
        }
    }

    /// Runs the token flow once per repository and direction, then reuses the token.
    async fn connect(&self, reference: &Reference, push: bool) -> Result<Arc<Connection>, Error> {
        let conn = self.pool.connection(&self.repository)?;
        let key = (self.repository.path().to_owned(), push);
        let done = conn
            .authenticated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&key);
        if !done {
            let operation = if push {
                RegistryOperation::Push
            } else {
                RegistryOperation::Pull
            };
            self.retrying(1, || conn.client.auth(reference, &conn.auth, operation))
                .await
                .map_err(|e| self.classify(e, "authenticating"))?;
            conn.authenticated
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key);
        }
        Ok(conn)
    }

    /// Runs `op` (which makes `requests` HTTP requests), repeating it after transient
    /// failures with backoff.
    async fn retrying<T, Fut>(
        &self,
        requests: u64,
        mut op: impl FnMut() -> Fut,
    ) -> Result<T, OciDistributionError>
    where
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            self.pool.count(requests);
            match op().await {
                Err(e) if is_transient(&e) => match delays.next() {
                    Some(delay) => tokio::time::sleep(*delay).await,
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }

    fn classify(&self, error: OciDistributionError, operation: &str) -> Error {
        let registry = self.repository.registry().to_owned();
        match error {
            OciDistributionError::RequestError(e) if e.status().is_some() => Error::Registry {
                registry,
                operation: format!("{operation} in {}", self.repository.name()),
                message: e.to_string(),
            },
            OciDistributionError::RequestError(e) => Error::Unreachable {
                registry,
                source: Box::new(e),
            },
            OciDistributionError::IoError(e) => Error::Unreachable {
                registry,
                source: Box::new(e),
            },
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => Error::Unauthorized {
                registry,
                repository: self.repository.name(),
            },
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|e| {
                    matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)
                }) =>
            {
                Error::Unauthorized {
                    registry,
                    repository: self.repository.name(),
                }
            }
            other => Error::Registry {
                registry,
                operation: format!("{operation} in {}", self.repository.name()),
                message: other.to_string(),
            },
        }
    }

    /// The registry refused a manifest because a blob it references is not (yet) there: a
    /// concurrent upload of the same blob may still be in flight.
    fn is_blob_unknown(error: &OciDistributionError) -> bool {
        match error {
            OciDistributionError::ServerError { message, .. } => {
                message.contains("MANIFEST_BLOB_UNKNOWN")
            }
            OciDistributionError::RegistryError { envelope, .. } => envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::ManifestBlobUnknown)),
            _ => false,
        }
    }

    fn is_not_found(error: &OciDistributionError) -> bool {
        match error {
            OciDistributionError::ImageManifestNotFoundError(_) => true,
            OciDistributionError::ServerError { code, .. } => *code == 404,
            OciDistributionError::RegistryError { envelope, .. } => {
                envelope.errors.iter().any(|e| {
                    matches!(
                        e.code,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                    )
                })
            }
            _ => false,
        }
    }

    async fn fetch_manifest(
        &self,
        manifest: &ManifestRef,
    ) -> Result<Option<FetchedManifest>, Error> {
        let reference = self.reference(manifest);
        let conn = self.connect(&reference, false).await?;
        let pulled = self
            .retrying(1, || {
                conn.client
                    .pull_manifest_raw(&reference, &conn.auth, &ACCEPTED_MANIFEST_TYPES)
            })
            .await;
        let (bytes, _) = match pulled {
            Ok(found) => found,
            Err(e) if Self::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.classify(e, &format!("fetching manifest {manifest}"))),
        };
        let limit = self.pool.options.limits.max_manifest_bytes;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: format!("manifest {}{manifest}", self.repository.name()),
                limit,
            });
        }
        let digest = Digest::sha256_of(&bytes);
        if let ManifestRef::Digest(expected) = manifest
            && *expected != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest {}{manifest}", self.repository.name()),
                expected: expected.clone(),
                actual: digest,
            });
        }
        let media_type = crate::declared_media_type(&bytes);
        Ok(Some(FetchedManifest {
            bytes: bytes.to_vec(),
            digest,
            media_type,
        }))
    }

    async fn fetch_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let conn = self.connect(&reference, false).await?;
        let what = || format!("blob {digest} in {}", self.repository.name());
        let digest_text = digest.to_string();
        let pulled = self
            .retrying(1, || {
                conn.client
                    .pull_blob_stream(&reference, digest_text.as_str())
            })
            .await;
        let sized = match pulled {
            Ok(s) => s,
            Err(e) if Self::is_not_found(&e) => {
                return Err(Error::MissingBlob {
                    what: format!("blob {digest}"),
                    location: self.repository.name(),
                });
            }
            Err(e) => return Err(self.classify(e, &format!("fetching blob {digest}"))),
        };
        if sized.content_length.is_some_and(|len| len > max_bytes) {
            return Err(Error::TooLarge {
                what: what(),
                limit: max_bytes,
            });
        }
        let mut stream = sized.stream;
        let mut body = Vec::new();
        let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::Unreachable {
                registry: self.repository.registry().to_owned(),
                source: Box::new(e),
            })?;
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(Error::TooLarge {
                    what: what(),
                    limit: max_bytes,
                });
            }
            hasher.update(&chunk);
            body.extend_from_slice(&chunk);
        }
        let actual = hasher.finish();
        if actual != *digest {
            return Err(Error::DigestMismatch {
                what: what(),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(body)
    }

    async fn store_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256_of(bytes);
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let conn = self.connect(&reference, true).await?;
        let digest_text = digest.to_string();
        let exists = self
            .retrying(1, || conn.client.blob_exists(&reference, &digest_text))
            .await
            .map_err(|e| self.classify(e, "checking for a blob"))?;
        if !exists {
            // A monolithic upload: POST for the session, PUT with the bytes.
            self.retrying(2, || {
                conn.client
                    .push_blob(&reference, bytes.to_vec(), &digest_text)
            })
            .await
            .map_err(|e| self.classify(e, &format!("uploading blob {digest}")))?;
        }
        Ok(digest)
    }

    async fn store_manifest(
        &self,
        tag: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        let reference = self.reference(&ManifestRef::Tag(tag.to_owned()));
        let conn = self.connect(&reference, true).await?;
        let content_type: http::HeaderValue = media_type.parse().map_err(|_| Error::Registry {
            registry: self.repository.registry().to_owned(),
            operation: "uploading a manifest".to_owned(),
            message: format!("media type {media_type:?} is not a valid header value"),
        })?;
        self.retrying(1, || {
            conn.client
                .push_manifest_raw(&reference, bytes.to_vec(), content_type.clone())
        })
        .await
        .map_err(|e| {
            if Self::is_blob_unknown(&e) {
                Error::MissingBlob {
                    what: format!("a blob manifest :{tag} references"),
                    location: self.repository.name(),
                }
            } else {
                self.classify(e, &format!("uploading manifest :{tag}"))
            }
        })?;
        Ok(Digest::sha256_of(bytes))
    }
}

impl OciRepository for RegistryRepository {
    fn name(&self) -> String {
        self.repository.name()
    }

    fn manifest<'a>(
        &'a self,
        reference: &'a ManifestRef,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>> {
        Box::pin(self.fetch_manifest(reference))
    }

    fn blob<'a>(
        &'a self,
        digest: &'a Digest,
        max_bytes: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(self.fetch_blob(digest, max_bytes))
    }

    fn push_blob<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(self.store_blob(bytes))
    }

    fn push_manifest<'a>(
        &'a self,
        tag: &'a str,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(self.store_manifest(tag, bytes, media_type))
    }
}
