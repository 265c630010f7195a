//! Every pod `worker_pod` produces meets the Pod Security Standards
//! "restricted" profile (checked field by field, as the PSS admission
//! controller does), plus riskgrid's extras: read-only root filesystem with a
//! scratch emptyDir, no service-account token, requests = limits. The checker
//! is itself tested on pods that break each rule, so it cannot pass vacuously.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use k8s_openapi::api::core::v1::{Container, Pod};
use proptest::prelude::*;
use riskgrid_capacity::WorkerPodSpec;
use riskgrid_kube::{PodSettings, validate_spec, worker_pod};
use std::collections::BTreeMap;

const ALLOWED_VOLUMES: [&str; 8] =
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/// Violations of restricted + riskgrid's extras, one message per broken rule.
fn violations(pod: &Pod) -> Vec<String> {
    let mut v = Vec::new();
    let Some(spec) = pod.spec.as_ref() else { return vec!["no spec".into()] };
    let psc = spec.security_context.clone().unwrap_or_default();
    // baseline
    for (what, flag) in [("hostNetwork", spec.host_network), ("hostPID", spec.host_pid), ("hostIPC", spec.host_ipc)] {
        if flag == Some(true) {
            v.push(format!("{what} must be unset or false"));
        }
    }
    if psc.sysctls.as_ref().is_some_and(|s| !s.is_empty()) {
        v.push("sysctls must be empty".into());
    }
    if psc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true) {
        v.push("hostProcess".into());
    }
    if psc.app_armor_profile.as_ref().is_some_and(|a| a.type_ == "Unconfined") {
        v.push("pod appArmor Unconfined".into());
    }
    // restricted: volumes
    let scratch_mounted_at_tmp;
    {
        let volumes = spec.volumes.clone().unwrap_or_default();
        for vol in &volumes {
            let json = serde_json::to_value(vol).unwrap();
            for key in json.as_object().unwrap().keys().filter(|k| *k != "name") {
                if !ALLOWED_VOLUMES.contains(&key.as_str()) {
                    v.push(format!("volume {} of type {key} not allowed", vol.name));
                }
            }
        }
        scratch_mounted_at_tmp = volumes.iter().any(|vol| {
            vol.empty_dir.as_ref().is_some_and(|e| e.size_limit.is_some())
                && spec
                    .containers
                    .iter()
                    .all(|c| c.volume_mounts.iter().flatten().any(|m| m.name == vol.name && m.mount_path == "/tmp"))
        });
    }
    if !scratch_mounted_at_tmp {
        v.push("no size-limited emptyDir mounted at /tmp".into());
    }
    let pod_non_root = psc.run_as_non_root == Some(true);
    let pod_seccomp = psc.seccomp_profile.as_ref().map(|s| s.type_.as_str());
    if psc.run_as_user == Some(0) {
        v.push("pod runAsUser 0".into());
    }
    if matches!(pod_seccomp, Some(t) if t != "RuntimeDefault" && t != "Localhost") {
        v.push("pod seccomp must be RuntimeDefault or Localhost".into());
    }
    // extras
    if spec.automount_service_account_token != Some(false) {
        v.push("automountServiceAccountToken must be false".into());
    }
    let all: Vec<&Container> = spec.containers.iter().chain(spec.init_containers.iter().flatten()).collect();
    if spec.ephemeral_containers.as_ref().is_some_and(|e| !e.is_empty()) {
        v.push("ephemeral containers".into());
    }
    for c in all {
        let n = &c.name;
        let sc = c.security_context.clone().unwrap_or_default();
        if sc.privileged == Some(true) {
            v.push(format!("{n}: privileged"));
        }
        if sc.allow_privilege_escalation != Some(false) {
            v.push(format!("{n}: allowPrivilegeEscalation must be false"));
        }
        let caps = sc.capabilities.clone().unwrap_or_default();
        if !caps.drop.iter().flatten().any(|d| d == "ALL") {
            v.push(format!("{n}: capabilities must drop ALL"));
        }
        if caps.add.iter().flatten().any(|a| a != "NET_BIND_SERVICE") {
            v.push(format!("{n}: only NET_BIND_SERVICE may be added"));
        }
        match sc.run_as_non_root {
            Some(false) => v.push(format!("{n}: runAsNonRoot false")),
            None if !pod_non_root => v.push(format!("{n}: runAsNonRoot must be true")),
            _ => {}
        }
        if sc.run_as_user == Some(0) {
            v.push(format!("{n}: runAsUser 0"));
        }
        let seccomp = sc.seccomp_profile.as_ref().map(|s| s.type_.as_str()).or(pod_seccomp);
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            v.push(format!("{n}: seccomp must be RuntimeDefault or Localhost"));
        }
        if c.ports.iter().flatten().any(|p| p.host_port.is_some_and(|h| h != 0)) {
            v.push(format!("{n}: hostPort"));
        }
        if sc.proc_mount.as_deref().is_some_and(|p| p != "Default") {
            v.push(format!("{n}: procMount"));
        }
        if sc.read_only_root_filesystem != Some(true) {
            v.push(format!("{n}: readOnlyRootFilesystem must be true"));
        }
        let res = c.resources.clone().unwrap_or_default();
        if res.requests.is_none() || res.requests != res.limits {
            v.push(format!("{n}: requests must equal limits"));
        }
        for key in ["cpu", "memory", "ephemeral-storage"] {
            if !res.limits.as_ref().is_some_and(|l| l.contains_key(key)) {
                v.push(format!("{n}: no {key} limit"));
            }
        }
    }
    v
}

fn arb_spec() -> impl Strategy<Value = WorkerPodSpec> {
    (
        "[a-z][a-z0-9-]{0,40}[a-z0-9]",
        "[a-z][a-z0-9-]{0,20}[a-z0-9]",
        proptest::option::of("[a-z][a-z0-9]{0,20}"),
        proptest::option::of("[A-Za-z0-9][A-Za-z0-9._-]{0,30}[A-Za-z0-9]"),
        1u32..=192,
        1u64..=1_048_576,
        0u32..=86_400,
        proptest::collection::btree_map("[a-z]{1,10}", "[a-z0-9]{0,10}", 0..4),
    )
        .prop_map(|(name, nodegroup, tenant, job, cores, memory_mib, grace, labels)| WorkerPodSpec {
            name,
            nodegroup,
            tenant,
            job,
            cores,
            memory_mib,
            image: "registry.example/riskgrid@sha256:abc".into(),
            scheduler_endpoint: "https://scheduler:7878".into(),
            drain_grace_seconds: grace,
            labels,
        })
}

proptest! {
    #[test]
    fn every_worker_pod_is_restricted(spec in arb_spec(), uid in 1i64..=2_000_000_000) {
        prop_assert!(validate_spec(&spec).is_ok(), "{:?}", validate_spec(&spec));
        let settings = PodSettings { run_as_uid: uid, run_as_gid: uid, fs_group: uid, ..PodSettings::default() };
        let pod = worker_pod(&spec, &settings);
        prop_assert_eq!(violations(&pod), Vec::<String>::new());
        let ps = pod.spec.as_ref().unwrap();
        let c = &ps.containers[0];
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        prop_assert_eq!(&limits["cpu"].0, &spec.cores.to_string());
        prop_assert_eq!(&limits["memory"].0, &format!("{}Mi", spec.memory_mib));
        prop_assert_eq!(c.security_context.as_ref().unwrap().run_as_user, Some(uid));
        prop_assert_eq!(ps.termination_grace_period_seconds, Some(i64::from(spec.drain_grace_seconds) + 5));
        prop_assert_eq!(ps.enable_service_links, Some(false));
        prop_assert_eq!(ps.restart_policy.as_deref(), Some("Never"));
        let labels = pod.metadata.labels.as_ref().unwrap();
        prop_assert_eq!(labels.get("riskgrid.io/tenant"), spec.tenant.as_ref());
        prop_assert_eq!(labels.get("riskgrid.io/job"), spec.job.as_ref());
        prop_assert_eq!(&labels["riskgrid.io/nodegroup"], &spec.nodegroup);
        prop_assert_eq!(&labels["app.kubernetes.io/managed-by"], "riskgrid");
        for (k, val) in &spec.labels {
            prop_assert_eq!(labels.get(k), Some(val));
        }
        let sel: BTreeMap<String, String> = ps.node_selector.clone().unwrap();
        prop_assert_eq!(sel.get("riskgrid.io/nodegroup"), Some(&spec.nodegroup));
        let tol = &ps.tolerations.as_ref().unwrap()[0];
        prop_assert_eq!(tol.value.as_deref(), Some(spec.tenant.as_deref().unwrap_or("true")));
        // The command line uses the real `riskgrid worker` flags.
        let args = c.args.clone().unwrap();
        let flag = |f: &str| args.iter().position(|a| a == f).map(|i| args[i + 1].clone());
        prop_assert_eq!(flag("--threads"), Some(spec.cores.to_string()));
        prop_assert_eq!(flag("--grace-secs"), Some(spec.drain_grace_seconds.to_string()));
        prop_assert_eq!(flag("--scheduler"), Some(spec.scheduler_endpoint.clone()));
        prop_assert_eq!(flag("--name"), Some(spec.name.clone()));
    }
}

#[test]
fn the_checker_catches_each_broken_rule() {
    let good = worker_pod(&common::spec("w-1", "g", 2), &PodSettings::default());
    assert_eq!(violations(&good), Vec::<String>::new());
    type Breaker = fn(&mut Pod);
    let breakers: Vec<(&str, Breaker)> = vec![
        ("hostNetwork", |p| p.spec.as_mut().unwrap().host_network = Some(true)),
        ("automount", |p| p.spec.as_mut().unwrap().automount_service_account_token = None),
        ("privileged", |p| sc(p).privileged = Some(true)),
        ("escalation", |p| sc(p).allow_privilege_escalation = None),
        ("drop ALL", |p| sc(p).capabilities = None),
        ("add", |p| sc(p).capabilities.as_mut().unwrap().add = Some(vec!["SYS_ADMIN".into()])),
        ("runAsNonRoot", |p| sc(p).run_as_non_root = Some(false)),
        ("runAsUser 0", |p| sc(p).run_as_user = Some(0)),
        ("seccomp", |p| {
            sc(p).seccomp_profile = None;
            p.spec.as_mut().unwrap().security_context.as_mut().unwrap().seccomp_profile = None;
        }),
        ("readOnlyRootFilesystem", |p| sc(p).read_only_root_filesystem = Some(false)),
        ("requests = limits", |p| {
            let r = p.spec.as_mut().unwrap().containers[0].resources.as_mut().unwrap();
            r.requests
                .as_mut()
                .unwrap()
                .insert("cpu".into(), k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()));
        }),
        ("hostPath", |p| {
            let v = &mut p.spec.as_mut().unwrap().volumes.as_mut().unwrap()[0];
            v.host_path = Some(k8s_openapi::api::core::v1::HostPathVolumeSource { path: "/".into(), type_: None });
        }),
        ("scratch", |p| p.spec.as_mut().unwrap().containers[0].volume_mounts = None),
    ];
    for (what, breaker) in breakers {
        let mut pod = good.clone();
        breaker(&mut pod);
        assert!(!violations(&pod).is_empty(), "the checker missed: {what}");
    }
}

fn sc(p: &mut Pod) -> &mut k8s_openapi::api::core::v1::SecurityContext {
    p.spec.as_mut().unwrap().containers[0].security_context.as_mut().unwrap()
}

#[test]
fn golden_shape_for_deploy() {
    // The manifest `deploy/` renders must match this; pin the parts a reviewer reads.
    let pod = worker_pod(&common::spec("w-1", "burst-a", 4), &PodSettings::default());
    let json = serde_json::to_value(&pod).unwrap();
    let c = &json["spec"]["containers"][0];
    assert_eq!(c["command"], serde_json::json!(["riskgrid"]));
    assert_eq!(
        c["args"],
        serde_json::json!([
            "worker",
            "--scheduler",
            "https://scheduler.riskgrid.svc:7878",
            "--threads",
            "4",
            "--name",
            "w-1",
            "--grace-secs",
            "120",
            "--label",
            "nodegroup=burst-a",
            "--label",
            "node=$(RISKGRID_NODE_NAME)",
            "--label",
            "tenant=desk-a",
            "--tls-ca",
            "/etc/riskgrid/tls/ca.crt",
            "--tls-cert",
            "/etc/riskgrid/tls/tls.crt",
            "--tls-key",
            "/etc/riskgrid/tls/tls.key"
        ])
    );
    assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(
        c["resources"]["limits"],
        serde_json::json!({"cpu": "4", "memory": "2048Mi", "ephemeral-storage": "512Mi"})
    );
    assert_eq!(json["spec"]["serviceAccountName"], "riskgrid-worker");
    assert_eq!(json["spec"]["securityContext"]["fsGroup"], 10001);
    // Without a TLS secret (loopback tests) there is no tls volume and no --tls-* flag.
    let plain =
        worker_pod(&common::spec("w-1", "burst-a", 4), &PodSettings { tls_secret: None, ..PodSettings::default() });
    let plain = serde_json::to_value(&plain).unwrap();
    assert_eq!(plain["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert!(!plain.to_string().contains("--tls-"));
}
