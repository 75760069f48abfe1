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
mod key;
mod options;
pub mod pkcs11;
mod reference;
mod text;

pub use error::Error;
pub use key::{BoxFuture, SigningKey};
pub use options::{KeyOptions, Pin, PinPrompt};
pub use reference::{KeyReference, MAX_REFERENCE_LEN};
use signet_core::keys::PublicKey;

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
