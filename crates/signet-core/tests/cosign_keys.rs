//! Cosign's key vectors (`../shared/testdata/cosign`), with the outcomes its README states.

// Tests read the vectors from disk; the no-I/O rule is for the library.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use signet_core::Error;
use signet_core::digest::DigestAlgorithm;
use signet_core::keys::{KeyKind, PrivateKey, PublicKey};

fn testdata(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/cosign")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys_test(name: &str) -> Vec<u8> {
    testdata(&format!("extracted/pkg/cosign/keys_test/{name}"))
}

fn sign_and_verify(key: &PrivateKey) {
    let public = key.public_key().unwrap_or_else(|e| panic!("{e}"));
    let signature = key.sign(b"payload").unwrap_or_else(|e| panic!("{e}"));
    let hash = key.kind().default_hash().unwrap_or(DigestAlgorithm::Sha256);
    public
        .verify(b"payload", &signature, hash)
        .unwrap_or_else(|e| panic!("{}: {e}", key.kind()));
    assert!(matches!(
        public.verify(b"other payload", &signature, hash),
        Err(Error::SignatureMismatch)
    ));
    let reparsed = PublicKey::parse(public.to_pem().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reparsed, public);
}

#[test]
fn decrypts_cosign_and_sigstore_encrypted_keys() {
    for name in ["pemsigstorekey.pem", "pemcosignkey.pem"] {
        let key = PrivateKey::from_encrypted_pem(&keys_test(name), b"hello")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.kind(), KeyKind::EcdsaP256, "{name}");
        sign_and_verify(&key);
    }
}

#[test]
fn wrong_password_is_reported_as_such() {
    let err = PrivateKey::from_encrypted_pem(&keys_test("pemsigstorekey.pem"), b"nope").err();
    assert!(matches!(err, Some(Error::WrongPassword)), "{err:?}");
}

#[test]
fn sec1_plaintext_inside_an_encrypted_key_is_rejected_as_cosign_does() {
    let err = PrivateKey::from_encrypted_pem(&keys_test("pemcosigneckey.pem"), b"hello")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("not PKCS#8"), "{err}");
}

#[test]
fn cosign_ci_key_is_parsed_but_needs_its_password() {
    let key = testdata(".github/workflows/cosign-test.key");
    let err = PrivateKey::from_encrypted_pem(&key, b"").err();
    assert!(matches!(err, Some(Error::WrongPassword)), "{err:?}");
}

#[test]
fn imports_every_valid_key_cosign_imports() {
    let cases = [
        ("validrsa.pem", KeyKind::Rsa { bits: 2048 }),
        ("validrsapkcs1.pem", KeyKind::Rsa { bits: 2048 }),
        ("validrsapkcs8.pem", KeyKind::Rsa { bits: 2048 }),
        ("validecp256.pem", KeyKind::EcdsaP256),
        ("validecp384.pem", KeyKind::EcdsaP384),
        ("validecp521.pem", KeyKind::EcdsaP521),
        ("validecpkcs8.pem", KeyKind::EcdsaP256),
        ("ed25519key.pem", KeyKind::Ed25519),
    ];
    for (name, kind) in cases {
        let key = PrivateKey::from_unencrypted_pem(&keys_test(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.kind(), kind, "{name}");
        sign_and_verify(&key);
        // Re-encrypting and reading back gives the same public key, as after import-key-pair.
        let sealed = key
            .to_encrypted_pem(b"hello", 15)
            .unwrap_or_else(|e| panic!("{e}"));
        let back = PrivateKey::from_encrypted_pem(sealed.as_bytes(), b"hello")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.public_key().ok(), key.public_key().ok(), "{name}");
    }
}

#[test]
fn refuses_the_keys_cosign_refuses_with_its_reasons() {
    let cases = [
        ("invalidrsasmallkey.pem", "key size not supported: 1024"),
        ("invalidrsalargekey.pem", "key size not supported: 5120"),
        ("invalidecp224.pem", "ECDSA curve P-224 not allowed"),
        (
            "invalidecunsupported.pem",
            "error parsing ecdsa private key",
        ),
        ("invalidrsawithpubkey.pem", "unsupported private key"),
        ("invalidkey.pem", "invalid pem block"),
    ];
    for (name, expected) in cases {
        let err = PrivateKey::from_unencrypted_pem(&keys_test(name))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert!(err.contains(expected), "{name}: {err}");
    }
}

#[test]
fn reads_cosigns_public_key_encodings() {
    let cases = [
        ("pkg/cosign/testdata/google", KeyKind::Rsa { bits: 4096 }),
        ("pkg/cosign/testdata/rsa", KeyKind::Rsa { bits: 4096 }),
        (
            "pkg/cosign/testdata/letsencrypt-testflume-2021",
            KeyKind::EcdsaP256,
        ),
        (".github/workflows/cosign-test.pub", KeyKind::EcdsaP256),
        ("release/release-cosign.pub", KeyKind::EcdsaP256),
    ];
    for (path, kind) in cases {
        let key = PublicKey::parse(&testdata(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(key.kind(), kind, "{path}");
    }
    assert!(PublicKey::parse(&testdata("pkg/cosign/testdata/garbage-there-are-limits")).is_err());
}

#[test]
fn generated_keys_round_trip_through_the_encrypted_file() {
    let key = PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
    let pem = key
        .to_encrypted_pem(b"", 15)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let back =
        PrivateKey::from_encrypted_pem(pem.as_bytes(), b"").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.public_key().ok(), key.public_key().ok());
    assert!(!format!("{key:?}").contains("BEGIN"));
}
