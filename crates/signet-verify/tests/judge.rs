//! The pure judgement, one test per check, against evidence built here (no registry).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::{BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_core::digest::Digest;
use signet_core::keys::PrivateKey;
use signet_core::manifest::Descriptor;
use signet_core::payload::simple_signing_payload;
use signet_verify::{
    AttachmentEvidence, CheckOptions, KeyVerifier, LayerEvidence, SignatureFailure, TlogPolicy,
    Unreadable, judge,
};

struct Fixture {
    key: PrivateKey,
    digest: Digest,
}

impl Fixture {
    fn new() -> Self {
        Self {
            key: PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}")),
            digest: Digest::sha256_of(b"image manifest"),
        }
    }

    fn verifier(&self) -> KeyVerifier {
        KeyVerifier::new(self.key.public_key().unwrap_or_else(|e| panic!("{e}")))
    }

    fn signature(&self, payload: &[u8], signer: &PrivateKey) -> LayerEvidence {
        let mut layer = Descriptor::for_bytes(SIMPLE_SIGNING_MEDIA_TYPE, payload);
        let signature = signer.sign(payload).unwrap_or_else(|e| panic!("{e}"));
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature));
        LayerEvidence {
            index: 0,
            layer,
            content: Ok(payload.to_vec()),
        }
    }

    fn payload_for(&self, digest: &Digest, annotations: &[(&str, &str)]) -> Vec<u8> {
        let annotations: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        simple_signing_payload("registry.example/app", digest, &annotations)
    }

    fn evidence(&self, signatures: Vec<LayerEvidence>) -> AttachmentEvidence {
        AttachmentEvidence {
            image: format!("registry.example/app@{}", self.digest),
            repository: "registry.example/app".to_owned(),
            digest: self.digest.clone(),
            resolved_from_tag: false,
            location: "registry.example/app:sig".to_owned(),
            layers: signatures,
            skipped_layers: 0,
        }
    }

    fn first_failure(
        &self,
        signature: LayerEvidence,
        options: &CheckOptions,
    ) -> Option<SignatureFailure> {
        let report = judge(&self.evidence(vec![signature]), &self.verifier(), options);
        report.rejected().first().map(|r| r.failure.clone())
    }
}

fn ignore_tlog() -> CheckOptions {
    CheckOptions {
        tlog: TlogPolicy::InsecureIgnore,
        ..CheckOptions::default()
    }
}

#[test]
fn a_good_signature_passes() {
    let f = Fixture::new();
    let payload = f.payload_for(&f.digest, &[]);
    let report = judge(
        &f.evidence(vec![f.signature(&payload, &f.key)]),
        &f.verifier(),
        &ignore_tlog(),
    );
    assert!(report.is_verified(), "{}", report.summary());
    assert_eq!(report.verified()[0].payload(), payload.as_slice());
}

#[test]
fn no_signatures_is_a_denial_not_an_error() {
    let f = Fixture::new();
    let report = judge(&f.evidence(vec![]), &f.verifier(), &ignore_tlog());
    assert!(!report.is_verified());
    assert!(
        report.summary().contains("no signatures found"),
        "{}",
        report.summary()
    );
}

#[test]
fn another_key_is_rejected() {
    let f = Fixture::new();
    let other = PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
    let payload = f.payload_for(&f.digest, &[]);
    assert!(matches!(
        f.first_failure(f.signature(&payload, &other), &ignore_tlog()),
        Some(SignatureFailure::SignatureMismatch)
    ));
}

#[test]
fn a_tampered_payload_is_rejected() {
    let f = Fixture::new();
    let payload = f.payload_for(&f.digest, &[]);
    let mut signature = f.signature(&payload, &f.key);
    let mut tampered = payload.clone();
    tampered.extend_from_slice(b" ");
    signature.content = Ok(tampered);
    assert!(matches!(
        f.first_failure(signature, &ignore_tlog()),
        Some(SignatureFailure::SignatureMismatch)
    ));
}

#[test]
fn a_signature_copied_from_another_image_is_rejected() {
    let f = Fixture::new();
    let other_digest = Digest::sha256_of(b"another image");
    let payload = f.payload_for(&other_digest, &[]);
    match f.first_failure(f.signature(&payload, &f.key), &ignore_tlog()) {
        Some(SignatureFailure::DigestMismatch { claimed, actual }) => {
            assert_eq!(claimed, other_digest.to_string());
            assert_eq!(actual, f.digest);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[test]
fn required_annotations_must_match_exactly() {
    let f = Fixture::new();
    let payload = f.payload_for(&f.digest, &[("env", "prod")]);
    let mut options = ignore_tlog();
    options
        .required_annotations
        .insert("env".into(), "prod".into());
    assert!(
        f.first_failure(f.signature(&payload, &f.key), &options)
            .is_none()
    );
    options
        .required_annotations
        .insert("env".into(), "staging".into());
    assert!(matches!(
        f.first_failure(f.signature(&payload, &f.key), &options),
        Some(SignatureFailure::AnnotationMismatch {
            actual: Some(_),
            ..
        })
    ));
    options.required_annotations.clear();
    options
        .required_annotations
        .insert("team".into(), "x".into());
    assert!(matches!(
        f.first_failure(f.signature(&payload, &f.key), &options),
        Some(SignatureFailure::AnnotationMismatch { actual: None, .. })
    ));
}

#[test]
fn malformed_layers_are_rejected_with_their_reason() {
    let f = Fixture::new();
    let payload = f.payload_for(&f.digest, &[]);

    let mut wrong_type = f.signature(&payload, &f.key);
    wrong_type.layer.media_type = "application/octet-stream".into();
    assert!(matches!(
        f.first_failure(wrong_type, &ignore_tlog()),
        Some(SignatureFailure::NotSimpleSigning { .. })
    ));

    let mut unsigned = f.signature(&payload, &f.key);
    unsigned.layer.annotations.clear();
    assert!(matches!(
        f.first_failure(unsigned, &ignore_tlog()),
        Some(SignatureFailure::MissingSignature)
    ));

    let mut bad_base64 = f.signature(&payload, &f.key);
    bad_base64
        .layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), "not base64!".into());
    assert!(matches!(
        f.first_failure(bad_base64, &ignore_tlog()),
        Some(SignatureFailure::MalformedSignature)
    ));

    let mut missing = f.signature(&payload, &f.key);
    missing.content = Err(Unreadable::OverLimit {
        what: "layer",
        size: 1 << 30,
        limit: 1 << 20,
    });
    assert!(matches!(
        f.first_failure(missing, &ignore_tlog()),
        Some(SignatureFailure::PayloadUnavailable(_))
    ));

    let not_json = b"not json".to_vec();
    assert!(matches!(
        f.first_failure(f.signature(&not_json, &f.key), &ignore_tlog()),
        Some(SignatureFailure::MalformedPayload(_))
    ));
}

#[test]
fn the_transparency_log_is_required_unless_ignored() {
    let f = Fixture::new();
    let payload = f.payload_for(&f.digest, &[]);
    let required = CheckOptions::default();
    assert!(matches!(
        f.first_failure(f.signature(&payload, &f.key), &required),
        Some(SignatureFailure::TlogRequired { has_bundle: false })
    ));
    let mut with_bundle = f.signature(&payload, &f.key);
    with_bundle
        .layer
        .annotations
        .insert(BUNDLE_ANNOTATION.into(), "{}".into());
    assert!(matches!(
        f.first_failure(with_bundle, &required),
        Some(SignatureFailure::TlogRequired { has_bundle: true })
    ));
}

#[test]
fn one_good_signature_among_bad_ones_is_enough_and_the_bad_ones_are_listed() {
    let f = Fixture::new();
    let other = PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
    let payload = f.payload_for(&f.digest, &[]);
    let mut bad = f.signature(&payload, &other);
    bad.index = 0;
    let mut good = f.signature(&payload, &f.key);
    good.index = 1;
    let report = judge(&f.evidence(vec![bad, good]), &f.verifier(), &ignore_tlog());
    assert!(report.is_verified());
    assert_eq!(report.verified()[0].index(), 1);
    assert_eq!(report.rejected().len(), 1);
    assert!(report.rejected()[0].to_string().starts_with("signature 1 "));
}
