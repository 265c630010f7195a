//! Admission at submit and the audit trail of the grid (issue #5).
//!
//! A submission that parsed and validated is summarised ([`summarize`]:
//! instruments, paths, priority, deadline, estimated core-seconds), checked
//! against the tenant's quota (RESOURCE_EXHAUSTED naming the quota) and then
//! against the Rego admission policies (PERMISSION_DENIED with the policies'
//! messages). The decision, allow or deny, is appended to the audit log
//! *before* the job is stored, so no job exists without its admission record.
//! [`audit_completions`] records each job's end: for a result, the hash of its
//! spec, its seed, the result's hash, and the version and git commit of the
//! scheduler that merged it.

use super::grid::Grid;
use crate::clock::Millis;
use crate::cost::CostModel;
use crate::ids::{JobId, TenantId};
use crate::job::{Job, JobState};
use riskcalc::plan::Market;
use riskcalc::plan::compile::compile_trade_uncalibrated;
use riskcalc::spec::JobSpec;
use riskgrid_security::admission::{Decision, Policies, input};
use riskgrid_security::audit::{self, Kind};
use riskgrid_security::quota::{self, JobSummary, Quota, Usage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tonic::Status;

/// Quotas, policies and the audit log; all optional (the default admits everything and records nothing).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    pub quotas: BTreeMap<TenantId, Quota>,
    /// For tenants not in `quotas`.
    pub default_quota: Quota,
    pub policies: Option<Arc<Policies>>,
    pub audit: Option<Arc<audit::Log>>,
    /// Tenants not in `quotas` are refused (the configuration has no default tenant).
    pub only_listed_tenants: bool,
    /// Accepted jobs whose end is not yet recorded.
    open: Arc<Mutex<BTreeSet<JobId>>>,
}

impl Guard {
    pub fn new(
        quotas: BTreeMap<TenantId, Quota>,
        default_quota: Quota,
        policies: Option<Arc<Policies>>,
        audit: Option<Arc<audit::Log>>,
    ) -> Guard {
        Guard { quotas, default_quota, policies, audit, only_listed_tenants: false, open: Arc::default() }
    }

    pub fn quota(&self, tenant: &TenantId) -> &Quota {
        self.quotas.get(tenant).unwrap_or(&self.default_quota)
    }

    /// Appends a record to the audit log, if there is one (for policy and
    /// capacity changes, too). An audit log that cannot be written is UNAVAILABLE.
    pub fn record(&self, kind: Kind, actor: &str, details: Value) -> Result<(), Status> {
        match &self.audit {
            None => Ok(()),
            Some(log) => log.record(kind, actor, details).map(|_| ()).map_err(|e| {
                tracing::error!("{e}");
                Status::unavailable(format!("audit log: {e}"))
            }),
        }
    }

    /// Quotas, then policies; the decision is audited either way.
    pub fn admit(&self, ask: &Ask<'_>, usage: &Usage, now: Millis) -> Result<(), Status> {
        let tenant = ask.tenant.0.as_str();
        let mut details = json!({
            "tenant": tenant,
            "client_request_id": ask.request_id,
            "spec_sha256": ask.spec_sha256,
            "job": ask.job,
            "usage": usage,
        });
        if let Some(p) = &self.policies {
            details["policy_sha256"] = Value::from(p.digest());
        }
        let unlisted = self.only_listed_tenants && !self.quotas.contains_key(ask.tenant);
        let refusal = if unlisted {
            let msg = format!("tenant {tenant} is not configured on this scheduler");
            Some(("tenant", vec![msg.clone()], Status::permission_denied(msg)))
        } else {
            None
        };
        let refusal = if refusal.is_some() {
            refusal
        } else {
            match quota::check(tenant, self.quota(ask.tenant), ask.job, usage) {
                Err(e) => Some(("quota", vec![e.to_string()], Status::resource_exhausted(e.to_string()))),
                Ok(()) => match &self.policies {
                    None => None,
                    Some(p) => match p.evaluate(&input(tenant, ask.job, usage, now as i64)) {
                        Ok(Decision::Allowed) => None,
                        Ok(Decision::Denied(msgs)) => {
                            let status = Status::permission_denied(format!("admission denied: {}", msgs.join("; ")));
                            Some(("policy", msgs, status))
                        }
                        Err(e) => {
                            // Fail closed: a policy that cannot be evaluated admits nothing.
                            let msg = format!("admission policy error: {e}");
                            Some(("policy_error", vec![msg.clone()], Status::internal(msg)))
                        }
                    },
                },
            }
        };
        match refusal {
            None => {
                details["decision"] = Value::from("allow");
                self.record(Kind::Admission, ask.actor, details)
            }
            Some((by, reasons, status)) => {
                details["decision"] = Value::from("deny");
                details["denied_by"] = Value::from(by);
                details["reasons"] = Value::from(reasons);
                self.record(Kind::Admission, ask.actor, details)?;
                tracing::info!(tenant, reason = status.message(), "submission refused");
                Err(status)
            }
        }
    }

    /// Remembers an accepted job so that its end gets recorded.
    pub fn opened(&self, job: JobId) {
        if self.audit.is_some() {
            self.open.lock().unwrap_or_else(PoisonError::into_inner).insert(job);
        }
    }
}

impl Guard {
    /// Whether admission would admit everything and record nothing (then it is skipped).
    fn is_inert(&self) -> bool {
        self.policies.is_none()
            && self.audit.is_none()
            && !self.only_listed_tenants
            && self.default_quota == Quota::default()
            && self.quotas.values().all(|q| *q == Quota::default())
    }
}

/// Admission of a parsed, validated submission, before anything is stored.
/// A retry of an already accepted request (same tenant and request id) is
/// not judged again: the scheduler hands back the original job.
pub fn admit_submission(
    grid: &Grid,
    tenant: &TenantId,
    caller: Option<&riskgrid_security::Identity>,
    request_id: &str,
    spec: &JobSpec,
    priority: i32,
    deadline_unix_ms: Option<u64>,
) -> Result<(), Status> {
    let guard = &grid.guard;
    if guard.is_inert() {
        return Ok(());
    }
    let (usage, cost) = {
        let g = grid.lock();
        if g.sched.job_for_request(tenant, request_id).is_some() {
            return Ok(());
        }
        let u = g.sched.tenant_usage(tenant);
        let usage = Usage { queued_jobs: u.map_or(0, |u| u.jobs), cores_in_use: u.map_or(0, |u| u.leases) };
        (usage, *g.sched.cost_model())
    };
    let job = summarize(spec, priority, deadline_unix_ms, &cost);
    let sha = super::grid::SpecBlob::of(spec, None).sha256;
    let actor = caller.map_or_else(|| "anonymous".to_owned(), ToString::to_string);
    let ask = Ask { tenant, actor: &actor, request_id, spec_sha256: &sha, job: &job };
    guard.admit(&ask, &usage, grid.now())
}

/// A submission as admission sees it.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    pub tenant: &'a TenantId,
    /// Who asked (the SPIFFE id, or `anonymous` without TLS).
    pub actor: &'a str,
    pub request_id: &'a str,
    pub spec_sha256: &'a str,
    pub job: &'a JobSummary,
}

/// What a (validated) job asks for. The core-second estimate covers the
/// pricing paths (risk scenarios are not included), from the uncalibrated
/// plan of each trade and the scheduler's calibrated throughput.
pub fn summarize(spec: &JobSpec, priority: i32, deadline_unix_ms: Option<u64>, cost: &CostModel) -> JobSummary {
    let market = Market::from_spec(spec);
    let a = &spec.analysis;
    let per_path: u64 = spec
        .portfolio
        .iter()
        .map(|t| {
            let c = compile_trade_uncalibrated(t, &market, &a.greeks, &a.bumps);
            u64::from(c.plan.steps.max(1)) * u64::from(c.plan.dims_per_step().max(1)) * c.plan.n_states().max(1) as u64
        })
        .fold(0u64, u64::saturating_add);
    let instruments: BTreeSet<String> = spec.portfolio.iter().map(|t| t.instrument.kind_name().to_owned()).collect();
    JobSummary {
        instruments: instruments.into_iter().collect(),
        trades: spec.portfolio.len(),
        paths: a.paths,
        priority,
        deadline_unix_ms: deadline_unix_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX)),
        estimated_core_seconds: cost.seconds(per_path.saturating_mul(a.paths)),
    }
}

/// The audit record of a job that ended.
pub fn completion(job: &Job, spec_sha256: &str) -> Value {
    let mut details = json!({
        "job": job.id().to_string(),
        "tenant": job.tenant().0,
        "state": job.state().name(),
        "spec_sha256": spec_sha256,
        "seed": job.spec().seed,
        "riskgrid_version": riskgrid_security::build::VERSION,
        "git_commit": riskgrid_security::build::GIT_COMMIT,
    });
    match job.state() {
        JobState::Succeeded { result, .. } => {
            let bytes = serde_json::to_vec(&**result).unwrap_or_default();
            details["result_sha256"] = Value::from(riskgrid_security::audit::hex(&Sha256::digest(bytes)));
            details["paths_used"] = Value::from(result.paths_used);
            details["stopped_early"] = Value::from(result.stopped_early);
        }
        JobState::Failed { reason, .. } => details["reason"] = Value::from(reason.as_str()),
        _ => {}
    }
    details
}

/// Records the end of every opened job, shortly after it ends.
pub async fn audit_completions(grid: Arc<Grid>) {
    let mut changes = grid.subscribe();
    loop {
        if changes.changed().await.is_err() {
            return;
        }
        // Several changes in a burst are looked at once.
        tokio::time::sleep(Duration::from_millis(50)).await;
        changes.borrow_and_update();
        let open: Vec<JobId> = grid.guard.open.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect();
        let mut ended = Vec::new();
        {
            let mut g = grid.lock();
            for id in open {
                let Some(job) = g.sched.job(id) else {
                    ended.push((id, None));
                    continue;
                };
                if job.state().is_terminal() {
                    let sha = g.sha_of(id).unwrap_or_default();
                    let job = g.sched.job(id).map(|j| completion(j, &sha));
                    ended.push((id, job));
                }
            }
        }
        for (id, details) in ended {
            if let Some(details) = details
                && grid.guard.record(Kind::JobCompleted, "scheduler", details).is_err()
            {
                continue; // Retried at the next change.
            }
            grid.guard.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        }
    }
}
