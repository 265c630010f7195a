//! What a run tells whoever decides between on-prem and cloud: time to
//! result, deadlines, node-hours and cost. Plain data (serialised as the
//! `--json` output, byte-identical for the same scenario and seed) and a table.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One job's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub name: String,
    pub tenant: String,
    pub arrival_s: f64,
    pub finished_s: Option<f64>,
    pub time_to_result_s: Option<f64>,
    pub deadline_s: Option<f64>,
    pub met_deadline: Option<bool>,
}

/// One run of the workload: on the simulated cloud or on the on-prem grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `cloud` or `on-prem`.
    pub mode: String,
    /// Every task of every job finished.
    pub complete: bool,
    pub jobs: u32,
    pub jobs_finished: u32,
    pub tasks: u64,
    pub tasks_completed: u64,
    /// Tasks run again because their pod or node went away.
    pub tasks_rerun: u64,
    pub tasks_lost_to_interruptions: u64,
    /// From t = 0 to the last result (or to where the run stopped).
    pub makespan_s: f64,
    pub mean_time_to_result_s: f64,
    pub p95_time_to_result_s: f64,
    pub deadline_hits: u32,
    pub deadline_misses: u32,
    pub node_hours_spot: f64,
    pub node_hours_on_demand: f64,
    pub node_hours_on_prem: f64,
    pub cost_usd: f64,
    pub peak_nodes: u32,
    /// Highest hourly price of the nodes alive at once (pending, ready or draining).
    pub peak_usd_per_hour: f64,
    pub budget_usd_per_hour: Option<f64>,
    pub interruptions: u32,
    pub interrupted_pods: u64,
    pub interrupted_pod_cores: u64,
    pub reconciles: u64,
    pub events: u64,
    pub job_results: Vec<JobResult>,
}

/// Every run of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub runs: Vec<RunReport>,
}

/// The `q`-quantile by nearest rank of sorted values (0 for none).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Report {
    /// A side-by-side table, one column per run.
    pub fn table(&self) -> String {
        let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
        let col = |f: &dyn Fn(&RunReport) -> String| self.runs.iter().map(f).collect::<Vec<_>>();
        rows.push(("", col(&|r| r.mode.clone())));
        rows.push(("complete", col(&|r| format!("{} ({}/{} jobs)", r.complete, r.jobs_finished, r.jobs))));
        rows.push(("tasks completed", col(&|r| format!("{}/{}", r.tasks_completed, r.tasks))));
        rows.push(("makespan", col(&|r| hms(r.makespan_s))));
        rows.push(("mean time to result", col(&|r| hms(r.mean_time_to_result_s))));
        rows.push(("p95 time to result", col(&|r| hms(r.p95_time_to_result_s))));
        rows.push(("deadlines hit / missed", col(&|r| format!("{} / {}", r.deadline_hits, r.deadline_misses))));
        rows.push(("node-hours spot", col(&|r| format!("{:.1}", r.node_hours_spot))));
        rows.push(("node-hours on-demand", col(&|r| format!("{:.1}", r.node_hours_on_demand))));
        rows.push(("node-hours on-prem", col(&|r| format!("{:.1}", r.node_hours_on_prem))));
        rows.push(("cost", col(&|r| format!("${:.2}", r.cost_usd))));
        rows.push(("peak nodes", col(&|r| r.peak_nodes.to_string())));
        rows.push((
            "peak $/h (budget)",
            col(&|r| match r.budget_usd_per_hour {
                Some(b) => format!("{:.2} ({b:.2})", r.peak_usd_per_hour),
                None => format!("{:.2}", r.peak_usd_per_hour),
            }),
        ));
        rows.push(("spot interruptions", col(&|r| r.interruptions.to_string())));
        rows.push(("tasks re-run", col(&|r| r.tasks_rerun.to_string())));
        let label = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let widths: Vec<usize> =
            (0..self.runs.len()).map(|i| rows.iter().map(|(_, v)| v[i].len()).max().unwrap_or(0)).collect();
        let mut out = format!("scenario {} (seed {})\n", self.scenario, self.seed);
        for (l, values) in &rows {
            let _ = write!(out, "{l:<label$}");
            for (v, w) in values.iter().zip(&widths) {
                let _ = write!(out, "  {v:>w$}");
            }
            out.push('\n');
        }
        out
    }
}

/// Seconds as `1h02m03s` / `2m03s` / `4.5s`.
fn hms(s: f64) -> String {
    if s < 60.0 {
        return format!("{s:.1}s");
    }
    let t = s.round() as u64;
    let (h, m, sec) = (t / 3600, t / 60 % 60, t % 60);
    if h > 0 { format!("{h}h{m:02}m{sec:02}s") } else { format!("{m}m{sec:02}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles_and_durations() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.95), 19.0);
        assert_eq!(quantile(&v, 1.0), 20.0);
        assert_eq!(quantile(&[], 0.95), 0.0);
        assert_eq!(hms(3723.0), "1h02m03s");
        assert_eq!(hms(123.0), "2m03s");
        assert_eq!(hms(4.54), "4.5s");
    }
}
