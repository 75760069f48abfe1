//! The policy a deploy gate enforces: loaded from files, with the revisions verdicts are
//! cached under, and the test for "its files changed" that reloading starts from.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use signet_policy::admission::AdmissionSettings;
use signet_policy::file::PolicyFile;
use signet_policy::sources::{PolicyRevision, PolicySources};
use signet_verify::bundle::{BundleLimits, BundleVerifier};

use crate::Error;

/// The largest trusted root read (Sigstore's public-good one is about 10 KiB).
const MAX_TRUSTED_ROOT_BYTES: u64 = 4 << 20;

/// Where the policy comes from: the policy file (YAML trust policy or `policy.json`), the
/// `registries.d` directory of a `policy.json`, and the trusted root that authorities without
/// their own are checked against.
#[derive(Debug, Clone)]
pub struct PolicySource {
    policy: PathBuf,
    registries_d: Option<PathBuf>,
    trusted_root: Option<TrustRootSource>,
}

/// Where the default trusted root comes from.
#[derive(Debug, Clone)]
enum TrustRootSource {
    /// A file, read at every load and watched for changes.
    File(PathBuf),
    /// Bytes read once (from the TUF cache, by a one-shot command), and where they came from.
    Fixed(std::sync::Arc<Vec<u8>>, String),
}

impl PolicySource {
    /// The policy at `policy`.
    pub fn new(policy: PathBuf) -> Self {
        Self {
            policy,
            registries_d: None,
            trusted_root: None,
        }
    }

    /// With a `policy.json`'s `registries.d` directory.
    pub fn with_registries_d(mut self, dir: Option<PathBuf>) -> Self {
        self.registries_d = dir;
        self
    }

    /// With the default trusted root (`trusted_root.json`), read from `file` at each load.
    pub fn with_trusted_root(mut self, file: Option<PathBuf>) -> Self {
        self.trusted_root = file.map(TrustRootSource::File);
        self
    }

    /// With the default trusted root given as its bytes (read once elsewhere, e.g. from the
    /// TUF cache); `origin` names it in errors.
    pub fn with_trusted_root_bytes(mut self, bytes: Vec<u8>, origin: String) -> Self {
        self.trusted_root = Some(TrustRootSource::Fixed(std::sync::Arc::new(bytes), origin));
        self
    }

    /// The policy file.
    pub fn policy_path(&self) -> &Path {
        &self.policy
    }

    /// Reads and validates everything. An error leaves nothing half-loaded: the caller keeps
    /// whatever policy it had.
    pub fn load(&self) -> Result<LoadedPolicy, Error> {
        let (mut policy, sources) =
            PolicyFile::load_with_sources(&self.policy, self.registries_d.as_deref()).map_err(
                |source| Error::Policy {
                    path: self.policy.display().to_string(),
                    source: Box::new(source),
                },
            )?;
        let trust_root = match &self.trusted_root {
            Some(source) => {
                let (bytes, origin, watched) = match source {
                    TrustRootSource::File(path) => (
                        read_bounded(path, MAX_TRUSTED_ROOT_BYTES).map_err(|source| {
                            Error::TrustedRoot {
                                path: path.display().to_string(),
                                source: Box::new(source),
                            }
                        })?,
                        path.display().to_string(),
                        Some(path.clone()),
                    ),
                    TrustRootSource::Fixed(bytes, origin) => {
                        (bytes.as_ref().clone(), origin.clone(), None)
                    }
                };
                let verifier =
                    BundleVerifier::new(&bytes, BundleLimits::default()).map_err(|source| {
                        Error::TrustedRoot {
                            path: origin,
                            source: Box::new(source),
                        }
                    })?;
                policy = policy.with_default_trusted_root(verifier);
                Some(TrustRoot {
                    path: watched,
                    revision: PolicyRevision::of_bytes(&bytes),
                })
            }
            None => None,
        };
        let settings = policy.admission();
        Ok(LoadedPolicy {
            policy,
            sources,
            trust_root,
            settings,
            loaded_at: SystemTime::now(),
        })
    }
}

#[derive(Debug)]
struct TrustRoot {
    /// The file to watch, when it came from one.
    path: Option<PathBuf>,
    revision: PolicyRevision,
}

/// A policy in force: what it says, what it was built from, and when.
#[derive(Debug)]
pub struct LoadedPolicy {
    policy: PolicyFile,
    sources: PolicySources,
    trust_root: Option<TrustRoot>,
    settings: AdmissionSettings,
    loaded_at: SystemTime,
}

impl LoadedPolicy {
    /// The policy.
    pub fn policy(&self) -> &PolicyFile {
        &self.policy
    }

    /// The policy's revision: the digest of the policy file and every file it named.
    pub fn revision(&self) -> &PolicyRevision {
        self.sources.revision()
    }

    /// The default trusted root's revision (the digest of the file), when one is configured.
    pub fn trust_root_revision(&self) -> Option<&PolicyRevision> {
        self.trust_root.as_ref().map(|t| &t.revision)
    }

    /// The policy's `admission` section.
    pub fn settings(&self) -> &AdmissionSettings {
        &self.settings
    }

    /// When it was loaded.
    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// Whether any file it was built from reads differently now.
    pub fn changed(&self) -> bool {
        self.sources.changed()
            || self.trust_root.as_ref().is_some_and(|t| {
                t.path.as_ref().is_some_and(|path| {
                    read_bounded(path, MAX_TRUSTED_ROOT_BYTES)
                        .map(|bytes| PolicyRevision::of_bytes(&bytes) != t.revision)
                        .unwrap_or(true)
                })
            })
    }
}

fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}
