//! sign-blob and verify-blob.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::DigestAlgorithm;
use signet_keys::{KeyReference, SigningKey};
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_verify::bundle::{BundlePolicy, FileInput};
use signet_verify::{KeyVerifier, TlogPolicy, decode_signature_file};

use crate::args::{KeylessArgs, SignBlobArgs, VerifyBlobArgs};
use crate::{output, settings};

/// Decrypts the key and signs `path`. For a file (not stdin) the key is decrypted (scrypt,
/// about 0.2 s) on one thread while the file is hashed with SHA-256 on another: the hash most
/// keys sign (P-256, RSA). A key that needs another hash (P-384, P-521) or the whole message
/// (Ed25519) has the file read again.
fn sign_file(
    pending: &settings::PendingKey<'_>,
    path: &Path,
    limits: &signet_core::limits::Limits,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(signet_core::keys::PrivateKey, signet_sign::BlobSignature)> {
    if path.as_os_str() == "-" {
        let key = pending.decrypt()?;
        let signed = runtime.block_on(signet_sign::sign_blob(
            &key,
            settings::open_input(path)?,
            limits.max_unhashed_blob_bytes,
        ))?;
        return Ok((key, signed));
    }
    let input = settings::open_input(path)?;
    let (key, digest) = std::thread::scope(|scope| {
        let decrypting = scope.spawn(|| pending.decrypt());
        let digest = signet_core::digest::digest_reader(input, &[DigestAlgorithm::Sha256])
            .with_context(|| format!("reading {}", path.display()));
        let key = decrypting
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("decrypting the key failed")));
        (key, digest)
    });
    let key = key?;
    let mut digests = digest?;
    if SigningKey::digest_algorithm(&key) == Some(DigestAlgorithm::Sha256)
        && let Some(digest) = digests.pop()
    {
        let signature = runtime.block_on(SigningKey::sign_digest(&key, &digest))?;
        return Ok((
            key,
            signet_sign::BlobSignature {
                signature,
                digest: Some(digest),
            },
        ));
    }
    let signed = runtime.block_on(signet_sign::sign_blob(
        &key,
        settings::open_input(path)?,
        limits.max_unhashed_blob_bytes,
    ))?;
    Ok((key, signed))
}

/// Signs `path` with a key on a token or in a KMS: the file is hashed here as a stream, only
/// the digest goes to the key.
fn sign_file_with(
    key: &dyn SigningKey,
    path: &Path,
    limits: &signet_core::limits::Limits,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<signet_sign::BlobSignature> {
    Ok(runtime.block_on(signet_sign::sign_blob(
        key,
        settings::open_input(path)?,
        limits.max_unhashed_blob_bytes,
    ))?)
}

pub(crate) fn sign_blob(args: &SignBlobArgs) -> anyhow::Result<ExitCode> {
    if crate::keyless::requested(&args.keyless, args.key.is_some()) {
        crate::usage_ensure!(
            args.output_signature.is_none(),
            "keyless signing writes the signature inside the bundle (--bundle); --output-signature is for --key"
        );
        return sign_blob_keylessly(
            &args.keyless,
            args.bundle.as_deref(),
            args.tlog_upload,
            &args.file,
        );
    }
    let Some(key_path) = &args.key else {
        crate::usage_bail!(
            "sign-blob needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to sign keylessly"
        );
    };
    // With the log: where to, checked against which root, and where the proof goes — all
    // settled before the key is decrypted or the file read.
    let log = if args.tlog_upload {
        let bundle = args.bundle.as_deref().ok_or_else(|| settings::usage(
            "--tlog-upload records the signature in Rekor and writes the proof as a Sigstore bundle: pass --bundle FILE (and --rekor-url URL or --signing-config FILE), or sign without a log entry with --tlog-upload=false",
        ))?;
        Some((crate::keyless::rekor_uploader(&args.keyless)?, bundle))
    } else {
        crate::usage_ensure!(
            args.bundle.is_none(),
            "--bundle holds the log entry: it needs --tlog-upload (the default)"
        );
        None
    };
    let limits = settings::limits()?;
    let runtime = crate::runtime()?;
    let (key, signed): (Box<dyn SigningKey>, _) = match settings::key_reference(key_path)? {
        KeyReference::File(path) => {
            let pending = settings::read_private_key(&path, &limits)?;
            eprintln!("Using payload from: {}", args.file.display());
            let (key, signed) = sign_file(&pending, &args.file, &limits, &runtime)?;
            (Box::new(key), signed)
        }
        _ => {
            let key = runtime.block_on(settings::signing_key(key_path, &limits))?;
            eprintln!("Using payload from: {}", args.file.display());
            let signed = sign_file_with(key.as_ref(), &args.file, &limits, &runtime)?;
            (key, signed)
        }
    };
    if let Some((uploader, bundle_path)) = log {
        let digest = signed.digest.as_ref().context(
            "this key signs whole messages (Ed25519); signet records SHA-256 digests of files in the log",
        )?;
        let public = key.public_key()?;
        let bundle = runtime
            .block_on(uploader.record_blob(digest, &signed.signature, &public))
            .with_context(|| format!("recording the signature in {}", uploader.url()))?;
        write_key_file(bundle_path, &bundle, 0o644, Overwrite::Replace)?;
        eprintln!(
            "Recorded in {}; wrote bundle to file {}",
            uploader.url(),
            bundle_path.display()
        );
    }
    let bytes = if args.b64 {
        signed.to_base64().into_bytes()
    } else {
        signed.signature.clone()
    };
    match &args.output_signature {
        Some(path) => {
            write_key_file(path, &bytes, 0o600, Overwrite::Replace)?;
            eprintln!("Wrote signature to file {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            if args.b64 {
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify_blob(args: &VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    if let Some(policy) = &args.policy {
        return crate::policy::verify_files(args, policy);
    }
    crate::usage_ensure!(
        args.vsa.vsa_key.is_none() && !args.vsa.vsa_keyless,
        "verification summaries (--vsa-key, --vsa-keyless) are of a policy's decisions: add --policy"
    );
    crate::usage_ensure!(
        !args.vsa.keyless.any(),
        "{}",
        crate::policy::KEYLESS_FLAGS_SIGN_SUMMARIES
    );
    let file = match args.files.as_slice() {
        [file] => file,
        _ => crate::usage_bail!("verify-blob verifies one file; several are decided with --policy"),
    };
    match args.bundle.as_slice() {
        [] => {}
        [bundle] => return verify_blob_bundle(args, bundle, file),
        _ => crate::usage_bail!("give one --bundle, or decide with --policy from several"),
    }
    let (Some(key_path), Some(signature)) = (&args.key, &args.signature) else {
        crate::usage_bail!("verify-blob needs --key with --signature");
    };
    let limits = settings::limits()?;
    let key = crate::runtime()?.block_on(settings::public_key(key_path, &limits))?;
    let verifier = match settings::hash(args.signature_digest_algorithm) {
        Some(h) => KeyVerifier::with_hash(key, h),
        None => KeyVerifier::new(key),
    };
    // As Cosign: a path if such a file exists, else the base64 signature itself.
    let path = Path::new(signature);
    let contents = if path.is_file() {
        settings::read_bounded(path, limits.max_signature_file_bytes, "signature file")?
    } else {
        signature.as_bytes().to_vec()
    };
    let signature = decode_signature_file(&contents);
    if !args.insecure_ignore_tlog {
        return Err(settings::usage(
            "a signature alone carries no transparency-log entry: verify the Sigstore bundle that sign-blob --bundle wrote (--bundle FILE), or pass --insecure-ignore-tlog=true to verify the signature with the key alone",
        ));
    }
    let input = settings::open_input(file)?;
    match signet_verify::verify_blob(&verifier, input, &signature, limits.max_unhashed_blob_bytes) {
        Ok(Ok(())) => {
            eprintln!(
                "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob."
            );
            eprintln!("Verified OK");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(failure)) => {
            eprintln!("Error: {}: {failure}", file.display());
            Ok(ExitCode::from(crate::EXIT_DENIED))
        }
        Err(e) => Err(e.into()),
    }
}

/// `verify-blob --bundle B (--key K | --certificate-identity I --certificate-oidc-issuer S)
/// [--trusted-root T] FILE`.
fn verify_blob_bundle(
    args: &VerifyBlobArgs,
    bundle_path: &Path,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let policy = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(path), None, None) => {
            let limits = settings::limits()?;
            BundlePolicy::Key(crate::runtime()?.block_on(settings::public_key(path, &limits))?)
        }
        (None, Some(identity), Some(issuer)) => BundlePolicy::identity(identity, issuer),
        _ => {
            return Err(settings::usage(
                "give either --key, or both --certificate-identity and --certificate-oidc-issuer",
            ));
        }
    };
    let verifier = settings::bundle_verifier_with(
        args.trusted_root.as_deref(),
        settings::sct_policy(args.insecure_ignore_sct),
        TlogPolicy::Require,
    )?;
    let bundle = settings::read_bundle(bundle_path)?;
    let limit = settings::limits()?.max_unhashed_blob_bytes;
    let mut reader = settings::open_input(file)?;
    let outcome = verifier.verify_file(&bundle, FileInput::Reader(&mut reader), &policy, limit);
    output::file_bundle(bundle_path, outcome)
}

/// `signet sign-blob --identity-token T (--signing-config F | --fulcio-url U --rekor-url U
/// [--timestamp-server-url U]) --trusted-root R --bundle OUT FILE`.
fn sign_blob_keylessly(
    args: &KeylessArgs,
    bundle: Option<&Path>,
    tlog_upload: bool,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    crate::usage_ensure!(
        tlog_upload,
        "keyless signing records the certificate in the transparency log; --tlog-upload=false is for --key"
    );
    let bundle = bundle.ok_or_else(|| {
        settings::usage("keyless signing writes a Sigstore bundle: pass --bundle FILE")
    })?;
    // The configuration first: a missing trusted root or service says so before the token
    // is looked at (or requested from the CI system).
    let services = crate::keyless::services(&args.services)?;
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    let token = crate::keyless::token(&args.services)?;
    crate::keyless::sign_file(token, services, &root, bundle, file)
}
