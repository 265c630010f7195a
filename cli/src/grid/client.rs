//! `riskgrid submit`, `watch`, `result`, `cancel` and `jobs`: a JobService client.

use super::{block_on, status_failure};
use crate::exit::Failure;
use crate::run::{JobInfo, RunOutput};
use crate::table;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::job_service_client::JobServiceClient;
use riskgrid_scheduler::grpc::convert;
use std::path::PathBuf;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// Where the scheduler is.
#[derive(Debug, Clone, clap::Args)]
pub struct Connect {
    /// The scheduler's URL.
    #[arg(long, default_value = "http://127.0.0.1:7878", env = "RISKGRID_SCHEDULER")]
    pub scheduler: String,
    #[command(flatten)]
    pub tls: super::tls::ClientTlsArgs,
}

pub async fn connect(c: &Connect) -> Result<JobServiceClient<Channel>, Failure> {
    Ok(JobServiceClient::new(channel(c).await?))
}

/// A channel to the scheduler, with TLS when configured (any service's client).
pub async fn channel(c: &Connect) -> Result<Channel, Failure> {
    let tls = c.tls.load()?;
    let url = riskgrid_scheduler::grpc::tls::scheme_for(&c.scheduler, tls.is_some());
    let mut endpoint = tonic::transport::Endpoint::from_shared(url)
        .map_err(|e| Failure::Input(format!("--scheduler {}: {e}", c.scheduler)))?
        .connect_timeout(Duration::from_secs(5));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| Failure::Input(format!("TLS settings: {e}")))?;
    }
    let connecting = endpoint.connect_with_connector(riskgrid_proto::transport::WriteOnFlushConnector);
    Ok(connecting.await.with_context(|| format!("cannot reach the scheduler at {}", c.scheduler))?)
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// Job file (.yaml, .yml or .json), sent as is: the scheduler validates it.
    pub file: PathBuf,
    #[command(flatten)]
    pub connect: Connect,
    /// Tenant the job is accounted to (default: `default`).
    #[arg(long, default_value = "")]
    pub tenant: String,
    /// Priority within the tenant's share, -100 to 100.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub priority: i32,
    /// Idempotency key: resubmitting with the same id returns the same job (default: a fresh one).
    #[arg(long)]
    pub request_id: Option<String>,
    /// When the result is needed, from now: 90s, 45m, 2h. Drives burst pre-scaling
    /// (see `riskgrid capacity plan` for what a deadline costs).
    #[arg(long, value_parser = crate::capacity::parse_duration)]
    pub deadline: Option<Duration>,
    /// Follow the job to its end and print the result.
    #[arg(long)]
    pub watch: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The historical scenario file a job file refers to, read from next to the
/// job file (the scheduler cannot read the client's paths); empty if the job
/// has no historical scenarios or does not parse (the scheduler then says why).
pub fn historical_csv_for(file: &std::path::Path, bytes: &[u8]) -> Result<Vec<u8>, Failure> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(Vec::new()) };
    let Ok(spec) = riskcalc::spec::parse_named(&file.to_string_lossy(), text) else { return Ok(Vec::new()) };
    match spec.historical_file_path(file) {
        Some(csv) => std::fs::read(&csv).map_err(|e| {
            Failure::Input(format!("analysis.risk.scenarios.historical.file: cannot read `{}`: {e}", csv.display()))
        }),
        None => Ok(Vec::new()),
    }
}

fn fresh_request_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("cli-{}-{nanos:x}", std::process::id())
}

pub fn submit(args: SubmitArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| Failure::Input(format!("cannot read job file `{}`: {e}", args.file.display())))?;
    let historical_csv = historical_csv_for(&args.file, &bytes)?;
    let is_json = args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let spec = if is_json {
        pb::submit_job_request::Spec::JobJson(bytes)
    } else {
        pb::submit_job_request::Spec::JobYaml(bytes)
    };
    let request = pb::SubmitJobRequest {
        client_request_id: args.request_id.clone().unwrap_or_else(fresh_request_id),
        spec: Some(spec),
        historical_csv,
        priority: args.priority,
        tenant: args.tenant.clone(),
        deadline_unix_ms: args.deadline.map_or(0, |d| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (now + d).as_millis() as i64
        }),
    };
    block_on(1, async move {
        let mut client = connect(&args.connect).await?;
        if args.watch {
            // One call: the submission's answer, then the job's events.
            let request = pb::SubmitAndWatchRequest { submit: Some(request), min_progress_interval_ms: 0 };
            let mut events = client.submit_and_watch(request).await.map_err(status_failure)?.into_inner();
            let r = match events.next().await.transpose().map_err(status_failure)?.and_then(|e| e.event) {
                Some(pb::job_event::Event::Submitted(r)) => r,
                other => {
                    return Err(Failure::Other(anyhow::anyhow!(
                        "the scheduler answered {other:?}, not the submission"
                    )));
                }
            };
            if !args.json {
                eprintln!("{} {}", r.job_id, if r.created { "submitted" } else { "(already submitted)" });
            }
            follow_events(events, &r.job_id, args.quiet).await?;
            return print_result(&mut client, &r.job_id, args.json).await;
        }
        let r = client.submit_job(request).await.map_err(status_failure)?.into_inner();
        if args.json {
            let state = pb::JobState::try_from(r.state).map_or("unknown", |s| state_name(s));
            let out = serde_json::json!({
                "job_id": r.job_id, "created": r.created, "spec_sha256": r.spec_sha256, "state": state,
            });
            println!("{}", serde_json::to_string_pretty(&out).context("serialising")?);
        } else {
            println!("{}", r.job_id);
        }
        Ok(())
    })
}

fn state_name(s: pb::JobState) -> &'static str {
    match s {
        pb::JobState::Unspecified => "unspecified",
        pb::JobState::Queued => "queued",
        pb::JobState::Running => "running",
        pb::JobState::Succeeded => "succeeded",
        pb::JobState::Failed => "failed",
        pb::JobState::Cancelled => "cancelled",
    }
}

fn state_of(i: i32) -> &'static str {
    pb::JobState::try_from(i).map_or("unknown", state_name)
}

#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// The job id (e.g. job-7).
    pub job: String,
    #[command(flatten)]
    pub connect: Connect,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Follows a job's events with a progress bar until it ends; fails unless it succeeded.
pub async fn follow(client: &mut JobServiceClient<Channel>, job: &str, quiet: bool) -> Result<(), Failure> {
    let request = pb::WatchJobRequest { job_id: job.to_owned(), min_progress_interval_ms: 0 };
    let events = client.watch_job(request).await.map_err(status_failure)?.into_inner();
    follow_events(events, job, quiet).await
}

/// [`follow`] on a stream already open (WatchJob, or SubmitAndWatch after its first event).
async fn follow_events(mut events: tonic::Streaming<pb::JobEvent>, job: &str, quiet: bool) -> Result<(), Failure> {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(1000) };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(job.to_owned());
    let mut last_state = pb::JobState::Unspecified;
    let mut reason = String::new();
    while let Some(event) = events.next().await {
        let event = event.map_err(status_failure)?;
        match event.event {
            Some(pb::job_event::Event::StateChange(s)) => {
                last_state = pb::JobState::try_from(s.state).unwrap_or(pb::JobState::Unspecified);
                reason = s.reason;
                bar.set_prefix(format!("{job} {}", state_name(last_state)));
            }
            Some(pb::job_event::Event::Progress(p)) => {
                bar.set_position((p.percent * 10.0).round() as u64);
                let value = p.portfolio.as_ref().and_then(|e| e.estimate.map(|x| (x.value, e.ci_half_width)));
                let eta = p.eta_ms.map_or(String::new(), |ms| format!(" ETA {}", fmt_ms(ms)));
                let value = value.map_or(String::new(), |(v, ci)| format!("value {v:.6} ± {ci:.6} (95% CI)"));
                bar.set_message(format!("{value}{eta}"));
            }
            Some(pb::job_event::Event::Result(_) | pb::job_event::Event::Submitted(_)) | None => {}
        }
    }
    bar.finish_and_clear();
    match last_state {
        pb::JobState::Succeeded => Ok(()),
        pb::JobState::Failed => Err(Failure::Other(anyhow::anyhow!("{job} failed: {reason}"))),
        pb::JobState::Cancelled => Err(Failure::Other(anyhow::anyhow!("{job} was cancelled"))),
        s => Err(Failure::Other(anyhow::anyhow!("lost the watch of {job} while it was {}", state_name(s)))),
    }
}

fn fmt_ms(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s / 60 % 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

/// Prints a job's result: JSON in `riskgrid run --json`'s shape, or the same tables.
async fn print_result(client: &mut JobServiceClient<Channel>, job: &str, json: bool) -> Result<(), Failure> {
    let r = client.get_result(pb::GetResultRequest { job_id: job.to_owned() }).await.map_err(status_failure)?;
    let result = r.into_inner().result.unwrap_or_default();
    let info = client.get_job(pb::GetJobRequest { job_id: job.to_owned() }).await.map_err(status_failure)?;
    let name = info.into_inner().job.map(|j| j.name).filter(|n| !n.is_empty());
    let output = RunOutput {
        job: JobInfo {
            name,
            seed: result.seed,
            spec_sha256: result.spec_sha256.clone(),
            riskgrid_version: env!("CARGO_PKG_VERSION"),
            isa: "grid",
            threads: 0,
        },
        pricing: convert::pricing_back(&result.pricing.clone().unwrap_or_default()),
        risk: result.risk.as_ref().map(convert::risk_back),
        seconds: result.elapsed_ms as f64 / 1000.0,
    };
    if json {
        let out = GridOutput {
            job: GridJob { job_id: job, stopped_early: result.stopped_early, info: &output.job },
            pricing: &output.pricing,
            risk: output.risk.as_ref(),
            seconds: output.seconds,
        };
        println!("{}", serde_json::to_string_pretty(&out).context("serialising the result")?);
    } else {
        print!("{}", table::render(&output));
    }
    Ok(())
}

/// `result --json`: `run --json`'s shape, plus the job id and whether it stopped early.
#[derive(Debug, serde::Serialize)]
struct GridOutput<'a> {
    job: GridJob<'a>,
    pricing: &'a riskcalc::engine::PricingReport,
    risk: Option<&'a riskcalc::risk::RiskReport>,
    seconds: f64,
}

#[derive(Debug, serde::Serialize)]
struct GridJob<'a> {
    job_id: &'a str,
    stopped_early: bool,
    #[serde(flatten)]
    info: &'a JobInfo,
}

pub fn watch(args: JobArgs) -> Result<(), Failure> {
    block_on(1, async move {
        let mut client = connect(&args.connect).await?;
        follow(&mut client, &args.job, args.quiet).await?;
        print_result(&mut client, &args.job, args.json).await
    })
}

pub fn result(args: JobArgs) -> Result<(), Failure> {
    block_on(1, async move {
        let mut client = connect(&args.connect).await?;
        print_result(&mut client, &args.job, args.json).await
    })
}

pub fn cancel(args: JobArgs) -> Result<(), Failure> {
    block_on(1, async move {
        let mut client = connect(&args.connect).await?;
        let request = pb::CancelJobRequest { job_id: args.job.clone(), reason: "riskgrid cancel".into() };
        let r = client.cancel_job(request).await.map_err(status_failure)?.into_inner();
        if args.json {
            let out = serde_json::json!({"job_id": args.job, "cancelled": r.cancelled, "state": state_of(r.state)});
            println!("{}", serde_json::to_string_pretty(&out).context("serialising")?);
        } else if r.cancelled {
            println!("{} cancelled", args.job);
        } else {
            println!("{} had already ended ({})", args.job, state_of(r.state));
        }
        Ok(())
    })
}

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub connect: Connect,
    /// Whose jobs (default: `default`).
    #[arg(long, default_value = "")]
    pub tenant: String,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn jobs(args: JobsArgs) -> Result<(), Failure> {
    block_on(1, async move {
        let mut client = connect(&args.connect).await?;
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let request = pb::ListJobsRequest {
                tenant: args.tenant.clone(),
                states: Vec::new(),
                page_size: 1000,
                page_token: token,
            };
            let r = client.list_jobs(request).await.map_err(status_failure)?.into_inner();
            all.extend(r.jobs);
            if r.next_page_token.is_empty() {
                break;
            }
            token = r.next_page_token;
        }
        if args.json {
            let rows: Vec<serde_json::Value> = all
                .iter()
                .map(|j| {
                    serde_json::json!({
                        "job_id": j.job_id, "tenant": j.tenant, "name": j.name, "state": state_of(j.state),
                        "priority": j.priority, "percent": j.progress.as_ref().map_or(0.0, |p| p.percent),
                        "submitted_unix_ms": j.submitted_unix_ms, "failure_reason": j.failure_reason,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows).context("serialising")?);
        } else {
            println!("{:<12} {:<10} {:>7}  name", "job", "state", "done");
            for j in &all {
                let pct = j.progress.as_ref().map_or(0.0, |p| p.percent);
                println!("{:<12} {:<10} {:>6.1}%  {}", j.job_id, state_of(j.state), pct, j.name);
            }
        }
        Ok(())
    })
}
