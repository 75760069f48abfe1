//! Evaluating a [`TrustPolicy`]: gather each image's evidence once (async), then judge it
//! (pure, deterministic, with the time as an argument).

use std::collections::BTreeSet;

use futures_util::StreamExt;
use signet_core::cosign::Attachment;
use signet_core::reference::{ImageReference, RegistryReference};
use signet_oci::OciClient;

use super::model::{
    AttestationRequirement, AuthorityKind, KeylessAuthority, NoMatch, Policy, SignatureRequirement,
    SignedIdentity, TrustPolicy,
};
use super::report::{Decision, Evidence, ImageVerdict, PolicyResult, RequirementResult};
use crate::attestation::{AttestationAuthority, AttestationOptions, judge_attestations_with};
use crate::bundle::BundleCheck;
use crate::gather::{AttachmentEvidence, gather_attachments};
use crate::judge::{CheckOptions, SignatureAuthority, SignatureFailure, TlogPolicy, judge_with};
use crate::platform::{IndexEvidence, IndexSignatures, gather_index_link, judge_index_link};
use crate::referrers::{
    BundlePurpose, ReferrerEvidence, gather_referrer_bundles, judge_referrer_bundles,
};

const CONCURRENT_IMAGES: usize = 16;

/// The evidence a policy decision rests on, gathered once per image however many policies
/// and authorities look at it.
#[derive(Debug, Clone)]
pub struct PolicyEvidence {
    /// The image's signatures (absent when no matching policy asks for signatures).
    pub signatures: Option<AttachmentEvidence>,
    /// The image's attestations (absent when no matching policy asks for attestations).
    pub attestations: Option<AttachmentEvidence>,
    /// The Sigstore bundles referring to the image (Cosign v3's format; gathered only when a
    /// matching policy names a keyless authority).
    pub referrers: Option<ReferrerEvidence>,
    /// The image index its tag names and that index's evidence (gathered only when a
    /// signature requirement with `indexSignature: accept` is not met by the image's own).
    pub index: Option<IndexPathEvidence>,
}

/// What verifying an image through the index its tag names rests on.
#[derive(Debug, Clone)]
pub struct IndexPathEvidence {
    /// The index as read, to be checked for the image's digest.
    pub link: IndexEvidence,
    /// The index's own signatures and referrers.
    pub evidence: Box<PolicyEvidence>,
}

impl PolicyEvidence {
    fn digest(&self) -> Option<String> {
        self.signatures
            .as_ref()
            .or(self.attestations.as_ref())
            .map(|e| e.digest.to_string())
            .or_else(|| self.referrers.as_ref().map(|r| r.digest.to_string()))
    }
}

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

    /// Gathers what the matching policies need for `image`.
    pub async fn gather(&self, image: &ImageReference) -> Result<PolicyEvidence, crate::Error> {
        let matching = self.policy.matching(&image.repository_name());
        let needs_signatures = matching.iter().any(|p| p.signatures.is_some());
        let needs_attestations = matching.iter().any(|p| !p.attestations.is_empty());
        let signatures = async {
            if needs_signatures {
                gather_attachments(self.client, image, Attachment::Signature, None)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let attestations = async {
            if needs_attestations {
                gather_attachments(self.client, image, Attachment::Attestation, None)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let needs_referrers = matching.iter().any(|p| {
            let keyless = |names: &[String]| {
                names.iter().any(|n| {
                    self.policy
                        .authorities
                        .get(n)
                        .is_some_and(|a| matches!(a.kind, AuthorityKind::Keyless(_)))
                })
            };
            p.signatures
                .as_ref()
                .is_some_and(|s| keyless(&s.authorities))
                || p.attestations.iter().any(|a| keyless(&a.authorities))
        });
        let referrers = async {
            if needs_referrers {
                gather_referrer_bundles(self.client, image, None, None)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let (signatures, attestations, referrers) =
            futures_util::future::join3(signatures, attestations, referrers).await;
        Ok(PolicyEvidence {
            signatures: signatures?,
            attestations: attestations?,
            referrers: referrers?,
            index: None,
        })
    }

    async fn evaluate_one(&self, image: &ImageReference, now_unix: i64) -> ImageVerdict {
        let undecided = |error: &crate::Error, what: &str| ImageVerdict {
            image: image.to_string(),
            digest: None,
            decision: Decision::Undecided,
            matched_policies: Vec::new(),
            note: Some(format!("could not gather {what}: {}", error_chain(error))),
        };
        let mut evidence = match self.gather(image).await {
            Ok(evidence) => evidence,
            Err(error) => return undecided(&error, "the evidence"),
        };
        if let Some(index) = needs_index_path(self.policy, image, &evidence) {
            match self.gather_index_path(image, &index).await {
                Ok(path) => evidence.index = Some(path),
                Err(error) => return undecided(&error, &format!("the image index {index}")),
            }
        }
        judge_policy(self.policy, image, &evidence, now_unix)
    }

    /// Reads the index `index` (bounded, digest-checked) and, if it is one, what the matching
    /// policies need of it.
    async fn gather_index_path(
        &self,
        image: &ImageReference,
        index: &ImageReference,
    ) -> Result<IndexPathEvidence, crate::Error> {
        let link = gather_index_link(self.client, image, index).await?;
        let evidence = if link.indexes.is_empty() {
            PolicyEvidence {
                signatures: None,
                attestations: None,
                referrers: None,
                index: None,
            }
        } else {
            let mut own = self.gather(&link.index).await?;
            // Attestations are about the platform image itself: the index's do not count.
            own.attestations = None;
            own
        };
        Ok(IndexPathEvidence {
            link,
            evidence: Box::new(evidence),
        })
    }
}

/// The index to verify `image` through, when a matching signature requirement accepts index
/// signatures, `image` is named `repository:tag@digest`, and its own signatures do not meet
/// that requirement.
fn needs_index_path(
    policy: &TrustPolicy,
    image: &ImageReference,
    evidence: &PolicyEvidence,
) -> Option<ImageReference> {
    image.digest()?;
    let repository = image.repository_name();
    policy
        .matching(&repository)
        .iter()
        .filter_map(|p| p.signatures.as_ref())
        .filter(|req| {
            !judge_signatures(
                policy,
                req,
                &repository,
                evidence.signatures.as_ref(),
                evidence.referrers.as_ref(),
            )
            .passed
        })
        .find_map(|req| match &req.index_signatures {
            IndexSignatures::Accept(source) => source.index_for(image),
            IndexSignatures::Ignore => None,
        })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Decides `image` from `evidence`. Pure: no I/O, no clock.
pub fn judge_policy(
    policy: &TrustPolicy,
    image: &ImageReference,
    evidence: &PolicyEvidence,
    now_unix: i64,
) -> ImageVerdict {
    let repository = image.repository_name();
    let matching = policy.matching(&repository);
    if matching.is_empty() {
        let (decision, word) = match policy.no_match {
            NoMatch::Deny => (Decision::Deny, "denied"),
            NoMatch::Allow => (Decision::Allow, "allowed"),
            NoMatch::Warn => (Decision::Warn, "allowed with a warning"),
        };
        return ImageVerdict {
            image: image.to_string(),
            digest: evidence.digest(),
            decision,
            matched_policies: Vec::new(),
            note: Some(format!(
                "no policy covers {repository}: {word} (noMatch: {:?})",
                policy.no_match
            )),
        };
    }
    let results: Vec<PolicyResult> = matching
        .iter()
        .map(|p| judge_one_policy(policy, p, &repository, evidence, now_unix))
        .collect();
    ImageVerdict {
        image: image.to_string(),
        digest: evidence.digest(),
        decision: ImageVerdict::decide(&results),
        matched_policies: results,
        note: None,
    }
}

fn judge_one_policy(
    trust: &TrustPolicy,
    policy: &Policy,
    repository: &str,
    evidence: &PolicyEvidence,
    now_unix: i64,
) -> PolicyResult {
    let mut requirements = Vec::new();
    if let Some(req) = &policy.signatures {
        let own = judge_signatures(
            trust,
            req,
            repository,
            evidence.signatures.as_ref(),
            evidence.referrers.as_ref(),
        );
        requirements.push(match (&evidence.index, &req.index_signatures) {
            (Some(path), IndexSignatures::Accept(_)) if !own.passed => {
                judge_through_index(trust, req, repository, evidence, path, own)
            }
            _ => own,
        });
    }
    for req in &policy.attestations {
        requirements.push(judge_attestation(
            trust,
            req,
            evidence.attestations.as_ref(),
            evidence.referrers.as_ref(),
            now_unix,
        ));
    }
    PolicyResult {
        name: policy.name.clone(),
        mode: policy.mode,
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
    evidence: &PolicyEvidence,
    path: &IndexPathEvidence,
    own: RequirementResult,
) -> RequirementResult {
    let Some(digest) = evidence
        .digest()
        .and_then(|d| d.parse::<signet_core::digest::Digest>().ok())
    else {
        return own;
    };
    let link = match judge_index_link(&path.link, &digest) {
        Ok(link) => link,
        Err(failure) => {
            return RequirementResult {
                reason: format!("{}; through an index: {failure}", own.reason),
                ..own
            };
        }
    };
    let through = judge_signatures(
        trust,
        req,
        repository,
        path.evidence.signatures.as_ref(),
        path.evidence.referrers.as_ref(),
    );
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

fn judge_signatures(
    trust: &TrustPolicy,
    req: &SignatureRequirement,
    repository: &str,
    evidence: Option<&AttachmentEvidence>,
    referrers: Option<&ReferrerEvidence>,
) -> RequirementResult {
    let description = format!(
        "signatures: {} of [{}]{}",
        req.threshold,
        req.authorities.join(", "),
        if req.required.is_empty() {
            String::new()
        } else {
            format!(", required [{}]", req.required.join(", "))
        }
    );
    let mut signed = BTreeSet::new();
    let mut evidence_list = Vec::new();
    let mut missing_reasons = Vec::new();
    for name in &req.authorities {
        let Some(authority) = trust.authorities.get(name) else {
            continue;
        };
        let options = CheckOptions {
            required_annotations: req.annotations.clone(),
            tlog: authority.tlog,
        };
        let default_root = trust.default_trusted_root.as_deref();
        let report = match (&authority.kind, evidence) {
            (_, None) => Err("no signatures were gathered".to_owned()),
            (AuthorityKind::Key(key), Some(evidence)) => Ok(judge_with(
                evidence,
                SignatureAuthority::Key {
                    key,
                    log: default_root,
                },
                &options,
            )),
            (AuthorityKind::Keyless(keyless), Some(evidence)) => {
                match keyless.trusted_root.as_deref().or(default_root) {
                    Some(verifier) => Ok(judge_with(
                        evidence,
                        SignatureAuthority::Certificate {
                            verifier,
                            policy: &keyless.identity,
                        },
                        &options,
                    )),
                    None => Err(
                        "no trusted root to check keyless signatures against: give the authority a trustedRoot, pass --trusted-root, or run `signet initialize`"
                            .to_owned(),
                    ),
                }
            }
        };
        let keyless = matches!(authority.kind, AuthorityKind::Keyless(_));
        // Cosign v3's format: a signature bundle referring to the image.
        if let (AuthorityKind::Keyless(k), Some(referrers)) = (&authority.kind, referrers)
            && let Some(verifier) = k.trusted_root.as_deref().or(default_root)
        {
            let found =
                judge_referrer_bundles(referrers, verifier, &k.identity, &BundlePurpose::Signature);
            if let Some(verified) = found.verified().first() {
                signed.insert(name.clone());
                evidence_list.push(Evidence {
                    kind: "signature",
                    signer: Some(name.clone()),
                    layer: Some(verified.manifest().to_string()),
                    predicate_type: None,
                    log_index: None,
                    failed_check: None,
                });
                continue;
            }
        }
        let outcome = report.and_then(|report| {
            let accepted = report.verified().iter().find(|v| {
                identity_ok(
                    req.signed_identity.as_ref(),
                    &v.claims().critical.identity.docker_reference,
                    repository,
                )
            });
            match accepted {
                Some(v) => Ok(v.layer_digest().to_string()),
                None if !report.verified().is_empty() => Err(format!(
                    "its signature claims the identity {:?}, which the signedIdentity rule refuses",
                    report.verified()[0]
                        .claims()
                        .critical
                        .identity
                        .docker_reference
                )),
                None => {
                    // The most useful failure: one that is not merely another signer's
                    // signature (another key, another certificate identity).
                    let specific = report.rejected().iter().find(|r| {
                        !matches!(
                            r.failure,
                            SignatureFailure::SignatureMismatch
                                | SignatureFailure::Sigstore {
                                    check: BundleCheck::Identity
                                        | BundleCheck::Issuer
                                        | BundleCheck::Material,
                                    ..
                                }
                        )
                    });
                    Err(match specific {
                        Some(r) => r.to_string(),
                        None if evidence.is_none_or(|e| e.layers.is_empty()) => {
                            format!(
                                "no signatures found (looked in {})",
                                evidence.map(|e| e.location.as_str()).unwrap_or("?")
                            )
                        }
                        None if keyless => format!(
                            "none of the {} signature(s) carries a certificate for this identity",
                            report.rejected().len()
                        ),
                        None => format!(
                            "none of the {} signature(s) verifies with this key",
                            report.rejected().len()
                        ),
                    })
                }
            }
        });
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
                    failed_check: Some(why),
                });
            }
        }
    }
    let missing_required: Vec<&String> = req
        .required
        .iter()
        .filter(|r| !signed.contains(*r))
        .collect();
    let passed = signed.len() >= req.threshold && missing_required.is_empty();
    let signers = signed.iter().cloned().collect::<Vec<_>>().join(", ");
    let reason = if passed {
        format!(
            "signed by {} of {} ({signers}), threshold {}",
            signed.len(),
            req.authorities.len(),
            req.threshold
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
            req.authorities.len(),
            req.threshold,
            missing_reasons.join("; ")
        )
    };
    RequirementResult {
        requirement: description,
        passed,
        reason,
        evidence: evidence_list,
    }
}

fn judge_attestation(
    trust: &TrustPolicy,
    req: &AttestationRequirement,
    evidence: Option<&AttachmentEvidence>,
    referrers: Option<&ReferrerEvidence>,
    now_unix: i64,
) -> RequirementResult {
    let description = format!(
        "attestation {} ({}) by [{}]",
        req.name,
        req.predicate_type,
        req.authorities.join(", ")
    );
    let mut reasons = Vec::new();
    let mut evidence_list = Vec::new();
    for name in &req.authorities {
        let Some(authority) = trust.authorities.get(name) else {
            continue;
        };
        let key = match (&authority.kind, evidence) {
            (AuthorityKind::Keyless(keyless), _) => {
                match judge_keyless_attestation(
                    trust, req, name, keyless, evidence, referrers, now_unix,
                ) {
                    Ok(found) => {
                        evidence_list.push(found);
                        return RequirementResult {
                            requirement: description,
                            passed: true,
                            reason: format!(
                                "a {} attestation by {name} meets every condition",
                                req.predicate_type
                            ),
                            evidence: evidence_list,
                        };
                    }
                    Err((why, found)) => {
                        reasons.push(format!("{name}: {why}"));
                        evidence_list.extend(found);
                    }
                }
                continue;
            }
            (AuthorityKind::Key(_), None) => {
                reasons.push(format!("{name}: no attestations were gathered"));
                continue;
            }
            (AuthorityKind::Key(key), Some(_)) => key,
        };
        let Some(evidence) = evidence else { continue };
        let options = AttestationOptions {
            predicate_type: Some(req.predicate_type.clone()),
            tlog: authority.tlog,
            keep: crate::attestation::Retained::Statement,
        };
        let authority = AttestationAuthority::Key {
            key,
            log: trust.default_trusted_root.as_deref(),
        };
        let report = judge_attestations_with(evidence, authority, &options);
        if report.verified().is_empty() {
            let specific = report.rejected().iter().find(|r| {
                !matches!(
                    r.failure,
                    crate::AttestationFailure::SignatureMismatch
                        | crate::AttestationFailure::WrongPredicateType { .. }
                )
            });
            reasons.push(format!(
                "{name}: {}",
                match specific {
                    Some(r) => r.to_string(),
                    None => format!(
                        "no {} attestation verifies with this key",
                        req.predicate_type
                    ),
                }
            ));
            continue;
        }
        for verified in report.verified() {
            let layer = verified.layer_digest().map(ToString::to_string);
            let checked = req.conditions.check(verified.statement(), now_unix);
            match checked {
                Ok(()) => {
                    evidence_list.push(Evidence {
                        kind: "attestation",
                        signer: Some(name.clone()),
                        layer,
                        predicate_type: Some(verified.predicate_type().to_owned()),
                        log_index: None,
                        failed_check: None,
                    });
                    return RequirementResult {
                        requirement: description,
                        passed: true,
                        reason: format!(
                            "a {} attestation by {name} meets every condition",
                            req.predicate_type
                        ),
                        evidence: evidence_list,
                    };
                }
                Err(why) => {
                    reasons.push(format!("{name}: {why}"));
                    evidence_list.push(Evidence {
                        kind: "attestation",
                        signer: Some(name.clone()),
                        layer,
                        predicate_type: Some(verified.predicate_type().to_owned()),
                        log_index: None,
                        failed_check: Some(why),
                    });
                }
            }
        }
    }
    RequirementResult {
        requirement: description,
        passed: false,
        reason: if reasons.is_empty() {
            "no attestation qualifies".to_owned()
        } else {
            reasons.join("; ")
        },
        evidence: evidence_list,
    }
}

/// A keyless authority's attestation: a legacy `.att` layer with a Fulcio certificate, or a
/// referrer bundle (Cosign v3's format), for this image and predicate type, by the authority's
/// identity, whose statement meets the conditions. `Err` carries why none qualified and the
/// evidence of those that failed a condition.
#[allow(clippy::too_many_arguments)]
fn judge_keyless_attestation(
    trust: &TrustPolicy,
    req: &AttestationRequirement,
    name: &str,
    keyless: &KeylessAuthority,
    attestations: Option<&AttachmentEvidence>,
    referrers: Option<&ReferrerEvidence>,
    now_unix: i64,
) -> Result<Evidence, (String, Vec<Evidence>)> {
    let Some(verifier) = keyless
        .trusted_root
        .as_deref()
        .or(trust.default_trusted_root.as_deref())
    else {
        return Err((
            "no trusted root to check keyless attestations against: give the authority a trustedRoot, pass --trusted-root, or run `signet initialize`".to_owned(),
            Vec::new(),
        ));
    };
    let mut failed = Vec::new();
    let mut last_failure = None;
    // Cosign's legacy format first: `.att` layers carrying a certificate.
    if let Some(attestations) = attestations {
        let options = AttestationOptions {
            predicate_type: Some(req.predicate_type.clone()),
            tlog: TlogPolicy::Require,
            keep: crate::attestation::Retained::Statement,
        };
        let authority = AttestationAuthority::Certificate {
            verifier,
            policy: &keyless.identity,
        };
        let report = judge_attestations_with(attestations, authority, &options);
        for verified in report.verified() {
            let evidence = |failed_check: Option<String>| Evidence {
                kind: "attestation",
                signer: Some(name.to_owned()),
                layer: verified.layer_digest().map(ToString::to_string),
                predicate_type: Some(req.predicate_type.clone()),
                log_index: None,
                failed_check,
            };
            match req.conditions.check(verified.statement(), now_unix) {
                Ok(()) => return Ok(evidence(None)),
                Err(why) => {
                    failed.push(evidence(Some(why.clone())));
                    last_failure = Some(why);
                }
            }
        }
    }
    let Some(referrers) = referrers else {
        return Err((
            last_failure.unwrap_or_else(|| "no Sigstore bundles were gathered".to_owned()),
            failed,
        ));
    };
    let report = judge_referrer_bundles(
        referrers,
        verifier,
        &keyless.identity,
        &BundlePurpose::Attestation(req.predicate_type.clone()),
    );
    for verified in report.verified() {
        let evidence = |failed_check: Option<String>| Evidence {
            kind: "attestation",
            signer: Some(name.to_owned()),
            layer: Some(verified.manifest().to_string()),
            predicate_type: Some(req.predicate_type.clone()),
            log_index: None,
            failed_check,
        };
        let checked = match verified.bundle().dsse_payload() {
            Some((_, payload)) => req.conditions.check(payload, now_unix),
            None => Err("the bundle holds no statement".to_owned()),
        };
        match checked {
            Ok(()) => return Ok(evidence(None)),
            Err(why) => {
                failed.push(evidence(Some(why.clone())));
                last_failure = Some(why);
            }
        }
    }
    let why = match last_failure {
        Some(why) => why,
        None if report.rejected().is_empty() => format!(
            "no {} attestation bundle refers to the image (looked in {})",
            req.predicate_type,
            report.source()
        ),
        None => format!(
            "no {} attestation bundle by this identity verifies ({})",
            req.predicate_type,
            report
                .rejected()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    Err((why, failed))
}
