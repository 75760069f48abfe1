//! What a newcomer sees (issue 15): a verification without an authority says which flags would
//! do and exits 2 (usage), and every verification's `--help` shows each way to use it.

use crate::common::{Scratch, stderr, stdout};

/// `verify` and `verify-blob` also decide by a trust policy.
const POLICY_AUTHORITIES: &str =
    "pass --key, --certificate-identity with --certificate-oidc-issuer, or --policy";
const AUTHORITIES: &str = "pass --key, or --certificate-identity with --certificate-oidc-issuer";

#[test]
fn a_verification_without_an_authority_names_the_flags_that_would_do_and_exits_2() {
    let s = Scratch::new();
    let file = s.write("file", b"hello");
    let file = file.to_str().expect("utf-8");
    let cases: [(&[&str], &str); 5] = [
        (
            &["verify", "127.0.0.1:5000/app@sha256:0000"],
            POLICY_AUTHORITIES,
        ),
        (
            &[
                "verify",
                "--annotations",
                "env=prod",
                "registry.example/app:v1",
            ],
            POLICY_AUTHORITIES,
        ),
        (
            &["verify-attestation", "registry.example/app:v1"],
            AUTHORITIES,
        ),
        (
            &["verify-blob", "--bundle", "b.json", file],
            POLICY_AUTHORITIES,
        ),
        (
            &["verify-blob-attestation", "--bundle", "b.json", file],
            "pass --key, --certificate-identity with --certificate-oidc-issuer, or --builder-id",
        ),
    ];
    for (args, expected) in cases {
        let out = s.signet().args(args).assert_exit(2);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("no authority to verify against: {expected}")),
            "signet {args:?}: {err}"
        );
        assert!(err.contains("Usage: signet"), "signet {args:?}: {err}");
    }
}

#[test]
fn every_verification_help_shows_each_way_with_an_example() {
    let s = Scratch::new();
    let cases: [(&str, &[&str]); 4] = [
        (
            "verify",
            &[
                "signet verify --key cosign.pub",
                "signet verify --certificate-identity ",
                "signet verify --certificate-identity-regexp ",
                "signet verify --policy policy.yaml",
                "anchored, unlike Cosign: write `.*` where you mean a substring",
            ],
        ),
        (
            "verify-attestation",
            &[
                "signet verify-attestation --key cosign.pub",
                "signet verify-attestation --type slsaprovenance1 --certificate-identity ",
                "signet verify --policy policy.yaml",
            ],
        ),
        (
            "verify-blob",
            &[
                "signet verify-blob --key cosign.pub --signature",
                "signet verify-blob --key cosign.pub --bundle",
                "signet verify-blob --bundle file.sigstore.json --certificate-identity ",
                "signet verify-blob --policy release.yaml --bundle release.sigstore.jsonl",
            ],
        ),
        (
            "verify-blob-attestation",
            &[
                "signet verify-blob-attestation --key cosign.pub --signature",
                "signet verify-blob-attestation --bundle file.sigstore.json --certificate-identity ",
            ],
        ),
    ];
    for (command, examples) in cases {
        let out = s.signet().args([command, "--help"]).assert_success();
        let help = stdout(&out);
        for example in examples {
            assert!(
                help.contains(example),
                "{command} --help lacks {example:?}:\n{help}"
            );
        }
    }
    // The command list describes the verifications by every kind of authority.
    let out = s.signet().arg("--help").assert_success();
    let help = stdout(&out);
    assert!(!help.contains("against a public key"), "{help}");
    // verify-vsa verifies a summary by its verifier's public key, as slsa-verifier's
    // verify-vsa does; a VSA has no keyless form there, and its line says so.
    for line in help.lines().filter(|l| {
        l.trim_start().starts_with("verify") && !l.trim_start().starts_with("verify-vsa")
    }) {
        assert!(line.contains("keyless identity"), "{line}");
    }
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("verify-vsa")
                && l.contains("by its verifier's public key")),
        "{help}"
    );
}
