//! Writing key files: atomically, private keys with mode 0600, never replacing a file unless
//! asked to.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse if the file exists.
    Refuse,
    /// Replace it (`--force`).
    Replace,
}

/// Why a key file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file exists and `--force` was not given.
    #[error("{} already exists; refusing to overwrite it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Writing failed; nothing was left at the destination.
    #[error("writing {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `contents` to `path` with `mode` through a temporary file in the same directory, so
/// the destination holds either the old file or the complete new one.
pub fn write_key_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    overwrite: Overwrite,
) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() {
        return Err(KeyFileError::Exists {
            path: path.to_owned(),
        });
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    let placed = match overwrite {
        // A hard link fails if the destination appeared meanwhile: no race replaces a key.
        Overwrite::Refuse => fs::hard_link(&tmp, path).and_then(|()| fs::remove_file(&tmp)),
        Overwrite::Replace => fs::rename(&tmp, path),
    };
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(KeyFileError::Exists {
                path: path.to_owned(),
            });
        }
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_private_keys_0600_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("cosign.key");
        write_key_file(&path, b"one", 0o600, Overwrite::Refuse).unwrap_or_else(|e| panic!("{e}"));
        let mode = fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .ok();
        assert_eq!(mode, Some(0o600));
        let again = write_key_file(&path, b"two", 0o600, Overwrite::Refuse);
        assert!(matches!(again, Err(KeyFileError::Exists { .. })));
        assert_eq!(fs::read(&path).ok().as_deref(), Some(&b"one"[..]));
        write_key_file(&path, b"two", 0o600, Overwrite::Replace).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read(&path).ok().as_deref(), Some(&b"two"[..]));
        let leftovers = fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0);
        assert_eq!(leftovers, 1, "no temporary files are left behind");
    }
}
