//! Which objects a Gatekeeper constraint applies to: its `match` block (kinds,
//! namespaces, excluded namespaces, namespace selector, label selector)
//! evaluated against an object and its namespace's labels. Without this a
//! constraint that matches nothing would pass every test.

use crate::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// Labels of a namespace, by namespace name.
pub type NamespaceLabels = BTreeMap<String, BTreeMap<String, String>>;

/// Whether `constraint` applies to `object` (a namespaced object). An unknown
/// namespace has no labels. Errors on selector operators it does not know.
pub fn applies(constraint: &Value, object: &Value, namespaces: &NamespaceLabels) -> Result<bool> {
    let m = constraint.pointer("/spec/match").unwrap_or(&Value::Null);
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let kinds_ok = match m.get("kinds").and_then(Value::as_array) {
        None => true,
        Some(ks) => ks.iter().any(|k| {
            let has = |field: &str, want: &str| {
                k.get(field).and_then(Value::as_array).is_some_and(|v| v.iter().any(|x| x == want || x == "*"))
            };
            has("apiGroups", group) && has("kinds", kind)
        }),
    };
    if !kinds_ok {
        return Ok(false);
    }
    let ns = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let listed = |field: &str| m.get(field).and_then(Value::as_array).map(|v| v.iter().any(|x| x == ns));
    if listed("namespaces") == Some(false) || listed("excludedNamespaces") == Some(true) {
        return Ok(false);
    }
    let empty = BTreeMap::new();
    let ns_labels = namespaces.get(ns).unwrap_or(&empty);
    if let Some(sel) = m.get("namespaceSelector")
        && !selects(sel, ns_labels)?
    {
        return Ok(false);
    }
    match m.get("labelSelector") {
        None => Ok(true),
        Some(sel) => {
            let labels: BTreeMap<String, String> = object
                .pointer("/metadata/labels")
                .and_then(|l| serde_json::from_value(l.clone()).ok())
                .unwrap_or_default();
            selects(sel, &labels)
        }
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
pub fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> Result<bool> {
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object)
        && !ml.iter().all(|(k, v)| labels.get(k).is_some_and(|l| v == l.as_str()))
    {
        return Ok(false);
    }
    for e in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> =
            e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let have = labels.get(key).map(String::as_str);
        let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            op => return Err(Error::Manifest(format!("label selector operator {op:?} is not supported"))),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_namespaces_and_selectors() {
        let c = json!({"spec": {"match": {
            "kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
            "excludedNamespaces": ["skip"],
            "namespaceSelector": {"matchExpressions": [{"key": "role", "operator": "Exists"}]}
        }}});
        let mut ns = NamespaceLabels::new();
        ns.insert("a".into(), [("role".to_owned(), "workers".to_owned())].into());
        ns.insert("skip".into(), [("role".to_owned(), "workers".to_owned())].into());
        let pod = |n: &str| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": n}});
        assert!(applies(&c, &pod("a"), &ns).unwrap());
        assert!(!applies(&c, &pod("skip"), &ns).unwrap());
        assert!(!applies(&c, &pod("other"), &ns).unwrap());
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"namespace": "a"}});
        assert!(!applies(&c, &sts, &ns).unwrap());
        let bad = json!({"matchExpressions": [{"key": "k", "operator": "Gt"}]});
        assert!(selects(&bad, &BTreeMap::new()).is_err());
    }
}
