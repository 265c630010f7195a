//! The in-process measurements the grid's figures are held against: one block's CPU time,
//! the efficiency job computed without the grid, and a scheduler's memory per queued task.

use super::{WORKERS, european_spec};
use crate::bench::status_kib;
use crate::exit::Failure;
use riskcalc::kernel::Isa;
use riskcalc::plan::CompiledJob;
use std::time::Instant;

/// CPU time this thread has run, in seconds (`CLOCK_THREAD_CPUTIME_ID`; `None` where missing).
/// Not `/proc/thread-self/schedstat`: for a running thread that lags by up to a
/// scheduler tick (4 ms at HZ=250), which made 5.3 ms blocks read as 4 or 8 ms.
fn thread_cpu_seconds() -> Option<f64> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

/// Median CPU time (wall time where the thread's CPU time is unavailable) of one block on one
/// thread, with every core doing the same, in this process (compilation excluded). CPU time, so
/// that other load on the machine does not inflate it.
fn one_block_seconds(block_size: u64, isa: Isa, repeat: usize) -> Result<f64, Failure> {
    // Distinct blocks, as the grid computes them (not one block over and over).
    let blocks = (repeat as u64 + 1) * WORKERS as u64;
    let spec = european_spec(block_size * blocks, block_size)?;
    let job = CompiledJob::compile(&spec, isa);
    // One block per core on all `WORKERS` cores at once, as the grid runs them.
    let per_thread = on_worker_threads(|w| {
        let first = w * (repeat as u64 + 1);
        std::hint::black_box(riskcalc::engine::price_trade_block(&job, 0, first, isa));
        (first + 1..=first + repeat as u64)
            .map(|b| {
                let (t, cpu) = (Instant::now(), thread_cpu_seconds());
                std::hint::black_box(riskcalc::engine::price_trade_block(&job, 0, b, isa));
                match (cpu, thread_cpu_seconds()) {
                    (Some(a), Some(b)) => b - a,
                    _ => t.elapsed().as_secs_f64(),
                }
            })
            .collect::<Vec<f64>>()
    })?;
    let mut times: Vec<f64> = per_thread.into_iter().flatten().collect();
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Wall time of the grid's efficiency job computed in-process: blocks `0..blocks` of
/// `block_size` paths on `WORKERS` threads, each thread taking the next block as it
/// finishes one, as the grid's workers pull tasks. This is the ideal the grid's wall time
/// is held against: the same blocks on the same cores over seconds, so that the VM's
/// speed, its steal time and each block's variance weigh on both alike (a few blocks' CPU
/// time sampled around the run do not follow the speed of a shared VM, which moves by
/// ±10% from one second to the next).
pub(super) fn in_process_seconds(block_size: u64, blocks: u64, isa: Isa) -> Result<f64, Failure> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let spec = european_spec(block_size * blocks, block_size)?;
    let job = CompiledJob::compile(&spec, isa);
    let next = AtomicU64::new(0);
    let started = Instant::now();
    on_worker_threads(|_| {
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                break;
            }
            std::hint::black_box(riskcalc::engine::price_trade_block(&job, 0, b, isa));
        }
    })?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs `f(w)` for w in `0..WORKERS` on as many threads at once, each inside a one-thread
/// rayon pool (as each bench worker computes); the results in thread order.
fn on_worker_threads<T: Send>(f: impl Fn(u64) -> T + Sync) -> Result<Vec<T>, Failure> {
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = (0..WORKERS as u64)
            .map(|w| scope.spawn(move || Ok(crate::run::thread_pool(Some(1))?.install(|| f(w)))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Failure::Other(anyhow::anyhow!("bench thread panicked")))))
            .collect()
    })
}

/// A European block size (multiple of 8, 64..=2^20) taking about `seconds` on one core.
pub(super) fn block_size_for(seconds: f64, isa: Isa) -> Result<u64, Failure> {
    let probe = 65_536;
    let per_path = one_block_seconds(probe, isa, 7)? / probe as f64;
    let guess = ((seconds / per_path.max(1e-12) / 8.0).round() as u64 * 8).clamp(64, 1 << 20);
    // Time per path depends on the block size (cache); correct once at the guessed size.
    let per_path = one_block_seconds(guess, isa, 7)? / guess as f64;
    Ok(((seconds / per_path.max(1e-12) / 8.0).round() as u64 * 8).clamp(64, 1 << 20))
}

/// RSS growth of an in-process scheduler (no store, as served) holding one queued job of `tasks` tasks.
pub(super) fn queued_memory_mib(tasks: u64) -> Result<(f64, f64), Failure> {
    use riskgrid_scheduler::{MonotonicClock, NoStore, Scheduler, SchedulerConfig, SubmitRequest, TenantId};
    let spec = european_spec(tasks * 64, 64)?;
    let config = SchedulerConfig { initial_throughput: 1.0, ..SchedulerConfig::default() };
    let rss = || status_kib("/proc/self/status", "VmRSS:").unwrap_or(0.0) / 1024.0;
    let before = rss();
    let t = Instant::now();
    let mut sched = Scheduler::new(config, MonotonicClock::new(), NoStore);
    sched
        .submit(&TenantId("default".into()), SubmitRequest::new(spec))
        .map_err(|e| Failure::Other(anyhow::anyhow!("submitting the 1M-task job: {e}")))?;
    let planned = sched.stats().queued_core_seconds;
    std::hint::black_box(planned);
    let after = rss();
    let seconds = t.elapsed().as_secs_f64();
    drop(sched);
    Ok((after - before, seconds))
}
