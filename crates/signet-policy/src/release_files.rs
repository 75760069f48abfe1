//! Policies for release files: a policy whose scope is `files:` (globs over file names)
//! instead of `images:`. A file's evidence is the Sigstore bundles given with it — a bundle,
//! JSON Lines of bundles, or the listings producers publish (what `read_document` reads) —
//! checked offline against each authority's trusted root: a signature is a message-signature
//! bundle over the file, an attestation a DSSE bundle whose in-toto statement names the file's
//! digest. The same requirements and conditions as for images; judged without I/O, with the
//! time as an argument.
//!
//! A file's verdict is an [`ImageVerdict`] whose subject is the file's name and sha256, so
//! that one report, one exit code and one verification summary ([`crate::vsa`]) serve both.

use std::collections::BTreeSet;

use signet_core::digest::{Digest, DigestAlgorithm};
use signet_core::dsse::IN_TOTO_PAYLOAD_TYPE;
use signet_core::error_text::error_chain;
use signet_core::intoto::Statement;
use signet_verify::bundle::{
    Artifact, ArtifactDigests, BundleCheck, BundleFailure, BundleLimits, VerifiedBundle,
    claimed_subjects, read_document,
};

use crate::evaluate::{attestation_refused, signature_result};
use crate::model::{AttestationRequirement, NoMatch, Policy, SignatureRequirement, TrustPolicy};
use crate::report::{Decision, Evidence, ImageVerdict, PolicyResult, RequirementResult};

/// One file of bundles given with the file: where it came from (its path, for messages) and
/// its bytes, read by the caller within [`BundleLimits::max_document_bytes`].
#[derive(Debug, Clone)]
pub struct BundleDocument {
    /// Where it came from.
    pub label: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A file to decide: its name (what the policies' globs are matched against), its digests
/// (computed in one pass, [`ArtifactDigests::of_reader`]) and the bundles given with it.
#[derive(Debug, Clone, Copy)]
pub struct FileEvidence<'a> {
    /// The file's name or path.
    pub name: &'a str,
    /// Its digests.
    pub digests: &'a ArtifactDigests,
    /// The bundles given with it (read once for all the files of a release).
    pub bundles: &'a ReleaseBundles,
}

/// The bundles of the documents given with a release's files, read once: each with where it
/// is, its digest and what it says it is about; or why a document could not be read (then
/// every file is undecided).
#[derive(Debug, Clone)]
pub struct ReleaseBundles {
    bundles: Result<Vec<GivenBundle>, String>,
}

impl ReleaseBundles {
    /// Splits `documents` into their bundles (bounded as [`read_document`] bounds them).
    pub fn read(documents: &[BundleDocument]) -> Self {
        let limits = BundleLimits::default();
        let mut bundles = Vec::new();
        for document in documents {
            match read_document(&document.bytes, &limits) {
                Ok(found) => bundles.extend(found.into_iter().map(|b| GivenBundle {
                    label: format!("{} {}", document.label, b.label()),
                    claimed: claimed_subjects(b.json()),
                    digest: Digest::sha256_of(b.json()),
                    json: b.json().to_vec(),
                })),
                Err(failure) => {
                    return Self {
                        bundles: Err(format!(
                            "could not read the bundles of {}: {}",
                            document.label,
                            error_chain(&failure)
                        )),
                    };
                }
            }
        }
        Self {
            bundles: Ok(bundles),
        }
    }
}

/// One bundle of the documents, where it is (`attestations.jsonl line 2`), the digest of its
/// JSON (what the report's evidence and a summary's input attestations name) and the digests
/// it says it is about ([`claimed_subjects`]; `None`: not readable without verifying).
#[derive(Debug, Clone)]
struct GivenBundle {
    label: String,
    json: Vec<u8>,
    digest: Digest,
    claimed: Option<Vec<Digest>>,
}

/// Decides `file` under the file policies of `trust` at `now_unix`. Pure: the bundles are
/// verified offline against the authorities' trusted roots. No matching policy: `noMatch`
/// decides, as for images; a document that cannot be read leaves the file undecided.
pub fn judge_file(trust: &TrustPolicy, file: &FileEvidence<'_>, now_unix: i64) -> ImageVerdict {
    let digest = file
        .digests
        .get(DigestAlgorithm::Sha256)
        .map(ToString::to_string);
    let verdict = |decision, matched_policies, note| ImageVerdict {
        image: file.name.to_owned(),
        digest: digest.clone(),
        decision,
        matched_policies,
        note,
    };
    let matching = trust.matching_file(file.name);
    if matching.is_empty() {
        let (decision, word) = match trust.no_match() {
            NoMatch::Deny => (Decision::Deny, "denied"),
            NoMatch::Allow => (Decision::Allow, "allowed"),
            NoMatch::Warn => (Decision::Warn, "allowed with a warning"),
        };
        return verdict(
            decision,
            Vec::new(),
            Some(format!(
                "no policy covers the file {}: {word} (noMatch: {:?})",
                file.name,
                trust.no_match()
            )),
        );
    }
    let bundles = match &file.bundles.bundles {
        Ok(bundles) => bundles,
        Err(note) => return verdict(Decision::Undecided, Vec::new(), Some(note.clone())),
    };
    let results: Vec<PolicyResult> = matching
        .iter()
        .map(|policy| judge_file_policy(trust, policy, file.digests, bundles, now_unix))
        .collect();
    verdict(ImageVerdict::decide(&results), results, None)
}

fn judge_file_policy(
    trust: &TrustPolicy,
    policy: &Policy,
    digests: &ArtifactDigests,
    bundles: &[GivenBundle],
    now_unix: i64,
) -> PolicyResult {
    let mut requirements = Vec::new();
    if let Some(req) = policy.signatures() {
        requirements.push(file_signatures(trust, req, digests, bundles));
    }
    for req in policy.attestations() {
        requirements.push(file_attestation(trust, req, digests, bundles, now_unix));
    }
    PolicyResult {
        name: policy.name().to_owned(),
        mode: policy.mode(),
        passed: requirements.iter().all(|r| r.passed),
        requirements,
    }
}

/// What one authority's bundles among those given are: the verified ones (with where they
/// are), and the first refusal, if none verified.
struct ByAuthority<'a> {
    verified: Vec<(&'a GivenBundle, VerifiedBundle)>,
    first_refusal: Option<(String, BundleFailure)>,
}

/// Verifies every given bundle for the file against the authority `name`; `Err` when the
/// authority cannot check bundles (a Notation authority, a key without a trusted root).
fn bundles_by<'a>(
    trust: &TrustPolicy,
    name: &str,
    digests: &ArtifactDigests,
    bundles: &'a [GivenBundle],
    wanted: impl Fn(&VerifiedBundle) -> bool,
) -> Result<ByAuthority<'a>, String> {
    let (authority, _) = trust
        .verify_authority_or_reason(name)
        .map_err(|why| why.to_string())?;
    let Some((verifier, policy)) = authority.bundle_policy() else {
        return Err(match authority {
            signet_verify::Authority::Notation(_) => {
                "a Notation authority signs images, not files".to_owned()
            }
            _ => {
                "a key authority checks file bundles against a trusted root, and none is configured"
                    .to_owned()
            }
        });
    };
    let mut found = ByAuthority {
        verified: Vec::new(),
        first_refusal: None,
    };
    // A bundle plainly about another file is not verified: in a release's JSON Lines most are.
    for bundle in bundles
        .iter()
        .filter(|b| digests.may_be_among(b.claimed.as_deref()))
    {
        match verifier.verify(&bundle.json, Artifact::Digests(digests), &policy) {
            Ok(verified) if wanted(&verified) => found.verified.push((bundle, verified)),
            Ok(_) => {}
            // The first refusal, preferring one about this file: a bundle about another file
            // of the release says only that.
            Err(failure) => {
                let replace = match &found.first_refusal {
                    None => true,
                    Some((_, first)) => {
                        first.check() == BundleCheck::ArtifactDigest
                            && failure.check() != BundleCheck::ArtifactDigest
                    }
                };
                if replace {
                    found.first_refusal = Some((bundle.label.clone(), failure));
                }
            }
        }
    }
    Ok(found)
}

/// Why an authority's bundles did not count: the failed check of the first bundle about
/// this file, or that none of the bundles given is one of this file (the others are about
/// other files of the release, or of another kind).
fn none_verified(kind: &str, given: usize, refusal: Option<(String, BundleFailure)>) -> String {
    match refusal {
        _ if given == 0 => "no bundles were given with the file".to_owned(),
        Some((label, failure)) if failure.check() != BundleCheck::ArtifactDigest => {
            format!("no {kind} verifies ({label}: {})", error_chain(&failure))
        }
        _ => format!("none of the {given} bundle(s) given is a {kind} of this file"),
    }
}

fn file_signatures(
    trust: &TrustPolicy,
    req: &SignatureRequirement,
    digests: &ArtifactDigests,
    bundles: &[GivenBundle],
) -> RequirementResult {
    let mut signed = BTreeSet::new();
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    for name in req.authorities() {
        // A signature over the file: a message signature, not a DSSE attestation.
        let outcome = bundles_by(trust, name, digests, bundles, |b| {
            b.dsse_payload().is_none()
        })
        .and_then(|found| match found.verified.first() {
            Some((bundle, _)) => Ok(bundle.digest.to_string()),
            None => Err(none_verified(
                "signature",
                bundles.len(),
                found.first_refusal,
            )),
        });
        let (layer, failed_check) = match outcome {
            Ok(label) => {
                signed.insert(name.clone());
                (Some(label), None)
            }
            Err(why) => {
                missing.push(format!("{name}: {why}"));
                (None, Some(why))
            }
        };
        evidence.push(Evidence {
            kind: "signature",
            signer: Some(name.clone()),
            layer,
            predicate_type: None,
            log_index: None,
            failed_check,
        });
    }
    signature_result(req, &signed, &missing, evidence)
}

fn file_attestation(
    trust: &TrustPolicy,
    req: &AttestationRequirement,
    digests: &ArtifactDigests,
    bundles: &[GivenBundle],
    now_unix: i64,
) -> RequirementResult {
    let wanted_type = req.predicate_type().uri();
    let description = format!(
        "attestation {} ({wanted_type}) by [{}]",
        req.name(),
        req.authorities().join(", ")
    );
    let statement_of = |bundle: &VerifiedBundle| -> Option<Vec<u8>> {
        let (payload_type, payload) = bundle.dsse_payload()?;
        (payload_type == IN_TOTO_PAYLOAD_TYPE).then(|| payload.to_vec())
    };
    let of_wanted_type = |bundle: &VerifiedBundle| {
        statement_of(bundle)
            .and_then(|s| Statement::parse(&s).ok().map(|s| s.predicate_type))
            .is_some_and(|t| t == wanted_type)
    };
    let mut reasons = Vec::new();
    let mut evidence = Vec::new();
    let attestation = |layer: Option<String>, failed_check: Option<String>, name: &str| Evidence {
        kind: "attestation",
        signer: Some(name.to_owned()),
        layer,
        predicate_type: Some(wanted_type.to_owned()),
        log_index: None,
        failed_check,
    };
    for name in req.authorities() {
        let found = match bundles_by(trust, name, digests, bundles, of_wanted_type) {
            Ok(found) => found,
            Err(why) => {
                reasons.push(format!("{name}: {why}"));
                continue;
            }
        };
        if found.verified.is_empty() {
            let why = none_verified(
                &format!("{wanted_type} attestation"),
                bundles.len(),
                found.first_refusal,
            );
            reasons.push(format!("{name}: {why}"));
            evidence.push(attestation(None, Some(why), name));
            continue;
        }
        for (given, bundle) in &found.verified {
            let statement = statement_of(bundle).unwrap_or_default();
            let layer = Some(given.digest.to_string());
            match req.conditions().check(&statement, now_unix) {
                Ok(()) => {
                    evidence.push(attestation(layer, None, name));
                    return RequirementResult {
                        requirement: description,
                        passed: true,
                        reason: format!(
                            "a {wanted_type} attestation by {name} ({}) meets every condition",
                            given.label
                        ),
                        evidence,
                    };
                }
                Err(failure) => {
                    let why = error_chain(&failure);
                    reasons.push(format!("{name}: {}: {why}", given.label));
                    evidence.push(attestation(layer, Some(why), name));
                }
            }
        }
    }
    attestation_refused(description, &reasons, evidence)
}
