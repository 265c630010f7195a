//! Criterion micro-benchmarks of job-file parsing (what the scheduler does for every
//! submission): `cargo bench -p riskcalc --bench parse`.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use riskcalc::spec::{parse_json, parse_yaml};
use std::hint::black_box;

/// The job `riskgrid bench dispatch` submits for its round trips.
const EUROPEAN: &str = "seed: 1
market: {rate: 0.03, underlyings: [{id: A, spot: 100, dividend_yield: 0.01, vol: 0.2}]}
portfolio: [{id: call, instrument: {type: european, underlying: A, option: call, strike: 100, maturity: 1}}]
analysis: {paths: 64, block_size: 64}
";

fn parsing(c: &mut Criterion) {
    let json = serde_json::to_string(&parse_yaml(EUROPEAN).unwrap()).unwrap();
    let portfolio = include_str!("../../examples/portfolio.yaml");
    let mut group = c.benchmark_group("parse_job");
    group.bench_function("european_yaml", |b| b.iter(|| parse_yaml(black_box(EUROPEAN)).unwrap()));
    group.bench_function("european_json", |b| b.iter(|| parse_json(black_box(&json)).unwrap()));
    group.bench_function("examples_portfolio_yaml", |b| b.iter(|| parse_yaml(black_box(portfolio)).unwrap()));
    group.finish();
}

criterion_group!(benches, parsing);
criterion_main!(benches);
