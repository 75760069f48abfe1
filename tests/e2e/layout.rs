//! The embedded store: signing and verifying images in an OCI image layout, no server.

use serde_json::json;

use crate::common::{Scratch, read_to_string, sha256, stderr, stdout};
use crate::util::tar_with_one_file;

/// Writes an OCI layout with one image tagged `latest`, by hand (not with signet's own layout
/// code), and returns its manifest digest.
fn sample_layout(s: &Scratch, name: &str) -> String {
    let root = s.path(name);
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap_or_else(|e| panic!("{e}"));
    let put = |bytes: &[u8]| -> String {
        let digest = sha256(bytes);
        let hex = digest.trim_start_matches("sha256:");
        std::fs::write(blobs.join(hex), bytes).unwrap_or_else(|e| panic!("{e}"));
        digest
    };
    let layer = tar_with_one_file("hello.txt", name.as_bytes());
    let layer_digest = put(&layer);
    let config = serde_json::to_vec(&json!({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[layer_digest]}}))
        .expect("config JSON");
    let config_digest = put(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    }))
    .expect("manifest JSON");
    let digest = put(&manifest);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(root.join("index.json"), index.to_string()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    digest
}

#[test]
fn sign_and_verify_in_a_layout_by_tag_and_by_digest() {
    let s = Scratch::new();
    let digest = sample_layout(&s, "layout");
    let (key, public) = s.key_pair("k");
    let out = s
        .signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg("oci:layout:latest")
        .assert_success();
    assert!(
        stderr(&out).contains("names a tag, not a digest"),
        "{}",
        stderr(&out)
    );
    let by_digest = format!("oci:layout@{digest}");
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&by_digest)
        .assert_success();
    let payloads: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        payloads[0]["critical"]["type"],
        "cosign container image signature"
    );
    // The signature is stored in the same layout under Cosign's tag name.
    let index = read_to_string(s.path("layout/index.json"));
    let tag = format!("{}.sig", digest.replace(':', "-"));
    assert!(index.contains(&tag), "{index}");
}

#[test]
fn layout_verification_failures_are_denials_with_reasons() {
    let s = Scratch::new();
    let digest = sample_layout(&s, "layout");
    let (key, _) = s.key_pair("signer");
    let (_, stranger) = s.key_pair("stranger");
    let image = format!("oci:layout@{digest}");
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&stranger)
        .arg(&image)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&stranger)
        .arg(&image)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("signature 1 (layer sha256:"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // Without --insecure-ignore-tlog the log check fails, and says how to skip it.
    let (_, signer_pub) = (key, s.path("signer.pub"));
    let out = s
        .signet()
        .args(["verify", "--key"])
        .arg(&signer_pub)
        .arg(&image)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no transparency-log entry"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn signing_twice_with_the_same_key_adds_nothing_and_two_keys_both_verify() {
    let s = Scratch::new();
    let digest = sample_layout(&s, "layout");
    let (first, first_pub) = s.key_pair("first");
    let (second, second_pub) = s.key_pair("second");
    let image = format!("oci:layout@{digest}");
    for key in [&first, &first, &second] {
        s.signet()
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(key)
            .arg(&image)
            .assert_success();
    }
    let out = s
        .signet()
        .args([
            "verify",
            "--insecure-ignore-tlog=true",
            "--output",
            "text",
            "--key",
        ])
        .arg(&first_pub)
        .arg(&image)
        .assert_success();
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("1 other signature(s) did not verify"),
        "{}",
        stderr(&out)
    );
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&second_pub)
        .arg(&image)
        .assert_success();
}

#[test]
fn a_directory_that_is_not_a_layout_could_not_be_checked() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path("empty")).unwrap_or_else(|e| panic!("{e}"));
    let (_, public) = s.key_pair("k");
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg("oci:empty:latest")
        .assert_exit(2);
    assert!(
        stderr(&out).contains("not an OCI image layout"),
        "{}",
        stderr(&out)
    );
}
