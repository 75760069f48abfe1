//! sign-blob and verify-blob.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::DigestAlgorithm;
use signet_core::keys::PublicKey;
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_verify::{KeyVerifier, decode_signature_file};

use crate::args::{SignBlobArgs, VerifyBlobArgs};
use crate::settings;

/// The file (or stdin for `-`), buffered; a large file shows hashing progress on a terminal.
pub(crate) fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let hashing =
        crate::progress::ProgressReader::new(file, format!("Hashing {}", path.display()), size);
    Ok(Box::new(BufReader::with_capacity(1 << 20, hashing)))
}

/// Decrypts the key and signs `path`. For a file (not stdin) the key is decrypted (scrypt,
/// about 0.2 s) on one thread while the file is hashed with SHA-256 on another: the hash most
/// keys sign (P-256, RSA). A key that needs another hash (P-384, P-521) or the whole message
/// (Ed25519) has the file read again.
fn sign_file(
    pending: &settings::PendingKey<'_>,
    path: &Path,
    limits: &signet_core::limits::Limits,
) -> anyhow::Result<(signet_core::keys::PrivateKey, signet_sign::BlobSignature)> {
    if path.as_os_str() == "-" {
        let key = pending.decrypt()?;
        let signed =
            signet_sign::sign_blob(&key, open_input(path)?, limits.max_unhashed_blob_bytes)?;
        return Ok((key, signed));
    }
    let input = open_input(path)?;
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
    if signet_sign::SigningKey::prehash(&key) == Some(DigestAlgorithm::Sha256)
        && let Some(digest) = digests.pop()
    {
        let signature = signet_sign::SigningKey::sign_prehashed(&key, &digest)?;
        return Ok((
            key,
            signet_sign::BlobSignature {
                signature,
                digest: Some(digest),
            },
        ));
    }
    let signed = signet_sign::sign_blob(&key, open_input(path)?, limits.max_unhashed_blob_bytes)?;
    Ok((key, signed))
}

pub(crate) fn sign_blob(args: &SignBlobArgs) -> anyhow::Result<ExitCode> {
    if crate::keyless::requested(&args.keyless, args.key.is_some()) {
        anyhow::ensure!(
            args.output_signature.is_none(),
            "keyless signing writes the signature inside the bundle (--bundle); --output-signature is for --key"
        );
        return crate::keyless::sign_blob(
            &args.keyless,
            args.bundle.as_deref(),
            args.tlog_upload,
            &args.file,
        );
    }
    let Some(key_path) = &args.key else {
        anyhow::bail!(
            "sign-blob needs --key FILE, or --identity-token TOKEN (or SIGSTORE_ID_TOKEN) to sign keylessly"
        );
    };
    // With the log: where to, checked against which root, and where the proof goes — all
    // settled before the key is decrypted or the file read.
    let log = if args.tlog_upload {
        let bundle = args.bundle.as_deref().context(
            "--tlog-upload records the signature in Rekor and writes the proof as a Sigstore bundle: pass --bundle FILE (and --rekor-url URL or --signing-config FILE), or sign without a log entry with --tlog-upload=false",
        )?;
        Some((crate::keyless::rekor_uploader(&args.keyless)?, bundle))
    } else {
        anyhow::ensure!(
            args.bundle.is_none(),
            "--bundle holds the log entry: it needs --tlog-upload (the default)"
        );
        None
    };
    let limits = settings::limits()?;
    let pending = settings::read_private_key(key_path, &limits)?;
    eprintln!("Using payload from: {}", args.file.display());
    let (key, signed) = sign_file(&pending, &args.file, &limits)?;
    if let Some((uploader, bundle_path)) = log {
        let digest = signed.digest.as_ref().context(
            "this key signs whole messages (Ed25519); signet records SHA-256 digests of files in the log",
        )?;
        let public = signet_sign::SigningKey::public_key(&key)?;
        let bundle = crate::runtime()?
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
    if let Some(bundle) = &args.bundle {
        return crate::conformance::verify_blob_bundle(args, bundle);
    }
    let (Some(key_path), Some(signature)) = (&args.key, &args.signature) else {
        anyhow::bail!("verify-blob needs --key with --signature");
    };
    let limits = settings::limits()?;
    let key_bytes = settings::read_bounded(key_path, limits.max_key_file_bytes, "public key")?;
    let key = PublicKey::parse(&key_bytes)
        .with_context(|| format!("loading the public key {}", key_path.display()))?;
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
        eprintln!(
            "Error: a signature alone carries no transparency-log entry: verify the Sigstore bundle that sign-blob --bundle wrote (--bundle FILE), or pass --insecure-ignore-tlog=true to verify the signature with the key alone"
        );
        return Ok(ExitCode::from(crate::EXIT_DENIED));
    }
    let input = open_input(&args.file)?;
    match signet_verify::verify_blob(&verifier, input, &signature, limits.max_unhashed_blob_bytes) {
        Ok(Ok(())) => {
            eprintln!(
                "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob."
            );
            eprintln!("Verified OK");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(failure)) => {
            eprintln!("Error: {}: {failure}", args.file.display());
            Ok(ExitCode::from(crate::EXIT_DENIED))
        }
        Err(e) => Err(e.into()),
    }
}
