use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::digest::digest_reader;
use signet_core::keys::KeyKind;

use crate::{Error, KeyVerifier};

/// Why a file's signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobFailure {
    /// The signature file is empty.
    #[error("the signature is empty")]
    EmptySignature,
    /// The signature does not verify over the file with the key.
    #[error("invalid signature: it does not match the public key and the file's contents")]
    SignatureMismatch,
    /// An Ed25519 signature covers the whole file, which is larger than the limit.
    #[error(
        "the file is larger than {limit} bytes, the limit for Ed25519 keys, which sign whole messages"
    )]
    TooLargeForEd25519 {
        /// The limit.
        limit: u64,
    },
}

/// Reads a signature as `cosign verify-blob --signature` does: base64 (line breaks ignored,
/// as Go's decoder does), or else the raw signature bytes.
pub fn decode_signature_file(contents: &[u8]) -> Vec<u8> {
    let compact: Vec<u8> = contents
        .iter()
        .copied()
        .filter(|b| *b != b'\n' && *b != b'\r')
        .collect();
    match STANDARD.decode(&compact) {
        Ok(decoded) => decoded,
        Err(_) => contents.to_vec(),
    }
}

/// Checks `signature` over everything `reader` yields. Hashing is streamed (constant memory)
/// except for Ed25519 keys, whose signatures cover the whole message (bounded by
/// `max_unhashed_bytes`).
///
/// `Ok(Err(_))` is a verdict (rejected); `Err(_)` means the file could not be read.
pub fn verify_blob(
    verifier: &KeyVerifier,
    reader: impl Read,
    signature: &[u8],
    max_unhashed_bytes: u64,
) -> Result<Result<(), BlobFailure>, Error> {
    let read_error = |source| Error::Read {
        what: "the file to verify".to_owned(),
        source,
    };
    if signature.is_empty() {
        return Ok(Err(BlobFailure::EmptySignature));
    }
    if verifier.key().kind() == KeyKind::Ed25519 {
        let mut message = Vec::new();
        reader
            .take(max_unhashed_bytes + 1)
            .read_to_end(&mut message)
            .map_err(read_error)?;
        if message.len() as u64 > max_unhashed_bytes {
            return Ok(Err(BlobFailure::TooLargeForEd25519 {
                limit: max_unhashed_bytes,
            }));
        }
        return Ok(if verifier.verifies(&message, signature) {
            Ok(())
        } else {
            Err(BlobFailure::SignatureMismatch)
        });
    }
    let digests = digest_reader(reader, verifier.hashes()).map_err(read_error)?;
    Ok(if verifier.verifies_prehashed(&digests, signature) {
        Ok(())
    } else {
        Err(BlobFailure::SignatureMismatch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_files_may_be_base64_with_newlines_or_raw() {
        assert_eq!(decode_signature_file(b"AQID\n"), vec![1, 2, 3]);
        assert_eq!(
            decode_signature_file(&[0x30, 0x45, 0x02]),
            vec![0x30, 0x45, 0x02]
        );
    }
}
