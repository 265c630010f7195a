//! `--cpus` on real scheduler and worker processes: every thread lands on the CPUs given, the
//! worker's default thread count follows them, results keep their bits, and a CPU the process
//! may not use is refused with the flag named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Proc;
use common::grid::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `Cpus_allowed_list` of every thread of `pid`.
fn thread_cpus(pid: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).unwrap_or_default()
        };
        out.push((field("Name:"), field("Cpus_allowed_list:")));
    }
    out
}

/// The first CPU this test may use.
fn first_cpu() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap().trim().to_owned();
    list.split([',', '-']).next().unwrap().to_owned()
}

#[test]
fn pinned_processes_keep_every_thread_on_their_cpus_and_give_the_same_bits() {
    let cpu = first_cpu();
    let dir = temp_dir("affinity");
    let file = job_file(&dir, "pinned.yaml", 4096);
    let (scheduler, url) = scheduler(&["--cpus", &cpu]);
    let args = ["worker", "--scheduler", &url, "--name", "pinned", "--grace-secs", "5", "--cpus", &cpu];
    let worker =
        Proc(Command::new(common::BIN).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let id = submit(&url, &file);
    let grid = result(&url, &id, Duration::from_secs(60));
    assert_same_bits(&grid, &local(&file));
    for (who, pid) in [("scheduler", scheduler.0.id()), ("worker", worker.0.id())] {
        let threads = thread_cpus(pid);
        assert!(!threads.is_empty(), "{who} has threads");
        for (name, cpus) in &threads {
            assert_eq!(cpus, &cpu, "{who} thread {name} runs on {cpus}, not on --cpus {cpu}");
        }
    }
    // Without --threads, one compute thread per CPU given.
    let compute = thread_cpus(worker.0.id()).iter().filter(|(name, _)| name.starts_with("riskgrid-comput")).count();
    assert_eq!(compute, 1, "compute threads of a worker pinned to one CPU");
}

#[test]
fn a_cpu_the_process_may_not_use_is_refused_naming_the_flag() {
    for command in ["scheduler", "worker"] {
        let out = riskgrid(&[command, "--cpus", "1023"], Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(2), "{command}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--cpus 1023: CPU 1023 is not available to this process"), "{command}: {stderr}");
    }
    let out = riskgrid(&["worker", "--cpus", "2-1"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from low to high"), "{out:?}");
}
