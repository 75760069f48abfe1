//! Turning flags and environment into library settings.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, bail};
use signet_core::digest::DigestAlgorithm;
use signet_core::keys::{PrivateKey, PublicKey};
use signet_core::limits::Limits;
use signet_core::reference::Repository;
use signet_keys::{KeyOptions, KeyReference, SigningKey};
use signet_oci::{ClientOptions, HttpPolicy, TlsPolicy};

use crate::args::{HashName, RegistryArgs};

/// The environment variable Cosign reads the key password from.
const PASSWORD_ENV: &str = "COSIGN_PASSWORD";

/// Whether a password prompt asks twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirm {
    Once,
    Twice,
}

/// The key password: `COSIGN_PASSWORD` if set (empty is a valid, empty password), else a
/// prompt on the terminal.
pub(crate) fn password(confirm: Confirm) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    if let Some(value) = std::env::var_os(PASSWORD_ENV) {
        return Ok(zeroize::Zeroizing::new(value.into_encoded_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password: set {PASSWORD_ENV} (it may be empty) or run in a terminal to be prompted"
        );
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("Enter password for private key: ")
            .context("reading the password")?,
    );
    if confirm == Confirm::Twice {
        let second = zeroize::Zeroizing::new(
            rpassword::prompt_password("Enter password for private key again: ")
                .context("reading the password")?,
        );
        if *first != *second {
            bail!("the passwords do not match");
        }
    }
    Ok(zeroize::Zeroizing::new(first.as_bytes().to_vec()))
}

/// Reads a small file (key, signature) with a size bound.
pub(crate) fn read_bounded(path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("opening {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{what} {} is larger than {limit} bytes", path.display());
    }
    Ok(bytes)
}

/// Loads and decrypts a Cosign private key file, asking for its password.
pub(crate) fn load_private_key(path: &Path, limits: &Limits) -> anyhow::Result<PrivateKey> {
    read_private_key(path, limits)?.decrypt()
}

/// A key file read and its password asked for, not yet decrypted (decryption is the slow
/// part: scrypt), so that a caller can do other work meanwhile.
pub(crate) struct PendingKey<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
    password: zeroize::Zeroizing<Vec<u8>>,
}

impl PendingKey<'_> {
    /// Decrypts the key.
    pub(crate) fn decrypt(&self) -> anyhow::Result<PrivateKey> {
        PrivateKey::from_encrypted_pem(&self.bytes, &self.password)
            .with_context(|| format!("loading the private key {}", self.path.display()))
    }
}

/// Reads the key file at `path` and its password (`COSIGN_PASSWORD` or a prompt).
pub(crate) fn read_private_key<'a>(
    path: &'a Path,
    limits: &Limits,
) -> anyhow::Result<PendingKey<'a>> {
    let bytes = read_bounded(path, limits.max_key_file_bytes, "key file")?;
    let password = password(Confirm::Once)?;
    Ok(PendingKey {
        path,
        bytes,
        password,
    })
}

/// What `--key` names: a file, or a key on a PKCS#11 token or in a KMS.
pub(crate) fn key_reference(key: &Path) -> anyhow::Result<KeyReference> {
    match key.to_str() {
        Some(text) => Ok(KeyReference::parse(text)?),
        None => Ok(KeyReference::file(key)),
    }
}

/// Asks for a token's PIN on the terminal.
fn prompt_pin(token: &str) -> std::io::Result<signet_keys::Pin> {
    if !std::io::stdin().is_terminal() {
        return Err(std::io::Error::other("not a terminal"));
    }
    rpassword::prompt_password(format!("Enter PIN for PKCS#11 token {token:?}: "))
        .map(signet_keys::Pin::new)
}

/// Cosign's settings for key services: `COSIGN_PKCS11_MODULE_PATH`, `COSIGN_PKCS11_PIN` (else
/// a prompt on a terminal), the AWS environment and files.
pub(crate) fn key_options() -> KeyOptions<'static> {
    KeyOptions {
        pin_prompt: Some(&prompt_pin),
        ..KeyOptions::from_env()
    }
}

/// The signing key `--key` names: a key file decrypted with its password, a PKCS#11 token
/// key (logged in), or an AWS KMS key (its public key fetched).
pub(crate) async fn signing_key(
    key: &Path,
    limits: &Limits,
) -> anyhow::Result<Box<dyn SigningKey>> {
    match key_reference(key)? {
        KeyReference::File(path) => Ok(Box::new(load_private_key(&path, limits)?)),
        reference => signet_keys::open_signer(&reference, &key_options())
            .await
            .with_context(|| format!("opening the signing key {reference}")),
    }
}

/// The public key `--key` names for verifying: a PEM or DER file, or the public half of a
/// token or KMS key.
pub(crate) async fn public_key(key: &Path, limits: &Limits) -> anyhow::Result<PublicKey> {
    match key_reference(key)? {
        KeyReference::File(path) => {
            let bytes = read_bounded(&path, limits.max_key_file_bytes, "public key")?;
            PublicKey::parse(&bytes)
                .with_context(|| format!("loading the public key {}", path.display()))
        }
        reference => signet_keys::public_key(&reference, &key_options())
            .await
            .with_context(|| format!("reading the public key of {reference}")),
    }
}

/// Limits, with Cosign's `COSIGN_MAX_ATTACHMENT_SIZE` applied.
pub(crate) fn limits() -> anyhow::Result<Limits> {
    let mut limits = Limits::default();
    if let Ok(value) = std::env::var("COSIGN_MAX_ATTACHMENT_SIZE") {
        limits.max_attachment_bytes = parse_size(&value)
            .with_context(|| format!("COSIGN_MAX_ATTACHMENT_SIZE={value:?} is not a size"))?;
    }
    Ok(limits)
}

/// Parses `1048576`, `128MiB`, `1GB`, `64k`.
fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().context("no number")?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" | "ki" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" | "mi" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" | "gi" => 1 << 30,
        other => bail!("unknown unit {other:?}"),
    };
    number.checked_mul(multiplier).context("too large")
}

/// Parses `90s`, `3m`, `1h`, or plain seconds.
pub(crate) fn parse_duration(text: &str) -> anyhow::Result<std::time::Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a duration"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "ms" => return Ok(std::time::Duration::from_millis(number)),
        other => bail!("unknown duration unit {other:?} in {text:?} (use ms, s, m or h)"),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

/// Registry options from the flags.
pub(crate) fn client_options(registry: &RegistryArgs, limits: Limits) -> ClientOptions {
    ClientOptions {
        limits,
        http: if registry.allow_http_registry || registry.allow_insecure_registry {
            HttpPolicy::AnyRegistry
        } else {
            HttpPolicy::LoopbackOnly
        },
        tls: if registry.allow_insecure_registry {
            TlsPolicy::DangerAcceptInvalidCertificates
        } else {
            TlsPolicy::Verify
        },
    }
}

/// `-a key=value` flags as a map.
pub(crate) fn annotations(flags: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    flags
        .iter()
        .map(|flag| match flag.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            None => bail!("unable to parse annotation: {flag} (expected key=value)"),
        })
        .collect()
}

/// The repository `COSIGN_REPOSITORY` names, if set.
pub(crate) fn signature_repository() -> anyhow::Result<Option<Repository>> {
    match std::env::var("COSIGN_REPOSITORY") {
        Ok(value) if !value.is_empty() => Ok(Some(
            value
                .parse()
                .with_context(|| format!("COSIGN_REPOSITORY={value:?}"))?,
        )),
        _ => Ok(None),
    }
}

pub(crate) fn hash(name: Option<HashName>) -> Option<DigestAlgorithm> {
    name.map(|n| match n {
        HashName::Sha256 => DigestAlgorithm::Sha256,
        HashName::Sha384 => DigestAlgorithm::Sha384,
        HashName::Sha512 => DigestAlgorithm::Sha512,
    })
}

/// A Sigstore trusted root and where it came from (for messages).
pub(crate) struct TrustedRoot {
    /// The bytes of `trusted_root.json`.
    pub(crate) bytes: Vec<u8>,
    /// `FILE`, or the TUF mirror and cached path.
    pub(crate) origin: String,
}

/// The one place that decides where a trusted root comes from: `--trusted-root FILE`, else
/// the TUF cache of the mirror `signet initialize` set up last (re-verified offline, refreshed
/// from the mirror when its metadata expired).
pub(crate) fn trusted_root(flag: Option<&Path>) -> anyhow::Result<TrustedRoot> {
    let limit = signet_verify::bundle::BundleLimits::default().max_trusted_root_bytes;
    if let Some(path) = flag {
        return Ok(TrustedRoot {
            bytes: read_bounded(path, limit, "trusted root")?,
            origin: path.display().to_string(),
        });
    }
    let material = tuf_material("trusted root", "--trusted-root FILE")?;
    if material.trusted_root().len() as u64 > limit {
        bail!(
            "the trusted root of {} is larger than {limit} bytes",
            material.mirror()
        );
    }
    Ok(TrustedRoot {
        bytes: material.trusted_root().to_vec(),
        origin: format!(
            "{} (TUF {}, cached in {})",
            signet_trust::TRUSTED_ROOT_TARGET,
            material.mirror(),
            material.trusted_root_path().display()
        ),
    })
}

/// The signing config of the mirror `signet initialize` set up last, for keyless signing
/// without `--signing-config` or service URLs.
pub(crate) fn tuf_signing_config() -> anyhow::Result<Vec<u8>> {
    let material = tuf_material(
        "signing config",
        "--signing-config FILE (or --fulcio-url and --rekor-url)",
    )?;
    match material.signing_config() {
        Some(bytes) => Ok(bytes.to_vec()),
        None => bail!(
            "the TUF repository {} has no {}: pass --signing-config FILE, or --fulcio-url and --rekor-url",
            material.mirror(),
            signet_trust::SIGNING_CONFIG_TARGET
        ),
    }
}

/// The TUF cache's trust material; without one, an error naming `flag` and `signet initialize`.
fn tuf_material(what: &str, flag: &str) -> anyhow::Result<signet_trust::TrustMaterial> {
    let cache = signet_trust::TufCache::from_env()?;
    match signet_trust::load_blocking(&cache, std::time::SystemTime::now()) {
        Ok(material) => Ok(material),
        Err(signet_trust::TrustError::NotInitialized { dir }) => bail!(
            "no {what}: pass {flag}, or run `signet initialize` once to fetch Sigstore's through TUF (there is no TUF cache in {})",
            dir.display()
        ),
        Err(error) => Err(anyhow::Error::new(error).context(format!(
            "loading the {what} from the TUF cache set up by `signet initialize`"
        ))),
    }
}

/// Refuses a transparency-log upload signet cannot make yet, rather than pretending.
pub(crate) fn require_no_tlog_upload(tlog_upload: bool) -> anyhow::Result<()> {
    if tlog_upload {
        bail!(
            "uploading to a transparency log (Rekor) is not supported yet; pass --tlog-upload=false to sign without a log entry"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_like_cosign() {
        assert_eq!(parse_size("1024").ok(), Some(1024));
        assert_eq!(parse_size("128MiB").ok(), Some(128 << 20));
        assert_eq!(parse_size("2k").ok(), Some(2000));
        assert!(parse_size("lots").is_err());
    }
}
