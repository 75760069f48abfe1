//! signet as a deploy gate: nothing runs unless its images pass the trust policy.
//!
//! Three front doors share one decision path. A Kubernetes API server sends
//! `AdmissionReview`s ([`review`]) for Pods and the pod templates of the workload kinds;
//! Gatekeeper sends external-data `ProviderRequest`s ([`gatekeeper`]); `signet verify -f`
//! reads manifests from files ([`manifests`]). Each turns its input into [`ImageSite`]s —
//! every image of every container list (`initContainers`, `containers`, `ephemeralContainers`)
//! and image volume, with the field path it came from ([`workload`]) — and hands them to one
//! [`Decider`]:
//!
//! 1. a tag is resolved to a digest once (one manifest read, shared by concurrent requests);
//! 2. the verdict is looked up by (repository, digest, policy revision, trust-root revision),
//!    never by tag ([`cache`]);
//! 3. on a miss, one verification of that digest runs (single flight: every concurrent
//!    request for it waits for the same one), with the policy of `signet verify --policy`;
//! 4. the answer comes back within the caller's deadline; past it, or when the registry
//!    cannot be read, the image "could not be verified" and the [`FailureMode`] decides.
//!
//! The mutating answer pins each tag to the digest that was verified, never to a second
//! resolution of the tag, so what runs is what was checked ([`respond`]). The HTTPS server
//! ([`server`]: rustls on aws-lc-rs, TLS 1.3, certificate reload, graceful shutdown,
//! `/healthz`, `/readyz`, `/metrics`) is a thin shell around these.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use signet_admission::{Decider, DecisionOptions, PolicySource};
//! use signet_oci::{ClientOptions, OciClient};
//!
//! let source = PolicySource::new("policy.yaml".into());
//! let decider = Decider::new(
//!     Arc::new(OciClient::new(ClientOptions::default())),
//!     source.load()?,
//!     DecisionOptions::default(),
//! );
//! let sites = signet_admission::workload::images_of_manifest(&serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod",
//!     "spec": { "containers": [{ "name": "app", "image": "registry.example/app:1" }] }
//! }))?;
//! let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
//! for decision in decider.decide(&sites, deadline).await {
//!     println!("{}: {:?}", decision.site().path(), decision.disposition(decider.failure_mode()));
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
mod decide;
mod error;
pub mod gatekeeper;
pub mod log;
pub mod manifests;
pub mod metrics;
mod policy;
pub mod respond;
pub mod review;
pub mod server;
pub mod workload;

pub use decide::{Decider, DecisionOptions, Disposition, FailureMode, ImageDecision, ImageOutcome};
pub use error::Error;
pub use policy::{LoadedPolicy, PolicySource};
pub use workload::ImageSite;
