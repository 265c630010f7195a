//! Proto ⇄ domain: identifiers, states, progress, results and block results.
//! Doubles are copied, never recomputed, so every value keeps its bits.

use super::status;
use crate::clock::Millis;
use crate::ids::{JobId, TaskId, TenantId};
use crate::job::{Job, JobResult, JobState};
use crate::state::JobStatus;
use crate::task::TaskKind;
use riskcalc::engine::{Estimate, Moments, PortfolioReport, PricingReport, TradeBlock, TradeReport};
use riskcalc::risk::RiskReport;
use riskcalc::risk::measures::{PnlSummary, RiskLevel};
use riskgrid_proto::v1 as pb;
use std::collections::BTreeMap;
use tonic::Status;

/// z of a two-sided 95% interval.
pub const Z95: f64 = 1.959964;

/// Parses `job-7`.
pub fn parse_job_id(field: &str, text: &str) -> Result<JobId, Status> {
    if text.is_empty() {
        return Err(status::invalid(field, "required"));
    }
    text.strip_prefix("job-")
        .and_then(|n| n.parse::<u64>().ok())
        .map(JobId)
        .ok_or_else(|| status::invalid(field, format!("malformed job id {text:?} (expected job-N)")))
}

/// Parses `job-7.t12`.
pub fn parse_task_id(field: &str, text: &str) -> Result<TaskId, Status> {
    if text.is_empty() {
        return Err(status::invalid(field, "required"));
    }
    text.split_once(".t")
        .and_then(|(j, t)| Some(TaskId::new(parse_job_id(field, j).ok()?, t.parse::<u32>().ok()?)))
        .ok_or_else(|| status::invalid(field, format!("malformed task id {text:?} (expected job-N.tM)")))
}

/// A tenant name: empty means `default`; else 1 to 64 characters of `[A-Za-z0-9._-]`.
pub fn tenant(text: &str) -> Result<TenantId, Status> {
    if text.is_empty() {
        return Ok(TenantId::from("default"));
    }
    let ok = text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(TenantId(text.to_owned()))
    } else {
        Err(status::invalid("tenant", format!("{text:?}: 1 to 64 characters of [A-Za-z0-9._-]")))
    }
}

pub fn state(s: &JobState) -> pb::JobState {
    match s {
        JobState::Queued => pb::JobState::Queued,
        JobState::Running { .. } => pb::JobState::Running,
        JobState::Succeeded { .. } => pb::JobState::Succeeded,
        JobState::Failed { .. } => pb::JobState::Failed,
        JobState::Cancelled { .. } => pb::JobState::Cancelled,
    }
}

pub fn state_reason(s: &JobState) -> String {
    match s {
        JobState::Failed { reason, .. } => reason.clone(),
        JobState::Cancelled { .. } => "cancelled".into(),
        _ => String::new(),
    }
}

fn estimate(e: &Estimate) -> pb::Estimate {
    pb::Estimate { value: e.value, std_error: e.std_error }
}

fn running(value: f64, std_error: f64) -> pb::RunningEstimate {
    pb::RunningEstimate { estimate: Some(pb::Estimate { value, std_error }), ci_half_width: Z95 * std_error }
}

fn greeks(g: &BTreeMap<String, Estimate>) -> BTreeMap<String, pb::Estimate> {
    g.iter().map(|(k, v)| (k.clone(), estimate(v))).collect()
}

fn greeks_back(g: &BTreeMap<String, pb::Estimate>) -> BTreeMap<String, Estimate> {
    g.iter().map(|(k, v)| (k.clone(), Estimate { value: v.value, std_error: v.std_error })).collect()
}

/// Pricing report → proto.
pub fn pricing(r: &PricingReport) -> pb::PricingResult {
    pb::PricingResult {
        trades: r
            .trades
            .iter()
            .map(|t| pb::TradeResult {
                id: t.id.clone(),
                kind: t.kind.clone(),
                quantity: t.quantity,
                price: t.price,
                std_error: t.std_error,
                greeks: greeks(&t.greeks),
                paths: t.paths,
            })
            .collect(),
        portfolio: Some(pb::PortfolioResult {
            value: r.portfolio.value,
            std_error: r.portfolio.std_error,
            greeks: greeks(&r.portfolio.greeks),
        }),
        paths: r.paths,
        blocks: r.blocks,
    }
}

/// Proto → pricing report (the shape `riskgrid run --json` prints).
pub fn pricing_back(r: &pb::PricingResult) -> PricingReport {
    let p = r.portfolio.clone().unwrap_or_default();
    PricingReport {
        trades: r
            .trades
            .iter()
            .map(|t| TradeReport {
                id: t.id.clone(),
                kind: t.kind.clone(),
                quantity: t.quantity,
                price: t.price,
                std_error: t.std_error,
                greeks: greeks_back(&t.greeks),
                paths: t.paths,
            })
            .collect(),
        portfolio: PortfolioReport { value: p.value, std_error: p.std_error, greeks: greeks_back(&p.greeks) },
        paths: r.paths,
        blocks: r.blocks,
    }
}

fn map_to<V: Clone>(m: &BTreeMap<String, V>) -> BTreeMap<String, V> {
    m.clone()
}

fn map_back<V: Clone>(m: &BTreeMap<String, V>) -> BTreeMap<String, V> {
    m.clone()
}

/// Risk report → proto.
pub fn risk(r: &RiskReport) -> pb::RiskResult {
    pb::RiskResult {
        horizon_days: r.horizon_days,
        scenarios: r.scenarios,
        source: r.source.clone(),
        pnl: Some(pb::PnlSummary {
            mean: r.pnl.mean,
            std_dev: r.pnl.std_dev,
            min: r.pnl.min,
            max: r.pnl.max,
            quantiles: map_to(&r.pnl.quantiles),
        }),
        levels: r
            .levels
            .iter()
            .map(|l| pb::RiskLevel {
                confidence: l.confidence,
                var: l.var,
                es: l.es,
                tail_scenarios: l.tail_scenarios,
                es_contributions: map_to(&l.es_contributions),
                var_contributions: map_to(&l.var_contributions),
            })
            .collect(),
        base_values: map_to(&r.base_values),
    }
}

/// Proto → risk report (the shape `riskgrid run --json` prints).
pub fn risk_back(r: &pb::RiskResult) -> RiskReport {
    let pnl = r.pnl.clone().unwrap_or_default();
    RiskReport {
        horizon_days: r.horizon_days,
        scenarios: r.scenarios,
        source: r.source.clone(),
        pnl: PnlSummary {
            mean: pnl.mean,
            std_dev: pnl.std_dev,
            min: pnl.min,
            max: pnl.max,
            quantiles: map_back(&pnl.quantiles),
        },
        levels: r
            .levels
            .iter()
            .map(|l| RiskLevel {
                confidence: l.confidence,
                var: l.var,
                es: l.es,
                tail_scenarios: l.tail_scenarios,
                es_contributions: map_back(&l.es_contributions),
                var_contributions: map_back(&l.var_contributions),
            })
            .collect(),
        base_values: map_back(&r.base_values),
    }
}

/// A finished job's result → proto.
pub fn result(job: &Job, r: &JobResult, sha256: &str, elapsed_ms: u64) -> pb::JobResult {
    pb::JobResult {
        job_id: job.id().to_string(),
        spec_sha256: sha256.to_owned(),
        seed: job.spec().seed,
        riskgrid_version: env!("CARGO_PKG_VERSION").to_owned(),
        pricing: Some(pricing(&r.pricing)),
        risk: r.risk.as_ref().map(risk),
        paths_requested: job.spec().analysis.paths,
        stopped_early: r.stopped_early,
        elapsed_ms,
    }
}

/// A job's progress; `with_trades` adds the per-trade running estimates.
pub fn progress(
    job: &Job,
    p: &crate::job::Progress,
    started: Option<Millis>,
    now: Millis,
    with_trades: bool,
) -> pb::Progress {
    let acc = job.accumulator();
    let n_trades = acc.n_trades() as u64;
    let target = job.pricing_target();
    let pricing_done: u64 = (0..acc.n_trades()).map(|t| acc.merged_blocks(t).min(target)).sum();
    let risk_blocks = job.risk_job().map_or(0, |r| r.n_blocks());
    // The domain's percent counts a scenario block once; recover how many are merged.
    let domain_total = n_trades * target + risk_blocks;
    let risk_done = ((p.percent / 100.0 * domain_total as f64).round() as u64).saturating_sub(pricing_done);
    let risk_trades = job.risk_job().map_or(0, |r| r.trades.len() as u64);
    let eta_ms = match (started, job.state().is_terminal()) {
        (_, true) => Some(0),
        (Some(t0), false) if p.percent > 0.0 => {
            let elapsed = now.saturating_sub(t0) as f64;
            Some((elapsed * (100.0 - p.percent) / p.percent) as u64)
        }
        _ => None,
    };
    let merged: Vec<u64> = (0..acc.n_trades()).map(|t| acc.merged_blocks(t)).collect();
    let trades = if with_trades {
        p.estimate
            .trades
            .iter()
            .enumerate()
            .filter(|(t, _)| merged[*t] > 0)
            .map(|(t, r)| pb::TradeProgress {
                trade: t as u32,
                trade_id: r.id.clone(),
                price: Some(running(r.price, r.std_error)),
                paths: r.paths,
            })
            .collect()
    } else {
        Vec::new()
    };
    let portfolio = (!merged.is_empty() && merged.iter().all(|&m| m > 0))
        .then(|| running(p.estimate.portfolio.value, p.estimate.portfolio.std_error));
    pb::Progress {
        percent: p.percent,
        blocks_merged: pricing_done + risk_done * risk_trades,
        blocks_total: n_trades * target + risk_blocks * risk_trades,
        eta_ms,
        confidence_level: 0.95,
        trades,
        portfolio,
    }
}

/// A job's summary.
#[allow(clippy::too_many_arguments)]
pub fn job(
    job: &Job,
    status: &JobStatus,
    sha256: &str,
    started: Option<Millis>,
    now: Millis,
    with_trades: bool,
) -> pb::Job {
    let rec = job.record();
    pb::Job {
        job_id: job.id().to_string(),
        tenant: rec.tenant.0.clone(),
        client_request_id: rec.client_request_id.clone().unwrap_or_default(),
        name: rec.spec.name.clone().unwrap_or_default(),
        state: state(job.state()) as i32,
        priority: rec.priority,
        has_risk: rec.spec.analysis.risk.is_some(),
        trades: rec.spec.portfolio.len() as u32,
        spec_sha256: sha256.to_owned(),
        seed: rec.spec.seed,
        submitted_unix_ms: rec.submitted_at as i64,
        started_unix_ms: started.unwrap_or(0) as i64,
        finished_unix_ms: job.state().finished_at().unwrap_or(0) as i64,
        progress: Some(progress(job, &status.progress, started, now, with_trades)),
        failure_reason: state_reason(job.state()),
    }
}

/// A domain task → its proto form (spec source left for the caller).
pub fn task_ranges(kind: &TaskKind, n_trades: u32) -> (pb::TaskKind, pb::TradeRange, pb::BlockRange) {
    match kind {
        TaskKind::Pricing { trades, blocks } => (
            pb::TaskKind::Pricing,
            pb::TradeRange { start: trades.start, end: trades.end },
            pb::BlockRange { start: blocks.start, end: blocks.end },
        ),
        TaskKind::Risk { blocks } => (
            pb::TaskKind::Risk,
            pb::TradeRange { start: 0, end: n_trades },
            pb::BlockRange { start: blocks.start, end: blocks.end },
        ),
    }
}

/// A pricing block result (moments only) → the engine's `TradeBlock`.
pub fn trade_block(b: &pb::BlockResult) -> TradeBlock {
    TradeBlock {
        trade: b.trade,
        block: b.block,
        moments: b.moments.iter().map(|m| Moments { n: m.n, sum: m.sum, m2: m.m2 }).collect(),
    }
}

/// The engine's `TradeBlock` → proto (zeros normalised to +0.0, as the API asks).
pub fn block_result(task_id: &str, job_id: &str, attempt: u32, b: &TradeBlock) -> pb::BlockResult {
    pb::BlockResult {
        task_id: task_id.to_owned(),
        job_id: job_id.to_owned(),
        trade: b.trade,
        block: b.block,
        moments: b.moments.iter().map(|m| pb::Moments { n: m.n, sum: m.sum + 0.0, m2: m.m2 + 0.0 }).collect(),
        pnl: Vec::new(),
        attempt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_or_name_the_field() {
        assert_eq!(parse_job_id("job_id", "job-12").ok(), Some(JobId(12)));
        assert!(parse_job_id("job_id", "").is_err_and(|s| s.message() == "job_id: required"));
        assert!(parse_job_id("job_id", "12").is_err_and(|s| s.message().starts_with("job_id: malformed")));
        assert_eq!(parse_task_id("task_id", "job-3.t4").ok(), Some(TaskId::new(JobId(3), 4)));
        assert!(parse_task_id("task_id", "job-3").is_err());
        assert_eq!(tenant("").ok(), Some(TenantId::from("default")));
        assert!(tenant("a b").is_err_and(|s| s.message().starts_with("tenant: ")));
    }
}
