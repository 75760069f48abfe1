//! Cosign's legacy Sigstore annotations on a `.sig` layer: `BundleVerifier::verify_legacy` with
//! fuzzed `dev.sigstore.cosign/certificate` (PEM: certificate and extension parsing),
//! `…/chain`, `…/bundle` (the Rekor SET JSON) and `…/rfc3161timestamp`, and a fuzzed
//! signature, over the conformance artifact, against the production root, under an exact
//! identity and under a key. Also `RekorBundle::parse` and `Rfc3161Timestamp::parse` on their
//! fields: what parses writes JSON (`to_json`) that parses back equal.
//!
//! Input: the five fields separated by 0xFF bytes (never in UTF-8 text), in the order
//! certificate, chain, bundle, timestamp, signature; the signature is the rest (raw bytes, so
//! 0xFF may appear in it). An empty text field is an absent annotation.
//!
//! At start-up, the annotations Cosign would have written for the conformance bundle v0.1 are
//! checked to pass, so that the target starts from a signature that verifies.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_core::cosign::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION,
};
use signet_core::rekor_annotations::{RekorBundle, Rfc3161Timestamp};
use signet_fuzz::sigstore::{ARTIFACT, BUNDLE_V0_1, POLICIES, PRODUCTION, check_passed};
use signet_verify::bundle::BundlePolicy;

const KEYS: [&str; 4] = [
    CERTIFICATE_ANNOTATION,
    CHAIN_ANNOTATION,
    BUNDLE_ANNOTATION,
    RFC3161_TIMESTAMP_ANNOTATION,
];

/// The exact-identity and key policies (the regex one adds nothing here).
static LEGACY_POLICIES: LazyLock<Vec<&'static BundlePolicy>> = LazyLock::new(|| {
    POLICIES
        .iter()
        .filter(|p| matches!(p, BundlePolicy::Identity { .. } | BundlePolicy::Key(_)))
        .collect()
});

/// The legacy annotations and signature equivalent to the conformance bundle v0.1.
fn fixture() -> (BTreeMap<String, String>, Vec<u8>) {
    let bundle: Value = serde_json::from_slice(BUNDLE_V0_1).unwrap_or_else(|e| panic!("{e}"));
    let text = |v: &Value| v.as_str().unwrap_or_else(|| panic!("{v}")).to_owned();
    let bytes = |v: &Value| STANDARD.decode(text(v)).unwrap_or_else(|e| panic!("{e}"));
    let material = &bundle["verificationMaterial"];
    let certificate = pem::encode(&pem::Pem::new(
        "CERTIFICATE",
        bytes(&material["x509CertificateChain"]["certificates"][0]["rawBytes"]),
    ));
    let entry = &material["tlogEntries"][0];
    let number = |v: &Value| text(v).parse::<i64>().unwrap_or_else(|e| panic!("{e}"));
    let rekor = RekorBundle {
        signed_entry_timestamp: bytes(&entry["inclusionPromise"]["signedEntryTimestamp"]),
        body: bytes(&entry["canonicalizedBody"]),
        integrated_time: number(&entry["integratedTime"]),
        log_index: number(&entry["logIndex"]),
        log_id: bytes(&entry["logId"]["keyId"])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    let annotations = BTreeMap::from([
        (CERTIFICATE_ANNOTATION.to_owned(), certificate),
        (BUNDLE_ANNOTATION.to_owned(), rekor.to_json()),
    ]);
    (annotations, bytes(&bundle["messageSignature"]["signature"]))
}

static STARTS_VERIFIED: LazyLock<()> = LazyLock::new(|| {
    let (annotations, signature) = fixture();
    let policy = &POLICIES[0];
    match PRODUCTION.verify_legacy(&annotations, &signature, ARTIFACT, policy) {
        Ok(verified) => check_passed(&verified, policy),
        Err(e) => panic!("the fixture's legacy annotations do not verify: {e}"),
    }
});

fuzz_target!(|data: &[u8]| {
    LazyLock::force(&STARTS_VERIFIED);
    let mut parts = data.splitn(5, |&b| b == 0xff);
    let mut annotations = BTreeMap::new();
    for key in KEYS {
        let part = parts.next().unwrap_or_default();
        if !part.is_empty() {
            annotations.insert(key.to_owned(), String::from_utf8_lossy(part).into_owned());
        }
    }
    let signature = parts.next().unwrap_or_default();

    if let Some(text) = annotations.get(BUNDLE_ANNOTATION)
        && let Ok(rekor) = RekorBundle::parse(text)
    {
        let _ = rekor.entry_kind();
        assert_eq!(RekorBundle::parse(&rekor.to_json()).ok(), Some(rekor));
    }
    if let Some(text) = annotations.get(RFC3161_TIMESTAMP_ANNOTATION)
        && let Ok(timestamp) = Rfc3161Timestamp::parse(text)
    {
        assert_eq!(
            Rfc3161Timestamp::parse(&timestamp.to_json()).ok(),
            Some(timestamp)
        );
    }

    for policy in LEGACY_POLICIES.iter() {
        if let Ok(verified) = PRODUCTION.verify_legacy(&annotations, signature, ARTIFACT, policy) {
            check_passed(&verified, policy);
        }
    }
});
