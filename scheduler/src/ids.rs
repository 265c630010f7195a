//! Identifiers: small newtypes so a job id is never passed where a worker id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job accepted by the scheduler. Displays as `job-7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

/// A registered worker process. Displays as `worker-3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkerId(pub u64);

/// A tenant (a team sharing the grid). A plain name in this issue; #5 authenticates it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub String);

/// One task of one job: the `index`-th entry of the job's plan. Displays as `job-7.t12`.
///
/// The plan is persisted with the job, so a task id means the same blocks
/// before and after a scheduler restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskId {
    pub job: JobId,
    pub index: u32,
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job-{}", self.0)
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker-{}", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.t{}", self.job, self.index)
    }
}

impl From<&str> for TenantId {
    fn from(name: &str) -> Self {
        TenantId(name.to_owned())
    }
}

impl TaskId {
    pub fn new(job: JobId, index: u32) -> Self {
        TaskId { job, index }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_and_serialise_plainly() {
        assert_eq!(JobId(7).to_string(), "job-7");
        assert_eq!(WorkerId(3).to_string(), "worker-3");
        assert_eq!(TaskId::new(JobId(7), 12).to_string(), "job-7.t12");
        assert_eq!(TenantId::from("desk-a").to_string(), "desk-a");
        assert_eq!(serde_json::to_string(&JobId(7)).ok().as_deref(), Some("7"));
        assert_eq!(serde_json::to_string(&TenantId::from("a")).ok().as_deref(), Some("\"a\""));
    }
}
