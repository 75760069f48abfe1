//! The simple-signing payload Cosign signs for a container image.
//!
//! Cosign signs exact bytes, so the payload is produced the way Go's `json.Marshal` writes
//! Cosign's struct (field order, `optional: null`, HTML escaping), and parsed leniently enough
//! to read what containers/image writes (which fills `optional` with creator and timestamp).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;
use crate::digest::Digest;
use crate::go_json;

/// The `type` every Cosign container image signature carries.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// Builds the payload Cosign signs for `repository_name@digest`.
///
/// `annotations` become the `optional` object (`null` when empty), as `cosign sign -a k=v`.
pub fn simple_signing_payload(
    repository_name: &str,
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
    go_json::write_string(&mut out, repository_name);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    go_json::write_string(&mut out, &digest.to_string());
    out.push_str(r#"},"type":"#);
    go_json::write_string(&mut out, COSIGN_SIGNATURE_TYPE);
    out.push_str(r#"},"optional":"#);
    if annotations.is_empty() {
        out.push_str("null");
    } else {
        out.push('{');
        for (i, (key, value)) in annotations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            go_json::write_string(&mut out, key);
            out.push(':');
            go_json::write_string(&mut out, value);
        }
        out.push('}');
    }
    out.push('}');
    out.into_bytes()
}

/// A parsed simple-signing payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SimpleSigning {
    /// The signed claims.
    pub critical: Critical,
    /// Unsigned-by-convention extras: Cosign's annotations, containers/image's creator.
    #[serde(default)]
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The `critical` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Critical {
    /// Which name the signer claims for the image.
    pub identity: Identity,
    /// Which manifest was signed.
    pub image: ImageClaim,
    /// Always [`COSIGN_SIGNATURE_TYPE`] for Cosign signatures.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `critical.identity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Identity {
    /// The repository (Cosign) or repository and tag (containers/image) the signer named.
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

/// `critical.image`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ImageClaim {
    /// The signed manifest digest, as a string so a malformed one can be reported.
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Parses a payload. The caller has already bounded its size.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::MalformedJson {
            what: "simple-signing payload",
            source,
        })
    }

    /// The `optional` entries whose values are strings, as Cosign compares annotations.
    pub fn string_annotations(&self) -> BTreeMap<String, String> {
        self.optional
            .iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_byte_identical_to_cosigns_golden_file() {
        let digest: Digest =
            "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"));
        let golden = include_bytes!(
            "../../../../shared/testdata/cosign/extracted/pkg/cosign/obsolete_test/simplesigning-payload-golden.json"
        );
        let ours =
            simple_signing_payload("index.docker.io/namespace/image", &digest, &BTreeMap::new());
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(golden)
        );
    }

    #[test]
    fn annotations_are_sorted_and_go_escaped() {
        let digest = Digest::sha256_of(b"x");
        let mut annotations = BTreeMap::new();
        annotations.insert("z".to_owned(), "1".to_owned());
        annotations.insert("a".to_owned(), "<b>".to_owned());
        let payload = simple_signing_payload("r/x", &digest, &annotations);
        let text = String::from_utf8_lossy(&payload);
        assert!(
            text.ends_with(r#""optional":{"a":"\u003cb\u003e","z":"1"}}"#),
            "{text}"
        );
        let parsed = SimpleSigning::parse(&payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.string_annotations(), annotations);
        assert_eq!(
            parsed.critical.image.docker_manifest_digest,
            digest.to_string()
        );
    }
}
