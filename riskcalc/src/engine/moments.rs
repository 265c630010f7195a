//! Streaming moments with a fixed summation order.

use serde::{Deserialize, Serialize};

/// Count, sum and centred sum of squares of a set of per-path values.
///
/// Blocks are summed by [`striped_sum`] (an order fixed by path index, not by
/// thread or vector width) and merged in block order by [`Moments::merge`]
/// (Chan et al.'s pairwise update), so the result depends only on the values
/// and the block size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    /// Σ (v − mean)².
    pub m2: f64,
}

impl Moments {
    /// Two passes over one block: the mean, then the centred squares.
    pub fn of_block(values: &[f64]) -> Moments {
        let n = values.len() as u64;
        if n == 0 {
            return Moments::default();
        }
        let sum = striped_sum(values, |v| v);
        let mean = sum / n as f64;
        let m2 = striped_sum(values, |v| (v - mean) * (v - mean));
        Moments { n, sum, m2 }
    }

    /// Moments of the valid slots of a tiled block (see
    /// [`crate::kernel::path::TILE`]), in slot order, without copying: whole
    /// tiles are summed in place and only the last, partial tile is gathered.
    pub fn of_slots(values: &[f64], n_paths: usize) -> Moments {
        use crate::kernel::path::{TILE, slot_path};
        let full = n_paths / TILE * TILE;
        let mut tail = [0.0f64; TILE];
        let mut n_tail = 0;
        for slot in (full..full + TILE).filter(|&slot| full < n_paths && slot_path(slot) < n_paths) {
            tail[n_tail] = values[slot];
            n_tail += 1;
        }
        let (head, tail) = (&values[..full], &tail[..n_tail]);
        if n_paths == 0 {
            return Moments::default();
        }
        // `full` is a multiple of 8, so the tail continues at accumulator 0:
        // the same assignment of values to accumulators as one contiguous slice.
        let mut acc = [0.0f64; 8];
        striped_accumulate(head, &mut acc, |v| v);
        striped_accumulate(tail, &mut acc, |v| v);
        let sum = combine(&acc);
        let mean = sum / n_paths as f64;
        let mut acc = [0.0f64; 8];
        striped_accumulate(head, &mut acc, |v| (v - mean) * (v - mean));
        striped_accumulate(tail, &mut acc, |v| (v - mean) * (v - mean));
        Moments { n: n_paths as u64, sum, m2: combine(&acc) }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum / self.n as f64 }
    }

    /// Standard error of the mean (0 with fewer than two paths).
    pub fn std_error(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        (self.m2.max(0.0) / (n - 1.0) / n).sqrt()
    }

    /// Appends `other` (the next block in order).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let delta = other.mean() - self.mean();
        self.m2 = self.m2 + other.m2 + delta * delta * (na * nb / (na + nb));
        self.sum += other.sum;
        self.n += other.n;
    }
}

/// Sum of `f(v)` with eight interleaved accumulators (value i goes to
/// accumulator i mod 8), combined as a fixed tree. The order depends only on
/// the index, so every ISA and thread count gives the same bits; written over
/// chunks of eight so that LLVM keeps the accumulators in one vector register.
pub fn striped_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    striped_accumulate(values, &mut acc, f);
    combine(&acc)
}

/// Adds `f(values[i])` to `acc[i mod 8]`, in index order.
fn striped_accumulate(values: &[f64], acc: &mut [f64; 8], f: impl Fn(f64) -> f64) {
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for k in 0..8 {
            acc[k] += f(chunk[k]);
        }
    }
    for (k, &v) in rest.iter().enumerate() {
        acc[k] += f(v);
    }
}

fn combine(acc: &[f64; 8]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_blocks_match_the_textbook_formulas() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64 * 0.5 + 1e3).collect();
        let mut m = Moments::default();
        for block in values.chunks(96) {
            m.merge(&Moments::of_block(block));
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert_eq!(m.n, 1000);
        assert!((m.mean() - mean).abs() < 1e-10);
        assert!((m.std_error() - (var / n).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn striped_sum_assigns_value_i_to_accumulator_i_mod_8() {
        // Reference: the definition, one value at a time.
        let values: Vec<f64> = (0..1003).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        let mut acc = [0.0f64; 8];
        for (i, v) in values.iter().enumerate() {
            acc[i % 8] += v;
        }
        let reference = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        assert_eq!(striped_sum(&values, |v| v).to_bits(), reference.to_bits());
    }

    #[test]
    fn constant_values_have_zero_error() {
        let m = Moments::of_block(&[3.25; 64]);
        assert_eq!(m.mean(), 3.25);
        assert_eq!(m.std_error(), 0.0);
    }
}
