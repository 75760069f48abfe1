//! `registries.d` (containers-registries.d(5)): which repositories have their sigstore
//! attachments (`sha256-<hex>.sig`) read at all.
//!
//! Every `*.yaml` file of the directory is read and merged; a scope defined in two files, or
//! `default-docker` defined twice, is an error, as in containers/image. Unknown keys are
//! ignored, as containers/image's YAML decoder ignores them. Only `use-sigstore-attachments`
//! matters to signet: `lookaside` locations hold GPG-era signatures, which never satisfy
//! `sigstoreSigned`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ContainersPolicyError;
use super::read_bounded;

/// A registries.d file larger than this is refused.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Where containers/image looks when no directory is given: the user's directory if it
/// exists, else the system's.
const USER_DIR: &str = ".config/containers/registries.d";
const SYSTEM_DIR: &str = "/etc/containers/registries.d";

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(rename = "default-docker")]
    default_docker: Option<Namespace>,
    docker: Option<BTreeMap<String, Option<Namespace>>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct Namespace {
    #[serde(rename = "use-sigstore-attachments")]
    use_sigstore_attachments: Option<bool>,
}

/// A setting and the file it came from.
#[derive(Debug, Clone)]
struct Sourced {
    namespace: Namespace,
    file: PathBuf,
}

/// The merged `registries.d` configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct RegistriesD {
    /// The directory read, if any.
    dir: Option<PathBuf>,
    default_docker: Option<Sourced>,
    docker: BTreeMap<String, Sourced>,
}

/// Whether sigstore attachments are read for an image, and which setting decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttachmentSetting {
    pub(crate) enabled: bool,
    /// The setting that decided, with its file, or why none applied.
    pub(crate) source: String,
}

impl RegistriesD {
    /// Reads `dir`, or containers/image's default directory when `None`. A directory that
    /// does not exist configures nothing, as in containers/image.
    pub(crate) fn load(dir: Option<&Path>) -> Result<RegistriesD, ContainersPolicyError> {
        let dir = match dir {
            Some(dir) => dir.to_path_buf(),
            None => default_dir(),
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RegistriesD {
                    dir: Some(dir),
                    ..RegistriesD::default()
                });
            }
            Err(source) => return Err(ContainersPolicyError::Read { path: dir, source }),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| ContainersPolicyError::Read {
                path: dir.clone(),
                source,
            })?;
            if entry.file_name().to_string_lossy().ends_with(".yaml") {
                files.push(entry.path());
            }
        }
        // containers/image takes directory order; sorting only makes conflict messages stable.
        files.sort();
        let mut merged = RegistriesD {
            dir: Some(dir),
            ..RegistriesD::default()
        };
        for path in files {
            let bytes = match read_bounded(&path, MAX_FILE_BYTES) {
                Ok(bytes) => bytes,
                // Removed since the listing: containers/image skips it too.
                Err(ContainersPolicyError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            merged.merge(parse_file(&path, &bytes)?, &path)?;
        }
        Ok(merged)
    }

    fn merge(&mut self, file: File, path: &Path) -> Result<(), ContainersPolicyError> {
        if let Some(namespace) = file.default_docker {
            if let Some(first) = &self.default_docker {
                return Err(ContainersPolicyError::RegistriesDConflict {
                    what: "default-docker".to_owned(),
                    first: first.file.clone(),
                    second: path.to_path_buf(),
                });
            }
            self.default_docker = Some(Sourced {
                namespace,
                file: path.to_path_buf(),
            });
        }
        for (scope, namespace) in file.docker.unwrap_or_default() {
            if let Some(first) = self.docker.get(&scope) {
                return Err(ContainersPolicyError::RegistriesDConflict {
                    what: format!("docker namespace {scope:?}"),
                    first: first.file.clone(),
                    second: path.to_path_buf(),
                });
            }
            let sourced = Sourced {
                namespace: namespace.unwrap_or_default(),
                file: path.to_path_buf(),
            };
            self.docker.insert(scope, sourced);
        }
        Ok(())
    }

    /// `useSigstoreAttachments`: the first of `identity`, then `namespaces` (most specific
    /// first), then `default-docker`, that sets `use-sigstore-attachments`; false if none.
    pub(crate) fn sigstore_attachments(
        &self,
        identity: &str,
        namespaces: &[String],
    ) -> AttachmentSetting {
        let scopes = std::iter::once(identity).chain(namespaces.iter().map(String::as_str));
        for scope in scopes {
            if let Some(Sourced { namespace, file }) = self.docker.get(scope)
                && let Some(enabled) = namespace.use_sigstore_attachments
            {
                return AttachmentSetting {
                    enabled,
                    source: format!(
                        "use-sigstore-attachments is {enabled} for docker: {scope:?} in {}",
                        file.display()
                    ),
                };
            }
        }
        if let Some(Sourced { namespace, file }) = &self.default_docker
            && let Some(enabled) = namespace.use_sigstore_attachments
        {
            return AttachmentSetting {
                enabled,
                source: format!(
                    "use-sigstore-attachments is {enabled} for default-docker in {}",
                    file.display()
                ),
            };
        }
        AttachmentSetting {
            enabled: false,
            source: match &self.dir {
                Some(dir) => format!(
                    "nothing in {} sets use-sigstore-attachments for it, and it is off by default",
                    dir.display()
                ),
                None => "no registries.d sets use-sigstore-attachments, and it is off by default"
                    .to_owned(),
            },
        }
    }
}

fn parse_file(path: &Path, bytes: &[u8]) -> Result<File, ContainersPolicyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ContainersPolicyError::RegistriesDUtf8 {
        file: path.to_path_buf(),
    })?;
    // An empty document (or one holding only comments) configures nothing.
    let parsed: Option<File> =
        serde_saphyr::from_str(text).map_err(|source| ContainersPolicyError::RegistriesD {
            file: path.to_path_buf(),
            source: Box::new(source),
        })?;
    Ok(parsed.unwrap_or_default())
}

pub(crate) fn default_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("HOME") {
        let user = Path::new(&home).join(USER_DIR);
        if user.exists() {
            return user;
        }
    }
    PathBuf::from(SYSTEM_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    fn load(dir: &tempfile::TempDir) -> RegistriesD {
        RegistriesD::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"))
    }

    fn scopes(image_namespaces: &[&str]) -> Vec<String> {
        image_namespaces.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn most_specific_setting_wins_and_default_is_off() {
        let dir = dir_with(&[
            (
                "a.yaml",
                "default-docker:\n  use-sigstore-attachments: true\n  lookaside: https://x\n\
                 docker:\n  reg.io/team:\n    use-sigstore-attachments: false\n",
            ),
            (
                "b.yaml",
                "docker:\n  reg.io/team/app:\n    lookaside: file:///tmp/x\n  reg.io/team/app:v2:\n    use-sigstore-attachments: true\n  other.io:\n",
            ),
            ("ignored.yml", "default-docker: [not, parsed]\n"),
            ("empty.yaml", "# nothing here\n"),
        ]);
        let config = load(&dir);
        let namespaces = scopes(&["reg.io/team/app", "reg.io/team", "reg.io", "*.io"]);
        // reg.io/team/app sets nothing about attachments, so reg.io/team decides.
        let setting = config.sigstore_attachments("reg.io/team/app:v1", &namespaces);
        assert!(!setting.enabled);
        assert!(
            setting.source.contains("\"reg.io/team\""),
            "{}",
            setting.source
        );
        // The exact identity comes first.
        assert!(
            config
                .sigstore_attachments("reg.io/team/app:v2", &namespaces)
                .enabled
        );
        // Elsewhere, default-docker.
        let other = config.sigstore_attachments("x.org/a:1", &scopes(&["x.org/a", "x.org"]));
        assert!(other.enabled);
        assert!(
            other.source.contains("for default-docker in"),
            "{}",
            other.source
        );
        // No directory, no files: off.
        let none =
            RegistriesD::load(Some(&dir.path().join("missing"))).unwrap_or_else(|e| panic!("{e}"));
        assert!(!none.sigstore_attachments("x.org/a:1", &[]).enabled);
        let empty = dir_with(&[]);
        assert!(!load(&empty).sigstore_attachments("x.org/a:1", &[]).enabled);
    }

    #[test]
    fn wildcard_scopes_apply() {
        let dir = dir_with(&[(
            "w.yaml",
            "docker:\n  \"*.example.com\":\n    use-sigstore-attachments: true\n",
        )]);
        let namespaces = scopes(&["r.example.com/a", "r.example.com", "*.example.com", "*.com"]);
        assert!(
            load(&dir)
                .sigstore_attachments("r.example.com/a:1", &namespaces)
                .enabled
        );
    }

    #[test]
    fn conflicts_and_bad_yaml_are_errors() {
        let twice = dir_with(&[
            (
                "a.yaml",
                "docker:\n  reg.io:\n    use-sigstore-attachments: true\n",
            ),
            (
                "b.yaml",
                "docker:\n  reg.io:\n    use-sigstore-attachments: false\n",
            ),
        ]);
        let err = RegistriesD::load(Some(twice.path()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"reg.io\" is defined both in"), "{err}");
        let defaults = dir_with(&[
            (
                "a.yaml",
                "default-docker:\n  use-sigstore-attachments: true\n",
            ),
            (
                "b.yaml",
                "default-docker:\n  use-sigstore-attachments: true\n",
            ),
        ]);
        assert!(RegistriesD::load(Some(defaults.path())).is_err());
        let bad = dir_with(&[(
            "a.yaml",
            "docker:\n  reg.io:\n    use-sigstore-attachments: maybe\n",
        )]);
        let err = RegistriesD::load(Some(bad.path()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("a.yaml"), "{err}");
    }
}
