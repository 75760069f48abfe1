//! Sigstore bundles on the command line: `signet conformance verify-bundle` (the
//! sigstore-conformance client protocol) and `signet verify-blob --bundle`.
//!
//! Both verify offline with `signet_verify::bundle`. Exit 0: verified; 1: denied, with the
//! failed check on stderr as `Error: BUNDLE: <check> [<code>]: <detail>`; 2: could not find
//! out (no or unreadable trusted root, key or artifact). Without `--trusted-root`, the trusted
//! root comes from the TUF cache `signet initialize` set up.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::Digest;
use signet_core::keys::PublicKey;
use signet_verify::bundle::{BundlePolicy, FileInput};

use crate::args::{ConformanceCommand, ConformanceSignBundleArgs, ConformanceVerifyBundleArgs};
use crate::{output, settings};

/// Runs a `signet conformance` subcommand.
pub(crate) fn run(command: &ConformanceCommand) -> anyhow::Result<ExitCode> {
    let result = match command {
        ConformanceCommand::VerifyBundle(args) => verify_bundle(args),
        ConformanceCommand::SignBundle(args) => sign_bundle(args),
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
    check(&args.bundle, input, &policy, args.trusted_root.as_deref())
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
        _ => crate::usage_bail!(
            "give either --key, or both --certificate-identity and --certificate-oidc-issuer"
        ),
    }
}

fn check(
    bundle_path: &Path,
    input: Input<'_>,
    policy: &BundlePolicy,
    trusted_root: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let verifier = settings::bundle_verifier(trusted_root)?;
    let bundle = settings::read_bundle(bundle_path)?;
    let limit = settings::limits()?.max_unhashed_blob_bytes;
    let outcome = match input {
        Input::Digest(digest) => {
            verifier.verify_file(&bundle, FileInput::Digest(&digest), policy, limit)
        }
        Input::File(path) => {
            let mut reader = settings::open_input(path)?;
            verifier.verify_file(&bundle, FileInput::Reader(&mut reader), policy, limit)
        }
    };
    output::file_bundle(bundle_path, outcome)
}

/// `signet conformance sign-bundle [--staging] --identity-token T --bundle B
/// [--trusted-root R] [--signing-config S] FILE`.
fn sign_bundle(args: &ConformanceSignBundleArgs) -> anyhow::Result<ExitCode> {
    crate::usage_ensure!(
        !args.staging || (args.trusted_root.is_some() && args.signing_config.is_some()),
        "sign-bundle --staging needs --trusted-root and --signing-config (run `signet initialize --mirror https://tuf-repo-cdn.sigstage.dev --root STAGING-ROOT` to use the cache instead)"
    );
    let services = match &args.signing_config {
        Some(path) => crate::keyless::services_from_file(path)?,
        None => crate::keyless::services_from_tuf()?,
    };
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    crate::keyless::sign_file(
        signet_sign::keyless::IdentityToken::new(args.identity_token.clone())?,
        services,
        &root,
        &args.bundle,
        &args.file,
    )
}
