//! The capacity controller end to end on the `eks` backend: the real
//! scheduler's demand and the real `decide`, EKS nodegroups in `moto_server`,
//! worker pods through the kubernetes backend on the stateful in-memory API
//! fake (no API server can run here). A job bursts the spot nodegroup, pods
//! land on the nodes that become ready, and cancelling the job shrinks it all
//! back to zero.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLUSTER, create_nodegroup, moto_with_cluster};
use riskgrid_capacity::BurstPolicy;
use riskgrid_eks::{EksBackend, EksNodegroups};
use riskgrid_kube::fake::{FakeApi, node};
use riskgrid_kube::{KubeBackend, PodSettings};
use riskgrid_scheduler::burst::{Capacity, reconcile_once};
use riskgrid_scheduler::grpc::{BoxStore, Grid, WallClock};
use riskgrid_scheduler::{MemStore, Scheduler, SchedulerConfig, SubmitRequest, TenantId};

const NS: &str = "riskgrid-workers";
const GROUP: &str = "burst-spot";

const POLICY: &str = "
nodegroups:
  - {name: burst-spot, min_nodes: 0, max_nodes: 8, instance_type: c5.4xlarge, capacity: spot}
budget_usd_per_hour: 100
scale_up_cooldown_s: 0
scale_down_idle_s: 0
cores_per_pod: 4
node_lead_time_s: 0
drain_horizon_s: 60
worker: {image: 'registry.example.com/riskgrid/worker@sha256:00', scheduler_endpoint: 'https://riskgrid-scheduler:7443', memory_mib_per_core: 1024, drain_grace_seconds: 100}
";

const JOB: &str = "seed: 1
market: {rate: 0.01, underlyings: [{id: A, spot: 100, vol: 0.2}]}
portfolio: [{id: c, instrument: {type: european, underlying: A, option: call, strike: 100, maturity: 1}}]
analysis: {paths: 100000000000, block_size: 65536}
";

#[tokio::test]
async fn a_job_bursts_the_spot_nodegroup_and_cancelling_it_shrinks_everything_back() -> anyhow::Result<()> {
    let Some((_moto, sdk)) = moto_with_cluster("a_job_bursts_the_spot_nodegroup").await? else { return Ok(()) };
    create_nodegroup(&sdk, GROUP, 0, 0, 8).await?;
    let eks = EksNodegroups::new(&sdk, CLUSTER);
    let api = FakeApi::new();
    let settings = PodSettings { namespace: NS.into(), tls_secret: None, ..PodSettings::default() };
    let backend =
        EksBackend::new(EksNodegroups::new(&sdk, CLUSTER)).with_pods(KubeBackend::new(api.client(NS), settings)?);

    let policy: BurstPolicy = serde_yaml::from_str(POLICY)?;
    policy.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let capacity = Capacity::without_backend(Some(policy));
    let sched = Scheduler::new(SchedulerConfig::default(), WallClock::new(), BoxStore(Box::new(MemStore::new())));
    let grid = Grid::new(sched, 15_000);
    let tenant = TenantId::from("desk");

    // Nothing queued: nothing asked for.
    let r = reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    assert!(r.actions.is_empty(), "{:?}", r.actions);
    assert_eq!(eks.describe(GROUP).await?.desired, 0);

    // A big job: the controller asks EKS for nodes (moto records the new desired size)...
    let spec = riskcalc::spec::parse_yaml(JOB).map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = grid.lock().sched.submit(&tenant, SubmitRequest::new(spec))?;
    let r = reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    let asked = eks.describe(GROUP).await?.desired;
    assert!(asked > 0 && asked <= 8, "desired {asked}; reasons {:?}", r.reasons);
    assert!(r.usd_per_hour <= 100.0);
    // ...but no pods before a node is ready.
    assert!(api.pods(NS).is_empty());

    // The nodes join (what the cluster autoscaler and kubelet would do); the next reconcile fills them.
    for i in 0..asked {
        api.add_node(node(
            &format!("ip-10-0-0-{i}"),
            &[("riskgrid.io/nodegroup", GROUP), ("node.kubernetes.io/instance-type", "c5.4xlarge")],
            16,
            &[("riskgrid.io/burst", "true", "NoSchedule")],
        ));
    }
    let r = reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let pods = api.pods(NS);
    assert_eq!(pods.len() as u32, asked * 4, "16-vCPU nodes hold four 4-core pods; reasons {:?}", r.reasons);
    assert!(api.schedule_pods(NS) > 0, "the pods fit the nodes' selector, taints and CPU");
    for p in &pods {
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.node_selector.as_ref().unwrap()["riskgrid.io/nodegroup"], GROUP);
        assert_eq!(spec.automount_service_account_token, Some(false));
    }
    // A pod deleted behind the controller's back (evicted, reclaimed) is replaced, under the same name.
    let victim = pods[0].metadata.name.clone().unwrap();
    assert!(api.remove_pod(NS, &victim));
    let r = reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    assert!(api.pod(NS, &victim).is_some(), "not replaced; actions {:?}", r.actions);
    assert_eq!(api.pods(NS).len(), pods.len());

    // Cancelled: demand is gone; EKS is asked for zero nodes at once (scale_down_idle_s: 0)...
    grid.lock().sched.cancel(&tenant, job)?;
    reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    assert_eq!(eks.describe(GROUP).await?.desired, 0);
    // ...and when the nodes go, so do the pods.
    for i in 0..asked {
        api.remove_node(&format!("ip-10-0-0-{i}"));
    }
    reconcile_once(&grid, &backend, &capacity).await.expect("a report");
    api.finish_deletions();
    assert!(api.pods(NS).is_empty(), "{:?}", api.pods(NS).iter().map(|p| p.metadata.name.clone()).collect::<Vec<_>>());
    Ok(())
}
