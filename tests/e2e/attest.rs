//! Attestations: Cosign's vectors through the CLI, a real registry, and securesystemslib (the
//! in-toto reference DSSE implementation) in both directions.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Scratch, cosign_testdata, read, sha256, stderr, stdout};
use crate::util::{Setup, fetch_manifest, push_blob, push_manifest};

const BLOB_DIR: &str = "extracted/cmd/cosign/cli/verify/verify_blob_attestation_test";

fn vector(name: &str) -> PathBuf {
    cosign_testdata(&format!("{BLOB_DIR}/{name}"))
}

#[test]
fn cosign_blob_attestation_vectors_give_cosigns_outcomes() {
    let s = Scratch::new();
    let cases = [
        (
            "blobSLSAProvenanceSignature.dsse.json",
            "slsaprovenance",
            "blob-some-payload.txt",
            0,
        ),
        (
            "blobSLSAProvenanceSignature.dsse.json",
            "custom",
            "blob-some-payload.txt",
            1,
        ),
        (
            "blobSLSAProvenanceSignature.dsse.json",
            "slsaprovenance",
            "blob-another-blob.txt",
            1,
        ),
        (
            "dssePredicateEmptySubject.dsse.json",
            "slsaprovenance",
            "blob-some-payload.txt",
            1,
        ),
        (
            "dssePredicateMissingSha256.dsse.json",
            "slsaprovenance",
            "blob-some-payload.txt",
            1,
        ),
        (
            "dssePredicateMultipleSubjects.dsse.json",
            "slsaprovenance",
            "blob-some-payload.txt",
            0,
        ),
        (
            "dssePredicateMultipleSubjects.dsse.json",
            "spdx",
            "blob-some-payload.txt",
            1,
        ),
        (
            "dssePredicateMultipleSubjectsInvalid.dsse.json",
            "slsaprovenance",
            "blob-some-payload.txt",
            1,
        ),
    ];
    for (envelope, predicate_type, blob, code) in cases {
        let out = s
            .signet()
            .args([
                "verify-blob-attestation",
                "--insecure-ignore-tlog=true",
                "--type",
                predicate_type,
                "--key",
            ])
            .arg(vector("pubkey.pem"))
            .arg("--signature")
            .arg(vector(envelope))
            .arg(vector(blob))
            .assert_exit(code);
        if code == 1 {
            assert!(
                stderr(&out).contains(envelope),
                "{envelope}: {}",
                stderr(&out)
            );
        }
    }
    // --digest instead of the file.
    s.signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "slsaprovenance",
            "--key",
        ])
        .arg(vector("pubkey.pem"))
        .arg("--signature")
        .arg(vector("blobSLSAProvenanceSignature.dsse.json"))
        .args([
            "--digest",
            "658781cd4ed9bca60dacd09f7bb914bb51502e8b5d619f57f39a1d652596cc24",
            "--digestAlg",
            "sha256",
        ])
        .assert_success();
}

/// `attest --tlog-upload=false --key k.key --type TYPE --predicate FILE [EXTRA] IMAGE`.
fn attest(
    t: &Setup,
    image: &str,
    predicate_type: &str,
    predicate: &Path,
    extra: &[&str],
) -> std::process::Output {
    t.s.signet()
        .args(["attest", "--tlog-upload=false", "--key"])
        .arg(t.key("k"))
        .args(["--type", predicate_type, "--predicate"])
        .arg(predicate)
        .args(extra)
        .arg(image)
        .output()
}

/// `verify-attestation --insecure-ignore-tlog=true --type TYPE --key k.pub IMAGE`, which must
/// exit `code`.
fn verify_attestation(
    t: &Setup,
    image: &str,
    predicate_type: &str,
    code: i32,
) -> std::process::Output {
    t.s.signet()
        .args([
            "verify-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            predicate_type,
            "--key",
        ])
        .arg(t.public("k"))
        .arg(image)
        .assert_exit(code)
}

/// The layers of the image's `sha256-<hex>.att` manifest (none when it does not exist).
fn att_layers(t: &Setup, repo: &str, digest: &str) -> Vec<Value> {
    let tag = format!("{}.att", digest.replace(':', "-"));
    let response = fetch_manifest(&t.registry.host(), repo, &tag);
    if response.status == 404 {
        return Vec::new();
    }
    assert_eq!(response.status, 200, "{}", response.text());
    let manifest: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("attestation manifest JSON: {e}"));
    manifest["layers"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("the attestation manifest has no layers: {manifest}"))
}

fn provenance(s: &Scratch) -> PathBuf {
    s.write(
        "provenance.json",
        json!({
            "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0"},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": {"configSource": {"uri": "git+https://github.com/example/app@refs/heads/main"}},
        })
        .to_string()
        .as_bytes(),
    )
}

#[test]
fn provenance_and_sboms_on_one_image_each_verify_by_type() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let spdx = cosign_testdata("test/testdata/bom-go-mod.spdx.json");
    let cyclonedx = cosign_testdata("test/testdata/bom-go-mod.cyclonedx.json");
    let spdx_text = cosign_testdata("test/testdata/bom-go-mod.spdx");
    for (predicate_type, predicate) in [
        ("slsaprovenance", provenance(&t.s)),
        ("spdxjson", spdx),
        ("cyclonedx", cyclonedx),
        ("spdx", spdx_text),
    ] {
        let out = attest(&t, &image, predicate_type, &predicate, &[]);
        assert!(out.status.success(), "{predicate_type}: {}", stderr(&out));
    }
    let layers = att_layers(&t, "app", &digest);
    assert_eq!(layers.len(), 4, "earlier attestations survive appends");
    for layer in &layers {
        assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
        assert_eq!(
            layer["annotations"]["dev.cosignproject.cosign/signature"],
            ""
        );
        assert!(layer["annotations"]["predicateType"].is_string());
    }
    let out = verify_attestation(&t, &image, "slsaprovenance", 0);
    let envelope: Value =
        serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let out = verify_attestation(&t, &image, "spdx", 0);
    assert_eq!(
        stdout(&out).lines().count(),
        2,
        "SPDX JSON and SPDX tag-value both qualify"
    );
    verify_attestation(&t, &image, "cyclonedx", 0);
    let out = verify_attestation(&t, &image, "vuln", 1);
    assert!(
        stderr(&out).contains("not \"https://cosign.sigstore.dev/attestation/vuln/v1\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn replace_drops_only_the_same_predicate_type() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let result = t.s.write("result.json", br#"{"passed": true}"#);
    assert!(attest(&t, &image, "custom", &result, &[]).status.success());
    assert!(
        attest(&t, &image, "slsaprovenance", &provenance(&t.s), &[])
            .status
            .success()
    );
    assert!(attest(&t, &image, "custom", &result, &[]).status.success());
    assert_eq!(att_layers(&t, "app", &digest).len(), 3);
    assert!(
        attest(&t, &image, "custom", &result, &["--replace"])
            .status
            .success()
    );
    let layers = att_layers(&t, "app", &digest);
    let types: Vec<&str> = layers
        .iter()
        .filter_map(|l| l["annotations"]["predicateType"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "https://slsa.dev/provenance/v0.2",
            "https://cosign.sigstore.dev/attestation/v1"
        ]
    );
}

#[test]
fn an_attestation_manifest_copied_from_another_image_is_rejected() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let (_, other_digest) = t.image("app", "v2");
    assert!(
        attest(&t, &image, "slsaprovenance", &provenance(&t.s), &[])
            .status
            .success()
    );
    let tag = format!("{}.att", digest.replace(':', "-"));
    let manifest = fetch_manifest(&t.registry.host(), "app", &tag).body;
    let other_tag = format!("{}.att", other_digest.replace(':', "-"));
    push_manifest(
        &t.registry.host(),
        "app",
        &other_tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    let out = verify_attestation(
        &t,
        &format!("{}/app@{other_digest}", t.registry.host()),
        "slsaprovenance",
        1,
    );
    assert!(
        stderr(&out).contains("belongs to another image"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_predicates_and_types_push_nothing() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let text = t.s.write("not.json", b"SPDXVersion: SPDX-2.2\n");
    let out = attest(&t, &image, "spdxjson", &text, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("must be a JSON object"),
        "{}",
        stderr(&out)
    );
    let out = attest(&t, &image, "provenance", &text, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown predicate type \"provenance\""),
        "{}",
        stderr(&out)
    );
    let link = t.s.write("link.json", br#"{"name": "build"}"#);
    let out = attest(&t, &image, "link", &link, &[]);
    assert!(
        stderr(&out).contains("lacks the required field"),
        "{}",
        stderr(&out)
    );
    // Bigger than COSIGN_MAX_ATTACHMENT_SIZE: refused before anything is pushed.
    let big = t.s.write(
        "big.json",
        format!("{{\"data\":\"{}\"}}", "x".repeat(4096)).as_bytes(),
    );
    let out =
        t.s.signet()
            .env("COSIGN_MAX_ATTACHMENT_SIZE", "1024")
            .args([
                "attest",
                "--tlog-upload=false",
                "--type",
                "https://example.com/big/v1",
                "--key",
            ])
            .arg(t.key("k"))
            .arg("--predicate")
            .arg(&big)
            .arg(&image)
            .assert_exit(1);
    assert!(
        stderr(&out).contains("COSIGN_MAX_ATTACHMENT_SIZE"),
        "{}",
        stderr(&out)
    );
    assert!(
        att_layers(&t, "app", &digest).is_empty(),
        "nothing may be pushed"
    );
}

#[test]
fn oversized_and_excess_attestations_are_not_read() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let big = t.s.write(
        "big.json",
        format!("{{\"data\":\"{}\"}}", "x".repeat(8192)).as_bytes(),
    );
    assert!(
        attest(&t, &image, "https://example.com/big/v1", &big, &[])
            .status
            .success()
    );
    let out =
        t.s.signet()
            .env("COSIGN_MAX_ATTACHMENT_SIZE", "2048")
            .args([
                "verify-attestation",
                "--insecure-ignore-tlog=true",
                "--type",
                "https://example.com/big/v1",
                "--key",
            ])
            .arg(t.public("k"))
            .arg(&image)
            .assert_exit(1);
    assert!(
        stderr(&out).contains("over the limit of 2048 bytes"),
        "{}",
        stderr(&out)
    );

    // 150 layers: only the first 100 are considered (Cosign advisory GHSA-vfp6-jrw2-99g9).
    let junk = push_blob(&t.registry.host(), "app", b"{}", sha256);
    let config = push_blob(&t.registry.host(), "app", b"{}", sha256);
    let layer = json!({"mediaType": "application/vnd.dsse.envelope.v1+json", "size": 2, "digest": junk,
        "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": "https://example.com/big/v1"}});
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": config},
        "layers": vec![layer; 150]});
    let tag = format!("{}.att", digest.replace(':', "-"));
    push_manifest(
        &t.registry.host(),
        "app",
        &tag,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.to_string().as_bytes(),
    );
    let out = verify_attestation(&t, &image, "https://example.com/big/v1", 1);
    assert!(
        stderr(&out).contains("50 further attestation(s) were not considered"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("attestation 100 "),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("attestation 101 "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn attach_sbom_then_download_returns_the_same_bytes() {
    let t = Setup::with_keys(&["k"]);
    let (image, digest) = t.image("app", "v1");
    let sbom = cosign_testdata("test/testdata/bom-go-mod.cyclonedx.json");
    t.s.signet()
        .args(["attach", "sbom", "--type", "cyclonedx", "--sbom"])
        .arg(&sbom)
        .arg(&image)
        .assert_success();
    let out =
        t.s.signet()
            .args(["download", "sbom"])
            .arg(&image)
            .assert_success();
    assert_eq!(out.stdout, read(&sbom));
    let tag = format!("{}.sbom", digest.replace(':', "-"));
    let manifest: Value =
        serde_json::from_slice(&fetch_manifest(&t.registry.host(), "app", &tag).body)
            .unwrap_or_else(|e| panic!("SBOM manifest JSON: {e}"));
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.cyclonedx+json"
    );
    let out = t.s.signet().args(["tree"]).arg(&image).assert_success();
    assert!(
        stdout(&out).contains("SBOMs for an image tag"),
        "{}",
        stdout(&out)
    );
}

const PYTHON_MISSING: &str = "PyPI securesystemslib is missing: run `pip install 'securesystemslib[crypto]'` (or run ./scripts/test.sh, which installs every test peer)";

fn python(script: &str, args: &[&Path]) -> std::process::Output {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    if String::from_utf8_lossy(&out.stderr).contains("ModuleNotFoundError") {
        panic!("{PYTHON_MISSING}");
    }
    out
}

const SSLIB_VERIFY: &str = r#"
import json, sys
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
pem = open(sys.argv[1]).read()
# Cosign and signet write keyid "": the key is given that id, as a verifier configured with it.
key = SSlibKey("", "ecdsa", "ecdsa-sha2-nistp256", {"public": pem})
envelope = Envelope.from_dict(json.load(open(sys.argv[2])))
envelope.verify([key], 1)
statement = json.loads(envelope.payload)
print(statement["predicateType"], statement["subject"][0]["digest"]["sha256"])
"#;

const SSLIB_SIGN: &str = r#"
import hashlib, json, sys
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner
signer = CryptoSigner.generate_ecdsa()
digest = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
statement = {"_type": "https://in-toto.io/Statement/v1",
             "subject": [{"name": "artifact.bin", "digest": {"sha256": digest}}],
             "predicateType": "https://slsa.dev/provenance/v1",
             "predicate": {"buildDefinition": {"buildType": "https://example.com/build/v1"}}}
envelope = Envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", {})
envelope.sign(signer)
open(sys.argv[2], "w").write(json.dumps(envelope.to_dict()))
open(sys.argv[3], "w").write(signer.public_key.keyval["public"])
"#;

#[test]
fn securesystemslib_verifies_signets_envelopes() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("k");
    let artifact = s.write("artifact.bin", b"release artifact\n");
    let predicate = provenance(&s);
    s.signet()
        .args([
            "attest-blob",
            "--tlog-upload=false",
            "--type",
            "slsaprovenance",
            "--key",
        ])
        .arg(&key)
        .arg("--predicate")
        .arg(&predicate)
        .args(["--output-attestation", "artifact.intoto.json"])
        .arg(&artifact)
        .assert_success();
    let envelope = s.path("artifact.intoto.json");
    let out = python(SSLIB_VERIFY, &[&public, &envelope]);
    assert!(
        out.status.success(),
        "securesystemslib rejected signet's envelope: {}",
        stderr(&out)
    );
    assert_eq!(
        stdout(&out).trim(),
        format!(
            "https://slsa.dev/provenance/v0.2 {}",
            sha256(b"release artifact\n").trim_start_matches("sha256:")
        )
    );
    // signet verifies its own envelope too, and securesystemslib rejects it under another key.
    s.signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "slsaprovenance",
            "--key",
        ])
        .arg(&public)
        .arg("--signature")
        .arg(&envelope)
        .arg(&artifact)
        .assert_success();
    let (_, stranger) = s.key_pair("stranger");
    let out = python(SSLIB_VERIFY, &[&stranger, &envelope]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    // securesystemslib's own refusal: its VerificationError for a threshold not met.
    assert!(
        !out.status.success() && text.contains("VerificationError"),
        "securesystemslib must refuse a wrong key with its VerificationError: {text}"
    );
}

#[test]
fn signet_verifies_securesystemslib_envelopes() {
    let s = Scratch::new();
    let artifact = s.write("artifact.bin", b"built by someone else\n");
    let envelope = s.path("envelope.json");
    let public = s.path("sslib.pub");
    let out = python(SSLIB_SIGN, &[&artifact, &envelope, &public]);
    assert!(
        out.status.success(),
        "securesystemslib failed to sign: {}",
        stderr(&out)
    );
    s.signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "slsaprovenance1",
            "--key",
        ])
        .arg(&public)
        .arg("--signature")
        .arg(&envelope)
        .arg(&artifact)
        .assert_success();
    let other = s.write("other.bin", b"something else\n");
    let out = s
        .signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "slsaprovenance1",
            "--key",
        ])
        .arg(&public)
        .arg("--signature")
        .arg(&envelope)
        .arg(&other)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("belongs to another image or file"),
        "{}",
        stderr(&out)
    );
    // An envelope whose payloadType is not in-toto is refused with that reason.
    let mut wrong: Value =
        serde_json::from_slice(&read(&envelope)).unwrap_or_else(|e| panic!("envelope JSON: {e}"));
    wrong["payloadType"] = Value::from("text/plain");
    let wrong_path = s.write("wrong.json", wrong.to_string().as_bytes());
    let out = s
        .signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "slsaprovenance1",
            "--key",
        ])
        .arg(&public)
        .arg("--signature")
        .arg(&wrong_path)
        .arg(&artifact)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("payload type is \"text/plain\""),
        "{}",
        stderr(&out)
    );
}
