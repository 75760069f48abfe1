//! verify --policy, policy lint, policy explain.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use signet_oci::OciClient;
use signet_verify::policy::containers::ContainersPolicy;
use signet_verify::policy::report::{Decision, ImageVerdict, PolicyReport};

use crate::args::{OutputFormat, PolicyExplainArgs, PolicyLintArgs, VerifyArgs};
use crate::image::parse_images;
use crate::{EXIT_UNDECIDED, settings};

/// Whether a policy file is containers/image's JSON (it is a JSON object) or signet's YAML.
fn is_containers_policy(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"{")
}

pub(crate) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let Some(policy_path) = &args.policy else {
        anyhow::bail!("give --key or --policy");
    };
    let images = match parse_images(&args.images) {
        Ok(images) => images,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return Ok(ExitCode::from(EXIT_UNDECIDED));
        }
    };
    let limits = settings::limits()?;
    let text = settings::read_bounded(policy_path, limits.max_manifest_bytes, "policy")?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let verdicts = if is_containers_policy(&text) {
        let policy = ContainersPolicy::load(policy_path, args.registries_d.as_deref())
            .with_context(|| format!("loading {}", policy_path.display()))?;
        policy.evaluate(&client, &images).await
    } else {
        anyhow::bail!(
            "signet YAML policies are not supported yet; give a containers/image policy.json"
        );
    };
    let report = PolicyReport::new(verdicts);
    print_report(&report, args.output)?;
    Ok(ExitCode::from(report.exit_code()))
}

fn print_report(report: &PolicyReport, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for verdict in &report.images {
                print_verdict_text(&mut out, verdict)?;
            }
        }
    }
    for verdict in &report.images {
        let word = match verdict.decision {
            Decision::Allow => "allowed",
            Decision::Warn => "allowed with warnings",
            Decision::Deny => "DENIED",
            Decision::Undecided => "could not be decided",
        };
        eprintln!("{}: {word}", verdict.image);
        for policy in verdict.matched_policies.iter().filter(|p| !p.passed) {
            for requirement in policy.requirements.iter().filter(|r| !r.passed) {
                eprintln!(
                    "  {} / {}: {}",
                    policy.name, requirement.requirement, requirement.reason
                );
            }
        }
        if let Some(note) = &verdict.note {
            eprintln!("  {note}");
        }
    }
    Ok(())
}

fn print_verdict_text(out: &mut impl Write, verdict: &ImageVerdict) -> anyhow::Result<()> {
    writeln!(
        out,
        "{} ({}): {:?}",
        verdict.image,
        verdict.digest.as_deref().unwrap_or("?"),
        verdict.decision
    )?;
    for policy in &verdict.matched_policies {
        writeln!(
            out,
            "  policy {} [{:?}]: {}",
            policy.name,
            policy.mode,
            if policy.passed { "passed" } else { "failed" }
        )?;
        for requirement in &policy.requirements {
            writeln!(
                out,
                "    {} {}: {}",
                if requirement.passed { "✓" } else { "✗" },
                requirement.requirement,
                requirement.reason
            )?;
        }
    }
    if let Some(note) = &verdict.note {
        writeln!(out, "  {note}")?;
    }
    Ok(())
}

pub(crate) fn lint(args: &PolicyLintArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "policy lint is not supported yet for {}",
        args.policy.display()
    )
}

pub(crate) async fn explain(args: &PolicyExplainArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "policy explain is not supported yet for {}",
        args.policy.display()
    )
}
