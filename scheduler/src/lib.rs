//! The riskgrid scheduler's domain core (issue #3): plain synchronous code,
//! no I/O, no async. Adapters (gRPC server, SQLite store, embedded runner,
//! simulators) wrap [`Scheduler`].
//!
//! job spec ─plan─▶ tasks (whole path blocks × trade groups, or scenario blocks)
//! ─fair-share queue─▶ leases (deadline, heartbeats, retries) ─▶ block results
//! ─`Accumulator`: exactly once, in block order─▶ `PricingReport` (+ `RiskReport`).

pub mod burst;
pub mod clock;
pub mod collect;
pub mod config;
pub mod cost;
pub mod error;
pub mod grpc;
pub mod ids;
pub mod job;
pub mod lease;
pub mod messages;
pub mod planner;
pub mod prefix;
pub mod queue;
pub mod sqlite_store;
pub mod state;
pub mod store;
pub mod task;

pub use clock::{Clock, ManualClock, Millis, MonotonicClock};
pub use collect::Fate;
pub use config::SchedulerConfig;
pub use cost::{CostModel, PricingShape, RiskShape};
pub use error::{Error, ErrorCode};
pub use ids::{JobId, TaskId, TenantId, WorkerId};
pub use job::{BlockResult, Interval, Job, JobEvent, JobOutcome, JobRecord, JobResult, JobState, Progress, TaskStatus};
pub use lease::Lease;
pub use planner::{PlannedTask, PlannerConfig, plan_pricing, plan_risk};
pub use queue::{TenantConfig, TenantUsage};
pub use sqlite_store::{Durability, SqliteStore};
pub use state::{
    HeartbeatReply, JobEnded, JobStatus, Scheduler, SchedulerStats, SubmitRequest, TickReport, WorkerInfo,
};
pub use store::{JobStore, MemStore, NoStore, StoreError, StoredJob};
pub use task::{TaskKind, TaskSpec};
