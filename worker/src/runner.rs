//! The compute queue. Tasks whose job is compiled wait here in lease order;
//! up to one runner per pool thread takes them one after another on the rayon
//! pool. A runner keeps its thread on tasks while any are queued — no trip
//! through tokio between two tasks, no idle spin of the pool while tokio
//! hands over the next one — and ends when the queue is empty. That is what
//! lets a worker keep up with tasks of a few microseconds.

use crate::compute::{Prepared, Work, compute};
use crate::reporter::Item;
use crate::session::{Shared, TaskCtl};
use riskgrid_proto::v1 as pb;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

/// A leased task whose job is ready to compute.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) task: pb::Task,
    pub(crate) ctl: Arc<TaskCtl>,
    pub(crate) job: Arc<Prepared>,
}

#[derive(Debug, Default)]
struct State {
    ready: VecDeque<Ready>,
    /// Runner jobs started on the pool and not yet ended.
    runners: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task; starts a runner when fewer than `threads` are running.
    pub(crate) fn push(shared: &Arc<Shared>, ready: Ready) {
        let start = {
            let mut state = shared.queue.lock();
            state.ready.push_back(ready);
            let start = state.runners < shared.threads;
            if start {
                state.runners += 1;
            }
            start
        };
        if start {
            let shared = Arc::clone(shared);
            shared.pool.clone().spawn(move || {
                while let Some(ready) = shared.queue.pop() {
                    run(&shared, ready)
                }
            });
        }
    }

    /// The next task, or `None` (and this runner ends) when there is none.
    fn pop(&self) -> Option<Ready> {
        let mut state = self.lock();
        let next = state.ready.pop_front();
        if next.is_none() {
            state.runners -= 1;
        }
        next
    }
}

/// Computes one task (unless it was cancelled while queued) and hands its
/// completion to the reporter, which ends the task once the completion is delivered.
fn run(shared: &Arc<Shared>, Ready { task, ctl, job }: Ready) {
    if ctl.cancelled.load(Ordering::Relaxed) {
        shared.computed();
        shared.finished(&task.task_id, ctl.serial);
        return;
    }
    ctl.started.store(true, Ordering::Relaxed);
    let (trades, blocks) = (task.trades.unwrap_or_default(), task.blocks.unwrap_or_default());
    let work = Work {
        task_id: task.task_id.clone(),
        job_id: task.job_id.clone(),
        attempt: task.attempt,
        risk: task.kind == pb::TaskKind::Risk as i32,
        trades: trades.start..trades.end,
        blocks: blocks.start..blocks.end,
        done: task.done,
    };
    // Each block's results go as soon as the next block is done; the last
    // block's wait for the completion and travel with it (one message for a
    // one-block task, whenever the reporter wakes up).
    let last: Mutex<Option<Vec<pb::BlockResult>>> = Mutex::new(None);
    let emit = |results: Vec<pb::BlockResult>| {
        let previous = last.lock().unwrap_or_else(PoisonError::into_inner).replace(results);
        if let Some(previous) = previous {
            let _ = shared.reports.send(Item::Blocks(previous));
        }
    };
    let outcome = compute(&job, &work, shared.isa, &ctl.cancelled, &emit);
    let last = last.into_inner().unwrap_or_else(PoisonError::into_inner).unwrap_or_default();
    if ctl.cancelled.load(Ordering::Relaxed) {
        // Computed all the same: merged if the job still wants them.
        if !last.is_empty() {
            let _ = shared.reports.send(Item::Blocks(last));
        }
        shared.computed();
        shared.finished(&task.task_id, ctl.serial);
        return;
    }
    let completion = match outcome {
        Ok(micros) => {
            shared.observe_task(micros);
            pb::TaskCompletion {
                task_id: task.task_id,
                succeeded: true,
                error: String::new(),
                compute_us: micros.max(1),
            }
        }
        Err(error) => {
            tracing::warn!(task = %task.task_id, "task failed: {error}");
            pb::TaskCompletion { task_id: task.task_id, succeeded: false, error, compute_us: 0 }
        }
    };
    shared.complete(completion, ctl.serial, last);
}
