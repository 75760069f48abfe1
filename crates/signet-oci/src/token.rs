//! The registry token flow (Docker Registry HTTP API v2 token authentication) for reads,
//! with every response body bounded.
//!
//! A registry that wants a token answers `GET /v2/` with 401 and
//! `WWW-Authenticate: Bearer realm="…",service="…"`; the token comes from the realm, asked for
//! `scope=repository:<name>:pull` (with the Docker config's basic credentials, if any), as JSON
//! `{"token": …}` or `{"access_token": …}`. The realm may be another server than the registry,
//! so its answer is as untrusted as any: it is read only up to [`MAX_TOKEN_RESPONSE_BYTES`].
//! A registry answering 200, or challenging for `Basic`, needs no token.

use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;

use crate::fetch::{Credentials, FetchError, get_bounded};

/// The largest token response read. Real ones are 1–4 KiB (a JWT and a few fields).
pub(crate) const MAX_TOKEN_RESPONSE_BYTES: u64 = 64 * 1024;

/// The largest `WWW-Authenticate` header parsed.
const MAX_CHALLENGE_BYTES: usize = 4096;

/// A bearer challenge's parameters.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

/// The bearer token for reading `repository` from the registry at `base`
/// (`scheme://host[:port]`), or `None` when the registry needs none.
pub(crate) async fn pull_token(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    credentials: &Credentials,
) -> Result<Option<String>, FetchError> {
    let ping = http
        .get(format!("{base}/v2/"))
        .send()
        .await
        .map_err(FetchError::Transport)?;
    let status = ping.status();
    if status != StatusCode::UNAUTHORIZED {
        // 200 (open), or anything else: the reads themselves will say what is wrong.
        return Ok(None);
    }
    let Some(challenge) = ping
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_CHALLENGE_BYTES)
        .and_then(parse_bearer_challenge)
    else {
        // Basic (or no) challenge: reads carry the basic credentials themselves.
        return Ok(None);
    };
    drop(ping);
    let mut url = reqwest::Url::parse(&challenge.realm).map_err(|_| FetchError::Status {
        status,
        message: ": the token realm is not a URL".to_owned(),
    })?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = &challenge.service {
            query.append_pair("service", service);
        }
        query.append_pair("scope", &format!("repository:{repository}:pull"));
    }
    let token_credentials = match credentials {
        Credentials::Basic(..) => credentials.clone(),
        _ => Credentials::Anonymous,
    };
    let fetched = get_bounded(
        http,
        url.as_str(),
        Some("application/json"),
        &token_credentials,
        MAX_TOKEN_RESPONSE_BYTES,
    )
    .await?;
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
    }
    let response: TokenResponse =
        serde_json::from_slice(&fetched.body).map_err(|_| FetchError::Status {
            status: StatusCode::OK,
            message: ": the token response is not JSON with a token".to_owned(),
        })?;
    match response.token.or(response.access_token) {
        Some(token) if !token.is_empty() => Ok(Some(token)),
        _ => Err(FetchError::Status {
            status: StatusCode::OK,
            message: ": the token response holds no token".to_owned(),
        }),
    }
}

/// `Bearer realm="…",service="…",scope="…"` → its realm and service; `None` for another
/// scheme or a challenge without a realm.
fn parse_bearer_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.as_str() {
            "realm" => realm = Some(value.to_owned()),
            "service" => service = Some(value.to_owned()),
            _ => {}
        }
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: realm?,
        service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse_as_docker_hub_and_ghcr_send_them() {
        assert_eq!(
            parse_bearer_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
            ),
            Some(Challenge {
                realm: "https://auth.docker.io/token".to_owned(),
                service: Some("registry.docker.io".to_owned()),
            })
        );
        assert_eq!(
            parse_bearer_challenge(r#"bearer realm="https://ghcr.io/token", service=ghcr.io"#),
            Some(Challenge {
                realm: "https://ghcr.io/token".to_owned(),
                service: Some("ghcr.io".to_owned()),
            })
        );
        assert_eq!(parse_bearer_challenge(r#"Basic realm="Registry""#), None);
        assert_eq!(parse_bearer_challenge(r#"Bearer service="x""#), None);
        assert_eq!(
            parse_bearer_challenge(r#"Bearer realm="unterminated"#),
            None
        );
        assert_eq!(parse_bearer_challenge("Bearer"), None);
    }
}
