//! What production publishes, verified: every row of `tests/data/realworld/index.tsv` (npm
//! packages and their registry attestations, GitHub artifact attestations, slsa-github-generator
//! provenance, PEP 740 attestations, Cosign legacy layers; see its README.md) through the CLI,
//! asserting the outcome the index lists and, for a failure, the check that failed (`[code]`).
//!
//! The rows run through `signet verify-blob-attestation` (`attestation`) or `signet conformance
//! verify-bundle` (`bundle`). Cosign's legacy `.sig`/`.att` layers (`legacy-*` rows) have no
//! file-level command: they are read from an image (or, with issue 10's item 4, an OCI layout
//! of Cosign's own format), so they run through the library call `verify` and
//! `verify-attestation` make, `BundleVerifier::verify_legacy{,_attestation}`.
//!
//! The index is checked against its references too: sigstore-js's verdict for each row
//! (`sigstore-js.tsv`, which `sigstore_js_gives_the_recorded_verdicts` regenerates with npm
//! `@sigstore/verify` and compares) and the upstream test suite's own outcome (`upstream`);
//! where signet's verdict differs from either, the row names a divergence that
//! `docs/compatibility.md` explains. Digests in the index are recomputed from the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use signet_core::cosign::{BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, SIGNATURE_ANNOTATION};
use signet_core::intoto::PredicateType;
use signet_verify::bundle::{
    BundleLimits, BundlePolicy, BundleVerifier, CertificateIdentity, ClaimMatcher, SctPolicy,
};

use crate::common::{Scratch, stderr};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realworld")
}

fn production_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/conformance/_trust/production/trusted_root.json");
    assert!(root.is_file(), "missing {}", root.display());
    root
}

fn trusted_root(name: &str) -> PathBuf {
    match name {
        "production" => production_root(),
        "github" => data_dir().join("sigstore-rust/sigstore-trust-root/trusted_root_github.json"),
        other => panic!("unknown trusted root {other:?} in the index"),
    }
}

/// The rows of a tab-separated file, keyed by its header.
fn read_table(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), header.len(), "{}: {line}", path.display());
            header
                .iter()
                .zip(cells)
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn rows() -> Vec<HashMap<String, String>> {
    read_table(&data_dir().join("index.tsv"))
}

/// `--name=value` and `--name` tokens, in order.
fn flags(row: &HashMap<String, String>) -> Vec<(String, Option<String>)> {
    if row["flags"] == "-" {
        return Vec::new();
    }
    row["flags"]
        .split(' ')
        .map(|token| {
            let token = token.strip_prefix("--").expect("flags start with --");
            match token.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (token.to_owned(), None),
            }
        })
        .collect()
}

fn flag(row: &HashMap<String, String>, name: &str) -> Option<Option<String>> {
    flags(row)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value)
}

/// An artifact column that is a digest rather than a file.
fn artifact_digest(row: &HashMap<String, String>) -> Option<(String, String)> {
    let artifact = &row["artifact"];
    if data_dir().join(artifact).is_file() {
        return None;
    }
    let (algorithm, hex) = artifact.split_once(':')?;
    Some((algorithm.to_owned(), hex.to_owned()))
}

/// `pass`, or `fail:<code>` from the `[code]` signet printed on a denial (exit 1).
fn cli_outcome(row: &HashMap<String, String>) -> String {
    let s = Scratch::new();
    let data = data_dir();
    let mut cmd = s.signet();
    match row["command"].as_str() {
        "attestation" => {
            cmd.arg("verify-blob-attestation")
                .arg("--bundle")
                .arg(data.join(&row["bundle"]));
        }
        "bundle" => {
            cmd.args(["conformance", "verify-bundle", "--bundle"])
                .arg(data.join(&row["bundle"]));
        }
        other => panic!("not a CLI command: {other}"),
    }
    cmd.arg("--trusted-root")
        .arg(trusted_root(&row["trusted_root"]));
    for (name, value) in flags(row) {
        match (name.as_str(), value) {
            ("key", Some(path)) => {
                cmd.arg("--key").arg(data.join(path));
            }
            (_, Some(value)) => {
                cmd.arg(format!("--{name}={value}"));
            }
            (_, None) => {
                cmd.arg(format!("--{name}"));
            }
        }
    }
    match (row["command"].as_str(), artifact_digest(row)) {
        ("bundle", _) => {
            cmd.arg(&row["artifact"]);
        }
        (_, Some((algorithm, hex))) => {
            cmd.args(["--digest", &hex]);
            if flag(row, "digestAlg").is_none() {
                cmd.args(["--digestAlg", &algorithm]);
            }
        }
        (_, None) => {
            cmd.arg(data.join(&row["artifact"]));
        }
    }
    let out = cmd.output();
    let err = stderr(&out);
    match out.status.code() {
        Some(0) => "pass".to_owned(),
        Some(1) => {
            // `Error: FILE: <check> [<code>]: <detail>`: the first bracketed code.
            let last = err.lines().last().unwrap_or_default();
            let code = last
                .split_once(" [")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map_or("?", |(code, _)| code);
            format!("fail:{code}")
        }
        other => format!("error {other:?}: {err}"),
    }
}

fn certificate_policy(row: &HashMap<String, String>) -> BundlePolicy {
    let matcher = |exact: &str, regex: &str| match (flag(row, exact), flag(row, regex)) {
        (Some(Some(value)), _) => ClaimMatcher::exact(value),
        (None, Some(Some(pattern))) => {
            ClaimMatcher::regex(&pattern).unwrap_or_else(|e| panic!("{}: {e}", row["id"]))
        }
        _ => panic!("{}: no {exact} or {regex}", row["id"]),
    };
    BundlePolicy::Certificate(CertificateIdentity::new(
        matcher("certificate-identity", "certificate-identity-regexp"),
        matcher("certificate-oidc-issuer", "certificate-oidc-issuer-regexp"),
    ))
}

fn legacy_verifier(row: &HashMap<String, String>) -> BundleVerifier {
    let root = std::fs::read(trusted_root(&row["trusted_root"])).expect("trusted root");
    let sct = if flag(row, "insecure-ignore-sct").is_some() {
        SctPolicy::InsecureIgnore
    } else {
        SctPolicy::Require
    };
    BundleVerifier::new(&root, BundleLimits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", row["id"]))
        .with_sct(sct)
}

/// A Cosign `.sig` layer kept as its files (see sigstore-rs/extract.py), through
/// `BundleVerifier::verify_legacy`, for the image digest of the row.
fn legacy_signature_outcome(row: &HashMap<String, String>) -> String {
    let dir = data_dir().join(&row["bundle"]);
    let read = |name: &str| std::fs::read(dir.join(name)).expect(name);
    let text = |name: &str| String::from_utf8(read(name)).expect(name);
    let payload = read("payload.json");
    let annotations = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_owned(), text("signature.b64")),
        (CERTIFICATE_ANNOTATION.to_owned(), text("certificate.pem")),
        (BUNDLE_ANNOTATION.to_owned(), text("rekor-bundle.json")),
    ]);
    let signature = base64::engine::general_purpose::STANDARD
        .decode(text("signature.b64").trim())
        .expect("signature.b64");
    let claims = signet_core::payload::SimpleSigning::parse(&payload).expect("payload");
    assert_eq!(
        claims.critical.image.docker_manifest_digest, row["digest"],
        "{}: the payload signs another image",
        row["id"]
    );
    match legacy_verifier(row).verify_legacy(
        &annotations,
        &signature,
        &payload,
        &certificate_policy(row),
    ) {
        Ok(_) => "pass".to_owned(),
        Err(failure) => format!("fail:{}", failure.check().code()),
    }
}

/// The `.att` layers of an OCI layout Cosign wrote (`index.json` marks the attestations
/// manifest with `kind: dev.cosignproject.cosign/atts`): each layer's annotations and bytes.
fn layout_attestations(dir: &Path) -> Vec<(BTreeMap<String, String>, Vec<u8>)> {
    let blob = |digest: &str| {
        let (algorithm, hex) = digest.split_once(':').expect("a digest");
        std::fs::read(dir.join("blobs").join(algorithm).join(hex)).expect("a blob of the layout")
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json"))
            .expect("index.json");
    let atts = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["annotations"]["kind"] == "dev.cosignproject.cosign/atts")
        .expect("an attestations manifest");
    let manifest: serde_json::Value =
        serde_json::from_slice(&blob(atts["digest"].as_str().expect("digest"))).expect("manifest");
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|layer| {
            let annotations = layer["annotations"]
                .as_object()
                .expect("annotations")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            (annotations, blob(layer["digest"].as_str().expect("digest")))
        })
        .collect()
}

/// A Cosign `.att` layer through `BundleVerifier::verify_legacy_attestation` for the image
/// digest of the row; `LAYOUT+OTHER` takes the layer from LAYOUT and its annotations from
/// OTHER (a mix of two real layers).
fn legacy_attestation_outcome(row: &HashMap<String, String>) -> String {
    let (layers_from, annotations_from) = match row["bundle"].split_once('+') {
        Some((a, b)) => (a.to_owned(), Some(b.to_owned())),
        None => (row["bundle"].clone(), None),
    };
    let layers = layout_attestations(&data_dir().join(&layers_from));
    let annotations = annotations_from
        .map(|dir| layout_attestations(&data_dir().join(dir)))
        .unwrap_or_else(|| layers.clone());
    let digest = row["digest"].parse().expect("an image digest");
    let wanted = flag(row, "type").flatten().map(|name| {
        PredicateType::from_name(&name)
            .expect("a type")
            .uri()
            .to_owned()
    });
    let verifier = legacy_verifier(row);
    let mut first_failure = None;
    for ((_, layer), (annotations, _)) in layers.iter().zip(&annotations) {
        match verifier.verify_legacy_attestation(
            annotations,
            layer,
            &digest,
            &certificate_policy(row),
        ) {
            Ok(verified) => {
                let (_, payload) = verified.dsse_payload().expect("a DSSE payload");
                let statement = signet_core::intoto::Statement::parse(payload).expect("statement");
                if wanted
                    .as_deref()
                    .is_none_or(|w| w == statement.predicate_type)
                {
                    return "pass".to_owned();
                }
                first_failure.get_or_insert_with(|| "fail:predicate-type".to_owned());
            }
            Err(failure) => {
                first_failure.get_or_insert_with(|| format!("fail:{}", failure.check().code()));
            }
        }
    }
    first_failure.unwrap_or_else(|| "fail:no-layer".to_owned())
}

fn outcome(row: &HashMap<String, String>) -> String {
    match row["command"].as_str() {
        "legacy-signature" => legacy_signature_outcome(row),
        "legacy-attestation" => legacy_attestation_outcome(row),
        _ => cli_outcome(row),
    }
}

#[test]
fn every_row_gives_its_expected_outcome() {
    let rows = rows();
    assert!(rows.len() >= 60, "{} rows", rows.len());
    let mismatches: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let got = outcome(row);
            (got != row["expected"]).then(|| {
                format!(
                    "{}: got {got}, the index expects {}",
                    row["id"], row["expected"]
                )
            })
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

fn verdict(outcome: &str) -> &str {
    outcome.split(':').next().unwrap_or(outcome)
}

#[test]
fn the_index_agrees_with_sigstore_js_and_upstream_or_says_why_not() {
    let data = data_dir();
    let recorded: HashMap<String, String> = read_table(&data.join("sigstore-js.tsv"))
        .into_iter()
        .map(|r| (r["id"].clone(), r["verdict"].clone()))
        .collect();
    let compatibility = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md"),
    )
    .expect("docs/compatibility.md");
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for row in rows() {
        let id = &row["id"];
        if !ids.insert(id.clone()) {
            problems.push(format!("{id}: listed twice"));
        }
        let ours = verdict(&row["expected"]);
        let divergence = &row["divergence"];
        let js = recorded.get(id).map(String::as_str);
        let upstream = row["upstream"].split(':').next().unwrap_or("-");
        let differs = js != Some(ours) || (upstream != "-" && upstream != ours);
        match (differs, divergence.as_str()) {
            (true, "-") => problems.push(format!(
                "{id}: signet {ours}, sigstore-js {js:?}, upstream {upstream}, and no divergence named"
            )),
            (false, key) if key != "-" && js == Some(ours) && upstream == ours => {
                problems.push(format!("{id}: divergence {key} named but there is none"))
            }
            (_, key) if key != "-" && !compatibility.contains(&format!("`{key}`")) => {
                problems.push(format!("{id}: divergence `{key}` is not in docs/compatibility.md"))
            }
            _ => {}
        }
        if !["Apache-2.0", "MIT"].contains(&row["licence"].as_str()) {
            problems.push(format!("{id}: licence {}", row["licence"]));
        }
        // The digest column is the artifact's, recomputed here.
        let digest = &row["digest"];
        match row["command"].as_str() {
            "attestation" | "bundle" => match artifact_digest(&row) {
                Some((algorithm, hex)) => {
                    if *digest != format!("{algorithm}:{hex}") {
                        problems.push(format!("{id}: digest {digest} is not the artifact's"));
                    }
                }
                None => {
                    let bytes = std::fs::read(data.join(&row["artifact"])).expect("artifact");
                    let (algorithm, _) = digest.split_once(':').expect("digest");
                    let computed = match algorithm {
                        "sha512" => signet_core::digest::MessageDigest::of(
                            signet_core::digest::DigestAlgorithm::Sha512,
                            &bytes,
                        )
                        .as_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                        _ => signet_core::digest::Digest::sha256_of(&bytes)
                            .hex()
                            .to_owned(),
                    };
                    if *digest != format!("{algorithm}:{computed}") {
                        problems.push(format!("{id}: digest {digest}, the file's is {computed}"));
                    }
                }
            },
            "legacy-attestation" => {
                let layout = row["bundle"].split('+').next().unwrap_or_default();
                let image = std::fs::read_to_string(data.join(format!("{layout}.digest")))
                    .expect(".digest");
                if image.trim() != digest {
                    problems.push(format!(
                        "{id}: digest {digest}, the layout's image is {image}"
                    ));
                }
            }
            _ => {}
        }
    }
    if recorded.len() != ids.len() {
        problems.push(format!(
            "sigstore-js.tsv has {} rows, the index {}",
            recorded.len(),
            ids.len()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_file_kept_is_used_and_licensed() {
    let data = data_dir();
    let rows = rows();
    let used: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            let mut paths = vec![row["artifact"].clone()];
            paths.extend(row["bundle"].split('+').map(str::to_owned));
            paths.extend(flag(row, "key").flatten());
            paths
        })
        .collect();
    let mut unused = Vec::new();
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&data)
                .expect("under data")
                .to_string_lossy()
                .into_owned();
            let top = rel.split('/').next().unwrap_or_default();
            let bookkeeping = ["index.tsv", "sigstore-js.tsv"].contains(&rel.as_str())
                || rel.ends_with("README.md")
                || rel.ends_with("/LICENSE")
                || rel == "sigstore-rs/extract.py"
                || trusted_root("github").ends_with(&rel);
            let covered = used.iter().any(|u| {
                rel == *u || rel.starts_with(&format!("{u}/")) || rel == format!("{u}.digest")
            });
            if !bookkeeping && !covered {
                unused.push(rel.clone());
            }
            assert!(
                data.join(top).join("LICENSE").is_file() || data.join(top) == path,
                "{top} has no LICENSE"
            );
        }
    }
    unused.sort();
    assert!(unused.is_empty(), "files no row uses: {unused:?}");
}

#[test]
fn sigstore_js_gives_the_recorded_verdicts() {
    let dir = crate::keyless::sigstore_js_dir();
    let out = Command::new("node")
        .arg(dir.join("realworld.js"))
        .arg(data_dir())
        .arg(production_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(out.status.success(), "realworld.js: {}", stderr(&out));
    let fresh = String::from_utf8(out.stdout).expect("UTF-8");
    let recorded = std::fs::read_to_string(data_dir().join("sigstore-js.tsv")).expect("recorded");
    let recorded: String = recorded.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert_eq!(
        fresh, recorded,
        "sigstore-js's verdicts changed: update tests/data/realworld/sigstore-js.tsv (README.md says how) and look at every row that moved"
    );
}
