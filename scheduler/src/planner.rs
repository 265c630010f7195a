//! Splitting a job into tasks of whole blocks, sized to take about
//! `target_seconds` on one core under the current cost model.
//!
//! Pricing tasks form a grid: block chunks (all the same width) × trade
//! groups. While one block of the whole portfolio fits the target, there is a
//! single group (all trades) and chunks of several blocks; otherwise chunks
//! are one block wide and trades are packed into contiguous groups. Tasks are
//! listed chunk by chunk, so issuing them in order completes block prefixes
//! first (what in-order merging and early stop want).

use crate::cost::{CostModel, PricingShape, RiskShape};
use crate::task::TaskKind;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How large tasks should be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlannerConfig {
    /// Aim for tasks of about this many core-seconds (clamped to 0.5–5 s).
    pub target_seconds: f64,
}

impl PlannerConfig {
    pub const MIN_SECONDS: f64 = 0.5;
    pub const MAX_SECONDS: f64 = 5.0;

    fn target(&self) -> f64 {
        if self.target_seconds.is_nan() { 2.0 } else { self.target_seconds.clamp(Self::MIN_SECONDS, Self::MAX_SECONDS) }
    }
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig { target_seconds: 2.0 }
    }
}

/// A planned task and its estimated cost in path-steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTask {
    pub kind: TaskKind,
    pub cost: u64,
}

/// Pricing tasks covering every (trade, block) exactly once.
pub fn plan_pricing(shape: &PricingShape, model: &CostModel, config: &PlannerConfig) -> Vec<PlannedTask> {
    let n_blocks = shape.n_blocks();
    let n_trades = shape.trade_cost.len() as u32;
    if n_blocks == 0 || n_trades == 0 {
        return Vec::new();
    }
    let budget = model.budget(config.target()).max(1.0);
    let bs = u64::from(shape.block_size);
    let block_cost: Vec<f64> = shape.trade_cost.iter().map(|&c| (c * bs) as f64).collect();
    let portfolio_block: f64 = block_cost.iter().sum();
    let (chunk, groups) = if portfolio_block <= budget {
        let chunk = ((budget / portfolio_block).floor() as u64).clamp(1, n_blocks);
        (chunk, std::iter::once(0..n_trades).collect())
    } else {
        (1, pack_trades(&block_cost, budget))
    };
    let mut tasks = Vec::with_capacity((n_blocks.div_ceil(chunk) as usize).saturating_mul(groups.len()));
    let mut first = 0;
    while first < n_blocks {
        let last = (first + chunk).min(n_blocks);
        let paths = shape.paths_in(first, last);
        for trades in &groups {
            let per_path: u64 = shape.trade_cost[trades.start as usize..trades.end as usize].iter().sum();
            tasks.push(PlannedTask {
                kind: TaskKind::Pricing { trades: trades.clone(), blocks: first..last },
                cost: per_path * paths,
            });
        }
        first = last;
    }
    tasks
}

/// Contiguous groups of trades, each costing at most `budget` per block
/// (a trade costlier than the budget alone gets its own group).
fn pack_trades(block_cost: &[f64], budget: f64) -> Vec<Range<u32>> {
    let mut groups = Vec::new();
    let mut start = 0u32;
    let mut sum = 0.0;
    for (t, &c) in block_cost.iter().enumerate() {
        let t = t as u32;
        if t > start && sum + c > budget {
            groups.push(start..t);
            start = t;
            sum = 0.0;
        }
        sum += c;
    }
    groups.push(start..block_cost.len() as u32);
    groups
}

/// Risk tasks covering every scenario block exactly once.
pub fn plan_risk(shape: &RiskShape, model: &CostModel, config: &PlannerConfig) -> Vec<PlannedTask> {
    let n_blocks = shape.n_blocks();
    if n_blocks == 0 {
        return Vec::new();
    }
    let block_cost = (shape.scenario_cost * u64::from(shape.scenario_block)) as f64;
    let chunk = ((model.budget(config.target()) / block_cost).floor() as u64).clamp(1, n_blocks);
    let mut tasks = Vec::new();
    let mut first = 0;
    while first < n_blocks {
        let last = (first + chunk).min(n_blocks);
        tasks.push(PlannedTask {
            kind: TaskKind::Risk { blocks: first..last },
            cost: shape.scenario_cost * shape.scenarios_in(first, last),
        });
        first = last;
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(paths: u64, block_size: u32, trade_cost: Vec<u64>) -> PricingShape {
        PricingShape { paths, block_size, trade_cost }
    }

    /// Every (trade, block) is in exactly one task; the grid is aligned.
    fn assert_exact_cover(s: &PricingShape, tasks: &[PlannedTask]) {
        let n_blocks = s.n_blocks();
        let mut seen = vec![0u32; s.trade_cost.len() * n_blocks as usize];
        for task in tasks {
            let TaskKind::Pricing { trades, blocks } = &task.kind else { panic!("not a pricing task") };
            assert!(!trades.is_empty() && !blocks.is_empty());
            for t in trades.clone() {
                for b in blocks.clone() {
                    seen[t as usize * n_blocks as usize + b as usize] += 1;
                }
            }
            let per_path: u64 = s.trade_cost[trades.start as usize..trades.end as usize].iter().sum();
            assert_eq!(task.cost, per_path * s.paths_in(blocks.start, blocks.end));
        }
        assert!(seen.iter().all(|&n| n == 1), "some (trade, block) covered {seen:?}");
        // Listed in block order.
        let starts: Vec<u64> = tasks.iter().map(|t| t.kind.blocks().start).collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn cheap_jobs_get_multi_block_tasks_near_the_target() {
        let s = shape(10_000_000, 4096, vec![3, 5]);
        let model = CostModel::new(1.0e8);
        let config = PlannerConfig { target_seconds: 2.0 };
        let tasks = plan_pricing(&s, &model, &config);
        assert_exact_cover(&s, &tasks);
        // Every task but the last lands in [target/2, target]: chunks are whole blocks.
        for task in &tasks[..tasks.len() - 1] {
            let secs = model.seconds(task.cost);
            assert!((1.0..=2.0).contains(&secs), "{secs} s");
        }
        assert!(model.seconds(tasks[tasks.len() - 1].cost) <= 2.0);
    }

    #[test]
    fn a_slow_cost_model_gives_smaller_tasks() {
        let s = shape(10_000_000_000, 4096, vec![3, 5]);
        let config = PlannerConfig::default();
        let fast = plan_pricing(&s, &CostModel::new(1.0e9), &config);
        let slow = plan_pricing(&s, &CostModel::new(1.0e7), &config);
        assert_exact_cover(&s, &fast);
        assert_exact_cover(&s, &slow);
        assert!(slow.len() > 5 * fast.len(), "{} vs {}", slow.len(), fast.len());
        let max = |t: &[PlannedTask]| t.iter().map(|t| t.cost).max().unwrap_or(0);
        assert!(max(&slow) < max(&fast));
    }

    #[test]
    fn expensive_portfolios_are_split_into_trade_groups_of_one_block() {
        // 40 trades × 4096 paths × 10^4 path-steps = 4·10^7 per trade-block;
        // a 1 s budget at 10^8/s fits two trades per task.
        let s = shape(4096 * 3 + 100, 4096, vec![10_000; 40]);
        let model = CostModel::new(1.0e8);
        let tasks = plan_pricing(&s, &model, &PlannerConfig { target_seconds: 1.0 });
        assert_exact_cover(&s, &tasks);
        assert_eq!(tasks.len(), 20 * 4);
        for task in &tasks {
            assert!(model.seconds(task.cost) <= 1.0 + 1e-9);
            assert_eq!(task.kind.blocks().end - task.kind.blocks().start, 1);
        }
        // A single trade above the budget still gets a task of its own.
        let huge = shape(4096, 4096, vec![1, 1_000_000, 1]);
        let tasks = plan_pricing(&huge, &model, &PlannerConfig { target_seconds: 0.5 });
        assert_exact_cover(&huge, &tasks);
        assert_eq!(tasks.len(), 3);
    }

    #[test]
    fn target_is_clamped_to_the_sensible_range() {
        let s = shape(1 << 30, 1024, vec![1]);
        let model = CostModel::new(1.0e8);
        let tiny = plan_pricing(&s, &model, &PlannerConfig { target_seconds: 0.001 });
        let huge = plan_pricing(&s, &model, &PlannerConfig { target_seconds: 1e9 });
        assert_exact_cover(&s, &tiny);
        let body = &tiny[..tiny.len() - 1];
        assert!(body.iter().all(|t| model.seconds(t.cost) >= 0.25 && model.seconds(t.cost) <= 0.5));
        assert!(huge.iter().all(|t| model.seconds(t.cost) <= 5.0));
        assert!(huge.iter().take(huge.len() - 1).all(|t| model.seconds(t.cost) >= 2.5));
    }

    #[test]
    fn risk_tasks_cover_every_scenario_block_once() {
        let s = RiskShape { scenarios: 10_001, scenario_block: 256, scenario_cost: 64 * 3 };
        let model = CostModel::new(1.0e5);
        let tasks = plan_risk(&s, &model, &PlannerConfig { target_seconds: 1.0 });
        let mut next = 0;
        for task in &tasks {
            let TaskKind::Risk { blocks } = &task.kind else { panic!("not a risk task") };
            assert_eq!(blocks.start, next);
            next = blocks.end;
            assert!(model.seconds(task.cost) <= 1.0);
        }
        assert_eq!(next, s.n_blocks());
        assert_eq!(tasks.iter().map(|t| t.cost).sum::<u64>(), 10_001 * 64 * 3);
        assert!(tasks.len() > 1);
    }
}
