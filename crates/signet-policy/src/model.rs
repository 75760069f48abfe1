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
use signet_core::intoto::{PredicateType, StatementError};
use signet_core::keys::PublicKey;

use crate::admission::AdmissionSettings;
use crate::conditions::{
    Conditions, RegoCondition, SbomCondition, SlsaCondition, VsaCondition, VulnCondition,
};
use crate::glob::{FileGlob, GlobError, ScopeGlob};
use crate::image_rules::ImageRules;
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
    #[error(transparent)]
    Syntax(Box<serde_saphyr::Error>),
    /// The policy file could not be read.
    #[error("{path}: cannot be read")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The policy file is not UTF-8 text.
    #[error("{path}: is not UTF-8 text")]
    NotText {
        /// The file.
        path: String,
    },
    /// The policy is well-formed but inconsistent.
    #[error("{location}")]
    Invalid {
        /// Where (`policy "production" (line 12)`, `authority "release"`).
        location: String,
        /// What is wrong.
        #[source]
        problem: Problem,
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

/// What is wrong with a well-formed policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Another `apiVersion`.
    #[error("{0:?} is not supported; this signet reads {API_VERSION}")]
    ApiVersion(String),
    /// Another `kind`.
    #[error("{0:?}: expected TrustPolicy")]
    Kind(String),
    /// A key with both or neither of `path` and `data`.
    #[error("key needs exactly one of path or data")]
    KeySource,
    /// A key that is not a public key signet reads.
    #[error("the key cannot be read: {0}")]
    Key(signet_core::Error),
    /// An authority with more or fewer than one of `key`, `keyless` and `notation`.
    #[error("an authority is exactly one of key, keyless or notation")]
    AuthorityKind,
    /// A `notation` authority whose trust-policy statement cannot be used.
    #[error("the Notation authority cannot be used")]
    Notation(#[source] NotationAuthorityError),
    /// An attestation requirement naming a Notation authority.
    #[error(
        "attestations[{index}].authorities names {name:?}, a Notation authority: Notary Project signatures sign images, not attestations"
    )]
    AttestationByNotation {
        /// Which attestation requirement.
        index: usize,
        /// The authority's name.
        name: String,
    },
    /// A keyless identity rule that cannot be used.
    #[error("the keyless identity cannot be used")]
    Identity(#[source] signet_verify::bundle::BundleFailure),
    /// A `trustedRoot` file that cannot be read.
    #[error("the trusted root {path:?} cannot be read")]
    TrustedRootRead {
        /// The path as written.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `trustedRoot` that is not a usable Sigstore trusted root.
    #[error("the trusted root {path:?} cannot be used")]
    TrustedRoot {
        /// The path as written.
        path: String,
        /// Why.
        #[source]
        source: signet_verify::bundle::BundleFailure,
    },
    /// Two policies with one name.
    #[error("another policy has the same name")]
    DuplicateName,
    /// A policy without images (or files).
    #[error("images (or files) is empty: the policy would cover nothing")]
    NoImages,
    /// A policy covering both images and files.
    #[error("a policy covers images or files, not both: write two policies")]
    ImagesAndFiles,
    /// A policy for files naming a Notation authority.
    #[error(
        "signatures.authorities names {0:?}, a Notation authority: Notary Project signatures sign images, not files"
    )]
    FileSignatureByNotation(String),
    /// A field about images in a policy for files.
    #[error("{0} is about images; a policy with files cannot have it")]
    FilePolicyField(&'static str),
    /// A policy without requirements.
    #[error(
        "the policy requires neither signatures, attestations nor image rules; use noMatch or a policy with requirements"
    )]
    NoRequirements,
    /// A reference to an authority that is not defined.
    #[error("{field} names {name:?}, which is not defined under authorities")]
    UndefinedAuthority {
        /// The field (`signatures.authorities`).
        field: String,
        /// The name.
        name: String,
    },
    /// An attestation requirement without authorities.
    #[error("attestations[{0}].authorities is empty: nothing could ever count")]
    NoAttestationAuthorities(usize),
    /// A predicate type that is neither a known name nor an absolute URI.
    #[error("attestations[{index}].predicateType: {error}")]
    PredicateType {
        /// Which attestation requirement.
        index: usize,
        /// Why.
        error: StatementError,
    },
}

/// Why a `signatures:` requirement was refused (a load error at its line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureSpecError {
    /// No authorities.
    #[error("signatures.authorities is empty: no signature could ever count")]
    NoAuthorities,
    /// A threshold of zero.
    #[error("signatures.threshold must be at least 1")]
    ZeroThreshold,
    /// More signers needed than listed.
    #[error(
        "signatures.threshold {threshold} is larger than the {listed} authorities listed: the rule can never pass"
    )]
    ThresholdTooLarge {
        /// The threshold.
        threshold: usize,
        /// How many authorities are listed.
        listed: usize,
    },
    /// A required signer that is not listed.
    #[error("signatures.required names {0:?}, which is not in signatures.authorities")]
    RequiredNotListed(String),
}

/// Why an identity regex was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("regex {source_text:?} does not compile: {error}")]
pub struct RegexError {
    source_text: String,
    error: regex::Error,
}

/// Why an authority named by a requirement cannot check anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityUnavailable {
    /// No authority has this name.
    #[error("no authority named {0:?} is defined")]
    Undefined(String),
    /// A keyless authority without any trusted root.
    #[error(
        "no trusted root to check keyless signatures against: give the authority a trustedRoot, or supply a default trusted root"
    )]
    NoTrustedRoot,
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
    fn statement(&self, name: &str) -> Result<signet_notation::Statement, NotationAuthorityError> {
        let level = self.level.as_deref().unwrap_or("strict");
        if level == "skip" {
            return Err(NotationAuthorityError::Skip);
        }
        let mut verification = serde_json::json!({"level": level, "override": self.overrides});
        if let Some(when) = &self.verify_timestamp {
            verification["verifyTimestamp"] = when.clone().into();
        }
        let document = serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": name, "registryScopes": ["*"], "signatureVerification": verification,
            "trustStores": self.trust_stores, "trustedIdentities": self.trusted_identities}]});
        let parsed = signet_notation::TrustPolicyDocument::parse(document.to_string().as_bytes())?;
        parsed
            .statements()
            .first()
            .cloned()
            .ok_or(NotationAuthorityError::NoStatement)
    }
}

/// Why a `notation` authority's settings do not make a trust-policy statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotationAuthorityError {
    /// `level: skip`, which would accept any image.
    #[error("a Notation authority cannot skip verification")]
    Skip,
    /// The statement breaks trustpolicy.json's rules.
    #[error(transparent)]
    Statement(#[from] signet_notation::policy::PolicyError),
    /// The statement built from the settings did not come back (it always does).
    #[error("no statement")]
    NoStatement,
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
    issuer: IdentityMatch,
    subject: IdentityMatch,
    #[serde(default)]
    github_workflow_repository: Option<String>,
    #[serde(default)]
    github_workflow_ref: Option<String>,
    #[serde(default)]
    github_workflow_trigger: Option<String>,
    #[serde(default)]
    trusted_root: Option<String>,
}

impl KeylessSpec {
    /// The OIDC issuer.
    pub fn issuer(&self) -> &IdentityMatch {
        &self.issuer
    }

    /// The certificate subject (email or URI SAN).
    pub fn subject(&self) -> &IdentityMatch {
        &self.subject
    }

    /// Fulcio extension: the GitHub workflow repository (`owner/repo`).
    pub fn github_workflow_repository(&self) -> Option<&str> {
        self.github_workflow_repository.as_deref()
    }

    /// Fulcio extension: the GitHub workflow ref (`refs/heads/main`).
    pub fn github_workflow_ref(&self) -> Option<&str> {
        self.github_workflow_ref.as_deref()
    }

    /// Fulcio extension: the GitHub workflow trigger (`push`).
    pub fn github_workflow_trigger(&self) -> Option<&str> {
        self.github_workflow_trigger.as_deref()
    }

    /// The Sigstore `trusted_root.json` to verify against, relative to the policy file
    /// (default: the one the caller supplies with [`TrustPolicy::with_default_trusted_root`],
    /// e.g. from `signet initialize`).
    pub fn trusted_root(&self) -> Option<&str> {
        self.trusted_root.as_deref()
    }
}

/// A keyless authority, ready to check certificates: the identity as a bundle policy and its
/// own trusted root, if the policy names one.
#[derive(Debug, Clone)]
pub struct KeylessAuthority {
    spec: KeylessSpec,
    identity: BundlePolicy,
    trusted_root: Option<Arc<BundleVerifier>>,
}

impl KeylessAuthority {
    /// What the policy file says.
    pub fn spec(&self) -> &KeylessSpec {
        &self.spec
    }

    /// The certificate identity, issuer and workflow claims required.
    pub fn identity(&self) -> &BundlePolicy {
        &self.identity
    }

    /// The trusted root named by `trustedRoot`, parsed.
    pub fn trusted_root(&self) -> Option<&Arc<BundleVerifier>> {
        self.trusted_root.as_ref()
    }

    fn new(
        spec: KeylessSpec,
        read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, Problem> {
        let matcher = |m: &IdentityMatch| -> Result<ClaimMatcher, Problem> {
            match m {
                IdentityMatch::Exact(e) => Ok(ClaimMatcher::exact(e)),
                IdentityMatch::Regex(r) => {
                    ClaimMatcher::regex(r.source()).map_err(Problem::Identity)
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
                let bytes = read_file(path).map_err(|source| Problem::TrustedRootRead {
                    path: path.clone(),
                    source,
                })?;
                let verifier =
                    BundleVerifier::new(&bytes, BundleLimits::default()).map_err(|source| {
                        Problem::TrustedRoot {
                            path: path.clone(),
                            source,
                        }
                    })?;
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
    type Error = RegexError;

    fn try_from(source: String) -> Result<Self, RegexError> {
        match regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(1 << 20)
            .build()
        {
            Ok(compiled) => Ok(Self(compiled, source)),
            Err(error) => Err(RegexError {
                source_text: source,
                error,
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct GlobSpec(ScopeGlob);

impl TryFrom<String> for GlobSpec {
    type Error = GlobError;

    fn try_from(value: String) -> Result<Self, GlobError> {
        ScopeGlob::parse(&value).map(Self)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicySpec {
    name: String,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    images: Vec<GlobSpec>,
    /// Release files (crate::files): globs over file names, instead of images.
    #[serde(default)]
    files: Vec<FileGlob>,
    #[serde(default)]
    exclude: Vec<GlobSpec>,
    #[serde(default)]
    signatures: Option<SignatureSpec>,
    #[serde(default)]
    attestations: Vec<AttestationSpec>,
    /// Rules on the image itself (crate::image_rules).
    #[serde(default)]
    image: Option<ImageRules>,
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
    type Error = SignatureSpecError;

    fn try_from(raw: RawSignatureSpec) -> Result<Self, SignatureSpecError> {
        if raw.authorities.is_empty() {
            return Err(SignatureSpecError::NoAuthorities);
        }
        let threshold = raw.threshold.unwrap_or(1);
        if threshold == 0 {
            return Err(SignatureSpecError::ZeroThreshold);
        }
        if threshold > raw.authorities.len() {
            return Err(SignatureSpecError::ThresholdTooLarge {
                threshold,
                listed: raw.authorities.len(),
            });
        }
        if let Some(r) = raw.required.iter().find(|r| !raw.authorities.contains(r)) {
            return Err(SignatureSpecError::RequiredNotListed(r.clone()));
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
    #[serde(default)]
    vsa: Option<VsaCondition>,
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
    name: String,
    kind: AuthorityKind,
    tlog: TlogPolicy,
}

impl Authority {
    /// The name policies refer to it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key or keyless identity.
    pub fn kind(&self) -> &AuthorityKind {
        &self.kind
    }

    /// Whether its signatures need a transparency-log entry.
    pub fn tlog(&self) -> TlogPolicy {
        self.tlog
    }
}

/// A signature requirement.
#[derive(Debug, Clone)]
pub struct SignatureRequirement {
    authorities: Vec<String>,
    threshold: usize,
    required: Vec<String>,
    annotations: BTreeMap<String, String>,
    signed_identity: Option<SignedIdentity>,
    index_signatures: IndexSignatures,
}

impl SignatureRequirement {
    /// The authorities whose signatures count.
    pub fn authorities(&self) -> &[String] {
        &self.authorities
    }

    /// How many of them must have signed.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Which of them must be among the signers.
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// Annotations each counted signature's payload must carry.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// The name each counted signature must claim.
    pub fn signed_identity(&self) -> Option<&SignedIdentity> {
        self.signed_identity.as_ref()
    }

    /// Whether signatures on an index listing the image count (`indexSignature`).
    pub fn index_signatures(&self) -> &IndexSignatures {
        &self.index_signatures
    }
}

/// An attestation requirement.
#[derive(Debug, Clone)]
pub struct AttestationRequirement {
    name: String,
    predicate_type: PredicateType,
    authorities: Vec<String>,
    conditions: Conditions,
}

impl AttestationRequirement {
    /// A name for reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The predicate type.
    pub fn predicate_type(&self) -> &PredicateType {
        &self.predicate_type
    }

    /// The authorities allowed to sign it.
    pub fn authorities(&self) -> &[String] {
        &self.authorities
    }

    /// What the statement must satisfy.
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }
}

/// One policy: a scope of images and what they need.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    line: usize,
    mode: Mode,
    images: Vec<ScopeGlob>,
    files: Vec<FileGlob>,
    exclude: Vec<ScopeGlob>,
    signatures: Option<SignatureRequirement>,
    attestations: Vec<AttestationRequirement>,
    image: Option<ImageRules>,
}

impl Policy {
    /// The rules on the image itself (`image:`), if any.
    pub fn image_rules(&self) -> Option<&ImageRules> {
        self.image.as_ref()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The line it starts on, for messages.
    pub fn line(&self) -> usize {
        self.line
    }

    /// enforce, warn or audit.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Repositories it covers.
    pub fn images(&self) -> &[ScopeGlob] {
        &self.images
    }

    /// The file names it covers (a policy for release files), empty for an image policy.
    pub fn files(&self) -> &[FileGlob] {
        &self.files
    }

    /// Whether the policy covers the file named `name` (its last path component).
    pub fn covers_file(&self, name: &str) -> bool {
        self.files.iter().any(|g| g.matches(name))
    }

    /// Repositories it does not cover after all.
    pub fn exclude(&self) -> &[ScopeGlob] {
        &self.exclude
    }

    /// The signature requirement, if any.
    pub fn signatures(&self) -> Option<&SignatureRequirement> {
        self.signatures.as_ref()
    }

    /// The attestation requirements.
    pub fn attestations(&self) -> &[AttestationRequirement] {
        &self.attestations
    }

    /// Whether the policy covers `repository` (normalised `registry/path`).
    pub fn covers(&self, repository: &str) -> bool {
        self.images.iter().any(|g| g.matches(repository))
            && !self.exclude.iter().any(|g| g.matches(repository))
    }
}

/// A validated trust policy. It is made only by parsing (and cannot be changed after): what it
/// says is what the file said.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    no_match: NoMatch,
    authorities: BTreeMap<String, Authority>,
    policies: Vec<Policy>,
    default_trusted_root: Option<Arc<BundleVerifier>>,
    /// The `admission` section.
    admission: AdmissionSettings,
}

impl TrustPolicy {
    /// What happens to images no policy covers.
    pub fn no_match(&self) -> NoMatch {
        self.no_match
    }

    /// The authorities by name.
    pub fn authorities(&self) -> &BTreeMap<String, Authority> {
        &self.authorities
    }

    /// The policies, in file order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The trusted root for keyless authorities without their own and for checking key
    /// signatures' transparency-log entries.
    pub fn default_trusted_root(&self) -> Option<&Arc<BundleVerifier>> {
        self.default_trusted_root.as_ref()
    }

    /// Parses a policy. `read_key` reads a key file named by `key.path` (the caller decides
    /// what paths are relative to), so parsing itself does no I/O.
    pub fn parse(
        text: &str,
        read_key: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, PolicyError> {
        let spec: FileSpec =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::Syntax(Box::new(e)))?;
        if spec.api_version != API_VERSION {
            return Err(PolicyError::Invalid {
                location: format!("apiVersion (line {})", line_of(text, "apiVersion")),
                problem: Problem::ApiVersion(spec.api_version),
            });
        }
        if spec.kind != "TrustPolicy" {
            return Err(PolicyError::Invalid {
                location: format!("kind (line {})", line_of(text, "kind")),
                problem: Problem::Kind(spec.kind),
            });
        }
        let mut authorities = BTreeMap::new();
        for (name, a) in spec.authorities {
            let location = format!(
                "authority {name:?} (line {})",
                line_of(text, &format!("{name}:"))
            );
            let invalid = |problem: Problem| PolicyError::Invalid {
                location: location.clone(),
                problem,
            };
            let kind = match (a.key, a.keyless, a.notation) {
                (None, None, Some(notation)) => {
                    let statement = notation
                        .statement(&name)
                        .map_err(|e| invalid(Problem::Notation(e)))?;
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
                        _ => return Err(invalid(Problem::KeySource)),
                    };
                    let public = PublicKey::parse(&pem).map_err(|e| invalid(Problem::Key(e)))?;
                    AuthorityKind::Key(KeyVerifier::new(public))
                }
                (None, Some(keyless), None) => AuthorityKind::Keyless(Box::new(
                    KeylessAuthority::new(keyless, read_key).map_err(invalid)?,
                )),
                _ => return Err(invalid(Problem::AuthorityKind)),
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
            let invalid = |problem: Problem| PolicyError::Invalid {
                location: location.clone(),
                problem,
            };
            if !seen.insert(p.name.clone()) {
                return Err(invalid(Problem::DuplicateName));
            }
            match (p.images.is_empty(), p.files.is_empty()) {
                (true, true) => return Err(invalid(Problem::NoImages)),
                (false, false) => return Err(invalid(Problem::ImagesAndFiles)),
                (true, false) => {
                    if p.image.is_some() {
                        return Err(invalid(Problem::FilePolicyField("image")));
                    }
                    if !p.exclude.is_empty() {
                        return Err(invalid(Problem::FilePolicyField("exclude")));
                    }
                    if let Some(s) = &p.signatures {
                        if let Some(name) = s.authorities.iter().find(|name| {
                            matches!(
                                authorities.get(*name).map(|a: &Authority| &a.kind),
                                Some(AuthorityKind::Notation(_))
                            )
                        }) {
                            return Err(invalid(Problem::FileSignatureByNotation(name.clone())));
                        }
                        if !s.annotations.is_empty() {
                            return Err(invalid(Problem::FilePolicyField(
                                "signatures.annotations",
                            )));
                        }
                        if s.signed_identity.is_some() {
                            return Err(invalid(Problem::FilePolicyField(
                                "signatures.signedIdentity",
                            )));
                        }
                        if s.index_signature != IndexSignatureSpec::Ignore {
                            return Err(invalid(Problem::FilePolicyField(
                                "signatures.indexSignature",
                            )));
                        }
                    }
                }
                (false, true) => {}
            }
            if p.signatures.is_none() && p.attestations.is_empty() && p.image.is_none() {
                return Err(invalid(Problem::NoRequirements));
            }
            let check_authority = |field: &str, name: &String| {
                if authorities.contains_key(name) {
                    Ok(())
                } else {
                    Err(invalid(Problem::UndefinedAuthority {
                        field: field.to_owned(),
                        name: name.clone(),
                    }))
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
                    return Err(invalid(Problem::NoAttestationAuthorities(i)));
                }
                for name in &a.authorities {
                    check_authority(&format!("attestations[{i}].authorities"), name)?;
                    if matches!(
                        authorities.get(name).map(|a: &Authority| &a.kind),
                        Some(AuthorityKind::Notation(_))
                    ) {
                        return Err(invalid(Problem::AttestationByNotation {
                            index: i,
                            name: name.clone(),
                        }));
                    }
                }
                let predicate_type = PredicateType::from_name(&a.predicate_type)
                    .map_err(|error| invalid(Problem::PredicateType { index: i, error }))?;
                attestations.push(AttestationRequirement {
                    name: a.name.unwrap_or_else(|| predicate_type.uri().to_owned()),
                    predicate_type,
                    authorities: a.authorities,
                    conditions: Conditions {
                        slsa: a.slsa,
                        sbom: a.sbom,
                        vulnerabilities: a.vulnerabilities,
                        rego: a.rego,
                        vsa: a.vsa,
                    },
                });
            }
            policies.push(Policy {
                name: p.name,
                line,
                mode: p.mode,
                images: p.images.into_iter().map(|g| g.0).collect(),
                files: p.files,
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
                image: p.image,
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
        let bytes = read_bounded(path, MAX_POLICY_BYTES).map_err(|source| PolicyError::Read {
            path: location(),
            source,
        })?;
        let text =
            String::from_utf8(bytes).map_err(|_| PolicyError::NotText { path: location() })?;
        let base = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let policy = Self::parse(&text, &|key| read_bounded(&base.join(key), MAX_KEY_BYTES))?;
        Ok(policy.with_notation_trust_stores(&base))
    }

    /// The directories holding the Notation authorities' trust stores, relative to `base`
    /// (the policy file's directory).
    pub(crate) fn notation_trust_store_dirs(
        &self,
        base: &std::path::Path,
    ) -> Vec<std::path::PathBuf> {
        self.authorities
            .values()
            .filter_map(|authority| match &authority.kind {
                AuthorityKind::Notation(n) => Some(base.join(&n.spec.trust_store)),
                _ => None,
            })
            .collect()
    }

    /// The policy with each Notation authority's trust stores read from its `trustStore`
    /// directory, relative to `base` (parsing alone does no I/O, so they start empty).
    pub(crate) fn with_notation_trust_stores(mut self, base: &std::path::Path) -> Self {
        for authority in self.authorities.values_mut() {
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
        self
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
    ) -> Result<(signet_verify::Authority, bool), AuthorityUnavailable> {
        let authority = self
            .authorities
            .get(name)
            .ok_or_else(|| AuthorityUnavailable::Undefined(name.to_owned()))?;
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
                    .ok_or(AuthorityUnavailable::NoTrustedRoot)?;
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

    /// The file policies covering the file named `name` (its last path component).
    pub fn matching_file(&self, name: &str) -> Vec<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.covers_file(name))
            .collect()
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
