//! The OCI manifest, descriptor and index types signatures are stored in.
//!
//! Only the fields signet reads or writes are modelled; unknown fields are kept in `extra` so a
//! manifest written by another tool round-trips when signet appends to it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::cosign::{OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use crate::digest::Digest;

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The media type of the referenced content.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its digest.
    pub digest: Digest,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields signet does not model.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Descriptor {
    /// A descriptor for `bytes` of `media_type`.
    pub fn for_bytes(media_type: &str, bytes: &[u8]) -> Self {
        Self {
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            digest: Digest::sha256_of(bytes),
            annotations: BTreeMap::new(),
            extra: serde_json::Map::new(),
        }
    }
}

/// An OCI image manifest (also accepted: Docker schema 2, which has the same shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers; for a signature manifest, one per signature.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Manifest annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields signet does not model.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ImageManifest {
    /// Parses a manifest. The caller has already bounded its size.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::MalformedJson {
            what: "image manifest",
            source,
        })
    }

    /// Serialises the manifest.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The config blob of a Cosign signature manifest, as go-containerregistry writes it for an
/// image built from `empty.Image` plus the signature layers.
pub fn signature_config(layers: &[Descriptor]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
    let history: Vec<serde_json::Value> = layers
        .iter()
        .map(|_| serde_json::json!({"created": "0001-01-01T00:00:00Z"}))
        .collect();
    let mut out = String::from(r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":"#);
    out.push_str(&serde_json::Value::Array(history).to_string());
    out.push_str(r#","os":"","rootfs":{"type":"layers","diff_ids":"#);
    out.push_str(&serde_json::Value::from(diff_ids).to_string());
    out.push_str(r#"},"config":{}}"#);
    out.into_bytes()
}

/// A signature manifest holding `layers`, with its config descriptor and bytes.
pub fn signature_manifest(layers: Vec<Descriptor>) -> (ImageManifest, Vec<u8>) {
    let config = signature_config(&layers);
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_owned()),
        config: Descriptor::for_bytes(OCI_CONFIG_MEDIA_TYPE, &config),
        layers,
        annotations: BTreeMap::new(),
        extra: serde_json::Map::new(),
    };
    (manifest, config)
}

/// An OCI image index (the `index.json` of an image layout, or a multi-platform image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The index's media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests it lists.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Fields signet does not model.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ImageIndex {
    /// Parses an index. The caller has already bounded its size.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::MalformedJson {
            what: "image index",
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_manifest_lists_each_layer_in_its_config() {
        let layer =
            Descriptor::for_bytes("application/vnd.dev.cosign.simplesigning.v1+json", b"{}");
        let (manifest, config) = signature_manifest(vec![layer.clone()]);
        let config: serde_json::Value =
            serde_json::from_slice(&config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config["rootfs"]["diff_ids"][0], layer.digest.to_string());
        let reparsed = ImageManifest::parse(&manifest.to_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reparsed, manifest);
    }
}
