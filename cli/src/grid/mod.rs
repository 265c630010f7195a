//! The grid commands: `scheduler` and `worker` serve; `submit`, `watch`,
//! `result`, `cancel` and `jobs` talk to a scheduler's JobService.

pub mod client;
pub mod serve;

use crate::exit::Failure;
use anyhow::Context;
use std::future::Future;

/// Runs `f` on a fresh tokio runtime (the CLI is synchronous elsewhere).
pub fn block_on<T>(threads: usize, f: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(f)
}

/// Structured logs on stderr (`RISKGRID_LOG=debug` for more).
pub fn init_logging() {
    let level = match std::env::var("RISKGRID_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("warn") => tracing::Level::WARN,
        Ok("error") => tracing::Level::ERROR,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).with_target(false).try_init();
}

/// A server's answer as the CLI reports it: bad input (the message names the
/// field) exits 2, anything else 1.
pub fn status_failure(status: tonic::Status) -> Failure {
    use tonic::Code;
    match status.code() {
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied => Failure::Input(status.message().to_owned()),
        code => Failure::Other(anyhow::anyhow!("{}: {}", code.description(), status.message())),
    }
}
