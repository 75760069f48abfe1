//! JSON log lines on standard error: one object per event, with a timestamp, a level and a
//! message, and the event's fields (a request's uid, each image with its digest, decision and
//! reason). Written whole under a lock, so lines of concurrent requests never interleave.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Map, Value};

static STDERR: Mutex<()> = Mutex::new(());

/// How much an event matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal operation.
    Info,
    /// Something was refused or kept as it was (a policy that failed to load).
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Writes one event: `{"ts":…,"level":…,"msg":…, …fields}`. Fields that are not an object are
/// put under `fields`.
pub fn event(level: Level, message: &str, fields: Value) {
    let mut line = Map::new();
    line.insert(
        "ts".to_owned(),
        Value::String(jiff::Timestamp::now().to_string()),
    );
    line.insert("level".to_owned(), Value::String(level.name().to_owned()));
    line.insert("msg".to_owned(), Value::String(message.to_owned()));
    match fields {
        Value::Object(fields) => line.extend(fields),
        Value::Null => {}
        other => {
            line.insert("fields".to_owned(), other);
        }
    }
    let mut text = Value::Object(line).to_string();
    text.push('\n');
    let _guard = STDERR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // A closed standard error must not take the server down.
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// [`event`] at [`Level::Info`].
pub fn info(message: &str, fields: Value) {
    event(Level::Info, message, fields);
}

/// [`event`] at [`Level::Warn`].
pub fn warn(message: &str, fields: Value) {
    event(Level::Warn, message, fields);
}

/// [`event`] at [`Level::Error`].
pub fn error(message: &str, fields: Value) {
    event(Level::Error, message, fields);
}
