//! Admission policies in Rego, evaluated in-process with regorus at submit.
//!
//! Every `.rego` file under a directory is loaded (Rego v1 syntax, pinned:
//! `deny contains msg if { ... }`); the decision is the set
//! `data.riskgrid.admission.deny` for the input built by [`input`]: empty
//! admits, otherwise each message is a reason. The same files run unchanged
//! under OPA (`opa eval -d deploy/policies/admission -i input.json
//! data.riskgrid.admission.deny`).

use crate::quota::{JobSummary, Usage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use thiserror::Error;

/// The rule every policy contributes to.
pub const DENY_RULE: &str = "data.riskgrid.admission.deny";

#[derive(Debug, Error)]
pub enum Error {
    #[error("policy directory {dir}: {reason}")]
    Dir { dir: PathBuf, reason: String },
    #[error("policy {file}: {reason}")]
    Policy { file: String, reason: String },
    #[error("evaluating {DENY_RULE}: {0}")]
    Eval(String),
}

/// The outcome of admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// The policies' messages, sorted.
    Denied(Vec<String>),
}

/// Loaded policies, ready to evaluate (shareable across threads).
#[derive(Debug)]
pub struct Policies {
    engine: Mutex<regorus::Engine>,
    files: Vec<String>,
    digest: String,
}

impl Policies {
    /// Loads every `*.rego` under `dir` (recursively, in path order; files
    /// ending in `_test.rego` are OPA unit tests and skipped).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Policies, Error> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        collect_rego(dir, &mut files).map_err(|e| Error::Dir { dir: dir.to_path_buf(), reason: e.to_string() })?;
        files.sort();
        if files.is_empty() {
            return Err(Error::Dir { dir: dir.to_path_buf(), reason: "no .rego files".into() });
        }
        let mut sources = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| Error::Policy { file: f.display().to_string(), reason: e.to_string() })?;
            sources.push((f.display().to_string(), text));
        }
        Policies::from_sources(sources)
    }

    /// Policies from (name, Rego text) pairs.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Policies, Error> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        let mut digest = Sha256::new();
        let mut files = Vec::new();
        for (name, text) in sources {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(text.as_bytes());
            digest.update([0]);
            let package = engine
                .add_policy(name.clone(), text)
                .map_err(|e| Error::Policy { file: name.clone(), reason: e.to_string() })?;
            if package != "data.riskgrid.admission" {
                return Err(Error::Policy {
                    file: name,
                    reason: format!("package is {package}; admission policies live in riskgrid.admission"),
                });
            }
            files.push(name);
        }
        let policies = Policies { engine: Mutex::new(engine), files, digest: crate::audit::hex(&digest.finalize()) };
        // Fail at load, not at the first submission, if the rules do not evaluate.
        policies.evaluate(&json!({}))?;
        Ok(policies)
    }

    /// The files loaded, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// SHA-256 over the files' names and contents (what was in force, for the audit log).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The decision for `input`.
    pub fn evaluate(&self, input: &Value) -> Result<Decision, Error> {
        let mut engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let input = regorus::Value::from_json_str(&input.to_string()).map_err(|e| Error::Eval(e.to_string()))?;
        engine.set_input(input);
        let result = engine.eval_rule(DENY_RULE.to_owned()).map_err(|e| Error::Eval(e.to_string()))?;
        if result == regorus::Value::Undefined {
            return Ok(Decision::Allowed);
        }
        let set = result.as_set().map_err(|_| Error::Eval(format!("{DENY_RULE} is not a set")))?;
        let mut messages = Vec::with_capacity(set.len());
        for m in set.iter() {
            match m.as_string() {
                Ok(s) => messages.push(s.to_string()),
                Err(_) => messages.push(m.to_json_str().unwrap_or_else(|_| "(unprintable)".into())),
            }
        }
        messages.sort();
        Ok(if messages.is_empty() { Decision::Allowed } else { Decision::Denied(messages) })
    }
}

fn collect_rego(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rego(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego")
            && !path.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_test.rego"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The admission input: `{tenant, job, usage, now_unix_ms}`.
pub fn input(tenant: &str, job: &JobSummary, usage: &Usage, now_unix_ms: i64) -> Value {
    json!({
        "tenant": tenant,
        "job": job,
        "usage": usage,
        "now_unix_ms": now_unix_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Policies, Error> {
        Policies::from_sources(vec![("p.rego".into(), text.into())])
    }

    #[test]
    fn messages_come_back_sorted_and_an_empty_set_admits() {
        let p = one(r#"package riskgrid.admission
deny contains "b: too big" if input.n > 1
deny contains "a: way too big" if input.n > 2
"#);
        let Ok(p) = p else { panic!("{p:?}") };
        assert_eq!(p.evaluate(&json!({"n": 0})).ok(), Some(Decision::Allowed));
        assert_eq!(p.evaluate(&json!({"n": 2})).ok(), Some(Decision::Denied(vec!["b: too big".into()])));
        assert_eq!(
            p.evaluate(&json!({"n": 3})).ok(),
            Some(Decision::Denied(vec!["a: way too big".into(), "b: too big".into()]))
        );
    }

    #[test]
    fn bad_policies_fail_at_load() {
        assert!(one("package riskgrid.admission\ndeny contains msg if {").is_err(), "syntax");
        assert!(one("package other\ndeny contains \"x\" if true").is_err(), "wrong package");
        // Rego v0 syntax is refused: the version is pinned to v1.
        assert!(one("package riskgrid.admission\ndeny[msg] { msg := \"x\" }").is_err(), "v0 syntax");
    }
}
