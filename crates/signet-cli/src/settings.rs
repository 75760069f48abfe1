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

use signet_core::reference::ImageReference;
use signet_verify::bundle::{
    BundleLimits, BundlePolicy, BundleVerifier, CertificateIdentity, ClaimMatcher, GithubWorkflow,
    SctPolicy,
};
use signet_verify::{Authority, IdentityAuthority, KeyAuthority, KeyVerifier, TlogPolicy};
use std::sync::Arc;

use crate::args::{CertificateArgs, HashName, RegistryArgs};

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
        fallback_docker_configs: Vec::new(),
    }
}

/// `-a key=value` flags as a map.
pub(crate) fn annotations(flags: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    flags
        .iter()
        .map(|flag| match flag.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            None => crate::usage_bail!("unable to parse annotation: {flag} (expected key=value)"),
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

/// The TUF cache's trust material, or `None` when `signet initialize` never ran.
fn tuf_material_if_initialized() -> anyhow::Result<Option<signet_trust::TrustMaterial>> {
    let cache = signet_trust::TufCache::from_env()?;
    match signet_trust::load_blocking(&cache, std::time::SystemTime::now()) {
        Ok(material) => Ok(Some(material)),
        Err(signet_trust::TrustError::NotInitialized { .. }) => Ok(None),
        Err(error) => Err(anyhow::Error::new(error)
            .context("loading the trusted root from the TUF cache set up by `signet initialize`")),
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

/// The public key `key` names (a file, or the public half of a token or KMS key), checking
/// signatures with `hash` (or the key's usual hashes).
pub(crate) async fn key_verifier(
    key: &Path,
    hash_name: Option<HashName>,
) -> anyhow::Result<KeyVerifier> {
    let key = public_key(key, &limits()?).await?;
    Ok(match hash(hash_name) {
        Some(h) => KeyVerifier::with_hash(key, h),
        None => KeyVerifier::new(key),
    })
}

/// A trusted root parsed for verification.
pub(crate) fn bundle_verifier(flag: Option<&Path>) -> anyhow::Result<Arc<BundleVerifier>> {
    bundle_verifier_with(flag, SctPolicy::Require, TlogPolicy::Require)
}

/// A trusted root parsed for verification, with the SCT and log inclusion checks the
/// `--insecure-ignore-*` flags switch off.
pub(crate) fn bundle_verifier_with(
    flag: Option<&Path>,
    sct: SctPolicy,
    tlog: TlogPolicy,
) -> anyhow::Result<Arc<BundleVerifier>> {
    let root = trusted_root(flag)?;
    let verifier = BundleVerifier::new(&root.bytes, BundleLimits::default())
        .with_context(|| format!("loading the trusted root {}", root.origin))?
        .with_sct(sct)
        .with_tlog(tlog);
    Ok(Arc::new(verifier))
}

/// Whether certificates must carry a verifying SCT (`--insecure-ignore-sct`).
pub(crate) fn sct_policy(insecure_ignore_sct: bool) -> SctPolicy {
    if insecure_ignore_sct {
        SctPolicy::InsecureIgnore
    } else {
        SctPolicy::Require
    }
}

/// The signer a provenance's builder must be, when no identity flag names one: an identity
/// authority over the trusted root of `certificate`.
pub(crate) fn signer_authority(
    certificate: &CertificateArgs,
    signer: CertificateIdentity,
    insecure_ignore_tlog: bool,
) -> anyhow::Result<Authority> {
    let tlog = if insecure_ignore_tlog {
        TlogPolicy::InsecureIgnore
    } else {
        TlogPolicy::Require
    };
    let root = bundle_verifier_with(
        certificate.trusted_root.as_deref(),
        sct_policy(certificate.insecure_ignore_sct),
        tlog,
    )?;
    Ok(Authority::Identity(IdentityAuthority::new(
        root,
        BundlePolicy::Certificate(signer),
    )))
}

/// The trusted root a key's transparency-log entries are checked against: `--trusted-root`,
/// else the TUF cache — as for every command that checks a log entry. Without either, `None`:
/// each signature then fails the log check, saying how to give one. Not looked for when the
/// log is not checked and no root is named.
fn key_trusted_root(
    flag: Option<&Path>,
    tlog: TlogPolicy,
) -> anyhow::Result<Option<Arc<BundleVerifier>>> {
    match (flag, tlog) {
        (Some(path), _) => bundle_verifier(Some(path)).map(Some),
        (None, TlogPolicy::InsecureIgnore) => Ok(None),
        (None, _) => match tuf_material_if_initialized()? {
            None => Ok(None),
            Some(_) => bundle_verifier(None).map(Some),
        },
    }
}

/// The identity flags as a certificate policy; `None` when no identity is given.
fn certificate_identity(args: &CertificateArgs) -> anyhow::Result<Option<BundlePolicy>> {
    let mut github = GithubWorkflow::default();
    github.repository = args.certificate_github_workflow_repository.clone();
    github.git_ref = args.certificate_github_workflow_ref.clone();
    github.trigger = args.certificate_github_workflow_trigger.clone();
    github.sha = args.certificate_github_workflow_sha.clone();
    github.name = args.certificate_github_workflow_name.clone();
    let identity = match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
    ) {
        (Some(exact), _) => ClaimMatcher::exact(exact),
        (None, Some(regex)) => {
            ClaimMatcher::regex(regex).context("--certificate-identity-regexp")?
        }
        (None, None) => {
            if args.certificate_oidc_issuer.is_some()
                || args.certificate_oidc_issuer_regexp.is_some()
                || !github.is_empty()
            {
                return Err(usage(
                    "--certificate-oidc-issuer and --certificate-github-workflow-* need --certificate-identity or --certificate-identity-regexp",
                ));
            }
            return Ok(None);
        }
    };
    let issuer = match (
        &args.certificate_oidc_issuer,
        &args.certificate_oidc_issuer_regexp,
    ) {
        (Some(exact), _) => ClaimMatcher::exact(exact),
        (None, Some(regex)) => {
            ClaimMatcher::regex(regex).context("--certificate-oidc-issuer-regexp")?
        }
        (None, None) => {
            return Err(usage(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with a certificate identity",
            ));
        }
    };
    Ok(Some(BundlePolicy::Certificate(
        CertificateIdentity::new(identity, issuer).with_github_workflow(github),
    )))
}

/// Who must have signed, from `--key` or the certificate identity flags; `None` when neither
/// is given (the caller says what would do).
pub(crate) async fn authority(
    key: Option<&Path>,
    certificate: &CertificateArgs,
    insecure_ignore_tlog: bool,
    hash_name: Option<HashName>,
) -> anyhow::Result<Option<Authority>> {
    let tlog = if insecure_ignore_tlog {
        TlogPolicy::InsecureIgnore
    } else {
        TlogPolicy::Require
    };
    let identity = certificate_identity(certificate)?;
    match (key, identity) {
        (Some(_), Some(_)) => Err(usage(
            "give either --key or a certificate identity, not both",
        )),
        (Some(path), None) => {
            let key = key_verifier(path, hash_name).await?;
            let root = key_trusted_root(certificate.trusted_root.as_deref(), tlog)?;
            Ok(Some(Authority::Key(
                KeyAuthority::new(key, root).with_tlog(tlog),
            )))
        }
        (None, Some(identity)) => {
            let root = bundle_verifier_with(
                certificate.trusted_root.as_deref(),
                sct_policy(certificate.insecure_ignore_sct),
                tlog,
            )?;
            Ok(Some(Authority::Identity(IdentityAuthority::new(
                root, identity,
            ))))
        }
        (None, None) => Ok(None),
    }
}

/// A usage error: the flags given cannot work together. Exits 2, like clap's own.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error as an `anyhow::Error` (exit 2 wherever it surfaces).
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// The current time, for policies and attestations.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Image references from the command line.
pub(crate) fn parse_images(images: &[String]) -> anyhow::Result<Vec<ImageReference>> {
    images
        .iter()
        .map(|i| {
            i.parse()
                .with_context(|| format!("parsing image reference {i:?}"))
        })
        .collect()
}

/// Refuses a transparency-log upload signet cannot make yet, rather than pretending.
pub(crate) fn require_no_tlog_upload(tlog_upload: bool) -> anyhow::Result<()> {
    if tlog_upload {
        crate::usage_bail!(
            "uploading to a transparency log (Rekor) is not supported yet; pass --tlog-upload=false to sign without a log entry"
        );
    }
    Ok(())
}

impl CertificateArgs {
    /// Whether a certificate identity was given (then signatures are verified by certificate,
    /// not by key).
    pub(crate) fn has_identity(&self) -> bool {
        self.certificate_identity.is_some() || self.certificate_identity_regexp.is_some()
    }
}

/// A Sigstore bundle file, read up to one byte past the limit, so that the verifier, not the
/// reader, refuses a large bundle (naming its check).
pub(crate) fn read_bundle(path: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = BundleLimits::default().max_bundle_bytes.saturating_add(1);
    let file = std::fs::File::open(path)
        .with_context(|| format!("opening the bundle {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading the bundle {}", path.display()))?;
    Ok(bytes)
}

/// A file to hash or sign, or stdin for `-`, buffered; a large file shows hashing progress on
/// a terminal.
pub(crate) fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let hashing =
        crate::progress::ProgressReader::new(file, format!("Hashing {}", path.display()), size);
    Ok(Box::new(std::io::BufReader::with_capacity(
        1 << 20,
        hashing,
    )))
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
