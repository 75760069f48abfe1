//! attach sbom, download, tree.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::cosign::{Attachment, SIGNATURE_ANNOTATION};
use signet_core::intoto::PredicateType;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_sign::{PREDICATE_TYPE_ANNOTATION, SbomFormat};
use signet_verify::{AttachmentEvidence, gather_attachments};

use crate::args::{AttachSbomArgs, DownloadCommand, RegistryArgs, TreeArgs};
use crate::settings;

fn parse_image(text: &str) -> anyhow::Result<ImageReference> {
    text.parse()
        .with_context(|| format!("parsing image reference {text:?}"))
}

async fn gather(
    registry: &RegistryArgs,
    image: &str,
    kind: Attachment,
) -> anyhow::Result<AttachmentEvidence> {
    let image = parse_image(image)?;
    let client = OciClient::new(settings::client_options(registry, settings::limits()?));
    Ok(gather_attachments(
        &client,
        &image,
        kind,
        settings::signature_repository()?.as_ref(),
    )
    .await?)
}

fn content(evidence: &AttachmentEvidence, index: usize) -> anyhow::Result<&[u8]> {
    evidence.layers[index]
        .content
        .as_deref()
        .map_err(|why| anyhow::anyhow!("layer {} of {}: {why}", index + 1, evidence.location))
}

pub(crate) async fn attach_sbom(args: &AttachSbomArgs) -> anyhow::Result<ExitCode> {
    let looks_like_json = args.sbom.extension().is_some_and(|e| e == "json");
    let format = SbomFormat::choose(
        &args.sbom_type,
        args.input_format.as_deref(),
        looks_like_json,
    )?;
    let image = parse_image(&args.image)?;
    let limits = settings::limits()?;
    let sbom = settings::read_bounded(&args.sbom, limits.max_attachment_bytes, "SBOM")?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let location = signet_sign::attach_sbom(
        &client,
        &image,
        settings::signature_repository()?.as_ref(),
        &sbom,
        format,
    )
    .await?;
    eprintln!(
        "Uploading SBOM file for [{}] to [{location}] with mediaType [{}].",
        args.image,
        format.media_type()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn download(command: &DownloadCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        DownloadCommand::Sbom(args) => {
            let evidence = gather(&args.registry, &args.image, Attachment::Sbom).await?;
            if evidence.layers.is_empty() {
                anyhow::bail!(
                    "no SBOM attached to {} (looked in {})",
                    evidence.image,
                    evidence.location
                );
            }
            for i in 0..evidence.layers.len() {
                out.write_all(content(&evidence, i)?)?;
            }
        }
        DownloadCommand::Signature(args) => {
            let evidence = gather(&args.registry, &args.image, Attachment::Signature).await?;
            if evidence.layers.is_empty() {
                anyhow::bail!(
                    "no signatures for {} (looked in {})",
                    evidence.image,
                    evidence.location
                );
            }
            for (i, layer) in evidence.layers.iter().enumerate() {
                let line = serde_json::json!({
                    "Base64Signature": layer.layer.annotations.get(SIGNATURE_ANNOTATION).cloned().unwrap_or_default(),
                    "Payload": STANDARD.encode(content(&evidence, i)?),
                    "Cert": null,
                    "Chain": null,
                    "Bundle": null,
                    "RFC3161Timestamp": null,
                });
                writeln!(out, "{line}")?;
            }
        }
        DownloadCommand::Attestation(args) => {
            let wanted = args
                .predicate_type
                .as_deref()
                .map(PredicateType::from_name)
                .transpose()?;
            let evidence = gather(&args.registry, &args.image, Attachment::Attestation).await?;
            for (i, layer) in evidence.layers.iter().enumerate() {
                let layer_type = layer.layer.annotations.get(PREDICATE_TYPE_ANNOTATION);
                if let Some(wanted) = &wanted
                    && layer_type.map(String::as_str) != Some(wanted.uri())
                {
                    continue;
                }
                out.write_all(content(&evidence, i)?)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn tree(args: &TreeArgs) -> anyhow::Result<ExitCode> {
    let image = parse_image(&args.image)?;
    let client = OciClient::new(settings::client_options(
        &args.registry,
        settings::limits()?,
    ));
    let repository = settings::signature_repository()?;
    println!(
        "📦 Supply Chain Security Related artifacts for an image: {}",
        args.image
    );
    let sections = attached(&client, &image, repository.as_ref()).await?;
    print_sections("", &sections);
    let platforms = crate::platforms::platform_manifests(&client, &image).await?;
    if sections.is_empty() && platforms.is_none() {
        println!(
            "No Supply Chain Security Related Artifacts found for image {}",
            args.image
        );
    }
    if let Some((root, platforms)) = platforms {
        println!(
            "🖥️  Platforms of the image index {root} ({}):",
            platforms.len()
        );
        for (i, (manifest, label)) in platforms.iter().enumerate() {
            let last = i + 1 == platforms.len();
            println!("{} {label}: {manifest}", if last { "└──" } else { "├──" });
            let prefix = if last { "    " } else { "│   " };
            let sections = attached(&client, manifest, repository.as_ref()).await?;
            if sections.is_empty() {
                println!("{prefix}└── (nothing attached)");
            }
            print_sections(prefix, &sections);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The artifact type of a Notary Project signature referrer.
const NOTARY_SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";

/// What [`tree`] prints for one image: a title and its leaves, grouped (attestations by
/// predicate type) or not.
struct Section {
    title: String,
    groups: Vec<(Option<String>, Vec<String>)>,
}

/// Everything attached to `image`: Cosign's attestation, signature and SBOM tags, then its
/// OCI 1.1 referrers grouped by predicate type (Sigstore bundles) or artifact type.
async fn attached(
    client: &OciClient,
    image: &ImageReference,
    repository: Option<&signet_core::reference::Repository>,
) -> anyhow::Result<Vec<Section>> {
    let mut sections = Vec::new();
    for (kind, title) in [
        (Attachment::Attestation, "💾 Attestations"),
        (Attachment::Signature, "🔐 Signatures"),
        (Attachment::Sbom, "📦 SBOMs"),
    ] {
        let evidence = gather_attachments(client, image, kind, repository).await?;
        if evidence.layers.is_empty() {
            continue;
        }
        let title = format!("{title} for an image tag: {}", evidence.location);
        let groups = if kind == Attachment::Attestation {
            let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for layer in &evidence.layers {
                let predicate_type = layer
                    .layer
                    .annotations
                    .get(PREDICATE_TYPE_ANNOTATION)
                    .cloned()
                    .unwrap_or_else(|| "(no predicateType annotation)".to_owned());
                by_type
                    .entry(predicate_type)
                    .or_default()
                    .push(layer.layer.digest.to_string());
            }
            by_type.into_iter().map(|(t, d)| (Some(t), d)).collect()
        } else {
            vec![(
                None,
                evidence
                    .layers
                    .iter()
                    .map(|l| l.layer.digest.to_string())
                    .collect(),
            )]
        };
        sections.push(Section { title, groups });
    }
    let notation =
        signet_verify::notation::gather_notation_signatures(client, image, repository).await?;
    if !notation.signatures.is_empty() {
        sections.push(Section {
            title: format!("🖋 Notary Project signatures at {}", notation.source),
            groups: vec![(
                None,
                notation
                    .signatures
                    .iter()
                    .map(|signature| {
                        let format = match &signature.content {
                            Ok((media_type, _)) => media_type.clone(),
                            Err(why) => format!("unreadable: {why}"),
                        };
                        format!("{} ({format})", signature.manifest)
                    })
                    .collect(),
            )],
        });
    }
    // Every other referrer (Notary Project signatures are listed above).
    for referrer in crate::platforms::referrers(client, image, repository)
        .await?
        .into_iter()
        .filter(|r| r.kind != NOTARY_SIGNATURE_ARTIFACT_TYPE)
    {
        sections.push(Section {
            title: format!(
                "🔗 {} artifacts via OCI referrer: {}",
                referrer.kind, referrer.location
            ),
            groups: vec![(None, referrer.layers)],
        });
    }
    Ok(sections)
}

fn print_sections(prefix: &str, sections: &[Section]) {
    for section in sections {
        println!("{prefix}└── {}", section.title);
        let grouped = section.groups.iter().any(|(name, _)| name.is_some());
        for (g, (name, leaves)) in section.groups.iter().enumerate() {
            let last_group = g + 1 == section.groups.len();
            let indent = match (grouped, last_group) {
                (false, _) => "",
                (true, true) => "    ",
                (true, false) => "│   ",
            };
            if let Some(name) = name {
                println!(
                    "{prefix}   {} {name}",
                    if last_group { "└──" } else { "├──" }
                );
            }
            for (d, leaf) in leaves.iter().enumerate() {
                let branch = if d + 1 == leaves.len() {
                    "└──"
                } else {
                    "├──"
                };
                println!("{prefix}   {indent}{branch} 🍒 {leaf}");
            }
        }
    }
}
