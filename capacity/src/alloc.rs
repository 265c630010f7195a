//! Spreading a number of cores over the nodegroups, in order of preference,
//! within each group's limits and the budget. Shared by [`crate::decide`] and
//! [`crate::plan`], so a plan promises what the controller would ask for.

use crate::policy::ResolvedGroup;

/// Nodes per group (same order as `groups`) that give at least `cores` if
/// limits and budget allow, and as many as they allow otherwise.
///
/// Every group gets at least its `min_nodes` and at most `caps[i]`. Groups are
/// filled in order; an on-demand group listed after a spot group only takes
/// the shortfall when an earlier spot group has `fallback_on_demand`. The
/// hourly price of the result never exceeds `budget_micro` unless the groups'
/// minimums alone do (validation refuses such a policy).
pub fn allocate(cores: u64, groups: &[ResolvedGroup], caps: &[u32], budget_micro: u64) -> Vec<u32> {
    let mins: Vec<u32> = groups.iter().map(|g| g.min_nodes).collect();
    let floor: u64 = groups.iter().zip(&mins).map(|(g, &m)| u64::from(m) * g.price_micro).sum();
    let mut budget_left = budget_micro.saturating_sub(floor);
    let from_mins: u64 = groups.iter().zip(&mins).map(|(g, &m)| u64::from(m) * u64::from(g.cores_per_node)).sum();
    let mut remaining = cores.saturating_sub(from_mins);
    let (mut seen_spot, mut on_demand_allowed) = (false, false);
    let mut nodes = mins.clone();
    for (i, g) in groups.iter().enumerate() {
        let eligible = g.spot || !seen_spot || on_demand_allowed;
        if eligible && remaining > 0 && g.cores_per_node > 0 {
            let room = u64::from(caps[i].saturating_sub(mins[i]));
            let affordable = budget_left.checked_div(g.price_micro).unwrap_or(u64::MAX);
            let extra = remaining.div_ceil(u64::from(g.cores_per_node)).min(room).min(affordable);
            nodes[i] += extra as u32;
            remaining = remaining.saturating_sub(extra * u64::from(g.cores_per_node));
            budget_left -= extra * g.price_micro;
        }
        if g.spot {
            seen_spot = true;
            on_demand_allowed |= g.fallback_on_demand;
        }
    }
    nodes
}

/// Hourly price of `nodes` (per group), micro-dollars.
pub fn price_micro(groups: &[ResolvedGroup], nodes: &[u32]) -> u64 {
    groups.iter().zip(nodes).map(|(g, &n)| u64::from(n) * g.price_micro).sum()
}

/// Worker cores of `nodes` (per group).
pub fn cores(groups: &[ResolvedGroup], nodes: &[u32]) -> u64 {
    groups.iter().zip(nodes).map(|(g, &n)| u64::from(n) * u64::from(g.cores_per_node)).sum()
}

/// Lowers `nodes` until their price fits `budget_micro`: from the last group
/// backwards, first down to each group's minimum, then (only if the minimums
/// alone are over budget) below it. The budget is the one hard limit.
pub fn fit_budget(groups: &[ResolvedGroup], nodes: &mut [u32], budget_micro: u64) {
    for respect_min in [true, false] {
        for i in (0..groups.len()).rev() {
            let total = price_micro(groups, nodes);
            if total <= budget_micro {
                return;
            }
            let g = &groups[i];
            if g.price_micro == 0 {
                continue;
            }
            let floor = if respect_min { g.min_nodes.min(nodes[i]) } else { 0 };
            let over = (total - budget_micro).div_ceil(g.price_micro);
            let cut = over.min(u64::from(nodes[i] - floor)) as u32;
            nodes[i] -= cut;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, spot: bool, fallback: bool, min: u32, max: u32, price: u64, cores: u32) -> ResolvedGroup {
        ResolvedGroup {
            name: name.into(),
            min_nodes: min,
            max_nodes: max,
            spot,
            fallback_on_demand: fallback,
            price_micro: price,
            spot_price_micro: price,
            on_demand_price_micro: price,
            pods_per_node: 1,
            cores_per_node: cores,
        }
    }

    #[test]
    fn fills_in_order_and_falls_back_only_when_allowed() {
        let with = [group("s", true, true, 0, 10, 100, 16), group("o", false, false, 0, 10, 300, 16)];
        assert_eq!(allocate(16 * 5, &with, &[10, 10], u64::MAX), [5, 0]);
        assert_eq!(allocate(16 * 14, &with, &[10, 10], u64::MAX), [10, 4]);
        let without = [group("s", true, false, 0, 10, 100, 16), group("o", false, false, 0, 10, 300, 16)];
        assert_eq!(allocate(16 * 14, &without, &[10, 10], u64::MAX), [10, 0]);
        // A spot group out of capacity (cap 2) spills to on-demand.
        assert_eq!(allocate(16 * 5, &with, &[2, 10], u64::MAX), [2, 3]);
    }

    #[test]
    fn budget_limits_the_fill_and_fit_budget_cuts_from_the_back() {
        let gs = [group("s", true, true, 1, 10, 100, 16), group("o", false, false, 0, 10, 300, 16)];
        // Budget 1000: min 1 spot (100) + 9 more spot (900) = 1000.
        let n = allocate(16 * 20, &gs, &[10, 10], 1000);
        assert_eq!(n, [10, 0]);
        let mut over = vec![10, 3];
        fit_budget(&gs, &mut over, 1000);
        assert_eq!(over, [10, 0]);
        let mut over = vec![10, 3];
        fit_budget(&gs, &mut over, 50);
        assert_eq!(over, [0, 0], "budget wins over min");
    }
}
