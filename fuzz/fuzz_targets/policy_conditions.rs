//! Attestation conditions on untrusted statements: `Conditions::check` with fixed SLSA, SBOM,
//! vulnerability and Rego conditions (compiled once from YAML with serde-saphyr, as a policy
//! file gives them) over arbitrary statement bytes. Each condition set is checked on its own,
//! since `check` stops at the first failing condition.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use signet_policy::conditions::{
    Conditions, RegoCondition, SbomCondition, SlsaCondition, VulnCondition,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    slsa: Option<SlsaCondition>,
    #[serde(default)]
    sbom: Option<SbomCondition>,
    #[serde(default)]
    vulnerabilities: Option<VulnCondition>,
    #[serde(default)]
    rego: Option<RegoCondition>,
}

const SPECS: [&str; 6] = [
    r#"
slsa:
  builderId: { prefix: "https://github.com/slsa-framework/" }
  sourceRepository: github.com/acme/app
  branch: main
  buildType: https://github.com/slsa-framework/slsa-github-generator/generic@v1
"#,
    r#"
slsa:
  builderId: { exact: "https://github.com/actions/runner/github-hosted" }
  ref: refs/tags/v1.2.3
"#,
    r#"
slsa:
  tag: v1.2.3
"#,
    r#"
sbom:
  maxAge: 720h
  deniedPackages:
    - name: log4j-core
      versions: "<2.17.1"
    - purl: pkg:maven/org.apache.logging.log4j/log4j-core
      versions: ">=2.0.0, <2.17.1"
    - purl: "pkg:npm/%40evil/"
    - name: event-stream
  deniedLicenses: [GPL-3.0-only, AGPL-3.0-only]
"#,
    r#"
vulnerabilities: { maxSeverity: medium, maxAge: 168h }
"#,
    r#"
rego: |
  package signature
  allow { input.predicate.passed == true }
  deny[msg] { input.predicate.Data == "bad"; msg := "bad data" }
"#,
];

const NOW: i64 = 1_750_000_000;

static CONDITIONS: LazyLock<Vec<Conditions>> = LazyLock::new(|| {
    SPECS
        .iter()
        .map(|yaml| {
            let spec: Spec = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
            Conditions {
                slsa: spec.slsa,
                sbom: spec.sbom,
                vulnerabilities: spec.vulnerabilities,
                rego: spec.rego,
                ..Conditions::default()
            }
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    for conditions in CONDITIONS.iter() {
        let _ = conditions.check(data, NOW);
    }
});
