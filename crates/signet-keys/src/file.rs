//! Key files: a decrypted Cosign key signs in memory.

use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::{KeyKind, PrivateKey, PublicKey};

use crate::error::Error;
use crate::key::{BoxFuture, SigningKey};

impl SigningKey for PrivateKey {
    fn public_key(&self) -> Result<PublicKey, Error> {
        Ok(PrivateKey::public_key(self)?)
    }

    fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        self.kind().default_hash()
    }

    fn sign_digest<'a>(
        &'a self,
        digest: &'a MessageDigest,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(std::future::ready(
            PrivateKey::sign_prehashed(self, digest).map_err(Error::from),
        ))
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        // Ed25519 signs the message itself; the others hash it with their algorithm.
        let signed = if self.kind() == KeyKind::Ed25519 {
            PrivateKey::sign(self, message)
        } else {
            let algorithm = self
                .kind()
                .default_hash()
                .unwrap_or(DigestAlgorithm::Sha256);
            PrivateKey::sign_prehashed(self, &MessageDigest::of(algorithm, message))
        };
        Box::pin(std::future::ready(signed.map_err(Error::from)))
    }
}
