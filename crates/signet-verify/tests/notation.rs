//! Notation fits the one-call API: `Verifier::check` with an `Authority::Notation` answers
//! "is this image signed by …" for Notary Project signatures, as it does for Cosign's, on the
//! notation CLI's own signed OCI layout (tests/data/notation/notation-e2e).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use signet_core::intoto::PredicateType;
use signet_notation::policy::{StoreRef, TrustedIdentities, VerificationLevel};
use signet_notation::{Statement, TrustStore};
use signet_oci::{ClientOptions, OciClient};
use signet_verify::notation::NotationAuthority;
use signet_verify::{Authority, KeyAuthority, KeyVerifier, Question, Verdict, Verifier};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/notation")
        .join(rel)
}

fn authority(cert: &str) -> Authority {
    let store = StoreRef::parse("ca:e2e").unwrap_or_else(|e| panic!("{e}"));
    let mut trust = TrustStore::new();
    let bytes = std::fs::read(data(&format!("notation-e2e/localkeys/{cert}")))
        .unwrap_or_else(|e| panic!("{e}"));
    trust.add_file(&store, cert, &bytes);
    let statement = Statement::new(
        "e2e",
        VerificationLevel::strict(),
        vec![store],
        TrustedIdentities::parse(&["*".to_owned()]).unwrap_or_else(|e| panic!("{e}")),
    );
    // 2025-06-01: a fixed time, inside e2e.crt's validity.
    let at = UNIX_EPOCH + Duration::from_secs(1_748_736_000);
    Authority::Notation(NotationAuthority::new(statement, Arc::new(trust)).at(at))
}

fn image() -> signet_core::reference::ImageReference {
    format!(
        "oci:{}:v1",
        data("notation-e2e/oci_layout/e2e-valid-signature").display()
    )
    .parse()
    .unwrap_or_else(|e| panic!("{e}"))
}

fn check(authority: &Authority, question: &Question) -> signet_verify::ImageCheck {
    let client = OciClient::new(ClientOptions::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(Verifier::new(&client).check(&image(), authority, question))
}

#[test]
fn a_notation_authority_answers_the_signature_question_with_the_check_that_failed() {
    let yes = check(&authority("e2e.crt"), &Question::signature());
    assert_eq!(yes.verdict(), Verdict::Verified, "{:?}", yes.reasons());

    let untrusted = check(&authority("new_e2e.crt"), &Question::signature());
    assert_eq!(untrusted.verdict(), Verdict::Denied);
    let checks: Vec<&str> = untrusted.rejections().iter().map(|r| r.check).collect();
    assert_eq!(checks, ["trust-store"]);

    let attestation = check(
        &authority("e2e.crt"),
        &Question::attestation(
            PredicateType::from_name("slsaprovenance").unwrap_or_else(|e| panic!("{e}")),
        ),
    );
    assert_eq!(attestation.verdict(), Verdict::Denied);
    assert!(
        attestation.reasons()[0].contains("not attestations"),
        "{:?}",
        attestation.reasons()
    );
}

#[test]
fn a_cosign_key_ignores_notary_project_signatures() {
    let key = signet_core::keys::PrivateKey::generate_p256()
        .and_then(|k| k.public_key())
        .unwrap_or_else(|e| panic!("{e}"));
    let cosign = Authority::Key(
        KeyAuthority::new(KeyVerifier::new(key), None)
            .with_tlog(signet_verify::TlogPolicy::InsecureIgnore),
    );
    let answer = check(&cosign, &Question::signature());
    assert_eq!(answer.verdict(), Verdict::Denied);
    assert!(answer.rejections().is_empty(), "{:?}", answer.rejections());
}
