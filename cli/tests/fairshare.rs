//! Fair share across real processes: two tenants with shares 1:3 on a
//! saturated grid (a scheduler, four worker processes, more queued work than
//! cores) receive cores within 10% of 1:3, as the scheduler's per-tenant
//! Prometheus series show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

mod common;
use common::Proc;
use common::grid::*;

/// `name{tenant="t"} value` lines of one metric.
fn per_tenant(metrics: &str, name: &str) -> BTreeMap<String, f64> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix("{tenant=\""))
        .filter_map(|rest| {
            let (tenant, value) = rest.split_once("\"} ")?;
            Some((tenant.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn two_tenants_with_shares_one_to_three_get_cores_one_to_three() {
    let dir = temp_dir("fairshare");
    let config = dir.join("scheduler.yaml");
    std::fs::write(&config, "tenants:\n  a: {share: 1}\n  b: {share: 3}\ndefault_tenant: null\n").unwrap();
    let (_scheduler, url, metrics) = scheduler_with_metrics(&[
        "--task-seconds",
        "0.5",
        "--initial-throughput",
        "2e7",
        "--config",
        config.to_str().unwrap(),
    ]);
    // One trade, so every task costs the same in estimate and in fact: cores computing
    // then follow the core-seconds granted. Far more work than the window can finish.
    let file = dir.join("job.yaml");
    std::fs::write(
        &file,
        "seed: 3
market: {rate: 0.02, underlyings: [{id: X, spot: 100, vol: 0.25}]}
portfolio: [{id: c, instrument: {type: european, underlying: X, option: call, strike: 105, maturity: 0.5}}]
analysis: {paths: 10000000000, block_size: 65536}
",
    )
    .unwrap();
    let submit_as = |tenant: &str| {
        let out = riskgrid(
            &["submit", file.to_str().unwrap(), "--scheduler", &url, "--tenant", tenant, "--json"],
            Duration::from_secs(10),
        );
        json(&out)["job_id"].as_str().unwrap().to_owned()
    };
    // Both jobs are planned before any worker reports, so their tasks are the same size
    // (fair share is on estimated core-seconds; see ARCHITECTURE.md).
    let (ja, jb) = (submit_as("a"), submit_as("b"));
    let _workers: Vec<Proc> = (0..4).map(|i| worker(&url, &format!("w{i}"))).collect();
    // Let both tenants' work flow, then measure over a window where both are saturated.
    wait_until(Duration::from_secs(20), "both tenants running", || {
        let m = per_tenant(&scrape(&metrics), "riskgrid_tenant_cores_in_use");
        m.get("a").copied().unwrap_or(0.0) > 0.0 && m.get("b").copied().unwrap_or(0.0) > 0.0
    });
    let before = per_tenant(&scrape(&metrics), "riskgrid_tenant_core_seconds_total");
    let (mut cores_a, mut cores_b) = (0.0, 0.0);
    // Cores computing each tenant's work now (each worker's oldest leases up to its
    // cores, not its prefetched ones): a's share is about one core of four, so the
    // sampled ratio is noisy; 8 s of samples keep it well inside the tolerance.
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end {
        let m = per_tenant(&scrape(&metrics), "riskgrid_tenant_cores_in_use");
        cores_a += m["a"];
        cores_b += m["b"];
        std::thread::sleep(Duration::from_millis(25));
    }
    let after = per_tenant(&scrape(&metrics), "riskgrid_tenant_core_seconds_total");
    for (tenant, id) in [("a", &ja), ("b", &jb)] {
        let list =
            json(&riskgrid(&["jobs", "--scheduler", &url, "--tenant", tenant, "--json"], Duration::from_secs(10)));
        let row = list.as_array().unwrap().iter().find(|j| j["job_id"] == id.as_str()).unwrap().clone();
        assert_eq!(row["state"], "running", "{id} finished inside the window: make it bigger");
    }
    let granted = (after["b"] - before["b"]) / (after["a"] - before["a"]);
    let held = cores_b / cores_a;
    eprintln!("b:a core-seconds granted {granted:.3}, cores held {held:.3}");
    assert!((granted / 3.0 - 1.0).abs() <= 0.10, "core-seconds granted b:a = {granted:.3}, want 3 ± 10%");
    assert!((held / 3.0 - 1.0).abs() <= 0.10, "cores held b:a = {held:.3} (sampled), want 3 ± 10%");
}
