//! `riskgrid bench dispatch --quick --json`: starts its own scheduler and two
//! workers on loopback and prints every figure issue #3 asks for. Timings are
//! never asserted, only that each figure is there and finite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

mod common;

#[test]
fn bench_dispatch_quick_prints_every_figure() {
    let mut cmd = Command::new(common::BIN);
    cmd.args(["bench", "dispatch", "--quick", "--json"]);
    let out = common::output_within(&mut cmd, Duration::from_secs(60), "bench dispatch");
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["workers"], 2);
    assert_eq!(v["layout"], "pinned", "the default layout");
    let figures = v["figures"].as_array().expect("figures");
    for name in [
        "tiny_tasks_per_second",
        "round_trip_p50_ms",
        "round_trip_p99_ms",
        "unary_call_p50_ms",
        "round_trip_json_p50_ms",
        "round_trip_durable_p50_ms",
        "efficiency_5ms_tasks",
        "scheduler_mib_per_1m_queued_tasks",
    ] {
        let f = figures.iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("figure {name} missing: {v}"));
        let value = f["value"].as_f64().unwrap_or_else(|| panic!("{name}: no value"));
        assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
        assert!(f.get("meets_target").is_some() && f.get("unit").is_some(), "{name}: {f}");
    }
    // Each cluster says what its processes used, the workers' compute threads apart.
    for c in v["clusters"].as_array().expect("clusters") {
        let workers = c["worker_cpu_seconds"].as_array().expect("worker_cpu_seconds");
        let compute = c["worker_compute_cpu_seconds"].as_array().expect("worker_compute_cpu_seconds");
        assert_eq!((workers.len(), compute.len()), (2, 2), "{c}");
        for (w, t) in workers.iter().zip(compute) {
            let (w, t) = (w.as_f64().expect("worker CPU read"), t.as_f64().expect("compute CPU read"));
            assert!(t <= w, "a worker's compute threads used {t} s of its {w} s: {c}");
        }
    }
}

#[test]
fn only_the_parts_asked_for_are_measured() {
    let mut cmd = Command::new(common::BIN);
    cmd.args(["bench", "dispatch", "--quick", "--json", "--only", "round-trips", "--layout", "free"]);
    let out = common::output_within(&mut cmd, Duration::from_secs(60), "bench dispatch --only round-trips");
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["layout"], "free");
    let names: Vec<&str> = v["figures"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "round_trip_p50_ms",
            "round_trip_p99_ms",
            "round_trip_json_p50_ms",
            "unary_call_p50_ms",
            "round_trip_durable_p50_ms"
        ]
    );
    assert_eq!(v["clusters"].as_array().unwrap().len(), 2, "a memory and a SQLite cluster: {v}");
}
