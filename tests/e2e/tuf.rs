//! `signet initialize` and the trusted-root fallback against a real TUF repository made by a
//! peer: python-tuf (PyPI `tuf` 7.0.1, pinned in scripts/test.sh) builds it with its Metadata API
//! (`tests/tuf/make_repo.py`: consistent snapshots, ed25519 keys, the targets
//! `trusted_root.json` and `signing_config.v0.2.json` as Sigstore's repository has them) and
//! `python3 -m http.server` serves it on 127.0.0.1. python-tuf's own client (ngclient) checks
//! every repository too, so each test shows both clients agreeing.
//!
//! The target is Sigstore's production trusted root (`../shared/testdata/conformance/_trust/
//! production`), and a CPython release bundle (`../shared/testdata/realworld/cpython`) is
//! verified against it by digest, without `--trusted-root`.
//!
//! A missing python-tuf is a failure naming its install command, never a skip.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Scratch, read, stderr};

const INSTALL_TUF: &str = "pip install tuf==7.0.1";

const BUNDLE: &str = "3.10.1/python-3.10.1-embed-win32.zip.sigstore.json";
const DIGEST: &str = "sha256:799f36b62c468b205c97c08102a4bf9c682825f2a20711d178c876762f01bda2";
const IDENTITY: &str = "pablogsal@python.org";
const ISSUER: &str = "https://accounts.google.com";

fn shared(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata")
        .join(rel);
    assert!(path.exists(), "missing test data {}", path.display());
    path
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf/make_repo.py")
}

fn python(args: &[&str]) -> Output {
    let output = Command::new("python3")
        .arg(script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("python3 is missing ({e}): install python3 and {INSTALL_TUF}"));
    assert!(
        output.status.success(),
        "make_repo.py {args:?} failed ({INSTALL_TUF}?):\n{}",
        stderr(&output)
    );
    output
}

/// Builds (or rebuilds, replacing it) the repository in `dir` with python-tuf.
fn build_repo(dir: &Path, extra: &[&str]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("removing {dir:?}: {e}"));
    }
    let trust = shared("conformance/_trust/production");
    let root = format!(
        "trusted_root.json={}",
        trust.join("trusted_root.json").display()
    );
    let config = format!(
        "signing_config.v0.2.json={}",
        trust.join("signing_config.v0.2.json").display()
    );
    let out = dir.to_string_lossy().into_owned();
    let mut args = vec![
        "build", "--out", &out, "--target", &root, "--target", &config,
    ];
    args.extend_from_slice(extra);
    python(&args);
}

/// What python-tuf's client says about the repository in `repo`, keeping its trusted state in
/// `state`: `ok` or `refused: <ExceptionClass>: …`.
fn python_tuf_verdict(repo: &Path, state: &Path) -> String {
    let repo = repo.to_string_lossy().into_owned();
    let state = state.to_string_lossy().into_owned();
    let output = python(&[
        "check",
        "--repo",
        &repo,
        "--state",
        &state,
        "--target",
        "trusted_root.json",
        "--target",
        "signing_config.v0.2.json",
    ]);
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `python3 -m http.server` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        Server::start_on(dir, &port.to_string())
    }

    /// On `port` (a mirror coming back where the cache expects it).
    fn start_on(dir: &Path, port: &str) -> Server {
        let port: u16 = port
            .parse()
            .unwrap_or_else(|e| panic!("port {port:?}: {e}"));
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 -m http.server: {e}"));
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "http.server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory whose signet uses `cache/` as its TUF cache.
struct Env {
    scratch: Scratch,
}

impl Env {
    fn new() -> Env {
        Env {
            scratch: Scratch::new(),
        }
    }

    fn repo(&self) -> PathBuf {
        self.scratch.path("repo")
    }

    fn signet(&self) -> crate::util::TestCommand {
        let mut cmd = self.scratch.signet();
        cmd.env("SIGNET_TUF_CACHE", self.scratch.path("cache"));
        cmd
    }

    /// `signet initialize --mirror URL --root repo/1.root.json`.
    fn initialize(&self, server: &Server, code: i32) -> Output {
        let root = self.repo().join("1.root.json");
        // Keep the root outside the served directory, so that rebuilding it is not a reason.
        let kept = self.scratch.path("bootstrap-root.json");
        if !kept.exists() {
            std::fs::copy(&root, &kept).unwrap_or_else(|e| panic!("copying the root: {e}"));
        }
        self.signet()
            .args(["initialize", "--mirror", &server.url, "--root"])
            .arg(&kept)
            .assert_exit(code)
    }

    /// `conformance verify-bundle` of the CPython bundle, without --trusted-root.
    fn verify(&self, identity: &str, code: i32) -> Output {
        self.signet()
            .args(["conformance", "verify-bundle", "--bundle"])
            .arg(shared("realworld/cpython").join(BUNDLE))
            .args([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                ISSUER,
                DIGEST,
            ])
            .assert_exit(code)
    }
}

#[test]
fn initialize_then_verify_without_trusted_root_also_with_the_mirror_down() {
    let env = Env::new();
    build_repo(&env.repo(), &[]);
    assert_eq!(
        python_tuf_verdict(&env.repo(), &env.scratch.path("py")),
        "ok"
    );
    let server = Server::start(&env.repo());
    let out = env.initialize(&server, 0);
    assert!(
        stderr(&out).contains("signing_config.v0.2.json: fetched"),
        "{}",
        stderr(&out)
    );
    let cached = std::fs::read(
        TufCacheLayout::new(&env.scratch.path("cache"), &server.url).target("trusted_root.json"),
    )
    .unwrap_or_else(|e| panic!("the cached trusted root: {e}"));
    assert_eq!(
        cached,
        read(shared("conformance/_trust/production/trusted_root.json"))
    );

    assert!(stderr(&env.verify(IDENTITY, 0)).contains("Verified OK"));
    // It verifies, not merely accepts: another signer is refused against the same root.
    let denied = env.verify("hugo@python.org", 1);
    assert!(stderr(&denied).contains("identity"), "{}", stderr(&denied));
    // verify-blob --bundle takes the same fallback (its artifact is not here: the digest check
    // fails after the trusted root was loaded, not for want of one).
    let blob = env
        .signet()
        .args(["verify-blob", "--bundle"])
        .arg(shared("realworld/cpython").join(BUNDLE))
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .arg(env.scratch.write("not-python.zip", b"not the release"))
        .assert_exit(1);
    assert!(
        stderr(&blob).contains("[artifact-digest]") && !stderr(&blob).contains("signet initialize"),
        "{}",
        stderr(&blob)
    );

    // The mirror goes away: the unexpired cache is re-verified offline and used.
    drop(server);
    assert!(stderr(&env.verify(IDENTITY, 0)).contains("Verified OK"));
}

#[test]
fn without_a_cache_the_error_names_signet_initialize() {
    let env = Env::new();
    let out = env.verify(IDENTITY, 2);
    let err = stderr(&out);
    assert!(
        err.contains("run `signet initialize`") && err.contains("--trusted-root FILE"),
        "{err}"
    );
    let keyless = env
        .signet()
        .args([
            "sign-blob",
            "--identity-token",
            "x.y.z",
            "--bundle",
            "b.json",
        ])
        .arg(env.scratch.write("f.txt", b"f"))
        .assert_exit(1);
    assert!(
        stderr(&keyless).contains("signet initialize"),
        "{}",
        stderr(&keyless)
    );
}

#[test]
fn a_tampered_target_is_refused_and_nothing_is_initialized() {
    let env = Env::new();
    build_repo(&env.repo(), &[]);
    let targets = env.repo().join("targets");
    let tampered = std::fs::read_dir(&targets)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".trusted_root.json"))
        .unwrap_or_else(|| panic!("no trusted_root.json target in {targets:?}"));
    let mut bytes = read(&tampered);
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        python_tuf_verdict(&env.repo(), &env.scratch.path("py"))
            .starts_with("refused: LengthOrHashMismatchError"),
    );

    let server = Server::start(&env.repo());
    let err = stderr(&env.initialize(&server, 1));
    assert!(
        err.contains("TUF integrity check failed") && err.contains("trusted_root.json"),
        "{err}"
    );
    // No mirror was made current: verification still asks for initialize.
    assert!(stderr(&env.verify(IDENTITY, 2)).contains("signet initialize"));
}

#[test]
fn expired_timestamp_metadata_is_refused() {
    let env = Env::new();
    build_repo(&env.repo(), &["--timestamp-expires-days", "-1"]);
    assert!(
        python_tuf_verdict(&env.repo(), &env.scratch.path("py"))
            .starts_with("refused: ExpiredMetadataError"),
    );
    let server = Server::start(&env.repo());
    let err = stderr(&env.initialize(&server, 1));
    assert!(
        err.contains("TUF expired check failed") && err.contains("timestamp metadata expired"),
        "{err}"
    );
}

#[test]
fn metadata_signed_by_a_key_the_root_does_not_list_is_refused() {
    let env = Env::new();
    build_repo(&env.repo(), &["--rogue-timestamp-key"]);
    assert!(
        python_tuf_verdict(&env.repo(), &env.scratch.path("py"))
            .starts_with("refused: UnsignedMetadataError"),
    );
    let server = Server::start(&env.repo());
    let err = stderr(&env.initialize(&server, 1));
    assert!(
        err.contains("TUF signature-threshold check failed") && err.contains("role timestamp: 0/1"),
        "{err}"
    );
}

#[test]
fn a_rollback_to_a_lower_version_is_refused() {
    let env = Env::new();
    let py = env.scratch.path("py");
    build_repo(&env.repo(), &["--version", "2"]);
    assert_eq!(python_tuf_verdict(&env.repo(), &py), "ok");
    let server = Server::start(&env.repo());
    env.initialize(&server, 0);

    // The same repository, same keys, served at version 1.
    build_repo(&env.repo(), &["--version", "1"]);
    assert!(python_tuf_verdict(&env.repo(), &py).starts_with("refused: BadVersionNumberError"));
    let err = stderr(&env.initialize(&server, 1));
    assert!(
        err.contains("TUF rollback check failed")
            && err.contains("trusted version 2 > new version 1"),
        "{err}"
    );
    // The cache still holds version 2, which is still valid.
    assert!(stderr(&env.verify(IDENTITY, 0)).contains("Verified OK"));
}

#[test]
fn expired_cache_is_refreshed_from_the_mirror_and_refused_when_it_is_down() {
    let env = Env::new();
    build_repo(&env.repo(), &["--timestamp-expires-seconds", "3"]);
    let server = Server::start(&env.repo());
    env.initialize(&server, 0);
    std::thread::sleep(Duration::from_secs(4));

    // Expired and the mirror is down: refused, saying both.
    let port = server
        .url
        .rsplit(':')
        .next()
        .expect("a port in the server URL")
        .to_owned();
    drop(server);
    let err = stderr(&env.verify(IDENTITY, 2));
    assert!(
        err.contains("cannot be used offline")
            && err.contains("timestamp metadata expired")
            && err.contains("TUF transport check failed"),
        "{err}"
    );

    // The mirror is back with fresh metadata: refreshed, then verified.
    build_repo(&env.repo(), &["--version", "2"]);
    let server = Server::start_on(&env.repo(), &port);
    assert!(stderr(&env.verify(IDENTITY, 0)).contains("Verified OK"));
    drop(server);
}

/// Where signet's cache keeps a mirror's files (docs/cli.md describes the layout).
struct TufCacheLayout {
    metadata: PathBuf,
}

impl TufCacheLayout {
    fn new(cache: &Path, url: &str) -> TufCacheLayout {
        let name: String = url
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        TufCacheLayout {
            metadata: cache.join(name).join("metadata"),
        }
    }

    fn target(&self, name: &str) -> PathBuf {
        self.metadata.join("targets").join(name)
    }
}

/// Issue 11: every command that checks a transparency-log entry takes its trusted root from
/// `--trusted-root`, else from the TUF cache — `verify --key`, `verify-attestation --key` and
/// `verify-blob --key --bundle` alike, as Cosign takes its TUF root for all of them. The TUF
/// repository (built by python-tuf) serves the local Sigstore mock's trusted root; the key's
/// signatures and attestations are logged in the mock's Rekor.
#[test]
fn key_signatures_are_checked_against_the_tuf_cache_without_trusted_root() {
    use crate::keyless::SigstoreMock;
    use crate::util::{Registry, make_sample_image};

    let mock = SigstoreMock::start();
    let registry = Registry::start();
    let env = Env::new();
    let (key, public) = env.scratch.key_pair("cosign");
    let root = mock.out("trusted_root.json");
    let digest = make_sample_image(&registry.host(), "app", "v1", crate::common::sha256);
    let image = format!("{}/app@{digest}", registry.host());
    env.signet()
        .args(["sign", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .arg(&image)
        .assert_success();
    let predicate = env
        .scratch
        .write("prov.json", br#"{"builder": {"id": "x"}}"#);
    env.signet()
        .args(["attest", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .args(["--type", "slsaprovenance", "--predicate"])
        .arg(&predicate)
        .arg(&image)
        .assert_success();
    let file = env.scratch.write("release.tar", b"a release\n");
    env.signet()
        .args(["sign-blob", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(&root)
        .args(["--bundle", "release.sigstore.json"])
        .arg(&file)
        .assert_success();
    let verify = |code: i32| {
        let image_out = env
            .signet()
            .args(["verify", "--key"])
            .arg(&public)
            .arg(&image)
            .assert_exit(code);
        let attestation_out = env
            .signet()
            .args(["verify-attestation", "--type", "slsaprovenance", "--key"])
            .arg(&public)
            .arg(&image)
            .assert_exit(code);
        (image_out, attestation_out)
    };

    // No cache and no --trusted-root: the log entries cannot be checked; the hint says how.
    let (out, att) = verify(1);
    for out in [&out, &att] {
        assert!(
            stderr(out).contains("no trusted root was given to check it against")
                && stderr(out).contains("signet initialize"),
            "{}",
            stderr(out)
        );
    }
    let blob = env
        .signet()
        .args(["verify-blob", "--key"])
        .arg(&public)
        .args(["--bundle", "release.sigstore.json"])
        .arg(&file)
        .assert_exit(2);
    assert!(
        stderr(&blob).contains("signet initialize"),
        "{}",
        stderr(&blob)
    );

    // `signet initialize` from a TUF repository serving the mock's trusted root: every
    // command now checks the entries against it, without --trusted-root.
    let dir = env.repo();
    python(&[
        "build",
        "--out",
        &dir.to_string_lossy(),
        "--target",
        &format!("trusted_root.json={}", root.display()),
    ]);
    let server = Server::start(&dir);
    env.initialize(&server, 0);
    verify(0);
    let blob = env
        .signet()
        .args(["verify-blob", "--key"])
        .arg(&public)
        .args(["--bundle", "release.sigstore.json"])
        .arg(&file)
        .assert_success();
    assert!(stderr(&blob).contains("Verified OK"), "{}", stderr(&blob));

    // A cache of another Sigstore instance's root: the entries are refused, naming the check.
    let other = Env::new();
    build_repo(&other.repo(), &[]);
    let server = Server::start(&other.repo());
    other.initialize(&server, 0);
    let out = other
        .signet()
        .args(["verify", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_exit(1);
    assert!(stderr(&out).contains("[tlog-"), "{}", stderr(&out));
}
