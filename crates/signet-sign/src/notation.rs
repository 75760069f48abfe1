//! Signing images as `notation sign` does with a local key: a Notary Project signature
//! (`notary.x509`, JWS or COSE) over the image manifest's descriptor, pushed as an OCI 1.1
//! referrer — `artifactType` `application/vnd.cncf.notary.signature`, the empty config, the
//! envelope as the one layer, `subject` the image — and, on registries without the referrers
//! API, listed in the referrers tag schema index as notation (oras) lists it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE;
use signet_core::digest::Digest;
use signet_core::keys::PrivateKey;
use signet_core::manifest::Descriptor;
use signet_core::reference::{ImageReference, Repository};
use signet_notation::{EnvelopeFormat, SignRequest, TargetArtifact};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;

/// What signing an image with a Notary Project signature did.
#[derive(Debug, Clone)]
pub struct SignedNotation {
    /// The repository that was signed.
    pub repository: String,
    /// The image digest that was signed.
    pub digest: Digest,
    /// True when the image was named by tag and the tag was resolved here.
    pub resolved_from_tag: bool,
    /// The signature manifest's digest.
    pub manifest: Digest,
    /// Where it is listed: `repository@digest (referrers API)` or `repository:sha256-<hex>
    /// (referrers tag schema)`.
    pub location: String,
}

/// Signs `image` with `key`, whose certificate chain (signing certificate first, DER) is
/// `chain`, in `format`, with `annotations` signed into the payload, at `now`.
#[allow(clippy::too_many_arguments)]
pub async fn sign_image_notation(
    client: &OciClient,
    image: &ImageReference,
    key: &PrivateKey,
    chain: &[Vec<u8>],
    format: EnvelopeFormat,
    annotations: &BTreeMap<String, String>,
    repository_override: Option<&Repository>,
    now: SystemTime,
) -> Result<SignedNotation, Error> {
    let (repository, reference) = client.open(image)?;
    let fetched = repository
        .manifest(&reference)
        .await?
        .ok_or_else(|| Error::ImageNotFound {
            image: image.to_string(),
        })?;
    let target = TargetArtifact {
        media_type: fetched
            .media_type
            .clone()
            .unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_owned()),
        digest: fetched.digest.clone(),
        size: fetched.bytes.len() as u64,
    };
    let signed = signet_notation::sign(
        &SignRequest {
            target: &target,
            annotations,
            certificate_chain: chain,
            signing_time: now,
            expiry: None,
            format,
            signing_agent: concat!("signet/", env!("CARGO_PKG_VERSION")),
        },
        key,
    )?;
    let store = client.attachment_repository(image, &repository, repository_override)?;
    store.push_blob(b"{}").await?;
    store.push_blob(&signed.bytes).await?;
    let manifest_bytes = signed.manifest(&target);
    let manifest = Digest::sha256_of(&manifest_bytes);
    store
        .push_manifest(
            &manifest.to_string(),
            &manifest_bytes,
            OCI_MANIFEST_MEDIA_TYPE,
        )
        .await?;
    let digest = target.digest.clone();
    let location = if store.referrers(&digest).await?.is_some() {
        format!("{}@{digest} (referrers API)", store.name())
    } else {
        let mut entry = Descriptor::for_bytes(OCI_MANIFEST_MEDIA_TYPE, &manifest_bytes);
        entry.extra.insert(
            "artifactType".to_owned(),
            signet_notation::SIGNATURE_ARTIFACT_TYPE.into(),
        );
        entry.annotations.insert(
            signet_notation::THUMBPRINT_ANNOTATION.to_owned(),
            serde_json::to_string(&signed.thumbprints).unwrap_or_default(),
        );
        let location =
            signet_oci::referrers::add_to_tag_schema_index(store.as_ref(), &digest, &[entry])
                .await?;
        format!("{location} (referrers tag schema)")
    };
    Ok(SignedNotation {
        repository: repository.name(),
        digest,
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        manifest,
        location,
    })
}
