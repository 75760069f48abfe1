//! Keyless signing round trips with real peers: `../shared/tools/sigstore-mock` (sigstore-js's
//! `@sigstore/mock` Fulcio, Rekor v1 and TSA on 127.0.0.1) and PyPI `sigstore` 4.5.1
//! (sigstore-python). signet signs and both verify; sigstore-python signs and signet verifies;
//! a wrong identity or issuer is rejected by both.
//!
//! The mock's TSA is on, and it writes `genTime` with fractional seconds
//! (`20261128013809.054Z`, as RFC 3161 allows and sigstore-js's mock, sigstore-python's test
//! TSA and several commercial TSAs do): the round trips with sigstore-python assert that the
//! bundles carry such a timestamp, both ways (signet signs with it and sigstore-python
//! verifies; sigstore-python signs with it and signet verifies). signet reads the fraction
//! through its patched sigstore-tsa (third_party/sigstore-rust). Sigstore's own TSA writes
//! whole seconds, and so does openssl's: `keyless_signing_with_an_openssl_timestamp_authority`
//! signs with an openssl TSA, and signet, sigstore-python and sigstore-js verify the result.
//!
//! Needs node 20 with npm and PyPI sigstore: a missing one is a failure naming its install
//! command (`scripts/test.sh` installs both), never a skip. The mock's `node_modules` is installed once
//! into `$HOME/.cache/signet-sigstore-mock` and shared by every test.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;

use crate::common::{Scratch, stderr};

pub(crate) const IDENTITY: &str = "tester@example.com";
pub(crate) const ISSUER: &str = "https://oidc.mock.example";
const SIGSTORE_PYTHON: &str = "4.5.1";
const INSTALL_SIGSTORE: &str = "pip install sigstore==4.5.1";

fn mock_source() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/sigstore-mock");
    assert!(dir.join("server.js").is_file(), "missing {}", dir.display());
    dir
}

/// `$HOME/.cache/signet-sigstore-mock`, with `npm install` done once.
fn mock_cache() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let cache = Path::new(&home).join(".cache/signet-sigstore-mock");
    if cache
        .join("node_modules/@sigstore/mock/package.json")
        .is_file()
    {
        return cache;
    }
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("creating {}: {e}", cache.display()));
    std::fs::copy(
        mock_source().join("package.json"),
        cache.join("package.json"),
    )
    .unwrap_or_else(|e| panic!("copying package.json: {e}"));
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&cache)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "npm is missing ({e}): install node 20 and npm (`apt-get install -y nodejs npm`)"
            )
        });
    assert!(
        status.success(),
        "`npm install --no-audit --no-fund` in {} failed: {status}",
        cache.display()
    );
    cache
}

/// sigstore-js's verifier (npm `@sigstore/verify` 4.1.3, `tests/sigstore-js/package.json`),
/// installed once into `$HOME/.cache/signet-sigstore-js` with the scripts of
/// `tests/sigstore-js` beside it; returns that directory.
pub(crate) fn sigstore_js_dir() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-js");
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let cache = Path::new(&home).join(".cache/signet-sigstore-js");
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("creating {}: {e}", cache.display()));
    let package = std::fs::read(source.join("package.json")).expect("package.json");
    let installed = std::fs::read(cache.join("package.json")).ok();
    if installed.as_deref() != Some(package.as_slice())
        || !cache
            .join("node_modules/@sigstore/verify/package.json")
            .is_file()
    {
        std::fs::write(cache.join("package.json"), &package).expect("package.json");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&cache)
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("npm is missing ({e}): install node 20 and npm"));
        assert!(
            status.success(),
            "npm install in {} failed",
            cache.display()
        );
    }
    for script in ["verify.js", "realworld.js"] {
        std::fs::copy(source.join(script), cache.join(script))
            .unwrap_or_else(|e| panic!("copying {script}: {e}"));
    }
    cache
}

/// `node tests/sigstore-js/verify.js ROOT BUNDLE IDENTITY ISSUER FILE`: sigstore-js's verifier
/// (see [`sigstore_js_dir`]). Returns whether it printed OK, and what it printed.
pub(crate) fn sigstore_js_verify(
    root: &Path,
    bundle: &Path,
    identity: &str,
    issuer: &str,
    file: &Path,
) -> (bool, String) {
    let cache = sigstore_js_dir();
    let out = Command::new("node")
        .arg(cache.join("verify.js"))
        .arg(root)
        .arg(bundle)
        .args([identity, issuer])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("node: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success() && text.starts_with("OK"), text)
}

/// The mock services on a free loopback port, killed when dropped.
pub(crate) struct SigstoreMock {
    child: Child,
    pub(crate) url: String,
    dir: tempfile::TempDir,
}

impl SigstoreMock {
    pub(crate) fn start() -> Self {
        let cache = mock_cache();
        let dir = tempfile::Builder::new()
            .prefix("signet-sigstore-mock-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::copy(
            mock_source().join("server.js"),
            dir.path().join("server.js"),
        )
        .unwrap_or_else(|e| panic!("copying server.js: {e}"));
        std::os::unix::fs::symlink(cache.join("node_modules"), dir.path().join("node_modules"))
            .unwrap_or_else(|e| panic!("linking node_modules: {e}"));
        std::fs::create_dir(dir.path().join("out")).unwrap_or_else(|e| panic!("mkdir out: {e}"));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("free port: {e}"))
            .port();
        let log = std::fs::File::create(dir.path().join("mock.log"))
            .unwrap_or_else(|e| panic!("mock.log: {e}"));
        let child = Command::new("node")
            .arg("server.js")
            .current_dir(dir.path())
            .env("OUTDIR", "out")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap_or_else(|e| panic!("log: {e}")))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("node is missing ({e}): install node 20 and npm"));
        let mut mock = SigstoreMock {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(mock.out("trust_config.json").is_file()
            && TcpStream::connect(("127.0.0.1", port)).is_ok())
        {
            if let Ok(Some(status)) = mock.child.try_wait() {
                panic!("the sigstore mock exited with {status}: {}", mock.log());
            }
            assert!(
                Instant::now() < deadline,
                "the sigstore mock did not start: {}",
                mock.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        mock
    }

    pub(crate) fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join("out").join(name)
    }

    fn log(&self) -> String {
        let path = self.dir.path().join("mock.log");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| format!("({} cannot be read: {e})", path.display()))
    }
}

impl Drop for SigstoreMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token the mock accepts (it does not check the signature).
pub(crate) fn token() -> String {
    token_for(IDENTITY)
}

/// An identity token whose subject (the certificate identity the mock's Fulcio issues) is
/// `identity`, from [`ISSUER`].
pub(crate) fn token_for(identity: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = format!(
        r#"{{"iss":"{ISSUER}","sub":"{identity}","email":"{identity}","email_verified":true,"aud":"sigstore","iat":{now},"nbf":{now},"exp":{}}}"#,
        now + 3600
    );
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&claims)
    )
}

/// `python3 -m sigstore ARGS` (PyPI sigstore 4.5.1), failing with the install command when
/// it is missing or another version.
pub(crate) fn sigstore_python(cwd: &Path, args: &[&str]) -> Output {
    let version = Command::new("python3")
        .args(["-m", "sigstore", "--version"])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}; then run `{INSTALL_SIGSTORE}` (or run ./scripts/test.sh, which installs every test peer)"));
    let text = String::from_utf8_lossy(&version.stdout).into_owned()
        + &String::from_utf8_lossy(&version.stderr);
    assert!(
        version.status.success() && text.contains(SIGSTORE_PYTHON),
        "PyPI sigstore {SIGSTORE_PYTHON} is missing ({text}): run `{INSTALL_SIGSTORE}` (or run ./scripts/test.sh, which installs every test peer)"
    );
    Command::new("python3")
        .arg("-m")
        .arg("sigstore")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("python3 -m sigstore: {e}"))
}

fn python_verify(
    s: &Scratch,
    mock: &SigstoreMock,
    bundle: &Path,
    identity: &str,
    issuer: &str,
) -> Output {
    let trust = mock.out("trust_config.json");
    sigstore_python(
        s.dir.path(),
        &[
            "--trust-config",
            &trust.to_string_lossy(),
            "verify",
            "identity",
            "--bundle",
            &bundle.to_string_lossy(),
            "--cert-identity",
            identity,
            "--cert-oidc-issuer",
            issuer,
            "file.txt",
        ],
    )
}

fn signet_verify(
    s: &Scratch,
    mock: &SigstoreMock,
    bundle: &Path,
    identity: &str,
    issuer: &str,
    code: i32,
) -> Output {
    s.signet()
        .args(["verify-blob", "--bundle"])
        .arg(bundle)
        .args([
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg("file.txt")
        .assert_exit(code)
}

/// The `genTime` of each RFC 3161 timestamp in `bundle` (a DER GeneralizedTime found in the
/// token's TSTInfo), as text, e.g. `20261128013809.054Z`.
pub(crate) fn timestamp_gen_times(bundle: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle).expect("bundle")).expect("bundle JSON");
    let tokens = json
        .pointer("/verificationMaterial/timestampVerificationData/rfc3161Timestamps")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    tokens
        .iter()
        .filter_map(|t| t["signedTimestamp"].as_str())
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter_map(|der| {
            // TSTInfo's genTime is the first GeneralizedTime (tag 0x18) of the token.
            der.windows(2).enumerate().find_map(|(at, pair)| {
                let len = usize::from(pair[1]);
                let text = der.get(at + 2..at + 2 + len)?;
                let text = std::str::from_utf8(text).ok()?;
                let shaped = (15..=25).contains(&len)
                    && text.ends_with('Z')
                    && text[..14].bytes().all(|b| b.is_ascii_digit());
                (pair[0] == 0x18 && shaped).then(|| text.to_owned())
            })
        })
        .collect()
}

/// Whether sigstore-js 4.1.3 can read every RFC 3161 `genTime` of `bundle`: whole seconds, or
/// exactly three fraction digits (see [`assert_sigstore_js_accepts`]).
pub(crate) fn sigstore_js_reads_timestamps(bundle: &Path) -> bool {
    timestamp_gen_times(bundle).iter().all(|time| {
        let fraction = time.trim_end_matches('Z').get(14..).unwrap_or_default();
        fraction.is_empty() || fraction.len() == 4
    })
}

/// Runs sigstore-js on a bundle signet expects it to accept. sigstore-js 4.1.3 reads an RFC
/// 3161 `genTime` only with no fraction or exactly three fraction digits
/// (`@sigstore/core` `RE_TIME_LONG_YEAR`), while DER drops trailing zeros (X.690 §11.7.3), so
/// about one token in ten from the mock's TSA (`….05Z`, `….5Z`) is one sigstore-js cannot
/// read: for such a bundle, this asserts that sigstore-js refuses it for that reason alone
/// ("invalid time"; docs/compatibility.md) and signet's verdict stands.
pub(crate) fn assert_sigstore_js_accepts(
    root: &Path,
    bundle: &Path,
    identity: &str,
    issuer: &str,
    file: &Path,
    what: &str,
) {
    let (ok, text) = sigstore_js_verify(root, bundle, identity, issuer, file);
    if sigstore_js_reads_timestamps(bundle) {
        assert!(ok, "sigstore-js refused {what}: {text}");
    } else {
        assert!(
            !ok && text.contains("invalid time"),
            "{what}: sigstore-js should refuse a genTime of other than three fraction digits ({:?}) as an invalid time: {text}",
            timestamp_gen_times(bundle)
        );
    }
}

/// Asserts that `bundle` carries an RFC 3161 timestamp whose `genTime` has a fraction of a
/// second: the case sigstore-rust 0.15.1 could not parse.
pub(crate) fn assert_fractional_timestamp(bundle: &Path, who: &str) {
    let times = timestamp_gen_times(bundle);
    assert!(
        times
            .iter()
            .any(|t| t.len() > 15 && t.as_bytes()[14] == b'.'),
        "{who}'s bundle should carry an RFC 3161 timestamp with fractional seconds from the mock's TSA; genTimes: {times:?}"
    );
}

pub(crate) fn assert_python(out: &Output, ok: bool, what: &str) {
    assert_eq!(
        out.status.success(),
        ok,
        "sigstore-python {what}: status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

#[test]
fn signet_keyless_bundle_verifies_with_signet_and_sigstore_python() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("file.txt", b"signed keylessly by signet\n");
    let token = token();
    let out = s
        .signet()
        .args(["sign-blob", "--identity-token", &token, "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", "file.sigstore.json", "file.txt"])
        .assert_success();
    let err = stderr(&out);
    assert!(
        err.contains(IDENTITY) && err.contains("verifies against"),
        "{err}"
    );
    assert!(!err.contains(&token), "the token leaked: {err}");
    let bundle = s.path("file.sigstore.json");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("bundle")).expect("bundle JSON");
    assert_eq!(
        json["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_fractional_timestamp(&bundle, "signet");

    signet_verify(&s, &mock, &bundle, IDENTITY, ISSUER, 0);
    assert_python(
        &python_verify(&s, &mock, &bundle, IDENTITY, ISSUER),
        true,
        "verify",
    );
    let root = mock.out("trusted_root.json");
    assert_sigstore_js_accepts(
        &root,
        &bundle,
        IDENTITY,
        ISSUER,
        &s.path("file.txt"),
        "signet's bundle",
    );

    for (identity, issuer, check) in [
        ("other@example.com", ISSUER, "[identity]"),
        (IDENTITY, "https://other.example", "[issuer]"),
    ] {
        let out = signet_verify(&s, &mock, &bundle, identity, issuer, 1);
        assert!(stderr(&out).contains(check), "{check}: {}", stderr(&out));
        assert_python(
            &python_verify(&s, &mock, &bundle, identity, issuer),
            false,
            "verify (wrong signer)",
        );
    }
}

#[test]
fn sigstore_python_bundle_verifies_with_signet() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("file.txt", b"signed keylessly by sigstore-python\n");
    let out = sigstore_python(
        s.dir.path(),
        &[
            "--trust-config",
            &mock.out("trust_config.json").to_string_lossy(),
            "sign",
            "--identity-token",
            &token(),
            "--bundle",
            "py.sigstore.json",
            "file.txt",
        ],
    );
    assert_python(&out, true, "sign");
    let bundle = s.path("py.sigstore.json");
    assert_fractional_timestamp(&bundle, "sigstore-python");
    signet_verify(&s, &mock, &bundle, IDENTITY, ISSUER, 0);
    let out = signet_verify(&s, &mock, &bundle, "other@example.com", ISSUER, 1);
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));
    let out = signet_verify(&s, &mock, &bundle, IDENTITY, "https://other.example", 1);
    assert!(stderr(&out).contains("[issuer]"), "{}", stderr(&out));
    // Another file: the signature does not cover it.
    s.write("file.txt", b"something else\n");
    let out = signet_verify(&s, &mock, &bundle, IDENTITY, ISSUER, 1);
    assert!(
        stderr(&out).contains("[artifact-digest]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn keyless_from_urls_env_token_and_conformance_sign_bundle() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("file.txt", b"urls and the conformance protocol\n");
    let token = token();
    s.signet()
        .env("SIGSTORE_ID_TOKEN", &token)
        .args([
            "sign-blob",
            "--fulcio-url",
            &mock.url,
            "--rekor-url",
            &mock.url,
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", "urls.json", "file.txt"])
        .assert_success();
    signet_verify(&s, &mock, &s.path("urls.json"), IDENTITY, ISSUER, 0);

    s.signet()
        .args([
            "conformance",
            "sign-bundle",
            "--identity-token",
            &token,
            "--bundle",
            "conf.json",
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("file.txt")
        .assert_success();
    s.signet()
        .args(["conformance", "verify-bundle", "--bundle", "conf.json"])
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg("file.txt")
        .assert_success();

    // --identity-token and --key are exclusive.
    let out = s
        .signet()
        .args([
            "sign-blob",
            "--identity-token",
            &token,
            "--key",
            "cosign.key",
            "file.txt",
        ])
        .assert_exit(2);
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(&token), "the token leaked");
}

#[test]
fn keyless_failure_names_the_service_and_never_the_token() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("file.txt", b"x\n");
    let token = token();
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = s
        .signet()
        .args(["sign-blob", "--identity-token", &token])
        .args([
            "--fulcio-url",
            &format!("http://127.0.0.1:{closed}"),
            "--rekor-url",
            &mock.url,
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", "never.json", "file.txt"])
        .assert_exit(1);
    let err = stderr(&out);
    assert!(err.contains("Fulcio"), "{err}");
    assert!(!err.contains(&token), "the token leaked: {err}");
    assert!(!s.path("never.json").exists());

    // A trusted root of another instance: the bundle is made but does not verify, so it is
    // not written.
    let other = SigstoreMock::start();
    let out = s
        .signet()
        .args(["sign-blob", "--identity-token", &token, "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(other.out("trusted_root.json"))
        .args(["--bundle", "never.json", "file.txt"])
        .assert_exit(1);
    assert!(stderr(&out).contains("does not verify"), "{}", stderr(&out));
    assert!(!s.path("never.json").exists());
}

/// A SLSA v1 provenance predicate (builder `https://example.com/builder`), as a file.
pub(crate) fn slsa_predicate(s: &Scratch) -> PathBuf {
    s.write(
        "provenance.json",
        br#"{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    )
}

fn verify_attestation_bundle(
    s: &Scratch,
    mock: &SigstoreMock,
    bundle: &str,
    identity: &str,
    predicate_type: &str,
    file: &str,
    code: i32,
) -> Output {
    s.signet()
        .args(["verify-blob-attestation", "--bundle", bundle])
        .args(["--certificate-identity", identity])
        .args([
            "--certificate-oidc-issuer",
            ISSUER,
            "--type",
            predicate_type,
        ])
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg(file)
        .assert_exit(code)
}

#[test]
fn keyless_attestations_of_files_verify_with_sigstore_js() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("artifact.tgz", b"an artifact with provenance\n");
    s.write("other.tgz", b"another artifact\n");
    let predicate = slsa_predicate(&s);

    // signet attests; signet and sigstore-python verify.
    s.signet()
        .args([
            "attest-blob",
            "--identity-token",
            &token(),
            "--type",
            "slsaprovenance1",
        ])
        .arg("--predicate")
        .arg(&predicate)
        .arg("--signing-config")
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", "signet.sigstore.json", "artifact.tgz"])
        .assert_success();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("signet.sigstore.json")).expect("bundle"))
            .expect("bundle JSON");
    assert!(bundle["dsseEnvelope"].is_object(), "{bundle}");
    verify_attestation_bundle(
        &s,
        &mock,
        "signet.sigstore.json",
        IDENTITY,
        "slsaprovenance1",
        "artifact.tgz",
        0,
    );
    let out = verify_attestation_bundle(
        &s,
        &mock,
        "signet.sigstore.json",
        "other@example.com",
        "slsaprovenance1",
        "artifact.tgz",
        1,
    );
    assert!(stderr(&out).contains("[identity]"), "{}", stderr(&out));
    // A Cosign-style substring regex is refused with the anchoring hint (issue 16); with `.*`
    // it verifies.
    let by_regex = |regex: &str, code: i32| {
        s.signet()
            .args([
                "verify-blob-attestation",
                "--bundle",
                "signet.sigstore.json",
            ])
            .args(["--certificate-identity-regexp", regex])
            .args([
                "--certificate-oidc-issuer",
                ISSUER,
                "--type",
                "slsaprovenance1",
            ])
            .arg("--trusted-root")
            .arg(mock.out("trusted_root.json"))
            .arg("artifact.tgz")
            .assert_exit(code)
    };
    let out = by_regex("example", 1);
    assert!(
        stderr(&out).contains("[identity]")
            && stderr(&out)
                .contains("matches only as a substring; signet anchors identity regexes"),
        "{}",
        stderr(&out)
    );
    by_regex(".*example.*", 0);
    let out = verify_attestation_bundle(
        &s,
        &mock,
        "signet.sigstore.json",
        IDENTITY,
        "slsaprovenance1",
        "other.tgz",
        1,
    );
    assert!(
        stderr(&out).contains("[artifact-digest]"),
        "{}",
        stderr(&out)
    );
    let out = verify_attestation_bundle(
        &s,
        &mock,
        "signet.sigstore.json",
        IDENTITY,
        "spdxjson",
        "artifact.tgz",
        1,
    );
    assert!(stderr(&out).contains("predicate type"), "{}", stderr(&out));
    // sigstore-js verifies signet's DSSE bundle (logged as intoto v0.0.2), refuses another
    // identity and another file. sigstore-python 4.5.1 refuses intoto entries ("Integrated
    // time only supported for dsse/hashedrekord 0.0.1 types"): a known divergence.
    let root = mock.out("trusted_root.json");
    let js = |bundle: &str, identity: &str, file: &str| {
        sigstore_js_verify(&root, &s.path(bundle), identity, ISSUER, &s.path(file))
    };
    assert_sigstore_js_accepts(
        &root,
        &s.path("signet.sigstore.json"),
        IDENTITY,
        ISSUER,
        &s.path("artifact.tgz"),
        "signet's attestation",
    );
    assert!(!js("signet.sigstore.json", "other@example.com", "artifact.tgz").0);
    assert!(!js("signet.sigstore.json", IDENTITY, "other.tgz").0);

    // sigstore-python attests against the mock: its dsse entry is recorded as proposed (the
    // mock log does not compute the canonical body a real Rekor would), so neither
    // sigstore-js nor signet can match the entry to the envelope; both refuse it on that
    // check, and a wrong identity or file is refused as well.
    let trust = mock.out("trust_config.json");
    let out = sigstore_python(
        s.dir.path(),
        &[
            "--trust-config",
            &trust.to_string_lossy(),
            "attest",
            "--identity-token",
            &token(),
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
            &predicate.to_string_lossy(),
            "--bundle",
            "python.sigstore.json",
            "artifact.tgz",
        ],
    );
    assert_python(&out, true, "attest");
    let (ok, text) = js("python.sigstore.json", IDENTITY, "artifact.tgz");
    // sigstore-js reads the timestamp first: one it cannot read is its reason then.
    let reason = if sigstore_js_reads_timestamps(&s.path("python.sigstore.json")) {
        "TLOG_BODY_ERROR"
    } else {
        "invalid time"
    };
    assert!(!ok && text.contains(reason), "{text}");
    let out = verify_attestation_bundle(
        &s,
        &mock,
        "python.sigstore.json",
        IDENTITY,
        "slsaprovenance1",
        "artifact.tgz",
        1,
    );
    assert!(stderr(&out).contains("[tlog-entry]"), "{}", stderr(&out));
}

/// A stand-in for GitHub Actions' OIDC token endpoint on loopback: answers
/// `GET /token?...&audience=sigstore` carrying `Authorization: Bearer <request_token>` with
/// `{"value": <id_token>}`, anything else with 403. Serves `requests` requests, then stops.
fn github_token_endpoint(request_token: &'static str, id_token: String, requests: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:")
                    && line
                        .trim_end()
                        .ends_with(&format!("Bearer {request_token}"))
                {
                    authorized = true;
                }
            }
            let ok = authorized && request_line.contains("audience=sigstore");
            let (status, body) = if ok {
                ("200 OK", format!(r#"{{"value":"{id_token}"}}"#))
            } else {
                ("403 Forbidden", r#"{"message":"forbidden"}"#.to_owned())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/token?api-version=2.0")
}

#[test]
fn ambient_github_actions_token_signs_keylessly() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    s.write("file.txt", b"signed in CI\n");
    let url = github_token_endpoint("request-s3cret", token(), 2);
    let sign = |request_token: &str, bundle: &str| {
        let mut cmd = s.signet();
        cmd.env_remove("SIGSTORE_ID_TOKEN")
            .env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", &url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token)
            .args(["sign-blob", "--signing-config"])
            .arg(mock.out("signing_config.json"))
            .arg("--trusted-root")
            .arg(mock.out("trusted_root.json"))
            .args(["--bundle", bundle, "file.txt"]);
        cmd
    };
    let out = sign("request-s3cret", "ci.sigstore.json").assert_success();
    assert!(
        stderr(&out).contains("ambient OIDC token"),
        "{}",
        stderr(&out)
    );
    signet_verify(&s, &mock, &s.path("ci.sigstore.json"), IDENTITY, ISSUER, 0);

    // A refused request: the failure names the endpoint and never shows the request token.
    let out = sign("wrong-token", "never.json").assert_exit(1);
    let err = stderr(&out);
    assert!(err.contains("OIDC token endpoint"), "{err}");
    assert!(
        !err.contains("wrong-token"),
        "the request token leaked: {err}"
    );
    assert!(!s.path("never.json").exists());
}

#[test]
fn key_signed_blobs_are_recorded_in_rekor_with_a_bundle() {
    let mock = SigstoreMock::start();
    let other = SigstoreMock::start();
    let s = Scratch::new();
    let (key, public) = s.key_pair("cosign");
    s.write("file.txt", b"signed with a key, logged\n");
    let out = s
        .signet()
        .args(["sign-blob", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "--trusted-root"])
        .arg(mock.out("trusted_root.json"))
        .args(["--bundle", "key.sigstore.json", "file.txt"])
        .assert_success();
    assert!(!out.stdout.is_empty(), "the signature is still printed");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("key.sigstore.json")).expect("bundle"))
            .expect("bundle JSON");
    assert!(
        bundle["verificationMaterial"]["publicKey"].is_object(),
        "{bundle}"
    );
    let verify = |root: &Path, file: &str, code: i32| {
        s.signet()
            .args(["verify-blob", "--key"])
            .arg(&public)
            .args(["--bundle", "key.sigstore.json", "--trusted-root"])
            .arg(root)
            .arg(file)
            .assert_exit(code)
    };
    verify(&mock.out("trusted_root.json"), "file.txt", 0);
    let out = verify(&other.out("trusted_root.json"), "file.txt", 1);
    assert!(stderr(&out).contains("[tlog-"), "{}", stderr(&out));
    s.write("other.txt", b"something else\n");
    let out = verify(&mock.out("trusted_root.json"), "other.txt", 1);
    assert!(
        stderr(&out).contains("[artifact-digest]"),
        "{}",
        stderr(&out)
    );

    // Without --bundle the log entry would be lost: refused before the key is read, as a
    // usage error (exit 2).
    let out = s
        .signet()
        .args(["sign-blob", "--key"])
        .arg(&key)
        .args(["--rekor-url", &mock.url, "file.txt"])
        .assert_exit(2);
    assert!(stderr(&out).contains("--bundle"), "{}", stderr(&out));
}

/// An RFC 3161 timestamp authority on loopback made of openssl (`openssl ts -reply`, whole
/// seconds): a CA and a TSA certificate (EKU timeStamping, critical) made with openssl, and a
/// tiny HTTP front that hands each query to `openssl ts -reply`. Returns the URL and the
/// trusted-root entry (`timestampAuthorities[]`) for its chain. The reply carries the TSA
/// certificate only: with the CA too, openssl writes the SignedData certificates SET out of
/// DER order, which PyPI rfc3161-client (sigstore-python's parser) rejects.
fn openssl_tsa(dir: &Path) -> (String, serde_json::Value) {
    use std::io::{BufRead, BufReader, Read, Write};
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("openssl: {e}"));
        assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/O=signet test/CN=tsa root",
        "-days",
        "2",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        "/O=signet test/CN=tsa",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .expect("ext.cnf");
    run(&[
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tsa.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    std::fs::write(
        dir.join("tsa.cnf"),
        "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\ndir = .\nserial = ./serial\n\
         crypto_device = builtin\nsigner_cert = ./tsa.pem\n\
         signer_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.57264.2\n\
         digests = sha256, sha384, sha512\naccuracy = secs:1\nclock_precision_digits = 0\n\
         ordering = no\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
    )
    .expect("tsa.cnf");
    std::fs::write(dir.join("serial"), "01\n").expect("serial");
    let der = |pem: &str| -> String {
        let text = std::fs::read_to_string(dir.join(pem)).expect("pem");
        text.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    };
    let authority = serde_json::json!({
        "subject": {"organization": "signet test", "commonName": "tsa"},
        "certChain": {"certificates": [{"rawBytes": der("tsa.pem")}, {"rawBytes": der("ca.pem")}]},
        "validFor": {"start": "2020-01-01T00:00:00Z"},
    });

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut query = vec![0u8; length.min(1 << 16)];
            if reader.read_exact(&mut query).is_err() {
                continue;
            }
            let (q, r) = (format!("q{n}.tsq"), format!("r{n}.tsr"));
            let _ = std::fs::write(dir.join(&q), &query);
            let ok = Command::new("openssl")
                .args([
                    "ts",
                    "-reply",
                    "-config",
                    "tsa.cnf",
                    "-queryfile",
                    &q,
                    "-out",
                    &r,
                ])
                .current_dir(&dir)
                .output()
                .is_ok_and(|o| o.status.success());
            // A reply openssl wrote but that cannot be read is answered as a failure, and said.
            let body = if ok {
                std::fs::read(dir.join(&r)).map_err(|e| eprintln!("the TSA reply {r}: {e}"))
            } else {
                Err(())
            };
            let (ok, body) = match body {
                Ok(body) => (true, body),
                Err(()) => (false, Vec::new()),
            };
            let status = if ok {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    (format!("http://127.0.0.1:{port}/tsa"), authority)
}

#[test]
fn keyless_signing_with_an_openssl_timestamp_authority() {
    let mock = SigstoreMock::start();
    let s = Scratch::new();
    let tsa_dir = s.path("tsa");
    std::fs::create_dir(&tsa_dir).expect("tsa dir");
    let (tsa_url, authority) = openssl_tsa(&tsa_dir);
    // The mock's trusted root and signing config, with openssl's TSA in place of the mock's.
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(mock.out(name)).expect(name)).expect(name)
    };
    let mut root = read("trusted_root.json");
    root["timestampAuthorities"] = serde_json::json!([authority]);
    let mut config = read("signing_config.json");
    config["tsaUrls"] = serde_json::json!([{
        "url": tsa_url, "majorApiVersion": 1, "operator": "openssl",
        "validFor": {"start": "2020-01-01T00:00:00Z"},
    }]);
    let root_path = s.write("trusted_root.json", root.to_string().as_bytes());
    let config_path = s.write("signing_config.json", config.to_string().as_bytes());
    let trust = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root, "signingConfig": config,
    });
    let trust_path = s.write("trust_config.json", trust.to_string().as_bytes());
    s.write("file.txt", b"signed and timestamped\n");

    s.signet()
        .args([
            "sign-blob",
            "--identity-token",
            &token(),
            "--signing-config",
        ])
        .arg(&config_path)
        .arg("--trusted-root")
        .arg(&root_path)
        .args(["--bundle", "ts.sigstore.json", "file.txt"])
        .assert_success();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("ts.sigstore.json")).expect("bundle"))
            .expect("bundle JSON");
    let timestamps =
        &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(timestamps.as_array().map(Vec::len), Some(1), "{bundle}");

    // signet, sigstore-python and sigstore-js accept the timestamped bundle.
    s.signet()
        .args(["verify-blob", "--bundle", "ts.sigstore.json"])
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .arg("--trusted-root")
        .arg(&root_path)
        .arg("file.txt")
        .assert_success();
    let out = sigstore_python(
        s.dir.path(),
        &[
            "--trust-config",
            &trust_path.to_string_lossy(),
            "verify",
            "identity",
            "--bundle",
            "ts.sigstore.json",
            "--cert-identity",
            IDENTITY,
            "--cert-oidc-issuer",
            ISSUER,
            "file.txt",
        ],
    );
    assert_python(&out, true, "verify a bundle timestamped by openssl");
    let (ok, text) = sigstore_js_verify(
        &root_path,
        &s.path("ts.sigstore.json"),
        IDENTITY,
        ISSUER,
        &s.path("file.txt"),
    );
    assert!(ok, "sigstore-js: {text}");

    // A trusted root that does not list this TSA: the timestamp is refused by name.
    let mut other_root = root.clone();
    other_root["timestampAuthorities"] = read("trusted_root.json")["timestampAuthorities"].clone();
    let other_path = s.write("other_root.json", other_root.to_string().as_bytes());
    let out = s
        .signet()
        .args(["verify-blob", "--bundle", "ts.sigstore.json"])
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .arg("--trusted-root")
        .arg(&other_path)
        .arg("file.txt")
        .assert_exit(1);
    assert!(stderr(&out).contains("[timestamp]"), "{}", stderr(&out));
}
