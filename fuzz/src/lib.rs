//! Checks shared by signet's fuzz targets (the targets are in `fuzz_targets/`).
//!
//! Every check here is a property that must hold for *any* value a parser accepted, so a
//! failing assertion is a finding, never noise.

pub mod sigstore;

use signet_core::digest::DigestAlgorithm;
use signet_core::keys::{PrivateKey, PublicKey};

/// A private key that parsed must be usable: its public key exists, it re-encodes as PKCS#8
/// that reads back as the same key, and what it signs its public key verifies.
pub fn check_private_key(key: &PrivateKey) {
    let public = key
        .public_key()
        .expect("a parsed private key has a public key");
    assert_eq!(public.kind(), key.kind());
    let pkcs8 = key
        .to_pkcs8_der()
        .expect("a parsed private key re-encodes as PKCS#8");
    let again = PrivateKey::from_pkcs8_der(&pkcs8).expect("signet reads the PKCS#8 it wrote");
    assert_eq!(again.kind(), key.kind());
    assert_eq!(again.public_key().ok().as_ref(), Some(&public));
    let message = b"signet fuzz";
    let signature = key.sign(message).expect("a parsed private key signs");
    let hash = key.kind().default_hash().unwrap_or(DigestAlgorithm::Sha256);
    public
        .verify(message, &signature, hash)
        .expect("the public key verifies what its private key signed");
}

/// A public key that parsed must print as PEM that parses back to the same key.
pub fn check_public_key(key: &PublicKey) {
    let pem = key.to_pem();
    let again = PublicKey::parse(pem.as_bytes()).unwrap_or_else(|e| {
        panic!(
            "the PEM signet printed for a {} key does not parse: {e}",
            key.kind()
        )
    });
    assert_eq!(&again, key);
}
