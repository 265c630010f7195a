//! Pure mapping from Kubernetes objects to the capacity port's observations:
//! pod phase/conditions/deletionTimestamp → [`PodPhase`], ready nodes per
//! nodegroup label → [`NodegroupObservation`]. No I/O, so it is tested on
//! hand-written objects.

use crate::pod::{LABEL_NODEGROUP, LABEL_TENANT};
use k8s_openapi::api::core::v1::{Node, Pod};
use riskgrid_capacity::{NodegroupObservation, PodObservation, PodPhase};
use std::collections::BTreeMap;

/// Node label EKS managed nodegroups put on their nodes.
pub const EKS_NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";
/// Well-known node label carrying the instance type.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";

/// The phase the controller sees for `pod`.
pub fn pod_phase(pod: &Pod) -> PodPhase {
    if pod.metadata.deletion_timestamp.is_some() {
        return PodPhase::Terminating;
    }
    let status = pod.status.as_ref();
    match status.and_then(|s| s.phase.as_deref()) {
        Some("Failed" | "Succeeded") => PodPhase::Failed,
        Some("Running") => {
            let ready = status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            if ready { PodPhase::Ready } else { PodPhase::Pending }
        }
        // Pending, Unknown (node lost: the controller waits for the node controller) or no status yet.
        _ => PodPhase::Pending,
    }
}

/// Whole cores of the pod's `worker` container limit (`"4"`, `"4000m"`; fractions round up).
pub fn pod_cores(pod: &Pod) -> u32 {
    let cpu = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.resources.as_ref())
        .and_then(|r| r.limits.as_ref().or(r.requests.as_ref()))
        .and_then(|l| l.get("cpu"));
    cpu.and_then(|q| parse_cores(&q.0)).unwrap_or(0)
}

fn parse_cores(q: &str) -> Option<u32> {
    if let Some(milli) = q.strip_suffix('m') {
        let m: u64 = milli.parse().ok()?;
        return u32::try_from(m.div_ceil(1000)).ok();
    }
    if let Ok(n) = q.parse::<u32>() {
        return Some(n);
    }
    let f: f64 = q.parse().ok()?;
    (f.is_finite() && f >= 0.0 && f <= f64::from(u32::MAX)).then(|| f.ceil() as u32)
}

/// The observation for one of our pods.
pub fn pod_observation(pod: &Pod) -> PodObservation {
    let labels = pod.metadata.labels.as_ref();
    PodObservation {
        name: pod.metadata.name.clone().unwrap_or_default(),
        nodegroup: labels.and_then(|l| l.get(LABEL_NODEGROUP)).cloned().unwrap_or_default(),
        tenant: labels.and_then(|l| l.get(LABEL_TENANT)).cloned(),
        phase: pod_phase(pod),
        cores: pod_cores(pod),
    }
}

/// A node takes new work when its Ready condition is True, it is not cordoned and not being deleted.
pub fn node_ready(node: &Node) -> bool {
    let cordoned = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    ready && !cordoned && node.metadata.deletion_timestamp.is_none()
}

/// The nodegroup of `node`: our label `key` first, then EKS's.
pub fn node_group<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    let labels = node.metadata.labels.as_ref()?;
    labels.get(key).or_else(|| labels.get(EKS_NODEGROUP_LABEL)).map(String::as_str)
}

/// Nodegroups as seen from Node objects. This backend cannot resize them, so
/// `desired`, `min` and `max` are all the number of nodes present (a fixed pool).
pub fn nodegroups(nodes: &[Node], key: &str) -> Vec<NodegroupObservation> {
    let mut groups: BTreeMap<&str, NodegroupObservation> = BTreeMap::new();
    for node in nodes {
        let Some(name) = node_group(node, key) else { continue };
        let g = groups.entry(name).or_insert_with(|| NodegroupObservation {
            name: name.to_owned(),
            desired: 0,
            min: 0,
            max: 0,
            ready_nodes: 0,
            instance_type: String::new(),
        });
        g.desired += 1;
        g.min = g.desired;
        g.max = g.desired;
        g.ready_nodes += u32::from(node_ready(node));
        if g.instance_type.is_empty()
            && let Some(t) = node.metadata.labels.as_ref().and_then(|l| l.get(INSTANCE_TYPE_LABEL))
        {
            g.instance_type.clone_from(t);
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn cores_round_up() {
        for (q, want) in
            [("4", Some(4)), ("4000m", Some(4)), ("1500m", Some(2)), ("0.5", Some(1)), ("x", None), ("-1", None)]
        {
            assert_eq!(parse_cores(q), want, "{q}");
        }
    }

    #[test]
    fn phases() {
        let p = |phase: &str, ready: &str| {
            pod(serde_json::json!({"metadata": {"name": "w"},
                "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}}))
        };
        assert_eq!(pod_phase(&p("Running", "True")), PodPhase::Ready);
        assert_eq!(pod_phase(&p("Running", "False")), PodPhase::Pending);
        assert_eq!(pod_phase(&p("Pending", "True")), PodPhase::Pending);
        assert_eq!(pod_phase(&p("Succeeded", "False")), PodPhase::Failed);
        assert_eq!(pod_phase(&p("Failed", "False")), PodPhase::Failed);
        assert_eq!(pod_phase(&p("Unknown", "False")), PodPhase::Pending);
        assert_eq!(pod_phase(&pod(serde_json::json!({"metadata": {"name": "w"}}))), PodPhase::Pending);
        let mut deleting = p("Running", "True");
        deleting.metadata.deletion_timestamp =
            pod(serde_json::json!({"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}))
                .metadata
                .deletion_timestamp;
        assert_eq!(pod_phase(&deleting), PodPhase::Terminating);
    }
}
