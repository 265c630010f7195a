use riskcalc::kernel::math::{exp, inv_norm};
use riskcalc::kernel::normals::{NormalSource, splat_keys};
use riskcalc::kernel::simd::*;
use riskcalc::rng::RoundKeys;
use std::time::Instant;

#[inline(always)]
fn bench<S: Simd>(s: S, name: &str) {
    let keys = splat_keys(s, &RoundKeys::from_seed(1));
    let t = Instant::now();
    let mut acc = s.splat(0.0);
    let n = 2_000_000u64;
    for g in 0..n {
        let src = NormalSource::new(s, &keys, 7, g * S::LANES as u64);
        let u = src.uniforms(s, 0);
        acc = s.add(acc, s.add(s.add(u[0], u[1]), s.add(u[2], u[3])));
    }
    let dt = t.elapsed().as_secs_f64();
    let mut o = [0.0; 8];
    s.store(acc, &mut o);
    println!("{name} philox+uniform: {:.2} ns/value ({})", dt * 1e9 / (n as f64 * 4.0 * S::LANES as f64), o[0]);
    let t = Instant::now();
    let mut acc = s.splat(0.0);
    let mut p = s.splat(0.013);
    for _ in 0..n {
        p = s.add(p, s.splat(1e-7));
        acc = s.add(acc, inv_norm(s, p));
    }
    let dt = t.elapsed().as_secs_f64();
    s.store(acc, &mut o);
    println!("{name} inv_norm tail: {:.2} ns/value ({})", dt * 1e9 / (n as f64 * S::LANES as f64), o[0]);
    let t = Instant::now();
    let mut acc = s.splat(0.0);
    let mut p = s.splat(0.3);
    for _ in 0..n {
        p = s.add(p, s.splat(1e-7));
        acc = s.add(acc, inv_norm(s, p));
    }
    let dt = t.elapsed().as_secs_f64();
    s.store(acc, &mut o);
    println!("{name} inv_norm central: {:.2} ns/value ({})", dt * 1e9 / (n as f64 * S::LANES as f64), o[0]);
    let t = Instant::now();
    let mut acc = s.splat(0.0);
    let mut p = s.splat(0.3);
    for _ in 0..n {
        p = s.add(p, s.splat(1e-7));
        acc = s.add(acc, exp(s, p));
    }
    let dt = t.elapsed().as_secs_f64();
    s.store(acc, &mut o);
    println!("{name} exp: {:.2} ns/value ({})", dt * 1e9 / (n as f64 * S::LANES as f64), o[0]);
}

#[target_feature(enable = "avx512f")]
fn b512(s: Avx512) {
    bench(s, "avx512")
}
#[target_feature(enable = "avx2")]
fn b2(s: Avx2) {
    bench(s, "avx2")
}

fn main() {
    bench(Scalar, "scalar");
    unsafe { b2(Avx2::detect().unwrap()) };
    unsafe { b512(Avx512::detect().unwrap()) };
}
