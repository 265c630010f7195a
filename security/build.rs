//! Records the git commit the binary is built from (`RISKGRID_GIT_COMMIT`),
//! so every audited result names the code that computed it. An explicit
//! `RISKGRID_GIT_COMMIT` in the build environment wins (release builds from a
//! tarball); otherwise `git rev-parse HEAD`; otherwise `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=RISKGRID_GIT_COMMIT");
    let commit = std::env::var("RISKGRID_GIT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let out = Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        let text = text.trim();
        (out.status.success() && !text.is_empty()).then(|| text.to_owned())
    });
    // Rebuild when HEAD moves (a new commit or a checkout).
    if let Ok(out) = Command::new("git").args(["rev-parse", "--git-dir"]).output()
        && let Ok(dir) = String::from_utf8(out.stdout)
    {
        let dir = dir.trim();
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/refs/heads");
    }
    println!("cargo:rustc-env=RISKGRID_GIT_COMMIT={}", commit.unwrap_or_else(|| "unknown".to_owned()));
}
