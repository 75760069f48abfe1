//! attest, attest-blob, verify-attestation, verify-blob-attestation.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use signet_core::digest::{Digest, DigestAlgorithm, digest_reader};
use signet_core::intoto::PredicateType;
use signet_oci::OciClient;
use signet_policy::provenance::{
    FileProvenanceFailure, ProvenanceRequirement, SLSA_PROVENANCE_TYPES, check_file_provenance,
};
use signet_sign::ImageAttester;
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_verify::bundle::{ArtifactDigests, BundleLimits};
use signet_verify::{KeyVerifier, Question, Verifier, check_file_attestation};

use crate::args::{AttestArgs, AttestBlobArgs, VerifyAttestationArgs, VerifyBlobAttestationArgs};
use crate::{EXIT_DENIED, output, settings};

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
    let public = crate::runtime()?.block_on(settings::public_key(key, limits))?;
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
        crate::usage_bail!(
            "attest needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to attest keylessly"
        );
    };
    crate::usage_ensure!(
        !args.new_bundle_format,
        "--new-bundle-format is implemented for keyless attestations; with --key signet writes the legacy format (drop --new-bundle-format)"
    );
    let rekor = if args.tlog_upload {
        Some(crate::keyless::rekor_uploader(&args.keyless)?)
    } else {
        None
    };
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let key = settings::signing_key(key_path, &limits).await?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let targets = crate::platforms::expand(&client, &[image], args.recursive).await?;
    let attester = ImageAttester::new(&client, key.as_ref());
    let attester = match &rekor {
        Some(log) => attester.with_transparency_log(log),
        None => attester,
    };
    append_attestation(attester, args, &targets, &predicate_type, predicate).await
}

/// Appends the attestation to each image's `sha256-<hex>.att` (Cosign's legacy format, with a
/// key or keylessly) and says where it went.
async fn append_attestation(
    attester: ImageAttester<'_>,
    args: &AttestArgs,
    images: &[signet_core::reference::ImageReference],
    predicate_type: &PredicateType,
    predicate: Vec<u8>,
) -> anyhow::Result<ExitCode> {
    let attester = attester
        .replacing(args.replace)
        .with_attachment_repository(settings::signature_repository()?);
    for image in images {
        let attested = crate::progress::while_running(
            "Uploading the attestation",
            attester.attest(
                image,
                predicate_type,
                predicate.clone(),
                settings::now_unix(),
            ),
        )
        .await
        .with_context(|| format!("attesting {image}"))?;
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
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn attest_blob(args: &AttestBlobArgs) -> anyhow::Result<ExitCode> {
    let Some(key_path) = &args.key else {
        if crate::keyless::requested(&args.keyless, false) {
            return attest_blob_keyless(args);
        }
        crate::usage_bail!(
            "attest-blob needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to attest keylessly"
        );
    };
    settings::require_no_tlog_upload(args.tlog_upload)?;
    let predicate_type = PredicateType::from_name(&args.predicate_type)?;
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let runtime = crate::runtime()?;
    let key = runtime.block_on(settings::signing_key(key_path, &limits))?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let envelope = runtime.block_on(signet_sign::attest_blob(
        key.as_ref(),
        std::io::BufReader::with_capacity(1 << 20, file),
        &name,
        &predicate_type,
        predicate,
        settings::now_unix(),
    ))?;
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
    crate::usage_ensure!(
        args.tlog_upload,
        "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
    );
    crate::usage_ensure!(
        !(args.replace && args.new_bundle_format),
        "--replace is not supported with --new-bundle-format (referrers are never removed)"
    );
    let limits = settings::limits()?;
    let predicate = read_predicate(&args.predicate, limits.max_attachment_bytes)?;
    let (token, signer) = crate::keyless::image_signer(&args.keyless)?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let targets =
        crate::platforms::expand(&client, std::slice::from_ref(image), args.recursive).await?;
    if !args.new_bundle_format {
        // Cosign's legacy format: the envelope appended to sha256-<hex>.att, its certificate
        // and log entry in the layer's annotations.
        let attester = ImageAttester::keyless(&client, &signer, &token);
        return append_attestation(attester, args, &targets, predicate_type, predicate).await;
    }
    let shaped = predicate_type.shape_predicate(predicate, settings::now_unix())?;
    let repository = settings::signature_repository()?;
    for target in &targets {
        let attested = signet_sign::push_referrer_bundle(
            &client,
            target,
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
            repository.as_ref(),
        )
        .await
        .with_context(|| format!("attesting {target}"))?;
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
    }
    Ok(ExitCode::SUCCESS)
}

/// `attest-blob --identity-token T … --bundle OUT FILE`: the statement signed keylessly into
/// a Sigstore bundle v0.3, verified for the file's digest before it is written.
fn attest_blob_keyless(args: &AttestBlobArgs) -> anyhow::Result<ExitCode> {
    crate::usage_ensure!(
        args.tlog_upload,
        "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
    );
    let bundle_path = args.bundle.as_deref().ok_or_else(|| {
        crate::settings::usage(
            "keyless attestations are written as a Sigstore bundle: pass --bundle FILE",
        )
    })?;
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
        settings::now_unix(),
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
    let images = settings::parse_images(&args.images)?;
    let authority = settings::authority(
        args.key.as_deref(),
        &args.certificate,
        args.insecure_ignore_tlog,
        args.signature_digest_algorithm,
    )
    .await?
    .ok_or_else(|| {
        settings::usage(
            "verify-attestation needs to know who must have attested: pass --key, or --certificate-identity with --certificate-oidc-issuer",
        )
    })?;
    let limits = settings::limits()?;
    let repository = settings::signature_repository()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let uri = predicate_type.uri().to_owned();
    let checks = Verifier::new(&client)
        .with_signature_repository(repository.as_ref())
        .check_all(&images, &authority, &Question::attestation(predicate_type))
        .await;
    output::attestation_checks(&checks, &authority, &uri, args.output)?;
    Ok(output::exit_code(&checks))
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
    let subject: Digest = match (&args.digest, &args.file) {
        (Some(hex), _) => {
            if args.digest_alg != crate::args::HashName::Sha256 {
                crate::usage_bail!(
                    "--digestAlg sha384 and sha512 need --bundle; an envelope's subjects are matched by sha256"
                );
            }
            match format!("sha256:{hex}").parse() {
                Ok(digest) => digest,
                Err(_) => {
                    crate::usage_bail!("--digest must be 64 lowercase hex characters (a sha256)")
                }
            }
        }
        (None, Some(path)) => {
            let file =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let digests = digest_reader(
                std::io::BufReader::with_capacity(1 << 20, file),
                &[DigestAlgorithm::Sha256],
            )
            .with_context(|| format!("reading {}", path.display()))?;
            match digests.first() {
                Some(digest) => digest.to_digest(),
                None => bail!("no digest of {} was computed", path.display()),
            }
        }
        (None, None) => crate::usage_bail!("give the file the attestation is about, or --digest"),
    };
    let (Some(key_path), Some(signature)) = (&args.key, &args.signature) else {
        crate::usage_bail!("verify-blob-attestation needs --key with --signature, or --bundle");
    };
    let key = load_verifier(key_path, args.signature_digest_algorithm, &limits)?;
    let envelope = settings::read_bounded(signature, limits.max_attachment_bytes, "attestation")?;
    if !args.insecure_ignore_tlog {
        return Err(settings::usage(
            "an envelope alone carries no transparency-log entry: verify a Sigstore bundle (--bundle FILE), or pass --insecure-ignore-tlog=true to verify the attestation with the key alone",
        ));
    }
    match signet_verify::verify_blob_attestation(&envelope, &key, &subject, Some(&predicate_type)) {
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

/// `verify-blob-attestation --bundle B (--key K | --certificate-identity … | --builder-id …)
/// FILE`: the bundles of B (a bundle, or a file of them as published) verified for the
/// file's digests (sha256, sha384 and sha512 in one pass), the first of the predicate type
/// that verifies winning; with the provenance flags, its SLSA provenance checked as
/// slsa-verifier checks it.
fn verify_blob_attestation_bundle(
    args: &VerifyBlobAttestationArgs,
    bundle_path: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let provenance = ProvenanceRequirement::default()
        .with_builder_id(args.builder_id.clone())
        .with_source_uri(args.source_uri.clone())
        .with_source_tag(args.source_tag.clone())
        .with_source_branch(args.source_branch.clone());
    let authority = crate::runtime()?.block_on(settings::authority(
        args.key.as_deref(),
        &args.certificate,
        args.insecure_ignore_tlog,
        args.signature_digest_algorithm,
    ))?;
    let authority = match authority {
        Some(authority) => authority,
        None => match provenance.builder_signer() {
            Some(signer) => settings::signer_authority(
                &args.certificate,
                signer.context("--builder-id")?,
                args.insecure_ignore_tlog,
            )?,
            None => {
                return Err(settings::usage(
                    "give --key, --certificate-identity or --builder-id",
                ));
            }
        },
    };
    if authority.bundle_policy().is_none() {
        // A key with no trusted root found: say where one comes from.
        settings::bundle_verifier(None)?;
    }
    let artifact = match (&args.digest, &args.file) {
        (Some(hex), _) => {
            let algorithm =
                settings::hash(Some(args.digest_alg)).unwrap_or(DigestAlgorithm::Sha256);
            let digest: signet_core::digest::Digest =
                format!("{}:{hex}", algorithm.name()).parse().map_err(|e| {
                    settings::usage(format!(
                        "--digest is not a {} in hex: {e}",
                        algorithm.name()
                    ))
                })?;
            ArtifactDigests::from(digest)
        }
        (None, Some(path)) => ArtifactDigests::of_reader(settings::open_input(path)?)
            .with_context(|| format!("reading {}", path.display()))?,
        (None, None) => crate::usage_bail!("give the file the attestation is about, or --digest"),
    };
    let document = settings::read_bounded(
        bundle_path,
        BundleLimits::default().max_document_bytes,
        "bundle",
    )?;
    let outcome = if provenance.is_empty() {
        let predicate_type =
            PredicateType::from_name(args.predicate_type.as_deref().unwrap_or("custom"))?;
        check_file_attestation(&document, &artifact, &authority, &[predicate_type])
            .map(|outcome| outcome.map_err(FileProvenanceFailure::Attestation))
    } else {
        if let Some(name) = &args.predicate_type {
            let asked = PredicateType::from_name(name)?;
            if !SLSA_PROVENANCE_TYPES.contains(&asked.uri()) {
                return Err(settings::usage(
                    "--builder-id and --source-* check SLSA provenance: --type must be slsaprovenance02 or slsaprovenance1, or left out",
                ));
            }
        }
        check_file_provenance(&document, &artifact, &authority, &provenance)
    };
    output::file_attestation(bundle_path, outcome, !provenance.is_empty())
}
