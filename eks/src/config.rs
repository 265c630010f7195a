//! Which cluster to manage and how to reach AWS.
//!
//! Region, endpoint and credentials come from the standard AWS configuration chain
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
//! `AWS_PROFILE` and `~/.aws/config`, web identity, IMDS, ...). The two optional fields
//! here only override that chain when set, e.g. to point at a local `moto_server`.
//! Credentials are never part of this struct: callers that need fixed ones (tests) add a
//! provider to [`EksConfig::loader`].

use crate::error::{Error, Result};
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};

/// Configuration of the EKS capacity backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EksConfig {
    /// EKS cluster name whose managed nodegroups the backend sizes.
    pub cluster: String,
    /// AWS region; `None` = from the standard chain.
    pub region: Option<String>,
    /// Endpoint override for both EKS and EC2 (e.g. `http://127.0.0.1:5000`); `None` =
    /// from the standard chain (`AWS_ENDPOINT_URL`), else the real AWS endpoints.
    pub endpoint_url: Option<String>,
}

impl EksConfig {
    /// A config for `cluster` with everything else from the standard chain.
    pub fn new(cluster: impl Into<String>) -> Self {
        Self { cluster: cluster.into(), region: None, endpoint_url: None }
    }

    /// Checks what can be checked without talking to AWS.
    pub fn validate(&self) -> Result<()> {
        if !is_eks_name(&self.cluster) {
            return Err(Error::Config(format!(
                "cluster name {:?} must be 1-100 characters of letters, digits, '-' or '_', starting with a letter or digit",
                self.cluster
            )));
        }
        if let Some(region) = &self.region
            && (region.is_empty() || !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(Error::Config(format!("region {region:?} is not an AWS region name")));
        }
        if let Some(url) = &self.endpoint_url {
            let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
            if rest.is_none_or(str::is_empty) {
                return Err(Error::Config(format!("endpoint_url {url:?} must be an http:// or https:// URL")));
            }
        }
        Ok(())
    }

    /// The standard-chain loader with this config's overrides applied. Add more (e.g.
    /// `.credentials_provider(..)`) before `.load()`.
    pub fn loader(&self) -> ConfigLoader {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        loader
    }

    /// Validates, then loads the shared SDK config from the standard chain.
    pub async fn load(&self) -> Result<SdkConfig> {
        self.validate()?;
        check_loaded(self.loader().load().await)
    }
}

/// Rejects a loaded config that no request could be signed for; call it on configs built
/// from [`EksConfig::loader`] by hand too.
pub fn check_loaded(sdk: SdkConfig) -> Result<SdkConfig> {
    if sdk.region().is_none() {
        return Err(Error::Config("no AWS region: set `region`, AWS_REGION or a profile region".into()));
    }
    Ok(sdk)
}

/// EKS cluster and nodegroup names: `^[0-9A-Za-z][A-Za-z0-9\-_]*`, at most 100 characters.
pub(crate) fn is_eks_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return false };
    name.len() <= 100
        && first.is_ascii_alphanumeric()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_accepts_minimal_and_overridden_configs() {
        assert_eq!(EksConfig::new("risk-burst_1").validate(), Ok(()));
        let cfg = EksConfig {
            cluster: "c".into(),
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
        };
        assert_eq!(cfg.validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_bad_fields() {
        for cluster in ["", "-x", "a b", &"a".repeat(101)] {
            assert!(EksConfig::new(cluster).validate().is_err(), "{cluster:?}");
        }
        let bad_region = EksConfig { region: Some("EU West".into()), ..EksConfig::new("c") };
        assert!(matches!(bad_region.validate(), Err(Error::Config(m)) if m.contains("region")));
        for url in ["127.0.0.1:5000", "http://", "ftp://x"] {
            let cfg = EksConfig { endpoint_url: Some(url.into()), ..EksConfig::new("c") };
            assert!(matches!(cfg.validate(), Err(Error::Config(m)) if m.contains("endpoint_url")), "{url}");
        }
    }

    #[test]
    fn loaded_config_without_region_is_refused() {
        let sdk = SdkConfig::builder().behavior_version(BehaviorVersion::latest()).build();
        assert!(matches!(check_loaded(sdk), Err(Error::Config(m)) if m.contains("region")));
        let sdk =
            SdkConfig::builder().region(Region::new("us-east-1")).behavior_version(BehaviorVersion::latest()).build();
        assert!(check_loaded(sdk).is_ok());
    }
}
