//! The gRPC adapter of the scheduler: `riskgrid.v1.JobService` for clients,
//! `riskgrid.v1.WorkerService` for workers, plus the standard health and
//! reflection services, around the synchronous [`crate::Scheduler`].
//!
//! - [`grid`]: the shared state (the scheduler behind one mutex, change and
//!   work notifications, a wall clock, the spec cache);
//! - [`jobs`] / [`workers`]: the two services (validation of every request
//!   field, then one short locked call into the domain);
//! - [`watch`]: a job's event stream for WatchJob and SubmitAndWatch;
//! - [`convert`]: proto ⇄ domain values and identifiers;
//! - [`status`]: the one place mapping [`crate::Error`] to `tonic::Status`;
//! - [`metrics`]: Prometheus `/metrics` (text format) on a separate port;
//! - [`server`]: listening, health, reflection, the tick loop, graceful shutdown;
//! - [`tls`] / [`auth`]: mTLS and who may call what (the one authorization point);
//! - [`admission`]: quotas, Rego admission policies and the audit trail.
//!
//! Identifiers on the wire: jobs `job-7`, tasks `job-7.t12`, workers
//! `w<epoch>-3` (the epoch is the scheduler's start time, so an id handed out
//! before a restart is never mistaken for a new worker). `ReportResults`
//! carries the worker id in the request metadata key [`WORKER_ID_HEADER`].

pub mod admin;
pub mod admission;
pub mod auth;
pub mod convert;
pub mod grid;
pub mod jobs;
pub mod metrics;
pub mod server;
pub mod status;
pub mod tls;
pub mod waiters;
pub mod watch;
pub mod work_stream;
pub mod workers;

pub use grid::{BoxStore, Grid, GridScheduler, WallClock};
pub use server::{
    ServeOptions, check_listen, check_listen_flag, open_scheduler, serve, serve_with_metrics, shutdown_signal,
};

/// Metadata key carrying the worker id on `ReportResults` streams (the
/// stream's messages do not carry it).
pub const WORKER_ID_HEADER: &str = riskgrid_proto::WORKER_ID_METADATA;
