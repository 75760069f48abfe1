//! Public keys for verifying.

use std::fmt;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use spki::der::asn1::BitStringRef;
use spki::der::{Decode, Encode};

use super::oids;
use super::{KeyKind, PUBLIC_KEY_PEM_LABEL};
use crate::Error;
use crate::digest::{DigestAlgorithm, MessageDigest};
use crate::error::KeyFormatError;

/// A public key that verifies signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    kind: KeyKind,
    spki_der: Vec<u8>,
    /// The key bytes the backend takes: an EC point, a PKCS#1 RSAPublicKey, or 32 Ed25519 bytes.
    raw: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.kind)
    }
}

impl PublicKey {
    /// Reads a public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) or DER
    /// (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let trimmed = bytes.trim_ascii_start();
        if trimmed.starts_with(b"-----BEGIN") {
            return Self::from_pem(trimmed);
        }
        Self::from_der(bytes).or_else(|_| Self::from_pkcs1_der(bytes))
    }

    /// Reads a PEM `PUBLIC KEY` or `RSA PUBLIC KEY` block.
    pub fn from_pem(text: &[u8]) -> Result<Self, Error> {
        let block = pem::parse(text).map_err(|_| KeyFormatError::InvalidPem)?;
        match block.tag() {
            "PUBLIC KEY" => Self::from_der(block.contents()),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(block.contents()),
            other => {
                Err(KeyFormatError::UnsupportedPemType(other.chars().take(60).collect()).into())
            }
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| KeyFormatError::BadDer("not a SubjectPublicKeyInfo"))?;
        let raw = info
            .subject_public_key
            .as_bytes()
            .ok_or(KeyFormatError::BadDer(
                "public key bit string is not byte aligned",
            ))?
            .to_vec();
        let oid = info.algorithm.oid;
        let kind = if oid == oids::EC_PUBLIC_KEY {
            match info.algorithm.parameters_oid().ok() {
                Some(c) if c == oids::P256 => KeyKind::EcdsaP256,
                Some(c) if c == oids::P384 => KeyKind::EcdsaP384,
                Some(c) if c == oids::P521 => KeyKind::EcdsaP521,
                _ => {
                    return Err(Error::UnsupportedKey(
                        "ECDSA public key on a curve other than P-256, P-384 or P-521".to_owned(),
                    ));
                }
            }
        } else if oid == oids::RSA_ENCRYPTION {
            KeyKind::Rsa {
                bits: rsa_modulus_bits(&raw)?,
            }
        } else if oid == oids::ED25519 {
            if raw.len() != 32 {
                return Err(KeyFormatError::BadDer("Ed25519 public key is not 32 bytes").into());
            }
            KeyKind::Ed25519
        } else {
            return Err(Error::UnsupportedKey(format!(
                "unsupported public key algorithm {oid}"
            )));
        };
        let key = Self {
            kind,
            spki_der: der.to_vec(),
            raw,
        };
        key.check_point()?;
        Ok(key)
    }

    /// Reads a DER PKCS#1 RSAPublicKey.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let bits = rsa_modulus_bits(der)?;
        let algorithm = spki::AlgorithmIdentifierRef {
            oid: oids::RSA_ENCRYPTION,
            parameters: Some(spki::der::asn1::AnyRef::NULL),
        };
        let bits_string =
            BitStringRef::from_bytes(der).map_err(|_| KeyFormatError::BadDer("RSA public key"))?;
        let info = spki::SubjectPublicKeyInfoRef {
            algorithm,
            subject_public_key: bits_string,
        };
        let spki_der = info
            .to_der()
            .map_err(|_| KeyFormatError::BadDer("RSA public key"))?;
        let key = Self {
            kind: KeyKind::Rsa { bits },
            spki_der,
            raw: der.to_vec(),
        };
        key.check_point()?;
        Ok(key)
    }

    fn check_point(&self) -> Result<(), Error> {
        let alg = self.algorithm(self.kind.default_hash().unwrap_or(DigestAlgorithm::Sha256));
        UnparsedPublicKey::new(alg, &self.raw)
            .parse()
            .map(|_| ())
            .map_err(|_| {
                KeyFormatError::BadDer("the public key is not a valid point or modulus").into()
            })
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key as a PEM `PUBLIC KEY` block, as Cosign writes `cosign.pub`.
    pub fn to_pem(&self) -> String {
        super::pem_encode(PUBLIC_KEY_PEM_LABEL, &self.spki_der)
    }

    fn algorithm(&self, hash: DigestAlgorithm) -> &'static dyn VerificationAlgorithm {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        match (self.kind, hash) {
            (KeyKind::EcdsaP256, Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
            (KeyKind::EcdsaP256, Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
            (KeyKind::EcdsaP256, Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
            (KeyKind::EcdsaP384, Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
            (KeyKind::EcdsaP384, Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
            (KeyKind::EcdsaP384, Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
            (KeyKind::EcdsaP521, Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
            (KeyKind::EcdsaP521, Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
            (KeyKind::EcdsaP521, Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
            (KeyKind::Rsa { .. }, Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa { .. }, Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa { .. }, Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::Ed25519, _) => &sig::ED25519,
        }
    }

    /// The hashes tried when the caller names none: SHA-256 (Cosign's `verify` default and
    /// containers/image's only choice), then the hash Cosign v3 signs with for this key.
    pub fn default_hashes(&self) -> Vec<DigestAlgorithm> {
        let mut hashes = vec![DigestAlgorithm::Sha256];
        if let Some(h) = self.kind.default_hash()
            && h != DigestAlgorithm::Sha256
        {
            hashes.push(h);
        }
        hashes
    }

    /// Verifies `signature` over `message`, hashing with `hash` (ignored for Ed25519).
    pub fn verify(
        &self,
        message: &[u8],
        signature: &[u8],
        hash: DigestAlgorithm,
    ) -> Result<(), Error> {
        UnparsedPublicKey::new(self.algorithm(hash), &self.raw)
            .verify(message, signature)
            .map_err(|_| Error::SignatureMismatch)
    }

    /// Verifies an ECDSA `signature` in IEEE P1363 form (`r || s`, each the field's size)
    /// rather than ASN.1 DER — the form Web Crypto, PKCS#11 and some KMS sign in, and which
    /// sigstore's Go verifier (so Cosign and slsa-verifier) accepts beside DER. Other keys
    /// have no such form.
    pub fn verify_ecdsa_p1363(
        &self,
        message: &[u8],
        signature: &[u8],
        hash: DigestAlgorithm,
    ) -> Result<(), Error> {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        // aws-lc-rs offers the fixed form for these pairs only.
        let algorithm: &'static dyn VerificationAlgorithm = match (self.kind, hash) {
            (KeyKind::EcdsaP256, Sha256) => &sig::ECDSA_P256_SHA256_FIXED,
            (KeyKind::EcdsaP384, Sha384) => &sig::ECDSA_P384_SHA384_FIXED,
            (KeyKind::EcdsaP521, Sha256) => &sig::ECDSA_P521_SHA256_FIXED,
            (KeyKind::EcdsaP521, Sha384) => &sig::ECDSA_P521_SHA384_FIXED,
            (KeyKind::EcdsaP521, Sha512) => &sig::ECDSA_P521_SHA512_FIXED,
            (kind, hash) => {
                return Err(Error::UnsupportedKey(format!(
                    "no IEEE P1363 signature form for a {kind} key with {hash:?}"
                )));
            }
        };
        UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, signature)
            .map_err(|_| Error::SignatureMismatch)
    }

    /// Verifies `signature` over a message known only by its hash. Ed25519 cannot.
    pub fn verify_prehashed(&self, digest: &MessageDigest, signature: &[u8]) -> Result<(), Error> {
        if self.kind == KeyKind::Ed25519 {
            return Err(Error::UnsupportedKey(
                "Ed25519 signatures cover the whole message, not a digest".to_owned(),
            ));
        }
        UnparsedPublicKey::new(self.algorithm(digest.algorithm()), &self.raw)
            .verify_digest(&digest.inner, signature)
            .map_err(|_| Error::SignatureMismatch)
    }
}

/// The bit length of the modulus in a PKCS#1 RSAPublicKey.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Result<usize, Error> {
    use spki::der::asn1::UintRef;
    use spki::der::{Reader, SliceReader};
    let mut reader =
        SliceReader::new(pkcs1).map_err(|_| KeyFormatError::BadDer("RSA public key"))?;
    let modulus = reader
        .sequence(|seq| {
            let n = UintRef::decode(seq)?;
            let _e = UintRef::decode(seq)?;
            Ok(n)
        })
        .map_err(|_| KeyFormatError::BadDer("not a PKCS#1 RSAPublicKey"))?;
    let bytes = modulus.as_bytes();
    let leading = bytes.first().map_or(0, |b| b.leading_zeros() as usize);
    Ok((bytes.len() * 8).saturating_sub(leading))
}
