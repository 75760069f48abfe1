//! Keyless signing: an ephemeral key, a Fulcio certificate bound to an OIDC identity, a Rekor
//! entry and optionally an RFC 3161 timestamp, returned as a Sigstore bundle v0.3.
//!
//! The protocol work (ephemeral P-256 key, proof of possession, Fulcio `/api/v2/signingCert`,
//! Rekor v1 `hashedrekord` or Rekor v2, the TSA request, the bundle layout) is sigstore-rust's
//! `sigstore-sign` crate, built on aws-lc-rs with reqwest on rustls/aws-lc-rs, without TUF or
//! a browser flow. This module keeps its types out of signet's API, keeps the identity token
//! out of every message, and refuses to hand back a bundle that does not verify: every bundle
//! [`KeylessSigner`] makes is checked with [`signet_verify::bundle`] against the caller's
//! trusted root and the identity Fulcio certified, before it is returned.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_sign::keyless::{IdentityToken, KeylessServices, KeylessSigner};
//!
//! let services = KeylessServices::from_signing_config(&std::fs::read("signing_config.json")?)?;
//! let signer = KeylessSigner::new(services, &std::fs::read("trusted_root.json")?)?;
//! let token = IdentityToken::new(std::env::var("SIGSTORE_ID_TOKEN")?)?;
//! let signed = signer.sign_blob(&token, std::fs::File::open("file.tgz")?).await?;
//! std::fs::write("file.tgz.sigstore.json", signed.bundle_json())?;
//! println!("signed as {} ({})", signed.identity(), signed.issuer());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION,
};
use signet_core::rekor_annotations::{RekorBundle, Rfc3161Timestamp};

use signet_core::digest::{Digest, DigestAlgorithm, Hasher};
use signet_verify::bundle::{Artifact, BundleLimits, BundlePolicy, BundleVerifier};
use sigstore_sign::crypto::parse_certificate_info;
use sigstore_sign::rekor::RekorApiVersion;
use sigstore_sign::trust_root::SigningConfig;
use sigstore_sign::types::{ArtifactDigest, Sha256Hash};
use sigstore_sign::{ConfigError, SigningContext, SigningServices};

use crate::Error;
pub use crate::error::KeylessService;

/// The signing-config media type signet reads (Sigstore `signing_config` v0.2).
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// The largest signing config accepted, in bytes (real ones are about 2 KiB).
const MAX_SIGNING_CONFIG_BYTES: usize = 1024 * 1024;

/// An OIDC identity token (a JWT), as Fulcio takes it. Its claims are read without checking
/// the signature (Fulcio checks it); the token itself never appears in `Debug`, `Display` or
/// an error.
pub struct IdentityToken {
    inner: sigstore_sign::oidc::IdentityToken,
}

impl IdentityToken {
    /// Reads a JWT. Fails with [`Error::IdentityToken`] when it is not three dot-separated
    /// parts whose middle one is base64url JSON with `iss` and `sub`, or when it has expired.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        let inner = sigstore_sign::oidc::IdentityToken::from_jwt(token.trim()).map_err(|_| {
            Error::IdentityToken {
                reason: "it is not a JWT whose claims (iss, sub, exp) can be read",
            }
        })?;
        if inner.is_expired() {
            return Err(Error::IdentityToken {
                reason: "it has expired (exp is in the past); get a fresh one",
            });
        }
        Ok(Self { inner })
    }

    /// The ambient OIDC token of the CI system this runs in, requested for the audience
    /// `sigstore`: GitHub Actions (`GITHUB_ACTIONS=true` with `ACTIONS_ID_TOKEN_REQUEST_URL`
    /// and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, i.e. `permissions: id-token: write`), GitLab CI,
    /// Buildkite or CircleCI. `Ok(None)` outside such an environment; an error when the
    /// environment is detected but the token cannot be obtained (the message never holds a
    /// token).
    pub async fn detect_ambient() -> Result<Option<Self>, Error> {
        match sigstore_sign::oidc::IdentityToken::detect_ambient().await {
            Ok(Some(inner)) if inner.is_expired() => Err(Error::IdentityToken {
                reason: "the ambient OIDC token has already expired",
            }),
            Ok(Some(inner)) => Ok(Some(Self { inner })),
            Ok(None) => Ok(None),
            Err(e) => {
                // The request token authorises getting ID tokens: keep it out of the message.
                let mut message = e.to_string();
                if let Ok(secret) = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
                    && !secret.is_empty()
                {
                    message = message.replace(&secret, "[REDACTED]");
                }
                Err(Error::Keyless {
                    service: KeylessService::AmbientToken,
                    message,
                })
            }
        }
    }

    /// The token's `iss` claim (unverified): the OIDC issuer Fulcio will certify.
    pub fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// The identity the proof of possession is made over: `email` when present, else `sub`
    /// (unverified).
    pub fn identity(&self) -> &str {
        self.inner.identity()
    }
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

/// Where keyless signing sends its requests: a Fulcio CA, a Rekor log and optionally an
/// RFC 3161 timestamp authority.
#[derive(Debug, Clone)]
pub struct KeylessServices {
    inner: SigningServices,
}

impl KeylessServices {
    /// Explicit services: Fulcio and a Rekor v1 log, and a TSA when `tsa_url` is given.
    pub fn from_urls(
        fulcio_url: &str,
        rekor_url: &str,
        tsa_url: Option<&str>,
    ) -> Result<Self, Error> {
        for url in [Some(fulcio_url), Some(rekor_url), tsa_url]
            .into_iter()
            .flatten()
        {
            check_url(url)?;
        }
        let mut inner = SigningServices::new(trim_url(fulcio_url), trim_url(rekor_url));
        if let Some(tsa) = tsa_url {
            inner = inner.with_tsa_url(tsa);
        }
        Ok(Self { inner })
    }

    /// The services a Sigstore `signing_config` v0.2 names: the first valid Fulcio, the valid
    /// Rekor log of the highest supported API version and the first valid TSA. A config
    /// without a TSA is accepted when its log is Rekor v1 (whose entries carry a signed
    /// integrated time); selectors that would require submitting to several logs or TSAs are
    /// rejected with [`Error::SigningConfig`].
    pub fn from_signing_config(json: &[u8]) -> Result<Self, Error> {
        let config_error = |reason: String| Error::SigningConfig { reason };
        if json.len() > MAX_SIGNING_CONFIG_BYTES {
            return Err(config_error(format!(
                "it is {} bytes, more than the limit of {MAX_SIGNING_CONFIG_BYTES}",
                json.len()
            )));
        }
        let text = std::str::from_utf8(json)
            .map_err(|_| config_error("it is not UTF-8 JSON".to_owned()))?;
        let config = SigningConfig::from_json(text).map_err(|e| config_error(e.to_string()))?;
        if config.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(config_error(format!(
                "its media type is {:?}, signet reads {SIGNING_CONFIG_MEDIA_TYPE:?}",
                config.media_type
            )));
        }
        match SigningServices::from_signing_config(&config) {
            Ok(inner) => Ok(Self { inner }),
            Err(sigstore_sign::Error::Config(ConfigError::MissingService(
                sigstore_sign::Service::Tsa,
            ))) if config.eligible_tsa_urls().is_empty() => {
                // No TSA listed at all: sign with Fulcio and a Rekor v1 log only.
                let fulcio = config.fulcio_url().ok_or_else(|| {
                    config_error("it lists no currently valid Fulcio (caUrls)".to_owned())
                })?;
                let rekor = config.rekor_url(Some(1)).ok_or_else(|| {
                    config_error(
                        "it lists no TSA and no currently valid Rekor v1 log; a Rekor v2 log \
                         needs a TSA"
                            .to_owned(),
                    )
                })?;
                let inner = SigningServices::new(fulcio.url.clone(), rekor.url.clone())
                    .with_rekor(rekor.url.clone(), RekorApiVersion::V1);
                Ok(Self { inner })
            }
            Err(e) => Err(config_error(e.to_string())),
        }
    }

    /// The Fulcio URL.
    pub fn fulcio_url(&self) -> &str {
        self.inner.fulcio_url()
    }

    /// The Rekor URL.
    pub fn rekor_url(&self) -> &str {
        self.inner.rekor_url()
    }

    /// The TSA URL, when timestamps are requested.
    pub fn timestamp_url(&self) -> Option<&str> {
        self.inner.tsa_url()
    }
}

fn trim_url(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

fn check_url(url: &str) -> Result<(), Error> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(Error::SigningConfig {
            reason: format!("{url:?} is not an http(s) URL"),
        })
    }
}

/// Signs files keylessly against one set of services and one trusted root.
pub struct KeylessSigner {
    context: SigningContext,
    verifier: BundleVerifier,
    /// signet's one HTTP configuration, for Fulcio, Rekor and the TSA.
    http: sigstore_sign::reqwest::Client,
}

impl fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeylessSigner")
            .field("services", self.context.services())
            .finish_non_exhaustive()
    }
}

impl KeylessSigner {
    /// A signer for `services` whose bundles must verify against `trusted_root_json` (a
    /// Sigstore `trusted_root.json` naming the same Fulcio, Rekor and TSA). The root is read
    /// here, so a bad one fails before any request is made.
    pub fn new(services: KeylessServices, trusted_root_json: &[u8]) -> Result<Self, Error> {
        let verifier = BundleVerifier::new(trusted_root_json, BundleLimits::default())
            .map_err(|source| Error::TrustedRoot { source })?;
        services
            .inner
            .validate()
            .map_err(|e| Error::SigningConfig {
                reason: e.to_string(),
            })?;
        let http = signet_oci::http::client(&signet_oci::http::HttpSettings::default())?;
        Ok(Self {
            context: SigningContext::new(services.inner).with_http_client(http.clone()),
            verifier,
            http,
        })
    }

    /// Hashes everything `reader` yields (SHA-256, as a stream, in constant memory) and signs
    /// the digest keylessly. See [`Self::sign_digest`].
    pub async fn sign_blob(
        &self,
        token: &IdentityToken,
        mut reader: impl Read,
    ) -> Result<KeylessBundle, Error> {
        let read_error = |source| Error::Read {
            what: "the file to sign".to_owned(),
            source,
        };
        let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => hasher.update(buffer.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
        }
        let digest = hasher.finish();
        self.sign_digest(token, &digest).await
    }

    /// Signs a file's SHA-256 digest keylessly: a fresh P-256 key, a Fulcio certificate for
    /// `token`'s identity, a Rekor entry, a timestamp when a TSA is configured, and a bundle
    /// v0.3 with a message signature. The bundle is verified against the trusted root and the
    /// certified identity before it is returned; one that does not verify is an
    /// [`Error::SelfVerification`].
    pub async fn sign_digest(
        &self,
        token: &IdentityToken,
        digest: &Digest,
    ) -> Result<KeylessBundle, Error> {
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Err(Error::SigningConfig {
                reason: format!(
                    "keyless signing signs SHA-256 digests, not {}",
                    digest.algorithm().name()
                ),
            });
        }
        let hash = Sha256Hash::try_from(digest.bytes().as_slice())
            .map_err(|_| signet_core::Error::Crypto("a SHA-256 digest is not 32 bytes"))?;
        let bundle = if self.context.services().rekor_api_version() == RekorApiVersion::V1 {
            self.sign_rekor_v1(token, hash).await?
        } else {
            let signer = self.context.signer(token.inner.clone());
            signer
                .sign(sigstore_sign::types::Artifact::from_digest(
                    ArtifactDigest::sha256(hash),
                ))
                .await
                .map_err(|e| service_error(e, token))?
        };

        self.finish(bundle, token, digest)
    }

    /// Signs an in-toto statement (its exact bytes) keylessly: a DSSE envelope, a Fulcio
    /// certificate, a Rekor `dsse` entry (v1) and a timestamp when a TSA is configured, in a
    /// bundle v0.3. `subject` is the digest the statement's subject must carry; the bundle is
    /// verified against it, the trusted root and the certified identity before it is returned.
    pub async fn sign_statement(
        &self,
        token: &IdentityToken,
        statement: &[u8],
        subject: &Digest,
    ) -> Result<KeylessBundle, Error> {
        let bundle = if self.context.services().rekor_api_version() == RekorApiVersion::V1 {
            self.sign_statement_rekor_v1(token, statement).await?
        } else {
            self.context
                .signer(token.inner.clone())
                .sign_raw_statement(statement)
                .await
                .map_err(|e| service_error(e, token))?
        };
        self.finish(bundle, token, subject)
    }

    /// Serializes `bundle` and verifies it for `digest` and the identity its certificate names.
    fn finish(
        &self,
        bundle: sigstore_sign::types::Bundle,
        token: &IdentityToken,
        digest: &Digest,
    ) -> Result<KeylessBundle, Error> {
        let json = bundle.to_json_pretty().map_err(|e| Error::Keyless {
            service: KeylessService::Bundle,
            message: redact(&e.to_string(), token),
        })?;
        let certificate = bundle.signing_certificate().ok_or(Error::Keyless {
            service: KeylessService::Bundle,
            message: "the bundle carries no signing certificate".to_owned(),
        })?;
        let info = parse_certificate_info(certificate).map_err(|e| Error::Keyless {
            service: KeylessService::Fulcio,
            message: format!("the issued certificate cannot be read: {e}"),
        })?;
        let (Some(identity), Some(issuer)) = (info.identity, info.issuer) else {
            return Err(Error::Keyless {
                service: KeylessService::Fulcio,
                message: "the issued certificate names no identity (SAN) or no OIDC issuer"
                    .to_owned(),
            });
        };
        let identity = identity.as_str().to_owned();
        let policy = BundlePolicy::identity(identity.clone(), issuer.clone());
        let verified = self
            .verifier
            .verify(json.as_bytes(), Artifact::Digest(digest), &policy)
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(KeylessBundle {
            json: json.into_bytes(),
            identity,
            issuer,
            digest: digest.clone(),
            signing_times: verified.signing_times().len(),
        })
    }
}

impl KeylessSigner {
    /// A fresh P-256 key and the Fulcio certificate binding it to `token`'s identity.
    async fn ephemeral_certificate(
        &self,
        token: &IdentityToken,
    ) -> Result<
        (
            sigstore_sign::crypto::KeyPair,
            sigstore_sign::types::DerCertificate,
        ),
        Error,
    > {
        let fail = |service: KeylessService, message: String| Error::Keyless {
            service,
            message: redact(&message, token),
        };
        let key = sigstore_sign::crypto::KeyPair::generate_ecdsa_p256()
            .map_err(|e| fail(KeylessService::Crypto, e.to_string()))?;
        let certificate =
            sigstore_sign::fulcio::FulcioClient::builder(self.context.services().fulcio_url())
                .with_http_client(self.http.clone())
                .build()
                .map_err(|e| fail(KeylessService::Fulcio, e.to_string()))?
                .create_signing_certificate(&token.inner, &key)
                .await
                .map_err(|e| fail(KeylessService::Fulcio, e.to_string()))?
                .leaf_certificate()
                .clone();
        Ok((key, certificate))
    }

    /// An RFC 3161 timestamp over `signature` when a TSA is configured.
    async fn timestamp(
        &self,
        token: &IdentityToken,
        signature: &sigstore_sign::types::SignatureBytes,
    ) -> Result<Option<sigstore_sign::types::TimestampToken>, Error> {
        let Some(url) = self.context.services().tsa_url() else {
            return Ok(None);
        };
        let fail = |message: String| Error::Keyless {
            service: KeylessService::Timestamp,
            message: redact(&message, token),
        };
        let timestamp = sigstore_sign::tsa::TimestampClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| fail(e.to_string()))?
            .timestamp_signature(signature)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(Some(timestamp))
    }
}

impl KeylessSigner {
    /// The Rekor v1 flow, step by step with sigstore-sign's clients, so that the entry's
    /// certificate PEM has LF line endings: Rekor canonicalizes what it stores, but a log that
    /// stores the body as sent (sigstore-js's) would otherwise record sigstore-rust's CRLF
    /// PEM, which sigstore-python's check of the entry against the bundle rejects.
    async fn sign_rekor_v1(
        &self,
        token: &IdentityToken,
        hash: Sha256Hash,
    ) -> Result<sigstore_sign::types::Bundle, Error> {
        use sigstore_sign::bundle::BundleV03;
        use sigstore_sign::rekor::{HashedRekord, RekorClient};
        use sigstore_sign::types::KindVersion;

        let services = self.context.services();
        let fail = |service: KeylessService, message: String| Error::Keyless {
            service,
            message: redact(&message, token),
        };
        let (key, certificate) = self.ephemeral_certificate(token).await?;
        let signature = key
            .sign_digest(&hash)
            .map_err(|e| fail(KeylessService::Crypto, e.to_string()))?;

        let entry = lf_pem(HashedRekord::new(&hash, &signature, &certificate))?;
        let rekor = RekorClient::builder(services.rekor_url())
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| fail(KeylessService::Rekor, e.to_string()))?;
        let logged = rekor
            .create_entry(entry)
            .await
            .map_err(|e| fail(KeylessService::Rekor, e.to_string()))?
            .to_bundle_entry(KindVersion::HashedRekordV001)
            .map_err(|e| fail(KeylessService::Rekor, format!("unusable log entry: {e}")))?;

        let mut bundle =
            BundleV03::with_certificate_and_signature(certificate, signature.clone(), hash)
                .with_tlog_entry(logged);
        if let Some(timestamp) = self.timestamp(token, &signature).await? {
            bundle = bundle.with_rfc3161_timestamp(timestamp);
        }
        Ok(bundle.into_bundle())
    }
}

impl KeylessSigner {
    /// A DSSE statement signed with Rekor v1: recorded as an `intoto` v0.0.2 entry whose
    /// proposed content carries the envelope, its hash and the payload hash, as sigstore-js and
    /// Cosign's attestations propose it. (sigstore-rust proposes a `dsse` entry, whose
    /// canonical body only the real Rekor computes; a log that records what it is sent, such
    /// as sigstore-js's test log, would then hold an entry no verifier can check.)
    async fn sign_statement_rekor_v1(
        &self,
        token: &IdentityToken,
        statement: &[u8],
    ) -> Result<sigstore_sign::types::Bundle, Error> {
        use sigstore_sign::bundle::BundleV03;
        use sigstore_sign::types::{DsseEnvelope, DsseSignature, KeyId, KindVersion, PayloadBytes};

        const PAYLOAD_TYPE: &str = signet_core::dsse::IN_TOTO_PAYLOAD_TYPE;
        let services = self.context.services();
        let fail = |service: KeylessService, message: String| Error::Keyless {
            service,
            message: redact(&message, token),
        };
        let (key, certificate) = self.ephemeral_certificate(token).await?;
        let pae_hash = Sha256Hash::try_from(
            signet_core::dsse::pae_digest(DigestAlgorithm::Sha256, PAYLOAD_TYPE, statement)
                .as_bytes(),
        )
        .map_err(|_| signet_core::Error::Crypto("a SHA-256 digest is not 32 bytes"))?;
        let signature = key
            .sign_digest(&pae_hash)
            .map_err(|e| fail(KeylessService::Crypto, e.to_string()))?;

        let certificate_pem = pem_certificate(certificate.as_bytes());
        let logged = crate::rekor::post_intoto_entry(
            &self.http,
            services.rekor_url(),
            statement,
            signature.as_bytes(),
            &certificate_pem,
        )
        .await?
        .to_bundle_entry(KindVersion::IntotoV002)
        .map_err(|e| fail(KeylessService::Rekor, format!("unusable log entry: {e}")))?;

        let envelope = DsseEnvelope::new(
            PAYLOAD_TYPE,
            PayloadBytes::from(statement.to_vec()),
            DsseSignature::new(signature.clone(), KeyId::default()),
        );
        let mut bundle =
            BundleV03::with_certificate_and_dsse(certificate, envelope).with_tlog_entry(logged);
        if let Some(timestamp) = self.timestamp(token, &signature).await? {
            bundle = bundle.with_rfc3161_timestamp(timestamp);
        }
        Ok(bundle.into_bundle())
    }
}

/// The same hashedrekord entry with the certificate PEM's CRLF line endings turned into LF,
/// as Rekor's own canonical form (Go's `pem.Encode`) has them.
fn lf_pem(
    entry: sigstore_sign::rekor::HashedRekord,
) -> Result<sigstore_sign::rekor::HashedRekord, Error> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    // The entry is built from signet's own certificate: a failure here is a bug in assembling
    // it, reported as a failed Rekor step (nothing has been sent).
    let unusable = |message: String| Error::Keyless {
        service: KeylessService::Rekor,
        message,
    };
    let mut value = serde_json::to_value(&entry).map_err(|e| unusable(e.to_string()))?;
    let content = value
        .pointer_mut("/spec/signature/publicKey/content")
        .ok_or_else(|| {
            unusable("the hashedrekord entry has no spec.signature.publicKey.content".to_owned())
        })?;
    let pem = content
        .as_str()
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|pem| String::from_utf8(pem).ok())
        .ok_or_else(|| unusable("the hashedrekord public key is not base64 PEM".to_owned()))?;
    *content = serde_json::Value::String(STANDARD.encode(pem.replace("\r\n", "\n")));
    serde_json::from_value(value).map_err(|e| unusable(e.to_string()))
}

/// A Sigstore bundle v0.3 made by [`KeylessSigner`] and verified against its trusted root.
#[derive(Debug, Clone)]
pub struct KeylessBundle {
    json: Vec<u8>,
    identity: String,
    issuer: String,
    digest: Digest,
    signing_times: usize,
}

impl KeylessBundle {
    /// The bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`), as JSON.
    pub fn bundle_json(&self) -> &[u8] {
        &self.json
    }

    /// The identity Fulcio certified (the certificate's email or URI SAN).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The OIDC issuer Fulcio certified.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The digest that was signed.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// How many verified signing times (log integrated time, timestamps) the bundle has.
    pub fn signing_time_count(&self) -> usize {
        self.signing_times
    }
}

/// A keyless signature in Cosign's legacy format: the raw signature over a payload, and the
/// layer annotations carrying its certificate, Rekor entry and timestamp.
#[derive(Debug, Clone)]
pub struct LegacyKeylessSignature {
    /// The raw signature over the payload.
    pub signature: Vec<u8>,
    /// `dev.sigstore.cosign/certificate`, `…/bundle` and, with a TSA, `…/rfc3161timestamp`.
    pub annotations: BTreeMap<String, String>,
    /// The identity Fulcio certified.
    pub identity: String,
    /// The OIDC issuer Fulcio certified.
    pub issuer: String,
}

impl KeylessSigner {
    /// Signs `payload` (a simple-signing document) keylessly and returns it in Cosign's legacy
    /// form. The service must be a Rekor v1 log (its signed entry timestamp is what the legacy
    /// format carries). The annotations are verified against the trusted root, as a verifier
    /// will read them, before they are returned.
    pub async fn sign_legacy(
        &self,
        token: &IdentityToken,
        payload: &[u8],
    ) -> Result<LegacyKeylessSignature, Error> {
        let bundle = self.sign_blob(token, payload).await?;
        let (signature, annotations) = legacy_annotations(bundle.bundle_json())?;
        let policy = BundlePolicy::identity(bundle.identity(), bundle.issuer());
        self.verifier
            .verify_legacy(&annotations, &signature, payload, &policy)
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(LegacyKeylessSignature {
            signature,
            annotations,
            identity: bundle.identity,
            issuer: bundle.issuer,
        })
    }
}

/// A keyless attestation in Cosign's legacy format: the DSSE envelope (the `.att` layer) and
/// the layer annotations carrying its certificate, Rekor entry and timestamp.
#[derive(Debug, Clone)]
pub struct LegacyKeylessAttestation {
    /// The envelope, as Cosign writes it (`payloadType`, `payload`, `signatures`).
    pub envelope: Vec<u8>,
    /// `dev.sigstore.cosign/certificate`, `…/bundle` and, with a TSA, `…/rfc3161timestamp`.
    pub annotations: BTreeMap<String, String>,
}

impl KeylessSigner {
    /// Signs `statement` (about the image `digest`) keylessly and returns it in Cosign's
    /// legacy attestation form. The annotations are verified against the trusted root, as a
    /// verifier will read them, before they are returned.
    pub async fn attest_legacy(
        &self,
        token: &IdentityToken,
        statement: Vec<u8>,
        digest: &Digest,
    ) -> Result<LegacyKeylessAttestation, Error> {
        let bundle = self.sign_statement(token, &statement, digest).await?;
        let value: serde_json::Value = serde_json::from_slice(bundle.bundle_json())
            .map_err(|e| legacy_error(&e.to_string()))?;
        let signature = value
            .pointer("/dsseEnvelope/signatures/0/sig")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| legacy_error("the bundle holds no DSSE signature"))?;
        let envelope = signet_core::dsse::Envelope {
            payload_type: signet_core::dsse::IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: statement,
            signatures: vec![signet_core::dsse::EnvelopeSignature {
                keyid: String::new(),
                sig: signature,
            }],
        };
        let annotations = legacy_material(&value)?;
        let policy = BundlePolicy::identity(bundle.identity(), bundle.issuer());
        let envelope = envelope.to_json();
        self.verifier
            .verify_legacy_attestation(&annotations, &envelope, digest, &policy)
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(LegacyKeylessAttestation {
            envelope,
            annotations,
        })
    }
}

fn legacy_error(message: &str) -> Error {
    Error::Keyless {
        service: KeylessService::Bundle,
        message: format!("the bundle cannot be written in Cosign's legacy format: {message}"),
    }
}

/// The signature and Cosign's legacy annotations equivalent to a message-signature bundle
/// with a certificate and a Rekor v1 entry.
fn legacy_annotations(bundle_json: &[u8]) -> Result<(Vec<u8>, BTreeMap<String, String>), Error> {
    let bundle: serde_json::Value =
        serde_json::from_slice(bundle_json).map_err(|_| legacy_error("it is not JSON"))?;
    let signature = bundle
        .pointer("/messageSignature/signature")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| legacy_error("/messageSignature/signature is missing or not base64"))?;
    Ok((signature, legacy_material(&bundle)?))
}

/// The certificate, Rekor and timestamp annotations of a bundle with a certificate and a
/// Rekor v1 entry.
fn legacy_material(bundle: &serde_json::Value) -> Result<BTreeMap<String, String>, Error> {
    let fail = legacy_error;
    let text = |pointer: &str| bundle.pointer(pointer).and_then(serde_json::Value::as_str);
    let bytes = |pointer: &str| -> Result<Vec<u8>, Error> {
        let value = text(pointer).ok_or_else(|| fail(&format!("{pointer} is missing")))?;
        STANDARD
            .decode(value)
            .map_err(|_| fail(&format!("{pointer} is not base64")))
    };
    let integer = |pointer: &str| -> Result<i64, Error> {
        text(pointer)
            .and_then(|t| t.parse().ok())
            .or_else(|| bundle.pointer(pointer).and_then(serde_json::Value::as_i64))
            .ok_or_else(|| fail(&format!("{pointer} is not an integer")))
    };
    let certificate = bytes("/verificationMaterial/certificate/rawBytes")?;
    let entry = "/verificationMaterial/tlogEntries/0";
    let log_id: String = bytes(&format!("{entry}/logId/keyId"))?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let rekor = RekorBundle {
        signed_entry_timestamp: bytes(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
            .map_err(|_| fail("the log entry has no signed entry timestamp (a Rekor v2 log?)"))?,
        body: bytes(&format!("{entry}/canonicalizedBody"))?,
        integrated_time: integer(&format!("{entry}/integratedTime"))?,
        log_index: integer(&format!("{entry}/logIndex"))?,
        log_id,
    };
    let mut annotations = BTreeMap::from([
        (
            CERTIFICATE_ANNOTATION.to_owned(),
            pem_certificate(&certificate),
        ),
        (BUNDLE_ANNOTATION.to_owned(), rekor.to_json()),
    ]);
    if text("/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp")
        .is_some()
    {
        let timestamp = Rfc3161Timestamp {
            signed_timestamp: bytes(
                "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp",
            )?,
        };
        annotations.insert(RFC3161_TIMESTAMP_ANNOTATION.to_owned(), timestamp.to_json());
    }
    Ok(annotations)
}

/// PEM with 64-column lines and LF endings, as Go's `pem.Encode` (and Cosign) writes it.
pub(crate) fn pem_certificate(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// Maps a sigstore-sign error to signet's, with the token removed from its text (a service
/// could echo it back in an error body).
fn service_error(error: sigstore_sign::Error, token: &IdentityToken) -> Error {
    use sigstore_sign::Error as E;
    let service = match &error {
        E::Fulcio(_) | E::Oidc(_) => KeylessService::Fulcio,
        E::Rekor(_) => KeylessService::Rekor,
        E::Tsa(_) => KeylessService::Timestamp,
        E::Crypto(_) => KeylessService::Crypto,
        E::Config(e) => {
            return Error::SigningConfig {
                reason: e.to_string(),
            };
        }
        _ => KeylessService::Bundle,
    };
    Error::Keyless {
        service,
        message: redact(&error.to_string(), token),
    }
}

fn redact(message: &str, token: &IdentityToken) -> String {
    let secret = token.inner.expose_secret();
    if secret.is_empty() {
        message.to_owned()
    } else {
        message.replace(secret, "[identity token]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn jwt(claims: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(claims))
    }

    #[test]
    fn identity_token_never_printed() {
        let token = IdentityToken::new(jwt(
            r#"{"iss":"https://oidc.example","sub":"me@example.com","aud":"sigstore","iat":1,"exp":99999999999}"#,
        ))
        .expect("token");
        let debug = format!("{token:?}");
        assert!(!debug.contains("c2ln"), "{debug}");
        assert_eq!(token.issuer(), "https://oidc.example");
        let error = service_error(
            sigstore_sign::Error::UnsupportedArtifact(format!(
                "echo {}",
                token.inner.expose_secret()
            )),
            &token,
        );
        assert!(!error.to_string().contains("c2ln"), "{error}");
    }

    #[test]
    fn malformed_or_expired_token_rejected_without_echo() {
        for bad in [
            "not-a-jwt",
            "a.b.c",
            &jwt(r#"{"iss":"x","sub":"y","aud":"sigstore","iat":1,"exp":2}"#),
        ] {
            let error = IdentityToken::new(bad).expect_err(bad);
            assert!(!error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn signing_config_without_tsa_uses_rekor_v1() {
        let config = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"http://127.0.0.1:1","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}],
            "rekorTlogUrls":[{"url":"http://127.0.0.1:2","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}],
            "tsaUrls":[],"rekorTlogConfig":{"selector":"ANY"},"tsaConfig":{"selector":"ANY"}}"#;
        let services = KeylessServices::from_signing_config(config).expect("config");
        assert_eq!(services.fulcio_url(), "http://127.0.0.1:1");
        assert_eq!(services.rekor_url(), "http://127.0.0.1:2");
        assert_eq!(services.timestamp_url(), None);
    }

    #[test]
    fn signing_config_of_another_version_rejected() {
        let config = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json"}"#;
        assert!(matches!(
            KeylessServices::from_signing_config(config),
            Err(Error::SigningConfig { .. })
        ));
    }
}
