//! Each rule on images built for the purpose (configs and manifests as JSON), failing for the
//! reason the rule names; the same rules run against a real registry in tests/e2e/image_rules.rs.

use serde_json::{Value, json};
use signet_core::digest::Digest;
use signet_core::image_config::ImageConfig;
use signet_core::manifest::{ImageIndex, ImageManifest};
use signet_core::reference::ImageReference;
use signet_verify::{ImageContents, PlatformImage};

use super::*;

/// 2024-05-02T00:00:00Z.
const NOW: i64 = 1_714_608_000;

fn rules(yaml: &str) -> ImageRules {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn manifest(layers: &[u64], annotations: Value) -> ImageManifest {
    let layers: Vec<Value> = layers
        .iter()
        .enumerate()
        .map(|(i, size)| {
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": size,
                   "digest": Digest::sha256_of(format!("layer {i}").as_bytes()).to_string()})
        })
        .collect();
    serde_json::from_value(json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": Digest::sha256_of(b"config").to_string()},
        "layers": layers,
        "annotations": annotations,
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn config(run: Value) -> ImageConfig {
    config_with(run, "2024-05-01T00:00:00Z", "amd64")
}

fn config_with(run: Value, created: &str, arch: &str) -> ImageConfig {
    ImageConfig::parse(
        json!({"architecture": arch, "os": "linux", "created": created, "config": run})
            .to_string()
            .as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn single(run: Value) -> ImageContents {
    ImageContents::single(
        Digest::sha256_of(b"image"),
        manifest(&[100], json!({})),
        config(run),
    )
}

fn by_digest() -> ImageReference {
    format!("registry.example/app@{}", Digest::sha256_of(b"image"))
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The one outcome of `yaml`'s one rule on `contents`.
fn outcome(yaml: &str, contents: &ImageContents) -> RuleOutcome {
    outcome_for(yaml, &by_digest(), contents)
}

fn outcome_for(yaml: &str, image: &ImageReference, contents: &ImageContents) -> RuleOutcome {
    let mut all = rules(yaml).check(image, Some(contents), None, NOW);
    assert_eq!(all.len(), 1, "{yaml}: {all:?}");
    all.remove(0)
}

fn fails(yaml: &str, contents: &ImageContents, reason: &str) {
    let o = outcome(yaml, contents);
    assert!(!o.passed, "{yaml} passed: {}", o.reason);
    assert!(
        o.reason.contains(reason),
        "{yaml}: {:?} lacks {reason:?}",
        o.reason
    );
}

fn passes(yaml: &str, contents: &ImageContents) -> String {
    let o = outcome(yaml, contents);
    assert!(o.passed, "{yaml} failed: {}", o.reason);
    o.reason
}

#[test]
fn user_root_in_every_spelling_fails_and_a_uid_range_needs_a_number() {
    for (user, reason) in [
        (json!(null), "sets no user, so it runs as root"),
        (json!(""), "sets no user, so it runs as root"),
        (json!("root"), "user is root (\"root\")"),
        (json!("0"), "user is root (\"0\")"),
        (json!("0:0"), "user is root (\"0:0\")"),
        (json!("root:wheel"), "user is root"),
        (json!("000"), "user is root"),
    ] {
        fails("user: {}", &single(json!({ "User": user })), reason);
    }
    passes("user: {}", &single(json!({"User": "65532:65532"})));
    passes("user: {}", &single(json!({"User": "nonroot"})));
    passes("user: {minUid: 10000}", &single(json!({"User": "65532:0"})));
    fails(
        "user: {minUid: 10000, maxUid: 60000}",
        &single(json!({"User": "65532"})),
        "UID 65532 is outside 10000..60000",
    );
    fails(
        "user: {minUid: 1000}",
        &single(json!({"User": "app"})),
        "user \"app\" is a name",
    );
}

#[test]
fn env_secrets_are_named_by_variable_never_by_value() {
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let github = format!("ghp_{}", "a1B2".repeat(9));
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA";
    let url = "postgres://app:hunter2@db:5432/app";
    let cases = [
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG",
            "its name contains SECRET",
        ),
        ("DB_PASSWORD", "hunter2", "its name contains PASSWORD"),
        ("NPM_TOKEN", "npm_abc", "its name contains TOKEN"),
        ("SIGNING_KEY", "abc", "its name ends in _KEY"),
        (
            "DEPLOY",
            aws,
            "its value is in the format of an AWS access key id",
        ),
        (
            "CI",
            github.as_str(),
            "its value is in the format of a GitHub token",
        ),
        (
            "SSH",
            pem,
            "its value is in the format of a PEM private key",
        ),
        (
            "DATABASE_URL",
            url,
            "its value is in the format of a URL with a password",
        ),
    ];
    for (name, value, why) in cases {
        let contents = single(json!({"Env": ["PATH=/usr/bin", format!("{name}={value}")]}));
        let o = outcome("env: {}", &contents);
        assert!(!o.passed, "{name}");
        assert!(
            o.reason
                .contains(&format!("ENV {name} looks like a secret ({why})")),
            "{name}: {}",
            o.reason
        );
        assert!(
            !o.reason.contains(value),
            "{name}: the value leaked: {}",
            o.reason
        );
    }
    // Empty values, plain variables and allowed names pass.
    let contents = single(
        json!({"Env": ["DB_PASSWORD=", "PATH=/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"]}),
    );
    fails("env: {}", &contents, "ENV GPG_KEY looks like a secret");
    assert_eq!(
        passes("env: {allow: [GPG_KEY]}", &contents),
        "none of 3 variables looks like a secret"
    );
    let many: Vec<String> = (0..8).map(|i| format!("TOKEN_{i}=x")).collect();
    fails("env: {}", &single(json!({ "Env": many })), "; and 3 more");
}

#[test]
fn the_base_must_be_named_allowed_and_pinned() {
    let rule = "base: {allowed: [\"gcr.io/distroless/**\"], pinned: true}";
    let with = |annotations: Value, labels: Value| {
        ImageContents::single(
            Digest::sha256_of(b"image"),
            manifest(&[1], annotations),
            config(json!({ "Labels": labels })),
        )
    };
    let digest = Digest::sha256_of(b"base").to_string();
    fails(rule, &with(json!({}), json!({})), "names no base image");
    fails(
        rule,
        &with(
            json!({(BASE_NAME): "docker.io/library/ubuntu:24.04", (BASE_DIGEST): digest}),
            json!({}),
        ),
        "the base image is \"docker.io/library/ubuntu:24.04\" (manifest annotation), which is not among the allowed bases",
    );
    fails(
        rule,
        &with(
            json!({(BASE_NAME): "gcr.io/distroless/static:nonroot"}),
            json!({}),
        ),
        "is not pinned",
    );
    fails(
        rule,
        &with(
            json!({(BASE_NAME): "gcr.io/distroless/static:nonroot", (BASE_DIGEST): "sha256:nope"}),
            json!({}),
        ),
        "is not pinned",
    );
    passes(
        rule,
        &with(
            json!({(BASE_NAME): "gcr.io/distroless/static:nonroot", (BASE_DIGEST): digest}),
            json!({}),
        ),
    );
    passes(
        rule,
        &with(
            json!({(BASE_NAME): format!("gcr.io/distroless/static@{digest}")}),
            json!({}),
        ),
    );
    // A label is read when no annotation names the base.
    let reason = passes(
        rule,
        &with(
            json!({}),
            json!({(BASE_NAME): format!("gcr.io/distroless/base@{digest}")}),
        ),
    );
    assert!(reason.contains("pinned to"), "{reason}");
    // Without `allowed`, any named base passes; pinning is still checked.
    passes(
        "base: {pinned: true}",
        &with(
            json!({(BASE_NAME): format!("docker.io/library/ubuntu@{digest}")}),
            json!({}),
        ),
    );
    fails(
        "base: {pinned: true}",
        &with(
            json!({(BASE_NAME): "docker.io/library/ubuntu:24.04"}),
            json!({}),
        ),
        "is not pinned",
    );
    fails(
        "base: {}",
        &with(json!({}), json!({})),
        "names no base image",
    );
    passes(
        "base: {allowed: [\"gcr.io/distroless/**\"]}",
        &with(
            json!({(BASE_NAME): "gcr.io/distroless/static:nonroot"}),
            json!({}),
        ),
    );
}

#[test]
fn the_reference_rule_reads_the_reference_as_given() {
    let contents = single(json!({}));
    let image = |text: &str| -> ImageReference { text.parse().unwrap_or_else(|e| panic!("{e}")) };
    let check = |yaml: &str, text: &str| outcome_for(yaml, &image(text), &contents);
    assert!(check("reference: digest", &by_digest().to_string()).passed);
    let o = check("reference: digest", "registry.example/app:v1");
    assert_eq!(
        (o.passed, o.reason.as_str()),
        (false, "referenced by tag \"v1\", not by digest")
    );
    assert!(check("reference: notLatest", "registry.example/app:v1").passed);
    let o = check("reference: notLatest", "registry.example/app:latest");
    assert_eq!(
        (o.passed, o.reason.as_str()),
        (false, "referenced by the tag \"latest\"")
    );
    let o = check("reference: notLatest", "registry.example/app");
    assert!(
        !o.passed && o.reason.contains("without tag or digest"),
        "{o:?}"
    );
    // The reference rule alone reads nothing.
    assert!(!rules("reference: digest").needs_contents());
    assert_eq!(
        rules("reference: digest")
            .check(&by_digest(), None, None, NOW)
            .len(),
        1
    );
}

#[test]
fn created_is_checked_against_max_age() {
    let at = |created: &str| {
        ImageContents::single(
            Digest::sha256_of(b"image"),
            manifest(&[1], json!({})),
            config_with(json!({}), created, "amd64"),
        )
    };
    passes("created: {maxAge: 30d}", &at("2024-04-20T00:00:00Z"));
    fails(
        "created: {maxAge: 30d}",
        &at("2023-01-01T00:00:00Z"),
        "the image's created time \"2023-01-01T00:00:00Z\" is 487 days old, more than maxAge 30d",
    );
    fails(
        "created: {maxAge: 30d}",
        &at("2025-01-01T00:00:00Z"),
        "in the future",
    );
    fails(
        "created: {maxAge: 30d}",
        &at("last week"),
        "is not an RFC 3339 time",
    );
    let undated = ImageContents::single(
        Digest::sha256_of(b"image"),
        manifest(&[1], json!({})),
        ImageConfig::parse(b"{\"os\": \"linux\", \"architecture\": \"amd64\"}")
            .unwrap_or_else(|e| panic!("{e}")),
    );
    fails("created: {maxAge: 30d}", &undated, "has no created time");
}

fn index_of(platforms: &[(&str, Value)]) -> ImageContents {
    let images: Vec<PlatformImage> = platforms
        .iter()
        .map(|(arch, run)| {
            PlatformImage::new(
                Digest::sha256_of(arch.as_bytes()),
                signet_core::image_config::Platform::parse(&format!("linux/{arch}")),
                manifest(&[1], json!({})),
                config_with(run.clone(), "2024-05-01T00:00:00Z", arch),
            )
        })
        .collect();
    let mut entries: Vec<Value> = platforms
        .iter()
        .map(|(arch, _)| {
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1,
                   "digest": Digest::sha256_of(arch.as_bytes()).to_string(),
                   "platform": {"os": "linux", "architecture": arch}})
        })
        .collect();
    // BuildKit's attestation manifest is not a platform.
    entries.push(
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1,
        "digest": Digest::sha256_of(b"att").to_string(),
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}),
    );
    let index: ImageIndex =
        serde_json::from_value(json!({"schemaVersion": 2, "manifests": entries}))
            .unwrap_or_else(|e| panic!("{e}"));
    ImageContents::index(Digest::sha256_of(b"index"), &index, images, 0)
}

#[test]
fn platforms_must_all_be_in_the_index() {
    let index = index_of(&[("amd64", json!({})), ("arm64", json!({}))]);
    passes("platforms: [linux/amd64, linux/arm64]", &index);
    fails(
        "platforms: [linux/amd64, linux/s390x]",
        &index,
        "the index lists [linux/amd64, linux/arm64]; missing linux/s390x",
    );
    fails(
        "platforms: [linux/amd64, linux/arm64]",
        &single(json!({})),
        "the image is a single-platform image (linux/amd64); missing linux/arm64",
    );
}

#[test]
fn every_platform_image_must_pass_and_failures_name_the_platform() {
    let index = index_of(&[
        ("amd64", json!({"User": "65532"})),
        ("arm64", json!({"User": "root"})),
    ]);
    let o = outcome("user: {}", &index);
    assert!(!o.passed);
    assert_eq!(o.reason, "linux/arm64: user is root (\"root\")");
    let unread = ImageContents::index(
        Digest::sha256_of(b"index"),
        &serde_json::from_value(json!({"schemaVersion": 2, "manifests": []}))
            .unwrap_or_else(|e| panic!("{e}")),
        Vec::new(),
        40,
    );
    fails(
        "user: {}",
        &unread,
        "40 more platform images than signet reads",
    );
}

#[test]
fn labels_ports_and_layers() {
    let contents = ImageContents::single(
        Digest::sha256_of(b"image"),
        manifest(&[10_000_000, 20_000_000, 30], json!({})),
        config(json!({
            "Labels": {"org.opencontainers.image.source": "https://github.com/acme/app",
                       "org.opencontainers.image.revision": " "},
            "ExposedPorts": {"8080/tcp": {}, "22": {}},
        })),
    );
    passes("labels: [org.opencontainers.image.source]", &contents);
    fails(
        "labels: [org.opencontainers.image.source, org.opencontainers.image.revision, org.opencontainers.image.licenses]",
        &contents,
        "label org.opencontainers.image.revision, org.opencontainers.image.licenses is missing or empty",
    );
    fails(
        "exposedPorts: [\"8080\"]",
        &contents,
        "exposes 22/tcp, which the policy does not allow",
    );
    passes("exposedPorts: [\"8080/TCP\", \"22/tcp\"]", &contents);
    fails("exposedPorts: []", &contents, "exposes 22/tcp, 8080/tcp");
    assert_eq!(
        passes("layers: {max: 3}", &contents),
        "3 layers, 30000030 bytes"
    );
    fails(
        "layers: {max: 2}",
        &contents,
        "3 layers, 30000030 bytes: more than 2 layers",
    );
    fails(
        "layers: {maxSize: 25MiB}",
        &contents,
        "more than 26214400 bytes",
    );
    passes("layers: {maxSize: 31MB, max: 40}", &contents);
}

#[test]
fn bad_rules_are_load_errors() {
    for (yaml, want) in [
        (
            "platforms: [linux]",
            "platform \"linux\" is not os/architecture",
        ),
        ("exposedPorts: [\"http\"]", "port \"http\" is not port"),
        ("exposedPorts: [\"80/icmp\"]", "port \"80/icmp\""),
        ("layers: {maxSize: 5 bananas}", "size \"5 bananas\""),
        ("created: {maxAge: 30y}", "invalid duration"),
        (
            "base: {allowed: [\"reg/app:latest\"]}",
            "without tag or digest",
        ),
        ("reference: pinned", "unknown variant"),
        ("user: {uid: 1}", "unknown field"),
        (
            "user: {minUid: 2000, maxUid: 1000}",
            "user.minUid 2000 is above user.maxUid 1000",
        ),
        ("layers: {}", "layers needs max, maxSize or both"),
        ("secrets: {}", "unknown field"),
    ] {
        match serde_saphyr::from_str::<ImageRules>(yaml) {
            Ok(_) => panic!("{yaml} loaded"),
            Err(e) => assert!(e.to_string().contains(want), "{yaml}: {e}"),
        }
    }
}

#[test]
fn a_value_is_never_quoted_even_when_a_name_rule_and_a_value_rule_both_match() {
    assert_eq!(
        secret_reason("GITHUB_TOKEN", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
        Some("its name contains TOKEN".to_owned())
    );
    assert_eq!(secret_reason("HOME", "/root"), None);
    assert_eq!(secret_reason("TOKEN", ""), None);
}

#[test]
fn without_a_named_base_the_verified_provenance_says_what_the_build_started_from() {
    let unnamed = single(json!({}));
    let digest = Digest::sha256_of(b"base");
    let provenance = |deps: &[String]| {
        let deps: Vec<Value> = deps.iter().map(|uri| json!({ "uri": uri })).collect();
        let statement = json!({"_type": "https://in-toto.io/Statement/v1",
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": BUILDKIT_BUILD_TYPE,
                "resolvedDependencies": deps}}});
        BuiltFrom::from_statement(statement.to_string().as_bytes())
    };
    let check = |yaml: &str, built: &Result<BuiltFrom, BuiltFromError>| {
        let mut all = rules(yaml).check(&by_digest(), Some(&unnamed), Some(built), NOW);
        all.remove(0)
    };
    let rule = "base: {allowed: [\"gcr.io/distroless/**\"], pinned: true}";
    let pinned = format!(
        "pkg:docker/gcr.io/distroless/static@nonroot?digest={digest}&platform=linux%2Famd64"
    );
    let frontend = "pkg:docker/docker/dockerfile@1".to_owned();
    let o = check(rule, &provenance(&[frontend.clone(), pinned.clone()]));
    assert!(o.passed, "{o:?}");
    assert_eq!(
        o.reason,
        format!("built from \"{pinned}\" pinned to {digest} (provenance)")
    );
    let by_tag = "pkg:docker/gcr.io/distroless/static@nonroot?platform=linux%2Famd64".to_owned();
    let o = check(rule, &provenance(std::slice::from_ref(&by_tag)));
    assert_eq!(
        (o.passed, o.reason),
        (
            false,
            format!(
                "the provenance's base \"{by_tag}\" is not pinned: the build referenced it by tag"
            )
        )
    );
    let foreign = format!("pkg:docker/ubuntu?digest={digest}&platform=linux%2Famd64");
    let o = check(rule, &provenance(&[pinned, foreign]));
    assert!(
        !o.passed
            && o.reason.contains("(index.docker.io/library/ubuntu@sha256:")
            && o.reason.ends_with("is not among the allowed bases"),
        "{o:?}"
    );
    let o = check(rule, &provenance(&[frontend]));
    assert!(
        !o.passed
            && o.reason
                .contains("lists no container image it was built from"),
        "{o:?}"
    );
    let o = check(rule, &BuiltFrom::from_statement(b"{\"predicate\": 7}"));
    assert!(
        !o.passed
            && o.reason
                .contains("the provenance's materials or resolvedDependencies cannot be read"),
        "{o:?}"
    );
    // A base the image names wins over the provenance.
    let named = ImageContents::single(
        Digest::sha256_of(b"image"),
        manifest(&[1], json!({(BASE_NAME): "docker.io/library/ubuntu:24.04"})),
        config(json!({})),
    );
    let o = rules(rule)
        .check(&by_digest(), Some(&named), Some(&provenance(&[])), NOW)
        .remove(0);
    assert!(
        !o.passed && o.reason.contains("manifest annotation"),
        "{o:?}"
    );
}
