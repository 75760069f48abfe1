//! Snapshots of what people read: the exit code, stdout and stderr of `verify`,
//! `verify-attestation`, `tree` and `policy explain`, on a real docker-registry (and the
//! Sigstore mock for a keyless denial), in the style of uv's and ripgrep's CLI tests.
//!
//! These guard the wording of the human-readable output while the CLI is refactored (issue
//! 11): a change to a `.snap` file under `tests/e2e/snapshots/` is a change users see, and
//! must be one an issue asks for. What varies from run to run is filtered, so that a snapshot
//! changes only when the output does:
//!
//! - the scratch directory and other temporary paths → `[SCRATCH]`, `[TEMP]`;
//! - loopback ports → `[REGISTRY]` (the registry) or `[PORT]`;
//! - hex digests (signature layers, keys and payloads are random) → `[HASH-n]`, numbered in
//!   order of first appearance, so that the same digest keeps its number within a snapshot;
//! - signatures (base64), times and log indexes; DSSE payloads on stdout are shown decoded
//!   (they name the registry's host and port).
//!
//! To accept an intended change: `INSTA_UPDATE=always cargo test --test e2e snapshots::`,
//! then review the diff of the `.snap` files like code.

use std::collections::HashMap;
use std::process::Output;

use base64::Engine;

use crate::common::{Scratch, stderr, stdout};
use crate::keyless::{ISSUER, SigstoreMock, token_for};
use crate::util::Setup;

/// One command's output as a snapshot: exit code, stdout, stderr.
fn render(out: &Output) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status
            .code()
            .map_or_else(|| format!("killed ({})", out.status), |c| c.to_string()),
        stdout(out),
        stderr(out)
    )
}

/// Replaces each distinct 64-hex-digit run by `[HASH-n]`, numbered in order of appearance.
fn number_hashes(text: &str) -> String {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if run == 64 && starts_word {
            let hash = &text[i..i + 64];
            let next = seen.len() + 1;
            let n = *seen.entry(hash.to_owned()).or_insert(next);
            out.push_str(&format!("[HASH-{n}]"));
            i += 64;
        } else {
            let len = if run > 0 {
                run
            } else {
                text[i..].chars().next().map_or(1, char::len_utf8)
            };
            out.push_str(&text[i..i + len]);
            i += len;
        }
    }
    out
}

/// Shows each DSSE envelope's base64 payload on stdout decoded, `"payload":[DECODED …]`: the
/// statement names the registry's host and port, which must be filtered like the rest.
fn decode_payloads(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(r#""payload":""#) {
        let start = at + r#""payload":""#.len();
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        let encoded = &rest[start..start + len];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_else(|e| panic!("a DSSE payload that is not base64 ({e}): {encoded}"));
        out.push_str(&rest[..at]);
        out.push_str(&format!(
            r#""payload":[DECODED {}]"#,
            String::from_utf8_lossy(&decoded)
        ));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Asserts the snapshot `name` of `out`, with what varies filtered out.
fn assert_output(name: &str, s: &Scratch, registry: Option<&str>, out: &Output) {
    let mut text = decode_payloads(&render(out));
    let scratch = s.dir.path().display().to_string();
    text = text.replace(&scratch, "[SCRATCH]");
    if let Some(host) = registry {
        text = text.replace(host, "[REGISTRY]");
    }
    let text = number_hashes(&text);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (pattern, replacement) in [
        (r"/tmp/[^\s/:]+", "[TEMP]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r#""sig":\s*"[A-Za-z0-9+/=]+""#, r#""sig":"[SIGNATURE]""#),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[TIME]",
        ),
        (r"(integrated[ _]?time\D{0,4})\d+", "${1}[TIME]"),
        (r"(log ?index\D{0,4})\d+", "${1}[INDEX]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A predicate whose statement is the same every run.
const PROVENANCE: &str = r#"{"builder":{"id":"https://github.com/acme/builder@v1"},"buildType":"https://example.com/build/v1"}"#;

#[test]
fn verify_by_key_verified_denied_and_without_authority() {
    let t = Setup::with_keys(&["k", "other"]);
    let host = t.registry.host();
    let (signed, _) = t.image("app", "v1");
    let (unsigned, _) = t.image("app", "unsigned");
    t.sign(&t.key("k"), &signed);
    let verify = |public: &str, image: &str, output: &str| {
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--output", output])
            .arg("--key")
            .arg(t.public(public))
            .arg(image)
            .output()
    };
    assert_output(
        "verify_key_verified_json",
        &t.s,
        Some(&host),
        &verify("k", &signed, "json"),
    );
    assert_output(
        "verify_key_verified_text",
        &t.s,
        Some(&host),
        &verify("k", &signed, "text"),
    );
    assert_output(
        "verify_key_another_key",
        &t.s,
        Some(&host),
        &verify("other", &signed, "json"),
    );
    assert_output(
        "verify_key_unsigned",
        &t.s,
        Some(&host),
        &verify("k", &unsigned, "json"),
    );
    let out = t.s.signet().args(["verify", &signed]).output();
    assert_output("verify_without_authority", &t.s, Some(&host), &out);
}

#[test]
fn verify_attestation_by_key_and_tree() {
    let t = Setup::with_keys(&["k"]);
    let host = t.registry.host();
    let (image, _) = t.image("app", "v1");
    t.sign(&t.key("k"), &image);
    let predicate = t.s.write("provenance.json", PROVENANCE.as_bytes());
    t.s.signet()
        .args(["attest", "--tlog-upload=false", "--type", "slsaprovenance"])
        .arg("--key")
        .arg(t.key("k"))
        .arg("--predicate")
        .arg(&predicate)
        .arg(&image)
        .assert_success();
    let sbom = t.s.write(
        "sbom.spdx.json",
        br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#,
    );
    t.s.signet()
        .args(["attach", "sbom", "--type", "spdx", "--sbom"])
        .arg(&sbom)
        .arg(&image)
        .assert_success();

    let verify = |predicate_type: &str| {
        t.s.signet()
            .args(["verify-attestation", "--insecure-ignore-tlog=true"])
            .args(["--type", predicate_type, "--key"])
            .arg(t.public("k"))
            .arg(&image)
            .output()
    };
    assert_output(
        "verify_attestation_verified",
        &t.s,
        Some(&host),
        &verify("slsaprovenance"),
    );
    assert_output(
        "verify_attestation_another_type",
        &t.s,
        Some(&host),
        &verify("spdxjson"),
    );
    let out = t.s.signet().args(["verify-attestation", &image]).output();
    assert_output(
        "verify_attestation_without_authority",
        &t.s,
        Some(&host),
        &out,
    );
    let out = t.s.signet().args(["tree", &image]).output();
    assert_output("tree", &t.s, Some(&host), &out);
    let (bare, _) = t.image("bare", "v1");
    let out = t.s.signet().args(["tree", &bare]).output();
    assert_output("tree_nothing_attached", &t.s, Some(&host), &out);
}

#[test]
fn policy_explain_allowed_and_denied() {
    let t = Setup::with_keys(&["release", "security", "builder"]);
    let host = t.registry.host();
    let (both, _) = t.image("prod/app", "v1");
    let (one, _) = t.image("prod/app", "v2");
    t.sign(&t.key("release"), &both);
    t.sign(&t.key("security"), &both);
    t.sign(&t.key("release"), &one);
    let predicate = t.s.write("provenance.json", PROVENANCE.as_bytes());
    t.s.signet()
        .args(["attest", "--tlog-upload=false", "--type", "slsaprovenance"])
        .arg("--key")
        .arg(t.key("builder"))
        .arg("--predicate")
        .arg(&predicate)
        .arg(&both)
        .assert_success();
    let policy = t.s.write(
        "policy.yaml",
        format!(
            r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  release: {{ key: {{ path: release.pub }}, transparencyLog: ignore }}
  security: {{ key: {{ path: security.pub }}, transparencyLog: ignore }}
  builder: {{ key: {{ path: builder.pub }}, transparencyLog: ignore }}
policies:
  - name: production
    images: ["{host}/prod/**"]
    signatures:
      authorities: [release, security]
      threshold: 2
      required: [security]
    attestations:
      - predicateType: slsaprovenance
        authorities: [builder]
        slsa: {{ builderId: {{ prefix: "https://github.com/acme/" }} }}
  - name: staging
    images: ["{host}/staging/**"]
    signatures:
      authorities: [release]
"#
        )
        .as_bytes(),
    );
    for (name, image) in [
        ("policy_explain_allowed", &both),
        ("policy_explain_denied", &one),
    ] {
        let out =
            t.s.signet()
                .args(["policy", "explain"])
                .arg(&policy)
                .arg(image)
                .output();
        assert_output(name, &t.s, Some(&host), &out);
    }
}

#[test]
fn keyless_verify_denied_by_a_cosign_style_regex() {
    let mock = SigstoreMock::start();
    let t = Setup::new();
    let host = t.registry.host();
    let (image, _) = t.image("keyless", "v1");
    let identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
    let root = mock.out("trusted_root.json");
    t.s.signet()
        .args(["sign", "--identity-token", &token_for(identity)])
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    let verify = |identity_regexp: &str| {
        t.s.signet()
            .args(["verify", "--certificate-identity-regexp", identity_regexp])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .arg(&image)
            .output()
    };
    assert_output(
        "keyless_verify_substring_regex",
        &t.s,
        Some(&host),
        &verify("github.com/acme/"),
    );
    assert_output(
        "keyless_verify_verified",
        &t.s,
        Some(&host),
        &verify(".*acme.*"),
    );
}

#[test]
fn hashes_are_numbered_in_order_of_appearance() {
    let a = "a".repeat(64);
    let b = "0".repeat(63) + "1";
    let text = format!("sha256:{a} then {b}.sig and sha256-{a}; x{b} é");
    assert_eq!(
        number_hashes(&text),
        format!("sha256:[HASH-1] then [HASH-2].sig and sha256-[HASH-1]; x{b} é")
    );
}
