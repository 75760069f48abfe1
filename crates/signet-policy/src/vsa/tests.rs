//! slsa-verifier's `verify-vsa` cases on its own test data (Google's BCID VSA of a GKE node
//! image), each failing with slsa-verifier's error; and the specification's rules on the VSAs
//! signet writes.

use super::*;

const ENVELOPE: &[u8] =
    include_bytes!("../../tests/data/vsa/slsa-verifier/gke-gce-pre.bcid-vsa.jsonl");
const KEY: &[u8] = include_bytes!("../../tests/data/vsa/slsa-verifier/vsa_signing_public_key.pem");
const KEY_ID: &str = "keystore://76574:prod:vsa_signing_public_key";
const VERIFIER: &str = "https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1";
const RESOURCE: &str =
    "gce_image://gke-node-images:gke-12615-gke1418000-cos-101-17162-463-29-c-cgpv1-pre";
const DIGEST: &str = "gce_image_id:8970095005306000053";

fn key() -> PublicKey {
    PublicKey::parse(KEY).unwrap_or_else(|e| panic!("{e}"))
}

fn expect(digests: &[&str], verifier: &str, resource: &str, levels: &[&str]) -> VsaExpectations {
    VsaExpectations::new(verifier, digests.iter().map(|d| (*d).to_owned()).collect())
        .with_resource_uri(resource)
        .with_verified_levels(levels.iter().map(|l| (*l).to_owned()).collect())
}

/// slsa-verifier `verifiers/internal/vsa/vsa_test.go` `Test_VerifyVSA`, case by case.
#[test]
fn slsa_verifier_s_vsa_cases_have_slsa_verifier_s_outcomes() {
    let cases: [(&str, VsaExpectations, Option<VsaCheck>); 7] = [
        (
            "success",
            expect(
                &[DIGEST],
                VERIFIER,
                RESOURCE,
                &["BCID_L1", "SLSA_BUILD_LEVEL_2"],
            ),
            None,
        ),
        (
            "success: unspecified levels",
            expect(&[DIGEST], VERIFIER, RESOURCE, &[]),
            None,
        ),
        (
            "failure: missing levels",
            expect(&[DIGEST], VERIFIER, RESOURCE, &["SLSA_BUILD_LEVEL_3"]),
            Some(VsaCheck::MismatchVerifiedLevels),
        ),
        (
            "failure: unspecified subject digests",
            expect(&[], VERIFIER, RESOURCE, &[]),
            Some(VsaCheck::EmptyRequiredField),
        ),
        (
            "failure: mismatch subject digests",
            expect(&["my-giest:123"], VERIFIER, RESOURCE, &[]),
            Some(VsaCheck::MissingSubjectDigest),
        ),
        (
            "failure: mismatch resource URI",
            expect(&[DIGEST], VERIFIER, "my-uri://my/path", &[]),
            Some(VsaCheck::MismatchResourceUri),
        ),
        (
            "failure: mismatch verifier id",
            expect(
                &[DIGEST],
                "https://celestial-being.gn/gundam",
                RESOURCE,
                &[],
            ),
            Some(VsaCheck::MismatchVerifierId),
        ),
    ];
    for (name, expectations, want) in cases {
        let got = verify_envelope(ENVELOPE, &key(), Some(KEY_ID), &expectations);
        match (got, want) {
            (Ok(summary), None) => {
                assert_eq!(summary.verifier_id(), VERIFIER, "{name}");
                assert_eq!(summary.verified_levels(), ["BCID_L1", "SLSA_BUILD_LEVEL_2"]);
            }
            (Err(e), Some(check)) => assert_eq!(e.check(), check, "{name}: {e}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
    // Lower SLSA levels of a track are implied; a level of another track is not.
    assert!(
        verify_envelope(
            ENVELOPE,
            &key(),
            Some(KEY_ID),
            &expect(&[DIGEST], VERIFIER, RESOURCE, &["SLSA_BUILD_LEVEL_1"])
        )
        .is_ok()
    );
    let e = verify_envelope(
        ENVELOPE,
        &key(),
        Some(KEY_ID),
        &expect(&[DIGEST], VERIFIER, RESOURCE, &["SLSA_SOURCE_LEVEL_1"]),
    )
    .err();
    assert_eq!(
        e.map(|e| e.to_string()),
        Some("[vsa-levels] SLSA_SOURCE_LEVEL_1 is required; the VSA verifies no level of the SOURCE track".to_owned())
    );
}

#[test]
fn a_vsa_with_another_key_altered_payload_or_other_key_id_does_not_verify() {
    let expectations = expect(&[DIGEST], VERIFIER, RESOURCE, &[]);
    let other = signet_core::keys::PrivateKey::generate_p256()
        .and_then(|k| k.public_key())
        .unwrap_or_else(|e| panic!("{e}"));
    let e = verify_envelope(ENVELOPE, &other, Some(KEY_ID), &expectations).err();
    assert_eq!(e.map(|e| e.check()), Some(VsaCheck::NoValidSignature));
    // The signature's keyid names another key: not tried.
    let e = verify_envelope(ENVELOPE, &key(), Some("keystore://other"), &expectations).err();
    assert_eq!(e.map(|e| e.check()), Some(VsaCheck::NoValidSignature));
    // One byte of the payload changed (FAILED for PASSED would be caught by the signature
    // first): the signature no longer verifies.
    let mut doc: serde_json::Value =
        serde_json::from_slice(ENVELOPE).unwrap_or_else(|e| panic!("{e}"));
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(doc["payload"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let altered = String::from_utf8_lossy(&payload).replace("PASSED", "FAILED");
    doc["payload"] = json!(b64.encode(altered.as_bytes()));
    let e = verify_envelope(
        doc.to_string().as_bytes(),
        &key(),
        Some(KEY_ID),
        &expectations,
    )
    .err();
    assert_eq!(e.map(|e| e.check()), Some(VsaCheck::NoValidSignature));
    // Unsigned, the altered statement fails its result check.
    let e = check_statement(altered.as_bytes(), &expectations).err();
    assert_eq!(
        e.map(|e| e.to_string()),
        Some("[vsa-result] verificationResult is \"FAILED\", not \"PASSED\"".to_owned())
    );
}

#[test]
fn what_signet_writes_meets_the_specification_and_verifies_as_slsa_verifier_does() {
    let image = Digest::sha256_of(b"image");
    let summary = Summary::new("https://signet.dev/verifier", "oci://registry.example/app")
        .with_verifier_version("signet", "0.1.0")
        .with_policy(
            "file:///etc/signet/policy.yaml",
            Digest::sha256_of(b"policy"),
        )
        .with_input_attestation(
            Some("oci://registry.example/app@sha256:att".to_owned()),
            Digest::sha256_of(b"att"),
        )
        .with_result(
            VerificationResult::Passed,
            vec!["SLSA_BUILD_LEVEL_2".to_owned()],
        );
    let statement = summary.statement("registry.example/app", &image, 1_714_608_000);
    check_spec(&statement).unwrap_or_else(|v| panic!("{v:?}"));
    let value: serde_json::Value =
        serde_json::from_slice(&statement).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value["predicate"]["timeVerified"], "2024-05-02T00:00:00Z");
    assert_eq!(
        value["predicate"]["policy"]["digest"]["sha256"],
        Digest::sha256_of(b"policy").hex()
    );
    let private = signet_core::keys::PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
    let pae = signet_core::dsse::pae(signet_core::dsse::IN_TOTO_PAYLOAD_TYPE, &statement);
    let signature = private.sign(&pae).unwrap_or_else(|e| panic!("{e}"));
    let envelope = envelope_json(&statement, "", &signature);
    let verified = verify_envelope(
        &envelope,
        &private.public_key().unwrap_or_else(|e| panic!("{e}")),
        None,
        &VsaExpectations::new("https://signet.dev/verifier", vec![image.to_string()])
            .with_resource_uri("oci://registry.example/app")
            .with_verified_levels(vec!["SLSA_BUILD_LEVEL_1".to_owned()]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.statement(), statement.as_slice());

    // A failed decision writes FAILED levels, which the specification asks for.
    let failed = summary
        .clone()
        .with_result(
            VerificationResult::Failed,
            vec!["SLSA_BUILD_LEVEL_2".to_owned()],
        )
        .statement("registry.example/app", &image, 1_714_608_000);
    check_spec(&failed).unwrap_or_else(|v| panic!("{v:?}"));
    // Google's VSA has no policy digest (optional) and a custom level, which the spec allows;
    // its resourceUri's scheme `gce_image` has an underscore, which RFC 3986's scheme grammar
    // (in-toto's ResourceURI) does not: that, and only that, is reported. slsa-verifier does
    // not check the form, so consuming it (above) does not either.
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc: serde_json::Value = serde_json::from_slice(ENVELOPE).unwrap_or_else(|e| panic!("{e}"));
    let google = b64
        .decode(doc["payload"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let violations = check_spec(&google).err().unwrap_or_default();
    assert_eq!(
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [format!(
            "predicate.resourceUri: \"{RESOURCE}\" is not a URI"
        )]
    );
}

#[test]
fn each_specification_rule_is_checked() {
    let statement = |predicate: serde_json::Value| {
        json!({"_type": signet_core::intoto::STATEMENT_V1, "predicateType": VSA_PREDICATE_TYPE,
               "subject": [{"name": "x", "digest": {"sha256": "ab"}}], "predicate": predicate})
        .to_string()
    };
    let good = json!({"verifier": {"id": "https://v.example"}, "timeVerified": "2024-01-01T00:00:00Z",
        "resourceUri": "oci://r.example/app", "policy": {"uri": "https://p.example/policy"},
        "verificationResult": "PASSED", "verifiedLevels": ["SLSA_BUILD_LEVEL_3"]});
    assert_eq!(check_spec(statement(good.clone()).as_bytes()), Ok(()));
    for (edit, field, problem) in [
        (
            json!({"verifier": {}}),
            "predicate.verifier.id",
            "is required",
        ),
        (
            json!({"verifier": {"id": "not a uri"}}),
            "predicate.verifier.id",
            "is not a URI",
        ),
        (
            json!({"timeVerified": "yesterday"}),
            "predicate.timeVerified",
            "is not a timestamp",
        ),
        (
            json!({"resourceUri": null}),
            "predicate.resourceUri",
            "is required",
        ),
        (
            json!({"policy": {"digest": {"sha256": "ab"}}}),
            "predicate.policy.uri",
            "must contain a uri",
        ),
        (
            json!({"inputAttestations": [{"uri": "https://a.example"}]}),
            "predicate.inputAttestations",
            "entry 0 has no digest",
        ),
        (
            json!({"verificationResult": "OK"}),
            "predicate.verificationResult",
            "not PASSED or FAILED",
        ),
        (
            json!({"verifiedLevels": ["SLSA_BUILD_LEVEL_3", "SLSA_BUILD_LEVEL_2"]}),
            "predicate.verifiedLevels",
            "more than one level of the BUILD track",
        ),
        (
            json!({"verifiedLevels": ["SLSA_CUSTOM"]}),
            "predicate.verifiedLevels",
            "is not SLSA_<TRACK>_LEVEL_<n>",
        ),
        (
            json!({"verificationResult": "FAILED"}),
            "predicate.verifiedLevels",
            "a FAILED verification's levels",
        ),
        (
            json!({"dependencyLevels": {"SLSA_BUILD_LEVEL_1": -1}}),
            "predicate.dependencyLevels",
            "not a non-negative integer",
        ),
        (
            json!({"slsaVersion": "1"}),
            "predicate.slsaVersion",
            "is not MAJOR.MINOR",
        ),
    ] {
        let mut predicate = good.clone();
        for (k, v) in edit.as_object().into_iter().flatten() {
            if v.is_null() {
                predicate.as_object_mut().map(|o| o.remove(k));
            } else {
                predicate[k] = v.clone();
            }
        }
        let violations = check_spec(statement(predicate).as_bytes())
            .err()
            .unwrap_or_default();
        assert!(
            violations
                .iter()
                .any(|v| v.field == field && v.problem.contains(problem)),
            "{edit}: {violations:?}"
        );
    }
}
