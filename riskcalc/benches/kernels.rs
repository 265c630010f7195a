//! Criterion micro-benchmarks of the kernels, per instruction set.
//! `cargo bench -p riskcalc`; the headline figures come from `riskgrid bench`.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use riskcalc::engine::price_trade_block;
use riskcalc::kernel::Isa;
use riskcalc::kernel::dispatch::simulate_block;
use riskcalc::kernel::path::{BlockOut, padded};
use riskcalc::plan::CompiledJob;
use riskcalc::rng::RoundKeys;

fn job(yaml: &str) -> CompiledJob {
    CompiledJob::compile(&riskcalc::spec::parse_yaml(yaml).unwrap(), Isa::Scalar)
}

const EUROPEAN: &str = "seed: 1
market: {rate: 0.03, underlyings: [{id: A, spot: 100, dividend_yield: 0.01, vol: 0.2}]}
portfolio: [{id: c, instrument: {type: european, underlying: A, option: call, strike: 100, maturity: 1}}]
analysis: {paths: 1000000, block_size: 8192}
";

const BASKET: &str = "seed: 1
market:
  rate: 0.03
  underlyings: [{id: A, spot: 100, vol: 0.2}, {id: B, spot: 100, vol: 0.2}, {id: C, spot: 100, vol: 0.2}, {id: D, spot: 100, vol: 0.2}, {id: E, spot: 100, vol: 0.2}]
  correlation: [[1, .5, .5, .5, .5], [.5, 1, .5, .5, .5], [.5, .5, 1, .5, .5], [.5, .5, .5, 1, .5], [.5, .5, .5, .5, 1]]
portfolio:
  - {id: b, instrument: {type: basket, underlyings: [A, B, C, D, E], weights: [.2, .2, .2, .2, .2], option: call, strike: 100, maturity: 1, steps: 252}}
analysis: {paths: 100000, block_size: 1024}
";

fn kernels(c: &mut Criterion) {
    let european = job(EUROPEAN);
    let basket = job(BASKET);
    let keys = RoundKeys::from_seed(1);
    let mut group = c.benchmark_group("european_block_8192");
    group.throughput(Throughput::Elements(8192));
    for isa in Isa::all_supported() {
        let mut values = vec![0.0; padded(8192)];
        group.bench_with_input(BenchmarkId::from_parameter(isa.name()), &isa, |b, &isa| {
            b.iter(|| {
                simulate_block(isa, &european.trades[0].plan, &keys, 0, BlockOut { values: &mut values, n_paths: 8192 })
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("basket_block_1024x252x5");
    group.throughput(Throughput::Elements(1024 * 252 * 5));
    group.sample_size(20);
    for isa in Isa::all_supported() {
        group.bench_with_input(BenchmarkId::from_parameter(isa.name()), &isa, |b, &isa| {
            b.iter(|| price_trade_block(&basket, 0, 0, isa))
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
