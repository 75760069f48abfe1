//! Multi-platform images (issue 17): `sign --recursive` and `attest --recursive` with Cosign's
//! semantics, `tree` showing each platform, and verifying a platform image through a signed
//! index that lists it, on a real docker-registry with a two-platform index; skopeo 1.18
//! checks each platform image's signature under `sigstoreSigned`.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::util::{
    OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, Registry, Skopeo, accept_anything_policy,
    fetch_manifest, push_blob, push_manifest, sigstore_policy, tar_with_one_file,
};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A platform image of `repo`, pushed by digest only. Returns its manifest's descriptor.
fn platform_image(host: &str, repo: &str, os: &str, arch: &str) -> Value {
    let layer = tar_with_one_file("hello.txt", format!("{repo} for {os}/{arch}\n").as_bytes());
    let layer_digest = push_blob(host, repo, &layer, sha256);
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "os": os, "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .unwrap_or_default();
    let config_digest = push_blob(host, repo, &config, sha256);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap_or_default();
    let digest = push_manifest(host, repo, &sha256(&manifest), OCI_MANIFEST, &manifest);
    json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(),
           "platform": {"os": os, "architecture": arch}})
}

/// A two-platform image (linux/amd64, linux/arm64) tagged `tag`: the index digest and the
/// two platform digests.
fn two_platform_index(host: &str, repo: &str, tag: &str) -> (String, [String; 2]) {
    let amd64 = platform_image(host, repo, "linux", "amd64");
    let arm64 = platform_image(host, repo, "linux", "arm64");
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd64, arm64],
    }))
    .unwrap_or_default();
    let digest = push_manifest(host, repo, tag, OCI_INDEX, &index);
    let text = |v: &Value| v["digest"].as_str().unwrap_or_default().to_owned();
    (digest, [text(&amd64), text(&arm64)])
}

fn verify(
    s: &Scratch,
    public: &Path,
    image: &str,
    extra: &[&str],
    code: i32,
) -> std::process::Output {
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(public)
        .args(extra)
        .arg(image)
        .assert_exit(code)
}

fn skopeo_accepts(host: &str, image: &str, key: &Path) -> std::process::Output {
    let skopeo = Skopeo::new(host, accept_anything_policy());
    skopeo.set_policy(&sigstore_policy(
        host,
        &[key],
        json!({"type": "matchRepository"}),
    ));
    let dest = format!("dir:{}", skopeo.dir().join("out").display());
    skopeo.copy(&[&format!("docker://{image}"), &dest])
}

fn signature_count(host: &str, repo: &str, digest: &str) -> usize {
    let response = fetch_manifest(host, repo, &format!("{}.sig", digest.replace(':', "-")));
    if response.status != 200 {
        return 0;
    }
    let manifest: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    manifest["layers"].as_array().map_or(0, Vec::len)
}

#[test]
fn recursive_signing_leaves_every_manifest_verifiable_by_signet_and_skopeo() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (index, platforms) = two_platform_index(&host, "app", "v1");
    let out = s
        .signet()
        .args(["sign", "--recursive", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/app:v1"))
        .assert_success();
    assert!(stderr(&out).contains("3 manifest(s)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("linux/arm64"), "{}", stderr(&out));
    for digest in std::iter::once(&index).chain(&platforms) {
        let image = format!("{host}/app@{digest}");
        let out = verify(&s, &public, &image, &[], 0);
        let payloads: Value = serde_json::from_str(&stdout(&out)).expect("payloads");
        assert_eq!(
            payloads[0]["critical"]["image"]["docker-manifest-digest"],
            digest.as_str(),
            "each manifest is signed by its own digest"
        );
        assert_eq!(signature_count(&host, "app", digest), 1);
    }
    // skopeo reads each platform image's own signature.
    let (_, stranger) = s.key_pair("stranger");
    for digest in &platforms {
        let image = format!("{host}/app@{digest}");
        let out = skopeo_accepts(&host, &image, &public);
        assert!(
            out.status.success(),
            "skopeo refused {image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = skopeo_accepts(&host, &image, &stranger);
        assert!(
            !out.status.success(),
            "skopeo accepted {image} under the wrong key"
        );
    }
    // Without --recursive only the index is signed, as in Cosign.
    let (other, other_platforms) = two_platform_index(&host, "plain", "v1");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/plain@{other}"))
        .assert_success();
    assert_eq!(signature_count(&host, "plain", &other), 1);
    assert_eq!(signature_count(&host, "plain", &other_platforms[0]), 0);
}

#[test]
fn concurrent_recursive_signers_lose_no_signature() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let keys: Vec<_> = (0..3).map(|i| s.key_pair(&format!("signer{i}"))).collect();
    let (index, platforms) = two_platform_index(&host, "app", "v1");
    std::thread::scope(|scope| {
        let signers: Vec<_> = keys
            .iter()
            .map(|(key, _)| {
                let s = &s;
                let host = &host;
                scope.spawn(move || {
                    s.signet()
                        .args(["sign", "--recursive", "--tlog-upload=false", "--key"])
                        .arg(key)
                        .arg(format!("{host}/app:v1"))
                        .assert_success();
                })
            })
            .collect();
        for signer in signers {
            signer.join().expect("a signer thread panicked");
        }
    });
    for digest in std::iter::once(&index).chain(&platforms) {
        assert_eq!(signature_count(&host, "app", digest), 3, "{digest}");
        for (_, public) in &keys {
            verify(&s, public, &format!("{host}/app@{digest}"), &[], 0);
        }
    }
}

#[test]
fn a_platform_image_verifies_through_a_signed_index_only_when_asked_and_only_if_listed() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (index, [amd64, _]) = two_platform_index(&host, "app", "v1");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/app@{index}"))
        .assert_success();
    let platform = format!("{host}/app:v1@{amd64}");
    // Cosign's rule by default: the platform digest itself is not signed.
    let out = verify(&s, &public, &platform, &[], 1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    // Asked to, through the index the reference's tag names.
    let out = verify(&s, &public, &platform, &["--accept-index-signature"], 0);
    assert!(
        stderr(&out).contains("listed by the index"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("for linux/amd64"), "{}", stderr(&out));
    let payloads: Value = serde_json::from_str(&stdout(&out)).expect("payloads");
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        index.as_str(),
        "what verified is the index's signature"
    );
    // Or through an index named explicitly.
    verify(
        &s,
        &public,
        &format!("{host}/app@{amd64}"),
        &[&format!("--accept-index-signature={host}/app@{index}")],
        0,
    );
    // A digest the signed index does not list is refused, with that reason.
    let stray = platform_image(&host, "app", "linux", "riscv64");
    let stray = stray["digest"].as_str().unwrap_or_default();
    let out = verify(
        &s,
        &public,
        &format!("{host}/app:v1@{stray}"),
        &["--accept-index-signature"],
        1,
    );
    assert!(
        stderr(&out).contains(&format!("does not list {stray}")),
        "{}",
        stderr(&out)
    );
    // A listed digest whose index is signed by someone else is refused too.
    let (_, stranger) = s.key_pair("stranger");
    let out = verify(&s, &stranger, &platform, &["--accept-index-signature"], 1);
    assert!(
        stderr(&out).contains("no signature of the index verified"),
        "{}",
        stderr(&out)
    );
    // Without a tag there is no index to go through.
    let out = verify(
        &s,
        &public,
        &format!("{host}/app@{amd64}"),
        &["--accept-index-signature"],
        1,
    );
    assert!(stderr(&out).contains("names no tag"), "{}", stderr(&out));
    // An index of another repository is not taken.
    let out = verify(
        &s,
        &public,
        &format!("{host}/app@{amd64}"),
        &[&format!("--accept-index-signature={host}/elsewhere:v1")],
        2,
    );
    assert!(
        stderr(&out).contains("not in the repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn recursive_attestations_and_tree_show_each_platform() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (index, platforms) = two_platform_index(&host, "app", "v1");
    let predicate = s.write("predicate.json", br#"{"built":"yes"}"#);
    s.signet()
        .args(["attest", "--recursive", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg("--predicate")
        .arg(&predicate)
        .arg(format!("{host}/app@{index}"))
        .assert_success();
    for digest in std::iter::once(&index).chain(&platforms) {
        s.signet()
            .args(["verify-attestation", "--insecure-ignore-tlog=true", "--key"])
            .arg(&public)
            .arg(format!("{host}/app@{digest}"))
            .assert_success();
    }
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/app@{}", platforms[1]))
        .assert_success();
    let out = s
        .signet()
        .args(["tree", &format!("{host}/app:v1")])
        .assert_success();
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Platforms of the image index {index} (2)")),
        "{text}"
    );
    let amd64 = text.find("linux/amd64").expect("linux/amd64 listed");
    let arm64 = text.find("linux/arm64").expect("linux/arm64 listed");
    let section = &text[amd64..arm64];
    assert!(section.contains("💾 Attestations"), "{section}");
    assert!(!section.contains("🔐 Signatures"), "{section}");
    let section = &text[arm64..];
    assert!(
        section.contains(&format!("{}.sig", platforms[1].replace(':', "-"))),
        "{section}"
    );
}

#[test]
fn recursive_signing_in_an_oci_layout() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (index, platforms) = two_platform_index(&host, "app", "v1");
    s.signet()
        .arg("copy")
        .arg(format!("{host}/app:v1"))
        .arg("oci:layout:v1")
        .assert_success();
    s.signet()
        .args(["sign", "--recursive", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg("oci:layout:v1")
        .assert_success();
    for digest in std::iter::once(&index).chain(&platforms) {
        verify(&s, &public, &format!("oci:layout@{digest}"), &[], 0);
    }
}

#[test]
fn a_policy_accepts_index_signatures_for_platform_images_only_when_it_says_so() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let (key, _) = s.key_pair("release");
    let (index, [amd64, _]) = two_platform_index(&host, "app", "v1");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/app@{index}"))
        .assert_success();
    let policy = |name: &str, index_signature: &str| {
        s.write(
            name,
            format!(
                "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  release: {{ key: {{ path: release.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: prod\n    images: [\"{host}/**\"]\n    signatures:\n      authorities: [release]\n{index_signature}"
            )
            .as_bytes(),
        )
    };
    let strict = policy("strict.yaml", "");
    let through = policy("through.yaml", "      indexSignature: accept\n");
    let platform = format!("{host}/app:v1@{amd64}");
    let decide = |policy: &Path, image: &str, code: i32| -> Value {
        let out = s
            .signet()
            .args(["verify", "--policy"])
            .arg(policy)
            .arg(image)
            .assert_exit(code);
        serde_json::from_str(&stdout(&out)).expect("a JSON report")
    };
    let reason = |report: &Value| {
        report["images"][0]["matchedPolicies"][0]["requirements"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // Cosign's rule by default.
    let report = decide(&strict, &platform, 1);
    assert!(reason(&report).contains("no signatures found"), "{report}");
    // With indexSignature: accept, through the index the tag names.
    let report = decide(&through, &platform, 0);
    assert!(reason(&report).contains("listed by the index"), "{report}");
    // A digest the index does not list.
    let stray = platform_image(&host, "app", "linux", "s390x");
    let stray = stray["digest"].as_str().unwrap_or_default();
    let report = decide(&through, &format!("{host}/app:v1@{stray}"), 1);
    assert!(
        reason(&report).contains(&format!("does not list {stray}")),
        "{report}"
    );
    // A tag that names no index to go through.
    let report = decide(&through, &format!("{host}/app@{amd64}"), 1);
    assert!(reason(&report).contains("no signatures found"), "{report}");
}

#[test]
fn copy_save_and_load_carry_every_platforms_signatures() {
    let (registry, mirror) = (Registry::start(), Registry::start());
    let host = registry.host();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (index, platforms) = two_platform_index(&host, "app", "v1");
    s.signet()
        .args(["sign", "--recursive", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(format!("{host}/app@{index}"))
        .assert_success();
    s.signet()
        .arg("copy")
        .arg(format!("{host}/app:v1"))
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_success();
    // A saved index keeps its platforms' signatures too (cosign save drops them).
    s.signet()
        .arg("save")
        .arg(format!("{host}/app@{index}"))
        .args(["--dir", "saved"])
        .assert_success();
    let saved: Value =
        serde_json::from_slice(&std::fs::read(s.path("saved/index.json")).unwrap_or_default())
            .unwrap_or(Value::Null);
    assert_eq!(
        saved["manifests"][0]["annotations"]["kind"],
        "dev.cosignproject.cosign/imageIndex"
    );
    assert_eq!(saved["manifests"][0]["digest"], index.as_str());
    s.signet()
        .args(["load", "--dir", "saved"])
        .arg(format!("{}/loaded:v1", mirror.host()))
        .assert_success();
    for repo in ["mirror", "loaded"] {
        for digest in std::iter::once(&index).chain(&platforms) {
            verify(
                &s,
                &public,
                &format!("{}/{repo}@{digest}", mirror.host()),
                &[],
                0,
            );
        }
        for digest in &platforms {
            let skopeo = Skopeo::new(&mirror.host(), accept_anything_policy());
            skopeo.set_policy(&sigstore_policy(
                &mirror.host(),
                &[&public],
                json!({"type": "exactRepository", "dockerRepository": format!("{host}/app")}),
            ));
            let dest = format!("dir:{}", skopeo.dir().join("out").display());
            let out = skopeo.copy(&[
                &format!("docker://{}/{repo}@{digest}", mirror.host()),
                &dest,
            ]);
            assert!(
                out.status.success(),
                "skopeo refused {repo}@{digest}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
