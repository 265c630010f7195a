//! checkov (`--framework kubernetes --skip-download`, offline) finds no failed
//! check in `deploy/`; every check it skips is skipped by an annotation on the
//! object, with a reason. The Gatekeeper suite's deliberately broken fixtures
//! are left out of the scan, and scanned separately to show checkov does flag them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use riskgrid_deploy_verify::deploy_dir;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(300);

/// `checkov -d dir` as JSON (`None` when checkov is not installed).
fn checkov(dir: &Path, skip_paths: &[&str]) -> Option<Value> {
    let bin = common::tool("checkov", "scripts/venv.sh installs it into .venv")?;
    let mut cmd = Command::new(bin);
    cmd.arg("-d").arg(dir).args(["--framework", "kubernetes", "--skip-download", "--compact", "-o", "json"]);
    for p in skip_paths {
        cmd.args(["--skip-path", p]);
    }
    let out_file = tempfile(dir);
    let mut child = cmd
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::null())
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            // checkov exits 1 when a check fails: the JSON says which.
            assert!(status.code().is_some_and(|c| c <= 1), "checkov exited with {status}");
            break;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("checkov ran for more than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_file(&out_file);
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("checkov output is not JSON ({e}): {text}"));
    // One framework gives one report object; several give a list.
    Some(match json {
        Value::Array(mut reports) => {
            assert_eq!(reports.len(), 1, "{reports:?}");
            reports.remove(0)
        }
        report => report,
    })
}

fn tempfile(dir: &Path) -> std::path::PathBuf {
    let name = format!("riskgrid-checkov-{}-{}.json", std::process::id(), dir.file_name().unwrap().to_string_lossy());
    std::env::temp_dir().join(name)
}

fn ids(report: &Value, which: &str) -> Vec<String> {
    report["results"][which]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} {} {}", c["check_id"].as_str().unwrap_or(""), c["resource"], c["file_path"]))
        .collect()
}

#[test]
fn checkov_reports_no_failed_checks() {
    let skip: Vec<&str> = common::NOT_MANIFESTS.iter().copied().chain([common::FIXTURES]).collect();
    let Some(report) = checkov(&deploy_dir(), &skip) else { return };
    let failed = ids(&report, "failed_checks");
    assert!(failed.is_empty(), "checkov failed checks:\n{}", failed.join("\n"));
    let summary = &report["summary"];
    assert!(summary["passed"].as_u64().unwrap() > 100, "checkov checked too little: {summary}");
    assert_eq!(summary["parsing_errors"], 0, "{summary}");

    // Every skip comes from an annotation with a reason (checkov.io/skipN: ID=reason).
    let mut annotated = Vec::new();
    for d in common::deployed() {
        let annotations =
            d.value.pointer("/metadata/annotations").and_then(Value::as_object).cloned().unwrap_or_default();
        for (k, v) in annotations.iter().filter(|(k, _)| k.starts_with("checkov.io/skip")) {
            let (id, reason) =
                v.as_str().unwrap().split_once('=').unwrap_or_else(|| panic!("{}: {k} has no reason", d.label()));
            assert!(id.starts_with("CKV") && reason.len() >= 30, "{}: {k}: say why ({reason:?})", d.label());
            annotated.push(id.to_owned());
        }
    }
    let mut skipped: Vec<String> = report["results"]["skipped_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["check_id"].as_str().unwrap().to_owned())
        .collect();
    skipped.sort();
    annotated.sort();
    assert_eq!(skipped, annotated, "skipped checks = annotated skips");
}

#[test]
fn checkov_flags_the_broken_fixtures() {
    let denied = deploy_dir().join(common::FIXTURES).join("fixtures/denied");
    let Some(report) = checkov(&denied, &[]) else { return };
    let failed = ids(&report, "failed_checks");
    // Privileged (CKV_K8S_16), root (CKV_K8S_23), host network (CKV_K8S_19), mutable root fs (CKV_K8S_22).
    for id in ["CKV_K8S_16", "CKV_K8S_23", "CKV_K8S_19", "CKV_K8S_22"] {
        assert!(failed.iter().any(|f| f.starts_with(&format!("{id} "))), "checkov did not flag {id}: {failed:#?}");
    }
}
