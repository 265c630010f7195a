//! The pre-submit plan: for a job of a given size and an optional deadline,
//! how many nodes the policy would ask for, when the result is expected and
//! what it would cost on spot and on on-demand. Uses the same allocation as
//! the controller ([`crate::alloc`]), so the plan is what the controller does.

use crate::alloc;
use crate::policy::BurstPolicy;
use serde::{Deserialize, Serialize};

/// Measured throughput of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Useful core-seconds delivered per worker core per second (0–1]:
    /// dispatch and merge overheads, e.g. 0.86 as `riskgrid bench dispatch` measures it.
    pub efficiency: f64,
}

impl Default for Throughput {
    fn default() -> Self {
        Throughput { efficiency: 0.9 }
    }
}

/// Nodes of one group in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedGroup {
    pub nodegroup: String,
    pub nodes: u32,
}

/// The answer to "what would this job take?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Total nodes (including groups' minimums).
    pub nodes_needed: u32,
    pub groups: Vec<PlannedGroup>,
    pub cores: u64,
    /// Seconds from now to the result (node lead time included); `None` when no core is affordable.
    pub expected_finish_s: Option<f64>,
    /// Cost of the nodes until the result if every group ran on spot, dollars.
    pub cost_spot_usd: f64,
    /// The same on on-demand.
    pub cost_on_demand_usd: f64,
    /// Whether the deadline (if any) is expected to be met within the policy's limits and budget.
    pub feasible: bool,
    pub reason: String,
}

/// Seconds to the result for `job_core_seconds` on `cores` after `lead_time_s`.
pub fn expected_finish_s(job_core_seconds: f64, efficiency: f64, cores: u64, lead_time_s: f64) -> Option<f64> {
    let rate = efficiency * cores as f64;
    (rate > 0.0 && rate.is_finite()).then(|| lead_time_s.max(0.0) + job_core_seconds.max(0.0) / rate)
}

/// Plans `job_core_seconds` of work due `deadline_s` seconds from now (or as
/// fast as the drain horizon asks, without one). Nodes are billed from the
/// moment they are asked for (lead time included) until the result.
pub fn plan(
    job_core_seconds: f64,
    deadline_s: Option<f64>,
    throughput: &Throughput,
    policy: &BurstPolicy,
    lead_time_s: f64,
) -> Plan {
    let work = if job_core_seconds.is_finite() { job_core_seconds.max(0.0) } else { 0.0 };
    let eff = if throughput.efficiency.is_finite() { throughput.efficiency.clamp(1e-6, 1.0) } else { 1.0 };
    let lead = if lead_time_s.is_finite() { lead_time_s.max(0.0) } else { 0.0 };
    let window = match deadline_s {
        Some(d) if d.is_finite() => d - lead,
        Some(_) => f64::INFINITY,
        None => policy.drain_horizon_s.max(1) as f64,
    };
    let groups = policy.resolve();
    let caps: Vec<u32> = groups.iter().map(|g| g.max_nodes).collect();
    let budget = policy.budget_micro();
    let (needed_cores, mut reason) = if window <= 0.0 {
        (u64::MAX, format!("the deadline is within the {lead:.0} s node lead time"))
    } else {
        ((work / (eff * window)).ceil().min(u64::MAX as f64 / 2.0) as u64, String::new())
    };
    let nodes = alloc::allocate(needed_cores, &groups, &caps, budget);
    let cores = alloc::cores(&groups, &nodes);
    let finish = expected_finish_s(work, eff, cores, lead);
    let hours = finish.unwrap_or(0.0) / 3600.0;
    let cost = |price: fn(&crate::policy::ResolvedGroup) -> u64| -> f64 {
        groups.iter().zip(&nodes).map(|(g, &n)| f64::from(n) * price(g) as f64 / 1e6 * hours).sum()
    };
    let met = match (deadline_s, finish) {
        (_, None) => false,
        (Some(d), Some(f)) => f <= d + 1e-9,
        (None, Some(_)) => true,
    };
    if reason.is_empty() {
        reason = match finish {
            None => "no worker cores within the policy's limits and budget".into(),
            Some(f) if !met => {
                format!("needs {needed_cores} cores; max nodes and the budget allow {cores}, finishing in {f:.0} s")
            }
            Some(f) => format!("{cores} cores on {} nodes finish in {f:.0} s", nodes.iter().sum::<u32>()),
        };
    }
    Plan {
        nodes_needed: nodes.iter().sum(),
        groups: groups.iter().zip(&nodes).map(|(g, &n)| PlannedGroup { nodegroup: g.name.clone(), nodes: n }).collect(),
        cores,
        expected_finish_s: finish,
        cost_spot_usd: cost(|g| g.spot_price_micro),
        cost_on_demand_usd: cost(|g| g.on_demand_price_micro),
        feasible: met,
        reason,
    }
}
