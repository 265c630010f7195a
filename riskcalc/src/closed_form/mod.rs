//! Closed-form reference prices and risk measures (pure `f64` functions).
//!
//! Analytic benchmarks for validating the Monte Carlo engine:
//!
//! * [`normal`] — standard normal CDF/PDF (via `erfc`, accurate in the
//!   tails) and a ~1e-15 inverse CDF.
//! * [`black_scholes`] — Black–Scholes–Merton price, Greeks and
//!   cash-or-nothing digitals, with continuous dividend yield.
//! * [`asian`] — discrete-fixing geometric-average Asian options.
//! * [`basket`] — geometric basket options on correlated GBM assets.
//! * [`var`] — lognormal value-at-risk and expected shortfall of a single
//!   stock position.
//!
//! None of these functions panic; out-of-domain inputs return `NaN`.

pub mod asian;
pub mod basket;
pub mod black_scholes;
pub mod normal;
pub mod var;

#[cfg(test)]
mod test_quad;

pub use asian::geometric_asian_price;
pub use basket::{GeometricBasket, geometric_basket_price};
pub use black_scholes::{BsInputs, OptionKind, delta, digital_price, gamma, price, rho, theta, vega};
pub use normal::{norm_cdf, norm_inv_ref, norm_pdf};
pub use var::{lognormal_es, lognormal_var};
