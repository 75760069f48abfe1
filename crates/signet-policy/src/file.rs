//! A policy file in any of the three languages, loaded as its content says: a JSON object
//! with `trustPolicies` is Notation's `trustpolicy.json`, any other JSON object
//! containers/image's `policy.json`; anything else is signet's YAML policy. The one entry point
//! for a tool that takes "a policy" from its user (the CLI's `verify --policy`, an admission
//! server's mounted file).

use std::path::Path;

use signet_core::digest::Digest;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_verify::bundle::BundleVerifier;

use crate::containers::{ContainersPolicy, ContainersPolicyError};
use crate::evaluate::PolicyEvaluator;
use crate::model::{PolicyError, TrustPolicy};
use crate::notation::NotationTrustPolicy;
use crate::report::ImageVerdict;
use crate::sources::{PolicySources, containers_policy_reads, current_digest, tree_reads};

/// The largest policy file read (either language).
const MAX_POLICY_BYTES: u64 = 4 << 20;

/// The largest key or trusted-root file a YAML policy names.
const MAX_KEY_BYTES: u64 = 1 << 20;

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
        Self::load_with_sources(path, registries_d).map(|(policy, _)| policy)
    }

    /// [`Self::load`], and the files the policy was built from with the digest of what was
    /// read ([`PolicySources`]): its revision, and the test for "changed since".
    pub fn load_with_sources(
        path: &Path,
        registries_d: Option<&Path>,
    ) -> Result<(Self, PolicySources), PolicyFileError> {
        let bytes = read_bounded(path, MAX_POLICY_BYTES).map_err(|e| match e {
            BoundedRead::TooLarge => PolicyFileError::TooLarge {
                path: path.display().to_string(),
                limit: MAX_POLICY_BYTES,
            },
            BoundedRead::Io(source) => PolicyFileError::Read {
                path: path.display().to_string(),
                source,
            },
        })?;
        let mut reads = vec![(path.to_path_buf(), Some(Digest::sha256_of(&bytes)))];
        let format = detect_format(&bytes);
        if format == PolicyFormat::NotationTrustPolicy {
            // The trust stores beside the policy, as Notation lays them out; digests first.
            let stores = path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("truststore");
            reads.extend(tree_reads(&stores));
            let policy = NotationTrustPolicy::load(path, None)?;
            return Ok((Self::Notation(policy), PolicySources::from_reads(reads)));
        }
        if format == PolicyFormat::Containers {
            let registries = registries_d
                .map(Path::to_path_buf)
                .unwrap_or_else(crate::containers::default_registries_d);
            // Digests first, then the load: a file that changes in between reads as changed
            // at the next look, never as unchanged.
            reads.extend(
                containers_policy_reads(&bytes, &registries)
                    .into_iter()
                    .map(|p| {
                        let digest = current_digest(&p);
                        (p, digest)
                    }),
            );
            let policy = ContainersPolicy::parse(&bytes, Some(&registries))?;
            return Ok((Self::Containers(policy), PolicySources::from_reads(reads)));
        }
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::NotText {
            path: path.display().to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // Keys and trusted roots, recorded as they are read.
        let named = std::cell::RefCell::new(Vec::new());
        let policy = TrustPolicy::parse(&text, &|name| {
            let file = base.join(name);
            let bytes = read_bounded(&file, MAX_KEY_BYTES).map_err(|e| match e {
                BoundedRead::TooLarge => {
                    std::io::Error::other(format!("larger than {MAX_KEY_BYTES} bytes"))
                }
                BoundedRead::Io(e) => e,
            })?;
            named
                .borrow_mut()
                .push((file, Some(Digest::sha256_of(&bytes))));
            Ok(bytes)
        })?;
        reads.extend(named.into_inner());
        // Notation authorities' trust stores: digests first, then the read (as above).
        for dir in policy.notation_trust_store_dirs(&base) {
            reads.extend(tree_reads(&dir));
        }
        let policy = policy.with_notation_trust_stores(&base);
        Ok((Self::Signet(policy), PolicySources::from_reads(reads)))
    }

    /// The policy's `admission` section (YAML policies; a `policy.json` has none: the
    /// defaults).
    pub fn admission(&self) -> crate::admission::AdmissionSettings {
        match self {
            Self::Signet(policy) => policy.admission().clone(),
            Self::Containers(_) | Self::Notation(_) => {
                crate::admission::AdmissionSettings::default()
            }
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

    /// Whether a verdict about an image of `repository` (normalised `registry/path`) can
    /// depend on the tag named beside its digest: a signature requirement of a policy covering
    /// it accepts the signatures of an index (`indexSignature: accept`), which is found through
    /// that tag. Whoever keeps verdicts by digest must then keep them by tag as well.
    pub fn reads_index_through_tag(&self, repository: &str) -> bool {
        match self {
            Self::Signet(policy) => crate::evaluate::reads_index_through_tag(policy, repository),
            Self::Containers(_) | Self::Notation(_) => false,
        }
    }

    /// `verdict`, judged on a pinned reference, with the rules about how the image was
    /// referenced (`image.reference`) judged on `as_written` instead; `None` when nothing
    /// changes. An admission server caches verdicts by digest and calls this per request.
    pub fn with_reference_as_written(
        &self,
        verdict: &ImageVerdict,
        as_written: &ImageReference,
    ) -> Option<ImageVerdict> {
        match self {
            Self::Signet(policy) => {
                crate::evaluate::with_reference_as_written(policy, verdict, as_written)
            }
            Self::Containers(_) | Self::Notation(_) => None,
        }
    }

    /// Evaluates one image at `now_unix` (see [`PolicyEvaluator::evaluate_image`]).
    pub async fn evaluate_image(
        &self,
        client: &OciClient,
        image: &ImageReference,
        now_unix: i64,
    ) -> ImageVerdict {
        match self {
            Self::Signet(policy) => {
                PolicyEvaluator::new(client, policy)
                    .evaluate_image(image, now_unix)
                    .await
            }
            Self::Containers(policy) => policy.evaluate_image(client, image).await,
            Self::Notation(policy) => {
                let now = std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(u64::try_from(now_unix).unwrap_or(0));
                policy.evaluate_image(client, image, now).await
            }
        }
    }
}

enum BoundedRead {
    TooLarge,
    Io(std::io::Error),
}

/// Reads at most `limit` bytes of `path`; more is [`BoundedRead::TooLarge`].
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedRead> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(BoundedRead::Io)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedRead::TooLarge);
    }
    Ok(bytes)
}
