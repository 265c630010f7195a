//! Tasks: the unit of leasing. A task is a contiguous range of whole blocks
//! of one job (× a contiguous range of trades for pricing).

use crate::ids::TaskId;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What a worker computes for a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskKind {
    /// `price_trade_block(job, t, b)` for every `t` in `trades` and `b` in `blocks`.
    Pricing { trades: Range<u32>, blocks: Range<u64> },
    /// `RiskJob::block(b)` for every `b` in `blocks` (all trades).
    Risk { blocks: Range<u64> },
}

impl TaskKind {
    pub fn blocks(&self) -> &Range<u64> {
        match self {
            TaskKind::Pricing { blocks, .. } | TaskKind::Risk { blocks } => blocks,
        }
    }

    /// Results the task produces: one per (trade, block) for pricing, one per block for risk.
    pub fn n_results(&self) -> u64 {
        match self {
            TaskKind::Pricing { trades, blocks } => u64::from(trades.end - trades.start) * (blocks.end - blocks.start),
            TaskKind::Risk { blocks } => blocks.end - blocks.start,
        }
    }

    /// Position of the pricing result (trade, block) within the task, if it belongs to it.
    pub fn pricing_slot(&self, trade: u32, block: u64) -> Option<usize> {
        match self {
            TaskKind::Pricing { trades, blocks } if trades.contains(&trade) && blocks.contains(&block) => {
                let width = blocks.end - blocks.start;
                Some((u64::from(trade - trades.start) * width + (block - blocks.start)) as usize)
            }
            _ => None,
        }
    }

    /// Position of the risk result `block` within the task, if it belongs to it.
    pub fn risk_slot(&self, block: u64) -> Option<usize> {
        match self {
            TaskKind::Risk { blocks } if blocks.contains(&block) => Some((block - blocks.start) as usize),
            _ => None,
        }
    }

    pub fn is_pricing(&self) -> bool {
        matches!(self, TaskKind::Pricing { .. })
    }
}

/// A planned task and its estimated cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: TaskId,
    pub kind: TaskKind,
    /// Estimated work in path-steps (see [`crate::cost`]).
    pub cost: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_number_every_result_once() {
        let kind = TaskKind::Pricing { trades: 2..4, blocks: 10..13 };
        let mut slots: Vec<usize> =
            (2..4).flat_map(|t| (10..13).map(move |b| (t, b))).filter_map(|(t, b)| kind.pricing_slot(t, b)).collect();
        slots.sort_unstable();
        assert_eq!(slots, (0..6).collect::<Vec<_>>());
        assert_eq!(kind.n_results(), 6);
        assert_eq!(kind.pricing_slot(1, 10), None);
        assert_eq!(kind.pricing_slot(2, 13), None);
        assert_eq!(TaskKind::Risk { blocks: 4..6 }.risk_slot(5), Some(1));
    }
}
