//! The scenario file: a workload, a simulated cloud (the burst policy plus
//! what the cloud does: lead times, spot interruptions, spot capacity) and an
//! optional fixed on-prem grid to compare against. YAML or JSON.

use riskgrid_capacity::BurstPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    /// Seeds lead times and interruptions; `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    pub workload: Workload,
    /// Tenants' fair-share weights (unlisted tenants get share 1).
    #[serde(default)]
    pub tenants: BTreeMap<String, u32>,
    pub cloud: Option<Cloud>,
    pub on_prem: Option<OnPrem>,
    /// Stop simulating after this much simulated time (work left is reported as unfinished).
    #[serde(default = "defaults::max_sim_s")]
    pub max_sim_s: u64,
}

/// Jobs listed one by one and/or generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
    pub synthetic: Option<Synthetic>,
}

/// One job. Give either `tasks` and `task_seconds`, or `core_seconds` (the
/// scheduler's planner then cuts it into tasks of about `target_task_s`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    #[serde(default)]
    pub arrival_s: f64,
    #[serde(default = "defaults::tenant")]
    pub tenant: String,
    pub tasks: Option<u32>,
    /// Core-seconds of one task (a task occupies one core).
    pub task_seconds: Option<f64>,
    pub core_seconds: Option<f64>,
    #[serde(default = "defaults::target_task_s")]
    pub target_task_s: f64,
    /// Result due this many seconds after arrival.
    pub deadline_s: Option<f64>,
    #[serde(default)]
    pub priority: i32,
}

/// A generated workload: `jobs` jobs of `tasks_per_job` tasks, arriving every
/// `arrival_every_s`, tenants round-robin; every `deadline_every`-th job (if
/// set) is due `deadline_s` after its arrival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synthetic {
    pub jobs: u32,
    pub tasks_per_job: u32,
    pub task_seconds: f64,
    #[serde(default = "defaults::one")]
    pub tenants: u32,
    #[serde(default)]
    pub arrival_every_s: f64,
    pub deadline_every: Option<u32>,
    pub deadline_s: Option<f64>,
}

/// How long from asking for a node to it being ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LeadTime {
    /// EKS managed nodegroup + Cluster Autoscaler: uniform 180–300 s.
    Managed,
    /// Karpenter-like: uniform 45–90 s.
    Karpenter,
    Fixed {
        s: f64,
    },
    Uniform {
        min_s: f64,
        max_s: f64,
    },
    /// Lognormal with this median and log-space sigma, clipped to [min_s, max_s].
    Lognormal {
        median_s: f64,
        sigma: f64,
        min_s: f64,
        max_s: f64,
    },
}

/// The simulated cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    pub policy: BurstPolicy,
    /// Seconds between reconciles (each calls `riskgrid_capacity::decide`).
    #[serde(default = "defaults::reconcile_s")]
    pub reconcile_s: f64,
    #[serde(default = "defaults::lead_time")]
    pub lead_time: LeadTime,
    /// Per-nodegroup lead times, overriding `lead_time`.
    #[serde(default)]
    pub lead_times: BTreeMap<String, LeadTime>,
    /// Spot interruptions per spot node-hour (Poisson).
    #[serde(default)]
    pub spot_interruptions_per_node_hour: f64,
    /// Interruption notice (EC2: 2 minutes). Pods drain during it.
    #[serde(default = "defaults::notice_s")]
    pub notice_s: f64,
    /// From a pod placed on a ready node to its worker taking tasks.
    #[serde(default = "defaults::pod_start_s")]
    pub pod_start_s: f64,
    /// Most nodes the cloud can deliver per spot group; asks beyond stay unfulfilled.
    #[serde(default)]
    pub spot_capacity: BTreeMap<String, u32>,
    /// Fraction of a core's time spent on useful work (dispatch overheads), (0, 1].
    #[serde(default = "defaults::efficiency")]
    pub efficiency: f64,
}

/// A fixed on-prem grid: always there, never scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnPrem {
    pub nodes: u32,
    pub cores_per_node: u32,
    /// Amortised cost of one node-hour (hardware, power, space); 0 if not counted.
    #[serde(default)]
    pub usd_per_node_hour: f64,
    #[serde(default = "defaults::efficiency")]
    pub efficiency: f64,
}

mod defaults {
    use super::LeadTime;
    pub fn max_sim_s() -> u64 {
        30 * 24 * 3600
    }
    pub fn tenant() -> String {
        "default".into()
    }
    pub fn target_task_s() -> f64 {
        2.0
    }
    pub fn one() -> u32 {
        1
    }
    pub fn reconcile_s() -> f64 {
        15.0
    }
    pub fn lead_time() -> LeadTime {
        LeadTime::Managed
    }
    pub fn notice_s() -> f64 {
        120.0
    }
    pub fn pod_start_s() -> f64 {
        10.0
    }
    pub fn efficiency() -> f64 {
        1.0
    }
}

/// Problems with a scenario, each at its field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot parse scenario: {0}")]
    Parse(String),
    #[error("invalid scenario: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// The most tasks a scenario may hold (the simulator keeps a few words per job, not per task,
/// but a task still costs a dispatch).
pub const MAX_TASKS: u64 = 50_000_000;

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

impl LeadTime {
    fn check(&self, at: &str, errors: &mut Vec<String>) {
        let ok = match *self {
            LeadTime::Managed | LeadTime::Karpenter => true,
            LeadTime::Fixed { s } => non_negative(s),
            LeadTime::Uniform { min_s, max_s } => non_negative(min_s) && non_negative(max_s) && min_s <= max_s,
            LeadTime::Lognormal { median_s, sigma, min_s, max_s } => {
                positive(median_s)
                    && non_negative(sigma)
                    && non_negative(min_s)
                    && non_negative(max_s)
                    && min_s <= max_s
            }
        };
        if !ok {
            errors.push(format!("{at}: times must be finite, >= 0, with min_s <= max_s"));
        }
    }
}

impl Scenario {
    /// Parses YAML (JSON is YAML) and validates the whole scenario.
    pub fn parse(text: &str) -> Result<Scenario, Error> {
        let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| Error::Parse(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Every problem, with its field path.
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        let mut tasks: u64 = 0;
        for (i, j) in self.workload.jobs.iter().enumerate() {
            let at = |f: &str| format!("workload.jobs[{i}].{f}");
            if !non_negative(j.arrival_s) {
                errors.push(format!("{}: must be finite and >= 0", at("arrival_s")));
            }
            if j.deadline_s.is_some_and(|d| !positive(d)) {
                errors.push(format!("{}: must be finite and > 0", at("deadline_s")));
            }
            match (j.tasks, j.task_seconds, j.core_seconds) {
                (Some(n), Some(s), None) => {
                    if n == 0 || !positive(s) {
                        errors.push(format!("{}: tasks must be >= 1 and task_seconds > 0", at("tasks")));
                    }
                    tasks += u64::from(n);
                }
                (None, None, Some(c)) => {
                    if !positive(c) || !positive(j.target_task_s) {
                        errors.push(format!("{}: core_seconds and target_task_s must be > 0", at("core_seconds")));
                    } else {
                        tasks = tasks.saturating_add((c / j.target_task_s.clamp(0.5, 5.0)).ceil().min(1e18) as u64);
                    }
                }
                _ => errors.push(format!("{}: give tasks and task_seconds, or core_seconds", at("tasks"))),
            }
        }
        if let Some(s) = &self.workload.synthetic {
            if s.jobs == 0 || s.tasks_per_job == 0 || !positive(s.task_seconds) || s.tenants == 0 {
                errors.push("workload.synthetic: jobs, tasks_per_job, task_seconds and tenants must be > 0".into());
            }
            if !non_negative(s.arrival_every_s) {
                errors.push("workload.synthetic.arrival_every_s: must be finite and >= 0".into());
            }
            if s.deadline_every == Some(0) || s.deadline_s.is_some_and(|d| !positive(d)) {
                errors.push("workload.synthetic.deadline_every: must be >= 1 (and deadline_s > 0)".into());
            }
            if s.deadline_every.is_some() != s.deadline_s.is_some() {
                errors
                    .push("workload.synthetic.deadline_s: give both deadline_every and deadline_s, or neither".into());
            }
            tasks = tasks.saturating_add(u64::from(s.jobs) * u64::from(s.tasks_per_job));
        }
        if tasks == 0 {
            errors.push("workload: no jobs".into());
        }
        if tasks > MAX_TASKS {
            errors.push(format!("workload: {tasks} tasks, more than the {MAX_TASKS} the simulator accepts"));
        }
        for (name, &share) in &self.tenants {
            if share == 0 {
                errors.push(format!("tenants.{name}: share must be >= 1"));
            }
        }
        if self.cloud.is_none() && self.on_prem.is_none() {
            errors.push("cloud: give a cloud, an on_prem grid, or both".into());
        }
        if let Some(c) = &self.cloud {
            if let Err(e) = c.policy.validate() {
                errors.extend(e.0.iter().map(|e| format!("cloud.policy.{e}")));
            }
            if !(positive(c.reconcile_s) && c.reconcile_s <= 3600.0) {
                errors.push("cloud.reconcile_s: must be in (0, 3600]".into());
            }
            c.lead_time.check("cloud.lead_time", &mut errors);
            for (name, lt) in &c.lead_times {
                lt.check(&format!("cloud.lead_times.{name}"), &mut errors);
                if !c.policy.nodegroups.iter().any(|g| &g.name == name) {
                    errors.push(format!("cloud.lead_times.{name}: no such nodegroup"));
                }
            }
            for name in c.spot_capacity.keys() {
                if !c.policy.nodegroups.iter().any(|g| &g.name == name) {
                    errors.push(format!("cloud.spot_capacity.{name}: no such nodegroup"));
                }
            }
            if !non_negative(c.spot_interruptions_per_node_hour) {
                errors.push("cloud.spot_interruptions_per_node_hour: must be finite and >= 0".into());
            }
            if !non_negative(c.notice_s) || !non_negative(c.pod_start_s) {
                errors.push("cloud.notice_s, cloud.pod_start_s: must be finite and >= 0".into());
            }
            if !(positive(c.efficiency) && c.efficiency <= 1.0) {
                errors.push("cloud.efficiency: must be in (0, 1]".into());
            }
        }
        if let Some(o) = &self.on_prem {
            if o.nodes == 0 || o.cores_per_node == 0 {
                errors.push("on_prem.nodes, on_prem.cores_per_node: must be >= 1".into());
            }
            if !non_negative(o.usd_per_node_hour) {
                errors.push("on_prem.usd_per_node_hour: must be finite and >= 0".into());
            }
            if !(positive(o.efficiency) && o.efficiency <= 1.0) {
                errors.push("on_prem.efficiency: must be in (0, 1]".into());
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}
