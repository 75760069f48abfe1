//! Registry access: one client (connection pool) per registry host. `oci-client` runs the
//! authentication flows and the uploads; manifests and blobs are read by [`crate::fetch`],
//! which bounds every body before it is buffered. Transient failures (5xx, 429, resets,
//! timeouts, bodies that break off) are retried with backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use signet_core::cosign::{
    DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE,
};
use signet_core::digest::{Digest, Hasher};
use signet_core::limits::Limits;
use signet_core::reference::Repository;

use crate::fetch::{self, Credentials, FetchError, Fetched};
use crate::{
    BlobStream, BoxFuture, Error, FetchedManifest, ManifestRef, OciRepository, auth, stream, token,
};

/// Waits before retrying a transient failure (5xx, connection reset, timeout); after the last
/// one the failure is reported.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(800),
];

/// Whether a failure may go away if the request is repeated.
trait Transient {
    fn is_transient(&self) -> bool;
}

impl Transient for OciDistributionError {
    fn is_transient(&self) -> bool {
        match self {
            // `is_request`: sent, but the connection closed or was reset before the answer.
            // Every request signet repeats is idempotent (GET, HEAD, a blob upload by digest,
            // a manifest PUT of the same bytes), so repeating it is safe.
            OciDistributionError::RequestError(e) => {
                e.is_timeout()
                    || e.is_connect()
                    || e.is_request()
                    || e.is_body()
                    || e.status().is_some_and(|s| s.is_server_error())
            }
            OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
            // A 429 with an OCI error body.
            OciDistributionError::RegistryError { envelope, .. } => envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
            OciDistributionError::IoError(_) => true,
            _ => false,
        }
    }
}

impl Transient for FetchError {
    fn is_transient(&self) -> bool {
        FetchError::is_transient(self)
    }
}

use crate::http::{CONNECT_TIMEOUT, READ_TIMEOUT, USER_AGENT};
use signet_core::error_text::error_chain;

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
    /// More Docker config files (`config.json`), read in order for a registry the user's
    /// Docker config has no credentials for: a node's kubelet credentials mounted into a
    /// deploy gate. Only their `auths` entries are used (no credential helpers), and only
    /// entries naming a whole registry (`host`, `https://host`, `https://host/v1/`, `*.domain`),
    /// not a repository path within one.
    pub fallback_docker_configs: Vec<std::path::PathBuf>,
}

/// One registry: oci-client for authentication and uploads, a reqwest client of the same
/// configuration for bounded reads (see [`fetch`]).
struct Connection {
    /// oci-client, for uploads and their authentication; built on first use, since building
    /// it loads the system's trust store and verification never needs it.
    client: std::sync::OnceLock<Client>,
    /// Over HTTP or HTTPS, as `http` reaches the registry.
    protocol: ClientProtocol,
    accept_invalid_certificates: bool,
    /// For manifest and blob reads.
    http: reqwest::Client,
    /// `http` or `https`, as `client` reaches the registry.
    scheme: &'static str,
    auth: RegistryAuth,
    /// Per (repository path, push): authenticated, with the bearer token oci-client obtained
    /// if the registry uses the token flow.
    tokens: Mutex<HashMap<(String, bool), Option<String>>>,
    /// Held while a token flow runs, so that images verified at once share one flow (one
    /// `GET /v2/`) per repository instead of each running its own.
    flow: tokio::sync::Mutex<()>,
}

impl Connection {
    /// oci-client's client, built the first time an upload needs it.
    fn client(&self) -> &Client {
        self.client.get_or_init(|| {
            Client::new(ClientConfig {
                protocol: self.protocol.clone(),
                accept_invalid_certificates: self.accept_invalid_certificates,
                use_monolithic_push: true,
                connect_timeout: Some(CONNECT_TIMEOUT),
                read_timeout: Some(READ_TIMEOUT),
                user_agent: USER_AGENT,
                ..ClientConfig::default()
            })
        })
    }
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
        let (protocol, scheme) =
            if self.options.http == HttpPolicy::AnyRegistry || repository.is_loopback() {
                (ClientProtocol::Http, "http")
            } else {
                (ClientProtocol::Https, "https")
            };
        let accept_invalid_certificates =
            self.options.tls == TlsPolicy::DangerAcceptInvalidCertificates;
        // The same settings oci-client gives its own reqwest client. Over plain HTTP there is
        // nothing to verify: no trust store is loaded (it costs milliseconds per process).
        let http = crate::http::client(&crate::http::HttpSettings {
            tls: self.options.tls,
            trust_store: if scheme == "http" {
                crate::http::TrustStore::None
            } else {
                crate::http::TrustStore::Platform
            },
        })
        .map_err(|e| Error::Unreachable {
            registry: registry.to_owned(),
            source: Box::new(e),
        })?;
        let conn = Arc::new(Connection {
            client: std::sync::OnceLock::new(),
            protocol,
            accept_invalid_certificates,
            http,
            scheme,
            auth: auth::credentials_for(registry, &self.options.fallback_docker_configs)?,
            tokens: Mutex::new(HashMap::new()),
            flow: tokio::sync::Mutex::new(()),
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
        let done = |conn: &Connection| {
            conn.tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains_key(&key)
        };
        if done(&conn) {
            return Ok(conn);
        }
        let flow = conn.flow.lock().await;
        if !done(&conn) {
            let token = if push {
                // Uploads go through oci-client, which keeps its own token for them.
                self.retrying(1, || {
                    conn.client()
                        .auth(reference, &conn.auth, RegistryOperation::Push)
                })
                .await
                .map_err(|e| self.classify(e, "authenticating"))?
            } else {
                // Reads: signet's own token flow, every answer bounded.
                let base = format!("{}://{}", conn.scheme, reference.resolve_registry());
                let basic = match &conn.auth {
                    RegistryAuth::Basic(user, password) => {
                        Credentials::Basic(user.clone(), password.clone())
                    }
                    _ => Credentials::Anonymous,
                };
                self.retrying(2, || {
                    token::pull_token(&conn.http, &base, reference.repository(), &basic)
                })
                .await
                .map_err(|e| self.classify_fetch(e, "the registry's token"))?
            };
            conn.tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, token);
        }
        drop(flow);
        Ok(conn)
    }

    /// Forgets the token for this repository and direction, so that the next `connect`
    /// obtains a fresh one. Returns whether there was a bearer token to forget.
    fn forget_token(&self, conn: &Connection, push: bool) -> bool {
        let key = (self.repository.path().to_owned(), push);
        conn.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key)
            .is_some_and(|token| token.is_some())
    }

    /// What a read authenticates with: the bearer token of the token flow, else the Docker
    /// config's basic credentials (oci-client's fallback when the registry does not use
    /// tokens), else nothing.
    fn credentials(&self, conn: &Connection) -> Credentials {
        let key = (self.repository.path().to_owned(), false);
        let token = conn
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned()
            .flatten();
        match (token, &conn.auth) {
            (Some(token), _) => Credentials::Bearer(token),
            (None, RegistryAuth::Basic(user, password)) => {
                Credentials::Basic(user.clone(), password.clone())
            }
            (None, _) => Credentials::Anonymous,
        }
    }

    /// `GET /v2/<repository>/<path>` with at most `limit` bytes of body, repeated after
    /// transient failures, and once with a fresh token after a 401. `Ok(None)` on 404.
    async fn get_bounded(
        &self,
        reference: &Reference,
        path: &str,
        accept: Option<&str>,
        limit: u64,
        what: &str,
    ) -> Result<Option<Fetched>, Error> {
        self.get_with(reference, path, what, |http, url, credentials| async move {
            fetch::get_bounded(&http, &url, accept, &credentials, limit).await
        })
        .await
    }

    /// `GET /v2/<repository>/<path>`: the answer with its body unread, for streaming. Repeated
    /// like [`Self::get_bounded`] until the answer starts; a body that breaks off later is the
    /// stream's error.
    async fn get_response(
        &self,
        reference: &Reference,
        path: &str,
        limit: u64,
        what: &str,
    ) -> Result<Option<reqwest::Response>, Error> {
        self.get_with(reference, path, what, |http, url, credentials| async move {
            fetch::send_get(&http, &url, None, &credentials, limit).await
        })
        .await
    }

    /// Runs `get(http, url, credentials)` for `GET /v2/<repository>/<path>`, repeated after
    /// transient failures, and once with a fresh token after a 401. `Ok(None)` on 404.
    async fn get_with<T, Fut>(
        &self,
        reference: &Reference,
        path: &str,
        what: &str,
        get: impl Fn(reqwest::Client, String, Credentials) -> Fut,
    ) -> Result<Option<T>, Error>
    where
        Fut: std::future::Future<Output = Result<T, FetchError>>,
    {
        let mut conn = self.connect(reference, false).await?;
        let url = format!(
            "{}://{}/v2/{}/{path}",
            conn.scheme,
            reference.resolve_registry(),
            reference.repository()
        );
        let mut fresh_token = false;
        loop {
            let credentials = self.credentials(&conn);
            let result = self
                .retrying(1, || {
                    get(conn.http.clone(), url.clone(), credentials.clone())
                })
                .await;
            match result {
                Ok(fetched) => return Ok(Some(fetched)),
                Err(FetchError::NotFound) => return Ok(None),
                // A token that expired since it was obtained: obtain another, once.
                Err(FetchError::Unauthorized(status))
                    if status == http::StatusCode::UNAUTHORIZED
                        && !fresh_token
                        && self.forget_token(&conn, false) =>
                {
                    fresh_token = true;
                    conn = self.connect(reference, false).await?;
                }
                Err(e) => return Err(self.classify_fetch(e, what)),
            }
        }
    }

    /// The [`Error`] for a failed bounded read of `what`.
    fn classify_fetch(&self, error: FetchError, what: &str) -> Error {
        let registry = self.repository.registry().to_owned();
        match error {
            FetchError::Transport(e) => Error::Unreachable {
                registry,
                source: Box::new(e),
            },
            FetchError::Unauthorized(_) => Error::Unauthorized {
                registry,
                repository: self.repository.name(),
            },
            FetchError::TooLarge { limit } => Error::TooLarge {
                what: what.to_owned(),
                limit,
            },
            FetchError::NotFound => Error::MissingBlob {
                what: what.to_owned(),
                location: self.repository.name(),
            },
            other @ (FetchError::Body(_) | FetchError::Redirect(_) | FetchError::Status { .. }) => {
                Error::Registry {
                    registry,
                    operation: format!("fetching {what}"),
                    message: error_chain(&other),
                }
            }
        }
    }

    /// Runs `op` (which makes `requests` HTTP requests), repeating it after transient
    /// failures with backoff.
    async fn retrying<T, E, Fut>(&self, requests: u64, mut op: impl FnMut() -> Fut) -> Result<T, E>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
        E: Transient,
    {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            self.pool.count(requests);
            match op().await {
                Err(e) if e.is_transient() => match delays.next() {
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

    async fn fetch_manifest(
        &self,
        manifest: &ManifestRef,
    ) -> Result<Option<FetchedManifest>, Error> {
        let reference = self.reference(manifest);
        let what = format!("manifest {}{manifest}", self.repository.name());
        let name = match manifest {
            ManifestRef::Tag(t) => t.clone(),
            ManifestRef::Digest(d) => d.to_string(),
        };
        let limit = self.pool.options.limits.max_manifest_bytes;
        let accept = ACCEPTED_MANIFEST_TYPES.join(", ");
        let Some(fetched) = self
            .get_bounded(
                &reference,
                &format!("manifests/{name}"),
                Some(&accept),
                limit,
                &what,
            )
            .await?
        else {
            return Ok(None);
        };
        let bytes = fetched.body;
        let digest = Digest::sha256_of(&bytes);
        // By digest, the content must hash to it. By tag, to the digest the registry says it
        // sent, when it says one: a body altered on the way is never taken for the manifest
        // (a signer would otherwise write back altered signatures).
        let expected = match manifest {
            ManifestRef::Digest(d) => Some(d.clone()),
            ManifestRef::Tag(_) => fetched
                .digest_header
                .as_deref()
                .and_then(|h| h.parse::<Digest>().ok()),
        };
        if let Some(expected) = expected {
            let actual = digest_with(&expected, &bytes);
            if actual != expected {
                return Err(Error::DigestMismatch {
                    what,
                    expected,
                    actual,
                });
            }
        }
        let media_type = crate::declared_media_type(&bytes);
        Ok(Some(FetchedManifest {
            bytes,
            digest,
            media_type,
        }))
    }

    /// `GET /v2/<name>/referrers/<digest>`, bounded like a manifest; 404 means the registry
    /// has no referrers API. The answer is generated by the registry, so it has no digest to
    /// check; each manifest it lists is read by digest and checked then.
    async fn fetch_referrers(&self, subject: &Digest) -> Result<Option<FetchedManifest>, Error> {
        let reference = self.reference(&ManifestRef::Digest(subject.clone()));
        let what = format!("referrers of {}@{subject}", self.repository.name());
        let limit = self.pool.options.limits.max_manifest_bytes;
        let Some(fetched) = self
            .get_bounded(
                &reference,
                &format!("referrers/{subject}"),
                Some(OCI_INDEX_MEDIA_TYPE),
                limit,
                &what,
            )
            .await?
        else {
            return Ok(None);
        };
        let media_type = crate::declared_media_type(&fetched.body);
        Ok(Some(FetchedManifest {
            digest: Digest::sha256_of(&fetched.body),
            bytes: fetched.body,
            media_type,
        }))
    }

    async fn fetch_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let what = format!("blob {digest} in {}", self.repository.name());
        let Some(fetched) = self
            .get_bounded(
                &reference,
                &format!("blobs/{digest}"),
                None,
                max_bytes,
                &what,
            )
            .await?
        else {
            return Err(Error::MissingBlob {
                what: format!("blob {digest}"),
                location: self.repository.name(),
            });
        };
        let actual = digest_with(digest, &fetched.body);
        if actual != *digest {
            return Err(Error::DigestMismatch {
                what,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(fetched.body)
    }

    async fn store_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256_of(bytes);
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let conn = self.connect(&reference, true).await?;
        let digest_text = digest.to_string();
        let exists = self
            .retrying(1, || conn.client().blob_exists(&reference, &digest_text))
            .await
            .map_err(|e| self.classify(e, "checking for a blob"))?;
        if !exists {
            // A monolithic upload: POST for the session, PUT with the bytes.
            self.retrying(2, || {
                conn.client()
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
        // A digest pushes an untagged manifest (an OCI 1.1 referrer), as `PUT
        // /manifests/<digest>`.
        let manifest_ref = match tag.parse::<Digest>() {
            Ok(digest) => ManifestRef::Digest(digest),
            Err(_) => ManifestRef::Tag(tag.to_owned()),
        };
        let reference = self.reference(&manifest_ref);
        let conn = self.connect(&reference, true).await?;
        let content_type: http::HeaderValue = media_type.parse().map_err(|_| Error::Registry {
            registry: self.repository.registry().to_owned(),
            operation: "uploading a manifest".to_owned(),
            message: format!("media type {media_type:?} is not a valid header value"),
        })?;
        self.retrying(1, || {
            conn.client()
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

impl RegistryRepository {
    async fn blob_present(&self, digest: &Digest) -> Result<bool, Error> {
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let conn = self.connect(&reference, true).await?;
        let digest_text = digest.to_string();
        self.retrying(1, || conn.client().blob_exists(&reference, &digest_text))
            .await
            .map_err(|e| self.classify(e, "checking for a blob"))
    }

    async fn open_blob_stream(&self, digest: &Digest, size: u64) -> Result<BlobStream, Error> {
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let what = format!("blob {digest} in {}", self.repository.name());
        let Some(response) = self
            .get_response(&reference, &format!("blobs/{digest}"), size, &what)
            .await?
        else {
            return Err(Error::MissingBlob {
                what: format!("blob {digest}"),
                location: self.repository.name(),
            });
        };
        let registry = self.repository.registry().to_owned();
        let operation = format!("reading {what}");
        let chunks = stream::response_chunks(response, move |e| Error::Registry {
            registry: registry.clone(),
            operation: operation.clone(),
            message: error_chain(&e),
        });
        Ok(stream::verified(chunks, digest.clone(), size, what))
    }

    /// `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>` when `from` is a
    /// repository of the same registry. A registry that does not mount (it answers 202 and
    /// opens an upload instead) or fails is answered with `false`: the caller copies the blob.
    async fn mount_from(&self, digest: &Digest, from: &str) -> Result<bool, Error> {
        let Some(path) = from
            .strip_prefix(self.repository.registry())
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return Ok(false);
        };
        if path == self.repository.path() {
            return Ok(false);
        }
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let source = Reference::with_digest(
            self.repository.registry().to_owned(),
            path.to_owned(),
            digest.to_string(),
        );
        let conn = self.connect(&reference, true).await?;
        self.pool.count(1);
        Ok(conn
            .client()
            .mount_blob(&reference, &source, &digest.to_string())
            .await
            .is_ok())
    }

    /// A monolithic upload whose body is `source`, after a check that the blob is not there
    /// already. A stream cannot be replayed, so a failed upload is not repeated here; the
    /// caller opens the source again. An error of the source itself is reported as such.
    async fn upload_blob_stream(
        &self,
        digest: &Digest,
        size: u64,
        source: BlobStream,
    ) -> Result<(), Error> {
        if self.blob_present(digest).await? {
            return Ok(());
        }
        let reference = self.reference(&ManifestRef::Digest(digest.clone()));
        let conn = self.connect(&reference, true).await?;
        let source_error: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&source_error);
        let body = futures_util::StreamExt::map(source, move |chunk| {
            chunk.map_err(|e| {
                let message = e.to_string();
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                OciDistributionError::GenericError(Some(message))
            })
        });
        self.pool.count(2);
        let result = conn
            .client()
            .push_blob_stream(&reference, body, &digest.to_string(), Some(size))
            .await;
        let stashed = source_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match (result, stashed) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(source)) => Err(source),
            (Err(e), None) => Err(self.classify(e, &format!("uploading blob {digest}"))),
        }
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

    fn referrers<'a>(
        &'a self,
        subject: &'a Digest,
    ) -> BoxFuture<'a, Result<Option<FetchedManifest>, Error>> {
        Box::pin(self.fetch_referrers(subject))
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

    fn push_manifest_by_digest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
    ) -> BoxFuture<'a, Result<Digest, Error>> {
        Box::pin(async move {
            let digest = Digest::sha256_of(bytes);
            self.store_manifest(&digest.to_string(), bytes, media_type)
                .await
        })
    }

    fn has_blob<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.blob_present(digest))
    }

    fn blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
    ) -> BoxFuture<'a, Result<BlobStream, Error>> {
        Box::pin(self.open_blob_stream(digest, size))
    }

    fn push_blob_stream<'a>(
        &'a self,
        digest: &'a Digest,
        size: u64,
        stream: BlobStream,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.upload_blob_stream(digest, size, stream))
    }

    fn mount_blob<'a>(
        &'a self,
        digest: &'a Digest,
        from: &'a str,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.mount_from(digest, from))
    }
}

/// The digest of `bytes` with the algorithm of `like`.
fn digest_with(like: &Digest, bytes: &[u8]) -> Digest {
    let mut hasher = Hasher::new(like.algorithm());
    hasher.update(bytes);
    hasher.finish()
}
