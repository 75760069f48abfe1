//! The trait every key backend implements.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::PublicKey;

use crate::error::Error;

/// A boxed future, so [`SigningKey`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
