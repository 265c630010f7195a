//! Numerical-integration helpers used only by the unit tests, to check the
//! closed forms against an independent computation.

/// `E[f(Z1, Z2)]` for independent standard normals, by the tensor-product
/// trapezoid rule on `[-9, 9]²` with step `0.01` (the truncated mass is
/// ~1e-19). Accuracy is O(h²) ≈ 1e-5 relative for payoffs with a kink.
pub(crate) fn expect_2d_normal(f: impl Fn(f64, f64) -> f64) -> f64 {
    let h = 0.01;
    let n = 900_i32;
    let w: Vec<(f64, f64)> = (-n..=n)
        .map(|i| {
            let z = f64::from(i) * h;
            (z, h * (-0.5 * z * z).exp() / (2.0 * core::f64::consts::PI).sqrt())
        })
        .collect();
    let mut acc = 0.0;
    for &(z1, w1) in &w {
        let mut row = 0.0;
        for &(z2, w2) in &w {
            row += w2 * f(z1, z2);
        }
        acc += w1 * row;
    }
    acc
}

/// Adaptive Simpson quadrature of `f` on `[a, b]` to absolute tolerance
/// `tol` (Lyness' criterion with Richardson correction; depth-limited).
pub(crate) fn adaptive_simpson(f: &impl Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> f64 {
    #[allow(clippy::too_many_arguments)] // private recursive helper
    fn rec(
        f: &impl Fn(f64) -> f64,
        a: f64,
        b: f64,
        fa: f64,
        fm: f64,
        fb: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let lm = 0.5 * (a + m);
        let rm = 0.5 * (m + b);
        let flm = f(lm);
        let frm = f(rm);
        let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
        let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
        let delta = left + right - whole;
        if depth == 0 || delta.abs() <= 15.0 * tol {
            return left + right + delta / 15.0;
        }
        rec(f, a, m, fa, flm, fm, left, 0.5 * tol, depth - 1) + rec(f, m, b, fm, frm, fb, right, 0.5 * tol, depth - 1)
    }
    // Start from 64 panels so that narrow peaks are not missed.
    let panels = 64;
    let width = (b - a) / f64::from(panels);
    (0..panels)
        .map(|i| {
            let lo = a + f64::from(i) * width;
            let hi = if i + 1 == panels { b } else { lo + width };
            let (fa, fm, fb) = (f(lo), f(0.5 * (lo + hi)), f(hi));
            let whole = (hi - lo) / 6.0 * (fa + 4.0 * fm + fb);
            rec(f, lo, hi, fa, fm, fb, whole, tol / f64::from(panels), 30)
        })
        .sum()
}
