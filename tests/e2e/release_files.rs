//! Policies for release files (issue 14, "per file for blob policies"): a YAML trust policy's
//! `files:` policies decide each file from the Sigstore bundles given with it — a keyless
//! signature and SLSA provenance made by `sign-blob` / `attest-blob` against the local
//! Fulcio/Rekor/TSA — and `verify-blob --policy --vsa-key` writes one signed verification
//! summary per file, which securesystemslib's DSSE verifies and `verify-vsa` accepts for the
//! file's digest; with `--vsa-keyless`, one Sigstore bundle per file, which `verify-vsa` reads
//! by the verifier's identity. Each refusal names its check: a file without provenance, provenance from
//! another builder, a file whose bytes changed after signing, a file no policy covers.

use serde_json::Value;

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::keyless::{IDENTITY, ISSUER, SigstoreMock, token};

const VERIFIER: &str = "https://signet.example/verifier/release";

/// Signs `file` keylessly (a message-signature bundle) into `file.sigstore.json`.
fn sign_file(s: &Scratch, mock: &SigstoreMock, file: &str) {
    s.signet()
        .args([
            "sign-blob",
            "--identity-token",
            &token(),
            "--signing-config",
        ])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", &format!("{file}.sigstore.json"), file])
        .assert_success();
}

/// Attests `file` keylessly with a SLSA v1 provenance naming `builder` into
/// `file.provenance.json`.
fn attest_file(s: &Scratch, mock: &SigstoreMock, file: &str, builder: &str) {
    let predicate = s.write(
        &format!("{file}.predicate.json"),
        format!(
            r#"{{"buildDefinition":{{"buildType":"https://example.com/build/v1","externalParameters":{{}}}},"runDetails":{{"builder":{{"id":"{builder}"}}}}}}"#
        )
        .as_bytes(),
    );
    s.signet()
        .args(["attest-blob", "--identity-token", &token()])
        .args(["--type", "slsaprovenance1", "--predicate"])
        .arg(&predicate)
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", &format!("{file}.provenance.json"), file])
        .assert_success();
}

/// The bundles of the release as one JSON Lines file, as a release publishes them.
fn bundles_jsonl(s: &Scratch, names: &[&str]) {
    let mut lines = String::new();
    for name in names {
        let bundle: Value =
            serde_json::from_slice(&std::fs::read(s.path(name)).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        lines.push_str(&bundle.to_string());
        lines.push('\n');
    }
    s.write("release.sigstore.jsonl", lines.as_bytes());
}

#[test]
fn files_are_decided_by_the_files_policy_and_each_gets_a_signed_summary() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.key_pair("verifier");
    let root = mock.out("trusted_root.json");
    s.write("app-linux.tar.gz", b"the linux build\n");
    s.write("app-darwin.tar.gz", b"the darwin build\n");
    s.write("app-windows.tar.gz", b"the windows build\n");
    s.write("app-freebsd.tar.gz", b"the freebsd build\n");
    s.write("notes.txt", b"release notes\n");
    for file in [
        "app-linux.tar.gz",
        "app-darwin.tar.gz",
        "app-windows.tar.gz",
        "app-freebsd.tar.gz",
    ] {
        sign_file(&s, &mock, file);
    }
    attest_file(&s, &mock, "app-linux.tar.gz", "https://ci.example/builder");
    attest_file(
        &s,
        &mock,
        "app-windows.tar.gz",
        "https://elsewhere.example/builder",
    );
    attest_file(
        &s,
        &mock,
        "app-freebsd.tar.gz",
        "https://ci.example/builder",
    );
    bundles_jsonl(
        &s,
        &[
            "app-linux.tar.gz.sigstore.json",
            "app-linux.tar.gz.provenance.json",
            "app-darwin.tar.gz.sigstore.json",
            "app-windows.tar.gz.sigstore.json",
            "app-windows.tar.gz.provenance.json",
            "app-freebsd.tar.gz.sigstore.json",
            "app-freebsd.tar.gz.provenance.json",
        ],
    );
    // Changed after it was signed and attested.
    s.write("app-freebsd.tar.gz", b"the freebsd build, patched\n");
    let policy = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  ci:\n    keyless:\n      issuer: {{ exact: \"{ISSUER}\" }}\n      subject: {{ exact: \"{IDENTITY}\" }}\n      trustedRoot: {}\npolicies:\n  - name: release-files\n    files: [\"app-*.tar.gz\"]\n    signatures: {{ authorities: [ci] }}\n    attestations:\n      - name: provenance\n        predicateType: slsaprovenance1\n        authorities: [ci]\n        slsa:\n          builderId: {{ exact: \"https://ci.example/builder\" }}\n",
        root.display()
    );
    s.write("files.yaml", policy.as_bytes());

    let files = [
        "app-linux.tar.gz",
        "app-darwin.tar.gz",
        "app-windows.tar.gz",
        "app-freebsd.tar.gz",
        "notes.txt",
    ];
    let out = s
        .signet()
        .args(["verify-blob", "--policy", "files.yaml"])
        .args(["--bundle", "release.sigstore.jsonl"])
        .args(["--vsa-key", "verifier.key", "--vsa-out", "files.vsa.jsonl"])
        .args([
            "--vsa-verifier-id",
            VERIFIER,
            "--vsa-level",
            "SLSA_BUILD_LEVEL_2",
        ])
        .args(files)
        .output();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("no report ({e}): {}", stderr(&out)));
    let verdict = |i: usize| report["images"][i].clone();
    let reasons = |i: usize| -> Vec<String> {
        verdict(i)["matchedPolicies"][0]["requirements"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| r["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // Signed and attested by CI, built by the CI builder: allowed; named by its sha256.
    assert_eq!(verdict(0)["decision"], "allow", "{report}");
    assert_eq!(
        verdict(0)["digest"],
        sha256(&std::fs::read(s.path("app-linux.tar.gz")).unwrap_or_default())
    );
    // Signed, no provenance: denied by the provenance requirement, which says so.
    assert_eq!(verdict(1)["decision"], "deny");
    assert!(
        reasons(1)[0].starts_with("signed by 1 of 1 (ci)")
            && reasons(1)[1].contains(
                "ci: none of the 7 bundle(s) given is a https://slsa.dev/provenance/v1 attestation of this file"
            ),
        "{:?}",
        reasons(1)
    );
    // Provenance from another builder: the slsa condition's check.
    assert_eq!(verdict(2)["decision"], "deny");
    assert!(
        reasons(2)[1].contains("builder")
            && reasons(2)[1].contains("https://elsewhere.example/builder"),
        "{:?}",
        reasons(2)
    );
    // Changed bytes: its bundles are about another digest.
    assert_eq!(verdict(3)["decision"], "deny");
    assert!(
        reasons(3)[0].contains("none of the 7 bundle(s) given is a signature of this file"),
        "{:?}",
        reasons(3)
    );
    // No policy covers it: noMatch (deny).
    assert_eq!(verdict(4)["decision"], "deny");
    assert!(
        verdict(4)["note"]
            .as_str()
            .unwrap_or_default()
            .starts_with("no policy covers the file notes.txt: denied"),
        "{}",
        verdict(4)
    );

    // One summary per file, in order; PASSED only for the allowed one.
    let written = std::fs::read_to_string(s.path("files.vsa.jsonl")).unwrap_or_default();
    let statements: Vec<Value> = written
        .lines()
        .map(|line| {
            let envelope = signet_core::dsse::Envelope::parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{e}: {line}"));
            serde_json::from_slice(&envelope.payload).unwrap_or_default()
        })
        .collect();
    assert_eq!(statements.len(), 5, "{written}");
    let linux = &statements[0];
    assert_eq!(linux["subject"][0]["name"], "app-linux.tar.gz");
    assert_eq!(linux["predicate"]["verificationResult"], "PASSED");
    assert_eq!(
        linux["predicate"]["policy"]["digest"]["sha256"],
        sha256(policy.as_bytes()).trim_start_matches("sha256:")
    );
    // The input attestation is the provenance bundle that qualified, by digest.
    let provenance_line = std::fs::read_to_string(s.path("release.sigstore.jsonl"))
        .unwrap_or_default()
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        linux["predicate"]["inputAttestations"][0]["digest"]["sha256"],
        sha256(provenance_line.as_bytes()).trim_start_matches("sha256:")
    );
    for statement in &statements[1..] {
        assert_eq!(statement["predicate"]["verificationResult"], "FAILED");
    }
    for statement in &statements {
        signet_policy::vsa::check_spec(statement.to_string().as_bytes())
            .unwrap_or_else(|v| panic!("{v:?}"));
    }
    // securesystemslib's DSSE verifies every envelope with the verifier's key.
    let checked =
        crate::vsa::securesystemslib_verify(&s.path("verifier.pub"), &s.path("files.vsa.jsonl"));
    assert_eq!(checked.lines().count(), 5, "{checked}");
    assert!(checked.starts_with("PASSED "), "{checked}");

    // verify-vsa, as a consumer of the release would run it on the file it downloaded.
    let linux_digest = sha256(&std::fs::read(s.path("app-linux.tar.gz")).unwrap_or_default());
    let resource = linux["predicate"]["resourceUri"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        resource.starts_with("file:///") && resource.ends_with("/app-linux.tar.gz"),
        "{resource}"
    );
    s.signet()
        .args(["verify-vsa", "--attestation-path", "files.vsa.jsonl"])
        .args(["--subject-digest", &linux_digest, "--verifier-id", VERIFIER])
        .args(["--resource-uri", &resource])
        .args(["--verified-levels", "SLSA_BUILD_LEVEL_2"])
        .args(["--public-key-path", "verifier.pub"])
        .assert_success();

    // The same decisions summarized keylessly: one Sigstore bundle per file, read back by the
    // verifier's certificate identity; the darwin file's summary verifies as a bundle but is
    // refused for its result.
    let out = s
        .signet()
        .args(["verify-blob", "--policy", "files.yaml"])
        .args(["--bundle", "release.sigstore.jsonl", "--vsa-keyless"])
        .args(["--identity-token", &token(), "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .args([
            "--vsa-out",
            "files.keyless.jsonl",
            "--vsa-verifier-id",
            VERIFIER,
        ])
        .args(["--vsa-level", "SLSA_BUILD_LEVEL_2"])
        .args(files)
        .output();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrote 5 verification summaries to files.keyless.jsonl"),
        "{}",
        stderr(&out)
    );
    let keyless_vsa = |digest: &str, resource: &str| {
        s.signet()
            .args(["verify-vsa", "--attestation-path", "files.keyless.jsonl"])
            .args(["--subject-digest", digest, "--verifier-id", VERIFIER])
            .args(["--resource-uri", resource])
            .args(["--certificate-identity", IDENTITY])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .output()
    };
    let out = keyless_vsa(&linux_digest, &resource);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let darwin_digest = sha256(&std::fs::read(s.path("app-darwin.tar.gz")).unwrap_or_default());
    let out = keyless_vsa(&darwin_digest, &resource.replace("linux", "darwin"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 2: [vsa-result]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_files_policy_is_refused_where_it_cannot_apply() {
    let s = Scratch::new();
    s.write("app.tar.gz", b"an artifact\n");
    s.write("bundle.json", b"{}");
    let load = |policy: &str| {
        s.write("p.yaml", policy.as_bytes());
        s.signet()
            .args([
                "verify-blob",
                "--policy",
                "p.yaml",
                "--bundle",
                "bundle.json",
            ])
            .arg("app.tar.gz")
            .output()
    };
    let head = "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  k: { keyless: { issuer: { exact: \"https://issuer.example\" }, subject: { exact: \"me@example.com\" } } }\n";
    let cases = [
        (
            "    images: [\"registry.example/**\"]\n    files: [\"*.tar.gz\"]\n",
            "a policy covers images or files, not both",
        ),
        (
            "    files: [\"dist/*.tar.gz\"]\n",
            "file glob \"dist/*.tar.gz\" has a `/`",
        ),
    ];
    for (scope, expected) in cases {
        let out = load(&format!(
            "{head}policies:\n  - name: p\n{scope}    signatures: {{ authorities: [k] }}\n"
        ));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{expected}: {}",
            stderr(&out)
        );
    }
    // Standard input has no name for a policy's globs to match.
    let out = s
        .signet()
        .args([
            "verify-blob",
            "--policy",
            "p.yaml",
            "--bundle",
            "bundle.json",
            "-",
        ])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give file paths, not -"),
        "{}",
        stderr(&out)
    );
    // Summaries need a policy to summarize.
    let out = s
        .signet()
        .args([
            "verify-blob",
            "--bundle",
            "bundle.json",
            "--vsa-key",
            "x.key",
        ])
        .args([
            "--vsa-out",
            "o",
            "--vsa-verifier-id",
            VERIFIER,
            "app.tar.gz",
        ])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--policy"), "{}", stderr(&out));
    // The keyless flags sign summaries here; without --vsa-keyless they are not ignored.
    let out = s
        .signet()
        .args([
            "verify-blob",
            "--bundle",
            "bundle.json",
            "--identity-token",
            "t",
        ])
        .args(["--certificate-identity", "me@example.com"])
        .args([
            "--certificate-oidc-issuer",
            "https://issuer.example",
            "app.tar.gz",
        ])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("sign verification summaries keylessly: add --vsa-keyless"),
        "{}",
        stderr(&out)
    );
}
