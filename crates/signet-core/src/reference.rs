//! Image references as Docker and Cosign parse them, plus `oci:` image-layout references.
//!
//! Registry references follow the distribution reference grammar with go-containerregistry's
//! normalisation, which is what Cosign writes into its payloads: `ubuntu` becomes
//! `index.docker.io/library/ubuntu:latest`, and `docker.io` becomes `index.docker.io`.

use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::digest::Digest;

/// Docker Hub's registry host, as go-containerregistry names it.
pub const DOCKER_HUB_REGISTRY: &str = "index.docker.io";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;
const LAYOUT_PREFIX: &str = "oci:";

/// Where an image lives: a registry repository, or an OCI image-layout directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageReference {
    /// `host[:port]/repo[:tag][@digest]`.
    Registry(RegistryReference),
    /// `oci:PATH[:TAG|@DIGEST]`.
    Layout(LayoutReference),
}

impl ImageReference {
    /// The repository as Cosign names it in payloads: `index.docker.io/library/ubuntu`, or the
    /// layout's path for an `oci:` reference.
    pub fn repository_name(&self) -> String {
        match self {
            Self::Registry(r) => r.repository.name(),
            Self::Layout(l) => l.path.clone(),
        }
    }

    /// The digest, when the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Self::Registry(r) => r.digest.as_ref(),
            Self::Layout(l) => match &l.selector {
                LayoutSelector::Digest(d) => Some(d),
                LayoutSelector::Tag(_) => None,
            },
        }
    }

    /// The same image pinned to `digest`, with any tag dropped.
    pub fn pinned(&self, digest: Digest) -> Self {
        match self {
            Self::Registry(r) => Self::Registry(RegistryReference {
                repository: r.repository.clone(),
                tag: None,
                digest: Some(digest),
            }),
            Self::Layout(l) => Self::Layout(LayoutReference {
                path: l.path.clone(),
                selector: LayoutSelector::Digest(digest),
            }),
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(r) => r.fmt(f),
            Self::Layout(l) => l.fmt(f),
        }
    }
}

impl FromStr for ImageReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.strip_prefix(LAYOUT_PREFIX) {
            Some(rest) => Ok(Self::Layout(LayoutReference::parse(s, rest)?)),
            None => Ok(Self::Registry(s.parse()?)),
        }
    }
}

/// A repository in a registry: `registry/path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// The registry host with its port, normalised (`index.docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry (`library/ubuntu`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `registry/path`, as Cosign writes it in `docker-reference`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// Whether the registry is on this machine (localhost, 127.0.0.0/8, ::1). Cosign and
    /// go-containerregistry speak plain HTTP to such registries.
    pub fn is_loopback(&self) -> bool {
        let host = host_of(&self.registry);
        host == "localhost"
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl FromStr for Repository {
    type Err = Error;

    /// Parses a repository without tag or digest, as `COSIGN_REPOSITORY` takes it.
    fn from_str(s: &str) -> Result<Self, Error> {
        let parsed: RegistryReference = s.parse()?;
        if parsed.tag.is_some() || parsed.digest.is_some() || s.contains('@') {
            return Err(Error::InvalidReference {
                reference: s.to_owned(),
                reason: "a repository takes no tag or digest",
            });
        }
        Ok(parsed.repository)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_inclusive(']').next().unwrap_or(registry);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// A reference to an image in a registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryReference {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl RegistryReference {
    /// The repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The tag, if one was given (`latest` is implied when neither tag nor digest is).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest when pinned, else the tag (default `latest`).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// A reference to `tag` in `repository`.
    pub fn with_tag(repository: Repository, tag: &str) -> Result<Self, Error> {
        validate_tag(tag, tag)?;
        Ok(Self {
            repository,
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }
}

impl fmt::Display for RegistryReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        if self.tag.is_none() && self.digest.is_none() {
            f.write_str(":latest")?;
        }
        Ok(())
    }
}

impl FromStr for RegistryReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidReference {
            reference: s.chars().take(300).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("empty reference"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.parse::<Digest>()?)),
            None => (s, None),
        };
        // A tag follows the last ':' that comes after the last '/', so that a registry port is
        // not mistaken for a tag.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(&rest[at + 1..]))
            }
            None => (rest, None),
        };
        if let Some(tag) = tag {
            validate_tag(s, tag)?;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), remainder.to_owned())
            }
            _ => (DOCKER_HUB_REGISTRY.to_owned(), name.to_owned()),
        };
        validate_registry(s, &registry)?;
        let registry = if registry == "docker.io" {
            DOCKER_HUB_REGISTRY.to_owned()
        } else {
            registry
        };
        for component in path.split('/') {
            if !is_path_component(component) {
                return Err(invalid(
                    "repository path components must be lowercase letters, digits and separators (., _, __, -)",
                ));
            }
        }
        let path = if registry == DOCKER_HUB_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        // The limit applies to the normalised name, as Docker applies it, so that every
        // reference signet prints (always normalised) parses again.
        if registry.len() + 1 + path.len() > MAX_NAME_LEN {
            return Err(invalid(
                "repository name longer than 255 characters once normalised (registry/path)",
            ));
        }
        Ok(Self {
            repository: Repository { registry, path },
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

fn validate_tag(reference: &str, tag: &str) -> Result<(), Error> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidReference {
            reference: reference.chars().take(300).collect(),
            reason: "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with . or -",
        })
    }
}

fn validate_registry(reference: &str, registry: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidReference {
        reference: reference.chars().take(300).collect(),
        reason,
    };
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid("unterminated IPv6 address"))?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("invalid IPv6 address"));
        }
        (None, after.strip_prefix(':'))
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(invalid("invalid registry host"));
        }
    }
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5)
    {
        return Err(invalid("invalid registry port"));
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut expect_alnum = true;
    while i < bytes.len() {
        if expect_alnum {
            if !alnum(bytes[i]) {
                return false;
            }
            while i < bytes.len() && alnum(bytes[i]) {
                i += 1;
            }
            expect_alnum = false;
        } else {
            let start = i;
            match bytes[i] {
                b'.' => i += 1,
                b'_' => {
                    i += 1;
                    if i < bytes.len() && bytes[i] == b'_' {
                        i += 1;
                    }
                }
                b'-' => {
                    while i < bytes.len() && bytes[i] == b'-' {
                        i += 1;
                    }
                }
                _ => return false,
            }
            if i == start || i == bytes.len() {
                return false;
            }
            expect_alnum = true;
        }
    }
    !expect_alnum
}

/// A reference into an OCI image-layout directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayoutReference {
    path: String,
    selector: LayoutSelector,
}

/// Which manifest of a layout is meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LayoutSelector {
    /// The manifest whose `org.opencontainers.image.ref.name` is this tag.
    Tag(String),
    /// The manifest with this digest.
    Digest(Digest),
}

impl LayoutReference {
    fn parse(whole: &str, rest: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidReference {
            reference: whole.chars().take(300).collect(),
            reason,
        };
        if let Some((path, digest)) = rest.split_once('@') {
            if path.is_empty() {
                return Err(invalid("oci: needs a path"));
            }
            return Ok(Self {
                path: path.to_owned(),
                selector: LayoutSelector::Digest(digest.parse()?),
            });
        }
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], &rest[last_slash + i + 1..]),
            None => (rest, "latest"),
        };
        if path.is_empty() {
            return Err(invalid("oci: needs a path"));
        }
        validate_tag(whole, tag)?;
        Ok(Self {
            path: path.to_owned(),
            selector: LayoutSelector::Tag(tag.to_owned()),
        })
    }

    /// The layout directory.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag or digest selected.
    pub fn selector(&self) -> &LayoutSelector {
        &self.selector
    }
}

impl fmt::Display for LayoutReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            LayoutSelector::Tag(t) => write!(f, "{LAYOUT_PREFIX}{}:{t}", self.path),
            LayoutSelector::Digest(d) => write!(f, "{LAYOUT_PREFIX}{}@{d}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RegistryReference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalises_docker_hub_like_go_containerregistry() {
        let r = parse("ubuntu");
        assert_eq!(r.repository().name(), "index.docker.io/library/ubuntu");
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(
            parse("docker.io/namespace/image:v1").repository().name(),
            "index.docker.io/namespace/image"
        );
        assert_eq!(
            parse("namespace/image").repository().name(),
            "index.docker.io/namespace/image"
        );
    }

    #[test]
    fn keeps_registry_ports_apart_from_tags() {
        let r = parse("127.0.0.1:5000/repo/app:1.0");
        assert_eq!(r.repository().registry(), "127.0.0.1:5000");
        assert_eq!(r.repository().path(), "repo/app");
        assert_eq!(r.tag(), Some("1.0"));
        assert!(r.repository().is_loopback());
        let r = parse("localhost:5000/app");
        assert_eq!(r.tag(), None);
        assert!(r.repository().is_loopback());
        assert!(!parse("ghcr.io/a/b").repository().is_loopback());
        assert!(parse("[::1]:5000/a").repository().is_loopback());
    }

    #[test]
    fn parses_digests_with_and_without_tags() {
        let d = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";
        let r = parse(&format!("reg.example.com/a:t@{d}"));
        assert_eq!(r.tag(), Some("t"));
        assert_eq!(r.digest().map(ToString::to_string).as_deref(), Some(d));
        assert_eq!(r.manifest_reference(), d);
    }

    #[test]
    fn rejects_what_docker_rejects() {
        for bad in [
            "",
            "UPPER/case",
            "repo:",
            "repo:-tag",
            "a//b",
            "a/b_",
            "reg.example.com:port/a",
            "repo@sha256:123",
            "a/b:tag with space",
        ] {
            assert!(bad.parse::<RegistryReference>().is_err(), "{bad:?}");
        }
        assert!("a/b__c/d-e.f/g---h".parse::<RegistryReference>().is_ok());
    }

    #[test]
    fn long_names_print_as_references_that_parse_again() {
        // Found by fuzz/fuzz_targets/image_reference.rs: a 240-character Docker Hub name was
        // accepted, then printed as `index.docker.io/library/…:latest`, over the limit.
        let name = "a".repeat(240);
        assert!(name.parse::<RegistryReference>().is_err());
        let name = "a".repeat(255 - "index.docker.io/library/".len());
        let printed = parse(&name).to_string();
        assert_eq!(parse(&printed).to_string(), printed);
        assert!(format!("{name}a").parse::<RegistryReference>().is_err());
        let explicit = format!("reg.example.com/{}", "b".repeat(255 - 16));
        assert_eq!(parse(&explicit).repository().name(), explicit);
        assert!(format!("{explicit}b").parse::<RegistryReference>().is_err());
    }

    #[test]
    fn parses_layout_references() {
        let r: ImageReference = "oci:/tmp/layout:v1"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        match r {
            ImageReference::Layout(l) => {
                assert_eq!(l.path(), "/tmp/layout");
                assert_eq!(l.selector(), &LayoutSelector::Tag("v1".into()));
            }
            ImageReference::Registry(_) => panic!("expected a layout"),
        }
        let r: ImageReference = "oci:./dir".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.to_string(), "oci:./dir:latest");
    }
}
