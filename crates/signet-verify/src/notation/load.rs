//! Reading Notation's files: `trustpolicy.json` and the trust store directory
//! (`{dir}/x509/{ca|signingAuthority|tsa}/{name}/*`), as notation lays them out under its
//! configuration directory.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use signet_notation::TrustPolicyDocument;
use signet_notation::TrustStore;
use signet_notation::policy::{PolicyError, StoreRef};

/// Largest trust policy or certificate file read.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most files read from one named store.
const MAX_FILES_PER_STORE: usize = 1000;

/// A Notation configuration file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotationConfigError {
    /// The file could not be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is a symlink, which notation refuses for trust policies.
    #[error("{path} is a symlink; notation does not follow symlinks for trust policies")]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// The trust policy is malformed or invalid.
    #[error("the trust policy {path}")]
    Policy {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: PolicyError,
    },
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Reads and validates a trust policy file (`trustpolicy.json` or `trustpolicy.oci.json`).
pub fn load_trust_policy(path: &Path) -> Result<TrustPolicyDocument, NotationConfigError> {
    let metadata = fs::symlink_metadata(path).map_err(|source| NotationConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    if metadata.file_type().is_symlink() {
        return Err(NotationConfigError::Symlink {
            path: path.to_owned(),
        });
    }
    let bytes = read_bounded(path).map_err(|source| NotationConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    TrustPolicyDocument::parse(&bytes).map_err(|source| NotationConfigError::Policy {
        path: path.to_owned(),
        source,
    })
}

/// Reads the named stores `refs` from the trust store directory `root`. What cannot be used
/// is kept with its reason (a missing store, a symlink, a file that is not a certificate),
/// and reported when a signature is verified against that store, as notation reports it.
/// Sub-directories inside a named store are ignored, as the specification says.
pub fn load_trust_store(root: &Path, refs: &[StoreRef]) -> TrustStore {
    let mut store = TrustStore::new();
    for r in refs {
        let dir = root.join("x509").join(r.kind.name()).join(&r.name);
        let metadata = match fs::symlink_metadata(&dir) {
            Ok(m) => m,
            // Absent: the verifier reports "the trust store … does not exist".
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                store.add_unusable(r, format!("the trust store {r} ({}): {e}", dir.display()));
                continue;
            }
        };
        if metadata.file_type().is_symlink() || !metadata.is_dir() {
            store.add_unusable(
                r,
                format!(
                    "the trust store {r} ({}) is not a directory (symlinks are not supported)",
                    dir.display()
                ),
            );
            continue;
        }
        store.add_store(r);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                store.add_unusable(r, format!("reading the trust store {r}: {e}"));
                continue;
            }
        };
        let mut files: Vec<(String, PathBuf, fs::FileType)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let kind = e.file_type().ok()?;
                Some((e.file_name().to_string_lossy().into_owned(), e.path(), kind))
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, path, kind) in files.into_iter().take(MAX_FILES_PER_STORE) {
            if kind.is_dir() {
                continue;
            }
            if kind.is_symlink() {
                store.add_unusable(
                    r,
                    format!("{name:?} in the trust store {r} is a symlink, which is not supported"),
                );
                break;
            }
            match read_bounded(&path) {
                Ok(bytes) => store.add_file(r, &name, &bytes),
                Err(e) => {
                    store.add_unusable(r, format!("reading {name:?} in the trust store {r}: {e}"));
                    break;
                }
            }
        }
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/notation/notation-go/truststore")
    }

    fn store(text: &str) -> StoreRef {
        StoreRef::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn notation_go_trust_stores_load_as_notation_loads_them() {
        let refs = [
            store("ca:valid-trust-store"),
            store("ca:trust-store-with-leaf-certs"),
            store("tsa:test-nonCA"),
            store("tsa:test-timestamp"),
        ];
        let loaded = load_trust_store(&data(), &refs);
        // NotationTestRoot, GlobalSign (PEM and DER), alpine, testTSA, wabbit-networks.
        assert_eq!(loaded.certificate_count(&refs[0]), 6);
        // A non-CA certificate that is not self-signed, and a self-signed leaf in a tsa
        // store, make their stores unusable.
        assert_eq!(loaded.certificate_count(&refs[1]), 0);
        assert_eq!(loaded.certificate_count(&refs[2]), 0);
        assert_eq!(loaded.certificate_count(&refs[3]), 1);
    }

    #[test]
    fn a_symlinked_trust_policy_is_refused_and_a_bad_one_names_its_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let real = dir.path().join("real.json");
        fs::write(&real, br#"{"version": "2.0", "trustPolicies": []}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let link = dir.path().join("trustpolicy.json");
        std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            load_trust_policy(&link),
            Err(NotationConfigError::Symlink { .. })
        ));
        assert!(matches!(
            load_trust_policy(&real),
            Err(NotationConfigError::Policy { .. })
        ));
    }
}
