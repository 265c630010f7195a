//! The `riskgrid` binary end to end: real processes, real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn riskgrid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_riskgrid")).args(args).current_dir(root()).output().expect("riskgrid runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn write_job(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riskgrid-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SMALL: &str = "seed: 7
market: {rate: 0.03, underlyings: [{id: SPX, spot: 100, dividend_yield: 0.01, vol: 0.2}]}
portfolio:
  - {id: c1, instrument: {type: european, underlying: SPX, option: call, strike: 100, maturity: 1}}
  - {id: p1, quantity: -2, instrument: {type: asian, underlying: SPX, option: put, strike: 95, maturity: 1, fixings: 12, average: arithmetic}}
analysis: {paths: 50000, block_size: 1024, greeks: [delta, vega, rho, theta]}
";

#[test]
fn run_json_reports_every_trade_with_greeks_by_name() {
    let job = write_job("small.yaml", SMALL);
    let out = json(&riskgrid(&["run", job.to_str().unwrap(), "--json", "--quiet"]));
    let trades = out["pricing"]["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 2);
    assert_eq!(trades[0]["id"], "c1");
    let price = trades[0]["price"].as_f64().unwrap();
    let se = trades[0]["std_error"].as_f64().unwrap();
    // Black–Scholes 8.8273 for these inputs.
    assert!((price - 8.8273).abs() < 4.0 * se, "price {price} se {se}");
    for greek in ["delta.SPX", "vega.SPX", "rho", "theta"] {
        assert!(trades[0]["greeks"][greek]["value"].is_f64(), "missing {greek}");
    }
    assert_eq!(out["job"]["seed"], 7);
    assert_eq!(out["job"]["spec_sha256"].as_str().unwrap().len(), 64);
    assert!(out["risk"].is_null());
}

#[test]
fn results_do_not_depend_on_isa_or_threads() {
    let job = write_job("repro.yaml", SMALL);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", job.to_str().unwrap(), "--json", "--quiet"];
        args.extend_from_slice(extra);
        json(&riskgrid(&args))["pricing"].clone()
    };
    let reference = run(&["--isa", "scalar", "--threads", "1"]);
    // serde_json prints the shortest round-trip form: equal text ⇔ equal bits.
    for isa in riskcalc::kernel::Isa::all_supported() {
        for threads in ["1", "2", "3"] {
            assert_eq!(run(&["--isa", isa.name(), "--threads", threads]), reference, "{isa:?} x {threads}");
        }
    }
}

#[test]
fn var_job_reports_var_and_es_per_confidence() {
    let out = json(&riskgrid(&["run", "examples/var.yaml", "--json", "--quiet"]));
    let levels = out["risk"]["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    for level in levels {
        let (var, es) = (level["var"].as_f64().unwrap(), level["es"].as_f64().unwrap());
        assert!(var > 0.0 && es >= var, "VaR {var} ES {es}");
        let sum: f64 = level["es_contributions"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - es).abs() < 1e-6 * es.abs().max(1.0), "contributions {sum} vs ES {es}");
    }
}

#[test]
fn historical_var_reads_its_csv() {
    let out = json(&riskgrid(&["run", "examples/var_historical.yaml", "--json", "--quiet"]));
    assert_eq!(out["risk"]["source"], "historical");
    assert!(out["risk"]["scenarios"].as_u64().unwrap() >= 200);
}

#[test]
fn every_example_runs() {
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = riskgrid(&["check", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
    let out = riskgrid(&["run", "examples/portfolio.yaml", "--quiet"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("portfolio value") && table.contains("VaR"), "{table}");
}

fn assert_refused(text: &str, expected: &[&str]) {
    let job = write_job("bad.yaml", text);
    let out = riskgrid(&["run", job.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "stdout {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in expected {
        assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_job_files_exit_2_naming_the_field() {
    assert_refused(&SMALL.replace("vol: 0.2", "vol: -0.2"), &["market.underlyings[0].vol"]);
    assert_refused(
        &SMALL.replace("maturity: 1}}\n  - {id: p1", "maturity: 0}}\n  - {id: p1"),
        &["portfolio[0].instrument.maturity"],
    );
    assert_refused(&SMALL.replace("type: european", "type: swaption"), &["portfolio[0].instrument", "european"]);
    assert_refused(&SMALL.replace("paths: 50000", "paths: 1000000000000000"), &["analysis.paths"]);
    assert_refused(&SMALL.replace("id: p1", "id: c1"), &["portfolio[1].id", "duplicate"]);
    assert_refused(&SMALL.replace("strike: 100", "strike: .nan"), &["portfolio[0].instrument.strike"]);
    assert_refused("", &["empty"]);
    assert_refused("\u{0}\u{1}garbage: [", &["error"]);
}

#[test]
fn missing_file_and_bad_flags_are_input_errors() {
    let out = riskgrid(&["run", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read job file"));
    let job = write_job("ok.yaml", SMALL);
    let out = riskgrid(&["run", job.to_str().unwrap(), "--isa", "neon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--isa"));
}

#[test]
fn schema_is_json_schema_of_the_job_file() {
    let schema = json(&riskgrid(&["schema"]));
    let text = schema.to_string();
    for needle in ["portfolio", "market", "analysis", "european", "bermudan"] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
}

#[test]
fn run_through_the_embedded_grid_gives_the_same_bits() {
    let local = json(&riskgrid(&["run", "examples/portfolio.yaml", "--json", "--quiet"]));
    let grid = json(&riskgrid(&["run", "examples/portfolio.yaml", "--json", "--quiet", "--grid"]));
    assert_eq!(grid["job"]["isa"], "grid");
    assert_eq!(grid["pricing"], local["pricing"]);
    assert_eq!(grid["risk"], local["risk"]);
    assert!(!local["risk"].is_null());
    // Historical VaR: the scenario file travels with the job to the scheduler and workers.
    let local = json(&riskgrid(&["run", "examples/var_historical.yaml", "--json", "--quiet"]));
    let grid = json(&riskgrid(&["run", "examples/var_historical.yaml", "--json", "--quiet", "--grid"]));
    assert_eq!(grid["risk"]["source"], "historical");
    assert_eq!(grid["pricing"], local["pricing"]);
    assert_eq!(grid["risk"], local["risk"]);
}
