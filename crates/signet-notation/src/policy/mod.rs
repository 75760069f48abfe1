//! Notation's OCI trust policy (`trustpolicy.json` / `trustpolicy.oci.json`, version 1.0),
//! read as-is and validated with notation-go's rules, and the verification levels with their
//! per-validation actions.
//!
//! ```json
//! {
//!   "version": "1.0",
//!   "trustPolicies": [{
//!     "name": "wabbit-networks-images",
//!     "registryScopes": ["registry.acme-rockets.io/software/net-monitor"],
//!     "signatureVerification": {"level": "strict", "override": {"expiry": "log"}},
//!     "trustStores": ["ca:wabbit-networks", "tsa:publicly-trusted-tsa"],
//!     "trustedIdentities": ["x509.subject: C=US, ST=WA, O=wabbit-networks.io"]
//!   }]
//! }
//! ```

mod dn;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

pub use dn::{DistinguishedName, DistinguishedNameError};

use crate::check::Validation;

/// What a level does with a failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// The failure rejects the signature.
    Enforce,
    /// The failure is reported as a warning; the signature may still be accepted.
    Log,
    /// The validation is not performed (revocation only).
    Skip,
}

impl Action {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "enforce" => Some(Self::Enforce),
            "log" => Some(Self::Log),
            "skip" => Some(Self::Skip),
            _ => None,
        }
    }

    /// The name trustpolicy.json uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Log => "log",
            Self::Skip => "skip",
        }
    }
}

/// When an RFC 3161 timestamp countersignature is verified (`verifyTimestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VerifyTimestamp {
    /// Always (the default).
    #[default]
    Always,
    /// Only when a certificate of the signing chain has expired at verification time.
    AfterCertExpiry,
}

/// A verification level with its actions: `strict`, `permissive`, `audit`, or one of them
/// with overrides (a custom level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationLevel {
    name: String,
    actions: [Action; 5],
    verify_timestamp: VerifyTimestamp,
}

impl VerificationLevel {
    /// The table of the specification: integrity is always enforced; `strict` enforces the
    /// rest; `permissive` logs authentic timestamp, expiry and revocation; `audit` also logs
    /// authenticity.
    pub fn named(name: &str) -> Option<Self> {
        use Action::{Enforce as E, Log as L};
        let actions = match name {
            "strict" => [E, E, E, E, E],
            "permissive" => [E, E, L, L, L],
            "audit" => [E, L, L, L, L],
            _ => return None,
        };
        Some(Self {
            name: name.to_owned(),
            actions,
            verify_timestamp: VerifyTimestamp::Always,
        })
    }

    /// `strict`.
    pub fn strict() -> Self {
        Self {
            name: "strict".to_owned(),
            actions: [Action::Enforce; 5],
            verify_timestamp: VerifyTimestamp::Always,
        }
    }

    /// Overrides the action of one validation; integrity cannot be overridden and only
    /// revocation can be skipped.
    pub fn with_override(
        self,
        validation: Validation,
        action: Action,
    ) -> Result<Self, PolicyError> {
        Ok(self.overridden(validation, action)?)
    }

    fn overridden(mut self, validation: Validation, action: Action) -> Result<Self, OverrideError> {
        if validation == Validation::Integrity {
            return Err(OverrideError::Integrity);
        }
        if action == Action::Skip && validation != Validation::Revocation {
            return Err(OverrideError::Skip(validation));
        }
        self.actions[index(validation)] = action;
        self.name = "custom".to_owned();
        Ok(self)
    }

    /// Sets when timestamps are verified.
    pub fn with_verify_timestamp(mut self, when: VerifyTimestamp) -> Self {
        self.verify_timestamp = when;
        self
    }

    /// The level's name (`custom` after an override).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The action for `validation`.
    pub fn action(&self, validation: Validation) -> Action {
        self.actions[index(validation)]
    }

    /// When timestamps are verified.
    pub fn verify_timestamp(&self) -> VerifyTimestamp {
        self.verify_timestamp
    }
}

fn index(v: Validation) -> usize {
    Validation::ALL.iter().position(|x| *x == v).unwrap_or(0)
}

/// A trust store type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StoreType {
    /// `ca`: roots of CAs issuing signing certificates (scheme `notary.x509`).
    Ca,
    /// `signingAuthority`: roots of signing authorities (scheme `notary.x509.signingAuthority`).
    SigningAuthority,
    /// `tsa`: roots of timestamp authorities.
    Tsa,
}

impl StoreType {
    /// The name used in trust store references and directory names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::SigningAuthority => "signingAuthority",
            Self::Tsa => "tsa",
        }
    }

    /// Parses a type name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ca" => Some(Self::Ca),
            "signingAuthority" => Some(Self::SigningAuthority),
            "tsa" => Some(Self::Tsa),
            _ => None,
        }
    }
}

/// A named trust store of a type: `ca:acme-rockets`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreRef {
    /// The type.
    pub kind: StoreType,
    /// The name (`[a-zA-Z0-9_.-]+`).
    pub name: String,
}

impl StoreRef {
    /// Parses `type:name`.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        Ok(Self::parse_text(text)?)
    }

    fn parse_text(text: &str) -> Result<Self, StoreRefError> {
        let (kind, name) = text
            .split_once(':')
            .ok_or_else(|| StoreRefError::NoSeparator(text.to_owned()))?;
        let kind = StoreType::parse(kind).ok_or_else(|| StoreRefError::Type {
            store: text.to_owned(),
            kind: kind.to_owned(),
        })?;
        if !is_valid_store_name(name) {
            return Err(StoreRefError::Name(text.to_owned()));
        }
        Ok(Self {
            kind,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.name(), self.name)
    }
}

/// Whether `name` is a valid named-store (or file) name: `[a-zA-Z0-9_.-]+`.
pub fn is_valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Whom a statement trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustedIdentities {
    /// `*`: any certificate the trust stores lead to.
    Any,
    /// Subjects (`x509.subject: …`) the signing certificate must match, partially. Other
    /// identity kinds (for verification plugins) are kept as written and do not match.
    Subjects {
        /// The parsed `x509.subject` identities.
        subjects: Vec<DistinguishedName>,
        /// Identities of other kinds, which signet (like notation without plugins) ignores.
        other: Vec<String>,
    },
}

impl TrustedIdentities {
    /// Parses a `trustedIdentities` list as notation-go validates it.
    pub fn parse(items: &[String]) -> Result<Self, PolicyError> {
        Ok(Self::parse_items(items)?)
    }

    fn parse_items(items: &[String]) -> Result<Self, IdentityError> {
        if items.iter().any(|i| i == "*") {
            if items.len() > 1 {
                return Err(IdentityError::WildcardWithOthers);
            }
            return Ok(Self::Any);
        }
        let mut subjects = Vec::new();
        let mut other = Vec::new();
        for item in items {
            if item.is_empty() {
                return Err(IdentityError::Empty);
            }
            let (prefix, value) = item
                .split_once(':')
                .ok_or_else(|| IdentityError::NoPrefix(item.clone()))?;
            if prefix == "x509.subject" {
                if value.is_empty() {
                    return Err(IdentityError::NoValue(item.clone()));
                }
                subjects.push(DistinguishedName::parse_text(value)?);
            } else {
                other.push(item.clone());
            }
        }
        for (i, a) in subjects.iter().enumerate() {
            for (j, b) in subjects.iter().enumerate() {
                if i != j && a.overlaps(b) {
                    return Err(IdentityError::Overlap(Box::new((a.clone(), b.clone()))));
                }
            }
        }
        Ok(Self::Subjects { subjects, other })
    }
}

/// Which repositories a statement covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryScopes {
    /// `*`: every repository no other statement names.
    Global,
    /// Fully qualified repositories, `registry/path`.
    Repositories(Vec<String>),
}

/// What a statement does with a signature (the specification has exactly these two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureVerification {
    /// `skip`: no signature is looked at; the artifact passes.
    Skip,
    /// Verify at this level.
    Verify(VerificationLevel),
}

/// One trust policy statement, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    name: String,
    scopes: RegistryScopes,
    verification: SignatureVerification,
    trust_stores: Vec<StoreRef>,
    identities: TrustedIdentities,
}

impl Statement {
    /// A statement built in code (signet's YAML authorities): no scopes.
    pub fn new(
        name: impl Into<String>,
        level: VerificationLevel,
        trust_stores: Vec<StoreRef>,
        identities: TrustedIdentities,
    ) -> Self {
        Self {
            name: name.into(),
            scopes: RegistryScopes::Global,
            verification: SignatureVerification::Verify(level),
            trust_stores,
            identities,
        }
    }

    /// The statement's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The repositories it covers.
    pub fn scopes(&self) -> &RegistryScopes {
        &self.scopes
    }

    /// Skip, or the level to verify at.
    pub fn verification(&self) -> &SignatureVerification {
        &self.verification
    }

    /// The named trust stores.
    pub fn trust_stores(&self) -> &[StoreRef] {
        &self.trust_stores
    }

    /// The trusted identities.
    pub fn identities(&self) -> &TrustedIdentities {
        &self.identities
    }
}

/// A validated OCI trust policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    statements: Vec<Statement>,
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(default)]
    version: String,
    #[serde(rename = "trustPolicies", default)]
    trust_policies: Vec<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(default)]
    name: String,
    #[serde(rename = "registryScopes", default)]
    registry_scopes: Vec<String>,
    #[serde(rename = "signatureVerification", default)]
    signature_verification: RawVerification,
    #[serde(rename = "trustStores", default)]
    trust_stores: Vec<String>,
    #[serde(rename = "trustedIdentities", default)]
    trusted_identities: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RawVerification {
    #[serde(default)]
    level: String,
    #[serde(default)]
    r#override: BTreeMap<String, String>,
    #[serde(rename = "verifyTimestamp", default)]
    verify_timestamp: String,
}

/// Why a trust policy document, or a part of one parsed alone, is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not JSON of the trust policy's shape.
    #[error("malformed trust policy")]
    Malformed(#[source] serde_json::Error),
    /// No `version`.
    #[error("the trust policy has no version; it must be \"1.0\"")]
    NoVersion,
    /// A `version` other than 1.0.
    #[error("trust policy version {0:?} is not supported; signet reads \"1.0\"")]
    Version(String),
    /// No statement.
    #[error("the trust policy has no statements")]
    NoStatements,
    /// A statement without a name.
    #[error("a trust policy statement has no name")]
    UnnamedStatement,
    /// Two statements of the same name.
    #[error("two statements are named {0:?}; names must be unique")]
    DuplicateName(String),
    /// A registry scope in two statements.
    #[error(
        "registry scope {scope:?} is in statements {first:?} and {second:?}; a scope may be in one statement only"
    )]
    SharedScope {
        /// The scope.
        scope: String,
        /// The statement naming it first.
        first: String,
        /// The other statement naming it.
        second: String,
    },
    /// An invalid statement.
    #[error("trust policy statement {name:?}")]
    Statement {
        /// The statement's name.
        name: String,
        /// What is wrong with it.
        #[source]
        source: StatementError,
    },
    /// A trust store reference that is not `type:name`.
    #[error(transparent)]
    TrustStore(#[from] StoreRefError),
    /// Trusted identities notation would refuse.
    #[error(transparent)]
    Identities(#[from] IdentityError),
    /// An `x509.subject` identity notation would refuse.
    #[error(transparent)]
    DistinguishedName(#[from] DistinguishedNameError),
    /// An override the specification does not allow.
    #[error(transparent)]
    Override(#[from] OverrideError),
}

/// What is wrong with one trust policy statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// No `signatureVerification.level`.
    #[error("signatureVerification.level is missing")]
    NoLevel,
    /// An unknown level.
    #[error("invalid signature verification level {0:?}")]
    Level(String),
    /// Overrides of the `skip` level.
    #[error("the skip level cannot be customised")]
    SkipCustomised,
    /// The `skip` level with trust stores or identities.
    #[error("it skips verification but names trust stores or trusted identities")]
    SkipWithTrust,
    /// An override of a validation that does not exist.
    #[error("override of unknown validation {0:?}")]
    UnknownValidation(String),
    /// An override action other than enforce, log or skip.
    #[error("override action {0:?} is not enforce, log or skip")]
    Action(String),
    /// An override the specification does not allow.
    #[error(transparent)]
    Override(#[from] OverrideError),
    /// A `verifyTimestamp` other than `always` or `afterCertExpiry`.
    #[error("verifyTimestamp must be \"always\" or \"afterCertExpiry\", not {0:?}")]
    VerifyTimestamp(String),
    /// A trust store reference that is not `type:name`.
    #[error(transparent)]
    TrustStore(#[from] StoreRefError),
    /// Verification without trust stores or without trusted identities.
    #[error("trust stores and trusted identities must both be given")]
    NoTrust,
    /// Trusted identities notation would refuse.
    #[error(transparent)]
    Identities(#[from] IdentityError),
    /// No `registryScopes`.
    #[error("registryScopes is empty")]
    NoScopes,
    /// `*` with other scopes.
    #[error("the wildcard scope \"*\" cannot be used with other scopes")]
    WildcardScope,
    /// A scope that is not a fully qualified repository.
    #[error(
        "registry scope {0:?} is not valid; it must be a fully qualified repository such as domain.com/my/repository"
    )]
    Scope(String),
}

/// An override of a validation's action that the specification does not allow.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OverrideError {
    /// Integrity is always enforced.
    #[error("integrity verification cannot be overridden")]
    Integrity,
    /// Only revocation can be skipped.
    #[error("{0} verification cannot be skipped")]
    Skip(Validation),
}

/// A trust store reference that is not `type:name`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreRefError {
    /// No `:`.
    #[error("trust store {0:?} is malformed; the format is <type>:<name>")]
    NoSeparator(String),
    /// A type other than `ca`, `signingAuthority` and `tsa`.
    #[error("trust store {store:?} has an unsupported type {kind:?}")]
    Type {
        /// The reference as written.
        store: String,
        /// Its type.
        kind: String,
    },
    /// A name outside `[a-zA-Z0-9_.-]+`.
    #[error("trust store {0:?}: the name must follow [a-zA-Z0-9_.-]+")]
    Name(String),
}

/// A `trustedIdentities` list notation would refuse.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// `*` with other identities.
    #[error("the wildcard identity \"*\" cannot be used with other identities")]
    WildcardWithOthers,
    /// An empty string.
    #[error("an empty trusted identity")]
    Empty,
    /// No `prefix:` (such as `x509.subject:`).
    #[error("trusted identity {0:?} has no prefix separator ':'")]
    NoPrefix(String),
    /// A prefix and nothing after it.
    #[error("trusted identity {0:?} has no value")]
    NoValue(String),
    /// An `x509.subject` value that is not a distinguished name notation reads.
    #[error(transparent)]
    Subject(#[from] DistinguishedNameError),
    /// Two subjects one of which matches whatever the other matches.
    #[error("trusted identities {:?} and {:?} overlap", .0.0, .0.1)]
    Overlap(Box<(DistinguishedName, DistinguishedName)>),
}

impl TrustPolicyDocument {
    /// Parses and validates a trustpolicy.json (OCI policy, version 1.0).
    pub fn parse(json: &[u8]) -> Result<Self, PolicyError> {
        let raw: RawDocument = serde_json::from_slice(json).map_err(PolicyError::Malformed)?;
        if raw.version.is_empty() {
            return Err(PolicyError::NoVersion);
        }
        if raw.version != "1.0" {
            return Err(PolicyError::Version(raw.version));
        }
        if raw.trust_policies.is_empty() {
            return Err(PolicyError::NoStatements);
        }
        let mut statements: Vec<Statement> = Vec::new();
        for s in raw.trust_policies {
            let statement = validate_statement(s)?;
            if statements.iter().any(|o| o.name == statement.name) {
                return Err(PolicyError::DuplicateName(statement.name));
            }
            statements.push(statement);
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for s in &statements {
            let scopes: Vec<&str> = match &s.scopes {
                RegistryScopes::Global => vec!["*"],
                RegistryScopes::Repositories(r) => r.iter().map(String::as_str).collect(),
            };
            for scope in scopes {
                if let Some(other) = seen.insert(scope, &s.name) {
                    return Err(PolicyError::SharedScope {
                        scope: scope.to_owned(),
                        first: other.to_owned(),
                        second: s.name.clone(),
                    });
                }
            }
        }
        Ok(Self { statements })
    }

    /// The statements, in file order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The statement for `repository` (`registry/path`, fully qualified): the one naming it,
    /// else the global one, else none (the artifact is then untrusted).
    pub fn statement_for(&self, repository: &str) -> Option<&Statement> {
        self.statements
            .iter()
            .find(|s| matches!(&s.scopes, RegistryScopes::Repositories(r) if r.iter().any(|x| x == repository)))
            .or_else(|| {
                self.statements
                    .iter()
                    .find(|s| s.scopes == RegistryScopes::Global)
            })
    }
}

fn validate_statement(raw: RawStatement) -> Result<Statement, PolicyError> {
    if raw.name.is_empty() {
        return Err(PolicyError::UnnamedStatement);
    }
    let name = raw.name.clone();
    validate_named_statement(raw).map_err(|source| PolicyError::Statement { name, source })
}

fn validate_named_statement(raw: RawStatement) -> Result<Statement, StatementError> {
    let RawStatement {
        name,
        registry_scopes,
        signature_verification: sv,
        trust_stores: raw_trust_stores,
        trusted_identities,
    } = raw;
    if sv.level.is_empty() {
        return Err(StatementError::NoLevel);
    }
    let verification = if sv.level == "skip" {
        if !sv.r#override.is_empty() {
            return Err(StatementError::SkipCustomised);
        }
        if !raw_trust_stores.is_empty() || !trusted_identities.is_empty() {
            return Err(StatementError::SkipWithTrust);
        }
        SignatureVerification::Skip
    } else {
        let mut level = VerificationLevel::named(&sv.level)
            .ok_or_else(|| StatementError::Level(sv.level.clone()))?;
        for (key, value) in &sv.r#override {
            let validation = Validation::ALL
                .into_iter()
                .find(|v| v.name() == key)
                .ok_or_else(|| StatementError::UnknownValidation(key.clone()))?;
            let action =
                Action::parse(value).ok_or_else(|| StatementError::Action(value.clone()))?;
            level = level.overridden(validation, action)?;
        }
        let when = match sv.verify_timestamp.as_str() {
            "" | "always" => VerifyTimestamp::Always,
            "afterCertExpiry" => VerifyTimestamp::AfterCertExpiry,
            other => return Err(StatementError::VerifyTimestamp(other.to_owned())),
        };
        SignatureVerification::Verify(level.with_verify_timestamp(when))
    };
    let trust_stores = raw_trust_stores
        .iter()
        .map(|s| StoreRef::parse_text(s))
        .collect::<Result<Vec<_>, _>>()?;
    let identities = if matches!(verification, SignatureVerification::Skip) {
        TrustedIdentities::Subjects {
            subjects: Vec::new(),
            other: Vec::new(),
        }
    } else {
        if trust_stores.is_empty() || trusted_identities.is_empty() {
            return Err(StatementError::NoTrust);
        }
        TrustedIdentities::parse_items(&trusted_identities)?
    };
    if registry_scopes.is_empty() {
        return Err(StatementError::NoScopes);
    }
    let scopes = if registry_scopes.iter().any(|s| s == "*") {
        if registry_scopes.len() > 1 {
            return Err(StatementError::WildcardScope);
        }
        RegistryScopes::Global
    } else {
        for scope in &registry_scopes {
            validate_scope(scope)?;
        }
        RegistryScopes::Repositories(registry_scopes)
    };
    Ok(Statement {
        name,
        scopes,
        verification,
        trust_stores,
        identities,
    })
}

/// A fully qualified repository (`domain/path`), no tag, no wildcard: the distribution
/// reference grammar notation-go checks scopes with.
fn validate_scope(scope: &str) -> Result<(), StatementError> {
    let bad = || StatementError::Scope(scope.to_owned());
    if scope.contains('*') {
        return Err(bad());
    }
    let (domain, path) = scope.split_once('/').ok_or_else(bad)?;
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !host.split('.').all(label_ok)
        || port.is_some_and(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad());
    }
    let component_ok = |c: &str| {
        let bytes = c.as_bytes();
        !c.is_empty()
            && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
            && bytes[bytes.len() - 1].is_ascii_lowercase() | bytes[bytes.len() - 1].is_ascii_digit()
            && c.chars().all(|ch| {
                ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
            })
            && !c.contains("..")
            && !c.contains("___")
    };
    if !path.split('/').all(component_ok) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_table_is_the_specifications() {
        let strict = VerificationLevel::named("strict").unwrap_or_else(|| panic!());
        let permissive = VerificationLevel::named("permissive").unwrap_or_else(|| panic!());
        let audit = VerificationLevel::named("audit").unwrap_or_else(|| panic!());
        for v in Validation::ALL {
            assert_eq!(strict.action(v), Action::Enforce);
        }
        assert_eq!(permissive.action(Validation::Authenticity), Action::Enforce);
        assert_eq!(permissive.action(Validation::Expiry), Action::Log);
        assert_eq!(audit.action(Validation::Authenticity), Action::Log);
        assert_eq!(audit.action(Validation::Integrity), Action::Enforce);
        assert!(
            strict
                .clone()
                .with_override(Validation::Integrity, Action::Log)
                .is_err()
        );
        assert!(
            strict
                .clone()
                .with_override(Validation::Expiry, Action::Skip)
                .is_err()
        );
        let custom = strict
            .with_override(Validation::Revocation, Action::Skip)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(custom.action(Validation::Revocation), Action::Skip);
        assert_eq!(custom.name(), "custom");
    }

    #[test]
    fn a_refused_statement_is_named_and_keeps_the_typed_reason_as_source() {
        let error = TrustPolicyDocument::parse(
            br#"{"version": "1.0", "trustPolicies": [
              {"name": "s", "registryScopes": ["*"],
               "signatureVerification": {"level": "strict", "override": {"integrity": "log"}},
               "trustStores": ["ca:a"], "trustedIdentities": ["*"]}]}"#,
        )
        .map(|_| ())
        .expect_err("integrity cannot be overridden");
        assert_eq!(error.to_string(), "trust policy statement \"s\"");
        let source = std::error::Error::source(&error);
        assert!(
            matches!(
                source.and_then(|s| s.downcast_ref::<StatementError>()),
                Some(StatementError::Override(OverrideError::Integrity))
            ),
            "{source:?}"
        );
        assert_eq!(
            source.map(ToString::to_string).as_deref(),
            Some("integrity verification cannot be overridden")
        );

        let error = TrustPolicyDocument::parse(b"{\"version\": 1")
            .map(|_| ())
            .expect_err("not JSON");
        assert!(
            std::error::Error::source(&error).is_some_and(|s| s.is::<serde_json::Error>()),
            "{error:?}"
        );

        let error = TrustedIdentities::parse(&["x509.subject: C=US, O=acme".to_owned()])
            .map(|_| ())
            .expect_err("no ST");
        assert!(
            matches!(
                error,
                PolicyError::Identities(IdentityError::Subject(DistinguishedNameError::Missing {
                    attribute: "ST",
                    ..
                }))
            ),
            "{error:?}"
        );
    }

    #[test]
    fn an_exact_scope_wins_over_the_global_statement() {
        let doc = TrustPolicyDocument::parse(
            br#"{"version": "1.0", "trustPolicies": [
              {"name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "audit"},
               "trustStores": ["ca:a"], "trustedIdentities": ["*"]},
              {"name": "one", "registryScopes": ["r.example/app"], "signatureVerification": {"level": "skip"}}
            ]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            doc.statement_for("r.example/app").map(Statement::name),
            Some("one")
        );
        assert_eq!(
            doc.statement_for("r.example/other").map(Statement::name),
            Some("all")
        );
    }
}
