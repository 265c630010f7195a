//! The `local` capacity backend: worker processes on this machine.
//!
//! The machine is one nodegroup, `local`, of at most `max_nodes` "nodes"
//! (slices of this host, see the policy's instance type): setting its size is
//! instant (the hardware is already there), and each pod the controller asks
//! for is a `riskgrid worker` child process. Deleting a pod sends SIGTERM, so
//! the worker drains exactly as it would on a spot notice. This is the
//! embedded default and the most faithful stand-in for the cluster backends
//! that runs on one machine.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use riskgrid_capacity::{
    BackendError, CapacityAction, CapacityBackend, NodegroupObservation, Observed, PodObservation, PodPhase,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// This host's nodegroup name.
pub const NODEGROUP: &str = "local";

struct Worker {
    child: Child,
    cores: u32,
    terminating: bool,
}

struct State {
    desired: u32,
    workers: BTreeMap<String, Worker>,
}

pub struct LocalBackend {
    exe: PathBuf,
    scheduler_url: String,
    instance_type: String,
    max_nodes: u32,
    /// Extra arguments for every worker (e.g. TLS files).
    worker_args: Vec<String>,
    state: Mutex<State>,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend").field("scheduler_url", &self.scheduler_url).finish_non_exhaustive()
    }
}

impl LocalBackend {
    pub fn new(
        exe: PathBuf,
        scheduler_url: String,
        instance_type: String,
        max_nodes: u32,
        worker_args: Vec<String>,
    ) -> Self {
        LocalBackend {
            exe,
            scheduler_url,
            instance_type,
            max_nodes,
            worker_args,
            state: Mutex::new(State { desired: 0, workers: BTreeMap::new() }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn observe_now(&self) -> Observed {
        let mut s = self.lock();
        let mut pods = Vec::new();
        let mut gone = Vec::new();
        for (name, w) in &mut s.workers {
            let phase = match w.child.try_wait() {
                Ok(None) if w.terminating => PodPhase::Terminating,
                Ok(None) => PodPhase::Ready,
                // A drained worker exits 0: it is gone, like a deleted pod.
                Ok(Some(status)) if status.success() => {
                    gone.push(name.clone());
                    continue;
                }
                Ok(Some(_)) | Err(_) => PodPhase::Failed,
            };
            pods.push(PodObservation {
                name: name.clone(),
                nodegroup: NODEGROUP.to_owned(),
                tenant: None,
                phase,
                cores: w.cores,
            });
        }
        for name in gone {
            s.workers.remove(&name);
        }
        Observed {
            nodegroups: vec![NodegroupObservation {
                name: NODEGROUP.to_owned(),
                desired: s.desired,
                min: 0,
                max: self.max_nodes,
                ready_nodes: s.desired,
                instance_type: self.instance_type.clone(),
            }],
            pods,
        }
    }

    fn apply_now(&self, action: CapacityAction) -> Result<(), BackendError> {
        let mut s = self.lock();
        match action {
            CapacityAction::SetNodegroupSize { nodegroup, desired } => {
                if nodegroup != NODEGROUP {
                    return Err(BackendError::NotFound(format!(
                        "nodegroup {nodegroup} (the local backend has `{NODEGROUP}`)"
                    )));
                }
                if desired > self.max_nodes {
                    return Err(BackendError::Invalid(format!("desired {desired} > max {}", self.max_nodes)));
                }
                s.desired = desired;
                Ok(())
            }
            CapacityAction::CreatePod(spec) => {
                if s.workers.contains_key(&spec.name) {
                    return Ok(()); // idempotent, like a 409 from the API server
                }
                let child = Command::new(&self.exe)
                    .args(["worker", "--scheduler", &self.scheduler_url, "--name", &spec.name])
                    .args(["--threads", &spec.cores.max(1).to_string()])
                    .args(["--grace-secs", &spec.drain_grace_seconds.to_string()])
                    .args(&self.worker_args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| BackendError::Unavailable(format!("cannot start {}: {e}", self.exe.display())))?;
                tracing::info!(pod = %spec.name, pid = child.id(), cores = spec.cores, "local worker started");
                s.workers.insert(spec.name, Worker { child, cores: spec.cores, terminating: false });
                Ok(())
            }
            CapacityAction::DeletePod { name } => {
                let Some(w) = s.workers.get_mut(&name) else { return Ok(()) };
                if !w.terminating {
                    let pid = Pid::from_raw(w.child.id() as i32);
                    let _ = kill(pid, Signal::SIGTERM);
                    w.terminating = true;
                    tracing::info!(pod = %name, "local worker asked to drain (SIGTERM)");
                }
                Ok(())
            }
        }
    }

    /// Stops every worker (SIGTERM; they drain) — at scheduler shutdown.
    pub fn stop_all(&self) {
        let mut s = self.lock();
        for w in s.workers.values_mut() {
            let _ = kill(Pid::from_raw(w.child.id() as i32), Signal::SIGTERM);
            w.terminating = true;
        }
    }
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        self.stop_all();
    }
}

impl CapacityBackend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn observe(&self) -> Result<Observed, BackendError> {
        Ok(self.observe_now())
    }

    async fn apply(&self, action: CapacityAction) -> Result<(), BackendError> {
        self.apply_now(action)
    }
}
