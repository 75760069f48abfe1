//! SBOM conditions: format, age, denied packages and denied licences, over SPDX (JSON and
//! tag-value) and CycloneDX (JSON) predicates.
//!
//! Nothing is kept: the document's head (version, creation time) is deserialized into
//! borrowed structs with the package list left as raw JSON; when a package or licence rule is
//! set, the list is then walked one package at a time (a CycloneDX component with its nested
//! components), each checked and dropped, so only the first denial's reason and a count
//! survive. Names, versions, purls and licences point into the statement's bytes; strings
//! with JSON escapes are the only copies. A tag-value SPDX predicate is a JSON string, so its
//! text is unescaped once (one copy of the document) and read line by line.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use signet_core::intoto;

use super::time::{AgeFailure, MaxAge, quote};
use super::version::{Parsed, Version, VersionRange};
use super::{Text, for_each};

/// An SBOM format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SbomFormat {
    /// SPDX, JSON or tag-value (predicate type `https://spdx.dev/Document`).
    Spdx,
    /// CycloneDX JSON (predicate type `https://cyclonedx.org/bom`).
    Cyclonedx,
}

impl SbomFormat {
    /// The format's name in prose.
    fn name(self) -> &'static str {
        match self {
            Self::Spdx => "SPDX",
            Self::Cyclonedx => "CycloneDX",
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Spdx => "spdx",
            Self::Cyclonedx => "cyclonedx",
        })
    }
}

/// Conditions on an SBOM attestation.
///
/// ```yaml
/// sbom:
///   format: cyclonedx          # or spdx; any when absent
///   maxAge: 30d                # SPDX creationInfo.created / CycloneDX metadata.timestamp
///   deniedPackages:
///     - purl: pkg:maven/org.apache.logging.log4j/log4j-core
///       versions: "<2.17.1"
///     - name: event-stream     # any version
///   deniedLicenses: [GPL-3.0-only, AGPL-3.0-only]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SbomCondition {
    /// The SBOM must be in this format.
    #[serde(default)]
    pub format: Option<SbomFormat>,
    /// The SBOM must have been created at most this long ago.
    #[serde(default)]
    pub max_age: Option<MaxAge>,
    /// No package may match one of these rules.
    #[serde(default)]
    pub denied_packages: Vec<PackageRule>,
    /// No package's concluded or declared licence may include one of these SPDX licence ids
    /// (compared case-insensitively, as whole words of the licence expression).
    #[serde(default, deserialize_with = "licence_ids")]
    pub denied_licenses: Vec<String>,
}

fn licence_ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let ids = Vec::<String>::deserialize(deserializer)?;
    for id in &ids {
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+' | b':'));
        if !valid {
            return Err(serde::de::Error::custom(format!(
                "{} is not an SPDX licence id (such as GPL-3.0-only); list ids, not expressions",
                quote(id)
            )));
        }
    }
    Ok(ids)
}

/// A package the SBOM must not contain: by name (exact, ASCII case-insensitive) and/or by
/// package URL (a prefix of the purl without version, qualifiers and subpath, ending at a `/`
/// or at the end), optionally only in a version range. Without `versions`, every version is
/// denied.
///
/// ```yaml
/// - name: log4j-core
/// - purl: pkg:maven/org.apache.logging.log4j/log4j-core
///   versions: ">=2.0.0, <2.17.1"
/// - purl: pkg:npm/%40evil/   # every package in a namespace
/// ```
///
/// A package whose version a range cannot compare (not semantic, even read leniently as
/// `v1.2` → `1.2.0`; or no version at all) is denied when its name or purl matches: failing
/// closed, with the reason saying so.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "PackageRuleFields")]
pub struct PackageRule {
    name: Option<String>,
    purl: Option<String>,
    /// `purl` percent-decoded, type lowercased: what package purls are compared with.
    purl_key: Option<String>,
    versions: Option<VersionRange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PackageRuleFields {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    versions: Option<VersionRange>,
}

/// Why a denied-package rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageRuleError {
    /// Neither name nor purl.
    #[error("a denied package needs a name or a purl (or both)")]
    Unnamed,
    /// An empty name.
    #[error("a denied package's name is empty")]
    EmptyName,
    /// A purl that is not a package URL.
    #[error("{} is not a package URL (pkg:type/namespace/name)", quote(.0))]
    NotAPurl(String),
    /// A purl with a version, qualifiers or a subpath.
    #[error(
        "the purl {} must not carry a version, qualifiers or a subpath: put versions in `versions`",
        quote(.0)
    )]
    PurlWithVersion(String),
}

/// Why a statement failed an SBOM condition.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SbomFailure {
    /// The statement is of another predicate type.
    #[error("the statement is not an SBOM: its predicateType is {}", quote(.0))]
    NotAnSbom(String),
    /// The SBOM is of another format than the rule requires.
    #[error(
        "the SBOM is {} (predicateType {}), but the policy requires format {wanted}",
        .found.name(),
        quote(.predicate_type)
    )]
    WrongFormat {
        /// Its format.
        found: SbomFormat,
        /// Its predicate type.
        predicate_type: String,
        /// The format required.
        wanted: SbomFormat,
    },
    /// The statement has no predicate.
    #[error("the SBOM statement has no predicate")]
    NoPredicate,
    /// The predicate does not parse.
    #[error("the {} SBOM cannot be read: {error}", .format.name())]
    Unreadable {
        /// Its format.
        format: SbomFormat,
        /// The parse error.
        error: Arc<serde_json::Error>,
    },
    /// SPDX JSON without `spdxVersion`.
    #[error("the SPDX SBOM is not an SPDX 2 JSON document: it has no spdxVersion")]
    NotSpdxJson,
    /// SPDX text without `SPDXVersion`.
    #[error("the SPDX SBOM is neither SPDX JSON nor SPDX tag-value: it has no SPDXVersion")]
    NotSpdxTagValue,
    /// CycloneDX whose `bomFormat` is not `CycloneDX`.
    #[error("the CycloneDX SBOM has bomFormat {}, not \"CycloneDX\"", quote(.0))]
    NotCycloneDx(String),
    /// The SBOM has no creation time to check its age with.
    #[error(
        "the {} SBOM has no {field}, so its age (maxAge {max_age}) cannot be checked",
        .format.name()
    )]
    NoCreationTime {
        /// Its format.
        format: SbomFormat,
        /// The field that is missing.
        field: &'static str,
        /// The rule.
        max_age: MaxAge,
    },
    /// The SBOM is too old (or its time unreadable).
    #[error(transparent)]
    Age(AgeFailure),
    /// A package matches a denied-package rule.
    #[error(
        "the SBOM contains denied package {package}, matching the rule {rule}{}{}",
        .note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default(),
        more_denied(*.more)
    )]
    DeniedPackage {
        /// The package (name, version, purl).
        package: String,
        /// The rule.
        rule: Box<PackageRule>,
        /// How the version was read, when that matters.
        note: Option<String>,
        /// How many more packages are denied.
        more: usize,
    },
    /// A package's licence includes a denied licence.
    #[error(
        "the SBOM contains package {package} licensed {}, which includes denied licence {licence}{}",
        quote(.expression),
        more_denied(*.more)
    )]
    DeniedLicence {
        /// The package (name, version, purl).
        package: String,
        /// Its licence expression.
        expression: String,
        /// The denied licence it includes.
        licence: String,
        /// How many more packages are denied.
        more: usize,
    },
}

/// `, and 3 more denied packages`, or nothing.
fn more_denied(more: usize) -> String {
    if more == 0 {
        String::new()
    } else {
        format!(", and {more} more denied packages")
    }
}

impl TryFrom<PackageRuleFields> for PackageRule {
    type Error = PackageRuleError;

    fn try_from(f: PackageRuleFields) -> Result<Self, Self::Error> {
        Self::new(f.name, f.purl, f.versions)
    }
}

impl PackageRule {
    /// A rule; at least one of `name` and `purl` is required, and `purl` must be a package
    /// URL without version, qualifiers or subpath.
    pub fn new(
        name: Option<String>,
        purl: Option<String>,
        versions: Option<VersionRange>,
    ) -> Result<Self, PackageRuleError> {
        if name.is_none() && purl.is_none() {
            return Err(PackageRuleError::Unnamed);
        }
        if name.as_deref().is_some_and(str::is_empty) {
            return Err(PackageRuleError::EmptyName);
        }
        if let Some(purl) = &purl {
            if !purl.to_ascii_lowercase().starts_with("pkg:") || purl.len() <= 4 {
                return Err(PackageRuleError::NotAPurl(purl.clone()));
            }
            let (base, version) = purl_base(purl);
            if version.is_some() || base.len() != purl.len() {
                return Err(PackageRuleError::PurlWithVersion(purl.clone()));
            }
        }
        Ok(Self {
            name,
            purl_key: purl.as_deref().map(normalise_purl),
            purl,
            versions,
        })
    }

    /// The package name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The purl prefix.
    pub fn purl(&self) -> Option<&str> {
        self.purl.as_deref()
    }

    /// The version range.
    pub fn versions(&self) -> Option<&VersionRange> {
        self.versions.as_ref()
    }

    /// Whether `package` is denied; `Some(note)` carries a remark for the reason (how the
    /// version was read).
    fn denies(&self, package: &Package<'_>) -> Option<Option<String>> {
        if let Some(name) = &self.name
            && !package
                .name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            return None;
        }
        let mut purl_version = None;
        if let Some(rule) = &self.purl_key {
            let found = package.purls.iter().find_map(|p| {
                let (base, version) = purl_base(p);
                let base = normalise_purl(base);
                let hit = base == *rule
                    || (rule.ends_with('/') && base.starts_with(rule.as_str()))
                    || base
                        .strip_prefix(rule.as_str())
                        .is_some_and(|rest| rest.starts_with('/'));
                hit.then_some(version)
            });
            purl_version = Some(found?);
        }
        let Some(range) = &self.versions else {
            return Some(None);
        };
        let version = package.version.as_deref().or(purl_version.flatten());
        let Some(version) = version else {
            return Some(Some(
                "it has no version, so the range cannot clear it".to_owned(),
            ));
        };
        match Version::parse(version) {
            Parsed::Strict(v) => range.matches(&v).then_some(None),
            Parsed::Lenient(v) => range
                .matches(&v)
                .then(|| Some(format!("its version {} read as {v}", quote(version)))),
            Parsed::Unreadable => Some(Some(format!(
                "its version {} is not a semantic version, so the range cannot clear it",
                quote(version)
            ))),
        }
    }
}

impl fmt::Display for PackageRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(name) = &self.name {
            parts.push(format!("name {name:?}"));
        }
        if let Some(purl) = &self.purl {
            parts.push(format!("purl {purl:?}"));
        }
        if let Some(versions) = &self.versions {
            parts.push(format!("versions {:?}", versions.to_string()));
        }
        f.write_str(&parts.join(", "))
    }
}

/// The purl without subpath, qualifiers and version, and the version.
pub(crate) fn purl_base(purl: &str) -> (&str, Option<&str>) {
    let purl = purl.split_once('#').map_or(purl, |(p, _)| p);
    let purl = purl.split_once('?').map_or(purl, |(p, _)| p);
    let name_start = purl.rfind('/').map_or(0, |i| i + 1);
    // `@` right after the last `/` is an unencoded npm scope, not a version.
    match purl[name_start..].rfind('@') {
        Some(at) if at > 0 => {
            let at = name_start + at;
            (&purl[..at], Some(&purl[at + 1..]))
        }
        _ => (purl, None),
    }
}

/// Percent-decoded, scheme and type lowercased: `PKG:NPM/%40scope/x` → `pkg:npm/@scope/x`.
fn normalise_purl(base: &str) -> String {
    let decoded = percent_decode(base);
    let type_end = decoded.find('/').unwrap_or(decoded.len());
    format!(
        "{}{}",
        decoded[..type_end].to_ascii_lowercase(),
        &decoded[type_end..]
    )
}

/// `%XX` escapes decoded (a `%` not followed by two hex digits stays as it is).
pub(crate) fn percent_decode(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let mut ahead = input.clone();
            let hex = |c: Option<u8>| c.and_then(|c| (c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hex(ahead.next()), hex(ahead.next())) {
                bytes.push((hi * 16 + lo) as u8);
                input = ahead;
                continue;
            }
        }
        bytes.push(b);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether the licence expression `expression` names `id` as a whole word (`MIT OR
/// GPL-3.0-only` includes `GPL-3.0-only`; `GPL-3.0+` includes `GPL-3.0`).
fn licence_includes(expression: &str, id: &str) -> bool {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|token| !token.is_empty())
        .any(|token| {
            token.eq_ignore_ascii_case(id) || token.trim_end_matches('+').eq_ignore_ascii_case(id)
        })
}

/// A package as the rules see it, whatever the SBOM format.
#[derive(Debug, Default)]
struct Package<'a> {
    name: Option<Text<'a>>,
    version: Option<Text<'a>>,
    purls: Vec<Text<'a>>,
    licences: Vec<Text<'a>>,
}

impl Package<'_> {
    fn describe(&self) -> String {
        let mut text = quote(self.name.as_deref().unwrap_or("(unnamed)"));
        if let Some(version) = &self.version {
            text.push(' ');
            text.push_str(&quote(version));
        }
        if let Some(purl) = self.purls.first() {
            text.push_str(&format!(" ({})", quote(purl)));
        }
        text
    }
}

/// The head of an SBOM: what the age check reads.
struct Head<'a> {
    format: SbomFormat,
    /// Where the creation time is, for the reason.
    created_field: &'static str,
    created: Option<Text<'a>>,
}

/// The package and licence rules, applied to each package as the parser meets it: only the
/// first denial's reason and a count are kept, never the packages.
struct Denials<'c> {
    condition: &'c SbomCondition,
    first: Option<SbomFailure>,
    count: usize,
}

impl<'c> Denials<'c> {
    fn new(condition: &'c SbomCondition) -> Self {
        Self {
            condition,
            first: None,
            count: 0,
        }
    }

    /// Whether packages need to be read at all.
    fn active(&self) -> bool {
        !self.condition.denied_packages.is_empty() || !self.condition.denied_licenses.is_empty()
    }

    fn visit(&mut self, package: &Package<'_>) {
        let hit = self
            .condition
            .denied_packages
            .iter()
            .find_map(|rule| rule.denies(package).map(|note| (rule, note)));
        let reason = match hit {
            Some((rule, note)) => {
                self.count += 1;
                if self.first.is_some() {
                    return;
                }
                SbomFailure::DeniedPackage {
                    package: package.describe(),
                    rule: Box::new(rule.clone()),
                    note,
                    more: 0,
                }
            }
            None => {
                let licence = package.licences.iter().find_map(|expression| {
                    self.condition
                        .denied_licenses
                        .iter()
                        .find(|id| licence_includes(expression, id))
                        .map(|id| (expression, id))
                });
                let Some((expression, id)) = licence else {
                    return;
                };
                self.count += 1;
                if self.first.is_some() {
                    return;
                }
                SbomFailure::DeniedLicence {
                    package: package.describe(),
                    expression: expression.to_string(),
                    licence: id.clone(),
                    more: 0,
                }
            }
        };
        self.first = Some(reason);
    }

    fn into_result(self) -> Result<(), SbomFailure> {
        let Some(mut first) = self.first else {
            return Ok(());
        };
        if let SbomFailure::DeniedPackage { more, .. } | SbomFailure::DeniedLicence { more, .. } =
            &mut first
        {
            *more = self.count.saturating_sub(1);
        }
        Err(first)
    }
}

impl SbomCondition {
    /// Checks the predicate; `Err` is the reason.
    pub(super) fn check(
        &self,
        predicate_type: &str,
        predicate: Option<&RawValue>,
        now_unix: i64,
    ) -> Result<(), SbomFailure> {
        let is = |base: &str| {
            predicate_type == base
                || predicate_type
                    .strip_prefix(base)
                    .is_some_and(|v| v.starts_with('/'))
        };
        let format = if is(intoto::SPDX) {
            SbomFormat::Spdx
        } else if is(intoto::CYCLONEDX) {
            SbomFormat::Cyclonedx
        } else {
            return Err(SbomFailure::NotAnSbom(predicate_type.to_owned()));
        };
        if let Some(want) = self.format
            && want != format
        {
            return Err(SbomFailure::WrongFormat {
                found: format,
                predicate_type: predicate_type.to_owned(),
                wanted: want,
            });
        }
        let raw = predicate
            .map(RawValue::get)
            .filter(|p| *p != "null")
            .ok_or(SbomFailure::NoPredicate)?;
        let unreadable = |e: serde_json::Error| SbomFailure::Unreadable {
            format,
            error: Arc::new(e),
        };
        let mut denials = Denials::new(self);
        match (format, raw.as_bytes().first()) {
            (SbomFormat::Spdx, Some(b'"')) => {
                let text: Cow<'_, str> = serde_json::from_str(raw).map_err(unreadable)?;
                let head = spdx_tag_value(&text, &mut denials)?;
                self.conclude(&head, denials, now_unix)
            }
            (SbomFormat::Spdx, _) => {
                let head = spdx_json(raw, &mut denials).map_err(unreadable)??;
                self.conclude(&head, denials, now_unix)
            }
            (SbomFormat::Cyclonedx, _) => {
                let head = cyclonedx_json(raw, &mut denials).map_err(unreadable)??;
                self.conclude(&head, denials, now_unix)
            }
        }
    }

    /// The age first, then the first denial.
    fn conclude(
        &self,
        head: &Head<'_>,
        denials: Denials<'_>,
        now_unix: i64,
    ) -> Result<(), SbomFailure> {
        if let Some(max_age) = &self.max_age {
            let created = head
                .created
                .as_deref()
                .ok_or_else(|| SbomFailure::NoCreationTime {
                    format: head.format,
                    field: head.created_field,
                    max_age: max_age.clone(),
                })?;
            let what = format!("the {} SBOM's {}", head.format.name(), head.created_field);
            max_age
                .check(&what, created, now_unix)
                .map_err(SbomFailure::Age)?;
        }
        denials.into_result()
    }
}

// --- SPDX JSON ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxJson<'a> {
    #[serde(borrow, default)]
    spdx_version: Option<Text<'a>>,
    #[serde(borrow, default)]
    creation_info: Option<SpdxCreationInfo<'a>>,
    #[serde(borrow, default)]
    packages: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SpdxCreationInfo<'a> {
    #[serde(borrow, default)]
    created: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version_info: Option<Text<'a>>,
    #[serde(borrow, default)]
    license_concluded: Option<Text<'a>>,
    #[serde(borrow, default)]
    license_declared: Option<Text<'a>>,
    #[serde(borrow, default)]
    external_refs: Option<Vec<SpdxExternalRef<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef<'a> {
    #[serde(borrow, default)]
    reference_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    reference_locator: Option<Text<'a>>,
}

/// The outer `Result` is a JSON error, the inner one a reason.
fn spdx_json<'a>(
    raw: &'a str,
    denials: &mut Denials<'_>,
) -> serde_json::Result<Result<Head<'a>, SbomFailure>> {
    let doc: SpdxJson<'a> = serde_json::from_str(raw)?;
    if doc.spdx_version.is_none() {
        return Ok(Err(SbomFailure::NotSpdxJson));
    }
    if let (true, Some(packages)) = (denials.active(), doc.packages) {
        for_each(packages, |p: SpdxPackage<'_>| {
            denials.visit(&Package {
                name: p.name,
                version: p.version_info,
                purls: p
                    .external_refs
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| r.reference_type.as_deref() == Some("purl"))
                    .filter_map(|r| r.reference_locator)
                    .collect(),
                licences: [p.license_concluded, p.license_declared]
                    .into_iter()
                    .flatten()
                    .collect(),
            });
        })?;
    }
    Ok(Ok(Head {
        format: SbomFormat::Spdx,
        created_field: "creationInfo.created",
        created: doc.creation_info.and_then(|c| c.created),
    }))
}

// --- SPDX tag-value -------------------------------------------------------------------------

/// Reads the tags the rules need from an SPDX tag-value document. Multi-line `<text>` values
/// are skipped, so a comment cannot forge a tag.
fn spdx_tag_value<'a>(text: &'a str, denials: &mut Denials<'_>) -> Result<Head<'a>, SbomFailure> {
    let mut version = false;
    let mut created = None;
    let mut current: Option<Package<'a>> = None;
    let mut in_text = false;
    let active = denials.active();
    let mut done = |package: Option<Package<'a>>| {
        if let Some(p) = package {
            denials.visit(&p);
        }
    };
    for line in text.lines() {
        if in_text {
            in_text = !line.contains("</text>");
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.starts_with("<text>") && !value.contains("</text>") {
            in_text = true;
        }
        let value = value
            .strip_prefix("<text>")
            .and_then(|v| v.strip_suffix("</text>"))
            .unwrap_or(value);
        match tag.trim() {
            "SPDXVersion" => version = true,
            "Created" => created = Some(Text::from(value)),
            "PackageName" if active => {
                done(current.take());
                current = Some(Package {
                    name: Some(Text::from(value)),
                    ..Package::default()
                });
            }
            // A file, snippet or licence section ends the package's own tags.
            "FileName" | "SnippetSPDXID" | "LicenseID" => done(current.take()),
            "PackageVersion" => {
                if let Some(p) = &mut current {
                    p.version = Some(Text::from(value));
                }
            }
            "PackageLicenseConcluded" | "PackageLicenseDeclared" => {
                if let Some(p) = &mut current {
                    p.licences.push(Text::from(value));
                }
            }
            "ExternalRef" => {
                // ExternalRef: PACKAGE-MANAGER purl pkg:golang/example.com/x@v1.0.0
                let mut fields = value.split_whitespace();
                if let (Some(p), Some(_category), Some("purl"), Some(locator)) =
                    (&mut current, fields.next(), fields.next(), fields.next())
                {
                    p.purls.push(Text::from(locator));
                }
            }
            _ => {}
        }
    }
    done(current);
    if !version {
        return Err(SbomFailure::NotSpdxTagValue);
    }
    Ok(Head {
        format: SbomFormat::Spdx,
        created_field: "Created",
        created,
    })
}

// --- CycloneDX JSON -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CycloneDx<'a> {
    #[serde(borrow, default)]
    bom_format: Option<Text<'a>>,
    #[serde(borrow, default)]
    metadata: Option<CdxMetadata<'a>>,
    #[serde(borrow, default)]
    components: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CdxMetadata<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow, default)]
    component: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CdxComponent<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(borrow, default)]
    purl: Option<Text<'a>>,
    #[serde(borrow, default)]
    licenses: Option<Vec<CdxLicenseChoice<'a>>>,
    #[serde(borrow, default)]
    components: Option<Vec<CdxComponent<'a>>>,
}

#[derive(Deserialize)]
struct CdxLicenseChoice<'a> {
    #[serde(borrow, default)]
    license: Option<CdxLicense<'a>>,
    #[serde(borrow, default)]
    expression: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct CdxLicense<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
}

impl CdxComponent<'_> {
    /// Visits this component and its nested components, depth first, with a stack (serde_json's
    /// recursion limit already bounds the depth).
    fn visit_all(self, denials: &mut Denials<'_>) {
        let mut stack = vec![self];
        while let Some(c) = stack.pop() {
            stack.extend(c.components.unwrap_or_default().into_iter().rev());
            denials.visit(&Package {
                name: c.name,
                version: c.version,
                purls: c.purl.into_iter().collect(),
                licences: c
                    .licenses
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|choice| {
                        let (id, name) = match choice.license {
                            Some(l) => (l.id, l.name),
                            None => (None, None),
                        };
                        [id, name, choice.expression]
                    })
                    .flatten()
                    .collect(),
            });
        }
    }
}

/// The outer `Result` is a JSON error, the inner one a reason. Top-level components are read
/// one at a time (each with its nested components).
fn cyclonedx_json<'a>(
    raw: &'a str,
    denials: &mut Denials<'_>,
) -> serde_json::Result<Result<Head<'a>, SbomFailure>> {
    let doc: CycloneDx<'a> = serde_json::from_str(raw)?;
    if doc.bom_format.as_deref() != Some("CycloneDX") {
        return Ok(Err(SbomFailure::NotCycloneDx(
            doc.bom_format.as_deref().unwrap_or("(none)").to_owned(),
        )));
    }
    let (created, component) = match doc.metadata {
        Some(m) => (m.timestamp, m.component),
        None => (None, None),
    };
    if denials.active() {
        if let Some(raw) = component
            && let Some(c) = serde_json::from_str::<Option<CdxComponent<'_>>>(raw.get())?
        {
            c.visit_all(denials);
        }
        if let Some(raw) = doc.components {
            for_each(raw, |c: CdxComponent<'_>| c.visit_all(denials))?;
        }
    }
    Ok(Ok(Head {
        format: SbomFormat::Cyclonedx,
        created_field: "metadata.timestamp",
        created,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_split_into_base_and_version() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
                "pkg:maven/org.apache.logging.log4j/log4j-core",
                Some("2.14.1"),
            ),
            (
                "pkg:npm/%40angular/core@1.0.0",
                "pkg:npm/%40angular/core",
                Some("1.0.0"),
            ),
            (
                "pkg:npm/@angular/core@1.0.0#sub/path",
                "pkg:npm/@angular/core",
                Some("1.0.0"),
            ),
            ("pkg:npm/@angular", "pkg:npm/@angular", None),
            (
                "pkg:golang/github.com/x/y",
                "pkg:golang/github.com/x/y",
                None,
            ),
        ];
        for (purl, base, version) in cases {
            assert_eq!(purl_base(purl), (*base, *version), "{purl}");
        }
        assert_eq!(
            normalise_purl("PKG:NPM/%40angular/core%zz"),
            "pkg:npm/@angular/core%zz"
        );
    }

    #[test]
    fn licences_match_whole_words_of_expressions() {
        let cases: &[(&str, &str, bool)] = &[
            ("GPL-3.0-only", "GPL-3.0-only", true),
            ("MIT OR GPL-3.0-only", "GPL-3.0-only", true),
            ("(MIT AND gpl-3.0-only)", "GPL-3.0-only", true),
            ("GPL-3.0-or-later", "GPL-3.0", false),
            ("LGPL-3.0-only", "GPL-3.0-only", false),
            ("GPL-3.0+", "GPL-3.0", true),
            (
                "GPL-2.0-only WITH Classpath-exception-2.0",
                "GPL-2.0-only",
                true,
            ),
            ("NOASSERTION", "GPL-3.0-only", false),
        ];
        for (expression, id, want) in cases {
            assert_eq!(
                licence_includes(expression, id),
                *want,
                "{id} in {expression}"
            );
        }
    }

    #[test]
    fn package_rules_are_validated_at_load() {
        let cases: &[(&str, Option<&str>)] = &[
            ("{name: log4j-core}", None),
            (
                "{purl: pkg:maven/org.apache.logging.log4j/log4j-core, versions: '<2.17.1'}",
                None,
            ),
            ("{versions: '<1'}", Some("needs a name or a purl")),
            ("{purl: maven/x}", Some("is not a package URL")),
            (
                "{purl: 'pkg:npm/x@1.0.0'}",
                Some("must not carry a version"),
            ),
            (
                "{purl: 'pkg:npm/x?arch=x86'}",
                Some("must not carry a version"),
            ),
            ("{name: x, versions: '<<1'}", Some("invalid version range")),
            ("{name: x, version: '<1'}", Some("unknown field")),
        ];
        for (yaml, want) in cases {
            let got = serde_saphyr::from_str::<PackageRule>(yaml);
            match (want, got) {
                (None, Ok(_)) => {}
                (Some(want), Err(e)) => assert!(e.to_string().contains(want), "{yaml}: {e}"),
                (want, got) => panic!("{yaml}: expected {want:?}, got {got:?}"),
            }
        }
        let err = serde_saphyr::from_str::<SbomCondition>("deniedLicenses: ['MIT OR GPL-3.0']")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("is not an SPDX licence id"), "{err}");
    }
}
