//! Reading a job file and whatever it refers to (historical scenarios).

use crate::exit::Failure;
use riskcalc::risk::scenarios::{Scenario, historical_scenarios};
use riskcalc::spec::{JobSpec, ScenarioSpec};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A validated job with its inputs loaded.
#[derive(Debug)]
pub struct LoadedJob {
    pub spec: JobSpec,
    pub historical: Option<Vec<Scenario>>,
    /// SHA-256 of the canonical JSON of the spec: ties a result to its inputs.
    pub spec_sha256: String,
}

pub fn load(path: &Path) -> Result<LoadedJob, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("cannot read job file `{}`: {e}", path.display())))?;
    let name = path.to_string_lossy();
    let spec = riskcalc::spec::parse_named(&name, &text)
        .map_err(|errors| Failure::Input(format!("invalid job file `{}`:\n{errors}", path.display())))?;
    let historical = match spec.analysis.risk.as_ref().map(|r| &r.scenarios) {
        Some(ScenarioSpec::Historical(h)) => {
            let csv_path = spec.historical_file_path(path).unwrap_or_default();
            let csv = std::fs::read_to_string(&csv_path).map_err(|e| {
                Failure::Input(format!(
                    "analysis.risk.scenarios.historical.file: cannot read `{}`: {e}",
                    csv_path.display()
                ))
            })?;
            let market = riskcalc::plan::Market::from_spec(&spec);
            let needed: Vec<usize> = spec
                .portfolio
                .iter()
                .flat_map(|t| t.instrument.underlyings())
                .filter_map(|id| market.index_of(id))
                .collect();
            let scenarios = historical_scenarios(&csv, &market, &needed, h.return_type)
                .map_err(|e| Failure::Input(format!("{}: {e}", csv_path.display())))?;
            Some(scenarios)
        }
        _ => None,
    };
    let canonical = serde_json::to_vec(&spec).map_err(|e| Failure::Other(e.into()))?;
    let spec_sha256 = format!("{:x}", Sha256::digest(&canonical));
    Ok(LoadedJob { spec, historical, spec_sha256 })
}
