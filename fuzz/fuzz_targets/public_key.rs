//! Public keys as `verify --key`, policies and Cosign's test data give them:
//! `PublicKey::parse` (PEM `PUBLIC KEY` / `RSA PUBLIC KEY`, DER SubjectPublicKeyInfo or PKCS#1).
//! A key that is accepted prints as PEM that reads back as the same key, and verifying an
//! arbitrary signature with it is an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::PublicKey;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = PublicKey::parse(data) else {
        return;
    };
    signet_fuzz::check_public_key(&key);
    for hash in key.default_hashes() {
        let _ = key.verify(b"signet fuzz", data, hash);
        let _ = key.verify_prehashed(&MessageDigest::of(hash, data), data);
    }
    let _ = key.verify_prehashed(&MessageDigest::of(DigestAlgorithm::Sha512, data), data);
});
