//! Vulnerability-report conditions over Cosign's vuln predicate
//! (`https://cosign.sigstore.dev/attestation/vuln/v1`), whose `scanner.result` holds the
//! scanner's own output: Trivy JSON, Grype JSON, SARIF or cargo-audit JSON are read.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use signet_core::intoto;

use super::Text;
use super::time::{AgeFailure, MaxAge, quote};

/// A vulnerability severity, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium (Grype and GitHub also say "moderate").
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        })
    }
}

/// Conditions on a Cosign vulnerability report.
///
/// ```yaml
/// vulnerabilities:
///   maxSeverity: medium   # a high or critical finding fails
///   maxAge: 7d            # metadata.scanFinishedOn
/// ```
///
/// Findings the scanner rates `unknown`, `negligible`, `none` or `info` count as below `low`
/// (Trivy's own order); a severity that is none of these words fails closed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VulnCondition {
    /// No finding may be more severe than this.
    #[serde(default)]
    pub max_severity: Option<Severity>,
    /// The scan must have finished at most this long ago.
    #[serde(default)]
    pub max_age: Option<MaxAge>,
}

/// A finding's level: below `low`, a level, no score at all, or a word we do not know (the
/// last two fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    BelowLow,
    At(Severity),
    /// A RustSec advisory without a CVSS vector: RustSec rates none, cargo-audit fails on it.
    Unscored,
    Unrecognised,
}

impl Level {
    fn from_word(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::At(Severity::Critical),
            "high" => Self::At(Severity::High),
            "medium" | "moderate" => Self::At(Severity::Medium),
            "low" => Self::At(Severity::Low),
            "negligible" | "unknown" | "none" | "info" | "informational" | "" => Self::BelowLow,
            _ => Self::Unrecognised,
        }
    }

    /// CVSS score bands (as GitHub reads SARIF `security-severity`).
    fn from_score(score: f64) -> Self {
        if score.is_nan() {
            Self::Unrecognised
        } else if score >= 9.0 {
            Self::At(Severity::Critical)
        } else if score >= 7.0 {
            Self::At(Severity::High)
        } else if score >= 4.0 {
            Self::At(Severity::Medium)
        } else if score > 0.0 {
            Self::At(Severity::Low)
        } else {
            Self::BelowLow
        }
    }

    fn exceeds(self, max: Severity) -> bool {
        match self {
            Self::BelowLow => false,
            Self::At(s) => s > max,
            Self::Unscored | Self::Unrecognised => true,
        }
    }
}

struct Finding<'a> {
    id: Option<Text<'a>>,
    /// The severity as the scanner wrote it.
    severity: String,
    level: Level,
    package: Option<Text<'a>>,
    version: Option<Text<'a>>,
}

impl Finding<'_> {
    fn describe(&self) -> String {
        let mut text = format!(
            "{} ({})",
            quote(self.id.as_deref().unwrap_or("(no id)")),
            match self.level {
                Level::Unrecognised => format!("unrecognised severity {}", quote(&self.severity)),
                Level::Unscored => "no CVSS score, counted as above any maxSeverity".to_owned(),
                Level::At(s) => s.to_string(),
                Level::BelowLow => quote(&self.severity),
            }
        );
        if let Some(package) = &self.package {
            text.push_str(&format!(" in {}", quote(package)));
            if let Some(version) = &self.version {
                text.push_str(&format!(" {}", quote(version)));
            }
        }
        text
    }
}

/// Why a statement failed a vulnerability-report condition.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VulnFailure {
    /// The statement is of another predicate type.
    #[error(
        "the statement is not a Cosign vulnerability report: its predicateType is {}",
        quote(.0)
    )]
    NotAReport(String),
    /// The statement has no predicate.
    #[error("the vulnerability report has no predicate")]
    NoPredicate,
    /// The predicate is `null`.
    #[error("the vulnerability report's predicate is null")]
    NullPredicate,
    /// The predicate or the scanner output does not parse.
    #[error("the vulnerability report cannot be read: {0}")]
    Unreadable(Arc<serde_json::Error>),
    /// No scan time to check the age with.
    #[error(
        "the vulnerability report has no metadata.scanFinishedOn, so its age (maxAge {0}) cannot be checked"
    )]
    NoScanTime(MaxAge),
    /// The scan is too old (or its time unreadable).
    #[error(transparent)]
    Age(AgeFailure),
    /// No scanner output.
    #[error(
        "the vulnerability report has no scanner result (predicate.scanner.result is null), so its findings cannot be checked"
    )]
    NoScannerResult,
    /// The scanner output is not an object.
    #[error(
        "the vulnerability report's scanner result is not a JSON object (Trivy, Grype, SARIF or cargo-audit output)"
    )]
    ResultNotAnObject,
    /// The scanner output is of no known scanner.
    #[error(
        "the vulnerability report's scanner result is neither Trivy, Grype, SARIF nor cargo-audit JSON (no SchemaVersion, Results, matches, runs, or lockfile with vulnerabilities)"
    )]
    UnknownScanner,
    /// Findings are more severe than allowed.
    #[error(
        "the vulnerability report has {} above maxSeverity {max}{}{worst}",
        if *.count == 1 { "a finding".to_owned() } else { format!("{} findings", .count) },
        if *.count == 1 { ": " } else { ", the worst " }
    )]
    TooSevere {
        /// The rule.
        max: Severity,
        /// How many findings are above it.
        count: usize,
        /// The first of the most severe (id, severity, package).
        worst: String,
    },
}

impl VulnCondition {
    /// Checks the predicate; `Err` is the reason.
    pub(super) fn check(
        &self,
        predicate_type: &str,
        predicate: Option<&RawValue>,
        now_unix: i64,
    ) -> Result<(), VulnFailure> {
        if predicate_type != intoto::COSIGN_VULN {
            return Err(VulnFailure::NotAReport(predicate_type.to_owned()));
        }
        let raw = predicate
            .map(RawValue::get)
            .ok_or(VulnFailure::NoPredicate)?;
        let unreadable = |e: serde_json::Error| VulnFailure::Unreadable(Arc::new(e));
        let report: Option<VulnPredicate<'_>> = serde_json::from_str(raw).map_err(unreadable)?;
        let report = report.ok_or(VulnFailure::NullPredicate)?;
        if let Some(max_age) = &self.max_age {
            let finished = report
                .metadata
                .and_then(|m| m.scan_finished_on)
                .ok_or_else(|| VulnFailure::NoScanTime(max_age.clone()))?;
            max_age
                .check(
                    "the vulnerability report's metadata.scanFinishedOn",
                    &finished,
                    now_unix,
                )
                .map_err(VulnFailure::Age)?;
        }
        let Some(max) = self.max_severity else {
            return Ok(());
        };
        let result = report
            .scanner
            .and_then(|s| s.result)
            .map(RawValue::get)
            .filter(|r| *r != "null")
            .ok_or(VulnFailure::NoScannerResult)?;
        let findings = findings(result).map_err(unreadable)??;
        let above: Vec<&Finding<'_>> = findings.iter().filter(|f| f.level.exceeds(max)).collect();
        // The first of the most severe, in the scanner's order.
        let Some(worst) = above.iter().rev().max_by_key(|f| f.level) else {
            return Ok(());
        };
        Err(VulnFailure::TooSevere {
            max,
            count: above.len(),
            worst: worst.describe(),
        })
    }
}

#[derive(Deserialize)]
struct VulnPredicate<'a> {
    #[serde(borrow, default)]
    scanner: Option<Scanner<'a>>,
    #[serde(borrow, default)]
    metadata: Option<VulnMetadata<'a>>,
}

#[derive(Deserialize)]
struct Scanner<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct VulnMetadata<'a> {
    #[serde(rename = "scanFinishedOn", borrow, default)]
    scan_finished_on: Option<Text<'a>>,
}

/// The scanner output, recognised by its top-level keys: Trivy (`SchemaVersion`, `Results`),
/// Grype (`matches`), SARIF (`runs`), cargo-audit (`lockfile` and `vulnerabilities`).
#[derive(Deserialize)]
struct ScanOutput<'a> {
    #[serde(rename = "SchemaVersion", default)]
    trivy_schema: Option<serde::de::IgnoredAny>,
    #[serde(rename = "Results", borrow, default)]
    trivy: Option<Vec<TrivyResult<'a>>>,
    #[serde(borrow, default)]
    matches: Option<Vec<GrypeMatch<'a>>>,
    #[serde(borrow, default)]
    runs: Option<Vec<SarifRun<'a>>>,
    #[serde(default)]
    lockfile: Option<serde::de::IgnoredAny>,
    /// cargo-audit's; read only beside `lockfile` (CycloneDX, say, has an array here).
    #[serde(borrow, default)]
    vulnerabilities: Option<&'a RawValue>,
}

/// `cargo audit --json`: `vulnerabilities.list[]` (its `warnings` — unmaintained, unsound,
/// yanked — are not vulnerabilities and carry no severity).
#[derive(Deserialize)]
struct CargoAuditVulnerabilities<'a> {
    #[serde(borrow, default)]
    list: Option<Vec<CargoAuditVulnerability<'a>>>,
}

#[derive(Deserialize)]
struct CargoAuditVulnerability<'a> {
    #[serde(borrow, default)]
    advisory: Option<CargoAuditAdvisory<'a>>,
    #[serde(borrow, default)]
    package: Option<GrypeArtifact<'a>>,
}

#[derive(Deserialize)]
struct CargoAuditAdvisory<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    /// A CVSS vector (`CVSS:3.1/AV:N/…`), scored as the CVSS specification scores it.
    #[serde(borrow, default)]
    cvss: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct TrivyResult<'a> {
    #[serde(rename = "Vulnerabilities", borrow, default)]
    vulnerabilities: Option<Vec<TrivyVulnerability<'a>>>,
}

#[derive(Deserialize)]
struct TrivyVulnerability<'a> {
    #[serde(rename = "VulnerabilityID", borrow, default)]
    id: Option<Text<'a>>,
    #[serde(rename = "PkgName", borrow, default)]
    package: Option<Text<'a>>,
    #[serde(rename = "InstalledVersion", borrow, default)]
    version: Option<Text<'a>>,
    #[serde(rename = "Severity", borrow, default)]
    severity: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct GrypeMatch<'a> {
    #[serde(borrow, default)]
    vulnerability: Option<GrypeVulnerability<'a>>,
    #[serde(borrow, default)]
    artifact: Option<GrypeArtifact<'a>>,
}

#[derive(Deserialize)]
struct GrypeVulnerability<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    severity: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct GrypeArtifact<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct SarifRun<'a> {
    #[serde(borrow, default)]
    tool: Option<SarifTool<'a>>,
    #[serde(borrow, default)]
    results: Option<Vec<SarifResult<'a>>>,
}

#[derive(Deserialize)]
struct SarifTool<'a> {
    #[serde(borrow, default)]
    driver: Option<SarifDriver<'a>>,
}

#[derive(Deserialize)]
struct SarifDriver<'a> {
    #[serde(borrow, default)]
    rules: Option<Vec<SarifRule<'a>>>,
}

#[derive(Deserialize)]
struct SarifRule<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    properties: Option<SarifProperties<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    #[serde(borrow, default)]
    rule_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    level: Option<Text<'a>>,
    #[serde(borrow, default)]
    properties: Option<SarifProperties<'a>>,
}

#[derive(Deserialize)]
struct SarifProperties<'a> {
    /// A CVSS score, as a string (GitHub's convention) or a number.
    #[serde(rename = "security-severity", borrow, default)]
    security_severity: Option<&'a RawValue>,
}

impl SarifProperties<'_> {
    fn score(&self) -> Option<Level> {
        let raw = self.security_severity?.get();
        let text: Text<'_> = serde_json::from_str(raw).unwrap_or_else(|_| Text::from(raw));
        Some(
            text.trim()
                .parse::<f64>()
                .map_or(Level::Unrecognised, Level::from_score),
        )
    }
}

/// The findings of a scanner output; the outer `Result` is a JSON error, the inner a reason.
fn findings(raw: &str) -> serde_json::Result<Result<Vec<Finding<'_>>, VulnFailure>> {
    if !raw.starts_with('{') {
        return Ok(Err(VulnFailure::ResultNotAnObject));
    }
    let output: ScanOutput<'_> = serde_json::from_str(raw)?;
    let mut out = Vec::new();
    let cargo_audit = match (output.lockfile, output.vulnerabilities) {
        (Some(_), Some(raw)) => Some(serde_json::from_str::<CargoAuditVulnerabilities<'_>>(
            raw.get(),
        )?),
        _ => None,
    };
    let recognised = output.trivy_schema.is_some()
        || output.trivy.is_some()
        || output.matches.is_some()
        || output.runs.is_some()
        || cargo_audit.is_some();
    if !recognised {
        return Ok(Err(VulnFailure::UnknownScanner));
    }
    let word = |severity: Option<Text<'_>>| {
        let severity = severity.map(|s| s.to_string()).unwrap_or_default();
        (Level::from_word(&severity), severity)
    };
    for result in output.trivy.unwrap_or_default() {
        for v in result.vulnerabilities.unwrap_or_default() {
            let (level, severity) = word(v.severity);
            out.push(Finding {
                id: v.id,
                severity,
                level,
                package: v.package,
                version: v.version,
            });
        }
    }
    for m in output.matches.unwrap_or_default() {
        let (id, severity) = match m.vulnerability {
            Some(v) => (v.id, v.severity),
            None => (None, None),
        };
        let (package, version) = match m.artifact {
            Some(a) => (a.name, a.version),
            None => (None, None),
        };
        let (level, severity) = word(severity);
        out.push(Finding {
            id,
            severity,
            level,
            package,
            version,
        });
    }
    for v in cargo_audit.and_then(|c| c.list).unwrap_or_default() {
        let (id, cvss) = match v.advisory {
            Some(a) => (a.id, a.cvss),
            None => (None, None),
        };
        let (level, severity) = match cvss {
            None => (Level::Unscored, String::new()),
            Some(vector) => match vector.parse::<cvss::Cvss>() {
                Ok(parsed) => (Level::from_score(parsed.score()), vector.to_string()),
                Err(_) => (Level::Unrecognised, vector.to_string()),
            },
        };
        let (package, version) = match v.package {
            Some(p) => (p.name, p.version),
            None => (None, None),
        };
        out.push(Finding {
            id,
            severity,
            level,
            package,
            version,
        });
    }
    for run in output.runs.unwrap_or_default() {
        let rules = run
            .tool
            .and_then(|t| t.driver)
            .and_then(|d| d.rules)
            .unwrap_or_default();
        for result in run.results.unwrap_or_default() {
            let rule_score = || {
                rules
                    .iter()
                    .find(|r| {
                        r.id.as_deref().is_some() && r.id.as_deref() == result.rule_id.as_deref()
                    })
                    .and_then(|r| r.properties.as_ref())
                    .and_then(SarifProperties::score)
            };
            let scored = result
                .properties
                .as_ref()
                .and_then(SarifProperties::score)
                .or_else(rule_score);
            let (level, severity) = match scored {
                Some(level) => (level, "security-severity".to_owned()),
                // SARIF's own levels when no score is given; `warning` is SARIF's default.
                None => {
                    let level = result.level.as_deref().unwrap_or("warning").to_owned();
                    let mapped = match level.as_str() {
                        "error" => Level::At(Severity::High),
                        "warning" => Level::At(Severity::Medium),
                        "note" => Level::At(Severity::Low),
                        "none" => Level::BelowLow,
                        _ => Level::Unrecognised,
                    };
                    (mapped, format!("level {level}"))
                }
            };
            out.push(Finding {
                id: result.rule_id,
                severity,
                level,
                package: None,
                version: None,
            });
        }
    }
    Ok(Ok(out))
}
