//! Black–Scholes–Merton prices and Greeks for European options on an asset
//! paying a continuous dividend yield `q`, with a flat continuously
//! compounded rate `r`.
//!
//! Source: Merton (1973), "Theory of rational option pricing"; formulas as
//! in Hull, *Options, Futures and Other Derivatives*, ch. 15/17, and Haug,
//! *The Complete Guide to Option Pricing Formulas* (2nd ed.), §1.1 (with
//! cost of carry `b = r − q`).
//!
//! ```text
//! d1 = [ln(S/K) + (r − q + σ²/2)T] / (σ√T),   d2 = d1 − σ√T
//! C  = S e^{−qT} Φ(d1) − K e^{−rT} Φ(d2)
//! P  = K e^{−rT} Φ(−d2) − S e^{−qT} Φ(−d1)
//! ```
//!
//! **Degenerate inputs.** When the total standard deviation `σ√T` is zero
//! (`maturity == 0` or `vol == 0`) every function returns its limit as
//! `σ√T → 0⁺`: `d1, d2 → ±∞` according to the sign of `ln(F/K)` (and `0`
//! exactly at the money-forward), so prices become the discounted forward
//! intrinsic value `e^{−rT}·max(±(F − K), 0)` with `F = S e^{(r−q)T}`
//! (plain intrinsic value at `T = 0`). See each Greek for its limit.
//!
//! **Domain.** `spot ≥ 0`, `strike ≥ 0`, `vol ≥ 0`, `maturity ≥ 0`, all
//! finite; `rate` and `dividend` any finite value (negative allowed).
//! Inputs outside the domain give `NaN`. No function panics.

use super::normal::{norm_cdf, norm_pdf};

/// Inputs for the Black–Scholes–Merton model. Rates are continuously
/// compounded, per year; `maturity` is in years.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BsInputs {
    /// Current price of the underlying, `S ≥ 0`.
    pub spot: f64,
    /// Strike price, `K ≥ 0`.
    pub strike: f64,
    /// Risk-free rate `r` (continuously compounded).
    pub rate: f64,
    /// Continuous dividend yield `q` (use `q = r` for an option on a future,
    /// `q = r_f` for an FX option).
    pub dividend: f64,
    /// Volatility `σ ≥ 0` (annualised, e.g. `0.2` for 20 %).
    pub vol: f64,
    /// Time to expiry `T ≥ 0` in years.
    pub maturity: f64,
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// Right to buy (payoff `max(X − K, 0)`).
    Call,
    /// Right to sell (payoff `max(K − X, 0)`).
    Put,
}

impl OptionKind {
    /// `+1` for a call, `−1` for a put (the usual `φ` of Haug's notation).
    #[inline]
    pub(crate) fn sign(self) -> f64 {
        match self {
            OptionKind::Call => 1.0,
            OptionKind::Put => -1.0,
        }
    }
}

/// `(d1, d2)` for log-moneyness `m = ln(F/K)` and total standard
/// deviation `s = σ√T ≥ 0`: `d1,2 = m/s ± s/2`, with the `s → 0⁺` limit
/// (`±∞`, or `0` when `m == 0`) and infinite `m` passed through.
#[inline]
pub(crate) fn d1_d2(m: f64, s: f64) -> (f64, f64) {
    if m.is_infinite() {
        return (m, m);
    }
    if s > 0.0 {
        let ms = m / s;
        (ms + 0.5 * s, ms - 0.5 * s)
    } else if m > 0.0 {
        (f64::INFINITY, f64::INFINITY)
    } else if m < 0.0 {
        (f64::NEG_INFINITY, f64::NEG_INFINITY)
    } else {
        (0.0, 0.0)
    }
}

/// `ln(a/b)` for `a, b ≥ 0`, robust to overflow of the ratio:
/// `+∞` if `b == 0` (including `a == b == 0`), `−∞` if `a == 0`.
#[inline]
pub(crate) fn log_ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return f64::INFINITY;
    }
    if a == 0.0 {
        return f64::NEG_INFINITY;
    }
    let r = (a / b).ln();
    if r.is_finite() { r } else { a.ln() - b.ln() }
}

/// Generic lognormal (Black-type) option value
/// `V = ω·[Fd·Φ(ω d1) − Kd·Φ(ω d2)]`, where `Fd = e^{−rT}F` is the
/// discounted forward, `Kd = e^{−rT}K` the discounted strike, `m = ln(F/K)`,
/// `s` the total log-standard deviation and `ω = ±1` for call/put.
#[inline]
pub(crate) fn lognormal_price(kind: OptionKind, disc_fwd: f64, disc_strike: f64, m: f64, s: f64) -> f64 {
    let w = kind.sign();
    let (d1, d2) = d1_d2(m, s);
    // A leg that is exactly zero (zero amount, e.g. K = 0, or zero
    // probability) contributes 0 even if the other factor overflowed.
    let leg = |amount: f64, p: f64| {
        if amount == 0.0 || p == 0.0 { 0.0 } else { amount * p }
    };
    w * (leg(disc_fwd, norm_cdf(w * d1)) - leg(disc_strike, norm_cdf(w * d2)))
}

/// Precomputed quantities shared by price and Greeks.
#[derive(Debug, Clone, Copy)]
struct Terms {
    /// `e^{−qT}`
    dq: f64,
    /// `e^{−rT}`
    dr: f64,
    /// `√T`
    sqrt_t: f64,
    /// `σ√T`
    s: f64,
    /// `ln(F/K) = ln(S/K) + (r − q)T`
    m: f64,
    d1: f64,
    d2: f64,
}

fn terms(p: &BsInputs) -> Option<Terms> {
    let all_finite = [p.spot, p.strike, p.rate, p.dividend, p.vol, p.maturity].iter().all(|v| v.is_finite());
    if !all_finite || p.spot < 0.0 || p.strike < 0.0 || p.vol < 0.0 || p.maturity < 0.0 {
        return None;
    }
    let t = p.maturity;
    let sqrt_t = t.sqrt();
    let s = p.vol * sqrt_t;
    let m = log_ratio(p.spot, p.strike) + (p.rate - p.dividend) * t;
    let (d1, d2) = d1_d2(m, s);
    Some(Terms { dq: (-p.dividend * t).exp(), dr: (-p.rate * t).exp(), sqrt_t, s, m, d1, d2 })
}

/// Black–Scholes–Merton price of a European call or put.
///
/// `C = S e^{−qT} Φ(d1) − K e^{−rT} Φ(d2)`,
/// `P = K e^{−rT} Φ(−d2) − S e^{−qT} Φ(−d1)` (Merton 1973; Hull eq. 17.4–17.5).
/// With zero total variance returns `e^{−rT}·max(±(F − K), 0)`.
pub fn price(kind: OptionKind, p: &BsInputs) -> f64 {
    match terms(p) {
        Some(t) => lognormal_price(kind, p.spot * t.dq, p.strike * t.dr, t.m, t.s),
        None => f64::NAN,
    }
}

/// Delta `∂V/∂S`: call `e^{−qT}Φ(d1)`, put `−e^{−qT}Φ(−d1)`.
///
/// Zero-variance limit: `±e^{−qT}` in the money-forward, `0` out of it,
/// `±½e^{−qT}` exactly at the money-forward.
pub fn delta(kind: OptionKind, p: &BsInputs) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    let w = kind.sign();
    w * t.dq * norm_cdf(w * t.d1)
}

/// Gamma `∂²V/∂S² = e^{−qT} φ(d1) / (S σ √T)` (same for calls and puts).
///
/// Zero-variance limit: `0` away from the money-forward and `+∞` exactly at
/// it (the payoff kink is a Dirac mass there).
pub fn gamma(_kind: OptionKind, p: &BsInputs) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    let pdf = norm_pdf(t.d1);
    if pdf == 0.0 {
        return 0.0;
    }
    let denom = p.spot * t.s;
    if denom == 0.0 {
        return f64::INFINITY;
    }
    t.dq * pdf / denom
}

/// Vega `∂V/∂σ = S e^{−qT} φ(d1) √T`, per unit of volatility (multiply by
/// `0.01` for "per vol point"). Same for calls and puts.
///
/// At `σ = 0` this is the right-derivative: `S e^{−qT}√T/√(2π)` exactly at
/// the money-forward and `0` elsewhere.
pub fn vega(_kind: OptionKind, p: &BsInputs) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    let pdf = norm_pdf(t.d1);
    if pdf == 0.0 || p.spot == 0.0 {
        return 0.0;
    }
    p.spot * t.dq * pdf * t.sqrt_t
}

/// Rho `∂V/∂r` per unit of rate (multiply by `0.01` for "per 1 %"):
/// call `K T e^{−rT} Φ(d2)`, put `−K T e^{−rT} Φ(−d2)`.
///
/// (Holding `S` and `q` fixed, i.e. the carry `b = r − q` moves with `r`.)
pub fn rho(kind: OptionKind, p: &BsInputs) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    let w = kind.sign();
    if p.strike == 0.0 {
        return 0.0;
    }
    w * p.strike * p.maturity * t.dr * norm_cdf(w * t.d2)
}

/// Theta `∂V/∂t = −∂V/∂T`, per year (divide by 365 or 252 for per-day):
///
/// ```text
/// Θ = −S e^{−qT} φ(d1) σ / (2√T)  − ω r K e^{−rT} Φ(ω d2) + ω q S e^{−qT} Φ(ω d1)
/// ```
/// with `ω = +1` (call) / `−1` (put) (Hull eq. 19.5 generalised; Haug §2.1.7).
///
/// At `T = 0` the first term is `0` away from the money and `−∞` exactly at
/// the money (with `σ > 0`), matching the `√T` behaviour of the time value.
pub fn theta(kind: OptionKind, p: &BsInputs) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    let w = kind.sign();
    let pdf = norm_pdf(t.d1);
    let time_decay = if pdf == 0.0 || p.vol == 0.0 || p.spot == 0.0 {
        0.0
    } else if t.sqrt_t == 0.0 {
        f64::NEG_INFINITY
    } else {
        -p.spot * t.dq * pdf * p.vol / (2.0 * t.sqrt_t)
    };
    let carry_k = if p.strike == 0.0 { 0.0 } else { p.rate * p.strike * t.dr * norm_cdf(w * t.d2) };
    let carry_s = if p.spot == 0.0 { 0.0 } else { p.dividend * p.spot * t.dq * norm_cdf(w * t.d1) };
    time_decay - w * carry_k + w * carry_s
}

/// Cash-or-nothing digital option paying `cash` at expiry if the asset
/// finishes above (call) / below (put) the strike:
/// `cash · e^{−rT} Φ(±d2)` (Reiner & Rubinstein 1991; Haug §4.19.2).
///
/// Call + put = `cash · e^{−rT}`. Zero-variance limit: the full discounted
/// cash in the money-forward, `0` out of it, half exactly at it.
pub fn digital_price(kind: OptionKind, p: &BsInputs, cash: f64) -> f64 {
    let Some(t) = terms(p) else { return f64::NAN };
    if !cash.is_finite() {
        return f64::NAN;
    }
    let w = kind.sign();
    cash * t.dr * norm_cdf(w * t.d2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OptionKind::{Call, Put};
    use proptest::prelude::*;

    fn inp(spot: f64, strike: f64, rate: f64, dividend: f64, vol: f64, maturity: f64) -> BsInputs {
        BsInputs { spot, strike, rate, dividend, vol, maturity }
    }

    fn close(got: f64, want: f64, tol: f64) -> bool {
        (got - want).abs() <= tol
    }

    /// Hull, *Options, Futures and Other Derivatives*, Example 15.6:
    /// S=42, K=40, r=10 %, σ=20 %, T=0.5 → c = 4.76, p = 0.81.
    #[test]
    fn hull_example() {
        let p = inp(42.0, 40.0, 0.1, 0.0, 0.2, 0.5);
        assert!(close(price(Call, &p), 4.76, 0.005), "{}", price(Call, &p));
        assert!(close(price(Put, &p), 0.81, 0.005), "{}", price(Put, &p));
        // Higher-precision values (30-digit mpmath evaluation of the same
        // closed form) to pin down the implementation, not just the rounding.
        assert!(close(price(Call, &p), 4.759_422_392_87, 1e-10));
        assert!(close(price(Put, &p), 0.808_599_372_90, 1e-10));
    }

    /// Reference prices from Haug, *The Complete Guide to Option Pricing
    /// Formulas* (2nd ed.), ch. 1, quoted to 4 decimals.
    #[test]
    fn haug_price_examples() {
        // §1.1.1 Black–Scholes: S=60, K=65, T=0.25, r=8 %, σ=30 % → c = 2.1334.
        let p = inp(60.0, 65.0, 0.08, 0.0, 0.3, 0.25);
        assert!(close(price(Call, &p), 2.1334, 5e-5), "{}", price(Call, &p));
        // §1.1.2 Merton (index with yield): S=100, K=95, T=0.5, r=10 %,
        // q=5 %, σ=20 % → p = 2.4648.
        let p = inp(100.0, 95.0, 0.1, 0.05, 0.2, 0.5);
        assert!(close(price(Put, &p), 2.4648, 5e-5), "{}", price(Put, &p));
        // §1.1.3 Black-76 (futures, q = r): F=19, K=19, T=0.75, r=10 %,
        // σ=28 % → c = p = 1.7011.
        let p = inp(19.0, 19.0, 0.1, 0.1, 0.28, 0.75);
        assert!(close(price(Call, &p), 1.7011, 5e-5), "{}", price(Call, &p));
        assert!(close(price(Put, &p), 1.7011, 5e-5), "{}", price(Put, &p));
        // §1.1.6 Garman–Kohlhagen (FX, q = r_f): S=1.56, K=1.60, T=0.5,
        // r=6 %, r_f=8 %, σ=12 % → c = 0.0291.
        let p = inp(1.56, 1.60, 0.06, 0.08, 0.12, 0.5);
        assert!(close(price(Call, &p), 0.0291, 5e-5), "{}", price(Call, &p));
    }

    /// Greek reference values from Haug ch. 2 (§2.1), plus a vega value
    /// cross-checked with a 30-digit mpmath evaluation.
    #[test]
    fn haug_greek_examples() {
        // Delta: S=105, K=100, T=0.5, r=10 %, b=0 (q=r), σ=36 %
        // → Δc = 0.5946, Δp = −0.3566.
        let p = inp(105.0, 100.0, 0.1, 0.1, 0.36, 0.5);
        assert!(close(delta(Call, &p), 0.5946, 5e-5), "{}", delta(Call, &p));
        assert!(close(delta(Put, &p), -0.3566, 5e-5), "{}", delta(Put, &p));
        // Gamma: S=55, K=60, T=0.75, r=10 %, b=10 % (q=0), σ=30 % → Γ = 0.0278.
        let p = inp(55.0, 60.0, 0.1, 0.0, 0.3, 0.75);
        assert!(close(gamma(Call, &p), 0.0278, 5e-5), "{}", gamma(Call, &p));
        // Same inputs: vega = 18.935777 (mpmath).
        assert!(close(vega(Call, &p), 18.935_777_349_6, 1e-9), "{}", vega(Call, &p));
        // Theta: S=430, K=405, T=0.0833, r=7 %, b=2 % (q=5 %), σ=20 %
        // → Θp = −31.1924 per year.
        let p = inp(430.0, 405.0, 0.07, 0.05, 0.2, 0.0833);
        assert!(close(theta(Put, &p), -31.1924, 5e-5), "{}", theta(Put, &p));
        // Rho: S=72, K=75, T=1, r=9 %, b=9 % (q=0), σ=19 % → ρc = 38.7325.
        let p = inp(72.0, 75.0, 0.09, 0.0, 0.19, 1.0);
        assert!(close(rho(Call, &p), 38.7325, 5e-5), "{}", rho(Call, &p));
    }

    /// A spread of inputs for the finite-difference Greek checks: ITM/ATM/OTM,
    /// short and long dated, low and high vol, positive/negative/zero carry.
    fn grid() -> Vec<BsInputs> {
        let mut v = Vec::new();
        for &(s, k) in &[(100.0, 100.0), (100.0, 80.0), (100.0, 125.0), (42.0, 40.0)] {
            for &(r, q) in &[(0.05, 0.0), (0.1, 0.05), (-0.01, 0.02), (0.03, 0.03)] {
                for &(vol, t) in &[(0.2, 1.0), (0.05, 0.25), (0.6, 3.0), (0.3, 0.05)] {
                    v.push(inp(s, k, r, q, vol, t));
                }
            }
        }
        v
    }

    /// `|fd − g| ≤ 1e-5·|g|`, with a small absolute floor for Greeks that are
    /// near zero (deep OTM short-dated), where a relative test is meaningless.
    fn check_fd(name: &str, p: &BsInputs, kind: OptionKind, analytic: f64, fd: f64, floor: f64) {
        let tol = 1e-5 * analytic.abs() + floor;
        assert!(
            (analytic - fd).abs() <= tol,
            "{name} {kind:?} {p:?}: analytic {analytic:e}, fd {fd:e}, diff {:e}",
            analytic - fd
        );
    }

    #[test]
    fn greeks_match_finite_differences() {
        for p in grid() {
            // Spot/strike steps scale with the total stdev σ√T: the price
            // curvature lives on that scale.
            let s = p.vol * p.maturity.sqrt();
            for kind in [Call, Put] {
                let v = |q: BsInputs| price(kind, &q);
                let floor = 1e-9 * p.spot;

                let h = 1e-4 * s * p.spot;
                let up = BsInputs { spot: p.spot + h, ..p };
                let dn = BsInputs { spot: p.spot - h, ..p };
                let fd_delta = (v(up) - v(dn)) / (2.0 * h);
                check_fd("delta", &p, kind, delta(kind, &p), fd_delta, floor);

                let h = 1e-3 * s * p.spot;
                let up = BsInputs { spot: p.spot + h, ..p };
                let dn = BsInputs { spot: p.spot - h, ..p };
                let fd_gamma = (v(up) - 2.0 * v(p) + v(dn)) / (h * h);
                // Floor: rounding noise of the second difference, ~eps·V/h².
                let noise = 16.0 * f64::EPSILON * v(p).abs().max(1e-300) / (h * h);
                check_fd("gamma", &p, kind, gamma(kind, &p), fd_gamma, noise + 1e-12);

                let h = 1e-5;
                let up = BsInputs { vol: p.vol + h, ..p };
                let dn = BsInputs { vol: p.vol - h, ..p };
                let fd_vega = (v(up) - v(dn)) / (2.0 * h);
                check_fd("vega", &p, kind, vega(kind, &p), fd_vega, floor);

                let h = 1e-5;
                let up = BsInputs { rate: p.rate + h, ..p };
                let dn = BsInputs { rate: p.rate - h, ..p };
                let fd_rho = (v(up) - v(dn)) / (2.0 * h);
                check_fd("rho", &p, kind, rho(kind, &p), fd_rho, floor);

                // Theta = dV/dt = −dV/dT.
                let h = 1e-5 * p.maturity;
                let up = BsInputs { maturity: p.maturity + h, ..p };
                let dn = BsInputs { maturity: p.maturity - h, ..p };
                let fd_theta = -(v(up) - v(dn)) / (2.0 * h);
                check_fd("theta", &p, kind, theta(kind, &p), fd_theta, floor);
            }
        }
    }

    /// The digital call is −∂C/∂K (per unit cash); check it by finite
    /// difference in the strike.
    #[test]
    fn digital_is_minus_strike_derivative_of_call() {
        for p in grid() {
            let h = 1e-4 * p.vol * p.maturity.sqrt() * p.strike;
            let up = BsInputs { strike: p.strike + h, ..p };
            let dn = BsInputs { strike: p.strike - h, ..p };
            let fd = -(price(Call, &up) - price(Call, &dn)) / (2.0 * h);
            check_fd("digital", &p, Call, digital_price(Call, &p, 1.0), fd, 1e-9);
            let fd_put = (price(Put, &up) - price(Put, &dn)) / (2.0 * h);
            check_fd("digital", &p, Put, digital_price(Put, &p, 1.0), fd_put, 1e-9);
        }
    }

    #[test]
    fn zero_maturity_is_intrinsic() {
        for &(s, k) in &[(110.0, 100.0), (90.0, 100.0), (100.0, 100.0)] {
            let p = inp(s, k, 0.05, 0.02, 0.3, 0.0);
            assert_eq!(price(Call, &p), f64::max(s - k, 0.0));
            assert_eq!(price(Put, &p), f64::max(k - s, 0.0));
            for kind in [Call, Put] {
                for g in [delta, vega, rho, theta] {
                    assert!(!g(kind, &p).is_nan());
                }
                assert!(!gamma(kind, &p).is_nan());
                assert!(!digital_price(kind, &p, 1.0).is_nan());
            }
        }
        let itm = inp(110.0, 100.0, 0.05, 0.02, 0.3, 0.0);
        assert_eq!(delta(Call, &itm), 1.0);
        assert_eq!(delta(Put, &itm), 0.0);
        assert_eq!(gamma(Call, &itm), 0.0);
        assert_eq!(vega(Call, &itm), 0.0);
        assert_eq!(theta(Call, &itm), -0.05 * 100.0 + 0.02 * 110.0);
        assert_eq!(digital_price(Call, &itm, 3.0), 3.0);
        assert_eq!(digital_price(Put, &itm, 3.0), 0.0);
        let atm = inp(100.0, 100.0, 0.05, 0.02, 0.3, 0.0);
        assert_eq!(delta(Call, &atm), 0.5);
        assert_eq!(gamma(Call, &atm), f64::INFINITY);
        assert_eq!(theta(Call, &atm), f64::NEG_INFINITY);
    }

    #[test]
    fn zero_vol_is_discounted_forward_intrinsic() {
        let (s, r, q, t) = (100.0_f64, 0.05_f64, 0.01_f64, 2.0_f64);
        let fwd = s * ((r - q) * t).exp();
        let df = (-r * t).exp();
        for k in [80.0, 100.0, 107.0, 110.0, 130.0] {
            let p = inp(s, k, r, q, 0.0, t);
            let want_c = df * f64::max(fwd - k, 0.0);
            let want_p = df * f64::max(k - fwd, 0.0);
            assert!(close(price(Call, &p), want_c, 1e-12), "K={k}");
            assert!(close(price(Put, &p), want_p, 1e-12), "K={k}");
            // Continuity: a tiny positive vol gives (almost) the same price.
            let tiny = BsInputs { vol: 1e-9, ..p };
            assert!(close(price(Call, &tiny), want_c, 1e-7), "K={k}");
            assert!(close(price(Put, &tiny), want_p, 1e-7), "K={k}");
            for kind in [Call, Put] {
                for g in [delta, gamma, vega, rho, theta] {
                    assert!(!g(kind, &p).is_nan(), "K={k}");
                }
            }
        }
        // Vega at σ = 0 exactly at the money-forward is the right-derivative
        // S e^{−qT} √T φ(0). (Exact ATM-forward needs ln(F/K) == 0 in
        // floating point, so use r = q and K = S.)
        let p = inp(s, s, r, r, 0.0, t);
        let h = 1e-7;
        let fd = (price(Call, &BsInputs { vol: h, ..p }) - price(Call, &p)) / h;
        assert!(close(vega(Call, &p), fd, 1e-5), "{} vs {fd}", vega(Call, &p));
    }

    #[test]
    fn zero_strike_and_zero_spot() {
        let p = inp(100.0, 0.0, 0.05, 0.02, 0.3, 1.0);
        assert!(close(price(Call, &p), 100.0 * (-0.02_f64).exp(), 1e-12));
        assert_eq!(price(Put, &p), 0.0);
        let p = inp(0.0, 100.0, 0.05, 0.02, 0.3, 1.0);
        assert_eq!(price(Call, &p), 0.0);
        assert!(close(price(Put, &p), 100.0 * (-0.05_f64).exp(), 1e-12));
        let p = inp(0.0, 0.0, 0.05, 0.02, 0.3, 1.0);
        for kind in [Call, Put] {
            assert_eq!(price(kind, &p), 0.0);
            for g in [delta, gamma, vega, rho, theta] {
                assert!(!g(kind, &p).is_nan());
            }
        }
    }

    #[test]
    fn invalid_inputs_are_nan() {
        let good = inp(100.0, 100.0, 0.05, 0.0, 0.2, 1.0);
        for bad in [
            BsInputs { spot: -1.0, ..good },
            BsInputs { strike: -1.0, ..good },
            BsInputs { vol: -0.2, ..good },
            BsInputs { maturity: -1.0, ..good },
            BsInputs { rate: f64::NAN, ..good },
            BsInputs { spot: f64::INFINITY, ..good },
        ] {
            assert!(price(Call, &bad).is_nan());
            assert!(delta(Put, &bad).is_nan());
            assert!(digital_price(Call, &bad, 1.0).is_nan());
        }
    }

    /// Wide ranges, including exact zeros of vol and maturity.
    fn wide_inputs() -> impl Strategy<Value = BsInputs> {
        (
            -2.0..4.0_f64,                          // log10 spot
            -1.5..1.5_f64,                          // ln(K/S)
            -0.1..0.3_f64,                          // rate
            -0.1..0.3_f64,                          // dividend
            prop_oneof![Just(0.0), 1e-6..3.0_f64],  // vol
            prop_oneof![Just(0.0), 1e-6..30.0_f64], // maturity
        )
            .prop_map(|(ls, lk, r, q, vol, t)| {
                let spot = 10f64.powf(ls);
                inp(spot, spot * lk.exp(), r, q, vol, t)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// C − P = S e^{−qT} − K e^{−rT}.
        #[test]
        fn put_call_parity(p in wide_inputs()) {
            let c = price(Call, &p);
            let pu = price(Put, &p);
            let sd = p.spot * (-p.dividend * p.maturity).exp();
            let kd = p.strike * (-p.rate * p.maturity).exp();
            let tol = 1e-14 * (sd + kd);
            prop_assert!(((c - pu) - (sd - kd)).abs() <= tol,
                "C={c} P={pu} Sd-Kd={} diff={:e}", sd - kd, (c - pu) - (sd - kd));
        }

        /// No-arbitrage bounds, Greek signs, digital parity, and no NaN.
        #[test]
        fn bounds_and_parities(p in wide_inputs(), cash in -10.0..10.0_f64) {
            let sd = p.spot * (-p.dividend * p.maturity).exp();
            let kd = p.strike * (-p.rate * p.maturity).exp();
            let slack = 1e-14 * (sd + kd);
            let c = price(Call, &p);
            let pu = price(Put, &p);
            prop_assert!(c >= (sd - kd).max(0.0) - slack && c <= sd + slack, "C={c}");
            prop_assert!(pu >= (kd - sd).max(0.0) - slack && pu <= kd + slack, "P={pu}");
            for kind in [Call, Put] {
                for g in [delta, gamma, vega, rho, theta] {
                    prop_assert!(!g(kind, &p).is_nan());
                }
            }
            prop_assert!(gamma(Call, &p) >= 0.0 && vega(Call, &p) >= 0.0);
            let dq = (-p.dividend * p.maturity).exp();
            prop_assert!((delta(Call, &p) - delta(Put, &p) - dq).abs() <= 4.0 * f64::EPSILON * dq);
            let dc = digital_price(Call, &p, cash);
            let dp = digital_price(Put, &p, cash);
            let disc = cash * (-p.rate * p.maturity).exp();
            prop_assert!((dc + dp - disc).abs() <= 1e-14 * disc.abs().max(1e-300),
                "dc={dc} dp={dp} disc={disc}");
        }

        /// No panic and no NaN for arbitrary finite in-domain inputs,
        /// including extreme magnitudes.
        #[test]
        fn extreme_inputs_do_not_nan(
            spot in prop_oneof![Just(0.0), (-250.0..250.0_f64).prop_map(|e| 10f64.powf(e))],
            strike in prop_oneof![Just(0.0), (-250.0..250.0_f64).prop_map(|e| 10f64.powf(e))],
            rate in -1.0..1.0_f64, dividend in -1.0..1.0_f64,
            vol in prop_oneof![Just(0.0), (-12.0..3.0_f64).prop_map(|e| 10f64.powf(e))],
            maturity in prop_oneof![Just(0.0), (-12.0..2.0_f64).prop_map(|e| 10f64.powf(e))],
        ) {
            let p = inp(spot, strike, rate, dividend, vol, maturity);
            for kind in [Call, Put] {
                prop_assert!(!price(kind, &p).is_nan(), "{p:?}");
                prop_assert!(!digital_price(kind, &p, 1.0).is_nan(), "{p:?}");
                for g in [delta, gamma, vega, rho, theta] {
                    prop_assert!(!g(kind, &p).is_nan(), "{p:?}");
                }
            }
        }
    }
}
