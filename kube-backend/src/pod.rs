//! The worker Pod, as a pure function of a [`WorkerPodSpec`] and [`PodSettings`].
//!
//! This is the single place the worker pod's shape is decided: the backend
//! creates exactly this object and `deploy/` renders its template from it, so
//! the two cannot drift. Every pod it returns passes the Pod Security Standards
//! "restricted" profile, and additionally has a read-only root filesystem (with
//! an `emptyDir` mounted at `/tmp` for scratch) and no service-account token.

use crate::names::{check_label_key, check_label_value, check_rfc1123_label, check_rfc1123_subdomain};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector, Pod, PodSecurityContext,
    PodSpec, ResourceRequirements, SeccompProfile, SecretVolumeSource, SecurityContext, Toleration, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use riskgrid_capacity::{BackendError, WorkerPodSpec};
use std::collections::BTreeMap;

/// `app.kubernetes.io/name` of every worker pod.
pub const APP_NAME: &str = "riskgrid-worker";
/// Standard label keys and the values riskgrid puts on its pods.
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "riskgrid";
pub const LABEL_TENANT: &str = "riskgrid.io/tenant";
pub const LABEL_JOB: &str = "riskgrid.io/job";
/// The pod's nodegroup label (the node label used for scheduling is [`PodSettings::node_selector_key`]).
pub const LABEL_NODEGROUP: &str = "riskgrid.io/nodegroup";
/// Selects every pod this backend manages.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=riskgrid";
/// The worker container's name.
pub const CONTAINER: &str = "worker";
/// The scratch volume's name and mount point (the root filesystem is read-only).
pub const SCRATCH_VOLUME: &str = "scratch";
pub const SCRATCH_MOUNT: &str = "/tmp";
/// Where the worker's mTLS secret (`ca.crt`, `tls.crt`, `tls.key`, as cert-manager writes them) is mounted.
pub const TLS_VOLUME: &str = "tls";
pub const TLS_MOUNT: &str = "/etc/riskgrid/tls";
/// Environment variable carrying the node's name (downward API), passed to the worker as a label.
pub const NODE_NAME_ENV: &str = "RISKGRID_NODE_NAME";

/// Cluster-wide choices for worker pods; one per backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSettings {
    /// Namespace worker pods live in.
    pub namespace: String,
    /// Taint key on burst nodes; pods tolerate `<key>=<tenant or "true">:NoSchedule`.
    pub burst_taint_key: String,
    /// Node label that names a node's nodegroup; pods select `<key>: <nodegroup>`.
    pub node_selector_key: String,
    /// Non-zero UID (and, below, GID / fsGroup) the worker runs as.
    pub run_as_uid: i64,
    pub run_as_gid: i64,
    pub fs_group: i64,
    /// Service account (its token is never mounted).
    pub service_account: String,
    /// Path of the `riskgrid` binary inside the image.
    pub binary: String,
    /// Size limit of the `/tmp` scratch `emptyDir`, MiB.
    pub scratch_mib: u64,
    /// Ephemeral storage requested (= limit), MiB: scratch plus logs; at least `scratch_mib`.
    pub ephemeral_storage_mib: u64,
    /// Seconds added to the worker's drain grace to form `terminationGracePeriodSeconds`, so the
    /// kubelet's SIGKILL comes only after the worker has drained and handed unfinished tasks back.
    pub termination_margin_seconds: u32,
    /// Optional PriorityClass for worker pods.
    pub priority_class: Option<String>,
    /// Secret holding the worker's client certificate for mTLS to the scheduler, mounted
    /// read-only at [`TLS_MOUNT`] and passed as `--tls-ca/--tls-cert/--tls-key`. `None`
    /// only for a scheduler reached without TLS (tests, loopback).
    pub tls_secret: Option<String>,
}

impl Default for PodSettings {
    fn default() -> Self {
        Self {
            namespace: "riskgrid-workers".into(),
            burst_taint_key: "riskgrid.io/burst".into(),
            node_selector_key: "riskgrid.io/nodegroup".into(),
            run_as_uid: 10001,
            run_as_gid: 10001,
            fs_group: 10001,
            service_account: "riskgrid-worker".into(),
            binary: "riskgrid".into(),
            scratch_mib: 256,
            ephemeral_storage_mib: 512,
            termination_margin_seconds: 5,
            priority_class: None,
            tls_secret: Some("riskgrid-worker-tls".into()),
        }
    }
}

impl PodSettings {
    /// Checks every field; the backend refuses to start with invalid settings.
    pub fn validate(&self) -> Result<(), BackendError> {
        check_rfc1123_label("namespace", &self.namespace)?;
        check_label_key("burst_taint_key", &self.burst_taint_key)?;
        check_label_key("node_selector_key", &self.node_selector_key)?;
        for (what, id) in
            [("run_as_uid", self.run_as_uid), ("run_as_gid", self.run_as_gid), ("fs_group", self.fs_group)]
        {
            if id <= 0 {
                return Err(invalid(format!("{what}: must be a positive id (non-root), got {id}")));
            }
        }
        if !self.service_account.is_empty() {
            check_rfc1123_subdomain("service_account", &self.service_account)?;
        }
        if self.binary.is_empty() || self.binary.chars().any(char::is_whitespace) {
            return Err(invalid(format!("binary: {:?} is not a path", self.binary)));
        }
        if self.scratch_mib == 0 || self.ephemeral_storage_mib < self.scratch_mib {
            return Err(invalid(format!(
                "scratch_mib ({}) must be at least 1 and at most ephemeral_storage_mib ({})",
                self.scratch_mib, self.ephemeral_storage_mib
            )));
        }
        if let Some(secret) = &self.tls_secret {
            check_rfc1123_subdomain("tls_secret", secret)?;
        }
        if let Some(pc) = &self.priority_class {
            check_rfc1123_subdomain("priority_class", pc)?;
        }
        Ok(())
    }
}

fn invalid(msg: String) -> BackendError {
    BackendError::Invalid(msg)
}

/// Checks a spec against what a pod can carry: names, label values, sizes.
pub fn validate_spec(spec: &WorkerPodSpec) -> Result<(), BackendError> {
    check_rfc1123_label("name", &spec.name)?;
    check_label_value("nodegroup", &spec.nodegroup)?;
    if spec.nodegroup.is_empty() {
        return Err(invalid("nodegroup: must not be empty".into()));
    }
    if let Some(t) = &spec.tenant {
        // The tenant is also a toleration value and a worker label: keep it a DNS label.
        check_rfc1123_label("tenant", t)?;
    }
    if let Some(j) = &spec.job {
        check_label_value("job", j)?;
    }
    if spec.cores == 0 {
        return Err(invalid("cores: must be at least 1".into()));
    }
    if spec.memory_mib == 0 {
        return Err(invalid("memory_mib: must be at least 1".into()));
    }
    if spec.image.is_empty() || spec.image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!("image: {:?} is not an image reference", spec.image)));
    }
    if spec.scheduler_endpoint.is_empty()
        || spec.scheduler_endpoint.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(format!("scheduler_endpoint: {:?} is not an address", spec.scheduler_endpoint)));
    }
    for (k, v) in &spec.labels {
        check_label_key("labels", k)?;
        check_label_value(&format!("labels[{k}]"), v)?;
        if k.starts_with("app.kubernetes.io/") || k.starts_with("riskgrid.io/") {
            return Err(invalid(format!("labels: {k:?} is reserved for riskgrid")));
        }
    }
    Ok(())
}

/// The labels every worker pod carries (also used to find them again).
pub fn pod_labels(spec: &WorkerPodSpec) -> BTreeMap<String, String> {
    let mut labels = spec.labels.clone();
    labels.insert(LABEL_NAME.into(), APP_NAME.into());
    labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    labels.insert(LABEL_NODEGROUP.into(), spec.nodegroup.clone());
    if let Some(t) = &spec.tenant {
        labels.insert(LABEL_TENANT.into(), t.clone());
    }
    if let Some(j) = &spec.job {
        labels.insert(LABEL_JOB.into(), j.clone());
    }
    labels
}

/// The worker's command line: `riskgrid worker` with the flags of `cli/src/grid/serve.rs`.
/// `$(RISKGRID_NODE_NAME)` is expanded by the kubelet from the container's environment.
pub fn worker_args(spec: &WorkerPodSpec, settings: &PodSettings) -> Vec<String> {
    let mut args = vec![
        "worker".to_owned(),
        "--scheduler".to_owned(),
        spec.scheduler_endpoint.clone(),
        "--threads".to_owned(),
        spec.cores.to_string(),
        "--name".to_owned(),
        spec.name.clone(),
        "--grace-secs".to_owned(),
        spec.drain_grace_seconds.to_string(),
        "--label".to_owned(),
        format!("nodegroup={}", spec.nodegroup),
        "--label".to_owned(),
        format!("node=$({NODE_NAME_ENV})"),
    ];
    if let Some(t) = &spec.tenant {
        args.push("--label".to_owned());
        args.push(format!("tenant={t}"));
    }
    if settings.tls_secret.is_some() {
        for (flag, file) in [("--tls-ca", "ca.crt"), ("--tls-cert", "tls.crt"), ("--tls-key", "tls.key")] {
            args.push(flag.to_owned());
            args.push(format!("{TLS_MOUNT}/{file}"));
        }
    }
    args
}

fn quantity(s: String) -> Quantity {
    Quantity(s)
}

fn volume_mounts(settings: &PodSettings) -> Vec<VolumeMount> {
    let mut mounts =
        vec![VolumeMount { name: SCRATCH_VOLUME.into(), mount_path: SCRATCH_MOUNT.into(), ..Default::default() }];
    if settings.tls_secret.is_some() {
        mounts.push(VolumeMount {
            name: TLS_VOLUME.into(),
            mount_path: TLS_MOUNT.into(),
            read_only: Some(true),
            ..Default::default()
        });
    }
    mounts
}

fn volumes(settings: &PodSettings) -> Vec<Volume> {
    let mut volumes = vec![Volume {
        name: SCRATCH_VOLUME.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(quantity(format!("{}Mi", settings.scratch_mib))),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if let Some(secret) = &settings.tls_secret {
        volumes.push(Volume {
            name: TLS_VOLUME.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.clone()),
                // Owner and group (fsGroup) read; nobody else.
                default_mode: Some(0o440),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    volumes
}

/// The Pod the kubernetes backend creates for `spec` (pure function, no I/O).
///
/// Does not validate: call [`validate_spec`] (the backend does) to refuse specs a
/// cluster would reject. `terminationGracePeriodSeconds` is the worker's
/// `drain_grace_seconds` plus [`PodSettings::termination_margin_seconds`].
pub fn worker_pod(spec: &WorkerPodSpec, settings: &PodSettings) -> Pod {
    let resources: BTreeMap<String, Quantity> = [
        ("cpu".to_owned(), quantity(spec.cores.to_string())),
        ("memory".to_owned(), quantity(format!("{}Mi", spec.memory_mib))),
        ("ephemeral-storage".to_owned(), quantity(format!("{}Mi", settings.ephemeral_storage_mib))),
    ]
    .into_iter()
    .collect();
    let seccomp = || SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None };
    let container = Container {
        name: CONTAINER.into(),
        image: Some(spec.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec![settings.binary.clone()]),
        args: Some(worker_args(spec, settings)),
        env: Some(vec![EnvVar {
            name: NODE_NAME_ENV.into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: Some("v1".into()),
                    field_path: "spec.nodeName".into(),
                }),
                ..Default::default()
            }),
        }]),
        resources: Some(ResourceRequirements {
            requests: Some(resources.clone()),
            limits: Some(resources),
            ..Default::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(settings.run_as_uid),
            run_as_group: Some(settings.run_as_gid),
            capabilities: Some(Capabilities { add: None, drop: Some(vec!["ALL".into()]) }),
            seccomp_profile: Some(seccomp()),
            ..Default::default()
        }),
        volume_mounts: Some(volume_mounts(settings)),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };
    let toleration = Toleration {
        key: Some(settings.burst_taint_key.clone()),
        operator: Some("Equal".into()),
        value: Some(spec.tenant.clone().unwrap_or_else(|| "true".into())),
        effect: Some("NoSchedule".into()),
        toleration_seconds: None,
    };
    let grace = i64::from(spec.drain_grace_seconds) + i64::from(settings.termination_margin_seconds);
    Pod {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            namespace: Some(settings.namespace.clone()),
            labels: Some(pod_labels(spec)),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![container],
            restart_policy: Some("Never".into()),
            termination_grace_period_seconds: Some(grace),
            service_account_name: (!settings.service_account.is_empty()).then(|| settings.service_account.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            host_network: Some(false),
            host_pid: Some(false),
            host_ipc: Some(false),
            node_selector: Some([(settings.node_selector_key.clone(), spec.nodegroup.clone())].into_iter().collect()),
            tolerations: Some(vec![toleration]),
            priority_class_name: settings.priority_class.clone(),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(settings.run_as_uid),
                run_as_group: Some(settings.run_as_gid),
                fs_group: Some(settings.fs_group),
                seccomp_profile: Some(seccomp()),
                ..Default::default()
            }),
            volumes: Some(volumes(settings)),
            ..Default::default()
        }),
        status: None,
    }
}

/// [`validate_spec`] and [`PodSettings::validate`], then [`worker_pod`].
pub fn checked_worker_pod(spec: &WorkerPodSpec, settings: &PodSettings) -> Result<Pod, BackendError> {
    settings.validate()?;
    validate_spec(spec)?;
    Ok(worker_pod(spec, settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_are_valid_and_bad_ones_refused() {
        assert_eq!(PodSettings::default().validate(), Ok(()));
        let bad = [
            PodSettings { run_as_uid: 0, ..PodSettings::default() },
            PodSettings { fs_group: -1, ..PodSettings::default() },
            PodSettings { namespace: "Workers".into(), ..PodSettings::default() },
            PodSettings { burst_taint_key: "a/b/c".into(), ..PodSettings::default() },
            PodSettings { scratch_mib: 1024, ephemeral_storage_mib: 512, ..PodSettings::default() },
            PodSettings { binary: "riskgrid worker".into(), ..PodSettings::default() },
            PodSettings { priority_class: Some("High".into()), ..PodSettings::default() },
            PodSettings { tls_secret: Some("Bad Secret".into()), ..PodSettings::default() },
        ];
        for s in bad {
            assert!(matches!(s.validate(), Err(BackendError::Invalid(_))), "{s:?}");
        }
    }
}
