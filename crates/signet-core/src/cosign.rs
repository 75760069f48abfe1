//! Cosign's storage conventions: where signatures live and how their layers are labelled.

use crate::digest::Digest;

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation carrying the base64 signature over a layer's bytes.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Annotation carrying a PEM certificate (keyless signatures).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Annotation carrying a PEM certificate chain (keyless signatures).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Annotation carrying a Rekor bundle (signed entry timestamp).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Annotation carrying an RFC 3161 timestamp.
pub const RFC3161_TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// OCI image manifest media type.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config media type, used for signature manifests' configs.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Docker schema 2 manifest media type.
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker schema 2 manifest list media type.
pub const DOCKER_MANIFEST_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";

/// What is attached to an image under Cosign's tag scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// Signatures: `sha256-<hex>.sig`.
    Signature,
    /// Attestations: `sha256-<hex>.att`.
    Attestation,
    /// SBOMs: `sha256-<hex>.sbom`.
    Sbom,
}

impl Attachment {
    fn suffix(self) -> &'static str {
        match self {
            Self::Signature => "sig",
            Self::Attestation => "att",
            Self::Sbom => "sbom",
        }
    }
}

/// The tag under which Cosign stores `attachment` for the image with `digest`:
/// `sha256:abc…` becomes `sha256-abc….sig`.
pub fn attachment_tag(digest: &Digest, attachment: Attachment) -> String {
    format!(
        "{}-{}.{}",
        digest.algorithm().name(),
        digest.hex(),
        attachment.suffix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_scheme_matches_cosign() {
        let digest: Digest =
            "sha256:703218c0465075f4425e58fac086e09e1de5c340b12976ab9eb8ad26615c3715"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            attachment_tag(&digest, Attachment::Signature),
            "sha256-703218c0465075f4425e58fac086e09e1de5c340b12976ab9eb8ad26615c3715.sig"
        );
        assert!(attachment_tag(&digest, Attachment::Attestation).ends_with(".att"));
    }
}
