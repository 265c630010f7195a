//! The Python client (clients/python/riskgrid_client.py) end to end: a real scheduler and
//! worker on loopback, driven by the client's CLI in a Python process over gRPC; and the
//! scheduler's reflection service read by clients/python/reflect.py. Needs a Python with
//! grpcio, grpcio-tools and grpcio-reflection (the repo's `.venv`, from scripts/venv.sh): without
//! one the tests print SKIP, or fail when `RISKGRID_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::grid::*;
use common::tls::{certs, tls_flags, tls_scheduler, tls_worker};

const REQUIRE_ENV: &str = "RISKGRID_REQUIRE_TOOLS";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The repo's `.venv/bin/python`, else `python3` on PATH, whichever can import grpc,
/// grpc_tools and grpc_reflection; `None` after a SKIP note when there is none (a panic under REQUIRE_ENV=1).
fn python_or_skip(test: &str) -> Option<PathBuf> {
    let candidates = [repo_root().join(".venv/bin/python"), PathBuf::from("python3")];
    let found = candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import grpc, grpc_tools, grpc_reflection"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
            panic!(
                "{test}: no Python with grpcio, grpcio-tools and grpcio-reflection (.venv/bin/python or python3), and {REQUIRE_ENV}=1 \
                 (run scripts/venv.sh)"
            );
        }
        eprintln!("SKIP {test}: no Python with grpcio, grpcio-tools and grpcio-reflection (run scripts/venv.sh)");
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

/// A historical-VaR job from the Python CLI: with its scenario file it gets the VaR and ES of
/// `riskgrid run`, bit for bit; without it the scheduler's refusal names `historical_csv` and
/// the CLI says which flag to give.
#[test]
fn python_historical_var_needs_its_scenario_file_and_gives_the_bits_of_run() {
    let test = "python_historical_var_needs_its_scenario_file_and_gives_the_bits_of_run";
    let Some(python) = python_or_skip(test) else { return };
    let (job, csv) = (repo_root().join("examples/var_historical.yaml"), repo_root().join("examples/returns.csv"));
    let (_s, url) = scheduler(&[]);
    let _w = worker(&url, "w1");
    let args = ["--scheduler", &url, "run", job.to_str().unwrap(), "--historical-csv", csv.to_str().unwrap(), "--json"];
    let grid = json(&client(&python, &args, Duration::from_secs(120)));
    let local = local(&job);
    let (gl, ll) = (grid["risk"]["levels"].as_array().unwrap(), local["risk"]["levels"].as_array().unwrap());
    assert!(!ll.is_empty());
    assert_eq!(gl.len(), ll.len(), "VaR levels");
    for (g, l) in gl.iter().zip(ll) {
        assert_bits(g, l, &["confidence", "var", "es"], "risk level");
    }

    let out = client(&python, &["--scheduler", &url, "run", job.to_str().unwrap()], Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: historical_csv: ") && stderr.contains("--historical-csv"), "{stderr}");
}

/// The Python client over mTLS, as the tenant its certificate names: with the CLI's flags it
/// gets the bits of `riskgrid run`, with the same flags from the environment it lists the job
/// under that tenant; without a certificate the scheduler refuses it, and with only some of
/// the three flags it exits 2 naming them.
#[test]
fn python_over_mtls_runs_as_its_tenant_and_needs_all_three_files() {
    let Some(python) = python_or_skip("python_over_mtls_runs_as_its_tenant_and_needs_all_three_files") else { return };
    let dir = temp_dir("python-mtls");
    let certs = certs(&dir, "alpha");
    let (_s, url) = tls_scheduler(&certs, &[]);
    let _w = tls_worker(&url, &certs);
    let file = job_file(&dir, "job.yaml", 10_000);
    let flags = tls_flags(&certs, "tenant-alpha");
    let mut args: Vec<&str> = vec!["--scheduler", &url];
    args.extend(flags.iter().map(String::as_str));
    args.extend(["run", file.to_str().unwrap(), "--json"]);
    let grid = json(&client(&python, &args, Duration::from_secs(60)));
    let local = local(&file);
    assert_bits(&grid["pricing"]["portfolio"], &local["pricing"]["portfolio"], &["value", "std_error"], "portfolio");

    // The same files through the environment variables the `riskgrid` CLI reads.
    let script = repo_root().join("clients/python/riskgrid_client.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script).args(["--scheduler", &url, "jobs"]).current_dir(std::env::temp_dir());
    for (env, file) in
        ["RISKGRID_TLS_CA", "RISKGRID_TLS_CERT", "RISKGRID_TLS_KEY"].iter().zip(flags.iter().skip(1).step_by(2))
    {
        cmd.env(env, file);
    }
    let out = common::output_within(&mut cmd, Duration::from_secs(30), "python client jobs over mTLS");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let listed: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["tenant"], "alpha", "{listed:?}");

    let plain = client(&python, &["--scheduler", &url, "--timeout", "5", "jobs"], Duration::from_secs(30));
    assert_eq!(plain.status.code(), Some(1), "a plaintext client is refused: {plain:?}");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(stderr.starts_with("error: ") && stderr.contains("give --tls-ca, --tls-cert and --tls-key"), "{stderr}");
    let partial = client(&python, &["--scheduler", &url, "--tls-ca", &flags[1], "jobs"], Duration::from_secs(30));
    assert_eq!(partial.status.code(), Some(2), "{partial:?}");
    assert!(String::from_utf8_lossy(&partial.stderr).contains("go together"), "{partial:?}");
}

/// The scheduler's reflection service read by another gRPC implementation (grpcio's C core,
/// through clients/python/reflect.py, grpcurl's `list`, `describe` and unary calls): every
/// service is listed, and methods are called from descriptors the server sent.
#[test]
fn reflection_lists_describes_and_calls_the_services_like_grpcurl() {
    let test = "reflection_lists_describes_and_calls_the_services_like_grpcurl";
    let Some(python) = python_or_skip(test) else { return };
    let reflect = |url: &str, args: &[&str]| {
        let script = repo_root().join("clients/python/reflect.py");
        let mut cmd = Command::new(&python);
        cmd.arg(&script).arg("--scheduler").arg(url).args(args);
        common::output_within(&mut cmd, Duration::from_secs(30), &format!("reflect.py {args:?}"))
    };
    let ok = |out: &Output| {
        assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout.clone()).unwrap()
    };
    let (_s, url) = scheduler(&[]);

    let listed = ok(&reflect(&url, &["list"]));
    for service in
        ["riskgrid.v1.JobService", "riskgrid.v1.WorkerService", "riskgrid.v1.CapacityService", "grpc.health.v1.Health"]
    {
        assert!(listed.lines().any(|l| l == service), "{service} not listed: {listed}");
    }
    let described = ok(&reflect(&url, &["describe", "riskgrid.v1.JobService"]));
    assert!(
        described
            .contains("rpc SubmitAndWatch(riskgrid.v1.SubmitAndWatchRequest) returns (stream riskgrid.v1.JobEvent)"),
        "{described}"
    );

    let health =
        ok(&reflect(&url, &["call", "grpc.health.v1.Health/Check", r#"{"service": "riskgrid.v1.JobService"}"#]));
    assert_eq!(serde_json::from_str::<Value>(&health).unwrap()["status"], "SERVING");
    let dir = temp_dir("python-reflect");
    let spec = std::fs::read_to_string(job_file(&dir, "job.yaml", 1_000)).unwrap();
    let request = serde_json::json!({
        "client_request_id": "reflect-1",
        // protobuf's JSON mapping of `bytes`: standard base64.
        "job_yaml": base64::engine::general_purpose::STANDARD.encode(spec.as_bytes()),
    });
    let submitted = ok(&reflect(&url, &["call", "riskgrid.v1.JobService/SubmitJob", &request.to_string()]));
    let job_id = serde_json::from_str::<Value>(&submitted).unwrap()["job_id"].as_str().unwrap().to_owned();
    let listed_jobs = ok(&reflect(&url, &["call", "riskgrid.v1.JobService/ListJobs", "{}"]));
    let jobs: Value = serde_json::from_str(&listed_jobs).unwrap();
    assert_eq!(jobs["jobs"][0]["job_id"], job_id.as_str(), "{listed_jobs}");

    let bad = reflect(&url, &["call", "riskgrid.v1.JobService/GetJob", r#"{"job_id": "nope"}"#]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("INVALID_ARGUMENT: job_id:"), "{stderr}");
}
