//! `riskgrid bench dispatch`: the grid's dispatch figures, as issue #3 defines them.
//!
//! A scheduler and two single-threaded worker processes (this binary, via
//! `current_exe`) on loopback; the figures are measured end to end through
//! the real gRPC path (JobService submit + watch, WorkerService lease/report).
//! Each cluster's scheduler is started with `--initial-throughput 1`, so its
//! planner makes every block of a job submitted before any completion
//! calibrates the model its own task. Three clusters: the tiny-task job and the
//! round trips run on the first (the tiny job first); the round trips again on
//! one with `--db`; the ~5 ms tasks on a fresh one (a model calibrated on
//! 64-path blocks would pack the ~5 ms blocks several to a task), whose wall time
//! is held against the same blocks computed in-process on as many threads.

mod cluster;
mod in_process;

use crate::bench::Figure;
use crate::exit::Failure;
use crate::grid::block_on;
use anyhow::Context;
use cluster::{Cluster, ClusterUsage};
use in_process::{block_size_for, in_process_seconds, queued_memory_mib};
use riskcalc::kernel::Isa;
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::job_service_client::JobServiceClient;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

const WORKERS: usize = 2;
/// 1 GB (10^9 bytes) in MiB, the memory bound.
const GB_IN_MIB: f64 = 1e9 / 1_048_576.0;

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Tiny tasks in the throughput figure (default 20,000; 500 with --quick).
    #[arg(long)]
    pub tasks: Option<u64>,
    /// Sequential single-block jobs in the round-trip figure (default 200; 30 with --quick).
    #[arg(long)]
    pub round_trips: Option<usize>,
    /// Smaller sizes everywhere (a smoke run; figures are noisier, the 1M-task memory figure is extrapolated).
    #[arg(long)]
    pub quick: bool,
    /// Measure only these figures (comma-separated; default: all), e.g. `--only round-trips`
    /// to profile one path in isolation.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Where the processes run: `pinned` (the default) puts the scheduler, the bench's
    /// client and worker 0 on CPU 0 and worker i on CPU i (`--cpus`), as a latency-tuned
    /// grid pins one engine per core; `free` leaves them wherever the OS places them.
    #[arg(long, value_enum, default_value_t = Layout::Pinned)]
    pub layout: Layout,
}

/// How the bench places its processes on the machine's CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Scheduler and client on CPU 0, worker i on CPU i mod the CPUs there are.
    Pinned,
    /// No pinning.
    Free,
}

impl Layout {
    /// The CPU each process is pinned to: the scheduler's (and the client's), then each worker's.
    fn cpus(self) -> Result<Option<(usize, Vec<usize>)>, Failure> {
        if self == Layout::Free {
            return Ok(None);
        }
        let allowed = crate::grid::affinity::allowed().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
        let cpus = allowed.cpus();
        let first = *cpus.first().ok_or_else(|| Failure::Other(anyhow::anyhow!("no CPU to run on")))?;
        Ok(Some((first, (0..WORKERS).map(|i| cpus[i % cpus.len()]).collect())))
    }

    fn describe(self) -> &'static str {
        match self {
            Layout::Pinned => "scheduler, client and worker 0 pinned to the first CPU, worker i to the i-th",
            Layout::Free => "processes placed by the OS",
        }
    }
}

/// The bench's parts, each giving one or more figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// N tiny tasks end to end (tasks/s).
    Tiny,
    /// Sequential single-block jobs, YAML and JSON, the one-call floor (p50, p99), and the
    /// same jobs with the SQLite store.
    RoundTrips,
    /// 2,000 tasks of ~5 ms CPU on the two workers (ideal / wall).
    Efficiency,
    /// Scheduler memory with 1M queued tasks.
    Memory,
}

#[derive(Debug, Serialize)]
struct DispatchOutput {
    cpu: String,
    cores: usize,
    workers: usize,
    worker_threads: usize,
    store: &'static str,
    layout: Layout,
    figures: Vec<Figure>,
    /// What each cluster (scheduler + workers) used.
    clusters: Vec<ClusterUsage>,
}

fn european(paths: u64, block_size: u64) -> String {
    format!(
        "seed: 1
market: {{rate: 0.03, underlyings: [{{id: A, spot: 100, dividend_yield: 0.01, vol: 0.2}}]}}
portfolio: [{{id: call, instrument: {{type: european, underlying: A, option: call, strike: 100, maturity: 1}}}}]
analysis: {{paths: {paths}, block_size: {block_size}}}
"
    )
}

/// [`european`], parsed.
fn european_spec(paths: u64, block_size: u64) -> Result<riskcalc::spec::JobSpec, Failure> {
    riskcalc::spec::parse_yaml(&european(paths, block_size))
        .map_err(|e| Failure::Other(anyhow::anyhow!("bench job: {e}")))
}

static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// This process's id, read once (`std::process::id` is a system call, and a round trip is timed).
static BENCH_PID: std::sync::LazyLock<u32> = std::sync::LazyLock::new(std::process::id);

/// Submits `yaml` and follows the job (JobService.SubmitAndWatch: one call) until its final
/// result arrives; returns the job id and the time from the call to the result.
async fn submit_and_wait(client: &mut JobServiceClient<Channel>, yaml: &str) -> Result<(String, Duration), Failure> {
    submit_spec_and_wait(client, pb::submit_job_request::Spec::JobYaml(yaml.as_bytes().to_vec())).await
}

/// [`submit_and_wait`] for a job file in either format.
async fn submit_spec_and_wait(
    client: &mut JobServiceClient<Channel>,
    spec: pb::submit_job_request::Spec,
) -> Result<(String, Duration), Failure> {
    let started = Instant::now();
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let request = pb::SubmitJobRequest {
        client_request_id: format!("bench-{}-{serial}", *BENCH_PID),
        spec: Some(spec),
        historical_csv: Vec::new(),
        priority: 0,
        tenant: String::new(),
        deadline_unix_ms: 0,
    };
    let request = pb::SubmitAndWatchRequest { submit: Some(request), min_progress_interval_ms: 1000 };
    let mut events = client.submit_and_watch(request).await.map_err(crate::grid::status_failure)?.into_inner();
    let mut job_id = String::from("the job");
    let mut result_after = None;
    // Read to the end of the call, trailers included, although the result is what is timed: a
    // client that drops the call at the result resets the stream while the trailers are on their
    // way, and h2 answers 1,024 such resets on one connection with GOAWAY (ENHANCE_YOUR_CALM).
    while let Some(event) = events.next().await {
        match event.map_err(crate::grid::status_failure)?.event {
            Some(pb::job_event::Event::Submitted(r)) => job_id = r.job_id,
            Some(pb::job_event::Event::Result(_)) => result_after = Some(started.elapsed()),
            Some(pb::job_event::Event::StateChange(s))
                if s.state == pb::JobState::Failed as i32 || s.state == pb::JobState::Cancelled as i32 =>
            {
                return Err(Failure::Other(anyhow::anyhow!("{job_id} ended without a result: {}", s.reason)));
            }
            _ => {}
        }
    }
    match result_after {
        Some(after) => Ok((job_id, after)),
        None => Err(Failure::Other(anyhow::anyhow!("the watch of {job_id} ended before its result"))),
    }
}

fn fmt_target(t: f64) -> String {
    if t >= 100.0 { format!("{t:.0}") } else { format!("{t}") }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

const FIGURE_ORDER: [&str; 8] = [
    "tiny_tasks_per_second",
    "round_trip_p50_ms",
    "round_trip_p99_ms",
    "round_trip_json_p50_ms",
    "unary_call_p50_ms",
    "round_trip_durable_p50_ms",
    "efficiency_5ms_tasks",
    "scheduler_mib_per_1m_queued_tasks",
];

/// The round-trip part's timings, in seconds.
struct RoundTrips {
    yaml: Vec<f64>,
    json: Vec<f64>,
    unary: Vec<f64>,
}

/// (2) sequential single-block jobs, submit → final result, as YAML and as JSON, then the
/// floor under them: one unary call (GetJob) on the same connection.
async fn measure_round_trips(client: &mut JobServiceClient<Channel>, n: usize) -> Result<RoundTrips, Failure> {
    let mut yaml = Vec::with_capacity(n);
    let mut last_job = String::new();
    for _ in 0..n {
        let (job, took) = submit_and_wait(client, &european(64, 64)).await?;
        yaml.push(took.as_secs_f64());
        last_job = job;
    }
    // The same jobs as JSON, what a program (the Python client) sends: the scheduler
    // parses JSON several times faster than YAML.
    let spec = european_spec(64, 64)?;
    let encoded = serde_json::to_vec(&spec).context("serialising the bench job")?;
    let mut json = Vec::with_capacity(n);
    for _ in 0..n {
        let spec = pb::submit_job_request::Spec::JobJson(encoded.clone());
        json.push(submit_spec_and_wait(client, spec).await?.1.as_secs_f64());
    }
    let mut unary = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        client.get_job(pb::GetJobRequest { job_id: last_job.clone() }).await.map_err(crate::grid::status_failure)?;
        unary.push(t.elapsed().as_secs_f64());
    }
    Ok(RoundTrips { yaml, json, unary })
}

impl RoundTrips {
    fn figures(mut self, n: usize) -> Vec<Figure> {
        for v in [&mut self.yaml, &mut self.json, &mut self.unary] {
            v.sort_by(f64::total_cmp);
        }
        let (p50, p99) = (percentile(&self.yaml, 0.5) * 1e3, percentile(&self.yaml, 0.99) * 1e3);
        let work = format!("{n} sequential single-block jobs, submit → final result");
        vec![
            Figure {
                name: "round_trip_p50_ms",
                value: p50,
                unit: "ms",
                target: Some(0.3),
                meets_target: Some(p50 <= 0.3),
                median_seconds: None,
                work: work.clone(),
            },
            Figure {
                name: "round_trip_p99_ms",
                value: p99,
                unit: "ms",
                target: None,
                meets_target: None,
                median_seconds: None,
                work,
            },
            Figure {
                name: "round_trip_json_p50_ms",
                value: percentile(&self.json, 0.5) * 1e3,
                unit: "ms",
                target: None,
                meets_target: None,
                median_seconds: None,
                work: format!("{n} sequential single-block jobs sent as JSON (the figure above sends YAML)"),
            },
            Figure {
                name: "unary_call_p50_ms",
                value: percentile(&self.unary, 0.5) * 1e3,
                unit: "ms",
                target: None,
                meets_target: None,
                median_seconds: None,
                work: format!("{n} sequential GetJob calls on the same connection (the floor of one call)"),
            },
        ]
    }
}

fn tiny_figure(tasks: u64, seconds: f64) -> Figure {
    let rate = tasks as f64 / seconds;
    Figure {
        name: "tiny_tasks_per_second",
        value: rate,
        unit: "tasks/s",
        target: Some(50_000.0),
        meets_target: Some(rate >= 50_000.0),
        median_seconds: None,
        work: format!("1 job of {tasks} one-block tasks (European, 64 paths each) in {seconds:.3} s"),
    }
}

fn memory_figure(mib_per_1m: f64, tasks: u64, seconds: f64) -> Figure {
    Figure {
        name: "scheduler_mib_per_1m_queued_tasks",
        value: mib_per_1m,
        unit: "MiB",
        target: Some(GB_IN_MIB),
        meets_target: Some(mib_per_1m < GB_IN_MIB),
        median_seconds: None,
        work: format!(
            "RSS growth of an in-process Scheduler (no store: what the process itself holds, with or without --db) with 1 job of {tasks} queued tasks{} ({seconds:.2} s to plan)",
            if tasks == 1_000_000 { "" } else { ", scaled to 1M" }
        ),
    }
}

pub fn dispatch(args: DispatchArgs) -> Result<(), Failure> {
    let isa = Isa::detect();
    let wanted = |part: Part| args.only.is_empty() || args.only.contains(&part);
    let tiny_tasks = args.tasks.unwrap_or(if args.quick { 500 } else { 20_000 }).max(1);
    let round_trips: usize = args.round_trips.unwrap_or(if args.quick { 30 } else { 200 }).max(1);
    let cpu_tasks: u64 = if args.quick { 100 } else { 2_000 };
    let memory_tasks: u64 = if args.quick { 100_000 } else { 1_000_000 };
    let mut figures = Vec::new();
    let mut clusters = Vec::new();

    // (4) first, while this process is small: an in-process scheduler with `memory_tasks` queued tasks.
    if wanted(Part::Memory) {
        let (memory_mib, memory_seconds) = queued_memory_mib(memory_tasks)?;
        figures.push(memory_figure(memory_mib * 1_000_000.0 / memory_tasks as f64, memory_tasks, memory_seconds));
    }

    // The ~5 ms task, and the efficiency job computed in-process before the cluster runs.
    let efficiency_block = if wanted(Part::Efficiency) {
        let cpu_block = block_size_for(5e-3, isa)?;
        Some((cpu_block, in_process_seconds(cpu_block, cpu_tasks, isa)?))
    } else {
        None
    };

    // Cluster 1: (1) the tiny tasks, then (2) the round trips.
    if wanted(Part::Tiny) || wanted(Part::RoundTrips) {
        let mut cluster = Cluster::start(args.layout, false)?;
        let started = Instant::now();
        let pin = cluster.pin_client()?;
        let (tiny, trips) = block_on(1, async {
            let mut client = cluster.client().await?;
            // (1) N tiny tasks, one job, submit → final result. First, so that it is planned
            // before any completion calibrates the cost model (with `--initial-throughput 1`
            // every block is its own task; a calibrated model would pack many blocks per task).
            let tiny = if wanted(Part::Tiny) {
                Some(submit_and_wait(&mut client, &european(tiny_tasks * 64, 64)).await?.1.as_secs_f64())
            } else {
                None
            };
            let trips = if wanted(Part::RoundTrips) {
                Some(measure_round_trips(&mut client, round_trips).await?)
            } else {
                None
            };
            Ok::<_, Failure>((tiny, trips))
        })
        .map_err(|e| cluster.explain(e))?;
        drop(pin);
        let ran = match (tiny, &trips) {
            (Some(_), Some(_)) => "tiny tasks, round trips",
            (Some(_), None) => "tiny tasks",
            _ => "round trips",
        };
        clusters.push(cluster.finish(ran, started));
        if let Some(seconds) = tiny {
            figures.push(tiny_figure(tiny_tasks, seconds));
        }
        if let Some(trips) = trips {
            figures.extend(trips.figures(round_trips));
        }
    }

    // The round trip again with the SQLite store: what durability (`--db`) costs per job.
    if wanted(Part::RoundTrips) {
        let mut cluster = Cluster::start(args.layout, true)?;
        let started = Instant::now();
        let pin = cluster.pin_client()?;
        let mut durable = block_on(1, async {
            let mut client = cluster.client().await?;
            let mut times = Vec::with_capacity(round_trips);
            for _ in 0..round_trips {
                times.push(submit_and_wait(&mut client, &european(64, 64)).await?.1.as_secs_f64());
            }
            Ok::<_, Failure>(times)
        })
        .map_err(|e| cluster.explain(e))?;
        drop(pin);
        clusters.push(cluster.finish("round trips, SQLite store", started));
        durable.sort_by(f64::total_cmp);
        figures.push(Figure {
            name: "round_trip_durable_p50_ms",
            value: percentile(&durable, 0.5) * 1e3,
            unit: "ms",
            target: None,
            meets_target: None,
            median_seconds: None,
            work: format!(
                "{round_trips} sequential single-block jobs, submit → final result, with --db (SQLite, WAL, synchronous=NORMAL: each accepted job survives kill -9)"
            ),
        });
    }

    // Cluster 2: (3) `cpu_tasks` tasks of ~5 ms of CPU each, on an uncalibrated scheduler.
    if let Some((cpu_block, before)) = efficiency_block {
        let mut cluster = Cluster::start(args.layout, false)?;
        let started = Instant::now();
        let pin = cluster.pin_client()?;
        let cpu_seconds = block_on(1, async {
            let mut client = cluster.client().await?;
            let (_, took) = submit_and_wait(&mut client, &european(cpu_tasks * cpu_block, cpu_block)).await?;
            Ok::<_, Failure>(took.as_secs_f64())
        })
        .map_err(|e| cluster.explain(e))?;
        drop(pin);
        let usage = cluster.finish("~5 ms tasks", started);
        // What does not depend on the in-process ideal: the share of the cores' time the
        // workers' compute threads were on CPU (an upper bound on the efficiency).
        let compute_share = usage.worker_compute_cpu_seconds.iter().map(|c| c.unwrap_or(0.0)).sum::<f64>()
            / (cpu_seconds * WORKERS as f64);
        clusters.push(usage);
        // The VM's speed moves while the grid runs: the in-process run again afterwards,
        // and the mean of the two is the ideal.
        let after = in_process_seconds(cpu_block, cpu_tasks, isa)?;
        let ideal = (before + after) / 2.0;
        let efficiency = ideal / cpu_seconds;
        figures.push(Figure {
            name: "efficiency_5ms_tasks",
            value: efficiency,
            unit: "ideal/wall",
            target: Some(0.95),
            meets_target: Some(efficiency >= 0.95),
            median_seconds: None,
            work: format!(
                "{cpu_tasks} one-block tasks of ~{:.1} ms ({cpu_block} paths) on {WORKERS} workers: wall {cpu_seconds:.3} s; ideal {ideal:.3} s, the same blocks in-process on {WORKERS} threads (mean of {before:.3} s before and {after:.3} s after); the compute threads were on CPU {:.1}% of the cores' time",
                ideal * WORKERS as f64 / cpu_tasks as f64 * 1e3,
                compute_share * 100.0
            ),
        });
    }
    // In the order the figures have always been printed.
    let order = |f: &Figure| FIGURE_ORDER.iter().position(|n| *n == f.name).unwrap_or(usize::MAX);
    figures.sort_by_key(order);

    let output = DispatchOutput {
        cpu: crate::bench::cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        workers: WORKERS,
        worker_threads: 1,
        store: "memory",
        layout: args.layout,
        figures,
        clusters,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output).context("serialising")?);
    } else {
        println!(
            "riskgrid bench dispatch on {} ({} cores; scheduler + {} one-thread workers on loopback, {} store unless a figure says otherwise; {})",
            output.cpu,
            output.cores,
            output.workers,
            output.store,
            output.layout.describe()
        );
        for f in &output.figures {
            let target = f.target_note(fmt_target);
            println!("  {:<34} {:>12.4} {:<10} ({}){target}", f.name, f.value, f.unit, f.work);
        }
        let cpu = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.2}"));
        for c in &output.clusters {
            let workers: Vec<String> = c.worker_cpu_seconds.iter().map(|&w| cpu(w)).collect();
            let compute: Vec<String> = c.worker_compute_cpu_seconds.iter().map(|&w| cpu(w)).collect();
            println!(
                "  cluster for {}: {:.2} s wall; CPU seconds: scheduler {}, workers {} (compute threads {}); scheduler peak RSS {} MiB",
                c.ran,
                c.wall_seconds,
                cpu(c.scheduler_cpu_seconds),
                workers.join(" + "),
                compute.join(" + "),
                c.scheduler_peak_rss_mib.map_or("?".to_owned(), |r| format!("{r:.1}"))
            );
        }
    }
    Ok(())
}
