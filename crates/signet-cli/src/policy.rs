//! verify --policy, policy lint, policy explain.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use signet_core::digest::Digest;
use signet_core::dsse::IN_TOTO_PAYLOAD_TYPE;
use signet_core::intoto::PredicateType;
use signet_core::reference::ImageReference;
use signet_oci::OciClient;
use signet_policy::file::{PolicyFile, PolicyFileError};
use signet_policy::lint::lint as lint_policy;
use signet_policy::release_files;
use signet_policy::report::{Decision, ImageVerdict, PolicyReport};
use signet_policy::vsa;
use signet_sign::keyless::{IdentityToken, KeylessBundle, KeylessSigner};
use signet_verify::bundle::{ArtifactDigests, BundleLimits, BundleVerifier};

use crate::args::{
    OutputFormat, PolicyExplainArgs, PolicyLintArgs, VerifyArgs, VerifyBlobArgs, VerifyVsaArgs,
    VsaArgs,
};
use crate::settings;

pub(crate) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let Some(policy_path) = &args.policy else {
        crate::usage_bail!("give --key or --policy");
    };
    let images = settings::parse_images(&args.images)?;
    let limits = settings::limits()?;
    let trusted_root = args.certificate.trusted_root.as_deref();
    let summaries = summary_plan(&args.vsa, policy_path, trusted_root, &limits).await?;
    let policy = load(policy_path, args.registries_d.as_deref(), trusted_root)?;
    let client = OciClient::new(settings::client_options(&args.registry, limits));
    let verdicts = policy
        .evaluate(&client, &images, settings::now_unix())
        .await;
    let report = PolicyReport::new(verdicts);
    print_report(&report, args.output)?;
    if let Some(plan) = &summaries {
        let attach_with = args.vsa_attach.then_some(&client);
        write_summaries(&report, plan, attach_with, |verdict| {
            vsa::summarize(
                verdict,
                &plan.verifier_id,
                &plan.policy_uri,
                plan.policy_digest.clone(),
                &plan.levels,
            )
        })
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

/// `verify-blob --policy P --bundle B… FILE…`: each file decided by the policy's `files:`
/// policies from the bundles given (offline), one report, and a summary of each decision.
pub(crate) fn verify_files(args: &VerifyBlobArgs, policy_path: &Path) -> anyhow::Result<ExitCode> {
    crate::usage_ensure!(
        args.files.iter().all(|f| f.as_os_str() != "-"),
        "with --policy, files are decided by their names: give file paths, not - (standard input)"
    );
    let limits = settings::limits()?;
    let trusted_root = args.trusted_root.as_deref();
    let runtime = crate::runtime()?;
    let summaries =
        runtime.block_on(summary_plan(&args.vsa, policy_path, trusted_root, &limits))?;
    let policy = match load(policy_path, None, trusted_root)? {
        PolicyFile::Signet(policy) => policy,
        _ => crate::usage_bail!(
            "{} is not signet's YAML trust policy: only it has policies for files (files: globs)",
            policy_path.display()
        ),
    };
    let max_document = BundleLimits::default().max_document_bytes;
    let documents = args
        .bundle
        .iter()
        .map(|path| {
            Ok(release_files::BundleDocument {
                label: path.display().to_string(),
                bytes: settings::read_bounded(path, max_document, "the bundles")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bundles = release_files::ReleaseBundles::read(&documents);
    let now = settings::now_unix();
    let mut verdicts = Vec::new();
    for path in &args.files {
        let digests = ArtifactDigests::of_reader(settings::open_input(path)?)
            .with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let file = release_files::FileEvidence {
            name: &name,
            digests: &digests,
            bundles: &bundles,
        };
        verdicts.push(release_files::judge_file(&policy, &file, now));
    }
    let report = PolicyReport::new(verdicts);
    print_report(&report, args.output)?;
    if let Some(plan) = &summaries {
        let resource_uris = args
            .files
            .iter()
            .map(|path| Ok((path.display().to_string(), file_uri(path)?)))
            .collect::<anyhow::Result<std::collections::BTreeMap<_, _>>>()?;
        runtime.block_on(write_summaries(&report, plan, None, |verdict| {
            vsa::summarize_file(
                verdict,
                resource_uris.get(verdict.image())?,
                &plan.verifier_id,
                &plan.policy_uri,
                plan.policy_digest.clone(),
                &plan.levels,
            )
        }))?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// `file://` and the absolute path: what a summary names a local policy or file by.
fn file_uri(path: &Path) -> anyhow::Result<String> {
    Ok(format!(
        "file://{}",
        std::path::absolute(path)
            .with_context(|| format!("the absolute path of {}", path.display()))?
            .display()
    ))
}

/// On `verify` and `verify-blob`, the keyless flags are for summaries only.
pub(crate) const KEYLESS_FLAGS_SIGN_SUMMARIES: &str = "here --identity-token, --signing-config, --fulcio-url, --rekor-url and --timestamp-server-url sign verification summaries keylessly: add --vsa-keyless (with --policy, --vsa-out and --vsa-verifier-id)";

/// What the summaries of one run say besides each verdict, and who signs them.
struct SummaryPlan {
    signer: SummarySigner,
    out: PathBuf,
    verifier_id: String,
    policy_uri: String,
    policy_digest: Digest,
    levels: Vec<String>,
}

/// The summaries asked for (`None`: none). The signer comes before the verification, so a
/// missing key, token or service says so before anything is read; the policy is named by
/// the digest of its bytes as read here, before loading.
async fn summary_plan(
    vsa_args: &VsaArgs,
    policy_path: &Path,
    trusted_root: Option<&Path>,
    limits: &signet_oci::Limits,
) -> anyhow::Result<Option<SummaryPlan>> {
    let keyless = &vsa_args.keyless;
    crate::usage_ensure!(
        vsa_args.vsa_keyless || !keyless.any(),
        "{KEYLESS_FLAGS_SIGN_SUMMARIES}"
    );
    let signer = match (&vsa_args.vsa_key, vsa_args.vsa_keyless) {
        (Some(key), _) => SummarySigner::Key(settings::signing_key(key, limits).await?),
        (None, true) => {
            let (token, signer) = crate::keyless::signer(keyless, trusted_root)?;
            SummarySigner::Keyless {
                signer: Box::new(signer),
                token: Box::new(token),
            }
        }
        (None, false) => return Ok(None),
    };
    let (Some(out), Some(verifier_id)) = (&vsa_args.vsa_out, &vsa_args.vsa_verifier_id) else {
        crate::usage_bail!("signed summaries need --vsa-out FILE and --vsa-verifier-id URI");
    };
    let policy_digest =
        Digest::sha256_of(&settings::read_bounded(policy_path, 4 << 20, "the policy")?);
    Ok(Some(SummaryPlan {
        signer,
        out: out.clone(),
        verifier_id: verifier_id.clone(),
        policy_uri: file_uri(policy_path)?,
        policy_digest,
        levels: vsa_args.vsa_level.clone(),
    }))
}

/// Who signs the verification summaries: a key (DSSE envelopes), or keylessly (Sigstore
/// bundles: a Fulcio certificate, a Rekor entry, a timestamp when the services have a TSA).
enum SummarySigner {
    Key(Box<dyn signet_keys::SigningKey>),
    Keyless {
        signer: Box<KeylessSigner>,
        token: Box<IdentityToken>,
    },
}

/// Signs a verification summary of each decision and writes them to the plan's file, one
/// per line: DSSE envelopes (the `.intoto.jsonl` form slsa-verifier reads) or Sigstore
/// bundles (the JSON Lines form `verify-blob-attestation --bundle` and `verify-vsa` read).
/// `summarize` says what a verdict's summary is (an image's or a file's); `attach_with`
/// attaches image summaries to their images.
async fn write_summaries(
    report: &PolicyReport,
    plan: &SummaryPlan,
    attach_with: Option<&OciClient>,
    summarize: impl Fn(&ImageVerdict) -> Option<vsa::ImageSummary>,
) -> anyhow::Result<()> {
    let now = settings::now_unix();
    let mut lines = Vec::new();
    let mut written = 0;
    for verdict in report.images() {
        let Some(summary) = summarize(verdict) else {
            eprintln!(
                "{}: no verification summary (it could not be decided)",
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
        let signing = || format!("signing the verification summary of {}", verdict.image());
        let line = match &plan.signer {
            SummarySigner::Key(key) => {
                if let Some(client) = attach_with {
                    attach_key_signed(client, key.as_ref(), verdict, &summary, now).await?;
                }
                signet_sign::sign_dsse(key.as_ref(), IN_TOTO_PAYLOAD_TYPE, statement)
                    .await
                    .with_context(signing)?
                    .to_json()
            }
            SummarySigner::Keyless { signer, token } => {
                let bundle = signer
                    .sign_statement(token, &statement, &summary.subject_digest)
                    .await
                    .with_context(signing)?;
                if let Some(client) = attach_with {
                    attach_keyless(client, signer, token, verdict, &summary, &bundle, now).await?;
                }
                one_line(bundle.bundle_json())?
            }
        };
        lines.extend_from_slice(&line);
        lines.push(b'\n');
        written += 1;
    }
    let out = &plan.out;
    std::fs::write(out, &lines)
        .with_context(|| format!("writing the verification summaries to {}", out.display()))?;
    eprintln!(
        "wrote {written} verification summar{} to {}",
        if written == 1 { "y" } else { "ies" },
        out.display()
    );
    Ok(())
}

/// A JSON document on one line (a JSON Lines entry); the bundle is written pretty.
fn one_line(json: &[u8]) -> anyhow::Result<Vec<u8>> {
    let value: serde_json::Value =
        serde_json::from_slice(json).context("re-reading the bundle just made")?;
    Ok(serde_json::to_vec(&value)?)
}

/// The image a summary is about, pinned by the digest decided on.
fn summary_subject(
    verdict: &ImageVerdict,
    summary: &vsa::ImageSummary,
) -> anyhow::Result<ImageReference> {
    let image: ImageReference = verdict
        .image()
        .parse()
        .with_context(|| format!("parsing {}", verdict.image()))?;
    Ok(image.pinned(summary.subject_digest.clone()))
}

/// Attaches a key-signed summary to its image as Cosign's legacy attestation: `signet
/// attest --type https://slsa.dev/verification_summary/v1`.
///
/// Always the legacy format, even on an image whose signatures are Cosign v3 referrer bundles:
/// signet writes referrer bundles only keylessly, and a key-signed one without a transparency
/// log entry is read by no key authority that lacks a trusted root. The policy's `vsa:`
/// condition reads summaries in both formats, so the gate is not affected; the note says so.
async fn attach_key_signed(
    client: &OciClient,
    key: &dyn signet_keys::SigningKey,
    verdict: &ImageVerdict,
    summary: &vsa::ImageSummary,
    now: i64,
) -> anyhow::Result<()> {
    let pinned = summary_subject(verdict, summary)?;
    let location = attach_legacy(
        signet_sign::ImageAttester::new(client, key),
        &pinned,
        summary,
        now,
    )
    .await
    .with_context(|| format!("attaching the verification summary to {}", verdict.image()))?;
    eprintln!(
        "{}: verification summary attached to {location}",
        verdict.image()
    );
    // Only a note: a failed lookup changes nothing about what was attached.
    if let Ok(Some(source)) = referrer_bundles(client, &pinned).await {
        eprintln!(
            "  note: the image carries Cosign v3 referrer bundles ({source}); signet attaches key-signed summaries in Cosign's legacy format (docs/compatibility.md)"
        );
    }
    Ok(())
}

/// Attaches a keyless summary in the format the image's signatures use: the bundle written to
/// the file, as a Cosign v3 referrer, when the image has referrer bundles; else Cosign's
/// legacy `.att` (a DSSE layer with its certificate and log entry in annotations, signed
/// anew, since that format is not a bundle).
async fn attach_keyless(
    client: &OciClient,
    signer: &KeylessSigner,
    token: &IdentityToken,
    verdict: &ImageVerdict,
    summary: &vsa::ImageSummary,
    bundle: &KeylessBundle,
    now: i64,
) -> anyhow::Result<()> {
    let pinned = summary_subject(verdict, summary)?;
    let attaching = || format!("attaching the verification summary to {}", verdict.image());
    let location = match referrer_bundles(client, &pinned)
        .await
        .with_context(attaching)?
    {
        Some(_) => {
            signet_sign::attach_referrer_bundle(
                client,
                &pinned,
                bundle,
                vsa::VSA_PREDICATE_TYPE,
                None,
            )
            .await
            .with_context(attaching)?
            .location
        }
        None => attach_legacy(
            signet_sign::ImageAttester::keyless(client, signer, token),
            &pinned,
            summary,
            now,
        )
        .await
        .with_context(attaching)?,
    };
    eprintln!(
        "{}: verification summary attached to {location}",
        verdict.image()
    );
    Ok(())
}

/// Attaches the summary's predicate to `pinned` as Cosign's legacy attestation (`attest --type
/// https://slsa.dev/verification_summary/v1`), by `attester`; returns where it went.
async fn attach_legacy(
    attester: signet_sign::ImageAttester<'_>,
    pinned: &ImageReference,
    summary: &vsa::ImageSummary,
    now: i64,
) -> anyhow::Result<String> {
    let predicate_type = PredicateType::from_name(vsa::VSA_PREDICATE_TYPE)?;
    let attested = attester
        .attest(pinned, &predicate_type, summary.summary.predicate(now), now)
        .await?;
    Ok(attested.location)
}

/// Where the image's Cosign v3 referrer bundles are listed, if it has any.
async fn referrer_bundles(
    client: &OciClient,
    image: &ImageReference,
) -> anyhow::Result<Option<String>> {
    let referrers =
        signet_verify::referrers::gather_referrer_bundles(client, image, None, None).await?;
    Ok((!referrers.bundles.is_empty()).then(|| referrers.source.to_string()))
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
            if !p.files().is_empty() {
                // A policy for release files never covers an image.
                let files: Vec<&str> = p.files().iter().map(|g| g.as_str()).collect();
                println!(
                    "  · {} (line {}, {:?}): files [{}]",
                    p.name(),
                    p.line(),
                    p.mode(),
                    files.join(", ")
                );
                continue;
            }
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

/// `verify-vsa`: slsa-verifier's checks on a VSA file. With a public key, each line of the
/// file is an envelope; the first that passes every check wins, else each line's failure is
/// printed (exit 1). With a certificate identity, the lines are Sigstore bundles: the first
/// that verifies for the subject digest and the identity is read, then checked the same way.
pub(crate) fn verify_vsa(args: &VerifyVsaArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits()?;
    let file = settings::read_bounded(
        &args.attestation_path,
        limits.max_attachment_bytes,
        "the attestation",
    )?;
    let expect = vsa::VsaExpectations::new(&args.verifier_id, args.subject_digest.clone())
        .with_resource_uri(&args.resource_uri)
        .with_verified_levels(args.verified_levels.clone());
    let outcome = match &args.public_key_path {
        Some(path) => {
            let key = settings::read_bounded(path, limits.max_key_file_bytes, "the public key")?;
            let key = signet_core::keys::PublicKey::parse(&key)
                .with_context(|| format!("loading the public key {}", path.display()))?;
            vsa_by_key(&file, &key, args.public_key_id.as_deref(), &expect)
        }
        None => vsa_by_identity(args, &file, &expect)?,
    };
    match outcome {
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
            Ok(ExitCode::SUCCESS)
        }
        Err(failures) => {
            eprintln!(
                "FAILED: the VSA of {} does not verify",
                args.attestation_path.display()
            );
            for failure in &failures {
                eprintln!("  {failure}");
            }
            Ok(ExitCode::from(crate::EXIT_DENIED))
        }
    }
}

/// The first envelope of `file` that verifies with `key` and meets `expect`, or each line's
/// failure.
fn vsa_by_key(
    file: &[u8],
    key: &signet_core::keys::PublicKey,
    key_id: Option<&str>,
    expect: &vsa::VsaExpectations,
) -> Result<vsa::VerifiedSummary, Vec<String>> {
    let mut failures = Vec::new();
    for (line, text) in String::from_utf8_lossy(file)
        .lines()
        .enumerate()
        .filter(|(_, t)| !t.trim().is_empty())
    {
        match vsa::verify_envelope(text.as_bytes(), key, key_id, expect) {
            Ok(verified) => return Ok(verified),
            Err(failure) => failures.push(format!("line {}: {failure}", line + 1)),
        }
    }
    if failures.is_empty() {
        failures.push("the file holds no envelope".to_owned());
    }
    Err(failures)
}

/// The summary of the first bundle of `file` that verifies, for the first subject digest,
/// as signed by the certificate identity (offline, against the trusted root), then the
/// summary checks on its statement.
fn vsa_by_identity(
    args: &VerifyVsaArgs,
    file: &[u8],
    expect: &vsa::VsaExpectations,
) -> anyhow::Result<Result<vsa::VerifiedSummary, Vec<String>>> {
    let authority = crate::runtime()?
        .block_on(settings::authority(None, &args.certificate, false, None))?
        .ok_or_else(|| settings::usage("give --public-key-path or --certificate-identity"))?;
    let subject: Digest = args
        .subject_digest
        .first()
        .map(|d| d.parse())
        .transpose()
        .map_err(|e| settings::usage(format!("--subject-digest: {e}")))?
        .ok_or_else(|| settings::usage("give --subject-digest"))?;
    let vsa_type = PredicateType::from_name(vsa::VSA_PREDICATE_TYPE)?;
    let verified = match signet_verify::check_file_attestation(
        file,
        &ArtifactDigests::from(subject),
        &authority,
        &[vsa_type],
    ) {
        Some(Ok(verified)) => verified,
        Some(Err(failure)) => return Ok(Err(vec![format!("{:#}", anyhow::Error::new(failure))])),
        None => anyhow::bail!("the verifier's identity has no trusted root to check bundles with"),
    };
    let Some((_, statement)) = verified.bundle().dsse_payload() else {
        return Ok(Err(vec![format!(
            "{}: the bundle holds no DSSE envelope",
            verified.label()
        )]));
    };
    Ok(vsa::check_statement(statement, expect)
        .map_err(|failure| vec![format!("{}: {failure}", verified.label())]))
}
