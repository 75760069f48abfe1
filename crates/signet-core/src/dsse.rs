//! DSSE envelopes (Dead Simple Signing Envelope), as Cosign, in-toto and Sigstore use them.
//!
//! The signature covers the pre-authentication encoding
//! `"DSSEv1" SP len(type) SP type SP len(body) SP body`, never the JSON. The PAE is hashed
//! incrementally ([`pae_digest`]) so a 100 MB payload is signed without a second copy of it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::Error;
use crate::digest::{DigestAlgorithm, Hasher, MessageDigest};
use crate::go_json;

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The media type of a DSSE envelope stored as an OCI layer.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// The PAE up to (not including) the body: `DSSEv1 <len(type)> <type> <len(body)> `.
pub fn pae_prefix(payload_type: &str, payload_len: usize) -> Vec<u8> {
    format!(
        "DSSEv1 {} {payload_type} {payload_len} ",
        payload_type.len()
    )
    .into_bytes()
}

/// The whole PAE, for small payloads and for peers' test vectors.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_prefix(payload_type, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The hash of the PAE, computed without concatenating it.
pub fn pae_digest(algorithm: DigestAlgorithm, payload_type: &str, payload: &[u8]) -> MessageDigest {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(&pae_prefix(payload_type, payload.len()));
    hasher.update(payload);
    hasher.finish_raw()
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// The key id (Cosign writes an empty string).
    pub keyid: String,
    /// The raw signature bytes.
    pub sig: Vec<u8>,
}

/// A parsed envelope: the decoded payload and signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the payload is (`application/vnd.in-toto+json`).
    pub payload_type: String,
    /// The decoded payload bytes (what the signature covers, inside the PAE).
    pub payload: Vec<u8>,
    /// The signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct WireEnvelope<'a> {
    #[serde(rename = "payloadType")]
    payload_type: String,
    #[serde(borrow)]
    payload: std::borrow::Cow<'a, str>,
    #[serde(default)]
    signatures: Vec<WireSignature>,
}

#[derive(Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not JSON of the envelope's shape.
    #[error("not a DSSE envelope: {0}")]
    Malformed(String),
    /// The payload is not valid base64.
    #[error("the envelope's payload is not valid base64")]
    PayloadEncoding,
    /// A signature is not valid base64.
    #[error("signature {0} of the envelope is not valid base64")]
    SignatureEncoding(usize),
    /// The envelope has no signature.
    #[error("the envelope has no signatures")]
    Unsigned,
}

impl Envelope {
    /// Parses an envelope; the caller has bounded its size.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let wire: WireEnvelope<'_> =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        let payload = STANDARD
            .decode(wire.payload.as_bytes())
            .map_err(|_| EnvelopeError::PayloadEncoding)?;
        if wire.signatures.is_empty() {
            return Err(EnvelopeError::Unsigned);
        }
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(EnvelopeSignature {
                    keyid: s.keyid,
                    sig: STANDARD
                        .decode(s.sig.as_bytes())
                        .map_err(|_| EnvelopeError::SignatureEncoding(i + 1))?,
                })
            })
            .collect::<Result<_, EnvelopeError>>()?;
        Ok(Self {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Serialises the envelope as Cosign writes it:
    /// `{"payloadType":…,"payload":…,"signatures":[{"keyid":…,"sig":…}]}`.
    pub fn to_json(&self) -> Vec<u8> {
        let encoded_len = self.payload.len().div_ceil(3) * 4;
        let mut out = String::with_capacity(encoded_len + 256);
        out.push_str(r#"{"payloadType":"#);
        go_json::write_string(&mut out, &self.payload_type);
        out.push_str(r#","payload":""#);
        STANDARD.encode_string(&self.payload, &mut out);
        out.push_str(r#"","signatures":["#);
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"keyid":"#);
            go_json::write_string(&mut out, &s.keyid);
            out.push_str(r#","sig":""#);
            STANDARD.encode_string(&s.sig, &mut out);
            out.push_str(r#""}"#);
        }
        out.push_str("]}");
        out.into_bytes()
    }
}

impl From<EnvelopeError> for Error {
    fn from(value: EnvelopeError) -> Self {
        Error::Envelope(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // From the DSSE protocol description.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        let whole = MessageDigest::of(DigestAlgorithm::Sha256, &pae("t", b"body"));
        assert_eq!(
            pae_digest(DigestAlgorithm::Sha256, "t", b"body").as_bytes(),
            whole.as_bytes()
        );
    }

    #[test]
    fn envelopes_round_trip() {
        let envelope = Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: b"{}".to_vec(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: vec![1, 2, 3],
            }],
        };
        let json = envelope.to_json();
        assert_eq!(
            String::from_utf8_lossy(&json),
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AQID"}]}"#
        );
        assert_eq!(Envelope::parse(&json).ok(), Some(envelope));
    }

    #[test]
    fn malformed_envelopes_say_why() {
        assert!(matches!(
            Envelope::parse(b"[]"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert_eq!(
            Envelope::parse(br#"{"payloadType":"x","payload":"!!","signatures":[{"sig":"AA=="}]}"#),
            Err(EnvelopeError::PayloadEncoding)
        );
        assert_eq!(
            Envelope::parse(br#"{"payloadType":"x","payload":"e30=","signatures":[]}"#),
            Err(EnvelopeError::Unsigned)
        );
    }
}
