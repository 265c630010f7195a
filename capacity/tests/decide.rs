//! Scaling decisions, rule by rule, as pure calls with a hand-held clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use riskgrid_capacity::{
    BurstPolicy, CapacityAction, ControllerMemory, DeadlineDemand, Decision, Demand, NodegroupObservation, Observed,
    PodObservation, PodPhase, decide,
};

const POLICY: &str = "
nodegroups:
  - {name: spot, min_nodes: 0, max_nodes: 100, instance_type: c5.4xlarge, capacity: spot, fallback_on_demand: true}
  - {name: od, min_nodes: 0, max_nodes: 20, instance_type: c5.4xlarge, capacity: on_demand}
budget_usd_per_hour: 1000
scale_up_step: 10
scale_up_cooldown_s: 60
scale_down_idle_s: 300
cores_per_pod: 16
drain_horizon_s: 600
node_lead_time_s: 240
spot_unavailable_after_s: 600
";

fn policy() -> BurstPolicy {
    let p: BurstPolicy = serde_yaml::from_str(POLICY).unwrap();
    p.validate().unwrap();
    p
}

/// The world after a decision was applied: sizes as asked, `ready` of them ready.
fn observed(d: &Decision, ready: &[u32], pods: Vec<PodObservation>) -> Observed {
    Observed {
        nodegroups: d
            .targets
            .iter()
            .zip(ready)
            .map(|(t, &r)| NodegroupObservation {
                name: t.nodegroup.clone(),
                desired: t.desired,
                min: 0,
                max: 100,
                ready_nodes: r.min(t.desired),
                instance_type: "c5.4xlarge".into(),
            })
            .collect(),
        pods,
    }
}

fn sizes(d: &Decision) -> Vec<u32> {
    d.targets.iter().map(|t| t.desired).collect()
}

fn queued(core_seconds: f64) -> Demand {
    Demand { queued_core_seconds: core_seconds, ..Demand::default() }
}

#[test]
fn queued_work_scales_up_by_step_respecting_cooldown() {
    let p = policy();
    // 16 cores/node, 600 s horizon: 16 * 600 * 50 core-seconds need 50 nodes.
    let demand = queued(16.0 * 600.0 * 50.0);
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    assert_eq!(d0.desired_cores, 800);
    assert_eq!(d0.targets[0].wanted, 50);
    assert_eq!(sizes(&d0), [10, 0], "one step of 10");
    assert!(d0.actions.contains(&CapacityAction::SetNodegroupSize { nodegroup: "spot".into(), desired: 10 }));
    let d1 = decide(&observed(&d0, &[0, 0], vec![]), &demand, &p, &d0.memory, 30_000);
    assert_eq!(sizes(&d1), [10, 0], "within the 60 s cooldown");
    assert!(d1.actions.is_empty(), "{:?}", d1.actions);
    let d2 = decide(&observed(&d1, &[0, 0], vec![]), &demand, &p, &d1.memory, 60_000);
    assert_eq!(sizes(&d2), [20, 0]);
}

#[test]
fn scale_down_waits_for_idle_time_then_goes_to_min() {
    let mut p = policy();
    p.nodegroups[0].min_nodes = 2;
    let demand = queued(16.0 * 600.0 * 5.0);
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    assert_eq!(sizes(&d0), [5, 0]);
    let idle = Demand::default();
    let mut d = decide(&observed(&d0, &[5, 0], vec![]), &idle, &p, &d0.memory, 1_000);
    assert_eq!(sizes(&d)[0], 5, "no scale-down at the first idle reconcile");
    for t in [100_000, 200_000, 300_000] {
        d = decide(&observed(&d, &[5, 0], vec![]), &idle, &p, &d.memory, t);
        assert_eq!(sizes(&d)[0], 5, "at {t} ms");
    }
    d = decide(&observed(&d, &[5, 0], vec![]), &idle, &p, &d.memory, 301_000);
    assert_eq!(sizes(&d), [2, 0], "after 300 s idle: down to min");
    // Demand in between resets the idle clock.
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    let a = decide(&observed(&d0, &[5, 0], vec![]), &idle, &p, &d0.memory, 1_000);
    let b = decide(&observed(&a, &[5, 0], vec![]), &demand, &p, &a.memory, 200_000);
    let c = decide(&observed(&b, &[5, 0], vec![]), &idle, &p, &b.memory, 400_000);
    assert_eq!(sizes(&c)[0], 5, "idle since 400 s only");
}

#[test]
fn a_deadline_pre_scales_beyond_what_draining_asks() {
    let p = policy();
    // 1600 core-seconds drain over 600 s on 3 cores: one node.
    let plain = queued(1600.0);
    let d = decide(&Observed::default(), &plain, &p, &ControllerMemory::default(), 0);
    assert_eq!(d.targets[0].wanted, 1);
    // 16,000 core-seconds due in 340 s with a 240 s lead time: 100 s of compute on 160 cores.
    let mut due = plain.clone();
    due.deadlines.push(DeadlineDemand { job: "j".into(), remaining_core_seconds: 16_000.0, deadline_ms: 340_000 });
    due.queued_core_seconds = 16_000.0;
    let d = decide(&Observed::default(), &due, &p, &ControllerMemory::default(), 0);
    assert_eq!(d.desired_cores, 160);
    assert_eq!(d.targets[0].wanted, 10);
    // A past deadline asks for everything it may have, not for infinity.
    let d = decide(&Observed::default(), &due, &p, &ControllerMemory::default(), 10_000_000);
    assert_eq!(d.targets.iter().map(|t| t.wanted).collect::<Vec<_>>(), [100, 20]);
}

#[test]
fn spot_shortfall_falls_back_to_on_demand() {
    let p = policy();
    let demand = queued(16.0 * 600.0 * 8.0);
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    assert_eq!(sizes(&d0), [8, 0]);
    // Only 3 spot nodes ever come; the shortfall is first seen at 1 s.
    let d1 = decide(&observed(&d0, &[3, 0], vec![]), &demand, &p, &d0.memory, 1_000);
    assert_eq!(sizes(&d1), [8, 0], "still waiting");
    let d1 = decide(&observed(&d1, &[3, 0], vec![]), &demand, &p, &d1.memory, 600_000);
    assert_eq!(sizes(&d1), [8, 0], "599 s is not yet 600");
    let d2 = decide(&observed(&d1, &[3, 0], vec![]), &demand, &p, &d1.memory, 601_000);
    assert_eq!(sizes(&d2), [3, 5], "after 600 s: spot cut to what came, the rest on-demand");
    assert!(d2.reasons.iter().any(|r| r.contains("unavailable")), "{:?}", d2.reasons);
    // Without fallback the on-demand group is not used and spot keeps asking.
    let mut p = policy();
    p.nodegroups[0].fallback_on_demand = false;
    let d1 = decide(&observed(&d0, &[3, 0], vec![]), &demand, &p, &d0.memory, 1_000);
    let d2 = decide(&observed(&d1, &[3, 0], vec![]), &demand, &p, &d1.memory, 601_000);
    assert_eq!(sizes(&d2), [8, 0]);

    // Churn is not progress: interrupted nodes replaced (ready 3 → 2 → 3) do not reset the clock,
    // a new high (4) does.
    let p = policy();
    let mut d = decide(&observed(&d0, &[3, 0], vec![]), &demand, &p, &d0.memory, 1_000);
    for (t, ready) in [(200_000, 2), (400_000, 3)] {
        d = decide(&observed(&d, &[ready, 0], vec![]), &demand, &p, &d.memory, t);
    }
    let churn = decide(&observed(&d, &[3, 0], vec![]), &demand, &p, &d.memory, 601_000);
    assert_eq!(sizes(&churn), [3, 5]);
    let rising = decide(&observed(&d, &[4, 0], vec![]), &demand, &p, &d.memory, 601_000);
    assert_eq!(sizes(&rising), [8, 0]);
}

#[test]
fn a_full_spot_group_overflows_to_on_demand_within_budget() {
    let mut p = policy();
    p.scale_up_step = 1000;
    // Spot 100 × 0.27 = 27 $/h; on-demand 0.68 $/h each; budget 30 → 4 on-demand nodes.
    p.budget_usd_per_hour = 30.0;
    let d = decide(&Observed::default(), &queued(1e9), &p, &ControllerMemory::default(), 0);
    assert_eq!(sizes(&d), [100, 4]);
    assert!(d.usd_per_hour <= 30.0);
}

#[test]
fn runtime_policy_change_takes_effect_on_the_next_reconcile() {
    let mut p = policy();
    p.scale_up_step = 1000;
    let demand = queued(1e9);
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    assert_eq!(sizes(&d0), [100, 20]);
    p.nodegroups[0].max_nodes = 40;
    p.budget_usd_per_hour = 12.0;
    let d1 = decide(&observed(&d0, &[100, 20], vec![]), &demand, &p, &d0.memory, 1_000);
    assert_eq!(sizes(&d1), [40, 1], "max 40 spot (10.80 $/h) + 1 on-demand (0.68) under 12 $/h");
    assert!(d1.usd_per_hour <= 12.0);
}

#[test]
fn pods_fill_ready_nodes_and_failed_ones_are_replaced() {
    let mut p = policy();
    p.cores_per_pod = 4; // 4 pods per c5.4xlarge
    let demand = queued(16.0 * 600.0 * 2.0);
    let d0 = decide(&Observed::default(), &demand, &p, &ControllerMemory::default(), 0);
    assert!(d0.actions.iter().all(|a| matches!(a, CapacityAction::SetNodegroupSize { .. })), "no node ready yet");
    let d1 = decide(&observed(&d0, &[2, 0], vec![]), &demand, &p, &d0.memory, 1_000);
    let created: Vec<String> = d1
        .actions
        .iter()
        .filter_map(|a| match a {
            CapacityAction::CreatePod(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..8).map(|n| format!("riskgrid-worker-spot-{n}")).collect();
    assert_eq!(created, expected);
    let pod = |n: u32, phase| PodObservation {
        name: format!("riskgrid-worker-spot-{n}"),
        nodegroup: "spot".into(),
        tenant: None,
        phase,
        cores: 4,
    };
    let mut pods: Vec<_> = (0..8).map(|n| pod(n, PodPhase::Ready)).collect();
    pods[3].phase = PodPhase::Failed;
    let d2 = decide(&observed(&d1, &[2, 0], pods), &demand, &p, &d1.memory, 2_000);
    assert_eq!(d2.actions.len(), 2, "{:?}", d2.actions);
    assert_eq!(d2.actions[0], CapacityAction::DeletePod { name: "riskgrid-worker-spot-3".into() });
    let CapacityAction::CreatePod(spec) = &d2.actions[1] else { panic!("{:?}", d2.actions) };
    assert_eq!(spec.name, "riskgrid-worker-spot-8", "a fresh name: the failed pod's is still in use");
    assert_eq!((spec.cores, spec.memory_mib), (4, 4096));
}

#[test]
fn busy_cores_hold_capacity_but_do_not_ask_for_more() {
    let p = policy();
    // 64 busy cores and a queue that drains on 50 cores within the horizon: keep 64, not 114.
    let d = Demand { queued_core_seconds: 50.0 * 600.0, running_cores: 64, deadlines: vec![] };
    assert_eq!(riskgrid_capacity::desired_cores(&d, &p, 0), 64);
    let d = Demand { queued_core_seconds: 100.0 * 600.0, running_cores: 64, deadlines: vec![] };
    assert_eq!(riskgrid_capacity::desired_cores(&d, &p, 0), 100);
    let d = Demand { queued_core_seconds: 0.0, running_cores: 3, deadlines: vec![] };
    assert_eq!(riskgrid_capacity::desired_cores(&d, &p, 0), 3, "running tasks keep their cores");
}
