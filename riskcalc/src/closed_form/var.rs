//! Value-at-risk and expected shortfall of a single stock position under a
//! lognormal (GBM) real-world model.
//!
//! `S_h = S·exp((μ − σ²/2)h + σ√h Z)`, `Z ~ N(0,1)`; the position holds
//! `quantity` units (`< 0` for a short), P&L `= quantity·(S_h − S)` and the
//! loss is `L = −P&L`. Both measures are reported as **positive numbers for
//! losses** (a negative VaR means the α-quantile is a gain).
//!
//! With `a = (μ − σ²/2)h`, `b = σ√h`, `p = 1 − α`, `z = Φ⁻¹(p)`:
//!
//! * Long (`quantity > 0`): `L` is decreasing in `Z`, so the loss tail is
//!   `Z ≤ z`:
//!   `VaR = qS(1 − e^{a + b z})`,
//!   `ES  = qS(1 − e^{μh} Φ(z − b)/p)`
//!   (using `E[e^{bZ}; Z ≤ z] = e^{b²/2} Φ(z − b)`).
//! * Short (`quantity < 0`): `L = |q|S(e^{a+bZ} − 1)` is increasing in `Z`,
//!   the loss tail is `Z ≥ −z`:
//!   `VaR = |q|S(e^{a − b z} − 1)`,
//!   `ES  = |q|S(e^{μh} Φ(z + b)/p − 1)`
//!   (using `E[e^{bZ}; Z ≥ −z] = e^{b²/2} Φ(b + z)`).
//!
//! Both cases are `VaR = −qS·expm1(a + sgn(q)·b z)` and
//! `ES = −qS·expm1(μh + ln Φ(z − sgn(q)·b) − ln p)`, evaluated with
//! `expm1` so that small horizons keep full relative accuracy (and with
//! `p` taken as `Φ(z)`, equal to `1 − α` up to rounding, so that ES equals
//! VaR exactly when `σ√h = 0`).
//! ES is the tail conditional expectation `E[L | L ≥ VaR]`, which equals
//! the Acerbi–Tasche expected shortfall for this continuous distribution.
//! Reference: e.g. McNeil, Frey & Embrechts, *Quantitative Risk
//! Management* (2015), §2.3.

use super::normal::{norm_cdf, norm_inv_ref};

/// Validated model quantities shared by VaR and ES.
struct Parts {
    /// `quantity · spot`
    exposure: f64,
    /// `+1` long, `−1` short.
    sign: f64,
    /// `(μ − σ²/2)h`
    a: f64,
    /// `σ√h`
    b: f64,
    /// `Φ⁻¹(1 − α)`
    z: f64,
}

fn parts(quantity: f64, spot: f64, mu: f64, vol: f64, horizon: f64, alpha: f64) -> Option<Parts> {
    let finite = [quantity, spot, mu, vol, horizon, alpha].iter().all(|x| x.is_finite());
    if !finite || spot < 0.0 || vol < 0.0 || horizon < 0.0 || alpha <= 0.0 || alpha >= 1.0 {
        return None;
    }
    Some(Parts {
        exposure: quantity * spot,
        sign: if quantity < 0.0 { -1.0 } else { 1.0 },
        a: (mu - 0.5 * vol * vol) * horizon,
        b: vol * horizon.sqrt(),
        z: norm_inv_ref(1.0 - alpha),
    })
}

/// Value-at-risk at confidence `alpha` (e.g. `0.99`) of `quantity` units of
/// a stock at `spot` over `horizon` years, with real-world drift `mu` and
/// volatility `vol` (annualised) — the α-quantile of the loss
/// `quantity·(S − S_h)`:
///
/// `VaR_α = −quantity·S·expm1((μ − σ²/2)h + sgn(quantity)·σ√h·Φ⁻¹(1 − α))`
///
/// (long: `qS(1 − e^{(μ−σ²/2)h + σ√h Φ⁻¹(1−α)})`; short: the high-`Z` tail,
/// `|q|S(e^{(μ−σ²/2)h + σ√h Φ⁻¹(α)} − 1)`). Positive = loss.
///
/// Domain: `spot ≥ 0`, `vol ≥ 0`, `horizon ≥ 0`, `0 < alpha < 1`, all
/// finite (any finite `quantity` and `mu`); otherwise `NaN`.
pub fn lognormal_var(quantity: f64, spot: f64, mu: f64, vol: f64, horizon: f64, alpha: f64) -> f64 {
    let Some(k) = parts(quantity, spot, mu, vol, horizon, alpha) else {
        return f64::NAN;
    };
    if k.exposure == 0.0 {
        return 0.0;
    }
    let shock = if k.b == 0.0 { 0.0 } else { k.sign * k.b * k.z };
    -k.exposure * (k.a + shock).exp_m1()
}

/// Expected shortfall (conditional VaR) at confidence `alpha`: the mean loss
/// given that the loss is at least [`lognormal_var`], same arguments:
///
/// `ES_α = −quantity·S·expm1(μh + ln Φ(Φ⁻¹(1−α) − sgn(quantity)·σ√h) − ln(1−α))`
///
/// (long: `qS(1 − e^{μh} Φ(Φ⁻¹(1−α) − σ√h)/(1−α))`; short:
/// `|q|S(e^{μh} Φ(Φ⁻¹(1−α) + σ√h)/(1−α) − 1)`). Positive = loss; always
/// `≥ lognormal_var` for the same inputs. Returns `NaN` outside the domain
/// of [`lognormal_var`].
pub fn lognormal_es(quantity: f64, spot: f64, mu: f64, vol: f64, horizon: f64, alpha: f64) -> f64 {
    let Some(k) = parts(quantity, spot, mu, vol, horizon, alpha) else {
        return f64::NAN;
    };
    if k.exposure == 0.0 {
        return 0.0;
    }
    // Ratio E[S_h/S | tail] = e^{μh} Φ(z ∓ b) / p, taken in logs. The
    // denominator uses Φ(z) (= p up to rounding) so that the ratio is
    // exactly e^{μh} when σ√h = 0.
    let tail = norm_cdf(k.z - k.sign * k.b);
    let log_ratio = mu * horizon + tail.ln() - norm_cdf(k.z).ln();
    -k.exposure * log_ratio.exp_m1()
}

#[cfg(test)]
mod tests {
    use super::super::test_quad::adaptive_simpson;
    use super::*;
    use proptest::prelude::*;

    /// Lognormal density of `S_h` written directly in price space
    /// (independent of the Z-substitution used by the closed forms).
    fn lognormal_pdf(s: f64, spot: f64, mu: f64, vol: f64, h: f64) -> f64 {
        if s <= 0.0 {
            return 0.0;
        }
        let m = (mu - 0.5 * vol * vol) * h;
        let sd = vol * h.sqrt();
        let x = (s / spot).ln() - m;
        (-(x * x) / (2.0 * sd * sd)).exp() / (s * sd * (2.0 * core::f64::consts::PI).sqrt())
    }

    /// `∫_lo^hi g(s) ds`, by adaptive Simpson after the substitution
    /// `s = e^u` (which spreads the lognormal mass evenly over the interval).
    fn integrate(g: impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64) -> f64 {
        adaptive_simpson(&|u: f64| g(u.exp()) * u.exp(), lo.ln(), hi.ln(), tol)
    }

    const PARAMS: [(f64, f64, f64, f64); 6] = [
        // (spot, mu, vol, horizon)
        (100.0, 0.08, 0.2, 1.0 / 252.0),
        (100.0, 0.08, 0.2, 10.0 / 252.0),
        (50.0, -0.05, 0.45, 1.0),
        (250.0, 0.15, 0.8, 0.5),
        (10.0, 0.0, 0.05, 2.0),
        (1.0, 0.3, 1.2, 1.0),
    ];
    const ALPHAS: [f64; 5] = [0.6, 0.9, 0.95, 0.99, 0.999];

    /// Long position: the numerically integrated loss-tail probability at
    /// the VaR threshold is 1 − α, and the numerically integrated tail mean
    /// loss equals ES.
    #[test]
    fn long_var_es_match_quadrature() {
        for &(spot, mu, vol, h) in &PARAMS {
            let sd = vol * h.sqrt();
            let med = spot * ((mu - 0.5 * vol * vol) * h).exp();
            for &alpha in &ALPHAS {
                for q in [1.0, 37.5] {
                    let var = lognormal_var(q, spot, mu, vol, h, alpha);
                    let es = lognormal_es(q, spot, mu, vol, h, alpha);
                    let p = 1.0 - alpha;
                    // Loss ≥ VaR  ⇔  S_h ≤ S − VaR/q.
                    let thresh = spot - var / q;
                    let lo = med * (-16.0 * sd).exp();
                    let f = |s: f64| lognormal_pdf(s, spot, mu, vol, h);
                    let mass = integrate(f, lo, thresh, 1e-13 * p);
                    assert!(((mass - p) / p).abs() < 1e-9, "{spot} {mu} {vol} {h} α={alpha}: mass {mass} vs {p}");
                    let g = |s: f64| q * (spot - s) * f(s);
                    let tail_loss = integrate(g, lo, thresh, 1e-13 * p * q * spot);
                    let es_quad = tail_loss / p;
                    assert!(
                        (es - es_quad).abs() < 1e-9 * q * spot,
                        "{spot} {mu} {vol} {h} α={alpha}: ES {es} vs quad {es_quad}"
                    );
                    assert!(es > var, "ES {es} ≤ VaR {var}");
                }
            }
        }
    }

    /// Short position: the loss tail is the upper tail of S_h.
    #[test]
    fn short_var_es_match_quadrature() {
        for &(spot, mu, vol, h) in &PARAMS {
            let sd = vol * h.sqrt();
            let med = spot * ((mu - 0.5 * vol * vol) * h).exp();
            for &alpha in &ALPHAS {
                let q = -3.0;
                let var = lognormal_var(q, spot, mu, vol, h, alpha);
                let es = lognormal_es(q, spot, mu, vol, h, alpha);
                let p = 1.0 - alpha;
                // Loss = |q|(S_h − S) ≥ VaR  ⇔  S_h ≥ S + VaR/|q|.
                let thresh = spot + var / q.abs();
                let hi = med * (16.0 * sd).exp();
                let f = |s: f64| lognormal_pdf(s, spot, mu, vol, h);
                let mass = integrate(f, thresh, hi, 1e-13 * p);
                assert!(((mass - p) / p).abs() < 1e-9, "{spot} {mu} {vol} {h} α={alpha}: mass {mass} vs {p}");
                let g = |s: f64| q.abs() * (s - spot) * f(s);
                let tail_loss = integrate(g, thresh, hi, 1e-13 * p * q.abs() * spot);
                let es_quad = tail_loss / p;
                assert!(
                    (es - es_quad).abs() < 1e-9 * q.abs() * spot.max(es),
                    "{spot} {mu} {vol} {h} α={alpha}: ES {es} vs quad {es_quad}"
                );
                assert!(es > var, "ES {es} ≤ VaR {var}");
                // With a non-negative log drift (μ ≥ σ²/2) a short loses
                // more than a long of the same size: e^x − 1 > 1 − e^{−x}.
                if mu >= 0.5 * vol * vol && alpha > 0.5 {
                    assert!(var > lognormal_var(3.0, spot, mu, vol, h, alpha));
                }
            }
        }
    }

    #[test]
    fn degenerate_and_invalid() {
        // Zero vol: deterministic P&L q·S·(e^{μh} − 1), VaR = ES = −that.
        let v = lognormal_var(2.0, 100.0, 0.05, 0.0, 1.0, 0.99);
        let e = lognormal_es(2.0, 100.0, 0.05, 0.0, 1.0, 0.99);
        let want = -200.0 * 0.05_f64.exp_m1();
        assert!((v - want).abs() < 1e-12 && (e - want).abs() < 1e-12, "{v} {e} {want}");
        let v = lognormal_var(-2.0, 100.0, 0.05, 0.0, 1.0, 0.99);
        assert!((v + want).abs() < 1e-12);
        // Zero horizon or zero quantity: no risk.
        assert_eq!(lognormal_var(1.0, 100.0, 0.05, 0.2, 0.0, 0.99), 0.0);
        assert_eq!(lognormal_es(1.0, 100.0, 0.05, 0.2, 0.0, 0.99), 0.0);
        assert_eq!(lognormal_var(0.0, 100.0, 0.05, 0.2, 1.0, 0.99), 0.0);
        assert_eq!(lognormal_es(0.0, 100.0, 0.05, 0.2, 1.0, 0.99), 0.0);
        for bad_alpha in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            assert!(lognormal_var(1.0, 100.0, 0.05, 0.2, 1.0, bad_alpha).is_nan());
            assert!(lognormal_es(1.0, 100.0, 0.05, 0.2, 1.0, bad_alpha).is_nan());
        }
        assert!(lognormal_var(1.0, -1.0, 0.05, 0.2, 1.0, 0.99).is_nan());
        assert!(lognormal_var(1.0, 100.0, 0.05, -0.2, 1.0, 0.99).is_nan());
        assert!(lognormal_es(1.0, 100.0, 0.05, 0.2, -1.0, 0.99).is_nan());
        // Huge vol, long: loss bounded by the position value.
        let e = lognormal_es(1.0, 100.0, 0.0, 50.0, 1.0, 0.99);
        assert!(e <= 100.0 && e > 99.0, "{e}");
    }

    /// Small horizons keep relative accuracy (expm1 path): the 1-second VaR
    /// is ≈ qSσ√h·|z| to first order.
    #[test]
    fn tiny_horizon_first_order() {
        let h = 1.0 / (252.0 * 6.5 * 3600.0);
        let (s, vol) = (100.0, 0.2);
        let v = lognormal_var(1.0, s, 0.0, vol, h, 0.99);
        let approx = s * vol * h.sqrt() * 2.326_347_874_040_841;
        assert!(((v - approx) / approx).abs() < 1e-3, "{v} vs {approx}");
        let e = lognormal_es(1.0, s, 0.0, vol, h, 0.99);
        // ES/VaR → φ(z)/(p·|z|) for a normal.
        let z: f64 = 2.326_347_874_040_841;
        let ratio = (-0.5 * z * z).exp() / (2.0 * core::f64::consts::PI).sqrt() / (0.01 * z);
        assert!(((e / v) - ratio).abs() < 1e-3, "{} vs {ratio}", e / v);
    }

    proptest! {
        #[test]
        fn es_exceeds_var_and_is_homogeneous(
            q in prop_oneof![-1e4..-1e-3_f64, 1e-3..1e4_f64],
            spot in 0.01..1e4_f64, mu in -0.5..0.5_f64,
            vol in 1e-3..2.0_f64, h in 1e-4..5.0_f64,
            alpha in 0.5..0.9999_f64,
        ) {
            let var = lognormal_var(q, spot, mu, vol, h, alpha);
            let es = lognormal_es(q, spot, mu, vol, h, alpha);
            prop_assert!(var.is_finite() && es.is_finite());
            prop_assert!(es > var, "ES {es} ≤ VaR {var}");
            // Positive homogeneity in the position size.
            let var2 = lognormal_var(2.5 * q, spot, mu, vol, h, alpha);
            prop_assert!((var2 - 2.5 * var).abs() <= 1e-12 * var.abs().max(q.abs() * spot * 1e-3));
            // Monotone in the confidence level.
            let hi = alpha + 0.5 * (1.0 - alpha);
            prop_assert!(lognormal_var(q, spot, mu, vol, h, hi) > var);
            // A long position can never lose more than its value.
            if q > 0.0 {
                prop_assert!(es <= q * spot && var <= q * spot);
            }
        }
    }
}
