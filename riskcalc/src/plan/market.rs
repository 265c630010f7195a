//! Market data as numbers: the base market of a job, or a scenario of it.

use crate::spec::{HestonSpec, JobSpec};

/// An underlying's dynamics under the pricing measure.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Gbm { vol: f64 },
    Heston { v0: f64, kappa: f64, theta: f64, xi: f64, rho: f64 },
}

impl Model {
    /// Instantaneous volatility today: σ, or √v0 under Heston.
    pub fn spot_vol(&self) -> f64 {
        match *self {
            Model::Gbm { vol } => vol,
            Model::Heston { v0, .. } => v0.sqrt(),
        }
    }

    /// The same model with today's volatility replaced (√v0 under Heston).
    pub fn with_spot_vol(&self, vol: f64) -> Model {
        match *self {
            Model::Gbm { .. } => Model::Gbm { vol },
            Model::Heston { kappa, theta, xi, rho, .. } => Model::Heston { v0: vol * vol, kappa, theta, xi, rho },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: String,
    pub spot: f64,
    pub dividend: f64,
    pub model: Model,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Market {
    pub rate: f64,
    pub assets: Vec<Asset>,
    /// Correlation, row-major n×n.
    pub correlation: Vec<f64>,
}

impl Market {
    /// The market of a validated job spec.
    pub fn from_spec(spec: &JobSpec) -> Market {
        let m = &spec.market;
        let n = m.underlyings.len();
        let assets = m
            .underlyings
            .iter()
            .map(|u| Asset {
                id: u.id.clone(),
                spot: u.spot,
                dividend: u.dividend_yield,
                model: match (&u.heston, u.vol) {
                    (Some(HestonSpec { v0, kappa, theta, xi, rho }), _) => {
                        Model::Heston { v0: *v0, kappa: *kappa, theta: *theta, xi: *xi, rho: *rho }
                    }
                    (None, vol) => Model::Gbm { vol: vol.unwrap_or(0.0) },
                },
            })
            .collect();
        let correlation = match &m.correlation {
            Some(rows) => rows.iter().flatten().copied().collect(),
            None => (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect(),
        };
        Market { rate: m.rate, assets, correlation }
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.id == id)
    }

    /// Cholesky factor (row-major, lower) of the correlation of `assets`.
    pub fn cholesky(&self, assets: &[usize]) -> Vec<f64> {
        let n = self.assets.len();
        let sub: Vec<f64> =
            assets.iter().flat_map(|&i| assets.iter().map(move |&j| self.correlation[i * n + j])).collect();
        cholesky_psd(&sub, assets.len())
    }
}

/// Cholesky factor of a symmetric positive semi-definite matrix, row-major.
///
/// Uses nalgebra's factorisation for positive-definite input; a singular but
/// semi-definite matrix (e.g. ρ = 1) falls back to the pivot-skipping variant,
/// in which a zero pivot zeroes its column. Validation has already rejected
/// matrices that are not PSD.
pub fn cholesky_psd(a: &[f64], n: usize) -> Vec<f64> {
    let m = nalgebra::DMatrix::from_row_slice(n, n, a);
    if let Some(chol) = m.clone().cholesky() {
        let l = chol.l();
        return (0..n * n).map(|i| l[(i / n, i % n)]).collect();
    }
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                l[i * n + i] = if sum > 1e-14 { sum.sqrt() } else { 0.0 };
            } else if l[j * n + j] > 0.0 {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconstruct(l: &[f64], n: usize) -> Vec<f64> {
        (0..n * n).map(|ij| (0..n).map(|k| l[(ij / n) * n + k] * l[(ij % n) * n + k]).sum()).collect()
    }

    #[test]
    fn factors_reconstruct_the_matrix() {
        let c = [1.0, 0.5, 0.2, 0.5, 1.0, -0.3, 0.2, -0.3, 1.0];
        let back = reconstruct(&cholesky_psd(&c, 3), 3);
        for (a, b) in c.iter().zip(&back) {
            assert!((a - b).abs() < 1e-14);
        }
        // Singular (perfect correlation) still factors.
        let c = [1.0, 1.0, 1.0, 1.0];
        let back = reconstruct(&cholesky_psd(&c, 2), 2);
        for (a, b) in c.iter().zip(&back) {
            assert!((a - b).abs() < 1e-12, "{back:?}");
        }
    }
}
