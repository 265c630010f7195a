//! Semantic validation of a parsed [`JobSpec`]: ranges, references,
//! cross-field rules and work limits. Collects every problem found.

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

    fn market(&mut self, m: &MarketSpec) {
        self.real("market.rate", "rate", m.rate, Lo::Ge(-1.0), Hi::Le(1.0));

        let n = m.underlyings.len();
        if n == 0 {
            self.push("market.underlyings", "at least one underlying is required, got none");
        } else if n > limits::MAX_UNDERLYINGS {
            self.push(
                "market.underlyings",
                format!("too many underlyings: got {n}, the limit is {}", limits::MAX_UNDERLYINGS),
            );
        }

        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, u) in m.underlyings.iter().enumerate() {
            let p = format!("market.underlyings[{i}]");
            if u.id.trim().is_empty() {
                self.push(format!("{p}.id"), "underlying id must not be empty");
            } else if let Some(j) = first.get(u.id.as_str()) {
                self.push(
                    format!("{p}.id"),
                    format!("duplicate underlying id `{}` (first used by market.underlyings[{j}])", u.id),
                );
            } else {
                first.insert(u.id.as_str(), i);
            }
            self.real(&format!("{p}.spot"), "spot", u.spot, Lo::Gt(0.0), Hi::Any);
            self.real(&format!("{p}.dividend_yield"), "dividend yield", u.dividend_yield, Lo::Ge(-1.0), Hi::Le(1.0));
            match (u.vol, &u.heston) {
                (Some(vol), None) => {
                    self.real(&format!("{p}.vol"), "volatility (annualised, 0.2 = 20%)", vol, Lo::Gt(0.0), Hi::Le(5.0));
                }
                (None, Some(h)) => self.heston(&format!("{p}.heston"), h),
                (None, None) => {
                    self.push(p, "no volatility model: give exactly one of `vol` (GBM) or `heston`, got neither")
                }
                (Some(_), Some(_)) => {
                    self.push(p, "conflicting volatility models: give exactly one of `vol` (GBM) or `heston`, got both")
                }
            }
        }

        if let Some(c) = &m.correlation {
            self.correlation(c, n);
        }
    }

    fn heston(&mut self, p: &str, h: &HestonSpec) {
        self.real(&format!("{p}.v0"), "initial variance v0", h.v0, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.kappa"), "mean-reversion speed kappa", h.kappa, Lo::Gt(0.0), Hi::Any);
        self.real(&format!("{p}.theta"), "long-run variance theta", h.theta, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.xi"), "vol of variance xi", h.xi, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.rho"), "spot/variance correlation rho", h.rho, Lo::Ge(-1.0), Hi::Le(1.0));
    }

    fn correlation(&mut self, c: &[Vec<f64>], n: usize) {
        if c.len() != n {
            self.push("market.correlation", format!("expected {n}x{n} (one row per underlying), got {} rows", c.len()));
            return;
        }
        let mut ok = true;
        for (i, row) in c.iter().enumerate() {
            if row.len() != n {
                self.push(
                    format!("market.correlation[{i}]"),
                    format!("expected {n} entries (one per underlying, matrix {n}x{n}), got {}", row.len()),
                );
                ok = false;
            }
        }
        if !ok {
            return;
        }
        for (i, row) in c.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                let p = format!("market.correlation[{i}][{j}]");
                if !x.is_finite() {
                    self.push(p, format!("correlation must be a finite number, got {x}"));
                    ok = false;
                } else if i == j && x != 1.0 {
                    self.push(p, format!("diagonal entry must be exactly 1, got {x}"));
                    ok = false;
                } else if x.abs() > 1.0 {
                    self.push(p, format!("correlation must be in [-1, 1], got {x}"));
                    ok = false;
                }
            }
        }
        for (i, row) in c.iter().enumerate() {
            for (j, other) in c.iter().enumerate().skip(i + 1) {
                let (a, b) = (row[j], other[i]);
                if a.is_finite() && b.is_finite() && (a - b).abs() > limits::CORRELATION_SYMMETRY_TOL {
                    self.push(
                        format!("market.correlation[{j}][{i}]"),
                        format!("matrix must be symmetric: [{j}][{i}] is {b} but [{i}][{j}] is {a}"),
                    );
                    ok = false;
                }
            }
        }
        if !ok || n == 0 || n > limits::MAX_UNDERLYINGS {
            return;
        }
        let matrix = DMatrix::from_fn(n, n, |i, j| c[i][j]);
        match SymmetricEigen::try_new(matrix, f64::EPSILON, 100_000) {
            Some(eigen) => {
                let min = eigen.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
                if min < limits::CORRELATION_MIN_EIGENVALUE {
                    self.push(
                        "market.correlation",
                        format!(
                            "matrix is not positive semi-definite: smallest eigenvalue is {}, \
                             must be >= {:e} (no joint distribution has these pairwise correlations)",
                            short_number(min),
                            limits::CORRELATION_MIN_EIGENVALUE
                        ),
                    );
                }
            }
            None => self.push(
                "market.correlation",
                "cannot check positive semi-definiteness: the eigenvalue iteration did not converge",
            ),
        }
    }

    fn portfolio(&mut self, trades: &[TradeSpec], known: &Known<'_>) {
        if trades.is_empty() {
            self.push("portfolio", "must contain at least one trade, got none");
        } else if trades.len() > limits::MAX_TRADES {
            self.push(
                "portfolio",
                format!("too many trades: got {}, the limit is {}", trades.len(), limits::MAX_TRADES),
            );
        }
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, t) in trades.iter().enumerate() {
            let p = format!("portfolio[{i}]");
            if t.id.trim().is_empty() {
                self.push(format!("{p}.id"), "trade id must not be empty");
            } else if let Some(j) = first.get(t.id.as_str()) {
                self.push(format!("{p}.id"), format!("duplicate trade id `{}` (first used by portfolio[{j}])", t.id));
            } else {
                first.insert(t.id.as_str(), i);
            }
            if !t.quantity.is_finite() || t.quantity == 0.0 {
                self.push(
                    format!("{p}.quantity"),
                    format!("quantity must be a finite non-zero number (negative for short), got {}", t.quantity),
                );
            }
            self.instrument(&format!("{p}.instrument"), &t.instrument, known);
        }
    }

    fn underlying(&mut self, path: &str, id: &str, known: &Known<'_>) {
        if !known.contains(id) {
            self.push(path, known.unknown(id));
        }
    }

    fn instrument(&mut self, p: &str, inst: &InstrumentSpec, known: &Known<'_>) {
        if let Some(strike) = inst.strike() {
            self.real(&format!("{p}.strike"), "strike", strike, Lo::Gt(0.0), Hi::Any);
        }
        if let Some(maturity) = inst.maturity() {
            self.real(
                &format!("{p}.maturity"),
                "maturity (years)",
                maturity,
                Lo::Gt(0.0),
                Hi::Le(limits::MAX_MATURITY),
            );
        }
        let max_steps = u64::from(limits::MAX_STEPS);
        let obs_ok = match inst.observations() {
            Some((name, count)) => {
                let what = match name {
                    "fixings" => "number of fixings",
                    "monitoring" => "number of barrier monitoring dates",
                    _ => "number of exercise dates",
                };
                self.count(&format!("{p}.{name}"), what, u64::from(count), 1, max_steps).then_some((name, count))
            }
            None => None,
        };
        let steps_ok = inst
            .steps()
            .filter(|&steps| self.count(&format!("{p}.steps"), "number of time steps", u64::from(steps), 1, max_steps));
        let misaligned = match (steps_ok, obs_ok) {
            (Some(steps), Some((name, count))) if steps % count != 0 => Some((steps, name, count)),
            _ => None,
        };
        if let Some((steps, name, count)) = misaligned {
            let up = steps.div_ceil(count).saturating_mul(count);
            let hint = if up <= limits::MAX_STEPS { format!(" (e.g. {up})") } else { String::new() };
            self.push(
                format!("{p}.steps"),
                format!(
                    "{steps} steps is not a multiple of {name} ({count}); steps must be a \
                     multiple of {name} so that every observation date falls on a time step{hint}"
                ),
            );
        }
        self.instrument_fields(p, inst, known);
    }

    /// Checks of the fields specific to each instrument type.
    fn instrument_fields(&mut self, p: &str, inst: &InstrumentSpec, known: &Known<'_>) {
        match inst {
            InstrumentSpec::Stock(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::European(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Digital(s) => {
                self.underlying(&format!("{p}.underlying"), &s.underlying, known);
                self.real(&format!("{p}.cash"), "cash amount", s.cash, Lo::Gt(0.0), Hi::Any);
            }
            InstrumentSpec::Asian(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Barrier(s) => {
                self.underlying(&format!("{p}.underlying"), &s.underlying, known);
                self.real(&format!("{p}.barrier"), "barrier level", s.barrier, Lo::Gt(0.0), Hi::Any);
            }
            InstrumentSpec::American(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Bermudan(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Basket(b) => {
                let n = b.underlyings.len();
                if n == 0 {
                    self.push(format!("{p}.underlyings"), "a basket needs at least one underlying, got none");
                } else if n > limits::MAX_ASSETS_PER_TRADE {
                    self.push(
                        format!("{p}.underlyings"),
                        format!(
                            "too many underlyings in one basket: got {n}, the limit is {}",
                            limits::MAX_ASSETS_PER_TRADE
                        ),
                    );
                }
                let mut first: HashMap<&str, usize> = HashMap::new();
                for (k, id) in b.underlyings.iter().enumerate() {
                    let path = format!("{p}.underlyings[{k}]");
                    if let Some(j) = first.get(id.as_str()) {
                        self.push(path, format!("duplicate underlying `{id}` in basket (already at underlyings[{j}])"));
                    } else {
                        first.insert(id.as_str(), k);
                        self.underlying(&path, id, known);
                    }
                }
                if b.weights.len() != n {
                    self.push(
                        format!("{p}.weights"),
                        format!("expected {n} weights (one per underlying), got {}", b.weights.len()),
                    );
                }
                let mut all_finite = true;
                for (k, &w) in b.weights.iter().enumerate() {
                    if !w.is_finite() {
                        self.push(format!("{p}.weights[{k}]"), format!("weight must be a finite number, got {w}"));
                        all_finite = false;
                    }
                }
                let sum: f64 = b.weights.iter().sum();
                if all_finite && !b.weights.is_empty() && sum <= 0.0 {
                    self.push(format!("{p}.weights"), format!("weights must have a positive sum, got {sum}"));
                }
            }
        }
    }

    fn analysis(&mut self, a: &AnalysisSpec, trades: &[TradeSpec], known: &Known<'_>) {
        let paths_ok = if a.paths > limits::MAX_PATHS {
            self.push(
                "analysis.paths",
                format!("{} paths exceeds the limit of {} (10^12) paths", a.paths, limits::MAX_PATHS),
            );
            false
        } else {
            self.count("analysis.paths", "number of paths", a.paths, 1, limits::MAX_PATHS)
        };

        let bs = a.block_size;
        if !(limits::MIN_BLOCK_SIZE..=limits::MAX_BLOCK_SIZE).contains(&bs)
            || !bs.is_multiple_of(limits::BLOCK_SIZE_MULTIPLE)
        {
            self.push(
                "analysis.block_size",
                format!(
                    "block size must be between {} and {} and a multiple of {}, got {bs}",
                    limits::MIN_BLOCK_SIZE,
                    limits::MAX_BLOCK_SIZE,
                    limits::BLOCK_SIZE_MULTIPLE
                ),
            );
        }

        let mut seen: HashMap<Greek, usize> = HashMap::new();
        for (i, g) in a.greeks.iter().enumerate() {
            if let Some(j) = seen.get(g) {
                self.push(
                    format!("analysis.greeks[{i}]"),
                    format!("duplicate greek `{}` (already at greeks[{j}])", greek_name(*g)),
                );
            } else {
                seen.insert(*g, i);
            }
        }

        let shortest = shortest_maturity(trades);
        let b = &a.bumps;
        self.real("analysis.bumps.spot_rel", "relative spot bump", b.spot_rel, Lo::Gt(0.0), Hi::Lt(0.5));
        self.real("analysis.bumps.vol_abs", "absolute volatility bump", b.vol_abs, Lo::Gt(0.0), Hi::Lt(1.0));
        self.real("analysis.bumps.rate_abs", "absolute rate bump", b.rate_abs, Lo::Gt(0.0), Hi::Lt(0.1));
        let theta_ok = self.real(
            "analysis.bumps.theta_days",
            "theta roll (calendar days)",
            b.theta_days,
            Lo::Gt(0.0),
            Hi::Lt(30.0),
        );
        let too_long = shortest.filter(|&(_, m)| {
            theta_ok && seen.contains_key(&Greek::Theta) && b.theta_days / limits::CALENDAR_DAYS_PER_YEAR >= m
        });
        if let Some((k, m)) = too_long {
            self.push(
                "analysis.bumps.theta_days",
                format!(
                    "theta roll of {} calendar days is not shorter than the maturity of \
                     portfolio[{k}] (`{}`, {m} years = {:.2} days); it must be shorter than every maturity",
                    b.theta_days,
                    trades[k].id,
                    m * limits::CALENDAR_DAYS_PER_YEAR
                ),
            );
        }

        self.count(
            "analysis.calibration_paths",
            "number of calibration paths",
            u64::from(a.calibration_paths),
            u64::from(limits::MIN_CALIBRATION_PATHS),
            u64::from(limits::MAX_CALIBRATION_PATHS),
        );
        if let Some(se) = a.target_std_error {
            self.real("analysis.target_std_error", "target standard error", se, Lo::Gt(0.0), Hi::Any);
        }

        let per_path = work_per_path(trades);
        if paths_ok {
            let work = u128::from(a.paths).saturating_mul(per_path);
            if work > limits::MAX_WORK {
                self.push(
                    "analysis.paths",
                    format!(
                        "estimated work of {} paths x {per_path} (sum over trades of time steps x assets) \
                         = {:.3e} path-steps exceeds the limit of {:e}; reduce paths or time steps",
                        a.paths,
                        work as f64,
                        limits::MAX_WORK as f64
                    ),
                );
            }
        }

        if let Some(r) = &a.risk {
            self.risk(r, trades, known, shortest, per_path);
        }
    }

    fn risk(
        &mut self,
        r: &RiskSpec,
        trades: &[TradeSpec],
        known: &Known<'_>,
        shortest: Option<(usize, f64)>,
        per_path: u128,
    ) {
        let horizon_ok = self.real(
            "analysis.risk.horizon_days",
            "risk horizon (trading days)",
            r.horizon_days,
            Lo::Gt(0.0),
            Hi::Le(limits::MAX_HORIZON_DAYS),
        );
        if let Some((k, m)) = shortest.filter(|_| horizon_ok) {
            let years = r.horizon_days / limits::TRADING_DAYS_PER_YEAR;
            if years >= m {
                self.push(
                    "analysis.risk.horizon_days",
                    format!(
                        "horizon of {} trading days ({years:.4} years) is not shorter than the \
                         maturity of portfolio[{k}] (`{}`, {m} years); every option must outlive the horizon",
                        r.horizon_days, trades[k].id
                    ),
                );
            }
        }

        if r.confidence.is_empty() {
            self.push("analysis.risk.confidence", "at least one confidence level is required (e.g. [0.99]), got none");
        }
        let mut seen: Vec<(f64, usize)> = Vec::new();
        for (i, &c) in r.confidence.iter().enumerate() {
            let p = format!("analysis.risk.confidence[{i}]");
            if !self.real(&p, "confidence level", c, Lo::Gt(0.5), Hi::Lt(1.0)) {
                continue;
            }
            if let Some((_, j)) = seen.iter().find(|(x, _)| *x == c) {
                self.push(p, format!("duplicate confidence level {c} (already at confidence[{j}])"));
            } else {
                seen.push((c, i));
            }
        }

        match &r.scenarios {
            ScenarioSpec::MonteCarlo(mc) => {
                let p = "analysis.risk.scenarios.monte_carlo";
                let count_ok = self.count(
                    &format!("{p}.count"),
                    "number of scenarios",
                    u64::from(mc.count),
                    1,
                    u64::from(limits::MAX_SCENARIOS),
                );
                self.real(&format!("{p}.vol_of_vol"), "vol of vol", mc.vol_of_vol, Lo::Ge(0.0), Hi::Any);
                for (id, &drift) in &mc.drift {
                    let path = format!("{p}.drift.{id}");
                    if !known.contains(id) {
                        self.push(path, known.unknown(id));
                    } else if !drift.is_finite() {
                        self.push(path, format!("drift must be a finite number, got {drift}"));
                    }
                }
                let inner_ok = (1..=limits::MAX_INNER_PATHS).contains(&r.inner_paths);
                if count_ok && inner_ok {
                    let work = u128::from(mc.count).saturating_mul(u128::from(r.inner_paths)).saturating_mul(per_path);
                    if work > limits::MAX_WORK {
                        self.push(
                            "analysis.risk.inner_paths",
                            format!(
                                "estimated risk work of {} scenarios x {} inner paths x {per_path} \
                                 (sum over trades of time steps x assets) = {:.3e} path-steps exceeds \
                                 the limit of {:e}; reduce scenarios, inner paths or time steps",
                                mc.count,
                                r.inner_paths,
                                work as f64,
                                limits::MAX_WORK as f64
                            ),
                        );
                    }
                }
            }
            ScenarioSpec::Historical(h) => {
                if h.file.trim().is_empty() {
                    self.push(
                        "analysis.risk.scenarios.historical.file",
                        "file must name a CSV file of returns (relative to the job file), got an empty string",
                    );
                }
            }
        }

        self.count(
            "analysis.risk.inner_paths",
            "number of inner paths",
            u64::from(r.inner_paths),
            1,
            u64::from(limits::MAX_INNER_PATHS),
        );
        self.count(
            "analysis.risk.scenario_block",
            "scenario block size",
            u64::from(r.scenario_block),
            1,
            u64::from(limits::MAX_SCENARIO_BLOCK),
        );
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
