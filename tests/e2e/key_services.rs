//! Keys that are not files: a PKCS#11 token (SoftHSM2) and AWS KMS (moto's server), named as
//! Cosign names them. Each signs images and blobs; signet verifies with the public key the
//! token or the service gives, skopeo (containers/image) verifies the images, openssl the
//! blobs. Each failing backend is a clear error and pushes nothing. The KMS services signet
//! does not support yet are refused as such, never as a missing file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{Scratch, sha256, stderr};
use crate::skopeo::skopeo_accepts;
use crate::util::key_services::{MotoKms, PIN, SoftHsm, TOKEN};
use crate::util::{
    Registry, Skopeo, TestCommand, accept_anything_policy, fetch_manifest, make_sample_image,
};

struct Setup {
    registry: Registry,
    s: Scratch,
    skopeo: Skopeo,
}

impl Setup {
    fn new() -> Self {
        let registry = Registry::start();
        let skopeo = Skopeo::new(&registry.host(), accept_anything_policy());
        Self {
            registry,
            s: Scratch::new(),
            skopeo,
        }
    }

    /// A fresh image in repository `repo`, by digest.
    fn image(&self, repo: &str) -> String {
        let digest = make_sample_image(&self.registry.host(), repo, "v1", sha256);
        format!("{}/{repo}@{digest}", self.registry.host())
    }

    /// Asserts that `image` has no signature manifest: a refused signing pushed nothing.
    fn assert_unsigned(&self, image: &str) {
        let (name, digest) = image.split_once('@').unwrap_or_default();
        let repo = name.split_once('/').map(|(_, r)| r).unwrap_or_default();
        let tag = format!("{}.sig", digest.replace(':', "-"));
        let response = fetch_manifest(&self.registry.host(), repo, &tag);
        assert_eq!(
            response.status, 404,
            "{image} has a signature manifest after a refused signing"
        );
    }

    fn skopeo_accepts(&self, image: &str, public: &Path) -> Output {
        skopeo_accepts(&self.skopeo, &self.registry.host(), image, public)
    }
}

/// openssl checks `signature` (raw DER or PKCS #1) over `file` with `public` and `hash`.
fn openssl_verifies(public: &Path, signature: &Path, file: &Path, hash: &str) -> String {
    let out = Command::new("openssl")
        .args(["dgst", hash, "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(signature)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Asserts a failed command's stderr says `reason` and shows none of `secrets`.
fn assert_refused(out: &Output, reason: &str, secrets: &[&str]) {
    let err = stderr(out);
    assert!(err.contains(reason), "expected {reason:?} in:\n{err}");
    for secret in secrets {
        assert!(!err.contains(secret), "a secret leaked into:\n{err}");
    }
    assert!(
        !err.contains("No such file"),
        "a reference was read as a file:\n{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// PKCS#11: SoftHSM2
// ---------------------------------------------------------------------------------------------

fn with_hsm<'a>(cmd: &'a mut TestCommand, hsm: &SoftHsm) -> &'a mut TestCommand {
    cmd.env("SOFTHSM2_CONF", hsm.conf())
        .env_remove("COSIGN_PKCS11_PIN")
        .env_remove("COSIGN_PKCS11_MODULE_PATH")
}

/// A P-256 key made by `signet generate-key-pair --kms pkcs11:…`, P-384, RSA-2048 and P-521
/// keys made by pkcs11-tool; each key's public half written by `signet public-key`.
fn token_keys(t: &Setup, hsm: &SoftHsm) -> Vec<(&'static str, String, PathBuf)> {
    with_hsm(&mut t.s.signet(), hsm)
        .args([
            "generate-key-pair",
            "--output-key-prefix",
            "p256-created",
            "--kms",
        ])
        .arg(hsm.uri("p256", Some(PIN)))
        .assert_success();
    let listed = hsm.objects();
    assert!(
        listed.contains("Private Key Object; EC") && listed.contains("label:      p256"),
        "generate-key-pair made no EC private key on the token:\n{listed}"
    );
    hsm.make_key("EC:secp384r1", "p384", "02");
    hsm.make_key("rsa:2048", "rsa", "03");
    hsm.make_key("EC:secp521r1", "p521", "04");
    let mut keys = Vec::new();
    for name in ["p256", "p384", "rsa", "p521"] {
        let uri = hsm.uri(name, Some(PIN));
        let public = t.s.path(&format!("{name}.pub"));
        with_hsm(&mut t.s.signet(), hsm)
            .args(["public-key", "--key", &uri, "--outfile"])
            .arg(&public)
            .assert_success();
        keys.push((name, uri, public));
    }
    let created = std::fs::read(t.s.path("p256-created.pub")).unwrap_or_default();
    assert_eq!(
        created,
        std::fs::read(&keys[0].2).unwrap_or_default(),
        "generate-key-pair and public-key disagree on the token key"
    );
    keys
}

#[test]
fn token_keys_sign_images_that_signet_and_skopeo_verify() {
    let t = Setup::new();
    let hsm = SoftHsm::new();
    let keys = token_keys(&t, &hsm);
    for (name, uri, public) in &keys {
        let image = t.image(&format!("app-{name}"));
        with_hsm(&mut t.s.signet(), &hsm)
            .args(["sign", "--tlog-upload=false", "--key", uri, &image])
            .assert_success();
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(public)
            .arg(&image)
            .assert_success();
        // The public half straight from the token, no PIN needed.
        with_hsm(&mut t.s.signet(), &hsm)
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(hsm.uri(name, None))
            .arg(&image)
            .assert_success();
        let out = t.skopeo_accepts(&image, public);
        assert!(
            out.status.success(),
            "skopeo rejected the {name} token signature: {}",
            stderr(&out)
        );
    }
    // Under another token key the signature is invalid, for both verifiers.
    let image = t.image("app-p256");
    let out =
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(&keys[1].2)
            .arg(&image)
            .assert_exit(1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
    assert!(!t.skopeo_accepts(&image, &keys[2].2).status.success());

    // attest / verify-attestation with the RSA token key.
    let predicate = t.s.write("predicate.json", br#"{"built":"on a token"}"#);
    let (_, uri, public) = &keys[2];
    with_hsm(&mut t.s.signet(), &hsm)
        .args([
            "attest",
            "--tlog-upload=false",
            "--type",
            "custom",
            "--key",
            uri,
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg(&image)
        .assert_success();
    t.s.signet()
        .args([
            "verify-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "custom",
            "--key",
        ])
        .arg(public)
        .arg(&image)
        .assert_success();
}

#[test]
fn token_keys_sign_blobs_that_openssl_verifies() {
    let t = Setup::new();
    let hsm = SoftHsm::new();
    let keys = token_keys(&t, &hsm);
    let file = t.s.write("release.tar", &vec![0x5a; 5 * 1024 * 1024 + 3]);
    for (name, uri, public) in &keys {
        let signature = t.s.path(&format!("{name}.sig"));
        with_hsm(&mut t.s.signet(), &hsm)
            .args([
                "sign-blob",
                "--tlog-upload=false",
                "--b64=false",
                "--key",
                uri,
            ])
            .arg("--output-signature")
            .arg(&signature)
            .arg(&file)
            .assert_success();
        // As Cosign (crypto11), token keys sign SHA-256 whatever the curve.
        let said = openssl_verifies(public, &signature, &file, "-sha256");
        assert!(
            said.contains("Verified OK"),
            "openssl on the {name} signature: {said}"
        );
        t.s.signet()
            .args(["verify-blob", "--insecure-ignore-tlog=true", "--key"])
            .arg(public)
            .arg("--signature")
            .arg(&signature)
            .arg(&file)
            .assert_success();
    }
    // attest-blob with the P-384 key; verify-blob-attestation with its public key.
    let predicate = t.s.write("predicate.json", br#"{"built":"on a token"}"#);
    let (_, uri, public) = &keys[1];
    with_hsm(&mut t.s.signet(), &hsm)
        .args([
            "attest-blob",
            "--tlog-upload=false",
            "--type",
            "custom",
            "--key",
            uri,
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg("--output-attestation")
        .arg(t.s.path("release.att"))
        .arg(&file)
        .assert_success();
    t.s.signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "custom",
            "--key",
        ])
        .arg(public)
        .arg("--signature")
        .arg(t.s.path("release.att"))
        .arg(&file)
        .assert_success();
}

#[test]
fn the_pin_comes_from_the_uri_the_environment_or_nowhere() {
    let t = Setup::new();
    let hsm = SoftHsm::new();
    hsm.make_key("EC:prime256v1", "k", "01");
    let image = t.image("app");
    // COSIGN_PKCS11_PIN, as Cosign reads it.
    with_hsm(&mut t.s.signet(), &hsm)
        .env("COSIGN_PKCS11_PIN", PIN)
        .args(["sign-blob", "--tlog-upload=false", "--key"])
        .arg(hsm.uri("k", None))
        .arg(t.s.write("f", b"x"))
        .assert_success();
    // No PIN and no terminal to ask on: refused before anything is signed.
    let out = with_hsm(&mut t.s.signet(), &hsm)
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(hsm.uri("k", None))
        .arg(&image)
        .assert_exit(1);
    assert_refused(
        &out,
        &format!("PKCS#11 token \"{TOKEN}\" needs a PIN and none was given"),
        &[],
    );
    t.assert_unsigned(&image);
}

#[test]
fn token_failures_are_clear_and_push_nothing() {
    let t = Setup::new();
    let hsm = SoftHsm::new();
    hsm.make_key("EC:prime256v1", "k", "01");
    let image = t.image("app");
    let wrong_pin = "98765";
    let module = crate::util::key_services::SOFTHSM_MODULE;
    for (uri, reason) in [
        (
            hsm.uri("k", Some(wrong_pin)),
            format!("the PIN for PKCS#11 token \"{TOKEN}\" is incorrect"),
        ),
        (
            format!("pkcs11:token=absent;object=k?module-path={module}&pin-value={PIN}"),
            "no PKCS#11 token \"absent\" is present".to_owned(),
        ),
        (
            hsm.uri("nope", Some(PIN)),
            format!("PKCS#11 token \"{TOKEN}\" holds no private key object \"nope\""),
        ),
        (
            format!(
                "pkcs11:token={TOKEN};object=k?module-path=/nonexistent/module.so&pin-value={PIN}"
            ),
            "the PKCS#11 module /nonexistent/module.so is not a file".to_owned(),
        ),
    ] {
        let out = with_hsm(&mut t.s.signet(), &hsm)
            .args(["sign", "--tlog-upload=false", "--key", &uri, &image])
            .assert_exit(1);
        assert_refused(&out, &reason, &[wrong_pin, &format!("pin-value={PIN}")]);
        t.assert_unsigned(&image);
    }
    // A second generate-key-pair for the same label creates nothing.
    let out = with_hsm(&mut t.s.signet(), &hsm)
        .args(["generate-key-pair", "--kms"])
        .arg(hsm.uri("k", Some(PIN)))
        .assert_exit(1);
    assert_refused(
        &out,
        "already holds a key object \"k\"; nothing was created",
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// AWS KMS: moto
// ---------------------------------------------------------------------------------------------

/// signet with moto's endpoint and the `signer` user's credentials, and no AWS settings from
/// the machine (HOME is the scratch directory).
fn with_kms<'a>(cmd: &'a mut TestCommand, kms: &MotoKms, t: &Setup) -> &'a mut TestCommand {
    for name in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("HOME", t.s.dir.path())
        .env("AWS_ENDPOINT_URL_KMS", &kms.endpoint)
        .env("AWS_REGION", &kms.region)
        .env("AWS_ACCESS_KEY_ID", &kms.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &kms.secret_access_key)
}

/// A P-256 key made by `signet generate-key-pair --kms awskms:///alias/…` and the RSA key the
/// script made, with the public keys the server returns.
fn kms_keys(t: &Setup, kms: &MotoKms) -> Vec<(&'static str, String, PathBuf)> {
    let p256 = "awskms:///alias/signet-p256".to_owned();
    with_kms(&mut t.s.signet(), kms, t)
        .args([
            "generate-key-pair",
            "--output-key-prefix",
            "p256",
            "--kms",
            &p256,
        ])
        .assert_success();
    assert!(
        !t.s.path("p256.key").exists(),
        "a KMS key must leave no private key file"
    );
    let rsa = format!("awskms:///{}", kms.rsa_key_id);
    let public = t.s.path("rsa.pub");
    with_kms(&mut t.s.signet(), kms, t)
        .args(["public-key", "--key", &rsa, "--outfile"])
        .arg(&public)
        .assert_success();
    vec![("p256", p256, t.s.path("p256.pub")), ("rsa", rsa, public)]
}

#[test]
fn kms_keys_sign_images_that_signet_and_skopeo_verify() {
    let t = Setup::new();
    let kms = MotoKms::start();
    let keys = kms_keys(&t, &kms);
    // generate-key-pair on an existing alias returns that key, as Cosign does.
    with_kms(&mut t.s.signet(), &kms, &t)
        .args([
            "generate-key-pair",
            "--output-key-prefix",
            "again",
            "--kms",
            &keys[0].1,
        ])
        .assert_success();
    assert_eq!(
        std::fs::read(t.s.path("again.pub")).unwrap_or_default(),
        std::fs::read(&keys[0].2).unwrap_or_default()
    );
    for (name, reference, public) in &keys {
        let image = t.image(&format!("app-{name}"));
        with_kms(&mut t.s.signet(), &kms, &t)
            .args(["sign", "--tlog-upload=false", "--key", reference, &image])
            .assert_success();
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(public)
            .arg(&image)
            .assert_success();
        with_kms(&mut t.s.signet(), &kms, &t)
            .args([
                "verify",
                "--insecure-ignore-tlog=true",
                "--key",
                reference,
                &image,
            ])
            .assert_success();
        let out = t.skopeo_accepts(&image, public);
        assert!(
            out.status.success(),
            "skopeo rejected the {name} KMS signature: {}",
            stderr(&out)
        );
    }
    let image = t.image("app-p256");
    assert!(!t.skopeo_accepts(&image, &keys[1].2).status.success());
    let predicate = t.s.write("predicate.json", br#"{"built":"with KMS"}"#);
    with_kms(&mut t.s.signet(), &kms, &t)
        .args([
            "attest",
            "--tlog-upload=false",
            "--type",
            "custom",
            "--key",
            &keys[0].1,
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg(&image)
        .assert_success();
    t.s.signet()
        .args([
            "verify-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "custom",
            "--key",
        ])
        .arg(&keys[0].2)
        .arg(&image)
        .assert_success();
}

#[test]
fn kms_keys_sign_blobs_that_openssl_verifies() {
    let t = Setup::new();
    let kms = MotoKms::start();
    let mut keys = kms_keys(&t, &kms);
    // A P-384 KMS key signs SHA-384 digests (ECDSA_SHA_384), as Cosign has it sign.
    let p384 = "awskms:///alias/signet-p384".to_owned();
    let p384_public = t.s.path("p384.pub");
    with_kms(&mut t.s.signet(), &kms, &t)
        .args(["public-key", "--key", &p384, "--outfile"])
        .arg(&p384_public)
        .assert_success();
    keys.push(("p384", p384, p384_public));
    let file = t.s.write("release.tar", &vec![0xa5; 5 * 1024 * 1024 + 3]);
    for (name, reference, public) in &keys {
        let hash = if *name == "p384" {
            "-sha384"
        } else {
            "-sha256"
        };
        let signature = t.s.path(&format!("{name}.sig"));
        with_kms(&mut t.s.signet(), &kms, &t)
            .args([
                "sign-blob",
                "--tlog-upload=false",
                "--b64=false",
                "--key",
                reference,
            ])
            .arg("--output-signature")
            .arg(&signature)
            .arg(&file)
            .assert_success();
        let said = openssl_verifies(public, &signature, &file, hash);
        assert!(
            said.contains("Verified OK"),
            "openssl on the {name} signature: {said}"
        );
        t.s.signet()
            .args(["verify-blob", "--insecure-ignore-tlog=true", "--key"])
            .arg(public)
            .arg("--signature")
            .arg(&signature)
            .arg(&file)
            .assert_success();
    }
    let predicate = t.s.write("predicate.json", br#"{"built":"with KMS"}"#);
    with_kms(&mut t.s.signet(), &kms, &t)
        .args([
            "attest-blob",
            "--tlog-upload=false",
            "--type",
            "custom",
            "--key",
            &keys[1].1,
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg("--output-attestation")
        .arg(t.s.path("release.att"))
        .arg(&file)
        .assert_success();
    t.s.signet()
        .args([
            "verify-blob-attestation",
            "--insecure-ignore-tlog=true",
            "--type",
            "custom",
            "--key",
        ])
        .arg(&keys[1].2)
        .arg("--signature")
        .arg(t.s.path("release.att"))
        .arg(&file)
        .assert_success();
}

#[test]
fn kms_failures_are_clear_and_push_nothing() {
    let t = Setup::new();
    let kms = MotoKms::start();
    let image = t.image("app");
    let rsa = format!("awskms:///{}", kms.rsa_key_id);
    let sign = |reference: &str, env: &[(&str, &str)]| {
        let mut cmd = t.s.signet();
        with_kms(&mut cmd, &kms, &t);
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.args(["sign", "--tlog-upload=false", "--key", reference, &image])
            .assert_exit(1)
    };
    // An alias KMS does not have.
    let out = sign("awskms:///alias/nope", &[]);
    assert_refused(&out, "has no key alias/nope", &[&kms.secret_access_key]);
    // A user without permission: KMS refuses.
    let out = sign(
        &rsa,
        &[
            ("AWS_ACCESS_KEY_ID", &kms.stranger_access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &kms.stranger_secret_access_key),
        ],
    );
    assert_refused(
        &out,
        "AWS KMS refused GetPublicKey",
        &[&kms.stranger_secret_access_key],
    );
    assert!(stderr(&out).contains("AccessDenied"), "{}", stderr(&out));
    // A wrong secret: the signature moto recomputes with botocore does not match.
    let wrong = "wrong-secret-0123456789";
    let out = sign(&rsa, &[("AWS_SECRET_ACCESS_KEY", wrong)]);
    assert_refused(
        &out,
        "SignatureDoesNotMatch",
        &[wrong, &kms.secret_access_key],
    );
    // No credentials anywhere.
    let mut cmd = t.s.signet();
    with_kms(&mut cmd, &kms, &t);
    let out = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["sign", "--tlog-upload=false", "--key", &rsa, &image])
        .assert_exit(1);
    assert_refused(&out, "no AWS credentials", &[]);
    // Nothing listens: unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    let out = sign(
        &rsa,
        &[(
            "AWS_ENDPOINT_URL_KMS",
            &format!("http://127.0.0.1:{closed}"),
        )],
    );
    assert_refused(
        &out,
        "could not be reached (GetPublicKey)",
        &[&kms.secret_access_key],
    );
    // Something listens and never answers: --timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = silent.local_addr().map(|a| a.port()).unwrap_or(1);
    let mut cmd = t.s.signet();
    with_kms(&mut cmd, &kms, &t);
    let out = cmd
        .env("AWS_ENDPOINT_URL_KMS", format!("http://127.0.0.1:{port}"))
        .args([
            "sign",
            "--tlog-upload=false",
            "--timeout",
            "2s",
            "--key",
            &rsa,
            &image,
        ])
        .assert_exit(1);
    assert_refused(&out, "timed out after 2s", &[&kms.secret_access_key]);
    drop(silent);
    t.assert_unsigned(&image);
}

// ---------------------------------------------------------------------------------------------
// Services signet does not support yet
// ---------------------------------------------------------------------------------------------

#[test]
fn gcp_azure_and_vault_keys_are_refused_as_not_supported_yet() {
    let t = Setup::new();
    let image = t.image("app");
    let file = t.s.write("f", b"x");
    for (reference, provider) in [
        (
            "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k",
            "Google Cloud KMS",
        ),
        ("azurekms://vault.vault.azure.net/key", "Azure Key Vault"),
        ("hashivault://release", "HashiCorp Vault"),
    ] {
        let reason = format!("{provider} keys");
        let out =
            t.s.signet()
                .args(["sign", "--tlog-upload=false", "--key", reference, &image])
                .assert_exit(1);
        assert_refused(&out, &reason, &[]);
        assert!(
            stderr(&out).contains("not supported yet"),
            "{}",
            stderr(&out)
        );
        let out =
            t.s.signet()
                .args(["sign-blob", "--tlog-upload=false", "--key", reference])
                .arg(&file)
                .assert_exit(1);
        assert_refused(&out, &reason, &[]);
        let out =
            t.s.signet()
                .args([
                    "verify",
                    "--insecure-ignore-tlog=true",
                    "--key",
                    reference,
                    &image,
                ])
                .assert_exit(2);
        assert_refused(&out, &reason, &[]);
        let out =
            t.s.signet()
                .args(["generate-key-pair", "--kms", reference])
                .assert_exit(1);
        assert_refused(&out, &reason, &[]);
    }
    t.assert_unsigned(&image);
}
