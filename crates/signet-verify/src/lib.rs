//! Checking Cosign signatures on images and files, with verdicts an admission tool can embed.
//!
//! Verification runs in two steps. [`ImageVerifier::gather`] does the I/O: it resolves the
//! image to a digest, reads Cosign's signature manifest and each signature's payload (bounded by
//! the client's limits). [`judge`] is pure and synchronous: given that evidence, a key and the
//! required annotations, it decides each signature, with no clock and no network, so policies
//! can be tested offline against stored evidence.
//!
//! The verdict, [`ImageReport`], lists the signatures that passed every check — each a
//! [`VerifiedSignature`], which only this crate can construct — and, for every other signature,
//! the first check it failed. Operational failures (registry unreachable, store corrupt) are
//! [`Error`]s, kept apart from "denied".
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_core::keys::PublicKey;
//! use signet_oci::{ClientOptions, OciClient};
//! use signet_verify::{ImageVerifier, KeyVerifier, TlogPolicy};
//!
//! let key = KeyVerifier::new(PublicKey::parse(&std::fs::read("cosign.pub")?)?);
//! let client = OciClient::new(ClientOptions::default());
//! let verifier = ImageVerifier::new(&client, &key).with_tlog(TlogPolicy::InsecureIgnore);
//! let report = verifier.verify(&"oci:./layout:latest".parse()?).await?;
//! assert!(report.is_verified(), "{}", report.summary());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attestation;
mod blob;
pub mod bundle;
mod error;
mod gather;
mod image;
mod judge;
mod key;
pub mod platform;
pub mod policy;
mod referrers;

pub use attestation::{
    AttestationAuthority, AttestationFailure, AttestationOptions, AttestationReport,
    AttestationVerifier, RejectedAttestation, Retained, VerifiedAttestation, judge_attestations,
    judge_attestations_with, verify_blob_attestation,
};
pub use blob::{BlobFailure, decode_signature_file, verify_blob};
pub use error::Error;
pub use gather::{AttachmentEvidence, LayerEvidence, gather_attachments};
pub use image::ImageVerifier;
pub use judge::{
    CheckOptions, ImageReport, RejectedSignature, SignatureAuthority, SignatureFailure, TlogPolicy,
    VerifiedSignature, judge, judge_with,
};
pub use key::KeyVerifier;
pub use referrers::{
    BUNDLE_ARTIFACT_TYPE, BundlePurpose, COSIGN_SIGN_PREDICATE_TYPE, PREDICATE_TYPE_ANNOTATION,
    ReferrerBundle, ReferrerEvidence, ReferrerFailure, ReferrerReport, ReferrersSource,
    RejectedReferrer, VerifiedReferrer, gather_referrer_bundles, judge_referrer_bundles,
};
