//! The grid commands: `scheduler` and `worker` serve; `submit`, `watch`,
//! `result`, `cancel` and `jobs` talk to a scheduler's JobService.

pub mod affinity;
pub mod client;
pub mod config_file;
pub mod embedded;
pub mod security;
pub mod serve;
pub mod tls;

use crate::exit::Failure;
use anyhow::Context;
use std::future::Future;

/// Runs `f` on a fresh tokio runtime (the CLI is synchronous elsewhere).
pub fn block_on<T>(threads: usize, f: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    // One thread: a current-thread runtime, where every task runs on this
    // thread, so handing a message from one task to another (an RPC's
    // connection to the code awaiting it) costs no cross-thread wake-up.
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    }
    .context("starting the async runtime")?;
    rt.block_on(f)
}

/// Structured logs on stderr. `RUST_LOG` takes tracing-subscriber's filter
/// directives (e.g. `RUST_LOG=info,riskgrid_scheduler=debug`); without it,
/// `RISKGRID_LOG=debug|warn|error|trace` sets one level (default: info).
pub fn init_logging() {
    let level = match std::env::var("RISKGRID_LOG").as_deref() {
        Ok("debug") => "debug",
        Ok("warn") => "warn",
        Ok("error") => "error",
        Ok("trace") => "trace",
        _ => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// A server's answer as the CLI reports it: bad input (the message names the
/// field) exits 2, anything else 1.
pub fn status_failure(status: tonic::Status) -> Failure {
    use tonic::Code;
    match status.code() {
        // The request was refused for what it asks (bad field, unknown job, not allowed,
        // over quota): exit 2, like any bad input, with the server's reason.
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied | Code::ResourceExhausted => {
            Failure::Input(status.message().to_owned())
        }
        code => Failure::Other(anyhow::anyhow!("{}: {}", code.description(), status.message())),
    }
}
