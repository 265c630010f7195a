//! The durable [`JobStore`]: one SQLite file (WAL mode) via `rusqlite` with
//! SQLite bundled, so no system library is needed.
//!
//! Layout (schema version 1, kept in `PRAGMA user_version`):
//! - `jobs`: one row per accepted job: the [`JobRecord`] (spec and plan) as
//!   JSON, the early-stop point, and the [`JobOutcome`] as JSON once finished.
//!   A partial unique index on `(tenant, client_request_id)` backs the
//!   scheduler's request-id dedupe.
//! - `results`: one row per kept block result, in arrival order (`seq`), the
//!   result itself as a compact little-endian blob (see [`encode_result`]),
//!   f64s stored as their exact bits. Rows go with their job (`ON DELETE
//!   CASCADE`) and are dropped when the job finishes (only the outcome is needed then).
//!
//! Every mutating call is one transaction, committed before it returns (or,
//! between `begin` and `commit`, part of one transaction committed by `commit`), so
//! an acknowledged write survives `kill -9` of the scheduler (see
//! [`Durability`] for why, and for OS crashes and power loss, which issue #3
//! leaves out of scope).

use crate::ids::JobId;
use crate::job::{BlockResult, JobOutcome, JobRecord};
use crate::store::{JobStore, StoreError, StoredJob};
use riskcalc::engine::{Moments, TradeBlock};
use riskcalc::risk::ScenarioBlock;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Schema migrations: entry `i` takes the schema from version `i` to `i + 1`.
/// Append new entries; never edit a released one.
const MIGRATIONS: &[&str] = &["
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    tenant            TEXT    NOT NULL,
    client_request_id TEXT,
    submitted_at      INTEGER NOT NULL,
    record            BLOB    NOT NULL,
    stop_at           INTEGER,
    outcome           BLOB
) STRICT;
CREATE UNIQUE INDEX jobs_by_request ON jobs (tenant, client_request_id) WHERE client_request_id IS NOT NULL;
CREATE TABLE results (
    seq    INTEGER PRIMARY KEY,
    job    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    task   INTEGER NOT NULL,
    kind   INTEGER NOT NULL,
    trade  INTEGER NOT NULL,
    block  INTEGER NOT NULL,
    result BLOB    NOT NULL,
    UNIQUE (job, kind, trade, block)
) STRICT;
"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// `PRAGMA application_id` of a riskgrid store ("RGRD"), so that opening some
/// other SQLite file by mistake fails instead of adding tables to it.
const APPLICATION_ID: i32 = 0x5247_5244;

/// What an acknowledged write must survive.
///
/// In WAL mode a commit appends the transaction's pages to the `-wal` file
/// with `write(2)` before `COMMIT` returns; from then on they are in the
/// kernel's page cache, which a killed process (even `kill -9`) cannot take
/// back. So both settings guarantee that a write acknowledged by the store
/// survives the death of the scheduler process, and the database is never
/// corrupted by it. They differ only on an OS crash or power loss:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL`: no fsync per commit (the WAL is synced at
    /// checkpoints). Survives `kill -9` of the scheduler; an OS crash or power
    /// loss may roll back the last commits (never corrupts). The default: it
    /// is what issue #3 asks for, and commits cost microseconds, not an fsync.
    #[default]
    ProcessCrash,
    /// `synchronous=FULL`: the WAL is fsynced at every commit, so an
    /// acknowledged write also survives an OS crash or power loss (given a
    /// disk that honours flushes). Costs one fsync per mutating call.
    PowerLoss,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::ProcessCrash => "NORMAL",
            Durability::PowerLoss => "FULL",
        }
    }
}

/// A [`JobStore`] in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
    durability: Durability,
}

fn sql_err(op: &str, what: impl std::fmt::Display) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError(format!("sqlite {op} ({what}): {e}"))
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError(format!("sqlite: {what} {value} does not fit in an INTEGER column")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError(format!("sqlite: stored {what} {value} is negative")))
}

impl SqliteStore {
    /// Opens (creating or migrating) the store at `path`, with [`Durability::default`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        SqliteStore::open_with(path, Durability::default())
    }

    /// Opens (creating or migrating) the store at `path`.
    pub fn open_with(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql_err("open", path.display()))?;
        SqliteStore::setup(conn, Some(path.to_owned()), durability)
    }

    /// A store in memory (nothing survives; for tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(sql_err("open", ":memory:"))?;
        SqliteStore::setup(conn, None, Durability::default())
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>, durability: Durability) -> Result<Self, StoreError> {
        let at = path.as_ref().map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
        // Another connection (an operator's sqlite3 shell) may hold a lock briefly.
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err("set busy_timeout", &at))?;
        // Refuse a foreign or newer file before changing anything in it (WAL mode is persistent).
        identify(&conn, &at)?;
        if path.is_some() {
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(sql_err("set journal_mode=WAL", &at))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError(format!("sqlite ({at}): journal_mode is {mode}, WAL is required")));
            }
        }
        conn.pragma_update(None, "synchronous", durability.pragma()).map_err(sql_err("set synchronous", &at))?;
        conn.pragma_update(None, "foreign_keys", true).map_err(sql_err("set foreign_keys", &at))?;
        let fk: bool =
            conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).map_err(sql_err("read foreign_keys", &at))?;
        if !fk {
            return Err(StoreError(format!("sqlite ({at}): foreign keys could not be enabled")));
        }
        migrate(&mut conn, &at)?;
        Ok(SqliteStore { conn, path, durability })
    }

    /// The file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// The schema version of the open database (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql_err("read user_version", "schema"))
    }

    /// Copies every committed WAL page into the main file (SQLite also does
    /// this on its own every ~1000 pages). Not needed for durability.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(sql_err("checkpoint", "wal"))
    }

    /// `PRAGMA integrity_check` plus `foreign_key_check`: `Ok` when both find nothing.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let check: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(sql_err("integrity_check", "db"))?;
        if check != "ok" {
            return Err(StoreError(format!("sqlite integrity_check: {check}")));
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check").map_err(sql_err("foreign_key_check", "db"))?;
        let mut rows = stmt.query([]).map_err(sql_err("foreign_key_check", "db"))?;
        if let Some(row) = rows.next().map_err(sql_err("foreign_key_check", "db"))? {
            let table: String = row.get(0).map_err(sql_err("foreign_key_check", "db"))?;
            return Err(StoreError(format!("sqlite foreign_key_check: dangling rows in {table}")));
        }
        Ok(())
    }
}

/// The schema version of a riskgrid store or of an empty file (0); an error
/// for another application's database or a newer schema.
fn identify(conn: &Connection, at: &str) -> Result<u32, StoreError> {
    let version: u32 =
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql_err("read user_version", at))?;
    let app: i32 =
        conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(sql_err("read application_id", at))?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(sql_err("read sqlite_schema", at))?;
    let fresh = app == 0 && version == 0 && objects == 0;
    if app != APPLICATION_ID && !fresh {
        return Err(StoreError(format!(
            "sqlite ({at}): not a riskgrid job store (application_id {app:#x}, user_version {version})"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "sqlite ({at}): schema version {version} is newer than this build's {SCHEMA_VERSION}; upgrade the scheduler"
        )));
    }
    Ok(version)
}

fn migrate(conn: &mut Connection, at: &str) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err("begin migration", at))?;
    // Checked again under the write lock: another process may have migrated meanwhile.
    let version = identify(&tx, at)?;
    if version == SCHEMA_VERSION {
        return Ok(()); // the transaction rolls back: nothing was written
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql).map_err(sql_err("migrate schema", format!("{at}: version {i} to {}", i + 1)))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(sql_err("set application_id", at))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sql_err("set user_version", at))?;
    tx.commit().map_err(sql_err("commit migration", at))
}

impl JobStore for SqliteStore {
    fn insert_job(&mut self, record: &JobRecord) -> Result<(), StoreError> {
        let job = record.id;
        let id = to_i64(job.0, "job id")?;
        let submitted_at = to_i64(record.submitted_at, "submission time")?;
        let json = serde_json::to_vec(record).map_err(|e| StoreError(format!("encode record of {job}: {e}")))?;
        self.conn
            .prepare_cached(
                "INSERT INTO jobs (id, tenant, client_request_id, submitted_at, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![id, record.tenant.0, record.client_request_id, submitted_at, json]))
            .map_err(sql_err("insert into jobs", job))?;
        Ok(())
    }

    fn append_result(&mut self, job: JobId, task: u32, result: &BlockResult) -> Result<(), StoreError> {
        let (kind, trade, block) = match result {
            BlockResult::Pricing(b) => (0, b.trade, b.block),
            BlockResult::Risk(b) => (1, 0, b.block),
        };
        let blob = encode_result(result);
        let (id, block) = (to_i64(job.0, "job id")?, to_i64(block, "block index")?);
        // OR IGNORE: a block already stored for this job keeps its first result
        // (the one merged), so a repeated append is harmless.
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO results (job, task, kind, trade, block, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| s.execute(params![id, task, kind, trade, block, blob]))
            .map_err(sql_err("insert into results", format!("{job}.t{task}")))?;
        Ok(())
    }

    fn set_stop(&mut self, job: JobId, stop_at: u64) -> Result<(), StoreError> {
        let (id, stop) = (to_i64(job.0, "job id")?, to_i64(stop_at, "stop point")?);
        let n = self
            .conn
            .prepare_cached("UPDATE jobs SET stop_at = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, stop]))
            .map_err(sql_err("update jobs.stop_at", job))?;
        if n == 0 {
            return Err(StoreError(format!("no stored job {job}")));
        }
        Ok(())
    }

    fn finish_job(&mut self, job: JobId, outcome: &JobOutcome) -> Result<(), StoreError> {
        let json = serde_json::to_vec(outcome).map_err(|e| StoreError(format!("encode outcome of {job}: {e}")))?;
        // JSON has no NaN or infinities (serde_json writes them as null): refuse
        // here an outcome that would not load back, rather than fail every restart.
        serde_json::from_slice::<JobOutcome>(&json)
            .map_err(|e| StoreError(format!("outcome of {job} does not survive JSON (non-finite number?): {e}")))?;
        let id = to_i64(job.0, "job id")?;
        // A savepoint: its own transaction, or part of the batch open since `begin`.
        let tx = self.conn.savepoint().map_err(sql_err("begin finish", job))?;
        let n = tx
            .execute("UPDATE jobs SET outcome = ?2 WHERE id = ?1", params![id, json])
            .map_err(sql_err("update jobs.outcome", job))?;
        if n == 0 {
            return Err(StoreError(format!("no stored job {job}")));
        }
        // A finished job needs only its outcome.
        tx.execute("DELETE FROM results WHERE job = ?1", [id]).map_err(sql_err("delete from results", job))?;
        tx.commit().map_err(sql_err("commit finish", job))
    }

    fn remove_job(&mut self, job: JobId) -> Result<(), StoreError> {
        // Its results go with it (ON DELETE CASCADE).
        self.conn
            .execute("DELETE FROM jobs WHERE id = ?1", [to_i64(job.0, "job id")?])
            .map_err(sql_err("delete from jobs", job))?;
        Ok(())
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_err("begin", "a batch of writes"))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("COMMIT").map_err(sql_err("commit", "a batch of writes"))
    }

    fn load(&self) -> Result<Vec<StoredJob>, StoreError> {
        // One read transaction: a consistent snapshot of both tables.
        let tx = self.conn.unchecked_transaction().map_err(sql_err("begin load", "jobs"))?;
        let mut jobs: BTreeMap<i64, StoredJob> = BTreeMap::new();
        {
            let mut stmt = tx
                .prepare("SELECT id, record, stop_at, outcome FROM jobs ORDER BY id")
                .map_err(sql_err("select", "jobs"))?;
            let mut rows = stmt.query([]).map_err(sql_err("select", "jobs"))?;
            while let Some(row) = rows.next().map_err(sql_err("read", "jobs"))? {
                let id: i64 = row.get(0).map_err(sql_err("read jobs.id", "jobs"))?;
                let record: Vec<u8> = row.get(1).map_err(sql_err("read jobs.record", id))?;
                let record: JobRecord = serde_json::from_slice(&record)
                    .map_err(|e| StoreError(format!("sqlite: decode jobs.record of job {id}: {e}")))?;
                if i64::try_from(record.id.0).ok() != Some(id) {
                    return Err(StoreError(format!("sqlite: jobs row {id} holds the record of {}", record.id)));
                }
                let stop_at: Option<i64> = row.get(2).map_err(sql_err("read jobs.stop_at", id))?;
                let stop_at = stop_at.map(|s| to_u64(s, "stop point")).transpose()?;
                let outcome: Option<Vec<u8>> = row.get(3).map_err(sql_err("read jobs.outcome", id))?;
                let outcome = outcome
                    .map(|o| serde_json::from_slice::<JobOutcome>(&o))
                    .transpose()
                    .map_err(|e| StoreError(format!("sqlite: decode jobs.outcome of job {id}: {e}")))?;
                jobs.insert(id, StoredJob { record, results: Vec::new(), stop_at, outcome });
            }
        }
        {
            // `seq` increases with every insert, so rowid order is arrival order.
            let mut stmt = tx
                .prepare("SELECT seq, job, task, result FROM results ORDER BY seq")
                .map_err(sql_err("select", "results"))?;
            let mut rows = stmt.query([]).map_err(sql_err("select", "results"))?;
            while let Some(row) = rows.next().map_err(sql_err("read", "results"))? {
                let seq: i64 = row.get(0).map_err(sql_err("read results.seq", "results"))?;
                let job: i64 = row.get(1).map_err(sql_err("read results.job", seq))?;
                let task: u32 = row.get(2).map_err(sql_err("read results.task", seq))?;
                let blob: Vec<u8> = row.get(3).map_err(sql_err("read results.result", seq))?;
                let result = decode_result(&blob)
                    .map_err(|e| StoreError(format!("sqlite: decode results row {seq} (job {job}): {e}")))?;
                let stored = jobs
                    .get_mut(&job)
                    .ok_or_else(|| StoreError(format!("sqlite: results row {seq} names missing job {job}")))?;
                stored.results.push((task, result));
            }
        }
        tx.finish().map_err(sql_err("end load", "jobs"))?;
        Ok(jobs.into_values().collect())
    }
}

/// Format byte of a result blob; bump it (and keep decoding the old one) to change the layout.
const RESULT_FORMAT: u8 = 1;
const PRICING: u8 = 0;
const RISK: u8 = 1;

/// A block result as bytes: a format byte, a kind byte, then little-endian
/// integers and the raw bits of every f64 (so NaN payloads and signed zeros
/// survive). Pricing: trade u32, block u64, count u32, then (n u64, sum, m2)
/// per quantity. Risk: block u64, trades u32, then per trade count u32 and the P&Ls.
///
/// The destructuring patterns are exhaustive, so a field added to these types
/// fails to compile here instead of being dropped silently.
pub fn encode_result(result: &BlockResult) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(RESULT_FORMAT);
    match result {
        BlockResult::Pricing(TradeBlock { trade, block, moments }) => {
            out.reserve(17 + moments.len() * 24);
            out.push(PRICING);
            out.extend_from_slice(&trade.to_le_bytes());
            out.extend_from_slice(&block.to_le_bytes());
            out.extend_from_slice(&(moments.len() as u32).to_le_bytes());
            for Moments { n, sum, m2 } in moments {
                out.extend_from_slice(&n.to_le_bytes());
                out.extend_from_slice(&sum.to_bits().to_le_bytes());
                out.extend_from_slice(&m2.to_bits().to_le_bytes());
            }
        }
        BlockResult::Risk(ScenarioBlock { block, pnl }) => {
            out.reserve(13 + pnl.iter().map(|p| 4 + p.len() * 8).sum::<usize>());
            out.push(RISK);
            out.extend_from_slice(&block.to_le_bytes());
            out.extend_from_slice(&(pnl.len() as u32).to_le_bytes());
            for trade in pnl {
                out.extend_from_slice(&(trade.len() as u32).to_le_bytes());
                for v in trade {
                    out.extend_from_slice(&v.to_bits().to_le_bytes());
                }
            }
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or("truncated blob")?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A count of items of `size` bytes each, checked against what is left.
    fn count(&mut self, size: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(size) > self.0.len() { Err(format!("count {n} exceeds the blob")) } else { Ok(n) }
    }
}

/// Inverse of [`encode_result`].
pub fn decode_result(bytes: &[u8]) -> Result<BlockResult, String> {
    let mut r = Reader(bytes);
    let format = r.u8()?;
    if format != RESULT_FORMAT {
        return Err(format!("unknown result format {format}"));
    }
    let result = match r.u8()? {
        PRICING => {
            let trade = r.u32()?;
            let block = r.u64()?;
            let n = r.count(24)?;
            let mut moments = Vec::with_capacity(n);
            for _ in 0..n {
                moments.push(Moments { n: r.u64()?, sum: r.f64()?, m2: r.f64()? });
            }
            BlockResult::Pricing(TradeBlock { trade, block, moments })
        }
        RISK => {
            let block = r.u64()?;
            let trades = r.count(4)?;
            let mut pnl = Vec::with_capacity(trades);
            for _ in 0..trades {
                let n = r.count(8)?;
                pnl.push((0..n).map(|_| r.f64()).collect::<Result<Vec<_>, _>>()?);
            }
            BlockResult::Risk(ScenarioBlock { block, pnl })
        }
        kind => return Err(format!("unknown result kind {kind}")),
    };
    if !r.0.is_empty() {
        return Err(format!("{} trailing bytes", r.0.len()));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_bit_for_bit_and_reject_damage() {
        let odd = [0.1 + 0.2, -0.0, f64::MIN_POSITIVE / 3.0, f64::MAX, f64::from_bits(0x7ff8_dead_beef_0001), 1e-310];
        let pricing = BlockResult::Pricing(TradeBlock {
            trade: 7,
            block: u64::MAX - 3,
            moments: odd.iter().map(|&v| Moments { n: 64, sum: v, m2: -v }).collect(),
        });
        let risk = BlockResult::Risk(ScenarioBlock { block: 9, pnl: vec![odd.to_vec(), vec![], vec![f64::INFINITY]] });
        for r in [pricing, risk] {
            let bytes = encode_result(&r);
            let back = decode_result(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(encode_result(&back), bytes, "bits differ");
            for cut in 0..bytes.len() {
                assert!(decode_result(&bytes[..cut]).is_err(), "truncated at {cut} decoded");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_result(&longer).is_err());
        }
        assert!(decode_result(&[2, 0]).is_err());
        assert!(decode_result(&[1, 5]).is_err());
    }

    #[test]
    fn files_open_in_wal_with_the_chosen_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (durability, level) in [(Durability::ProcessCrash, 1), (Durability::PowerLoss, 2)] {
            let store = SqliteStore::open_with(dir.path().join("s.db"), durability).unwrap_or_else(|e| panic!("{e}"));
            let get = |p: &str| -> String {
                store.conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, rusqlite::types::Value>(0)).map_or_else(
                    |e| panic!("{e}"),
                    |v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    },
                )
            };
            assert_eq!(get("journal_mode"), "wal");
            assert_eq!(get("synchronous"), level.to_string());
            assert_eq!(get("foreign_keys"), "1");
            assert_eq!(get("application_id"), APPLICATION_ID.to_string());
            assert_eq!(get("user_version"), SCHEMA_VERSION.to_string());
        }
    }
}
