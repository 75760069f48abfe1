//! Trust policies: which images must be signed by whom, and what their attestations must say.
//!
//! Three languages, one verdict. [`model::TrustPolicy`] is signet's YAML policy (authorities
//! named once, per-repository policies with k-of-n signature thresholds and attestation
//! requirements carrying SLSA, SBOM, vulnerability and Rego [`conditions`], and
//! [`image_rules`] on what the image itself is);
//! [`containers::ContainersPolicy`] is containers/image's `policy.json` with `registries.d`;
//! [`notation::NotationTrustPolicy`] is Notation's `trustpolicy.json` with its trust store.
//! Both are parsed into validated values (errors carry the line), evaluated over images in two
//! steps — gather the evidence once per image (async, through `signet-oci`), then judge it
//! (pure, the time passed in) with `signet-verify`'s judges — and produce
//! [`report::ImageVerdict`]s, whose fields only this crate can set.
//!
//! [`provenance`] checks a file's SLSA provenance as slsa-verifier does (builder, source
//! repository, tag or branch), on top of `signet-verify`'s file attestation check.
//!
//! This crate sits on top of `signet-verify` ("one artifact against one authority"); signing
//! does not need it, so signet-sign does not compile the policy engine (regorus, YAML).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admission;
pub mod conditions;
pub mod containers;
pub mod evaluate;
pub mod file;
pub mod glob;
pub mod image_rules;
pub mod lint;
pub mod model;
pub mod notation;
pub mod provenance;
pub mod release_files;
pub mod report;
pub mod sources;
pub mod vsa;
