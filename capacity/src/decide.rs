//! One reconcile step as a pure function: (observed state, demand, policy,
//! memory, clock) → target sizes, actions, reasons and the new memory. The
//! controller loop (and the simulator) call it; nothing here waits, reads a
//! clock or talks to a cloud, so every rule is tested directly.
//!
//! Rules, in order: demand → cores (drain queued work within the horizon; meet
//! each deadline after the node lead time) → nodes per group (preference
//! order, min/max, spot fallback, budget) → pace (scale up by at most
//! `scale_up_step` and not within the cooldown; scale down only after
//! `scale_down_idle_s` of surplus) → budget re-checked on the result → pods on
//! ready nodes.

use crate::alloc;
use crate::backend::{CapacityAction, Observed};
use crate::pods;
use crate::policy::{BurstPolicy, ResolvedGroup};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A job with a deadline, as the queue sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineDemand {
    pub job: String,
    /// Estimated core-seconds left (queued and running tasks).
    pub remaining_core_seconds: f64,
    /// When the result is due, on the caller's clock (ms).
    pub deadline_ms: u64,
}

/// The work waiting for cores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// Estimated core-seconds of queued (not yet leased) tasks, all jobs.
    pub queued_core_seconds: f64,
    /// Cores busy with leased tasks.
    pub running_cores: u32,
    pub deadlines: Vec<DeadlineDemand>,
}

/// What the controller remembers about one nodegroup between reconciles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMemory {
    pub last_scale_up_ms: Option<u64>,
    /// Since when the group has had more nodes than demand needs.
    pub surplus_since_ms: Option<u64>,
    /// Since when the group has had fewer ready nodes than asked for, with
    /// no new node becoming ready.
    pub short_since_ms: Option<u64>,
    /// Most nodes ready at once during the current shortfall: only a new
    /// high means spot capacity is still coming (interrupted nodes being
    /// replaced is churn, not progress).
    #[serde(default)]
    pub short_high: u32,
    /// Spot capacity was not coming; do not ask this group for more until then.
    pub unavailable_until_ms: Option<u64>,
}

/// The controller's memory, keyed by nodegroup name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerMemory {
    pub groups: BTreeMap<String, GroupMemory>,
}

/// The size one nodegroup should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTarget {
    pub nodegroup: String,
    /// Size asked for now (after pace and budget).
    pub desired: u32,
    /// Size demand calls for (after limits and budget, before pace).
    pub wanted: u32,
}

/// The outcome of one reconcile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub targets: Vec<GroupTarget>,
    pub actions: Vec<CapacityAction>,
    /// Why, in words, for logs and the audit trail.
    pub reasons: Vec<String>,
    pub memory: ControllerMemory,
    /// Worker cores demand calls for.
    pub desired_cores: u64,
    /// Hourly price of the targets (ready and pending nodes), dollars.
    pub usd_per_hour: f64,
}

/// A deadline whose remaining window is shorter than this is treated as this
/// (a due or past deadline asks for all it can get, not for infinity).
const MIN_WINDOW_S: f64 = 1.0;

fn finite(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// Cores demand calls for at `now_ms`.
pub fn desired_cores(demand: &Demand, policy: &BurstPolicy, now_ms: u64) -> u64 {
    let horizon = policy.drain_horizon_s.max(1) as f64;
    let queued = finite(demand.queued_core_seconds);
    // Enough to drain the queue within the horizon, and never fewer than the
    // cores already busy (their tasks are not cut short). Not their sum: busy
    // cores would then ask for more cores each reconcile, without bound.
    let drain = f64::from(demand.running_cores).max((queued / horizon).ceil());
    let lead_ms = policy.node_lead_time_s.saturating_mul(1000);
    let mut deadline_cores = 0.0;
    let mut deadline_work = 0.0;
    for d in &demand.deadlines {
        let work = finite(d.remaining_core_seconds);
        let window = (d.deadline_ms.saturating_sub(now_ms.saturating_add(lead_ms)) as f64 / 1000.0).max(MIN_WINDOW_S);
        deadline_cores += work / window;
        deadline_work += work;
    }
    let rest = (queued - deadline_work).max(0.0);
    let with_deadlines = deadline_cores.ceil() + (rest / horizon).ceil();
    drain.max(with_deadlines).min(u64::MAX as f64 / 2.0) as u64
}

/// One reconcile step. See the module docs for the rules.
pub fn decide(
    observed: &Observed,
    demand: &Demand,
    policy: &BurstPolicy,
    memory: &ControllerMemory,
    now_ms: u64,
) -> Decision {
    let groups = policy.resolve();
    let budget = policy.budget_micro();
    let mut reasons = Vec::new();
    let mut new_memory = ControllerMemory::default();
    let observed_group =
        |name: &str| observed.nodegroups.iter().find(|o| o.name == name).map(|o| (o.desired, o.ready_nodes));
    let current: Vec<(u32, u32)> = groups.iter().map(|g| observed_group(&g.name).unwrap_or((0, 0))).collect();

    // Spot groups that are not delivering: ask them for no more than they have.
    let mut caps = Vec::with_capacity(groups.len());
    // A spot group is only judged out of capacity when it has somewhere to fall back to.
    let can_fall_back: Vec<bool> = (0..groups.len())
        .map(|i| groups[i].fallback_on_demand && groups[i + 1..].iter().any(|o| !o.spot && o.max_nodes > 0))
        .collect();
    for (gi, (g, &(desired, ready))) in groups.iter().zip(&current).enumerate() {
        let mut m = memory.groups.get(&g.name).cloned().unwrap_or_default();
        let progress = ready > m.short_high;
        m.short_since_ms = match m.short_since_ms {
            _ if ready >= desired => None,
            Some(since) if !progress => Some(since),
            _ => Some(now_ms),
        };
        m.short_high = if m.short_since_ms.is_some() { m.short_high.max(ready) } else { 0 };
        let waited = m.short_since_ms.map_or(0, |since| now_ms.saturating_sub(since));
        if can_fall_back[gi]
            && waited >= policy.spot_unavailable_after_s.saturating_mul(1000)
            && m.short_since_ms.is_some()
        {
            m.unavailable_until_ms = Some(now_ms.saturating_add(policy.spot_retry_s.saturating_mul(1000)));
            m.short_since_ms = None;
            m.short_high = 0;
            reasons.push(format!(
                "{}: {} of {desired} spot nodes ready after {} s; marked unavailable",
                g.name,
                ready,
                waited / 1000
            ));
        }
        let unavailable = m.unavailable_until_ms.is_some_and(|until| now_ms < until);
        if !unavailable {
            m.unavailable_until_ms = None;
        }
        caps.push(if unavailable { ready.clamp(g.min_nodes, g.max_nodes.max(g.min_nodes)) } else { g.max_nodes });
        new_memory.groups.insert(g.name.clone(), m);
    }

    let cores = desired_cores(demand, policy, now_ms);
    let wanted = alloc::allocate(cores, &groups, &caps, budget);
    let mut targets: Vec<u32> = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let m = new_memory.groups.entry(g.name.clone()).or_default();
        targets.push(pace(g, current[i].0, wanted[i], caps[i], policy, m, now_ms, &mut reasons));
    }
    let before = targets.clone();
    alloc::fit_budget(&groups, &mut targets, budget);
    if before != targets {
        reasons.push(format!("budget {:.2} $/h: sizes cut from {before:?} to {targets:?}", policy.budget_usd_per_hour));
    }

    // Shrinking groups first: applied in order, the actions never pass through
    // a state above the budget (one group grown before another shrank).
    let mut resizes: Vec<(bool, usize)> = (0..groups.len())
        .filter(|&i| observed_group(&groups[i].name).map(|(d, _)| d) != Some(targets[i]))
        .map(|i| (targets[i] > current[i].0, i))
        .collect();
    resizes.sort();
    let mut actions: Vec<CapacityAction> = resizes
        .into_iter()
        .map(|(_, i)| CapacityAction::SetNodegroupSize { nodegroup: groups[i].name.clone(), desired: targets[i] })
        .collect();
    let ready: Vec<u32> = current.iter().zip(&targets).map(|(&(_, r), &t)| r.min(t)).collect();
    actions.extend(pods::reconcile(observed, &groups, &ready, policy, &mut reasons));

    let total = alloc::price_micro(&groups, &targets);
    Decision {
        targets: groups
            .iter()
            .enumerate()
            .map(|(i, g)| GroupTarget { nodegroup: g.name.clone(), desired: targets[i], wanted: wanted[i] })
            .collect(),
        actions,
        reasons,
        memory: new_memory,
        desired_cores: cores,
        usd_per_hour: total as f64 / 1e6,
    }
}

/// The size of one group after the pace rules: step, cooldown, idle time, min/max.
#[allow(clippy::too_many_arguments)]
fn pace(
    g: &ResolvedGroup,
    current: u32,
    wanted: u32,
    cap: u32,
    policy: &BurstPolicy,
    m: &mut crate::decide::GroupMemory,
    now_ms: u64,
    reasons: &mut Vec<String>,
) -> u32 {
    let cooldown_ms = policy.scale_up_cooldown_s.saturating_mul(1000);
    let idle_ms = policy.scale_down_idle_s.saturating_mul(1000);
    let target = if wanted > current {
        m.surplus_since_ms = None;
        let since = m.last_scale_up_ms.map(|t| now_ms.saturating_sub(t));
        if since.is_some_and(|s| s < cooldown_ms) {
            reasons.push(format!("{}: wants {wanted} nodes, has {current}; in scale-up cooldown", g.name));
            current
        } else {
            let step = current.saturating_add(policy.scale_up_step).min(wanted);
            reasons.push(format!("{}: scale up {current} -> {step} (wants {wanted})", g.name));
            step
        }
    } else if wanted < current {
        let since = *m.surplus_since_ms.get_or_insert(now_ms);
        if now_ms.saturating_sub(since) >= idle_ms {
            reasons.push(format!("{}: scale down {current} -> {wanted} after {} s of surplus", g.name, idle_ms / 1000));
            m.surplus_since_ms = None;
            wanted
        } else {
            current
        }
    } else {
        m.surplus_since_ms = None;
        current
    };
    let clamped = target.clamp(g.min_nodes, g.max_nodes.max(g.min_nodes)).min(cap.max(g.min_nodes));
    if clamped > current {
        m.last_scale_up_ms = Some(now_ms);
    }
    if clamped != target {
        reasons.push(format!(
            "{}: {target} nodes clamped to {clamped} (min {}, max {}, cap {cap})",
            g.name, g.min_nodes, g.max_nodes
        ));
    }
    clamped
}
