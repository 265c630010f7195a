//! `riskgrid scheduler --config FILE`: tenants (fair share and quotas), the
//! admission policy directory and the audit log, in YAML:
//!
//! ```yaml
//! tenants:
//!   alpha: {share: 2, max_queued_jobs: 20, max_cores: 64, max_paths_per_job: 10000000, max_priority: 50}
//!   beta:  {share: 1, max_paths_per_job: 1000000}
//! default_tenant: null          # unknown tenants are refused (omit: they get the defaults)
//! admission_policies: ../deploy/policies/admission
//! audit_log: audit.jsonl
//! ```
//!
//! Relative paths are relative to the file's directory.

use crate::exit::Failure;
use riskgrid_scheduler::{TenantConfig, TenantId};
use riskgrid_security::quota::Quota;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One tenant's entitlement and quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    /// Fair-share weight (default 1).
    #[serde(default)]
    pub share: Option<u32>,
    /// Jobs queued or running at once (refused beyond: RESOURCE_EXHAUSTED).
    #[serde(default)]
    pub max_queued_jobs: Option<usize>,
    /// Cores leased at once (further tasks wait).
    #[serde(default)]
    pub max_cores: Option<u32>,
    /// `analysis.paths` of one job.
    #[serde(default)]
    pub max_paths_per_job: Option<u64>,
    /// Highest priority the tenant may ask for.
    #[serde(default)]
    pub max_priority: Option<i32>,
}

impl TenantEntry {
    /// The submit-time quota.
    pub fn quota(&self) -> Quota {
        Quota {
            max_queued_jobs: self.max_queued_jobs,
            max_cores: self.max_cores,
            max_paths_per_job: self.max_paths_per_job,
            max_priority: self.max_priority,
        }
    }

    /// The fair-share queue's view: share, job limit and core cap.
    pub fn queue_config(&self) -> TenantConfig {
        let d = TenantConfig::default();
        TenantConfig {
            share: self.share.unwrap_or(d.share).max(1),
            max_queued_jobs: self.max_queued_jobs.unwrap_or(d.max_queued_jobs),
            max_cores: self.max_cores.unwrap_or(d.max_cores),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    tenants: BTreeMap<String, TenantEntry>,
    /// Absent: unknown tenants get the defaults; `null`: they are refused.
    #[serde(default = "some_default")]
    default_tenant: Option<TenantEntry>,
    #[serde(default)]
    admission_policies: Option<PathBuf>,
    #[serde(default)]
    audit_log: Option<PathBuf>,
}

fn some_default() -> Option<TenantEntry> {
    Some(TenantEntry::default())
}

/// The scheduler's configuration file, paths resolved.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub tenants: BTreeMap<TenantId, TenantEntry>,
    pub default_tenant: Option<TenantEntry>,
    pub admission_policies: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, Failure> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::Input(format!("--config {}: {e}", path.display())))?;
        let raw: Raw =
            serde_yaml::from_str(&text).map_err(|e| Failure::Input(format!("--config {}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let mut tenants = BTreeMap::new();
        for (name, entry) in raw.tenants {
            riskgrid_security::identity::check_name(&name)
                .map_err(|e| Failure::Input(format!("--config {}: tenants.{e}", path.display())))?;
            tenants.insert(TenantId(name), entry);
        }
        Ok(ConfigFile {
            tenants,
            default_tenant: raw.default_tenant,
            admission_policies: raw.admission_policies.map(resolve),
            audit_log: raw.audit_log.map(resolve),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_tenants_quotas_and_paths() {
        let dir = std::env::temp_dir().join(format!("riskgrid-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("scheduler.yaml");
        std::fs::write(
            &file,
            "tenants:\n  alpha: {share: 2, max_queued_jobs: 3, max_paths_per_job: 1000}\n\
             default_tenant: null\nadmission_policies: policies\naudit_log: /tmp/a.jsonl\n",
        )
        .unwrap();
        let c = ConfigFile::load(&file).unwrap();
        let alpha = c.tenants[&TenantId::from("alpha")];
        assert_eq!(alpha.queue_config(), TenantConfig { share: 2, max_queued_jobs: 3, max_cores: u32::MAX });
        assert_eq!(alpha.quota().max_paths_per_job, Some(1000));
        assert_eq!(c.default_tenant, None);
        assert_eq!(c.admission_policies, Some(dir.join("policies")));
        assert_eq!(c.audit_log, Some(PathBuf::from("/tmp/a.jsonl")));
        std::fs::write(&file, "tenants:\n  alpha: {shares: 2}\n").unwrap();
        assert!(ConfigFile::load(&file).is_err(), "unknown fields are refused");
        std::fs::write(&file, "{}\n").unwrap();
        assert_eq!(ConfigFile::load(&file).unwrap().default_tenant, Some(TenantEntry::default()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
