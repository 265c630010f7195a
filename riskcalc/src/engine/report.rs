//! Results as plain, serialisable values.

use super::accumulate::Accumulator;
use crate::plan::CompiledJob;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Monte Carlo estimate and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub std_error: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeReport {
    pub id: String,
    pub kind: String,
    pub quantity: f64,
    /// Price of one unit.
    pub price: f64,
    pub std_error: f64,
    /// Per unit, by name: `delta.SPX`, `gamma.SPX`, `vega.SPX`, `rho`, `theta`.
    pub greeks: BTreeMap<String, Estimate>,
    pub paths: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioReport {
    /// Σ quantity × price.
    pub value: f64,
    /// Trades use independent random streams, so errors add in quadrature.
    pub std_error: f64,
    /// Σ quantity × Greek, by name.
    pub greeks: BTreeMap<String, Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingReport {
    pub trades: Vec<TradeReport>,
    pub portfolio: PortfolioReport,
    /// Paths merged (per trade): fewer than requested when the job stopped
    /// early at its target standard error.
    pub paths: u64,
    pub blocks: u64,
}

impl PricingReport {
    pub fn new(job: &CompiledJob, acc: &Accumulator) -> PricingReport {
        let mut trades = Vec::with_capacity(job.trades.len());
        let mut value = 0.0;
        let mut var = 0.0;
        let mut greeks: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for (t, trade) in job.trades.iter().enumerate() {
            let totals = acc.totals(t);
            let price = totals.first().copied().unwrap_or_default();
            let mut trade_greeks = BTreeMap::new();
            for (q, m) in trade.quantities.iter().zip(totals).skip(1) {
                trade_greeks.insert(q.name.clone(), Estimate { value: m.mean(), std_error: m.std_error() });
                let entry = greeks.entry(q.name.clone()).or_default();
                entry.0 += trade.quantity * m.mean();
                entry.1 += (trade.quantity * m.std_error()).powi(2);
            }
            value += trade.quantity * price.mean();
            var += (trade.quantity * price.std_error()).powi(2);
            trades.push(TradeReport {
                id: trade.id.clone(),
                kind: trade.kind.to_string(),
                quantity: trade.quantity,
                price: price.mean(),
                std_error: price.std_error(),
                greeks: trade_greeks,
                paths: price.n,
            });
        }
        let greeks =
            greeks.into_iter().map(|(k, (v, var))| (k, Estimate { value: v, std_error: var.sqrt() })).collect();
        let blocks = acc.complete_blocks();
        PricingReport {
            paths: trades.iter().map(|t| t.paths).min().unwrap_or(0),
            trades,
            portfolio: PortfolioReport { value, std_error: var.sqrt(), greeks },
            blocks,
        }
    }
}
