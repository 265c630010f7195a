//! `riskgrid scheduler --metrics-listen`: a real scheduler and worker on
//! loopback, one small job, then a plain HTTP scrape of `/metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::grid::{riskgrid, scheduler_with_metrics, scrape};
use common::{BIN, Proc};

/// The value of the sample `series` (name and labels, exactly as exposed).
fn sample(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{body}"))
}

#[test]
fn metrics_count_jobs_tasks_and_workers() {
    let dir = std::env::temp_dir().join(format!("riskgrid-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("job.yaml");
    std::fs::write(
        &file,
        "seed: 3
market: {rate: 0.03, underlyings: [{id: SPX, spot: 100, vol: 0.2}]}
portfolio:
  - {id: c1, instrument: {type: european, underlying: SPX, option: call, strike: 100, maturity: 1}}
analysis: {paths: 20000, block_size: 1024}
",
    )
    .unwrap();
    let (_s, url, metrics) = scheduler_with_metrics(&[]);
    let before = scrape(&metrics);
    assert_eq!(sample(&before, "riskgrid_workers"), 0.0);
    assert_eq!(sample(&before, "riskgrid_jobs{state=\"succeeded\"}"), 0.0);
    assert!(before.contains("# TYPE riskgrid_tasks_completed_total counter"), "{before}");

    let args = ["worker", "--scheduler", &url, "--threads", "1", "--name", "m1", "--grace-secs", "5"];
    let _w = Proc(Command::new(BIN).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let out = riskgrid(
        &["submit", file.to_str().unwrap(), "--scheduler", &url, "--watch", "--json", "--quiet"],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));

    let after = scrape(&metrics);
    assert!(sample(&after, "riskgrid_jobs{state=\"succeeded\"}") >= 1.0, "{after}");
    assert_eq!(sample(&after, "riskgrid_jobs{state=\"running\"}"), 0.0, "{after}");
    assert!(sample(&after, "riskgrid_workers") >= 1.0, "{after}");
    assert!(sample(&after, "riskgrid_tasks_completed_total") >= 1.0, "{after}");
    assert_eq!(sample(&after, "riskgrid_queue_core_seconds"), 0.0, "{after}");
    assert!(sample(&after, "riskgrid_lease_expiries_total") >= 0.0, "{after}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_listen_off_loopback_needs_the_insecure_flag() {
    let args = ["scheduler", "--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:0"];
    let out = riskgrid(&args, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--metrics-listen") && err.contains("--insecure-listen-anywhere"), "{err}");
}
