//! containers/image `policy.json`, differentially: for every (image, policy) pair, skopeo 1.18
//! (`skopeo --policy P --registries.d D copy docker://IMAGE dir:OUT`, allowed = exit 0) and
//! `signet verify --policy P --registries.d D IMAGE` (allowed = 0, denied = 1, never 2 here)
//! must give the same verdict. The matrix is printed so it can be quoted:
//! `cargo test --test e2e policy_json -- --nocapture`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::common::{PASSWORD, Scratch, sha256, stderr, stdout};
use crate::util::{
    OCI_MANIFEST, Registry, Skopeo, accept_anything_policy, fetch_manifest, make_sample_image,
    push_manifest, skopeo,
};

/// An image under test: how signet names it, how skopeo names it, and a short label.
struct Image {
    label: &'static str,
    signet: String,
    skopeo: String,
}

/// A policy under test: policy.json and the registries.d it is read with.
struct Policy {
    label: &'static str,
    file: PathBuf,
    registries_d: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    fn letter(self) -> char {
        match self {
            Verdict::Allow => 'A',
            Verdict::Deny => 'D',
        }
    }
}

struct World {
    _registry: Registry,
    s: Scratch,
    host: String,
    images: Vec<Image>,
    policies: Vec<Policy>,
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

fn skopeo_signs(signer: &Skopeo, source: &str, destination: &str, key: &Path) {
    signer.set_policy(&accept_anything_policy());
    let pass = signer.dir().join("passphrase");
    std::fs::write(&pass, PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    let out = signer.copy(&[
        "--sign-by-sigstore-private-key",
        key.to_str().expect("a UTF-8 key path"),
        "--sign-passphrase-file",
        pass.to_str().expect("a UTF-8 passphrase path"),
        &format!("docker://{source}"),
        &format!("docker://{destination}"),
    ]);
    assert!(
        out.status.success(),
        "skopeo failed to sign: {}",
        stderr(&out)
    );
}

fn skopeo_copies(signer: &Skopeo, source: &str, destination: &str) {
    signer.set_policy(&accept_anything_policy());
    let out = signer.copy(&[source, destination]);
    assert!(out.status.success(), "skopeo copy failed: {}", stderr(&out));
}

/// `[{sigstoreSigned, keyPath|keyPaths, signedIdentity?}]`
fn sigstore(keys: &[&Path], identity: Option<Value>) -> Value {
    let text = |p: &&Path| Value::from(p.to_str().expect("a UTF-8 key path"));
    let mut requirement = json!({ "type": "sigstoreSigned" });
    match keys {
        [one] => requirement["keyPath"] = text(one),
        several => requirement["keyPaths"] = several.iter().map(text).collect(),
    }
    if let Some(identity) = identity {
        requirement["signedIdentity"] = identity;
    }
    json!([requirement])
}

fn reject() -> Value {
    json!([{ "type": "reject" }])
}

fn accept() -> Value {
    json!([{ "type": "insecureAcceptAnything" }])
}

impl World {
    fn build() -> World {
        let registry = Registry::start();
        let host = registry.host();
        let s = Scratch::new();
        let signer = Skopeo::new(&host, accept_anything_policy());
        let (key_a, pub_a) = s.key_pair("a");
        let (key_b, pub_b) = s.key_pair("b");
        let sign = |key: &Path, image: &str| {
            s.signet()
                .args(["sign", "--tlog-upload=false", "--key"])
                .arg(key)
                .arg(image)
                .assert_success();
        };
        let push = |repo: &str, tag: &str| {
            let digest = make_sample_image(&host, repo, tag, sha256);
            (format!("{host}/{repo}@{digest}"), digest)
        };
        let mut images = Vec::new();
        let mut add = |label, reference: String| {
            images.push(Image {
                label,
                skopeo: format!("docker://{reference}"),
                signet: reference,
            });
        };

        let (a, a_digest) = push("app", "a");
        sign(&key_a, &a);
        add("app by A", a);
        let (b, _) = push("app", "b");
        sign(&key_b, &b);
        add("app by B", b);
        let (ab, _) = push("app", "ab");
        sign(&key_a, &ab);
        sign(&key_b, &ab);
        add("app by A+B", ab);
        let (none, _) = push("app", "none");
        add("app unsigned", none);
        // Replay: A's signature manifest for app:a, copied to another image's signature tag.
        let (replay, replay_digest) = push("app", "replay");
        let sig = fetch_manifest(&host, "app", &sig_tag(&a_digest));
        assert_eq!(sig.status, 200, "no signature manifest for app:a");
        let media_type = sig
            .header("content-type")
            .unwrap_or(OCI_MANIFEST)
            .to_owned();
        push_manifest(
            &host,
            "app",
            &sig_tag(&replay_digest),
            &media_type,
            &sig.body,
        );
        add("app replayed A sig", replay);
        // skopeo signs with A: the identity names the destination tag, app:skopeo.
        let (source, skopeo_digest) = push("app", "sk-src");
        skopeo_signs(&signer, &source, &format!("{host}/app:skopeo"), &key_a);
        add(
            "app by skopeo(A) @digest",
            format!("{host}/app@{skopeo_digest}"),
        );
        add("app:skopeo by skopeo(A)", format!("{host}/app:skopeo"));
        // The same image and signature copied to another repository (remapIdentity).
        skopeo_copies(
            &signer,
            &format!("docker://{host}/app:skopeo"),
            &format!("docker://{host}/mirror:skopeo"),
        );
        add(
            "mirror:skopeo (skopeo A sig)",
            format!("{host}/mirror:skopeo"),
        );
        add("mirror @digest", format!("{host}/mirror@{skopeo_digest}"));
        // Another repository, signed by A with signet (scope precedence).
        let (tool, _) = push("lib/tool", "a");
        sign(&key_a, &tool);
        add("lib/tool by A", tool);
        // An OCI layout, signed by signet inside the layout: containers/image reads no
        // signatures from layouts, so sigstoreSigned can never pass for it.
        let layout = s.path("layout");
        skopeo_copies(
            &signer,
            &format!("docker://{host}/app:none"),
            &format!("oci:{}:v1", layout.display()),
        );
        let layout_ref = format!("oci:{}:v1", layout.display());
        sign(&key_a, &layout_ref);
        images.push(Image {
            label: "oci layout by A",
            signet: layout_ref.clone(),
            skopeo: layout_ref,
        });

        // registries.d variants.
        let rd = |name: &str, yaml: Option<String>| {
            let dir = s.path(name);
            std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
            if let Some(yaml) = yaml {
                std::fs::write(dir.join("default.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"));
            }
            dir
        };
        let on = rd(
            "registries.on",
            Some(format!(
                "docker:\n  {host}:\n    use-sigstore-attachments: true\n"
            )),
        );
        let empty = rd("registries.empty", None);
        let mixed = rd(
            "registries.mixed",
            Some(format!(
                "default-docker:\n  use-sigstore-attachments: true\n\
                 docker:\n  {host}/lib:\n    use-sigstore-attachments: false\n"
            )),
        );

        let app = format!("{host}/app");
        let repo_id = Some(json!({ "type": "matchRepository" }));
        let layout_abs = std::fs::canonicalize(&layout)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string_lossy()
            .into_owned();
        let policies_json: Vec<(&'static str, Value, &PathBuf)> = vec![
            (
                "reqA",
                json!({ "default": reject(), "transports": { "docker": { app.clone(): sigstore(&[&pub_a], repo_id.clone()) } } }),
                &on,
            ),
            (
                "reqB",
                json!({ "default": reject(), "transports": { "docker": { app.clone(): sigstore(&[&pub_b], repo_id.clone()) } } }),
                &on,
            ),
            (
                "keysAB",
                json!({ "default": reject(), "transports": { "docker": { app.clone(): sigstore(&[&pub_a, &pub_b], repo_id.clone()) } } }),
                &on,
            ),
            ("dfltRej", json!({ "default": reject() }), &on),
            ("dfltAcc", json!({ "default": accept() }), &on),
            (
                // The repository scope (A) overrides the registry scope (B).
                "override",
                json!({ "default": reject(), "transports": { "docker": {
                    host.clone(): sigstore(&[&pub_b], repo_id.clone()),
                    app.clone(): sigstore(&[&pub_a], repo_id.clone()),
                } } }),
                &on,
            ),
            (
                // 127.0.0.1:PORT has the wildcard namespaces *.0.0.1, *.0.1, *.1.
                "wildcard",
                json!({ "default": reject(), "transports": { "docker": {
                    "*.0.0.1": accept(),
                    app.clone(): sigstore(&[&pub_a], repo_id.clone()),
                } } }),
                &on,
            ),
            (
                // signedIdentity omitted: matchRepoDigestOrExact.
                "repoDigOrEx",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], None) } } }),
                &on,
            ),
            (
                "exactRepo",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], Some(json!({ "type": "exactRepository", "dockerRepository": app }))) } } }),
                &on,
            ),
            (
                "matchExact",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], Some(json!({ "type": "matchExact" }))) } } }),
                &on,
            ),
            (
                "remap",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], Some(json!({
                    "type": "remapIdentity", "prefix": format!("{host}/mirror"), "signedPrefix": app,
                }))) } } }),
                &on,
            ),
            (
                // No registries.d settings: sigstore attachments are not read at all.
                "noRegD",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], repo_id.clone()) } } }),
                &empty,
            ),
            (
                // default-docker on, host/lib off: lib/tool's signature is not read.
                "regDMixed",
                json!({ "default": reject(), "transports": { "docker": { host.clone(): sigstore(&[&pub_a], repo_id.clone()) } } }),
                &mixed,
            ),
            (
                "ociScope",
                json!({ "default": reject(), "transports": { "oci": { layout_abs: accept() } } }),
                &on,
            ),
            (
                "ociSigned",
                json!({ "default": accept(), "transports": { "oci": { "": sigstore(&[&pub_a], repo_id.clone()) } } }),
                &on,
            ),
        ];
        let policies = policies_json
            .into_iter()
            .map(|(label, policy, registries_d)| {
                let file = s.write(&format!("{label}.json"), policy.to_string().as_bytes());
                Policy {
                    label,
                    file,
                    registries_d: registries_d.clone(),
                }
            })
            .collect();
        World {
            _registry: registry,
            s,
            host,
            images,
            policies,
        }
    }

    fn skopeo_verdict(&self, image: &Image, policy: &Policy, run: usize) -> (Verdict, Output) {
        let out_dir = self.s.path(&format!("out-{run}"));
        let out = Command::new(skopeo())
            .arg("--policy")
            .arg(&policy.file)
            .arg("--registries.d")
            .arg(&policy.registries_d)
            .args(["copy", "--src-tls-verify=false", &image.skopeo])
            .arg(format!("dir:{}", out_dir.display()))
            .current_dir(self.s.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run skopeo: {e}"));
        let _ = std::fs::remove_dir_all(&out_dir);
        let verdict = if out.status.success() {
            Verdict::Allow
        } else {
            Verdict::Deny
        };
        (verdict, out)
    }

    fn signet_verdict(&self, image: &Image, policy: &Policy) -> (Verdict, Output) {
        let out = self
            .s
            .signet()
            .args(["verify", "--policy"])
            .arg(&policy.file)
            .arg("--registries.d")
            .arg(&policy.registries_d)
            .arg(&image.signet)
            .output();
        let verdict = match out.status.code() {
            Some(0) => Verdict::Allow,
            Some(1) => Verdict::Deny,
            other => panic!(
                "signet verify --policy {} {} exited with {other:?} (only 0 or 1 expected here)\n\
                 stdout: {}\nstderr: {}",
                policy.label,
                image.signet,
                stdout(&out),
                stderr(&out)
            ),
        };
        (verdict, out)
    }
}

#[test]
fn signet_and_skopeo_agree_on_every_image_and_policy() {
    let world = World::build();
    let mut verdicts = Vec::new();
    let mut disagreements = String::new();
    let mut run = 0;
    for image in &world.images {
        let mut row = Vec::new();
        for policy in &world.policies {
            run += 1;
            let (skopeo, skopeo_out) = world.skopeo_verdict(image, policy, run);
            let (signet, signet_out) = world.signet_verdict(image, policy);
            if skopeo != signet {
                let _ = writeln!(
                    disagreements,
                    "{} under {}: skopeo {skopeo:?}, signet {signet:?}\n  skopeo: {}\n  signet: {}{}",
                    image.label,
                    policy.label,
                    stderr(&skopeo_out).trim(),
                    stdout(&signet_out).trim(),
                    stderr(&signet_out).trim(),
                );
            }
            row.push((skopeo, signet));
        }
        verdicts.push(row);
    }

    // The matrix, skopeo/signet per cell (A allow, D deny).
    let label_width = world
        .images
        .iter()
        .map(|i| i.label.len())
        .max()
        .unwrap_or(0);
    let mut table = format!(
        "containers/image policy.json: skopeo 1.18 / signet verdicts (A = allow, D = deny), registry {}\n",
        world.host
    );
    let _ = write!(table, "{:label_width$}", "image \\ policy");
    for policy in &world.policies {
        let _ = write!(table, " | {:^11}", policy.label);
    }
    table.push('\n');
    for (image, row) in world.images.iter().zip(&verdicts) {
        let _ = write!(table, "{:label_width$}", image.label);
        for (skopeo, signet) in row {
            let mark = if skopeo == signet { ' ' } else { '!' };
            let cell = format!("{}/{}{mark}", skopeo.letter(), signet.letter());
            let _ = write!(table, " | {cell:^11}");
        }
        table.push('\n');
    }
    println!("{table}");

    assert!(
        disagreements.is_empty(),
        "skopeo and signet disagree:\n{disagreements}\n{table}"
    );
    // The matrix proves something only if both verdicts occur, in the expected places.
    let cell = |image: &str, policy: &str| {
        let i = world.images.iter().position(|x| x.label == image);
        let p = world.policies.iter().position(|x| x.label == policy);
        match (i, p) {
            (Some(i), Some(p)) => verdicts[i][p].1,
            _ => panic!("no cell {image} × {policy}"),
        }
    };
    for (image, policy, expected) in [
        ("app by A", "reqA", Verdict::Allow),
        ("app by B", "reqA", Verdict::Deny),
        ("app by A+B", "reqB", Verdict::Allow),
        ("app unsigned", "keysAB", Verdict::Deny),
        ("app replayed A sig", "reqA", Verdict::Deny),
        ("app by A", "repoDigOrEx", Verdict::Deny),
        ("app by skopeo(A) @digest", "repoDigOrEx", Verdict::Allow),
        ("app:skopeo by skopeo(A)", "matchExact", Verdict::Allow),
        ("app by skopeo(A) @digest", "matchExact", Verdict::Deny),
        ("mirror @digest", "remap", Verdict::Allow),
        ("lib/tool by A", "override", Verdict::Deny),
        ("lib/tool by A", "wildcard", Verdict::Allow),
        ("app by A", "noRegD", Verdict::Deny),
        ("lib/tool by A", "regDMixed", Verdict::Deny),
        ("app by A", "regDMixed", Verdict::Allow),
        ("oci layout by A", "ociScope", Verdict::Allow),
        ("oci layout by A", "ociSigned", Verdict::Deny),
    ] {
        assert_eq!(cell(image, policy), expected, "{image} × {policy}\n{table}");
    }
}

#[test]
fn an_unreachable_registry_is_undecided_not_denied() {
    let s = Scratch::new();
    let (_, public) = s.key_pair("a");
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let host = format!("127.0.0.1:{port}");
    let registries_d = s.path("registries.d");
    std::fs::create_dir(&registries_d).unwrap_or_else(|e| panic!("{e}"));
    s.write(
        "registries.d/default.yaml",
        format!("docker:\n  {host}:\n    use-sigstore-attachments: true\n").as_bytes(),
    );
    let policy = s.write(
        "policy.json",
        json!({ "default": sigstore(&[&public], Some(json!({ "type": "matchRepository" }))) })
            .to_string()
            .as_bytes(),
    );
    let image = format!("{host}/app@{}", sha256(b"nothing here"));
    let out = s
        .signet()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .arg("--registries.d")
        .arg(&registries_d)
        .arg(&image)
        .assert_exit(2);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["images"][0]["decision"], "undecided", "{report}");
    assert!(
        report["images"][0]["note"]
            .as_str()
            .is_some_and(|n| n.contains("could not read the signatures")),
        "{report}"
    );
}

#[test]
fn signed_by_gpg_is_refused_with_a_clear_error() {
    let s = Scratch::new();
    let policy = s.write(
        "policy.json",
        json!({
            "default": reject(),
            "transports": { "docker": { "registry.access.redhat.com": [{
                "type": "signedBy",
                "keyType": "GPGKeys",
                "keyPath": "/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release",
            }] } },
        })
        .to_string()
        .as_bytes(),
    );
    let out = s
        .signet()
        .args(["verify", "--policy"])
        .arg(&policy)
        .arg("registry.access.redhat.com/ubi9@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec")
        .output();
    assert!(!out.status.success(), "a signedBy policy was accepted");
    let err = stderr(&out);
    assert!(
        err.contains(
            "transports.docker[\"registry.access.redhat.com\"][0]: signedBy (GPG) is not supported by signet"
        ),
        "{err}"
    );
}
