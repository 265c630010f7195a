//! `riskgrid certs init`: a development CA and certificates for a local mTLS
//! grid: the scheduler (valid for localhost, 127.0.0.1 and ::1, plus --host),
//! each tenant, each worker and an admin. Keys are written readable by the
//! owner only. For local use and tests; production certificates come from the
//! platform's issuer.

use crate::exit::Failure;
use anyhow::Context;
use riskgrid_security::Identity;
use riskgrid_security::certs::{Ca, Pem, Validity, local_hosts};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct CertsCommand {
    #[command(subcommand)]
    pub command: CertsSub,
}

#[derive(Debug, clap::Subcommand)]
pub enum CertsSub {
    /// Create a dev CA and certificates: ca.pem, scheduler.pem/-key.pem,
    /// tenant-NAME.pem/-key.pem, worker-N.pem/-key.pem, admin-NAME.pem/-key.pem.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write into (created if missing).
    #[arg(long, default_value = "certs")]
    pub dir: PathBuf,
    /// Tenant names, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "default")]
    pub tenants: Vec<String>,
    /// Number of worker certificates (worker-0, worker-1, ...).
    #[arg(long, default_value_t = 1)]
    pub workers: u32,
    /// Admin name (empty: no admin certificate).
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// Extra DNS names or IP addresses for the scheduler's certificate (repeatable).
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// Days the certificates are valid.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Replace certificates already in the directory.
    #[arg(long)]
    pub force: bool,
}

fn write(dir: &Path, name: &str, pem: &Pem, written: &mut Vec<String>) -> Result<(), Failure> {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert, &pem.cert).with_context(|| format!("writing {}", cert.display()))?;
    write_private(&key, &pem.key)?;
    written.push(cert.display().to_string());
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub fn run(cmd: CertsCommand) -> Result<(), Failure> {
    let CertsSub::Init(args) = cmd.command;
    let bad = |e: riskgrid_security::identity::Error| Failure::Input(e.to_string());
    let tenants: Vec<Identity> = args
        .tenants
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| Identity::new(riskgrid_security::Kind::Tenant, t.as_str()).map_err(bad))
        .collect::<Result<_, _>>()?;
    let admin = if args.admin.is_empty() {
        None
    } else {
        Some(Identity::new(riskgrid_security::Kind::Admin, args.admin.as_str()).map_err(bad)?)
    };
    if args.days == 0 {
        return Err(Failure::Input("--days: at least 1".into()));
    }
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    if !args.force && args.dir.join("ca.pem").exists() {
        return Err(Failure::Input(format!(
            "{} already holds ca.pem: pass --force to replace it (clients must then trust the new CA)",
            args.dir.display()
        )));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let validity = Validity::days_from(now, args.days);
    let fail = |e: riskgrid_security::certs::Error| Failure::Input(e.to_string());
    let ca = Ca::generate("riskgrid dev CA", validity).map_err(fail)?;
    let mut written = Vec::new();
    std::fs::write(args.dir.join("ca.pem"), &ca.pem().cert).context("writing ca.pem")?;
    write_private(&args.dir.join("ca-key.pem"), &ca.pem().key)?;
    written.push(args.dir.join("ca.pem").display().to_string());
    let mut hosts = local_hosts();
    hosts.extend(args.hosts.iter().cloned());
    let scheduler = Identity::Scheduler("scheduler".into());
    write(&args.dir, "scheduler", &ca.issue(&scheduler, validity, &hosts).map_err(fail)?, &mut written)?;
    for t in &tenants {
        write(&args.dir, &format!("tenant-{}", t.name()), &ca.issue(t, validity, &[]).map_err(fail)?, &mut written)?;
    }
    for i in 0..args.workers {
        let w = Identity::Worker(format!("worker-{i}"));
        write(&args.dir, &format!("worker-{i}"), &ca.issue(&w, validity, &[]).map_err(fail)?, &mut written)?;
    }
    if let Some(a) = &admin {
        write(&args.dir, &format!("admin-{}", a.name()), &ca.issue(a, validity, &[]).map_err(fail)?, &mut written)?;
    }
    for w in &written {
        println!("{w}");
    }
    Ok(())
}
