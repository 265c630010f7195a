//! The hash-chained audit log: appends, reopening continues the chain, and
//! any change to a line (a flipped byte, a removed, swapped or inserted line)
//! is reported at that line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use riskgrid_security::audit::{GENESIS, Kind, Log, verify, verify_reader};
use serde_json::json;
use std::path::Path;

fn write_log(path: &Path, n: u64) -> Vec<String> {
    let log = Log::open(path).unwrap();
    (0..n)
        .map(|i| {
            let details = json!({"job": format!("job-{i}"), "paths": i * 1000, "ok": i % 2 == 0, "x": 0.1 + i as f64});
            log.record_at(1_767_225_600_000 + i as i64, Kind::Admission, "spiffe://riskgrid/tenant/a", details)
                .unwrap()
                .line
        })
        .collect()
}

#[test]
fn records_chain_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let lines = write_log(&path, 5);
    assert_eq!(verify(&path), Ok(5));
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["prev_hash"], GENESIS);
    assert_eq!(first["seq"], 1);
    assert_eq!(first["time"], "2026-01-01T00:00:00.000Z");
    assert_eq!(first["kind"], "admission");
    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["prev_hash"], first["hash"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines.iter().map(|l| format!("{l}\n")).collect::<String>());
}

#[test]
fn reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    write_log(&path, 3);
    let log = Log::open(&path).unwrap();
    let r = log.record(Kind::JobCompleted, "scheduler", json!({"job": "job-9"})).unwrap();
    assert_eq!(r.seq, 4);
    drop(log);
    assert_eq!(verify(&path), Ok(4));
    assert_eq!(verify_reader(&b""[..]), Ok(0));
}

#[test]
fn a_broken_log_is_not_extended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    write_log(&path, 3);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("job-1", "job-7", 1)).unwrap();
    let err = Log::open(&path).unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
    // A torn last line (no newline) is refused too.
    std::fs::write(&path, &text[..text.len() - 5]).unwrap();
    assert_eq!(verify(&path).unwrap_err().line, 3);
    assert!(Log::open(&path).is_err());
}

#[test]
fn removed_swapped_and_inserted_lines_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let lines = write_log(&path, 5);
    let join = |ls: &[&String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let check = |text: String| verify_reader(text.as_bytes()).unwrap_err().line;
    assert_eq!(check(join(&[&lines[0], &lines[2], &lines[3]])), 2, "removed");
    assert_eq!(check(join(&[&lines[0], &lines[2], &lines[1]])), 2, "swapped");
    assert_eq!(check(join(&[&lines[0], &lines[1], &lines[1], &lines[2]])), 3, "duplicated");
    // Truncating whole lines at the end cannot be seen from the file alone
    // (anchor the latest hash elsewhere for that); the prefix verifies.
    assert_eq!(verify_reader(join(&[&lines[0], &lines[1]]).as_bytes()), Ok(2));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Flipping any bits of any byte of line k makes verification fail at line k.
    #[test]
    fn any_flipped_byte_is_found_at_its_line(line in 0usize..6, at in any::<prop::sample::Index>(), mask in 1u8..=255) {
        static LOG: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let lines = LOG.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            write_log(&dir.path().join("a.jsonl"), 6)
        });
        let mut bytes: Vec<Vec<u8>> = lines.iter().map(|l| format!("{l}\n").into_bytes()).collect();
        let target = &mut bytes[line];
        // Any byte of the line, its newline included.
        let i = at.index(target.len());
        target[i] ^= mask;
        let text: Vec<u8> = bytes.concat();
        let err = verify_reader(&text[..]).unwrap_err();
        prop_assert_eq!(err.line, line as u64 + 1, "{}", err.reason);
    }
}
