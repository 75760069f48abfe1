//! The signed payload: `{"targetArtifact": <OCI descriptor>}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use signet_core::digest::Digest;

use crate::check::{NotationCheck, NotationFailure, Outcome, fail};

/// The artifact a signature must be about: its manifest's descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArtifact {
    /// The manifest's media type.
    pub media_type: String,
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's size in bytes.
    pub size: u64,
}

/// The descriptor a verified signature signed, with its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDescriptor {
    /// The signed media type.
    pub media_type: String,
    /// The signed digest.
    pub digest: Digest,
    /// The signed size.
    pub size: u64,
    /// User annotations signed with it (`notation sign --user-metadata`).
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "targetArtifact")]
    target_artifact: Descriptor,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Parses a payload; a descriptor without digest, media type or size is refused.
pub(crate) fn parse(bytes: &[u8]) -> Outcome<SignedDescriptor> {
    let payload: Payload = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        Err(e) => {
            return Err(NotationFailure::caused(
                NotationCheck::Payload,
                "the payload is not {\"targetArtifact\": descriptor}",
                e,
            ));
        }
    };
    let d = payload.target_artifact;
    if d.media_type.is_empty() {
        return fail(
            NotationCheck::Payload,
            "the target artifact has no mediaType",
        );
    }
    let digest = match d.digest.parse::<Digest>() {
        Ok(digest) => digest,
        Err(e) => {
            return Err(NotationFailure::caused(
                NotationCheck::Payload,
                format!("the target artifact's digest {:?} is malformed", d.digest),
                e,
            ));
        }
    };
    Ok(SignedDescriptor {
        media_type: d.media_type,
        digest,
        size: d.size,
        annotations: d.annotations,
    })
}

/// The payload notation signs for `target`, with `annotations`.
pub(crate) fn encode(target: &TargetArtifact, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let mut descriptor = serde_json::Map::new();
    descriptor.insert("mediaType".into(), target.media_type.clone().into());
    descriptor.insert("digest".into(), target.digest.to_string().into());
    descriptor.insert("size".into(), target.size.into());
    if !annotations.is_empty() {
        descriptor.insert(
            "annotations".into(),
            serde_json::to_value(annotations).unwrap_or_default(),
        );
    }
    serde_json::json!({ "targetArtifact": descriptor })
        .to_string()
        .into_bytes()
}
