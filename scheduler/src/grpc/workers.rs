//! `riskgrid.v1.WorkerService`: register, lease (long poll), specs, streamed
//! block results, heartbeats, completions and drain; the Work stream is
//! served by [`super::work_stream`] on top of the same lease and completion code.

use super::convert;
use super::grid::{Grid, GridScheduler};
use super::status;
use crate::collect::Fate;
use crate::error::Error;
use crate::ids::{TaskId, WorkerId};
use crate::job::{BlockResult, TaskStatus};
use crate::state::WorkerInfo;
use riskcalc::risk::ScenarioBlock;
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::worker_service_server::WorkerService;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status, Streaming};

/// Longest long poll of LeaseTasks.
const MAX_WAIT_MS: u32 = 30_000;
/// Suggested wait before leasing again when there is no work.
const RETRY_AFTER_MS: u64 = 200;

/// The worker-facing service.
#[derive(Debug, Clone)]
pub struct Workers {
    pub(super) grid: Arc<Grid>,
}

impl Workers {
    pub fn new(grid: Arc<Grid>) -> Self {
        Workers { grid }
    }
}

fn err(e: &Error) -> Status {
    status::from_error(e)
}

fn too_many(field: &str, n: u32, max: u32) -> Result<(), Status> {
    if n > max { Err(status::invalid(field, format!("{n} is more than {max}"))) } else { Ok(()) }
}

/// Risk results arrive one trade at a time; the domain merges whole scenario blocks.
#[derive(Debug, Default)]
struct RiskParts {
    parts: HashMap<(TaskId, u64), Vec<Option<Vec<f64>>>>,
}

impl RiskParts {
    /// Adds one trade's P&L; returns the whole block once every trade is in.
    fn add(&mut self, task: TaskId, n_trades: usize, b: pb::BlockResult) -> Option<ScenarioBlock> {
        let slots = self.parts.entry((task, b.block)).or_insert_with(|| vec![None; n_trades]);
        let slot = slots.get_mut(b.trade as usize)?;
        *slot = Some(b.pnl);
        if slots.iter().all(Option::is_some) {
            let slots = self.parts.remove(&(task, b.block)).unwrap_or_default();
            return Some(ScenarioBlock { block: b.block, pnl: slots.into_iter().flatten().collect() });
        }
        None
    }
}

#[derive(Debug, Default)]
struct Tally {
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    cancelled: BTreeSet<TaskId>,
}

impl Tally {
    /// The acknowledgement of a batch; scenario blocks still missing trades are rejected.
    fn ack(mut self, parts: RiskParts) -> pb::ReportAck {
        self.rejected += parts.parts.values().map(|v| v.iter().flatten().count() as u64).sum::<u64>();
        pb::ReportAck {
            accepted: self.accepted,
            duplicates: self.duplicates,
            rejected: self.rejected,
            cancelled_task_ids: self.cancelled.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Most block results one CompleteTask may carry.
const MAX_RESULTS_PER_COMPLETION: usize = 100_000;

impl Workers {
    /// What to tell others once the lock is released.
    fn notify(&self, took: Took) {
        if took.wake {
            self.grid.work_available();
        }
        if took.changed {
            self.grid.changed();
        }
    }
}

/// What merging results changed, for the notifications sent after the lock is released.
#[derive(Debug, Default, Clone, Copy)]
struct Took {
    /// A job's progress or state changed (watchers look).
    changed: bool,
    /// A job ended with work queued behind it: waiting workers may take it.
    wake: bool,
}

impl std::ops::BitOrAssign for Took {
    fn bitor_assign(&mut self, other: Took) {
        self.changed |= other.changed;
        self.wake |= other.wake;
    }
}

/// Merges one streamed result; counts its fate.
fn take(
    sched: &mut GridScheduler,
    worker: WorkerId,
    parts: &mut RiskParts,
    tally: &mut Tally,
    b: pb::BlockResult,
) -> Result<Took, Error> {
    let Ok(task) = convert::parse_task_id("task_id", &b.task_id) else {
        tally.rejected += 1;
        return Ok(Took::default());
    };
    if convert::parse_job_id("job_id", &b.job_id).ok() != Some(task.job) {
        tally.rejected += 1;
        return Ok(Took::default());
    }
    let Some(job) = sched.job(task.job) else {
        tally.rejected += 1;
        return Ok(Took::default());
    };
    if job.state().is_terminal() {
        tally.cancelled.insert(task);
        tally.rejected += 1;
        return Ok(Took::default());
    }
    let result = match (b.moments.is_empty(), b.pnl.is_empty()) {
        (false, true) => BlockResult::Pricing(convert::trade_block(&b)),
        (true, false) => {
            let n_trades = job.risk_job().map_or(0, |r| r.trades.len());
            if b.trade as usize >= n_trades {
                tally.rejected += 1;
                return Ok(Took::default());
            }
            match parts.add(task, n_trades, b) {
                Some(block) => BlockResult::Risk(block),
                // Counted when the block is complete.
                None => return Ok(Took::default()),
            }
        }
        _ => {
            tally.rejected += 1;
            return Ok(Took::default());
        }
    };
    let fate = match sched.report(worker, task, result) {
        Ok(fate) => fate,
        Err(e @ (Error::UnknownWorker(_) | Error::Store(_))) => return Err(e),
        Err(_) => Fate::Rejected,
    };
    match fate {
        Fate::Merged { .. } | Fate::Buffered => tally.accepted += 1,
        Fate::Duplicate => tally.duplicates += 1,
        Fate::Rejected => tally.rejected += 1,
    }
    let finished = sched.job(task.job).is_none_or(|j| j.state().is_terminal());
    if finished {
        tally.cancelled.insert(task);
    }
    // A job that ends frees its other leases: other workers may now take queued work.
    Ok(Took { changed: matches!(fate, Fate::Merged { .. }) || finished, wake: finished && sched.has_leasable() })
}

#[tonic::async_trait]
impl WorkerService for Workers {
    async fn register(&self, request: Request<pb::RegisterRequest>) -> Result<Response<pb::RegisterResponse>, Status> {
        let peer = request.remote_addr();
        let r = request.into_inner();
        if !(1..=4096).contains(&r.cores) {
            return Err(status::invalid("cores", format!("{} is outside 1..=4096", r.cores)));
        }
        let ours = env!("CARGO_PKG_VERSION");
        if r.version.is_empty() {
            return Err(status::invalid("version", "required"));
        }
        if r.version != ours {
            return Err(Status::failed_precondition(format!(
                "version: worker {} cannot join scheduler {ours} (results could differ)",
                r.version
            )));
        }
        if r.node_labels.len() > 64 {
            return Err(status::invalid("node_labels", "at most 64 labels"));
        }
        if let Some((k, _)) = r.node_labels.iter().find(|(k, v)| k.len() > 128 || v.len() > 128) {
            return Err(status::invalid(&format!("node_labels[{k:?}]"), "keys and values are at most 128 characters"));
        }
        let mut labels: std::collections::BTreeMap<String, String> = r.node_labels.into_iter().collect();
        let name =
            if r.worker_name.is_empty() { peer.map(|p| p.to_string()).unwrap_or_default() } else { r.worker_name };
        labels.insert("riskgrid/name".into(), name.clone());
        if !r.isa.is_empty() {
            labels.insert("riskgrid/isa".into(), r.isa);
        }
        let id = self.grid.lock().sched.register_worker(WorkerInfo { cores: r.cores, version: r.version, labels });
        let worker_id = self.grid.worker_id(id);
        tracing::info!(worker = %worker_id, name = %name, cores = r.cores, "worker registered");
        Ok(Response::new(pb::RegisterResponse {
            worker_id,
            lease_duration_ms: self.grid.lease_ms,
            heartbeat_interval_ms: self.grid.heartbeat_ms,
            scheduler_version: ours.to_owned(),
        }))
    }

    async fn lease_tasks(&self, request: Request<pb::LeaseRequest>) -> Result<Response<pb::LeaseResponse>, Status> {
        let r = request.into_inner();
        let worker = self.grid.parse_worker(&r.worker_id)?;
        too_many("max_tasks", r.max_tasks, 10_000)?;
        too_many("prefetch", r.prefetch, 10_000)?;
        let want = (r.max_tasks + r.prefetch) as usize;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(r.wait_ms.min(MAX_WAIT_MS).into());
        let waiter = self.grid.waiter(worker);
        loop {
            // Armed before looking, so that work queued meanwhile still wakes this call.
            waiter.arm();
            let tasks = self.lease_now(worker, want)?;
            if !tasks.is_empty() || want == 0 || tokio::time::Instant::now() >= deadline {
                let retry_after_ms = if tasks.is_empty() { RETRY_AFTER_MS } else { 0 };
                return Ok(Response::new(pb::LeaseResponse { tasks, retry_after_ms }));
            }
            // Woken by new work, or re-check now and then (a missed wake-up costs at most this).
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(100)),
                waiter.woken(),
            )
            .await;
        }
    }

    async fn get_job_spec(
        &self,
        request: Request<pb::GetJobSpecRequest>,
    ) -> Result<Response<pb::GetJobSpecResponse>, Status> {
        let r = request.into_inner();
        self.grid.parse_worker(&r.worker_id)?;
        let id = convert::parse_job_id("job_id", &r.job_id)?;
        let spec = self.grid.lock().spec_of(id)?;
        Ok(Response::new(pb::GetJobSpecResponse {
            spec: Some(pb::JobSpec {
                job_id: id.to_string(),
                spec_sha256: spec.sha256.clone(),
                spec_json: spec.json.clone(),
                historical_csv: spec.historical_csv.clone(),
            }),
        }))
    }

    async fn report_results(
        &self,
        request: Request<Streaming<pb::BlockResult>>,
    ) -> Result<Response<pb::ReportAck>, Status> {
        let worker = match request.metadata().get(super::WORKER_ID_HEADER).map(|v| v.to_str()) {
            Some(Ok(text)) => self.grid.parse_worker(text)?,
            _ => return Err(status::invalid(super::WORKER_ID_HEADER, "required metadata (the worker id)")),
        };
        let mut stream = request.into_inner();
        let mut parts = RiskParts::default();
        let mut tally = Tally::default();
        while let Some(b) = stream.message().await? {
            // One block at a time: the stream awaits between messages, so no batch stays open.
            let took = take(&mut self.grid.lock().sched, worker, &mut parts, &mut tally, b).map_err(|e| err(&e))?;
            self.notify(took);
        }
        self.grid.log_ended();
        Ok(Response::new(tally.ack(parts)))
    }

    async fn heartbeat(
        &self,
        request: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let r = request.into_inner();
        let worker = self.grid.parse_worker(&r.worker_id)?;
        let mut g = self.grid.lock();
        let reply = g.sched.heartbeat(worker).map_err(|e| err(&e))?;
        let held: BTreeSet<TaskId> = g.sched.worker_leases(worker).into_iter().collect();
        let mut cancelled: BTreeSet<TaskId> = reply.revoked.into_iter().collect();
        for text in &r.in_flight_task_ids {
            let task = convert::parse_task_id("in_flight_task_ids", text)?;
            let done = g.sched.job(task.job).and_then(|j| j.task_status(task.index)) == Some(TaskStatus::Done);
            if !held.contains(&task) && !done {
                cancelled.insert(task);
            }
        }
        Ok(Response::new(pb::HeartbeatResponse {
            cancelled_task_ids: cancelled.iter().map(ToString::to_string).collect(),
            drain: false,
        }))
    }

    async fn complete_task(
        &self,
        request: Request<pb::CompleteTaskRequest>,
    ) -> Result<Response<pb::CompleteTaskResponse>, Status> {
        let r = request.into_inner();
        let worker = self.grid.parse_worker(&r.worker_id)?;
        self.complete(worker, r).await.map(Response::new)
    }

    type WorkStream = super::work_stream::Down;

    async fn work(&self, request: Request<Streaming<pb::WorkUp>>) -> Result<Response<Self::WorkStream>, Status> {
        super::work_stream::open(self.clone(), request.into_inner()).await.map(Response::new)
    }

    async fn drain(&self, request: Request<pb::DrainRequest>) -> Result<Response<pb::DrainResponse>, Status> {
        let r = request.into_inner();
        let worker = self.grid.parse_worker(&r.worker_id)?;
        let mut returned = Vec::new();
        {
            let mut g = self.grid.lock();
            g.sched.drain_worker(worker).map_err(|e| err(&e))?;
            for (i, text) in r.return_task_ids.iter().enumerate() {
                let task = convert::parse_task_id(&format!("return_task_ids[{i}]"), text)?;
                if g.sched.holds(worker, task) {
                    g.sched.return_task(worker, task).map_err(|e| err(&e))?;
                    returned.push(task);
                }
            }
            if r.deregister {
                returned.extend(g.sched.worker_lost(worker).map_err(|e| err(&e))?);
                g.sent_specs.retain(|(w, _)| *w != worker);
            }
        }
        tracing::info!(worker = %r.worker_id, returned = returned.len(), deregister = r.deregister, "worker draining");
        self.grid.work_available();
        self.grid.changed();
        self.grid.log_ended();
        Ok(Response::new(pb::DrainResponse { returned_task_ids: returned.iter().map(ToString::to_string).collect() }))
    }
}

impl Workers {
    /// Ends tasks (CompleteTask, or a completion on the Work stream).
    pub(super) async fn complete(
        &self,
        worker: WorkerId,
        r: pb::CompleteTaskRequest,
    ) -> Result<pb::CompleteTaskResponse, Status> {
        if r.tasks.is_empty() || r.tasks.len() > 10_000 {
            return Err(status::invalid("tasks", "1 to 10000 completions"));
        }
        if r.results.len() > MAX_RESULTS_PER_COMPLETION {
            return Err(status::invalid("results", format!("at most {MAX_RESULTS_PER_COMPLETION} block results")));
        }
        let tasks: Vec<(TaskId, pb::TaskCompletion)> = r
            .tasks
            .into_iter()
            .enumerate()
            .map(|(i, c)| Ok((convert::parse_task_id(&format!("tasks[{i}].task_id"), &c.task_id)?, c)))
            .collect::<Result<_, Status>>()?;
        // The tasks' last blocks first, as if streamed just before.
        let mut parts = RiskParts::default();
        let mut tally = Tally::default();
        // One commit for all of them: they are acknowledged together, after it.
        let took = self
            .grid
            .lock()
            .sched
            .batch(|sched| {
                let mut took = Took::default();
                for b in r.results {
                    took |= take(sched, worker, &mut parts, &mut tally, b)?;
                }
                Ok(took)
            })
            .map_err(|e| err(&e))?;
        self.notify(took);
        let finished_jobs = !tally.cancelled.is_empty();
        // Tasks ending in this very call need no stop order.
        for (task, _) in &tasks {
            tally.cancelled.remove(task);
        }
        let results = tally.ack(parts);
        if finished_jobs {
            // A job just ended: let its watchers send the result before the completions are booked.
            tokio::task::yield_now().await;
        }
        let mut ignored = Vec::new();
        let wake = {
            let mut g = self.grid.lock();
            for (task, c) in tasks {
                if c.succeeded {
                    let us = (c.compute_us > 0).then_some(c.compute_us);
                    match g.sched.complete_task(worker, task, us) {
                        Ok(TaskStatus::Done) => {}
                        Ok(_) | Err(Error::UnknownJob(_) | Error::UnknownTask(_)) => ignored.push(c.task_id),
                        Err(e) => return Err(err(&e)),
                    }
                } else if g.sched.holds(worker, task) {
                    let why = if c.error.is_empty() { "failed" } else { c.error.as_str() };
                    tracing::warn!(task = %task, worker = %worker, error = why, "task failed; retried unless out of attempts");
                    g.sched.fail_task(worker, task, why).map_err(|e| err(&e))?;
                } else {
                    ignored.push(c.task_id);
                }
            }
            // Freed cores matter only if some queued task could use them (a tenant below its
            // core limit again, say); a lone job's last completion wakes nobody.
            g.sched.has_leasable()
        };
        if wake {
            self.grid.work_available();
        }
        self.grid.changed();
        self.grid.log_ended();
        Ok(pb::CompleteTaskResponse { ignored_task_ids: ignored, results: Some(results) })
    }

    /// Leases up to `want` tasks now, in protocol form.
    pub(super) fn lease_now(&self, worker: WorkerId, want: usize) -> Result<Vec<pb::Task>, Status> {
        if want == 0 {
            // Still a sign of life.
            self.grid.lock().sched.heartbeat(worker).map_err(|e| err(&e))?;
            return Ok(Vec::new());
        }
        let now = self.grid.now();
        let mut g = self.grid.lock();
        let leases = g.sched.lease(worker, want).map_err(|e| err(&e))?;
        let mut tasks = Vec::with_capacity(leases.len());
        for lease in leases {
            let job = lease.task.job;
            g.started.entry(job).or_insert(now);
            let spec = g.spec_of(job)?;
            let n_trades = g.sched.job(job).map_or(0, |j| j.spec().portfolio.len() as u32);
            let (kind, trades, blocks) = convert::task_ranges(&lease.kind, n_trades);
            let source = if g.sent_specs.insert((worker, job)) {
                pb::task::SpecSource::Spec(pb::JobSpec {
                    job_id: job.to_string(),
                    spec_sha256: spec.sha256.clone(),
                    spec_json: spec.json.clone(),
                    historical_csv: spec.historical_csv.clone(),
                })
            } else {
                pb::task::SpecSource::JobRef(pb::JobRef { job_id: job.to_string(), spec_sha256: spec.sha256.clone() })
            };
            tasks.push(pb::Task {
                task_id: lease.task.to_string(),
                job_id: job.to_string(),
                kind: kind as i32,
                spec_source: Some(source),
                trades: Some(trades),
                blocks: Some(blocks),
                attempt: lease.attempt,
                lease_deadline_unix_ms: lease.deadline as i64,
                lease_ttl_ms: lease.deadline.saturating_sub(now),
                done: lease.done,
            });
        }
        drop(g);
        if !tasks.is_empty() {
            self.grid.changed();
        }
        Ok(tasks)
    }
}
