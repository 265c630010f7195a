//! Burst capacity (issue #4), the pure ring: burst policy, scaling decisions
//! as functions of (observed state, policy, clock), pre-submit plans, and the
//! [`backend::CapacityBackend`] port that adapters (local processes, Kubernetes
//! pods, EKS nodegroups, the simulator) implement. No I/O, no async runtime.

pub mod backend;

pub use backend::{BackendError, CapacityAction, CapacityBackend, NodegroupObservation, Observed, PodObservation, PodPhase, WorkerPodSpec};
