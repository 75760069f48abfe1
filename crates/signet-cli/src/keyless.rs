//! Keyless signing of files: `signet sign-blob --identity-token …` and
//! `signet conformance sign-bundle` (the sigstore-conformance client protocol).
//!
//! Both resolve the services (a signing config, or Fulcio/Rekor/TSA URLs) and the trusted
//! root, then call `signet_sign::keyless`, which verifies the bundle it made before this
//! module writes it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_sign::RekorUploader;
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_sign::keyless::{IdentityToken, KeylessServices, KeylessSigner};

use crate::args::{ConformanceSignBundleArgs, KeylessArgs};
use crate::settings;

/// The environment variable Cosign reads the identity token from.
const TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";

/// Whether signing was asked to be keyless: `--identity-token`, or no `--key` and either
/// `SIGSTORE_ID_TOKEN` set or a CI system with ambient OIDC credentials.
pub(crate) fn requested(args: &KeylessArgs, key_given: bool) -> bool {
    args.identity_token.is_some()
        || (!key_given && (std::env::var_os(TOKEN_ENV).is_some() || ambient_environment()))
}

/// Whether this runs in a CI system whose OIDC token signet can request (as Cosign's ambient
/// providers): GitHub Actions, GitLab CI, Buildkite, CircleCI.
fn ambient_environment() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
        || ["GITLAB_CI", "BUILDKITE", "CIRCLECI"]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
}

/// `signet sign-blob --identity-token T (--signing-config F | --fulcio-url U --rekor-url U
/// [--timestamp-server-url U]) --trusted-root R --bundle OUT FILE`.
pub(crate) fn sign_blob(
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
        crate::settings::usage("keyless signing writes a Sigstore bundle: pass --bundle FILE")
    })?;
    // The configuration first: a missing trusted root or service says so before the token
    // is looked at (or requested from the CI system).
    let services = services(args)?;
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    let token = token(args)?;
    sign(token, services, &root, bundle, file)
}

/// The identity token: `--identity-token`, else `SIGSTORE_ID_TOKEN`, else the CI system's
/// ambient OIDC token (requested for the audience `sigstore`).
fn token(args: &KeylessArgs) -> anyhow::Result<IdentityToken> {
    if let Some(token) = &args.identity_token {
        return Ok(IdentityToken::new(token.clone())?);
    }
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        return Ok(IdentityToken::new(token)?);
    }
    if ambient_environment() {
        // Its own thread and runtime: callers may already be inside one.
        let detected = std::thread::scope(|scope| {
            scope
                .spawn(|| -> anyhow::Result<Option<IdentityToken>> {
                    Ok(crate::runtime()?.block_on(IdentityToken::detect_ambient())?)
                })
                .join()
        })
        .map_err(|_| anyhow::anyhow!("requesting the ambient OIDC token failed"))??;
        if let Some(token) = detected {
            eprintln!(
                "Using the ambient OIDC token of this CI system (issuer {})",
                token.issuer()
            );
            return Ok(token);
        }
    }
    crate::usage_bail!(
        "sign keylessly with --identity-token TOKEN or {TOKEN_ENV} (or in a CI system with ambient OIDC credentials, e.g. GitHub Actions with id-token: write), or sign with --key"
    )
}

/// The services: `--signing-config`, else `--fulcio-url` and `--rekor-url`, else the signing
/// config `signet initialize` fetched.
fn services(args: &KeylessArgs) -> anyhow::Result<KeylessServices> {
    match (&args.signing_config, &args.fulcio_url, &args.rekor_url) {
        (Some(path), None, None) => services_from_file(path),
        (None, None, None) => services_from_tuf(),
        (None, Some(fulcio), Some(rekor)) => Ok(KeylessServices::from_urls(
            fulcio,
            rekor,
            args.timestamp_server_url.as_deref(),
        )?),
        _ => crate::usage_bail!(
            "keyless signing needs --signing-config FILE, or --fulcio-url and --rekor-url (and optionally --timestamp-server-url)"
        ),
    }
}

/// A keyless signer for images: the token, the services and the trusted root from the flags
/// (or the TUF cache).
pub(crate) fn image_signer(args: &KeylessArgs) -> anyhow::Result<(IdentityToken, KeylessSigner)> {
    let services = services(args)?;
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    let signer = KeylessSigner::new(services, &root.bytes)
        .with_context(|| format!("using the trusted root {}", root.origin))?;
    let token = token(args)?;
    Ok((token, signer))
}

/// The Rekor log key signatures are recorded in (`--tlog-upload` with `--key`): `--rekor-url`,
/// else the one the signing config names (`--signing-config`, or the TUF cache), checked
/// against the trusted root.
pub(crate) fn rekor_uploader(args: &KeylessArgs) -> anyhow::Result<RekorUploader> {
    let url = match &args.rekor_url {
        Some(url) => url.clone(),
        None => services(args)
            .context(
                "--tlog-upload needs a Rekor log: pass --rekor-url URL (or --signing-config FILE), or sign without a log entry with --tlog-upload=false",
            )?
            .rekor_url()
            .to_owned(),
    };
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    RekorUploader::new(&url, &root.bytes)
        .with_context(|| format!("using the trusted root {}", root.origin))
}

/// `signet conformance sign-bundle [--staging] --identity-token T --bundle B
/// [--trusted-root R] [--signing-config S] FILE`.
pub(crate) fn conformance_sign_bundle(
    args: &ConformanceSignBundleArgs,
) -> anyhow::Result<ExitCode> {
    crate::usage_ensure!(
        !args.staging || (args.trusted_root.is_some() && args.signing_config.is_some()),
        "sign-bundle --staging needs --trusted-root and --signing-config (run `signet initialize --mirror https://tuf-repo-cdn.sigstage.dev --root STAGING-ROOT` to use the cache instead)"
    );
    let services = match &args.signing_config {
        Some(path) => services_from_file(path)?,
        None => services_from_tuf()?,
    };
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    sign(
        IdentityToken::new(args.identity_token.clone())?,
        services,
        &root,
        &args.bundle,
        &args.file,
    )
}

fn services_from_tuf() -> anyhow::Result<KeylessServices> {
    let bytes = settings::tuf_signing_config()?;
    KeylessServices::from_signing_config(&bytes)
        .context("reading the signing config from the TUF cache")
}

fn services_from_file(path: &Path) -> anyhow::Result<KeylessServices> {
    let bytes = settings::read_bounded(path, 1024 * 1024, "signing config")?;
    KeylessServices::from_signing_config(&bytes)
        .with_context(|| format!("reading the signing config {}", path.display()))
}

fn sign(
    token: IdentityToken,
    services: KeylessServices,
    trusted_root: &settings::TrustedRoot,
    bundle_path: &Path,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let signer = KeylessSigner::new(services, &trusted_root.bytes)
        .with_context(|| format!("using the trusted root {}", trusted_root.origin))?;
    eprintln!("Using payload from: {}", file.display());
    let input = open_input(file)?;
    let signed = crate::runtime()?
        .block_on(signer.sign_blob(&token, input))
        .with_context(|| format!("signing {} keylessly", file.display()))?;
    write_key_file(bundle_path, signed.bundle_json(), 0o644, Overwrite::Replace)?;
    eprintln!(
        "Signed {} as {} (issuer {}); the bundle verifies against {}",
        signed.digest(),
        signed.identity(),
        signed.issuer(),
        trusted_root.origin
    );
    eprintln!("Wrote bundle to file {}", bundle_path.display());
    Ok(ExitCode::SUCCESS)
}

fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}
