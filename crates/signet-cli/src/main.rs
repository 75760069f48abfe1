//! `signet`: sign container images and files, and verify them, wire-compatible with Cosign.
//!
//! The binary is thin: parse flags (`args`), resolve settings (passwords, environment,
//! limits), call `signet-sign` / `signet-verify`, print. Exit codes: 0 success; 1 denied, or
//! a non-verifying command failed; 2 a verification could not find out (registry unreachable,
//! unreadable key or policy, bad usage).
#![forbid(unsafe_code)]

mod args;
mod attachments;
mod attest;
mod blob;
mod bundles;
mod conformance;
mod image;
mod keyless;
mod keys;
mod platforms;
mod policy;
mod settings;
mod transfer;
mod trust;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{AttachCommand, Cli, Command, DownloadCommand, PolicyCommand};

/// Exit code when verification ran and denied.
pub(crate) const EXIT_DENIED: u8 = 1;
/// Exit code when signet could not find out (operational failure).
pub(crate) const EXIT_UNDECIDED: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A verification that fails to run could not find out; it must not look like a denial.
    let error_code = match &cli.command {
        Command::Verify(_)
        | Command::VerifyAttestation(_)
        | Command::VerifyBlob(_)
        | Command::VerifyBlobAttestation(_)
        | Command::Policy(PolicyCommand::Explain(_)) => EXIT_UNDECIDED,
        _ => EXIT_DENIED,
    };
    let timeout = match registry_args(&cli.command).map(|r| settings::parse_duration(&r.timeout)) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("Error: --timeout: {e:#}");
            return ExitCode::from(EXIT_UNDECIDED);
        }
        None => None,
    };
    let block_on = |future: std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<ExitCode>>>,
    >| {
        let rt = runtime()?;
        match timeout {
            Some(limit) => rt.block_on(async {
                tokio::time::timeout(limit, future)
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out after {limit:?} (--timeout); nothing was decided or left half-written")))
            }),
            None => rt.block_on(future),
        }
    };
    let result = match cli.command {
        Command::GenerateKeyPair(a) => keys::generate_key_pair(&a),
        Command::ImportKeyPair(a) => keys::import_key_pair(&a),
        Command::PublicKey(a) => keys::public_key(&a),
        Command::SignBlob(a) => blob::sign_blob(&a),
        Command::VerifyBlob(a) => blob::verify_blob(&a),
        Command::Sign(a) => block_on(Box::pin(image::sign(&a))),
        Command::Verify(a) => block_on(Box::pin(image::verify(&a))),
        Command::Attest(a) => block_on(Box::pin(attest::attest(&a))),
        Command::AttestBlob(a) => attest::attest_blob(&a),
        Command::VerifyAttestation(a) => block_on(Box::pin(attest::verify_attestation(&a))),
        Command::VerifyBlobAttestation(a) => attest::verify_blob_attestation(&a),
        Command::Attach(AttachCommand::Sbom(a)) => block_on(Box::pin(attachments::attach_sbom(&a))),
        Command::Download(d) => block_on(Box::pin(attachments::download(&d))),
        Command::Tree(a) => block_on(Box::pin(attachments::tree(&a))),
        Command::Copy(a) => block_on(Box::pin(transfer::copy(&a))),
        Command::Save(a) => block_on(Box::pin(transfer::save(&a))),
        Command::Load(a) => block_on(Box::pin(transfer::load(&a))),
        Command::Policy(PolicyCommand::Lint(a)) => policy::lint(&a),
        Command::Policy(PolicyCommand::Explain(a)) => block_on(Box::pin(policy::explain(&a))),
        Command::Conformance(c) => conformance::run(&c),
        Command::Initialize(a) => trust::initialize(&a),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            ExitCode::from(error_code)
        }
    }
}

/// The registry flags of a command that talks to registries.
fn registry_args(command: &Command) -> Option<&args::RegistryArgs> {
    match command {
        Command::Sign(a) => Some(&a.registry),
        Command::Verify(a) => Some(&a.registry),
        Command::Attest(a) => Some(&a.registry),
        Command::VerifyAttestation(a) => Some(&a.registry),
        Command::Attach(AttachCommand::Sbom(a)) => Some(&a.registry),
        Command::Download(DownloadCommand::Sbom(a) | DownloadCommand::Signature(a)) => {
            Some(&a.registry)
        }
        Command::Download(DownloadCommand::Attestation(a)) => Some(&a.registry),
        Command::Tree(a) => Some(&a.registry),
        Command::Copy(a) => Some(&a.registry),
        Command::Save(a) => Some(&a.registry),
        Command::Load(a) => Some(&a.registry),
        Command::Policy(PolicyCommand::Explain(a)) => Some(&a.registry),
        _ => None,
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
