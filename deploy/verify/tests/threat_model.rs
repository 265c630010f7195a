//! `deploy/THREAT_MODEL.md` names, for each control, the test that proves it.
//! Those names must be real: every `path.rs::function` it cites exists as a
//! function in that file, and every STRIDE row cites a test or says it has none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use riskgrid_deploy_verify::deploy_dir;

/// `(file, function)` for every `` `dir/file.rs::name` `` in `text`.
fn citations(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for piece in text.split('`').skip(1).step_by(2) {
        if let Some((file, func)) = piece.split_once(".rs::") {
            out.push((format!("{file}.rs"), func.to_owned()));
        }
    }
    out
}

#[test]
fn every_cited_test_exists() {
    let text = std::fs::read_to_string(deploy_dir().join("THREAT_MODEL.md")).unwrap();
    let repo = deploy_dir().parent().unwrap().to_path_buf();
    let cited = citations(&text);
    assert!(cited.len() > 30, "the threat model cites too few tests: {}", cited.len());
    let mut missing = Vec::new();
    for (file, func) in &cited {
        match std::fs::read_to_string(repo.join(file)) {
            Err(_) => missing.push(format!("{file} (no such file)")),
            Ok(src) => {
                if !src.contains(&format!("fn {func}(")) {
                    missing.push(format!("{file}::{func}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "THREAT_MODEL.md cites tests that do not exist: {missing:#?}");
    // Every STRIDE row either cites a test or says plainly that it has none.
    let is_row = |l: &str| {
        let id = l.strip_prefix("| ").and_then(|r| r.split(' ').next()).unwrap_or("");
        id.len() >= 2 && "STRIDE".contains(&id[..1]) && id[1..].chars().all(|c| c.is_ascii_digit())
    };
    let rows: Vec<&str> = text.lines().filter(|l| is_row(l)).collect();
    assert!(rows.len() >= 20, "STRIDE rows: {}", rows.len());
    for line in rows {
        let row_cites = !citations(line).is_empty();
        assert!(row_cites || line.contains("no test") || line.contains("no deploy-level test"), "{line}");
    }
}

#[test]
fn citations_are_parsed_from_backticks() {
    let c = citations("a `x/y.rs::f` b `not code` c `z.rs::g_h`");
    assert_eq!(c, vec![("x/y.rs".to_owned(), "f".to_owned()), ("z.rs".to_owned(), "g_h".to_owned())]);
}
