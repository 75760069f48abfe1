//! What every e2e test needs: a scratch directory, the signet binary and key pairs.

use std::path::{Path, PathBuf};

use signet_core::digest::Digest;
use tempfile::TempDir;

use crate::util::TestCommand;

pub(crate) const PASSWORD: &str = "correct horse";

pub(crate) fn sha256(bytes: &[u8]) -> String {
    Digest::sha256_of(bytes).to_string()
}

/// A scratch directory to run signet in.
pub(crate) struct Scratch {
    pub(crate) dir: TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `signet ARGS` in the scratch directory with `COSIGN_PASSWORD` set, and no Docker
    /// config, TUF cache or COSIGN_REPOSITORY leaking in from the machine.
    pub(crate) fn signet(&self) -> TestCommand {
        let mut cmd = TestCommand::new(Path::new(env!("CARGO_BIN_EXE_signet")), self.dir.path());
        cmd.env("COSIGN_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", self.dir.path().join("no-docker-config"))
            .env("SIGNET_TUF_CACHE", self.dir.path().join("no-tuf-cache"))
            .env_remove("COSIGN_REPOSITORY");
        cmd
    }

    /// Generates `prefix.key` / `prefix.pub` and returns their paths.
    pub(crate) fn key_pair(&self, prefix: &str) -> (PathBuf, PathBuf) {
        self.signet()
            .args(["generate-key-pair", "--output-key-prefix", prefix])
            .assert_success();
        (
            self.path(&format!("{prefix}.key")),
            self.path(&format!("{prefix}.pub")),
        )
    }

    pub(crate) fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {name}: {e}"));
        path
    }
}

/// Cosign's test data beside the repository (`../shared/testdata/cosign`).
pub(crate) fn cosign_testdata(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/cosign")
        .join(rel);
    assert!(path.is_file(), "missing test data {}", path.display());
    path
}

/// The bytes of a file the test needs; a failed read fails the test, naming the file.
pub(crate) fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The text of a file the test needs; a failed read fails the test, naming the file.
pub(crate) fn read_to_string(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
