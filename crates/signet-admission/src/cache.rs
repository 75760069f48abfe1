//! Verdicts kept between requests, and verifications shared between concurrent requests.
//!
//! The cache key is what a verdict depends on and nothing else: the repository (policies
//! match repositories, and signatures live next to the image), the manifest digest, the
//! policy's revision and the trusted root's revision. Never a tag instead of the digest: a tag
//! that moves reaches a different key, so a verdict about the old content cannot admit the new
//! (GHSA-2r43-6962-xcw5 was a verdict cache keyed by tag). A tag is part of the key *beside*
//! the digest only where the policy reads an index through it (`indexSignature: accept`: a
//! platform manifest passes through the signed index its tag names), because there the verdict
//! about `repo:v1@sha256:…` and `repo@sha256:…` differ. Allowed and denied verdicts are
//! kept for different times (a newly signed image should not stay denied for long); a verdict
//! that could not be reached is never kept. The cache is bounded: when full, the oldest entry
//! goes.
//!
//! [`Flights`] makes concurrent requests for the same uncached key share one verification:
//! the first starts it as a task of its own (so it finishes, and fills the cache, even when
//! every request that wanted it has given up at its deadline); the others wait for the same
//! result.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use signet_core::digest::Digest;
use signet_policy::report::{Decision, ImageVerdict};
use signet_policy::sources::PolicyRevision;

/// What a cached verdict depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerdictKey {
    repository: String,
    digest: Digest,
    policy: PolicyRevision,
    trust_root: Option<PolicyRevision>,
    index_tag: Option<String>,
}

impl VerdictKey {
    /// The key of `digest` in `repository` under these revisions.
    pub fn new(
        repository: String,
        digest: Digest,
        policy: PolicyRevision,
        trust_root: Option<PolicyRevision>,
    ) -> Self {
        Self {
            repository,
            digest,
            policy,
            trust_root,
            index_tag: None,
        }
    }

    /// The key for a policy that finds an index through the reference's tag: `tag` (none for
    /// an image named by digest alone) is part of it.
    pub fn with_index_tag(mut self, tag: Option<&str>) -> Self {
        self.index_tag = tag.map(str::to_owned);
        self
    }

    /// The digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }
}

/// How many verdicts are kept, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    /// Most verdicts kept.
    pub capacity: usize,
    /// How long an allowed (or warned) verdict is kept.
    pub allow_ttl: Duration,
    /// How long a denied verdict is kept.
    pub deny_ttl: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            allow_ttl: Duration::from_secs(300),
            deny_ttl: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
struct Entry {
    verdict: Arc<ImageVerdict>,
    expires: Instant,
    /// The insertion this entry came from, to tell live queue entries from replaced ones.
    serial: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<VerdictKey, Entry>,
    /// Keys in insertion order, with the serial they were inserted under.
    order: VecDeque<(VerdictKey, u64)>,
    serial: u64,
}

/// Verdicts by [`VerdictKey`], bounded in number and age.
#[derive(Debug)]
pub struct VerdictCache {
    inner: Mutex<Inner>,
    limits: CacheLimits,
}

impl VerdictCache {
    /// An empty cache.
    pub fn new(limits: CacheLimits) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            limits,
        }
    }

    /// The verdict for `key`, if one is kept and not expired.
    pub fn get(&self, key: &VerdictKey) -> Option<Arc<ImageVerdict>> {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(entry) if entry.expires > Instant::now() => Some(Arc::clone(&entry.verdict)),
            Some(_) => {
                inner.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `verdict` under `key` — unless it is undecided, which is never kept. Returns how
    /// many other verdicts were evicted to make room.
    pub fn insert(&self, key: VerdictKey, verdict: Arc<ImageVerdict>) -> u64 {
        let ttl = match verdict.decision() {
            Decision::Allow | Decision::Warn => self.limits.allow_ttl,
            Decision::Deny => self.limits.deny_ttl,
            Decision::Undecided => return 0,
        };
        if self.limits.capacity == 0 || ttl.is_zero() {
            return 0;
        }
        let mut inner = self.lock();
        let now = Instant::now();
        let mut evicted = 0;
        while inner.entries.len() >= self.limits.capacity && !inner.entries.contains_key(&key) {
            let Some((oldest, serial)) = inner.order.pop_front() else {
                break;
            };
            if inner
                .entries
                .get(&oldest)
                .is_some_and(|e| e.serial == serial)
            {
                let expired = inner
                    .entries
                    .remove(&oldest)
                    .is_some_and(|e| e.expires <= now);
                if !expired {
                    evicted += 1;
                }
            }
        }
        inner.serial += 1;
        let serial = inner.serial;
        inner.order.push_back((key.clone(), serial));
        inner.entries.insert(
            key,
            Entry {
                verdict,
                expires: now + ttl,
                serial,
            },
        );
        // Replaced and expired entries leave stale keys in the queue: drop them before the
        // queue outgrows the map by much.
        if inner.order.len() > 2 * self.limits.capacity.max(16) {
            let Inner { entries, order, .. } = &mut *inner;
            order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.serial == *s));
        }
        evicted
    }

    /// How many verdicts are kept (expired ones included until they are looked at or pushed
    /// out).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Work in progress by key: the first caller for a key starts it, later callers join it.
pub(crate) struct Flights<K, V: Clone> {
    running: Mutex<HashMap<K, Shared<BoxFuture<'static, V>>>>,
}

impl<K, V: Clone> std::fmt::Debug for Flights<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flights").finish_non_exhaustive()
    }
}

impl<K, V> Flights<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        Self {
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The result of the work for `key`: joined if running; else `ready()` if that has it
    /// now (looked at under the same lock, so work that just finished is not started again);
    /// else `start()` spawned as a task, which `on_panic` stands in for if it panics.
    pub(crate) fn run(
        self: &Arc<Self>,
        key: K,
        ready: impl FnOnce() -> Option<V>,
        start: impl FnOnce() -> BoxFuture<'static, V>,
        on_panic: fn() -> V,
    ) -> BoxFuture<'static, V> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = running.get(&key) {
            return flight.clone().boxed();
        }
        if let Some(value) = ready() {
            return futures_util::future::ready(value).boxed();
        }
        let work = start();
        let flights = Arc::clone(self);
        let done_key = key.clone();
        let task = tokio::spawn(async move {
            let value = work.await;
            flights
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&done_key);
            value
        });
        let flight = async move { task.await.unwrap_or_else(|_| on_panic()) }
            .boxed()
            .shared();
        running.insert(key, flight.clone());
        flight.boxed()
    }

    /// How many are running.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A verdict of a policy that covers `r.example/covered/**` (requiring a signature by a
    /// key) and applies `no_match` elsewhere, for `image`, judged without evidence: allowed or
    /// denied by `noMatch`, or undecided when the policy covers the image.
    pub(crate) fn verdict(no_match: &str, image: &str) -> Arc<ImageVerdict> {
        let text = format!(
            "apiVersion: signet.dev/v1\nkind: TrustPolicy\nnoMatch: {no_match}\nauthorities:\n  k: {{ key: {{ data: \"{KEY}\" }}, transparencyLog: ignore }}\npolicies:\n  - name: covered\n    images: [\"r.example/covered/**\"]\n    signatures: {{ authorities: [k] }}\n"
        );
        let policy = signet_policy::model::TrustPolicy::parse(&text, &|_| {
            Err(std::io::Error::other("no files"))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let image = image.parse().unwrap_or_else(|e| panic!("{e}"));
        Arc::new(signet_policy::evaluate::judge_policy(
            &policy, &image, None, 0,
        ))
    }

    const KEY: &str = "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfsVtQyN13Z9SfC+D98aJX05mSY8K\\ncR++wHQCZ05+HsDcHqg/kmqpmfzTo7dP4XLyJiOqS4l1R80zy+/bDMnbSA==\\n-----END PUBLIC KEY-----\\n";

    fn limits(capacity: usize, allow_ttl: Duration, deny_ttl: Duration) -> CacheLimits {
        CacheLimits {
            capacity,
            allow_ttl,
            deny_ttl,
        }
    }

    #[test]
    fn undecided_verdicts_are_never_kept_and_denials_follow_their_own_ttl() {
        let cache = VerdictCache::new(limits(10, Duration::from_secs(60), Duration::ZERO));
        let undecided = verdict("deny", "r.example/covered/app:1");
        assert_eq!(undecided.decision(), Decision::Undecided);
        cache.insert(key(1), undecided);
        assert!(cache.get(&key(1)).is_none());
        // A zero denial lifetime keeps no denial.
        cache.insert(key(2), verdict("deny", "r.example/other:1"));
        assert!(cache.get(&key(2)).is_none());
        cache.insert(key(3), verdict("allow", "r.example/other:1"));
        assert_eq!(
            cache.get(&key(3)).map(|v| v.decision()),
            Some(Decision::Allow)
        );
    }

    #[test]
    fn entries_expire() {
        let cache = VerdictCache::new(limits(
            10,
            Duration::from_millis(1),
            Duration::from_millis(1),
        ));
        cache.insert(key(1), verdict("allow", "r.example/other:1"));
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            cache.get(&key(1)).is_none(),
            "an expired verdict is not served"
        );
        assert!(cache.is_empty(), "and is dropped when looked at");
    }

    #[test]
    fn a_full_cache_drops_the_oldest() {
        let cache = VerdictCache::new(limits(2, Duration::from_secs(60), Duration::from_secs(60)));
        let allow = verdict("allow", "r.example/other:1");
        assert_eq!(cache.insert(key(1), Arc::clone(&allow)), 0);
        assert_eq!(cache.insert(key(2), Arc::clone(&allow)), 0);
        // Replacing a kept key evicts nothing.
        assert_eq!(cache.insert(key(2), Arc::clone(&allow)), 0);
        assert_eq!(cache.insert(key(3), Arc::clone(&allow)), 1);
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.get(&key(2)).is_some() && cache.get(&key(3)).is_some());
        assert_eq!(cache.len(), 2);
    }

    fn key(n: u8) -> VerdictKey {
        VerdictKey::new(
            "r.example/app".to_owned(),
            Digest::sha256_of(&[n]),
            PolicyRevision::of_bytes(b"policy"),
            None,
        )
    }

    #[test]
    fn a_different_policy_or_trust_root_revision_is_a_different_key() {
        let base = key(1);
        let other_policy = VerdictKey::new(
            "r.example/app".to_owned(),
            Digest::sha256_of(&[1]),
            PolicyRevision::of_bytes(b"policy v2"),
            None,
        );
        let other_root = VerdictKey::new(
            "r.example/app".to_owned(),
            Digest::sha256_of(&[1]),
            PolicyRevision::of_bytes(b"policy"),
            Some(PolicyRevision::of_bytes(b"root")),
        );
        assert_ne!(base, other_policy);
        assert_ne!(base, other_root);
    }

    #[test]
    fn a_tag_the_index_is_read_through_is_part_of_the_key_beside_the_digest() {
        let by_digest = key(1);
        let through_v1 = key(1).with_index_tag(Some("v1"));
        let through_v2 = key(1).with_index_tag(Some("v2"));
        assert_ne!(by_digest, through_v1);
        assert_ne!(through_v1, through_v2);
        assert_eq!(key(1).with_index_tag(None), by_digest);
        // The digest still decides: the same tag on other content is another key.
        assert_ne!(key(2).with_index_tag(Some("v1")), through_v1);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let flights: Arc<Flights<u8, u32>> = Arc::new(Flights::new());
        let started = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let wait = wait.shared();
        let mut joins = Vec::new();
        for _ in 0..10 {
            let started = Arc::clone(&started);
            let wait = wait.clone();
            let flight = flights.run(
                7,
                || None,
                move || {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move {
                        let _ = wait.await;
                        42
                    }
                    .boxed()
                },
                || 0,
            );
            joins.push(flight);
        }
        assert_eq!(flights.len(), 1);
        let _ = release.send(());
        for flight in joins {
            assert_eq!(flight.await, 42);
        }
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Finished work leaves the map.
        tokio::task::yield_now().await;
        assert_eq!(flights.len(), 0);
    }
}
