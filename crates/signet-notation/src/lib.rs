//! Notary Project signatures (what Notation writes): the JWS and COSE envelopes, the
//! `notary.x509` and `notary.x509.signingAuthority` signing schemes, RFC 3161 timestamp
//! countersignatures, trust stores and Notation's `trustpolicy.json`. No I/O and no clock:
//! callers pass bytes, trust material and the time in (clippy holds the crate to it).
//!
//! [`verify_envelope`] checks one envelope against one trust policy [`Statement`] in the
//! specification's order — integrity (envelope, critical headers, algorithm, signature,
//! certificate requirements, payload), authenticity (trust store, trusted identity), expiry,
//! authentic timestamp, revocation — enforcing or logging each failure as the statement's
//! [`VerificationLevel`] says, then requires the signed descriptor to be the artifact's. A
//! pass is a [`VerifiedSignature`], which only this crate constructs; a failure names its
//! [`NotationCheck`]. Revocation (OCSP, CRL) needs the network, which this crate never
//! uses: a certificate naming a revocation service fails the revocation validation, which
//! `strict` enforces and the other levels log, unless the policy skips it.
//!
//! The rules follow the Notary Project specifications and, where they leave room,
//! notation-go and notation-core-go; docs/compatibility.md lists where signet differs.
//!
//! ```
//! use std::collections::BTreeMap;
//! use signet_notation::{EnvelopeFormat, Limits, NotationCheck, TargetArtifact, TrustPolicyDocument,
//!     TrustStore, VerifyOptions, verify_envelope};
//!
//! let policy = TrustPolicyDocument::parse(br#"{"version": "1.0", "trustPolicies": [{
//!     "name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
//!     "trustStores": ["ca:acme"], "trustedIdentities": ["*"]}]}"#)?;
//! let statement = policy.statement_for("registry.example/app").expect("the global statement");
//! let target = TargetArtifact {
//!     media_type: "application/vnd.oci.image.manifest.v1+json".into(),
//!     digest: "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9".parse()?,
//!     size: 517,
//! };
//! let options = VerifyOptions {
//!     statement,
//!     trust_store: &TrustStore::new(),
//!     target: &target,
//!     required_annotations: &BTreeMap::new(),
//!     now: std::time::SystemTime::UNIX_EPOCH,
//!     limits: Limits::default(),
//! };
//! let failure = verify_envelope(EnvelopeFormat::Jws, b"{}", &options).unwrap_err();
//! assert_eq!(failure.check(), NotationCheck::Parse);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod certificate;
mod check;
mod crypto;
mod envelope;
mod payload;
pub mod policy;
mod sign;
mod timestamp;
mod trust_store;
mod verify;

pub use check::{NotationCheck, NotationFailure, Validation};
pub use crypto::{Hash, KeySpec};
pub use envelope::{
    COSE_MEDIA_TYPE, EnvelopeFormat, JWS_MEDIA_TYPE, PAYLOAD_CONTENT_TYPE, SignatureAlgorithm,
    SigningScheme,
};
pub use payload::{SignedDescriptor, TargetArtifact};
pub use policy::{Statement, TrustPolicyDocument};
pub use sign::{SignRequest, SignedEnvelope, sign};
pub use trust_store::TrustStore;
pub use verify::{
    Limits, VerifiedSignature, VerifyOptions, verify_envelope, verify_signature_layer,
};

/// The `artifactType` of a Notary Project signature manifest (and, in manifests written for
/// registries without OCI 1.1, its `config.mediaType`).
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";

/// The manifest annotation listing the SHA-256 fingerprints of the signing chain.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";
