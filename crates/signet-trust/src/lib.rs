//! Sigstore trust material: the trusted root and the signing config, from a file or from a
//! Sigstore TUF repository with a local cache.
//!
//! [`initialize`] runs the full TUF client workflow (root chain → timestamp → snapshot →
//! targets, signatures, thresholds, versions, expiry, lengths and hashes) against a
//! [`Mirror`], starting from the root embedded here (Sigstore production) or one the user
//! gives, and keeps the verified metadata and the targets `trusted_root.json` and
//! `signing_config.v0.2.json` in a [`TufCache`], one directory per mirror. [`load`] then serves
//! the mirror last initialized: from the cache, re-verified offline from the bootstrap root on
//! every use, and refreshed from the mirror when that no longer passes (typically expired
//! metadata). The TUF client is sigstore-rust's `sigstore-tuf`; none of its types appear here.
//!
//! The functions are async; [`initialize_blocking`] and [`load_blocking`] run them on a
//! runtime of their own, on a thread of their own, so that they can be called from anywhere,
//! including from inside another runtime.
#![forbid(unsafe_code)]

mod cache;
mod error;

use std::path::PathBuf;
use std::time::SystemTime;

use sigstore_tuf::{FileStore, HttpRepository, Repository, StoreRepository, Updater};

pub use cache::{CACHE_ENV, TufCache};
pub use error::{TrustError, TufCheck};

/// The TUF target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

/// The TUF target holding the Sigstore signing config (v0.2: Fulcio, Rekor, TSA, OIDC URLs).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// Sigstore's production TUF repository.
pub const SIGSTORE_PRODUCTION_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The root metadata of Sigstore's production TUF repository (see `roots/README.md`).
const SIGSTORE_PRODUCTION_ROOT: &[u8] = include_bytes!("../roots/sigstore-production-root.json");

/// Bounds on what a target may be: the Sigstore targets are a few kilobytes.
const MAX_TARGET_BYTES: u64 = 8 << 20;

/// A TUF repository and the root metadata trust in it starts from.
#[derive(Debug, Clone)]
pub struct Mirror {
    url: String,
    root: Bootstrap,
}

#[derive(Debug, Clone)]
enum Bootstrap {
    /// The Sigstore production root embedded in this crate.
    Embedded,
    /// A root the user gave (`--root FILE`), kept in the cache for later runs.
    Given(Vec<u8>),
}

impl Mirror {
    /// Sigstore's production repository, trusted from the embedded root.
    pub fn sigstore_production() -> Self {
        Mirror {
            url: SIGSTORE_PRODUCTION_MIRROR.to_owned(),
            root: Bootstrap::Embedded,
        }
    }

    /// A mirror at `url`, trusted from `root` (the bytes of a TUF `root.json`) or, without
    /// one, from the embedded Sigstore production root (a mirror of the production
    /// repository).
    pub fn new(url: &str, root: Option<Vec<u8>>) -> Result<Self, TrustError> {
        let url = url.trim_end_matches('/');
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        if rest.is_none_or(str::is_empty) {
            return Err(TrustError::InvalidMirror {
                url: url.to_owned(),
            });
        }
        Ok(Mirror {
            url: url.to_owned(),
            root: root.map_or(Bootstrap::Embedded, Bootstrap::Given),
        })
    }

    /// The repository URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn root_bytes(&self) -> &[u8] {
        match &self.root {
            Bootstrap::Embedded => SIGSTORE_PRODUCTION_ROOT,
            Bootstrap::Given(bytes) => bytes,
        }
    }
}

/// Where [`TrustMaterial`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The mirror was contacted and the metadata refreshed.
    Refreshed,
    /// The cache alone, re-verified offline; the mirror was not contacted.
    Cache,
}

/// Verified targets of a TUF repository.
#[derive(Debug, Clone)]
pub struct TrustMaterial {
    mirror: String,
    origin: Origin,
    trusted_root: Vec<u8>,
    trusted_root_path: PathBuf,
    signing_config: Option<Vec<u8>>,
}

impl TrustMaterial {
    /// The mirror the material came from.
    pub fn mirror(&self) -> &str {
        &self.mirror
    }

    /// Whether the mirror was contacted.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The bytes of `trusted_root.json`, verified against the TUF metadata.
    pub fn trusted_root(&self) -> &[u8] {
        &self.trusted_root
    }

    /// Where the cache keeps `trusted_root.json` (for messages; the bytes above are the
    /// verified ones).
    pub fn trusted_root_path(&self) -> &std::path::Path {
        &self.trusted_root_path
    }

    /// The bytes of `signing_config.v0.2.json`, if the repository has that target.
    pub fn signing_config(&self) -> Option<&[u8]> {
        self.signing_config.as_deref()
    }
}

/// Fetches and verifies the TUF metadata and targets of `mirror` into `cache` at time `now`,
/// and makes it the mirror [`load`] serves. The mirror must be reachable; nothing is served
/// from the cache. An earlier cache of the same mirror still sets the version floors (a
/// rollback is refused).
pub async fn initialize(
    cache: &TufCache,
    mirror: &Mirror,
    now: SystemTime,
) -> Result<TrustMaterial, TrustError> {
    let now = timestamp(now);
    let dir = cache.mirror_dir(mirror.url());
    let repository = HttpRepository::new(mirror.url()).map_err(|e| tuf_error(mirror, e))?;
    let material = fetch(
        repository,
        mirror,
        &dir,
        now,
        Origin::Refreshed,
        "the bootstrap root",
    )
    .await?;
    if let Bootstrap::Given(root) = &mirror.root {
        cache.write_bootstrap_root(mirror.url(), root)?;
    } else {
        cache.remove_bootstrap_root(mirror.url())?;
    }
    cache.set_current(mirror.url())?;
    Ok(material)
}

/// The trust material of the mirror last initialized in `cache`, at time `now`: from the cache
/// when it re-verifies offline, else refreshed from the mirror (written through to the cache).
pub async fn load(cache: &TufCache, now: SystemTime) -> Result<TrustMaterial, TrustError> {
    let url = cache.current()?.ok_or_else(|| TrustError::NotInitialized {
        dir: cache.dir().to_owned(),
    })?;
    let mirror = Mirror {
        root: match cache.bootstrap_root(&url)? {
            Some(bytes) => Bootstrap::Given(bytes),
            None => Bootstrap::Embedded,
        },
        url,
    };
    let now = timestamp(now);
    let dir = cache.mirror_dir(mirror.url());
    let offline = StoreRepository::new(FileStore::new(&dir));
    let cached = match fetch(
        offline,
        &mirror,
        &dir,
        now,
        Origin::Cache,
        "the cached bootstrap root",
    )
    .await
    {
        Ok(material) => return Ok(material),
        Err(error) => error,
    };
    let online = HttpRepository::new(mirror.url()).map_err(|e| tuf_error(&mirror, e))?;
    match fetch(
        online,
        &mirror,
        &dir,
        now,
        Origin::Refreshed,
        "the cached bootstrap root",
    )
    .await
    {
        Ok(material) => Ok(material),
        Err(refresh) if refresh.check() == Some(TufCheck::Transport) => Err(TrustError::Stale {
            mirror: mirror.url().to_owned(),
            cached: chain(&cached),
            source: Box::new(refresh),
        }),
        Err(refresh) => Err(refresh),
    }
}

/// [`initialize`] on a runtime of its own.
pub fn initialize_blocking(
    cache: &TufCache,
    mirror: &Mirror,
    now: SystemTime,
) -> Result<TrustMaterial, TrustError> {
    run_blocking(|| initialize(cache, mirror, now))
}

/// [`load`] on a runtime of its own.
pub fn load_blocking(cache: &TufCache, now: SystemTime) -> Result<TrustMaterial, TrustError> {
    run_blocking(|| load(cache, now))
}

/// Runs a future to completion on a current-thread runtime on a scoped thread, so that the
/// caller may itself be inside a runtime.
fn run_blocking<'a, F, Fut>(make: F) -> Result<TrustMaterial, TrustError>
where
    F: FnOnce() -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<TrustMaterial, TrustError>>,
{
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| TrustError::io("starting the TUF client's runtime", e))?;
            runtime.block_on(make())
        });
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// One TUF session over `repository`, caching into `dir`: refresh, then the two targets.
async fn fetch(
    repository: impl Repository + 'static,
    mirror: &Mirror,
    dir: &std::path::Path,
    now: jiff::Timestamp,
    origin: Origin,
    root_what: &str,
) -> Result<TrustMaterial, TrustError> {
    let mut updater = Updater::new(repository, mirror.root_bytes()).map_err(|e| {
        TrustError::BadBootstrapRoot {
            what: root_what.to_owned(),
            check: error::classify(&e),
            source: Box::new(e),
        }
    })?;
    let mut config = sigstore_tuf::UpdaterConfig::default();
    config.target_max_length = MAX_TARGET_BYTES;
    updater = updater.with_config(config).with_store(FileStore::new(dir));
    updater
        .refresh(now)
        .await
        .map_err(|e| tuf_error(mirror, e))?;
    let trusted_root = updater
        .get_target(TRUSTED_ROOT_TARGET, now)
        .await
        .map_err(|e| tuf_error(mirror, e))?;
    check_json(&trusted_root, TRUSTED_ROOT_TARGET, mirror)?;
    let signing_config = match updater.get_target(SIGNING_CONFIG_TARGET, now).await {
        Ok(bytes) => {
            check_json(&bytes, SIGNING_CONFIG_TARGET, mirror)?;
            Some(bytes)
        }
        Err(sigstore_tuf::Error::TargetNotFound(_)) => None,
        Err(e) => return Err(tuf_error(mirror, e)),
    };
    Ok(TrustMaterial {
        mirror: mirror.url().to_owned(),
        origin,
        trusted_root,
        trusted_root_path: dir.join("targets").join(TRUSTED_ROOT_TARGET),
        signing_config,
    })
}

fn check_json(bytes: &[u8], target: &str, mirror: &Mirror) -> Result<(), TrustError> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .map(|_| ())
        .map_err(|source| TrustError::BadTarget {
            target: target.to_owned(),
            mirror: mirror.url().to_owned(),
            source,
        })
}

fn tuf_error(mirror: &Mirror, error: sigstore_tuf::Error) -> TrustError {
    TrustError::Tuf {
        mirror: mirror.url().to_owned(),
        check: error::classify(&error),
        source: Box::new(error),
    }
}

/// An error and its sources on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `now` as the TUF client's time; a time jiff cannot hold becomes the latest it can, so that
/// all metadata counts as expired (fail closed).
fn timestamp(now: SystemTime) -> jiff::Timestamp {
    jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_urls_must_be_http_with_a_host() {
        assert!(Mirror::new("https://tuf.example/", None).is_ok());
        assert_eq!(
            Mirror::new("http://127.0.0.1:8080/", None)
                .map(|m| m.url().to_owned())
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in ["", "tuf.example", "file:///etc", "https://", "ftp://x"] {
            assert!(
                matches!(
                    Mirror::new(bad, None),
                    Err(TrustError::InvalidMirror { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_root_that_is_not_self_signed_is_refused_before_any_request() {
        let cache = TufCache::new("/nonexistent/signet-trust-test");
        let mirror = Mirror::new("http://127.0.0.1:9", Some(b"{}".to_vec()));
        let error = mirror
            .map_err(|e| e.to_string())
            .and_then(|m| {
                initialize_blocking(&cache, &m, SystemTime::now()).map_err(|e| e.to_string())
            })
            .err();
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.starts_with("the bootstrap root is not a TUF root")),
            "{error:?}"
        );
    }
}
