use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use signet_core::cosign::{
    Attachment, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, attachment_tag,
};
use signet_core::digest::Digest;
use signet_core::manifest::Descriptor;
use signet_core::payload::simple_signing_payload;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::attach::{AppendTarget, Appended, ResolvedImage, append_layer, resolve_image};
use crate::{Error, SigningKey};

/// Images signed at once by [`ImageSigner::sign_all`].
const CONCURRENT_IMAGES: usize = 8;

/// Whether signing added a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutcome {
    /// A new signature layer was appended.
    Appended,
    /// The same payload was already signed by the same key; nothing was written.
    AlreadySigned,
}

/// What signing an image did.
#[derive(Debug, Clone)]
pub struct SignedImage {
    /// The repository that was signed, as the payload names it.
    pub repository: String,
    /// The manifest digest that was signed.
    pub digest: Digest,
    /// True when the image was named by tag and the tag was resolved here (racy: the tag may
    /// have moved since the signer last looked at it).
    pub resolved_from_tag: bool,
    /// Where the signatures are stored (`repository:tag`).
    pub signature_location: String,
    /// Whether a signature was added.
    pub outcome: SignOutcome,
    /// How many signatures the signature manifest holds now.
    pub signature_count: usize,
}

/// Signs images with one key, appending to Cosign's signature manifests.
#[derive(Debug)]
pub struct ImageSigner<'a> {
    client: &'a OciClient,
    key: &'a dyn SigningKey,
    annotations: BTreeMap<String, String>,
    signature_repository: Option<Repository>,
}

impl<'a> ImageSigner<'a> {
    /// A signer using `client` to reach registries and layouts, signing with `key`.
    pub fn new(client: &'a OciClient, key: &'a dyn SigningKey) -> Self {
        Self {
            client,
            key,
            annotations: BTreeMap::new(),
            signature_repository: None,
        }
    }

    /// Annotations to put in the payload's `optional` section (`-a key=value`).
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Self {
        self.annotations = annotations;
        self
    }

    /// Stores signatures in another repository, as `COSIGN_REPOSITORY` does.
    pub fn with_signature_repository(mut self, repository: Option<Repository>) -> Self {
        self.signature_repository = repository;
        self
    }

    /// Signs each image, several at a time over the client's shared connections. Results come
    /// back in the order of `images`.
    pub async fn sign_all(&self, images: &[ImageReference]) -> Vec<Result<SignedImage, Error>> {
        futures_util::stream::iter(images.iter().map(|image| self.sign(image)))
            .buffered(CONCURRENT_IMAGES)
            .collect()
            .await
    }

    /// Signs one image.
    pub async fn sign(&self, image: &ImageReference) -> Result<SignedImage, Error> {
        let ResolvedImage {
            repository,
            reference,
            digest,
        } = resolve_image(self.client, image).await?;
        let payload = simple_signing_payload(&repository.name(), &digest, &self.annotations);
        let signature = STANDARD.encode(self.key.sign(&payload)?);

        let signature_repository = self.client.attachment_repository(
            image,
            &repository,
            self.signature_repository.as_ref(),
        )?;
        let tag = attachment_tag(&digest, Attachment::Signature);
        let location = format!("{}:{tag}", signature_repository.name());

        let mut layer = Descriptor::for_bytes(SIMPLE_SIGNING_MEDIA_TYPE, &payload);
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), signature);

        let public_key = self.key.public_key()?;
        // Cosign's duplicate detection: the same payload (same layer digest), signed by the
        // same key.
        let is_duplicate = |existing: &Descriptor| {
            existing.digest == layer.digest
                && existing
                    .annotations
                    .get(SIGNATURE_ANNOTATION)
                    .and_then(|s| STANDARD.decode(s).ok())
                    .is_some_and(|sig| {
                        public_key
                            .default_hashes()
                            .into_iter()
                            .any(|h| public_key.verify(&payload, &sig, h).is_ok())
                    })
        };
        let appended = append_layer(
            AppendTarget {
                repository: signature_repository.as_ref(),
                tag: &tag,
                location: &location,
                max_layers: self.client.limits().max_signature_layers,
            },
            layer.clone(),
            &payload,
            is_duplicate,
            |_| false,
        )
        .await?;
        let (outcome, signature_count) = match appended {
            Appended::Added { count } => (SignOutcome::Appended, count),
            Appended::AlreadyPresent { count } => (SignOutcome::AlreadySigned, count),
        };
        Ok(SignedImage {
            repository: repository.name(),
            digest,
            resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
            signature_location: location,
            outcome,
            signature_count,
        })
    }
}
