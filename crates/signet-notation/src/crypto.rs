//! Public keys from certificates and signature verification on aws-lc-rs, signet's one
//! crypto backend.

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use der::Decode;
use der::asn1::UintRef;
use der::oid::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// A hash of the SHA-2 family, the only ones the specification allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    pub(crate) fn digest(self, bytes: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha384 => &aws_lc_rs::digest::SHA384,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        };
        aws_lc_rs::digest::digest(algorithm, bytes)
            .as_ref()
            .to_vec()
    }

    /// The hash named by an algorithm identifier OID (SHA-256/384/512 only).
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(Self::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(Self::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// An elliptic curve the specification allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

/// The key type and size of a certificate's public key, which decide the signature
/// algorithm (the specification's "Algorithm Selection").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySpec {
    /// RSA with a modulus of this many bits (rounded up to whole bytes, as Go counts).
    Rsa(usize),
    /// ECDSA on P-256, P-384 or P-521 (256, 384, 521).
    Ec(usize),
}

/// A public key taken from a certificate.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    /// An RSA key: the PKCS#1 `RSAPublicKey` and the modulus size in bits.
    Rsa { der: Vec<u8>, bits: usize },
    /// An EC key on a supported curve: the uncompressed point.
    Ec { curve: Curve, point: Vec<u8> },
    /// Anything else (another curve, Ed25519, DSA): it cannot sign a Notary Project
    /// signature, but may appear in a CA certificate that is never asked to verify.
    Other(String),
}

impl PublicKey {
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Self {
        let Some(bits) = spki.subject_public_key.as_bytes() else {
            return Self::Other("a public key with unused bits".to_owned());
        };
        let oid = spki.algorithm.oid;
        if oid == RSA_ENCRYPTION {
            return match rsa_modulus_bits(bits) {
                Some(size) => Self::Rsa {
                    der: bits.to_vec(),
                    bits: size,
                },
                None => Self::Other("a malformed RSA key".to_owned()),
            };
        }
        if oid == EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let curve = match curve {
                Some(c) if c == SECP256R1 => Curve::P256,
                Some(c) if c == SECP384R1 => Curve::P384,
                Some(c) if c == SECP521R1 => Curve::P521,
                Some(c) => return Self::Other(format!("an EC key on the curve {c}")),
                None => return Self::Other("an EC key without a named curve".to_owned()),
            };
            return Self::Ec {
                curve,
                point: bits.to_vec(),
            };
        }
        Self::Other(format!("a key of type {oid}"))
    }

    /// The key spec, if the key is RSA or EC on a supported curve.
    pub(crate) fn spec(&self) -> Option<KeySpec> {
        match self {
            Self::Rsa { bits, .. } => Some(KeySpec::Rsa(*bits)),
            Self::Ec { curve, .. } => Some(KeySpec::Ec(match curve {
                Curve::P256 => 256,
                Curve::P384 => 384,
                Curve::P521 => 521,
            })),
            Self::Other(_) => None,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Rsa { bits, .. } => format!("an RSA {bits}-bit key"),
            Self::Ec { curve, .. } => format!("an EC {curve:?} key"),
            Self::Other(what) => what.clone(),
        }
    }

    /// Verifies `signature` over `message` with this key under `scheme`.
    pub(crate) fn verify(
        &self,
        scheme: Scheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let (algorithm, key): (&dyn VerificationAlgorithm, &[u8]) = match (self, scheme) {
            (Self::Rsa { der, .. }, Scheme::Pss(hash)) => (
                match hash {
                    Hash::Sha256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Hash::Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
                    Hash::Sha512 => &sig::RSA_PSS_2048_8192_SHA512,
                },
                der,
            ),
            (Self::Rsa { der, .. }, Scheme::Pkcs1(hash)) => (
                match hash {
                    Hash::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Hash::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Hash::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                },
                der,
            ),
            (Self::Ec { curve, point }, Scheme::EcdsaFixed(hash) | Scheme::EcdsaDer(hash)) => {
                let der_encoded = matches!(scheme, Scheme::EcdsaDer(_));
                let algorithm: &dyn VerificationAlgorithm = match (curve, hash, der_encoded) {
                    (Curve::P256, Hash::Sha256, false) => &sig::ECDSA_P256_SHA256_FIXED,
                    (Curve::P384, Hash::Sha384, false) => &sig::ECDSA_P384_SHA384_FIXED,
                    (Curve::P521, Hash::Sha512, false) => &sig::ECDSA_P521_SHA512_FIXED,
                    (Curve::P256, Hash::Sha256, true) => &sig::ECDSA_P256_SHA256_ASN1,
                    (Curve::P256, Hash::Sha384, true) => &sig::ECDSA_P256_SHA384_ASN1,
                    (Curve::P256, Hash::Sha512, true) => &sig::ECDSA_P256_SHA512_ASN1,
                    (Curve::P384, Hash::Sha256, true) => &sig::ECDSA_P384_SHA256_ASN1,
                    (Curve::P384, Hash::Sha384, true) => &sig::ECDSA_P384_SHA384_ASN1,
                    (Curve::P384, Hash::Sha512, true) => &sig::ECDSA_P384_SHA512_ASN1,
                    (Curve::P521, Hash::Sha256, true) => &sig::ECDSA_P521_SHA256_ASN1,
                    (Curve::P521, Hash::Sha384, true) => &sig::ECDSA_P521_SHA384_ASN1,
                    (Curve::P521, Hash::Sha512, true) => &sig::ECDSA_P521_SHA512_ASN1,
                    (curve, hash, false) => {
                        return Err(SignatureError::CurveAndHash {
                            curve: *curve,
                            hash,
                        });
                    }
                };
                (algorithm, point)
            }
            (key, scheme) => {
                return Err(SignatureError::KeyAndScheme {
                    key: key.describe(),
                    scheme,
                });
            }
        };
        // aws-lc-rs says only "unspecified": there is no cause to keep.
        UnparsedPublicKey::new(algorithm, key)
            .verify(message, signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Why a signature does not verify with a key.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SignatureError {
    /// A fixed-size ECDSA signature whose hash is not the one its curve goes with.
    #[error("ECDSA on {curve:?} with {hash:?} is not an allowed combination")]
    CurveAndHash { curve: Curve, hash: Hash },
    /// A key that cannot make signatures of this scheme (RSA for ECDSA, an unsupported key).
    #[error("{key} cannot verify a {scheme:?} signature")]
    KeyAndScheme { key: String, scheme: Scheme },
    /// The signature is not the key's over the message.
    #[error("the signature does not verify with the key")]
    Mismatch,
}

/// A signature scheme: the padding or encoding and the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// RSASSA-PSS, salt length equal to the hash length.
    Pss(Hash),
    /// RSASSA-PKCS1-v1_5 (certificates and CMS only: Notary Project signatures use PSS).
    Pkcs1(Hash),
    /// ECDSA with `r || s` of fixed size (JWS and COSE).
    EcdsaFixed(Hash),
    /// ECDSA with an ASN.1 DER `Ecdsa-Sig-Value` (certificates and CMS).
    EcdsaDer(Hash),
}

/// The bit size of an RSA modulus as Go's `rsa.PublicKey.Size() << 3` counts it: whole bytes.
fn rsa_modulus_bits(rsa_public_key: &[u8]) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: UintRef<'a>,
        _exponent: UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(rsa_public_key).ok()?;
    Some(key.modulus.as_bytes().len() * 8)
}
