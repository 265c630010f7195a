//! VaR, expected shortfall and their per-trade contributions from P&L vectors.
//!
//! Losses are written `0.0 - pnl`, not `-pnl`: a zero P&L gives +0.0, never
//! -0.0, which protobuf cannot carry (it drops default-valued doubles).

use super::job::RiskJob;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Risk at one confidence level. Losses are positive numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskLevel {
    pub confidence: f64,
    /// The m-th worst loss, m = ⌈N(1 − confidence)⌉.
    pub var: f64,
    /// Mean loss over the m worst scenarios.
    pub es: f64,
    /// Scenarios in the tail (m).
    pub tail_scenarios: u64,
    /// Each trade's share of ES (mean of its loss over the tail scenarios);
    /// they add up to `es`.
    pub es_contributions: BTreeMap<String, f64>,
    /// Each trade's loss in the VaR scenario; they add up to `var`.
    pub var_contributions: BTreeMap<String, f64>,
}

/// Summary of the portfolio P&L distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnlSummary {
    pub mean: f64,
    pub std_dev: f64,
    pub min: f64,
    pub max: f64,
    /// Empirical quantiles of P&L by level ("0.01", "0.05", "0.5", "0.95", "0.99").
    pub quantiles: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskReport {
    pub horizon_days: f64,
    pub scenarios: u64,
    pub source: String,
    pub pnl: PnlSummary,
    pub levels: Vec<RiskLevel>,
    /// Today's value of each trade's position (quantity × unit value) used as the P&L base.
    pub base_values: BTreeMap<String, f64>,
}

/// Number of tail scenarios at `confidence` among `n`.
pub fn tail_count(n: usize, confidence: f64) -> usize {
    // Guard against 5000 × 0.01 = 50.000000000000004 → 51.
    (((n as f64) * (1.0 - confidence)) - 1e-9).ceil().max(1.0) as usize
}

impl RiskReport {
    /// `pnl[t][k]`: P&L of trade t's position in scenario k.
    pub fn new(job: &RiskJob, pnl: &[Vec<f64>]) -> RiskReport {
        let n = pnl.first().map_or(0, Vec::len);
        // Portfolio P&L summed in trade order.
        let portfolio: Vec<f64> = (0..n).map(|k| pnl.iter().fold(0.0, |acc, t| acc + t[k])).collect();
        // Sort by (P&L, scenario index): deterministic even with ties.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| portfolio[a].total_cmp(&portfolio[b]).then(a.cmp(&b)));
        let levels = job
            .confidence
            .iter()
            .map(|&confidence| {
                let m = tail_count(n, confidence).min(n.max(1));
                let tail = &order[..m.min(n)];
                let mean_loss = |values: &dyn Fn(usize) -> f64| -> f64 {
                    if tail.is_empty() {
                        0.0
                    } else {
                        0.0 - tail.iter().map(|&k| values(k)).sum::<f64>() / tail.len() as f64
                    }
                };
                let var_scenario = tail.last().copied();
                let mut es_contributions = BTreeMap::new();
                let mut var_contributions = BTreeMap::new();
                for (t, trade) in job.trades.iter().enumerate() {
                    es_contributions.insert(trade.id.clone(), mean_loss(&|k| pnl[t][k]));
                    var_contributions.insert(trade.id.clone(), var_scenario.map_or(0.0, |k| 0.0 - pnl[t][k]));
                }
                RiskLevel {
                    confidence,
                    var: var_scenario.map_or(0.0, |k| 0.0 - portfolio[k]),
                    es: mean_loss(&|k| portfolio[k]),
                    tail_scenarios: tail.len() as u64,
                    es_contributions,
                    var_contributions,
                }
            })
            .collect();
        let sorted: Vec<f64> = order.iter().map(|&k| portfolio[k]).collect();
        let mean = if n == 0 { 0.0 } else { portfolio.iter().sum::<f64>() / n as f64 };
        let var = if n < 2 { 0.0 } else { portfolio.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1) as f64 };
        let quantile =
            |q: f64| sorted.get(((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1).copied().unwrap_or(0.0);
        let quantiles = [0.01, 0.05, 0.5, 0.95, 0.99].iter().map(|&q| (format!("{q}"), quantile(q))).collect();
        RiskReport {
            horizon_days: job.horizon_days,
            scenarios: n as u64,
            source: match job.source {
                super::ScenarioSource::MonteCarlo(_) => "monte_carlo".into(),
                super::ScenarioSource::Historical(_) => "historical".into(),
            },
            pnl: PnlSummary {
                mean,
                std_dev: var.sqrt(),
                min: sorted.first().copied().unwrap_or(0.0),
                max: sorted.last().copied().unwrap_or(0.0),
                quantiles,
            },
            levels,
            base_values: job.trades.iter().map(|t| (t.id.clone(), t.quantity * t.today)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tail_count;

    #[test]
    fn tail_counts_round_the_way_regulators_count() {
        assert_eq!(tail_count(5000, 0.99), 50);
        assert_eq!(tail_count(5000, 0.975), 125);
        assert_eq!(tail_count(250, 0.99), 3); // 2.5 scenarios → 3
        assert_eq!(tail_count(10, 0.99), 1);
    }
}
