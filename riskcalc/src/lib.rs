//! riskcalc: a bit-reproducible Monte Carlo risk engine.
//!
//! Pure library: no async runtime, no network, no file access. Callers pass
//! text in and get values out; a worker, the CLI and tests all run the same code.

pub mod closed_form;
pub mod engine;
pub mod kernel;
pub mod plan;
pub mod risk;
pub mod rng;
pub mod spec;
