//! `signet`: sign container images and files, and verify them, wire-compatible with Cosign.
//!
//! The binary is thin: parse flags (`args`), resolve settings (passwords, environment,
//! limits), call `signet-sign` / `signet-verify`, print. Exit codes: 0 success; 1 denied, or
//! a non-verifying command failed; 2 a verification could not find out (registry unreachable,
//! unreadable key or policy, bad usage).
#![forbid(unsafe_code)]

/// Returns a usage error (flags that cannot work together; exit 2, as clap's own errors).
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err($crate::settings::usage(format!($($arg)*)))
    };
}

/// [`usage_bail!`] unless the condition holds.
#[macro_export]
macro_rules! usage_ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::usage_bail!($($arg)*);
        }
    };
}

mod admission;
mod args;
mod attachments;
mod attest;
mod blob;
mod completion;
mod conformance;
mod image;
mod keyless;
mod keys;
mod manifests;
mod output;
mod platforms;
mod policy;
mod progress;
mod settings;
mod transfer;
mod trust;
mod version;

use std::process::ExitCode;

use crate::args::{AdmissionCommand, AttachCommand, Command, DownloadCommand, PolicyCommand};

/// Exit code when verification ran and denied.
pub(crate) const EXIT_DENIED: u8 = 1;
/// Exit code when signet could not find out (operational failure).
pub(crate) const EXIT_UNDECIDED: u8 = 2;

fn main() -> ExitCode {
    let cli = args::parse();
    progress::set_quiet(cli.quiet);
    // A verification that fails to run could not find out; it must not look like a denial.
    let error_code = match &cli.command {
        Command::Verify(_)
        | Command::VerifyAttestation(_)
        | Command::VerifyBlob(_)
        | Command::VerifyBlobAttestation(_)
        | Command::VerifyVsa(_)
        | Command::Policy(PolicyCommand::Explain(_))
        | Command::Admission(_) => EXIT_UNDECIDED,
        _ => EXIT_DENIED,
    };
    let timeout = match timeout_flag(&cli.command).map(settings::parse_duration) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("Error: --timeout: {e:#}");
            return ExitCode::from(EXIT_UNDECIDED);
        }
        None => None,
    };
    // A command that does its network work outside the async runtime (TUF, Rekor, Fulcio
    // calls made through blocking wrappers) runs on a thread of its own, watched by the
    // deadline: past it, signet says so and exits; what such a command writes, it writes
    // atomically at the end, so nothing is left half-written.
    let deadline = |work: Box<dyn FnOnce() -> anyhow::Result<ExitCode> + Send>| match timeout {
        Some(limit) => {
            let (done, outcome) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = done.send(work());
            });
            outcome.recv_timeout(limit).unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "timed out after {limit:?} (--timeout); nothing was decided or left half-written"
                ))
            })
        }
        None => work(),
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
        Command::SignBlob(a) => deadline(Box::new(move || blob::sign_blob(&a))),
        Command::VerifyBlob(a) => deadline(Box::new(move || blob::verify_blob(&a))),
        Command::Sign(a) => block_on(Box::pin(image::sign(&a))),
        Command::Verify(a) if !a.manifests.is_empty() => block_on(Box::pin(manifests::verify(&a))),
        Command::Verify(a)
            if a.policy.is_some() && a.key.is_none() && !a.certificate.has_identity() =>
        {
            block_on(Box::pin(policy::verify(&a)))
        }
        Command::Verify(a) => block_on(Box::pin(image::verify(&a))),
        Command::Attest(a) => block_on(Box::pin(attest::attest(&a))),
        Command::AttestBlob(a) => deadline(Box::new(move || attest::attest_blob(&a))),
        Command::VerifyAttestation(a) => block_on(Box::pin(attest::verify_attestation(&a))),
        Command::VerifyBlobAttestation(a) => {
            deadline(Box::new(move || attest::verify_blob_attestation(&a)))
        }
        Command::VerifyVsa(a) => policy::verify_vsa(&a),
        Command::Attach(AttachCommand::Sbom(a)) => block_on(Box::pin(attachments::attach_sbom(&a))),
        Command::Download(d) => block_on(Box::pin(attachments::download(&d))),
        Command::Tree(a) => block_on(Box::pin(attachments::tree(&a))),
        Command::Copy(a) => block_on(Box::pin(transfer::copy(&a))),
        Command::Save(a) => block_on(Box::pin(transfer::save(&a))),
        Command::Load(a) => block_on(Box::pin(transfer::load(&a))),
        Command::Policy(PolicyCommand::Lint(a)) => policy::lint(&a),
        Command::Policy(PolicyCommand::Explain(a)) => block_on(Box::pin(policy::explain(&a))),
        Command::Conformance(c) => deadline(Box::new(move || conformance::run(&c))),
        Command::Initialize(a) => deadline(Box::new(move || trust::initialize(&a))),
        Command::Version(a) => version::version(&a),
        Command::Completion(a) => completion::completion(&a),
        Command::Manpages(a) => completion::manpages(&a),
        // A server: no deadline; it runs until SIGTERM.
        Command::Admission(AdmissionCommand::Serve(a)) => admission::serve(&a),
        Command::Admission(AdmissionCommand::Review(a)) => {
            block_on(Box::pin(admission::review(&a)))
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            // Flags that cannot work together are a usage error, as clap's own: exit 2.
            if error.downcast_ref::<settings::UsageError>().is_some() {
                ExitCode::from(EXIT_UNDECIDED)
            } else {
                ExitCode::from(error_code)
            }
        }
    }
}

/// The `--timeout` of a command that reaches the network.
fn timeout_flag(command: &Command) -> Option<&str> {
    match command {
        Command::Sign(a) => Some(&a.registry.timeout),
        Command::Verify(a) => Some(&a.registry.timeout),
        Command::Attest(a) => Some(&a.registry.timeout),
        Command::VerifyAttestation(a) => Some(&a.registry.timeout),
        Command::Attach(AttachCommand::Sbom(a)) => Some(&a.registry.timeout),
        Command::Download(DownloadCommand::Sbom(a) | DownloadCommand::Signature(a)) => {
            Some(&a.registry.timeout)
        }
        Command::Download(DownloadCommand::Attestation(a)) => Some(&a.registry.timeout),
        Command::Tree(a) => Some(&a.registry.timeout),
        Command::Copy(a) => Some(&a.registry.timeout),
        Command::Save(a) => Some(&a.registry.timeout),
        Command::Load(a) => Some(&a.registry.timeout),
        Command::Policy(PolicyCommand::Explain(a)) => Some(&a.registry.timeout),
        Command::SignBlob(a) => Some(&a.deadline.timeout),
        Command::VerifyBlob(a) => Some(&a.deadline.timeout),
        Command::AttestBlob(a) => Some(&a.deadline.timeout),
        Command::VerifyBlobAttestation(a) => Some(&a.deadline.timeout),
        Command::Initialize(a) => Some(&a.deadline.timeout),
        Command::Admission(AdmissionCommand::Review(a)) => Some(&a.registry.timeout),
        Command::Conformance(args::ConformanceCommand::SignBundle(a)) => Some(&a.deadline.timeout),
        _ => None,
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
