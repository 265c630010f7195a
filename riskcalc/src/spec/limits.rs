//! Hard limits enforced by [`JobSpec::validate`](super::JobSpec::validate).
//!
//! They exist to refuse job files that are certainly mistakes (a stray zero
//! in `paths`, a maturity typed in days instead of years) or that would tie
//! up a machine for longer than any sensible run, before any work starts.

/// Largest accepted `analysis.paths` (10^12).
pub const MAX_PATHS: u64 = 1_000_000_000_000;

/// Largest number of underlyings one trade (a basket) may reference.
pub const MAX_ASSETS_PER_TRADE: usize = 64;

/// Largest number of underlyings in `market.underlyings`.
pub const MAX_UNDERLYINGS: usize = 1024;

/// Largest number of trades in `portfolio`.
pub const MAX_TRADES: usize = 100_000;

/// Largest number of time steps (and of fixings, monitoring or exercise
/// dates) for one instrument.
pub const MAX_STEPS: u32 = 100_000;

/// Largest number of Monte Carlo risk scenarios.
pub const MAX_SCENARIOS: u32 = 10_000_000;

/// Largest number of inner (revaluation) paths per risk scenario.
pub const MAX_INNER_PATHS: u32 = 1_000_000;

/// Smallest accepted `analysis.calibration_paths`.
pub const MIN_CALIBRATION_PATHS: u32 = 1024;

/// Largest accepted `analysis.calibration_paths` (2^22).
pub const MAX_CALIBRATION_PATHS: u32 = 4_194_304;

/// Smallest accepted `analysis.block_size`.
pub const MIN_BLOCK_SIZE: u32 = 64;

/// Largest accepted `analysis.block_size` (2^20).
pub const MAX_BLOCK_SIZE: u32 = 1_048_576;

/// `analysis.block_size` must be a multiple of this (SIMD lane width).
pub const BLOCK_SIZE_MULTIPLE: u32 = 8;

const _: () = assert!(MIN_BLOCK_SIZE.is_multiple_of(BLOCK_SIZE_MULTIPLE));
const _: () = assert!(MAX_BLOCK_SIZE.is_multiple_of(BLOCK_SIZE_MULTIPLE));

/// Largest accepted option maturity, in years.
pub const MAX_MATURITY: f64 = 100.0;

/// Largest accepted risk horizon, in trading days (five years).
pub const MAX_HORIZON_DAYS: f64 = 252.0 * 5.0;

/// Largest accepted `analysis.risk.scenario_block`.
pub const MAX_SCENARIO_BLOCK: u32 = 65_536;

/// Upper bound on estimated work, `paths × Σ_trades(steps × assets)`
/// (and, for Monte Carlo risk, `scenarios × inner_paths × Σ_trades(steps × assets)`).
pub const MAX_WORK: u128 = 10_000_000_000_000_000;

/// Trading days per year, used to turn `horizon_days` into years.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// Calendar days per year, used to turn `bumps.theta_days` into years.
pub const CALENDAR_DAYS_PER_YEAR: f64 = 365.0;

/// Tolerance for the symmetry check of `market.correlation`.
pub const CORRELATION_SYMMETRY_TOL: f64 = 1e-12;

/// Smallest eigenvalue accepted for `market.correlation` (positive
/// semi-definiteness up to rounding).
pub const CORRELATION_MIN_EIGENVALUE: f64 = -1e-10;
