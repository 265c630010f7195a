//! Standard normal draws for a group of paths, straight from their coordinates.
//!
//! Lane `l` of a draw holds path group `g0 + l`; the four outputs of one Philox
//! call are the same dimension for paths `4g, 4g+1, 4g+2, 4g+3`. A `NormalSource`
//! therefore yields `[F; 4]`: sub-chunk `j` holds paths `4(g0 + l) + j`.

use super::math::{inv_norm4, uniform_from_u32};
use super::simd::Simd;
use crate::rng::philox::{M0, M1, ROUNDS, RoundKeys};

/// Philox4x32-10 on every lane: lane counters `(c0, c1)` plus uniform `c2, c3`.
///
/// Each 32-bit word lives in the low half of a 64-bit lane; upper halves may hold
/// garbage because `mul_lo32` ignores them and outputs are masked on use.
#[inline(always)]
pub fn philox_lanes<S: Simd>(s: S, keys: &[[S::U; 2]; ROUNDS], ctr: [S::U; 4]) -> [S::U; 4] {
    let (m0, m1) = (s.splat_u(u64::from(M0)), s.splat_u(u64::from(M1)));
    let mut x = ctr;
    for k in keys {
        let p0 = s.mul_lo32(m0, x[0]);
        let p1 = s.mul_lo32(m1, x[2]);
        x = [s.u_xor(s.u_xor(s.u_shr32(p1), x[1]), k[0]), p1, s.u_xor(s.u_xor(s.u_shr32(p0), x[3]), k[1]), p0];
    }
    x
}

/// Splats the round keys once per kernel call.
#[inline(always)]
pub fn splat_keys<S: Simd>(s: S, keys: &RoundKeys) -> [[S::U; 2]; ROUNDS] {
    let zero = s.splat_u(0);
    let mut out = [[zero; 2]; ROUNDS];
    for (slot, &[a, b]) in out.iter_mut().zip(&keys.0) {
        *slot = [s.splat_u(u64::from(a)), s.splat_u(u64::from(b))];
    }
    out
}

/// Normals for `LANES` path groups, dimension by dimension.
#[allow(missing_debug_implementations)] // holds raw vector registers
pub struct NormalSource<S: Simd> {
    keys: [[S::U; 2]; ROUNDS],
    group_lo: S::U,
    group_hi: S::U,
    stream: S::U,
}

impl<S: Simd> NormalSource<S> {
    /// Path groups `first_group .. first_group + LANES` of `stream`.
    #[inline(always)]
    pub fn new(s: S, keys: &[[S::U; 2]; ROUNDS], stream: u32, first_group: u64) -> Self {
        let groups = s.iota_u(first_group);
        NormalSource {
            keys: *keys,
            group_lo: groups,
            group_hi: s.u_shr32(groups),
            stream: s.splat_u(u64::from(stream)),
        }
    }

    /// The normals of dimension `dim` for the four sub-chunks.
    #[inline(always)]
    pub fn draw(&self, s: S, dim: u32) -> [S::F; 4] {
        let words = philox_lanes(s, &self.keys, [self.group_lo, self.group_hi, s.splat_u(u64::from(dim)), self.stream]);
        // Written out, not `words.map(..)`: a non-inlined generic helper would be
        // compiled without the caller's target features and call every intrinsic.
        inv_norm4(
            s,
            [
                uniform_from_u32(s, words[0]),
                uniform_from_u32(s, words[1]),
                uniform_from_u32(s, words[2]),
                uniform_from_u32(s, words[3]),
            ],
        )
    }

    /// The raw uniforms of dimension `dim` (for tests and non-normal draws).
    #[inline(always)]
    pub fn uniforms(&self, s: S, dim: u32) -> [S::F; 4] {
        let words = philox_lanes(s, &self.keys, [self.group_lo, self.group_hi, s.splat_u(u64::from(dim)), self.stream]);
        [
            uniform_from_u32(s, words[0]),
            uniform_from_u32(s, words[1]),
            uniform_from_u32(s, words[2]),
            uniform_from_u32(s, words[3]),
        ]
    }
}

/// The normal of one path and dimension, computed alone (the scalar reference).
pub fn normal_at(seed: u64, stream: u32, path: u64, dim: u32) -> f64 {
    use super::simd::Scalar;
    let keys = splat_keys(Scalar, &RoundKeys::from_seed(seed));
    let source = NormalSource::new(Scalar, &keys, stream, path / 4);
    source.draw(Scalar, dim)[(path % 4) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::simd::Scalar;
    use crate::rng::philox::philox4x32;

    #[test]
    fn lane_philox_matches_the_reference() {
        let keys = RoundKeys::new([0xa409_3822, 0x299f_31d0]);
        let lanes = splat_keys(Scalar, &keys);
        let ctr = [0x243f_6a88u32, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344];
        let out = philox_lanes(Scalar, &lanes, ctr.map(u64::from));
        let out = out.map(|w| w as u32);
        assert_eq!(out, philox4x32(ctr, &keys));
        assert_eq!(out, [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]);
    }
}
