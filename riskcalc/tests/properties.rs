//! Model-free properties over random markets (proptest).
//!
//! * Put–call parity holds in expectation under GBM and Heston alike (the
//!   engine's log-Euler Heston step keeps the discounted spot a martingale),
//!   checked within 4 combined standard errors (call and put have different
//!   ids, hence independent streams).
//! * With common random numbers (the same trade id and seed in two jobs sees
//!   the same normals) prices are monotone in strike and spot path by path, so
//!   the Monte Carlo estimates must be ordered exactly, with no tolerance:
//!   IEEE addition and multiplication by a positive constant are monotone, so
//!   the block sums and their merge preserve a per-path ordering.
//!
//! The proptest seed is fixed so that runs are reproducible.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Job, quantity};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const PATHS: u64 = 20_000;

fn config(cases: u32, seed: u64) -> ProptestConfig {
    ProptestConfig { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..ProptestConfig::default() }
}

/// The underlying's dynamics: GBM with `vol`, or Heston.
#[derive(Debug, Clone)]
enum Dynamics {
    Gbm { vol: f64 },
    Heston { v0: f64, kappa: f64, theta: f64, xi: f64, rho: f64 },
}

fn dynamics() -> impl Strategy<Value = Dynamics> {
    prop_oneof![
        (0.05..0.8f64).prop_map(|vol| Dynamics::Gbm { vol }),
        (0.01..0.25f64, 0.3..4.0f64, 0.01..0.25f64, 0.0..1.2f64, -0.95..0.95f64)
            .prop_map(|(v0, kappa, theta, xi, rho)| Dynamics::Heston { v0, kappa, theta, xi, rho }),
    ]
}

#[derive(Debug, Clone)]
struct Market {
    seed: u64,
    spot: f64,
    rate: f64,
    dividend: f64,
    maturity: f64,
    dynamics: Dynamics,
}

fn market() -> impl Strategy<Value = Market> {
    (any::<u64>(), 20.0..500.0f64, -0.02..0.10f64, 0.0..0.06f64, 0.05..3.0f64, dynamics()).prop_map(
        |(seed, spot, rate, dividend, maturity, dynamics)| Market { seed, spot, rate, dividend, maturity, dynamics },
    )
}

impl Market {
    fn job(&self, spot: f64) -> Job {
        let job = Job::new(self.seed, self.rate);
        match self.dynamics {
            Dynamics::Gbm { vol } => job.gbm("X", spot, self.dividend, vol),
            Dynamics::Heston { v0, kappa, theta, xi, rho } => {
                job.heston("X", spot, self.dividend, v0, kappa, theta, xi, rho)
            }
        }
    }

    fn vanilla(&self, option: &str, strike: f64) -> String {
        format!("type: european, underlying: X, option: {option}, strike: {strike:?}, maturity: {:?}", self.maturity)
    }

    fn asian(&self, strike: f64) -> String {
        format!(
            "type: asian, underlying: X, option: call, strike: {strike:?}, maturity: {:?}, fixings: 4, average: arithmetic",
            self.maturity
        )
    }
}

proptest! {
    #![proptest_config(config(32, 0x5eed_0001))]

    /// C − P = S e^{−qT} − K e^{−rT}.
    #[test]
    fn put_call_parity(m in market(), moneyness in 0.6..1.6f64) {
        let strike = m.spot * moneyness;
        let report = m
            .job(m.spot)
            .trade("c", &m.vanilla("call", strike))
            .trade("p", &m.vanilla("put", strike))
            .paths(PATHS)
            .run();
        let (c, se_c) = quantity(&report, "c", "price");
        let (p, se_p) = quantity(&report, "p", "price");
        let forward = m.spot * (-m.dividend * m.maturity).exp() - strike * (-m.rate * m.maturity).exp();
        let se = (se_c * se_c + se_p * se_p).sqrt();
        prop_assert!(se > 0.0);
        prop_assert!(
            (c - p - forward).abs() <= 4.0 * se,
            "C {c} − P {p} = {} vs S e^-qT − K e^-rT = {forward} ({:+.2} SE)",
            c - p,
            (c - p - forward) / se
        );
    }
}

proptest! {
    #![proptest_config(config(24, 0x5eed_0002))]

    /// K1 < K2 ⇒ call(K1) ≥ call(K2), put(K1) ≤ put(K2), Asian call(K1) ≥
    /// Asian call(K2), exactly; and call(K1) − call(K2) ≤ (K2 − K1) e^{−rT}
    /// up to summation rounding (a path-wise no-arbitrage bound).
    #[test]
    fn prices_are_monotone_in_strike_with_common_random_numbers(
        m in market(),
        k1 in 0.5..1.5f64,
        gap in 0.001..0.5f64,
    ) {
        let (k1, k2) = (m.spot * k1, m.spot * (k1 + gap));
        let run = |k: f64| {
            let report = m
                .job(m.spot)
                .trade("c", &m.vanilla("call", k))
                .trade("p", &m.vanilla("put", k))
                .trade("a", &m.asian(k))
                .paths(PATHS)
                .block_size(1024)
                .run();
            ["c", "p", "a"].map(|id| quantity(&report, id, "price").0)
        };
        let [c1, p1, a1] = run(k1);
        let [c2, p2, a2] = run(k2);
        prop_assert!(c1 >= c2, "call({k1}) = {c1} < call({k2}) = {c2}");
        prop_assert!(p1 <= p2, "put({k1}) = {p1} > put({k2}) = {p2}");
        prop_assert!(a1 >= a2, "asian({k1}) = {a1} < asian({k2}) = {a2}");
        let bound = (k2 - k1) * (-m.rate * m.maturity).exp();
        let rounding = 1e-12 * (c1 + p2 + bound);
        prop_assert!(c1 - c2 <= bound + rounding, "call spread {} > {bound}", c1 - c2);
        prop_assert!(p2 - p1 <= bound + rounding, "put spread {} > {bound}", p2 - p1);
    }

    /// S1 < S2 ⇒ call(S1) ≤ call(S2) and put(S1) ≥ put(S2), exactly. Under
    /// Heston the variance path does not depend on the spot, so the same holds.
    #[test]
    fn prices_are_monotone_in_spot_with_common_random_numbers(
        m in market(),
        moneyness in 0.6..1.6f64,
        rel_gap in 1e-4..0.5f64,
    ) {
        let strike = m.spot * moneyness;
        let run = |spot: f64| {
            let report = m
                .job(spot)
                .trade("c", &m.vanilla("call", strike))
                .trade("p", &m.vanilla("put", strike))
                .paths(PATHS)
                .run();
            ["c", "p"].map(|id| quantity(&report, id, "price").0)
        };
        let (s1, s2) = (m.spot, m.spot * (1.0 + rel_gap));
        let [c1, p1] = run(s1);
        let [c2, p2] = run(s2);
        prop_assert!(c1 <= c2, "call(S={s1}) = {c1} > call(S={s2}) = {c2}");
        prop_assert!(p1 >= p2, "put(S={s1}) = {p1} < put(S={s2}) = {p2}");
    }
}
