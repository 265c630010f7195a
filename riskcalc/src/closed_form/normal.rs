//! Standard normal distribution: CDF, PDF and a high-accuracy inverse CDF.
//!
//! The CDF is evaluated through the complementary error function
//! (`libm::erfc`), which keeps full *relative* accuracy in the lower tail
//! (e.g. `norm_cdf(-30)` ≈ 4.9e-198 is returned accurately instead of
//! underflowing through `1 - something`).

use core::f64::consts::FRAC_1_SQRT_2;

/// `1 / sqrt(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Standard normal cumulative distribution function
/// `Φ(x) = ½·erfc(−x/√2)`.
///
/// Accurate to a few ulps in relative terms over the whole lower tail;
/// in the upper tail `Φ(x)` rounds to `1` for `x ≳ 8.3`, as any `f64` must
/// (use `norm_cdf(-x)` for the upper-tail probability `1 − Φ(x)`).
/// Returns `0` / `1` at `∓∞` and `NaN` for `NaN`.
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Standard normal probability density `φ(x) = exp(−x²/2) / √(2π)`.
///
/// Returns `0` at `±∞` (and for `|x| ≳ 38.6`, where it underflows).
#[inline]
pub fn norm_pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

/// High-accuracy inverse of the standard normal CDF, `Φ⁻¹(p)`.
///
/// Algorithm: Wichura (1988), *Algorithm AS 241: The percentage points of
/// the normal distribution*, Applied Statistics 37(3), 477–484 — the
/// double-precision variant PPND16 (about 1e-16 relative accuracy) —
/// followed by one Halley step on `Φ(x) − p` with `Φ` evaluated via `erfc`.
/// The upper half `p > ½` is computed as `−Φ⁻¹(1 − p)` (`1 − p` is exact
/// there), so the result is exactly antisymmetric about `p = ½`.
///
/// Relative error is ~1e-15 or better for `p ∈ [1e-300, 1 − 2⁻⁵³]`.
/// Note that near `p = 1` the *input* carries little information
/// (`f64` spacing is `1.1e-16`), so `Φ⁻¹(p)` is ill-conditioned there;
/// prefer passing the small tail probability to the lower tail.
///
/// Returns `−∞` for `p = 0`, `+∞` for `p = 1`, and `NaN` for `p` outside
/// `[0, 1]` or `NaN`.
///
/// Named `_ref` because it was written as a test reference; it is also the
/// inverse CDF used by [`super::var`].
pub fn norm_inv_ref(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p > 0.5 {
        // 1 − p is exact for p ∈ (0.5, 1) (Sterbenz lemma).
        return -lower_half_inv(1.0 - p);
    }
    lower_half_inv(p)
}

/// `Φ⁻¹(p)` for `p ∈ (0, ½]`: PPND16 plus one Halley refinement step.
fn lower_half_inv(p: f64) -> f64 {
    let x0 = ppnd16(p);
    // Halley step for f(x) = Φ(x) − p:  u = f/f' = (Φ(x) − p)/φ(x),
    // x₁ = x₀ − u / (1 + x₀·u/2)  (using f''/f' = −x).
    let pdf = norm_pdf(x0);
    if pdf <= 0.0 || !x0.is_finite() {
        return x0;
    }
    let u = (norm_cdf(x0) - p) / pdf;
    let x1 = x0 - u / (1.0 + 0.5 * x0 * u);
    if x1.is_finite() { x1 } else { x0 }
}

/// Horner evaluation of a polynomial with coefficients in ascending order.
#[inline]
fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// Wichura's AS 241 PPND16 (raw, unrefined), valid for `p ∈ (0, 1)`.
// Coefficients are kept digit-for-digit as published, for auditability.
#[allow(clippy::excessive_precision)]
fn ppnd16(p: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];

    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::f64::consts::PI;

    #[test]
    fn cdf_known_values() {
        // Reference values from standard tables / high-precision evaluation.
        let cases = [
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (-1.0, 0.158_655_253_931_457_05),
            (1.959_963_984_540_054, 0.975),
            (-3.0, 1.349_898_031_630_094_6e-3),
            (-10.0, 7.619_853_024_160_527e-24),
            (-20.0, 2.753_624_118_606_233_5e-89),
            (-37.5, 4.605_353_009_581_955e-308),
        ];
        for (x, want) in cases {
            let got = norm_cdf(x);
            let rel = ((got - want) / want).abs();
            assert!(rel < 1e-13, "Φ({x}) = {got:e}, want {want:e}, rel {rel:e}");
        }
        assert_eq!(norm_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(norm_cdf(f64::INFINITY), 1.0);
        assert!(norm_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn pdf_values_and_normalisation() {
        assert!((norm_pdf(0.0) - 1.0 / (2.0 * PI).sqrt()).abs() < 1e-17);
        assert!((norm_pdf(1.5) - norm_pdf(-1.5)).abs() == 0.0);
        // Trapezoid rule on a smooth, rapidly decaying integrand is
        // spectrally accurate: ∫φ = 1 and ∫x²φ = 1.
        let h = 0.01;
        let (mut m0, mut m2) = (0.0, 0.0);
        for i in -2000..=2000 {
            let x = f64::from(i) * h;
            m0 += norm_pdf(x) * h;
            m2 += x * x * norm_pdf(x) * h;
        }
        assert!((m0 - 1.0).abs() < 1e-14, "{m0}");
        assert!((m2 - 1.0).abs() < 1e-13, "{m2}");
        assert_eq!(norm_pdf(f64::INFINITY), 0.0);
    }

    #[test]
    fn cdf_derivative_is_pdf() {
        for i in -60..=60 {
            let x = f64::from(i) * 0.1;
            let h = 1e-5;
            let fd = (norm_cdf(x + h) - norm_cdf(x - h)) / (2.0 * h);
            assert!((fd - norm_pdf(x)).abs() < 1e-9, "x={x}");
        }
    }

    #[test]
    fn inverse_known_values() {
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_841),
            (0.025, -1.959_963_984_540_054),
            (0.001, -3.090_232_306_167_813_6),
            (1e-10, -6.361_340_902_404_056),
        ];
        for (p, want) in cases {
            let got = norm_inv_ref(p);
            let err = (got - want).abs();
            assert!(err <= 2e-15 * want.abs().max(1.0), "Φ⁻¹({p}) = {got}, want {want}");
        }
    }

    #[test]
    fn inverse_edge_cases() {
        assert_eq!(norm_inv_ref(0.0), f64::NEG_INFINITY);
        assert_eq!(norm_inv_ref(1.0), f64::INFINITY);
        assert!(norm_inv_ref(-0.1).is_nan());
        assert!(norm_inv_ref(1.1).is_nan());
        assert!(norm_inv_ref(f64::NAN).is_nan());
        // Smallest subnormal: finite, deep in the tail, no panic.
        let x = norm_inv_ref(f64::from_bits(1));
        assert!(x.is_finite() && x < -38.0, "{x}");
        assert!(norm_inv_ref(f64::MIN_POSITIVE).is_finite());
        // Exact antisymmetry (for p > ½, 1 − p is exact).
        for &p in &[0.51, 0.7, 0.99, 1.0 - 1e-10, 1.0 - f64::EPSILON] {
            assert_eq!(norm_inv_ref(p), -norm_inv_ref(1.0 - p));
        }
    }

    /// `norm_inv_ref(norm_cdf(x)) ≈ x` over [-8, 8]. The tolerance includes
    /// the unavoidable conditioning term: rounding `p = Φ(x)` to `f64`
    /// perturbs `p` by up to ½ulp(p), which moves the exact inverse by
    /// `ulp(p)/(2φ(x))` — tiny for x ≤ 0, large near x = 8 where
    /// `Φ(x)` is within a few ulps of 1.
    #[test]
    fn roundtrip_cdf_inverse() {
        for i in -8000..=8000 {
            let x = f64::from(i) * 1e-3;
            let p = norm_cdf(x);
            let back = norm_inv_ref(p);
            let cond = 2.0 * f64::EPSILON * p / norm_pdf(x);
            let tol = 4e-15 * x.abs().max(1.0) + cond;
            assert!((back - x).abs() <= tol, "x={x}, back={back}, diff={:e}, tol={tol:e}", back - x);
        }
    }

    /// Lower tail in probability space: Φ(Φ⁻¹(p)) = p to ~1e-15 relative,
    /// down to p = 1e-300.
    #[test]
    fn roundtrip_inverse_cdf_lower_tail() {
        let mut p: f64 = 0.5;
        while p > 1e-300 {
            let x = norm_inv_ref(p);
            let back = norm_cdf(x);
            // Conditioning: dp/p ≈ (φ(x)/Φ(x))·dx ≈ |x|·dx = x²·(dx/x), so
            // a 1-ulp relative error in x shows up as ~x² ulps in p; add a
            // few ulps for erfc's own rounding.
            let tol = 4.0 * f64::EPSILON * (1.0 + x * x);
            assert!(((back - p) / p).abs() <= tol, "p={p:e}, x={x}, back={back:e}");
            p *= 0.37;
        }
    }

    /// The unrefined PPND16 polynomial is itself accurate to ~1e-16; this
    /// guards against a typo in a coefficient, which the Halley refinement
    /// would otherwise mask.
    #[test]
    fn raw_ppnd16_accuracy() {
        let mut p: f64 = 0.5;
        while p > 1e-300 {
            let raw = ppnd16(p);
            let refined = norm_inv_ref(p);
            let rel = ((raw - refined) / refined.abs().max(1e-300)).abs();
            assert!(rel < 1e-14 || (raw - refined).abs() < 1e-15, "p={p:e}: {raw} vs {refined}");
            p *= 0.61;
        }
        for i in 1..1000 {
            let p = f64::from(i) / 1000.0;
            assert!((ppnd16(p) - norm_inv_ref(p)).abs() < 1e-14, "p={p}");
        }
    }
}
