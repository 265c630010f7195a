//! Scheduler settings.

use crate::clock::Millis;
use crate::cost::CostModel;
use crate::ids::TenantId;
use crate::planner::PlannerConfig;
use crate::queue::TenantConfig;
use riskcalc::kernel::Isa;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// A lease lasts this long unless a heartbeat renews it.
    pub lease_ms: Millis,
    /// A worker silent this long is dropped and its leases return to the queue.
    pub worker_timeout_ms: Millis,
    /// Leases of one task (first try included) before its job fails.
    pub max_attempts: u32,
    /// Tasks a worker may hold per core beyond the one it runs (prefetch).
    pub prefetch_per_core: u32,
    pub planner: PlannerConfig,
    /// Throughput assumed before any worker reports, path-steps per core-second.
    pub initial_throughput: f64,
    pub tenants: BTreeMap<TenantId, TenantConfig>,
    /// Configuration given to tenants not in `tenants`; `None` refuses them.
    pub default_tenant: Option<TenantConfig>,
    /// Finished jobs are forgotten (and removed from the store) this long after they end; `None` keeps them.
    pub retention_ms: Option<Millis>,
    /// Only chooses how fast compile-time calibration runs, never its result.
    pub isa: Isa,
    /// SubmitAndWatch holds its answer up to this long for a job expected to end within it,
    /// so that the submission, the job's state changes and its result reach the client in one
    /// message; 0 answers at once.
    pub settle_ms: Millis,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            lease_ms: 15_000,
            worker_timeout_ms: 30_000,
            max_attempts: 4,
            prefetch_per_core: 1,
            planner: PlannerConfig::default(),
            initial_throughput: CostModel::DEFAULT_THROUGHPUT,
            tenants: BTreeMap::new(),
            default_tenant: Some(TenantConfig::default()),
            retention_ms: None,
            isa: Isa::detect(),
            settle_ms: 1,
        }
    }
}
