//! `riskgrid.v1.CapacityService`: ops read and change the burst policy and
//! ask for pre-submit plans. Validation names every bad field; the policy
//! takes effect at the next reconcile, which a change triggers at once.

use super::grid::Grid;
use super::jobs::parse_spec;
use super::status;
use crate::burst::Capacity;
use riskgrid_capacity::{BurstPolicy, Throughput, plan};
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::capacity_service_server::CapacityService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone)]
pub struct Admin {
    grid: Arc<Grid>,
    capacity: Capacity,
}

impl Admin {
    pub fn new(grid: Arc<Grid>, capacity: Capacity) -> Self {
        Admin { grid, capacity }
    }
}

/// Parses and validates a policy document; every problem on its own line, named by field path.
pub fn parse_policy(field: &str, bytes: &[u8], yaml: bool) -> Result<BurstPolicy, Status> {
    let text = std::str::from_utf8(bytes).map_err(|e| status::invalid(field, format!("not valid UTF-8: {e}")))?;
    let policy: BurstPolicy = if yaml {
        serde_yaml::from_str(text).map_err(|e| status::invalid(field, e))?
    } else {
        serde_json::from_str(text).map_err(|e| status::invalid(field, e))?
    };
    policy.validate().map_err(|errors| status::invalid_lines(field, errors))?;
    Ok(policy)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Status> {
    serde_json::to_string_pretty(value).map_err(|e| Status::internal(format!("cannot encode: {e}")))
}

#[tonic::async_trait]
impl CapacityService for Admin {
    async fn get_capacity(
        &self,
        _request: Request<pb::GetCapacityRequest>,
    ) -> Result<Response<pb::GetCapacityResponse>, Status> {
        let policy = self.capacity.policy();
        let last = self.capacity.last_report();
        Ok(Response::new(pb::GetCapacityResponse {
            policy_json: policy.as_ref().map(to_json).transpose()?.unwrap_or_default(),
            backend: self.capacity.backend_name().to_owned(),
            last_reconcile_json: last.as_ref().map(to_json).transpose()?.unwrap_or_default(),
            last_reconcile_unix_ms: last.map_or(0, |r| r.at_unix_ms as i64),
        }))
    }

    async fn set_policy(
        &self,
        request: Request<pb::SetPolicyRequest>,
    ) -> Result<Response<pb::SetPolicyResponse>, Status> {
        let actor = match super::auth::caller(&request) {
            Some(identity) => identity.to_string(),
            None => request.remote_addr().map_or_else(|| "unauthenticated".to_owned(), |a| a.to_string()),
        };
        let r = request.into_inner();
        use pb::set_policy_request::Policy;
        let policy = match r.policy {
            None => return Err(status::invalid("policy", "required: set policy_yaml or policy_json")),
            Some(Policy::PolicyYaml(b)) => parse_policy("policy_yaml", &b, true)?,
            Some(Policy::PolicyJson(b)) => parse_policy("policy_json", &b, false)?,
        };
        if r.reason.len() > 1024 {
            return Err(status::invalid("reason", "at most 1024 bytes"));
        }
        tracing::info!(actor = %actor, reason = %r.reason, "burst policy changed");
        // Audited before it takes effect: a change the trail cannot record is refused.
        let details = serde_json::json!({ "reason": r.reason, "policy": policy });
        self.grid.guard.record(riskgrid_security::audit::Kind::PolicyChange, &actor, details)?;
        self.capacity.set_policy(policy.clone());
        Ok(Response::new(pb::SetPolicyResponse { policy_json: to_json(&policy)? }))
    }

    async fn plan_job(&self, request: Request<pb::PlanJobRequest>) -> Result<Response<pb::PlanJobResponse>, Status> {
        let r = request.into_inner();
        use pb::plan_job_request::Spec as P;
        use pb::submit_job_request::Spec as S;
        let spec = parse_spec(r.spec.map(|s| match s {
            P::JobYaml(b) => S::JobYaml(b),
            P::JobJson(b) => S::JobJson(b),
        }))?;
        if !(r.deadline_seconds.is_finite() && r.deadline_seconds >= 0.0) {
            return Err(status::invalid("deadline_seconds", "must be a number of seconds >= 0 (0: no deadline)"));
        }
        let csv = if r.historical_csv.is_empty() {
            None
        } else {
            Some(String::from_utf8(r.historical_csv).map_err(|_| status::invalid("historical_csv", "not UTF-8"))?)
        };
        let policy = self.capacity.policy().ok_or_else(|| {
            Status::failed_precondition(
                "no burst policy is configured: start the scheduler with --burst-policy FILE or set one",
            )
        })?;
        let core_seconds =
            self.grid.lock().sched.estimate_core_seconds(&spec, csv.as_deref()).map_err(|e| status::from_error(&e))?;
        let deadline = (r.deadline_seconds > 0.0).then_some(r.deadline_seconds);
        let p = plan(core_seconds, deadline, &Throughput::default(), &policy, policy.node_lead_time_s as f64);
        Ok(Response::new(pb::PlanJobResponse { plan_json: to_json(&p)?, core_seconds }))
    }
}
