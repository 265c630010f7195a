//! Elementary functions written once over [`Simd`], so that the scalar reference
//! and every vector backend evaluate the same operations in the same order and
//! agree to the bit. (`f64::exp` from libm would not: its vector counterpart
//! does not exist, and libm results vary by platform.)

use super::simd::Simd;

#[allow(clippy::excessive_precision)] // fdlibm's digits, as published
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1; // fdlibm: low 32 bits zero
#[allow(clippy::excessive_precision)]
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// 1.5·2^52: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// Largest |x| passed to the exp polynomial; exp(±700) covers every price.
pub const EXP_CLAMP: f64 = 700.0;

/// e^x, accurate to ~1 ulp for |x| ≤ 700 (inputs are clamped to that range).
///
/// x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-12 Taylor polynomial
/// (evaluated by Estrin's scheme)
/// (truncation < 2e-17), then scaled by 2^n built from the exponent bits.
#[inline(always)]
pub fn exp<S: Simd>(s: S, x: S::F) -> S::F {
    let x = s.min(s.max(x, s.splat(-EXP_CLAMP)), s.splat(EXP_CLAMP));
    let t = s.add(s.mul(x, s.splat(LOG2_E)), s.splat(ROUND_MAGIC));
    let n = s.sub(t, s.splat(ROUND_MAGIC));
    let r = s.sub(s.sub(x, s.mul(n, s.splat(LN2_HI))), s.mul(n, s.splat(LN2_LO)));
    const C: [f64; 13] = [
        1.0,
        1.0,
        0.5,
        1.666_666_666_666_666_6e-1,
        4.166_666_666_666_666_4e-2,
        8.333_333_333_333_333e-3,
        1.388_888_888_888_889e-3,
        1.984_126_984_126_984e-4,
        2.480_158_730_158_73e-5,
        2.755_731_922_398_589e-6,
        2.755_731_922_398_589e-7,
        2.505_210_838_544_172e-8,
        2.087_675_698_786_81e-9,
    ];
    // e^r = 1 + (r + r²·q(r)), q of degree 10 by Estrin's scheme: a third of
    // Horner's latency, and adding 1 last keeps the low bits of r.
    let c = |k: usize| s.splat(C[k]);
    let r2 = s.mul(r, r);
    let r4 = s.mul(r2, r2);
    let r8 = s.mul(r4, r4);
    let a1 = s.add(c(2), s.mul(c(3), r));
    let a2 = s.add(c(4), s.mul(c(5), r));
    let a3 = s.add(c(6), s.mul(c(7), r));
    let a4 = s.add(c(8), s.mul(c(9), r));
    let a5 = s.add(c(10), s.mul(c(11), r));
    let b1 = s.add(a1, s.mul(a2, r2));
    let b2 = s.add(a3, s.mul(a4, r2));
    let b3 = s.add(a5, s.mul(c(12), r2));
    let q = s.add(s.add(b1, s.mul(b2, r4)), s.mul(b3, r8));
    let p = s.add(c(0), s.add(r, s.mul(r2, q)));
    // bits(t) = bits(ROUND_MAGIC) + n; shift (n + 1023) into the exponent field.
    let bias = 1023u64.wrapping_sub(ROUND_MAGIC.to_bits());
    let scale = s.cast_f(s.u_shl52(s.u_add(s.cast_u(t), s.splat_u(bias))));
    s.mul(p, scale)
}

/// Natural logarithm for positive normal x (fdlibm's `__ieee754_log` scheme).
#[inline(always)]
#[allow(clippy::excessive_precision)] // fdlibm's coefficients, as published
pub fn ln<S: Simd>(s: S, x: S::F) -> S::F {
    const LG: [f64; 7] = [
        6.666_666_666_666_735_130e-1,
        3.999_999_999_940_941_908e-1,
        2.857_142_874_366_239_149e-1,
        2.222_219_843_214_978_396e-1,
        1.818_357_216_161_805_012e-1,
        1.531_383_769_920_937_332e-1,
        1.479_819_860_511_658_591e-1,
    ];
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = s.cast_u(x);
    // Mantissa as m in [1, 2), biased exponent as an exact f64.
    let m = s.cast_f(s.u_or(s.u_and(bits, s.splat_u(MANTISSA)), s.splat_u(1f64.to_bits())));
    let e_biased = s.sub(s.cast_f(s.u_or(s.u_shr52(bits), s.splat_u(TWO_52.to_bits()))), s.splat(TWO_52));
    // Renormalise m into [√2/2, √2) so that f = m - 1 is small.
    let big = s.lt(s.splat(std::f64::consts::SQRT_2), m);
    let m = s.select(big, s.mul(m, s.splat(0.5)), m);
    let k = s.add(s.sub(e_biased, s.splat(1023.0)), s.select(big, s.splat(1.0), s.splat(0.0)));
    let f = s.sub(m, s.splat(1.0));
    let sf = s.div(f, s.add(s.splat(2.0), f));
    let z = s.mul(sf, sf);
    let w = s.mul(z, z);
    let t1 = s.mul(w, s.add(s.splat(LG[1]), s.mul(w, s.add(s.splat(LG[3]), s.mul(w, s.splat(LG[5]))))));
    let t2 = s.mul(
        z,
        s.add(
            s.splat(LG[0]),
            s.mul(w, s.add(s.splat(LG[2]), s.mul(w, s.add(s.splat(LG[4]), s.mul(w, s.splat(LG[6])))))),
        ),
    );
    let r = s.add(t2, t1);
    let hfsq = s.mul(s.mul(s.splat(0.5), f), f);
    // k·ln2_hi - ((hfsq - (s·(hfsq + R) + k·ln2_lo)) - f)
    let inner = s.add(s.mul(sf, s.add(hfsq, r)), s.mul(k, s.splat(LN2_LO)));
    s.sub(s.mul(k, s.splat(LN2_HI)), s.sub(s.sub(hfsq, inner), f))
}

const ACKLAM_A: [f64; 6] = [
    -3.969_683_028_665_376e1,
    2.209_460_984_245_205e2,
    -2.759_285_104_469_687e2,
    1.383_577_518_672_69e2,
    -3.066_479_806_614_716e1,
    2.506_628_277_459_239,
];
const ACKLAM_B: [f64; 5] = [
    -5.447_609_879_822_406e1,
    1.615_858_368_580_409e2,
    -1.556_989_798_598_866e2,
    6.680_131_188_771_972e1,
    -1.328_068_155_288_572e1,
];
const ACKLAM_C: [f64; 6] = [
    -7.784_894_002_430_293e-3,
    -3.223_964_580_411_365e-1,
    -2.400_758_277_161_838,
    -2.549_732_539_343_734,
    4.374_664_141_464_968,
    2.938_163_982_698_783,
];
const ACKLAM_D: [f64; 4] =
    [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
const ACKLAM_P_LOW: f64 = 0.02425;

/// The central-region value and the mask of lanes that need the tail formula.
#[inline(always)]
fn inv_norm_central<S: Simd>(s: S, p: S::F) -> (S::F, S::M) {
    let q = s.sub(p, s.splat(0.5));
    let r = s.mul(q, q);
    let mut num = s.splat(ACKLAM_A[0]);
    for &a in &ACKLAM_A[1..] {
        num = s.add(s.mul(num, r), s.splat(a));
    }
    let mut den = s.splat(ACKLAM_B[0]);
    for &b in &ACKLAM_B[1..] {
        den = s.add(s.mul(den, r), s.splat(b));
    }
    den = s.add(s.mul(den, r), s.splat(1.0));
    let central = s.div(s.mul(num, q), den);
    let one_minus_p = s.sub(s.splat(1.0), p);
    let tail = s.m_or(s.lt(p, s.splat(ACKLAM_P_LOW)), s.lt(one_minus_p, s.splat(ACKLAM_P_LOW)));
    (central, tail)
}

/// The tail formula, valid for every p in (0, 1) (used where p < 0.02425 or
/// p > 0.97575).
#[inline(always)]
fn inv_norm_tail<S: Simd>(s: S, p: S::F) -> S::F {
    let pt = s.min(p, s.sub(s.splat(1.0), p));
    let t = s.sqrt(s.mul(s.splat(-2.0), ln(s, pt)));
    let mut num = s.splat(ACKLAM_C[0]);
    for &c in &ACKLAM_C[1..] {
        num = s.add(s.mul(num, t), s.splat(c));
    }
    let mut den = s.splat(ACKLAM_D[0]);
    for &d in &ACKLAM_D[1..] {
        den = s.add(s.mul(den, t), s.splat(d));
    }
    den = s.add(s.mul(den, t), s.splat(1.0));
    let lower = s.div(num, den);
    let upper = s.mul(lower, s.splat(-1.0));
    s.select(s.lt(p, s.splat(0.5)), lower, upper)
}

/// Acklam's rational approximation of the inverse normal CDF on p ∈ (0, 1)
/// (relative error < 1.15e-9, well below Monte Carlo error and below the 2^-32
/// resolution of the uniforms that feed it). The tail branch runs only when some
/// lane needs it; every lane's result is the same whichever lanes share a vector.
#[inline(always)]
pub fn inv_norm<S: Simd>(s: S, p: S::F) -> S::F {
    let (central, tail) = inv_norm_central(s, p);
    if !s.any(tail) {
        return central;
    }
    s.select(tail, inv_norm_tail(s, p), central)
}

/// [`inv_norm`] of four vectors at once. Only ~5% of values need the costly
/// tail formula, but one such value in a vector would make the whole vector
/// pay for it; instead the tail values of all four vectors are packed into as
/// few vectors as possible, computed, and put back. Each value goes through
/// exactly the same operations wherever it sits, so the bits are unchanged.
#[inline(always)]
pub fn inv_norm4<S: Simd>(s: S, p: [S::F; 4]) -> [S::F; 4] {
    let (c0, t0) = inv_norm_central(s, p[0]);
    let (c1, t1) = inv_norm_central(s, p[1]);
    let (c2, t2) = inv_norm_central(s, p[2]);
    let (c3, t3) = inv_norm_central(s, p[3]);
    let bits = [s.mask_bits(t0), s.mask_bits(t1), s.mask_bits(t2), s.mask_bits(t3)];
    if bits.iter().all(|&b| b == 0) {
        return [c0, c1, c2, c3];
    }
    let w = S::LANES;
    let mut ps = [0.0f64; 32];
    let mut out = [0.0f64; 32];
    for (j, (pj, cj)) in [(p[0], c0), (p[1], c1), (p[2], c2), (p[3], c3)].into_iter().enumerate() {
        s.store(pj, &mut ps[j * w..]);
        s.store(cj, &mut out[j * w..]);
    }
    let mut idx = [0usize; 32];
    let mut n = 0;
    for (j, &b) in bits.iter().enumerate() {
        let mut b = b;
        while b != 0 {
            idx[n] = j * w + b.trailing_zeros() as usize;
            n += 1;
            b &= b - 1;
        }
    }
    let mut k = 0;
    while k < n {
        let m = (n - k).min(w);
        // Padding lanes get a harmless tail argument.
        let mut packed = [0.01f64; 8];
        for i in 0..m {
            packed[i] = ps[idx[k + i]];
        }
        let mut res = [0.0f64; 8];
        s.store(inv_norm_tail(s, s.load(&packed)), &mut res);
        for i in 0..m {
            out[idx[k + i]] = res[i];
        }
        k += w;
    }
    [s.load(&out), s.load(&out[w..]), s.load(&out[2 * w..]), s.load(&out[3 * w..])]
}

/// Maps the low 32 bits of each lane to the uniform (x + 0.5)·2^-32 ∈ (0, 1),
/// exactly (no rounding), so 0 and 1 are never produced.
#[inline(always)]
pub fn uniform_from_u32<S: Simd>(s: S, x: S::U) -> S::F {
    let low = s.u_and(x, s.splat_u(0xFFFF_FFFF));
    let as_float = s.cast_f(s.u_or(low, s.splat_u(TWO_52.to_bits())));
    // (2^52 + x) - (2^52 - 0.5) = x + 0.5 exactly.
    let x_half = s.sub(as_float, s.splat(TWO_52 - 0.5));
    s.mul(x_half, s.splat(1.0 / 4_294_967_296.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::simd::Scalar;

    fn ulp_diff(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulp_of_std() {
        let mut worst = 0;
        for i in -69_999..=69_999 {
            let x = i as f64 * 0.01 + 0.003_7;
            let (ours, std) = (exp(Scalar, x), x.exp());
            worst = worst.max(ulp_diff(ours, std));
        }
        assert!(worst <= 2, "worst exp error {worst} ulp");
        assert_eq!(exp(Scalar, 0.0), 1.0);
        assert!(exp(Scalar, -1e6) > 0.0 && exp(Scalar, -1e6) < 1e-300);
        assert!(exp(Scalar, 1e6).is_finite());
    }

    #[test]
    fn ln_is_within_two_ulp_of_std() {
        let mut worst = 0;
        let mut x = 1e-300;
        while x < 1e300 {
            worst = worst.max(ulp_diff(ln(Scalar, x), x.ln()));
            x *= 1.000_7;
        }
        for i in 1..100_000 {
            let x = i as f64 / 100_000.0;
            worst = worst.max(ulp_diff(ln(Scalar, x), x.ln()));
        }
        assert!(worst <= 2, "worst ln error {worst} ulp");
        assert_eq!(ln(Scalar, 1.0), 0.0);
    }

    #[test]
    fn uniforms_are_exact_and_open() {
        assert_eq!(uniform_from_u32(Scalar, 0), 0.5 / 4_294_967_296.0);
        assert_eq!(uniform_from_u32(Scalar, u32::MAX as u64), 1.0 - 0.5 / 4_294_967_296.0);
        // Upper bits are ignored.
        assert_eq!(uniform_from_u32(Scalar, 0xDEAD_0000_0000_0007), 7.5 / 4_294_967_296.0);
    }
}
