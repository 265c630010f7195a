//! Lane abstraction for the Monte Carlo kernels.
//!
//! Every kernel is written once, generically over [`Simd`], and instantiated for
//! the scalar reference backend and for AVX2/AVX-512 vectors. Each backend maps
//! every operation to one IEEE-754 operation with the same rounding (no FMA, no
//! approximate reciprocal), so all backends produce identical bits: a lane of a
//! vector computes exactly what the scalar backend computes for that path.
//!
//! This module (and its children) is the only place in riskcalc with `unsafe`.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;

#[cfg(target_arch = "x86_64")]
pub use avx2::Avx2;
#[cfg(target_arch = "x86_64")]
pub use avx512::Avx512;
pub use scalar::Scalar;

use serde::{Deserialize, Serialize};

/// The vector instruction set a kernel runs on. Results are identical across ISAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// One path at a time; the reference every vector backend must match bit for bit.
    Scalar,
    /// 4 × f64 lanes.
    Avx2,
    /// 8 × f64 lanes.
    Avx512,
}

impl Isa {
    /// The widest instruction set this CPU supports.
    pub fn detect() -> Isa {
        [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.is_supported()).unwrap_or(Isa::Scalar)
    }

    /// Whether this CPU can run kernels compiled for `self`.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every ISA this CPU supports, narrowest first.
    pub fn all_supported() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512].into_iter().filter(|isa| isa.is_supported()).collect()
    }

    /// Number of f64 lanes.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

impl std::str::FromStr for Isa {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scalar" => Ok(Isa::Scalar),
            "avx2" => Ok(Isa::Avx2),
            "avx512" => Ok(Isa::Avx512),
            other => Err(format!("unknown ISA `{other}`; expected scalar, avx2 or avx512")),
        }
    }
}

/// Vector operations, each matching one correctly rounded IEEE-754 operation
/// (or an exact integer/bitwise operation) so every backend agrees bit for bit.
///
/// A value of a type implementing `Simd` is a token proving the CPU supports it:
/// vector backends can only be constructed after runtime feature detection.
pub trait Simd: Copy {
    const LANES: usize;
    /// `LANES` × f64.
    type F: Copy;
    /// `LANES` × u64.
    type U: Copy;
    /// A lane mask from a comparison.
    type M: Copy;

    fn splat(self, x: f64) -> Self::F;
    fn splat_u(self, x: u64) -> Self::U;
    /// `base + lane` in each lane.
    fn iota_u(self, base: u64) -> Self::U;
    /// Loads `LANES` values; `src.len() >= LANES`.
    fn load(self, src: &[f64]) -> Self::F;
    /// Stores `LANES` values; `dst.len() >= LANES`.
    fn store(self, v: Self::F, dst: &mut [f64]);

    fn add(self, a: Self::F, b: Self::F) -> Self::F;
    fn sub(self, a: Self::F, b: Self::F) -> Self::F;
    fn mul(self, a: Self::F, b: Self::F) -> Self::F;
    fn div(self, a: Self::F, b: Self::F) -> Self::F;
    fn sqrt(self, a: Self::F) -> Self::F;
    /// `if a > b { a } else { b }` per lane (x86 `maxpd` semantics).
    fn max(self, a: Self::F, b: Self::F) -> Self::F;
    /// `if a < b { a } else { b }` per lane (x86 `minpd` semantics).
    fn min(self, a: Self::F, b: Self::F) -> Self::F;

    fn lt(self, a: Self::F, b: Self::F) -> Self::M;
    fn le(self, a: Self::F, b: Self::F) -> Self::M;
    fn m_or(self, a: Self::M, b: Self::M) -> Self::M;
    fn m_and(self, a: Self::M, b: Self::M) -> Self::M;
    fn any(self, m: Self::M) -> bool;
    /// Bit `l` set where lane `l` of the mask is set.
    fn mask_bits(self, m: Self::M) -> u32;
    /// `if m { a } else { b }` per lane.
    fn select(self, m: Self::M, a: Self::F, b: Self::F) -> Self::F;

    fn u_add(self, a: Self::U, b: Self::U) -> Self::U;
    fn u_and(self, a: Self::U, b: Self::U) -> Self::U;
    fn u_or(self, a: Self::U, b: Self::U) -> Self::U;
    fn u_xor(self, a: Self::U, b: Self::U) -> Self::U;
    fn u_shr32(self, a: Self::U) -> Self::U;
    fn u_shr52(self, a: Self::U) -> Self::U;
    fn u_shl52(self, a: Self::U) -> Self::U;
    /// `(a mod 2^32) * (b mod 2^32)` as a full 64-bit product.
    fn mul_lo32(self, a: Self::U, b: Self::U) -> Self::U;
    fn cast_u(self, a: Self::F) -> Self::U;
    fn cast_f(self, a: Self::U) -> Self::F;
}
