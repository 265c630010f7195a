//! Following a job for WatchJob and SubmitAndWatch: state changes, rate-limited progress and
//! the final result, as a stream of `JobEvent`s.
//!
//! The events due when the call is made go into the stream before the handler returns, so
//! they leave in the same write as the response headers (one wake-up of the client, not two);
//! a spawned task sends the rest as the job changes. SubmitAndWatch first lets a job expected
//! to end within the settle window end ([`settle`]): then its answer is one write.

use super::convert;
use super::grid::Grid;
use super::status;
use crate::ids::JobId;
use crate::job::JobState;
use riskgrid_proto::v1 as pb;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

/// The stream a watch call answers with.
pub type Events = Pin<Box<dyn Stream<Item = Result<pb::JobEvent, Status>> + Send>>;

/// Events buffered between the watcher and the connection: more than one turn's worth (a
/// state change, a progress event and the result).
const BUFFER: usize = 16;

/// Starts following `id`: `first` (if any) and the events due now are in the stream when
/// this returns. A job that has ended gets just those; otherwise a task sends the rest until
/// the job ends or the caller goes away.
pub fn start(grid: &Arc<Grid>, id: JobId, interval: Duration, first: Option<pb::job_event::Event>) -> Events {
    let mut watcher =
        Watcher { id, interval, sequence: 0, state: None, shown: None, seen: 0, last_progress: Instant::now() };
    let mut now = Vec::with_capacity(4);
    if let Some(event) = first {
        now.push(Ok(watcher.event(grid, event)));
    }
    let ended = match watcher.due(grid) {
        Ok((events, ended)) => {
            now.extend(events.into_iter().map(Ok));
            ended
        }
        Err(e) => {
            now.push(Err(e));
            true
        }
    };
    if ended {
        // No channel to allocate (its first block holds 32 events) and no task to spawn.
        return Box::pin(tokio_stream::iter(now));
    }
    let (tx, rx) = mpsc::channel(BUFFER);
    // At most 4 events into an empty channel of 16: `try_send` cannot find it full.
    for event in now {
        let _ = tx.try_send(event);
    }
    tokio::spawn(watcher.follow(Arc::clone(grid), tx));
    Box::pin(ReceiverStream::new(rx))
}

/// Waits for job `id` to end, for at most the scheduler's settle window for it (none for a
/// job expected to take longer: see `Scheduler::settle_ms`). SubmitAndWatch answers after
/// this, so a short job's whole answer (submission, state changes, result, trailers) leaves
/// in one write and wakes the client once; otherwise the submission would wake it once and
/// the result again, a wake-up that competes for the CPUs computing the job.
pub async fn settle(grid: &Grid, id: JobId) {
    let window = grid.lock().sched.settle_ms(id);
    if window == 0 {
        return;
    }
    let mut changes = grid.subscribe();
    let ended = async {
        while !peek(grid, id).map_or(true, |(state, _)| is_terminal(state)) {
            if changes.changed().await.is_err() {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(window), ended).await;
}

/// What one watch call has sent so far.
struct Watcher {
    id: JobId,
    interval: Duration,
    sequence: u64,
    state: Option<pb::JobState>,
    /// Merged block count of the last progress event sent.
    shown: Option<u64>,
    /// Merged block count when last looked at.
    seen: u64,
    last_progress: Instant,
}

/// What a watcher (or GetResult) sees of a job at one moment.
pub(super) struct Snapshot {
    pub state: pb::JobState,
    pub reason: String,
    pub progress: pb::Progress,
    pub result: Option<pb::JobResult>,
}

pub(super) fn snapshot(grid: &Grid, id: JobId) -> Result<Snapshot, Status> {
    let mut g = grid.lock();
    let sha = g.sha_of(id)?;
    let started = g.started.get(&id).copied();
    let job = g.sched.job(id).ok_or_else(|| status::not_found_job(id))?;
    let now = grid.now();
    let result = match job.state() {
        JobState::Succeeded { result, finished_at } => {
            let elapsed = finished_at.saturating_sub(started.unwrap_or(job.record().submitted_at));
            Some(convert::result(job, result, &sha, elapsed))
        }
        _ => None,
    };
    Ok(Snapshot {
        state: convert::state(job.state()),
        reason: convert::state_reason(job.state()),
        progress: convert::progress(job, &job.progress(), started, now, true),
        result,
    })
}

/// Whether a job in this state is over.
pub fn is_terminal(s: pb::JobState) -> bool {
    matches!(s, pb::JobState::Succeeded | pb::JobState::Failed | pb::JobState::Cancelled)
}

/// What tells a watcher whether to look closer: the job's state and its merged block count
/// (a full snapshot computes estimates, so a watcher woken by every merge of a busy grid
/// takes one only when it will send something).
pub(super) fn peek(grid: &Grid, id: JobId) -> Result<(pb::JobState, u64), Status> {
    let g = grid.lock();
    let job = g.sched.job(id).ok_or_else(|| status::not_found_job(id))?;
    Ok((convert::state(job.state()), job.blocks_done()))
}

impl Watcher {
    fn event(&mut self, grid: &Grid, event: pb::job_event::Event) -> pb::JobEvent {
        self.sequence += 1;
        pb::JobEvent {
            job_id: self.id.to_string(),
            sequence: self.sequence,
            time_unix_ms: grid.now() as i64,
            event: Some(event),
        }
    }

    /// The events due now, and whether the job has ended (these are then the last).
    fn due(&mut self, grid: &Grid) -> Result<(Vec<pb::JobEvent>, bool), Status> {
        let (now_state, merged) = peek(grid, self.id)?;
        self.seen = merged;
        let state_changed = self.state != Some(now_state);
        let due = self.last_progress.elapsed() >= self.interval || state_changed || is_terminal(now_state);
        if !(state_changed || (self.shown != Some(merged) && due)) {
            return Ok((Vec::new(), false));
        }
        let snap = snapshot(grid, self.id)?;
        let terminal = is_terminal(snap.state);
        let mut out = Vec::new();
        if self.state != Some(snap.state) {
            let previous = self.state.unwrap_or(pb::JobState::Unspecified);
            let change = pb::StateChange { previous: previous as i32, state: snap.state as i32, reason: snap.reason };
            out.push(self.event(grid, pb::job_event::Event::StateChange(change)));
            self.state = Some(snap.state);
        }
        if self.shown != Some(merged) {
            out.push(self.event(grid, pb::job_event::Event::Progress(snap.progress)));
            self.shown = Some(merged);
            self.last_progress = Instant::now();
        }
        if let Some(result) = snap.result.filter(|_| terminal) {
            out.push(self.event(grid, pb::job_event::Event::Result(result)));
        }
        Ok((out, terminal))
    }

    /// How long to sleep when nothing changes: until a held-back progress event is due.
    fn wait(&self) -> Duration {
        if self.shown == Some(self.seen) {
            Duration::from_secs(1)
        } else {
            self.interval.saturating_sub(self.last_progress.elapsed())
        }
    }

    /// Sends events into `tx` as the job changes, until it ends or the caller goes away.
    async fn follow(mut self, grid: Arc<Grid>, tx: mpsc::Sender<Result<pb::JobEvent, Status>>) {
        let mut changes = grid.subscribe();
        loop {
            changes.borrow_and_update();
            let (events, ended) = match self.due(&grid) {
                Ok(d) => d,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            for event in events {
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if ended {
                return;
            }
            tokio::select! {
                // A change is looked at at once (a finished job must not wait); progress
                // events are still rate-limited by `due`.
                _ = changes.changed() => {}
                _ = tokio::time::sleep(self.wait()) => {}
                _ = tx.closed() => return,
            }
        }
    }
}
