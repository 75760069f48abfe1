//! in-toto attestation statements (v0.1 and v1), and the predicate types Cosign names.
//!
//! Statements are written by concatenation around the predicate's own bytes and read with the
//! predicate left as raw JSON, so a 100 MB SBOM is never expanded into a value tree.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::go_json;

/// `_type` of in-toto Statement v0.1 (what Cosign writes).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of in-toto Statement v1 (what signet writes).
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// Cosign's default predicate type (`--type custom`).
pub const COSIGN_CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";
/// SLSA provenance v0.2.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// SPDX documents.
pub const SPDX: &str = "https://spdx.dev/Document";
/// CycloneDX BOMs.
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
/// in-toto links.
pub const LINK: &str = "https://in-toto.io/Link/v1";
/// Cosign's vulnerability report.
pub const COSIGN_VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// OpenVEX.
pub const OPENVEX: &str = "https://openvex.dev/ns";

/// Why a statement or predicate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The type is neither one of Cosign's names nor an absolute URI.
    #[error(
        "unknown predicate type {0:?}: use custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, or an absolute URI"
    )]
    UnknownType(String),
    /// The predicate must be a JSON object and is not.
    #[error("the predicate for {predicate_type} must be a JSON object: {reason}")]
    NotJsonObject {
        /// The predicate type.
        predicate_type: String,
        /// What is wrong.
        reason: String,
    },
    /// A field the predicate type requires is missing.
    #[error("the predicate for {predicate_type} lacks the required field {field:?}")]
    MissingField {
        /// The predicate type.
        predicate_type: String,
        /// The missing field.
        field: &'static str,
    },
    /// A text predicate is not UTF-8.
    #[error("the predicate is not UTF-8 text")]
    NotText,
    /// A statement could not be parsed.
    #[error("not an in-toto statement: {0}")]
    Malformed(String),
}

impl From<StatementError> for crate::Error {
    fn from(value: StatementError) -> Self {
        crate::Error::Statement(value)
    }
}

/// How a predicate file becomes the statement's `predicate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PredicateShape {
    /// Cosign's custom wrapper `{"Data": "<file as text>", "Timestamp": "<RFC 3339>"}`.
    CosignWrapper,
    /// The file as a JSON string (SPDX tag-value).
    Text,
    /// The file itself, a JSON object, with these fields required.
    Object(&'static [&'static str]),
    /// SLSA v1: an object, with `runDetails.metadata.invocationID` renamed `invocationId` as
    /// Cosign does.
    SlsaV1,
}

/// A predicate type chosen by name (`--type`), with how Cosign shapes its predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredicateType {
    uri: String,
    shape: PredicateShape,
}

const LINK_FIELDS: &[&str] = &[
    "_type",
    "name",
    "materials",
    "products",
    "byproducts",
    "command",
    "environment",
];
const VULN_FIELDS: &[&str] = &["invocation", "scanner", "metadata"];

impl PredicateType {
    /// Resolves Cosign's `--type` names; anything else must be an absolute URI.
    pub fn from_name(name: &str) -> Result<Self, StatementError> {
        let (uri, shape) = match name {
            "custom" => (COSIGN_CUSTOM, PredicateShape::CosignWrapper),
            "slsaprovenance" | "slsaprovenance02" => {
                (SLSA_PROVENANCE_V02, PredicateShape::Object(&[]))
            }
            "slsaprovenance1" => (SLSA_PROVENANCE_V1, PredicateShape::SlsaV1),
            "spdx" => (SPDX, PredicateShape::Text),
            "spdxjson" => (SPDX, PredicateShape::Object(&[])),
            "cyclonedx" => (CYCLONEDX, PredicateShape::Object(&[])),
            "link" => (LINK, PredicateShape::Object(LINK_FIELDS)),
            "vuln" => (COSIGN_VULN, PredicateShape::Object(VULN_FIELDS)),
            "openvex" => (OPENVEX, PredicateShape::Object(&[])),
            other if is_absolute_uri(other) => {
                return Ok(Self {
                    uri: other.to_owned(),
                    shape: PredicateShape::Object(&[]),
                });
            }
            other => {
                return Err(StatementError::UnknownType(
                    other.chars().take(200).collect(),
                ));
            }
        };
        Ok(Self {
            uri: uri.to_owned(),
            shape,
        })
    }

    /// The predicate type of the statement `cosign sign` v3 signs ([`COSIGN_SIGN_V1`]).
    pub fn cosign_sign() -> Self {
        Self {
            uri: COSIGN_SIGN_V1.to_owned(),
            shape: PredicateShape::Object(&[]),
        }
    }

    /// The predicate type URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Turns the predicate file into the JSON of the statement's `predicate`, as Cosign shapes
    /// it for this type. `now_unix` is the time for Cosign's custom wrapper. The bytes are
    /// moved, not copied, when the file is already the predicate.
    pub fn shape_predicate(&self, file: Vec<u8>, now_unix: i64) -> Result<Vec<u8>, StatementError> {
        match self.shape {
            PredicateShape::CosignWrapper => {
                let text = String::from_utf8(file).map_err(|_| StatementError::NotText)?;
                let mut out = String::with_capacity(text.len() + 64);
                out.push_str(r#"{"Data":"#);
                go_json::write_string(&mut out, &text);
                out.push_str(r#","Timestamp":"#);
                go_json::write_string(&mut out, &rfc3339(now_unix));
                out.push('}');
                Ok(out.into_bytes())
            }
            PredicateShape::Text => {
                let text = std::str::from_utf8(&file).map_err(|_| StatementError::NotText)?;
                let mut out = String::with_capacity(text.len() + 16);
                go_json::write_string(&mut out, text);
                Ok(out.into_bytes())
            }
            PredicateShape::Object(required) => {
                self.check_object(&file, required)?;
                Ok(file)
            }
            PredicateShape::SlsaV1 => {
                let mut value: serde_json::Value =
                    serde_json::from_slice(&file).map_err(|e| self.not_object(e.to_string()))?;
                let metadata = value
                    .get_mut("runDetails")
                    .and_then(|r| r.get_mut("metadata"))
                    .and_then(|m| m.as_object_mut());
                if let Some(metadata) = metadata
                    && let Some(id) = metadata.remove("invocationID")
                {
                    metadata.insert("invocationId".to_owned(), id);
                }
                if !value.is_object() {
                    return Err(self.not_object("it is not an object".to_owned()));
                }
                serde_json::to_vec(&value).map_err(|e| self.not_object(e.to_string()))
            }
        }
    }

    fn not_object(&self, reason: String) -> StatementError {
        StatementError::NotJsonObject {
            predicate_type: self.uri.clone(),
            reason,
        }
    }

    fn check_object(&self, bytes: &[u8], required: &[&'static str]) -> Result<(), StatementError> {
        // Borrowed parse: validates the JSON and lists the top-level keys without building a
        // value tree of the whole document.
        let fields: BTreeMap<std::borrow::Cow<'_, str>, &RawValue> =
            serde_json::from_slice(bytes).map_err(|e| self.not_object(e.to_string()))?;
        for field in required {
            if !fields.contains_key(*field) {
                return Err(StatementError::MissingField {
                    predicate_type: self.uri.clone(),
                    field,
                });
            }
        }
        Ok(())
    }
}

/// `scheme:rest` with a valid scheme, as an absolute URI must start.
fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && !text.chars().any(char::is_whitespace)
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The predicate type of Cosign v3's image signatures (`cosign sign` with the bundle format).
pub const COSIGN_SIGN_V1: &str = "https://sigstore.dev/cosign/sign/v1";

/// The statement Cosign v3 signs for an image: Statement v1, one subject with the image's
/// digest (no name) and `annotations` (the `-a key=value` pairs, `{}` when none), predicate
/// type [`COSIGN_SIGN_V1`] and no predicate, in the field order Cosign writes.
pub fn cosign_sign_statement(
    digest: &crate::digest::Digest,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Vec<u8> {
    let mut subject_digest = serde_json::Map::new();
    subject_digest.insert(
        digest.algorithm().name().to_owned(),
        serde_json::Value::String(digest.hex().to_owned()),
    );
    let annotations: serde_json::Map<String, serde_json::Value> = annotations
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    // Written by hand to keep Cosign's field order (`_type`, `subject` with `digest` then
    // `annotations`, `predicateType`); serde_json's maps would sort the keys.
    format!(
        "{{\"_type\":{},\"subject\":[{{\"digest\":{},\"annotations\":{}}}],\"predicateType\":{}}}",
        serde_json::Value::String(STATEMENT_V1.to_owned()),
        serde_json::Value::Object(subject_digest),
        serde_json::Value::Object(annotations),
        serde_json::Value::String(COSIGN_SIGN_V1.to_owned())
    )
    .into_bytes()
}

/// Formats a Unix time as RFC 3339 UTC (`2022-04-07T19:22:25Z`), as Go's `time.RFC3339`.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Builds a Statement v1 about one subject, around an already-shaped predicate.
pub fn build_statement(
    subject_name: &str,
    sha256_hex: &str,
    predicate_type: &str,
    predicate: &[u8],
) -> Vec<u8> {
    let mut head = String::with_capacity(256);
    head.push_str(r#"{"_type":"#);
    go_json::write_string(&mut head, STATEMENT_V1);
    head.push_str(r#","subject":[{"name":"#);
    go_json::write_string(&mut head, subject_name);
    head.push_str(r#","digest":{"sha256":"#);
    go_json::write_string(&mut head, sha256_hex);
    head.push_str(r#"}}],"predicateType":"#);
    go_json::write_string(&mut head, predicate_type);
    head.push_str(r#","predicate":"#);
    let mut out = Vec::with_capacity(head.len() + predicate.len() + 1);
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(predicate);
    out.push(b'}');
    out
}

/// A statement's subject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subject {
    /// The subject's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its digests by algorithm name.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

/// A parsed statement; the predicate stays raw JSON borrowed from the input.
#[derive(Debug, Deserialize)]
pub struct Statement<'a> {
    /// `_type`.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The subjects; `null` entries are kept so they can be refused, as Cosign refuses them.
    #[serde(default)]
    pub subject: Vec<Option<Subject>>,
    /// `predicateType`.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate, unparsed (an object, or a string in the legacy form).
    #[serde(borrow, default)]
    pub predicate: Option<&'a RawValue>,
}

/// How a statement's subjects relate to a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectMatch {
    /// One subject's sha256 is the digest.
    Matches,
    /// The statement has no subjects.
    Empty,
    /// No subject has a digest of the algorithm asked for (sha256, in practice).
    NoSha256,
    /// Subjects have sha256 digests, none of them this one.
    NoneMatch,
    /// A subject is `null`.
    NullSubject,
}

impl<'a> Statement<'a> {
    /// Parses a statement (v0.1 or v1); the caller has bounded its size.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, StatementError> {
        let statement: Self =
            serde_json::from_slice(bytes).map_err(|e| StatementError::Malformed(e.to_string()))?;
        if statement.statement_type != STATEMENT_V01 && statement.statement_type != STATEMENT_V1 {
            return Err(StatementError::Malformed(format!(
                "unknown _type {:?}",
                statement
                    .statement_type
                    .chars()
                    .take(100)
                    .collect::<String>()
            )));
        }
        Ok(statement)
    }

    /// Whether a subject has `sha256_hex` as its sha256 digest.
    pub fn match_sha256(&self, sha256_hex: &str) -> SubjectMatch {
        self.match_hex("sha256", sha256_hex)
    }

    /// Whether a subject carries `digest` (under its algorithm's name, as in-toto's
    /// `DigestSet` keys it).
    pub fn match_digest(&self, digest: &crate::digest::Digest) -> SubjectMatch {
        self.match_hex(digest.algorithm().name(), digest.hex())
    }

    fn match_hex(&self, algorithm: &str, hex: &str) -> SubjectMatch {
        if self.subject.is_empty() {
            return SubjectMatch::Empty;
        }
        if self.subject.iter().any(Option::is_none) {
            return SubjectMatch::NullSubject;
        }
        let digests: Vec<&str> = self
            .subject
            .iter()
            .flatten()
            .filter_map(|s| s.digest.get(algorithm).map(String::as_str))
            .collect();
        if digests.is_empty() {
            SubjectMatch::NoSha256
        } else if digests.contains(&hex) {
            SubjectMatch::Matches
        } else {
            SubjectMatch::NoneMatch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_sign_statement_is_byte_identical_to_cosign_v3() {
        // The statement of the real kubewarden-controller v1.34.0 signature (cosign v3).
        let digest: crate::digest::Digest =
            "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"));
        let statement = cosign_sign_statement(&digest, &Default::default());
        assert_eq!(
            String::from_utf8_lossy(&statement),
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1"}"#
        );
    }

    #[test]
    fn type_names_resolve_as_cosign_resolves_them() {
        let uri = |n: &str| PredicateType::from_name(n).map(|t| t.uri().to_owned()).ok();
        assert_eq!(uri("custom").as_deref(), Some(COSIGN_CUSTOM));
        assert_eq!(uri("slsaprovenance").as_deref(), Some(SLSA_PROVENANCE_V02));
        assert_eq!(
            uri("slsaprovenance02").as_deref(),
            Some(SLSA_PROVENANCE_V02)
        );
        assert_eq!(uri("slsaprovenance1").as_deref(), Some(SLSA_PROVENANCE_V1));
        assert_eq!(uri("spdx").as_deref(), Some(SPDX));
        assert_eq!(uri("spdxjson").as_deref(), Some(SPDX));
        assert_eq!(uri("cyclonedx").as_deref(), Some(CYCLONEDX));
        assert_eq!(uri("link").as_deref(), Some(LINK));
        assert_eq!(uri("vuln").as_deref(), Some(COSIGN_VULN));
        assert_eq!(uri("openvex").as_deref(), Some(OPENVEX));
        assert_eq!(
            uri("https://example.com/p/v1").as_deref(),
            Some("https://example.com/p/v1")
        );
        assert!(uri("provenance").is_none());
        assert!(uri("cosign.sigstore.dev/attestation/v1").is_none());
    }

    #[test]
    fn predicates_are_shaped_per_type() {
        let custom = PredicateType::from_name("custom").unwrap_or_else(|e| panic!("{e}"));
        let shaped = custom
            .shape_predicate(b"hi <there>".to_vec(), 1_649_359_345)
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&shaped),
            r#"{"Data":"hi \u003cthere\u003e","Timestamp":"2022-04-07T19:22:25Z"}"#
        );
        let spdx = PredicateType::from_name("spdx").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            spdx.shape_predicate(b"SPDXVersion: SPDX-2.2\n".to_vec(), 0)
                .ok(),
            Some(br#""SPDXVersion: SPDX-2.2\n""#.to_vec())
        );
        let json = PredicateType::from_name("spdxjson").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            json.shape_predicate(b"not json".to_vec(), 0),
            Err(StatementError::NotJsonObject { .. })
        ));
        assert!(matches!(
            json.shape_predicate(b"[1]".to_vec(), 0),
            Err(StatementError::NotJsonObject { .. })
        ));
        let link = PredicateType::from_name("link").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            link.shape_predicate(b"{\"name\":\"x\"}".to_vec(), 0),
            Err(StatementError::MissingField { field: "_type", .. })
        ));
        let slsa1 = PredicateType::from_name("slsaprovenance1").unwrap_or_else(|e| panic!("{e}"));
        let shaped = slsa1
            .shape_predicate(
                br#"{"runDetails":{"metadata":{"invocationID":"42"}}}"#.to_vec(),
                0,
            )
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&shaped),
            r#"{"runDetails":{"metadata":{"invocationId":"42"}}}"#
        );
    }

    #[test]
    fn statements_round_trip_and_subjects_match() {
        let statement = build_statement("reg/app", "abc", SPDX, br#"{"spdxVersion":"SPDX-2.3"}"#);
        let parsed = Statement::parse(&statement).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.statement_type, STATEMENT_V1);
        assert_eq!(parsed.predicate_type, SPDX);
        assert_eq!(parsed.match_sha256("abc"), SubjectMatch::Matches);
        assert_eq!(parsed.match_sha256("abd"), SubjectMatch::NoneMatch);
        let null = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x","subject":[null],"predicate":"x"}"#;
        assert_eq!(
            Statement::parse(null).map(|s| s.match_sha256("abc")).ok(),
            Some(SubjectMatch::NullSubject)
        );
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_649_359_345), "2022-04-07T19:22:25Z");
    }
}
