//! The verdict of a policy evaluation: a versioned, serialisable report.
//!
//! Both policy languages — signet's YAML policy and containers/image's `policy.json` — produce
//! these types, so the CLI prints one format and an admission tool consumes one type. Their
//! fields are private: values are built only by this crate's evaluators, and read through
//! accessors or serialised.

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
    pub(crate) kind: &'static str,
    /// The authority (key name, keyless identity) that produced it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signer: Option<String>,
    /// The layer digest of the signature or attestation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) layer: Option<String>,
    /// The predicate type, for attestations.
    #[serde(rename = "predicateType", skip_serializing_if = "Option::is_none")]
    pub(crate) predicate_type: Option<String>,
    /// The transparency-log index, when one was verified.
    #[serde(rename = "logIndex", skip_serializing_if = "Option::is_none")]
    pub(crate) log_index: Option<u64>,
    /// The check that failed, when this evidence did not count.
    #[serde(rename = "failedCheck", skip_serializing_if = "Option::is_none")]
    pub(crate) failed_check: Option<String>,
}

/// The result of one requirement of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    /// A short description of the requirement (`signatures: 2 of [a, b, c], required [a]`).
    pub(crate) requirement: String,
    /// Whether it passed.
    pub(crate) passed: bool,
    /// Why it failed, or how it passed, in one sentence.
    pub(crate) reason: String,
    /// The signatures or attestations considered.
    pub(crate) evidence: Vec<Evidence>,
}

/// The result of one matching policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyResult {
    /// The policy's name (or the `policy.json` scope that matched).
    pub(crate) name: String,
    /// Its mode.
    pub(crate) mode: Mode,
    /// Whether every requirement passed.
    pub(crate) passed: bool,
    /// Each requirement's result.
    pub(crate) requirements: Vec<RequirementResult>,
}

/// The verdict for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageVerdict {
    /// The image as given.
    pub(crate) image: String,
    /// The digest it resolved to (absent when it could not be resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) digest: Option<String>,
    /// The decision.
    pub(crate) decision: Decision,
    /// The policies that matched, with their results.
    #[serde(rename = "matchedPolicies")]
    pub(crate) matched_policies: Vec<PolicyResult>,
    /// Why the decision was taken when no policy result explains it (no policy matched, or
    /// the evidence could not be gathered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
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
    pub(crate) version: u32,
    /// One verdict per image, in the order given.
    pub(crate) images: Vec<ImageVerdict>,
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

impl Evidence {
    /// What the evidence is: `signature` or `attestation`.
    pub fn kind(&self) -> &str {
        self.kind
    }
    /// The authority that produced it.
    pub fn signer(&self) -> Option<&str> {
        self.signer.as_deref()
    }
    /// The layer digest.
    pub fn layer(&self) -> Option<&str> {
        self.layer.as_deref()
    }
    /// The predicate type, for attestations.
    pub fn predicate_type(&self) -> Option<&str> {
        self.predicate_type.as_deref()
    }
    /// The transparency-log index, when one was verified.
    pub fn log_index(&self) -> Option<u64> {
        self.log_index
    }
    /// Why this evidence did not count.
    pub fn failed_check(&self) -> Option<&str> {
        self.failed_check.as_deref()
    }
}

impl RequirementResult {
    /// The requirement, described.
    pub fn requirement(&self) -> &str {
        &self.requirement
    }
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.passed
    }
    /// Why, in one sentence.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// The evidence considered.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}

impl PolicyResult {
    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Whether every requirement passed.
    pub fn passed(&self) -> bool {
        self.passed
    }
    /// The requirements' results.
    pub fn requirements(&self) -> &[RequirementResult] {
        &self.requirements
    }
}

impl ImageVerdict {
    /// The image as given.
    pub fn image(&self) -> &str {
        &self.image
    }
    /// The digest it resolved to.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
    /// The decision.
    pub fn decision(&self) -> Decision {
        self.decision
    }
    /// The matching policies' results.
    pub fn matched_policies(&self) -> &[PolicyResult] {
        &self.matched_policies
    }
    /// Why the decision was taken, when no policy result explains it.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

impl PolicyReport {
    /// The verdicts, in the order the images were given.
    pub fn images(&self) -> &[ImageVerdict] {
        &self.images
    }
}
