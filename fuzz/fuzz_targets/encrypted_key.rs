//! Cosign encrypted key files: `PrivateKey::from_encrypted_pem` (PEM, then the JSON envelope of
//! go-securesystemslib's `encrypted` package, then scrypt and secretbox) with a fixed password,
//! and `encrypted::decrypt` on a bare envelope.
//!
//! scrypt is capped to N of 2^15..2^17 by design, so one scrypt run costs 32-128 MiB and tens
//! of milliseconds: inputs that would reach it are skipped (decided by a copy of the envelope's
//! serde shape below), and everything before it (PEM, labels, JSON, base64, the algorithm
//! names, the cost parameters, nonce and salt checks) is fuzzed at full speed. Nothing can
//! decrypt without scrypt, so every input that runs must be refused. The plaintext that a real
//! decryption yields is a PKCS#8 key: the `pkcs8_der` target covers what happens to it.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Deserializer};
use signet_core::keys::{PrivateKey, encrypted};

#[derive(Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(deserialize_with = "base64_bytes")]
    #[allow(dead_code)]
    ciphertext: Vec<u8>,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(deserialize_with = "base64_bytes")]
    salt: Vec<u8>,
}

#[derive(Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    #[serde(deserialize_with = "base64_bytes")]
    nonce: Vec<u8>,
}

fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    STANDARD
        .decode(text.as_bytes())
        .map_err(serde::de::Error::custom)
}

/// Whether `decrypt` would get as far as running scrypt on this envelope.
fn reaches_scrypt(envelope: &[u8]) -> bool {
    let Ok(e) = serde_json::from_slice::<Envelope>(envelope) else {
        return false;
    };
    e.kdf.name == "scrypt"
        && e.cipher.name == "nacl/secretbox"
        && [15u32, 16, 17].iter().any(|&l| e.kdf.params.n == 1u64 << l)
        && e.kdf.params.r == 8
        && e.kdf.params.p == 1
        && e.cipher.nonce.len() == 24
        && !e.kdf.salt.is_empty()
}

const PASSWORD: &[u8] = b"hello";

fuzz_target!(|data: &[u8]| {
    let pem_reaches_scrypt = pem::parse(data).is_ok_and(|block| reaches_scrypt(block.contents()));
    if !pem_reaches_scrypt {
        assert!(
            PrivateKey::from_encrypted_pem(data, PASSWORD).is_err(),
            "a key file was accepted without running scrypt"
        );
    }
    if !reaches_scrypt(data) {
        assert!(
            encrypted::decrypt(data, PASSWORD).is_err(),
            "an envelope decrypted without running scrypt"
        );
    }
});
