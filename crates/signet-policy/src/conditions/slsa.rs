//! SLSA provenance conditions, read as slsa-verifier reads provenance
//! (`verifiers/internal/gha/slsaprovenance/{v0.2,v1.0}` and `verifySourceURI`).
//!
//! The source has two witnesses. The *trigger* — v0.2 `invocation.configSource.uri`; v1
//! `externalParameters.workflow` (`repository` + `ref`, the GitHub Actions build type),
//! `externalParameters.source` (BYOB and container builders) or
//! `internalParameters.GITHUB_WORKFLOW_REF` — is the source; the first *material* — v0.2
//! `materials[0].uri`, v1 `resolvedDependencies[0].uri` — stands in when there is no trigger.
//! When both are present and the material is a git URI, they must name the same repository
//! (and, when both carry one, the same ref), as slsa-verifier requires. When neither carries a
//! ref, the builder's record of the triggering ref stands in (v0.2
//! `invocation.environment.github_ref`, v1 `internalParameters.GITHUB_REF`).

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use signet_core::intoto;

use super::time::quote;
use super::{First, StringMatch, Text};

/// SLSA provenance checks, as slsa-verifier makes them (v0.2 and v1 field names).
///
/// ```yaml
/// slsa:
///   builderId:
///     prefix: https://github.com/slsa-framework/slsa-github-generator/.github/workflows/
///   sourceRepository: github.com/acme/app   # git+https://, https:// and .git are ignored
///   branch: main                            # or tag: v1.2.3, or ref: refs/heads/main
///   buildType: https://github.com/slsa-framework/slsa-github-generator/generic@v1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SlsaCondition {
    /// The builder id.
    #[serde(default)]
    pub builder_id: Option<StringMatch>,
    /// The source repository, e.g. `github.com/acme/app`.
    #[serde(default)]
    pub source_repository: Option<String>,
    /// The full git ref, e.g. `refs/heads/main`.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// A branch name (`refs/heads/<branch>`).
    #[serde(default)]
    pub branch: Option<String>,
    /// A tag name (`refs/tags/<tag>`).
    #[serde(default)]
    pub tag: Option<String>,
    /// The build type (exact).
    #[serde(default)]
    pub build_type: Option<String>,
}

/// Why a statement failed an SLSA provenance condition.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SlsaFailure {
    /// The statement is of another predicate type.
    #[error(
        "the statement is not SLSA provenance (v0.2 or v1): its predicateType is {}",
        quote(.0)
    )]
    NotProvenance(String),
    /// The statement has no predicate.
    #[error("the SLSA provenance has no predicate")]
    NoPredicate,
    /// The predicate does not parse as provenance.
    #[error("the SLSA provenance cannot be read: {0}")]
    Unreadable(Arc<serde_json::Error>),
    /// A field a rule reads is absent.
    #[error("the SLSA provenance has no {0}")]
    Missing(&'static str),
    /// The builder id does not match.
    #[error("the SLSA provenance's builder id is {}, which does not {rule}", quote(.found))]
    BuilderId {
        /// The builder id.
        found: String,
        /// The rule.
        rule: StringMatch,
    },
    /// The build type differs.
    #[error("the SLSA provenance's build type is {}, not {}", quote(.found), quote(.wanted))]
    BuildType {
        /// The build type.
        found: String,
        /// The one required.
        wanted: String,
    },
    /// Neither a trigger nor a material names the source.
    #[error("the SLSA provenance names no source repository (no trigger and no first material)")]
    NoSource,
    /// The trigger and the first material name different sources.
    #[error(
        "the SLSA provenance is inconsistent: its {trigger_field} is {} but its {material_field} is {}",
        quote(.trigger),
        quote(.material)
    )]
    Inconsistent {
        /// Where the trigger is.
        trigger_field: &'static str,
        /// The trigger's URI.
        trigger: String,
        /// Where the material is.
        material_field: &'static str,
        /// The material's URI.
        material: String,
    },
    /// The source repository differs.
    #[error(
        "the SLSA provenance's source repository is {} (from its {field} {}), not {}",
        quote(.found),
        quote(.uri),
        quote(.wanted)
    )]
    SourceRepository {
        /// The repository, normalised.
        found: String,
        /// Where it was read.
        field: &'static str,
        /// The URI it was read from.
        uri: String,
        /// The repository required.
        wanted: String,
    },
    /// The source carries no ref to compare.
    #[error(
        "the SLSA provenance's source {} has no git ref, so {wanted} cannot be checked",
        quote(.source_uri)
    )]
    NoRef {
        /// The source URI.
        source_uri: String,
        /// `branch "main"`, `tag "v1"`, `ref "refs/heads/x"`.
        wanted: String,
    },
    /// The ref differs.
    #[error(
        "the SLSA provenance was built from ref {} (its {field} {}), not {wanted}",
        quote(.found),
        quote(.text)
    )]
    Ref {
        /// The ref.
        found: String,
        /// Where it was read.
        field: &'static str,
        /// The value it was read from.
        text: String,
        /// `branch "main"`, `tag "v1"`, `ref "refs/heads/x"`.
        wanted: String,
    },
}

/// A source URI found in the provenance, and where.
struct Source<'a> {
    uri: Cow<'a, str>,
    field: &'static str,
}

impl Source<'_> {
    fn repository(&self) -> String {
        normalise_repository(self.uri.split_once('@').map_or(&*self.uri, |(r, _)| r))
    }

    fn git_ref(&self) -> Option<&str> {
        self.uri
            .split_once('@')
            .map(|(_, r)| r)
            .filter(|r| !r.is_empty())
    }

    fn is_git(&self) -> bool {
        self.uri.starts_with("git+")
    }
}

/// `git+https://github.com/acme/app.git/` → `github.com/acme/app`.
fn normalise_repository(uri: &str) -> String {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let uri = match uri.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            rest
        }
        _ => uri,
    };
    let uri = uri.trim_end_matches('/');
    uri.strip_suffix(".git").unwrap_or(uri).to_owned()
}

/// What the checks read from a provenance predicate.
struct Provenance<'a> {
    builder_id: Option<Text<'a>>,
    builder_field: &'static str,
    build_type: Option<Text<'a>>,
    build_type_field: &'static str,
    trigger: Option<Source<'a>>,
    material: Option<Source<'a>>,
    /// The triggering ref as the builder's environment recorded it, and where.
    env_ref: Option<(Text<'a>, &'static str)>,
}

impl SlsaCondition {
    fn checks_source(&self) -> bool {
        self.source_repository.is_some()
            || self.git_ref.is_some()
            || self.branch.is_some()
            || self.tag.is_some()
    }

    /// Checks the predicate; `Err` is the reason.
    pub(super) fn check(
        &self,
        predicate_type: &str,
        predicate: Option<&RawValue>,
    ) -> Result<(), SlsaFailure> {
        let raw = || predicate.map(RawValue::get).ok_or(SlsaFailure::NoPredicate);
        let unreadable = |e: serde_json::Error| SlsaFailure::Unreadable(Arc::new(e));
        let prov = match predicate_type {
            intoto::SLSA_PROVENANCE_V02 => {
                let p: V02<'_> = serde_json::from_str(raw()?).map_err(unreadable)?;
                p.into_provenance()
            }
            intoto::SLSA_PROVENANCE_V1 => {
                let p: V1<'_> = serde_json::from_str(raw()?).map_err(unreadable)?;
                p.into_provenance()
            }
            other => return Err(SlsaFailure::NotProvenance(other.to_owned())),
        };

        if let Some(want) = &self.builder_id {
            let id = prov
                .builder_id
                .as_deref()
                .ok_or(SlsaFailure::Missing(prov.builder_field))?;
            if !want.matches(id) {
                return Err(SlsaFailure::BuilderId {
                    found: id.to_owned(),
                    rule: want.clone(),
                });
            }
        }
        if let Some(want) = &self.build_type {
            let found = prov
                .build_type
                .as_deref()
                .ok_or(SlsaFailure::Missing(prov.build_type_field))?;
            if found != want {
                return Err(SlsaFailure::BuildType {
                    found: found.to_owned(),
                    wanted: want.clone(),
                });
            }
        }
        if self.checks_source() {
            self.check_source(&prov)?;
        }
        Ok(())
    }

    fn check_source(&self, prov: &Provenance<'_>) -> Result<(), SlsaFailure> {
        let source = prov
            .trigger
            .as_ref()
            .or(prov.material.as_ref())
            .ok_or(SlsaFailure::NoSource)?;
        if let (Some(trigger), Some(material)) = (&prov.trigger, &prov.material)
            && material.is_git()
        {
            let refs_differ = matches!(
                (trigger.git_ref(), material.git_ref()),
                (Some(a), Some(b)) if a != b
            );
            if trigger.repository() != material.repository() || refs_differ {
                return Err(SlsaFailure::Inconsistent {
                    trigger_field: trigger.field,
                    trigger: trigger.uri.to_string(),
                    material_field: material.field,
                    material: material.uri.to_string(),
                });
            }
        }
        if let Some(want) = &self.source_repository {
            let found = source.repository();
            if found != normalise_repository(want) {
                return Err(SlsaFailure::SourceRepository {
                    found,
                    field: source.field,
                    uri: source.uri.to_string(),
                    wanted: want.clone(),
                });
            }
        }
        let mut wanted = Vec::new();
        if let Some(r) = &self.git_ref {
            wanted.push((format!("ref {}", quote(r)), r.clone()));
        }
        if let Some(b) = &self.branch {
            let b = b.strip_prefix("refs/heads/").unwrap_or(b);
            wanted.push((format!("branch {}", quote(b)), format!("refs/heads/{b}")));
        }
        if let Some(t) = &self.tag {
            let t = t.strip_prefix("refs/tags/").unwrap_or(t);
            wanted.push((format!("tag {}", quote(t)), format!("refs/tags/{t}")));
        }
        for (label, want) in wanted {
            let found = source
                .git_ref()
                .map(|r| (r, source.field, &*source.uri))
                .or_else(|| {
                    let m = prov.material.as_ref()?;
                    Some((m.git_ref()?, m.field, &*m.uri))
                })
                .or_else(|| {
                    let (r, field) = prov.env_ref.as_ref()?;
                    Some((&**r, *field, &**r))
                });
            let Some((found, field, text)) = found else {
                return Err(SlsaFailure::NoRef {
                    source_uri: source.uri.to_string(),
                    wanted: label,
                });
            };
            if found != want {
                return Err(SlsaFailure::Ref {
                    found: found.to_owned(),
                    field,
                    text: text.to_owned(),
                    wanted: label,
                });
            }
        }
        Ok(())
    }
}

// --- v0.2 -----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V02<'a> {
    #[serde(borrow, default)]
    builder: Option<Builder<'a>>,
    #[serde(borrow, default)]
    build_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    invocation: Option<V02Invocation<'a>>,
    #[serde(borrow, default)]
    materials: Option<First<Resource<'a>>>,
}

#[derive(Deserialize)]
struct Builder<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V02Invocation<'a> {
    #[serde(borrow, default)]
    config_source: Option<Resource<'a>>,
    /// Free-form: only `github_ref` is read, leniently.
    #[serde(borrow, default)]
    environment: Option<&'a RawValue>,
}

/// The triggering ref in a GitHub builder's environment: v0.2 `github_ref`, v1 `GITHUB_REF`.
#[derive(Deserialize)]
struct GithubRef<'a> {
    #[serde(alias = "GITHUB_REF", borrow, default)]
    github_ref: Option<&'a RawValue>,
}

impl<'a> GithubRef<'a> {
    fn find(raw: Option<&'a RawValue>, field: &'static str) -> Option<(Text<'a>, &'static str)> {
        let env: GithubRef<'a> = lenient(raw)?;
        let text: Text<'a> = lenient(env.github_ref)?;
        (!text.is_empty()).then_some((text, field))
    }
}

/// A v0.2 material or config source, or a v1 resource descriptor: only the URI is read.
#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(borrow, default)]
    uri: Option<Text<'a>>,
}

fn source<'a>(uri: Option<Text<'a>>, field: &'static str) -> Option<Source<'a>> {
    uri.filter(|u| !u.is_empty()).map(|u| Source {
        uri: u.into_cow(),
        field,
    })
}

impl<'a> V02<'a> {
    fn into_provenance(self) -> Provenance<'a> {
        let (config_source, environment) = match self.invocation {
            Some(i) => (i.config_source, i.environment),
            None => (None, None),
        };
        Provenance {
            builder_id: self.builder.and_then(|b| b.id),
            builder_field: "predicate.builder.id",
            build_type: self.build_type,
            build_type_field: "predicate.buildType",
            trigger: source(
                config_source.and_then(|c| c.uri),
                "invocation.configSource.uri",
            ),
            material: source(
                self.materials.and_then(|m| m.0).and_then(|m| m.uri),
                "materials[0].uri",
            ),
            env_ref: GithubRef::find(environment, "invocation.environment.github_ref"),
        }
    }
}

// --- v1 -------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1<'a> {
    #[serde(borrow, default)]
    build_definition: Option<BuildDefinition<'a>>,
    #[serde(borrow, default)]
    run_details: Option<RunDetails<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildDefinition<'a> {
    #[serde(borrow, default)]
    build_type: Option<Text<'a>>,
    /// Free-form per build type: the members read are parsed leniently, below.
    #[serde(borrow, default)]
    external_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    internal_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    resolved_dependencies: Option<First<Resource<'a>>>,
}

#[derive(Deserialize)]
struct RunDetails<'a> {
    #[serde(borrow, default)]
    builder: Option<Builder<'a>>,
}

#[derive(Deserialize)]
struct ExternalParameters<'a> {
    #[serde(borrow, default)]
    workflow: Option<&'a RawValue>,
    #[serde(borrow, default)]
    source: Option<&'a RawValue>,
}

/// GitHub Actions build type: `{"repository": "https://github.com/o/r", "ref": "refs/…"}`.
#[derive(Deserialize)]
struct Workflow<'a> {
    #[serde(borrow, default)]
    repository: Option<Text<'a>>,
    #[serde(rename = "ref", borrow, default)]
    git_ref: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct InternalParameters<'a> {
    #[serde(rename = "GITHUB_WORKFLOW_REF", borrow, default)]
    github_workflow_ref: Option<&'a RawValue>,
}

/// Parses `raw` as `T`, or `None` when it has another shape: build-type-specific members of
/// other builders are not errors.
fn lenient<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<T> {
    serde_json::from_str(raw?.get()).ok()
}

impl<'a> V1<'a> {
    fn into_provenance(self) -> Provenance<'a> {
        let (build_type, external, internal, first) = match self.build_definition {
            Some(d) => (
                d.build_type,
                d.external_parameters,
                d.internal_parameters,
                d.resolved_dependencies,
            ),
            None => (None, None, None, None),
        };
        let external: Option<ExternalParameters<'a>> = lenient(external);
        let (workflow, source_param) = match external {
            Some(e) => (lenient::<Workflow<'a>>(e.workflow), e.source),
            None => (None, None),
        };
        let from_workflow = workflow.and_then(|w| {
            let repository = w.repository.filter(|r| !r.is_empty())?;
            let repository = repository.strip_prefix("git+").unwrap_or(&repository);
            Some(Source {
                uri: Cow::Owned(match w.git_ref {
                    Some(r) if !r.is_empty() => format!("git+{repository}@{}", &*r),
                    _ => format!("git+{repository}"),
                }),
                field: "externalParameters.workflow",
            })
        });
        let from_source = || {
            let uri = lenient::<Text<'a>>(source_param)
                .or_else(|| lenient::<Resource<'a>>(source_param).and_then(|r| r.uri));
            source(uri, "externalParameters.source")
        };
        // GITHUB_WORKFLOW_REF: `owner/repo/.github/workflows/x.yml@refs/heads/main`.
        let from_workflow_ref = || {
            let internal: InternalParameters<'a> = lenient(internal)?;
            let text: Text<'a> = lenient(internal.github_workflow_ref)?;
            let (path, git_ref) = text.split_once('@')?;
            let mut parts = path.splitn(3, '/');
            let (owner, repo) = (parts.next()?, parts.next()?);
            Some(Source {
                uri: Cow::Owned(format!("git+https://github.com/{owner}/{repo}@{git_ref}")),
                field: "internalParameters.GITHUB_WORKFLOW_REF",
            })
        };
        Provenance {
            builder_id: self.run_details.and_then(|r| r.builder).and_then(|b| b.id),
            builder_field: "predicate.runDetails.builder.id",
            build_type,
            build_type_field: "predicate.buildDefinition.buildType",
            trigger: from_workflow
                .or_else(from_source)
                .or_else(from_workflow_ref),
            material: source(
                first.and_then(|f| f.0).and_then(|r| r.uri),
                "resolvedDependencies[0].uri",
            ),
            env_ref: GithubRef::find(internal, "internalParameters.GITHUB_REF"),
        }
    }
}
