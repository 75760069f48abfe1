//! Content digests (`sha256:<hex>`) and streaming hashing.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A hash algorithm an OCI digest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, the algorithm of nearly every registry.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The name used in digest strings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }

    pub(crate) fn backend(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha384 => &aws_lc_rs::digest::SHA384,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

/// A validated content digest such as `sha256:4aa3…9dec`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
        hasher.update(bytes);
        hasher.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex encoding of the hash.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The raw hash bytes.
    pub fn bytes(&self) -> Vec<u8> {
        (0..self.hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&self.hex[i..i + 2], 16).ok())
            .collect()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidDigest {
            digest: s.chars().take(200).collect(),
            reason,
        };
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| invalid("expected algorithm:hex"))?;
        let algorithm = match alg {
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            _ => return Err(invalid("unsupported algorithm")),
        };
        if hex.len() != algorithm.hex_len() {
            return Err(invalid("wrong length for the algorithm"));
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("hash must be lowercase hex"));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Incremental hashing, so large blobs are digested in constant memory.
pub struct Hasher {
    algorithm: DigestAlgorithm,
    context: aws_lc_rs::digest::Context,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        Self {
            algorithm,
            context: aws_lc_rs::digest::Context::new(algorithm.backend()),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.context.update(bytes);
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        let raw = self.finish_raw();
        Digest {
            algorithm: raw.algorithm,
            hex: hex_encode(raw.as_bytes()),
        }
    }

    /// The raw hash, for signing and verifying a prehashed message.
    pub fn finish_raw(self) -> MessageDigest {
        MessageDigest {
            algorithm: self.algorithm,
            inner: self.context.finish(),
        }
    }
}

/// The hash of a message, ready to be signed or verified without the message itself.
#[derive(Clone)]
pub struct MessageDigest {
    algorithm: DigestAlgorithm,
    pub(crate) inner: aws_lc_rs::digest::Digest,
}

impl fmt::Debug for MessageDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MessageDigest({}:{})",
            self.algorithm.name(),
            hex_encode(self.as_bytes())
        )
    }
}

impl MessageDigest {
    /// Hashes `message` in one go.
    pub fn of(algorithm: DigestAlgorithm, message: &[u8]) -> Self {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(message);
        hasher.finish_raw()
    }

    /// The algorithm that produced it.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.inner.as_ref()
    }

    /// The same hash as a content [`Digest`] (`algorithm:hex`).
    pub fn to_digest(&self) -> Digest {
        Digest {
            algorithm: self.algorithm,
            hex: hex_encode(self.as_bytes()),
        }
    }
}

/// Hashes everything `reader` yields with each of `algorithms` at once, in 1 MiB chunks, so a
/// file of any size is digested in constant memory. The reader is the caller's: this crate
/// opens nothing itself.
pub fn digest_reader(
    mut reader: impl std::io::Read,
    algorithms: &[DigestAlgorithm],
) -> std::io::Result<Vec<MessageDigest>> {
    let mut hashers: Vec<Hasher> = algorithms.iter().map(|&a| Hasher::new(a)).collect();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for hasher in &mut hashers {
            hasher.update(&buffer[..n]);
        }
    }
    Ok(hashers.into_iter().map(Hasher::finish_raw).collect())
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        let digest = Digest::sha256_of(b"some-payload");
        assert_eq!(
            digest.to_string(),
            "sha256:658781cd4ed9bca60dacd09f7bb914bb51502e8b5d619f57f39a1d652596cc24"
        );
        assert_eq!(digest.to_string().parse::<Digest>().ok(), Some(digest));
    }

    #[test]
    fn digest_reader_matches_one_shot_hashing() {
        let data = vec![42u8; (1 << 20) + 3];
        let digests = digest_reader(
            data.as_slice(),
            &[DigestAlgorithm::Sha256, DigestAlgorithm::Sha512],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            digests[0].as_bytes(),
            MessageDigest::of(DigestAlgorithm::Sha256, &data).as_bytes()
        );
        assert_eq!(
            digests[1].as_bytes(),
            MessageDigest::of(DigestAlgorithm::Sha512, &data).as_bytes()
        );
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "sha256",
            "md5:abcd",
            "sha256:abc",
            "sha256:4AA3054270F7A70B4528F2064EE90961788E1E1518703592AE4463DE3B889DEC",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }
}
