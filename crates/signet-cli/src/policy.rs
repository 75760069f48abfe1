//! verify --policy, policy lint, policy explain.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::Digest;
use signet_core::dsse::IN_TOTO_PAYLOAD_TYPE;
use signet_oci::OciClient;
use signet_policy::file::{PolicyFile, PolicyFileError};
use signet_policy::lint::lint as lint_policy;
use signet_policy::report::{Decision, ImageVerdict, PolicyReport};
use signet_policy::vsa;
use signet_verify::bundle::{BundleLimits, BundleVerifier};

use crate::args::{OutputFormat, PolicyExplainArgs, PolicyLintArgs, VerifyArgs, VerifyVsaArgs};
use crate::settings;

pub(crate) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let Some(policy_path) = &args.policy else {
        crate::usage_bail!("give --key or --policy");
    };
    let images = settings::parse_images(&args.images)?;
    // The summaries name the policy by the digest of the bytes read here, before loading.
    let policy_digest = match &args.vsa_key {
        Some(_) => Some(Digest::sha256_of(&settings::read_bounded(
            policy_path,
            4 << 20,
            "the policy",
        )?)),
        None => None,
    };
    let policy = load(
        policy_path,
        args.registries_d.as_deref(),
        args.certificate.trusted_root.as_deref(),
    )?;
    let limits = settings::limits()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let verdicts = policy
        .evaluate(&client, &images, settings::now_unix())
        .await;
    let report = PolicyReport::new(verdicts);
    print_report(&report, args.output)?;
    if let (Some(key), Some(out), Some(verifier_id), Some(digest)) = (
        &args.vsa_key,
        &args.vsa_out,
        &args.vsa_verifier_id,
        policy_digest,
    ) {
        let key = settings::signing_key(key, &limits).await?;
        let policy_uri = format!(
            "file://{}",
            std::path::absolute(policy_path)
                .with_context(|| format!("the absolute path of {}", policy_path.display()))?
                .display()
        );
        let attach_with = args.vsa_attach.then_some(&client);
        write_summaries(
            &report,
            key.as_ref(),
            attach_with,
            out,
            verifier_id,
            &policy_uri,
            digest,
            &args.vsa_level,
        )
        .await?;
    }
    if args.stats {
        let requests = client.request_count();
        eprintln!(
            "stats: {requests} registry requests for {} image(s), {:.2} per image",
            images.len(),
            requests as f64 / images.len().max(1) as f64
        );
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Signs a verification summary of each decided image and writes them to `out`, one DSSE
/// envelope per line (the `.intoto.jsonl` form slsa-verifier reads).
#[allow(clippy::too_many_arguments)] // one call site; the summary's parts, named
async fn write_summaries(
    report: &PolicyReport,
    key: &dyn signet_keys::SigningKey,
    attach_with: Option<&OciClient>,
    out: &std::path::Path,
    verifier_id: &str,
    policy_uri: &str,
    policy_digest: Digest,
    levels: &[String],
) -> anyhow::Result<()> {
    let now = settings::now_unix();
    let mut lines = Vec::new();
    let mut written = 0;
    for verdict in report.images() {
        let Some(summary) = vsa::summarize(
            verdict,
            verifier_id,
            policy_uri,
            policy_digest.clone(),
            levels,
        ) else {
            eprintln!(
                "{}: no verification summary (the image could not be decided)",
                verdict.image()
            );
            continue;
        };
        let statement =
            summary
                .summary
                .statement(&summary.subject_name, &summary.subject_digest, now);
        // What signet publishes meets the specification, or is not published.
        if let Err(violations) = vsa::check_spec(&statement) {
            let violations: Vec<String> = violations.iter().map(ToString::to_string).collect();
            anyhow::bail!(
                "the verification summary of {} would break the VSA specification: {} (is --vsa-verifier-id a URI, e.g. https://example.com/verifier?)",
                verdict.image(),
                violations.join("; ")
            );
        }
        if let Some(client) = attach_with {
            attach_summary(client, key, verdict, &summary, now).await?;
        }
        let envelope = signet_sign::sign_dsse(key, IN_TOTO_PAYLOAD_TYPE, statement)
            .await
            .with_context(|| format!("signing the verification summary of {}", verdict.image()))?;
        lines.extend_from_slice(&envelope.to_json());
        lines.push(b'\n');
        written += 1;
    }
    std::fs::write(out, &lines)
        .with_context(|| format!("writing the verification summaries to {}", out.display()))?;
    eprintln!(
        "wrote {written} verification summar{} to {}",
        if written == 1 { "y" } else { "ies" },
        out.display()
    );
    Ok(())
}

/// Attaches a summary to the image it is about (pinned by the digest decided on), as Cosign's
/// legacy attestation: `signet attest --type https://slsa.dev/verification_summary/v1`.
///
/// Always the legacy format, even on an image whose signatures are Cosign v3 referrer bundles:
/// signet writes referrer bundles only keylessly, and a key-signed one without a transparency
/// log entry is read by no key authority that lacks a trusted root. The policy's `vsa:`
/// condition reads summaries in both formats, so the gate is not affected; the note says so.
async fn attach_summary(
    client: &OciClient,
    key: &dyn signet_keys::SigningKey,
    verdict: &ImageVerdict,
    summary: &vsa::ImageSummary,
    now: i64,
) -> anyhow::Result<()> {
    let image: signet_core::reference::ImageReference = verdict
        .image()
        .parse()
        .with_context(|| format!("parsing {}", verdict.image()))?;
    let pinned = image.pinned(summary.subject_digest.clone());
    let predicate_type = signet_core::intoto::PredicateType::from_name(vsa::VSA_PREDICATE_TYPE)?;
    let attested = signet_sign::ImageAttester::new(client, key)
        .attest(
            &pinned,
            &predicate_type,
            summary.summary.predicate(now),
            now,
        )
        .await
        .with_context(|| format!("attaching the verification summary to {}", verdict.image()))?;
    eprintln!(
        "{}: verification summary attached to {}",
        verdict.image(),
        attested.location
    );
    // Only a note: a failed lookup changes nothing about what was attached.
    if let Ok(referrers) =
        signet_verify::referrers::gather_referrer_bundles(client, &pinned, None, None).await
        && !referrers.bundles.is_empty()
    {
        eprintln!(
            "  note: the image carries Cosign v3 referrer bundles ({}); signet attaches key-signed summaries in Cosign's legacy format (docs/compatibility.md)",
            referrers.source
        );
    }
    Ok(())
}

fn print_report(report: &PolicyReport, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for verdict in report.images() {
                print_verdict_text(&mut out, verdict)?;
            }
        }
    }
    for verdict in report.images() {
        let word = match verdict.decision() {
            Decision::Allow => "allowed",
            Decision::Warn => "allowed with warnings",
            Decision::Deny => "DENIED",
            Decision::Undecided => "could not be decided",
        };
        eprintln!("{}: {word}", verdict.image());
        for policy in verdict.matched_policies().iter().filter(|p| !p.passed()) {
            for requirement in policy.requirements().iter().filter(|r| !r.passed()) {
                eprintln!(
                    "  {} / {}: {}",
                    policy.name(),
                    requirement.requirement(),
                    requirement.reason()
                );
            }
        }
        if let Some(note) = verdict.note() {
            eprintln!("  {note}");
        }
    }
    Ok(())
}

fn print_verdict_text(out: &mut impl Write, verdict: &ImageVerdict) -> anyhow::Result<()> {
    writeln!(
        out,
        "{} ({}): {:?}",
        verdict.image(),
        verdict.digest().unwrap_or("?"),
        verdict.decision()
    )?;
    for policy in verdict.matched_policies() {
        writeln!(
            out,
            "  policy {} [{:?}]: {}",
            policy.name(),
            policy.mode(),
            if policy.passed() { "passed" } else { "failed" }
        )?;
        for requirement in policy.requirements() {
            writeln!(
                out,
                "    {} {}: {}",
                if requirement.passed() { "✓" } else { "✗" },
                requirement.requirement(),
                requirement.reason()
            )?;
        }
    }
    if let Some(note) = verdict.note() {
        writeln!(out, "  {note}")?;
    }
    Ok(())
}

/// Loads a policy file (YAML or `policy.json`). When an authority wants a trusted root the
/// policy does not name (keyless authorities without `trustedRoot`, key authorities requiring
/// the log), it is `--trusted-root`, else the TUF cache; without either, those authorities say
/// so in the verdict.
fn load(
    path: &std::path::Path,
    registries_d: Option<&std::path::Path>,
    trusted_root: Option<&std::path::Path>,
) -> anyhow::Result<PolicyFile> {
    let policy = PolicyFile::load(path, registries_d)
        .with_context(|| format!("loading the policy {}", path.display()))?;
    if trusted_root.is_none() && !policy.wants_default_trusted_root() {
        return Ok(policy);
    }
    let root = match settings::trusted_root(trusted_root) {
        Ok(root) => root,
        Err(error) if trusted_root.is_some() => return Err(error),
        Err(_) => return Ok(policy),
    };
    let verifier = BundleVerifier::new(&root.bytes, BundleLimits::default())
        .with_context(|| format!("loading the trusted root {}", root.origin))?;
    Ok(policy.with_default_trusted_root(verifier))
}

pub(crate) fn lint(args: &PolicyLintArgs) -> anyhow::Result<ExitCode> {
    let policy = match PolicyFile::load(&args.policy, None) {
        Ok(PolicyFile::Signet(policy)) => policy,
        Ok(PolicyFile::Notation(policy)) => {
            println!(
                "{}: a valid Notation trust policy, {} statement(s)",
                args.policy.display(),
                policy.document().statements().len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Ok(_) => {
            println!(
                "{}: a valid containers/image policy.json",
                args.policy.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(error @ PolicyFileError::Containers(_)) => {
            return Err(
                anyhow::Error::new(error).context(format!("loading {}", args.policy.display()))
            );
        }
        Err(error) => {
            eprintln!(
                "error: loading the policy {}: {:#}",
                args.policy.display(),
                anyhow::Error::new(error)
            );
            return Ok(ExitCode::from(crate::EXIT_DENIED));
        }
    };
    let warnings = lint_policy(&policy);
    for w in &warnings {
        println!("warning[{}]: {}: {}", w.code, w.location, w.message);
    }
    println!(
        "{}: {} policies, {} authorities, {} warning(s)",
        args.policy.display(),
        policy.policies().len(),
        policy.authorities().len(),
        warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn join_globs(globs: &[signet_policy::glob::ScopeGlob]) -> String {
    globs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn explain(args: &PolicyExplainArgs) -> anyhow::Result<ExitCode> {
    let image: signet_core::reference::ImageReference = args
        .image
        .parse()
        .with_context(|| format!("parsing image reference {:?}", args.image))?;
    let policy = load(&args.policy, None, None)?;
    let limits = settings::limits()?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let images = std::slice::from_ref(&image);
    if let PolicyFile::Signet(policy) = &policy {
        let repository = image.repository_name();
        let matching = policy.matching(&repository);
        println!(
            "{repository} is covered by {} of {} policies:",
            matching.len(),
            policy.policies().len()
        );
        for p in policy.policies() {
            let exclude = if p.exclude().is_empty() {
                String::new()
            } else {
                format!(", exclude [{}]", join_globs(p.exclude()))
            };
            println!(
                "  {} {} (line {}, {:?}): images [{}]{exclude}",
                if p.covers(&repository) { "✓" } else { "·" },
                p.name(),
                p.line(),
                p.mode(),
                join_globs(p.images()),
            );
        }
    }
    let verdicts = policy.evaluate(&client, images, settings::now_unix()).await;
    let report = PolicyReport::new(verdicts);
    let mut out = std::io::stdout().lock();
    for verdict in report.images() {
        print_verdict_text(&mut out, verdict)?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// `verify-vsa`: slsa-verifier's checks on a VSA file. Each line of the file is an envelope;
/// the first that passes every check wins, else each line's failure is printed (exit 1).
pub(crate) fn verify_vsa(args: &VerifyVsaArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits()?;
    let key = settings::read_bounded(
        &args.public_key_path,
        limits.max_key_file_bytes,
        "the public key",
    )?;
    let key = signet_core::keys::PublicKey::parse(&key)
        .with_context(|| format!("loading the public key {}", args.public_key_path.display()))?;
    let file = settings::read_bounded(
        &args.attestation_path,
        limits.max_attachment_bytes,
        "the attestation",
    )?;
    let expect = vsa::VsaExpectations::new(&args.verifier_id, args.subject_digest.clone())
        .with_resource_uri(&args.resource_uri)
        .with_verified_levels(args.verified_levels.clone());
    let mut failures = Vec::new();
    for (line, text) in String::from_utf8_lossy(&file)
        .lines()
        .enumerate()
        .filter(|(_, t)| !t.trim().is_empty())
    {
        match vsa::verify_envelope(
            text.as_bytes(),
            &key,
            args.public_key_id.as_deref(),
            &expect,
        ) {
            Ok(verified) => {
                if args.print_attestation {
                    let mut out = std::io::stdout().lock();
                    out.write_all(verified.statement())?;
                    writeln!(out)?;
                }
                eprintln!(
                    "PASSED: the VSA of {} verifies",
                    args.attestation_path.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(failure) => failures.push(format!("line {}: {failure}", line + 1)),
        }
    }
    if failures.is_empty() {
        failures.push("the file holds no envelope".to_owned());
    }
    eprintln!(
        "FAILED: the VSA of {} does not verify",
        args.attestation_path.display()
    );
    for failure in &failures {
        eprintln!("  {failure}");
    }
    Ok(ExitCode::from(crate::EXIT_DENIED))
}
