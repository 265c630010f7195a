//! The numbers: a job compiled once, and the blocks of one task computed on
//! the rayon pool, each sent as soon as it is done.

use riskcalc::engine::price_trade_block;
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use riskcalc::risk::RiskJob;
use riskcalc::spec::JobSpec;
use riskgrid_proto::v1 as pb;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// A job ready to compute: compiled pricing plans, and the risk job if any.
#[derive(Debug)]
pub struct Prepared {
    pub compiled: CompiledJob,
    pub risk: Option<RiskJob>,
}

impl Prepared {
    /// Parses the scheduler's canonical JSON (and the historical scenario
    /// file's text, for historical VaR) and compiles it (call on the pool:
    /// calibration can take a while).
    pub fn new(spec_json: &[u8], historical_csv: &[u8], isa: Isa) -> Result<Prepared, String> {
        let spec: JobSpec =
            serde_json::from_slice(spec_json).map_err(|e| format!("job spec from the scheduler: {e}"))?;
        let csv = (!historical_csv.is_empty())
            .then(|| std::str::from_utf8(historical_csv).map_err(|_| "historical_csv is not UTF-8".to_owned()))
            .transpose()?;
        let historical = riskcalc::risk::scenarios::historical_for_spec(&spec, csv)?;
        let compiled = CompiledJob::compile(&spec, isa);
        let risk = spec.analysis.risk.as_ref().map(|r| RiskJob::new(&spec, r, historical.clone(), isa));
        Ok(Prepared { compiled, risk })
    }
}

/// What one task computes.
#[derive(Debug, Clone)]
pub struct Work {
    pub task_id: String,
    pub job_id: String,
    pub attempt: u32,
    pub risk: bool,
    pub trades: std::ops::Range<u32>,
    pub blocks: std::ops::Range<u64>,
    /// Result slots merged by an earlier attempt, to skip (`Task.done`).
    pub done: Vec<u8>,
}

impl Work {
    /// Whether result slot `slot` was merged already.
    fn is_done(&self, slot: u64) -> bool {
        let byte = (slot / 8) as usize;
        self.done.get(byte).is_some_and(|b| b & (1 << (slot % 8)) != 0)
    }
}

/// Computes every block of `work` in parallel on the current rayon pool,
/// sending each block's results as it finishes (a scenario block's trades
/// together: the scheduler merges whole scenario blocks); stops early when
/// `cancelled` is set. Returns the compute time summed over blocks, in µs.
pub fn compute(
    job: &Prepared,
    work: &Work,
    isa: Isa,
    cancelled: &AtomicBool,
    out: &(impl Fn(Vec<pb::BlockResult>) + Sync),
) -> Result<u64, String> {
    use rayon::prelude::*;
    let micros = AtomicU64::new(0);
    let result = |trade: u32, block: u64| pb::BlockResult {
        task_id: work.task_id.clone(),
        job_id: work.job_id.clone(),
        trade,
        block,
        moments: Vec::new(),
        pnl: Vec::new(),
        attempt: work.attempt,
    };
    if work.risk {
        let risk = job.risk.as_ref().ok_or("a risk task for a job without analysis.risk")?;
        if work.blocks.end > risk.n_blocks() {
            return Err(format!("scenario blocks {:?} beyond the job's {}", work.blocks, risk.n_blocks()));
        }
        let todo: Vec<u64> =
            (work.blocks.start..work.blocks.end).filter(|&b| !work.is_done(b - work.blocks.start)).collect();
        todo.into_par_iter().for_each(|b| {
            if cancelled.load(Ordering::Relaxed) {
                return;
            }
            let t0 = Instant::now();
            let block = risk.block(b, isa);
            micros.fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
            out(block
                .pnl
                .into_iter()
                .enumerate()
                .map(|(t, pnl)| pb::BlockResult { pnl, ..result(t as u32, b) })
                .collect());
        });
    } else {
        let n_trades = job.compiled.trades.len() as u32;
        if work.trades.end > n_trades || work.blocks.end > job.compiled.n_blocks() {
            return Err(format!("trades {:?} × blocks {:?} are beyond the job", work.trades, work.blocks));
        }
        let width = work.blocks.end - work.blocks.start;
        let pairs: Vec<(u32, u64)> = work
            .blocks
            .clone()
            .flat_map(|b| work.trades.clone().map(move |t| (t, b)))
            .filter(|&(t, b)| !work.is_done(u64::from(t - work.trades.start) * width + (b - work.blocks.start)))
            .collect();
        pairs.into_par_iter().for_each(|(t, b)| {
            if cancelled.load(Ordering::Relaxed) {
                return;
            }
            let t0 = Instant::now();
            let tb = price_trade_block(&job.compiled, t as usize, b, isa);
            micros.fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
            // Zeros normalised to +0.0: the wire cannot carry -0.0 in these fields.
            let moments = tb.moments.iter().map(|m| pb::Moments { n: m.n, sum: m.sum + 0.0, m2: m.m2 + 0.0 }).collect();
            out(vec![pb::BlockResult { moments, ..result(t, b) }]);
        });
    }
    Ok(micros.load(Ordering::Relaxed))
}

/// Starts `f` on the pool now; the returned future yields its result without blocking tokio.
pub fn on_pool<T: Send + 'static>(
    pool: &Arc<rayon::ThreadPool>,
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let _ = tx.send(f());
    });
    rx
}
