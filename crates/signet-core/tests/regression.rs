//! Inputs the fuzz targets in `fuzz/` found, each test named after what it guards.

use signet_core::keys::{KeyKind, PublicKey};

/// A 2048-bit modulus (from fuzz/fuzz_targets/public_key.rs's crash input).
const MODULUS: &str = "c79a62595944eb636767453327c67aa0a88a382e1d6ce6751ec361211b6a90cf8eab81bedb9caae8ffb4254fd0bebf6f78e1846f747f27dbbc241a3e86fda2e57f0eb60bcfd95da98ba7f5b3abcaecbd3eeae45be184d3fd474cb216957fdecc804a9bab8d497ff72ebe1fb7015d2d6750698b1660e126cc2a963a1d43faf656ecbb6ee84943759b232fed34a0662578098b3797f82411fa72b01a6d5a570746ec3946c07e0b445b8d1b5b27fe55c6613fbdddcc95a7dde6dd564a931bf327f46bce2ee4d15a5f067b0b078c7d778e75d4b4c9bd7d4a14ae5b73cf45a76bb813359aad798ecf467da80fc434bbe4899cb3e7c0eb6956bc7c44ba34c68d81f16b";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` with a 3-byte
/// exponent, followed by `trailing`.
fn pkcs1(exponent: [u8; 3], trailing: &[u8]) -> Vec<u8> {
    let mut der = vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00];
    der.extend(unhex(MODULUS));
    der.extend([0x02, 0x03]);
    der.extend(exponent);
    der.extend(trailing);
    der
}

#[test]
fn pkcs1_public_keys_are_validated_like_spki_keys() {
    // Found by fuzz/fuzz_targets/public_key.rs: a PKCS#1 key followed by bytes after its
    // SEQUENCE was accepted, and the PEM signet printed for it did not parse, because only
    // SubjectPublicKeyInfo keys went through the backend's check.
    let good = PublicKey::parse(&pkcs1([0x01, 0x00, 0x01], b""))
        .unwrap_or_else(|e| panic!("e = 65537: {e}"));
    assert_eq!(good.kind(), KeyKind::Rsa { bits: 2048 });
    let printed = PublicKey::parse(good.to_pem().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(printed, good);

    let found = pkcs1([0x2d, 0x2d, 0x2d], b"-----BEGIN R-M\x01\x00\x01--");
    assert!(PublicKey::parse(&found).is_err());
    assert!(PublicKey::from_pkcs1_der(&found).is_err());
    assert!(PublicKey::parse(&pkcs1([0x01, 0x00, 0x01], b"\x00\x00")).is_err());
    // What the backend refuses in a SubjectPublicKeyInfo it now refuses in PKCS#1 too.
    assert!(PublicKey::parse(&pkcs1([0x01, 0x00, 0x00], b"")).is_err());
}
