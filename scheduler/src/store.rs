//! The persistence port: what must survive a crash of the scheduler, and an
//! in-memory implementation. A durable adapter (SQLite) implements the same
//! trait; every call must be durable when it returns.

use crate::ids::JobId;
use crate::job::{BlockResult, JobOutcome, JobRecord};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Everything persisted about one job.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJob {
    pub record: JobRecord,
    /// Results kept (merged or buffered), each with its task index, in arrival order.
    pub results: Vec<(u32, BlockResult)>,
    /// The early-stop point, once decided.
    pub stop_at: Option<u64>,
    pub outcome: Option<JobOutcome>,
}

/// Durable state of the scheduler.
///
/// The scheduler calls these in this order for a job: `insert_job` before
/// acknowledging the submission; `append_result` for each result it keeps;
/// `set_stop` when early stop is decided; `finish_job` when the job ends;
/// `remove_job` when retention drops it. `load` returns what a restarted
/// scheduler needs to resume every job. Writes made between `begin` and `commit`
/// (the blocks of one completion, say) may share one commit.
pub trait JobStore {
    fn insert_job(&mut self, record: &JobRecord) -> Result<(), StoreError>;
    fn append_result(&mut self, job: JobId, task: u32, result: &BlockResult) -> Result<(), StoreError>;
    fn set_stop(&mut self, job: JobId, stop_at: u64) -> Result<(), StoreError>;
    fn finish_job(&mut self, job: JobId, outcome: &JobOutcome) -> Result<(), StoreError>;
    fn remove_job(&mut self, job: JobId) -> Result<(), StoreError>;
    fn load(&self) -> Result<Vec<StoredJob>, StoreError>;

    /// From here to [`JobStore::commit`], the writes may be made durable together, in one
    /// commit: nothing written in between may be acknowledged before `commit` returns. A store
    /// whose every call is durable by itself ignores both.
    fn begin(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Makes every write since [`JobStore::begin`] durable.
    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A store in memory, keeping what a durable store would (tests replay it as a restart would).
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    jobs: BTreeMap<JobId, StoredJob>,
}

impl MemStore {
    pub fn new() -> Self {
        MemStore::default()
    }

    pub fn job(&self, id: JobId) -> Option<&StoredJob> {
        self.jobs.get(&id)
    }

    fn get(&mut self, id: JobId) -> Result<&mut StoredJob, StoreError> {
        self.jobs.get_mut(&id).ok_or_else(|| StoreError(format!("no stored job {id}")))
    }
}

impl JobStore for MemStore {
    fn insert_job(&mut self, record: &JobRecord) -> Result<(), StoreError> {
        if self.jobs.contains_key(&record.id) {
            return Err(StoreError(format!("{} is already stored", record.id)));
        }
        let stored = StoredJob { record: record.clone(), results: Vec::new(), stop_at: None, outcome: None };
        self.jobs.insert(record.id, stored);
        Ok(())
    }

    fn append_result(&mut self, job: JobId, task: u32, result: &BlockResult) -> Result<(), StoreError> {
        self.get(job)?.results.push((task, result.clone()));
        Ok(())
    }

    fn set_stop(&mut self, job: JobId, stop_at: u64) -> Result<(), StoreError> {
        self.get(job)?.stop_at = Some(stop_at);
        Ok(())
    }

    fn finish_job(&mut self, job: JobId, outcome: &JobOutcome) -> Result<(), StoreError> {
        let stored = self.get(job)?;
        stored.outcome = Some(outcome.clone());
        // A finished job needs only its outcome.
        stored.results = Vec::new();
        Ok(())
    }

    fn remove_job(&mut self, job: JobId) -> Result<(), StoreError> {
        self.jobs.remove(&job);
        Ok(())
    }

    fn load(&self) -> Result<Vec<StoredJob>, StoreError> {
        Ok(self.jobs.values().cloned().collect())
    }
}

/// A store that keeps nothing: a scheduler without a database (`riskgrid scheduler` without
/// `--db`, `riskgrid run`), whose own memory is the only copy of its jobs. A copy here could
/// never be read (a restart starts empty either way) and would double what each job keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

impl JobStore for NoStore {
    fn insert_job(&mut self, _: &JobRecord) -> Result<(), StoreError> {
        Ok(())
    }
    fn append_result(&mut self, _: JobId, _: u32, _: &BlockResult) -> Result<(), StoreError> {
        Ok(())
    }
    fn set_stop(&mut self, _: JobId, _: u64) -> Result<(), StoreError> {
        Ok(())
    }
    fn finish_job(&mut self, _: JobId, _: &JobOutcome) -> Result<(), StoreError> {
        Ok(())
    }
    fn remove_job(&mut self, _: JobId) -> Result<(), StoreError> {
        Ok(())
    }
    fn load(&self) -> Result<Vec<StoredJob>, StoreError> {
        Ok(Vec::new())
    }
}
