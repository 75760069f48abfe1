//! Private keys for signing.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use pkcs8::der::Decode;
use zeroize::Zeroizing;

use super::oids;
use super::{COSIGN_PRIVATE_KEY_PEM_LABEL, SIGSTORE_PRIVATE_KEY_PEM_LABEL, encrypted};
use crate::Error;
use crate::digest::{DigestAlgorithm, MessageDigest};
use crate::error::KeyFormatError;
use crate::keys::PublicKey;

/// The kind of a key, with the parameters that matter for choosing an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// ECDSA on NIST P-521.
    EcdsaP521,
    /// RSA with a modulus of `bits` bits (PKCS#1 v1.5 signatures).
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// Ed25519.
    Ed25519,
}

impl KeyKind {
    /// The hash Cosign v3 signs with for this kind of key (`LoadDefaultSignerVerifier`);
    /// `None` for Ed25519, which signs the message itself.
    pub fn default_hash(self) -> Option<DigestAlgorithm> {
        match self {
            Self::EcdsaP256 | Self::Rsa { .. } => Some(DigestAlgorithm::Sha256),
            Self::EcdsaP384 => Some(DigestAlgorithm::Sha384),
            Self::EcdsaP521 => Some(DigestAlgorithm::Sha512),
            Self::Ed25519 => None,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::EcdsaP521 => f.write_str("ECDSA P-521"),
            Self::Rsa { bits } => write!(f, "RSA {bits}"),
            Self::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

enum Inner {
    Ecdsa(KeyKind, EcdsaKeyPair),
    Rsa(usize, RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key that can sign. Not `Clone`; `Debug` shows only the kind.
pub struct PrivateKey {
    inner: Inner,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.kind())
    }
}

fn ecdsa_signing_alg(kind: KeyKind) -> &'static sig::EcdsaSigningAlgorithm {
    match kind {
        KeyKind::EcdsaP384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeyKind::EcdsaP521 => &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
        _ => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

fn curve_kind(curve: Option<spki::ObjectIdentifier>) -> Result<KeyKind, Error> {
    match curve {
        Some(oid) if oid == oids::P256 => Ok(KeyKind::EcdsaP256),
        Some(oid) if oid == oids::P384 => Ok(KeyKind::EcdsaP384),
        Some(oid) if oid == oids::P521 => Ok(KeyKind::EcdsaP521),
        Some(oid) if oid == oids::P224 => Err(Error::UnsupportedKey(
            "error validating ecdsa key: ECDSA curve P-224 not allowed".to_owned(),
        )),
        _ => Err(Error::UnsupportedKey(
            "error parsing ecdsa private key: only the NIST curves P-256, P-384 and P-521 are supported"
                .to_owned(),
        )),
    }
}

impl PrivateKey {
    /// Generates a new ECDSA P-256 key, the kind `cosign generate-key-pair` makes.
    pub fn generate_p256() -> Result<Self, Error> {
        let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| Error::Crypto("generating an ECDSA P-256 key"))?;
        Ok(Self {
            inner: Inner::Ecdsa(KeyKind::EcdsaP256, pair),
        })
    }

    /// Reads a PKCS#8 `PrivateKeyInfo`, the only plaintext Cosign accepts inside its
    /// encrypted key files.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| KeyFormatError::NotPkcs8)?;
        let algorithm = info.algorithm.oid;
        if algorithm == oids::RSA_ENCRYPTION {
            check_rsa_size(rsa_private_modulus_bits(info.private_key)?)?;
            let pair = RsaKeyPair::from_pkcs8(der)
                .map_err(|_| KeyFormatError::BadDer("unreadable PKCS#8 RSA key"))?;
            Self::from_rsa(pair)
        } else if algorithm == oids::EC_PUBLIC_KEY {
            let curve = info.algorithm.parameters_oid().ok();
            let kind = curve_kind(curve)?;
            let pair = EcdsaKeyPair::from_pkcs8(ecdsa_signing_alg(kind), der)
                .map_err(|_| KeyFormatError::BadDer("unreadable PKCS#8 EC key"))?;
            Ok(Self {
                inner: Inner::Ecdsa(kind, pair),
            })
        } else if algorithm == oids::ED25519 {
            let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map_err(|_| KeyFormatError::BadDer("unreadable PKCS#8 Ed25519 key"))?;
            Ok(Self {
                inner: Inner::Ed25519(pair),
            })
        } else {
            Err(Error::UnsupportedKey(format!(
                "unsupported private key algorithm {algorithm}"
            )))
        }
    }

    fn from_rsa(pair: RsaKeyPair) -> Result<Self, Error> {
        let bits = pair.public_modulus_len() * 8;
        check_rsa_size(bits)?;
        Ok(Self {
            inner: Inner::Rsa(bits, pair),
        })
    }

    /// Reads an unencrypted PEM private key as `cosign import-key-pair` does: `RSA PRIVATE
    /// KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8).
    pub fn from_unencrypted_pem(text: &[u8]) -> Result<Self, Error> {
        let block = pem::parse(text).map_err(|_| KeyFormatError::InvalidPem)?;
        match block.tag() {
            "RSA PRIVATE KEY" => {
                check_rsa_size(rsa_private_modulus_bits(block.contents())?)?;
                let pair = RsaKeyPair::from_der(block.contents())
                    .map_err(|_| KeyFormatError::BadDer("unreadable PKCS#1 RSA key"))?;
                Self::from_rsa(pair)
            }
            "EC PRIVATE KEY" => {
                let sec1 = sec1::EcPrivateKey::from_der(block.contents()).map_err(|_| {
                    Error::UnsupportedKey("error parsing ecdsa private key".to_owned())
                })?;
                let curve = sec1.parameters.and_then(|p| p.named_curve());
                let kind = curve_kind(curve)?;
                let pair =
                    EcdsaKeyPair::from_private_key_der(ecdsa_signing_alg(kind), block.contents())
                        .map_err(|_| {
                        Error::UnsupportedKey("error parsing ecdsa private key".to_owned())
                    })?;
                Ok(Self {
                    inner: Inner::Ecdsa(kind, pair),
                })
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
            other => Err(Error::UnsupportedKey(format!(
                "unsupported private key: a PEM block of type {:?} holds no private key signet can import",
                other.chars().take(60).collect::<String>()
            ))),
        }
    }

    /// Reads a Cosign encrypted key file (`ENCRYPTED SIGSTORE PRIVATE KEY` or the legacy
    /// `ENCRYPTED COSIGN PRIVATE KEY`) with `password`.
    pub fn from_encrypted_pem(text: &[u8], password: &[u8]) -> Result<Self, Error> {
        let block = pem::parse(text).map_err(|_| KeyFormatError::InvalidPem)?;
        if block.tag() != SIGSTORE_PRIVATE_KEY_PEM_LABEL
            && block.tag() != COSIGN_PRIVATE_KEY_PEM_LABEL
        {
            return Err(
                KeyFormatError::UnsupportedPemType(block.tag().chars().take(60).collect()).into(),
            );
        }
        let plaintext = encrypted::decrypt(block.contents(), password)?;
        Self::from_pkcs8_der(&plaintext)
    }

    /// Writes this key as Cosign does: PKCS#8 sealed under `password`, scrypt N = 2^`log_n`,
    /// in an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block.
    pub fn to_encrypted_pem(&self, password: &[u8], log_n: u8) -> Result<String, Error> {
        let pkcs8 = self.to_pkcs8_der()?;
        let envelope = encrypted::encrypt(&pkcs8, password, log_n)?;
        Ok(super::pem_encode(SIGSTORE_PRIVATE_KEY_PEM_LABEL, &envelope))
    }

    /// The key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let failed = |_| Error::Crypto("encoding the key as PKCS#8");
        let der = match &self.inner {
            Inner::Ecdsa(_, pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Inner::Rsa(_, pair) => {
                let doc: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
                doc.as_ref().to_vec()
            }
            Inner::Ed25519(pair) => {
                let doc: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
                doc.as_ref().to_vec()
            }
        };
        Ok(Zeroizing::new(der))
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match &self.inner {
            Inner::Ecdsa(kind, _) => *kind,
            Inner::Rsa(bits, _) => KeyKind::Rsa { bits: *bits },
            Inner::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        let der: PublicKeyX509Der<'static> = match &self.inner {
            Inner::Ecdsa(_, pair) => pair.public_key().as_der(),
            Inner::Rsa(_, pair) => pair.public_key().as_der(),
            Inner::Ed25519(pair) => pair.public_key().as_der(),
        }
        .map_err(|_| Error::Crypto("encoding the public key"))?;
        PublicKey::from_der(der.as_ref())
    }

    /// Signs `message` with the algorithm Cosign picks for this key (see
    /// [`KeyKind::default_hash`]). ECDSA signatures are ASN.1 DER.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.inner {
            Inner::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            _ => {
                let hash = self
                    .kind()
                    .default_hash()
                    .unwrap_or(DigestAlgorithm::Sha256);
                self.sign_prehashed(&MessageDigest::of(hash, message))
            }
        }
    }

    /// Signs a message given only its hash, which must use this key's hash algorithm. This
    /// is how large blobs are signed without holding them in memory. Ed25519 cannot sign a
    /// hash.
    pub fn sign_prehashed(&self, digest: &MessageDigest) -> Result<Vec<u8>, Error> {
        let expected = self.kind().default_hash();
        if expected != Some(digest.algorithm()) {
            return Err(Error::UnsupportedKey(format!(
                "{} keys cannot sign a {} digest",
                self.kind(),
                digest.algorithm().name()
            )));
        }
        match &self.inner {
            Inner::Ecdsa(_, pair) => pair
                .sign_digest(&digest.inner)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::Crypto("ECDSA signing")),
            Inner::Rsa(_, pair) => {
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(&sig::RSA_PKCS1_SHA256, &digest.inner, &mut out)
                    .map_err(|_| Error::Crypto("RSA signing"))?;
                Ok(out)
            }
            Inner::Ed25519(_) => Err(Error::UnsupportedKey(
                "Ed25519 keys sign the whole message, not a digest".to_owned(),
            )),
        }
    }
}

/// Cosign (sigstore's `ValidatePubKey`) accepts RSA keys of 2048 to 4096 bits.
fn check_rsa_size(bits: usize) -> Result<(), Error> {
    if (2048..=4096).contains(&bits) {
        Ok(())
    } else {
        Err(Error::UnsupportedKey(format!(
            "error validating rsa key: key size not supported: {bits}"
        )))
    }
}

/// The modulus size of a PKCS#1 RSAPrivateKey, read before the backend parses the key so an
/// out-of-range key gets Cosign's reason rather than a parse failure.
fn rsa_private_modulus_bits(pkcs1: &[u8]) -> Result<usize, Error> {
    use pkcs8::der::asn1::UintRef;
    use pkcs8::der::{Reader, SliceReader};
    let mut reader =
        SliceReader::new(pkcs1).map_err(|_| KeyFormatError::BadDer("RSA private key"))?;
    let modulus = reader
        .sequence(|seq| {
            let _version = UintRef::decode(seq)?;
            let n = UintRef::decode(seq)?;
            seq.read_slice(seq.remaining_len())?;
            Ok(n)
        })
        .map_err(|_| KeyFormatError::BadDer("not a PKCS#1 RSAPrivateKey"))?;
    let bytes = modulus.as_bytes();
    let leading = bytes.first().map_or(0, |b| b.leading_zeros() as usize);
    Ok((bytes.len() * 8).saturating_sub(leading))
}
