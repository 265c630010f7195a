//! AVX2 backend: 4 × f64 lanes.

use super::Simd;
use std::arch::x86_64::*;

/// Token for AVX2; exists only once the CPU was found to support AVX2.
#[derive(Debug, Clone, Copy)]
pub struct Avx2(());

impl Avx2 {
    /// Returns the token if this CPU supports AVX2.
    pub fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }
}

/// Runs an AVX/AVX2 intrinsic.
macro_rules! v {
    ($e:expr) => {
        // SAFETY: an `Avx2` value is only constructed by `Avx2::detect` after the
        // CPU reported AVX2 (which implies AVX), so these instructions exist.
        // Loads and stores check slice lengths before touching memory.
        unsafe { $e }
    };
}

impl Simd for Avx2 {
    const LANES: usize = 4;
    type F = __m256d;
    type U = __m256i;
    type M = __m256d;

    #[inline(always)]
    fn splat(self, x: f64) -> __m256d {
        v!(_mm256_set1_pd(x))
    }
    #[inline(always)]
    fn splat_u(self, x: u64) -> __m256i {
        v!(_mm256_set1_epi64x(x as i64))
    }
    #[inline(always)]
    fn iota_u(self, base: u64) -> __m256i {
        v!(_mm256_add_epi64(_mm256_set1_epi64x(base as i64), _mm256_set_epi64x(3, 2, 1, 0)))
    }
    #[inline(always)]
    fn load(self, src: &[f64]) -> __m256d {
        assert!(src.len() >= 4);
        v!(_mm256_loadu_pd(src.as_ptr()))
    }
    #[inline(always)]
    fn store(self, x: __m256d, dst: &mut [f64]) {
        assert!(dst.len() >= 4);
        v!(_mm256_storeu_pd(dst.as_mut_ptr(), x))
    }
    #[inline(always)]
    fn add(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_add_pd(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_sub_pd(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_mul_pd(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_div_pd(a, b))
    }
    #[inline(always)]
    fn sqrt(self, a: __m256d) -> __m256d {
        v!(_mm256_sqrt_pd(a))
    }
    #[inline(always)]
    fn max(self, a: __m256d, b: __m256d) -> __m256d {
        // maxpd returns the second operand unless the first is greater.
        v!(_mm256_max_pd(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_min_pd(a, b))
    }
    #[inline(always)]
    fn lt(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_cmp_pd::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_cmp_pd::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn m_or(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_or_pd(a, b))
    }
    #[inline(always)]
    fn m_and(self, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_and_pd(a, b))
    }
    #[inline(always)]
    fn any(self, m: __m256d) -> bool {
        v!(_mm256_movemask_pd(m)) != 0
    }
    #[inline(always)]
    fn mask_bits(self, m: __m256d) -> u32 {
        v!(_mm256_movemask_pd(m)) as u32
    }
    #[inline(always)]
    fn select(self, m: __m256d, a: __m256d, b: __m256d) -> __m256d {
        v!(_mm256_blendv_pd(b, a, m))
    }
    #[inline(always)]
    fn u_add(self, a: __m256i, b: __m256i) -> __m256i {
        v!(_mm256_add_epi64(a, b))
    }
    #[inline(always)]
    fn u_and(self, a: __m256i, b: __m256i) -> __m256i {
        v!(_mm256_and_si256(a, b))
    }
    #[inline(always)]
    fn u_or(self, a: __m256i, b: __m256i) -> __m256i {
        v!(_mm256_or_si256(a, b))
    }
    #[inline(always)]
    fn u_xor(self, a: __m256i, b: __m256i) -> __m256i {
        v!(_mm256_xor_si256(a, b))
    }
    #[inline(always)]
    fn u_shr32(self, a: __m256i) -> __m256i {
        v!(_mm256_srli_epi64::<32>(a))
    }
    #[inline(always)]
    fn u_shr52(self, a: __m256i) -> __m256i {
        v!(_mm256_srli_epi64::<52>(a))
    }
    #[inline(always)]
    fn u_shl52(self, a: __m256i) -> __m256i {
        v!(_mm256_slli_epi64::<52>(a))
    }
    #[inline(always)]
    fn mul_lo32(self, a: __m256i, b: __m256i) -> __m256i {
        v!(_mm256_mul_epu32(a, b))
    }
    #[inline(always)]
    fn cast_u(self, a: __m256d) -> __m256i {
        v!(_mm256_castpd_si256(a))
    }
    #[inline(always)]
    fn cast_f(self, a: __m256i) -> __m256d {
        v!(_mm256_castsi256_pd(a))
    }
}
