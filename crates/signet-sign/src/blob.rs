use std::io::Read;

use signet_core::digest::{MessageDigest, digest_reader};

use crate::{Error, SigningKey};

/// A signature over a file.
#[derive(Debug, Clone)]
pub struct BlobSignature {
    /// The raw signature (ASN.1 DER for ECDSA).
    pub signature: Vec<u8>,
    /// The digest that was signed, when the key signs digests.
    pub digest: Option<MessageDigest>,
}

impl BlobSignature {
    /// The signature in base64, as `cosign sign-blob` prints it.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.signature)
    }
}

/// Signs everything `reader` yields, as `cosign sign-blob` does.
///
/// Keys that sign a digest (ECDSA, RSA; every token and KMS key) get the file hashed in
/// 1 MiB chunks here, so memory stays constant whatever its size and only the digest goes to
/// the key. The reading is synchronous: call it where blocking is fine. Ed25519 signs the whole message, so the file is read into
/// memory, up to `max_unhashed_bytes`.
pub async fn sign_blob(
    key: &dyn SigningKey,
    reader: impl Read,
    max_unhashed_bytes: u64,
) -> Result<BlobSignature, Error> {
    let read_error = |source| Error::Read {
        what: "the file to sign".to_owned(),
        source,
    };
    match key.digest_algorithm() {
        Some(algorithm) => {
            let digest = digest_reader(reader, &[algorithm])
                .map_err(read_error)?
                .pop()
                .ok_or(signet_core::Error::Crypto("no digest computed"))?;
            let signature = key.sign_digest(&digest).await?;
            Ok(BlobSignature {
                signature,
                digest: Some(digest),
            })
        }
        None => {
            let mut message = Vec::new();
            reader
                .take(max_unhashed_bytes + 1)
                .read_to_end(&mut message)
                .map_err(read_error)?;
            if message.len() as u64 > max_unhashed_bytes {
                return Err(signet_core::Error::TooLarge {
                    what: "a file signed with an Ed25519 key",
                    actual: message.len() as u64,
                    limit: max_unhashed_bytes,
                }
                .into());
            }
            Ok(BlobSignature {
                signature: key.sign(&message).await?,
                digest: None,
            })
        }
    }
}
