use std::fmt;

/// Everything that can go wrong while parsing or producing one of signet's formats.
///
/// The variants name the format and the check that failed; the input itself is never echoed,
/// so a secret that was passed by mistake cannot end up in a log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference does not follow the Docker reference grammar.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A digest string is not `algorithm:hex` with a supported algorithm and length.
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest {
        /// The digest as given.
        digest: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Input exceeded one of the [`crate::limits::Limits`].
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size, or how much was read before the limit was hit.
        actual: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A JSON document could not be parsed as the expected format.
    #[error("malformed {what}")]
    MalformedJson {
        /// Which format was expected.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A Cosign annotation (Rekor bundle, RFC 3161 timestamp) has a field that does not decode.
    #[error("malformed {what}: {reason}")]
    MalformedAnnotation {
        /// Which annotation.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key file is not in any format signet reads.
    #[error("{0}")]
    KeyFormat(KeyFormatError),
    /// The password does not decrypt the key file.
    #[error("decrypting the private key failed: wrong password or corrupted key file")]
    WrongPassword,
    /// The key is well-formed but of a kind or size signet does not accept.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// The signature does not verify against the public key.
    #[error("invalid signature: the signature does not match the public key and the signed data")]
    SignatureMismatch,
    /// A signature could not be decoded (bad base64 or empty).
    #[error("malformed signature: {0}")]
    MalformedSignature(&'static str),
    /// A DSSE envelope could not be read.
    #[error(transparent)]
    Envelope(crate::dsse::EnvelopeError),
    /// An in-toto statement could not be read or built.
    #[error(transparent)]
    Statement(crate::intoto::StatementError),
    /// The cryptographic backend failed while signing or generating a key.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

/// Why a key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFormatError {
    /// No PEM block was found (Cosign: "invalid pem block").
    InvalidPem,
    /// The PEM block has a type signet does not read here.
    UnsupportedPemType(String),
    /// The encrypted key envelope is malformed.
    BadEnvelope(&'static str),
    /// The key derivation or cipher named in the envelope is not the one Cosign uses.
    UnsupportedEncryption(String),
    /// The decrypted key is not PKCS#8, as Cosign requires.
    NotPkcs8,
    /// DER that should hold a key could not be decoded.
    BadDer(&'static str),
}

impl fmt::Display for KeyFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPem => f.write_str("invalid pem block"),
            Self::UnsupportedPemType(t) => write!(f, "unsupported pem type: {t}"),
            Self::BadEnvelope(why) => write!(f, "malformed encrypted key: {why}"),
            Self::UnsupportedEncryption(what) => {
                write!(f, "unsupported key encryption: {what}")
            }
            Self::NotPkcs8 => f.write_str(
                "parsing private key: the decrypted key is not PKCS#8 (Cosign rejects SEC1 and PKCS#1 here)",
            ),
            Self::BadDer(what) => write!(f, "malformed key: {what}"),
        }
    }
}

impl From<KeyFormatError> for Error {
    fn from(value: KeyFormatError) -> Self {
        Self::KeyFormat(value)
    }
}
