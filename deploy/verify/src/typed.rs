//! Each manifest into its API type. Kubernetes kinds go through `k8s-openapi`
//! and back: a field the type does not know is dropped by the round trip and
//! reported, so `readOnlyRootFileSystem: true` (a typo that a cluster would
//! also ignore) fails here. Custom resources (Gatekeeper, eksctl, kustomize,
//! gator suites) are checked against small `deny_unknown_fields` structs that
//! cover the fields this repository uses.

use crate::diff::lost;
use crate::load::Doc;
use crate::{Error, Result};
use k8s_openapi::api::{apps, core, networking, policy, rbac, storage};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub mod crd;
pub use crd::{ClusterConfig, ConstraintTemplate, Kustomization};

/// What a document turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A built-in Kubernetes object (`apiVersion`, `kind`).
    Builtin(String, String),
    /// A Gatekeeper ConstraintTemplate declaring this constraint kind.
    ConstraintTemplate(String),
    /// A Gatekeeper constraint of a kind declared by some template.
    Constraint(String),
    /// Gatekeeper's `Config`.
    GatekeeperConfig,
    /// An eksctl `ClusterConfig`.
    ClusterConfig,
    /// A `kustomization.yaml`.
    Kustomization,
    /// A gator test `Suite`.
    Suite,
}

/// Deserialises `value` into `T` and serialises it back; a field missing or
/// changed afterwards means the type does not know it (fields the serialiser
/// adds, such as a nested template's `kind`, are fine).
pub fn roundtrip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<T> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| Error::Manifest(e.to_string()))?;
    let back = serde_json::to_value(&typed).map_err(|e| Error::Manifest(e.to_string()))?;
    let lost = lost(value, &back);
    if lost.is_empty() {
        Ok(typed)
    } else {
        Err(Error::Manifest(format!("fields the API type does not keep: {}", lost.join("; "))))
    }
}

fn builtin<T: DeserializeOwned + Serialize>(doc: &Doc) -> Result<Checked> {
    roundtrip::<T>(&doc.value)?;
    Ok(Checked::Builtin(doc.api_version().to_owned(), doc.kind().to_owned()))
}

/// Checks one document. `constraint_kinds` are the kinds the ConstraintTemplates
/// in the tree declare (a constraint of any other kind is an error).
pub fn check(doc: &Doc, constraint_kinds: &BTreeSet<String>) -> Result<Checked> {
    let err = |e: Error| Error::Manifest(format!("{}: {e}", doc.label()));
    let checked = match (doc.api_version(), doc.kind()) {
        ("v1", "Namespace") => builtin::<core::v1::Namespace>(doc),
        ("v1", "ServiceAccount") => builtin::<core::v1::ServiceAccount>(doc),
        ("v1", "Service") => builtin::<core::v1::Service>(doc),
        ("v1", "ConfigMap") => builtin::<core::v1::ConfigMap>(doc),
        ("v1", "ResourceQuota") => builtin::<core::v1::ResourceQuota>(doc),
        ("v1", "LimitRange") => builtin::<core::v1::LimitRange>(doc),
        ("v1", "PodTemplate") => builtin::<core::v1::PodTemplate>(doc),
        ("v1", "Pod") => builtin::<core::v1::Pod>(doc),
        ("apps/v1", "Deployment") => builtin::<apps::v1::Deployment>(doc),
        ("apps/v1", "StatefulSet") => builtin::<apps::v1::StatefulSet>(doc),
        ("rbac.authorization.k8s.io/v1", "Role") => builtin::<rbac::v1::Role>(doc),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => builtin::<rbac::v1::RoleBinding>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => builtin::<rbac::v1::ClusterRole>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => builtin::<rbac::v1::ClusterRoleBinding>(doc),
        ("networking.k8s.io/v1", "NetworkPolicy") => builtin::<networking::v1::NetworkPolicy>(doc),
        ("policy/v1", "PodDisruptionBudget") => builtin::<policy::v1::PodDisruptionBudget>(doc),
        ("storage.k8s.io/v1", "StorageClass") => builtin::<storage::v1::StorageClass>(doc),
        ("templates.gatekeeper.sh/v1", "ConstraintTemplate") => {
            crd::strict::<ConstraintTemplate>(&doc.value).and_then(|t| {
                meta(&doc.value)?;
                Ok(Checked::ConstraintTemplate(t.spec.crd.spec.names.kind))
            })
        }
        ("constraints.gatekeeper.sh/v1beta1", kind) => {
            if constraint_kinds.contains(kind) {
                crd::strict::<crd::Constraint>(&doc.value).and_then(|_| meta(&doc.value))?;
                Ok(Checked::Constraint(kind.to_owned()))
            } else {
                Err(Error::Manifest(format!("constraint kind {kind:?} is declared by no ConstraintTemplate")))
            }
        }
        ("config.gatekeeper.sh/v1alpha1", "Config") => crd::strict::<crd::GatekeeperConfig>(&doc.value)
            .and_then(|_| meta(&doc.value))
            .map(|()| Checked::GatekeeperConfig),
        ("eksctl.io/v1alpha5", "ClusterConfig") => {
            crd::strict::<ClusterConfig>(&doc.value).map(|_| Checked::ClusterConfig)
        }
        ("kustomize.config.k8s.io/v1beta1", "Kustomization") => {
            crd::strict::<Kustomization>(&doc.value).map(|_| Checked::Kustomization)
        }
        ("test.gatekeeper.sh/v1alpha1", "Suite") => crd::strict::<crd::Suite>(&doc.value).map(|_| Checked::Suite),
        (api, kind) => Err(Error::Manifest(format!("unknown kind {api}/{kind}: add it to typed::check"))),
    };
    checked.map_err(err)
}

fn meta(value: &Value) -> Result<()> {
    let m = value.get("metadata").cloned().unwrap_or(Value::Null);
    roundtrip::<ObjectMeta>(&m).map(|_| ())
}

/// Kinds declared by the ConstraintTemplates among `docs`.
pub fn constraint_kinds(docs: &[Doc]) -> BTreeMap<String, String> {
    docs.iter()
        .filter(|d| d.kind() == "ConstraintTemplate")
        .filter_map(|d| {
            let kind = d.value.pointer("/spec/crd/spec/names/kind")?.as_str()?;
            Some((kind.to_owned(), d.name().to_owned()))
        })
        .collect()
}
