//! Discrete-fixing geometric-average Asian options under Black–Scholes–Merton.
//!
//! Fixings at `t_i = i·T/n`, `i = 1..=n` (the fixing at maturity is
//! included, the one at time 0 is not). Under GBM
//! `ln S_t = ln S + μt + σW_t` with `μ = r − q − σ²/2`, so
//! `ln G = (1/n) Σ ln S_{t_i}` is normal with
//!
//! ```text
//! E[ln G]   = ln S + μ·(1/n)Σ t_i           = ln S + μ T (n+1)/(2n)
//! Var[ln G] = (σ²/n²) Σ_ij min(t_i, t_j)     = σ² T (n+1)(2n+1)/(6n²)
//! ```
//!
//! (using `Σ_i i = n(n+1)/2` and `Σ_ij min(i,j) = Σ_k k² = n(n+1)(2n+1)/6`).
//! The option on `G` is then priced by the Black formula on the forward
//! `F = E[G] = exp(E[ln G] + Var[ln G]/2)`:
//! `V = e^{−rT}[ω F Φ(ω d1) − ω K Φ(ω d2)]`, `d1,2 = (ln(F/K) ± v/2)/√v`.
//! For `n = 1` this is exactly Black–Scholes; as `n → ∞` it tends to the
//! continuous geometric average of Kemna & Vorst (1990) (`Var = σ²T/3`).
//! References: Kemna & Vorst (1990), *J. Banking & Finance* 14, 113–129;
//! Haug (2007) §4.20.1; discrete version e.g. Glasserman (2004) §4.1.2.

use super::black_scholes::{BsInputs, OptionKind, log_ratio, lognormal_price};

/// `(E[ln G] − ln S, Var[ln G])` for `n ≥ 1` equally spaced fixings.
fn log_moments(p: &BsInputs, n: u32) -> (f64, f64) {
    let n = f64::from(n);
    let mu = p.rate - p.dividend - 0.5 * p.vol * p.vol;
    // (n+1)/(2n) and (n+1)(2n+1)/(6n²), written to stay exact-ish for large n.
    let time_mean = p.maturity * (0.5 + 0.5 / n);
    let var = p.vol * p.vol * p.maturity * (1.0 + 1.0 / n) * (2.0 + 1.0 / n) / 6.0;
    (mu * time_mean, var)
}

/// Price of a European call/put on the geometric average of `fixings`
/// equally spaced fixings `S(iT/n)`, `i = 1..=n`, paid at `T`:
/// payoff `max(ω(G − K), 0)` with `G = (Π S_{t_i})^{1/n}`.
///
/// Uses `spot`, `strike`, `rate`, `dividend`, `vol`, `maturity` of `p` as in
/// [`super::black_scholes::price`] (same domain; zero variance gives the
/// discounted forward intrinsic value `e^{−rT} max(ω(F − K), 0)`).
/// Returns `NaN` for `fixings == 0` or out-of-domain inputs.
pub fn geometric_asian_price(kind: OptionKind, p: &BsInputs, fixings: u32) -> f64 {
    let all_finite = [p.spot, p.strike, p.rate, p.dividend, p.vol, p.maturity].iter().all(|v| v.is_finite());
    if fixings == 0 || !all_finite || p.spot < 0.0 || p.strike < 0.0 || p.vol < 0.0 || p.maturity < 0.0 {
        return f64::NAN;
    }
    let (drift, var) = log_moments(p, fixings);
    // ln F − ln S = E[ln G] − ln S + Var/2 ; discounted forward e^{−rT}F.
    let log_fwd_over_spot = drift + 0.5 * var;
    let disc_fwd = if p.spot == 0.0 { 0.0 } else { p.spot * (log_fwd_over_spot - p.rate * p.maturity).exp() };
    let disc_strike = p.strike * (-p.rate * p.maturity).exp();
    let m = log_ratio(p.spot, p.strike) + log_fwd_over_spot;
    lognormal_price(kind, disc_fwd, disc_strike, m, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::super::black_scholes::price;
    use super::super::test_quad::expect_2d_normal;
    use super::*;
    use OptionKind::{Call, Put};
    use proptest::prelude::*;

    fn inp(spot: f64, strike: f64, rate: f64, dividend: f64, vol: f64, maturity: f64) -> BsInputs {
        BsInputs { spot, strike, rate, dividend, vol, maturity }
    }

    #[test]
    fn one_fixing_is_black_scholes() {
        for &(s, k) in &[(100.0, 100.0), (100.0, 80.0), (100.0, 125.0)] {
            for &(r, q, vol, t) in &[(0.05, 0.0, 0.2, 1.0), (0.1, 0.05, 0.4, 0.5), (-0.01, 0.03, 0.1, 5.0)] {
                let p = inp(s, k, r, q, vol, t);
                for kind in [Call, Put] {
                    let a = geometric_asian_price(kind, &p, 1);
                    let b = price(kind, &p);
                    assert!((a - b).abs() <= 1e-12 * s, "{kind:?} {p:?}: {a} vs {b}");
                }
            }
        }
    }

    /// The closed-form moments against a direct summation of the fixing
    /// covariance matrix `σ² min(t_i, t_j)` and fixing times.
    #[test]
    fn moments_match_direct_summation() {
        let p = inp(100.0, 100.0, 0.07, 0.02, 0.3, 2.0);
        let mu = p.rate - p.dividend - 0.5 * p.vol * p.vol;
        for n in 1..=60_u32 {
            let nf = f64::from(n);
            let times: Vec<f64> = (1..=n).map(|i| f64::from(i) * p.maturity / nf).collect();
            let mean: f64 = times.iter().map(|t| mu * t).sum::<f64>() / nf;
            let mut var = 0.0;
            for ti in &times {
                for tj in &times {
                    var += p.vol * p.vol * ti.min(*tj);
                }
            }
            var /= nf * nf;
            let (m, v) = log_moments(&p, n);
            assert!((m - mean).abs() < 1e-14, "n={n}: mean {m} vs {mean}");
            assert!((v - var).abs() < 1e-14, "n={n}: var {v} vs {var}");
        }
    }

    /// Full pricing pipeline for two fixings against a 2-D quadrature over
    /// the two Brownian increments (independent of the lognormal algebra).
    #[test]
    fn two_fixings_match_quadrature() {
        for &(s, k, r, q, vol, t) in &[
            (100.0, 100.0, 0.05, 0.02, 0.3, 1.0),
            (100.0, 90.0, 0.1, 0.0, 0.5, 2.0),
            (50.0, 60.0, 0.02, 0.04, 0.25, 0.75),
        ] {
            let p = inp(s, k, r, q, vol, t);
            let dt: f64 = t / 2.0;
            let mu = r - q - 0.5 * vol * vol;
            let path = |z1: f64, z2: f64| {
                let s1 = s * (mu * dt + vol * dt.sqrt() * z1).exp();
                let s2 = s1 * (mu * dt + vol * dt.sqrt() * z2).exp();
                (s1 * s2).sqrt()
            };
            let df = (-r * t).exp();
            let call = df * expect_2d_normal(|z1, z2| (path(z1, z2) - k).max(0.0));
            let put = df * expect_2d_normal(|z1, z2| (k - path(z1, z2)).max(0.0));
            let ac = geometric_asian_price(Call, &p, 2);
            let ap = geometric_asian_price(Put, &p, 2);
            assert!((ac - call).abs() < 2e-5 * s, "call {ac} vs quad {call}");
            assert!((ap - put).abs() < 2e-5 * s, "put {ap} vs quad {put}");
        }
    }

    /// Continuous-average limit: Haug (2007) §4.20.1 (Kemna–Vorst geometric
    /// average-rate option): S=80, K=85, T=0.25, r=5 %, b=8 % (q=−3 %),
    /// σ=20 % → put = 4.6922. A million fixings is within 1e-5 of the limit.
    #[test]
    fn many_fixings_approach_kemna_vorst() {
        let p = inp(80.0, 85.0, 0.05, -0.03, 0.2, 0.25);
        let v = geometric_asian_price(Put, &p, 1_000_000);
        assert!((v - 4.6922).abs() < 5e-5, "{v}");
        // More fixings are closer to the continuous limit.
        let v12 = geometric_asian_price(Put, &p, 12);
        let v252 = geometric_asian_price(Put, &p, 252);
        assert!((v252 - v).abs() < (v12 - v).abs());
    }

    #[test]
    fn degenerate_and_invalid() {
        let p = inp(100.0, 90.0, 0.05, 0.01, 0.2, 1.0);
        assert!(geometric_asian_price(Call, &p, 0).is_nan());
        assert!(geometric_asian_price(Call, &BsInputs { vol: -0.1, ..p }, 4).is_nan());
        // Zero maturity: all fixings are today's spot.
        let z = BsInputs { maturity: 0.0, ..p };
        assert_eq!(geometric_asian_price(Call, &z, 12), 10.0);
        assert_eq!(geometric_asian_price(Put, &z, 12), 0.0);
        // Zero vol: deterministic average of the forward curve.
        let z = BsInputs { vol: 0.0, ..p };
        let n = 4;
        let g = (1..=n).map(|i| (100.0_f64 * ((0.05 - 0.01) * f64::from(i) / f64::from(n)).exp()).ln()).sum::<f64>()
            / f64::from(n);
        let want = (-0.05_f64).exp() * (g.exp() - 90.0).max(0.0);
        let got = geometric_asian_price(Call, &z, n);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    proptest! {
        /// Parity `C − P = e^{−rT}(F_G − K)` with `F_G = E[G]`, and no NaN
        /// over wide inputs including zero vol / maturity.
        #[test]
        fn parity_and_no_nan(
            ls in -2.0..4.0_f64, lk in -1.5..1.5_f64,
            r in -0.1..0.3_f64, q in -0.1..0.3_f64,
            vol in prop_oneof![Just(0.0), 1e-6..3.0_f64],
            t in prop_oneof![Just(0.0), 1e-6..30.0_f64],
            n in 1..500_u32,
        ) {
            let spot = 10f64.powf(ls);
            let p = inp(spot, spot * lk.exp(), r, q, vol, t);
            let c = geometric_asian_price(Call, &p, n);
            let pu = geometric_asian_price(Put, &p, n);
            prop_assert!(!c.is_nan() && !pu.is_nan());
            let (drift, var) = log_moments(&p, n);
            let fd = spot * (drift + 0.5 * var - r * t).exp();
            let kd = p.strike * (-r * t).exp();
            prop_assert!(((c - pu) - (fd - kd)).abs() <= 1e-13 * (fd + kd));
        }
    }
}
