//! The reconcile loop and its shared state.

use crate::grpc::grid::Grid;
use riskgrid_capacity::{
    BurstPolicy, CapacityAction, CapacityBackend, ControllerMemory, Demand, GroupTarget, Observed, decide,
};
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// What one reconcile saw, decided and did (served by `GetCapacity`).
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    pub at_unix_ms: u64,
    pub observed: Observed,
    pub demand: Demand,
    pub desired_cores: u64,
    pub targets: Vec<GroupTarget>,
    pub actions: Vec<CapacityAction>,
    pub reasons: Vec<String>,
    /// Actions the backend refused or failed (retried at the next reconcile).
    pub errors: Vec<String>,
    pub usd_per_hour: f64,
}

type Runner = Arc<dyn Fn(Arc<Grid>, Capacity) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

struct State {
    policy: Option<BurstPolicy>,
    memory: ControllerMemory,
    last: Option<ReconcileReport>,
}

/// The controller's shared handle: the policy in force, the last report, and
/// how to start the loop on a backend. Cheap to clone.
#[derive(Clone)]
pub struct Capacity {
    state: Arc<Mutex<State>>,
    nudge: Arc<Notify>,
    backend: &'static str,
    runner: Option<Runner>,
}

impl fmt::Debug for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capacity").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Capacity {
    /// No backend: the policy can be read, set and planned with, nothing scales.
    pub fn without_backend(policy: Option<BurstPolicy>) -> Self {
        Capacity {
            state: Arc::new(Mutex::new(State { policy, memory: ControllerMemory::default(), last: None })),
            nudge: Arc::new(Notify::new()),
            backend: "none",
            runner: None,
        }
    }

    /// A controller that reconciles `backend` every `period` once started.
    pub fn with_backend<B: CapacityBackend + 'static>(policy: BurstPolicy, backend: B, period: Duration) -> Self {
        let backend = Arc::new(backend);
        let name = backend.name();
        let runner: Runner = Arc::new(move |grid, capacity| {
            let backend = Arc::clone(&backend);
            Box::pin(async move { run(grid, backend, capacity, period).await })
        });
        Capacity { backend: name, runner: Some(runner), ..Capacity::without_backend(Some(policy)) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend
    }

    pub fn policy(&self) -> Option<BurstPolicy> {
        self.lock().policy.clone()
    }

    pub fn last_report(&self) -> Option<ReconcileReport> {
        self.lock().last.clone()
    }

    /// Replaces the policy (already validated and audited by the caller) and reconciles at once.
    pub fn set_policy(&self, policy: BurstPolicy) {
        self.lock().policy = Some(policy);
        self.nudge.notify_one();
    }

    /// Starts the reconcile loop, if there is a backend.
    pub fn start(&self, grid: Arc<Grid>) -> Option<tokio::task::JoinHandle<()>> {
        let runner = self.runner.clone()?;
        Some(tokio::spawn(runner(grid, self.clone())))
    }
}

async fn run<B: CapacityBackend>(grid: Arc<Grid>, backend: Arc<B>, capacity: Capacity, period: Duration) {
    tracing::info!(backend = backend.name(), ?period, "capacity controller started");
    loop {
        reconcile_once(&grid, backend.as_ref(), &capacity).await;
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = capacity.nudge.notified() => {}
        }
    }
}

/// One reconcile: observe, decide, apply, record.
pub async fn reconcile_once<B: CapacityBackend>(
    grid: &Grid,
    backend: &B,
    capacity: &Capacity,
) -> Option<ReconcileReport> {
    let (policy, memory) = {
        let s = capacity.lock();
        (s.policy.clone()?, s.memory.clone())
    };
    let observed = match backend.observe().await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(backend = backend.name(), "cannot observe capacity: {e}");
            return None;
        }
    };
    let demand = grid.lock().sched.capacity_demand();
    let now = grid.now();
    let decision = decide(&observed, &demand, &policy, &memory, now);
    let mut errors = Vec::new();
    for action in &decision.actions {
        if let Err(e) = backend.apply(action.clone()).await {
            tracing::warn!(backend = backend.name(), ?action, "capacity action failed: {e}");
            errors.push(format!("{action:?}: {e}"));
        }
    }
    if !decision.actions.is_empty() {
        tracing::info!(actions = decision.actions.len(), reasons = ?decision.reasons, "capacity changed");
        let details = serde_json::json!({
            "backend": backend.name(),
            "actions": decision.actions,
            "reasons": decision.reasons,
            "failed": errors,
            "usd_per_hour": decision.usd_per_hour,
        });
        if let Err(e) =
            grid.guard.record(riskgrid_security::audit::Kind::CapacityChange, "capacity-controller", details)
        {
            tracing::error!("capacity change not audited: {}", e.message());
        }
    }
    let report = ReconcileReport {
        at_unix_ms: now,
        observed,
        demand,
        desired_cores: decision.desired_cores,
        targets: decision.targets,
        actions: decision.actions,
        reasons: decision.reasons,
        errors,
        usd_per_hour: decision.usd_per_hour,
    };
    let mut s = capacity.lock();
    s.memory = decision.memory;
    s.last = Some(report.clone());
    Some(report)
}
