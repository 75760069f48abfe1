//! Real Sigstore bundles (`../shared/testdata/realworld`, see its README.md): the 139 CPython
//! release bundles, the Cosign v3 kubewarden image signature and sigstore-python's assets,
//! each with the outcome its index lists.
//!
//! `cpython_bundles_in_one_process` (ignored) times verifying all CPython bundles with one
//! verifier: `benches/bundles.sh` runs it in a release build.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use signet_core::digest::Digest;
use signet_verify::bundle::{
    Artifact, BundleCheck, BundleLimits, BundlePolicy, BundleVerifier, VerifiedBundle,
};

fn realworld() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/realworld");
    assert!(dir.is_dir(), "missing test data {}", dir.display());
    dir
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Rows of a tab-separated index, keyed by its header.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = String::from_utf8(read(path)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            header
                .iter()
                .zip(line.split('\t'))
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

struct Cpython {
    bundles: Vec<(String, Vec<u8>, Digest, BundlePolicy)>,
    verifier: BundleVerifier,
}

fn cpython() -> Cpython {
    let dir = realworld().join("cpython");
    let root = read(&realworld().join("../conformance/_trust/production/trusted_root.json"));
    let bundles = rows(&dir.join("index.tsv"))
        .into_iter()
        .map(|row| {
            assert_eq!(row["expected"], "pass", "{}", row["bundle"]);
            let digest: Digest = format!("sha256:{}", row["sha256"]).parse().unwrap();
            let policy = BundlePolicy::identity(row["identity"].as_str(), row["issuer"].as_str());
            let bytes = read(&dir.join(&row["bundle"]));
            (row["bundle"].clone(), bytes, digest, policy)
        })
        .collect();
    Cpython {
        bundles,
        verifier: BundleVerifier::new(&root, BundleLimits::default()).unwrap(),
    }
}

fn verify_all(cpython: &Cpython) -> Vec<VerifiedBundle> {
    cpython
        .bundles
        .iter()
        .map(|(name, bundle, digest, policy)| {
            cpython
                .verifier
                .verify(bundle, Artifact::Digest(digest), policy)
                .unwrap_or_else(|e| panic!("{name}: {e}: {:?}", std::error::Error::source(&e)))
        })
        .collect()
}

#[test]
fn all_cpython_release_bundles_verify_and_reject_the_wrong_signer_or_digest() {
    let cpython = cpython();
    assert_eq!(cpython.bundles.len(), 139);
    let verified = verify_all(&cpython);
    assert!(verified.iter().all(|v| v.identity().is_some()));

    // Negative controls, as the README: another release manager, one changed hex digit.
    let other_signer = BundlePolicy::identity("hugo@python.org", "https://github.com/login/oauth");
    let mut rejected = 0;
    for (name, bundle, digest, policy) in &cpython.bundles {
        let wrong = if matches!(policy, BundlePolicy::Identity { identity, .. } if identity == "hugo@python.org")
        {
            BundlePolicy::identity("thomas@python.org", "https://accounts.google.com")
        } else {
            other_signer.clone()
        };
        let failure = cpython
            .verifier
            .verify(bundle, Artifact::Digest(digest), &wrong)
            .expect_err(name);
        assert!(
            matches!(failure.check(), BundleCheck::Identity | BundleCheck::Issuer),
            "{name}: {failure}"
        );
        let hex = digest.hex();
        let flipped = if hex.starts_with('0') { "1" } else { "0" };
        let other: Digest = format!("sha256:{flipped}{}", &hex[1..]).parse().unwrap();
        let failure = cpython
            .verifier
            .verify(bundle, Artifact::Digest(&other), policy)
            .expect_err(name);
        assert_eq!(
            failure.check(),
            BundleCheck::ArtifactDigest,
            "{name}: {failure}"
        );
        rejected += 1;
    }
    println!(
        "realworld: {} of 139 CPython release bundles verify; {rejected} rejected for another signer and for another digest",
        verified.len()
    );
}

/// The other rows of `index.tsv`: bundles with a trusted root and a pass/fail outcome.
#[test]
fn realworld_index_bundles_give_the_listed_outcomes() {
    let dir = realworld();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for row in rows(&dir.join("index.tsv")) {
        let expected = row["expected"].as_str();
        // Trust-material parse rows, raw timestamps and detached signatures are not bundles.
        if !matches!(expected, "pass" | "fail" | "pass (upstream)")
            || row["trusted_root"] == "-"
            || row["identity"] == "-"
        {
            continue;
        }
        let root = read(&dir.join(&row["trusted_root"]));
        let verifier = BundleVerifier::new(&root, BundleLimits::default()).unwrap();
        let bundle = read(&dir.join(&row["file"]));
        let policy = BundlePolicy::identity(row["identity"].as_str(), row["issuer"].as_str());
        let input = row["artifact_or_digest"].as_str();
        let outcome = if input.starts_with("sha256:") {
            let digest: Digest = input.parse().unwrap();
            verifier.verify(&bundle, Artifact::Digest(&digest), &policy)
        } else {
            let bytes = read(&dir.join(input));
            verifier.verify(&bundle, Artifact::Bytes(&bytes), &policy)
        };
        let want = signet_outcome(&row["file"], expected);
        let got = match &outcome {
            Ok(_) => "pass".to_owned(),
            Err(failure) => format!("fail:{}", failure.check().code()),
        };
        println!(
            "{:<62} {:<24} {}",
            row["file"],
            got,
            row["what"].chars().take(60).collect::<String>()
        );
        if got != want {
            mismatches.push(format!(
                "{} ({input}): expected {want}, got {got} {outcome:?}",
                row["file"]
            ));
        }
        checked += 1;
    }
    println!(
        "realworld: {checked} index bundles give the listed outcome ({} mismatches)",
        mismatches.len()
    );
    assert_eq!(checked, 20);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// The outcome signet must give for an index row: the index's, with the failing check.
fn signet_outcome(file: &str, expected: &str) -> String {
    let check = match (file, expected) {
        (_, "pass") => return "pass".to_owned(),
        // sigstore-python passes it with one of its two timestamps verified; sigstore-js and
        // signet require every timestamp in the bundle to verify (the second is outside the
        // TSA certificate's validity). Listed in docs/compatibility.md.
        ("sigstore-python/tsa/bundle.txt.sigstore", _) => "timestamp",
        ("sigstore-rs/tests/data/bundle_v03.json", _) => "identity",
        ("sigstore-python/integration/Python-3.12.5.tgz.sigstore", _) => "tlog-checkpoint",
        ("sigstore-python/bundle_cve_2022_36056.txt.sigstore", _) => "tlog-entry",
        ("sigstore-python/bundle_invalid_version.txt.sigstore", _) => "unknown-version",
        ("sigstore-python/bundle_no_cert_v1.txt.sigstore", _) => "material",
        ("sigstore-python/bundle_no_checkpoint.txt.sigstore", _) => "tlog-checkpoint",
        // v0.1 requires a signed entry timestamp, and there is no log entry to carry one.
        ("sigstore-python/bundle_no_log_entry.txt.sigstore", _) => "tlog-set",
        ("sigstore-python/bundle_v3_no_signed_time.txt.sigstore.json", _) => "no-signing-time",
        ("sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json", _) => "artifact-digest",
        ("sigstore-python/tsa/bundle.duplicate.sigstore", _) => "timestamp",
        ("sigstore-python/tsa/bundle.many_timestamp.sigstore", _) => "timestamp",
        ("sigstore-python/tsa/bundle.txt.late_timestamp.sigstore", _) => "timestamp",
        _ => "unlisted",
    };
    format!("fail:{check}")
}

/// Times verifying all 139 CPython bundles in one process with one verifier (the trusted
/// root parsed once). Run by `benches/bundles.sh` in a release build.
#[test]
#[ignore = "timing; run by benches/bundles.sh with --release"]
fn cpython_bundles_in_one_process() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let setup = Instant::now();
    let cpython = cpython();
    let setup = setup.elapsed();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let verified = verify_all(&cpython);
            assert_eq!(verified.len(), 139);
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "cpython: 139 bundles verified in {:.1} ms (median of {runs}; min {:.1} ms, max {:.1} ms; {:.0} µs per bundle); reading the files and the trusted root: {:.1} ms",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e6 / 139.0,
        setup.as_secs_f64() * 1e3,
    );
}
