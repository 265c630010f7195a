//! Full revaluation of one trade in one market: closed form where one exists,
//! nested Monte Carlo otherwise.

use crate::closed_form::black_scholes::{self, BsInputs};
use crate::engine::moments::Moments;
use crate::kernel::Isa;
use crate::kernel::dispatch::simulate_block;
use crate::kernel::path::{BlockOut, padded};
use crate::plan::Market;
use crate::plan::compile::{CompiledTrade, compile_trade, compile_trade_uncalibrated};
use crate::plan::market::Model;
use crate::plan::trade::Payoff;
use crate::rng::RoundKeys;
use crate::rng::stream::{Purpose, StreamId};
use crate::spec::{BumpSpec, InstrumentSpec, OptionKind, TradeSpec};

/// How a trade is revalued under a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// A holding of underlying `asset`.
    Stock { asset: usize },
    /// Black–Scholes (European) or its digital, for a GBM underlying.
    BlackScholes { asset: usize, kind: OptionKind, strike: f64, maturity: f64, digital_cash: Option<f64> },
    /// Nested Monte Carlo on `inner_paths` paths of one fixed stream (common
    /// random numbers across scenarios). Early-exercise coefficients are fitted
    /// once at the base market and reused in every scenario.
    Nested { spec: TradeSpec, coeffs: Option<Vec<[f64; 3]>>, stream: u32 },
}

/// The trade with `horizon` years of its life gone. Path-dependent terms are
/// kept as written (see ARCHITECTURE.md: fixings or barrier touches during the
/// horizon are not simulated).
pub fn aged(trade: &TradeSpec, horizon: f64) -> TradeSpec {
    let mut t = trade.clone();
    match &mut t.instrument {
        InstrumentSpec::Stock(_) => {}
        InstrumentSpec::European(s) => s.maturity -= horizon,
        InstrumentSpec::Digital(s) => s.maturity -= horizon,
        InstrumentSpec::Asian(s) => s.maturity -= horizon,
        InstrumentSpec::Barrier(s) => s.maturity -= horizon,
        InstrumentSpec::Basket(s) => s.maturity -= horizon,
        InstrumentSpec::American(s) => s.maturity -= horizon,
        InstrumentSpec::Bermudan(s) => s.maturity -= horizon,
    }
    t
}

impl Method {
    /// Chooses the method for `trade` (already aged to the horizon).
    pub fn choose(trade: &TradeSpec, market: &Market, calibration_paths: u32, seed: u64, isa: Isa) -> Method {
        let idx = |id: &str| market.index_of(id).unwrap_or(0);
        let gbm = |a: usize| matches!(market.assets[a].model, Model::Gbm { .. });
        match &trade.instrument {
            InstrumentSpec::Stock(s) => {
                return Method::Stock { asset: idx(&s.underlying) };
            }
            InstrumentSpec::European(s) if gbm(idx(&s.underlying)) => {
                return Method::BlackScholes {
                    asset: idx(&s.underlying),
                    kind: s.option,
                    strike: s.strike,
                    maturity: s.maturity,
                    digital_cash: None,
                };
            }
            InstrumentSpec::Digital(s) if gbm(idx(&s.underlying)) => {
                return Method::BlackScholes {
                    asset: idx(&s.underlying),
                    kind: s.option,
                    strike: s.strike,
                    maturity: s.maturity,
                    digital_cash: Some(s.cash),
                };
            }
            _ => {}
        }
        let compiled = compile_trade(trade, market, &[], &BumpSpec::default(), calibration_paths, seed, isa);
        let coeffs = match compiled.plan.payoff {
            Payoff::Exercise { coeffs, .. } => Some(coeffs),
            _ => None,
        };
        Method::Nested { spec: trade.clone(), coeffs, stream: StreamId::derive(Purpose::Revaluation, &trade.id).0 }
    }

    /// Value of one unit in `market`.
    pub fn value(&self, market: &Market, inner_paths: u32, seed: u64, isa: Isa) -> f64 {
        match self {
            Method::Stock { asset } => market.assets[*asset].spot,
            Method::BlackScholes { asset, kind, strike, maturity, digital_cash } => {
                let a = &market.assets[*asset];
                let inputs = BsInputs {
                    spot: a.spot,
                    strike: *strike,
                    rate: market.rate,
                    dividend: a.dividend,
                    vol: a.model.spot_vol(),
                    maturity: *maturity,
                };
                let kind = match kind {
                    OptionKind::Call => black_scholes::OptionKind::Call,
                    OptionKind::Put => black_scholes::OptionKind::Put,
                };
                match digital_cash {
                    Some(cash) => black_scholes::digital_price(kind, &inputs, *cash),
                    None => black_scholes::price(kind, &inputs),
                }
            }
            Method::Nested { spec, coeffs, stream } => {
                let mut trade: CompiledTrade = compile_trade_uncalibrated(spec, market, &[], &BumpSpec::default());
                trade.plan.stream = *stream;
                if let (Payoff::Exercise { coeffs: c, .. }, Some(fitted)) = (&mut trade.plan.payoff, coeffs) {
                    c.clone_from(fitted);
                }
                let n = inner_paths as usize;
                let mut values = vec![0.0; padded(n)];
                let out = BlockOut { values: &mut values, n_paths: n };
                simulate_block(isa, &trade.plan, &RoundKeys::from_seed(seed), 0, out);
                Moments::of_slots(&values, n).mean()
            }
        }
    }
}
