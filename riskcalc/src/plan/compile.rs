//! Spec → plans: resolves names, precomputes per-step constants, lays out the
//! bump-and-revalue states and the estimators that turn them into Greeks.

use super::lsm;
use super::market::{Market, Model};
use super::trade::{AssetState, Dynamics, Payoff, StateParams, TradePlan};
use crate::kernel::Isa;
use crate::kernel::path::{exp_f64, ln_f64};
use crate::rng::stream::{Purpose, StreamId};
use crate::spec::{Average, BarrierDirection, BumpSpec, Greek, InstrumentSpec, JobSpec, Knock, OptionKind, TradeSpec};

/// Calendar days per year for theta.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// How a per-path quantity is formed from the per-path values of the states.
#[derive(Debug, Clone, PartialEq)]
pub enum Estimator {
    /// The value of one state.
    Value { state: usize },
    /// (V_up − V_down) · scale.
    CentralDiff { up: usize, down: usize, scale: f64 },
    /// (V_up − 2V_mid + V_down) · scale.
    SecondDiff { up: usize, mid: usize, down: usize, scale: f64 },
    /// (V_shifted − V_base) · scale.
    ForwardDiff { shifted: usize, base: usize, scale: f64 },
}

impl Estimator {
    /// The estimate for one path, given `value(state)`.
    #[inline]
    pub fn eval(&self, value: impl Fn(usize) -> f64) -> f64 {
        match *self {
            Estimator::Value { state } => value(state),
            Estimator::CentralDiff { up, down, scale } => (value(up) - value(down)) * scale,
            Estimator::SecondDiff { up, mid, down, scale } => (value(up) - 2.0 * value(mid) + value(down)) * scale,
            Estimator::ForwardDiff { shifted, base, scale } => (value(shifted) - value(base)) * scale,
        }
    }
}

/// A named per-path quantity: `price`, `delta.SPX`, `rho`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityDef {
    pub name: String,
    pub estimator: Estimator,
}

/// One trade, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledTrade {
    pub id: String,
    pub kind: &'static str,
    pub quantity: f64,
    pub plan: TradePlan,
    /// `quantities[0]` is always the price.
    pub quantities: Vec<QuantityDef>,
}

/// The instrument's terms, resolved against a market.
#[derive(Debug, Clone)]
struct Terms {
    assets: Vec<usize>,
    maturity: f64,
    steps: u32,
    obs: u32,
    payoff: Payoff,
}

fn is_call(k: OptionKind) -> bool {
    k == OptionKind::Call
}

fn terms(instrument: &InstrumentSpec, market: &Market) -> Terms {
    let idx = |id: &str| market.index_of(id).unwrap_or(0);
    let (assets, maturity, obs, payoff) = match instrument {
        InstrumentSpec::Stock(s) => (vec![idx(&s.underlying)], 0.0, 1, Payoff::Stock),
        InstrumentSpec::European(s) => {
            (vec![idx(&s.underlying)], s.maturity, 1, Payoff::Vanilla { call: is_call(s.option), strike: s.strike })
        }
        InstrumentSpec::Digital(s) => (
            vec![idx(&s.underlying)],
            s.maturity,
            1,
            Payoff::Digital { call: is_call(s.option), strike: s.strike, cash: s.cash },
        ),
        InstrumentSpec::Asian(s) => (
            vec![idx(&s.underlying)],
            s.maturity,
            s.fixings,
            Payoff::Asian { call: is_call(s.option), strike: s.strike, geometric: s.average == Average::Geometric },
        ),
        InstrumentSpec::Barrier(s) => (
            vec![idx(&s.underlying)],
            s.maturity,
            s.monitoring,
            Payoff::Barrier {
                call: is_call(s.option),
                strike: s.strike,
                up: s.direction == BarrierDirection::Up,
                knock_in: s.knock == Knock::In,
                log_barrier: ln_f64(s.barrier),
            },
        ),
        InstrumentSpec::Basket(s) => (
            s.underlyings.iter().map(|u| idx(u)).collect(),
            s.maturity,
            1,
            Payoff::Basket {
                call: is_call(s.option),
                strike: s.strike,
                weights: s.weights.clone(),
                geometric: s.average == Average::Geometric,
            },
        ),
        InstrumentSpec::American(s) => (
            vec![idx(&s.underlying)],
            s.maturity,
            s.exercise_dates,
            Payoff::Exercise { call: is_call(s.option), strike: s.strike, coeffs: Vec::new() },
        ),
        InstrumentSpec::Bermudan(s) => (
            vec![idx(&s.underlying)],
            s.maturity,
            s.exercise_dates,
            Payoff::Exercise { call: is_call(s.option), strike: s.strike, coeffs: Vec::new() },
        ),
    };
    let heston = assets.iter().any(|&a| matches!(market.assets[a].model, Model::Heston { .. }));
    let steps = match instrument.steps() {
        Some(steps) => steps,
        // GBM is simulated exactly between observation dates; Heston's Euler
        // scheme needs about weekly steps.
        None if heston => obs * ((52.0 * maturity / f64::from(obs)).ceil() as u32).max(1),
        None => obs,
    };
    Terms { assets, maturity, steps, obs, payoff }
}

/// The per-step constants of one market at one maturity.
fn state(market: &Market, t: &Terms, maturity: f64) -> StateParams {
    let r = market.rate;
    let dt = maturity / f64::from(t.steps.max(1));
    let assets = t
        .assets
        .iter()
        .map(|&i| {
            let a = &market.assets[i];
            let dynamics = match a.model {
                Model::Gbm { vol } => {
                    Dynamics::Gbm { drift_dt: (r - a.dividend - 0.5 * vol * vol) * dt, vol_sqrt_dt: vol * dt.sqrt() }
                }
                Model::Heston { v0, kappa, theta, xi, rho } => Dynamics::Heston {
                    v0,
                    carry_dt: (r - a.dividend) * dt,
                    dt,
                    kappa_dt: kappa * dt,
                    theta,
                    xi,
                    rho,
                    rho_bar: (1.0 - rho * rho).max(0.0).sqrt(),
                },
            };
            AssetState { log_spot: ln_f64(a.spot), spot: a.spot, dynamics }
        })
        .collect();
    let obs_discount = (1..=t.obs).map(|k| exp_f64(-r * maturity * f64::from(k) / f64::from(t.obs))).collect();
    StateParams { assets, discount: exp_f64(-r * maturity), obs_discount }
}

fn bumped(market: &Market, asset: usize, f: impl FnOnce(&mut crate::plan::market::Asset)) -> Market {
    let mut m = market.clone();
    f(&mut m.assets[asset]);
    m
}

/// Builds the base state, one state per bump, and the estimators.
fn states_and_quantities(
    market: &Market,
    t: &Terms,
    greeks: &[Greek],
    bumps: &BumpSpec,
) -> (Vec<StateParams>, Vec<QuantityDef>) {
    let mut states = vec![state(market, t, t.maturity)];
    let mut quantities = vec![QuantityDef { name: "price".into(), estimator: Estimator::Value { state: 0 } }];
    let push = |states: &mut Vec<StateParams>, m: &Market, maturity: f64| {
        states.push(state(m, t, maturity));
        states.len() - 1
    };
    for greek in greeks {
        match greek {
            Greek::Delta | Greek::Gamma => {
                for &i in &t.assets {
                    let s0 = market.assets[i].spot;
                    let h = bumps.spot_rel * s0;
                    let up = push(&mut states, &bumped(market, i, |a| a.spot = s0 + h), t.maturity);
                    let down = push(&mut states, &bumped(market, i, |a| a.spot = s0 - h), t.maturity);
                    let id = &market.assets[i].id;
                    let (name, estimator) = if *greek == Greek::Delta {
                        ("delta", Estimator::CentralDiff { up, down, scale: 1.0 / (2.0 * h) })
                    } else {
                        ("gamma", Estimator::SecondDiff { up, mid: 0, down, scale: 1.0 / (h * h) })
                    };
                    quantities.push(QuantityDef { name: format!("{name}.{id}"), estimator });
                }
            }
            Greek::Vega => {
                for &i in &t.assets {
                    let model = &market.assets[i].model;
                    let vol = model.spot_vol();
                    let dv = bumps.vol_abs;
                    let up =
                        push(&mut states, &bumped(market, i, |a| a.model = model.with_spot_vol(vol + dv)), t.maturity);
                    // Never below zero volatility: shrink the down bump and rescale.
                    let down_vol = (vol - dv).max(0.0);
                    let down =
                        push(&mut states, &bumped(market, i, |a| a.model = model.with_spot_vol(down_vol)), t.maturity);
                    let id = &market.assets[i].id;
                    quantities.push(QuantityDef {
                        name: format!("vega.{id}"),
                        estimator: Estimator::CentralDiff { up, down, scale: 1.0 / (vol + dv - down_vol) },
                    });
                }
            }
            Greek::Rho => {
                let dr = bumps.rate_abs;
                let mut m = market.clone();
                m.rate = market.rate + dr;
                let up = push(&mut states, &m, t.maturity);
                m.rate = market.rate - dr;
                let down = push(&mut states, &m, t.maturity);
                quantities.push(QuantityDef {
                    name: "rho".into(),
                    estimator: Estimator::CentralDiff { up, down, scale: 1.0 / (2.0 * dr) },
                });
            }
            Greek::Theta => {
                let dt = bumps.theta_days / DAYS_PER_YEAR;
                let shifted = push(&mut states, market, (t.maturity - dt).max(0.0));
                quantities.push(QuantityDef {
                    name: "theta".into(),
                    estimator: Estimator::ForwardDiff { shifted, base: 0, scale: 1.0 / dt },
                });
            }
        }
    }
    (states, quantities)
}

/// Compiles one trade against `market` (the job's, or a scenario's), fitting
/// the early-exercise rule of American/Bermudan trades on calibration paths.
pub fn compile_trade(
    trade: &TradeSpec,
    market: &Market,
    greeks: &[Greek],
    bumps: &BumpSpec,
    calibration_paths: u32,
    seed: u64,
    isa: Isa,
) -> CompiledTrade {
    let mut compiled = compile_trade_uncalibrated(trade, market, greeks, bumps);
    if let Payoff::Exercise { call, strike, .. } = compiled.plan.payoff {
        let calibration_stream = StreamId::derive(Purpose::Calibration, &trade.id).0;
        let coeffs = lsm::calibrate(&compiled.plan, calibration_stream, calibration_paths, seed, isa);
        compiled.plan.payoff = Payoff::Exercise { call, strike, coeffs };
    }
    compiled
}

/// As [`compile_trade`] but leaves early-exercise coefficients empty (never
/// exercise before maturity) for the caller to fill, e.g. with coefficients
/// fitted once and reused across risk scenarios.
pub fn compile_trade_uncalibrated(
    trade: &TradeSpec,
    market: &Market,
    greeks: &[Greek],
    bumps: &BumpSpec,
) -> CompiledTrade {
    let t = terms(&trade.instrument, market);
    let (states, quantities) = states_and_quantities(market, &t, greeks, bumps);
    let n_obs = t.obs as usize;
    let payoff = match t.payoff {
        Payoff::Exercise { call, strike, .. } => {
            Payoff::Exercise { call, strike, coeffs: vec![[f64::INFINITY, 0.0, 0.0]; n_obs.saturating_sub(1)] }
        }
        other => other,
    };
    let plan = TradePlan {
        stream: StreamId::derive(Purpose::Pricing, &trade.id).0,
        chol: market.cholesky(&t.assets),
        n_assets: t.assets.len(),
        steps: t.steps,
        obs_every: t.steps / t.obs,
        payoff,
        states,
    };
    CompiledTrade {
        id: trade.id.clone(),
        kind: trade.instrument.kind_name(),
        quantity: trade.quantity,
        plan,
        quantities,
    }
}

/// A job compiled for simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledJob {
    pub seed: u64,
    pub paths: u64,
    pub block_size: u32,
    /// Stop once every trade's price standard error is at most this.
    pub target_std_error: Option<f64>,
    pub market: Market,
    pub trades: Vec<CompiledTrade>,
}

impl CompiledJob {
    /// Compiles a validated spec. `isa` only chooses how fast the
    /// Longstaff–Schwartz calibration runs, never its result.
    pub fn compile(spec: &JobSpec, isa: Isa) -> CompiledJob {
        let market = Market::from_spec(spec);
        let a = &spec.analysis;
        let trades = spec
            .portfolio
            .iter()
            .map(|t| compile_trade(t, &market, &a.greeks, &a.bumps, a.calibration_paths, spec.seed, isa))
            .collect();
        CompiledJob {
            seed: spec.seed,
            paths: a.paths,
            block_size: a.block_size,
            target_std_error: a.target_std_error,
            market,
            trades,
        }
    }

    /// Number of path blocks; the last may be partial.
    pub fn n_blocks(&self) -> u64 {
        self.paths.div_ceil(u64::from(self.block_size))
    }

    /// Blocks merged before the early-stop rule is first checked, so that the
    /// standard errors it compares are estimated from enough paths.
    pub const MIN_BLOCKS_BEFORE_STOP: u64 = 8;

    /// Whether the early-stop target is met by these merged totals. Checked
    /// after each block in block order, so the stopping block is a function of
    /// the job alone, never of scheduling.
    pub fn target_met(&self, acc: &crate::engine::Accumulator) -> bool {
        let Some(target) = self.target_std_error else { return false };
        let blocks = acc.complete_blocks();
        blocks >= Self::MIN_BLOCKS_BEFORE_STOP.min(self.n_blocks())
            && (0..self.trades.len()).all(|t| acc.totals(t).first().is_some_and(|m| m.std_error() <= target))
    }

    /// Paths in block `b`.
    pub fn block_paths(&self, b: u64) -> u32 {
        let start = b * u64::from(self.block_size);
        (self.paths - start).min(u64::from(self.block_size)) as u32
    }
}
