//! sign-blob and verify-blob, and interoperability with openssl.

use std::process::Command;

use crate::common::{Scratch, cosign_testdata, read_to_string, stderr};

fn openssl(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is not installed ({e}): run `apt-get install -y openssl`")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn blob_round_trip_and_tampering() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("blob");
    let file = s.write("artifact.tar", &vec![7u8; 3 * 1024 * 1024 + 5]);
    s.signet()
        .args([
            "sign-blob",
            "--tlog-upload=false",
            "--output-signature",
            "artifact.sig",
            "--key",
        ])
        .arg(&key)
        .arg(&file)
        .assert_success();
    s.signet()
        .args([
            "verify-blob",
            "--insecure-ignore-tlog=true",
            "--signature",
            "artifact.sig",
            "--key",
        ])
        .arg(&public)
        .arg(&file)
        .assert_success();
    let other = s.write("other.tar", b"different contents");
    let out = s
        .signet()
        .args([
            "verify-blob",
            "--insecure-ignore-tlog=true",
            "--signature",
            "artifact.sig",
            "--key",
        ])
        .arg(&public)
        .arg(&other)
        .assert_exit(1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
    // The signature can also be given inline as base64, as Cosign allows.
    let inline = read_to_string(s.path("artifact.sig"));
    s.signet()
        .args(["verify-blob", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .args(["--signature", inline.trim()])
        .arg(&file)
        .assert_success();
}

#[test]
fn sign_blob_prints_base64_to_stdout_and_reads_stdin() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("k");
    let out = s
        .signet()
        .args(["sign-blob", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg("-")
        .stdin_bytes(b"streamed".to_vec())
        .assert_success();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(printed.ends_with('\n'));
    s.write("streamed.txt", b"streamed");
    s.signet()
        .args(["verify-blob", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .args(["--signature", printed.trim(), "streamed.txt"])
        .assert_success();
}

#[test]
fn transparency_log_flags_say_what_they_skip() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("k");
    let file = s.write("f", b"x");
    // Flags that cannot work together are usage errors: exit 2, as clap's own.
    let out = s
        .signet()
        .args(["sign-blob", "--key"])
        .arg(&key)
        .arg(&file)
        .assert_exit(2);
    assert!(
        stderr(&out).contains("--tlog-upload=false"),
        "{}",
        stderr(&out)
    );
    s.signet()
        .args([
            "sign-blob",
            "--tlog-upload=false",
            "--output-signature",
            "f.sig",
            "--key",
        ])
        .arg(&key)
        .arg(&file)
        .assert_success();
    let out = s
        .signet()
        .args(["verify-blob", "--signature", "f.sig", "--key"])
        .arg(&public)
        .arg(&file)
        .assert_exit(2);
    assert!(
        stderr(&out).contains("--insecure-ignore-tlog=true"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn openssl_verifies_signets_blob_signatures() {
    let s = Scratch::new();
    let (key, public) = s.key_pair("k");
    let file = s.write("release.tar.gz", b"release bits\n");
    s.signet()
        .args([
            "sign-blob",
            "--tlog-upload=false",
            "--b64=false",
            "--output-signature",
            "sig.der",
            "--key",
        ])
        .arg(&key)
        .arg(&file)
        .assert_success();
    let out = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            public.to_str().expect("a UTF-8 path"),
            "-signature",
            "sig.der",
            "release.tar.gz",
        ],
        s.dir.path(),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
    // And a tampered file fails in openssl too.
    s.write("release.tar.gz", b"release bits, tampered\n");
    let tampered = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            public.to_str().expect("a UTF-8 path"),
            "-signature",
            "sig.der",
            "release.tar.gz",
        ])
        .current_dir(s.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    // openssl's own refusal.
    assert!(
        !tampered.status.success()
            && String::from_utf8_lossy(&tampered.stdout).contains("Verification failure"),
        "openssl must refuse a tampered file with \"Verification failure\": {}{}",
        String::from_utf8_lossy(&tampered.stdout),
        stderr(&tampered)
    );
}

#[test]
fn signet_verifies_openssl_signatures_with_openssl_keys() {
    let s = Scratch::new();
    let dir = s.dir.path();
    openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ossl.pem",
        ],
        dir,
    );
    openssl(
        &["ec", "-in", "ossl.pem", "-pubout", "-out", "ossl.pub"],
        dir,
    );
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
        dir,
    );
    openssl(
        &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"],
        dir,
    );
    s.write("file.bin", b"signed by openssl\n");
    for (private, public) in [("ossl.pem", "ossl.pub"), ("rsa.pem", "rsa.pub")] {
        openssl(
            &[
                "dgst", "-sha256", "-sign", private, "-out", "file.sig", "file.bin",
            ],
            dir,
        );
        s.signet()
            .args([
                "verify-blob",
                "--insecure-ignore-tlog=true",
                "--signature",
                "file.sig",
                "--key",
                public,
                "file.bin",
            ])
            .assert_success();
        let out = s
            .signet()
            .args([
                "verify-blob",
                "--insecure-ignore-tlog=true",
                "--signature",
                "file.sig",
                "--key",
            ])
            .arg(cosign_testdata("release/release-cosign.pub"))
            .arg("file.bin")
            .assert_exit(1);
        assert!(
            stderr(&out).contains("invalid signature"),
            "{}",
            stderr(&out)
        );
    }
    // The openssl RSA key, imported into Cosign's format, signs blobs openssl verifies.
    s.signet()
        .args([
            "import-key-pair",
            "--key",
            "rsa.pem",
            "--output-key-prefix",
            "rsa-imported",
        ])
        .assert_success();
    s.signet()
        .args([
            "sign-blob",
            "--tlog-upload=false",
            "--b64=false",
            "--output-signature",
            "by-signet.sig",
            "--key",
            "rsa-imported.key",
            "file.bin",
        ])
        .assert_success();
    let out = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "rsa.pub",
            "-signature",
            "by-signet.sig",
            "file.bin",
        ],
        dir,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
}

/// Keys that do not sign SHA-256 digests (P-384 signs SHA-384, Ed25519 the whole message):
/// sign-blob hashes the file with SHA-256 while the key is decrypted, then reads it again with
/// what the key needs. openssl verifies the P-384 signature; signet verifies both, and neither
/// verifies over another file.
#[test]
fn keys_that_need_another_hash_or_the_whole_file_sign_blobs_too() {
    let s = Scratch::new();
    let dir = s.dir.path();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.pem",
        ],
        dir,
    );
    openssl(
        &["pkey", "-in", "p384.pem", "-pubout", "-out", "p384.pub"],
        dir,
    );
    openssl(&["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"], dir);
    openssl(&["pkey", "-in", "ed.pem", "-pubout", "-out", "ed.pub"], dir);
    s.write("file.bin", b"a file for keys of other kinds\n");
    s.write("other.bin", b"another file\n");
    for name in ["p384", "ed"] {
        s.signet()
            .args(["import-key-pair", "--key", &format!("{name}.pem")])
            .args(["--output-key-prefix", &format!("{name}-imported")])
            .assert_success();
        s.signet()
            .args([
                "sign-blob",
                "--tlog-upload=false",
                "--b64=false",
                "--output-signature",
            ])
            .arg(format!("{name}.sig"))
            .args(["--key", &format!("{name}-imported.key"), "file.bin"])
            .assert_success();
        for (file, code) in [("file.bin", 0), ("other.bin", 1)] {
            let out = s
                .signet()
                .args(["verify-blob", "--insecure-ignore-tlog=true", "--key"])
                .arg(format!("{name}.pub"))
                .args(["--signature", &format!("{name}.sig"), file])
                .assert_exit(code);
            if code == 1 {
                assert!(
                    stderr(&out).contains("invalid signature"),
                    "{}",
                    stderr(&out)
                );
            }
        }
    }
    let out = openssl(
        &[
            "dgst",
            "-sha384",
            "-verify",
            "p384.pub",
            "-signature",
            "p384.sig",
            "file.bin",
        ],
        dir,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
}
