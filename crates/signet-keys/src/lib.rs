//! Where signing keys live, behind one small trait.
//!
//! A [`SigningKey`] has a public key, a digest algorithm, and signs a digest: the code that
//! makes Cosign signatures and attestations holds a `&dyn SigningKey` and never learns
//! whether the private half is a decrypted key file ([`signet_core::keys::PrivateKey`]), an
//! object on a PKCS#11 token ([`pkcs11`]) or a key in AWS KMS ([`awskms`]). Every backend
//! signs a digest, so a 1 GiB file is hashed as a stream and only 32 bytes travel to the
//! token or the service.
//!
//! A [`KeyReference`] is read from the text Cosign accepts after `--key`: a path,
//! `pkcs11:token=…;object=…?module-path=…`, `awskms://[ENDPOINT]/KEY`. Cosign's other services
//! (`gcpkms://`, `azurekms://`, `hashivault://`) are parsed and refused with "not supported
//! yet"; each would be one more module here. Key files stay with the caller, which owns
//! the password prompt; [`open_signer`] opens the others.
//!
//! Secrets stay out of sight: a [`Pin`] and AWS credentials print as `<redacted>`, references
//! print without their PIN, and no error carries either.
//!
//! ```no_run
//! # async fn demo() -> Result<(), signet_keys::Error> {
//! use signet_core::digest::{DigestAlgorithm, MessageDigest};
//! use signet_keys::{KeyOptions, KeyReference, open_signer};
//!
//! let reference = KeyReference::parse("awskms:///alias/release")?;
//! let key = open_signer(&reference, &KeyOptions::from_env()).await?;
//! let algorithm = key.digest_algorithm().unwrap_or(DigestAlgorithm::Sha256);
//! let signature = key.sign_digest(&MessageDigest::of(algorithm, b"payload")).await?;
//! key.public_key()?.verify(b"payload", &signature, algorithm)?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod awskms;
mod der;
mod error;
mod file;
pub mod pkcs11;
mod reference;

use std::fmt;
use std::future::Future;
use std::pin::Pin as StdPin;

pub use error::Error;
pub use reference::{KeyReference, MAX_REFERENCE_LEN};
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::PublicKey;

/// A boxed future, so [`SigningKey`] can be used as a trait object.
pub type BoxFuture<'a, T> = StdPin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that signs: a key file, a PKCS#11 token key, an AWS KMS key.
///
/// Signing is asynchronous because a KMS key signs over the network; a token signs in the
/// calling thread (a few milliseconds), a key file in memory.
pub trait SigningKey: Send + Sync + fmt::Debug {
    /// The public key a verifier will use.
    fn public_key(&self) -> Result<PublicKey, Error>;

    /// The hash this key signs digests of, or `None` for a key that signs whole messages
    /// (Ed25519 key files).
    fn digest_algorithm(&self) -> Option<DigestAlgorithm>;

    /// Signs a message given by its digest, which must use [`SigningKey::digest_algorithm`].
    /// ECDSA signatures are ASN.1 DER, RSA ones PKCS #1 v1.5.
    fn sign_digest<'a>(
        &'a self,
        digest: &'a MessageDigest,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>>;

    /// Signs a whole message: hashed here with the key's digest algorithm, then
    /// [`SigningKey::sign_digest`]. Keys that sign whole messages override it.
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let algorithm = self.digest_algorithm().unwrap_or(DigestAlgorithm::Sha256);
            let digest = MessageDigest::of(algorithm, message);
            self.sign_digest(&digest).await
        })
    }
}

/// A PKCS#11 user PIN. Never printed; wiped on drop.
pub struct Pin(zeroize::Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    pub fn new(pin: String) -> Self {
        Self(zeroize::Zeroizing::new(pin))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Asks for a PIN (a terminal prompt), given the token's label.
pub type PinPrompt<'a> = &'a (dyn Fn(&str) -> std::io::Result<Pin> + Sync);

/// What opening a key needs besides its reference: the settings Cosign reads from the
/// environment, resolved by the caller.
#[derive(Default)]
pub struct KeyOptions<'a> {
    /// The PKCS#11 module when the URI names none (`COSIGN_PKCS11_MODULE_PATH`).
    pub pkcs11_module_path: Option<std::path::PathBuf>,
    /// The PIN when the URI carries none (`COSIGN_PKCS11_PIN`).
    pub pkcs11_pin: Option<Pin>,
    /// Asked for the PIN when there is none and the token needs one. Without it, such a
    /// token is an error.
    pub pin_prompt: Option<PinPrompt<'a>>,
    /// Credentials, region and endpoint for AWS KMS.
    pub aws: awskms::AwsSettings,
}

impl fmt::Debug for KeyOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyOptions")
            .field("pkcs11_module_path", &self.pkcs11_module_path)
            .field("pkcs11_pin", &self.pkcs11_pin)
            .field("pin_prompt", &self.pin_prompt.is_some())
            .field("aws", &self.aws)
            .finish()
    }
}

impl KeyOptions<'static> {
    /// Options from the environment Cosign reads: `COSIGN_PKCS11_MODULE_PATH`,
    /// `COSIGN_PKCS11_PIN`, and AWS's variables and files (see [`awskms::AwsSettings::from_env`]).
    /// No PIN prompt.
    pub fn from_env() -> Self {
        Self {
            pkcs11_module_path: std::env::var_os(pkcs11::MODULE_PATH_ENV).map(Into::into),
            pkcs11_pin: std::env::var(pkcs11::PIN_ENV).ok().map(Pin::new),
            pin_prompt: None,
            aws: awskms::AwsSettings::from_env(),
        }
    }
}

/// Opens the signing key a PKCS#11 or AWS KMS reference names, checking that it exists, that
/// signet can sign with it, and reading its public key. Key files are the caller's (they
/// need a password): for [`KeyReference::File`] this returns [`Error::Unsupported`].
pub async fn open_signer(
    reference: &KeyReference,
    options: &KeyOptions<'_>,
) -> Result<Box<dyn SigningKey>, Error> {
    if let Some(error) = reference.not_supported_yet() {
        return Err(error);
    }
    match reference {
        KeyReference::Pkcs11(uri) => Ok(Box::new(pkcs11::Pkcs11Key::open(uri, options)?)),
        KeyReference::AwsKms(key) => {
            Ok(Box::new(awskms::AwsKmsKey::open(key, &options.aws).await?))
        }
        _ => Err(Error::Unsupported {
            operation: "opening a key file here (decrypt it with its password)",
            reference: reference.to_string(),
        }),
    }
}

/// The public half of the key a PKCS#11 or AWS KMS reference names, for verifying. A token
/// is logged into only if a PIN is at hand (URI or options), never prompted for.
pub async fn public_key(
    reference: &KeyReference,
    options: &KeyOptions<'_>,
) -> Result<PublicKey, Error> {
    if let Some(error) = reference.not_supported_yet() {
        return Err(error);
    }
    match reference {
        KeyReference::Pkcs11(uri) => pkcs11::public_key(uri, options),
        KeyReference::AwsKms(key) => Ok(awskms::AwsKmsKey::open(key, &options.aws)
            .await?
            .public_key()?),
        _ => Err(Error::Unsupported {
            operation: "reading a public key file here",
            reference: reference.to_string(),
        }),
    }
}

/// Creates a new ECDSA P-256 signing key where `reference` points, as `cosign
/// generate-key-pair --kms` does, and returns its public key: on a PKCS#11 token (refused
/// if an object with that label or id exists), or in AWS KMS under an `alias/…` (an
/// existing alias is returned as it is, as Cosign does).
pub async fn create_key(
    reference: &KeyReference,
    options: &KeyOptions<'_>,
) -> Result<PublicKey, Error> {
    if let Some(error) = reference.not_supported_yet() {
        return Err(error);
    }
    match reference {
        KeyReference::Pkcs11(uri) => pkcs11::create_key(uri, options),
        KeyReference::AwsKms(key) => awskms::create_key(key, &options.aws).await,
        _ => Err(Error::Unsupported {
            operation: "creating a key in a key service",
            reference: reference.to_string(),
        }),
    }
}
