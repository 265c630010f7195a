//! Compiling a validated job spec into numbers the kernels consume.

pub mod compile;
pub mod lsm;
pub mod market;
pub mod trade;

pub use compile::{CompiledJob, CompiledTrade, Estimator, QuantityDef};
pub use market::Market;
