//! Shared test helpers: the documents under `deploy/`, what the base deploys,
//! and how a test finds an external tool (or skips without it).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use riskgrid_deploy_verify::load::{self, Doc};
use riskgrid_deploy_verify::{deploy_dir, kustomize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Directories under `deploy/` that hold no manifests of ours: this crate, and
/// the scheduler's admission Rego (another component's data files).
pub const NOT_MANIFESTS: &[&str] = &["verify", "policies/admission"];

/// Deliberately non-compliant test objects (Gatekeeper fixtures): parsed, but
/// excluded from the deployed set and from checkov's scan.
pub const FIXTURES: &str = "policies/gatekeeper/tests";

/// Every YAML document in `deploy/` except [`NOT_MANIFESTS`].
pub fn all_docs() -> Vec<Doc> {
    load::tree(&deploy_dir(), NOT_MANIFESTS).expect("reading deploy/")
}

/// The documents `kubectl apply -k deploy/base` would send (before transformers).
pub fn deployed() -> Vec<Doc> {
    docs_of_kustomization("base")
}

/// The documents of the kustomization in `deploy/<dir>`.
pub fn docs_of_kustomization(dir: &str) -> Vec<Doc> {
    let root = deploy_dir();
    let (files, _) = kustomize::resources(&root, Path::new(dir)).expect("resolving the kustomization");
    files.iter().flat_map(|f| load::read_docs(&root, f).expect("reading a resource")).collect()
}

/// The one document of `deploy/<rel>`.
pub fn doc(rel: &str) -> Doc {
    let docs = load::read_docs(&deploy_dir(), Path::new(rel)).expect("reading a manifest");
    assert_eq!(docs.len(), 1, "{rel}: expected one document");
    docs.into_iter().next().unwrap()
}

pub fn of_kind<'a>(docs: &'a [Doc], kind: &str) -> Vec<&'a Doc> {
    docs.iter().filter(|d| d.kind() == kind).collect()
}

/// Tenant worker namespaces (label `riskgrid.io/role: workers`) among `docs`.
pub fn tenant_namespaces(docs: &[Doc]) -> BTreeSet<String> {
    of_kind(docs, "Namespace")
        .into_iter()
        .filter(|d| d.value.pointer("/metadata/labels/riskgrid.io~1role") == Some(&Value::from("workers")))
        .map(|d| d.name().to_owned())
        .collect()
}

/// `tool` on PATH, or `None` after a SKIP note; panics instead when
/// `RISKGRID_REQUIRE_TOOLS=1` (CI must not skip silently).
pub fn tool(tool: &str, hint: &str) -> Option<PathBuf> {
    find(tool, hint, true)
}

/// Like [`tool`], for a tool `scripts/venv.sh` does not install: always a SKIP when missing.
pub fn optional_tool(tool: &str, hint: &str) -> Option<PathBuf> {
    find(tool, hint, false)
}

fn find(tool: &str, hint: &str, ci_requires: bool) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(tool)).find(|p| p.is_file()));
    if found.is_none() {
        let required = ci_requires && std::env::var("RISKGRID_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
        assert!(!required, "{tool} is not on PATH and RISKGRID_REQUIRE_TOOLS=1 ({hint})");
        eprintln!("SKIP: {tool} is not on PATH ({hint})");
    }
    found
}
