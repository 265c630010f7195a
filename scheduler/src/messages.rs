//! The plain values the scheduler's facade takes and returns: what clients
//! and workers send, and what status, ticks and metrics report.

use crate::clock::Millis;
use crate::ids::{JobId, TaskId, TenantId, WorkerId};
use crate::job::{JobResult, Progress};
use crate::queue::TenantUsage;
use riskcalc::spec::JobSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A job that reached a terminal state, for the adapter's "job finished" log line (the core
/// does no I/O; see `Scheduler::take_ended`).
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnded {
    pub job: JobId,
    pub tenant: TenantId,
    /// The terminal state's name ("succeeded", "failed", "cancelled").
    pub state: &'static str,
    /// From submission to the end, when known.
    pub elapsed_ms: Option<Millis>,
    /// Why a job failed.
    pub reason: Option<String>,
}

/// A client's request to run a job.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitRequest {
    pub spec: JobSpec,
    /// Higher runs first among the tenant's jobs.
    pub priority: i32,
    /// Retrying a submission with the same id returns the same job.
    pub client_request_id: Option<String>,
    /// The historical scenario file's text, required by historical VaR jobs.
    pub historical_csv: Option<String>,
    /// When the result is needed (scheduler clock): drives burst pre-scaling.
    pub deadline: Option<Millis>,
}

impl SubmitRequest {
    pub fn new(spec: JobSpec) -> Self {
        SubmitRequest { spec, priority: 0, client_request_id: None, historical_csv: None, deadline: None }
    }
}

/// What a worker tells the scheduler when it registers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub cores: u32,
    pub version: String,
    pub labels: BTreeMap<String, String>,
}

/// The scheduler's answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// Leases renewed.
    pub renewed: usize,
    /// Tasks the worker should stop (job cancelled, finished or stopped early, or task done elsewhere).
    pub revoked: Vec<TaskId>,
}

/// What `tick` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TickReport {
    pub expired: Vec<TaskId>,
    pub workers_lost: Vec<WorkerId>,
    pub jobs_finished: Vec<JobId>,
    pub jobs_purged: Vec<JobId>,
}

/// A job as a client sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub id: JobId,
    pub tenant: TenantId,
    pub name: Option<String>,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub priority: i32,
    pub submitted_at: Millis,
    pub progress: Progress,
    pub result: Option<JobResult>,
    /// Why the job failed.
    pub reason: Option<String>,
}

/// Counters for metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SchedulerStats {
    pub jobs_by_state: BTreeMap<String, usize>,
    /// Estimated core-seconds of tasks not yet leased.
    pub queued_core_seconds: f64,
    pub leases: usize,
    pub workers: usize,
    pub tasks_completed: u64,
    pub lease_expiries: u64,
    pub throughput: f64,
    /// What each tenant the queue knows has been given.
    pub tenants: BTreeMap<TenantId, TenantUsage>,
}
