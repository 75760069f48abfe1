//! Gatekeeper's external data provider protocol (`externaldata.gatekeeper.sh/v1beta1`), so
//! that Gatekeeper users get signet as their verifier.
//!
//! Gatekeeper POSTs a `ProviderRequest` whose `keys` are image references; signet answers a
//! `ProviderResponse` with one item per key, in order. An admitted image's `value` is the
//! image pinned to the digest that was verified (`image@sha256:…`, or the image as given when
//! it named a digest), which a mutation's `externalData` can write back as tag-to-digest
//! providers do; a refused image (or one that could not be verified, under the closed
//! failure mode) gets an `error` saying why, which a constraint template turns into a
//! violation. `idempotent` is true: the same key gets the same answer while the policy and
//! the tag's content stay the same. `systemError` is set only when the request itself cannot
//! be answered.

use serde::{Deserialize, Serialize};

use crate::decide::{Disposition, FailureMode, ImageDecision};
use crate::workload::ImageSite;

/// The API version of both messages.
pub const API_VERSION: &str = "externaldata.gatekeeper.sh/v1beta1";

/// The most keys answered in one request.
pub const MAX_KEYS: usize = 1024;

/// The largest request body read.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderRequest {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<Keys>,
}

#[derive(Debug, Deserialize)]
struct Keys {
    #[serde(default)]
    keys: Vec<String>,
}

/// Why a body is not a `ProviderRequest` signet answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Not JSON, or not of the request's shape.
    #[error("the body is not a ProviderRequest")]
    Json(#[source] serde_json::Error),
    /// Another kind or version.
    #[error("expected kind ProviderRequest, apiVersion {API_VERSION}")]
    Version,
    /// More keys than [`MAX_KEYS`].
    #[error("more than {MAX_KEYS} keys in one request")]
    TooManyKeys,
}

/// The image sites of a `ProviderRequest` body: one per key (`keys[3]`).
pub fn parse_provider_request(body: &[u8]) -> Result<Vec<ImageSite>, ProviderError> {
    let request: ProviderRequest = serde_json::from_slice(body).map_err(ProviderError::Json)?;
    if request.kind != "ProviderRequest" || request.api_version != API_VERSION {
        return Err(ProviderError::Version);
    }
    let keys = request.request.map(|r| r.keys).unwrap_or_default();
    if keys.len() > MAX_KEYS {
        return Err(ProviderError::TooManyKeys);
    }
    Ok(keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| ImageSite::new(format!("/keys/{i}"), format!("keys[{i}]"), key))
        .collect())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderResponse<'a> {
    api_version: &'static str,
    kind: &'static str,
    response: Response<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    idempotent: bool,
    items: Vec<Item<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    system_error: &'a str,
}

#[derive(Debug, Serialize)]
struct Item<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The `ProviderResponse` body for `decisions` (one per key, in order).
pub fn provider_response(decisions: &[ImageDecision], failure_mode: FailureMode) -> Vec<u8> {
    let items = decisions
        .iter()
        .map(|decision| {
            let key = decision.site().image();
            match decision.disposition(failure_mode) {
                Disposition::Deny(why) => Item {
                    key,
                    value: None,
                    error: Some(format!("signet: {key}: {why}")),
                },
                // Admitted: pinned to what was verified; an image admitted without being
                // verified (open failure mode) is passed back as given.
                Disposition::Allow | Disposition::Warn(_) => Item {
                    key,
                    value: Some(if decision.unverified() {
                        key.to_owned()
                    } else {
                        crate::respond::pinned_image(decision).unwrap_or_else(|| key.to_owned())
                    }),
                    error: None,
                },
            }
        })
        .collect();
    body(items, "")
}

/// A `ProviderResponse` carrying only a system error.
pub fn system_error(message: &str) -> Vec<u8> {
    body(Vec::new(), message)
}

fn body(items: Vec<Item<'_>>, system_error: &str) -> Vec<u8> {
    // Serialising strings cannot fail.
    serde_json::to_vec(&ProviderResponse {
        api_version: API_VERSION,
        kind: "ProviderResponse",
        response: Response {
            idempotent: true,
            items,
            system_error,
        },
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_become_sites_in_order() {
        let body = br#"{"apiVersion":"externaldata.gatekeeper.sh/v1beta1","kind":"ProviderRequest","request":{"keys":["nginx:1","r.example/a@sha256:00"]}}"#;
        let sites = parse_provider_request(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sites.len(), 2);
        assert_eq!(sites[1].path(), "keys[1]");
        assert_eq!(sites[0].image(), "nginx:1");
        assert!(matches!(
            parse_provider_request(br#"{"apiVersion":"v1","kind":"ProviderRequest"}"#),
            Err(ProviderError::Version)
        ));
    }

    #[test]
    fn system_error_shape() {
        let value: serde_json::Value =
            serde_json::from_slice(&system_error("broken")).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::json!({
                "apiVersion": API_VERSION, "kind": "ProviderResponse",
                "response": { "idempotent": true, "items": [], "systemError": "broken" }
            })
        );
    }
}
