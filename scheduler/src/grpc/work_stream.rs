//! `WorkerService.Work`: one long-lived stream per worker, the fast path for
//! LeaseTasks and CompleteTask. Tasks go down whenever the worker holds at
//! most half of what it asked to hold (no lease request per task);
//! completions come up and are booked exactly as CompleteTask books them.
//! An acknowledgement waits up to `ACK_LINGER` to ride with the next tasks,
//! so a worker busy with short tasks gets one message per batch, not two.

use super::status;
use super::workers::Workers;
use crate::ids::WorkerId;
use riskgrid_proto::v1 as pb;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Status, Streaming};

/// The scheduler's half of the stream.
pub type Down = UnboundedReceiverStream<Result<pb::WorkDown, Status>>;

/// Most tasks a worker may ask to hold (as LeaseTasks' max_tasks + prefetch).
const MAX_HOLD: u32 = 10_000;
/// How long an acknowledgement may wait for tasks to ride with. Anything
/// the worker must act on (cancelled or ignored tasks) goes at once.
const ACK_LINGER: Duration = Duration::from_millis(5);
/// Look for work now and then even without a wake-up (a missed one costs at most this).
const RECHECK: Duration = Duration::from_millis(100);

/// Checks the first message (the worker must be registered) and starts serving the stream.
pub(super) async fn open(workers: Workers, mut up: Streaming<pb::WorkUp>) -> Result<Down, Status> {
    let first = up
        .message()
        .await?
        .ok_or_else(|| status::invalid("worker_id", "required in the first message of the stream"))?;
    let worker = workers.grid.parse_worker(&first.worker_id)?;
    workers.grid.lock().sched.heartbeat(worker).map_err(|e| status::from_error(&e))?;
    let mut link = Link::default();
    link.take(&workers, worker, first).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(serve(workers, worker, link, up, tx));
    Ok(UnboundedReceiverStream::new(rx))
}

/// What the scheduler knows of one worker's stream.
#[derive(Debug, Default)]
struct Link {
    /// Tasks the worker wants to hold.
    hold: u32,
    /// Acknowledgements not sent yet, and when they must go at the latest.
    acks: Vec<pb::WorkAck>,
    ack_by: Option<Instant>,
}

impl Link {
    /// Takes one message from the worker: a new hold, a completion, or both.
    async fn take(&mut self, workers: &Workers, worker: WorkerId, m: pb::WorkUp) -> Result<(), Status> {
        if let Some(hold) = m.hold {
            if hold > MAX_HOLD {
                return Err(status::invalid("hold", format!("{hold} is more than {MAX_HOLD}")));
            }
            self.hold = hold;
        }
        if let Some(complete) = m.complete {
            let response = workers.complete(worker, complete).await?;
            // Urgent: tasks to drop (say, the rest of a job that stopped
            // early), or completions not taken.
            let urgent = !response.ignored_task_ids.is_empty()
                || response.results.as_ref().is_some_and(|a| !a.cancelled_task_ids.is_empty());
            self.acks.push(pb::WorkAck { seq: m.seq, response: Some(response) });
            let by = Instant::now() + if urgent { Duration::ZERO } else { ACK_LINGER };
            self.ack_by = Some(self.ack_by.map_or(by, |t| t.min(by)));
        }
        Ok(())
    }

    /// Leases tasks up to `hold` when the worker holds at most half of it;
    /// also says whether the worker still has room (then new work wakes it).
    fn top_up(&self, workers: &Workers, worker: WorkerId) -> Result<(Vec<pb::Task>, bool), Status> {
        let hold = self.hold as usize;
        let held = workers.grid.lock().sched.held_by(worker);
        if hold == 0 || held * 2 > hold {
            return Ok((Vec::new(), false));
        }
        let tasks = workers.lease_now(worker, hold - held)?;
        let room = (held + tasks.len()) * 2 <= hold;
        Ok((tasks, room))
    }

    /// The next message down, if there is something to send now.
    fn down(&mut self, tasks: Vec<pb::Task>) -> Option<pb::WorkDown> {
        let acks_due = self.ack_by.is_some_and(|t| Instant::now() >= t);
        if tasks.is_empty() && !acks_due {
            return None;
        }
        self.ack_by = None;
        Some(pb::WorkDown { tasks, acks: std::mem::take(&mut self.acks) })
    }
}

type Tx = mpsc::UnboundedSender<Result<pb::WorkDown, Status>>;

/// Serves one worker's stream until either side ends it.
async fn serve(workers: Workers, worker: WorkerId, mut link: Link, mut up: Streaming<pb::WorkUp>, tx: Tx) {
    let fail = |status: Status| {
        let _ = tx.send(Err(status));
    };
    let waiter = workers.grid.waiter(worker);
    // One timer for the stream's life, moved only when its deadline changes (a timer made per
    // message would be registered and cancelled with every message).
    let mut recheck = Instant::now() + RECHECK;
    let timer = tokio::time::sleep_until(recheck);
    tokio::pin!(timer);
    let shutdown = workers.grid.closed();
    tokio::pin!(shutdown);
    loop {
        // Armed before looking, so that work queued meanwhile still wakes this stream.
        waiter.arm();
        let (tasks, room) = match link.top_up(&workers, worker) {
            Ok(topped_up) => topped_up,
            Err(status) => return fail(status),
        };
        if !room {
            waiter.disarm();
        }
        if let Some(down) = link.down(tasks)
            && tx.send(Ok(down)).is_err()
        {
            return;
        }
        let now = Instant::now();
        if now >= recheck {
            recheck = now + RECHECK;
        }
        let wake = link.ack_by.map_or(recheck, |t| t.min(recheck));
        if timer.deadline() != wake || timer.is_elapsed() {
            timer.as_mut().reset(wake);
        }
        tokio::select! {
            message = up.message() => match message {
                Ok(Some(m)) => {
                    if let Err(status) = link.take(&workers, worker, m).await {
                        return fail(status);
                    }
                }
                // The worker closed the stream or went away: its leases run out as usual.
                Ok(None) | Err(_) => return,
            },
            // Only a worker with room waits for new work: a full one is looked at again
            // when its own completions come (with many workers, a completion wakes few).
            () = waiter.woken(), if room => {}
            () = &mut timer => {}
            () = tx.closed() => return,
            () = &mut shutdown => return fail(Status::unavailable("the scheduler is shutting down")),
        }
    }
}
