//! One reporter per worker: every running task hands its block results and
//! its completion to this loop, which coalesces whatever has piled up into one
//! `ReportResults` stream and, once that is acknowledged (blocks durable),
//! one batched `CompleteTask`. Idle, a lone task pays the same two RPCs as
//! before; busy with tiny tasks, hundreds of tasks share two RPCs, which is
//! what lets dispatch keep up with millisecond tasks.
//!
//! Ordering is what makes this safe: a task queues its blocks before its
//! completion, so by the time a completion is sent every block of its task
//! has been acknowledged (or the task is reported failed).

use crate::session::Shared;
use riskgrid_proto::v1 as pb;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tonic::{Code, Request, Status};

/// Most blocks in one ReportResults stream.
const MAX_BLOCKS: usize = 4096;
/// Tries to deliver a batch before its tasks are reported failed.
const TRIES: usize = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(crate) enum Item {
    Block(pb::BlockResult),
    /// A task is done computing; the sender hears back once the completion is delivered (or given up).
    Complete(pb::TaskCompletion, oneshot::Sender<()>),
}

pub(crate) type Sender = mpsc::UnboundedSender<Item>;

pub(crate) fn channel() -> (Sender, mpsc::UnboundedReceiver<Item>) {
    mpsc::unbounded_channel()
}

pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Item>) {
    // Tasks some of whose blocks could not be delivered: their completion says so.
    let mut undelivered: HashSet<String> = HashSet::new();
    while let Some(first) = rx.recv().await {
        let mut blocks = Vec::new();
        let mut completions = Vec::new();
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Item::Block(b) => blocks.push(b),
                Item::Complete(c, done) => completions.push((c, done)),
            }
            next = if blocks.len() < MAX_BLOCKS { rx.try_recv().ok() } else { None };
        }
        if !blocks.is_empty() && !deliver(&shared, &blocks).await {
            undelivered.extend(blocks.iter().map(|b| b.task_id.clone()));
        }
        if completions.is_empty() {
            continue;
        }
        let mut batch = Vec::with_capacity(completions.len());
        let mut waiters = Vec::with_capacity(completions.len());
        for (mut c, done) in completions {
            if undelivered.remove(&c.task_id) && c.succeeded {
                c = pb::TaskCompletion {
                    succeeded: false,
                    error: "could not report the task's results".into(),
                    compute_ms: 0,
                    ..c
                };
            }
            batch.push(c);
            waiters.push(done);
        }
        complete(&shared, batch).await;
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// Sends `blocks` as one stream, resending on failure; true once acknowledged.
async fn deliver(shared: &Shared, blocks: &[pb::BlockResult]) -> bool {
    let mut backoff = Duration::from_millis(100);
    for attempt in 0..TRIES {
        match report(shared, blocks.to_vec()).await {
            Ok(ack) => {
                for id in &ack.cancelled_task_ids {
                    shared.cancel(id);
                }
                return true;
            }
            Err(status) => {
                shared.lost_worker(&status);
                if status.code() == Code::NotFound {
                    // Registered again: these leases are gone; the scheduler re-leases the tasks.
                    return false;
                }
                tracing::warn!(
                    blocks = blocks.len(),
                    attempt,
                    "reporting failed: {}; resending in {backoff:?}",
                    status.message()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    false
}

async fn report(shared: &Shared, blocks: Vec<pb::BlockResult>) -> Result<pb::ReportAck, Status> {
    let mut request = Request::new(tokio_stream::iter(blocks));
    let id = shared.worker_id().parse().map_err(|_| Status::internal("worker id is not valid metadata"))?;
    request.metadata_mut().insert(riskgrid_proto::WORKER_ID_METADATA, id);
    shared.client.clone().report_results(request).await.map(tonic::Response::into_inner)
}

async fn complete(shared: &Shared, tasks: Vec<pb::TaskCompletion>) {
    let mut backoff = Duration::from_millis(100);
    for chunk in tasks.chunks(10_000) {
        for _ in 0..5 {
            let request = pb::CompleteTaskRequest { worker_id: shared.worker_id(), tasks: chunk.to_vec() };
            match shared.client.clone().complete_task(request).await {
                Ok(_) => break,
                Err(status) if status.code() == Code::NotFound => {
                    // Registered again: the leases are gone, the results are in; nothing to complete.
                    shared.lost_worker(&status);
                    break;
                }
                Err(status) => {
                    tracing::warn!(tasks = chunk.len(), "completing failed: {}", status.message());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
