//! `--cpus LIST`: pins a scheduler or worker process to some CPUs, as HPC
//! grids pin one engine per core. Set before any thread starts, so the event
//! loop, the compute pool and every later thread inherit it.
//!
//! Why it matters: a grid round trip is a chain of hand-offs (client →
//! scheduler → worker → scheduler → client), and each one that lands on an
//! idle CPU waits for that CPU to wake up; on a VM that is a trip through the
//! hypervisor (10–20 µs, and far more when the host is busy). Processes that
//! hand work to each other run back to back on one CPU without that wait.

use std::fmt;
use std::str::FromStr;

/// A set of CPU numbers, as `taskset -c` takes them: `0`, `0-3`, `0,2,4-7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(Vec<usize>);

/// The highest CPU number a list may name (Linux's `CPU_SETSIZE` is 1024).
const MAX_CPU: usize = 1023;

impl FromStr for CpuList {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut cpus = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (cpu_number(lo)?, cpu_number(hi)?),
                None => (cpu_number(part)?, cpu_number(part)?),
            };
            if lo > hi {
                return Err(format!("{part:?}: a range goes from low to high, e.g. 0-3"));
            }
            cpus.extend(lo..=hi);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuList(cpus))
    }
}

fn cpu_number(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a CPU number (expected a list such as 0, 0-3 or 0,2,4-7)"))?;
    if n > MAX_CPU {
        return Err(format!("CPU {n} is beyond the highest CPU number Linux supports ({MAX_CPU})"));
    }
    Ok(n)
}

impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl CpuList {
    pub fn single(cpu: usize) -> Self {
        CpuList(vec![cpu])
    }

    pub fn cpus(&self) -> &[usize] {
        &self.0
    }
}

/// The CPUs this thread may run on now.
pub fn allowed() -> Result<CpuList, String> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map_err(|e| format!("reading the CPU affinity: {e}"))?;
    Ok(CpuList((0..nix::sched::CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).collect()))
}

/// Pins the calling thread (and every thread it starts afterwards) to `cpus`. Every CPU must
/// be one this process may use; the error names the flag and the CPUs it could have.
pub fn pin_current_thread(flag: &str, cpus: &CpuList) -> Result<(), String> {
    let available = allowed()?;
    if let Some(missing) = cpus.0.iter().find(|c| !available.0.contains(c)) {
        return Err(format!("{flag} {cpus}: CPU {missing} is not available to this process (it may use {available})"));
    }
    set(cpus).map_err(|e| format!("{flag} {cpus}: {e}"))
}

/// Sets the calling thread's affinity to `cpus`, without checks (used to restore a mask read
/// with [`allowed`]).
pub fn set(cpus: &CpuList) -> Result<(), String> {
    let mut set = nix::sched::CpuSet::new();
    for &c in &cpus.0 {
        set.set(c).map_err(|e| format!("CPU {c}: {e}"))?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        .map_err(|e| format!("setting the CPU affinity: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Result<Vec<usize>, String> {
        s.parse::<CpuList>().map(|l| l.0)
    }

    fn refused(s: &str) -> String {
        list(s).expect_err(s)
    }

    #[test]
    fn lists_parse_like_taskset() {
        assert_eq!(list("0"), Ok(vec![0]));
        assert_eq!(list("0-3"), Ok(vec![0, 1, 2, 3]));
        assert_eq!(list("4-5,0, 2"), Ok(vec![0, 2, 4, 5]));
        assert_eq!(list("1,1-2"), Ok(vec![1, 2]));
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        assert!(refused("").contains("not a CPU number"));
        assert!(refused("a").contains("\"a\" is not a CPU number"));
        assert!(refused("3-1").contains("from low to high"));
        assert!(refused("1024").contains("beyond the highest"));
        assert!(refused("0,,1").contains("not a CPU number"));
    }

    #[test]
    fn pinning_to_a_cpu_this_process_may_not_use_is_refused_and_changes_nothing() {
        let before = allowed().expect("affinity");
        let err = pin_current_thread("--cpus", &CpuList::single(MAX_CPU)).expect_err("CPU 1023 is not there");
        assert!(err.contains("--cpus 1023: CPU 1023 is not available"), "{err}");
        assert_eq!(allowed().expect("affinity"), before);
    }

    #[test]
    fn pinning_takes_effect_on_the_calling_thread_and_its_children() {
        // On a thread of its own, so the test runner's threads keep their mask.
        std::thread::spawn(|| {
            let first = *allowed().expect("affinity").cpus().first().expect("some CPU");
            pin_current_thread("--cpus", &CpuList::single(first)).expect("pin");
            assert_eq!(allowed().expect("affinity"), CpuList::single(first));
            let child = std::thread::spawn(|| allowed().expect("affinity")).join().expect("child");
            assert_eq!(child, CpuList::single(first));
        })
        .join()
        .expect("pinned thread");
    }
}
