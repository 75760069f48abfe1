//! Images signed with Sigstore material in Cosign's legacy format, on a real docker-registry
//! with `../shared/tools/sigstore-mock`'s Fulcio and Rekor v1:
//!
//! - `sign --key --tlog-upload`: the signature is recorded in Rekor and its signed entry
//!   timestamp stored as `dev.sigstore.cosign/bundle`. skopeo 1.18 (containers/image, which
//!   checks the SET with `rekorPublicKeyPath`) accepts it; `signet verify --key` checks it
//!   against the trusted root unless `--insecure-ignore-tlog=true`.
//! - `sign --identity-token`: a Fulcio certificate (`dev.sigstore.cosign/certificate`) and the
//!   Rekor entry; `signet verify --certificate-identity … --trusted-root` checks the chain,
//!   the SCT, the SET, the entry against the signature, and the identity.
//!
//! skopeo cannot check the keyless signatures here: containers/image matches only e-mail SANs
//! (`subjectEmail`), and the mock's Fulcio always issues a URI SAN.

use std::path::Path;

use serde_json::json;

use crate::common::{Scratch, sha256, stderr};
use crate::keyless::{
    IDENTITY, ISSUER, SigstoreMock, assert_sigstore_js_accepts, slsa_predicate, token, token_for,
};
use crate::util::{Registry, Skopeo, fetch_manifest, http_get, make_sample_image, push_manifest};

/// The mock Rekor's public key as PEM, from its trusted root (what skopeo's
/// `rekorPublicKeyPath` takes).
fn rekor_public_key_pem(mock: &SigstoreMock) -> String {
    let root: serde_json::Value = serde_json::from_slice(
        &std::fs::read(mock.out("trusted_root.json")).expect("trusted root"),
    )
    .expect("trusted root JSON");
    let der = root["tlogs"][0]["publicKey"]["rawBytes"]
        .as_str()
        .expect("tlogs[0].publicKey.rawBytes");
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in der.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64"));
        pem.push('\n');
    }
    pem + "-----END PUBLIC KEY-----\n"
}

/// The annotations of the first layer of the image's `.sig` manifest.
fn signature_annotations(registry: &Registry, repo: &str, digest: &str) -> serde_json::Value {
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let manifest: serde_json::Value =
        serde_json::from_str(&fetch_manifest(&registry.host(), repo, &tag).text())
            .expect("signature manifest JSON");
    manifest["layers"][0]["annotations"].clone()
}

fn skopeo_policy(host: &str, key: &Path, rekor_key: &Path) -> serde_json::Value {
    json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {host: [{
            "type": "sigstoreSigned",
            "keyPath": key.to_str().expect("utf-8"),
            "rekorPublicKeyPath": rekor_key.to_str().expect("utf-8"),
            "signedIdentity": {"type": "matchRepository"},
        }]}, "dir": {"": [{"type": "insecureAcceptAnything"}]}},
    })
}

#[test]
fn key_signatures_recorded_in_rekor_verify_with_signet_and_skopeo() {
    let mock = SigstoreMock::start();
    let other = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let (key, public) = s.key_pair("cosign");
    let digest = make_sample_image(&registry.host(), "app", "v1", sha256);
    let image = format!("{}/app@{digest}", registry.host());
    let root = mock.out("trusted_root.json");

    s.signet()
        .args(["sign", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .arg(&image)
        .assert_success();
    let annotations = signature_annotations(&registry, "app", &digest);
    let rekor: serde_json::Value = serde_json::from_str(
        annotations["dev.sigstore.cosign/bundle"]
            .as_str()
            .expect("a dev.sigstore.cosign/bundle annotation"),
    )
    .expect("bundle annotation JSON");
    assert!(
        rekor["Payload"]["integratedTime"].as_i64().is_some(),
        "{rekor}"
    );
    assert!(rekor["SignedEntryTimestamp"].is_string(), "{rekor}");

    // signet: the log entry is required and checked by default.
    s.signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    let out = s
        .signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_exit(1);
    assert!(stderr(&out).contains("--trusted-root"), "{}", stderr(&out));
    let out = s
        .signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(other.out("trusted_root.json"))
        .arg(&image)
        .assert_exit(1);
    assert!(stderr(&out).contains("[tlog-"), "{}", stderr(&out));

    // A signature made without the log.
    let unlogged = make_sample_image(&registry.host(), "unlogged", "v1", sha256);
    let unlogged = format!("{}/unlogged@{unlogged}", registry.host());
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&unlogged)
        .assert_success();

    // skopeo checks the same SET with the log's public key (`rekorPublicKeyPath`), and
    // signet reading the same policy.json decides as skopeo does: the logged signature under
    // the right log key passes; under another log's key, or without a log entry, it fails.
    let rekor_key = s.write("rekor.pub", rekor_public_key_pem(&mock).as_bytes());
    let other_rekor_key = s.write("other-rekor.pub", rekor_public_key_pem(&other).as_bytes());
    let skopeo = Skopeo::new(
        &registry.host(),
        skopeo_policy(&registry.host(), &public, &rekor_key),
    );
    let cases = [
        (&image, &rekor_key, true),
        (&image, &other_rekor_key, false),
        (&unlogged, &rekor_key, false),
    ];
    for (n, (target, log_key, accepted)) in cases.into_iter().enumerate() {
        skopeo.set_policy(&skopeo_policy(&registry.host(), &public, log_key));
        let dest = format!("dir:{}", skopeo.dir().join(format!("copy-{n}")).display());
        let out = skopeo.copy(&[&format!("docker://{target}"), &dest]);
        assert_eq!(
            out.status.success(),
            accepted,
            "skopeo on {target} with {}: {}",
            log_key.display(),
            stderr(&out)
        );
        let out = s
            .signet()
            .arg("verify")
            .arg("--policy")
            .arg(skopeo.policy_path())
            .arg("--registries.d")
            .arg(skopeo.registries_d())
            .arg(target)
            .assert_exit(if accepted { 0 } else { 1 });
        if !accepted {
            // signet names the check, as skopeo refused for its own reason.
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
            assert!(
                text.contains("Rekor") || text.contains("transparency") || text.contains("SET"),
                "{target}: {text}"
            );
        }
    }
    let out = s
        .signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(&root)
        .arg(&unlogged)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no transparency-log entry"),
        "{}",
        stderr(&out)
    );
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&unlogged)
        .assert_success();

    // --tlog-upload without a log to upload to is refused before anything is pushed.
    let out = s
        .signet()
        .args(["sign", "--key"])
        .arg(&key)
        .arg(&unlogged)
        .assert_exit(1);
    assert!(stderr(&out).contains("--rekor-url"), "{}", stderr(&out));
}

#[test]
fn keyless_image_signatures_in_the_legacy_format() {
    let mock = SigstoreMock::start();
    let other = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let digest = make_sample_image(&registry.host(), "keyless", "v1", sha256);
    let image = format!("{}/keyless@{digest}", registry.host());
    let root = mock.out("trusted_root.json");
    let token = token();

    let out = s
        .signet()
        .args(["sign", "--identity-token", &token, "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    assert!(!stderr(&out).contains(&token), "the token leaked");
    let annotations = signature_annotations(&registry, "keyless", &digest);
    let certificate = annotations["dev.sigstore.cosign/certificate"]
        .as_str()
        .expect("a certificate annotation");
    assert!(certificate.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(annotations["dev.sigstore.cosign/bundle"].is_string());

    let verify = |identity: &str, issuer: &str, root: &Path, code: i32| {
        s.signet()
            .args(["verify", "--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer, "--trusted-root"])
            .arg(root)
            .args(["--output", "json"])
            .arg(&image)
            .assert_exit(code)
    };
    let out = verify(IDENTITY, ISSUER, &root, 0);
    let payloads: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("verify --output json");
    assert_eq!(payloads[0]["optional"]["Subject"], IDENTITY);
    assert_eq!(payloads[0]["optional"]["Issuer"], ISSUER);
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert!(
        stderr(&out).contains("verified using trusted certificate authority"),
        "{}",
        stderr(&out)
    );

    let out = verify("other@example.com", ISSUER, &root, 1);
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));
    let out = verify(IDENTITY, "https://other.example", &root, 1);
    assert!(stderr(&out).contains("[issuer]"), "{}", stderr(&out));
    // Another instance: its TSA, Fulcio and Rekor are all strangers; the timestamp is the
    // first piece of evidence checked.
    let out = verify(IDENTITY, ISSUER, &other.out("trusted_root.json"), 1);
    assert!(
        ["[timestamp]", "[certificate-chain]", "[tlog-"]
            .iter()
            .any(|code| stderr(&out).contains(code)),
        "{}",
        stderr(&out)
    );
    s.signet()
        .args(["verify", "--certificate-identity-regexp", "tester@.*"])
        .args([
            "--certificate-oidc-issuer-regexp",
            "https://.*mock\\.example",
            "--trusted-root",
        ])
        .arg(&root)
        .arg(&image)
        .assert_success();

    // A key does not verify a keyless signature.
    let (_, public) = s.key_pair("cosign");
    let out = s
        .signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );

    // The certificate of another keyless signature put on this one's layer: the log entry
    // and the signature no longer match it, and the signature is refused.
    let second = make_sample_image(&registry.host(), "keyless", "v2", sha256);
    let second_image = format!("{}/keyless@{second}", registry.host());
    s.signet()
        .args(["sign", "--identity-token", &token, "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&second_image)
        .assert_success();
    let second_annotations = signature_annotations(&registry, "keyless", &second);
    let swapped_certificate = second_annotations["dev.sigstore.cosign/certificate"].clone();
    assert_ne!(
        swapped_certificate, annotations["dev.sigstore.cosign/certificate"],
        "each keyless signature has its own certificate"
    );
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fetch_manifest(&registry.host(), "keyless", &tag).text())
            .expect("signature manifest JSON");
    manifest["layers"][0]["annotations"]["dev.sigstore.cosign/certificate"] = swapped_certificate;
    push_manifest(
        &registry.host(),
        "keyless",
        &tag,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).expect("manifest"),
    );
    let out = verify(IDENTITY, ISSUER, &root, 1);
    let err = stderr(&out);
    // Which check fails first depends on timing: the entry's integrated time can precede the
    // swapped certificate's validity, or the entry no longer records this certificate.
    assert!(
        ["[tlog-entry]", "[signature]", "[certificate-validity]"]
            .iter()
            .any(|check| err.contains(check)),
        "{err}"
    );
}

#[test]
fn policies_count_keyless_and_logged_key_signatures() {
    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let root = mock.out("trusted_root.json");
    let digest = make_sample_image(&registry.host(), "both", "v1", sha256);
    let image = format!("{}/both@{digest}", registry.host());
    s.signet()
        .args(["sign", "--identity-token", &token(), "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    s.signet()
        .args(["sign", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .arg(&image)
        .assert_success();

    let policy = |subject: &str, trusted_root_line: &str| {
        format!(
            r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  release:
    key: {{ path: {public} }}
  ci:
    keyless:
      issuer: {{ exact: "{ISSUER}" }}
      subject: {subject}
{trusted_root_line}
policies:
  - name: both
    images: ["{host}/**"]
    signatures:
      authorities: [release, ci]
      threshold: 2
"#,
            public = public.display(),
            host = registry.host(),
        )
    };
    let verify = |name: &str, text: String, extra: &[&str], code: i32| {
        let path = s.write(name, text.as_bytes());
        s.signet()
            .arg("verify")
            .arg("--policy")
            .arg(path)
            .args(extra)
            .args(["--output", "json"])
            .arg(&image)
            .assert_exit(code)
    };
    let own_root = format!("      trustedRoot: {}", root.display());
    // The keyless authority with its own trusted root; the key's log entry checked against
    // --trusted-root.
    let root_arg = root.to_str().expect("utf-8");
    let out = verify(
        "ok.yaml",
        policy(&format!("{{ exact: \"{IDENTITY}\" }}"), &own_root),
        &["--trusted-root", root_arg],
        0,
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["images"][0]["decision"], "allow", "{report}");
    // A prefix and no trustedRoot: the keyless authority uses --trusted-root.
    verify(
        "prefix.yaml",
        policy("{ prefix: \"tester@\" }", ""),
        &["--trusted-root", root_arg],
        0,
    );
    // Another identity: the keyless authority does not count, 1 of 2.
    let out = verify(
        "other.yaml",
        policy("{ exact: \"other@example.com\" }", &own_root),
        &["--trusted-root", root_arg],
        1,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ci: none of the 2 signature(s) carries a certificate for this identity"),
        "{text}"
    );
    // Without any trusted root for the key's log entry, the key does not count either.
    let empty_cache = s.path("no-tuf-cache");
    let out = s
        .signet()
        .env("SIGNET_TUF_CACHE", &empty_cache)
        .arg("verify")
        .arg("--policy")
        .arg(s.path("ok.yaml"))
        .arg(&image)
        .assert_exit(1);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(text.contains("release:"), "{text}");
}

#[test]
fn keyless_signatures_in_cosign_v3_bundle_format_as_referrers() {
    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let digest = make_sample_image(&registry.host(), "v3", "v1", sha256);
    let image = format!("{}/v3@{digest}", registry.host());
    let root = mock.out("trusted_root.json");
    let sign = || {
        let mut cmd = s.signet();
        cmd.args(["sign", "--new-bundle-format", "--identity-token", &token()])
            .arg("--signing-config")
            .arg(mock.out("signing_config.json"))
            .arg("--trusted-root")
            .arg(&root)
            .arg(&image);
        cmd
    };
    let out = sign().assert_success();
    assert!(
        stderr(&out).contains("referrers tag schema"),
        "{}",
        stderr(&out)
    );

    // docker-registry 2.8 has no referrers API: the referrer is listed in the tag schema
    // index, with Cosign v3's artifact type and predicate type annotation.
    let tag = digest.replace(':', "-");
    let index: serde_json::Value =
        serde_json::from_str(&fetch_manifest(&registry.host(), "v3", &tag).text())
            .expect("referrers index");
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let referrer: serde_json::Value = serde_json::from_str(
        &fetch_manifest(
            &registry.host(),
            "v3",
            entry["digest"].as_str().expect("digest"),
        )
        .text(),
    )
    .expect("referrer manifest");
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(
        referrer["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    // No legacy signature was written.
    assert_eq!(
        fetch_manifest(&registry.host(), "v3", &format!("{tag}.sig")).status,
        404
    );

    let verify = |identity: &str, code: i32| {
        s.signet()
            .args(["verify", "--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .arg(&image)
            .assert_exit(code)
    };
    verify(IDENTITY, 0);
    let out = verify("other@example.com", 1);
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));

    // sigstore-js verifies the bundle layer, its statement naming the image manifest's digest.
    let layer = referrer["layers"][0]["digest"]
        .as_str()
        .expect("layer digest");
    let blob = http_get(&registry.host(), &format!("/v2/v3/blobs/{layer}")).expect("bundle blob");
    let bundle_path = s.write("referrer.sigstore.json", &blob.body);
    let manifest = fetch_manifest(&registry.host(), "v3", &digest);
    let manifest_path = s.write("image-manifest.json", &manifest.body);
    assert_eq!(sha256(&manifest.body), digest);
    assert_sigstore_js_accepts(
        &root,
        &bundle_path,
        IDENTITY,
        ISSUER,
        &manifest_path,
        "signet's referrer bundle",
    );

    // Signers running at once keep every referrer in the index.
    std::thread::scope(|scope| {
        let signers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| sign().assert_success()))
            .collect();
        for signer in signers {
            signer.join().expect("a signer thread panicked");
        }
    });
    let index: serde_json::Value =
        serde_json::from_str(&fetch_manifest(&registry.host(), "v3", &tag).text())
            .expect("referrers index");
    assert_eq!(
        index["manifests"].as_array().map(Vec::len),
        Some(5),
        "{index}"
    );
    verify(IDENTITY, 0);

    // A keyless attestation goes the same way, found by its predicate type.
    let predicate = slsa_predicate(&s);
    s.signet()
        .args([
            "attest",
            "--new-bundle-format",
            "--identity-token",
            &token(),
            "--type",
            "slsaprovenance1",
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    let verify_attestation = |predicate_type: &str, identity: &str, code: i32| {
        s.signet()
            .args(["verify-attestation", "--type", predicate_type])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .arg(&image)
            .assert_exit(code)
    };
    let out = verify_attestation("slsaprovenance1", IDENTITY, 0);
    let line: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("verify-attestation prints a JSON line");
    assert_eq!(
        line["statement"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(line["identity"], IDENTITY);
    let out = verify_attestation("slsaprovenance1", "other@example.com", 1);
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));
    // The bundles are found by predicate type: none of this one.
    let out = verify_attestation("spdxjson", IDENTITY, 1);
    assert!(
        stderr(&out).contains("no Sigstore bundles found"),
        "{}",
        stderr(&out)
    );

    // --new-bundle-format with a key is refused before anything is pushed (a usage error).
    let (key, _) = s.key_pair("cosign");
    let out = s
        .signet()
        .args(["sign", "--new-bundle-format", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_exit(2);
    assert!(
        stderr(&out).contains("--new-bundle-format"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn policies_read_cosign_v3_keyless_signatures_and_attestations() {
    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let root = mock.out("trusted_root.json");
    let digest = make_sample_image(&registry.host(), "v3policy", "v1", sha256);
    let image = format!("{}/v3policy@{digest}", registry.host());
    let keyless = |args: &[&str]| {
        s.signet()
            .args(args)
            .args(["--identity-token", &token(), "--signing-config"])
            .arg(mock.out("signing_config.json"))
            .arg("--trusted-root")
            .arg(&root)
            .arg(&image)
            .assert_success();
    };
    keyless(&["sign", "--new-bundle-format"]);
    let predicate = slsa_predicate(&s);
    let predicate = predicate.to_str().expect("utf-8").to_owned();
    keyless(&[
        "attest",
        "--new-bundle-format",
        "--type",
        "slsaprovenance1",
        "--predicate",
        &predicate,
    ]);

    let policy = |builder_prefix: &str| {
        format!(
            r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  ci:
    keyless:
      issuer: {{ exact: "{ISSUER}" }}
      subject: {{ exact: "{IDENTITY}" }}
      trustedRoot: {root}
policies:
  - name: v3
    images: ["{host}/**"]
    signatures:
      authorities: [ci]
    attestations:
      - predicateType: slsaprovenance1
        authorities: [ci]
        slsa: {{ builderId: {{ prefix: "{builder_prefix}" }} }}
"#,
            root = root.display(),
            host = registry.host(),
        )
    };
    let verify = |name: &str, text: String, code: i32| {
        let path = s.write(name, text.as_bytes());
        s.signet()
            .args(["verify", "--output", "json", "--policy"])
            .arg(path)
            .arg(&image)
            .assert_exit(code)
    };
    let out = verify("ok.yaml", policy("https://example.com/"), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["images"][0]["decision"], "allow", "{report}");
    s.signet()
        .arg("policy")
        .arg("lint")
        .arg(s.path("ok.yaml"))
        .assert_success();
    // The provenance names another builder: the attestation requirement fails, the policy
    // denies, and says which condition.
    let out = verify("builder.yaml", policy("https://other.example/"), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("builder"), "{text}");
}

#[test]
fn keyless_attestations_in_the_legacy_format() {
    let mock = SigstoreMock::start();
    let other = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let root = mock.out("trusted_root.json");
    let digest = make_sample_image(&registry.host(), "att", "v1", sha256);
    let image = format!("{}/att@{digest}", registry.host());
    let predicate = slsa_predicate(&s);
    s.signet()
        .args([
            "attest",
            "--identity-token",
            &token(),
            "--type",
            "slsaprovenance1",
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    // Cosign's legacy layout: the envelope in sha256-<hex>.att, the certificate and the log's
    // proof in the layer's annotations.
    let tag = format!("{}.att", digest.replace(':', "-"));
    let manifest: serde_json::Value =
        serde_json::from_str(&fetch_manifest(&registry.host(), "att", &tag).text())
            .expect("attestation manifest");
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert!(layer["annotations"]["dev.sigstore.cosign/certificate"].is_string());
    assert!(layer["annotations"]["dev.sigstore.cosign/bundle"].is_string());

    let verify = |identity: &str, predicate_type: &str, root: &Path, code: i32| {
        s.signet()
            .args(["verify-attestation", "--type", predicate_type])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(root)
            .arg(&image)
            .assert_exit(code)
    };
    let out = verify(IDENTITY, "slsaprovenance1", &root, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("payloadType"),
        "the envelope is printed"
    );
    let out = verify("other@example.com", "slsaprovenance1", &root, 1);
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));
    let out = verify(IDENTITY, "spdxjson", &root, 1);
    assert!(stderr(&out).contains("predicate type"), "{}", stderr(&out));
    let out = verify(
        IDENTITY,
        "slsaprovenance1",
        &other.out("trusted_root.json"),
        1,
    );
    assert!(
        ["[timestamp]", "[certificate-chain]", "[tlog-"]
            .iter()
            .any(|code| stderr(&out).contains(code)),
        "{}",
        stderr(&out)
    );

    // A policy's keyless authority finds it with its conditions.
    let policy = format!(
        r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  ci:
    keyless:
      issuer: {{ exact: "{ISSUER}" }}
      subject: {{ exact: "{IDENTITY}" }}
      trustedRoot: {root}
policies:
  - name: provenance
    images: ["{host}/**"]
    attestations:
      - predicateType: slsaprovenance1
        authorities: [ci]
        slsa: {{ builderId: {{ prefix: "https://example.com/" }} }}
"#,
        root = root.display(),
        host = registry.host(),
    );
    let path = s.write("policy.yaml", policy.as_bytes());
    s.signet()
        .arg("verify")
        .arg("--policy")
        .arg(&path)
        .arg(&image)
        .assert_success();
    let path = s.write(
        "other-builder.yaml",
        policy
            .replace("https://example.com/", "https://other.example/")
            .as_bytes(),
    );
    let out = s
        .signet()
        .arg("verify")
        .arg("--policy")
        .arg(&path)
        .arg(&image)
        .assert_exit(1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("builder"), "{text}");
}

#[test]
fn key_attestations_recorded_in_rekor_are_checked() {
    let mock = SigstoreMock::start();
    let other = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let (key, public) = s.key_pair("cosign");
    let root = mock.out("trusted_root.json");
    let digest = make_sample_image(&registry.host(), "keyatt", "v1", sha256);
    let image = format!("{}/keyatt@{digest}", registry.host());
    let predicate = s.write("predicate.json", br#"{"built":"yes"}"#);
    s.signet()
        .args(["attest", "--key"])
        .arg(&key)
        .arg("--predicate")
        .arg(&predicate)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .arg(&image)
        .assert_success();
    let verify = |root: Option<&Path>, code: i32| {
        let mut cmd = s.signet();
        cmd.args(["verify-attestation", "--key"]).arg(&public);
        if let Some(root) = root {
            cmd.arg("--trusted-root").arg(root);
        }
        cmd.arg(&image).assert_exit(code)
    };
    verify(Some(&root), 0);
    let out = verify(None, 1);
    assert!(stderr(&out).contains("--trusted-root"), "{}", stderr(&out));
    let out = verify(Some(&other.out("trusted_root.json")), 1);
    assert!(stderr(&out).contains("[tlog-"), "{}", stderr(&out));
}

/// A GitHub Actions-style workflow identity, as the mock's Fulcio issues it for the token's
/// subject.
const ACME_WORKFLOW: &str =
    "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

/// The hint a user porting a Cosign command line gets (issue 16).
const SUBSTRING_HINT: &str = "matches only as a substring; signet anchors identity regexes";

#[test]
fn cosign_style_substring_identity_regexes_are_refused_with_a_hint() {
    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let root = mock.out("trusted_root.json");
    // One image signed in Cosign's legacy format, one as a Cosign v3 referrer bundle, both by
    // the acme workflow identity.
    let mut images = Vec::new();
    for (repo, format) in [("legacy", None), ("bundle", Some("--new-bundle-format"))] {
        let digest = make_sample_image(&registry.host(), repo, "v1", sha256);
        let image = format!("{}/{repo}@{digest}", registry.host());
        s.signet()
            .arg("sign")
            .args(format)
            .args([
                "--identity-token",
                &token_for(ACME_WORKFLOW),
                "--signing-config",
            ])
            .arg(mock.out("signing_config.json"))
            .arg("--trusted-root")
            .arg(&root)
            .arg(&image)
            .assert_success();
        images.push(image);
    }

    let verify = |identity_regexp: &str, issuer_regexp: &str, image: &str, code: i32| {
        s.signet()
            .args(["verify", "--certificate-identity-regexp", identity_regexp])
            .args(["--certificate-oidc-issuer-regexp", issuer_regexp])
            .arg("--trusted-root")
            .arg(&root)
            .arg(image)
            .assert_exit(code)
    };
    for image in &images {
        // Cosign accepts `github.com/acme/` (Go's regexp.MatchString finds it inside the
        // identity); signet refuses it, names the check and says why.
        let out = verify(
            "github.com/acme/",
            "https://oidc\\.mock\\.example",
            image,
            1,
        );
        let err = stderr(&out);
        assert!(err.contains("[identity]"), "{err}");
        assert!(err.contains(SUBSTRING_HINT), "{err}");
        assert!(
            err.contains("write `.*` where you mean a substring"),
            "{err}"
        );
        // The same for the issuer.
        let out = verify(".*acme.*", "mock", image, 1);
        let err = stderr(&out);
        assert!(err.contains("[issuer]"), "{err}");
        assert!(err.contains(SUBSTRING_HINT), "{err}");
        // With `.*` where a substring is meant, it verifies.
        let out = verify(".*acme.*", ".*mock.*", image, 0);
        // The verified identity: on stderr for a legacy signature, on stdout for a bundle.
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        assert!(text.contains(ACME_WORKFLOW), "{text}");
        // A regex that matches nothing gets no hint: the identity is simply another one.
        let out = verify(".*evil.*", ".*mock.*", image, 1);
        let err = stderr(&out);
        assert!(err.contains("[identity]"), "{err}");
        assert!(!err.contains(SUBSTRING_HINT), "{err}");
    }

    // verify-attestation reads the same regexes the same way.
    let predicate = slsa_predicate(&s);
    s.signet()
        .args(["attest", "--type", "slsaprovenance1", "--predicate"])
        .arg(&predicate)
        .args([
            "--identity-token",
            &token_for(ACME_WORKFLOW),
            "--signing-config",
        ])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&images[0])
        .assert_success();
    let verify_attestation = |identity_regexp: &str, code: i32| {
        s.signet()
            .args(["verify-attestation", "--type", "slsaprovenance1"])
            .args(["--certificate-identity-regexp", identity_regexp])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .arg(&images[0])
            .assert_exit(code)
    };
    let out = verify_attestation("github.com/acme/", 1);
    let err = stderr(&out);
    assert!(
        err.contains("[identity]") && err.contains(SUBSTRING_HINT),
        "{err}"
    );
    verify_attestation(".*acme.*", 0);

    // The same regexes in a YAML policy's keyless authority: the report says why.
    let policy = |subject_regex: &str| {
        format!(
            r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  ci:
    keyless:
      issuer: {{ exact: "{ISSUER}" }}
      subject: {{ regex: "{subject_regex}" }}
      trustedRoot: {root}
policies:
  - name: acme
    images: ["{host}/**"]
    signatures:
      authorities: [ci]
"#,
            root = root.display(),
            host = registry.host(),
        )
    };
    let substring = s.write("substring.yaml", policy("github.com/acme/").as_bytes());
    let ported = s.write("ported.yaml", policy(".*acme.*").as_bytes());
    for image in &images {
        let out = s
            .signet()
            .args(["verify", "--output", "json", "--policy"])
            .arg(&substring)
            .arg(image)
            .assert_exit(1);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
        assert_eq!(report["images"][0]["decision"], "deny", "{report}");
        let text = report.to_string();
        assert!(text.contains(SUBSTRING_HINT), "{image}: {text}");
        // `policy explain` gives the same reason to a person.
        let out = s
            .signet()
            .args(["policy", "explain"])
            .arg(&substring)
            .arg(image)
            .assert_exit(1);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        assert!(text.contains(SUBSTRING_HINT), "{image}: {text}");

        let out = s
            .signet()
            .args(["verify", "--output", "json", "--policy"])
            .arg(&ported)
            .arg(image)
            .assert_success();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
        assert_eq!(report["images"][0]["decision"], "allow", "{report}");
    }
    // An attestation requirement by the same authority.
    let attestation_policy = |subject_regex: &str| {
        policy(subject_regex).replace(
            "    signatures:\n      authorities: [ci]\n",
            "    attestations:\n      - predicateType: slsaprovenance1\n        authorities: [ci]\n",
        )
    };
    let substring = s.write(
        "attestation-substring.yaml",
        attestation_policy("github.com/acme/").as_bytes(),
    );
    let ported = s.write(
        "attestation-ported.yaml",
        attestation_policy(".*acme.*").as_bytes(),
    );
    assert_ne!(
        std::fs::read(&substring).expect("policy"),
        policy("github.com/acme/").into_bytes(),
        "the attestation policy replaces the signature requirement"
    );
    let out = s
        .signet()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&substring)
        .arg(&images[0])
        .assert_exit(1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(SUBSTRING_HINT), "{text}");
    s.signet()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&ported)
        .arg(&images[0])
        .assert_success();
}
