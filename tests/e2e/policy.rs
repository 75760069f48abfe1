//! signet's YAML trust policy on a real registry: thresholds, required signers, attestation
//! conditions, modes, no-match handling, Rego, and load-time errors with line numbers.

use serde_json::{Value, json};

use crate::common::{stderr, stdout};
use crate::util::Setup;

/// The shared fixture with the key pairs the policies below name.
fn setup() -> Setup {
    Setup::with_keys(&["a", "b", "c", "builder", "sbom"])
}

/// Pushes a sample image `repo:v1` and returns `host/repo@digest`.
fn image(t: &Setup, repo: &str) -> String {
    t.image(repo, "v1").0
}

/// `attest --tlog-upload=false --key KEY.key --type TYPE --predicate (PREDICATE) IMAGE`.
fn attest(t: &Setup, key: &str, image: &str, predicate_type: &str, predicate: &Value) {
    let file = t.s.write(
        &format!("predicate-{}.json", rand_suffix()),
        predicate.to_string().as_bytes(),
    );
    t.s.signet()
        .args([
            "attest",
            "--tlog-upload=false",
            "--key",
            &format!("{key}.key"),
            "--type",
            predicate_type,
            "--predicate",
        ])
        .arg(&file)
        .arg(image)
        .assert_success();
}

/// Writes a policy with the five key authorities and `body` (HOST is the registry's host);
/// returns its file name.
fn write_policy(t: &Setup, body: &str) -> String {
    let host = t.registry.host();
    let text = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  a: {{ key: {{ path: a.pub }}, transparencyLog: ignore }}\n  b: {{ key: {{ path: b.pub }}, transparencyLog: ignore }}\n  c: {{ key: {{ path: c.pub }}, transparencyLog: ignore }}\n  builder: {{ key: {{ path: builder.pub }}, transparencyLog: ignore }}\n  sbom: {{ key: {{ path: sbom.pub }}, transparencyLog: ignore }}\n{}",
        body.replace("HOST", &host)
    );
    let name = format!("policy-{}.yaml", rand_suffix());
    t.s.write(&name, text.as_bytes());
    name
}

/// Runs `verify --policy` and returns (exit code, report, stderr). The report must be JSON:
/// every decision, allow or deny, prints one.
fn verify_policy(t: &Setup, policy: &str, images: &[&str]) -> (i32, Value, String) {
    let out =
        t.s.signet()
            .args(["verify", "--policy", policy])
            .args(images)
            .output();
    let report: Value = serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| {
        panic!(
            "verify --policy printed no JSON report ({e}): {}\n{}",
            stdout(&out),
            stderr(&out)
        )
    });
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("signet was killed: {}", out.status));
    (code, report, stderr(&out))
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

const THRESHOLD: &str = "policies:\n  - name: prod\n    images: [\"HOST/**\"]\n    signatures:\n      authorities: [a, b, c]\n      threshold: 2\n      required: [c]\n";

#[test]
fn threshold_and_required_signers() {
    let t = setup();
    let policy = write_policy(&t, THRESHOLD);
    let both = image(&t, "both");
    t.sign(&t.key("a"), &both);
    t.sign(&t.key("c"), &both);
    let (code, report, err) = verify_policy(&t, &policy, &[&both]);
    assert_eq!(code, 0, "{err}\n{report}");
    assert_eq!(report["version"], 1);
    assert_eq!(report["images"][0]["decision"], "allow");
    assert_eq!(report["images"][0]["matchedPolicies"][0]["name"], "prod");
    let evidence = &report["images"][0]["matchedPolicies"][0]["requirements"][0]["evidence"];
    assert_eq!(evidence.as_array().map(Vec::len), Some(3));

    let one = image(&t, "one");
    t.sign(&t.key("c"), &one);
    let (code, report, err) = verify_policy(&t, &policy, &[&one]);
    assert_eq!(code, 1, "{err}");
    let reason = report["images"][0]["matchedPolicies"][0]["requirements"][0]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no reason in {report}"));
    assert!(reason.contains("threshold 2 not met"), "{reason}");

    let without_required = image(&t, "without-required");
    t.sign(&t.key("a"), &without_required);
    t.sign(&t.key("b"), &without_required);
    let (code, report, _) = verify_policy(&t, &policy, &[&without_required]);
    assert_eq!(code, 1);
    let reason = report["images"][0]["matchedPolicies"][0]["requirements"][0]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no reason in {report}"));
    assert!(
        reason.contains("required signer(s) c did not sign"),
        "{reason}"
    );
}

#[test]
fn attestations_are_checked_against_their_conditions_and_allowed_signers() {
    let t = setup();
    let policy = write_policy(
        &t,
        "policies:\n  - name: supply-chain\n    images: [\"HOST/**\"]\n    attestations:\n      - name: provenance\n        predicateType: slsaprovenance\n        authorities: [builder]\n        slsa:\n          builderId: { prefix: \"https://github.com/slsa-framework/\" }\n          sourceRepository: github.com/acme/app\n          branch: main\n      - name: sbom\n        predicateType: spdxjson\n        authorities: [sbom]\n        sbom:\n          maxAge: 720h\n          deniedPackages:\n            - { name: log4j-core, versions: \"<2.17.1\" }\n",
    );
    let provenance = |builder: &str, repo: &str| {
        json!({
            "builder": {"id": builder},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": {"configSource": {"uri": format!("git+https://github.com/{repo}@refs/heads/main"), "entryPoint": ".github/workflows/release.yml"}},
        })
    };
    let now = signet_core::intoto::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    );
    let sbom = |created: &str, log4j: &str| {
        json!({
            "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
            "creationInfo": {"created": created, "creators": ["Tool: test"]},
            "packages": [{"name": "log4j-core", "SPDXID": "SPDXRef-log4j", "versionInfo": log4j}],
        })
    };
    let good_builder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0";

    let good = image(&t, "good");
    attest(
        &t,
        "builder",
        &good,
        "slsaprovenance",
        &provenance(good_builder, "acme/app"),
    );
    attest(&t, "sbom", &good, "spdxjson", &sbom(&now, "2.17.1"));
    let (code, report, err) = verify_policy(&t, &policy, &[&good]);
    assert_eq!(code, 0, "{err}\n{report}");

    type Prepare<'a> = Box<dyn Fn(&str) + 'a>;
    let cases: [(&str, Prepare<'_>, &str); 5] = [
        (
            "wrong-builder",
            Box::new(|i: &str| {
                attest(
                    &t,
                    "builder",
                    i,
                    "slsaprovenance",
                    &provenance("https://evil.example/builder", "acme/app"),
                );
                attest(&t, "sbom", i, "spdxjson", &sbom(&now, "2.17.1"));
            }),
            "evil.example",
        ),
        (
            "wrong-repo",
            Box::new(|i: &str| {
                attest(
                    &t,
                    "builder",
                    i,
                    "slsaprovenance",
                    &provenance(good_builder, "mallory/app"),
                );
                attest(&t, "sbom", i, "spdxjson", &sbom(&now, "2.17.1"));
            }),
            "mallory/app",
        ),
        (
            "denied-package",
            Box::new(|i: &str| {
                attest(
                    &t,
                    "builder",
                    i,
                    "slsaprovenance",
                    &provenance(good_builder, "acme/app"),
                );
                attest(&t, "sbom", i, "spdxjson", &sbom(&now, "2.14.0"));
            }),
            "log4j-core",
        ),
        (
            "old-sbom",
            Box::new(|i: &str| {
                attest(
                    &t,
                    "builder",
                    i,
                    "slsaprovenance",
                    &provenance(good_builder, "acme/app"),
                );
                attest(
                    &t,
                    "sbom",
                    i,
                    "spdxjson",
                    &sbom("2020-01-01T00:00:00Z", "2.17.1"),
                );
            }),
            "2020-01-01",
        ),
        (
            "wrong-signer",
            Box::new(|i: &str| {
                // Provenance signed by the SBOM key: that authority is not allowed for it.
                attest(
                    &t,
                    "sbom",
                    i,
                    "slsaprovenance",
                    &provenance(good_builder, "acme/app"),
                );
                attest(&t, "sbom", i, "spdxjson", &sbom(&now, "2.17.1"));
            }),
            "builder: no https://slsa.dev/provenance/v0.2 attestation verifies with this key",
        ),
    ];
    for (name, setup, expected) in cases {
        let image = image(&t, name);
        setup(&image);
        let (code, report, err) = verify_policy(&t, &policy, &[&image]);
        assert_eq!(code, 1, "{name}: {err}");
        let reasons: Vec<String> = report["images"][0]["matchedPolicies"][0]["requirements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["passed"] == false)
            .map(|r| {
                r["reason"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no reason in {r}"))
                    .to_owned()
            })
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains(expected)),
            "{name}: {reasons:?}"
        );
    }
}

#[test]
fn modes_no_match_and_rego() {
    let t = setup();
    let signed = image(&t, "team/signed");
    t.sign(&t.key("a"), &signed);
    let unsigned = image(&t, "team/unsigned");
    let elsewhere = image(&t, "other/app");
    let policy = write_policy(
        &t,
        "noMatch: warn\npolicies:\n  - name: team-warn\n    mode: warn\n    images: [\"HOST/team/*\"]\n    signatures: { authorities: [a] }\n",
    );
    let (code, report, err) = verify_policy(&t, &policy, &[&signed, &unsigned, &elsewhere]);
    assert_eq!(code, 0, "warn mode and noMatch: warn never deny: {err}");
    assert_eq!(report["images"][0]["decision"], "allow");
    assert_eq!(report["images"][1]["decision"], "warn");
    assert_eq!(report["images"][2]["decision"], "warn");
    assert!(
        report["images"][2]["note"]
            .as_str()
            .unwrap_or_else(|| panic!("no note in {report}"))
            .contains("no policy covers")
    );

    let strict = write_policy(
        &t,
        "policies:\n  - name: team\n    images: [\"HOST/team/*\"]\n    signatures: { authorities: [a] }\n",
    );
    let (code, report, _) = verify_policy(&t, &strict, &[&elsewhere]);
    assert_eq!(code, 1, "noMatch defaults to deny");
    assert_eq!(report["images"][0]["decision"], "deny");

    let rego = write_policy(
        &t,
        "policies:\n  - name: tests-passed\n    images: [\"HOST/**\"]\n    attestations:\n      - predicateType: https://example.com/test-result/v1\n        authorities: [a]\n        rego: |\n          package signature\n          default allow = false\n          allow { input.predicate.passed == true }\n",
    );
    let passed = image(&t, "passed");
    attest(
        &t,
        "a",
        &passed,
        "https://example.com/test-result/v1",
        &json!({"passed": true}),
    );
    let failed = image(&t, "failed");
    attest(
        &t,
        "a",
        &failed,
        "https://example.com/test-result/v1",
        &json!({"passed": false}),
    );
    let (code, report, err) = verify_policy(&t, &rego, &[&passed, &failed]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report["images"][0]["decision"], "allow", "{report}");
    assert_eq!(report["images"][1]["decision"], "deny", "{report}");
}

#[test]
fn bad_policies_are_rejected_at_load_with_the_line() {
    let t = setup();
    let image = image(&t, "app");
    let cases = [
        (
            "policies:\n  - name: p\n    images: [\"HOST/**\"]\n    signature: { authorities: [a] }\n",
            "line 12",
            "unknown field `signature`",
        ),
        (
            "policies:\n  - name: p\n    images: [\"HOST//x\"]\n    signatures: { authorities: [a] }\n",
            "line 11",
            "empty path segment",
        ),
        (
            "policies:\n  - name: p\n    images: [\"HOST/**\"]\n    signatures: { authorities: [a, b], threshold: 3 }\n",
            "line 12",
            "threshold 3 is larger than the 2 authorities",
        ),
        (
            "policies:\n  - name: p\n    images: [\"HOST/**\"]\n    signatures: { authorities: [a, nobody] }\n",
            "line 10",
            "\"nobody\", which is not defined",
        ),
    ];
    for (body, line, reason) in cases {
        let policy = write_policy(&t, body);
        // A policy that cannot be loaded means the gate could not decide: exit 2, not a denial.
        let out =
            t.s.signet()
                .args(["verify", "--policy", &policy, &image])
                .assert_exit(2);
        assert!(stderr(&out).contains(reason), "{reason}: {}", stderr(&out));
        assert!(stderr(&out).contains(line), "{line}: {}", stderr(&out));
        let out =
            t.s.signet()
                .args(["policy", "lint", &policy])
                .assert_exit(1);
        assert!(stderr(&out).contains(reason), "lint: {}", stderr(&out));
    }
    let regex = "  ci:\n    keyless:\n      issuer: { exact: https://token.actions.githubusercontent.com }\n      subject: { regex: \"(unclosed\" }\n";
    let text = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n{regex}policies: []\n"
    );
    t.s.write("regex.yaml", text.as_bytes());
    let out =
        t.s.signet()
            .args(["policy", "lint", "regex.yaml"])
            .assert_exit(1);
    assert!(
        stderr(&out).contains("does not compile") && stderr(&out).contains("line 7"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lint_warns_about_rules_that_cannot_pass_and_useless_excludes() {
    let t = setup();
    let policy = write_policy(
        &t,
        "policies:\n  - name: p\n    images: [\"HOST/prod/**\"]\n    exclude: [\"HOST/staging/*\"]\n    signatures: { authorities: [a] }\n",
    );
    let out =
        t.s.signet()
            .args(["policy", "lint", &policy])
            .assert_success();
    assert!(stdout(&out).contains("W001"), "{}", stdout(&out));
    assert!(stdout(&out).contains("exclude"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("W005"),
        "unused authorities: {}",
        stdout(&out)
    );
}

#[test]
fn explain_and_stats() {
    let t = setup();
    let policy = write_policy(&t, THRESHOLD);
    let images: Vec<String> = (0..3).map(|i| image(&t, &format!("app{i}"))).collect();
    for image in &images {
        t.sign(&t.key("a"), image);
        t.sign(&t.key("c"), image);
    }
    let out =
        t.s.signet()
            .args(["policy", "explain", &policy, &images[0]])
            .assert_success();
    assert!(stdout(&out).contains("✓ prod"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("signed by 2 of 3"),
        "{}",
        stdout(&out)
    );
    let out =
        t.s.signet()
            .args(["verify", "--policy", &policy, "--stats"])
            .args(&images)
            .assert_success();
    let stats = stderr(&out);
    println!(
        "{}",
        stats
            .lines()
            .find(|l| l.starts_with("stats:"))
            .unwrap_or_else(|| panic!("no stats line in {stats}"))
    );
    let per_image: f64 = stats
        .split("registry requests for 3 image(s), ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stats line: {stats}"));
    // Per digest reference: the signature manifest and one payload per signature (2 here),
    // plus one authentication probe shared by all images of the repository.
    assert!(per_image <= 5.0, "{stats}");
}
