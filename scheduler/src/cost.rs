//! The cost model: work in *path-steps* (one path advanced one time step in
//! one revaluation state, per normal drawn), and a throughput in path-steps
//! per core-second calibrated from what workers report.

use riskcalc::plan::CompiledJob;
use riskcalc::plan::compile::compile_trade_uncalibrated;
use riskcalc::risk::RiskJob;
use riskcalc::risk::revalue::Method;
use riskcalc::spec::BumpSpec;
use serde::{Deserialize, Serialize};

/// Path-steps charged for one closed-form revaluation (Black–Scholes, stock).
pub const CLOSED_FORM_COST: u64 = 64;

/// Path-steps per path for trade `t` of a compiled job.
fn path_cost(steps: u32, dims_per_step: u32, states: usize) -> u64 {
    u64::from(steps.max(1)) * u64::from(dims_per_step.max(1)) * (states.max(1) as u64)
}

/// The numbers of a pricing job the planner needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingShape {
    pub paths: u64,
    pub block_size: u32,
    /// Path-steps per path, per trade.
    pub trade_cost: Vec<u64>,
}

impl PricingShape {
    pub fn of(job: &CompiledJob) -> Self {
        let trade_cost =
            job.trades.iter().map(|t| path_cost(t.plan.steps, t.plan.dims_per_step(), t.plan.n_states())).collect();
        PricingShape { paths: job.paths, block_size: job.block_size, trade_cost }
    }

    pub fn n_blocks(&self) -> u64 {
        self.paths.div_ceil(u64::from(self.block_size))
    }

    /// Paths in blocks `[first, last)`.
    pub fn paths_in(&self, first: u64, last: u64) -> u64 {
        let bs = u64::from(self.block_size);
        (last * bs).min(self.paths).saturating_sub(first * bs)
    }
}

/// The numbers of a risk job the planner needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskShape {
    pub scenarios: u64,
    pub scenario_block: u32,
    /// Path-steps to revalue every trade under one scenario.
    pub scenario_cost: u64,
}

impl RiskShape {
    pub fn of(job: &RiskJob) -> Self {
        let scenario_cost = job
            .trades
            .iter()
            .map(|t| match &t.method {
                Method::Stock { .. } | Method::BlackScholes { .. } => CLOSED_FORM_COST,
                Method::Nested { spec, .. } => {
                    let c = compile_trade_uncalibrated(spec, &job.market, &[], &BumpSpec::default());
                    u64::from(job.inner_paths) * path_cost(c.plan.steps, c.plan.dims_per_step(), 1)
                }
            })
            .sum::<u64>()
            .max(1);
        RiskShape { scenarios: job.n_scenarios(), scenario_block: job.scenario_block, scenario_cost }
    }

    pub fn n_blocks(&self) -> u64 {
        self.scenarios.div_ceil(u64::from(self.scenario_block))
    }

    pub fn scenarios_in(&self, first: u64, last: u64) -> u64 {
        let bs = u64::from(self.scenario_block);
        (last * bs).min(self.scenarios).saturating_sub(first * bs)
    }
}

/// Throughput estimate, in path-steps per core-second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    throughput: f64,
    observations: u64,
}

impl CostModel {
    /// Estimate before any worker has reported: a conservative scalar core.
    pub const DEFAULT_THROUGHPUT: f64 = 5.0e7;
    /// Weight of a new observation once the model has some history.
    const SMOOTHING: f64 = 0.2;

    pub fn new(throughput: f64) -> Self {
        CostModel { throughput: sane(throughput).unwrap_or(Self::DEFAULT_THROUGHPUT), observations: 0 }
    }

    pub fn throughput(&self) -> f64 {
        self.throughput
    }

    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// A worker did `path_steps` of work in `core_seconds` of one core. The
    /// first report replaces the default; later ones are smoothed
    /// (exponentially weighted, in log space so a slow outlier and a fast
    /// one pull equally).
    pub fn observe(&mut self, path_steps: u64, core_seconds: f64) {
        if path_steps == 0 || core_seconds.is_nan() || core_seconds <= 0.0 || core_seconds.is_infinite() {
            return;
        }
        let Some(rate) = sane(path_steps as f64 / core_seconds) else { return };
        self.throughput = if self.observations == 0 {
            rate
        } else {
            (self.throughput.ln() * (1.0 - Self::SMOOTHING) + rate.ln() * Self::SMOOTHING).exp()
        };
        self.observations += 1;
    }

    /// Estimated core-seconds for `path_steps`.
    pub fn seconds(&self, path_steps: u64) -> f64 {
        path_steps as f64 / self.throughput
    }

    /// Path-steps one core does in `seconds`.
    pub fn budget(&self, seconds: f64) -> f64 {
        seconds * self.throughput
    }
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel::new(Self::DEFAULT_THROUGHPUT)
    }
}

fn sane(rate: f64) -> Option<f64> {
    (rate.is_finite() && rate > 0.0).then_some(rate.clamp(1.0, 1.0e15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_report_replaces_the_default_and_later_ones_are_smoothed() {
        let mut m = CostModel::default();
        m.observe(1_000_000, 0.01);
        assert_eq!(m.throughput(), 1.0e8);
        m.observe(1_000_000, 0.1);
        assert!(m.throughput() < 1.0e8 && m.throughput() > 1.0e7);
        m.observe(0, 1.0);
        m.observe(10, 0.0);
        m.observe(10, f64::NAN);
        assert_eq!(m.observations(), 2);
        assert!((m.seconds(m.budget(2.0) as u64) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn partial_last_block_counts_only_its_paths() {
        let s = PricingShape { paths: 1000, block_size: 64, trade_cost: vec![1] };
        assert_eq!(s.n_blocks(), 16);
        assert_eq!(s.paths_in(0, 16), 1000);
        assert_eq!(s.paths_in(15, 16), 1000 - 15 * 64);
    }
}
