//! The Python client (clients/python/riskgrid_client.py) end to end: a real scheduler and
//! worker on loopback, driven by the client's CLI in a Python process over gRPC. Needs a
//! Python with grpcio and grpcio-tools (the repo's `.venv`, from scripts/venv.sh): without
//! one the tests print SKIP, or fail when `RISKGRID_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::grid::*;

const REQUIRE_ENV: &str = "RISKGRID_REQUIRE_TOOLS";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The repo's `.venv/bin/python`, else `python3` on PATH, whichever can import grpc and
/// grpc_tools; `None` after a SKIP note when there is none (a panic under REQUIRE_ENV=1).
fn python_or_skip(test: &str) -> Option<PathBuf> {
    let candidates = [repo_root().join(".venv/bin/python"), PathBuf::from("python3")];
    let found = candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import grpc, grpc_tools"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
            panic!(
                "{test}: no Python with grpcio and grpcio-tools (.venv/bin/python or python3), and {REQUIRE_ENV}=1 \
                 (run scripts/venv.sh)"
            );
        }
        eprintln!("SKIP {test}: no Python with grpcio and grpcio-tools (run scripts/venv.sh)");
    }
    found
}

/// Runs `python riskgrid_client.py ARGS` from a directory outside the repo, killing it after `limit`.
fn client(python: &Path, args: &[&str], limit: Duration) -> Output {
    let script = repo_root().join("clients/python/riskgrid_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script).args(args).current_dir(std::env::temp_dir()).env_remove("RISKGRID_PROTO_DIR");
    common::output_within(&mut cmd, limit, &format!("python client {args:?}"))
}

/// The bits of a JSON number that must be an f64 (serde_json parses with `float_roundtrip`).
fn bits(v: &Value, what: &str) -> u64 {
    v.as_f64().unwrap_or_else(|| panic!("{what}: expected a number, got {v}")).to_bits()
}

/// Asserts `python[key]` and `local[key]` (an estimate: value or price, and std_error) are the same bits.
fn assert_bits(python: &Value, local: &Value, keys: &[&str], what: &str) {
    for key in keys {
        let (p, l) = (&python[key], &local[key]);
        assert_eq!(bits(p, what), bits(l, what), "{what}.{key}: python {p} vs local {l}");
    }
}

/// Every Greek of `local` (an object of name -> {value, std_error}) is in `python`, bit for bit.
fn assert_greeks(python: &Value, local: &Value, what: &str) {
    let (p, l) = (python.as_object().unwrap(), local.as_object().unwrap());
    assert_eq!(p.keys().collect::<std::collections::BTreeSet<_>>(), l.keys().collect(), "{what}: Greek names");
    for (name, estimate) in l {
        assert_bits(&p[name], estimate, &["value", "std_error"], &format!("{what}.greeks.{name}"));
    }
}

#[test]
fn python_run_gives_the_bits_of_run() {
    let Some(python) = python_or_skip("python_run_gives_the_bits_of_run") else { return };
    let dir = temp_dir("python-bits");
    let file = job_file(&dir, "job.yaml", 20_000);
    let (_s, url) = scheduler(&[]);
    let _w = worker(&url, "w1");
    let out = client(&python, &["--scheduler", &url, "run", file.to_str().unwrap(), "--json"], Duration::from_secs(60));
    let grid = json(&out);
    let local = local(&file);

    let (gp, lp) = (&grid["pricing"], &local["pricing"]);
    assert_eq!(gp["paths"], 20_000);
    assert_eq!(gp["paths"], lp["paths"]);
    assert_eq!(grid["spec_sha256"], local["job"]["spec_sha256"]);
    assert_bits(&gp["portfolio"], &lp["portfolio"], &["value", "std_error"], "portfolio");
    assert_greeks(&gp["portfolio"]["greeks"], &lp["portfolio"]["greeks"], "portfolio");
    let (gt, lt) = (gp["trades"].as_array().unwrap(), lp["trades"].as_array().unwrap());
    assert_eq!(gt.len(), 2);
    assert_eq!(gt.len(), lt.len(), "trade count");
    for (g, l) in gt.iter().zip(lt) {
        let id = l["id"].as_str().unwrap();
        assert_eq!(g["id"], id);
        assert_eq!(g["kind"], l["kind"], "{id}");
        assert_bits(g, l, &["quantity", "price", "std_error"], id);
        assert_greeks(&g["greeks"], &l["greeks"], id);
    }
}

#[test]
fn python_bad_job_names_the_field_and_creates_nothing() {
    let Some(python) = python_or_skip("python_bad_job_names_the_field_and_creates_nothing") else { return };
    let dir = temp_dir("python-bad");
    let good = std::fs::read_to_string(job_file(&dir, "good.yaml", 10_000)).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, good.replace("paths: 10000", "paths: 0")).unwrap();
    let (_s, url) = scheduler(&[]);
    let out = client(&python, &["--scheduler", &url, "run", bad.to_str().unwrap()], Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains("error: job_yaml: analysis.paths: number of paths must be at least 1"), "stderr: {stderr}");
    assert_eq!(jobs(&url), Vec::<Value>::new(), "a refused submission creates no job");
}
