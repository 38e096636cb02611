//! Seeded random arrays that are bit-for-bit the same on every platform.

use switchyard_ir::{DType, SeededRng, Shape};

use crate::array::Array;
use crate::buffer::{AlignedBuffer, AllocError};

/// A random array, fully determined by `(dtype, shape, seed)`: the same bytes on every
/// platform and in every build.
///
/// - The generator is xoshiro256\*\* whose 256-bit state is four successive outputs of
///   SplitMix64 started at `seed` (`ir::SeededRng`). Elements are drawn in row-major order.
/// - `F64`: standard normal (mean 0, standard deviation 1), by the Marsaglia polar method in
///   `f64`: `u = 2a - 1`, `v = 2b - 1` from two uniforms `a, b` in `[0, 1)` (the top 53 bits of
///   one output each), retried until `0 < s = u² + v² < 1`, then `u·√(-2 ln s / s)` and
///   `v·√(-2 ln s / s)` are the next two elements. `ln` is computed here with only IEEE-754
///   basic arithmetic, so no platform math library is involved.
/// - `F32`: the same `f64` normal values, each rounded to the nearest `f32`.
/// - `I32`, `I64`: uniform integers in `[-10, 10]` inclusive (unbiased: one output taken
///   modulo 21, rejecting the few outputs that would bias it).
/// - `Bool`: true or false with probability 1/2 each (the top bit of one output).
///
/// Panics when the memory cannot be allocated (tests and benchmarks); code that takes
/// shapes from users calls [`try_random_array`].
pub fn random_array(dtype: DType, shape: &Shape, seed: u64) -> Array {
    match try_random_array(dtype, shape, seed) {
        Ok(a) => a,
        Err(e) => panic!("random_array({dtype}{shape}): {e}"),
    }
}

/// [`random_array`], with running out of memory an error instead of a panic.
pub fn try_random_array(dtype: DType, shape: &Shape, seed: u64) -> Result<Array, AllocError> {
    let size = dtype.size_bytes();
    let mut buffer = AlignedBuffer::zeroed(shape.byte_len(size))?;
    let mut rng = SeededRng::new(seed);
    let mut normals = Normals { spare: None };
    for out in buffer.as_bytes_mut().chunks_exact_mut(size) {
        match dtype {
            DType::Bool => out[0] = u8::from(rng.next_u64() >> 63 == 1),
            DType::I32 => out.copy_from_slice(&(small_int(&mut rng) as i32).to_le_bytes()),
            DType::I64 => out.copy_from_slice(&small_int(&mut rng).to_le_bytes()),
            DType::F32 => out.copy_from_slice(&(normals.next(&mut rng) as f32).to_le_bytes()),
            DType::F64 => out.copy_from_slice(&normals.next(&mut rng).to_le_bytes()),
        }
    }
    Ok(Array::from_buffer(dtype, shape.clone(), buffer))
}

/// A uniform integer in `[-10, 10]`.
fn small_int(rng: &mut SeededRng) -> i64 {
    const SPAN: u64 = 21;
    // 2^64 mod 21: outputs below it are rejected so that the rest split evenly into 21 classes.
    const REJECT_BELOW: u64 = SPAN.wrapping_neg() % SPAN;
    loop {
        let x = rng.next_u64();
        if x >= REJECT_BELOW {
            return (x % SPAN) as i64 - 10;
        }
    }
}

/// Standard normal values from the Marsaglia polar method, which yields them in pairs.
struct Normals {
    spare: Option<f64>,
}

impl Normals {
    fn next(&mut self, rng: &mut SeededRng) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * rng.next_unit() - 1.0;
            let v = 2.0 * rng.next_unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * portable_ln(s) / s).sqrt();
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }
}

/// The natural logarithm of a positive finite `x`, using only IEEE-754 basic operations
/// (which, unlike a platform's `ln`, round the same way everywhere). Accurate to a few ulps.
fn portable_ln(x: f64) -> f64 {
    // ln(2) split so that `e * LN2_HI` is exact for any exponent (fdlibm's constants).
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const TWO_54: f64 = 18_014_398_509_481_984.0;
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= TWO_54;
        e -= 54;
    }
    // x = m * 2^e with m in [1, 2), then moved to [sqrt(1/2), sqrt(2)).
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), with |s| <= 0.1716, so s^2 <= 0.0295
    // and terms up to s^25 leave a relative error below 1e-19.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut poly = 0.0;
    for k in (1..=12).rev() {
        poly = poly * s2 + 1.0 / (2 * k + 1) as f64;
    }
    let ln_m = 2.0 * s + 2.0 * s * s2 * poly;
    let ef = e as f64;
    ef * LN2_HI + (ef * LN2_LO + ln_m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(dims: &[usize]) -> Shape {
        Shape::new(dims).unwrap()
    }

    /// FNV-1a, to pin the exact output bytes.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different_bytes() {
        for dtype in DType::ALL {
            let s = shape(&[7, 13]);
            let a = random_array(dtype, &s, 42);
            assert_eq!(a, random_array(dtype, &s, 42), "{dtype}");
            assert_ne!(a, random_array(dtype, &s, 43), "{dtype}");
            assert_eq!(a.dtype(), dtype);
            assert_eq!(a.shape(), &s);
        }
    }

    #[test]
    fn output_is_pinned() {
        // Any change here changes every seeded array users have seen: don't.
        let s = shape(&[4, 25]);
        let hashes: Vec<u64> =
            DType::ALL.iter().map(|&d| fnv1a(random_array(d, &s, 2024).as_bytes())).collect();
        // Cross-checked against an independent Python implementation of the documented method.
        assert_eq!(
            hashes,
            [
                18252481797164410212,
                109592549405881634,
                475655123428139778,
                2540130333948825289,
                9073353340241938738
            ]
        );
        let first = random_array(DType::F64, &shape(&[4]), 2024).to_vec::<f64>().unwrap();
        assert_eq!(
            first,
            [0.7877704987458325, -0.7344488490158809, -0.6355328318708062, -1.4615153259586555]
        );
    }

    #[test]
    fn f32_is_f64_rounded() {
        let s = shape(&[101]);
        let wide = random_array(DType::F64, &s, 9).to_vec::<f64>().unwrap();
        let narrow = random_array(DType::F32, &s, 9).to_vec::<f32>().unwrap();
        assert!(wide.iter().zip(&narrow).all(|(&w, &n)| w as f32 == n));
    }

    #[test]
    fn normals_have_mean_zero_and_sd_one() {
        for seed in [0, 1, 12345] {
            let v = random_array(DType::F64, &shape(&[100_000]), seed).to_vec::<f64>().unwrap();
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
            assert!(mean.abs() < 0.02, "seed {seed}: mean {mean}");
            assert!((sd - 1.0).abs() < 0.02, "seed {seed}: sd {sd}");
            assert!(v.iter().all(|x| x.is_finite()));
            let beyond_2sd = v.iter().filter(|x| x.abs() > 2.0).count() as f64 / n;
            assert!((beyond_2sd - 0.0455).abs() < 0.005, "seed {seed}: {beyond_2sd}");
        }
        let v = random_array(DType::F32, &shape(&[100_000]), 7).to_f64_vec();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.02);
    }

    #[test]
    fn ints_cover_minus_ten_to_ten() {
        let v = random_array(DType::I64, &shape(&[10_000]), 5).to_vec::<i64>().unwrap();
        assert!(v.iter().all(|x| (-10..=10).contains(x)));
        for k in -10..=10 {
            let count = v.iter().filter(|&&x| x == k).count();
            assert!((350..=610).contains(&count), "{k} drawn {count} times");
        }
        let w = random_array(DType::I32, &shape(&[2_000]), 5).to_vec::<i32>().unwrap();
        assert!(w.iter().all(|x| (-10..=10).contains(x)));
        assert!(w.contains(&-10) && w.contains(&10));
    }

    #[test]
    fn bools_take_both_values() {
        let v = random_array(DType::Bool, &shape(&[10_000]), 3).to_vec::<bool>().unwrap();
        let trues = v.iter().filter(|&&b| b).count();
        assert!((4_700..=5_300).contains(&trues), "{trues}");
        assert!(random_array(DType::Bool, &shape(&[10_000]), 3).as_bytes().iter().all(|&b| b <= 1));
    }

    #[test]
    fn empty_and_scalar_shapes_work() {
        for dtype in DType::ALL {
            let a = random_array(dtype, &shape(&[3, 0, 2]), 1);
            assert!(a.is_empty());
            assert_eq!(a.shape(), &shape(&[3, 0, 2]));
            let s = random_array(dtype, &Shape::scalar(), 1);
            assert_eq!(s.len(), 1);
            assert_eq!(s.as_bytes().len(), dtype.size_bytes());
        }
    }

    #[test]
    fn portable_ln_is_accurate() {
        let mut x = 1e-310;
        while x < 1e300 {
            for y in [x, x * 1.37, x * 0.71] {
                let (got, want) = (portable_ln(y), y.ln());
                assert!(
                    (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0),
                    "{y}: {got} vs {want}"
                );
            }
            x *= 3.1;
        }
        assert_eq!(portable_ln(1.0), 0.0);
        let mut s = 0.5;
        for _ in 0..2000 {
            let (got, want) = (portable_ln(s), s.ln());
            assert!((got - want).abs() <= 2.0 * f64::EPSILON * want.abs().max(f64::EPSILON), "{s}");
            s = (s * 1.6180339887).fract().max(1e-9);
        }
    }
}
