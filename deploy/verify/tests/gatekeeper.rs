//! The Gatekeeper ConstraintTemplates in `deploy/policies/gatekeeper`, run with
//! regorus the way Gatekeeper runs them, against: the gator suite's fixtures
//! (each policy has admitted and denied objects); every worker pod the
//! kubernetes backend generates (all admitted); deliberately broken pods
//! (each denied, by the template meant to catch it); and the pods the deployed
//! StatefulSet and PodTemplates would create.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use riskgrid_capacity::WorkerPodSpec;
use riskgrid_deploy_verify::deploy_dir;
use riskgrid_deploy_verify::gatekeeper::Policy;
use riskgrid_deploy_verify::kustomize::normalize;
use riskgrid_deploy_verify::load::{self, Doc};
use riskgrid_deploy_verify::matching::{NamespaceLabels, applies};
use riskgrid_deploy_verify::typed::crd::{Suite, strict};
use riskgrid_kube::{PodSettings, worker_pod};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SUITE: &str = "policies/gatekeeper/tests/suite.yaml";
const IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/riskgrid@sha256:c6fcb3337ee4de0a39ed0fa7c34dbff81c04ae8bd46d2617010bf164cdb8ee6b";

/// A policy and the constraint that instantiates it in this cluster.
struct Rule {
    policy: Policy,
    constraint: Value,
}

impl Rule {
    fn violations(&self, object: &Value) -> Vec<String> {
        let params = self.constraint.pointer("/spec/parameters").cloned().unwrap_or(json!({}));
        self.policy.violations(object, &params).unwrap_or_else(|e| panic!("{}: {e}", self.policy.kind))
    }
}

/// Every template with its constraint, by constraint kind.
fn rules() -> BTreeMap<String, Rule> {
    let templates = common::docs_of_kustomization("policies/gatekeeper/templates");
    let constraints = common::docs_of_kustomization("gatekeeper");
    let mut out = BTreeMap::new();
    for t in &templates {
        let policy = Policy::from_template(&t.value).unwrap_or_else(|e| panic!("{}: {e}", t.label()));
        let matching: Vec<&Doc> = constraints.iter().filter(|c| c.kind() == policy.kind).collect();
        assert_eq!(matching.len(), 1, "{}: expected exactly one constraint", policy.kind);
        out.insert(policy.kind.clone(), Rule { policy, constraint: matching[0].value.clone() });
    }
    assert_eq!(out.len(), 5);
    out
}

fn namespace_labels(docs: &[Doc]) -> NamespaceLabels {
    common::of_kind(docs, "Namespace")
        .into_iter()
        .map(|d| {
            let labels = d.value.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
            (d.name().to_owned(), serde_json::from_value(labels).unwrap())
        })
        .collect()
}

fn suite_path(rel: &str) -> PathBuf {
    normalize(&Path::new(SUITE).parent().unwrap().join(rel))
}

#[test]
fn suite_cases_hold_with_regorus() {
    let suite: Suite = strict(&common::doc(SUITE).value).unwrap();
    let root = deploy_dir();
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let mut covered = BTreeSet::new();
    for test in &suite.tests {
        let template = load::read_docs(&root, &suite_path(&test.template)).unwrap().remove(0);
        let constraint = load::read_docs(&root, &suite_path(&test.constraint)).unwrap().remove(0);
        let rule = Rule { policy: Policy::from_template(&template.value).unwrap(), constraint: constraint.value };
        covered.insert(rule.policy.kind.clone());
        let (mut admitted, mut denied) = (0, 0);
        for case in &test.cases {
            let path = suite_path(&case.object);
            used.insert(path.clone());
            let object = load::read_docs(&root, &path).unwrap().remove(0).value;
            used.extend(case.inventory.iter().map(|i| suite_path(i)));
            let inventory: Vec<Doc> =
                case.inventory.iter().flat_map(|i| load::read_docs(&root, &suite_path(i)).unwrap()).collect();
            let where_ = format!("{} / {}", test.name, case.name);
            if !applies(&rule.constraint, &object, &namespace_labels(&inventory)).unwrap() {
                failures.push(format!("{where_}: the constraint does not select this object"));
            }
            let got = rule.violations(&object);
            for a in &case.assertions {
                let ok = match &a.violations {
                    Value::String(s) if s == "no" => got.is_empty(),
                    Value::String(s) if s == "yes" => !got.is_empty(),
                    Value::Number(n) => n.as_u64() == Some(got.len() as u64),
                    other => panic!("{where_}: violations {other}?"),
                };
                let message_ok = a.message.as_ref().is_none_or(|m| got.iter().any(|g| g.contains(m.as_str())));
                if !(ok && message_ok) {
                    failures
                        .push(format!("{where_}: expected violations {} {:?}, got {got:?}", a.violations, a.message));
                }
                if a.violations == "no" { admitted += 1 } else { denied += 1 }
            }
        }
        assert!(admitted > 0 && denied > 0, "{}: needs admitted and denied fixtures", test.name);
    }
    assert!(failures.is_empty(), "gator suite cases that fail under regorus:\n{}", failures.join("\n"));
    let all: BTreeSet<String> = rules().into_keys().collect();
    assert_eq!(covered, all, "every template has suite cases");
    let fixtures = load::yaml_files(&root.join(common::FIXTURES).join("fixtures"), &[]).unwrap();
    for f in fixtures {
        let rel = Path::new(common::FIXTURES).join("fixtures").join(&f);
        assert!(used.contains(&rel), "fixture {} is used by no case", rel.display());
    }
}

fn tenants() -> [(&'static str, &'static str); 2] {
    [("rates", "burst-rates"), ("equities", "burst-equities")]
}

fn spec(tenant: &str, nodegroup: &str, cores: u32, job: Option<&str>, labels: &[(&str, &str)]) -> WorkerPodSpec {
    WorkerPodSpec {
        name: format!("w-{tenant}-{cores}"),
        nodegroup: nodegroup.into(),
        tenant: Some(tenant.into()),
        job: job.map(String::from),
        cores,
        memory_mib: u64::from(cores) * 2048,
        image: IMAGE.into(),
        scheduler_endpoint: "https://riskgrid-scheduler.riskgrid-system.svc:7878".into(),
        drain_grace_seconds: cores * 7,
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn settings(tenant: &str) -> PodSettings {
    PodSettings { namespace: format!("riskgrid-tenant-{tenant}"), ..PodSettings::default() }
}

/// Worker pods as the backend renders them, over the inputs that shape them.
fn generated_pods() -> Vec<Value> {
    let mut out = Vec::new();
    for (tenant, nodegroup) in tenants() {
        for cores in [1, 4, 15, 64] {
            for job in [None, Some("job-7")] {
                for labels in [&[][..], &[("team", "xva")][..]] {
                    let mut s = settings(tenant);
                    if cores == 64 {
                        s.priority_class = Some("riskgrid-burst".into());
                        s.run_as_uid = 20000;
                    }
                    let pod = worker_pod(&spec(tenant, nodegroup, cores, job, labels), &s);
                    out.push(serde_json::to_value(pod).unwrap());
                }
            }
        }
    }
    out
}

#[test]
fn generated_worker_pods_pass_every_template() {
    let rules = rules();
    let ns = namespace_labels(&common::deployed());
    let pods = generated_pods();
    assert_eq!(pods.len(), 32);
    for pod in &pods {
        for (kind, rule) in &rules {
            assert!(applies(&rule.constraint, pod, &ns).unwrap(), "{kind} does not apply to worker pods");
            let v = rule.violations(pod);
            assert!(v.is_empty(), "{kind} denies a generated worker pod: {v:?}\n{pod:#}");
        }
    }
}

/// A mutation of a good worker pod and the template that must deny it.
type Break = (&'static str, &'static str, fn(&mut Value));

fn container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

const BROKEN: &[Break] = &[
    ("privileged", "RiskgridRestricted", |p| container(p)["securityContext"]["privileged"] = json!(true)),
    ("root", "RiskgridRestricted", |p| {
        for ptr in ["/spec/securityContext", "/spec/containers/0/securityContext"] {
            let sc = p.pointer_mut(ptr).unwrap();
            sc["runAsUser"] = json!(0);
            sc["runAsNonRoot"] = json!(false);
        }
    }),
    ("root by omission", "RiskgridRestricted", |p| {
        p["spec"]["securityContext"].as_object_mut().unwrap().remove("runAsNonRoot");
        container(p)["securityContext"].as_object_mut().unwrap().remove("runAsNonRoot");
    }),
    ("hostPath", "RiskgridRestricted", |p| {
        p["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "h", "hostPath": {"path": "/"}}));
    }),
    ("no limits", "RiskgridRequiredResources", |p| {
        container(p)["resources"].as_object_mut().unwrap().remove("limits");
    }),
    ("mutable root fs", "RiskgridRestricted", |p| {
        container(p)["securityContext"]["readOnlyRootFilesystem"] = json!(false);
    }),
    ("mutable root fs by omission", "RiskgridRestricted", |p| {
        container(p)["securityContext"].as_object_mut().unwrap().remove("readOnlyRootFilesystem");
    }),
    ("token mounted", "RiskgridNoServiceAccountToken", |p| {
        p["spec"]["automountServiceAccountToken"] = json!(true);
    }),
    ("token by default", "RiskgridNoServiceAccountToken", |p| {
        p["spec"].as_object_mut().unwrap().remove("automountServiceAccountToken");
    }),
    ("host network", "RiskgridRestricted", |p| p["spec"]["hostNetwork"] = json!(true)),
    ("escalation", "RiskgridRestricted", |p| {
        container(p)["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    }),
    ("capability", "RiskgridRestricted", |p| {
        container(p)["securityContext"]["capabilities"] = json!({"add": ["NET_ADMIN"], "drop": ["ALL"]});
    }),
    ("no seccomp", "RiskgridRestricted", |p| {
        p["spec"]["securityContext"].as_object_mut().unwrap().remove("seccompProfile");
        container(p)["securityContext"].as_object_mut().unwrap().remove("seccompProfile");
    }),
    ("image by tag", "RiskgridAllowedImages", |p| {
        container(p)["image"] = json!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/riskgrid:latest");
    }),
    ("foreign image", "RiskgridAllowedImages", |p| {
        container(p)["image"] = json!(IMAGE.replace("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "docker.io"));
    }),
    ("other tenant's nodegroup", "RiskgridTenantNodegroup", |p| {
        p["spec"]["nodeSelector"]["riskgrid.io/nodegroup"] = json!("burst-equities");
    }),
    ("no nodegroup", "RiskgridTenantNodegroup", |p| {
        p["spec"].as_object_mut().unwrap().remove("nodeSelector");
    }),
    ("other tenant's taint", "RiskgridTenantNodegroup", |p| p["spec"]["tolerations"][0]["value"] = json!("equities")),
];

#[test]
fn broken_pods_are_denied() {
    let rules = rules();
    let good =
        serde_json::to_value(worker_pod(&spec("rates", "burst-rates", 4, None, &[]), &settings("rates"))).unwrap();
    for rule in rules.values() {
        assert!(rule.violations(&good).is_empty(), "the unbroken pod must pass");
    }
    for (what, kind, breaks) in BROKEN {
        let mut pod = good.clone();
        breaks(&mut pod);
        assert_ne!(pod, good, "{what}: the mutation changed nothing");
        let denied = rules[*kind].violations(&pod);
        assert!(!denied.is_empty(), "{what}: {kind} admits it");
    }
    // The list, each caught.
    let named: BTreeSet<&str> = BROKEN.iter().map(|b| b.0).collect();
    for must in ["privileged", "root", "hostPath", "no limits", "mutable root fs", "token mounted"] {
        assert!(named.contains(must), "{must}");
    }
}

/// The Pod a PodTemplate or StatefulSet would create.
fn pod_of(d: &Doc) -> Value {
    let template = match d.kind() {
        "PodTemplate" => &d.value["template"],
        _ => &d.value["spec"]["template"],
    };
    let mut meta = template["metadata"].clone();
    meta["namespace"] = json!(d.namespace());
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]})
}

#[test]
fn deployed_pod_specs_pass_every_template_that_selects_them() {
    let rules = rules();
    let docs = common::deployed();
    let ns = namespace_labels(&docs);
    let carriers: Vec<&Doc> =
        docs.iter().filter(|d| ["PodTemplate", "StatefulSet", "Deployment"].contains(&d.kind())).collect();
    assert!(carriers.len() >= 3);
    for d in carriers {
        let pod = pod_of(d);
        let mut selected = 0;
        for (kind, rule) in &rules {
            if applies(&rule.constraint, &pod, &ns).unwrap() {
                selected += 1;
                let v = rule.violations(&pod);
                assert!(v.is_empty(), "{}: {kind}: {v:?}", d.label());
                // The templates also judge the carrier object itself (early feedback).
                assert!(rule.violations(&d.value).is_empty(), "{}: {kind} on the {}", d.label(), d.kind());
            }
        }
        let want = if d.namespace() == "riskgrid-system" { 3 } else { 5 };
        assert_eq!(selected, want, "{}: constraints selecting its pods", d.label());
    }
}

#[test]
fn admitted_worker_fixtures_are_the_deployed_worker_pods() {
    // The suite's admitted workers (and so the denied ones derived from them)
    // must not drift from the backend's pod, which worker_template.rs pins.
    for tenant in ["rates", "equities"] {
        let fixture = common::doc(&format!("{}/fixtures/allowed/worker-{tenant}.yaml", common::FIXTURES)).value;
        let template = common::doc(&format!("base/tenants/{tenant}/worker-podtemplate.yaml")).value;
        let d = riskgrid_deploy_verify::diff::differences(&template["template"]["spec"], &fixture["spec"]);
        assert!(d.is_empty(), "{tenant}: fixture differs from the deployed template: {d:#?}");
        assert_eq!(template["template"]["metadata"]["labels"], fixture["metadata"]["labels"], "{tenant}");
    }
}
