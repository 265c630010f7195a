//! The simulator end to end: determinism, spot losses bounded by one task per
//! interrupted core, the budget cap over whole runs, cloud and on-prem both
//! finishing, and deadline-driven pre-scaling paying off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use riskgrid_sim::{Report, RunReport, Scenario, simulate};

fn example(name: &str) -> Scenario {
    let path = format!("{}/../examples/sim/{name}", env!("CARGO_MANIFEST_DIR"));
    Scenario::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn run<'a>(report: &'a Report, mode: &str) -> &'a RunReport {
    report.runs.iter().find(|r| r.mode == mode).unwrap()
}

#[test]
fn same_seed_same_bytes_other_seed_other_run() {
    let s = example("small.yaml");
    let a = serde_json::to_string(&simulate(&s, None)).unwrap();
    let b = serde_json::to_string(&simulate(&s, None)).unwrap();
    assert_eq!(a, b);
    let c = serde_json::to_string(&simulate(&s, Some(s.seed + 1))).unwrap();
    assert_ne!(a, c, "the seed drives lead times and interruptions");
}

#[test]
fn small_example_finishes_everywhere_and_reports_sensible_numbers() {
    let report = simulate(&example("small.yaml"), None);
    println!("{}", report.table());
    for r in &report.runs {
        assert!(r.complete, "{}: {r:?}", r.mode);
        assert_eq!(r.tasks_completed, r.tasks, "{}: each task completes exactly once", r.mode);
        assert_eq!(r.jobs_finished, 3);
        assert!(r.p95_time_to_result_s >= r.mean_time_to_result_s * 0.5);
        assert!(r.makespan_s > 0.0 && r.cost_usd > 0.0);
    }
    let cloud = run(&report, "cloud");
    assert!(cloud.node_hours_spot > 0.0);
    assert!(cloud.reconciles > 10);
    assert!(cloud.peak_usd_per_hour <= 15.0 + 1e-9);
    let on_prem = run(&report, "on-prem");
    assert_eq!(on_prem.interruptions, 0);
    assert_eq!(on_prem.node_hours_spot + on_prem.node_hours_on_demand, 0.0);
    // 8 nodes billed for the whole makespan.
    assert!((on_prem.node_hours_on_prem - 8.0 * on_prem.makespan_s / 3600.0).abs() < 1e-6);
}

const SPOTTY: &str = "
seed: 3
workload:
  jobs:
    - {name: long, tenant: a, tasks: 3000, task_seconds: 300}
cloud:
  lead_time: karpenter
  spot_interruptions_per_node_hour: 2.0
  notice_s: 120
  policy:
    nodegroups:
      - {name: spot, max_nodes: 30, instance_type: c5.4xlarge, capacity: spot}
    budget_usd_per_hour: 100
    scale_up_step: 30
    scale_down_idle_s: 100000
    cores_per_pod: 1
    drain_horizon_s: 600
";

#[test]
fn a_spot_interruption_reruns_at_most_one_task_per_interrupted_pod() {
    let s = Scenario::parse(SPOTTY).unwrap();
    let r = &simulate(&s, None).runs[0];
    assert!(r.complete, "{r:?}");
    assert!(r.interruptions >= 5, "the scenario must interrupt: {}", r.interruptions);
    assert!(r.tasks_lost_to_interruptions > 0, "300 s tasks outlive a 120 s notice");
    // cores_per_pod = 1: one running task per pod at most.
    assert!(
        r.tasks_lost_to_interruptions <= r.interrupted_pods,
        "{} > {}",
        r.tasks_lost_to_interruptions,
        r.interrupted_pods
    );
    assert_eq!(
        r.tasks_rerun, r.tasks_lost_to_interruptions,
        "no scale-down during the run: every re-run is a spot loss"
    );
    assert_eq!(r.tasks_completed, r.tasks);
    // With 4-core pods, still at most one task per interrupted core.
    let mut four = s.clone();
    four.cloud.as_mut().unwrap().policy.cores_per_pod = 4;
    let r = &simulate(&four, None).runs[0];
    assert!(r.complete && r.tasks_lost_to_interruptions > 0);
    assert!(r.tasks_lost_to_interruptions <= r.interrupted_pod_cores);
}

#[test]
fn the_budget_cap_holds_over_a_whole_run_and_binds() {
    let mut s = Scenario::parse(SPOTTY).unwrap();
    let cloud = s.cloud.as_mut().unwrap();
    cloud.policy.nodegroups[0].fallback_on_demand = true;
    cloud.policy.nodegroups.push(
        serde_yaml::from_str("{name: od, max_nodes: 50, instance_type: c5.4xlarge, capacity: on_demand}").unwrap(),
    );
    cloud.policy.budget_usd_per_hour = 12.0;
    let r = &simulate(&s, None).runs[0];
    assert!(r.complete, "{r:?}");
    assert!(r.peak_usd_per_hour <= 12.0, "peak {} $/h", r.peak_usd_per_hour);
    assert!(r.peak_usd_per_hour > 10.0, "demand wants more than the budget: {}", r.peak_usd_per_hour);
    assert!(r.cost_usd <= 12.0 * r.makespan_s / 3600.0 + 1e-9);
}

const DEADLINE: &str = "
seed: 11
workload:
  jobs:
    - {name: eod, tenant: risk, tasks: 4000, task_seconds: 50, deadline_s: 1500}
cloud:
  lead_time: karpenter
  policy:
    nodegroups:
      - {name: spot, max_nodes: 100, instance_type: c5.4xlarge, capacity: spot}
    budget_usd_per_hour: 100
    scale_up_step: 50
    cores_per_pod: 16
    drain_horizon_s: 3600
    node_lead_time_s: 90
";

#[test]
fn deadline_driven_pre_scaling_beats_no_deadline() {
    let with = Scenario::parse(DEADLINE).unwrap();
    let mut without = with.clone();
    without.workload.jobs[0].deadline_s = None;
    let a = &simulate(&with, None).runs[0];
    let b = &simulate(&without, None).runs[0];
    assert!(a.complete && b.complete);
    let (ta, tb) = (a.job_results[0].time_to_result_s.unwrap(), b.job_results[0].time_to_result_s.unwrap());
    assert_eq!(a.deadline_hits, 1, "with its deadline the job is pre-scaled and makes it ({ta} s)");
    assert!(tb > 1500.0, "draining over an hour alone misses it ({tb} s)");
    assert!(ta < tb);
    assert!(a.peak_nodes > b.peak_nodes);
}

#[test]
fn bad_scenarios_are_refused_with_every_field_path() {
    let bad = DEADLINE
        .replace("tasks: 4000, task_seconds: 50", "tasks: 0, task_seconds: 50")
        .replace("max_nodes: 100", "max_nodes: 100, min_nodes: 200");
    let err = Scenario::parse(&bad).unwrap_err().to_string();
    assert!(err.contains("workload.jobs[0].tasks"), "{err}");
    assert!(err.contains("cloud.policy.nodegroups[0].max_nodes"), "{err}");
    assert!(Scenario::parse("workload: {jobs: []}\nbogus: 1").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_small_cloud_run_completes_within_budget(
        budget in 2.0f64..40.0, tasks in 10u32..400, secs in 1.0f64..400.0, rate in 0.0f64..3.0, seed in 0u64..1000, step in 1u32..30,
    ) {
        let text = format!("
workload:
  jobs:
    - {{name: a, tenant: x, tasks: {tasks}, task_seconds: {secs}, deadline_s: 900}}
    - {{name: b, arrival_s: 300, tenant: y, tasks: {tasks}, task_seconds: {secs}}}
cloud:
  lead_time: managed
  spot_interruptions_per_node_hour: {rate}
  policy:
    nodegroups:
      - {{name: spot, max_nodes: 40, instance_type: m5.2xlarge, capacity: spot, fallback_on_demand: true}}
      - {{name: od, max_nodes: 40, instance_type: c5.4xlarge, capacity: on_demand}}
    budget_usd_per_hour: {budget}
    scale_up_step: {step}
    cores_per_pod: 2
");
        let s = Scenario::parse(&text).unwrap();
        let r = &simulate(&s, Some(seed)).runs[0];
        prop_assert!(r.complete);
        prop_assert_eq!(r.tasks_completed, r.tasks);
        prop_assert!(r.peak_usd_per_hour <= budget, "peak {} > {}", r.peak_usd_per_hour, budget);
        prop_assert!(r.tasks_lost_to_interruptions <= r.interrupted_pod_cores);
    }
}

/// The benchmark (not a timed test): `cargo test --release -p riskgrid-sim -- --ignored --nocapture`,
/// or `riskgrid sim examples/sim/burst-10k.yaml`.
#[test]
#[ignore = "benchmark: 10,000 nodes and 1,000,000 tasks"]
fn burst_10k_benchmark() {
    let s = example("burst-10k.yaml");
    let start = std::time::Instant::now();
    let report = simulate(&s, None);
    let wall = start.elapsed().as_secs_f64();
    println!("{}", report.table());
    println!("wall time {wall:.2} s");
    let cloud = run(&report, "cloud");
    assert!(cloud.complete && cloud.tasks == 1_000_000);
    assert!(cloud.peak_nodes >= 9_900, "peak {}", cloud.peak_nodes);
    assert!(cloud.node_hours_on_demand > 0.0, "spot c6i capacity runs out: on-demand fallback");
    assert!(cloud.peak_usd_per_hour <= 4000.0);
}
