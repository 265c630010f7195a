//! `riskgrid scheduler` and `riskgrid worker`.

use super::{block_on, init_logging};
use crate::exit::Failure;
use anyhow::Context;
use riskgrid_scheduler::grpc::{
    ServeOptions, check_listen, check_listen_flag, open_scheduler, serve_with_metrics, shutdown_signal,
};
use riskgrid_scheduler::{PlannerConfig, SchedulerConfig};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// SQLite file keeping jobs and merged blocks across restarts (default: memory only).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (off by default; loopback unless
    /// --insecure-listen-anywhere; port 0 picks a free port, printed on the first line).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Allow listening beyond loopback without TLS (with --tls-* it may listen anywhere).
    #[arg(long)]
    pub insecure_listen_anywhere: bool,
    #[command(flatten)]
    pub security: super::security::SchedulerSecurityArgs,
    /// A lease lasts this long (ms) unless a heartbeat renews it.
    #[arg(long, default_value_t = 15_000)]
    pub lease_ms: u64,
    /// A worker silent this long (ms) is dropped and its tasks requeued.
    #[arg(long, default_value_t = 30_000)]
    pub worker_timeout_ms: u64,
    /// Leases of one task (first try included) before its job fails.
    #[arg(long, default_value_t = 4)]
    pub max_attempts: u32,
    /// Aim for tasks of about this many core-seconds (clamped to 0.5-5).
    #[arg(long, default_value_t = 2.0)]
    pub task_seconds: f64,
    /// Threads serving gRPC. 1 (the default) runs every connection on one
    /// event loop, which is the fastest on few cores: scheduling itself runs
    /// under one lock and takes microseconds per call.
    #[arg(long, default_value_t = 1)]
    pub io_threads: usize,
    /// Throughput assumed before workers report any (path-steps per core-second); sizes the first tasks.
    #[arg(long)]
    pub initial_throughput: Option<f64>,
    /// Forget finished jobs this many seconds after they end (default: keep them).
    #[arg(long)]
    pub retention_secs: Option<u64>,
    /// SubmitAndWatch holds its answer up to this many ms for a job expected to end within
    /// it, so that the submission and the result reach the client in one message; 0 answers
    /// at once.
    #[arg(long, default_value_t = 1)]
    pub settle_ms: u64,
    #[command(flatten)]
    pub capacity: crate::capacity::CapacityArgs,
    /// Pin this process to these CPUs (e.g. 0, 0-3 or 0,2,4-7), as `taskset -c` would:
    /// its event loop and every other thread stay on them. Hand-offs between
    /// processes pinned to one CPU skip the wake-up of an idle CPU (on a VM a trip through
    /// the hypervisor). Default: wherever the OS places them.
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<super::affinity::CpuList>,
}

pub fn scheduler(args: SchedulerArgs) -> Result<(), Failure> {
    init_logging();
    if let Some(cpus) = &args.cpus {
        super::affinity::pin_current_thread("--cpus", cpus).map_err(Failure::Input)?;
    }
    check_listen(args.listen, args.insecure_listen_anywhere || args.security.tls_on()).map_err(Failure::Input)?;
    if let Some(m) = args.metrics_listen {
        check_listen_flag("--metrics-listen", m, args.insecure_listen_anywhere).map_err(Failure::Input)?;
    }
    let options = ServeOptions {
        config: SchedulerConfig {
            lease_ms: args.lease_ms.max(100),
            worker_timeout_ms: args.worker_timeout_ms.max(args.lease_ms),
            max_attempts: args.max_attempts.max(1),
            planner: PlannerConfig { target_seconds: args.task_seconds },
            retention_ms: args.retention_secs.map(|s| s * 1000),
            settle_ms: args.settle_ms,
            initial_throughput: args.initial_throughput.unwrap_or(riskgrid_scheduler::CostModel::DEFAULT_THROUGHPUT),
            ..SchedulerConfig::default()
        },
        db: args.db.clone(),
        ..ServeOptions::default()
    };
    let mut options = options;
    args.security.configure(&mut options)?;
    block_on(args.io_threads, async move {
        let scheduler = open_scheduler(&options).map_err(|e| anyhow::anyhow!("opening the job store: {e}"))?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("--listen {}: cannot bind", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let mut options = options;
        options.capacity = args.capacity.build(addr, args.security.tls_on()).await?;
        let metrics = match args.metrics_listen {
            Some(m) => Some(
                tokio::net::TcpListener::bind(m).await.with_context(|| format!("--metrics-listen {m}: cannot bind"))?,
            ),
            None => None,
        };
        let db = args.db.as_ref().map_or("memory only".to_owned(), |p| p.display().to_string());
        // One line only: tests (and scripts) read it and may close the pipe afterwards.
        let scrape = match &metrics {
            Some(l) => format!("; metrics: http://{}/metrics", l.local_addr().context("reading the metrics address")?),
            None => String::new(),
        };
        println!("riskgrid scheduler listening on {addr} (store: {db}{scrape})");
        let _ = std::io::stdout().flush();
        serve_with_metrics(listener, metrics, scheduler, &options, shutdown_signal()).await.context("serving")?;
        Ok(())
    })
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The scheduler's URL.
    #[arg(long, default_value = "http://127.0.0.1:7878", env = "RISKGRID_SCHEDULER")]
    pub scheduler: String,
    /// Compute threads (default: one per CPU this process may use). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Name shown in the scheduler's logs (default: the host's address).
    #[arg(long, default_value = "")]
    pub name: String,
    /// Node label KEY=VALUE (repeatable), e.g. zone=eu-west-1a.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub tls: super::tls::ClientTlsArgs,
    /// On SIGTERM, seconds running tasks may take to finish before they are given back.
    #[arg(long, default_value_t = 30.0)]
    pub grace_secs: f64,
    /// Instruction set: auto, scalar, avx2 or avx512. Results do not depend on it.
    #[arg(long, default_value = "auto")]
    pub isa: String,
    /// Poll this instance metadata base URL for an EC2 spot interruption notice
    /// (`/latest/meta-data/spot/instance-action`) and drain when one appears,
    /// e.g. http://169.254.169.254. Off by default: on EKS the kubelet's SIGTERM
    /// usually comes first, and worker pods are denied metadata access.
    #[arg(long, value_name = "URL", env = "RISKGRID_SPOT_METADATA_URL")]
    pub spot_metadata_url: Option<String>,
    /// Seconds between spot notice polls.
    #[arg(long, default_value_t = 5.0)]
    pub spot_poll_secs: f64,
    /// Pin this process to these CPUs (e.g. 0, 0-3 or 0,2,4-7), as `taskset -c` would:
    /// its event loop, its compute pool (--threads defaults to the number of CPUs given) and every other thread stay on them. Hand-offs between
    /// processes pinned to one CPU skip the wake-up of an idle CPU (on a VM a trip through
    /// the hypervisor). Default: wherever the OS places them.
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<super::affinity::CpuList>,
}

pub fn worker(args: WorkerArgs) -> Result<(), Failure> {
    init_logging();
    // Before the default thread count is read: it counts the CPUs this process may use.
    if let Some(cpus) = &args.cpus {
        super::affinity::pin_current_thread("--cpus", cpus).map_err(Failure::Input)?;
    }
    let isa = crate::run::parse_isa(&args.isa)?;
    if args.threads == Some(0) {
        return Err(Failure::Input("--threads: must be at least 1".into()));
    }
    if !(args.grace_secs.is_finite() && args.grace_secs >= 0.0) {
        return Err(Failure::Input("--grace-secs: must be a number of seconds >= 0".into()));
    }
    let mut labels = BTreeMap::new();
    for l in &args.labels {
        let (k, v) = l.split_once('=').ok_or_else(|| Failure::Input(format!("--label {l:?}: expected KEY=VALUE")))?;
        labels.insert(k.to_owned(), v.to_owned());
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = riskgrid_worker::WorkerConfig {
        scheduler: args.scheduler,
        threads,
        name: args.name,
        labels,
        grace: Duration::from_secs_f64(args.grace_secs),
        isa,
        tls: args.tls.load()?,
    };
    if !(args.spot_poll_secs.is_finite() && args.spot_poll_secs > 0.0) {
        return Err(Failure::Input("--spot-poll-secs: must be a number of seconds > 0".into()));
    }
    let spot = args.spot_metadata_url.clone();
    let poll = Duration::from_secs_f64(args.spot_poll_secs);
    let stop = async move {
        let Some(url) = spot else { return shutdown_signal().await };
        tokio::select! {
            () = shutdown_signal() => {}
            notice = riskgrid_worker::spot::wait_for_notice(&url, poll) => {
                tracing::warn!(action = %notice.action, time = %notice.time, "spot interruption notice: draining");
            }
        }
    };
    block_on(1, async move { riskgrid_worker::run(config, stop).await.map_err(Failure::Input) })
}
