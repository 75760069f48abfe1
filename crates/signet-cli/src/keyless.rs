//! Keyless settings, a leaf like `settings`: whether keyless signing was asked for, the
//! identity token (flag, `SIGSTORE_ID_TOKEN`, or the CI system's ambient token), the services
//! (a signing config, Fulcio/Rekor/TSA URLs, or the TUF cache's), the Rekor log key signatures
//! go to, and the one keyless file-signing step `sign-blob` and `conformance sign-bundle`
//! share (`signet_sign::keyless` verifies the bundle before it is written here).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use signet_sign::RekorUploader;
use signet_sign::keyfile::{Overwrite, write_key_file};
use signet_sign::keyless::{IdentityToken, KeylessServices, KeylessSigner};

use crate::args::{KeylessArgs, KeylessServiceArgs};
use crate::settings;

/// The environment variable Cosign reads the identity token from.
const TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";

/// Whether signing was asked to be keyless: `--identity-token`, or no `--key` and either
/// `SIGSTORE_ID_TOKEN` set or a CI system with ambient OIDC credentials.
pub(crate) fn requested(args: &KeylessArgs, key_given: bool) -> bool {
    args.services.identity_token.is_some()
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

/// The identity token: `--identity-token`, else `SIGSTORE_ID_TOKEN`, else the CI system's
/// ambient OIDC token (requested for the audience `sigstore`).
pub(crate) fn token(args: &KeylessServiceArgs) -> anyhow::Result<IdentityToken> {
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
pub(crate) fn services(args: &KeylessServiceArgs) -> anyhow::Result<KeylessServices> {
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
    signer(&args.services, args.trusted_root.as_deref())
}

/// A keyless signer from the token and services flags and a trusted root (`verify` signs its
/// summaries with the trusted root it verifies with).
pub(crate) fn signer(
    args: &KeylessServiceArgs,
    trusted_root: Option<&Path>,
) -> anyhow::Result<(IdentityToken, KeylessSigner)> {
    let services = services(args)?;
    let root = settings::trusted_root(trusted_root)?;
    let signer = KeylessSigner::new(services, &root.bytes)
        .with_context(|| format!("using the trusted root {}", root.origin))?;
    let token = token(args)?;
    Ok((token, signer))
}

/// The Rekor log key signatures are recorded in (`--tlog-upload` with `--key`): `--rekor-url`,
/// else the one the signing config names (`--signing-config`, or the TUF cache), checked
/// against the trusted root.
pub(crate) fn rekor_uploader(args: &KeylessArgs) -> anyhow::Result<RekorUploader> {
    let url = match &args.services.rekor_url {
        Some(url) => url.clone(),
        None => services(&args.services)
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

pub(crate) fn services_from_tuf() -> anyhow::Result<KeylessServices> {
    let bytes = settings::tuf_signing_config()?;
    KeylessServices::from_signing_config(&bytes)
        .context("reading the signing config from the TUF cache")
}

pub(crate) fn services_from_file(path: &Path) -> anyhow::Result<KeylessServices> {
    let bytes = settings::read_bounded(path, 1024 * 1024, "signing config")?;
    KeylessServices::from_signing_config(&bytes)
        .with_context(|| format!("reading the signing config {}", path.display()))
}

pub(crate) fn sign_file(
    token: IdentityToken,
    services: KeylessServices,
    trusted_root: &settings::TrustedRoot,
    bundle_path: &Path,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let signer = KeylessSigner::new(services, &trusted_root.bytes)
        .with_context(|| format!("using the trusted root {}", trusted_root.origin))?;
    eprintln!("Using payload from: {}", file.display());
    let input = settings::open_input(file)?;
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
