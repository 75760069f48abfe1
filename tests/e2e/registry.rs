//! Signing and verifying on a real docker-registry.

use serde_json::Value;

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::util::{Setup, fetch_manifest, make_sample_image, push_blob, push_manifest};

#[test]
fn sign_then_verify_by_digest_stores_cosigns_format() {
    let t = Setup::new();
    let (image, digest) = t.image("app", "v1");
    let (key, public) = t.s.key_pair("k");
    t.sign(&key, &image);
    let out = t.verify(&public, &image, 0);
    let payloads: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        payloads[0]["critical"]["identity"]["docker-reference"],
        format!("{}/app", t.registry.host())
    );
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );

    let manifest = t.signature_manifest("app", &digest);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(layer["annotations"]["dev.cosignproject.cosign/signature"].is_string());
}

#[test]
fn signing_a_tag_resolves_it_once_and_warns() {
    let t = Setup::new();
    let (_, digest) = t.image("app", "v1");
    let (key, public) = t.s.key_pair("k");
    let out = t.sign(&key, &format!("{}/app:v1", t.registry.host()));
    assert!(
        stderr(&out).contains("names a tag, not a digest"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&digest), "{}", stderr(&out));
    t.verify(&public, &format!("{}/app:v1", t.registry.host()), 0);
}

#[test]
fn a_second_signer_appends_and_earlier_signatures_survive() {
    let t = Setup::new();
    let (image, digest) = t.image("app", "v1");
    let (first, first_pub) = t.s.key_pair("first");
    let (second, second_pub) = t.s.key_pair("second");
    t.sign(&first, &image);
    t.sign(&second, &image);
    let out = t.sign(&second, &image);
    assert!(
        stderr(&out).contains("already signed by this key"),
        "{}",
        stderr(&out)
    );
    let manifest = t.signature_manifest("app", &digest);
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(2));
    t.verify(&first_pub, &image, 0);
    t.verify(&second_pub, &image, 0);
}

#[test]
fn annotations_are_signed_and_can_be_required() {
    let t = Setup::new();
    let (image, _) = t.image("app", "v1");
    let (key, public) = t.s.key_pair("k");
    t.s.signet()
        .args([
            "sign",
            "--tlog-upload=false",
            "-a",
            "env=prod",
            "-a",
            "team=<core>",
            "--key",
        ])
        .arg(&key)
        .arg(&image)
        .assert_success();
    let out =
        t.s.signet()
            .args([
                "verify",
                "--insecure-ignore-tlog=true",
                "-a",
                "env=prod",
                "--key",
            ])
            .arg(&public)
            .arg(&image)
            .assert_success();
    let payloads: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(payloads[0]["optional"]["team"], "<core>");
    let out =
        t.s.signet()
            .args([
                "verify",
                "--insecure-ignore-tlog=true",
                "-a",
                "env=dev",
                "--key",
            ])
            .arg(&public)
            .arg(&image)
            .assert_exit(1);
    assert!(
        stderr(&out).contains("annotation env is \"prod\", required \"dev\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unsigned_image_is_denied() {
    let t = Setup::new();
    let (image, _) = t.image("app", "v1");
    let (_, public) = t.s.key_pair("k");
    let out = t.verify(&public, &image, 1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_tampered_payload_is_rejected() {
    let t = Setup::new();
    let (image, digest) = t.image("app", "v1");
    let (key, public) = t.s.key_pair("k");
    t.sign(&key, &image);
    let mut manifest = t.signature_manifest("app", &digest);
    // Same signature, different payload bytes (an added annotation).
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":{{"tampered":"yes"}}}}"#,
        t.registry.host()
    );
    let payload_digest = push_blob(&t.registry.host(), "app", payload.as_bytes(), sha256);
    manifest["layers"][0]["digest"] = Value::from(payload_digest);
    manifest["layers"][0]["size"] = Value::from(payload.len());
    let bytes = serde_json::to_vec(&manifest).expect("manifest JSON");
    push_manifest(
        &t.registry.host(),
        "app",
        &Setup::sig_tag(&digest),
        "application/vnd.oci.image.manifest.v1+json",
        &bytes,
    );
    let out = t.verify(&public, &image, 1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_signature_manifest_copied_from_another_image_is_rejected() {
    let t = Setup::new();
    let (signed, signed_digest) = t.image("signed", "v1");
    let digest_b = make_sample_image(&t.registry.host(), "signed", "other", sha256);
    let (key, public) = t.s.key_pair("k");
    t.sign(&key, &signed);
    let manifest = t.signature_manifest("signed", &signed_digest);
    let bytes = serde_json::to_vec(&manifest).expect("manifest JSON");
    push_manifest(
        &t.registry.host(),
        "signed",
        &Setup::sig_tag(&digest_b),
        "application/vnd.oci.image.manifest.v1+json",
        &bytes,
    );
    let out = t.verify(
        &public,
        &format!("{}/signed@{digest_b}", t.registry.host()),
        1,
    );
    assert!(
        stderr(&out).contains("belongs to another image"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_password_signs_nothing() {
    let t = Setup::new();
    let (image, digest) = t.image("app", "v1");
    let (key, _) = t.s.key_pair("k");
    let out =
        t.s.signet()
            .env("COSIGN_PASSWORD", "wrong")
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(&key)
            .arg(&image)
            .assert_exit(1);
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("wrong\n") && !stderr(&out).contains("\"wrong\""));
    let response = fetch_manifest(&t.registry.host(), "app", &Setup::sig_tag(&digest));
    assert_eq!(response.status, 404);
}

#[test]
fn an_unreachable_registry_could_not_be_checked_exit_2() {
    let s = Scratch::new();
    let (_, public) = s.key_pair("k");
    // Port 1 on loopback: nothing listens there.
    let image = format!("127.0.0.1:1/app@{}", sha256(b"x"));
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_exit(2);
    assert!(
        stderr(&out).contains("could not be reached"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_image_cannot_be_signed_or_verified() {
    let t = Setup::new();
    let (key, public) = t.s.key_pair("k");
    let image = format!("{}/nothing:here", t.registry.host());
    let out =
        t.s.signet()
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(&key)
            .arg(&image)
            .assert_exit(1);
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = t.verify(&public, &image, 2);
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn cosign_repository_keeps_signatures_elsewhere() {
    let t = Setup::new();
    let (image, digest) = t.image("app", "v1");
    let (key, public) = t.s.key_pair("k");
    let elsewhere = format!("{}/signatures", t.registry.host());
    t.s.signet()
        .env("COSIGN_REPOSITORY", &elsewhere)
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();
    assert_eq!(
        fetch_manifest(&t.registry.host(), "app", &Setup::sig_tag(&digest)).status,
        404
    );
    t.signature_manifest("signatures", &digest);
    t.s.signet()
        .env("COSIGN_REPOSITORY", &elsewhere)
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_success();
    // Without COSIGN_REPOSITORY, signet looks beside the image and finds nothing.
    let out = t.verify(&public, &image, 1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn many_images_in_one_call() {
    let t = Setup::new();
    let images: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|r| t.image(r, "v1").0)
        .collect();
    let (key, public) = t.s.key_pair("k");
    t.s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .args(&images)
        .assert_success();
    let out =
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(&public)
            .args(&images)
            .assert_success();
    let payloads: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(payloads.as_array().map(Vec::len), Some(4));
    // One unsigned image among signed ones makes the whole call a denial.
    let (unsigned, _) = t.image("e", "v1");
    let out =
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(&public)
            .args(&images)
            .arg(&unsigned)
            .assert_exit(1);
    assert!(
        stderr(&out).contains(&format!("{unsigned}: no signatures found")),
        "{}",
        stderr(&out)
    );
}
