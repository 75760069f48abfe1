//! Rego conditions with Cosign's `--policy` semantics, evaluated by regorus.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde::Deserialize;

use super::time::quote;

/// The rule Cosign queries (`pkg/cosign/rego`: `QUERY = "data.signature.allow"`).
const ALLOW: &str = "data.signature.allow";
/// The optional rule whose messages explain a denial.
const DENY: &str = "data.signature.deny";
/// The file name regorus reports in errors.
const FILE: &str = "policy.rego";
/// How many `deny` messages a reason quotes.
const MAX_MESSAGES: usize = 5;

/// The default bound on one evaluation's wall-clock time.
pub const DEFAULT_REGO_TIME_LIMIT: Duration = Duration::from_secs(2);

/// How many interpreter steps pass between two looks at the clock.
const CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// A Rego module with Cosign's `--policy` semantics: it must be `package signature`, it is
/// evaluated with `input` set to the whole in-toto statement, and it passes only when
/// `data.signature.allow` is exactly `true` (undefined, `false` or any other value fails). A
/// `deny` rule, if the module has one, supplies the messages of a failure. Modules are read as
/// Cosign reads them (Rego v0 syntax; `import rego.v1` opts into v1).
///
/// It is compiled when the policy is loaded, so syntax errors, unsafe variables, a wrong
/// package or a missing `allow` rule are load errors. (regorus resolves function names only
/// when a call is evaluated: an unknown function is an evaluation error, so a denial.) In YAML
/// it is the module's text:
///
/// ```yaml
/// rego: |
///   package signature
///   default allow = false
///   allow {
///     input.predicate.builder.id == "https://github.com/acme/builder"
///   }
///   deny[msg] {
///     not allow
///     msg := sprintf("builder %v is not trusted", [input.predicate.builder.id])
///   }
/// ```
///
/// Each evaluation is bounded in wall-clock time ([`DEFAULT_REGO_TIME_LIMIT`]); memory is not
/// bounded (regorus only bounds it with a global allocator feature), so modules are trusted
/// like the rest of the policy.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct RegoCondition {
    source: String,
    /// Parsed and prepared; cloned per evaluation (a few reference-count increments).
    engine: Engine,
    has_deny: bool,
    time_limit: Duration,
}

/// Why a Rego module cannot be used. regorus reports its diagnostics as text (it has no typed
/// errors), kept here on one line with the location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegoError {
    /// The module does not parse.
    #[error("the Rego policy does not parse: {diagnostic}")]
    Parse {
        /// regorus' diagnostic (`policy.rego:2:27: …`).
        diagnostic: String,
    },
    /// The module is another package than Cosign queries.
    #[error(
        "the Rego policy must be `package signature` (Cosign's --policy convention, which queries {ALLOW}), not `package {package}`"
    )]
    WrongPackage {
        /// The package it declares.
        package: String,
    },
    /// The module's rules could not be listed.
    #[error("the Rego policy cannot be inspected: {diagnostic}")]
    Inspect {
        /// regorus' diagnostic.
        diagnostic: String,
    },
    /// The module has no `allow` rule.
    #[error(
        "the Rego policy defines no `allow` rule, so {ALLOW} would always be undefined and deny"
    )]
    NoAllowRule,
    /// The module does not compile (imports, functions, rule dependencies).
    #[error("the Rego policy does not compile: {diagnostic}")]
    Compile {
        /// regorus' diagnostic.
        diagnostic: String,
    },
}

/// Why a statement failed a Rego condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegoFailure {
    /// The statement is not UTF-8.
    #[error("the Rego policy cannot read the statement: it is not UTF-8")]
    NotUtf8,
    /// regorus could not read the statement as its input.
    #[error("the Rego policy cannot read the statement: {diagnostic}")]
    Input {
        /// regorus' diagnostic.
        diagnostic: String,
    },
    /// Evaluating `allow` failed (an unknown function, the time limit).
    #[error("the Rego policy failed to evaluate {ALLOW}: {diagnostic}")]
    Evaluation {
        /// regorus' diagnostic.
        diagnostic: String,
    },
    /// `allow` is not `true`.
    #[error("the Rego policy denied: {ALLOW} is {allow}, not true{}", deny_messages(.messages, *.total))]
    Denied {
        /// What `allow` evaluated to (`undefined`, `false`, JSON cut to 200 characters).
        allow: String,
        /// The first `deny` messages, quoted.
        messages: Vec<String>,
        /// How many `deny` messages there are.
        total: usize,
    },
}

/// ` (deny: "a"; "b"; and 3 more)`, or nothing without messages.
fn deny_messages(shown: &[String], total: usize) -> String {
    if total == 0 {
        return String::new();
    }
    let mut text = format!(" (deny: {}", shown.join("; "));
    if total > shown.len() {
        text.push_str(&format!("; and {} more", total - shown.len()));
    }
    text.push(')');
    text
}

impl RegoCondition {
    /// Compiles `source`; `Err` says why it cannot be used (with regorus' line and column).
    pub fn compile(source: &str) -> Result<Self, RegoError> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        let package = engine
            .add_policy(FILE.to_owned(), source.to_owned())
            .map_err(|e| RegoError::Parse {
                diagnostic: one_line(&e),
            })?;
        if package != "data.signature" {
            return Err(RegoError::WrongPackage {
                package: package.strip_prefix("data.").unwrap_or(&package).to_owned(),
            });
        }
        let declares = |rule: &str| {
            engine
                .has_declared_rule_rooted_at(FILE, rule)
                .map_err(|e| RegoError::Inspect {
                    diagnostic: one_line(&e),
                })
        };
        if !declares("allow")? {
            return Err(RegoError::NoAllowRule);
        }
        let has_deny = declares("deny")?;
        // Preparing resolves imports, functions and rule dependencies: errors surface now
        // rather than at the first evaluation.
        engine
            .compile_with_entrypoint(&ALLOW.into())
            .map_err(|e| RegoError::Compile {
                diagnostic: one_line(&e),
            })?;
        // `print` output is gathered in each evaluation's engine and dropped, never written to
        // the process's stderr.
        engine.set_gather_prints(true);
        let mut condition = Self {
            source: source.to_owned(),
            engine,
            has_deny,
            time_limit: DEFAULT_REGO_TIME_LIMIT,
        };
        condition.set_time_limit(DEFAULT_REGO_TIME_LIMIT);
        Ok(condition)
    }

    /// The same module with another bound on each evaluation's wall-clock time.
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.set_time_limit(limit);
        self
    }

    fn set_time_limit(&mut self, limit: Duration) {
        self.time_limit = limit;
        self.engine
            .set_execution_timer_config(ExecutionTimerConfig {
                limit,
                check_interval: CHECK_INTERVAL,
            });
    }

    /// The module's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against the statement; `Err` is the reason.
    pub(super) fn check(&self, statement: &[u8]) -> Result<(), RegoFailure> {
        let text = std::str::from_utf8(statement).map_err(|_| RegoFailure::NotUtf8)?;
        let input = Value::from_json_str(text).map_err(|e| RegoFailure::Input {
            diagnostic: one_line(&e),
        })?;
        let mut engine = self.engine.clone();
        engine.set_input(input);
        let allow = engine
            .eval_rule(ALLOW.to_owned())
            .map_err(|e| RegoFailure::Evaluation {
                diagnostic: one_line(&e),
            })?;
        if allow == Value::Bool(true) {
            return Ok(());
        }
        let found = match &allow {
            Value::Undefined => "undefined".to_owned(),
            other => other
                .to_json_str()
                .map(|s| cut(&s))
                .unwrap_or_else(|_| "not JSON".to_owned()),
        };
        let (messages, total) = if self.has_deny {
            engine
                .eval_rule(DENY.to_owned())
                .ok()
                .map(messages)
                .unwrap_or_default()
        } else {
            (Vec::new(), 0)
        };
        Err(RegoFailure::Denied {
            allow: found,
            messages,
            total,
        })
    }
}

/// The first [`MAX_MESSAGES`] messages of a `deny` set (or array), and how many there are.
fn messages(deny: Value) -> (Vec<String>, usize) {
    let items: Vec<&Value> = match &deny {
        Value::Set(set) => set.iter().collect(),
        Value::Array(array) => array.iter().collect(),
        Value::Undefined => Vec::new(),
        other => vec![other],
    };
    let shown = items
        .iter()
        .take(MAX_MESSAGES)
        .map(|v| match v {
            Value::String(s) => quote(s),
            other => other.to_json_str().map(|s| quote(&s)).unwrap_or_default(),
        })
        .collect();
    (shown, items.len())
}

/// regorus' multi-line diagnostic (location, source excerpt, caret, message) as one line:
/// `policy.rego:2:27: could not find function f`.
fn one_line(error: &impl fmt::Display) -> String {
    let text = error.to_string();
    let lines = || text.lines().map(str::trim);
    let location = lines().find_map(|l| l.strip_prefix("-->")).map(str::trim);
    let message = lines()
        .find_map(|l| l.strip_prefix("error:"))
        .map(str::trim);
    match (location, message) {
        (Some(location), Some(message)) => format!("{location}: {message}"),
        _ => cut(&text.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

/// JSON text cut to 200 characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

impl TryFrom<String> for RegoCondition {
    type Error = RegoError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::compile(&value)
    }
}

impl PartialEq for RegoCondition {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.time_limit == other.time_limit
    }
}

impl fmt::Debug for RegoCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegoCondition")
            .field("source_bytes", &self.source.len())
            .field("has_deny", &self.has_deny)
            .field("time_limit", &self.time_limit)
            .finish_non_exhaustive()
    }
}
