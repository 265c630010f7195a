//! riskgrid's simulator (issue #4): replays a workload of jobs (arrival times,
//! sizes, deadlines) against a simulated cloud (node lead-time distributions,
//! spot interruptions with a 2-minute notice, prices per instance type, pods
//! per node) and against a fixed on-prem grid, and reports time to result,
//! deadline hits, node-hours and cost.
//!
//! It runs the real scheduler and controller code, not a copy: the
//! scheduler's fair-share queue picks which job gets each free core, its
//! planner cuts jobs given in core-seconds into tasks, and
//! [`riskgrid_capacity::decide`] makes every scaling decision. Only the
//! cloud (nodes, pods, time) is simulated. Same scenario and seed → the same
//! report, byte for byte.

pub mod cluster;
pub mod engine;
pub mod events;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod workload;

pub use report::{JobResult, Report, RunReport};
pub use scenario::{Cloud, Error, JobSpec, LeadTime, OnPrem, Scenario, Synthetic, Workload};

use cluster::{Cluster, Group, Kind};
use engine::{Controller, Sim};
use riskgrid_capacity::{ControllerMemory, policy::micro};
use workload::{JobDef, ms};

/// Runs the scenario: the cloud (if given), then the on-prem grid (if given).
/// `seed` overrides the scenario's.
pub fn simulate(scenario: &Scenario, seed: Option<u64>) -> Report {
    let seed = seed.unwrap_or(scenario.seed);
    let jobs = workload::expand(&scenario.workload);
    let mut runs = Vec::new();
    if let Some(cloud) = &scenario.cloud {
        runs.push(run_cloud(scenario, cloud, &jobs, seed));
    }
    if let Some(on_prem) = &scenario.on_prem {
        runs.push(run_on_prem(scenario, on_prem, &jobs, seed));
    }
    Report { scenario: scenario.name.clone(), seed, runs }
}

fn run_cloud(scenario: &Scenario, cloud: &Cloud, jobs: &[JobDef], seed: u64) -> RunReport {
    let policy = &cloud.policy;
    let groups = policy
        .resolve()
        .into_iter()
        .zip(&policy.nodegroups)
        .map(|(r, g)| {
            let lead = cloud.lead_times.get(&g.name).unwrap_or(&cloud.lead_time).clone();
            let kind = if r.spot { Kind::Spot } else { Kind::OnDemand };
            let mut group =
                Group::new(g.name.clone(), kind, g.instance_type.clone(), r.price_micro, r.pods_per_node, lead);
            group.min = g.min_nodes;
            group.max = g.max_nodes;
            group.limit = if r.spot { cloud.spot_capacity.get(&g.name).copied() } else { None };
            group
        })
        .collect();
    let mut cluster = Cluster::new(groups, seed);
    cluster.pod_start_ms = ms(cloud.pod_start_s);
    cluster.notice_ms = ms(cloud.notice_s);
    cluster.interruption_rate = cloud.spot_interruptions_per_node_hour / 3.6e6;
    let controller = Controller {
        policy: policy.clone(),
        reconcile_ms: ms(cloud.reconcile_s).max(1),
        memory: ControllerMemory::default(),
    };
    let mut sim = Sim::new(
        jobs.to_vec(),
        &scenario.tenants,
        cluster,
        Some(controller),
        cloud.efficiency,
        scenario.max_sim_s * 1000,
    );
    sim.run();
    report("cloud", &sim, Some(policy.budget_usd_per_hour))
}

fn run_on_prem(scenario: &Scenario, on_prem: &OnPrem, jobs: &[JobDef], seed: u64) -> RunReport {
    let group = Group::new(
        "on-prem".into(),
        Kind::OnPrem,
        "on-prem".into(),
        micro(on_prem.usd_per_node_hour),
        1,
        LeadTime::Fixed { s: 0.0 },
    );
    let mut cluster = Cluster::new(vec![group], seed);
    cluster.start_fixed(0, on_prem.nodes, on_prem.cores_per_node, 0);
    let mut sim =
        Sim::new(jobs.to_vec(), &scenario.tenants, cluster, None, on_prem.efficiency, scenario.max_sim_s * 1000);
    sim.run();
    report("on-prem", &sim, None)
}

fn report(mode: &str, sim: &Sim, budget: Option<f64>) -> RunReport {
    let secs = |ms: u64| ms as f64 / 1000.0;
    let mut ttr = Vec::new();
    let (mut hits, mut misses, mut makespan) = (0, 0, 0u64);
    let job_results = sim
        .jobs
        .iter()
        .map(|j| {
            let d = &j.def;
            if let Some(f) = j.finished_ms {
                ttr.push(secs(f - d.arrival_ms));
                makespan = makespan.max(f);
            }
            let met = d.deadline_ms.map(|due| j.finished_ms.is_some_and(|f| f <= due));
            match met {
                Some(true) => hits += 1,
                Some(false) => misses += 1,
                None => {}
            }
            JobResult {
                name: d.name.clone(),
                tenant: d.tenant.clone(),
                arrival_s: secs(d.arrival_ms),
                finished_s: j.finished_ms.map(secs),
                time_to_result_s: j.finished_ms.map(|f| secs(f - d.arrival_ms)),
                deadline_s: d.deadline_ms.map(|due| secs(due - d.arrival_ms)),
                met_deadline: met,
            }
        })
        .collect::<Vec<_>>();
    let finished = ttr.len() as u32;
    let complete = finished as usize == sim.jobs.len();
    if !complete {
        makespan = sim.now;
    }
    let mean = if ttr.is_empty() { 0.0 } else { ttr.iter().sum::<f64>() / ttr.len() as f64 };
    ttr.sort_by(f64::total_cmp);
    let (mut hours, mut cost) = ([0.0; 3], 0.0);
    for g in &sim.cluster.groups {
        let h = g.node_ms as f64 / 3.6e6;
        hours[g.kind as usize] += h;
        cost += h * g.price_micro as f64 / 1e6;
    }
    let c = &sim.counters;
    RunReport {
        mode: mode.into(),
        complete,
        jobs: sim.jobs.len() as u32,
        jobs_finished: finished,
        tasks: sim.jobs.iter().map(|j| u64::from(j.def.tasks)).sum(),
        tasks_completed: c.tasks_completed,
        tasks_rerun: c.tasks_rerun,
        tasks_lost_to_interruptions: c.tasks_lost_to_interruptions,
        makespan_s: secs(makespan),
        mean_time_to_result_s: mean,
        p95_time_to_result_s: report::quantile(&ttr, 0.95),
        deadline_hits: hits,
        deadline_misses: misses,
        node_hours_spot: hours[Kind::Spot as usize],
        node_hours_on_demand: hours[Kind::OnDemand as usize],
        node_hours_on_prem: hours[Kind::OnPrem as usize],
        cost_usd: cost,
        peak_nodes: sim.cluster.peak_nodes,
        peak_usd_per_hour: sim.cluster.peak_micro as f64 / 1e6,
        budget_usd_per_hour: budget,
        interruptions: sim.cluster.interruptions,
        interrupted_pods: c.interrupted_pods,
        interrupted_pod_cores: c.interrupted_pod_cores,
        reconciles: c.reconciles,
        events: sim.events_handled(),
        job_results,
    }
}
