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
    /// A Notary Project signature could not be made (the chain, key or times are wrong).
    #[error("making the Notary Project signature")]
    Notation(#[from] signet_notation::NotationFailure),
    /// The signing key (a file, a PKCS#11 token, a KMS key) failed to sign or to give its
    /// public key. Nothing was written.
    #[error(transparent)]
    Key(#[from] signet_keys::Error),
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
    /// The identity token cannot be used. The token itself is never part of the message.
    #[error("the identity token cannot be used: {reason}")]
    IdentityToken {
        /// Why.
        reason: &'static str,
    },
    /// The keyless signing services (URLs or a signing config) cannot be used; nothing was
    /// sent.
    #[error("the signing services cannot be used: {reason}")]
    SigningConfig {
        /// Why.
        reason: String,
    },
    /// The trusted root that keyless bundles are checked against cannot be read.
    #[error("the trusted root cannot be used")]
    TrustedRoot {
        /// Which check failed.
        #[source]
        source: signet_verify::bundle::BundleFailure,
    },
    /// A keyless signing service refused or failed, or its answer was unusable. Nothing was
    /// written; a Rekor entry may already exist.
    #[error("keyless signing failed at {service}: {message}")]
    Keyless {
        /// The step that failed.
        service: KeylessService,
        /// What it said, with the identity token removed.
        message: String,
    },
    /// The bundle signet just made does not verify against the trusted root: the services
    /// and the trusted root do not belong together. The bundle was not written.
    #[error(
        "the bundle just made does not verify against the trusted root (do the services and \
         the trusted root belong to the same Sigstore instance?)"
    )]
    SelfVerification {
        /// Which check failed.
        #[source]
        source: signet_verify::bundle::BundleFailure,
    },
    /// A bundle signed for one digest was to be attached to an image that names another now
    /// (its tag moved in between). Nothing was pushed.
    #[error(
        "the bundle was signed for {bundle_digest}, but {image} is now {image_digest}; nothing was attached"
    )]
    BundleSubject {
        /// The image as named.
        image: String,
        /// The digest it names now.
        image_digest: signet_core::digest::Digest,
        /// The digest the bundle's statement is about.
        bundle_digest: signet_core::digest::Digest,
    },
    /// The HTTP client for a signing service could not be built.
    #[error(transparent)]
    Http(#[from] signet_oci::http::HttpError),
}

/// Which step of keyless signing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeylessService {
    /// The certificate authority.
    Fulcio,
    /// The transparency log.
    Rekor,
    /// The timestamp authority.
    Timestamp,
    /// Making the ephemeral key or the signature.
    Crypto,
    /// Assembling the bundle.
    Bundle,
    /// The CI system's ambient OIDC token endpoint.
    AmbientToken,
}

impl std::fmt::Display for KeylessService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fulcio => "Fulcio",
            Self::Rekor => "Rekor",
            Self::Timestamp => "the timestamp authority",
            Self::Crypto => "the ephemeral key",
            Self::AmbientToken => "the CI system's OIDC token endpoint",
            Self::Bundle => "the bundle",
        })
    }
}
