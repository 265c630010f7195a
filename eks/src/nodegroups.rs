//! Managed nodegroups of one EKS cluster: list, describe, and set the desired size.
//!
//! EKS knows a nodegroup's scaling config (min, max, desired) and status, but not how
//! many of its nodes are Ready: that comes from Kubernetes Node objects (the kubernetes
//! backend). So [`NodegroupInfo::observation`] takes the ready count from its caller, and
//! [`crate::EksBackend`] fills it from its pod backend, or 0 when it has none.

use crate::error::{Bound, Error, Result};
use aws_config::SdkConfig;
use aws_sdk_eks::Client;
use aws_sdk_eks::types::{Nodegroup, NodegroupScalingConfig};
use riskgrid_capacity::NodegroupObservation;

/// A managed nodegroup as DescribeNodegroup reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodegroupInfo {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    /// Instance types in EKS's order; the first is the one we size workers for.
    pub instance_types: Vec<String>,
    /// EKS status (`ACTIVE`, `UPDATING`, `CREATING`, `DEGRADED`, ...).
    pub status: String,
    /// `ON_DEMAND` or `SPOT`, when EKS says.
    pub capacity_type: Option<String>,
}

impl NodegroupInfo {
    /// The port's view of this nodegroup, with the Ready node count from Kubernetes.
    pub fn observation(&self, ready_nodes: u32) -> NodegroupObservation {
        NodegroupObservation {
            name: self.name.clone(),
            desired: self.desired,
            min: self.min,
            max: self.max,
            ready_nodes,
            instance_type: self.instance_types.first().cloned().unwrap_or_default(),
        }
    }

    /// Our own bounds check: `min <= desired <= max`.
    pub fn check_desired(&self, desired: u32) -> Result<()> {
        let bound = if desired < self.min {
            Bound::BelowMin
        } else if desired > self.max {
            Bound::AboveMax
        } else {
            return Ok(());
        };
        Err(Error::DesiredOutOfRange { nodegroup: self.name.clone(), desired, min: self.min, max: self.max, bound })
    }

    fn from_sdk(ng: &Nodegroup) -> Result<Self> {
        const OP: &str = "DescribeNodegroup";
        let name = ng.nodegroup_name().ok_or_else(|| missing(OP, "nodegroupName"))?.to_owned();
        let scaling = ng.scaling_config().ok_or_else(|| missing(OP, "scalingConfig"))?;
        let size = |field: &str, value: Option<i32>| -> Result<u32> {
            let v = value.ok_or_else(|| missing(OP, field))?;
            u32::try_from(v).map_err(|_| Error::Malformed { op: OP, what: format!("{field} is {v}") })
        };
        Ok(Self {
            min: size("scalingConfig.minSize", scaling.min_size())?,
            max: size("scalingConfig.maxSize", scaling.max_size())?,
            desired: size("scalingConfig.desiredSize", scaling.desired_size())?,
            instance_types: ng.instance_types().to_vec(),
            status: ng.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            capacity_type: ng.capacity_type().map(|c| c.as_str().to_owned()),
            name,
        })
    }
}

/// What [`EksNodegroups::set_desired`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resize {
    /// The nodegroup already had that desired size; no update was sent.
    Unchanged,
    /// UpdateNodegroupConfig accepted; EKS tracks it under this update id.
    Requested { update_id: String },
}

/// The managed nodegroups of one cluster.
#[derive(Debug, Clone)]
pub struct EksNodegroups {
    client: Client,
    cluster: String,
}

impl EksNodegroups {
    /// Clients for `cluster` from a loaded SDK config.
    pub fn new(sdk: &SdkConfig, cluster: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), cluster)
    }

    pub fn from_client(client: Client, cluster: impl Into<String>) -> Self {
        Self { client, cluster: cluster.into() }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Names of all managed nodegroups of the cluster (all pages).
    pub async fn list(&self) -> Result<Vec<String>> {
        self.client
            .list_nodegroups()
            .cluster_name(&self.cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| Error::from_sdk("ListNodegroups", e))
    }

    /// One nodegroup's scaling config, instance types and status.
    pub async fn describe(&self, name: &str) -> Result<NodegroupInfo> {
        let out = self
            .client
            .describe_nodegroup()
            .cluster_name(&self.cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(|e| Error::from_sdk("DescribeNodegroup", e))?;
        NodegroupInfo::from_sdk(out.nodegroup().ok_or_else(|| missing("DescribeNodegroup", "nodegroup"))?)
    }

    /// Sets the desired size after checking it against a fresh DescribeNodegroup:
    /// out-of-range sizes are refused here (no update is sent), an unchanged size sends
    /// nothing, otherwise UpdateNodegroupConfig changes `desiredSize` only.
    pub async fn set_desired(&self, name: &str, desired: u32) -> Result<Resize> {
        let current = self.describe(name).await?;
        current.check_desired(desired)?;
        if current.desired == desired {
            return Ok(Resize::Unchanged);
        }
        const OP: &str = "UpdateNodegroupConfig";
        // check_desired bounded it by max, itself read from an i32.
        let size =
            i32::try_from(desired).map_err(|_| Error::Malformed { op: OP, what: format!("desired {desired}") })?;
        let out = self
            .client
            .update_nodegroup_config()
            .cluster_name(&self.cluster)
            .nodegroup_name(name)
            .scaling_config(NodegroupScalingConfig::builder().desired_size(size).build())
            .send()
            .await
            .map_err(|e| Error::from_sdk(OP, e))?;
        let update_id = out.update().and_then(|u| u.id()).ok_or_else(|| missing(OP, "update.id"))?.to_owned();
        tracing::info!(cluster = %self.cluster, nodegroup = name, from = current.desired, to = desired, %update_id, "nodegroup resize requested");
        Ok(Resize::Requested { update_id })
    }
}

fn missing(op: &'static str, field: &str) -> Error {
    Error::Malformed { op, what: format!("no {field}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::{CapacityTypes, NodegroupStatus};

    fn info(min: u32, desired: u32, max: u32) -> NodegroupInfo {
        NodegroupInfo {
            name: "ng".into(),
            min,
            max,
            desired,
            instance_types: vec!["c5.4xlarge".into(), "c5a.4xlarge".into()],
            status: "ACTIVE".into(),
            capacity_type: Some("SPOT".into()),
        }
    }

    #[test]
    fn bounds_are_inclusive() {
        let ng = info(1, 2, 5);
        assert_eq!(ng.check_desired(1), Ok(()));
        assert_eq!(ng.check_desired(5), Ok(()));
        assert!(matches!(ng.check_desired(0), Err(Error::DesiredOutOfRange { bound: Bound::BelowMin, .. })));
        assert!(matches!(
            ng.check_desired(6),
            Err(Error::DesiredOutOfRange { bound: Bound::AboveMax, desired: 6, .. })
        ));
    }

    #[test]
    fn observation_uses_first_instance_type_and_given_ready_count() {
        let obs = info(0, 3, 10).observation(2);
        assert_eq!(
            obs,
            NodegroupObservation {
                name: "ng".into(),
                desired: 3,
                min: 0,
                max: 10,
                ready_nodes: 2,
                instance_type: "c5.4xlarge".into()
            }
        );
    }

    #[test]
    fn sdk_nodegroup_is_read_and_checked() {
        let scaling = |min, desired, max| {
            NodegroupScalingConfig::builder().min_size(min).desired_size(desired).max_size(max).build()
        };
        let ng = Nodegroup::builder()
            .nodegroup_name("ng")
            .scaling_config(scaling(1, 2, 5))
            .instance_types("c5.4xlarge")
            .status(NodegroupStatus::Active)
            .capacity_type(CapacityTypes::Spot)
            .build();
        let got = NodegroupInfo::from_sdk(&ng).expect("valid nodegroup");
        assert_eq!((got.min, got.desired, got.max), (1, 2, 5));
        assert_eq!((got.status.as_str(), got.capacity_type.as_deref()), ("ACTIVE", Some("SPOT")));

        let negative = Nodegroup::builder().nodegroup_name("ng").scaling_config(scaling(-1, 2, 5)).build();
        assert!(
            matches!(NodegroupInfo::from_sdk(&negative), Err(Error::Malformed { what, .. }) if what.contains("minSize is -1"))
        );
        let no_scaling = Nodegroup::builder().nodegroup_name("ng").build();
        assert!(matches!(NodegroupInfo::from_sdk(&no_scaling), Err(Error::Malformed { .. })));
    }
}
