//! Monte Carlo prices and Greeks against closed forms and published values.
//!
//! Every comparison uses the standard error the engine itself reports: a
//! result within 4 SE of the exact value passes (a false alarm has
//! probability ≈ 6e-5 per comparison; the seeds are fixed, so a run is
//! deterministic anyway). Where the estimator has a known, deterministic
//! bias (finite-difference Greeks vs analytic Greeks, Longstaff–Schwartz),
//! the allowance is that bias, computed, never a loosened tolerance.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Job, assert_close_se, quantity};
use riskcalc::closed_form::black_scholes::{self as bs, BsInputs, OptionKind};
use riskcalc::closed_form::{GeometricBasket, geometric_asian_price, geometric_basket_price};

use OptionKind::{Call, Put};

fn inputs(spot: f64, strike: f64, rate: f64, dividend: f64, vol: f64, maturity: f64) -> BsInputs {
    BsInputs { spot, strike, rate, dividend, vol, maturity }
}

fn kind_name(kind: OptionKind) -> &'static str {
    match kind {
        Call => "call",
        Put => "put",
    }
}

/// The oracle itself, pinned to printed textbook values (so that a wrong
/// oracle cannot agree with a wrong engine).
#[test]
fn closed_forms_match_published_values() {
    // Hull, Options, Futures and Other Derivatives, Example 15.6: c = 4.76, p = 0.81.
    let hull = inputs(42.0, 40.0, 0.10, 0.0, 0.20, 0.5);
    assert!((bs::price(Call, &hull) - 4.7594).abs() < 1e-4);
    assert!((bs::price(Put, &hull) - 0.8086).abs() < 1e-4);
    // Haug, The Complete Guide to Option Pricing Formulas, §1.1.6 (generalised
    // BS, b = r − q = 0.05): put = 4.0870.
    let haug = inputs(75.0, 70.0, 0.10, 0.05, 0.35, 0.5);
    assert!((bs::price(Put, &haug) - 4.0870).abs() < 1e-4, "{}", bs::price(Put, &haug));
    // examples/european.yaml documents 8.8273.
    let ex = inputs(100.0, 100.0, 0.03, 0.01, 0.2, 1.0);
    assert!((bs::price(Call, &ex) - 8.8273).abs() < 1e-4);
}

#[test]
fn european_calls_and_puts_with_dividends_match_black_scholes() {
    let (s, r, q, vol, t) = (100.0, 0.03, 0.02, 0.25, 0.75);
    let strikes = [80.0, 100.0, 125.0];
    let mut job = Job::new(11, r).gbm("SPX", s, q, vol);
    for k in strikes {
        for kind in [Call, Put] {
            let name = kind_name(kind);
            job = job.trade(
                &format!("{name}-{k}"),
                &format!("type: european, underlying: SPX, option: {name}, strike: {k:?}, maturity: {t:?}"),
            );
        }
    }
    let report = job.paths(200_000).run();
    for k in strikes {
        for kind in [Call, Put] {
            let id = format!("{}-{k}", kind_name(kind));
            let (mc, se) = quantity(&report, &id, "price");
            let exact = bs::price(kind, &inputs(s, k, r, q, vol, t));
            assert_close_se(&id, mc, se, exact, 4.0, 0.0);
        }
    }
}

#[test]
fn digitals_match_discounted_probabilities() {
    let (s, r, q, vol, t, k, cash): (f64, f64, f64, f64, f64, f64, f64) = (100.0, 0.04, 0.01, 0.3, 0.5, 105.0, 10.0);
    let report = Job::new(12, r)
        .gbm("SPX", s, q, vol)
        .trade(
            "dc",
            &format!("type: digital, underlying: SPX, option: call, strike: {k:?}, maturity: {t:?}, cash: {cash:?}"),
        )
        .trade(
            "dp",
            &format!("type: digital, underlying: SPX, option: put, strike: {k:?}, maturity: {t:?}, cash: {cash:?}"),
        )
        .paths(200_000)
        .run();
    let p = inputs(s, k, r, q, vol, t);
    // cash·e^{-rT}·N(±d2), written out rather than through digital_price.
    let d2 = ((s / k).ln() + (r - q - 0.5 * vol * vol) * t) / (vol * t.sqrt());
    let n = riskcalc::closed_form::norm_cdf;
    let disc = (-r * t).exp();
    for (id, kind, exact) in [("dc", Call, cash * disc * n(d2)), ("dp", Put, cash * disc * n(-d2))] {
        assert!((exact - bs::digital_price(kind, &p, cash)).abs() < 1e-12);
        let (mc, se) = quantity(&report, id, "price");
        assert_close_se(id, mc, se, exact, 4.0, 0.0);
    }
}

#[test]
fn geometric_asian_matches_closed_form() {
    let (s, r, q, vol, t, fixings) = (100.0, 0.03, 0.01, 0.25, 1.0, 12);
    let report = Job::new(13, r)
        .gbm("SPX", s, q, vol)
        .trade("ac", &format!("type: asian, underlying: SPX, option: call, strike: 100.0, maturity: {t:?}, fixings: {fixings}, average: geometric"))
        .trade("ap", &format!("type: asian, underlying: SPX, option: put, strike: 95.0, maturity: {t:?}, fixings: {fixings}, average: geometric"))
        .paths(150_000)
        .run();
    for (id, kind, k) in [("ac", Call, 100.0), ("ap", Put, 95.0)] {
        let exact = geometric_asian_price(kind, &inputs(s, k, r, q, vol, t), fixings);
        let (mc, se) = quantity(&report, id, "price");
        assert_close_se(id, mc, se, exact, 4.0, 0.0);
    }
}

#[test]
fn geometric_basket_with_correlation_matches_closed_form() {
    let spots: [f64; 3] = [100.0, 50.0, 200.0];
    let vols = [0.2, 0.3, 0.25];
    let dividends = [0.01, 0.02, 0.0];
    let weights = [0.5, 0.3, 0.2];
    let corr = [1.0, 0.6, 0.3, 0.6, 1.0, -0.2, 0.3, -0.2, 1.0];
    let (r, t) = (0.03, 1.0);
    let rows: Vec<&[f64]> = corr.chunks(3).collect();
    let mut job = Job::new(14, r).correlation(&rows);
    for (i, id) in ["A", "B", "C"].iter().enumerate() {
        job = job.gbm(id, spots[i], dividends[i], vols[i]);
    }
    // Today's geometric basket: 100^0.5 · 50^0.3 · 200^0.2 ≈ 85.5.
    let g0: f64 = spots.iter().zip(&weights).map(|(s, w)| s.powf(*w)).product();
    let strike = (g0 * 100.0).round() / 100.0;
    for kind in [Call, Put] {
        let name = kind_name(kind);
        job = job.trade(
            &format!("g{name}"),
            &format!(
                "type: basket, underlyings: [A, B, C], weights: [0.5, 0.3, 0.2], option: {name}, \
                 strike: {strike:?}, maturity: {t:?}, average: geometric"
            ),
        );
    }
    let report = job.paths(200_000).run();
    for kind in [Call, Put] {
        let basket = GeometricBasket {
            spots: &spots,
            weights: &weights,
            vols: &vols,
            dividends: &dividends,
            corr: &corr,
            rate: r,
            maturity: t,
            strike,
        };
        let exact = geometric_basket_price(kind, &basket);
        assert!(exact.is_finite());
        let id = format!("g{}", kind_name(kind));
        let (mc, se) = quantity(&report, &id, "price");
        assert_close_se(&id, mc, se, exact, 4.0, 0.0);
    }
}

/// A one-asset arithmetic basket is a European on w·S: with weight 1 it is the
/// vanilla, with weight 2 and strike 2K it is twice the vanilla at K. Streams
/// derive from trade ids, so the comparison is statistical.
#[test]
fn one_asset_arithmetic_basket_is_a_scaled_european() {
    let (s, r, q, vol, t) = (100.0, 0.03, 0.015, 0.2, 1.0);
    let report = Job::new(15, r)
        .gbm("SPX", s, q, vol)
        .trade("w1", "type: basket, underlyings: [SPX], weights: [1.0], option: call, strike: 105.0, maturity: 1.0")
        .trade("w2", "type: basket, underlyings: [SPX], weights: [2.0], option: put, strike: 210.0, maturity: 1.0")
        .trade("eu", "type: european, underlying: SPX, option: call, strike: 105.0, maturity: 1.0")
        .paths(200_000)
        .run();
    let call = bs::price(Call, &inputs(s, 105.0, r, q, vol, t));
    let put = bs::price(Put, &inputs(s, 105.0, r, q, vol, t));
    let (w1, se1) = quantity(&report, "w1", "price");
    let (w2, se2) = quantity(&report, "w2", "price");
    let (eu, se_eu) = quantity(&report, "eu", "price");
    assert_close_se("basket w=1 vs BS", w1, se1, call, 4.0, 0.0);
    assert_close_se("basket w=2 vs 2·BS put", w2, se2, 2.0 * put, 4.0, 0.0);
    assert_close_se("basket w=1 vs European", w1 - eu, (se1 * se1 + se_eu * se_eu).sqrt(), 0.0, 4.0, 0.0);
}

#[test]
fn stock_is_worth_its_spot_without_noise() {
    let report = Job::new(16, 0.05)
        .gbm("SPX", 123.25, 0.02, 0.3)
        .trade("s", "type: stock, underlying: SPX")
        .paths(1000)
        .greeks("[delta]")
        .run();
    let (price, se) = quantity(&report, "s", "price");
    assert_eq!(price, 123.25);
    assert_eq!(se, 0.0);
    let (delta, _) = quantity(&report, "s", "delta.SPX");
    assert!((delta - 1.0).abs() < 1e-12, "stock delta {delta}");
}

struct Bumps {
    spot_rel: f64,
    vol_abs: f64,
    rate_abs: f64,
    theta_days: f64,
}

/// Checks every finite-difference Greek of a European option against
/// (a) Black–Scholes evaluated at the same bumped inputs (what the estimator
/// estimates, without bias) within 4 SE, and (b) the analytic Greek within
/// 4 SE plus the deterministic finite-difference bias |FD − analytic|.
fn check_european_greeks(kind: OptionKind, p: BsInputs, bumps: Option<Bumps>, seed: u64) {
    let name = kind_name(kind);
    let mut job = Job::new(seed, p.rate)
        .gbm("SPX", p.spot, p.dividend, p.vol)
        .trade(
            "opt",
            &format!(
                "type: european, underlying: SPX, option: {name}, strike: {:?}, maturity: {:?}",
                p.strike, p.maturity
            ),
        )
        .paths(200_000)
        .greeks("[delta, gamma, vega, rho, theta]");
    let b = match bumps {
        Some(b) => {
            job = job.analysis(
                "bumps",
                &format!(
                    "{{spot_rel: {:?}, vol_abs: {:?}, rate_abs: {:?}, theta_days: {:?}}}",
                    b.spot_rel, b.vol_abs, b.rate_abs, b.theta_days
                ),
            );
            b
        }
        // The documented defaults.
        None => Bumps { spot_rel: 0.01, vol_abs: 0.01, rate_abs: 1e-4, theta_days: 1.0 },
    };
    let report = job.run();
    let v = |q: BsInputs| bs::price(kind, &q);
    let h = b.spot_rel * p.spot;
    let up = BsInputs { spot: p.spot + h, ..p };
    let down = BsInputs { spot: p.spot - h, ..p };
    let dt = b.theta_days / 365.0;
    let fd = [
        ("delta.SPX", (v(up) - v(down)) / (2.0 * h), bs::delta(kind, &p)),
        ("gamma.SPX", (v(up) - 2.0 * v(p) + v(down)) / (h * h), bs::gamma(kind, &p)),
        (
            "vega.SPX",
            (v(BsInputs { vol: p.vol + b.vol_abs, ..p }) - v(BsInputs { vol: p.vol - b.vol_abs, ..p }))
                / (2.0 * b.vol_abs),
            bs::vega(kind, &p),
        ),
        (
            "rho",
            (v(BsInputs { rate: p.rate + b.rate_abs, ..p }) - v(BsInputs { rate: p.rate - b.rate_abs, ..p }))
                / (2.0 * b.rate_abs),
            bs::rho(kind, &p),
        ),
        ("theta", (v(BsInputs { maturity: p.maturity - dt, ..p }) - v(p)) / dt, bs::theta(kind, &p)),
    ];
    let (price, se) = quantity(&report, "opt", "price");
    assert_close_se(&format!("{name} price"), price, se, v(p), 4.0, 0.0);
    for (greek, finite_diff, analytic) in fd {
        let (mc, se) = quantity(&report, "opt", greek);
        assert_close_se(&format!("{name} {greek} vs same-bump BS difference"), mc, se, finite_diff, 4.0, 0.0);
        let bias = (finite_diff - analytic).abs();
        assert_close_se(&format!("{name} {greek} vs analytic"), mc, se, analytic, 4.0, bias);
    }
}

#[test]
fn european_call_greeks_with_default_bumps() {
    check_european_greeks(Call, inputs(100.0, 105.0, 0.03, 0.01, 0.2, 1.0), None, 21);
}

/// Larger bumps make the finite-difference bias visible, so this also checks
/// that the engine uses the bump sizes of the job file.
#[test]
fn european_put_greeks_with_large_custom_bumps() {
    let bumps = Bumps { spot_rel: 0.05, vol_abs: 0.05, rate_abs: 0.01, theta_days: 20.0 };
    check_european_greeks(Put, inputs(90.0, 100.0, 0.05, 0.02, 0.3, 0.5), Some(bumps), 22);
}

/// Longstaff & Schwartz (2001), Table 1, S = 36, K = 40, r = 6%, σ = 20%,
/// T = 1, 50 exercise dates a year: finite-difference value 4.478 (their
/// LSM estimate 4.472). The engine fits the exercise rule on independent
/// paths, so its estimate is low-biased: accept [4.40, 4.50]. The American
/// put is worth at least the European put and at most the strike.
#[test]
fn american_put_matches_longstaff_schwartz_and_bounds() {
    let (s, k, r, vol, t) = (36.0, 40.0, 0.06, 0.2, 1.0);
    let report = Job::new(31, r)
        .gbm("X", s, 0.0, vol)
        .trade("am", "type: american, underlying: X, option: put, strike: 40.0, maturity: 1.0, exercise_dates: 50")
        .paths(200_000)
        .run();
    let (am, se) = quantity(&report, "am", "price");
    assert!((4.40..=4.50).contains(&am), "American put {am} ± {se} outside [4.40, 4.50]");
    let european = bs::price(Put, &inputs(s, k, r, 0.0, vol, t));
    assert!(am >= european - 3.0 * se, "American {am} ± {se} below European {european}");
    assert!(am <= k, "American put {am} above the strike");
    // Exercising at once is one admissible policy, so the value is at least K − S.
    assert!(am >= (k - s) - 3.0 * se, "American put {am} below intrinsic {}", k - s);
}

/// Without dividends early exercise of a call is never optimal, so any
/// exercise policy (the fitted one included) is worth at most the European
/// call: an upper bound that a look-ahead or discounting bug would break.
#[test]
fn american_call_without_dividends_is_not_worth_more_than_european() {
    let (s, k, r, vol, t) = (100.0, 95.0, 0.05, 0.25, 1.0);
    let report = Job::new(32, r)
        .gbm("X", s, 0.0, vol)
        .trade("am", "type: american, underlying: X, option: call, strike: 95.0, maturity: 1.0, exercise_dates: 10")
        .paths(200_000)
        .run();
    let (am, se) = quantity(&report, "am", "price");
    let european = bs::price(Call, &inputs(s, k, r, 0.0, vol, t));
    assert!(am <= european + 4.0 * se, "American call {am} ± {se} above European {european}");
}

/// A Bermudan with its only exercise date at maturity is a European.
#[test]
fn bermudan_with_one_date_is_european() {
    let (s, r, q, vol, t) = (100.0, 0.03, 0.01, 0.2, 1.0);
    let report = Job::new(33, r)
        .gbm("X", s, q, vol)
        .trade("bp", "type: bermudan, underlying: X, option: put, strike: 110.0, maturity: 1.0, exercise_dates: 1")
        .trade("bc", "type: bermudan, underlying: X, option: call, strike: 90.0, maturity: 1.0, exercise_dates: 1")
        .paths(200_000)
        .run();
    for (id, kind, k) in [("bp", Put, 110.0), ("bc", Call, 90.0)] {
        let (mc, se) = quantity(&report, id, "price");
        assert_close_se(id, mc, se, bs::price(kind, &inputs(s, k, r, q, vol, t)), 4.0, 0.0);
    }
}

const BARRIER: &str =
    "underlying: X, option: call, strike: 100.0, maturity: 1.0, barrier: 90.0, direction: down, monitoring: 12";

/// Knock-in + knock-out = vanilla, with independent streams (different ids).
#[test]
fn barrier_in_plus_out_is_vanilla_statistically() {
    let report = Job::new(41, 0.03)
        .gbm("X", 100.0, 0.01, 0.25)
        .trade("din", &format!("type: barrier, knock: in, {BARRIER}"))
        .trade("dout", &format!("type: barrier, knock: out, {BARRIER}"))
        .trade("van", "type: european, underlying: X, option: call, strike: 100.0, maturity: 1.0")
        .paths(200_000)
        .run();
    let (din, se_in) = quantity(&report, "din", "price");
    let (dout, se_out) = quantity(&report, "dout", "price");
    let (van, se_van) = quantity(&report, "van", "price");
    let se = (se_in * se_in + se_out * se_out + se_van * se_van).sqrt();
    assert_close_se("in + out − vanilla", din + dout - van, se, 0.0, 4.0, 0.0);
    let exact = bs::price(Call, &inputs(100.0, 100.0, 0.03, 0.01, 0.25, 1.0));
    assert_close_se("vanilla", van, se_van, exact, 4.0, 0.0);
    // Both halves are genuinely non-trivial here.
    assert!(din > 10.0 * se_in && dout > 10.0 * se_out, "in {din}, out {dout}");
}

/// The same trade id in three jobs with the same seed sees the same paths
/// (common random numbers): per path exactly one of knock-in / knock-out pays
/// the vanilla payoff, and a European simulated on the same 12 steps has the
/// same terminal spot. So in + out = vanilla up to summation rounding.
#[test]
fn barrier_in_plus_out_is_vanilla_path_by_path() {
    let run = |instrument: &str| {
        let report = Job::new(42, 0.03)
            .gbm("X", 100.0, 0.01, 0.25)
            .trade("same-id", instrument)
            .paths(20_000)
            .block_size(512)
            .run();
        quantity(&report, "same-id", "price").0
    };
    let din = run(&format!("type: barrier, knock: in, {BARRIER}"));
    let dout = run(&format!("type: barrier, knock: out, {BARRIER}"));
    let van = run("type: european, underlying: X, option: call, strike: 100.0, maturity: 1.0, steps: 12");
    assert!(din > 0.1 && dout > 0.1);
    assert!((din + dout - van).abs() <= 1e-12 * van, "in {din} + out {dout} = {} vs vanilla {van}", din + dout);
}

/// Barriers that cannot be reached: knock-outs are the vanilla, knock-ins are worthless.
#[test]
fn unreachable_barriers() {
    let (s, r, q, vol, t) = (100.0, 0.03, 0.01, 0.25, 1.0);
    let report = Job::new(43, r)
        .gbm("X", s, q, vol)
        .trade("do", "type: barrier, underlying: X, option: call, strike: 100.0, maturity: 1.0, barrier: 1.0, direction: down, knock: out, monitoring: 4")
        .trade("uo", "type: barrier, underlying: X, option: put, strike: 100.0, maturity: 1.0, barrier: 100000.0, direction: up, knock: out, monitoring: 4")
        .trade("di", "type: barrier, underlying: X, option: call, strike: 100.0, maturity: 1.0, barrier: 1.0, direction: down, knock: in, monitoring: 4")
        .paths(200_000)
        .run();
    let (dout, se) = quantity(&report, "do", "price");
    assert_close_se("far down-and-out call", dout, se, bs::price(Call, &inputs(s, 100.0, r, q, vol, t)), 4.0, 0.0);
    let (uout, se) = quantity(&report, "uo", "price");
    assert_close_se("far up-and-out put", uout, se, bs::price(Put, &inputs(s, 100.0, r, q, vol, t)), 4.0, 0.0);
    let (din, se) = quantity(&report, "di", "price");
    assert_eq!((din, se), (0.0, 0.0), "unreachable knock-in must be worth exactly 0");
}

/// With ξ = 0 and v0 = θ the variance never moves and Heston is GBM with
/// σ = √v0. The log-Euler step is exact for constant variance, so there is
/// no discretisation bias to allow for.
#[test]
fn heston_without_vol_of_vol_is_black_scholes() {
    let (s, r, q, v0, t): (f64, f64, f64, f64, f64) = (100.0, 0.03, 0.01, 0.0625, 1.0);
    let report = Job::new(51, r)
        .heston("H", s, q, v0, 2.0, v0, 0.0, -0.5)
        .trade("hc", "type: european, underlying: H, option: call, strike: 110.0, maturity: 1.0, steps: 50")
        .paths(200_000)
        .run();
    let (mc, se) = quantity(&report, "hc", "price");
    assert_close_se("Heston ξ=0 call", mc, se, bs::price(Call, &inputs(s, 110.0, r, q, v0.sqrt(), t)), 4.0, 0.0);
}

/// Under any Heston parameters the discounted forward is a martingale, and the
/// full-truncation log-Euler step keeps E[S_{t+dt} | F_t] = S_t e^{(r−q)dt}
/// exactly (conditionally on v the increment is lognormal). A call with a
/// negligible strike is S_T − K on every path: its price must be
/// S e^{−qT} − K e^{−rT}.
#[test]
fn heston_forward_is_a_martingale() {
    let (s, r, q, t, k): (f64, f64, f64, f64, f64) = (100.0, 0.04, 0.015, 1.0, 0.01);
    let report = Job::new(52, r)
        .heston("H", s, q, 0.04, 1.5, 0.05, 0.6, -0.7)
        .trade(
            "fwd",
            &format!("type: european, underlying: H, option: call, strike: {k:?}, maturity: {t:?}, steps: 20"),
        )
        .paths(200_000)
        .run();
    let (mc, se) = quantity(&report, "fwd", "price");
    let exact = s * (-q * t).exp() - k * (-r * t).exp();
    assert_close_se("Heston forward", mc, se, exact, 4.0, 0.0);
}
