use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::{PrivateKey, PublicKey};

/// Something that signs: a key file today; PKCS#11 and keyless signers implement it too.
pub trait SigningKey: Send + Sync + std::fmt::Debug {
    /// The public key a verifier will use.
    fn public_key(&self) -> Result<PublicKey, signet_core::Error>;

    /// Signs `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_core::Error>;

    /// The hash this key signs digests with, or `None` if it only signs whole messages.
    fn prehash(&self) -> Option<DigestAlgorithm>;

    /// Signs a message given by its digest (which uses [`SigningKey::prehash`]).
    fn sign_prehashed(&self, digest: &MessageDigest) -> Result<Vec<u8>, signet_core::Error>;
}

impl SigningKey for PrivateKey {
    fn public_key(&self) -> Result<PublicKey, signet_core::Error> {
        PrivateKey::public_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_core::Error> {
        PrivateKey::sign(self, message)
    }

    fn prehash(&self) -> Option<DigestAlgorithm> {
        self.kind().default_hash()
    }

    fn sign_prehashed(&self, digest: &MessageDigest) -> Result<Vec<u8>, signet_core::Error> {
        PrivateKey::sign_prehashed(self, digest)
    }
}
