//! Concurrent signers: ten `signet sign` (and `signet attest`) processes appending to the same
//! image at once on docker-registry, which has no conditional writes, lose nothing (Cosign
//! loses signatures here: its issue #2432).

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{PASSWORD, Scratch, sha256};
use crate::util::{Registry, fetch_manifest, make_sample_image};

const SIGNERS: usize = 10;

fn run_all(s: &Scratch, commands: Vec<Vec<String>>) {
    let children: Vec<_> = commands
        .into_iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_signet"))
                .args(&args)
                .current_dir(s.dir.path())
                .env("COSIGN_PASSWORD", PASSWORD)
                .env("DOCKER_CONFIG", s.path("no-docker-config"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawning signet: {e}"))
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "a concurrent signer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn layers(registry: &Registry, repo: &str, tag: &str) -> Vec<Value> {
    let response = fetch_manifest(&registry.host(), repo, tag);
    assert_eq!(response.status, 200, "{}", response.text());
    let manifest: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("signature manifest JSON: {e}"));
    manifest["layers"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("the signature manifest has no layers: {manifest}"))
}

#[test]
fn ten_concurrent_signers_and_attesters_lose_nothing() {
    let registry = Registry::start();
    let s = Scratch::new();
    let digest = make_sample_image(&registry.host(), "app", "v1", sha256);
    let image = format!("{}/app@{digest}", registry.host());
    for i in 0..SIGNERS {
        s.key_pair(&format!("k{i}"));
    }
    s.write("result.json", br#"{"passed": true}"#);

    run_all(
        &s,
        (0..SIGNERS)
            .map(|i| {
                vec![
                    "sign".into(),
                    "--tlog-upload=false".into(),
                    "--key".into(),
                    format!("k{i}.key"),
                    image.clone(),
                ]
            })
            .collect(),
    );
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    assert_eq!(
        layers(&registry, "app", &sig_tag).len(),
        SIGNERS,
        "every concurrent signature survives"
    );
    for i in 0..SIGNERS {
        s.signet()
            .args([
                "verify",
                "--insecure-ignore-tlog=true",
                "--key",
                &format!("k{i}.pub"),
                &image,
            ])
            .assert_success();
    }

    run_all(
        &s,
        (0..SIGNERS)
            .map(|i| {
                vec![
                    "attest".into(),
                    "--tlog-upload=false".into(),
                    "--key".into(),
                    format!("k{i}.key"),
                    "--predicate".into(),
                    "result.json".into(),
                    image.clone(),
                ]
            })
            .collect(),
    );
    let att_tag = format!("{}.att", digest.replace(':', "-"));
    assert_eq!(
        layers(&registry, "app", &att_tag).len(),
        SIGNERS,
        "every concurrent attestation survives"
    );
}
