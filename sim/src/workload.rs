//! A workload as the simulator holds it: per job a handful of numbers (how
//! many tasks, how long each), never one object per task, so a million tasks
//! cost a few kilobytes. Jobs given in core-seconds are cut into tasks by the
//! scheduler's own planner.

use crate::scenario::{JobSpec, Workload};
use riskgrid_scheduler::{CostModel, PlannerConfig, RiskShape, plan_risk};

/// One job, ready to simulate. Times in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDef {
    pub name: String,
    pub tenant: String,
    pub arrival_ms: u64,
    pub tasks: u32,
    /// Core-ms of every task but the last.
    pub task_ms: u64,
    /// Core-ms of the last task (the planner's last chunk may be short).
    pub last_task_ms: u64,
    /// Absolute due time.
    pub deadline_ms: Option<u64>,
    pub priority: i32,
}

impl JobDef {
    pub fn task_ms(&self, index: u32) -> u64 {
        if index + 1 == self.tasks { self.last_task_ms } else { self.task_ms }
    }

    pub fn core_ms(&self) -> u64 {
        u64::from(self.tasks.saturating_sub(1)) * self.task_ms + self.last_task_ms
    }
}

pub fn ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round().max(0.0) as u64
}

/// Tasks of a job given in core-seconds: the planner's risk plan over
/// "scenarios" of one core-millisecond each, in blocks of 100 ms.
fn planned(core_seconds: f64, target_task_s: f64) -> (u32, u64, u64) {
    let model = CostModel::new(1000.0);
    let shape = RiskShape { scenarios: ms(core_seconds).max(1), scenario_block: 100, scenario_cost: 1 };
    let tasks = plan_risk(&shape, &model, &PlannerConfig { target_seconds: target_task_s });
    let first = tasks.first().map_or(1, |t| t.cost);
    let last = tasks.last().map_or(1, |t| t.cost);
    (tasks.len() as u32, first, last)
}

fn def(spec: &JobSpec) -> JobDef {
    let (tasks, task_ms, last_task_ms) = match (spec.tasks, spec.task_seconds, spec.core_seconds) {
        (Some(n), Some(s), _) => (n, ms(s).max(1), ms(s).max(1)),
        (_, _, Some(c)) => planned(c, spec.target_task_s),
        _ => (0, 1, 1),
    };
    let arrival_ms = ms(spec.arrival_s);
    JobDef {
        name: spec.name.clone(),
        tenant: spec.tenant.clone(),
        arrival_ms,
        tasks,
        task_ms,
        last_task_ms,
        deadline_ms: spec.deadline_s.map(|d| arrival_ms + ms(d)),
        priority: spec.priority,
    }
}

/// Every job of the workload, by arrival (ties: listed jobs first, in order).
pub fn expand(w: &Workload) -> Vec<JobDef> {
    let mut jobs: Vec<JobDef> = w.jobs.iter().map(def).collect();
    if let Some(s) = &w.synthetic {
        for i in 0..s.jobs {
            let with_deadline = s.deadline_every.is_some_and(|k| k > 0 && i % k == 0);
            jobs.push(def(&JobSpec {
                name: format!("synthetic-{i}"),
                arrival_s: f64::from(i) * s.arrival_every_s,
                tenant: format!("tenant-{}", i % s.tenants.max(1)),
                tasks: Some(s.tasks_per_job),
                task_seconds: Some(s.task_seconds),
                core_seconds: None,
                target_task_s: 2.0,
                deadline_s: if with_deadline { s.deadline_s } else { None },
                priority: 0,
            }));
        }
    }
    jobs.retain(|j| j.tasks > 0);
    jobs.sort_by_key(|j| j.arrival_ms);
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_seconds_are_cut_by_the_planner_without_losing_work() {
        let (n, first, last) = planned(1000.05, 2.0);
        assert_eq!(n, 501);
        assert_eq!(first, 2000);
        assert_eq!(u64::from(n - 1) * first + last, 1_000_050);
    }
}
