use signet_core::digest::Digest;

/// Why a registry or layout operation failed. Each is a failure to find out, never a verdict
/// about a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry could not be reached (connection refused, DNS, TLS, timeout).
    #[error("registry {registry} could not be reached")]
    Unreachable {
        /// The registry host.
        registry: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry refused the credentials, or asked for some and none were configured.
    #[error(
        "registry {registry} refused access to {repository}: log in (docker login) or check the credentials in the Docker config"
    )]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The repository.
        repository: String,
    },
    /// The registry answered with an error.
    #[error("registry {registry} failed on {operation}: {message}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What signet asked for.
        operation: String,
        /// What the registry said.
        message: String,
    },
    /// A stored object is over a size limit; it was not read past the limit.
    #[error("{what} is over the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// Content did not hash to the digest it was fetched by.
    #[error("{what}: content does not match its digest (expected {expected}, got {actual})")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// A blob that a manifest references is not in the store.
    #[error("{what} is missing from {location}")]
    MissingBlob {
        /// Which blob.
        what: String,
        /// The repository or layout.
        location: String,
    },
    /// An OCI image layout could not be read or written.
    #[error("OCI layout {path}: {action}")]
    LayoutIo {
        /// The layout directory.
        path: String,
        /// What signet was doing.
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An OCI image layout is malformed.
    #[error("OCI layout {path}: {reason}")]
    LayoutFormat {
        /// The layout directory.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The Docker config could not be used.
    #[error("credentials for {registry}: {reason}")]
    Credentials {
        /// The registry host.
        registry: String,
        /// What went wrong (never the secret itself).
        reason: String,
    },
    /// A blob did not have the size its descriptor gives.
    #[error("{what}: {actual} bytes, but its descriptor says {expected}")]
    SizeMismatch {
        /// Which blob, where.
        what: String,
        /// The size the descriptor gives.
        expected: u64,
        /// The size found (or read so far, when it went over).
        actual: u64,
    },
    /// A copy would replace something at the destination with other content; nothing was
    /// written. Overwriting is the caller's explicit choice.
    #[error("{location} already holds {existing}, not {incoming}: nothing was copied")]
    Conflict {
        /// The destination `repository:tag`.
        location: String,
        /// What the destination holds.
        existing: Digest,
        /// What the copy would put there.
        incoming: Digest,
    },
    /// Other writers kept replacing an index this write merges into; it was retried and gave
    /// up, having removed nothing.
    #[error("{location} kept changing under concurrent writers; gave up after {attempts} attempts")]
    Contended {
        /// Repository and tag.
        location: String,
        /// How many read-merge-write rounds were tried.
        attempts: usize,
    },
    /// A manifest is not one signet can walk (an image index lists an unknown media type, or
    /// the bytes are neither an image manifest nor an index).
    #[error("{what}: {reason}")]
    UnsupportedManifest {
        /// Which manifest, where.
        what: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A copy's destination names a digest, and it is not the image's.
    #[error("{destination} names {named}, but the image copied is {image}")]
    DestinationDigest {
        /// The destination as given.
        destination: String,
        /// The digest it names.
        named: Digest,
        /// The image's digest.
        image: Digest,
    },
}
