//! Instrument, analysis and risk rules; the example files; the schema; fuzzing.

#[allow(clippy::wildcard_imports)]
use super::*;

const ALL_TYPES: &str = r#"
seed: 3
market:
  rate: 0.0
  underlyings:
    - {id: A, spot: 10, vol: 0.2}
    - {id: B, spot: 20, vol: 0.2}
portfolio:
  - {id: s, instrument: {type: stock, underlying: A}}
  - {id: d, instrument: {type: digital, underlying: A, option: put, strike: 10, maturity: 1}}
  - id: b
    instrument: {type: barrier, underlying: A, option: call, strike: 10, maturity: 1,
                 barrier: 12, direction: up, knock: in, monitoring: 10, steps: 20}
  - {id: k, instrument: {type: basket, underlyings: [A, B], weights: [1, 0.5], option: call, strike: 20, maturity: 1}}
  - {id: am, instrument: {type: american, underlying: B, option: put, strike: 20, maturity: 1}}
  - {id: be, instrument: {type: bermudan, underlying: B, option: put, strike: 20, maturity: 1, exercise_dates: 4}}
analysis:
  paths: 1000
"#;

#[test]
fn all_instrument_types_and_helpers() {
    let spec = parse_yaml(ALL_TYPES).unwrap();
    let kinds: Vec<_> = spec.portfolio.iter().map(|t| t.instrument.kind_name()).collect();
    assert_eq!(kinds, ["stock", "digital", "barrier", "basket", "american", "bermudan"]);
    let p = &spec.portfolio;
    assert_eq!(p[0].instrument.maturity(), None);
    assert_eq!(p[0].instrument.option(), None);
    assert_eq!(p[0].instrument.strike(), None);
    assert_eq!(p[0].instrument.underlyings(), ["A"]);
    assert_eq!(p[1].instrument.option(), Some(OptionKind::Put));
    assert_eq!(p[1].instrument.strike(), Some(10.0));
    assert_eq!(p[1].instrument.maturity(), Some(1.0));
    match &p[1].instrument {
        InstrumentSpec::Digital(d) => assert_eq!(d.cash, 1.0, "cash defaults to 1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p[3].instrument.underlyings(), ["A", "B"]);
    match &p[3].instrument {
        InstrumentSpec::Basket(b) => assert_eq!(b.average, Average::Arithmetic),
        other => panic!("{other:?}"),
    }
    match &p[4].instrument {
        InstrumentSpec::American(a) => assert_eq!(a.exercise_dates, 50),
        other => panic!("{other:?}"),
    }
    assert_eq!(p[2].instrument.simulation_steps(), 20);
    assert_eq!(p[4].instrument.simulation_steps(), 50);
    assert_eq!(p[3].instrument.simulation_steps(), 1);
    assert_eq!(p[2].instrument.observations(), Some(("monitoring", 10)));
}

#[test]
fn instrument_specific_rules() {
    let yaml = ALL_TYPES
        .replace("maturity: 1}}\n  - id: b", "maturity: 1, cash: 0}}\n  - id: b")
        .replace("barrier: 12", "barrier: -12")
        .replace("steps: 20", "steps: 15")
        .replace("underlyings: [A, B], weights: [1, 0.5]", "underlyings: [A, A, C], weights: [1, -2]")
        .replace("exercise_dates: 4", "exercise_dates: 0");
    let e = rejected(&yaml);
    assert_has(&e, "portfolio[1].instrument.cash", &["> 0", "got 0"]);
    assert_has(&e, "portfolio[2].instrument.barrier", &["> 0", "-12"]);
    assert_has(&e, "portfolio[2].instrument.steps", &["not a multiple of monitoring (10)"]);
    assert_has(&e, "portfolio[3].instrument.underlyings[1]", &["duplicate underlying `A`"]);
    assert_has(&e, "portfolio[3].instrument.underlyings[2]", &["unknown underlying `C`"]);
    assert_has(&e, "portfolio[3].instrument.weights", &["expected 3 weights", "got 2"]);
    assert_has(&e, "portfolio[3].instrument.weights", &["positive sum", "-1"]);
    assert_has(&e, "portfolio[5].instrument.exercise_dates", &["at least 1", "got 0"]);
    assert_eq!(e.len(), 8, "{e}");
}

#[test]
fn basket_asset_limit() {
    let ids: Vec<String> = (0..65).map(|i| format!("U{i}")).collect();
    let underlyings: String = ids.iter().map(|id| format!("    - {{id: {id}, spot: 1, vol: 0.1}}\n")).collect();
    let weights = vec!["1"; 65].join(", ");
    let yaml = format!(
        "seed: 0\nmarket:\n  rate: 0\n  underlyings:\n{underlyings}portfolio:\n  - id: k\n    instrument: {{type: basket, underlyings: [{}], weights: [{weights}], option: call, strike: 1, maturity: 1}}\nanalysis:\n  paths: 100\n",
        ids.join(", ")
    );
    let e = rejected(&yaml);
    assert_has(&e, "portfolio[0].instrument.underlyings", &["got 65", "limit is 64"]);
}

#[test]
fn analysis_rules() {
    let yaml = base_with(
        "  paths: 10000",
        "  paths: 10000\n  block_size: 100\n  greeks: [delta, vega, delta]\n  calibration_paths: 10\n  target_std_error: 0\n  bumps: {spot_rel: 0.5, vol_abs: 0, rate_abs: .nan, theta_days: 31}",
    );
    let e = rejected(&yaml);
    assert_has(&e, "analysis.block_size", &["between 64 and 1048576", "multiple of 8", "got 100"]);
    assert_has(&e, "analysis.greeks[2]", &["duplicate greek `delta` (already at greeks[0])"]);
    assert_has(&e, "analysis.calibration_paths", &["at least 1024", "got 10"]);
    assert_has(&e, "analysis.target_std_error", &["> 0", "got 0"]);
    assert_has(&e, "analysis.bumps.spot_rel", &["(0, 0.5)", "got 0.5"]);
    assert_has(&e, "analysis.bumps.vol_abs", &["got 0"]);
    assert_has(&e, "analysis.bumps.rate_abs", &["finite", "NaN"]);
    assert_has(&e, "analysis.bumps.theta_days", &["(0, 30)", "got 31"]);
    assert_eq!(e.len(), 8, "{e}");
}

#[test]
fn block_size_multiple_of_eight() {
    parse_yaml(&base_with("  paths: 10000", "  paths: 10000\n  block_size: 64")).unwrap();
    let e = rejected(&base_with("  paths: 10000", "  paths: 10000\n  block_size: 1028"));
    assert_has(&e, "analysis.block_size", &["got 1028"]);
}

#[test]
fn theta_roll_must_be_shorter_than_maturities() {
    let short = base_with("maturity: 0.5", "maturity: 0.01");
    // Without theta requested the roll is not used, so not checked.
    parse_yaml(&short.replace("  paths: 10000", "  paths: 10000\n  bumps: {theta_days: 5}")).unwrap();
    let e = rejected(&short.replace("  paths: 10000", "  paths: 10000\n  greeks: [theta]\n  bumps: {theta_days: 5}"));
    assert_has(&e, "analysis.bumps.theta_days", &["5 calendar days", "portfolio[1]", "`t1`", "0.01 years"]);
}

#[test]
fn work_guard() {
    // 10^12 paths x (1 + 100000) steps > 10^16.
    let yaml = base_with("paths: 10000", "paths: 1000000000000")
        .replace("fixings: 12", "fixings: 100000")
        .replace("steps: 24", "steps: 100000");
    let e = rejected(&yaml);
    assert_has(&e, "analysis.paths", &["estimated work", "1.000e17", "limit of 1e16"]);
}

fn with_risk(risk: &str) -> String {
    format!("{BASE}  risk:\n{risk}")
}

const RISK_OK: &str = "    horizon_days: 10\n    confidence: [0.99, 0.975]\n    scenarios:\n      monte_carlo: {count: 1000, vol_of_vol: 0.3, drift: {SPX: 0.05}}\n";

#[test]
fn risk_section_parses_with_defaults() {
    let spec = parse_yaml(&with_risk(RISK_OK)).unwrap();
    let risk = spec.analysis.risk.unwrap();
    assert_eq!(risk.inner_paths, 1000);
    assert_eq!(risk.scenario_block, 256);
    match risk.scenarios {
        ScenarioSpec::MonteCarlo(mc) => {
            assert_eq!(mc.count, 1000);
            assert_eq!(mc.drift.get("SPX"), Some(&0.05));
        }
        other => panic!("{other:?}"),
    }
    let spec = parse_yaml(&with_risk(
        "    horizon_days: 1\n    confidence: [0.95]\n    scenarios: {historical: {file: r.csv}}\n",
    ))
    .unwrap();
    match spec.analysis.risk.unwrap().scenarios {
        ScenarioSpec::Historical(h) => assert_eq!(h.return_type, ReturnType::Log),
        other => panic!("{other:?}"),
    }
}

#[test]
fn risk_rules() {
    let e = rejected(&with_risk(
        "    horizon_days: 0\n    confidence: [0.5, 0.99, 1.0, 0.99]\n    scenarios:\n      monte_carlo: {count: 0, vol_of_vol: -1, drift: {FOO: 0.1}}\n    inner_paths: 0\n    scenario_block: 70000\n",
    ));
    assert_has(&e, "analysis.risk.horizon_days", &["(0, 1260]", "got 0"]);
    assert_has(&e, "analysis.risk.confidence[0]", &["(0.5, 1)", "got 0.5"]);
    assert_has(&e, "analysis.risk.confidence[2]", &["got 1"]);
    assert_has(&e, "analysis.risk.confidence[3]", &["duplicate confidence level 0.99 (already at confidence[1])"]);
    assert_has(&e, "analysis.risk.scenarios.monte_carlo.count", &["at least 1"]);
    assert_has(&e, "analysis.risk.scenarios.monte_carlo.vol_of_vol", &[">= 0", "got -1"]);
    assert_has(&e, "analysis.risk.scenarios.monte_carlo.drift.FOO", &["unknown underlying `FOO`"]);
    assert_has(&e, "analysis.risk.inner_paths", &["at least 1"]);
    assert_has(&e, "analysis.risk.scenario_block", &["at most 65536", "70000"]);
    assert_eq!(e.len(), 9, "{e}");

    let e =
        rejected(&with_risk("    horizon_days: 10\n    confidence: []\n    scenarios: {historical: {file: ' '}}\n"));
    assert_has(&e, "analysis.risk.confidence", &["at least one"]);
    assert_has(&e, "analysis.risk.scenarios.historical.file", &["empty"]);
}

#[test]
fn risk_horizon_shorter_than_maturities() {
    let e = rejected(&with_risk(&RISK_OK.replace("horizon_days: 10", "horizon_days: 200")));
    assert_has(&e, "analysis.risk.horizon_days", &["200 trading days", "portfolio[1]", "`t1`", "0.5 years"]);
}

#[test]
fn risk_type_errors_name_path() {
    let e = rejected(&with_risk(&RISK_OK.replace("count: 1000", "count: many")));
    assert_has(&e, "analysis.risk.scenarios.monte_carlo.count", &["invalid type"]);
    let e = rejected(&with_risk(&RISK_OK.replace("monte_carlo:", "montecarlo:")));
    assert_has(
        &e,
        "analysis.risk.scenarios.montecarlo",
        &["unknown variant `montecarlo`", "monte_carlo", "historical"],
    );
}

#[test]
fn examples_parse_and_validate() {
    for (name, text) in [
        ("european", EUROPEAN),
        ("exotics", EXOTICS),
        ("var", VAR),
        ("var_historical", VAR_HISTORICAL),
        ("portfolio", PORTFOLIO),
    ] {
        if let Err(e) = parse_yaml(text) {
            panic!("examples/{name}.yaml: {e}");
        }
    }
    let european = parse_yaml(EUROPEAN).unwrap();
    assert_eq!(european.analysis.paths, 1_000_000);
    assert_eq!(european.analysis.greeks.len(), 5);

    let exotics = parse_yaml(EXOTICS).unwrap();
    assert_eq!(exotics.market.underlyings.len(), 3);
    assert!(exotics.market.underlyings.iter().any(|u| u.heston.is_some()));
    let kinds: std::collections::BTreeSet<_> = exotics.portfolio.iter().map(|t| t.instrument.kind_name()).collect();
    for kind in ["asian", "barrier", "basket", "american", "digital"] {
        assert!(kinds.contains(kind), "exotics.yaml lacks {kind}");
    }

    let portfolio = parse_yaml(PORTFOLIO).unwrap();
    assert_eq!(portfolio.analysis.paths, 400_000);
    assert!(portfolio.analysis.risk.is_some());
}

#[test]
fn historical_example_csv_matches() {
    let spec = parse_yaml(VAR_HISTORICAL).unwrap();
    let job = std::path::Path::new("examples/var_historical.yaml");
    assert_eq!(spec.historical_file_path(job), Some(std::path::PathBuf::from("examples/returns.csv")));
    let mut lines = RETURNS_CSV.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let ids: Vec<&str> = spec.market.underlyings.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(header, ids);
    let mut rows = 0;
    for line in lines {
        let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), ids.len());
        assert!(values.iter().all(|v| v.abs() < 0.3));
        rows += 1;
    }
    assert!((200..=300).contains(&rows), "{rows} rows");
}

#[test]
fn json_parsing_and_round_trip() {
    for text in [EUROPEAN, EXOTICS, VAR, VAR_HISTORICAL, PORTFOLIO, ALL_TYPES] {
        let spec = parse_yaml(text).unwrap();
        let json = serde_json::to_string_pretty(&spec).unwrap();
        assert_eq!(parse_json(&json).unwrap(), spec);
        // JSON is YAML, too.
        assert_eq!(parse_yaml(&json).unwrap(), spec);
        let yaml = serde_yaml::to_string(&spec).unwrap();
        assert_eq!(parse_yaml(&yaml).unwrap(), spec, "{yaml}");
    }
    // Scenarios serialize as a one-key mapping, not a YAML tag.
    let yaml = serde_yaml::to_string(&parse_yaml(VAR).unwrap()).unwrap();
    assert!(yaml.contains("monte_carlo:"), "{yaml}");
    assert!(!yaml.contains('!'), "{yaml}");
}

#[test]
fn json_errors() {
    let spec = parse_yaml(BASE).unwrap();
    let mut value = serde_json::to_value(&spec).unwrap();
    value["portfolio"][1]["instrument"]["strike"] = serde_json::json!("abc");
    let e = parse_json(&value.to_string()).unwrap_err();
    assert_has(&e, "portfolio[1].instrument.strike", &["invalid type: string \"abc\", expected f64"]);
    let e = parse_json(&format!("{} trailing", serde_json::to_string(&spec).unwrap())).unwrap_err();
    assert_has(&e, ROOT_PATH, &["trailing characters"]);
}

#[test]
fn parse_named_picks_the_format_by_extension() {
    let spec = parse_named("job.yaml", BASE).unwrap();
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(parse_named("job.JSON", &json).unwrap(), spec);
    // JSON is also YAML, but YAML is not JSON: a .json name must be strict.
    let e = parse_named("job.json", BASE).unwrap_err();
    assert!(!e.is_empty());
}

#[test]
fn json_schema_describes_the_format() {
    let schema = json_schema();
    assert!(schema.is_object());
    let text = schema.to_string();
    for needle in ["portfolio", "market", "analysis", "horizon_days", "monte_carlo"] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
    for kind in InstrumentSpec::TYPE_NAMES {
        assert!(text.contains(&format!("\"{kind}\"")), "schema lacks instrument type {kind}");
    }
    // Doc comments become descriptions.
    assert!(text.contains("Flat, continuously compounded risk-free rate"));
}

#[test]
fn display_format() {
    let e = SpecErrors(vec![FieldError::new("a.b", "bad"), FieldError::new("c[0]", "worse")]);
    assert_eq!(e.to_string(), "a.b: bad\nc[0]: worse");
}

#[test]
fn limits_are_consistent() {
    assert_eq!(limits::MAX_PATHS, 1_000_000_000_000);
    assert_eq!(limits::MAX_WORK, 10u128.pow(16));
}

/// Edits that make a valid job file subtly (or grossly) broken.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteByte(usize),
    InsertByte(usize, u8),
    ReplaceByte(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceToken(usize, &'static str),
    Truncate(usize),
}

const TOKENS: &[&str] = &[
    ".nan",
    ".inf",
    "-.inf",
    "-1",
    "0",
    "1e308",
    "18446744073709551616",
    "~",
    "[]",
    "{}",
    "\"x\"",
    "'",
    "[",
    "{",
    ":",
    "- ",
    "&a",
    "*a",
    "!tag",
    "type: basket",
    "\t",
    "true",
    "999999999999999999999",
    "-0.0",
    "0x10",
    "1_000",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteByte),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::ReplaceByte(i, b)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::ReplaceToken(i, t)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let n = bytes.len().max(1);
    match *m {
        Mutation::DeleteByte(i) => {
            if !bytes.is_empty() {
                bytes.remove(i % bytes.len());
            }
        }
        Mutation::InsertByte(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::ReplaceByte(i, b) => {
            if !bytes.is_empty() {
                let k = i % bytes.len();
                bytes[k] = b;
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let s = String::from_utf8_lossy(&bytes).into_owned();
            let mut lines: Vec<&str> = s.lines().collect();
            if !lines.is_empty() {
                let k = i % lines.len();
                if matches!(m, Mutation::DeleteLine(_)) {
                    lines.remove(k);
                } else {
                    lines.insert(k, lines[k]);
                }
            }
            return lines.join("\n");
        }
        Mutation::ReplaceToken(i, token) => {
            // Replace the value after the i-th `: ` (or the i-th word).
            let s = String::from_utf8_lossy(&bytes).into_owned();
            let spots: Vec<usize> = s.match_indices(": ").map(|(k, _)| k + 2).collect();
            if spots.is_empty() {
                return s;
            }
            let start = spots[i % spots.len()];
            let end = s[start..].find(['\n', ',', '}', ']']).map_or(s.len(), |k| start + k);
            return format!("{}{}{}", &s[..start], token, &s[end..]);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let _ = parse_yaml(&text);
        let _ = parse_json(&text);
    }

    #[test]
    fn yaml_like_strings_never_panic(text in "[a-z_: \\-\\[\\]{},.0-9\n#'\"!&*]{0,200}") {
        let _ = parse_yaml(&text);
    }

    #[test]
    fn mutated_examples_never_panic(
        base in prop::sample::select(vec![BASE, ALL_TYPES, EXOTICS, VAR, PORTFOLIO]),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut text = base.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        // Ok or Err are both fine; only a panic fails.
        if let Err(e) = parse_yaml(&text) {
            prop_assert!(!e.is_empty());
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = parse_json(&text);
    }
}
