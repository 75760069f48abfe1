//! Why a key could not be found, opened or used. No message carries a PIN, a password or an
//! AWS secret: references print with their PIN redacted, credentials never enter an error.

use std::path::PathBuf;

/// Why a key operation failed. Nothing was signed or created unless the variant says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key or signature format operation failed.
    #[error(transparent)]
    Format(#[from] signet_core::Error),

    /// The key reference cannot be read.
    #[error("invalid key reference {reference}: {reason}")]
    InvalidReference {
        /// The reference, with any PIN redacted.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A key service Cosign knows that signet does not support yet.
    #[error(
        "{provider} keys ({scheme}) are not supported yet: signet signs with key files, PKCS#11 \
         tokens (pkcs11:) and AWS KMS keys (awskms://)"
    )]
    NotSupportedYet {
        /// The service, e.g. "Google Cloud KMS".
        provider: &'static str,
        /// Its scheme, e.g. `gcpkms://`.
        scheme: &'static str,
    },

    /// A `scheme://` reference of no key service signet or Cosign knows.
    #[error(
        "unknown key reference scheme {scheme:?}: a key is a file path, a pkcs11: URI or an \
         awskms:// reference"
    )]
    UnknownScheme {
        /// The scheme, as given (at most 40 characters).
        scheme: String,
    },

    /// This operation needs a key that lives somewhere else (a file key cannot be created on
    /// a token, a token key has no file).
    #[error("{operation} is not possible with {reference}")]
    Unsupported {
        /// What was asked for.
        operation: &'static str,
        /// The reference, with any PIN redacted.
        reference: String,
    },

    /// The PKCS#11 module cannot be loaded.
    #[error("loading the PKCS#11 module {}", path.display())]
    Pkcs11Module {
        /// The module's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: cryptoki::error::Error,
    },

    /// No token with that label or slot is present.
    #[error("no PKCS#11 token {token} is present (module {})", module.display())]
    TokenNotFound {
        /// `token "label"` or `slot N`.
        token: String,
        /// The module searched.
        module: PathBuf,
    },

    /// The token refused the PIN.
    #[error("the PIN for PKCS#11 token {token} is incorrect")]
    WrongPin {
        /// The token.
        token: String,
    },

    /// The token is locked after too many wrong PINs.
    #[error("PKCS#11 token {token} is locked (too many wrong PINs)")]
    PinLocked {
        /// The token.
        token: String,
    },

    /// The token needs a PIN and none was given.
    #[error("PKCS#11 token {token} needs a PIN and none was given")]
    PinRequired {
        /// The token.
        token: String,
    },

    /// No key matched the reference on the token.
    #[error("PKCS#11 token {token} holds no {class} {object}")]
    KeyNotFound {
        /// The token.
        token: String,
        /// `private key` or `public key`.
        class: &'static str,
        /// `object "label"` and/or `id 01ab`.
        object: String,
    },

    /// The object to create exists already.
    #[error("PKCS#11 token {token} already holds a key {object}; nothing was created")]
    KeyExists {
        /// The token.
        token: String,
        /// `object "label"` and/or `id 01ab`.
        object: String,
    },

    /// A PKCS#11 call failed.
    #[error("PKCS#11 token {token}: {step}")]
    Pkcs11 {
        /// The token.
        token: String,
        /// What was being done.
        step: &'static str,
        /// The module's answer.
        #[source]
        source: cryptoki::error::Error,
    },

    /// The key is of a kind signet cannot sign with.
    #[error("{key} is a {kind} key; signet signs with ECDSA P-256, P-384, P-521 and RSA keys")]
    UnsupportedKeyType {
        /// The key, as named by its reference.
        key: String,
        /// What it is.
        kind: String,
    },

    /// A signature the key service made does not verify with the key's public key: the
    /// public and private halves do not belong together. Nothing was published.
    #[error("the signature {key} made does not verify with its public key")]
    SignatureCheck {
        /// The key.
        key: String,
    },

    /// No AWS credentials were found.
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in \
         {}",
        credentials_file.display()
    )]
    AwsCredentials {
        /// The shared credentials file looked in.
        credentials_file: PathBuf,
    },

    /// No AWS region was found and the key reference names none.
    #[error(
        "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), a region in the profile, or \
         name the key by its ARN"
    )]
    AwsRegion,

    /// An AWS configuration file cannot be read.
    #[error("reading the AWS configuration {}: {reason}", path.display())]
    AwsConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// The HTTP client could not be built.
    #[error(transparent)]
    HttpClient(#[from] signet_oci::http::HttpError),

    /// AWS KMS could not be reached, or did not answer in time.
    #[error("AWS KMS at {endpoint} could not be reached ({operation})")]
    KmsUnreachable {
        /// The endpoint.
        endpoint: String,
        /// The KMS operation.
        operation: &'static str,
        /// Why.
        #[source]
        source: reqwest::Error,
    },

    /// AWS KMS has no such key.
    #[error("AWS KMS at {endpoint} has no key {key}")]
    KmsKeyNotFound {
        /// The endpoint.
        endpoint: String,
        /// The key id, ARN or alias.
        key: String,
    },

    /// AWS KMS refused the request.
    #[error("AWS KMS refused {operation} for {key}: {code}: {message}")]
    KmsRefused {
        /// The KMS operation.
        operation: &'static str,
        /// The key id, ARN or alias.
        key: String,
        /// AWS's error code, e.g. `AccessDeniedException`.
        code: String,
        /// AWS's message, shortened.
        message: String,
    },

    /// AWS KMS answered something signet cannot read.
    #[error("AWS KMS answered {operation} for {key} with something unreadable: {reason}")]
    KmsResponse {
        /// The KMS operation.
        operation: &'static str,
        /// The key.
        key: String,
        /// What is wrong with the answer.
        reason: String,
    },
}
