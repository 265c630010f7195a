//! Risk scenario blocks, concatenated exactly once, in block order.
//! (Pricing blocks go through [`riskcalc::engine::Accumulator`].)

use riskcalc::risk::ScenarioBlock;
use std::collections::BTreeMap;

/// What happened to a reported result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Merged (with this many buffered successors).
    Merged { with_buffered: usize },
    /// Held until its predecessors arrive.
    Buffered,
    /// Already merged or buffered, or no longer needed: ignored.
    Duplicate,
    /// Malformed (wrong trades, wrong number of paths or scenarios): ignored.
    Rejected,
}

impl Fate {
    /// Whether the result was kept (and so must be persisted).
    pub fn kept(self) -> bool {
        matches!(self, Fate::Merged { .. } | Fate::Buffered)
    }
}

impl From<riskcalc::engine::Merge> for Fate {
    fn from(m: riskcalc::engine::Merge) -> Self {
        use riskcalc::engine::Merge;
        match m {
            Merge::Merged { with_buffered } => Fate::Merged { with_buffered },
            Merge::Buffered => Fate::Buffered,
            Merge::Duplicate => Fate::Duplicate,
            Merge::Rejected => Fate::Rejected,
        }
    }
}

/// Per-trade P&L vectors of a risk job, built from scenario blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCollector {
    n_trades: usize,
    scenarios: u64,
    scenario_block: u32,
    next: u64,
    pending: BTreeMap<u64, Vec<Vec<f64>>>,
    pnl: Vec<Vec<f64>>,
}

impl ScenarioCollector {
    pub fn new(n_trades: usize, scenarios: u64, scenario_block: u32) -> Self {
        ScenarioCollector {
            n_trades,
            scenarios,
            scenario_block: scenario_block.max(1),
            next: 0,
            pending: BTreeMap::new(),
            pnl: vec![Vec::new(); n_trades],
        }
    }

    pub fn n_blocks(&self) -> u64 {
        self.scenarios.div_ceil(u64::from(self.scenario_block))
    }

    /// Blocks concatenated so far (contiguously from 0).
    pub fn merged_blocks(&self) -> u64 {
        self.next
    }

    pub fn is_complete(&self) -> bool {
        self.next >= self.n_blocks()
    }

    pub fn pnl(&self) -> &[Vec<f64>] {
        &self.pnl
    }

    fn expected_len(&self, b: u64) -> u64 {
        let bs = u64::from(self.scenario_block);
        ((b + 1) * bs).min(self.scenarios).saturating_sub(b * bs)
    }

    pub fn add(&mut self, block: ScenarioBlock) -> Fate {
        let n = self.expected_len(block.block);
        if block.block >= self.n_blocks()
            || block.pnl.len() != self.n_trades
            || block.pnl.iter().any(|v| v.len() as u64 != n)
        {
            return Fate::Rejected;
        }
        if block.block < self.next || self.pending.contains_key(&block.block) {
            return Fate::Duplicate;
        }
        if block.block > self.next {
            self.pending.insert(block.block, block.pnl);
            return Fate::Buffered;
        }
        self.append(block.pnl);
        let mut with_buffered = 0;
        while let Some(pnl) = self.pending.remove(&self.next) {
            self.append(pnl);
            with_buffered += 1;
        }
        Fate::Merged { with_buffered }
    }

    fn append(&mut self, pnl: Vec<Vec<f64>>) {
        for (all, part) in self.pnl.iter_mut().zip(pnl) {
            all.extend(part);
        }
        self.next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(b: u64, len: usize) -> ScenarioBlock {
        ScenarioBlock { block: b, pnl: vec![(0..len).map(|i| (b * 10 + i as u64) as f64).collect(); 2] }
    }

    #[test]
    fn concatenates_in_block_order_once() {
        let mut c = ScenarioCollector::new(2, 10, 4);
        assert_eq!(c.add(block(2, 2)), Fate::Buffered);
        assert_eq!(c.add(block(2, 2)), Fate::Duplicate);
        assert_eq!(c.add(block(1, 3)), Fate::Rejected, "block 1 has 4 scenarios");
        assert_eq!(c.add(block(1, 4)), Fate::Buffered);
        assert_eq!(c.add(block(0, 4)), Fate::Merged { with_buffered: 2 });
        assert_eq!(c.add(block(0, 4)), Fate::Duplicate);
        assert_eq!(c.add(block(3, 0)), Fate::Rejected);
        assert!(c.is_complete());
        assert_eq!(c.pnl()[1], vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0, 20.0, 21.0]);
    }
}
