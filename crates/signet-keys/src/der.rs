//! The few DER structures a token's raw answers must be turned into: ECDSA signatures
//! (PKCS#11 returns `r || s`), public keys (the token gives an EC point and curve, or an RSA
//! modulus and exponent), and the PKCS #1 v1.5 `DigestInfo` an RSA token signs.

use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::PublicKey;
use spki::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use spki::der::{Decode, Encode, Tag};

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// Two unsigned integers in a SEQUENCE: an ECDSA-Sig-Value or an RSAPublicKey.
fn integer_pair(first: &[u8], second: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut inner = UintRef::new(first)
        .and_then(|n| n.to_der())
        .map_err(|_| "an integer cannot be encoded")?;
    inner.extend(
        UintRef::new(second)
            .and_then(|n| n.to_der())
            .map_err(|_| "an integer cannot be encoded")?,
    );
    AnyRef::new(Tag::Sequence, &inner)
        .and_then(|seq| seq.to_der())
        .map_err(|_| "a sequence cannot be encoded")
}

/// A PKCS#11 ECDSA signature (`r || s`, each as long as the curve's order) as ASN.1 DER,
/// the form Cosign and every verifier read.
pub(crate) fn ecdsa_signature(raw: &[u8]) -> Result<Vec<u8>, &'static str> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) || raw.len() > 2 * 66 {
        return Err("the token's ECDSA signature is not r || s");
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    integer_pair(r, s)
}

/// An RSA public key from its modulus and public exponent (big-endian bytes).
pub(crate) fn rsa_public_key(
    modulus: &[u8],
    exponent: &[u8],
) -> Result<PublicKey, signet_core::Error> {
    let pkcs1 = integer_pair(modulus, exponent).map_err(signet_core::Error::Crypto)?;
    PublicKey::from_pkcs1_der(&pkcs1)
}

/// An EC public key from a token's `CKA_EC_PARAMS` (the curve's OID, DER) and `CKA_EC_POINT`
/// (the uncompressed point, usually inside a DER OCTET STRING).
pub(crate) fn ec_public_key(params: &[u8], point: &[u8]) -> Result<PublicKey, signet_core::Error> {
    let bad = |what| signet_core::Error::Crypto(what);
    let point = unwrap_ec_point(point);
    let parameters =
        AnyRef::from_der(params).map_err(|_| bad("the token's EC parameters are not DER"))?;
    let info = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: EC_PUBLIC_KEY,
            parameters: Some(parameters),
        },
        subject_public_key: BitStringRef::from_bytes(point)
            .map_err(|_| bad("the token's EC point cannot be encoded"))?,
    };
    let der = info
        .to_der()
        .map_err(|_| bad("the token's EC public key cannot be encoded"))?;
    PublicKey::from_der(&der)
}

/// The uncompressed point (`04 || X || Y`) inside `CKA_EC_POINT`: PKCS#11 says a DER OCTET
/// STRING, some tokens give the bare point.
fn unwrap_ec_point(value: &[u8]) -> &[u8] {
    match OctetStringRef::from_der(value) {
        Ok(inner)
            if inner.as_bytes().first() == Some(&0x04)
                && matches!(inner.as_bytes().len(), 65 | 97 | 133) =>
        {
            inner.as_bytes()
        }
        _ => value,
    }
}

/// The PKCS #1 v1.5 `DigestInfo` over `digest` (RFC 8017 §9.2, note 1): what an RSA token
/// signs with `CKM_RSA_PKCS` when the hash was computed outside it.
pub(crate) fn digest_info(digest: &MessageDigest) -> Vec<u8> {
    let prefix: &[u8] = match digest.algorithm() {
        DigestAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        DigestAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        DigestAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    };
    let mut info = prefix.to_vec();
    info.extend_from_slice(digest.as_bytes());
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_become_der_with_minimal_integers() {
        // r has its high bit set (needs a 0x00 pad), s has leading zeros (stripped).
        let mut raw = vec![0x80; 32];
        raw.extend([0x00, 0x00, 0x01]);
        raw.extend([0x02; 29]);
        let der = ecdsa_signature(&raw).unwrap_or_default();
        assert_eq!(&der[..5], &[0x30, 0x43, 0x02, 0x21, 0x00]);
        assert_eq!(&der[37..40], &[0x02, 0x1e, 0x01]);
        assert!(ecdsa_signature(&[1, 2, 3]).is_err());
    }

    #[test]
    fn digest_info_matches_what_the_file_key_signs() {
        // An RSA file key's PKCS #1 v1.5 signature, decrypted with the public exponent, ends
        // in this DigestInfo: check the structure is the one aws-lc-rs verifies against.
        let digest = MessageDigest::of(DigestAlgorithm::Sha256, b"x");
        let info = digest_info(&digest);
        assert_eq!(info.len(), 19 + 32);
        assert_eq!(info[1] as usize, info.len() - 2);
    }
}
