//! Which job gets the next free core: weighted fair share across tenants
//! (stride scheduling on virtual time = core-seconds granted ÷ share),
//! priorities within a tenant, per-tenant limits.

use crate::error::{Error, Result};
use crate::ids::{JobId, TenantId};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// A tenant's entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantConfig {
    /// Relative weight: a tenant with share 3 gets three times the cores of one with share 1 when both want more.
    pub share: u32,
    /// Jobs queued or running at once; further submissions are refused.
    pub max_queued_jobs: usize,
    /// Tasks leased at once (one task occupies one core); further tasks wait.
    pub max_cores: u32,
}

impl Default for TenantConfig {
    fn default() -> Self {
        TenantConfig { share: 1, max_queued_jobs: 1000, max_cores: u32::MAX }
    }
}

/// What a tenant has been given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TenantUsage {
    /// Tasks leased to the tenant's jobs, prefetched ones included (the
    /// concurrent-cores limit counts these).
    pub leases: u32,
    /// Of those, the tasks estimated to be computing now: on each worker, the
    /// `cores` oldest leases (workers run their tasks in lease order). Filled
    /// by `Scheduler::stats`; 0 from the queue alone.
    pub running: u32,
    /// Estimated core-seconds of every task ever leased.
    pub core_seconds: f64,
    pub jobs: usize,
}

#[derive(Debug, Clone)]
struct TenantState {
    config: TenantConfig,
    /// Core-seconds granted ÷ share, lifted when the tenant becomes active.
    vtime: f64,
    cores: u32,
    core_seconds: f64,
    /// Highest priority first, then oldest.
    jobs: BTreeSet<(Reverse<i32>, u64, JobId)>,
}

/// The fair-share queue. It orders jobs; the jobs themselves hold their tasks.
#[derive(Debug, Clone, Default)]
pub struct FairQueue {
    tenants: BTreeMap<TenantId, TenantState>,
}

impl FairQueue {
    pub fn new() -> Self {
        FairQueue::default()
    }

    /// Adds a tenant or changes its configuration.
    pub fn configure(&mut self, tenant: TenantId, config: TenantConfig) {
        let config = TenantConfig { share: config.share.max(1), ..config };
        match self.tenants.get_mut(&tenant) {
            Some(t) => t.config = config,
            None => {
                let state = TenantState { config, vtime: 0.0, cores: 0, core_seconds: 0.0, jobs: BTreeSet::new() };
                self.tenants.insert(tenant, state);
            }
        }
    }

    pub fn knows(&self, tenant: &TenantId) -> bool {
        self.tenants.contains_key(tenant)
    }

    /// Refuses when the tenant is unknown or at its job limit.
    pub fn check_admit(&self, tenant: &TenantId) -> Result<()> {
        let t = self.tenants.get(tenant).ok_or_else(|| Error::UnknownTenant(tenant.clone()))?;
        if t.jobs.len() >= t.config.max_queued_jobs {
            return Err(Error::TooManyQueuedJobs { tenant: tenant.clone(), limit: t.config.max_queued_jobs });
        }
        Ok(())
    }

    /// Queues a job. `seq` orders jobs of equal priority (lower first).
    pub fn admit(&mut self, tenant: &TenantId, job: JobId, priority: i32, seq: u64) -> Result<()> {
        self.check_admit(tenant)?;
        self.readmit(tenant, job, priority, seq)
    }

    /// Queues a job without checking the tenant's job limit (a job accepted
    /// before a restart is not refused after it).
    pub fn readmit(&mut self, tenant: &TenantId, job: JobId, priority: i32, seq: u64) -> Result<()> {
        // A tenant returning from idle starts at the current virtual time, so
        // it cannot claim the cores it did not use while away.
        let floor = self.tenants.values().filter(|t| !t.jobs.is_empty()).map(|t| t.vtime).reduce(f64::min);
        let t = self.tenants.get_mut(tenant).ok_or_else(|| Error::UnknownTenant(tenant.clone()))?;
        if t.jobs.is_empty()
            && let Some(floor) = floor
        {
            t.vtime = t.vtime.max(floor);
        }
        t.jobs.insert((Reverse(priority), seq, job));
        Ok(())
    }

    /// Removes a finished job.
    pub fn remove(&mut self, tenant: &TenantId, job: JobId) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            t.jobs.retain(|&(_, _, j)| j != job);
        }
    }

    /// The job that should get the next core: among tenants below their core
    /// limit with a runnable job, the one with the least virtual time (ties:
    /// tenant name); within it, its first runnable job by priority then age.
    pub fn next(&self, runnable: impl Fn(JobId) -> bool) -> Option<(TenantId, JobId)> {
        let mut best: Option<(f64, &TenantId, JobId)> = None;
        for (name, t) in &self.tenants {
            if t.cores >= t.config.max_cores || best.as_ref().is_some_and(|(v, _, _)| *v <= t.vtime) {
                continue;
            }
            if let Some(&(_, _, job)) = t.jobs.iter().find(|&&(_, _, j)| runnable(j)) {
                best = Some((t.vtime, name, job));
            }
        }
        best.map(|(_, name, job)| (name.clone(), job))
    }

    /// A task of `tenant` estimated at `core_seconds` was leased.
    pub fn on_lease(&mut self, tenant: &TenantId, core_seconds: f64) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            t.cores += 1;
            t.core_seconds += core_seconds;
            t.vtime += core_seconds / f64::from(t.config.share);
        }
    }

    /// A lease of `tenant` ended (completed, expired, revoked).
    pub fn on_release(&mut self, tenant: &TenantId) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            t.cores = t.cores.saturating_sub(1);
        }
    }

    /// Every known tenant's usage, by name.
    pub fn usages(&self) -> BTreeMap<TenantId, TenantUsage> {
        self.tenants.keys().filter_map(|t| Some((t.clone(), self.usage(t)?))).collect()
    }

    pub fn usage(&self, tenant: &TenantId) -> Option<TenantUsage> {
        self.tenants.get(tenant).map(|t| TenantUsage {
            leases: t.cores,
            running: 0,
            core_seconds: t.core_seconds,
            jobs: t.jobs.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(shares: &[(&str, u32)]) -> FairQueue {
        let mut q = FairQueue::new();
        for &(name, share) in shares {
            q.configure(name.into(), TenantConfig { share, ..TenantConfig::default() });
        }
        q
    }

    #[test]
    fn shares_split_cores_in_proportion() {
        let mut q = queue(&[("a", 1), ("b", 3)]);
        q.admit(&"a".into(), JobId(1), 0, 1).ok();
        q.admit(&"b".into(), JobId(2), 0, 2).ok();
        let mut count = BTreeMap::new();
        for _ in 0..4000 {
            let Some((tenant, _)) = q.next(|_| true) else { panic!("nothing runnable") };
            q.on_lease(&tenant, 1.0);
            q.on_release(&tenant);
            *count.entry(tenant).or_insert(0) += 1;
        }
        assert_eq!(count[&TenantId::from("a")], 1000);
        assert_eq!(count[&TenantId::from("b")], 3000);
    }

    #[test]
    fn priority_then_age_within_a_tenant() {
        let mut q = queue(&[("a", 1)]);
        let a = TenantId::from("a");
        q.admit(&a, JobId(1), 0, 1).ok();
        q.admit(&a, JobId(2), 5, 2).ok();
        q.admit(&a, JobId(3), 5, 3).ok();
        assert_eq!(q.next(|_| true), Some((a.clone(), JobId(2))));
        assert_eq!(q.next(|j| j != JobId(2)), Some((a.clone(), JobId(3))));
        assert_eq!(q.next(|j| j == JobId(1)), Some((a.clone(), JobId(1))));
        q.remove(&a, JobId(2));
        assert_eq!(q.next(|_| true), Some((a, JobId(3))));
    }

    #[test]
    fn limits_refuse_jobs_and_cap_cores() {
        let mut q = FairQueue::new();
        let a = TenantId::from("a");
        q.configure(a.clone(), TenantConfig { share: 1, max_queued_jobs: 2, max_cores: 2 });
        assert!(q.admit(&a, JobId(1), 0, 1).is_ok());
        assert!(q.admit(&a, JobId(2), 0, 2).is_ok());
        let err = q.admit(&a, JobId(3), 0, 3).err();
        assert_eq!(err, Some(Error::TooManyQueuedJobs { tenant: a.clone(), limit: 2 }));
        assert_eq!(q.admit(&"nobody".into(), JobId(4), 0, 4).err(), Some(Error::UnknownTenant("nobody".into())));
        q.on_lease(&a, 1.0);
        q.on_lease(&a, 1.0);
        assert_eq!(q.next(|_| true), None, "at its core limit");
        q.on_release(&a);
        assert!(q.next(|_| true).is_some());
    }

    #[test]
    fn a_returning_tenant_does_not_get_back_pay() {
        let mut q = queue(&[("a", 1), ("b", 1)]);
        let (a, b) = (TenantId::from("a"), TenantId::from("b"));
        q.admit(&a, JobId(1), 0, 1).ok();
        for _ in 0..100 {
            q.on_lease(&a, 1.0);
        }
        q.admit(&b, JobId(2), 0, 2).ok();
        let mut b_count = 0;
        for _ in 0..100 {
            let Some((t, _)) = q.next(|_| true) else { panic!("nothing runnable") };
            q.on_lease(&t, 1.0);
            b_count += usize::from(t == b);
        }
        assert!((45..=55).contains(&b_count), "{b_count}");
    }
}
