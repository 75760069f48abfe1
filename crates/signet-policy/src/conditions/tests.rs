//! End-to-end checks of [`Conditions`]: YAML conditions (parsed as the policy parser parses
//! them) against statements built around real predicates from Cosign, slsa-verifier and
//! sigstore-conformance, and hand-written ones (`tests/data/conditions/README.md`).

use serde::Deserialize;
use signet_core::intoto::{self, build_statement};

use super::*;

macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!("../../tests/data/conditions/", $path)).as_slice()
    };
}

/// 2024-05-02T00:00:00Z.
const NOW: i64 = 1_714_608_000;
const DAY: i64 = 86_400;
/// Cosign's SPDX JSON `creationInfo.created`, 2022-06-07T22:14:56Z.
const SPDX_JSON_CREATED: i64 = 1_654_640_096;
/// Cosign's vuln predicate `scanFinishedOn`, 2022-04-12T00:10:00Z.
const SCAN_FINISHED: i64 = 1_649_722_200;

const GENERIC_V02: &[u8] = fixture!("slsa-verifier/gha_generic-v2.1.0-push-v14.2.statement.json");
const CONTAINER_V1: &[u8] =
    fixture!("slsa-verifier/gha_container-based-v2.1.0-push-v14.2.statement.json");
const DELEGATOR_V1: &[u8] =
    fixture!("slsa-verifier/gha_delegator-v2.1.0-push-v13.0.30.statement.json");
const GITHUB_ATTEST_V1: &[u8] = fixture!("sigstore-conformance/statement.json");

/// The condition fields of an attestation requirement, as the policy model declares them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Yaml {
    #[serde(default)]
    slsa: Option<SlsaCondition>,
    #[serde(default)]
    sbom: Option<SbomCondition>,
    #[serde(default)]
    vulnerabilities: Option<VulnCondition>,
    #[serde(default)]
    rego: Option<RegoCondition>,
    #[serde(default)]
    vsa: Option<VsaCondition>,
}

fn conditions(yaml: &str) -> Conditions {
    let y: Yaml = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    Conditions {
        slsa: y.slsa,
        sbom: y.sbom,
        vulnerabilities: y.vulnerabilities,
        rego: y.rego,
        vsa: y.vsa,
    }
}

fn statement(predicate_type: &str, predicate: &[u8]) -> Vec<u8> {
    build_statement(
        "registry.example/acme/app",
        &"ab".repeat(32),
        predicate_type,
        predicate,
    )
}

fn spdx(predicate: &[u8]) -> Vec<u8> {
    statement(intoto::SPDX, predicate)
}

fn cyclonedx(predicate: &[u8]) -> Vec<u8> {
    statement(intoto::CYCLONEDX, predicate)
}

/// SPDX tag-value: the predicate is the document as a JSON string, as Cosign's `--type spdx`.
fn spdx_tag_value() -> Vec<u8> {
    let text = String::from_utf8_lossy(fixture!("cosign/bom-go-mod.spdx"));
    let predicate = serde_json::to_vec(&text).unwrap_or_default();
    spdx(&predicate)
}

/// Cosign's vuln predicate with `scanner.result` set to a scanner's output.
fn vuln(result: &[u8]) -> Vec<u8> {
    let mut predicate: serde_json::Value =
        serde_json::from_slice(fixture!("cosign/vuln-predicate.json")).unwrap_or_default();
    predicate["scanner"]["result"] = serde_json::from_slice(result).unwrap_or_default();
    statement(
        intoto::COSIGN_VULN,
        &serde_json::to_vec(&predicate).unwrap_or_default(),
    )
}

struct Case {
    name: &'static str,
    yaml: &'static str,
    statement: Vec<u8>,
    now: i64,
    want: Result<(), &'static str>,
}

fn case(name: &'static str, yaml: &'static str, statement: &[u8]) -> Case {
    Case {
        name,
        yaml,
        statement: statement.to_vec(),
        now: NOW,
        want: Ok(()),
    }
}

impl Case {
    fn at(mut self, now: i64) -> Self {
        self.now = now;
        self
    }

    fn fails(mut self, reason: &'static str) -> Self {
        self.want = Err(reason);
        self
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = conditions(c.yaml)
            .check(&c.statement, c.now)
            .map_err(|e| e.to_string());
        if got.as_ref().copied().map_err(String::as_str) != c.want {
            failures.push(format!(
                "{}:\n  want {:?}\n  got  {:?}",
                c.name, c.want, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn slsa_conditions() {
    let sbom = spdx(fixture!("cosign/bom-go-mod.spdx.json"));
    let inconsistent_v02 = statement(
        intoto::SLSA_PROVENANCE_V02,
        br#"{"builder": {"id": "https://github.com/acme/builder"},
             "invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/heads/main"}},
             "materials": [{"uri": "git+https://github.com/evil/app@refs/heads/main"}]}"#,
    );
    let other_material_v02 = statement(
        intoto::SLSA_PROVENANCE_V02,
        br#"{"builder": {"id": "https://github.com/acme/builder"},
             "invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/heads/main"}},
             "materials": [{"uri": "pkg:docker/golang@sha256:00"}]}"#,
    );
    let material_only_v02 = statement(
        intoto::SLSA_PROVENANCE_V02,
        br#"{"builder": {"id": "https://github.com/acme/builder"}, "buildType": "x",
             "materials": [{"uri": "https://github.com/acme/app.git@refs/tags/v1"}, {"uri": "pkg:x"}]}"#,
    );
    // Cosign's blobSLSAProvenanceSignature payload: builder "2", an empty configSource.
    let cosign_blob_v02 = statement(
        intoto::SLSA_PROVENANCE_V02,
        br#"{"builder":{"id":"2"},"buildType":"x","invocation":{"configSource":{}}}"#,
    );
    // slsa-verifier's dsse-main-ref-v1: a source without ref, the ref in GITHUB_REF.
    let env_ref_v1 = statement(
        intoto::SLSA_PROVENANCE_V1,
        br#"{"buildDefinition": {"buildType": "https://github.com/Attestations/GitHubActionsWorkflow@v1",
               "externalParameters": {"source": {"uri": "git+https://github.com/slsa-framework/example-package",
                 "digest": {"sha1": "4e6c5f6d0b4a126fa2373d7e57b7a0af05108791"}}},
               "internalParameters": {"GITHUB_REF": "refs/heads/main", "GITHUB_REF_TYPE": "branch"}},
             "runDetails": {"builder": {"id": "https://github.com/Attestations/GitHubHostedActions@v1"}}}"#,
    );
    let odd_shapes_v1 = statement(
        intoto::SLSA_PROVENANCE_V1,
        br#"{"buildDefinition": {"buildType": "b", "externalParameters": {"workflow": "release.yml", "source": 7},
               "resolvedDependencies": [{"uri": "git+https://gitlab.com/acme/app.git@refs/heads/main"}]},
             "runDetails": {"builder": {"id": "https://gitlab.com/acme/runner"}}}"#,
    );
    run(vec![
        // builderId
        case(
            "builder exact, v0.2 generic generator",
            "slsa: {builderId: {exact: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0'}}",
            GENERIC_V02,
        ),
        case(
            "builder exact, another generator version",
            "slsa: {builderId: {exact: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0'}}",
            GENERIC_V02,
        )
        .fails("the SLSA provenance's builder id is \"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0\", which does not equal \"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0\""),
        case(
            "builder prefix, v1 container-based builder",
            "slsa: {builderId: {prefix: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/'}}",
            CONTAINER_V1,
        ),
        case(
            "builder prefix, v1 delegator with a third-party TRW",
            "slsa: {builderId: {prefix: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/'}}",
            DELEGATOR_V1,
        )
        .fails("the SLSA provenance's builder id is \"https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml@refs/tags/v2.1.0\", which does not start with \"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/\""),
        case(
            "builder exact, Cosign's minimal v0.2 payload",
            "slsa: {builderId: {exact: '2'}, buildType: x}",
            &cosign_blob_v02,
        ),
        // sourceRepository
        case(
            "repository, v0.2 configSource and materials agree",
            "slsa: {sourceRepository: github.com/slsa-framework/example-package}",
            GENERIC_V02,
        ),
        case(
            "repository written as a clone URL",
            "slsa: {sourceRepository: 'https://github.com/slsa-framework/example-package.git'}",
            GENERIC_V02,
        ),
        case(
            "repository, another repository",
            "slsa: {sourceRepository: github.com/acme/app}",
            GENERIC_V02,
        )
        .fails("the SLSA provenance's source repository is \"github.com/slsa-framework/example-package\" (from its invocation.configSource.uri \"git+https://github.com/slsa-framework/example-package@refs/tags/v14.2\"), not \"github.com/acme/app\""),
        case(
            "repository, v1 externalParameters.source",
            "slsa: {sourceRepository: github.com/slsa-framework/example-package, tag: v14.2}",
            CONTAINER_V1,
        ),
        case(
            "repository, v1 GITHUB_WORKFLOW_REF (delegator)",
            "slsa: {sourceRepository: github.com/slsa-framework/example-package, ref: refs/tags/v13.0.30}",
            DELEGATOR_V1,
        ),
        case(
            "repository, v1 externalParameters.workflow (GitHub attest)",
            "slsa: {sourceRepository: github.com/loosebazooka/aa-test, branch: main, buildType: 'https://actions.github.io/buildtypes/workflow/v1'}",
            GITHUB_ATTEST_V1,
        ),
        case(
            "repository, v1 workflow names another repository",
            "slsa: {sourceRepository: github.com/loosebazooka/other}",
            GITHUB_ATTEST_V1,
        )
        .fails("the SLSA provenance's source repository is \"github.com/loosebazooka/aa-test\" (from its externalParameters.workflow \"git+https://github.com/loosebazooka/aa-test@refs/heads/main\"), not \"github.com/loosebazooka/other\""),
        case(
            "repository, only a material (https, .git)",
            "slsa: {sourceRepository: github.com/acme/app, tag: v1}",
            &material_only_v02,
        ),
        case(
            "repository, trigger and material disagree",
            "slsa: {sourceRepository: github.com/acme/app}",
            &inconsistent_v02,
        )
        .fails("the SLSA provenance is inconsistent: its invocation.configSource.uri is \"git+https://github.com/acme/app@refs/heads/main\" but its materials[0].uri is \"git+https://github.com/evil/app@refs/heads/main\""),
        case(
            "repository, a non-git first material is not a witness",
            "slsa: {sourceRepository: github.com/acme/app, branch: main}",
            &other_material_v02,
        ),
        case(
            "repository, no source at all",
            "slsa: {sourceRepository: github.com/acme/app}",
            &cosign_blob_v02,
        )
        .fails("the SLSA provenance names no source repository (no trigger and no first material)"),
        case(
            "repository, v1 odd parameter shapes fall back to the material",
            "slsa: {sourceRepository: gitlab.com/acme/app, branch: main}",
            &odd_shapes_v1,
        ),
        // ref / branch / tag
        case("tag", "slsa: {tag: v14.2}", GENERIC_V02),
        case("tag written as a ref", "slsa: {tag: refs/tags/v14.2}", GENERIC_V02),
        case("tag, another tag", "slsa: {tag: v14}", GENERIC_V02)
            .fails("the SLSA provenance was built from ref \"refs/tags/v14.2\" (its invocation.configSource.uri \"git+https://github.com/slsa-framework/example-package@refs/tags/v14.2\"), not tag \"v14\""),
        case("branch, built from a tag", "slsa: {branch: main}", GENERIC_V02)
            .fails("the SLSA provenance was built from ref \"refs/tags/v14.2\" (its invocation.configSource.uri \"git+https://github.com/slsa-framework/example-package@refs/tags/v14.2\"), not branch \"main\""),
        case("branch, v1 workflow ref", "slsa: {branch: main}", GITHUB_ATTEST_V1),
        case("ref, v1 workflow ref", "slsa: {ref: refs/heads/dev}", GITHUB_ATTEST_V1)
            .fails("the SLSA provenance was built from ref \"refs/heads/main\" (its externalParameters.workflow \"git+https://github.com/loosebazooka/aa-test@refs/heads/main\"), not ref \"refs/heads/dev\""),
        case("branch from GITHUB_REF", "slsa: {branch: main}", &env_ref_v1),
        case("branch from GITHUB_REF, another branch", "slsa: {branch: release}", &env_ref_v1)
            .fails("the SLSA provenance was built from ref \"refs/heads/main\" (its internalParameters.GITHUB_REF \"refs/heads/main\"), not branch \"release\""),
        case("tag, v1 delegator", "slsa: {tag: v13.0.31}", DELEGATOR_V1)
            .fails("the SLSA provenance was built from ref \"refs/tags/v13.0.30\" (its internalParameters.GITHUB_WORKFLOW_REF \"git+https://github.com/slsa-framework/example-package@refs/tags/v13.0.30\"), not tag \"v13.0.31\""),
        // buildType
        case(
            "build type",
            "slsa: {buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1'}",
            GENERIC_V02,
        ),
        case(
            "build type, v1 container-based",
            "slsa: {buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1'}",
            CONTAINER_V1,
        )
        .fails("the SLSA provenance's build type is \"https://slsa.dev/container-based-build/v0.1?draft\", not \"https://github.com/slsa-framework/slsa-github-generator/generic@v1\""),
        case("build type absent", "slsa: {buildType: x}", &inconsistent_v02)
            .fails("the SLSA provenance has no predicate.buildType"),
        // not provenance
        case("an SBOM is not provenance", "slsa: {branch: main}", &sbom)
            .fails("the statement is not SLSA provenance (v0.2 or v1): its predicateType is \"https://spdx.dev/Document\""),
    ]);
}

#[test]
fn sbom_conditions() {
    let spdx_json = spdx(fixture!("cosign/bom-go-mod.spdx.json"));
    let tag_value = spdx_tag_value();
    let cdx = cyclonedx(fixture!("cosign/bom-go-mod.cyclonedx.json"));
    let app_spdx = spdx(fixture!("handwritten/app.spdx.json"));
    let app_cdx = cyclonedx(fixture!("handwritten/app.cdx.json"));
    let not_spdx = spdx(br#"{"bomFormat": "CycloneDX", "packages": []}"#);
    let tag_value_forged = spdx(
        br#""SPDXVersion: SPDX-2.3\nPackageName: ok\nPackageVersion: 1.0.0\nPackageComment: <text>\nPackageName: evil\n</text>\n""#,
    );
    run(vec![
        // format
        case("format spdx (JSON)", "sbom: {format: spdx}", &spdx_json),
        case("format spdx (tag-value)", "sbom: {format: spdx}", &tag_value),
        case("format cyclonedx", "sbom: {format: cyclonedx}", &cdx),
        case("format, SPDX is not CycloneDX", "sbom: {format: cyclonedx}", &spdx_json)
            .fails("the SBOM is SPDX (predicateType \"https://spdx.dev/Document\"), but the policy requires format cyclonedx"),
        case("not an SBOM", "sbom: {format: spdx}", GENERIC_V02)
            .fails("the statement is not an SBOM: its predicateType is \"https://slsa.dev/provenance/v0.2\""),
        case("SPDX predicate type, not SPDX", "sbom: {maxAge: 1d}", &not_spdx)
            .fails("the SPDX SBOM is not an SPDX 2 JSON document: it has no spdxVersion"),
        // maxAge
        case("maxAge, SPDX JSON fresh", "sbom: {maxAge: 30d}", &spdx_json)
            .at(SPDX_JSON_CREATED + DAY),
        case("maxAge, SPDX JSON too old", "sbom: {maxAge: 30d}", &spdx_json)
            .fails("the SPDX SBOM's creationInfo.created \"2022-06-07T22:14:56Z\" is 694 days old, more than maxAge 30d"),
        case("maxAge, SPDX tag-value too old", "sbom: {maxAge: 720h}", &tag_value)
            .fails("the SPDX SBOM's Created \"2021-06-27T13:42:53Z\" is 1039 days old, more than maxAge 720h"),
        case("maxAge, SPDX JSON from the future", "sbom: {maxAge: 90m}", &spdx_json)
            .at(SPDX_JSON_CREATED - 3_600)
            .fails("the SPDX SBOM's creationInfo.created \"2022-06-07T22:14:56Z\" is 1 hour in the future, more than the 5 minutes allowed for clock skew"),
        case("maxAge, CycloneDX with an offset", "sbom: {maxAge: 1h}", &app_cdx)
            .at(1_714_557_600 + 3_600),
        case("maxAge, CycloneDX without timestamp", "sbom: {maxAge: 30d}", &cdx)
            .fails("the CycloneDX SBOM has no metadata.timestamp, so its age (maxAge 30d) cannot be checked"),
        // deniedPackages
        case(
            "denied package, empty SBOM",
            "sbom: {deniedPackages: [{name: log4j-core}], deniedLicenses: [GPL-3.0-only]}",
            &spdx_json,
        ),
        case(
            "denied package by name (tag-value, 143 Go modules)",
            "sbom: {deniedPackages: [{name: github.com/google/go-containerregistry}]}",
            &tag_value,
        )
        .fails("the SBOM contains denied package \"github.com/google/go-containerregistry\" \"v0.5.1\", matching the rule name \"github.com/google/go-containerregistry\""),
        case(
            "denied package by name and range, v-prefixed version",
            "sbom: {deniedPackages: [{name: github.com/google/go-containerregistry, versions: '<0.6.0'}]}",
            &tag_value,
        )
        .fails("the SBOM contains denied package \"github.com/google/go-containerregistry\" \"v0.5.1\", matching the rule name \"github.com/google/go-containerregistry\", versions \"<0.6.0\" (its version \"v0.5.1\" read as 0.5.1)"),
        case(
            "denied package by name, version outside the range",
            "sbom: {deniedPackages: [{name: github.com/google/go-containerregistry, versions: '>=0.6.0'}]}",
            &tag_value,
        ),
        case(
            "denied package, a pseudo-version is semver",
            "sbom: {deniedPackages: [{name: github.com/sigstore/fulcio, versions: '<0.1.0'}]}",
            &tag_value,
        )
        .fails("the SBOM contains denied package \"github.com/sigstore/fulcio\" \"v0.0.0-20210405115948-e7630f533fca\", matching the rule name \"github.com/sigstore/fulcio\", versions \"<0.1.0\" (its version \"v0.0.0-20210405115948-e7630f533fca\" read as 0.0.0-20210405115948-e7630f533fca)"),
        case(
            "denied package, a commit is not semver: fail closed",
            "sbom: {deniedPackages: [{name: github.com/sigstore/cosign, versions: '<1.0.0'}]}",
            &tag_value,
        )
        .fails("the SBOM contains denied package \"github.com/sigstore/cosign\" \"ddd9132\", matching the rule name \"github.com/sigstore/cosign\", versions \"<1.0.0\" (its version \"ddd9132\" is not a semantic version, so the range cannot clear it)"),
        case(
            "denied package by purl and range",
            "sbom: {deniedPackages: [{purl: pkg:maven/org.apache.logging.log4j/log4j-core, versions: '<2.17.1'}]}",
            &app_spdx,
        )
        .fails("the SBOM contains denied package \"log4j-core\" \"2.14.1\" (\"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar\"), matching the rule purl \"pkg:maven/org.apache.logging.log4j/log4j-core\", versions \"<2.17.1\""),
        case(
            "denied package by purl, fixed version",
            "sbom: {deniedPackages: [{purl: pkg:maven/org.apache.logging.log4j/log4j-core, versions: '>=2.0.0, <2.14.0'}]}",
            &app_spdx,
        ),
        case(
            "denied purl namespace, two packages",
            "sbom: {deniedPackages: [{purl: 'pkg:maven/org.apache.logging.log4j/'}]}",
            &app_spdx,
        )
        .fails("the SBOM contains denied package \"log4j-core\" \"2.14.1\" (\"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar\"), matching the rule purl \"pkg:maven/org.apache.logging.log4j/\", and 1 more denied packages"),
        case(
            "denied purl of a scoped npm package, lenient version",
            "sbom: {deniedPackages: [{purl: 'pkg:npm/@angular/core', versions: '<12.2.1'}]}",
            &app_spdx,
        )
        .fails("the SBOM contains denied package \"@angular/core\" \"v12.2\" (\"pkg:npm/%40angular/core@12.2.0\"), matching the rule purl \"pkg:npm/@angular/core\", versions \"<12.2.1\" (its version \"v12.2\" read as 12.2.0)"),
        case(
            "denied package, a Maven qualifier version: fail closed",
            "sbom: {deniedPackages: [{purl: pkg:maven/org.springframework/spring-core, versions: '<5.3.18'}]}",
            &app_spdx,
        )
        .fails("the SBOM contains denied package \"spring-core\" \"5.3.20.RELEASE\" (\"pkg:maven/org.springframework/spring-core@5.3.20.RELEASE\"), matching the rule purl \"pkg:maven/org.springframework/spring-core\", versions \"<5.3.18\" (its version \"5.3.20.RELEASE\" is not a semantic version, so the range cannot clear it)"),
        case(
            "denied package nested in a CycloneDX component",
            "sbom: {deniedPackages: [{purl: pkg:maven/org.apache.logging.log4j/log4j-core, versions: '<2.17.1'}, {purl: pkg:maven/org.apache.logging.log4j/log4j-api, versions: '<2.17.0'}]}",
            &app_cdx,
        )
        .fails("the SBOM contains denied package \"log4j-api\" \"2.16.0\" (\"pkg:maven/org.apache.logging.log4j/log4j-api@2.16.0\"), matching the rule purl \"pkg:maven/org.apache.logging.log4j/log4j-api\", versions \"<2.17.0\""),
        case(
            "denied package by name, any version (CycloneDX)",
            "sbom: {deniedPackages: [{name: Event-Stream}]}",
            &app_cdx,
        )
        .fails("the SBOM contains denied package \"event-stream\" \"3.3.6\" (\"pkg:npm/event-stream@3.3.6\"), matching the rule name \"Event-Stream\""),
        case(
            "denied package by name and purl must both match",
            "sbom: {deniedPackages: [{name: lodash, purl: pkg:pypi/lodash}]}",
            &app_cdx,
        ),
        case(
            "a comment in tag-value cannot forge a package",
            "sbom: {deniedPackages: [{name: evil}]}",
            &tag_value_forged,
        ),
        // deniedLicenses
        case(
            "denied licence in an SPDX declared licence expression",
            "sbom: {deniedLicenses: [AGPL-3.0-only, gpl-3.0-only]}",
            &app_spdx,
        )
        .fails("the SBOM contains package \"readline\" \"8.1-1\" (\"pkg:deb/debian/readline@8.1-1?arch=amd64\") licensed \"(BSD-3-Clause OR GPL-3.0-only)\", which includes denied licence gpl-3.0-only"),
        case(
            "denied licence in a CycloneDX expression",
            "sbom: {deniedLicenses: [GPL-3.0-only]}",
            &app_cdx,
        )
        .fails("the SBOM contains package \"lodash\" \"4.17.21\" (\"pkg:npm/lodash@4.17.21\") licensed \"MIT OR GPL-3.0-only\", which includes denied licence GPL-3.0-only"),
        case(
            "denied licence absent",
            "sbom: {deniedLicenses: [AGPL-3.0-only, SSPL-1.0], deniedPackages: [{name: left-pad}]}",
            &app_cdx,
        ),
        case(
            "denied licence, NOASSERTION everywhere",
            "sbom: {deniedLicenses: [GPL-3.0-only]}",
            &tag_value,
        ),
    ]);
}

#[test]
fn vulnerability_conditions() {
    let none = statement(intoto::COSIGN_VULN, fixture!("cosign/vuln-predicate.json"));
    let trivy = vuln(fixture!("handwritten/trivy.json"));
    let grype = vuln(fixture!("handwritten/grype.json"));
    let sarif = vuln(fixture!("handwritten/sarif.json"));
    let clean_trivy = vuln(br#"{"SchemaVersion": 2, "ArtifactName": "app"}"#);
    let odd = vuln(br#"{"Results": [{"Vulnerabilities": [{"VulnerabilityID": "X-1", "Severity": "SEVERE"}]}]}"#);
    let unknown = vuln(br#"{"findings": []}"#);
    run(vec![
        // maxAge
        case("maxAge, fresh scan", "vulnerabilities: {maxAge: 7d}", &none)
            .at(SCAN_FINISHED + DAY),
        case("maxAge, old scan", "vulnerabilities: {maxAge: 7d}", &none)
            .fails("the vulnerability report's metadata.scanFinishedOn \"2022-04-12T00:10:00Z\" is 750 days old, more than maxAge 7d"),
        // maxSeverity
        case("maxSeverity, no scanner result", "vulnerabilities: {maxSeverity: high}", &none)
            .fails("the vulnerability report has no scanner result (predicate.scanner.result is null), so its findings cannot be checked"),
        case("maxSeverity critical, Trivy", "vulnerabilities: {maxSeverity: critical}", &trivy),
        case("maxSeverity high, Trivy", "vulnerabilities: {maxSeverity: high}", &trivy)
            .fails("the vulnerability report has 2 findings above maxSeverity high, the worst \"CVE-2021-44228\" (critical) in \"org.apache.logging.log4j:log4j-core\" \"2.14.1\""),
        case("maxSeverity low, Trivy (UNKNOWN is below low)", "vulnerabilities: {maxSeverity: low}", &trivy)
            .fails("the vulnerability report has 3 findings above maxSeverity low, the worst \"CVE-2021-44228\" (critical) in \"org.apache.logging.log4j:log4j-core\" \"2.14.1\""),
        case("maxSeverity low, clean Trivy scan", "vulnerabilities: {maxSeverity: low, maxAge: 1d}", &clean_trivy)
            .at(SCAN_FINISHED + 60),
        case("maxSeverity critical, Grype", "vulnerabilities: {maxSeverity: critical}", &grype),
        case("maxSeverity high, Grype", "vulnerabilities: {maxSeverity: high}", &grype)
            .fails("the vulnerability report has a finding above maxSeverity high: \"GHSA-jfh8-c2jp-5v3q\" (critical) in \"log4j-core\" \"2.14.1\""),
        case("maxSeverity low, Grype (negligible is below low)", "vulnerabilities: {maxSeverity: low}", &grype)
            .fails("the vulnerability report has 2 findings above maxSeverity low, the worst \"GHSA-jfh8-c2jp-5v3q\" (critical) in \"log4j-core\" \"2.14.1\""),
        case("maxSeverity high, SARIF", "vulnerabilities: {maxSeverity: high}", &sarif),
        case("maxSeverity medium, SARIF security-severity", "vulnerabilities: {maxSeverity: medium}", &sarif)
            .fails("the vulnerability report has a finding above maxSeverity medium: \"CVE-2023-4911\" (high)"),
        case("unrecognised severity fails closed", "vulnerabilities: {maxSeverity: critical}", &odd)
            .fails("the vulnerability report has a finding above maxSeverity critical: \"X-1\" (unrecognised severity \"SEVERE\")"),
        case("unrecognised scanner output", "vulnerabilities: {maxSeverity: critical}", &unknown)
            .fails("the vulnerability report's scanner result is neither Trivy, Grype, SARIF nor cargo-audit JSON (no SchemaVersion, Results, matches, runs, or lockfile with vulnerabilities)"),
        case("not a vulnerability report", "vulnerabilities: {maxSeverity: critical}", GENERIC_V02)
            .fails("the statement is not a Cosign vulnerability report: its predicateType is \"https://slsa.dev/provenance/v0.2\""),
    ]);
}

#[test]
fn cargo_audit_reports() {
    let clean = vuln(fixture!("cargo-audit/clean.json"));
    let vulnerable = vuln(fixture!("cargo-audit/vulnerable.json"));
    let without_age = {
        let mut report: serde_json::Value =
            serde_json::from_slice(fixture!("cargo-audit/vulnerable.json")).unwrap_or_default();
        if let Some(list) = report["vulnerabilities"]["list"].as_array_mut() {
            list.retain(|v| v["package"]["name"] != "age");
        }
        vuln(report.to_string().as_bytes())
    };
    let only_medium = vuln(
        br#"{"lockfile": {"dependency-count": 1}, "vulnerabilities": {"found": true, "count": 1, "list": [
            {"advisory": {"id": "RUSTSEC-2021-0078", "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N"},
             "package": {"name": "hyper", "version": "0.14.9"}}]}}"#,
    );
    let bad_vector = vuln(
        br#"{"lockfile": {}, "vulnerabilities": {"list": [{"advisory": {"id": "X-1", "cvss": "CVSS:9.9/AV:N"}}]}}"#,
    );
    // A CycloneDX document has a `vulnerabilities` array: without `lockfile` it is not read
    // as cargo-audit's.
    let cyclonedx = vuln(br#"{"bomFormat": "CycloneDX", "vulnerabilities": []}"#);
    run(vec![
        case("no vulnerability", "vulnerabilities: {maxSeverity: low}", &clean),
        case("CVSS 9.8 and 9.1 above high", "vulnerabilities: {maxSeverity: high}", &without_age)
            .fails("the vulnerability report has 2 findings above maxSeverity high, the worst \"RUSTSEC-2021-0079\" (critical) in \"hyper\" \"0.14.9\""),
        case("critical allows CVSS scores", "vulnerabilities: {maxSeverity: critical}", &without_age),
        case("an advisory without CVSS fails closed", "vulnerabilities: {maxSeverity: critical}", &vulnerable)
            .fails("the vulnerability report has a finding above maxSeverity critical: \"RUSTSEC-2024-0433\" (no CVSS score, counted as above any maxSeverity) in \"age\" \"0.10.0\""),
        case("CVSS 5.3 is medium", "vulnerabilities: {maxSeverity: medium}", &only_medium),
        case("CVSS 5.3 is above low", "vulnerabilities: {maxSeverity: low}", &only_medium)
            .fails("the vulnerability report has a finding above maxSeverity low: \"RUSTSEC-2021-0078\" (medium) in \"hyper\" \"0.14.9\""),
        case("a vector that does not parse fails closed", "vulnerabilities: {maxSeverity: critical}", &bad_vector)
            .fails("the vulnerability report has a finding above maxSeverity critical: \"X-1\" (unrecognised severity \"CVSS:9.9/AV:N\")"),
        case("CycloneDX vulnerabilities are not cargo-audit's", "vulnerabilities: {maxSeverity: critical}", &cyclonedx)
            .fails("the vulnerability report's scanner result is neither Trivy, Grype, SARIF nor cargo-audit JSON (no SchemaVersion, Results, matches, runs, or lockfile with vulnerabilities)"),
    ]);
}

const REGO_BUILDER: &str = r#"rego: |
  package signature
  default allow = false
  allow {
    input.predicateType == "https://slsa.dev/provenance/v0.2"
    startswith(input.predicate.builder.id, "https://github.com/slsa-framework/")
  }
  deny[msg] {
    not allow
    msg := sprintf("predicate type %v is not allowed", [input.predicateType])
  }
"#;

#[test]
fn rego_conditions() {
    run(vec![
        case("allow true", REGO_BUILDER, GENERIC_V02),
        case("allow false, with deny messages", REGO_BUILDER, CONTAINER_V1)
            .fails("the Rego policy denied: data.signature.allow is false, not true (deny: \"predicate type https://slsa.dev/provenance/v1 is not allowed\")"),
        case(
            "allow undefined",
            "rego: \"package signature\\nallow { input.predicate.nothing == 1 }\"",
            GENERIC_V02,
        )
        .fails("the Rego policy denied: data.signature.allow is undefined, not true"),
        case(
            "allow is not exactly true",
            "rego: \"package signature\\nallow = \\\"yes\\\"\"",
            GENERIC_V02,
        )
        .fails("the Rego policy denied: data.signature.allow is \"yes\", not true"),
        case(
            "Rego v1 syntax with import rego.v1",
            "rego: \"package signature\\nimport rego.v1\\nallow if input.subject[0].name == \\\"registry.example/acme/app\\\"\"",
            &spdx(fixture!("cosign/bom-go-mod.spdx.json")),
        ),
        case(
            "deny set with several messages",
            "rego: \"package signature\\nimport rego.v1\\nallow = false\\ndeny contains m if { some s in input.subject; m := s.name }\\ndeny contains \\\"second\\\" if true\"",
            GENERIC_V02,
        )
        .fails("the Rego policy denied: data.signature.allow is false, not true (deny: \"gha_generic-binary-linux-amd64-v14.2\"; \"second\")"),
        case(
            "an unknown function is an evaluation error, not a load error",
            "rego: \"package signature\\nallow { undefined_function(input) }\"",
            GENERIC_V02,
        )
        .fails("the Rego policy failed to evaluate data.signature.allow: policy.rego:2:27: could not find function undefined_function"),
        case(
            "SLSA and Rego together",
            "{slsa: {tag: v14.2}, rego: \"package signature\\nallow { input.predicate.buildType }\"}",
            GENERIC_V02,
        ),
    ]);
}

#[test]
fn rego_modules_are_checked_at_load() {
    let cases: &[(&str, &str)] = &[
        (
            "package signature\nallow {",
            "the Rego policy does not parse:",
        ),
        (
            "package sigstore\nallow = true",
            "must be `package signature`",
        ),
        (
            "package signature.sub\nallow = true",
            "not `package signature.sub`",
        ),
        (
            "package signature\nisCompliant = true",
            "defines no `allow` rule",
        ),
        (
            "package signature\nallow { x == 1 }",
            "the Rego policy does not compile:",
        ),
    ];
    for (source, want) in cases {
        match RegoCondition::compile(source) {
            Ok(_) => panic!("{source:?} compiled"),
            Err(e) => assert!(e.to_string().contains(want), "{source:?}: {e}"),
        }
    }
    // A load error in YAML points at the condition.
    let err = serde_saphyr::from_str::<Yaml>("slsa: {}\nrego: |\n  package signature\n  allow {\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("the Rego policy does not parse: policy.rego:2:7: expecting }")
            && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn rego_evaluation_is_bounded_in_time() {
    let slow = RegoCondition::compile(
        "package signature\nimport rego.v1\nallow if count([1 | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000)]) > 0",
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .with_time_limit(std::time::Duration::from_millis(20));
    let started = std::time::Instant::now();
    let err = match slow.check(GENERIC_V02) {
        Err(e) => e.to_string(),
        Ok(()) => panic!("the slow module passed"),
    };
    assert!(
        err.starts_with("the Rego policy failed to evaluate data.signature.allow:")
            && err.contains("execution exceeded time limit"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn conditions_are_shareable_and_empty_ones_read_nothing() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Conditions>();
    let empty = Conditions::default();
    assert!(empty.is_empty());
    assert!(empty.check(b"not even JSON", NOW).is_ok());
    let some = conditions("sbom: {}");
    assert!(!some.is_empty());
    assert_eq!(
        some.check(b"not even JSON", NOW).map_err(|e| e.to_string()),
        Err("the attestation's statement cannot be read: not an in-toto statement: expected ident at line 1 column 2".to_owned())
    );
}

#[test]
fn yaml_schema_is_strict() {
    let cases: &[(&str, &str)] = &[
        ("slsa: {builderID: {exact: x}}", "unknown field `builderID`"),
        ("slsa: {builderId: {exact: x, prefix: y}}", ""),
        ("slsa: {builderId: {regex: x}}", "unknown variant `regex`"),
        ("sbom: {maxAge: 30y}", "invalid duration \"30y\""),
        ("sbom: {format: spdx-json}", "unknown variant `spdx-json`"),
        (
            "sbom: {deniedPackages: [{versions: '<1'}]}",
            "needs a name or a purl",
        ),
        (
            "vulnerabilities: {maxSeverity: severe}",
            "unknown variant `severe`",
        ),
        (
            "vulnerabilities: {maxSeverity: high, minSeverity: low}",
            "unknown field `minSeverity`",
        ),
        ("rego: 42", ""),
    ];
    for (yaml, want) in cases {
        match serde_saphyr::from_str::<Yaml>(yaml) {
            Ok(_) => panic!("{yaml} parsed"),
            Err(e) => assert!(e.to_string().contains(want), "{yaml}: {e}"),
        }
    }
    let full = conditions(
        "slsa:\n  builderId: {prefix: 'https://github.com/'}\n  sourceRepository: github.com/acme/app\n  branch: main\n\
         sbom:\n  format: cyclonedx\n  maxAge: 30d\n  deniedPackages:\n    - {purl: pkg:maven/org.apache.logging.log4j/log4j-core, versions: '>=2.0.0, <2.17.1'}\n  deniedLicenses: [GPL-3.0-only]\n\
         vulnerabilities: {maxSeverity: medium, maxAge: 7d}\n",
    );
    assert_eq!(
        full.sbom
            .as_ref()
            .and_then(|s| s.max_age.as_ref())
            .map(MaxAge::seconds),
        Some(30 * DAY)
    );
    assert_eq!(
        full.vulnerabilities.as_ref().and_then(|v| v.max_severity),
        Some(Severity::Medium)
    );
}

/// A 100 MB SPDX SBOM: checked without holding its packages (run with
/// `cargo test -p signet-verify large_sbom -- --ignored --nocapture --test-threads=1`).
#[test]
#[ignore = "builds a 100 MB statement; run alone to read the peak memory"]
fn large_sbom_is_checked_in_one_pass() {
    fn peak_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
    // Written straight into the statement's buffer, so the peak before the check is the
    // statement itself.
    let mut statement = String::with_capacity(110 << 20);
    statement.push_str(concat!(
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"00"}}],"#,
        r#""predicateType":"https://spdx.dev/Document","predicate":"#,
        r#"{"spdxVersion":"SPDX-2.3","creationInfo":{"created":"2024-05-01T12:00:00Z"},"packages":["#
    ));
    let mut n = 0;
    while statement.len() < 100 << 20 {
        if n > 0 {
            statement.push(',');
        }
        statement.push_str(&format!(
            r#"{{"name":"pkg-{n}","SPDXID":"SPDXRef-{n}","versionInfo":"1.{n}.0","licenseConcluded":"MIT","licenseDeclared":"MIT OR Apache-2.0","downloadLocation":"NOASSERTION","externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/pkg-{n}@1.{n}.0"}}]}}"#
        ));
        n += 1;
    }
    statement.push_str("]}}");
    let statement = statement.into_bytes();
    let c = conditions(
        "sbom: {maxAge: 30d, deniedPackages: [{name: pkg-999999999, versions: '<2'}], deniedLicenses: [GPL-3.0-only]}",
    );
    let before = peak_kib();
    let started = std::time::Instant::now();
    assert!(c.check(&statement, NOW).is_ok());
    let elapsed = started.elapsed();
    let extra = peak_kib().saturating_sub(before);
    // For comparison: the same statement as a serde_json value tree.
    let started = std::time::Instant::now();
    let tree: serde_json::Value = serde_json::from_slice(&statement).unwrap_or_default();
    let tree_elapsed = started.elapsed();
    let tree_extra = peak_kib().saturating_sub(before);
    drop(tree);
    println!(
        "{n} packages, {} MiB statement: checked in {elapsed:?} with peak memory +{} MiB \
         (a serde_json::Value of it: {tree_elapsed:?}, +{} MiB)",
        statement.len() >> 20,
        extra >> 10,
        tree_extra >> 10
    );
    assert!(extra < 16 << 10, "the check raised the peak by {extra} KiB");
}

/// Google BCID's VSA of a GKE node image (slsa-verifier's test data, `tests/data/vsa/`), as its
/// envelope's payload.
fn google_vsa() -> Vec<u8> {
    let envelope = signet_core::dsse::Envelope::parse(include_bytes!(
        "../../tests/data/vsa/slsa-verifier/gke-gce-pre.bcid-vsa.jsonl"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    envelope.payload
}

/// One signet writes: PASSED, SLSA_BUILD_LEVEL_2, policy digest sha256("policy"), verified a
/// day before NOW.
fn signet_vsa(result: crate::vsa::VerificationResult) -> Vec<u8> {
    crate::vsa::Summary::new(
        "https://signet.dev/verifier/release",
        "docker://registry.example/acme/app@sha256:ab",
    )
    .with_policy(
        "file:///release/policy.yaml",
        signet_core::digest::Digest::sha256_of(b"policy"),
    )
    .with_result(result, vec!["SLSA_BUILD_LEVEL_2".to_owned()])
    .statement(
        "registry.example/acme/app",
        &signet_core::digest::Digest::sha256_of(b"image"),
        NOW - DAY,
    )
}

#[test]
fn vsa_conditions() {
    use crate::vsa::VerificationResult::{Failed, Passed};
    const GOOGLE: &str =
        "vsa: {verifierId: \"https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1\"}";
    // sha256("policy"), the digest signet_vsa writes.
    const RELEASE: &str = "vsa: {verifierId: https://signet.dev/verifier/release, policyDigest: \"sha256:823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812\", verifiedLevels: [SLSA_BUILD_LEVEL_1], maxAge: 7d}";
    run(vec![
        case("Google's VSA by its verifier", GOOGLE, &google_vsa()),
        case("Google's VSA with its levels", "vsa: {verifierId: \"https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1\", verifiedLevels: [BCID_L1, SLSA_BUILD_LEVEL_2]}", &google_vsa()),
        case("Google's VSA, another verifier", "vsa: {verifierId: https://signet.dev/verifier/release}", &google_vsa())
            .fails("[vsa-verifier-id] the VSA's verifier.id is \"https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1\", not \"https://signet.dev/verifier/release\""),
        case("Google's VSA, a higher level", "vsa: {verifierId: \"https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1\", verifiedLevels: [SLSA_BUILD_LEVEL_3]}", &google_vsa())
            .fails("[vsa-levels] SLSA_BUILD_LEVEL_3 is required; the VSA verifies SLSA_BUILD_LEVEL_2"),
        case("Google's VSA names no policy digest", "vsa: {verifierId: \"https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1\", policyDigest: \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}", &google_vsa())
            .fails("[vsa-policy-digest] the VSA's policy has no sha256 digest; sha256:0000000000000000000000000000000000000000000000000000000000000000 is required"),
        case("signet's release VSA", RELEASE, &signet_vsa(Passed)),
        case("signet's release VSA, 8 days later", RELEASE, &signet_vsa(Passed))
            .at(NOW + 7 * DAY)
            .fails("[vsa-age] the VSA's timeVerified \"2024-05-01T00:00:00Z\" is 8 days old, more than maxAge 7d"),
        case("a FAILED VSA", RELEASE, &signet_vsa(Failed))
            .fails("[vsa-result] the VSA's verificationResult is \"FAILED\""),
        case("another policy", "vsa: {verifierId: https://signet.dev/verifier/release, policyDigest: \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}", &signet_vsa(Passed))
            .fails("[vsa-policy-digest] the VSA's policy digest is sha256:823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812, not sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        case("not a VSA", GOOGLE, GENERIC_V02)
            .fails("[vsa-payload] the statement's predicate type is \"https://slsa.dev/provenance/v0.2\", not https://slsa.dev/verification_summary/v1"),
    ]);
}
