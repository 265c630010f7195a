//! Evaluates a Gatekeeper ConstraintTemplate's Rego the way Gatekeeper does:
//! the object under review at `input.review.object`, the constraint's
//! parameters at `input.parameters`, and the answer in the partial set
//! `violation` of the template's package (`{"msg": ...}` elements).
//!
//! The templates are Rego v0 (Gatekeeper's `rego:` field); regorus is switched
//! to v0 for them. The engine is pinned (`regorus =0.14.1`) because its
//! semantics differ from OPA's in corners.

use crate::typed::ConstraintTemplate;
use crate::typed::crd::strict;
use crate::{Error, Result};
use serde_json::{Value, json};

/// The only target the templates may use.
pub const TARGET: &str = "admission.k8s.gatekeeper.sh";

/// One compiled template, ready to judge objects.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `spec.crd.spec.names.kind`, e.g. `RiskgridAllowedImages`.
    pub kind: String,
    package: String,
    engine: regorus::Engine,
}

impl Policy {
    /// Compiles the first target's Rego of a ConstraintTemplate document.
    pub fn from_template(template: &Value) -> Result<Self> {
        let t: ConstraintTemplate = strict(template)?;
        let kind = t.spec.crd.spec.names.kind.clone();
        let target = match t.spec.targets.as_slice() {
            [one] => one,
            _ => return Err(Error::Rego(format!("{kind}: expected exactly one target"))),
        };
        if target.target != TARGET {
            return Err(Error::Rego(format!("{kind}: target {:?}, expected {TARGET}", target.target)));
        }
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_strict_builtin_errors(true);
        for (i, lib) in target.libs.iter().enumerate() {
            engine
                .add_policy(format!("{kind}/lib{i}.rego"), lib.clone())
                .map_err(|e| Error::Rego(format!("{kind}: {e}")))?;
        }
        let package = engine
            .add_policy(format!("{kind}.rego"), target.rego.clone())
            .map_err(|e| Error::Rego(format!("{kind}: {e}")))?;
        Ok(Self { kind, package, engine })
    }

    /// The messages of every violation `object` commits under `parameters`
    /// (sorted; empty means admitted).
    pub fn violations(&self, object: &Value, parameters: &Value) -> Result<Vec<String>> {
        let namespace = object.pointer("/metadata/namespace").cloned().unwrap_or(Value::Null);
        let input = json!({
            "review": {
                "kind": {"group": "", "version": "v1", "kind": object.get("kind").cloned().unwrap_or(Value::Null)},
                "operation": "CREATE",
                "namespace": namespace,
                "object": object,
            },
            "parameters": parameters,
        });
        let mut engine = self.engine.clone();
        let input = regorus::Value::from_json_str(&input.to_string()).map_err(|e| Error::Rego(e.to_string()))?;
        engine.set_input(input);
        let result = engine
            .eval_rule(format!("{}.violation", self.package))
            .map_err(|e| Error::Rego(format!("{}: {e}", self.kind)))?;
        if result == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json = result.to_json_str().map_err(|e| Error::Rego(e.to_string()))?;
        let set: Value = serde_json::from_str(&json).map_err(|e| Error::Rego(e.to_string()))?;
        let items =
            set.as_array().ok_or_else(|| Error::Rego(format!("{}: violation is not a set: {set}", self.kind)))?;
        let mut out = Vec::with_capacity(items.len());
        for v in items {
            match v.get("msg").and_then(Value::as_str) {
                Some(m) => out.push(m.to_owned()),
                None => return Err(Error::Rego(format!("{}: violation without a msg: {v}", self.kind))),
            }
        }
        out.sort();
        Ok(out)
    }
}
