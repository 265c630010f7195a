//! Market scenarios at the risk horizon: simulated or historical.

use crate::kernel::normals::normal_at;
use crate::kernel::path::exp_f64;
use crate::plan::Market;
use crate::rng::stream::{Purpose, StreamId};
use crate::spec::ReturnType;

/// Spots and today's volatilities (σ, or √v0 under Heston) of every market
/// asset at the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub spots: Vec<f64>,
    pub vols: Vec<f64>,
}

impl Scenario {
    /// The market after this scenario, `horizon` years later.
    pub fn apply(&self, market: &Market) -> Market {
        let mut m = market.clone();
        for ((asset, &spot), &vol) in m.assets.iter_mut().zip(&self.spots).zip(&self.vols) {
            asset.spot = spot;
            asset.model = asset.model.with_spot_vol(vol);
        }
        m
    }
}

/// Parameters of simulated scenarios.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloScenarios {
    pub count: u32,
    pub vol_of_vol: f64,
    /// Real-world log drift per market asset.
    pub drift: Vec<f64>,
}

impl MonteCarloScenarios {
    /// Scenario `k`: correlated lognormal spots and independent lognormal
    /// volatility shocks, each keyed by (seed, scenario stream, k, dimension)
    /// so any scenario is computed on its own.
    pub fn scenario(&self, market: &Market, chol: &[f64], horizon: f64, seed: u64, k: u64) -> Scenario {
        let n = market.assets.len();
        let stream = StreamId::derive(Purpose::Scenarios, "market").0;
        let z: Vec<f64> = (0..n).map(|a| normal_at(seed, stream, k, a as u32)).collect();
        let sqrt_h = horizon.sqrt();
        let mut spots = Vec::with_capacity(n);
        let mut vols = Vec::with_capacity(n);
        for (a, asset) in market.assets.iter().enumerate() {
            let mut w = 0.0;
            for (b, zb) in z.iter().enumerate().take(a + 1) {
                w += chol[a * n + b] * zb;
            }
            let vol = asset.model.spot_vol();
            let log_return = (self.drift[a] - 0.5 * vol * vol) * horizon + vol * sqrt_h * w;
            spots.push(asset.spot * exp_f64(log_return));
            let shocked = if self.vol_of_vol > 0.0 {
                let zv = normal_at(seed, stream, k, (n + a) as u32);
                let nu = self.vol_of_vol;
                vol * exp_f64(nu * sqrt_h * zv - 0.5 * nu * nu * horizon)
            } else {
                vol
            };
            vols.push(shocked);
        }
        Scenario { spots, vols }
    }
}

/// A problem in a historical returns file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct HistoricalError {
    /// `line 5, column MSFT`, `header`, ...
    pub location: String,
    pub reason: String,
}

fn err(location: impl Into<String>, reason: impl Into<String>) -> HistoricalError {
    HistoricalError { location: location.into(), reason: reason.into() }
}

/// Parses a CSV of horizon returns (header: underlying ids; one row per
/// scenario) into scenarios. Underlyings absent from the header do not move.
/// Volatilities are left unchanged.
pub fn historical_scenarios(
    csv_text: &str,
    market: &Market,
    needed: &[usize],
    return_type: ReturnType,
) -> Result<Vec<Scenario>, HistoricalError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(csv_text.as_bytes());
    let header = reader.headers().map_err(|e| err("header", e.to_string()))?.clone();
    let mut columns = vec![None; market.assets.len()];
    for (c, name) in header.iter().enumerate() {
        match market.index_of(name) {
            Some(a) if columns[a].is_some() => {
                return Err(err("header", format!("column `{name}` appears twice")));
            }
            Some(a) => columns[a] = Some(c),
            None => {
                let known: Vec<&str> = market.assets.iter().map(|a| a.id.as_str()).collect();
                return Err(err("header", format!("unknown underlying `{name}`; known: {}", known.join(", "))));
            }
        }
    }
    for &a in needed {
        if columns[a].is_none() {
            return Err(err("header", format!("no column for `{}`, which the portfolio holds", market.assets[a].id)));
        }
    }
    let mut scenarios = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = record.map_err(|e| err(format!("line {line}"), e.to_string()))?;
        let mut spots = Vec::with_capacity(market.assets.len());
        for (a, asset) in market.assets.iter().enumerate() {
            let Some(c) = columns[a] else {
                spots.push(asset.spot);
                continue;
            };
            let cell = record.get(c).unwrap_or("");
            let r: f64 = cell
                .parse()
                .map_err(|_| err(format!("line {line}, column {}", asset.id), format!("`{cell}` is not a number")))?;
            let spot = match return_type {
                ReturnType::Log if r.is_finite() && r.abs() <= 5.0 => asset.spot * exp_f64(r),
                ReturnType::Simple if r.is_finite() && r > -1.0 && r <= 100.0 => asset.spot * (1.0 + r),
                _ => {
                    return Err(err(
                        format!("line {line}, column {}", asset.id),
                        format!("return {cell} is not a plausible {return_type:?} return"),
                    ));
                }
            };
            spots.push(spot);
        }
        let vols = market.assets.iter().map(|a| a.model.spot_vol()).collect();
        scenarios.push(Scenario { spots, vols });
    }
    if scenarios.is_empty() {
        return Err(err("file", "no scenario rows after the header"));
    }
    if scenarios.len() > crate::spec::limits::MAX_SCENARIOS as usize {
        return Err(err("file", format!("more than {} scenarios", crate::spec::limits::MAX_SCENARIOS)));
    }
    Ok(scenarios)
}

/// The scenarios of a historical-VaR job from the text of its scenario file
/// (which travels with the job: a scheduler or worker cannot read the
/// client's paths). `Ok(None)` for jobs without historical scenarios.
pub fn historical_for_spec(spec: &crate::spec::JobSpec, csv: Option<&str>) -> Result<Option<Vec<Scenario>>, String> {
    use crate::spec::ScenarioSpec;
    let Some(ScenarioSpec::Historical(h)) = spec.analysis.risk.as_ref().map(|r| &r.scenarios) else {
        return Ok(None);
    };
    let csv = csv.ok_or_else(|| {
        "analysis.risk.scenarios.historical.file: the file's contents must be sent with the job".to_owned()
    })?;
    let market = Market::from_spec(spec);
    let needed: Vec<usize> =
        spec.portfolio.iter().flat_map(|t| t.instrument.underlyings()).filter_map(|id| market.index_of(id)).collect();
    historical_scenarios(csv, &market, &needed, h.return_type).map(Some).map_err(|e| format!("historical_csv: {e}"))
}
