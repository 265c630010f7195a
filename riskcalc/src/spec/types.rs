//! The job-file data model: what a YAML/JSON job file deserializes into.
//!
//! Every field carries a doc comment: they become the descriptions in the
//! JSON Schema produced by [`json_schema`](super::json_schema).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn default_one() -> f64 {
    1.0
}
fn default_block_size() -> u32 {
    4096
}
fn default_calibration_paths() -> u32 {
    32_768
}
fn default_exercise_dates() -> u32 {
    50
}
fn default_spot_rel() -> f64 {
    0.01
}
fn default_vol_abs() -> f64 {
    0.01
}
fn default_rate_abs() -> f64 {
    1e-4
}
fn default_theta_days() -> f64 {
    1.0
}
fn default_inner_paths() -> u32 {
    1000
}
fn default_scenario_block() -> u32 {
    256
}
fn default_average() -> Average {
    Average::Arithmetic
}

/// A complete riskgrid job: market data, the portfolio, and what to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Optional human-readable name of the job, echoed in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Master seed of the counter-based random number generator. The same
    /// job file and seed give bit-identical results on any machine.
    pub seed: u64,
    /// Market data: interest rate, underlyings and their correlation.
    pub market: MarketSpec,
    /// The trades to price (at least one).
    pub portfolio: Vec<TradeSpec>,
    /// What to compute: prices, greeks, and optionally value-at-risk.
    pub analysis: AnalysisSpec,
}

/// Market data shared by every trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Flat, continuously compounded risk-free rate (0.03 = 3% a year), in [-1, 1].
    pub rate: f64,
    /// The underlyings (assets) trades may reference, by `id`.
    pub underlyings: Vec<UnderlyingSpec>,
    /// Correlation matrix of the underlyings' driving Brownian motions: n×n,
    /// rows and columns in the order of `underlyings`, symmetric, unit
    /// diagonal, positive semi-definite. The identity when absent.
    #[serde(default)]
    pub correlation: Option<Vec<Vec<f64>>>,
}

/// One underlying asset. Give exactly one of `vol` (geometric Brownian
/// motion) or `heston` (Heston stochastic volatility).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnderlyingSpec {
    /// Identifier that trades use to reference this underlying (e.g. `SPX`); unique, non-empty.
    pub id: String,
    /// Spot price today; must be > 0.
    pub spot: f64,
    /// Continuous dividend yield (0.01 = 1% a year), in [-1, 1]. Defaults to 0.
    #[serde(default)]
    pub dividend_yield: f64,
    /// Constant Black-Scholes volatility for a GBM underlying (0.2 = 20% a year), in (0, 5].
    #[serde(default)]
    pub vol: Option<f64>,
    /// Heston stochastic-volatility parameters, instead of `vol`.
    #[serde(default)]
    pub heston: Option<HestonSpec>,
}

/// Heston model: dv = kappa (theta - v) dt + xi sqrt(v) dW_v, with corr(dW_v, dW_S) = rho.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HestonSpec {
    /// Initial variance (volatility squared: 0.04 = 20% vol); >= 0.
    pub v0: f64,
    /// Mean-reversion speed of the variance, per year; > 0.
    pub kappa: f64,
    /// Long-run variance; >= 0.
    pub theta: f64,
    /// Volatility of variance ("vol of vol"); >= 0.
    pub xi: f64,
    /// Correlation between the spot and variance Brownian motions, in [-1, 1].
    pub rho: f64,
}

/// One position: an instrument and how many units are held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TradeSpec {
    /// Trade identifier, unique within the portfolio; used in reports.
    pub id: String,
    /// Number of units held; negative for a short position, never 0. Defaults to 1.
    #[serde(default = "default_one")]
    pub quantity: f64,
    /// The instrument, selected by its `type` field.
    pub instrument: InstrumentSpec,
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Pays max(S - K, 0).
    Call,
    /// Pays max(K - S, 0).
    Put,
}

/// How observations are averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// Weighted arithmetic mean.
    Arithmetic,
    /// Weighted geometric mean.
    Geometric,
}

/// Which side of the spot the barrier lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BarrierDirection {
    /// Barrier hit when the spot rises to or above it.
    Up,
    /// Barrier hit when the spot falls to or below it.
    Down,
}

/// What hitting the barrier does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Knock {
    /// The option comes alive only if the barrier is hit.
    In,
    /// The option dies if the barrier is hit.
    Out,
}

/// A sensitivity to compute by bump-and-revalue with common random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Greek {
    /// dV/dS per underlying (central difference, relative bump `bumps.spot_rel`).
    Delta,
    /// d²V/dS² per underlying.
    Gamma,
    /// dV/dsigma per underlying (absolute bump `bumps.vol_abs`).
    Vega,
    /// dV/dr (absolute bump `bumps.rate_abs`).
    Rho,
    /// Change in value as `bumps.theta_days` calendar days pass.
    Theta,
}

/// The instrument of a trade; the `type` field selects the kind.
// Deserialize is implemented by hand in parse.rs (same format as the
// derive would give) so that errors inside an instrument keep their full
// field path and an unknown `type` lists the valid ones.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InstrumentSpec {
    /// One unit of the underlying itself (a delta-one position).
    Stock(StockSpec),
    /// European call or put, exercised at maturity only.
    European(EuropeanSpec),
    /// Cash-or-nothing digital: pays `cash` if the option finishes in the money.
    Digital(DigitalSpec),
    /// Asian option on the average of `fixings` equally spaced observations.
    Asian(AsianSpec),
    /// Single-barrier knock-in/knock-out option, monitored discretely.
    Barrier(BarrierSpec),
    /// Option on a weighted average of several underlyings at maturity.
    Basket(BasketSpec),
    /// American option, approximated by `exercise_dates` equally spaced
    /// exercise opportunities (Longstaff-Schwartz).
    American(AmericanSpec),
    /// Bermudan option with `exercise_dates` equally spaced exercise dates
    /// (Longstaff-Schwartz).
    Bermudan(BermudanSpec),
}

/// Payload of `type: stock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StockSpec {
    /// Id of the underlying held.
    pub underlying: String,
}

/// Payload of `type: european`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EuropeanSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` or `put`.
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// Number of simulation time steps; if omitted, the engine chooses.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: digital`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitalSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` (pays if S_T > K) or `put` (pays if S_T < K).
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// Cash amount paid when in the money; > 0. Defaults to 1.
    #[serde(default = "default_one")]
    pub cash: f64,
    /// Number of simulation time steps; if omitted, the engine chooses.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: asian`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsianSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` (pays max(A - K, 0)) or `put` (pays max(K - A, 0)), A the average.
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100]. The last fixing is at maturity.
    pub maturity: f64,
    /// Number of equally spaced fixings, the last at maturity; 1 to 100000.
    pub fixings: u32,
    /// `arithmetic` or `geometric` averaging of the fixings.
    pub average: Average,
    /// Number of simulation time steps; a multiple of `fixings`. Defaults to `fixings`.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: barrier`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BarrierSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` or `put` payoff at maturity (if alive).
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// Barrier level; > 0.
    pub barrier: f64,
    /// `up` (barrier above spot) or `down` (barrier below spot).
    pub direction: BarrierDirection,
    /// `in` (knock-in) or `out` (knock-out).
    pub knock: Knock,
    /// Number of equally spaced barrier observations, the last at maturity; 1 to 100000.
    pub monitoring: u32,
    /// Number of simulation time steps; a multiple of `monitoring`. Defaults to `monitoring`.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: basket`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketSpec {
    /// Ids of the basket's underlyings (1 to 64, no repeats).
    pub underlyings: Vec<String>,
    /// Weight of each underlying, same order and length as `underlyings`; finite, positive sum.
    pub weights: Vec<f64>,
    /// `call` or `put` on the basket value at maturity.
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// `arithmetic` (sum of w_i S_i) or `geometric` (product of S_i^w_i) basket. Defaults to arithmetic.
    #[serde(default = "default_average")]
    pub average: Average,
    /// Number of simulation time steps; if omitted, the engine chooses.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: american`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AmericanSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` or `put`.
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// Number of equally spaced exercise opportunities approximating continuous exercise; 1 to 100000. Defaults to 50.
    #[serde(default = "default_exercise_dates")]
    pub exercise_dates: u32,
    /// Number of simulation time steps; a multiple of `exercise_dates`. Defaults to `exercise_dates`.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// Payload of `type: bermudan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BermudanSpec {
    /// Id of the underlying.
    pub underlying: String,
    /// `call` or `put`.
    pub option: OptionKind,
    /// Strike price; > 0.
    pub strike: f64,
    /// Time to maturity in years; in (0, 100].
    pub maturity: f64,
    /// Number of equally spaced exercise dates, the last at maturity; 1 to 100000.
    pub exercise_dates: u32,
    /// Number of simulation time steps; a multiple of `exercise_dates`. Defaults to `exercise_dates`.
    #[serde(default)]
    pub steps: Option<u32>,
}

/// What to compute and with how much simulation effort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    /// Number of Monte Carlo paths for pricing and greeks; 1 to 10^12.
    pub paths: u64,
    /// Paths per reduction block (the unit of parallel work and of
    /// bit-reproducible summation); 64 to 1048576, a multiple of 8. Defaults to 4096.
    #[serde(default = "default_block_size")]
    pub block_size: u32,
    /// Greeks to compute, each at most once. Defaults to none.
    #[serde(default)]
    pub greeks: Vec<Greek>,
    /// Bump sizes for the finite-difference greeks.
    #[serde(default)]
    pub bumps: BumpSpec,
    /// Paths used to fit the Longstaff-Schwartz exercise regression of
    /// American/Bermudan trades (independent of the pricing paths); 1024 to 4194304. Defaults to 32768.
    #[serde(default = "default_calibration_paths")]
    pub calibration_paths: u32,
    /// If set, stop adding paths once every trade's standard error is below
    /// this (absolute, in price units); `paths` is then the maximum.
    #[serde(default)]
    pub target_std_error: Option<f64>,
    /// Value-at-risk / expected-shortfall settings; omitted for pricing-only jobs.
    #[serde(default)]
    pub risk: Option<RiskSpec>,
}

/// Bump sizes for finite-difference greeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BumpSpec {
    /// Relative spot bump for delta and gamma (0.01 = 1%); in (0, 0.5). Defaults to 0.01.
    #[serde(default = "default_spot_rel")]
    pub spot_rel: f64,
    /// Absolute volatility bump for vega (0.01 = one vol point); in (0, 1). Defaults to 0.01.
    #[serde(default = "default_vol_abs")]
    pub vol_abs: f64,
    /// Absolute rate bump for rho (1e-4 = one basis point); in (0, 0.1). Defaults to 1e-4.
    #[serde(default = "default_rate_abs")]
    pub rate_abs: f64,
    /// Calendar days to roll forward for theta; in (0, 30) and shorter than every maturity. Defaults to 1.
    #[serde(default = "default_theta_days")]
    pub theta_days: f64,
}

impl Default for BumpSpec {
    fn default() -> Self {
        BumpSpec {
            spot_rel: default_spot_rel(),
            vol_abs: default_vol_abs(),
            rate_abs: default_rate_abs(),
            theta_days: default_theta_days(),
        }
    }
}

/// Value-at-risk settings: full revaluation of the portfolio under market
/// scenarios at the horizon (nested Monte Carlo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskSpec {
    /// Risk horizon in trading days (252 a year); > 0, at most 1260, and shorter than every option maturity.
    pub horizon_days: f64,
    /// Confidence levels for VaR / expected shortfall, each strictly between 0.5 and 1 (e.g. 0.99), no repeats.
    pub confidence: Vec<f64>,
    /// Where the horizon scenarios come from.
    #[serde(with = "serde_yaml::with::singleton_map")]
    #[schemars(with = "ScenarioSpec")]
    pub scenarios: ScenarioSpec,
    /// Inner Monte Carlo paths per scenario for revaluing path-dependent
    /// and early-exercise trades; 1 to 1000000. Defaults to 1000.
    #[serde(default = "default_inner_paths")]
    pub inner_paths: u32,
    /// Scenarios per unit of parallel work; 1 to 65536. Defaults to 256.
    #[serde(default = "default_scenario_block")]
    pub scenario_block: u32,
}

/// Source of horizon scenarios, written as a one-key mapping:
/// `{monte_carlo: {...}}` or `{historical: {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScenarioSpec {
    /// Simulate the market to the horizon under the real-world measure.
    MonteCarlo(MonteCarloScenarios),
    /// Apply historical horizon returns read from a CSV file.
    Historical(HistoricalScenarios),
}

/// Monte Carlo scenario generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonteCarloScenarios {
    /// Number of scenarios; 1 to 10000000.
    pub count: u32,
    /// Lognormal shock to each volatility (or sqrt(v0) for Heston), per
    /// sqrt(year); >= 0. Defaults to 0 (volatilities unchanged).
    #[serde(default)]
    pub vol_of_vol: f64,
    /// Real-world log drift per year, by underlying id; unlisted underlyings drift 0.
    #[serde(default)]
    pub drift: BTreeMap<String, f64>,
}

/// Historical scenarios from a CSV file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoricalScenarios {
    /// Path of a CSV file, relative to the job file: a header row of
    /// underlying ids, then one row of horizon returns per scenario.
    pub file: String,
    /// Whether the CSV holds `log` returns ln(S_h/S_0) or `simple` returns S_h/S_0 - 1. Defaults to log.
    #[serde(default)]
    pub return_type: ReturnType,
}

/// How returns in a historical scenario file are expressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnType {
    /// ln(S_h / S_0).
    #[default]
    Log,
    /// S_h / S_0 - 1.
    Simple,
}

impl InstrumentSpec {
    /// The `type` names accepted in job files, in declaration order.
    pub const TYPE_NAMES: [&'static str; 8] =
        ["stock", "european", "digital", "asian", "barrier", "basket", "american", "bermudan"];

    /// Ids of the underlyings this instrument depends on (several for a basket).
    pub fn underlyings(&self) -> Vec<&str> {
        match self {
            InstrumentSpec::Stock(s) => vec![s.underlying.as_str()],
            InstrumentSpec::European(s) => vec![s.underlying.as_str()],
            InstrumentSpec::Digital(s) => vec![s.underlying.as_str()],
            InstrumentSpec::Asian(s) => vec![s.underlying.as_str()],
            InstrumentSpec::Barrier(s) => vec![s.underlying.as_str()],
            InstrumentSpec::Basket(s) => s.underlyings.iter().map(String::as_str).collect(),
            InstrumentSpec::American(s) => vec![s.underlying.as_str()],
            InstrumentSpec::Bermudan(s) => vec![s.underlying.as_str()],
        }
    }

    /// Maturity in years; `None` for a stock.
    pub fn maturity(&self) -> Option<f64> {
        match self {
            InstrumentSpec::Stock(_) => None,
            InstrumentSpec::European(s) => Some(s.maturity),
            InstrumentSpec::Digital(s) => Some(s.maturity),
            InstrumentSpec::Asian(s) => Some(s.maturity),
            InstrumentSpec::Barrier(s) => Some(s.maturity),
            InstrumentSpec::Basket(s) => Some(s.maturity),
            InstrumentSpec::American(s) => Some(s.maturity),
            InstrumentSpec::Bermudan(s) => Some(s.maturity),
        }
    }

    /// Call or put; `None` for a stock.
    pub fn option(&self) -> Option<OptionKind> {
        match self {
            InstrumentSpec::Stock(_) => None,
            InstrumentSpec::European(s) => Some(s.option),
            InstrumentSpec::Digital(s) => Some(s.option),
            InstrumentSpec::Asian(s) => Some(s.option),
            InstrumentSpec::Barrier(s) => Some(s.option),
            InstrumentSpec::Basket(s) => Some(s.option),
            InstrumentSpec::American(s) => Some(s.option),
            InstrumentSpec::Bermudan(s) => Some(s.option),
        }
    }

    /// Strike; `None` for a stock.
    pub fn strike(&self) -> Option<f64> {
        match self {
            InstrumentSpec::Stock(_) => None,
            InstrumentSpec::European(s) => Some(s.strike),
            InstrumentSpec::Digital(s) => Some(s.strike),
            InstrumentSpec::Asian(s) => Some(s.strike),
            InstrumentSpec::Barrier(s) => Some(s.strike),
            InstrumentSpec::Basket(s) => Some(s.strike),
            InstrumentSpec::American(s) => Some(s.strike),
            InstrumentSpec::Bermudan(s) => Some(s.strike),
        }
    }

    /// The `type` name as written in job files (`"european"`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            InstrumentSpec::Stock(_) => "stock",
            InstrumentSpec::European(_) => "european",
            InstrumentSpec::Digital(_) => "digital",
            InstrumentSpec::Asian(_) => "asian",
            InstrumentSpec::Barrier(_) => "barrier",
            InstrumentSpec::Basket(_) => "basket",
            InstrumentSpec::American(_) => "american",
            InstrumentSpec::Bermudan(_) => "bermudan",
        }
    }

    /// Explicit `steps`, if the instrument has that field and it was given.
    pub fn steps(&self) -> Option<u32> {
        match self {
            InstrumentSpec::Stock(_) => None,
            InstrumentSpec::European(s) => s.steps,
            InstrumentSpec::Digital(s) => s.steps,
            InstrumentSpec::Asian(s) => s.steps,
            InstrumentSpec::Barrier(s) => s.steps,
            InstrumentSpec::Basket(s) => s.steps,
            InstrumentSpec::American(s) => s.steps,
            InstrumentSpec::Bermudan(s) => s.steps,
        }
    }

    /// Number of observation dates (fixings, barrier monitoring dates or
    /// exercise dates) and the name of the field that sets it; `None` for
    /// instruments observed at maturity only.
    pub fn observations(&self) -> Option<(&'static str, u32)> {
        match self {
            InstrumentSpec::Asian(s) => Some(("fixings", s.fixings)),
            InstrumentSpec::Barrier(s) => Some(("monitoring", s.monitoring)),
            InstrumentSpec::American(s) => Some(("exercise_dates", s.exercise_dates)),
            InstrumentSpec::Bermudan(s) => Some(("exercise_dates", s.exercise_dates)),
            _ => None,
        }
    }

    /// Time steps the instrument needs, as used by the work estimate:
    /// `steps` if given, else the observation count, else 1 (0 for a stock).
    pub fn simulation_steps(&self) -> u32 {
        if let InstrumentSpec::Stock(_) = self {
            return 0;
        }
        self.steps().or_else(|| self.observations().map(|(_, n)| n)).unwrap_or(1)
    }
}

impl JobSpec {
    /// Where the historical scenario file of this job lives, resolved
    /// relative to the directory of `job_file` (absolute paths are kept).
    /// `None` unless the job has historical risk scenarios.
    pub fn historical_file_path(&self, job_file: &Path) -> Option<PathBuf> {
        match &self.analysis.risk.as_ref()?.scenarios {
            ScenarioSpec::Historical(h) => {
                let file = Path::new(&h.file);
                if file.is_absolute() {
                    Some(file.to_path_buf())
                } else {
                    let dir = job_file.parent().unwrap_or_else(|| Path::new(""));
                    Some(dir.join(file))
                }
            }
            ScenarioSpec::MonteCarlo(_) => None,
        }
    }
}
