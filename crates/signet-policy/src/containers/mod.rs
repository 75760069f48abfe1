//! containers/image `policy.json` (skopeo, podman, CRI-O), evaluated as they evaluate it.
//!
//! [`ContainersPolicy::load`] reads containers-policy.json(5) as strictly as containers/image
//! does (unknown or duplicate keys, wrong types and empty requirement lists are errors that
//! name the offending member), reads every public key it names, and reads
//! containers-registries.d(5) for `use-sigstore-attachments`. [`ContainersPolicy::evaluate`]
//! then picks, for each image, the most specific scope — for `docker`: `host/repo:tag` or
//! `host/repo@digest`, `host/repo`, each parent namespace, `host`, `*.domain` wildcards
//! (longest first), the transport's `""`, then `default` — and checks all of its
//! requirements. The I/O (reading the signatures, once per image, only when a requirement
//! needs them and registries.d enables them) is kept apart from the judgement, which is pure.
//!
//! Supported: `insecureAcceptAnything`, `reject`, `signedBaseLayer` (which containers/image
//! never implemented: it denies), and `sigstoreSigned` with `keyPath`, `keyPaths`, `keyData`
//! or `keyDatas`, optionally `rekorPublicKeyPath`, `…Paths`, `…Data` or `…Datas` (every
//! signature's `dev.sigstore.cosign/bundle` must then verify against one of those log keys and
//! record that signature), and every `signedIdentity` rule. Refused at load, with an error
//! saying so: `signedBy` (GPG) and `fulcio` — a policy that cannot be enforced as written is
//! not silently weakened or reported as a transient failure.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use signet_oci::{ClientOptions, OciClient};
//! use signet_policy::containers::ContainersPolicy;
//! use signet_policy::report::{Decision, PolicyReport};
//!
//! let policy = ContainersPolicy::load(
//!     Path::new("/etc/containers/policy.json"),
//!     Some(Path::new("/etc/containers/registries.d")),
//! )?;
//! let client = OciClient::new(ClientOptions::default());
//! let images = ["quay.io/app@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec".parse()?];
//! let report = PolicyReport::new(policy.evaluate(&client, &images).await);
//! assert_eq!(report.images()[0].decision(), Decision::Allow);
//! # Ok(()) }
//! ```

mod config;
mod eval;
mod json;
mod reference;
mod registries_d;

use std::io::Read;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use signet_core::cosign::Attachment;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;

use self::config::PolicyConfig;
use self::eval::{Signatures, Target};
use self::registries_d::RegistriesD;
use crate::report::ImageVerdict;
use signet_core::error_text::error_chain;
use signet_verify::gather_attachments;

/// How many images are evaluated at once over the shared connections.
const CONCURRENT_IMAGES: usize = 8;

pub use self::reference::ReferenceError;

/// A `policy.json` larger than this is refused.
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// Why a `policy.json` (or its registries.d, or a key it names) could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainersPolicyError {
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is over its size limit.
    #[error("{} is over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The policy is not JSON (or repeats a key: containers/image refuses duplicates).
    #[error("the policy is not valid JSON")]
    Syntax {
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The policy is JSON but not a valid containers-policy.json(5).
    #[error("{at}: {problem}")]
    Invalid {
        /// Where: `transports.docker["quay.io/app"][0].keyPath`.
        at: String,
        /// What is wrong.
        problem: PolicyProblem,
    },
    /// The policy asks for a check signet cannot carry out.
    #[error("{at}: {feature}")]
    Unsupported {
        /// Where.
        at: String,
        /// What.
        feature: Unsupported,
    },
    /// A key file named by the policy could not be read.
    #[error("{at}: cannot read the key file {}", path.display())]
    KeyFile {
        /// Where the policy names it.
        at: String,
        /// The file, as named.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key named by the policy is not a usable PEM public key.
    #[error("{at}: {key} is not a usable PEM public key")]
    Key {
        /// Where the policy names it.
        at: String,
        /// The key file, or `keyData`.
        key: String,
        /// Why.
        #[source]
        source: signet_core::Error,
    },
    /// A registries.d file is not valid YAML for its schema.
    #[error("registries.d: cannot parse {}", file.display())]
    RegistriesD {
        /// The file.
        file: PathBuf,
        /// The YAML error.
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// A registries.d file is not UTF-8.
    #[error("registries.d: {} is not UTF-8", file.display())]
    RegistriesDUtf8 {
        /// The file.
        file: PathBuf,
    },
    /// Two registries.d files configure the same thing.
    #[error("registries.d: {what} is defined both in {} and {}", first.display(), second.display())]
    RegistriesDConflict {
        /// `default-docker` or the namespace.
        what: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
}

/// What is wrong with a member of `policy.json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// A key the schema does not have (containers/image refuses them too: a typo must not
    /// silently weaken a security policy).
    #[error("unknown field {field:?} (expected one of: {})", expected.join(", "))]
    UnknownField {
        /// The key.
        field: String,
        /// The keys allowed here.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    #[error("missing field {field:?}")]
    MissingField {
        /// The key.
        field: &'static str,
    },
    /// A value of the wrong JSON type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the schema wants.
        expected: &'static str,
        /// What is there.
        found: &'static str,
    },
    /// The top-level `default` is missing.
    #[error("the top-level \"default\" requirements are missing")]
    MissingDefault,
    /// An empty list of requirements.
    #[error("the list of requirements must not be empty")]
    EmptyRequirements,
    /// An unknown requirement or identity type.
    #[error("unknown type {found:?} (expected one of: {})", expected.join(", "))]
    UnknownType {
        /// The type given.
        found: String,
        /// The types allowed here.
        expected: &'static [&'static str],
    },
    /// Not exactly one key source in `sigstoreSigned`.
    #[error("exactly one of keyPath, keyPaths, keyData and keyDatas must be given")]
    KeySources,
    /// More than one of the Rekor key sources in `sigstoreSigned`.
    #[error(
        "at most one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and \
         rekorPublicKeyDatas may be given"
    )]
    RekorKeySources,
    /// A Rekor public key that is not ECDSA or Ed25519.
    #[error("a Rekor public key must be an ECDSA (P-256, P-384, P-521) or Ed25519 key")]
    RekorKeyType,
    /// `keyPaths` or `keyDatas` is empty.
    #[error("the list of keys must not be empty")]
    EmptyKeyList,
    /// `keyData` is not base64.
    #[error("not valid base64 (keyData is the base64 of the PEM file)")]
    NotBase64,
    /// A `dockerReference` or `dockerRepository` that is not a reference.
    #[error("{value:?} is not a Docker reference: {reason}")]
    InvalidReference {
        /// The value.
        value: String,
        /// Why.
        reason: ReferenceError,
    },
    /// An `exactReference` without tag or digest.
    #[error("dockerReference {value:?} contains neither a tag nor a digest")]
    NameOnlyReference {
        /// The value.
        value: String,
    },
    /// A `remapIdentity` prefix that is not a host or a repository prefix.
    #[error("prefix {value:?} is not valid: give host[:port] or host[:port]/path")]
    InvalidPrefix {
        /// The value.
        value: String,
    },
    /// A scope the transport cannot match.
    #[error("invalid scope for transport {transport}: {reason}")]
    InvalidScope {
        /// The transport.
        transport: String,
        /// Why.
        reason: &'static str,
    },
}

/// A part of containers-policy.json(5) signet does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// `signedBy`: GPG simple signing.
    #[error(
        "signedBy (GPG) is not supported by signet; only sigstoreSigned requirements with public \
         keys can be checked (verify GPG-signed images with skopeo or podman)"
    )]
    SignedBy,
    /// `sigstoreSigned` with `fulcio`.
    #[error(
        "sigstoreSigned with fulcio is not supported by signet: containers/image checks a CA \
         file, an issuer and an e-mail SAN without the SCT; verify keyless images with a signet \
         policy (keyless authorities) or skopeo"
    )]
    Fulcio,
}

/// A validated `policy.json` with its registries.d settings.
#[derive(Debug)]
pub struct ContainersPolicy {
    config: PolicyConfig,
    registries: RegistriesD,
}

impl ContainersPolicy {
    /// Reads `policy_path` (and the key files it names, relative to the current directory as
    /// containers/image reads them) and the `registries_d` directory — or, when `None`,
    /// containers/image's default (`$HOME/.config/containers/registries.d` if it exists,
    /// else `/etc/containers/registries.d`).
    pub fn load(
        policy_path: &Path,
        registries_d: Option<&Path>,
    ) -> Result<Self, ContainersPolicyError> {
        let bytes = read_bounded(policy_path, MAX_POLICY_BYTES)?;
        Self::parse(&bytes, registries_d)
    }

    /// Validates `policy_json`, the contents of a `policy.json`, exactly as [`Self::load`]
    /// validates the file (reading the key files it names and the `registries_d` directory
    /// the same way). The caller bounds the size: [`Self::load`] refuses files over
    /// [`MAX_POLICY_BYTES`].
    pub fn parse(
        policy_json: &[u8],
        registries_d: Option<&Path>,
    ) -> Result<Self, ContainersPolicyError> {
        let document = json::Json::parse(policy_json)
            .map_err(|source| ContainersPolicyError::Syntax { source })?;
        let config = PolicyConfig::from_json(&document)?;
        let registries = RegistriesD::load(registries_d)?;
        Ok(Self { config, registries })
    }

    /// Evaluates each image, concurrently, in order. A registry that cannot be read gives an
    /// undecided verdict for its images, never a denial.
    pub async fn evaluate(
        &self,
        client: &OciClient,
        images: &[ImageReference],
    ) -> Vec<ImageVerdict> {
        futures_util::stream::iter(images.iter().map(|image| self.evaluate_one(client, image)))
            .buffered(CONCURRENT_IMAGES)
            .collect()
            .await
    }

    /// Evaluates one image: what [`Self::evaluate`] does for each. A caller that already
    /// resolved the image to a digest (an admission server) passes the pinned reference.
    pub async fn evaluate_image(&self, client: &OciClient, image: &ImageReference) -> ImageVerdict {
        self.evaluate_one(client, image).await
    }

    async fn evaluate_one(&self, client: &OciClient, image: &ImageReference) -> ImageVerdict {
        let target = match Target::of(image) {
            Ok(target) => target,
            Err(why) => return eval::undecided(image, why.to_string()),
        };
        let matched = eval::select(&self.config, &target);
        let signatures = if matched.needs_signatures() {
            Some(self.signatures(client, image, &target).await)
        } else {
            None
        };
        eval::judge_image(image, &target, &matched, signatures.as_ref())
    }

    /// The signatures containers/image would see: none for OCI layouts (its `oci` transport
    /// carries none) or when registries.d does not enable sigstore attachments for the image;
    /// else the `sha256-<hex>.sig` attachments in the image's own repository.
    async fn signatures(
        &self,
        client: &OciClient,
        image: &ImageReference,
        target: &Target,
    ) -> Signatures {
        match target {
            Target::Layout { .. } => Signatures::NotRead(
                "containers/image reads no signatures from OCI layouts (its oci transport has none)"
                    .to_owned(),
            ),
            Target::Docker(reference) => {
                let setting = self
                    .registries
                    .sigstore_attachments(&target.identity(), &target.namespaces());
                if !setting.enabled {
                    return Signatures::NotRead(format!(
                        "sigstore attachments are not read for {}: {}",
                        reference.name(),
                        setting.source
                    ));
                }
                match gather_attachments(client, image, Attachment::Signature, None).await {
                    Ok(evidence) => Signatures::Read(evidence),
                    Err(error) => Signatures::Failed(error_chain(&error)),
                }
            }
        }
    }
}

/// Reads at most `limit` bytes of `path`.
/// The `registries.d` directory read when none is given: containers/image's default.
pub(crate) fn default_registries_d() -> std::path::PathBuf {
    registries_d::default_dir()
}

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ContainersPolicyError> {
    let read_error = |source| ContainersPolicyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(ContainersPolicyError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
