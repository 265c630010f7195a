//! The scheduler's security settings (issue #5): mTLS, and the `--config`
//! file's tenants, quotas, admission policies and audit log, applied to its
//! [`ServeOptions`].

use super::config_file::ConfigFile;
use super::tls::ServerTlsArgs;
use crate::exit::Failure;
use riskgrid_scheduler::grpc::ServeOptions;
use riskgrid_scheduler::grpc::admission::Guard;
use riskgrid_security::admission::Policies;
use riskgrid_security::audit::{self, Kind};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SchedulerSecurityArgs {
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// Scheduler configuration (YAML): tenants with shares and quotas, the admission
    /// policy directory, the audit log. See deploy/scheduler.example.yaml.
    #[arg(long, value_name = "FILE", env = "RISKGRID_SCHEDULER_CONFIG")]
    pub config: Option<PathBuf>,
}

impl SchedulerSecurityArgs {
    /// Whether the scheduler will speak TLS (then it may listen anywhere).
    pub fn tls_on(&self) -> bool {
        self.tls.tls_cert.is_some()
    }

    /// Loads certificates, the configuration file, the policies and the audit log into `options`.
    pub fn configure(&self, options: &mut ServeOptions) -> Result<(), Failure> {
        options.tls = self.tls.load()?;
        let Some(path) = &self.config else { return Ok(()) };
        let file = ConfigFile::load(path)?;
        for (tenant, entry) in &file.tenants {
            options.config.tenants.insert(tenant.clone(), entry.queue_config());
        }
        options.config.default_tenant = file.default_tenant.map(|e| e.queue_config());
        let quotas: BTreeMap<_, _> = file.tenants.iter().map(|(t, e)| (t.clone(), e.quota())).collect();
        let default_quota = file.default_tenant.map(|e| e.quota()).unwrap_or_default();
        let policies = match &file.admission_policies {
            None => None,
            Some(dir) => {
                Some(Arc::new(Policies::load_dir(dir).map_err(|e| Failure::Input(format!("admission_policies: {e}")))?))
            }
        };
        let log = match &file.audit_log {
            None => None,
            Some(p) => Some(Arc::new(audit::Log::open(p).map_err(|e| Failure::Input(format!("audit_log: {e}")))?)),
        };
        let mut guard = Guard::new(quotas, default_quota, policies.clone(), log);
        guard.only_listed_tenants = file.default_tenant.is_none();
        let started = serde_json::json!({
            "riskgrid_version": riskgrid_security::build::VERSION,
            "git_commit": riskgrid_security::build::GIT_COMMIT,
            "tls": options.tls.is_some(),
            "config": path.display().to_string(),
        });
        let fail = |s: tonic::Status| Failure::Other(anyhow::anyhow!("{}", s.message()));
        guard.record(Kind::Started, "scheduler", started).map_err(fail)?;
        if let Some(p) = &policies {
            let loaded = serde_json::json!({"files": p.files(), "policy_sha256": p.digest()});
            guard.record(Kind::PolicyChange, "scheduler", loaded).map_err(fail)?;
        }
        options.guard = guard;
        Ok(())
    }
}
