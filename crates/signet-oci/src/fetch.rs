//! Bounded reads from a registry: one GET whose body is never buffered past a limit.
//!
//! oci-client's manifest pull buffers the whole body (and its blob pull the whole body of an
//! error answer) before a caller can look at its size, so signet reads manifests and blobs
//! here, with the token oci-client obtained. A `Content-Length` over the limit is refused
//! before a byte of the body is read; a body without one is counted while it streams and
//! dropped as soon as it goes over. Error answers are read up to [`MAX_ERROR_BODY_BYTES`] for
//! their message. Redirects are followed by reqwest's default policy (at most 10, loops
//! refused, `Authorization` dropped when the host changes).

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap};

/// How much of an error answer's body is read for its message.
const MAX_ERROR_BODY_BYTES: usize = 4096;

/// How much of an error message from a registry is shown.
const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// Most memory reserved up front for a body, whatever its `Content-Length` says.
const MAX_INITIAL_CAPACITY: usize = 1024 * 1024;

/// How a request authenticates.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// No `Authorization` header.
    Anonymous,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic authentication.
    Basic(String, String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret itself.
        f.write_str(match self {
            Self::Anonymous => "Anonymous",
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Basic(..) => "Basic(<redacted>)",
        })
    }
}

/// A body read whole, within its limit.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The bytes.
    pub(crate) body: Vec<u8>,
    /// The `Docker-Content-Digest` header, if the registry sent one.
    pub(crate) digest_header: Option<String>,
}

/// Why a bounded GET failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The request could not be sent or no answer arrived (refused, reset, timed out).
    #[error("the request failed")]
    Transport(#[source] reqwest::Error),
    /// The answer's body broke off or stalled before its end.
    #[error("the answer broke off before its end")]
    Body(#[source] reqwest::Error),
    /// The redirects did not end (a loop, or more than 10).
    #[error("the registry redirected in a loop or more than 10 times")]
    Redirect(#[source] reqwest::Error),
    /// 404: there is nothing under that name.
    #[error("not found")]
    NotFound,
    /// 401 or 403.
    #[error("access refused (HTTP {0})")]
    Unauthorized(StatusCode),
    /// Any other answer than 200, with the registry's message (bounded, sanitised).
    #[error("HTTP {status}{message}")]
    Status {
        /// The status code.
        status: StatusCode,
        /// `": <message>"` or empty.
        message: String,
    },
    /// The body is, or says it is, over the limit; it was not read past the limit.
    #[error("the answer is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
}

impl FetchError {
    /// Whether repeating the request may succeed: a transport failure, a body that broke
    /// off, a 5xx or 429 answer.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Self::Transport(e) => e.is_timeout() || e.is_connect() || e.is_request(),
            Self::Body(_) => true,
            Self::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Redirect(_) | Self::NotFound | Self::Unauthorized(_) | Self::TooLarge { .. } => {
                false
            }
        }
    }
}

/// `GET url` with `accept` and `credentials`, reading at most `limit` bytes of body.
pub(crate) async fn get_bounded(
    http: &reqwest::Client,
    url: &str,
    accept: Option<&str>,
    credentials: &Credentials,
    limit: u64,
) -> Result<Fetched, FetchError> {
    let mut response = send_get(http, url, accept, credentials, limit).await?;
    let digest_header = digest_header(response.headers());
    let expected = response.content_length().unwrap_or(0);
    let capacity = usize::try_from(expected)
        .unwrap_or(usize::MAX)
        .min(MAX_INITIAL_CAPACITY);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(FetchError::Body)? {
        let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if total > limit {
            return Err(FetchError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        body,
        digest_header,
    })
}

/// `GET url` with `accept` and `credentials`: the answer, if it is a 200 whose
/// `Content-Length` (when given) is at most `limit`, with its body not yet read.
pub(crate) async fn send_get(
    http: &reqwest::Client,
    url: &str,
    accept: Option<&str>,
    credentials: &Credentials,
    limit: u64,
) -> Result<reqwest::Response, FetchError> {
    let mut request = http.get(url);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    request = match credentials {
        Credentials::Anonymous => request,
        Credentials::Bearer(token) => request.bearer_auth(token),
        Credentials::Basic(user, password) => request.basic_auth(user, Some(password)),
    };
    let mut response = request.send().await.map_err(|e| {
        if e.is_redirect() {
            FetchError::Redirect(e)
        } else {
            FetchError::Transport(e)
        }
    })?;
    let status = response.status();
    match status {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Err(FetchError::NotFound),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return Err(FetchError::Unauthorized(status));
        }
        _ => {
            let message = error_message(&mut response).await;
            return Err(FetchError::Status { status, message });
        }
    }
    if response.content_length().is_some_and(|len| len > limit) {
        // Dropped unread: the connection is closed, not drained.
        return Err(FetchError::TooLarge { limit });
    }
    Ok(response)
}

/// The `Docker-Content-Digest` header as text, if present and readable.
fn digest_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// `": <message>"` from the first bytes of an error answer, or empty: the OCI error envelope's
/// codes and messages if it is one, else the text. Control characters are dropped, since the
/// message ends up on a terminal.
async fn error_message(response: &mut reqwest::Response) -> String {
    let mut head = Vec::new();
    while head.len() < MAX_ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ERROR_BODY_BYTES - head.len();
                head.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
            }
            Ok(None) | Err(_) => break,
        }
    }
    let text = envelope_message(&head).unwrap_or_else(|| String::from_utf8_lossy(&head).into());
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_MESSAGE_CHARS)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        String::new()
    } else {
        format!(": {clean}")
    }
}

/// `CODE: message; …` from an OCI error envelope (`{"errors": [{"code", "message"}]}`).
fn envelope_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: Option<String>,
        message: Option<String>,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let parts: Vec<String> = envelope
        .errors
        .into_iter()
        .map(|e| match (e.code, e.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_messages_are_joined() {
        let body = br#"{"errors":[{"code":"UNAVAILABLE","message":"try later"},{"code":"X"}]}"#;
        assert_eq!(
            envelope_message(body).as_deref(),
            Some("UNAVAILABLE: try later; X")
        );
        assert_eq!(envelope_message(b"<html>"), None);
    }

    #[test]
    fn credentials_never_print() {
        let debug = format!("{:?}", Credentials::Basic("u".into(), "hunter2".into()));
        assert!(!debug.contains("hunter2"));
    }
}
