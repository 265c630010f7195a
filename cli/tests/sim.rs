//! `riskgrid sim` end to end: the small example scenario, as a real process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn riskgrid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_riskgrid")).args(args).current_dir(root()).output().expect("riskgrid runs")
}

#[test]
fn sim_json_reports_both_runs_and_repeats_byte_for_byte() {
    let out = riskgrid(&["sim", "examples/sim/small.yaml", "--json"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(report["scenario"], "small");
    assert_eq!(report["seed"], 7);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.iter().map(|r| r["mode"].as_str().unwrap()).collect::<Vec<_>>(), ["cloud", "on-prem"]);
    for r in runs {
        assert_eq!(r["complete"], true);
        assert_eq!(r["tasks_completed"], r["tasks"]);
        for field in ["makespan_s", "mean_time_to_result_s", "p95_time_to_result_s", "cost_usd", "node_hours_spot"] {
            assert!(r[field].is_f64(), "{field} missing in {r}");
        }
        assert_eq!(r["deadline_hits"].as_u64().unwrap() + r["deadline_misses"].as_u64().unwrap(), 1);
        assert_eq!(r["job_results"].as_array().unwrap().len(), 3);
    }
    assert!(runs[0]["peak_usd_per_hour"].as_f64().unwrap() <= runs[0]["budget_usd_per_hour"].as_f64().unwrap());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wall time"));
    let again = riskgrid(&["sim", "examples/sim/small.yaml", "--json"]);
    assert_eq!(out.stdout, again.stdout, "same seed, same bytes");
    let other = riskgrid(&["sim", "examples/sim/small.yaml", "--json", "--seed", "8"]);
    assert_ne!(out.stdout, other.stdout);
}

#[test]
fn sim_table_and_bad_input() {
    let out = riskgrid(&["sim", "examples/sim/small.yaml"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for row in ["makespan", "p95 time to result", "deadlines hit / missed", "cost", "wall time"] {
        assert!(table.contains(row), "no {row:?} in\n{table}");
    }
    let dir = std::env::temp_dir().join(format!("riskgrid-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "workload: {jobs: [{name: a, tasks: 0, task_seconds: 1}]}\non_prem: {nodes: 0, cores_per_node: 4}\n",
    )
    .unwrap();
    let out = riskgrid(&["sim", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("workload.jobs[0].tasks") && err.contains("on_prem.nodes"), "{err}");
}
