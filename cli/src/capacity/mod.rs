//! Burst capacity from the command line: the scheduler's controller flags
//! (`--burst-policy`, `--capacity-backend`) and `riskgrid capacity show | set |
//! plan` against a running scheduler's CapacityService.

pub mod local;

use crate::exit::Failure;
use crate::grid::block_on;
use crate::grid::client::{Connect, channel};
use anyhow::Context;
use riskgrid_capacity::BurstPolicy;
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::capacity_service_client::CapacityServiceClient;
use riskgrid_scheduler::burst::Capacity;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which backend the scheduler's capacity controller drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// No controller: workers are started by hand (the policy can still be read, set and planned with).
    None,
    /// Worker processes on this machine.
    Local,
    /// Worker pods on an existing Kubernetes cluster (kubeconfig or in-cluster service account);
    /// nodes are whatever the cluster has.
    Kubernetes,
    /// EKS managed nodegroups sized through the AWS API (standard AWS configuration chain),
    /// with worker pods through the Kubernetes API.
    Eks,
}

/// The scheduler's capacity controller settings.
#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
    /// Burst policy file (YAML or JSON; see examples/capacity/ and `riskgrid capacity show --json`).
    #[arg(long, value_name = "FILE")]
    pub burst_policy: Option<PathBuf>,
    /// Backend the capacity controller drives (needs --burst-policy unless `none`).
    #[arg(long, value_enum, default_value_t = BackendKind::None)]
    pub capacity_backend: BackendKind,
    /// Seconds between reconciles (a policy change reconciles at once).
    #[arg(long, default_value_t = 5.0)]
    pub reconcile_secs: f64,
    /// kubernetes/eks: namespace of the worker pods.
    #[arg(long, default_value = "riskgrid-workers")]
    pub kube_namespace: String,
    /// kubernetes/eks: node label naming a node's nodegroup (pods select it). On EKS without
    /// our own label use eks.amazonaws.com/nodegroup.
    #[arg(long, default_value = "riskgrid.io/nodegroup")]
    pub kube_node_selector_key: String,
    /// kubernetes/eks: Secret with the workers' mTLS certificate (ca.crt, tls.crt, tls.key);
    /// `none` for a scheduler without TLS.
    #[arg(long, default_value = "riskgrid-worker-tls")]
    pub worker_tls_secret: String,
    /// eks: the cluster whose managed nodegroups the policy names.
    #[arg(long, value_name = "NAME")]
    pub eks_cluster: Option<String>,
    /// eks: AWS region (default: the standard chain, e.g. AWS_REGION).
    #[arg(long)]
    pub aws_region: Option<String>,
    /// eks: AWS endpoint override, e.g. a local moto_server (default: the standard chain, e.g. AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub aws_endpoint_url: Option<String>,
}

/// Reads and validates a policy file; every problem named by its field path.
pub fn load_policy(path: &Path) -> Result<BurstPolicy, Failure> {
    let (bytes, json) = read_policy(path)?;
    check_policy(path, &bytes, json)
}

/// A policy file's bytes, and whether it is JSON (else YAML).
fn read_policy(path: &Path) -> Result<(Vec<u8>, bool), Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    Ok((bytes, path.extension().is_some_and(|e| e == "json")))
}

fn check_policy(path: &Path, bytes: &[u8], json: bool) -> Result<BurstPolicy, Failure> {
    riskgrid_scheduler::grpc::admin::parse_policy(&path.display().to_string(), bytes, !json)
        .map_err(|status| Failure::Input(status.message().to_owned()))
}

impl CapacityArgs {
    fn pod_settings(&self) -> Result<riskgrid_kube::PodSettings, Failure> {
        let settings = riskgrid_kube::PodSettings {
            namespace: self.kube_namespace.clone(),
            node_selector_key: self.kube_node_selector_key.clone(),
            tls_secret: (self.worker_tls_secret != "none").then(|| self.worker_tls_secret.clone()),
            ..riskgrid_kube::PodSettings::default()
        };
        settings.validate().map_err(|e| Failure::Input(format!("--kube-*: {e}")))?;
        Ok(settings)
    }

    async fn kube_backend(&self) -> Result<riskgrid_kube::KubeBackend, Failure> {
        let client = kube::Client::try_default()
            .await
            .context("connecting to Kubernetes (kubeconfig, or the in-cluster service account)")?;
        riskgrid_kube::KubeBackend::new(client, self.pod_settings()?)
            .map_err(|e| Failure::Input(format!("--capacity-backend kubernetes: {e}")))
    }

    /// The controller for a scheduler listening on `addr`.
    pub async fn build(&self, addr: SocketAddr, tls: bool) -> Result<Option<Capacity>, Failure> {
        if !(self.reconcile_secs.is_finite() && self.reconcile_secs >= 0.05) {
            return Err(Failure::Input("--reconcile-secs: must be a number of seconds >= 0.05".into()));
        }
        let policy = self.burst_policy.as_deref().map(load_policy).transpose()?;
        let period = Duration::from_secs_f64(self.reconcile_secs);
        match self.capacity_backend {
            BackendKind::None => Ok(policy.map(|p| Capacity::without_backend(Some(p)))),
            BackendKind::Local => {
                let policy = policy.ok_or_else(|| {
                    Failure::Input("--capacity-backend local: needs --burst-policy FILE (a `local` nodegroup)".into())
                })?;
                let group = policy.nodegroups.iter().find(|g| g.name == local::NODEGROUP).ok_or_else(|| {
                    Failure::Input(format!(
                        "--burst-policy: the local backend manages one nodegroup named `{}`; the policy has none",
                        local::NODEGROUP
                    ))
                })?;
                let exe = std::env::current_exe().context("locating the riskgrid binary for local workers")?;
                let scheme = if tls { "https" } else { "http" };
                let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
                let url = format!("{scheme}://{host}:{}", addr.port());
                let backend =
                    local::LocalBackend::new(exe, url, group.instance_type.clone(), group.max_nodes, Vec::new());
                Ok(Some(Capacity::with_backend(policy, backend, period)))
            }
            BackendKind::Kubernetes => {
                let policy = policy
                    .ok_or_else(|| Failure::Input("--capacity-backend kubernetes: needs --burst-policy FILE".into()))?;
                Ok(Some(Capacity::with_backend(policy, self.kube_backend().await?, period)))
            }
            BackendKind::Eks => {
                let policy =
                    policy.ok_or_else(|| Failure::Input("--capacity-backend eks: needs --burst-policy FILE".into()))?;
                let cluster = self
                    .eks_cluster
                    .clone()
                    .ok_or_else(|| Failure::Input("--capacity-backend eks: needs --eks-cluster NAME".into()))?;
                let config = riskgrid_eks::EksConfig {
                    region: self.aws_region.clone(),
                    endpoint_url: self.aws_endpoint_url.clone(),
                    ..riskgrid_eks::EksConfig::new(cluster)
                };
                let (nodegroups, _ec2) = riskgrid_eks::connect(&config)
                    .await
                    .map_err(|e| Failure::Input(format!("--capacity-backend eks: {e}")))?;
                let backend = nodegroups.with_pods(self.kube_backend().await?);
                Ok(Some(Capacity::with_backend(policy, backend, period)))
            }
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CapacityCommand {
    #[command(subcommand)]
    pub action: CapacityAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum CapacityAction {
    /// The policy in force and the controller's last reconcile (observed, targets, actions, reasons).
    Show {
        #[command(flatten)]
        connect: Connect,
        /// Print JSON: {backend, policy, last_reconcile}.
        #[arg(long)]
        json: bool,
    },
    /// Replace the burst policy (validated first; effective at once, at the next reconcile).
    Set {
        /// Policy file (YAML or JSON).
        file: PathBuf,
        #[command(flatten)]
        connect: Connect,
        /// Why (kept in the audit trail).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Before submitting: nodes needed, expected finish and cost on spot and on-demand.
    Plan {
        /// Job file (.yaml, .yml or .json).
        file: PathBuf,
        #[command(flatten)]
        connect: Connect,
        /// Deadline from now, e.g. 90s, 45m, 2h (default: none, as fast as the policy allows).
        #[arg(long, value_parser = parse_duration)]
        deadline: Option<Duration>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `90`, `90s`, `45m`, `2h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num.trim().parse().map_err(|_| format!("{text:?}: expected a number with s, m or h, e.g. 45m"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?}: unit must be s, m or h")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("{text:?}: must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_owned())
}

pub fn run(command: CapacityCommand) -> Result<(), Failure> {
    block_on(1, async move {
        match command.action {
            CapacityAction::Show { connect, json } => {
                let mut client = CapacityServiceClient::new(channel(&connect).await?);
                let r = client
                    .get_capacity(pb::GetCapacityRequest {})
                    .await
                    .map_err(crate::grid::status_failure)?
                    .into_inner();
                let value = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or(serde_json::Value::Null);
                if json {
                    let out = serde_json::json!({
                        "backend": r.backend,
                        "policy": value(&r.policy_json),
                        "last_reconcile": value(&r.last_reconcile_json),
                    });
                    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
                } else {
                    println!("backend: {}", r.backend);
                    if r.policy_json.is_empty() {
                        println!(
                            "policy: none (start the scheduler with --burst-policy FILE, or `riskgrid capacity set FILE`)"
                        );
                    } else {
                        println!("policy:\n{}", pretty(&r.policy_json));
                    }
                    if r.last_reconcile_json.is_empty() {
                        println!("last reconcile: none yet");
                    } else {
                        println!("last reconcile:\n{}", pretty(&r.last_reconcile_json));
                    }
                }
            }
            CapacityAction::Set { file, connect, reason } => {
                let (bytes, json) = read_policy(&file)?;
                check_policy(&file, &bytes, json)?; // the scheduler's validation, before the network
                use pb::set_policy_request::Policy;
                let policy = if json { Policy::PolicyJson(bytes) } else { Policy::PolicyYaml(bytes) };
                let mut client = CapacityServiceClient::new(channel(&connect).await?);
                let r = client
                    .set_policy(pb::SetPolicyRequest { policy: Some(policy), reason })
                    .await
                    .map_err(crate::grid::status_failure)?
                    .into_inner();
                println!("policy set; in force:\n{}", pretty(&r.policy_json));
            }
            CapacityAction::Plan { file, connect, deadline, json } => {
                let bytes = std::fs::read(&file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
                use pb::plan_job_request::Spec;
                let spec = if file.extension().is_some_and(|e| e == "json") {
                    Spec::JobJson(bytes)
                } else {
                    Spec::JobYaml(bytes)
                };
                let mut client = CapacityServiceClient::new(channel(&connect).await?);
                let r = client
                    .plan_job(pb::PlanJobRequest {
                        spec: Some(spec),
                        deadline_seconds: deadline.map_or(0.0, |d| d.as_secs_f64()),
                        historical_csv: Vec::new(),
                    })
                    .await
                    .map_err(crate::grid::status_failure)?
                    .into_inner();
                if json {
                    println!("{}", pretty(&r.plan_json));
                } else {
                    print_plan(&r.plan_json, r.core_seconds);
                }
            }
        }
        Ok(())
    })
}

fn print_plan(plan_json: &str, core_seconds: f64) {
    let Ok(p) = serde_json::from_str::<riskgrid_capacity::Plan>(plan_json) else {
        println!("{}", pretty(plan_json));
        return;
    };
    println!("work:            {core_seconds:.0} core-seconds");
    println!("nodes needed:    {} ({} cores)", p.nodes_needed, p.cores);
    for g in &p.groups {
        println!("  {:<14} {} nodes", g.nodegroup, g.nodes);
    }
    match p.expected_finish_s {
        Some(s) => println!("expected finish: in {:.0} s ({:.1} min)", s, s / 60.0),
        None => println!("expected finish: never (no affordable capacity)"),
    }
    println!("cost if spot:    ${:.2}", p.cost_spot_usd);
    println!("cost on-demand:  ${:.2}", p.cost_on_demand_usd);
    println!(
        "feasible:        {}{}",
        if p.feasible { "yes" } else { "NO" },
        if p.reason.is_empty() { String::new() } else { format!(" ({})", p.reason) }
    );
}
