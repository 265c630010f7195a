//! The random numbers: accuracy of the inverse normal CDF, distribution and
//! independence of the normals, and that a path's normals are a function of
//! its coordinates only (not of the block, lane or ISA that computed them).

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use riskcalc::closed_form::normal::norm_inv_ref;
use riskcalc::kernel::Isa;
use riskcalc::kernel::dispatch::simulate_block;
use riskcalc::kernel::math::inv_norm;
use riskcalc::kernel::normals::normal_at;
use riskcalc::kernel::path::{BlockOut, exp_f64};
use riskcalc::kernel::simd::Scalar;
use riskcalc::plan::trade::{AssetState, Dynamics, Payoff, StateParams, TradePlan};
use riskcalc::rng::RoundKeys;
use riskcalc::rng::stream::{Purpose, StreamId};

/// Φ(x) from `libm::erfc`, independent of the code under test and of closed_form.
fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Probabilities on a fine grid: uniform over (0, 1) plus log-spaced tails
/// down to 1e-10 on both sides.
fn grid() -> Vec<f64> {
    let mut ps: Vec<f64> = (1..200_000).map(|i| f64::from(i) / 200_000.0).collect();
    let per_decade = 2000;
    for i in 0..=8 * per_decade {
        // 1e-10 ..= 1e-2
        let p = 10f64.powf(-10.0 + f64::from(i) / f64::from(per_decade));
        ps.push(p);
        ps.push(1.0 - p);
    }
    ps
}

#[test]
fn the_reference_inverse_is_accurate() {
    // Check the reference itself against libm's erfc, in the lower half
    // where p carries full relative precision.
    for p in grid().into_iter().filter(|&p| p <= 0.5) {
        let x = norm_inv_ref(p);
        assert!((phi(x) - p).abs() <= 1e-13 * p, "reference: Φ(Φ⁻¹({p:e})) = {:e}", phi(x));
    }
}

/// Acklam's approximation has relative error < 1.15e-9; we allow
/// 1.2e-9·max(1, |x|) against a ~1e-15 reference.
#[test]
fn inv_norm_is_within_acklams_bound() {
    let mut worst = (0.0f64, 0.0f64);
    for p in grid() {
        let (x, reference) = (inv_norm(Scalar, p), norm_inv_ref(p));
        let err = (x - reference).abs() / reference.abs().max(1.0);
        assert!(err <= 1.2e-9, "inv_norm({p:e}) = {x:e}, reference {reference:e}, scaled error {err:e}");
        if err > worst.1 {
            worst = (p, err);
        }
    }
    eprintln!("worst scaled error {:e} at p = {:e}", worst.1, worst.0);
}

/// The kernel only ever feeds uniforms (k + ½)·2⁻³²: over the extreme ones
/// (|x| up to 6.2) the bound holds too, and the output is odd-symmetric
/// within the bound.
#[test]
fn inv_norm_on_the_extreme_uniforms() {
    let u = |k: u64| (k as f64 + 0.5) / 4_294_967_296.0;
    for k in (0..4096).chain((1 << 32) - 4096..1 << 32) {
        let p = u(k);
        let (x, reference) = (inv_norm(Scalar, p), norm_inv_ref(p));
        assert!((x - reference).abs() <= 1.2e-9 * reference.abs().max(1.0), "u({k}) = {p:e}: {x} vs {reference}");
        let mirror = inv_norm(Scalar, u((1 << 32) - 1 - k));
        assert!((x + mirror).abs() <= 2.4e-9 * x.abs().max(1.0), "asymmetric at k = {k}: {x} vs {mirror}");
    }
}

/// Adjacent uniforms never map to decreasing normals, including across the
/// switch between the central and tail approximations (p = 0.02425).
#[test]
fn inv_norm_is_monotone_across_branch_switches() {
    let switch = (0.02425 * 4_294_967_296.0) as u64;
    for centre in [switch, (1 << 32) - switch] {
        let mut previous = f64::NEG_INFINITY;
        for k in centre - 20_000..centre + 20_000 {
            let x = inv_norm(Scalar, (k as f64 + 0.5) / 4_294_967_296.0);
            assert!(x >= previous, "inv_norm decreases at uniform index {k}: {previous} then {x}");
            previous = x;
        }
    }
}

/// Sample statistics of `n` values.
struct Stats {
    mean: f64,
    var: f64,
    skew: f64,
    excess_kurtosis: f64,
}

fn stats(xs: &[f64]) -> Stats {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let m = |k: i32| xs.iter().map(|x| (x - mean).powi(k)).sum::<f64>() / n;
    let var = m(2);
    Stats { mean, var, skew: m(3) / var.powf(1.5), excess_kurtosis: m(4) / (var * var) - 3.0 }
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (sa, sb) = (stats(a), stats(b));
    let n = a.len() as f64;
    a.iter().zip(b).map(|(x, y)| (x - sa.mean) * (y - sb.mean)).sum::<f64>() / n / (sa.var * sb.var).sqrt()
}

const N: u64 = 100_000;

fn normals(seed: u64, stream: u32, first_path: u64, dim: u32) -> Vec<f64> {
    (first_path..first_path + N).map(|p| normal_at(seed, stream, p, dim)).collect()
}

/// Moments, tail frequencies and the Kolmogorov–Smirnov distance of 10^5
/// consecutive paths' normals, for several coordinates. Tolerances are 4
/// standard errors of each statistic under exact normality (KS: the 0.1%
/// critical value 1.95/√n).
#[test]
fn normals_are_standard_normal() {
    let stream = StreamId::derive(Purpose::Pricing, "spx-call").0;
    let n = N as f64;
    for (seed, stream, first, dim) in [(1, stream, 0, 0), (20240601, stream, 1 << 40, 17), (7, 0, 12, 3)] {
        let xs = normals(seed, stream, first, dim);
        let s = stats(&xs);
        let at = format!("seed {seed}, stream {stream:#x}, paths {first}.., dim {dim}");
        assert!(s.mean.abs() <= 4.0 / n.sqrt(), "{at}: mean {}", s.mean);
        assert!((s.var - 1.0).abs() <= 4.0 * (2.0 / n).sqrt(), "{at}: variance {}", s.var);
        assert!(s.skew.abs() <= 4.0 * (6.0 / n).sqrt(), "{at}: skewness {}", s.skew);
        assert!(s.excess_kurtosis.abs() <= 4.0 * (24.0 / n).sqrt(), "{at}: excess kurtosis {}", s.excess_kurtosis);
        for threshold in [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0] {
            let p = phi(-f64::abs(threshold));
            let count = xs.iter().filter(|&&x| if threshold < 0.0 { x < threshold } else { x > threshold }).count();
            let expected = n * p;
            assert!(
                (count as f64 - expected).abs() <= 4.0 * (n * p * (1.0 - p)).sqrt(),
                "{at}: {count} normals beyond {threshold}, expected {expected:.0}"
            );
        }
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let ks = sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = phi(x);
                (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max);
        assert!(ks * n.sqrt() <= 1.95, "{at}: Kolmogorov–Smirnov √n·D = {}", ks * n.sqrt());
    }
}

/// Normals that must be independent have sample correlation within 4/√n of
/// 0, and so do their squares (dependence a linear check would miss).
#[test]
fn normals_are_independent_across_coordinates() {
    let n = N as f64;
    let seed = 42;
    let s = StreamId::derive(Purpose::Pricing, "din").0;
    let base = normals(seed, s, 0, 0);
    let pairs: Vec<(&str, Vec<f64>)> = vec![
        ("next dimension", normals(seed, s, 0, 1)),
        ("dimension 2^31", normals(seed, s, 0, 1 << 31)),
        ("next path (same Philox call)", normals(seed, s, 1, 0)),
        ("path + 4 (next counter)", normals(seed, s, 4, 0)),
        ("path + 2^34 (high counter word)", normals(seed, s, 1 << 34, 0)),
        ("another trade's stream", normals(seed, StreamId::derive(Purpose::Pricing, "dout").0, 0, 0)),
        ("calibration stream of the trade", normals(seed, StreamId::derive(Purpose::Calibration, "din").0, 0, 0)),
        ("stream ^ 1", normals(seed, s ^ 1, 0, 0)),
        ("seed + 1", normals(seed + 1, s, 0, 0)),
        ("seed + 2^32 (high key word)", normals(seed + (1 << 32), s, 0, 0)),
    ];
    let squares = |v: &[f64]| v.iter().map(|x| x * x).collect::<Vec<_>>();
    let base_sq = squares(&base);
    for (what, other) in &pairs {
        let identical = base.iter().zip(other).filter(|(a, b)| a.to_bits() == b.to_bits()).count();
        assert!(identical < 10, "{what}: {identical} identical normals");
        let r = correlation(&base, other);
        assert!(r.abs() <= 4.0 / n.sqrt(), "{what}: correlation {r}");
        let r2 = correlation(&base_sq, &squares(other));
        assert!(r2.abs() <= 4.0 / n.sqrt(), "{what}: correlation of squares {r2}");
    }
}

/// A plan whose recorded "spots" are exp of the running sum of the path's
/// normals: x₀ = 0, x_k = x_{k−1} + (0 + 1·z_k) = x_{k−1} + z_k exactly.
fn recording_plan(stream: u32, steps: u32) -> TradePlan {
    TradePlan {
        stream,
        chol: vec![1.0],
        n_assets: 1,
        steps,
        obs_every: 1,
        payoff: Payoff::Record,
        states: vec![StateParams {
            assets: vec![AssetState {
                log_spot: 0.0,
                spot: 1.0,
                dynamics: Dynamics::Gbm { drift_dt: 0.0, vol_sqrt_dt: 1.0 },
            }],
            discount: 1.0,
            obs_discount: vec![1.0; steps as usize],
        }],
    }
}

/// What the kernel must record for `path`: exp(z₁ + … + z_k) for k = 1..=steps.
fn expected_record(seed: u64, stream: u32, path: u64, steps: u32) -> Vec<u64> {
    let mut x = 0.0;
    (0..steps)
        .map(|dim| {
            x += normal_at(seed, stream, path, dim);
            exp_f64(x).to_bits()
        })
        .collect()
}

/// The kernel's normals for a path equal `normal_at` for that path whatever
/// block it was simulated in (first path, block length, partial tails) and
/// whichever ISA (lane count) ran it. The kernel's output layout (and any
/// padding lanes) is not part of the contract, so each path's recorded
/// observations are looked up by value: every path of the block must appear,
/// with all its observations in one column (the same slot of each
/// observation row), and no two paths may share a slot.
#[test]
fn kernel_normals_are_normal_at_whatever_the_block_or_isa() {
    let (seed, steps) = (20240601, 3);
    let stream = StreamId::derive(Purpose::Pricing, "kernel-check").0;
    let plan = recording_plan(stream, steps);
    let keys = RoundKeys::from_seed(seed);
    for isa in Isa::all_supported() {
        for first_path in [0u64, 4, 1000, 4096, (1 << 34) + 8] {
            for n_paths in [1usize, 3, 5, 8, 37, 64, 100] {
                // Generous buffer: room for any padding to whole tiles.
                let capacity = n_paths.div_ceil(64) * 64;
                let mut values = vec![0.0; steps as usize * capacity];
                simulate_block(isa, &plan, &keys, first_path, BlockOut { values: &mut values, n_paths });
                let mut position: HashMap<u64, Vec<usize>> = HashMap::new();
                for (i, v) in values.iter().enumerate() {
                    position.entry(v.to_bits()).or_default().push(i);
                }
                let mut stride = None;
                let mut slots = HashSet::new();
                for path in first_path..first_path + n_paths as u64 {
                    let at = |k: usize, want: u64| {
                        position.get(&want).cloned().unwrap_or_else(|| {
                            panic!(
                                "{isa:?}, block at {first_path} of {n_paths}: path {path} observation {k} \
                                 ({}) not produced by the kernel",
                                f64::from_bits(want)
                            )
                        })
                    };
                    let expected = expected_record(seed, stream, path, steps);
                    let firsts = at(0, expected[0]);
                    assert_eq!(firsts.len(), 1, "path {path}: value produced {} times", firsts.len());
                    let slot = firsts[0];
                    assert!(slots.insert(slot), "{isa:?}: two paths in slot {slot}");
                    let second = at(1, expected[1]);
                    let row = *stride.get_or_insert(second[0] - slot);
                    for (k, &want) in expected.iter().enumerate() {
                        assert!(
                            at(k, want).contains(&(slot + k * row)),
                            "{isa:?}, block at {first_path} of {n_paths}: path {path} observation {k} \
                             is not in the path's column"
                        );
                    }
                }
            }
        }
    }
}

/// Per path and bit for bit, through the public engine: a block holding a
/// single path (the last, partial block of a job) prices exactly the payoff
/// computed from `normal_at`. With S₀ = 1, r = σ²/2 = 0.125, q = 0, T = 4 in 4
/// steps the drift per step is exactly 0 and σ√dt = 0.5, so the log-spot is
/// the running sum of 0.5·zₖ, and a call struck at 1e-300 pays S_T·e^{−rT}.
#[test]
fn a_single_path_block_prices_the_normal_at_path() {
    let seed = 99;
    let job = |paths: u64| {
        format!(
            "seed: {seed}\nmarket: {{rate: 0.125, underlyings: [{{id: X, spot: 1.0, vol: 0.5}}]}}\n\
             portfolio: [{{id: one-path, instrument: {{type: european, underlying: X, option: call, \
             strike: 1.0e-300, maturity: 4.0, steps: 4}}}}]\n\
             analysis: {{paths: {paths}, block_size: 64}}\n"
        )
    };
    let stream = StreamId::derive(Purpose::Pricing, "one-path").0;
    for path in [0u64, 64, 6400, 1 << 34] {
        let spec = riskcalc::spec::parse_yaml(&job(path + 1)).unwrap();
        let mut x = 0.0;
        for dim in 0..4 {
            x += 0.5 * normal_at(seed, stream, path, dim);
        }
        let expected = exp_f64(x) * exp_f64(-0.125 * 4.0);
        for isa in Isa::all_supported() {
            let compiled = riskcalc::plan::CompiledJob::compile(&spec, isa);
            let block = path / 64;
            assert_eq!(compiled.block_paths(block), 1);
            let result = riskcalc::engine::price_trade_block(&compiled, 0, block, isa);
            let m = result.moments[0];
            assert_eq!(m.n, 1);
            assert_eq!(
                m.sum.to_bits(),
                expected.to_bits(),
                "{isa:?}, path {path}: engine {} vs normal_at {expected}",
                m.sum
            );
        }
    }
}
