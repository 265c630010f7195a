//! Running a compiled job: blocks → moments → ordered merge → report.

pub mod accumulate;
pub mod block;
pub mod moments;
pub mod report;
pub mod run;

pub use accumulate::{Accumulator, Merge};
pub use block::{TradeBlock, price_block, price_trade_block};
pub use moments::Moments;
pub use report::{Estimate, PortfolioReport, PricingReport, TradeReport};
pub use run::{Progress, run_pricing};
