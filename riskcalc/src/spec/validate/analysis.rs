//! The analysis section: paths, blocks, Greeks, bumps, risk, work limits.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Validator {
    pub(super) fn analysis(&mut self, a: &AnalysisSpec, trades: &[TradeSpec], known: &Known<'_>) {
        let paths_ok = if a.paths > limits::MAX_PATHS {
            self.push(
                "analysis.paths",
                format!("{} paths exceeds the limit of {} (10^12) paths", a.paths, limits::MAX_PATHS),
            );
            false
        } else {
            self.count("analysis.paths", "number of paths", a.paths, 1, limits::MAX_PATHS)
        };

        let bs = a.block_size;
        if !(limits::MIN_BLOCK_SIZE..=limits::MAX_BLOCK_SIZE).contains(&bs)
            || !bs.is_multiple_of(limits::BLOCK_SIZE_MULTIPLE)
        {
            self.push(
                "analysis.block_size",
                format!(
                    "block size must be between {} and {} and a multiple of {}, got {bs}",
                    limits::MIN_BLOCK_SIZE,
                    limits::MAX_BLOCK_SIZE,
                    limits::BLOCK_SIZE_MULTIPLE
                ),
            );
        }

        let mut seen: HashMap<Greek, usize> = HashMap::new();
        for (i, g) in a.greeks.iter().enumerate() {
            if let Some(j) = seen.get(g) {
                self.push(
                    format!("analysis.greeks[{i}]"),
                    format!("duplicate greek `{}` (already at greeks[{j}])", greek_name(*g)),
                );
            } else {
                seen.insert(*g, i);
            }
        }

        let shortest = shortest_maturity(trades);
        let b = &a.bumps;
        self.real("analysis.bumps.spot_rel", "relative spot bump", b.spot_rel, Lo::Gt(0.0), Hi::Lt(0.5));
        self.real("analysis.bumps.vol_abs", "absolute volatility bump", b.vol_abs, Lo::Gt(0.0), Hi::Lt(1.0));
        self.real("analysis.bumps.rate_abs", "absolute rate bump", b.rate_abs, Lo::Gt(0.0), Hi::Lt(0.1));
        let theta_ok = self.real(
            "analysis.bumps.theta_days",
            "theta roll (calendar days)",
            b.theta_days,
            Lo::Gt(0.0),
            Hi::Lt(30.0),
        );
        let too_long = shortest.filter(|&(_, m)| {
            theta_ok && seen.contains_key(&Greek::Theta) && b.theta_days / limits::CALENDAR_DAYS_PER_YEAR >= m
        });
        if let Some((k, m)) = too_long {
            self.push(
                "analysis.bumps.theta_days",
                format!(
                    "theta roll of {} calendar days is not shorter than the maturity of \
                     portfolio[{k}] (`{}`, {m} years = {:.2} days); it must be shorter than every maturity",
                    b.theta_days,
                    trades[k].id,
                    m * limits::CALENDAR_DAYS_PER_YEAR
                ),
            );
        }

        self.count(
            "analysis.calibration_paths",
            "number of calibration paths",
            u64::from(a.calibration_paths),
            u64::from(limits::MIN_CALIBRATION_PATHS),
            u64::from(limits::MAX_CALIBRATION_PATHS),
        );
        if let Some(se) = a.target_std_error {
            self.real("analysis.target_std_error", "target standard error", se, Lo::Gt(0.0), Hi::Any);
        }

        let per_path = work_per_path(trades);
        if paths_ok {
            let work = u128::from(a.paths).saturating_mul(per_path);
            if work > limits::MAX_WORK {
                self.push(
                    "analysis.paths",
                    format!(
                        "estimated work of {} paths x {per_path} (sum over trades of time steps x assets) \
                         = {:.3e} path-steps exceeds the limit of {:e}; reduce paths or time steps",
                        a.paths,
                        work as f64,
                        limits::MAX_WORK as f64
                    ),
                );
            }
        }

        if let Some(r) = &a.risk {
            self.risk(r, trades, known, shortest, per_path);
        }
    }

    pub(super) fn risk(
        &mut self,
        r: &RiskSpec,
        trades: &[TradeSpec],
        known: &Known<'_>,
        shortest: Option<(usize, f64)>,
        per_path: u128,
    ) {
        let horizon_ok = self.real(
            "analysis.risk.horizon_days",
            "risk horizon (trading days)",
            r.horizon_days,
            Lo::Gt(0.0),
            Hi::Le(limits::MAX_HORIZON_DAYS),
        );
        if let Some((k, m)) = shortest.filter(|_| horizon_ok) {
            let years = r.horizon_days / limits::TRADING_DAYS_PER_YEAR;
            if years >= m {
                self.push(
                    "analysis.risk.horizon_days",
                    format!(
                        "horizon of {} trading days ({years:.4} years) is not shorter than the \
                         maturity of portfolio[{k}] (`{}`, {m} years); every option must outlive the horizon",
                        r.horizon_days, trades[k].id
                    ),
                );
            }
        }

        if r.confidence.is_empty() {
            self.push("analysis.risk.confidence", "at least one confidence level is required (e.g. [0.99]), got none");
        }
        let mut seen: Vec<(f64, usize)> = Vec::new();
        for (i, &c) in r.confidence.iter().enumerate() {
            let p = format!("analysis.risk.confidence[{i}]");
            if !self.real(&p, "confidence level", c, Lo::Gt(0.5), Hi::Lt(1.0)) {
                continue;
            }
            if let Some((_, j)) = seen.iter().find(|(x, _)| *x == c) {
                self.push(p, format!("duplicate confidence level {c} (already at confidence[{j}])"));
            } else {
                seen.push((c, i));
            }
        }

        match &r.scenarios {
            ScenarioSpec::MonteCarlo(mc) => {
                let p = "analysis.risk.scenarios.monte_carlo";
                let count_ok = self.count(
                    &format!("{p}.count"),
                    "number of scenarios",
                    u64::from(mc.count),
                    1,
                    u64::from(limits::MAX_SCENARIOS),
                );
                self.real(&format!("{p}.vol_of_vol"), "vol of vol", mc.vol_of_vol, Lo::Ge(0.0), Hi::Any);
                for (id, &drift) in &mc.drift {
                    let path = format!("{p}.drift.{id}");
                    if !known.contains(id) {
                        self.push(path, known.unknown(id));
                    } else if !drift.is_finite() {
                        self.push(path, format!("drift must be a finite number, got {drift}"));
                    }
                }
                let inner_ok = (1..=limits::MAX_INNER_PATHS).contains(&r.inner_paths);
                if count_ok && inner_ok {
                    let work = u128::from(mc.count).saturating_mul(u128::from(r.inner_paths)).saturating_mul(per_path);
                    if work > limits::MAX_WORK {
                        self.push(
                            "analysis.risk.inner_paths",
                            format!(
                                "estimated risk work of {} scenarios x {} inner paths x {per_path} \
                                 (sum over trades of time steps x assets) = {:.3e} path-steps exceeds \
                                 the limit of {:e}; reduce scenarios, inner paths or time steps",
                                mc.count,
                                r.inner_paths,
                                work as f64,
                                limits::MAX_WORK as f64
                            ),
                        );
                    }
                }
            }
            ScenarioSpec::Historical(h) => {
                if h.file.trim().is_empty() {
                    self.push(
                        "analysis.risk.scenarios.historical.file",
                        "file must name a CSV file of returns (relative to the job file), got an empty string",
                    );
                }
            }
        }

        self.count(
            "analysis.risk.inner_paths",
            "number of inner paths",
            u64::from(r.inner_paths),
            1,
            u64::from(limits::MAX_INNER_PATHS),
        );
        self.count(
            "analysis.risk.scenario_block",
            "scenario block size",
            u64::from(r.scenario_block),
            1,
            u64::from(limits::MAX_SCENARIO_BLOCK),
        );
    }
}
