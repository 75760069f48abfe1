//! Producing Cosign signatures: for images in a registry or an OCI layout, and for files.
//!
//! A signature is made by a [`SigningKey`] (from `signet-keys`) — a small trait so key files,
//! PKCS#11 tokens and AWS KMS keys stand behind the same code, which never learns which it
//! holds; keyless (Fulcio) signing has its own path. [`ImageSigner`] resolves the image
//! to a digest once, builds Cosign's simple-signing payload, signs it, and appends it as a layer
//! of the `sha256-<hex>.sig` manifest, keeping every earlier signature. [`sign_blob`] hashes a
//! file as a stream and signs the digest, so a 1 GiB file is signed in constant memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_core::keys::PrivateKey;
//! use signet_oci::{ClientOptions, OciClient};
//! use signet_sign::ImageSigner;
//!
//! let key = PrivateKey::generate_p256()?;
//! let client = OciClient::new(ClientOptions::default());
//! let signer = ImageSigner::new(&client, &key);
//! let signed = signer.sign(&"oci:./layout:latest".parse()?).await?;
//! println!("{} signed, {} signature(s) now", signed.digest, signed.signature_count);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attach;
mod attest;
mod blob;
mod error;
mod image;
pub mod keyfile;
pub mod keyless;
mod notation;
mod recursive;
mod referrer;
mod rekor;
mod sbom;

pub use attest::{
    AttestedImage, ImageAttester, PREDICATE_TYPE_ANNOTATION, attest_blob, blob_statement, sign_dsse,
};
pub use blob::{BlobSignature, sign_blob};
pub use error::Error;
pub use image::{ImageSigner, SignOutcome, SignedImage};
pub use notation::{SignedNotation, sign_image_notation};
pub use recursive::{RecursiveTargets, recursive_targets};
pub use referrer::{
    BUNDLE_MEDIA_TYPE, SignedReferrer, attach_referrer_bundle, push_referrer_bundle,
    sign_image_referrer,
};
pub use rekor::RekorUploader;
pub use sbom::{SbomFormat, SbomFormatError, attach_sbom};
pub use signet_keys::SigningKey;
