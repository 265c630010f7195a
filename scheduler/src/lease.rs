//! Leases: which worker holds which task, until when.

use crate::clock::Millis;
use crate::ids::{JobId, TaskId, WorkerId};
use crate::task::TaskKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A task handed to a worker, as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub task: TaskId,
    pub kind: TaskKind,
    /// 1 for the first lease of the task, 2 for its first retry, ...
    pub attempt: u32,
    /// The lease ends at this time unless a heartbeat renews it.
    pub deadline: Millis,
    /// Result slots already merged from earlier attempts (bitmap, LSB first); see [`crate::Job::done_bitmap`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done: Vec<u8>,
}

/// The scheduler's record of one live lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub worker: WorkerId,
    pub attempt: u32,
    pub deadline: Millis,
    /// Grant order across the table (set by [`LeaseTable::grant`]).
    pub granted: u64,
}

/// Every live lease, indexed by task and by worker.
#[derive(Debug, Clone, Default)]
pub struct LeaseTable {
    by_task: BTreeMap<TaskId, Held>,
    by_worker: BTreeMap<WorkerId, BTreeSet<TaskId>>,
    grants: u64,
}

impl LeaseTable {
    pub fn new() -> Self {
        LeaseTable::default()
    }

    pub fn grant(&mut self, task: TaskId, held: Held) {
        self.grants += 1;
        let held = Held { granted: self.grants, ..held };
        if let Some(old) = self.by_task.insert(task, held) {
            self.unindex(old.worker, task);
        }
        self.by_worker.entry(held.worker).or_default().insert(task);
    }

    pub fn holder(&self, task: TaskId) -> Option<&Held> {
        self.by_task.get(&task)
    }

    pub fn held_by(&self, worker: WorkerId) -> usize {
        self.by_worker.get(&worker).map_or(0, BTreeSet::len)
    }

    /// The tasks each worker is computing now, estimated: its `cores(worker)`
    /// oldest leases (a worker runs its tasks in the order they were leased).
    pub fn running(&self, cores: impl Fn(WorkerId) -> usize) -> Vec<TaskId> {
        let mut out = Vec::new();
        for (&worker, tasks) in &self.by_worker {
            let mut held: Vec<(u64, TaskId)> =
                tasks.iter().filter_map(|t| Some((self.by_task.get(t)?.granted, *t))).collect();
            held.sort_unstable();
            out.extend(held.into_iter().take(cores(worker)).map(|(_, t)| t));
        }
        out
    }

    pub fn tasks_of(&self, worker: WorkerId) -> Vec<TaskId> {
        self.by_worker.get(&worker).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.by_task.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_task.is_empty()
    }

    /// Extends every lease of `worker` to `deadline`; returns how many.
    pub fn renew(&mut self, worker: WorkerId, deadline: Millis) -> usize {
        let tasks = self.tasks_of(worker);
        for task in &tasks {
            if let Some(h) = self.by_task.get_mut(task) {
                h.deadline = h.deadline.max(deadline);
            }
        }
        tasks.len()
    }

    pub fn release(&mut self, task: TaskId) -> Option<Held> {
        let held = self.by_task.remove(&task)?;
        self.unindex(held.worker, task);
        Some(held)
    }

    /// Removes and returns the leases whose deadline is at or before `now`, in task order.
    pub fn expire(&mut self, now: Millis) -> Vec<(TaskId, Held)> {
        let due: Vec<TaskId> = self.by_task.iter().filter(|(_, h)| h.deadline <= now).map(|(&t, _)| t).collect();
        due.into_iter().filter_map(|t| self.release(t).map(|h| (t, h))).collect()
    }

    /// Removes and returns every lease of `worker`.
    pub fn release_worker(&mut self, worker: WorkerId) -> Vec<(TaskId, Held)> {
        self.tasks_of(worker).into_iter().filter_map(|t| self.release(t).map(|h| (t, h))).collect()
    }

    /// Removes and returns every lease of `job`.
    pub fn release_job(&mut self, job: JobId) -> Vec<(TaskId, Held)> {
        let tasks: Vec<TaskId> =
            self.by_task.range(TaskId::new(job, 0)..=TaskId::new(job, u32::MAX)).map(|(&t, _)| t).collect();
        tasks.into_iter().filter_map(|t| self.release(t).map(|h| (t, h))).collect()
    }

    fn unindex(&mut self, worker: WorkerId, task: TaskId) {
        if let Some(set) = self.by_worker.get_mut(&worker) {
            set.remove(&task);
            if set.is_empty() {
                self.by_worker.remove(&worker);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(worker: u64, deadline: Millis) -> Held {
        Held { worker: WorkerId(worker), attempt: 1, deadline, granted: 0 }
    }

    #[test]
    fn renewal_expiry_and_release() {
        let mut l = LeaseTable::new();
        let t = |j, i| TaskId::new(JobId(j), i);
        l.grant(t(1, 0), held(1, 100));
        l.grant(t(1, 1), held(2, 100));
        l.grant(t(2, 0), held(1, 100));
        assert_eq!(l.held_by(WorkerId(1)), 2);
        assert_eq!(l.renew(WorkerId(1), 200), 2);
        let expired = l.expire(150);
        assert_eq!(expired.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![t(1, 1)]);
        assert_eq!(l.held_by(WorkerId(2)), 0);
        assert_eq!(l.release_job(JobId(1)).len(), 1);
        assert_eq!(l.tasks_of(WorkerId(1)), vec![t(2, 0)]);
        assert_eq!(l.release_worker(WorkerId(1)).len(), 1);
        assert!(l.is_empty());
        // Re-granting a task to another worker moves it.
        l.grant(t(3, 0), held(1, 10));
        l.grant(t(3, 0), held(2, 10));
        assert_eq!(l.held_by(WorkerId(1)), 0);
        assert_eq!(l.held_by(WorkerId(2)), 1);
    }
}
