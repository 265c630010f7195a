//! Semantic validation of a parsed [`JobSpec`]: ranges, references,
//! cross-field rules and work limits. Collects every problem found.

mod analysis;
mod market;
mod portfolio;

use std::collections::HashMap;

use nalgebra::{DMatrix, SymmetricEigen};

use super::error::{FieldError, SpecErrors};
use super::limits;
use super::types::{
    AnalysisSpec, Greek, HestonSpec, InstrumentSpec, JobSpec, MarketSpec, RiskSpec, ScenarioSpec, TradeSpec,
};

impl JobSpec {
    /// Checks every rule of the job-file format and returns all violations,
    /// each with its field path (`market.underlyings[0].vol`,
    /// `portfolio[3].instrument.barrier`, `analysis.risk.confidence[1]`).
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut v = Validator::default();
        let known = Known::new(&self.market);
        v.market(&self.market);
        v.portfolio(&self.portfolio, &known);
        v.analysis(&self.analysis, &self.portfolio, &known);
        if v.errors.is_empty() { Ok(()) } else { Err(SpecErrors(v.errors)) }
    }
}

/// Underlying ids defined in the market, for reference checks.
struct Known<'a> {
    ids: HashMap<&'a str, usize>,
    ordered: Vec<&'a str>,
}

impl<'a> Known<'a> {
    fn new(market: &'a MarketSpec) -> Self {
        let mut ids = HashMap::new();
        let mut ordered = Vec::new();
        for (i, u) in market.underlyings.iter().enumerate() {
            if ids.insert(u.id.as_str(), i).is_none() {
                ordered.push(u.id.as_str());
            }
        }
        Known { ids, ordered }
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// `unknown underlying `X`; known: A, B` (truncated for big markets).
    fn unknown(&self, id: &str) -> String {
        const SHOWN: usize = 20;
        if self.ordered.is_empty() {
            return format!("unknown underlying `{id}`; market.underlyings is empty");
        }
        let mut list = self.ordered.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
        if self.ordered.len() > SHOWN {
            list.push_str(&format!(", ... ({} in all)", self.ordered.len()));
        }
        format!("unknown underlying `{id}`; known: {list}")
    }
}

/// Lower end of an allowed range.
#[derive(Clone, Copy)]
enum Lo {
    /// Strictly greater than.
    Gt(f64),
    /// Greater than or equal to.
    Ge(f64),
}

/// Upper end of an allowed range.
#[derive(Clone, Copy)]
enum Hi {
    /// Strictly less than.
    Lt(f64),
    /// Less than or equal to.
    Le(f64),
    /// No upper bound.
    Any,
}

fn allowed(lo: Lo, hi: Hi) -> String {
    match (lo, hi) {
        (Lo::Gt(a), Hi::Any) => format!("> {a}"),
        (Lo::Ge(a), Hi::Any) => format!(">= {a}"),
        (Lo::Gt(a), Hi::Lt(b)) => format!("in ({a}, {b}) (exclusive)"),
        (Lo::Gt(a), Hi::Le(b)) => format!("in ({a}, {b}] (> {a} and <= {b})"),
        (Lo::Ge(a), Hi::Lt(b)) => format!("in [{a}, {b}) (>= {a} and < {b})"),
        (Lo::Ge(a), Hi::Le(b)) => format!("in [{a}, {b}]"),
    }
}

fn in_range(x: f64, lo: Lo, hi: Hi) -> bool {
    let lo_ok = match lo {
        Lo::Gt(a) => x > a,
        Lo::Ge(a) => x >= a,
    };
    let hi_ok = match hi {
        Hi::Lt(b) => x < b,
        Hi::Le(b) => x <= b,
        Hi::Any => true,
    };
    lo_ok && hi_ok
}

#[derive(Default)]
struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(FieldError::new(path, reason));
    }

    /// Checks that `x` is finite and within the range; `what` names the
    /// quantity in the message. Returns whether it passed.
    fn real(&mut self, path: &str, what: &str, x: f64, lo: Lo, hi: Hi) -> bool {
        if !x.is_finite() {
            self.push(path, format!("{what} must be a finite number, got {x}"));
            false
        } else if !in_range(x, lo, hi) {
            self.push(path, format!("{what} must be {}, got {x}", allowed(lo, hi)));
            false
        } else {
            true
        }
    }

    /// Checks `lo <= x <= hi` for an integer. Returns whether it passed.
    fn count(&mut self, path: &str, what: &str, x: u64, lo: u64, hi: u64) -> bool {
        if x < lo {
            self.push(path, format!("{what} must be at least {lo}, got {x}"));
            false
        } else if x > hi {
            self.push(path, format!("{what} must be at most {hi} (the limit), got {x}"));
            false
        } else {
            true
        }
    }
}

/// `-0.8`-style for ordinary magnitudes, `-3.2e-9`-style for tiny ones.
fn short_number(x: f64) -> String {
    if x.abs() >= 1e-3 { format!("{}", (x * 1e6).round() / 1e6) } else { format!("{x:.3e}") }
}

fn greek_name(g: Greek) -> &'static str {
    match g {
        Greek::Delta => "delta",
        Greek::Gamma => "gamma",
        Greek::Vega => "vega",
        Greek::Rho => "rho",
        Greek::Theta => "theta",
    }
}

/// Index and maturity of the trade with the shortest valid maturity.
fn shortest_maturity(trades: &[TradeSpec]) -> Option<(usize, f64)> {
    trades
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.instrument.maturity().map(|m| (i, m)))
        .filter(|(_, m)| m.is_finite() && *m > 0.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Σ over trades of (simulation steps × assets), the work of one path.
fn work_per_path(trades: &[TradeSpec]) -> u128 {
    trades.iter().fold(0u128, |acc, t| {
        let steps = u128::from(t.instrument.simulation_steps());
        let assets = t.instrument.underlyings().len() as u128;
        acc.saturating_add(steps.saturating_mul(assets))
    })
}
