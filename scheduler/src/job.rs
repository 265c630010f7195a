//! One job's life: its tasks, their leases and retries, the exactly-once
//! merge of their results, early stop, and the job's state.

use crate::clock::Millis;
use crate::collect::{Fate, ScenarioCollector};
use crate::ids::{JobId, TaskId, TenantId, WorkerId};
use crate::planner::PlannedTask;
use crate::prefix::PrefixMerge;
use crate::task::{TaskKind, TaskSpec};
use riskcalc::engine::{Accumulator, PricingReport, TradeBlock};
use riskcalc::plan::CompiledJob;
use riskcalc::risk::{RiskJob, RiskReport, ScenarioBlock};
use riskcalc::spec::JobSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What is persisted when a job is accepted: enough to rebuild it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: JobId,
    pub tenant: TenantId,
    pub priority: i32,
    pub client_request_id: Option<String>,
    pub spec: JobSpec,
    /// The historical scenario file's text, for jobs with historical VaR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub historical_csv: Option<String>,
    /// The plan, fixed at submission (task ids index into it).
    pub tasks: Vec<PlannedTask>,
    pub submitted_at: Millis,
    /// When the result is needed, if the client said (drives burst pre-scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Millis>,
}

/// The final result of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub pricing: PricingReport,
    pub risk: Option<RiskReport>,
    /// Paths merged per trade (fewer than asked for after an early stop).
    pub paths_used: u64,
    pub blocks_used: u64,
    pub stopped_early: bool,
}

/// Where a job is in its life. Terminal states carry their outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Queued,
    Running { started_at: Millis },
    Succeeded { result: Box<JobResult>, finished_at: Millis },
    Failed { reason: String, finished_at: Millis },
    Cancelled { finished_at: Millis },
}

impl JobState {
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running { .. } => "running",
            JobState::Succeeded { .. } => "succeeded",
            JobState::Failed { .. } => "failed",
            JobState::Cancelled { .. } => "cancelled",
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, JobState::Succeeded { .. } | JobState::Failed { .. } | JobState::Cancelled { .. })
    }

    pub fn finished_at(&self) -> Option<Millis> {
        match self {
            JobState::Succeeded { finished_at, .. }
            | JobState::Failed { finished_at, .. }
            | JobState::Cancelled { finished_at } => Some(*finished_at),
            _ => None,
        }
    }
}

/// How a finished job ended, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobOutcome {
    Succeeded(Box<JobResult>),
    Failed { reason: String },
    Cancelled,
}

/// A result a worker sends for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BlockResult {
    Pricing(TradeBlock),
    Risk(ScenarioBlock),
}

/// Something that happened to a job (inputs to [`Job::apply`]).
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// A worker was given the task.
    TaskLeased { task: u32, worker: WorkerId },
    /// A worker sent one result of the task (possibly a duplicate or late).
    BlockReported { task: u32, result: BlockResult },
    /// The task's lease ran out (worker dead, slow or partitioned).
    LeaseExpired { task: u32, worker: WorkerId },
    /// The worker gave up on the task.
    TaskFailed { task: u32, worker: WorkerId, message: String },
    /// A draining worker (e.g. on a spot interruption notice) gave the task
    /// back unfinished: it is requeued without using up an attempt.
    TaskReturned { task: u32, worker: WorkerId },
    /// The client cancelled the job.
    Cancelled,
}

/// What [`Job::apply`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Leased {
        attempt: u32,
    },
    Block {
        fate: Fate,
        /// The result completed its task (every block of it has now been received).
        task_done: bool,
    },
    /// The task went back to the queue for another attempt.
    Requeued {
        attempts: u32,
    },
    /// Nothing changed (the job or task had already moved on).
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    Pending,
    Leased,
    Done,
    /// Not needed: beyond an early stop, or the job ended.
    Skipped,
}

#[derive(Debug, Clone)]
struct TaskRuntime {
    status: TaskStatus,
    attempts: u32,
    /// One flag per result of the task, allocated on the first result.
    received: Vec<bool>,
    remaining: u64,
}

/// A job in the scheduler.
#[derive(Debug, Clone)]
pub struct Job {
    record: JobRecord,
    compiled: Arc<CompiledJob>,
    risk: Option<Arc<RiskJob>>,
    tasks: Vec<TaskRuntime>,
    pending: BTreeSet<u32>,
    acc: Accumulator,
    scenarios: Option<ScenarioCollector>,
    max_attempts: u32,
    /// Block-by-block merging, used when the job has an early-stop target.
    prefix: PrefixMerge,
    /// Early stop: merge pricing blocks `[0, stop_at)` only.
    stop_at: Option<u64>,
    state: JobState,
}

impl Job {
    /// A freshly accepted job. `risk` must be present when the spec asks for risk.
    pub fn new(record: JobRecord, compiled: Arc<CompiledJob>, risk: Option<Arc<RiskJob>>, max_attempts: u32) -> Self {
        let tasks = record
            .tasks
            .iter()
            .map(|t| TaskRuntime {
                status: TaskStatus::Pending,
                attempts: 0,
                received: Vec::new(),
                remaining: t.kind.n_results(),
            })
            .collect();
        let pending = (0..record.tasks.len() as u32).collect();
        let acc = Accumulator::new(compiled.trades.iter().map(|t| t.quantities.len()));
        let scenarios =
            risk.as_ref().map(|r| ScenarioCollector::new(r.trades.len(), r.n_scenarios(), r.scenario_block));
        Job {
            record,
            compiled,
            risk,
            tasks,
            pending,
            acc,
            scenarios,
            max_attempts: max_attempts.max(1),
            prefix: PrefixMerge::default(),
            stop_at: None,
            state: JobState::Queued,
        }
    }

    /// Rebuilds a job after a restart from its record, its persisted results
    /// and its early-stop point. Leases are gone: every unfinished task is pending again.
    pub fn restore(
        record: JobRecord,
        compiled: Arc<CompiledJob>,
        risk: Option<Arc<RiskJob>>,
        max_attempts: u32,
        stop_at: Option<u64>,
        results: impl IntoIterator<Item = (u32, BlockResult)>,
        now: Millis,
    ) -> Self {
        let mut job = Job::new(record, compiled, risk, max_attempts);
        if let Some(stop) = stop_at {
            job.set_stop(stop);
        }
        for (task, result) in results {
            if (task as usize) < job.tasks.len() {
                job.accept(task, result);
            }
        }
        if job.tasks.iter().any(|t| t.status == TaskStatus::Done) {
            job.state = JobState::Running { started_at: now };
        }
        job.finish_if_complete(now);
        job
    }

    pub fn id(&self) -> JobId {
        self.record.id
    }

    pub fn tenant(&self) -> &TenantId {
        &self.record.tenant
    }

    pub fn record(&self) -> &JobRecord {
        &self.record
    }

    pub fn spec(&self) -> &JobSpec {
        &self.record.spec
    }

    pub fn compiled(&self) -> &Arc<CompiledJob> {
        &self.compiled
    }

    pub fn risk_job(&self) -> Option<&Arc<RiskJob>> {
        self.risk.as_ref()
    }

    pub fn state(&self) -> &JobState {
        &self.state
    }

    pub fn stop_at(&self) -> Option<u64> {
        self.stop_at
    }

    pub fn task(&self, index: u32) -> Option<TaskSpec> {
        self.record.tasks.get(index as usize).map(|t| TaskSpec {
            id: TaskId::new(self.record.id, index),
            kind: t.kind.clone(),
            cost: t.cost,
        })
    }

    /// Which result slots of a task were merged already (by an earlier
    /// attempt), as a bitmap, least significant bit first; empty when none.
    pub fn done_bitmap(&self, index: u32) -> Vec<u8> {
        let Some(t) = self.tasks.get(index as usize) else { return Vec::new() };
        if !t.received.iter().any(|&r| r) {
            return Vec::new();
        }
        let mut bits = vec![0u8; t.received.len().div_ceil(8)];
        for (slot, _) in t.received.iter().enumerate().filter(|(_, r)| **r) {
            bits[slot / 8] |= 1 << (slot % 8);
        }
        bits
    }

    pub fn task_status(&self, index: u32) -> Option<TaskStatus> {
        self.tasks.get(index as usize).map(|t| t.status)
    }

    pub fn n_tasks(&self) -> u32 {
        self.tasks.len() as u32
    }

    /// Whether a task is waiting for a worker.
    pub fn has_pending(&self) -> bool {
        !self.state.is_terminal() && !self.pending.is_empty()
    }

    /// The next task to lease (lowest index first: retries before new work).
    pub fn next_pending(&self) -> Option<u32> {
        if self.state.is_terminal() { None } else { self.pending.first().copied() }
    }

    /// Estimated path-steps of the tasks not yet leased.
    pub fn pending_cost(&self) -> u64 {
        self.pending.iter().map(|&i| self.record.tasks[i as usize].cost).sum()
    }

    /// The accumulator of merged pricing blocks.
    pub fn accumulator(&self) -> &Accumulator {
        &self.acc
    }

    /// Pricing blocks every trade must merge before the job is done.
    pub fn pricing_target(&self) -> u64 {
        self.stop_at.unwrap_or_else(|| self.compiled.n_blocks())
    }

    /// Applies one event at time `now`.
    pub fn apply(&mut self, event: JobEvent, now: Millis) -> Applied {
        if self.state.is_terminal() {
            return Applied::Ignored;
        }
        match event {
            JobEvent::TaskLeased { task, .. } => self.leased(task, now),
            JobEvent::BlockReported { task, result } => {
                let Some(t) = self.tasks.get(task as usize) else { return Applied::Ignored };
                // Only tasks that have been handed out can report; a result of
                // a task dropped by early stop is not merged.
                if t.attempts == 0 || t.status == TaskStatus::Skipped {
                    return Applied::Ignored;
                }
                let (fate, task_done) = self.accept(task, result);
                if fate.kept() {
                    self.finish_if_complete(now);
                }
                Applied::Block { fate, task_done }
            }
            JobEvent::LeaseExpired { task, worker } => self.lost(task, now, &format!("its lease on {worker} expired")),
            JobEvent::TaskFailed { task, worker, message } => {
                self.lost(task, now, &format!("{worker} reported failure: {message}"))
            }
            JobEvent::TaskReturned { task, .. } => self.returned(task),
            JobEvent::Cancelled => {
                self.end_tasks();
                self.state = JobState::Cancelled { finished_at: now };
                Applied::Ignored
            }
        }
    }

    fn leased(&mut self, task: u32, now: Millis) -> Applied {
        if !self.pending.remove(&task) {
            return Applied::Ignored;
        }
        let t = &mut self.tasks[task as usize];
        t.status = TaskStatus::Leased;
        t.attempts += 1;
        let attempt = t.attempts;
        if self.state == JobState::Queued {
            self.state = JobState::Running { started_at: now };
        }
        Applied::Leased { attempt }
    }

    fn returned(&mut self, task: u32) -> Applied {
        let Some(t) = self.tasks.get_mut(task as usize) else { return Applied::Ignored };
        if t.status != TaskStatus::Leased {
            return Applied::Ignored;
        }
        t.attempts = t.attempts.saturating_sub(1);
        t.status = TaskStatus::Pending;
        self.pending.insert(task);
        Applied::Requeued { attempts: t.attempts }
    }

    fn lost(&mut self, task: u32, now: Millis, why: &str) -> Applied {
        let Some(t) = self.tasks.get_mut(task as usize) else { return Applied::Ignored };
        if t.status != TaskStatus::Leased {
            return Applied::Ignored;
        }
        if t.attempts >= self.max_attempts {
            let id = TaskId::new(self.record.id, task);
            let reason = format!(
                "task {id} ({}) failed {} times, the retry limit; last: {why}",
                describe(&self.record.tasks[task as usize].kind),
                t.attempts
            );
            self.end_tasks();
            self.state = JobState::Failed { reason, finished_at: now };
            return Applied::Ignored;
        }
        t.status = TaskStatus::Pending;
        self.pending.insert(task);
        Applied::Requeued { attempts: t.attempts }
    }

    /// Checks a result against its task, merges it, and tracks the task's completion.
    fn accept(&mut self, task: u32, result: BlockResult) -> (Fate, bool) {
        let kind = self.record.tasks[task as usize].kind.clone();
        let slot = match &result {
            BlockResult::Pricing(b) => kind.pricing_slot(b.trade, b.block).filter(|_| {
                let n = u64::from(self.compiled.block_paths(b.block));
                b.moments.iter().all(|m| m.n == n)
            }),
            BlockResult::Risk(b) => kind.risk_slot(b.block),
        };
        let Some(slot) = slot else { return (Fate::Rejected, false) };
        let fate = match result {
            BlockResult::Pricing(b) if self.compiled.target_std_error.is_some() => {
                let compiled = &self.compiled;
                let (fate, stop) = self.prefix.offer(b, &mut self.acc, self.stop_at, |acc| compiled.target_met(acc));
                if let Some(stop) = stop {
                    self.set_stop(stop);
                }
                fate
            }
            BlockResult::Pricing(b) => {
                if self.stop_at.is_some_and(|s| b.block >= s) {
                    Fate::Duplicate
                } else {
                    self.acc.merge(b).into()
                }
            }
            BlockResult::Risk(b) => self.scenarios.as_mut().map_or(Fate::Rejected, |c| c.add(b)),
        };
        if fate == Fate::Rejected {
            return (fate, false);
        }
        let t = &mut self.tasks[task as usize];
        if t.status == TaskStatus::Done {
            return (fate, false);
        }
        if t.received.is_empty() {
            t.received = vec![false; kind.n_results() as usize];
        }
        let mut task_done = false;
        if !t.received[slot] {
            t.received[slot] = true;
            t.remaining -= 1;
            if t.remaining == 0 {
                t.status = TaskStatus::Done;
                t.received = Vec::new();
                self.pending.remove(&task);
                task_done = true;
            }
        }
        (fate, task_done)
    }

    fn set_stop(&mut self, stop: u64) {
        self.stop_at = Some(stop);
        for (i, planned) in self.record.tasks.iter().enumerate() {
            if planned.kind.is_pricing() && planned.kind.blocks().start >= stop {
                let t = &mut self.tasks[i];
                if t.status == TaskStatus::Pending {
                    t.status = TaskStatus::Skipped;
                    self.pending.remove(&(i as u32));
                }
            }
        }
    }

    /// The job needs no more work: pending tasks, and leased ones cut short by
    /// an early stop, are skipped (their leases are released by the scheduler).
    fn end_tasks(&mut self) {
        for t in &mut self.tasks {
            if matches!(t.status, TaskStatus::Pending | TaskStatus::Leased) {
                t.status = TaskStatus::Skipped;
                t.received = Vec::new();
            }
        }
        self.pending.clear();
    }

    fn finish_if_complete(&mut self, now: Millis) {
        if self.state.is_terminal() {
            return;
        }
        let target = self.pricing_target();
        let pricing_done = (0..self.acc.n_trades()).all(|t| self.acc.merged_blocks(t) >= target);
        let risk_done = self.scenarios.as_ref().is_none_or(ScenarioCollector::is_complete);
        if !(pricing_done && risk_done) {
            return;
        }
        let pricing = PricingReport::new(&self.compiled, &self.acc);
        let risk = match (&self.risk, &self.scenarios) {
            (Some(job), Some(c)) => Some(RiskReport::new(job, c.pnl())),
            _ => None,
        };
        let result = JobResult {
            paths_used: pricing.paths,
            blocks_used: pricing.blocks,
            stopped_early: target < self.compiled.n_blocks(),
            pricing,
            risk,
        };
        self.end_tasks();
        self.state = JobState::Succeeded { result: Box::new(result), finished_at: now };
    }

    /// Result blocks merged so far that count towards progress (trade
    /// blocks up to the target, scenario blocks): cheap, unlike [`Job::progress`].
    pub fn blocks_done(&self) -> u64 {
        let target = self.pricing_target();
        let pricing: u64 = (0..self.acc.n_trades()).map(|t| self.acc.merged_blocks(t).min(target)).sum();
        pricing + self.scenarios.as_ref().map_or(0, |c| c.merged_blocks())
    }

    /// Percent done, the running estimate, and the intervals.
    pub fn progress(&self) -> Progress {
        let target = self.pricing_target();
        let n_trades = self.acc.n_trades() as u64;
        let done = self.blocks_done();
        let mut total = n_trades * target;
        if let Some(c) = &self.scenarios {
            total += c.n_blocks();
        }
        let percent = if total == 0 { 100.0 } else { 100.0 * done as f64 / total as f64 };
        let estimate = match &self.state {
            JobState::Succeeded { result, .. } => result.pricing.clone(),
            _ => PricingReport::new(&self.compiled, &self.acc),
        };
        let trades = estimate.trades.iter().map(|t| Interval::ci95(t.price, t.std_error)).collect();
        let portfolio = Interval::ci95(estimate.portfolio.value, estimate.portfolio.std_error);
        Progress {
            percent,
            blocks_merged: self.acc.complete_blocks(),
            blocks_target: target,
            estimate,
            trades,
            portfolio,
        }
    }

    /// How a finished job ended; `None` while it runs.
    pub fn outcome(&self) -> Option<JobOutcome> {
        match &self.state {
            JobState::Succeeded { result, .. } => Some(JobOutcome::Succeeded(result.clone())),
            JobState::Failed { reason, .. } => Some(JobOutcome::Failed { reason: reason.clone() }),
            JobState::Cancelled { .. } => Some(JobOutcome::Cancelled),
            _ => None,
        }
    }

    /// Puts a finished job back in its recorded end state (after a restart).
    pub fn set_outcome(&mut self, outcome: JobOutcome, now: Millis) {
        self.end_tasks();
        self.state = match outcome {
            JobOutcome::Succeeded(result) => JobState::Succeeded { result, finished_at: now },
            JobOutcome::Failed { reason } => JobState::Failed { reason, finished_at: now },
            JobOutcome::Cancelled => JobState::Cancelled { finished_at: now },
        };
    }
}

/// An estimate with its 95% confidence interval (± 1.96 standard errors).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub value: f64,
    pub std_error: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn ci95(value: f64, std_error: f64) -> Self {
        Interval { value, std_error, low: value - 1.96 * std_error, high: value + 1.96 * std_error }
    }
}

/// A job's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub percent: f64,
    /// Pricing blocks merged by every trade.
    pub blocks_merged: u64,
    /// Pricing blocks the job will merge (fewer than planned after an early stop).
    pub blocks_target: u64,
    pub estimate: PricingReport,
    /// Price of one unit of each trade, in trade order.
    pub trades: Vec<Interval>,
    pub portfolio: Interval,
}

fn describe(kind: &TaskKind) -> String {
    match kind {
        TaskKind::Pricing { trades, blocks } => {
            format!("trades {}..{}, path blocks {}..{}", trades.start, trades.end, blocks.start, blocks.end)
        }
        TaskKind::Risk { blocks } => format!("scenario blocks {}..{}", blocks.start, blocks.end),
    }
}
