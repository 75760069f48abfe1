//! The local TUF cache: one directory per mirror, and which mirror is current.
//!
//! ```text
//! <cache>/current-mirror.json          {"mirror": "<url>"}: the mirror `load` serves
//! <cache>/<mirror as a file name>/
//!     bootstrap-root.json              the root given to `initialize --root` (absent: embedded)
//!     metadata/                        sigstore-tuf's store: root.json, root_history/,
//!                                      timestamp.json, snapshot.json, targets.json, targets/…
//! ```
//!
//! Every file is written through a temporary file in the same directory and renamed over the
//! old one, so a reader sees the old or the new file, never part of one. The metadata
//! directory holds nothing but what the TUF client stores there, so that no role name of a
//! repository can overwrite signet's own files.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::TrustError;

/// The environment variable naming the cache directory.
pub const CACHE_ENV: &str = "SIGNET_TUF_CACHE";

const CURRENT: &str = "current-mirror.json";
const BOOTSTRAP_ROOT: &str = "bootstrap-root.json";
const METADATA: &str = "metadata";
/// A bootstrap root larger than this is not read (Sigstore's is 6 KB).
const MAX_ROOT_BYTES: u64 = 512 * 1024;

/// A TUF cache directory.
#[derive(Debug, Clone)]
pub struct TufCache {
    dir: PathBuf,
}

impl TufCache {
    /// The cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TufCache { dir: dir.into() }
    }

    /// The cache directory from the environment: `$SIGNET_TUF_CACHE`, else
    /// `$XDG_CACHE_HOME/signet/tuf`, else `$HOME/.cache/signet/tuf` (the XDG variables count
    /// only when absolute, as the XDG specification says).
    pub fn from_env() -> Result<Self, TrustError> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var(CACHE_ENV) {
            return Ok(TufCache::new(dir));
        }
        let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
        if let Some(xdg) = absolute("XDG_CACHE_HOME") {
            return Ok(TufCache::new(xdg.join("signet").join("tuf")));
        }
        if let Some(home) = absolute("HOME") {
            return Ok(TufCache::new(
                home.join(".cache").join("signet").join("tuf"),
            ));
        }
        Err(TrustError::NoCacheDirectory)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of one mirror's TUF metadata and targets.
    pub fn mirror_dir(&self, url: &str) -> PathBuf {
        self.mirror_home(url).join(METADATA)
    }

    fn mirror_home(&self, url: &str) -> PathBuf {
        self.dir.join(dir_name(url))
    }

    /// The mirror last initialized, if any.
    pub fn current(&self) -> Result<Option<String>, TrustError> {
        let path = self.dir.join(CURRENT);
        let bytes = match read_bounded(&path)? {
            Some(bytes) => bytes,
            None => return Ok(None),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e))?;
        match value.get("mirror").and_then(serde_json::Value::as_str) {
            Some(url) => Ok(Some(url.to_owned())),
            None => Err(corrupt(&path, "no \"mirror\" string")),
        }
    }

    pub(crate) fn set_current(&self, url: &str) -> Result<(), TrustError> {
        let text = serde_json::json!({ "mirror": url }).to_string();
        write_atomic(&self.dir.join(CURRENT), text.as_bytes())
    }

    pub(crate) fn bootstrap_root(&self, url: &str) -> Result<Option<Vec<u8>>, TrustError> {
        read_bounded(&self.mirror_home(url).join(BOOTSTRAP_ROOT))
    }

    pub(crate) fn write_bootstrap_root(&self, url: &str, root: &[u8]) -> Result<(), TrustError> {
        write_atomic(&self.mirror_home(url).join(BOOTSTRAP_ROOT), root)
    }

    pub(crate) fn remove_bootstrap_root(&self, url: &str) -> Result<(), TrustError> {
        let path = self.mirror_home(url).join(BOOTSTRAP_ROOT);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(TrustError::io(format!("removing {}", path.display()), e))
            }
            _ => Ok(()),
        }
    }
}

/// A URL as one file name: ASCII letters, digits, `-`, `_`, `.` kept, every other byte as
/// `%XX`, so two mirrors never share a directory.
fn dir_name(url: &str) -> String {
    let mut name = String::with_capacity(url.len() * 2);
    for byte in url.trim_end_matches('/').bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    name
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> TrustError {
    TrustError::io(
        format!("reading {}", path.display()),
        std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()),
    )
}

fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, TrustError> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(TrustError::io(format!("opening {}", path.display()), e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_ROOT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TrustError::io(format!("reading {}", path.display()), e))?;
    if bytes.len() as u64 > MAX_ROOT_BYTES {
        return Err(corrupt(path, format!("larger than {MAX_ROOT_BYTES} bytes")));
    }
    Ok(Some(bytes))
}

/// Writes through a temporary file in the destination directory, then renames.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrustError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| TrustError::io(format!("creating {}", dir.display()), e))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| TrustError::io(format!("creating a file in {}", dir.display()), e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| TrustError::io(format!("writing {}", path.display()), e))?;
    file.persist(path)
        .map_err(|e| TrustError::io(format!("renaming to {}", path.display()), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_get_distinct_directories() {
        let cache = TufCache::new("/c");
        assert_eq!(
            cache.mirror_dir("https://tuf-repo-cdn.sigstore.dev/"),
            Path::new("/c/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/metadata")
        );
        assert_ne!(
            cache.mirror_dir("http://127.0.0.1:1/a"),
            cache.mirror_dir("http://127.0.0.1:1/a/b")
        );
        assert_ne!(
            cache.mirror_dir("http://x/a_b"),
            cache.mirror_dir("http://x/a%5Fb")
        );
    }

    #[test]
    fn current_mirror_round_trips() -> Result<(), TrustError> {
        let dir = tempfile::tempdir().map_err(|e| TrustError::io("tempdir", e))?;
        let cache = TufCache::new(dir.path().join("nested"));
        assert_eq!(cache.current()?, None);
        cache.set_current("http://127.0.0.1:8080")?;
        assert_eq!(cache.current()?.as_deref(), Some("http://127.0.0.1:8080"));
        Ok(())
    }
}
