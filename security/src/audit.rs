//! The audit trail: an append-only file of JSON lines, each record chained to
//! the one before by a SHA-256 hash, so that changing, removing, reordering or
//! inserting any line is detected by [`verify`] at that line.
//!
//! A record is `{seq, time, kind, actor, details, prev_hash, hash}` where
//! `hash = sha256(prev_hash ‖ canonical(record without hash))`, `prev_hash` of
//! the first record is 64 zeros, and *canonical* is JSON with object keys in
//! byte order and no whitespace. Each line is itself written canonically, so a
//! line is accepted only if it is byte-for-byte what the writer produced.
//!
//! Durability: [`Log::record`] writes the whole line with one `write` on a file
//! opened for appending and then `fdatasync`s before returning, so a record
//! that was returned survives a crash (admissions and completions are per job,
//! not per task, so the cost is small). Reopening verifies the whole chain and
//! continues it; a log that does not verify (tampered, or a torn last line) is
//! refused rather than extended. One process writes a log at a time.
//!
//! The hash chain makes tampering *evident*, not impossible: someone able to
//! rewrite the file can recompute every hash after the change. Shipping lines
//! off the machine (or anchoring the latest hash elsewhere) closes that gap.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use thiserror::Error;

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A submission admitted or refused (quota, policy).
    Admission,
    /// Admission policies loaded or changed.
    PolicyChange,
    /// Capacity added or removed (the capacity controller).
    CapacityChange,
    /// A job ended; for a success, the hash of its spec, its seed and the code that computed it.
    JobCompleted,
    /// The scheduler started with this log.
    Started,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Admission => "admission",
            Kind::PolicyChange => "policy_change",
            Kind::CapacityChange => "capacity_change",
            Kind::JobCompleted => "job_completed",
            Kind::Started => "started",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the log could not be opened or written.
#[derive(Debug, Error)]
pub enum Error {
    #[error("audit log {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("audit log {path} does not verify, refusing to extend it: {error}")]
    Broken { path: PathBuf, error: VerifyError },
}

/// Where and why a log failed verification. Lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {reason}")]
pub struct VerifyError {
    pub line: u64,
    pub reason: String,
}

/// One appended record, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: u64,
    pub hash: String,
    /// The line written (canonical JSON, without the newline).
    pub line: String,
}

/// An open audit log. Cheap to share behind an `Arc`; appends are serialised.
#[derive(Debug)]
pub struct Log {
    path: PathBuf,
    tail: Mutex<Tail>,
}

#[derive(Debug)]
struct Tail {
    file: File,
    next_seq: u64,
    last_hash: String,
}

impl Log {
    /// Opens (creating if absent) the log at `path`, verifying what it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Log, Error> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::Io { path: path.clone(), source };
        let file = OpenOptions::new().create(true).append(true).read(true).open(&path).map_err(io)?;
        let (count, last_hash) =
            chain_of(BufReader::new(&file)).map_err(|error| Error::Broken { path: path.clone(), error })?;
        Ok(Log { tail: Mutex::new(Tail { file, next_seq: count + 1, last_hash }), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record stamped with the system clock.
    pub fn record(&self, kind: Kind, actor: &str, details: Value) -> Result<Record, Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.record_at(now, kind, actor, details)
    }

    /// Appends a record stamped `time_unix_ms`; durable when this returns.
    pub fn record_at(&self, time_unix_ms: i64, kind: Kind, actor: &str, details: Value) -> Result<Record, Error> {
        let mut tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        let mut body = Map::new();
        body.insert("seq".into(), Value::from(tail.next_seq));
        body.insert("time".into(), Value::from(rfc3339(time_unix_ms)));
        body.insert("kind".into(), Value::from(kind.as_str()));
        body.insert("actor".into(), Value::from(actor));
        body.insert("details".into(), details);
        body.insert("prev_hash".into(), Value::from(tail.last_hash.clone()));
        let hash = chain_hash(&tail.last_hash, &body);
        body.insert("hash".into(), Value::from(hash.clone()));
        let line = canonical(&Value::Object(body));
        let io = |source| Error::Io { path: self.path.clone(), source };
        tail.file.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
        tail.file.sync_data().map_err(io)?;
        let seq = tail.next_seq;
        tail.next_seq += 1;
        tail.last_hash = hash.clone();
        Ok(Record { seq, hash, line })
    }
}

/// Verifies the log at `path`; returns how many records it holds.
pub fn verify(path: impl AsRef<Path>) -> Result<u64, VerifyError> {
    let file = File::open(path.as_ref())
        .map_err(|e| VerifyError { line: 0, reason: format!("{}: {e}", path.as_ref().display()) })?;
    verify_reader(BufReader::new(file))
}

/// [`verify`] over any reader.
pub fn verify_reader(reader: impl BufRead) -> Result<u64, VerifyError> {
    chain_of(reader).map(|(count, _)| count)
}

/// Walks the chain: (records, hash of the last one).
fn chain_of(mut reader: impl BufRead) -> Result<(u64, String), VerifyError> {
    let mut prev = GENESIS.to_owned();
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| VerifyError { line: line_no + 1, reason: format!("read error: {e}") })?;
        if n == 0 {
            return Ok((line_no, prev));
        }
        line_no += 1;
        let fail = |reason: String| VerifyError { line: line_no, reason };
        let Some(body) = buf.strip_suffix(b"\n") else {
            return Err(fail("incomplete last line (no newline): a torn write or truncation".into()));
        };
        let text = std::str::from_utf8(body).map_err(|_| fail("not UTF-8".into()))?;
        prev = check_line(text, line_no, &prev).map_err(fail)?;
    }
}

/// Checks one line against the previous hash; returns its hash.
fn check_line(text: &str, seq: u64, prev: &str) -> Result<String, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if canonical(&value) != text {
        return Err("not in canonical form (the line was edited)".into());
    }
    let Value::Object(mut body) = value else { return Err("not a JSON object".into()) };
    for key in ["seq", "time", "kind", "actor", "details", "prev_hash", "hash"] {
        if !body.contains_key(key) {
            return Err(format!("missing field `{key}`"));
        }
    }
    if body.len() != 7 {
        return Err("unexpected fields".into());
    }
    if body.get("seq").and_then(Value::as_u64) != Some(seq) {
        return Err(format!("seq is {}, expected {seq}", body.get("seq").map_or(String::new(), canonical)));
    }
    if body.get("prev_hash").and_then(Value::as_str) != Some(prev) {
        return Err(
            "prev_hash does not match the previous record's hash (a record was removed, inserted or changed)".into()
        );
    }
    let Some(Value::String(stated)) = body.remove("hash") else { return Err("hash is not a string".into()) };
    let actual = chain_hash(prev, &body);
    if stated != actual {
        return Err(format!("hash mismatch: the record was changed (stated {stated}, computed {actual})"));
    }
    Ok(actual)
}

fn chain_hash(prev: &str, body: &Map<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical_object(body).as_bytes());
    hex(&h.finalize())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// JSON with object keys in byte order and no whitespace.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn canonical_object(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_object(map, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => write_object(map, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's own compact form (strings escaped, numbers shortest round-trip).
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

fn write_object(map: &Map<String, Value>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        if let Some(v) = map.get(k) {
            write_canonical(v, out);
        }
    }
    out.push('}');
}

/// `2026-01-01T00:00:00.000Z` for Unix milliseconds.
fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s, milli) = (t.hour(), t.minute(), t.second(), t.millisecond());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_drops_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, 2.5, {"z": null, "a": "x\n"}], "a": true }"#).unwrap_or_default();
        assert_eq!(canonical(&v), r#"{"a":true,"b":[1,2.5,{"a":"x\n","z":null}]}"#);
    }

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }
}
