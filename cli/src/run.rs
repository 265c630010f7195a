//! `riskgrid run`: price a job in-process.

use crate::exit::Failure;
use crate::jobfile;
use crate::table;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use riskcalc::engine::{PricingReport, run_pricing};
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use riskcalc::risk::{RiskJob, RiskReport, run_risk};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Job file (.yaml, .yml or .json); see examples/.
    pub file: PathBuf,
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Instruction set: auto, scalar, avx2 or avx512. Results do not depend on it.
    #[arg(long, default_value = "auto")]
    pub isa: String,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run through an embedded grid: an in-process gRPC scheduler and a local
    /// worker on loopback, the code paths of a cluster. Same bits as without.
    #[arg(long)]
    pub grid: bool,
}

/// Everything `run --json` prints.
#[derive(Debug, Serialize)]
pub struct RunOutput {
    pub job: JobInfo,
    pub pricing: PricingReport,
    pub risk: Option<RiskReport>,
    pub seconds: f64,
}

/// What a result is tied to, for audit.
#[derive(Debug, Serialize)]
pub struct JobInfo {
    pub name: Option<String>,
    pub seed: u64,
    pub spec_sha256: String,
    pub riskgrid_version: &'static str,
    pub isa: &'static str,
    pub threads: usize,
}

pub fn parse_isa(text: &str) -> Result<Isa, Failure> {
    if text == "auto" {
        return Ok(Isa::detect());
    }
    let isa: Isa = text.parse().map_err(|e: String| Failure::Input(format!("--isa: {e}")))?;
    if !isa.is_supported() {
        return Err(Failure::Input(format!("--isa: this CPU does not support {}", isa.name())));
    }
    Ok(isa)
}

pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    if threads == Some(0) {
        return Err(Failure::Input("--threads: must be at least 1".into()));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    Ok(builder.build().context("starting the thread pool")?)
}

fn bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{elapsed_precise}] {wide_bar} {percent:>3}% ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(what.to_string());
    bar
}

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let loaded = jobfile::load(&args.file)?;
    let isa = parse_isa(&args.isa)?;
    let pool = thread_pool(args.threads)?;
    let started = Instant::now();
    let spec = &loaded.spec;
    let (pricing, risk) = if args.grid {
        crate::grid::embedded::run(&args.file, pool.current_num_threads(), isa, args.quiet)?
    } else {
        pool.install(|| {
            let job = CompiledJob::compile(spec, isa);
            let progress = bar(job.n_blocks(), args.quiet, "pricing");
            let pricing = run_pricing(&job, isa, |p| {
                progress.set_position(p.blocks_done);
                progress.set_message(format!("value {:.6} ± {:.6} (95% CI)", p.value, 1.96 * p.std_error));
            });
            progress.finish_and_clear();
            let risk = spec.analysis.risk.as_ref().map(|r| {
                let job = RiskJob::new(spec, r, loaded.historical.clone(), isa);
                let progress = bar(job.n_blocks(), args.quiet, "risk");
                let report = run_risk(&job, isa, |done, _| progress.set_position(done));
                progress.finish_and_clear();
                report
            });
            (pricing, risk)
        })
    };
    let output = RunOutput {
        job: JobInfo {
            name: spec.name.clone(),
            seed: spec.seed,
            spec_sha256: loaded.spec_sha256.clone(),
            riskgrid_version: env!("CARGO_PKG_VERSION"),
            isa: if args.grid { "grid" } else { isa.name() },
            threads: pool.current_num_threads(),
        },
        pricing,
        risk,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output).context("serialising the result")?);
    } else {
        print!("{}", table::render(&output));
    }
    Ok(())
}
