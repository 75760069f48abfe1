//! A fault-injecting HTTP proxy in front of a real [`Registry`](super::Registry).
//!
//! Images addressed through [`FaultProxy::host`] (`127.0.0.1:PORT`, so signet speaks plain
//! HTTP to it) reach the registry unchanged, except for the requests a [`Rule`] matches: those
//! get the rule's [`Fault`] (a 5xx, a reset, a slow, truncated or corrupted body, a redirect
//! loop, a huge `Content-Length`, a canned answer). Rules are set per test and per request
//! path, and can apply to the first N matching requests only:
//!
//! ```ignore
//! let proxy = FaultProxy::start(&registry);
//! // The first GET of a signature manifest answers 503; later ones pass through.
//! proxy.add(Rule::new("GET", "/v2/*/manifests/*.sig", Fault::Status(503)).times(1));
//! ```
//!
//! It is deliberately simple, std only: one thread per connection, one request per
//! connection (every answer says `Connection: close`), the registry's answer read whole and
//! then rewritten. `Host` is passed on unchanged, so the registry's upload `Location`s point
//! back at the proxy and uploads go through it too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::Registry;

/// Read and write timeout on both sides of the proxy.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// Most bytes [`Fault::HugeContentLength`] sends before it gives up on the client.
const HUGE_BODY_CAP: u64 = 128 * 1024 * 1024;

/// Largest request or answer head the proxy reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What happens to a request a [`Rule`] matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an OCI error body; the registry is not asked.
    Status(u16),
    /// Close the connection without an answer. The request head is read, and half of its
    /// body if it has one: an upload is cut off mid-body (the unread rest makes it a reset).
    Reset,
    /// Forward, then send the body `bytes` at a time with `pause` before each piece.
    SlowBody {
        /// Bytes per piece.
        bytes: usize,
        /// Pause before each piece.
        pause: Duration,
    },
    /// Forward the head with the full `Content-Length`, send half the body, close.
    TruncatedBody,
    /// Forward with one byte in the middle of the body flipped (same length, same headers,
    /// so the body no longer matches its digest).
    CorruptBody,
    /// `302 Found` to the very same URL.
    RedirectLoop,
    /// Forward the head with `Content-Length` replaced by this, then stream zeros until the
    /// client hangs up (at most 128 MiB).
    HugeContentLength(u64),
    /// Forward the body in chunked coding, without `Content-Length`.
    Chunked,
    /// Answer 200 with this body (and its `Docker-Content-Digest` if `digest` is given); the
    /// registry is not asked.
    Serve {
        /// The `Content-Type`.
        content_type: String,
        /// The body.
        body: Arc<Vec<u8>>,
        /// The `Docker-Content-Digest` to send, if any.
        digest: Option<String>,
        /// Chunked coding instead of `Content-Length`.
        chunked: bool,
    },
}

impl Fault {
    fn name(&self) -> &'static str {
        match self {
            Fault::Status(_) => "status",
            Fault::Reset => "reset",
            Fault::SlowBody { .. } => "slow body",
            Fault::TruncatedBody => "truncated body",
            Fault::CorruptBody => "corrupt body",
            Fault::RedirectLoop => "redirect loop",
            Fault::HugeContentLength(_) => "huge content-length",
            Fault::Chunked => "chunked",
            Fault::Serve { .. } => "serve",
        }
    }
}

/// Which requests get a [`Fault`]: a method (`*` for any) and a path pattern, where `*`
/// stands for any run of characters (`/` included) and the query string is ignored.
#[derive(Debug, Clone)]
pub struct Rule {
    method: String,
    pattern: String,
    skip: usize,
    times: Option<usize>,
    fault: Fault,
    /// Requests matched so far.
    matched: usize,
}

impl Rule {
    /// `fault` for every `method` request whose path matches `pattern`.
    pub fn new(method: &str, pattern: &str, fault: Fault) -> Rule {
        Rule {
            method: method.to_owned(),
            pattern: pattern.to_owned(),
            skip: 0,
            times: None,
            fault,
            matched: 0,
        }
    }

    /// Only for the first `n` matching requests (after those [`Rule::skip`] lets through).
    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }

    /// Lets the first `n` matching requests through untouched.
    pub fn skip(mut self, n: usize) -> Rule {
        self.skip = n;
        self
    }

    /// The fault for one more request matching this rule, or `None` to pass it through.
    fn take(&mut self) -> Option<Fault> {
        self.matched += 1;
        let nth = self.matched - self.skip.min(self.matched);
        let applies = nth > 0 && self.times.is_none_or(|n| nth <= n);
        applies.then(|| self.fault.clone())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && wildcard_match(self.pattern.as_bytes(), path.as_bytes())
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The fault it got (its name), if any.
    pub fault: Option<&'static str>,
}

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    /// Answer body bytes written to clients (since the last `clear`).
    body_sent: AtomicU64,
    stop: AtomicBool,
}

/// The proxy: listens on `127.0.0.1:<free port>` until dropped.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("port", &self.port)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy to `registry`, with no rules: everything passes through.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub fn start(registry: &Registry) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("fault proxy: cannot bind 127.0.0.1:0: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fault proxy: no local address: {e}"))
            .port();
        let shared = Arc::new(Shared {
            upstream: registry.host(),
            rules: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            body_sent: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        let acceptor = thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let shared = Arc::clone(&accepting);
                thread::spawn(move || {
                    // A failure only ends this connection; the client sees it as one.
                    let _ = serve(&shared, client);
                });
            }
        });
        FaultProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`, the registry part of image references through the proxy.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Adds a rule. Of the rules matching a request, the first that still applies (see
    /// [`Rule::times`], [`Rule::skip`]) decides what happens to it; rules added in a row for
    /// the same requests therefore take turns: a reset, then a 503, then through.
    pub fn add(&self, rule: Rule) -> &FaultProxy {
        self.shared
            .rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(rule);
        self
    }

    /// Removes every rule (everything passes through again) and forgets the requests seen.
    pub fn clear(&self) {
        self.shared
            .rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.shared.body_sent.store(0, Ordering::SeqCst);
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many answer body bytes clients took since the last [`FaultProxy::clear`]: what
    /// they read, plus what the kernel's socket buffers took before they hung up. A client
    /// that refuses an oversized body takes a few MiB of it at most.
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared.body_sent.load(Ordering::SeqCst)
    }

    /// How many `method` requests matching `pattern` were seen (faulted or not).
    pub fn count(&self, method: &str, pattern: &str) -> usize {
        let probe = Rule::new(method, pattern, Fault::Chunked);
        self.seen()
            .iter()
            .filter(|s| probe.matches(&s.method, &s.path))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// `*` matches any run of bytes; everything else matches itself.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard_match(rest, &text[skip..])),
        Some((&c, rest)) => text
            .split_first()
            .is_some_and(|(&t, text_rest)| t == c && wildcard_match(rest, text_rest)),
    }
}

/// A request or answer head: the first line and the header fields.
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The head as sent, with the framing and connection fields dropped and `extra` added.
    fn to_bytes(&self, extra: &[(&str, String)]) -> Vec<u8> {
        const DROPPED: [&str; 4] = [
            "content-length",
            "transfer-encoding",
            "connection",
            "keep-alive",
        ];
        let mut text = format!("{}\r\n", self.line);
        for (name, value) in &self.headers {
            if !DROPPED.iter().any(|d| name.eq_ignore_ascii_case(d)) {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        for (name, value) in extra {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

fn io_error(message: String) -> std::io::Error {
    std::io::Error::other(message)
}

fn read_head(reader: &mut impl BufRead) -> std::io::Result<Head> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(io_error("connection closed in the head".to_owned()));
        }
        total += n;
        if total > MAX_HEAD_BYTES {
            return Err(io_error("head too large".to_owned()));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.is_empty() {
            break;
        }
        lines.push(text);
    }
    let mut lines = lines.into_iter();
    let line = lines
        .next()
        .ok_or_else(|| io_error("empty head".to_owned()))?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    Ok(Head { line, headers })
}

/// Reads a body framed by `head`: chunked (decoded), `Content-Length`, or (for answers
/// only, `to_eof`) up to the end of the stream.
fn read_body(reader: &mut impl BufRead, head: &Head, to_eof: bool) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.is_chunked() {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size_text = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| io_error(format!("bad chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailer fields, up to the empty line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = head.content_length() {
        reader.take(length).read_to_end(&mut body)?;
        if (body.len() as u64) < length {
            return Err(io_error("body shorter than its Content-Length".to_owned()));
        }
    } else if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Handles one connection: one request, one answer (or a fault instead).
fn serve(shared: &Shared, client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    client.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let request = read_head(&mut reader)?;
    let mut parts = request.line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let path = target.split('?').next().unwrap_or_default().to_owned();

    // Each matching rule counts the request; the first that applies to it decides.
    let fault = {
        let mut rules = shared.rules.lock().unwrap_or_else(PoisonError::into_inner);
        rules
            .iter_mut()
            .filter(|r| r.matches(&method, &path))
            .find_map(Rule::take)
    };
    shared
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            method: method.clone(),
            path: path.clone(),
            fault: fault.as_ref().map(Fault::name),
        });

    if let Some(Fault::Reset) = fault {
        if let Some(length) = request.content_length() {
            let mut half = vec![0u8; usize::try_from(length / 2).unwrap_or(0)];
            let _ = reader.read_exact(&mut half);
        }
        // Dropping both handles with unread input closes with a reset.
        return Ok(());
    }
    let body = read_body(&mut reader, &request, false)?;

    match &fault {
        Some(Fault::Status(code)) => {
            let body = format!(
                r#"{{"errors":[{{"code":"UNAVAILABLE","message":"injected fault: HTTP {code}"}}]}}"#
            );
            let head = format!(
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            client.write_all(head.as_bytes())?;
            client.write_all(body.as_bytes())?;
            return finish(client);
        }
        Some(Fault::RedirectLoop) => {
            let host = request.header("host").unwrap_or_default();
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://{host}{target}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            client.write_all(head.as_bytes())?;
            return finish(client);
        }
        Some(Fault::Serve {
            content_type,
            body,
            digest,
            chunked,
        }) => {
            let answer = Head {
                line: "HTTP/1.1 200 OK".to_owned(),
                headers: std::iter::once(("Content-Type".to_owned(), content_type.clone()))
                    .chain(
                        digest
                            .iter()
                            .map(|d| ("Docker-Content-Digest".to_owned(), d.clone())),
                    )
                    .collect(),
            };
            send_body(shared, &mut client, &answer, body, *chunked)?;
            return finish(client);
        }
        _ => {}
    }

    // Forward to the registry and read its whole answer.
    let upstream = TcpStream::connect(&shared.upstream)?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut extra = vec![("Connection", "close".to_owned())];
    if !body.is_empty() || request.content_length().is_some() || request.is_chunked() {
        extra.push(("Content-Length", body.len().to_string()));
    }
    let mut forwarded = request.to_bytes(&extra);
    forwarded.extend_from_slice(&body);
    (&upstream).write_all(&forwarded)?;
    let mut upstream_reader = BufReader::new(upstream);
    let answer = read_head(&mut upstream_reader)?;
    let status: u16 = answer
        .line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let bodiless = method.eq_ignore_ascii_case("HEAD")
        || status == 204
        || status == 304
        || (100..200).contains(&status);
    if bodiless {
        // Forwarded as it is, its Content-Length included.
        let mut extra = vec![("Connection", "close".to_owned())];
        if let Some(length) = answer.content_length() {
            extra.push(("Content-Length", length.to_string()));
        }
        client.write_all(&answer.to_bytes(&extra))?;
        return finish(client);
    }
    let mut answer_body = read_body(&mut upstream_reader, &answer, true)?;

    match fault {
        Some(Fault::SlowBody { bytes, pause }) => {
            client.write_all(&answer.to_bytes(&[
                ("Content-Length", answer_body.len().to_string()),
                ("Connection", "close".to_owned()),
            ]))?;
            for piece in answer_body.chunks(bytes.max(1)) {
                thread::sleep(pause);
                client.write_all(piece)?;
                client.flush()?;
            }
        }
        Some(Fault::TruncatedBody) => {
            client.write_all(&answer.to_bytes(&[
                ("Content-Length", answer_body.len().to_string()),
                ("Connection", "close".to_owned()),
            ]))?;
            client.write_all(&answer_body[..answer_body.len() / 2])?;
        }
        Some(Fault::CorruptBody) => {
            let middle = answer_body.len() / 2;
            if let Some(byte) = answer_body.get_mut(middle) {
                *byte ^= 0x01;
            }
            send_body(shared, &mut client, &answer, &answer_body, false)?;
        }
        Some(Fault::HugeContentLength(declared)) => {
            client.write_all(&answer.to_bytes(&[
                ("Content-Length", declared.to_string()),
                ("Connection", "close".to_owned()),
            ]))?;
            client.write_all(&answer_body)?;
            let zeros = vec![0u8; 64 * 1024];
            let mut sent = answer_body.len() as u64;
            while sent < declared.min(HUGE_BODY_CAP) {
                match client.write(&zeros) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sent += n as u64,
                }
            }
            shared.body_sent.fetch_add(sent, Ordering::SeqCst);
        }
        Some(Fault::Chunked) => send_body(shared, &mut client, &answer, &answer_body, true)?,
        _ => send_body(shared, &mut client, &answer, &answer_body, false)?,
    }
    finish(client)
}

/// Sends `head` and `body`, framed by `Content-Length` or in chunked coding, counting the
/// body bytes the client takes.
fn send_body(
    shared: &Shared,
    client: &mut TcpStream,
    head: &Head,
    body: &[u8],
    chunked: bool,
) -> std::io::Result<()> {
    let framing = if chunked {
        ("Transfer-Encoding", "chunked".to_owned())
    } else {
        ("Content-Length", body.len().to_string())
    };
    client.write_all(&head.to_bytes(&[framing, ("Connection", "close".to_owned())]))?;
    for piece in body.chunks(64 * 1024) {
        if chunked {
            client.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
        }
        client.write_all(piece)?;
        shared
            .body_sent
            .fetch_add(piece.len() as u64, Ordering::SeqCst);
        if chunked {
            client.write_all(b"\r\n")?;
        }
    }
    if chunked {
        client.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// Ends the answer: no more writes, then close.
fn finish(mut client: TcpStream) -> std::io::Result<()> {
    client.flush()?;
    client.shutdown(Shutdown::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_runs_of_anything() {
        assert!(wildcard_match(
            b"/v2/*/manifests/*.sig",
            b"/v2/app/manifests/sha256-ab.sig"
        ));
        assert!(!wildcard_match(
            b"/v2/*/manifests/*.sig",
            b"/v2/app/manifests/sha256-ab.att"
        ));
        assert!(wildcard_match(b"*", b""));
    }

    #[test]
    fn times_and_skip_pick_the_requests() {
        let mut rule = Rule::new("GET", "*", Fault::Reset).skip(1).times(2);
        let got: Vec<bool> = (0..5).map(|_| rule.take().is_some()).collect();
        assert_eq!(got, [false, true, true, false, false]);
    }
}
