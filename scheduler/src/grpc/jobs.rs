//! `riskgrid.v1.JobService`: submit, watch, get, result, cancel and list jobs.

use super::convert;
use super::grid::Grid;
use super::status;
use super::{admission, auth, watch};
use crate::ids::JobId;
use crate::state::SubmitRequest;
use riskcalc::spec::{JobSpec, SpecErrors, parse_json, parse_yaml};
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::job_service_server::JobService;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Default and floor of `WatchJobRequest.min_progress_interval_ms`.
const DEFAULT_PROGRESS_MS: u32 = 250;
const MIN_PROGRESS_MS: u32 = 50;

/// The client-facing service.
#[derive(Debug, Clone)]
pub struct Jobs {
    grid: Arc<Grid>,
}

impl Jobs {
    pub fn new(grid: Arc<Grid>) -> Self {
        Jobs { grid }
    }
}

/// `min_progress_interval_ms` as asked, with its default and floor.
fn progress_interval(ms: u32) -> Duration {
    let ms = match ms {
        0 => DEFAULT_PROGRESS_MS,
        n => n.max(MIN_PROGRESS_MS),
    };
    Duration::from_millis(ms.into())
}

/// Decodes and validates the job file of a submission; every error names its field.
pub fn parse_spec(spec: Option<pb::submit_job_request::Spec>) -> Result<JobSpec, Status> {
    use pb::submit_job_request::Spec;
    type Parser = fn(&str) -> Result<JobSpec, SpecErrors>;
    let (field, bytes, parse): (&str, Vec<u8>, Parser) = match spec {
        None => return Err(status::invalid("spec", "required: set job_yaml or job_json")),
        Some(Spec::JobYaml(b)) => ("job_yaml", b, parse_yaml),
        Some(Spec::JobJson(b)) => ("job_json", b, parse_json),
    };
    let text = String::from_utf8(bytes).map_err(|e| status::invalid(field, format!("not valid UTF-8: {e}")))?;
    parse(&text).map_err(|errors| status::invalid_lines(field, errors))
}

fn check_request_id(id: &str) -> Result<(), Status> {
    if id.is_empty() {
        return Err(status::invalid("client_request_id", "required (e.g. a UUID)"));
    }
    if id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(status::invalid("client_request_id", "1 to 128 printable ASCII characters"));
    }
    Ok(())
}

impl Jobs {
    /// Validates, admits, stores and queues a submission (SubmitJob and SubmitAndWatch).
    async fn submit(
        &self,
        caller: Option<&riskgrid_security::Identity>,
        r: pb::SubmitJobRequest,
    ) -> Result<(JobId, pb::SubmitJobResponse), Status> {
        let tenant = auth::tenant_for(caller, &r.tenant)?;
        check_request_id(&r.client_request_id)?;
        if !(-100..=100).contains(&r.priority) {
            return Err(status::invalid("priority", format!("{} is outside -100..=100", r.priority)));
        }
        let deadline = match r.deadline_unix_ms {
            0 => None,
            d if d < 0 => return Err(status::invalid("deadline_unix_ms", format!("{d} is negative; 0 means none"))),
            d => Some(d as u64),
        };
        let spec = parse_spec(r.spec)?;
        let historical = spec
            .analysis
            .risk
            .as_ref()
            .is_some_and(|risk| matches!(risk.scenarios, riskcalc::spec::ScenarioSpec::Historical(_)));
        if !historical && !r.historical_csv.is_empty() {
            return Err(status::invalid("historical_csv", "given, but the spec uses no historical scenarios"));
        }
        let historical_csv = if historical {
            if r.historical_csv.is_empty() {
                return Err(status::invalid(
                    "historical_csv",
                    "the spec uses historical scenarios: send the file's contents with the job",
                ));
            }
            Some(String::from_utf8(r.historical_csv).map_err(|_| status::invalid("historical_csv", "not UTF-8"))?)
        } else {
            None
        };
        let (id, created, sha, state) = {
            admission::admit_submission(
                &self.grid,
                &tenant,
                caller,
                &r.client_request_id,
                &spec,
                r.priority,
                deadline,
            )?;
            let mut g = self.grid.lock();
            let before = g.sched.job_count();
            let request = SubmitRequest {
                spec,
                priority: r.priority,
                client_request_id: Some(r.client_request_id),
                historical_csv,
                deadline,
            };
            let id = g.sched.submit(&tenant, request).map_err(|e| status::from_error(&e))?;
            let created = g.sched.job_count() > before;
            let sha = g.sha_of(id)?;
            let state = g.sched.job(id).map_or(pb::JobState::Unspecified, |j| convert::state(j.state()));
            (id, created, sha, state)
        };
        if created {
            self.grid.guard.opened(id);
            self.grid.work_available();
            self.grid.changed();
            // A worker waiting for work was just woken: on a one-thread event loop,
            // let it take the task before this call answers and logs (the submitter
            // can wait a few µs; the task should not).
            tokio::task::yield_now().await;
            tracing::info!(job = %id, tenant = %tenant, "job accepted");
        }
        Ok((id, pb::SubmitJobResponse { job_id: id.to_string(), created, spec_sha256: sha, state: state as i32 }))
    }
}

#[tonic::async_trait]
impl JobService for Jobs {
    async fn submit_job(
        &self,
        request: Request<pb::SubmitJobRequest>,
    ) -> Result<Response<pb::SubmitJobResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let (_, submitted) = self.submit(caller.as_ref(), request.into_inner()).await?;
        Ok(Response::new(submitted))
    }

    async fn submit_and_watch(
        &self,
        request: Request<pb::SubmitAndWatchRequest>,
    ) -> Result<Response<Self::SubmitAndWatchStream>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let submit = r.submit.ok_or_else(|| status::invalid("submit", "required"))?;
        let (id, submitted) = self.submit(caller.as_ref(), submit).await?;
        if submitted.created {
            watch::settle(&self.grid, id).await;
        }
        let first = Some(pb::job_event::Event::Submitted(submitted));
        Ok(Response::new(watch::start(&self.grid, id, progress_interval(r.min_progress_interval_ms), first)))
    }

    type SubmitAndWatchStream = watch::Events;
    type WatchJobStream = watch::Events;

    async fn watch_job(&self, request: Request<pb::WatchJobRequest>) -> Result<Response<Self::WatchJobStream>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let id = convert::parse_job_id("job_id", &r.job_id)?;
        auth::check_visible(&self.grid, caller.as_ref(), id)?;
        // An unknown job fails the call, not the stream (a cheap look: `start` takes the snapshot).
        watch::peek(&self.grid, id)?;
        Ok(Response::new(watch::start(&self.grid, id, progress_interval(r.min_progress_interval_ms), None)))
    }

    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Result<Response<pb::GetJobResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = convert::parse_job_id("job_id", &request.into_inner().job_id)?;
        auth::check_visible(&self.grid, caller.as_ref(), id)?;
        let mut g = self.grid.lock();
        let sha = g.sha_of(id)?;
        let started = g.started.get(&id).copied();
        let job = g.sched.job(id).ok_or_else(|| status::not_found_job(id))?;
        let st = g.sched.job_status(id).map_err(|e| status::from_error(&e))?;
        let job = convert::job(job, &st, &sha, started, self.grid.now(), true);
        Ok(Response::new(pb::GetJobResponse { job: Some(job) }))
    }

    async fn get_result(
        &self,
        request: Request<pb::GetResultRequest>,
    ) -> Result<Response<pb::GetResultResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = convert::parse_job_id("job_id", &request.into_inner().job_id)?;
        auth::check_visible(&self.grid, caller.as_ref(), id)?;
        let snap = watch::snapshot(&self.grid, id)?;
        match snap.result {
            Some(result) => Ok(Response::new(pb::GetResultResponse { result: Some(result) })),
            None => {
                let state = snap.state.as_str_name().trim_start_matches("JOB_STATE_").to_ascii_lowercase();
                let why = if snap.reason.is_empty() { String::new() } else { format!(": {}", snap.reason) };
                Err(Status::failed_precondition(format!("{id} has no result: it is {state}{why}")))
            }
        }
    }

    async fn cancel_job(
        &self,
        request: Request<pb::CancelJobRequest>,
    ) -> Result<Response<pb::CancelJobResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let id = convert::parse_job_id("job_id", &r.job_id)?;
        auth::check_visible(&self.grid, caller.as_ref(), id)?;
        let (state, cancelled) = {
            let mut g = self.grid.lock();
            let job = g.sched.job(id).ok_or_else(|| status::not_found_job(id))?;
            if job.state().is_terminal() {
                (convert::state(job.state()), false)
            } else {
                let tenant = job.tenant().clone();
                g.sched.cancel(&tenant, id).map_err(|e| status::from_error(&e))?;
                let state = g.sched.job(id).map_or(pb::JobState::Cancelled, |j| convert::state(j.state()));
                (state, true)
            }
        };
        if cancelled {
            let why = if r.reason.is_empty() { String::new() } else { format!(" ({})", r.reason) };
            tracing::info!(job = %id, "job cancelled{why}");
            self.grid.changed();
            self.grid.log_ended();
        }
        Ok(Response::new(pb::CancelJobResponse { state: state as i32, cancelled }))
    }

    async fn list_jobs(&self, request: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let tenant = auth::tenant_for(caller.as_ref(), &r.tenant)?;
        let states: Vec<pb::JobState> = r
            .states
            .iter()
            .map(|&s| pb::JobState::try_from(s).map_err(|_| status::invalid("states", format!("unknown state {s}"))))
            .collect::<Result<_, _>>()?;
        let states: Vec<pb::JobState> = states.into_iter().filter(|s| *s != pb::JobState::Unspecified).collect();
        let page = match r.page_size {
            0 => 50,
            n => n.min(1000),
        } as usize;
        let below = if r.page_token.is_empty() {
            u64::MAX
        } else {
            r.page_token.parse::<u64>().map_err(|_| status::invalid("page_token", "malformed"))?
        };
        let mut g = self.grid.lock();
        let now = self.grid.now();
        let mut statuses = g.sched.list_jobs(&tenant);
        statuses.retain(|s| s.id.0 < below);
        statuses.reverse();
        let mut jobs = Vec::new();
        let mut next = String::new();
        for st in statuses {
            let Some(job) = g.sched.job(st.id) else { continue };
            if !states.is_empty() && !states.contains(&convert::state(job.state())) {
                continue;
            }
            if jobs.len() == page {
                next = (jobs.last().and_then(|j: &pb::Job| j.job_id.strip_prefix("job-")).unwrap_or("0")).to_owned();
                break;
            }
            let started = g.started.get(&st.id).copied();
            let sha = g.sha_of(st.id)?;
            let Some(job) = g.sched.job(st.id) else { continue };
            jobs.push(convert::job(job, &st, &sha, started, now, false));
        }
        Ok(Response::new(pb::ListJobsResponse { jobs, next_page_token: next }))
    }
}
