//! Docker references as containers/image's `docker/reference` reads them, the policy scopes
//! they match, and the `signedIdentity` rules.
//!
//! signet's own parser normalises Docker Hub as go-containerregistry does
//! (`index.docker.io/library/x`); containers/image normalises it to `docker.io/library/x`, and
//! so do policy scopes, `exactReference`/`exactRepository` values and the identities skopeo
//! writes into signatures. Every comparison here happens on this module's form, so both
//! spellings (and `ubuntu`, `library/ubuntu`) name the same repository.

use std::fmt;

use super::json::truncate;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPOSITORY_NAMESPACE: &str = "library";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not a Docker reference (the errors of `reference.ParseNormalizedNamed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The string is empty.
    #[error("the reference is empty")]
    Empty,
    /// 64 hex characters name an image ID, not a repository.
    #[error("a 64-character hexadecimal string is an image ID, not a repository")]
    HexIdentifier,
    /// Repository names are lowercase.
    #[error("the repository name must be lowercase")]
    Uppercase,
    /// The string does not follow the reference grammar.
    #[error("not a valid reference (host[:port]/path[:tag][@digest])")]
    InvalidFormat,
    /// The repository name is over 255 characters.
    #[error("the repository name is longer than 255 characters")]
    NameTooLong,
    /// The digest's algorithm or encoding is not one containers/image accepts.
    #[error("the digest is not sha256, sha384 or sha512 with lowercase hex of the right length")]
    InvalidDigest,
}

/// A parsed Docker reference: `domain/path[:tag][@digest]`, normalised as containers/image
/// normalises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DockerRef {
    /// `docker.io`, `quay.io`, `127.0.0.1:5000`; empty only for odd names the grammar reads
    /// without a domain.
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl DockerRef {
    /// `reference.ParseNormalizedNamed`: `busybox` is `docker.io/library/busybox`.
    pub(crate) fn parse_normalized(s: &str) -> Result<DockerRef, ReferenceError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ReferenceError::HexIdentifier);
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase);
        }
        parse(&format!("{domain}/{remainder}"))
    }

    /// `reference.ParseNamed`: the string must already be in normalised form.
    pub(crate) fn parse_canonical(s: &str) -> Result<DockerRef, ReferenceError> {
        let parsed = DockerRef::parse_normalized(s)?;
        if parsed.to_string() == s {
            Ok(parsed)
        } else {
            Err(ReferenceError::InvalidFormat)
        }
    }

    /// The repository: `domain/path`, without tag or digest.
    pub(crate) fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    pub(crate) fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub(crate) fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Neither a tag nor a digest: what Cosign writes as a signature's identity.
    pub(crate) fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The policy identity of an image (`PolicyConfigurationIdentity`): `name:tag` or
    /// `name@digest`. Callers make sure exactly one of the two is present.
    pub(crate) fn policy_identity(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{}:{tag}", self.name()),
            (None, Some(digest)) => format!("{}@{digest}", self.name()),
            (None, None) => self.name(),
        }
    }

    /// The scopes to try after the identity, most specific first
    /// (`PolicyConfigurationNamespaces`): the repository, each parent namespace, the host,
    /// then `*.`-wildcards of the host name without its port, longest first.
    pub(crate) fn policy_namespaces(&self) -> Vec<String> {
        let mut scopes = Vec::new();
        let mut name = self.name();
        loop {
            scopes.push(name.clone());
            match name.rfind('/') {
                Some(slash) => name.truncate(slash),
                None => break,
            }
        }
        if let Some(colon) = name.find(':') {
            name.truncate(colon);
        }
        let mut rest = name.as_str();
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            scopes.push(format!("*.{rest}"));
        }
        scopes
    }
}

impl fmt::Display for DockerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `splitDockerDomain`: the first component is a domain if it has a `.` or `:` or is
/// `localhost`; Docker Hub's legacy name and official images are normalised.
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DEFAULT_DOMAIN.to_owned(), name.to_owned()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN.clone_into(&mut domain);
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPOSITORY_NAMESPACE}/{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse` of `name[:tag][@digest]`.
fn parse(s: &str) -> Result<DockerRef, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::Empty);
    }
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    let (domain, path) = split_name(name).ok_or_else(|| {
        if split_name(&name.to_ascii_lowercase()).is_some() {
            ReferenceError::Uppercase
        } else {
            ReferenceError::InvalidFormat
        }
    })?;
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return Err(ReferenceError::InvalidFormat);
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    Ok(DockerRef {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

/// Splits a name as `anchoredNameRegexp` does: the first component is the domain when it is
/// a valid domain, else the whole name is a path. `None` when it matches neither way.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/')
        && is_domain(first)
        && rest.split('/').all(is_name_component)
    {
        return Some((first, rest));
    }
    name.split('/').all(is_name_component).then_some(("", name))
}

/// `domainComponent(\.domainComponent)*(:[0-9]+)?` (containers/image 5.34 has no IPv6 form).
pub(crate) fn is_domain(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    };
    host.split('.').all(component_ok)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-z0-9]+((\.|_|__|-*)[a-z0-9]+)*`
fn is_name_component(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = s.as_bytes();
    if !b.first().copied().is_some_and(alnum) || !b.last().copied().is_some_and(alnum) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let separator = &b[start..i];
        let ok = matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// go-digest's `Parse`: an available algorithm and its exact lowercase hex encoding.
pub(crate) fn check_digest(s: &str) -> Result<(), ReferenceError> {
    let (algorithm, hex) = s.split_once(':').ok_or(ReferenceError::InvalidDigest)?;
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::InvalidDigest),
    };
    if hex.len() == length && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(ReferenceError::InvalidDigest)
    }
}

/// Whether `s` may be a `remapIdentity` prefix: a `host[:port]`, or a name starting with one
/// (`validateIdentityRemappingPrefix`, which lets `ns/name` through as well).
pub(crate) fn is_remap_prefix(s: &str) -> bool {
    if is_domain(s) {
        return true;
    }
    let Some((first, _)) = s.split_once('/') else {
        return false;
    };
    is_domain(first) && split_name(s).is_some()
}

/// A `signedIdentity`: which identities claimed by a signature are accepted for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdentityRule {
    /// The identity equals the image reference, tag or digest included.
    MatchExact,
    /// Tag references: exact match; digest references: the same repository.
    MatchRepoDigestOrExact,
    /// The same repository, whatever tag or digest.
    MatchRepository,
    /// The identity equals this reference (which has a tag or a digest).
    ExactReference(DockerRef),
    /// The identity names this repository.
    ExactRepository(DockerRef),
    /// `matchRepoDigestOrExact` after rewriting the image's `prefix` into `signed_prefix`.
    RemapIdentity {
        prefix: String,
        signed_prefix: String,
    },
}

/// Why a signature's identity was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdentityMismatch {
    /// The claimed identity is not a Docker reference.
    Unparsable(ReferenceError),
    /// The rule needs a tag or digest on both sides, and one side names only a repository.
    NameOnly,
    /// The identity differs from what the rule expects.
    Differs { expected: String },
    /// The `remapIdentity` rewrite produced something that is not a reference.
    RemapFailed { rewritten: String },
}

impl fmt::Display for IdentityMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparsable(e) => write!(f, "it is not a Docker reference: {e}"),
            Self::NameOnly => f.write_str(
                "it names only a repository, without tag or digest, which this rule never accepts \
                 (Cosign signs the repository alone: use matchRepository or exactRepository for \
                 Cosign signatures)",
            ),
            Self::Differs { expected } => write!(f, "expected {expected}"),
            Self::RemapFailed { rewritten } => {
                write!(
                    f,
                    "remapping the image reference gave {rewritten:?}, not a reference"
                )
            }
        }
    }
}

impl IdentityRule {
    /// The rule's name in policy.json.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::MatchExact => "matchExact",
            Self::MatchRepoDigestOrExact => "matchRepoDigestOrExact",
            Self::MatchRepository => "matchRepository",
            Self::ExactReference(_) => "exactReference",
            Self::ExactRepository(_) => "exactRepository",
            Self::RemapIdentity { .. } => "remapIdentity",
        }
    }

    /// The rule as policy.json would spell it, for reports.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::ExactReference(r) => format!("exactReference {r}"),
            Self::ExactRepository(r) => format!("exactRepository {}", r.name()),
            Self::RemapIdentity {
                prefix,
                signed_prefix,
            } => format!("remapIdentity {prefix} -> {signed_prefix}"),
            other => other.name().to_owned(),
        }
    }

    /// Whether a signature claiming `signed` is accepted for the image `intended`.
    pub(crate) fn check(&self, intended: &DockerRef, signed: &str) -> Result<(), IdentityMismatch> {
        let signed = DockerRef::parse_normalized(signed).map_err(IdentityMismatch::Unparsable)?;
        match self {
            Self::MatchExact => exact(intended, &signed),
            Self::MatchRepoDigestOrExact => repo_digest_or_exact(intended, &signed),
            Self::MatchRepository => same_repository(intended, &signed),
            Self::ExactReference(wanted) => exact(wanted, &signed),
            Self::ExactRepository(wanted) => same_repository(wanted, &signed),
            Self::RemapIdentity {
                prefix,
                signed_prefix,
            } => {
                let remapped = remap(intended, prefix, signed_prefix)?;
                repo_digest_or_exact(&remapped, &signed)
            }
        }
    }
}

fn exact(wanted: &DockerRef, signed: &DockerRef) -> Result<(), IdentityMismatch> {
    if wanted.is_name_only() || signed.is_name_only() {
        return Err(IdentityMismatch::NameOnly);
    }
    if signed.to_string() == wanted.to_string() {
        Ok(())
    } else {
        Err(IdentityMismatch::Differs {
            expected: wanted.to_string(),
        })
    }
}

fn same_repository(wanted: &DockerRef, signed: &DockerRef) -> Result<(), IdentityMismatch> {
    if signed.name() == wanted.name() {
        Ok(())
    } else {
        Err(IdentityMismatch::Differs {
            expected: format!("the repository {}", wanted.name()),
        })
    }
}

/// `matchRepoDigestOrExactReferenceValues`.
fn repo_digest_or_exact(intended: &DockerRef, signed: &DockerRef) -> Result<(), IdentityMismatch> {
    if signed.is_name_only() {
        return Err(IdentityMismatch::NameOnly);
    }
    if intended.tag().is_some() {
        // A tag (with or without a digest): the identity must be exactly the reference.
        return exact(intended, signed);
    }
    if intended.digest().is_some() {
        // The digest itself is checked against the signed manifest digest elsewhere.
        return same_repository(intended, signed);
    }
    Err(IdentityMismatch::NameOnly)
}

/// `prmRemapIdentity.remapReferencePrefix`: rewrite `intended` when its repository is
/// `prefix` or lies under `prefix/`.
fn remap(
    intended: &DockerRef,
    prefix: &str,
    signed_prefix: &str,
) -> Result<DockerRef, IdentityMismatch> {
    let name = intended.name();
    let matches = name == prefix
        || (name.len() > prefix.len()
            && name.starts_with(prefix)
            && name.as_bytes().get(prefix.len()) == Some(&b'/'));
    if !matches {
        return Ok(intended.clone());
    }
    let rewritten = intended.to_string().replacen(prefix, signed_prefix, 1);
    DockerRef::parse_canonical(&rewritten).map_err(|_| IdentityMismatch::RemapFailed {
        rewritten: truncate(&rewritten),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

    fn r(s: &str) -> DockerRef {
        DockerRef::parse_normalized(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalises_like_containers_image() {
        assert_eq!(r("busybox").to_string(), "docker.io/library/busybox");
        assert_eq!(
            r("index.docker.io/library/busybox:1").to_string(),
            "docker.io/library/busybox:1"
        );
        assert_eq!(r("docker.io/busybox").name(), "docker.io/library/busybox");
        assert_eq!(r("ns/app").name(), "docker.io/ns/app");
        assert_eq!(r("localhost/app").name(), "localhost/app");
        let both = r(&format!("127.0.0.1:5000/a/b:v1@{D}"));
        assert_eq!(both.name(), "127.0.0.1:5000/a/b");
        assert_eq!(both.tag(), Some("v1"));
        assert_eq!(both.digest(), Some(D));
        assert_eq!(
            DockerRef::parse_canonical("busybox:latest"),
            Err(ReferenceError::InvalidFormat)
        );
        assert!(DockerRef::parse_canonical("docker.io/library/busybox:latest").is_ok());
    }

    #[test]
    fn refuses_what_containers_image_refuses() {
        for (bad, why) in [
            ("", ReferenceError::InvalidFormat),
            ("Upper/case", ReferenceError::Uppercase),
            (&"a".repeat(64) as &str, ReferenceError::HexIdentifier),
            ("a//b", ReferenceError::InvalidFormat),
            ("a/b_", ReferenceError::InvalidFormat),
            ("a/b:-tag", ReferenceError::InvalidFormat),
            ("a/b@sha256:abc", ReferenceError::InvalidDigest),
            ("[::1]:5000/a", ReferenceError::InvalidFormat),
        ] {
            assert_eq!(DockerRef::parse_normalized(bad), Err(why), "{bad:?}");
        }
        assert!(DockerRef::parse_normalized("a/b__c/d---e.f/g").is_ok());
        assert!(DockerRef::parse_normalized("a/b___c").is_err());
    }

    #[test]
    fn namespaces_go_from_repository_to_host_wildcards() {
        let image = r("reg.example.com:8443/team/sub/app:v1");
        assert_eq!(
            image.policy_identity(),
            "reg.example.com:8443/team/sub/app:v1"
        );
        assert_eq!(
            image.policy_namespaces(),
            [
                "reg.example.com:8443/team/sub/app",
                "reg.example.com:8443/team/sub",
                "reg.example.com:8443/team",
                "reg.example.com:8443",
                "*.example.com",
                "*.com",
            ]
        );
        let hub = r(&format!("busybox@{D}"));
        assert_eq!(
            hub.policy_identity(),
            format!("docker.io/library/busybox@{D}")
        );
        assert_eq!(
            hub.policy_namespaces(),
            [
                "docker.io/library/busybox",
                "docker.io/library",
                "docker.io",
                "*.io"
            ]
        );
    }

    #[test]
    fn remap_prefixes_are_validated_like_containers_image() {
        for ok in [
            "quay.io",
            "localhost:5000",
            "quay.io/ns",
            "ns/name",
            "q.io/a/b",
        ] {
            assert!(is_remap_prefix(ok), "{ok}");
        }
        for bad in [
            "",
            "quay.io/",
            "quay.io/UPPER",
            "-bad.io",
            "q.io//a",
            "q.io/a:tag",
        ] {
            assert!(!is_remap_prefix(bad), "{bad}");
        }
    }

    /// One row: the rule, the image as given, the identity a signature claims, accepted?
    #[test]
    fn signed_identity_rules() {
        let repo = "quay.io/ns/app";
        let tagged = "quay.io/ns/app:v1";
        let digested = format!("quay.io/ns/app@{D}");
        let mirror_digested = format!("mirror.local/quay/ns/app@{D}");
        let remap = IdentityRule::RemapIdentity {
            prefix: "mirror.local/quay".into(),
            signed_prefix: "quay.io".into(),
        };
        let rows: Vec<(IdentityRule, &str, &str, bool)> = vec![
            // matchExact: tags must be equal; a digest image never equals a tag identity.
            (IdentityRule::MatchExact, tagged, tagged, true),
            (IdentityRule::MatchExact, tagged, "quay.io/ns/app:v2", false),
            (IdentityRule::MatchExact, tagged, repo, false), // name-only signature
            (IdentityRule::MatchExact, &digested, &digested, true),
            (IdentityRule::MatchExact, &digested, tagged, false),
            // matchRepoDigestOrExact (the default).
            (IdentityRule::MatchRepoDigestOrExact, tagged, tagged, true),
            (
                IdentityRule::MatchRepoDigestOrExact,
                tagged,
                "quay.io/ns/app:v2",
                false,
            ),
            (
                IdentityRule::MatchRepoDigestOrExact,
                &digested,
                tagged,
                true,
            ),
            (
                IdentityRule::MatchRepoDigestOrExact,
                &digested,
                "quay.io/ns/other:v1",
                false,
            ),
            (IdentityRule::MatchRepoDigestOrExact, &digested, repo, false), // name-only
            (IdentityRule::MatchRepoDigestOrExact, tagged, repo, false),    // name-only
            // matchRepository: any tag or digest, name-only included.
            (IdentityRule::MatchRepository, tagged, repo, true),
            (
                IdentityRule::MatchRepository,
                &digested,
                "quay.io/ns/app:other",
                true,
            ),
            (
                IdentityRule::MatchRepository,
                tagged,
                "quay.io/ns/other",
                false,
            ),
            // Docker Hub spellings are one repository.
            (
                IdentityRule::MatchRepository,
                "index.docker.io/library/busybox:1",
                "busybox",
                true,
            ),
            (
                IdentityRule::MatchRepoDigestOrExact,
                "docker.io/library/busybox:1",
                "index.docker.io/library/busybox:1",
                true,
            ),
            // exactReference ignores the image.
            (
                IdentityRule::ExactReference(r("quay.io/ns/app:v1")),
                "x.io/y:z",
                tagged,
                true,
            ),
            (
                IdentityRule::ExactReference(r("quay.io/ns/app:v1")),
                tagged,
                "quay.io/ns/app:v2",
                false,
            ),
            (
                IdentityRule::ExactReference(r("quay.io/ns/app:v1")),
                tagged,
                repo,
                false,
            ),
            // exactRepository ignores the image and any tag.
            (
                IdentityRule::ExactRepository(r("quay.io/ns/app")),
                "x.io/y:z",
                repo,
                true,
            ),
            (
                IdentityRule::ExactRepository(r("quay.io/ns/app")),
                "x.io/y:z",
                tagged,
                true,
            ),
            (
                IdentityRule::ExactRepository(r("quay.io/ns/app")),
                tagged,
                "quay.io/ns/b",
                false,
            ),
            // remapIdentity rewrites the image's prefix, then matchRepoDigestOrExact.
            (remap.clone(), "mirror.local/quay/ns/app:v1", tagged, true),
            (
                remap.clone(),
                "mirror.local/quay/ns/app:v1",
                "mirror.local/quay/ns/app:v1",
                false,
            ),
            (remap.clone(), &mirror_digested, "quay.io/ns/app:any", true),
            (remap.clone(), "mirror.local/quay/ns/app:v1", repo, false), // name-only
            (
                remap.clone(),
                "mirror.local/quayx/app:v1",
                "mirror.local/quayx/app:v1",
                true,
            ), // no remap
            (remap, "mirror.local/quayx/app:v1", "quay.iox/app:v1", false),
            // Garbage never matches.
            (IdentityRule::MatchRepository, tagged, "NOT A REF", false),
        ];
        for (rule, image, signed, accepted) in rows {
            let result = rule.check(&r(image), signed);
            assert_eq!(
                result.is_ok(),
                accepted,
                "{} for {image}, signature {signed}: {result:?}",
                rule.describe()
            );
        }
        assert_eq!(
            IdentityRule::MatchExact.check(&r(tagged), repo),
            Err(IdentityMismatch::NameOnly)
        );
    }
}
