//! The riskgrid worker: registers with a scheduler, leases path-block tasks in
//! batches (with prefetch), computes them on a dedicated rayon pool (never on
//! tokio's threads), streams each block's result as soon as it is computed,
//! completes tasks with their compute time, heartbeats (dropping revoked tasks
//! promptly) and reconnects with backoff. On shutdown it drains: it stops
//! leasing, gives back tasks it has not started, lets running ones finish
//! within a grace period, gives back the rest and returns.
//!
//! ```text
//! lease loop ──tasks──▶ compute queue ──▶ runners on the rayon pool (one per thread, task after task):
//!   (compile a job's spec once)            price_trade_block / RiskJob::block
//!                                                  │ each block, as it finishes, then the completion
//!                   reporter: ReportResults (client stream) ──ack──▶ CompleteTask (batched) ──▶ task ends
//! heartbeat loop: lists in-flight tasks, cancels those the scheduler revoked
//! ```

mod compute;
mod reporter;
mod runner;
mod session;
pub mod spot;

pub use session::{WorkerConfig, run};
