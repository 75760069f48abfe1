//! Image scopes: globs on the normalised repository name; file scopes: globs on a file name.
//!
//! `*` matches within one path segment (so `*.example.com` matches any host under
//! example.com), a whole segment `**` matches any number of segments (including none).
//! `docker.io` is normalised to `index.docker.io` as image references are.

use std::fmt;

use signet_core::reference::DOCKER_HUB_REGISTRY;

/// A validated scope glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGlob {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`.
    AnyDepth,
    /// Literal pieces between `*`s: `a*b*c` is `["a", "b", "c"]`; a single piece is literal.
    Pattern(Vec<String>),
}

/// Why an image glob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// The glob is empty.
    #[error("an empty image glob matches nothing")]
    Empty,
    /// The glob names a tag or digest, or has spaces.
    #[error("image glob {0:?} must name repositories (registry/path), without tag or digest")]
    NotARepository(String),
    /// Two slashes in a row, or one at an end.
    #[error("image glob {0:?} has an empty path segment")]
    EmptySegment(String),
    /// `**` inside a segment.
    #[error("image glob {0:?}: `**` must be a whole segment (use `*` within a segment)")]
    PartialDoubleStar(String),
    /// A segment with characters a repository name cannot have.
    #[error(
        "image glob {glob:?}: segment {segment:?} has characters a repository name cannot have"
    )]
    Characters {
        /// The glob.
        glob: String,
        /// The segment.
        segment: String,
    },
}

impl ScopeGlob {
    /// Parses a glob; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, GlobError> {
        if text.is_empty() {
            return Err(GlobError::Empty);
        }
        if text.contains(['@', ' '])
            || text
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':') && !text.starts_with(last))
        {
            return Err(GlobError::NotARepository(text.to_owned()));
        }
        let mut segments = Vec::new();
        for (i, raw) in text.split('/').enumerate() {
            if raw.is_empty() {
                return Err(GlobError::EmptySegment(text.to_owned()));
            }
            if raw == "**" {
                segments.push(Segment::AnyDepth);
                continue;
            }
            if raw.contains("**") {
                return Err(GlobError::PartialDoubleStar(text.to_owned()));
            }
            let valid = raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*' | ':'));
            if !valid || (i > 0 && raw.chars().any(|c| c.is_ascii_uppercase() || c == ':')) {
                return Err(GlobError::Characters {
                    glob: text.to_owned(),
                    segment: raw.to_owned(),
                });
            }
            let raw = if i == 0 && raw == "docker.io" {
                DOCKER_HUB_REGISTRY
            } else {
                raw
            };
            segments.push(Segment::Pattern(
                raw.split('*').map(str::to_owned).collect(),
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }

    /// Whether `repository` (`registry/path`, normalised) is in scope.
    pub fn matches(&self, repository: &str) -> bool {
        let names: Vec<&str> = repository.split('/').collect();
        match_segments(&self.segments, &names)
    }

    /// A repository name this glob matches (wildcards filled in), for lint checks.
    pub fn example(&self) -> String {
        let parts: Vec<String> = self
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::AnyDepth => None,
                Segment::Pattern(pieces) => Some(pieces.join("x")),
            })
            .collect();
        parts.join("/")
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ScopeGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Wildcard matching with `**` as the star: on a mismatch, only the last `**` seen takes one
/// more name, so the work is at most globs × names (trying every split for every `**` was
/// exponential in their number).
fn match_segments(globs: &[Segment], names: &[&str]) -> bool {
    let (mut g, mut n) = (0, 0);
    // After the last `**`: the glob index that follows it, and where its names end.
    let mut retry: Option<(usize, usize)> = None;
    while n < names.len() {
        match globs.get(g) {
            Some(Segment::AnyDepth) => {
                g += 1;
                retry = Some((g, n));
            }
            Some(Segment::Pattern(pieces)) if match_pieces(pieces, names[n]) => {
                g += 1;
                n += 1;
            }
            _ => match retry {
                Some((after, end)) => {
                    retry = Some((after, end + 1));
                    (g, n) = (after, end + 1);
                }
                None => return false,
            },
        }
    }
    globs[g..].iter().all(|s| *s == Segment::AnyDepth)
}

/// `pieces` joined by `*` (which matches any run of characters) matches `name` entirely.
fn match_pieces(pieces: &[String], name: &str) -> bool {
    let [first, middle @ .., last] = pieces else {
        return pieces.first().is_some_and(|p| p == name);
    };
    let Some(mut rest) = name.strip_prefix(first.as_str()) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece.as_str()) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last.as_str())
}

/// A file scope (`files:` of a policy for release files): a glob over a file's name, its last
/// path component. `*` and `?` match within the name, `[...]` is a class, as globset
/// (ripgrep's glob crate) reads them; a glob with `/` is refused, since only the name is
/// matched.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct FileGlob {
    text: String,
    matcher: globset::GlobMatcher,
}

/// Why a file glob was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FileGlobError {
    /// The glob is empty.
    #[error("an empty file glob matches nothing")]
    Empty,
    /// The glob has a `/`.
    #[error("file glob {0:?} has a `/`: file globs match a file's name, not its directory")]
    Path(String),
    /// globset refused it.
    #[error("file glob {text:?}")]
    Syntax {
        /// The glob.
        text: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
}

impl FileGlob {
    /// Parses a glob; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, FileGlobError> {
        if text.is_empty() {
            return Err(FileGlobError::Empty);
        }
        if text.contains('/') {
            return Err(FileGlobError::Path(text.to_owned()));
        }
        let glob = globset::GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|source| FileGlobError::Syntax {
                text: text.to_owned(),
                source,
            })?;
        Ok(Self {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether the file named `name` (a name, or a path whose last component is compared) is
    /// in scope.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
        self.matcher.is_match(name)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for FileGlob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for FileGlob {}

impl TryFrom<String> for FileGlob {
    type Error = FileGlobError;

    fn try_from(value: String) -> Result<Self, FileGlobError> {
        Self::parse(&value)
    }
}

impl fmt::Display for FileGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> ScopeGlob {
        ScopeGlob::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn star_stays_in_one_segment_and_double_star_spans_any() {
        let g = glob("registry.example.com/prod/*");
        assert!(g.matches("registry.example.com/prod/app"));
        assert!(!g.matches("registry.example.com/prod/team/app"));
        assert!(!g.matches("registry.example.com/prod"));
        let g = glob("registry.example.com/prod/**");
        assert!(g.matches("registry.example.com/prod/team/app"));
        assert!(g.matches("registry.example.com/prod/app"));
        assert!(!g.matches("registry.example.com/staging/app"));
        let g = glob("**");
        assert!(g.matches("anything/at/all"));
    }

    #[test]
    fn host_wildcards_and_docker_hub_normalisation() {
        let g = glob("*.example.com/**");
        assert!(g.matches("registry.example.com/a/b"));
        assert!(g.matches("eu.registry.example.com/a"));
        assert!(!g.matches("example.com/a"));
        assert!(!g.matches("registry.example.org/a"));
        assert!(glob("docker.io/library/nginx").matches("index.docker.io/library/nginx"));
        assert!(glob("127.0.0.1:5000/app-*").matches("127.0.0.1:5000/app-frontend"));
    }

    #[test]
    fn many_double_stars_match_in_time_proportional_to_the_input() {
        // Found by fuzz/fuzz_targets/scope_glob.rs: eight `**` segments against a repository
        // of a few dozen segments took over 20 s (every split tried for every `**`).
        let many = format!("{}*mma-*g", "**/".repeat(40));
        let repository = "a/".repeat(120) + "b";
        assert!(!glob(&many).matches(&repository));
        assert!(glob(&many).matches(&(repository.clone() + "/mma-xg")));
        let alternating = "**/*/".repeat(30) + "**/c";
        assert!(!glob(&alternating).matches(&repository));
        assert!(glob(&alternating).matches(&(repository + "/c")));
        // The meaning is unchanged.
        let g = glob("**/team/**/app");
        assert!(g.matches("team/app"));
        assert!(g.matches("reg.example.com/x/team/y/z/app"));
        assert!(!g.matches("reg.example.com/team/app/x"));
        assert!(!g.matches("reg.example.com/x/app"));
        assert!(glob("a/**/**").matches("a"));
        assert!(!glob("a/*/**").matches("a"));
    }

    #[test]
    fn bad_globs_say_why() {
        for bad in [
            "",
            "a//b",
            "reg/a**",
            "reg/app:latest",
            "reg/app@sha256:x",
            "reg/UPPER",
            "reg/a b",
        ] {
            assert!(ScopeGlob::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_globs_match_the_name_and_refuse_paths() {
        let glob = FileGlob::parse("signet-*-linux-*.tar.gz").unwrap_or_else(|e| panic!("{e}"));
        assert!(glob.matches("signet-1.2.0-linux-x86_64.tar.gz"));
        assert!(glob.matches("dist/signet-1.2.0-linux-x86_64.tar.gz"));
        assert!(!glob.matches("signet-1.2.0-darwin-arm64.tar.gz"));
        assert!(!glob.matches("signet-1.2.0-linux-x86_64.tar.gz.sig"));
        assert!(matches!(
            FileGlob::parse("dist/*.tar.gz"),
            Err(FileGlobError::Path(_))
        ));
        assert!(matches!(FileGlob::parse(""), Err(FileGlobError::Empty)));
        assert!(matches!(
            FileGlob::parse("signet-[.tar.gz"),
            Err(FileGlobError::Syntax { .. })
        ));
    }
}
