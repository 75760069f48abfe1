//! The one error type of this crate, with the TUF check that failed.

use std::path::PathBuf;

/// Which TUF check refused the repository or the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TufCheck {
    /// Fewer valid signatures than the role's threshold, by keys the root trusts.
    SignatureThreshold,
    /// A role's version went backwards compared with what was trusted before.
    Rollback,
    /// Metadata is past its `expires` time.
    Expired,
    /// A file's length or hash differs from what its parent role pins (a tampered target or
    /// metadata file).
    Integrity,
    /// A new root did not increment the version by exactly one.
    RootVersion,
    /// Metadata that does not parse, or uses a key type or role this client does not know.
    Malformed,
    /// No trusted targets role lists the target.
    TargetNotFound,
    /// The repository could not be reached or answered with an error.
    Transport,
    /// Reading or writing the local cache failed.
    Cache,
}

impl TufCheck {
    /// A short, stable name for messages and tests: `signature-threshold`, `rollback`, …
    pub fn as_str(self) -> &'static str {
        match self {
            TufCheck::SignatureThreshold => "signature-threshold",
            TufCheck::Rollback => "rollback",
            TufCheck::Expired => "expired",
            TufCheck::Integrity => "integrity",
            TufCheck::RootVersion => "root-version",
            TufCheck::Malformed => "malformed",
            TufCheck::TargetNotFound => "target-not-found",
            TufCheck::Transport => "transport",
            TufCheck::Cache => "cache",
        }
    }

    /// Whether the repository was refused for what it served (as opposed to not reached).
    pub fn is_security(self) -> bool {
        !matches!(
            self,
            TufCheck::Transport | TufCheck::Cache | TufCheck::TargetNotFound
        )
    }
}

impl std::fmt::Display for TufCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why trust material could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// No cache directory could be chosen: none of `SIGNET_TUF_CACHE`, `XDG_CACHE_HOME`,
    /// `HOME` is set (to an absolute path).
    #[error(
        "no TUF cache directory: set SIGNET_TUF_CACHE, XDG_CACHE_HOME or HOME to an absolute path"
    )]
    NoCacheDirectory,
    /// No mirror has been initialized in this cache.
    #[error("no TUF cache in {}: no mirror has been initialized", dir.display())]
    NotInitialized {
        /// The cache directory.
        dir: PathBuf,
    },
    /// The mirror URL is not an http(s) URL.
    #[error("mirror {url:?} is not an http:// or https:// URL")]
    InvalidMirror {
        /// The URL given.
        url: String,
    },
    /// The bootstrap root given is not a TUF root signed by its own keys.
    #[error("{what} is not a TUF root signed by its own keys ({check})")]
    BadBootstrapRoot {
        /// Where it came from.
        what: String,
        /// The failed check.
        check: TufCheck,
        /// What the TUF client said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The TUF repository (or the cache re-verified as one) was refused or not reached.
    #[error("TUF {check} check failed for {mirror}")]
    Tuf {
        /// The mirror.
        mirror: String,
        /// The failed check.
        check: TufCheck,
        /// What the TUF client said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The cache could not be used offline and refreshing it from the mirror failed.
    #[error("the TUF cache of {mirror} cannot be used offline ({cached}) and refreshing it failed")]
    Stale {
        /// The mirror.
        mirror: String,
        /// Why the cache alone did not do (e.g. `expired: timestamp metadata expired at …`).
        cached: String,
        /// The refresh failure.
        #[source]
        source: Box<TrustError>,
    },
    /// A target is not valid UTF-8 JSON of the expected kind.
    #[error("the TUF target {target} of {mirror} is not JSON")]
    BadTarget {
        /// The target name.
        target: String,
        /// The mirror.
        mirror: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Reading or writing a file of the cache failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl TrustError {
    /// The TUF check that failed, if a TUF check failed.
    pub fn check(&self) -> Option<TufCheck> {
        match self {
            TrustError::Tuf { check, .. } | TrustError::BadBootstrapRoot { check, .. } => {
                Some(*check)
            }
            TrustError::Stale { source, .. } => source.check(),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TrustError::Io {
            context: context.into(),
            source,
        }
    }
}

/// The check a sigstore-tuf error stands for.
pub(crate) fn classify(error: &sigstore_tuf::Error) -> TufCheck {
    use sigstore_tuf::Error as E;
    match error {
        E::ThresholdNotMet { .. } | E::DuplicateSignature { .. } | E::Crypto(_) => {
            TufCheck::SignatureThreshold
        }
        E::Rollback { .. } => TufCheck::Rollback,
        E::Expired { .. } => TufCheck::Expired,
        E::IntegrityMismatch(_) => TufCheck::Integrity,
        E::BadRootVersion { .. } => TufCheck::RootVersion,
        E::TargetNotFound(_) | E::NotRefreshed => TufCheck::TargetNotFound,
        E::Transport { .. } => TufCheck::Transport,
        E::Io { .. } => TufCheck::Cache,
        _ => TufCheck::Malformed,
    }
}
