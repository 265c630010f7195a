//! The path simulation kernel: one trade, one block of paths, every state.
//!
//! Paths are processed in super-chunks of `4 × LANES` (see [`super::normals`]).
//! For each time step the kernel draws the step's normals once, correlates them
//! with the Cholesky factor and advances every revaluation state with them, so
//! bump-and-revalue Greeks cost one set of random numbers, not one per bump.

use super::math::{exp, ln};
use super::normals::{NormalSource, splat_keys};
use super::simd::Simd;
use crate::plan::trade::{Dynamics, Payoff, TradePlan};
use crate::rng::RoundKeys;

/// Paths are stored in tiles of 32: path offset `32t + 4i + j` (path group
/// `i`, Philox word `j`) lives in slot `32t + 8j + i`. Every backend then writes
/// whole vectors contiguously, and the slot order, which reductions follow, is
/// the same whatever the vector width.
pub const TILE: usize = 32;

/// Slots needed for `n` paths (whole tiles).
pub fn padded(n: usize) -> usize {
    n.div_ceil(TILE) * TILE
}

/// The path offset stored in `slot`.
pub fn slot_path(slot: usize) -> usize {
    let (tile, within) = (slot / TILE, slot % TILE);
    tile * TILE + 4 * (within % 8) + within / 8
}

/// Where a kernel call writes: `values[state * padded(n_paths) + slot]`, or for
/// [`Payoff::Record`] `values[k * padded(n_paths) + slot]` = S at observation k.
/// Slots holding path offsets ≥ `n_paths` are padding.
#[derive(Debug)]
pub struct BlockOut<'a> {
    pub values: &'a mut [f64],
    pub n_paths: usize,
}

/// Simulates paths `first_path .. first_path + out.n_paths` of `plan`.
/// `first_path` must be a multiple of 4.
#[inline(always)]
pub fn simulate<S: Simd>(s: S, plan: &TradePlan, keys: &RoundKeys, first_path: u64, out: BlockOut<'_>) {
    debug_assert_eq!(first_path % 4, 0);
    let n_paths = out.n_paths;
    let stride = padded(n_paths);
    if let Payoff::Stock = plan.payoff {
        for (st, state) in plan.states.iter().enumerate() {
            out.values[st * stride..(st + 1) * stride].fill(state.assets[0].spot);
        }
        return;
    }
    let lanes = S::LANES;
    let keys = splat_keys(s, keys);
    let mut k = Kernel::new(s, plan);
    let super_chunk = 4 * lanes;
    for chunk in 0..n_paths.div_ceil(super_chunk) {
        let first_group = first_path / 4 + (chunk * lanes) as u64;
        let normals = NormalSource::new(s, &keys, plan.stream, first_group);
        // Slot of lane 0, word 0 of this chunk's first group.
        let groups = chunk * lanes;
        let base = TILE * (groups / 8) + groups % 8;
        k.run_chunk(s, plan, &normals, |k_obs, j, v| {
            s.store(v, &mut out.values[k_obs * stride + base + 8 * j..]);
        });
        if !matches!(plan.payoff, Payoff::Record) {
            for st in 0..plan.n_states() {
                for j in 0..4 {
                    let v = k.payoff(s, plan, st, j);
                    s.store(v, &mut out.values[st * stride + base + 8 * j..]);
                }
            }
        }
    }
}

/// Working state of one super-chunk, reused across chunks.
struct Kernel<S: Simd> {
    n_assets: usize,
    n_states: usize,
    /// ln S per (state, asset, sub-chunk).
    x: Vec<S::F>,
    /// Heston variance per (state, asset, sub-chunk).
    v: Vec<S::F>,
    /// Observer accumulators per (state, sub-chunk): running sum / hit flag /
    /// exercised value, and the exercised flag.
    acc: Vec<S::F>,
    done: Vec<S::F>,
    /// Correlated normals per (asset, sub-chunk) and Heston variance normals.
    w: Vec<S::F>,
    zv: Vec<S::F>,
    z: Vec<S::F>,
    heston_slot: Vec<Option<usize>>,
}

impl<S: Simd> Kernel<S> {
    #[inline(always)]
    fn new(s: S, plan: &TradePlan) -> Self {
        let (n_assets, n_states) = (plan.n_assets, plan.n_states());
        let zero = s.splat(0.0);
        let mut heston_slot = Vec::with_capacity(n_assets);
        let mut next = 0;
        for asset in &plan.states[0].assets {
            if matches!(asset.dynamics, Dynamics::Heston { .. }) {
                heston_slot.push(Some(next));
                next += 1;
            } else {
                heston_slot.push(None);
            }
        }
        Kernel {
            n_assets,
            n_states,
            x: vec![zero; n_states * n_assets * 4],
            v: vec![zero; n_states * n_assets * 4],
            acc: vec![zero; n_states * 4],
            done: vec![zero; n_states * 4],
            w: vec![zero; n_assets * 4],
            zv: vec![zero; next.max(1) * 4],
            z: vec![zero; n_assets * 4],
            heston_slot,
        }
    }

    /// Simulates one super-chunk; `record(k, j, S)` receives observation values
    /// for [`Payoff::Record`].
    #[inline(always)]
    fn run_chunk(
        &mut self,
        s: S,
        plan: &TradePlan,
        normals: &NormalSource<S>,
        mut record: impl FnMut(usize, usize, S::F),
    ) {
        let (na, ns) = (self.n_assets, self.n_states);
        let zero = s.splat(0.0);
        for st in 0..ns {
            for a in 0..na {
                let asset = &plan.states[st].assets[a];
                let x0 = s.splat(asset.log_spot);
                let v0 = match asset.dynamics {
                    Dynamics::Heston { v0, .. } => s.splat(v0),
                    Dynamics::Gbm { .. } => zero,
                };
                for j in 0..4 {
                    self.x[(st * na + a) * 4 + j] = x0;
                    self.v[(st * na + a) * 4 + j] = v0;
                }
            }
            for j in 0..4 {
                self.acc[st * 4 + j] = zero;
                self.done[st * 4 + j] = zero;
            }
        }
        let dims = plan.dims_per_step();
        let n_heston = plan.n_heston();
        for step in 0..plan.steps {
            let mut dim = step * dims;
            for a in 0..na {
                let z = normals.draw(s, dim);
                dim += 1;
                self.z[a * 4..a * 4 + 4].copy_from_slice(&z);
            }
            for h in 0..n_heston {
                let z = normals.draw(s, dim);
                dim += 1;
                self.zv[h * 4..h * 4 + 4].copy_from_slice(&z);
            }
            self.correlate(s, plan);
            self.advance(s, plan);
            if (step + 1) % plan.obs_every == 0 {
                let k = ((step + 1) / plan.obs_every) as usize;
                self.observe(s, plan, k, &mut record);
            }
        }
    }

    /// w = L z, summed in column order (the same order on every backend).
    #[inline(always)]
    fn correlate(&mut self, s: S, plan: &TradePlan) {
        let na = self.n_assets;
        if na == 1 {
            self.w[..4].copy_from_slice(&self.z[..4]);
            return;
        }
        for a in 0..na {
            for j in 0..4 {
                let mut acc = s.mul(s.splat(plan.chol[a * na]), self.z[j]);
                for b in 1..=a {
                    acc = s.add(acc, s.mul(s.splat(plan.chol[a * na + b]), self.z[b * 4 + j]));
                }
                self.w[a * 4 + j] = acc;
            }
        }
    }

    #[inline(always)]
    fn advance(&mut self, s: S, plan: &TradePlan) {
        let na = self.n_assets;
        for (st, state) in plan.states.iter().enumerate() {
            for (a, asset) in state.assets.iter().enumerate() {
                let i = (st * na + a) * 4;
                match asset.dynamics {
                    Dynamics::Gbm { drift_dt, vol_sqrt_dt } => {
                        let (mu, sig) = (s.splat(drift_dt), s.splat(vol_sqrt_dt));
                        for j in 0..4 {
                            self.x[i + j] = s.add(self.x[i + j], s.add(mu, s.mul(sig, self.w[a * 4 + j])));
                        }
                    }
                    Dynamics::Heston { carry_dt, dt, kappa_dt, theta, xi, rho, rho_bar, .. } => {
                        let h = self.heston_slot[a].unwrap_or(0);
                        let zero = s.splat(0.0);
                        for j in 0..4 {
                            let vp = s.max(self.v[i + j], zero);
                            let sq = s.sqrt(s.mul(vp, s.splat(dt)));
                            let wa = self.w[a * 4 + j];
                            let drift = s.sub(s.splat(carry_dt), s.mul(s.mul(s.splat(0.5), vp), s.splat(dt)));
                            self.x[i + j] = s.add(self.x[i + j], s.add(drift, s.mul(sq, wa)));
                            let zvar = s.add(s.mul(s.splat(rho), wa), s.mul(s.splat(rho_bar), self.zv[h * 4 + j]));
                            let mean_rev = s.mul(s.splat(kappa_dt), s.sub(s.splat(theta), vp));
                            self.v[i + j] = s.add(self.v[i + j], s.add(mean_rev, s.mul(s.mul(s.splat(xi), sq), zvar)));
                        }
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn observe(&mut self, s: S, plan: &TradePlan, k: usize, record: &mut impl FnMut(usize, usize, S::F)) {
        let na = self.n_assets;
        let one = s.splat(1.0);
        let zero = s.splat(0.0);
        let n_obs = plan.n_observations() as usize;
        for st in 0..self.n_states {
            for j in 0..4 {
                let x = self.x[st * na * 4 + j];
                let acc = &mut self.acc[st * 4 + j];
                match &plan.payoff {
                    Payoff::Asian { geometric: false, .. } => *acc = s.add(*acc, exp(s, x)),
                    Payoff::Asian { geometric: true, .. } => *acc = s.add(*acc, x),
                    Payoff::Barrier { up, log_barrier, .. } => {
                        let b = s.splat(*log_barrier);
                        let hit = if *up { s.le(b, x) } else { s.le(x, b) };
                        *acc = s.select(hit, one, *acc);
                    }
                    Payoff::Exercise { call, strike, coeffs } => {
                        let spot = exp(s, x);
                        let intrinsic = intrinsic(s, *call, spot, s.splat(*strike));
                        let disc = s.splat(plan.states[st].obs_discount[k - 1]);
                        let done = self.done[st * 4 + j];
                        let alive = s.lt(done, s.splat(0.5));
                        let exercise = if k == n_obs {
                            alive
                        } else {
                            let c = coeffs[k - 1];
                            let m = s.div(spot, s.splat(*strike));
                            let basis = s.add(s.splat(c[0]), s.mul(m, s.add(s.splat(c[1]), s.mul(m, s.splat(c[2])))));
                            let continuation = s.mul(basis, s.splat(*strike));
                            let itm = s.lt(zero, intrinsic);
                            s.m_and(alive, s.m_and(itm, s.le(continuation, intrinsic)))
                        };
                        *acc = s.select(exercise, s.mul(intrinsic, disc), *acc);
                        self.done[st * 4 + j] = s.select(exercise, one, done);
                    }
                    Payoff::Record if st == 0 => record(k - 1, j, exp(s, x)),
                    _ => {}
                }
            }
        }
    }

    /// The discounted payoff of state `st`, sub-chunk `j`.
    #[inline(always)]
    fn payoff(&self, s: S, plan: &TradePlan, st: usize, j: usize) -> S::F {
        let na = self.n_assets;
        let state = &plan.states[st];
        let disc = s.splat(state.discount);
        let x = |a: usize| self.x[(st * na + a) * 4 + j];
        let acc = self.acc[st * 4 + j];
        let zero = s.splat(0.0);
        let undiscounted = match &plan.payoff {
            Payoff::Vanilla { call, strike } => intrinsic(s, *call, exp(s, x(0)), s.splat(*strike)),
            Payoff::Digital { call, strike, cash } => {
                let spot = exp(s, x(0));
                let k = s.splat(*strike);
                let pays = if *call { s.lt(k, spot) } else { s.lt(spot, k) };
                s.select(pays, s.splat(*cash), zero)
            }
            Payoff::Asian { call, strike, geometric } => {
                let n = s.splat(f64::from(plan.n_observations()));
                let mean = s.div(acc, n);
                let average = if *geometric { exp(s, mean) } else { mean };
                intrinsic(s, *call, average, s.splat(*strike))
            }
            Payoff::Barrier { call, strike, knock_in, .. } => {
                let vanilla = intrinsic(s, *call, exp(s, x(0)), s.splat(*strike));
                let hit = s.lt(s.splat(0.5), acc);
                if *knock_in { s.select(hit, vanilla, zero) } else { s.select(hit, zero, vanilla) }
            }
            Payoff::Basket { call, strike, weights, geometric } => {
                let mut sum = zero;
                for (a, &wgt) in weights.iter().enumerate() {
                    let term = if *geometric { x(a) } else { exp(s, x(a)) };
                    sum = s.add(sum, s.mul(s.splat(wgt), term));
                }
                let basket = if *geometric { exp(s, sum) } else { sum };
                intrinsic(s, *call, basket, s.splat(*strike))
            }
            // Already discounted at the exercise date.
            Payoff::Exercise { .. } => return acc,
            Payoff::Stock | Payoff::Record => zero,
        };
        s.mul(undiscounted, disc)
    }
}

#[inline(always)]
fn intrinsic<S: Simd>(s: S, call: bool, spot: S::F, strike: S::F) -> S::F {
    let zero = s.splat(0.0);
    if call { s.max(s.sub(spot, strike), zero) } else { s.max(s.sub(strike, spot), zero) }
}

/// `ln` for plan building, identical on every platform (no system libm).
pub fn ln_f64(x: f64) -> f64 {
    ln(super::simd::Scalar, x)
}

/// `exp` for plan building, identical on every platform (no system libm).
pub fn exp_f64(x: f64) -> f64 {
    exp(super::simd::Scalar, x)
}
