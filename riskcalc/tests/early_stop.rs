//! Early stop at a target standard error: deterministic, and exactly a prefix of blocks.
#![allow(clippy::unwrap_used)]

use riskcalc::engine::{Accumulator, PricingReport, price_block, run_pricing};
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;

const JOB: &str = "seed: 3
market: {rate: 0.03, underlyings: [{id: A, spot: 100, vol: 0.25}]}
portfolio:
  - {id: c, instrument: {type: european, underlying: A, option: call, strike: 100, maturity: 1}}
  - {id: p, instrument: {type: european, underlying: A, option: put, strike: 90, maturity: 1}}
analysis: {paths: 50000000, block_size: 1024, target_std_error: 0.05}
";

#[test]
fn stops_at_the_first_block_prefix_meeting_the_target() {
    let job = CompiledJob::compile(&riskcalc::spec::parse_yaml(JOB).unwrap(), Isa::detect());
    let report = run_pricing(&job, Isa::detect(), |_| {});
    assert!(report.paths < job.paths, "did not stop early: {} paths", report.paths);
    for t in &report.trades {
        assert!(t.std_error <= 0.05, "{}: se {}", t.id, t.std_error);
    }
    // Replay block by block: the stop is the first prefix where every trade meets the target.
    let mut acc = Accumulator::new(job.trades.iter().map(|t| t.quantities.len()));
    let mut blocks = 0;
    while !job.target_met(&acc) {
        for b in price_block(&job, blocks, Isa::Scalar) {
            acc.merge(b);
        }
        blocks += 1;
    }
    assert_eq!(report.blocks, blocks);
    assert_eq!(report, PricingReport::new(&job, &acc));
}

#[test]
fn the_stopping_point_does_not_depend_on_threads() {
    let job = CompiledJob::compile(&riskcalc::spec::parse_yaml(JOB).unwrap(), Isa::detect());
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run_pricing(&job, Isa::detect(), |_| {}))
    };
    let one = run(1);
    assert_eq!(run(2), one);
    assert_eq!(run(3), one);
}
