//! Generated messages round-trip through encode/decode, and doubles keep their exact
//! bits (the scheduler merges worker moments bit-for-bit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message;
use riskgrid_proto::v1::{
    BlockResult, Estimate, JobEvent, JobResult, JobState, Moments, PricingResult, StateChange, SubmitJobRequest, Task,
    TaskKind, TradeResult, job_event, submit_job_request, task,
};
use std::collections::BTreeMap;

/// Values whose bits a lossy transport would change: 0.1 + 0.2 (not 0.3), the
/// smallest subnormal, the largest finite, infinities and a NaN with a payload.
/// (−0.0 is tested separately: see `negative_zero`.)
fn tricky() -> Vec<f64> {
    let sum: f64 = 0.1 + 0.2;
    assert_ne!(sum.to_bits(), 0.3f64.to_bits());
    vec![
        sum,
        f64::from_bits(1),
        f64::MAX,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::from_bits(0x7ff8_dead_beef_0001),
        -1.0 / 3.0,
    ]
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn block_result_keeps_f64_bits() {
    let values = tricky();
    let moments: Vec<Moments> = values.iter().map(|&v| Moments { n: 4096, sum: v, m2: v * v }).collect();
    let sent = BlockResult {
        task_id: "t-17".into(),
        job_id: "j-3".into(),
        trade: 2,
        block: 12_345_678_901,
        moments: moments.clone(),
        pnl: values.clone(),
        attempt: 3,
    };
    let wire = sent.encode_to_vec();
    let got = BlockResult::decode(wire.as_slice()).expect("decodes");
    // PartialEq fails on NaN, so compare bits field by field.
    assert_eq!(
        (got.task_id.as_str(), got.job_id.as_str(), got.trade, got.block, got.attempt),
        ("t-17", "j-3", 2, 12_345_678_901, 3)
    );
    assert_eq!(bits(&got.pnl), bits(&values));
    assert_eq!(got.moments.len(), moments.len());
    for (g, s) in got.moments.iter().zip(&moments) {
        assert_eq!((g.n, g.sum.to_bits(), g.m2.to_bits()), (s.n, s.sum.to_bits(), s.m2.to_bits()));
    }
    // Re-encoding the decoded message gives the same bytes.
    assert_eq!(got.encode_to_vec(), wire);
}

#[test]
fn single_moment_is_bit_exact() {
    let m = Moments { n: 3, sum: 0.1 + 0.2, m2: 0.1 + 0.2 };
    let got = Moments::decode(m.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(got, m);
    assert_eq!(got.sum.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(got.sum.to_bits(), 0x3FD3_3333_3333_3334);
}

#[test]
fn job_result_round_trips_deterministically() {
    let greeks = BTreeMap::from([
        ("delta.SPX".to_owned(), Estimate { value: 0.1 + 0.2, std_error: 1e-300 }),
        ("vega.SPX".to_owned(), Estimate { value: -12.5, std_error: 0.03 }),
        ("rho".to_owned(), Estimate { value: 7.0, std_error: 0.0 }),
    ]);
    let result = JobResult {
        job_id: "j-1".into(),
        spec_sha256: "ab".repeat(32),
        seed: u64::MAX,
        riskgrid_version: "0.1.0".into(),
        pricing: Some(PricingResult {
            trades: vec![TradeResult {
                id: "call".into(),
                kind: "european".into(),
                quantity: -2.5,
                price: 10.450583572185565,
                std_error: 0.0146,
                greeks: greeks.clone(),
                paths: 1 << 20,
            }],
            portfolio: None,
            paths: 1 << 20,
            blocks: 256,
        }),
        risk: None,
        paths_requested: 1 << 21,
        stopped_early: true,
        elapsed_ms: 1234,
    };
    let wire = result.encode_to_vec();
    let got = JobResult::decode(wire.as_slice()).expect("decodes");
    assert_eq!(got, result);
    let trade = &got.pricing.as_ref().expect("pricing").trades[0];
    assert_eq!(trade.greeks["delta.SPX"].value.to_bits(), (0.1f64 + 0.2).to_bits());
    // Maps are BTreeMaps: same message, same bytes, every time.
    assert_eq!(result.encode_to_vec(), wire);
    assert_eq!(trade.greeks.keys().collect::<Vec<_>>(), ["delta.SPX", "rho", "vega.SPX"]);

    // The result also travels inside a WatchJob event.
    let event =
        JobEvent { job_id: "j-1".into(), sequence: 9, time_unix_ms: 1, event: Some(job_event::Event::Result(result)) };
    assert_eq!(JobEvent::decode(event.encode_to_vec().as_slice()).expect("decodes"), event);
}

#[test]
fn oneofs_and_enums_round_trip() {
    let submit = SubmitJobRequest {
        client_request_id: "5f0c".into(),
        spec: Some(submit_job_request::Spec::JobYaml(b"seed: 1\n".to_vec())),
        historical_csv: Vec::new(),
        priority: -7,
        tenant: "desk-a".into(),
        deadline_unix_ms: 1_800_000_000_000,
    };
    assert_eq!(SubmitJobRequest::decode(submit.encode_to_vec().as_slice()).expect("decodes"), submit);

    let task = Task {
        task_id: "t".into(),
        job_id: "j".into(),
        kind: TaskKind::Risk as i32,
        spec_source: Some(task::SpecSource::JobRef(riskgrid_proto::v1::JobRef {
            job_id: "j".into(),
            spec_sha256: "00".repeat(32),
        })),
        trades: Some(riskgrid_proto::v1::TradeRange { start: 0, end: 3 }),
        blocks: Some(riskgrid_proto::v1::BlockRange { start: 10, end: 20 }),
        attempt: 1,
        lease_deadline_unix_ms: 1_700_000_000_000,
        lease_ttl_ms: 30_000,
        done: vec![0b0000_0101, 0b1],
    };
    let got = Task::decode(task.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(got.kind(), TaskKind::Risk);
    assert_eq!(got, task);

    let change =
        StateChange { previous: JobState::Running as i32, state: JobState::Cancelled as i32, reason: "user".into() };
    let got = StateChange::decode(change.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!((got.previous(), got.state()), (JobState::Running, JobState::Cancelled));

    // A default message encodes to nothing (proto3), and empty bytes decode to defaults.
    assert!(BlockResult::default().encode_to_vec().is_empty());
    assert_eq!(BlockResult::decode(&[][..]).expect("decodes"), BlockResult::default());
}

#[test]
fn malformed_bytes_are_an_error_not_a_panic() {
    // Field 6 (pnl, packed doubles) claiming 9 bytes: not a multiple of 8.
    let bad = [0x32, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(BlockResult::decode(&bad[..]).is_err());
    // Truncated length-delimited field.
    assert!(BlockResult::decode(&[0x0a, 5, b'a'][..]).is_err());
}

/// proto3 does not send a singular (or map-value) field equal to its default, and
/// −0.0 == 0.0, so −0.0 arrives as +0.0 there; repeated (packed) doubles keep it.
/// The engine's sums start from +0.0 and so never produce −0.0 in `Moments`; P&L
/// vectors are repeated. Result fields such as `RiskLevel.var` (a negated P&L) can
/// be −0.0: whoever fills them should normalise zeros (see common.proto).
#[test]
fn negative_zero() {
    let m = Moments { n: 1, sum: -0.0, m2: -0.0 };
    let got = Moments::decode(m.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!((got.sum.to_bits(), got.m2.to_bits()), (0, 0), "singular: sign of zero lost");

    let level = riskgrid_proto::v1::RiskLevel {
        var_contributions: BTreeMap::from([("t".to_owned(), -0.0)]),
        ..Default::default()
    };
    let got = riskgrid_proto::v1::RiskLevel::decode(level.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(got.var_contributions["t"].to_bits(), 0, "map value: sign of zero lost");

    let block = BlockResult { pnl: vec![-0.0, 0.0, -0.0], ..Default::default() };
    let got = BlockResult::decode(block.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(bits(&got.pnl), bits(&[-0.0, 0.0, -0.0]), "repeated: sign of zero kept");
}
