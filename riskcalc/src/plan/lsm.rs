//! Longstaff–Schwartz regression on an independent set of calibration paths.
//!
//! Fitting the exercise rule on separate paths keeps the pricing pass a plain
//! per-path computation (so it still shards by block) and makes the price a
//! low-biased estimate of the true American value.

use super::trade::{Payoff, TradePlan};
use crate::kernel::Isa;
use crate::kernel::dispatch::simulate_block;
use crate::kernel::path::{BlockOut, padded};
use crate::rng::RoundKeys;

/// Continuation coefficients for exercise dates 1..n-1 (none for the last),
/// for the basis (1, S/K, (S/K)²), in units of the strike.
pub fn calibrate(plan: &TradePlan, stream: u32, paths: u32, seed: u64, isa: Isa) -> Vec<[f64; 3]> {
    let Payoff::Exercise { call, strike, .. } = plan.payoff else {
        return Vec::new();
    };
    let n_obs = plan.n_observations() as usize;
    // Whole tiles, so that every slot of the buffer is a calibration path.
    let n = padded(paths as usize);
    let record = TradePlan { stream, payoff: Payoff::Record, states: vec![plan.states[0].clone()], ..plan.clone() };
    let mut buf = vec![0.0; n_obs * n];
    simulate_block(isa, &record, &RoundKeys::from_seed(seed), 0, BlockOut { values: &mut buf, n_paths: n });
    let spots = |k: usize| &buf[k * n..(k + 1) * n];
    let intrinsic = |s: f64| {
        if call { (s - strike).max(0.0) } else { (strike - s).max(0.0) }
    };

    // Cash flow per path, valued at the current exercise date.
    let mut cash: Vec<f64> = spots(n_obs - 1).iter().map(|&s| intrinsic(s)).collect();
    let maturity_disc = plan.states[0].obs_discount.clone();
    let mut coeffs = vec![[f64::INFINITY, 0.0, 0.0]; n_obs.saturating_sub(1)];
    for k in (0..n_obs.saturating_sub(1)).rev() {
        // Discount one period: e^{-r Δt} = D(t_{k+1}) / D(t_k).
        let step_disc = maturity_disc[k + 1] / maturity_disc[k];
        cash.iter_mut().for_each(|c| *c *= step_disc);
        let s_k = spots(k);
        // Normal equations over in-the-money paths, summed in path order.
        let mut xtx = nalgebra::Matrix3::<f64>::zeros();
        let mut xty = nalgebra::Vector3::<f64>::zeros();
        let mut itm = 0usize;
        for (&s, &c) in s_k.iter().zip(&cash) {
            if intrinsic(s) > 0.0 {
                let m = s / strike;
                let basis = nalgebra::Vector3::new(1.0, m, m * m);
                xtx += basis * basis.transpose();
                xty += basis * (c / strike);
                itm += 1;
            }
        }
        if itm < 8 {
            continue; // too few points to regress: never exercise early here
        }
        let Some(beta) = xtx.lu().solve(&xty) else {
            continue;
        };
        let beta = [beta[0], beta[1], beta[2]];
        coeffs[k] = beta;
        for (&s, c) in s_k.iter().zip(cash.iter_mut()) {
            let ex = intrinsic(s);
            let m = s / strike;
            let continuation = (beta[0] + m * (beta[1] + m * beta[2])) * strike;
            if ex > 0.0 && continuation <= ex {
                *c = ex;
            }
        }
    }
    coeffs
}
