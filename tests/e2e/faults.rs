//! Registry faults and limits on untrusted input: signet through a fault-injecting proxy in
//! front of a real docker-registry (`util::fault_proxy`).
//!
//! Verification retries transient faults (5xx, resets, bodies that break off) with backoff,
//! honours `--timeout`, reports "could not decide" (exit 2) apart from "denied" (exit 1), and
//! never accepts (exit 0) what it could not read whole and intact. Signing never leaves the
//! signature manifest with fewer signatures than before. Oversized answers are refused
//! before they are read (Cosign advisory GHSA-88jx-383q-w4qc for huge layers).

use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Scratch, sha256, stderr};
use crate::util::fault_proxy::{Fault, FaultProxy, Rule};
use crate::util::{Setup, fetch_manifest, push_blob};

/// GETs of the image's signature manifest.
const SIG_MANIFEST: &str = "/v2/app/manifests/sha256-*.sig";
/// GETs of blobs (the signature payloads, for a verification by digest).
const BLOBS: &str = "/v2/app/blobs/sha256:*";
/// Manifest uploads.
const MANIFEST_PUT: &str = "/v2/app/manifests/*";
/// Blob upload sessions (the monolithic PUT with the bytes).
const UPLOAD_PUT: &str = "/v2/app/blobs/uploads/*";

/// 10 GiB.
const HUGE: u64 = 10 * 1024 * 1024 * 1024;

/// The shared fixture (a registry, a key pair `k`), a fault proxy in front of the registry
/// and an image `app:v1`. Derefs to the fixture for its registry and scratch directory.
struct Faulty {
    base: Setup,
    proxy: FaultProxy,
    digest: String,
}

impl std::ops::Deref for Faulty {
    type Target = Setup;

    fn deref(&self) -> &Setup {
        &self.base
    }
}

impl Faulty {
    fn new() -> Faulty {
        let base = Setup::with_keys(&["k"]);
        let proxy = FaultProxy::start(&base.registry);
        let (_, digest) = base.image("app", "v1");
        Faulty {
            base,
            proxy,
            digest,
        }
    }

    /// The image by digest, through the proxy.
    fn image(&self) -> String {
        format!("{}/app@{}", self.proxy.host(), self.digest)
    }

    /// The image by digest, straight from the registry.
    fn direct_image(&self) -> String {
        format!("{}/app@{}", self.registry.host(), self.digest)
    }

    fn sig_tag(&self) -> String {
        format!("{}.sig", self.digest.replace(':', "-"))
    }

    /// The signature manifest's layers, read straight from the registry.
    fn sig_layers(&self) -> Vec<Value> {
        let response = fetch_manifest(&self.registry.host(), "app", &self.sig_tag());
        if response.status == 404 {
            return Vec::new();
        }
        assert_eq!(response.status, 200, "{}", response.text());
        let manifest: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("signature manifest JSON: {e}"));
        manifest["layers"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("the signature manifest has no layers: {manifest}"))
    }

    /// `signet sign` with `key` (a prefix) on `image`; returns the output and how long it took.
    fn sign(&self, key: &str, image: &str) -> (Output, Duration) {
        let started = Instant::now();
        let out = self
            .s
            .signet()
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(format!("{key}.key"))
            .arg(image)
            .output();
        (out, started.elapsed())
    }

    /// `signet verify` with `k.pub` on `image`, with `extra` flags and environment.
    fn verify_with(&self, image: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
        let mut cmd = self.s.signet();
        cmd.args(["verify", "--insecure-ignore-tlog=true", "--key", "k.pub"])
            .args(extra)
            .arg(image);
        for (name, value) in env {
            cmd.env(name, value);
        }
        let started = Instant::now();
        let out = cmd.output();
        (out, started.elapsed())
    }

    /// `signet verify` with `k.pub` through the proxy.
    fn verify(&self) -> (Output, Duration) {
        self.verify_with(&self.image(), &[], &[])
    }

    /// Signs the image with `k` through the proxy, with no fault, so that the payload names
    /// the proxy's host, as the verifications through it expect.
    fn signed() -> Faulty {
        let t = Faulty::new();
        let (out, _) = t.sign("k", &t.image());
        assert_exit(&out, 0, "signing without faults");
        t.proxy.clear();
        t
    }
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstderr:\n{}",
        stderr(out)
    );
}

fn assert_stderr_has(out: &Output, needle: &str) {
    assert!(
        stderr(out).contains(needle),
        "expected {needle:?} in stderr:\n{}",
        stderr(out)
    );
}

/// The client took no more of an oversized answer than its limit and the sockets' buffers
/// hold, a few MiB (a client reading the body whole takes all of it: 128 MiB).
fn assert_body_refused(proxy: &FaultProxy) {
    let sent = proxy.body_bytes_sent();
    assert!(sent < 48 * 1024 * 1024, "{sent} body bytes were taken");
}

#[test]
fn transient_faults_are_retried_and_verification_passes() {
    let t = Faulty::signed();
    // Each read fails twice in a different way, then passes.
    t.proxy
        .add(Rule::new("GET", SIG_MANIFEST, Fault::Status(503)).times(1))
        .add(Rule::new("GET", SIG_MANIFEST, Fault::Reset).times(1))
        .add(Rule::new("GET", BLOBS, Fault::Status(500)).times(1))
        .add(Rule::new("GET", BLOBS, Fault::TruncatedBody).times(1));
    let (out, elapsed) = t.verify();
    assert_exit(&out, 0, "verifying through transient faults");
    assert_eq!(
        t.proxy.count("GET", SIG_MANIFEST),
        3,
        "{:?}",
        t.proxy.seen()
    );
    assert_eq!(t.proxy.count("GET", BLOBS), 3, "{:?}", t.proxy.seen());
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn persistent_faults_could_not_decide_exit_2() {
    let t = Faulty::signed();
    let faults = [
        (SIG_MANIFEST, Fault::Status(503), "HTTP 503"),
        (SIG_MANIFEST, Fault::Reset, "could not be reached"),
        (SIG_MANIFEST, Fault::TruncatedBody, "broke off"),
        (BLOBS, Fault::Status(500), "HTTP 500"),
        (BLOBS, Fault::Reset, "could not be reached"),
        (BLOBS, Fault::TruncatedBody, "broke off"),
    ];
    for (path, fault, message) in faults {
        t.proxy.clear();
        t.proxy.add(Rule::new("GET", path, fault.clone()));
        let (out, elapsed) = t.verify();
        assert_exit(&out, 2, &format!("{fault:?} on every GET {path}"));
        assert_stderr_has(&out, message);
        // The first try and three retries with backoff, then the verdict "could not decide".
        assert_eq!(
            t.proxy.count("GET", path),
            4,
            "{fault:?}: {:?}",
            t.proxy.seen()
        );
        assert!(
            elapsed < Duration::from_secs(10),
            "{fault:?} took {elapsed:?}"
        );
    }
}

#[test]
fn a_body_that_does_not_match_its_digest_is_never_accepted() {
    let t = Faulty::signed();

    // The signature payload: that signature is rejected, nothing verifies.
    t.proxy.add(Rule::new("GET", BLOBS, Fault::CorruptBody));
    let (out, _) = t.verify();
    assert_exit(&out, 1, "a corrupted signature payload");
    assert_stderr_has(&out, "does not match its digest");

    // The signature manifest, read by tag: the registry's Docker-Content-Digest catches it.
    t.proxy.clear();
    t.proxy
        .add(Rule::new("GET", SIG_MANIFEST, Fault::CorruptBody));
    let (out, _) = t.verify();
    assert_exit(&out, 2, "a corrupted signature manifest");
    assert_stderr_has(&out, "does not match its digest");

    // The image manifest, read by tag to find the digest.
    t.proxy.clear();
    t.proxy
        .add(Rule::new("GET", "/v2/app/manifests/v1", Fault::CorruptBody));
    let (out, _) = t.verify_with(&format!("{}/app:v1", t.proxy.host()), &[], &[]);
    assert_exit(&out, 2, "a corrupted image manifest");
    assert_stderr_has(&out, "does not match its digest");
}

#[test]
fn a_redirect_loop_ends_with_a_clear_error_exit_2() {
    let t = Faulty::signed();
    for path in [SIG_MANIFEST, BLOBS] {
        t.proxy.clear();
        t.proxy.add(Rule::new("GET", path, Fault::RedirectLoop));
        let (out, elapsed) = t.verify();
        assert_exit(&out, 2, &format!("a redirect loop on GET {path}"));
        assert_stderr_has(&out, "redirected in a loop");
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    }
}

#[test]
fn a_huge_content_length_is_refused_without_reading_the_body() {
    let t = Faulty::signed();

    // On the signature manifest: could not decide.
    t.proxy.add(Rule::new(
        "GET",
        SIG_MANIFEST,
        Fault::HugeContentLength(HUGE),
    ));
    let (out, elapsed) = t.verify();
    assert_exit(&out, 2, "a 10 GiB signature manifest");
    assert_stderr_has(&out, "over the limit of 4194304 bytes");
    assert_eq!(t.proxy.count("GET", SIG_MANIFEST), 1, "not retried");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_body_refused(&t.proxy);

    // On a signature payload: that signature is rejected.
    t.proxy.clear();
    t.proxy
        .add(Rule::new("GET", BLOBS, Fault::HugeContentLength(HUGE)));
    let (out, elapsed) = t.verify();
    assert_exit(&out, 1, "a 10 GiB signature payload");
    assert_stderr_has(&out, "over the limit of");
    assert_eq!(t.proxy.count("GET", BLOBS), 1, "not retried");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_body_refused(&t.proxy);
}

#[test]
fn a_slow_body_past_the_timeout_could_not_decide_exit_2() {
    let t = Faulty::signed();
    // Hundreds of bytes at 5 bytes per 100 ms: far past the 2 s deadline.
    let slow = Fault::SlowBody {
        bytes: 5,
        pause: Duration::from_millis(100),
    };
    for path in [SIG_MANIFEST, BLOBS] {
        t.proxy.clear();
        t.proxy.add(Rule::new("GET", path, slow.clone()));
        let (out, elapsed) = t.verify_with(&t.image(), &["--timeout", "2s"], &[]);
        assert_exit(&out, 2, &format!("a slow body on GET {path}"));
        assert_stderr_has(&out, "timed out");
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    }
}

#[test]
fn signing_through_faults_never_loses_a_signature() {
    let t = Faulty::new();
    t.s.key_pair("a");
    t.s.key_pair("b");
    t.s.key_pair("c");
    // A signs straight against the registry.
    let (out, _) = t.sign("a", &t.direct_image());
    assert_exit(&out, 0, "signing with a");
    let a_layer = t.sig_layers()[0].clone();
    let has_a = |layers: &[Value]| layers.contains(&a_layer);
    let verify_a = || {
        t.s.signet()
            .args(["verify", "--insecure-ignore-tlog=true", "--key", "a.pub"])
            .arg(t.direct_image())
            .assert_success();
    };

    // B through transient faults: a reset mid-upload, a 503 on the manifest PUT, a body that
    // breaks off while the signature manifest is read. Retried: B is added, A stays.
    t.proxy
        .add(Rule::new("PUT", UPLOAD_PUT, Fault::Reset).times(1))
        .add(Rule::new("PUT", MANIFEST_PUT, Fault::Status(503)).times(1))
        .add(Rule::new("GET", SIG_MANIFEST, Fault::TruncatedBody).times(1));
    let (out, _) = t.sign("b", &t.image());
    assert_exit(&out, 0, "signing with b through transient faults");
    let layers = t.sig_layers();
    assert_eq!(layers.len(), 2, "{layers:?}");
    assert!(has_a(&layers), "a's signature survives: {layers:?}");
    verify_a();
    t.proxy.clear();
    t.s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key", "b.pub"])
        .arg(t.image())
        .assert_success();

    // C through persistent faults: each fails cleanly and removes nothing.
    // The upload first: once a failed attempt has stored c's blobs, no upload is left to cut.
    let persistent = [
        ("PUT", UPLOAD_PUT, Fault::Reset),
        ("PUT", MANIFEST_PUT, Fault::Status(500)),
        ("PUT", MANIFEST_PUT, Fault::Reset),
        ("GET", SIG_MANIFEST, Fault::TruncatedBody),
        // A signature manifest altered on the way is not written back.
        ("GET", SIG_MANIFEST, Fault::CorruptBody),
        ("GET", SIG_MANIFEST, Fault::HugeContentLength(HUGE)),
    ];
    for (method, path, fault) in persistent {
        t.proxy.clear();
        t.proxy.add(Rule::new(method, path, fault.clone()));
        let (out, elapsed) = t.sign("c", &t.image());
        assert_exit(
            &out,
            1,
            &format!("signing with c, {fault:?} on every {method} {path}"),
        );
        let now = t.sig_layers();
        assert!(
            now.len() >= layers.len() && layers.iter().all(|l| now.contains(l)),
            "{fault:?} lost a signature: {now:?}"
        );
        assert!(
            elapsed < Duration::from_secs(15),
            "{fault:?} took {elapsed:?}"
        );
    }
    verify_a();
}

/// Cosign advisory GHSA-88jx-383q-w4qc: a signature layer claiming a huge size is not
/// downloaded, and one whose real size is over `COSIGN_MAX_ATTACHMENT_SIZE` is read no further
/// than the limit, whatever its descriptor claims and however the body is framed.
#[test]
fn huge_signature_layers_are_not_downloaded_ghsa_88jx_383q_w4qc() {
    let t = Faulty::signed();
    let signed = t.sig_layers();
    let payload = push_blob(&t.registry.host(), "app", &vec![b' '; 4096], sha256);
    let config = push_blob(&t.registry.host(), "app", b"{}", sha256);
    let serve_layers = |layers: Vec<Value>| {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": config},
            "layers": layers,
        });
        Fault::Serve {
            content_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
            body: Arc::new(manifest.to_string().into_bytes()),
            digest: None,
            chunked: false,
        }
    };

    // The real signature's layer, claiming 10 GiB: refused from the descriptor, never fetched.
    let mut claims_huge = signed[0].clone();
    claims_huge["size"] = Value::from(HUGE);
    t.proxy.add(Rule::new(
        "GET",
        SIG_MANIFEST,
        serve_layers(vec![claims_huge]),
    ));
    let (out, elapsed) = t.verify();
    assert_exit(&out, 1, "a layer claiming 10 GiB");
    assert_stderr_has(&out, "over the limit of");
    assert_eq!(t.proxy.count("GET", BLOBS), 0, "{:?}", t.proxy.seen());
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    // A layer claiming 100 bytes whose blob is 4096, over a limit of 1024: refused at the
    // Content-Length, and, sent without one, once 1024 bytes have arrived.
    let mut claims_small = signed[0].clone();
    claims_small["digest"] = Value::from(payload);
    claims_small["size"] = Value::from(100);
    for chunked in [false, true] {
        t.proxy.clear();
        t.proxy.add(Rule::new(
            "GET",
            SIG_MANIFEST,
            serve_layers(vec![claims_small.clone()]),
        ));
        if chunked {
            t.proxy.add(Rule::new("GET", BLOBS, Fault::Chunked));
        }
        let (out, _) = t.verify_with(&t.image(), &[], &[("COSIGN_MAX_ATTACHMENT_SIZE", "1024")]);
        assert_exit(
            &out,
            1,
            &format!("a 4096-byte layer claiming 100, chunked: {chunked}"),
        );
        assert_stderr_has(&out, "over the limit of 1024 bytes");
    }
}

/// A signature manifest over the 4 MiB limit (here 128 MiB) is refused before it is buffered:
/// at its Content-Length, or, without one, once 4 MiB have arrived. Verification could not decide;
/// signing fails and writes nothing.
#[test]
fn a_huge_signature_manifest_is_refused_without_buffering_it() {
    let t = Faulty::signed();
    let before = t.sig_layers();
    // 128 MiB of valid JSON.
    let mut fake = br#"{"schemaVersion":2,"layers":[],"padding":""#.to_vec();
    fake.resize(128 * 1024 * 1024, b'x');
    fake.extend_from_slice(b"\"}");
    let fake = Arc::new(fake);
    t.s.key_pair("other");
    for chunked in [false, true] {
        t.proxy.clear();
        t.proxy.add(Rule::new(
            "GET",
            SIG_MANIFEST,
            Fault::Serve {
                content_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
                body: Arc::clone(&fake),
                digest: None,
                chunked,
            },
        ));
        let (out, elapsed) = t.verify();
        assert_exit(
            &out,
            2,
            &format!("a 128 MiB signature manifest, chunked: {chunked}"),
        );
        assert_stderr_has(&out, "over the limit of 4194304 bytes");
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
        assert_body_refused(&t.proxy);

        let (out, _) = t.sign("other", &t.image());
        assert_exit(
            &out,
            1,
            &format!("signing over a 128 MiB manifest, chunked: {chunked}"),
        );
        assert_stderr_has(&out, "over the limit of 4194304 bytes");
        assert_eq!(t.sig_layers(), before, "nothing was written");
    }
}

/// A stand-in for a registry that uses the token flow: `/v2/` challenges with
/// `Bearer realm=…/token`, the realm answers per `token_body`, and manifest reads need
/// `Authorization: Bearer good-token` (then answer 404). Records every request line and its
/// `Authorization` header.
fn token_registry(
    token_body: fn(&mut std::net::TcpStream),
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let realm = format!("http://{host}/token");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).unwrap_or(0) == 0 {
                continue;
            }
            let mut authorization = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    authorization = line.trim_end().to_owned();
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("").to_owned();
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{path} {authorization}"));
            let reply = |stream: &mut std::net::TcpStream, status: &str, headers: &str| {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
            };
            if path == "/v2/" {
                reply(
                    &mut stream,
                    "401 Unauthorized",
                    &format!(
                        "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"test-registry\"\r\n"
                    ),
                );
            } else if path.starts_with("/token") {
                token_body(&mut stream);
            } else if authorization.ends_with("Bearer good-token") {
                reply(&mut stream, "404 Not Found", "");
            } else {
                reply(&mut stream, "401 Unauthorized", "");
            }
        }
    });
    (host, seen)
}

#[test]
fn the_token_flow_is_followed_and_a_huge_token_answer_is_refused_unread() {
    let s = Scratch::new();
    let (_, public) = s.key_pair("k");
    let image = |host: &str| format!("{host}/app@sha256:{}", "ab".repeat(32));

    // A good realm: the token is asked for with the pull scope and used for the reads.
    let (host, seen) = token_registry(|stream| {
        use std::io::Write;
        let body = r#"{"token":"good-token"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(image(&host))
        .assert_exit(1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        seen.iter()
            .any(|r| r.starts_with("/token?service=test-registry&scope=repository%3Aapp%3Apull")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.contains(".sig") && r.ends_with("Bearer good-token")),
        "{seen:?}"
    );

    // A realm that streams without end: refused at the limit, never buffered; exit 2.
    let (host, _) = token_registry(|stream| {
        use std::io::Write;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"token\":\"");
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..256 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let out = s
        .signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(image(&host))
        .assert_exit(2);
    assert!(stderr(&out).contains("over the limit"), "{}", stderr(&out));
}
