//! Worker pods: `pods_per_node` pods of `cores_per_pod` cores on every ready
//! node a group keeps, named `riskgrid-worker-<group>-<n>` with the lowest
//! free `n`, so names are deterministic and a re-run of the same decision
//! asks for the same pods. Failed pods are deleted and replaced.

use crate::backend::{CapacityAction, Observed, PodPhase, WorkerPodSpec};
use crate::policy::{BurstPolicy, ResolvedGroup};
use std::collections::{BTreeMap, BTreeSet};

/// The name of pod `n` of `group`.
pub fn pod_name(group: &str, n: u32) -> String {
    format!("riskgrid-worker-{group}-{n}")
}

fn pod_index(group: &str, name: &str) -> Option<u32> {
    name.strip_prefix("riskgrid-worker-")?.strip_prefix(group)?.strip_prefix('-')?.parse().ok()
}

/// Pod actions so that each group has `ready_nodes[i] × pods_per_node` live
/// (pending or ready) pods. Pods of groups the policy no longer lists are deleted.
pub fn reconcile(
    observed: &Observed,
    groups: &[ResolvedGroup],
    ready_nodes: &[u32],
    policy: &BurstPolicy,
    reasons: &mut Vec<String>,
) -> Vec<CapacityAction> {
    let mut actions = Vec::new();
    let index: BTreeMap<&str, usize> = groups.iter().enumerate().map(|(i, g)| (g.name.as_str(), i)).collect();
    // Per group: live pods (phase, index, name) and every index in use.
    let mut live: Vec<Vec<(PodPhase, u32, &str)>> = vec![Vec::new(); groups.len()];
    let mut used: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); groups.len()];
    let mut failed = 0usize;
    for pod in &observed.pods {
        let Some(&gi) = index.get(pod.nodegroup.as_str()) else {
            if pod.phase != PodPhase::Terminating {
                actions.push(CapacityAction::DeletePod { name: pod.name.clone() });
            }
            continue;
        };
        let n = pod_index(&groups[gi].name, &pod.name);
        if let Some(n) = n {
            used[gi].insert(n);
        }
        match pod.phase {
            PodPhase::Failed => {
                failed += 1;
                actions.push(CapacityAction::DeletePod { name: pod.name.clone() });
            }
            PodPhase::Terminating => {}
            PodPhase::Pending | PodPhase::Ready => live[gi].push((pod.phase, n.unwrap_or(u32::MAX), &pod.name)),
        }
    }
    if failed > 0 {
        reasons.push(format!("{failed} failed worker pods deleted and replaced"));
    }
    for (gi, g) in groups.iter().enumerate() {
        let want = u64::from(ready_nodes[gi]) * u64::from(g.pods_per_node);
        let have = live[gi].len() as u64;
        if have > want {
            // Pending pods go first, then the highest numbers.
            live[gi].sort_by_key(|&(phase, n, _)| (phase != PodPhase::Pending, std::cmp::Reverse(n)));
            for &(_, _, name) in live[gi].iter().take((have - want) as usize) {
                actions.push(CapacityAction::DeletePod { name: name.to_owned() });
            }
            reasons.push(format!("{}: {} worker pods deleted ({} wanted)", g.name, have - want, want));
        } else if have < want {
            let mut n = 0u32;
            for _ in have..want {
                while used[gi].contains(&n) {
                    n += 1;
                }
                used[gi].insert(n);
                actions.push(CapacityAction::CreatePod(spec(g, n, policy)));
            }
            reasons.push(format!("{}: {} worker pods created ({} wanted)", g.name, want - have, want));
        }
    }
    actions
}

fn spec(g: &ResolvedGroup, n: u32, policy: &BurstPolicy) -> WorkerPodSpec {
    let w = &policy.worker;
    WorkerPodSpec {
        name: pod_name(&g.name, n),
        nodegroup: g.name.clone(),
        tenant: None,
        job: None,
        cores: policy.cores_per_pod,
        memory_mib: w.memory_mib_per_core.saturating_mul(u64::from(policy.cores_per_pod)),
        image: w.image.clone(),
        scheduler_endpoint: w.scheduler_endpoint.clone(),
        drain_grace_seconds: w.drain_grace_seconds,
        labels: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_to_their_index_only_for_their_group() {
        assert_eq!(pod_index("spot", &pod_name("spot", 12)), Some(12));
        assert_eq!(pod_index("spot", &pod_name("spot-b", 12)), None);
        assert_eq!(pod_index("spot", "riskgrid-worker-spot-x"), None);
    }
}
