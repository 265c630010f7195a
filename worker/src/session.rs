//! The worker's conversation with the scheduler: register, lease, run,
//! report, complete, heartbeat, drain.

use crate::cache::JobCache;
use crate::compute::{Prepared, on_pool};
use crate::link::Link;
use crate::reporter;
use crate::runner::{Queue, Ready};
use riskcalc::kernel::Isa;
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::worker_service_client::WorkerServiceClient;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::Notify;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The scheduler's URL, e.g. `http://127.0.0.1:7878`.
    pub scheduler: String,
    /// Threads of the compute pool (the cores announced to the scheduler).
    pub threads: usize,
    /// Name for the scheduler's logs; empty = the peer address.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// On shutdown, how long running tasks may take to finish before they are given back.
    pub grace: Duration,
    pub isa: Isa,
    /// mTLS to the scheduler (CA + this worker's certificate); `None`: plain
    /// HTTP/2. With TLS an `http://` URL is dialled as `https://`.
    pub tls: Option<tonic::transport::ClientTlsConfig>,
}

/// Longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Most tasks a worker may ask to hold (the scheduler's limit on `WorkUp.hold`).
const MAX_HOLD: usize = 10_000;
/// Compiled jobs kept in the cache.
const MAX_CACHED_JOBS: usize = 32;

type Client = WorkerServiceClient<Channel>;

/// One leased task as the worker tracks it.
#[derive(Debug)]
pub(crate) struct TaskCtl {
    /// Tells this lease of the task from a later one of the same task.
    pub(crate) serial: u64,
    pub(crate) cancelled: AtomicBool,
    pub(crate) started: AtomicBool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    /// Block results and completions go through the reporter (see [`crate::reporter`]).
    pub(crate) reports: reporter::Sender,
    /// The Work stream while it is open (completions go up it).
    pub(crate) link: Mutex<Option<Arc<Link>>>,
    pub(crate) pool: Arc<rayon::ThreadPool>,
    /// Tasks ready to compute (see [`crate::runner`]).
    pub(crate) queue: Queue,
    pub(crate) isa: Isa,
    pub(crate) threads: usize,
    worker_id: RwLock<String>,
    heartbeat_ms: AtomicU64,
    need_register: AtomicBool,
    /// Compiled jobs, by id and by content.
    jobs: JobCache,
    in_flight: Mutex<HashMap<String, Arc<TaskCtl>>>,
    /// Tasks leased and not yet computed (queued, compiling or running):
    /// while there are some, the reporter may hold results back briefly to
    /// batch them.
    computing: AtomicUsize,
    /// Signalled when `computing` drops to 0 (the reporter stops lingering).
    pub(crate) idle: Notify,
    serial: AtomicU64,
    task_done: Notify,
    /// Moving average of a task's compute time (µs), to size prefetch.
    task_micros: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn worker_id(&self) -> String {
        self.worker_id.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn in_flight_ids(&self) -> Vec<String> {
        lock(&self.in_flight).keys().cloned().collect()
    }

    fn running(&self) -> usize {
        lock(&self.in_flight).values().filter(|c| c.started.load(Ordering::Relaxed)).count()
    }

    pub(crate) fn cancel(&self, task_id: &str) {
        if let Some(ctl) = lock(&self.in_flight).get(task_id) {
            ctl.cancelled.store(true, Ordering::Relaxed);
        }
    }

    /// Tasks to hold (running + prefetched): two per thread until a task has
    /// been timed (a fresh worker must not take a pile of long tasks other
    /// workers could be running), then ~50 ms of work per thread, at least two
    /// (see `BATCH_SECONDS` in the scheduler). The scheduler tops the worker up
    /// when half is left; deeper would leave more queued on one worker while
    /// another idles at a job's end.
    fn tasks_to_hold(&self) -> usize {
        hold_for(self.threads, self.task_micros.load(Ordering::Relaxed))
    }

    pub(crate) fn observe_task(&self, micros: u64) {
        let old = self.task_micros.load(Ordering::Relaxed);
        let new = if old == 0 { micros } else { (3 * old + micros) / 4 };
        self.task_micros.store(new.max(1), Ordering::Relaxed);
    }

    /// The task's lease of `serial` is over for this worker (completed, failed or dropped).
    pub(crate) fn finished(&self, task_id: &str, serial: u64) {
        let mut map = lock(&self.in_flight);
        if map.get(task_id).is_some_and(|c| c.serial == serial) {
            map.remove(task_id);
        }
        drop(map);
        self.task_done.notify_waiters();
    }

    /// Tasks leased and not yet computed.
    pub(crate) fn computing(&self) -> usize {
        self.computing.load(Ordering::Acquire)
    }

    /// A task is computed, failed or dropped: it no longer counts as computing.
    pub(crate) fn computed(&self) {
        if self.computing.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A permit if the reporter is not waiting yet: at worst it sends a batch early.
            self.idle.notify_one();
        }
    }

    /// Hands a task's completion (with the results of its last block) to the
    /// reporter; the task stays in flight until it is delivered.
    pub(crate) fn complete(&self, completion: pb::TaskCompletion, serial: u64, last: Vec<pb::BlockResult>) {
        // Before the hand-over, so the reporter sees an idle worker and sends at once.
        self.computed();
        let task_id = completion.task_id.clone();
        if self.reports.send(reporter::Item::Complete(completion, serial, last)).is_err() {
            self.finished(&task_id, serial);
        }
    }

    /// The Work stream, if open.
    pub(crate) fn link(&self) -> Option<Arc<Link>> {
        lock(&self.link).clone()
    }

    pub(crate) fn lost_worker(&self, status: &Status) {
        if status.code() == Code::NotFound {
            self.need_register.store(true, Ordering::Relaxed);
        }
    }

    /// The compiled job if it is ready (the common case: every task but a job's first).
    fn cached(&self, task: &pb::Task) -> Option<Arc<Prepared>> {
        let content = match &task.spec_source {
            Some(pb::task::SpecSource::Spec(spec)) => Some((spec.spec_sha256.as_str(), spec.historical_csv.as_slice())),
            _ => None,
        };
        self.jobs.ready(&task.job_id, content)
    }

    /// The compiled job, fetched and compiled once per job (once per spec
    /// when the scheduler sends it inline).
    async fn prepared(&self, task: &pb::Task) -> Result<Arc<Prepared>, String> {
        let slot = self.jobs.slot(&task.job_id);
        let prepared = slot
            .get_or_try_init(|| async {
                let (json, csv) = match &task.spec_source {
                    Some(pb::task::SpecSource::Spec(s)) => (s.spec_json.clone(), s.historical_csv.clone()),
                    _ => {
                        let request =
                            pb::GetJobSpecRequest { worker_id: self.worker_id(), job_id: task.job_id.clone() };
                        let spec = self.client.clone().get_job_spec(request).await.map_err(|s| {
                            self.lost_worker(&s);
                            format!("fetching the spec of {}: {}", task.job_id, s.message())
                        })?;
                        spec.into_inner().spec.map(|s| (s.spec_json, s.historical_csv)).unwrap_or_default()
                    }
                };
                // An inline spec is remembered by content (`cached` looks there first).
                let content = match &task.spec_source {
                    Some(pb::task::SpecSource::Spec(s)) if !s.spec_sha256.is_empty() => {
                        Some((s.spec_sha256.clone(), csv.clone()))
                    }
                    _ => None,
                };
                let isa = self.isa;
                let job = on_pool(&self.pool, move || Prepared::new(&json, &csv, isa))
                    .await
                    .unwrap_or_else(|_| Err("compute pool gone".into()))
                    .map(Arc::new)?;
                if let Some((sha, csv)) = content {
                    self.jobs.remember(sha, csv, &job);
                }
                Ok::<_, String>(job)
            })
            .await?;
        Ok(Arc::clone(prepared))
    }
}

/// [`Shared::tasks_to_hold`] for `threads` threads and a task time of
/// `micros` (0: not timed yet), within the scheduler's limit.
fn hold_for(threads: usize, micros: u64) -> usize {
    let per_thread = 50_000u64.checked_div(micros).map_or(2, |n| n.clamp(2, 128) as usize);
    threads.saturating_mul(per_thread).min(MAX_HOLD)
}

/// How the compute pool's threads are named (`riskgrid-compute-0`, ...), so that tools
/// (the dispatch bench, `top -H`) can tell them from the I/O thread.
pub const COMPUTE_THREAD_PREFIX: &str = "riskgrid-compute-";

/// Runs a worker until `shutdown` resolves, then drains and returns.
pub async fn run(config: WorkerConfig, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let threads = config.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("{COMPUTE_THREAD_PREFIX}{i}"))
        .build()
        .map_err(|e| format!("starting the compute pool: {e}"))?;
    let url = match (&config.tls, config.scheduler.strip_prefix("http://")) {
        (Some(_), Some(rest)) => format!("https://{rest}"),
        _ => config.scheduler.clone(),
    };
    let mut endpoint = Endpoint::from_shared(url).map_err(|e| format!("--scheduler {}: {e}", config.scheduler))?;
    if let Some(tls) = config.tls.clone() {
        endpoint = endpoint.tls_config(tls).map_err(|e| format!("TLS settings: {e}"))?;
    }
    let channel = endpoint
        .connect_timeout(Duration::from_secs(2))
        .connect_with_connector_lazy(riskgrid_proto::transport::WriteOnFlushConnector);
    let (reports, report_rx) = reporter::channel();
    let shared = Arc::new(Shared {
        client: WorkerServiceClient::new(channel),
        reports,
        link: Mutex::new(None),
        pool: Arc::new(pool),
        isa: config.isa,
        threads,
        worker_id: RwLock::new(String::new()),
        heartbeat_ms: AtomicU64::new(1_000),
        need_register: AtomicBool::new(true),
        queue: Queue::default(),
        jobs: JobCache::new(MAX_CACHED_JOBS),
        in_flight: Mutex::new(HashMap::new()),
        computing: AtomicUsize::new(0),
        idle: Notify::new(),
        serial: AtomicU64::new(0),
        task_done: Notify::new(),
        task_micros: AtomicU64::new(0),
    });
    tokio::pin!(shutdown);
    let heartbeats = tokio::spawn(heartbeat_loop(Arc::clone(&shared)));
    let reporting = tokio::spawn(reporter::run(Arc::clone(&shared), report_rx));
    let mut backoff = Duration::from_millis(100);
    loop {
        if shared.need_register.load(Ordering::Relaxed) {
            let registered = tokio::select! {
                r = register(&shared, &config) => r,
                () = &mut shutdown => break,
            };
            match registered {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!("cannot register with {}: {e}; retrying in {backoff:?}", config.scheduler);
                    if !pause(&mut backoff, &mut shutdown).await {
                        break;
                    }
                    continue;
                }
            }
        }
        match take_work(&shared, &mut shutdown).await {
            Ended::Shutdown => break,
            Ended::Refused(status) => {
                shared.lost_worker(&status);
                tracing::warn!("cannot take work: {}; retrying in {backoff:?}", status.message());
            }
            Ended::Closed(status) => {
                backoff = Duration::from_millis(100);
                if let Some(status) = status {
                    shared.lost_worker(&status);
                    tracing::warn!("work stream ended: {}; reconnecting in {backoff:?}", status.message());
                }
            }
        }
        if !pause(&mut backoff, &mut shutdown).await {
            break;
        }
    }
    drain(&shared, config.grace).await;
    heartbeats.abort();
    reporting.abort();
    Ok(())
}

/// Waits out `backoff` and doubles it (up to `MAX_BACKOFF`); false if shut down meanwhile.
async fn pause(backoff: &mut Duration, shutdown: &mut (impl Future<Output = ()> + Unpin)) -> bool {
    tokio::select! {
        () = tokio::time::sleep(*backoff) => {}
        () = shutdown => return false,
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    true
}

/// How a Work stream ended.
enum Ended {
    Shutdown,
    /// The scheduler would not open it.
    Refused(Status),
    /// It was open; the scheduler closed it, with an error or not.
    Closed(Option<Status>),
}

/// Opens the Work stream and takes tasks from it until it ends: tasks come
/// down as the scheduler has them and this worker has room (it tops the
/// worker up to `hold` when half is left).
async fn take_work(shared: &Arc<Shared>, shutdown: &mut (impl Future<Output = ()> + Unpin)) -> Ended {
    let (up, up_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut hold = shared.tasks_to_hold();
    let _ = up.send(pb::WorkUp { worker_id: shared.worker_id(), hold: Some(hold as u32), complete: None, seq: 0 });
    let mut client = shared.client.clone();
    let opened = tokio::select! {
        r = client.work(tokio_stream::wrappers::UnboundedReceiverStream::new(up_rx)) => r,
        () = &mut *shutdown => return Ended::Shutdown,
    };
    let mut down = match opened {
        Ok(response) => response.into_inner(),
        Err(status) => return Ended::Refused(status),
    };
    let link = Arc::new(Link::new(up));
    *lock(&shared.link) = Some(Arc::clone(&link));
    let ended = loop {
        let done = shared.task_done.notified();
        tokio::select! {
            message = down.message() => match message {
                Ok(Some(m)) => take(shared, &link, m),
                Ok(None) => break Ended::Closed(None),
                Err(status) => break Ended::Closed(Some(status)),
            },
            () = done => {
                // Ask for another hold when the estimate moved by more than a quarter.
                let want = shared.tasks_to_hold();
                if want * 4 > hold * 5 || want * 4 < hold * 3 {
                    hold = want;
                    link.hold(hold);
                }
            }
            () = &mut *shutdown => {
                // Tasks already received are taken, so that draining gives them back at once.
                while let Ok(Ok(Some(m))) = tokio::time::timeout(Duration::ZERO, down.message()).await {
                    take(shared, &link, m);
                }
                break Ended::Shutdown;
            }
        }
    };
    *lock(&shared.link) = None;
    link.close();
    ended
}

/// One message down the Work stream: tasks to start, completions acknowledged.
fn take(shared: &Arc<Shared>, link: &Link, m: pb::WorkDown) {
    for task in m.tasks {
        start_task(shared, task);
    }
    for ack in m.acks {
        link.acked(ack);
    }
}

async fn register(shared: &Shared, config: &WorkerConfig) -> Result<(), String> {
    let request = pb::RegisterRequest {
        worker_name: config.name.clone(),
        cores: shared.threads as u32,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        node_labels: config.labels.clone().into_iter().collect(),
        isa: config.isa.name().to_owned(),
    };
    let response = shared.client.clone().register(request).await.map_err(|s| {
        if s.code() == Code::FailedPrecondition || s.code() == Code::InvalidArgument {
            tracing::error!("the scheduler refused this worker: {}", s.message());
        }
        s.message().to_owned()
    })?;
    let r = response.into_inner();
    *shared.worker_id.write().unwrap_or_else(PoisonError::into_inner) = r.worker_id.clone();
    shared.heartbeat_ms.store(r.heartbeat_interval_ms.max(50), Ordering::Relaxed);
    shared.need_register.store(false, Ordering::Relaxed);
    tracing::info!(worker = %r.worker_id, threads = shared.threads, "registered with scheduler {}", r.scheduler_version);
    Ok(())
}

fn start_task(shared: &Arc<Shared>, task: pb::Task) {
    let ctl = Arc::new(TaskCtl {
        serial: shared.serial.fetch_add(1, Ordering::Relaxed),
        cancelled: AtomicBool::new(false),
        started: AtomicBool::new(false),
    });
    lock(&shared.in_flight).insert(task.task_id.clone(), Arc::clone(&ctl));
    shared.computing.fetch_add(1, Ordering::AcqRel);
    if let Some(job) = shared.cached(&task) {
        Queue::push(shared, Ready { task, ctl, job });
        return;
    }
    // A job's first task: fetch and compile the spec off the lease loop.
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        match shared.prepared(&task).await {
            Ok(job) => Queue::push(&shared, Ready { task, ctl, job }),
            Err(error) => {
                tracing::warn!(task = %task.task_id, "task failed: {error}");
                let completion = pb::TaskCompletion { task_id: task.task_id, succeeded: false, error, compute_us: 0 };
                shared.complete(completion, ctl.serial, Vec::new());
            }
        }
    });
}

async fn heartbeat_loop(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(Duration::from_millis(shared.heartbeat_ms.load(Ordering::Relaxed))).await;
        if shared.need_register.load(Ordering::Relaxed) {
            continue;
        }
        let request =
            pb::HeartbeatRequest { worker_id: shared.worker_id(), in_flight_task_ids: shared.in_flight_ids() };
        match shared.client.clone().heartbeat(request).await {
            Ok(r) => {
                for id in &r.get_ref().cancelled_task_ids {
                    tracing::info!(task = %id, "task revoked by the scheduler; dropping it");
                    shared.cancel(id);
                }
            }
            Err(status) => {
                shared.lost_worker(&status);
                tracing::debug!("heartbeat failed: {}", status.message());
            }
        }
    }
}

/// Stops leasing, gives back tasks not started, waits up to `grace` for the
/// running ones, gives back whatever is left and deregisters.
async fn drain(shared: &Arc<Shared>, grace: Duration) {
    let queued: Vec<String> = {
        let mut map = lock(&shared.in_flight);
        let ids: Vec<String> =
            map.iter().filter(|(_, c)| !c.started.load(Ordering::Relaxed)).map(|(id, _)| id.clone()).collect();
        for id in &ids {
            if let Some(c) = map.remove(id) {
                c.cancelled.store(true, Ordering::Relaxed);
            }
        }
        ids
    };
    tracing::info!(returned = queued.len(), running = shared.running(), "draining (grace {grace:?})");
    if shared.need_register.load(Ordering::Relaxed) {
        return;
    }
    let request = pb::DrainRequest { worker_id: shared.worker_id(), return_task_ids: queued, deregister: false };
    let _ = tokio::time::timeout(Duration::from_secs(2), shared.client.clone().drain(request)).await;
    let deadline = tokio::time::Instant::now() + grace;
    while shared.running() > 0 && tokio::time::Instant::now() < deadline {
        let done = shared.task_done.notified();
        let _ =
            tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + Duration::from_millis(100)), done).await;
    }
    for id in shared.in_flight_ids() {
        shared.cancel(&id);
    }
    let request = pb::DrainRequest { worker_id: shared.worker_id(), return_task_ids: Vec::new(), deregister: true };
    let _ = tokio::time::timeout(Duration::from_secs(2), shared.client.clone().drain(request)).await;
    tracing::info!("drained");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_is_two_per_thread_untimed_then_50_ms_of_work_and_never_past_the_schedulers_limit() {
        assert_eq!(hold_for(4, 0), 8);
        assert_eq!(hold_for(2, 5_000), 20, "5 ms tasks: 10 per thread");
        assert_eq!(hold_for(1, 10), 128, "tiny tasks: capped per thread");
        assert_eq!(hold_for(1, 1_000_000), 2, "long tasks: at least 2");
        // A big machine with tiny tasks would ask for 4096 × 128: the scheduler refuses more than 10,000.
        assert_eq!(hold_for(4096, 10), MAX_HOLD);
        assert_eq!(hold_for(4096, 0), 8192);
    }
}
