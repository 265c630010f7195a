//! The portfolio: trade ids, references, instrument terms.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Validator {
    pub(super) fn portfolio(&mut self, trades: &[TradeSpec], known: &Known<'_>) {
        if trades.is_empty() {
            self.push("portfolio", "must contain at least one trade, got none");
        } else if trades.len() > limits::MAX_TRADES {
            self.push(
                "portfolio",
                format!("too many trades: got {}, the limit is {}", trades.len(), limits::MAX_TRADES),
            );
        }
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, t) in trades.iter().enumerate() {
            let p = format!("portfolio[{i}]");
            if t.id.trim().is_empty() {
                self.push(format!("{p}.id"), "trade id must not be empty");
            } else if let Some(j) = first.get(t.id.as_str()) {
                self.push(format!("{p}.id"), format!("duplicate trade id `{}` (first used by portfolio[{j}])", t.id));
            } else {
                first.insert(t.id.as_str(), i);
            }
            if !t.quantity.is_finite() || t.quantity == 0.0 {
                self.push(
                    format!("{p}.quantity"),
                    format!("quantity must be a finite non-zero number (negative for short), got {}", t.quantity),
                );
            }
            self.instrument(&format!("{p}.instrument"), &t.instrument, known);
        }
    }

    pub(super) fn underlying(&mut self, path: &str, id: &str, known: &Known<'_>) {
        if !known.contains(id) {
            self.push(path, known.unknown(id));
        }
    }

    pub(super) fn instrument(&mut self, p: &str, inst: &InstrumentSpec, known: &Known<'_>) {
        if let Some(strike) = inst.strike() {
            self.real(&format!("{p}.strike"), "strike", strike, Lo::Gt(0.0), Hi::Any);
        }
        if let Some(maturity) = inst.maturity() {
            self.real(
                &format!("{p}.maturity"),
                "maturity (years)",
                maturity,
                Lo::Gt(0.0),
                Hi::Le(limits::MAX_MATURITY),
            );
        }
        let max_steps = u64::from(limits::MAX_STEPS);
        let obs_ok = match inst.observations() {
            Some((name, count)) => {
                let what = match name {
                    "fixings" => "number of fixings",
                    "monitoring" => "number of barrier monitoring dates",
                    _ => "number of exercise dates",
                };
                self.count(&format!("{p}.{name}"), what, u64::from(count), 1, max_steps).then_some((name, count))
            }
            None => None,
        };
        let steps_ok = inst
            .steps()
            .filter(|&steps| self.count(&format!("{p}.steps"), "number of time steps", u64::from(steps), 1, max_steps));
        let misaligned = match (steps_ok, obs_ok) {
            (Some(steps), Some((name, count))) if steps % count != 0 => Some((steps, name, count)),
            _ => None,
        };
        if let Some((steps, name, count)) = misaligned {
            let up = steps.div_ceil(count).saturating_mul(count);
            let hint = if up <= limits::MAX_STEPS { format!(" (e.g. {up})") } else { String::new() };
            self.push(
                format!("{p}.steps"),
                format!(
                    "{steps} steps is not a multiple of {name} ({count}); steps must be a \
                     multiple of {name} so that every observation date falls on a time step{hint}"
                ),
            );
        }
        self.instrument_fields(p, inst, known);
    }

    /// Checks of the fields specific to each instrument type.
    pub(super) fn instrument_fields(&mut self, p: &str, inst: &InstrumentSpec, known: &Known<'_>) {
        match inst {
            InstrumentSpec::Stock(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::European(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Digital(s) => {
                self.underlying(&format!("{p}.underlying"), &s.underlying, known);
                self.real(&format!("{p}.cash"), "cash amount", s.cash, Lo::Gt(0.0), Hi::Any);
            }
            InstrumentSpec::Asian(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Barrier(s) => {
                self.underlying(&format!("{p}.underlying"), &s.underlying, known);
                self.real(&format!("{p}.barrier"), "barrier level", s.barrier, Lo::Gt(0.0), Hi::Any);
            }
            InstrumentSpec::American(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Bermudan(s) => self.underlying(&format!("{p}.underlying"), &s.underlying, known),
            InstrumentSpec::Basket(b) => {
                let n = b.underlyings.len();
                if n == 0 {
                    self.push(format!("{p}.underlyings"), "a basket needs at least one underlying, got none");
                } else if n > limits::MAX_ASSETS_PER_TRADE {
                    self.push(
                        format!("{p}.underlyings"),
                        format!(
                            "too many underlyings in one basket: got {n}, the limit is {}",
                            limits::MAX_ASSETS_PER_TRADE
                        ),
                    );
                }
                let mut first: HashMap<&str, usize> = HashMap::new();
                for (k, id) in b.underlyings.iter().enumerate() {
                    let path = format!("{p}.underlyings[{k}]");
                    if let Some(j) = first.get(id.as_str()) {
                        self.push(path, format!("duplicate underlying `{id}` in basket (already at underlyings[{j}])"));
                    } else {
                        first.insert(id.as_str(), k);
                        self.underlying(&path, id, known);
                    }
                }
                if b.weights.len() != n {
                    self.push(
                        format!("{p}.weights"),
                        format!("expected {n} weights (one per underlying), got {}", b.weights.len()),
                    );
                }
                let mut all_finite = true;
                for (k, &w) in b.weights.iter().enumerate() {
                    if !w.is_finite() {
                        self.push(format!("{p}.weights[{k}]"), format!("weight must be a finite number, got {w}"));
                        all_finite = false;
                    }
                }
                let sum: f64 = b.weights.iter().sum();
                if all_finite && !b.weights.is_empty() && sum <= 0.0 {
                    self.push(format!("{p}.weights"), format!("weights must have a positive sum, got {sum}"));
                }
            }
        }
    }
}
