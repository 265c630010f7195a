//! Runtime selection of the instruction set, the only entry into the kernels.

use super::path::{BlockOut, simulate};
use super::simd::{Isa, Scalar};
use crate::plan::trade::TradePlan;
use crate::rng::RoundKeys;

/// Simulates a block of paths of one trade on `isa`, falling back to the scalar
/// reference if this CPU lacks `isa` (results are identical either way).
pub fn simulate_block(isa: Isa, plan: &TradePlan, keys: &RoundKeys, first_path: u64, out: BlockOut<'_>) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            if let Some(token) = super::simd::Avx512::detect() {
                // SAFETY: `detect` confirmed AVX-512F, the only feature the entry enables.
                return unsafe { avx512_entry(token, plan, keys, first_path, out) };
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            if let Some(token) = super::simd::Avx2::detect() {
                // SAFETY: `detect` confirmed AVX2, the only feature the entry enables.
                return unsafe { avx2_entry(token, plan, keys, first_path, out) };
            }
        }
        _ => {}
    }
    simulate(Scalar, plan, keys, first_path, out)
}

/// Compiles the generic kernel with AVX-512 enabled, so its `#[inline(always)]`
/// operations become single instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn avx512_entry(token: super::simd::Avx512, plan: &TradePlan, keys: &RoundKeys, first_path: u64, out: BlockOut<'_>) {
    simulate(token, plan, keys, first_path, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2_entry(token: super::simd::Avx2, plan: &TradePlan, keys: &RoundKeys, first_path: u64, out: BlockOut<'_>) {
    simulate(token, plan, keys, first_path, out)
}
