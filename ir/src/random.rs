//! The one seeded generator: xoshiro256** 1.0 (Blackman and Vigna), seeded by SplitMix64
//! (Steele, Lea and Flood). The runtime's random arrays and every test draw from it, so a
//! seed means the same stream everywhere, on every platform.

/// SplitMix64, used only to expand a seed into the generator's state.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A seeded xoshiro256** generator (not for cryptography).
#[derive(Clone, Debug)]
pub struct SeededRng([u64; 4]);

impl SeededRng {
    /// The generator for `seed`: its state is four SplitMix64 outputs from `seed`.
    pub fn new(seed: u64) -> SeededRng {
        let mut sm = SplitMix64(seed);
        // Four outputs of a bijection on distinct states: never all zero.
        SeededRng([sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()])
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform double in `[0, 1)`: the top 53 bits times 2^-53 (exact).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n`, or 0 when `n` is 0 (modulo bias below 2^-40 for the small `n` of
    /// tests; `random_array` rejects instead where it matters).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_unit() < p
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference() {
        let mut sm = SplitMix64(0);
        let got: Vec<u64> = (0..4).map(|_| sm.next_u64()).collect();
        assert_eq!(got, [0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec]);
    }

    #[test]
    fn xoshiro_matches_the_reference() {
        // The reference implementation's first outputs from state [1, 2, 3, 4].
        let mut rng = SeededRng([1, 2, 3, 4]);
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1509978240, 1215971899390074240]);
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut rng = SeededRng::new(7);
        assert!((0..1000).all(|_| rng.below(5) < 5));
        assert_eq!(rng.below(0), 0);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&rng.next_unit())));
        assert!(!(0..100).any(|_| rng.chance(0.0)));
        assert_eq!(*rng.pick(&[3]), 3);
    }
}
