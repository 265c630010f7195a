//! The job file: a YAML (or JSON) description of a risk run.
//!
//! A job file has three sections, `market`, `portfolio` and `analysis`,
//! plus a `seed` (and an optional `name`). See `examples/*.yaml` for
//! commented examples and [`json_schema`] for the machine-readable format.
//!
//! ```text
//! let job = riskcalc::spec::parse_yaml(&text)?;   // parse + validate
//! ```
//!
//! Parsing names the field path of a type error
//! (`portfolio[2].instrument.strike`); [`JobSpec::validate`] then reports
//! every rule violation at once, one `path: reason` line each.

mod error;
pub mod limits;
mod parse;
mod schema;
mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{FieldError, ROOT_PATH, SpecErrors};
pub use parse::{parse_json, parse_named, parse_yaml};
pub use schema::json_schema;
pub use types::{
    AmericanSpec, AnalysisSpec, AsianSpec, Average, BarrierDirection, BarrierSpec, BasketSpec, BermudanSpec, BumpSpec,
    DigitalSpec, EuropeanSpec, Greek, HestonSpec, HistoricalScenarios, InstrumentSpec, JobSpec, Knock, MarketSpec,
    MonteCarloScenarios, OptionKind, ReturnType, RiskSpec, ScenarioSpec, StockSpec, TradeSpec, UnderlyingSpec,
};
