//! `gpu.cubecl`'s own f32 logarithms, `expm1`, `sin`, `cos`, `tan`, `pow` and `atan2`, so
//! that they do not depend on the driver's builtins (Vulkan only promises `log` to 2^-21 absolute near 1:
//! lavapipe's is 557 ulp off there, and it misreads subnormals; `sin`/`cos` only to 2^-11
//! absolute on `[-pi, pi]`, with no accurate reduction of large arguments).
//!
//! Logarithms: `x = 2^k * m` with `m` in `[sqrt(2)/2, sqrt(2))`, found from the bits
//! (a subnormal's integer mantissa is converted to a float first, so no float operation ever
//! sees a subnormal), then `log(m) = f - hfsq + s*(hfsq + R(s^2))` with `f = m - 1`,
//! `s = f/(2+f)`, `hfsq = f^2/2` and `R` fdlibm's minimax polynomial: the rounding errors of
//! the division only touch the small correction term. `log2` splits `f - hfsq` into a short
//! head and a tail (musl's `log2f`), so it is exact at powers of two and within about an ulp
//! elsewhere. `log1p` is Goldberg's `log(1 + x) * x / ((1 + x) - 1)`.
//!
//! `expm1`: below `ln2 / 2` in magnitude a Taylor polynomial (`-0` stays `-0`, subnormals are
//! returned as they are); elsewhere `x = k ln2 + r` (Cody-Waite), `expm1(x) = 2^k expm1(r) +
//! (2^k - 1)`, where both terms are exact for the `k` that matter and only their sum rounds.
//!
//! Trigonometry: `|x| = n pi/2 + r` by Payne-Hanek reduction in 32-bit integer arithmetic
//! for every `|x| >= pi/4` (exact to 64 bits of the quadrant fraction, so huge arguments are
//! as accurate as small ones), then Cephes' minimax polynomials for `sin r` and `cos r` on
//! `[-pi/4, pi/4]`, picked and negated by the quadrant; `tan` is their quotient.
//!
//! `pow` and `atan2` work in double-single arithmetic (a value as an unevaluated sum of two
//! f32, exact products by Dekker's splitting, exact sums by Knuth's two-sum, every rounding
//! they rely on through [`opaque`]). `pow`: `log2 |x|` in two parts to about 2^-34
//! ([`log2_dd`]), multiplied exactly by `y`, then `2^t` from `t = n + r` with a polynomial
//! in `r` whose leading terms are kept exact, scaled by `2^n` in two steps. `atan2`: the
//! quotient of the smaller magnitude by the larger in two parts (the operands scaled by a
//! power of two first), reduced around `tan(pi/8)`, a minimax polynomial, and the quadrant's
//! multiple of `pi/4` added in two parts. Both are straight-line code (no loops) and within
//! an ulp of the correctly rounded result.
//!
//! Every constant is written by its bits (exact, and no lint about its digits).

use cubecl::prelude::*;

/// `x` unchanged, through an integer operation with `zero`, a run-time 0 the driver cannot
/// see through. Vulkan lets a driver reassociate float arithmetic, and lavapipe does: it
/// turns `(1 + x) - 1` into `x` and a compensated sum's `((a + y) - a) - y` into 0, and
/// factors `a * c + b * c` into `(a + b) * c` (which may overflow). Code that relies on a
/// rounding happening, or on an order of operations, passes the value through here.
#[cube]
pub fn opaque(x: f32, zero: u32) -> f32 {
    f32::reinterpret(u32::reinterpret(x) ^ zero)
}

/// fdlibm's `Lg1..Lg4`: `R(z) = z*(Lg1 + z*(Lg2 + z*(Lg3 + z*Lg4)))` for `|s| <= 0.1716`.
const LG1: f32 = f32::from_bits(0x3f2a_aaaa);
const LG2: f32 = f32::from_bits(0x3ecc_ce13);
const LG3: f32 = f32::from_bits(0x3e91_e9ee);
const LG4: f32 = f32::from_bits(0x3e78_9e26);
/// `ln 2` in two parts (fdlibm's); `k * LN2_HI` is exact for `|k| <= 128`, i.e. for every
/// normal `x` (a subnormal's `k`, down to -149, rounds once, by at most half an ulp of the
/// result).
const LN2_HI: f32 = f32::from_bits(0x3f31_7180);
const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
/// `1 / ln 2` in two parts (musl's `log2f`).
const IVLN2_HI: f32 = f32::from_bits(0x3fb8_b000);
const IVLN2_LO: f32 = f32::from_bits(0xb938_9ad4);
/// `log2(e)`, and `ln 2` split for `expm1`'s reduction (`k * LN2_HI9` exact for `|k| < 2^15`).
const LOG2_E: f32 = f32::from_bits(0x3fb8_aa3b);
const LN2_HI9: f32 = f32::from_bits(0x3f31_8000);
const LN2_LO9: f32 = f32::from_bits(0xb95e_8083);
/// `ln 2 / 2`: the bound of `expm1`'s polynomial.
const HALF_LN2: f32 = f32::from_bits(0x3eb1_7218);

/// The pieces of `log(x)` for a positive finite `x`: `log(x) = k ln2 + f - hfsq + s*(hfsq + R)`.
#[derive(CubeType)]
pub struct LogParts {
    /// The exponent `k`.
    pub k: f32,
    /// `m - 1`.
    pub f: f32,
    /// `f^2 / 2`.
    pub hfsq: f32,
    /// `f / (2 + f)`.
    pub s: f32,
    /// The polynomial `R(s^2)`.
    pub r: f32,
}

/// Splits a positive finite `x` (other inputs give meaningless parts: callers select the
/// special results afterwards).
#[cube]
pub fn log_parts(x: f32) -> LogParts {
    let bits = u32::reinterpret(x) & 0x7fff_ffffu32;
    // A subnormal is its integer mantissa times 2^-149: take the mantissa as a (normal) float.
    let sub = bits < 0x0080_0000u32;
    let xs = select(sub, f32::cast_from(bits), f32::reinterpret(bits));
    let kadj = select(sub, -149i32, 0i32);
    // Move the split point from 1 to sqrt(2)/2: the exponent of the shifted bits is k.
    let ix = u32::reinterpret(xs) + (0x3f80_0000u32 - 0x3f35_04f3u32);
    let k = i32::cast_from(ix >> 23u32) - 127i32 + kadj;
    let m = f32::reinterpret((ix & 0x007f_ffffu32) + 0x3f35_04f3u32);
    let f = m - 1.0f32;
    let s = f / (2.0f32 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    LogParts { k: f32::cast_from(k), f, hfsq: 0.5f32 * f * f, s, r: t1 + t2 }
}

/// The IEEE results at the edges of a logarithm's domain: NaN below zero and for NaN, `-inf`
/// at `±0`, `+inf` at `+inf`; `r` elsewhere.
#[cube]
fn log_specials(x: f32, r: f32) -> f32 {
    let mut out = r;
    if x < 0.0f32 {
        out = f32::reinterpret(0x7fc0_0000u32);
    }
    if x == 0.0f32 {
        out = f32::reinterpret(0xff80_0000u32);
    }
    if f32::is_inf(x) && x > 0.0f32 {
        out = x;
    }
    if f32::is_nan(x) {
        out = x;
    }
    out
}

/// The natural logarithm.
#[cube]
pub fn ln(x: f32) -> f32 {
    let p = log_parts(x);
    let r = p.k * LN2_HI - ((p.hfsq - (p.s * (p.hfsq + p.r) + p.k * LN2_LO)) - p.f);
    log_specials(x, r)
}

/// The base-2 logarithm: `f - hfsq` split into a head of 12 significant bits (whose
/// products with `IVLN2_HI` are exact) and a tail; exact at powers of two.
#[cube]
pub fn log2(x: f32) -> f32 {
    let p = log_parts(x);
    let hi = f32::reinterpret(u32::reinterpret(p.f - p.hfsq) & 0xffff_f000u32);
    let lo = ((p.f - hi) - p.hfsq) + p.s * (p.hfsq + p.r);
    let r = (lo + hi) * IVLN2_LO + lo * IVLN2_HI + hi * IVLN2_HI + p.k;
    log_specials(x, r)
}

/// `log(1 + x)`: `x` itself where `1 + x` rounds to 1 (which keeps `-0` and subnormals),
/// `-inf` at -1, NaN below. `zero` is a run-time 0 (see [`opaque`]).
#[cube]
pub fn log1p(x: f32, zero: u32) -> f32 {
    let u = 1.0f32 + x;
    let d = opaque(u, zero) - 1.0f32;
    let mut r = ln(u) * (x / d);
    if d == 0.0f32 {
        r = x;
    }
    if f32::is_inf(x) && x > 0.0f32 {
        r = x;
    }
    r
}

/// `2^k` for `-126 <= k <= 127`, from its bits (exact).
#[cube]
fn pow2i(k: i32) -> f32 {
    f32::reinterpret(u32::cast_from(k + 127i32) << 23u32)
}

/// `1/3!` to `1/9!`, the Taylor coefficients of `expm1_poly`.
const C3: f32 = f32::from_bits(0x3e2a_aaab);
const C4: f32 = f32::from_bits(0x3d2a_aaab);
const C5: f32 = f32::from_bits(0x3c08_8889);
const C6: f32 = f32::from_bits(0x3ab6_0b61);
const C7: f32 = f32::from_bits(0x3950_0d01);
const C8: f32 = f32::from_bits(0x37d0_0d01);
const C9: f32 = f32::from_bits(0x3638_ef1d);
/// `2^-25`: below it in magnitude, `expm1(x)` rounds to `x`.
const TINY: f32 = f32::from_bits(0x3300_0000);
/// The smallest f32 whose `expm1` overflows (just above `ln(f32::MAX)`).
const OVERFLOW: f32 = f32::from_bits(0x42b1_7218);

/// `e^r - 1` for `|r| <= ln2 / 2`: the Taylor series to `r^9 / 9!`, as
/// `r + r*(r*(1/2 + r*(1/3! + ...)))`.
#[cube]
fn expm1_poly(r: f32) -> f32 {
    let p = C3 + r * (C4 + r * (C5 + r * (C6 + r * (C7 + r * (C8 + r * C9)))));
    r + r * (r * (0.5f32 + r * p))
}

/// `e^x - 1`, accurate near 0; NaN gives NaN, `-inf` gives -1, overflow gives `+inf`.
/// `zero` is a run-time 0 (see [`opaque`]).
#[cube]
pub fn expm1(x: f32, zero: u32) -> f32 {
    let ax = f32::abs(x);
    // Cody-Waite: x = k ln2 + r, |r| <= ln2/2 (and a little).
    let kf = f32::round(f32::clamp(x, -40.0f32, 100.0f32) * LOG2_E);
    let r = (x - kf * LN2_HI9) - kf * LN2_LO9;
    let k = i32::cast_from(kf);
    let p = expm1_poly(r);
    // 2^k expm1(r) + (2^k - 1): the product is exact, and so is 2^k - 1 for |k| <= 24.
    let small_k = k <= 24i32;
    let ks = select(small_k, k, 0i32);
    let two_k = pow2i(ks);
    let mid = two_k * p + opaque(two_k - 1.0f32, zero);
    // k > 24: the -1 is below half an ulp of 2^k e^r; scale in two exact halves (k <= 128).
    let k1 = k / 2i32;
    let big = (p + 1.0f32) * pow2i(select(small_k, 0i32, k1)) * pow2i(select(small_k, 0i32, k - k1));
    let mut out = select(small_k, mid, big);
    if ax < HALF_LN2 {
        out = select(ax < TINY, x, expm1_poly(x));
    }
    if x < -18.0f32 {
        out = -1.0f32;
    }
    if x >= OVERFLOW {
        out = f32::reinterpret(0x7f80_0000u32);
    }
    select(f32::is_nan(x), x, out)
}

/// The bits of `2/pi` after the binary point, 32 to a word, behind a word of zeros (so that
/// a window may start up to 32 bits before the point): enough for every f32 argument.
const TWO_OVER_PI: [u32; 8] =
    [0, 0xa2f9_836e, 0x4e44_1529, 0xfc27_57d1, 0xf534_ddc0, 0xdb62_9599, 0x3c43_9041, 0xfe51_63ab];
/// `pi/2` in two parts, and `pi/4` (rounded up: the polynomials hold a little beyond).
const PIO2_HI: f32 = f32::from_bits(0x3fc9_0fdb);
const PIO2_LO: f32 = f32::from_bits(0xb33b_bd2e);
const PIO4: f32 = f32::from_bits(0x3f49_0fdb);
/// `2^-12`: below it in magnitude `sin x` and `tan x` round to `x`.
const TRIG_TINY: f32 = f32::from_bits(0x3980_0000);
/// Minimax coefficients of `sin r = r + r^3 (TS1 + r^2 (TS2 + r^2 TS3))` and
/// `cos r = 1 - r^2/2 + r^4 (TC1 + r^2 (TC2 + r^2 TC3))` on `[-pi/4, pi/4]` (Cephes').
const TS1: f32 = f32::from_bits(0xbe2a_aaa3);
const TS2: f32 = f32::from_bits(0x3c08_839e);
const TS3: f32 = f32::from_bits(0xb94c_a1f9);
const TC1: f32 = f32::from_bits(0x3d2a_aaa5);
const TC2: f32 = f32::from_bits(0xbab6_061a);
const TC3: f32 = f32::from_bits(0x37cc_f5ce);

/// Word `i` of [`TWO_OVER_PI`] (`i < 8`).
#[cube]
fn two_over_pi(i: u32) -> u32 {
    let mut w = 0u32;
    #[unroll]
    for k in 0..8u32 {
        if i == k {
            w = comptime![TWO_OVER_PI[k as usize]];
        }
    }
    w
}

/// 32 bits of [`TWO_OVER_PI`] from bit `g` on.
#[cube]
fn two_over_pi_bits(g: u32) -> u32 {
    let w = g >> 5u32;
    let b = g & 31u32;
    let next = select(b == 0u32, 0u32, two_over_pi(w + 1u32) >> ((32u32 - b) & 31u32));
    (two_over_pi(w) << b) | next
}

/// An argument reduced by `pi/2`: `|x| = n pi/2 + r` with `|r| <= pi/4` (and a rounding).
#[derive(CubeType)]
pub struct Reduced {
    /// `n mod 4`.
    pub n: u32,
    /// The remainder.
    pub r: f32,
}

/// Payne-Hanek reduction of `|x|` for finite `|x| >= pi/4`, in 32-bit integer arithmetic:
/// with `|x| = M 2^E` (`M` the 24-bit integer mantissa), `|x| * 2/pi mod 4` is
/// `M * W * 2^-94 mod 4`, where `W` is the 96-bit window of `2/pi` starting at bit `E - 1`
/// (earlier bits only add multiples of 4). The product mod `2^96` leaves 2 bits of quadrant
/// and 64 of fraction, which is exact enough even for the f32 nearest a multiple of `pi/2`
/// (at most 30 leading zero bits); the fraction, rounded to the nearest quadrant, is
/// normalized and converted to float, then multiplied by `pi/2` in two parts.
#[cube]
pub fn reduce_pio2(ax: f32) -> Reduced {
    let bits = u32::reinterpret(ax);
    let e = bits >> 23u32;
    let m = (bits & 0x007f_ffffu32) | 0x0080_0000u32;
    // The window starts at bit E - 1 = e - 151 after the point, i.e. at table bit e - 120.
    let g = e - 120u32;
    let w2 = two_over_pi_bits(g);
    let w1 = two_over_pi_bits(g + 32u32);
    let w0 = two_over_pi_bits(g + 64u32);
    // P = m * [w2:w1:w0] mod 2^96.
    let p0 = m * w0;
    let h0 = u32::mul_hi(m, w0);
    let l1 = m * w1;
    let h1 = u32::mul_hi(m, w1);
    let p1 = h0 + l1;
    let carry = select(p1 < h0, 1u32, 0u32);
    let p2 = h1 + m * w2 + carry;
    let quadrant = p2 >> 30u32;
    let mut hi = (p2 << 2u32) | (p1 >> 30u32);
    let mut lo = (p1 << 2u32) | (p0 >> 30u32);
    // Round to the nearest quadrant: a fraction >= 1/2 is the next quadrant minus the
    // two's complement of the fraction.
    let negative = (hi >> 31u32) == 1u32;
    if negative {
        lo = !lo + 1u32;
        hi = !hi + select(lo == 0u32, 1u32, 0u32);
    }
    let mut extra = 0u32;
    if hi == 0u32 {
        hi = lo;
        lo = 0u32;
        extra = 32u32;
    }
    let lz = u32::leading_zeros(hi);
    let top = (hi << lz) | select(lz == 0u32, 0u32, lo >> ((32u32 - lz) & 31u32));
    // fraction = top * 2^-(32 + lz + extra), in two exact parts.
    let scale = f32::reinterpret((127u32 - 32u32 - lz - extra) << 23u32);
    let q_hi = f32::cast_from(top & 0xffff_ff00u32) * scale;
    let q_lo = f32::cast_from(top & 0xffu32) * scale;
    let r = q_hi * PIO2_HI + (q_hi * PIO2_LO + q_lo * PIO2_HI);
    Reduced { n: (quadrant + select(negative, 1u32, 0u32)) & 3u32, r: select(negative, -r, r) }
}

/// `|x|` reduced: itself below `pi/4`, else by [`reduce_pio2`] (computed either way and
/// selected: a branch would not be cheaper on a GPU).
#[cube]
fn reduce_abs(ax: f32) -> Reduced {
    let red = reduce_pio2(ax);
    let big = ax >= PIO4;
    Reduced { n: select(big, red.n, 0u32), r: select(big, red.r, ax) }
}

/// `sin r` for `|r| <= pi/4`.
#[cube]
fn sin_poly(r: f32) -> f32 {
    let z = r * r;
    r + r * z * (TS1 + z * (TS2 + z * TS3))
}

/// `cos r` for `|r| <= pi/4`, with the compensated `1 - r^2/2` step (`zero` as for
/// [`opaque`]).
#[cube]
fn cos_poly(r: f32, zero: u32) -> f32 {
    let z = r * r;
    let hz = 0.5f32 * z;
    let w = 1.0f32 - hz;
    let lost = (1.0f32 - opaque(w, zero)) - hz;
    w + (lost + z * z * (TC1 + z * (TC2 + z * TC3)))
}

/// `sin(x)`: NaN for infinities and NaN, `x` itself for tiny `x` (so `-0` stays).
#[cube]
pub fn sin(x: f32, zero: u32) -> f32 {
    let ax = f32::abs(x);
    let red = reduce_abs(ax);
    let s = sin_poly(red.r);
    let c = cos_poly(red.r, zero);
    let v = select((red.n & 1u32) == 1u32, c, s);
    let v = select((red.n & 2u32) == 2u32, -v, v);
    let mut out = select(x < 0.0f32, -v, v);
    if ax < TRIG_TINY {
        out = x;
    }
    select(is_finite_x(x), out, f32::reinterpret(0x7fc0_0000u32))
}

/// `cos(x)`: NaN for infinities and NaN.
#[cube]
pub fn cos(x: f32, zero: u32) -> f32 {
    let ax = f32::abs(x);
    let red = reduce_abs(ax);
    let s = sin_poly(red.r);
    let c = cos_poly(red.r, zero);
    let v = select((red.n & 1u32) == 1u32, s, c);
    let v = select(((red.n + 1u32) & 2u32) == 2u32, -v, v);
    select(is_finite_x(x), v, f32::reinterpret(0x7fc0_0000u32))
}

/// `tan(x)`: `sin/cos` of the reduced argument, `-cos/sin` in odd quadrants.
#[cube]
pub fn tan(x: f32, zero: u32) -> f32 {
    let ax = f32::abs(x);
    let red = reduce_abs(ax);
    let s = sin_poly(red.r);
    let c = cos_poly(red.r, zero);
    let odd = (red.n & 1u32) == 1u32;
    let v = select(odd, -c / s, s / c);
    let mut out = select(x < 0.0f32, -v, v);
    if ax < TRIG_TINY {
        out = x;
    }
    select(is_finite_x(x), out, f32::reinterpret(0x7fc0_0000u32))
}

/// Neither NaN nor infinite (by the bits).
#[cube]
fn is_finite_x(x: f32) -> bool {
    (u32::reinterpret(x) & 0x7f80_0000u32) != 0x7f80_0000u32
}

/// A value in two parts, `hi + lo` with `|lo|` far below `|hi|` (double-single arithmetic:
/// about 48 significant bits from f32 operations only).
#[derive(CubeType)]
pub struct Dd {
    /// The leading part.
    pub hi: f32,
    /// The rest.
    pub lo: f32,
}

/// `x` with its low 12 significand bits cleared: a head of 12 significant bits, whose
/// products with other heads are exact (and `x - head12(x)`, the tail, has 12 bits at most).
#[cube]
fn head12(x: f32) -> f32 {
    f32::reinterpret(u32::reinterpret(x) & 0xffff_f000u32)
}

/// `a * b` exactly, as the rounded product and its error (Dekker's product, the operands
/// split by their bits; every partial sum is exact and goes through [`opaque`] so that the
/// driver keeps the order). Valid while no partial product overflows or underflows.
#[cube]
fn two_prod(a: f32, b: f32, zero: u32) -> Dd {
    let p = a * b;
    let ah = head12(a);
    let al = a - ah;
    let bh = head12(b);
    let bl = b - bh;
    let e1 = opaque(ah * bh - p, zero);
    let e2 = opaque(e1 + ah * bl, zero);
    let e3 = opaque(e2 + al * bh, zero);
    Dd { hi: p, lo: e3 + al * bl }
}

/// `a + b` exactly, as the rounded sum and its error (Knuth's two-sum, for any order of
/// magnitudes).
#[cube]
fn two_sum(a: f32, b: f32, zero: u32) -> Dd {
    let s = opaque(a + b, zero);
    let bb = opaque(s - a, zero);
    Dd { hi: s, lo: (a - (s - bb)) + (b - bb) }
}

/// `a + b` exactly for `|a| >= |b|` (or `a == 0`): the rounded sum and its error.
#[cube]
fn fast_two_sum(a: f32, b: f32, zero: u32) -> Dd {
    let s = opaque(a + b, zero);
    Dd { hi: s, lo: b - (s - a) }
}

/// `2 / (3 ln 2)` in two parts: `log2(m) = (3 atanh(s)) * K3`.
const K3_HI: f32 = f32::from_bits(0x3f76_384f);
const K3_LO: f32 = f32::from_bits(0xb1f1_7f01);
/// Minimax coefficients of `Q(z)`, `3 atanh(s) = 3s + s^3 + s^5 Q(s^2)` for
/// `|s| <= (sqrt2 - 1)/(sqrt2 + 1)` (relative error 2^-24.4 with these f32 coefficients).
const PQ0: f32 = f32::from_bits(0x3f19_999a);
const PQ1: f32 = f32::from_bits(0x3edb_6deb);
const PQ2: f32 = f32::from_bits(0x3eaa_8846);
const PQ3: f32 = f32::from_bits(0x3e92_da10);
/// `ln 2` in two parts, for `2^r = 1 + r ln2 + ...`.
const LN2_DD_HI: f32 = f32::from_bits(0x3f31_7218);
const LN2_DD_LO: f32 = f32::from_bits(0xb102_e308);
/// Minimax coefficients of `P(r)`, `2^r = 1 + r ln2 + r^2 P(r)` on `[-1/2, 1/2]` (relative
/// error 2^-27).
const PE0: f32 = f32::from_bits(0x3e75_fdf0);
const PE1: f32 = f32::from_bits(0x3d63_5847);
const PE2: f32 = f32::from_bits(0x3c1d_9529);
const PE3: f32 = f32::from_bits(0x3aae_c3e0);
const PE4: f32 = f32::from_bits(0x3922_09d2);
const PE5: f32 = f32::from_bits(0x3780_4518);
/// Beyond this `|y log2 x|`, `pow` has overflowed or underflowed for certain (and within it,
/// `2^n` splits into two normal halves).
const POW_T_MAX: f32 = 200.0;

/// `log2(x)` for a positive finite `x` (subnormals included) in two parts, to about 2^-34
/// relative: `x = 2^k m` as in [`log_parts`], `s = (m - 1)/(m + 1)` in two parts (its
/// division's error recovered with an exact product), `3 atanh(s) = 3s + s^3 + s^5 Q(s^2)`
/// with `s = s1 + s2` (`s1` of 12 bits, so that `3 s1` and `s1^3` are exact sums of exact
/// terms), times `2 / (3 ln 2)` in two parts, plus `k`. Exact at powers of two.
#[cube]
pub fn log2_dd(x: f32, zero: u32) -> Dd {
    let bits = u32::reinterpret(x);
    let sub = bits < 0x0080_0000u32;
    let xs = select(sub, f32::cast_from(bits), x);
    let kadj = select(sub, -149i32, 0i32);
    let ix = u32::reinterpret(xs) + (0x3f80_0000u32 - 0x3f35_04f3u32);
    let k = i32::cast_from(ix >> 23u32) - 127i32 + kadj;
    let m = f32::reinterpret((ix & 0x007f_ffffu32) + 0x3f35_04f3u32);
    let f = m - 1.0f32; // exact
                        // m + 1 = d + dl exactly (m + 1 loses one bit at most).
    let d = opaque(m + 1.0f32, zero);
    let dl = m - opaque(d - 1.0f32, zero);
    let sh = f / d;
    let p = two_prod(sh, d, zero);
    let sl = ((opaque(f - p.hi, zero) - p.lo) - sh * dl) / d;
    let s1 = head12(sh);
    let s2 = opaque(sh - s1, zero) + sl;
    // s1^2 is exact; s1^3 = c1 + c2 exactly (s1^2 cut into two 12-bit parts).
    let z1 = s1 * s1;
    let q1 = head12(z1);
    let c1 = q1 * s1;
    let c2 = (z1 - q1) * s1;
    let g = two_sum(3.0f32 * s1, c1, zero);
    let z = sh * sh;
    let q = PQ0 + z * (PQ1 + z * (PQ2 + z * PQ3));
    let rest = (3.0f32 * s2 + c2) + 3.0f32 * s2 * (z1 + s1 * s2) + sh * z * z * q;
    let glo = g.lo + rest;
    let l = two_prod(g.hi, K3_HI, zero);
    let llo = l.lo + (g.hi * K3_LO + glo * K3_HI);
    let h = two_sum(f32::cast_from(k), l.hi, zero);
    fast_two_sum(h.hi, h.lo + llo, zero)
}

/// `2^(th + tl)` for `|th| <= POW_T_MAX` and `|tl|` within an ulp of `th`: `th + tl = n + r`,
/// `|r| <= 1/2` in two parts, `2^r = 1 + r ln2 + r^2 P(r)` with `1 + r ln2` kept exact, and
/// `2^n` applied in two exact halves (a subnormal result rounds twice: within an ulp).
#[cube]
fn exp2_dd(th: f32, tl: f32, zero: u32) -> f32 {
    let n = f32::round(th);
    let r = two_sum(th - n, tl, zero);
    let e = two_prod(r.hi, LN2_DD_HI, zero);
    let pr = PE0 + r.hi * (PE1 + r.hi * (PE2 + r.hi * (PE3 + r.hi * (PE4 + r.hi * PE5))));
    let low = e.lo + r.hi * LN2_DD_LO + r.hi * r.hi * pr;
    let v = fast_two_sum(1.0f32, e.hi, zero);
    // 2^(r.hi + r.lo) = 2^r.hi (1 + r.lo ln2) to far below an ulp.
    let res = v.hi + ((v.lo + low) + v.hi * (r.lo * LN2_DD_HI));
    let ni = i32::cast_from(n);
    let k1 = ni / 2i32;
    // In two steps (through `opaque`, so that the driver does not multiply 2^k1 by
    // 2^(n - k1) first, which overflows for n = 128).
    opaque(res * pow2i(k1), zero) * pow2i(ni - k1)
}

/// `x^y` for a positive finite `x` and a finite `y` (other inputs give meaningless results:
/// the caller selects the special ones): `2^(y log2 x)` with `log2 x` in two parts
/// ([`log2_dd`]) and an exact product, so that the exponent is right to about 2^-27 even
/// where it is large; overflow gives `+inf`, underflow subnormals or `+0`. Within an ulp of
/// the correctly rounded result.
#[cube]
pub fn pow_positive(x: f32, y: f32, zero: u32) -> f32 {
    let l = log2_dd(x, zero);
    let p = two_prod(y, l.hi, zero);
    let t = fast_two_sum(p.hi, p.lo + y * l.lo, zero);
    // Far out of range (or an infinite product): clamp, 2^±200 overflows or underflows.
    let inside = f32::abs(p.hi) <= POW_T_MAX;
    let out = !inside;
    let th = select(out, select(p.hi > 0.0f32, POW_T_MAX, -POW_T_MAX), t.hi);
    let tl = select(out, 0.0f32, t.lo);
    exp2_dd(th, tl, zero)
}

/// `pi/4`, `3pi/4` and `pi` in two parts (the heads are the f32 roundings; `pi/2` is
/// `PIO2_HI + PIO2_LO` above).
const PIO4_HI: f32 = f32::from_bits(0x3f49_0fdb);
const PIO4_LO: f32 = f32::from_bits(0xb2bb_bd2e);
const PI3O4_HI: f32 = f32::from_bits(0x4016_cbe4);
const PI3O4_LO: f32 = f32::from_bits(0xb1cc_de2e);
const PI_HI: f32 = f32::from_bits(0x4049_0fdb);
const PI_LO: f32 = f32::from_bits(0xb3bb_bd2e);
/// `tan(pi/8)`: above it, `atan(t) = pi/4 + atan((t - 1)/(t + 1))`.
const TAN_PIO8: f32 = f32::from_bits(0x3ed4_13cd);
/// `2^-60`: below it, `atan(t)` is `t` and the quotient's correction is not needed.
const ATAN_TINY: f32 = f32::from_bits(0x2180_0000);
/// Minimax coefficients of `A(z)`, `atan(v) = v + v^3 A(v^2)` for `|v| <= tan(pi/8)`
/// (relative error 2^-24.6 with these f32 coefficients).
const PA0: f32 = f32::from_bits(0xbeaa_aaab);
const PA1: f32 = f32::from_bits(0x3e4c_ccbd);
const PA2: f32 = f32::from_bits(0xbe12_4508);
const PA3: f32 = f32::from_bits(0x3de2_bd4a);
const PA4: f32 = f32::from_bits(0xbdb0_9e0e);
const PA5: f32 = f32::from_bits(0x3d4e_b07d);

/// `atan2(y, x)` as C's (the angle of the point `(x, y)`, in `[-pi, pi]`), signed zeros and
/// infinities included. With `t = min/max` of the magnitudes (`t <= 1`): `atan(t)` is
/// `atan(v)` with `v = t` or, above `tan(pi/8)`, `pi/4 + atan(v)` with
/// `v = (num - den)/(num + den)`; the angle is `c + atan(v)` or `c - atan(v)` for `c` a
/// multiple of `pi/4` in two parts. `v` is computed in two parts from the operands scaled by
/// a power of two (so that subnormals and huge values lose nothing; a quotient below
/// `2^-60` is the correctly rounded division), and only the last addition rounds much:
/// within an ulp of the correctly rounded result.
#[cube]
pub fn atan2(y: f32, x: f32, zero: u32) -> f32 {
    let ay = f32::abs(y);
    let ax = f32::abs(x);
    let swap = ay > ax;
    let num = select(swap, ax, ay);
    let den = select(swap, ay, ax);
    let t = num / den;
    // Scale both by 2^-e, e the exponent of den (read from the bits, subnormals included),
    // in two exact steps: den becomes [1, 2), num loses nothing unless t < 2^-60.
    let db = u32::reinterpret(den);
    let e = select(
        db < 0x0080_0000u32,
        -118i32 - i32::cast_from(u32::leading_zeros(db)),
        i32::cast_from(db >> 23u32) - 127i32,
    );
    let h1 = (0i32 - e) / 2i32;
    let h2 = (0i32 - e) - h1;
    // Each product through `opaque`: the driver would otherwise factor the scale out of
    // `num_s + den_s` (and overflow) or multiply the two scales first (2^149 overflows).
    let den_s = opaque(opaque(den * pow2i(h1), zero) * pow2i(h2), zero);
    let num_s = opaque(opaque(num * pow2i(h1), zero) * pow2i(h2), zero);
    // t = t + tl.
    let p = two_prod(t, den_s, zero);
    let tl = select(t < ATAN_TINY, 0.0f32, (opaque(num_s - p.hi, zero) - p.lo) / den_s);
    // u = (num - den)/(num + den) = u + ul.
    let nd = two_sum(num_s, -den_s, zero);
    let dd = fast_two_sum(den_s, num_s, zero);
    let u = nd.hi / dd.hi;
    let q = two_prod(u, dd.hi, zero);
    let ul = (((opaque(nd.hi - q.hi, zero) - q.lo) + nd.lo) - u * dd.lo) / dd.hi;
    let big = t > TAN_PIO8;
    let vh = select(big, u, t);
    let vl = select(big, ul, tl);
    let z = vh * vh;
    let a = PA0 + z * (PA1 + z * (PA2 + z * (PA3 + z * (PA4 + z * PA5))));
    let tail = vl + vh * z * a;
    // The angle is c + atan(v) or c - atan(v), c = quarter * pi/4.
    let negx = (u32::reinterpret(x) >> 31u32) == 1u32;
    let mut quarter = select(big, 1u32, 0u32);
    if swap {
        quarter = 2u32 - quarter;
    }
    if negx {
        quarter = 4u32 - quarter;
    }
    let plus = swap == negx;
    let c_hi = select(
        quarter == 0u32,
        0.0f32,
        select(
            quarter == 1u32,
            PIO4_HI,
            select(quarter == 2u32, PIO2_HI, select(quarter == 3u32, PI3O4_HI, PI_HI)),
        ),
    );
    let c_lo = select(
        quarter == 0u32,
        0.0f32,
        select(
            quarter == 1u32,
            PIO4_LO,
            select(quarter == 2u32, PIO2_LO, select(quarter == 3u32, PI3O4_LO, PI_LO)),
        ),
    );
    let s = fast_two_sum(c_hi, select(plus, vh, -vh), zero);
    let mut r = s.hi + (s.lo + (c_lo + select(plus, tail, -tail)));
    // Both infinite: an odd multiple of pi/4; y zero: 0 or pi (x = -0 counts as negative).
    if f32::is_inf(ay) && f32::is_inf(ax) {
        r = select(negx, PI3O4_HI, PIO4_HI);
    }
    if ay == 0.0f32 {
        r = select(negx, PI_HI, 0.0f32);
    }
    r = select((u32::reinterpret(y) >> 31u32) == 1u32, -r, r);
    if f32::is_nan(x) || f32::is_nan(y) {
        r = f32::reinterpret(0x7fc0_0000u32);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_down(x: f32) -> f32 {
        f32::from_bits(x.to_bits() - 1)
    }

    #[test]
    fn the_constants_are_what_their_comments_say() {
        let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
        for (c, n) in [C3, C4, C5, C6, C7, C8, C9].into_iter().zip(3..) {
            assert_eq!(c, (1.0 / fact(n)) as f32, "1/{n}!");
        }
        let ln2 = std::f64::consts::LN_2;
        assert_eq!(HALF_LN2, (ln2 / 2.0) as f32);
        assert_eq!(LOG2_E, std::f32::consts::LOG2_E);
        assert!((f64::from(LN2_HI) + f64::from(LN2_LO) - ln2).abs() < 1e-12);
        assert!((f64::from(LN2_HI9) + f64::from(LN2_LO9) - ln2).abs() < 2e-11);
        assert_eq!(LN2_HI9.to_bits() & 0x7fff, 0, "k * LN2_HI9 exact for |k| < 2^15");
        assert_eq!(LN2_HI.to_bits() & 0x7f, 0, "k * LN2_HI exact for |k| <= 2^7");
        let ivln2 = 1.0 / ln2;
        assert!((f64::from(IVLN2_HI) + f64::from(IVLN2_LO) - ivln2).abs() < 1e-11);
        assert_eq!(IVLN2_HI.to_bits() & 0xfff, 0);
        // Beyond this, expm1 overflows; below 2^-25 it is x itself.
        let max_ln = f64::from(f32::MAX).ln();
        assert!(f64::from(OVERFLOW) > max_ln && f64::from(next_down(OVERFLOW)) < max_ln);
        assert_eq!(TINY, 2f32.powi(-25));
    }

    #[test]
    fn the_pow_and_atan2_constants_are_what_their_comments_say() {
        use std::f64::consts::{LN_2, PI};
        let two = |hi: f32, lo: f32| f64::from(hi) + f64::from(lo);
        assert!((two(K3_HI, K3_LO) - 2.0 / (3.0 * LN_2)).abs() < 1e-15);
        assert!((two(LN2_DD_HI, LN2_DD_LO) - LN_2).abs() < 1e-15);
        assert!((two(PIO4_HI, PIO4_LO) - PI / 4.0).abs() < 1e-15);
        assert!((two(PIO2_HI, PIO2_LO) - PI / 2.0).abs() < 1e-14);
        assert!((two(PI3O4_HI, PI3O4_LO) - 3.0 * PI / 4.0).abs() < 1e-15);
        assert!((two(PI_HI, PI_LO) - PI).abs() < 1e-14);
        for (hi, v) in [(PIO4_HI, PI / 4.0), (PI3O4_HI, 3.0 * PI / 4.0), (PI_HI, PI)] {
            assert_eq!(hi, v as f32, "the head is the f32 rounding");
        }
        assert_eq!(TAN_PIO8, (PI / 8.0).tan() as f32);
        assert_eq!(ATAN_TINY, 2f32.powi(-60));
        // The leading coefficients are the Taylor ones, nearly.
        assert!((f64::from(PQ0) - 0.6).abs() < 1e-6);
        assert!((f64::from(PE0) - LN_2 * LN_2 / 2.0).abs() < 1e-6);
        assert!((f64::from(PA0) + 1.0 / 3.0).abs() < 1e-7);
        // Beyond it 2^t overflows or rounds to 0; within it both halves of 2^n are normal.
        const { assert!(POW_T_MAX > 151.0 && POW_T_MAX <= 2.0 * 126.0) };
    }
}
