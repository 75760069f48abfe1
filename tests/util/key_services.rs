//! Real key services for the key-backend tests: a SoftHSM2 token and moto's KMS server.
//!
//! - [`SoftHsm`] makes a fresh SoftHSM2 token store in a temporary directory (its own
//!   `SOFTHSM2_CONF`), initialises one token with `softhsm2-util`, and makes keys on it with
//!   OpenSC's `pkcs11-tool`, the tools an operator would use.
//! - [`MotoKms`] runs `tests/util/moto_kms.py`: moto's server on a free loopback port, with
//!   authentication on, two IAM users and an RSA signing key (see the script for why it
//!   patches moto's `Sign`).
//!
//! A missing tool is a failure saying how to install it: `.ci/run` installs both.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// Debian's SoftHSM2 PKCS#11 module.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The token label every [`SoftHsm`] initialises.
pub const TOKEN: &str = "signet";
/// The token's user PIN.
pub const PIN: &str = "4711";
const SO_PIN: &str = "0815";

/// A SoftHSM2 token store of its own, with one initialised token labelled [`TOKEN`].
#[derive(Debug)]
pub struct SoftHsm {
    dir: TempDir,
}

impl SoftHsm {
    pub fn new() -> SoftHsm {
        assert!(
            Path::new(SOFTHSM_MODULE).is_file(),
            "SoftHSM2 is not installed: run `apt-get install -y softhsm2 opensc` (see .ci/run)"
        );
        let dir = tempfile::Builder::new()
            .prefix("signet-softhsm-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let hsm = SoftHsm { dir };
        let out = hsm.run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                TOKEN,
                "--so-pin",
                SO_PIN,
                "--pin",
                PIN,
            ],
        );
        assert!(out.status.success(), "softhsm2-util: {}", text(&out.stderr));
        hsm
    }

    /// The `SOFTHSM2_CONF` signet must run with.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        Command::new(tool)
            .args(args)
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .unwrap_or_else(|e| {
                panic!("{tool} is not installed ({e}): run `apt-get install -y softhsm2 opensc`")
            })
    }

    /// `pkcs11-tool --keypairgen` on the token: `key_type` as pkcs11-tool takes it
    /// (`EC:secp384r1`, `rsa:2048`), labelled `label` with id `id` (hex).
    pub fn make_key(&self, key_type: &str, label: &str, id: &str) {
        let out = self.run(
            "pkcs11-tool",
            &[
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                TOKEN,
                "--login",
                "--pin",
                PIN,
                "--keypairgen",
                "--key-type",
                key_type,
                "--label",
                label,
                "--id",
                id,
            ],
        );
        assert!(
            out.status.success(),
            "pkcs11-tool --keypairgen {key_type}: {}",
            text(&out.stderr)
        );
    }

    /// `pkcs11-tool --list-objects`, to see what is on the token.
    pub fn objects(&self) -> String {
        let out = self.run(
            "pkcs11-tool",
            &[
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                TOKEN,
                "--login",
                "--pin",
                PIN,
                "--list-objects",
            ],
        );
        text(&out.stdout)
    }

    /// Cosign's URI for `object` on the token, with `pin` in it (or none).
    pub fn uri(&self, object: &str, pin: Option<&str>) -> String {
        let mut uri = format!("pkcs11:token={TOKEN};object={object}?module-path={SOFTHSM_MODULE}");
        if let Some(pin) = pin {
            uri.push_str(&format!("&pin-value={pin}"));
        }
        uri
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        SoftHsm::new()
    }
}

/// moto's KMS server with authentication, as `tests/util/moto_kms.py` sets it up.
#[derive(Debug)]
pub struct MotoKms {
    child: Child,
    stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub region: String,
    /// The IAM user allowed `kms:*`.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// An IAM user with no permission at all.
    pub stranger_access_key_id: String,
    pub stranger_secret_access_key: String,
    /// The RSA-2048 signing key, also under `alias/signet-rsa`.
    pub rsa_key_id: String,
}

impl MotoKms {
    pub fn start() -> MotoKms {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/util/moto_kms.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading moto_kms.py: {e}"));
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!(
                "moto_kms.py did not start ({e}): is moto installed? \
                 `pip install 'moto[server]'` (see .ci/run). It said: {line:?}"
            )
        });
        let field = |name: &str| info[name].as_str().unwrap_or_default().to_owned();
        MotoKms {
            endpoint: field("endpoint"),
            region: field("region"),
            access_key_id: field("access_key_id"),
            secret_access_key: field("secret_access_key"),
            stranger_access_key_id: field("stranger_access_key_id"),
            stranger_secret_access_key: field("stranger_secret_access_key"),
            rsa_key_id: field("rsa_key_id"),
            child,
            stdin,
        }
    }
}

impl Drop for MotoKms {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
