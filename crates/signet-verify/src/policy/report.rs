//! The verdict of a policy evaluation: a versioned, serialisable report.
//!
//! Both policy languages — signet's YAML policy and containers/image's `policy.json` — produce
//! these types, so the CLI prints one format and an admission tool consumes one type. Values
//! are built only by this crate's evaluators.

use serde::Serialize;

/// The report format version, bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 1;

/// What was decided for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Every matching policy passed (or the image matched none and `noMatch: allow`).
    Allow,
    /// A policy in `enforce` mode failed, or no policy matched and `noMatch` is `deny`.
    Deny,
    /// Only `warn`/`audit` policies failed: allowed, with a warning.
    Warn,
    /// The evidence could not be gathered (registry unreachable, malformed store): not a denial.
    Undecided,
}

/// How a policy's failure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A failure denies.
    #[default]
    Enforce,
    /// A failure is reported as a warning; the image is allowed.
    Warn,
    /// A failure is recorded in the report only.
    Audit,
}

/// One piece of evidence behind a requirement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What the evidence is: `signature`, `attestation`.
    pub kind: &'static str,
    /// The authority (key name, keyless identity) that produced it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The layer digest of the signature or attestation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The predicate type, for attestations.
    #[serde(rename = "predicateType", skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The transparency-log index, when one was verified.
    #[serde(rename = "logIndex", skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The check that failed, when this evidence did not count.
    #[serde(rename = "failedCheck", skip_serializing_if = "Option::is_none")]
    pub failed_check: Option<String>,
}

/// The result of one requirement of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    /// A short description of the requirement (`signatures: 2 of [a, b, c], required [a]`).
    pub requirement: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed, or how it passed, in one sentence.
    pub reason: String,
    /// The signatures or attestations considered.
    pub evidence: Vec<Evidence>,
}

/// The result of one matching policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyResult {
    /// The policy's name (or the `policy.json` scope that matched).
    pub name: String,
    /// Its mode.
    pub mode: Mode,
    /// Whether every requirement passed.
    pub passed: bool,
    /// Each requirement's result.
    pub requirements: Vec<RequirementResult>,
}

/// The verdict for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageVerdict {
    /// The image as given.
    pub image: String,
    /// The digest it resolved to (absent when it could not be resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The decision.
    pub decision: Decision,
    /// The policies that matched, with their results.
    #[serde(rename = "matchedPolicies")]
    pub matched_policies: Vec<PolicyResult>,
    /// Why the decision was taken when no policy result explains it (no policy matched, or
    /// the evidence could not be gathered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ImageVerdict {
    /// The decision implied by the policy results: deny if an enforced policy failed, warn if
    /// only warn/audit policies failed (audit failures do not even warn), else allow.
    pub(crate) fn decide(results: &[PolicyResult]) -> Decision {
        if results.iter().any(|r| !r.passed && r.mode == Mode::Enforce) {
            Decision::Deny
        } else if results.iter().any(|r| !r.passed && r.mode == Mode::Warn) {
            Decision::Warn
        } else {
            Decision::Allow
        }
    }
}

/// The report for a batch of images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// One verdict per image, in the order given.
    pub images: Vec<ImageVerdict>,
}

impl PolicyReport {
    /// A report of `images`.
    pub fn new(images: Vec<ImageVerdict>) -> Self {
        Self {
            version: REPORT_VERSION,
            images,
        }
    }

    /// The process exit code: 0 when every image is allowed (or only warned about), 1 when
    /// one is denied, 2 when one could not be decided (and none was denied... a denial is
    /// definite, so it wins over an undecided image).
    pub fn exit_code(&self) -> u8 {
        if self.images.iter().any(|i| i.decision == Decision::Deny) {
            1
        } else if self
            .images
            .iter()
            .any(|i| i.decision == Decision::Undecided)
        {
            2
        } else {
            0
        }
    }
}
