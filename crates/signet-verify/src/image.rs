use std::collections::BTreeMap;

use futures_util::StreamExt;
use signet_core::cosign::Attachment;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::OciClient;

use crate::gather::{AttachmentEvidence, gather_attachments};
use crate::judge::{CheckOptions, ImageReport, TlogPolicy, judge};
use crate::{Error, KeyVerifier};

pub(crate) const CONCURRENT_IMAGES: usize = 8;

/// Verifies images' signatures against one key.
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
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Self {
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
    pub async fn gather(&self, image: &ImageReference) -> Result<AttachmentEvidence, Error> {
        gather_attachments(
            self.client,
            image,
            Attachment::Signature,
            self.signature_repository.as_ref(),
        )
        .await
    }
}
