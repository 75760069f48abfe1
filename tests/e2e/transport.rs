//! Moving signed images: `copy` (registry ↔ registry, registry ↔ layout), and `save` / `load`
//! in Cosign's layout format, on real docker-registries, with skopeo 1.18 checking the copied
//! signatures under `sigstoreSigned`, and Cosign v3 bundles made with the local Sigstore mock.
//!
//! Cosign's layout format is read from Cosign's source (`pkg/oci/layout` at the snapshot named
//! in ../shared/testdata/cosign/README.md): `index.json` entries marked with a `kind`
//! annotation, the saved image's first, its signature and attestation manifests after, every
//! blob under `blobs/sha256`, referrers as unlisted blobs. There is no cosign binary here, so
//! [`cosign_layout_reader`] reads a layout as Cosign's `layout.SignedImageIndex` does, and
//! [`write_cosign_layout`] writes one as Cosign's `WriteSignedImage` does.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr, stdout};
use crate::keyless::{IDENTITY, ISSUER, SigstoreMock, token};
use crate::util::{
    Registry, Skopeo, accept_anything_policy, fetch_manifest, http_get, make_sample_image,
    sigstore_policy,
};

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// skopeo copies `image` out of its registry under a policy requiring a Cosign signature by
/// `key` for the repository `signed_repository`. A copy keeps its signatures byte for byte, so
/// they still name the repository they were made for; containers/image's policy for a mirror
/// says which (`exactRepository`).
fn skopeo_accepts(
    host: &str,
    image: &str,
    key: &Path,
    signed_repository: &str,
) -> std::process::Output {
    let skopeo = Skopeo::new(host, accept_anything_policy());
    skopeo.set_policy(&sigstore_policy(
        host,
        &[key],
        json!({"type": "exactRepository", "dockerRepository": signed_repository}),
    ));
    let dest = format!("dir:{}", skopeo.dir().join("out").display());
    skopeo.copy(&[&format!("docker://{image}"), &dest])
}

fn manifest_json(host: &str, repo: &str, reference: &str) -> Option<Value> {
    let response = fetch_manifest(host, repo, reference);
    (response.status == 200).then(|| serde_json::from_slice(&response.body).unwrap_or(Value::Null))
}

fn manifest_digest(host: &str, repo: &str, reference: &str) -> Option<String> {
    let response = fetch_manifest(host, repo, reference);
    (response.status == 200).then(|| sha256(&response.body))
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// An image in `registry`, signed by `key` (legacy `.sig`), attested by it (`.att`, a custom
/// predicate), with an SBOM (`.sbom`). Returns its digest.
fn signed_image(s: &Scratch, registry: &Registry, repo: &str, key: &Path) -> String {
    let digest = make_sample_image(&registry.host(), repo, "v1", sha256);
    let image = format!("{}/{repo}@{digest}", registry.host());
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(key)
        .arg(&image)
        .assert_success();
    let predicate = s.write("predicate.json", br#"{"built":"yes"}"#);
    s.signet()
        .args(["attest", "--tlog-upload=false", "--key"])
        .arg(key)
        .arg("--predicate")
        .arg(&predicate)
        .arg(&image)
        .assert_success();
    let sbom = s.write(
        "sbom.spdx.json",
        br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#,
    );
    s.signet()
        .args(["attach", "sbom", "--sbom"])
        .arg(&sbom)
        .arg(&image)
        .assert_success();
    digest
}

fn verify_key(s: &Scratch, public: &Path, image: &str, code: i32) -> std::process::Output {
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(public)
        .arg(image)
        .assert_exit(code)
}

fn verify_attestation_key(s: &Scratch, public: &Path, image: &str, code: i32) {
    s.signet()
        .args(["verify-attestation", "--insecure-ignore-tlog=true", "--key"])
        .arg(public)
        .arg(image)
        .assert_exit(code);
}

#[test]
fn copy_between_registries_carries_signatures_attestations_sboms_and_bundles() {
    let mock = SigstoreMock::start();
    let (source, mirror) = (Registry::start(), Registry::start());
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let digest = signed_image(&s, &source, "app", &key);
    let image = format!("{}/app@{digest}", source.host());
    let root = mock.out("trusted_root.json");
    s.signet()
        .args(["sign", "--new-bundle-format", "--identity-token", &token()])
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();

    let out = s
        .signet()
        .arg("copy")
        .arg(&image)
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_success();
    assert!(stderr(&out).contains("referrers: 1"), "{}", stderr(&out));
    let copied = format!("{}/mirror@{digest}", mirror.host());
    assert_eq!(
        manifest_digest(&mirror.host(), "mirror", "v1").as_deref(),
        Some(digest.as_str()),
        "the tag names the image copied"
    );
    // The same manifests, byte for byte: the signatures still cover them.
    for tag in [sig_tag(&digest), sig_tag(&digest).replace(".sig", ".att")] {
        assert_eq!(
            manifest_digest(&mirror.host(), "mirror", &tag),
            manifest_digest(&source.host(), "app", &tag),
            "{tag}"
        );
    }
    verify_key(&s, &public, &copied, 0);
    verify_attestation_key(&s, &public, &copied, 0);
    let sbom = s
        .signet()
        .args(["download", "sbom"])
        .arg(&copied)
        .assert_success();
    assert!(stdout(&sbom).contains("SPDX-2.3"), "{}", stdout(&sbom));
    // The Cosign v3 bundle: a referrer listed under the referrers tag schema of the mirror
    // (docker-registry has no referrers API), verifying there for the image's digest.
    let index = manifest_json(&mirror.host(), "mirror", &digest.replace(':', "-"))
        .expect("the mirror's referrers tag schema index");
    assert_eq!(
        index["manifests"].as_array().map(Vec::len),
        Some(1),
        "{index}"
    );
    s.signet()
        .args(["verify", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
        .arg(&root)
        .arg(&copied)
        .assert_success();
    // skopeo reads the copied signatures under sigstoreSigned: they are the source's, made for
    // the source repository, by the release key.
    let signed_for = format!("{}/app", source.host());
    let out = skopeo_accepts(&mirror.host(), &copied, &public, &signed_for);
    assert!(
        out.status.success(),
        "skopeo refused the copied signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, stranger) = s.key_pair("stranger");
    let out = skopeo_accepts(&mirror.host(), &copied, &stranger, &signed_for);
    assert!(
        !out.status.success(),
        "skopeo accepted the copy under the wrong key"
    );
    let mirror_repository = format!("{}/mirror", mirror.host());
    let out = skopeo_accepts(&mirror.host(), &copied, &public, &mirror_repository);
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert!(
        refusal.contains("Signature for identity") && refusal.contains(&signed_for),
        "skopeo did not read the copied signature's identity: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Copying again finds everything there.
    let out = s
        .signet()
        .arg("copy")
        .arg(&image)
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_success();
    assert!(
        stderr(&out).contains("0 blob(s) written"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn copy_refuses_to_move_a_tag_holding_other_content_unless_forced() {
    let (source, mirror) = (Registry::start(), Registry::start());
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let (second, second_public) = s.key_pair("second");
    let digest = signed_image(&s, &source, "app", &key);
    let image = format!("{}/app@{digest}", source.host());
    let target = format!("{}/mirror:v1", mirror.host());
    s.signet()
        .arg("copy")
        .arg(&image)
        .arg(&target)
        .assert_success();
    // A second signature at the source: its .sig manifest is now another one.
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&second)
        .arg(&image)
        .assert_success();
    let before = manifest_digest(&mirror.host(), "mirror", &sig_tag(&digest));
    let out = s
        .signet()
        .arg("copy")
        .arg(&image)
        .arg(&target)
        .assert_exit(1);
    assert!(stderr(&out).contains("already holds"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        manifest_digest(&mirror.host(), "mirror", &sig_tag(&digest)),
        before,
        "a refused copy wrote the signature tag"
    );
    let copied = format!("{}/mirror@{digest}", mirror.host());
    verify_key(&s, &second_public, &copied, 1);
    s.signet()
        .args(["copy", "--force"])
        .arg(&image)
        .arg(&target)
        .assert_success();
    verify_key(&s, &public, &copied, 0);
    verify_key(&s, &second_public, &copied, 0);
}

#[test]
fn copy_only_signatures_copies_no_image_and_moves_no_tag() {
    let (source, mirror) = (Registry::start(), Registry::start());
    let s = Scratch::new();
    let (key, _) = s.key_pair("release");
    let digest = signed_image(&s, &source, "app", &key);
    let out = s
        .signet()
        .args(["copy", "--only", "sig"])
        .arg(format!("{}/app@{digest}", source.host()))
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_success();
    assert!(stderr(&out).contains("no tag moved"), "{}", stderr(&out));
    assert!(manifest_json(&mirror.host(), "mirror", &sig_tag(&digest)).is_some());
    for absent in [
        digest.clone(),
        "v1".to_owned(),
        sig_tag(&digest).replace(".sig", ".att"),
    ] {
        assert_eq!(
            fetch_manifest(&mirror.host(), "mirror", &absent).status,
            404,
            "{absent} was copied"
        );
    }
    let out = s
        .signet()
        .args(["copy", "--only", "sig,bogus"])
        .arg(format!("{}/app@{digest}", source.host()))
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_exit(2);
    assert!(stderr(&out).contains("bogus"), "{}", stderr(&out));
}

#[test]
fn copy_into_a_layout_and_out_again_keeps_every_signature() {
    let (source, mirror) = (Registry::start(), Registry::start());
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let digest = signed_image(&s, &source, "app", &key);
    s.signet()
        .arg("copy")
        .arg(format!("{}/app:v1", source.host()))
        .arg("oci:store:v1")
        .assert_success();
    verify_key(&s, &public, &format!("oci:store@{digest}"), 0);
    verify_attestation_key(&s, &public, "oci:store:v1", 0);
    s.signet()
        .arg("copy")
        .arg("oci:store:v1")
        .arg(format!("{}/back:v2", mirror.host()))
        .assert_success();
    let back = format!("{}/back@{digest}", mirror.host());
    verify_key(&s, &public, &back, 0);
    let out = skopeo_accepts(
        &mirror.host(),
        &back,
        &public,
        &format!("{}/app", source.host()),
    );
    assert!(
        out.status.success(),
        "skopeo refused a signature copied through a layout: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_copy_that_fails_half_way_moves_no_tag() {
    let mirror = Registry::start();
    let source = Registry::start();
    let s = Scratch::new();
    let (key, _) = s.key_pair("release");
    let digest = signed_image(&s, &source, "app", &key);
    s.signet()
        .arg("copy")
        .arg(format!("{}/app@{digest}", source.host()))
        .arg("oci:broken:v1")
        .assert_success();
    // Lose the image's layer from the layout: a copy out of it must stop before any manifest
    // that needs the layer, and before any tag.
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(s.path(&format!("broken/blobs/sha256/{}", &digest[7..])))
            .unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    let layer = manifest["layers"][0]["digest"].as_str().unwrap_or_default();
    std::fs::remove_file(s.path(&format!("broken/blobs/sha256/{}", &layer[7..])))
        .unwrap_or_else(|e| panic!("removing the layer: {e}"));
    let out = s
        .signet()
        .arg("copy")
        .arg("oci:broken:v1")
        .arg(format!("{}/mirror:v1", mirror.host()))
        .assert_exit(1);
    assert!(stderr(&out).contains("is missing"), "{}", stderr(&out));
    for reference in ["v1".to_owned(), digest.clone(), sig_tag(&digest)] {
        assert_eq!(
            fetch_manifest(&mirror.host(), "mirror", &reference).status,
            404,
            "{reference} was written by a copy that failed"
        );
    }
}

/// A layout as Cosign's `layout.SignedImageIndex` reads it: the first `index.json` entry of
/// each `kind`, its manifest blob, and (`sigs.Get`) every layer of the signature manifest,
/// at most 1000, each a blob with the descriptor's annotations. Returns the image digest
/// and, per kind, the layers found.
fn cosign_layout_reader(dir: &Path) -> (String, Vec<(String, Vec<Value>)>) {
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let index: Value = serde_json::from_slice(&read(dir.join("index.json"))).expect("index.json");
    let layout: Value = serde_json::from_slice(&read(dir.join("oci-layout"))).expect("oci-layout");
    assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let first = |kind: &str| {
        entries
            .iter()
            .find(|m| m["annotations"]["kind"] == kind)
            .cloned()
    };
    let image = first("dev.cosignproject.cosign/imageIndex")
        .or_else(|| first("dev.cosignproject.cosign/image"))
        .expect("an entry of kind image or imageIndex");
    let blob = |digest: &str| {
        let bytes = read(dir.join("blobs/sha256").join(&digest[7..]));
        assert_eq!(
            sha256(&bytes),
            digest,
            "blob {digest} does not match its name"
        );
        bytes
    };
    blob(image["digest"].as_str().expect("digest"));
    let mut kinds = Vec::new();
    for kind in [
        "dev.cosignproject.cosign/sigs",
        "dev.cosignproject.cosign/atts",
    ] {
        let Some(entry) = first(kind) else { continue };
        let manifest: Value =
            serde_json::from_slice(&blob(entry["digest"].as_str().expect("digest")))
                .expect("a manifest");
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        assert!(layers.len() <= 1000);
        for layer in &layers {
            blob(layer["digest"].as_str().expect("layer digest"));
        }
        kinds.push((kind.to_owned(), layers));
    }
    (
        image["digest"].as_str().unwrap_or_default().to_owned(),
        kinds,
    )
}

#[test]
fn save_writes_cosigns_layout_which_signet_reads_and_load_pushes_back() {
    let mock = SigstoreMock::start();
    let (source, target) = (Registry::start(), Registry::start());
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let digest = signed_image(&s, &source, "app", &key);
    let image = format!("{}/app@{digest}", source.host());
    let root = mock.out("trusted_root.json");
    s.signet()
        .args(["sign", "--new-bundle-format", "--identity-token", &token()])
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();

    s.signet()
        .arg("save")
        .arg(&image)
        .args(["--dir", "saved"])
        .assert_success();
    // What Cosign's loader finds: the image, its signature layer (with the signature
    // annotation) and its attestation layer.
    let (saved, kinds) = cosign_layout_reader(&s.path("saved"));
    assert_eq!(saved, digest);
    let sigs = &kinds[0].1;
    assert_eq!(kinds[0].0, "dev.cosignproject.cosign/sigs");
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0]["mediaType"], SIMPLE_SIGNING);
    assert!(sigs[0]["annotations"]["dev.cosignproject.cosign/signature"].is_string());
    assert_eq!(kinds[1].0, "dev.cosignproject.cosign/atts");
    // The referrer bundle: a blob whose subject is the image (Cosign's loader scans for it).
    let referrer = std::fs::read_dir(s.path("saved/blobs/sha256"))
        .expect("blobs")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Value>(&b).ok())
        .find(|m| m["subject"]["digest"] == digest.as_str());
    let referrer = referrer.expect("the referrer manifest among the blobs");
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );

    // signet reads the saved layout: verify, verify-attestation, tree, download.
    verify_key(&s, &public, "oci:saved", 0);
    verify_attestation_key(&s, &public, "oci:saved", 0);
    s.signet()
        .args(["verify", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
        .arg(&root)
        .arg("oci:saved")
        .assert_success();
    let tree = s.signet().args(["tree", "oci:saved"]).assert_success();
    assert!(stdout(&tree).contains("🔐 Signatures"), "{}", stdout(&tree));
    assert!(
        stdout(&tree).contains("https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer"),
        "{}",
        stdout(&tree)
    );
    let download = s
        .signet()
        .args(["download", "signature", "oci:saved"])
        .assert_success();
    assert_eq!(
        stdout(&download).lines().count(),
        1,
        "{}",
        stdout(&download)
    );

    // load pushes it all to another registry.
    s.signet()
        .args(["load", "--dir", "saved"])
        .arg(format!("{}/loaded:v1", target.host()))
        .assert_success();
    let loaded = format!("{}/loaded@{digest}", target.host());
    verify_key(&s, &public, &loaded, 0);
    verify_attestation_key(&s, &public, &loaded, 0);
    s.signet()
        .args(["verify", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
        .arg(&root)
        .arg(&loaded)
        .assert_success();
    let out = skopeo_accepts(
        &target.host(),
        &loaded,
        &public,
        &format!("{}/app", source.host()),
    );
    assert!(
        out.status.success(),
        "skopeo refused a loaded signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A second save into the same directory replaces it, as Cosign's does; a directory
    // holding some other layout is refused, naming why.
    s.signet()
        .arg("save")
        .arg(&image)
        .args(["--dir", "saved"])
        .assert_success();
    s.signet()
        .arg("copy")
        .arg(&image)
        .arg("oci:other:v1")
        .assert_success();
    let out = s
        .signet()
        .arg("save")
        .arg(&image)
        .args(["--dir", "other"])
        .assert_exit(1);
    assert!(
        stderr(&out).contains("that no save wrote"),
        "{}",
        stderr(&out)
    );
}

/// Writes `image` of `registry` with its `.sig` manifest into `dir` exactly as Cosign's
/// `WriteSignedImage` does: `layout.Write(path, empty.Index)` (`oci-layout` as
/// go-containerregistry writes it, an empty index), then `AppendImage` with the `kind`
/// annotation for the image and for the signatures, `index.json` indented with three spaces.
/// Each referrer of `referrers` goes in as blobs only, unlisted, as Cosign's save leaves them.
fn write_cosign_layout(dir: &Path, host: &str, repo: &str, digest: &str, referrers: &[&str]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap_or_else(|e| panic!("{e}"));
    let put = |bytes: &[u8]| {
        let digest = sha256(bytes);
        std::fs::write(blobs.join(&digest[7..]), bytes).unwrap_or_else(|e| panic!("{e}"));
    };
    let blob = |digest: &str| -> Vec<u8> {
        let response =
            http_get(host, &format!("/v2/{repo}/blobs/{digest}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status, 200, "blob {digest}");
        response.body
    };
    let copy_image = |reference: &str| -> (Vec<u8>, String) {
        let response = fetch_manifest(host, repo, reference);
        assert_eq!(response.status, 200, "manifest {reference}");
        let manifest: Value = serde_json::from_slice(&response.body).expect("manifest JSON");
        if let Some(config) = manifest["config"]["digest"].as_str() {
            put(&blob(config));
        }
        for layer in manifest["layers"].as_array().cloned().unwrap_or_default() {
            put(&blob(layer["digest"].as_str().expect("layer digest")));
        }
        put(&response.body);
        let media_type = manifest["mediaType"]
            .as_str()
            .unwrap_or("application/vnd.oci.image.manifest.v1+json")
            .to_owned();
        (response.body, media_type)
    };
    let descriptor = |bytes: &[u8], media_type: &str, kind: &str| {
        json!({"mediaType": media_type, "size": bytes.len(), "digest": sha256(bytes),
               "annotations": {"kind": kind}})
    };
    let (image, image_type) = copy_image(digest);
    let (sigs, sigs_type) = copy_image(&sig_tag(digest));
    for referrer in referrers {
        copy_image(referrer);
    }
    std::fs::write(
        dir.join("oci-layout"),
        "{\n    \"imageLayoutVersion\": \"1.0.0\"\n}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            descriptor(&image, &image_type, "dev.cosignproject.cosign/image"),
            descriptor(&sigs, &sigs_type, "dev.cosignproject.cosign/sigs"),
        ],
    });
    // go's json.MarshalIndent(index, "", "   "): serde_json's two-space indentation, widened.
    let text: Vec<String> = serde_json::to_string_pretty(&index)
        .expect("index.json")
        .lines()
        .map(|line| {
            let depth = (line.len() - line.trim_start().len()) / 2;
            format!("{}{}", "   ".repeat(depth), line.trim_start())
        })
        .collect();
    std::fs::write(dir.join("index.json"), text.join("\n")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn signet_reads_a_layout_as_cosign_save_writes_it_with_skopeos_signature() {
    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let digest = make_sample_image(&registry.host(), "app", "v1", sha256);
    let image = format!("{}/app@{digest}", registry.host());
    // The signature is skopeo's, not signet's.
    let skopeo = Skopeo::new(&registry.host(), accept_anything_policy());
    let pass = skopeo.dir().join("pass");
    std::fs::write(&pass, crate::common::PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    let out = skopeo.copy(&[
        "--sign-by-sigstore-private-key",
        key.to_str().unwrap_or_default(),
        "--sign-passphrase-file",
        pass.to_str().unwrap_or_default(),
        &format!("docker://{image}"),
        &format!("docker://{}/app:signed", registry.host()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = mock.out("trusted_root.json");
    s.signet()
        .args(["sign", "--new-bundle-format", "--identity-token", &token()])
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(&root)
        .arg(&image)
        .assert_success();
    let referrers =
        manifest_json(&registry.host(), "app", &digest.replace(':', "-")).expect("referrers index");
    let referrer = referrers["manifests"][0]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    write_cosign_layout(
        &s.path("cosign-saved"),
        &registry.host(),
        "app",
        &digest,
        &[&referrer],
    );
    verify_key(&s, &public, "oci:cosign-saved", 0);
    let out = verify_key(&s, &public, &format!("oci:cosign-saved@{digest}"), 0);
    let payloads: Value = serde_json::from_str(&stdout(&out)).expect("payloads");
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    let (_, stranger) = s.key_pair("stranger");
    let out = verify_key(&s, &stranger, "oci:cosign-saved", 1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
    // The unlisted referrer blob is found as Cosign finds it.
    s.signet()
        .args(["verify", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
        .arg(&root)
        .arg("oci:cosign-saved")
        .assert_success();
    let tree = s
        .signet()
        .args(["tree", "oci:cosign-saved"])
        .assert_success();
    assert!(
        stdout(&tree).contains(&format!("cosign-saved:{}", sig_tag(&digest))),
        "{}",
        stdout(&tree)
    );
    // Signing into it keeps Cosign's format: the new signature joins the `sigs` entry.
    let (second, second_public) = s.key_pair("second");
    s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&second)
        .arg("oci:cosign-saved")
        .assert_success();
    let (_, kinds) = cosign_layout_reader(&s.path("cosign-saved"));
    assert_eq!(kinds[0].1.len(), 2, "{kinds:?}");
    verify_key(&s, &second_public, "oci:cosign-saved", 0);
}
