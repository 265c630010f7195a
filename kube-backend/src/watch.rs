//! A stream of "something changed" notifications from kube's watcher over
//! our pods and all nodes, so the controller reconciles promptly instead of
//! waiting for its next tick. It carries names only: the controller re-reads
//! the world with `observe()`, so a missed or repeated notification is harmless.

use crate::pod::{MANAGED_SELECTOR, PodSettings};
use futures_util::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};

/// One change seen by the watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A worker pod was added or modified (phase, readiness, deletion started).
    Pod(String),
    /// A worker pod is gone.
    PodDeleted(String),
    /// A node was added or modified (readiness, cordon).
    Node(String),
    /// A node is gone.
    NodeDeleted(String),
    /// A watcher (re)listed everything: reconcile from scratch.
    Resynced,
    /// A watcher failed; it retries with backoff on its own.
    Failed(String),
}

fn map_event<K: kube::Resource>(
    ev: Result<watcher::Event<K>, watcher::Error>,
    applied: fn(String) -> Change,
    deleted: fn(String) -> Change,
) -> Option<Change> {
    match ev {
        Ok(watcher::Event::Apply(o)) => Some(applied(o.name_any())),
        Ok(watcher::Event::Delete(o)) => Some(deleted(o.name_any())),
        Ok(watcher::Event::InitDone) => Some(Change::Resynced),
        Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => None,
        Err(e) => Some(Change::Failed(e.to_string())),
    }
}

/// Watches our worker pods (namespace and label selector from `settings`) and all nodes.
/// The stream never ends on its own; errors are reported and the watchers back off and resume.
pub fn changes(client: Client, settings: &PodSettings) -> impl Stream<Item = Change> + Send + 'static {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &settings.namespace);
    let nodes: Api<Node> = Api::all(client);
    let pods = watcher(pods, watcher::Config::default().labels(MANAGED_SELECTOR))
        .default_backoff()
        .filter_map(|ev| async move { map_event(ev, Change::Pod, Change::PodDeleted) });
    let nodes = watcher(nodes, watcher::Config::default())
        .default_backoff()
        .filter_map(|ev| async move { map_event(ev, Change::Node, Change::NodeDeleted) });
    futures_util::stream::select(pods, nodes)
}
