//! Keys in AWS KMS, named as Cosign names them: `awskms://[ENDPOINT]/KEY`, where KEY is a key
//! id, a key ARN, `alias/NAME` or an alias ARN (sigstore's `kms/aws` reference formats).
//!
//! Four KMS calls, over KMS's JSON protocol signed with SigV4 ([`sigv4`]): `GetPublicKey` when
//! the key is opened (its public key, spec and signing algorithms), `Sign` with
//! `MessageType: DIGEST` for each signature (only the digest travels, so a 1 GiB file is
//! hashed locally as a stream), and `CreateKey` + `CreateAlias` for `generate-key-pair --kms`.
//!
//! The algorithm follows the key: ECDSA P-256/P-384/P-521 sign SHA-256/384/512 digests
//! (`ECDSA_SHA_*`), RSA keys `RSASSA_PKCS1_V1_5_SHA_256`, the scheme every Cosign verifier
//! expects of an RSA key. Every signature is checked against the public key before use.
//!
//! An endpoint in the reference is reached over HTTPS, as Cosign does; `AWS_ENDPOINT_URL_KMS`
//! (or `AWS_ENDPOINT_URL`, or the profile's `endpoint_url`) may name a full URL, plain HTTP
//! only to a loopback address (a local emulator).

mod settings;
pub mod sigv4;
mod transport;

use std::fmt;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::{KeyKind, PublicKey};

pub use settings::AwsSettings;

use crate::error::Error;
use crate::key::{BoxFuture, SigningKey};
use crate::text::truncate;

/// The prefix of an AWS KMS key reference.
pub const SCHEME: &str = "awskms://";

/// The key spec `generate-key-pair --kms awskms://…` creates, as Cosign does.
const CREATED_KEY_SPEC: &str = "ECC_NIST_P256";

static KEY_REFERENCE: LazyLock<regex::Regex> = LazyLock::new(|| {
    // sigstore/sigstore pkg/signature/kms/aws/client.go: key id, key ARN, alias name, alias ARN.
    let uuid =
        r"m?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}";
    let arn = r"arn:(?:aws|aws-us-gov|aws-cn):kms:([a-z0-9-]+):\d{12}:";
    #[allow(clippy::expect_used)] // a constant pattern, checked by every test that parses
    regex::Regex::new(&format!(
        r"^awskms://([^/]*)/(?:({uuid})|({arn}key/{uuid})|(alias/.*)|({arn}(alias/.*)))$"
    ))
    .expect("the awskms reference pattern compiles")
});

/// A parsed `awskms://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsKmsReference {
    endpoint: Option<String>,
    key: String,
    alias: Option<String>,
    arn_region: Option<String>,
}

impl fmt::Display for AwsKmsReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}/{}",
            self.endpoint.as_deref().unwrap_or(""),
            self.key
        )
    }
}

impl AwsKmsReference {
    /// Reads `awskms://[ENDPOINT]/KEY` as sigstore's AWS KMS provider does.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let captures = KEY_REFERENCE
            .captures(text)
            .ok_or_else(|| Error::InvalidReference {
                reference: truncate(text, 200).to_owned(),
                reason:
                    "AWS KMS keys are awskms://[ENDPOINT]/KEY-ID, awskms://[ENDPOINT]/alias/NAME \
                         or awskms://[ENDPOINT]/ARN (the endpoint is optional)"
                        .to_owned(),
            })?;
        let group = |i: usize| captures.get(i).map(|m| m.as_str().to_owned());
        let endpoint = group(1).filter(|e| !e.is_empty());
        let (key, alias, arn_region) = if let Some(id) = group(2) {
            (id, None, None)
        } else if let Some(arn) = group(3) {
            (arn, None, group(4))
        } else if let Some(alias) = group(5) {
            (alias.clone(), Some(alias), None)
        } else {
            (group(6).unwrap_or_default(), group(8), group(7))
        };
        Ok(Self {
            endpoint,
            key,
            alias,
            arn_region,
        })
    }

    /// The key id, ARN or alias sent as `KeyId`.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Where and how requests for one key go.
#[derive(Debug)]
struct Client {
    transport: transport::Transport,
    url: String,
    host: String,
    region: String,
    credentials: sigv4::Credentials,
    key: String,
}

impl Client {
    fn new(reference: &AwsKmsReference, settings: &AwsSettings) -> Result<Self, Error> {
        let resolved = settings.resolve()?;
        let region = resolved
            .region
            .or_else(|| reference.arn_region.clone())
            .ok_or(Error::AwsRegion)?;
        let url = match (&reference.endpoint, resolved.endpoint) {
            (Some(host), _) => format!("https://{host}/"),
            (None, Some(url)) => url,
            (None, None) if region.starts_with("cn-") => {
                format!("https://kms.{region}.amazonaws.com.cn/")
            }
            (None, None) => format!("https://kms.{region}.amazonaws.com/"),
        };
        let invalid = |reason: &str| Error::InvalidReference {
            reference: reference.to_string(),
            reason: format!("the KMS endpoint {}: {reason}", truncate(&url, 200)),
        };
        let parsed = reqwest::Url::parse(&url).map_err(|_| invalid("is not a URL"))?;
        let host = parsed.host_str().ok_or_else(|| invalid("names no host"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => {
                return Err(invalid(
                    "plain HTTP is allowed only to a loopback address (a local emulator)",
                ));
            }
            _ => return Err(invalid("is neither https:// nor http://")),
        }
        let host = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let credentials = resolved.credentials.ok_or(Error::AwsCredentials {
            credentials_file: resolved.credentials_file,
        })?;
        let transport = transport::Transport::new()?;
        Ok(Self {
            transport,
            url: parsed.to_string(),
            host,
            region,
            credentials,
            key: reference.key.clone(),
        })
    }

    /// Calls KMS `operation` with `body`; a KMS error becomes a typed [`Error`].
    async fn call(
        &self,
        operation: &'static str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let body = body.to_string().into_bytes();
        let path = reqwest::Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| "/".to_owned());
        let headers = vec![
            ("Host".to_owned(), self.host.clone()),
            (
                "Content-Type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "X-Amz-Target".to_owned(),
                format!("TrentService.{operation}"),
            ),
        ];
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let signed = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                path: &path,
                query: "",
                headers: &headers,
                body: &body,
            },
            &self.credentials,
            &self.region,
            "kms",
            &sigv4::AmzDate::from_unix(now),
            sigv4::Options::default(),
        );
        let mut all = headers;
        all.extend(signed.headers);
        let response = self
            .transport
            .post(&self.url, &all, body)
            .await
            .map_err(|source| Error::KmsUnreachable {
                endpoint: self.url.clone(),
                operation,
                source,
            })?;
        let unreadable = |reason: String| Error::KmsResponse {
            operation,
            key: self.key.clone(),
            reason,
        };
        if response.truncated {
            return Err(unreadable(format!(
                "the answer is larger than {} bytes",
                transport::MAX_RESPONSE_BYTES
            )));
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        if response.status == 200 {
            return json.ok_or_else(|| unreadable("the answer is not JSON".to_owned()));
        }
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| {
                    json.as_ref()
                        .and_then(|j| j.get(n))
                        .and_then(|v| v.as_str())
                })
                .map(str::to_owned)
        };
        // KMS answers JSON, `__type` being `NotFoundException` or
        // `com.amazonaws.kms#NotFoundException`; an authentication failure may come as AWS's
        // XML `ErrorResponse` (from moto always), so its `<Code>` and `<Message>` count too.
        let text = String::from_utf8_lossy(&response.body);
        let code = field(&["__type", "code", "Code"])
            .or_else(|| xml_element(&text, "Code"))
            .map(|c| c.rsplit('#').next().unwrap_or(&c).to_owned())
            .unwrap_or_else(|| format!("HTTP {}", response.status));
        let message = field(&["message", "Message"])
            .or_else(|| xml_element(&text, "Message"))
            .map(|m| sanitize(&m))
            .unwrap_or_default();
        if code == "NotFoundException" {
            return Err(Error::KmsKeyNotFound {
                endpoint: self.url.clone(),
                key: self.key.clone(),
            });
        }
        Err(Error::KmsRefused {
            operation,
            key: self.key.clone(),
            code: sanitize(&code),
            message,
        })
    }
}

/// The text of the first `<name>…</name>` in an XML error body (no nesting in those).
fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + end].to_owned())
}

/// At most 300 printable characters of a service's message.
fn sanitize(text: &str) -> String {
    truncate(text, 300)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A string field of a KMS answer.
fn string<'a>(
    json: &'a serde_json::Value,
    name: &str,
    operation: &'static str,
    key: &str,
) -> Result<&'a str, Error> {
    json.get(name)
        .and_then(|v| v.as_str())
        .ok_or_else(|| Error::KmsResponse {
            operation,
            key: key.to_owned(),
            reason: format!("no {name}"),
        })
}

/// A base64 field of a KMS answer.
fn bytes(
    json: &serde_json::Value,
    name: &str,
    operation: &'static str,
    key: &str,
) -> Result<Vec<u8>, Error> {
    STANDARD
        .decode(string(json, name, operation, key)?)
        .map_err(|_| Error::KmsResponse {
            operation,
            key: key.to_owned(),
            reason: format!("{name} is not base64"),
        })
}

/// A signing key in AWS KMS.
#[derive(Debug)]
pub struct AwsKmsKey {
    client: Client,
    public: PublicKey,
    algorithm: &'static str,
    digest: DigestAlgorithm,
}

impl AwsKmsKey {
    /// Reads the key's public key and signing algorithms (`GetPublicKey`), and checks that
    /// signet can sign with it.
    pub async fn open(reference: &AwsKmsReference, settings: &AwsSettings) -> Result<Self, Error> {
        let client = Client::new(reference, settings)?;
        let key = client.key.clone();
        let answer = client
            .call(
                "GetPublicKey",
                &serde_json::json!({ "KeyId": reference.key }),
            )
            .await?;
        if let Some(usage) = answer.get("KeyUsage").and_then(|u| u.as_str())
            && usage != "SIGN_VERIFY"
        {
            return Err(Error::UnsupportedKeyType {
                key: reference.to_string(),
                kind: format!("{} (KeyUsage)", sanitize(usage)),
            });
        }
        let public = PublicKey::from_der(&bytes(&answer, "PublicKey", "GetPublicKey", &key)?)?;
        let (algorithm, digest) = match public.kind() {
            KeyKind::EcdsaP256 => ("ECDSA_SHA_256", DigestAlgorithm::Sha256),
            KeyKind::EcdsaP384 => ("ECDSA_SHA_384", DigestAlgorithm::Sha384),
            KeyKind::EcdsaP521 => ("ECDSA_SHA_512", DigestAlgorithm::Sha512),
            KeyKind::Rsa { .. } => ("RSASSA_PKCS1_V1_5_SHA_256", DigestAlgorithm::Sha256),
            kind @ KeyKind::Ed25519 => {
                return Err(Error::UnsupportedKeyType {
                    key: reference.to_string(),
                    kind: kind.to_string(),
                });
            }
        };
        if let Some(offered) = answer.get("SigningAlgorithms").and_then(|a| a.as_array())
            && !offered.iter().any(|a| a.as_str() == Some(algorithm))
        {
            return Err(Error::UnsupportedKeyType {
                key: reference.to_string(),
                kind: format!("{} key without {algorithm}", public.kind()),
            });
        }
        Ok(Self {
            client,
            public,
            algorithm,
            digest,
        })
    }

    async fn sign_now(&self, digest: &MessageDigest) -> Result<Vec<u8>, Error> {
        if digest.algorithm() != self.digest {
            return Err(signet_core::Error::UnsupportedKey(format!(
                "this AWS KMS key signs {} digests, not {}",
                self.digest.name(),
                digest.algorithm().name()
            ))
            .into());
        }
        let answer = self
            .client
            .call(
                "Sign",
                &serde_json::json!({
                    "KeyId": self.client.key,
                    "Message": STANDARD.encode(digest.as_bytes()),
                    "MessageType": "DIGEST",
                    "SigningAlgorithm": self.algorithm,
                }),
            )
            .await?;
        let signature = bytes(&answer, "Signature", "Sign", &self.client.key)?;
        self.public
            .verify_prehashed(digest, &signature)
            .map_err(|_| Error::SignatureCheck {
                key: format!("AWS KMS key {}", self.client.key),
            })?;
        Ok(signature)
    }
}

impl SigningKey for AwsKmsKey {
    fn public_key(&self) -> Result<PublicKey, Error> {
        Ok(self.public.clone())
    }

    fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        Some(self.digest)
    }

    fn sign_digest<'a>(
        &'a self,
        digest: &'a MessageDigest,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(self.sign_now(digest))
    }
}

/// `generate-key-pair --kms awskms://…/alias/NAME`: the alias's key if it exists, as Cosign
/// does; else a new `ECC_NIST_P256` signing key (`CreateKey`) given that alias
/// (`CreateAlias`).
pub(crate) async fn create_key(
    reference: &AwsKmsReference,
    settings: &AwsSettings,
) -> Result<PublicKey, Error> {
    let Some(alias) = &reference.alias else {
        return Err(Error::InvalidReference {
            reference: reference.to_string(),
            reason: "a key is created under an alias: use awskms://[ENDPOINT]/alias/NAME"
                .to_owned(),
        });
    };
    match AwsKmsKey::open(reference, settings).await {
        Ok(existing) => return Ok(existing.public),
        Err(Error::KmsKeyNotFound { .. }) => {}
        Err(other) => return Err(other),
    }
    let client = Client::new(reference, settings)?;
    let created = client
        .call(
            "CreateKey",
            &serde_json::json!({
                "KeySpec": CREATED_KEY_SPEC,
                "KeyUsage": "SIGN_VERIFY",
                "Description": "Created by signet",
            }),
        )
        .await?;
    let key_id = created
        .get("KeyMetadata")
        .and_then(|m| m.get("KeyId"))
        .and_then(|k| k.as_str())
        .ok_or_else(|| Error::KmsResponse {
            operation: "CreateKey",
            key: alias.clone(),
            reason: "no KeyMetadata.KeyId".to_owned(),
        })?;
    client
        .call(
            "CreateAlias",
            &serde_json::json!({ "AliasName": alias, "TargetKeyId": key_id }),
        )
        .await?;
    Ok(AwsKmsKey::open(reference, settings).await?.public)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AwsKmsReference {
        AwsKmsReference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn sigstore_reference_formats_parse() {
        let id = parse("awskms:///1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(
            (id.endpoint.as_deref(), id.key.as_str()),
            (None, "1234abcd-12ab-34cd-56ef-1234567890ab")
        );
        let with_endpoint = parse("awskms://localhost:4566/1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(with_endpoint.endpoint.as_deref(), Some("localhost:4566"));
        let arn = parse(
            "awskms:///arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        );
        assert_eq!(arn.arn_region.as_deref(), Some("us-east-2"));
        assert!(arn.key.starts_with("arn:aws:kms:us-east-2"));
        let alias = parse("awskms:///alias/ExampleAlias");
        assert_eq!(alias.alias.as_deref(), Some("alias/ExampleAlias"));
        let alias_arn =
            parse("awskms://localhost:4566/arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias");
        assert_eq!(alias_arn.alias.as_deref(), Some("alias/ExampleAlias"));
        assert_eq!(alias_arn.arn_region.as_deref(), Some("us-east-2"));
        assert!(
            parse("awskms:///mrk-1234abcd12ab34cd56ef1234567890ab")
                .alias
                .is_none()
        );
    }

    #[test]
    fn malformed_references_say_the_format() {
        for text in [
            "awskms://alias/x",
            "awskms:///not-a-key",
            "awskms:///arn:aws:kms:us-east-2:1:key/x",
        ] {
            let error = AwsKmsReference::parse(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                error.contains("awskms://[ENDPOINT]/KEY-ID"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let reference = parse("awskms:///alias/a");
        let settings = |url: &str| {
            AwsSettings::default()
                .with_home("/nonexistent")
                .with_variable("AWS_ACCESS_KEY_ID", "AKID")
                .with_variable("AWS_SECRET_ACCESS_KEY", "secret")
                .with_variable("AWS_REGION", "us-east-1")
                .with_variable("AWS_ENDPOINT_URL_KMS", url)
        };
        assert!(Client::new(&reference, &settings("http://127.0.0.1:5000")).is_ok());
        let error = Client::new(&reference, &settings("http://kms.example.com"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("plain HTTP is allowed only to a loopback"),
            "{error}"
        );
    }

    #[test]
    fn no_region_and_no_credentials_are_named() {
        let reference = parse("awskms:///alias/a");
        let bare = AwsSettings::default().with_home("/nonexistent");
        assert!(matches!(
            Client::new(&reference, &bare),
            Err(Error::AwsRegion)
        ));
        let arn = parse("awskms:///arn:aws:kms:eu-west-1:111122223333:alias/a");
        assert!(matches!(
            Client::new(&arn, &bare),
            Err(Error::AwsCredentials { .. })
        ));
    }
}
