//! signet's own release (issue 13): the image `scripts/build-image.sh` assembles, and the
//! deploy-time policy `deploy/policy.yaml` that every release must pass.
//!
//! - The image is reproducible (two builds, one digest) and runs from a read-only root
//!   filesystem as UID/GID 65532: `signet version` and a real verification, inside `chroot`.
//!   Needs root (CI runs as root) for `unshare --mount` and `chroot`. The image is built here
//!   from the test binary (a debug build): this proves the packaging is reproducible; whether
//!   two release builds of the same commit give the same binary is a separate claim
//!   (docs/release.md).
//! - The policy allows a release with all its evidence, and denies it, naming the requirement
//!   and the reason, when any one piece is missing or altered. The evidence is the real
//!   release's: the SLSA provenance, CycloneDX SBOM and cargo-audit report that
//!   `scripts/release.sh --local` wrote (`tests/data/release/`, see its README), signed and
//!   attested with a key as the release script does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::util::{Registry, make_sample_image};

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// `scripts/build-image.sh --binary BINARY --out OUT` with SOURCE_DATE_EPOCH and a umask;
/// returns the digest it reports.
fn build_image(binary: &Path, out: &Path, epoch: &str, umask: &str) -> String {
    let script = repo_path("scripts/build-image.sh");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask {umask} && exec \"$0\" --binary \"$1\" --out \"$2\""
        ))
        .arg(&script)
        .arg(binary)
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch));
    let info: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("build-image.sh printed no JSON ({e}): {}", stdout(&out)));
    info["digest"].as_str().unwrap_or_default().to_owned()
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn require_root(what: &str) {
    let out = run(Command::new("id").arg("-u"));
    assert_eq!(
        stdout(&out).trim(),
        "0",
        "{what} needs root (unshare --mount, chroot): run the tests as root, as CI does"
    );
}

#[test]
fn release_image_is_reproducible_and_runs_read_only_as_nonroot() {
    require_root("the release image test");
    let s = Scratch::new();
    // The same binary under another path and mtime, and another umask: none of it may show.
    let binary = Path::new(env!("CARGO_BIN_EXE_signet"));
    let copy = s.path("signet");
    std::fs::copy(binary, &copy).unwrap_or_else(|e| panic!("copying the binary: {e}"));
    let epoch = "1767225600"; // 2026-01-01T00:00:00Z
    let first = build_image(binary, &s.path("image-1"), epoch, "022");
    let second = build_image(&copy, &s.path("image-2"), epoch, "077");
    assert!(first.starts_with("sha256:"), "no digest: {first:?}");
    assert_eq!(
        first, second,
        "two builds of one binary gave two image digests"
    );
    assert_eq!(
        std::fs::read(s.path("image-1/index.json")).ok(),
        std::fs::read(s.path("image-2/index.json")).ok()
    );

    // The config: nonroot, the entrypoint, the OCI labels, no secrets in the environment.
    let layout = s.path("image-1");
    let manifest = read_json(&blob(&layout, &first));
    let config = read_json(&blob(
        &layout,
        manifest["config"]["digest"].as_str().unwrap_or_default(),
    ));
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        config["config"]["Entrypoint"],
        json!(["/usr/local/bin/signet"])
    );
    assert_eq!(config["created"], "2026-01-01T00:00:00Z");
    let labels = &config["config"]["Labels"];
    for label in ["source", "revision", "version", "licenses"] {
        let key = format!("org.opencontainers.image.{label}");
        assert!(
            labels[&key].as_str().is_some_and(|v| !v.is_empty()),
            "label {key} missing: {labels}"
        );
    }
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    let env = config["config"]["Env"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        env.iter()
            .filter_map(Value::as_str)
            .all(|e| e.starts_with("PATH=") || e.starts_with("SSL_CERT_FILE=")),
        "unexpected environment {env:?}"
    );

    // The root filesystem, unpacked as a runtime would (owners kept): no shell, no package
    // manager, the nonroot user.
    let rootfs = s.path("rootfs");
    std::fs::create_dir(&rootfs).unwrap_or_else(|e| panic!("{e}"));
    let layer = blob(
        &layout,
        manifest["layers"][0]["digest"].as_str().unwrap_or_default(),
    );
    run(Command::new("tar")
        .arg("--same-owner")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(&rootfs));
    for absent in [
        "bin/sh",
        "usr/bin/sh",
        "bin/bash",
        "usr/bin/apt-get",
        "usr/bin/dpkg",
    ] {
        assert!(!rootfs.join(absent).exists(), "the image has /{absent}");
    }
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
    assert!(rootfs.join("etc/ssl/certs/ca-certificates.crt").is_file());
    assert!(rootfs.join("var/lib/dpkg/status.d/libc6").is_file());

    // A signed image to verify from inside, with the public key placed in the root filesystem
    // before it is mounted read-only (as a config volume would be).
    let registry = Registry::start();
    let digest = make_sample_image(&registry.host(), "app", "v1", sha256);
    let image = format!("{}/app@{digest}", registry.host());
    let (key, public) = s.key_pair("release");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();
    std::fs::create_dir_all(rootfs.join("etc/signet")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(&public, rootfs.join("etc/signet/release.pub")).unwrap_or_else(|e| panic!("{e}"));

    let in_image = |args: &[&str]| -> Output {
        Command::new("unshare")
            .args(["--mount", "sh", "-c"])
            .arg(
                "mount --bind -o ro \"$0\" \"$0\" && \
                 exec chroot --userspec=65532:65532 \"$0\" /usr/local/bin/signet \"$@\"",
            )
            .arg(&rootfs)
            .args(args)
            .env_clear()
            .env("HOME", "/home/nonroot")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("unshare: {e}"))
    };
    let out = in_image(&["version", "--json"]);
    assert!(
        out.status.success(),
        "signet version in the image: {}",
        stderr(&out)
    );
    let version: Value = serde_json::from_str(stdout(&out).trim()).unwrap_or(Value::Null);
    assert_eq!(
        version["version"],
        env!("CARGO_PKG_VERSION"),
        "{}",
        stdout(&out)
    );

    let out = in_image(&[
        "verify",
        "--insecure-ignore-tlog=true",
        "--key",
        "/etc/signet/release.pub",
        &image,
    ]);
    assert!(
        out.status.success(),
        "verification inside the image failed: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains(&digest), "{}", stdout(&out));
    // Read-only is real: the same mount refuses a write.
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c"])
        .arg("mount --bind -o ro \"$0\" \"$0\" && touch \"$0/tmp/x\"")
        .arg(&rootfs)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !out.status.success(),
        "the read-only root filesystem took a write"
    );
}

// ---------------------------------------------------------------------------------------------
// deploy/policy.yaml
// ---------------------------------------------------------------------------------------------

fn release_fixture(name: &str) -> Value {
    read_json(&repo_path(&format!("tests/data/release/{name}")))
}

/// A registry, the release key and a stranger's, and deploy/policy.yaml with the release key
/// beside it.
struct Release {
    registry: Registry,
    s: Scratch,
}

/// What one release carries: who signed, and each attestation (signer, predicate), or `None`.
struct Evidence {
    signature: Option<&'static str>,
    provenance: Option<(&'static str, Value)>,
    sbom: Option<(&'static str, Value)>,
    vulnerabilities: Option<(&'static str, Value)>,
}

impl Evidence {
    fn complete() -> Self {
        Self {
            signature: Some("release"),
            provenance: Some(("release", release_fixture("provenance.json"))),
            sbom: Some(("release", release_fixture("sbom.cdx.json"))),
            vulnerabilities: Some(("release", release_fixture("vulnerabilities.json"))),
        }
    }
}

impl Release {
    fn new() -> Self {
        let s = Scratch::new();
        s.key_pair("release");
        s.key_pair("stranger");
        let policy = std::fs::read(repo_path("deploy/policy.yaml"))
            .unwrap_or_else(|e| panic!("deploy/policy.yaml: {e}"));
        s.write("policy.yaml", &policy);
        Self {
            registry: Registry::start(),
            s,
        }
    }

    /// As scripts/release.sh signs the image with the release key: no log entry (the policy's
    /// key authority takes the key as the trust root).
    fn key_args(key: &str) -> [String; 4] {
        [
            "--key".into(),
            format!("{key}.key"),
            "--tlog-upload=false".into(),
            "--yes".into(),
        ]
    }

    /// A fresh image named `<case>/signet`, carrying `evidence`.
    fn publish(&self, case: &str, evidence: Evidence) -> String {
        let repo = format!("{case}/signet");
        let digest = make_sample_image(&self.registry.host(), &repo, "v1", sha256);
        let image = format!("{}/{repo}@{digest}", self.registry.host());
        if let Some(signer) = evidence.signature {
            self.s
                .signet()
                .arg("sign")
                .args(Self::key_args(signer))
                .arg(&image)
                .assert_success();
        }
        for (kind, attestation) in [
            ("slsaprovenance1", evidence.provenance),
            ("cyclonedx", evidence.sbom),
            ("vuln", evidence.vulnerabilities),
        ] {
            let Some((signer, predicate)) = attestation else {
                continue;
            };
            let file = self.s.write(
                &format!("{case}-{kind}.json"),
                predicate.to_string().as_bytes(),
            );
            self.s
                .signet()
                .args(["attest", "--type", kind, "--predicate"])
                .arg(&file)
                .args(Self::key_args(signer))
                .arg(&image)
                .assert_success();
        }
        image
    }

    /// `signet verify --policy policy.yaml` (the release key as release.pub beside it): the
    /// exit code and the report.
    fn verify(&self, image: &str) -> (i32, Value) {
        let out = self
            .s
            .signet()
            .args(["verify", "--policy", "policy.yaml"])
            .arg(image)
            .output();
        let report = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {}\n{}", stdout(&out), stderr(&out)));
        (out.status.code().unwrap_or(-1), report)
    }

    /// The image is denied, by exactly the requirement starting with `requirement`, for a
    /// reason containing `reason`; every other requirement passed.
    fn assert_denied(&self, image: &str, requirement: &str, reason: &str) {
        let (code, report) = self.verify(image);
        let verdict = &report["images"][0];
        assert_eq!(code, 1, "{image} was not denied: {report:#}");
        assert_eq!(verdict["decision"], "deny", "{report:#}");
        let requirements = verdict["matchedPolicies"][0]["requirements"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(requirements.len(), 4, "{report:#}");
        let failed: Vec<&Value> = requirements
            .iter()
            .filter(|r| r["passed"] != true)
            .collect();
        assert_eq!(
            failed.len(),
            1,
            "not exactly one failed requirement: {report:#}"
        );
        let label = failed[0]["requirement"].as_str().unwrap_or_default();
        let why = failed[0]["reason"].as_str().unwrap_or_default();
        assert!(
            label.starts_with(requirement),
            "denied by {label:?}, expected {requirement:?}: {why}"
        );
        assert!(
            why.contains(reason),
            "{label}: the reason is {why:?}, expected {reason:?}"
        );
    }
}

#[test]
fn deploy_policy_allows_a_complete_release_and_names_each_missing_piece() {
    let r = Release::new();
    let image = r.publish("complete", Evidence::complete());
    let (code, report) = r.verify(&image);
    assert_eq!(code, 0, "the complete release was not allowed: {report:#}");
    assert_eq!(report["images"][0]["decision"], "allow", "{report:#}");
    assert_eq!(
        report["images"][0]["matchedPolicies"][0]["name"],
        "signet-release"
    );

    let image = r.publish(
        "unsigned",
        Evidence {
            signature: None,
            ..Evidence::complete()
        },
    );
    r.assert_denied(&image, "signatures", "release: no signatures found");

    let image = r.publish(
        "no-provenance",
        Evidence {
            provenance: None,
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation provenance",
        "release: no https://slsa.dev/provenance/v1 attestation verifies with this key",
    );

    let image = r.publish(
        "no-sbom",
        Evidence {
            sbom: None,
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation sbom",
        "release: no https://cyclonedx.org/bom attestation verifies with this key",
    );

    let image = r.publish(
        "no-vulnerability-report",
        Evidence {
            vulnerabilities: None,
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation vulnerabilities",
        "release: no https://cosign.sigstore.dev/attestation/vuln/v1 attestation verifies with this key",
    );
}

#[test]
fn deploy_policy_denies_altered_evidence_for_the_right_reason() {
    let r = Release::new();

    let image = r.publish(
        "stranger-signature",
        Evidence {
            signature: Some("stranger"),
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "signatures",
        "release: none of the 1 signature(s) verifies with this key",
    );

    let mut provenance = release_fixture("provenance.json");
    provenance["runDetails"]["builder"]["id"] = json!("https://ci.example.net/someone-else");
    let image = r.publish(
        "other-builder",
        Evidence {
            provenance: Some(("release", provenance)),
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation provenance",
        "builder id is \"https://ci.example.net/someone-else\"",
    );

    let mut provenance = release_fixture("provenance.json");
    let fork = json!("git+https://example.invalid/fork@refs/heads/main");
    provenance["buildDefinition"]["externalParameters"]["source"]["uri"] = fork.clone();
    provenance["buildDefinition"]["resolvedDependencies"][0]["uri"] = fork;
    let image = r.publish(
        "other-repository",
        Evidence {
            provenance: Some(("release", provenance)),
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation provenance",
        "source repository is \"example.invalid/fork\"",
    );

    let image = r.publish(
        "provenance-by-stranger",
        Evidence {
            provenance: Some(("stranger", release_fixture("provenance.json"))),
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation provenance",
        "release: no https://slsa.dev/provenance/v1 attestation verifies with this key",
    );

    let mut sbom = release_fixture("sbom.cdx.json");
    if let Some(components) = sbom["components"].as_array_mut() {
        components.push(json!({
            "type": "library", "name": "copyleft-network-lib", "version": "1.0.0",
            "purl": "pkg:cargo/copyleft-network-lib@1.0.0",
            "licenses": [{"expression": "AGPL-3.0-only"}]
        }));
    }
    let image = r.publish(
        "denied-licence",
        Evidence {
            sbom: Some(("release", sbom)),
            ..Evidence::complete()
        },
    );
    r.assert_denied(&image, "attestation sbom", "AGPL-3.0-only");

    // A real cargo-audit finding (RUSTSEC-2021-0003, smallvec, CVSS 9.8) in the report.
    let found = read_json(&repo_path(
        "crates/signet-policy/tests/data/conditions/cargo-audit/vulnerable.json",
    ));
    let smallvec = found["vulnerabilities"]["list"]
        .as_array()
        .and_then(|list| list.iter().find(|v| v["package"]["name"] == "smallvec"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut report = release_fixture("vulnerabilities.json");
    let result = &mut report["scanner"]["result"]["vulnerabilities"];
    result["found"] = json!(true);
    result["count"] = json!(1);
    result["list"] = json!([smallvec]);
    let image = r.publish(
        "critical-vulnerability",
        Evidence {
            vulnerabilities: Some(("release", report)),
            ..Evidence::complete()
        },
    );
    r.assert_denied(
        &image,
        "attestation vulnerabilities",
        "\"RUSTSEC-2021-0003\" (critical) in \"smallvec\"",
    );
}
