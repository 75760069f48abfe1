//! SLSA Verification Summary Attestations (`https://slsa.dev/verification_summary/v1`): a
//! verifier's signed statement that it checked an artifact against a policy, and the result.
//!
//! Three uses, one predicate model:
//!
//! - **Writing** ([`Summary::statement`]): after a policy decision, the in-toto statement
//!   signet signs as DSSE — verifier id and version, time, resource URI, the policy's URI and
//!   digest, the attestations that were read (their digests), `PASSED`/`FAILED` and the SLSA
//!   levels the policy declares it establishes.
//! - **Checking a written one against the specification** ([`check_spec`]): the rules of
//!   slsa.dev's VSA v1.0 "Fields" section, written from the text (required fields, URIs,
//!   RFC 3339 time, `PASSED|FAILED`, one level per SLSA track, no custom `SLSA_` values, a
//!   digest on every input attestation).
//! - **Consuming** ([`verify_envelope`]): a DSSE envelope verified as slsa-verifier's
//!   `verify-vsa` verifies it (signature with the verifier's key, then the subject digests,
//!   verifier id, resource URI, `PASSED`, and the verified levels, in that order, each with
//!   its own [`VsaCheck`]); policies consume VSAs attached to images through the `vsa:`
//!   condition ([`crate::conditions::VsaCondition`]).
//!
//! ```
//! use signet_core::digest::Digest;
//! use signet_policy::vsa::{Summary, VerificationResult, check_spec};
//!
//! let statement = Summary::new("https://signet.dev/verifier", "docker://registry.example/app:v1")
//!     .with_policy("file:///etc/signet/policy.yaml", Digest::sha256_of(b"policy"))
//!     .with_result(VerificationResult::Passed, vec!["SLSA_BUILD_LEVEL_2".into()])
//!     .statement("registry.example/app", &Digest::sha256_of(b"image"), 1_714_608_000);
//! assert!(check_spec(&statement).is_ok());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use signet_core::digest::{Digest, DigestAlgorithm};
use signet_core::dsse::Envelope;
use signet_core::keys::{KeyKind, PublicKey};

use crate::conditions::time::quote;

/// The VSA predicate type.
pub const VSA_PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";

/// `PASSED` or `FAILED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationResult {
    /// The artifact passed the policy.
    Passed,
    /// It did not.
    Failed,
}

impl VerificationResult {
    /// As the predicate writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Failed => "FAILED",
        }
    }
}

/// What a summary says, before it is written as a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    verifier_id: String,
    verifier_version: BTreeMap<String, String>,
    resource_uri: String,
    policy_uri: String,
    policy_digest: Option<Digest>,
    input_attestations: Vec<(Option<String>, Digest)>,
    result: VerificationResult,
    verified_levels: Vec<String>,
}

impl Summary {
    /// A summary by the verifier `verifier_id` about the resource `resource_uri` (a failed
    /// verification of an unnamed policy until told otherwise).
    pub fn new(verifier_id: impl Into<String>, resource_uri: impl Into<String>) -> Self {
        Self {
            verifier_id: verifier_id.into(),
            verifier_version: BTreeMap::new(),
            resource_uri: resource_uri.into(),
            policy_uri: String::new(),
            policy_digest: None,
            input_attestations: Vec::new(),
            result: VerificationResult::Failed,
            verified_levels: Vec::new(),
        }
    }

    /// The verifier's components and versions (`{"signet": "0.1.0"}`).
    pub fn with_verifier_version(mut self, component: &str, version: &str) -> Self {
        self.verifier_version
            .insert(component.to_owned(), version.to_owned());
        self
    }

    /// The policy: where it is, and the digest of its bytes.
    pub fn with_policy(mut self, uri: impl Into<String>, digest: Digest) -> Self {
        self.policy_uri = uri.into();
        self.policy_digest = Some(digest);
        self
    }

    /// One attestation the decision read: where it is, and its digest.
    pub fn with_input_attestation(mut self, uri: Option<String>, digest: Digest) -> Self {
        self.input_attestations.push((uri, digest));
        self
    }

    /// The result, and the SLSA levels verified (`FAILED` alone when the result is failed,
    /// as the specification asks).
    pub fn with_result(mut self, result: VerificationResult, levels: Vec<String>) -> Self {
        self.result = result;
        self.verified_levels = match result {
            VerificationResult::Passed => levels,
            VerificationResult::Failed => vec!["FAILED".to_owned()],
        };
        self
    }

    /// The in-toto v1 statement about `subject_name` with `subject_digest`, verified at
    /// `now_unix`.
    pub fn statement(&self, subject_name: &str, subject_digest: &Digest, now_unix: i64) -> Vec<u8> {
        let statement = json!({
            "_type": signet_core::intoto::STATEMENT_V1,
            "subject": [{ "name": subject_name, "digest": digest_set(subject_digest) }],
            "predicateType": VSA_PREDICATE_TYPE,
            "predicate": self.predicate_value(now_unix),
        });
        // A `Value` always serialises.
        serde_json::to_vec(&statement).unwrap_or_default()
    }

    /// The predicate alone (what `attest --type https://slsa.dev/verification_summary/v1`
    /// wraps in a statement about the image), verified at `now_unix`.
    pub fn predicate(&self, now_unix: i64) -> Vec<u8> {
        serde_json::to_vec(&self.predicate_value(now_unix)).unwrap_or_default()
    }

    fn predicate_value(&self, now_unix: i64) -> serde_json::Value {
        let mut predicate = json!({
            "verifier": { "id": self.verifier_id },
            "timeVerified": signet_core::intoto::rfc3339(now_unix),
            "resourceUri": self.resource_uri,
            "policy": { "uri": self.policy_uri },
            "inputAttestations": self.input_attestations.iter().map(|(uri, digest)| {
                let mut entry = json!({ "digest": digest_set(digest) });
                if let Some(uri) = uri {
                    entry["uri"] = json!(uri);
                }
                entry
            }).collect::<Vec<_>>(),
            "verificationResult": self.result.as_str(),
            "verifiedLevels": self.verified_levels,
            "slsaVersion": "1.0",
        });
        if !self.verifier_version.is_empty() {
            predicate["verifier"]["version"] = json!(self.verifier_version);
        }
        if let Some(digest) = &self.policy_digest {
            predicate["policy"]["digest"] = digest_set(digest);
        }
        predicate
    }
}

/// A digest as an in-toto DigestSet.
fn digest_set(digest: &Digest) -> serde_json::Value {
    json!({ digest.algorithm().name(): digest.hex() })
}

/// A summary of one image's verdict, ready to be written about its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The subject's name: the repository (`registry.example/app`).
    pub subject_name: String,
    /// The subject's digest: the digest the verdict is about.
    pub subject_digest: Digest,
    /// What the summary says.
    pub summary: Summary,
}

/// The summary of `verdict` by `verifier_id` under the policy at `policy_uri` with
/// `policy_digest`: `PASSED` (with `levels`) when the image was allowed, `FAILED` when it was
/// denied or allowed only with warnings (a warning is a failed policy), and `None` when it
/// could not be decided or has no digest — a summary says what was verified, and nothing was.
/// The input attestations are the attestations that qualified (their layer or manifest
/// digests); the resource URI is the image pinned by digest (`docker://repo@sha256:…`, or
/// `oci:path@sha256:…` for a layout).
pub fn summarize(
    verdict: &crate::report::ImageVerdict,
    verifier_id: &str,
    policy_uri: &str,
    policy_digest: Digest,
    levels: &[String],
) -> Option<ImageSummary> {
    use signet_core::reference::ImageReference;
    let digest: Digest = verdict.digest()?.parse().ok()?;
    let reference: ImageReference = verdict.image().parse().ok()?;
    let (subject_name, resource_uri) = match &reference {
        ImageReference::Registry(r) => {
            let name = r.repository().name();
            let uri = format!("docker://{name}@{digest}");
            (name, uri)
        }
        ImageReference::Layout(l) => (l.path().to_owned(), format!("oci:{}@{digest}", l.path())),
    };
    summarize_subject(
        verdict,
        subject_name,
        resource_uri,
        digest,
        verifier_id,
        policy_uri,
        policy_digest,
        levels,
    )
}

/// The summary of a release file's verdict ([`crate::release_files`]): as [`summarize`], the
/// subject named by the file's name and sha256, the resource by `resource_uri` (where the
/// file is published, or the path it was verified at). The input attestations are the
/// digests of the bundles that qualified.
pub fn summarize_file(
    verdict: &crate::report::ImageVerdict,
    resource_uri: &str,
    verifier_id: &str,
    policy_uri: &str,
    policy_digest: Digest,
    levels: &[String],
) -> Option<ImageSummary> {
    let digest: Digest = verdict.digest()?.parse().ok()?;
    let name = verdict.image();
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    summarize_subject(
        verdict,
        name.to_owned(),
        resource_uri.to_owned(),
        digest,
        verifier_id,
        policy_uri,
        policy_digest,
        levels,
    )
}

#[allow(clippy::too_many_arguments)] // two callers; the summary's parts, named
fn summarize_subject(
    verdict: &crate::report::ImageVerdict,
    subject_name: String,
    resource_uri: String,
    digest: Digest,
    verifier_id: &str,
    policy_uri: &str,
    policy_digest: Digest,
    levels: &[String],
) -> Option<ImageSummary> {
    use crate::report::Decision;
    let result = match verdict.decision() {
        Decision::Allow => VerificationResult::Passed,
        Decision::Deny | Decision::Warn => VerificationResult::Failed,
        Decision::Undecided => return None,
    };
    let mut summary = Summary::new(verifier_id, resource_uri)
        .with_verifier_version("signet", env!("CARGO_PKG_VERSION"))
        .with_policy(policy_uri, policy_digest)
        .with_result(result, levels.to_vec());
    let inputs = verdict
        .matched_policies()
        .iter()
        .flat_map(|p| p.requirements())
        .flat_map(|r| r.evidence())
        .filter(|e| e.kind() == "attestation" && e.failed_check().is_none())
        .filter_map(|e| e.layer()?.parse::<Digest>().ok());
    let mut seen = std::collections::BTreeSet::new();
    for input in inputs {
        if seen.insert(input.to_string()) {
            summary = summary.with_input_attestation(None, input);
        }
    }
    Some(ImageSummary {
        subject_name,
        subject_digest: digest,
        summary,
    })
}

// --- the predicate as read ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct StatementDoc {
    #[serde(rename = "_type", default)]
    statement_type: String,
    #[serde(default)]
    subject: Vec<SubjectDoc>,
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(default)]
    predicate: Option<PredicateDoc>,
}

#[derive(Debug, Deserialize)]
struct SubjectDoc {
    #[serde(default)]
    digest: BTreeMap<String, String>,
}

/// The VSA predicate; every field optional here so a missing one is reported by name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PredicateDoc {
    #[serde(default)]
    pub(crate) verifier: Option<VerifierDoc>,
    #[serde(default)]
    pub(crate) time_verified: Option<String>,
    #[serde(default)]
    pub(crate) resource_uri: Option<String>,
    #[serde(default)]
    pub(crate) policy: Option<ResourceDoc>,
    #[serde(default)]
    pub(crate) input_attestations: Option<Vec<ResourceDoc>>,
    #[serde(default)]
    pub(crate) verification_result: Option<String>,
    #[serde(default)]
    pub(crate) verified_levels: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) dependency_levels: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub(crate) slsa_version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VerifierDoc {
    #[serde(default)]
    pub(crate) id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResourceDoc {
    #[serde(default)]
    pub(crate) uri: Option<String>,
    #[serde(default)]
    pub(crate) digest: Option<BTreeMap<String, String>>,
}

/// Which check of a VSA failed (slsa-verifier's error names, as codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VsaCheck {
    /// The envelope or its statement cannot be read.
    InvalidEnvelope,
    /// No signature verifies with the verifier's key.
    NoValidSignature,
    /// The statement is not a VSA (predicate type), or not an in-toto statement.
    InvalidPayload,
    /// A field the check needs is missing or empty (or no digest was asked for).
    EmptyRequiredField,
    /// An expected subject digest is not among the VSA's subjects.
    MissingSubjectDigest,
    /// `verifier.id` is not the one expected.
    MismatchVerifierId,
    /// `resourceUri` is not the one expected.
    MismatchResourceUri,
    /// `verificationResult` is not `PASSED`.
    VerificationResult,
    /// A level expected is not among `verifiedLevels` (or lower).
    MismatchVerifiedLevels,
    /// A `SLSA_` level that is not `SLSA_<TRACK>_LEVEL_<n>`.
    InvalidSlsaLevel,
    /// The policy digest is not the one expected.
    MismatchPolicyDigest,
    /// `timeVerified` is missing, not a time, or older than allowed.
    TooOld,
}

impl VsaCheck {
    /// A short, stable name (`vsa-verifier-id`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidEnvelope => "vsa-envelope",
            Self::NoValidSignature => "vsa-signature",
            Self::InvalidPayload => "vsa-payload",
            Self::EmptyRequiredField => "vsa-empty-field",
            Self::MissingSubjectDigest => "vsa-subject",
            Self::MismatchVerifierId => "vsa-verifier-id",
            Self::MismatchResourceUri => "vsa-resource-uri",
            Self::VerificationResult => "vsa-result",
            Self::MismatchVerifiedLevels => "vsa-levels",
            Self::InvalidSlsaLevel => "vsa-invalid-level",
            Self::MismatchPolicyDigest => "vsa-policy-digest",
            Self::TooOld => "vsa-age",
        }
    }
}

/// A VSA that failed a check: which one, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{}] {detail}", .check.code())]
pub struct VsaFailure {
    check: VsaCheck,
    detail: String,
}

impl VsaFailure {
    pub(crate) fn new(check: VsaCheck, detail: impl Into<String>) -> Self {
        Self {
            check,
            detail: detail.into(),
        }
    }

    /// Which check failed.
    pub fn check(&self) -> VsaCheck {
        self.check
    }

    /// What was found, in one sentence.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// What a consumer requires of a VSA (slsa-verifier's `verify-vsa` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VsaExpectations {
    subject_digests: Vec<String>,
    verifier_id: String,
    resource_uri: Option<String>,
    verified_levels: Vec<String>,
}

impl VsaExpectations {
    /// Issued by `verifier_id`, about a subject with every one of `subject_digests`
    /// (`type:value`, e.g. `sha256:abc…` or `gce_image_id:897…`).
    pub fn new(verifier_id: impl Into<String>, subject_digests: Vec<String>) -> Self {
        Self {
            subject_digests,
            verifier_id: verifier_id.into(),
            resource_uri: None,
            verified_levels: Vec::new(),
        }
    }

    /// About this resource URI.
    pub fn with_resource_uri(mut self, uri: impl Into<String>) -> Self {
        self.resource_uri = Some(uri.into());
        self
    }

    /// Verifying at least these levels (a SLSA level is met by a higher one of its track).
    pub fn with_verified_levels(mut self, levels: Vec<String>) -> Self {
        self.verified_levels = levels;
        self
    }
}

/// A VSA whose signature and expectations were checked; only [`verify_envelope`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedSummary {
    statement: Vec<u8>,
    verifier_id: String,
    verified_levels: Vec<String>,
}

impl VerifiedSummary {
    /// The statement (the envelope's payload).
    pub fn statement(&self) -> &[u8] {
        &self.statement
    }

    /// `verifier.id`.
    pub fn verifier_id(&self) -> &str {
        &self.verifier_id
    }

    /// `verifiedLevels`.
    pub fn verified_levels(&self) -> &[String] {
        &self.verified_levels
    }
}

/// Verifies a VSA's DSSE envelope (JSON, as one line of a `.jsonl` or a file) as slsa-verifier
/// does: a signature over the PAE with SHA-256 verifies with `key` (ECDSA in DER or IEEE
/// P1363 form, as sigstore's Go verifier accepts; a signature whose non-empty `keyid` differs
/// from a given `key_id` is not tried), the payload is a VSA statement, then the checks of
/// [`check_statement`].
pub fn verify_envelope(
    envelope: &[u8],
    key: &PublicKey,
    key_id: Option<&str>,
    expect: &VsaExpectations,
) -> Result<VerifiedSummary, VsaFailure> {
    let envelope = Envelope::parse(envelope)
        .map_err(|e| VsaFailure::new(VsaCheck::InvalidEnvelope, e.to_string()))?;
    let pae = signet_core::dsse::pae(&envelope.payload_type, &envelope.payload);
    let verifies = |sig: &[u8]| {
        key.verify(&pae, sig, DigestAlgorithm::Sha256).is_ok()
            || (matches!(
                key.kind(),
                KeyKind::EcdsaP256 | KeyKind::EcdsaP384 | KeyKind::EcdsaP521
            ) && key
                .verify_ecdsa_p1363(&pae, sig, DigestAlgorithm::Sha256)
                .is_ok())
    };
    let tried: Vec<_> = envelope
        .signatures
        .iter()
        .filter(|s| match key_id {
            Some(want) => s.keyid.is_empty() || s.keyid == want,
            None => true,
        })
        .collect();
    if !tried.iter().any(|s| verifies(&s.sig)) {
        return Err(VsaFailure::new(
            VsaCheck::NoValidSignature,
            format!(
                "none of the envelope's {} signature(s) verifies with the verifier's key ({} tried)",
                envelope.signatures.len(),
                tried.len()
            ),
        ));
    }
    check_statement(&envelope.payload, expect)
}

/// The checks after the signature, in slsa-verifier's order: the statement is a VSA; every
/// expected subject digest is a subject's; `verifier.id` and `resourceUri` are the expected
/// ones; the result is `PASSED`; every expected level is verified.
pub fn check_statement(
    statement: &[u8],
    expect: &VsaExpectations,
) -> Result<VerifiedSummary, VsaFailure> {
    let doc: StatementDoc = serde_json::from_slice(statement).map_err(|e| {
        VsaFailure::new(
            VsaCheck::InvalidPayload,
            format!("the payload is not an in-toto statement: {e}"),
        )
    })?;
    if doc.predicate_type != VSA_PREDICATE_TYPE {
        return Err(VsaFailure::new(
            VsaCheck::InvalidPayload,
            format!(
                "expected predicate type {VSA_PREDICATE_TYPE}, got {}",
                quote(&doc.predicate_type)
            ),
        ));
    }
    if doc.statement_type != signet_core::intoto::STATEMENT_V1
        && doc.statement_type != signet_core::intoto::STATEMENT_V01
    {
        return Err(VsaFailure::new(
            VsaCheck::InvalidPayload,
            format!("unknown statement _type {}", quote(&doc.statement_type)),
        ));
    }
    let predicate = doc.predicate.unwrap_or_default();
    check_subjects(&doc.subject, &expect.subject_digests)?;
    let verifier_id = predicate
        .verifier
        .and_then(|v| v.id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            VsaFailure::new(VsaCheck::EmptyRequiredField, "the VSA has no verifier.id")
        })?;
    if verifier_id != expect.verifier_id {
        return Err(VsaFailure::new(
            VsaCheck::MismatchVerifierId,
            format!(
                "verifier.id is {}, not {}",
                quote(&verifier_id),
                quote(&expect.verifier_id)
            ),
        ));
    }
    if let Some(want) = &expect.resource_uri {
        let got = predicate
            .resource_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                VsaFailure::new(VsaCheck::EmptyRequiredField, "the VSA has no resourceUri")
            })?;
        if got != want {
            return Err(VsaFailure::new(
                VsaCheck::MismatchResourceUri,
                format!("resourceUri is {}, not {}", quote(got), quote(want)),
            ));
        }
    }
    let result = predicate.verification_result.unwrap_or_default();
    if result != "PASSED" {
        return Err(VsaFailure::new(
            VsaCheck::VerificationResult,
            format!("verificationResult is {}, not \"PASSED\"", quote(&result)),
        ));
    }
    let levels = predicate.verified_levels.unwrap_or_default();
    check_levels(&levels, &expect.verified_levels)?;
    Ok(VerifiedSummary {
        statement: statement.to_vec(),
        verifier_id,
        verified_levels: levels,
    })
}

fn check_subjects(subjects: &[SubjectDoc], expected: &[String]) -> Result<(), VsaFailure> {
    if expected.is_empty() {
        return Err(VsaFailure::new(
            VsaCheck::EmptyRequiredField,
            "no subject digest to look for was given",
        ));
    }
    if subjects.iter().all(|s| s.digest.is_empty()) {
        return Err(VsaFailure::new(
            VsaCheck::InvalidPayload,
            "the VSA's subjects carry no digest",
        ));
    }
    for want in expected {
        let Some((algorithm, value)) = want.split_once(':') else {
            return Err(VsaFailure::new(
                VsaCheck::InvalidPayload,
                format!(
                    "expected digest {} is not in the form type:value",
                    quote(want)
                ),
            ));
        };
        if !subjects
            .iter()
            .any(|s| s.digest.get(algorithm).is_some_and(|v| v == value))
        {
            return Err(VsaFailure::new(
                VsaCheck::MissingSubjectDigest,
                format!("no subject has the digest {}", quote(want)),
            ));
        }
    }
    Ok(())
}

/// `SLSA_<TRACK>_LEVEL_<n>` → (track, n); `Ok(None)` for a value not starting with `SLSA_`.
fn slsa_level(level: &str) -> Result<Option<(&str, u32)>, VsaFailure> {
    let Some(rest) = level.strip_prefix("SLSA_") else {
        return Ok(None);
    };
    let invalid = || {
        VsaFailure::new(
            VsaCheck::InvalidSlsaLevel,
            format!("{} is not SLSA_<TRACK>_LEVEL_<n>", quote(level)),
        )
    };
    let (track, n) = rest.split_once("_LEVEL_").ok_or_else(invalid)?;
    if track.is_empty() || track.contains('_') {
        return Err(invalid());
    }
    let n: u32 = n.parse().map_err(|_| invalid())?;
    Ok(Some((track, n)))
}

/// Every expected level is verified: a SLSA track level by the same or a higher level of
/// its track, any other value by itself.
pub(crate) fn check_levels(got: &[String], want: &[String]) -> Result<(), VsaFailure> {
    let mut tracks: BTreeMap<&str, u32> = BTreeMap::new();
    for level in got {
        if let Some((track, n)) = slsa_level(level)? {
            let highest = tracks.entry(track).or_insert(n);
            *highest = (*highest).max(n);
        }
    }
    for level in want {
        match slsa_level(level)? {
            Some((track, n)) => match tracks.get(track) {
                Some(&have) if have >= n => {}
                Some(&have) => {
                    return Err(VsaFailure::new(
                        VsaCheck::MismatchVerifiedLevels,
                        format!("{level} is required; the VSA verifies SLSA_{track}_LEVEL_{have}"),
                    ));
                }
                None => {
                    return Err(VsaFailure::new(
                        VsaCheck::MismatchVerifiedLevels,
                        format!(
                            "{level} is required; the VSA verifies no level of the {track} track"
                        ),
                    ));
                }
            },
            None if got.contains(level) => {}
            None => {
                return Err(VsaFailure::new(
                    VsaCheck::MismatchVerifiedLevels,
                    format!("{level} is required and not among verifiedLevels"),
                ));
            }
        }
    }
    Ok(())
}

// --- the specification's rules --------------------------------------------------------------

/// One rule of the VSA v1.0 specification a statement breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecViolation {
    /// The field (`predicate.verifier.id`).
    pub field: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for SpecViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Whether `text` is an absolute URI (`scheme:rest`, RFC 3986's scheme grammar).
fn is_uri(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    }) && !text.chars().any(char::is_whitespace)
}

/// Checks a VSA statement against the field rules of slsa.dev's Verification Summary v1.0
/// (written from the specification's text): `verifier.id` a URI; `timeVerified` an RFC 3339
/// time; `resourceUri` a URI; `policy` with a `uri`; each `inputAttestations` entry with a
/// non-empty `digest`; `verificationResult` `PASSED` or `FAILED`; `verifiedLevels` present,
/// at most one level per SLSA track, custom values not starting with `SLSA_`, and `FAILED`
/// when the result is; `dependencyLevels` counts are non-negative integers; `slsaVersion`
/// `MAJOR.MINOR`. Every violation is listed.
pub fn check_spec(statement: &[u8]) -> Result<(), Vec<SpecViolation>> {
    let mut out = Vec::new();
    let mut bad = |field: &'static str, problem: String| {
        out.push(SpecViolation { field, problem });
    };
    let doc: StatementDoc = match serde_json::from_slice(statement) {
        Ok(doc) => doc,
        Err(e) => {
            bad("statement", format!("not an in-toto statement: {e}"));
            return Err(out);
        }
    };
    if doc.statement_type != signet_core::intoto::STATEMENT_V1 {
        bad(
            "_type",
            format!(
                "is {}, not in-toto Statement v1",
                quote(&doc.statement_type)
            ),
        );
    }
    if doc.predicate_type != VSA_PREDICATE_TYPE {
        bad(
            "predicateType",
            format!("is {}", quote(&doc.predicate_type)),
        );
    }
    if doc.subject.is_empty() || doc.subject.iter().any(|s| s.digest.is_empty()) {
        bad(
            "subject",
            "every subject needs a digest, and there must be one".to_owned(),
        );
    }
    let Some(p) = doc.predicate else {
        bad("predicate", "is missing".to_owned());
        return Err(out);
    };
    match p.verifier.and_then(|v| v.id) {
        Some(id) if is_uri(&id) => {}
        Some(id) => bad(
            "predicate.verifier.id",
            format!("{} is not a URI", quote(&id)),
        ),
        None => bad("predicate.verifier.id", "is required".to_owned()),
    }
    match &p.time_verified {
        Some(t) => {
            if let Err(problem) = crate::conditions::time::parse_rfc3339(t) {
                bad(
                    "predicate.timeVerified",
                    format!("{} is not a timestamp: {problem}", quote(t)),
                );
            }
        }
        None => bad("predicate.timeVerified", "is required".to_owned()),
    }
    match &p.resource_uri {
        Some(u) if is_uri(u) => {}
        Some(u) => bad(
            "predicate.resourceUri",
            format!("{} is not a URI", quote(u)),
        ),
        None => bad("predicate.resourceUri", "is required".to_owned()),
    }
    match &p.policy {
        Some(policy) => match &policy.uri {
            Some(u) if is_uri(u) => {}
            Some(u) => bad("predicate.policy.uri", format!("{} is not a URI", quote(u))),
            None => bad(
                "predicate.policy.uri",
                "the policy entry must contain a uri".to_owned(),
            ),
        },
        None => bad("predicate.policy", "is required".to_owned()),
    }
    for (i, input) in p.input_attestations.iter().flatten().enumerate() {
        if input.digest.as_ref().is_none_or(BTreeMap::is_empty) {
            bad(
                "predicate.inputAttestations",
                format!("entry {i} has no digest"),
            );
        }
    }
    let result = p.verification_result.as_deref();
    if !matches!(result, Some("PASSED" | "FAILED")) {
        bad(
            "predicate.verificationResult",
            format!("is {}, not PASSED or FAILED", quote(result.unwrap_or(""))),
        );
    }
    match &p.verified_levels {
        None => bad("predicate.verifiedLevels", "is required".to_owned()),
        Some(levels) => {
            let mut tracks = std::collections::BTreeSet::new();
            for level in levels {
                match slsa_level(level) {
                    Ok(Some((track, _))) => {
                        if !tracks.insert(track.to_owned()) {
                            bad(
                                "predicate.verifiedLevels",
                                format!("more than one level of the {track} track"),
                            );
                        }
                    }
                    Ok(None) => {}
                    Err(e) => bad("predicate.verifiedLevels", e.detail().to_owned()),
                }
            }
            if result == Some("FAILED") && !levels.iter().any(|l| l == "FAILED") {
                bad(
                    "predicate.verifiedLevels",
                    "a FAILED verification's levels are \"FAILED\"".to_owned(),
                );
            }
        }
    }
    for (level, count) in p.dependency_levels.iter().flatten() {
        if !count.is_u64() {
            bad(
                "predicate.dependencyLevels",
                format!("the count of {level} is not a non-negative integer"),
            );
        }
    }
    if let Some(version) = &p.slsa_version {
        let ok = version.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        });
        if !ok {
            bad(
                "predicate.slsaVersion",
                format!("{} is not MAJOR.MINOR", quote(version)),
            );
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// The envelope signet writes: the statement signed by `sign` over its PAE (in-toto payload
/// type), with `key_id` (may be empty, as Cosign writes it).
pub fn envelope_json(statement: &[u8], key_id: &str, signature: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = json!({
        "payloadType": signet_core::dsse::IN_TOTO_PAYLOAD_TYPE,
        "payload": b64.encode(statement),
        "signatures": [{ "keyid": key_id, "sig": b64.encode(signature) }],
    });
    serde_json::to_vec(&envelope).unwrap_or_default()
}

#[cfg(test)]
mod tests;
