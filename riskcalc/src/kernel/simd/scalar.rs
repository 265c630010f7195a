//! The scalar reference backend: one lane, plain Rust arithmetic.

use super::Simd;

/// One path at a time. The reference that vector backends must match bit for bit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scalar;

impl Simd for Scalar {
    const LANES: usize = 1;
    type F = f64;
    type U = u64;
    type M = bool;

    #[inline(always)]
    fn splat(self, x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn splat_u(self, x: u64) -> u64 {
        x
    }
    #[inline(always)]
    fn iota_u(self, base: u64) -> u64 {
        base
    }
    #[inline(always)]
    fn load(self, src: &[f64]) -> f64 {
        src[0]
    }
    #[inline(always)]
    fn store(self, v: f64, dst: &mut [f64]) {
        dst[0] = v;
    }
    #[inline(always)]
    fn add(self, a: f64, b: f64) -> f64 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f64, b: f64) -> f64 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f64, b: f64) -> f64 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f64, b: f64) -> f64 {
        a / b
    }
    #[inline(always)]
    fn sqrt(self, a: f64) -> f64 {
        a.sqrt()
    }
    #[inline(always)]
    fn max(self, a: f64, b: f64) -> f64 {
        if a > b { a } else { b }
    }
    #[inline(always)]
    fn min(self, a: f64, b: f64) -> f64 {
        if a < b { a } else { b }
    }
    #[inline(always)]
    fn lt(self, a: f64, b: f64) -> bool {
        a < b
    }
    #[inline(always)]
    fn le(self, a: f64, b: f64) -> bool {
        a <= b
    }
    #[inline(always)]
    fn m_or(self, a: bool, b: bool) -> bool {
        a | b
    }
    #[inline(always)]
    fn m_and(self, a: bool, b: bool) -> bool {
        a & b
    }
    #[inline(always)]
    fn any(self, m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn mask_bits(self, m: bool) -> u32 {
        u32::from(m)
    }
    #[inline(always)]
    fn select(self, m: bool, a: f64, b: f64) -> f64 {
        if m { a } else { b }
    }
    #[inline(always)]
    fn u_add(self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn u_and(self, a: u64, b: u64) -> u64 {
        a & b
    }
    #[inline(always)]
    fn u_or(self, a: u64, b: u64) -> u64 {
        a | b
    }
    #[inline(always)]
    fn u_xor(self, a: u64, b: u64) -> u64 {
        a ^ b
    }
    #[inline(always)]
    fn u_shr32(self, a: u64) -> u64 {
        a >> 32
    }
    #[inline(always)]
    fn u_shr52(self, a: u64) -> u64 {
        a >> 52
    }
    #[inline(always)]
    fn u_shl52(self, a: u64) -> u64 {
        a << 52
    }
    #[inline(always)]
    fn mul_lo32(self, a: u64, b: u64) -> u64 {
        (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF)
    }
    #[inline(always)]
    fn cast_u(self, a: f64) -> u64 {
        a.to_bits()
    }
    #[inline(always)]
    fn cast_f(self, a: u64) -> f64 {
        f64::from_bits(a)
    }
}
