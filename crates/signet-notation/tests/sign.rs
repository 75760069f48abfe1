//! Signing as `notation sign` does, checked by signet's verifier (the formats themselves are
//! proven on the reference implementations' envelopes in real_data.rs). Fixtures:
//! tests/data/notation/signet, made by its make.sh.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A fixed time inside the fixtures' validity (2027 to 2126): tests read no clock.
fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_893_456_000) // 2030-01-01
}

use signet_core::keys::PrivateKey;
use signet_notation::policy::{StoreRef, TrustedIdentities, VerificationLevel};
use signet_notation::{
    EnvelopeFormat, Limits, NotationCheck, SignRequest, Statement, TargetArtifact, TrustStore,
    VerifyOptions, sign, verify_envelope,
};

const CHAIN: &[u8] = include_bytes!("../../../tests/data/notation/signet/chain.pem");
const ROOT: &[u8] = include_bytes!("../../../tests/data/notation/signet/root.crt");
const LEAF_KEY: &[u8] = include_bytes!("../../../tests/data/notation/signet/leaf.key");
const OTHER_KEY: &[u8] = include_bytes!("../../../tests/data/notation/signet/other.key");

fn chain() -> Vec<Vec<u8>> {
    pem::parse_many(CHAIN)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|b| b.contents().to_vec())
        .collect()
}

fn target() -> TargetArtifact {
    TargetArtifact {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: signet_core::digest::Digest::sha256_of(b"an image manifest"),
        size: 17,
    }
}

fn verify(format: EnvelopeFormat, envelope: &[u8], identity: &str) -> Result<(), NotationCheck> {
    let store = StoreRef::parse("ca:signet").unwrap_or_else(|e| panic!("{e}"));
    let mut trust = TrustStore::new();
    trust.add_file(&store, "root.crt", ROOT);
    let statement = Statement::new(
        "test",
        VerificationLevel::strict(),
        vec![store],
        TrustedIdentities::parse(&[identity.to_owned()]).unwrap_or_else(|e| panic!("{e}")),
    );
    verify_envelope(
        format,
        envelope,
        &VerifyOptions {
            statement: &statement,
            trust_store: &trust,
            target: &target(),
            required_annotations: &[("build".to_owned(), "42".to_owned())].into(),
            now: signing_time() + Duration::from_secs(60),
            limits: Limits::default(),
        },
    )
    .map(|_| ())
    .map_err(|e| e.check())
}

fn request<'a>(
    format: EnvelopeFormat,
    chain: &'a [Vec<u8>],
    target: &'a TargetArtifact,
    annotations: &'a BTreeMap<String, String>,
) -> SignRequest<'a> {
    SignRequest {
        target,
        annotations,
        certificate_chain: chain,
        signing_time: signing_time(),
        expiry: Some(signing_time() + Duration::from_secs(3600)),
        format,
        signing_agent: "signet/test",
    }
}

#[test]
fn jws_and_cose_signatures_verify_and_tampering_is_caught() {
    let key = PrivateKey::from_unencrypted_pem(LEAF_KEY).unwrap_or_else(|e| panic!("{e}"));
    let chain = chain();
    let target = target();
    let annotations: BTreeMap<String, String> = [("build".to_owned(), "42".to_owned())].into();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let signed = sign(&request(format, &chain, &target, &annotations), &key)
            .unwrap_or_else(|e| panic!("{e}: {}", e.detail()));
        assert_eq!(
            verify(
                format,
                &signed.bytes,
                "x509.subject: C=US, ST=WA, O=signet-test, CN=signet release"
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                format,
                &signed.bytes,
                "x509.subject: C=US, ST=WA, O=someone-else"
            ),
            Err(NotationCheck::TrustedIdentity)
        );
        // Flip one byte of the signed payload's digest text.
        let digest_hex = target.digest.hex().to_owned();
        let tampered = match format {
            EnvelopeFormat::Jws => {
                let text = String::from_utf8(signed.bytes.clone()).unwrap_or_default();
                let json: serde_json::Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
                let payload = json["payload"].as_str().unwrap_or_default();
                let replaced = if payload.starts_with('a') { "b" } else { "a" };
                text.replacen(payload, &format!("{replaced}{}", &payload[1..]), 1)
                    .into_bytes()
            }
            _ => {
                let mut bytes = signed.bytes.clone();
                let at = bytes
                    .windows(digest_hex.len())
                    .position(|w| w == digest_hex.as_bytes())
                    .unwrap_or_else(|| panic!("digest not in the COSE payload"));
                bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                bytes
            }
        };
        let check = verify(format, &tampered, "*").expect_err("tampered");
        assert!(
            matches!(check, NotationCheck::Signature | NotationCheck::Parse),
            "{format:?}: {check:?}"
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&signed.manifest(&target)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            manifest["artifactType"],
            signet_notation::SIGNATURE_ARTIFACT_TYPE
        );
        assert_eq!(manifest["layers"][0]["mediaType"], format.media_type());
        assert_eq!(manifest["subject"]["digest"], target.digest.to_string());
    }
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_before_signing() {
    let other = PrivateKey::from_unencrypted_pem(OTHER_KEY).unwrap_or_else(|e| panic!("{e}"));
    let chain = chain();
    let target = target();
    let annotations = BTreeMap::new();
    let refused = sign(
        &request(EnvelopeFormat::Jws, &chain, &target, &annotations),
        &other,
    )
    .map(|_| ())
    .map_err(|e| e.check());
    assert_eq!(refused, Err(NotationCheck::Algorithm));
}
