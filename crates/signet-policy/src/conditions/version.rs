//! Semantic versions and version ranges for SBOM package rules.
//!
//! Small and self-contained (the `semver` crate is not a direct dependency): precedence as
//! SemVer 2.0.0 §11 defines it, build metadata ignored. One deliberate difference from Cargo's
//! `VersionReq`: a pre-release is compared by plain precedence, so `<2.17.1` matches
//! `2.17.1-rc1`. A rule here *denies*, and a release candidate of the fixed version is not
//! known to be fixed.

use std::cmp::Ordering;
use std::fmt;

use serde::Deserialize;

/// A version: `MAJOR.MINOR.PATCH`, optional pre-release; build metadata is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Identifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    Numeric(u64),
    Alpha(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Numeric(a), Self::Numeric(b)) => a.cmp(b),
            (Self::Numeric(_), Self::Alpha(_)) => Ordering::Less,
            (Self::Alpha(_), Self::Numeric(_)) => Ordering::Greater,
            (Self::Alpha(a), Self::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                Identifier::Numeric(n) => write!(f, "{n}")?,
                Identifier::Alpha(a) => f.write_str(a)?,
            }
        }
        Ok(())
    }
}

/// How a package's version was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parsed {
    /// Valid SemVer 2.0.0.
    Strict(Version),
    /// Read leniently: a leading `v` dropped, `1.2` read as `1.2.0`.
    Lenient(Version),
    /// Not a version this module can compare.
    Unreadable,
}

impl Version {
    /// Strict SemVer 2.0.0.
    fn strict(text: &str) -> Option<Self> {
        let (version, _build) = match text.split_once('+') {
            Some((v, build)) => (v, Some(build).filter(|b| valid_dotted(b, false))?),
            None => (text, ""),
        };
        let (core, pre) = match version.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (version, None),
        };
        let mut parts = core.split('.');
        let major = numeric(parts.next()?)?;
        let minor = numeric(parts.next()?)?;
        let patch = numeric(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) if valid_dotted(pre, true) => pre
                .split('.')
                .map(|id| match numeric(id) {
                    Some(n) => Identifier::Numeric(n),
                    None => Identifier::Alpha(id.to_owned()),
                })
                .collect(),
            Some(_) => return None,
        };
        Some(Self {
            major,
            minor,
            patch,
            pre,
        })
    }

    /// Strict, else lenient: a leading `v`/`V` dropped, a missing minor or patch read as 0.
    pub(super) fn parse(text: &str) -> Parsed {
        if let Some(v) = Self::strict(text) {
            return Parsed::Strict(v);
        }
        match Self::lenient(text) {
            Some((v, _)) => Parsed::Lenient(v),
            None => Parsed::Unreadable,
        }
    }

    /// The lenient reading, with how many of major/minor/patch were written (for `^`, `~`).
    fn lenient(text: &str) -> Option<(Self, usize)> {
        let text = text.trim();
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let end = text.find(['-', '+']).unwrap_or(text.len());
        let (core, tail) = text.split_at(end);
        let written = core.split('.').count();
        if !(1..=3).contains(&written) {
            return None;
        }
        let padded = match written {
            1 => format!("{core}.0.0{tail}"),
            2 => format!("{core}.0{tail}"),
            _ => text.to_owned(),
        };
        Self::strict(&padded).map(|v| (v, written))
    }

    fn bump(&self, written: usize, caret: bool) -> Self {
        let (major, minor, patch) = match (caret, written) {
            // ^1.2.3 → <2.0.0; ^0.2.3 → <0.3.0; ^0.0.3 → <0.0.4
            (true, _) if self.major > 0 || written == 1 => (self.major + 1, 0, 0),
            (true, 2) => (0, self.minor + 1, 0),
            (true, _) if self.minor > 0 => (0, self.minor + 1, 0),
            (true, _) => (0, 0, self.patch + 1),
            // ~1 → <2.0.0; ~1.2 and ~1.2.3 → <1.3.0
            (false, 1) => (self.major + 1, 0, 0),
            (false, _) => (self.major, self.minor + 1, 0),
        };
        Self {
            major,
            minor,
            patch,
            pre: vec![Identifier::Numeric(0)],
        }
    }
}

/// A numeric identifier: digits, no leading zero.
fn numeric(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

/// Dot-separated non-empty `[0-9A-Za-z-]` identifiers (numeric ones without leading zeros when
/// `pre`).
fn valid_dotted(text: &str, pre: bool) -> bool {
    text.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (!pre || !id.bytes().all(|b| b.is_ascii_digit()) || numeric(id).is_some())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        let ord = v.cmp(&self.version);
        match self.op {
            Op::Eq => ord == Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
        }
    }
}

/// A version range: comparators `<`, `<=`, `>`, `>=`, `=` (or a bare version), `^`, `~`,
/// joined by `,` or spaces (all must hold), alternatives joined by `||`; `*` is any version.
/// Versions in a range may be partial (`<2` is `<2.0.0`) and may start with `v`.
///
/// In YAML it is a string: `versions: ">=2.0.0, <2.17.1"`. A range that does not parse is a
/// policy load error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct VersionRange {
    text: String,
    any_of: Vec<Vec<Comparator>>,
}

impl VersionRange {
    /// Parses a range such as `<2.17.1`, `>=1.0.0, <1.2.0`, `^1.2 || >=3`.
    pub fn parse(text: &str) -> Result<Self, VersionRangeError> {
        let invalid = |problem| VersionRangeError {
            text: text.to_owned(),
            problem,
        };
        let mut any_of = Vec::new();
        for alternative in text.split("||") {
            let mut all_of = Vec::new();
            let mut rest = alternative.trim_start_matches([' ', '\t', ',']);
            if rest.trim() == "*" {
                all_of.push(Comparator {
                    op: Op::Ge,
                    version: Version {
                        major: 0,
                        minor: 0,
                        patch: 0,
                        pre: vec![Identifier::Numeric(0)],
                    },
                });
                any_of.push(all_of);
                continue;
            }
            while !rest.is_empty() {
                let (op, after) = [
                    (">=", "ge"),
                    ("<=", "le"),
                    ("==", "eq"),
                    (">", "gt"),
                    ("<", "lt"),
                    ("=", "eq"),
                    ("^", "caret"),
                    ("~", "tilde"),
                ]
                .iter()
                .find_map(|(token, name)| rest.strip_prefix(token).map(|r| (*name, r)))
                .unwrap_or(("eq", rest));
                let after = after.trim_start();
                let end = after.find([' ', '\t', ',']).unwrap_or(after.len());
                let (word, next) = after.split_at(end);
                if word.is_empty() {
                    return Err(invalid(RangeProblem::MissingVersion));
                }
                let (version, written) = Version::lenient(word)
                    .ok_or_else(|| invalid(RangeProblem::NotAVersion(word.to_owned())))?;
                match op {
                    "caret" | "tilde" => {
                        let upper = version.bump(written, op == "caret");
                        all_of.push(Comparator {
                            op: Op::Ge,
                            version,
                        });
                        all_of.push(Comparator {
                            op: Op::Lt,
                            version: upper,
                        });
                    }
                    _ => all_of.push(Comparator {
                        op: match op {
                            "ge" => Op::Ge,
                            "le" => Op::Le,
                            "gt" => Op::Gt,
                            "lt" => Op::Lt,
                            _ => Op::Eq,
                        },
                        version,
                    }),
                }
                rest = next.trim_start_matches([' ', '\t', ',']);
            }
            if all_of.is_empty() {
                return Err(invalid(RangeProblem::EmptyAlternative));
            }
            any_of.push(all_of);
        }
        Ok(Self {
            text: text.trim().to_owned(),
            any_of,
        })
    }

    pub(super) fn matches(&self, v: &Version) -> bool {
        self.any_of
            .iter()
            .any(|all_of| all_of.iter().all(|c| c.matches(v)))
    }
}

/// Why a version range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version range {}: {problem}; write comparators such as \">=1.0.0, <1.2.0\"",
    super::time::quote(.text)
)]
pub struct VersionRangeError {
    text: String,
    problem: RangeProblem,
}

/// What is wrong with a version range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeProblem {
    /// An operator without a version.
    #[error("a comparator lacks its version")]
    MissingVersion,
    /// A word that is not a version.
    #[error("{0:?} is not a version")]
    NotAVersion(String),
    /// Nothing between two `||`.
    #[error("an alternative is empty")]
    EmptyAlternative,
}

impl TryFrom<String> for VersionRange {
    type Error = VersionRangeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Version {
        match Version::parse(text) {
            Parsed::Strict(v) | Parsed::Lenient(v) => v,
            Parsed::Unreadable => panic!("{text} does not parse"),
        }
    }

    #[test]
    fn versions_order_by_semver_precedence() {
        // SemVer 2.0.0 §11's example, in order.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(version(pair[0]) < version(pair[1]), "{pair:?}");
        }
        assert_eq!(version("1.0.0+build.7"), version("1.0.0"));
    }

    #[test]
    fn versions_parse_strictly_then_leniently() {
        let cases: &[(&str, &str)] = &[
            ("1.2.3", "strict"),
            ("0.0.0-20210405115948-e7630f533fca", "strict"),
            ("1.2.3-rc.1+meta", "strict"),
            ("v1.2.3", "lenient"),
            ("v0.0.0-20210405115948-e7630f533fca", "lenient"),
            ("v2.0.0+incompatible", "lenient"),
            ("1.2", "lenient"),
            ("7", "lenient"),
            ("ddd9132", "unreadable"),
            ("1.2.3.4", "unreadable"),
            ("5.3.20.RELEASE", "unreadable"),
            ("1:2.36-9ubuntu1", "unreadable"),
            ("01.2.3", "unreadable"),
            ("1.2.3-", "unreadable"),
            ("", "unreadable"),
        ];
        for (text, want) in cases {
            let got = match Version::parse(text) {
                Parsed::Strict(_) => "strict",
                Parsed::Lenient(_) => "lenient",
                Parsed::Unreadable => "unreadable",
            };
            assert_eq!(got, *want, "{text}");
        }
        assert_eq!(version("1.2"), version("1.2.0"));
        assert_eq!(version("v1"), version("1.0.0"));
    }

    #[test]
    fn ranges_match_versions() {
        let cases: &[(&str, &str, bool)] = &[
            ("<2.17.1", "2.14.1", true),
            ("<2.17.1", "2.17.1", false),
            ("<2.17.1", "2.17.1-rc1", true),
            ("<2.17.1", "2.17.2", false),
            (">=1.0.0, <1.2.0", "1.1.9", true),
            (">=1.0.0, <1.2.0", "1.2.0", false),
            (">=1.0.0, <1.2.0", "0.9.0", false),
            (">= 1.0.0 < 1.2.0", "1.0.0", true),
            ("<=1.2", "1.2.0", true),
            ("<2", "1.99.99", true),
            ("<2", "2.0.0", false),
            (">1.0.0", "1.0.0", false),
            ("1.2.3", "1.2.3", true),
            ("=1.2.3", "1.2.4", false),
            ("==v1.2.3", "1.2.3", true),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^1.2.3", "1.2.2", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.4", false),
            ("^1", "1.9.9", true),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("~1", "1.9.0", true),
            ("<1.0.0 || >=2.0.0, <2.1.0", "2.0.5", true),
            ("<1.0.0 || >=2.0.0, <2.1.0", "1.5.0", false),
            ("*", "0.0.0-alpha", true),
            ("<0.0.1", "0.0.0-20210405115948-e7630f533fca", true),
        ];
        for (range, v, want) in cases {
            let r = VersionRange::parse(range).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.matches(&version(v)), *want, "{v} in {range}");
        }
    }

    #[test]
    fn bad_ranges_are_load_errors() {
        for bad in ["", "<", "< ,", "<abc", ">=1.0.0 ||", "<1.2.3.4", "=>1.0.0"] {
            assert!(VersionRange::parse(bad).is_err(), "{bad:?} parsed");
        }
        let err = match VersionRange::parse("<abc") {
            Err(e) => e.to_string(),
            Ok(r) => panic!("parsed as {r}"),
        };
        assert!(
            err.contains("\"abc\" is not a version") && err.contains("\"<abc\""),
            "{err}"
        );
    }
}
