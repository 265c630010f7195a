//! Human-readable tables.

use crate::run::RunOutput;
use std::fmt::Write;

fn fmt_num(x: f64) -> String {
    if x == 0.0 || (1e-4..1e7).contains(&x.abs()) { format!("{x:.6}") } else { format!("{x:.4e}") }
}

pub fn render(out: &RunOutput) -> String {
    let mut s = String::new();
    let p = &out.pricing;
    let name = out.job.name.as_deref().unwrap_or("(unnamed job)");
    // Grid results were computed by however many workers took part: no thread count.
    let place = if out.job.threads == 0 {
        format!("on the {}", out.job.isa)
    } else {
        format!("{} on {} threads", out.job.isa, out.job.threads)
    };
    let _ = writeln!(
        s,
        "{name}: {} paths x {} trades, seed {}, {place}, {:.2} s",
        p.paths,
        p.trades.len(),
        out.job.seed,
        out.seconds
    );
    let _ = writeln!(s);
    let w = p.trades.iter().map(|t| t.id.chars().count()).max().unwrap_or(0).max(5);
    let _ = writeln!(
        s,
        "{:<w$} {:<9} {:>10} {:>14} {:>12}  greeks (per unit)",
        "trade", "type", "quantity", "price", "std_error"
    );
    for t in &p.trades {
        let greeks: Vec<String> = t.greeks.iter().map(|(k, e)| format!("{k}={}", fmt_num(e.value))).collect();
        let _ = writeln!(
            s,
            "{:<w$} {:<9} {:>10} {:>14} {:>12}  {}",
            t.id,
            t.kind,
            t.quantity,
            fmt_num(t.price),
            fmt_num(t.std_error),
            greeks.join(" ")
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "portfolio value {} ± {} (95% CI)",
        fmt_num(p.portfolio.value),
        fmt_num(1.96 * p.portfolio.std_error)
    );
    for (k, e) in &p.portfolio.greeks {
        let _ = writeln!(s, "  {k:<14} {:>14} ± {}", fmt_num(e.value), fmt_num(1.96 * e.std_error));
    }
    if let Some(r) = &out.risk {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "risk: {} {} scenarios, {}-day horizon; P&L mean {} sd {}",
            r.scenarios,
            r.source,
            r.horizon_days,
            fmt_num(r.pnl.mean),
            fmt_num(r.pnl.std_dev)
        );
        let _ = writeln!(s, "{:>10} {:>14} {:>14}  ES contributions", "confidence", "VaR", "ES");
        for l in &r.levels {
            let contrib: Vec<String> = l.es_contributions.iter().map(|(k, v)| format!("{k}={}", fmt_num(*v))).collect();
            let _ =
                writeln!(s, "{:>10} {:>14} {:>14}  {}", l.confidence, fmt_num(l.var), fmt_num(l.es), contrib.join(" "));
        }
    }
    s
}
