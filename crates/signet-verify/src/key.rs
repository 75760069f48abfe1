use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::dsse::{pae, pae_digest};
use signet_core::keys::KeyKind;
use signet_core::keys::PublicKey;

/// A public key and the hash algorithms a signature by it may use.
#[derive(Debug, Clone)]
pub struct KeyVerifier {
    key: PublicKey,
    hashes: Vec<DigestAlgorithm>,
}

impl KeyVerifier {
    /// Accepts SHA-256 (Cosign's `verify` default, containers/image's only choice) and the hash
    /// Cosign v3 signs with for this key's curve.
    pub fn new(key: PublicKey) -> Self {
        let hashes = key.default_hashes();
        Self { key, hashes }
    }

    /// Accepts only `hash` (`--signature-digest-algorithm`).
    pub fn with_hash(key: PublicKey, hash: DigestAlgorithm) -> Self {
        Self {
            key,
            hashes: vec![hash],
        }
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The hashes a prehashed message must be digested with, in the order tried.
    pub fn hashes(&self) -> &[DigestAlgorithm] {
        &self.hashes
    }

    /// Whether `signature` is a signature over `message` by this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.hashes
            .iter()
            .any(|&h| self.key.verify(message, signature, h).is_ok())
    }

    /// Whether `signature` is a signature over the message with one of these digests.
    pub fn verifies_prehashed(&self, digests: &[MessageDigest], signature: &[u8]) -> bool {
        digests.iter().any(|d| {
            self.hashes.contains(&d.algorithm()) && self.key.verify_prehashed(d, signature).is_ok()
        })
    }

    /// Whether `signature` is a DSSE signature by this key over `payload` (its PAE). The PAE
    /// is hashed incrementally, except for Ed25519, which signs it whole.
    pub fn verifies_dsse(&self, payload_type: &str, payload: &[u8], signature: &[u8]) -> bool {
        if self.key.kind() == KeyKind::Ed25519 {
            return self.verifies(&pae(payload_type, payload), signature);
        }
        let digests: Vec<MessageDigest> = self
            .hashes
            .iter()
            .map(|&h| pae_digest(h, payload_type, payload))
            .collect();
        self.verifies_prehashed(&digests, signature)
    }
}
