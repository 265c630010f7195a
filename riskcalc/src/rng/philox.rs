//! Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
//! SC'11): a counter-based generator. Output = bijection(counter, key), so any
//! draw can be computed directly from its coordinates, in any order, on any
//! machine. This scalar version is the reference the vector kernel must match.

/// Philox multipliers and Weyl key increments (Random123 constants).
pub const M0: u32 = 0xD251_1F53;
pub const M1: u32 = 0xCD9E_8D57;
pub const W0: u32 = 0x9E37_79B9;
pub const W1: u32 = 0xBB67_AE85;
pub const ROUNDS: usize = 10;

/// The per-round keys of a 64-bit key, precomputed once per job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundKeys(pub [[u32; 2]; ROUNDS]);

impl RoundKeys {
    pub fn new(key: [u32; 2]) -> Self {
        let mut keys = [[0u32; 2]; ROUNDS];
        let mut k = key;
        for round_key in &mut keys {
            *round_key = k;
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        RoundKeys(keys)
    }

    /// The key for a job seed: its low and high 32-bit words.
    pub fn from_seed(seed: u64) -> Self {
        Self::new([seed as u32, (seed >> 32) as u32])
    }
}

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32-10 of one counter.
pub fn philox4x32(counter: [u32; 4], keys: &RoundKeys) -> [u32; 4] {
    let mut x = counter;
    for k in &keys.0 {
        let (hi0, lo0) = mulhilo(M0, x[0]);
        let (hi1, lo1) = mulhilo(M1, x[2]);
        x = [hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0];
    }
    x
}

/// A sequential stream over counters `[i_lo, i_hi, c2, c3]`, i = 0, 1, 2, ...,
/// for code that wants a plain `rand_core::RngCore` (tests, tools). The Monte
/// Carlo kernels address counters directly instead.
#[derive(Debug, Clone)]
pub struct PhiloxStream {
    keys: RoundKeys,
    high: [u32; 2],
    index: u64,
    buf: [u32; 4],
    used: usize,
}

impl PhiloxStream {
    pub fn new(seed: u64, stream: [u32; 2]) -> Self {
        PhiloxStream { keys: RoundKeys::from_seed(seed), high: stream, index: 0, buf: [0; 4], used: 4 }
    }
}

impl rand_core::RngCore for PhiloxStream {
    fn next_u32(&mut self) -> u32 {
        if self.used == 4 {
            let ctr = [self.index as u32, (self.index >> 32) as u32, self.high[0], self.high[1]];
            self.buf = philox4x32(ctr, &self.keys);
            self.index = self.index.wrapping_add(1);
            self.used = 0;
        }
        let v = self.buf[self.used];
        self.used += 1;
        v
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_u32(self)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123 `tests/kat_vectors`, "philox4x32 10" lines: counter, key, output.
    pub(crate) const KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0, 0, 0, 0], [0, 0], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([0xffff_ffff; 4], [0xffff_ffff; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];

    #[test]
    fn matches_random123_known_answers() {
        for (ctr, key, expected) in KAT {
            assert_eq!(philox4x32(ctr, &RoundKeys::new(key)), expected);
        }
    }

    #[test]
    fn stream_is_the_counter_sequence() {
        use rand_core::RngCore;
        let mut s = PhiloxStream::new(7, [3, 9]);
        let keys = RoundKeys::from_seed(7);
        for i in 0..3u32 {
            let block = philox4x32([i, 0, 3, 9], &keys);
            for word in block {
                assert_eq!(s.next_u32(), word);
            }
        }
    }
}
