//! The discrete-event loop. Jobs arrive; free cores are handed out by the
//! scheduler's real fair-share queue ([`FairQueue`]); in cloud mode the real
//! capacity decision ([`riskgrid_capacity::decide`]) runs every
//! `reconcile_s` and its actions are applied to the simulated cloud.
//!
//! A job is a counter of tasks, not a list: leasing takes the next index (or
//! one handed back by a lost pod), so memory stays flat in the task count.

use crate::cluster::{Cluster, Loss, PodState};
use crate::events::{Event, Events};
use crate::workload::JobDef;
use riskgrid_capacity::{BurstPolicy, ControllerMemory, DeadlineDemand, Demand, decide};
use riskgrid_scheduler::queue::{FairQueue, TenantConfig};
use riskgrid_scheduler::{JobId, TenantId};
use std::collections::BTreeMap;

/// Per-job progress.
#[derive(Debug)]
pub struct JobRun {
    pub def: JobDef,
    pub tenant: TenantId,
    next_task: u32,
    /// Task indices handed back by lost pods, to run again.
    again: Vec<u32>,
    running: u32,
    pub done: u32,
    in_queue: bool,
    pub finished_ms: Option<u64>,
}

impl JobRun {
    fn pending(&self) -> u32 {
        self.def.tasks - self.next_task + self.again.len() as u32
    }
}

/// The controller side of a cloud run.
#[derive(Debug)]
pub struct Controller {
    pub policy: BurstPolicy,
    pub reconcile_ms: u64,
    pub memory: ControllerMemory,
}

/// Counters a run reports.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub tasks_completed: u64,
    pub tasks_rerun: u64,
    pub tasks_lost_to_interruptions: u64,
    pub interrupted_pods: u64,
    pub interrupted_pod_cores: u64,
    pub reconciles: u64,
    /// Highest hourly price of the nodes the controller asked for, micro-dollars.
    pub peak_target_micro: u64,
}

#[derive(Debug)]
pub struct Sim {
    pub jobs: Vec<JobRun>,
    queue: FairQueue,
    pub cluster: Cluster,
    events: Events,
    controller: Option<Controller>,
    /// Pods that may have a free core (checked when popped).
    free: Vec<u32>,
    /// Jobs arrived and not finished.
    active: Vec<u32>,
    finished: usize,
    next_lease: u64,
    /// Wall-clock of a task = its core-time ÷ efficiency.
    efficiency: f64,
    pub now: u64,
    pub counters: Counters,
    max_ms: u64,
}

impl Sim {
    pub fn new(
        jobs: Vec<JobDef>,
        shares: &BTreeMap<String, u32>,
        cluster: Cluster,
        controller: Option<Controller>,
        efficiency: f64,
        max_ms: u64,
    ) -> Self {
        let mut queue = FairQueue::new();
        let mut events = Events::default();
        let runs: Vec<JobRun> = jobs
            .into_iter()
            .enumerate()
            .map(|(i, def)| {
                let tenant = TenantId(def.tenant.clone());
                if !queue.knows(&tenant) {
                    let share = shares.get(&def.tenant).copied().unwrap_or(1);
                    queue.configure(
                        tenant.clone(),
                        TenantConfig { share, max_queued_jobs: usize::MAX, max_cores: u32::MAX },
                    );
                }
                events.push(def.arrival_ms, Event::Arrive(i as u32));
                JobRun {
                    def,
                    tenant,
                    next_task: 0,
                    again: Vec::new(),
                    running: 0,
                    done: 0,
                    in_queue: false,
                    finished_ms: None,
                }
            })
            .collect();
        if controller.is_some() {
            events.push(0, Event::Reconcile);
        }
        let free = (0..cluster.pods.len() as u32).collect();
        Sim {
            jobs: runs,
            queue,
            cluster,
            events,
            controller,
            free,
            active: Vec::new(),
            finished: 0,
            next_lease: 0,
            efficiency,
            now: 0,
            counters: Counters::default(),
            max_ms,
        }
    }

    pub fn events_handled(&self) -> u64 {
        self.events.handled()
    }

    /// Runs until every job is done, nothing more can happen, or time runs out.
    pub fn run(&mut self) {
        while self.finished < self.jobs.len() {
            let Some((at, event)) = self.events.pop() else { break };
            if at > self.max_ms {
                break;
            }
            self.now = at;
            match event {
                Event::Arrive(j) => self.arrive(j),
                Event::Reconcile => self.reconcile(),
                Event::NodeReady(n) => self.cluster.node_ready(n, at, &mut self.events),
                Event::PodReady(p) => {
                    if self.cluster.pod_ready(p) {
                        self.list(p);
                    }
                }
                Event::TaskDone { pod, lease } => self.task_done(pod, lease),
                Event::Notice(n) => self.cluster.notice(n, at, &mut self.events),
                Event::NodeGone(n) => {
                    let loss = self.cluster.node_gone(n, at, &mut self.events);
                    self.counters.tasks_lost_to_interruptions += loss.tasks.len() as u64;
                    self.counters.interrupted_pods += u64::from(loss.pods);
                    self.counters.interrupted_pod_cores += loss.pod_cores;
                    self.requeue(loss);
                }
            }
            self.dispatch();
        }
        self.cluster.close(self.now);
    }

    fn arrive(&mut self, j: u32) {
        let job = &mut self.jobs[j as usize];
        job.in_queue = true;
        let _ = self.queue.admit(&job.tenant, JobId(u64::from(j)), job.def.priority, u64::from(j));
        self.active.push(j);
    }

    fn list(&mut self, p: u32) {
        let pod = &mut self.cluster.pods[p as usize];
        if !pod.listed && pod.takes_work() {
            pod.listed = true;
            self.free.push(p);
        }
    }

    /// Hands free cores to jobs, in the fair-share queue's order.
    fn dispatch(&mut self) {
        while let Some(&p) = self.free.last() {
            let pod = &mut self.cluster.pods[p as usize];
            if !pod.takes_work() {
                pod.listed = false;
                self.free.pop();
                continue;
            }
            let Some((tenant, JobId(j))) = self.queue.next(|_| true) else { return };
            let job = &mut self.jobs[j as usize];
            let task = match job.again.pop() {
                Some(t) => t,
                None => {
                    job.next_task += 1;
                    job.next_task - 1
                }
            };
            job.running += 1;
            let core_ms = job.def.task_ms(task);
            if job.pending() == 0 {
                job.in_queue = false;
                self.queue.remove(&tenant, JobId(j));
            }
            self.queue.on_lease(&tenant, core_ms as f64 / 1000.0);
            self.next_lease += 1;
            let lease = self.next_lease;
            pod.running.push(crate::cluster::Running { lease, job: j as u32, task });
            let wall = (core_ms as f64 / self.efficiency).ceil() as u64;
            self.events.push(self.now + wall.max(1), Event::TaskDone { pod: p, lease });
        }
    }

    fn task_done(&mut self, p: u32, lease: u64) {
        let pod = &mut self.cluster.pods[p as usize];
        let Some(i) = pod.running.iter().position(|r| r.lease == lease) else { return };
        let r = pod.running.swap_remove(i);
        let terminating = pod.state == PodState::Terminating;
        let job = &mut self.jobs[r.job as usize];
        job.running -= 1;
        job.done += 1;
        self.queue.on_release(&job.tenant);
        self.counters.tasks_completed += 1;
        if job.done == job.def.tasks {
            job.finished_ms = Some(self.now);
            self.finished += 1;
            self.queue.remove(&job.tenant, JobId(u64::from(r.job)));
        }
        if terminating {
            self.cluster.pod_drained(p);
        } else {
            self.list(p);
        }
    }

    /// Lost tasks go back to their jobs, to be leased again.
    fn requeue(&mut self, loss: Loss) {
        for r in loss.tasks {
            let job = &mut self.jobs[r.job as usize];
            job.running -= 1;
            job.again.push(r.task);
            self.counters.tasks_rerun += 1;
            self.queue.on_release(&job.tenant);
            if !job.in_queue {
                job.in_queue = true;
                let _ = self.queue.readmit(&job.tenant, JobId(u64::from(r.job)), job.def.priority, u64::from(r.job));
            }
        }
    }

    /// The work waiting, as the scheduler would report it to the controller.
    fn demand(&mut self) -> Demand {
        let jobs = &self.jobs;
        self.active.retain(|&j| jobs[j as usize].finished_ms.is_none());
        let mut demand = Demand::default();
        for &j in &self.active {
            let job = &self.jobs[j as usize];
            let per_task = job.def.task_ms as f64 / 1000.0;
            demand.queued_core_seconds += f64::from(job.pending()) * per_task;
            demand.running_cores += job.running;
            if let Some(due) = job.def.deadline_ms {
                demand.deadlines.push(DeadlineDemand {
                    job: job.def.name.clone(),
                    remaining_core_seconds: f64::from(job.pending() + job.running) * per_task,
                    deadline_ms: due,
                });
            }
        }
        demand
    }

    fn reconcile(&mut self) {
        let demand = self.demand();
        let observed = self.cluster.observe();
        let Some(c) = self.controller.as_mut() else { return };
        let decision = decide(&observed, &demand, &c.policy, &c.memory, self.now);
        c.memory = decision.memory;
        let period = c.reconcile_ms;
        let price: u64 = decision
            .targets
            .iter()
            .filter_map(|t| {
                self.cluster.groups.iter().find(|g| g.name == t.nodegroup).map(|g| u64::from(t.desired) * g.price_micro)
            })
            .sum();
        self.counters.peak_target_micro = self.counters.peak_target_micro.max(price);
        self.counters.reconciles += 1;
        for action in decision.actions {
            let loss = self.cluster.apply(action, self.now, &mut self.events);
            self.requeue(loss);
        }
        if self.finished < self.jobs.len() {
            self.events.push(self.now + period.max(1), Event::Reconcile);
        }
    }
}
