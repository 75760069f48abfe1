//! `signet admission serve|review`: flags → settings → signet-admission → print.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use signet_admission::cache::CacheLimits;
use signet_admission::metrics::Metrics;
use signet_admission::respond::Webhook;
use signet_admission::review::{self, MAX_REVIEW_BYTES};
use signet_admission::server::{self, ServerConfig, TlsFiles};
use signet_admission::{
    Decider, DecisionOptions, Disposition, FailureMode, ImageDecision, LoadedPolicy, PolicySource,
};
use signet_oci::{ClientOptions, HttpPolicy, OciClient, TlsPolicy};

use crate::args::{
    AdmissionPolicyArgs, AdmissionReviewArgs, AdmissionServeArgs, FailureModeArg, WebhookArg,
};
use crate::settings;

pub(crate) fn serve(args: &AdmissionServeArgs) -> anyhow::Result<ExitCode> {
    let duration = |flag: &str, text: &str| {
        settings::parse_duration(text).with_context(|| format!("--{flag}"))
    };
    let source = PolicySource::new(args.policy.policy.clone())
        .with_registries_d(args.policy.registries_d.clone())
        .with_trusted_root(args.policy.trusted_root.clone());
    // The server does not start without a policy: an empty gate is no gate.
    let loaded = source.load()?;
    if args.policy.trusted_root.is_none() && loaded.policy().wants_default_trusted_root() {
        signet_admission::log::warn(
            "no trusted root",
            serde_json::json!({
                "message": "authorities that need a trusted root (keyless ones, keys whose log entries are required) will refuse every image; give --trusted-root"
            }),
        );
    }
    let mut options = DecisionOptions::default();
    options.failure_mode = failure_mode(args.policy.failure_mode);
    options.cache = CacheLimits {
        capacity: args.cache_size,
        allow_ttl: duration("cache-ttl", &args.cache_ttl)?,
        deny_ttl: duration("deny-cache-ttl", &args.deny_cache_ttl)?,
    };
    options.verify_timeout = duration("verify-timeout", &args.verify_timeout)?;
    let client = OciClient::new(ClientOptions {
        limits: settings::limits()?,
        http: if args.allow_http_registry || args.allow_insecure_registry {
            HttpPolicy::AnyRegistry
        } else {
            HttpPolicy::LoopbackOnly
        },
        tls: if args.allow_insecure_registry {
            TlsPolicy::DangerAcceptInvalidCertificates
        } else {
            TlsPolicy::Verify
        },
        fallback_docker_configs: args.node_docker_config.clone(),
    });
    let metrics = Arc::new(Metrics::new());
    let decider = Arc::new(
        Decider::new(Arc::new(client), loaded, options).with_metrics(Arc::clone(&metrics)),
    );
    let mut config = ServerConfig::new(
        args.listen,
        TlsFiles {
            certificate: args.tls_cert.clone(),
            private_key: args.tls_key.clone(),
            client_ca: args.client_ca.clone(),
        },
    );
    config.own_namespace = args.policy.namespace.clone();
    config.default_timeout = duration("default-timeout", &args.default_timeout)?;
    config.provider_timeout = duration("provider-timeout", &args.provider_timeout)?;
    config.reload_interval = duration("reload-interval", &args.reload_interval)?;
    config.shutdown_delay = duration("shutdown-delay", &args.shutdown_delay)?;
    config.drain_timeout = duration("drain-timeout", &args.drain_timeout)?;
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let shutdown = server::shutdown_signal().await?;
        server::serve(config, decider, source, metrics, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn failure_mode(flag: FailureModeArg) -> FailureMode {
    match flag {
        FailureModeArg::Closed => FailureMode::Closed,
        FailureModeArg::Open => FailureMode::Open,
    }
}

/// The policy of a one-shot command: the files, and the default trusted root from
/// `--trusted-root` or, when the policy wants one, the TUF cache (as `verify --policy`).
pub(crate) fn load_policy(
    policy: &Path,
    registries_d: Option<&Path>,
    trusted_root: Option<&Path>,
) -> anyhow::Result<LoadedPolicy> {
    let source = PolicySource::new(policy.to_path_buf())
        .with_registries_d(registries_d.map(Path::to_path_buf));
    if trusted_root.is_some() {
        return Ok(source
            .with_trusted_root(trusted_root.map(Path::to_path_buf))
            .load()?);
    }
    let loaded = source.load()?;
    if !loaded.policy().wants_default_trusted_root() {
        return Ok(loaded);
    }
    match settings::trusted_root(None) {
        Ok(root) => Ok(source
            .with_trusted_root_bytes(root.bytes, root.origin)
            .load()?),
        // Without one, the authorities that need it say so in their verdicts.
        Err(_) => Ok(loaded),
    }
}

/// A decider for one command run: no metrics, the closed failure mode unless asked.
pub(crate) fn one_shot_decider(
    policy: LoadedPolicy,
    registry: &crate::args::RegistryArgs,
    mode: FailureMode,
) -> anyhow::Result<Decider> {
    let client = OciClient::new(settings::client_options(registry, settings::limits()?));
    let mut options = DecisionOptions::default();
    options.failure_mode = mode;
    Ok(Decider::new(Arc::new(client), policy, options))
}

/// The command's deadline, from `--timeout`.
pub(crate) fn deadline(registry: &crate::args::RegistryArgs) -> anyhow::Result<Instant> {
    let timeout = settings::parse_duration(&registry.timeout).context("--timeout")?;
    Ok(Instant::now() + timeout.min(Duration::from_secs(365 * 24 * 3600)))
}

pub(crate) async fn review(args: &AdmissionReviewArgs) -> anyhow::Result<ExitCode> {
    let AdmissionPolicyArgs {
        policy,
        registries_d,
        trusted_root,
        failure_mode: mode,
        namespace,
    } = &args.policy;
    let body = read_request(&args.request)?;
    let request = review::parse_review(&body)
        .with_context(|| format!("reading {}", args.request.display()))?;
    let loaded = load_policy(policy, registries_d.as_deref(), trusted_root.as_deref())?;
    let decider = one_shot_decider(loaded, &args.registry, failure_mode(*mode))?;
    let webhook = match args.webhook {
        WebhookArg::Validating => Webhook::Validating,
        WebhookArg::Mutating => Webhook::Mutating,
    };
    let reviewed = signet_admission::respond::review(
        &decider,
        &request,
        webhook,
        namespace.as_deref(),
        deadline(&args.registry)?,
    )
    .await;
    let body: serde_json::Value = serde_json::from_slice(&review::review_body(&reviewed.response))?;
    println!("{}", serde_json::to_string_pretty(&body)?);
    if let Some(skipped) = reviewed.skipped {
        eprintln!(
            "{} {} {}: allowed without checking images ({})",
            request.operation.name(),
            request.kind.kind,
            request.name.as_deref().unwrap_or("(unnamed)"),
            serde_json::to_value(skipped)?.as_str().unwrap_or("skipped")
        );
    }
    print_decisions(&reviewed.decisions, decider.failure_mode());
    Ok(if reviewed.response.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_DENIED)
    })
}

/// One line per image on stderr: what was decided and why.
pub(crate) fn print_decisions(decisions: &[ImageDecision], mode: FailureMode) {
    for decision in decisions {
        let site = decision.site();
        let digest = decision
            .digest()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let verdict = match decision.disposition(mode) {
            Disposition::Allow => "allowed".to_owned(),
            Disposition::Warn(why) => format!("allowed with a warning: {why}"),
            Disposition::Deny(why) => format!("REFUSED: {why}"),
        };
        eprintln!("{} {:?}{digest}: {verdict}", site.path(), site.image());
        if let Some(audit) = decision.audit_findings() {
            eprintln!("  audit: {audit}");
        }
    }
}

/// A bounded read of `path`, or of standard input for `-`.
pub(crate) fn read_input(path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    settings::open_input(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= limit,
        "{what} {} is larger than {limit} bytes",
        path.display()
    );
    Ok(bytes)
}

fn read_request(path: &Path) -> anyhow::Result<Vec<u8>> {
    read_input(path, MAX_REVIEW_BYTES as u64, "the AdmissionReview request")
}
