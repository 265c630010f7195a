//! Every YAML document under `deploy/` is a well-formed object of a known
//! kind: Kubernetes kinds deserialise into `k8s-openapi` types without losing
//! a field; custom resources match their structs; kustomizations point at
//! files that exist and every manifest is reachable from one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use riskgrid_deploy_verify::load::{self, Doc};
use riskgrid_deploy_verify::typed::{self, Checked};
use riskgrid_deploy_verify::{deploy_dir, kustomize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn check_all(docs: &[Doc]) -> Vec<(String, Checked)> {
    let kinds: BTreeSet<String> = typed::constraint_kinds(docs).into_keys().collect();
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for d in docs {
        match typed::check(d, &kinds) {
            Ok(c) => out.push((d.label(), c)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert!(errors.is_empty(), "manifests that do not parse:\n{}", errors.join("\n"));
    out
}

#[test]
fn every_yaml_document_parses_into_its_api_type() {
    let docs = common::all_docs();
    let checked = check_all(&docs);
    // The tree really holds what the platform is made of (a walk that found
    // nothing would pass vacuously).
    let count = |f: &dyn Fn(&Checked) -> bool| checked.iter().filter(|(_, c)| f(c)).count();
    let builtin = |kind: &'static str| move |c: &Checked| matches!(c, Checked::Builtin(_, k) if k == kind);
    for kind in [
        "Namespace",
        "StatefulSet",
        "Service",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PodTemplate",
        "Pod",
    ] {
        assert!(count(&builtin(kind)) > 0, "no {kind} under deploy/");
    }
    assert_eq!(count(&|c| matches!(c, Checked::ConstraintTemplate(_))), 5);
    assert_eq!(count(&|c| matches!(c, Checked::Constraint(_))), 5);
    assert_eq!(count(&|c| matches!(c, Checked::ClusterConfig)), 1);
    assert!(count(&|c| matches!(c, Checked::Kustomization)) >= 8);
    assert_eq!(count(&|c| matches!(c, Checked::Suite)), 1);
}

#[test]
fn a_misspelt_field_or_unknown_kind_is_rejected() {
    let kinds = BTreeSet::new();
    let parse = |yaml: &str| {
        let docs = load::parse_docs(Path::new("t.yaml"), yaml).unwrap();
        typed::check(&docs[0], &kinds)
    };
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nautomountServiceAccountToken: false\n";
    assert!(parse(sa).is_ok());
    let typo = sa.replace("automountServiceAccountToken", "automountServiceAccountTokens");
    let err = parse(&typo).unwrap_err().to_string();
    assert!(err.contains("/automountServiceAccountTokens"), "{err}");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    \
               securityContext: {readOnlyRootFileSystem: true}\n";
    assert!(parse(pod).unwrap_err().to_string().contains("readOnlyRootFileSystem"));
    assert!(parse("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n").is_err());
    let constraint = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Nope\nmetadata: {name: n}\n\
                      spec: {match: {kinds: []}}\n";
    assert!(parse(constraint).unwrap_err().to_string().contains("declared by no ConstraintTemplate"));
    let eks = std::fs::read_to_string(deploy_dir().join("eks/cluster.yaml")).unwrap();
    assert!(parse(&eks).is_ok());
    assert!(parse(&eks.replace("disablePodIMDS", "disablePodIMDs")).is_err());
}

/// All kustomization entry points: base, overlays, Gatekeeper templates and constraints.
const ENTRY_POINTS: &[&str] = &["base", "overlays/dev", "overlays/prod", "policies/gatekeeper/templates", "gatekeeper"];

#[test]
fn kustomizations_reference_existing_files_and_leave_none_out() {
    let root = deploy_dir();
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in ENTRY_POINTS {
        let (files, kustomizations) = kustomize::resources(&root, Path::new(entry)).unwrap();
        assert!(!files.is_empty(), "{entry} deploys nothing");
        reached.extend(files);
        reached.extend(kustomizations);
    }
    let skip: Vec<&str> = common::NOT_MANIFESTS.iter().copied().chain([common::FIXTURES]).collect();
    let mut orphans = Vec::new();
    for f in load::yaml_files(&root, &skip).unwrap() {
        if f != Path::new("eks/cluster.yaml") && !reached.contains(&f) {
            orphans.push(f.display().to_string());
        }
    }
    assert!(orphans.is_empty(), "YAML no kustomization deploys (add it or move it): {orphans:?}");
}

#[test]
fn overlays_render_with_kubectl_kustomize_into_known_types() {
    let Some(kubectl) = common::optional_tool("kubectl", "needed to render the overlays") else { return };
    for entry in ENTRY_POINTS {
        let out = Command::new(&kubectl).arg("kustomize").arg(deploy_dir().join(entry)).output().unwrap();
        assert!(out.status.success(), "kubectl kustomize {entry}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let docs = load::parse_docs(Path::new(entry), &text).unwrap();
        // Constraint kinds come from the templates, which render separately.
        let with_templates: Vec<Doc> = common::all_docs().into_iter().chain(docs.clone()).collect();
        let kinds: BTreeSet<String> = typed::constraint_kinds(&with_templates).into_keys().collect();
        for d in &docs {
            typed::check(d, &kinds).unwrap_or_else(|e| panic!("kubectl kustomize {entry}: {e}"));
        }
        let (files, _) = kustomize::resources(&deploy_dir(), Path::new(entry)).unwrap();
        let source_docs: usize = files.iter().map(|f| load::read_docs(&deploy_dir(), f).unwrap().len()).sum();
        assert_eq!(docs.len(), source_docs, "{entry}: rendered a different number of objects than its files hold");
    }
}
