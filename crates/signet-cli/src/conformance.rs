//! Sigstore bundles on the command line: `signet conformance verify-bundle` (the
//! sigstore-conformance client protocol) and `signet verify-blob --bundle`.
//!
//! Both verify offline with `signet_verify::bundle`. Exit 0: verified; 1: denied, with the
//! failed check on stderr as `Error: BUNDLE: <check> [<code>]: <detail>`; 2: could not find
//! out (no or unreadable trusted root, key or artifact). Without `--trusted-root`, the trusted
//! root comes from the TUF cache `signet initialize` set up.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::Digest;
use signet_core::keys::{KeyKind, PublicKey};
use signet_verify::bundle::{Artifact, BundleLimits, BundlePolicy, BundleVerifier, SctPolicy};

use crate::args::{ConformanceCommand, ConformanceVerifyBundleArgs, VerifyBlobArgs};
use crate::settings;

/// Runs a `signet conformance` subcommand.
pub(crate) fn run(command: &ConformanceCommand) -> anyhow::Result<ExitCode> {
    let result = match command {
        ConformanceCommand::VerifyBundle(args) => verify_bundle(args),
        ConformanceCommand::SignBundle(args) => crate::keyless::conformance_sign_bundle(args),
    };
    // Could not find out: exit 2, as the verify commands do, never 1 (denied).
    result.or_else(|error| {
        eprintln!("Error: {error:#}");
        Ok(ExitCode::from(crate::EXIT_UNDECIDED))
    })
}

/// The artifact to check: a file (`-` for stdin) or `sha256:<hex>` (`sha384:`, `sha512:`).
enum Input<'a> {
    File(&'a Path),
    Digest(Digest),
}

fn verify_bundle(args: &ConformanceVerifyBundleArgs) -> anyhow::Result<ExitCode> {
    let policy = policy(
        args.key.as_deref(),
        args.certificate_identity.as_deref(),
        args.certificate_oidc_issuer.as_deref(),
    )?;
    // The protocol passes either a path or `sha256:<hex>`; npm packages are named by sha512.
    let input = if ["sha256:", "sha384:", "sha512:"]
        .iter()
        .any(|prefix| args.input.starts_with(prefix))
    {
        Input::Digest(
            args.input
                .parse()
                .with_context(|| format!("{} is not a digest", args.input))?,
        )
    } else {
        Input::File(Path::new(&args.input))
    };
    check(
        &args.bundle,
        input,
        &policy,
        args.trusted_root.as_deref(),
        SctPolicy::Require,
    )
}

/// `signet verify-blob --bundle B (--key K | --certificate-identity I
/// --certificate-oidc-issuer S) --trusted-root T FILE`.
pub(crate) fn verify_blob_bundle(args: &VerifyBlobArgs, bundle: &Path) -> anyhow::Result<ExitCode> {
    let policy = policy(
        args.key.as_deref(),
        args.certificate_identity.as_deref(),
        args.certificate_oidc_issuer.as_deref(),
    )?;
    let sct = if args.insecure_ignore_sct {
        SctPolicy::InsecureIgnore
    } else {
        SctPolicy::Require
    };
    check(
        bundle,
        Input::File(&args.file),
        &policy,
        args.trusted_root.as_deref(),
        sct,
    )
}

fn policy(
    key: Option<&Path>,
    identity: Option<&str>,
    issuer: Option<&str>,
) -> anyhow::Result<BundlePolicy> {
    match (key, identity, issuer) {
        (Some(path), None, None) => {
            let limits = settings::limits()?;
            let bytes = settings::read_bounded(path, limits.max_key_file_bytes, "public key")?;
            let key = PublicKey::parse(&bytes)
                .with_context(|| format!("loading the public key {}", path.display()))?;
            Ok(BundlePolicy::Key(key))
        }
        (None, Some(identity), Some(issuer)) => Ok(BundlePolicy::identity(identity, issuer)),
        _ => anyhow::bail!(
            "give either --key, or both --certificate-identity and --certificate-oidc-issuer"
        ),
    }
}

fn check(
    bundle_path: &Path,
    input: Input<'_>,
    policy: &BundlePolicy,
    trusted_root: Option<&Path>,
    sct: SctPolicy,
) -> anyhow::Result<ExitCode> {
    let limits = BundleLimits::default();
    let root = settings::trusted_root(trusted_root)?;
    let verifier = BundleVerifier::new(&root.bytes, limits)
        .with_context(|| format!("reading the trusted root {}", root.origin))?
        .with_sct(sct);
    // One byte past the limit, so that the verifier, not the reader, rejects a large bundle.
    let bundle = read_at_most(bundle_path, limits.max_bundle_bytes.saturating_add(1))?;

    let outcome = match input {
        Input::Digest(digest) => verifier.verify(&bundle, Artifact::Digest(&digest), policy),
        // Ed25519 signs the whole message, which cannot be streamed: read it, bounded.
        Input::File(path) if matches!(policy, BundlePolicy::Key(k) if k.kind() == KeyKind::Ed25519) =>
        {
            let limit = settings::limits()?.max_unhashed_blob_bytes;
            let mut bytes = Vec::new();
            open_input(path)?
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            anyhow::ensure!(
                bytes.len() as u64 <= limit,
                "{} is larger than {limit} bytes, the limit for Ed25519 keys, which sign whole messages",
                path.display()
            );
            verifier.verify(&bundle, Artifact::Bytes(&bytes), policy)
        }
        Input::File(path) => {
            let mut reader = open_input(path)?;
            verifier.verify(&bundle, Artifact::Reader(&mut reader), policy)
        }
    };
    match outcome {
        Ok(verified) => {
            if let (Some(identity), Some(issuer)) = (verified.identity(), verified.issuer()) {
                eprintln!("Certificate identity {identity}, issuer {issuer}");
            }
            eprintln!("Verified OK");
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) if failure.check().is_operational() => {
            Err(anyhow::Error::new(failure).context(format!("verifying {}", bundle_path.display())))
        }
        Err(failure) => {
            eprintln!(
                "Error: {}: {:#}",
                bundle_path.display(),
                anyhow::Error::new(failure)
            );
            Ok(ExitCode::from(crate::EXIT_DENIED))
        }
    }
}

fn read_at_most(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let file =
        File::open(path).with_context(|| format!("opening the bundle {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading the bundle {}", path.display()))?;
    Ok(bytes)
}

fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}
