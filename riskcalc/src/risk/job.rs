//! A risk job: scenarios, revaluation methods and today's values.

use super::measures::RiskReport;
use super::revalue::{Method, aged};
use super::scenarios::{MonteCarloScenarios, Scenario};
use crate::kernel::Isa;
use crate::plan::Market;
use crate::spec::limits::TRADING_DAYS_PER_YEAR;
use crate::spec::{JobSpec, RiskSpec, ScenarioSpec};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Where scenarios come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioSource {
    MonteCarlo(MonteCarloScenarios),
    Historical(Vec<Scenario>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RiskTrade {
    pub id: String,
    pub quantity: f64,
    pub method: Method,
    /// Value of one unit today, by the same method (so P&L carries no method bias).
    pub today: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RiskJob {
    pub seed: u64,
    /// Horizon in years.
    pub horizon: f64,
    pub horizon_days: f64,
    pub confidence: Vec<f64>,
    pub scenario_block: u32,
    pub inner_paths: u32,
    pub source: ScenarioSource,
    pub market: Market,
    chol: Vec<f64>,
    pub trades: Vec<RiskTrade>,
}

/// P&L per trade (one unit × quantity) for the scenarios of one block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioBlock {
    pub block: u64,
    /// `pnl[t][i]`: trade t, scenario `block × scenario_block + i`.
    pub pnl: Vec<Vec<f64>>,
}

impl RiskJob {
    /// Builds the risk job of a validated spec. `historical` holds the parsed
    /// scenario file when the spec asks for historical scenarios.
    pub fn new(spec: &JobSpec, risk: &RiskSpec, historical: Option<Vec<Scenario>>, isa: Isa) -> RiskJob {
        let market = Market::from_spec(spec);
        let horizon = risk.horizon_days / TRADING_DAYS_PER_YEAR;
        let source = match (&risk.scenarios, historical) {
            (ScenarioSpec::Historical(_), Some(scenarios)) => ScenarioSource::Historical(scenarios),
            (ScenarioSpec::Historical(_), None) => ScenarioSource::Historical(Vec::new()),
            (ScenarioSpec::MonteCarlo(mc), _) => ScenarioSource::MonteCarlo(MonteCarloScenarios {
                count: mc.count,
                vol_of_vol: mc.vol_of_vol,
                drift: market.assets.iter().map(|a| mc.drift.get(&a.id).copied().unwrap_or(0.0)).collect(),
            }),
        };
        let cal = spec.analysis.calibration_paths;
        let trades = spec
            .portfolio
            .iter()
            .map(|t| {
                let method_now = Method::choose(t, &market, cal, spec.seed, isa);
                let today = method_now.value(&market, risk.inner_paths, spec.seed, isa);
                // At the horizon the trade is `horizon` older.
                let method = Method::choose(&aged(t, horizon), &market, cal, spec.seed, isa);
                RiskTrade { id: t.id.clone(), quantity: t.quantity, method, today }
            })
            .collect();
        let all: Vec<usize> = (0..market.assets.len()).collect();
        RiskJob {
            seed: spec.seed,
            horizon,
            horizon_days: risk.horizon_days,
            confidence: risk.confidence.clone(),
            scenario_block: risk.scenario_block,
            inner_paths: risk.inner_paths,
            chol: market.cholesky(&all),
            source,
            market,
            trades,
        }
    }

    pub fn n_scenarios(&self) -> u64 {
        match &self.source {
            ScenarioSource::MonteCarlo(mc) => u64::from(mc.count),
            ScenarioSource::Historical(s) => s.len() as u64,
        }
    }

    pub fn n_blocks(&self) -> u64 {
        self.n_scenarios().div_ceil(u64::from(self.scenario_block))
    }

    fn scenario(&self, k: u64) -> Scenario {
        match &self.source {
            ScenarioSource::MonteCarlo(mc) => mc.scenario(&self.market, &self.chol, self.horizon, self.seed, k),
            ScenarioSource::Historical(s) => s[k as usize].clone(),
        }
    }

    /// Revalues every trade under the scenarios of block `b`.
    pub fn block(&self, b: u64, isa: Isa) -> ScenarioBlock {
        let first = b * u64::from(self.scenario_block);
        let last = (first + u64::from(self.scenario_block)).min(self.n_scenarios());
        let mut pnl = vec![Vec::with_capacity((last - first) as usize); self.trades.len()];
        for k in first..last {
            let market = self.scenario(k).apply(&self.market);
            for (t, trade) in self.trades.iter().enumerate() {
                let value = trade.method.value(&market, self.inner_paths, self.seed, isa);
                pnl[t].push(trade.quantity * (value - trade.today));
            }
        }
        ScenarioBlock { block: b, pnl }
    }
}

/// Runs every scenario block on the current rayon pool and measures the risk.
/// `on_progress(done, total)` is called after each window of blocks.
pub fn run_risk(job: &RiskJob, isa: Isa, mut on_progress: impl FnMut(u64, u64)) -> RiskReport {
    let total = job.n_blocks();
    let window = (rayon::current_num_threads() as u64 * 4).max(1);
    let mut pnl: Vec<Vec<f64>> = vec![Vec::new(); job.trades.len()];
    let mut start = 0;
    while start < total {
        let end = (start + window).min(total);
        let blocks: Vec<ScenarioBlock> = (start..end).into_par_iter().map(|b| job.block(b, isa)).collect();
        for block in blocks {
            for (all, part) in pnl.iter_mut().zip(block.pnl) {
                all.extend(part);
            }
        }
        start = end;
        on_progress(end, total);
    }
    RiskReport::new(job, &pnl)
}
