//! One block of paths for one trade: simulate, form the per-path estimators,
//! reduce to moments. A block's result is a plain value that can cross a
//! network and be merged later.

use super::moments::Moments;
use crate::kernel::Isa;
use crate::kernel::dispatch::simulate_block;
use crate::kernel::path::{BlockOut, padded};
use crate::plan::{CompiledJob, CompiledTrade, Estimator};
use crate::rng::RoundKeys;
use serde::{Deserialize, Serialize};

/// The partial result of paths `[block·B, block·B + paths)` of one trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeBlock {
    pub trade: u32,
    pub block: u64,
    /// One entry per quantity of the trade (price first, then Greeks).
    pub moments: Vec<Moments>,
}

/// Simulates one block of one trade.
pub fn price_trade_block(job: &CompiledJob, trade: usize, block: u64, isa: Isa) -> TradeBlock {
    let t: &CompiledTrade = &job.trades[trade];
    let n = job.block_paths(block) as usize;
    let first_path = block * u64::from(job.block_size);
    let ns = t.plan.n_states();
    let stride = padded(n);
    // Reused per thread: a fresh multi-megabyte buffer per block would be
    // mapped, page-faulted and unmapped every time.
    SCRATCH.with_borrow_mut(|(values, per_slot)| {
        values.resize(ns * stride, 0.0);
        per_slot.resize(stride, 0.0);
        let out = BlockOut { values: &mut values[..ns * stride], n_paths: n };
        simulate_block(isa, &t.plan, &RoundKeys::from_seed(job.seed), first_path, out);
        let moments = t
            .quantities
            .iter()
            .map(|q| match q.estimator {
                Estimator::Value { state } => Moments::of_slots(&values[state * stride..(state + 1) * stride], n),
                _ => {
                    for (i, slot) in per_slot[..stride].iter_mut().enumerate() {
                        *slot = q.estimator.eval(|state| values[state * stride + i]);
                    }
                    Moments::of_slots(&per_slot[..stride], n)
                }
            })
            .collect();
        TradeBlock { trade: trade as u32, block, moments }
    })
}

thread_local! {
    /// Per-thread block buffers: state values and one per-path quantity.
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Simulates one block of every trade.
pub fn price_block(job: &CompiledJob, block: u64, isa: Isa) -> Vec<TradeBlock> {
    (0..job.trades.len()).map(|t| price_trade_block(job, t, block, isa)).collect()
}
