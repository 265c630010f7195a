//! Market data: rates, underlyings, Heston parameters, correlation.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Validator {
    pub(super) fn market(&mut self, m: &MarketSpec) {
        self.real("market.rate", "rate", m.rate, Lo::Ge(-1.0), Hi::Le(1.0));

        let n = m.underlyings.len();
        if n == 0 {
            self.push("market.underlyings", "at least one underlying is required, got none");
        } else if n > limits::MAX_UNDERLYINGS {
            self.push(
                "market.underlyings",
                format!("too many underlyings: got {n}, the limit is {}", limits::MAX_UNDERLYINGS),
            );
        }

        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, u) in m.underlyings.iter().enumerate() {
            let p = format!("market.underlyings[{i}]");
            if u.id.trim().is_empty() {
                self.push(format!("{p}.id"), "underlying id must not be empty");
            } else if let Some(j) = first.get(u.id.as_str()) {
                self.push(
                    format!("{p}.id"),
                    format!("duplicate underlying id `{}` (first used by market.underlyings[{j}])", u.id),
                );
            } else {
                first.insert(u.id.as_str(), i);
            }
            self.real(&format!("{p}.spot"), "spot", u.spot, Lo::Gt(0.0), Hi::Any);
            self.real(&format!("{p}.dividend_yield"), "dividend yield", u.dividend_yield, Lo::Ge(-1.0), Hi::Le(1.0));
            match (u.vol, &u.heston) {
                (Some(vol), None) => {
                    self.real(&format!("{p}.vol"), "volatility (annualised, 0.2 = 20%)", vol, Lo::Gt(0.0), Hi::Le(5.0));
                }
                (None, Some(h)) => self.heston(&format!("{p}.heston"), h),
                (None, None) => {
                    self.push(p, "no volatility model: give exactly one of `vol` (GBM) or `heston`, got neither")
                }
                (Some(_), Some(_)) => {
                    self.push(p, "conflicting volatility models: give exactly one of `vol` (GBM) or `heston`, got both")
                }
            }
        }

        if let Some(c) = &m.correlation {
            self.correlation(c, n);
        }
    }

    pub(super) fn heston(&mut self, p: &str, h: &HestonSpec) {
        self.real(&format!("{p}.v0"), "initial variance v0", h.v0, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.kappa"), "mean-reversion speed kappa", h.kappa, Lo::Gt(0.0), Hi::Any);
        self.real(&format!("{p}.theta"), "long-run variance theta", h.theta, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.xi"), "vol of variance xi", h.xi, Lo::Ge(0.0), Hi::Any);
        self.real(&format!("{p}.rho"), "spot/variance correlation rho", h.rho, Lo::Ge(-1.0), Hi::Le(1.0));
    }

    pub(super) fn correlation(&mut self, c: &[Vec<f64>], n: usize) {
        if c.len() != n {
            self.push("market.correlation", format!("expected {n}x{n} (one row per underlying), got {} rows", c.len()));
            return;
        }
        let mut ok = true;
        for (i, row) in c.iter().enumerate() {
            if row.len() != n {
                self.push(
                    format!("market.correlation[{i}]"),
                    format!("expected {n} entries (one per underlying, matrix {n}x{n}), got {}", row.len()),
                );
                ok = false;
            }
        }
        if !ok {
            return;
        }
        for (i, row) in c.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                let p = format!("market.correlation[{i}][{j}]");
                if !x.is_finite() {
                    self.push(p, format!("correlation must be a finite number, got {x}"));
                    ok = false;
                } else if i == j && x != 1.0 {
                    self.push(p, format!("diagonal entry must be exactly 1, got {x}"));
                    ok = false;
                } else if x.abs() > 1.0 {
                    self.push(p, format!("correlation must be in [-1, 1], got {x}"));
                    ok = false;
                }
            }
        }
        for (i, row) in c.iter().enumerate() {
            for (j, other) in c.iter().enumerate().skip(i + 1) {
                let (a, b) = (row[j], other[i]);
                if a.is_finite() && b.is_finite() && (a - b).abs() > limits::CORRELATION_SYMMETRY_TOL {
                    self.push(
                        format!("market.correlation[{j}][{i}]"),
                        format!("matrix must be symmetric: [{j}][{i}] is {b} but [{i}][{j}] is {a}"),
                    );
                    ok = false;
                }
            }
        }
        if !ok || n == 0 || n > limits::MAX_UNDERLYINGS {
            return;
        }
        let matrix = DMatrix::from_fn(n, n, |i, j| c[i][j]);
        match SymmetricEigen::try_new(matrix, f64::EPSILON, 100_000) {
            Some(eigen) => {
                let min = eigen.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
                if min < limits::CORRELATION_MIN_EIGENVALUE {
                    self.push(
                        "market.correlation",
                        format!(
                            "matrix is not positive semi-definite: smallest eigenvalue is {}, \
                             must be >= {:e} (no joint distribution has these pairwise correlations)",
                            short_number(min),
                            limits::CORRELATION_MIN_EIGENVALUE
                        ),
                    );
                }
            }
            None => self.push(
                "market.correlation",
                "cannot check positive semi-definiteness: the eigenvalue iteration did not converge",
            ),
        }
    }
}
