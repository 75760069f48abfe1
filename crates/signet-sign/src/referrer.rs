//! Cosign v3's image signature format (`--new-bundle-format`): a Sigstore bundle v0.3 holding
//! a DSSE in-toto statement (predicate type `https://sigstore.dev/cosign/sign/v1`, subject =
//! the image digest), stored as an OCI 1.1 referrer of the image: a manifest with
//! `artifactType` = the bundle media type, an empty config, one layer (the bundle) and
//! `subject` = the image's descriptor.
//!
//! Registries with the referrers API index the manifest themselves. On registries without it
//! (docker-registry 2.8), the referrer is also listed in the referrers tag schema index
//! `sha256-<hex>`, as go-containerregistry (and so Cosign) does
//! ([`signet_oci::referrers::add_to_tag_schema_index`]: read, add, write, read back, and retry
//! when another writer's index replaced ours, so concurrent signers keep every entry).

use std::collections::BTreeMap;

use signet_core::cosign::OCI_MANIFEST_MEDIA_TYPE;
use signet_core::digest::Digest;
use signet_core::intoto::{COSIGN_SIGN_V1, cosign_sign_statement};
use signet_core::manifest::Descriptor;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::{ManifestRef, OciClient};

use crate::Error;
use crate::keyless::{IdentityToken, KeylessBundle, KeylessSigner};

/// The bundle media type, also the referrer manifest's `artifactType`.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The media type of the empty config (`{}`) of a referrer manifest.
const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Annotation naming the statement's predicate type, on the manifest and its index entry.
const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// Annotation saying what the bundle holds.
const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";

/// What signing an image in the bundle format did.
#[derive(Debug, Clone)]
pub struct SignedReferrer {
    /// The repository that was signed.
    pub repository: String,
    /// The image digest that was signed.
    pub digest: Digest,
    /// True when the image was named by tag and the tag was resolved here.
    pub resolved_from_tag: bool,
    /// The referrer manifest's digest.
    pub referrer: Digest,
    /// Where it is listed: `repository@digest` (referrers API) or `repository:sha256-<hex>`.
    pub location: String,
    /// The identity Fulcio certified.
    pub identity: String,
    /// The OIDC issuer Fulcio certified.
    pub issuer: String,
}

/// Signs `image` keylessly in Cosign v3's bundle format. `annotations` go into the
/// statement's subject. The bundle is verified against the signer's trusted root for the image
/// digest before anything is pushed.
pub async fn sign_image_referrer(
    client: &OciClient,
    image: &ImageReference,
    signer: &KeylessSigner,
    token: &IdentityToken,
    annotations: &BTreeMap<String, String>,
    repository_override: Option<&Repository>,
) -> Result<SignedReferrer, Error> {
    push_referrer_bundle(
        client,
        image,
        signer,
        token,
        COSIGN_SIGN_V1,
        |_, digest| Ok(cosign_sign_statement(digest, annotations)),
        repository_override,
    )
    .await
}

/// Attests `image` keylessly in Cosign v3's bundle format: `statement` (given the repository
/// name and the image digest) signed into a DSSE bundle, verified for the image digest, and
/// pushed as a referrer whose `dev.sigstore.bundle.predicateType` is `predicate_type`.
pub async fn push_referrer_bundle(
    client: &OciClient,
    image: &ImageReference,
    signer: &KeylessSigner,
    token: &IdentityToken,
    predicate_type: &str,
    statement: impl FnOnce(&str, &Digest) -> Result<Vec<u8>, Error>,
    repository_override: Option<&Repository>,
) -> Result<SignedReferrer, Error> {
    let subject = Subject::fetch(client, image).await?;
    let statement = statement(&subject.repository.name(), &subject.digest)?;
    let signed = signer
        .sign_statement(token, &statement, &subject.digest)
        .await?;
    push_bundle(
        client,
        image,
        subject,
        &signed,
        predicate_type,
        repository_override,
    )
    .await
}

/// Attaches a bundle already signed (and verified) for `image`'s digest as its referrer, in
/// Cosign v3's format: what [`push_referrer_bundle`] pushes, for a caller that also keeps
/// the bundle (a verification summary written to a file and attached, signed once). A bundle
/// signed for another digest than the one `image` names now is refused, nothing pushed.
pub async fn attach_referrer_bundle(
    client: &OciClient,
    image: &ImageReference,
    signed: &KeylessBundle,
    predicate_type: &str,
    repository_override: Option<&Repository>,
) -> Result<SignedReferrer, Error> {
    let subject = Subject::fetch(client, image).await?;
    if &subject.digest != signed.digest() {
        return Err(Error::BundleSubject {
            image: image.to_string(),
            image_digest: subject.digest,
            bundle_digest: signed.digest().clone(),
        });
    }
    push_bundle(
        client,
        image,
        subject,
        signed,
        predicate_type,
        repository_override,
    )
    .await
}

/// The image a referrer is about: its repository, how it was named, its digest and the
/// descriptor the referrer's `subject` holds.
struct Subject {
    repository: std::sync::Arc<dyn signet_oci::OciRepository>,
    reference: ManifestRef,
    digest: Digest,
    descriptor: Descriptor,
}

impl Subject {
    async fn fetch(client: &OciClient, image: &ImageReference) -> Result<Self, Error> {
        let (repository, reference) = client.open(image)?;
        let fetched =
            repository
                .manifest(&reference)
                .await?
                .ok_or_else(|| Error::ImageNotFound {
                    image: image.to_string(),
                })?;
        let descriptor = Descriptor {
            media_type: fetched
                .media_type
                .clone()
                .unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_owned()),
            size: fetched.bytes.len() as u64,
            digest: fetched.digest.clone(),
            annotations: BTreeMap::new(),
            extra: serde_json::Map::new(),
        };
        Ok(Self {
            repository,
            reference,
            digest: fetched.digest,
            descriptor,
        })
    }
}

async fn push_bundle(
    client: &OciClient,
    image: &ImageReference,
    subject: Subject,
    signed: &KeylessBundle,
    predicate_type: &str,
    repository_override: Option<&Repository>,
) -> Result<SignedReferrer, Error> {
    let Subject {
        repository,
        reference,
        digest,
        descriptor: subject,
    } = subject;
    let store = client.attachment_repository(image, &repository, repository_override)?;
    let config = store.push_blob(b"{}").await?;
    let bundle = signed.bundle_json();
    let layer_digest = store.push_blob(bundle).await?;
    let manifest_annotations = BTreeMap::from([
        (CONTENT_ANNOTATION.to_owned(), "dsse-envelope".to_owned()),
        (
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        ),
        (
            "org.opencontainers.image.created".to_owned(),
            signet_core::intoto::rfc3339(unix_now()),
        ),
    ]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST_MEDIA_TYPE,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": {"mediaType": EMPTY_CONFIG_MEDIA_TYPE, "digest": config.to_string(), "size": 2},
        "layers": [{
            "mediaType": BUNDLE_MEDIA_TYPE,
            "digest": layer_digest.to_string(),
            "size": bundle.len(),
        }],
        "subject": subject,
        "annotations": manifest_annotations,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Keyless {
        service: crate::keyless::KeylessService::Bundle,
        message: format!("writing the referrer manifest: {e}"),
    })?;
    let referrer = Digest::sha256_of(&manifest_bytes);
    store
        .push_manifest(
            &referrer.to_string(),
            &manifest_bytes,
            OCI_MANIFEST_MEDIA_TYPE,
        )
        .await?;

    let location = if store.referrers(&digest).await?.is_some() {
        format!("{}@{digest} (referrers API)", store.name())
    } else {
        let mut entry = Descriptor::for_bytes(OCI_MANIFEST_MEDIA_TYPE, &manifest_bytes);
        entry.extra.insert(
            "artifactType".to_owned(),
            serde_json::Value::String(BUNDLE_MEDIA_TYPE.to_owned()),
        );
        entry.annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        );
        let location =
            signet_oci::referrers::add_to_tag_schema_index(store.as_ref(), &digest, &[entry])
                .await?;
        format!("{location} (referrers tag schema)")
    };
    Ok(SignedReferrer {
        repository: repository.name(),
        digest,
        resolved_from_tag: matches!(reference, ManifestRef::Tag(_)),
        referrer,
        location,
        identity: signed.identity().to_owned(),
        issuer: signed.issuer().to_owned(),
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
