//! Burst capacity on AWS EKS (issue #4): sizes managed nodegroups with aws-sdk-eks and
//! reads instance shapes and spot prices with aws-sdk-ec2, behind the
//! [`riskgrid_capacity::CapacityBackend`] port. Pods are not EKS's business: the
//! [`EksBackend`] delegates them to a pod backend (the kubernetes one).
//!
//! All AWS code lives in this crate because aws-sdk-ec2 is slow to compile; depend on it
//! only where the EKS backend is wired in.
//!
//! Layout: [`config`] (which cluster, standard AWS chain), [`nodegroups`] (EKS calls),
//! [`instances`] (EC2 calls), [`backend`] (the port), [`error`] (the one SDK error mapping).

pub mod backend;
pub mod config;
pub mod error;
pub mod instances;
pub mod nodegroups;

pub use backend::{EksBackend, NoPods};
pub use config::EksConfig;
pub use error::{Error, Result};
pub use instances::{Ec2Instances, InstanceInfo, SpotPrice, latest_prices};
pub use nodegroups::{EksNodegroups, NodegroupInfo, Resize};

/// Loads `config` through the standard AWS chain and builds the backend (no pod backend;
/// add one with [`EksBackend::with_pods`]) and the EC2 queries for the same account.
pub async fn connect(config: &EksConfig) -> Result<(EksBackend, Ec2Instances)> {
    let sdk = config.load().await?;
    Ok((EksBackend::new(EksNodegroups::new(&sdk, &config.cluster)), Ec2Instances::new(&sdk)))
}
