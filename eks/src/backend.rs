//! [`EksBackend`]: the capacity port over EKS managed nodegroups.
//!
//! EKS sizes nodegroups; it does not run worker pods, nor know which nodes are Ready.
//! Both come from a pod backend (the kubernetes backend) given as the type parameter `P`:
//! pod actions are delegated to it, its observed pods are passed through, and the Ready
//! node count of each nodegroup is taken from its nodegroup observations by name. Without
//! one ([`NoPods`]), pod actions are refused and Ready counts are 0.

use crate::error::Error;
use crate::nodegroups::{EksNodegroups, Resize};
use riskgrid_capacity::{BackendError, CapacityAction, CapacityBackend, NodegroupObservation, Observed};
use std::collections::BTreeMap;

/// Capacity backend for one EKS cluster's managed nodegroups, with an optional pod backend.
#[derive(Debug)]
pub struct EksBackend<P = NoPods> {
    nodegroups: EksNodegroups,
    pods: Option<P>,
}

/// The absent pod backend: a type with no values, so `EksBackend<NoPods>` never has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPods {}

impl CapacityBackend for NoPods {
    fn name(&self) -> &'static str {
        match *self {}
    }

    async fn observe(&self) -> Result<Observed, BackendError> {
        match *self {}
    }

    async fn apply(&self, _action: CapacityAction) -> Result<(), BackendError> {
        match *self {}
    }
}

impl EksBackend<NoPods> {
    /// Nodegroups only: pod actions are refused.
    pub fn new(nodegroups: EksNodegroups) -> Self {
        Self { nodegroups, pods: None }
    }
}

impl<P> EksBackend<P> {
    /// Delegates pods (and Ready node counts) to `pods`, e.g. the kubernetes backend.
    pub fn with_pods<Q: CapacityBackend>(self, pods: Q) -> EksBackend<Q> {
        EksBackend { nodegroups: self.nodegroups, pods: Some(pods) }
    }

    pub fn nodegroups(&self) -> &EksNodegroups {
        &self.nodegroups
    }

    /// The pod backend, if any.
    pub fn pods(&self) -> Option<&P> {
        self.pods.as_ref()
    }
}

impl<P: CapacityBackend> EksBackend<P> {
    async fn observe_nodegroups(&self, ready: &BTreeMap<String, u32>) -> Result<Vec<NodegroupObservation>, Error> {
        let mut out = Vec::new();
        for name in self.nodegroups.list().await? {
            match self.nodegroups.describe(&name).await {
                Ok(info) => out.push(info.observation(ready.get(&name).copied().unwrap_or(0))),
                // Deleted between List and Describe: it is simply gone from this snapshot.
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

impl<P: CapacityBackend> CapacityBackend for EksBackend<P> {
    fn name(&self) -> &'static str {
        "eks"
    }

    async fn observe(&self) -> Result<Observed, BackendError> {
        let (pods, ready) = match &self.pods {
            Some(inner) => {
                let seen = inner.observe().await?;
                let ready = seen.nodegroups.into_iter().map(|ng| (ng.name, ng.ready_nodes)).collect();
                (seen.pods, ready)
            }
            None => (Vec::new(), BTreeMap::new()),
        };
        let nodegroups = self.observe_nodegroups(&ready).await?;
        Ok(Observed { nodegroups, pods })
    }

    async fn apply(&self, action: CapacityAction) -> Result<(), BackendError> {
        match action {
            CapacityAction::SetNodegroupSize { nodegroup, desired } => {
                match self.nodegroups.set_desired(&nodegroup, desired).await? {
                    Resize::Unchanged | Resize::Requested { .. } => Ok(()),
                }
            }
            pod_action => match &self.pods {
                Some(inner) => inner.apply(pod_action).await,
                None => Err(BackendError::Invalid(format!(
                    "the eks backend sizes nodegroups only and has no pod backend for {}",
                    describe(&pod_action)
                ))),
            },
        }
    }
}

fn describe(action: &CapacityAction) -> String {
    match action {
        CapacityAction::SetNodegroupSize { nodegroup, .. } => format!("resize of {nodegroup}"),
        CapacityAction::CreatePod(spec) => format!("CreatePod {}", spec.name),
        CapacityAction::DeletePod { name } => format!("DeletePod {name}"),
    }
}
