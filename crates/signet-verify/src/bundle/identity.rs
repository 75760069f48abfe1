//! Certificate identity requirements beyond exact matches: regexes for the identity and the
//! OIDC issuer (anchored, unlike Cosign's), and Fulcio's GitHub workflow extensions, as
//! Cosign's `--certificate-identity-regexp`, `--certificate-oidc-issuer-regexp` and
//! `--certificate-github-workflow-*` flags check them.

use std::fmt;

use super::{BundleCheck, BundleFailure, FailureHint};

/// Largest compiled size of an identity regex (the `regex` crate's `size_limit`).
const MAX_REGEX_SIZE: usize = 1 << 20;

/// A certificate claim requirement: an exact value, a prefix, or a regex that must match all
/// of it.
///
/// Regexes are anchored at both ends, unlike Cosign's (Go's `regexp.MatchString`, which
/// accepts a match anywhere in the claim): `acme` would also accept `evil-acme`. A regex that
/// fails to match the whole claim but would match part of it is reported with
/// [`FailureHint::SubstringOnly`], so that a regex ported from Cosign is easy to fix.
#[derive(Clone)]
#[non_exhaustive]
pub enum ClaimMatcher {
    /// The claim equals this string.
    Exact(String),
    /// The claim starts with this string.
    Prefix(String),
    /// The claim matches this regex as a whole.
    Regex(Box<IdentityRegex>),
}

/// A regex a whole claim must match: compiled anchored (`^(?:…)$`), and also as written, to
/// tell a claim that matches only in part.
#[derive(Clone)]
pub struct IdentityRegex {
    source: String,
    anchored: regex::Regex,
    unanchored: regex::Regex,
}

impl IdentityRegex {
    /// The regex as given, without the anchors signet adds.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl ClaimMatcher {
    /// An exact match.
    pub fn exact(value: impl Into<String>) -> Self {
        Self::Exact(value.into())
    }

    /// A prefix the claim must start with.
    pub fn prefix(value: impl Into<String>) -> Self {
        Self::Prefix(value.into())
    }

    /// A regex that must match the whole claim. Fails with [`BundleCheck::Policy`] if it does
    /// not compile.
    pub fn regex(source: &str) -> Result<Self, BundleFailure> {
        let compile = |pattern: &str| {
            regex::RegexBuilder::new(pattern)
                .size_limit(MAX_REGEX_SIZE)
                .build()
                .map_err(|e| {
                    BundleFailure::new(
                        BundleCheck::Policy,
                        format!("the regex {source:?} does not compile: {e}"),
                    )
                })
        };
        Ok(Self::Regex(Box::new(IdentityRegex {
            source: source.to_owned(),
            anchored: compile(&format!("^(?:{source})$"))?,
            unanchored: compile(source)?,
        })))
    }

    /// Whether `value` satisfies the requirement.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == value,
            Self::Prefix(prefix) => value.starts_with(prefix.as_str()),
            Self::Regex(regex) => regex.anchored.is_match(value),
        }
    }

    /// Whether this is a regex that does not match all of `value` but matches part of it, as
    /// Cosign (which does not anchor) would accept.
    pub fn matches_only_as_substring(&self, value: &str) -> bool {
        match self {
            Self::Regex(regex) => {
                !regex.anchored.is_match(value) && regex.unanchored.is_match(value)
            }
            Self::Exact(_) | Self::Prefix(_) => false,
        }
    }

    /// The failure for a claim (`what`, e.g. "certificate identity") that does not satisfy
    /// the requirement, with the substring hint where it applies.
    fn mismatch(&self, check: BundleCheck, what: &str, value: &str) -> BundleFailure {
        let detail = format!("the {what} is {value:?}, required {self}");
        if self.matches_only_as_substring(value) {
            let hint = FailureHint::SubstringOnly;
            BundleFailure::new(check, format!("{detail}, which it {hint}")).with_hint(hint)
        } else {
            BundleFailure::new(check, detail)
        }
    }
}

impl fmt::Debug for IdentityRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "regex {:?}", self.source)
    }
}

impl fmt::Debug for ClaimMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ClaimMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(value) => write!(f, "{value:?}"),
            Self::Prefix(value) => write!(f, "prefix {value:?}"),
            Self::Regex(regex) => write!(f, "regex {:?}", regex.source),
        }
    }
}

/// Fulcio's GitHub workflow extensions (OIDs `1.3.6.1.4.1.57264.1.2` to `.6`) a certificate
/// must carry, each compared exactly; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GithubWorkflow {
    /// `.1.2`: the event that triggered the run, e.g. `push`.
    pub trigger: Option<String>,
    /// `.1.3`: the commit the run was based on.
    pub sha: Option<String>,
    /// `.1.4`: the workflow's name.
    pub name: Option<String>,
    /// `.1.5`: the repository, as `owner/repository`.
    pub repository: Option<String>,
    /// `.1.6`: the ref, e.g. `refs/heads/main`.
    pub git_ref: Option<String>,
}

impl GithubWorkflow {
    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Where a verified Fulcio certificate says the signed thing was built from: its source
/// repository extensions (`1.3.6.1.4.1.57264.1.12` and `.1.14`, or the deprecated GitHub
/// `.1.5` and `.1.6`) and its build signer (`.1.9`, the workflow that ran). `None` where the
/// certificate does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateSource {
    /// The source repository, e.g. `https://github.com/acme/app` (or `github.com/owner/repo`
    /// from the deprecated `owner/repo` claim).
    pub repository: Option<String>,
    /// The source ref, e.g. `refs/tags/v1.2.3`.
    pub git_ref: Option<String>,
    /// The build signer URI: the workflow file that signed, with its ref.
    pub build_signer: Option<String>,
}

/// Who must have signed: the certificate identity (SAN) and OIDC issuer, each exact or by
/// regex, and optionally GitHub workflow claims.
#[derive(Debug, Clone)]
pub struct CertificateIdentity {
    pub(super) identity: ClaimMatcher,
    pub(super) issuer: ClaimMatcher,
    pub(super) github: GithubWorkflow,
}

impl CertificateIdentity {
    /// Requires `identity` and `issuer`.
    pub fn new(identity: ClaimMatcher, issuer: ClaimMatcher) -> Self {
        Self {
            identity,
            issuer,
            github: GithubWorkflow::default(),
        }
    }

    /// Also requires these GitHub workflow claims.
    pub fn with_github_workflow(mut self, github: GithubWorkflow) -> Self {
        self.github = github;
        self
    }

    /// The identity requirement.
    pub fn identity(&self) -> &ClaimMatcher {
        &self.identity
    }

    /// The issuer requirement.
    pub fn issuer(&self) -> &ClaimMatcher {
        &self.issuer
    }

    /// Checks a verified certificate's claims: identity first, then issuer, then each GitHub
    /// workflow claim.
    pub(super) fn check(
        &self,
        identity: Option<&str>,
        issuer: Option<&str>,
        github: &GithubWorkflow,
    ) -> Result<(), BundleFailure> {
        let identity = identity.unwrap_or("");
        if !self.identity.matches(identity) {
            return Err(self.identity.mismatch(
                BundleCheck::Identity,
                "certificate identity",
                identity,
            ));
        }
        let issuer = issuer.unwrap_or("");
        if !self.issuer.matches(issuer) {
            return Err(self.issuer.mismatch(
                BundleCheck::Issuer,
                "certificate's OIDC issuer",
                issuer,
            ));
        }
        let claims = [
            (
                "github-workflow-trigger",
                &self.github.trigger,
                &github.trigger,
            ),
            ("github-workflow-sha", &self.github.sha, &github.sha),
            ("github-workflow-name", &self.github.name, &github.name),
            (
                "github-workflow-repository",
                &self.github.repository,
                &github.repository,
            ),
            ("github-workflow-ref", &self.github.git_ref, &github.git_ref),
        ];
        for (name, required, actual) in claims {
            if let Some(required) = required
                && actual.as_deref() != Some(required.as_str())
            {
                return Err(BundleFailure::new(
                    BundleCheck::CertificateExtension,
                    format!(
                        "the certificate's {name} is {}, required {required:?}",
                        actual
                            .as_deref()
                            .map_or_else(|| "absent".to_owned(), |a| format!("{a:?}"))
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_of(result: Result<(), BundleFailure>) -> Option<BundleCheck> {
        result.err().map(|e| e.check())
    }

    #[test]
    fn regexes_are_anchored_at_both_ends() {
        let matcher =
            ClaimMatcher::regex("https://github.com/acme/.*").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matcher.matches("https://github.com/acme/app/.github/workflows/r.yml@refs/tags/v1")
        );
        assert!(!matcher.matches("evil https://github.com/acme/x"));
        let short = ClaimMatcher::regex("acme").unwrap_or_else(|e| panic!("{e}"));
        assert!(!short.matches("acme-evil"));
        assert_eq!(
            ClaimMatcher::regex("(").map(|_| ()).map_err(|e| e.check()),
            Err(BundleCheck::Policy)
        );
    }

    const WORKFLOW: &str =
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
    const GITHUB: &str = "https://token.actions.githubusercontent.com";

    fn regex(source: &str) -> ClaimMatcher {
        ClaimMatcher::regex(source).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The failure's check, hint and detail (the error's source).
    fn failure_of(result: Result<(), BundleFailure>) -> (BundleCheck, Option<FailureHint>, String) {
        let failure = result.err().unwrap_or_else(|| panic!("accepted"));
        let detail = std::error::Error::source(&failure)
            .map(ToString::to_string)
            .unwrap_or_else(|| panic!("no detail"));
        (failure.check(), failure.hint(), detail)
    }

    #[test]
    fn a_cosign_style_substring_regex_is_refused_with_the_anchoring_hint() {
        // Cosign accepts this regex (Go's regexp.MatchString finds it inside the identity).
        let required =
            CertificateIdentity::new(regex("github.com/acme/"), ClaimMatcher::exact(GITHUB));
        let none = GithubWorkflow::default();
        let (check, hint, detail) = failure_of(required.check(Some(WORKFLOW), Some(GITHUB), &none));
        assert_eq!(check, BundleCheck::Identity);
        assert_eq!(hint, Some(FailureHint::SubstringOnly));
        assert!(
            detail.contains("matches only as a substring; signet anchors identity regexes"),
            "{detail}"
        );
        assert!(
            detail.contains("write `.*` where you mean a substring"),
            "{detail}"
        );
        assert!(detail.contains(WORKFLOW), "{detail}");

        // Written with `.*` at both ends, it is accepted.
        let ported =
            CertificateIdentity::new(regex(".*github.com/acme/.*"), ClaimMatcher::exact(GITHUB));
        assert!(ported.check(Some(WORKFLOW), Some(GITHUB), &none).is_ok());
        let acme = CertificateIdentity::new(regex(".*acme.*"), ClaimMatcher::exact(GITHUB));
        assert!(acme.check(Some(WORKFLOW), Some(GITHUB), &none).is_ok());

        // The same for the issuer.
        let issuer = CertificateIdentity::new(ClaimMatcher::exact(WORKFLOW), regex("actions"));
        let (check, hint, detail) = failure_of(issuer.check(Some(WORKFLOW), Some(GITHUB), &none));
        assert_eq!(check, BundleCheck::Issuer);
        assert_eq!(hint, Some(FailureHint::SubstringOnly));
        assert!(detail.contains("matches only as a substring"), "{detail}");
    }

    #[test]
    fn the_hint_is_given_only_where_an_unanchored_match_exists() {
        let none = GithubWorkflow::default();
        for identity in [
            regex("github.com/evil/"),
            ClaimMatcher::exact("github.com/acme/"),
            ClaimMatcher::prefix("github.com/acme/"),
        ] {
            let required = CertificateIdentity::new(identity.clone(), ClaimMatcher::exact(GITHUB));
            let (check, hint, detail) =
                failure_of(required.check(Some(WORKFLOW), Some(GITHUB), &none));
            assert_eq!(check, BundleCheck::Identity, "{identity}");
            assert_eq!(hint, None, "{identity}: {detail}");
            assert!(!detail.contains("substring"), "{detail}");
        }
        // A prefix is a prefix: it matches from the start only.
        assert!(ClaimMatcher::prefix("https://github.com/acme/").matches(WORKFLOW));
        assert!(!ClaimMatcher::prefix("github.com/acme/").matches(WORKFLOW));
        assert!(regex("acme").matches_only_as_substring("evil-acme"));
        assert!(!regex("acme").matches_only_as_substring("acme"));
    }

    #[test]
    fn identity_then_issuer_then_github_claims_are_checked() {
        let required = CertificateIdentity::new(
            ClaimMatcher::exact("me@example.com"),
            ClaimMatcher::regex("https://accounts\\.google\\.com")
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .with_github_workflow(GithubWorkflow {
            trigger: Some("push".into()),
            ..GithubWorkflow::default()
        });
        let push = GithubWorkflow {
            trigger: Some("push".into()),
            ..GithubWorkflow::default()
        };
        let google = Some("https://accounts.google.com");
        assert_eq!(
            check_of(required.check(Some("me@example.com"), google, &push)),
            None
        );
        assert_eq!(
            check_of(required.check(Some("you@example.com"), google, &push)),
            Some(BundleCheck::Identity)
        );
        assert_eq!(
            check_of(required.check(Some("me@example.com"), Some("https://evil"), &push)),
            Some(BundleCheck::Issuer)
        );
        assert_eq!(
            check_of(required.check(Some("me@example.com"), google, &GithubWorkflow::default())),
            Some(BundleCheck::CertificateExtension)
        );
    }
}
