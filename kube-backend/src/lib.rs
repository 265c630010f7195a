//! The `kubernetes` capacity backend (issue #4): worker pods created and
//! deleted through the kube crate.
//!
//! Layers, as in kube-rs: [`pod`] is the pure pod template (no I/O; `deploy/`
//! renders its manifest from the same function), [`backend`] the thin
//! [`riskgrid_capacity::CapacityBackend`] adapter, [`watch`] a change stream
//! that lets the controller reconcile as soon as pods or nodes move, and
//! (feature `fake`) [`fake`] a stateful in-memory API server for tests.
//! Decisions (how many pods, where) stay in the capacity controller.

pub mod backend;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod names;
pub mod observe;
pub mod pod;
pub mod watch;

pub use backend::KubeBackend;
pub use pod::{PodSettings, checked_worker_pod, validate_spec, worker_pod};
pub use watch::{Change, changes};
