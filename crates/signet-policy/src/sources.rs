//! What a loaded policy was built from, and a revision that changes when any of it does.
//!
//! A long-running verifier (an admission server) keeps verdicts per policy revision and
//! reloads the policy when its files change. Both need the same list: the policy file itself
//! and every file it pulled in — the key and trusted-root files a YAML policy names, the key
//! files and `registries.d` YAML files of a `policy.json`. [`PolicySources`] records each with
//! the sha256 of the bytes that were read; [`PolicyRevision`] is the sha256 over that list, so
//! two replicas that loaded the same files report the same revision, and a verdict cached
//! under one revision is never served under another.

use std::fmt;
use std::path::{Path, PathBuf};

use signet_core::digest::{Digest, DigestAlgorithm, Hasher};

/// The largest file [`PolicySources::changed`] re-reads to compare (a policy file is at most
/// 4 MiB, keys and trusted roots 1 MiB; anything larger has changed into something the
/// loader would refuse).
const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// The content digest of a loaded policy and every file it read: equal revisions, equal
/// inputs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyRevision(Digest);

impl PolicyRevision {
    /// The revision of content that was not read from files (a policy given as text, a
    /// trusted root given as bytes): the sha256 of those bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(Digest::sha256_of(bytes))
    }

    /// The digest.
    pub fn digest(&self) -> &Digest {
        &self.0
    }
}

impl fmt::Display for PolicyRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The files a policy was loaded from, each with the digest of what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySources {
    files: Vec<(PathBuf, Option<Digest>)>,
    revision: PolicyRevision,
}

impl PolicySources {
    /// Sources from `(path, digest of what was read)` pairs, in the order they were read;
    /// `None` for a file that was looked for and is absent (a `registries.d` that does not
    /// exist configures nothing, and appearing later is a change).
    pub(crate) fn from_reads(reads: Vec<(PathBuf, Option<Digest>)>) -> Self {
        let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
        for (path, digest) in &reads {
            let path = path.to_string_lossy();
            let digest = digest.as_ref().map(ToString::to_string).unwrap_or_default();
            // Length-prefixed, so that no two lists hash alike.
            hasher.update(&(path.len() as u64).to_be_bytes());
            hasher.update(path.as_bytes());
            hasher.update(&(digest.len() as u64).to_be_bytes());
            hasher.update(digest.as_bytes());
        }
        Self {
            revision: PolicyRevision(hasher.finish()),
            files: reads,
        }
    }

    /// The revision: changes when any source file's content, or the list of files, does.
    pub fn revision(&self) -> &PolicyRevision {
        &self.revision
    }

    /// Each file read, with the digest of its content then (`None`: absent then).
    pub fn files(&self) -> &[(PathBuf, Option<Digest>)] {
        &self.files
    }

    /// Whether some file now reads differently (or no longer reads at all) from when the
    /// policy was loaded: the cheap test a watcher runs before reloading. A file the policy
    /// would now add (a new `registries.d` file, a key newly named) is noticed through the
    /// file that names it, which changed too — except a new file in `registries.d`, which the
    /// directory's entry in the list (its listing) covers.
    pub fn changed(&self) -> bool {
        self.files
            .iter()
            .any(|(path, digest)| current_digest(path) != *digest)
    }
}

/// The digest of `path` as a source: a regular file's bytes, or a directory's sorted listing.
pub(crate) fn current_digest(path: &Path) -> Option<Digest> {
    let metadata = std::fs::metadata(path).ok()?;
    if metadata.is_dir() {
        return Some(Digest::sha256_of(listing(path)?.as_bytes()));
    }
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SOURCE_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(Digest::sha256_of(&bytes))
}

/// A directory's entry names, sorted, one per line.
fn listing(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names.join("\n"))
}

/// The files a `policy.json` pulls in besides itself: the key files it names (`keyPath`,
/// `keyPaths`, `rekorPublicKeyPath`, `rekorPublicKeyPaths`, wherever they appear), and the
/// `registries.d` directory's listing and YAML files. Paths are as containers/image opens
/// them (key paths relative to the working directory).
pub(crate) fn containers_policy_reads(policy_json: &[u8], registries_d: &Path) -> Vec<PathBuf> {
    fn walk(value: &serde_json::Value, out: &mut Vec<PathBuf>) {
        match value {
            serde_json::Value::Object(members) => {
                for (name, member) in members {
                    match (name.as_str(), member) {
                        ("keyPath" | "rekorPublicKeyPath", serde_json::Value::String(p)) => {
                            out.push(PathBuf::from(p));
                        }
                        ("keyPaths" | "rekorPublicKeyPaths", serde_json::Value::Array(ps)) => {
                            out.extend(ps.iter().filter_map(|p| p.as_str()).map(PathBuf::from));
                        }
                        _ => walk(member, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut reads = Vec::new();
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(policy_json) {
        walk(&document, &mut reads);
    }
    reads.push(registries_d.to_path_buf());
    if let Some(names) = listing(registries_d) {
        reads.extend(
            names
                .lines()
                .filter(|n| n.ends_with(".yaml"))
                .map(|n| registries_d.join(n)),
        );
    }
    reads
}

/// Most files [`tree_reads`] records under one directory.
const MAX_TREE_FILES: usize = 1024;

/// A directory tree as sources: each directory (its listing) and each file under it, down to
/// four levels (Notation's `truststore/x509/<type>/<name>/<file>`), in a stable order.
pub(crate) fn tree_reads(dir: &Path) -> Vec<(PathBuf, Option<Digest>)> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, Option<Digest>)>) {
        out.push((dir.to_path_buf(), current_digest(dir)));
        if depth == 0 || out.len() >= MAX_TREE_FILES {
            return;
        }
        let Some(names) = listing(dir) else { return };
        for name in names.lines().filter(|n| !n.is_empty()) {
            let path = dir.join(name);
            if out.len() >= MAX_TREE_FILES {
                return;
            }
            if path.is_dir() {
                walk(&path, depth - 1, out);
            } else {
                out.push((path.clone(), current_digest(&path)));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, 4, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_depends_on_names_and_contents() {
        let a = Some(Digest::sha256_of(b"a"));
        let b = Some(Digest::sha256_of(b"b"));
        let one = PolicySources::from_reads(vec![("p".into(), a.clone()), ("k".into(), b.clone())]);
        let same =
            PolicySources::from_reads(vec![("p".into(), a.clone()), ("k".into(), b.clone())]);
        let other_content =
            PolicySources::from_reads(vec![("p".into(), a.clone()), ("k".into(), a.clone())]);
        let other_name = PolicySources::from_reads(vec![("p".into(), a), ("k2".into(), b)]);
        assert_eq!(one.revision(), same.revision());
        assert_ne!(one.revision(), other_content.revision());
        assert_ne!(one.revision(), other_name.revision());
    }

    #[test]
    fn changed_notices_edits_and_removals() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("key.pub");
        std::fs::write(&file, b"one").unwrap_or_else(|e| panic!("{e}"));
        let sources = PolicySources::from_reads(vec![(file.clone(), current_digest(&file))]);
        assert!(!sources.changed());
        std::fs::write(&file, b"two").unwrap_or_else(|e| panic!("{e}"));
        assert!(sources.changed(), "an edited file is a change");
        std::fs::remove_file(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(sources.changed(), "a removed file is a change");
    }

    #[test]
    fn containers_policy_key_paths_are_sources() {
        let json = br#"{"default":[{"type":"reject"}],"transports":{"docker":{"r.example/a":[
            {"type":"sigstoreSigned","keyPath":"/k/a.pub","signedIdentity":{"type":"matchRepository"}},
            {"type":"sigstoreSigned","keyPaths":["/k/b.pub","/k/c.pub"],"rekorPublicKeyPath":"/k/rekor.pub"}]}}}"#;
        let reads = containers_policy_reads(json, Path::new("/nonexistent/registries.d"));
        let names: Vec<_> = reads
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "/k/a.pub",
                "/k/b.pub",
                "/k/c.pub",
                "/k/rekor.pub",
                "/nonexistent/registries.d"
            ]
        );
    }
}
