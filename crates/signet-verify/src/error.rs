/// Verification could not be carried out: the answer is "could not find out", not "denied".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry or layout could not be read.
    #[error(transparent)]
    Store(#[from] signet_oci::Error),
    /// The image does not exist.
    #[error("image {image} not found")]
    ImageNotFound {
        /// The reference as given.
        image: String,
    },
    /// The signature or attestation manifest exists but cannot be parsed.
    #[error("the manifest {location} is malformed")]
    MalformedAttachmentManifest {
        /// Repository and tag.
        location: String,
        /// The parse error.
        #[source]
        source: signet_core::Error,
    },
    /// An index named to verify a platform image through is in another repository.
    #[error(
        "the index {index} is not in the repository of {image}: name an index of the same repository"
    )]
    IndexElsewhere {
        /// The image.
        image: String,
        /// The index as named.
        index: String,
    },
    /// Reading the file to verify failed.
    #[error("reading {what}")]
    Read {
        /// What was being read.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The image's manifest, index or configuration cannot be parsed.
    #[error("the image {location} is malformed")]
    MalformedImage {
        /// Repository and digest.
        location: String,
        /// The parse error.
        #[source]
        source: signet_core::Error,
    },
    /// A manifest or configuration the image's own manifest names is not in the store.
    #[error("{what} of {location} is missing")]
    MissingImagePart {
        /// `the image configuration`, `a platform manifest`.
        what: &'static str,
        /// Repository and digest.
        location: String,
    },
    /// A judge was asked about a format that was not gathered (evidence built by hand, or
    /// gathered for another question).
    #[error("the {what} were not gathered")]
    NotGathered {
        /// Which evidence.
        what: &'static str,
    },
}
