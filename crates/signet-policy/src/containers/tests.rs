//! Loading, scope selection and judgement, offline: evidence is built in memory and signed
//! with fresh keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use signet_core::cosign::{SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_core::digest::Digest;
use signet_core::keys::PrivateKey;
use signet_core::manifest::Descriptor;
use signet_core::payload::simple_signing_payload;
use signet_core::reference::ImageReference;
use tempfile::TempDir;

use super::eval::{self, Signatures, Target};
use super::*;
use crate::report::Decision;
use signet_verify::{AttachmentEvidence, LayerEvidence};

const REGISTRY: &str = "reg.example.com:5000";

struct Fixture {
    dir: TempDir,
    a: PrivateKey,
    b: PrivateKey,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
        let b = PrivateKey::generate_p256().unwrap_or_else(|e| panic!("{e}"));
        for (name, key) in [("a.pub", &a), ("b.pub", &b)] {
            let pem = key.public_key().unwrap_or_else(|e| panic!("{e}")).to_pem();
            std::fs::write(dir.path().join(name), pem).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::create_dir(dir.path().join("registries.d")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("registries.d/default.yaml"),
            format!("docker:\n  {REGISTRY}:\n    use-sigstore-attachments: true\n"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Fixture { dir, a, b }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    fn write_policy(&self, policy: &Value) -> PathBuf {
        let path = self.path("policy.json");
        std::fs::write(&path, policy.to_string()).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    fn load(&self, policy: &Value) -> ContainersPolicy {
        let path = self.write_policy(policy);
        ContainersPolicy::load(&path, Some(&self.path("registries.d")))
            .unwrap_or_else(|e| panic!("{}", error_chain(&e)))
    }

    fn load_err(&self, policy: &Value) -> String {
        let path = self.write_policy(policy);
        match ContainersPolicy::load(&path, Some(&self.path("registries.d"))) {
            Ok(_) => panic!("the policy loaded: {policy}"),
            Err(e) => error_chain(&e),
        }
    }

    fn load_text_err(&self, text: &str) -> String {
        let path = self.path("policy.json");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        match ContainersPolicy::load(&path, Some(&self.path("registries.d"))) {
            Ok(_) => panic!("the policy loaded: {text}"),
            Err(e) => error_chain(&e),
        }
    }
}

fn accept() -> Value {
    json!([{ "type": "insecureAcceptAnything" }])
}

fn image(s: &str) -> ImageReference {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn digest_of(name: &str) -> Digest {
    Digest::sha256_of(name.as_bytes())
}

/// One signature layer by `key` over `payload`.
fn layer(index: usize, key: &PrivateKey, payload: &[u8]) -> LayerEvidence {
    let signature = key.sign(payload).unwrap_or_else(|e| panic!("{e}"));
    let mut descriptor = Descriptor::for_bytes(SIMPLE_SIGNING_MEDIA_TYPE, payload);
    descriptor
        .annotations
        .insert(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature));
    LayerEvidence {
        index,
        layer: descriptor,
        content: Ok(payload.to_vec()),
    }
}

/// A Cosign payload: the repository without a tag.
fn cosign_payload(repository: &str, digest: &Digest) -> Vec<u8> {
    simple_signing_payload(repository, digest, &BTreeMap::new())
}

/// A skopeo payload: the reference with its tag, creator and timestamp in `optional`.
fn skopeo_payload(reference: &str, digest: &Digest) -> Vec<u8> {
    json!({
        "critical": {
            "identity": { "docker-reference": reference },
            "image": { "docker-manifest-digest": digest.to_string() },
            "type": "cosign container image signature",
        },
        "optional": { "creator": "containers/image 5.34.0", "timestamp": 1_700_000_000 },
    })
    .to_string()
    .into_bytes()
}

fn evidence(repository: &str, digest: &Digest, layers: Vec<LayerEvidence>) -> Signatures {
    Signatures::Read(AttachmentEvidence {
        image: format!("{repository}@{digest}"),
        repository: repository.to_owned(),
        digest: digest.clone(),
        resolved_from_tag: false,
        location: format!("{repository}:sha256-{}.sig", digest.hex()),
        layers,
        skipped_layers: 0,
    })
}

/// The verdict for `image` given the signatures read for it.
fn verdict(policy: &ContainersPolicy, image_ref: &str, signatures: Signatures) -> ImageVerdict {
    let image = image(image_ref);
    let target = Target::of(&image).unwrap_or_else(|e| panic!("{e}"));
    let matched = eval::select(&policy.config, &target);
    let signatures = matched.needs_signatures().then_some(signatures);
    eval::judge_image(&image, &target, &matched, signatures.as_ref())
}

fn scope(policy: &ContainersPolicy, image_ref: &str) -> String {
    let target = Target::of(&image(image_ref)).unwrap_or_else(|e| panic!("{e}"));
    eval::select(&policy.config, &target).name
}

fn sigstore(key: &str, identity: Value) -> Value {
    json!([{ "type": "sigstoreSigned", "keyPath": key, "signedIdentity": identity }])
}

fn failed_checks(v: &ImageVerdict) -> Vec<String> {
    v.matched_policies
        .iter()
        .flat_map(|p| &p.requirements)
        .flat_map(|r| &r.evidence)
        .filter_map(|e| e.failed_check.clone())
        .collect()
}

fn reasons(v: &ImageVerdict) -> String {
    v.matched_policies
        .iter()
        .flat_map(|p| &p.requirements)
        .map(|r| r.reason.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

// ---------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------

#[test]
fn the_most_specific_docker_scope_wins() {
    let f = Fixture::new();
    let d = digest_of("x");
    let all = [
        format!("{REGISTRY}/team/app:v1"),
        format!("{REGISTRY}/team/app@{d}"),
        format!("{REGISTRY}/team/app"),
        format!("{REGISTRY}/team"),
        REGISTRY.to_owned(),
        "*.example.com".to_owned(),
        "*.com".to_owned(),
        String::new(),
    ];
    // Remove scopes from the most specific down; each time the next one takes over.
    let cases = [
        (format!("{REGISTRY}/team/app:v1"), 0),
        (format!("{REGISTRY}/team/app@{d}"), 1),
        (format!("{REGISTRY}/team/app:v2"), 2),
        (format!("{REGISTRY}/team/other:v1"), 3),
        (format!("{REGISTRY}/lone:v1"), 4),
        ("other.example.com/x:1".to_owned(), 5),
        ("other.com/x:1".to_owned(), 6),
        ("other.org/x:1".to_owned(), 7),
    ];
    let mut scopes = serde_json::Map::new();
    for s in &all {
        scopes.insert(s.clone(), accept());
    }
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": Value::Object(scopes.clone()) },
    }));
    for (img, expected) in &cases {
        let want = if all[*expected].is_empty() {
            "docker:\"\"".to_owned()
        } else {
            format!("docker:{}", all[*expected])
        };
        assert_eq!(scope(&policy, img), want, "{img}");
    }
    // Peel scopes off, most specific first: the same image falls through every level.
    let img = format!("{REGISTRY}/team/app:v1");
    for (i, s) in all.iter().enumerate() {
        let policy = f.load(&json!({
            "default": [{ "type": "reject" }],
            "transports": { "docker": Value::Object(scopes.clone()) },
        }));
        let got = scope(&policy, &img);
        let want = if s.is_empty() {
            "docker:\"\"".to_owned()
        } else if s == &format!("{REGISTRY}/team/app@{d}") {
            // A digest scope never applies to a tag reference; the next one does.
            continue;
        } else {
            format!("docker:{s}")
        };
        assert_eq!(got, want, "after removing {:?}", &all[..i]);
        scopes.remove(s);
    }
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": {}, "oci": { "": accept() } },
    }));
    assert_eq!(scope(&policy, &img), "default");
}

#[test]
fn wildcards_go_from_the_longest_and_ignore_the_port() {
    let f = Fixture::new();
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": {
            "*.com": accept(),
            "*.example.com": accept(),
            "*.b.example.com": accept(),
        }},
    }));
    assert_eq!(
        scope(&policy, "a.b.example.com:443/x:1"),
        "docker:*.b.example.com"
    );
    assert_eq!(scope(&policy, "c.example.com/x:1"), "docker:*.example.com");
    assert_eq!(scope(&policy, "example.com/x:1"), "docker:*.com");
    // A wildcard matches subdomains only, not the domain itself.
    assert_eq!(scope(&policy, "example.org/x:1"), "default");
}

#[test]
fn docker_hub_names_match_in_either_spelling() {
    let f = Fixture::new();
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": { "docker.io/library/busybox": accept() } },
    }));
    for img in [
        "busybox",
        "busybox:1.36",
        "docker.io/busybox:1",
        "index.docker.io/library/busybox:1",
    ] {
        assert_eq!(
            scope(&policy, img),
            "docker:docker.io/library/busybox",
            "{img}"
        );
    }
    // A tag-less reference is :latest, as containers/image reads it.
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": { "docker.io/library/busybox:latest": accept() } },
    }));
    assert_eq!(
        scope(&policy, "busybox"),
        "docker:docker.io/library/busybox:latest"
    );
}

#[test]
fn oci_layouts_match_their_resolved_directory_and_parents() {
    let f = Fixture::new();
    let layouts = f.path("layouts");
    std::fs::create_dir_all(layouts.join("app")).unwrap_or_else(|e| panic!("{e}"));
    let resolved = std::fs::canonicalize(&layouts).unwrap_or_else(|e| panic!("{e}"));
    let resolved = resolved.to_string_lossy().into_owned();
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "oci": { resolved.clone(): accept() } },
    }));
    let img = format!("oci:{}:v1", layouts.join("app").display());
    assert_eq!(scope(&policy, &img), format!("oci:{resolved}"));
    let v = verdict(&policy, &img, Signatures::NotRead(String::new()));
    assert_eq!(v.decision, Decision::Allow);
    // sigstoreSigned never passes for a layout: containers/image reads no signatures there.
    let policy = f.load(&json!({
        "default": [{ "type": "reject" }],
        "transports": { "oci": { "": sigstore(&f.key("a.pub"), json!({"type": "matchRepository"})) } },
    }));
    let target = Target::of(&image(&img)).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(target, Target::Layout { .. }));
    let v = verdict(
        &policy,
        &img,
        Signatures::NotRead("containers/image reads no signatures from OCI layouts".into()),
    );
    assert_eq!(v.decision, Decision::Deny);
}

#[test]
fn references_containers_image_refuses_are_undecided() {
    let both = format!("{REGISTRY}/app:v1@{}", digest_of("x"));
    let note = match Target::of(&image(&both)) {
        Err(why) => why.to_string(),
        Ok(target) => panic!("accepted as {target:?}"),
    };
    assert!(note.contains("both a tag and a digest"), "{note}");
}

// ---------------------------------------------------------------------------------------------
// Load errors
// ---------------------------------------------------------------------------------------------

#[test]
fn load_refuses_what_containers_image_refuses_and_says_where() {
    let f = Fixture::new();
    let a = f.key("a.pub");
    let data = STANDARD.encode(std::fs::read(&a).unwrap_or_default());
    let host = |reqs: Value| json!({ "default": [{"type": "reject"}], "transports": { "docker": { REGISTRY: reqs } } });
    let at = format!("transports.docker[\"{REGISTRY}\"][0]");
    let cases: Vec<(Value, String)> = vec![
        (
            host(json!([{ "type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg" }])),
            format!("{at}: signedBy (GPG) is not supported by signet"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPth": a }])),
            format!("{at}.keyPth: unknown field \"keyPth\" (expected one of: type, keyPath"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "keyData": data }])),
            format!("{at}: exactly one of keyPath, keyPaths, keyData and keyDatas must be given"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned" }])),
            format!("{at}: exactly one of keyPath"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": f.key("missing.pub") }])),
            format!("{at}.keyPath: cannot read the key file {}", f.key("missing.pub")),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": f.key("policy.json") }])),
            format!("{at}.keyPath: {} is not a usable PEM public key", f.key("policy.json")),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyData": "%%%" }])),
            format!("{at}.keyData: not valid base64"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPaths": [] }])),
            format!("{at}.keyPaths: the list of keys must not be empty"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "fulcio": {}, "rekorPublicKeyPath": "/r" }])),
            format!("{at}.fulcio: sigstoreSigned with fulcio is not supported by signet"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "rekorPublicKeyPath": "/nonexistent/rekor.pub" }])),
            format!("{at}.rekorPublicKeyPath: "),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "rekorPublicKeyPath": a, "rekorPublicKeyData": "x" }])),
            format!("{at}: at most one of rekorPublicKeyPath"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "signedIdentity": { "type": "matchExact", "extra": 1 } }])),
            format!("{at}.signedIdentity.extra: unknown field \"extra\""),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "signedIdentity": { "type": "exactReference", "dockerReference": "quay.io/app" } }])),
            format!("{at}.signedIdentity.dockerReference: dockerReference \"quay.io/app\" contains neither a tag nor a digest"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "signedIdentity": { "type": "exactRepository" } }])),
            format!("{at}.signedIdentity: missing field \"dockerRepository\""),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "signedIdentity": { "type": "remapIdentity", "prefix": "quay.io/", "signedPrefix": "q.io" } }])),
            format!("{at}.signedIdentity.prefix: prefix \"quay.io/\" is not valid"),
        ),
        (
            host(json!([{ "type": "sigstoreSigned", "keyPath": a, "signedIdentity": { "type": "matchEverything" } }])),
            format!("{at}.signedIdentity.type: unknown type \"matchEverything\""),
        ),
        (
            host(json!([{ "type": "acceptIfSunny" }])),
            format!("{at}.type: unknown type \"acceptIfSunny\""),
        ),
        (
            host(json!([{ "type": "reject", "comment": "no" }])),
            format!("{at}.comment: unknown field \"comment\" (expected one of: type)"),
        ),
        (host(json!([])), format!("transports.docker[\"{REGISTRY}\"]: the list of requirements must not be empty")),
        (host(json!({})), format!("transports.docker[\"{REGISTRY}\"]: expected an array of requirements, found an object")),
        (
            json!({ "transports": {} }),
            "the top level: the top-level \"default\" requirements are missing".to_owned(),
        ),
        (
            json!({ "default": [{"type": "reject"}], "transport": {} }),
            "transport: unknown field \"transport\" (expected one of: default, transports)".to_owned(),
        ),
        (
            json!({ "default": [{"type": "reject"}], "transports": { "oci": { "relative/dir": accept() } } }),
            "transports.oci[\"relative/dir\"]: invalid scope for transport oci: must be an absolute path".to_owned(),
        ),
        (
            json!({ "default": [{"type": "reject"}], "transports": { "oci": { "/": accept() } } }),
            "invalid scope for transport oci: \"/\" is not a scope".to_owned(),
        ),
        (
            json!({ "default": null }),
            "default: expected an array of requirements, found null".to_owned(),
        ),
    ];
    for (policy, expected) in cases {
        let err = f.load_err(&policy);
        assert!(
            err.contains(&expected),
            "{policy}\n  gave: {err}\n  want: {expected}"
        );
    }
    let err =
        f.load_text_err(r#"{"default": [{"type": "reject"}], "default": [{"type": "reject"}]}"#);
    assert!(err.contains("duplicate key \"default\""), "{err}");
    let err = f.load_text_err("{\"default\": [");
    assert!(err.starts_with("the policy is not valid JSON"), "{err}");
}

#[test]
fn every_key_source_loads() {
    let f = Fixture::new();
    let (a, b) = (f.key("a.pub"), f.key("b.pub"));
    let data = |p: &str| STANDARD.encode(std::fs::read(p).unwrap_or_default());
    for req in [
        json!({ "type": "sigstoreSigned", "keyPath": a }),
        json!({ "type": "sigstoreSigned", "keyPaths": [a, b] }),
        json!({ "type": "sigstoreSigned", "keyData": data(&a) }),
        json!({ "type": "sigstoreSigned", "keyDatas": [data(&a), data(&b)] }),
        json!({ "type": "signedBaseLayer", "baseLayerIdentity": { "type": "matchRepository" } }),
    ] {
        f.load(&json!({ "default": [req] }));
    }
}

// ---------------------------------------------------------------------------------------------
// Judgement
// ---------------------------------------------------------------------------------------------

#[test]
fn sigstore_signed_checks_key_digest_and_identity() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let by_digest = format!("{repo}@{d}");
    let require = |key: &str, identity: Value| {
        f.load(&json!({
            "default": [{ "type": "reject" }],
            "transports": { "docker": { repo.clone(): sigstore(&f.key(key), identity) } },
        }))
    };
    let by_a = || evidence(&repo, &d, vec![layer(0, &f.a, &cosign_payload(&repo, &d))]);
    let match_repo = json!({ "type": "matchRepository" });

    let v = verdict(&require("a.pub", match_repo.clone()), &by_digest, by_a());
    assert_eq!(v.decision, Decision::Allow, "{}", reasons(&v));
    assert_eq!(v.matched_policies[0].name, format!("docker:{repo}"));
    assert_eq!(v.digest.as_deref(), Some(d.to_string().as_str()));
    assert_eq!(
        v.matched_policies[0].requirements[0].evidence[0]
            .signer
            .as_deref(),
        Some(f.key("a.pub").as_str())
    );

    // The wrong key.
    let v = verdict(&require("b.pub", match_repo.clone()), &by_digest, by_a());
    assert_eq!(v.decision, Decision::Deny);
    let checks = failed_checks(&v);
    assert!(
        checks[0].contains("does not verify with the key"),
        "{checks:?}"
    );

    // Either of two keys.
    let both = f.load(&json!({
        "default": [{ "type": "sigstoreSigned", "keyPaths": [f.key("b.pub"), f.key("a.pub")], "signedIdentity": match_repo }],
    }));
    assert_eq!(verdict(&both, &by_digest, by_a()).decision, Decision::Allow);

    // Cosign names the repository only: the default matchRepoDigestOrExact never accepts it.
    let v = verdict(
        &require("a.pub", json!({ "type": "matchRepoDigestOrExact" })),
        &by_digest,
        by_a(),
    );
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        failed_checks(&v)[0].contains("names only a repository"),
        "{v:?}"
    );

    // A signature copied from another image (replay) fails on the digest.
    let other = digest_of("other");
    let replayed = evidence(
        &repo,
        &d,
        vec![layer(0, &f.a, &cosign_payload(&repo, &other))],
    );
    let v = verdict(&require("a.pub", match_repo.clone()), &by_digest, replayed);
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        failed_checks(&v)[0].contains("belongs to another image"),
        "{v:?}"
    );

    // exactRepository names the repository whatever the image is.
    let elsewhere =
        json!({ "type": "exactRepository", "dockerRepository": format!("{REGISTRY}/elsewhere") });
    let v = verdict(&require("a.pub", elsewhere), &by_digest, by_a());
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        failed_checks(&v)[0].contains(&format!("expected the repository {REGISTRY}/elsewhere"))
    );
    let here = json!({ "type": "exactRepository", "dockerRepository": repo });
    assert_eq!(
        verdict(&require("a.pub", here), &by_digest, by_a()).decision,
        Decision::Allow
    );

    // No signatures at all.
    let v = verdict(
        &require("a.pub", match_repo.clone()),
        &by_digest,
        evidence(&repo, &d, vec![]),
    );
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        reasons(&v).contains("no signature exists"),
        "{}",
        reasons(&v)
    );
}

#[test]
fn skopeo_signatures_name_the_tag() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let signed = evidence(
        &repo,
        &d,
        vec![layer(
            0,
            &f.a,
            &skopeo_payload(&format!("{repo}:signed"), &d),
        )],
    );
    let check = |identity: Value, image: &str| {
        let policy = f.load(&json!({
            "default": [{ "type": "sigstoreSigned", "keyPath": f.key("a.pub"), "signedIdentity": identity }],
        }));
        let Signatures::Read(e) = &signed else {
            unreachable!()
        };
        verdict(&policy, image, Signatures::Read(e.clone())).decision
    };
    let digest_ref = format!("{repo}@{d}");
    let rdoe = json!({ "type": "matchRepoDigestOrExact" });
    let exact = json!({ "type": "matchExact" });
    assert_eq!(check(rdoe.clone(), &digest_ref), Decision::Allow);
    assert_eq!(
        check(rdoe.clone(), &format!("{repo}:signed")),
        Decision::Allow
    );
    assert_eq!(check(rdoe, &format!("{repo}:v1")), Decision::Deny);
    assert_eq!(
        check(exact.clone(), &format!("{repo}:signed")),
        Decision::Allow
    );
    assert_eq!(check(exact, &digest_ref), Decision::Deny);
    let remap = json!({ "type": "remapIdentity", "prefix": format!("{REGISTRY}/mirror"), "signedPrefix": repo });
    assert_eq!(
        check(remap.clone(), &format!("{REGISTRY}/mirror:signed")),
        Decision::Allow
    );
    assert_eq!(
        check(remap, &format!("{REGISTRY}/mirror:v1")),
        Decision::Deny
    );
}

#[test]
fn payloads_containers_image_refuses_are_refused() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let policy = f.load(&json!({
        "default": [{ "type": "sigstoreSigned", "keyPath": f.key("a.pub"), "signedIdentity": { "type": "matchRepository" } }],
    }));
    let critical = json!({
        "identity": { "docker-reference": repo },
        "image": { "docker-manifest-digest": d.to_string() },
        "type": "cosign container image signature",
    });
    let mut extra_critical = critical.clone();
    extra_critical["note"] = json!("x");
    for (payload, why) in [
        (json!({ "critical": critical }), "key \"optional\" missing"),
        (
            json!({ "critical": extra_critical, "optional": null }),
            "unknown key \"note\"",
        ),
        (
            json!({ "critical": critical, "optional": { "timestamp": 1.5 } }),
            "timestamp is not an integer",
        ),
        (
            json!({ "critical": critical, "optional": null, "x": 1 }),
            "unknown key \"x\"",
        ),
    ] {
        let bytes = payload.to_string().into_bytes();
        let v = verdict(
            &policy,
            &format!("{repo}@{d}"),
            evidence(&repo, &d, vec![layer(0, &f.a, &bytes)]),
        );
        assert_eq!(v.decision, Decision::Deny, "{payload}");
        assert!(
            failed_checks(&v)[0].contains(why),
            "{payload}: {:?}",
            failed_checks(&v)
        );
    }
    // Unknown optional members are fine.
    let fine = json!({ "critical": critical, "optional": { "anything": [1, 2], "creator": "me" } });
    let v = verdict(
        &policy,
        &format!("{repo}@{d}"),
        evidence(&repo, &d, vec![layer(0, &f.a, fine.to_string().as_bytes())]),
    );
    assert_eq!(v.decision, Decision::Allow, "{}", reasons(&v));
}

#[test]
fn the_most_telling_failure_is_reported() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let policy = f.load(&json!({
        "default": [{ "type": "sigstoreSigned", "keyPath": f.key("a.pub") }],
    }));
    let layers = vec![
        layer(0, &f.b, &cosign_payload(&repo, &d)),
        layer(1, &f.a, &cosign_payload(&repo, &d)),
        layer(2, &f.b, &cosign_payload(&repo, &d)),
    ];
    let v = verdict(&policy, &format!("{repo}@{d}"), evidence(&repo, &d, layers));
    assert_eq!(v.decision, Decision::Deny);
    let reason = reasons(&v);
    assert!(
        reason.contains("none of the 3 signatures was accepted; the closest, signature 2"),
        "{reason}"
    );
    assert!(reason.contains("names only a repository"), "{reason}");
    assert_eq!(failed_checks(&v).len(), 3);
}

#[test]
fn gathering_failures_are_undecided_unless_something_denies() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let img = format!("{repo}@{d}");
    let signed = sigstore(&f.key("a.pub"), json!({ "type": "matchRepository" }));
    let policy = f.load(&json!({ "default": signed }));
    let v = verdict(
        &policy,
        &img,
        Signatures::Failed("connection refused".into()),
    );
    assert_eq!(v.decision, Decision::Undecided);
    assert!(
        v.note
            .as_deref()
            .unwrap_or_default()
            .contains("connection refused")
    );

    // An attachment that cannot be read fails containers/image's whole evaluation.
    let mut unreadable = layer(0, &f.a, &cosign_payload(&repo, &d));
    unreadable.content = Err(signet_verify::Unreadable::Store(std::sync::Arc::new(
        signet_oci::Error::MissingBlob {
            what: "the signature payload".into(),
            location: repo.clone(),
        },
    )));
    let v = verdict(&policy, &img, evidence(&repo, &d, vec![unreadable]));
    assert_eq!(v.decision, Decision::Undecided);
    let note = v.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("could not be read: the signature payload is missing from"),
        "{note}"
    );

    // With a reject next to it, the denial is definite.
    let mut both = signed.as_array().cloned().unwrap_or_default();
    both.push(json!({ "type": "reject" }));
    let policy = f.load(&json!({ "default": both }));
    let v = verdict(
        &policy,
        &img,
        Signatures::Failed("connection refused".into()),
    );
    assert_eq!(v.decision, Decision::Deny);
}

#[test]
fn requirements_are_anded_and_special_ones_decide_alone() {
    let f = Fixture::new();
    let repo = format!("{REGISTRY}/app");
    let d = digest_of("app");
    let img = format!("{repo}@{d}");
    let none = || Signatures::NotRead("unused".into());
    let policy =
        f.load(&json!({ "default": [{ "type": "insecureAcceptAnything" }, { "type": "reject" }] }));
    let v = verdict(&policy, &img, none());
    assert_eq!(v.decision, Decision::Deny);
    assert_eq!(v.matched_policies[0].requirements.len(), 2);
    assert!(v.matched_policies[0].requirements[0].passed);
    let policy = f.load(&json!({
        "default": [{ "type": "signedBaseLayer", "baseLayerIdentity": { "type": "matchRepository" } }],
    }));
    assert_eq!(verdict(&policy, &img, none()).decision, Decision::Deny);
    let policy = f.load(&json!({ "default": [{ "type": "insecureAcceptAnything" }] }));
    let v = verdict(&policy, &img, none());
    assert_eq!(v.decision, Decision::Allow);
    assert_eq!(v.matched_policies[0].name, "default");
}

#[test]
fn registries_d_off_means_no_signatures() {
    let f = Fixture::new();
    let empty = f.path("empty.d");
    std::fs::create_dir(&empty).unwrap_or_else(|e| panic!("{e}"));
    let policy_path = f.write_policy(&json!({
        "default": sigstore(&f.key("a.pub"), json!({ "type": "matchRepository" })),
    }));
    let policy =
        ContainersPolicy::load(&policy_path, Some(&empty)).unwrap_or_else(|e| panic!("{e}"));
    let target =
        Target::of(&image(&format!("{REGISTRY}/app:v1"))).unwrap_or_else(|e| panic!("{e}"));
    let setting = policy
        .registries
        .sigstore_attachments(&target.identity(), &target.namespaces());
    assert!(!setting.enabled);
    let on = ContainersPolicy::load(&policy_path, Some(&f.path("registries.d")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        on.registries
            .sigstore_attachments(&target.identity(), &target.namespaces())
            .enabled
    );
}

#[test]
fn relative_key_paths_are_read_from_the_current_directory() {
    let f = Fixture::new();
    let cwd = std::env::current_dir().unwrap_or_else(|e| panic!("{e}"));
    let relative = pathdiff(&f.path("a.pub"), &cwd);
    f.load(&json!({ "default": [{ "type": "sigstoreSigned", "keyPath": relative }] }));
}

/// `target` relative to `base` (both absolute), with `..` as needed.
fn pathdiff(target: &Path, base: &Path) -> String {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}

#[test]
fn parse_takes_the_bytes_load_reads() {
    let f = Fixture::new();
    let policy = json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": { REGISTRY: sigstore(&f.key("a.pub"), json!({ "type": "matchRepository" })) } },
    });
    let img = format!("{REGISTRY}/app:v1");
    let loaded = f.load(&policy);
    let parsed =
        ContainersPolicy::parse(policy.to_string().as_bytes(), Some(&f.path("registries.d")))
            .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(scope(&parsed, &img), scope(&loaded, &img));
    assert_eq!(scope(&parsed, &img), format!("docker:{REGISTRY}"));
    assert!(matches!(
        ContainersPolicy::parse(b"{\"default\": [", None),
        Err(ContainersPolicyError::Syntax { .. })
    ));
}
