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
use crate::keyless::{IdentityToken, KeylessSigner};
use crate::{Error, RekorUploader, SigningKey};

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

/// Signs images with one key or keylessly, appending to Cosign's signature manifests.
#[derive(Debug)]
pub struct ImageSigner<'a> {
    client: &'a OciClient,
    credential: Credential<'a>,
    annotations: BTreeMap<String, String>,
    signature_repository: Option<Repository>,
}

/// What makes the signature.
#[derive(Debug, Clone, Copy)]
enum Credential<'a> {
    Key {
        key: &'a dyn SigningKey,
        log: Option<&'a RekorUploader>,
    },
    Keyless {
        signer: &'a KeylessSigner,
        token: &'a IdentityToken,
    },
}

impl<'a> ImageSigner<'a> {
    /// A signer using `client` to reach registries and layouts, signing with `key`.
    pub fn new(client: &'a OciClient, key: &'a dyn SigningKey) -> Self {
        Self {
            client,
            credential: Credential::Key { key, log: None },
            annotations: BTreeMap::new(),
            signature_repository: None,
        }
    }

    /// A signer that signs each image keylessly (a Fulcio certificate for `token`'s identity
    /// and a Rekor v1 entry), in Cosign's legacy format: the certificate and the log's signed
    /// entry timestamp ride in the signature layer's annotations.
    pub fn keyless(
        client: &'a OciClient,
        signer: &'a KeylessSigner,
        token: &'a IdentityToken,
    ) -> Self {
        Self {
            client,
            credential: Credential::Keyless { signer, token },
            annotations: BTreeMap::new(),
            signature_repository: None,
        }
    }

    /// For a key signer: records every signature in this Rekor log (`--tlog-upload`) and
    /// stores the log's proof in the layer's `dev.sigstore.cosign/bundle` annotation.
    pub fn with_transparency_log(mut self, log: &'a RekorUploader) -> Self {
        if let Credential::Key { key, .. } = self.credential {
            self.credential = Credential::Key {
                key,
                log: Some(log),
            };
        }
        self
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
        let (signature, sigstore_annotations, public_key) = match self.credential {
            Credential::Key { key, log } => {
                let signature = key.sign(&payload).await?;
                let public_key = key.public_key()?;
                let annotations = match log {
                    Some(log) => log.record(&payload, &signature, &public_key).await?,
                    None => BTreeMap::new(),
                };
                (signature, annotations, Some(public_key))
            }
            Credential::Keyless { signer, token } => {
                let signed = signer.sign_legacy(token, &payload).await?;
                (signed.signature, signed.annotations, None)
            }
        };

        let signature_repository = self.client.attachment_repository(
            image,
            &repository,
            self.signature_repository.as_ref(),
        )?;
        let tag = attachment_tag(&digest, Attachment::Signature);
        let location = format!("{}:{tag}", signature_repository.name());

        let mut layer = Descriptor::for_bytes(SIMPLE_SIGNING_MEDIA_TYPE, &payload);
        layer.annotations = sigstore_annotations;
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(&signature));

        // Cosign's duplicate detection: the same payload (same layer digest), signed by the
        // same key. A keyless signature's key is new every time, so it is never a duplicate.
        let is_duplicate = |existing: &Descriptor| {
            let Some(public_key) = &public_key else {
                return false;
            };
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
