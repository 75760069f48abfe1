//! `signet initialize`: fetch and verify the Sigstore trusted root and signing config through
//! TUF into the local cache, as `cosign initialize` does. Commands without `--trusted-root`
//! then read them through `settings::trusted_root`.

use std::process::ExitCode;

use anyhow::Context;
use signet_trust::{Mirror, SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET, TufCache};

use crate::args::InitializeArgs;
use crate::settings;

/// A TUF root.json larger than this is refused (Sigstore's is 6 KB).
const MAX_ROOT_BYTES: u64 = 512 * 1024;

/// `signet initialize [--mirror URL] [--root FILE]`.
pub(crate) fn initialize(args: &InitializeArgs) -> anyhow::Result<ExitCode> {
    let root = match &args.root {
        Some(path) => Some(settings::read_bounded(path, MAX_ROOT_BYTES, "TUF root")?),
        None => None,
    };
    let mirror = match (&args.mirror, root) {
        (None, None) => Mirror::sigstore_production(),
        (Some(url), root) => Mirror::new(url, root)?,
        (None, root) => Mirror::new(signet_trust::SIGSTORE_PRODUCTION_MIRROR, root)?,
    };
    let cache = TufCache::from_env()?;
    let material = signet_trust::initialize_blocking(&cache, &mirror, std::time::SystemTime::now())
        .with_context(|| format!("initializing the TUF cache from {}", mirror.url()))?;
    eprintln!(
        "Verified the TUF metadata of {} (root: {})",
        material.mirror(),
        match &args.root {
            Some(path) => path.display().to_string(),
            None => "Sigstore's, embedded in signet".to_owned(),
        }
    );
    eprintln!(
        "  {TRUSTED_ROOT_TARGET}: {}",
        material.trusted_root_path().display()
    );
    match material.signing_config() {
        Some(_) => eprintln!("  {SIGNING_CONFIG_TARGET}: fetched"),
        None => eprintln!("  {SIGNING_CONFIG_TARGET}: not in this repository"),
    }
    eprintln!(
        "Commands without --trusted-root now use this trusted root (cache: {})",
        cache.dir().display()
    );
    Ok(ExitCode::SUCCESS)
}
