//! The SQLite job store: recovery from a real file after an ungraceful stop
//! and after `kill -9` of a child process, request-id dedupe across restarts,
//! retention, f64 bit-exactness and schema handling.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use riskcalc::engine::{Moments, TradeBlock};
use riskgrid_scheduler::{
    BlockResult, Durability, Error, JobId, JobOutcome, JobStore, Scheduler, SchedulerConfig, SqliteStore,
    SubmitRequest, TaskStatus, TenantId,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn tenant() -> TenantId {
    TenantId::from("desk")
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("jobs.db")
}

/// Rows of a table (read through a separate connection, as an operator would).
fn rows(path: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_restart_from_the_file_resumes_with_the_same_bits() {
    let (spec, oracle) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    let req = SubmitRequest { client_request_id: Some("once".into()), ..SubmitRequest::new(spec.clone()) };
    let job = s.submit(&tenant(), req.clone()).unwrap();
    let w = worker(&mut s, 2);
    // Half the blocks, out of order, some tasks half-reported; then a crash.
    let leases = s.lease(w, 4).unwrap();
    for l in leases.iter().rev() {
        let results = oracle.results(&l.kind);
        let n = if l.task.index % 2 == 0 { results.len() } else { 1 };
        for r in results.into_iter().rev().take(n) {
            s.report(w, l.task, r).unwrap();
        }
    }
    let accepted_later = s.submit(&"other".into(), SubmitRequest::new(spec.clone())).unwrap();
    // No close: the connection is leaked with its WAL never checkpointed.
    std::mem::forget(s);
    assert_eq!(rows(&path, "SELECT count(*) FROM results"), 2 * 4 + 2);

    let store = SqliteStore::open(&path).unwrap();
    store.integrity_check().unwrap();
    let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), store).unwrap();
    assert_eq!(s.submit(&tenant(), req).unwrap(), job, "request ids survive restarts");
    let j = s.job(job).unwrap();
    assert_eq!(j.task_status(0), Some(TaskStatus::Done));
    assert_eq!(j.task_status(1), Some(TaskStatus::Pending));
    assert_eq!(j.task_status(2), Some(TaskStatus::Done));
    assert_eq!(j.progress().blocks_merged, 2, "task 2 is buffered behind task 1");
    assert_eq!(s.job(accepted_later).unwrap().state().name(), "queued");
    run_to_end(&mut s, job, oracle, 2);
    run_to_end(&mut s, accepted_later, oracle, 2);
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
    assert_eq!(bits(&s.job_status(accepted_later).unwrap().result.unwrap().pricing), bits(&oracle.report));
    let next = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert!(next > accepted_later, "new ids continue after the recovered ones");
    drop(s);
    // Finished jobs keep only their outcome.
    assert_eq!(rows(&path, "SELECT count(*) FROM results WHERE job IN (1, 2)"), 0);

    // Finished jobs come back finished, with the same bits.
    let s = Scheduler::recover(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
    assert_eq!(s.job_status(next).unwrap().state, "queued");
}

#[test]
fn early_stop_and_risk_blocks_survive_a_restart() {
    use riskcalc::kernel::Isa;
    use riskcalc::risk::{RiskJob, run_risk};
    use riskgrid_scheduler::TaskKind;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);

    // Early stop: the stop point is persisted and the prefix result is unchanged by a restart.
    let full = spec(100, None);
    let oracle = Oracle::new(&full);
    let worst = oracle.report.trades.iter().map(|t| t.std_error).fold(0.0, f64::max);
    let early = spec(100, Some(worst * 1.5));
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    let job = s.submit(&tenant(), SubmitRequest::new(early.clone())).unwrap();
    // A few rounds: blocks merged and persisted, the target not met yet.
    let w = worker(&mut s, 1);
    for _ in 0..3 {
        honest_round(&mut s, w, 2, |l| oracle.results(&l.kind));
    }
    assert!(s.job(job).unwrap().stop_at().is_none(), "the target was met too early for this test");
    drop(s);
    let store = SqliteStore::open(&path).unwrap();
    let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), store).unwrap();
    run_to_end(&mut s, job, &oracle, 1);
    let result = s.job_status(job).unwrap().result.unwrap();
    assert!(result.stopped_early);
    let stop = result.blocks_used;
    assert_eq!(s.job(job).unwrap().stop_at(), Some(stop));
    assert_eq!(bits(&result.pricing), bits(&oracle.prefix_report(stop)));
    // The same stop, to the bit, as `riskgrid run` decides in-process.
    assert_eq!(bits(&result.pricing), bits(&Oracle::new(&early).report));

    // Risk: scenario blocks (P&L vectors) go through the blob codec and back.
    let text = "seed: 9
market:
  rate: 0.02
  underlyings:
    - {id: SPX, spot: 100.0, vol: 0.25}
portfolio:
  - {id: call, instrument: {type: european, underlying: SPX, option: call, strike: 105, maturity: 1.0}}
analysis:
  paths: 640
  block_size: 64
  risk:
    horizon_days: 10
    confidence: [0.99, 0.95]
    scenarios:
      monte_carlo: {count: 300, vol_of_vol: 0.5}
    inner_paths: 64
    scenario_block: 32
";
    let rspec = riskcalc::spec::parse_yaml(text).unwrap();
    let isa = Isa::detect();
    let roracle = Oracle::new(&rspec);
    let risk_job = RiskJob::new(&rspec, rspec.analysis.risk.as_ref().unwrap(), None, isa);
    let expected = run_risk(&risk_job, isa, |_, _| {});
    let results = |kind: &TaskKind| match kind {
        TaskKind::Pricing { .. } => roracle.results(kind),
        TaskKind::Risk { blocks } => blocks.clone().map(|b| BlockResult::Risk(risk_job.block(b, isa))).collect(),
    };
    let mut s = Scheduler::recover(config(1.0e4), manual(), SqliteStore::open(&path).unwrap()).unwrap();
    let rjob = s.submit(&tenant(), SubmitRequest::new(rspec.clone())).unwrap();
    let w = worker(&mut s, 2);
    // Every other task, last first, so that some risk blocks are buffered when the scheduler dies.
    let leases = s.lease(w, 4).unwrap();
    for l in leases.iter().rev().step_by(2) {
        for r in results(&l.kind) {
            s.report(w, l.task, r).unwrap();
        }
    }
    drop(s);
    let stored = SqliteStore::open(&path).unwrap().load().unwrap();
    assert!(
        stored.iter().any(|j| j.record.id == rjob && j.results.iter().any(|(_, r)| matches!(r, BlockResult::Risk(_))))
    );
    let mut s = Scheduler::recover(config(1.0e4), manual(), SqliteStore::open(&path).unwrap()).unwrap();
    let w = worker(&mut s, 2);
    for _ in 0..1000 {
        if s.job(rjob).unwrap().state().is_terminal() {
            break;
        }
        for l in s.lease(w, 4).unwrap() {
            for r in results(&l.kind) {
                s.report(w, l.task, r).unwrap();
            }
        }
    }
    let result = s.job_status(rjob).unwrap().result.unwrap();
    assert_eq!(bits(&result.pricing), bits(&roracle.report));
    assert_eq!(serde_json::to_string(&result.risk).unwrap(), serde_json::to_string(&Some(expected)).unwrap());
}

#[test]
fn duplicate_request_ids_still_dedupe_after_restarts() {
    let (spec, _) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let req = SubmitRequest { client_request_id: Some("r-1".into()), priority: 3, ..SubmitRequest::new(spec.clone()) };
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    let a = s.submit(&tenant(), req.clone()).unwrap();
    let b = s.submit(&"other".into(), req.clone()).unwrap();
    drop(s);
    for _ in 0..2 {
        let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap()).unwrap();
        assert_eq!(s.submit(&tenant(), req.clone()).unwrap(), a);
        assert_eq!(s.submit(&"other".into(), req.clone()).unwrap(), b);
        let mut changed = req.clone();
        changed.spec.seed += 1;
        let err = s.submit(&tenant(), changed).unwrap_err();
        assert!(matches!(err, Error::RequestIdReused { job, .. } if job == a), "{err}");
        assert_eq!(s.job_status(a).unwrap().priority, 3);
    }
    assert_eq!(rows(&path, "SELECT count(*) FROM jobs"), 2, "retries created nothing");
    // The store itself refuses a second job with the same (tenant, request id).
    let mut store = SqliteStore::open(&path).unwrap();
    let mut record = store.load().unwrap().remove(0).record;
    record.id = JobId(99);
    let err = store.insert_job(&record).unwrap_err();
    assert!(err.0.contains("insert into jobs") && err.0.contains("UNIQUE"), "{err}");
}

#[test]
fn retention_removes_finished_jobs_and_their_blocks() {
    let (spec, oracle) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let clock = manual();
    let cfg = SchedulerConfig { retention_ms: Some(60_000), ..config(TWO_BLOCKS) };
    let mut s = Scheduler::new(cfg.clone(), clock.clone(), SqliteStore::open(&path).unwrap());
    let done = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let kept = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let w = worker(&mut s, 1);
    honest_round(&mut s, w, 1, |l| oracle.results(&l.kind));
    assert_eq!(rows(&path, &format!("SELECT count(*) FROM results WHERE job = {}", done.0)), 4);
    run_to_end(&mut s, done, oracle, 1);
    assert_eq!(rows(&path, &format!("SELECT count(*) FROM results WHERE job = {}", done.0)), 0);
    // The other job has blocks stored and is not finished: retention leaves it alone.
    let w = worker(&mut s, 1);
    honest_round(&mut s, w, 1, |l| oracle.results(&l.kind));
    let kept_blocks = rows(&path, &format!("SELECT count(*) FROM results WHERE job = {}", kept.0));
    assert!(kept_blocks > 0);
    clock.advance(59_999);
    assert!(s.tick().unwrap().jobs_purged.is_empty());
    clock.advance(1);
    assert_eq!(s.tick().unwrap().jobs_purged, vec![done]);
    drop(s);
    assert_eq!(rows(&path, &format!("SELECT count(*) FROM jobs WHERE id = {}", done.0)), 0);
    assert_eq!(rows(&path, &format!("SELECT count(*) FROM results WHERE job = {}", kept.0)), kept_blocks);
    let s = Scheduler::recover(cfg, clock, SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(s.job_status(done).unwrap_err(), Error::UnknownJob(done));
    assert!(s.job(kept).is_some());

    // Removing a job with blocks removes its blocks (foreign key cascade).
    let mut store = s.into_store();
    store.remove_job(kept).unwrap();
    store.remove_job(kept).unwrap(); // gone already: not an error, like MemStore
    assert_eq!(rows(&path, "SELECT count(*) FROM results"), 0);
    assert!(store.load().unwrap().is_empty());
    store.integrity_check().unwrap();
}

#[test]
fn stored_moments_and_outcomes_keep_their_exact_bits() {
    let (spec, _) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let record = s.job(job).unwrap().record().clone();
    let mut store = s.into_store();
    let odd = [
        0.1 + 0.2,
        -0.0,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        -1.0 / 3.0,
        f64::from_bits(0x7ff8_0000_dead_beef), // a NaN with a payload
        f64::NEG_INFINITY,
        std::f64::consts::PI * 1e300,
    ];
    let blocks: Vec<BlockResult> = odd
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            BlockResult::Pricing(TradeBlock {
                trade: 0,
                block: i as u64,
                moments: vec![Moments { n: 64, sum: v, m2: v.abs() }, Moments { n: u64::MAX, sum: -v, m2: 0.0 }],
            })
        })
        .collect();
    for (i, b) in blocks.iter().enumerate() {
        store.append_result(job, i as u32 / 2, b).unwrap();
    }
    drop(store);
    let stored = SqliteStore::open(&path).unwrap().load().unwrap().remove(0);
    assert_eq!(stored.record, record, "the record (spec, plan) round-trips");
    let flat = |rs: &[BlockResult]| -> Vec<(u32, u64, u64, u64, u64)> {
        rs.iter()
            .flat_map(|r| {
                let BlockResult::Pricing(b) = r else { panic!("pricing") };
                b.moments.iter().map(move |m| (b.trade, b.block, m.n, m.sum.to_bits(), m.m2.to_bits()))
            })
            .collect()
    };
    let back: Vec<BlockResult> = stored.results.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(flat(&back), flat(&blocks));
    let tasks: Vec<u32> = stored.results.iter().map(|(t, _)| *t).collect();
    assert_eq!(tasks, (0..odd.len() as u32).map(|i| i / 2).collect::<Vec<_>>(), "arrival order and tasks kept");

    // Outcomes go through JSON (float_roundtrip): finite values keep their bits...
    let (_, oracle) = &*SMALL;
    let mut result = riskgrid_scheduler::JobResult {
        pricing: oracle.report.clone(),
        risk: None,
        paths_used: 1,
        blocks_used: 1,
        stopped_early: false,
    };
    result.pricing.trades[0].price = 0.1 + 0.2;
    result.pricing.trades[0].std_error = 5e-324;
    result.pricing.portfolio.value = -0.0;
    let mut store = SqliteStore::open(&path).unwrap();
    store.finish_job(job, &JobOutcome::Succeeded(Box::new(result.clone()))).unwrap();
    drop(store);
    let stored = SqliteStore::open(&path).unwrap().load().unwrap().remove(0);
    let Some(JobOutcome::Succeeded(back)) = stored.outcome else { panic!("no outcome") };
    assert_eq!(back.pricing.trades[0].price.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(back.pricing.trades[0].std_error.to_bits(), 5e-324f64.to_bits());
    assert_eq!(back.pricing.portfolio.value.to_bits(), (-0.0f64).to_bits());
    assert_eq!(bits(&back.pricing), bits(&result.pricing));
    assert!(stored.results.is_empty());
    // ...and one that JSON cannot carry is refused, not stored to break every later load.
    let mut store = SqliteStore::open(&path).unwrap();
    result.pricing.trades[0].price = f64::NAN;
    let err = store.finish_job(job, &JobOutcome::Succeeded(Box::new(result))).unwrap_err();
    assert!(err.0.contains("does not survive JSON"), "{err}");
    assert!(store.load().is_ok());
}

#[test]
fn reopening_is_idempotent_and_foreign_or_newer_files_are_refused() {
    let (spec, _) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    drop(s);
    let schema = || rows(&path, "SELECT count(*) FROM sqlite_schema");
    let before = schema();
    for durability in [Durability::ProcessCrash, Durability::PowerLoss, Durability::ProcessCrash] {
        let store = SqliteStore::open_with(&path, durability).unwrap();
        assert_eq!(store.schema_version().unwrap(), riskgrid_scheduler::sqlite_store::SCHEMA_VERSION);
        assert_eq!(store.durability(), durability);
        assert_eq!(store.load().unwrap().len(), 1);
    }
    assert_eq!(schema(), before);
    assert_eq!(rows(&path, "PRAGMA user_version"), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");

    // A database written by a newer build.
    conn.pragma_update(None, "user_version", 2).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.0.contains("schema version 2 is newer"), "{err}");

    // Some other application's SQLite file is not touched.
    let other = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT)").unwrap();
    drop(conn);
    let err = SqliteStore::open(&other).unwrap_err();
    assert!(err.0.contains("not a riskgrid job store"), "{err}");
    assert_eq!(rows(&other, "SELECT count(*) FROM sqlite_schema"), 1);
    let conn = rusqlite::Connection::open(&other).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "its journal mode is left alone");

    // Not a database at all; a directory that does not exist.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(&junk).unwrap_err();
    assert!(err.0.starts_with("sqlite ") && err.0.contains("junk.db"), "{err}");
    let err = SqliteStore::open(dir.path().join("missing/jobs.db")).unwrap_err();
    assert!(err.0.contains("sqlite open"), "{err}");
}

#[test]
fn store_errors_say_which_table_and_operation() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let block = BlockResult::Pricing(TradeBlock { trade: 0, block: 0, moments: vec![] });
    let err = store.append_result(JobId(4), 0, &block).unwrap_err();
    assert!(err.0.contains("insert into results") && err.0.contains("job-4") && err.0.contains("FOREIGN KEY"), "{err}");
    let err = store.set_stop(JobId(4), 3).unwrap_err();
    assert!(err.0.contains("no stored job job-4"), "{err}");
    let err = store.finish_job(JobId(4), &JobOutcome::Cancelled).unwrap_err();
    assert!(err.0.contains("no stored job job-4"), "{err}");
    let err = store.set_stop(JobId(u64::MAX), 3).unwrap_err();
    assert!(err.0.contains("does not fit"), "{err}");
    // A scheduler turns them into Unavailable.
    let (spec, _) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open_in_memory().unwrap());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let mut store = s.into_store();
    let record = store.load().unwrap().remove(0).record;
    let err = store.insert_job(&record).unwrap_err();
    assert!(err.0.contains("insert into jobs") && err.0.contains(&job.to_string()), "{err}");
    assert_eq!(Error::Store(err.0).code(), riskgrid_scheduler::ErrorCode::Unavailable);
}

// ---------------------------------------------------------------------------
// kill -9: a child process (this test binary, re-run in "child" mode) writes
// to the database and is killed with SIGKILL; the parent recovers.

const CHILD_DB: &str = "RISKGRID_STORE_CRASH_CHILD_DB";
const CHILD_MODE: &str = "RISKGRID_STORE_CRASH_CHILD_MODE";
const CHILD_DURABILITY: &str = "RISKGRID_STORE_CRASH_CHILD_DURABILITY";
const CHILD_JOBS: usize = 30;

fn ack(line: std::fmt::Arguments<'_>) {
    // Straight to fd 1 (not through the test harness's capture), one line per write.
    let mut out = std::io::stdout().lock();
    writeln!(out, "ACK {line}").unwrap();
    out.flush().unwrap();
}

/// The child: acknowledges each write on stdout only after the scheduler (and
/// so the store) returned, and never closes the store.
#[test]
#[ignore = "run by the kill -9 tests as their child process"]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_DB) else { return };
    let durability = match std::env::var(CHILD_DURABILITY).as_deref() {
        Ok("full") => Durability::PowerLoss,
        _ => Durability::ProcessCrash,
    };
    let (spec, oracle) = &*SMALL;
    let store = SqliteStore::open_with(&path, durability).unwrap();
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), store);
    let w = worker(&mut s, 2);
    let submit = |s: &mut Scheduler<_, _>, i: usize| {
        let t = if i.is_multiple_of(2) { "a" } else { "b" };
        let req = SubmitRequest { client_request_id: Some(format!("req-{i}")), ..SubmitRequest::new(spec.clone()) };
        let id = s.submit(&TenantId::from(t), req).unwrap();
        ack(format_args!("submitted {} {t} req-{i}", id.0));
    };
    if std::env::var(CHILD_MODE).as_deref() == Ok("submit-and-hang") {
        // Work on one job, then accept another and wait for the kill.
        submit(&mut s, 0);
        honest_round(&mut s, w, 2, |l| oracle.results(&l.kind));
        submit(&mut s, 1);
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    let mut i = 0;
    loop {
        if i < CHILD_JOBS {
            submit(&mut s, i);
            i += 1;
        }
        let batched = std::env::var(CHILD_MODE).as_deref() == Ok("run-batched");
        for l in s.lease(w, 2).unwrap() {
            if batched {
                // A task's blocks in one commit, as a completion carrying them is booked.
                s.batch(|s| oracle.results(&l.kind).into_iter().try_for_each(|r| s.report(w, l.task, r).map(drop)))
                    .unwrap();
            } else {
                for r in oracle.results(&l.kind) {
                    s.report(w, l.task, r).unwrap();
                }
            }
            ack(format_args!("done {} {}", l.task.job.0, l.task.index));
            s.complete_task(w, l.task, None).unwrap();
        }
        if s.stats().jobs_by_state.get("succeeded") == Some(&CHILD_JOBS) {
            // Everything done before the kill came: wait for it anyway.
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

#[derive(Debug, Default)]
struct Acks {
    submitted: BTreeMap<JobId, (TenantId, String)>,
    done: BTreeSet<(JobId, u32)>,
}

/// Runs the child until it has acknowledged `kill_after` writes, kills it with
/// SIGKILL, and returns every write it acknowledged before dying.
fn run_child_and_kill(path: &Path, mode: &str, durability: &str, kill_after: usize) -> Acks {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .env(CHILD_MODE, mode)
        .env(CHILD_DURABILITY, durability)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acks = Acks::default();
    // libtest may print "test crash_child ... " before the first ack on its line.
    let parse = |line: &str, acks: &mut Acks| -> bool {
        let Some(at) = line.find("ACK ") else { return false };
        let rest = &line[at + 4..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        match f[0] {
            "submitted" => {
                acks.submitted.insert(JobId(f[1].parse().unwrap()), (TenantId::from(f[2]), f[3].to_owned()));
            }
            "done" => {
                acks.done.insert((JobId(f[1].parse().unwrap()), f[2].parse().unwrap()));
            }
            other => panic!("unexpected ack {other}"),
        }
        true
    };
    let mut seen = 0;
    let mut line = String::new();
    while seen < kill_after {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("child ended after {seen} acks: {:?}\n{err}", child.wait().unwrap());
        }
        seen += usize::from(parse(line.trim_end(), &mut acks));
    }
    // SIGKILL while it is still writing (in "run" mode it never pauses).
    child.kill().unwrap();
    let status = child.wait().unwrap();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child was killed, not stopped: {status:?}");
    }
    // Everything it acknowledged before dying, including what we had not read yet.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    for l in rest.lines() {
        parse(l, &mut acks);
    }
    acks
}

fn recover_after_kill(path: &Path, acks: &Acks) {
    let (spec, oracle) = &*SMALL;
    let store = SqliteStore::open(path).unwrap();
    store.integrity_check().unwrap();
    let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), store).unwrap();
    // Every acknowledged submission is there, under its request id.
    for (&job, (tenant, rid)) in &acks.submitted {
        assert!(s.job(job).is_some(), "{job} was acknowledged but lost");
        let req = SubmitRequest { client_request_id: Some(rid.clone()), ..SubmitRequest::new(spec.clone()) };
        assert_eq!(s.submit(tenant, req).unwrap(), job, "{rid} no longer dedupes");
    }
    // Every acknowledged task is done (or its job finished).
    for &(job, task) in &acks.done {
        let j = s.job(job).unwrap();
        assert!(
            j.state().is_terminal() || j.task_status(task) == Some(TaskStatus::Done),
            "{job}.t{task} was acknowledged but is {:?}",
            j.task_status(task)
        );
    }
    // Every job completes with the in-process bits.
    let jobs: Vec<JobId> = s.list_jobs(&"a".into()).into_iter().chain(s.list_jobs(&"b".into())).map(|j| j.id).collect();
    assert!(jobs.len() >= acks.submitted.len());
    for &job in &jobs {
        run_to_end(&mut s, job, oracle, 2);
        let status = s.job_status(job).unwrap();
        assert_eq!(status.state, "succeeded", "{job}");
        assert_eq!(bits(&status.result.unwrap().pricing), bits(&oracle.report), "{job}");
    }
}

#[test]
fn kill_9_mid_run_loses_no_acknowledged_write() {
    // Early, mid-way and late kills; the last also with an fsync per commit.
    // Then the blocks of each task in one commit (`Scheduler::batch`).
    let runs = [
        ("run", "normal", 3),
        ("run", "normal", 37),
        ("run", "normal", 120),
        ("run", "full", 60),
        ("run-batched", "normal", 41),
        ("run-batched", "full", 90),
    ];
    for (mode, durability, kill_after) in runs {
        let dir = tempfile::tempdir().unwrap();
        let path = db(&dir);
        let acks = run_child_and_kill(&path, mode, durability, kill_after);
        assert!(acks.submitted.len() + acks.done.len() >= kill_after, "{durability}: {acks:?}");
        assert!(acks.done.len() < 10 * CHILD_JOBS, "{durability}: killed before the end");
        recover_after_kill(&path, &acks);
    }
}

#[test]
fn a_job_accepted_just_before_kill_9_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let acks = run_child_and_kill(&path, "submit-and-hang", "normal", 2);
    assert_eq!(acks.submitted.len(), 2);
    assert_eq!(acks.done.len(), 0);
    // The WAL was never checkpointed nor the connection closed: the jobs live in the -wal file.
    assert!(std::fs::metadata(path.with_extension("db-wal")).unwrap().len() > 0);
    let stored = SqliteStore::open(&path).unwrap().load().unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].results.len(), 2 * 4, "two tasks of four blocks, reported before the second submit");
    recover_after_kill(&path, &acks);
}

#[test]
fn a_batch_is_durable_once_committed_and_absent_if_never_committed() {
    let (spec, oracle) = &*SMALL;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let w = worker(&mut s, 2);
    let leases = s.lease(w, 2).unwrap();
    let report_all = |s: &mut Scheduler<_, SqliteStore>, l: &riskgrid_scheduler::Lease| {
        s.batch(|s| oracle.results(&l.kind).into_iter().try_for_each(|r| s.report(w, l.task, r).map(drop))).unwrap();
    };
    report_all(&mut s, &leases[0]);
    let committed = rows(&path, "SELECT count(*) FROM results");
    assert_eq!(committed, 4, "the first task's four blocks, visible to another connection");
    // A batch that never commits (the scheduler dies first: here a panic, which closes the
    // connection with the transaction open) was never acknowledged: it is gone, the rest stays.
    let second = leases[1].clone();
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut s = s;
        s.batch(|s| -> Result<(), Error> {
            for r in oracle.results(&second.kind) {
                s.report(w, second.task, r)?;
            }
            panic!("the scheduler dies before the batch commits")
        })
    }));
    assert!(died.is_err());
    let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(rows(&path, "SELECT count(*) FROM results"), committed);
    assert_eq!(s.job(job).unwrap().task_status(leases[0].task.index), Some(TaskStatus::Done));
    assert_eq!(s.job(job).unwrap().task_status(leases[1].task.index), Some(TaskStatus::Pending));
    run_to_end(&mut s, job, oracle, 2);
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
}
