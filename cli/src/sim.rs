//! `riskgrid sim FILE`: replays a scenario's workload on the simulated cloud
//! and the on-prem grid and prints time to result, deadlines, node-hours and
//! cost (a table, or `--json`). The JSON is the same bytes for the same
//! scenario and seed; the wall time goes to the table or to stderr.

use crate::exit::Failure;
use anyhow::Context;
use riskgrid_sim::{Scenario, simulate};
use std::path::PathBuf;
use std::time::Instant;

/// `riskgrid sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario file (YAML or JSON): workload (jobs or a synthetic generator),
    /// cloud (burst policy, lead times, spot interruption rate) and/or on_prem grid.
    /// See examples/sim/*.yaml.
    pub file: PathBuf,
    /// Print the report as JSON (identical bytes for the same file and seed).
    #[arg(long)]
    pub json: bool,
    /// Seed for lead times and spot interruptions (default: the file's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: SimArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mut scenario = Scenario::parse(&text).map_err(|e| Failure::Input(format!("{}: {e}", args.file.display())))?;
    if scenario.name.is_empty() {
        scenario.name = args.file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    }
    let start = Instant::now();
    let report = simulate(&scenario, args.seed);
    let wall = start.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).context("encoding the report")?);
        eprintln!("wall time {wall:.2} s");
    } else {
        print!("{}", report.table());
        let events: u64 = report.runs.iter().map(|r| r.events).sum();
        println!("wall time {wall:.2} s ({events} events)");
    }
    Ok(())
}
