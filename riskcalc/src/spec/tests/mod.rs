//! Tests of parsing, validation, schema and the shipped examples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use super::*;

mod instruments_and_analysis;

const BASE: &str = r#"
seed: 1
market:
  rate: 0.03
  underlyings:
    - id: SPX
      spot: 100.0
      vol: 0.2
    - id: SX5E
      spot: 50.0
      vol: 0.3
portfolio:
  - id: t0
    instrument:
      type: european
      underlying: SPX
      option: call
      strike: 100.0
      maturity: 1.0
  - id: t1
    quantity: -2
    instrument:
      type: asian
      underlying: SX5E
      option: put
      strike: 50.0
      maturity: 0.5
      fixings: 12
      average: arithmetic
      steps: 24
analysis:
  paths: 10000
"#;

const EUROPEAN: &str = include_str!("../../../../examples/european.yaml");
const EXOTICS: &str = include_str!("../../../../examples/exotics.yaml");
const VAR: &str = include_str!("../../../../examples/var.yaml");
const VAR_HISTORICAL: &str = include_str!("../../../../examples/var_historical.yaml");
const PORTFOLIO: &str = include_str!("../../../../examples/portfolio.yaml");
const RETURNS_CSV: &str = include_str!("../../../../examples/returns.csv");

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn base_with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once in BASE");
    BASE.replace(from, to)
}

/// Parses text that must be rejected, returning the errors.
fn rejected(yaml: &str) -> SpecErrors {
    match parse_yaml(yaml) {
        Ok(spec) => panic!("expected errors, parsed fine: {spec:?}"),
        Err(e) => {
            assert!(!e.is_empty());
            e
        }
    }
}

/// Asserts an error exists exactly at `path` whose reason contains every
/// one of `needles`.
#[track_caller]
fn assert_has(errors: &SpecErrors, path: &str, needles: &[&str]) {
    let found = errors.iter().any(|e| e.path == path && needles.iter().all(|n| e.reason.contains(n)));
    assert!(found, "no error at `{path}` containing {needles:?}; got:\n{errors}");
}

#[test]
fn base_is_valid() {
    let spec = parse_yaml(BASE).unwrap();
    assert_eq!(spec.seed, 1);
    assert_eq!(spec.portfolio.len(), 2);
    assert_eq!(spec.portfolio[0].quantity, 1.0, "quantity defaults to 1");
    assert_eq!(spec.analysis.block_size, 4096);
    assert_eq!(spec.analysis.calibration_paths, 32768);
    assert_eq!(spec.analysis.bumps, BumpSpec::default());
    assert!(spec.analysis.greeks.is_empty());
    assert!(spec.analysis.risk.is_none());
    assert_eq!(spec.market.underlyings[0].dividend_yield, 0.0);
}

#[test]
fn negative_vol() {
    let e = rejected(&base_with("vol: 0.2", "vol: -0.2"));
    assert_has(&e, "market.underlyings[0].vol", &["volatility", "-0.2", "(0, 5]"]);
}

#[test]
fn vol_above_five() {
    let e = rejected(&base_with("vol: 0.2", "vol: 5.5"));
    assert_has(&e, "market.underlyings[0].vol", &["5.5", "(0, 5]"]);
}

#[test]
fn zero_and_negative_maturity() {
    let e = rejected(&base_with("maturity: 1.0", "maturity: 0"));
    assert_has(&e, "portfolio[0].instrument.maturity", &["maturity", "got 0", "(0, 100]"]);
    let e = rejected(&base_with("maturity: 1.0", "maturity: -1"));
    assert_has(&e, "portfolio[0].instrument.maturity", &["got -1"]);
    let e = rejected(&base_with("maturity: 1.0", "maturity: 150"));
    assert_has(&e, "portfolio[0].instrument.maturity", &["got 150", "100"]);
}

#[test]
fn unknown_instrument_type_lists_valid_types() {
    let e = rejected(&base_with("type: european", "type: eurpean"));
    assert_eq!(e.len(), 1);
    assert_has(
        &e,
        "portfolio[0].instrument",
        &["unknown instrument type `eurpean`", "stock, european, digital, asian, barrier, basket, american, bermudan"],
    );
}

#[test]
fn missing_instrument_type() {
    let e = rejected(&base_with("      type: european\n", ""));
    assert_has(&e, "portfolio[0].instrument.type", &["missing field `type`", "european"]);
}

#[test]
fn too_many_paths() {
    let e = rejected(&base_with("paths: 10000", "paths: 1000000000000000"));
    assert_has(&e, "analysis.paths", &["1000000000000000", "limit of 1000000000000 (10^12)"]);
    assert_eq!(e.len(), 1, "no extra work-guard error: {e}");
}

#[test]
fn zero_paths() {
    let e = rejected(&base_with("paths: 10000", "paths: 0"));
    assert_has(&e, "analysis.paths", &["at least 1", "got 0"]);
}

#[test]
fn duplicate_trade_ids() {
    let e = rejected(&base_with("id: t1", "id: t0"));
    assert_has(&e, "portfolio[1].id", &["duplicate trade id `t0` (first used by portfolio[0])"]);
}

#[test]
fn duplicate_underlying_ids() {
    let e = rejected(&base_with("id: SX5E", "id: SPX"));
    assert_has(
        &e,
        "market.underlyings[1].id",
        &["duplicate underlying id `SPX` (first used by market.underlyings[0])"],
    );
}

#[test]
fn nan_strike() {
    let e = rejected(&base_with("strike: 100.0", "strike: .nan"));
    assert_has(&e, "portfolio[0].instrument.strike", &["finite", "NaN"]);
}

#[test]
fn infinite_spot() {
    let e = rejected(&base_with("spot: 100.0", "spot: .inf"));
    assert_has(&e, "market.underlyings[0].spot", &["finite", "inf"]);
    let e = rejected(&base_with("spot: 100.0", "spot: -.inf"));
    assert_has(&e, "market.underlyings[0].spot", &["finite", "-inf"]);
}

fn with_correlation(rows: &str) -> String {
    base_with("portfolio:", &format!("  correlation: {rows}\nportfolio:"))
}

#[test]
fn valid_correlation_accepted() {
    parse_yaml(&with_correlation("[[1, 0.5], [0.5, 1]]")).unwrap();
}

#[test]
fn non_psd_correlation() {
    let yaml = base_with(
        "      vol: 0.3\n",
        "      vol: 0.3\n    - id: NKY\n      spot: 30000\n      vol: 0.25\n  correlation:\n    - [1.0, 0.9, 0.9]\n    - [0.9, 1.0, -0.9]\n    - [0.9, -0.9, 1.0]\n",
    );
    let e = rejected(&yaml);
    assert_eq!(e.len(), 1, "{e}");
    assert_has(&e, "market.correlation", &["not positive semi-definite", "smallest eigenvalue is -0.8,"]);
}

#[test]
fn correlation_out_of_range() {
    let e = rejected(&with_correlation("[[1, 1.2], [1.2, 1]]"));
    assert_has(&e, "market.correlation[0][1]", &["[-1, 1]", "1.2"]);
    assert_has(&e, "market.correlation[1][0]", &["[-1, 1]", "1.2"]);
}

#[test]
fn correlation_diagonal_must_be_one() {
    let e = rejected(&with_correlation("[[0.9, 0.5], [0.5, 1]]"));
    assert_has(&e, "market.correlation[0][0]", &["exactly 1", "0.9"]);
}

#[test]
fn correlation_wrong_size() {
    let e = rejected(&with_correlation("[[1]]"));
    assert_has(&e, "market.correlation", &["expected 2x2 (one row per underlying), got 1 rows"]);
    let e = rejected(&with_correlation("[[1, 0.5], [0.5]]"));
    assert_has(&e, "market.correlation[1]", &["expected 2 entries", "got 1"]);
}

#[test]
fn correlation_asymmetric() {
    let e = rejected(&with_correlation("[[1, 0.5], [0.4, 1]]"));
    assert_has(&e, "market.correlation[1][0]", &["symmetric", "[1][0] is 0.4 but [0][1] is 0.5"]);
}

#[test]
fn unknown_underlying() {
    let e = rejected(&base_with("underlying: SPX", "underlying: FOO"));
    assert_has(&e, "portfolio[0].instrument.underlying", &["unknown underlying `FOO`; known: SPX, SX5E"]);
}

#[test]
fn steps_not_multiple_of_fixings() {
    let e = rejected(&base_with("steps: 24", "steps: 25"));
    assert_has(&e, "portfolio[1].instrument.steps", &["25 steps is not a multiple of fixings (12)", "e.g. 36"]);
}

#[test]
fn zero_fixings_and_steps() {
    let e = rejected(&base_with("fixings: 12", "fixings: 0"));
    assert_has(&e, "portfolio[1].instrument.fixings", &["at least 1", "got 0"]);
    let e = rejected(&base_with("steps: 24", "steps: 0"));
    assert_has(&e, "portfolio[1].instrument.steps", &["at least 1", "got 0"]);
    let e = rejected(&base_with("steps: 24", "steps: 100001"));
    assert_has(&e, "portfolio[1].instrument.steps", &["at most 100000", "100001"]);
}

#[test]
fn unknown_field_is_named() {
    let e = rejected(&base_with("strike: 100.0", "strik: 100.0"));
    assert_has(&e, "portfolio[0].instrument.strik", &["unknown field `strik`", "`strike`"]);
    let e = rejected(&base_with("  paths: 10000", "  paths: 10000\n  greek: [delta]"));
    assert_has(&e, "analysis.greek", &["unknown field `greek`", "`greeks`"]);
    let e = rejected(&base_with("seed: 1", "seed: 1\nseeed: 2"));
    assert_has(&e, "seeed", &["unknown field `seeed`"]);
}

#[test]
fn wrong_type_names_path() {
    let e = rejected(&base_with("strike: 50.0", "strike: fifty"));
    assert_eq!(e.len(), 1);
    assert_has(&e, "portfolio[1].instrument.strike", &["invalid type: string \"fifty\", expected f64"]);
    let e = rejected(&base_with("rate: 0.03", "rate: three"));
    assert_has(&e, "market.rate", &["invalid type", "expected f64", "line 4"]);
    let e = rejected(&base_with("paths: 10000", "paths: -5"));
    assert_has(&e, "analysis.paths", &["-5"]);
}

#[test]
fn missing_field_points_at_field() {
    let e = rejected(&base_with("      maturity: 1.0\n", ""));
    assert_has(&e, "portfolio[0].instrument.maturity", &["missing field `maturity`"]);
    let e = rejected(&base_with("seed: 1\n", ""));
    assert_has(&e, "seed", &["missing field `seed`"]);
}

#[test]
fn unknown_enum_value() {
    let e = rejected(&base_with("option: call", "option: cal"));
    assert_has(&e, "portfolio[0].instrument.option", &["unknown variant `cal`", "`call`", "`put`"]);
}

#[test]
fn empty_portfolio() {
    let start = BASE.find("portfolio:").unwrap();
    let end = BASE.find("analysis:").unwrap();
    let yaml = format!("{}portfolio: []\n{}", &BASE[..start], &BASE[end..]);
    let e = rejected(&yaml);
    assert_has(&e, "portfolio", &["at least one trade"]);
}

#[test]
fn empty_file() {
    for text in ["", "   \n\n", "# only a comment\n", "---\n"] {
        let e = rejected(text);
        assert_eq!(e.len(), 1);
        assert_has(&e, ROOT_PATH, &["the job file is empty"]);
        let e = parse_json(text).unwrap_err();
        assert_has(&e, ROOT_PATH, &["the job file is empty"]);
    }
}

#[test]
fn yaml_syntax_error() {
    let e = rejected("seed: 1\nmarket: [unclosed\n");
    assert_eq!(e.len(), 1);
    assert!(e.0[0].reason.contains("line"), "{e}");
    let e = rejected("seed: 1\n- x\n");
    assert_eq!(e.len(), 1);
    assert_has(&e, ROOT_PATH, &["line 2"]);
}

#[test]
fn multiple_errors_all_reported() {
    let yaml = BASE
        .replace("vol: 0.2", "vol: -1")
        .replace("strike: 100.0", "strike: -5")
        .replace("id: t1", "id: t0")
        .replace("underlying: SX5E", "underlying: NOPE")
        .replace("paths: 10000", "paths: 0");
    let e = rejected(&yaml);
    assert_has(&e, "market.underlyings[0].vol", &["-1"]);
    assert_has(&e, "portfolio[0].instrument.strike", &["-5"]);
    assert_has(&e, "portfolio[1].id", &["duplicate trade id"]);
    assert_has(&e, "portfolio[1].instrument.underlying", &["`NOPE`"]);
    assert_has(&e, "analysis.paths", &["got 0"]);
    assert_eq!(e.len(), 5, "{e}");
    // Display: one `path: reason` line per error.
    let text = e.to_string();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().any(|l| l.starts_with("portfolio[1].id: duplicate trade id")));
}

#[test]
fn vol_and_heston_exclusive() {
    let e = rejected(&base_with("      vol: 0.2\n", ""));
    assert_has(&e, "market.underlyings[0]", &["exactly one of `vol`", "neither"]);
    let e = rejected(&base_with(
        "vol: 0.2",
        "vol: 0.2\n      heston: {v0: 0.04, kappa: 1, theta: 0.04, xi: 0.5, rho: -0.7}",
    ));
    assert_has(&e, "market.underlyings[0]", &["both"]);
}

#[test]
fn heston_ranges() {
    let e = rejected(&base_with("vol: 0.2", "heston: {v0: -0.04, kappa: 0, theta: -1, xi: -0.5, rho: -1.5}"));
    for field in ["v0", "kappa", "theta", "xi", "rho"] {
        assert_has(&e, &format!("market.underlyings[0].heston.{field}"), &["must be"]);
    }
    assert_eq!(e.len(), 5, "{e}");
}

#[test]
fn market_ranges() {
    let e = rejected(&base_with("rate: 0.03", "rate: 3"));
    assert_has(&e, "market.rate", &["[-1, 1]", "got 3"]);
    let e = rejected(&base_with("spot: 100.0", "spot: 0\n      dividend_yield: 2"));
    assert_has(&e, "market.underlyings[0].spot", &["> 0", "got 0"]);
    assert_has(&e, "market.underlyings[0].dividend_yield", &["[-1, 1]", "got 2"]);
}

#[test]
fn quantity_zero_rejected() {
    let e = rejected(&base_with("quantity: -2", "quantity: 0"));
    assert_has(&e, "portfolio[1].quantity", &["non-zero", "got 0"]);
}
