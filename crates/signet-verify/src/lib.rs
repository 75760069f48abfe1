//! One artifact against one authority: signatures and attestations on images and files, in
//! every format signet reads, with verdicts an admission tool can embed.
//!
//! The entry point is one call per question. [`Verifier::check`] answers "is this image
//! signed by …" ([`Question::Signature`]) or "does it carry an attestation of type T by …"
//! ([`Question::Attestation`]) for an [`Authority`] — a key ([`KeyAuthority`]) or a keyless
//! identity ([`IdentityAuthority`]) — looking at every format that authority can have signed:
//! Cosign's legacy `.sig`/`.att` attachments and Cosign v3's Sigstore bundles attached as OCI
//! referrers. The answer, an [`ImageCheck`], is [`Verdict::Verified`], `Denied` (each rejected
//! entry with the check it failed) or `Undecided` (why the evidence could not be read) — never
//! a process exit code. [`check_file_attestation`] and [`bundle::BundleVerifier`] answer the
//! same questions for files.
//!
//! Each check runs in two steps an embedder can also call apart: [`Verifier::gather`] does the
//! I/O (resolves the image to a digest once, reads what the question needs, bounded by the
//! client's limits) and [`judge_image`] decides from that evidence alone, with no I/O — so
//! decisions can be tested offline and a policy can judge many authorities over one read.
//! The same gathering reads, when asked ([`EvidenceNeeds::image`]), what the image itself is —
//! its manifest or index and configurations ([`ImageContents`]) — for rules on the image.
//! Values that say something verified ([`VerifiedSignature`], [`VerifiedAttestation`],
//! [`VerifiedReferrer`], [`ImageCheck`]) can only be made by this crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_core::keys::PublicKey;
//! use signet_oci::{ClientOptions, OciClient};
//! use signet_verify::{Authority, KeyAuthority, KeyVerifier, Question, TlogPolicy, Verifier};
//!
//! let key = KeyVerifier::new(PublicKey::parse(&std::fs::read("cosign.pub")?)?);
//! let authority = Authority::Key(KeyAuthority::new(key, None).with_tlog(TlogPolicy::InsecureIgnore));
//! let client = OciClient::new(ClientOptions::default());
//! let check = Verifier::new(&client)
//!     .check(&"oci:./layout:latest".parse()?, &authority, &Question::signature())
//!     .await;
//! assert!(check.is_verified(), "{:?}", check.reasons());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attestation;
mod blob;
pub mod bundle;
mod check;
mod contents;
mod error;
mod file;
mod gather;
mod judge;
mod key;
pub mod notation;
pub mod platform;
pub mod referrers;

pub use attestation::{
    AttestationAuthority, AttestationFailure, AttestationOptions, AttestationReport,
    RejectedAttestation, Retained, VerifiedAttestation, judge_attestations,
    judge_attestations_with, verify_blob_attestation,
};
pub use blob::{BlobFailure, decode_signature_file, verify_blob};
pub use check::{
    Authority, EvidenceNeeds, Finding, Format, IdentityAuthority, ImageCheck, ImageEvidence,
    KeyAuthority, Question, Rejection, ThroughIndex, Verdict, Verifier, judge_image,
};
pub use contents::{ImageContents, MAX_PLATFORM_IMAGES, PlatformImage};
pub use error::Error;
pub use file::{FileAttestationFailure, VerifiedFileAttestation, check_file_attestation};
pub use gather::{AttachmentEvidence, LayerEvidence, Unreadable, gather_attachments};
pub use judge::{
    CheckOptions, ImageReport, RejectedSignature, SignatureAuthority, SignatureFailure, TlogPolicy,
    VerifiedSignature, judge, judge_with,
};
pub use key::KeyVerifier;
pub use notation::NotationAuthority;
pub use referrers::{
    BUNDLE_ARTIFACT_TYPE, BundlePurpose, COSIGN_SIGN_PREDICATE_TYPE, NotAStatement,
    PREDICATE_TYPE_ANNOTATION, ReferrerBundle, ReferrerEvidence, ReferrerFailure, ReferrerReport,
    ReferrersSource, RejectedReferrer, VerifiedReferrer, gather_referrer_bundles,
    judge_referrer_bundles,
};
