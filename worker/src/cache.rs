//! Compiled jobs a worker keeps: by job id (a job's later tasks name it by id only) and by
//! content (the spec's SHA-256 and the historical scenario file), so that a resubmitted
//! portfolio is not compiled again. Both are bounded: a long-lived worker sees millions of
//! jobs, and each entry holds a compiled job.

use crate::compute::Prepared;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::OnceCell;

/// A job's compiled form, filled once by whichever task of the job gets there first.
pub(crate) type Slot = Arc<OnceCell<Arc<Prepared>>>;

/// spec SHA-256 → (the historical scenario file's bytes, the compiled job).
type ByContent = HashMap<String, Vec<(Vec<u8>, Arc<Prepared>)>>;

#[derive(Debug)]
pub(crate) struct JobCache {
    /// Most entries in each map; past it a map starts again empty (entries are cheap to
    /// rebuild: a job's tasks find it by content, or compile it once more).
    limit: usize,
    by_id: Mutex<HashMap<String, Slot>>,
    by_content: Mutex<ByContent>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl JobCache {
    pub(crate) fn new(limit: usize) -> Self {
        JobCache { limit, by_id: Mutex::default(), by_content: Mutex::default() }
    }

    /// The job's compiled form if it is ready: by id, or by content (then remembered under
    /// the id too, for the job's later tasks, which carry no spec).
    pub(crate) fn ready(&self, job_id: &str, content: Option<(&str, &[u8])>) -> Option<Arc<Prepared>> {
        if let Some(job) = lock(&self.by_id).get(job_id).and_then(|slot| slot.get().cloned()) {
            return Some(job);
        }
        let (sha256, csv) = content?;
        let job = {
            let by_content = lock(&self.by_content);
            by_content.get(sha256)?.iter().find(|(c, _)| c.as_slice() == csv).map(|(_, job)| Arc::clone(job))?
        };
        let _ = self.slot(job_id).set(Arc::clone(&job));
        Some(job)
    }

    /// The job's slot, made empty if new.
    pub(crate) fn slot(&self, job_id: &str) -> Slot {
        let mut by_id = lock(&self.by_id);
        if by_id.len() >= self.limit && !by_id.contains_key(job_id) {
            by_id.clear();
        }
        Arc::clone(by_id.entry(job_id.to_owned()).or_default())
    }

    /// Remembers a freshly compiled job by its content.
    pub(crate) fn remember(&self, sha256: String, csv: Vec<u8>, job: &Arc<Prepared>) {
        let mut by_content = lock(&self.by_content);
        if by_content.len() >= self.limit && !by_content.contains_key(&sha256) {
            by_content.clear();
        }
        by_content.entry(sha256).or_default().push((csv, Arc::clone(job)));
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        (lock(&self.by_id).len(), lock(&self.by_content).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskcalc::kernel::Isa;

    fn prepared(paths: u64) -> Arc<Prepared> {
        let spec = format!(
            "{{\"seed\":1,\"market\":{{\"rate\":0.03,\"underlyings\":[{{\"id\":\"A\",\"spot\":100,\"dividend_yield\":0.01,\"vol\":0.2}}]}},\
             \"portfolio\":[{{\"id\":\"c\",\"instrument\":{{\"type\":\"european\",\"underlying\":\"A\",\"option\":\"call\",\"strike\":100,\"maturity\":1}}}}],\
             \"analysis\":{{\"paths\":{paths},\"block_size\":64}}}}"
        );
        Arc::new(Prepared::new(spec.as_bytes(), &[], Isa::Scalar).expect("spec"))
    }

    #[test]
    fn a_job_is_found_by_content_then_by_id_and_a_different_scenario_file_is_another_job() {
        let cache = JobCache::new(8);
        let job = prepared(64);
        cache.remember("sha-a".into(), Vec::new(), &job);
        assert!(cache.ready("job-1", None).is_none(), "unknown id, no content given");
        let found = cache.ready("job-1", Some(("sha-a", &[]))).expect("by content");
        assert!(Arc::ptr_eq(&found, &job));
        let later = cache.ready("job-1", None).expect("a later task names the job by id only");
        assert!(Arc::ptr_eq(&later, &job));
        assert!(cache.ready("job-2", Some(("sha-a", b"date,A\n"))).is_none(), "same spec, other scenarios");
        assert!(cache.ready("job-3", Some(("sha-b", &[]))).is_none());
    }

    #[test]
    fn many_resubmissions_of_one_portfolio_keep_the_cache_bounded() {
        let cache = JobCache::new(8);
        let job = prepared(64);
        cache.remember("sha-a".into(), Vec::new(), &job);
        for i in 0..1_000 {
            assert!(cache.ready(&format!("job-{i}"), Some(("sha-a", &[]))).is_some());
        }
        let (by_id, by_content) = cache.sizes();
        assert!(by_id <= 8, "{by_id} jobs kept by id");
        assert_eq!(by_content, 1);
    }

    #[test]
    fn many_distinct_specs_keep_the_cache_bounded() {
        let cache = JobCache::new(4);
        let job = prepared(64);
        for i in 0..100 {
            cache.remember(format!("sha-{i}"), Vec::new(), &job);
            let _ = cache.slot(&format!("job-{i}"));
        }
        let (by_id, by_content) = cache.sizes();
        assert!(by_id <= 4 && by_content <= 4, "{by_id} by id, {by_content} by content");
        assert!(cache.ready("job-x", Some(("sha-99", &[]))).is_some(), "the newest survive");
    }
}
