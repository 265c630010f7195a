//! One reporter per worker: every running task hands its block results and
//! its completion to this loop, which coalesces whatever has piled up — and,
//! while the worker still has tasks to compute, whatever comes within
//! `LINGER` (an idle worker sends at once, so a lone task is not delayed). Blocks
//! alone go as one `ReportResults` stream; blocks followed by completions go
//! in one completion that carries both (the blocks are merged first), up the
//! Work stream when it is open and as a `CompleteTask` call when it is not. A
//! lone one-block task thus costs one message, and busy with tiny tasks,
//! hundreds of tasks share one. Completions on the stream are not waited
//! for: the next batch goes at once, and each batch's tasks end when its ack
//! comes (or, if the stream ends first, after CompleteTask sends it again).
//!
//! Ordering is what makes this safe: a task queues its blocks before its
//! completion, so a completion is sent with or after every block of its task
//! (or the task is reported failed). A scenario block's trades are queued as
//! one item, so they never straddle two calls.

use crate::session::Shared;
use riskgrid_proto::v1 as pb;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tonic::{Code, Request, Status};

/// How long a busy worker holds results back to send them together.
const LINGER: Duration = Duration::from_millis(20);
/// Most blocks in one call (more wait for the next).
const MAX_BLOCKS: usize = 4096;
/// Most completions in one call.
const MAX_COMPLETIONS: usize = 10_000;
/// Tries to deliver a batch before its tasks are reported failed (blocks
/// alone) or left to their lease expiry (blocks with completions).
const TRIES: usize = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a completion sent up the Work stream waits for its ack before it
/// is sent again with CompleteTask.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) enum Item {
    /// The results of one block (one per trade for a scenario block).
    Blocks(Vec<pb::BlockResult>),
    /// A task is done computing, with its last block's results (held back so
    /// that they travel with the completion: a one-block task is one message);
    /// once the completion is delivered (or given up) the task's lease of
    /// this serial ends for the worker.
    Complete(pb::TaskCompletion, u64, Vec<pb::BlockResult>),
}

pub(crate) type Sender = mpsc::UnboundedSender<Item>;

pub(crate) fn channel() -> (Sender, mpsc::UnboundedReceiver<Item>) {
    mpsc::unbounded_channel()
}

pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Item>) {
    // Tasks some of whose blocks could not be delivered: their completion says so.
    let mut undelivered: HashSet<String> = HashSet::new();
    while let Some(first) = rx.recv().await {
        let until = tokio::time::Instant::now() + LINGER;
        let mut blocks = Vec::new();
        let mut completions = Vec::new();
        let mut next = Some(first);
        loop {
            let mut full = false;
            while let Some(item) = next {
                match item {
                    Item::Blocks(b) => blocks.extend(b),
                    Item::Complete(c, serial, last) => {
                        blocks.extend(last);
                        completions.push((c, serial));
                    }
                }
                full = blocks.len() >= MAX_BLOCKS || completions.len() >= MAX_COMPLETIONS;
                next = if full { None } else { rx.try_recv().ok() };
            }
            if full || shared.computing() == 0 || tokio::time::Instant::now() >= until {
                break;
            }
            // Busy: sleep out the linger (not woken by every result on the way),
            // unless the worker runs out of work first; then take what came.
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = shared.idle.notified() => {}
            }
            next = rx.try_recv().ok();
        }
        if completions.is_empty() {
            if !deliver(&shared, &blocks).await {
                undelivered.extend(blocks.iter().map(|b| b.task_id.clone()));
            }
            continue;
        }
        let mut batch = Vec::with_capacity(completions.len());
        let mut ended = Vec::with_capacity(completions.len());
        for (mut c, serial) in completions {
            if undelivered.remove(&c.task_id) && c.succeeded {
                c = pb::TaskCompletion {
                    succeeded: false,
                    error: "could not report the task's results".into(),
                    compute_us: 0,
                    ..c
                };
            }
            ended.push((c.task_id.clone(), serial));
            batch.push(c);
        }
        let request = pb::CompleteTaskRequest { worker_id: shared.worker_id(), tasks: batch, results: blocks };
        let sent = shared.link().and_then(|link| link.complete(request.clone()));
        let shared = Arc::clone(&shared);
        let end = async move {
            // Up the Work stream when it is open; CompleteTask when it is not, or when
            // the stream ended before the ack (a repeated completion is ignored).
            match sent {
                Some(ack) => match tokio::time::timeout(ACK_TIMEOUT, ack).await {
                    Ok(Ok(response)) => acknowledged(&shared, &response),
                    _ => complete(&shared, request).await,
                },
                None => complete(&shared, request).await,
            }
            for (task_id, serial) in ended {
                shared.finished(&task_id, serial);
            }
        };
        // The next batch need not wait for this one's ack.
        tokio::spawn(end);
    }
}

fn acknowledged(shared: &Shared, response: &pb::CompleteTaskResponse) {
    for id in response.results.iter().flat_map(|ack| &ack.cancelled_task_ids) {
        shared.cancel(id);
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

/// Sends completions with the blocks queued before them, resending on failure.
/// Given up, the tasks' leases expire and the scheduler re-leases them.
async fn complete(shared: &Shared, request: pb::CompleteTaskRequest) {
    let mut backoff = Duration::from_millis(100);
    for attempt in 0..TRIES {
        match shared.client.clone().complete_task(request.clone()).await {
            Ok(response) => return acknowledged(shared, response.get_ref()),
            Err(status) if status.code() == Code::NotFound => {
                // Registered again: the leases are gone; the scheduler re-leases the tasks.
                shared.lost_worker(&status);
                return;
            }
            Err(status) => {
                tracing::warn!(
                    tasks = request.tasks.len(),
                    blocks = request.results.len(),
                    attempt,
                    "completing failed: {}; resending in {backoff:?}",
                    status.message()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
