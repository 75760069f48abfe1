//! The sigstore-conformance offline verification suite (`../shared/testdata/conformance`,
//! see its CASES.md): all 70 cases through `signet conformance verify-bundle`, each run with
//! the artifact's path and with `sha256:<hex>`, as upstream's `test/client.py` runs them.
//! Every case must give its expected outcome; every failing case must fail on the check
//! listed below, read from the `[code]` signet prints on stderr. Also `verify-blob --bundle`
//! on a few of them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Scratch, sha256, stderr};

fn conformance_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/conformance");
    assert!(
        dir.join("cases.json").is_file(),
        "missing test data {}",
        dir.display()
    );
    dir
}

/// What signet must do with a case.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit 0.
    Pass,
    /// Exit 1 (denied), naming this check: `[code]` on stderr.
    Fail(&'static str),
    /// Exit 2 (could not find out), with this on stderr: the input is not a bundle problem.
    Undecided(&'static str),
}

use Expect::{Fail, Pass, Undecided};

/// Every case and the check it must fail on. Where a case could fail for more than one reason,
/// the comment says which one signet reports first.
const CASES: &[(&str, Expect)] = &[
    ("bundle-empty-certificate-chain_fail", Fail("material")),
    // Staging bundle against the production root: the Rekor key is unknown, which the SET
    // check reports before the Fulcio chain is built.
    ("bundle-from-wrong-instance_fail", Fail("tlog-set")),
    ("bundle-invalid-base64-signature_fail", Fail("parse")),
    ("bundle-malformed-json_fail", Fail("parse")),
    ("bundle-negative-log-index_fail", Fail("tlog-entry")),
    ("bundle-unknown-version_fail", Fail("unknown-version")),
    ("bundle-with-root-cert_fail", Fail("certificate-chain")),
    ("bundle-with-sct-with-extensions", Pass),
    ("checkpoint-bad-keyhint_fail", Fail("tlog-checkpoint")),
    ("checkpoint-wrong-roothash_fail", Fail("tlog-checkpoint")),
    ("dsse-invalid-sig_fail", Fail("signature")),
    ("dsse-mismatch-envelope_fail", Fail("tlog-entry")),
    ("dsse-mismatch-sig_fail", Fail("tlog-entry")),
    ("happy-path-intoto-in-dsse-v3", Pass),
    ("happy-path-v0.1", Pass),
    ("happy-path-v0.2", Pass),
    ("happy-path-v0.3", Pass),
    ("happy-path-v0.3-new-mediaType", Pass),
    (
        "inclusion-proof-corrupted-hash_fail",
        Fail("tlog-inclusion-proof"),
    ),
    // The altered body no longer matches the SET, checked first.
    ("incorrect-public-key_fail", Fail("tlog-set")),
    (
        "integrated-time-in-future_fail",
        Fail("certificate-validity"),
    ),
    (
        "intoto-expired-certificate_fail",
        Fail("certificate-validity"),
    ),
    ("intoto-log-entry-mismatch_fail", Fail("tlog-entry")),
    (
        "intoto-missing-inclusion-proof_fail",
        Fail("tlog-inclusion-proof"),
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        Fail("certificate-validity"),
    ),
    // The certificate must be valid at every verified time: the SET's and the timestamp's.
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        Fail("certificate-validity"),
    ),
    ("intoto-with-custom-trust-root", Pass),
    ("invalid-checkpoint-signature_fail", Fail("tlog-checkpoint")),
    ("invalid-ct-key_fail", Fail("sct")),
    // The v0.2 proof has no checkpoint, which is reported before the proof is computed.
    ("invalid-inclusion-proof_fail", Fail("tlog-checkpoint")),
    ("managed-key-and-trusted-root", Pass),
    ("managed-key-happy-path", Pass),
    ("managed-key-no-key_fail", Fail("material")),
    // key.pub is not a key at all: signet cannot even start (exit 2).
    (
        "managed-key-wrong-key_fail",
        Undecided("loading the public key"),
    ),
    ("message-digest-mismatch_fail", Fail("artifact-digest")),
    ("rekor2-checkpoint-cosigned", Pass),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        Fail("tlog-checkpoint"),
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        Fail("tlog-checkpoint"),
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        Fail("tlog-checkpoint"),
    ),
    (
        "rekor2-checkpoint-missing-size_fail",
        Fail("tlog-checkpoint"),
    ),
    ("rekor2-checkpoint-multiple-cosigs", Pass),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        Fail("tlog-checkpoint"),
    ),
    ("rekor2-checkpoint-origin-not-first", Pass),
    ("rekor2-checkpoint-two-sigs-cosigned", Pass),
    ("rekor2-checkpoint-two-sigs-from-origin", Pass),
    ("rekor2-dsse-happy-path", Pass),
    ("rekor2-dsse-invalid-sig_fail", Fail("signature")),
    ("rekor2-dsse-mismatch-envelope_fail", Fail("tlog-entry")),
    ("rekor2-dsse-mismatch-sig_fail", Fail("tlog-entry")),
    ("rekor2-happy-path", Pass),
    (
        "rekor2-no-inclusion-proof_fail",
        Fail("tlog-inclusion-proof"),
    ),
    ("rekor2-no-timestamp_fail", Fail("no-signing-time")),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        Fail("timestamp"),
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        Fail("timestamp"),
    ),
    ("rekor2-timestamp-payload-mismatch_fail", Fail("timestamp")),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        Fail("timestamp"),
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        Fail("timestamp"),
    ),
    ("rekor2-timestamp-with-embedded-cert", Pass),
    ("rekor2-timestamp-with-expired-cert-chain", Pass),
    // Known divergence (REASON_DIVERGENCES): the intended reason is certificate-validity.
    ("rekor2-timestamp-with-incorrect-time_fail", Fail("parse")),
    ("rekor2-timestamp-without-embedded-cert", Pass),
    ("set-invalid-signature_fail", Fail("tlog-set")),
    ("signature-mismatch_fail", Fail("signature")),
    // The trusted root itself is malformed: an operator error, exit 2.
    (
        "trust-root-tlog-missing-validity-start_fail",
        Undecided("[trusted-root]"),
    ),
    ("trust-root-tlog-validity-end-inclusive", Pass),
    ("trust-root-tsa-validity-end-inclusive", Pass),
    // The bundle's own digest and signature are right; the log entry is for other material.
    ("wrong-hashedrekord-artifact_fail", Fail("tlog-entry")),
    ("wrong-hashedrekord-cert-and-sig_fail", Fail("tlog-entry")),
    ("wrong-hashedrekord-entry_fail", Fail("tlog-entry")),
    ("wrong-material_fail", Fail("artifact-digest")),
];

/// Cases that give the expected outcome, but not for the reason the case was written for.
/// Also in docs/compatibility.md, "Sigstore bundles (conformance)".
const REASON_DIVERGENCES: &[(&str, &str)] = &[(
    "rekor2-timestamp-with-incorrect-time_fail",
    "its RFC 3161 token is base64 wrapped at 76 columns (`base64` output); sigstore-verify's \
     decoder rejects the line breaks, so the bundle fails to parse before the timestamp's time \
     is compared with the certificate's validity. Go, Python and Node decoders skip line breaks.",
)];

/// Cases that do not give the expected outcome. None today.
const OUTCOME_DIVERGENCES: &[(&str, &str)] = &[];

struct Case {
    name: String,
    expected_pass: bool,
    bundle: PathBuf,
    artifact: PathBuf,
    trusted_root: PathBuf,
    key: Option<PathBuf>,
    /// Identity and issuer, for the cases without a key.
    identity: Option<String>,
    issuer: Option<String>,
}

fn cases() -> Vec<Case> {
    let dir = conformance_dir();
    let json: Value = serde_json::from_slice(
        &std::fs::read(dir.join("cases.json")).unwrap_or_else(|e| panic!("cases.json: {e}")),
    )
    .unwrap_or_else(|e| panic!("cases.json: {e}"));
    let text = |case: &Value, key: &str| -> String {
        case[key]
            .as_str()
            .unwrap_or_else(|| panic!("cases.json: {key} missing in {case}"))
            .to_owned()
    };
    json["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("cases.json: no cases"))
        .iter()
        .map(|case| Case {
            name: text(case, "name"),
            expected_pass: text(case, "expected") == "pass",
            bundle: dir.join(text(case, "bundle")),
            artifact: dir.join(text(case, "artifact")),
            trusted_root: dir.join(text(case, "trusted_root")),
            key: case["key"].as_str().map(|k| dir.join(k)),
            identity: case["identity"].as_str().map(str::to_owned),
            issuer: case["issuer"].as_str().map(str::to_owned),
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Artifact,
    Digest,
}

/// Runs one case: the exit code and stderr.
fn run_case(scratch: &Scratch, case: &Case, mode: Mode) -> (Option<i32>, String) {
    let mut cmd = scratch.signet();
    cmd.args(["conformance", "verify-bundle", "--bundle"])
        .arg(&case.bundle)
        .arg("--trusted-root")
        .arg(&case.trusted_root);
    match (&case.key, &case.identity, &case.issuer) {
        (Some(key), _, _) => cmd.arg("--key").arg(key),
        (None, Some(identity), Some(issuer)) => cmd
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer]),
        _ => panic!("{}: neither a key nor an identity and issuer", case.name),
    };
    match mode {
        Mode::Artifact => cmd.arg(&case.artifact),
        Mode::Digest => {
            let bytes = std::fs::read(&case.artifact)
                .unwrap_or_else(|e| panic!("{}: {e}", case.artifact.display()));
            cmd.arg(sha256(&bytes))
        }
    };
    let output = cmd.output();
    (output.status.code(), stderr(&output))
}

/// Whether the exit code and stderr are what `expect` says.
fn meets(expect: Expect, code: Option<i32>, err: &str) -> bool {
    match expect {
        Pass => code == Some(0),
        Fail(check) => code == Some(1) && err.contains(&format!("[{check}]")),
        Undecided(text) => code == Some(2) && err.contains(text),
    }
}

#[test]
fn sigstore_conformance_suite_in_artifact_and_digest_mode() {
    let scratch = Scratch::new();
    let cases = cases();
    assert_eq!(cases.len(), 70, "cases.json should list 70 cases");
    let listed: BTreeSet<&str> = CASES.iter().map(|(name, _)| *name).collect();
    let found: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        listed, found,
        "CASES must list exactly the cases of cases.json"
    );

    let mut problems = Vec::new();
    for mode in [Mode::Artifact, Mode::Digest] {
        let (mut outcome_ok, mut check_ok) = (0, 0);
        for case in &cases {
            let expect = CASES
                .iter()
                .find(|(name, _)| *name == case.name)
                .map(|(_, expect)| *expect)
                .unwrap_or_else(|| panic!("{} not in CASES", case.name));
            assert_eq!(
                matches!(expect, Pass),
                case.expected_pass,
                "{}: CASES disagrees with cases.json",
                case.name
            );
            let (code, err) = run_case(&scratch, case, mode);
            // The conformance score counts the outcome: exit 0 for a pass, non-zero otherwise.
            if (code == Some(0)) == case.expected_pass {
                outcome_ok += 1;
            }
            if meets(expect, code, &err) {
                check_ok += 1;
            } else {
                problems.push(format!(
                    "{} ({mode:?} mode): expected {expect:?}, got exit {code:?}: {}",
                    case.name,
                    err.trim()
                ));
            }
        }
        println!(
            "sigstore-conformance, {mode:?} mode: {outcome_ok}/{} expected outcomes, {check_ok}/{} with the listed check",
            cases.len(),
            cases.len()
        );
    }
    for (name, why) in REASON_DIVERGENCES.iter().chain(OUTCOME_DIVERGENCES) {
        println!("known divergence: {name}: {why}");
    }
    assert!(
        problems.is_empty(),
        "{} runs differ from the expectation:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// `verify-blob --bundle` is the same check with Cosign's flags.
#[test]
fn verify_blob_with_a_bundle_checks_identity_and_needs_a_trusted_root() {
    let scratch = Scratch::new();
    let dir = conformance_dir().join("bundle-verify");
    let root = conformance_dir().join("_trust/production/trusted_root.json");
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let issuer = "https://token.actions.githubusercontent.com";
    let verify = |bundle: &str, identity: &str| {
        let mut cmd = scratch.signet();
        cmd.args(["verify-blob", "--bundle"])
            .arg(dir.join(bundle).join("bundle.sigstore.json"))
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer])
            .arg("--trusted-root")
            .arg(&root)
            .arg(dir.join("a.txt"));
        cmd
    };
    let ok = verify("happy-path-v0.3", identity).assert_success();
    assert!(stderr(&ok).contains("Verified OK"), "{}", stderr(&ok));

    let denied = verify("happy-path-v0.3", "someone@example.com").assert_exit(1);
    assert!(
        stderr(&denied).contains("[identity]"),
        "{}",
        stderr(&denied)
    );

    let denied = verify("checkpoint-wrong-roothash_fail", identity).assert_exit(1);
    assert!(
        stderr(&denied).contains("[tlog-checkpoint]"),
        "{}",
        stderr(&denied)
    );

    // Managed key: --key with --bundle.
    let key_case = dir.join("managed-key-happy-path");
    scratch
        .signet()
        .args(["verify-blob", "--bundle"])
        .arg(key_case.join("bundle.sigstore.json"))
        .arg("--key")
        .arg(key_case.join("key.pub"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(dir.join("a.txt"))
        .assert_success();

    // Without --trusted-root and without a TUF cache, signet says what to pass or run, and
    // could not decide.
    let undecided = scratch
        .signet()
        .args(["verify-blob", "--bundle"])
        .arg(dir.join("happy-path-v0.3/bundle.sigstore.json"))
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", issuer])
        .arg(dir.join("a.txt"))
        .assert_exit(2);
    assert!(
        stderr(&undecided).contains("pass --trusted-root FILE, or run `signet initialize`"),
        "{}",
        stderr(&undecided)
    );

    // Exactly one of --signature and --bundle.
    let usage = scratch
        .signet()
        .args(["verify-blob", "--signature", "AAAA", "--bundle"])
        .arg(dir.join("happy-path-v0.3/bundle.sigstore.json"))
        .arg(dir.join("a.txt"))
        .assert_exit(2);
    assert!(
        stderr(&usage).contains("cannot be used with"),
        "{}",
        stderr(&usage)
    );
}

/// A bundle over the size limit is refused before it is parsed, with its own check.
#[test]
fn oversized_bundle_is_refused_before_parsing() {
    let scratch = Scratch::new();
    let big = scratch.write("big.sigstore.json", &vec![b' '; 1024 * 1024 + 1]);
    let output = scratch
        .signet()
        .args(["conformance", "verify-bundle", "--bundle"])
        .arg(&big)
        .args([
            "--certificate-identity",
            "a",
            "--certificate-oidc-issuer",
            "b",
        ])
        .arg("--trusted-root")
        .arg(conformance_dir().join("_trust/production/trusted_root.json"))
        .arg(sha256(b""))
        .assert_exit(1);
    assert!(
        stderr(&output).contains("[too-large]"),
        "{}",
        stderr(&output)
    );
}

/// CVE-2022-36056: Cosign's verify-blob accepted a valid bundle for another file. A valid
/// bundle, valid identity and trusted root, but a file it does not sign, must be refused.
#[test]
fn regression_cve_2022_36056_a_valid_bundle_for_another_file_is_refused() {
    let scratch = Scratch::new();
    let dir = conformance_dir().join("bundle-verify");
    let other = scratch.write("other.txt", b"not the signed artifact\n");
    let denied = scratch
        .signet()
        .args(["verify-blob", "--bundle"])
        .arg(dir.join("happy-path-v0.3").join("bundle.sigstore.json"))
        .args([
            "--certificate-identity",
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            "--trusted-root",
        ])
        .arg(conformance_dir().join("_trust/production/trusted_root.json"))
        .arg(&other)
        .assert_exit(1);
    assert!(
        stderr(&denied).contains("[artifact-digest]"),
        "{}",
        stderr(&denied)
    );
}
