//! The HTTPS server: a thin shell around [`crate::respond`] and [`crate::gatekeeper`].
//!
//! | endpoint | method | what |
//! |---|---|---|
//! | `/validate` | POST | validating webhook (`AdmissionReview` v1) |
//! | `/mutate` | POST | mutating webhook: the same decision, and the digest-pinning patch |
//! | `/gatekeeper` | POST | Gatekeeper external data provider; needs a client certificate when a client CA is configured |
//! | `/healthz` | GET | alive |
//! | `/readyz` | GET | policy and TLS loaded, not shutting down; with the last reload failure |
//! | `/metrics` | GET | Prometheus (OpenMetrics) text |
//!
//! Each request's deadline is the API server's `?timeout=` minus a margin (a tenth, at most a
//! second), or the configured default; the answer is sent by then, whatever the registries
//! do. The policy and the TLS files are polled, and reloaded when they change. On SIGTERM the
//! server stops accepting, reports not ready, lets requests in flight finish (up to the drain
//! time) and exits.

mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::json;

use self::tls::TlsState;
pub use self::tls::{TlsFiles, server_config};
use crate::decide::{Decider, Disposition, ImageDecision};
use crate::metrics::Metrics;
use crate::policy::PolicySource;
use crate::respond::{Reviewed, Webhook};
use crate::{Error, gatekeeper, log, review};

/// How long a client has to finish its TLS handshake, to send its request head, and to send
/// its body (the body also by the request's deadline, when that is sooner).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections served at once; more are closed as they are accepted (an API server keeps
/// a few; this bounds what anyone else reaching the port can hold).
const MAX_CONNECTIONS: usize = 4096;

/// How the server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen (`0.0.0.0:8443`; port 0 picks a free one, logged at start).
    pub listen: SocketAddr,
    /// The TLS files.
    pub tls: TlsFiles,
    /// The server's own namespace, never enforced (so that it can always be repaired).
    pub own_namespace: Option<String>,
    /// The deadline of a request whose URL carries no `timeout` (the API server's default
    /// webhook timeout is 10 s).
    pub default_timeout: Duration,
    /// The deadline of a Gatekeeper request (its Provider's `timeout`, 3 s in Gatekeeper's
    /// examples; the request does not carry it).
    pub provider_timeout: Duration,
    /// How often the policy and TLS files are looked at.
    pub reload_interval: Duration,
    /// How long the server keeps accepting after SIGTERM, reporting not ready, so that the
    /// Service's endpoints drop it before it stops listening (no refused connections).
    pub shutdown_delay: Duration,
    /// How long requests in flight may take to finish at shutdown.
    pub drain_timeout: Duration,
}

impl ServerConfig {
    /// Defaults for everything but where to listen and the TLS files.
    pub fn new(listen: SocketAddr, tls: TlsFiles) -> Self {
        Self {
            listen,
            tls,
            own_namespace: None,
            default_timeout: Duration::from_secs(10),
            provider_timeout: Duration::from_secs(3),
            reload_interval: Duration::from_secs(5),
            shutdown_delay: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(20),
        }
    }
}

/// What every request handler shares.
#[derive(Debug)]
struct State {
    decider: Arc<Decider>,
    metrics: Arc<Metrics>,
    config: ServerConfig,
    tls: TlsState,
    source: PolicySource,
    ready: AtomicBool,
    policy_error: Mutex<Option<String>>,
}

/// Runs the server until `shutdown` completes, then drains. `Err` only when it cannot start
/// (TLS files, address).
pub async fn serve(
    config: ServerConfig,
    decider: Arc<Decider>,
    source: PolicySource,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let tls = TlsState::load(config.tls.clone())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Listen {
            address: config.listen.to_string(),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| Error::Listen {
        address: config.listen.to_string(),
        source,
    })?;
    let policy = decider.policy();
    log::info(
        "listening",
        json!({
            "address": address.to_string(),
            "policy": source.policy_path().display().to_string(),
            "policyRevision": policy.revision().to_string(),
            "trustRootRevision": policy.trust_root_revision().map(ToString::to_string),
            "clientCertificates": tls.verifies_clients(),
        }),
    );
    let state = Arc::new(State {
        decider,
        metrics,
        config,
        tls,
        source,
        ready: AtomicBool::new(true),
        policy_error: Mutex::new(None),
    });
    let reloader = tokio::spawn(reload_loop(Arc::clone(&state)));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = pin!(shutdown);
    // Until SIGTERM, and for `shutdown_delay` after it (not ready, still answering).
    let delay = tokio::time::sleep(Duration::from_secs(3600));
    let mut delay = pin!(delay);
    let mut draining = false;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of file descriptors (or another transient failure): accept fails at
                    // once every time, so wait a little instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                while connections.try_join_next().is_some() {}
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let state = Arc::clone(&state);
                let stopping = stopping.clone();
                connections.spawn(async move {
                    connection(state, stream, peer, stopping).await;
                    drop(slot);
                });
            }
            () = &mut shutdown, if !draining => {
                draining = true;
                state.ready.store(false, Ordering::SeqCst);
                log::info(
                    "SIGTERM: not ready; still answering until the endpoints drop this replica",
                    json!({ "delayMillis": u64::try_from(state.config.shutdown_delay.as_millis()).unwrap_or(u64::MAX) }),
                );
                delay.as_mut().reset(tokio::time::Instant::now() + state.config.shutdown_delay);
            }
            () = &mut delay, if draining => break,
        }
    }
    drop(listener);
    let in_flight = connections.len();
    log::info("shutting down", json!({ "connections": in_flight }));
    let _ = stop.send(true);
    let drained = tokio::time::timeout(state.config.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    reloader.abort();
    log::info("stopped", json!({ "drained": drained }));
    Ok(())
}

/// Completes on SIGTERM (what the kubelet sends) or SIGINT.
pub async fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// One connection: TLS, then HTTP/1.1 or HTTP/2 until the client closes or the server stops.
async fn connection(
    state: Arc<State>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(state.tls.config());
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            log::warn(
                "TLS handshake failed",
                json!({ "peer": peer.to_string(), "error": error.to_string() }),
            );
            return;
        }
        Err(_) => return,
    };
    let client_certificate = stream.get_ref().1.peer_certificates().is_some();
    let service = hyper::service::service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(route(&state, request, client_certificate).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn problem(status: StatusCode, message: &str) -> Answer {
    answer(
        status,
        "application/json",
        json!({ "error": message }).to_string(),
    )
}

async fn route(state: &State, request: Request<Incoming>, client_certificate: bool) -> Answer {
    let path = request.uri().path().to_owned();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") => answer(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => readiness(state),
        (&Method::GET, "/metrics") => answer(
            StatusCode::OK,
            crate::metrics::CONTENT_TYPE,
            state.metrics.encode(state.decider.client().request_count()),
        ),
        (&Method::POST, "/validate") => admission(state, request, Webhook::Validating).await,
        (&Method::POST, "/mutate") => admission(state, request, Webhook::Mutating).await,
        (&Method::POST, "/gatekeeper") => {
            if state.tls.verifies_clients() && !client_certificate {
                problem(
                    StatusCode::UNAUTHORIZED,
                    "the provider endpoint needs a client certificate from the configured CA",
                )
            } else {
                provider(state, request).await
            }
        }
        (_, "/healthz" | "/readyz" | "/metrics" | "/validate" | "/mutate" | "/gatekeeper") => {
            problem(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => problem(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

fn readiness(state: &State) -> Answer {
    let policy = state.decider.policy();
    let ready = state.ready.load(Ordering::SeqCst);
    let body = json!({
        "ready": ready,
        "policy": {
            "file": state.source.policy_path().display().to_string(),
            "revision": policy.revision().to_string(),
            "loadedAt": jiff::Timestamp::try_from(policy.loaded_at()).ok().map(|t| t.to_string()),
            "reloadError": state.policy_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        },
        "trustRoot": { "revision": policy.trust_root_revision().map(ToString::to_string) },
        "tls": { "reloadError": state.tls.last_error() },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    answer(status, "application/json", body.to_string())
}

/// The body, read up to `limit` bytes and by `by`: `Err` is the answer to send instead (413,
/// 408, 400). Without the time bound a client trickling its body would hold the request open
/// for ever; with it, even a request whose body is late is answered by its deadline.
async fn read_body(request: Request<Incoming>, limit: usize, by: Instant) -> Result<Bytes, Answer> {
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = Limited::new(request.into_body(), limit).collect();
    match tokio::time::timeout_at(by.into(), body).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(problem(
            StatusCode::BAD_REQUEST,
            "the body could not be read",
        )),
        Err(_) => Err(problem(
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive before the request's deadline",
        )),
    }
}

/// When a body must have arrived: by the request's deadline, and within
/// [`HANDSHAKE_TIMEOUT`] of the request's start whatever its deadline.
fn body_deadline(start: Instant, deadline: Instant) -> Instant {
    deadline.min(start + HANDSHAKE_TIMEOUT)
}

/// The deadline of a request whose URL says `timeout` (Go's duration syntax: `10s`,
/// `1m30s`, `500ms`), less a margin for the answer's way back.
fn deadline(start: Instant, query: Option<&str>, default: Duration) -> Instant {
    let timeout = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("timeout="))
        .and_then(parse_go_duration)
        .unwrap_or(default);
    let margin = (timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    start + timeout.saturating_sub(margin)
}

/// A Go `time.Duration` string: a sequence of decimal numbers with units (h, m, s, ms, us,
/// µs, ns). `None` for anything else.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

async fn admission(state: &State, request: Request<Incoming>, webhook: Webhook) -> Answer {
    let start = Instant::now();
    let endpoint = match webhook {
        Webhook::Validating => "validate",
        Webhook::Mutating => "mutate",
    };
    let deadline = deadline(start, request.uri().query(), state.config.default_timeout);
    let body = match read_body(
        request,
        review::MAX_REVIEW_BYTES,
        body_deadline(start, deadline),
    )
    .await
    {
        Ok(body) => body,
        Err(refusal) => {
            state
                .metrics
                .request(endpoint, "unknown", "unknown", "bad-request");
            return refusal;
        }
    };
    let request = match review::parse_review(&body) {
        Ok(request) => request,
        Err(error) => {
            state
                .metrics
                .request(endpoint, "unknown", "unknown", "bad-request");
            log::warn(
                "bad request",
                json!({ "endpoint": endpoint, "error": crate::decide::error_chain(&error) }),
            );
            return problem(StatusCode::BAD_REQUEST, &crate::decide::error_chain(&error));
        }
    };
    let reviewed = crate::respond::review(
        &state.decider,
        &request,
        webhook,
        state.config.own_namespace.as_deref(),
        deadline,
    )
    .await;
    let elapsed = start.elapsed();
    let decision = decision_label(&reviewed);
    state
        .metrics
        .request(endpoint, reviewed.kind, request.operation.name(), decision);
    if reviewed.skipped.is_none() {
        state.metrics.decision_time(elapsed);
    }
    log::info(
        "admission",
        json!({
            "endpoint": endpoint,
            "uid": request.uid,
            "kind": request.kind.kind,
            "subResource": request.sub_resource,
            "namespace": request.namespace,
            "name": request.name,
            "operation": request.operation.name(),
            "user": request.username(),
            "dryRun": request.dry_run.unwrap_or(false),
            "allowed": reviewed.response.allowed,
            "decision": decision,
            "skipped": reviewed.skipped,
            "patched": reviewed.response.patch.is_some(),
            "elapsedMicros": u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "images": images_log(&reviewed.decisions, state.decider.failure_mode()),
        }),
    );
    answer(
        StatusCode::OK,
        "application/json",
        review::review_body(&reviewed.response),
    )
}

fn decision_label(reviewed: &Reviewed) -> &'static str {
    if reviewed.skipped.is_some() {
        "skip"
    } else if !reviewed.response.allowed {
        "deny"
    } else if !reviewed.response.warnings.is_empty() {
        "warn"
    } else {
        "allow"
    }
}

fn images_log(decisions: &[ImageDecision], mode: crate::FailureMode) -> serde_json::Value {
    decisions
        .iter()
        .map(|d| {
            let (decision, reason) = match d.disposition(mode) {
                Disposition::Allow => ("allow", None),
                Disposition::Warn(why) => ("warn", Some(why)),
                Disposition::Deny(why) => ("deny", Some(why)),
            };
            json!({
                "path": d.site().path(),
                "image": d.site().image(),
                "digest": d.digest().map(ToString::to_string),
                "decision": decision,
                "unverified": d.unverified(),
                "cached": d.cached(),
                "reason": reason,
                "audit": d.audit_findings(),
            })
        })
        .collect()
}

async fn provider(state: &State, request: Request<Incoming>) -> Answer {
    let start = Instant::now();
    let deadline = deadline(start, None, state.config.provider_timeout);
    let body = match read_body(
        request,
        gatekeeper::MAX_REQUEST_BYTES,
        body_deadline(start, deadline),
    )
    .await
    {
        Ok(body) => body,
        Err(refusal) => {
            state
                .metrics
                .request("gatekeeper", "image", "lookup", "bad-request");
            return refusal;
        }
    };
    let sites = match gatekeeper::parse_provider_request(&body) {
        Ok(sites) => sites,
        Err(error) => {
            state
                .metrics
                .request("gatekeeper", "image", "lookup", "bad-request");
            // Gatekeeper reads a system error from a 200 answer.
            return answer(
                StatusCode::OK,
                "application/json",
                gatekeeper::system_error(&crate::decide::error_chain(&error)),
            );
        }
    };
    let decisions = state.decider.decide(&sites, deadline).await;
    let elapsed = start.elapsed();
    let mode = state.decider.failure_mode();
    let denied = decisions
        .iter()
        .any(|d| matches!(d.disposition(mode), Disposition::Deny(_)));
    let decision = if denied { "deny" } else { "allow" };
    state
        .metrics
        .request("gatekeeper", "image", "lookup", decision);
    state.metrics.decision_time(elapsed);
    log::info(
        "provider",
        json!({
            "endpoint": "gatekeeper",
            "decision": decision,
            "elapsedMicros": u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "images": images_log(&decisions, mode),
        }),
    );
    answer(
        StatusCode::OK,
        "application/json",
        gatekeeper::provider_response(&decisions, mode),
    )
}

/// Every `reload_interval`: the policy and the TLS files, reloaded when they changed; a
/// failure keeps what is in force and is reported once (log, metric, `/readyz`).
async fn reload_loop(state: Arc<State>) {
    let mut ticks = tokio::time::interval(state.config.reload_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let current = state.decider.policy();
        // Hashing the files is blocking I/O: off the async threads.
        let check = {
            let state = Arc::clone(&state);
            tokio::task::spawn_blocking(move || {
                let policy = if current.changed() {
                    Some(state.source.load())
                } else {
                    None
                };
                (policy, state.tls.reload_if_changed())
            })
            .await
        };
        let Ok((policy, tls)) = check else { continue };
        match policy {
            Some(Ok(loaded)) => {
                let old = state.decider.policy();
                log::info(
                    "policy reloaded",
                    json!({
                        "policy": state.source.policy_path().display().to_string(),
                        "from": old.revision().to_string(),
                        "to": loaded.revision().to_string(),
                        "trustRoot": loaded.trust_root_revision().map(ToString::to_string),
                    }),
                );
                state.decider.replace_policy(loaded);
                state.metrics.policy_reload(true);
                *state
                    .policy_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
            }
            Some(Err(error)) => {
                let why = crate::decide::error_chain(&error);
                let mut last = state
                    .policy_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.as_deref() != Some(why.as_str()) {
                    log::error(
                        "policy reload failed; the previous policy stays in force",
                        json!({
                            "policy": state.source.policy_path().display().to_string(),
                            "inForce": state.decider.policy().revision().to_string(),
                            "error": why,
                        }),
                    );
                    state.metrics.policy_reload(false);
                    *last = Some(why);
                }
            }
            None => {}
        }
        match tls {
            Some(Ok(())) => {
                log::info("TLS certificate reloaded", json!({}));
                state.metrics.tls_reload(true);
            }
            Some(Err(error)) => {
                log::error(
                    "TLS reload failed; the previous certificate stays in use",
                    json!({ "error": crate::decide::error_chain(&error) }),
                );
                state.metrics.tls_reload(false);
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("s"), None);
        assert_eq!(parse_go_duration("10x"), None);
    }

    #[test]
    fn a_body_is_due_by_the_deadline_and_never_later_than_the_handshake_timeout() {
        let start = Instant::now();
        let soon = start + Duration::from_secs(2);
        assert_eq!(body_deadline(start, soon), soon);
        let late = start + Duration::from_secs(29);
        assert_eq!(body_deadline(start, late), start + HANDSHAKE_TIMEOUT);
    }

    #[test]
    fn deadline_keeps_a_margin() {
        let start = Instant::now();
        let d = deadline(start, Some("timeout=10s"), Duration::from_secs(30));
        assert_eq!(d - start, Duration::from_secs(9));
        let d = deadline(start, Some("a=b&timeout=1s"), Duration::from_secs(30));
        assert_eq!(d - start, Duration::from_millis(900));
        let d = deadline(start, None, Duration::from_secs(30));
        assert_eq!(d - start, Duration::from_secs(29));
    }
}
