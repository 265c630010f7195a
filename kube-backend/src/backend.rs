//! [`KubeBackend`]: the [`CapacityBackend`] adapter over the Kubernetes API.
//! Thin by design: it lists, creates and deletes; the controller decides.

use crate::error::{from_kube, is_already_exists, is_not_found};
use crate::names::check_rfc1123_label;
use crate::observe::{nodegroups, pod_observation};
use crate::pod::{LABEL_MANAGED_BY, MANAGED_BY, MANAGED_SELECTOR, PodSettings, checked_worker_pod};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use riskgrid_capacity::{BackendError, CapacityAction, CapacityBackend, Observed, WorkerPodSpec};

/// Creates and deletes worker pods in one namespace; reads nodes cluster-wide.
#[derive(Clone)]
pub struct KubeBackend {
    client: Client,
    settings: PodSettings,
}

impl std::fmt::Debug for KubeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeBackend").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl KubeBackend {
    /// Refuses invalid settings up front, so every later failure is the API's.
    pub fn new(client: Client, settings: PodSettings) -> Result<Self, BackendError> {
        settings.validate()?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &PodSettings {
        &self.settings
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.settings.namespace)
    }

    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    async fn create_pod(&self, spec: &WorkerPodSpec) -> Result<(), BackendError> {
        let pod = checked_worker_pod(spec, &self.settings)?;
        let what = format!("create pod {}", spec.name);
        match self.pods().create(&PostParams::default(), &pod).await {
            Ok(_) => Ok(()),
            // Idempotent: a retry after a lost response finds its own pod. A pod of that
            // name that riskgrid does not manage is a real conflict.
            Err(e) if is_already_exists(&e) => {
                let existing = self.pods().get(&spec.name).await.map_err(|e| from_kube(&what, e))?;
                let ours = existing.metadata.labels.as_ref().and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str)
                    == Some(MANAGED_BY);
                if ours {
                    tracing::debug!(pod = %spec.name, "create: already exists");
                    Ok(())
                } else {
                    Err(BackendError::Conflict(format!(
                        "{what}: a pod of that name exists and is not managed by riskgrid"
                    )))
                }
            }
            Err(e) => Err(from_kube(&what, e)),
        }
    }

    async fn delete_pod(&self, name: &str) -> Result<(), BackendError> {
        check_rfc1123_label("name", name)?;
        // Default delete options: the pod's own terminationGracePeriodSeconds lets the worker drain.
        match self.pods().delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(from_kube(&format!("delete pod {name}"), e)),
        }
    }
}

impl CapacityBackend for KubeBackend {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    async fn observe(&self) -> Result<Observed, BackendError> {
        let pods = self
            .pods()
            .list(&ListParams::default().labels(MANAGED_SELECTOR))
            .await
            .map_err(|e| from_kube("list pods", e))?;
        let nodes = self.nodes().list(&ListParams::default()).await.map_err(|e| from_kube("list nodes", e))?;
        let mut pods: Vec<_> = pods.items.iter().map(pod_observation).collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Observed { nodegroups: nodegroups(&nodes.items, &self.settings.node_selector_key), pods })
    }

    async fn apply(&self, action: CapacityAction) -> Result<(), BackendError> {
        match action {
            CapacityAction::CreatePod(spec) => self.create_pod(&spec).await,
            CapacityAction::DeletePod { name } => self.delete_pod(&name).await,
            CapacityAction::SetNodegroupSize { nodegroup, .. } => Err(BackendError::Invalid(format!(
                "set size of nodegroup {nodegroup}: the kubernetes backend only manages pods; \
                 nodegroups are resized by the eks backend"
            ))),
        }
    }
}
