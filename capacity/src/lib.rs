//! Burst capacity (issue #4), the pure ring: burst policy, scaling decisions
//! as functions of (observed state, policy, clock), pre-submit plans, and the
//! [`backend::CapacityBackend`] port that adapters (local processes, Kubernetes
//! pods, EKS nodegroups, the simulator) implement. No I/O, no async runtime.

pub mod alloc;
pub mod backend;
pub mod catalogue;
pub mod decide;
pub mod plan;
pub mod pods;
pub mod policy;

pub use backend::{
    BackendError, CapacityAction, CapacityBackend, NodegroupObservation, Observed, PodObservation, PodPhase,
    WorkerPodSpec,
};
pub use catalogue::InstanceType;
pub use decide::{ControllerMemory, DeadlineDemand, Decision, Demand, GroupMemory, GroupTarget, decide, desired_cores};
pub use plan::{Plan, PlannedGroup, Throughput, plan};
pub use policy::{BurstPolicy, CapacityType, FieldError, NodegroupPolicy, PolicyErrors, ResolvedGroup, WorkerTemplate};
