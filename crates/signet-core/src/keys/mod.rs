//! Keys: Cosign's encrypted private key file, signing keys and verification keys.
//!
//! * [`encrypted`] reads and writes the `ENCRYPTED SIGSTORE PRIVATE KEY` envelope (scrypt and
//!   nacl/secretbox over a PKCS#8 key), exactly as Cosign and containers/image do.
//! * [`PrivateKey`] signs with the algorithm Cosign v3 picks for the key; it cannot be cloned,
//!   does not print its secret, and is wiped on drop (by the crypto backend).
//! * [`PublicKey`] verifies, and reads PEM or DER SubjectPublicKeyInfo and PKCS#1 RSA keys.

pub mod encrypted;
mod oids;
mod private;
mod public;
mod scrypt;

pub use private::{KeyKind, PrivateKey};
pub use public::PublicKey;

/// PEM label Cosign writes for encrypted private keys.
pub const SIGSTORE_PRIVATE_KEY_PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label older Cosign versions wrote for encrypted private keys.
pub const COSIGN_PRIVATE_KEY_PEM_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// PEM label of a SubjectPublicKeyInfo public key.
pub const PUBLIC_KEY_PEM_LABEL: &str = "PUBLIC KEY";

pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let block = pem::Pem::new(label, der);
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
