//! Merging block results exactly once, in block order.

use super::block::TradeBlock;
use super::moments::Moments;
use std::collections::BTreeMap;

/// What happened to a block handed to [`Accumulator::merge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Merged, together with this many buffered successors.
    Merged { with_buffered: usize },
    /// Ahead of the next expected block: held until its predecessors arrive.
    Buffered,
    /// Already merged or already buffered: ignored.
    Duplicate,
    /// Names a trade or quantity layout the job does not have: ignored.
    Rejected,
}

#[derive(Debug, Clone, PartialEq)]
struct TradeTotals {
    next_block: u64,
    totals: Vec<Moments>,
    pending: BTreeMap<u64, Vec<Moments>>,
}

/// Running totals of a job. Blocks may arrive in any order and any number of
/// times; each is merged once, in block order, so the totals are the same bits
/// whatever the sharding, retries or delivery order.
#[derive(Debug, Clone, PartialEq)]
pub struct Accumulator {
    trades: Vec<TradeTotals>,
}

impl Accumulator {
    /// `quantities[t]` = number of quantities of trade `t`.
    pub fn new(quantities: impl IntoIterator<Item = usize>) -> Self {
        let trades = quantities
            .into_iter()
            .map(|q| TradeTotals { next_block: 0, totals: vec![Moments::default(); q], pending: BTreeMap::new() })
            .collect();
        Accumulator { trades }
    }

    pub fn merge(&mut self, block: TradeBlock) -> Merge {
        let Some(t) = self.trades.get_mut(block.trade as usize) else {
            return Merge::Rejected;
        };
        if block.moments.len() != t.totals.len() {
            return Merge::Rejected;
        }
        if block.block < t.next_block || t.pending.contains_key(&block.block) {
            return Merge::Duplicate;
        }
        if block.block > t.next_block {
            t.pending.insert(block.block, block.moments);
            return Merge::Buffered;
        }
        add(&mut t.totals, &block.moments);
        t.next_block += 1;
        let mut with_buffered = 0;
        while let Some(moments) = t.pending.remove(&t.next_block) {
            add(&mut t.totals, &moments);
            t.next_block += 1;
            with_buffered += 1;
        }
        Merge::Merged { with_buffered }
    }

    /// Blocks merged (contiguously from 0) for trade `t`.
    pub fn merged_blocks(&self, t: usize) -> u64 {
        self.trades.get(t).map_or(0, |t| t.next_block)
    }

    /// Blocks merged by every trade.
    pub fn complete_blocks(&self) -> u64 {
        self.trades.iter().map(|t| t.next_block).min().unwrap_or(0)
    }

    /// The merged moments of trade `t`, one per quantity.
    pub fn totals(&self, t: usize) -> &[Moments] {
        self.trades.get(t).map_or(&[], |t| &t.totals)
    }

    pub fn n_trades(&self) -> usize {
        self.trades.len()
    }
}

fn add(totals: &mut [Moments], block: &[Moments]) {
    for (total, m) in totals.iter_mut().zip(block) {
        total.merge(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(b: u64, v: f64) -> TradeBlock {
        TradeBlock { trade: 0, block: b, moments: vec![Moments::of_block(&[v, v + 1.0])] }
    }

    #[test]
    fn any_arrival_order_with_duplicates_gives_the_same_bits() {
        let mut in_order = Accumulator::new([1]);
        for b in 0..6 {
            assert_eq!(in_order.merge(block(b, b as f64 * 0.1)), Merge::Merged { with_buffered: 0 });
        }
        let mut shuffled = Accumulator::new([1]);
        for b in [3, 1, 1, 5, 0, 3, 2, 4, 0] {
            shuffled.merge(block(b, b as f64 * 0.1));
        }
        assert_eq!(shuffled.totals(0)[0].sum.to_bits(), in_order.totals(0)[0].sum.to_bits());
        assert_eq!(shuffled.totals(0)[0].m2.to_bits(), in_order.totals(0)[0].m2.to_bits());
        assert_eq!(shuffled.merged_blocks(0), 6);
        assert_eq!(shuffled.merge(block(2, 9.0)), Merge::Duplicate);
        assert_eq!(shuffled.totals(0)[0].n, 12);
    }

    #[test]
    fn malformed_blocks_are_rejected() {
        let mut acc = Accumulator::new([1]);
        let mut b = block(0, 1.0);
        b.trade = 7;
        assert_eq!(acc.merge(b), Merge::Rejected);
        let mut b = block(0, 1.0);
        b.moments.push(Moments::default());
        assert_eq!(acc.merge(b), Merge::Rejected);
    }
}
