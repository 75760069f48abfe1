//! Progress on stderr for long work: hashing a large file, waiting on an upload.
//!
//! Drawn only when stderr is a terminal and `--quiet` was not given, so logs, pipes and CI
//! output never carry carriage returns or escape codes. Hashing shows a byte count for inputs of
//! at least [`HASH_PROGRESS_MIN_BYTES`] (smaller files finish before a display helps); an upload
//! shows a line with the elapsed time until it finishes, then clears it.

use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Inputs smaller than this are hashed without a progress display.
pub(crate) const HASH_PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// How often a display is redrawn at most.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress display at all.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// Draws `line` over the current stderr line.
fn draw(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

/// Counts the bytes read through it and shows `label: done / total (pct%)`.
pub(crate) struct ProgressReader<R> {
    inner: R,
    display: Option<ByteDisplay>,
}

struct ByteDisplay {
    label: String,
    total: u64,
    done: u64,
    last_draw: Option<Instant>,
}

impl<R: Read> ProgressReader<R> {
    /// Wraps `inner`, whose length is `total` bytes; shows nothing for small inputs, off a
    /// terminal, or with `--quiet`.
    pub(crate) fn new(inner: R, label: String, total: u64) -> Self {
        let display = (total >= HASH_PROGRESS_MIN_BYTES && enabled()).then_some(ByteDisplay {
            label,
            total,
            done: 0,
            last_draw: None,
        });
        Self { inner, display }
    }
}

impl ByteDisplay {
    fn redraw(&mut self, force: bool) {
        let now = Instant::now();
        if !force && self.last_draw.is_some_and(|t| now - t < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(now);
        let percent = self.done.saturating_mul(100) / self.total.max(1);
        draw(&format!(
            "{}: {} / {} ({percent}%)",
            self.label,
            human_bytes(self.done),
            human_bytes(self.total)
        ));
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(display) = &mut self.display {
            display.done = display.done.saturating_add(n as u64);
            display.redraw(n == 0);
        }
        Ok(n)
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        if let Some(display) = &mut self.display
            && display.last_draw.is_some()
        {
            display.redraw(true);
            eprintln!();
        }
    }
}

/// Runs `work`, showing `label… Ns` while it runs; the line is cleared when it ends.
pub(crate) async fn while_running<T>(label: &str, work: impl Future<Output = T>) -> T {
    if !enabled() {
        return work.await;
    }
    let started = Instant::now();
    draw(&format!("{label}…"));
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    let mut work = std::pin::pin!(work);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = ticks.tick() => draw(&format!("{label}… {}s", started.elapsed().as_secs())),
        }
    };
    draw("");
    result
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
