//! generate-key-pair, import-key-pair and public-key as a user runs them.

use std::os::unix::fs::PermissionsExt;

use crate::common::{Scratch, cosign_testdata, read, read_to_string, stderr, stdout};

#[test]
fn generate_key_pair_writes_cosign_format_with_mode_0600() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("release");
    let key_text = read_to_string(&key);
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let mode = std::fs::metadata(&key)
        .map(|m| m.permissions().mode() & 0o777)
        .ok();
    assert_eq!(mode, Some(0o600));
    let pub_text = read_to_string(&public);
    assert!(pub_text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    // public-key derives the same public key from the private key file.
    let printed = s.signet().args(["public-key", "--key"]).arg(&key).stdout();
    assert_eq!(printed, pub_text);
}

#[test]
fn generate_key_pair_never_overwrites_without_force() {
    let s = Scratch::new();
    let (key, _) = s.key_pair("k");
    let before = read(&key);
    let out = s
        .signet()
        .args(["generate-key-pair", "--output-key-prefix", "k"])
        .assert_exit(1);
    assert!(
        stderr(&out).contains("already exists; pass --force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&key), before);
    s.signet()
        .args(["generate-key-pair", "--output-key-prefix", "k", "--force"])
        .assert_success();
    assert_ne!(read(&key), before);
}

#[test]
fn empty_cosign_password_is_a_password() {
    let s = Scratch::new();
    s.signet()
        .env("COSIGN_PASSWORD", "")
        .args(["generate-key-pair", "--output-key-prefix", "empty"])
        .assert_success();
    s.signet()
        .env("COSIGN_PASSWORD", "")
        .args(["public-key", "--key", "empty.key"])
        .assert_success();
    let out = s
        .signet()
        .env("COSIGN_PASSWORD", "not empty")
        .args(["public-key", "--key", "empty.key"])
        .assert_exit(1);
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
}

#[test]
fn without_a_password_and_a_terminal_it_says_what_to_do() {
    let s = Scratch::new();
    let out = s
        .signet()
        .env_remove("COSIGN_PASSWORD")
        .args(["generate-key-pair"])
        .assert_exit(1);
    assert!(
        stderr(&out).contains("set COSIGN_PASSWORD"),
        "{}",
        stderr(&out)
    );
    assert!(!s.path("cosign.key").exists());
}

#[test]
fn reads_keys_cosign_wrote() {
    let s = Scratch::new();
    for name in ["pemsigstorekey.pem", "pemcosignkey.pem"] {
        let key = cosign_testdata(&format!("extracted/pkg/cosign/keys_test/{name}"));
        let out = s
            .signet()
            .env("COSIGN_PASSWORD", "hello")
            .args(["public-key", "--key"])
            .arg(&key)
            .assert_success();
        assert!(
            stdout(&out).starts_with("-----BEGIN PUBLIC KEY-----"),
            "{name}"
        );
    }
}

#[test]
fn import_key_pair_accepts_what_cosign_accepts_and_refuses_the_rest() {
    let s = Scratch::new();
    for (i, name) in [
        "validrsapkcs1.pem",
        "validecp384.pem",
        "validecp521.pem",
        "ed25519key.pem",
    ]
    .iter()
    .enumerate()
    {
        let prefix = format!("imported{i}");
        s.signet()
            .args(["import-key-pair", "--output-key-prefix", &prefix, "--key"])
            .arg(cosign_testdata(&format!(
                "extracted/pkg/cosign/keys_test/{name}"
            )))
            .assert_success();
        assert!(s.path(&format!("{prefix}.key")).is_file(), "{name}");
        assert!(s.path(&format!("{prefix}.pub")).is_file(), "{name}");
    }
    for (name, reason) in [
        ("invalidrsasmallkey.pem", "key size not supported: 1024"),
        ("invalidecp224.pem", "ECDSA curve P-224 not allowed"),
        (
            "invalidecunsupported.pem",
            "error parsing ecdsa private key",
        ),
        ("invalidrsawithpubkey.pem", "unsupported private key"),
        ("invalidkey.pem", "invalid pem block"),
    ] {
        let out = s
            .signet()
            .args(["import-key-pair", "--output-key-prefix", "refused", "--key"])
            .arg(cosign_testdata(&format!(
                "extracted/pkg/cosign/keys_test/{name}"
            )))
            .assert_exit(1);
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
        assert!(!s.path("refused.key").exists(), "{name} left a key behind");
    }
}

#[test]
fn malformed_and_unsupported_key_files_are_named_in_the_error() {
    let s = Scratch::new();
    let garbage = s.write("garbage.key", b"this is not a key\n");
    let out = s
        .signet()
        .args(["public-key", "--key"])
        .arg(&garbage)
        .assert_exit(1);
    assert!(stderr(&out).contains("garbage.key"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid pem block"),
        "{}",
        stderr(&out)
    );
    let plain = cosign_testdata("extracted/pkg/cosign/keys_test/validecp256.pem");
    let out = s
        .signet()
        .args(["public-key", "--key"])
        .arg(&plain)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("unsupported pem type: EC PRIVATE KEY"),
        "{}",
        stderr(&out)
    );
    let sec1_inside = cosign_testdata("extracted/pkg/cosign/keys_test/pemcosigneckey.pem");
    let out = s
        .signet()
        .env("COSIGN_PASSWORD", "hello")
        .args(["public-key", "--key"])
        .arg(&sec1_inside)
        .assert_exit(1);
    assert!(stderr(&out).contains("not PKCS#8"), "{}", stderr(&out));
}
