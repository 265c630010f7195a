//! `riskgrid scheduler --metrics-listen`: a real scheduler and worker on
//! loopback, one small job, then a plain HTTP scrape of `/metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::grid::riskgrid;
use common::{BIN, Proc};

/// Starts a scheduler with metrics on a free port; returns (process, gRPC URL, metrics address).
fn scheduler() -> (Proc, String, String) {
    let args = ["scheduler", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--lease-ms", "1500"];
    let mut child = Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("the scheduler prints its addresses");
    let grpc = line.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).expect("an address").to_owned();
    let metrics = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://")?.trim_end_matches(')').strip_suffix("/metrics").map(str::to_owned))
        .unwrap_or_else(|| panic!("a metrics address in {line:?}"));
    (proc, format!("http://{grpc}"), metrics)
}

/// `GET /metrics` over a plain TCP stream; the body of a 200 answer.
fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: riskgrid\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("a header and a body");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
    body.to_owned()
}

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
    let (_s, url, metrics) = scheduler();
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
