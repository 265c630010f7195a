//! The path simulation kernel: one trade, one block of paths, every state.
//!
//! Paths are processed in super-chunks of `4 × LANES` (see [`super::normals`]).
//! For each time step the kernel draws the step's normals once, correlates them
//! with the Cholesky factor and advances every revaluation state with them, so
//! bump-and-revalue Greeks cost one set of random numbers, not one per bump.

// `for j in 0..4` names the sub-chunk across several quads at once; iterators
// over one of them would hide that the others are indexed the same way.
#![allow(clippy::needless_range_loop)]

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
                let v = k.payoff(s, plan, st);
                for (j, vj) in v.into_iter().enumerate() {
                    s.store(vj, &mut out.values[st * stride + base + 8 * j..]);
                }
            }
        }
    }
}

/// Four vectors, one per Philox word (sub-chunk): the unit every loop works on.
type Quad<S> = [<S as Simd>::F; 4];

/// Working state of one super-chunk, reused across chunks. Everything is held
/// as quads so the inner loops over the four sub-chunks have constant bounds.
struct Kernel<S: Simd> {
    n_assets: usize,
    /// ln S per (state, asset).
    x: Vec<Quad<S>>,
    /// Heston variance per (state, asset).
    v: Vec<Quad<S>>,
    /// Observer accumulator per state: running sum / hit flag / exercised value.
    acc: Vec<Quad<S>>,
    /// Exercised flag per state (early exercise only).
    done: Vec<Quad<S>>,
    /// Raw and correlated normals per asset; Heston variance normals.
    z: Vec<Quad<S>>,
    w: Vec<Quad<S>>,
    zv: Vec<Quad<S>>,
    heston_slot: Vec<Option<usize>>,
}

impl<S: Simd> Kernel<S> {
    #[inline(always)]
    fn new(s: S, plan: &TradePlan) -> Self {
        let (n_assets, n_states) = (plan.n_assets, plan.n_states());
        let zero = [s.splat(0.0); 4];
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
            x: vec![zero; n_states * n_assets],
            v: vec![zero; n_states * n_assets],
            acc: vec![zero; n_states],
            done: vec![zero; n_states],
            z: vec![zero; n_assets],
            w: vec![zero; n_assets],
            zv: vec![zero; next.max(1)],
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
        let na = self.n_assets;
        let zero = s.splat(0.0);
        for (state, (x, v)) in plan.states.iter().zip(self.x.chunks_exact_mut(na).zip(self.v.chunks_exact_mut(na))) {
            for ((asset, x), v) in state.assets.iter().zip(x.iter_mut()).zip(v.iter_mut()) {
                *x = [s.splat(asset.log_spot); 4];
                *v = match asset.dynamics {
                    Dynamics::Heston { v0, .. } => [s.splat(v0); 4],
                    Dynamics::Gbm { .. } => [zero; 4],
                };
            }
        }
        self.acc.fill([zero; 4]);
        self.done.fill([zero; 4]);
        let dims = plan.dims_per_step();
        let n_heston = plan.n_heston();
        // Terminal-only payoffs have nothing to observe along the path.
        let observes = matches!(
            plan.payoff,
            Payoff::Asian { .. } | Payoff::Barrier { .. } | Payoff::Exercise { .. } | Payoff::Record
        );
        for step in 0..plan.steps {
            let mut dim = step * dims;
            for z in self.z.iter_mut() {
                *z = normals.draw(s, dim);
                dim += 1;
            }
            for z in self.zv.iter_mut().take(n_heston) {
                *z = normals.draw(s, dim);
                dim += 1;
            }
            self.correlate(s, plan);
            self.advance(s, plan);
            if observes && (step + 1) % plan.obs_every == 0 {
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
            self.w[0] = self.z[0];
            return;
        }
        for (a, (w, row)) in self.w.iter_mut().zip(plan.chol.chunks_exact(na)).enumerate() {
            let mut acc = [s.splat(0.0); 4];
            let l0 = s.splat(row[0]);
            for j in 0..4 {
                acc[j] = s.mul(l0, self.z[0][j]);
            }
            for (l, z) in row[1..=a].iter().zip(&self.z[1..=a]) {
                let l = s.splat(*l);
                for j in 0..4 {
                    acc[j] = s.add(acc[j], s.mul(l, z[j]));
                }
            }
            *w = acc;
        }
    }

    #[inline(always)]
    fn advance(&mut self, s: S, plan: &TradePlan) {
        let na = self.n_assets;
        let zero = s.splat(0.0);
        for (state, (xs, vs)) in plan.states.iter().zip(self.x.chunks_exact_mut(na).zip(self.v.chunks_exact_mut(na))) {
            for (a, ((asset, x), v)) in state.assets.iter().zip(xs.iter_mut()).zip(vs.iter_mut()).enumerate() {
                let w = &self.w[a];
                match asset.dynamics {
                    Dynamics::Gbm { drift_dt, vol_sqrt_dt } => {
                        let (mu, sig) = (s.splat(drift_dt), s.splat(vol_sqrt_dt));
                        for j in 0..4 {
                            x[j] = s.add(x[j], s.add(mu, s.mul(sig, w[j])));
                        }
                    }
                    Dynamics::Heston { carry_dt, dt, kappa_dt, theta, xi, rho, rho_bar, .. } => {
                        let zv = &self.zv[self.heston_slot[a].unwrap_or(0)];
                        for j in 0..4 {
                            let vp = s.max(v[j], zero);
                            let sq = s.sqrt(s.mul(vp, s.splat(dt)));
                            let drift = s.sub(s.splat(carry_dt), s.mul(s.mul(s.splat(0.5), vp), s.splat(dt)));
                            x[j] = s.add(x[j], s.add(drift, s.mul(sq, w[j])));
                            let zvar = s.add(s.mul(s.splat(rho), w[j]), s.mul(s.splat(rho_bar), zv[j]));
                            let mean_rev = s.mul(s.splat(kappa_dt), s.sub(s.splat(theta), vp));
                            v[j] = s.add(v[j], s.add(mean_rev, s.mul(s.mul(s.splat(xi), sq), zvar)));
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
        for (st, ((acc, done), xs)) in
            self.acc.iter_mut().zip(self.done.iter_mut()).zip(self.x.chunks_exact(na)).enumerate()
        {
            let x = &xs[0];
            match &plan.payoff {
                Payoff::Asian { geometric: false, .. } => {
                    for j in 0..4 {
                        acc[j] = s.add(acc[j], exp(s, x[j]));
                    }
                }
                Payoff::Asian { geometric: true, .. } => {
                    for j in 0..4 {
                        acc[j] = s.add(acc[j], x[j]);
                    }
                }
                Payoff::Barrier { up, log_barrier, .. } => {
                    let b = s.splat(*log_barrier);
                    for j in 0..4 {
                        let hit = if *up { s.le(b, x[j]) } else { s.le(x[j], b) };
                        acc[j] = s.select(hit, one, acc[j]);
                    }
                }
                Payoff::Exercise { call, strike, coeffs } => {
                    let disc = s.splat(plan.states[st].obs_discount[k - 1]);
                    let kk = s.splat(*strike);
                    for j in 0..4 {
                        let spot = exp(s, x[j]);
                        let intrinsic = intrinsic(s, *call, spot, kk);
                        let alive = s.lt(done[j], s.splat(0.5));
                        let exercise = if k == n_obs {
                            alive
                        } else {
                            let c = coeffs[k - 1];
                            let m = s.div(spot, kk);
                            let basis = s.add(s.splat(c[0]), s.mul(m, s.add(s.splat(c[1]), s.mul(m, s.splat(c[2])))));
                            let continuation = s.mul(basis, kk);
                            let itm = s.lt(zero, intrinsic);
                            s.m_and(alive, s.m_and(itm, s.le(continuation, intrinsic)))
                        };
                        acc[j] = s.select(exercise, s.mul(intrinsic, disc), acc[j]);
                        done[j] = s.select(exercise, one, done[j]);
                    }
                }
                Payoff::Record if st == 0 => {
                    for j in 0..4 {
                        record(k - 1, j, exp(s, x[j]));
                    }
                }
                _ => {}
            }
        }
    }

    /// The discounted payoffs of state `st`, one vector per sub-chunk.
    #[inline(always)]
    fn payoff(&self, s: S, plan: &TradePlan, st: usize) -> Quad<S> {
        let na = self.n_assets;
        let xs = &self.x[st * na..(st + 1) * na];
        let acc = &self.acc[st];
        let disc = s.splat(plan.states[st].discount);
        let zero = s.splat(0.0);
        let mut out = [zero; 4];
        match &plan.payoff {
            Payoff::Vanilla { call, strike } => {
                let k = s.splat(*strike);
                for j in 0..4 {
                    out[j] = s.mul(intrinsic(s, *call, exp(s, xs[0][j]), k), disc);
                }
            }
            Payoff::Digital { call, strike, cash } => {
                let (k, cash) = (s.splat(*strike), s.splat(*cash));
                for j in 0..4 {
                    let spot = exp(s, xs[0][j]);
                    let pays = if *call { s.lt(k, spot) } else { s.lt(spot, k) };
                    out[j] = s.mul(s.select(pays, cash, zero), disc);
                }
            }
            Payoff::Asian { call, strike, geometric } => {
                let n = s.splat(f64::from(plan.n_observations()));
                let k = s.splat(*strike);
                for j in 0..4 {
                    let mean = s.div(acc[j], n);
                    let average = if *geometric { exp(s, mean) } else { mean };
                    out[j] = s.mul(intrinsic(s, *call, average, k), disc);
                }
            }
            Payoff::Barrier { call, strike, knock_in, .. } => {
                let k = s.splat(*strike);
                for j in 0..4 {
                    let vanilla = intrinsic(s, *call, exp(s, xs[0][j]), k);
                    let hit = s.lt(s.splat(0.5), acc[j]);
                    let alive = if *knock_in { s.select(hit, vanilla, zero) } else { s.select(hit, zero, vanilla) };
                    out[j] = s.mul(alive, disc);
                }
            }
            Payoff::Basket { call, strike, weights, geometric } => {
                let k = s.splat(*strike);
                for j in 0..4 {
                    let mut sum = zero;
                    for (x, &wgt) in xs.iter().zip(weights) {
                        let term = if *geometric { x[j] } else { exp(s, x[j]) };
                        sum = s.add(sum, s.mul(s.splat(wgt), term));
                    }
                    let basket = if *geometric { exp(s, sum) } else { sum };
                    out[j] = s.mul(intrinsic(s, *call, basket, k), disc);
                }
            }
            // Already discounted at the exercise date.
            Payoff::Exercise { .. } => out = *acc,
            Payoff::Stock | Payoff::Record => {}
        }
        out
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
