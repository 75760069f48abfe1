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
use signet_verify::bundle::{ArtifactDigests, BundleLimits, BundlePolicy, BundleVerifier};
use signet_verify::policy::provenance::{ProvenanceRequirement, SLSA_PROVENANCE_TYPES};
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
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let image = args
        .image
        .parse()
        .with_context(|| format!("parsing image reference {:?}", args.image))?;
    let limits = settings::limits()?;
    let Some(key_path) = &args.key else {
        if crate::keyless::requested(&args.keyless, false) {
            return attest_keyless(args, &image, &predicate_type).await;
        }
        bail!(
            "attest needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to attest keylessly"
        );
    };
    anyhow::ensure!(
        !args.new_bundle_format,
        "--new-bundle-format is implemented for keyless attestations; with --key signet writes the legacy format (drop --new-bundle-format)"
    );
    let rekor = if args.tlog_upload {
        Some(crate::keyless::rekor_uploader(&args.keyless)?)
    } else {
        None
    };
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let key = settings::load_private_key(key_path, &limits)?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let attester = ImageAttester::new(&client, &key);
    let attester = match &rekor {
        Some(log) => attester.with_transparency_log(log),
        None => attester,
    };
    append_attestation(attester, args, &image, &predicate_type, predicate).await
}

/// Appends the attestation to the image's `sha256-<hex>.att` (Cosign's legacy format, with a
/// key or keylessly) and says where it went.
async fn append_attestation(
    attester: ImageAttester<'_>,
    args: &AttestArgs,
    image: &signet_core::reference::ImageReference,
    predicate_type: &PredicateType,
    predicate: Vec<u8>,
) -> anyhow::Result<ExitCode> {
    let attested = attester
        .replacing(args.replace)
        .with_attachment_repository(settings::signature_repository()?)
        .attest(image, predicate_type, predicate, now_unix())
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
    let Some(key_path) = &args.key else {
        if crate::keyless::requested(&args.keyless, false) {
            return attest_blob_keyless(args);
        }
        bail!(
            "attest-blob needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to attest keylessly"
        );
    };
    settings::require_no_tlog_upload(args.tlog_upload)?;
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let key = settings::load_private_key(key_path, &limits)?;
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

/// `attest --identity-token T … IMAGE`: the statement about the image signed keylessly into
/// a DSSE bundle and pushed as a referrer of the image, as Cosign v3 attests.
async fn attest_keyless(
    args: &AttestArgs,
    image: &signet_core::reference::ImageReference,
    predicate_type: &PredicateType,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.tlog_upload,
        "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
    );
    anyhow::ensure!(
        !(args.replace && args.new_bundle_format),
        "--replace is not supported with --new-bundle-format (referrers are never removed)"
    );
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let (token, signer) = crate::keyless::image_signer(&args.keyless)?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    if !args.new_bundle_format {
        // Cosign's legacy format: the envelope appended to sha256-<hex>.att, its certificate
        // and log entry in the layer's annotations.
        let attester = ImageAttester::keyless(&client, &signer, &token);
        return append_attestation(attester, args, image, predicate_type, predicate).await;
    }
    let shaped = predicate_type.shape_predicate(predicate, now_unix())?;
    let attested = signet_sign::push_referrer_bundle(
        &client,
        image,
        &signer,
        &token,
        predicate_type.uri(),
        |repository, digest| {
            Ok(signet_core::intoto::build_statement(
                repository,
                digest.hex(),
                predicate_type.uri(),
                &shaped,
            ))
        },
        settings::signature_repository()?.as_ref(),
    )
    .await
    .with_context(|| format!("attesting {}", args.image))?;
    if attested.resolved_from_tag {
        eprintln!(
            "WARNING: {} names a tag, not a digest; attested {}@{}, what the tag pointed to just now.",
            args.image, attested.repository, attested.digest
        );
    }
    eprintln!(
        "Attested {}@{} ({}) as {} (issuer {}); bundle {} listed at {}",
        attested.repository,
        attested.digest,
        predicate_type.uri(),
        attested.identity,
        attested.issuer,
        attested.referrer,
        attested.location
    );
    Ok(ExitCode::SUCCESS)
}

/// `attest-blob --identity-token T … --bundle OUT FILE`: the statement signed keylessly into
/// a Sigstore bundle v0.3, verified for the file's digest before it is written.
fn attest_blob_keyless(args: &AttestBlobArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.tlog_upload,
        "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
    );
    let bundle_path = args
        .bundle
        .as_deref()
        .context("keyless attestations are written as a Sigstore bundle: pass --bundle FILE")?;
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let (token, signer) = crate::keyless::image_signer(&args.keyless)?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let (statement, digest) = signet_sign::blob_statement(
        std::io::BufReader::with_capacity(1 << 20, file),
        &name,
        &predicate_type,
        predicate,
        now_unix(),
    )?;
    let signed = crate::runtime()?
        .block_on(signer.sign_statement(&token, &statement, &digest))
        .with_context(|| format!("attesting {} keylessly", args.file.display()))?;
    write_key_file(bundle_path, signed.bundle_json(), 0o644, Overwrite::Replace)?;
    eprintln!(
        "Attested {} ({}) as {} (issuer {}); wrote bundle to file {}",
        args.file.display(),
        digest,
        signed.identity(),
        signed.issuer(),
        bundle_path.display()
    );
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
    // The legacy format (`.att`): with a key (its Rekor entries checked against the trusted
    // root when one is given), or keylessly with an identity and the trusted root.
    let key = public.map(
        |public| match settings::hash(args.signature_digest_algorithm) {
            Some(h) => KeyVerifier::with_hash(public, h),
            None => KeyVerifier::new(public),
        },
    );
    let verifier = match (&key, &bundle_settings) {
        (Some(key), Some(s)) => {
            AttestationVerifier::new(&client, key).with_trusted_root(s.verifier())
        }
        (Some(key), None) => AttestationVerifier::new(&client, key),
        (None, Some(s)) => AttestationVerifier::keyless(&client, s.verifier(), s.policy()),
        (None, None) => bail!("verify-attestation needs --key or --certificate-identity"),
    };
    let legacy: Vec<_> = verifier
        .with_predicate_type(Some(predicate_type.uri().to_owned()))
        .with_tlog(tlog)
        .with_attachment_repository(repository.clone())
        .verify_all(&images)
        .await
        .into_iter()
        .map(Some)
        .collect();
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
            if key.is_some() {
                eprintln!(
                    "  - The signature over the DSSE envelope was verified against the specified public key"
                );
            } else {
                eprintln!(
                    "  - The code-signing certificate was verified using trusted certificate authority certificates, and the signature over the DSSE envelope with it"
                );
            }
            eprintln!("  - A subject of the in-toto statement is the image's digest");
            eprintln!("  - The predicate type is {}", predicate_type.uri());
            if key.is_some() && tlog == TlogPolicy::InsecureIgnore {
                eprintln!(
                    "  - Existence in the transparency log was NOT checked (--insecure-ignore-tlog)"
                );
            } else {
                eprintln!("  - Existence in the transparency log was verified offline");
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
    if let Some(bundle) = &args.bundle {
        return verify_blob_attestation_bundle(args, bundle);
    }
    let predicate_type =
        PredicateType::from_name(args.predicate_type.as_deref().unwrap_or("custom"))?;
    let limits = settings::limits()?;
    let hex = match (&args.digest, &args.file) {
        (Some(hex), _) => {
            if args.digest_alg != crate::args::HashName::Sha256 {
                bail!(
                    "--digestAlg sha384 and sha512 need --bundle; an envelope's subjects are matched by sha256"
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
    let (Some(key_path), Some(signature)) = (&args.key, &args.signature) else {
        bail!("verify-blob-attestation needs --key with --signature, or --bundle");
    };
    let key = load_verifier(key_path, args.signature_digest_algorithm, &limits)?;
    let envelope = settings::read_bounded(signature, limits.max_attachment_bytes, "attestation")?;
    if !args.insecure_ignore_tlog {
        eprintln!(
            "Error: an envelope alone carries no transparency-log entry: verify a Sigstore bundle (--bundle FILE), or pass --insecure-ignore-tlog=true to verify the attestation with the key alone"
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
            eprintln!("Error: {}: {failure}", signature.display());
            Ok(ExitCode::from(EXIT_DENIED))
        }
    }
}

/// `verify-blob-attestation --bundle B (--key K | --certificate-identity …) FILE`: the
/// bundles of B (a bundle, or a file of them as published) verified for the file's digests
/// (sha256, sha384 and sha512 in one pass; a statement must name one as a subject), the first
/// of the predicate type that verifies winning.
fn verify_blob_attestation_bundle(
    args: &VerifyBlobAttestationArgs,
    bundle_path: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let limits = settings::limits()?;
    let provenance = ProvenanceRequirement::default()
        .with_builder_id(args.builder_id.clone())
        .with_source_uri(args.source_uri.clone())
        .with_source_tag(args.source_tag.clone())
        .with_source_branch(args.source_branch.clone());
    let predicate_types: Vec<String> = match &args.predicate_type {
        Some(name) => vec![PredicateType::from_name(name)?.uri().to_owned()],
        None if !provenance.is_empty() => SLSA_PROVENANCE_TYPES
            .iter()
            .map(|t| (*t).to_owned())
            .collect(),
        None => vec![PredicateType::from_name("custom")?.uri().to_owned()],
    };
    let artifact = match (&args.digest, &args.file) {
        (Some(hex), _) => {
            let algorithm =
                settings::hash(Some(args.digest_alg)).unwrap_or(DigestAlgorithm::Sha256);
            let digest: signet_core::digest::Digest = format!("{}:{hex}", algorithm.name())
                .parse()
                .with_context(|| format!("--digest is not a {} in hex", algorithm.name()))?;
            ArtifactDigests::from(digest)
        }
        (None, Some(path)) => {
            let file =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            ArtifactDigests::of_reader(std::io::BufReader::with_capacity(1 << 20, file))
                .with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => bail!("give the file the attestation is about, or --digest"),
    };
    let key = match &args.key {
        Some(path) => {
            let bytes = settings::read_bounded(path, limits.max_key_file_bytes, "public key")?;
            Some(
                signet_core::keys::PublicKey::parse(&bytes)
                    .with_context(|| format!("loading the public key {}", path.display()))?,
            )
        }
        None => None,
    };
    let (verifier, policy) = match crate::bundles::settings(&args.certificate, key.as_ref())? {
        Some(settings) => settings.into_parts(),
        None => {
            // A key without --trusted-root, or only a builder id: the trusted root from
            // --trusted-root or the TUF cache.
            let policy = match (key, provenance.builder_signer()) {
                (Some(key), _) => BundlePolicy::Key(key),
                (None, Some(signer)) => BundlePolicy::Certificate(signer.context("--builder-id")?),
                (None, None) => bail!("give --key, --certificate-identity or --builder-id"),
            };
            let root = settings::trusted_root(args.certificate.trusted_root.as_deref())?;
            let verifier = BundleVerifier::new(&root.bytes, BundleLimits::default())
                .with_context(|| format!("reading the trusted root {}", root.origin))?;
            (verifier, policy)
        }
    };
    let verifier =
        verifier
            .with_sct(args.certificate.sct())
            .with_tlog(if args.insecure_ignore_tlog {
                TlogPolicy::InsecureIgnore
            } else {
                TlogPolicy::Require
            });
    let document = settings::read_bounded(
        bundle_path,
        BundleLimits::default().max_document_bytes,
        "bundle",
    )?;
    let types: Vec<&str> = predicate_types.iter().map(String::as_str).collect();
    let verified = match verifier.verify_document(&document, &artifact, &policy, &types) {
        Ok(verified) => verified,
        Err(failure) => {
            eprintln!(
                "Error: {}: {} [{}]: {}",
                bundle_path.display(),
                failure.check(),
                failure.check().code(),
                crate::bundles::detail(&failure)
            );
            return Ok(ExitCode::from(if failure.check().is_operational() {
                crate::EXIT_UNDECIDED
            } else {
                EXIT_DENIED
            }));
        }
    };
    let bundle = verified.bundle();
    if let (Some(identity), Some(issuer)) = (bundle.identity(), bundle.issuer()) {
        eprintln!("Attested by {identity} (issuer {issuer})");
    }
    if !provenance.is_empty() {
        if let Err(failure) = provenance.check(bundle) {
            eprintln!(
                "Error: {}: {} [{}]: {}",
                bundle_path.display(),
                failure.check(),
                failure.check().code(),
                failure.detail()
            );
            return Ok(ExitCode::from(EXIT_DENIED));
        }
        eprintln!("The SLSA provenance says what was required (builder, source, ref)");
    }
    eprintln!(
        "Verified OK ({} of {})",
        verified.label(),
        bundle_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
