//! SLSA Verification Summary Attestations (issue 14, second half) on a real docker-registry:
//! `verify --policy --vsa-key` writes one summary per image; securesystemslib (the in-toto
//! reference DSSE implementation) verifies the envelope, signet's spec check accepts the
//! statement; attached by `--vsa-attach`, a gate policy's `vsa:` condition accepts the image
//! by it, and refuses a FAILED summary, one for another policy, and one signed (and attached
//! with `signet attest`) by a key that is not the verifier's. An image signed keylessly in
//! Cosign v3's bundle format gets its summary in the legacy format, and the gate admits it.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{sha256, stderr, stdout};
use crate::util::Setup;

const VERIFIER: &str = "https://signet.example/verifier/release";
const VSA: &str = "https://slsa.dev/verification_summary/v1";

const SSLIB_VERIFY: &str = r#"
import json, sys
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
pem = open(sys.argv[1]).read()
key = SSlibKey("", "ecdsa", "ecdsa-sha2-nistp256", {"public": pem})
for line in open(sys.argv[2]):
    envelope = Envelope.from_dict(json.loads(line))
    envelope.verify([key], 1)
    statement = json.loads(envelope.payload)
    print(statement["predicate"]["verificationResult"], statement["subject"][0]["digest"]["sha256"])
"#;

pub(crate) fn securesystemslib_verify(public: &Path, vsas: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(SSLIB_VERIFY)
        .arg(public)
        .arg(vsas)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "securesystemslib refused signet's VSAs (pip install 'securesystemslib[crypto]' if it is missing): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The statement of each line of a `.jsonl` of DSSE envelopes.
fn statements(jsonl: &[u8]) -> Vec<Vec<u8>> {
    String::from_utf8_lossy(jsonl)
        .lines()
        .map(|line| {
            signet_core::dsse::Envelope::parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{e}: {line}"))
                .payload
        })
        .collect()
}

#[test]
fn a_summary_written_at_release_admits_the_image_at_the_gate() {
    let t = Setup::with_keys(&["release", "verifier", "intruder"]);
    let host = t.registry.host();
    let release_policy = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  release: {{ key: {{ path: release.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: release\n    images: [\"{host}/**\"]\n    signatures: {{ authorities: [release] }}\n"
    );
    t.s.write("release.yaml", release_policy.as_bytes());
    let (good, good_digest) = t.image("app", "v1");
    t.sign(&t.key("release"), &good);
    let (bad, bad_digest) = t.image("unsigned", "v1");

    let out =
        t.s.signet()
            .args([
                "verify",
                "--policy",
                "release.yaml",
                "--vsa-key",
                "verifier.key",
            ])
            .args(["--vsa-out", "vsa.jsonl", "--vsa-verifier-id", VERIFIER])
            .args([
                "--vsa-level",
                "SLSA_BUILD_LEVEL_2",
                "--vsa-attach",
                &good,
                &bad,
            ])
            .output();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrote 2 verification summaries to vsa.jsonl")
            && stderr(&out).contains(&format!(
                "{good}: verification summary attached to {host}/app:{}.att",
                good_digest.replace(':', "-")
            )),
        "{}",
        stderr(&out)
    );

    // A verifier id that is not a URI would make a summary that breaks the specification:
    // nothing is written or attached.
    let out =
        t.s.signet()
            .args([
                "verify",
                "--policy",
                "release.yaml",
                "--vsa-key",
                "verifier.key",
            ])
            .args([
                "--vsa-out",
                "bad.jsonl",
                "--vsa-verifier-id",
                "release verifier",
                &good,
            ])
            .output();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would break the VSA specification: predicate.verifier.id: \"release verifier\" is not a URI")
            && !t.s.path("bad.jsonl").exists(),
        "{}",
        stderr(&out)
    );

    // The in-toto reference implementation verifies both envelopes with the verifier's key.
    let checked = securesystemslib_verify(&t.public("verifier"), &t.s.path("vsa.jsonl"));
    assert_eq!(
        checked,
        format!(
            "PASSED {}\nFAILED {}\n",
            good_digest.trim_start_matches("sha256:"),
            bad_digest.trim_start_matches("sha256:")
        )
    );
    // signet's own verify-vsa, as slsa-verifier's verify-vsa would be run on the file.
    let out =
        t.s.signet()
            .args(["verify-vsa", "--attestation-path", "vsa.jsonl"])
            .args(["--subject-digest", &good_digest, "--verifier-id", VERIFIER])
            .args([
                "--resource-uri",
                &format!("docker://{host}/app@{good_digest}"),
            ])
            .args([
                "--verified-levels",
                "SLSA_BUILD_LEVEL_1",
                "--public-key-path",
                "verifier.pub",
            ])
            .output();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The denied image's summary is FAILED: verify-vsa refuses it, line by line.
    let out =
        t.s.signet()
            .args(["verify-vsa", "--attestation-path", "vsa.jsonl"])
            .args(["--subject-digest", &bad_digest, "--verifier-id", VERIFIER])
            .args([
                "--resource-uri",
                &format!("docker://{host}/unsigned@{bad_digest}"),
            ])
            .args(["--public-key-path", "verifier.pub"])
            .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 1: [vsa-subject]")
            && stderr(&out).contains("line 2: [vsa-result] verificationResult is \"FAILED\""),
        "{}",
        stderr(&out)
    );
    let written = statements(&std::fs::read(t.s.path("vsa.jsonl")).unwrap_or_default());
    let policy_digest = sha256(release_policy.as_bytes());
    for statement in &written {
        signet_policy::vsa::check_spec(statement).unwrap_or_else(|v| panic!("{v:?}"));
    }
    let passed: Value = serde_json::from_slice(&written[0]).unwrap_or_default();
    assert_eq!(passed["predicate"]["verifier"]["id"], VERIFIER);
    assert_eq!(
        passed["predicate"]["resourceUri"],
        format!("docker://{host}/app@{good_digest}")
    );
    assert_eq!(
        passed["predicate"]["policy"]["digest"]["sha256"],
        policy_digest.trim_start_matches("sha256:")
    );
    assert_eq!(
        passed["predicate"]["verifiedLevels"],
        json!(["SLSA_BUILD_LEVEL_2"])
    );
    let failed: Value = serde_json::from_slice(&written[1]).unwrap_or_default();
    assert_eq!(failed["predicate"]["verifiedLevels"], json!(["FAILED"]));

    // Attach each summary's predicate as an attestation of its image, signed by `key`.
    let attach = |image: &str, statement: &Value, key: &str| {
        let file = t.s.write(
            &format!(
                "vsa-{}-{key}.json",
                image.len() + statement.to_string().len()
            ),
            statement["predicate"].to_string().as_bytes(),
        );
        t.s.signet()
            .args([
                "attest",
                "--tlog-upload=false",
                "--key",
                &format!("{key}.key"),
            ])
            .args(["--type", VSA, "--predicate"])
            .arg(&file)
            .arg(image)
            .assert_success();
    };
    let gate = |policy_digest: &str| {
        format!(
            "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  verifier: {{ key: {{ path: verifier.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: gate\n    images: [\"{host}/**\"]\n    attestations:\n      - name: release-summary\n        predicateType: {VSA}\n        authorities: [verifier]\n        vsa: {{ verifierId: \"{VERIFIER}\", policyDigest: \"{policy_digest}\", verifiedLevels: [SLSA_BUILD_LEVEL_1], maxAge: 1d }}\n"
        )
    };
    t.s.write("gate.yaml", gate(&policy_digest).as_bytes());
    t.s.write(
        "other-gate.yaml",
        gate(&sha256(b"another policy")).as_bytes(),
    );
    // --vsa-attach attached both summaries; the intruder's is attached by hand below.
    let gate_verdict = |policy: &str, image: &str| {
        let out =
            t.s.signet()
                .args(["verify", "--policy", policy, image])
                .output();
        let report: Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("no report ({e}): {}", stderr(&out)));
        let requirement = report["images"][0]["matchedPolicies"][0]["requirements"][0].clone();
        (
            out.status.code(),
            requirement["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let (code, reason) = gate_verdict("gate.yaml", &good);
    assert_eq!(code, Some(0), "{reason}");
    let (code, reason) = gate_verdict("gate.yaml", &bad);
    assert_eq!(code, Some(1));
    assert!(
        reason.contains("[vsa-result] the VSA's verificationResult is \"FAILED\""),
        "{reason}"
    );
    let (code, reason) = gate_verdict("other-gate.yaml", &good);
    assert_eq!(code, Some(1));
    assert!(reason.contains("[vsa-policy-digest]"), "{reason}");

    // A summary the intruder signed, saying PASSED, does not count.
    let (forged, _) = t.image("forged", "v1");
    attach(&forged, &passed, "intruder");
    let (code, reason) = gate_verdict("gate.yaml", &forged);
    assert_eq!(code, Some(1));
    assert_eq!(
        reason,
        format!("verifier: no {VSA} attestation verifies with this key")
    );
}

/// `verify-vsa` on slsa-verifier's own VSA, with slsa-verifier's CLI flags: the passing case
/// and one refusal per check, each naming its check.
#[test]
fn verify_vsa_gives_slsa_verifier_s_outcomes_on_its_test_data() {
    let t = Setup::new();
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/signet-policy/tests/data/vsa/slsa-verifier");
    let verifier = "https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1";
    let resource =
        "gce_image://gke-node-images:gke-12615-gke1418000-cos-101-17162-463-29-c-cgpv1-pre";
    let digest = "gce_image_id:8970095005306000053";
    let run = |digest: &str, verifier: &str, resource: &str, levels: &str| {
        let out =
            t.s.signet()
                .args(["verify-vsa", "--attestation-path"])
                .arg(data.join("gke-gce-pre.bcid-vsa.jsonl"))
                .args(["--subject-digest", digest, "--verifier-id", verifier])
                .args(["--resource-uri", resource, "--verified-levels", levels])
                .arg("--public-key-path")
                .arg(data.join("vsa_signing_public_key.pem"))
                .args([
                    "--public-key-id",
                    "keystore://76574:prod:vsa_signing_public_key",
                ])
                .arg("--print-attestation")
                .output();
        (out.status.code(), stdout(&out), stderr(&out))
    };
    let (code, printed, err) = run(digest, verifier, resource, "BCID_L1,SLSA_BUILD_LEVEL_2");
    assert_eq!(code, Some(0), "{err}");
    let statement: Value = serde_json::from_str(printed.trim()).unwrap_or_default();
    assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
    for (digest, verifier, resource, levels, want) in [
        (
            digest,
            verifier,
            resource,
            "SLSA_BUILD_LEVEL_3",
            "[vsa-levels]",
        ),
        ("my-giest:123", verifier, resource, "", "[vsa-subject]"),
        (
            digest,
            verifier,
            "my-uri://my/path",
            "",
            "[vsa-resource-uri]",
        ),
        (
            digest,
            "https://celestial-being.gn/gundam",
            resource,
            "",
            "[vsa-verifier-id]",
        ),
    ] {
        let (code, _, err) = run(digest, verifier, resource, levels);
        assert_eq!(code, Some(1), "{want}: {err}");
        assert!(err.contains(&format!("line 1: {want}")), "{want}: {err}");
    }
}

/// An image signed keylessly in Cosign v3's bundle format (a referrer, through the local
/// Fulcio/Rekor mock): `--vsa-attach` attaches its key-signed summary in Cosign's legacy
/// format and says so (signet writes referrer bundles only keylessly), and the gate, which
/// refused the image before, admits it on that summary.
/// Signs `image` keylessly in Cosign v3's bundle format (a referrer) with the mock's services.
fn sign_keyless_v3(t: &Setup, mock: &crate::keyless::SigstoreMock, image: &str) {
    t.s.signet()
        .args(["sign", "--new-bundle-format", "--identity-token"])
        .arg(crate::keyless::token())
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg(image)
        .assert_success();
}

#[test]
fn a_summary_of_an_image_signed_in_the_v3_format_admits_it_at_the_gate() {
    use crate::keyless::{IDENTITY, ISSUER, SigstoreMock};

    let mock = SigstoreMock::start();
    let t = Setup::with_keys(&["verifier"]);
    let host = t.registry.host();
    let root = mock.out("trusted_root.json");
    let (image, digest) = t.image("v3", "v1");
    sign_keyless_v3(&t, &mock, &image);

    let release_policy = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  ci:\n    keyless:\n      issuer: {{ exact: \"{ISSUER}\" }}\n      subject: {{ exact: \"{IDENTITY}\" }}\n      trustedRoot: {}\npolicies:\n  - name: release\n    images: [\"{host}/**\"]\n    signatures: {{ authorities: [ci] }}\n",
        root.display()
    );
    t.s.write("release.yaml", release_policy.as_bytes());
    t.s.write(
        "gate.yaml",
        format!(
            "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  verifier: {{ key: {{ path: verifier.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: gate\n    images: [\"{host}/**\"]\n    attestations:\n      - name: release-summary\n        predicateType: {VSA}\n        authorities: [verifier]\n        vsa: {{ verifierId: \"{VERIFIER}\", policyDigest: \"{}\", verifiedLevels: [SLSA_BUILD_LEVEL_1], maxAge: 1d }}\n",
            sha256(release_policy.as_bytes())
        )
        .as_bytes(),
    );
    let gate = || {
        t.s.signet()
            .args(["verify", "--policy", "gate.yaml", &image])
            .output()
    };
    let out = gate();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "verifier: no {VSA} attestation verifies with this key"
        )),
        "{}",
        stdout(&out)
    );

    let out =
        t.s.signet()
            .args(["verify", "--policy", "release.yaml"])
            .args(["--vsa-key", "verifier.key", "--vsa-out", "vsa.jsonl"])
            .args([
                "--vsa-verifier-id",
                VERIFIER,
                "--vsa-level",
                "SLSA_BUILD_LEVEL_2",
            ])
            .args(["--vsa-attach", &image])
            .output();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{image}: verification summary attached to {host}/v3:{}.att",
            digest.replace(':', "-")
        )) && err.contains(&format!(
            "note: the image carries Cosign v3 referrer bundles ({host}/v3:{} (referrers tag schema)); signet attaches key-signed summaries in Cosign's legacy format",
            digest.replace(':', "-")
        )),
        "{err}"
    );
    let written = statements(&std::fs::read(t.s.path("vsa.jsonl")).unwrap_or_default());
    let summary: Value = serde_json::from_slice(&written[0]).unwrap_or_default();
    assert_eq!(summary["predicate"]["verificationResult"], "PASSED");

    let out = gate();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `--vsa-keyless`: each summary is a Sigstore bundle (Fulcio certificate, Rekor entry,
/// timestamp from the mock's TSA), written one per line and attached in the format the
/// image's own signatures use: a Cosign v3 referrer for the image signed in the bundle format,
/// Cosign's legacy `.att` for the key-signed one. sigstore-js verifies the written bundle for
/// the image digest and the identity; `verify-vsa` reads it by certificate identity; a gate
/// whose verifier authority is that identity admits both images, and one naming another
/// identity refuses them, saying so.
#[test]
fn a_keyless_summary_is_a_bundle_attached_in_the_image_s_own_format() {
    use crate::keyless::{IDENTITY, ISSUER, SigstoreMock, assert_sigstore_js_accepts, token};

    let mock = SigstoreMock::start();
    let t = Setup::with_keys(&["release"]);
    let host = t.registry.host();
    let root = mock.out("trusted_root.json");
    let (legacy, legacy_digest) = t.image("legacy", "v1");
    t.sign(&t.key("release"), &legacy);
    let (v3, v3_digest) = t.image("v3", "v1");
    sign_keyless_v3(&t, &mock, &v3);
    let release_policy = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  release: {{ key: {{ path: release.pub }}, transparencyLog: ignore }}\n  ci:\n    keyless:\n      issuer: {{ exact: \"{ISSUER}\" }}\n      subject: {{ exact: \"{IDENTITY}\" }}\n      trustedRoot: {root}\npolicies:\n  - name: legacy\n    images: [\"{host}/legacy\"]\n    signatures: {{ authorities: [release] }}\n  - name: v3\n    images: [\"{host}/v3\"]\n    signatures: {{ authorities: [ci] }}\n",
        root = root.display()
    );
    t.s.write("release.yaml", release_policy.as_bytes());

    let release = |extra: &[&str]| {
        t.s.signet()
            .args(["verify", "--policy", "release.yaml", "--vsa-keyless"])
            .args(["--identity-token", &token(), "--signing-config"])
            .arg(mock.out("signing_config.json"))
            .arg("--trusted-root")
            .arg(&root)
            .args(["--vsa-out", "vsa.jsonl", "--vsa-verifier-id", VERIFIER])
            .args(["--vsa-level", "SLSA_BUILD_LEVEL_2"])
            .args(extra)
            .output()
    };
    // The keyless service flags sign summaries only: without --vsa-keyless they are a usage
    // error, not silently ignored.
    let out =
        t.s.signet()
            .args(["verify", "--policy", "release.yaml"])
            .args(["--identity-token", &token(), &legacy])
            .output();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("add --vsa-keyless"),
        "{}",
        stderr(&out)
    );

    let out = release(&["--vsa-attach", &legacy, &v3]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{legacy}: verification summary attached to {host}/legacy:{}.att",
            legacy_digest.replace(':', "-")
        )) && err.contains(&format!(
            "{v3}: verification summary attached to {host}/v3:{} (referrers tag schema)",
            v3_digest.replace(':', "-")
        )) && err.contains("wrote 2 verification summaries to vsa.jsonl"),
        "{err}"
    );

    // Each line is a bundle v0.3 whose DSSE statement is a VSA about its image.
    let written = std::fs::read_to_string(t.s.path("vsa.jsonl")).unwrap_or_default();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 2, "{written}");
    for (line, digest) in lines.iter().zip([&legacy_digest, &v3_digest]) {
        let bundle: Value = serde_json::from_str(line).unwrap_or_default();
        assert_eq!(
            bundle["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        let payload = bundle["dsseEnvelope"]["payload"]
            .as_str()
            .unwrap_or_default();
        let statement: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, payload)
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(statement["predicateType"], VSA);
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            digest.trim_start_matches("sha256:")
        );
        assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
        signet_policy::vsa::check_spec(statement.to_string().as_bytes())
            .unwrap_or_else(|v| panic!("{v:?}"));
    }

    // sigstore-js (a verifier nobody here wrote) accepts the v3 image's summary bundle for
    // the image digest and the certified identity.
    // (sigstore-js reads an RFC 3161 genTime only with 0 or 3 fraction digits: for the other
    // tokens of the mock's TSA the helper asserts it refuses for that reason alone.)
    let v3_bundle = t.s.write("v3-vsa.json", lines[1].as_bytes());
    assert_sigstore_js_accepts(
        &root,
        &v3_bundle,
        IDENTITY,
        ISSUER,
        Path::new(&v3_digest),
        "signet's keyless summary",
    );

    // verify-vsa by certificate identity; another identity is refused by the bundle check.
    let verify_vsa = |identity: &str| {
        t.s.signet()
            .args(["verify-vsa", "--attestation-path", "vsa.jsonl"])
            .args(["--subject-digest", &v3_digest, "--verifier-id", VERIFIER])
            .args(["--resource-uri", &format!("docker://{host}/v3@{v3_digest}")])
            .args(["--verified-levels", "SLSA_BUILD_LEVEL_2"])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(&root)
            .output()
    };
    let out = verify_vsa(IDENTITY);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = verify_vsa("someone-else@example.com");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("FAILED")
            && stderr(&out).contains("[identity]: in line 2: ")
            && stderr(&out).contains("someone-else@example.com"),
        "{}",
        stderr(&out)
    );

    // The gate trusts the verifier's identity; it admits both images by their summaries.
    let gate = |subject: &str| {
        format!(
            "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  verifier:\n    keyless:\n      issuer: {{ exact: \"{ISSUER}\" }}\n      subject: {{ exact: \"{subject}\" }}\n      trustedRoot: {}\npolicies:\n  - name: gate\n    images: [\"{host}/**\"]\n    attestations:\n      - name: release-summary\n        predicateType: {VSA}\n        authorities: [verifier]\n        vsa: {{ verifierId: \"{VERIFIER}\", policyDigest: \"{}\", verifiedLevels: [SLSA_BUILD_LEVEL_2], maxAge: 1d }}\n",
            root.display(),
            sha256(release_policy.as_bytes())
        )
    };
    t.s.write("gate.yaml", gate(IDENTITY).as_bytes());
    t.s.write(
        "other-gate.yaml",
        gate("someone-else@example.com").as_bytes(),
    );
    for image in [&legacy, &v3] {
        let out =
            t.s.signet()
                .args(["verify", "--policy", "gate.yaml", image])
                .output();
        assert_eq!(out.status.code(), Some(0), "{image}: {}", stdout(&out));
        let out =
            t.s.signet()
                .args(["verify", "--policy", "other-gate.yaml", image])
                .output();
        assert_eq!(out.status.code(), Some(1), "{image}: {}", stdout(&out));
        assert!(
            stdout(&out).contains(&format!("verifier: no {VSA} attestation")),
            "{image}: {}",
            stdout(&out)
        );
    }
}
