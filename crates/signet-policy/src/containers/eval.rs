//! The judgement, pure and synchronous: which scope an image falls under, and each
//! requirement's result given the signatures read for it.

use std::path::{Component, Path, PathBuf};

use signet_core::cosign::SIMPLE_SIGNING_MEDIA_TYPE;
use signet_core::payload::COSIGN_SIGNATURE_TYPE;
use signet_core::reference::ImageReference;

use super::config::{PolicyConfig, Requirement, SigstoreSigned};
use super::json::{Json, truncate};
use super::reference::{DockerRef, ReferenceError, check_digest};
use crate::report::{Decision, Evidence, ImageVerdict, Mode, PolicyResult, RequirementResult};
use signet_verify::AttachmentEvidence;
use signet_verify::{CheckOptions, SignatureAuthority, SignatureFailure, TlogPolicy, judge_with};

/// An image as containers/image identifies it for policy lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `docker` transport: the reference with its tag or digest (`:latest` when neither).
    Docker(DockerRef),
    /// `oci` transport: the layout directory, absolute with symlinks resolved.
    Layout { resolved: String },
}

/// Why containers/image could not evaluate an image at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    #[error(
        "{0} names both a tag and a digest, which containers/image refuses \
         (\"Docker references with both a tag and digest are currently not \
         supported\"): give the reference by digest alone"
    )]
    TagAndDigest(String),
    #[error("containers/image cannot read the reference {image}: {error}")]
    Reference {
        image: String,
        error: ReferenceError,
    },
    #[error("cannot resolve the layout directory {path}: {error}")]
    Layout { path: String, error: std::io::Error },
}

impl Target {
    /// The target of `image`, or why containers/image could not evaluate it.
    pub(crate) fn of(image: &ImageReference) -> Result<Target, TargetError> {
        match image {
            ImageReference::Registry(r) => {
                if r.tag().is_some() && r.digest().is_some() {
                    return Err(TargetError::TagAndDigest(image.to_string()));
                }
                DockerRef::parse_normalized(&r.to_string())
                    .map(Target::Docker)
                    .map_err(|error| TargetError::Reference {
                        image: image.to_string(),
                        error,
                    })
            }
            ImageReference::Layout(l) => resolve_path(Path::new(l.path()))
                .map(|resolved| Target::Layout { resolved })
                .map_err(|error| TargetError::Layout {
                    path: l.path().to_owned(),
                    error,
                }),
        }
    }

    fn transport(&self) -> &'static str {
        match self {
            Target::Docker(_) => "docker",
            Target::Layout { .. } => "oci",
        }
    }

    /// `PolicyConfigurationIdentity`.
    pub(crate) fn identity(&self) -> String {
        match self {
            Target::Docker(r) => r.policy_identity(),
            Target::Layout { resolved } => resolved.clone(),
        }
    }

    /// `PolicyConfigurationNamespaces`, most specific first.
    pub(crate) fn namespaces(&self) -> Vec<String> {
        match self {
            Target::Docker(r) => r.policy_namespaces(),
            Target::Layout { resolved } => {
                let mut scopes = Vec::new();
                let mut path = resolved.as_str();
                while let Some(slash) = path.rfind('/') {
                    if path == "/" {
                        break;
                    }
                    scopes.push(path.to_owned());
                    path = &path[..slash];
                }
                scopes
            }
        }
    }
}

/// `ResolvePathToFullyExplicit`: absolute, symlinks resolved; a path that does not exist
/// yet is resolved through its parent.
fn resolve_path(path: &Path) -> std::io::Result<String> {
    let resolved = match std::fs::symlink_metadata(path) {
        Ok(_) => std::fs::canonicalize(path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let Some(Component::Normal(file)) = path.components().next_back() else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path ends in . or ..",
                ));
            };
            std::fs::canonicalize(parent)?.join(file)
        }
        Err(e) => return Err(e),
    };
    resolved
        .into_os_string()
        .into_string()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "the path is not UTF-8"))
}

/// The requirements that apply to an image, and the name of the scope they came from.
#[derive(Debug)]
pub(crate) struct Matched<'p> {
    pub(crate) name: String,
    pub(crate) requirements: &'p [Requirement],
}

impl Matched<'_> {
    /// Whether any requirement needs the image's signatures.
    pub(crate) fn needs_signatures(&self) -> bool {
        self.requirements
            .iter()
            .any(|r| matches!(r, Requirement::SigstoreSigned(_)))
    }
}

/// `requirementsForImageRef`: the transport's exact identity, then its namespaces (most
/// specific first), then the transport's `""`, then the top-level `default`.
pub(crate) fn select<'p>(config: &'p PolicyConfig, target: &Target) -> Matched<'p> {
    let transport = target.transport();
    if let Some(scopes) = config.transports.get(transport) {
        let candidates = std::iter::once(target.identity()).chain(target.namespaces());
        for scope in candidates {
            if let Some(requirements) = scopes.get(&scope) {
                return Matched {
                    name: format!("{transport}:{scope}"),
                    requirements,
                };
            }
        }
        if let Some(requirements) = scopes.get("") {
            return Matched {
                name: format!("{transport}:\"\""),
                requirements,
            };
        }
    }
    Matched {
        name: "default".to_owned(),
        requirements: &config.default,
    }
}

/// The signatures containers/image would see for an image.
#[derive(Debug)]
pub(crate) enum Signatures {
    /// It would read none, for this reason.
    NotRead(String),
    /// The sigstore attachments as read from the registry.
    Read(AttachmentEvidence),
    /// Reading them failed: the requirement cannot be decided.
    Failed(String),
}

/// A verdict with no policy result, when the image could not be evaluated at all.
pub(crate) fn undecided(image: &ImageReference, note: String) -> ImageVerdict {
    ImageVerdict {
        image: image.to_string(),
        digest: image.digest().map(ToString::to_string),
        decision: Decision::Undecided,
        matched_policies: Vec::new(),
        note: Some(note),
    }
}

enum Outcome {
    Pass,
    Fail,
    Undecided(String),
}

/// Judges `image` under the matched requirements. `signatures` is `Some` whenever a
/// requirement needs them.
pub(crate) fn judge_image(
    image: &ImageReference,
    target: &Target,
    matched: &Matched<'_>,
    signatures: Option<&Signatures>,
) -> ImageVerdict {
    let mut results = Vec::with_capacity(matched.requirements.len());
    let mut outcomes = Vec::with_capacity(matched.requirements.len());
    for requirement in matched.requirements {
        let (outcome, reason, evidence) = match requirement {
            Requirement::InsecureAcceptAnything => (
                Outcome::Pass,
                "accepts any image, signed or not".to_owned(),
                Vec::new(),
            ),
            Requirement::Reject => (
                Outcome::Fail,
                "rejects every image in this scope".to_owned(),
                Vec::new(),
            ),
            Requirement::SignedBaseLayer => (
                Outcome::Fail,
                "signedBaseLayer is not implemented by containers/image, which denies every image under it"
                    .to_owned(),
                Vec::new(),
            ),
            Requirement::SigstoreSigned(req) => sigstore_signed(req, target, signatures),
        };
        results.push(RequirementResult {
            requirement: requirement.describe(),
            passed: matches!(outcome, Outcome::Pass),
            reason,
            evidence,
        });
        outcomes.push(outcome);
    }
    let policy = PolicyResult {
        name: matched.name.clone(),
        mode: Mode::Enforce,
        passed: results.iter().all(|r| r.passed),
        requirements: results,
    };
    let denied = outcomes.iter().any(|o| matches!(o, Outcome::Fail));
    let undecided = outcomes.into_iter().find_map(|o| match o {
        Outcome::Undecided(note) => Some(note),
        _ => None,
    });
    let digest = match signatures {
        Some(Signatures::Read(evidence)) => Some(evidence.digest.to_string()),
        _ => image.digest().map(ToString::to_string),
    };
    let policies = vec![policy];
    let (decision, note) = match undecided {
        // A definite denial by another requirement stands whatever the undecided one says.
        Some(note) if !denied => (Decision::Undecided, Some(note)),
        _ => (ImageVerdict::decide(&policies), None),
    };
    ImageVerdict {
        image: image.to_string(),
        digest,
        decision,
        matched_policies: policies,
        note,
    }
}

/// How telling a signature's failure is, to pick the one to report when none passed: a
/// trusted signature for the wrong identity says more than one by an unknown key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Malformed,
    WrongKey,
    Payload,
    Identity,
}

struct LayerOutcome {
    number: usize,
    layer: String,
    signer: Option<String>,
    failure: Option<(Rank, String)>,
}

fn sigstore_signed(
    req: &SigstoreSigned,
    target: &Target,
    signatures: Option<&Signatures>,
) -> (Outcome, String, Vec<Evidence>) {
    let evidence = match signatures {
        None => {
            return (
                Outcome::Undecided("the signatures were not gathered".to_owned()),
                "could not be decided: the signatures were not gathered".to_owned(),
                Vec::new(),
            );
        }
        Some(Signatures::NotRead(why)) => {
            return (
                Outcome::Fail,
                format!("a signature was required, but no signature exists: {why}"),
                Vec::new(),
            );
        }
        Some(Signatures::Failed(why)) => {
            return (
                Outcome::Undecided(format!("could not read the signatures: {why}")),
                "could not be decided: the signatures could not be read (see the note)".to_owned(),
                Vec::new(),
            );
        }
        Some(Signatures::Read(evidence)) => evidence,
    };
    let Target::Docker(intended) = target else {
        return (
            Outcome::Fail,
            "a signature was required, but no signature exists".to_owned(),
            Vec::new(),
        );
    };
    // containers/image reads every attachment layer before judging any: one it cannot read
    // fails the whole evaluation.
    if let Some((unreadable, why)) = evidence
        .layers
        .iter()
        .find_map(|l| l.content.as_ref().err().map(|why| (l, why)))
    {
        let note = format!(
            "attachment {} (layer {}) in {} could not be read: {why}",
            unreadable.index + 1,
            unreadable.layer.digest,
            evidence.location
        );
        return (
            Outcome::Undecided(note),
            "could not be decided: a signature could not be read (see the note)".to_owned(),
            Vec::new(),
        );
    }

    // With Rekor keys, containers/image requires and checks every signature's SET.
    let options = CheckOptions {
        tlog: if req.rekor.is_some() {
            TlogPolicy::Require
        } else {
            TlogPolicy::InsecureIgnore
        },
        ..CheckOptions::default()
    };
    let reports: Vec<_> = req
        .keys
        .iter()
        .map(|(name, key)| {
            let authority = SignatureAuthority::Key {
                key,
                log: req.rekor.as_deref(),
            };
            (name, judge_with(evidence, authority, &options))
        })
        .collect();
    let key_names: Vec<&str> = req.keys.iter().map(|(n, _)| n.as_str()).collect();

    let mut outcomes = Vec::new();
    let mut not_signatures = 0usize;
    for layer in &evidence.layers {
        if layer.layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
            // Attestations and other attachments: containers/image skips them.
            not_signatures += 1;
            continue;
        }
        let verified = reports.iter().find_map(|(name, report)| {
            report
                .verified()
                .iter()
                .find(|v| v.index() == layer.index)
                .map(|v| (*name, v))
        });
        let mut outcome = LayerOutcome {
            number: layer.index + 1,
            layer: layer.layer.digest.to_string(),
            signer: None,
            failure: None,
        };
        match verified {
            Some((name, signature)) => {
                outcome.signer = Some(name.clone());
                outcome.failure = match strict_payload(signature.payload()) {
                    Err(why) => Some((
                        Rank::Payload,
                        format!("containers/image refuses the payload: {why}"),
                    )),
                    Ok(identity) => req.identity.check(intended, &identity).err().map(|e| {
                        (
                            Rank::Identity,
                            format!(
                                "the signed identity {:?} is not accepted by {} for {intended}: {e}",
                                truncate(&identity),
                                req.identity.describe()
                            ),
                        )
                    }),
                };
            }
            None => {
                let failures = reports.iter().filter_map(|(_, report)| {
                    report
                        .rejected()
                        .iter()
                        .find(|r| r.index == layer.index)
                        .map(|r| &r.failure)
                });
                outcome.failure = Some(most_telling(failures, &key_names));
            }
        }
        outcomes.push(outcome);
    }

    let evidence_list = outcomes
        .iter()
        .map(|o| Evidence {
            kind: "signature",
            signer: o.signer.clone(),
            layer: Some(o.layer.clone()),
            predicate_type: None,
            log_index: None,
            failed_check: o.failure.as_ref().map(|(_, why)| why.clone()),
        })
        .collect();

    if let Some(accepted) = outcomes.iter().find(|o| o.failure.is_none()) {
        let reason = format!(
            "signature {} (layer {}) verifies with {} and its identity is accepted by {}",
            accepted.number,
            accepted.layer,
            accepted.signer.as_deref().unwrap_or("a trusted key"),
            req.identity.describe()
        );
        return (Outcome::Pass, reason, evidence_list);
    }
    if evidence.skipped_layers > 0 {
        let note = format!(
            "none of the first {} attachments of {} was accepted, and {} more were over the \
             per-image limit and not considered (containers/image reads them all)",
            evidence.layers.len(),
            evidence.location,
            evidence.skipped_layers
        );
        return (
            Outcome::Undecided(note.clone()),
            format!("could not be decided: {note}"),
            evidence_list,
        );
    }
    let reason = match outcomes.as_slice() {
        [] if not_signatures == 0 => format!(
            "a signature was required, but no signature exists (looked in {})",
            evidence.location
        ),
        [] => format!(
            "a signature was required, but no signature exists ({} in {} are not signatures)",
            not_signatures, evidence.location
        ),
        [only] => format!(
            "signature {} (layer {}): {}",
            only.number,
            only.layer,
            only.failure
                .as_ref()
                .map(|(_, w)| w.as_str())
                .unwrap_or_default()
        ),
        several => {
            let closest = several
                .iter()
                .filter_map(|o| o.failure.as_ref().map(|(rank, why)| (*rank, o, why)))
                .max_by_key(|(rank, o, _)| (*rank, std::cmp::Reverse(o.number)));
            match closest {
                Some((_, o, why)) => format!(
                    "none of the {} signatures was accepted; the closest, signature {} (layer {}): {why}",
                    several.len(),
                    o.number,
                    o.layer
                ),
                None => format!("none of the {} signatures was accepted", several.len()),
            }
        }
    };
    (Outcome::Fail, reason, evidence_list)
}

/// The most telling of the failures a signature had under each key.
fn most_telling<'a>(
    failures: impl Iterator<Item = &'a SignatureFailure>,
    keys: &[&str],
) -> (Rank, String) {
    let mut best: Option<(Rank, String)> = None;
    for failure in failures {
        let candidate = match failure {
            SignatureFailure::SignatureMismatch => (
                Rank::WrongKey,
                if keys.len() == 1 {
                    format!(
                        "invalid signature: it does not verify with the key {}",
                        keys.join("")
                    )
                } else {
                    format!(
                        "invalid signature: it verifies with none of the keys [{}]",
                        keys.join(", ")
                    )
                },
            ),
            SignatureFailure::MissingSignature
            | SignatureFailure::MalformedSignature
            | SignatureFailure::PayloadUnavailable(_)
            | SignatureFailure::NotSimpleSigning { .. } => (Rank::Malformed, failure.to_string()),
            // The signature verified with this key; what follows concerns the payload.
            other => (Rank::Payload, other.to_string()),
        };
        if best.as_ref().is_none_or(|(rank, _)| candidate.0 > *rank) {
            best = Some(candidate);
        }
    }
    best.unwrap_or((Rank::Malformed, "the signature was not judged".to_owned()))
}

/// Why containers/image refuses a sigstore payload.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PayloadRefusal {
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("{what} is {kind}, not an object")]
    NotAnObject {
        what: &'static str,
        kind: &'static str,
    },
    #[error("unknown key {key:?} in {what}")]
    UnknownKey { key: String, what: &'static str },
    #[error("key {key:?} missing in {what}")]
    MissingKey {
        key: &'static str,
        what: &'static str,
    },
    #[error("{what} is {kind}, not a string")]
    NotAString {
        what: &'static str,
        kind: &'static str,
    },
    #[error("optional.timestamp is not an integer")]
    TimestampNotInteger,
    #[error("optional.{key} is {kind}")]
    OptionalType { key: String, kind: &'static str },
    #[error("unrecognized signature type {0:?}")]
    SignatureType(String),
    #[error("invalid docker-manifest-digest {digest:?}: {error}")]
    Digest {
        digest: String,
        error: ReferenceError,
    },
}

/// containers/image's strict reading of a sigstore payload (`UntrustedSigstorePayload`):
/// exactly `critical` and `optional`; `critical` exactly `type`, `image`, `identity`; a
/// valid digest; `optional` may be `null` or an object whose `creator` is a string and whose
/// `timestamp` is an integer. Returns the claimed `docker-reference`.
pub(crate) fn strict_payload(bytes: &[u8]) -> Result<String, PayloadRefusal> {
    let doc = Json::parse(bytes).map_err(PayloadRefusal::Json)?;
    let exact = |value: &Json, what: &'static str, names: &[&'static str]| {
        let members = value.as_object().ok_or(PayloadRefusal::NotAnObject {
            what,
            kind: value.kind(),
        })?;
        if let Some((k, _)) = members.iter().find(|(k, _)| !names.contains(&k.as_str())) {
            return Err(PayloadRefusal::UnknownKey {
                key: truncate(k),
                what,
            });
        }
        match names.iter().find(|n| value.get(n).is_none()) {
            Some(missing) => Err(PayloadRefusal::MissingKey { key: missing, what }),
            None => Ok(()),
        }
    };
    // Go decodes JSON null into a string as the empty string.
    let text = |value: &Json, what: &'static str| match value {
        Json::String(s) => Ok(s.clone()),
        Json::Null => Ok(String::new()),
        other => Err(PayloadRefusal::NotAString {
            what,
            kind: other.kind(),
        }),
    };
    exact(&doc, "the payload", &["critical", "optional"])?;
    let optional = doc.get("optional").unwrap_or(&Json::Null);
    if !matches!(optional, Json::Null) {
        let members = optional.as_object().ok_or(PayloadRefusal::NotAnObject {
            what: "optional",
            kind: optional.kind(),
        })?;
        for (key, value) in members {
            match (key.as_str(), value) {
                ("creator", Json::String(_) | Json::Null) | ("timestamp", Json::Null) => {}
                ("timestamp", Json::Number(n)) => {
                    let integral = n.as_i64().is_some()
                        || n.as_f64()
                            .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.2e18);
                    if !integral {
                        return Err(PayloadRefusal::TimestampNotInteger);
                    }
                }
                ("creator" | "timestamp", other) => {
                    return Err(PayloadRefusal::OptionalType {
                        key: key.clone(),
                        kind: other.kind(),
                    });
                }
                _ => {}
            }
        }
    }
    let critical = doc.get("critical").unwrap_or(&Json::Null);
    exact(critical, "critical", &["type", "image", "identity"])?;
    let kind = text(critical.get("type").unwrap_or(&Json::Null), "critical.type")?;
    if kind != COSIGN_SIGNATURE_TYPE {
        return Err(PayloadRefusal::SignatureType(truncate(&kind)));
    }
    let image = critical.get("image").unwrap_or(&Json::Null);
    exact(image, "critical.image", &["docker-manifest-digest"])?;
    let digest = text(
        image.get("docker-manifest-digest").unwrap_or(&Json::Null),
        "docker-manifest-digest",
    )?;
    check_digest(&digest).map_err(|error| PayloadRefusal::Digest {
        digest: truncate(&digest),
        error,
    })?;
    let identity = critical.get("identity").unwrap_or(&Json::Null);
    exact(identity, "critical.identity", &["docker-reference"])?;
    text(
        identity.get("docker-reference").unwrap_or(&Json::Null),
        "docker-reference",
    )
}
