//! `signet verify --policy P -f FILE`: every image of Kubernetes manifests, through the
//! admission server's extraction and decision path.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use signet_admission::manifests::{MAX_MANIFEST_BYTES, Manifest, read_manifests};
use signet_admission::{Disposition, FailureMode, ImageDecision, ImageOutcome};
use signet_policy::report::ImageVerdict;

use crate::admission::{deadline, load_policy, one_shot_decider, read_input};
use crate::args::{OutputFormat, VerifyArgs};

/// The report's format version.
const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    objects: Vec<ObjectReport<'a>>,
}

#[derive(Serialize)]
struct ObjectReport<'a> {
    source: &'a str,
    document: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    /// Why the object's images were not checked (a namespace the policy excludes).
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'static str>,
    images: Vec<ImageReport<'a>>,
}

#[derive(Serialize)]
struct ImageReport<'a> {
    path: &'a str,
    image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    /// allow, warn, deny, or undecided (could not be verified).
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The policy's verdict, as `verify --policy` reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'a ImageVerdict>,
}

pub(crate) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let Some(policy) = &args.policy else {
        crate::usage_bail!("-f needs --policy");
    };
    let mut manifests: Vec<Manifest> = Vec::new();
    for path in &args.manifests {
        let bytes = read_input(path, MAX_MANIFEST_BYTES, "the manifests")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?;
        let name = path.display().to_string();
        manifests.extend(read_manifests(&name, &text)?);
    }
    let loaded = load_policy(
        policy,
        args.registries_d.as_deref(),
        args.certificate.trusted_root.as_deref(),
    )
    .with_context(|| format!("loading the policy {}", policy.display()))?;
    let settings = loaded.settings().clone();
    let decider = one_shot_decider(loaded, &args.registry, FailureMode::Closed)?;
    let checked: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| !m.namespace().is_some_and(|n| settings.excludes(n)))
        .collect();
    let sites: Vec<_> = checked
        .iter()
        .flat_map(|m| m.sites().iter().cloned())
        .collect();
    let decisions = decider.decide(&sites, deadline(&args.registry)?).await;
    let mut decisions = decisions.iter();
    let mut objects = Vec::new();
    let mut worst = 0u8;
    for manifest in &manifests {
        let excluded = manifest.namespace().is_some_and(|n| settings.excludes(n));
        let mut images = Vec::new();
        if !excluded {
            for decision in decisions.by_ref().take(manifest.sites().len()) {
                let image = image_report(decision);
                worst = worst.max(match image.decision {
                    "deny" => 2,
                    "undecided" => 1,
                    _ => 0,
                });
                images.push(image);
            }
        }
        objects.push(ObjectReport {
            source: manifest.source(),
            document: manifest.document(),
            kind: manifest.kind(),
            name: manifest.name(),
            namespace: manifest.namespace(),
            skipped: excluded.then_some("namespace excluded by the policy"),
            images,
        });
    }
    let report = Report {
        version: REPORT_VERSION,
        objects,
    };
    print(&report, args.output)?;
    // A denial is definite and wins over an undecided image, as in `verify --policy`.
    Ok(ExitCode::from(match worst {
        2 => crate::EXIT_DENIED,
        1 => crate::EXIT_UNDECIDED,
        _ => 0,
    }))
}

fn image_report(decision: &ImageDecision) -> ImageReport<'_> {
    let (word, reason) = if decision.unverified() {
        let reason = match decision.disposition(FailureMode::Closed) {
            Disposition::Deny(why) | Disposition::Warn(why) => Some(why),
            Disposition::Allow => None,
        };
        ("undecided", reason)
    } else {
        match decision.disposition(FailureMode::Closed) {
            Disposition::Allow => ("allow", decision.audit_findings()),
            Disposition::Warn(why) => ("warn", Some(why)),
            Disposition::Deny(why) => ("deny", Some(why)),
        }
    };
    ImageReport {
        path: decision.site().path(),
        image: decision.site().image(),
        digest: decision.digest().map(ToString::to_string),
        decision: word,
        reason,
        verdict: match decision.outcome() {
            ImageOutcome::Verdict(verdict) => Some(verdict.as_ref()),
            _ => None,
        },
    }
}

fn print(report: &Report<'_>, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for object in &report.objects {
                writeln!(
                    out,
                    "{} document {}: {} {}{}",
                    object.source,
                    object.document,
                    object.kind,
                    object.name.unwrap_or("(unnamed)"),
                    object
                        .skipped
                        .map(|s| format!(" (skipped: {s})"))
                        .unwrap_or_default()
                )?;
                for image in &object.images {
                    writeln!(
                        out,
                        "  {} {} {:?}{}",
                        image.decision,
                        image.path,
                        image.image,
                        image
                            .reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    )?;
                }
            }
        }
    }
    for object in &report.objects {
        for image in &object.images {
            let word = match image.decision {
                "allow" => "allowed",
                "warn" => "allowed with warnings",
                "deny" => "DENIED",
                _ => "could not be decided",
            };
            eprintln!(
                "{} {} {} {}: {word}",
                object.source, object.kind, image.path, image.image
            );
            if let Some(reason) = &image.reason {
                eprintln!("  {reason}");
            }
        }
    }
    Ok(())
}
