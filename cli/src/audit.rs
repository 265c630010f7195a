//! `riskgrid audit verify FILE`: checks the audit log's hash chain; exits 0
//! with the record count, or 1 naming the first line that does not verify.

use crate::exit::Failure;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct AuditCommand {
    #[command(subcommand)]
    pub command: AuditSub,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditSub {
    /// Verify a hash-chained audit log (JSON lines).
    Verify {
        /// The audit log.
        file: PathBuf,
    },
}

pub fn run(cmd: AuditCommand) -> Result<(), Failure> {
    let AuditSub::Verify { file } = cmd.command;
    match riskgrid_security::audit::verify(&file) {
        Ok(n) => {
            println!("{}: ok, {n} records, hash chain intact", file.display());
            Ok(())
        }
        Err(e) if e.line == 0 => Err(Failure::Input(e.reason)),
        Err(e) => Err(Failure::Other(anyhow::anyhow!("{}: line {}: {}", file.display(), e.line, e.reason))),
    }
}
