//! The one place the KMS backend sends HTTP requests, through signet's one configured HTTP
//! client (`signet_oci::http`: timeouts, TLS roots, proxies from the environment, user agent).

use std::time::Duration;

/// How long a whole KMS call may take (a signature is one small request).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest KMS answer read: GetPublicKey for RSA-4096 is about 1 KiB.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An HTTP client for one KMS endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

/// A KMS answer: status and (bounded) body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The body was longer than [`MAX_RESPONSE_BYTES`] and cut.
    pub(crate) truncated: bool,
}

impl Transport {
    pub(crate) fn new() -> Result<Self, signet_oci::http::HttpError> {
        let client = signet_oci::http::client(&signet_oci::http::HttpSettings::default())?;
        Ok(Self { client })
    }

    /// POSTs `body` to `url` with `headers`, reading at most [`MAX_RESPONSE_BYTES`] back.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Response, reqwest::Error> {
        let mut request = self.client.post(url).timeout(REQUEST_TIMEOUT).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_RESPONSE_BYTES - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            body,
            truncated,
        })
    }
}
