//! From an `AdmissionRequest` to its answer: which requests are looked at, what is said to
//! the user, and what is patched.
//!
//! - DELETE and CONNECT are allowed untouched; so are kinds without a pod spec, the server's
//!   own namespace and namespaces the policy excludes.
//! - An UPDATE whose images are the same, field by field, as the stored object's is allowed
//!   without asking any registry.
//! - Otherwise every image is decided (all of them: no early exit), and the request is
//!   refused if one is refused. `status.message` names each refused image: its field path,
//!   the image, and the failed check. Warn-mode findings (and, under the open failure mode,
//!   images that could not be verified) become `warnings`, within the API's limits: at most
//!   [`MAX_WARNING_CHARS`] characters each and [`MAX_WARNINGS_BYTES`] in all.
//! - The mutating webhook's patch replaces each admitted tag with `tag@digest`, the digest
//!   that was verified (never resolved again), where the policy's `pinDigests` allows.
//! - A dry run is decided the same way; signet has no side effects to skip.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use base64::Engine;
use serde::Serialize;
use signet_policy::admission::PinDigests;

use crate::decide::{Decider, Disposition, ImageDecision};
use crate::review::{AdmissionRequest, AdmissionResponse, Operation, Status};
use crate::workload::{self, ImageSite, WorkloadKind};

/// The most characters in one warning (the Kubernetes API's recommendation; longer ones may
/// be cut).
pub const MAX_WARNING_CHARS: usize = 120;

/// The most bytes of all warnings of one response.
pub const MAX_WARNINGS_BYTES: usize = 4096;

/// The most bytes of `status.message`.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Which webhook is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// The validating webhook: allow or refuse.
    Validating,
    /// The mutating webhook: the same decision, and a patch pinning verified digests.
    Mutating,
}

/// Why a request was answered without deciding any image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skipped {
    /// DELETE or CONNECT.
    Operation,
    /// The kind carries no pod spec.
    Kind,
    /// The admission server's own namespace.
    OwnNamespace,
    /// A namespace the policy excludes.
    ExcludedNamespace,
    /// An UPDATE that changes no image.
    ImagesUnchanged,
    /// An object without images.
    NoImages,
}

/// The answer to one request, with what the log line needs.
#[derive(Debug)]
pub struct Reviewed {
    /// The response.
    pub response: AdmissionResponse,
    /// Why no image was decided, if none was.
    pub skipped: Option<Skipped>,
    /// The decisions, in image order.
    pub decisions: Vec<ImageDecision>,
    /// The kind, for metrics (a fixed name, or `other`).
    pub kind: &'static str,
}

/// Decides `request` by `deadline` with `decider`, as `webhook`. `own_namespace` is the
/// server's namespace, never enforced.
pub async fn review(
    decider: &Decider,
    request: &AdmissionRequest,
    webhook: Webhook,
    own_namespace: Option<&str>,
    deadline: Instant,
) -> Reviewed {
    let kind = WorkloadKind::from_group_kind(&request.kind.group, &request.kind.kind);
    let kind_name = kind.map_or("other", WorkloadKind::name);
    let skip = |why| Reviewed {
        response: AdmissionResponse::allow(&request.uid),
        skipped: Some(why),
        decisions: Vec::new(),
        kind: kind_name,
    };
    if matches!(request.operation, Operation::Delete | Operation::Connect) {
        return skip(Skipped::Operation);
    }
    let Some(kind) = kind else {
        return skip(Skipped::Kind);
    };
    let policy = decider.policy();
    if let Some(namespace) = request.namespace.as_deref() {
        if own_namespace == Some(namespace) {
            return skip(Skipped::OwnNamespace);
        }
        if policy.settings().excludes(namespace) {
            return skip(Skipped::ExcludedNamespace);
        }
    }
    let sites = match request.object.as_ref().map(|o| workload::images(kind, o)) {
        Some(Ok(sites)) => sites,
        Some(Err(error)) => {
            return Reviewed {
                response: refusal(
                    &request.uid,
                    format!("signet cannot check this object: {error}"),
                ),
                skipped: None,
                decisions: Vec::new(),
                kind: kind_name,
            };
        }
        None => Vec::new(),
    };
    if sites.is_empty() {
        return skip(Skipped::NoImages);
    }
    // On an UPDATE, only the images that changed are pinned: the others are as the user (or
    // an earlier admission) left them, and a subresource update (pods/ephemeralcontainers)
    // could not change them anyway.
    let mut unchanged = HashSet::new();
    if request.operation == Operation::Update
        && let Some(Ok(old)) = request
            .old_object
            .as_ref()
            .map(|o| workload::images(kind, o))
    {
        if same_images(&old, &sites) {
            return skip(Skipped::ImagesUnchanged);
        }
        let before: HashMap<&str, &str> = old.iter().map(|s| (s.pointer(), s.image())).collect();
        unchanged = sites
            .iter()
            .filter(|s| before.get(s.pointer()) == Some(&s.image()))
            .map(|s| s.pointer().to_owned())
            .collect();
    }
    let decisions = decider.decide(&sites, deadline).await;
    let pin = webhook == Webhook::Mutating
        && match policy.settings().pin_digests() {
            PinDigests::All => true,
            PinDigests::Pods => kind == WorkloadKind::Pod,
            PinDigests::None => false,
        };
    let pin = if pin {
        Pin::Except(unchanged)
    } else {
        Pin::Nothing
    };
    Reviewed {
        response: respond(&request.uid, &decisions, decider, &pin),
        skipped: None,
        decisions,
        kind: kind_name,
    }
}

/// Whether two image lists say the same at the same places.
fn same_images(old: &[ImageSite], new: &[ImageSite]) -> bool {
    old.len() == new.len()
        && old
            .iter()
            .zip(new)
            .all(|(a, b)| a.pointer() == b.pointer() && a.image() == b.image())
}

/// Which admitted images the mutating answer pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// None (the validating webhook, or `pinDigests: none`).
    Nothing,
    /// Every admitted image named by tag, except those at these JSON pointers (images an
    /// UPDATE left as they were).
    Except(HashSet<String>),
}

/// The response for `decisions`: refused if one image is; warnings; the pinning patch.
pub fn respond(
    uid: &str,
    decisions: &[ImageDecision],
    decider: &Decider,
    pin: &Pin,
) -> AdmissionResponse {
    let mode = decider.failure_mode();
    let mut refused = Vec::new();
    let mut warnings = Vec::new();
    let mut patch = Vec::new();
    for decision in decisions {
        let site = decision.site();
        match decision.disposition(mode) {
            Disposition::Deny(why) => {
                refused.push(format!(
                    "{} {:?}{}: {why}",
                    site.path(),
                    site.image(),
                    digest_note(decision)
                ));
                continue;
            }
            Disposition::Warn(why) => warnings.push(format!("signet: {}: {why}", site.path())),
            Disposition::Allow => {}
        }
        if let Pin::Except(unchanged) = pin
            && !unchanged.contains(site.pointer())
            && !decision.unverified()
            && let Some(pinned) = pinned_image(decision)
        {
            patch.push(PatchOp {
                op: "replace",
                path: site.pointer().to_owned(),
                value: pinned,
            });
        }
    }
    if !refused.is_empty() {
        let mut response = refusal(
            uid,
            format!(
                "signet refused {} of {} image(s): {}",
                refused.len(),
                decisions.len(),
                refused.join("; ")
            ),
        );
        response.warnings = bound_warnings(warnings);
        return response;
    }
    let mut response = AdmissionResponse::allow(uid);
    response.warnings = bound_warnings(warnings);
    if !patch.is_empty() {
        // Serialising strings cannot fail.
        let json = serde_json::to_vec(&patch).unwrap_or_default();
        response.patch = Some(base64::engine::general_purpose::STANDARD.encode(json));
        response.patch_type = Some("JSONPatch");
    }
    response
}

/// ` (sha256:…)` when the image was resolved to a digest it did not name.
fn digest_note(decision: &ImageDecision) -> String {
    match decision.digest() {
        Some(digest) if !decision.site().image().contains('@') => format!(" ({digest})"),
        _ => String::new(),
    }
}

/// The image as written with the verified digest added, when it named none.
pub fn pinned_image(decision: &ImageDecision) -> Option<String> {
    let image = decision.site().image();
    let digest = decision.digest()?;
    (!image.contains('@')).then(|| format!("{image}@{digest}"))
}

#[derive(Debug, Serialize)]
struct PatchOp {
    op: &'static str,
    path: String,
    value: String,
}

/// A refusal with `message` (bounded).
fn refusal(uid: &str, message: String) -> AdmissionResponse {
    AdmissionResponse {
        uid: uid.to_owned(),
        allowed: false,
        status: Some(Status {
            code: 403,
            message: truncate(message, MAX_MESSAGE_BYTES),
            reason: "Forbidden",
        }),
        patch: None,
        patch_type: None,
        warnings: Vec::new(),
    }
}

/// Each warning cut to [`MAX_WARNING_CHARS`] characters, and no more than
/// [`MAX_WARNINGS_BYTES`] in all; what does not fit is counted in a last warning.
pub fn bound_warnings(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = 0;
    // Room for the "N more" line.
    let reserve = MAX_WARNING_CHARS;
    for warning in warnings {
        let warning = truncate_chars(warning, MAX_WARNING_CHARS);
        if bytes + warning.len() > MAX_WARNINGS_BYTES - reserve {
            break;
        }
        bytes += warning.len();
        kept.push(warning);
    }
    if kept.len() < total {
        kept.push(format!(
            "signet: {} more warning(s) in the server's log",
            total - kept.len()
        ));
    }
    kept
}

fn truncate_chars(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn truncate(mut text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes - "… (cut)".len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("… (cut)");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_stay_within_the_api_limits() {
        let long = "x".repeat(500);
        let warnings: Vec<String> = (0..100).map(|i| format!("signet: {i}: {long}")).collect();
        let bounded = bound_warnings(warnings);
        assert!(
            bounded
                .iter()
                .all(|w| w.chars().count() <= MAX_WARNING_CHARS)
        );
        let total: usize = bounded.iter().map(String::len).sum();
        assert!(total <= MAX_WARNINGS_BYTES, "{total}");
        let last = bounded.last().map(String::as_str).unwrap_or_default();
        assert!(last.contains("more warning(s)"), "{last}");
        // A short list is kept whole.
        assert_eq!(bound_warnings(vec!["a".into(), "b".into()]), ["a", "b"]);
    }

    #[test]
    fn messages_are_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = truncate(text, MAX_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with("… (cut)"));
    }
}
