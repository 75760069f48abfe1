//! Notary Project signatures on a real docker-registry: the notation CLI's own e2e OCI
//! layouts (tests/data/notation/notation-e2e, real signatures) pushed as they are — image,
//! signature manifests and the referrers tag schema index — and verified under Notation's
//! trustpolicy.json and under signet's YAML policy. docker-registry 2.8 serves no referrers
//! API (asserted below), so registries are read through the tag schema; the referrers path
//! is exercised on an OCI layout whose `index.json` lists the signature, as oras keeps them.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::util::{Registry, http_get, make_sample_image, push_blob, push_manifest};

const E2E_IMAGE: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/notation")
}

fn layout(name: &str) -> PathBuf {
    data().join("notation-e2e/oci_layout").join(name)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Pushes every blob and manifest of an OCI layout to `repo`, manifests before the indexes
/// that list them, each under its `ref.name` tag or, untagged, its digest.
fn push_layout(host: &str, repo: &str, dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    let index: Value =
        serde_json::from_slice(&read(&dir.join("index.json"))).unwrap_or_else(|e| panic!("{e}"));
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let manifest_digests: Vec<String> = entries
        .iter()
        .filter_map(|m| m["digest"].as_str().map(str::to_owned))
        .collect();
    for entry in std::fs::read_dir(&blobs).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let digest = format!(
            "sha256:{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if !manifest_digests.contains(&digest) {
            push_blob(host, repo, &read(&path), sha256);
        }
    }
    let mut ordered = entries.clone();
    ordered.sort_by_key(|m| {
        m["mediaType"]
            .as_str()
            .unwrap_or_default()
            .contains("index")
    });
    for m in ordered {
        let digest = m["digest"].as_str().unwrap_or_default();
        let bytes = read(&blobs.join(digest.trim_start_matches("sha256:")));
        let reference = m["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap_or(digest);
        push_manifest(
            host,
            repo,
            reference,
            m["mediaType"].as_str().unwrap_or_default(),
            &bytes,
        );
    }
}

/// A notation configuration directory: `trustpolicy.json` and `truststore/x509/ca/e2e/` with
/// `cert`.
fn notation_config(s: &Scratch, policy: &Value, ca_cert: &Path) -> PathBuf {
    let store = s.path("notation/truststore/x509/ca/e2e");
    std::fs::create_dir_all(&store).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(ca_cert, store.join("cert.crt")).unwrap_or_else(|e| panic!("{e}"));
    s.write("notation/trustpolicy.json", policy.to_string().as_bytes())
}

fn policy(level: Value, identities: &[&str]) -> Value {
    json!({"version": "1.0", "trustPolicies": [{
        "name": "e2e", "registryScopes": ["*"], "signatureVerification": level,
        "trustStores": ["ca:e2e"], "trustedIdentities": identities}]})
}

fn e2e_cert(name: &str) -> PathBuf {
    data().join("notation-e2e/localkeys").join(name)
}

fn verify(s: &Scratch, policy: &Path, image: &str, code: i32) -> (String, String) {
    let out = s
        .signet()
        .arg("verify")
        .arg("--policy")
        .arg(policy)
        .arg(image)
        .assert_exit(code);
    (stdout(&out), stderr(&out))
}

#[test]
fn docker_registry_serves_no_referrers_api_so_notation_signatures_are_read_through_the_tag_schema()
{
    let registry = Registry::start();
    let s = Scratch::new();
    let host = registry.host();
    push_layout(&host, "e2e/valid", &layout("e2e-valid-signature"));
    let api = http_get(&host, &format!("/v2/e2e/valid/referrers/{E2E_IMAGE}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        api.status, 404,
        "docker-registry answered the referrers API"
    );

    let config = notation_config(
        &s,
        &policy(json!({"level": "strict"}), &["*"]),
        &e2e_cert("e2e.crt"),
    );
    let (out, err) = verify(&s, &config, &format!("{host}/e2e/valid:v1"), 0);
    assert!(out.contains(r#""decision":"allow""#), "{out}\n{err}");
    assert!(
        out.contains("signed by CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"),
        "{out}"
    );

    // The report names the signature manifest it rests on.
    let json_out = s
        .signet()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&config)
        .arg(format!("{host}/e2e/valid@{E2E_IMAGE}"))
        .assert_success();
    let report: Value = serde_json::from_slice(&json_out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let evidence = &report["images"][0]["matchedPolicies"][0]["requirements"][0]["evidence"][0];
    assert_eq!(evidence["kind"], "notation-signature");
    assert_eq!(
        evidence["layer"],
        "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"
    );
}

#[test]
fn expired_untrusted_wrong_identity_and_tampered_signatures_fail_naming_the_check() {
    let registry = Registry::start();
    let host = registry.host();
    push_layout(&host, "e2e/valid", &layout("e2e-valid-signature"));
    push_layout(&host, "e2e/expired", &layout("e2e-expired-signature"));
    push_layout(&host, "e2e/expired-cert", &layout("e2e-with-expired-cert"));
    push_layout(&host, "e2e/invalid", &layout("e2e-invalid-signature"));
    let strict = || policy(json!({"level": "strict"}), &["*"]);
    let cases: [(&str, PathBuf, Value, &str); 5] = [
        ("e2e/expired", e2e_cert("e2e.crt"), strict(), "[expiry]"),
        (
            "e2e/expired-cert",
            e2e_cert("expired_e2e.crt"),
            strict(),
            "[certificate-validity]",
        ),
        (
            "e2e/valid",
            e2e_cert("new_e2e.crt"),
            strict(),
            "[trust-store]",
        ),
        (
            "e2e/valid",
            e2e_cert("e2e.crt"),
            policy(
                json!({"level": "strict"}),
                &["x509.subject: C=US, ST=WA, O=someone-else"],
            ),
            "[trusted-identity]",
        ),
        (
            "e2e/invalid",
            e2e_cert("e2e.crt"),
            strict(),
            "[unsupported-format]",
        ),
    ];
    for (repo, cert, policy, check) in cases {
        let s = Scratch::new();
        let config = notation_config(&s, &policy, &cert);
        let (out, err) = verify(&s, &config, &format!("{host}/{repo}:v1"), 1);
        assert!(err.contains("DENIED"), "{repo}: {err}");
        assert!(
            err.contains(check),
            "{repo}: expected {check} in\n{err}\n{out}"
        );
    }

    // A tampered copy of the valid envelope (one byte of its signature changed), pushed as a
    // signature of the same image.
    let s = Scratch::new();
    let envelope = read(
        &layout("e2e-valid-signature")
            .join("blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"),
    );
    let mut json: Value = serde_json::from_slice(&envelope).unwrap_or_else(|e| panic!("{e}"));
    let signature = json["signature"].as_str().unwrap_or_default().to_owned();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    json["signature"] = format!("{flipped}{}", &signature[1..]).into();
    push_layout(&host, "e2e/tampered", &layout("e2e-valid-signature"));
    push_signature(
        &host,
        "e2e/tampered",
        json.to_string().as_bytes(),
        "application/jose+json",
    );
    let config = notation_config(&s, &strict(), &e2e_cert("e2e.crt"));
    let (_, err) = verify(&s, &config, &format!("{host}/e2e/tampered:v1"), 1);
    assert!(err.contains("[signature]"), "{err}");
}

/// Pushes `envelope` as the only Notary Project signature of the e2e image in `repo`,
/// replacing the referrers tag schema index.
fn push_signature(host: &str, repo: &str, envelope: &[u8], media_type: &str) {
    let config = push_blob(host, repo, b"{}", sha256);
    let layer = push_blob(host, repo, envelope, sha256);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": media_type, "digest": layer, "size": envelope.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": E2E_IMAGE, "size": 517}
    })
    .to_string();
    let digest = sha256(manifest.as_bytes());
    push_manifest(
        host,
        repo,
        &digest,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
            "size": manifest.len(), "artifactType": "application/vnd.cncf.notary.signature"}]
    })
    .to_string();
    push_manifest(
        host,
        repo,
        &E2E_IMAGE.replace(':', "-"),
        "application/vnd.oci.image.index.v1+json",
        index.as_bytes(),
    );
}

#[test]
fn levels_log_what_they_do_not_enforce_and_skip_reads_no_signature() {
    let registry = Registry::start();
    let host = registry.host();
    push_layout(&host, "e2e/expired", &layout("e2e-expired-signature"));
    push_layout(&host, "e2e/invalid", &layout("e2e-invalid-signature"));

    let s = Scratch::new();
    let config = notation_config(
        &s,
        &policy(json!({"level": "permissive"}), &["*"]),
        &e2e_cert("e2e.crt"),
    );
    let (out, err) = verify(&s, &config, &format!("{host}/e2e/expired:v1"), 0);
    assert!(err.contains("allowed with warnings"), "{err}");
    assert!(
        out.contains("logged, not enforced") && out.contains("[expiry]"),
        "{out}"
    );

    // strict with expiry overridden to log: the same.
    let s = Scratch::new();
    let config = notation_config(
        &s,
        &policy(
            json!({"level": "strict", "override": {"expiry": "log"}}),
            &["*"],
        ),
        &e2e_cert("e2e.crt"),
    );
    verify(&s, &config, &format!("{host}/e2e/expired:v1"), 0);

    // skip for one repository: its broken signature is not read; no statement: untrusted.
    let s = Scratch::new();
    let skip = json!({"version": "1.0", "trustPolicies": [
        {"name": "skip-invalid", "registryScopes": [format!("{host}/e2e/invalid")],
         "signatureVerification": {"level": "skip"}}]});
    let config = notation_config(&s, &skip, &e2e_cert("e2e.crt"));
    verify(&s, &config, &format!("{host}/e2e/invalid:v1"), 0);
    let (_, err) = verify(&s, &config, &format!("{host}/e2e/expired:v1"), 1);
    assert!(err.contains("no trust policy statement"), "{err}");
}

#[test]
fn the_referrers_path_reads_a_signature_listed_only_in_an_oci_layouts_index() {
    let s = Scratch::new();
    // The valid layout without its tag schema index: the signature manifest is found by its
    // subject among index.json's manifests.
    let copy = s.path("layout");
    std::fs::create_dir_all(copy.join("blobs/sha256")).unwrap_or_else(|e| panic!("{e}"));
    let source = layout("e2e-valid-signature");
    for entry in std::fs::read_dir(source.join("blobs/sha256")).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        std::fs::copy(
            &path,
            copy.join("blobs/sha256")
                .join(path.file_name().unwrap_or_default()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::copy(source.join("oci-layout"), copy.join("oci-layout"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut index: Value =
        serde_json::from_slice(&read(&source.join("index.json"))).unwrap_or_else(|e| panic!("{e}"));
    index["manifests"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("manifests"))
        .retain(|m| {
            !m["mediaType"]
                .as_str()
                .unwrap_or_default()
                .contains("index")
        });
    std::fs::write(copy.join("index.json"), index.to_string()).unwrap_or_else(|e| panic!("{e}"));

    let config = notation_config(
        &s,
        &policy(json!({"level": "strict"}), &["*"]),
        &e2e_cert("e2e.crt"),
    );
    let image = format!("oci:{}:v1", copy.display());
    let (out, _) = verify(&s, &config, &image, 0);
    assert!(out.contains(r#""decision":"allow""#), "{out}");

    // The notation e2e timestamped layout is laid out that way too: its signing certificate
    // (testcert7) was valid for one day in January 2025.
    let ts = Scratch::new();
    let leaf = ts.write(
        "testcert7.crt",
        &leaf_of(&read(&layout("e2e-with-timestamped-signature").join(
            "blobs/sha256/603ff134e97a79cd7a15560b76137c2c4a10451daab11327a7c6f86dac250fee",
        ))),
    );
    let config = notation_config(&ts, &policy(json!({"level": "strict"}), &["*"]), &leaf);
    let image = format!(
        "oci:{}:v1",
        layout("e2e-with-timestamped-signature").display()
    );
    let (_, err) = verify(&ts, &config, &image, 1);
    assert!(err.contains("[expiry]"), "{err}");
}

fn leaf_of(envelope: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let json: Value = serde_json::from_slice(envelope).unwrap_or_else(|e| panic!("{e}"));
    base64::engine::general_purpose::STANDARD
        .decode(json["header"]["x5c"][0].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn one_yaml_policy_accepts_our_cosign_key_or_our_notation_certificate_and_each_ignores_the_other() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    push_layout(&host, "e2e/notation", &layout("e2e-valid-signature"));
    let cosign_digest = make_sample_image(&host, "e2e/cosign", "v1", sha256);
    let cosign_image = format!("{host}/e2e/cosign@{cosign_digest}");
    let (key, public) = s.key_pair("cosign");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&cosign_image)
        .assert_success();
    let store = s.path("trust/x509/ca/release");
    std::fs::create_dir_all(&store).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(e2e_cert("e2e.crt"), store.join("e2e.crt")).unwrap_or_else(|e| panic!("{e}"));
    let yaml = format!(
        r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  cosign-key:
    key: {{ path: {} }}
    transparencyLog: ignore
  notation-release:
    notation:
      trustStore: trust
      trustStores: ["ca:release"]
      trustedIdentities: ["x509.subject: C=US, ST=WA, O=Notary, CN=e2e"]
policies:
  - name: ours
    images: ["{host}/e2e/**"]
    signatures:
      authorities: [cosign-key, notation-release]
"#,
        public.display()
    );
    let policy = s.write("policy.yaml", yaml.as_bytes());
    verify(&s, &policy, &format!("{host}/e2e/notation:v1"), 0);
    verify(&s, &policy, &cosign_image, 0);

    // The Cosign key alone does not accept the Notation-signed image, and the Notation
    // authority alone does not accept the Cosign-signed one.
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog", "--key"])
        .arg(&public)
        .arg(format!("{host}/e2e/notation:v1"))
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    let only_notation = yaml.replace(
        "authorities: [cosign-key, notation-release]",
        "authorities: [notation-release]",
    );
    let policy = s.write("notation-only.yaml", only_notation.as_bytes());
    let (_, err) = verify(&s, &policy, &cosign_image, 1);
    assert!(err.contains("no Notary Project signatures found"), "{err}");
    // A policy for release files cannot count on it: Notation signs images only.
    let files_policy = only_notation.replace(
        &format!("images: [\"{host}/e2e/**\"]"),
        "files: [\"*.tar.gz\"]",
    );
    s.write("files.yaml", files_policy.as_bytes());
    s.write("app.tar.gz", b"a release file\n");
    s.write("none.jsonl", b"{}\n");
    let out = s
        .signet()
        .args([
            "verify-blob",
            "--policy",
            "files.yaml",
            "--bundle",
            "none.jsonl",
        ])
        .arg("app.tar.gz")
        .assert_exit(2);
    assert!(
        stderr(&out).contains("names \"notation-release\", a Notation authority: Notary Project signatures sign images, not files"),
        "{}",
        stderr(&out)
    );

    // tree lists the Notary Project signature.
    let tree = s
        .signet()
        .args(["tree", &format!("{host}/e2e/notation:v1")])
        .assert_success();
    let listing = stdout(&tree);
    assert!(listing.contains("Notary Project signatures"), "{listing}");
    assert!(
        listing.contains("sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"),
        "{listing}"
    );
}

#[test]
fn signet_signs_jws_and_cose_notation_signatures_that_verify_under_the_trust_policy() {
    let registry = Registry::start();
    let host = registry.host();
    let s = Scratch::new();
    let fixtures = data().join("signet");
    let policy = json!({"version": "1.0", "trustPolicies": [{
        "name": "signet", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:e2e"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=signet-test, CN=signet release"]}]});
    let config = notation_config(&s, &policy, &fixtures.join("root.crt"));
    for (repo, format) in [("signed/jws", "jws"), ("signed/cose", "cose")] {
        let digest = make_sample_image(&host, repo, "v1", sha256);
        let out = s
            .signet()
            .args([
                "sign",
                "--format",
                "notation",
                "--signature-format",
                format,
                "--key",
            ])
            .arg(fixtures.join("leaf.key"))
            .arg("--certificate-chain")
            .arg(fixtures.join("chain.pem"))
            .args(["-a", "build=42"])
            .arg(format!("{host}/{repo}:v1"))
            .assert_success();
        assert!(
            stderr(&out).contains("referrers tag schema"),
            "{}",
            stderr(&out)
        );
        let (out, _) = verify(&s, &config, &format!("{host}/{repo}@{digest}"), 0);
        assert!(out.contains("signed by CN=signet release"), "{out}");
        let tree = s
            .signet()
            .args(["tree", &format!("{host}/{repo}:v1")])
            .assert_success();
        let media_type = if format == "jws" {
            "application/jose+json"
        } else {
            "application/cose"
        };
        assert!(stdout(&tree).contains(media_type), "{}", stdout(&tree));
    }
    // A key that is not the certificate's is refused before anything is pushed.
    let out = s
        .signet()
        .args(["sign", "--format", "notation", "--key"])
        .arg(fixtures.join("other.key"))
        .arg("--certificate-chain")
        .arg(fixtures.join("chain.pem"))
        .arg(format!("{host}/signed/jws:v1"))
        .assert_exit(1);
    assert!(stderr(&out).contains("[algorithm]"), "{}", stderr(&out));
}
