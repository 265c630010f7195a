//! Per-tenant quotas checked at submit, and the summary of a job that both
//! quotas and admission policies look at. Pure: no clock, no I/O.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a tenant may submit. `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Jobs queued or running at once.
    #[serde(default)]
    pub max_queued_jobs: Option<usize>,
    /// Cores leased at once. Not a submit-time check: further tasks simply
    /// wait (the fair-share queue enforces it at lease time).
    #[serde(default)]
    pub max_cores: Option<u32>,
    /// `analysis.paths` of one job.
    #[serde(default)]
    pub max_paths_per_job: Option<u64>,
    /// Highest priority the tenant may ask for.
    #[serde(default)]
    pub max_priority: Option<i32>,
}

/// What is being submitted, as quotas and policies see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    /// Instrument types in the portfolio (`european`, `asian`, ...), sorted, without repeats.
    pub instruments: Vec<String>,
    pub trades: usize,
    /// `analysis.paths`.
    pub paths: u64,
    pub priority: i32,
    /// When the client needs the result by, if it said.
    pub deadline_unix_ms: Option<i64>,
    /// The scheduler's estimate of the core-seconds the job costs.
    pub estimated_core_seconds: f64,
}

/// What the tenant holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub queued_jobs: usize,
    pub cores_in_use: u32,
}

/// A quota a submission would break: which one, and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("quota {quota}: {reason}")]
pub struct Exceeded {
    pub quota: &'static str,
    pub reason: String,
}

/// Checks a submission of `tenant` against its quota.
pub fn check(tenant: &str, quota: &Quota, job: &JobSummary, usage: &Usage) -> Result<(), Exceeded> {
    if let Some(max) = quota.max_queued_jobs
        && usage.queued_jobs >= max
    {
        return Err(Exceeded {
            quota: "max_queued_jobs",
            reason: format!("tenant {tenant} already has {} queued or running jobs (limit {max})", usage.queued_jobs),
        });
    }
    if let Some(max) = quota.max_paths_per_job
        && job.paths > max
    {
        return Err(Exceeded {
            quota: "max_paths_per_job",
            reason: format!("analysis.paths {} is above tenant {tenant}'s limit of {max}", job.paths),
        });
    }
    if let Some(max) = quota.max_priority
        && job.priority > max
    {
        return Err(Exceeded {
            quota: "max_priority",
            reason: format!("priority {} is above tenant {tenant}'s ceiling of {max}", job.priority),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(paths: u64, priority: i32) -> JobSummary {
        JobSummary {
            instruments: vec!["european".into()],
            trades: 1,
            paths,
            priority,
            deadline_unix_ms: None,
            estimated_core_seconds: 1.0,
        }
    }

    #[test]
    fn each_quota_is_named_when_broken() {
        let q = Quota {
            max_queued_jobs: Some(2),
            max_cores: Some(1),
            max_paths_per_job: Some(1000),
            max_priority: Some(5),
        };
        let idle = Usage::default();
        assert_eq!(check("a", &q, &job(1000, 5), &idle), Ok(()));
        assert_eq!(check("a", &q, &job(1001, 0), &idle).map_err(|e| e.quota), Err("max_paths_per_job"));
        assert_eq!(check("a", &q, &job(10, 6), &idle).map_err(|e| e.quota), Err("max_priority"));
        let busy = Usage { queued_jobs: 2, cores_in_use: 7 };
        let e = check("a", &q, &job(10, 0), &busy).err();
        assert_eq!(e.as_ref().map(|e| e.quota), Some("max_queued_jobs"));
        assert!(e.is_some_and(|e| e.to_string().contains("limit 2")));
        assert_eq!(check("a", &Quota::default(), &job(u64::MAX, 100), &busy), Ok(()));
    }
}
