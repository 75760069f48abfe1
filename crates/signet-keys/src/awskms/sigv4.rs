//! AWS Signature Version 4 for the few KMS calls signet makes.
//!
//! Written here rather than taken from the `aws-sigv4` crate (21 more packages, a newer Rust
//! than the workspace's) or the AWS SDK (44 more, `ring` among them): a SigV4 signature is a
//! canonical request, a string to sign and an HMAC-SHA256 chain, which aws-lc-rs already
//! provides. It is held to AWS's published SigV4 test suite (`tests/data/aws-signing-test-suite`,
//! checked below) and, end to end, to moto's server, which recomputes every signature with
//! botocore when its authentication is on.

use std::fmt;

use aws_lc_rs::{digest, hmac};
use zeroize::Zeroizing;

/// Long-term or temporary AWS credentials. The secret and the session token never print.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(Zeroizing::new),
        }
    }

    /// The access key id (not secret: AWS puts it in every signed request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials({}, secret <redacted>{})",
            self.access_key_id,
            if self.session_token.is_some() {
                ", session token <redacted>"
            } else {
                ""
            }
        )
    }
}

/// The time of a request, as SigV4 writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AmzDate {
    /// `YYYYMMDD`.
    date: String,
    /// `YYYYMMDDTHHMMSSZ`.
    datetime: String,
}

impl AmzDate {
    /// The time `seconds` after the Unix epoch (UTC).
    pub(crate) fn from_unix(seconds: u64) -> Self {
        let days = seconds / 86_400;
        let rest = seconds % 86_400;
        let (year, month, day) = civil_from_days(days);
        let date = format!("{year:04}{month:02}{day:02}");
        let datetime = format!(
            "{date}T{:02}{:02}{:02}Z",
            rest / 3600,
            (rest % 3600) / 60,
            rest % 60
        );
        Self { date, datetime }
    }
}

/// Year, month, day of the day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// An HTTP request to sign. `path` and `query` are as they will be sent (query without `?`).
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a [u8],
}

/// How to sign: the suite varies these; KMS calls use [`Options::default`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Remove `.`/`..` segments and repeated slashes from the path (all services but S3).
    pub(crate) normalize_path: bool,
    /// Add and sign `x-amz-content-sha256` (S3 style).
    pub(crate) sign_body: bool,
    /// Add the session token after signing instead of signing it (a few services).
    pub(crate) omit_session_token: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            normalize_path: true,
            sign_body: false,
            omit_session_token: false,
        }
    }
}

/// A signed request: the headers to add, and the intermediate texts the suite checks.
#[derive(Debug)]
pub(crate) struct Signed {
    /// Headers to add to the request (`X-Amz-Date`, `Authorization`, and the session token
    /// and body hash when they apply).
    pub(crate) headers: Vec<(String, String)>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) canonical_request: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) string_to_sign: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) signature: String,
}

/// Signs `request` for `service` in `region` at `time`.
pub(crate) fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: &AmzDate,
    options: Options,
) -> Signed {
    let payload_hash = hex(digest::digest(&digest::SHA256, request.body).as_ref());
    let mut added = vec![("X-Amz-Date".to_owned(), time.datetime.clone())];
    if options.sign_body {
        added.push(("X-Amz-Content-Sha256".to_owned(), payload_hash.clone()));
    }
    let token_header = credentials
        .session_token
        .as_ref()
        .map(|t| ("X-Amz-Security-Token".to_owned(), t.to_string()));
    if !options.omit_session_token
        && let Some(header) = &token_header
    {
        added.push(header.clone());
    }

    // Lower-case names, values trimmed with inner whitespace runs collapsed, duplicates
    // joined with commas in their order, sorted by name.
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in request.headers.iter().chain(added.iter()) {
        let name = name.to_ascii_lowercase();
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();

    // As aws-c-auth: the path is taken as sent (percent-encoded), decoded, and encoded once
    // more by SigV4's rules.
    let path = if options.normalize_path {
        normalize(request.path)
    } else {
        request.path.to_owned()
    };
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        request.method,
        encode(&decode(&path), false),
        canonical_query(request.query),
    );

    let scope = format!("{}/{region}/{service}/aws4_request", time.date);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        time.datetime,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let mut key =
        Zeroizing::new(format!("AWS4{}", credentials.secret_access_key.as_str()).into_bytes());
    for part in [time.date.as_str(), region, service, "aws4_request"] {
        key = Zeroizing::new(
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes())
                .as_ref()
                .to_vec(),
        );
    }
    let signature = hex(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        string_to_sign.as_bytes(),
    )
    .as_ref());

    added.push((
        "Authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    if options.omit_session_token
        && let Some(header) = token_header
    {
        added.push(header);
    }
    Signed {
        headers: added,
        canonical_request,
        string_to_sign,
        signature,
    }
}

/// The path with empty, `.` and `..` segments resolved (RFC 3986 §5.2.4, and `//` as `/`),
/// keeping a trailing slash.
fn normalize(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The query's parameters decoded, re-encoded strictly, and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(key), true), encode(&decode(value), true))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `%XX` sequences as bytes; anything else as it is.
fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX` (upper case); `/`
/// too when `slash` is set.
fn encode(bytes: &[u8], slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && !slash)
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        // 2015-08-30T12:36:00Z, the suite's timestamp; 2000-02-29 and 2024-12-31 around leap days.
        assert_eq!(
            AmzDate::from_unix(1_440_938_160).datetime,
            "20150830T123600Z"
        );
        assert_eq!(AmzDate::from_unix(951_782_400).date, "20000229");
        assert_eq!(
            AmzDate::from_unix(1_735_689_599).datetime,
            "20241231T235959Z"
        );
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let credentials = Credentials::new("AKID", "s3cret", Some("t0ken".to_owned()));
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID") && !shown.contains("s3cret") && !shown.contains("t0ken"));
    }

    /// AWS's SigV4 test suite (aws-c-auth's `aws-signing-test-suite/v4`, Apache-2.0, as
    /// shipped in the `aws-sigv4` 1.6.4 crate): for every case, the canonical request, the
    /// string to sign and the signature of header-based signing.
    #[test]
    fn aws_sigv4_test_suite() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/aws-signing-test-suite/v4");
        let mut cases: Vec<_> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .collect();
        cases.sort();
        let mut checked = 0;
        for case in cases {
            let read = |name: &str| {
                std::fs::read_to_string(case.join(name))
                    .unwrap_or_else(|e| panic!("{}/{name}: {e}", case.display()))
            };
            let context: serde_json::Value =
                serde_json::from_str(&read("context.json")).unwrap_or_else(|e| panic!("{e}"));
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            let credentials = Credentials::new(
                text(&context["credentials"]["access_key_id"]),
                text(&context["credentials"]["secret_access_key"]),
                context["credentials"]["token"].as_str().map(str::to_owned),
            );
            let timestamp = text(&context["timestamp"]); // 2015-08-30T12:36:00Z
            let datetime = timestamp.replace(['-', ':'], "");
            let time = AmzDate {
                date: datetime[..8].to_owned(),
                datetime,
            };
            let options = Options {
                normalize_path: context["normalize"].as_bool().unwrap_or(true),
                sign_body: context["sign_body"].as_bool().unwrap_or(false),
                omit_session_token: context["omit_session_token"].as_bool().unwrap_or(false),
            };
            let raw = read("request.txt");
            let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
            let mut lines = head.lines();
            let request_line = lines.next().unwrap_or_default();
            let (method, rest) = request_line.split_once(' ').unwrap_or_default();
            let target = rest.strip_suffix(" HTTP/1.1").unwrap_or(rest);
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let mut headers: Vec<(String, String)> = Vec::new();
            for line in lines {
                if line.starts_with([' ', '\t']) {
                    if let Some((_, value)) = headers.last_mut() {
                        value.push(' ');
                        value.push_str(line);
                    }
                } else if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.to_owned(), value.to_owned()));
                }
            }
            let signed = sign(
                &Request {
                    method,
                    path,
                    query,
                    headers: &headers,
                    body: body.as_bytes(),
                },
                &credentials,
                &text(&context["region"]),
                &text(&context["service"]),
                &time,
                options,
            );
            let name = case.display();
            assert_eq!(
                signed.canonical_request,
                read("header-canonical-request.txt"),
                "{name}"
            );
            assert_eq!(
                signed.string_to_sign,
                read("header-string-to-sign.txt"),
                "{name}"
            );
            assert_eq!(
                signed.signature,
                read("header-signature.txt").trim(),
                "{name}"
            );
            checked += 1;
        }
        assert_eq!(checked, 38, "the suite has 38 header-signing cases");
    }
}
