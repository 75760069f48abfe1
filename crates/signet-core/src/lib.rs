//! Cosign's wire formats, image references and the cryptography behind them, with no I/O.
//!
//! Everything in this crate turns bytes into typed values and back. It never opens a file, a
//! socket or reads the clock: callers pass bytes, limits and time in. That keeps the formats
//! testable against the peers' vectors offline and lets `signet-oci`, `signet-sign` and
//! `signet-verify` share one definition of every format.
//!
//! * [`reference`]: image references as Docker and Cosign parse them, and `oci:` layouts.
//! * [`digest`]: content digests and streaming SHA-256.
//! * [`payload`]: the simple-signing payload Cosign signs, byte for byte.
//! * [`cosign`]: Cosign's tag scheme, media types and annotation names.
//! * [`manifest`]: the OCI manifest and descriptor types signatures are stored in.
//! * [`keys`]: Cosign's encrypted key file, private keys for signing, public keys for verifying.
//! * [`dsse`]: DSSE envelopes and their pre-authentication encoding.
//! * [`intoto`]: in-toto statements and the predicate types Cosign names.
//! * [`image_config`]: the image configuration (user, environment, labels, platform).
//!
//! ```
//! use signet_core::reference::ImageReference;
//! let image: ImageReference = "ubuntu:24.04".parse().unwrap();
//! assert_eq!(image.repository_name(), "index.docker.io/library/ubuntu");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cosign;
pub mod digest;
pub mod dsse;
mod error;
pub mod error_text;
mod go_json;
pub mod image_config;
pub mod intoto;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod payload;
pub mod reference;
pub mod rekor_annotations;

pub use error::Error;
