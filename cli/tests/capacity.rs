//! Burst capacity end to end with the `local` backend: the scheduler's
//! controller starts worker processes when work arrives and stops them when
//! idle; ops read, change and plan with `riskgrid capacity`; a bad policy is
//! refused by field and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

mod common;
use common::grid::*;

const POLICY: &str = "nodegroups:
  - {name: local, min_nodes: 0, max_nodes: 1, instance_type: this-host, capacity: on_demand}
budget_usd_per_hour: 1.0
scale_up_cooldown_s: 0
scale_down_idle_s: 2
cores_per_pod: 1
node_lead_time_s: 0
drain_horizon_s: 60
instance_types:
  - {name: this-host, vcpus: 2, memory_mib: 4096, on_demand_usd_per_hour: 0.5, spot_usd_per_hour: 0.2}
worker: {image: local, scheduler_endpoint: 'http://127.0.0.1:7878', memory_mib_per_core: 1024, drain_grace_seconds: 5}
";

fn show(url: &str) -> serde_json::Value {
    json(&riskgrid(&["capacity", "show", "--scheduler", url, "--json"], Duration::from_secs(10)))
}

fn pods(url: &str) -> usize {
    let s = show(url);
    s["last_reconcile"]["observed"]["pods"].as_array().map_or(0, Vec::len)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn the_local_backend_bursts_for_a_job_and_shrinks_when_idle() {
    let dir = temp_dir("capacity-local");
    let policy = write(&dir, "policy.yaml", POLICY);
    let file = job_file(&dir, "job.yaml", 2_000_000);
    let (_s, url) = scheduler(&[
        "--task-seconds",
        "0.5",
        "--initial-throughput",
        "2e7",
        "--capacity-backend",
        "local",
        "--burst-policy",
        &policy,
        "--reconcile-secs",
        "0.2",
    ]);
    // No work, no workers.
    wait_until(Duration::from_secs(10), "a first reconcile", || !show(&url)["last_reconcile"].is_null());
    assert_eq!(pods(&url), 0, "workers started with nothing queued");
    // A job: the controller starts workers, the job completes with the bits of `run`.
    let id = submit(&url, &file);
    let grid = result(&url, &id, Duration::from_secs(60));
    assert_same_bits(&grid, &local(&file));
    let s = show(&url);
    assert_eq!(s["backend"], "local");
    // Idle for scale_down_idle_s: the node goes, and its workers drain and exit.
    wait_until(Duration::from_secs(30), "scale-down to zero workers", || {
        let s = show(&url);
        let groups = &s["last_reconcile"]["observed"]["nodegroups"];
        s["last_reconcile"]["observed"]["pods"].as_array().is_some_and(Vec::is_empty) && groups[0]["desired"] == 0
    });
}

#[test]
fn policy_changes_are_validated_and_take_effect_at_the_next_reconcile() {
    let dir = temp_dir("capacity-set");
    let policy = write(&dir, "policy.yaml", POLICY);
    let (_s, url) = scheduler(&["--capacity-backend", "local", "--burst-policy", &policy, "--reconcile-secs", "0.2"]);
    // A bad policy: refused with every bad field named (exit 2); the old one stays.
    let bad = write(
        &dir,
        "bad.yaml",
        &POLICY.replace("max_nodes: 1", "max_nodes: 1, min_nodes: 3").replace("min_nodes: 0, ", ""),
    );
    let out = riskgrid(&["capacity", "set", &bad, "--scheduler", &url], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nodegroups[0]"), "{err}");
    assert_eq!(show(&url)["policy"]["nodegroups"][0]["max_nodes"], 1);
    // A good one: in force at once, and the next reconcile uses it.
    let good = write(&dir, "good.yaml", &POLICY.replace("budget_usd_per_hour: 1.0", "budget_usd_per_hour: 0.25"));
    let out = riskgrid(&["capacity", "set", &good, "--scheduler", &url, "--reason", "test"], Duration::from_secs(10));
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(show(&url)["policy"]["budget_usd_per_hour"], 0.25);
    // The node costs 0.5 $/h, above the new budget: a job now gets no node.
    let file = job_file(&dir, "job.yaml", 200_000);
    let _id = submit(&url, &file);
    wait_until(Duration::from_secs(10), "a reconcile that sees the job", || {
        show(&url)["last_reconcile"]["demand"]["queued_core_seconds"].as_f64().unwrap_or(0.0) > 0.0
    });
    let s = show(&url);
    assert_eq!(s["last_reconcile"]["targets"][0]["desired"], 0, "{s}");
    assert_eq!(pods(&url), 0);
}

#[test]
fn plan_gives_nodes_finish_and_cost_for_a_deadline() {
    let dir = temp_dir("capacity-plan");
    let policy = write(&dir, "policy.yaml", POLICY);
    let (_s, url) = scheduler(&["--burst-policy", &policy, "--initial-throughput", "2e7"]);
    let file = job_file(&dir, "job.yaml", 4_000_000);
    let file = file.to_str().unwrap();
    let plan = json(&riskgrid(
        &["capacity", "plan", file, "--deadline", "30m", "--scheduler", &url, "--json"],
        Duration::from_secs(20),
    ));
    assert_eq!(plan["nodes_needed"], 1, "{plan}");
    assert_eq!(plan["feasible"], true, "{plan}");
    let finish = plan["expected_finish_s"].as_f64().unwrap();
    assert!(finish > 0.0 && finish < 1800.0, "{plan}");
    // Cost = node price × time to the result: spot is cheaper than on-demand.
    let (spot, od) = (plan["cost_spot_usd"].as_f64().unwrap(), plan["cost_on_demand_usd"].as_f64().unwrap());
    assert!(spot > 0.0 && spot < od, "{plan}");
    // Without a backend nothing scales, and a bad deadline is refused naming the flag.
    assert_eq!(show(&url)["backend"], "none");
    let out = riskgrid(&["capacity", "plan", file, "--deadline=-5m", "--scheduler", &url], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--deadline"));
}
