//! In-process execution: blocks in parallel on the caller's rayon pool,
//! merged in block order.

use super::accumulate::Accumulator;
use super::block::price_block;
use super::report::PricingReport;
use crate::kernel::Isa;
use crate::plan::CompiledJob;
use rayon::prelude::*;

/// Progress after each window of blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub blocks_done: u64,
    pub blocks_total: u64,
    /// Running portfolio value and its standard error.
    pub value: f64,
    pub std_error: f64,
}

/// Prices every block of `job` on the current rayon pool. Blocks are computed
/// in windows (bounded memory) and merged in block order.
pub fn run_pricing(job: &CompiledJob, isa: Isa, mut on_progress: impl FnMut(Progress)) -> PricingReport {
    let total = job.n_blocks();
    let mut acc = Accumulator::new(job.trades.iter().map(|t| t.quantities.len()));
    let window = (rayon::current_num_threads() as u64 * 8).max(1);
    let mut start = 0;
    while start < total {
        let end = (start + window).min(total);
        let results: Vec<_> = (start..end).into_par_iter().map(|b| price_block(job, b, isa)).collect();
        let mut stopped = false;
        for block in results {
            for trade_block in block {
                acc.merge(trade_block);
            }
            // Early stop: the first block prefix meeting the target, whatever
            // the window size, so the result does not depend on threads.
            if job.target_met(&acc) {
                stopped = true;
                break;
            }
        }
        start = if stopped { total } else { end };
        let report = PricingReport::new(job, &acc);
        on_progress(Progress {
            blocks_done: start.min(end),
            blocks_total: total,
            value: report.portfolio.value,
            std_error: report.portfolio.std_error,
        });
    }
    PricingReport::new(job, &acc)
}
