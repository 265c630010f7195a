//! The burst policy: what ops may change at runtime (node limits, spot or
//! on-demand, budget, pace of scaling). Plain serde data with a `validate()`
//! that reports every problem with its field path, so a bad policy is refused
//! whole and the running one stays in force.

use crate::catalogue::{self, InstanceType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// How a nodegroup buys its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityType {
    Spot,
    OnDemand,
}

/// One pool of identical nodes (an EKS managed nodegroup or a Karpenter pool).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodegroupPolicy {
    /// Lowercase letters, digits and '-' (it becomes part of pod names).
    pub name: String,
    #[serde(default)]
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub instance_type: String,
    pub capacity: CapacityType,
    /// Spot groups only: when this group is full or spot capacity is not
    /// coming, the shortfall may go to on-demand groups listed after it.
    #[serde(default)]
    pub fallback_on_demand: bool,
}

/// What every worker pod looks like (the rest of [`crate::WorkerPodSpec`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerTemplate {
    pub image: String,
    pub scheduler_endpoint: String,
    pub memory_mib_per_core: u64,
    pub drain_grace_seconds: u32,
}

impl Default for WorkerTemplate {
    fn default() -> Self {
        WorkerTemplate {
            image: "riskgrid/worker:latest".into(),
            scheduler_endpoint: "https://riskgrid-scheduler:7443".into(),
            memory_mib_per_core: 1024,
            drain_grace_seconds: 120,
        }
    }
}

/// The burst policy. Nodegroups are listed in order of preference: demand
/// fills the first one (up to its max and the budget) before the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstPolicy {
    pub nodegroups: Vec<NodegroupPolicy>,
    /// Cap on the hourly price of all nodes asked for (ready or pending). Never exceeded.
    pub budget_usd_per_hour: f64,
    /// At most this many nodes added to a nodegroup per reconcile.
    #[serde(default = "defaults::scale_up_step")]
    pub scale_up_step: u32,
    /// No scale-up of a nodegroup within this many seconds of its last one.
    #[serde(default = "defaults::scale_up_cooldown_s")]
    pub scale_up_cooldown_s: u64,
    /// A nodegroup shrinks only after it has had more nodes than demand needs
    /// for this long (with zero demand: after this much idle time).
    #[serde(default = "defaults::scale_down_idle_s")]
    pub scale_down_idle_s: u64,
    /// Cores of one worker pod.
    #[serde(default = "defaults::cores_per_pod")]
    pub cores_per_pod: u32,
    /// Worker pods per node; default: as many as the node's vCPUs allow.
    #[serde(default)]
    pub pods_per_node: Option<u32>,
    /// Queued work without a deadline should drain within about this long.
    #[serde(default = "defaults::drain_horizon_s")]
    pub drain_horizon_s: u64,
    /// Modelled time from asking for a node to a worker on it being ready.
    #[serde(default = "defaults::node_lead_time_s")]
    pub node_lead_time_s: u64,
    /// A spot group whose asked-for nodes have not become ready for this long
    /// is treated as out of spot capacity (its shortfall may fall back).
    #[serde(default = "defaults::spot_unavailable_after_s")]
    pub spot_unavailable_after_s: u64,
    /// How long a spot group stays marked unavailable before it is tried again.
    #[serde(default = "defaults::spot_retry_s")]
    pub spot_retry_s: u64,
    /// Instance types added to or overriding the built-in catalogue.
    #[serde(default)]
    pub instance_types: Vec<InstanceType>,
    #[serde(default)]
    pub worker: WorkerTemplate,
}

mod defaults {
    pub fn scale_up_step() -> u32 {
        100
    }
    pub fn scale_up_cooldown_s() -> u64 {
        30
    }
    pub fn scale_down_idle_s() -> u64 {
        600
    }
    pub fn cores_per_pod() -> u32 {
        4
    }
    pub fn drain_horizon_s() -> u64 {
        900
    }
    pub fn node_lead_time_s() -> u64 {
        240
    }
    pub fn spot_unavailable_after_s() -> u64 {
        600
    }
    pub fn spot_retry_s() -> u64 {
        900
    }
}

/// One problem with a policy, at a field path such as `nodegroups[1].max_nodes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid burst policy: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct PolicyErrors(pub Vec<FieldError>);

/// A nodegroup with its numbers looked up; what decisions and plans work on.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedGroup {
    pub name: String,
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub spot: bool,
    pub fallback_on_demand: bool,
    /// Price of one node of this group at its capacity type, micro-dollars per hour.
    pub price_micro: u64,
    pub spot_price_micro: u64,
    pub on_demand_price_micro: u64,
    pub pods_per_node: u32,
    /// Worker cores per node (pods × cores per pod).
    pub cores_per_node: u32,
}

/// Dollars → micro-dollars, so budget sums are exact integer arithmetic.
pub fn micro(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 { (usd * 1e6).round().min(u64::MAX as f64 / 4.0) as u64 } else { 0 }
}

impl BurstPolicy {
    /// The budget in micro-dollars per hour (rounded down: never more than asked).
    pub fn budget_micro(&self) -> u64 {
        let b = self.budget_usd_per_hour;
        if b.is_finite() && b > 0.0 { (b * 1e6).floor().min(u64::MAX as f64 / 4.0) as u64 } else { 0 }
    }

    /// The instance type `name`, from the policy's overrides or the built-in table.
    pub fn instance(&self, name: &str) -> Option<InstanceType> {
        catalogue::lookup(&self.instance_types, name)
    }

    /// Worker pods on one node of `t`.
    fn pods_on(&self, t: &InstanceType) -> u32 {
        self.pods_per_node.unwrap_or(t.vcpus / self.cores_per_pod.max(1))
    }

    /// The nodegroups with their prices and sizes. A group whose instance type
    /// is unknown gets zero cores and zero price (validation reports it).
    pub fn resolve(&self) -> Vec<ResolvedGroup> {
        self.nodegroups
            .iter()
            .map(|g| {
                let spot = g.capacity == CapacityType::Spot;
                let (spot_price, od_price, pods) = match self.instance(&g.instance_type) {
                    Some(t) => (micro(t.spot_usd_per_hour), micro(t.on_demand_usd_per_hour), self.pods_on(&t)),
                    None => (0, 0, 0),
                };
                ResolvedGroup {
                    name: g.name.clone(),
                    min_nodes: g.min_nodes,
                    max_nodes: g.max_nodes,
                    spot,
                    fallback_on_demand: spot && g.fallback_on_demand,
                    price_micro: if spot { spot_price } else { od_price },
                    spot_price_micro: spot_price,
                    on_demand_price_micro: od_price,
                    pods_per_node: pods,
                    cores_per_node: pods.saturating_mul(self.cores_per_pod),
                }
            })
            .collect()
    }

    /// Checks the whole policy; returns every problem found.
    pub fn validate(&self) -> Result<(), PolicyErrors> {
        let mut errors = Vec::new();
        let mut err = |path: String, message: String| errors.push(FieldError { path, message });
        if self.nodegroups.is_empty() {
            err("nodegroups".into(), "at least one nodegroup is needed".into());
        }
        if !(self.budget_usd_per_hour.is_finite() && self.budget_usd_per_hour >= 0.0) {
            err("budget_usd_per_hour".into(), "must be a finite number >= 0".into());
        }
        if self.scale_up_step == 0 {
            err("scale_up_step".into(), "must be >= 1".into());
        }
        if self.cores_per_pod == 0 {
            err("cores_per_pod".into(), "must be >= 1".into());
        }
        if self.pods_per_node == Some(0) {
            err("pods_per_node".into(), "must be >= 1".into());
        }
        if self.drain_horizon_s == 0 {
            err("drain_horizon_s".into(), "must be >= 1".into());
        }
        for (i, t) in self.instance_types.iter().enumerate() {
            if t.vcpus == 0 {
                err(format!("instance_types[{i}].vcpus"), "must be >= 1".into());
            }
            for (field, v) in
                [("on_demand_usd_per_hour", t.on_demand_usd_per_hour), ("spot_usd_per_hour", t.spot_usd_per_hour)]
            {
                if !(v.is_finite() && v >= 0.0) {
                    err(format!("instance_types[{i}].{field}"), "must be a finite number >= 0".into());
                }
            }
        }
        let mut names = BTreeSet::new();
        for (i, g) in self.nodegroups.iter().enumerate() {
            let at = |field: &str| format!("nodegroups[{i}].{field}");
            if !valid_name(&g.name) {
                err(at("name"), format!("{:?} must be 1-40 lowercase letters, digits or '-'", g.name));
            } else if !names.insert(g.name.as_str()) {
                err(at("name"), format!("{:?} is used by an earlier nodegroup", g.name));
            }
            if g.max_nodes < g.min_nodes {
                err(at("max_nodes"), format!("must be >= min_nodes ({})", g.min_nodes));
            }
            if g.fallback_on_demand && g.capacity == CapacityType::OnDemand {
                err(at("fallback_on_demand"), "only a spot nodegroup can fall back to on-demand".into());
            }
            match self.instance(&g.instance_type) {
                None => err(at("instance_type"), format!("unknown instance type {:?}", g.instance_type)),
                Some(t) => {
                    let pods = self.pods_on(&t);
                    if self.cores_per_pod > 0 && pods.saturating_mul(self.cores_per_pod) > t.vcpus {
                        err(
                            at("instance_type"),
                            format!(
                                "{} has {} vCPUs, fewer than {pods} pods x {} cores",
                                t.name, t.vcpus, self.cores_per_pod
                            ),
                        );
                    } else if pods == 0 && self.cores_per_pod > 0 {
                        err(
                            at("instance_type"),
                            format!(
                                "{} has {} vCPUs, fewer than one pod's {} cores",
                                t.name, t.vcpus, self.cores_per_pod
                            ),
                        );
                    }
                }
            }
        }
        let floor: u64 = self.resolve().iter().map(|g| u64::from(g.min_nodes).saturating_mul(g.price_micro)).sum();
        if floor > self.budget_micro() {
            err(
                "budget_usd_per_hour".into(),
                format!("the nodegroups' min_nodes alone cost {:.2} $/h, above the budget", floor as f64 / 1e6),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(PolicyErrors(errors)) }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const YAML: &str = "
nodegroups:
  - {name: spot-c5, min_nodes: 0, max_nodes: 400, instance_type: c5.4xlarge, capacity: spot, fallback_on_demand: true}
  - {name: od-c5, min_nodes: 1, max_nodes: 50, instance_type: c5.4xlarge, capacity: on_demand}
budget_usd_per_hour: 150
scale_up_step: 50
cores_per_pod: 8
";

    #[test]
    fn yaml_and_json_round_trip() {
        let p: BurstPolicy = serde_yaml::from_str(YAML).unwrap();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.scale_up_cooldown_s, 30, "defaults fill the rest");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<BurstPolicy>(&json).unwrap(), p);
        let yaml = serde_yaml::to_string(&p).unwrap();
        assert_eq!(serde_yaml::from_str::<BurstPolicy>(&yaml).unwrap(), p);
        let groups = p.resolve();
        assert_eq!(groups[0].pods_per_node, 2);
        assert_eq!(groups[0].cores_per_node, 16);
        assert_eq!(groups[0].price_micro, 270_000);
        assert_eq!(groups[1].price_micro, 680_000);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let bad = YAML.replace("scale_up_step", "scale_up_stpe");
        assert!(serde_yaml::from_str::<BurstPolicy>(&bad).is_err());
    }

    #[test]
    fn every_error_is_reported_with_its_path() {
        let mut p: BurstPolicy = serde_yaml::from_str(YAML).unwrap();
        p.nodegroups[1].max_nodes = 0;
        p.nodegroups[1].name = "spot-c5".into();
        p.nodegroups[0].instance_type = "z9.huge".into();
        p.scale_up_step = 0;
        p.budget_usd_per_hour = 0.1;
        let errors = p.validate().unwrap_err().0;
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "scale_up_step",
                "nodegroups[0].instance_type",
                "nodegroups[1].name",
                "nodegroups[1].max_nodes",
                "budget_usd_per_hour"
            ]
        );
        assert_eq!(errors[3].to_string(), "nodegroups[1].max_nodes: must be >= min_nodes (1)");
    }

    #[test]
    fn pods_must_fit_on_the_node() {
        let mut p: BurstPolicy = serde_yaml::from_str(YAML).unwrap();
        p.cores_per_pod = 32;
        let errors = p.validate().unwrap_err().0;
        assert!(errors.iter().all(|e| e.path.ends_with("instance_type")), "{errors:?}");
        p.cores_per_pod = 4;
        p.pods_per_node = Some(5);
        assert!(p.validate().is_err());
        p.pods_per_node = Some(4);
        assert_eq!(p.validate(), Ok(()));
    }
}
