//! The riskgrid worker: registers with a scheduler, takes path-block tasks on
//! one long-lived Work stream (the scheduler keeps it supplied), computes them on a dedicated rayon pool (never on
//! tokio's threads), streams each block's result as soon as it is computed,
//! completes tasks with their compute time, heartbeats (dropping revoked tasks
//! promptly) and reconnects with backoff. On shutdown it drains: it stops
//! leasing, gives back tasks it has not started, lets running ones finish
//! within a grace period, gives back the rest and returns.
//!
//! ```text
//! Work stream ──tasks──▶ compute queue ──▶ runners on the rayon pool (one per thread, task after task):
//!   (compile a job's spec once)            price_trade_block / RiskJob::block
//!                                                  │ each block, as it finishes, then the completion
//!    reporter: ReportResults (client stream) ──ack──▶ completions (batched) up the Work stream ──ack──▶ task ends
//! heartbeat loop: lists in-flight tasks, cancels those the scheduler revoked
//! ```

mod cache;
mod compute;
mod link;
mod reporter;
mod runner;
mod session;
pub mod spot;

pub use session::{COMPUTE_THREAD_PREFIX, WorkerConfig, run};
