//! sign and verify for images.

use std::process::ExitCode;

use anyhow::Context;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_sign::keyless::{IdentityToken, KeylessSigner};
use signet_sign::{ImageSigner, SignOutcome, sign_image_referrer};
use signet_verify::{Question, Verifier};

use crate::args::{EnvelopeName, SignArgs, SignatureFormat, VerifyArgs};
use crate::{EXIT_DENIED, output, settings};

pub(crate) async fn sign(args: &SignArgs) -> anyhow::Result<ExitCode> {
    if args.format == SignatureFormat::Notation {
        return sign_notation(args).await;
    }
    let images = settings::parse_images(&args.images)?;
    let annotations = settings::annotations(&args.annotations)?;
    let limits = settings::limits()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let images = crate::platforms::expand(&client, &images, args.recursive).await?;
    let key;
    let rekor;
    let keyless;
    crate::usage_ensure!(
        !(args.new_bundle_format && args.key.is_some()),
        "--new-bundle-format is implemented for keyless signing; with --key signet writes the legacy format (drop --new-bundle-format)"
    );
    let signer = match &args.key {
        Some(key_path) => {
            key = settings::signing_key(key_path, &limits).await?;
            let signer = ImageSigner::new(&client, key.as_ref());
            if args.tlog_upload {
                rekor = crate::keyless::rekor_uploader(&args.keyless)?;
                signer.with_transparency_log(&rekor)
            } else {
                signer
            }
        }
        None if crate::keyless::requested(&args.keyless, false) => {
            crate::usage_ensure!(
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
        None => crate::usage_bail!(
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

/// `sign --format notation --key KEY --certificate-chain CHAIN`: one Notary Project
/// signature per image.
async fn sign_notation(args: &SignArgs) -> anyhow::Result<ExitCode> {
    let images = settings::parse_images(&args.images)?;
    let (Some(key_path), Some(chain_path)) = (&args.key, &args.certificate_chain) else {
        anyhow::bail!("--format notation signs with --key KEY and --certificate-chain CHAIN.pem");
    };
    let limits = settings::limits()?;
    let key_bytes = settings::read_bounded(key_path, limits.max_key_file_bytes, "private key")?;
    let key = signet_core::keys::PrivateKey::from_unencrypted_pem(&key_bytes).with_context(|| {
        format!(
            "loading {} (a Notary Project signing key is an unencrypted PKCS#8 PEM key, as notation writes it)",
            key_path.display()
        )
    })?;
    let chain_pem =
        settings::read_bounded(chain_path, limits.max_key_file_bytes, "certificate chain")?;
    let chain: Vec<Vec<u8>> = pem::parse_many(&chain_pem)
        .with_context(|| format!("reading {}", chain_path.display()))?
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .collect();
    let format = match args.signature_format {
        EnvelopeName::Jws => signet_notation::EnvelopeFormat::Jws,
        EnvelopeName::Cose => signet_notation::EnvelopeFormat::Cose,
    };
    let annotations = settings::annotations(&args.annotations)?;
    let repository = settings::signature_repository()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let mut failed = false;
    for image in &images {
        let signed = signet_sign::sign_image_notation(
            &client,
            image,
            &key,
            &chain,
            format,
            &annotations,
            repository.as_ref(),
            std::time::SystemTime::now(),
        )
        .await;
        match signed {
            Ok(signed) => eprintln!(
                "Signed {}@{} with a Notary Project signature; manifest {} listed at {}",
                signed.repository, signed.digest, signed.manifest, signed.location
            ),
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
    if args.policy.is_some() {
        return Err(settings::usage(
            "--policy names the signers itself: it cannot be combined with --key or --certificate-identity",
        ));
    }
    let images = settings::parse_images(&args.images)?;
    let annotations = settings::annotations(&args.annotations)?;
    let authority = settings::authority(
        args.key.as_deref(),
        &args.certificate,
        args.insecure_ignore_tlog,
        args.signature_digest_algorithm,
    )
    .await?
    .ok_or_else(|| {
        settings::usage(
            "verify needs to know who must have signed: pass --key, --certificate-identity with --certificate-oidc-issuer, or --policy",
        )
    })?;
    let limits = settings::limits()?;
    let repository = settings::signature_repository()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let checks = Verifier::new(&client)
        .with_signature_repository(repository.as_ref())
        .with_index_signatures(crate::platforms::index_signatures(
            args.accept_index_signature.as_deref(),
        )?)
        .check_all(&images, &authority, &Question::Signature { annotations })
        .await;
    output::signature_checks(&checks, &authority, args.output)?;
    Ok(output::exit_code(&checks))
}
