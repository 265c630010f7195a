//! Shared test harness: a small real job, its blocks computed in-process,
//! and honest workers.
#![allow(clippy::unwrap_used, dead_code)]

use riskcalc::engine::{Moments, PricingReport, TradeBlock, price_trade_block, run_pricing};
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use riskcalc::spec::{JobSpec, parse_yaml};
use riskgrid_scheduler::{
    BlockResult, Clock, JobId, JobStore, Lease, ManualClock, Scheduler, SchedulerConfig, TaskKind, TaskStatus,
    TenantConfig, WorkerId, WorkerInfo,
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

pub const BLOCK: u32 = 64;

/// Two trades (a European with delta, an Asian with 12 fixings), `blocks` blocks of 64 paths.
pub fn spec(blocks: u64, target_std_error: Option<f64>) -> JobSpec {
    let target = target_std_error.map_or(String::new(), |t| format!("  target_std_error: {t}\n"));
    let text = format!(
        "seed: 42
market:
  rate: 0.03
  underlyings:
    - {{id: SPX, spot: 100.0, vol: 0.2}}
portfolio:
  - id: call
    instrument: {{type: european, underlying: SPX, option: call, strike: 100, maturity: 1.0}}
  - id: asian
    quantity: -2
    instrument: {{type: asian, underlying: SPX, option: put, strike: 95, maturity: 0.5, fixings: 12, average: arithmetic}}
analysis:
  paths: {paths}
  block_size: {BLOCK}
  greeks: [delta]
{target}",
        paths = blocks * u64::from(BLOCK) - 5,
    );
    parse_yaml(&text).unwrap()
}

/// A compiled job with every block of every trade computed in-process.
#[derive(Debug)]
pub struct Oracle {
    pub compiled: CompiledJob,
    pub blocks: HashMap<(u32, u64), TradeBlock>,
    pub report: PricingReport,
}

impl Oracle {
    pub fn new(spec: &JobSpec) -> Self {
        let isa = Isa::detect();
        let compiled = CompiledJob::compile(spec, isa);
        let mut blocks = HashMap::new();
        for t in 0..compiled.trades.len() {
            for b in 0..compiled.n_blocks() {
                blocks.insert((t as u32, b), price_trade_block(&compiled, t, b, isa));
            }
        }
        let report = run_pricing(&compiled, isa, |_| {});
        Oracle { compiled, blocks, report }
    }

    /// The in-process report of the first `blocks` blocks only.
    pub fn prefix_report(&self, blocks: u64) -> PricingReport {
        let mut c = self.compiled.clone();
        c.paths = c.paths.min(blocks * u64::from(c.block_size));
        run_pricing(&c, Isa::detect(), |_| {})
    }

    pub fn results(&self, kind: &TaskKind) -> Vec<BlockResult> {
        let TaskKind::Pricing { trades, blocks } = kind else { panic!("pricing only") };
        trades
            .clone()
            .flat_map(|t| blocks.clone().map(move |b| (t, b)))
            .map(|k| BlockResult::Pricing(self.blocks[&k].clone()))
            .collect()
    }
}

pub static SMALL: LazyLock<(JobSpec, Oracle)> = LazyLock::new(|| {
    let s = spec(20, None);
    let o = Oracle::new(&s);
    (s, o)
});

/// Bit-level comparison (serde_json prints the shortest round-trip form).
pub fn bits(report: &PricingReport) -> String {
    serde_json::to_string(report).unwrap()
}

/// Results with the right shape but made-up numbers (for queueing tests).
pub fn fake_results(compiled: &CompiledJob, kind: &TaskKind) -> Vec<BlockResult> {
    let TaskKind::Pricing { trades, blocks } = kind else { panic!("pricing only") };
    let mut out = Vec::new();
    for t in trades.clone() {
        for b in blocks.clone() {
            let n = u64::from(compiled.block_paths(b));
            let q = compiled.trades[t as usize].quantities.len();
            out.push(BlockResult::Pricing(TradeBlock {
                trade: t,
                block: b,
                moments: vec![Moments { n, sum: n as f64, m2: 1.0 }; q],
            }));
        }
    }
    out
}

/// Config whose cost model cuts the small job into tasks of ~`blocks_per_task` blocks
/// (below 1: one block per task and one trade per task).
pub fn config(throughput: f64) -> SchedulerConfig {
    SchedulerConfig {
        lease_ms: 1_000,
        worker_timeout_ms: 5_000,
        max_attempts: 3,
        prefetch_per_core: 1,
        planner: riskgrid_scheduler::PlannerConfig { target_seconds: 0.5 },
        initial_throughput: throughput,
        default_tenant: Some(TenantConfig::default()),
        ..SchedulerConfig::default()
    }
}

/// Path-steps per block of the small job: (1 + 12) steps × 3 states × 64 paths.
pub const BLOCK_COST: f64 = 13.0 * 3.0 * 64.0;
/// Throughput giving two-block tasks with a 0.5 s target.
pub const TWO_BLOCKS: f64 = 4.0 * BLOCK_COST;
/// Throughput giving one-block, one-trade tasks.
pub const SPLIT_TRADES: f64 = 4000.0;

pub fn worker<C: Clock, S: JobStore>(s: &mut Scheduler<C, S>, cores: u32) -> WorkerId {
    s.register_worker(WorkerInfo { cores, version: "test".into(), ..WorkerInfo::default() })
}

/// One honest worker round: lease up to `max`, report every result, complete.
pub fn honest_round<C: Clock, S: JobStore>(
    s: &mut Scheduler<C, S>,
    w: WorkerId,
    max: usize,
    results: impl Fn(&Lease) -> Vec<BlockResult>,
) -> usize {
    let leases = s.lease(w, max).unwrap();
    for l in &leases {
        for r in results(l) {
            s.report(w, l.task, r).unwrap();
        }
        let status = s.complete_task(w, l.task, Some(10_000)).unwrap();
        // A task cut short because its job already finished (early stop in the
        // middle of the task) is skipped; every other task must be done.
        let finished = s.job(l.task.job).unwrap().state().is_terminal();
        assert!(status == TaskStatus::Done || (finished && status == TaskStatus::Skipped), "{status:?}");
    }
    leases.len()
}

/// Runs honest rounds until the job ends.
pub fn run_to_end<C: Clock, S: JobStore>(s: &mut Scheduler<C, S>, job: JobId, oracle: &Oracle, cores: u32) {
    let w = worker(s, cores);
    for _ in 0..10_000 {
        if s.job(job).unwrap().state().is_terminal() {
            return;
        }
        honest_round(s, w, usize::MAX, |l| oracle.results(&l.kind));
    }
    panic!("job did not finish");
}

pub fn manual() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_000))
}
