//! The encrypted private key envelope of Cosign (from go-securesystemslib's `encrypted`).
//!
//! The PEM body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":…},"cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}`
//! with the byte fields in padded standard base64, as Go's `encoding/json` writes `[]byte`.
//! The key is `scrypt(password, salt, N, r, p, 32)`; the ciphertext is NaCl's secretbox
//! (Poly1305 tag first).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Error;
use crate::error::KeyFormatError;

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// The scrypt cost Cosign uses when it writes a key: N = 2^16, r = 8, p = 1.
pub const DEFAULT_SCRYPT_LOG_N: u8 = 16;

/// scrypt parameters accepted when reading: Cosign has written N of 2^15 and 2^16, and
/// go-securesystemslib accepts up to 2^17; anything else would let a key file demand
/// unbounded work or memory.
const ACCEPTED_LOG_N: [u8; 3] = [15, 16, 17];

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "base64_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "base64_bytes")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "base64_bytes")]
    nonce: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

fn derive_key(password: &[u8], salt: &[u8], log_n: u8) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    super::scrypt::scrypt(password, salt, log_n, 8, 1, key.as_mut())?;
    Ok(key)
}

/// Encrypts `plaintext` (a PKCS#8 DER key) under `password` with scrypt cost 2^`log_n`,
/// returning the JSON envelope that goes in the PEM body.
pub fn encrypt(plaintext: &[u8], password: &[u8], log_n: u8) -> Result<Vec<u8>, Error> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| Error::Crypto("random salt"))?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Crypto("random nonce"))?;
    let key = derive_key(password, &salt, log_n)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let ciphertext = cipher
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| Error::Crypto("secretbox seal"))?;
    let envelope = Envelope {
        kdf: Kdf {
            name: KDF_NAME.to_owned(),
            params: ScryptParams {
                n: 1u64 << log_n,
                r: 8,
                p: 1,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: CIPHER_NAME.to_owned(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    serde_json::to_vec(&envelope).map_err(|_| Error::Crypto("serialising the key envelope"))
}

/// Decrypts a JSON envelope with `password`, returning the plaintext key bytes.
///
/// The scrypt parameters are checked before any work is done, so a hostile file cannot ask
/// for gigabytes of memory.
pub fn decrypt(envelope: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let envelope: Envelope = serde_json::from_slice(envelope)
        .map_err(|_| KeyFormatError::BadEnvelope("the PEM body is not the expected JSON"))?;
    if envelope.kdf.name != KDF_NAME {
        return Err(KeyFormatError::UnsupportedEncryption(format!(
            "key derivation {:?}",
            envelope.kdf.name.chars().take(40).collect::<String>()
        ))
        .into());
    }
    if envelope.cipher.name != CIPHER_NAME {
        return Err(KeyFormatError::UnsupportedEncryption(format!(
            "cipher {:?}",
            envelope.cipher.name.chars().take(40).collect::<String>()
        ))
        .into());
    }
    let ScryptParams { n, r, p } = envelope.kdf.params;
    let log_n = ACCEPTED_LOG_N
        .into_iter()
        .find(|&l| n == 1u64 << l)
        .filter(|_| r == 8 && p == 1)
        .ok_or_else(|| {
            KeyFormatError::UnsupportedEncryption(format!(
                "scrypt parameters N={n}, r={r}, p={p} (accepted: N of 2^15, 2^16 or 2^17 with r=8, p=1)"
            ))
        })?;
    let nonce: [u8; NONCE_LEN] = envelope
        .cipher
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| KeyFormatError::BadEnvelope("the nonce is not 24 bytes"))?;
    if envelope.kdf.salt.is_empty() {
        return Err(KeyFormatError::BadEnvelope("empty salt").into());
    }
    let key = derive_key(password, &envelope.kdf.salt, log_n)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let plaintext = cipher
        .decrypt(&nonce.into(), envelope.ciphertext.as_slice())
        .map_err(|_| Error::WrongPassword)?;
    Ok(Zeroizing::new(plaintext))
}

/// Base64 as Go's `encoding/json` writes byte slices, for tests and tools that compare.
pub fn go_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_low_cost() {
        let sealed = encrypt(b"secret key bytes", b"pw", 15).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&sealed);
        assert!(
            text.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":""#
            ),
            "{text}"
        );
        assert!(text.contains(r#""cipher":{"name":"nacl/secretbox","nonce":""#));
        let opened = decrypt(&sealed, b"pw").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened.as_slice(), b"secret key bytes");
        assert!(matches!(
            decrypt(&sealed, b"other"),
            Err(Error::WrongPassword)
        ));
    }

    #[test]
    fn refuses_expensive_scrypt_parameters_before_deriving() {
        let hostile = br#"{"kdf":{"name":"scrypt","params":{"N":4294967296,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
        let err = decrypt(hostile, b"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("scrypt parameters N=4294967296"), "{err}");
    }
}
