//! `signet admission serve` on a real docker-registry, asked over HTTPS by a real client
//! (reqwest on rustls, HTTP/2 or HTTP/1.1 as negotiated) with AdmissionReview requests in
//! the shapes an API server sends (tests/data/admission, README there), and by a
//! Gatekeeper-shaped client with mutual TLS. Certificates are made with openssl; images are
//! pushed to docker-registry and signed by signet; faults come from the fault proxy.
//!
//! Tests named after a security class say which gap they close: a moved tag, reference
//! normalisation, a bad last image, annotations that claim "verified", multi-arch indexes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Scratch, read_to_string, sha256};
use crate::util::fault_proxy::{Fault, FaultProxy, Rule};
use crate::util::{Setup, fetch_manifest, make_sample_image, push_manifest};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/admission");

/// An AdmissionReview of tests/data/admission with its image placeholders replaced.
fn fixture(name: &str, images: &[(&str, &str)]) -> Value {
    let mut text = read_to_string(Path::new(DATA).join(name));
    for (placeholder, image) in images {
        text = text.replace(&format!("{{{{{placeholder}}}}}"), image);
    }
    assert!(
        !text.contains("{{"),
        "{name}: a placeholder was not given an image"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl)
// ---------------------------------------------------------------------------------------------

/// A CA with a server certificate for 127.0.0.1, a Gatekeeper CA with a client certificate,
/// and a CA nobody trusts with a client certificate of its own.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new(s: &Scratch) -> Pki {
        let dir = s.path("pki");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let pki = Pki { dir };
        pki.ca("ca");
        pki.leaf(
            "ca",
            "tls",
            "serverAuth",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
            1,
        );
        pki.ca("gatekeeper-ca");
        pki.leaf("gatekeeper-ca", "gatekeeper", "clientAuth", "", 2);
        pki.ca("rogue-ca");
        pki.leaf("rogue-ca", "rogue", "clientAuth", "", 3);
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("openssl is needed (./scripts/test.sh installs it): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ca(&self, name: &str) {
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }

    /// A certificate `name` issued by `ca` for `usage` (serverAuth, clientAuth).
    fn leaf(&self, ca: &str, name: &str, usage: &str, extra: &str, serial: u32) {
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ]);
        std::fs::write(
            self.path(&format!("{name}.ext")),
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n{extra}"
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            &serial.to_string(),
            "-days",
            "2",
            "-out",
            &format!("{name}.crt"),
            "-extfile",
            &format!("{name}.ext"),
        ]);
    }

    /// A client identity (certificate and key, PEM) for reqwest.
    fn identity(&self, name: &str) -> reqwest::Identity {
        let mut pem = std::fs::read(self.path(&format!("{name}.crt"))).unwrap_or_default();
        pem.extend(std::fs::read(self.path(&format!("{name}.key"))).unwrap_or_default());
        reqwest::Identity::from_pem(&pem).unwrap_or_else(|e| panic!("identity {name}: {e}"))
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// `signet admission serve` on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    url: String,
    logs: Arc<Mutex<Vec<String>>>,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    ca: PathBuf,
}

impl Server {
    /// Serves `policy` with the test PKI's server certificate; `extra` are more flags,
    /// `env` more environment.
    fn start(
        s: &Scratch,
        pki: &Pki,
        policy: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signet"));
        command
            .args(["admission", "serve", "--policy"])
            .arg(policy)
            .arg("--tls-cert")
            .arg(pki.path("tls.crt"))
            .arg("--tls-key")
            .arg(pki.path("tls.key"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--reload-interval",
                "100ms",
                "--shutdown-delay",
                "300ms",
            ])
            .args(extra)
            .current_dir(s.dir.path())
            .env("DOCKER_CONFIG", s.path("no-docker-config"))
            .env("SIGNET_TUF_CACHE", s.path("no-tuf-cache"))
            .env_remove("POD_NAMESPACE")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting signet: {e}"));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        {
            let logs = Arc::clone(&logs);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(event) = serde_json::from_str::<Value>(&line)
                        && event["msg"] == "listening"
                        && let Some(address) = event["address"].as_str()
                    {
                        let _ = address_tx.send(address.to_owned());
                    }
                    logs.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let address = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the admission server did not start; its log:\n{}",
                    logs.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
                );
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let ca = pki.path("ca.crt");
        let client = client(&ca, None);
        Server {
            child,
            url: format!("https://{address}"),
            logs,
            runtime,
            client,
            ca,
        }
    }

    /// POSTs `body` to `path`: (status, body as JSON or as a string).
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_bytes(
            &self.client,
            path,
            serde_json::to_vec(body).unwrap_or_default(),
        )
    }

    fn post_bytes(&self, client: &reqwest::Client, path: &str, body: Vec<u8>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        self.runtime
            .block_on(send(client, &url, body))
            .unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// The AdmissionReview `response` to `review` from the `webhook` path, which must answer
    /// 200 and echo the uid.
    fn review(&self, path: &str, review: &Value) -> Value {
        let (status, body) = self.post(path, review);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1", "{body}");
        assert_eq!(body["kind"], "AdmissionReview", "{body}");
        assert_eq!(body["response"]["uid"], review["request"]["uid"], "{body}");
        body["response"].clone()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        self.runtime
            .block_on(async {
                let response = self.client.get(&url).send().await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            })
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// The JSON log events so far with `msg`.
    fn events(&self, msg: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["msg"] == msg)
            .collect()
    }

    /// Waits (at most 30 s) for a log event with `msg`.
    fn wait_for_event(&self, msg: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = self.events(msg).pop() {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no {msg:?} event; the log:\n{}",
                self.logs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log event of the request `uid`.
    fn admission_event(&self, uid: &Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(event) = self
                .events("admission")
                .into_iter()
                .find(|e| e["uid"] == *uid)
            {
                return event;
            }
            assert!(Instant::now() < deadline, "no admission event for {uid}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client trusting `ca`, TLS 1.3 only (as Gatekeeper's), presenting `identity` if given.
fn client(ca: &Path, identity: Option<reqwest::Identity>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap_or_default())
        .unwrap_or_else(|e| panic!("CA: {e}"));
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .tls_version_min(reqwest::tls::Version::TLS_1_3)
        .tls_info(true)
        .no_proxy();
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    builder.build().unwrap_or_else(|e| panic!("client: {e}"))
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((status, value))
}

/// The JSON patch of a response, decoded.
fn patch(response: &Value) -> Vec<Value> {
    let Some(encoded) = response["patch"].as_str() else {
        return Vec::new();
    };
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_else(|e| panic!("patch base64: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("patch JSON: {e}"))
}

fn message(response: &Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A YAML policy with the key authorities `release` and `other` (log entries not required)
/// and `body` (HOST is the registry's host); returns its path.
fn write_policy(t: &Setup, name: &str, host: &str, body: &str) -> PathBuf {
    let text = format!(
        "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  release: {{ key: {{ path: release.pub }}, transparencyLog: ignore }}\n  other: {{ key: {{ path: other.pub }}, transparencyLog: ignore }}\n{}",
        body.replace("HOST", host)
    );
    t.s.write(name, text.as_bytes())
}

/// Every image of HOST must be signed by `release`.
const RELEASE_ONLY: &str = "policies:\n  - name: prod\n    images: [\"HOST/**\"]\n    signatures:\n      authorities: [release]\n";

fn setup() -> (Setup, Pki) {
    let t = Setup::with_keys(&["release", "other"]);
    let pki = Pki::new(&t.s);
    (t, pki)
}

/// Pushes `repo:tag` and returns (`host/repo:tag`, digest).
fn tagged(t: &Setup, host: &str, repo: &str, tag: &str) -> (String, String) {
    let digest = make_sample_image(&t.registry.host(), repo, tag, sha256);
    (format!("{host}/{repo}:{tag}"), digest)
}

/// Signs `host/repo@digest` with the key `key`.
fn sign(t: &Setup, key: &str, repo: &str, digest: &str) {
    t.sign(
        &t.key(key),
        &format!("{}/{repo}@{digest}", t.registry.host()),
    );
}

// ---------------------------------------------------------------------------------------------
// Allowed, refused, and the patch
// ---------------------------------------------------------------------------------------------

#[test]
fn signed_images_are_admitted_and_pinned_to_the_verified_digest() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (sidecar, sidecar_digest) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    for (repo, digest) in [
        ("app", &app_digest),
        ("sidecar", &sidecar_digest),
        ("init", &init_digest),
    ] {
        sign(&t, "release", repo, digest);
    }
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let review = fixture(
        "pod-create.json",
        &[("APP", &app), ("SIDECAR", &sidecar), ("INIT", &init)],
    );

    let response = server.review("/mutate?timeout=10s", &review);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("status").is_none(), "{response}");
    // The patch pins each tag to the digest that was verified, in image order.
    assert_eq!(
        patch(&response),
        [
            json!({"op": "replace", "path": "/spec/initContainers/0/image", "value": format!("{init}@{init_digest}")}),
            json!({"op": "replace", "path": "/spec/containers/0/image", "value": format!("{app}@{app_digest}")}),
            json!({"op": "replace", "path": "/spec/containers/1/image", "value": format!("{sidecar}@{sidecar_digest}")}),
        ]
    );
    // The validating webhook decides the same and patches nothing.
    let response = server.review("/validate?timeout=10s", &review);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("patch").is_none(), "{response}");
    // The pinned object (what the mutating webhook made of it) is admitted without resolving
    // any tag, and nothing more is patched.
    let pinned = fixture(
        "pod-create.json",
        &[
            ("APP", &format!("{app}@{app_digest}")),
            ("SIDECAR", &format!("{sidecar}@{sidecar_digest}")),
            ("INIT", &format!("{init}@{init_digest}")),
        ],
    );
    let response = server.review("/mutate", &pinned);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("patch").is_none(), "{response}");
    // The log line: uid, each image with its digest and decision.
    let event = server.admission_event(&review["request"]["uid"]);
    assert_eq!(event["decision"], "allow", "{event}");
    assert_eq!(event["namespace"], "shop", "{event}");
    assert_eq!(event["images"][1]["digest"], app_digest.as_str(), "{event}");
    assert_eq!(event["images"][1]["decision"], "allow", "{event}");
}

#[test]
fn refusals_name_the_field_the_image_and_the_failed_check() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (sidecar, _) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    sign(&t, "release", "app", &app_digest);
    // The init container is signed, by a key the policy does not name.
    sign(&t, "other", "init", &init_digest);
    let (attested, attested_digest) = tagged(&t, &host, "attested", "v1");
    sign(&t, "release", "attested", &attested_digest);
    let policy = write_policy(
        &t,
        "policy.yaml",
        &host,
        &format!(
            "{RELEASE_ONLY}  - name: provenance\n    images: [\"HOST/attested\"]\n    attestations:\n      - predicateType: slsaprovenance\n        authorities: [release]\n"
        ),
    );
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let review = fixture(
        "pod-create.json",
        &[("APP", &app), ("SIDECAR", &sidecar), ("INIT", &init)],
    );
    let response = server.review("/mutate?timeout=10s", &review);
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 403, "{response}");
    assert!(
        response.get("patch").is_none(),
        "a refused request is not patched: {response}"
    );
    let text = message(&response);
    assert!(
        text.starts_with("signet refused 2 of 3 image(s): "),
        "{text}"
    );
    // Unsigned: where it looked.
    assert!(
        text.contains(&format!("spec.containers[1].image \"{sidecar}\"")),
        "{text}"
    );
    assert!(text.contains("no signatures found (looked in"), "{text}");
    // Wrong key: the signature that is there does not verify with the policy's key.
    assert!(
        text.contains(&format!(
            "spec.initContainers[0].image \"{init}\" ({init_digest})"
        )),
        "{text}"
    );
    assert!(
        text.contains("release: none of the 1 signature(s) verifies with this key"),
        "{text}"
    );
    assert!(
        !text.contains("spec.containers[0].image"),
        "the signed image is not refused: {text}"
    );

    // Missing attestation: signed, but the provenance the policy requires is not there.
    let review = fixture(
        "pod-create.json",
        &[
            ("APP", &attested),
            ("SIDECAR", &app),
            ("INIT", &format!("{host}/app@{app_digest}")),
        ],
    );
    let response = server.review("/validate", &review);
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.starts_with("signet refused 1 of 3 image(s): spec.containers[0].image"),
        "{text}"
    );
    assert!(
        text.contains("policy \"provenance\": attestation https://slsa.dev/provenance/v0.2"),
        "{text}"
    );
    assert!(
        text.contains("no https://slsa.dev/provenance/v0.2 attestation verifies with this key"),
        "{text}"
    );
}

#[test]
fn every_workload_kind_and_every_container_list_is_checked() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (sidecar, sidecar_digest) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    let (unsigned, _) = tagged(&t, &host, "unsigned", "v1");
    for (repo, digest) in [
        ("app", &app_digest),
        ("sidecar", &sidecar_digest),
        ("init", &init_digest),
    ] {
        sign(&t, "release", repo, digest);
    }
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let kinds = [
        ("pod-create-by-replicaset.json", "/spec", "spec"),
        (
            "deployment-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "replicaset-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "statefulset-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "daemonset-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "job-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "replicationcontroller-create.json",
            "/spec/template/spec",
            "spec.template.spec",
        ),
        (
            "cronjob-create.json",
            "/spec/jobTemplate/spec/template/spec",
            "spec.jobTemplate.spec.template.spec",
        ),
    ];
    for (file, pointer, path) in kinds {
        let signed = fixture(
            file,
            &[("APP", &app), ("SIDECAR", &sidecar), ("INIT", &init)],
        );
        let response = server.review("/mutate", &signed);
        assert_eq!(response["allowed"], true, "{file}: {response}");
        let ops = patch(&response);
        assert_eq!(ops.len(), 3, "{file}: {ops:?}");
        assert_eq!(
            ops[1]["path"],
            format!("{pointer}/containers/0/image"),
            "{file}"
        );
        assert_eq!(ops[1]["value"], format!("{app}@{app_digest}"), "{file}");
        for (placeholder, field) in [("SIDECAR", "containers[1]"), ("INIT", "initContainers[0]")] {
            let mut images = vec![
                ("APP", app.as_str()),
                ("SIDECAR", sidecar.as_str()),
                ("INIT", init.as_str()),
            ];
            for image in &mut images {
                if image.0 == placeholder {
                    image.1 = unsigned.as_str();
                }
            }
            let response = server.review("/validate", &fixture(file, &images));
            assert_eq!(
                response["allowed"], false,
                "{file} {placeholder}: {response}"
            );
            let text = message(&response);
            assert!(
                text.contains(&format!("{path}.{field}.image \"{unsigned}\"")),
                "{file}: {text}"
            );
        }
    }
    // The metrics count requests by kind, operation and decision.
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            "signet_admission_requests_total{endpoint=\"validate\",kind=\"CronJob\",operation=\"CREATE\",decision=\"deny\"} 2"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("signet_admission_cache_hits_total"),
        "{metrics}"
    );
}

#[test]
fn kubectl_debug_ephemeral_containers_and_image_volumes_are_checked() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (sidecar, sidecar_digest) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    let (debug, debug_digest) = tagged(&t, &host, "debug", "v1");
    let (model, model_digest) = tagged(&t, &host, "model", "v1");
    let (unsigned, _) = tagged(&t, &host, "unsigned", "v1");
    for (repo, digest) in [
        ("app", &app_digest),
        ("sidecar", &sidecar_digest),
        ("init", &init_digest),
        ("debug", &debug_digest),
        ("model", &model_digest),
    ] {
        sign(&t, "release", repo, digest);
    }
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let running = [
        ("APP", app.as_str()),
        ("SIDECAR", sidecar.as_str()),
        ("INIT", init.as_str()),
    ];

    // kubectl debug with an unsigned image: the pods/ephemeralcontainers UPDATE is refused.
    let mut images = running.to_vec();
    images.push(("DEBUG", &unsigned));
    let review = fixture("pod-ephemeralcontainers-update.json", &images);
    assert_eq!(review["request"]["subResource"], "ephemeralcontainers");
    let response = server.review("/mutate", &review);
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains(&format!("spec.ephemeralContainers[0].image \"{unsigned}\"")),
        "{response}"
    );
    // With a signed image it is admitted, and only the new container is pinned: the others
    // did not change (and a subresource update could not change them).
    images.pop();
    images.push(("DEBUG", &debug));
    let response = server.review(
        "/mutate",
        &fixture("pod-ephemeralcontainers-update.json", &images),
    );
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        patch(&response),
        [
            json!({"op": "replace", "path": "/spec/ephemeralContainers/0/image", "value": format!("{debug}@{debug_digest}")})
        ]
    );

    // An image volume is an image too.
    let mut images = running.to_vec();
    images.push(("VOLUME", &unsigned));
    let response = server.review(
        "/validate",
        &fixture("pod-image-volume-create.json", &images),
    );
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains(&format!("spec.volumes[1].image.reference \"{unsigned}\"")),
        "{response}"
    );
    images.pop();
    images.push(("VOLUME", &model));
    let response = server.review("/mutate", &fixture("pod-image-volume-create.json", &images));
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        patch(&response).contains(&json!({"op": "replace", "path": "/spec/volumes/1/image/reference", "value": format!("{model}@{model_digest}")})),
        "{response}"
    );
}

#[test]
fn delete_connect_and_updates_that_change_no_image_make_no_registry_request() {
    let (t, pki) = setup();
    let proxy = FaultProxy::start(&t.registry);
    let host = proxy.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (app2, app2_digest) = tagged(&t, &host, "app", "v2");
    let (sidecar, sidecar_digest) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    for (repo, digest) in [
        ("app", &app_digest),
        ("app", &app2_digest),
        ("sidecar", &sidecar_digest),
        ("init", &init_digest),
    ] {
        sign(&t, "release", repo, digest);
    }
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let images = [
        ("APP", app.as_str()),
        ("SIDECAR", sidecar.as_str()),
        ("INIT", init.as_str()),
    ];
    proxy.clear();
    for file in [
        "pod-delete.json",
        "pod-exec-connect.json",
        "deployment-update-labels.json",
    ] {
        let review = fixture(file, &images);
        let response = server.review("/mutate", &review);
        assert_eq!(response["allowed"], true, "{file}: {response}");
        assert!(response.get("patch").is_none(), "{file}: {response}");
        let event = server.admission_event(&review["request"]["uid"]);
        assert_eq!(event["decision"], "skip", "{file}: {event}");
    }
    assert!(
        proxy.seen().is_empty(),
        "registry requests: {:?}",
        proxy.seen()
    );
    // An UPDATE that changes an image is decided; only the changed image is pinned.
    let mut images = images.to_vec();
    images.push(("APP_NEW", &app2));
    let response = server.review("/mutate", &fixture("deployment-update-image.json", &images));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        patch(&response),
        [
            json!({"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": format!("{app2}@{app2_digest}")})
        ]
    );
    assert!(!proxy.seen().is_empty(), "the changed image was looked at");
}

#[test]
fn a_dry_run_is_decided_the_same_way() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, app_digest) = tagged(&t, &host, "app", "v1");
    let (sidecar, _) = tagged(&t, &host, "sidecar", "v1");
    let (init, init_digest) = tagged(&t, &host, "init", "v1");
    sign(&t, "release", "app", &app_digest);
    sign(&t, "release", "init", &init_digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let review = fixture(
        "pod-create-dry-run.json",
        &[("APP", &app), ("SIDECAR", &sidecar), ("INIT", &init)],
    );
    assert_eq!(review["request"]["dryRun"], true);
    let response = server.review("/mutate", &review);
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("spec.containers[1].image"),
        "{response}"
    );
    let event = server.admission_event(&review["request"]["uid"]);
    assert_eq!(event["dryRun"], true, "{event}");
    assert_eq!(event["decision"], "deny", "{event}");
}

#[test]
fn malformed_and_oversized_bodies_get_a_4xx_and_the_server_keeps_serving() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let (status, body) = server.post_bytes(&server.client, "/validate", b"{not json".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not an AdmissionReview"),
        "{body}"
    );
    let mut v1beta1 = fixture("pod-exec-connect.json", &[]);
    v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let (status, body) = server.post("/validate", &v1beta1);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("apiVersion admission.k8s.io/v1"),
        "{body}"
    );
    let (status, body) = server.post(
        "/validate",
        &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
    );
    assert_eq!(status, 400, "{body}");
    // 7 MiB: over the 6 MiB limit, refused before it is parsed.
    let big = vec![b' '; 7 << 20];
    let (status, body) = server.post_bytes(&server.client, "/validate", big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(server.get("/validate").0, 405);
    assert_eq!(server.get("/nowhere").0, 404);
    // Still serving.
    let response = server.review("/validate", &fixture("pod-exec-connect.json", &[]));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_owned()));
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("decision=\"bad-request\"} 4"), "{metrics}");
}

/// A client that sends its request head and then trickles (here: stops sending) its body gets
/// 408 by the request's deadline — the request is not held open waiting for it. The client is
/// openssl's s_client speaking HTTP/1.1 by hand, so the body can be left unfinished.
#[test]
fn a_body_that_does_not_arrive_is_answered_408_by_the_deadline() {
    use std::io::{Read, Write};
    let (t, pki) = setup();
    let host = t.registry.host();
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let address = server.url.trim_start_matches("https://").to_owned();
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &address, "-CAfile"])
        .arg(&server.ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("openssl is needed (./scripts/test.sh installs it): {e}"));
    let mut stdout = client.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (answer_tx, answer_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
            if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let _ = answer_tx.send((Instant::now(), String::from_utf8_lossy(&seen).into_owned()));
    });
    let mut stdin = client.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let started = Instant::now();
    stdin
        .write_all(
            b"POST /validate?timeout=2s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"apiVersion\": \"admission.k8s.io/v1\",",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    stdin.flush().unwrap_or_else(|e| panic!("{e}"));
    // The rest of the body never comes; stdin stays open so the connection does too.
    let (answered, head) = answer_rx
        .recv_timeout(Duration::from_secs(15))
        .unwrap_or_else(|_| panic!("no answer within 15 s to a request whose deadline was 2 s"));
    let _ = client.kill();
    let _ = client.wait();
    drop(stdin);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    // Answered by the deadline (2 s less its margin), with a little room for a loaded machine.
    let elapsed = answered - started;
    assert!(
        elapsed < Duration::from_millis(2500),
        "answered after {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(1500),
        "answered after {elapsed:?}"
    );
    // Still serving, and the refusal was counted.
    let response = server.review("/validate", &fixture("pod-exec-connect.json", &[]));
    assert_eq!(response["allowed"], true, "{response}");
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("endpoint=\"validate\",kind=\"unknown\",operation=\"unknown\",decision=\"bad-request\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_wrong_keyless_identity_is_refused() {
    use crate::keyless::{IDENTITY, ISSUER, SigstoreMock, token};
    let mock = SigstoreMock::start();
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, digest) = tagged(&t, &host, "app", "v1");
    t.s.signet()
        .args(["sign", "--identity-token", &token(), "--signing-config"])
        .arg(mock.out("signing_config.json"))
        .arg("--trusted-root")
        .arg(mock.out("trusted_root.json"))
        .arg(format!("{host}/app@{digest}"))
        .assert_success();
    let policy = |name: &str, subject: &str| {
        t.s.write(
            name,
            format!(
                "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  ci:\n    keyless:\n      issuer: {{ exact: \"{ISSUER}\" }}\n      subject: {{ exact: \"{subject}\" }}\npolicies:\n  - name: prod\n    images: [\"{host}/**\"]\n    signatures: {{ authorities: [ci] }}\n"
            )
            .as_bytes(),
        )
    };
    let root = mock.out("trusted_root.json");
    let root = root.to_str().unwrap_or_default();
    let pod = |image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", image), ("SIDECAR", image), ("INIT", image)],
        );
        review["request"]["uid"] = json!(format!("uid-{}", image.len()));
        review
    };
    let right = Server::start(
        &t.s,
        &pki,
        &policy("right.yaml", IDENTITY),
        &["--trusted-root", root],
        &[],
    );
    let response = right.review("/mutate", &pod(&app));
    assert_eq!(response["allowed"], true, "{response}");
    drop(right);
    let wrong = Server::start(
        &t.s,
        &pki,
        &policy("wrong.yaml", "someone-else@example.com"),
        &["--trusted-root", root],
        &[],
    );
    let response = wrong.review("/mutate", &pod(&app));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.contains("ci: none of the 1 signature(s) carries a certificate for this identity"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Security classes
// ---------------------------------------------------------------------------------------------

/// GHSA-2r43-6962-xcw5 / CVE-2022-47633: a verdict cached by tag let a moved tag through.
#[test]
fn security_tag_moved_after_admission_neither_reaches_the_verdict_nor_the_pod() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, signed) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &signed);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let pod = |uid: &str, image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", image), ("SIDECAR", image), ("INIT", image)],
        );
        review["request"]["uid"] = json!(uid);
        review
    };
    let response = server.review("/mutate", &pod("before", &app));
    assert_eq!(response["allowed"], true, "{response}");
    let pinned = format!("{app}@{signed}");
    assert!(
        patch(&response)
            .iter()
            .all(|op| op["value"] == pinned.as_str()),
        "{response}"
    );

    // The tag moves to content nobody signed.
    let moved = make_sample_image(&host, "app", "unsigned-build", sha256);
    let manifest = fetch_manifest(&host, "app", &moved);
    push_manifest(
        &host,
        "app",
        "v1",
        crate::util::OCI_MANIFEST,
        &manifest.body,
    );
    assert_ne!(moved, signed);

    // The same tag now reaches the new digest: refused; the verdict cached for the old
    // digest is not consulted for it.
    let response = server.review("/mutate", &pod("after", &app));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(text.contains(&format!("\"{app}\" ({moved})")), "{text}");
    assert!(text.contains("no signatures found"), "{text}");
    // What the first pod was pinned to is what was verified, and still is.
    let response = server.review("/validate", &pod("pinned", &pinned));
    assert_eq!(response["allowed"], true, "{response}");
    let event = server.admission_event(&json!("pinned"));
    assert_eq!(event["images"][0]["cached"], true, "{event}");
}

/// A policy's `image.reference` rule is judged on the reference the request wrote, not on the
/// pinned reference the server verified: a pod naming a tag is refused under `reference:
/// digest` although the digest it resolves to is signed, its cached verdict is not reused for
/// a tag, and the same image named by digest is admitted.
#[test]
fn the_reference_rule_reads_the_reference_the_pod_wrote() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, signed) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &signed);
    let policy = write_policy(
        &t,
        "policy.yaml",
        &host,
        "policies:\n  - name: prod\n    images: [\"HOST/**\"]\n    signatures:\n      authorities: [release]\n    image:\n      reference: digest\n",
    );
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let pod = |uid: &str, image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", image), ("SIDECAR", image), ("INIT", image)],
        );
        review["request"]["uid"] = json!(uid);
        review
    };
    let by_digest = format!("{host}/app@{signed}");
    let response = server.review("/validate", &pod("digest", &by_digest));
    assert_eq!(response["allowed"], true, "{response}");

    // The verdict for the digest is cached; the tag naming it is still judged as a tag.
    let response = server.review("/validate", &pod("tag", &app));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.contains("referenced by tag \"v1\", not by digest"),
        "{text}"
    );
    let event = server.admission_event(&json!("tag"));
    assert_eq!(event["images"][0]["cached"], true, "{event}");

    // And the digest is admitted again afterwards: the tag's refusal was not cached for it.
    let response = server.review("/validate", &pod("digest-again", &by_digest));
    assert_eq!(response["allowed"], true, "{response}");
}

/// `nginx`, `docker.io/library/nginx`, `index.docker.io/library/nginx:1` and tag@digest forms
/// all reach the policy for index.docker.io/library/nginx and share one verdict. Docker Hub
/// names are served by the test registry through an HTTP proxy (HTTP_PROXY), so no request
/// leaves the machine.
#[test]
fn security_reference_normalization_reaches_one_policy_and_one_verdict() {
    let (t, pki) = setup();
    let registry = t.registry.host();
    let one = make_sample_image(&registry, "library/nginx", "1", sha256);
    let latest = make_sample_image(&registry, "library/nginx", "latest", sha256);
    let alpine = make_sample_image(&registry, "library/alpine", "latest", sha256);
    let busybox = make_sample_image(&registry, "library/busybox", "1", sha256);
    for (repo, digest) in [
        ("library/nginx", &one),
        ("library/nginx", &latest),
        ("library/alpine", &alpine),
        ("library/busybox", &busybox),
    ] {
        sign(&t, "release", repo, digest);
    }
    let policy = t.s.write(
        "hub.yaml",
        b"apiVersion: signet.dev/v1\nkind: TrustPolicy\nnoMatch: deny\nauthorities:\n  release: { key: { path: release.pub }, transparencyLog: ignore }\npolicies:\n  - name: hub-images\n    images: [\"index.docker.io/library/nginx\", \"index.docker.io/library/alpine\"]\n    signatures: { authorities: [release] }\n",
    );
    let proxy = format!("http://{registry}");
    let server = Server::start(
        &t.s,
        &pki,
        &policy,
        &["--allow-http-registry"],
        &[("HTTP_PROXY", &proxy), ("NO_PROXY", "")],
    );
    // Kubewarden's recorded Pod: `alpine` and `nginx`, short names.
    let recorded: Value = serde_json::from_str(&read_to_string(
        Path::new(DATA).join("kubewarden-pod-creation.json"),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": recorded});
    let response = server.review("/mutate", &review);
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        patch(&response),
        [
            json!({"op": "replace", "path": "/spec/containers/0/image", "value": format!("alpine@{alpine}")}),
            json!({"op": "replace", "path": "/spec/containers/1/image", "value": format!("nginx@{latest}")}),
        ]
    );
    let forms = [
        "nginx:1".to_owned(),
        "docker.io/library/nginx:1".to_owned(),
        "index.docker.io/library/nginx:1".to_owned(),
        "docker.io/nginx:1".to_owned(),
        format!("nginx:1@{one}"),
        format!("docker.io/library/nginx@{one}"),
        format!("index.docker.io/library/nginx:1@{one}"),
    ];
    let mut review = fixture(
        "pod-create.json",
        &[("APP", "x"), ("SIDECAR", "x"), ("INIT", "x")],
    );
    let spec = &mut review["request"]["object"]["spec"];
    spec["initContainers"] = json!([]);
    spec["containers"] = forms
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    review["request"]["uid"] = json!("forms");
    let response = server.review("/validate", &review);
    assert_eq!(response["allowed"], true, "{response}");
    let event = server.admission_event(&json!("forms"));
    let images = event["images"].as_array().cloned().unwrap_or_default();
    assert_eq!(images.len(), forms.len(), "{event}");
    for image in &images {
        assert_eq!(
            image["digest"],
            one.as_str(),
            "every form names one digest: {event}"
        );
        assert_eq!(image["decision"], "allow", "{event}");
    }
    // One verdict for all of them: three verifications in all (alpine, nginx:latest in the
    // first request; nginx:1 once for the seven forms, which shared it).
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("signet_admission_verifications_total 3\n"),
        "{metrics}"
    );
    // A repository no policy covers, however it is written, gets noMatch.
    spec_containers(&mut review, &["busybox:1"]);
    review["request"]["uid"] = json!("busybox");
    let response = server.review("/validate", &review);
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("no policy covers index.docker.io/library/busybox"),
        "{response}"
    );
}

fn spec_containers(review: &mut Value, images: &[&str]) {
    let spec = &mut review["request"]["object"]["spec"];
    spec["initContainers"] = json!([]);
    spec["containers"] = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
}

#[test]
fn security_only_the_last_image_bad_is_still_refused_after_every_image_is_checked() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let mut images = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let (image, digest) = tagged(&t, &host, name, "v1");
        if name != "d" {
            sign(&t, "release", name, &digest);
        }
        images.push(image);
    }
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let mut review = fixture(
        "pod-create.json",
        &[("APP", "x"), ("SIDECAR", "x"), ("INIT", "x")],
    );
    let refs: Vec<&str> = images.iter().map(String::as_str).collect();
    spec_containers(&mut review, &refs);
    let response = server.review("/validate", &review);
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.starts_with(&format!(
            "signet refused 1 of 4 image(s): spec.containers[3].image \"{}\"",
            images[3]
        )),
        "{text}"
    );
    let event = server.admission_event(&review["request"]["uid"]);
    let decisions: Vec<&str> = event["images"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["decision"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(decisions, ["allow", "allow", "allow", "deny"], "{event}");
}

#[test]
fn security_annotations_and_labels_claiming_verified_change_nothing() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (unsigned, _) = tagged(&t, &host, "app", "v1");
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let claims = json!({
        "signet.dev/verified": "true",
        "signet.dev/skip": "true",
        "cosign.sigstore.dev/signature": "MEUCIQ…",
        "policy.sigstore.dev/include": "false",
        "admission.signet.dev/exempt": "true"
    });
    for file in ["pod-create.json", "deployment-create.json"] {
        let mut review = fixture(
            file,
            &[
                ("APP", &unsigned),
                ("SIDECAR", &unsigned),
                ("INIT", &unsigned),
            ],
        );
        let object = &mut review["request"]["object"];
        object["metadata"]["annotations"] = claims.clone();
        object["metadata"]["labels"] = claims.clone();
        if let Some(template) = object["spec"].get_mut("template") {
            template["metadata"]["annotations"] = claims.clone();
            template["metadata"]["labels"] = claims.clone();
        }
        let response = server.review("/mutate", &review);
        assert_eq!(response["allowed"], false, "{file}: {response}");
        assert!(
            message(&response).starts_with("signet refused 3 of 3 image(s)"),
            "{file}: {response}"
        );
    }
}

/// Pushes `repo:v1`, an OCI image index of two platform manifests (linux/amd64,
/// linux/arm64); returns the index's digest and the platforms' digests.
fn push_index(registry: &str, repo: &str) -> (String, Vec<String>) {
    let mut platforms = Vec::new();
    for arch in ["amd64", "arm64"] {
        let digest = make_sample_image(registry, repo, arch, sha256);
        let size = fetch_manifest(registry, repo, &digest).body.len();
        platforms.push((digest, size, arch));
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": platforms.iter().map(|(digest, size, arch)| json!({
            "mediaType": crate::util::OCI_MANIFEST, "digest": digest, "size": size,
            "platform": {"architecture": arch, "os": "linux"}
        })).collect::<Vec<_>>()
    }))
    .unwrap_or_default();
    let index = push_manifest(
        registry,
        repo,
        "v1",
        "application/vnd.oci.image.index.v1+json",
        &manifest,
    );
    (index, platforms.into_iter().map(|(d, _, _)| d).collect())
}

/// An image index and its platform manifests: the digest a pod names is the one that must be
/// signed (Cosign's rule). A tag that names an index is verified, and pinned, as the index; a
/// pod naming a platform manifest needs that manifest signed.
#[test]
fn security_multi_arch_index_or_platform_manifest_must_be_signed() {
    let (t, pki) = setup();
    let registry = t.registry.host();
    let index = |repo: &str| {
        let (index, platforms) = push_index(&registry, repo);
        (index, platforms[0].clone())
    };
    // "indexed": only the index is signed. "platforms": only the platform manifests are.
    let (indexed, indexed_amd64) = index("indexed");
    sign(&t, "release", "indexed", &indexed);
    let (platforms_index, platforms_amd64) = index("platforms");
    sign(&t, "release", "platforms", &platforms_amd64);
    let policy = write_policy(&t, "policy.yaml", &registry, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let decide = |uid: &str, image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", "x"), ("SIDECAR", "x"), ("INIT", "x")],
        );
        spec_containers(&mut review, &[image]);
        review["request"]["uid"] = json!(uid);
        server.review("/mutate", &review)
    };
    // The tag names the index: the signed index is admitted, and pinned as the index.
    let tag = format!("{registry}/indexed:v1");
    let response = decide("index-signed", &tag);
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        patch(&response)[0]["value"],
        format!("{tag}@{indexed}"),
        "{response}"
    );
    // A platform manifest of that index, named by digest, is not signed itself.
    let response = decide("index-signed-platform", &format!("{tag}@{indexed_amd64}"));
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("no signatures found"),
        "{response}"
    );
    // Only the platform manifest signed: the tag (the index) is refused, the platform
    // manifest named by digest is admitted.
    let tag = format!("{registry}/platforms:v1");
    let response = decide("platform-signed", &tag);
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains(&format!("({platforms_index})")),
        "{response}"
    );
    let response = decide(
        "platform-signed-platform",
        &format!("{tag}@{platforms_amd64}"),
    );
    assert_eq!(response["allowed"], true, "{response}");
}

/// The policy can also say a platform manifest passes through the signed index its tag names
/// (`indexSignature: accept`, main's rule for multi-platform images). Then the verdict about
/// `repo:v1@sha256:<platform>` differs from the one about `repo@sha256:<platform>` (no tag, no
/// index to go through), and the verdict cache must not hand one out for the other, in either
/// order.
#[test]
fn security_multi_arch_platform_manifest_through_its_signed_index_when_the_policy_accepts_it() {
    let (t, pki) = setup();
    let registry = t.registry.host();
    let (index, platforms) = push_index(&registry, "indexed");
    sign(&t, "release", "indexed", &index);
    let policy = write_policy(
        &t,
        "policy.yaml",
        &registry,
        "policies:\n  - name: prod\n    images: [\"HOST/**\"]\n    signatures:\n      authorities: [release]\n      indexSignature: accept\n",
    );
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let decide = |uid: &str, image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", "x"), ("SIDECAR", "x"), ("INIT", "x")],
        );
        spec_containers(&mut review, &[image]);
        review["request"]["uid"] = json!(uid);
        server.review("/mutate", &review)
    };
    let tagged = |platform: &str| format!("{registry}/indexed:v1@{platform}");
    let untagged = |platform: &str| format!("{registry}/indexed@{platform}");

    // amd64: through the tag first (admitted), then by digest alone (refused, not served from
    // the admitted verdict).
    let response = decide("amd64-tagged", &tagged(&platforms[0]));
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        response.get("patch").is_none(),
        "named by digest: {response}"
    );
    let response = decide("amd64-untagged", &untagged(&platforms[0]));
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("no signatures found"),
        "{response}"
    );
    assert_eq!(
        server.admission_event(&json!("amd64-untagged"))["images"][0]["cached"],
        false
    );
    // arm64: by digest alone first (refused, and the refusal is cached), then through the tag
    // (admitted: the cached refusal is not its verdict).
    let response = decide("arm64-untagged", &untagged(&platforms[1]));
    assert_eq!(response["allowed"], false, "{response}");
    let response = decide("arm64-tagged", &tagged(&platforms[1]));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        server.admission_event(&json!("arm64-tagged"))["images"][0]["cached"],
        false
    );
    // The same form again is a cache hit: the tag is beside the digest in the key, not instead.
    let response = decide("arm64-tagged-again", &tagged(&platforms[1]));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        server.admission_event(&json!("arm64-tagged-again"))["images"][0]["cached"],
        true
    );
}

/// Registry credentials: a registry that requires them is read with a node's Docker config
/// (the kubelet's config.json, mounted: `--node-docker-config`) when `$DOCKER_CONFIG` has
/// none for it. Without it the image could not be verified (refused under the closed mode);
/// the secret never appears in an answer or the log.
#[test]
fn a_nodes_docker_config_gives_the_credentials_the_servers_own_lacks() {
    let (t, pki) = setup();
    let (_, digest) = tagged(&t, &t.registry.host(), "private/app", "v1");
    sign(&t, "release", "private/app", &digest);
    let guarded = crate::util::Registry::start_with_basic_auth(&t.registry, crate::auth::HTPASSWD);
    let host = guarded.host();
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let image = format!("{host}/private/app:v1");
    let review = |uid: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", "x"), ("SIDECAR", "x"), ("INIT", "x")],
        );
        spec_containers(&mut review, &[&image]);
        review["request"]["uid"] = json!(uid);
        review
    };

    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let response = server.review("/mutate", &review("anonymous"));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(text.contains("could not be verified: "), "{text}");
    assert!(text.contains("refused access"), "{text}");
    drop(server);

    let node = t.s.path("node");
    std::fs::create_dir_all(&node).unwrap_or_else(|e| panic!("{e}"));
    let auth = base64::engine::general_purpose::STANDARD.encode("signet:registry-secret");
    let config = t.s.write(
        "node/config.json",
        json!({"auths": {format!("https://{host}/v1/"): {"auth": auth}}})
            .to_string()
            .as_bytes(),
    );
    let config = config.display().to_string();
    let server = Server::start(&t.s, &pki, &policy, &["--node-docker-config", &config], &[]);
    let response = server.review("/mutate", &review("with-node-credentials"));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        patch(&response)[0]["value"],
        format!("{image}@{digest}"),
        "{response}"
    );
    let log = server
        .logs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .join("\n");
    assert!(!log.contains("registry-secret"), "{log}");
    assert!(!log.contains(&auth), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Faults: a registry that hangs or errors, a policy replaced by a broken one
// ---------------------------------------------------------------------------------------------

#[test]
fn a_hanging_registry_is_answered_within_the_deadline_by_the_failure_mode() {
    let (t, pki) = setup();
    let proxy = FaultProxy::start(&t.registry);
    let host = proxy.host();
    let (_, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let pinned = format!("{host}/app@{digest}");
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    // The signature manifest trickles in for far longer than any deadline.
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/sha256-*.sig",
        Fault::SlowBody {
            bytes: 1,
            pause: Duration::from_secs(5),
        },
    ));
    for (mode, allowed) in [("closed", false), ("open", true)] {
        let server = Server::start(
            &t.s,
            &pki,
            &policy,
            &["--failure-mode", mode, "--verify-timeout", "3s"],
            &[],
        );
        let mut review = fixture(
            "pod-create.json",
            &[("APP", &pinned), ("SIDECAR", &pinned), ("INIT", &pinned)],
        );
        review["request"]["uid"] = json!(format!("hang-{mode}"));
        // An API server keeps its connection to the webhook: the timing starts on an open one.
        assert_eq!(server.get("/healthz").0, 200);
        let started = Instant::now();
        let response = server.review("/mutate?timeout=2s", &review);
        let elapsed = started.elapsed();
        // The API server gives up at 2 s; the answer came before.
        assert!(
            elapsed < Duration::from_secs(2),
            "answered after {elapsed:?}: {}",
            server.admission_event(&review["request"]["uid"])
        );
        assert_eq!(response["allowed"], allowed, "{mode}: {response}");
        if allowed {
            let warnings = response["warnings"].as_array().cloned().unwrap_or_default();
            assert!(!warnings.is_empty(), "{response}");
            assert!(
                warnings[0]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("signet: spec.initContainers[0].image: could not be verified"),
                "{response}"
            );
            assert!(
                warnings
                    .iter()
                    .all(|w| w.as_str().unwrap_or_default().chars().count() <= 120)
            );
        } else {
            assert!(
                message(&response)
                    .contains("could not be verified: no answer before the request's deadline"),
                "{response}"
            );
        }
        let (_, metrics) = server.get("/metrics");
        assert!(
            !metrics.contains("signet_admission_registry_errors_total 0\n"),
            "{metrics}"
        );
    }
}

#[test]
fn an_erroring_registry_is_could_not_verify_never_a_silent_allow() {
    let (t, pki) = setup();
    let proxy = FaultProxy::start(&t.registry);
    let host = proxy.host();
    let (app, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/sha256-*.sig",
        Fault::Status(500),
    ));
    for (mode, allowed) in [("closed", false), ("open", true)] {
        let server = Server::start(&t.s, &pki, &policy, &["--failure-mode", mode], &[]);
        let review = fixture(
            "pod-create.json",
            &[("APP", &app), ("SIDECAR", &app), ("INIT", &app)],
        );
        let response = server.review("/mutate", &review);
        assert_eq!(response["allowed"], allowed, "{mode}: {response}");
        if allowed {
            assert!(
                response["warnings"][0]
                    .as_str()
                    .unwrap_or_default()
                    .contains("could not be verified, admitted because the failure mode is open"),
                "{response}"
            );
            // Nothing was verified, so nothing is pinned.
            assert!(response.get("patch").is_none(), "{response}");
        } else {
            let text = message(&response);
            assert!(
                text.contains("could not be verified: could not gather the evidence"),
                "{text}"
            );
            assert!(text.contains("500"), "{text}");
        }
    }
}

/// Writes `text` to `path` as a ConfigMap update does: a new file renamed over the old.
fn replace_file(path: &Path, text: &[u8]) {
    let temporary = path.with_extension("new");
    std::fs::write(&temporary, text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(&temporary, path).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_policy_replaced_by_a_broken_one_keeps_the_old_in_force_and_says_so() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (app, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let pod = |uid: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", &app), ("SIDECAR", &app), ("INIT", &app)],
        );
        review["request"]["uid"] = json!(uid);
        review
    };
    assert_eq!(server.review("/validate", &pod("one"))["allowed"], true);
    let (_, ready) = server.get("/readyz");
    let ready: Value = serde_json::from_str(&ready).unwrap_or_default();
    let first_revision = ready["policy"]["revision"].clone();
    assert!(
        first_revision
            .as_str()
            .is_some_and(|r| r.starts_with("sha256:")),
        "{ready}"
    );

    replace_file(&policy, b"apiVersion: signet.dev/v1\nkind: TrustPolicy\npolicies:\n  - name: broken\n    images: [\"**\"]\n    signatures: { authorities: [nobody] }\n");
    let event = server.wait_for_event("policy reload failed; the previous policy stays in force");
    assert!(
        event["error"]
            .as_str()
            .unwrap_or_default()
            .contains("\"nobody\""),
        "{event}"
    );
    let (status, ready) = server.get("/readyz");
    assert_eq!(status, 200, "the old policy is still in force: {ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap_or_default();
    assert_eq!(ready["policy"]["revision"], first_revision, "{ready}");
    assert!(
        ready["policy"]["reloadError"]
            .as_str()
            .unwrap_or_default()
            .contains("nobody"),
        "{ready}"
    );
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("signet_admission_policy_reloads_total{result=\"failed\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        server.review("/validate", &pod("two"))["allowed"],
        true,
        "the old policy decides"
    );

    // A valid policy that asks for another signer takes over; the verdicts of the old
    // revision are not used for it.
    let next = write_policy(
        &t,
        "next.yaml",
        &host,
        "policies:\n  - name: prod\n    images: [\"HOST/**\"]\n    signatures:\n      authorities: [other]\n",
    );
    replace_file(&policy, &std::fs::read(next).unwrap_or_default());
    server.wait_for_event("policy reloaded");
    let response = server.review("/validate", &pod("three"));
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("other: none of the 1 signature(s) verifies with this key"),
        "{response}"
    );
    let (_, ready) = server.get("/readyz");
    let ready: Value = serde_json::from_str(&ready).unwrap_or_default();
    assert_ne!(ready["policy"]["revision"], first_revision, "{ready}");
    assert!(ready["policy"]["reloadError"].is_null(), "{ready}");
}

// ---------------------------------------------------------------------------------------------
// Gatekeeper, single flight, TLS rotation, shutdown
// ---------------------------------------------------------------------------------------------

#[test]
fn gatekeeper_provider_over_mutual_tls() {
    let (t, pki) = setup();
    let host = t.registry.host();
    let (signed, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let (unsigned, _) = tagged(&t, &host, "other", "v1");
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let ca = pki.path("gatekeeper-ca.crt");
    let server = Server::start(
        &t.s,
        &pki,
        &policy,
        &["--client-ca", ca.to_str().unwrap_or_default()],
        &[],
    );
    let request = json!({
        "apiVersion": "externaldata.gatekeeper.sh/v1beta1",
        "kind": "ProviderRequest",
        "request": { "keys": [signed, unsigned] }
    });
    let gatekeeper = client(&server.ca, Some(pki.identity("gatekeeper")));
    let (status, body) = server.post_bytes(
        &gatekeeper,
        "/gatekeeper",
        serde_json::to_vec(&request).unwrap_or_default(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["apiVersion"], "externaldata.gatekeeper.sh/v1beta1",
        "{body}"
    );
    assert_eq!(body["kind"], "ProviderResponse", "{body}");
    assert_eq!(body["response"]["idempotent"], true, "{body}");
    let items = &body["response"]["items"];
    assert_eq!(
        items[0],
        json!({"key": signed, "value": format!("{signed}@{digest}")}),
        "{body}"
    );
    assert_eq!(items[1]["key"], unsigned.as_str(), "{body}");
    assert!(items[1].get("value").is_none(), "{body}");
    assert!(
        items[1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no signatures found"),
        "{body}"
    );
    assert!(body["response"].get("systemError").is_none(), "{body}");
    // A malformed request is a system error, answered 200 as Gatekeeper reads it.
    let (status, body) = server.post_bytes(&gatekeeper, "/gatekeeper", b"{}".to_vec());
    assert_eq!(status, 200);
    assert!(
        body["response"]["systemError"]
            .as_str()
            .unwrap_or_default()
            .contains("ProviderRequest"),
        "{body}"
    );

    // Without a client certificate: the webhooks answer, the provider does not.
    let (status, _) = server.post("/gatekeeper", &request);
    assert_eq!(status, 401);
    assert_eq!(
        server.review("/validate", &fixture("pod-exec-connect.json", &[]))["allowed"],
        true
    );
    // A certificate from a CA the server does not trust: refused in the handshake.
    let rogue = client(&server.ca, Some(pki.identity("rogue")));
    let url = format!("{}/gatekeeper", server.url);
    let refused = server.runtime.block_on(send(
        &rogue,
        &url,
        serde_json::to_vec(&request).unwrap_or_default(),
    ));
    assert!(
        refused.is_err(),
        "an untrusted client certificate was accepted: {refused:?}"
    );
    let event = server.wait_for_event("TLS handshake failed");
    assert!(
        event["error"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate"),
        "{event}"
    );
}

#[test]
fn one_hundred_concurrent_admissions_of_one_uncached_image_make_one_set_of_registry_reads() {
    let (t, pki) = setup();
    let proxy = FaultProxy::start(&t.registry);
    let host = proxy.host();
    let (solo, solo_digest) = tagged(&t, &host, "solo", "v1");
    let (crowd, crowd_digest) = tagged(&t, &host, "crowd", "v1");
    sign(&t, "release", "solo", &solo_digest);
    sign(&t, "release", "crowd", &crowd_digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    // Tag reads are slow enough for every request to arrive while the first is in flight.
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/v1",
        Fault::SlowBody {
            bytes: 100,
            pause: Duration::from_millis(200),
        },
    ));
    let pod = |uid: String, image: &str| {
        let mut review = fixture(
            "pod-create.json",
            &[("APP", image), ("SIDECAR", image), ("INIT", image)],
        );
        review["request"]["uid"] = json!(uid);
        serde_json::to_vec(&review).unwrap_or_default()
    };
    // One admission alone: one set of reads.
    proxy.clear();
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/v1",
        Fault::SlowBody {
            bytes: 100,
            pause: Duration::from_millis(200),
        },
    ));
    let (status, body) = server.post_bytes(&server.client, "/validate", pod("solo".into(), &solo));
    assert_eq!(
        (status, body["response"]["allowed"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let one_set = proxy.seen().len();
    assert!(one_set >= 2, "{:?}", proxy.seen());
    // A hundred at once, for another image just as uncached.
    proxy.clear();
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/v1",
        Fault::SlowBody {
            bytes: 100,
            pause: Duration::from_millis(200),
        },
    ));
    let url = format!("{}/validate", server.url);
    let answers = server.runtime.block_on(futures_util::future::join_all(
        (0..100).map(|i| send(&server.client, &url, pod(format!("crowd-{i}"), &crowd))),
    ));
    for answer in answers {
        let (status, body) = answer.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["response"]["allowed"], true, "{body}");
    }
    let seen = proxy.seen();
    assert_eq!(
        seen.len(),
        one_set,
        "100 concurrent admissions made {} registry requests, one alone {one_set}: {seen:?}",
        seen.len()
    );
}

#[test]
fn a_rotated_tls_certificate_is_served_without_a_restart() {
    let (t, pki) = setup();
    let policy = write_policy(&t, "policy.yaml", &t.registry.host(), RELEASE_ONLY);
    let server = Server::start(&t.s, &pki, &policy, &[], &[]);
    let served = || -> Vec<u8> {
        let url = format!("{}/healthz", server.url);
        // A new client: a new connection, so a new handshake.
        let fresh = client(&server.ca, None);
        server.runtime.block_on(async {
            let response = fresh
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            response
                .extensions()
                .get::<reqwest::tls::TlsInfo>()
                .and_then(|info| info.peer_certificate().map(<[u8]>::to_vec))
                .unwrap_or_default()
        })
    };
    let before = served();
    assert!(!before.is_empty());
    // A broken certificate file: the old one stays in use, and that is reported.
    let certificate = pki.path("tls.crt");
    let good = std::fs::read(&certificate).unwrap_or_default();
    replace_file(
        &certificate,
        b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    );
    server.wait_for_event("TLS reload failed; the previous certificate stays in use");
    assert_eq!(served(), before);
    // cert-manager issues a new certificate: new connections get it.
    replace_file(&certificate, &good);
    pki.leaf(
        "ca",
        "renewed",
        "serverAuth",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        7,
    );
    std::fs::copy(pki.path("renewed.key"), pki.path("tls.key.new"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(pki.path("renewed.crt"), pki.path("tls.crt.new"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(pki.path("tls.key.new"), pki.path("tls.key")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(pki.path("tls.crt.new"), pki.path("tls.crt")).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let renewed = std::fs::read_to_string(pki.path("renewed.crt")).unwrap_or_default();
    let renewed_der = base64::engine::general_purpose::STANDARD
        .decode(
            renewed
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap_or_default();
    while served() != renewed_der {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate is not served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("signet_admission_tls_reloads_total{result=\"ok\"}"),
        "{metrics}"
    );
}

#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits() {
    let (t, pki) = setup();
    let proxy = FaultProxy::start(&t.registry);
    let host = proxy.host();
    let (app, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let mut server = Server::start(&t.s, &pki, &policy, &[], &[]);
    // Each verification takes about 1.5 s.
    proxy.add(Rule::new(
        "GET",
        "/v2/*/manifests/sha256-*.sig",
        Fault::SlowBody {
            bytes: 200,
            pause: Duration::from_millis(500),
        },
    ));
    let review = fixture(
        "pod-create.json",
        &[("APP", &app), ("SIDECAR", &app), ("INIT", &app)],
    );
    let url = format!("{}/validate?timeout=10s", server.url);
    let in_flight = server.runtime.spawn({
        let client = server.client.clone();
        let body = serde_json::to_vec(&review).unwrap_or_default();
        async move { send(&client, &url, body).await }
    });
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let (status, body) = server
        .runtime
        .block_on(in_flight)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("the request in flight was cut off: {e}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["allowed"], true, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");
    let stopped = server.wait_for_event("stopped");
    assert_eq!(stopped["drained"], true, "{stopped}");
}

// ---------------------------------------------------------------------------------------------
// The offline doors: `admission review` and `verify -f`
// ---------------------------------------------------------------------------------------------

#[test]
fn admission_review_prints_the_response_for_a_recorded_request() {
    let t = Setup::with_keys(&["release", "other"]);
    let host = t.registry.host();
    let (app, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let (unsigned, _) = tagged(&t, &host, "unsigned", "v1");
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    let allowed = fixture(
        "pod-create.json",
        &[("APP", &app), ("SIDECAR", &app), ("INIT", &app)],
    );
    let request = t.s.write("allowed.json", allowed.to_string().as_bytes());
    let out =
        t.s.signet()
            .args(["admission", "review", "--policy"])
            .arg(&policy)
            .arg(&request)
            .assert_success();
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["response"]["allowed"], true, "{body}");
    assert_eq!(patch(&body["response"]).len(), 3, "{body}");
    let denied = fixture(
        "pod-create.json",
        &[("APP", &app), ("SIDECAR", &unsigned), ("INIT", &app)],
    );
    let out =
        t.s.signet()
            .args(["admission", "review", "--webhook", "validating", "--policy"])
            .arg(&policy)
            .arg("-")
            .stdin_bytes(denied.to_string())
            .assert_exit(1);
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["response"]["allowed"], false, "{body}");
    let err = crate::common::stderr(&out);
    assert!(
        err.contains(&format!("spec.containers[1].image \"{unsigned}\"")),
        "{err}"
    );
    assert!(err.contains("REFUSED: policy \"prod\""), "{err}");
    // Not an AdmissionReview: could not run, exit 2.
    let bad = t.s.write("bad.json", b"{}");
    t.s.signet()
        .args(["admission", "review", "--policy"])
        .arg(&policy)
        .arg(&bad)
        .assert_exit(2);
}

#[test]
fn verify_policy_over_manifests_from_files_and_stdin() {
    let t = Setup::with_keys(&["release", "other"]);
    let host = t.registry.host();
    let (web, web_digest) = tagged(&t, &host, "web", "v1");
    let (job, job_digest) = tagged(&t, &host, "job", "v1");
    let (unsigned, _) = tagged(&t, &host, "unsigned", "v1");
    sign(&t, "release", "web", &web_digest);
    sign(&t, "release", "job", &job_digest);
    let policy = write_policy(&t, "policy.yaml", &host, RELEASE_ONLY);
    // What `helm template` prints: comments, a Service, a Deployment, an empty document, a List.
    let chart = |image: &str| {
        format!(
            "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{{ port: 80 }}]\n---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{web}\"\n        - name: helper\n          image: \"{image}\"\n---\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: batch/v1\n    kind: CronJob\n    metadata: {{ name: nightly }}\n    spec:\n      schedule: \"0 3 * * *\"\n      jobTemplate:\n        spec:\n          template:\n            spec:\n              containers: [{{ name: job, image: \"{job}\" }}]\n              restartPolicy: OnFailure\n"
        )
    };
    let file = t.s.write("chart.yaml", chart(&job).as_bytes());
    let out =
        t.s.signet()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("-f")
            .arg(&file)
            .assert_success();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["version"], 1, "{report}");
    let objects = report["objects"].as_array().cloned().unwrap_or_default();
    assert_eq!(objects.len(), 2, "{report}");
    assert_eq!(objects[0]["kind"], "Deployment");
    assert_eq!(
        objects[0]["images"][1]["path"],
        "spec.template.spec.containers[1].image"
    );
    assert_eq!(objects[0]["images"][0]["digest"], web_digest.as_str());
    assert_eq!(objects[0]["images"][0]["decision"], "allow");
    assert_eq!(
        objects[0]["images"][0]["verdict"]["decision"], "allow",
        "the policy's report is kept"
    );
    assert_eq!(objects[1]["kind"], "CronJob");
    assert_eq!(
        objects[1]["images"][0]["path"],
        "spec.jobTemplate.spec.template.spec.containers[0].image"
    );
    // An unsigned image, from standard input, in text form: exit 1, the field named.
    let out =
        t.s.signet()
            .args(["verify", "--policy"])
            .arg(&policy)
            .args(["-f", "-", "--output", "text"])
            .stdin_bytes(chart(&unsigned))
            .assert_exit(1);
    let text = crate::common::stdout(&out);
    assert!(
        text.contains(&format!(
            "deny spec.template.spec.containers[1].image \"{unsigned}\""
        )),
        "{text}"
    );
    assert!(text.contains("no signatures found"), "{text}");
    // Not YAML: could not run, with the location.
    let broken = t.s.write(
        "broken.yaml",
        b"apiVersion: v1\nkind: Pod\nspec: [unclosed\n",
    );
    let out =
        t.s.signet()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("-f")
            .arg(&broken)
            .assert_exit(2);
    let err = crate::common::stderr(&out);
    assert!(err.contains("broken.yaml: not YAML or JSON"), "{err}");
    assert!(err.contains("line"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// deploy/kubernetes
// ---------------------------------------------------------------------------------------------

/// Where scripts/test.sh installs kubernetes-validate and checkov.
fn validators() -> PathBuf {
    let dir = std::env::var_os("SIGNET_TEST_K8S_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/signet-venvs/k8s-validators/bin")
        });
    for tool in ["kubernetes-validate", "checkov"] {
        assert!(
            dir.join(tool).is_file(),
            "{tool} is not installed in {}: run ./scripts/test.sh --setup-only",
            dir.display()
        );
    }
    dir
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// The Kubernetes kinds of deploy/kubernetes (certificate.yaml and gatekeeper-provider.yaml
/// hold cert-manager's and Gatekeeper's custom resources, which have no schema here).
const KUBERNETES_FILES: [&str; 8] = [
    "namespace.yaml",
    "serviceaccount.yaml",
    "configmap.yaml",
    "deployment.yaml",
    "service.yaml",
    "poddisruptionbudget.yaml",
    "networkpolicy.yaml",
    "webhooks.yaml",
];

#[test]
fn deploy_manifests_pass_the_kubernetes_schemas_and_checkov() {
    let tools = validators();
    let deploy = deploy_dir();
    let out = Command::new(tools.join("kubernetes-validate"))
        .arg("--strict")
        .args(KUBERNETES_FILES)
        .current_dir(&deploy)
        .output()
        .unwrap_or_else(|e| panic!("kubernetes-validate: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kubernetes-validate:\n{text}");
    // Nine objects (webhooks.yaml holds two), each validated, none skipped.
    assert_eq!(text.matches(" passed for resource ").count(), 9, "{text}");

    let out = Command::new(tools.join("checkov"))
        .args([
            "--directory",
            ".",
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
        ])
        .current_dir(&deploy)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap_or_else(|e| panic!("checkov: {e}"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"], 0,
        "checkov failed checks: {}",
        report["results"]["failed_checks"]
    );
    assert!(
        summary["passed"].as_u64().unwrap_or_default() >= 90,
        "{summary}"
    );
}

#[test]
fn deploy_webhooks_send_every_pod_carrying_kind_and_exclude_only_signets_namespace() {
    let text = read_to_string(deploy_dir().join("webhooks.yaml"));
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(documents.len(), 2);
    for (document, path) in documents.iter().zip(["/mutate", "/validate"]) {
        let webhook = &document["webhooks"][0];
        assert_eq!(
            webhook["admissionReviewVersions"],
            json!(["v1"]),
            "{webhook}"
        );
        assert_eq!(webhook["sideEffects"], "None");
        assert_eq!(webhook["failurePolicy"], "Fail");
        assert_eq!(webhook["matchPolicy"], "Equivalent");
        assert!(
            webhook["timeoutSeconds"].as_u64().is_some_and(|t| t <= 30),
            "{webhook}"
        );
        assert_eq!(webhook["clientConfig"]["service"]["path"], path);
        assert!(
            webhook.get("objectSelector").is_none(),
            "no label may opt a workload out"
        );
        assert_eq!(
            webhook["namespaceSelector"],
            json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["signet-system"]}]})
        );
        let mut resources = Vec::new();
        for rule in webhook["rules"].as_array().cloned().unwrap_or_default() {
            assert_eq!(rule["operations"], json!(["CREATE", "UPDATE"]), "{rule}");
            for resource in rule["resources"].as_array().cloned().unwrap_or_default() {
                resources.push(format!(
                    "{}/{}",
                    rule["apiGroups"][0].as_str().unwrap_or("?"),
                    resource.as_str().unwrap_or("?")
                ));
            }
        }
        for wanted in [
            "/pods",
            "/pods/ephemeralcontainers",
            "/replicationcontrollers",
            "/podtemplates",
            "apps/deployments",
            "apps/replicasets",
            "apps/statefulsets",
            "apps/daemonsets",
            "batch/jobs",
            "batch/cronjobs",
        ] {
            assert!(
                resources.iter().any(|r| r == wanted),
                "{wanted} is not sent: {resources:?}"
            );
        }
    }
}

#[test]
fn deploy_example_policy_loads() {
    let text = read_to_string(deploy_dir().join("configmap.yaml"));
    let configmap: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let s = Scratch::new();
    for (name, content) in configmap["data"].as_object().cloned().unwrap_or_default() {
        s.write(&name, content.as_str().unwrap_or_default().as_bytes());
    }
    let out = s
        .signet()
        .args(["policy", "lint", "policy.yaml"])
        .assert_success();
    let text = crate::common::stdout(&out);
    assert!(
        text.contains("policy.yaml: 2 policies, 2 authorities"),
        "{text}"
    );
}

#[test]
fn namespaces_the_policy_excludes_and_the_servers_own_go_unchecked_and_pinning_follows_the_policy()
{
    let (t, pki) = setup();
    let host = t.registry.host();
    let (signed, digest) = tagged(&t, &host, "app", "v1");
    sign(&t, "release", "app", &digest);
    let (unsigned, _) = tagged(&t, &host, "unsigned", "v1");
    let policy = write_policy(
        &t,
        "policy.yaml",
        &host,
        &format!(
            "{RELEASE_ONLY}admission:\n  namespaces:\n    exclude: [kube-system]\n  pinDigests: pods\n"
        ),
    );
    let server = Server::start(&t.s, &pki, &policy, &["--namespace", "signet-system"], &[]);
    let in_namespace = |uid: &str, file: &str, namespace: &str, image: &str| {
        let mut review = fixture(file, &[("APP", image), ("SIDECAR", image), ("INIT", image)]);
        review["request"]["uid"] = json!(uid);
        review["request"]["namespace"] = json!(namespace);
        review
    };
    for (uid, namespace, why) in [
        ("system", "kube-system", "excluded-namespace"),
        ("own", "signet-system", "own-namespace"),
    ] {
        let review = in_namespace(uid, "pod-create.json", namespace, &unsigned);
        let response = server.review("/validate", &review);
        assert_eq!(response["allowed"], true, "{namespace}: {response}");
        assert_eq!(server.admission_event(&json!(uid))["skipped"], why);
    }
    let response = server.review(
        "/validate",
        &in_namespace("shop", "pod-create.json", "shop", &unsigned),
    );
    assert_eq!(response["allowed"], false, "{response}");
    // pinDigests: pods — a Deployment's template is left as written, its Pods are pinned.
    let response = server.review(
        "/mutate",
        &in_namespace("deployment", "deployment-create.json", "shop", &signed),
    );
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("patch").is_none(), "{response}");
    let response = server.review(
        "/mutate",
        &in_namespace("pod", "pod-create-by-replicaset.json", "shop", &signed),
    );
    assert_eq!(patch(&response).len(), 3, "{response}");
}
