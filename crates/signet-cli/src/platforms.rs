//! Multi-platform images: `--recursive` for sign and attest, the platforms `tree` shows, and
//! `verify --accept-index-signature`.

use signet_core::digest::Digest;
use signet_core::manifest::ImageManifest;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::referrers::list_referrers;
use signet_oci::walk::walk;
use signet_oci::{ManifestRef, OciClient};
use signet_sign::recursive_targets;
use signet_verify::platform::{IndexSignatures, IndexSource};

/// The images to sign or attest: `images` as named, or with `recursive` each one and every
/// manifest its index reaches, pinned by digest (Cosign's `--recursive`).
pub(crate) async fn expand(
    client: &OciClient,
    images: &[ImageReference],
    recursive: bool,
) -> anyhow::Result<Vec<ImageReference>> {
    if !recursive {
        return Ok(images.to_vec());
    }
    let mut out = Vec::new();
    for image in images {
        let targets = recursive_targets(client, image)
            .await
            .map_err(|e| anyhow::Error::from(e).context(format!("reading {image}")))?;
        if targets.resolved_from_tag {
            eprintln!(
                "WARNING: {image} names a tag, not a digest; it pointed to {} just now, and that is what is signed.",
                targets.root
            );
        }
        if targets.images.len() > 1 {
            eprintln!(
                "{image} is an image index: {} manifest(s) in all",
                targets.images.len()
            );
            for (target, platform) in targets.images.iter().zip(&targets.platforms).skip(1) {
                let platform = platform
                    .as_ref()
                    .map_or_else(|| "(no platform)".to_owned(), ToString::to_string);
                eprintln!("  {platform}: {target}");
            }
        }
        out.extend(targets.images);
    }
    Ok(out)
}

/// For an image index: its digest, and every manifest it reaches (pinned), each with a label
/// (its platform, and whether it is a nested index). `None` for an image manifest.
pub(crate) async fn platform_manifests(
    client: &OciClient,
    image: &ImageReference,
) -> anyhow::Result<Option<(Digest, Vec<(ImageReference, String)>)>> {
    let (repository, reference) = client.open(image)?;
    let tree = walk(repository.as_ref(), &reference).await?;
    if !tree.root().is_index() {
        return Ok(None);
    }
    let manifests = tree
        .nodes()
        .iter()
        .skip(1)
        .map(|node| {
            let mut label = node
                .platform
                .as_ref()
                .map_or_else(|| "(no platform)".to_owned(), ToString::to_string);
            if node.is_index() {
                label.push_str(" (image index)");
            }
            if node.depth > 1 {
                label = format!(
                    "{label}, in {}",
                    node.parent
                        .clone()
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                );
            }
            (image.pinned(node.digest().clone()), label)
        })
        .collect();
    Ok(Some((tree.root().digest().clone(), manifests)))
}

/// One OCI 1.1 referrer of an image, as `tree` shows it.
pub(crate) struct ReferrerLine {
    /// The bundle's predicate type, else the artifact type.
    pub(crate) kind: String,
    /// `repository@digest` of the referrer manifest.
    pub(crate) location: String,
    /// Its layers' digests.
    pub(crate) layers: Vec<String>,
}

/// The OCI 1.1 referrers of `image` (through the referrers API or the referrers tag schema),
/// each read by digest.
pub(crate) async fn referrers(
    client: &OciClient,
    image: &ImageReference,
    repository_override: Option<&Repository>,
) -> anyhow::Result<Vec<ReferrerLine>> {
    let (repository, reference) = client.open(image)?;
    let digest = match reference {
        ManifestRef::Digest(d) => d,
        tag => match repository.manifest(&tag).await? {
            Some(m) => m.digest,
            None => anyhow::bail!("{image} not found"),
        },
    };
    let store = client.attachment_repository(image, &repository, repository_override)?;
    let (Some(index), _) = list_referrers(store.as_ref(), &digest).await? else {
        return Ok(Vec::new());
    };
    let mut lines = Vec::new();
    for entry in index
        .manifests
        .iter()
        .take(client.limits().max_signatures_per_image)
    {
        let location = format!("{}@{}", store.name(), entry.digest);
        let manifest = store
            .manifest(&ManifestRef::Digest(entry.digest.clone()))
            .await?
            .and_then(|m| ImageManifest::parse(&m.bytes).ok());
        let Some(manifest) = manifest else {
            lines.push(ReferrerLine {
                kind: "(unreadable)".to_owned(),
                location,
                layers: Vec::new(),
            });
            continue;
        };
        let kind = manifest
            .annotations
            .get("dev.sigstore.bundle.predicateType")
            .cloned()
            .or_else(|| {
                manifest
                    .extra
                    .get("artifactType")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| manifest.config.media_type.clone());
        lines.push(ReferrerLine {
            kind,
            location,
            layers: manifest
                .layers
                .iter()
                .map(|l| l.digest.to_string())
                .collect(),
        });
    }
    Ok(lines)
}

/// The index option of `verify`: `--accept-index-signature` (the image's own tag names the
/// index) or `--accept-index-signature=INDEX`.
pub(crate) fn index_signatures(flag: Option<&str>) -> anyhow::Result<IndexSignatures> {
    Ok(match flag {
        None => IndexSignatures::Ignore,
        Some("") => IndexSignatures::Accept(IndexSource::ReferenceTag),
        Some(index) => IndexSignatures::Accept(IndexSource::Named(index.parse().map_err(
            |e: signet_core::Error| {
                crate::settings::usage(format!("--accept-index-signature={index}: {e}"))
            },
        )?)),
    })
}
