//! The scheduler's errors, each with a small code an adapter maps to its
//! protocol (gRPC status, HTTP, exit code).

use crate::ids::{JobId, TaskId, TenantId, WorkerId};
use thiserror::Error;

/// Coarse classes of failure, stable for adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request itself is wrong (bad spec, block outside its task).
    InvalidArgument,
    /// Names a job, task, tenant or worker the scheduler does not know.
    NotFound,
    /// A tenant limit would be exceeded.
    ResourceExhausted,
    /// Valid request, wrong moment (job already finished, id reused for another spec).
    FailedPrecondition,
    /// The store failed.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    #[error("invalid job spec:\n{0}")]
    InvalidSpec(String),
    #[error("not supported by the grid yet: {0}")]
    Unsupported(String),
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("unknown tenant {0}")]
    UnknownTenant(TenantId),
    #[error("unknown job {0}")]
    UnknownJob(JobId),
    #[error("unknown task {0}")]
    UnknownTask(TaskId),
    #[error("unknown worker {0}")]
    UnknownWorker(WorkerId),
    #[error("tenant {tenant} already has {limit} queued or running jobs (its limit)")]
    TooManyQueuedJobs { tenant: TenantId, limit: usize },
    #[error("client request id {request_id:?} of tenant {tenant} was already used for {job} with a different spec")]
    RequestIdReused { tenant: TenantId, request_id: String, job: JobId },
    #[error("block {block} of trade {trade} is not part of task {task}")]
    BlockOutsideTask { task: TaskId, trade: u32, block: u64 },
    #[error("{job} belongs to another tenant")]
    NotYourJob { job: JobId },
    #[error("{job} has already finished ({state})")]
    JobFinished { job: JobId, state: &'static str },
    #[error("job store: {0}")]
    Store(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidSpec(_)
            | Error::InvalidField { .. }
            | Error::Unsupported(_)
            | Error::BlockOutsideTask { .. } => ErrorCode::InvalidArgument,
            Error::UnknownTenant(_)
            | Error::UnknownJob(_)
            | Error::UnknownTask(_)
            | Error::UnknownWorker(_)
            | Error::NotYourJob { .. } => ErrorCode::NotFound,
            Error::TooManyQueuedJobs { .. } => ErrorCode::ResourceExhausted,
            Error::RequestIdReused { .. } | Error::JobFinished { .. } => ErrorCode::FailedPrecondition,
            Error::Store(_) => ErrorCode::Unavailable,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
