//! Cosign v3's format on the verify side: the Sigstore bundles attached to an image as OCI 1.1
//! referrers, read by `verify` and `verify-attestation` next to the legacy `.sig`/`.att`.

use std::io::Write;

use anyhow::{Context, bail};
use signet_core::keys::PublicKey;
use signet_core::reference::{ImageReference, Repository};
use signet_oci::OciClient;
use signet_verify::bundle::{
    BundleLimits, BundlePolicy, BundleVerifier, CertificateIdentity, ClaimMatcher, GithubWorkflow,
    SctPolicy,
};
use signet_verify::{
    BundlePurpose, ReferrerReport, gather_referrer_bundles, judge_referrer_bundles,
};

use crate::args::{CertificateArgs, OutputFormat};
use crate::settings;

/// How bundles are verified: the trusted root, once parsed, and whom they must be signed by.
pub(crate) struct BundleSettings {
    verifier: BundleVerifier,
    policy: BundlePolicy,
}

impl CertificateArgs {
    /// Whether an identity was given (then bundles are verified by certificate, not by key).
    pub(crate) fn has_identity(&self) -> bool {
        self.certificate_identity.is_some() || self.certificate_identity_regexp.is_some()
    }

    /// Whether certificates must carry a verifying SCT (`--insecure-ignore-sct`).
    pub(crate) fn sct(&self) -> SctPolicy {
        if self.insecure_ignore_sct {
            SctPolicy::InsecureIgnore
        } else {
            SctPolicy::Require
        }
    }

    fn github_workflow(&self) -> GithubWorkflow {
        let mut github = GithubWorkflow::default();
        github.repository = self.certificate_github_workflow_repository.clone();
        github.git_ref = self.certificate_github_workflow_ref.clone();
        github.trigger = self.certificate_github_workflow_trigger.clone();
        github.sha = self.certificate_github_workflow_sha.clone();
        github.name = self.certificate_github_workflow_name.clone();
        github
    }
}

/// The bundle settings from the flags: with an identity, a certificate policy (the trusted
/// root from --trusted-root or the TUF cache); with a key and a trusted root, the key; with a
/// key alone, `None` (only the legacy format is read, as before).
pub(crate) fn settings(
    args: &CertificateArgs,
    key: Option<&PublicKey>,
) -> anyhow::Result<Option<BundleSettings>> {
    let policy = if args.has_identity() {
        let identity = match (
            &args.certificate_identity,
            &args.certificate_identity_regexp,
        ) {
            (Some(exact), _) => ClaimMatcher::exact(exact),
            (None, Some(regex)) => {
                ClaimMatcher::regex(regex).context("--certificate-identity-regexp")?
            }
            (None, None) => {
                bail!("--certificate-identity or --certificate-identity-regexp is required")
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
            (None, None) => bail!(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with a certificate identity"
            ),
        };
        BundlePolicy::Certificate(
            CertificateIdentity::new(identity, issuer).with_github_workflow(args.github_workflow()),
        )
    } else if args.certificate_oidc_issuer.is_some()
        || args.certificate_oidc_issuer_regexp.is_some()
        || !args.github_workflow().is_empty()
    {
        bail!(
            "--certificate-oidc-issuer and --certificate-github-workflow-* need --certificate-identity or --certificate-identity-regexp"
        );
    } else if let (Some(key), Some(_)) = (key, &args.trusted_root) {
        BundlePolicy::Key(key.clone())
    } else {
        return Ok(None);
    };
    let root = settings::trusted_root(args.trusted_root.as_deref())?;
    let verifier = BundleVerifier::new(&root.bytes, BundleLimits::default())
        .with_context(|| format!("loading the trusted root {}", root.origin))?
        .with_sct(args.sct());
    Ok(Some(BundleSettings { verifier, policy }))
}

impl BundleSettings {
    /// The trusted root and the policy, for one-off verification.
    pub(crate) fn into_parts(self) -> (BundleVerifier, BundlePolicy) {
        (self.verifier, self.policy)
    }

    /// The trusted root, parsed.
    pub(crate) fn verifier(&self) -> &BundleVerifier {
        &self.verifier
    }

    /// Whom signatures must be made by.
    pub(crate) fn policy(&self) -> &BundlePolicy {
        &self.policy
    }
}

/// The detail of a bundle failure: its source chain, joined by ": ".
pub(crate) fn detail(failure: &signet_verify::bundle::BundleFailure) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(failure);
    while let Some(error) = source {
        let text = error.to_string();
        // Some errors repeat their source's message in their own: print it once.
        if !parts
            .last()
            .is_some_and(|last: &String| last.contains(&text))
        {
            parts.push(text);
        }
        source = error.source();
    }
    parts.join(": ")
}

/// Reads and judges the bundles referring to `image`.
pub(crate) async fn verify(
    client: &OciClient,
    image: &ImageReference,
    repository: Option<&Repository>,
    settings: &BundleSettings,
    purpose: &BundlePurpose,
) -> Result<ReferrerReport, signet_verify::Error> {
    let evidence =
        gather_referrer_bundles(client, image, repository, Some(purpose.predicate_type())).await?;
    Ok(judge_referrer_bundles(
        &evidence,
        &settings.verifier,
        &settings.policy,
        purpose,
    ))
}

/// What was checked, on stderr, for a verified image.
pub(crate) fn print_checks(report: &ReferrerReport, settings: &BundleSettings) {
    eprintln!(
        "\nVerification for {} (Sigstore bundles, {}) --",
        report.image(),
        report.source()
    );
    eprintln!("The following checks were performed on each of these bundles:");
    match &settings.policy {
        BundlePolicy::Key(_) => {
            eprintln!("  - The signature was verified against the specified public key");
        }
        BundlePolicy::Certificate(required) => {
            eprintln!(
                "  - The certificate chains to a Fulcio CA of the trusted root, with a verified SCT"
            );
            eprintln!(
                "  - The certificate identity is {} and its OIDC issuer {}",
                required.identity(),
                required.issuer()
            );
        }
        _ => {}
    }
    eprintln!("  - The transparency log entry and timestamps were verified offline");
    eprintln!("  - A subject of the signed in-toto statement is the image's digest");
    if !report.rejected().is_empty() {
        eprintln!(
            "  ({} other bundle(s) did not verify and were ignored)",
            report.rejected().len()
        );
    }
}

/// Each verified bundle on stdout: JSON, one object a line
/// (`{"image", "referrer", "identity", "issuer", "statement"}`), or one text line.
pub(crate) fn print_verified(
    report: &ReferrerReport,
    format: OutputFormat,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for verified in report.verified() {
        let bundle = verified.bundle();
        match format {
            OutputFormat::Json => {
                let line = serde_json::json!({
                    "image": report.image(),
                    "referrer": verified.manifest().to_string(),
                    "identity": bundle.identity(),
                    "issuer": bundle.issuer(),
                    "statement": verified.statement(),
                });
                writeln!(out, "{line}")?;
            }
            OutputFormat::Text => writeln!(
                out,
                "{} signed by {} ({}) in bundle {}",
                report.image(),
                bundle.identity().unwrap_or("the key"),
                bundle.issuer().unwrap_or("-"),
                verified.manifest()
            )?,
        }
    }
    Ok(())
}

/// Why no bundle verified, on stderr.
pub(crate) fn print_denial(report: &ReferrerReport) {
    crate::image::print_rejections(
        &report.summary(),
        report.rejected(),
        report.skipped(),
        "bundle",
    );
}
