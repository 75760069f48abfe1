//! sign and verify for images.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::keys::PublicKey;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_sign::keyless::{IdentityToken, KeylessSigner};
use signet_sign::{ImageSigner, SignOutcome, sign_image_referrer};
use signet_verify::platform::IndexSignatures;
use signet_verify::{BundlePurpose, ImageReport, ImageVerifier, KeyVerifier, TlogPolicy};

use crate::args::{OutputFormat, SignArgs, VerifyArgs};
use crate::{EXIT_DENIED, EXIT_UNDECIDED, bundles, settings};

pub(crate) fn parse_images(images: &[String]) -> anyhow::Result<Vec<ImageReference>> {
    images
        .iter()
        .map(|i| {
            i.parse()
                .with_context(|| format!("parsing image reference {i:?}"))
        })
        .collect()
}

pub(crate) async fn sign(args: &SignArgs) -> anyhow::Result<ExitCode> {
    let images = parse_images(&args.images)?;
    let annotations = settings::annotations(&args.annotations)?;
    let limits = settings::limits()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let images = crate::platforms::expand(&client, &images, args.recursive).await?;
    let key;
    let rekor;
    let keyless;
    anyhow::ensure!(
        !(args.new_bundle_format && args.key.is_some()),
        "--new-bundle-format is implemented for keyless signing; with --key signet writes the legacy format (drop --new-bundle-format)"
    );
    let signer = match &args.key {
        Some(key_path) => {
            key = settings::load_private_key(key_path, &limits)?;
            let signer = ImageSigner::new(&client, &key);
            if args.tlog_upload {
                rekor = crate::keyless::rekor_uploader(&args.keyless)?;
                signer.with_transparency_log(&rekor)
            } else {
                signer
            }
        }
        None if crate::keyless::requested(&args.keyless, false) => {
            anyhow::ensure!(
                args.tlog_upload,
                "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
            );
            keyless = crate::keyless::image_signer(&args.keyless)?;
            if args.new_bundle_format {
                return sign_referrers(&client, &images, &keyless.1, &keyless.0, &annotations)
                    .await;
            }
            ImageSigner::keyless(&client, &keyless.1, &keyless.0)
        }
        None => anyhow::bail!(
            "sign with --key FILE, or keylessly with --identity-token TOKEN (or SIGSTORE_ID_TOKEN)"
        ),
    };
    let signer = signer
        .with_annotations(annotations)
        .with_signature_repository(settings::signature_repository()?);
    let mut failed = false;
    for (image, result) in images.iter().zip(signer.sign_all(&images).await) {
        match result {
            Ok(signed) => {
                if signed.resolved_from_tag {
                    eprintln!(
                        "WARNING: {image} names a tag, not a digest; signed {}@{}, what the tag pointed to just now. Sign by digest to be sure of what you sign.",
                        signed.repository, signed.digest
                    );
                }
                match signed.outcome {
                    SignOutcome::Appended => eprintln!(
                        "Pushing signature to: {} ({} signature(s))",
                        signed.signature_location, signed.signature_count
                    ),
                    SignOutcome::AlreadySigned => eprintln!(
                        "{}@{} is already signed by this key with the same payload; nothing pushed",
                        signed.repository, signed.digest
                    ),
                }
            }
            Err(error) => {
                failed = true;
                eprintln!("Error: signing {image}: {:#}", anyhow::Error::from(error));
            }
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `sign --identity-token … --new-bundle-format`: one referrer bundle per image.
async fn sign_referrers(
    client: &OciClient,
    images: &[ImageReference],
    signer: &KeylessSigner,
    token: &IdentityToken,
    annotations: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let repository = settings::signature_repository()?;
    let mut failed = false;
    for image in images {
        match sign_image_referrer(
            client,
            image,
            signer,
            token,
            annotations,
            repository.as_ref(),
        )
        .await
        {
            Ok(signed) => {
                if signed.resolved_from_tag {
                    eprintln!(
                        "WARNING: {image} names a tag, not a digest; signed {}@{}, what the tag pointed to just now. Sign by digest to be sure of what you sign.",
                        signed.repository, signed.digest
                    );
                }
                eprintln!(
                    "Signed {}@{} as {} (issuer {}); bundle {} listed at {}",
                    signed.repository,
                    signed.digest,
                    signed.identity,
                    signed.issuer,
                    signed.referrer,
                    signed.location
                );
            }
            Err(error) => {
                failed = true;
                eprintln!("Error: signing {image}: {:#}", anyhow::Error::from(error));
            }
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    if args.key.is_none() && !args.certificate.has_identity() {
        return crate::policy::verify(args).await;
    }
    if args.policy.is_some() {
        anyhow::bail!("--policy cannot be combined with --certificate-identity");
    }
    let images = match parse_images(&args.images) {
        Ok(images) => images,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return Ok(ExitCode::from(EXIT_UNDECIDED));
        }
    };
    let annotations = settings::annotations(&args.annotations)?;
    let limits = settings::limits()?;
    let index_signatures =
        crate::platforms::index_signatures(args.accept_index_signature.as_deref())?;
    let key = match &args.key {
        Some(key_path) => {
            let key_bytes =
                settings::read_bounded(key_path, limits.max_key_file_bytes, "public key")?;
            Some(
                PublicKey::parse(&key_bytes)
                    .with_context(|| format!("loading the public key {}", key_path.display()))?,
            )
        }
        None => None,
    };
    let bundle_settings = bundles::settings(&args.certificate, key.as_ref())?;
    let tlog = if args.insecure_ignore_tlog {
        TlogPolicy::InsecureIgnore
    } else {
        TlogPolicy::Require
    };
    let repository = settings::signature_repository()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));

    // The legacy format (`.sig`): with a key (its Rekor entries checked against the trusted
    // root when one is given), or keylessly with an identity and the trusted root.
    let key = key.map(
        |key| match settings::hash(args.signature_digest_algorithm) {
            Some(h) => KeyVerifier::with_hash(key, h),
            None => KeyVerifier::new(key),
        },
    );
    let verifier = match (&key, &bundle_settings) {
        (Some(key), Some(s)) => ImageVerifier::new(&client, key).with_trusted_root(s.verifier()),
        (Some(key), None) => ImageVerifier::new(&client, key),
        (None, Some(s)) => ImageVerifier::keyless(&client, s.verifier(), s.policy()),
        (None, None) => anyhow::bail!("verify needs --key, --certificate-identity or --policy"),
    };
    let verifier = verifier
        .with_annotations(annotations)
        .with_tlog(tlog)
        .with_signature_repository(repository.clone());
    let legacy: Vec<_> = verifier
        .verify_all(&images)
        .await
        .into_iter()
        .map(Some)
        .collect();

    let mut denied = false;
    let mut undecided = false;
    let mut payloads = Vec::new();
    let mut bundle_lines = Vec::new();
    for (image, legacy) in images.iter().zip(legacy) {
        // Cosign v3's format (referrer bundles), with an identity or a key and trusted root.
        let bundle_result = match &bundle_settings {
            Some(s) => Some(
                bundles::verify(
                    &client,
                    image,
                    repository.as_ref(),
                    s,
                    &BundlePurpose::Signature,
                )
                .await,
            ),
            None => None,
        };
        let legacy_verified = matches!(&legacy, Some(Ok(r)) if r.is_verified());
        let bundle_verified = matches!(&bundle_result, Some(Ok(r)) if r.is_verified());
        if let Some(Ok(report)) = &legacy
            && report.is_verified()
        {
            print_checks(image, report, tlog, key.is_none());
            collect_payloads(report, args.output, &mut payloads);
        }
        if let (Some(Ok(report)), Some(s)) = (&bundle_result, &bundle_settings)
            && report.is_verified()
        {
            bundles::print_checks(report, s);
            bundles::print_verified(report, args.output, &mut bundle_lines)?;
        }
        if legacy_verified || bundle_verified {
            continue;
        }
        if let IndexSignatures::Accept(source) = &index_signatures {
            use crate::platforms::ThroughIndex;
            match crate::platforms::through_index(
                &client,
                image,
                source,
                &verifier,
                bundle_settings.as_ref(),
                repository.as_ref(),
            )
            .await
            {
                ThroughIndex::Verified {
                    link,
                    legacy,
                    bundles: index_bundles,
                } => {
                    eprintln!(
                        "
{image} is not signed itself; it is {link}, which is:"
                    );
                    if let Some(report) = &legacy {
                        print_checks(link.index(), report, tlog, key.is_none());
                        collect_payloads(report, args.output, &mut payloads);
                    }
                    if let (Some(report), Some(s)) = (&index_bundles, &bundle_settings) {
                        bundles::print_checks(report, s);
                        bundles::print_verified(report, args.output, &mut bundle_lines)?;
                    }
                    continue;
                }
                ThroughIndex::Denied(why) => {
                    eprintln!("Error: {image} is not accepted through an image index: {why}");
                }
                ThroughIndex::Undecided(e) => {
                    eprintln!("Error: could not verify {image} through an image index: {e:#}");
                    undecided = true;
                }
            }
        }
        if explain_failure(image, legacy, print_denial, bundle_result) {
            undecided = true;
        } else {
            denied = true;
        }
    }
    match args.output {
        OutputFormat::Json if !payloads.is_empty() => {
            println!("{}", serde_json::Value::Array(payloads));
        }
        _ => {}
    }
    std::io::stdout().lock().write_all(&bundle_lines)?;
    Ok(if undecided {
        ExitCode::from(EXIT_UNDECIDED)
    } else if denied {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_checks(image: &ImageReference, report: &ImageReport, tlog: TlogPolicy, keyless: bool) {
    eprintln!("\nVerification for {image} --");
    eprintln!("The following checks were performed on each of these signatures:");
    eprintln!("  - The cosign claims were validated");
    if keyless || tlog == TlogPolicy::Require {
        eprintln!("  - Existence of the claims in the transparency log was verified offline");
    } else {
        eprintln!(
            "  - Existence of the claims in the transparency log was NOT checked (--insecure-ignore-tlog)"
        );
    }
    if keyless {
        eprintln!(
            "  - The code-signing certificate was verified using trusted certificate authority certificates"
        );
        for signature in report.verified() {
            eprintln!(
                "  - Signature {} was made by {} (issuer {})",
                signature.index() + 1,
                signature.identity().unwrap_or("?"),
                signature.issuer().unwrap_or("?")
            );
        }
    } else {
        eprintln!("  - The signatures were verified against the specified public key");
    }
    if !report.rejected().is_empty() {
        eprintln!(
            "  ({} other signature(s) did not verify and were ignored)",
            report.rejected().len()
        );
    }
}

/// Says why neither the legacy format nor the referrer bundles verified `image`, and whether
/// that was a failure to find out (true: undecided) rather than a denial (false).
pub(crate) fn explain_failure<R>(
    image: &ImageReference,
    legacy: Option<Result<R, signet_verify::Error>>,
    print_legacy_denial: impl Fn(&R),
    bundle_result: Option<Result<signet_verify::ReferrerReport, signet_verify::Error>>,
) -> bool {
    let mut failed_to_run = false;
    match legacy {
        Some(Ok(report)) => print_legacy_denial(&report),
        Some(Err(error)) => {
            failed_to_run = true;
            eprintln!(
                "Error: could not verify {image}: {:#}",
                anyhow::Error::from(error)
            );
        }
        None => {}
    }
    match bundle_result {
        Some(Ok(report)) => bundles::print_denial(&report),
        Some(Err(error)) => {
            failed_to_run = true;
            eprintln!(
                "Error: could not read the Sigstore bundles of {image}: {:#}",
                anyhow::Error::from(error)
            );
        }
        None => {}
    }
    failed_to_run
}

fn print_denial(report: &ImageReport) {
    print_rejections(
        &report.summary(),
        report.rejected(),
        report.skipped_layers(),
        "signature",
    );
}

/// Why an image was denied: the summary, each rejected signature or attestation with the
/// check it failed, and how many were not looked at.
pub(crate) fn print_rejections(
    summary: &str,
    rejected: &[impl std::fmt::Display],
    skipped: usize,
    noun: &str,
) {
    eprintln!("Error: {summary}");
    for r in rejected {
        eprintln!("  {r}");
    }
    if skipped > 0 {
        eprintln!("  {skipped} further {noun}(s) were not considered (over the per-image limit)");
    }
}

fn collect_payloads(report: &ImageReport, format: OutputFormat, out: &mut Vec<serde_json::Value>) {
    for signature in report.verified() {
        let claims = signature.claims();
        match format {
            OutputFormat::Json => {
                // Cosign adds the certificate's subject and issuer to a keyless signature's
                // optional section.
                let mut optional = claims.optional.clone();
                if let (Some(identity), Some(issuer)) = (signature.identity(), signature.issuer()) {
                    let map = optional.get_or_insert_with(Default::default);
                    map.insert("Subject".to_owned(), identity.into());
                    map.insert("Issuer".to_owned(), issuer.into());
                }
                out.push(serde_json::json!({
                    "critical": {
                        "identity": {"docker-reference": claims.critical.identity.docker_reference},
                        "image": {"docker-manifest-digest": claims.critical.image.docker_manifest_digest},
                        "type": claims.critical.kind,
                    },
                    "optional": optional,
                }))
            }
            OutputFormat::Text => println!(
                "{} signed as {} (signature {}, layer {})",
                report.image(),
                claims.critical.identity.docker_reference,
                signature.index() + 1,
                signature.layer_digest()
            ),
        }
    }
}
