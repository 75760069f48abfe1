//! generate-key-pair, import-key-pair, public-key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::keys::PrivateKey;
use signet_core::keys::encrypted::DEFAULT_SCRYPT_LOG_N;
use signet_sign::keyfile::{Overwrite, write_key_file};

use crate::args::{GenerateKeyPairArgs, ImportKeyPairArgs, PublicKeyArgs};
use crate::settings::{self, Confirm};

fn write_pair(prefix: &str, key: &PrivateKey, force: bool) -> anyhow::Result<()> {
    let overwrite = if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let private_path = PathBuf::from(format!("{prefix}.key"));
    let public_path = PathBuf::from(format!("{prefix}.pub"));
    // Check both before writing either, so a refusal leaves nothing half-written.
    if overwrite == Overwrite::Refuse {
        for path in [&private_path, &public_path] {
            if path.symlink_metadata().is_ok() {
                anyhow::bail!(
                    "{} already exists; pass --force to overwrite it",
                    path.display()
                );
            }
        }
    }
    let password = settings::password(Confirm::Twice)?;
    let sealed = key.to_encrypted_pem(&password, DEFAULT_SCRYPT_LOG_N)?;
    let public = key.public_key()?.to_pem();
    write_key_file(&private_path, sealed.as_bytes(), 0o600, overwrite)?;
    write_key_file(&public_path, public.as_bytes(), 0o644, overwrite)?;
    eprintln!("Private key written to {}", private_path.display());
    eprintln!("Public key written to {}", public_path.display());
    Ok(())
}

pub(crate) fn generate_key_pair(args: &GenerateKeyPairArgs) -> anyhow::Result<ExitCode> {
    if let Some(kms) = &args.kms {
        return generate_in_service(kms, &args.output_key_prefix, args.force);
    }
    let key = PrivateKey::generate_p256()?;
    write_pair(&args.output_key_prefix, &key, args.force)?;
    Ok(ExitCode::SUCCESS)
}

/// `generate-key-pair --kms REF`: the key is made on the token or in the KMS, and only its
/// public half is written, to PREFIX.pub.
fn generate_in_service(kms: &str, prefix: &str, force: bool) -> anyhow::Result<ExitCode> {
    let reference = signet_keys::KeyReference::parse(kms)?;
    let public_path = PathBuf::from(format!("{prefix}.pub"));
    let overwrite = if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    if overwrite == Overwrite::Refuse && public_path.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it (nothing was created)",
            public_path.display()
        );
    }
    let public = crate::runtime()?
        .block_on(signet_keys::create_key(
            &reference,
            &settings::key_options(),
        ))
        .with_context(|| format!("creating a key at {reference}"))?;
    write_key_file(&public_path, public.to_pem().as_bytes(), 0o644, overwrite)?;
    eprintln!("Created a {} key at {reference}", public.kind());
    eprintln!("Public key written to {}", public_path.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn import_key_pair(args: &ImportKeyPairArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits()?;
    let pem = settings::read_bounded(&args.key, limits.max_key_file_bytes, "key file")?;
    let key = PrivateKey::from_unencrypted_pem(&pem)
        .with_context(|| format!("importing {}", args.key.display()))?;
    eprintln!("Importing {} key", key.kind());
    write_pair(&args.output_key_prefix, &key, args.force)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn public_key(args: &PublicKeyArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits()?;
    let pem = match settings::key_reference(&args.key)? {
        signet_keys::KeyReference::File(path) => settings::load_private_key(&path, &limits)?
            .public_key()?
            .to_pem(),
        _ => crate::runtime()?
            .block_on(settings::public_key(&args.key, &limits))?
            .to_pem(),
    };
    match &args.outfile {
        Some(path) => {
            write_key_file(path, pem.as_bytes(), 0o644, Overwrite::Replace)?;
            eprintln!("Public key written to {}", path.display());
        }
        None => print!("{pem}"),
    }
    Ok(ExitCode::SUCCESS)
}
