//! Legacy SBOM attachments (`cosign attach sbom`): the SBOM as the single layer of the
//! manifest tagged `sha256-<hex>.sbom`.

use signet_core::cosign::{Attachment, OCI_MANIFEST_MEDIA_TYPE, attachment_tag};
use signet_core::manifest::{Descriptor, signature_manifest};
use signet_core::reference::{ImageReference, Repository};
use signet_oci::OciClient;

use crate::Error;
use crate::attach::{ResolvedImage, resolve_image};

/// The SBOM formats Cosign attaches, with its media types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// SPDX tag-value (`text/spdx`).
    SpdxText,
    /// SPDX JSON (`text/spdx+json`).
    SpdxJson,
    /// CycloneDX XML (`application/vnd.cyclonedx+xml`).
    CycloneDxXml,
    /// CycloneDX JSON (`application/vnd.cyclonedx+json`).
    CycloneDxJson,
    /// Syft JSON (`application/vnd.syft+json`).
    Syft,
}

/// Why an SBOM type and input format name no format Cosign attaches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SbomFormatError {
    /// The input format does not exist for this SBOM type.
    #[error("invalid SBOM input format {format:?} for {kind}")]
    InputFormat {
        /// The SBOM type.
        kind: String,
        /// The input format.
        format: String,
    },
    /// An SBOM type Cosign does not know.
    #[error("unknown SBOM type {0:?}, expected spdx, cyclonedx or syft")]
    UnknownType(String),
}

impl SbomFormat {
    /// The layer media type Cosign uses.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::SpdxText => "text/spdx",
            Self::SpdxJson => "text/spdx+json",
            Self::CycloneDxXml => "application/vnd.cyclonedx+xml",
            Self::CycloneDxJson => "application/vnd.cyclonedx+json",
            Self::Syft => "application/vnd.syft+json",
        }
    }

    /// Cosign's choice from `--type` and `--input-format` (or a `.json` file name).
    pub fn choose(
        kind: &str,
        input_format: Option<&str>,
        looks_like_json: bool,
    ) -> Result<Self, SbomFormatError> {
        let json = input_format == Some("json") || (input_format.is_none() && looks_like_json);
        match (kind, input_format) {
            ("spdx", None | Some("json" | "text")) => {
                Ok(if json { Self::SpdxJson } else { Self::SpdxText })
            }
            ("cyclonedx", None | Some("json" | "xml")) => Ok(if json {
                Self::CycloneDxJson
            } else {
                Self::CycloneDxXml
            }),
            ("syft", None | Some("json")) => Ok(Self::Syft),
            ("spdx" | "cyclonedx" | "syft", Some(other)) => Err(SbomFormatError::InputFormat {
                kind: kind.to_owned(),
                format: other.to_owned(),
            }),
            (other, _) => Err(SbomFormatError::UnknownType(other.to_owned())),
        }
    }
}

/// Attaches `sbom` to `image`, replacing any SBOM attached before (as Cosign does). Returns
/// where it was stored.
pub async fn attach_sbom(
    client: &OciClient,
    image: &ImageReference,
    repository_override: Option<&Repository>,
    sbom: &[u8],
    format: SbomFormat,
) -> Result<String, Error> {
    let limit = client.limits().max_attachment_bytes;
    if sbom.len() as u64 > limit {
        return Err(signet_core::Error::TooLarge {
            what: "the SBOM",
            actual: sbom.len() as u64,
            limit,
        }
        .into());
    }
    let ResolvedImage {
        repository, digest, ..
    } = resolve_image(client, image).await?;
    let target = client.attachment_repository(image, &repository, repository_override)?;
    let tag = attachment_tag(&digest, Attachment::Sbom);
    target.push_blob(sbom).await?;
    let (manifest, config) =
        signature_manifest(vec![Descriptor::for_bytes(format.media_type(), sbom)]);
    target.push_blob(&config).await?;
    target
        .push_manifest(&tag, &manifest.to_bytes(), OCI_MANIFEST_MEDIA_TYPE)
        .await?;
    Ok(format!("{}:{tag}", target.name()))
}
