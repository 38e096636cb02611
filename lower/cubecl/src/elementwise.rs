//! The meaning of every elementwise op on one element, as cube functions: the GPU side of
//! `switchyard_ir::elementwise`, matched to it op by op.
//!
//! Where the driver's builtin differs from the reference, the op is composed here:
//! - `maximum`/`minimum` propagate NaN and keep the first operand on ties (`max(-0, +0)`).
//! - `remainder`/`floor_divide` on floats use an exact `fmod` (binary long division: every
//!   subtraction is exact by Sterbenz's lemma), then the reference's own float steps; WGSL's
//!   `%` is `x - y * trunc(x / y)`, which is not exact.
//! - integer `floor_divide`/`remainder` round toward negative infinity, give 0 for a zero
//!   divisor and wrap for `MIN / -1`; integer `pow` is square-and-multiply, wrapping.
//! - `pow` handles signs, zeros, infinities and NaN as C's `pow` does; `|x|^y` for positive
//!   finite `|x|` is our own (`math::pow_positive`: lavapipe's `pow` is `exp2(y * log2(x))`
//!   with its inaccurate `log2`).
//! - `atan2` is our own (`math::atan2`), signed zeros and infinities as C's.
//! - `log`, `log2`, `log1p`, `expm1`, `sin`, `cos`, `tan` are our own (`math.rs`), `tanh` is
//!   `expm1(2|x|) / (expm1(2|x|) + 2)` with its sign, `exp2` is the driver's `pow(2, x)`,
//!   `sigmoid` is the reference's `1 / (1 + exp(-x))`.
//! - casts from float to integer saturate and send NaN to 0; to bool they are `x != 0`.
//! - NaN tests read the bits (cubecl's `is_nan` does), so no compiler folds `x != x` away.

use cubecl::prelude::*;
use switchyard_ir::{BinaryOp, UnaryOp};

use super::math::{atan2, cos, expm1, ln, log1p, log2, opaque, pow_positive, sin, tan};

/// A quiet NaN (WGSL has no NaN literal).
#[cube]
pub fn nan() -> f32 {
    f32::reinterpret(0x7fc0_0000u32)
}

/// Whether the sign bit of `x` is set (true for `-0.0`).
#[cube]
fn sign_bit(x: f32) -> bool {
    (u32::reinterpret(x) >> 31u32) != 0u32
}

/// `+0.0` or `-0.0` with the sign of `y`.
#[cube]
fn zero_like(y: f32) -> f32 {
    let zero = f32::new(0.0);
    select(sign_bit(y), -zero, zero)
}

/// Neither NaN nor infinite.
#[cube]
pub fn is_finite(x: f32) -> bool {
    !(f32::is_nan(x) || f32::is_inf(x))
}

/// `2^k` for `-126 <= k <= 127`, built from its bits (exact).
#[cube]
fn pow2i(k: i32) -> f32 {
    f32::reinterpret(u32::cast_from(k + 127i32) << 23u32)
}

/// `exp(x)` with Cody-Waite range reduction: `x = n ln2 + r` (exactly, `|r| <= ln2 / 2`),
/// `exp(x) = 2^n exp2(r log2 e)`, the driver's `exp2` only ever seeing small arguments
/// (its `exp` is `exp2(x * log2 e)` and loses up to 80 ulp for large `|x|`), and `2^n`
/// applied in two exact halves so that subnormal results round once. `zero` is a run-time
/// 0 (`math::opaque`): the driver must not merge the two parts of `ln 2` or the halves.
#[cube]
pub fn exp(x: f32, zero: u32) -> f32 {
    let n = f32::round(x * f32::new(core::f32::consts::LOG2_E));
    // ln 2 = 0.693359375 (9 bits: n * that is exact) - 2.12194440e-4.
    let r = opaque(x - n * f32::new(0.693_359_4), zero) - n * f32::new(-2.121_944_4e-4);
    let p = f32::powf(f32::new(2.0), r * f32::new(core::f32::consts::LOG2_E));
    let k = i32::cast_from(f32::clamp(n, f32::new(-200.0), f32::new(200.0)));
    let k1 = k / 2i32;
    // Scaled in two steps, the first through `opaque`: a driver that multiplied the two
    // powers first would overflow (or underflow) where the result does not.
    let mut out = opaque(p * pow2i(k1), zero) * pow2i(k - k1);
    if x > f32::new(89.0) {
        out = f32::reinterpret(0x7f80_0000u32);
    }
    if x < f32::new(-104.0) {
        out = f32::new(0.0);
    }
    select(f32::is_nan(x), x, out)
}

/// `2^x`; results in the subnormal range are computed as `2^(x + 24) * 2^-24` (lavapipe's
/// `exp2` flushes them to 0).
#[cube]
fn exp2(x: f32) -> f32 {
    let tiny = x < f32::new(-125.0);
    let r = f32::powf(f32::new(2.0), select(tiny, x + f32::new(24.0), x));
    select(tiny, r * f32::new(5.960_464_5e-8), r)
}

/// `tanh` through `expm1`: accurate near 0, exactly ±1 beyond 10, odd (keeps `-0`).
#[cube]
fn tanh(x: f32, zero: u32) -> f32 {
    let a = f32::abs(x);
    let e = expm1(a + a, zero);
    let mut t = e / (e + f32::new(2.0));
    if a > f32::new(10.0) {
        t = f32::new(1.0);
    }
    let mut r = select(x < f32::new(0.0), -t, t);
    if x == f32::new(0.0) {
        r = x;
    }
    r
}

/// `x` is a finite or infinite whole number.
#[cube]
fn is_whole(y: f32) -> bool {
    f32::floor(y) == y
}

/// A signaling NaN (quiet bit clear): glibc's `powf`, the reference's, returns NaN for
/// `pow(sNaN, 0)` and `pow(1, sNaN)` where a quiet NaN gives 1.
#[cube]
fn is_signaling_nan(x: f32) -> bool {
    let b = u32::reinterpret(x) & 0x7fff_ffffu32;
    b > 0x7f80_0000u32 && b < 0x7fc0_0000u32
}

/// C's `pow`: `|x|^y` from `math::pow_positive` (never the driver's `pow`), then the sign of
/// odd integer powers, NaN for negative bases with fractional exponents, 0 or infinity for
/// zero or infinite `x` or infinite `y`, `pow(x, 0) == pow(1, y) == 1` (but for signaling
/// NaN, as glibc), `pow(-1, ±inf) == 1`.
#[cube]
fn pow(x: f32, y: f32, zero_bits: u32) -> f32 {
    let one = f32::new(1.0);
    let half = f32::new(0.5);
    let zero = f32::new(0.0);
    let ax = f32::abs(x);
    let mut r = pow_positive(ax, y, zero_bits);
    let negative = sign_bit(x);
    let whole = is_whole(y);
    let odd = whole && f32::floor(y * half) != y * half;
    if ax == zero || f32::is_inf(ax) || f32::is_inf(y) {
        r = select((ax > one) == (y > zero), f32::reinterpret(0x7f80_0000u32), zero);
    }
    if negative && odd {
        r = -r;
    }
    if negative && !whole && is_finite(x) && x != zero {
        r = nan();
    }
    if ax == one && f32::is_inf(y) {
        r = one;
    }
    if f32::is_nan(x) || f32::is_nan(y) {
        r = nan();
    }
    if (x == one && !is_signaling_nan(y)) || (y == zero && !is_signaling_nan(x)) {
        r = one;
    }
    r
}

/// The exact `fmod(x, y)` (sign of `x`) for finite `x` and nonzero, non-NaN `y` (`x` itself
/// for an infinite `y`, where the halving loop would never end). At most 278 iterations per
/// loop (the exponent range); see `FMOD_ITERATIONS`.
#[cube]
fn fmod_exact(x: f32, y: f32) -> f32 {
    let ay = f32::abs(y);
    let mut r = f32::abs(x);
    if !f32::is_inf(ay) {
        let mut t = ay;
        // The largest ay * 2^k not above r; then r < 2t throughout.
        while t + t <= r {
            t += t;
        }
        while t >= ay {
            if r >= t {
                r -= t; // exact: t <= r < 2t
            }
            t *= f32::new(0.5);
        }
    }
    select(sign_bit(x), -r, r)
}

/// Loop iterations `fmod_exact` may run for one element: two loops over at most the 277
/// binades between the smallest subnormal and the largest float, with their exits.
pub const FMOD_ITERATIONS: u32 = 2 * 279;

/// Loop iterations integer `pow` may run for one element (one per bit of the exponent).
pub const POW_I_ITERATIONS: u32 = 33;

/// Python's float remainder: the sign of the divisor, NaN for a zero divisor.
#[cube]
fn remainder(x: f32, y: f32) -> f32 {
    let mut out = nan();
    if !(y == f32::new(0.0) || f32::is_inf(x) || f32::is_nan(x) || f32::is_nan(y)) {
        let r = fmod_exact(x, y);
        out = r;
        if r == f32::new(0.0) {
            out = zero_like(y);
        } else if (r < f32::new(0.0)) != (y < f32::new(0.0)) {
            out = r + y;
        }
    }
    out
}

/// Python's float floor division, step for step as the reference computes it.
#[cube]
fn floor_divide(x: f32, y: f32) -> f32 {
    let mut out = x / y;
    if !(y == f32::new(0.0) || f32::is_inf(x) || f32::is_nan(x) || f32::is_nan(y)) {
        let m = fmod_exact(x, y);
        let mut div = (x - m) / y;
        if m != f32::new(0.0) && ((y < f32::new(0.0)) != (m < f32::new(0.0))) {
            div -= f32::new(1.0);
        }
        if div == f32::new(0.0) {
            out = zero_like(x / y);
        } else {
            let fl = f32::floor(div);
            out = select(div - fl > f32::new(0.5), fl + f32::new(1.0), fl);
        }
    }
    out
}

/// A float unary op whose result is a float (`barrier`: a run-time 0, see `math::opaque`).
#[cube]
pub fn unary_f(#[comptime] op: UnaryOp, x: f32, barrier: u32) -> f32 {
    let one = f32::new(1.0);
    let zero = f32::new(0.0);
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Abs => f32::abs(x),
        UnaryOp::Sign => {
            // Through an integer, so that no compiler turns it into a float `sign` that
            // returns -0 for +0 (lavapipe does).
            let s = f32::cast_from(select(x > zero, 1i32, select(x < zero, -1i32, 0i32)));
            select(f32::is_nan(x), x, s)
        }
        UnaryOp::Sqrt => f32::sqrt(x),
        UnaryOp::Exp => exp(x, barrier),
        UnaryOp::Exp2 => exp2(x),
        UnaryOp::Expm1 => expm1(x, barrier),
        UnaryOp::Log => ln(x),
        UnaryOp::Log2 => log2(x),
        UnaryOp::Log1p => log1p(x, barrier),
        UnaryOp::Sin => sin(x, barrier),
        UnaryOp::Cos => cos(x, barrier),
        UnaryOp::Tan => tan(x, barrier),
        UnaryOp::Tanh => tanh(x, barrier),
        UnaryOp::Sigmoid => one / (one + exp(-x, barrier)),
        UnaryOp::Floor => f32::floor(x),
        UnaryOp::Ceil => f32::ceil(x),
        UnaryOp::Round => f32::round(x),
        UnaryOp::Reciprocal => one / x,
        UnaryOp::Square => x * x,
        _ => x,
    }
}

/// `isnan`, `isinf`, `isfinite` of a float.
#[cube]
pub fn test_f(#[comptime] op: UnaryOp, x: f32) -> bool {
    match op {
        UnaryOp::IsNan => f32::is_nan(x),
        UnaryOp::IsInf => f32::is_inf(x),
        _ => is_finite(x),
    }
}

/// An integer unary op (wrapping).
#[cube]
pub fn unary_i(#[comptime] op: UnaryOp, x: i32) -> i32 {
    let zero = i32::new(0);
    match op {
        UnaryOp::Neg => zero - x,
        UnaryOp::Abs => select(x < zero, zero - x, x),
        UnaryOp::Sign => select(x > zero, i32::new(1), select(x < zero, i32::new(-1), zero)),
        UnaryOp::Square => x * x,
        _ => x,
    }
}

/// A float binary op whose result is a float; `zero` is a run-time 0 (see `math::opaque`).
#[cube]
pub fn binary_f(#[comptime] op: BinaryOp, x: f32, y: f32, zero: u32) -> f32 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => pow(x, y, zero),
        BinaryOp::Maximum => select(f32::is_nan(x) || f32::is_nan(y), x + y, select(x >= y, x, y)),
        BinaryOp::Minimum => select(f32::is_nan(x) || f32::is_nan(y), x + y, select(x <= y, x, y)),
        BinaryOp::Remainder => remainder(x, y),
        BinaryOp::FloorDivide => floor_divide(x, y),
        BinaryOp::Atan2 => atan2(x, y, zero),
        _ => x,
    }
}

/// Integer `pow`, wrapping; a negative exponent gives 0 except for bases 1 and -1.
#[cube]
#[allow(clippy::assign_op_pattern)]
fn pow_i(x: i32, y: i32) -> i32 {
    let zero = i32::new(0);
    let one = i32::new(1);
    let mut acc = one;
    if y < zero {
        acc = zero;
        if x == one {
            acc = one;
        }
        if x == -one {
            acc = select((y & one) == zero, one, -one);
        }
    } else {
        let mut base = x;
        let mut e = y;
        while e > zero {
            if (e & one) == one {
                acc *= base;
            }
            base *= base;
            e = e >> one;
        }
    }
    acc
}

/// Python's integer floor division (`want_quotient`) or remainder: toward negative infinity,
/// 0 for a zero divisor, wrapping for `MIN / -1`.
#[cube]
fn div_mod_i(x: i32, y: i32, #[comptime] want_quotient: bool) -> i32 {
    let zero = i32::new(0);
    let one = i32::new(1);
    let d = select(y == zero || y == -one, one, y);
    let mut q = x / d;
    let mut r = x - q * d;
    if r != zero && ((r < zero) != (y < zero)) {
        q -= one;
        r += y;
    }
    if y == -one {
        q = zero - x;
        r = zero;
    }
    if y == zero {
        q = zero;
        r = zero;
    }
    if want_quotient {
        q
    } else {
        r
    }
}

/// An integer binary op whose result is an integer (wrapping).
#[cube]
pub fn binary_i(#[comptime] op: BinaryOp, x: i32, y: i32) -> i32 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Pow => pow_i(x, y),
        BinaryOp::Maximum => select(x >= y, x, y),
        BinaryOp::Minimum => select(x <= y, x, y),
        BinaryOp::Remainder => div_mod_i(x, y, false),
        BinaryOp::FloorDivide => div_mod_i(x, y, true),
        _ => x,
    }
}

/// A comparison of two numbers (`!=` is `!(x == y)`: true when either is NaN).
#[cube]
pub fn compare<T: Numeric>(#[comptime] op: BinaryOp, x: T, y: T) -> bool {
    match op {
        BinaryOp::Eq => x == y,
        BinaryOp::Ne => !(x == y),
        BinaryOp::Lt => x < y,
        BinaryOp::Le => x <= y,
        BinaryOp::Gt => x > y,
        _ => x >= y,
    }
}

/// `eq`, `ne` and the logical ops on bools.
#[cube]
pub fn binary_b(#[comptime] op: BinaryOp, x: bool, y: bool) -> bool {
    match op {
        BinaryOp::Eq => x == y,
        BinaryOp::Ne => x != y,
        BinaryOp::LogicalAnd => x && y,
        BinaryOp::LogicalOr => x || y,
        _ => x != y,
    }
}

/// Float to integer: toward zero, saturating, NaN to 0.
#[cube]
pub fn float_to_int(x: f32) -> i32 {
    // The largest f32 below 2^31 and -2^31 itself convert exactly.
    let c = f32::clamp(x, f32::new(-2_147_483_648.0), f32::new(2_147_483_520.0));
    let mut r = i32::cast_from(c);
    if x >= f32::new(2_147_483_648.0) {
        r = i32::MAX;
    }
    if f32::is_nan(x) {
        r = 0i32;
    }
    r
}
