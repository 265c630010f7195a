//! `riskgrid bench [engine]`: the engine's throughput figures, as issue #2 defines them
//! (`bench dispatch`, the grid's, is in `bench_dispatch/`).

use crate::exit::Failure;
use crate::run::{parse_isa, thread_pool};
use anyhow::Context;
use riskcalc::engine::run_pricing;
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use serde::Serialize;
use std::time::Instant;

/// `riskgrid bench [engine|dispatch]`; without a subcommand, `engine`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    #[command(subcommand)]
    pub which: Option<Which>,
    #[command(flatten)]
    pub engine: BenchArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Engine throughput (European paths/s, basket asset-steps/s, Heston Greeks seconds); the default.
    Engine(BenchArgs),
    /// Grid dispatch: scheduler + 2 worker processes on loopback (tiny tasks/s, round trip, efficiency, memory).
    Dispatch(crate::bench_dispatch::DispatchArgs),
}

pub fn run(cmd: BenchCommand) -> Result<(), Failure> {
    match cmd.which {
        None => bench(cmd.engine),
        Some(Which::Engine(args)) => bench(args),
        Some(Which::Dispatch(args)) => crate::bench_dispatch::dispatch(args),
    }
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Smaller problem sizes (a smoke run; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Instruction set: auto, scalar, avx2 or avx512.
    #[arg(long, default_value = "auto")]
    pub isa: String,
    /// Timed repetitions per figure; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

/// One benchmark figure, as printed and as `--json` emits it (shared by
/// `bench engine` and `bench dispatch`).
#[derive(Debug, Serialize)]
pub(crate) struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub target: Option<f64>,
    /// `value >= target` for rates and efficiency, `value <= target` for times and memory.
    pub meets_target: Option<bool>,
    /// Median wall time of the timed runs, where the figure is a rate over repeated runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_seconds: Option<f64>,
    pub work: String,
}

impl Figure {
    /// `  target T met|MISSED`, or nothing for figures without a target.
    pub fn target_note(&self, fmt: impl Fn(f64) -> String) -> String {
        self.target.map_or(String::new(), |t| {
            format!("  target {} {}", fmt(t), if self.meets_target == Some(true) { "met" } else { "MISSED" })
        })
    }
}

#[derive(Debug, Serialize)]
struct BenchOutput {
    cpu: String,
    cores: usize,
    threads: usize,
    isa: &'static str,
    figures: Vec<Figure>,
    peak_rss_mib: Option<f64>,
}

fn european(paths: u64) -> String {
    format!(
        "seed: 1
market: {{rate: 0.03, underlyings: [{{id: A, spot: 100, dividend_yield: 0.01, vol: 0.2}}]}}
portfolio: [{{id: call, instrument: {{type: european, underlying: A, option: call, strike: 100, maturity: 1}}}}]
analysis: {{paths: {paths}, block_size: 16384}}
"
    )
}

fn basket(paths: u64, heston: bool, greeks: bool) -> String {
    let ids = ["A", "B", "C", "D", "E"];
    let model = if heston { "heston: {v0: 0.04, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7}" } else { "vol: 0.2" };
    let underlyings: Vec<String> =
        ids.iter().map(|id| format!("{{id: {id}, spot: 100, dividend_yield: 0.01, {model}}}")).collect();
    let corr: Vec<String> = (0..5)
        .map(|i| format!("[{}]", (0..5).map(|j| if i == j { "1" } else { "0.5" }).collect::<Vec<_>>().join(", ")))
        .collect();
    let greeks = if greeks { "greeks: [delta, gamma, vega, rho, theta]" } else { "greeks: []" };
    format!(
        "seed: 1
market:
  rate: 0.03
  underlyings: [{}]
  correlation: [{}]
portfolio:
  - id: basket
    instrument: {{type: basket, underlyings: [A, B, C, D, E], weights: [0.2, 0.2, 0.2, 0.2, 0.2], option: call, strike: 100, maturity: 1, steps: 252}}
analysis: {{paths: {paths}, block_size: 1024, {greeks}}}
",
        underlyings.join(", "),
        corr.join(", ")
    )
}

/// Median wall time of `repeat` runs of `job` (compiled once, outside the timing).
fn time_job(yaml: &str, isa: Isa, repeat: usize) -> Result<f64, Failure> {
    let spec = riskcalc::spec::parse_yaml(yaml).map_err(|e| Failure::Other(anyhow::anyhow!("bench job: {e}")))?;
    let job = CompiledJob::compile(&spec, isa);
    let _warm = run_pricing(&job, isa, |_| {});
    let mut times: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let t = Instant::now();
            let report = run_pricing(&job, isa, |_| {});
            std::hint::black_box(report);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn peak_rss_mib() -> Option<f64> {
    status_kib("/proc/self/status", "VmHWM:").map(|k| k / 1024.0)
}

/// A `KEY: N kB` line of a /proc status file, in KiB.
pub(crate) fn status_kib(path: &str, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn bench(args: BenchArgs) -> Result<(), Failure> {
    let isa = parse_isa(&args.isa)?;
    let pool = thread_pool(args.threads)?;
    let (euro_paths, basket_paths, heston_paths) =
        if args.quick { (1u64 << 22, 10_000u64, 2_500u64) } else { (1u64 << 27, 100_000, 25_000) };
    let figures = pool.install(|| -> Result<Vec<Figure>, Failure> {
        let mut figures = Vec::new();
        let t = time_job(&european(euro_paths), isa, args.repeat)?;
        let rate = euro_paths as f64 / t;
        figures.push(Figure {
            name: "european_call_1_step",
            value: rate,
            unit: "paths/s",
            target: Some(5e8),
            meets_target: Some(rate >= 5e8),
            median_seconds: Some(t),
            work: format!("{euro_paths} paths, 1 step, f64"),
        });
        let t = time_job(&basket(basket_paths, false, false), isa, args.repeat)?;
        let asset_steps = 5.0 * 252.0 * basket_paths as f64;
        figures.push(Figure {
            name: "basket_5_assets_252_steps",
            value: asset_steps / t,
            unit: "asset-steps/s",
            target: Some(6e8),
            meets_target: Some(asset_steps / t >= 6e8),
            median_seconds: Some(t),
            work: format!("5 GBM assets rho=0.5, 252 steps, {basket_paths} paths"),
        });
        let t = time_job(&basket(heston_paths, true, true), isa, args.repeat)?;
        figures.push(Figure {
            name: "heston_basket_greeks",
            value: t,
            unit: "seconds",
            target: None,
            meets_target: None,
            median_seconds: Some(t),
            work: format!(
                "5 Heston assets x {heston_paths} paths x 252 steps, price + delta, gamma, vega (per asset), rho, theta = 24 revaluations on common random numbers"
            ),
        });
        Ok(figures)
    })?;
    let output = BenchOutput {
        cpu: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        threads: pool.current_num_threads(),
        isa: isa.name(),
        figures,
        peak_rss_mib: peak_rss_mib(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output).context("serialising")?);
    } else {
        println!(
            "riskgrid bench on {} ({} cores, {} threads, {})",
            output.cpu, output.cores, output.threads, output.isa
        );
        for f in &output.figures {
            let target = f.target_note(|t| format!("{t:.1e}"));
            println!("  {:<28} {:>12.4e} {:<14} ({}){target}", f.name, f.value, f.unit, f.work);
        }
        if let Some(rss) = output.peak_rss_mib {
            println!("  peak RSS {rss:.1} MiB");
        }
    }
    Ok(())
}
