//! Shared helpers for signet's end-to-end tests.
//!
//! The tests talk to real peers, never to mocks of them:
//!
//! - [`Registry`] runs Debian's `docker-registry` (the CNCF distribution registry) on a free
//!   loopback port with its storage in a temporary directory, and stops it when dropped.
//! - [`Skopeo`] runs skopeo 1.18, built with sigstore support, as the Cosign-compatible peer that
//!   signs and verifies next to signet (see [`skopeo`] for where it comes from).
//! - [`make_sample_image`] pushes a tiny, valid OCI image over plain HTTP, so that a test does
//!   not depend on signet's own registry client to set up its fixture.
//! - [`TestCommand`] runs the signet binary and, on a failed expectation, panics with the command
//!   line, the exit code, stdout and stderr.
//!
//! A missing peer is a failure with a message saying how to install it, never a silent skip:
//! `scripts/test.sh` installs every peer (and `.ci/run` runs it).
//!
//! The HTTP client here is deliberately tiny (HTTP/1.1, one request per connection, no TLS) and
//! meant only for a registry on 127.0.0.1.

// Each test binary that declares `mod util;` uses only part of this module.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod fixture;

pub(crate) use fixture::Setup;
pub mod key_services;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// Where Debian's `docker-registry` package installs the registry.
const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// How long [`Registry::start`] waits for `GET /v2/` to answer 200.
const REGISTRY_START_TIMEOUT: Duration = Duration::from_secs(15);

/// Connect, read and write timeout of the tiny HTTP client.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Media type of an OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// Media type of an uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// The OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/// A `docker-registry` serving plain HTTP on `127.0.0.1:<free port>`, with filesystem storage in
/// a temporary directory and deletes enabled. The process is killed when this value is dropped.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    /// Holds `config.yml`, `registry.log` and `storage/`; removed after the process is gone.
    dir: TempDir,
    /// Where the images are: `dir/storage`, or another registry's storage.
    storage: PathBuf,
    /// Whether `GET /v2/` answers 401 when the registry is up.
    requires_auth: bool,
}

impl Registry {
    /// Starts a registry and waits (at most 15 s) until `GET /v2/` answers 200.
    ///
    /// The port is picked by binding a listener to `127.0.0.1:0` and dropping it; if the registry
    /// exits at once (another process took the port in between), a fresh port is tried, three
    /// attempts in all. A registry that runs but does not answer in time is not retried.
    ///
    /// # Panics
    ///
    /// If `/usr/bin/docker-registry` is not installed, or the registry does not come up.
    pub fn start() -> Registry {
        Registry::start_with(None, None)
    }

    /// A second registry serving the same storage as `open`, but requiring HTTP basic
    /// authentication with the bcrypt `htpasswd_line` (`user:$2y$…`). Images pushed to `open`
    /// (without credentials) are then only readable here with credentials.
    pub fn start_with_basic_auth(open: &Registry, htpasswd_line: &str) -> Registry {
        Registry::start_with(Some(open.storage()), Some(htpasswd_line))
    }

    /// The registry's storage directory.
    pub fn storage(&self) -> PathBuf {
        self.storage.clone()
    }

    fn start_with(storage: Option<PathBuf>, htpasswd: Option<&str>) -> Registry {
        if !Path::new(DOCKER_REGISTRY).is_file() {
            panic!(
                "docker-registry is not installed: run `apt-get install -y docker-registry` \
                 (or run ./scripts/test.sh, which installs every test peer)"
            );
        }
        let mut failures = String::new();
        for attempt in 1..=3 {
            match Registry::try_start(storage.clone(), htpasswd) {
                Ok(registry) => return registry,
                Err(StartFailure::Exited(why)) => {
                    let _ = writeln!(failures, "attempt {attempt}: {why}");
                }
                Err(StartFailure::Other(why)) => {
                    let _ = writeln!(failures, "attempt {attempt}: {why}");
                    break;
                }
            }
        }
        panic!("docker-registry did not start:\n{failures}");
    }

    /// One attempt of [`Registry::start`]: `Err` says why the registry is not serving.
    fn try_start(
        shared_storage: Option<PathBuf>,
        htpasswd: Option<&str>,
    ) -> Result<Registry, StartFailure> {
        let dir = tempfile::Builder::new()
            .prefix("signet-registry-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let port = free_loopback_port()?;
        let storage = match shared_storage {
            Some(shared) => shared,
            None => {
                let own = dir.path().join("storage");
                fs::create_dir(&own).map_err(|e| format!("cannot create {own:?}: {e}"))?;
                own
            }
        };
        let auth_yaml = match htpasswd {
            Some(line) => {
                let path = dir.path().join("htpasswd");
                fs::write(&path, format!("{line}\n"))
                    .map_err(|e| format!("cannot write {path:?}: {e}"))?;
                let path_yaml = Value::String(path.to_string_lossy().into_owned()).to_string();
                format!("auth:\n  htpasswd:\n    realm: signet-test\n    path: {path_yaml}\n")
            }
            None => String::new(),
        };
        let config = dir.path().join("config.yml");
        // A JSON string is a valid YAML double-quoted scalar, whatever the path holds.
        let storage_yaml = Value::String(storage.to_string_lossy().into_owned()).to_string();
        let config_text = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage_yaml}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n{auth_yaml}"
        );
        fs::write(&config, config_text).map_err(|e| format!("cannot write {config:?}: {e}"))?;
        let log_path = dir.path().join("registry.log");
        let log =
            File::create(&log_path).map_err(|e| format!("cannot create {log_path:?}: {e}"))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot duplicate the log file handle: {e}"))?;
        let child = Command::new(DOCKER_REGISTRY)
            .arg("serve")
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {DOCKER_REGISTRY}: {e}"))?;
        // From here on, dropping `registry` kills the process on every early return.
        let requires_auth = htpasswd.is_some();
        let mut registry = Registry {
            child,
            port,
            dir,
            storage,
            requires_auth,
        };

        let host = registry.host();
        let deadline = Instant::now() + REGISTRY_START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(StartFailure::Exited(format!(
                    "{DOCKER_REGISTRY} exited with {status} on {host}; its log:\n{}",
                    registry.log()
                )));
            }
            match http_request_within(Duration::from_secs(2), "GET", &host, "/v2/", &[], None) {
                Ok(response)
                    if response.status == 200
                        || (registry.requires_auth && response.status == 401) =>
                {
                    return Ok(registry);
                }
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(50));
                }
                Ok(response) => {
                    return Err(StartFailure::Other(format!(
                        "GET http://{host}/v2/ still answers {} after {:?}; log:\n{}",
                        response.status,
                        REGISTRY_START_TIMEOUT,
                        registry.log()
                    )));
                }
                Err(e) => {
                    return Err(StartFailure::Other(format!(
                        "GET http://{host}/v2/ still fails after {REGISTRY_START_TIMEOUT:?}: {e}; \
                         log:\n{}",
                        registry.log()
                    )));
                }
            }
        }
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of the registry, e.g. to check that it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `127.0.0.1:PORT/<repo>:<tag>`.
    pub fn image(&self, repo: &str, tag: &str) -> String {
        format!("{}/{repo}:{tag}", self.host())
    }

    /// What the registry wrote to stdout and stderr so far (errors only, by its config).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log"))
            .unwrap_or_else(|e| format!("(cannot read the registry log: {e})"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // The process may already have exited; either way reap it before the storage goes.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why one attempt of [`Registry::start`] failed.
#[derive(Debug)]
enum StartFailure {
    /// The process exited, most likely because the port was taken meanwhile: worth a retry.
    Exited(String),
    /// Anything else: retrying would only repeat it.
    Other(String),
}

impl From<String> for StartFailure {
    fn from(why: String) -> StartFailure {
        StartFailure::Other(why)
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_loopback_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot bind a listener to 127.0.0.1:0: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listener's address: {e}"))?
        .port();
    Ok(port)
}

// ---------------------------------------------------------------------------------------------
// skopeo
// ---------------------------------------------------------------------------------------------

/// The skopeo with sigstore support: `$SIGNET_TEST_SKOPEO` if set, else
/// `$HOME/.cache/skopeo-sigstore/skopeo`, where `../shared/tools/install-skopeo-sigstore`
/// puts it by default.
///
/// # Panics
///
/// If neither exists.
pub fn skopeo() -> PathBuf {
    const MISSING: &str = "skopeo with sigstore support is missing: run \
                           `sh ../shared/tools/install-skopeo-sigstore` (or run ./scripts/test.sh, which installs every test peer)";
    if let Some(path) = std::env::var_os("SIGNET_TEST_SKOPEO").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            panic!(
                "{MISSING}; SIGNET_TEST_SKOPEO={} does not exist",
                path.display()
            );
        }
        return path;
    }
    if let Some(home) = std::env::var_os("HOME") {
        let path = Path::new(&home).join(".cache/skopeo-sigstore/skopeo");
        if path.is_file() {
            return path;
        }
    }
    panic!("{MISSING}");
}

/// A skopeo with its own `policy.json` and `registries.d/` in a temporary directory, so that a
/// test never reads or changes the machine's `/etc/containers`.
///
/// `registries.d/default.yaml` turns on `use-sigstore-attachments` for the registry, so skopeo
/// writes and reads Cosign-style `sha256-<hex>.sig` signatures there.
#[derive(Debug)]
pub struct Skopeo {
    dir: TempDir,
    bin: PathBuf,
}

impl Skopeo {
    /// Writes `policy` as `policy.json` and a `registries.d/` for `registry_host`
    /// (`127.0.0.1:PORT`).
    ///
    /// # Panics
    ///
    /// If skopeo is missing (see [`skopeo`]) or the files cannot be written.
    pub fn new(registry_host: &str, policy: Value) -> Skopeo {
        let bin = skopeo();
        let dir = tempfile::Builder::new()
            .prefix("signet-skopeo-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let skopeo = Skopeo { dir, bin };
        skopeo.set_policy(&policy);
        let registries_d = skopeo.registries_d();
        fs::create_dir(&registries_d)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", registries_d.display()));
        let default_yaml = registries_d.join("default.yaml");
        fs::write(
            &default_yaml,
            format!("docker:\n  {registry_host}:\n    use-sigstore-attachments: true\n"),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", default_yaml.display()));
        skopeo
    }

    /// Replaces `policy.json`, e.g. to verify with another key after signing.
    pub fn set_policy(&self, policy: &Value) {
        let path = self.policy_path();
        let text = serde_json::to_string_pretty(policy)
            .unwrap_or_else(|e| panic!("cannot serialize the policy: {e}"));
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The temporary directory holding `policy.json` and `registries.d/`; tests may put keys,
    /// passphrase files or `dir:` copies here too.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `<dir>/policy.json`.
    pub fn policy_path(&self) -> PathBuf {
        self.dir.path().join("policy.json")
    }

    /// `<dir>/registries.d`.
    pub fn registries_d(&self) -> PathBuf {
        self.dir.path().join("registries.d")
    }

    /// `skopeo --policy <dir>/policy.json --registries.d <dir>/registries.d copy
    /// --src-tls-verify=false --dest-tls-verify=false <args...>`.
    ///
    /// Only panics if skopeo cannot be run at all; check the returned status yourself.
    pub fn copy(&self, args: &[&str]) -> Output {
        let mut all = vec!["copy", "--src-tls-verify=false", "--dest-tls-verify=false"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `skopeo ... inspect --tls-verify=false <args...>`, e.g. with
    /// `docker://127.0.0.1:PORT/repo:tag`.
    pub fn inspect(&self, args: &[&str]) -> Output {
        let mut all = vec!["inspect", "--tls-verify=false"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `skopeo --policy <dir>/policy.json --registries.d <dir>/registries.d <args...>`: `args`
    /// start with the subcommand.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(&self.bin);
        command
            .arg("--policy")
            .arg(self.policy_path())
            .arg("--registries.d")
            .arg(self.registries_d())
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
    }
}

/// A containers-policy.json(5) that rejects everything except:
///
/// - `docker` images under `scope` (`127.0.0.1:PORT` for the whole registry, or
///   `127.0.0.1:PORT/repo` for one repository), which need a `sigstoreSigned` signature by one of
///   `pub_key_paths` (written as `keyPath` for one key, `keyPaths` for several) whose claimed
///   identity satisfies `signed_identity` (e.g. `{"type": "matchRepoDigestOrExact"}`);
/// - the `dir` and `oci` transports, accepted as they are, so images can be copied out of the
///   registry into local files.
///
/// # Panics
///
/// If `pub_key_paths` is empty: such a requirement could never be met.
pub fn sigstore_policy(scope: &str, pub_key_paths: &[&Path], signed_identity: Value) -> Value {
    let mut requirement = json!({ "type": "sigstoreSigned", "signedIdentity": signed_identity });
    let utf8 = |path: &Path| -> Value {
        let text = path
            .to_str()
            .unwrap_or_else(|| panic!("key path {} is not UTF-8", path.display()));
        Value::from(text)
    };
    match pub_key_paths {
        [] => panic!("sigstore_policy needs at least one public key"),
        [one] => requirement["keyPath"] = utf8(one),
        several => requirement["keyPaths"] = several.iter().map(|p| utf8(p)).collect(),
    }
    json!({
        "default": [{ "type": "reject" }],
        "transports": {
            "docker": { scope: [requirement] },
            "dir": { "": [{ "type": "insecureAcceptAnything" }] },
            "oci": { "": [{ "type": "insecureAcceptAnything" }] },
        }
    })
}

/// A policy that accepts every image from every transport (`skopeo --insecure-policy` as a
/// file), for copies that only set a test up.
pub fn accept_anything_policy() -> Value {
    json!({ "default": [{ "type": "insecureAcceptAnything" }] })
}

// ---------------------------------------------------------------------------------------------
// Sample images
// ---------------------------------------------------------------------------------------------

/// Pushes a tiny valid OCI image to `http://<registry_host>/v2/<repo>` under `tag` and returns
/// its manifest digest (`sha256:<hex>`).
///
/// The image has one uncompressed tar layer ([`OCI_LAYER_TAR`]) holding `hello.txt`, whose
/// content names `repo` and `tag`, so images pushed under different names have different
/// digests. `sha256` must return `sha256:<lowercase hex>` of its input; pass signet's own digest
/// function (e.g. a closure over `signet_core`'s SHA-256).
///
/// # Panics
///
/// If the registry refuses any step, or answers with a digest other than the one computed.
pub fn make_sample_image(
    registry_host: &str,
    repo: &str,
    tag: &str,
    sha256: fn(&[u8]) -> String,
) -> String {
    let content = format!("signet sample image {repo}:{tag}\n");
    let layer = tar_with_one_file("hello.txt", content.as_bytes());
    let layer_digest = push_blob(registry_host, repo, &layer, sha256);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
    }))
    .unwrap_or_else(|e| panic!("cannot serialize the image config: {e}"));
    let config_digest = push_blob(registry_host, repo, &config, sha256);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": layer.len() }],
    }))
    .unwrap_or_else(|e| panic!("cannot serialize the image manifest: {e}"));
    let digest = push_manifest(registry_host, repo, tag, OCI_MANIFEST, &manifest);
    let expected = sha256(&manifest);
    assert_eq!(
        digest, expected,
        "the registry's Docker-Content-Digest for {repo}:{tag} is not the manifest's sha256"
    );
    digest
}

/// An image built for a test: `config` is the whole image configuration (its `rootfs` is
/// filled in), with one small layer per entry of `layer_files`, and `annotations` on the
/// manifest. Pushed as `<repo>:<tag>`; returns the manifest's digest and size.
///
/// # Panics
///
/// If the registry refuses any step.
pub fn push_image(
    registry_host: &str,
    repo: &str,
    tag: &str,
    mut config: Value,
    layer_files: &[&str],
    annotations: Value,
    sha256: fn(&[u8]) -> String,
) -> (String, usize) {
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for name in layer_files {
        let layer = tar_with_one_file(name, format!("{repo}:{tag} {name}\n").as_bytes());
        let digest = push_blob(registry_host, repo, &layer, sha256);
        diff_ids.push(digest.clone());
        layers.push(json!({ "mediaType": OCI_LAYER_TAR, "digest": digest, "size": layer.len() }));
    }
    config["rootfs"] = json!({ "type": "layers", "diff_ids": diff_ids });
    let config = serde_json::to_vec(&config)
        .unwrap_or_else(|e| panic!("cannot serialize the image config: {e}"));
    let config_digest = push_blob(registry_host, repo, &config, sha256);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len() },
        "layers": layers,
        "annotations": annotations,
    }))
    .unwrap_or_else(|e| panic!("cannot serialize the image manifest: {e}"));
    let digest = push_manifest(registry_host, repo, tag, OCI_MANIFEST, &manifest);
    assert_eq!(
        digest,
        sha256(&manifest),
        "the registry's digest for {repo}:{tag}"
    );
    (digest, manifest.len())
}

/// An OCI index over manifests already pushed to `<repo>`, each `(digest, size, platform)`
/// with the platform as `os/architecture`; pushed as `<repo>:<tag>`, returns its digest.
///
/// # Panics
///
/// If the registry refuses it.
pub fn push_index(
    registry_host: &str,
    repo: &str,
    tag: &str,
    manifests: &[(&str, usize, &str)],
    sha256: fn(&[u8]) -> String,
) -> String {
    let entries: Vec<Value> = manifests
        .iter()
        .map(|(digest, size, platform)| {
            let (os, architecture) = platform.split_once('/').unwrap_or((platform, ""));
            json!({ "mediaType": OCI_MANIFEST, "digest": digest, "size": size,
                    "platform": { "os": os, "architecture": architecture } })
        })
        .collect();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }))
    .unwrap_or_else(|e| panic!("cannot serialize the index: {e}"));
    let digest = push_manifest(registry_host, repo, tag, OCI_INDEX, &index);
    assert_eq!(
        digest,
        sha256(&index),
        "the registry's digest for {repo}:{tag}"
    );
    digest
}

/// Uploads `blob` to `<repo>` (`POST /v2/<repo>/blobs/uploads/`, then one monolithic `PUT` to
/// the returned location with `?digest=`) and returns its digest, `sha256(blob)`.
///
/// # Panics
///
/// If the registry does not answer 202 and then 201.
pub fn push_blob(
    registry_host: &str,
    repo: &str,
    blob: &[u8],
    sha256: fn(&[u8]) -> String,
) -> String {
    let digest = sha256(blob);
    let start = http_post(
        registry_host,
        &format!("/v2/{repo}/blobs/uploads/"),
        "application/octet-stream",
        b"",
    )
    .unwrap_or_else(|e| panic!("POST /v2/{repo}/blobs/uploads/ to {registry_host}: {e}"));
    if start.status != 202 {
        panic!(
            "POST /v2/{repo}/blobs/uploads/ to {registry_host} answered {}: {}",
            start.status,
            String::from_utf8_lossy(&start.body)
        );
    }
    let location = start.header("location").unwrap_or_else(|| {
        panic!("POST /v2/{repo}/blobs/uploads/ to {registry_host} answered no Location header")
    });
    let path = path_of_location(location);
    let separator = if path.contains('?') { '&' } else { '?' };
    let put_path = format!("{path}{separator}digest={digest}");
    let done = http_put(registry_host, &put_path, "application/octet-stream", blob)
        .unwrap_or_else(|e| panic!("PUT {put_path} to {registry_host}: {e}"));
    if done.status != 201 {
        panic!(
            "PUT {put_path} to {registry_host} answered {}: {}",
            done.status,
            String::from_utf8_lossy(&done.body)
        );
    }
    digest
}

/// `PUT /v2/<repo>/manifests/<reference>` with `media_type` as Content-Type; returns the
/// registry's `Docker-Content-Digest`.
///
/// # Panics
///
/// If the registry does not answer 201 with that header.
pub fn push_manifest(
    registry_host: &str,
    repo: &str,
    reference: &str,
    media_type: &str,
    manifest: &[u8],
) -> String {
    let path = format!("/v2/{repo}/manifests/{reference}");
    let response = http_put(registry_host, &path, media_type, manifest)
        .unwrap_or_else(|e| panic!("PUT {path} to {registry_host}: {e}"));
    if response.status != 201 {
        panic!(
            "PUT {path} to {registry_host} answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    response
        .header("docker-content-digest")
        .unwrap_or_else(|| {
            panic!("PUT {path} to {registry_host} answered no Docker-Content-Digest")
        })
        .to_owned()
}

/// `GET /v2/<repo>/manifests/<reference>` accepting OCI and Docker v2 manifests and indexes.
///
/// The Accept header matters: docker-registry answers 404 `MANIFEST_UNKNOWN` for an OCI
/// manifest that the request does not accept. Check `status` yourself: 404 is how a test sees
/// that a signature tag does not exist.
///
/// # Panics
///
/// If the request fails at the transport level.
pub fn fetch_manifest(registry_host: &str, repo: &str, reference: &str) -> HttpResponse {
    let path = format!("/v2/{repo}/manifests/{reference}");
    let accept = [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
    .join(", ");
    http_request("GET", registry_host, &path, &[("Accept", &accept)], None)
        .unwrap_or_else(|e| panic!("GET {path} from {registry_host}: {e}"))
}

/// The path (and query) of an upload `Location`, which the registry may give as an absolute
/// URL (`http://host/v2/...`) or as a path.
fn path_of_location(location: &str) -> &str {
    match location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => location,
    }
}

/// A POSIX ustar archive holding one regular file, `name` (at most 100 bytes), with `content`.
pub fn tar_with_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    assert!(
        name.len() <= 100,
        "tar entry name longer than 100 bytes: {name}"
    );
    let mut header = [0u8; 512];
    let mut put = |offset: usize, field: &[u8]| {
        header[offset..offset + field.len()].copy_from_slice(field);
    };
    put(0, name.as_bytes()); // name[100]
    put(100, b"0000644\0"); // mode[8]
    put(108, b"0000000\0"); // uid[8]
    put(116, b"0000000\0"); // gid[8]
    put(124, format!("{:011o}\0", content.len()).as_bytes()); // size[12]
    put(136, b"00000000000\0"); // mtime[12]
    put(148, b"        "); // chksum[8], spaces while summing
    put(156, b"0"); // typeflag: regular file
    put(257, b"ustar\0"); // magic[6]
    put(263, b"00"); // version[2]
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());

    let padded = content.len().div_ceil(512) * 512;
    let mut tar = Vec::with_capacity(512 + padded + 1024);
    tar.extend_from_slice(&header);
    tar.extend_from_slice(content);
    tar.resize(512 + padded, 0);
    tar.resize(512 + padded + 1024, 0); // two zero blocks end the archive
    tar
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// An HTTP response, read whole.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The header fields in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, with any chunked transfer coding removed.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (lossy), for messages and assertions.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET http://<host><path>`, e.g. `http_get("127.0.0.1:5000", "/v2/")`.
pub fn http_get(host: &str, path: &str) -> Result<HttpResponse, String> {
    http_request("GET", host, path, &[], None)
}

/// `PUT http://<host><path>` with `body` as `content_type`.
pub fn http_put(
    host: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<HttpResponse, String> {
    http_request(
        "PUT",
        host,
        path,
        &[("Content-Type", content_type)],
        Some(body),
    )
}

/// `POST http://<host><path>` with `body` as `content_type`.
pub fn http_post(
    host: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<HttpResponse, String> {
    http_request(
        "POST",
        host,
        path,
        &[("Content-Type", content_type)],
        Some(body),
    )
}

/// One HTTP/1.1 request on a fresh connection with `Connection: close`; the response is read to
/// the end of the stream. A `HEAD` response has no body. `Err` describes a transport or framing
/// failure; any status is `Ok`.
pub fn http_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<HttpResponse, String> {
    http_request_within(HTTP_TIMEOUT, method, host, path, headers, body)
}

/// [`http_request`] with `timeout` for connecting and for each read and write.
fn http_request_within(
    timeout: Duration,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<HttpResponse, String> {
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host:?} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {host}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("cannot set timeouts on the connection to {host}: {e}"))?;

    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    if let Some(body) = body {
        let _ = write!(request, "Content-Length: {}\r\n", body.len());
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream
        .write_all(&bytes)
        .map_err(|e| format!("cannot send {method} {path} to {host}: {e}"))?;

    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read the answer to {method} {path} from {host}: {e}"))?;
    parse_response(&raw, method == "HEAD")
        .map_err(|e| format!("bad answer to {method} {path} from {host}: {e}"))
}

/// Parses a whole HTTP/1.1 response, as read up to the end of the stream.
fn parse_response(raw: &[u8], head_only: bool) -> Result<HttpResponse, String> {
    let head_end = find(raw, b"\r\n\r\n").ok_or("no end of the header section")?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| "header section is not UTF-8")?;
    let rest = &raw[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("bad header line {line:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut response = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(response);
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    response.body = if chunked {
        decode_chunked(rest)?
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        rest.get(..length)
            .ok_or_else(|| {
                format!(
                    "body has {} bytes, Content-Length says {length}",
                    rest.len()
                )
            })?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

/// Removes the chunked transfer coding (RFC 9112 §7.1); trailer fields are dropped.
fn decode_chunked(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n").ok_or("chunk size line without CRLF")?;
        let line = std::str::from_utf8(&rest[..line_end]).map_err(|_| "chunk size is not UTF-8")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("chunk shorter than its size")?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(size..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or("chunk not followed by CRLF")?;
    }
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Running the signet binary
// ---------------------------------------------------------------------------------------------

/// A command line for the binary under test, in the style of ripgrep's `tests/util.rs`.
///
/// Standard input is empty unless [`TestCommand::stdin_bytes`] gives it, so a prompt never
/// waits for a terminal.
///
/// ```ignore
/// let out = TestCommand::new(Path::new(env!("CARGO_BIN_EXE_signet")), dir.path())
///     .args(["verify", "--key", "cosign.pub", &image])
///     .assert_success();
/// ```
#[derive(Debug)]
pub struct TestCommand {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl TestCommand {
    /// Runs `bin` in `cwd`, with the environment of the test process.
    pub fn new(bin: &Path, cwd: &Path) -> TestCommand {
        let mut cmd = Command::new(bin);
        cmd.current_dir(cwd);
        TestCommand { cmd, stdin: None }
    }

    /// Adds one argument.
    pub fn arg<A: AsRef<OsStr>>(&mut self, arg: A) -> &mut TestCommand {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, A>(&mut self, args: I) -> &mut TestCommand
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, value: V) -> &mut TestCommand {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable inherited from the test process.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut TestCommand {
        self.cmd.env_remove(key);
        self
    }

    /// Feeds `bytes` to standard input, then closes it.
    pub fn stdin_bytes<B: Into<Vec<u8>>>(&mut self, bytes: B) -> &mut TestCommand {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the command to the end and returns what it did, whatever its exit status.
    ///
    /// # Panics
    ///
    /// If the command cannot be started or waited for.
    pub fn output(&mut self) -> Output {
        let Some(input) = self.stdin.clone() else {
            self.cmd.stdin(Stdio::null());
            return self
                .cmd
                .output()
                .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.cmd));
        };
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.cmd));
        let mut stdin = child
            .stdin
            .take()
            .unwrap_or_else(|| panic!("no stdin pipe for {:?}", self.cmd));
        // Written from another thread: a child that prints a lot before reading its input would
        // otherwise deadlock against us. A child that exits without reading it all is fine.
        let writer = thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("cannot wait for {:?}: {e}", self.cmd));
        let _ = writer.join();
        output
    }

    /// Runs the command and returns its output.
    ///
    /// # Panics
    ///
    /// Unless it exits with status 0; the message shows the command, status, stdout and stderr.
    pub fn assert_success(&mut self) -> Output {
        let output = self.output();
        if !output.status.success() {
            panic!("{}", self.report("expected success", &output));
        }
        output
    }

    /// Runs the command and returns its output.
    ///
    /// # Panics
    ///
    /// Unless it exits with `code`; the message shows the command, status, stdout and stderr.
    pub fn assert_exit(&mut self, code: i32) -> Output {
        let output = self.output();
        if output.status.code() != Some(code) {
            panic!(
                "{}",
                self.report(&format!("expected exit code {code}"), &output)
            );
        }
        output
    }

    /// Runs the command, asserts success and returns its stdout as UTF-8.
    ///
    /// # Panics
    ///
    /// As [`TestCommand::assert_success`], or if stdout is not UTF-8.
    pub fn stdout(&mut self) -> String {
        let output = self.assert_success();
        String::from_utf8(output.stdout)
            .unwrap_or_else(|e| panic!("stdout of {:?} is not UTF-8: {e}", self.cmd))
    }

    /// The failure message: what was expected, the command line, and what it did.
    fn report(&self, expected: &str, output: &Output) -> String {
        format!(
            "\n{expected}, got {status}\n\n\
             command:\n{cmd:?}\n\n\
             stdout:\n{stdout}\n\n\
             stderr:\n{stderr}\n",
            status = output.status,
            cmd = self.cmd,
            stdout = String::from_utf8_lossy(&output.stdout),
            stderr = String::from_utf8_lossy(&output.stderr),
        )
    }
}
