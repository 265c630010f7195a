//! The bench's cluster: a scheduler and `WORKERS` one-thread workers on loopback, as child
//! processes of this binary, with their logs and what they used (CPU seconds from `/proc`).

use super::{Layout, WORKERS};
use crate::bench::status_kib;
use crate::exit::Failure;
use anyhow::Context;
use riskgrid_proto::v1::job_service_client::JobServiceClient;
use serde::Serialize;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

#[derive(Debug, Serialize)]
pub(super) struct ClusterUsage {
    /// Which figures ran on it.
    pub(super) ran: &'static str,
    pub(super) wall_seconds: f64,
    /// CPU seconds (user + system) of the scheduler and of each worker process.
    pub(super) scheduler_cpu_seconds: Option<f64>,
    pub(super) worker_cpu_seconds: Vec<Option<f64>>,
    /// CPU seconds of each worker's compute threads alone (the rest is its I/O thread).
    pub(super) worker_compute_cpu_seconds: Vec<Option<f64>>,
    pub(super) scheduler_peak_rss_mib: Option<f64>,
}

/// A child process, killed (SIGKILL) and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `riskgrid ARGS` with its stdout and stderr going to `log` and waits (bounded) for a
/// line of it containing `marker`. A file rather than a pipe: no reader thread to wake for every
/// line the scheduler logs while the figures are being measured.
fn spawn_until(args: &[&str], marker: &'static str, log: &std::path::Path) -> Result<(Proc, String), Failure> {
    let exe = std::env::current_exe().context("locating the riskgrid binary")?;
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(file.try_clone().context("a second log handle")?).stderr(file);
    // The cluster dies with the bench, even when the bench is killed (Ctrl-C) and `Proc`'s
    // drop never runs.
    // SAFETY: between fork and exec the closure only calls prctl(2), which is
    // async-signal-safe and allocates nothing.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
    let proc = Proc(cmd.spawn().with_context(|| format!("starting riskgrid {}", args.join(" ")))?);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(marker)) {
            return Ok((proc, line.to_string()));
        }
        if Instant::now() > deadline {
            let err = anyhow::anyhow!(
                "riskgrid {} did not print {marker:?} within 20 s (log: {})",
                args.join(" "),
                log.display()
            );
            return Err(Failure::Other(err));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Warnings, errors and panics in the logs under `dir`, the last `keep` of each file.
fn logged_trouble(dir: &std::path::Path, keep: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let name = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let lines: Vec<&str> =
            text.lines().filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panicked")).collect();
        found.extend(lines[lines.len().saturating_sub(keep)..].iter().map(|l| format!("{name}: {l}")));
    }
    found
}

/// A scheduler and `WORKERS` one-thread workers on loopback.
pub(super) struct Cluster {
    scheduler: Proc,
    /// The processes' logs, removed with the cluster unless a step failed.
    logs: std::path::PathBuf,
    keep_logs: bool,
    workers: Vec<Proc>,
    url: String,
    /// Where the bench's client thread runs while it drives this cluster (pinned layout).
    client_cpu: Option<usize>,
}

/// The bench's thread pinned to the client's CPU until dropped; then its mask is restored (the
/// in-process measurements spread over every core).
pub(super) struct ClientPin(Option<crate::grid::affinity::CpuList>);

impl Drop for ClientPin {
    fn drop(&mut self) {
        if let Some(before) = &self.0 {
            let _ = crate::grid::affinity::set(before);
        }
    }
}

impl Cluster {
    /// A cluster whose scheduler keeps jobs in memory (`durable` false) or in a fresh SQLite
    /// file in the cluster's temp directory (`--db`, every accepted job survives `kill -9`).
    pub(super) fn start(layout: Layout, durable: bool) -> Result<Cluster, Failure> {
        let pins = layout.cpus()?;
        static CLUSTERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let logs = std::env::temp_dir().join(format!("riskgrid-bench-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let scheduler_cpu = pins.as_ref().map(|(s, _)| s.to_string());
        let db = logs.join("jobs.db").display().to_string();
        let mut args = vec!["scheduler", "--listen", "127.0.0.1:0", "--initial-throughput", "1"];
        if let Some(cpu) = &scheduler_cpu {
            args.extend(["--cpus", cpu]);
        }
        if durable {
            args.extend(["--db", &db]);
        }
        let (scheduler, line) = spawn_until(&args, "listening on", &logs.join("scheduler.log"))?;
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("127.0.0.1:"))
            .ok_or_else(|| anyhow::anyhow!("no address in the scheduler's banner {line:?}"))?;
        let url = format!("http://{addr}");
        let mut workers = Vec::new();
        for i in 0..WORKERS {
            let name = format!("bench-{i}");
            let cpu = pins.as_ref().map(|(_, workers)| workers[i].to_string());
            let mut args = vec!["worker", "--scheduler", &url, "--threads", "1", "--name", &name, "--grace-secs", "1"];
            if let Some(cpu) = &cpu {
                args.extend(["--cpus", cpu]);
            }
            workers.push(spawn_until(&args, "registered with scheduler", &logs.join(format!("{name}.log")))?.0);
        }
        let client_cpu = pins.map(|(cpu, _)| cpu);
        Ok(Cluster { scheduler, logs, keep_logs: false, workers, url, client_cpu })
    }

    /// Pins the calling thread where the layout puts the client, until the guard drops.
    pub(super) fn pin_client(&self) -> Result<ClientPin, Failure> {
        let Some(cpu) = self.client_cpu else { return Ok(ClientPin(None)) };
        let before = crate::grid::affinity::allowed().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
        crate::grid::affinity::set(&crate::grid::affinity::CpuList::single(cpu))
            .map_err(|e| Failure::Other(anyhow::anyhow!("pinning the bench's client: {e}")))?;
        Ok(ClientPin(Some(before)))
    }

    /// `failure`, with the warnings and errors the cluster's processes logged; their logs are kept.
    pub(super) fn explain(&mut self, failure: Failure) -> Failure {
        let logged = logged_trouble(&self.logs, 10);
        let dir = self.logs.display();
        let logged = if logged.is_empty() { "nothing".to_string() } else { format!("\n  {}", logged.join("\n  ")) };
        self.keep_logs = true;
        let failure = match failure {
            Failure::Input(message) => message,
            Failure::Other(e) => format!("{e:#}"),
        };
        Failure::Other(anyhow::anyhow!(
            "{failure}\nthe cluster's logs are in {dir}; warnings and errors in them: {logged}"
        ))
    }

    /// CPU seconds used so far by the scheduler and by each worker.
    fn cpu_seconds(&self) -> (Option<f64>, Vec<Option<f64>>) {
        (
            process_cpu_seconds(self.scheduler.0.id()),
            self.workers.iter().map(|w| process_cpu_seconds(w.0.id())).collect(),
        )
    }

    fn peak_rss_mib(&self) -> Option<f64> {
        status_kib(&format!("/proc/{}/status", self.scheduler.0.id()), "VmHWM:").map(|k| k / 1024.0)
    }

    /// Stops the cluster and says what it used since `started`.
    pub(super) fn finish(self, ran: &'static str, started: Instant) -> ClusterUsage {
        let wall_seconds = started.elapsed().as_secs_f64();
        // The compute threads first: both counts only grow, so theirs never exceeds the process's.
        let worker_compute_cpu_seconds = self.workers.iter().map(|w| compute_threads_cpu_seconds(w.0.id())).collect();
        let (scheduler_cpu_seconds, worker_cpu_seconds) = self.cpu_seconds();
        ClusterUsage {
            ran,
            wall_seconds,
            scheduler_cpu_seconds,
            worker_cpu_seconds,
            worker_compute_cpu_seconds,
            scheduler_peak_rss_mib: self.peak_rss_mib(),
        }
    }

    pub(super) async fn client(&self) -> Result<JobServiceClient<Channel>, Failure> {
        let url = self.url.clone();
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .map_err(|e| anyhow::anyhow!("{url}: {e}"))?
            .connect_with_connector(riskgrid_proto::transport::WriteOnFlushConnector)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(JobServiceClient::new(channel))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.keep_logs {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}

/// CPU seconds (user + system) a process has used so far (`/proc/PID/stat`, in clock ticks of 1/100 s).
fn process_cpu_seconds(pid: u32) -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU seconds of a worker's compute threads, from each thread's stat.
fn compute_threads_cpu_seconds(pid: u32) -> Option<f64> {
    // The thread's name is between the parentheses, cut to 15 bytes by the kernel.
    let prefix = riskgrid_worker::COMPUTE_THREAD_PREFIX;
    let name = format!("({}", &prefix[..prefix.len().min(15)]);
    let mut total = 0.0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if stat.contains(&name) {
            total += stat_cpu_seconds(&stat)?;
        }
    }
    Some(total)
}

/// utime + stime of a `/proc/.../stat` line, in seconds.
fn stat_cpu_seconds(text: &str) -> Option<f64> {
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
