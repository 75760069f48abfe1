//! containers/image `policy.json` (skopeo, podman, CRI-O), evaluated as they evaluate it.

use std::path::Path;

use signet_core::reference::ImageReference;
use signet_oci::OciClient;

use super::report::ImageVerdict;

/// Why a `policy.json` could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainersPolicyError {
    /// Not implemented yet.
    #[error("containers/image policy.json is not supported yet")]
    Unsupported,
}

/// A validated `policy.json` with its registries.d settings.
#[derive(Debug)]
pub struct ContainersPolicy {
    _private: (),
}

impl ContainersPolicy {
    /// Reads `policy_path` (and key files it names) and the `registries.d` directory.
    pub fn load(
        _policy_path: &Path,
        _registries_d: Option<&Path>,
    ) -> Result<Self, ContainersPolicyError> {
        Err(ContainersPolicyError::Unsupported)
    }

    /// Evaluates each image, concurrently, in order.
    pub async fn evaluate(
        &self,
        _client: &OciClient,
        _images: &[ImageReference],
    ) -> Vec<ImageVerdict> {
        Vec::new()
    }
}
