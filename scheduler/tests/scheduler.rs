//! The scheduler facade end to end, with real blocks and a manual clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use riskgrid_scheduler::{
    Error, ErrorCode, Fate, JobState, MemStore, Scheduler, SchedulerConfig, SubmitRequest, TaskKind, TaskStatus,
    TenantConfig, TenantId,
};

fn tenant() -> TenantId {
    TenantId::from("desk")
}

#[test]
fn honest_workers_give_the_in_process_bits() {
    let (spec, oracle) = &*SMALL;
    for throughput in [TWO_BLOCKS, SPLIT_TRADES, 1.0e12] {
        let mut s = Scheduler::new(config(throughput), manual(), MemStore::new());
        let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
        let n_tasks = s.job(job).unwrap().n_tasks();
        let expected_tasks = match throughput {
            TWO_BLOCKS => 10,
            SPLIT_TRADES => 40,
            _ => 1,
        };
        assert_eq!(n_tasks, expected_tasks, "throughput {throughput}");
        run_to_end(&mut s, job, oracle, 3);
        let status = s.job_status(job).unwrap();
        assert_eq!(status.state, "succeeded");
        let result = status.result.unwrap();
        assert_eq!(bits(&result.pricing), bits(&oracle.report));
        assert!(!result.stopped_early);
        assert_eq!(result.paths_used, oracle.compiled.paths);
        assert_eq!(status.progress.percent, 100.0);
        assert_eq!(s.stats().leases, 0);
    }
}

#[test]
fn submit_is_idempotent_and_bad_specs_create_nothing() {
    let (spec, _) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let req = SubmitRequest { client_request_id: Some("r-1".into()), ..SubmitRequest::new(spec.clone()) };
    let a = s.submit(&tenant(), req.clone()).unwrap();
    assert_eq!(s.submit(&tenant(), req.clone()).unwrap(), a);
    // The same request id from another tenant is another job.
    assert_ne!(s.submit(&"other".into(), req.clone()).unwrap(), a);
    let mut changed = req.clone();
    changed.spec.seed += 1;
    let err = s.submit(&tenant(), changed).unwrap_err();
    assert!(matches!(err, Error::RequestIdReused { job, .. } if job == a));
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);

    let mut bad = spec.clone();
    bad.analysis.paths = 0;
    bad.portfolio.clear();
    let err = s.submit(&"fresh".into(), SubmitRequest::new(bad)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let msg = err.to_string();
    assert!(msg.contains("analysis.paths") && msg.contains("portfolio"), "{msg}");
    assert!(s.list_jobs(&"fresh".into()).is_empty());
    assert_eq!(s.list_jobs(&tenant()).len(), 1);
    assert!(s.store().job(riskgrid_scheduler::JobId(3)).is_none());
}

#[test]
fn unknown_tenants_are_refused_without_a_default() {
    let (spec, _) = &*SMALL;
    let cfg = SchedulerConfig { default_tenant: None, ..config(TWO_BLOCKS) };
    let mut s = Scheduler::new(cfg, manual(), MemStore::new());
    let err = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap_err();
    assert_eq!(err, Error::UnknownTenant(tenant()));
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[test]
fn expired_leases_are_retried_then_the_job_fails_with_the_reason() {
    let (spec, _) = &*SMALL;
    let clock = manual();
    let mut s = Scheduler::new(config(TWO_BLOCKS), clock.clone(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let w = worker(&mut s, 1);
    let mut attempts = Vec::new();
    for _ in 0..3 {
        let leases = s.lease(w, 1).unwrap();
        assert_eq!(leases.len(), 1);
        assert_eq!(leases[0].task.index, 0, "the retry goes first");
        attempts.push(leases[0].attempt);
        // Heartbeats keep the lease alive past its first deadline...
        clock.advance(800);
        assert_eq!(s.heartbeat(w).unwrap().renewed, 1);
        clock.advance(800);
        assert!(s.tick().unwrap().expired.is_empty());
        // ...silence lets it expire (the worker itself is still registered).
        clock.advance(1_000);
        let tick = s.tick().unwrap();
        assert_eq!(tick.expired.len(), 1);
        // The worker heartbeats again so it is not dropped.
        s.heartbeat(w).unwrap();
    }
    assert_eq!(attempts, vec![1, 2, 3]);
    let status = s.job_status(job).unwrap();
    assert_eq!(status.state, "failed");
    let reason = status.reason.unwrap();
    assert!(reason.contains("job-1.t0") && reason.contains("3 times") && reason.contains("retry limit"), "{reason}");
    assert!(reason.contains("lease on worker-1 expired"), "{reason}");
    assert!(s.lease(w, 5).unwrap().is_empty());
    assert_eq!(s.tenant_usage(&tenant()).unwrap().leases, 0);
    assert_eq!(s.tenant_usage(&tenant()).unwrap().jobs, 0);
}

#[test]
fn cancel_frees_every_lease_and_tells_the_workers() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let (w1, w2) = (worker(&mut s, 2), worker(&mut s, 1));
    let held1 = s.lease(w1, 10).unwrap();
    let held2 = s.lease(w2, 10).unwrap();
    assert_eq!((held1.len(), held2.len()), (4, 2));
    assert_eq!(s.tenant_usage(&tenant()).unwrap().leases, 6);
    assert_eq!(s.cancel(&"intruder".into(), job), Err(Error::NotYourJob { job }));
    s.cancel(&tenant(), job).unwrap();
    assert!(s.worker_leases(w1).is_empty() && s.worker_leases(w2).is_empty());
    assert_eq!(s.stats().leases, 0);
    assert_eq!(s.tenant_usage(&tenant()).unwrap().leases, 0);
    let revoked = s.heartbeat(w1).unwrap().revoked;
    assert_eq!(revoked, held1.iter().map(|l| l.task).collect::<Vec<_>>());
    assert_eq!(s.heartbeat(w2).unwrap().revoked.len(), 2);
    // Late results change nothing; nothing more is leased.
    let r = oracle.results(&held1[0].kind).remove(0);
    assert_eq!(s.report(w1, held1[0].task, r).unwrap(), Fate::Duplicate);
    assert!(s.lease(w1, 10).unwrap().is_empty());
    assert!(matches!(s.job(job).unwrap().state(), JobState::Cancelled { .. }));
    assert_eq!(s.cancel(&tenant(), job), Err(Error::JobFinished { job, state: "cancelled" }));
}

#[test]
fn late_and_duplicate_reports_are_merged_once() {
    let (spec, oracle) = &*SMALL;
    let clock = manual();
    let mut s = Scheduler::new(config(TWO_BLOCKS), clock.clone(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let slow = worker(&mut s, 1);
    let first = s.lease(slow, 1).unwrap().remove(0);
    clock.advance(2_000);
    s.tick().unwrap();
    let fast = worker(&mut s, 1);
    let retry = s.lease(fast, 1).unwrap().remove(0);
    assert_eq!((retry.task, retry.attempt), (first.task, 2));
    // The slow worker's late results are still good: merged once.
    let results = oracle.results(&first.kind);
    assert_eq!(s.report(slow, first.task, results[0].clone()).unwrap(), Fate::Merged { with_buffered: 0 });
    assert_eq!(s.report(slow, first.task, results[0].clone()).unwrap(), Fate::Duplicate);
    for r in results.iter().rev() {
        s.report(fast, retry.task, r.clone()).unwrap();
    }
    assert_eq!(s.job(job).unwrap().task_status(0), Some(TaskStatus::Done));
    assert!(s.worker_leases(fast).is_empty(), "done task frees its lease");
    // A block outside the task is refused.
    let stray = oracle.results(&TaskKind::Pricing { trades: 0..1, blocks: 7..8 }).remove(0);
    let err = s.report(fast, retry.task, stray).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    run_to_end(&mut s, job, oracle, 2);
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
}

#[test]
fn completing_without_every_block_is_a_failed_attempt_and_completion_calibrates() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let w = worker(&mut s, 1);
    let l = s.lease(w, 1).unwrap().remove(0);
    let results = oracle.results(&l.kind);
    s.report(w, l.task, results[0].clone()).unwrap();
    assert_eq!(s.complete_task(w, l.task, Some(5_000)).unwrap(), TaskStatus::Pending);
    assert_eq!(s.cost_model().observations(), 0);
    let again = s.lease(w, 1).unwrap().remove(0);
    assert_eq!((again.task, again.attempt), (l.task, 2));
    for r in &results[1..] {
        s.report(w, again.task, r.clone()).unwrap();
    }
    assert_eq!(s.complete_task(w, again.task, Some(100_000)).unwrap(), TaskStatus::Done);
    assert_eq!(s.cost_model().observations(), 1);
    let cost = s.job(job).unwrap().task(0).unwrap().cost as f64;
    assert_eq!(s.cost_model().throughput(), cost / 0.1);
}

#[test]
fn silent_workers_are_dropped_and_their_tasks_rerun() {
    let (spec, oracle) = &*SMALL;
    let clock = manual();
    let mut s = Scheduler::new(config(TWO_BLOCKS), clock.clone(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let dead = worker(&mut s, 4);
    assert_eq!(s.lease(dead, 100).unwrap().len(), 8);
    clock.advance(5_000);
    let tick = s.tick().unwrap();
    assert_eq!(tick.workers_lost, vec![dead]);
    assert_eq!(tick.expired.len(), 8);
    assert_eq!(s.heartbeat(dead).unwrap_err(), Error::UnknownWorker(dead));
    run_to_end(&mut s, job, oracle, 1);
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
    assert_eq!(s.stats().lease_expiries, 8);
}

#[test]
fn early_stop_merges_exactly_a_prefix_and_reports_the_paths() {
    let full = spec(100, None);
    let oracle = Oracle::new(&full);
    let worst = oracle.report.trades.iter().map(|t| t.std_error).fold(0.0, f64::max);
    let target = worst * 1.5;
    let early = spec(100, Some(target));
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(early.clone())).unwrap();
    run_to_end(&mut s, job, &oracle, 1);
    let status = s.job_status(job).unwrap();
    let result = status.result.unwrap();
    assert!(result.stopped_early);
    assert!(result.blocks_used < 100 && result.blocks_used > 10, "{}", result.blocks_used);
    assert_eq!(result.paths_used, result.blocks_used * u64::from(BLOCK));
    assert!(result.pricing.trades.iter().all(|t| t.std_error <= target));
    assert_eq!(bits(&result.pricing), bits(&oracle.prefix_report(result.blocks_used)));
    // The stop is the first block prefix meeting the target: the same bits as
    // the in-process run of the early-stop job.
    assert_eq!(bits(&result.pricing), bits(&Oracle::new(&early).report));
    assert_eq!(status.progress.percent, 100.0);
    assert_eq!(status.progress.blocks_target, result.blocks_used);
    // Tasks beyond the stop were never issued.
    let j = s.job(job).unwrap();
    let skipped = (0..j.n_tasks()).filter(|&i| j.task_status(i) == Some(TaskStatus::Skipped)).count();
    assert_eq!(skipped as u64, (100 - result.blocks_used) / 2);
    assert_eq!(s.store().job(job).unwrap().stop_at, Some(result.blocks_used));
}

#[test]
fn progress_reports_a_running_estimate_with_intervals() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert_eq!(s.job_status(job).unwrap().state, "queued");
    let w = worker(&mut s, 1);
    honest_round(&mut s, w, 2, |l| oracle.results(&l.kind));
    let p = s.job_status(job).unwrap().progress;
    assert_eq!(s.job_status(job).unwrap().state, "running");
    assert_eq!(p.blocks_merged, 4);
    assert!((p.percent - 20.0).abs() < 1e-9, "{}", p.percent);
    assert_eq!(p.trades.len(), 2);
    assert!(p.trades[0].low < p.trades[0].value && p.trades[0].value < p.trades[0].high);
    assert_eq!(p.portfolio.value, p.estimate.portfolio.value);
    assert_eq!(p.estimate.paths, 4 * u64::from(BLOCK));
}

#[test]
fn a_restarted_scheduler_resumes_from_its_store_with_the_same_bits() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let req = SubmitRequest { client_request_id: Some("once".into()), ..SubmitRequest::new(spec.clone()) };
    let job = s.submit(&tenant(), req.clone()).unwrap();
    let w = worker(&mut s, 2);
    // Half the blocks, out of order, some tasks half-reported; then a crash.
    let leases = s.lease(w, 4).unwrap();
    for l in leases.iter().rev() {
        let results = oracle.results(&l.kind);
        let n = if l.task.index % 2 == 0 { results.len() } else { 1 };
        for r in results.into_iter().take(n) {
            s.report(w, l.task, r).unwrap();
        }
    }
    let accepted_later = s.submit(&"other".into(), SubmitRequest::new(spec.clone())).unwrap();
    let store = s.into_store();

    let mut s = Scheduler::recover(config(TWO_BLOCKS), manual(), store).unwrap();
    assert_eq!(s.submit(&tenant(), req).unwrap(), job, "request ids survive restarts");
    let j = s.job(job).unwrap();
    assert_eq!(j.task_status(0), Some(TaskStatus::Done));
    assert_eq!(j.task_status(1), Some(TaskStatus::Pending));
    assert_eq!(j.task_status(2), Some(TaskStatus::Done));
    run_to_end(&mut s, job, oracle, 2);
    run_to_end(&mut s, accepted_later, oracle, 2);
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
    assert_eq!(bits(&s.job_status(accepted_later).unwrap().result.unwrap().pricing), bits(&oracle.report));
    // New ids continue after the recovered ones.
    let next = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert!(next > accepted_later);

    // Finished jobs come back finished.
    let s = Scheduler::recover(config(TWO_BLOCKS), manual(), s.into_store()).unwrap();
    assert_eq!(bits(&s.job_status(job).unwrap().result.unwrap().pricing), bits(&oracle.report));
}

#[test]
fn retention_forgets_finished_jobs() {
    let (spec, oracle) = &*SMALL;
    let clock = manual();
    let cfg = SchedulerConfig { retention_ms: Some(60_000), ..config(1.0e12) };
    let mut s = Scheduler::new(cfg, clock.clone(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    run_to_end(&mut s, job, oracle, 1);
    clock.advance(59_999);
    assert!(s.tick().unwrap().jobs_purged.is_empty());
    clock.advance(1);
    assert_eq!(s.tick().unwrap().jobs_purged, vec![job]);
    assert_eq!(s.job_status(job).unwrap_err(), Error::UnknownJob(job));
    assert!(s.store().job(job).is_none());
}

#[test]
fn tenant_limits_refuse_jobs_and_cap_cores() {
    let (spec, _) = &*SMALL;
    let mut cfg = config(TWO_BLOCKS);
    cfg.tenants.insert(tenant(), TenantConfig { share: 1, max_queued_jobs: 1, max_cores: 2 });
    let mut s = Scheduler::new(cfg, manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let err = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap_err();
    assert_eq!(err, Error::TooManyQueuedJobs { tenant: tenant(), limit: 1 });
    assert_eq!(err.code(), ErrorCode::ResourceExhausted);
    let w = worker(&mut s, 8);
    assert_eq!(s.lease(w, 100).unwrap().len(), 2, "capped at the tenant's 2 cores");
    // Another tenant still gets the rest of the worker.
    let other = s.submit(&"other".into(), SubmitRequest::new(spec.clone())).unwrap();
    let more = s.lease(w, 100).unwrap();
    assert_eq!(more.len(), 10);
    assert!(more.iter().all(|l| l.task.job == other));
    s.cancel(&tenant(), job).unwrap();
    assert!(s.submit(&tenant(), SubmitRequest::new(spec.clone())).is_ok(), "room again after the cancel");
}

#[test]
fn priorities_order_jobs_within_a_tenant() {
    let (spec, _) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let low = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let high = s.submit(&tenant(), SubmitRequest { priority: 5, ..SubmitRequest::new(spec.clone()) }).unwrap();
    let w = worker(&mut s, 8);
    let leases = s.lease(w, 12).unwrap();
    assert!(leases[..10].iter().all(|l| l.task.job == high));
    assert!(leases[10..].iter().all(|l| l.task.job == low));
}

#[test]
fn two_tenants_with_shares_one_to_three_get_cores_one_to_three() {
    let big = common::spec(400, None);
    let compiled = riskcalc::plan::CompiledJob::compile(&big, riskcalc::kernel::Isa::Scalar);
    let mut cfg = config(SPLIT_TRADES);
    cfg.prefetch_per_core = 0;
    let (a, b) = (TenantId::from("a"), TenantId::from("b"));
    cfg.tenants.insert(a.clone(), TenantConfig { share: 1, ..TenantConfig::default() });
    cfg.tenants.insert(b.clone(), TenantConfig { share: 3, ..TenantConfig::default() });
    let mut s = Scheduler::new(cfg, manual(), MemStore::new());
    for t in [&a, &b] {
        for _ in 0..2 {
            s.submit(t, SubmitRequest::new(big.clone())).unwrap();
        }
    }
    let workers: Vec<_> = (0..4).map(|_| worker(&mut s, 4)).collect();
    let mut cores = [0u64; 2];
    for _ in 0..100 {
        let mut held = Vec::new();
        for &w in &workers {
            let leases = s.lease(w, usize::MAX).unwrap();
            assert_eq!(leases.len(), 4, "the grid stays saturated");
            held.extend(leases.into_iter().map(|l| (w, l)));
        }
        for (w, l) in held {
            // Each tenant's jobs alternate trade groups of unequal cost: count
            // core-seconds by the task's estimate.
            let tenant = s.job(l.task.job).unwrap().tenant().clone();
            let cost = s.job(l.task.job).unwrap().task(l.task.index).unwrap().cost;
            cores[usize::from(tenant == b)] += cost;
            for r in fake_results(&compiled, &l.kind) {
                s.report(w, l.task, r).unwrap();
            }
            s.complete_task(w, l.task, None).unwrap();
        }
    }
    let ratio = cores[1] as f64 / cores[0] as f64;
    assert!((ratio - 3.0).abs() <= 0.3, "b/a = {ratio}");
    let (ua, ub) = (s.tenant_usage(&a).unwrap(), s.tenant_usage(&b).unwrap());
    assert!((ub.core_seconds / ua.core_seconds - 3.0).abs() <= 0.3);
}

#[test]
fn risk_jobs_run_as_scenario_block_tasks_with_the_in_process_bits() {
    use riskcalc::kernel::Isa;
    use riskcalc::risk::{RiskJob, run_risk};
    use riskgrid_scheduler::BlockResult;
    let text = "seed: 9
market:
  rate: 0.02
  underlyings:
    - {id: SPX, spot: 100.0, vol: 0.25}
portfolio:
  - {id: call, instrument: {type: european, underlying: SPX, option: call, strike: 105, maturity: 1.0}}
  - {id: asian, quantity: 3, instrument: {type: asian, underlying: SPX, option: put, strike: 95, maturity: 0.5, fixings: 4, average: arithmetic}}
analysis:
  paths: 640
  block_size: 64
  risk:
    horizon_days: 10
    confidence: [0.99, 0.95]
    scenarios:
      monte_carlo: {count: 300, vol_of_vol: 0.5}
    inner_paths: 64
    scenario_block: 32
";
    let spec = riskcalc::spec::parse_yaml(text).unwrap();
    let isa = Isa::detect();
    let oracle = Oracle::new(&spec);
    let risk_job = RiskJob::new(&spec, spec.analysis.risk.as_ref().unwrap(), None, isa);
    let expected_risk = run_risk(&risk_job, isa, |_, _| {});
    let mut s = Scheduler::new(config(1.0e4), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let j = s.job(job).unwrap();
    let risk_tasks = (0..j.n_tasks()).filter(|&i| !j.task(i).unwrap().kind.is_pricing()).count();
    assert!(risk_tasks > 1, "{risk_tasks} risk tasks");
    let w = worker(&mut s, 2);
    for _ in 0..1000 {
        if s.job(job).unwrap().state().is_terminal() {
            break;
        }
        // Out of order: last lease first, last block first.
        let leases = s.lease(w, 4).unwrap();
        for l in leases.iter().rev() {
            let results = match &l.kind {
                TaskKind::Pricing { .. } => oracle.results(&l.kind),
                TaskKind::Risk { blocks } => {
                    blocks.clone().map(|b| BlockResult::Risk(risk_job.block(b, isa))).collect()
                }
            };
            for r in results.into_iter().rev() {
                s.report(w, l.task, r).unwrap();
            }
        }
    }
    let result = s.job_status(job).unwrap().result.unwrap();
    assert_eq!(bits(&result.pricing), bits(&oracle.report));
    assert_eq!(serde_json::to_string(&result.risk).unwrap(), serde_json::to_string(&Some(expected_risk)).unwrap());
}

#[test]
fn historical_var_needs_its_scenario_file_and_then_matches_run_risk() {
    use riskcalc::kernel::Isa;
    use riskcalc::risk::{RiskJob, run_risk};
    let text = "seed: 5
market: {rate: 0.0, underlyings: [{id: A, spot: 100, vol: 0.2}]}
portfolio: [{id: s, quantity: 3, instrument: {type: stock, underlying: A}}]
analysis:
  paths: 64
  risk: {horizon_days: 1, confidence: [0.9], scenarios: {historical: {file: r.csv}}}
";
    let csv = "A\n-0.1\n0.05\n-0.02\n0.01\n0.03\n-0.04\n0.0\n0.02\n-0.01\n0.04\n";
    let spec = riskcalc::spec::parse_yaml(text).unwrap();
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let err = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap_err().to_string();
    assert!(err.contains("analysis.risk.scenarios.historical.file"), "{err}");
    assert!(s.list_jobs(&tenant()).is_empty(), "a refused job must not be created");
    let bad = SubmitRequest { historical_csv: Some("A\nnot-a-number\n".into()), ..SubmitRequest::new(spec.clone()) };
    assert!(s.submit(&tenant(), bad).unwrap_err().to_string().contains("historical_csv"));
    let ok = SubmitRequest { historical_csv: Some(csv.into()), ..SubmitRequest::new(spec.clone()) };
    let job = s.submit(&tenant(), ok).unwrap();
    let market = riskcalc::plan::Market::from_spec(&spec);
    let scenarios =
        riskcalc::risk::scenarios::historical_scenarios(csv, &market, &[0], riskcalc::spec::ReturnType::Log).unwrap();
    let risk = RiskJob::new(&spec, spec.analysis.risk.as_ref().unwrap(), Some(scenarios), Isa::detect());
    let expected = run_risk(&risk, Isa::detect(), |_, _| {});
    let compiled = riskcalc::plan::CompiledJob::compile(&spec, Isa::detect());
    let w = worker(&mut s, 1);
    for _ in 0..100 {
        if s.job(job).unwrap().state().is_terminal() {
            break;
        }
        honest_round(&mut s, w, 4, |l| match &l.kind {
            TaskKind::Risk { blocks } => {
                blocks.clone().map(|b| riskgrid_scheduler::BlockResult::Risk(risk.block(b, Isa::detect()))).collect()
            }
            TaskKind::Pricing { trades, blocks } => trades
                .clone()
                .flat_map(|t| blocks.clone().map(move |b| (t, b)))
                .map(|(t, b)| {
                    riskgrid_scheduler::BlockResult::Pricing(riskcalc::engine::price_trade_block(
                        &compiled,
                        t as usize,
                        b,
                        Isa::detect(),
                    ))
                })
                .collect(),
        });
    }
    let result = s.job_status(job).unwrap().result.unwrap();
    assert_eq!(result.risk.unwrap(), expected);
}

#[test]
fn tasks_given_back_by_draining_workers_do_not_use_up_attempts() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    // Far more give-backs than the retry limit (3 in these tests) allows failures.
    for _ in 0..10 {
        let w = worker(&mut s, 1);
        let leases = s.lease(w, 1).unwrap();
        assert_eq!(leases.len(), 1);
        s.drain_worker(w).unwrap();
        s.return_task(w, leases[0].task).unwrap();
        assert!(!s.job(job).unwrap().state().is_terminal(), "{:?}", s.job(job).unwrap().state());
    }
    run_to_end(&mut s, job, oracle, 1);
    let result = s.job_status(job).unwrap().result.unwrap();
    assert_eq!(bits(&result.pricing), bits(&oracle.report));
}

#[test]
fn a_retried_task_names_the_results_already_merged_so_a_lost_worker_costs_only_its_unsent_blocks() {
    let (spec, oracle) = &*SMALL;
    let clock = manual();
    let mut s = Scheduler::new(config(TWO_BLOCKS), clock.clone(), MemStore::new());
    let job = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let w1 = worker(&mut s, 1);
    let first = s.lease(w1, 1).unwrap().remove(0);
    assert!(first.done.is_empty(), "nothing merged before the first attempt");
    let results = oracle.results(&first.kind);
    assert!(results.len() >= 2, "the test needs a task of several results");
    // The worker sends its first result, then vanishes (spot loss, kill -9).
    s.report(w1, first.task, results[0].clone()).unwrap();
    clock.advance(10_000);
    s.tick().unwrap();
    let w2 = worker(&mut s, 1);
    let retry = s.lease(w2, 1).unwrap().remove(0);
    assert_eq!((retry.task, retry.attempt), (first.task, 2));
    // Exactly slot 0 is marked: the retry computes only the rest.
    let mut expected = vec![0u8; results.len().div_ceil(8)];
    expected[0] = 1;
    assert_eq!(retry.done, expected);
    for r in &results[1..] {
        let fate = s.report(w2, retry.task, r.clone()).unwrap();
        assert!(matches!(fate, Fate::Merged { .. } | Fate::Buffered), "{fate:?}");
    }
    assert_eq!(s.complete_task(w2, retry.task, Some(5_000)).unwrap(), TaskStatus::Done);
    run_to_end(&mut s, job, oracle, 1);
    let result = s.job_status(job).unwrap().result.unwrap();
    assert_eq!(bits(&result.pricing), bits(&oracle.report));
}

#[test]
fn worker_messages_renew_leases_at_most_every_sixteenth_of_a_lease_and_heartbeats_always() {
    let (spec, _) = &*SMALL;
    let clock = manual();
    let mut s = Scheduler::new(config(TWO_BLOCKS), clock.clone(), MemStore::new());
    s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let (quiet, chatty) = (worker(&mut s, 1), worker(&mut s, 1));
    // Both lease at t0; each lease ends at t0 + 1000 unless renewed.
    let quiet_task = s.lease(quiet, 1).unwrap()[0].task;
    let chatty_task = s.lease(chatty, 1).unwrap()[0].task;
    // 30 ms later (under 1000/16): a message that is no heartbeat does not renew...
    clock.advance(30);
    assert!(s.lease(quiet, 0).unwrap().is_empty());
    // ...a heartbeat does.
    assert_eq!(s.heartbeat(chatty).unwrap().renewed, 1);
    clock.advance(970);
    assert_eq!(s.tick().unwrap().expired, vec![quiet_task], "only the quiet lease ran out at t0 + 1000");
    // Past 1/16 of a lease since the last renewal, any message renews.
    let again = s.lease(quiet, 1).unwrap()[0].task;
    clock.advance(100);
    assert!(s.lease(quiet, 0).unwrap().is_empty());
    clock.advance(950);
    let expired = s.tick().unwrap().expired;
    assert!(!expired.contains(&again), "renewed at +100 ms, so alive at +1050 ms: {expired:?}");
    assert!(expired.contains(&chatty_task), "the chatty worker fell silent after its heartbeat: {expired:?}");
}

#[test]
fn asking_again_and_again_does_not_pile_long_tasks_on_one_worker() {
    let (spec, _) = &*SMALL;
    // Two-block tasks of ~0.5 s estimated each: far more than the batch allowance.
    let mut s = Scheduler::new(config(TWO_BLOCKS), manual(), MemStore::new());
    s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let greedy = worker(&mut s, 1);
    for _ in 0..10 {
        s.lease(greedy, 100).unwrap();
    }
    assert_eq!(s.worker_leases(greedy).len(), 2, "one task per core plus one prefetched, however often it asks");
    // The rest is there for the next worker.
    let other = worker(&mut s, 1);
    assert_eq!(s.lease(other, 100).unwrap().len(), 2);
}

#[test]
fn only_a_job_expected_to_end_within_the_settle_window_may_hold_its_answer() {
    let (spec, _) = &*SMALL;
    // Expected to take microseconds: SubmitAndWatch may wait the whole window for its end.
    let mut quick = Scheduler::new(SchedulerConfig { settle_ms: 5, ..config(1.0e12) }, manual(), MemStore::new());
    let job = quick.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert_eq!(quick.settle_ms(job), 5);
    // ~5 core-seconds (ten half-second tasks): answered at once.
    let mut long = Scheduler::new(SchedulerConfig { settle_ms: 5, ..config(TWO_BLOCKS) }, manual(), MemStore::new());
    let job = long.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert_eq!(long.settle_ms(job), 0);
    // A window of 0 turns it off; an unknown job never waits.
    let mut off = Scheduler::new(SchedulerConfig { settle_ms: 0, ..config(1.0e12) }, manual(), MemStore::new());
    let job = off.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert_eq!(off.settle_ms(job), 0);
    assert_eq!(quick.settle_ms(riskgrid_scheduler::JobId(99)), 0);
}

#[test]
fn each_ended_job_is_handed_over_once_for_the_log() {
    let (spec, oracle) = &*SMALL;
    let mut s = Scheduler::new(config(1.0e12), manual(), MemStore::new());
    let done = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    let dropped = s.submit(&tenant(), SubmitRequest::new(spec.clone())).unwrap();
    assert!(s.take_ended().is_empty(), "nothing has ended");
    s.cancel(&tenant(), dropped).unwrap();
    run_to_end(&mut s, done, oracle, 1);
    let ended: Vec<(riskgrid_scheduler::JobId, &str)> = s.take_ended().iter().map(|e| (e.job, e.state)).collect();
    assert_eq!(ended, vec![(dropped, "cancelled"), (done, "succeeded")]);
    assert!(s.take_ended().is_empty(), "handed over once");
}
