//! attest, attest-blob, verify-attestation, verify-blob-attestation.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use signet_core::digest::{DigestAlgorithm, digest_reader};
use signet_core::intoto::PredicateType;
use signet_core::keys::PublicKey;
use signet_oci::OciClient;
use signet_sign::ImageAttester;
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_verify::{AttestationVerifier, BundlePurpose, KeyVerifier, TlogPolicy};

use crate::args::{
    AttestArgs, AttestBlobArgs, OutputFormat, VerifyAttestationArgs, VerifyBlobAttestationArgs,
};
use crate::{EXIT_DENIED, EXIT_UNDECIDED, bundles, settings};

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Reads the predicate (file or stdin) up to `limit` bytes.
fn read_predicate(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(path)
                .with_context(|| format!("opening the predicate {}", path.display()))?,
        )
    };
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading the predicate {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!(
            "the predicate {} is larger than {limit} bytes (raise COSIGN_MAX_ATTACHMENT_SIZE to allow it)",
            path.display()
        );
    }
    Ok(bytes)
}

fn load_verifier(
    key: &Path,
    hash: Option<crate::args::HashName>,
    limits: &signet_core::limits::Limits,
) -> anyhow::Result<KeyVerifier> {
    let bytes = settings::read_bounded(key, limits.max_key_file_bytes, "public key")?;
    let public = PublicKey::parse(&bytes)
        .with_context(|| format!("loading the public key {}", key.display()))?;
    Ok(match settings::hash(hash) {
        Some(h) => KeyVerifier::with_hash(public, h),
        None => KeyVerifier::new(public),
    })
}

pub(crate) async fn attest(args: &AttestArgs) -> anyhow::Result<ExitCode> {
    settings::require_no_tlog_upload(args.tlog_upload)?;
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let image = args
        .image
        .parse()
        .with_context(|| format!("parsing image reference {:?}", args.image))?;
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let key = settings::load_private_key(&args.key, &limits)?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let attester = ImageAttester::new(&client, &key)
        .replacing(args.replace)
        .with_attachment_repository(settings::signature_repository()?);
    let attested = attester
        .attest(&image, &predicate_type, predicate, now_unix())
        .await
        .with_context(|| format!("attesting {}", args.image))?;
    if attested.resolved_from_tag {
        eprintln!(
            "WARNING: {} names a tag, not a digest; attested {}@{}, what the tag pointed to just now.",
            args.image, attested.repository, attested.digest
        );
    }
    eprintln!(
        "Pushing attestation ({}) to: {} ({} attestation(s))",
        predicate_type.uri(),
        attested.location,
        attested.attestation_count
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn attest_blob(args: &AttestBlobArgs) -> anyhow::Result<ExitCode> {
    settings::require_no_tlog_upload(args.tlog_upload)?;
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let key = settings::load_private_key(&args.key, &limits)?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let envelope = signet_sign::attest_blob(
        &key,
        std::io::BufReader::with_capacity(1 << 20, file),
        &name,
        &predicate_type,
        predicate,
        now_unix(),
    )?;
    match &args.output_attestation {
        Some(path) => {
            write_key_file(path, &envelope, 0o644, Overwrite::Replace)?;
            eprintln!("Wrote attestation to file {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&envelope)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn verify_attestation(args: &VerifyAttestationArgs) -> anyhow::Result<ExitCode> {
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let images = match args
        .images
        .iter()
        .map(|i| {
            i.parse()
                .with_context(|| format!("parsing image reference {i:?}"))
        })
        .collect::<anyhow::Result<Vec<signet_core::reference::ImageReference>>>()
    {
        Ok(images) => images,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return Ok(ExitCode::from(EXIT_UNDECIDED));
        }
    };
    let limits = settings::limits()?;
    let public = match &args.key {
        Some(path) => {
            let bytes = settings::read_bounded(path, limits.max_key_file_bytes, "public key")?;
            Some(
                PublicKey::parse(&bytes)
                    .with_context(|| format!("loading the public key {}", path.display()))?,
            )
        }
        None => None,
    };
    let bundle_settings = bundles::settings(&args.certificate, public.as_ref())?;
    let purpose = BundlePurpose::Attestation(predicate_type.uri().to_owned());
    let tlog = if args.insecure_ignore_tlog {
        TlogPolicy::InsecureIgnore
    } else {
        TlogPolicy::Require
    };
    let repository = settings::signature_repository()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    // The legacy format (`.att`), with a key only.
    let legacy = match public {
        Some(public) => {
            let key = match settings::hash(args.signature_digest_algorithm) {
                Some(h) => KeyVerifier::with_hash(public, h),
                None => KeyVerifier::new(public),
            };
            let verifier = AttestationVerifier::new(&client, &key)
                .with_predicate_type(Some(predicate_type.uri().to_owned()))
                .with_tlog(tlog)
                .with_attachment_repository(repository.clone());
            verifier
                .verify_all(&images)
                .await
                .into_iter()
                .map(Some)
                .collect()
        }
        None => images.iter().map(|_| None).collect::<Vec<_>>(),
    };
    let (mut denied, mut undecided) = (false, false);
    let mut out = std::io::stdout().lock();
    for (image, legacy) in images.iter().zip(legacy) {
        // Cosign v3's format (referrer bundles).
        let bundle_result = match &bundle_settings {
            Some(s) => {
                Some(bundles::verify(&client, image, repository.as_ref(), s, &purpose).await)
            }
            None => None,
        };
        let legacy_verified = matches!(&legacy, Some(Ok(r)) if r.is_verified());
        let bundle_verified = matches!(&bundle_result, Some(Ok(r)) if r.is_verified());
        if let Some(Ok(report)) = &legacy
            && report.is_verified()
        {
            eprintln!("\nVerification for {image} --");
            eprintln!("The following checks were performed on each of these attestations:");
            eprintln!(
                "  - The signature over the DSSE envelope was verified against the specified public key"
            );
            eprintln!("  - A subject of the in-toto statement is the image's digest");
            eprintln!("  - The predicate type is {}", predicate_type.uri());
            if tlog == TlogPolicy::InsecureIgnore {
                eprintln!(
                    "  - Existence in the transparency log was NOT checked (--insecure-ignore-tlog)"
                );
            }
            for attestation in report.verified() {
                match args.output {
                    OutputFormat::Json => {
                        out.write_all(attestation.envelope())?;
                        out.write_all(b"\n")?;
                    }
                    OutputFormat::Text => writeln!(
                        out,
                        "{} attested {} (attestation {})",
                        report.image(),
                        attestation.predicate_type(),
                        attestation.index() + 1
                    )?,
                }
            }
        }
        if let (Some(Ok(report)), Some(s)) = (&bundle_result, &bundle_settings)
            && report.is_verified()
        {
            bundles::print_checks(report, s);
            eprintln!("  - The predicate type is {}", predicate_type.uri());
            bundles::print_verified(report, args.output, &mut out)?;
        }
        if legacy_verified || bundle_verified {
            continue;
        }
        let print_legacy_denial = |report: &signet_verify::AttestationReport| {
            crate::image::print_rejections(
                &report.summary(),
                report.rejected(),
                report.skipped_layers(),
                "attestation",
            )
        };
        if crate::image::explain_failure(image, legacy, print_legacy_denial, bundle_result) {
            undecided = true;
        } else {
            denied = true;
        }
    }
    Ok(if undecided {
        ExitCode::from(EXIT_UNDECIDED)
    } else if denied {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn verify_blob_attestation(
    args: &VerifyBlobAttestationArgs,
) -> anyhow::Result<ExitCode> {
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let limits = settings::limits()?;
    let key = load_verifier(&args.key, args.signature_digest_algorithm, &limits)?;
    let envelope =
        settings::read_bounded(&args.signature, limits.max_attachment_bytes, "attestation")?;
    let hex = match (&args.digest, &args.file) {
        (Some(hex), _) => {
            if args.digest_alg != "sha256" {
                bail!(
                    "--digestAlg {} is not supported; subjects are matched by sha256",
                    args.digest_alg
                );
            }
            let valid =
                hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !valid {
                bail!("--digest must be 64 lowercase hex characters (a sha256)");
            }
            hex.clone()
        }
        (None, Some(path)) => {
            let file =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let digest = digest_reader(
                std::io::BufReader::with_capacity(1 << 20, file),
                &[DigestAlgorithm::Sha256],
            )
            .with_context(|| format!("reading {}", path.display()))?;
            digest
                .first()
                .map(|d| d.as_bytes().iter().map(|b| format!("{b:02x}")).collect())
                .unwrap_or_default()
        }
        (None, None) => bail!("give the file the attestation is about, or --digest"),
    };
    if !args.insecure_ignore_tlog {
        eprintln!(
            "Error: no transparency-log entry was given and signet cannot verify one yet; pass --insecure-ignore-tlog=true to verify the attestation with the key alone"
        );
        return Ok(ExitCode::from(EXIT_DENIED));
    }
    match signet_verify::verify_blob_attestation(&envelope, &key, &hex, Some(predicate_type.uri()))
    {
        Ok(_) => {
            eprintln!("Verified OK");
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!("Error: {}: {failure}", args.signature.display());
            Ok(ExitCode::from(EXIT_DENIED))
        }
    }
}
