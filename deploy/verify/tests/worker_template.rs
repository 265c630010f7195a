//! The worker PodTemplate in each tenant namespace is exactly the Pod the
//! scheduler's kubernetes backend creates (`riskgrid_kube::worker_pod`) for the
//! WorkerPodSpec recorded in its annotation, so every scanner and policy test
//! that looks at `deploy/` looks at the real worker. The spec itself must fit
//! the namespace it sits in (tenant, nodegroup, registry, scheduler address).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use riskgrid_capacity::WorkerPodSpec;
use riskgrid_deploy_verify::diff::differences;
use riskgrid_kube::{PodSettings, checked_worker_pod};
use serde_json::{Value, json};

const ANNOTATION: &str = "/metadata/annotations/riskgrid.io~1worker-pod-spec";

#[test]
fn deployed_worker_templates_equal_the_backend_pod() {
    let docs = common::deployed();
    let tenants = common::tenant_namespaces(&docs);
    let templates = common::of_kind(&docs, "PodTemplate");
    assert_eq!(templates.len(), tenants.len(), "one worker template per tenant namespace");
    let services = common::of_kind(&docs, "Service");
    let scheduler = services.iter().find(|s| s.name() == "riskgrid-scheduler").unwrap();
    let endpoint = format!("https://{}.{}.svc:7878", scheduler.name(), scheduler.namespace());
    let constraint = common::doc("gatekeeper/constraints/tenant-nodegroup.yaml").value;
    let registries = common::doc("gatekeeper/constraints/allowed-images.yaml").value;
    let registry = registries.pointer("/spec/parameters/registries/0").and_then(Value::as_str).unwrap();
    let mut mismatches = Vec::new();
    for pt in templates {
        let ns = pt.namespace();
        assert!(tenants.contains(ns), "{}: not in a tenant namespace", pt.label());
        let recorded = pt.value.pointer(ANNOTATION).and_then(Value::as_str).expect("the worker-pod-spec annotation");
        let spec: WorkerPodSpec = serde_json::from_str(recorded).expect("the annotation is a WorkerPodSpec");

        // The recorded spec belongs here.
        let tenant = spec.tenant.clone().expect("worker templates are per tenant");
        let entry =
            constraint["spec"]["parameters"]["tenants"].as_array().unwrap().iter().find(|t| t["namespace"] == ns);
        let entry = entry.unwrap_or_else(|| panic!("{ns}: not a tenant of the nodegroup constraint"));
        assert_eq!(entry["name"], json!(tenant), "{ns}");
        assert!(entry["nodegroups"].as_array().unwrap().contains(&json!(spec.nodegroup)), "{ns}");
        assert!(spec.image.starts_with(registry) && spec.image.contains("@sha256:"), "{ns}: {}", spec.image);
        assert_eq!(spec.scheduler_endpoint, endpoint, "{ns}");

        let settings = PodSettings { namespace: ns.to_owned(), ..PodSettings::default() };
        let pod = checked_worker_pod(&spec, &settings).unwrap_or_else(|e| panic!("{ns}: the backend refuses it: {e}"));
        let pod = serde_json::to_value(pod).unwrap();
        let want = json!({"metadata": pod["metadata"], "spec": pod["spec"]});
        let diffs = differences(&want, &pt.value["template"]);
        if !diffs.is_empty() {
            let yaml = serde_yaml::to_string(&want).unwrap();
            mismatches.push(format!("{}:\n  {}\nthe backend renders:\n{yaml}", pt.label(), diffs.join("\n  ")));
        }
    }
    assert!(
        mismatches.is_empty(),
        "worker templates differ from riskgrid_kube::worker_pod:\n{}",
        mismatches.join("\n")
    );
}
