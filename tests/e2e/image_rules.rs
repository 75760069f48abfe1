//! Rules on the image itself (issue 14) on a real docker-registry: images built for the purpose
//! (root vs non-root, a secret in ENV, an unpinned base, a stale image, a missing platform, a
//! tag instead of a digest), each denied by exactly the rule it breaks and for the reason that
//! rule gives; and signet's own release image (scripts/build-image.sh) passing them all.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{sha256, stderr, stdout};
use crate::util::{Setup, push_image, push_index};

/// A secret that must never appear in signet's output.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_else(|e| panic!("{e}"));
    signet_core::intoto::rfc3339(now)
}

/// A configuration every rule of [`POLICY_RULES`] accepts, changed by `edit`.
fn config(edit: impl FnOnce(&mut Value)) -> Value {
    let mut config = json!({
        "architecture": "amd64",
        "os": "linux",
        "created": now_rfc3339(),
        "config": {
            "User": "65532:65532",
            "Env": ["PATH=/usr/local/bin:/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"],
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {"org.opencontainers.image.source": "https://example.invalid/acme/app"},
        },
    });
    edit(&mut config);
    config
}

/// The base annotations of an image built on a pinned distroless base.
fn pinned_base() -> Value {
    json!({
        "org.opencontainers.image.base.name": "gcr.io/distroless/static-debian12:nonroot",
        "org.opencontainers.image.base.digest": sha256(b"distroless static"),
    })
}

const POLICY_RULES: &str = r#"
    image:
      user: { minUid: 1000 }
      env: { allow: [GPG_KEY] }
      base: { allowed: ["gcr.io/distroless/**"], pinned: true }
      reference: digest
      created: { maxAge: 30d }
      platforms: [linux/amd64]
      labels: [org.opencontainers.image.source]
      exposedPorts: ["8080"]
      layers: { max: 2, maxSize: 1MiB }
"#;

struct Images {
    t: Setup,
}

impl Images {
    fn new() -> Self {
        let t = Setup::with_keys(&["a"]);
        let policy = format!(
            "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  a: {{ key: {{ path: a.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: runtime\n    images: [\"{}/**\"]\n    signatures: {{ authorities: [a] }}\n{POLICY_RULES}",
            t.registry.host()
        );
        t.s.write("policy.yaml", policy.as_bytes());
        Self { t }
    }

    /// Pushes, signs with key a, and returns `host/repo@digest`.
    fn push(&self, repo: &str, config: Value, annotations: Value) -> String {
        let (digest, _) = push_image(
            &self.t.registry.host(),
            repo,
            "v1",
            config,
            &["app"],
            annotations,
            sha256,
        );
        let image = format!("{}/{repo}@{digest}", self.t.registry.host());
        self.t.sign(&self.t.key("a"), &image);
        image
    }

    /// `verify --policy policy.yaml IMAGE`: (exit code, the image rules' results by rule,
    /// everything printed).
    fn verify(&self, image: &str) -> (i32, Vec<(String, bool, String)>, String) {
        let out = self
            .t
            .s
            .signet()
            .args(["verify", "--policy", "policy.yaml", image])
            .output();
        let printed = format!("{}{}", stdout(&out), stderr(&out));
        let report: Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {printed}"));
        let rules = report["images"][0]["matchedPolicies"][0]["requirements"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no requirements: {report}"))
            .into_iter()
            .filter_map(|r| {
                let name = r["requirement"]
                    .as_str()?
                    .strip_prefix("image ")?
                    .to_owned();
                Some((
                    name,
                    r["passed"].as_bool().unwrap_or(false),
                    r["reason"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .collect();
        let code = out
            .status
            .code()
            .unwrap_or_else(|| panic!("killed: {printed}"));
        (code, rules, printed)
    }

    /// Denied (exit 1) by exactly the rule starting with `rule`, with `reason`.
    fn assert_denied_by(&self, image: &str, rule: &str, reason: &str) -> String {
        let (code, rules, printed) = self.verify(image);
        assert_eq!(code, 1, "{image} was not denied: {printed}");
        let failed: Vec<&(String, bool, String)> = rules.iter().filter(|r| !r.1).collect();
        assert_eq!(
            failed.len(),
            1,
            "{image}: not exactly one rule failed: {failed:?}"
        );
        assert!(
            failed[0].0.starts_with(rule),
            "{image}: {failed:?} is not {rule}"
        );
        assert!(
            failed[0].2.contains(reason),
            "{image}: {rule} failed for {:?}, not {reason:?}",
            failed[0].2
        );
        printed
    }
}

#[test]
fn each_image_rule_denies_the_image_built_to_break_it_for_its_reason() {
    let f = Images::new();
    let good = f.push("good", config(|_| {}), pinned_base());
    let (code, rules, printed) = f.verify(&good);
    assert_eq!(code, 0, "the good image was denied: {printed}");
    assert_eq!(rules.len(), 9, "{rules:?}");
    assert!(rules.iter().all(|r| r.1), "{rules:?}");

    let root = f.push(
        "root",
        config(|c| c["config"]["User"] = json!("")),
        pinned_base(),
    );
    f.assert_denied_by(&root, "user", "the image sets no user, so it runs as root");
    let zero = f.push(
        "zero",
        config(|c| c["config"]["User"] = json!("0:0")),
        pinned_base(),
    );
    f.assert_denied_by(&zero, "user", "user is root (\"0:0\")");
    let low = f.push(
        "low-uid",
        config(|c| c["config"]["User"] = json!("100")),
        pinned_base(),
    );
    f.assert_denied_by(&low, "user", "UID 100 is outside 1000..4294967295");

    let secret = f.push(
        "secret",
        config(|c| {
            if let Some(env) = c["config"]["Env"].as_array_mut() {
                env.push(json!(format!("AWS_SECRET_ACCESS_KEY={SECRET}")));
            }
        }),
        pinned_base(),
    );
    let printed = f.assert_denied_by(
        &secret,
        "env",
        "ENV AWS_SECRET_ACCESS_KEY looks like a secret (its name contains SECRET)",
    );
    assert!(
        !printed.contains(SECRET),
        "the secret's value was printed: {printed}"
    );

    let unpinned = f.push(
        "unpinned",
        config(|_| {}),
        json!({"org.opencontainers.image.base.name": "gcr.io/distroless/static-debian12:nonroot"}),
    );
    f.assert_denied_by(&unpinned, "base", "is not pinned");
    let foreign = f.push(
        "foreign-base",
        config(|_| {}),
        json!({"org.opencontainers.image.base.name": format!("docker.io/library/ubuntu@{}", sha256(b"ubuntu"))}),
    );
    f.assert_denied_by(&foreign, "base", "which is not among the allowed bases");

    let stale = f.push(
        "stale",
        config(|c| c["created"] = json!("2020-01-01T00:00:00Z")),
        pinned_base(),
    );
    f.assert_denied_by(&stale, "created", "old, more than maxAge 30d");

    let unlabelled = f.push(
        "unlabelled",
        config(|c| c["config"]["Labels"] = json!(null)),
        pinned_base(),
    );
    f.assert_denied_by(
        &unlabelled,
        "labels",
        "label org.opencontainers.image.source is missing or empty",
    );
    let ssh = f.push(
        "ssh",
        config(|c| c["config"]["ExposedPorts"]["22/tcp"] = json!({})),
        pinned_base(),
    );
    f.assert_denied_by(
        &ssh,
        "exposedPorts",
        "exposes 22/tcp, which the policy does not allow",
    );

    // The good image by tag: the reference rule reads the reference as given.
    let by_tag = format!("{}/good:v1", f.t.registry.host());
    f.assert_denied_by(
        &by_tag,
        "reference",
        "referenced by tag \"v1\", not by digest",
    );
}

#[test]
fn platform_and_layer_rules_read_the_index_and_manifests() {
    let f = Images::new();
    let host = f.t.registry.host();
    // A multi-platform image whose index lacks linux/amd64, and one per-platform image that
    // runs as root: both rules fail, and the user rule names the platform.
    let (arm, arm_size) = push_image(
        &host,
        "multi",
        "arm64",
        config(|c| c["architecture"] = json!("arm64")),
        &["a"],
        pinned_base(),
        sha256,
    );
    let (s390x, s390x_size) = push_image(
        &host,
        "multi",
        "s390x",
        config(|c| {
            c["architecture"] = json!("s390x");
            c["config"]["User"] = json!("root");
        }),
        &["a"],
        pinned_base(),
        sha256,
    );
    let index = push_index(
        &host,
        "multi",
        "v1",
        &[
            (&arm, arm_size, "linux/arm64"),
            (&s390x, s390x_size, "linux/s390x"),
        ],
        sha256,
    );
    let image = format!("{host}/multi@{index}");
    f.t.sign(&f.t.key("a"), &image);
    let (code, rules, printed) = f.verify(&image);
    assert_eq!(code, 1, "{printed}");
    let failed: Vec<&(String, bool, String)> = rules.iter().filter(|r| !r.1).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].0.starts_with("user") && failed[0].2 == "linux/s390x: user is root (\"root\")",
        "{failed:?}"
    );
    assert!(
        failed[1].0.starts_with("platforms")
            && failed[1].2 == "the index lists [linux/arm64, linux/s390x]; missing linux/amd64",
        "{failed:?}"
    );

    let (layers, _) = push_image(
        &host,
        "layered",
        "v1",
        config(|_| {}),
        &["a", "b", "c"],
        pinned_base(),
        sha256,
    );
    let image = format!("{host}/layered@{layers}");
    f.t.sign(&f.t.key("a"), &image);
    f.assert_denied_by(&image, "layers", "more than 2 layers");
}

fn repo_path(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// signet's own image, as `scripts/build-image.sh` builds it (here from the test binary), in
/// the OCI layout it writes: every rule that describes it passes, read from the layout.
#[test]
fn signets_own_image_passes_the_image_rules() {
    let t = Setup::new();
    let layout = t.s.path("image");
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(repo_path("scripts/build-image.sh"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_signet"))
        .arg("--out")
        .arg(&layout)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .output()
        .unwrap_or_else(|e| panic!("running build-image.sh: {e}"));
    assert!(out.status.success(), "build-image.sh: {}", stderr(&out));
    let info: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("build-image.sh printed no JSON ({e}): {}", stdout(&out)));
    let digest = info["digest"]
        .as_str()
        .unwrap_or_else(|| panic!("no digest: {info}"));
    t.s.write(
        "policy.yaml",
        br#"apiVersion: signet.dev/v1
kind: TrustPolicy
policies:
  - name: signet-image
    images: ["**"]
    image:
      user: { minUid: 1000 }
      env: {}
      reference: digest
      created: { maxAge: 1d }
      platforms: [linux/amd64]
      labels: [org.opencontainers.image.source, org.opencontainers.image.revision, org.opencontainers.image.version, org.opencontainers.image.licenses]
      exposedPorts: []
      layers: { max: 1, maxSize: 64MiB }
"#,
    );
    let image = format!("oci:{}@{digest}", layout.display());
    let out =
        t.s.signet()
            .args(["verify", "--policy", "policy.yaml", &image])
            .output();
    let report: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("no report ({e}): {}{}", stdout(&out), stderr(&out)));
    let requirements = report["images"][0]["matchedPolicies"][0]["requirements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(requirements.len(), 8, "{report}");
    for r in &requirements {
        assert_eq!(r["passed"], true, "{r}");
    }
    assert_eq!(out.status.code(), Some(0), "{report}");
    let user = requirements
        .iter()
        .find(|r| {
            r["requirement"]
                .as_str()
                .is_some_and(|s| s.starts_with("image user"))
        })
        .unwrap_or_else(|| panic!("no user rule: {report}"));
    assert_eq!(user["reason"], "user \"65532:65532\" (UID 65532)");
}

/// Registry requests of `verify --policy POLICY --stats IMAGE`.
fn requests(t: &Setup, policy: &str, image: &str) -> u64 {
    let out =
        t.s.signet()
            .args(["verify", "--stats", "--policy", policy, image])
            .output();
    let line = stderr(&out)
        .lines()
        .find_map(|l| l.strip_prefix("stats: ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no stats line: {}", stderr(&out)));
    line.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {line:?}"))
}

#[test]
fn the_image_is_read_only_when_a_rule_asks_and_a_tag_s_manifest_only_once() {
    let f = Images::new();
    let image = f.push("counted", config(|_| {}), pinned_base());
    let host = f.t.registry.host();
    let signatures_only = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  a: {{ key: {{ path: a.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: p\n    images: [\"{host}/**\"]\n    signatures: {{ authorities: [a] }}\n"
    );
    f.t.s.write("signatures.yaml", signatures_only.as_bytes());
    let with_reference_rule = format!("{signatures_only}    image: {{ reference: notLatest }}\n");
    f.t.s
        .write("reference.yaml", with_reference_rule.as_bytes());
    let with_user_rule = format!("{signatures_only}    image: {{ user: {{}} }}\n");
    f.t.s.write("user.yaml", with_user_rule.as_bytes());
    let tagged = format!("{host}/counted:v1");
    for reference in [&image, &tagged] {
        let base = requests(&f.t, "signatures.yaml", reference);
        // A rule on the reference reads nothing more.
        assert_eq!(
            requests(&f.t, "reference.yaml", reference),
            base,
            "{reference}"
        );
        // A rule on the configuration reads the manifest (unless resolving the tag read it
        // already) and the configuration, once each.
        let extra = if reference == &tagged { 1 } else { 2 };
        assert_eq!(
            requests(&f.t, "user.yaml", reference),
            base + extra,
            "{reference}"
        );
    }
}

/// A secret in the environment, recognised by its value's format under a harmless name, or in
/// a configuration whose `Env` is malformed: the report names the variable or the broken
/// field, and the value is in none of signet's output (JSON report, text report, stderr).
#[test]
fn a_secret_s_value_is_printed_nowhere() {
    let f = Images::new();
    let aws_key_id = "AKIAIOSFODNN7EXAMPLE";
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU";
    let image = f.push(
        "secret-values",
        config(|c| {
            if let Some(env) = c["config"]["Env"].as_array_mut() {
                env.push(json!(format!("DEPLOY={aws_key_id}")));
                env.push(json!(format!("SSH={pem}")));
            }
        }),
        pinned_base(),
    );
    let printed = f.assert_denied_by(
        &image,
        "env",
        "ENV DEPLOY looks like a secret (its value is in the format of an AWS access key id); ENV SSH looks like a secret (its value is in the format of a PEM private key)",
    );
    let text =
        f.t.s
            .signet()
            .args([
                "verify",
                "--output",
                "text",
                "--policy",
                "policy.yaml",
                &image,
            ])
            .output();
    let text = format!("{}{}", stdout(&text), stderr(&text));
    assert!(text.contains("ENV DEPLOY looks like a secret"), "{text}");
    for output in [&printed, &text] {
        for value in [aws_key_id, "BEGIN OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXkt"] {
            assert!(!output.contains(value), "{value} was printed: {output}");
        }
    }

    // `Env` as one string instead of a list: the configuration is unreadable, so the image is
    // undecided (exit 2), and the error does not quote the string.
    let broken = f.push(
        "secret-malformed",
        config(|c| c["config"]["Env"] = json!(format!("AWS_SECRET_ACCESS_KEY={SECRET}"))),
        pinned_base(),
    );
    let out =
        f.t.s
            .signet()
            .args(["verify", "--policy", "policy.yaml", &broken])
            .output();
    let printed = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("expected a list of NAME=value strings"),
        "the report does not say what is wrong: {printed}"
    );
    assert!(
        !printed.contains(SECRET),
        "the secret was printed: {printed}"
    );
}

/// An image that names no base of its own: the base rule reads the SLSA v1 provenance the
/// builder attested (BuildKit's build type, so its Dockerfile frontend is not a base), and only
/// one that qualified for the policy's provenance requirement — an intruder's provenance
/// naming an allowed, pinned base does not make the image pass.
#[test]
fn without_a_named_base_the_rule_reads_the_builder_s_verified_provenance() {
    let t = Setup::with_keys(&["a", "builder", "intruder"]);
    let host = t.registry.host();
    let policy = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  a: {{ key: {{ path: a.pub }}, transparencyLog: ignore }}\n  builder: {{ key: {{ path: builder.pub }}, transparencyLog: ignore }}\npolicies:\n  - name: runtime\n    images: [\"{host}/**\"]\n    signatures: {{ authorities: [a] }}\n    attestations:\n      - {{ name: provenance, predicateType: slsaprovenance1, authorities: [builder] }}\n    image:\n      base: {{ allowed: [\"gcr.io/distroless/**\"], pinned: true }}\n"
    );
    t.s.write("policy.yaml", policy.as_bytes());
    let base_digest = sha256(b"distroless static");
    let provenance = |base_purl: &str| {
        json!({
            "buildDefinition": {
                "buildType": "https://mobyproject.org/buildkit@v1",
                "externalParameters": {"request": {"frontend": "gateway.v0"}},
                "resolvedDependencies": [
                    {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": sha256(b"frontend").trim_start_matches("sha256:")}},
                    {"uri": base_purl, "digest": {"sha256": base_digest.trim_start_matches("sha256:")}},
                ],
            },
            "runDetails": {"builder": {"id": "https://example.invalid/buildkit"}},
        })
    };
    let pinned = format!(
        "pkg:docker/gcr.io/distroless/static-debian12@nonroot?digest={}&platform=linux%2Famd64",
        base_digest.replace(':', "%3A")
    );
    let by_tag = "pkg:docker/gcr.io/distroless/static-debian12@nonroot?platform=linux%2Famd64";
    let attest = |key: &str, image: &str, predicate: &Value| {
        let file = t.s.write(
            &format!(
                "provenance-{key}-{}.json",
                image.len() + predicate.to_string().len()
            ),
            predicate.to_string().as_bytes(),
        );
        t.s.signet()
            .args([
                "attest",
                "--tlog-upload=false",
                "--key",
                &format!("{key}.key"),
            ])
            .args(["--type", "slsaprovenance1", "--predicate"])
            .arg(&file)
            .arg(image)
            .assert_success();
    };
    let push = |repo: &str| {
        let (digest, _) = push_image(
            &host,
            repo,
            "v1",
            config(|_| {}),
            &["app"],
            json!({}),
            sha256,
        );
        let image = format!("{host}/{repo}@{digest}");
        t.sign(&t.key("a"), &image);
        image
    };
    let base_result = |image: &str| {
        let out =
            t.s.signet()
                .args(["verify", "--policy", "policy.yaml", image])
                .output();
        let report: Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("no report ({e}): {}{}", stdout(&out), stderr(&out)));
        let base = report["images"][0]["matchedPolicies"][0]["requirements"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|r| {
                        r["requirement"]
                            .as_str()
                            .is_some_and(|s| s.starts_with("image base"))
                    })
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no base rule: {report}"));
        (
            out.status.code(),
            base["passed"].as_bool().unwrap_or(false),
            base["reason"].as_str().unwrap_or_default().to_owned(),
        )
    };

    let good = push("from-provenance");
    attest("builder", &good, &provenance(&pinned));
    let (code, passed, reason) = base_result(&good);
    assert_eq!(
        (code, passed, reason.as_str()),
        (
            Some(0),
            true,
            format!("built from \"{pinned}\" pinned to {base_digest} (provenance)").as_str()
        )
    );

    let unpinned = push("from-provenance-by-tag");
    attest("builder", &unpinned, &provenance(by_tag));
    let (code, passed, reason) = base_result(&unpinned);
    assert_eq!(
        (code, passed, reason.as_str()),
        (
            Some(1),
            false,
            format!(
                "the provenance's base \"{by_tag}\" is not pinned: the build referenced it by tag"
            )
            .as_str()
        )
    );

    // Only the intruder attested: the provenance requirement fails, and the base rule does
    // not read the intruder's statement.
    let forged = push("forged-provenance");
    attest("intruder", &forged, &provenance(&pinned));
    let (code, passed, reason) = base_result(&forged);
    assert_eq!(code, Some(1));
    assert!(
        !passed && reason.contains("no SLSA provenance attestation of the policy qualified"),
        "{reason}"
    );
}
