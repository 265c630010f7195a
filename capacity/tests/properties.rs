//! Properties over random policies, observations and demand: the budget cap,
//! min/max, step and cooldown hold for every decision; plans are monotone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use riskgrid_capacity::{
    BurstPolicy, CapacityAction, CapacityType, ControllerMemory, DeadlineDemand, Demand, GroupMemory,
    NodegroupObservation, NodegroupPolicy, Observed, Throughput, WorkerTemplate, decide, plan,
};

const TYPES: &[&str] = &["m5.2xlarge", "c5.4xlarge", "c6i.8xlarge", "c5.9xlarge"];

fn arb_policy() -> impl Strategy<Value = BurstPolicy> {
    let group = (0usize..TYPES.len(), 0u32..20, 0u32..300, any::<bool>(), any::<bool>());
    (
        prop::collection::vec(group, 1..5),
        0.0f64..400.0,
        1u32..200,
        0u64..600,
        0u64..1200,
        prop::sample::select(vec![1u32, 2, 4, 8]),
    )
        .prop_map(|(groups, budget, step, cooldown, idle, cores_per_pod)| {
            let nodegroups: Vec<NodegroupPolicy> = groups
                .into_iter()
                .enumerate()
                .map(|(i, (t, min, extra, spot, fallback))| NodegroupPolicy {
                    name: format!("g{i}"),
                    min_nodes: min,
                    max_nodes: min + extra,
                    instance_type: TYPES[t].into(),
                    capacity: if spot { CapacityType::Spot } else { CapacityType::OnDemand },
                    fallback_on_demand: spot && fallback,
                })
                .collect();
            let mut p = BurstPolicy {
                nodegroups,
                budget_usd_per_hour: budget,
                scale_up_step: step,
                scale_up_cooldown_s: cooldown,
                scale_down_idle_s: idle,
                cores_per_pod,
                pods_per_node: None,
                drain_horizon_s: 600,
                node_lead_time_s: 200,
                spot_unavailable_after_s: 300,
                spot_retry_s: 600,
                instance_types: vec![],
                worker: WorkerTemplate::default(),
            };
            // Keep the minimums affordable (validation refuses the rest).
            let floor: f64 = p.resolve().iter().map(|g| f64::from(g.min_nodes) * g.price_micro as f64 / 1e6).sum();
            p.budget_usd_per_hour = p.budget_usd_per_hour.max(floor.ceil() + 1.0);
            p
        })
        .prop_filter("valid", |p| p.validate().is_ok())
}

fn arb_world(n: usize) -> impl Strategy<Value = (Vec<(u32, u32)>, Vec<Option<u64>>)> {
    (prop::collection::vec((0u32..500, 0u32..500), n), prop::collection::vec(prop::option::of(0u64..2_000_000), n))
}

fn arb_demand() -> impl Strategy<Value = Demand> {
    let deadline = (0.0f64..1e7, 0u64..5_000_000);
    (
        prop_oneof![Just(0.0), 0.0f64..1e8, Just(f64::NAN), Just(-5.0)],
        0u32..10_000,
        prop::collection::vec(deadline, 0..4),
    )
        .prop_map(|(queued, running, deadlines)| Demand {
            queued_core_seconds: queued,
            running_cores: running,
            deadlines: deadlines
                .into_iter()
                .enumerate()
                .map(|(i, (work, due))| DeadlineDemand {
                    job: format!("j{i}"),
                    remaining_core_seconds: work,
                    deadline_ms: due,
                })
                .collect(),
        })
}

/// Policy, per group (desired, ready), per group ms since the last scale-up, demand, now.
type Setup = (BurstPolicy, Vec<(u32, u32)>, Vec<Option<u64>>, Demand, u64);

fn setup() -> impl Strategy<Value = Setup> {
    arb_policy().prop_flat_map(|p| {
        let n = p.nodegroups.len();
        (Just(p), arb_world(n), arb_demand(), 0u64..3_000_000).prop_map(|(p, (w, m), d, now)| (p, w, m, d, now))
    })
}

fn observe(p: &BurstPolicy, world: &[(u32, u32)]) -> Observed {
    Observed {
        nodegroups: p
            .nodegroups
            .iter()
            .zip(world)
            .map(|(g, &(desired, ready))| NodegroupObservation {
                name: g.name.clone(),
                desired,
                min: g.min_nodes,
                max: g.max_nodes,
                ready_nodes: ready.min(desired),
                instance_type: g.instance_type.clone(),
            })
            .collect(),
        pods: vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_decision_keeps_budget_limits_step_and_cooldown((p, world, ups, demand, now) in setup()) {
        let memory = ControllerMemory {
            groups: p.nodegroups.iter().zip(&ups).map(|(g, &up)| {
                (g.name.clone(), GroupMemory { last_scale_up_ms: up.map(|ago| now.saturating_sub(ago)), ..GroupMemory::default() })
            }).collect(),
        };
        let obs = observe(&p, &world);
        let d = decide(&obs, &demand, &p, &memory, now);
        let groups = p.resolve();
        let price: u64 = groups.iter().zip(&d.targets).map(|(g, t)| u64::from(t.desired) * g.price_micro).sum();
        prop_assert!(price <= p.budget_micro(), "{price} > {}", p.budget_micro());
        prop_assert!(d.usd_per_hour <= p.budget_usd_per_hour + 1e-9);
        // Applying the resizes in order never passes through a state above the budget.
        let mut sizes: Vec<u32> = world.iter().map(|w| w.0).collect();
        let floor_price: u64 = groups.iter().zip(&sizes).map(|(g, &n)| u64::from(n) * g.price_micro).sum();
        for a in &d.actions {
            if let CapacityAction::SetNodegroupSize { nodegroup, desired } = a {
                let i = p.nodegroups.iter().position(|g| &g.name == nodegroup).unwrap();
                let grew = *desired > sizes[i];
                sizes[i] = *desired;
                let now_price: u64 = groups.iter().zip(&sizes).map(|(g, &n)| u64::from(n) * g.price_micro).sum();
                prop_assert!(!grew || now_price <= p.budget_micro().max(floor_price), "a group grew above the budget mid-apply");
            }
        }
        for (i, (g, t)) in p.nodegroups.iter().zip(&d.targets).enumerate() {
            prop_assert!(t.desired >= g.min_nodes && t.desired <= g.max_nodes, "{}: {} not in [{}, {}]", g.name, t.desired, g.min_nodes, g.max_nodes);
            let current = world[i].0;
            let floor = current.max(g.min_nodes);
            prop_assert!(t.desired <= current.saturating_add(p.scale_up_step).max(g.min_nodes), "step");
            let last = memory.groups[&g.name].last_scale_up_ms;
            if last.is_some_and(|l| now - l < p.scale_up_cooldown_s * 1000) {
                prop_assert!(t.desired <= floor, "{}: scaled up {current} -> {} within cooldown", g.name, t.desired);
            }
            if t.desired > current {
                prop_assert_eq!(d.memory.groups[&g.name].last_scale_up_ms, Some(now));
            }
            let set = d.actions.iter().find_map(|a| match a {
                CapacityAction::SetNodegroupSize { nodegroup, desired } if *nodegroup == g.name => Some(*desired),
                _ => None,
            });
            prop_assert_eq!(set, (t.desired != current).then_some(t.desired));
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_decision((p, world, _ups, demand, now) in setup()) {
        let obs = observe(&p, &world);
        let a = decide(&obs, &demand, &p, &ControllerMemory::default(), now);
        let b = decide(&obs, &demand, &p, &ControllerMemory::default(), now);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn tighter_deadlines_need_more_nodes_and_finish_sooner(
        p in arb_policy(), work in 1.0f64..1e7, d1 in 300.0f64..100_000.0, extra in 0.0f64..100_000.0,
    ) {
        let t = Throughput { efficiency: 0.9 };
        let tight = plan(work, Some(d1), &t, &p, 200.0);
        let loose = plan(work, Some(d1 + extra), &t, &p, 200.0);
        prop_assert!(tight.nodes_needed >= loose.nodes_needed);
        prop_assert!(tight.cores >= loose.cores);
        if let (Some(a), Some(b)) = (tight.expected_finish_s, loose.expected_finish_s) {
            prop_assert!(a <= b + 1e-9);
        }
        if tight.feasible {
            prop_assert!(loose.feasible);
            prop_assert!(tight.expected_finish_s.unwrap() <= d1 + 1e-6);
        }
        prop_assert!(tight.cost_spot_usd <= tight.cost_on_demand_usd + 1e-9);
    }
}

#[test]
fn more_cores_finish_earlier() {
    let f = |cores| riskgrid_capacity::plan::expected_finish_s(36_000.0, 0.9, cores, 60.0).unwrap();
    assert!(f(100) < f(10));
    assert_eq!(f(100), 60.0 + 400.0);
    assert_eq!(riskgrid_capacity::plan::expected_finish_s(1.0, 0.9, 0, 60.0), None);
}

#[test]
fn a_plan_names_nodes_finish_and_costs() {
    let p: BurstPolicy = serde_yaml::from_str(
        "
nodegroups:
  - {name: spot, max_nodes: 100, instance_type: c5.4xlarge, capacity: spot}
budget_usd_per_hour: 100
cores_per_pod: 16
",
    )
    .unwrap();
    // 57,600 core-seconds in 1 hour after a 240 s lead time at 100 % efficiency:
    // 57,600 / 3,360 = 17.1 cores → 2 nodes (32 cores), done in 240 + 1,800 s.
    let plan = plan(57_600.0, Some(3600.0), &Throughput { efficiency: 1.0 }, &p, 240.0);
    assert!(plan.feasible, "{}", plan.reason);
    assert_eq!(plan.nodes_needed, 2);
    assert_eq!(plan.expected_finish_s, Some(2040.0));
    assert!((plan.cost_spot_usd - 2.0 * 0.27 * 2040.0 / 3600.0).abs() < 1e-9);
    assert!((plan.cost_on_demand_usd - 2.0 * 0.68 * 2040.0 / 3600.0).abs() < 1e-9);
    // Too tight for 100 nodes: infeasible, with the reason.
    let plan2 = riskgrid_capacity::plan(57_600.0 * 1000.0, Some(600.0), &Throughput { efficiency: 1.0 }, &p, 240.0);
    assert!(!plan2.feasible);
    assert_eq!(plan2.nodes_needed, 100);
    assert!(plan2.reason.contains("allow 1600"), "{}", plan2.reason);
    let plan3 = riskgrid_capacity::plan(10.0, Some(100.0), &Throughput { efficiency: 1.0 }, &p, 240.0);
    assert!(!plan3.feasible && plan3.reason.contains("lead time"), "{}", plan3.reason);
}
