//! The container images a build started from, as its SLSA provenance records them: the
//! `pkg:docker` package URLs among v0.2's `materials` and v1's
//! `buildDefinition.resolvedDependencies`. The `base` rule reads them when the image itself
//! names no base, and only from a provenance statement that qualified for one of the policy's
//! attestation requirements (so its signer is an authority the policy trusts).
//!
//! BuildKit also records the images it ran as tools — its Dockerfile frontend
//! (`pkg:docker/docker/dockerfile@1`) and SBOM scanner — without a `platform` qualifier, while
//! every image a stage is built `FROM` (or copies from) carries one; for BuildKit's build type
//! the images without a platform are therefore not bases. A purl is read as BuildKit's
//! `PURLToRef` reads it: `pkg:docker/alpine@3.20` is `docker.io/library/alpine:3.20`, and the
//! build was pinned when the purl carries the digest it was referenced by (a `digest`
//! qualifier, or a digest as its version) — the `digest` field beside it is what the build
//! resolved, which every build has.

use serde::Deserialize;
use signet_core::digest::Digest;
use signet_core::reference::RegistryReference;

use crate::conditions::{percent_decode, purl_base};

/// BuildKit's SLSA build type (v0.2 `buildType`, v1 `buildDefinition.buildType`).
pub const BUILDKIT_BUILD_TYPE: &str = "https://mobyproject.org/buildkit@v1";

/// One container image a build resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The package URL as the provenance writes it.
    purl: String,
    /// The image reference it stands for, when it is one.
    reference: Option<RegistryReference>,
}

impl ResolvedImage {
    /// The package URL as written.
    pub fn purl(&self) -> &str {
        &self.purl
    }

    /// The image reference the purl stands for (`None` when it is not a valid one).
    pub fn reference(&self) -> Option<&RegistryReference> {
        self.reference.as_ref()
    }

    /// The digest the build referenced the image by, if it did.
    pub fn pinned(&self) -> Option<&Digest> {
        self.reference.as_ref().and_then(RegistryReference::digest)
    }
}

/// The base images a verified provenance lists (possibly none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuiltFrom {
    images: Vec<ResolvedImage>,
}

/// Why a provenance statement could not be read for its resolved images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuiltFromError {
    /// The statement or its predicate is not the JSON SLSA provenance describes.
    #[error("the provenance's materials or resolvedDependencies cannot be read")]
    Malformed(#[source] serde_json::Error),
}

#[derive(Deserialize)]
struct Statement {
    #[serde(default)]
    predicate: Option<Predicate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Predicate {
    /// v0.2.
    #[serde(default)]
    build_type: Option<String>,
    /// v0.2.
    #[serde(default)]
    materials: Option<Vec<Resource>>,
    /// v1.
    #[serde(default)]
    build_definition: Option<BuildDefinition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildDefinition {
    #[serde(default)]
    build_type: Option<String>,
    #[serde(default)]
    resolved_dependencies: Option<Vec<Resource>>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    uri: Option<String>,
}

impl BuiltFrom {
    /// Reads the base images of a SLSA provenance statement (v0.2 or v1; the caller has
    /// verified it and bounded its size).
    pub fn from_statement(statement: &[u8]) -> Result<Self, BuiltFromError> {
        let statement: Statement =
            serde_json::from_slice(statement).map_err(BuiltFromError::Malformed)?;
        let Some(predicate) = statement.predicate else {
            return Ok(Self::default());
        };
        let (build_type, resources) = match (predicate.build_definition, predicate.materials) {
            (Some(definition), _) => (
                definition.build_type,
                definition.resolved_dependencies.unwrap_or_default(),
            ),
            (None, materials) => (predicate.build_type, materials.unwrap_or_default()),
        };
        let buildkit = build_type.as_deref() == Some(BUILDKIT_BUILD_TYPE);
        let images = resources
            .into_iter()
            .filter_map(|r| r.uri)
            .filter_map(|uri| {
                let image = parse_docker_purl(&uri)?;
                (!buildkit || image.has_platform).then_some(ResolvedImage {
                    purl: uri,
                    reference: image.reference,
                })
            })
            .collect();
        Ok(Self { images })
    }

    /// The images, in the provenance's order.
    pub fn images(&self) -> &[ResolvedImage] {
        &self.images
    }
}

/// A `pkg:docker` purl, read.
struct DockerPurl {
    reference: Option<RegistryReference>,
    has_platform: bool,
}

/// `None` for a purl of another type; a `reference` of `None` for a docker purl that names no
/// valid image.
fn parse_docker_purl(uri: &str) -> Option<DockerPurl> {
    let (scheme_and_type, _) = uri.split_once('/')?;
    if !scheme_and_type.eq_ignore_ascii_case("pkg:docker") {
        return None;
    }
    let without_subpath = uri.split_once('#').map_or(uri, |(p, _)| p);
    let qualifiers: Vec<(&str, String)> = without_subpath
        .split_once('?')
        .map(|(_, q)| q)
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key, percent_decode(value)))
        .collect();
    let qualifier = |name: &str| {
        qualifiers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let has_platform = qualifier("platform").is_some();
    let (base, version) = purl_base(uri);
    let name = percent_decode(&base[scheme_and_type.len() + 1..]);
    let version = version.map(percent_decode);
    let version_digest = version.as_deref().and_then(|v| v.parse::<Digest>().ok());
    let tag = version.filter(|_| version_digest.is_none());
    let digest = match (qualifier("digest"), version_digest) {
        (Some(q), Some(v)) if q.parse::<Digest>().ok().as_ref() != Some(&v) => {
            // A purl whose digest qualifier and version disagree names no one image.
            return Some(DockerPurl {
                reference: None,
                has_platform,
            });
        }
        (Some(q), _) => match q.parse::<Digest>() {
            Ok(d) => Some(d),
            Err(_) => {
                return Some(DockerPurl {
                    reference: None,
                    has_platform,
                });
            }
        },
        (None, v) => v,
    };
    let mut text = name;
    if let Some(tag) = &tag {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = &digest {
        text.push('@');
        text.push_str(&digest.to_string());
    }
    Some(DockerPurl {
        reference: text.parse().ok(),
        has_platform,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(purl: &str) -> Option<String> {
        parse_docker_purl(purl)
            .and_then(|p| p.reference)
            .map(|r| r.to_string())
    }

    #[test]
    fn docker_purls_read_as_buildkit_reads_them() {
        let digest = Digest::sha256_of(b"test").to_string();
        let escaped = digest.replace(':', "%3A");
        assert_eq!(
            reference("pkg:docker/alpine@3.15").as_deref(),
            Some("index.docker.io/library/alpine:3.15")
        );
        assert_eq!(
            reference(&format!(
                "pkg:docker/library/alpine@3.15?digest={escaped}&platform=linux%2Famd64"
            )),
            Some(format!("index.docker.io/library/alpine:3.15@{digest}"))
        );
        assert_eq!(
            reference(&format!("pkg:docker/alpine?digest={digest}")),
            Some(format!("index.docker.io/library/alpine@{digest}"))
        );
        assert_eq!(
            reference("pkg:docker/ghcr.io/foo/bar@v2").as_deref(),
            Some("ghcr.io/foo/bar:v2")
        );
        assert_eq!(
            reference(&format!("pkg:docker/ghcr.io/foo/bar@{escaped}")),
            Some(format!("ghcr.io/foo/bar@{digest}"))
        );
        // Not docker, or not an image.
        assert!(parse_docker_purl("pkg:deb/debian/libc6@2.36").is_none());
        assert!(parse_docker_purl("git+https://github.com/a/b@refs/heads/main").is_none());
        assert_eq!(reference("pkg:docker/alpine?digest=sha256:nope"), None);
        let other = Digest::sha256_of(b"other");
        assert_eq!(
            reference(&format!("pkg:docker/alpine@{other}?digest={digest}")),
            None
        );
    }

    /// BuildKit's provenance (docs.docker.com, "Provenance attestations", min mode, v0.2):
    /// its frontend is not a base, the golang image is, referenced by tag.
    #[test]
    fn buildkit_s_frontend_is_not_a_base() {
        let statement = br#"{"_type": "https://in-toto.io/Statement/v0.1",
          "predicateType": "https://slsa.dev/provenance/v0.2", "subject": [],
          "predicate": {"builder": {"id": ""}, "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
              {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": "9ba7531bd80fb0a858632727cf7a112fbfd19b17e94c4e84ced81e24ef1a0dbc"}},
              {"uri": "pkg:docker/golang@1.19.4-alpine?platform=linux%2Farm64", "digest": {"sha256": "a9b24b67dc83b3383d22a14941c2b2b2ca6a103d805cac6820fd1355943beaf1"}}]}}"#;
        let built = BuiltFrom::from_statement(statement).unwrap_or_else(|e| panic!("{e}"));
        let images: Vec<(String, Option<&Digest>)> = built
            .images()
            .iter()
            .map(|i| {
                (
                    i.reference().map(ToString::to_string).unwrap_or_default(),
                    i.pinned(),
                )
            })
            .collect();
        assert_eq!(
            images,
            [(
                "index.docker.io/library/golang:1.19.4-alpine".to_owned(),
                None
            )]
        );
        // Another builder's docker dependencies all count; v1 reads resolvedDependencies.
        let digest = Digest::sha256_of(b"base");
        let v1 = format!(
            r#"{{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
              "predicate": {{"buildDefinition": {{"buildType": "https://example.invalid/build@v1",
                "resolvedDependencies": [{{"uri": "git+https://example.invalid/app@refs/heads/main"}},
                  {{"uri": "pkg:docker/gcr.io/distroless/static@nonroot?digest={digest}"}},
                  {{"uri": "pkg:docker/docker/dockerfile@1"}}]}}}}}}"#
        );
        let built = BuiltFrom::from_statement(v1.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(built.images().len(), 2);
        assert_eq!(built.images()[0].pinned(), Some(&digest));
        assert!(BuiltFrom::from_statement(b"[1]").is_err());
    }
}
