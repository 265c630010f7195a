//! Contract tests of the EKS/EC2 adapter against a local `moto_server` (issue #4).
//! moto checks the API shapes and our error mapping; it does not enforce nodegroup
//! bounds (so the bounds test proves *we* refuse) and its spot prices are placeholders.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLUSTER, create_nodegroup, moto_with_cluster};
use riskgrid_capacity::{
    BackendError, CapacityAction, CapacityBackend, NodegroupObservation, Observed, PodObservation, PodPhase,
    WorkerPodSpec,
};
use riskgrid_eks::error::Bound;
use riskgrid_eks::{EksBackend, EksNodegroups, Error, Resize};
use std::collections::BTreeMap;
use std::sync::Mutex;

macro_rules! moto_or_skip {
    ($name:expr) => {
        match moto_with_cluster($name).await? {
            Some(pair) => pair,
            None => return Ok(()),
        }
    };
}

#[tokio::test]
async fn nodegroups_list_describe_and_scale_within_bounds() -> anyhow::Result<()> {
    let (_moto, sdk) = moto_or_skip!("nodegroups_list_describe_and_scale_within_bounds");
    create_nodegroup(&sdk, "spot-a", 0, 1, 8).await?;
    create_nodegroup(&sdk, "spot-b", 2, 2, 4).await?;
    let ngs = EksNodegroups::new(&sdk, CLUSTER);

    let mut names = ngs.list().await?;
    names.sort();
    assert_eq!(names, ["spot-a", "spot-b"]);

    let a = ngs.describe("spot-a").await?;
    assert_eq!((a.min, a.desired, a.max), (0, 1, 8));
    assert_eq!(a.instance_types, ["c5.4xlarge"]);
    assert_eq!(a.capacity_type.as_deref(), Some("SPOT"));
    assert!(!a.status.is_empty(), "status should be reported");

    let resize = ngs.set_desired("spot-a", 5).await?;
    let Resize::Requested { update_id } = resize else { panic!("expected an update, got {resize:?}") };
    assert!(!update_id.is_empty());
    let a = ngs.describe("spot-a").await?;
    assert_eq!((a.min, a.desired, a.max), (0, 5, 8), "desired read back after update");

    // Bounds are inclusive; same size again sends nothing.
    assert!(matches!(ngs.set_desired("spot-a", 8).await?, Resize::Requested { .. }));
    assert_eq!(ngs.set_desired("spot-a", 8).await?, Resize::Unchanged);
    assert!(matches!(ngs.set_desired("spot-a", 0).await?, Resize::Requested { .. }));
    assert_eq!(ngs.describe("spot-a").await?.desired, 0);
    assert_eq!(ngs.describe("spot-b").await?.desired, 2, "other nodegroup untouched");
    Ok(())
}

#[tokio::test]
async fn desired_outside_bounds_is_refused_before_any_update() -> anyhow::Result<()> {
    let (_moto, sdk) = moto_or_skip!("desired_outside_bounds_is_refused_before_any_update");
    create_nodegroup(&sdk, "spot-a", 1, 2, 4).await?;
    let ngs = EksNodegroups::new(&sdk, CLUSTER);

    let err = ngs.set_desired("spot-a", 5).await.expect_err("5 > max 4 must be refused");
    assert!(matches!(err, Error::DesiredOutOfRange { desired: 5, max: 4, bound: Bound::AboveMax, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("desired 5") && text.contains("max 4"), "{text}");

    let err = ngs.set_desired("spot-a", 0).await.expect_err("0 < min 1 must be refused");
    assert!(matches!(err, Error::DesiredOutOfRange { bound: Bound::BelowMin, min: 1, .. }), "{err:?}");

    // moto would have accepted desired > max, so an unchanged desired proves no update went out.
    assert_eq!(ngs.describe("spot-a").await?.desired, 2);

    let backend = EksBackend::new(ngs);
    let refused = backend.apply(CapacityAction::SetNodegroupSize { nodegroup: "spot-a".into(), desired: 9 }).await;
    assert!(
        matches!(&refused, Err(BackendError::Invalid(m)) if m.contains("desired 9") && m.contains("max 4")),
        "{refused:?}"
    );
    assert_eq!(backend.nodegroups().describe("spot-a").await?.desired, 2);
    Ok(())
}

#[tokio::test]
async fn unknown_nodegroup_and_cluster_are_not_found() -> anyhow::Result<()> {
    let (_moto, sdk) = moto_or_skip!("unknown_nodegroup_and_cluster_are_not_found");
    let ngs = EksNodegroups::new(&sdk, CLUSTER);
    let err = ngs.describe("nope").await.expect_err("no such nodegroup");
    assert!(
        matches!(&err, Error::NotFound { op: "DescribeNodegroup", message } if message.contains("ResourceNotFoundException")),
        "{err:?}"
    );
    assert!(matches!(ngs.set_desired("nope", 1).await, Err(Error::NotFound { .. })));

    let backend = EksBackend::new(ngs);
    let res = backend.apply(CapacityAction::SetNodegroupSize { nodegroup: "nope".into(), desired: 1 }).await;
    assert!(matches!(&res, Err(BackendError::NotFound(m)) if m.contains("ResourceNotFoundException")), "{res:?}");

    // (moto answers ListNodegroups for an unknown cluster with a bare HTTP 500, so the
    // unknown cluster is checked through DescribeNodegroup.)
    let other = EksNodegroups::new(&sdk, "no-such-cluster");
    let res = other.set_desired("spot-a", 1).await;
    assert!(matches!(res, Err(Error::NotFound { .. })), "{res:?}");
    Ok(())
}

#[tokio::test]
async fn ec2_instance_types_and_spot_prices() -> anyhow::Result<()> {
    let (_moto, sdk) = moto_or_skip!("ec2_instance_types_and_spot_prices");
    let ec2 = riskgrid_eks::Ec2Instances::new(&sdk);

    let mut infos = ec2.describe_instance_types(&["c5.4xlarge".into(), "m5.large".into()]).await?;
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    let got: Vec<_> = infos.iter().map(|i| (i.name.as_str(), i.vcpus, i.memory_mib)).collect();
    assert_eq!(got, [("c5.4xlarge", 16, 32768), ("m5.large", 2, 8192)]);
    assert!(ec2.describe_instance_types(&[]).await?.is_empty());

    let bad = ec2.describe_instance_types(&["c5.nonexistent".into()]).await;
    assert!(matches!(bad, Err(Error::Invalid { .. }) | Err(Error::NotFound { .. })), "{bad:?}");

    let types = vec!["c5.4xlarge".to_string()];
    let prices = ec2.spot_price_history(&types, None, None).await?;
    for p in &prices {
        assert_eq!(p.instance_type, "c5.4xlarge", "filtered by type: {p:?}");
        assert!(p.usd_per_hour > 0.0, "{p:?}");
    }
    let latest = riskgrid_eks::latest_prices(prices.clone());
    assert!(latest.len() <= prices.len());
    eprintln!("moto spot records for c5.4xlarge: {} (latest per zone: {})", prices.len(), latest.len());
    Ok(())
}

/// A stand-in for the kubernetes backend: fixed observations, records what it is asked.
#[derive(Debug, Default)]
struct FakePods {
    seen: Observed,
    applied: Mutex<Vec<CapacityAction>>,
}

impl CapacityBackend for FakePods {
    fn name(&self) -> &'static str {
        "fake-pods"
    }

    async fn observe(&self) -> Result<Observed, BackendError> {
        Ok(self.seen.clone())
    }

    async fn apply(&self, action: CapacityAction) -> Result<(), BackendError> {
        self.applied.lock().unwrap().push(action);
        Ok(())
    }
}

fn pod_spec(name: &str) -> WorkerPodSpec {
    WorkerPodSpec {
        name: name.into(),
        nodegroup: "spot-a".into(),
        tenant: None,
        job: None,
        cores: 4,
        memory_mib: 8192,
        image: "riskgrid/worker@sha256:0".into(),
        scheduler_endpoint: "http://scheduler:50051".into(),
        drain_grace_seconds: 30,
        labels: BTreeMap::new(),
    }
}

#[tokio::test]
async fn backend_observe_apply_round_trip() -> anyhow::Result<()> {
    let (_moto, sdk) = moto_or_skip!("backend_observe_apply_round_trip");
    create_nodegroup(&sdk, "spot-a", 0, 0, 6).await?;
    create_nodegroup(&sdk, "spot-b", 1, 3, 3).await?;

    // Without a pod backend: nodegroups only, Ready counts unknown (0), pods refused.
    let backend = EksBackend::new(EksNodegroups::new(&sdk, CLUSTER));
    assert_eq!(backend.name(), "eks");
    let mut seen = backend.observe().await?;
    seen.nodegroups.sort_by(|a, b| a.name.cmp(&b.name));
    let obs = |name: &str, desired, min, max, ready_nodes| NodegroupObservation {
        name: name.into(),
        desired,
        min,
        max,
        ready_nodes,
        instance_type: "c5.4xlarge".into(),
    };
    assert_eq!(seen.nodegroups, [obs("spot-a", 0, 0, 6, 0), obs("spot-b", 3, 1, 3, 0)]);
    assert!(seen.pods.is_empty());

    backend.apply(CapacityAction::SetNodegroupSize { nodegroup: "spot-a".into(), desired: 4 }).await?;
    let refused = backend.apply(CapacityAction::CreatePod(pod_spec("w-1"))).await;
    assert!(matches!(&refused, Err(BackendError::Invalid(m)) if m.contains("CreatePod w-1")), "{refused:?}");

    // With a pod backend: its pods pass through, its Ready counts fill in, pod actions go to it.
    let pod = PodObservation {
        name: "w-1".into(),
        nodegroup: "spot-a".into(),
        tenant: None,
        phase: PodPhase::Ready,
        cores: 4,
    };
    let fake = FakePods {
        seen: Observed {
            nodegroups: vec![obs("spot-a", 0, 0, 0, 3), obs("elsewhere", 0, 0, 0, 7)],
            pods: vec![pod.clone()],
        },
        applied: Mutex::default(),
    };
    let backend = EksBackend::new(EksNodegroups::new(&sdk, CLUSTER)).with_pods(fake);
    let mut seen = backend.observe().await?;
    seen.nodegroups.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(seen.nodegroups, [obs("spot-a", 4, 0, 6, 3), obs("spot-b", 3, 1, 3, 0)]);
    assert_eq!(seen.pods, [pod]);

    backend.apply(CapacityAction::CreatePod(pod_spec("w-2"))).await?;
    backend.apply(CapacityAction::DeletePod { name: "w-1".into() }).await?;
    backend.apply(CapacityAction::SetNodegroupSize { nodegroup: "spot-b".into(), desired: 1 }).await?;
    let delegated = backend.pods().expect("pod backend set").applied.lock().unwrap().clone();
    assert_eq!(
        delegated,
        [CapacityAction::CreatePod(pod_spec("w-2")), CapacityAction::DeletePod { name: "w-1".into() }]
    );
    let mut after = backend.observe().await?.nodegroups;
    after.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(after[1], obs("spot-b", 1, 1, 3, 0));
    Ok(())
}

#[tokio::test]
async fn unreachable_endpoint_is_unavailable() -> anyhow::Result<()> {
    // A port nobody listens on (bound, then released): connection refused, after retries.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let sdk = common::sdk_config(&format!("http://127.0.0.1:{port}")).await?;
    let backend = EksBackend::new(EksNodegroups::new(&sdk, CLUSTER));
    let res = backend.observe().await;
    assert!(matches!(&res, Err(BackendError::Unavailable(m)) if m.contains("ListNodegroups")), "{res:?}");
    Ok(())
}
