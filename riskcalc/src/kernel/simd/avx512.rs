//! AVX-512F backend: 8 × f64 lanes.

use super::Simd;
use std::arch::x86_64::*;

/// Token for AVX-512F; exists only once the CPU was found to support it.
#[derive(Debug, Clone, Copy)]
pub struct Avx512(());

impl Avx512 {
    /// Returns the token if this CPU supports AVX-512F.
    pub fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx512f").then_some(Avx512(()))
    }
}

/// Runs an AVX-512F intrinsic.
macro_rules! v {
    ($e:expr) => {
        // SAFETY: an `Avx512` value is only constructed by `Avx512::detect` after
        // the CPU reported AVX-512F, so these instructions exist. Loads and stores
        // check slice lengths before touching memory.
        unsafe { $e }
    };
}

impl Simd for Avx512 {
    const LANES: usize = 8;
    type F = __m512d;
    type U = __m512i;
    type M = __mmask8;

    #[inline(always)]
    fn splat(self, x: f64) -> __m512d {
        v!(_mm512_set1_pd(x))
    }
    #[inline(always)]
    fn splat_u(self, x: u64) -> __m512i {
        v!(_mm512_set1_epi64(x as i64))
    }
    #[inline(always)]
    fn iota_u(self, base: u64) -> __m512i {
        v!(_mm512_add_epi64(_mm512_set1_epi64(base as i64), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0)))
    }
    #[inline(always)]
    fn load(self, src: &[f64]) -> __m512d {
        assert!(src.len() >= 8);
        v!(_mm512_loadu_pd(src.as_ptr()))
    }
    #[inline(always)]
    fn store(self, x: __m512d, dst: &mut [f64]) {
        assert!(dst.len() >= 8);
        v!(_mm512_storeu_pd(dst.as_mut_ptr(), x))
    }
    #[inline(always)]
    fn add(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_add_pd(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_sub_pd(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_mul_pd(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_div_pd(a, b))
    }
    #[inline(always)]
    fn sqrt(self, a: __m512d) -> __m512d {
        v!(_mm512_sqrt_pd(a))
    }
    #[inline(always)]
    fn max(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_max_pd(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m512d, b: __m512d) -> __m512d {
        v!(_mm512_min_pd(a, b))
    }
    #[inline(always)]
    fn lt(self, a: __m512d, b: __m512d) -> __mmask8 {
        v!(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m512d, b: __m512d) -> __mmask8 {
        v!(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn m_or(self, a: __mmask8, b: __mmask8) -> __mmask8 {
        a | b
    }
    #[inline(always)]
    fn m_and(self, a: __mmask8, b: __mmask8) -> __mmask8 {
        a & b
    }
    #[inline(always)]
    fn any(self, m: __mmask8) -> bool {
        m != 0
    }
    #[inline(always)]
    fn mask_bits(self, m: __mmask8) -> u32 {
        u32::from(m)
    }
    #[inline(always)]
    fn select(self, m: __mmask8, a: __m512d, b: __m512d) -> __m512d {
        // blend takes the second operand where the mask bit is set.
        v!(_mm512_mask_blend_pd(m, b, a))
    }
    #[inline(always)]
    fn u_add(self, a: __m512i, b: __m512i) -> __m512i {
        v!(_mm512_add_epi64(a, b))
    }
    #[inline(always)]
    fn u_and(self, a: __m512i, b: __m512i) -> __m512i {
        v!(_mm512_and_si512(a, b))
    }
    #[inline(always)]
    fn u_or(self, a: __m512i, b: __m512i) -> __m512i {
        v!(_mm512_or_si512(a, b))
    }
    #[inline(always)]
    fn u_xor(self, a: __m512i, b: __m512i) -> __m512i {
        v!(_mm512_xor_si512(a, b))
    }
    #[inline(always)]
    fn u_shr32(self, a: __m512i) -> __m512i {
        v!(_mm512_srli_epi64::<32>(a))
    }
    #[inline(always)]
    fn u_shr52(self, a: __m512i) -> __m512i {
        v!(_mm512_srli_epi64::<52>(a))
    }
    #[inline(always)]
    fn u_shl52(self, a: __m512i) -> __m512i {
        v!(_mm512_slli_epi64::<52>(a))
    }
    #[inline(always)]
    fn mul_lo32(self, a: __m512i, b: __m512i) -> __m512i {
        v!(_mm512_mul_epu32(a, b))
    }
    #[inline(always)]
    fn cast_u(self, a: __m512d) -> __m512i {
        v!(_mm512_castpd_si512(a))
    }
    #[inline(always)]
    fn cast_f(self, a: __m512i) -> __m512d {
        v!(_mm512_castsi512_pd(a))
    }
}
