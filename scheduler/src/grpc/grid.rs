//! Shared state of the gRPC adapter: the domain scheduler behind one mutex
//! (every call into it is short and synchronous), plus notifications for
//! watchers (something changed) and waiting workers (work is available; see
//! [`super::waiters`]).

use super::status;
use crate::clock::{Clock, Millis};
use crate::ids::{JobId, WorkerId};
use crate::job::{BlockResult, JobOutcome, JobRecord};
use crate::state::Scheduler;
use crate::store::{JobStore, StoreError, StoredJob};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tonic::Status;

/// The scheduler as the gRPC adapter runs it.
pub type GridScheduler = Scheduler<WallClock, BoxStore>;

/// Milliseconds since the Unix epoch, read once at start and then advanced by
/// a monotonic clock (so it never goes backwards within a process, and stays
/// comparable with times stored before a restart).
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    base: Millis,
    origin: Instant,
}

impl WallClock {
    pub fn new() -> Self {
        let base = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as Millis);
        WallClock { base, origin: Instant::now() }
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for WallClock {
    fn now(&self) -> Millis {
        self.base + self.origin.elapsed().as_millis() as Millis
    }
}

/// Any store, boxed, so the services need not be generic over it.
pub struct BoxStore(pub Box<dyn JobStore + Send>);

impl fmt::Debug for BoxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxStore")
    }
}

impl JobStore for BoxStore {
    fn insert_job(&mut self, record: &JobRecord) -> Result<(), StoreError> {
        self.0.insert_job(record)
    }
    fn append_result(&mut self, job: JobId, task: u32, result: &BlockResult) -> Result<(), StoreError> {
        self.0.append_result(job, task, result)
    }
    fn set_stop(&mut self, job: JobId, stop_at: u64) -> Result<(), StoreError> {
        self.0.set_stop(job, stop_at)
    }
    fn finish_job(&mut self, job: JobId, outcome: &JobOutcome) -> Result<(), StoreError> {
        self.0.finish_job(job, outcome)
    }
    fn remove_job(&mut self, job: JobId) -> Result<(), StoreError> {
        self.0.remove_job(job)
    }
    fn load(&self) -> Result<Vec<StoredJob>, StoreError> {
        self.0.load()
    }
    fn begin(&mut self) -> Result<(), StoreError> {
        self.0.begin()
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        self.0.commit()
    }
}

/// A job's spec as workers receive it: canonical JSON and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecBlob {
    pub json: Vec<u8>,
    pub sha256: String,
    /// The historical scenario file's text, for historical-VaR jobs.
    pub historical_csv: Vec<u8>,
}

impl SpecBlob {
    pub fn of(spec: &riskcalc::spec::JobSpec, historical_csv: Option<&str>) -> Self {
        let json = serde_json::to_vec(spec).unwrap_or_default();
        let sha256 = format!("{:x}", Sha256::digest(&json));
        SpecBlob { json, sha256, historical_csv: historical_csv.unwrap_or_default().as_bytes().to_vec() }
    }
}

/// Everything behind the lock.
#[derive(Debug)]
pub struct Inner {
    pub sched: GridScheduler,
    /// Specs as workers receive them, of jobs that have not ended (a job's is dropped when it
    /// ends: only its hash is needed then).
    specs: HashMap<JobId, Arc<SpecBlob>>,
    /// Every known job's spec hash (results and listings carry it).
    hashes: HashMap<JobId, String>,
    /// (worker, job) pairs whose full spec was already sent with a task.
    pub sent_specs: HashSet<(WorkerId, JobId)>,
    /// When each job's first task was leased (for elapsed time and ETA).
    pub started: HashMap<JobId, Millis>,
}

impl Inner {
    /// The job's spec blob (computed once per job, and kept while the job runs).
    pub fn spec_of(&mut self, id: JobId) -> Result<Arc<SpecBlob>, Status> {
        if let Some(s) = self.specs.get(&id) {
            return Ok(Arc::clone(s));
        }
        let job = self.sched.job(id).ok_or_else(|| status::not_found_job(id))?;
        let blob = Arc::new(SpecBlob::of(job.spec(), job.record().historical_csv.as_deref()));
        if !job.state().is_terminal() {
            self.specs.insert(id, Arc::clone(&blob));
        }
        self.hashes.entry(id).or_insert_with(|| blob.sha256.clone());
        Ok(blob)
    }

    /// The SHA-256 of the job's canonical spec.
    pub fn sha_of(&mut self, id: JobId) -> Result<String, Status> {
        match self.hashes.get(&id) {
            Some(sha) => Ok(sha.clone()),
            None => Ok(self.spec_of(id)?.sha256.clone()),
        }
    }

    /// A job ended: what only its tasks needed goes.
    fn ended(&mut self, id: JobId) {
        if self.specs.remove(&id).is_some() {
            self.sent_specs.retain(|&(_, j)| j != id);
        }
    }

    /// Forgets cached data of jobs the scheduler no longer knows.
    pub fn forget(&mut self, jobs: &[JobId]) {
        for id in jobs {
            self.specs.remove(id);
            self.hashes.remove(id);
            self.started.remove(id);
        }
        self.sent_specs.retain(|(_, j)| !jobs.contains(j));
    }
}

/// The adapter's shared state.
#[derive(Debug)]
pub struct Grid {
    inner: Mutex<Inner>,
    clock: WallClock,
    changes: watch::Sender<u64>,
    /// Set when the server shuts down: long-lived streams end.
    closing: watch::Sender<bool>,
    /// Workers waiting for new work.
    waiters: Arc<super::waiters::Waiters>,
    epoch: Millis,
    /// Lease length and heartbeat interval told to workers, in ms.
    pub lease_ms: Millis,
    pub heartbeat_ms: Millis,
    /// Quotas, admission policies and the audit log (issue #5).
    pub guard: super::admission::Guard,
}

impl Grid {
    pub fn new(sched: GridScheduler, lease_ms: Millis) -> Arc<Self> {
        Grid::with_guard(sched, lease_ms, super::admission::Guard::default())
    }

    /// [`Grid::new`] with quotas, admission policies and an audit log.
    pub fn with_guard(sched: GridScheduler, lease_ms: Millis, guard: super::admission::Guard) -> Arc<Self> {
        let clock = *sched.clock();
        let epoch = clock.now();
        let (changes, _) = watch::channel(0);
        Arc::new(Grid {
            inner: Mutex::new(Inner {
                sched,
                specs: HashMap::new(),
                hashes: HashMap::new(),
                sent_specs: HashSet::new(),
                started: HashMap::new(),
            }),
            clock,
            changes,
            closing: watch::Sender::new(false),
            waiters: Arc::default(),
            epoch,
            lease_ms,
            heartbeat_ms: (lease_ms / 3).max(50),
            guard,
        })
    }

    /// The state, locked. A panic while locked does not wedge the server.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Tells watchers that some job may have changed.
    pub fn changed(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Logs "job finished" for each job that ended since the last call. Called after the
    /// calls that end jobs (a completion, only once the job's watchers have sent the result:
    /// the write of the log line is not on the result's path) and on every tick, which catches
    /// jobs ended anywhere else.
    pub fn log_ended(&self) {
        let ended = {
            let mut g = self.lock();
            let ended = g.sched.take_ended();
            for e in &ended {
                g.ended(e.job);
            }
            ended
        };
        for e in ended {
            tracing::info!(
                job = %e.job,
                tenant = %e.tenant,
                state = e.state,
                elapsed_ms = e.elapsed_ms,
                reason = e.reason.as_deref(),
                "job finished"
            );
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The server is shutting down: long-lived streams (Work) end now, so
    /// that graceful shutdown does not wait on them.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Grid::close`] was called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|c| *c).await;
    }

    /// Wakes the workers waiting for work (oldest first): call when tasks may have become
    /// leasable (a job queued, a lease freed).
    pub fn work_available(&self) {
        self.waiters.wake_all();
    }

    /// A place in the line of workers waiting for new work.
    pub fn waiter(&self, worker: WorkerId) -> super::waiters::Waiter {
        self.waiters.waiter(worker)
    }

    pub fn worker_id(&self, id: WorkerId) -> String {
        format!("w{}-{}", self.epoch, id.0)
    }

    /// Parses a worker id; ids of another incarnation of the scheduler are NOT_FOUND.
    pub fn parse_worker(&self, text: &str) -> Result<WorkerId, Status> {
        if text.is_empty() {
            return Err(status::invalid("worker_id", "required"));
        }
        let parsed = text
            .strip_prefix('w')
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(e, n)| Some((e.parse::<Millis>().ok()?, n.parse::<u64>().ok()?)));
        match parsed {
            Some((epoch, n)) if epoch == self.epoch => Ok(WorkerId(n)),
            Some(_) => {
                Err(Status::not_found(format!("unknown worker {text} (the scheduler restarted): register again")))
            }
            None => Err(status::invalid("worker_id", format!("malformed worker id {text:?}"))),
        }
    }
}
