//! mTLS grids for end-to-end tests: certificates from `riskgrid certs init`, a scheduler
//! serving them, a worker holding one, and the CLI's flags for an identity.

use super::grid::{riskgrid, scheduler};
use super::{BIN, Proc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `riskgrid certs init` into a fresh directory.
pub fn certs(dir: &Path, tenants: &str) -> PathBuf {
    let certs = dir.join("certs");
    let out = riskgrid(
        &["certs", "init", "--dir", certs.to_str().unwrap(), "--tenants", tenants, "--workers", "1", "--admin", "ops"],
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    certs
}

pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// A scheduler serving mTLS with the certificates in `certs`.
pub fn tls_scheduler(certs: &Path, extra: &[&str]) -> (Proc, String) {
    let (cert, key, ca) = (p(certs, "scheduler.pem"), p(certs, "scheduler-key.pem"), p(certs, "ca.pem"));
    let mut args = vec!["--tls-cert", &cert, "--tls-key", &key, "--tls-client-ca", &ca];
    args.extend_from_slice(extra);
    scheduler(&args)
}

/// The CLI's TLS flags for identity `who` (e.g. `tenant-alpha`).
pub fn tls_flags(certs: &Path, who: &str) -> Vec<String> {
    vec![
        "--tls-ca".into(),
        p(certs, "ca.pem"),
        "--tls-cert".into(),
        p(certs, &format!("{who}.pem")),
        "--tls-key".into(),
        p(certs, &format!("{who}-key.pem")),
    ]
}

/// A worker with the `worker-0` identity, connected to the scheduler at `url` over mTLS.
pub fn tls_worker(url: &str, certs: &Path) -> Proc {
    let mut args: Vec<String> =
        ["worker", "--scheduler", url, "--threads", "1", "--grace-secs", "5"].iter().map(|s| s.to_string()).collect();
    args.extend(tls_flags(certs, "worker-0"));
    Proc(Command::new(BIN).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}
