use futures_util::StreamExt;
use signet_core::cosign::{Attachment, attachment_tag};
use signet_core::digest::Digest;
use signet_core::manifest::{Descriptor, ImageManifest};
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::judge::{CheckOptions, ImageReport, TlogPolicy, judge};
use crate::{Error, KeyVerifier};

const CONCURRENT_IMAGES: usize = 8;

/// What was found for one signature layer.
#[derive(Debug, Clone)]
pub struct SignatureEvidence {
    /// The layer's position in the signature manifest (0-based).
    pub index: usize,
    /// The layer descriptor, with its annotations.
    pub layer: Descriptor,
    /// The payload bytes, or why they could not be read (missing, over the size limit,
    /// not matching the layer digest).
    pub payload: Result<Vec<u8>, String>,
}

/// Everything needed to decide whether an image is signed, gathered from its store.
#[derive(Debug, Clone)]
pub struct ImageEvidence {
    /// The image, pinned to the digest it resolved to.
    pub image: String,
    /// The image's repository name.
    pub repository: String,
    /// The manifest digest the image resolved to.
    pub digest: Digest,
    /// Whether a tag was resolved to find the digest.
    pub resolved_from_tag: bool,
    /// Where the signatures were looked for (`repository:tag`).
    pub signature_location: String,
    /// The signature layers, up to the limit.
    pub signatures: Vec<SignatureEvidence>,
    /// Layers beyond the limit, which were not considered.
    pub skipped_layers: usize,
}

/// Verifies images against one key.
#[derive(Debug)]
pub struct ImageVerifier<'a> {
    client: &'a OciClient,
    key: &'a KeyVerifier,
    options: CheckOptions,
    signature_repository: Option<Repository>,
}

impl<'a> ImageVerifier<'a> {
    /// A verifier reading through `client` and checking signatures against `key`. The
    /// transparency log is required by default, as Cosign requires it.
    pub fn new(client: &'a OciClient, key: &'a KeyVerifier) -> Self {
        Self {
            client,
            key,
            options: CheckOptions::default(),
            signature_repository: None,
        }
    }

    /// Annotations every accepted signature's payload must carry (`-a key=value`).
    pub fn with_annotations(
        mut self,
        annotations: std::collections::BTreeMap<String, String>,
    ) -> Self {
        self.options.required_annotations = annotations;
        self
    }

    /// Whether a transparency-log entry is required.
    pub fn with_tlog(mut self, tlog: TlogPolicy) -> Self {
        self.options.tlog = tlog;
        self
    }

    /// Reads signatures from another repository, as `COSIGN_REPOSITORY` does.
    pub fn with_signature_repository(mut self, repository: Option<Repository>) -> Self {
        self.signature_repository = repository;
        self
    }

    /// Gathers evidence and judges it.
    pub async fn verify(&self, image: &ImageReference) -> Result<ImageReport, Error> {
        let evidence = self.gather(image).await?;
        Ok(judge(&evidence, self.key, &self.options))
    }

    /// Verifies several images concurrently over the shared connections, in order.
    pub async fn verify_all(&self, images: &[ImageReference]) -> Vec<Result<ImageReport, Error>> {
        futures_util::stream::iter(images.iter().map(|i| self.verify(i)))
            .buffered(CONCURRENT_IMAGES)
            .collect()
            .await
    }

    /// Reads the image's digest, its signature manifest and each signature's payload.
    pub async fn gather(&self, image: &ImageReference) -> Result<ImageEvidence, Error> {
        let (repository, reference) = self.client.open(image)?;
        let digest = match &reference {
            // A digest reference needs no manifest read: the digest is what is verified.
            ManifestRef::Digest(d) => d.clone(),
            ManifestRef::Tag(_) => {
                repository
                    .manifest(&reference)
                    .await?
                    .ok_or_else(|| Error::ImageNotFound {
                        image: image.to_string(),
                    })?
                    .digest
            }
        };
        let signature_repository = self.client.attachment_repository(
            image,
            &repository,
            self.signature_repository.as_ref(),
        )?;
        let tag = attachment_tag(&digest, Attachment::Signature);
        let signature_location = format!("{}:{tag}", signature_repository.name());
        let mut evidence = ImageEvidence {
            image: image.pinned(digest.clone()).to_string(),
            repository: repository.name(),
            digest,
            resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
            signature_location: signature_location.clone(),
            signatures: Vec::new(),
            skipped_layers: 0,
        };
        let Some(fetched) = signature_repository
            .manifest(&ManifestRef::Tag(tag))
            .await?
        else {
            return Ok(evidence);
        };
        let manifest = ImageManifest::parse(&fetched.bytes).map_err(|source| {
            Error::MalformedSignatureManifest {
                location: signature_location,
                source,
            }
        })?;
        let limits = *self.client.limits();
        let considered = manifest.layers.len().min(limits.max_signatures_per_image);
        evidence.skipped_layers = manifest.layers.len() - considered;
        for (index, layer) in manifest.layers.into_iter().take(considered).enumerate() {
            let payload = if layer.size > limits.max_attachment_bytes {
                Err(format!(
                    "the payload is {} bytes, over the limit of {} bytes",
                    layer.size, limits.max_attachment_bytes
                ))
            } else {
                match signature_repository
                    .blob(&layer.digest, limits.max_attachment_bytes)
                    .await
                {
                    Ok(bytes) => Ok(bytes),
                    Err(
                        e @ (signet_oci::Error::MissingBlob { .. }
                        | signet_oci::Error::TooLarge { .. }
                        | signet_oci::Error::DigestMismatch { .. }),
                    ) => Err(e.to_string()),
                    Err(other) => return Err(other.into()),
                }
            };
            evidence.signatures.push(SignatureEvidence {
                index,
                layer,
                payload,
            });
        }
        Ok(evidence)
    }
}
