//! Recording key signatures in a Rekor v1 transparency log (`--tlog-upload`), as Cosign does:
//! a `hashedrekord` entry naming the payload's SHA-256, the signature and the public key, whose
//! signed entry timestamp becomes the layer's `dev.sigstore.cosign/bundle` annotation.
//!
//! The entry is checked against the trusted root before it is used: a log that answers with
//! an entry for something else, or a SET that its key did not make, fails the signing.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::BUNDLE_ANNOTATION;
use signet_core::digest::{Digest, DigestAlgorithm, MessageDigest};
use signet_core::keys::PublicKey;
use signet_core::rekor_annotations::RekorBundle;
use signet_verify::bundle::{Artifact, BundleLimits, BundlePolicy, BundleVerifier};
use sigstore_sign::rekor::{HashedRekord, RekorClient};

use crate::Error;
use crate::error::KeylessService;

/// Uploads key signatures to one Rekor v1 log and checks what it returns against a trusted
/// root naming that log.
pub struct RekorUploader {
    url: String,
    verifier: BundleVerifier,
    /// signet's one HTTP configuration.
    http: sigstore_sign::reqwest::Client,
}

impl fmt::Debug for RekorUploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RekorUploader")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl RekorUploader {
    /// An uploader to the Rekor v1 API at `url`, whose entries must verify against
    /// `trusted_root_json`.
    pub fn new(url: &str, trusted_root_json: &[u8]) -> Result<Self, Error> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::SigningConfig {
                reason: format!("the Rekor URL {url:?} is not an http(s) URL"),
            });
        }
        let verifier = BundleVerifier::new(trusted_root_json, BundleLimits::default())
            .map_err(|source| Error::TrustedRoot { source })?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            verifier,
            http: signet_oci::http::client(&signet_oci::http::HttpSettings::default())?,
        })
    }

    /// The log's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Records `signature` (made by `key` over `payload`) in the log and returns the
    /// annotations that carry the proof: `dev.sigstore.cosign/bundle`. The returned entry is
    /// verified first (its SET against the trusted root, its body against the signature, key
    /// and payload digest).
    pub async fn record(
        &self,
        payload: &[u8],
        signature: &[u8],
        key: &PublicKey,
    ) -> Result<BTreeMap<String, String>, Error> {
        let digest = MessageDigest::of(DigestAlgorithm::Sha256, payload);
        let logged = self.upload(&digest, signature, key).await?;
        let annotations = BTreeMap::from([(
            BUNDLE_ANNOTATION.to_owned(),
            rekor_bundle_of(&logged)?.to_json(),
        )]);
        self.verifier
            .verify_legacy(
                &annotations,
                signature,
                payload,
                &BundlePolicy::Key(key.clone()),
            )
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(annotations)
    }

    /// Records a file's signature (`signature` by `key` over the file whose SHA-256 is
    /// `digest`) and returns the Sigstore bundle v0.3 proving it: the key hint, the message
    /// signature and the log entry with its SET and inclusion proof. The bundle is verified
    /// against the trusted root for `digest` and `key` before it is returned.
    pub async fn record_blob(
        &self,
        digest: &MessageDigest,
        signature: &[u8],
        key: &PublicKey,
    ) -> Result<Vec<u8>, Error> {
        use sigstore_sign::types::KindVersion;
        let fail = |message: String| Error::Keyless {
            service: KeylessService::Rekor,
            message,
        };
        let logged = self.upload(digest, signature, key).await?;
        let entry = logged
            .to_bundle_entry(KindVersion::HashedRekordV001)
            .map_err(|e| fail(format!("unusable log entry: {e}")))?;
        let entry = serde_json::to_value(&entry).map_err(|e| fail(e.to_string()))?;
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "publicKey": {"hint": ""},
                "tlogEntries": [entry],
                "timestampVerificationData": {"rfc3161Timestamps": []},
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest.as_bytes())},
                "signature": STANDARD.encode(signature),
            },
        });
        let json = serde_json::to_vec_pretty(&bundle).map_err(|e| fail(e.to_string()))?;
        let artifact: Digest = format!(
            "sha256:{}",
            digest
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
        .parse()?;
        self.verifier
            .verify(
                &json,
                Artifact::Digest(&artifact),
                &BundlePolicy::Key(key.clone()),
            )
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(json)
    }

    /// Records a key-signed attestation (`envelope`, about the image `digest`) as an `intoto`
    /// entry and returns the annotation carrying the proof (`dev.sigstore.cosign/bundle`),
    /// verified against the trusted root first.
    pub async fn record_attestation(
        &self,
        envelope: &signet_core::dsse::Envelope,
        digest: &Digest,
        key: &PublicKey,
    ) -> Result<BTreeMap<String, String>, Error> {
        let [signature] = envelope.signatures.as_slice() else {
            return Err(Error::Keyless {
                service: KeylessService::Rekor,
                message: "an attestation recorded in the log has one signature".to_owned(),
            });
        };
        let logged = post_intoto_entry(
            &self.http,
            &self.url,
            &envelope.payload,
            &signature.sig,
            &key.to_pem(),
        )
        .await?;
        let annotations = BTreeMap::from([(
            BUNDLE_ANNOTATION.to_owned(),
            rekor_bundle_of(&logged)?.to_json(),
        )]);
        self.verifier
            .verify_legacy_attestation(
                &annotations,
                &envelope.to_json(),
                digest,
                &BundlePolicy::Key(key.clone()),
            )
            .map_err(|source| Error::SelfVerification { source })?;
        Ok(annotations)
    }

    /// Sends the `hashedrekord` entry: the SHA-256 `digest`, the signature and the key.
    async fn upload(
        &self,
        digest: &MessageDigest,
        signature: &[u8],
        key: &PublicKey,
    ) -> Result<sigstore_sign::rekor::LogEntry, Error> {
        let fail = |message: String| Error::Keyless {
            service: KeylessService::Rekor,
            message,
        };
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Err(fail(format!(
                "signet records SHA-256 digests in the log, not {}",
                digest.algorithm().name()
            )));
        }
        let hex: String = digest
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // Rekor v1's hashedrekord with a public key rather than a certificate: the same
        // document, the key's PEM (LF line endings, as Go writes it) in `publicKey.content`.
        let entry = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex}},
                "signature": {
                    "content": STANDARD.encode(signature),
                    "publicKey": {"content": STANDARD.encode(key.to_pem())},
                },
            },
        });
        let entry: HashedRekord = serde_json::from_value(entry)
            .map_err(|e| fail(format!("building the hashedrekord entry: {e}")))?;
        let client = RekorClient::builder(&self.url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| fail(e.to_string()))?;
        client
            .create_entry(entry)
            .await
            .map_err(|e| fail(e.to_string()))
    }
}

/// The largest Rekor response read (an entry with its proof is a few KiB).
const MAX_REKOR_RESPONSE_BYTES: usize = 1024 * 1024;

/// Records a DSSE-signed in-toto `statement` in the Rekor v1 log at `url` as an `intoto`
/// v0.0.2 entry whose proposal carries the envelope (payload and signature double-encoded, as
/// Rekor expects), its hash and the payload hash, with `verifier_pem` (a certificate or public
/// key, PEM) — the form sigstore-js and Cosign's attestations propose.
pub(crate) async fn post_intoto_entry(
    http: &sigstore_sign::reqwest::Client,
    url: &str,
    statement: &[u8],
    signature: &[u8],
    verifier_pem: &str,
) -> Result<sigstore_sign::rekor::LogEntry, Error> {
    const PAYLOAD_TYPE: &str = signet_core::dsse::IN_TOTO_PAYLOAD_TYPE;
    let fail = |message: String| Error::Keyless {
        service: KeylessService::Rekor,
        message,
    };
    let payload_b64 = STANDARD.encode(statement);
    let sig_b64 = STANDARD.encode(signature);
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    // The envelope hash covers the envelope with the verifier, in canonical JSON (sorted keys,
    // no whitespace: serde_json's map order).
    let hashed_envelope = serde_json::json!({
        "payloadType": PAYLOAD_TYPE,
        "payload": payload_b64,
        "signatures": [{"sig": sig_b64, "publicKey": verifier_pem}],
    });
    let envelope_hash = MessageDigest::of(
        DigestAlgorithm::Sha256,
        hashed_envelope.to_string().as_bytes(),
    );
    let payload_hash = MessageDigest::of(DigestAlgorithm::Sha256, statement);
    let proposed = serde_json::json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {"content": {
            "envelope": {
                "payloadType": PAYLOAD_TYPE,
                "payload": STANDARD.encode(&payload_b64),
                "signatures": [{
                    "sig": STANDARD.encode(&sig_b64),
                    "publicKey": STANDARD.encode(verifier_pem),
                }],
            },
            "hash": {"algorithm": "sha256", "value": hex(envelope_hash.as_bytes())},
            "payloadHash": {"algorithm": "sha256", "value": hex(payload_hash.as_bytes())},
        }},
    });
    let endpoint = format!("{}/api/v1/log/entries", url.trim_end_matches('/'));
    let response = http
        .post(&endpoint)
        .json(&proposed)
        .send()
        .await
        .map_err(|e| fail(format!("POST {endpoint}: {e}")))?;
    let (status, body) =
        signet_oci::http::read_bounded("POST", &endpoint, response, MAX_REKOR_RESPONSE_BYTES)
            .await
            .map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!(
            "POST {endpoint} answered {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        )));
    }
    let entries: std::collections::HashMap<String, sigstore_sign::rekor::LogEntry> =
        serde_json::from_slice(&body).map_err(|e| fail(format!("unreadable log entry: {e}")))?;
    entries
        .into_values()
        .next()
        .ok_or_else(|| fail("the log returned no entry".to_owned()))
}

/// The SET and the fields it signs, from a Rekor v1 answer.
fn rekor_bundle_of(logged: &sigstore_sign::rekor::LogEntry) -> Result<RekorBundle, Error> {
    let fail = |message: &str| Error::Keyless {
        service: KeylessService::Rekor,
        message: message.to_owned(),
    };
    let set = logged
        .verification
        .as_ref()
        .and_then(|v| v.signed_entry_timestamp.as_ref())
        .ok_or_else(|| fail("the log returned no signed entry timestamp (SET)"))?;
    let integrated_time = logged
        .integrated_time
        .ok_or_else(|| fail("the log returned no integrated time"))?;
    Ok(RekorBundle {
        signed_entry_timestamp: set.as_bytes().to_vec(),
        body: logged.body.as_bytes().to_vec(),
        integrated_time: integrated_time.as_second(),
        log_index: logged.log_index.as_i64(),
        log_id: logged.log_id.to_string().to_ascii_lowercase(),
    })
}
