/// Why signing failed. Nothing was written unless the variant says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] signet_oci::Error),
    /// A key or format operation failed.
    #[error(transparent)]
    Format(#[from] signet_core::Error),
    /// The image to sign does not exist.
    #[error("image {image} not found")]
    ImageNotFound {
        /// The reference as given.
        image: String,
    },
    /// The existing signature or attestation manifest cannot be read, so appending would
    /// lose what it holds.
    #[error("the existing manifest {location} is malformed; refusing to overwrite it")]
    MalformedAttachmentManifest {
        /// Repository and tag.
        location: String,
        /// The parse error.
        #[source]
        source: signet_core::Error,
    },
    /// The manifest already holds the maximum number of layers.
    #[error("{location} already has {count} layers, the limit is {limit}; nothing was pushed")]
    TooManyLayers {
        /// Repository and tag.
        location: String,
        /// Layers present.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Other signers kept replacing the signature manifest while this one appended.
    #[error(
        "{location} kept changing under concurrent writers; the signature was not added after {attempts} attempts"
    )]
    Contended {
        /// Repository and tag.
        location: String,
        /// How many times signet merged and wrote.
        attempts: usize,
    },
    /// Reading the file to sign failed.
    #[error("reading {what}")]
    Read {
        /// What was being read.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
