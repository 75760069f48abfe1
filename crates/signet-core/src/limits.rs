//! Bounds on untrusted input.
//!
//! Every parser of data that comes from a registry or a user's file takes its bound from here,
//! so one value can be tuned (or overridden like Cosign's `COSIGN_MAX_ATTACHMENT_SIZE`) and
//! nothing is buffered without one.

/// Size and count limits applied to untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest (image or signature manifest) read, in bytes.
    pub max_manifest_bytes: u64,
    /// Largest signature layer, attestation layer or attached blob read, in bytes.
    pub max_attachment_bytes: u64,
    /// Most layers a signature manifest may have.
    pub max_signature_layers: usize,
    /// Most signatures considered per image.
    pub max_signatures_per_image: usize,
    /// Largest key file read, in bytes.
    pub max_key_file_bytes: u64,
    /// Largest detached signature file read, in bytes.
    pub max_signature_file_bytes: u64,
    /// Largest blob signed or verified with a pure (non-prehashed) algorithm such as Ed25519.
    pub max_unhashed_blob_bytes: u64,
}

impl Limits {
    /// Cosign's default for `COSIGN_MAX_ATTACHMENT_SIZE`: 128 MiB.
    pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 128 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 * 1024 * 1024,
            max_attachment_bytes: Self::DEFAULT_MAX_ATTACHMENT_BYTES,
            max_signature_layers: 1000,
            max_signatures_per_image: 100,
            max_key_file_bytes: 64 * 1024,
            max_signature_file_bytes: 64 * 1024,
            max_unhashed_blob_bytes: 128 * 1024 * 1024,
        }
    }
}
