//! How reports are printed, shared by every command: the verified payloads on stdout (Cosign's
//! JSON, or text), a readable account on stderr (what was checked; for a denial, each rejected
//! entry with the check it failed), and the exit code. A leaf: it imports no command module.

use std::io::Write;
use std::process::ExitCode;

use signet_verify::bundle::BundlePolicy;
use signet_verify::{
    Authority, Finding, ImageCheck, ImageReport, ReferrerReport, ThroughIndex, TlogPolicy, Verdict,
};

use crate::args::OutputFormat;
use crate::{EXIT_DENIED, EXIT_UNDECIDED};
pub(crate) use signet_core::error_text::error_chain as chain;

/// 0 when every image verified, 2 when any could not be decided, else 1.
pub(crate) fn exit_code(checks: &[ImageCheck]) -> ExitCode {
    let verdicts = checks.iter().map(ImageCheck::verdict);
    if verdicts.clone().any(|v| v == Verdict::Undecided) {
        ExitCode::from(EXIT_UNDECIDED)
    } else if verdicts.into_iter().any(|v| v == Verdict::Denied) {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `verify`: for each verified image, what was checked (stderr) and the verified payloads
/// (stdout: Cosign's JSON array, then one line per verified bundle); for the others, why not.
pub(crate) fn signature_checks(
    checks: &[ImageCheck],
    authority: &Authority,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let mut payloads = Vec::new();
    let mut bundle_lines = Vec::new();
    for check in checks {
        if !check.is_verified() {
            explain_denial(check);
            continue;
        }
        let check = match check.verified_through_index() {
            Some((link, index)) => {
                eprintln!(
                    "\n{} is not signed itself; it is {link}, which is:",
                    check.image()
                );
                index
            }
            None => check,
        };
        for finding in check.findings().iter().filter(|f| f.is_verified()) {
            match finding {
                Finding::CosignSignatures(report) => {
                    legacy_signature_checks(check.image(), report, authority);
                    collect_payloads(report, format, &mut payloads);
                }
                Finding::SigstoreBundles(report) => {
                    bundle_checks(report, authority);
                    verified_bundles(report, format, &mut bundle_lines)?;
                }
                _ => {}
            }
        }
    }
    if matches!(format, OutputFormat::Json) && !payloads.is_empty() {
        println!("{}", serde_json::Value::Array(payloads));
    }
    std::io::stdout().lock().write_all(&bundle_lines)?;
    Ok(())
}

/// `verify-attestation`: for each verified image, what was checked (stderr) and the verified
/// attestations (stdout: the envelopes, one a line, or text); for the others, why not.
pub(crate) fn attestation_checks(
    checks: &[ImageCheck],
    authority: &Authority,
    predicate_type: &str,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for check in checks {
        if !check.is_verified() {
            explain_denial(check);
            continue;
        }
        for finding in check.findings().iter().filter(|f| f.is_verified()) {
            match finding {
                Finding::CosignAttestations(report) => {
                    eprintln!("\nVerification for {} --", check.image());
                    eprintln!("The following checks were performed on each of these attestations:");
                    match authority {
                        Authority::Key(_) => eprintln!(
                            "  - The signature over the DSSE envelope was verified against the specified public key"
                        ),
                        _ => eprintln!(
                            "  - The code-signing certificate was verified using trusted certificate authority certificates, and the signature over the DSSE envelope with it"
                        ),
                    }
                    eprintln!("  - A subject of the in-toto statement is the image's digest");
                    eprintln!("  - The predicate type is {predicate_type}");
                    match authority {
                        Authority::Key(k) if k.tlog() == TlogPolicy::InsecureIgnore => eprintln!(
                            "  - Existence in the transparency log was NOT checked (--insecure-ignore-tlog)"
                        ),
                        _ => {
                            eprintln!("  - Existence in the transparency log was verified offline")
                        }
                    }
                    for attestation in report.verified() {
                        match format {
                            OutputFormat::Json => {
                                out.write_all(attestation.envelope())?;
                                out.write_all(b"\n")?;
                            }
                            OutputFormat::Text => writeln!(
                                out,
                                "{} attested {} (attestation {})",
                                report.image(),
                                attestation.predicate_type(),
                                attestation.index() + 1
                            )?,
                        }
                    }
                }
                Finding::SigstoreBundles(report) => {
                    bundle_checks(report, authority);
                    eprintln!("  - The predicate type is {predicate_type}");
                    verified_bundles(report, format, &mut out)?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Why an image did not verify, on stderr: per format, its summary and each rejected entry
/// with the check it failed, or why it could not be read.
pub(crate) fn explain_denial(check: &ImageCheck) {
    if let Some(error) = check.unresolved() {
        eprintln!(
            "Error: could not verify {}: {}",
            check.image(),
            chain(error)
        );
        return;
    }
    for finding in check.findings() {
        // The library names the failed check; the flags that change it are the CLI's to name.
        let hint = finding
            .rejections()
            .iter()
            .any(|r| r.check == "tlog")
            .then_some(
                "  (a log entry is required: pass --trusted-root FILE (or run `signet initialize`) to check a Rekor bundle, or --insecure-ignore-tlog=true to accept signatures without one)",
            );
        match finding {
            Finding::CosignSignatures(report) => rejections(
                &report.summary(),
                report.rejected(),
                report.skipped_layers(),
                "signature",
            ),
            Finding::CosignAttestations(report) => rejections(
                &report.summary(),
                report.rejected(),
                report.skipped_layers(),
                "attestation",
            ),
            Finding::SigstoreBundles(report) => rejections(
                &report.summary(),
                report.rejected(),
                report.skipped(),
                "bundle",
            ),
            Finding::Unreadable {
                format: signet_verify::Format::SigstoreBundle,
                error,
            } => eprintln!(
                "Error: could not read the Sigstore bundles of {}: {}",
                check.image(),
                chain(error.as_ref())
            ),
            Finding::Unreadable { error, .. } => eprintln!(
                "Error: could not verify {}: {}",
                check.image(),
                chain(error.as_ref())
            ),
            _ => {}
        }
        if let Some(hint) = hint {
            eprintln!("{hint}");
        }
    }
    match check.through_index() {
        Some(ThroughIndex::Linked { link, check: index }) => {
            eprintln!(
                "Error: {} is not accepted through an image index: it is {link}, but no signature of the index verified:",
                check.image()
            );
            explain_denial(index);
        }
        Some(ThroughIndex::NotLinked(failure)) => eprintln!(
            "Error: {} is not accepted through an image index: {failure}",
            check.image()
        ),
        Some(ThroughIndex::Unreadable(error)) => eprintln!(
            "Error: could not verify {} through an image index: {}",
            check.image(),
            chain(error.as_ref())
        ),
        Some(_) | None => {}
    }
}

/// A summary, each rejected entry with the check it failed, and how many were not looked at.
pub(crate) fn rejections(
    summary: &str,
    rejected: &[impl std::fmt::Display],
    skipped: usize,
    noun: &str,
) {
    eprintln!("Error: {summary}");
    for r in rejected {
        eprintln!("  {r}");
    }
    if skipped > 0 {
        eprintln!("  {skipped} further {noun}(s) were not considered (over the per-image limit)");
    }
}

/// What was checked for a verified image's legacy signatures.
fn legacy_signature_checks(image: &str, report: &ImageReport, authority: &Authority) {
    let keyless = !matches!(authority, Authority::Key(_));
    let tlog_checked = match authority {
        Authority::Key(k) => k.tlog() == TlogPolicy::Require,
        _ => true,
    };
    eprintln!("\nVerification for {image} --");
    eprintln!("The following checks were performed on each of these signatures:");
    eprintln!("  - The cosign claims were validated");
    if tlog_checked {
        eprintln!("  - Existence of the claims in the transparency log was verified offline");
    } else {
        eprintln!(
            "  - Existence of the claims in the transparency log was NOT checked (--insecure-ignore-tlog)"
        );
    }
    if keyless {
        eprintln!(
            "  - The code-signing certificate was verified using trusted certificate authority certificates"
        );
        for signature in report.verified() {
            eprintln!(
                "  - Signature {} was made by {} (issuer {})",
                signature.index() + 1,
                signature.identity().unwrap_or("?"),
                signature.issuer().unwrap_or("?")
            );
        }
    } else {
        eprintln!("  - The signatures were verified against the specified public key");
    }
    if !report.rejected().is_empty() {
        eprintln!(
            "  ({} other signature(s) did not verify and were ignored)",
            report.rejected().len()
        );
    }
}

/// Cosign's JSON for each verified legacy signature (or a text line).
fn collect_payloads(report: &ImageReport, format: OutputFormat, out: &mut Vec<serde_json::Value>) {
    for signature in report.verified() {
        let claims = signature.claims();
        match format {
            OutputFormat::Json => {
                // Cosign adds the certificate's subject and issuer to a keyless signature's
                // optional section.
                let mut optional = claims.optional.clone();
                if let (Some(identity), Some(issuer)) = (signature.identity(), signature.issuer()) {
                    let map = optional.get_or_insert_with(Default::default);
                    map.insert("Subject".to_owned(), identity.into());
                    map.insert("Issuer".to_owned(), issuer.into());
                }
                out.push(serde_json::json!({
                    "critical": {
                        "identity": {"docker-reference": claims.critical.identity.docker_reference},
                        "image": {"docker-manifest-digest": claims.critical.image.docker_manifest_digest},
                        "type": claims.critical.kind,
                    },
                    "optional": optional,
                }))
            }
            OutputFormat::Text => println!(
                "{} signed as {} (signature {}, layer {})",
                report.image(),
                claims.critical.identity.docker_reference,
                signature.index() + 1,
                signature.layer_digest()
            ),
        }
    }
}

/// What was checked for a verified image's Sigstore bundles.
fn bundle_checks(report: &ReferrerReport, authority: &Authority) {
    eprintln!(
        "\nVerification for {} (Sigstore bundles, {}) --",
        report.image(),
        report.source()
    );
    eprintln!("The following checks were performed on each of these bundles:");
    match authority {
        Authority::Key(_) => {
            eprintln!("  - The signature was verified against the specified public key");
        }
        Authority::Identity(identity) => {
            eprintln!(
                "  - The certificate chains to a Fulcio CA of the trusted root, with a verified SCT"
            );
            match identity.identity() {
                BundlePolicy::Certificate(required) => eprintln!(
                    "  - The certificate identity is {} and its OIDC issuer {}",
                    required.identity(),
                    required.issuer()
                ),
                BundlePolicy::Identity { identity, issuer } => eprintln!(
                    "  - The certificate identity is {identity} and its OIDC issuer {issuer}"
                ),
                _ => {}
            }
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

/// Each verified bundle: JSON, one object a line (`{"image", "referrer", "identity",
/// "issuer", "statement"}`), or one text line.
fn verified_bundles(
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

/// A bundle's verdict over a file: `Verified OK` (and the signer) and exit 0; a refusal with
/// the failed check (`Error: BUNDLE: <check> [<code>]: <detail>`) and exit 1; a failure to
/// find out (unreadable trusted root or file) as an error, exit 2.
pub(crate) fn file_bundle(
    bundle_path: &std::path::Path,
    outcome: Result<signet_verify::bundle::VerifiedBundle, signet_verify::bundle::BundleFailure>,
) -> anyhow::Result<ExitCode> {
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
            Ok(ExitCode::from(EXIT_DENIED))
        }
    }
}

/// The detail of a failure: its source chain (not its own message), each message once.
pub(crate) fn detail(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        // Some errors repeat their source's message in their own: print it once.
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// `verify-blob-attestation --bundle`: who attested and where in the file, or the check that
/// failed (`Error: FILE: <check> [<code>]: <detail>`; exit 1, or 2 when the trusted root or
/// the artifact could not be read).
pub(crate) fn file_attestation(
    bundle_path: &std::path::Path,
    outcome: Option<
        Result<
            signet_verify::VerifiedFileAttestation,
            signet_policy::provenance::FileProvenanceFailure,
        >,
    >,
    provenance: bool,
) -> anyhow::Result<ExitCode> {
    use signet_policy::provenance::FileProvenanceFailure;
    use signet_verify::FileAttestationFailure;
    let failure = match outcome {
        None => anyhow::bail!("no trusted root to check the bundle against"),
        Some(Ok(verified)) => {
            let bundle = verified.bundle();
            if let (Some(identity), Some(issuer)) = (bundle.identity(), bundle.issuer()) {
                eprintln!("Attested by {identity} (issuer {issuer})");
            }
            if provenance {
                eprintln!(
                    "The SLSA provenance ({}) says what was required (builder, source, ref)",
                    verified.predicate_type()
                );
            }
            eprintln!(
                "Verified OK ({} of {})",
                verified.label(),
                bundle_path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Err(failure)) => failure,
    };
    let (what, detail) = match &failure {
        FileProvenanceFailure::Attestation(FileAttestationFailure::Bundle(bundle)) => {
            (bundle.check().to_string(), detail(bundle))
        }
        FileProvenanceFailure::Provenance(provenance) => (
            provenance.check().to_string(),
            provenance.detail().to_owned(),
        ),
        other => (other.to_string(), String::new()),
    };
    eprintln!(
        "Error: {}: {what} [{}]{}{detail}",
        bundle_path.display(),
        failure.code(),
        if detail.is_empty() { "" } else { ": " }
    );
    Ok(ExitCode::from(if failure.is_operational() {
        crate::EXIT_UNDECIDED
    } else {
        EXIT_DENIED
    }))
}
