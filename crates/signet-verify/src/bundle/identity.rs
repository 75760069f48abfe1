//! Certificate identity requirements beyond exact matches: anchored regexes for the identity
//! and the OIDC issuer, and Fulcio's GitHub workflow extensions, as Cosign's
//! `--certificate-identity-regexp`, `--certificate-oidc-issuer-regexp` and
//! `--certificate-github-workflow-*` flags check them.

use std::fmt;

use super::{BundleCheck, BundleFailure};

/// Largest compiled size of an identity regex (the `regex` crate's `size_limit`).
const MAX_REGEX_SIZE: usize = 1 << 20;

/// A certificate claim requirement: an exact value, or a regex that must match all of it.
#[derive(Clone)]
#[non_exhaustive]
pub enum ClaimMatcher {
    /// The claim equals this string.
    Exact(String),
    /// The claim matches this regex, anchored at both ends (`^(?:…)$`), as Cosign anchors
    /// identity regexes.
    Regex {
        /// The regex as given.
        source: String,
        /// The anchored, compiled regex.
        regex: regex::Regex,
    },
}

impl ClaimMatcher {
    /// An exact match.
    pub fn exact(value: impl Into<String>) -> Self {
        Self::Exact(value.into())
    }

    /// A regex that must match the whole claim. Fails with [`BundleCheck::Policy`] if it does
    /// not compile.
    pub fn regex(source: &str) -> Result<Self, BundleFailure> {
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(MAX_REGEX_SIZE)
            .build()
            .map_err(|e| {
                BundleFailure::new(
                    BundleCheck::Policy,
                    format!("the regex {source:?} does not compile: {e}"),
                )
            })?;
        Ok(Self::Regex {
            source: source.to_owned(),
            regex,
        })
    }

    /// Whether `value` satisfies the requirement.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == value,
            Self::Regex { regex, .. } => regex.is_match(value),
        }
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
            Self::Regex { source, .. } => write!(f, "regex {source:?}"),
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
            return Err(BundleFailure::new(
                BundleCheck::Identity,
                format!(
                    "the certificate identity is {identity:?}, required {}",
                    self.identity
                ),
            ));
        }
        let issuer = issuer.unwrap_or("");
        if !self.issuer.matches(issuer) {
            return Err(BundleFailure::new(
                BundleCheck::Issuer,
                format!(
                    "the certificate's OIDC issuer is {issuer:?}, required {}",
                    self.issuer
                ),
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
