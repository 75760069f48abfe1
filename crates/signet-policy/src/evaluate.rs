//! Evaluating a [`TrustPolicy`]: gather each image's evidence once (async, through
//! `signet_verify::Verifier`), then judge it (pure, deterministic, with the time as an
//! argument): every authority of every requirement is asked the same question
//! `signet_verify::judge_image` answers for `signet verify`, over the same evidence.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use signet_core::reference::{ImageReference, RegistryReference};
use signet_oci::OciClient;
use signet_verify::platform::{
    IndexEvidence, IndexSignatures, gather_index_link, judge_index_link,
};
use signet_verify::{
    AttestationFailure, EvidenceNeeds, Finding, ImageCheck, ImageEvidence, Question,
    RejectedSignature, Retained, SignatureFailure, Verifier, bundle::BundleCheck, judge_image,
};

use crate::conditions::ConditionFailure;
use crate::image_rules::{BuiltFrom, BuiltFromError, ImageRules};
use crate::model::{
    AttestationRequirement, AuthorityUnavailable, NoMatch, Policy, SignatureRequirement,
    SignedIdentity, TrustPolicy,
};
use crate::report::{Decision, Evidence, ImageVerdict, PolicyResult, RequirementResult};
pub(crate) use signet_core::error_text::error_chain;

const CONCURRENT_IMAGES: usize = 16;

/// Evaluates a trust policy over images, reading through one client (one connection pool).
#[derive(Debug)]
pub struct PolicyEvaluator<'a> {
    client: &'a OciClient,
    policy: &'a TrustPolicy,
}

impl<'a> PolicyEvaluator<'a> {
    /// An evaluator of `policy` reading through `client`.
    pub fn new(client: &'a OciClient, policy: &'a TrustPolicy) -> Self {
        Self { client, policy }
    }

    /// Evaluates each image (concurrently; results in order) at time `now_unix`.
    pub async fn evaluate(&self, images: &[ImageReference], now_unix: i64) -> Vec<ImageVerdict> {
        futures_util::stream::iter(images.iter().map(|i| self.evaluate_one(i, now_unix)))
            .buffered(CONCURRENT_IMAGES)
            .collect()
            .await
    }

    /// Gathers, once, what the policies covering `image` need; `None` when no policy covers
    /// it (then nothing is read).
    pub async fn gather(
        &self,
        image: &ImageReference,
    ) -> Result<Option<ImageEvidence>, signet_verify::Error> {
        let matching = self.policy.matching(&image.repository_name());
        let Some(needs) = self.policy.needs(&matching) else {
            return Ok(None);
        };
        Verifier::new(self.client)
            .gather(image, &needs)
            .await
            .map(Some)
    }

    /// Evaluates one image at `now_unix`: what [`Self::evaluate`] does for each. A caller
    /// that already resolved the image to a digest (an admission server) passes the pinned
    /// reference, and nothing is resolved again.
    pub async fn evaluate_image(&self, image: &ImageReference, now_unix: i64) -> ImageVerdict {
        self.evaluate_one(image, now_unix).await
    }

    async fn evaluate_one(&self, image: &ImageReference, now_unix: i64) -> ImageVerdict {
        let evidence = match self.gather(image).await {
            Ok(evidence) => evidence,
            Err(error) => return undecided(image, None, &error),
        };
        let index = match evidence
            .as_ref()
            .and_then(|e| needs_index_path(self.policy, image, e, now_unix))
        {
            Some(index) => match self.gather_index_path(image, &index).await {
                Ok(path) => Some(path),
                Err(error) => {
                    return undecided(image, evidence.map(|e| e.digest().to_string()), &error);
                }
            },
            None => None,
        };
        judge_policy_with_index(
            self.policy,
            image,
            evidence.as_ref(),
            index.as_ref(),
            now_unix,
        )
    }

    /// Reads the index `index` (bounded, digest-checked) and, if it is one, what the policies
    /// covering `image` need of it.
    pub async fn gather_index_path(
        &self,
        image: &ImageReference,
        index: &ImageReference,
    ) -> Result<IndexPathEvidence, signet_verify::Error> {
        let link = gather_index_link(self.client, image, index).await?;
        let evidence = if link.indexes.is_empty() {
            None
        } else {
            self.gather(&link.index).await?
        };
        Ok(IndexPathEvidence { link, evidence })
    }
}

/// What verifying an image through the index its tag names rests on
/// (`signatures.indexSignature: accept`).
#[derive(Debug, Clone)]
pub struct IndexPathEvidence {
    /// The index as read, to be checked for the image's digest.
    pub link: IndexEvidence,
    /// The index's own evidence; `None` when the manifest named is not an index.
    pub evidence: Option<ImageEvidence>,
}

/// The index to verify `image` through, when a signature requirement of a policy covering it
/// accepts index signatures, `image` is named by digest, and its own signatures do not meet
/// that requirement.
fn needs_index_path(
    policy: &TrustPolicy,
    image: &ImageReference,
    evidence: &ImageEvidence,
    now_unix: i64,
) -> Option<ImageReference> {
    image.digest()?;
    let repository = image.repository_name();
    policy
        .matching(&repository)
        .iter()
        .filter_map(|p| p.signatures())
        .filter(|req| !judge_signatures(policy, req, &repository, evidence, now_unix).passed)
        .find_map(|req| match req.index_signatures() {
            IndexSignatures::Accept(source) => source.index_for(image),
            IndexSignatures::Ignore => None,
        })
}

/// Whether a signature requirement of a policy covering `repository` may be met through an
/// index (see [`crate::file::PolicyFile::reads_index_through_tag`]).
pub(crate) fn reads_index_through_tag(policy: &TrustPolicy, repository: &str) -> bool {
    policy
        .matching(repository)
        .iter()
        .filter_map(|p| p.signatures())
        .any(|req| matches!(req.index_signatures(), IndexSignatures::Accept(_)))
}

/// `verdict` (judged on a pinned reference, e.g. a cached verdict shared by every way of
/// naming one digest) with the `reference` image rules judged again on `as_written`, the
/// reference as its user wrote it. `None` when no matching policy has a `reference` rule or
/// the verdict holds no policy results (undecided, no policy matched): it stands as it is.
pub(crate) fn with_reference_as_written(
    policy: &TrustPolicy,
    verdict: &ImageVerdict,
    as_written: &ImageReference,
) -> Option<ImageVerdict> {
    let matching = policy.matching(&as_written.repository_name());
    let mut changed = false;
    let mut results = verdict.matched_policies.clone();
    for result in &mut results {
        let Some(outcome) = matching
            .iter()
            .find(|p| p.name() == result.name)
            .and_then(|p| p.image_rules())
            .and_then(|rules| rules.check_reference_only(as_written))
        else {
            continue;
        };
        let requirement = format!("image {}", outcome.rule);
        let Some(slot) = result
            .requirements
            .iter_mut()
            .find(|r| r.requirement == requirement)
        else {
            continue;
        };
        *slot = RequirementResult {
            requirement,
            passed: outcome.passed,
            reason: outcome.reason,
            evidence: Vec::new(),
        };
        result.passed = result.requirements.iter().all(|r| r.passed);
        changed = true;
    }
    if !changed || verdict.decision == Decision::Undecided {
        return None;
    }
    Some(ImageVerdict {
        image: as_written.to_string(),
        digest: verdict.digest.clone(),
        decision: ImageVerdict::decide(&results),
        matched_policies: results,
        note: verdict.note.clone(),
    })
}

fn undecided(
    image: &ImageReference,
    digest: Option<String>,
    error: &dyn std::error::Error,
) -> ImageVerdict {
    ImageVerdict {
        image: image.to_string(),
        digest,
        decision: Decision::Undecided,
        matched_policies: Vec::new(),
        note: Some(format!(
            "could not gather the evidence: {}",
            error_chain(error)
        )),
    }
}

impl TrustPolicy {
    /// What the `matching` policies need read; `None` when they need nothing (no authority
    /// they name can check anything, and no rule reads the image).
    fn needs(&self, matching: &[&Policy]) -> Option<EvidenceNeeds> {
        let mut parts = Vec::new();
        for policy in matching {
            let mut ask = |name: &str, question: Question| {
                if let Some(authority) = self.verify_authority(name) {
                    parts.push(EvidenceNeeds::for_question(&authority, &question));
                }
            };
            if let Some(req) = policy.signatures() {
                for name in req.authorities() {
                    ask(name, Question::signature());
                }
            }
            for req in policy.attestations() {
                for name in req.authorities() {
                    ask(name, Question::attestation(req.predicate_type().clone()));
                }
            }
            match policy.image_rules() {
                Some(rules) if rules.needs_contents() => parts.push(EvidenceNeeds::contents()),
                // A rule on the reference alone still needs the digest resolved.
                Some(_) => parts.push(EvidenceNeeds::default()),
                None => {}
            }
        }
        parts.into_iter().reduce(|so_far, more| so_far.union(&more))
    }
}

/// Decides `image` from `evidence` (`None`: nothing was read, as no policy covers it). Pure:
/// no I/O, no clock but `now_unix`.
pub fn judge_policy(
    policy: &TrustPolicy,
    image: &ImageReference,
    evidence: Option<&ImageEvidence>,
    now_unix: i64,
) -> ImageVerdict {
    judge_policy_with_index(policy, image, evidence, None, now_unix)
}

/// [`judge_policy`], with the evidence of the index the image's tag names for requirements
/// with `indexSignature: accept` that the image's own signatures do not meet.
pub fn judge_policy_with_index(
    policy: &TrustPolicy,
    image: &ImageReference,
    evidence: Option<&ImageEvidence>,
    index: Option<&IndexPathEvidence>,
    now_unix: i64,
) -> ImageVerdict {
    let repository = image.repository_name();
    let digest = evidence.map(|e| e.digest().to_string());
    let matching = policy.matching(&repository);
    if matching.is_empty() {
        let (decision, word) = match policy.no_match() {
            NoMatch::Deny => (Decision::Deny, "denied"),
            NoMatch::Allow => (Decision::Allow, "allowed"),
            NoMatch::Warn => (Decision::Warn, "allowed with a warning"),
        };
        return ImageVerdict {
            image: image.to_string(),
            digest,
            decision,
            matched_policies: Vec::new(),
            note: Some(format!(
                "no policy covers {repository}: {word} (noMatch: {:?})",
                policy.no_match()
            )),
        };
    }
    let Some(evidence) = evidence else {
        return undecided(
            image,
            None,
            &signet_verify::Error::NotGathered { what: "evidence" },
        );
    };
    // A format that could not be read leaves the answer unknown, whatever the others say.
    if let Some(error) = evidence.first_error() {
        return undecided(image, digest, error.as_ref());
    }
    if let Some(error) = index
        .and_then(|i| i.evidence.as_ref())
        .and_then(ImageEvidence::first_error)
    {
        return undecided(image, digest, error.as_ref());
    }
    let results: Vec<PolicyResult> = matching
        .iter()
        .map(|p| judge_one_policy(policy, p, image, evidence, index, now_unix))
        .collect();
    ImageVerdict {
        image: image.to_string(),
        digest,
        decision: ImageVerdict::decide(&results),
        matched_policies: results,
        note: None,
    }
}

fn judge_one_policy(
    trust: &TrustPolicy,
    policy: &Policy,
    image: &ImageReference,
    evidence: &ImageEvidence,
    index: Option<&IndexPathEvidence>,
    now_unix: i64,
) -> PolicyResult {
    let repository = image.repository_name();
    let mut requirements = Vec::new();
    if let Some(req) = policy.signatures() {
        let own = judge_signatures(trust, req, &repository, evidence, now_unix);
        requirements.push(match (index, req.index_signatures()) {
            (Some(path), IndexSignatures::Accept(_)) if !own.passed => {
                judge_through_index(trust, req, &repository, evidence, path, own, now_unix)
            }
            _ => own,
        });
    }
    // The base rule falls back on what a qualifying SLSA provenance says the build started
    // from: the first such statement is read.
    let reads_provenance = policy
        .image_rules()
        .is_some_and(ImageRules::reads_provenance);
    let mut built_from = None;
    for req in policy.attestations() {
        let read = reads_provenance
            && built_from.is_none()
            && SLSA_PROVENANCE_TYPES.contains(&req.predicate_type().uri());
        let (result, statement) = judge_attestation(trust, req, evidence, now_unix, read);
        built_from = built_from.or(statement);
        requirements.push(result);
    }
    if let Some(rules) = policy.image_rules() {
        let contents = evidence.contents().and_then(|c| c.as_ref().ok());
        requirements.extend(
            rules
                .check(image, contents, built_from.as_ref(), now_unix)
                .into_iter()
                .map(|outcome| RequirementResult {
                    requirement: format!("image {}", outcome.rule),
                    passed: outcome.passed,
                    reason: outcome.reason,
                    evidence: Vec::new(),
                }),
        );
    }
    PolicyResult {
        name: policy.name().to_owned(),
        mode: policy.mode(),
        passed: requirements.iter().all(|r| r.passed),
        requirements,
    }
}

/// The signature requirement `req`, which the image's own signatures did not meet (`own`),
/// judged through its index: the index must list the image's digest, and its signatures meet
/// `req`.
fn judge_through_index(
    trust: &TrustPolicy,
    req: &SignatureRequirement,
    repository: &str,
    evidence: &ImageEvidence,
    path: &IndexPathEvidence,
    own: RequirementResult,
    now_unix: i64,
) -> RequirementResult {
    let link = match judge_index_link(&path.link, evidence.digest()) {
        Ok(link) => link,
        Err(failure) => {
            return RequirementResult {
                reason: format!("{}; through an index: {failure}", own.reason),
                ..own
            };
        }
    };
    let Some(index_evidence) = path.evidence.as_ref() else {
        return own;
    };
    let through = judge_signatures(trust, req, repository, index_evidence, now_unix);
    if through.passed {
        RequirementResult {
            requirement: own.requirement,
            passed: true,
            reason: format!("not signed itself; {link}, which is {}", through.reason),
            evidence: through.evidence,
        }
    } else {
        RequirementResult {
            reason: format!(
                "{}; through the index ({link}): {}",
                own.reason, through.reason
            ),
            ..own
        }
    }
}

/// Whether the payload's claimed `docker-reference` satisfies the identity rule.
fn identity_ok(rule: Option<&SignedIdentity>, claimed: &str, repository: &str) -> bool {
    let claimed_repository = |text: &str| -> String {
        match text.parse::<RegistryReference>() {
            Ok(r) => r.repository().name(),
            Err(_) => text.to_owned(),
        }
    };
    match rule {
        None => true,
        Some(SignedIdentity::MatchRepository) => {
            claimed_repository(claimed) == claimed_repository(repository)
        }
        Some(SignedIdentity::ExactRepository { docker_repository }) => {
            claimed_repository(claimed) == claimed_repository(docker_repository)
        }
    }
}

/// Why one authority's signature on the image does not count.
#[derive(Debug, thiserror::Error)]
enum NotSigned {
    #[error(transparent)]
    Authority(#[from] AuthorityUnavailable),
    #[error("no signatures were gathered")]
    NotGathered,
    #[error("its signature claims the identity {0:?}, which the signedIdentity rule refuses")]
    OtherIdentity(String),
    #[error("{0}")]
    Rejected(RejectedSignature),
    #[error("{0}")]
    RejectedBundle(String),
    /// The Notary Project verification's own account (each statement's failed check).
    #[error("{0}")]
    Notation(String),
    #[error("no signatures found (looked in {0})")]
    NoneFound(String),
    #[error("none of the {0} signature(s) carries a certificate for this identity")]
    NoCertificateForIdentity(usize),
    #[error("none of the {0} signature(s) verifies with this key")]
    NoneVerifiesWithKey(usize),
}

/// One authority's signature on the image: `Ok(where)` or `Err(why not)`.
fn signed_by(
    check: &ImageCheck,
    req: &SignatureRequirement,
    repository: &str,
    keyless: bool,
) -> Result<String, NotSigned> {
    // Notary Project signatures: one that passes under the authority's statement.
    if let Some(Finding::NotarySignatures(report)) = check
        .findings()
        .iter()
        .find(|f| matches!(f, Finding::NotarySignatures(_)))
    {
        let (passed, reason, found) = crate::notation::notation_requirement(report, "");
        return match found.first().and_then(|e| e.layer.clone()) {
            Some(manifest) if passed => Ok(manifest),
            _ => Err(NotSigned::Notation(reason)),
        };
    }
    // Cosign v3's format: a signature bundle referring to the image. A bundle refused only
    // because an identity regex matched part of the claim is worth saying instead of "no
    // signature by this identity" (a regex ported from Cosign).
    let mut substring_only_bundle = None;
    for finding in check.findings() {
        if let Finding::SigstoreBundles(report) = finding {
            if let Some(verified) = report.verified().first() {
                return Ok(verified.manifest().to_string());
            }
            substring_only_bundle = report
                .rejected()
                .iter()
                .find(|r| r.failure.hint().is_some())
                .map(ToString::to_string);
        }
    }
    let Some(Finding::CosignSignatures(report)) = check
        .findings()
        .iter()
        .find(|f| matches!(f, Finding::CosignSignatures(_)))
    else {
        return Err(NotSigned::NotGathered);
    };
    let accepted = report.verified().iter().find(|v| {
        identity_ok(
            req.signed_identity(),
            &v.claims().critical.identity.docker_reference,
            repository,
        )
    });
    if let Some(v) = accepted {
        return Ok(v.layer_digest().to_string());
    }
    if let Some(first) = report.verified().first() {
        return Err(NotSigned::OtherIdentity(
            first.claims().critical.identity.docker_reference.clone(),
        ));
    }
    // The most useful failure: one with a hint (an identity regex that matched only part of
    // the claim), else one that is not merely another signer's signature.
    let hinted = report
        .rejected()
        .iter()
        .find(|r| r.failure.hint().is_some());
    let specific = hinted.or_else(|| {
        report.rejected().iter().find(|r| match &r.failure {
            SignatureFailure::SignatureMismatch => false,
            SignatureFailure::Sigstore(failure) => !matches!(
                failure.check(),
                BundleCheck::Identity | BundleCheck::Issuer | BundleCheck::Material
            ),
            _ => true,
        })
    });
    Err(match specific {
        Some(r) => NotSigned::Rejected(r.clone()),
        None if let Some(bundle) = substring_only_bundle => NotSigned::RejectedBundle(bundle),
        None if report.rejected().is_empty() => {
            NotSigned::NoneFound(report.signature_location().to_string())
        }
        None if keyless => NotSigned::NoCertificateForIdentity(report.rejected().len()),
        None => NotSigned::NoneVerifiesWithKey(report.rejected().len()),
    })
}

fn judge_signatures(
    trust: &TrustPolicy,
    req: &SignatureRequirement,
    repository: &str,
    evidence: &ImageEvidence,
    now_unix: i64,
) -> RequirementResult {
    let question = Question::Signature {
        annotations: req.annotations().clone(),
    };
    let mut signed = BTreeSet::new();
    let mut evidence_list = Vec::new();
    let mut missing_reasons = Vec::new();
    for name in req.authorities() {
        let outcome = match trust.verify_authority_or_reason(name) {
            Ok((authority, keyless)) => {
                // Notary Project signatures are judged at the evaluation's time, not the clock.
                let authority = match authority {
                    signet_verify::Authority::Notation(n) => {
                        signet_verify::Authority::Notation(n.at(std::time::UNIX_EPOCH
                            + std::time::Duration::from_secs(u64::try_from(now_unix).unwrap_or(0))))
                    }
                    other => other,
                };
                let check = judge_image(evidence, &authority, &question);
                signed_by(&check, req, repository, keyless)
            }
            Err(why) => Err(NotSigned::from(why)),
        };
        match outcome {
            Ok(layer) => {
                signed.insert(name.clone());
                evidence_list.push(Evidence {
                    kind: "signature",
                    signer: Some(name.clone()),
                    layer: Some(layer),
                    predicate_type: None,
                    log_index: None,
                    failed_check: None,
                });
            }
            Err(why) => {
                missing_reasons.push(format!("{name}: {why}"));
                evidence_list.push(Evidence {
                    kind: "signature",
                    signer: Some(name.clone()),
                    layer: None,
                    predicate_type: None,
                    log_index: None,
                    failed_check: Some(why.to_string()),
                });
            }
        }
    }
    signature_result(req, &signed, &missing_reasons, evidence_list)
}

/// A signature requirement's result from the authorities that signed (`signed`), why the
/// others did not (`missing_reasons`) and the evidence: images and files alike.
pub(crate) fn signature_result(
    req: &SignatureRequirement,
    signed: &BTreeSet<String>,
    missing_reasons: &[String],
    evidence: Vec<Evidence>,
) -> RequirementResult {
    let description = format!(
        "signatures: {} of [{}]{}",
        req.threshold(),
        req.authorities().join(", "),
        if req.required().is_empty() {
            String::new()
        } else {
            format!(", required [{}]", req.required().join(", "))
        }
    );
    let missing_required: Vec<&String> = req
        .required()
        .iter()
        .filter(|r| !signed.contains(*r))
        .collect();
    let passed = signed.len() >= req.threshold() && missing_required.is_empty();
    let signers = signed.iter().cloned().collect::<Vec<_>>().join(", ");
    let reason = if passed {
        format!(
            "signed by {} of {} ({signers}), threshold {}",
            signed.len(),
            req.authorities().len(),
            req.threshold()
        )
    } else if !missing_required.is_empty() {
        let names: Vec<&str> = missing_required.iter().map(|s| s.as_str()).collect();
        format!(
            "required signer(s) {} did not sign; signed by [{signers}]; {}",
            names.join(", "),
            missing_reasons.join("; ")
        )
    } else {
        format!(
            "signed by {} of {} ([{signers}]), threshold {} not met; {}",
            signed.len(),
            req.authorities().len(),
            req.threshold(),
            missing_reasons.join("; ")
        )
    };
    RequirementResult {
        requirement: description,
        passed,
        reason,
        evidence,
    }
}

/// SLSA provenance predicate types, whose statements say what a build started from.
const SLSA_PROVENANCE_TYPES: [&str; 2] = [
    signet_core::intoto::SLSA_PROVENANCE_V02,
    signet_core::intoto::SLSA_PROVENANCE_V1,
];

/// The attestation requirement `req`, and, when `read_built_from`, the base images the
/// qualifying statement lists.
fn judge_attestation(
    trust: &TrustPolicy,
    req: &AttestationRequirement,
    evidence: &ImageEvidence,
    now_unix: i64,
    read_built_from: bool,
) -> (RequirementResult, Option<Result<BuiltFrom, BuiltFromError>>) {
    let description = format!(
        "attestation {} ({}) by [{}]",
        req.name(),
        req.predicate_type().uri(),
        req.authorities().join(", ")
    );
    let question = Question::Attestation {
        predicate_type: req.predicate_type().clone(),
        keep: Retained::Statement,
    };
    let mut reasons = Vec::new();
    let mut evidence_list = Vec::new();
    for name in req.authorities() {
        let (authority, keyless) = match trust.verify_authority_or_reason(name) {
            Ok(found) => found,
            Err(why) => {
                reasons.push(format!("{name}: {why}"));
                continue;
            }
        };
        let check = judge_image(evidence, &authority, &question);
        match attested_by(&check, req, name, keyless, now_unix) {
            Ok((found, statement)) => {
                evidence_list.push(found);
                let built_from = read_built_from.then(|| BuiltFrom::from_statement(statement));
                let result = RequirementResult {
                    requirement: description,
                    passed: true,
                    reason: format!(
                        "a {} attestation by {name} meets every condition",
                        req.predicate_type().uri()
                    ),
                    evidence: evidence_list,
                };
                return (result, built_from);
            }
            Err((why, failed)) => {
                reasons.extend(why.into_iter().map(|why| format!("{name}: {why}")));
                evidence_list.extend(failed);
            }
        }
    }
    (
        attestation_refused(description, &reasons, evidence_list),
        None,
    )
}

/// An attestation requirement no attestation met: each authority's reasons, and the evidence
/// of the statements that failed a condition (images and files alike).
pub(crate) fn attestation_refused(
    requirement: String,
    reasons: &[String],
    evidence: Vec<Evidence>,
) -> RequirementResult {
    RequirementResult {
        requirement,
        passed: false,
        reason: if reasons.is_empty() {
            "no attestation qualifies".to_owned()
        } else {
            reasons.join("; ")
        },
        evidence,
    }
}

/// Why a verified attestation does not qualify.
#[derive(Debug, thiserror::Error)]
enum NotQualified {
    #[error("the bundle holds no statement")]
    NoStatement,
    #[error(transparent)]
    Condition(#[from] ConditionFailure),
}

/// Why none of an authority's attestations qualified: one reason per statement that failed a
/// condition (or one for the authority), and the evidence of those that failed.
type NotAttested = (Vec<String>, Vec<Evidence>);

/// A verified attestation's location and statement (or why it holds none).
type VerifiedStatement<'a> = (Option<String>, Result<&'a [u8], NotQualified>);

/// One authority's attestation whose statement meets the conditions (its evidence and the
/// statement): a legacy `.att` layer, or a referrer bundle (Cosign v3). `Err` carries why none qualified (one reason per
/// statement that failed a condition, or one for the whole authority) and the evidence of
/// those that failed a condition.
fn attested_by<'a>(
    check: &'a ImageCheck,
    req: &AttestationRequirement,
    name: &str,
    keyless: bool,
    now_unix: i64,
) -> Result<(Evidence, &'a [u8]), NotAttested> {
    let evidence = |layer: Option<String>, failed_check: Option<String>| Evidence {
        kind: "attestation",
        signer: Some(name.to_owned()),
        layer,
        predicate_type: Some(req.predicate_type().uri().to_owned()),
        log_index: None,
        failed_check,
    };
    let mut failed = Vec::new();
    let mut condition_failures = Vec::new();
    for finding in check.findings() {
        let statements: Vec<VerifiedStatement<'_>> = match finding {
            Finding::CosignAttestations(report) => report
                .verified()
                .iter()
                .map(|v| (v.layer_digest().map(ToString::to_string), Ok(v.statement())))
                .collect(),
            Finding::SigstoreBundles(report) => report
                .verified()
                .iter()
                .map(|v| {
                    let payload = v
                        .bundle()
                        .dsse_payload()
                        .map(|(_, payload)| payload)
                        .ok_or(NotQualified::NoStatement);
                    (Some(v.manifest().to_string()), payload)
                })
                .collect(),
            _ => Vec::new(),
        };
        for (layer, statement) in statements {
            let checked = statement.and_then(|s| {
                req.conditions()
                    .check(s, now_unix)
                    .map(|()| s)
                    .map_err(NotQualified::from)
            });
            match checked {
                Ok(statement) => return Ok((evidence(layer, None), statement)),
                Err(why) => {
                    let why = why.to_string();
                    failed.push(evidence(layer, Some(why.clone())));
                    condition_failures.push(why);
                }
            }
        }
    }
    if !condition_failures.is_empty() {
        return Err((condition_failures, failed));
    }
    Err((vec![why_no_attestation(check, req, keyless)], failed))
}

/// Why no attestation of the authority verified, from the most useful rejection.
fn why_no_attestation(check: &ImageCheck, req: &AttestationRequirement, keyless: bool) -> String {
    let uri = req.predicate_type().uri();
    // A keyless attestation refused only because an identity regex matched part of the claim
    // (a regex ported from Cosign): otherwise unreported.
    if keyless
        && let Some(rejected) = check.findings().iter().find_map(|f| match f {
            Finding::CosignAttestations(report) => report
                .rejected()
                .iter()
                .find(|r| r.failure.hint().is_some()),
            _ => None,
        })
    {
        return rejected.to_string();
    }
    for finding in check.findings() {
        match finding {
            Finding::CosignAttestations(report) if !keyless => {
                let specific = report.rejected().iter().find(|r| {
                    !matches!(
                        r.failure,
                        AttestationFailure::SignatureMismatch
                            | AttestationFailure::WrongPredicateType { .. }
                    )
                });
                return match specific {
                    Some(r) => r.to_string(),
                    None => format!("no {uri} attestation verifies with this key"),
                };
            }
            Finding::SigstoreBundles(report) if keyless => {
                return if report.rejected().is_empty() {
                    format!(
                        "no {uri} attestation bundle refers to the image (looked in {})",
                        report.source()
                    )
                } else {
                    format!(
                        "no {uri} attestation bundle by this identity verifies ({})",
                        report
                            .rejected()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                };
            }
            _ => {}
        }
    }
    format!("no {uri} attestation qualifies")
}
