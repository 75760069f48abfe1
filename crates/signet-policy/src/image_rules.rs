//! Rules on the image itself — what it is, not who signed it: the user it runs as, secrets in
//! its environment, its base image, how it was referenced, its age, platforms, labels, exposed
//! ports and layers. They are judged on the manifest (or index) and configurations read from
//! the digest the image resolved to ([`ImageContents`]), the same digest its signatures are
//! about; each rule says what it saw, never a secret's value.
//!
//! In a policy they are the `image:` block (strict: unknown fields, bad platforms, sizes or
//! durations are load errors):
//!
//! ```yaml
//! image:
//!   user: {}                          # not root; or {minUid: 10000, maxUid: 65535}
//!   env: { allow: [GPG_KEY] }         # no secret-looking variable but these
//!   base: { allowed: ["gcr.io/distroless/**"], pinned: true }
//!   reference: digest                 # or notLatest
//!   created: { maxAge: 90d }
//!   platforms: [linux/amd64, linux/arm64]
//!   labels: [org.opencontainers.image.source]
//!   exposedPorts: ["8080/tcp"]
//!   layers: { max: 40, maxSize: 500MiB }
//! ```
//!
//! For a multi-platform image every platform image must pass every rule that reads a
//! configuration or manifest; an index listing more platforms than signet reads
//! ([`signet_verify::MAX_PLATFORM_IMAGES`]) fails those rules rather than pass unread images.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use signet_core::image_config::Platform;
use signet_core::reference::{ImageReference, RegistryReference};
use signet_verify::{ImageContents, PlatformImage};

use crate::conditions::{MaxAge, quote};
use crate::glob::ScopeGlob;

mod built_from;

pub use built_from::{BUILDKIT_BUILD_TYPE, BuiltFrom, BuiltFromError, ResolvedImage};

/// The annotation (or label) naming an image's base image, as OCI defines it.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// The annotation (or label) giving the base image's manifest digest.
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// Rules on the image itself (a policy's `image:` block).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageRules {
    #[serde(default)]
    user: Option<UserRule>,
    #[serde(default)]
    env: Option<EnvRule>,
    #[serde(default)]
    base: Option<BaseRule>,
    #[serde(default)]
    reference: Option<ReferenceRule>,
    #[serde(default)]
    created: Option<CreatedRule>,
    #[serde(default)]
    platforms: Option<Vec<PlatformSpec>>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    exposed_ports: Option<Vec<PortSpec>>,
    #[serde(default)]
    layers: Option<LayersRule>,
}

/// `user:` — the image must not run as root; optionally its numeric UID in a range.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "UserSpec")]
pub struct UserRule {
    min_uid: Option<u32>,
    max_uid: Option<u32>,
}

/// `user:` as written, before its range is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserSpec {
    #[serde(default)]
    min_uid: Option<u32>,
    #[serde(default)]
    max_uid: Option<u32>,
}

impl TryFrom<UserSpec> for UserRule {
    type Error = ImageRuleError;

    fn try_from(spec: UserSpec) -> Result<Self, Self::Error> {
        if let (Some(min), Some(max)) = (spec.min_uid, spec.max_uid)
            && min > max
        {
            return Err(ImageRuleError::EmptyUidRange { min, max });
        }
        Ok(Self {
            min_uid: spec.min_uid,
            max_uid: spec.max_uid,
        })
    }
}

/// `env:` — no variable whose name or value looks like a secret, but those allowed by name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvRule {
    #[serde(default)]
    allow: Vec<String>,
}

/// `base:` — the image names its base image, which is one of the `allowed` repositories
/// (any, when the list is left out), and pinned by digest when `pinned`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BaseRule {
    #[serde(default)]
    allowed: Option<Vec<GlobSpec>>,
    #[serde(default)]
    pinned: bool,
}

/// `reference:` — how the image must have been referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReferenceRule {
    /// By digest (`repo@sha256:…`).
    Digest,
    /// By digest or by a tag other than `latest` (a reference without tag means `latest`).
    NotLatest,
}

/// `created:` — the image's creation time is at most this old.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreatedRule {
    max_age: MaxAge,
}

/// `layers:` — at most this many layers, at most this many bytes (compressed, as the manifest
/// lists them); at least one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "LayersSpec")]
pub struct LayersRule {
    max: Option<usize>,
    max_size: Option<ByteSize>,
}

/// `layers:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LayersSpec {
    #[serde(default)]
    max: Option<usize>,
    #[serde(default)]
    max_size: Option<ByteSize>,
}

impl TryFrom<LayersSpec> for LayersRule {
    type Error = ImageRuleError;

    fn try_from(spec: LayersSpec) -> Result<Self, Self::Error> {
        if spec.max.is_none() && spec.max_size.is_none() {
            return Err(ImageRuleError::EmptyLayersRule);
        }
        Ok(Self {
            max: spec.max,
            max_size: spec.max_size,
        })
    }
}

/// A repository glob in `base.allowed`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct GlobSpec(ScopeGlob);

impl TryFrom<String> for GlobSpec {
    type Error = crate::glob::GlobError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ScopeGlob::parse(&value).map(Self)
    }
}

/// `os/architecture[/variant]` in `platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PlatformSpec(Platform);

impl TryFrom<String> for PlatformSpec {
    type Error = ImageRuleError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Platform::parse(&value)
            .map(Self)
            .ok_or(ImageRuleError::Platform(value))
    }
}

/// `port[/protocol]` in `exposedPorts` (the protocol defaults to tcp, as Docker's does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct PortSpec(String);

impl TryFrom<String> for PortSpec {
    type Error = ImageRuleError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        normalise_port(&value)
            .map(Self)
            .ok_or(ImageRuleError::Port(value))
    }
}

/// A size in bytes: a number with an optional unit (`B`, `kB`, `MB`, `GB`, `KiB`, `MiB`,
/// `GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ByteSize(u64);

impl TryFrom<String> for ByteSize {
    type Error = ImageRuleError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let text = value.trim();
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let factor: u64 = match unit.trim() {
            "" | "B" => 1,
            "kB" | "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            _ => return Err(ImageRuleError::Size(value)),
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(factor))
            .map(Self)
            .ok_or(ImageRuleError::Size(value))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

/// Why an `image:` rule was refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRuleError {
    /// A platform that is not `os/architecture[/variant]`.
    #[error("platform {0:?} is not os/architecture[/variant], e.g. linux/arm64")]
    Platform(String),
    /// A port that is not `port[/tcp|udp|sctp]`.
    #[error("port {0:?} is not port[/tcp|udp|sctp], e.g. 8080/tcp")]
    Port(String),
    /// A size that is not a number with a unit.
    #[error(
        "size {0:?} is not a number of bytes with an optional unit (kB, MB, GB, KiB, MiB, GiB)"
    )]
    Size(String),
    /// `user.minUid` above `user.maxUid`: no UID is in the range.
    #[error("user.minUid {min} is above user.maxUid {max}: no UID is in that range")]
    EmptyUidRange {
        /// `minUid`.
        min: u32,
        /// `maxUid`.
        max: u32,
    },
    /// `layers: {}`.
    #[error("layers needs max, maxSize or both")]
    EmptyLayersRule,
}

/// The outcome of one rule: its name, whether it passed, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    /// The rule as written (`user: not root`).
    pub rule: String,
    /// Whether the image passed.
    pub passed: bool,
    /// What the rule saw, in one sentence (never a secret's value).
    pub reason: String,
}

impl ImageRules {
    /// Whether a rule needs the image's manifest and configurations (all but `reference`).
    pub fn needs_contents(&self) -> bool {
        self.user.is_some()
            || self.env.is_some()
            || self.base.is_some()
            || self.created.is_some()
            || self.platforms.is_some()
            || self.labels.is_some()
            || self.exposed_ports.is_some()
            || self.layers.is_some()
    }

    /// The `reference` rule judged alone on `image` as it was written, if the policy has one
    /// (a caller that verified a pinned reference judges the written one with this).
    pub fn check_reference_only(&self, image: &ImageReference) -> Option<RuleOutcome> {
        self.reference.map(|rule| check_reference(rule, image))
    }

    /// Whether a rule reads a verified SLSA provenance when there is one (`base`).
    pub fn reads_provenance(&self) -> bool {
        self.base.is_some()
    }

    /// The names allowed by `env.allow` (for lint).
    pub fn env_allow(&self) -> &[String] {
        self.env.as_ref().map_or(&[], |e| &e.allow)
    }

    /// The platforms required (for lint).
    pub fn platforms(&self) -> Vec<Platform> {
        self.platforms
            .iter()
            .flatten()
            .map(|p| p.0.clone())
            .collect()
    }

    /// Whether `base.allowed` is written and empty: no base can pass (for lint).
    pub fn base_allows_nothing(&self) -> bool {
        self.base
            .as_ref()
            .is_some_and(|b| b.allowed.as_ref().is_some_and(Vec::is_empty))
    }

    /// The exposed ports allowed, normalised (`8080` is `8080/tcp`) (for lint).
    pub fn exposed_ports(&self) -> Vec<&str> {
        self.exposed_ports
            .iter()
            .flatten()
            .map(|p| p.0.as_str())
            .collect()
    }

    /// The labels required (for lint).
    pub fn labels(&self) -> &[String] {
        self.labels.as_deref().unwrap_or(&[])
    }

    /// Judges every rule set. `contents` is `None` only when no rule needs them; `image` is the
    /// reference as the image was asked for; `built_from` is what a verified SLSA provenance
    /// of the image says its build started from (read by `base` when the image names no base;
    /// `Err` when that provenance could not be read). Pure: the time is `now_unix`.
    pub fn check(
        &self,
        image: &ImageReference,
        contents: Option<&ImageContents>,
        built_from: Option<&Result<BuiltFrom, BuiltFromError>>,
        now_unix: i64,
    ) -> Vec<RuleOutcome> {
        let mut out = Vec::new();
        if let Some(rule) = &self.reference {
            out.push(check_reference(*rule, image));
        }
        if !self.needs_contents() {
            return out;
        }
        let Some(contents) = contents else {
            out.push(RuleOutcome {
                rule: "image".to_owned(),
                passed: false,
                reason: "the image's manifest and configuration were not read".to_owned(),
            });
            return out;
        };
        let per_image = |rule: String, check: &dyn Fn(&PlatformImage) -> Result<String, String>| {
            per_platform(contents, rule, check)
        };
        if let Some(rule) = &self.user {
            out.push(per_image(rule.describe(), &|i| rule.check(i)));
        }
        if let Some(rule) = &self.env {
            out.push(per_image("env: no secrets".to_owned(), &|i| rule.check(i)));
        }
        if let Some(rule) = &self.base {
            out.push(per_image(rule.describe(), &|i| {
                rule.check(i, contents.annotations(), built_from)
            }));
        }
        if let Some(rule) = &self.created {
            out.push(per_image(
                format!("created: at most {} old", rule.max_age),
                &|i| rule.check(i, now_unix),
            ));
        }
        if let Some(platforms) = &self.platforms {
            out.push(check_platforms(platforms, contents));
        }
        if let Some(labels) = &self.labels {
            out.push(per_image(
                format!("labels: [{}]", labels.join(", ")),
                &|i| check_labels(labels, i),
            ));
        }
        if let Some(ports) = &self.exposed_ports {
            let allowed: Vec<&str> = ports.iter().map(|p| p.0.as_str()).collect();
            out.push(per_image(
                format!("exposedPorts: [{}]", allowed.join(", ")),
                &|i| check_ports(&allowed, i),
            ));
        }
        if let Some(rule) = &self.layers {
            out.push(per_image(rule.describe(), &|i| rule.check(i)));
        }
        out
    }
}

/// A rule that every platform image must pass: passes with the first image's account when all
/// pass, fails with every failing platform's reason.
fn per_platform(
    contents: &ImageContents,
    rule: String,
    check: &dyn Fn(&PlatformImage) -> Result<String, String>,
) -> RuleOutcome {
    let images = contents.images();
    let several = contents.is_index();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for image in images {
        let label = |text: String| {
            if several {
                format!("{}: {text}", image.platform())
            } else {
                text
            }
        };
        match check(image) {
            Ok(seen) => passed.push(label(seen)),
            Err(why) => failed.push(label(why)),
        }
    }
    if contents.skipped_platforms() > 0 {
        failed.push(format!(
            "the index lists {} more platform images than signet reads ({}), so they were not checked",
            contents.skipped_platforms(),
            signet_verify::MAX_PLATFORM_IMAGES
        ));
    }
    if images.is_empty() && failed.is_empty() {
        failed.push("the index lists no platform image".to_owned());
    }
    if failed.is_empty() {
        RuleOutcome {
            rule,
            passed: true,
            reason: passed.join("; "),
        }
    } else {
        RuleOutcome {
            rule,
            passed: false,
            reason: failed.join("; "),
        }
    }
}

// --- user -----------------------------------------------------------------------------------

impl UserRule {
    fn describe(&self) -> String {
        match (self.min_uid, self.max_uid) {
            (None, None) => "user: not root".to_owned(),
            (min, max) => format!(
                "user: not root, UID {}..{}",
                min.map(|m| m.to_string()).unwrap_or_default(),
                max.map(|m| m.to_string()).unwrap_or_default()
            ),
        }
    }

    fn check(&self, image: &PlatformImage) -> Result<String, String> {
        let written = image.config().user().unwrap_or("");
        let user = written.split(':').next().unwrap_or("").trim();
        if user.is_empty() {
            return Err("the image sets no user, so it runs as root".to_owned());
        }
        if user == "root" || user.parse::<u64>() == Ok(0) {
            return Err(format!("user is root ({})", quote(written)));
        }
        if self.min_uid.is_none() && self.max_uid.is_none() {
            return Ok(format!("user {}", quote(written)));
        }
        let Ok(uid) = user.parse::<u64>() else {
            return Err(format!(
                "user {} is a name: a UID range can only be checked on a numeric UID (USER 10001)",
                quote(user)
            ));
        };
        let min = u64::from(self.min_uid.unwrap_or(0));
        let max = u64::from(self.max_uid.unwrap_or(u32::MAX));
        if uid < min || uid > max {
            return Err(format!("UID {uid} is outside {min}..{max}"));
        }
        Ok(format!("user {} (UID {uid})", quote(written)))
    }
}

// --- env ------------------------------------------------------------------------------------

/// Parts of a variable name that say it holds a secret.
const SECRET_NAME_PARTS: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "PRIVATE_KEY",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
];

/// Values in well-known credential formats, and what each is.
static SECRET_VALUES: LazyLock<Vec<(regex::Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
            "an AWS access key id",
        ),
        (r"\bgh[pousr]_[A-Za-z0-9]{36,}", "a GitHub token"),
        (
            r"\bgithub_pat_[A-Za-z0-9_]{22,}",
            "a GitHub fine-grained token",
        ),
        (r"\bglpat-[A-Za-z0-9_-]{20,}", "a GitLab token"),
        (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
        (r"\bAIza[0-9A-Za-z_-]{35}", "a Google API key"),
        (r"\b[rs]k_live_[0-9A-Za-z]{16,}", "a Stripe secret key"),
        (
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
            "a PEM private key",
        ),
        (
            r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",
            "a URL with a password",
        ),
    ]
    .into_iter()
    .filter_map(|(pattern, what)| regex::Regex::new(pattern).ok().map(|r| (r, what)))
    .collect()
});

/// Why a variable looks like a secret, if it does; `None` for one that does not, or whose
/// value is empty (a name with nothing in it holds no secret).
pub fn secret_reason(name: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    if let Some(part) = SECRET_NAME_PARTS.iter().find(|p| upper.contains(*p)) {
        return Some(format!("its name contains {part}"));
    }
    if upper.ends_with("_KEY") {
        return Some("its name ends in _KEY".to_owned());
    }
    SECRET_VALUES
        .iter()
        .find(|(pattern, _)| pattern.is_match(value))
        .map(|(_, what)| format!("its value is in the format of {what}"))
}

impl EnvRule {
    fn check(&self, image: &PlatformImage) -> Result<String, String> {
        let mut count = 0;
        let mut found = Vec::new();
        for (name, value) in image.config().env() {
            count += 1;
            if self.allow.iter().any(|a| a == name) {
                continue;
            }
            if let Some(why) = secret_reason(name, value) {
                found.push(format!("ENV {name} looks like a secret ({why})"));
            }
        }
        const SHOWN: usize = 5;
        match found.len() {
            0 => Ok(format!("none of {count} variables looks like a secret")),
            n if n <= SHOWN => Err(found.join("; ")),
            n => Err(format!(
                "{}; and {} more",
                found[..SHOWN].join("; "),
                n - SHOWN
            )),
        }
    }
}

// --- base -----------------------------------------------------------------------------------

impl BaseRule {
    fn describe(&self) -> String {
        let which = match &self.allowed {
            Some(allowed) => {
                let allowed: Vec<&str> = allowed.iter().map(|g| g.0.as_str()).collect();
                format!("one of [{}]", allowed.join(", "))
            }
            None => "named".to_owned(),
        };
        let pinned = if self.pinned {
            ", pinned by digest"
        } else {
            ""
        };
        format!("base: {which}{pinned}")
    }

    /// Whether `repository` is among the allowed (any is, without an `allowed` list).
    fn allows(&self, repository: &str) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|g| g.0.matches(repository)))
    }

    /// The base named by the platform manifest's annotations, else the index's, else the
    /// configuration's labels, else the images a verified provenance says the build started
    /// from.
    fn check(
        &self,
        image: &PlatformImage,
        index_annotations: &std::collections::BTreeMap<String, String>,
        built_from: Option<&Result<BuiltFrom, BuiltFromError>>,
    ) -> Result<String, String> {
        let sources = [
            (
                "manifest annotation",
                image.manifest().annotations.get(BASE_NAME),
                image.manifest().annotations.get(BASE_DIGEST),
            ),
            (
                "index annotation",
                index_annotations.get(BASE_NAME),
                index_annotations.get(BASE_DIGEST),
            ),
        ];
        let named = sources
            .into_iter()
            .find_map(|(source, name, digest)| {
                name.map(|n| (source, n.as_str(), digest.map(String::as_str)))
            })
            .or_else(|| {
                image
                    .config()
                    .label(BASE_NAME)
                    .map(|n| ("label", n, image.config().label(BASE_DIGEST)))
            });
        let Some((source, name, digest)) = named else {
            return match built_from {
                Some(Ok(built)) => self.check_built_from(built),
                Some(Err(e)) => Err(format!(
                    "the image names no base image (no {BASE_NAME} annotation or label), and {e}"
                )),
                None => Err(format!(
                    "the image names no base image (no {BASE_NAME} annotation or label, and no SLSA provenance attestation of the policy qualified)"
                )),
            };
        };
        let reference: RegistryReference = name.parse().map_err(|_| {
            format!(
                "the base image {} ({source} {BASE_NAME}) is not an image reference",
                quote(name)
            )
        })?;
        if !self.allows(&reference.repository().name()) {
            return Err(format!(
                "the base image is {} ({source}), which is not among the allowed bases",
                quote(name)
            ));
        }
        let pinned_by = match (reference.digest(), digest) {
            (Some(d), _) => Some(d.to_string()),
            (None, Some(d)) if d.parse::<signet_core::digest::Digest>().is_ok() => {
                Some(d.to_owned())
            }
            _ => None,
        };
        match pinned_by {
            Some(digest) => Ok(format!("base {} pinned to {digest}", quote(name))),
            None if self.pinned => Err(format!(
                "the base image {} is not pinned: no digest in the name and no valid {BASE_DIGEST}",
                quote(name)
            )),
            None => Ok(format!("base {} (not pinned)", quote(name))),
        }
    }
}

impl BaseRule {
    /// Every base image the provenance lists must be allowed, and pinned when `pinned`.
    fn check_built_from(&self, built: &BuiltFrom) -> Result<String, String> {
        if built.images().is_empty() {
            return Err(format!(
                "the image names no base image (no {BASE_NAME} annotation or label), and its verified provenance lists no container image it was built from"
            ));
        }
        let mut seen = Vec::new();
        let mut failed = Vec::new();
        for image in built.images() {
            let purl = quote(image.purl());
            let Some(reference) = image.reference() else {
                failed.push(format!(
                    "the provenance's base {purl} is not an image reference"
                ));
                continue;
            };
            if !self.allows(&reference.repository().name()) {
                failed.push(format!(
                    "the provenance's base {purl} ({reference}) is not among the allowed bases"
                ));
            } else if let Some(digest) = image.pinned() {
                seen.push(format!("{purl} pinned to {digest}"));
            } else if self.pinned {
                failed.push(format!(
                    "the provenance's base {purl} is not pinned: the build referenced it by tag"
                ));
            } else {
                seen.push(format!("{purl} (not pinned)"));
            }
        }
        if failed.is_empty() {
            Ok(format!("built from {} (provenance)", seen.join(", ")))
        } else {
            Err(failed.join("; "))
        }
    }
}

// --- reference ------------------------------------------------------------------------------

fn check_reference(rule: ReferenceRule, image: &ImageReference) -> RuleOutcome {
    let (tag, digest) = match image {
        ImageReference::Registry(r) => (r.tag(), r.digest().is_some()),
        ImageReference::Layout(l) => match l.selector() {
            signet_core::reference::LayoutSelector::Tag(t) => (Some(t.as_str()), false),
            signet_core::reference::LayoutSelector::Digest(_) => (None, true),
        },
    };
    let (rule_text, verdict) = match rule {
        ReferenceRule::Digest => (
            "reference: by digest",
            if digest {
                Ok("referenced by digest".to_owned())
            } else {
                Err(format!(
                    "referenced by tag {}, not by digest",
                    quote(tag.unwrap_or("latest"))
                ))
            },
        ),
        ReferenceRule::NotLatest => (
            "reference: not latest",
            match (digest, tag) {
                (true, _) => Ok("referenced by digest".to_owned()),
                (false, Some(t)) if t != "latest" => Ok(format!("referenced by tag {}", quote(t))),
                (false, Some(_)) => Err("referenced by the tag \"latest\"".to_owned()),
                (false, None) => {
                    Err("referenced without tag or digest, which means \"latest\"".to_owned())
                }
            },
        ),
    };
    RuleOutcome {
        rule: rule_text.to_owned(),
        passed: verdict.is_ok(),
        reason: verdict.unwrap_or_else(|why| why),
    }
}

// --- created --------------------------------------------------------------------------------

impl CreatedRule {
    fn check(&self, image: &PlatformImage, now_unix: i64) -> Result<String, String> {
        let created = image
            .config()
            .created()
            .ok_or("the image configuration has no created time")?;
        self.max_age
            .check("the image's created time", created, now_unix)
            .map(|()| format!("created {}", quote(created)))
            .map_err(|e| e.to_string())
    }
}

// --- platforms ------------------------------------------------------------------------------

fn check_platforms(required: &[PlatformSpec], contents: &ImageContents) -> RuleOutcome {
    let present = contents.platforms();
    let present_text: Vec<String> = present.iter().map(ToString::to_string).collect();
    let missing: Vec<String> = required
        .iter()
        .filter(|want| !present.iter().any(|p| want.0.is_met_by(p)))
        .map(|p| p.0.to_string())
        .collect();
    let rule = format!(
        "platforms: [{}]",
        required
            .iter()
            .map(|p| p.0.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let what = if contents.is_index() {
        format!("the index lists [{}]", present_text.join(", "))
    } else {
        format!(
            "the image is a single-platform image ({})",
            present_text.join(", ")
        )
    };
    if missing.is_empty() {
        RuleOutcome {
            rule,
            passed: true,
            reason: what,
        }
    } else {
        RuleOutcome {
            rule,
            passed: false,
            reason: format!("{what}; missing {}", missing.join(", ")),
        }
    }
}

// --- labels ---------------------------------------------------------------------------------

fn check_labels(required: &[String], image: &PlatformImage) -> Result<String, String> {
    let missing: Vec<&str> = required
        .iter()
        .filter(|name| {
            image
                .config()
                .label(name)
                .is_none_or(|v| v.trim().is_empty())
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(format!("has {}", required.join(", ")))
    } else {
        Err(format!("label {} is missing or empty", missing.join(", ")))
    }
}

// --- exposed ports --------------------------------------------------------------------------

/// `8080` → `8080/tcp`; `53/UDP` → `53/udp`; anything else is not a port.
fn normalise_port(text: &str) -> Option<String> {
    let (port, protocol) = text.trim().split_once('/').unwrap_or((text.trim(), "tcp"));
    let protocol = protocol.to_ascii_lowercase();
    let port: u16 = port.parse().ok()?;
    matches!(protocol.as_str(), "tcp" | "udp" | "sctp").then(|| format!("{port}/{protocol}"))
}

fn check_ports(allowed: &[&str], image: &PlatformImage) -> Result<String, String> {
    let exposed: BTreeSet<String> = image
        .config()
        .exposed_ports()
        .map(|p| normalise_port(p).unwrap_or_else(|| p.to_owned()))
        .collect();
    let refused: Vec<&String> = exposed
        .iter()
        .filter(|p| !allowed.contains(&p.as_str()))
        .collect();
    let list = |ports: &[&String]| {
        ports
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if refused.is_empty() {
        let all: Vec<&String> = exposed.iter().collect();
        Ok(if all.is_empty() {
            "exposes no ports".to_owned()
        } else {
            format!("exposes {}", list(&all))
        })
    } else {
        Err(format!(
            "exposes {}, which the policy does not allow",
            list(&refused)
        ))
    }
}

// --- layers ---------------------------------------------------------------------------------

impl LayersRule {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(max) = self.max {
            parts.push(format!("at most {max} layers"));
        }
        if let Some(size) = self.max_size {
            parts.push(format!("at most {size}"));
        }
        format!("layers: {}", parts.join(", "))
    }

    fn check(&self, image: &PlatformImage) -> Result<String, String> {
        let layers = &image.manifest().layers;
        let total: u64 = layers.iter().map(|l| l.size).fold(0, u64::saturating_add);
        let seen = format!("{} layers, {total} bytes", layers.len());
        if let Some(max) = self.max
            && layers.len() > max
        {
            return Err(format!("{seen}: more than {max} layers"));
        }
        if let Some(size) = self.max_size
            && total > size.0
        {
            return Err(format!("{seen}: more than {size}"));
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests;
