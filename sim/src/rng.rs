//! A tiny deterministic generator (SplitMix64) and the distributions the
//! simulator draws from. Own code rather than a crate so a seed's stream can
//! never change under a dependency upgrade: same seed, same report.

use crate::scenario::LeadTime;

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1): never 0, so `ln` is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Exponential with the given rate (events per unit); `None` for rate 0.
    pub fn exponential(&mut self, rate: f64) -> Option<f64> {
        (rate > 0.0).then(|| -self.uniform().ln() / rate)
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A node lead time in seconds.
    pub fn lead_time(&mut self, lt: &LeadTime) -> f64 {
        match *lt {
            LeadTime::Managed => 180.0 + 120.0 * self.uniform(),
            LeadTime::Karpenter => 45.0 + 45.0 * self.uniform(),
            LeadTime::Fixed { s } => s,
            LeadTime::Uniform { min_s, max_s } => min_s + (max_s - min_s) * self.uniform(),
            LeadTime::Lognormal { median_s, sigma, min_s, max_s } => {
                (median_s * (sigma * self.normal()).exp()).clamp(min_s, max_s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_and_distributions_have_their_means() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut r = Rng::new(1);
        let n = 100_000;
        let mean_exp = (0..n).filter_map(|_| r.exponential(2.0)).sum::<f64>() / f64::from(n);
        assert!((mean_exp - 0.5).abs() < 0.01, "{mean_exp}");
        let managed: Vec<f64> = (0..n).map(|_| r.lead_time(&LeadTime::Managed)).collect();
        assert!(managed.iter().all(|&s| (180.0..=300.0).contains(&s)));
        let mean = managed.iter().sum::<f64>() / f64::from(n);
        assert!((mean - 240.0).abs() < 1.0, "{mean}");
        let mut logn: Vec<f64> = (0..n)
            .map(|_| r.lead_time(&LeadTime::Lognormal { median_s: 60.0, sigma: 0.3, min_s: 0.0, max_s: 1e9 }))
            .collect();
        logn.sort_by(f64::total_cmp);
        assert!((logn[n as usize / 2] - 60.0).abs() < 1.0, "median {}", logn[n as usize / 2]);
        assert_eq!(r.exponential(0.0), None);
    }
}
