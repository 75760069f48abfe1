//! copy, save, load: moving signed images between registries and OCI layouts.

use std::process::ExitCode;

use anyhow::Context;
use signet_core::cosign::Attachment;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_oci::copy::{CopyReport, Overwrite, Selection, copy_image};
use signet_oci::save::{load_image, save_image};

use crate::args::{CopyArgs, CopyOnly, LoadArgs, SaveArgs};
use crate::settings;

fn parse(text: &str) -> anyhow::Result<ImageReference> {
    text.parse()
        .with_context(|| format!("parsing image reference {text:?}"))
}

fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    }
}

/// Adds the hint a library error cannot give: the flag that allows what was refused.
fn with_hint(error: signet_oci::Error) -> anyhow::Error {
    let hint = matches!(error, signet_oci::Error::Conflict { .. });
    let error = anyhow::Error::from(error);
    if hint {
        error.context("refused: pass --force to move the tag")
    } else {
        error
    }
}

pub(crate) async fn copy(args: &CopyArgs) -> anyhow::Result<ExitCode> {
    let source = parse(&args.source)?;
    let destination = parse(&args.destination)?;
    let client = OciClient::new(settings::client_options(
        &args.registry,
        settings::limits()?,
    ));
    let selection = if args.only.is_empty() {
        Selection::everything()
    } else {
        let kinds: Vec<Attachment> = args
            .only
            .iter()
            .map(|k| match k {
                CopyOnly::Sig => Attachment::Signature,
                CopyOnly::Att => Attachment::Attestation,
                CopyOnly::Sbom => Attachment::Sbom,
            })
            .collect();
        Selection::only(&kinds)
    };
    let report = copy_image(
        &client,
        &source,
        &destination,
        settings::signature_repository()?.as_ref(),
        selection,
        overwrite(args.force),
    )
    .await
    .map_err(with_hint)
    .with_context(|| format!("copying {source} to {destination}"))?;
    print_report(&source.to_string(), &destination.to_string(), &report);
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn save(args: &SaveArgs) -> anyhow::Result<ExitCode> {
    let image = parse(&args.image)?;
    let dir = args.dir.to_string_lossy();
    let client = OciClient::new(settings::client_options(
        &args.registry,
        settings::limits()?,
    ));
    let report = save_image(
        &client,
        &image,
        settings::signature_repository()?.as_ref(),
        &dir,
    )
    .await
    .with_context(|| format!("saving {image} to {dir}"))?;
    eprintln!(
        "Saved {} {} to {dir}: {} blob(s) written ({} bytes), {} already there",
        if report.is_index {
            "image index"
        } else {
            "image"
        },
        report.digest,
        report.copy.blobs_copied,
        report.copy.bytes_copied,
        report.copy.blobs_present,
    );
    for (name, digest) in &report.entries {
        eprintln!("  {name}: {digest}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn load(args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let image = parse(&args.image)?;
    let dir = args.dir.to_string_lossy();
    let client = OciClient::new(settings::client_options(
        &args.registry,
        settings::limits()?,
    ));
    let report = load_image(&client, &dir, &image, overwrite(args.force))
        .await
        .map_err(with_hint)
        .with_context(|| format!("loading {dir} into {image}"))?;
    print_report(&dir, &image.to_string(), &report);
    Ok(ExitCode::SUCCESS)
}

fn print_report(from: &str, to: &str, report: &CopyReport) {
    let digest = report
        .digest
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    eprintln!(
        "Copied {digest} from {from} to {to}: {} manifest(s), {} blob(s) written ({} bytes), {} mounted, {} already there",
        report.manifests,
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_mounted,
        report.blobs_present
    );
    for (kind, count) in &report.attachments {
        eprintln!("  {kind}: {count} tag(s)");
    }
    if report.referrers > 0 {
        eprintln!("  referrers: {}", report.referrers);
    }
    for digest in &report.mislisted_referrers {
        eprintln!(
            "  WARNING: the source lists {digest} as a referrer of a manifest it does not refer to; not copied"
        );
    }
    match &report.tagged {
        Some(location) => eprintln!("  tagged {location}"),
        None => eprintln!("  no tag moved"),
    }
}
