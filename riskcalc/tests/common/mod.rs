//! Helpers shared by the integration tests: job texts built inline, running
//! them, and looking results up.
//!
//! Each test file includes this module with `mod common;` and uses only part of
//! it, hence the `dead_code` allowance.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use riskcalc::engine::{PricingReport, TradeReport, run_pricing};
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use riskcalc::spec::JobSpec;

/// A job file under construction. Numbers are written with `{:?}`, which
/// round-trips every f64 exactly, so the engine sees exactly the test's inputs.
#[derive(Debug, Clone)]
pub struct Job {
    seed: u64,
    rate: f64,
    underlyings: Vec<String>,
    correlation: Option<Vec<Vec<f64>>>,
    trades: Vec<String>,
    analysis: Vec<String>,
}

impl Job {
    pub fn new(seed: u64, rate: f64) -> Job {
        Job { seed, rate, underlyings: Vec::new(), correlation: None, trades: Vec::new(), analysis: Vec::new() }
    }

    /// A geometric-Brownian-motion underlying.
    pub fn gbm(mut self, id: &str, spot: f64, dividend: f64, vol: f64) -> Job {
        self.underlyings.push(format!("{{id: {id}, spot: {spot:?}, dividend_yield: {dividend:?}, vol: {vol:?}}}"));
        self
    }

    /// A Heston underlying.
    #[allow(clippy::too_many_arguments)]
    pub fn heston(
        mut self,
        id: &str,
        spot: f64,
        dividend: f64,
        v0: f64,
        kappa: f64,
        theta: f64,
        xi: f64,
        rho: f64,
    ) -> Job {
        self.underlyings.push(format!(
            "{{id: {id}, spot: {spot:?}, dividend_yield: {dividend:?}, \
             heston: {{v0: {v0:?}, kappa: {kappa:?}, theta: {theta:?}, xi: {xi:?}, rho: {rho:?}}}}}"
        ));
        self
    }

    pub fn correlation(mut self, rows: &[&[f64]]) -> Job {
        self.correlation = Some(rows.iter().map(|r| r.to_vec()).collect());
        self
    }

    /// A trade of quantity 1; `instrument` is the body of a YAML flow mapping,
    /// e.g. `type: european, underlying: SPX, option: call, strike: 100.0, maturity: 1.0`.
    pub fn trade(mut self, id: &str, instrument: &str) -> Job {
        self.trades.push(format!("{{id: {id}, instrument: {{{instrument}}}}}"));
        self
    }

    /// Adds `key: value` to the analysis section (`paths` is required).
    pub fn analysis(mut self, key: &str, value: &str) -> Job {
        self.analysis.push(format!("{key}: {value}"));
        self
    }

    pub fn paths(self, n: u64) -> Job {
        self.analysis("paths", &n.to_string())
    }

    pub fn block_size(self, n: u32) -> Job {
        self.analysis("block_size", &n.to_string())
    }

    /// e.g. `greeks("[delta, gamma]")`.
    pub fn greeks(self, list: &str) -> Job {
        self.analysis("greeks", list)
    }

    pub fn yaml(&self) -> String {
        let mut y = format!("seed: {}\nmarket:\n  rate: {:?}\n  underlyings:\n", self.seed, self.rate);
        for u in &self.underlyings {
            y += &format!("    - {u}\n");
        }
        if let Some(rows) = &self.correlation {
            y += "  correlation:\n";
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| format!("{c:?}")).collect();
                y += &format!("    - [{}]\n", cells.join(", "));
            }
        }
        y += "portfolio:\n";
        for t in &self.trades {
            y += &format!("  - {t}\n");
        }
        y += "analysis:\n";
        for a in &self.analysis {
            y += &format!("  {a}\n");
        }
        y
    }

    pub fn spec(&self) -> JobSpec {
        let yaml = self.yaml();
        match riskcalc::spec::parse_yaml(&yaml) {
            Ok(spec) => spec,
            Err(e) => panic!("test job rejected:\n{e}\n--- job ---\n{yaml}"),
        }
    }

    pub fn compile(&self, isa: Isa) -> CompiledJob {
        CompiledJob::compile(&self.spec(), isa)
    }

    /// Compiles and prices on the widest ISA of this CPU.
    pub fn run(&self) -> PricingReport {
        let isa = Isa::detect();
        run_pricing(&self.compile(isa), isa, |_| {})
    }
}

/// The report of trade `id`.
pub fn trade<'a>(report: &'a PricingReport, id: &str) -> &'a TradeReport {
    report.trades.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("no trade `{id}` in the report"))
}

/// (estimate, standard error) of quantity `name` of trade `id`: `price` or a Greek name.
pub fn quantity(report: &PricingReport, id: &str, name: &str) -> (f64, f64) {
    let t = trade(report, id);
    if name == "price" {
        return (t.price, t.std_error);
    }
    let e = t.greeks.get(name).unwrap_or_else(|| panic!("trade `{id}` has no `{name}`; it has {:?}", t.greeks.keys()));
    (e.value, e.std_error)
}

/// Asserts |mc − expected| ≤ k·se + allowance, with a message giving the
/// deviation in standard errors.
#[track_caller]
pub fn assert_close_se(what: &str, mc: f64, se: f64, expected: f64, k: f64, allowance: f64) {
    assert!(mc.is_finite() && se.is_finite(), "{what}: non-finite estimate {mc} ± {se}");
    assert!(se > 0.0, "{what}: zero standard error (estimate {mc})");
    let dev = (mc - expected).abs();
    // Shown by `cargo test -- --nocapture` and on failure.
    eprintln!("{what}: MC {mc:.6} ± {se:.2e}, expected {expected:.6}, {:+.2} SE", (mc - expected) / se);
    assert!(
        dev <= k * se + allowance,
        "{what}: MC {mc:.6} ± {se:.6} vs expected {expected:.6}: off by {dev:.6} = {:.2} SE \
         (allowed {k} SE + {allowance:.2e})",
        dev / se
    );
}

/// Every number of a report as (name, bits), for bit-for-bit comparisons.
pub fn report_bits(report: &PricingReport) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for t in &report.trades {
        out.push((format!("{}.price", t.id), t.price.to_bits()));
        out.push((format!("{}.std_error", t.id), t.std_error.to_bits()));
        out.push((format!("{}.paths", t.id), t.paths));
        for (name, e) in &t.greeks {
            out.push((format!("{}.{name}", t.id), e.value.to_bits()));
            out.push((format!("{}.{name}.std_error", t.id), e.std_error.to_bits()));
        }
    }
    out.push(("portfolio.value".into(), report.portfolio.value.to_bits()));
    out.push(("portfolio.std_error".into(), report.portfolio.std_error.to_bits()));
    for (name, e) in &report.portfolio.greeks {
        out.push((format!("portfolio.{name}"), e.value.to_bits()));
        out.push((format!("portfolio.{name}.std_error"), e.std_error.to_bits()));
    }
    out.push(("paths".into(), report.paths));
    out.push(("blocks".into(), report.blocks));
    out
}

/// Asserts two reports are identical bit for bit, naming the first difference.
#[track_caller]
pub fn assert_same_bits(what: &str, a: &PricingReport, b: &PricingReport) {
    let (ba, bb) = (report_bits(a), report_bits(b));
    assert_eq!(ba.len(), bb.len(), "{what}: reports have different shapes");
    for ((na, xa), (nb, xb)) in ba.iter().zip(&bb) {
        assert_eq!(na, nb, "{what}: reports list different quantities");
        assert_eq!(
            xa,
            xb,
            "{what}: `{na}` differs: {} vs {} (bits {xa:#018x} vs {xb:#018x})",
            f64::from_bits(*xa),
            f64::from_bits(*xb)
        );
    }
}
