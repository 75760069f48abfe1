//! The end-to-end fixture most tests start from: a real docker-registry, a scratch directory to
//! run signet in, key pairs in it, sample images pushed to the registry, and the signing and
//! verifying steps every file repeats. One definition, used by every test file (issue 11);
//! a file's own steps are free functions beside its tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Scratch, sha256};
use crate::util::{Registry, fetch_manifest, make_sample_image};

/// A docker-registry on a free loopback port and a scratch directory for signet.
pub(crate) struct Setup {
    pub(crate) registry: Registry,
    pub(crate) s: Scratch,
}

impl Setup {
    pub(crate) fn new() -> Self {
        Self::with_keys(&[])
    }

    /// With the key pairs `NAME.key` / `NAME.pub` generated in the scratch directory.
    pub(crate) fn with_keys(names: &[&str]) -> Self {
        let s = Scratch::new();
        for name in names {
            s.key_pair(name);
        }
        Self {
            registry: Registry::start(),
            s,
        }
    }

    /// The private key `NAME.key` of [`Self::with_keys`].
    pub(crate) fn key(&self, name: &str) -> PathBuf {
        self.s.path(&format!("{name}.key"))
    }

    /// The public key `NAME.pub` of [`Self::with_keys`].
    pub(crate) fn public(&self, name: &str) -> PathBuf {
        self.s.path(&format!("{name}.pub"))
    }

    /// Pushes a sample image `repo:tag` and returns (`host/repo@digest`, digest).
    pub(crate) fn image(&self, repo: &str, tag: &str) -> (String, String) {
        let digest = make_sample_image(&self.registry.host(), repo, tag, sha256);
        (format!("{}/{repo}@{digest}", self.registry.host()), digest)
    }

    /// Cosign's signature tag of a digest: `sha256-<hex>.sig`.
    pub(crate) fn sig_tag(digest: &str) -> String {
        format!("{}.sig", digest.replace(':', "-"))
    }

    /// The image's signature manifest, which must exist.
    pub(crate) fn signature_manifest(&self, repo: &str, digest: &str) -> Value {
        let response = fetch_manifest(&self.registry.host(), repo, &Self::sig_tag(digest));
        assert_eq!(
            response.status,
            200,
            "no signature manifest: {}",
            response.text()
        );
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("signature manifest JSON: {e}"))
    }

    /// `signet sign --tlog-upload=false --key KEY IMAGE`, which must succeed.
    pub(crate) fn sign(&self, key: &Path, image: &str) -> Output {
        self.s
            .signet()
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(key)
            .arg(image)
            .assert_success()
    }

    /// `signet verify --insecure-ignore-tlog=true --key PUBLIC IMAGE`, which must exit `code`.
    pub(crate) fn verify(&self, public: &Path, image: &str, code: i32) -> Output {
        self.s
            .signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key"])
            .arg(public)
            .arg(image)
            .assert_exit(code)
    }
}
