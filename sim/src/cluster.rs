//! The simulated cloud: nodegroups that behave like auto-scaling groups (keep
//! `desired` nodes alive, replace reclaimed ones, launch after a lead time,
//! bill from launch), nodes, and worker pods placed on ready nodes. It does
//! what [`CapacityAction`]s ask and shows itself as an [`Observed`], the same
//! port the real backends implement; it makes no decisions.
//!
//! Lowering a group's size terminates nodes at once (pending first, then the
//! least busy), like an auto-scaling group without a drain hook: tasks running
//! there are re-run and counted. Interrupted spot nodes drain for the notice
//! and are replaced when reclaimed, so alive nodes never exceed `desired`.

use crate::events::{Event, Events};
use crate::rng::Rng;
use crate::scenario::LeadTime;
use riskgrid_capacity::{CapacityAction, NodegroupObservation, Observed, PodObservation, PodPhase};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Spot,
    OnDemand,
    OnPrem,
}

#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub kind: Kind,
    pub instance_type: String,
    pub min: u32,
    pub max: u32,
    pub price_micro: u64,
    pub pods_per_node: u32,
    pub lead: LeadTime,
    /// Most nodes the cloud will deliver (spot capacity), if limited.
    pub limit: Option<u32>,
    pub desired: u32,
    /// Nodes not gone (pending, ready, draining).
    alive: Vec<u32>,
    ready: u32,
    /// Ready nodes with a free pod slot.
    free_nodes: BTreeSet<u32>,
    waiting_pods: VecDeque<u32>,
    /// Node-milliseconds billed so far.
    pub node_ms: u64,
}

impl Group {
    pub fn new(
        name: String,
        kind: Kind,
        instance_type: String,
        price_micro: u64,
        pods_per_node: u32,
        lead: LeadTime,
    ) -> Self {
        Group {
            name,
            kind,
            instance_type,
            min: 0,
            max: u32::MAX,
            price_micro,
            pods_per_node,
            lead,
            limit: None,
            desired: 0,
            alive: Vec::new(),
            ready: 0,
            free_nodes: BTreeSet::new(),
            waiting_pods: VecDeque::new(),
            node_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    Pending,
    Ready,
    Draining,
    Gone,
}

#[derive(Debug)]
struct Node {
    group: usize,
    state: NodeState,
    launched_ms: u64,
    pods: Vec<u32>,
    free_slots: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    /// No node for it yet.
    Waiting,
    Starting,
    Ready,
    /// Asked to stop; finishes its running tasks first.
    Terminating,
    /// Its node went away.
    Failed,
    Gone,
}

/// A task running on a pod's core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub lease: u64,
    pub job: u32,
    pub task: u32,
}

#[derive(Debug)]
pub struct Pod {
    pub name: String,
    pub group: usize,
    node: Option<u32>,
    pub state: PodState,
    pub cores: u32,
    /// Its node has an interruption notice: no new tasks.
    pub draining: bool,
    pub running: Vec<Running>,
    /// On the engine's free-pod stack.
    pub listed: bool,
}

impl Pod {
    /// Can take a task now.
    pub fn takes_work(&self) -> bool {
        self.state == PodState::Ready && !self.draining && (self.running.len() as u32) < self.cores
    }
}

/// What a node loss cost.
#[derive(Debug, Default)]
pub struct Loss {
    /// Tasks that were running and must run again.
    pub tasks: Vec<Running>,
    pub pods: u32,
    pub pod_cores: u64,
}

#[derive(Debug)]
pub struct Cluster {
    pub groups: Vec<Group>,
    nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    by_name: BTreeMap<String, u32>,
    pub rng: Rng,
    pub pod_start_ms: u64,
    pub notice_ms: u64,
    /// Spot interruptions per node-millisecond.
    pub interruption_rate: f64,
    billed_micro: u64,
    pub peak_micro: u64,
    pub peak_nodes: u32,
    alive_nodes: u32,
    pub interruptions: u32,
}

impl Cluster {
    pub fn new(groups: Vec<Group>, seed: u64) -> Self {
        Cluster {
            groups,
            nodes: Vec::new(),
            pods: Vec::new(),
            by_name: BTreeMap::new(),
            rng: Rng::new(seed),
            pod_start_ms: 0,
            notice_ms: 120_000,
            interruption_rate: 0.0,
            billed_micro: 0,
            peak_micro: 0,
            peak_nodes: 0,
            alive_nodes: 0,
            interruptions: 0,
        }
    }

    /// The world as a backend reports it.
    pub fn observe(&self) -> Observed {
        let nodegroups = self
            .groups
            .iter()
            .map(|g| NodegroupObservation {
                name: g.name.clone(),
                desired: g.desired,
                min: g.min,
                max: g.max,
                ready_nodes: g.ready,
                instance_type: g.instance_type.clone(),
            })
            .collect();
        let pods = self
            .pods
            .iter()
            .filter_map(|p| {
                let phase = match p.state {
                    PodState::Gone => return None,
                    _ if p.draining => PodPhase::Terminating,
                    PodState::Waiting | PodState::Starting => PodPhase::Pending,
                    PodState::Ready => PodPhase::Ready,
                    PodState::Terminating => PodPhase::Terminating,
                    PodState::Failed => PodPhase::Failed,
                };
                Some(PodObservation {
                    name: p.name.clone(),
                    nodegroup: self.groups[p.group].name.clone(),
                    tenant: None,
                    phase,
                    cores: p.cores,
                })
            })
            .collect();
        Observed { nodegroups, pods }
    }

    /// Carries out one action. Returns running tasks lost (nodes removed on scale-down).
    pub fn apply(&mut self, action: CapacityAction, now: u64, ev: &mut Events) -> Loss {
        let mut loss = Loss::default();
        match action {
            CapacityAction::SetNodegroupSize { nodegroup, desired } => {
                if let Some(g) = self.groups.iter().position(|g| g.name == nodegroup) {
                    self.groups[g].desired = desired;
                    self.shrink(g, now, &mut loss);
                    self.fill(g, now, ev);
                }
            }
            CapacityAction::CreatePod(spec) => {
                let Some(g) = self.groups.iter().position(|g| g.name == spec.nodegroup) else { return loss };
                if self.by_name.contains_key(&spec.name) {
                    return loss;
                }
                let id = self.pods.len() as u32;
                self.by_name.insert(spec.name.clone(), id);
                self.pods.push(Pod {
                    name: spec.name,
                    group: g,
                    node: None,
                    state: PodState::Waiting,
                    cores: spec.cores.max(1),
                    draining: false,
                    running: Vec::new(),
                    listed: false,
                });
                self.groups[g].waiting_pods.push_back(id);
                self.place_waiting(g, now, ev);
            }
            CapacityAction::DeletePod { name } => {
                let Some(&id) = self.by_name.get(&name) else { return loss };
                let pod = &mut self.pods[id as usize];
                match pod.state {
                    PodState::Waiting | PodState::Failed => self.remove_pod(id),
                    PodState::Starting | PodState::Ready => {
                        pod.state = PodState::Terminating;
                        if pod.running.is_empty() {
                            self.remove_pod(id);
                        }
                    }
                    PodState::Terminating | PodState::Gone => {}
                }
            }
        }
        loss
    }

    /// Launches nodes until `desired` are alive (or the spot capacity runs out).
    pub fn fill(&mut self, g: usize, now: u64, ev: &mut Events) {
        loop {
            let group = &self.groups[g];
            let alive = group.alive.len() as u32;
            if alive >= group.desired || group.limit.is_some_and(|l| alive >= l) {
                return;
            }
            let lead = self.rng.lead_time(&group.lead);
            let id = self.nodes.len() as u32;
            self.nodes.push(Node {
                group: g,
                state: NodeState::Pending,
                launched_ms: now,
                pods: Vec::new(),
                free_slots: group.pods_per_node,
            });
            self.groups[g].alive.push(id);
            self.billed_micro += self.groups[g].price_micro;
            self.alive_nodes += 1;
            self.peak_micro = self.peak_micro.max(self.billed_micro);
            self.peak_nodes = self.peak_nodes.max(self.alive_nodes);
            ev.push(now + crate::workload::ms(lead), Event::NodeReady(id));
        }
    }

    /// Starts `count` ready nodes of group `g` at once, with ready pods (the on-prem grid).
    pub fn start_fixed(&mut self, g: usize, count: u32, cores_per_pod: u32, now: u64) {
        self.groups[g].desired = count;
        for _ in 0..count {
            let id = self.nodes.len() as u32;
            let slots = self.groups[g].pods_per_node;
            self.nodes.push(Node {
                group: g,
                state: NodeState::Ready,
                launched_ms: now,
                pods: Vec::new(),
                free_slots: slots,
            });
            let group = &mut self.groups[g];
            group.alive.push(id);
            group.ready += 1;
            self.billed_micro += group.price_micro;
            self.alive_nodes += 1;
            for _ in 0..slots {
                let pid = self.pods.len() as u32;
                let name = format!("{}-{id}-{pid}", group.name);
                self.by_name.insert(name.clone(), pid);
                self.pods.push(Pod {
                    name,
                    group: g,
                    node: Some(id),
                    state: PodState::Ready,
                    cores: cores_per_pod,
                    draining: false,
                    running: Vec::new(),
                    listed: false,
                });
                self.nodes[id as usize].pods.push(pid);
            }
            self.nodes[id as usize].free_slots = 0;
        }
        self.peak_micro = self.peak_micro.max(self.billed_micro);
        self.peak_nodes = self.peak_nodes.max(self.alive_nodes);
    }

    /// Removes nodes beyond `desired`: pending ones first (newest first), then
    /// the ready ones with the fewest busy cores.
    fn shrink(&mut self, g: usize, now: u64, loss: &mut Loss) {
        let excess = (self.groups[g].alive.len() as u32).saturating_sub(self.groups[g].desired) as usize;
        if excess == 0 {
            return;
        }
        let mut ranked: Vec<(u8, usize, std::cmp::Reverse<u32>)> = self.groups[g]
            .alive
            .iter()
            .map(|&n| {
                let node = &self.nodes[n as usize];
                // Pending nodes first, then ready ones (least busy first); nodes
                // draining after a spot notice last, they are going anyway.
                let rank = match node.state {
                    NodeState::Pending => 0,
                    NodeState::Draining => 2,
                    _ => 1,
                };
                let busy: usize = node.pods.iter().map(|&p| self.pods[p as usize].running.len()).sum();
                (rank, busy, std::cmp::Reverse(n))
            })
            .collect();
        ranked.sort_unstable();
        for &(_, _, std::cmp::Reverse(n)) in ranked.iter().take(excess) {
            self.terminate(n, now, loss);
        }
    }

    /// A node goes away now: billing stops, its pods fail, their running tasks are lost.
    fn terminate(&mut self, n: u32, now: u64, loss: &mut Loss) {
        let node = &mut self.nodes[n as usize];
        let g = node.group;
        let was = node.state;
        if was == NodeState::Gone {
            return;
        }
        node.state = NodeState::Gone;
        let pods = std::mem::take(&mut node.pods);
        let group = &mut self.groups[g];
        group.node_ms += now.saturating_sub(node.launched_ms);
        if let Some(i) = group.alive.iter().position(|&x| x == n) {
            group.alive.swap_remove(i);
        }
        if was == NodeState::Ready {
            group.ready -= 1;
        }
        group.free_nodes.remove(&n);
        self.billed_micro -= group.price_micro;
        self.alive_nodes -= 1;
        for p in pods {
            let pod = &mut self.pods[p as usize];
            pod.node = None;
            loss.pods += 1;
            loss.pod_cores += u64::from(pod.cores);
            loss.tasks.append(&mut pod.running);
            pod.state = if pod.state == PodState::Terminating { PodState::Gone } else { PodState::Failed };
            if pod.state == PodState::Gone {
                self.by_name.remove(&pod.name);
            }
        }
    }

    fn remove_pod(&mut self, id: u32) {
        let pod = &mut self.pods[id as usize];
        pod.state = PodState::Gone;
        self.by_name.remove(&pod.name);
        if let Some(n) = pod.node.take() {
            let node = &mut self.nodes[n as usize];
            node.pods.retain(|&p| p != id);
            node.free_slots += 1;
            if node.state == NodeState::Ready {
                let g = node.group;
                self.groups[g].free_nodes.insert(n);
            }
        }
    }

    /// A terminating pod finished its last task: it goes, freeing its slot.
    pub fn pod_drained(&mut self, id: u32) {
        let pod = &self.pods[id as usize];
        if pod.state == PodState::Terminating && pod.running.is_empty() {
            self.remove_pod(id);
        }
    }

    fn place_waiting(&mut self, g: usize, now: u64, ev: &mut Events) {
        while let Some(&pid) = self.groups[g].waiting_pods.front() {
            if self.pods[pid as usize].state != PodState::Waiting {
                self.groups[g].waiting_pods.pop_front();
                continue;
            }
            let Some(&n) = self.groups[g].free_nodes.first() else { return };
            self.groups[g].waiting_pods.pop_front();
            let node = &mut self.nodes[n as usize];
            node.pods.push(pid);
            node.free_slots -= 1;
            if node.free_slots == 0 {
                self.groups[g].free_nodes.remove(&n);
            }
            let pod = &mut self.pods[pid as usize];
            pod.node = Some(n);
            pod.state = PodState::Starting;
            ev.push(now + self.pod_start_ms, Event::PodReady(pid));
        }
    }

    pub fn node_ready(&mut self, n: u32, now: u64, ev: &mut Events) {
        let node = &mut self.nodes[n as usize];
        if node.state != NodeState::Pending {
            return;
        }
        node.state = NodeState::Ready;
        let g = node.group;
        if node.free_slots > 0 {
            self.groups[g].free_nodes.insert(n);
        }
        self.groups[g].ready += 1;
        if self.groups[g].kind == Kind::Spot
            && let Some(after) = self.rng.exponential(self.interruption_rate)
            && after < 1e15
        {
            ev.push(now + after.ceil() as u64, Event::Notice(n));
        }
        self.place_waiting(g, now, ev);
    }

    /// Returns true when the pod became ready to take tasks.
    pub fn pod_ready(&mut self, id: u32) -> bool {
        let pod = &mut self.pods[id as usize];
        if pod.state != PodState::Starting {
            return false;
        }
        pod.state = PodState::Ready;
        true
    }

    /// A spot interruption notice: the node drains and is reclaimed after the notice.
    pub fn notice(&mut self, n: u32, now: u64, ev: &mut Events) {
        let node = &mut self.nodes[n as usize];
        if node.state != NodeState::Ready {
            return;
        }
        node.state = NodeState::Draining;
        let g = node.group;
        for &p in &node.pods {
            self.pods[p as usize].draining = true;
        }
        self.groups[g].ready -= 1;
        self.groups[g].free_nodes.remove(&n);
        self.interruptions += 1;
        ev.push(now + self.notice_ms, Event::NodeGone(n));
    }

    /// An interrupted node is reclaimed; the group launches a replacement.
    pub fn node_gone(&mut self, n: u32, now: u64, ev: &mut Events) -> Loss {
        let mut loss = Loss::default();
        if self.nodes[n as usize].state != NodeState::Draining {
            return loss;
        }
        let g = self.nodes[n as usize].group;
        self.terminate(n, now, &mut loss);
        self.fill(g, now, ev);
        loss
    }

    /// Bills every node still alive up to `now`.
    pub fn close(&mut self, now: u64) {
        for node in &mut self.nodes {
            if node.state != NodeState::Gone {
                self.groups[node.group].node_ms += now.saturating_sub(node.launched_ms);
                node.launched_ms = now;
            }
        }
    }

    /// Hourly price of every node alive now, micro-dollars.
    pub fn billed_micro(&self) -> u64 {
        self.billed_micro
    }
}
