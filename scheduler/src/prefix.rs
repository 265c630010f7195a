//! Block-by-block merging for jobs with an early-stop target.
//!
//! `riskgrid run` checks the target after merging block b of every trade, in
//! block order, and stops at the first block prefix that meets it. The grid must
//! stop at the same block whatever order results arrive in, so for such jobs
//! results are staged until block b is complete for every trade, merged
//! together, and the target checked — exactly the in-process rule.

use crate::collect::Fate;
use riskcalc::engine::{Accumulator, TradeBlock};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct PrefixMerge {
    /// The first block not yet merged for every trade.
    next: u64,
    staged: BTreeMap<u64, Vec<Option<TradeBlock>>>,
}

impl PrefixMerge {
    /// Offers one trade's block. Complete blocks are merged into `acc` in
    /// order; after each, `met(acc)` is asked whether the target is reached,
    /// unless the stop is already known (`stop_at`). Returns what happened to
    /// the block and, if this call decided it, the stop (blocks `[0, stop)`).
    pub fn offer(
        &mut self,
        block: TradeBlock,
        acc: &mut Accumulator,
        stop_at: Option<u64>,
        met: impl Fn(&Accumulator) -> bool,
    ) -> (Fate, Option<u64>) {
        let n_trades = acc.n_trades();
        let t = block.trade as usize;
        if t >= n_trades || block.moments.len() != acc.totals(t).len() {
            return (Fate::Rejected, None);
        }
        if block.block < self.next || stop_at.is_some_and(|s| block.block >= s) {
            return (Fate::Duplicate, None);
        }
        let slot = self.staged.entry(block.block).or_insert_with(|| vec![None; n_trades]);
        if slot[t].is_some() {
            return (Fate::Duplicate, None);
        }
        slot[t] = Some(block);
        let mut merged = 0;
        while let Some(entry) = self.staged.get(&self.next) {
            if entry.iter().any(Option::is_none) {
                break;
            }
            for b in self.staged.remove(&self.next).into_iter().flatten().flatten() {
                acc.merge(b);
            }
            self.next += 1;
            merged += 1;
            if stop_at.is_none() && met(acc) {
                self.staged.clear();
                return (Fate::Merged { with_buffered: merged - 1 }, Some(self.next));
            }
            if stop_at.is_some_and(|s| self.next >= s) {
                break;
            }
        }
        let fate = if merged > 0 { Fate::Merged { with_buffered: merged - 1 } } else { Fate::Buffered };
        (fate, None)
    }
}
