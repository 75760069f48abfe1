//! The Sigstore material Cosign's legacy format carries in a signature layer's annotations:
//! the Rekor "bundle" (`dev.sigstore.cosign/bundle`: a signed entry timestamp over the log
//! entry) and the RFC 3161 timestamp (`dev.sigstore.cosign/rfc3161timestamp`).
//!
//! Both are small JSON documents written by Go's `encoding/json` from Cosign's structs, field
//! order included; [`RekorBundle::to_json`] and [`Rfc3161Timestamp::to_json`] write the same
//! bytes, and the parsers read what Cosign, skopeo and signet write.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The largest annotation value parsed, in bytes. Real Rekor bundles are 2–6 KiB (the body
/// holds the signature and a certificate); RFC 3161 timestamps are 1–4 KiB.
pub const MAX_ANNOTATION_BYTES: usize = 256 * 1024;

/// A Rekor v1 log entry's signed entry timestamp and the fields it signs, as Cosign stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    /// The log's signature over the canonical JSON of the payload fields (DER ECDSA).
    pub signed_entry_timestamp: Vec<u8>,
    /// The canonicalized entry body (JSON: `{"apiVersion", "kind", "spec"}`).
    pub body: Vec<u8>,
    /// When the log integrated the entry (Unix seconds).
    pub integrated_time: i64,
    /// The entry's index in the log.
    pub log_index: i64,
    /// The log's ID: the SHA-256 of its public key, lowercase hex.
    pub log_id: String,
}

#[derive(Serialize, Deserialize)]
struct WireBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: WirePayload,
}

#[derive(Serialize, Deserialize)]
struct WirePayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// The kind and API version named by a Rekor entry body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EntryKind {
    /// `hashedrekord`, `intoto`, `dsse`, …
    pub kind: String,
    /// `0.0.1`, `0.0.2`, …
    #[serde(rename = "apiVersion")]
    pub api_version: String,
}

fn check_size(what: &'static str, text: &str) -> Result<(), Error> {
    if text.len() > MAX_ANNOTATION_BYTES {
        return Err(Error::TooLarge {
            what,
            actual: text.len() as u64,
            limit: MAX_ANNOTATION_BYTES as u64,
        });
    }
    Ok(())
}

fn malformed(what: &'static str) -> impl Fn(serde_json::Error) -> Error {
    move |source| Error::MalformedJson { what, source }
}

fn base64_field(what: &'static str, value: &str) -> Result<Vec<u8>, Error> {
    STANDARD
        .decode(value.trim())
        .map_err(|_| Error::MalformedAnnotation {
            what,
            reason: "a field is not base64",
        })
}

impl RekorBundle {
    /// Parses a `dev.sigstore.cosign/bundle` annotation.
    pub fn parse(text: &str) -> Result<Self, Error> {
        const WHAT: &str = "Rekor bundle annotation";
        check_size(WHAT, text)?;
        let wire: WireBundle = serde_json::from_str(text).map_err(malformed(WHAT))?;
        let log_id = wire.payload.log_id.to_ascii_lowercase();
        if log_id.len() != 64 || !log_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::MalformedAnnotation {
                what: WHAT,
                reason: "logID is not 64 hex digits (a SHA-256)",
            });
        }
        Ok(Self {
            signed_entry_timestamp: base64_field(WHAT, &wire.signed_entry_timestamp)?,
            body: base64_field(WHAT, &wire.payload.body)?,
            integrated_time: wire.payload.integrated_time,
            log_index: wire.payload.log_index,
            log_id,
        })
    }

    /// The annotation value, byte for byte as Cosign writes it.
    pub fn to_json(&self) -> String {
        let wire = WireBundle {
            signed_entry_timestamp: STANDARD.encode(&self.signed_entry_timestamp),
            payload: WirePayload {
                body: STANDARD.encode(&self.body),
                integrated_time: self.integrated_time,
                log_index: self.log_index,
                log_id: self.log_id.clone(),
            },
        };
        // Serializing plain strings and integers cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// The log ID as raw bytes (32 bytes).
    pub fn log_id_bytes(&self) -> Vec<u8> {
        self.log_id
            .as_bytes()
            .chunks(2)
            .filter_map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect()
    }

    /// The kind and version the entry body names.
    pub fn entry_kind(&self) -> Result<EntryKind, Error> {
        serde_json::from_slice(&self.body).map_err(malformed("Rekor entry body"))
    }
}

/// An RFC 3161 timestamp over a signature, as Cosign stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc3161Timestamp {
    /// The DER `TimeStampResp` (or bare token) from the timestamp authority.
    pub signed_timestamp: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct WireTimestamp {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_rfc3161_timestamp: String,
}

impl Rfc3161Timestamp {
    /// Parses a `dev.sigstore.cosign/rfc3161timestamp` annotation.
    pub fn parse(text: &str) -> Result<Self, Error> {
        const WHAT: &str = "RFC 3161 timestamp annotation";
        check_size(WHAT, text)?;
        let wire: WireTimestamp = serde_json::from_str(text).map_err(malformed(WHAT))?;
        Ok(Self {
            signed_timestamp: base64_field(WHAT, &wire.signed_rfc3161_timestamp)?,
        })
    }

    /// The annotation value, byte for byte as Cosign writes it.
    pub fn to_json(&self) -> String {
        let wire = WireTimestamp {
            signed_rfc3161_timestamp: STANDARD.encode(&self.signed_timestamp),
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Rekor bundle annotation in the shape Cosign writes (Go field order, base64 body).
    const COSIGN_BUNDLE: &str = r#"{"SignedEntryTimestamp":"MEUCIQDx","Payload":{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIn0=","integratedTime":1690000000,"logIndex":25579,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}"#;

    #[test]
    fn cosign_bundle_round_trips_byte_for_byte() {
        let bundle = RekorBundle::parse(COSIGN_BUNDLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bundle.integrated_time, 1_690_000_000);
        assert_eq!(bundle.log_index, 25579);
        assert_eq!(bundle.log_id_bytes().len(), 32);
        assert_eq!(
            bundle.entry_kind().unwrap_or_else(|e| panic!("{e}")),
            EntryKind {
                kind: "hashedrekord".into(),
                api_version: "0.0.1".into()
            }
        );
        assert_eq!(bundle.to_json(), COSIGN_BUNDLE);
    }

    #[test]
    fn bad_log_ids_bodies_and_sizes_are_refused() {
        let short = COSIGN_BUNDLE.replace("c0d23d6ad406973f", "zz");
        assert!(matches!(
            RekorBundle::parse(&short),
            Err(Error::MalformedAnnotation { .. })
        ));
        let bad_body = COSIGN_BUNDLE.replace("eyJhcGlW", "!!!!");
        assert!(matches!(
            RekorBundle::parse(&bad_body),
            Err(Error::MalformedAnnotation { .. })
        ));
        let huge = " ".repeat(MAX_ANNOTATION_BYTES + 1);
        assert!(matches!(
            RekorBundle::parse(&huge),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            RekorBundle::parse("{}"),
            Err(Error::MalformedJson { .. })
        ));
    }

    #[test]
    fn timestamp_annotation_round_trips() {
        let text = r#"{"SignedRFC3161Timestamp":"MIIB"}"#;
        let ts = Rfc3161Timestamp::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ts.signed_timestamp, vec![0x30, 0x82, 0x01]);
        assert_eq!(ts.to_json(), text);
    }
}
