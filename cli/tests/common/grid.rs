//! Helpers for end-to-end grid tests: a scheduler and workers as child
//! processes on loopback, the `riskgrid` client commands, bit comparisons.

use super::{BIN, Proc};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riskgrid-grid-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A two-trade job (a European and a 12-fixing Asian with Greeks) of `paths` paths.
pub fn job_file(dir: &Path, name: &str, paths: u64) -> PathBuf {
    let text = format!(
        "seed: 7
market: {{rate: 0.03, underlyings: [{{id: SPX, spot: 100, dividend_yield: 0.01, vol: 0.2}}]}}
portfolio:
  - {{id: c1, instrument: {{type: european, underlying: SPX, option: call, strike: 100, maturity: 1}}}}
  - {{id: p1, quantity: -2, instrument: {{type: asian, underlying: SPX, option: put, strike: 95, maturity: 1, fixings: 12, average: arithmetic}}}}
analysis: {{paths: {paths}, block_size: 1024, greeks: [delta, vega, rho, theta]}}
"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The scheduler on a free port (it prints the address it bound).
pub fn scheduler(extra: &[&str]) -> (Proc, String) {
    scheduler_on("127.0.0.1:0", extra)
}

pub fn scheduler_on(listen: &str, extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["scheduler", "--listen", listen, "--lease-ms", "1500", "--worker-timeout-ms", "3000"];
    args.extend_from_slice(extra);
    let (proc, line) = scheduler_banner(&args);
    let addr = line.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).expect("an address").to_owned();
    (proc, format!("http://{addr}"))
}

/// The scheduler on a free port with `/metrics` on another: (process, gRPC URL, metrics address).
pub fn scheduler_with_metrics(extra: &[&str]) -> (Proc, String, String) {
    let mut args =
        vec!["scheduler", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--lease-ms", "1500"];
    args.extend_from_slice(extra);
    let (proc, line) = scheduler_banner(&args);
    let grpc = line.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).expect("an address").to_owned();
    let metrics = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://")?.trim_end_matches(')').strip_suffix("/metrics").map(str::to_owned))
        .unwrap_or_else(|| panic!("a metrics address in {line:?}"));
    (proc, format!("http://{grpc}"), metrics)
}

/// Starts `riskgrid ARGS` (a scheduler) and returns it with the one line it prints first.
fn scheduler_banner(args: &[&str]) -> (Proc, String) {
    let mut child = Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("the scheduler prints its address");
    (proc, line)
}

/// `GET /metrics` over a plain TCP stream; the body of a 200 answer.
pub fn scrape(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: riskgrid\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("a header and a body");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
    body.to_owned()
}

pub fn worker(url: &str, name: &str) -> Proc {
    let args = ["worker", "--scheduler", url, "--threads", "1", "--name", name, "--grace-secs", "5"];
    Proc(Command::new(BIN).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

/// Runs `riskgrid` to completion, killing it after `limit`.
pub fn riskgrid(args: &[&str], limit: Duration) -> Output {
    super::output_within(Command::new(BIN).args(args), limit, &format!("riskgrid {args:?}"))
}

pub fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The in-process result (`riskgrid run --json`), the reference for every grid result.
pub fn local(file: &Path) -> serde_json::Value {
    json(&riskgrid(&["run", file.to_str().unwrap(), "--json", "--quiet"], Duration::from_secs(60)))
}

/// Bit-level comparison: serde_json prints the shortest text that round-trips each f64.
pub fn assert_same_bits(grid: &serde_json::Value, local: &serde_json::Value) {
    assert_eq!(grid["pricing"].to_string(), local["pricing"].to_string());
    assert_eq!(grid["risk"].to_string(), local["risk"].to_string());
}

pub fn submit(url: &str, file: &Path) -> String {
    let out =
        json(&riskgrid(&["submit", file.to_str().unwrap(), "--scheduler", url, "--json"], Duration::from_secs(10)));
    out["job_id"].as_str().unwrap().to_owned()
}

pub fn jobs(url: &str) -> Vec<serde_json::Value> {
    json(&riskgrid(&["jobs", "--scheduler", url, "--json"], Duration::from_secs(10))).as_array().unwrap().clone()
}

pub fn job_row(url: &str, id: &str) -> serde_json::Value {
    jobs(url).into_iter().find(|j| j["job_id"] == id).expect("job listed")
}

/// Polls until `f` holds, at most `limit`.
pub fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn result(url: &str, id: &str, limit: Duration) -> serde_json::Value {
    json(&riskgrid(&["watch", id, "--scheduler", url, "--json", "--quiet"], limit))
}
