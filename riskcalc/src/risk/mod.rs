//! Value-at-risk and expected shortfall by full revaluation.
//!
//! Each scenario moves the market to the horizon; every position is revalued
//! (closed form where one exists, nested Monte Carlo otherwise) and its P&L
//! against today's value recorded. Scenarios are grouped in fixed blocks whose
//! P&L vectors are concatenated in block order, so the result does not depend
//! on how blocks were scheduled.

pub mod job;
pub mod measures;
pub mod revalue;
pub mod scenarios;

pub use job::{RiskJob, ScenarioBlock, ScenarioSource, run_risk};
pub use measures::{RiskLevel, RiskReport};
