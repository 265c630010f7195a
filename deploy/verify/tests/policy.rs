//! What the issue asks of the deployed manifests, checked on the objects
//! themselves: Pod Security labels, least-privilege RBAC, default-deny
//! networking with workers cut off from everything but the scheduler and DNS
//! (instance metadata included), quotas per tenant, IRSA and a database volume
//! for the scheduler, and an EKS cluster that agrees with all of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{deployed, of_kind, tenant_namespaces};
use riskgrid_deploy_verify::load::Doc;
use riskgrid_deploy_verify::matching::selects;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

const SYSTEM_NS: &str = "riskgrid-system";
const SCHEDULER_SA: &str = "riskgrid-scheduler";
const IMDS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn labels(v: &Value, pointer: &str) -> BTreeMap<String, String> {
    v.pointer(pointer).and_then(|l| serde_json::from_value(l.clone()).ok()).unwrap_or_default()
}

#[test]
fn every_namespace_enforces_restricted_pod_security() {
    let docs = deployed();
    let namespaces = of_kind(&docs, "Namespace");
    assert!(namespaces.len() >= 3, "scheduler and at least two tenants");
    for ns in namespaces {
        for mode in ["enforce", "audit", "warn"] {
            let key = format!("/metadata/labels/pod-security.kubernetes.io~1{mode}");
            assert_eq!(str_at(&ns.value, &key), "restricted", "{}: {mode}", ns.name());
        }
    }
    // Every namespaced object lives in a namespace the base creates.
    let created: BTreeSet<&str> = of_kind(&docs, "Namespace").iter().map(|d| d.name()).collect();
    for d in &docs {
        let ns = d.namespace();
        let cluster_scoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass"].contains(&d.kind());
        assert_eq!(ns.is_empty(), cluster_scoped, "{}: namespace {ns:?}", d.label());
        assert!(cluster_scoped || created.contains(ns), "{}: namespace {ns} is not created", d.label());
    }
}

/// Every (apiGroup, resource, verb) a role grants.
fn grants(role: &Doc) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rule in role.value.get("rules").and_then(Value::as_array).into_iter().flatten() {
        let list = |k: &str| -> Vec<String> {
            rule.get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        assert!(rule.get("nonResourceURLs").is_none() && rule.get("resourceNames").is_none(), "{}", role.label());
        for g in list("apiGroups") {
            for r in list("resources") {
                for v in list("verbs") {
                    out.push((g.clone(), r.clone(), v));
                }
            }
        }
    }
    out
}

#[test]
fn rbac_is_least_privilege_without_wildcards_or_secrets() {
    let docs = deployed();
    let mut roles: BTreeMap<(String, String, String), &Doc> = BTreeMap::new();
    for d in of_kind(&docs, "Role").into_iter().chain(of_kind(&docs, "ClusterRole")) {
        roles.insert((d.kind().to_owned(), d.namespace().to_owned(), d.name().to_owned()), d);
        for (g, r, v) in grants(d) {
            assert!(![&g, &r, &v].iter().any(|s| s.contains('*')), "{}: wildcard in {g}/{r} {v}", d.label());
            assert!(r != "secrets" && !r.starts_with("pods/"), "{}: grants {r}", d.label());
            assert!(!["escalate", "bind", "impersonate"].contains(&v.as_str()), "{}: grants {v}", d.label());
        }
    }
    let tenants = tenant_namespaces(&docs);
    let mut pod_rights_in = BTreeSet::new();
    for b in of_kind(&docs, "RoleBinding").into_iter().chain(of_kind(&docs, "ClusterRoleBinding")) {
        let subjects = b.value.get("subjects").and_then(Value::as_array).unwrap();
        for s in subjects {
            assert_eq!(
                (str_at(s, "/kind"), str_at(s, "/name"), str_at(s, "/namespace")),
                ("ServiceAccount", SCHEDULER_SA, SYSTEM_NS),
                "{}: only the scheduler is bound to anything",
                b.label()
            );
        }
        let role_kind = str_at(&b.value, "/roleRef/kind").to_owned();
        let role_ns = if role_kind == "Role" { b.namespace().to_owned() } else { String::new() };
        let key = (role_kind, role_ns, str_at(&b.value, "/roleRef/name").to_owned());
        let role = roles.get(&key).unwrap_or_else(|| panic!("{}: binds a role not in deploy/: {key:?}", b.label()));
        let mut granted: Vec<(String, String, String)> = grants(role);
        granted.sort();
        if b.kind() == "ClusterRoleBinding" {
            // Cluster-wide: read Node objects (nodegroup readiness), nothing else.
            let want: Vec<_> =
                ["get", "list", "watch"].iter().map(|v| (String::new(), "nodes".into(), v.to_string())).collect();
            assert_eq!(granted, want, "{}", b.label());
        } else {
            assert!(tenants.contains(b.namespace()), "{}: pod rights outside worker namespaces", b.label());
            let mut want: Vec<_> = ["create", "get", "list", "watch", "delete"]
                .iter()
                .map(|v| (String::new(), "pods".into(), v.to_string()))
                .collect();
            want.sort();
            assert_eq!(granted, want, "{}", b.label());
            pod_rights_in.insert(b.namespace().to_owned());
        }
    }
    assert_eq!(pod_rights_in, tenants, "the scheduler manages pods in every tenant namespace and no other");
}

#[test]
fn workers_get_no_api_access() {
    let docs = deployed();
    let tenants = tenant_namespaces(&docs);
    let worker_sas: Vec<&Doc> =
        of_kind(&docs, "ServiceAccount").into_iter().filter(|d| tenants.contains(d.namespace())).collect();
    assert_eq!(worker_sas.len(), tenants.len());
    for sa in worker_sas {
        assert_eq!(sa.value.get("automountServiceAccountToken"), Some(&json!(false)), "{}", sa.label());
        assert!(sa.value.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").is_none(), "{}", sa.label());
    }
    // The binding check above allows only the scheduler as a subject; the pod
    // templates must not run as the scheduler's account either.
    for pt in of_kind(&docs, "PodTemplate") {
        assert_eq!(str_at(&pt.value, "/template/spec/serviceAccountName"), "riskgrid-worker", "{}", pt.label());
        assert_eq!(pt.value.pointer("/template/spec/automountServiceAccountToken"), Some(&json!(false)));
    }
}

fn policies_in<'a>(docs: &'a [Doc], ns: &str) -> Vec<&'a Doc> {
    of_kind(docs, "NetworkPolicy").into_iter().filter(|d| d.namespace() == ns).collect()
}

#[test]
fn every_namespace_has_a_default_deny_network_policy() {
    let docs = deployed();
    for ns in of_kind(&docs, "Namespace") {
        let deny_all = policies_in(&docs, ns.name()).into_iter().any(|p| {
            let spec = &p.value["spec"];
            spec["podSelector"] == json!({})
                && spec["policyTypes"] == json!(["Ingress", "Egress"])
                && spec.get("ingress").is_none()
                && spec.get("egress").is_none()
        });
        assert!(
            deny_all,
            "{}: no default-deny NetworkPolicy (empty podSelector, both directions, no rules)",
            ns.name()
        );
    }
}

fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> bool {
    let (net, len) = cidr.split_once('/').unwrap();
    let net: Ipv4Addr = net.parse().unwrap();
    let len: u32 = len.parse().unwrap();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

/// Can some egress rule of `policies` (those selecting `pod_labels`) reach `ip`?
/// Pod and namespace selectors never match the metadata service (it is not a pod).
fn egress_reaches(policies: &[&Doc], pod_labels: &BTreeMap<String, String>, ip: Ipv4Addr) -> bool {
    policies.iter().any(|p| {
        let spec = &p.value["spec"];
        selects(&spec["podSelector"], pod_labels).unwrap()
            && spec.get("egress").and_then(Value::as_array).into_iter().flatten().any(|rule| {
                match rule.get("to").and_then(Value::as_array) {
                    None => true, // no `to`: every destination
                    Some(peers) => peers.iter().any(|peer| match peer.get("ipBlock") {
                        None => false,
                        Some(b) => {
                            cidr_contains(str_at(b, "/cidr"), ip)
                                && !b
                                    .get("except")
                                    .and_then(Value::as_array)
                                    .into_iter()
                                    .flatten()
                                    .any(|e| cidr_contains(e.as_str().unwrap(), ip))
                        }
                    }),
                }
            })
    })
}

#[test]
fn workers_reach_only_the_scheduler_and_dns_and_never_instance_metadata() {
    let docs = deployed();
    let tenants = tenant_namespaces(&docs);
    assert!(!tenants.is_empty());
    for ns in &tenants {
        let policies = policies_in(&docs, ns);
        let pt = of_kind(&docs, "PodTemplate").into_iter().find(|d| d.namespace() == ns).expect("a worker template");
        let worker = labels(&pt.value, "/template/metadata/labels");
        assert!(!egress_reaches(&policies, &worker, IMDS), "{ns}: workers can reach {IMDS}");
        // Sanity of the check itself: the same rules plus an allow-all rule would reach it.
        let mut open = policies[0].value.clone();
        open["spec"] = json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]});
        let open = Doc { value: open, ..policies[0].clone() };
        assert!(egress_reaches(&[&open], &worker, IMDS));
        let mut peers = Vec::new();
        for p in policies.iter().filter(|p| selects(&p.value["spec"]["podSelector"], &worker).unwrap()) {
            assert!(p.value["spec"].get("ingress").is_none(), "{}: nothing may connect to a worker", p.label());
            for rule in p.value["spec"].get("egress").and_then(Value::as_array).into_iter().flatten() {
                let ports: Vec<(i64, &str)> = rule["ports"]
                    .as_array()
                    .expect("every egress rule names its ports")
                    .iter()
                    .map(|port| (port["port"].as_i64().unwrap(), port["protocol"].as_str().unwrap()))
                    .collect();
                for peer in rule["to"].as_array().unwrap() {
                    peers.push((peer.clone(), ports.clone()));
                }
            }
        }
        let scheduler = json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": SYSTEM_NS}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "riskgrid-scheduler"}}
        });
        let dns = json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
        });
        assert_eq!(peers, vec![(scheduler, vec![(7878, "TCP")]), (dns, vec![(53, "UDP"), (53, "TCP")])], "{ns}");
    }
}

#[test]
fn scheduler_egress_is_dns_and_the_vpc_on_443_only() {
    let docs = deployed();
    let policies = policies_in(&docs, SYSTEM_NS);
    let sts = of_kind(&docs, "StatefulSet")[0];
    let pod = labels(&sts.value, "/spec/template/metadata/labels");
    assert!(!egress_reaches(&policies, &pod, IMDS), "the scheduler uses IRSA, not the node's metadata service");
    let eks = common::doc("eks/cluster.yaml");
    let vpc = str_at(&eks.value, "/vpc/cidr");
    let mut ip_rules = Vec::new();
    for p in policies.iter().filter(|p| selects(&p.value["spec"]["podSelector"], &pod).unwrap()) {
        for rule in p.value["spec"].get("egress").and_then(Value::as_array).into_iter().flatten() {
            for peer in rule["to"].as_array().expect("egress rules name destinations") {
                if let Some(b) = peer.get("ipBlock") {
                    ip_rules.push((str_at(b, "/cidr").to_owned(), rule["ports"].clone()));
                }
            }
        }
    }
    assert_eq!(ip_rules, vec![(vpc.to_owned(), json!([{"port": 443, "protocol": "TCP"}]))]);
}

#[test]
fn every_tenant_namespace_has_a_quota_and_a_limit_range() {
    let docs = deployed();
    let tenants = tenant_namespaces(&docs);
    assert!(tenants.len() >= 2);
    for ns in &tenants {
        let quota = of_kind(&docs, "ResourceQuota").into_iter().find(|d| d.namespace() == ns);
        let quota = quota.unwrap_or_else(|| panic!("{ns}: no ResourceQuota"));
        for key in ["requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods"] {
            assert!(quota.value["spec"]["hard"].get(key).is_some(), "{ns}: quota lacks {key}");
        }
        assert_eq!(quota.value["spec"]["hard"]["persistentvolumeclaims"], "0", "{ns}: workers keep no volumes");
        let lr = of_kind(&docs, "LimitRange").into_iter().find(|d| d.namespace() == ns);
        let lr = lr.unwrap_or_else(|| panic!("{ns}: no LimitRange"));
        let c = lr.value["spec"]["limits"].as_array().unwrap().iter().find(|l| l["type"] == "Container").unwrap();
        for k in ["default", "defaultRequest", "max"] {
            assert!(c[k].get("cpu").is_some() && c[k].get("memory").is_some(), "{ns}: LimitRange {k}");
        }
    }
}

#[test]
fn scheduler_has_irsa_a_database_volume_and_mtls() {
    let docs = deployed();
    let sa = of_kind(&docs, "ServiceAccount").into_iter().find(|d| d.name() == SCHEDULER_SA).unwrap();
    let role = str_at(&sa.value, "/metadata/annotations/eks.amazonaws.com~1role-arn");
    assert!(role.starts_with("arn:aws:iam::") && role.ends_with(":role/riskgrid-scheduler"), "{role}");
    let eks = common::doc("eks/cluster.yaml");
    let irsa = &eks.value["iam"]["serviceAccounts"][0];
    assert_eq!((str_at(irsa, "/metadata/name"), str_at(irsa, "/metadata/namespace")), (SCHEDULER_SA, SYSTEM_NS));
    assert!(role.ends_with(&format!("/{}", str_at(irsa, "/roleName"))));

    let sts = of_kind(&docs, "StatefulSet")[0];
    let spec = &sts.value["spec"]["template"]["spec"];
    assert_eq!(str_at(spec, "/serviceAccountName"), SCHEDULER_SA);
    assert_eq!(sts.value["spec"]["replicas"], 1, "one writer for the SQLite journal");
    let claim = &sts.value["spec"]["volumeClaimTemplates"][0];
    let storage_class = str_at(claim, "/spec/storageClassName");
    let sc = of_kind(&docs, "StorageClass").into_iter().find(|d| d.name() == storage_class).expect("its StorageClass");
    assert_eq!(sc.value["parameters"]["encrypted"], "true");
    let container = &spec["containers"][0];
    let args: Vec<&str> = container["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let arg = |flag: &str| args.iter().position(|a| *a == flag).map(|i| args[i + 1]).unwrap_or_default();
    let mount =
        container["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == str_at(claim, "/metadata/name"));
    let db_dir = str_at(mount.expect("the claim is mounted"), "/mountPath");
    assert!(arg("--db").starts_with(&format!("{db_dir}/")), "--db {} is not on the volume {db_dir}", arg("--db"));
    for flag in ["--tls-cert", "--tls-key", "--tls-client-ca"] {
        assert!(arg(flag).starts_with("/etc/riskgrid/tls/"), "{flag}");
    }
    // The flag relaxes only the plain-HTTP metrics listener once TLS is on;
    // then the metrics port must be reachable from monitoring alone.
    if args.contains(&"--insecure-listen-anywhere") {
        let metrics_port = arg("--metrics-listen").rsplit_once(':').unwrap().1.parse::<i64>().unwrap();
        let policies = policies_in(&docs, SYSTEM_NS);
        let mut sources = Vec::new();
        for p in &policies {
            for rule in p.value["spec"].get("ingress").and_then(Value::as_array).into_iter().flatten() {
                let ports = rule["ports"].as_array().expect("ingress rules name ports");
                if ports.iter().any(|port| port["port"] == metrics_port) {
                    sources.extend(rule["from"].as_array().unwrap().iter().cloned());
                }
            }
        }
        let monitoring = json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}});
        assert_eq!(sources, vec![monitoring], "who may reach the plain-HTTP metrics port");
    }
}

#[test]
fn eks_cluster_is_private_encrypted_audited_with_tainted_burst_nodegroups() {
    let eks = common::doc("eks/cluster.yaml").value;
    assert_eq!(eks["vpc"]["clusterEndpoints"], json!({"privateAccess": true, "publicAccess": false}));
    assert!(str_at(&eks, "/secretsEncryption/keyARN").starts_with("arn:aws:kms:"));
    assert!(eks["cloudWatch"]["clusterLogging"]["enableTypes"].as_array().unwrap().contains(&json!("audit")));
    let cni = eks["addons"].as_array().unwrap().iter().find(|a| a["name"] == "vpc-cni").unwrap();
    assert!(str_at(cni, "/configurationValues").contains(r#""enableNetworkPolicy": "true""#));
    let groups = eks["managedNodeGroups"].as_array().unwrap();
    for g in groups {
        assert_eq!((g["disablePodIMDS"].as_bool(), g["disableIMDSv1"].as_bool()), (Some(true), Some(true)));
        assert_eq!((g["privateNetworking"].as_bool(), g["volumeEncrypted"].as_bool()), (Some(true), Some(true)));
        assert_eq!(str_at(g, "/labels/riskgrid.io~1nodegroup"), str_at(g, "/name"));
    }
    let system: Vec<_> = groups.iter().filter(|g| g["spot"] == json!(false) && g.get("taints").is_none()).collect();
    assert_eq!(system.len(), 1, "one on-demand, untainted system nodegroup");

    // Each tenant of the Gatekeeper constraint has spot nodegroups tainted for it
    // alone, and its worker template selects and tolerates exactly those.
    let constraint = common::doc("gatekeeper/constraints/tenant-nodegroup.yaml").value;
    let docs = deployed();
    let tenants = tenant_namespaces(&docs);
    let params = &constraint["spec"]["parameters"];
    let mut constrained = BTreeSet::new();
    for t in params["tenants"].as_array().unwrap() {
        let (name, ns) = (str_at(t, "/name"), str_at(t, "/namespace"));
        constrained.insert(ns.to_owned());
        for ng in t["nodegroups"].as_array().unwrap() {
            let g = groups.iter().find(|g| &g["name"] == ng).unwrap_or_else(|| panic!("{ng} is not in the cluster"));
            assert_eq!(g["spot"], json!(true), "{ng}");
            let taint = json!([{"key": params["burstTaintKey"], "value": name, "effect": "NoSchedule"}]);
            assert_eq!(g["taints"], taint, "{ng}");
        }
        let pt = of_kind(&docs, "PodTemplate").into_iter().find(|d| d.namespace() == ns).unwrap();
        let selected = str_at(&pt.value, "/template/spec/nodeSelector/riskgrid.io~1nodegroup");
        assert!(t["nodegroups"].as_array().unwrap().contains(&json!(selected)), "{ns} selects {selected}");
    }
    assert_eq!(constrained, tenants, "the constraint knows every tenant namespace, and only those");
}
