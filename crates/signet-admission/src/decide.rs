//! One decision path for every front door: image sites in, one decision per site out, within
//! a deadline.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use signet_core::digest::Digest;
use signet_core::reference::{ImageReference, RegistryReference};
use signet_oci::OciClient;
use signet_policy::report::{Decision, ImageVerdict, Mode};
use signet_verify::Verifier;

use crate::cache::{CacheLimits, Flights, VerdictCache, VerdictKey};
use crate::metrics::Metrics;
use crate::policy::LoadedPolicy;
use crate::workload::ImageSite;
pub(crate) use signet_core::error_text::error_chain;

/// What happens to an image that could not be verified (registry down or slow, deadline
/// reached, evidence unreadable). Never a silent allow: open admits it with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Deny, saying it could not be verified (the default).
    #[default]
    Closed,
    /// Admit, with a warning saying it could not be verified.
    Open,
}

/// How decisions are made: failure mode, cache limits, how long one verification may run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecisionOptions {
    /// What an image that could not be verified gets.
    pub failure_mode: FailureMode,
    /// The verdict cache's size and lifetimes.
    pub cache: CacheLimits,
    /// The longest one verification (or tag resolution) runs in the background after the
    /// requests that wanted it gave up; past it, it counts as failed and is not cached.
    pub verify_timeout: Duration,
}

impl Default for DecisionOptions {
    fn default() -> Self {
        Self {
            failure_mode: FailureMode::Closed,
            cache: CacheLimits::default(),
            verify_timeout: Duration::from_secs(60),
        }
    }
}

/// What was found out about one image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ImageOutcome {
    /// The policy's verdict about the digest (which may itself be undecided: evidence that
    /// could not be read).
    Verdict(Arc<ImageVerdict>),
    /// The image could not be verified: its tag could not be resolved, or its verification
    /// failed to finish.
    Unverifiable(String),
    /// The deadline came first.
    DeadlineExceeded,
    /// Not something signet admits at all (not a registry image reference): denied whatever
    /// the failure mode.
    Refused(String),
}

/// What the gate does with one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Admitted.
    Allow,
    /// Admitted, with a warning (a `warn` policy failed, or it could not be verified under
    /// [`FailureMode::Open`]).
    Warn(String),
    /// Refused, and why.
    Deny(String),
}

/// The decision about one image site.
#[derive(Debug, Clone)]
pub struct ImageDecision {
    site: ImageSite,
    digest: Option<Digest>,
    outcome: ImageOutcome,
    cached: bool,
}

impl ImageDecision {
    /// Where the image is.
    pub fn site(&self) -> &ImageSite {
        &self.site
    }

    /// The digest that was verified (the one to pin), when the tag was resolved.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What was found out.
    pub fn outcome(&self) -> &ImageOutcome {
        &self.outcome
    }

    /// Whether the verdict came from the cache.
    pub fn cached(&self) -> bool {
        self.cached
    }

    /// Whether it could not be verified (and the failure mode decides).
    pub fn unverified(&self) -> bool {
        match &self.outcome {
            ImageOutcome::Verdict(v) => v.decision() == Decision::Undecided,
            ImageOutcome::Unverifiable(_) | ImageOutcome::DeadlineExceeded => true,
            ImageOutcome::Refused(_) => false,
        }
    }

    /// What the gate does with the image under `failure_mode`.
    pub fn disposition(&self, failure_mode: FailureMode) -> Disposition {
        let could_not = |why: String| match failure_mode {
            FailureMode::Closed => Disposition::Deny(format!("could not be verified: {why}")),
            FailureMode::Open => Disposition::Warn(format!(
                "could not be verified, admitted because the failure mode is open: {why}"
            )),
        };
        match &self.outcome {
            ImageOutcome::Verdict(verdict) => match verdict.decision() {
                Decision::Allow => Disposition::Allow,
                Decision::Warn => Disposition::Warn(failures(verdict, Mode::Warn)),
                Decision::Deny => Disposition::Deny(failures(verdict, Mode::Enforce)),
                Decision::Undecided => could_not(
                    verdict
                        .note()
                        .unwrap_or("the evidence could not be read")
                        .to_owned(),
                ),
            },
            ImageOutcome::Unverifiable(why) => could_not(why.clone()),
            ImageOutcome::DeadlineExceeded => {
                could_not("no answer before the request's deadline".to_owned())
            }
            ImageOutcome::Refused(why) => Disposition::Deny(why.clone()),
        }
    }

    /// Failed `audit` policies: admitted, and only logged.
    pub fn audit_findings(&self) -> Option<String> {
        match &self.outcome {
            ImageOutcome::Verdict(v)
                if v.matched_policies()
                    .iter()
                    .any(|p| !p.passed() && p.mode() == Mode::Audit) =>
            {
                Some(failures(v, Mode::Audit))
            }
            _ => None,
        }
    }
}

/// The failed requirements of the `mode` policies, one clause each (or the verdict's note
/// when no policy matched).
fn failures(verdict: &ImageVerdict, mode: Mode) -> String {
    let mut clauses = Vec::new();
    for policy in verdict
        .matched_policies()
        .iter()
        .filter(|p| !p.passed() && p.mode() == mode)
    {
        for requirement in policy.requirements().iter().filter(|r| !r.passed()) {
            clauses.push(format!(
                "policy {:?}: {}: {}",
                policy.name(),
                requirement.requirement(),
                requirement.reason()
            ));
        }
    }
    if clauses.is_empty() {
        verdict.note().unwrap_or("denied by the policy").to_owned()
    } else {
        clauses.join("; ")
    }
}

type VerdictResult = Result<Arc<ImageVerdict>, Arc<str>>;
type ResolveResult = Result<Digest, Arc<str>>;

/// The decision service: one policy in force (replaced whole on reload), one registry client,
/// one verdict cache, shared verifications.
#[derive(Debug)]
pub struct Decider {
    client: Arc<OciClient>,
    policy: RwLock<Arc<LoadedPolicy>>,
    cache: Arc<VerdictCache>,
    verdicts: Arc<Flights<VerdictKey, VerdictResult>>,
    resolutions: Arc<Flights<String, ResolveResult>>,
    options: DecisionOptions,
    metrics: Option<Arc<Metrics>>,
}

impl Decider {
    /// A decider enforcing `policy`, reading registries through `client`.
    pub fn new(client: Arc<OciClient>, policy: LoadedPolicy, options: DecisionOptions) -> Self {
        Self {
            client,
            policy: RwLock::new(Arc::new(policy)),
            cache: Arc::new(VerdictCache::new(options.cache)),
            verdicts: Arc::new(Flights::new()),
            resolutions: Arc::new(Flights::new()),
            options,
            metrics: None,
        }
    }

    /// Counts cache hits, misses and registry errors in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<LoadedPolicy> {
        Arc::clone(
            &self
                .policy
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Puts `policy` in force. Verdicts of the old revision are no longer looked up (they age
    /// out of the cache).
    pub fn replace_policy(&self, policy: LoadedPolicy) {
        *self
            .policy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(policy);
    }

    /// The failure mode.
    pub fn failure_mode(&self) -> FailureMode {
        self.options.failure_mode
    }

    /// The registry client (its request count, for metrics).
    pub fn client(&self) -> &OciClient {
        &self.client
    }

    /// The verdict cache.
    pub fn cache(&self) -> &VerdictCache {
        &self.cache
    }

    /// Decides every site, concurrently, in the order given; each decision is in by
    /// `deadline` (an image still being verified then is
    /// [`ImageOutcome::DeadlineExceeded`], and its verification goes on to fill the cache).
    pub async fn decide(&self, sites: &[ImageSite], deadline: Instant) -> Vec<ImageDecision> {
        let policy = self.policy();
        futures_util::future::join_all(
            sites
                .iter()
                .map(|site| self.decide_one(site, Arc::clone(&policy), deadline)),
        )
        .await
    }

    async fn decide_one(
        &self,
        site: &ImageSite,
        policy: Arc<LoadedPolicy>,
        deadline: Instant,
    ) -> ImageDecision {
        let decision =
            |digest: Option<Digest>, outcome: ImageOutcome, cached: bool| ImageDecision {
                site: site.clone(),
                digest,
                outcome,
                cached,
            };
        let reference = match site.image().parse::<ImageReference>() {
            Ok(ImageReference::Registry(reference)) => reference,
            Ok(ImageReference::Layout(_)) => {
                return decision(
                    None,
                    ImageOutcome::Refused(
                        "an OCI layout path is not an image a node can pull".to_owned(),
                    ),
                    false,
                );
            }
            Err(error) => {
                return decision(
                    None,
                    ImageOutcome::Refused(format!("not an image reference: {error}")),
                    false,
                );
            }
        };
        let digest = match reference.digest() {
            Some(digest) => digest.clone(),
            None => {
                match tokio::time::timeout_at(deadline.into(), self.resolve(&reference)).await {
                    Ok(Ok(digest)) => digest,
                    Ok(Err(why)) => {
                        self.count_registry_error();
                        return decision(None, ImageOutcome::Unverifiable(why.to_string()), false);
                    }
                    Err(_) => {
                        self.count_registry_error();
                        return decision(None, ImageOutcome::DeadlineExceeded, false);
                    }
                }
            }
        };
        let repository = reference.repository().name();
        let index_tag = policy
            .policy()
            .reads_index_through_tag(&repository)
            .then(|| reference.tag())
            .flatten();
        let key = VerdictKey::new(
            repository,
            digest.clone(),
            policy.revision().clone(),
            policy.trust_root_revision().cloned(),
        )
        .with_index_tag(index_tag);
        if let Some(verdict) = self.cache.get(&key) {
            if let Some(m) = &self.metrics {
                m.cache_hit();
            }
            let verdict = as_written(&policy, verdict, &reference);
            return decision(Some(digest), ImageOutcome::Verdict(verdict), true);
        }
        if let Some(m) = &self.metrics {
            m.cache_miss();
        }
        let pinned = pinned(&reference, &digest);
        let written_policy = Arc::clone(&policy);
        let cache = Arc::clone(&self.cache);
        let flight = self.verdicts.run(
            key.clone(),
            || cache.get(&key).map(Ok),
            || self.verify(key.clone(), pinned, policy),
            || Err(Arc::from("the verification failed unexpectedly")),
        );
        match tokio::time::timeout_at(deadline.into(), flight).await {
            Ok(Ok(verdict)) => {
                if verdict.decision() == Decision::Undecided {
                    self.count_registry_error();
                }
                let verdict = as_written(&written_policy, verdict, &reference);
                decision(Some(digest), ImageOutcome::Verdict(verdict), false)
            }
            Ok(Err(why)) => {
                self.count_registry_error();
                decision(
                    Some(digest),
                    ImageOutcome::Unverifiable(why.to_string()),
                    false,
                )
            }
            Err(_) => {
                self.count_registry_error();
                decision(Some(digest), ImageOutcome::DeadlineExceeded, false)
            }
        }
    }

    /// The digest a tag names now: one manifest read, shared by concurrent requests for the
    /// same reference, never cached (a tag moves).
    async fn resolve(&self, reference: &RegistryReference) -> ResolveResult {
        let client = Arc::clone(&self.client);
        let image = ImageReference::Registry(reference.clone());
        let limit = self.options.verify_timeout;
        let flight = self.resolutions.run(
            reference.to_string(),
            || None,
            move || {
                async move {
                    match tokio::time::timeout(limit, Verifier::new(&client).resolve(&image)).await
                    {
                        Ok(Ok(digest)) => Ok(digest),
                        Ok(Err(error)) => Err(Arc::from(error_chain(&error))),
                        Err(_) => Err(Arc::from(format!(
                            "resolving the tag took longer than {limit:?}"
                        ))),
                    }
                }
                .boxed()
            },
            || Err(Arc::from("resolving the tag failed unexpectedly")),
        );
        flight.await
    }

    /// The verification of one digest under `policy`, as a task-ready future that fills the
    /// cache with a definite verdict.
    fn verify(
        &self,
        key: VerdictKey,
        pinned: ImageReference,
        policy: Arc<LoadedPolicy>,
    ) -> futures_util::future::BoxFuture<'static, VerdictResult> {
        let client = Arc::clone(&self.client);
        let cache = Arc::clone(&self.cache);
        let metrics = self.metrics.clone();
        let limit = self.options.verify_timeout;
        async move {
            if let Some(m) = &metrics {
                m.verification_started();
            }
            let evaluation = policy.policy().evaluate_image(&client, &pinned, now_unix());
            let result = match tokio::time::timeout(limit, evaluation).await {
                Ok(verdict) => Ok(Arc::new(verdict)),
                Err(_) => Err(Arc::from(format!(
                    "the verification took longer than {limit:?}"
                ))),
            };
            if let Ok(verdict) = &result {
                let evicted = cache.insert(key, Arc::clone(verdict));
                if let Some(m) = &metrics {
                    m.cache_evicted(evicted);
                }
            }
            if let Some(m) = &metrics {
                m.verification_finished();
            }
            result
        }
        .boxed()
    }

    fn count_registry_error(&self) {
        if let Some(m) = &self.metrics {
            m.registry_error();
        }
    }
}

/// A verdict judged on the pinned reference (and cached for every way of naming the digest),
/// with the policy's rules on how the image was referenced judged on the reference the
/// request wrote: a pod naming `app:v1` is not "referenced by digest" because the server
/// verified `app:v1@sha256:…`.
fn as_written(
    policy: &LoadedPolicy,
    verdict: Arc<ImageVerdict>,
    reference: &RegistryReference,
) -> Arc<ImageVerdict> {
    match policy
        .policy()
        .with_reference_as_written(&verdict, &ImageReference::Registry(reference.clone()))
    {
        Some(rejudged) => Arc::new(rejudged),
        None => verdict,
    }
}

/// The reference verified for `reference` at `digest`: the digest decides what is read, the
/// tag is kept (a policy may read the index it names).
fn pinned(reference: &RegistryReference, digest: &Digest) -> ImageReference {
    let text = match reference.tag() {
        Some(tag) => format!("{}:{tag}@{digest}", reference.repository()),
        None => format!("{}@{digest}", reference.repository()),
    };
    text.parse()
        .unwrap_or_else(|_| ImageReference::Registry(reference.clone()).pinned(digest.clone()))
}

/// Seconds since the Unix epoch (0 for a clock before it).
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::verdict;

    fn decision(outcome: ImageOutcome) -> ImageDecision {
        ImageDecision {
            site: ImageSite::new(
                "/spec/containers/0/image",
                "spec.containers[0].image",
                "r.example/app:1",
            ),
            digest: None,
            outcome,
            cached: false,
        }
    }

    #[test]
    fn could_not_verify_is_never_a_silent_allow() {
        for outcome in [
            ImageOutcome::Unverifiable("GET …: connection refused".to_owned()),
            ImageOutcome::DeadlineExceeded,
            ImageOutcome::Verdict(verdict("deny", "r.example/covered/app:1")),
        ] {
            let d = decision(outcome);
            assert!(d.unverified());
            assert!(matches!(
                d.disposition(FailureMode::Closed),
                Disposition::Deny(why) if why.starts_with("could not be verified: ")
            ));
            assert!(matches!(
                d.disposition(FailureMode::Open),
                Disposition::Warn(why) if why.starts_with("could not be verified, admitted because the failure mode is open: ")
            ));
        }
    }

    #[test]
    fn refusals_and_policy_decisions_ignore_the_failure_mode() {
        let refused = decision(ImageOutcome::Refused(
            "an OCI layout path is not an image a node can pull".to_owned(),
        ));
        assert!(!refused.unverified());
        assert!(matches!(
            refused.disposition(FailureMode::Open),
            Disposition::Deny(_)
        ));
        let denied = decision(ImageOutcome::Verdict(verdict("deny", "r.example/other:1")));
        assert!(matches!(
            denied.disposition(FailureMode::Open),
            Disposition::Deny(why) if why.contains("no policy covers r.example/other")
        ));
        let allowed = decision(ImageOutcome::Verdict(verdict("allow", "r.example/other:1")));
        assert_eq!(allowed.disposition(FailureMode::Closed), Disposition::Allow);
        let warned = decision(ImageOutcome::Verdict(verdict("warn", "r.example/other:1")));
        assert!(matches!(
            warned.disposition(FailureMode::Closed),
            Disposition::Warn(_)
        ));
    }

    #[test]
    fn the_verified_reference_keeps_the_tag_and_names_the_digest() {
        let digest = Digest::sha256_of(b"manifest");
        let reference: RegistryReference = "nginx:1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            pinned(&reference, &digest).to_string(),
            format!("index.docker.io/library/nginx:1@{digest}")
        );
        let untagged: RegistryReference = "r.example/app".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            pinned(&untagged, &digest).to_string(),
            format!("r.example/app@{digest}")
        );
    }
}
