//! Small serde structs for the custom resources in `deploy/`. They list the
//! fields this repository uses and reject others (`deny_unknown_fields`), so a
//! misspelt key fails here instead of being ignored by the tool that reads it.
//! Free-form parts (Rego, constraint parameters, label maps) stay JSON values.

use crate::{Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// Deserialises with the struct's own strictness.
pub fn strict<T: DeserializeOwned>(value: &Value) -> Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| Error::Manifest(e.to_string()))
}

/// `templates.gatekeeper.sh/v1` ConstraintTemplate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConstraintTemplate {
    pub api_version: String,
    pub kind: String,
    pub metadata: Value,
    pub spec: TemplateSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub crd: TemplateCrd,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateCrd {
    pub spec: TemplateCrdSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateCrdSpec {
    pub names: Names,
    #[serde(default)]
    pub validation: Option<Validation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Validation {
    #[serde(rename = "openAPIV3Schema")]
    pub open_api_v3_schema: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub target: String,
    pub rego: String,
    #[serde(default)]
    pub libs: Vec<String>,
}

/// `constraints.gatekeeper.sh/v1beta1` constraint (any kind).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Constraint {
    pub api_version: String,
    pub kind: String,
    pub metadata: Value,
    pub spec: ConstraintSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConstraintSpec {
    #[serde(default)]
    pub enforcement_action: Option<String>,
    #[serde(rename = "match")]
    pub matches: ConstraintMatch,
    #[serde(default)]
    pub parameters: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConstraintMatch {
    pub kinds: Vec<MatchKinds>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub excluded_namespaces: Vec<String>,
    #[serde(default)]
    pub namespace_selector: Option<Value>,
    #[serde(default)]
    pub label_selector: Option<Value>,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MatchKinds {
    pub api_groups: Vec<String>,
    pub kinds: Vec<String>,
}

/// `config.gatekeeper.sh/v1alpha1` Config (which namespaces Gatekeeper ignores).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatekeeperConfig {
    pub api_version: String,
    pub kind: String,
    pub metadata: Value,
    pub spec: GatekeeperConfigSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatekeeperConfigSpec {
    #[serde(rename = "match")]
    pub matches: Vec<ConfigMatch>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigMatch {
    pub excluded_namespaces: Vec<String>,
    pub processes: Vec<String>,
}

/// `kustomization.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub labels: Vec<Value>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub images: Vec<KustomizeImage>,
    #[serde(default)]
    pub patches: Vec<KustomizePatch>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KustomizeImage {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KustomizePatch {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub patch: Option<String>,
    #[serde(default)]
    pub target: Option<Value>,
}

/// A gator `Suite` (`gator verify` runs the same cases against real Gatekeeper).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Suite {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: Value,
    pub tests: Vec<SuiteTest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteTest {
    pub name: String,
    pub template: String,
    pub constraint: String,
    pub cases: Vec<SuiteCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteCase {
    pub name: String,
    pub object: String,
    #[serde(default)]
    pub inventory: Vec<String>,
    pub assertions: Vec<SuiteAssertion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteAssertion {
    /// `yes`, `no` or a count, as gator reads it.
    pub violations: Value,
    #[serde(default)]
    pub message: Option<String>,
}

/// eksctl `ClusterConfig` (`eksctl.io/v1alpha5`), the fields used here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterConfig {
    pub api_version: String,
    pub kind: String,
    pub metadata: ClusterMeta,
    #[serde(default)]
    pub availability_zones: Vec<String>,
    pub vpc: Vpc,
    pub iam: Iam,
    pub secrets_encryption: SecretsEncryption,
    pub cloud_watch: CloudWatch,
    #[serde(default)]
    pub addons: Vec<Addon>,
    pub managed_node_groups: Vec<ManagedNodeGroup>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterMeta {
    pub name: String,
    pub region: String,
    pub version: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vpc {
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub nat: Option<Value>,
    pub cluster_endpoints: ClusterEndpoints,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterEndpoints {
    pub private_access: bool,
    pub public_access: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Iam {
    #[serde(rename = "withOIDC")]
    pub with_oidc: bool,
    #[serde(default)]
    pub service_accounts: Vec<IamServiceAccount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamServiceAccount {
    pub metadata: Value,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub role_only: Option<bool>,
    #[serde(default)]
    pub attach_policy: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretsEncryption {
    #[serde(rename = "keyARN")]
    pub key_arn: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudWatch {
    pub cluster_logging: ClusterLogging,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterLogging {
    pub enable_types: Vec<String>,
    #[serde(default)]
    pub log_retention_in_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addon {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub configuration_values: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedNodeGroup {
    pub name: String,
    pub instance_types: Vec<String>,
    #[serde(default)]
    pub spot: bool,
    pub min_size: u32,
    pub max_size: u32,
    pub desired_capacity: u32,
    #[serde(default)]
    pub private_networking: bool,
    #[serde(default)]
    pub volume_size: Option<u32>,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub volume_encrypted: bool,
    #[serde(default, rename = "volumeKmsKeyID")]
    pub volume_kms_key_id: Option<String>,
    #[serde(default, rename = "disableIMDSv1")]
    pub disable_imds_v1: bool,
    #[serde(default, rename = "disablePodIMDS")]
    pub disable_pod_imds: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    pub effect: String,
}
