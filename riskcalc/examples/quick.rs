use riskcalc::engine::run_pricing;
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;

fn main() {
    let yaml = std::env::args().nth(1).unwrap_or_else(|| "/tmp/euro.yaml".into());
    let isa: Isa = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(Isa::detect());
    let text = std::fs::read_to_string(yaml).unwrap();
    let spec = riskcalc::spec::parse_yaml(&text).unwrap();
    let t0 = std::time::Instant::now();
    let job = CompiledJob::compile(&spec, isa);
    let r = run_pricing(&job, isa, |_| {});
    let el = t0.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    println!("elapsed {el:.3}s  paths/s {:.3e}", job.paths as f64 / el);
}
