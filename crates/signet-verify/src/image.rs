use std::collections::BTreeMap;

use futures_util::StreamExt;
use signet_core::cosign::Attachment;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::OciClient;

use crate::bundle::{BundlePolicy, BundleVerifier};
use crate::gather::{AttachmentEvidence, gather_attachments};
use crate::judge::{CheckOptions, ImageReport, SignatureAuthority, TlogPolicy, judge_with};
use crate::{Error, KeyVerifier};

pub(crate) const CONCURRENT_IMAGES: usize = 8;

/// Verifies images' legacy (`.sig`) signatures against one key or one certificate identity.
#[derive(Debug)]
pub struct ImageVerifier<'a> {
    client: &'a OciClient,
    authority: SignatureAuthority<'a>,
    options: CheckOptions,
    signature_repository: Option<Repository>,
}

impl<'a> ImageVerifier<'a> {
    /// A verifier reading through `client` and checking signatures against `key`. The
    /// transparency log is required by default, as Cosign requires it.
    pub fn new(client: &'a OciClient, key: &'a KeyVerifier) -> Self {
        Self {
            client,
            authority: SignatureAuthority::Key { key, log: None },
            options: CheckOptions::default(),
            signature_repository: None,
        }
    }

    /// A verifier for keyless signatures: each must carry a Fulcio certificate for the identity
    /// `policy` names (not a key policy), chaining to `verifier`'s trusted root, with a Rekor
    /// entry (and any RFC 3161 timestamp) that verifies against it.
    pub fn keyless(
        client: &'a OciClient,
        verifier: &'a BundleVerifier,
        policy: &'a BundlePolicy,
    ) -> Self {
        Self {
            client,
            authority: SignatureAuthority::Certificate { verifier, policy },
            options: CheckOptions::default(),
            signature_repository: None,
        }
    }

    /// For a key verifier: the trusted root whose Rekor keys check each signature's log entry
    /// (`dev.sigstore.cosign/bundle`) when the log is required.
    pub fn with_trusted_root(mut self, trusted_root: &'a BundleVerifier) -> Self {
        if let SignatureAuthority::Key { key, .. } = self.authority {
            self.authority = SignatureAuthority::Key {
                key,
                log: Some(trusted_root),
            };
        }
        self
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
        Ok(judge_with(&evidence, self.authority, &self.options))
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
