//! Every admission policy in deploy/policies/admission, evaluated with regorus
//! against its fixtures: each policy has at least one allowed and one denied
//! fixture, and the whole directory must return exactly the expected messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use riskgrid_security::admission::{Decision, Policies, input};
use riskgrid_security::quota::{JobSummary, Usage};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/policies/admission")
}

fn fixtures() -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(dir().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_fixture_gets_exactly_its_messages() {
    let policies = Policies::load_dir(dir()).unwrap();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 10, "fixtures missing: {}", fixtures.len());
    for (name, f) in &fixtures {
        let expected: Vec<String> = serde_json::from_value(f["expect_deny"].clone()).unwrap();
        let mut expected = expected;
        expected.sort();
        let got = policies.evaluate(&f["input"]).unwrap();
        let want = if expected.is_empty() { Decision::Allowed } else { Decision::Denied(expected) };
        assert_eq!(got, want, "fixture {name}");
    }
}

#[test]
fn every_policy_has_allowed_and_denied_fixtures() {
    let names: Vec<String> = fixtures().into_iter().map(|(n, _)| n).collect();
    let policies = Policies::load_dir(dir()).unwrap();
    assert!(policies.files().len() >= 5, "{:?}", policies.files());
    for file in policies.files() {
        let stem = Path::new(file).file_stem().unwrap().to_string_lossy().into_owned();
        for outcome in ["allowed", "denied"] {
            let prefix = format!("{stem}_{outcome}");
            assert!(names.iter().any(|n| n.starts_with(&prefix)), "policy {stem} has no {prefix}*.json fixture");
        }
    }
}

#[test]
fn the_input_built_by_the_scheduler_has_the_fixtures_shape() {
    let policies = Policies::load_dir(dir()).unwrap();
    let job = JobSummary {
        instruments: vec!["asian".into()],
        trades: 1,
        paths: 1_000,
        priority: 0,
        deadline_unix_ms: Some(5),
        estimated_core_seconds: 1.0,
    };
    let got = policies.evaluate(&input("sandbox", &job, &Usage::default(), 10)).unwrap();
    assert_eq!(
        got,
        Decision::Denied(vec![
            "deadline: 5 is not in the future (now 10)".into(),
            "instruments: tenant sandbox may not price asian instruments".into(),
        ])
    );
    let ok = JobSummary { instruments: vec!["european".into()], deadline_unix_ms: None, ..job };
    assert_eq!(policies.evaluate(&input("sandbox", &ok, &Usage::default(), 10)).unwrap(), Decision::Allowed);
}

#[test]
fn the_digest_changes_with_the_policies() {
    let rule = "package riskgrid.admission\ndeny contains \"no\" if input.no\n";
    let a = Policies::from_sources(vec![("a.rego".into(), rule.into())]).unwrap();
    let b = Policies::from_sources(vec![("a.rego".into(), format!("{rule}\n"))]).unwrap();
    assert_ne!(a.digest(), b.digest());
    assert_eq!(a.evaluate(&serde_json::json!({"job": {}})).unwrap(), Decision::Allowed);
    assert_eq!(a.evaluate(&serde_json::json!({"no": true})).unwrap(), Decision::Denied(vec!["no".into()]));
    // Policies that define no deny rule are refused when loaded, not at the first submission.
    assert!(Policies::from_sources(vec![("a.rego".into(), "package riskgrid.admission\n".into())]).is_err());
}
