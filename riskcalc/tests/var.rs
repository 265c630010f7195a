//! VaR / ES against the closed form of a lognormal position, and the
//! historical-scenario path against hand-computed order statistics.
#![allow(clippy::unwrap_used)]

use riskcalc::closed_form::var::{lognormal_es, lognormal_var};
use riskcalc::kernel::Isa;
use riskcalc::plan::Market;
use riskcalc::risk::scenarios::historical_scenarios;
use riskcalc::risk::{RiskJob, run_risk};
use riskcalc::spec::{ReturnType, parse_yaml};

fn stock_job(quantity: f64, count: u32, block: u32) -> String {
    format!(
        "seed: 99
market: {{rate: 0.02, underlyings: [{{id: X, spot: 100, vol: 0.3}}, {{id: Y, spot: 50, vol: 0.1}}]}}
portfolio: [{{id: pos, quantity: {quantity}, instrument: {{type: stock, underlying: X}}}}]
analysis:
  paths: 64
  risk:
    horizon_days: 10
    confidence: [0.99, 0.975]
    scenario_block: {block}
    scenarios: {{monte_carlo: {{count: {count}, drift: {{X: 0.08}}}}}}
"
    )
}

/// Losses of the job's single position, all scenarios.
fn losses(job: &RiskJob) -> Vec<f64> {
    (0..job.n_blocks()).flat_map(|b| job.block(b, Isa::detect()).pnl[0].clone()).map(|p| -p).collect()
}

#[test]
fn mc_var_and_es_of_a_lognormal_position_match_the_closed_form() {
    let n = 200_000u32;
    for quantity in [100.0, -100.0] {
        let spec = parse_yaml(&stock_job(quantity, n, 4096)).unwrap();
        let risk = spec.analysis.risk.clone().unwrap();
        let job = RiskJob::new(&spec, &risk, None, Isa::detect());
        let report = run_risk(&job, Isa::detect(), |_, _| {});
        let mut l = losses(&job);
        l.sort_by(f64::total_cmp);
        let h = 10.0 / 252.0;
        for level in &report.levels {
            let alpha = level.confidence;
            let var = lognormal_var(quantity, 100.0, 0.08, 0.3, h, alpha);
            let es = lognormal_es(quantity, 100.0, 0.08, 0.3, h, alpha);
            // Standard error of the empirical quantile: √(p(1−p)/N) / f(VaR),
            // with the loss density estimated from the sample around VaR.
            let p = 1.0 - alpha;
            let k = l.len() - level.tail_scenarios as usize;
            let width = 500;
            let density = (2 * width) as f64 / (l.len() as f64 * (l[k + width] - l[k - width]));
            let se_var = (p * (1.0 - p) / n as f64).sqrt() / density;
            assert!(
                (level.var - var).abs() < 4.0 * se_var,
                "q {quantity} α {alpha}: VaR {} vs {var} (se {se_var})",
                level.var
            );
            // ES: Var(ÊS) ≈ [Var(L | tail) + α(ES − VaR)²] / (N p).
            let tail = &l[k..];
            let m = tail.iter().sum::<f64>() / tail.len() as f64;
            let tail_var = tail.iter().map(|x| (x - m).powi(2)).sum::<f64>() / tail.len() as f64;
            let se_es = ((tail_var + alpha * (es - var).powi(2)) / (n as f64 * p)).sqrt();
            assert!(
                (level.es - es).abs() < 4.0 * se_es,
                "q {quantity} α {alpha}: ES {} vs {es} (se {se_es})",
                level.es
            );
            assert!(level.es >= level.var);
        }
    }
}

#[test]
fn risk_results_do_not_depend_on_scenario_blocks_or_threads() {
    let run = |block: u32, threads: usize| {
        let spec = parse_yaml(&stock_job(10.0, 3000, block)).unwrap();
        let risk = spec.analysis.risk.clone().unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let job = RiskJob::new(&spec, &risk, None, Isa::detect());
            run_risk(&job, Isa::detect(), |_, _| {})
        })
    };
    let reference = run(256, 1);
    for (block, threads) in [(1, 2), (7, 2), (3000, 1), (999, 4)] {
        assert_eq!(run(block, threads), reference, "block {block} threads {threads}");
    }
}

const HIST_JOB: &str = "seed: 1
market: {rate: 0.0, underlyings: [{id: A, spot: 100, vol: 0.2}, {id: B, spot: 10, vol: 0.2}]}
portfolio:
  - {id: a, quantity: 2, instrument: {type: stock, underlying: A}}
  - {id: b, quantity: -10, instrument: {type: stock, underlying: B}}
analysis:
  paths: 64
  risk: {horizon_days: 1, confidence: [0.75], scenarios: {historical: {file: r.csv, return_type: simple}}}
";

#[test]
fn historical_var_is_the_order_statistic_of_revalued_pnl() {
    let spec = parse_yaml(HIST_JOB).unwrap();
    let market = Market::from_spec(&spec);
    let csv = "A,B\n-0.10,0.00\n0.05,0.10\n-0.02,-0.05\n0.00,0.20\n0.01,0.01\n-0.05,0.03\n0.02,0.0\n0.03,-0.01\n";
    let scenarios = historical_scenarios(csv, &market, &[0, 1], ReturnType::Simple).unwrap();
    let risk = spec.analysis.risk.clone().unwrap();
    let job = RiskJob::new(&spec, &risk, Some(scenarios), Isa::Scalar);
    let report = run_risk(&job, Isa::Scalar, |_, _| {});
    // P&L = 2·100·rA − 10·10·rB per row.
    let pnl: Vec<f64> = [
        (-0.10, 0.0),
        (0.05, 0.10),
        (-0.02, -0.05),
        (0.0, 0.20),
        (0.01, 0.01),
        (-0.05, 0.03),
        (0.02, 0.0),
        (0.03, -0.01),
    ]
    .iter()
    .map(|(ra, rb)| 200.0 * ra - 100.0 * rb)
    .collect();
    let mut sorted = pnl.clone();
    sorted.sort_by(f64::total_cmp);
    // 8 scenarios, 25% tail → the 2 worst: −20 and −20.
    let level = &report.levels[0];
    assert_eq!(level.tail_scenarios, 2);
    assert!((level.var - -sorted[1]).abs() < 1e-9, "{} vs {}", level.var, -sorted[1]);
    assert!((level.es - -(sorted[0] + sorted[1]) / 2.0).abs() < 1e-9);
    let total: f64 = level.es_contributions.values().sum();
    assert!((total - level.es).abs() < 1e-9);
}

#[test]
fn historical_files_with_errors_name_the_line_and_column() {
    let spec = parse_yaml(HIST_JOB).unwrap();
    let market = Market::from_spec(&spec);
    let err = |csv: &str| historical_scenarios(csv, &market, &[0, 1], ReturnType::Log).unwrap_err().to_string();
    assert!(err("A,B\n0.1,abc\n").contains("line 2, column B"));
    assert!(err("A,C\n0.1,0.2\n").contains("unknown underlying `C`"));
    assert!(err("A\n0.1\n").contains("no column for `B`"));
    assert!(err("A,B\n").contains("no scenario rows"));
    assert!(err("A,B\n0.1,inf\n").contains("not a plausible"));
    assert!(err("A,B\n0.1\n").contains("line 2"));
}
