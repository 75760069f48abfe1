//! "This artifact was built by builder X from source repository Y at tag or branch Z", as
//! slsa-verifier's `verify-artifact` flags say it (`--builder-id`, `--source-uri`,
//! `--source-tag`, `--source-branch`), checked on a verified SLSA provenance bundle.
//!
//! Two witnesses are read, and both must agree with what is required:
//!
//! - the provenance (SLSA v0.2 or v1, as slsa-github-generator, GitHub's `actions/attest` and
//!   npm write it), through the same [`SlsaCondition`] the YAML policy's `slsa:` uses;
//! - the Fulcio certificate that signed it, whose source repository and ref extensions come
//!   from the CI's identity token, not from the signer: a build cannot claim another
//!   repository's source there.
//!
//! The builder id is matched as slsa-verifier matches it: an id with a version
//! (`…/generator_generic_slsa3.yml@refs/tags/v2.1.0`) exactly, one without at any version.
//! The provenance's builder id is the signer's claim; it is worth something only when the
//! signer is that builder, which [`ProvenanceRequirement::builder_signer`] requires when no
//! other signer identity is given (slsa-github-generator's builders sign with their own
//! workflow identity).

use std::fmt;

use signet_core::intoto::PredicateType;
use signet_verify::bundle::{
    ArtifactDigests, BundleFailure, CertificateIdentity, ClaimMatcher, VerifiedBundle,
};
use signet_verify::{
    Authority, FileAttestationFailure, VerifiedFileAttestation, check_file_attestation,
};

use crate::conditions::{Conditions, SlsaCondition, StringMatch};

/// The OIDC issuer of GitHub Actions' workflow identity tokens.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The SLSA provenance predicate types checked.
pub const SLSA_PROVENANCE_TYPES: [&str; 2] = [
    signet_core::intoto::SLSA_PROVENANCE_V02,
    signet_core::intoto::SLSA_PROVENANCE_V1,
];

/// What a file's SLSA provenance must say; what is not set is not checked.
///
/// ```
/// use signet_policy::provenance::ProvenanceRequirement;
///
/// let requirement = ProvenanceRequirement::default()
///     .with_builder_id(Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml".into()))
///     .with_source_uri(Some("github.com/slsa-framework/example-package".into()))
///     .with_source_tag(Some("v13.0.30".into()));
/// assert!(!requirement.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvenanceRequirement {
    builder_id: Option<String>,
    source_uri: Option<String>,
    source_tag: Option<String>,
    source_branch: Option<String>,
}

/// Which provenance check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProvenanceCheck {
    /// The attestation is not SLSA provenance, or its predicate cannot be read.
    Type,
    /// The builder id is not the one required.
    Builder,
    /// The source repository is not the one required (in the provenance or the certificate).
    Source,
    /// The source was not at the tag or branch required (in the provenance or the
    /// certificate).
    Ref,
}

impl ProvenanceCheck {
    /// A short, stable name: `provenance-type`, `provenance-builder`, `provenance-source`,
    /// `provenance-ref`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Type => "provenance-type",
            Self::Builder => "provenance-builder",
            Self::Source => "provenance-source",
            Self::Ref => "provenance-ref",
        }
    }
}

impl fmt::Display for ProvenanceCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Type => "the attestation is not SLSA provenance",
            Self::Builder => "the provenance's builder is not the one required",
            Self::Source => "the artifact was not built from the source repository required",
            Self::Ref => "the artifact was not built from the tag or branch required",
        })
    }
}

/// Why verified provenance does not say what was required: the check, and a sentence naming
/// the values found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check} [{}]: {detail}", check.code())]
pub struct ProvenanceFailure {
    check: ProvenanceCheck,
    detail: String,
}

impl ProvenanceFailure {
    fn new(check: ProvenanceCheck, detail: impl Into<String>) -> Self {
        Self {
            check,
            detail: detail.into(),
        }
    }

    /// The check that failed.
    pub fn check(&self) -> ProvenanceCheck {
        self.check
    }

    /// What was found, in a sentence.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl ProvenanceRequirement {
    /// The builder id, with or without `@version`.
    ///
    /// A version without `refs/` is a tag, as slsa-verifier reads it: `…/b.yml@v2.1.0` is
    /// `…/b.yml@refs/tags/v2.1.0`.
    pub fn with_builder_id(mut self, builder_id: Option<String>) -> Self {
        self.builder_id = builder_id.map(|id| match id.split_once('@') {
            Some((workflow, version)) if !version.starts_with("refs/") => {
                format!("{workflow}@refs/tags/{version}")
            }
            _ => id,
        });
        self
    }

    /// The source repository, e.g. `github.com/acme/app` (`https://`, `git+` and `.git` are
    /// ignored).
    pub fn with_source_uri(mut self, source_uri: Option<String>) -> Self {
        self.source_uri = source_uri;
        self
    }

    /// The tag the source was at, e.g. `v1.2.3` (or `refs/tags/v1.2.3`).
    pub fn with_source_tag(mut self, tag: Option<String>) -> Self {
        self.source_tag = tag;
        self
    }

    /// The branch the source was at, e.g. `main` (or `refs/heads/main`).
    pub fn with_source_branch(mut self, branch: Option<String>) -> Self {
        self.source_branch = branch;
        self
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The signer to require when the caller names none: a GitHub Actions certificate whose
    /// identity is the builder's workflow (`--builder-id` at any ref when it has no
    /// `@version`). `None` without a builder id.
    pub fn builder_signer(&self) -> Option<Result<CertificateIdentity, BundleFailure>> {
        let builder = self.builder_id.as_deref()?;
        let identity = if builder.contains('@') {
            Ok(ClaimMatcher::exact(builder))
        } else {
            ClaimMatcher::regex(&format!("{}(@.*)?", regex::escape(builder)))
        };
        Some(identity.map(|identity| {
            CertificateIdentity::new(identity, ClaimMatcher::exact(GITHUB_ACTIONS_ISSUER))
        }))
    }

    /// Checks a verified bundle's SLSA provenance and certificate: builder, then source
    /// repository, then tag or branch.
    pub fn check(&self, verified: &VerifiedBundle) -> Result<(), ProvenanceFailure> {
        let Some((_, statement)) = verified.dsse_payload() else {
            return Err(ProvenanceFailure::new(
                ProvenanceCheck::Type,
                "the bundle holds a message signature, not an attestation",
            ));
        };
        let predicate_type = signet_core::intoto::Statement::parse(statement)
            .map(|s| s.predicate_type)
            .map_err(|e| {
                ProvenanceFailure::new(
                    ProvenanceCheck::Type,
                    format!("the statement cannot be read: {e}"),
                )
            })?;
        if !SLSA_PROVENANCE_TYPES.contains(&predicate_type.as_str()) {
            return Err(ProvenanceFailure::new(
                ProvenanceCheck::Type,
                format!("its predicate type is {predicate_type:?}, not SLSA provenance v0.2 or v1"),
            ));
        }
        let check = |check: ProvenanceCheck, condition: SlsaCondition| {
            Conditions {
                slsa: Some(condition),
                ..Conditions::default()
            }
            .check(statement, 0)
            .map_err(|failure| ProvenanceFailure::new(check, failure.to_string()))
        };
        if let Some(builder) = &self.builder_id {
            let builder_is = |matcher| {
                check(
                    ProvenanceCheck::Builder,
                    SlsaCondition {
                        builder_id: Some(matcher),
                        ..SlsaCondition::default()
                    },
                )
            };
            match builder_is(StringMatch::Exact(builder.clone())) {
                Ok(()) => {}
                Err(failure) if builder.contains('@') => return Err(failure),
                // Without a version, any version of that builder: `ID@…`.
                Err(failure) => {
                    builder_is(StringMatch::Prefix(format!("{builder}@"))).map_err(|_| failure)?
                }
            }
        }
        let source = verified.certificate_source();
        if let Some(uri) = &self.source_uri {
            check(
                ProvenanceCheck::Source,
                SlsaCondition {
                    source_repository: Some(uri.clone()),
                    ..SlsaCondition::default()
                },
            )?;
            if let Some(found) = &source.repository
                && repository(found) != repository(uri)
            {
                return Err(ProvenanceFailure::new(
                    ProvenanceCheck::Source,
                    format!(
                        "the signing certificate's source repository is {found:?}, not {uri:?}"
                    ),
                ));
            }
        }
        for (wanted, prefix, label) in [
            (&self.source_tag, "refs/tags/", "tag"),
            (&self.source_branch, "refs/heads/", "branch"),
        ] {
            let Some(wanted) = wanted else { continue };
            let name = wanted.strip_prefix(prefix).unwrap_or(wanted);
            let condition = if label == "tag" {
                SlsaCondition {
                    tag: Some(name.to_owned()),
                    ..SlsaCondition::default()
                }
            } else {
                SlsaCondition {
                    branch: Some(name.to_owned()),
                    ..SlsaCondition::default()
                }
            };
            check(ProvenanceCheck::Ref, condition)?;
            let full = format!("{prefix}{name}");
            if let Some(found) = &source.git_ref
                && *found != full
            {
                return Err(ProvenanceFailure::new(
                    ProvenanceCheck::Ref,
                    format!(
                        "the signing certificate's source ref is {found:?}, not {label} {name:?}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Why a file's provenance was refused: its attestation, or what the provenance says.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileProvenanceFailure {
    /// No attestation of SLSA provenance verified (signature, identity, log, subject…).
    #[error(transparent)]
    Attestation(FileAttestationFailure),
    /// The verified provenance does not say what was required.
    #[error(transparent)]
    Provenance(ProvenanceFailure),
}

impl FileProvenanceFailure {
    /// A short, stable name for the failed check (see [`FileAttestationFailure::code`] and
    /// [`ProvenanceCheck::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Attestation(failure) => failure.code(),
            Self::Provenance(failure) => failure.check().code(),
        }
    }

    /// Whether this is a failure to find out rather than a refusal.
    pub fn is_operational(&self) -> bool {
        matches!(self, Self::Attestation(failure) if failure.is_operational())
    }
}

/// Was the file with these digests built as `requirement` says, by the SLSA provenance
/// (v0.2 or v1) in `document` signed by `authority`? The provenance is verified as
/// [`check_file_attestation`] verifies any attestation (`None`: a key authority without a
/// trusted root), then [`ProvenanceRequirement::check`]ed.
pub fn check_file_provenance(
    document: &[u8],
    artifact: &ArtifactDigests,
    authority: &Authority,
    requirement: &ProvenanceRequirement,
) -> Option<Result<VerifiedFileAttestation, FileProvenanceFailure>> {
    let types: Vec<PredicateType> = SLSA_PROVENANCE_TYPES
        .iter()
        .filter_map(|uri| PredicateType::from_name(uri).ok())
        .collect();
    let verified = check_file_attestation(document, artifact, authority, &types)?;
    Some(
        verified
            .map_err(FileProvenanceFailure::Attestation)
            .and_then(|verified| {
                requirement
                    .check(verified.bundle())
                    .map_err(FileProvenanceFailure::Provenance)?;
                Ok(verified)
            }),
    )
}

/// `https://github.com/acme/app.git` → `github.com/acme/app`, as the provenance side compares.
fn repository(uri: &str) -> String {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let uri = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let uri = uri.trim_end_matches('/');
    uri.strip_suffix(".git").unwrap_or(uri).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_compare_without_scheme_git_prefix_or_suffix() {
        assert_eq!(
            repository("git+https://github.com/acme/app.git"),
            "github.com/acme/app"
        );
        assert_eq!(repository("github.com/acme/app/"), "github.com/acme/app");
        assert_ne!(
            repository("github.com/acme/appA"),
            repository("github.com/acme/app")
        );
    }

    #[test]
    fn a_builder_without_a_version_signs_at_any_ref_of_that_workflow_only() {
        let requirement = ProvenanceRequirement::default().with_builder_id(Some(
            "https://github.com/o/r/.github/workflows/b.yml".to_owned(),
        ));
        let signer = requirement
            .builder_signer()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("a signer"));
        assert!(
            signer
                .identity()
                .matches("https://github.com/o/r/.github/workflows/b.yml@refs/tags/v1")
        );
        assert!(
            signer
                .identity()
                .matches("https://github.com/o/r/.github/workflows/b.yml")
        );
        assert!(
            !signer
                .identity()
                .matches("https://github.com/o/r/.github/workflows/b.yml2@refs/tags/v1")
        );
        assert!(signer.issuer().matches(GITHUB_ACTIONS_ISSUER));
    }

    #[test]
    fn a_short_builder_version_is_a_tag() {
        let requirement = ProvenanceRequirement::default().with_builder_id(Some(
            "https://github.com/o/r/.github/workflows/b.yml@v2".to_owned(),
        ));
        assert_eq!(
            requirement.builder_id.as_deref(),
            Some("https://github.com/o/r/.github/workflows/b.yml@refs/tags/v2")
        );
    }
}
