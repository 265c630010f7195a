//! Property: whatever the interleaving of leases, reports (duplicated, late,
//! out of order), expiries and worker deaths, the final report is bit-identical
//! to `riskcalc::engine::run_pricing` on the same compiled job (or, with early
//! stop, to running exactly the prefix of blocks it used).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use riskgrid_scheduler::{
    Error, JobState, Lease, ManualClock, MemStore, Scheduler, SchedulerConfig, SubmitRequest, TenantId, WorkerId,
};
use std::sync::{Arc, LazyLock};

#[derive(Debug, Clone)]
enum Op {
    Lease {
        w: usize,
        n: usize,
    },
    /// Report one result of a lease the worker holds (its `k`-th block).
    Report {
        w: usize,
        pick: usize,
        k: usize,
    },
    /// Report every result of a lease, last first.
    ReportAll {
        w: usize,
        pick: usize,
    },
    /// Report a result of any lease ever issued, from any worker (late or duplicate).
    ReportStale {
        w: usize,
        pick: usize,
        k: usize,
    },
    Complete {
        w: usize,
        pick: usize,
    },
    Heartbeat {
        w: usize,
    },
    Advance {
        ms: u64,
    },
    /// The worker dies silently: it stops acting, its leases expire later.
    Die {
        w: usize,
    },
    /// The worker is declared lost at once.
    Lost {
        w: usize,
    },
    /// A fresh worker takes the slot.
    Join {
        w: usize,
    },
}

const WORKERS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let w = 0..WORKERS;
    prop_oneof![
        3 => (w.clone(), 1..4usize).prop_map(|(w, n)| Op::Lease { w, n }),
        4 => (w.clone(), any::<usize>(), any::<usize>()).prop_map(|(w, pick, k)| Op::Report { w, pick, k }),
        2 => (w.clone(), any::<usize>()).prop_map(|(w, pick)| Op::ReportAll { w, pick }),
        2 => (w.clone(), any::<usize>(), any::<usize>()).prop_map(|(w, pick, k)| Op::ReportStale { w, pick, k }),
        2 => (w.clone(), any::<usize>()).prop_map(|(w, pick)| Op::Complete { w, pick }),
        2 => w.clone().prop_map(|w| Op::Heartbeat { w }),
        2 => (0..2_500u64).prop_map(|ms| Op::Advance { ms }),
        1 => w.clone().prop_map(|w| Op::Die { w }),
        1 => w.clone().prop_map(|w| Op::Lost { w }),
        1 => w.prop_map(|w| Op::Join { w }),
    ]
}

static EARLY: LazyLock<(riskcalc::spec::JobSpec, f64)> = LazyLock::new(|| {
    let (_, oracle) = &*SMALL;
    let worst = oracle.report.trades.iter().map(|t| t.std_error).fold(0.0, f64::max);
    let target = worst * 1.3;
    (spec(20, Some(target)), target)
});

struct Slot {
    id: WorkerId,
    alive: bool,
    held: Vec<Lease>,
}

fn ok_or_gone<T>(r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(Error::UnknownWorker(_)) => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn run(ops: Vec<Op>, throughput: f64, early: bool) -> Result<(), TestCaseError> {
    let (spec, oracle) = &*SMALL;
    let spec = if early { EARLY.0.clone() } else { spec.clone() };
    let clock = Arc::new(ManualClock::new(0));
    let cfg = SchedulerConfig { max_attempts: u32::MAX, ..config(throughput) };
    let mut s = Scheduler::new(cfg, clock.clone(), MemStore::new());
    let tenant = TenantId::from("t");
    let job = s.submit(&tenant, SubmitRequest::new(spec)).unwrap();
    let mut slots: Vec<Slot> =
        (0..WORKERS).map(|_| Slot { id: worker(&mut s, 2), alive: true, held: Vec::new() }).collect();
    let mut history: Vec<Lease> = Vec::new();

    for op in ops {
        match op {
            Op::Lease { w, n } if slots[w].alive => {
                if let Some(leases) = ok_or_gone(s.lease(slots[w].id, n)) {
                    history.extend(leases.iter().cloned());
                    slots[w].held.extend(leases);
                }
            }
            Op::Report { w, pick, k } if slots[w].alive && !slots[w].held.is_empty() => {
                let l = slots[w].held[pick % slots[w].held.len()].clone();
                let results = oracle.results(&l.kind);
                let r = results[k % results.len()].clone();
                ok_or_gone(s.report(slots[w].id, l.task, r));
            }
            Op::ReportAll { w, pick } if slots[w].alive && !slots[w].held.is_empty() => {
                let i = pick % slots[w].held.len();
                let l = slots[w].held.remove(i);
                for r in oracle.results(&l.kind).into_iter().rev() {
                    ok_or_gone(s.report(slots[w].id, l.task, r));
                }
            }
            Op::ReportStale { w, pick, k } if slots[w].alive && !history.is_empty() => {
                let l = history[pick % history.len()].clone();
                let results = oracle.results(&l.kind);
                ok_or_gone(s.report(slots[w].id, l.task, results[k % results.len()].clone()));
            }
            Op::Complete { w, pick } if slots[w].alive && !slots[w].held.is_empty() => {
                let i = pick % slots[w].held.len();
                let l = slots[w].held.remove(i);
                ok_or_gone(s.complete_task(slots[w].id, l.task, Some(3_000)));
            }
            Op::Heartbeat { w } if slots[w].alive => {
                if let Some(reply) = ok_or_gone(s.heartbeat(slots[w].id)) {
                    slots[w].held.retain(|l| !reply.revoked.contains(&l.task));
                }
            }
            Op::Advance { ms } => {
                clock.advance(ms);
                s.tick().unwrap();
            }
            Op::Die { w } => slots[w].alive = false,
            Op::Lost { w } => {
                let _ = s.worker_lost(slots[w].id);
                slots[w].alive = false;
            }
            Op::Join { w } if !slots[w].alive => {
                slots[w] = Slot { id: worker(&mut s, 2), alive: true, held: Vec::new() };
            }
            _ => {}
        }
        // A result is never lost: whatever the interleaving, the merged
        // prefix only grows and the job never fails.
        let failed = matches!(s.job(job).unwrap().state(), JobState::Failed { .. });
        prop_assert!(!failed, "the job failed");
    }

    // Let stuck leases expire, then an honest worker finishes the job.
    clock.advance(10_000);
    s.tick().unwrap();
    run_to_end(&mut s, job, oracle, 2);
    let result = s.job_status(job).unwrap().result.unwrap();
    if early {
        let target = EARLY.1;
        prop_assert!(result.pricing.trades.iter().all(|t| t.std_error <= target));
        prop_assert_eq!(result.paths_used, result.pricing.paths);
        prop_assert_eq!(bits(&result.pricing), bits(&oracle.prefix_report(result.blocks_used)));
    } else {
        prop_assert!(!result.stopped_early);
        prop_assert_eq!(bits(&result.pricing), bits(&oracle.report));
    }
    prop_assert_eq!(s.stats().leases, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_gives_the_in_process_bits(
        ops in prop::collection::vec(op(), 0..120),
        split in any::<bool>(),
        early in prop::bool::weighted(0.3),
    ) {
        run(ops, if split { SPLIT_TRADES } else { TWO_BLOCKS }, early)?;
    }
}
