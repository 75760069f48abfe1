//! The server's metrics, in the Prometheus (OpenMetrics) text format.
//!
//! Every label value is a `&'static str` from a fixed set — the kind, the operation, the
//! decision, the endpoint — so no image, namespace or user name can become a label and blow
//! up a time-series database.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of an admission request: `[("endpoint", …), ("kind", …), ("operation", …),
/// ("decision", …)]`.
type RequestLabels = [(&'static str, &'static str); 4];

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    decision_seconds: Histogram,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_evictions: Counter,
    registry_errors: Counter,
    registry_requests: Counter,
    registry_requests_seen: AtomicU64,
    policy_reloads: Family<[(&'static str, &'static str); 1], Counter>,
    tls_reloads: Family<[(&'static str, &'static str); 1], Counter>,
    verifications_in_flight: Gauge,
    verifications: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `signet_admission` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("signet_admission");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Admission requests answered, by endpoint, kind, operation and decision",
            requests.clone(),
        );
        // 100 µs to about 26 s: a warm-cache decision is well under a millisecond, a cold
        // one as slow as the registry.
        let decision_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 19));
        registry.register(
            "decision_seconds",
            "Time from a parsed request to its decision, in seconds",
            decision_seconds.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "cache_hits",
            "Verdicts served from the cache",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "cache_misses",
            "Verdicts not in the cache (a verification ran or was joined)",
            cache_misses.clone(),
        );
        let cache_evictions = Counter::default();
        registry.register(
            "cache_evictions",
            "Verdicts dropped from the full cache before their time",
            cache_evictions.clone(),
        );
        let registry_errors = Counter::default();
        registry.register(
            "registry_errors",
            "Images that could not be verified: the registry failed, hung or timed out",
            registry_errors.clone(),
        );
        let registry_requests = Counter::default();
        registry.register(
            "registry_requests",
            "HTTP requests made to registries",
            registry_requests.clone(),
        );
        let policy_reloads = Family::default();
        registry.register(
            "policy_reloads",
            "Policy reloads after its files changed, by result (a failed one keeps the old policy)",
            policy_reloads.clone(),
        );
        let tls_reloads = Family::default();
        registry.register(
            "tls_reloads",
            "TLS certificate reloads after their files changed, by result",
            tls_reloads.clone(),
        );
        let verifications_in_flight = Gauge::default();
        registry.register(
            "verifications_in_flight",
            "Verifications running now (each shared by every request waiting for it)",
            verifications_in_flight.clone(),
        );
        let verifications = Counter::default();
        registry.register(
            "verifications",
            "Verifications started (concurrent requests for one digest share one)",
            verifications.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            requests,
            decision_seconds,
            cache_hits,
            cache_misses,
            cache_evictions,
            registry_errors,
            registry_requests,
            registry_requests_seen: AtomicU64::new(0),
            policy_reloads,
            tls_reloads,
            verifications_in_flight,
            verifications,
        }
    }

    /// Counts an answered request.
    pub fn request(
        &self,
        endpoint: &'static str,
        kind: &'static str,
        operation: &'static str,
        decision: &'static str,
    ) {
        self.requests
            .get_or_create(&[
                ("endpoint", endpoint),
                ("kind", kind),
                ("operation", operation),
                ("decision", decision),
            ])
            .inc();
    }

    /// Records how long a decision took.
    pub fn decision_time(&self, elapsed: std::time::Duration) {
        self.decision_seconds.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    pub(crate) fn cache_evicted(&self, n: u64) {
        self.cache_evictions.inc_by(n);
    }

    pub(crate) fn registry_error(&self) {
        self.registry_errors.inc();
    }

    pub(crate) fn verification_started(&self) {
        self.verifications.inc();
        self.verifications_in_flight.inc();
    }

    pub(crate) fn verification_finished(&self) {
        self.verifications_in_flight.dec();
    }

    /// Counts a policy reload: `ok` or `failed`.
    pub fn policy_reload(&self, ok: bool) {
        self.policy_reloads
            .get_or_create(&[("result", if ok { "ok" } else { "failed" })])
            .inc();
    }

    /// Counts a TLS reload: `ok` or `failed`.
    pub fn tls_reload(&self, ok: bool) {
        self.tls_reloads
            .get_or_create(&[("result", if ok { "ok" } else { "failed" })])
            .inc();
    }

    /// The exposition, with the registry request counter brought up to `registry_requests`
    /// (the client's running total).
    pub fn encode(&self, registry_requests: u64) -> String {
        let seen = self
            .registry_requests_seen
            .swap(registry_requests, Ordering::Relaxed);
        self.registry_requests
            .inc_by(registry_requests.saturating_sub(seen));
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_and_labels() {
        let metrics = Metrics::new();
        metrics.request("validate", "Pod", "CREATE", "deny");
        metrics.cache_hit();
        metrics.policy_reload(false);
        let text = metrics.encode(7);
        assert!(
            text.contains(
                "signet_admission_requests_total{endpoint=\"validate\",kind=\"Pod\",operation=\"CREATE\",decision=\"deny\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("signet_admission_cache_hits_total 1"),
            "{text}"
        );
        assert!(
            text.contains("signet_admission_registry_requests_total 7"),
            "{text}"
        );
        assert!(
            text.contains("signet_admission_policy_reloads_total{result=\"failed\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        // The counter follows the client's total, it does not add it again.
        assert!(
            metrics
                .encode(9)
                .contains("signet_admission_registry_requests_total 9")
        );
    }
}
