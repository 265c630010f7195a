//! The scheduler: jobs, the fair-share queue, leases and workers behind one
//! synchronous facade, driven by an injected clock and writing through a
//! [`JobStore`]. Adapters (gRPC, the embedded runner, a simulator) call these
//! methods; nothing here blocks or does I/O except through the store.

use crate::clock::{Clock, Millis};
use crate::collect::Fate;
use crate::config::SchedulerConfig;
use crate::cost::{CostModel, PricingShape, RiskShape};
use crate::error::{Error, Result};
use crate::ids::{JobId, TaskId, TenantId, WorkerId};
use crate::job::{Applied, BlockResult, Job, JobEvent, JobRecord, TaskStatus};
use crate::lease::{Held, Lease, LeaseTable};
pub use crate::messages::{HeartbeatReply, JobEnded, JobStatus, SchedulerStats, SubmitRequest, TickReport, WorkerInfo};
use crate::planner::{plan_pricing, plan_risk};
use crate::queue::{FairQueue, TenantUsage};
use crate::store::{JobStore, StoreError};
use riskcalc::plan::CompiledJob;
use riskcalc::risk::RiskJob;
use riskcalc::spec::JobSpec;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Estimated work per core a worker may take in one lease beyond its base
/// allowance, when tasks are short (with the worker's own hysteresis, one
/// lease per ~25 ms of work per core: negligible dispatch cost, and at most
/// 50 ms of work per core queued on one worker at a job's end).
const BATCH_SECONDS: f64 = 0.05;
/// Hard cap on tasks held per core.
const MAX_TASKS_PER_CORE: usize = 128;

#[derive(Debug, Clone)]
struct Worker {
    info: WorkerInfo,
    last_seen: Millis,
    /// When this worker's leases were last extended (see [`Scheduler::touch`]).
    renewed_at: Millis,
    draining: bool,
    /// Tasks taken back from this worker that it should stop computing.
    revoked: Vec<TaskId>,
}

/// The scheduler.
#[derive(Debug)]
pub struct Scheduler<C: Clock, S: JobStore> {
    config: SchedulerConfig,
    clock: C,
    store: S,
    cost: CostModel,
    queue: FairQueue,
    leases: LeaseTable,
    jobs: BTreeMap<JobId, Job>,
    requests: HashMap<(TenantId, String), JobId>,
    workers: BTreeMap<WorkerId, Worker>,
    next_job: u64,
    next_worker: u64,
    tasks_completed: u64,
    lease_expiries: u64,
    /// Jobs ended since the last `take_ended`.
    ended: Vec<JobEnded>,
}

fn store_err(e: StoreError) -> Error {
    Error::Store(e.0)
}

impl<C: Clock, S: JobStore> Scheduler<C, S> {
    /// A scheduler with no jobs (the store's contents are ignored; see [`Scheduler::recover`]).
    pub fn new(config: SchedulerConfig, clock: C, store: S) -> Self {
        let mut queue = FairQueue::new();
        for (tenant, tc) in &config.tenants {
            queue.configure(tenant.clone(), *tc);
        }
        Scheduler {
            cost: CostModel::new(config.initial_throughput),
            config,
            clock,
            store,
            queue,
            leases: LeaseTable::new(),
            jobs: BTreeMap::new(),
            requests: HashMap::new(),
            workers: BTreeMap::new(),
            next_job: 1,
            next_worker: 1,
            tasks_completed: 0,
            lease_expiries: 0,
            ended: Vec::new(),
        }
    }

    /// A scheduler resuming every job found in `store`: finished jobs keep
    /// their outcome; unfinished ones resume from their persisted results
    /// (workers must register again; their old leases are gone).
    pub fn recover(config: SchedulerConfig, clock: C, store: S) -> Result<Self> {
        let stored = store.load().map_err(store_err)?;
        let mut s = Scheduler::new(config, clock, store);
        let now = s.clock.now();
        for sj in stored {
            let record = sj.record;
            s.next_job = s.next_job.max(record.id.0 + 1);
            let (compiled, risk) = s.compile(&record.spec, record.historical_csv.as_deref())?;
            let id = record.id;
            let tenant = record.tenant.clone();
            let (priority, request) = (record.priority, record.client_request_id.clone());
            let mut job = Job::restore(record, compiled, risk, s.config.max_attempts, sj.stop_at, sj.results, now);
            if let Some(r) = request {
                s.requests.insert((tenant.clone(), r), id);
            }
            if let Some(outcome) = sj.outcome {
                job.set_outcome(outcome, now);
                s.jobs.insert(id, job);
                continue;
            }
            s.ensure_tenant(&tenant)?;
            let finished = job.state().is_terminal();
            s.jobs.insert(id, job);
            if finished {
                s.finalize(id)?;
            } else {
                s.queue.readmit(&tenant, id, priority, id.0)?;
            }
        }
        Ok(s)
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Stops the scheduler and hands back its store (what a crash would leave).
    pub fn into_store(self) -> S {
        self.store
    }

    pub fn cost_model(&self) -> &CostModel {
        &self.cost
    }

    fn ensure_tenant(&mut self, tenant: &TenantId) -> Result<()> {
        if !self.queue.knows(tenant) {
            let tc = self.config.default_tenant.ok_or_else(|| Error::UnknownTenant(tenant.clone()))?;
            self.queue.configure(tenant.clone(), tc);
        }
        Ok(())
    }

    fn compile(&self, spec: &JobSpec, csv: Option<&str>) -> Result<(Arc<CompiledJob>, Option<Arc<RiskJob>>)> {
        let compiled = Arc::new(CompiledJob::compile(spec, self.config.isa));
        let risk = match &spec.analysis.risk {
            None => None,
            Some(r) => {
                let historical =
                    riskcalc::risk::scenarios::historical_for_spec(spec, csv).map_err(Error::InvalidSpec)?;
                Some(Arc::new(RiskJob::new(spec, r, historical, self.config.isa)))
            }
        };
        Ok((compiled, risk))
    }

    /// Accepts a job: validates, plans and persists it, then queues it.
    /// Idempotent on the client request id; nothing is created on error.
    pub fn submit(&mut self, tenant: &TenantId, request: SubmitRequest) -> Result<JobId> {
        if let Some(rid) = &request.client_request_id
            && let Some(&id) = self.requests.get(&(tenant.clone(), rid.clone()))
        {
            let same = self.jobs.get(&id).is_some_and(|j| *j.spec() == request.spec);
            return if same {
                Ok(id)
            } else {
                Err(Error::RequestIdReused { tenant: tenant.clone(), request_id: rid.clone(), job: id })
            };
        }
        request.spec.validate().map_err(|e| Error::InvalidSpec(e.to_string()))?;
        if let Some(d) = request.deadline
            && d <= self.clock.now()
        {
            return Err(Error::InvalidField { field: "deadline", reason: "is not in the future".into() });
        }
        if !self.queue.knows(tenant) && self.config.default_tenant.is_none() {
            return Err(Error::UnknownTenant(tenant.clone()));
        }
        if self.queue.knows(tenant) {
            self.queue.check_admit(tenant)?;
        }
        let (compiled, risk) = self.compile(&request.spec, request.historical_csv.as_deref())?;
        let tasks = self.plan(&compiled, risk.as_deref());
        let id = JobId(self.next_job);
        let record = JobRecord {
            id,
            tenant: tenant.clone(),
            priority: request.priority,
            client_request_id: request.client_request_id.clone(),
            spec: request.spec,
            historical_csv: request.historical_csv,
            tasks,
            submitted_at: self.clock.now(),
            deadline: request.deadline,
        };
        self.store.insert_job(&record).map_err(store_err)?;
        self.next_job += 1;
        self.ensure_tenant(tenant)?;
        self.queue.readmit(tenant, id, record.priority, id.0)?;
        if let Some(rid) = request.client_request_id {
            self.requests.insert((tenant.clone(), rid), id);
        }
        self.jobs.insert(id, Job::new(record, compiled, risk, self.config.max_attempts));
        Ok(id)
    }

    pub fn register_worker(&mut self, info: WorkerInfo) -> WorkerId {
        let id = WorkerId(self.next_worker);
        self.next_worker += 1;
        let info = WorkerInfo { cores: info.cores.max(1), ..info };
        self.workers.insert(
            id,
            Worker { info, last_seen: self.clock.now(), renewed_at: 0, draining: false, revoked: Vec::new() },
        );
        id
    }

    /// Any message from a worker is a sign of life: it renews the worker's
    /// leases. Renewing costs O(leases held) and a busy worker sends a
    /// message per block, so between heartbeats leases are extended at most
    /// every 1/16 of a lease (a lease then runs at least 15/16 of its length
    /// past the last message).
    fn touch(&mut self, worker: WorkerId) -> Result<Millis> {
        self.sign_of_life(worker, self.config.lease_ms / 16)
    }

    /// Marks the worker seen now and renews its leases unless that was done
    /// less than `min_gap` ago.
    fn sign_of_life(&mut self, worker: WorkerId, min_gap: Millis) -> Result<Millis> {
        let now = self.clock.now();
        let w = self.workers.get_mut(&worker).ok_or(Error::UnknownWorker(worker))?;
        w.last_seen = now;
        if now >= w.renewed_at.saturating_add(min_gap) {
            w.renewed_at = now;
            self.leases.renew(worker, now + self.config.lease_ms);
        }
        Ok(now)
    }

    /// Renews every lease of the worker and tells it which tasks to drop.
    pub fn heartbeat(&mut self, worker: WorkerId) -> Result<HeartbeatReply> {
        self.sign_of_life(worker, 0)?;
        let renewed = self.leases.held_by(worker);
        let revoked = self.workers.get_mut(&worker).map(|w| std::mem::take(&mut w.revoked)).unwrap_or_default();
        Ok(HeartbeatReply { renewed, revoked })
    }

    /// The worker takes no new tasks (it is shutting down).
    pub fn drain_worker(&mut self, worker: WorkerId) -> Result<()> {
        self.touch(worker)?;
        if let Some(w) = self.workers.get_mut(&worker) {
            w.draining = true;
        }
        Ok(())
    }

    /// Leases up to `max_tasks` tasks to the worker, within its capacity
    /// (cores × (1 + prefetch) minus what it holds), in fair-share order.
    pub fn lease(&mut self, worker: WorkerId, max_tasks: usize) -> Result<Vec<Lease>> {
        let now = self.touch(worker)?;
        let Some(w) = self.workers.get(&worker) else { return Err(Error::UnknownWorker(worker)) };
        if w.draining {
            return Ok(Vec::new());
        }
        // A worker holds one task per core plus `prefetch_per_core`; when tasks
        // are short it may take more in one lease, up to about BATCH_SECONDS of
        // estimated work per core (so tiny tasks do not cost an RPC each).
        let cores = w.info.cores as usize;
        let held = self.leases.held_by(worker);
        let base = (cores * (1 + self.config.prefetch_per_core as usize)).saturating_sub(held);
        let n = max_tasks.min((cores * MAX_TASKS_PER_CORE).saturating_sub(held));
        let batch_target = BATCH_SECONDS * cores as f64;
        // Beyond its base allowance a worker may hold up to `batch_target` of
        // estimated work, counting what it holds already (so repeated calls do
        // not pile up long tasks on one worker).
        let mut batch_seconds: f64 = self
            .leases
            .tasks_of(worker)
            .iter()
            .filter_map(|t| self.jobs.get(&t.job)?.task(t.index))
            .map(|spec| self.cost.seconds(spec.cost))
            .sum();
        let mut out = Vec::with_capacity(n.min(base.max(1) * 4));
        while out.len() < n && (out.len() < base || batch_seconds < batch_target) {
            let jobs = &self.jobs;
            let Some((tenant, job_id)) = self.queue.next(|j| jobs.get(&j).is_some_and(Job::has_pending)) else {
                break;
            };
            let Some(job) = self.jobs.get_mut(&job_id) else { break };
            let Some(index) = job.next_pending() else { break };
            let Applied::Leased { attempt } = job.apply(JobEvent::TaskLeased { task: index, worker }, now) else {
                break;
            };
            let Some(spec) = job.task(index) else { break };
            let done = job.done_bitmap(index);
            let deadline = now + self.config.lease_ms;
            self.leases.grant(spec.id, Held { worker, attempt, deadline, granted: 0 });
            let seconds = self.cost.seconds(spec.cost);
            batch_seconds += seconds;
            self.queue.on_lease(&tenant, seconds);
            out.push(Lease { task: spec.id, kind: spec.kind, attempt, deadline, done });
        }
        Ok(out)
    }

    fn job_mut(&mut self, id: JobId) -> Result<&mut Job> {
        self.jobs.get_mut(&id).ok_or(Error::UnknownJob(id))
    }

    /// Ends a lease and frees its core; tells the holder when it is not `by`.
    fn end_lease(&mut self, task: TaskId, by: Option<WorkerId>) -> Option<Held> {
        let held = self.leases.release(task)?;
        if let Some(tenant) = self.jobs.get(&task.job).map(|j| j.tenant().clone()) {
            self.queue.on_release(&tenant);
        }
        if Some(held.worker) != by
            && let Some(w) = self.workers.get_mut(&held.worker)
        {
            w.revoked.push(task);
        }
        Some(held)
    }

    /// A result from a worker. Results of any lease of the task, current,
    /// expired or duplicated, are accepted; each block is merged once.
    pub fn report(&mut self, worker: WorkerId, task: TaskId, result: BlockResult) -> Result<Fate> {
        self.touch(worker)?;
        let now = self.clock.now();
        let job = self.job_mut(task.job)?;
        if task.index >= job.n_tasks() {
            return Err(Error::UnknownTask(task));
        }
        let (trade, block) = match &result {
            BlockResult::Pricing(b) => (b.trade, b.block),
            BlockResult::Risk(b) => (0, b.block),
        };
        let stop_before = job.stop_at();
        let applied = job.apply(JobEvent::BlockReported { task: task.index, result: result.clone() }, now);
        let stop_after = job.stop_at();
        let terminal = job.state().is_terminal();
        let Applied::Block { fate, task_done } = applied else { return Ok(Fate::Duplicate) };
        if fate == Fate::Rejected {
            return Err(Error::BlockOutsideTask { task, trade, block });
        }
        if fate.kept() {
            self.store.append_result(task.job, task.index, &result).map_err(store_err)?;
        }
        if let (None, Some(stop)) = (stop_before, stop_after) {
            self.store.set_stop(task.job, stop).map_err(store_err)?;
        }
        if task_done {
            self.tasks_completed += 1;
            self.end_lease(task, Some(worker));
        }
        if terminal {
            self.finalize(task.job)?;
        }
        Ok(fate)
    }

    /// Runs `f` with its writes to the store grouped into one commit (a completion carrying many
    /// blocks is one durable write, not one per block). The commit happens whatever `f` returns,
    /// as each call's own commit would have; nothing `f` did may be acknowledged before this
    /// returns.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.store.begin().map_err(store_err)?;
        let out = f(self);
        let committed = self.store.commit().map_err(store_err);
        let out = out?;
        committed?;
        Ok(out)
    }

    /// Convenience for pricing results.
    pub fn report_block(
        &mut self,
        worker: WorkerId,
        task: TaskId,
        block: riskcalc::engine::TradeBlock,
    ) -> Result<Fate> {
        self.report(worker, task, BlockResult::Pricing(block))
    }

    /// The worker finished a task (all its results sent). `compute_us`, one
    /// core's compute time in microseconds, calibrates the cost model. A
    /// task completed with results missing counts as a failed attempt.
    pub fn complete_task(&mut self, worker: WorkerId, task: TaskId, compute_us: Option<u64>) -> Result<TaskStatus> {
        self.touch(worker)?;
        let job = self.jobs.get(&task.job).ok_or(Error::UnknownJob(task.job))?;
        let spec = job.task(task.index).ok_or(Error::UnknownTask(task))?;
        let status = job.task_status(task.index).unwrap_or(TaskStatus::Skipped);
        if status == TaskStatus::Done
            && let Some(us) = compute_us
        {
            self.cost.observe(spec.cost, us as f64 / 1e6);
        }
        if status == TaskStatus::Leased && self.holds(worker, task) {
            self.fail_task(worker, task, "completed without reporting every block")?;
        }
        Ok(self.jobs.get(&task.job).and_then(|j| j.task_status(task.index)).unwrap_or(status))
    }

    /// The worker gave up on a task; it is retried (up to the limit).
    pub fn fail_task(&mut self, worker: WorkerId, task: TaskId, message: &str) -> Result<()> {
        self.touch(worker)?;
        if self.leases.holder(task).is_none_or(|h| h.worker != worker) {
            return Ok(());
        }
        self.end_lease(task, Some(worker));
        let now = self.clock.now();
        let job = self.job_mut(task.job)?;
        job.apply(JobEvent::TaskFailed { task: task.index, worker, message: message.to_owned() }, now);
        if job.state().is_terminal() {
            self.finalize(task.job)?;
        }
        Ok(())
    }

    /// A draining worker gives a task back unfinished; it is requeued at once
    /// without using up one of its attempts (draining is not a failure).
    pub fn return_task(&mut self, worker: WorkerId, task: TaskId) -> Result<()> {
        self.touch(worker)?;
        if self.leases.holder(task).is_none_or(|h| h.worker != worker) {
            return Ok(());
        }
        self.end_lease(task, Some(worker));
        let now = self.clock.now();
        let job = self.job_mut(task.job)?;
        job.apply(JobEvent::TaskReturned { task: task.index, worker }, now);
        Ok(())
    }

    /// Takes every lease back from a worker now (it is known to be gone).
    pub fn worker_lost(&mut self, worker: WorkerId) -> Result<Vec<TaskId>> {
        self.workers.remove(&worker).ok_or(Error::UnknownWorker(worker))?;
        let lost = self.leases.release_worker(worker);
        self.requeue(lost)
    }

    fn requeue(&mut self, lost: Vec<(TaskId, Held)>) -> Result<Vec<TaskId>> {
        let now = self.clock.now();
        let mut tasks = Vec::with_capacity(lost.len());
        for (task, held) in lost {
            self.lease_expiries += 1;
            tasks.push(task);
            let Some(job) = self.jobs.get_mut(&task.job) else { continue };
            let tenant = job.tenant().clone();
            job.apply(JobEvent::LeaseExpired { task: task.index, worker: held.worker }, now);
            let terminal = job.state().is_terminal();
            self.queue.on_release(&tenant);
            if terminal {
                self.finalize(task.job)?;
            }
        }
        Ok(tasks)
    }

    /// Cancels a job of `tenant`, freeing its leases.
    pub fn cancel(&mut self, tenant: &TenantId, job: JobId) -> Result<()> {
        let now = self.clock.now();
        let j = self.job_mut(job)?;
        if j.tenant() != tenant {
            return Err(Error::NotYourJob { job });
        }
        if j.state().is_terminal() {
            return Err(Error::JobFinished { job, state: j.state().name() });
        }
        j.apply(JobEvent::Cancelled, now);
        self.finalize(job)
    }

    /// The jobs that ended since the last call, oldest first (for the adapter to log once
    /// the calls that ended them have answered).
    pub fn take_ended(&mut self) -> Vec<JobEnded> {
        std::mem::take(&mut self.ended)
    }

    /// A job reached a terminal state: free its leases, dequeue it, persist the outcome.
    fn finalize(&mut self, id: JobId) -> Result<()> {
        let Some(job) = self.jobs.get(&id) else { return Ok(()) };
        let tenant = job.tenant().clone();
        let outcome = job.outcome();
        let state = job.state();
        let reason = match state {
            crate::job::JobState::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        let elapsed_ms = state.finished_at().map(|t| t.saturating_sub(job.record().submitted_at));
        self.ended.push(JobEnded { job: id, tenant: tenant.clone(), state: state.name(), elapsed_ms, reason });
        for (task, held) in self.leases.release_job(id) {
            self.queue.on_release(&tenant);
            if let Some(w) = self.workers.get_mut(&held.worker) {
                w.revoked.push(task);
            }
        }
        self.queue.remove(&tenant, id);
        if let Some(outcome) = outcome {
            self.store.finish_job(id, &outcome).map_err(store_err)?;
        }
        Ok(())
    }

    /// Expires leases and workers past their deadlines and applies retention.
    pub fn tick(&mut self) -> Result<TickReport> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        let timeout = self.config.worker_timeout_ms;
        let silent: Vec<WorkerId> =
            self.workers.iter().filter(|(_, w)| w.last_seen + timeout <= now).map(|(&id, _)| id).collect();
        for worker in silent {
            report.expired.extend(self.worker_lost(worker)?);
            report.workers_lost.push(worker);
        }
        let expired = self.leases.expire(now);
        let before: Vec<JobId> = expired.iter().map(|(t, _)| t.job).collect();
        report.expired.extend(self.requeue(expired)?);
        report.jobs_finished = before
            .into_iter()
            .filter(|j| self.jobs.get(j).is_some_and(|j| j.state().is_terminal()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if let Some(keep) = self.config.retention_ms {
            let old: Vec<JobId> = self
                .jobs
                .iter()
                .filter(|(_, j)| j.state().finished_at().is_some_and(|t| t + keep <= now))
                .map(|(&id, _)| id)
                .collect();
            for id in old {
                self.store.remove_job(id).map_err(store_err)?;
                if let Some(job) = self.jobs.remove(&id)
                    && let Some(r) = &job.record().client_request_id
                {
                    self.requests.remove(&(job.tenant().clone(), r.clone()));
                }
                report.jobs_purged.push(id);
            }
        }
        Ok(report)
    }

    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    pub fn job_status(&self, id: JobId) -> Result<JobStatus> {
        let job = self.jobs.get(&id).ok_or(Error::UnknownJob(id))?;
        let (result, reason) = match job.state() {
            crate::job::JobState::Succeeded { result, .. } => (Some((**result).clone()), None),
            crate::job::JobState::Failed { reason, .. } => (None, Some(reason.clone())),
            _ => (None, None),
        };
        Ok(JobStatus {
            id,
            tenant: job.tenant().clone(),
            name: job.spec().name.clone(),
            state: job.state().name().to_owned(),
            priority: job.record().priority,
            submitted_at: job.record().submitted_at,
            progress: job.progress(),
            result,
            reason,
        })
    }

    /// The tenant's jobs, oldest first.
    pub fn list_jobs(&self, tenant: &TenantId) -> Vec<JobStatus> {
        self.jobs.values().filter(|j| j.tenant() == tenant).filter_map(|j| self.job_status(j.id()).ok()).collect()
    }

    pub fn tenant_usage(&self, tenant: &TenantId) -> Option<TenantUsage> {
        self.queue.usage(tenant)
    }

    pub fn worker_leases(&self, worker: WorkerId) -> Vec<TaskId> {
        self.leases.tasks_of(worker)
    }

    /// Whether a worker with room could lease a task now (some queued job has a pending
    /// task and its tenant is below its core limit).
    pub fn has_leasable(&self) -> bool {
        let jobs = &self.jobs;
        self.queue.next(|j| jobs.get(&j).is_some_and(Job::has_pending)).is_some()
    }

    /// How many leases `worker` holds now.
    pub fn held_by(&self, worker: WorkerId) -> usize {
        self.leases.held_by(worker)
    }

    /// Whether `worker` holds the lease of `task` now.
    pub fn holds(&self, worker: WorkerId, task: TaskId) -> bool {
        self.leases.holder(task).is_some_and(|h| h.worker == worker)
    }

    /// What the work in hand asks of burst capacity: core-seconds not yet
    /// leased, cores busy, and the remaining work of each job with a deadline.
    pub fn capacity_demand(&self) -> riskgrid_capacity::Demand {
        let mut demand = riskgrid_capacity::Demand { running_cores: self.leases.len() as u32, ..Default::default() };
        let mut queued = 0;
        for j in self.jobs.values().filter(|j| !j.state().is_terminal()) {
            queued += j.pending_cost();
            if let Some(deadline) = j.record().deadline {
                let remaining: u64 = (0..j.n_tasks())
                    .filter(|&i| matches!(j.task_status(i), Some(TaskStatus::Pending | TaskStatus::Leased)))
                    .map(|i| j.record().tasks[i as usize].cost)
                    .sum();
                demand.deadlines.push(riskgrid_capacity::DeadlineDemand {
                    job: j.id().to_string(),
                    remaining_core_seconds: self.cost.seconds(remaining),
                    deadline_ms: deadline,
                });
            }
        }
        demand.queued_core_seconds = self.cost.seconds(queued);
        demand
    }

    /// How long SubmitAndWatch may hold its answer for job `id` while waiting for it to end:
    /// the configured `settle_ms` when the cost model expects the job to take less than that
    /// of one core, else 0 (answer at once).
    pub fn settle_ms(&self, id: JobId) -> Millis {
        let window = self.config.settle_ms;
        let Some(job) = self.jobs.get(&id) else { return 0 };
        let expected_ms = self.cost.seconds(job.record().tasks.iter().map(|t| t.cost).sum()) * 1000.0;
        if expected_ms < window as f64 { window } else { 0 }
    }

    /// Estimated core-seconds of a job that is not submitted (for pre-submit plans).
    pub fn estimate_core_seconds(&self, spec: &JobSpec, historical_csv: Option<&str>) -> Result<f64> {
        spec.validate().map_err(|e| Error::InvalidSpec(e.to_string()))?;
        let (compiled, risk) = self.compile(spec, historical_csv)?;
        Ok(self.cost.seconds(self.plan(&compiled, risk.as_deref()).iter().map(|t| t.cost).sum()))
    }

    /// A job's tasks as the planner cuts them with the current cost model.
    fn plan(&self, compiled: &CompiledJob, risk: Option<&RiskJob>) -> Vec<crate::planner::PlannedTask> {
        let mut tasks = plan_pricing(&PricingShape::of(compiled), &self.cost, &self.config.planner);
        if let Some(r) = risk {
            tasks.extend(plan_risk(&RiskShape::of(r), &self.cost, &self.config.planner));
        }
        tasks
    }

    /// The job a tenant's earlier submission with this client request id created.
    pub fn job_for_request(&self, tenant: &TenantId, request_id: &str) -> Option<JobId> {
        self.requests.get(&(tenant.clone(), request_id.to_owned())).copied()
    }

    /// Jobs known (any state), in O(1).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    pub fn stats(&self) -> SchedulerStats {
        let mut jobs_by_state = BTreeMap::new();
        let mut queued = 0;
        for j in self.jobs.values() {
            let name = j.state().name();
            match jobs_by_state.get_mut(name) {
                Some(n) => *n += 1,
                None => {
                    jobs_by_state.insert(name.to_owned(), 1);
                }
            }
            if !j.state().is_terminal() {
                queued += j.pending_cost();
            }
        }
        SchedulerStats {
            jobs_by_state,
            queued_core_seconds: self.cost.seconds(queued),
            leases: self.leases.len(),
            workers: self.workers.len(),
            tasks_completed: self.tasks_completed,
            lease_expiries: self.lease_expiries,
            throughput: self.cost.throughput(),
            tenants: self.tenant_usages(),
        }
    }

    /// Every tenant's usage, with the cores computing its tasks now.
    fn tenant_usages(&self) -> BTreeMap<TenantId, crate::queue::TenantUsage> {
        let mut usages = self.queue.usages();
        let cores = |w: WorkerId| self.workers.get(&w).map_or(0, |w| w.info.cores as usize);
        for task in self.leases.running(cores) {
            if let Some(u) = self.jobs.get(&task.job).and_then(|j| usages.get_mut(j.tenant())) {
                u.running += 1;
            }
        }
        usages
    }
}
