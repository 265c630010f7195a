//! The capacity controller (issue #4), adapter ring: a reconcile loop that
//! reads the scheduler's demand, asks the pure [`riskgrid_capacity::decide`]
//! what to do, and drives a [`CapacityBackend`] toward it; plus the state the
//! admin gRPC service ([`crate::grpc::admin`]) reads and changes.
//!
//! ```text
//! every period, or at once when nudged (policy change):
//!   Scheduler::capacity_demand ─┐
//!   backend.observe() ──────────┼─▶ decide(observed, demand, policy, memory, now) ─▶ backend.apply(action)…
//!   policy + memory ────────────┘                                                   └▶ last report (GetCapacity)
//! ```
//! Decisions never happen here: this file only moves data between the
//! scheduler, the pure decision and the backend, so the simulator, which calls
//! the same `decide`, behaves like the real controller.

mod controller;

pub use controller::{Capacity, ReconcileReport, reconcile_once};
