//! The port between the capacity controller and the things that add or remove
//! workers. Adapters implement [`CapacityBackend`]; the controller only sees
//! [`Observed`] snapshots and issues [`CapacityAction`]s.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// What a worker pod (or local worker process) must look like. The Kubernetes
/// backend renders it into a Pod; the local backend into a command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerPodSpec {
    /// Unique name (a Kubernetes object name: lowercase, digits, '-').
    pub name: String,
    /// Nodegroup (pool) the worker must run on.
    pub nodegroup: String,
    /// Tenant the worker serves, when workers are dedicated to one (soft multi-tenancy).
    pub tenant: Option<String>,
    /// Job the worker was started for, if any (a label only; workers serve any job of their tenant).
    pub job: Option<String>,
    /// Whole cores requested (= limit).
    pub cores: u32,
    /// Memory requested (= limit), MiB.
    pub memory_mib: u64,
    /// Container image, ideally pinned by digest.
    pub image: String,
    /// The scheduler's gRPC address as the worker should dial it.
    pub scheduler_endpoint: String,
    /// Seconds the worker gets to drain after SIGTERM; the pod's terminationGracePeriodSeconds.
    pub drain_grace_seconds: u32,
    /// Extra labels (beyond the ones every backend adds).
    pub labels: BTreeMap<String, String>,
}

/// Lifecycle of a worker as a backend sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PodPhase {
    /// Created, not yet running (waiting for a node, pulling, starting).
    Pending,
    /// Running and ready to take work.
    Ready,
    /// Being deleted / draining.
    Terminating,
    /// Exited or failed; the controller deletes it and may replace it.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodObservation {
    pub name: String,
    pub nodegroup: String,
    pub tenant: Option<String>,
    pub phase: PodPhase,
    pub cores: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodegroupObservation {
    pub name: String,
    /// Desired size as last set (EKS `scalingConfig.desiredSize`).
    pub desired: u32,
    pub min: u32,
    pub max: u32,
    /// Nodes seen Ready (from Node objects; EKS only returns an update id).
    pub ready_nodes: u32,
    pub instance_type: String,
}

/// One snapshot of the world, as the backend sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub nodegroups: Vec<NodegroupObservation>,
    pub pods: Vec<PodObservation>,
}

/// What the controller asks a backend to do. Idempotent by construction:
/// sizes are absolute, pods are named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapacityAction {
    /// Set a nodegroup's desired node count (already clamped to min/max and budget).
    SetNodegroupSize { nodegroup: String, desired: u32 },
    /// Start a worker.
    CreatePod(WorkerPodSpec),
    /// Stop a worker (gracefully: it drains).
    DeletePod { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("refused: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Network or API failure; the controller retries on its next reconcile.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// A place workers come from. Implementations are thin adapters; they make no
/// decisions.
pub trait CapacityBackend: Send + Sync {
    /// Short name for logs and metrics (`local`, `kubernetes`, `eks`, `sim`).
    fn name(&self) -> &'static str;
    /// The current state of the nodegroups and worker pods this backend manages.
    fn observe(&self) -> impl Future<Output = Result<Observed, BackendError>> + Send;
    /// Carries out one action.
    fn apply(&self, action: CapacityAction) -> impl Future<Output = Result<(), BackendError>> + Send;
}
