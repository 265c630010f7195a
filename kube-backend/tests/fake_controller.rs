//! The backend on the stateful in-memory API fake: a small reconcile loop
//! (observe → create missing / delete extra / replace failed) converges, scales
//! down and replaces pods deleted behind its back; kube's watcher follows the
//! fake's events, including resumption after a watch times out and a relist
//! after 410 Gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NS, spec};
use futures_util::StreamExt;
use http::Method;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams};
use riskgrid_capacity::{BackendError, CapacityAction, CapacityBackend, PodPhase};
use riskgrid_kube::fake::{FakeApi, node};
use riskgrid_kube::{Change, KubeBackend, PodSettings, changes};
use std::time::Duration;

const GROUP: &str = "burst-a";

fn setup() -> (FakeApi, KubeBackend) {
    let api = FakeApi::new();
    for n in ["n1", "n2"] {
        // 8 cores each, tainted for burst work of tenant desk-a.
        api.add_node(node(
            n,
            &[("riskgrid.io/nodegroup", GROUP), ("node.kubernetes.io/instance-type", "c5.2xlarge")],
            8,
            &[("riskgrid.io/burst", "desk-a", "NoSchedule")],
        ));
    }
    let backend = KubeBackend::new(api.client(NS), PodSettings::default()).unwrap();
    (api, backend)
}

/// One pass of a minimal controller: `desired` live workers in `GROUP`. Returns the actions taken.
async fn reconcile(backend: &KubeBackend, desired: usize) -> Vec<CapacityAction> {
    let seen = backend.observe().await.unwrap();
    let mut actions = Vec::new();
    let mine = seen.pods.iter().filter(|p| p.nodegroup == GROUP);
    let mut live: Vec<&str> = Vec::new();
    for p in mine {
        match p.phase {
            PodPhase::Failed => actions.push(CapacityAction::DeletePod { name: p.name.clone() }),
            PodPhase::Terminating => {}
            PodPhase::Pending | PodPhase::Ready => live.push(&p.name),
        }
    }
    live.sort_unstable();
    if live.len() > desired {
        for name in &live[desired..] {
            actions.push(CapacityAction::DeletePod { name: (*name).to_owned() });
        }
    }
    let names: Vec<String> = seen.pods.iter().map(|p| p.name.clone()).collect();
    let mut i = 0;
    for _ in live.len()..desired {
        while names.contains(&format!("w-{i}")) {
            i += 1;
        }
        actions.push(CapacityAction::CreatePod(spec(&format!("w-{i}"), GROUP, 2)));
        i += 1;
    }
    for a in &actions {
        backend.apply(a.clone()).await.unwrap();
    }
    actions
}

fn ready_names(api: &FakeApi) -> Vec<String> {
    api.pods(NS)
        .iter()
        .filter(|p| riskgrid_kube::observe::pod_phase(p) == PodPhase::Ready)
        .map(|p| p.metadata.name.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn converges_scales_down_and_replaces_deleted_pods() {
    let (api, backend) = setup();
    api.set_graceful_delete(true);

    // Scale up to 6 workers of 2 cores: 16 cores of nodes fit all 6.
    assert_eq!(reconcile(&backend, 6).await.len(), 6);
    assert_eq!(reconcile(&backend, 6).await, vec![], "pending pods count as live: nothing to do");
    assert_eq!(api.schedule_pods(NS), 6);
    assert_eq!(ready_names(&api), ["w-0", "w-1", "w-2", "w-3", "w-4", "w-5"]);
    let seen = backend.observe().await.unwrap();
    assert!(
        seen.pods.iter().all(|p| p.phase == PodPhase::Ready && p.cores == 2 && p.tenant.as_deref() == Some("desk-a"))
    );
    assert_eq!(seen.nodegroups.len(), 1);
    assert_eq!((seen.nodegroups[0].ready_nodes, seen.nodegroups[0].instance_type.as_str()), (2, "c5.2xlarge"));
    // Every pod the fake bound went to a node matching its nodeSelector and tolerating the taint.
    for p in api.pods(NS) {
        assert!(p.spec.unwrap().node_name.is_some_and(|n| n == "n1" || n == "n2"));
    }

    // Scale down to 2: four graceful deletions, seen as Terminating until the kubelet finishes.
    let actions = reconcile(&backend, 2).await;
    assert_eq!(actions.len(), 4);
    let seen = backend.observe().await.unwrap();
    assert_eq!(seen.pods.iter().filter(|p| p.phase == PodPhase::Terminating).count(), 4);
    assert_eq!(reconcile(&backend, 2).await, vec![], "terminating pods are not deleted twice");
    assert_eq!(api.finish_deletions(), 4);
    assert_eq!(ready_names(&api), ["w-0", "w-1"]);

    // A pod deleted behind the controller's back, and one that failed, are replaced.
    assert!(api.remove_pod(NS, "w-0"));
    assert!(api.set_pod_status(NS, "w-1", "Failed", false));
    let actions = reconcile(&backend, 2).await;
    assert_eq!(actions.iter().filter(|a| matches!(a, CapacityAction::CreatePod(_))).count(), 2, "{actions:?}");
    assert!(actions.contains(&CapacityAction::DeletePod { name: "w-1".into() }));
    api.finish_deletions();
    assert_eq!(api.schedule_pods(NS), 2);
    assert_eq!(ready_names(&api).len(), 2);
    assert_eq!(reconcile(&backend, 2).await, vec![]);
}

#[tokio::test]
async fn pods_stay_pending_without_capacity_and_losing_a_node_loses_its_pods() {
    let (api, backend) = setup();
    reconcile(&backend, 10).await;
    // 16 cores hold 8 pods of 2 cores; two stay Pending.
    assert_eq!(api.schedule_pods(NS), 8);
    let seen = backend.observe().await.unwrap();
    assert_eq!(seen.pods.iter().filter(|p| p.phase == PodPhase::Pending).count(), 2);

    // Spot loss: node n1 goes away with its pods; the controller recreates them, they wait for capacity.
    assert!(api.remove_node("n1"));
    let seen = backend.observe().await.unwrap();
    assert_eq!(seen.pods.len(), 6);
    assert_eq!(seen.nodegroups[0].ready_nodes, 1);
    assert_eq!(reconcile(&backend, 10).await.len(), 4);
    assert_eq!(api.schedule_pods(NS), 0, "n2 is full");
    // A node labelled only by EKS counts in the group but does not match the pods' nodeSelector.
    api.add_node(node(
        "n3",
        &[("eks.amazonaws.com/nodegroup", GROUP)],
        8,
        &[("riskgrid.io/burst", "desk-a", "NoSchedule")],
    ));
    assert_eq!(backend.observe().await.unwrap().nodegroups[0].ready_nodes, 2);
    assert_eq!(api.schedule_pods(NS), 0);
    api.add_node(node("n4", &[("riskgrid.io/nodegroup", GROUP)], 8, &[("riskgrid.io/burst", "desk-a", "NoSchedule")]));
    assert_eq!(api.schedule_pods(NS), 4);

    // A node whose taint the pods do not tolerate, or of another group, takes none.
    api.add_node(node(
        "other",
        &[("riskgrid.io/nodegroup", GROUP)],
        64,
        &[("riskgrid.io/burst", "desk-b", "NoSchedule")],
    ));
    api.add_node(node("elsewhere", &[("riskgrid.io/nodegroup", "burst-b")], 64, &[]));
    reconcile(&backend, 12).await;
    assert_eq!(api.schedule_pods(NS), 0);
    api.set_node_ready("n4", false);
    assert_eq!(backend.observe().await.unwrap().nodegroups[0].ready_nodes, 3);
}

#[tokio::test]
async fn observe_sees_only_managed_pods_and_create_is_idempotent() {
    let (api, backend) = setup();
    let pods: Api<Pod> = Api::namespaced(api.client(NS), NS);
    let mut foreign = riskgrid_kube::worker_pod(&spec("foreign", GROUP, 1), &PodSettings::default());
    foreign.metadata.labels = Some([("app".to_owned(), "other".to_owned())].into_iter().collect());
    pods.create(&PostParams::default(), &foreign).await.unwrap();
    backend.apply(CapacityAction::CreatePod(spec("w-0", GROUP, 1))).await.unwrap();
    backend.apply(CapacityAction::CreatePod(spec("w-0", GROUP, 1))).await.unwrap();
    let names: Vec<String> = backend.observe().await.unwrap().pods.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["w-0"]);
    let err = backend.apply(CapacityAction::CreatePod(spec("foreign", GROUP, 1))).await.unwrap_err();
    assert!(matches!(err, BackendError::Conflict(_)), "{err:?}");
    // Label selectors through the client: set-based and inequality.
    let lp = ListParams::default().labels("riskgrid.io/nodegroup in (burst-a,x),app!=other");
    assert_eq!(pods.list(&lp).await.unwrap().items.len(), 1);
    let lp = ListParams::default().labels("!riskgrid.io/tenant");
    let untenanted: Vec<_> =
        pods.list(&lp).await.unwrap().items.into_iter().map(|p| p.metadata.name.unwrap()).collect();
    assert_eq!(untenanted, ["foreign"]);
    // Deleting twice, or a pod that never existed, is fine.
    for _ in 0..2 {
        backend.apply(CapacityAction::DeletePod { name: "w-0".into() }).await.unwrap();
    }
    assert!(api.pod(NS, "w-0").is_none());
    // Transient API failures surface as Unavailable.
    api.fail_next(Method::GET, 503);
    assert!(matches!(backend.observe().await, Err(BackendError::Unavailable(_))));
    assert!(backend.observe().await.is_ok());
}

#[tokio::test]
async fn admission_hook_refuses_pods() {
    let (api, backend) = setup();
    // A policy in the spirit of the restricted profile: our pods pass it.
    api.set_admission(|pod: &Pod| {
        let spec = pod.spec.as_ref().ok_or("no spec")?;
        if spec.automount_service_account_token != Some(false) {
            return Err("service account token must not be mounted".into());
        }
        Ok(())
    });
    backend.apply(CapacityAction::CreatePod(spec("w-0", GROUP, 1))).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(api.client(NS), NS);
    let mut bad = riskgrid_kube::worker_pod(&spec("w-bad", GROUP, 1), &PodSettings::default());
    bad.spec.as_mut().unwrap().automount_service_account_token = None;
    let err = pods.create(&PostParams::default(), &bad).await.unwrap_err();
    assert!(err.to_string().contains("service account token"), "{err}");
    api.set_admission(|_: &Pod| Err("tenant over quota".into()));
    let err = backend.apply(CapacityAction::CreatePod(spec("w-1", GROUP, 1))).await.unwrap_err();
    assert!(matches!(err, BackendError::Invalid(ref m) if m.contains("over quota")), "{err:?}");
    assert_eq!(api.pods(NS).len(), 1);
}

async fn next_change(api: &FakeApi, stream: &mut (impl futures_util::Stream<Item = Change> + Unpin), want: &Change) {
    let deadline = Duration::from_secs(10);
    let found = tokio::time::timeout(deadline, async {
        while let Some(c) = stream.next().await {
            if &c == want {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "waiting for {want:?}; requests: {:#?}", api.requests());
}

#[tokio::test]
async fn watcher_sees_pod_and_node_changes_and_recovers() {
    let (api, backend) = setup();
    api.set_max_watch(Duration::from_millis(300));
    let mut stream = Box::pin(changes(api.client(NS), backend.settings()));
    // One initial list per watcher (pods, nodes).
    next_change(&api, &mut stream, &Change::Resynced).await;
    next_change(&api, &mut stream, &Change::Resynced).await;

    backend.apply(CapacityAction::CreatePod(spec("w-0", GROUP, 1))).await.unwrap();
    next_change(&api, &mut stream, &Change::Pod("w-0".into())).await;
    api.schedule_pods(NS);
    next_change(&api, &mut stream, &Change::Pod("w-0".into())).await;
    api.set_node_ready("n1", false);
    next_change(&api, &mut stream, &Change::Node("n1".into())).await;

    // Let the watches time out (300 ms) and resume from their resourceVersion: nothing is missed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    backend.apply(CapacityAction::DeletePod { name: "w-0".into() }).await.unwrap();
    next_change(&api, &mut stream, &Change::PodDeleted("w-0".into())).await;

    // After compaction a resume gets 410 Gone; the watcher relists and reports a resync.
    api.compact();
    api.close_watches();
    next_change(&api, &mut stream, &Change::Resynced).await;
    api.remove_node("n2");
    next_change(&api, &mut stream, &Change::NodeDeleted("n2".into())).await;
    // The resumed watch requests carried the resourceVersion the fake handed out.
    let resumed = api.requests().iter().filter(|r| r.contains("watch=true") && r.contains("resourceVersion=")).count();
    assert!(resumed >= 4, "{:?}", api.requests());
}
