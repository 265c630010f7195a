//! A stateful in-memory Kubernetes API server (core/v1 pods and nodes) as a
//! [`tower_service::Service`], so `kube::Client` — and kube's watcher — run
//! against it unchanged. There is no real API server on the build machines;
//! this fake keeps the semantics the capacity controller relies on:
//!
//! - create (201; 409 `AlreadyExists`; 422 on a bad name; an optional
//!   admission hook answering 403, where the Rego policies plug in), get,
//!   list with label and field selectors (`=`, `==`, `!=`, `in`, `notin`,
//!   `k`, `!k`), delete (immediate, or graceful: `deletionTimestamp` first,
//!   removal when the test calls [`FakeApi::finish_deletions`]);
//! - one increasing `resourceVersion` across all objects, and watch
//!   (`?watch=true&resourceVersion=N`) streaming ADDED/MODIFIED/DELETED JSON
//!   lines from N on, honouring `timeoutSeconds`, with 410 Gone after
//!   [`FakeApi::compact`];
//! - the kubelet and scheduler are test helpers: [`FakeApi::schedule_pods`]
//!   binds pending pods to ready nodes that match their nodeSelector, tolerate
//!   the nodes' taints and have CPU left, and marks them Running and Ready.
//!
//! Not modelled: update/patch, pagination (`limit` is ignored; lists are
//! whole), bookmarks, and a modified object leaving a watch's selector.

mod body;
mod selector;
mod server;
mod state;

pub use body::FakeBody;
pub use selector::Selector;

use crate::observe::{node_ready, pod_cores};
use http::{Method, Request, Response};
use k8s_openapi::api::core::v1::{Node, NodeCondition, NodeSpec, NodeStatus, Pod, PodCondition, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use state::{Key, Kind, Store};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

/// Decides whether a pod may be created: `Err(reason)` becomes a 403 Forbidden.
pub type Admission = Arc<dyn Fn(&Pod) -> Result<(), String> + Send + Sync>;

#[derive(Default)]
pub(crate) struct State {
    store: Store,
    admission: Option<Admission>,
    graceful_delete: bool,
    requests: Vec<String>,
    failures: Vec<(Method, u16)>,
    max_watch: Option<Duration>,
    uid: u64,
}

/// The fake API server. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("FakeApi").field("resource_version", &s.store.resource_version()).finish_non_exhaustive()
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

fn pod_key(ns: &str, name: &str) -> Key {
    Key { kind: Kind::Pod, ns: ns.to_owned(), name: name.to_owned() }
}

fn node_key(name: &str) -> Key {
    Key { kind: Kind::Node, ns: String::new(), name: name.to_owned() }
}

impl FakeApi {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A kube client talking to this fake, with `namespace` as its default namespace.
    /// Call it inside a tokio runtime (the client spawns its request buffer there).
    pub fn client(&self, namespace: &str) -> kube::Client {
        kube::Client::new(self.clone(), namespace)
    }

    /// Runs `hook` on every pod creation (e.g. the Rego admission policies).
    pub fn set_admission(&self, hook: impl Fn(&Pod) -> Result<(), String> + Send + Sync + 'static) {
        self.lock().admission = Some(Arc::new(hook));
    }

    /// Graceful pod deletion: DELETE sets `deletionTimestamp`; [`Self::finish_deletions`] removes.
    pub fn set_graceful_delete(&self, graceful: bool) {
        self.lock().graceful_delete = graceful;
    }

    /// Caps every watch at `max` (the client then resumes from its last resourceVersion).
    pub fn set_max_watch(&self, max: Duration) {
        self.lock().max_watch = Some(max);
    }

    /// The next request with `method` fails with HTTP `code` (a Status without a reason).
    pub fn fail_next(&self, method: Method, code: u16) {
        self.lock().failures.push((method, code));
    }

    /// Every request served so far, as `"METHOD /path?query"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().store.resource_version()
    }

    /// Forgets the event log: watches resuming from before now get 410 Gone and must relist.
    pub fn compact(&self) {
        self.lock().store.compact();
    }

    /// Closes every open watch stream (as an API server restart would).
    pub fn close_watches(&self) {
        self.lock().store.close_all_watches();
    }

    /// Watch streams currently open.
    pub fn open_watches(&self) -> usize {
        self.lock().store.open_watches()
    }

    pub fn pod(&self, ns: &str, name: &str) -> Option<Pod> {
        self.lock().store.get(&pod_key(ns, name)).and_then(decode)
    }

    /// Pods in `ns`, by name.
    pub fn pods(&self, ns: &str) -> Vec<Pod> {
        let s = self.lock();
        s.store.keys(Kind::Pod).iter().filter(|k| k.ns == ns).filter_map(|k| s.store.get(k).and_then(decode)).collect()
    }

    pub fn nodes(&self) -> Vec<Node> {
        let s = self.lock();
        s.store.keys(Kind::Node).iter().filter_map(|k| s.store.get(k).and_then(decode)).collect()
    }

    fn modify_pod(&self, ns: &str, name: &str, f: impl FnOnce(&mut Pod)) -> bool {
        let mut s = self.lock();
        let key = pod_key(ns, name);
        let Some(mut pod) = s.store.get(&key).and_then(decode::<Pod>) else { return false };
        f(&mut pod);
        match serde_json::to_value(&pod) {
            Ok(v) => {
                s.store.put(key, v);
                true
            }
            Err(_) => false,
        }
    }

    /// Sets a pod's phase and Ready condition (what the kubelet reports).
    pub fn set_pod_status(&self, ns: &str, name: &str, phase: &str, ready: bool) -> bool {
        self.modify_pod(ns, name, |p| {
            let status = p.status.get_or_insert_with(Default::default);
            status.phase = Some(phase.to_owned());
            status.conditions = Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]);
        })
    }

    /// Removes a pod at once, behind the controller's back (eviction, a person with kubectl).
    pub fn remove_pod(&self, ns: &str, name: &str) -> bool {
        self.lock().store.remove(&pod_key(ns, name)).is_some()
    }

    /// Removes every pod whose deletion has started (the kubelet finished terminating them).
    pub fn finish_deletions(&self) -> usize {
        let mut s = self.lock();
        let gone: Vec<Key> = s
            .store
            .keys(Kind::Pod)
            .into_iter()
            .filter(|k| s.store.get(k).and_then(|o| o.pointer("/metadata/deletionTimestamp")).is_some())
            .collect();
        for k in &gone {
            s.store.remove(k);
        }
        gone.len()
    }

    /// Adds (or replaces) a node.
    pub fn add_node(&self, node: Node) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        let Ok(mut v) = serde_json::to_value(&node) else { return false };
        v["apiVersion"] = "v1".into();
        v["kind"] = "Node".into();
        self.lock().store.put(node_key(&name), v);
        true
    }

    pub fn set_node_ready(&self, name: &str, ready: bool) -> bool {
        let mut s = self.lock();
        let key = node_key(name);
        let Some(mut node) = s.store.get(&key).and_then(decode::<Node>) else { return false };
        let status = node.status.get_or_insert_with(Default::default);
        status.conditions = Some(vec![ready_condition(ready)]);
        match serde_json::to_value(&node) {
            Ok(v) => {
                s.store.put(key, v);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes a node and, as the pod garbage collector would, every pod bound to it.
    pub fn remove_node(&self, name: &str) -> bool {
        let mut s = self.lock();
        let bound: Vec<Key> = s
            .store
            .keys(Kind::Pod)
            .into_iter()
            .filter(|k| s.store.get(k).and_then(|o| o.pointer("/spec/nodeName")).and_then(Value::as_str) == Some(name))
            .collect();
        for k in &bound {
            s.store.remove(k);
        }
        s.store.remove(&node_key(name)).is_some()
    }

    /// Plays scheduler and kubelet for `ns`: each pending, unbound pod goes to the first
    /// ready node (by name) matching its nodeSelector, tolerating its NoSchedule/NoExecute
    /// taints and with enough unrequested CPU, and becomes Running and Ready. Returns how many.
    pub fn schedule_pods(&self, ns: &str) -> usize {
        let nodes = self.nodes();
        let pods = self.pods(ns);
        let mut used: std::collections::BTreeMap<String, u32> = Default::default();
        for p in &pods {
            if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
                *used.entry(n).or_default() += pod_cores(p);
            }
        }
        let mut bound = 0;
        for pod in &pods {
            let unbound = pod.spec.as_ref().is_some_and(|s| s.node_name.is_none());
            let pending = pod.status.as_ref().and_then(|s| s.phase.as_deref()).is_none_or(|p| p == "Pending");
            if !unbound || !pending || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let cores = pod_cores(pod);
            let Some(node) = nodes.iter().find(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                node_ready(n) && fits(pod, n) && allocatable_cpu(n) >= used.get(&name).copied().unwrap_or(0) + cores
            }) else {
                continue;
            };
            let node_name = node.metadata.name.clone().unwrap_or_default();
            *used.entry(node_name.clone()).or_default() += cores;
            let name = pod.metadata.name.clone().unwrap_or_default();
            self.modify_pod(ns, &name, |p| {
                if let Some(spec) = p.spec.as_mut() {
                    spec.node_name = Some(node_name);
                }
            });
            self.set_pod_status(ns, &name, "Running", true);
            bound += 1;
        }
        bound
    }
}

fn allocatable_cpu(n: &Node) -> u32 {
    n.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("cpu"))
        .and_then(|q| q.0.parse().ok())
        .unwrap_or(0)
}

/// nodeSelector ⊆ node labels, and every NoSchedule/NoExecute taint tolerated.
fn fits(pod: &Pod, node: &Node) -> bool {
    let Some(spec) = pod.spec.as_ref() else { return false };
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let selected = spec.node_selector.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let tolerated = taints.iter().filter(|t| t.effect != "PreferNoSchedule").all(|t| {
        tolerations.iter().any(|tol| {
            let key_ok = tol.key.as_deref().is_none_or(|k| k.is_empty() || k == t.key);
            let value_ok = match tol.operator.as_deref() {
                Some("Exists") => true,
                _ => tol.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or(""),
            };
            let effect_ok = tol.effect.as_deref().is_none_or(|e| e.is_empty() || e == t.effect);
            key_ok && value_ok && effect_ok
        })
    });
    selected && tolerated
}

fn ready_condition(ready: bool) -> NodeCondition {
    NodeCondition { type_: "Ready".into(), status: if ready { "True" } else { "False" }.into(), ..Default::default() }
}

/// A Ready node with `labels`, `cpu` allocatable cores and `taints` (`(key, value, effect)`).
pub fn node(name: &str, labels: &[(&str, &str)], cpu: u32, taints: &[(&str, &str, &str)]) -> Node {
    let quantities = [("cpu".to_owned(), Quantity(cpu.to_string())), ("memory".to_owned(), Quantity("64Gi".into()))];
    Node {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            taints: (!taints.is_empty()).then(|| {
                taints
                    .iter()
                    .map(|(k, v, e)| Taint {
                        key: (*k).to_owned(),
                        value: Some((*v).to_owned()),
                        effect: (*e).to_owned(),
                        time_added: None,
                    })
                    .collect()
            }),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            allocatable: Some(quantities.clone().into_iter().collect()),
            capacity: Some(quantities.into_iter().collect()),
            conditions: Some(vec![ready_condition(true)]),
            ..Default::default()
        }),
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<FakeBody>, Infallible>> + Send>>;

impl tower_service::Service<Request<kube::client::Body>> for FakeApi {
    type Response = Response<FakeBody>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<kube::client::Body>) -> BoxFuture {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = match body.collect_bytes().await {
                Ok(b) => b,
                Err(e) => return Ok(server::status(400, "BadRequest", &format!("reading the body: {e}"))),
            };
            let reply = server::handle(&mut this.lock(), &parts.method, &parts.uri, &body);
            if let Some((id, after)) = reply.watch {
                let state = this.state.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).store.close_watch(id);
                });
            }
            Ok(reply.response)
        })
    }
}
