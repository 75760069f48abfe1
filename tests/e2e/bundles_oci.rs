//! Cosign v3's format on a real docker-registry (2.8: no referrers API, so the referrers tag
//! schema): the real kubewarden-controller v1.34.0 signature (a Sigstore bundle v0.3 from
//! `../shared/testdata/realworld`) pushed as an OCI 1.1 referrer manifest of its image digest,
//! verified by identity, and refused with the failed check named.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::util::{Registry, make_sample_image, push_blob, push_manifest};

const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const KUBEWARDEN_DIGEST: &str =
    "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
const IDENTITY: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn realworld() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/realworld")
}

fn trusted_root() -> PathBuf {
    realworld().join("../conformance/_trust/production/trusted_root.json")
}

fn kubewarden_bundle() -> Vec<u8> {
    let path = realworld().join("sigstore-rs/tests/data/bundle_v03.json");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Pushes `bundle` as Cosign v3 does (empty config, one bundle layer, `subject` = `subject`)
/// and lists it in the referrers tag schema index `sha256-<hex>`, as go-containerregistry
/// does on registries without the referrers API.
fn push_referrer(host: &str, repo: &str, subject: &str, bundle: &[u8]) {
    let empty = b"{}";
    let config = push_blob(host, repo, empty, sha256);
    let layer = push_blob(host, repo, bundle, sha256);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": BUNDLE_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": BUNDLE_TYPE, "digest": layer, "size": bundle.len()}],
        "subject": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": subject,
            "size": 1234
        },
        "annotations": {
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
            "org.opencontainers.image.created": "2025-10-01T00:00:00Z"
        }
    })
    .to_string();
    let manifest_digest = sha256(manifest.as_bytes());
    push_manifest(
        host,
        repo,
        &manifest_digest,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "artifactType": BUNDLE_TYPE,
            "annotations": {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"}
        }]
    })
    .to_string();
    push_manifest(
        host,
        repo,
        &subject.replace(':', "-"),
        "application/vnd.oci.image.index.v1+json",
        index.as_bytes(),
    );
}

fn verify_identity(s: &Scratch, identity: &[&str], image: &str, code: i32) -> (String, String) {
    let out = s
        .signet()
        .arg("verify")
        .args(identity)
        .arg("--trusted-root")
        .arg(trusted_root())
        .arg(image)
        .assert_exit(code);
    (stdout(&out), stderr(&out))
}

#[test]
fn a_cosign_v3_signature_in_a_referrer_verifies_by_identity_and_wrong_ones_name_the_check() {
    let registry = Registry::start();
    let s = Scratch::new();
    let host = registry.host();
    push_referrer(&host, "kubewarden", KUBEWARDEN_DIGEST, &kubewarden_bundle());
    let image = format!("{host}/kubewarden@{KUBEWARDEN_DIGEST}");

    let (out, err) = verify_identity(
        &s,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &image,
        0,
    );
    let line: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(line["identity"], IDENTITY);
    assert_eq!(line["issuer"], ISSUER);
    assert_eq!(
        line["statement"]["predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert!(err.contains("referrers tag schema"), "{err}");

    // An anchored regex that matches, and the certificate's GitHub workflow claims.
    verify_identity(
        &s,
        &[
            "--certificate-identity-regexp",
            "https://github\\.com/kubewarden/.*",
            "--certificate-oidc-issuer-regexp",
            "https://token\\.actions\\.githubusercontent\\.com",
            "--certificate-github-workflow-repository",
            "kubewarden/kubewarden-controller",
            "--certificate-github-workflow-ref",
            "refs/tags/v1.34.0",
        ],
        &image,
        0,
    );

    let wrong_tag = IDENTITY.replace("v1.34.0", "v1.33.0");
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--certificate-identity",
                &wrong_tag,
                "--certificate-oidc-issuer",
                ISSUER,
            ],
            "[identity]",
        ),
        (
            &[
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
            ],
            "[issuer]",
        ),
        (
            // Anchored: a prefix of the identity does not match.
            &[
                "--certificate-identity-regexp",
                "https://github\\.com/kubewarden",
                "--certificate-oidc-issuer",
                ISSUER,
            ],
            "[identity]",
        ),
        (
            &[
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                ISSUER,
                "--certificate-github-workflow-trigger",
                "pull_request",
            ],
            "[certificate-extension]",
        ),
        (
            &[
                "--certificate-identity-regexp",
                ".*",
                "--certificate-oidc-issuer-regexp",
                "https://token",
            ],
            "[issuer]",
        ),
    ];
    for (flags, check) in cases {
        let (out, err) = verify_identity(&s, flags, &image, 1);
        assert!(out.trim().is_empty(), "{flags:?}: {out}");
        assert!(err.contains(check), "{flags:?}: expected {check}: {err}");
    }
}

#[test]
fn a_bundle_for_another_digest_fails_and_legacy_signatures_still_verify_beside_it() {
    let registry = Registry::start();
    let s = Scratch::new();
    let host = registry.host();
    let (key, public) = s.key_pair("cosign");
    let digest = make_sample_image(&host, "app", "v1", sha256);
    let image = format!("{host}/app@{digest}");
    // The kubewarden bundle, attached to an image it was not made for.
    push_referrer(&host, "app", &digest, &kubewarden_bundle());
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();

    let (_, err) = verify_identity(
        &s,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &image,
        1,
    );
    assert!(err.contains("[artifact-digest]"), "{err}");

    // With the key: the legacy .sig passes, whatever the referrer holds; Cosign's JSON first.
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(trusted_root())
        .arg(&image)
        .assert_success();
    let payloads: Value =
        serde_json::from_str(stdout(&out).lines().next().expect("a first line on stdout"))
            .unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    // And without --trusted-root, only the legacy format is read, as before.
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_success();
}

#[test]
fn a_key_does_not_verify_a_certificate_bundle_and_attestations_need_their_type() {
    let registry = Registry::start();
    let s = Scratch::new();
    let host = registry.host();
    let (_, public) = s.key_pair("cosign");
    push_referrer(&host, "both", KUBEWARDEN_DIGEST, &kubewarden_bundle());
    let image = format!("{host}/both@{KUBEWARDEN_DIGEST}");
    // No legacy .sig, and the bundle holds a certificate, not a key: denied, check named.
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(trusted_root())
        .arg(&image)
        .assert_exit(1);
    assert!(stderr(&out).contains("[material]"), "{}", stderr(&out));
    // verify-attestation reads the referrers too: the signature bundle is not an attestation
    // of the type asked for, so nothing passes.
    let out = s
        .signet()
        .args(["verify-attestation", "--type", "slsaprovenance"])
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .arg("--trusted-root")
        .arg(trusted_root())
        .arg(&image)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no Sigstore bundles found"),
        "{}",
        stderr(&out)
    );
}
