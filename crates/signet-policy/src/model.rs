//! signet's trust policy file (YAML, `apiVersion: signet.dev/v1`), parsed strictly into a
//! validated [`TrustPolicy`].
//!
//! ```yaml
//! apiVersion: signet.dev/v1
//! kind: TrustPolicy
//! noMatch: deny                    # deny (default) | allow | warn
//! authorities:
//!   release:  { key: { path: keys/release.pub }, transparencyLog: ignore }
//!   security: { key: { data: "-----BEGIN PUBLIC KEY-----\n…" }, transparencyLog: ignore }
//!   ci:
//!     keyless:
//!       issuer:  { exact: https://token.actions.githubusercontent.com }
//!       subject: { regex: "^https://github.com/acme/.+@refs/heads/main$" }
//!       githubWorkflowRepository: acme/app
//! policies:
//!   - name: production
//!     mode: enforce                # enforce | warn | audit
//!     images: ["registry.example.com/prod/**"]
//!     exclude: ["registry.example.com/prod/sandbox/*"]
//!     signatures:
//!       authorities: [release, security, ci]
//!       threshold: 2
//!       required: [security]
//!     attestations:
//!       - predicateType: slsaprovenance
//!         authorities: [ci]
//!         slsa: { builderId: { prefix: "https://github.com/slsa-framework/" }, branch: main }
//! ```
//!
//! Unknown fields, malformed globs and regexes, and impossible thresholds are errors with the
//! line and column; references to undefined authorities are errors naming the policy.

use std::collections::BTreeMap;

use serde::Deserialize;
use signet_core::intoto::PredicateType;
use signet_core::keys::PublicKey;

use crate::admission::AdmissionSettings;
use crate::conditions::{Conditions, RegoCondition, SbomCondition, SlsaCondition, VulnCondition};
use crate::glob::ScopeGlob;
use crate::report::Mode;
use std::sync::Arc;

use signet_verify::KeyVerifier;
use signet_verify::TlogPolicy;
use signet_verify::bundle::{
    BundleLimits, BundlePolicy, BundleVerifier, CertificateIdentity, ClaimMatcher, GithubWorkflow,
};
use signet_verify::platform::{IndexSignatures, IndexSource};

/// The `apiVersion` this version of signet reads.
pub const API_VERSION: &str = "signet.dev/v1";

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The YAML does not fit the schema; the message has the line, column and a snippet.
    #[error("{0}")]
    Syntax(String),
    /// The policy is well-formed but inconsistent.
    #[error("{location}: {reason}")]
    Invalid {
        /// Where (`policy "production" (line 12)`, `authority "release"`).
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A key file named by an authority could not be read.
    #[error("authority {authority:?}: reading {path}")]
    KeyFile {
        /// The authority.
        authority: String,
        /// The path as written.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileSpec {
    api_version: String,
    kind: String,
    #[serde(default)]
    no_match: NoMatch,
    #[serde(default)]
    authorities: BTreeMap<String, AuthoritySpec>,
    #[serde(default)]
    policies: Vec<PolicySpec>,
    /// What a deploy gate does besides deciding images (crate::admission).
    #[serde(default)]
    admission: AdmissionSettings,
}

/// What happens to an image no policy matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoMatch {
    /// Denied (the default: a gate that lets unknown images through is no gate).
    #[default]
    Deny,
    /// Allowed.
    Allow,
    /// Allowed with a warning.
    Warn,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AuthoritySpec {
    #[serde(default)]
    key: Option<KeySpec>,
    #[serde(default)]
    keyless: Option<KeylessSpec>,
    #[serde(default)]
    notation: Option<NotationSpec>,
    #[serde(default)]
    transparency_log: Option<TlogSpec>,
}

/// A Notation authority: what a trustpolicy.json statement says, without the scopes (the
/// YAML policy's `images` are the scopes), and the trust store directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotationSpec {
    /// A Notation trust store directory (`x509/{ca|signingAuthority|tsa}/{name}/…`),
    /// relative to the policy file.
    pub trust_store: String,
    /// The named stores to trust, `ca:name`, `signingAuthority:name`, `tsa:name`.
    pub trust_stores: Vec<String>,
    /// `x509.subject: …` identities, or `*`.
    pub trusted_identities: Vec<String>,
    /// `strict` (default), `permissive` or `audit`.
    #[serde(default)]
    pub level: Option<String>,
    /// Per-validation overrides, as trustpolicy.json's `override`.
    #[serde(default, rename = "override")]
    pub overrides: BTreeMap<String, String>,
    /// `always` (default) or `afterCertExpiry`.
    #[serde(default)]
    pub verify_timestamp: Option<String>,
}

impl NotationSpec {
    /// The statement this authority verifies under, validated by trustpolicy.json's rules.
    fn statement(&self, name: &str) -> Result<signet_notation::Statement, String> {
        let level = self.level.as_deref().unwrap_or("strict");
        if level == "skip" {
            return Err("a Notation authority cannot skip verification".to_owned());
        }
        let mut verification = serde_json::json!({"level": level, "override": self.overrides});
        if let Some(when) = &self.verify_timestamp {
            verification["verifyTimestamp"] = when.clone().into();
        }
        let document = serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": name, "registryScopes": ["*"], "signatureVerification": verification,
            "trustStores": self.trust_stores, "trustedIdentities": self.trusted_identities}]});
        let parsed = signet_notation::TrustPolicyDocument::parse(document.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
        parsed
            .statements()
            .first()
            .cloned()
            .ok_or_else(|| "no statement".to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TlogSpec {
    Required,
    Ignore,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KeySpec {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// A keyless (Fulcio) identity an authority accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeylessSpec {
    /// The OIDC issuer.
    pub issuer: IdentityMatch,
    /// The certificate subject (email or URI SAN).
    pub subject: IdentityMatch,
    /// Fulcio extension: the GitHub workflow repository (`owner/repo`).
    #[serde(default)]
    pub github_workflow_repository: Option<String>,
    /// Fulcio extension: the GitHub workflow ref (`refs/heads/main`).
    #[serde(default)]
    pub github_workflow_ref: Option<String>,
    /// Fulcio extension: the GitHub workflow trigger (`push`).
    #[serde(default)]
    pub github_workflow_trigger: Option<String>,
    /// The Sigstore `trusted_root.json` to verify against, relative to the policy file
    /// (default: the one the caller supplies with [`TrustPolicy::with_default_trusted_root`],
    /// e.g. from `signet initialize`).
    #[serde(default)]
    pub trusted_root: Option<String>,
}

/// A keyless authority, ready to check certificates: the identity as a bundle policy and its
/// own trusted root, if the policy names one.
#[derive(Debug, Clone)]
pub struct KeylessAuthority {
    /// What the policy file says.
    pub spec: KeylessSpec,
    /// The certificate identity, issuer and workflow claims required.
    pub identity: BundlePolicy,
    /// The trusted root named by `trustedRoot`, parsed.
    pub trusted_root: Option<Arc<BundleVerifier>>,
}

impl KeylessAuthority {
    fn new(
        spec: KeylessSpec,
        read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, String> {
        let matcher = |m: &IdentityMatch| -> Result<ClaimMatcher, String> {
            match m {
                IdentityMatch::Exact(e) => Ok(ClaimMatcher::exact(e)),
                IdentityMatch::Regex(r) => {
                    ClaimMatcher::regex(r.source()).map_err(|e| e.to_string())
                }
                IdentityMatch::Prefix(p) => Ok(ClaimMatcher::prefix(p)),
            }
        };
        let mut github = GithubWorkflow::default();
        github.repository = spec.github_workflow_repository.clone();
        github.git_ref = spec.github_workflow_ref.clone();
        github.trigger = spec.github_workflow_trigger.clone();
        let identity = BundlePolicy::Certificate(
            CertificateIdentity::new(matcher(&spec.subject)?, matcher(&spec.issuer)?)
                .with_github_workflow(github),
        );
        let trusted_root = match &spec.trusted_root {
            Some(path) => {
                let bytes = read_file(path)
                    .map_err(|e| format!("the trusted root {path:?} cannot be read: {e}"))?;
                let verifier = BundleVerifier::new(&bytes, BundleLimits::default())
                    .map_err(|e| format!("the trusted root {path:?} cannot be used: {e}"))?;
                Some(Arc::new(verifier))
            }
            None => None,
        };
        Ok(Self {
            spec,
            identity,
            trusted_root,
        })
    }
}

/// How an identity string is matched: exactly, by an anchored regex, or by prefix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum IdentityMatch {
    /// Equal.
    Exact(String),
    /// Matches the whole value (the regex is anchored, unlike Cosign's: `.*` where a
    /// substring is meant).
    Regex(AnchoredRegex),
    /// Starts with.
    Prefix(String),
}

impl IdentityMatch {
    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(e) => e == value,
            Self::Regex(r) => r.0.is_match(value),
            Self::Prefix(p) => value.starts_with(p.as_str()),
        }
    }
}

/// A regex compiled at load and anchored at both ends. Cosign does not anchor identity
/// regexes; signet does, so that `acme` cannot match `evil-acme` (docs/compatibility.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct AnchoredRegex(regex::Regex, String);

impl AnchoredRegex {
    /// The regex as written in the policy (without the anchors signet adds).
    pub fn source(&self) -> &str {
        &self.1
    }
}

impl TryFrom<String> for AnchoredRegex {
    type Error = String;

    fn try_from(source: String) -> Result<Self, String> {
        regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(1 << 20)
            .build()
            .map(|compiled| Self(compiled, source.clone()))
            .map_err(|e| format!("regex {source:?} does not compile: {e}"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct GlobSpec(ScopeGlob);

impl TryFrom<String> for GlobSpec {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        ScopeGlob::parse(&value).map(Self)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicySpec {
    name: String,
    #[serde(default)]
    mode: Mode,
    images: Vec<GlobSpec>,
    #[serde(default)]
    exclude: Vec<GlobSpec>,
    #[serde(default)]
    signatures: Option<SignatureSpec>,
    #[serde(default)]
    attestations: Vec<AttestationSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    try_from = "RawSignatureSpec"
)]
struct SignatureSpec {
    authorities: Vec<String>,
    threshold: usize,
    required: Vec<String>,
    annotations: BTreeMap<String, String>,
    signed_identity: Option<SignedIdentity>,
    index_signature: IndexSignatureSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSignatureSpec {
    authorities: Vec<String>,
    #[serde(default)]
    threshold: Option<usize>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    signed_identity: Option<SignedIdentity>,
    #[serde(default)]
    index_signature: IndexSignatureSpec,
}

impl TryFrom<RawSignatureSpec> for SignatureSpec {
    type Error = String;

    fn try_from(raw: RawSignatureSpec) -> Result<Self, String> {
        if raw.authorities.is_empty() {
            return Err(
                "signatures.authorities is empty: no signature could ever count".to_owned(),
            );
        }
        let threshold = raw.threshold.unwrap_or(1);
        if threshold == 0 {
            return Err("signatures.threshold must be at least 1".to_owned());
        }
        if threshold > raw.authorities.len() {
            return Err(format!(
                "signatures.threshold {threshold} is larger than the {} authorities listed: the rule can never pass",
                raw.authorities.len()
            ));
        }
        if let Some(r) = raw.required.iter().find(|r| !raw.authorities.contains(r)) {
            return Err(format!(
                "signatures.required names {r:?}, which is not in signatures.authorities"
            ));
        }
        Ok(Self {
            authorities: raw.authorities,
            threshold,
            required: raw.required,
            annotations: raw.annotations,
            signed_identity: raw.signed_identity,
            index_signature: raw.index_signature,
        })
    }
}

/// `signatures.indexSignature` as written: `ignore` (Cosign's rule, the default) or `accept`
/// (an image named `repository:tag@sha256:<digest>` whose own signatures do not meet the
/// requirement meets it when the index the tag names lists the digest and the index's
/// signatures meet it); see [`IndexSignatures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
enum IndexSignatureSpec {
    #[default]
    Ignore,
    Accept,
}

impl From<IndexSignatureSpec> for IndexSignatures {
    fn from(spec: IndexSignatureSpec) -> Self {
        match spec {
            IndexSignatureSpec::Ignore => IndexSignatures::Ignore,
            // An admission request names only the image: the index is its tag's.
            IndexSignatureSpec::Accept => IndexSignatures::Accept(IndexSource::ReferenceTag),
        }
    }
}

/// Which name a signature's payload must claim for the image (containers/image's
/// `signedIdentity`, for Cosign's `docker-reference`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum SignedIdentity {
    /// The payload names the image's repository.
    MatchRepository,
    /// The payload names exactly this repository.
    #[serde(rename_all = "camelCase")]
    ExactRepository {
        /// The repository, e.g. `registry.example.com/app`.
        docker_repository: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttestationSpec {
    #[serde(default)]
    name: Option<String>,
    predicate_type: String,
    authorities: Vec<String>,
    #[serde(default)]
    slsa: Option<SlsaCondition>,
    #[serde(default)]
    sbom: Option<SbomCondition>,
    #[serde(default)]
    vulnerabilities: Option<VulnCondition>,
    #[serde(default)]
    rego: Option<RegoCondition>,
}

/// What an authority is.
#[derive(Debug, Clone)]
pub enum AuthorityKind {
    /// A public key.
    Key(KeyVerifier),
    /// A keyless identity: a Fulcio certificate chaining to a trusted root.
    Keyless(Box<KeylessAuthority>),
    /// Notary Project signatures under a trust policy statement and trust store.
    Notation(Box<NotationAuthoritySpec>),
}

/// A Notation authority ready to verify: what the policy says and the loaded authority.
#[derive(Debug, Clone)]
pub struct NotationAuthoritySpec {
    /// What the policy file says.
    pub spec: NotationSpec,
    /// The statement and the certificates of its trust stores (empty until
    /// [`TrustPolicy::load`] reads the trust store directory).
    pub authority: signet_verify::notation::NotationAuthority,
}

/// A named source of trust.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The name policies refer to it by.
    pub name: String,
    /// Key or keyless identity.
    pub kind: AuthorityKind,
    /// Whether its signatures need a transparency-log entry.
    pub tlog: TlogPolicy,
}

/// A signature requirement.
#[derive(Debug, Clone)]
pub struct SignatureRequirement {
    /// The authorities whose signatures count.
    pub authorities: Vec<String>,
    /// How many of them must have signed.
    pub threshold: usize,
    /// Which of them must be among the signers.
    pub required: Vec<String>,
    /// Annotations each counted signature's payload must carry.
    pub annotations: BTreeMap<String, String>,
    /// The name each counted signature must claim.
    pub signed_identity: Option<SignedIdentity>,
    /// Whether signatures on an index listing the image count (`indexSignature`).
    pub index_signatures: IndexSignatures,
}

/// An attestation requirement.
#[derive(Debug, Clone)]
pub struct AttestationRequirement {
    /// A name for reports.
    pub name: String,
    /// The predicate type.
    pub predicate_type: PredicateType,
    /// The authorities allowed to sign it.
    pub authorities: Vec<String>,
    /// What the statement must satisfy.
    pub conditions: Conditions,
}

/// One policy: a scope of images and what they need.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// The line it starts on, for messages.
    pub line: usize,
    /// enforce, warn or audit.
    pub mode: Mode,
    /// Repositories it covers.
    pub images: Vec<ScopeGlob>,
    /// Repositories it does not cover after all.
    pub exclude: Vec<ScopeGlob>,
    /// The signature requirement, if any.
    pub signatures: Option<SignatureRequirement>,
    /// The attestation requirements.
    pub attestations: Vec<AttestationRequirement>,
}

impl Policy {
    /// Whether the policy covers `repository` (normalised `registry/path`).
    pub fn covers(&self, repository: &str) -> bool {
        self.images.iter().any(|g| g.matches(repository))
            && !self.exclude.iter().any(|g| g.matches(repository))
    }
}

/// A validated trust policy.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// What happens to images no policy covers.
    pub no_match: NoMatch,
    /// The authorities by name.
    pub authorities: BTreeMap<String, Authority>,
    /// The policies, in file order.
    pub policies: Vec<Policy>,
    /// The trusted root for keyless authorities without their own and for checking key
    /// signatures' transparency-log entries.
    pub default_trusted_root: Option<Arc<BundleVerifier>>,
    /// The `admission` section.
    admission: AdmissionSettings,
}

impl TrustPolicy {
    /// Parses a policy. `read_key` reads a key file named by `key.path` (the caller decides
    /// what paths are relative to), so parsing itself does no I/O.
    pub fn parse(
        text: &str,
        read_key: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, PolicyError> {
        let spec: FileSpec =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        if spec.api_version != API_VERSION {
            return Err(PolicyError::Invalid {
                location: format!("apiVersion (line {})", line_of(text, "apiVersion")),
                reason: format!(
                    "{:?} is not supported; this signet reads {API_VERSION}",
                    spec.api_version
                ),
            });
        }
        if spec.kind != "TrustPolicy" {
            return Err(PolicyError::Invalid {
                location: format!("kind (line {})", line_of(text, "kind")),
                reason: format!("{:?}: expected TrustPolicy", spec.kind),
            });
        }
        let mut authorities = BTreeMap::new();
        for (name, a) in spec.authorities {
            let location = format!(
                "authority {name:?} (line {})",
                line_of(text, &format!("{name}:"))
            );
            let invalid = |reason: String| PolicyError::Invalid {
                location: location.clone(),
                reason,
            };
            let kind = match (a.key, a.keyless, a.notation) {
                (None, None, Some(notation)) => {
                    let statement = notation.statement(&name).map_err(invalid)?;
                    AuthorityKind::Notation(Box::new(NotationAuthoritySpec {
                        authority: signet_verify::notation::NotationAuthority::new(
                            statement,
                            std::sync::Arc::new(signet_notation::TrustStore::new()),
                        ),
                        spec: notation,
                    }))
                }
                (Some(key), None, None) => {
                    let pem = match (key.path, key.data) {
                        (Some(path), None) => {
                            read_key(&path).map_err(|source| PolicyError::KeyFile {
                                authority: name.clone(),
                                path,
                                source,
                            })?
                        }
                        (None, Some(data)) => data.into_bytes(),
                        _ => {
                            return Err(invalid(
                                "key needs exactly one of path or data".to_owned(),
                            ));
                        }
                    };
                    let public = PublicKey::parse(&pem)
                        .map_err(|e| invalid(format!("the key cannot be read: {e}")))?;
                    AuthorityKind::Key(KeyVerifier::new(public))
                }
                (None, Some(keyless), None) => AuthorityKind::Keyless(Box::new(
                    KeylessAuthority::new(keyless, read_key).map_err(invalid)?,
                )),
                _ => {
                    return Err(invalid(
                        "an authority is exactly one of key, keyless or notation".to_owned(),
                    ));
                }
            };
            let tlog = match a.transparency_log {
                Some(TlogSpec::Ignore) => TlogPolicy::InsecureIgnore,
                Some(TlogSpec::Required) | None => TlogPolicy::Require,
            };
            authorities.insert(name.clone(), Authority { name, kind, tlog });
        }
        let mut policies = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for p in spec.policies {
            let line = line_of(text, &format!("name: {}", p.name));
            let location = format!("policy {:?} (line {line})", p.name);
            let invalid = |reason: String| PolicyError::Invalid {
                location: location.clone(),
                reason,
            };
            if !seen.insert(p.name.clone()) {
                return Err(invalid("another policy has the same name".to_owned()));
            }
            if p.images.is_empty() {
                return Err(invalid(
                    "images is empty: the policy would cover nothing".to_owned(),
                ));
            }
            if p.signatures.is_none() && p.attestations.is_empty() {
                return Err(invalid(
                    "the policy requires neither signatures nor attestations; use noMatch or a policy with requirements".to_owned(),
                ));
            }
            let check_authority = |field: &str, name: &String| {
                if authorities.contains_key(name) {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "{field} names {name:?}, which is not defined under authorities"
                    )))
                }
            };
            if let Some(s) = &p.signatures {
                for a in &s.authorities {
                    check_authority("signatures.authorities", a)?;
                }
            }
            let mut attestations = Vec::new();
            for (i, a) in p.attestations.into_iter().enumerate() {
                if a.authorities.is_empty() {
                    return Err(invalid(format!(
                        "attestations[{i}].authorities is empty: nothing could ever count"
                    )));
                }
                for name in &a.authorities {
                    check_authority(&format!("attestations[{i}].authorities"), name)?;
                    if matches!(
                        authorities.get(name).map(|a: &Authority| &a.kind),
                        Some(AuthorityKind::Notation(_))
                    ) {
                        return Err(invalid(format!(
                            "attestations[{i}].authorities names {name:?}, a Notation authority: Notary Project signatures sign images, not attestations"
                        )));
                    }
                }
                let predicate_type = PredicateType::from_name(&a.predicate_type)
                    .map_err(|e| invalid(format!("attestations[{i}].predicateType: {e}")))?;
                attestations.push(AttestationRequirement {
                    name: a.name.unwrap_or_else(|| predicate_type.uri().to_owned()),
                    predicate_type,
                    authorities: a.authorities,
                    conditions: Conditions {
                        slsa: a.slsa,
                        sbom: a.sbom,
                        vulnerabilities: a.vulnerabilities,
                        rego: a.rego,
                    },
                });
            }
            policies.push(Policy {
                name: p.name,
                line,
                mode: p.mode,
                images: p.images.into_iter().map(|g| g.0).collect(),
                exclude: p.exclude.into_iter().map(|g| g.0).collect(),
                signatures: p.signatures.map(|s| SignatureRequirement {
                    authorities: s.authorities,
                    threshold: s.threshold,
                    required: s.required,
                    annotations: s.annotations,
                    signed_identity: s.signed_identity,
                    index_signatures: s.index_signature.into(),
                }),
                attestations,
            });
        }
        Ok(Self {
            no_match: spec.no_match,
            authorities,
            policies,
            default_trusted_root: None,
            admission: spec.admission,
        })
    }

    /// The `admission` section: the namespaces a deploy gate leaves alone, and what it pins.
    pub fn admission(&self) -> &AdmissionSettings {
        &self.admission
    }

    /// Reads and parses the policy file at `path`; key and trusted-root paths in it are
    /// relative to the file's directory. Files over 4 MiB (policy) or 1 MiB (keys, trusted
    /// roots) are refused.
    pub fn load(path: &std::path::Path) -> Result<Self, PolicyError> {
        const MAX_POLICY_BYTES: u64 = 4 << 20;
        const MAX_KEY_BYTES: u64 = 1 << 20;
        let read_bounded = |file: &std::path::Path, limit: u64| -> std::io::Result<Vec<u8>> {
            use std::io::Read;
            let mut bytes = Vec::new();
            std::fs::File::open(file)?
                .take(limit + 1)
                .read_to_end(&mut bytes)?;
            if bytes.len() as u64 > limit {
                return Err(std::io::Error::other(format!("larger than {limit} bytes")));
            }
            Ok(bytes)
        };
        let location = || path.display().to_string();
        let bytes = read_bounded(path, MAX_POLICY_BYTES).map_err(|e| PolicyError::Invalid {
            location: location(),
            reason: format!("cannot be read: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::Invalid {
            location: location(),
            reason: "is not UTF-8 text".to_owned(),
        })?;
        let base = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let mut policy = Self::parse(&text, &|key| read_bounded(&base.join(key), MAX_KEY_BYTES))?;
        for authority in policy.authorities.values_mut() {
            if let AuthorityKind::Notation(n) = &mut authority.kind {
                let statement = n.authority.statement().clone();
                let store = signet_verify::notation::load_trust_store(
                    &base.join(&n.spec.trust_store),
                    statement.trust_stores(),
                );
                n.authority = signet_verify::notation::NotationAuthority::new(
                    statement,
                    std::sync::Arc::new(store),
                );
            }
        }
        Ok(policy)
    }

    /// Sets the trusted root used by keyless authorities that name none and by key
    /// authorities whose signatures need a transparency-log entry.
    pub fn with_default_trusted_root(mut self, verifier: BundleVerifier) -> Self {
        self.default_trusted_root = Some(Arc::new(verifier));
        self
    }

    /// Whether some authority would use [`Self::with_default_trusted_root`]'s root: a keyless
    /// authority without `trustedRoot`, or a key authority requiring the transparency log.
    pub fn wants_default_trusted_root(&self) -> bool {
        self.authorities.values().any(|a| match &a.kind {
            AuthorityKind::Keyless(k) => k.trusted_root.is_none(),
            AuthorityKind::Key(_) => a.tlog == TlogPolicy::Require,
            AuthorityKind::Notation(_) => false,
        })
    }

    /// The authority `name` as `signet_verify` checks it: its key or identity, with the
    /// authority's own trusted root or the default one. `None` if no such authority.
    pub fn verify_authority(&self, name: &str) -> Option<signet_verify::Authority> {
        self.verify_authority_or_reason(name).ok().map(|(a, _)| a)
    }

    /// [`Self::verify_authority`], and whether it is keyless; or why it cannot check
    /// anything (a keyless authority with no trusted root at all).
    pub(crate) fn verify_authority_or_reason(
        &self,
        name: &str,
    ) -> Result<(signet_verify::Authority, bool), String> {
        let authority = self
            .authorities
            .get(name)
            .ok_or_else(|| format!("no authority named {name:?} is defined"))?;
        match &authority.kind {
            AuthorityKind::Key(key) => Ok((
                signet_verify::Authority::Key(
                    signet_verify::KeyAuthority::new(
                        key.clone(),
                        self.default_trusted_root.clone(),
                    )
                    .with_tlog(authority.tlog),
                ),
                false,
            )),
            AuthorityKind::Keyless(keyless) => {
                let root = keyless
                    .trusted_root
                    .clone()
                    .or_else(|| self.default_trusted_root.clone())
                    .ok_or_else(|| {
                        "no trusted root to check keyless signatures against: give the authority a trustedRoot, or supply a default trusted root".to_owned()
                    })?;
                Ok((
                    signet_verify::Authority::Identity(signet_verify::IdentityAuthority::new(
                        root,
                        keyless.identity.clone(),
                    )),
                    true,
                ))
            }
            AuthorityKind::Notation(n) => Ok((
                signet_verify::Authority::Notation(n.authority.clone()),
                false,
            )),
        }
    }

    /// The policies covering `repository`.
    pub fn matching(&self, repository: &str) -> Vec<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.covers(repository))
            .collect()
    }
}

/// The 1-based line of the first occurrence of `needle`, or 0.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}
