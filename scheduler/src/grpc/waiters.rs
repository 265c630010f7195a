//! Workers waiting for new work (on their Work stream or in a LeaseTasks long poll), woken
//! longest-registered worker first.
//!
//! The order packs short bursts of work onto the workers that have been there longest: on the
//! default one-thread event loop the first woken takes the work first, so when there is less
//! work than room the newest workers (burst nodes, most often) stay idle and the capacity
//! controller's idle scale-down can release them, and a lone task goes to the same warm
//! worker every time rather than to whichever stream happened to be polled first.

use crate::ids::WorkerId;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// Every waiter, by worker (oldest first) and then by when it was made.
#[derive(Debug, Default)]
pub struct Waiters {
    next: AtomicU64,
    waiting: Mutex<BTreeMap<(WorkerId, u64), Arc<Notify>>>,
}

impl Waiters {
    /// A waiter for `worker`, not yet waiting (see [`Waiter::arm`]).
    pub fn waiter(self: &Arc<Self>, worker: WorkerId) -> Waiter {
        let key = (worker, self.next.fetch_add(1, Ordering::Relaxed));
        Waiter { waiters: Arc::clone(self), key, notify: Arc::new(Notify::new()) }
    }

    /// Wakes every armed waiter, oldest worker first, and disarms them.
    pub fn wake_all(&self) {
        let woken = std::mem::take(&mut *self.lock());
        for notify in woken.values() {
            notify.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(WorkerId, u64), Arc<Notify>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn armed(&self) -> usize {
        self.lock().len()
    }
}

/// One worker's place in the line.
#[derive(Debug)]
pub struct Waiter {
    waiters: Arc<Waiters>,
    key: (WorkerId, u64),
    notify: Arc<Notify>,
}

impl Waiter {
    /// Waits for new work from now on: arm before looking for work, so that work arriving
    /// between the look and [`Waiter::woken`] is not missed (its wake-up is kept).
    pub fn arm(&self) {
        self.waiters.lock().insert(self.key, Arc::clone(&self.notify));
    }

    /// Stops waiting (the worker has no room).
    pub fn disarm(&self) {
        self.waiters.lock().remove(&self.key);
    }

    /// Resolves once woken after [`Waiter::arm`] (at once if the wake-up came already).
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn the_longest_registered_worker_is_woken_first_whatever_order_they_armed_in() {
        let waiters = Arc::new(Waiters::default());
        let (old, young) = (waiters.waiter(WorkerId(1)), waiters.waiter(WorkerId(7)));
        young.arm();
        old.arm();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for (name, waiter) in [(7, young), (1, old)] {
            let order = Arc::clone(&order);
            handles.push(tokio::spawn(async move {
                waiter.woken().await;
                order.lock().expect("order").push(name);
            }));
        }
        tokio::task::yield_now().await;
        assert!(order.lock().expect("order").is_empty(), "nobody woke before work came");
        waiters.wake_all();
        for h in handles {
            h.await.expect("waiter");
        }
        assert_eq!(*order.lock().expect("order"), vec![1, 7]);
        assert_eq!(waiters.armed(), 0, "a wake-up disarms");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn work_arriving_between_arming_and_waiting_is_not_missed() {
        let waiters = Arc::new(Waiters::default());
        let waiter = waiters.waiter(WorkerId(3));
        waiter.arm();
        waiters.wake_all();
        tokio::time::timeout(Duration::from_secs(5), waiter.woken()).await.expect("the wake-up was kept");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_disarmed_or_dropped_waiter_is_not_woken() {
        let waiters = Arc::new(Waiters::default());
        let busy = waiters.waiter(WorkerId(1));
        busy.arm();
        busy.disarm();
        let gone = waiters.waiter(WorkerId(2));
        gone.arm();
        drop(gone);
        assert_eq!(waiters.armed(), 0);
        waiters.wake_all();
        let missed = tokio::time::timeout(Duration::from_millis(50), busy.woken()).await;
        assert!(missed.is_err(), "a worker without room is not woken");
    }
}
