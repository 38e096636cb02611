//! Index arithmetic without division: the kernels turn a linear index into coordinates with
//! a multiply-high, shifts and adds per axis (Granlund and Montgomery's division by an
//! invariant integer), because a GPU divides integers slowly and a CPU running Vulkan
//! (lavapipe) cannot vectorize a division at all: broadcast kernels spent most of their time
//! there.
//!
//! For a divisor `d`, with `l = ceil(log2 d)`: `m = floor(2^32 (2^l - d) / d) + 1`, and for
//! every 32-bit `n`, with `t = mulhi(m, n)`: `n / d = (t + ((n - t) >> s1)) >> s2`, where
//! `s1 = min(l, 1)` and `s2 = max(l - 1, 0)` (so `d = 1` needs no special case).
//! [`divmod_table`] computes `(d, m, s1, s2)` per axis on the host, [`push_coordinates`]
//! applies them.

use cubecl::prelude::*;

/// Entries per axis in a [`divmod_table`]: extent, multiplier, first shift, second shift.
pub const ENTRIES: usize = 4;

/// `(m, s1, s2)` for dividing by `d`; `d = 0` (an empty axis, where nothing is launched)
/// gives a harmless `(0, 0, 0)`.
pub fn magic(d: u32) -> (u32, u32, u32) {
    if d == 0 {
        return (0, 0, 0);
    }
    let l = 32 - (d - 1).leading_zeros(); // ceil(log2 d); 0 for d = 1
    let m = ((1u64 << 32) * ((1u64 << l) - u64::from(d))) / u64::from(d) + 1;
    (m as u32, l.min(1), l.saturating_sub(1))
}

/// The table [`push_coordinates`] reads for axes of extents `dims`: [`ENTRIES`] values each.
pub fn divmod_table(dims: &[u32]) -> Vec<u32> {
    dims.iter()
        .flat_map(|&d| {
            let (m, s1, s2) = magic(d);
            [d, m, s1, s2]
        })
        .collect()
}

/// `n / d` by the table's entries for `d`, on the host (what the kernels compute).
#[cfg(test)]
pub fn divide(n: u32, (m, s1, s2): (u32, u32, u32)) -> u32 {
    let t = ((u64::from(m) * u64::from(n)) >> 32) as u32;
    (t + ((n - t) >> s1)) >> s2
}

/// The coordinates of `index` in axes `first..first + count` of `table` (a [`divmod_table`];
/// row-major), innermost first, pushed onto `coords`. `index` must be below the product of
/// those extents: the outermost coordinate is what is left, without a division.
#[cube]
pub fn push_coordinates(
    coords: &mut Sequence<u32>,
    index: u32,
    table: &Sequence<u32>,
    #[comptime] first: usize,
    #[comptime] count: usize,
) {
    let mut rest = index;
    #[unroll]
    for i in 0..count {
        let axis = comptime![first + count - 1 - i];
        if comptime![i + 1 == count] {
            coords.push(rest);
        } else {
            let e = comptime![axis * ENTRIES];
            let extent = table[e];
            let t = u32::mul_hi(rest, table[comptime![e + 1]]);
            let q = (t + ((rest - t) >> table[comptime![e + 2]])) >> table[comptime![e + 3]];
            coords.push(rest - q * extent);
            rest = q;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_magic_numbers_is_exact_over_the_whole_u32_range() {
        let mut divisors: Vec<u32> = (1..=300).collect();
        divisors.extend([641, 1000, 4099, 65_535, 65_536, 65_537, 1 << 20, (1 << 31) - 1, 1 << 31]);
        divisors.extend([(1u32 << 31) + 1, u32::MAX - 1, u32::MAX]);
        let mut dividends: Vec<u32> = (0..2000).collect();
        dividends.extend((0..2000).map(|k| u32::MAX - k));
        dividends.extend((0..32).flat_map(|b| [(1u32 << b) - 1, 1u32 << b, (1u32 << b) + 1]));
        let mut x = 0x9e37_79b9u32;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            dividends.push(x);
        }
        for &d in &divisors {
            let p = magic(d);
            for &n in &dividends {
                assert_eq!(divide(n, p), n / d, "{n} / {d}");
            }
            // Multiples and their neighbours, where a wrong multiplier shows first.
            for k in [1u32, 2, 3, 1000, u32::MAX / d] {
                let n = d.wrapping_mul(k);
                if k <= u32::MAX / d {
                    for m in [n.wrapping_sub(1), n, n.wrapping_add(1)] {
                        assert_eq!(divide(m, p), m / d, "{m} / {d}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_table_lists_extent_multiplier_and_shifts_per_axis() {
        let table = divmod_table(&[7, 1, 0]);
        assert_eq!(table.len(), 3 * ENTRIES);
        assert_eq!(table[0], 7);
        assert_eq!(&table[4..8], &[1, 1, 0, 0]);
        assert_eq!(&table[8..12], &[0, 0, 0, 0]);
    }
}
