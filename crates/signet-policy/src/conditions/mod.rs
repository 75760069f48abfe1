//! Conditions on an attestation's statement: SLSA provenance, SBOM and vulnerability-report
//! checks, and Rego. Pure: the time is an argument, nothing is read but the statement.
//!
//! These types are part of the YAML policy schema (strict: unknown fields are errors, and a
//! duration, version range or Rego module that does not parse is a load error). The
//! evaluator assembles [`Conditions`] from an attestation requirement's `slsa:`, `sbom:`,
//! `vulnerabilities:` and `rego:` fields and calls [`Conditions::check`] on each statement
//! whose signature verified.
//!
//! Statements can be large (a 100 MB SBOM), so nothing here builds a JSON value tree of one.
//! The statement is parsed once with its predicate left as raw JSON
//! ([`signet_core::intoto::Statement`]); each check then deserializes only the fields it
//! reads into borrowed structs, whose strings point into the statement (only strings with
//! JSON escapes are copied), and skips everything else. The exception is Rego, whose `input`
//! is the whole statement: regorus builds its own value of it, one copy, only when a `rego:`
//! condition is set.
//!
//! ```
//! use signet_policy::conditions::{Conditions, SlsaCondition, StringMatch};
//!
//! let conditions = Conditions {
//!     slsa: Some(SlsaCondition {
//!         builder_id: Some(StringMatch::Prefix("https://github.com/acme/".into())),
//!         branch: Some("main".into()),
//!         ..SlsaCondition::default()
//!     }),
//!     ..Conditions::default()
//! };
//! let statement = br#"{"_type": "https://in-toto.io/Statement/v0.1",
//!   "subject": [{"name": "app", "digest": {"sha256": "00"}}],
//!   "predicateType": "https://slsa.dev/provenance/v0.2",
//!   "predicate": {"builder": {"id": "https://github.com/acme/builder@v1"},
//!     "invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/heads/dev"}}}}"#;
//! assert_eq!(
//!     conditions.check(statement, 1_700_000_000).map_err(|e| e.to_string()),
//!     Err("the SLSA provenance was built from ref \"refs/heads/dev\" (its \
//!          invocation.configSource.uri \"git+https://github.com/acme/app@refs/heads/dev\"), \
//!          not branch \"main\"".to_owned())
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use signet_core::intoto::{Statement, StatementError};

mod rego;
mod sbom;
mod slsa;
pub(crate) mod time;
mod version;
mod vsa;
mod vuln;

pub use rego::{DEFAULT_REGO_TIME_LIMIT, RegoCondition, RegoError, RegoFailure};
pub use sbom::{PackageRule, PackageRuleError, SbomCondition, SbomFailure, SbomFormat};
pub use slsa::{SlsaCondition, SlsaFailure};
pub use time::{AgeFailure, DurationError, DurationProblem, MaxAge};
pub use version::{RangeProblem, VersionRange, VersionRangeError};
pub use vsa::{PolicyDigest, VsaCondition};
pub use vuln::{Severity, VulnCondition, VulnFailure};

pub(crate) use sbom::{percent_decode, purl_base};
pub(crate) use time::quote;

/// Why a statement failed its attestation's conditions: the first condition that failed, with
/// the values it found.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConditionFailure {
    /// The statement cannot be parsed.
    #[error("the attestation's statement cannot be read: {0}")]
    Statement(StatementError),
    /// An SLSA provenance condition failed.
    #[error(transparent)]
    Slsa(#[from] SlsaFailure),
    /// An SBOM condition failed.
    #[error(transparent)]
    Sbom(#[from] SbomFailure),
    /// A vulnerability-report condition failed.
    #[error(transparent)]
    Vulnerabilities(#[from] VulnFailure),
    /// The Rego condition failed.
    #[error(transparent)]
    Rego(#[from] RegoFailure),
    /// A verification summary condition failed.
    #[error(transparent)]
    Vsa(#[from] crate::vsa::VsaFailure),
}

/// A string rule: exact value or prefix. In YAML `{exact: VALUE}` or `{prefix: VALUE}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum StringMatch {
    /// Equal to this value.
    Exact(String),
    /// Starts with this value.
    Prefix(String),
}

impl StringMatch {
    /// Whether `value` satisfies the rule.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(want) => value == want,
            Self::Prefix(want) => value.starts_with(want.as_str()),
        }
    }
}

impl fmt::Display for StringMatch {
    /// `equal "x"` / `start with "x"`, to follow "does not".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(want) => write!(f, "equal {}", time::quote(want)),
            Self::Prefix(want) => write!(f, "start with {}", time::quote(want)),
        }
    }
}

/// Conditions on an attestation's statement. Every condition set must hold; they are checked
/// in the order of the fields, and the first failure is the reason.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions {
    /// SLSA provenance checks (YAML `slsa:`).
    pub slsa: Option<SlsaCondition>,
    /// SBOM checks (YAML `sbom:`).
    pub sbom: Option<SbomCondition>,
    /// Vulnerability-report checks (YAML `vulnerabilities:`).
    pub vulnerabilities: Option<VulnCondition>,
    /// A Rego module with Cosign's `--policy` semantics (YAML `rego:`).
    pub rego: Option<RegoCondition>,
    /// SLSA verification summary checks (YAML `vsa:`).
    pub vsa: Option<VsaCondition>,
}

impl Conditions {
    /// Whether there is no condition at all (then [`check`](Self::check) passes any
    /// statement without reading it).
    pub fn is_empty(&self) -> bool {
        self.slsa.is_none()
            && self.sbom.is_none()
            && self.vulnerabilities.is_none()
            && self.rego.is_none()
            && self.vsa.is_none()
    }

    /// Checks `statement` (the in-toto statement JSON, v0.1 or v1) at `now_unix`; `Err` says
    /// which check failed and why, in one sentence naming the values found.
    pub fn check(&self, statement: &[u8], now_unix: i64) -> Result<(), ConditionFailure> {
        if self.is_empty() {
            return Ok(());
        }
        let parsed = Statement::parse(statement).map_err(ConditionFailure::Statement)?;
        let predicate_type = parsed.predicate_type.as_str();
        if let Some(slsa) = &self.slsa {
            slsa.check(predicate_type, parsed.predicate)?;
        }
        if let Some(sbom) = &self.sbom {
            sbom.check(predicate_type, parsed.predicate, now_unix)?;
        }
        if let Some(vulnerabilities) = &self.vulnerabilities {
            vulnerabilities.check(predicate_type, parsed.predicate, now_unix)?;
        }
        if let Some(rego) = &self.rego {
            rego.check(statement)?;
        }
        if let Some(vsa) = &self.vsa {
            vsa.check(predicate_type, parsed.predicate, now_unix)?;
        }
        Ok(())
    }
}

/// A JSON string borrowed from the statement when it has no escapes, owned otherwise.
/// (serde's own `Cow<str>` borrows only as a direct field with `#[serde(borrow)]`, never
/// inside an `Option` or a `Vec`.)
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text<'a>(Cow<'a, str>);

impl<'a> Text<'a> {
    fn into_cow(self) -> Cow<'a, str> {
        self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(value: &'a str) -> Self {
        Self(Cow::Borrowed(value))
    }
}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// The first element of a JSON array; the rest is skipped without being kept.
struct First<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }

        deserializer.deserialize_seq(FirstVisitor(PhantomData))
    }
}

/// Calls `f` on each element of the JSON array `raw` (or none for `null`) as it is parsed:
/// the elements are never held together.
fn for_each<'a, T, F>(raw: &'a RawValue, f: F) -> serde_json::Result<()>
where
    T: Deserialize<'a>,
    F: FnMut(T),
{
    struct Each<T, F>(F, PhantomData<T>);

    impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array")
        }

        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element()? {
                (self.0)(item);
            }
            Ok(())
        }
    }

    impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for Each<T, F> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    if raw.get() == "null" {
        return Ok(());
    }
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    Each(f, PhantomData).deserialize(&mut deserializer)?;
    deserializer.end()
}

#[cfg(test)]
mod tests;
