//! The meaning of every elementwise op on one element: the single source of truth that the
//! reference backend and constant folding both call, so they cannot disagree.
//!
//! Rules beyond the array API standard, following NumPy where the standard is silent:
//! - Integer arithmetic wraps on overflow (`i32::MAX + 1 == i32::MIN`, `abs(i32::MIN) == i32::MIN`).
//! - Integer `floor_divide` and `remainder` by zero give 0; both round toward negative infinity
//!   (the remainder takes the divisor's sign), like Python.
//! - Integer `pow` with a negative exponent gives 0, except for bases 1 and -1.
//! - Float `remainder` takes the divisor's sign (`-1 % 3 == 2`); `floor_divide` is `floor(x / y)`
//!   computed so that `x == floor_divide(x, y) * y + remainder(x, y)` as closely as floats allow.
//! - `maximum` and `minimum` propagate NaN; between `-0.0` and `+0.0` they return the first operand.
//! - `sign` gives -1, 0 or 1 (NaN for NaN; both zeros give +0). `round` rounds half to even.
//! - `cast` from float to integer truncates toward zero and saturates at the integer's range;
//!   NaN gives 0. Integer to narrower integer wraps. Anything to bool is `x != 0` (NaN is true).
//! - `clip(x, lo, hi)` is `minimum(maximum(x, lo), hi)`: NaN anywhere gives NaN, and `lo > hi`
//!   gives `hi`.
//!
//! Same bits on every machine: transcendental functions (`exp`, `log`, `sin`, `pow`, `atan2`,
//! ...) come from the pure-Rust `libm` crate, never from the platform's C library, whose
//! results differ between systems in the last place. Everything else used here is exact in
//! IEEE arithmetic (`+ - * /`, `sqrt`, `%` (`fmod`), `floor`, `ceil`, rounding, `abs`,
//! `copysign`), so it gives the same bits everywhere anyway.

use crate::op::{BinaryOp, DTypeRule, UnaryOp};
use crate::{DType, Scalar};

/// A Rust type that stores one element of a [`DType`]. Bool elements are `bool` here and one
/// byte (0 or 1) in buffers.
pub trait Element: Copy + PartialEq + Send + Sync + std::fmt::Debug + 'static {
    /// The dtype this type stores.
    const DTYPE: DType;
    /// The value as a [`Scalar`].
    fn to_scalar(self) -> Scalar;
    /// A scalar of any dtype converted to this type with `cast` semantics.
    fn from_scalar(s: Scalar) -> Self;
    /// A unary op whose result has the operand's dtype. Ops the dtype rule forbids for this
    /// dtype return `x` unchanged (the type checker never lets them through).
    fn unary(op: UnaryOp, x: Self) -> Self;
    /// A unary op with a bool result (`isnan`, `isinf`, `isfinite`).
    fn test(op: UnaryOp, x: Self) -> bool;
    /// A binary op whose result has the operands' dtype. Forbidden ops return `x`.
    fn binary(op: BinaryOp, x: Self, y: Self) -> Self;
    /// A comparison (`eq ne lt le gt ge`). Other ops return false.
    fn compare(op: BinaryOp, x: Self, y: Self) -> bool;
}

/// True when a binary op produces bool from non-bool operands (a comparison), so it is
/// evaluated with [`Element::compare`] rather than [`Element::binary`].
pub fn is_comparison(op: BinaryOp) -> bool {
    matches!(op.rule(), DTypeRule::AnyToBool | DTypeRule::NumericToBool)
}

/// True when a unary op produces bool from a numeric operand (`isnan`, ...), so it is
/// evaluated with [`Element::test`].
pub fn is_test(op: UnaryOp) -> bool {
    op.rule() == DTypeRule::NumericToBool
}

fn compare_ord<T: PartialOrd>(op: BinaryOp, x: T, y: T) -> bool {
    match op {
        BinaryOp::Eq => x == y,
        BinaryOp::Ne => x != y,
        BinaryOp::Lt => x < y,
        BinaryOp::Le => x <= y,
        BinaryOp::Gt => x > y,
        BinaryOp::Ge => x >= y,
        _ => false,
    }
}

/// The transcendental functions of one float type, from the `libm` crate (so the reference
/// semantics do not depend on the platform's libm). Named like the `f32`/`f64` methods they
/// replace.
trait Libm: Sized {
    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn exp_m1(self) -> Self;
    fn ln(self) -> Self;
    fn log2(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    fn tanh(self) -> Self;
    fn powf(self, y: Self) -> Self;
    fn atan2(self, x: Self) -> Self;
}

impl Libm for f32 {
    fn exp(self) -> f32 {
        libm::expf(self)
    }
    fn exp2(self) -> f32 {
        libm::exp2f(self)
    }
    fn exp_m1(self) -> f32 {
        libm::expm1f(self)
    }
    fn ln(self) -> f32 {
        libm::logf(self)
    }
    fn log2(self) -> f32 {
        libm::log2f(self)
    }
    fn ln_1p(self) -> f32 {
        libm::log1pf(self)
    }
    fn sin(self) -> f32 {
        libm::sinf(self)
    }
    fn cos(self) -> f32 {
        libm::cosf(self)
    }
    fn tan(self) -> f32 {
        libm::tanf(self)
    }
    fn tanh(self) -> f32 {
        libm::tanhf(self)
    }
    fn powf(self, y: f32) -> f32 {
        libm::powf(self, y)
    }
    fn atan2(self, x: f32) -> f32 {
        libm::atan2f(self, x)
    }
}

impl Libm for f64 {
    fn exp(self) -> f64 {
        libm::exp(self)
    }
    fn exp2(self) -> f64 {
        libm::exp2(self)
    }
    fn exp_m1(self) -> f64 {
        libm::expm1(self)
    }
    fn ln(self) -> f64 {
        libm::log(self)
    }
    fn log2(self) -> f64 {
        libm::log2(self)
    }
    fn ln_1p(self) -> f64 {
        libm::log1p(self)
    }
    fn sin(self) -> f64 {
        libm::sin(self)
    }
    fn cos(self) -> f64 {
        libm::cos(self)
    }
    fn tan(self) -> f64 {
        libm::tan(self)
    }
    fn tanh(self) -> f64 {
        libm::tanh(self)
    }
    fn powf(self, y: f64) -> f64 {
        libm::pow(self, y)
    }
    fn atan2(self, x: f64) -> f64 {
        libm::atan2(self, x)
    }
}

macro_rules! float_element {
    ($t:ty, $variant:ident, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;

            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self)
            }

            fn from_scalar(s: Scalar) -> $t {
                match s {
                    Scalar::Bool(b) => <$t>::from(u8::from(b)),
                    Scalar::I32(v) => v as $t,
                    Scalar::I64(v) => v as $t,
                    Scalar::F32(v) => v as $t,
                    Scalar::F64(v) => v as $t,
                }
            }

            fn unary(op: UnaryOp, x: $t) -> $t {
                use UnaryOp::*;
                match op {
                    Neg => -x,
                    Abs => x.abs(),
                    Sign => {
                        if x.is_nan() {
                            x
                        } else if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            0.0
                        }
                    }
                    Sqrt => x.sqrt(),
                    Exp => Libm::exp(x),
                    Exp2 => Libm::exp2(x),
                    Expm1 => Libm::exp_m1(x),
                    Log => Libm::ln(x),
                    Log2 => Libm::log2(x),
                    Log1p => Libm::ln_1p(x),
                    Sin => Libm::sin(x),
                    Cos => Libm::cos(x),
                    Tan => Libm::tan(x),
                    Tanh => Libm::tanh(x),
                    Sigmoid => 1.0 / (1.0 + Libm::exp(-x)),
                    Floor => x.floor(),
                    Ceil => x.ceil(),
                    Round => x.round_ties_even(),
                    Reciprocal => 1.0 / x,
                    Square => x * x,
                    LogicalNot | IsNan | IsInf | IsFinite => x,
                }
            }

            fn test(op: UnaryOp, x: $t) -> bool {
                match op {
                    UnaryOp::IsNan => x.is_nan(),
                    UnaryOp::IsInf => x.is_infinite(),
                    UnaryOp::IsFinite => x.is_finite(),
                    _ => false,
                }
            }

            fn binary(op: BinaryOp, x: $t, y: $t) -> $t {
                use BinaryOp::*;
                match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div => x / y,
                    Pow => Libm::powf(x, y),
                    Maximum => {
                        if x.is_nan() || y.is_nan() {
                            <$t>::NAN
                        } else if x >= y {
                            x
                        } else {
                            y
                        }
                    }
                    Minimum => {
                        if x.is_nan() || y.is_nan() {
                            <$t>::NAN
                        } else if x <= y {
                            x
                        } else {
                            y
                        }
                    }
                    Remainder => {
                        if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
                            return <$t>::NAN;
                        }
                        let r = x % y;
                        if r == 0.0 {
                            (0.0 as $t).copysign(y)
                        } else if (r < 0.0) != (y < 0.0) {
                            r + y
                        } else {
                            r
                        }
                    }
                    FloorDivide => {
                        if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
                            return x / y;
                        }
                        let m = x % y;
                        let mut div = (x - m) / y;
                        if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
                            div -= 1.0;
                        }
                        if div == 0.0 {
                            return (0.0 as $t).copysign(x / y);
                        }
                        let fl = div.floor();
                        if div - fl > 0.5 {
                            fl + 1.0
                        } else {
                            fl
                        }
                    }
                    Atan2 => Libm::atan2(x, y),
                    Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd | LogicalOr | LogicalXor => x,
                }
            }

            fn compare(op: BinaryOp, x: $t, y: $t) -> bool {
                compare_ord(op, x, y)
            }
        }
    };
}

float_element!(f32, F32, DType::F32);
float_element!(f64, F64, DType::F64);

macro_rules! int_element {
    ($t:ty, $variant:ident, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;

            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self)
            }

            fn from_scalar(s: Scalar) -> $t {
                match s {
                    Scalar::Bool(b) => <$t>::from(b),
                    Scalar::I32(v) => v as $t,
                    Scalar::I64(v) => v as $t,
                    // `as` from float truncates toward zero, saturates, and maps NaN to 0.
                    Scalar::F32(v) => v as $t,
                    Scalar::F64(v) => v as $t,
                }
            }

            fn unary(op: UnaryOp, x: $t) -> $t {
                use UnaryOp::*;
                match op {
                    Neg => x.wrapping_neg(),
                    Abs => x.wrapping_abs(),
                    Sign => x.signum(),
                    Square => x.wrapping_mul(x),
                    _ => x,
                }
            }

            fn test(op: UnaryOp, _x: $t) -> bool {
                op == UnaryOp::IsFinite
            }

            fn binary(op: BinaryOp, x: $t, y: $t) -> $t {
                use BinaryOp::*;
                match op {
                    Add => x.wrapping_add(y),
                    Sub => x.wrapping_sub(y),
                    Mul => x.wrapping_mul(y),
                    Pow => {
                        if y < 0 {
                            match x {
                                1 => 1,
                                -1 => {
                                    if y % 2 == 0 {
                                        1
                                    } else {
                                        -1
                                    }
                                }
                                _ => 0,
                            }
                        } else {
                            // Square-and-multiply with wrapping; the exponent may exceed u32.
                            let (mut base, mut e, mut acc): ($t, $t, $t) = (x, y, 1);
                            while e > 0 {
                                if e & 1 == 1 {
                                    acc = acc.wrapping_mul(base);
                                }
                                base = base.wrapping_mul(base);
                                e >>= 1;
                            }
                            acc
                        }
                    }
                    Maximum => x.max(y),
                    Minimum => x.min(y),
                    Remainder => {
                        if y == 0 {
                            return 0;
                        }
                        let r = x.wrapping_rem(y);
                        if r != 0 && ((r < 0) != (y < 0)) {
                            r + y
                        } else {
                            r
                        }
                    }
                    FloorDivide | Div => {
                        if y == 0 {
                            return 0;
                        }
                        let q = x.wrapping_div(y);
                        if x.wrapping_rem(y) != 0 && ((x < 0) != (y < 0)) {
                            q - 1
                        } else {
                            q
                        }
                    }
                    Atan2 | Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd | LogicalOr | LogicalXor => x,
                }
            }

            fn compare(op: BinaryOp, x: $t, y: $t) -> bool {
                compare_ord(op, x, y)
            }
        }
    };
}

int_element!(i32, I32, DType::I32);
int_element!(i64, I64, DType::I64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;

    fn to_scalar(self) -> Scalar {
        Scalar::Bool(self)
    }

    fn from_scalar(s: Scalar) -> bool {
        match s {
            Scalar::Bool(b) => b,
            Scalar::I32(v) => v != 0,
            Scalar::I64(v) => v != 0,
            Scalar::F32(v) => v != 0.0,
            Scalar::F64(v) => v != 0.0,
        }
    }

    fn unary(op: UnaryOp, x: bool) -> bool {
        match op {
            UnaryOp::LogicalNot => !x,
            _ => x,
        }
    }

    fn test(_op: UnaryOp, _x: bool) -> bool {
        false
    }

    fn binary(op: BinaryOp, x: bool, y: bool) -> bool {
        match op {
            BinaryOp::LogicalAnd => x & y,
            BinaryOp::LogicalOr => x | y,
            BinaryOp::LogicalXor => x ^ y,
            _ => x,
        }
    }

    fn compare(op: BinaryOp, x: bool, y: bool) -> bool {
        compare_ord(op, x, y)
    }
}

/// `clip(x, lo, hi)`: `minimum(maximum(x, lo), hi)`, so NaN anywhere gives NaN and
/// `lo > hi` gives `hi`.
pub fn clip<T: Element>(x: T, lo: T, hi: T) -> T {
    T::binary(BinaryOp::Minimum, T::binary(BinaryOp::Maximum, x, lo), hi)
}

/// [`clip`] on scalars, promoting them to a common dtype first.
pub fn clip_scalar(x: Scalar, lo: Scalar, hi: Scalar) -> Scalar {
    binary_scalar(BinaryOp::Minimum, binary_scalar(BinaryOp::Maximum, x, lo), hi)
}

/// Converts a scalar to `dtype` with `cast` semantics.
pub fn cast_scalar(s: Scalar, dtype: DType) -> Scalar {
    match dtype {
        DType::Bool => Scalar::Bool(bool::from_scalar(s)),
        DType::I32 => Scalar::I32(i32::from_scalar(s)),
        DType::I64 => Scalar::I64(i64::from_scalar(s)),
        DType::F32 => Scalar::F32(f32::from_scalar(s)),
        DType::F64 => Scalar::F64(f64::from_scalar(s)),
    }
}

/// Applies a unary op to a scalar (the operand's dtype must be one the op accepts; the
/// result dtype is the op's, e.g. bool for `isnan`).
pub fn unary_scalar(op: UnaryOp, x: Scalar) -> Scalar {
    fn go<T: Element>(op: UnaryOp, x: T) -> Scalar {
        if is_test(op) {
            Scalar::Bool(T::test(op, x))
        } else {
            T::unary(op, x).to_scalar()
        }
    }
    match x {
        Scalar::Bool(v) => go(op, v),
        Scalar::I32(v) => go(op, v),
        Scalar::I64(v) => go(op, v),
        Scalar::F32(v) => go(op, v),
        Scalar::F64(v) => go(op, v),
    }
}

/// Applies a binary op to two scalars, promoting them to a common dtype first (the caller
/// has type-checked them, so they share a kind).
pub fn binary_scalar(op: BinaryOp, x: Scalar, y: Scalar) -> Scalar {
    fn go<T: Element>(op: BinaryOp, x: Scalar, y: Scalar) -> Scalar {
        let (a, b) = (T::from_scalar(x), T::from_scalar(y));
        if is_comparison(op) {
            Scalar::Bool(T::compare(op, a, b))
        } else {
            T::binary(op, a, b).to_scalar()
        }
    }
    let dtype = x.dtype().promote(y.dtype()).unwrap_or(x.dtype());
    match dtype {
        DType::Bool => go::<bool>(op, x, y),
        DType::I32 => go::<i32>(op, x, y),
        DType::I64 => go::<i64>(op, x, y),
        DType::F32 => go::<f32>(op, x, y),
        DType::F64 => go::<f64>(op, x, y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinaryOp::*;

    #[test]
    fn integer_division_by_zero_is_zero_and_floors() {
        assert_eq!(i32::binary(FloorDivide, 7, 0), 0);
        assert_eq!(i64::binary(Remainder, 7, 0), 0);
        assert_eq!(i32::binary(FloorDivide, -7, 2), -4);
        assert_eq!(i32::binary(Remainder, -7, 2), 1);
        assert_eq!(i32::binary(Remainder, 7, -2), -1);
        assert_eq!(i32::binary(FloorDivide, i32::MIN, -1), i32::MIN);
    }

    #[test]
    fn integer_overflow_wraps() {
        assert_eq!(i32::binary(Add, i32::MAX, 1), i32::MIN);
        assert_eq!(i32::unary(UnaryOp::Abs, i32::MIN), i32::MIN);
        assert_eq!(i64::binary(Pow, 3, 50), 3i64.wrapping_pow(50));
        assert_eq!(i32::binary(Pow, 2, -1), 0);
        assert_eq!(i32::binary(Pow, -1, -3), -1);
    }

    #[test]
    fn float_remainder_and_floor_divide_follow_numpy() {
        assert_eq!(f64::binary(Remainder, -1.0, 3.0), 2.0);
        assert_eq!(f64::binary(Remainder, 1.0, -3.0), -2.0);
        assert!(f64::binary(Remainder, 1.0, 0.0).is_nan());
        assert_eq!(f64::binary(FloorDivide, 7.0, -2.0), -4.0);
        assert_eq!(f64::binary(FloorDivide, 1.0, 0.0), f64::INFINITY);
        assert!(f64::binary(FloorDivide, 0.0, 0.0).is_nan());
        assert_eq!(f64::binary(Remainder, -5.0, f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn maximum_propagates_nan() {
        assert!(f32::binary(Maximum, f32::NAN, 1.0).is_nan());
        assert!(f32::binary(Minimum, 1.0, f32::NAN).is_nan());
        assert_eq!(f32::binary(Maximum, 1.0, 2.0), 2.0);
    }

    #[test]
    fn casts_saturate_and_map_nan_to_zero() {
        assert_eq!(cast_scalar(Scalar::F32(f32::NAN), DType::I32), Scalar::I32(0));
        assert_eq!(cast_scalar(Scalar::F64(1e20), DType::I32), Scalar::I32(i32::MAX));
        assert_eq!(cast_scalar(Scalar::F64(-2.7), DType::I64), Scalar::I64(-2));
        assert_eq!(cast_scalar(Scalar::I64(1 << 32), DType::I32), Scalar::I32(0));
        assert_eq!(cast_scalar(Scalar::F32(f32::NAN), DType::Bool), Scalar::Bool(true));
    }

    #[test]
    fn transcendentals_are_the_libm_crates_bit_for_bit() {
        // The platform's libm differs from these in the last place for many of these inputs
        // (e.g. glibc's `exp`); the reference semantics must not depend on the machine.
        let xs = [-40.5, -3.75, -1.0, -0.3, -0.0, 0.0, 1e-9, 0.1, 0.7, 1.0, 2.5, 9.0, 88.5, 1e5, 1e22];
        type Table<T> = [(UnaryOp, fn(T) -> T); 10];
        let unary_f64: Table<f64> = [
            (UnaryOp::Exp, libm::exp),
            (UnaryOp::Exp2, libm::exp2),
            (UnaryOp::Expm1, libm::expm1),
            (UnaryOp::Log, libm::log),
            (UnaryOp::Log2, libm::log2),
            (UnaryOp::Log1p, libm::log1p),
            (UnaryOp::Sin, libm::sin),
            (UnaryOp::Cos, libm::cos),
            (UnaryOp::Tan, libm::tan),
            (UnaryOp::Tanh, libm::tanh),
        ];
        let unary_f32: Table<f32> = [
            (UnaryOp::Exp, libm::expf),
            (UnaryOp::Exp2, libm::exp2f),
            (UnaryOp::Expm1, libm::expm1f),
            (UnaryOp::Log, libm::logf),
            (UnaryOp::Log2, libm::log2f),
            (UnaryOp::Log1p, libm::log1pf),
            (UnaryOp::Sin, libm::sinf),
            (UnaryOp::Cos, libm::cosf),
            (UnaryOp::Tan, libm::tanf),
            (UnaryOp::Tanh, libm::tanhf),
        ];
        for &x in &xs {
            for (op, f) in unary_f64 {
                assert_eq!(f64::unary(op, x).to_bits(), f(x).to_bits(), "{op:?}({x})");
            }
            let x32 = x as f32;
            for (op, f) in unary_f32 {
                assert_eq!(f32::unary(op, x32).to_bits(), f(x32).to_bits(), "{op:?}({x32})");
            }
            let sig = 1.0 / (1.0 + libm::exp(-x));
            assert_eq!(f64::unary(UnaryOp::Sigmoid, x).to_bits(), sig.to_bits(), "sigmoid({x})");
            for &y in &[-2.5, -0.0, 0.5, 3.0, 7.25] {
                assert_eq!(f64::binary(Pow, x.abs(), y).to_bits(), libm::pow(x.abs(), y).to_bits());
                assert_eq!(f64::binary(Atan2, x, y).to_bits(), libm::atan2(x, y).to_bits());
                let (a, b) = (x32.abs(), y as f32);
                assert_eq!(f32::binary(Pow, a, b).to_bits(), libm::powf(a, b).to_bits());
                assert_eq!(f32::binary(Atan2, x32, b).to_bits(), libm::atan2f(x32, b).to_bits());
            }
        }
        // Constant folding goes through the same functions.
        assert_eq!(unary_scalar(UnaryOp::Exp, Scalar::F64(0.7)), Scalar::F64(libm::exp(0.7)));
    }

    #[test]
    fn scalar_helpers_dispatch_by_dtype() {
        assert_eq!(binary_scalar(Add, Scalar::I32(2), Scalar::I64(3)), Scalar::I64(5));
        assert_eq!(binary_scalar(Lt, Scalar::F32(1.0), Scalar::F32(2.0)), Scalar::Bool(true));
        assert_eq!(unary_scalar(UnaryOp::IsNan, Scalar::F64(f64::NAN)), Scalar::Bool(true));
        assert_eq!(unary_scalar(UnaryOp::Round, Scalar::F64(2.5)), Scalar::F64(2.0));
    }
}
