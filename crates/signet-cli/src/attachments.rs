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
    let mut found = false;
    for (kind, title) in [
        (Attachment::Attestation, "💾 Attestations"),
        (Attachment::Signature, "🔐 Signatures"),
        (Attachment::Sbom, "📦 SBOMs"),
    ] {
        let evidence = gather_attachments(&client, &image, kind, repository.as_ref()).await?;
        if evidence.layers.is_empty() {
            continue;
        }
        found = true;
        println!("└── {title} for an image tag: {}", evidence.location);
        if kind == Attachment::Attestation {
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
            let types = by_type.len();
            for (t, (predicate_type, digests)) in by_type.iter().enumerate() {
                let last_type = t + 1 == types;
                println!(
                    "   {} {predicate_type}",
                    if last_type { "└──" } else { "├──" }
                );
                for (d, digest) in digests.iter().enumerate() {
                    let branch = if d + 1 == digests.len() {
                        "└──"
                    } else {
                        "├──"
                    };
                    let indent = if last_type { "    " } else { "│   " };
                    println!("   {indent}{branch} 🍒 {digest}");
                }
            }
        } else {
            for (i, layer) in evidence.layers.iter().enumerate() {
                let branch = if i + 1 == evidence.layers.len() {
                    "└──"
                } else {
                    "├──"
                };
                println!("   {branch} 🍒 {}", layer.layer.digest);
            }
        }
    }
    if !found {
        println!(
            "No Supply Chain Security Related Artifacts found for image {}",
            args.image
        );
    }
    Ok(ExitCode::SUCCESS)
}
