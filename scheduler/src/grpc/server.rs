//! Serving: listen (off loopback only with mTLS, or when explicitly forced),
//! register JobService, WorkerService, health and reflection, tick the
//! scheduler, and stop gracefully on SIGTERM or Ctrl-C.

use super::admin::Admin;
use super::grid::{BoxStore, Grid, GridScheduler, WallClock};
use super::jobs::Jobs;
use super::workers::Workers;
use crate::burst::Capacity;
use crate::config::SchedulerConfig;
use crate::error::Error;
use crate::sqlite_store::SqliteStore;
use crate::store::NoStore;
use riskgrid_proto::v1::capacity_service_server::CapacityServiceServer;
use riskgrid_proto::v1::job_service_server::JobServiceServer;
use riskgrid_proto::v1::worker_service_server::WorkerServiceServer;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;

/// How the scheduler serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub config: SchedulerConfig,
    /// SQLite file for durable state; `None` keeps everything in memory.
    pub db: Option<PathBuf>,
    /// How often leases and workers are checked for expiry.
    pub tick: Duration,
    /// The burst capacity controller (policy, backend); `None`: no policy, nothing scales.
    pub capacity: Option<Capacity>,
    /// mTLS (issue #5): the server's certificate and the CA clients must chain to; `None`: plain HTTP/2.
    pub tls: Option<super::tls::ServerTls>,
    /// Quotas, admission policies and the audit log (issue #5).
    pub guard: super::admission::Guard,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            config: SchedulerConfig::default(),
            db: None,
            tick: Duration::from_millis(200),
            capacity: None,
            tls: None,
            guard: super::admission::Guard::default(),
        }
    }
}

/// Refuses to listen beyond loopback without TLS, unless explicitly allowed.
pub fn check_listen(addr: SocketAddr, insecure_listen_anywhere: bool) -> Result<(), String> {
    check_listen_flag("--listen", addr, insecure_listen_anywhere)
}

/// [`check_listen`] for the address given to `flag` (e.g. `--metrics-listen`).
pub fn check_listen_flag(flag: &str, addr: SocketAddr, insecure_listen_anywhere: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || insecure_listen_anywhere {
        Ok(())
    } else {
        Err(format!(
            "{flag} {addr}: refusing to serve off loopback without TLS; give --tls-cert, --tls-key and \
             --tls-client-ca, or pass --insecure-listen-anywhere to do it anyway on a trusted network"
        ))
    }
}

/// A scheduler over the chosen store, resuming whatever the store holds.
pub fn open_scheduler(options: &ServeOptions) -> Result<GridScheduler, Error> {
    let store: BoxStore = match &options.db {
        Some(path) => BoxStore(Box::new(SqliteStore::open(path).map_err(|e| Error::Store(e.0))?)),
        None => BoxStore(Box::new(NoStore)),
    };
    GridScheduler::recover(options.config.clone(), WallClock::new(), store)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight calls.
pub async fn serve(
    listener: TcpListener,
    scheduler: GridScheduler,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    serve_with_metrics(listener, None, scheduler, options, shutdown).await
}

/// [`serve`], plus Prometheus `/metrics` on `metrics` when given (see [`super::metrics`]).
pub async fn serve_with_metrics(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    scheduler: GridScheduler,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let grid = Grid::with_guard(scheduler, options.config.lease_ms, options.guard.clone());
    let auditor =
        options.guard.audit.is_some().then(|| tokio::spawn(super::admission::audit_completions(Arc::clone(&grid))));
    let scraper = metrics.map(|l| tokio::spawn(super::metrics::serve_metrics(l, Arc::clone(&grid))));
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<JobServiceServer<Jobs>>().await;
    health.set_serving::<WorkerServiceServer<Workers>>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(riskgrid_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1();
    let reflection_v1alpha = reflection().build_v1alpha();
    let ticker = tokio::spawn(tick_loop(Arc::clone(&grid), options.tick));
    let capacity = options.capacity.clone().unwrap_or_else(|| Capacity::without_backend(None));
    let controller = capacity.start(Arc::clone(&grid));
    health.set_serving::<CapacityServiceServer<Admin>>().await;
    let closing = Arc::clone(&grid);
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &options.tls {
        builder = builder.tls_config(tls.config())?;
    }
    let mut router = builder
        .layer(super::auth::AuthLayer::new(options.tls.is_some()))
        .add_service(health_service)
        .add_service(JobServiceServer::new(Jobs::new(Arc::clone(&grid))))
        .add_service(WorkerServiceServer::new(Workers::new(Arc::clone(&grid))))
        .add_service(CapacityServiceServer::new(Admin::new(Arc::clone(&grid), capacity)));
    if let Ok(r) = reflection_v1 {
        router = router.add_service(r);
    }
    if let Ok(r) = reflection_v1alpha {
        router = router.add_service(r);
    }
    // TCP_NODELAY: without it, Nagle's algorithm holds a response's trailing
    // HTTP/2 frames until the peer's delayed ACK (~40 ms per RPC on Linux).
    // WriteOnFlush: what h2 writes in one flush leaves in one write (riskgrid_proto::transport).
    let incoming = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .map(|accepted| accepted.map(riskgrid_proto::transport::WriteOnFlush::new));
    let result = router
        .serve_with_incoming_shutdown(incoming, async {
            shutdown.await;
            tracing::info!("shutting down");
            closing.close();
            health.set_not_serving::<JobServiceServer<Jobs>>().await;
        })
        .await;
    ticker.abort();
    if let Some(a) = auditor {
        a.abort();
    }
    if let Some(c) = controller {
        c.abort();
    }
    if let Some(s) = scraper {
        s.abort();
    }
    result
}

/// Expires leases and silent workers; wakes workers and watchers when that frees work.
async fn tick_loop(grid: Arc<Grid>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let report = grid.lock().sched.tick();
        grid.log_ended();
        match report {
            Ok(r) => {
                if !r.jobs_purged.is_empty() {
                    grid.lock().forget(&r.jobs_purged);
                }
                for w in &r.workers_lost {
                    tracing::warn!(worker = %w, "worker lost (silent too long); its tasks go back to the queue");
                }
                for t in &r.expired {
                    tracing::info!(task = %t, job = %t.job, "lease expired; task requeued");
                }
                if !(r.expired.is_empty() && r.workers_lost.is_empty() && r.jobs_finished.is_empty()) {
                    grid.work_available();
                    grid.changed();
                }
            }
            Err(e) => tracing::error!("tick failed: {e}"),
        }
    }
}
