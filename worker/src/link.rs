//! The worker's end of `WorkerService.Work`: tasks arrive on it, and the
//! reporter sends completions up it without waiting for each to be
//! acknowledged (see [`crate::reporter`]). When the stream ends, every
//! completion not acknowledged yet is handed back to its sender, which
//! sends it again with CompleteTask (the scheduler ignores repeats).

use riskgrid_proto::v1 as pb;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug)]
pub(crate) struct Link {
    up: mpsc::UnboundedSender<pb::WorkUp>,
    seq: AtomicU64,
    /// Completions sent and not acknowledged yet, by `seq`.
    waiting: Mutex<HashMap<u64, oneshot::Sender<pb::CompleteTaskResponse>>>,
}

impl Link {
    pub(crate) fn new(up: mpsc::UnboundedSender<pb::WorkUp>) -> Self {
        Link { up, seq: AtomicU64::new(0), waiting: Mutex::new(HashMap::new()) }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<pb::CompleteTaskResponse>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a completion. The receiver yields its acknowledgement, or an
    /// error if the stream ends first; `None`: the stream is gone already.
    pub(crate) fn complete(
        &self,
        request: pb::CompleteTaskRequest,
    ) -> Option<oneshot::Receiver<pb::CompleteTaskResponse>> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(seq, tx);
        let message = pb::WorkUp { worker_id: String::new(), hold: None, complete: Some(request), seq };
        if self.up.send(message).is_err() {
            self.waiting().remove(&seq);
            return None;
        }
        Some(rx)
    }

    /// Tells the scheduler how many tasks to keep this worker supplied with.
    pub(crate) fn hold(&self, hold: usize) {
        let hold = u32::try_from(hold).unwrap_or(u32::MAX);
        let _ = self.up.send(pb::WorkUp { worker_id: String::new(), hold: Some(hold), complete: None, seq: 0 });
    }

    /// An acknowledgement came down.
    pub(crate) fn acked(&self, ack: pb::WorkAck) {
        if let Some(tx) = self.waiting().remove(&ack.seq) {
            let _ = tx.send(ack.response.unwrap_or_default());
        }
    }

    /// The stream ended: completions still waiting go back to their senders.
    pub(crate) fn close(&self) {
        self.waiting().clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn acks_reach_their_completion_and_a_closed_link_hands_the_rest_back() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = Link::new(tx);
        let first = link.complete(pb::CompleteTaskRequest::default()).unwrap();
        let second = link.complete(pb::CompleteTaskRequest::default()).unwrap();
        let seqs: Vec<u64> = [rx.recv().await.unwrap(), rx.recv().await.unwrap()].iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        let response = pb::CompleteTaskResponse { ignored_task_ids: vec!["t".into()], results: None };
        link.acked(pb::WorkAck { seq: 2, response: Some(response.clone()) });
        assert_eq!(second.await.unwrap(), response);
        link.close();
        assert!(first.await.is_err(), "unacknowledged completions are handed back");
        drop(rx);
        assert!(link.complete(pb::CompleteTaskRequest::default()).is_none(), "a gone stream takes nothing");
    }
}
