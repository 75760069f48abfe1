//! `AdmissionReview` (`admission.k8s.io/v1`) as an API server sends and expects it.
//!
//! Only what signet reads is typed; every other field of the request is accepted and ignored
//! (API servers add fields over time). The response echoes the request's `uid` and sets
//! `allowed`, and when there is something to say: `status` (code 403 and a message naming each
//! refused image), `warnings`, and a base64 JSON `patch`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only version signet answers (the webhook configuration asks for `[v1]`).
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// The largest request body read. An object is at most about 1.5 MiB in etcd; an UPDATE
/// carries two of them.
pub const MAX_REVIEW_BYTES: usize = 6 << 20;

/// A group, version and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupVersionKind {
    /// The API group (`""` for the core group).
    #[serde(default)]
    pub group: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// The kind.
    #[serde(default)]
    pub kind: String,
}

/// What is being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// A new object.
    Create,
    /// A changed object (including subresource updates such as `pods/ephemeralcontainers`).
    Update,
    /// An object going away.
    Delete,
    /// A connection (exec, attach, port-forward, proxy).
    Connect,
}

impl Operation {
    /// The operation as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
        }
    }
}

/// The request part of an `AdmissionReview`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AdmissionRequest {
    /// Echoed in the response.
    pub uid: String,
    /// The kind of `object` (after conversion to the version the webhook registered for).
    pub kind: GroupVersionKind,
    /// The subresource (`ephemeralcontainers` for `kubectl debug`), if any.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// The object's name (absent on CREATE with `generateName`).
    #[serde(default)]
    pub name: Option<String>,
    /// The object's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// What is being done.
    pub operation: Operation,
    /// Who is doing it (`username` is logged).
    #[serde(default)]
    pub user_info: Option<Value>,
    /// The object as it would be stored (CREATE, UPDATE).
    #[serde(default)]
    pub object: Option<Value>,
    /// The object as it is stored (UPDATE, DELETE).
    #[serde(default)]
    pub old_object: Option<Value>,
    /// Whether nothing will be persisted (`kubectl --dry-run=server`).
    #[serde(default)]
    pub dry_run: Option<bool>,
}

impl AdmissionRequest {
    /// The requesting user's name, when the API server says it.
    pub fn username(&self) -> Option<&str> {
        self.user_info
            .as_ref()
            .and_then(|u| u.get("username"))
            .and_then(Value::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewEnvelope {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<AdmissionRequest>,
}

/// Why a body is not an `AdmissionReview` request signet answers (HTTP 400).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// Not JSON, or a field of the wrong type.
    #[error("the body is not an AdmissionReview")]
    Json(#[source] serde_json::Error),
    /// Another kind or version.
    #[error(
        "expected kind AdmissionReview, apiVersion {API_VERSION}; got kind {kind:?}, apiVersion {api_version:?}"
    )]
    Version {
        /// The kind sent.
        kind: String,
        /// The apiVersion sent.
        api_version: String,
    },
    /// No `request`, or a request without a `uid`.
    #[error("the AdmissionReview has no request uid")]
    NoRequest,
}

/// Parses a request body.
pub fn parse_review(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let envelope: ReviewEnvelope = serde_json::from_slice(body).map_err(ReviewError::Json)?;
    if envelope.kind != "AdmissionReview" || envelope.api_version != API_VERSION {
        return Err(ReviewError::Version {
            kind: envelope.kind.chars().take(64).collect(),
            api_version: envelope.api_version.chars().take(64).collect(),
        });
    }
    match envelope.request {
        Some(request) if !request.uid.is_empty() => Ok(request),
        _ => Err(ReviewError::NoRequest),
    }
}

/// A `metav1.Status` in a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// 403 for a refusal.
    pub code: u16,
    /// Why, for the user (kubectl prints it after "admission webhook … denied the request:").
    pub message: String,
    /// `Forbidden`.
    pub reason: &'static str,
}

/// The response part of an `AdmissionReview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's uid.
    pub uid: String,
    /// Whether the request may go on.
    pub allowed: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// A base64 JSON patch (RFC 6902) pinning tags to verified digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// `JSONPatch` when there is a patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// Warnings for the user (kubectl prints each as `Warning: …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AdmissionResponse {
    /// Allowed, nothing else to say.
    pub fn allow(uid: &str) -> Self {
        Self {
            uid: uid.to_owned(),
            allowed: true,
            status: None,
            patch: None,
            patch_type: None,
            warnings: Vec::new(),
        }
    }
}

/// A whole `AdmissionReview` response body.
pub fn review_body(response: &AdmissionResponse) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope<'a> {
        api_version: &'static str,
        kind: &'static str,
        response: &'a AdmissionResponse,
    }
    // Serialising plain strings and booleans cannot fail.
    serde_json::to_vec(&Envelope {
        api_version: API_VERSION,
        kind: "AdmissionReview",
        response,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_an_api_server_sends_and_ignores_the_rest() {
        let body = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{
            "uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind":{"group":"","version":"v1","kind":"Pod"},
            "resource":{"group":"","version":"v1","resource":"pods"},
            "subResource":"ephemeralcontainers",
            "requestKind":{"group":"","version":"v1","kind":"Pod"},
            "requestResource":{"group":"","version":"v1","resource":"pods"},
            "requestSubResource":"ephemeralcontainers",
            "name":"web-0","namespace":"shop","operation":"UPDATE",
            "userInfo":{"username":"admin","groups":["system:authenticated"]},
            "object":{"apiVersion":"v1","kind":"Pod"},"oldObject":{"apiVersion":"v1","kind":"Pod"},
            "dryRun":false,
            "options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1"},
            "somethingNew":{"added":"in a later release"}}}"#;
        let request = parse_review(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.operation, Operation::Update);
        assert_eq!(request.sub_resource.as_deref(), Some("ephemeralcontainers"));
        assert_eq!(request.username(), Some("admin"));
        assert_eq!(request.dry_run, Some(false));
    }

    #[test]
    fn refuses_other_versions_and_missing_uids() {
        let v1beta1 = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"x","kind":{},"operation":"CREATE"}}"#;
        assert!(matches!(
            parse_review(v1beta1),
            Err(ReviewError::Version { .. })
        ));
        let no_uid = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"","kind":{},"operation":"CREATE"}}"#;
        assert!(matches!(parse_review(no_uid), Err(ReviewError::NoRequest)));
        assert!(matches!(
            parse_review(b"{not json"),
            Err(ReviewError::Json(_))
        ));
    }

    #[test]
    fn response_shape() {
        let mut response = AdmissionResponse::allow("u-1");
        response.warnings.push("signet: w".to_owned());
        let body: Value = serde_json::from_slice(&review_body(&response)).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": { "uid": "u-1", "allowed": true, "warnings": ["signet: w"] }
            })
        );
    }
}
