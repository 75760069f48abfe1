//! Attestations: in-toto statements in DSSE envelopes, on images and on files.

use std::collections::BTreeMap;
use std::io::Read;

use signet_core::cosign::{Attachment, SIGNATURE_ANNOTATION, attachment_tag};
use signet_core::digest::{Digest, DigestAlgorithm, digest_reader};
use signet_core::dsse::{
    DSSE_MEDIA_TYPE, Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae, pae_digest,
};
use signet_core::intoto::{PredicateType, build_statement};
use signet_core::manifest::Descriptor;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::attach::{AppendTarget, Appended, ResolvedImage, append_layer, resolve_image};
use crate::keyless::{IdentityToken, KeylessSigner};
use crate::{Error, RekorUploader, SigningKey};

/// The layer annotation Cosign puts the predicate type in.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// Signs `payload` as DSSE does: over the pre-authentication encoding, hashed incrementally
/// when the key signs digests.
pub async fn sign_dsse(
    key: &dyn SigningKey,
    payload_type: &str,
    payload: Vec<u8>,
) -> Result<Envelope, Error> {
    let sig = match key.digest_algorithm() {
        Some(algorithm) => {
            key.sign_digest(&pae_digest(algorithm, payload_type, &payload))
                .await?
        }
        None => key.sign(&pae(payload_type, &payload)).await?,
    };
    Ok(Envelope {
        payload_type: payload_type.to_owned(),
        payload,
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig,
        }],
    })
}

/// What attesting an image did.
#[derive(Debug, Clone)]
pub struct AttestedImage {
    /// The repository, as the statement's subject names it.
    pub repository: String,
    /// The manifest digest attested.
    pub digest: Digest,
    /// True when a tag was resolved to find the digest.
    pub resolved_from_tag: bool,
    /// Where the attestation is stored (`repository:tag`).
    pub location: String,
    /// How many attestations the manifest holds now.
    pub attestation_count: usize,
}

/// Attests images with one key or keylessly, appending to Cosign's `.att` manifests.
#[derive(Debug)]
pub struct ImageAttester<'a> {
    client: &'a OciClient,
    credential: AttestCredential<'a>,
    replace: bool,
    repository_override: Option<Repository>,
}

#[derive(Debug, Clone, Copy)]
enum AttestCredential<'a> {
    Key {
        key: &'a dyn SigningKey,
        log: Option<&'a RekorUploader>,
    },
    Keyless {
        signer: &'a KeylessSigner,
        token: &'a IdentityToken,
    },
}

impl<'a> ImageAttester<'a> {
    /// An attester using `client`, signing with `key`.
    pub fn new(client: &'a OciClient, key: &'a dyn SigningKey) -> Self {
        Self {
            client,
            credential: AttestCredential::Key { key, log: None },
            replace: false,
            repository_override: None,
        }
    }

    /// An attester that signs keylessly, in Cosign's legacy format: the envelope is the
    /// `.att` layer, and its Fulcio certificate and Rekor entry ride in the layer's
    /// annotations (verified as a verifier will read them before the push).
    pub fn keyless(
        client: &'a OciClient,
        signer: &'a KeylessSigner,
        token: &'a IdentityToken,
    ) -> Self {
        Self {
            client,
            credential: AttestCredential::Keyless { signer, token },
            replace: false,
            repository_override: None,
        }
    }

    /// For a key attester: records every attestation in this Rekor log (`--tlog-upload`, an
    /// `intoto` entry) and stores the log's proof in the layer's `dev.sigstore.cosign/bundle`.
    pub fn with_transparency_log(mut self, log: &'a RekorUploader) -> Self {
        if let AttestCredential::Key { key, .. } = self.credential {
            self.credential = AttestCredential::Key {
                key,
                log: Some(log),
            };
        }
        self
    }

    /// Replace earlier attestations of the same predicate type (`--replace`).
    pub fn replacing(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }

    /// Stores attestations in another repository (`COSIGN_REPOSITORY`).
    pub fn with_attachment_repository(mut self, repository: Option<Repository>) -> Self {
        self.repository_override = repository;
        self
    }

    /// Attests `image` with a predicate of `predicate_type` (already read, bounded by the
    /// caller). `now_unix` stamps Cosign's custom predicate wrapper.
    pub async fn attest(
        &self,
        image: &ImageReference,
        predicate_type: &PredicateType,
        predicate: Vec<u8>,
        now_unix: i64,
    ) -> Result<AttestedImage, Error> {
        let shaped = predicate_type
            .shape_predicate(predicate, now_unix)
            .map_err(signet_core::Error::from)?;
        let ResolvedImage {
            repository,
            reference,
            digest,
        } = resolve_image(self.client, image).await?;
        let statement = build_statement(
            &repository.name(),
            digest.hex(),
            predicate_type.uri(),
            &shaped,
        );
        drop(shaped);
        let (envelope, sigstore_annotations) = match self.credential {
            AttestCredential::Key { key, log } => {
                let envelope = sign_dsse(key, IN_TOTO_PAYLOAD_TYPE, statement).await?;
                let annotations = match log {
                    Some(log) => {
                        log.record_attestation(&envelope, &digest, &key.public_key()?)
                            .await?
                    }
                    None => BTreeMap::new(),
                };
                (envelope.to_json(), annotations)
            }
            AttestCredential::Keyless { signer, token } => {
                let signed = signer.attest_legacy(token, statement, &digest).await?;
                (signed.envelope, signed.annotations)
            }
        };
        let limit = self.client.limits().max_attachment_bytes;
        if envelope.len() as u64 > limit {
            return Err(signet_core::Error::TooLarge {
                what: "the attestation envelope",
                actual: envelope.len() as u64,
                limit,
            }
            .into());
        }
        let target_repository = self.client.attachment_repository(
            image,
            &repository,
            self.repository_override.as_ref(),
        )?;
        let tag = attachment_tag(&digest, Attachment::Attestation);
        let location = format!("{}:{tag}", target_repository.name());
        let mut layer = Descriptor::for_bytes(DSSE_MEDIA_TYPE, &envelope);
        layer.annotations = sigstore_annotations;
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
        layer.annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.uri().to_owned(),
        );
        let replace = self.replace;
        let uri = predicate_type.uri().to_owned();
        let appended = append_layer(
            AppendTarget {
                repository: target_repository.as_ref(),
                tag: &tag,
                location: &location,
                max_layers: self.client.limits().max_signature_layers,
            },
            layer.clone(),
            &envelope,
            |existing| existing.digest == layer.digest,
            |existing| {
                replace
                    && existing
                        .annotations
                        .get(PREDICATE_TYPE_ANNOTATION)
                        .map(String::as_str)
                        == Some(uri.as_str())
            },
        )
        .await?;
        let count = match appended {
            Appended::Added { count } | Appended::AlreadyPresent { count } => count,
        };
        Ok(AttestedImage {
            repository: repository.name(),
            digest,
            resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
            location,
            attestation_count: count,
        })
    }
}

/// The in-toto statement (v1) about a file: its sha256 as the subject named `subject_name`,
/// and `predicate` shaped for `predicate_type`. The file is hashed as a stream. Returns the
/// statement's bytes and the file's digest.
pub fn blob_statement(
    reader: impl Read,
    subject_name: &str,
    predicate_type: &PredicateType,
    predicate: Vec<u8>,
    now_unix: i64,
) -> Result<(Vec<u8>, Digest), Error> {
    let shaped = predicate_type
        .shape_predicate(predicate, now_unix)
        .map_err(signet_core::Error::from)?;
    let digest = digest_reader(reader, &[DigestAlgorithm::Sha256])
        .map_err(|source| Error::Read {
            what: "the file to attest".to_owned(),
            source,
        })?
        .pop()
        .ok_or(signet_core::Error::Crypto("no digest computed"))?;
    let hex: String = digest
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let statement = build_statement(subject_name, &hex, predicate_type.uri(), &shaped);
    drop(shaped);
    let digest: Digest = format!("sha256:{hex}").parse()?;
    Ok((statement, digest))
}

/// Attests a file, as `cosign attest-blob`: the subject is `subject_name` with the sha256 of
/// everything `reader` yields (streamed). Returns the envelope JSON.
pub async fn attest_blob(
    key: &dyn SigningKey,
    reader: impl Read,
    subject_name: &str,
    predicate_type: &PredicateType,
    predicate: Vec<u8>,
    now_unix: i64,
) -> Result<Vec<u8>, Error> {
    let (statement, _) = blob_statement(reader, subject_name, predicate_type, predicate, now_unix)?;
    Ok(sign_dsse(key, IN_TOTO_PAYLOAD_TYPE, statement)
        .await?
        .to_json())
}
