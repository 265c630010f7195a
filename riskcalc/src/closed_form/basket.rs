//! European option on a geometric basket `G = Π S_i^{w_i}` of correlated
//! GBM assets (Black–Scholes–Merton with per-asset dividend yields).
//!
//! With `ln S_i(T) = ln S_i + (r − q_i − σ_i²/2)T + σ_i W_i(T)` and
//! `d⟨W_i, W_j⟩ = ρ_ij dt`, `ln G = Σ w_i ln S_i(T)` is normal with
//!
//! ```text
//! E[ln G]   = Σ_i w_i (ln S_i + (r − q_i − σ_i²/2) T)
//! Var[ln G] = T Σ_ij w_i w_j σ_i σ_j ρ_ij
//! ```
//!
//! and the option is priced by the Black formula on `F = exp(E + Var/2)`:
//! `V = e^{−rT}[ω F Φ(ω d1) − ω K Φ(ω d2)]`, `d1,2 = (ln(F/K) ± Var/2)/√Var`.
//! References: Gentle (1993), "Basket weaving", *Risk* 6(6); Glasserman
//! (2004) §4.1.2 (geometric basket as a control variate).

use super::black_scholes::{OptionKind, lognormal_price};

/// Inputs for [`geometric_basket_price`]. All per-asset slices must have the
/// same length `n ≥ 1`; `corr` is the `n × n` correlation matrix in
/// row-major order (`corr[i * n + j] = ρ_ij`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeometricBasket<'a> {
    /// Spot prices `S_i > 0`.
    pub spots: &'a [f64],
    /// Exponents `w_i` of the basket (any finite reals; they need not sum
    /// to one — `G` is then simply `Π S_i^{w_i}`).
    pub weights: &'a [f64],
    /// Volatilities `σ_i ≥ 0`.
    pub vols: &'a [f64],
    /// Continuous dividend yields `q_i`.
    pub dividends: &'a [f64],
    /// Correlation matrix, row-major `n × n`: symmetric, unit diagonal,
    /// entries in `[−1, 1]`, positive semi-definite.
    pub corr: &'a [f64],
    /// Common risk-free rate `r` (continuously compounded).
    pub rate: f64,
    /// Time to expiry `T ≥ 0` in years.
    pub maturity: f64,
    /// Strike `K ≥ 0`.
    pub strike: f64,
}

/// Tolerance for the symmetry / unit-diagonal checks on `corr`.
const CORR_TOL: f64 = 1e-12;

/// `(E[ln G], Var[ln G])`, or `None` if the inputs are invalid.
fn log_moments(b: &GeometricBasket<'_>) -> Option<(f64, f64)> {
    let n = b.spots.len();
    if n == 0
        || b.weights.len() != n
        || b.vols.len() != n
        || b.dividends.len() != n
        || b.corr.len() != n.checked_mul(n)?
    {
        return None;
    }
    if !(b.rate.is_finite() && b.maturity.is_finite() && b.strike.is_finite()) || b.maturity < 0.0 || b.strike < 0.0 {
        return None;
    }
    let t = b.maturity;
    let mut mean = 0.0;
    for i in 0..n {
        let (s, w, v, q) = (b.spots[i], b.weights[i], b.vols[i], b.dividends[i]);
        if !(s.is_finite() && s > 0.0 && w.is_finite() && v.is_finite() && v >= 0.0 && q.is_finite()) {
            return None;
        }
        mean += w * (s.ln() + (b.rate - q - 0.5 * v * v) * t);
    }
    let mut var = 0.0;
    let mut scale = 0.0;
    for i in 0..n {
        for j in 0..n {
            let rho = b.corr[i * n + j];
            let ok = rho.is_finite()
                && rho.abs() <= 1.0 + CORR_TOL
                && (rho - b.corr[j * n + i]).abs() <= CORR_TOL
                && (i != j || (rho - 1.0).abs() <= CORR_TOL);
            if !ok {
                return None;
            }
            let term = b.weights[i] * b.weights[j] * b.vols[i] * b.vols[j];
            var += term * rho;
            scale += term.abs();
        }
    }
    var *= t;
    scale *= t;
    if var < 0.0 {
        // Round-off on a singular (e.g. perfectly anti-correlated) matrix
        // can give a tiny negative variance; anything larger means `corr`
        // is not positive semi-definite.
        if var < -1e-12 * scale {
            return None;
        }
        var = 0.0;
    }
    Some((mean, var))
}

/// Price of a European call/put with payoff `max(ω(G − K), 0)` at `T` on
/// the geometric basket `G = Π S_i(T)^{w_i}`, see the module docs for the
/// formula. Zero total variance gives `e^{−rT} max(ω(F − K), 0)`.
///
/// Returns `NaN` if the slice lengths disagree, any input is non-finite or
/// out of domain (`S_i ≤ 0`, `σ_i < 0`, `T < 0`, `K < 0`), or `corr` is not
/// a valid correlation matrix (asymmetric or non-unit diagonal beyond 1e-12,
/// entries outside `[−1, 1]`, or giving a negative basket variance).
pub fn geometric_basket_price(kind: OptionKind, basket: &GeometricBasket<'_>) -> f64 {
    let Some((mean, var)) = log_moments(basket) else {
        return f64::NAN;
    };
    let log_fwd = mean + 0.5 * var;
    let rt = basket.rate * basket.maturity;
    let disc_fwd = (log_fwd - rt).exp();
    let disc_strike = basket.strike * (-rt).exp();
    // ln(F/K) computed as ln F − ln K (F may be far outside f64 range even
    // when ln F is not).
    let m = if basket.strike == 0.0 { f64::INFINITY } else { log_fwd - basket.strike.ln() };
    lognormal_price(kind, disc_fwd, disc_strike, m, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::super::black_scholes::{BsInputs, price};
    use super::super::test_quad::expect_2d_normal;
    use super::*;
    use OptionKind::{Call, Put};
    use proptest::prelude::*;

    fn cases() -> Vec<BsInputs> {
        let mut v = Vec::new();
        for &(s, k) in &[(100.0, 100.0), (100.0, 80.0), (100.0, 125.0)] {
            for &(r, q, vol, t) in
                &[(0.05, 0.0, 0.2, 1.0), (0.1, 0.05, 0.4, 0.5), (-0.01, 0.03, 0.1, 5.0), (0.03, 0.01, 0.0, 1.0)]
            {
                v.push(BsInputs { spot: s, strike: k, rate: r, dividend: q, vol, maturity: t });
            }
        }
        v
    }

    #[test]
    fn single_asset_is_black_scholes() {
        for p in cases() {
            let b = GeometricBasket {
                spots: &[p.spot],
                weights: &[1.0],
                vols: &[p.vol],
                dividends: &[p.dividend],
                corr: &[1.0],
                rate: p.rate,
                maturity: p.maturity,
                strike: p.strike,
            };
            for kind in [Call, Put] {
                let g = geometric_basket_price(kind, &b);
                let bs = price(kind, &p);
                assert!((g - bs).abs() <= 1e-12 * p.spot, "{kind:?} {p:?}: {g} vs {bs}");
            }
        }
    }

    /// Identical, perfectly correlated assets with weights summing to 1
    /// form a basket equal to the single asset.
    #[test]
    fn perfectly_correlated_identical_assets_are_black_scholes() {
        for p in cases() {
            for (n, weights) in [(2_usize, vec![0.5, 0.5]), (3, vec![0.2, 0.3, 0.5])] {
                let spots = vec![p.spot; n];
                let vols = vec![p.vol; n];
                let divs = vec![p.dividend; n];
                let corr = vec![1.0; n * n];
                let b = GeometricBasket {
                    spots: &spots,
                    weights: &weights,
                    vols: &vols,
                    dividends: &divs,
                    corr: &corr,
                    rate: p.rate,
                    maturity: p.maturity,
                    strike: p.strike,
                };
                for kind in [Call, Put] {
                    let g = geometric_basket_price(kind, &b);
                    let bs = price(kind, &p);
                    assert!((g - bs).abs() <= 1e-12 * p.spot, "n={n} {kind:?} {p:?}: {g} vs {bs}");
                }
            }
        }
    }

    /// Two correlated assets with different parameters against a 2-D
    /// quadrature over the driving normals (Cholesky factor of ρ).
    #[test]
    fn two_assets_match_quadrature() {
        for &(rho, w1, w2, k) in &[(0.3, 0.6, 0.4, 95.0), (-0.6, 0.5, 0.5, 40.0), (0.9, 1.0, -0.5, 12.0)] {
            let spots = [100.0, 60.0];
            let vols = [0.25, 0.4];
            let divs = [0.02, 0.0];
            let (r, t) = (0.04_f64, 1.5_f64);
            let corr = [1.0, rho, rho, 1.0];
            let weights = [w1, w2];
            let b = GeometricBasket {
                spots: &spots,
                weights: &weights,
                vols: &vols,
                dividends: &divs,
                corr: &corr,
                rate: r,
                maturity: t,
                strike: k,
            };
            let basket = |z1: f64, z2: f64| {
                let x1 = z1;
                let x2 = rho * z1 + (1.0 - rho * rho).sqrt() * z2;
                let st = |i: usize, x: f64| {
                    spots[i] * ((r - divs[i] - 0.5 * vols[i] * vols[i]) * t + vols[i] * t.sqrt() * x).exp()
                };
                st(0, x1).powf(w1) * st(1, x2).powf(w2)
            };
            let df = (-r * t).exp();
            let call = df * expect_2d_normal(|a, c| (basket(a, c) - k).max(0.0));
            let put = df * expect_2d_normal(|a, c| (k - basket(a, c)).max(0.0));
            let gc = geometric_basket_price(Call, &b);
            let gp = geometric_basket_price(Put, &b);
            assert!((gc - call).abs() < 2e-5 * k, "rho={rho}: call {gc} vs quad {call}");
            assert!((gp - put).abs() < 2e-5 * k, "rho={rho}: put {gp} vs quad {put}");
        }
    }

    #[test]
    fn permutation_invariance() {
        let corr = [1.0, 0.2, -0.3, 0.2, 1.0, 0.5, -0.3, 0.5, 1.0];
        let b = GeometricBasket {
            spots: &[100.0, 50.0, 20.0],
            weights: &[0.5, 0.3, 0.2],
            vols: &[0.2, 0.3, 0.5],
            dividends: &[0.01, 0.02, 0.0],
            corr: &corr,
            rate: 0.03,
            maturity: 2.0,
            strike: 55.0,
        };
        // Swap assets 0 and 2.
        let perm = [2, 1, 0];
        let pc: Vec<f64> = (0..9).map(|ij| corr[perm[ij / 3] * 3 + perm[ij % 3]]).collect();
        let b2 = GeometricBasket {
            spots: &[20.0, 50.0, 100.0],
            weights: &[0.2, 0.3, 0.5],
            vols: &[0.5, 0.3, 0.2],
            dividends: &[0.0, 0.02, 0.01],
            corr: &pc,
            ..b
        };
        for kind in [Call, Put] {
            let (x, y) = (geometric_basket_price(kind, &b), geometric_basket_price(kind, &b2));
            assert!(x.is_finite() && (x - y).abs() < 1e-12 * 55.0, "{x} vs {y}");
        }
    }

    #[test]
    fn invalid_inputs_are_nan() {
        let corr = [1.0, 0.5, 0.5, 1.0];
        let ok = GeometricBasket {
            spots: &[100.0, 50.0],
            weights: &[0.5, 0.5],
            vols: &[0.2, 0.3],
            dividends: &[0.0, 0.0],
            corr: &corr,
            rate: 0.03,
            maturity: 1.0,
            strike: 70.0,
        };
        assert!(geometric_basket_price(Call, &ok).is_finite());
        let bad = [
            GeometricBasket { spots: &[100.0], ..ok },
            GeometricBasket { corr: &[1.0, 0.5, 0.5], ..ok },
            GeometricBasket { corr: &[1.0, 0.5, 0.4, 1.0], ..ok },
            GeometricBasket { corr: &[0.9, 0.5, 0.5, 1.0], ..ok },
            GeometricBasket { corr: &[1.0, 1.5, 1.5, 1.0], ..ok },
            GeometricBasket { spots: &[0.0, 50.0], ..ok },
            GeometricBasket { vols: &[-0.2, 0.3], ..ok },
            GeometricBasket { maturity: -1.0, ..ok },
            GeometricBasket { strike: f64::NAN, ..ok },
            GeometricBasket { spots: &[], weights: &[], vols: &[], dividends: &[], corr: &[], ..ok },
        ];
        for b in bad {
            assert!(geometric_basket_price(Call, &b).is_nan(), "{b:?}");
        }
        // Not positive semi-definite: three assets pairwise −0.9.
        let npsd = [1.0, -0.9, -0.9, -0.9, 1.0, -0.9, -0.9, -0.9, 1.0];
        let b = GeometricBasket {
            spots: &[1.0, 1.0, 1.0],
            weights: &[1.0, 1.0, 1.0],
            vols: &[0.2, 0.2, 0.2],
            dividends: &[0.0, 0.0, 0.0],
            corr: &npsd,
            ..ok
        };
        assert!(geometric_basket_price(Put, &b).is_nan());
        // Perfect anti-correlation with equal weights: zero variance (round-off
        // must not turn it into NaN), price = discounted forward intrinsic.
        let anti = [1.0, -1.0, -1.0, 1.0];
        let b = GeometricBasket {
            spots: &[100.0, 100.0],
            weights: &[0.5, 0.5],
            vols: &[0.3, 0.3],
            dividends: &[0.0, 0.0],
            corr: &anti,
            rate: 0.0,
            maturity: 1.0,
            strike: 90.0,
        };
        // Var = 0, E[ln G] = ln 100 − σ²/2 T.
        let want = 100.0 * (-0.045_f64).exp() - 90.0;
        assert!((geometric_basket_price(Call, &b) - want).abs() < 1e-12);
    }

    proptest! {
        /// Parity C − P = e^{−rT}(E[G] − K) and no NaN for random valid
        /// two-asset baskets.
        #[test]
        fn parity_and_no_nan(
            s1 in 0.01..1e4_f64, s2 in 0.01..1e4_f64,
            w1 in -2.0..2.0_f64, w2 in -2.0..2.0_f64,
            v1 in 0.0..2.0_f64, v2 in 0.0..2.0_f64,
            q1 in -0.1..0.2_f64, q2 in -0.1..0.2_f64,
            rho in -1.0..=1.0_f64, r in -0.05..0.2_f64,
            t in 0.0..20.0_f64, k in 0.0..1e4_f64,
        ) {
            let corr = [1.0, rho, rho, 1.0];
            let b = GeometricBasket {
                spots: &[s1, s2], weights: &[w1, w2], vols: &[v1, v2],
                dividends: &[q1, q2], corr: &corr, rate: r, maturity: t, strike: k,
            };
            let c = geometric_basket_price(Call, &b);
            let p = geometric_basket_price(Put, &b);
            prop_assert!(!c.is_nan() && !p.is_nan());
            let (mean, var) = log_moments(&b).unwrap_or((f64::NAN, f64::NAN));
            let fd = (mean + 0.5 * var - r * t).exp();
            let kd = k * (-r * t).exp();
            if (fd + kd).is_finite() {
                prop_assert!(((c - p) - (fd - kd)).abs() <= 1e-12 * (fd + kd),
                    "c={c} p={p} fd={fd} kd={kd}");
            }
        }
    }
}
