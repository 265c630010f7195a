//! Times the European kernel alone, per ISA: `ISA=avx512 cargo run --release -p riskcalc --example kernel_timing`.
#![allow(clippy::unwrap_used)]

use riskcalc::kernel::Isa;
use riskcalc::kernel::dispatch::simulate_block;
use riskcalc::kernel::path::BlockOut;
use riskcalc::plan::CompiledJob;
use riskcalc::rng::RoundKeys;
use std::time::Instant;
fn main() {
    let text = std::fs::read_to_string("/tmp/euro.yaml").unwrap();
    let spec = riskcalc::spec::parse_yaml(&text).unwrap();
    let job = CompiledJob::compile(&spec, Isa::Scalar);
    let plan = &job.trades[0].plan;
    let keys = RoundKeys::from_seed(1);
    let isas: Vec<Isa> = match std::env::var("ISA") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => vec![Isa::Scalar, Isa::Avx2, Isa::Avx512],
    };
    for isa in isas {
        let n = 8192;
        let mut v = vec![0.0; n];
        let t = Instant::now();
        let blocks: u64 = std::env::var("BLOCKS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
        for b in 0..blocks {
            simulate_block(isa, plan, &keys, b * n as u64, BlockOut { values: &mut v, n_paths: n });
        }
        let dt = t.elapsed().as_secs_f64();
        println!("{isa:?}: {:.2} ns/path sum {}", dt * 1e9 / (blocks as f64 * n as f64), v.iter().sum::<f64>());
    }
}
