//! The one HTTP client configuration of signet: every request signet makes — to registries,
//! to Sigstore's Fulcio, Rekor and timestamp authorities, to key-management services — goes
//! through a client built here, so that all of them have the same timeouts, TLS roots (rustls on
//! aws-lc-rs, the platform's trust store), proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` from
//! the environment, as reqwest reads them), user agent, and bounded answers.

use std::time::Duration;

use crate::TlsPolicy;

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a read may wait for the next bytes.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// signet's user agent.
pub const USER_AGENT: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));

/// How a client reaches HTTP services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Whether certificates are verified.
    pub tls: TlsPolicy,
    /// Whether the platform's trust store is loaded (it costs milliseconds per process; a
    /// client that only speaks plain HTTP to a loopback registry does not need it).
    pub trust_store: TrustStore,
}

/// Whether a client loads the platform's trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrustStore {
    /// Load it (HTTPS).
    #[default]
    Platform,
    /// Plain HTTP only: no certificate will ever be verified.
    None,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            tls: TlsPolicy::Verify,
            trust_store: TrustStore::Platform,
        }
    }
}

/// Why an HTTP exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The client could not be built (the TLS configuration is unusable).
    #[error("building the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The request could not be sent or the answer not read (connection, TLS, timeout).
    #[error("{method} {url}")]
    Transport {
        /// The method.
        method: &'static str,
        /// The URL, without credentials.
        url: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The answer is larger than the caller allows.
    #[error("{method} {url}: the answer is larger than {limit} bytes")]
    TooLarge {
        /// The method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
}

/// A client with signet's timeouts, TLS, proxies and user agent.
pub fn client(settings: &HttpSettings) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder()
        .danger_accept_invalid_certs(settings.tls == TlsPolicy::DangerAcceptInvalidCertificates)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(USER_AGENT);
    if settings.trust_store == TrustStore::None {
        builder = builder.tls_certs_only(std::iter::empty());
    }
    builder.build().map_err(HttpError::Client)
}

/// A response's status and body, the body read up to `limit` bytes (a longer answer is an
/// error, and is not read further).
pub async fn read_bounded(
    method: &'static str,
    url: &str,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(reqwest::StatusCode, Vec<u8>), HttpError> {
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| HttpError::Transport {
            method,
            url: url.to_owned(),
            source,
        })?
    {
        if body.len() + chunk.len() > limit {
            return Err(HttpError::TooLarge {
                method,
                url: url.to_owned(),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}
