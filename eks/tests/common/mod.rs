//! Shared fixtures for the moto contract tests: SDK config with static test credentials
//! (set on the loader, never in the process environment) and EKS setup calls that the
//! backend itself never makes (CreateCluster, CreateNodegroup).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod moto;

use aws_config::SdkConfig;
use aws_sdk_eks::config::Credentials;
use aws_sdk_eks::types::{CapacityTypes, NodegroupScalingConfig, VpcConfigRequest};
use riskgrid_eks::EksConfig;
use riskgrid_eks::config::check_loaded;

pub const REGION: &str = "us-east-1";
pub const CLUSTER: &str = "riskgrid-burst";

/// Config for [`CLUSTER`] on the given moto endpoint.
pub fn eks_config(endpoint: &str) -> EksConfig {
    EksConfig { cluster: CLUSTER.into(), region: Some(REGION.into()), endpoint_url: Some(endpoint.into()) }
}

/// The standard chain with static `testing` credentials added on the loader.
pub async fn sdk_config(endpoint: &str) -> anyhow::Result<SdkConfig> {
    let cfg = eks_config(endpoint);
    cfg.validate()?;
    let creds = Credentials::new("testing", "testing", Some("testing".into()), None, "riskgrid-eks-tests");
    Ok(check_loaded(cfg.loader().credentials_provider(creds).load().await)?)
}

/// Creates [`CLUSTER`] with fake role and subnets (moto accepts them).
pub async fn create_cluster(sdk: &SdkConfig) -> anyhow::Result<()> {
    aws_sdk_eks::Client::new(sdk)
        .create_cluster()
        .name(CLUSTER)
        .role_arn("arn:aws:iam::123456789012:role/eks-cluster")
        .resources_vpc_config(
            VpcConfigRequest::builder().subnet_ids("subnet-0a1b2c3d").subnet_ids("subnet-4e5f6a7b").build(),
        )
        .send()
        .await?;
    Ok(())
}

/// Creates a SPOT nodegroup of c5.4xlarge with the given scaling config.
pub async fn create_nodegroup(sdk: &SdkConfig, name: &str, min: i32, desired: i32, max: i32) -> anyhow::Result<()> {
    aws_sdk_eks::Client::new(sdk)
        .create_nodegroup()
        .cluster_name(CLUSTER)
        .nodegroup_name(name)
        .node_role("arn:aws:iam::123456789012:role/eks-node")
        .subnets("subnet-0a1b2c3d")
        .scaling_config(NodegroupScalingConfig::builder().min_size(min).desired_size(desired).max_size(max).build())
        .instance_types("c5.4xlarge")
        .capacity_type(CapacityTypes::Spot)
        .send()
        .await?;
    Ok(())
}

/// Starts moto (or skips), loads the SDK config and creates the cluster.
pub async fn moto_with_cluster(test: &str) -> anyhow::Result<Option<(moto::Moto, SdkConfig)>> {
    let Some(server) = moto::Moto::start_or_skip(test)? else { return Ok(None) };
    let sdk = sdk_config(&server.endpoint()).await?;
    create_cluster(&sdk).await?;
    Ok(Some((server, sdk)))
}
