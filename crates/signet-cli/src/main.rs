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
mod image;
mod keys;
mod policy;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{AttachCommand, Cli, Command, PolicyCommand};

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
    let result = match cli.command {
        Command::GenerateKeyPair(a) => keys::generate_key_pair(&a),
        Command::ImportKeyPair(a) => keys::import_key_pair(&a),
        Command::PublicKey(a) => keys::public_key(&a),
        Command::SignBlob(a) => blob::sign_blob(&a),
        Command::VerifyBlob(a) => blob::verify_blob(&a),
        Command::Sign(a) => runtime().and_then(|rt| rt.block_on(image::sign(&a))),
        Command::Verify(a) => runtime().and_then(|rt| rt.block_on(image::verify(&a))),
        Command::Attest(a) => runtime().and_then(|rt| rt.block_on(attest::attest(&a))),
        Command::AttestBlob(a) => attest::attest_blob(&a),
        Command::VerifyAttestation(a) => {
            runtime().and_then(|rt| rt.block_on(attest::verify_attestation(&a)))
        }
        Command::VerifyBlobAttestation(a) => attest::verify_blob_attestation(&a),
        Command::Attach(AttachCommand::Sbom(a)) => {
            runtime().and_then(|rt| rt.block_on(attachments::attach_sbom(&a)))
        }
        Command::Download(d) => runtime().and_then(|rt| rt.block_on(attachments::download(&d))),
        Command::Tree(a) => runtime().and_then(|rt| rt.block_on(attachments::tree(&a))),
        Command::Policy(PolicyCommand::Lint(a)) => policy::lint(&a),
        Command::Policy(PolicyCommand::Explain(a)) => {
            runtime().and_then(|rt| rt.block_on(policy::explain(&a)))
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            ExitCode::from(error_code)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
