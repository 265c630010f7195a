//! `riskgrid`: the command line of the riskgrid risk grid.

mod audit;
mod bench;
mod bench_dispatch;
mod capacity;
mod certs;
mod exit;
mod grid;
mod jobfile;
mod run;
mod sim;
mod table;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// riskgrid: bit-reproducible Monte Carlo risk, from a laptop to a cloud burst.
///
/// A job file (YAML or JSON) describes a market, a portfolio and an analysis
/// (paths, Greeks, VaR/ES). The same job and seed give the same bits on any
/// machine, thread count or instruction set. See examples/*.yaml.
#[derive(Debug, Parser)]
#[command(name = "riskgrid", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Price a job file in-process: prices, standard errors, Greeks, VaR/ES.
    ///
    /// Exits 2 with the field path and reason when the file is invalid.
    Run(run::RunArgs),
    /// Validate a job file without running it.
    Check {
        /// Job file (.yaml, .yml or .json).
        file: PathBuf,
    },
    /// Print the JSON Schema of the job file format.
    Schema,
    /// Benchmarks: `engine` (default: European paths/s, basket asset-steps/s, Heston Greeks seconds)
    /// or `dispatch` (the grid: tiny tasks/s, round trip, efficiency, memory per 1M queued tasks).
    Bench(bench::BenchCommand),
    /// Serve the grid's scheduler (gRPC JobService + WorkerService, health, reflection).
    Scheduler(Box<grid::serve::SchedulerArgs>),
    /// Serve as a grid worker: lease tasks from a scheduler and compute them.
    Worker(grid::serve::WorkerArgs),
    /// Submit a job file to a scheduler; prints the job id (or follows it with --watch).
    Submit(grid::client::SubmitArgs),
    /// Follow a job with a progress bar (percent, estimate ± CI, ETA), then print its result.
    Watch(grid::client::JobArgs),
    /// Print the result of a finished job (--json: the shape of `run --json`).
    Result(grid::client::JobArgs),
    /// Cancel a queued or running job; its leases are freed.
    Cancel(grid::client::JobArgs),
    /// List a tenant's jobs, newest first.
    Jobs(grid::client::JobsArgs),
    /// Burst capacity of a running scheduler: `show` the policy and last reconcile, `set` a new
    /// policy, `plan` a job against a deadline (nodes, expected finish, cost on spot and on-demand).
    Capacity(capacity::CapacityCommand),
    /// Certificates for a local mTLS grid (`certs init`: a dev CA and one certificate per identity).
    Certs(certs::CertsCommand),
    /// The audit trail (`audit verify FILE`: check the hash chain, name the first bad line).
    Audit(audit::AuditCommand),
    /// Simulate a workload on a burst cloud (lead times, spot interruptions, prices) and an on-prem grid:
    /// time to result, deadline hits, node-hours and cost, as a table or --json.
    Sim(sim::SimArgs),
}

fn main() -> std::process::ExitCode {
    // The binary links two rustls crypto providers (ring for gRPC and Kubernetes,
    // aws-lc-rs inside the AWS SDK); without a process default, TLS setup panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check { file } => jobfile::load(&file).map(|job| {
            println!("{}: ok ({} trades, {} paths)", file.display(), job.spec.portfolio.len(), job.spec.analysis.paths);
        }),
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&riskcalc::spec::json_schema()).unwrap_or_default());
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::Scheduler(args) => grid::serve::scheduler(*args),
        Command::Worker(args) => grid::serve::worker(args),
        Command::Submit(args) => grid::client::submit(args),
        Command::Watch(args) => grid::client::watch(args),
        Command::Result(args) => grid::client::result(args),
        Command::Cancel(args) => grid::client::cancel(args),
        Command::Jobs(args) => grid::client::jobs(args),
        Command::Capacity(args) => capacity::run(args),
        Command::Certs(args) => certs::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Sim(args) => sim::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
