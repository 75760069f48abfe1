//! A policy file in any of the three languages, loaded as its content says: a JSON object
//! with `trustPolicies` is Notation's `trustpolicy.json`, any other JSON object
//! containers/image's `policy.json`; anything else is signet's YAML policy. The one entry point
//! for a tool that takes "a policy" from its user (the CLI's `verify --policy`, an admission
//! server's mounted file).

use std::path::Path;

use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_verify::bundle::BundleVerifier;

use crate::containers::{ContainersPolicy, ContainersPolicyError};
use crate::evaluate::PolicyEvaluator;
use crate::model::{PolicyError, TrustPolicy};
use crate::notation::NotationTrustPolicy;
use crate::report::ImageVerdict;

/// The largest policy file read (either language).
const MAX_POLICY_BYTES: u64 = 4 << 20;

/// Why a policy file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyFileError {
    /// The file could not be read.
    #[error("cannot read the policy {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the limit.
    #[error("the policy {path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A YAML trust policy that does not load.
    #[error(transparent)]
    Signet(#[from] PolicyError),
    /// A `policy.json` that does not load.
    #[error(transparent)]
    Containers(#[from] ContainersPolicyError),
    /// A Notation `trustpolicy.json` that does not load.
    #[error(transparent)]
    Notation(#[from] signet_verify::notation::NotationConfigError),
}

/// A loaded, validated policy in one of the two languages.
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyFile {
    /// signet's YAML trust policy.
    Signet(TrustPolicy),
    /// containers/image's `policy.json` (with `registries.d`).
    Containers(ContainersPolicy),
    /// Notation's `trustpolicy.json` (with the `truststore` directory beside it).
    Notation(NotationTrustPolicy),
}

/// The policy languages a policy file can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyFormat {
    /// signet's YAML policy (`apiVersion: signet.dev/v1`).
    Signet,
    /// containers/image's `policy.json` (`{"default": …, "transports": …}`).
    Containers,
    /// Notation's `trustpolicy.json` (`{"version": "1.0", "trustPolicies": …}`).
    NotationTrustPolicy,
}

/// Which language a policy file is in: a JSON object with `trustPolicies` is Notation's, any
/// other JSON object containers/image's, anything else signet's YAML.
pub fn detect_format(bytes: &[u8]) -> PolicyFormat {
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return PolicyFormat::Signet;
    }
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "trustPolicies")]
        trust_policies: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Peek>(bytes) {
        Ok(Peek {
            trust_policies: Some(_),
        }) => PolicyFormat::NotationTrustPolicy,
        _ => PolicyFormat::Containers,
    }
}

impl PolicyFile {
    /// Whether `bytes` are containers/image's JSON rather than signet's YAML or Notation's
    /// trust policy.
    pub fn is_containers_policy(bytes: &[u8]) -> bool {
        detect_format(bytes) == PolicyFormat::Containers
    }

    /// Loads the policy at `path`: a `policy.json` (with `registries_d`, the `registries.d`
    /// directory of sigstore attachment settings) or a YAML trust policy (key and trusted
    /// root paths in it relative to its directory).
    pub fn load(path: &Path, registries_d: Option<&Path>) -> Result<Self, PolicyFileError> {
        use std::io::Read;
        let display = || path.display().to_string();
        let mut head = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_POLICY_BYTES + 1).read_to_end(&mut head))
            .map_err(|source| PolicyFileError::Read {
                path: display(),
                source,
            })?;
        if head.len() as u64 > MAX_POLICY_BYTES {
            return Err(PolicyFileError::TooLarge {
                path: display(),
                limit: MAX_POLICY_BYTES,
            });
        }
        match detect_format(&head) {
            PolicyFormat::Containers => Ok(Self::Containers(ContainersPolicy::load(
                path,
                registries_d,
            )?)),
            PolicyFormat::NotationTrustPolicy => {
                Ok(Self::Notation(NotationTrustPolicy::load(path, None)?))
            }
            PolicyFormat::Signet => Ok(Self::Signet(TrustPolicy::load(path)?)),
        }
    }

    /// Whether some authority would use a default trusted root (see
    /// [`TrustPolicy::wants_default_trusted_root`]); a `policy.json` never does.
    pub fn wants_default_trusted_root(&self) -> bool {
        match self {
            Self::Signet(policy) => policy.wants_default_trusted_root(),
            Self::Containers(_) | Self::Notation(_) => false,
        }
    }

    /// Sets the trusted root for authorities that name none (YAML policies only).
    pub fn with_default_trusted_root(self, verifier: BundleVerifier) -> Self {
        match self {
            Self::Signet(policy) => Self::Signet(policy.with_default_trusted_root(verifier)),
            other => other,
        }
    }

    /// Evaluates each image (concurrently, results in order) at `now_unix`.
    pub async fn evaluate(
        &self,
        client: &OciClient,
        images: &[ImageReference],
        now_unix: i64,
    ) -> Vec<ImageVerdict> {
        match self {
            Self::Signet(policy) => {
                PolicyEvaluator::new(client, policy)
                    .evaluate(images, now_unix)
                    .await
            }
            Self::Containers(policy) => policy.evaluate(client, images).await,
            Self::Notation(policy) => {
                let now = std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(u64::try_from(now_unix).unwrap_or(0));
                policy.evaluate(client, images, now).await
            }
        }
    }
}
