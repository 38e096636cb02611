//! Inline vector math: polynomial approximations with range reduction, emitted as Cranelift
//! IR for scalar or vector float types. Each function states its domain handling.

mod log;
mod trig;

use std::cell::RefCell;
use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// Float constants materialized once, before the loop (Cranelift does not hoist them).
/// A dry run of the body records which constants it asks for, with their types
/// ([`ConstPool::requested`]); the real run finds them all here.
#[derive(Default)]
pub struct ConstPool {
    map: HashMap<(u64, Type), Value>,
    requested: RefCell<Vec<(f64, Type)>>,
}

impl ConstPool {
    /// Constants asked for that were not in the pool, in first-request order.
    pub fn requested(&self) -> Vec<(f64, Type)> {
        self.requested.borrow().clone()
    }

    /// Materializes `values` (scalars, or splats for vector types) at the builder's current
    /// position.
    pub fn fill(&mut self, b: &mut FunctionBuilder<'_>, values: &[(f64, Type)]) {
        for &(v, ty) in values {
            if self.map.contains_key(&(v.to_bits(), ty)) {
                continue;
            }
            let lane = ty.lane_type();
            let s = if lane == types::F32 { b.ins().f32const(v as f32) } else { b.ins().f64const(v) };
            let value = if ty.is_vector() { b.ins().splat(ty, s) } else { s };
            self.map.insert((v.to_bits(), ty), value);
        }
    }
}

/// Emits constants and lane-wise ops for one float type (scalar or vector).
pub struct Emitter<'a, 'b> {
    /// The function being built.
    pub b: &'a mut FunctionBuilder<'b>,
    /// The float type of the values (`F32`, `F32X4`, `F64`, `F64X2`).
    pub ty: Type,
    /// Hoisted constants.
    pub pool: &'a ConstPool,
}

impl Emitter<'_, '_> {
    fn lane(&self) -> Type {
        self.ty.lane_type()
    }

    fn int_ty(&self) -> Type {
        let lane = if self.lane() == types::F32 { types::I32 } else { types::I64 };
        if self.ty.is_vector() {
            lane.by(self.ty.lane_count()).unwrap_or(lane)
        } else {
            lane
        }
    }

    /// A float constant of the emitter's type (hoisted when the pool has it).
    pub fn c(&mut self, v: f64) -> Value {
        if let Some(&hoisted) = self.pool.map.get(&(v.to_bits(), self.ty)) {
            return hoisted;
        }
        {
            let mut req = self.pool.requested.borrow_mut();
            if !req.iter().any(|&(r, t)| r.to_bits() == v.to_bits() && t == self.ty) {
                req.push((v, self.ty));
            }
        }
        let s = if self.lane() == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        };
        if self.ty.is_vector() {
            self.b.ins().splat(self.ty, s)
        } else {
            s
        }
    }

    fn ic(&mut self, v: i64) -> Value {
        let lane = if self.lane() == types::F32 { types::I32 } else { types::I64 };
        let s = self.b.ins().iconst(lane, v);
        if self.ty.is_vector() {
            let ity = self.int_ty();
            self.b.ins().splat(ity, s)
        } else {
            s
        }
    }

    /// `cond ? a : b` lane-wise, where `cond` comes from `fcmp` on this type.
    pub fn select(&mut self, cond: Value, a: Value, b: Value) -> Value {
        if self.ty.is_vector() {
            let mask = self.b.ins().bitcast(self.ty, MemFlagsData::new(), cond);
            self.b.ins().bitselect(mask, a, b)
        } else {
            self.b.ins().select(cond, a, b)
        }
    }

    /// Horner evaluation of `coeffs[0] + x*(coeffs[1] + x*(...))`.
    fn poly(&mut self, x: Value, coeffs: &[f64]) -> Value {
        let mut acc = self.c(coeffs[coeffs.len() - 1]);
        for &k in coeffs[..coeffs.len() - 1].iter().rev() {
            let t = self.b.ins().fmul(acc, x);
            let kc = self.c(k);
            acc = self.b.ins().fadd(t, kc);
        }
        acc
    }

    /// `2^n` for an integral float `n` in the normal exponent range, built from its bits.
    /// Adding `1.5 * 2^mantissa_bits` puts `n` in the low mantissa bits (no float-to-int
    /// conversion, which x86 lacks for `i64x2`); adding the bias and shifting into the
    /// exponent field discards everything else.
    fn pow2i(&mut self, n: Value) -> Value {
        let (magic, bias, shift) = if self.lane() == types::F32 {
            (12_582_912.0, 127, 23)
        } else {
            (6_755_399_441_055_744.0, 1023, 52)
        };
        let ity = self.int_ty();
        let m = self.c(magic);
        let t = self.b.ins().fadd(n, m);
        let bits = self.b.ins().bitcast(ity, MemFlagsData::new(), t);
        let biasc = self.ic(bias);
        let e = self.b.ins().iadd(bits, biasc);
        let e = self.b.ins().ishl_imm_s(e, shift);
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), e)
    }

    /// `fast` where no lane of `cond` (a compare on this type) is set; otherwise the value
    /// `slow` emits, in a block of its own that only such vectors branch to.
    pub fn unless_any(
        &mut self,
        cond: Value,
        fast: Value,
        slow: impl FnOnce(&mut Emitter<'_, '_>) -> Value,
    ) -> Value {
        let any = if self.ty.is_vector() { self.b.ins().vany_true(cond) } else { cond };
        let slow_block = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, self.ty);
        self.b.ins().brif(any, slow_block, &[], join, &[fast.into()]);
        self.b.switch_to_block(slow_block);
        let out = slow(self);
        self.b.ins().jump(join, &[out.into()]);
        self.b.switch_to_block(join);
        result
    }

    /// `e^x`. Where every lane's result is a normal number (the common case), the short
    /// path: `x = n ln2 + r`, `|r| <= ln2/2`, a polynomial for `e^r` and one `2^n` scaling.
    /// Vectors with a lane outside that range (or NaN) take [`Emitter::exp_full`].
    pub fn exp(&mut self, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        let (hi, lo) = if f32_lane { (88.0, -87.0) } else { (709.0, -708.0) };
        let hic = self.c(hi);
        let loc = self.c(lo);
        let above = self.b.ins().fcmp(FloatCC::UnorderedOrGreaterThan, x, hic);
        let below = self.b.ins().fcmp(FloatCC::LessThan, x, loc);
        let outside = self.b.ins().bor(above, below);
        let (n, r) = self.exp_reduce(x);
        let p = self.exp_poly(r);
        let s = self.pow2i(n);
        let fast = self.b.ins().fmul(p, s);
        self.unless_any(outside, fast, |e| e.exp_full(x))
    }

    /// `(n, r)` with `x = n ln2 + r`, `|r| <= ln2/2` (Cody-Waite, `ln2` in two parts).
    fn exp_reduce(&mut self, x: Value) -> (Value, Value) {
        let f32_lane = self.lane() == types::F32;
        let log2e = self.c(std::f64::consts::LOG2_E);
        let t = self.b.ins().fmul(x, log2e);
        let n = self.b.ins().nearest(t);
        let (ln2_hi, ln2_lo) = if f32_lane {
            (0.693_145_751_953_125, 1.428_606_765_330_187e-6)
        } else {
            (6.931_471_803_691_238e-1, 1.908_214_929_270_587_7e-10)
        };
        let c_hi = self.c(ln2_hi);
        let c_lo = self.c(ln2_lo);
        let nh = self.b.ins().fmul(n, c_hi);
        let r = self.b.ins().fsub(x, nh);
        let nl = self.b.ins().fmul(n, c_lo);
        let r = self.b.ins().fsub(r, nl);
        (n, r)
    }

    /// `e^r` for `|r| <= ln2/2`: for `f32` a degree-6 polynomial fitted for relative error
    /// with the first two
    /// coefficients fixed at 1 (3.8e-9 on the interval with the coefficients rounded to `f32`); for `f64` the degree-13 Taylor polynomial.
    fn exp_poly(&mut self, r: Value) -> Value {
        let coeffs: Vec<f64> = if self.lane() == types::F32 {
            vec![
                1.0,
                1.0,
                0.499_999_880_790_710_45,
                0.166_665_181_517_601,
                0.041_669_514_030_218_124,
                0.008_368_913_084_268_57,
                0.001_375_254_010_781_645_8,
            ]
        } else {
            (0..14).map(|k| 1.0 / (1..=k).map(f64::from).product::<f64>()).collect()
        };
        self.poly(r, &coeffs)
    }

    /// `e^x` over the whole range: the argument clamped to where `e^x` is finite and
    /// non-zero, and `2^n` applied in two halves so results that are subnormal or near
    /// overflow are exact in the exponent. NaN gives NaN, `+inf` gives `+inf`, `-inf` 0.
    pub fn exp_full(&mut self, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        // Beyond these, e^x overflows to inf or underflows to 0 in the type.
        let (hi, lo) =
            if f32_lane { (88.722_84, -103.972_08) } else { (709.782_712_893_384, -745.133_219_101_941_1) };
        let (xc, over, under) = self.clamp(x, hi, lo);
        let (n, r) = self.exp_reduce(xc);
        let p = self.exp_poly(r);
        self.scale_and_saturate(p, n, over, under)
    }

    /// `p * 2^n` for an integral `n` within the clamped range of `exp`/`exp2`, with `+inf`
    /// where `over` and 0 where `under`. `2^n = 2^(n1) * 2^(n - n1)` with `n1 = trunc(n/2)`:
    /// both halves stay normal, so subnormal and near-overflow results get their exponent
    /// exactly.
    fn scale_and_saturate(&mut self, p: Value, n: Value, over: Value, under: Value) -> Value {
        let half = self.c(0.5);
        let nh2 = self.b.ins().fmul(n, half);
        let n1 = self.b.ins().trunc(nh2);
        let n2 = self.b.ins().fsub(n, n1);
        let s1 = self.pow2i(n1);
        let s2 = self.pow2i(n2);
        let y = self.b.ins().fmul(p, s1);
        let y = self.b.ins().fmul(y, s2);
        let inf = self.c(f64::INFINITY);
        let zero = self.c(0.0);
        let y = self.select(over, inf, y);
        self.select(under, zero, y)
    }

    /// `x` clamped to `[lo, hi]` with compares and selects (much faster than `fmin`/`fmax`
    /// here), and the masks of the lanes that were above and below. NaN fails both compares
    /// and passes through.
    fn clamp(&mut self, x: Value, hi: f64, lo: f64) -> (Value, Value, Value) {
        let hic = self.c(hi);
        let loc = self.c(lo);
        let over = self.b.ins().fcmp(FloatCC::GreaterThan, x, hic);
        let under = self.b.ins().fcmp(FloatCC::LessThan, x, loc);
        let xc = self.select(over, hic, x);
        let xc = self.select(under, loc, xc);
        (xc, over, under)
    }

    /// `2^x`: `x = n + r`, `|r| <= 1/2` (exact), a polynomial for `2^r = e^(r ln2)` (Taylor
    /// coefficients `ln2^k/k!`), and the two-step scaling of [`Emitter::exp`].
    pub fn exp2(&mut self, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        let (hi, lo) = if f32_lane { (128.0, -151.0) } else { (1024.0, -1076.0) };
        let (xc, over, under) = self.clamp(x, hi, lo);
        let n = self.b.ins().nearest(xc);
        let r = self.b.ins().fsub(xc, n);
        let terms = if f32_lane { 8 } else { 14 };
        let ln2 = std::f64::consts::LN_2;
        let coeffs: Vec<f64> =
            (0..terms).map(|k| ln2.powi(k) / (1..=k).map(f64::from).product::<f64>()).collect();
        let p = self.poly(r, &coeffs);
        self.scale_and_saturate(p, n, over, under)
    }

    /// `sign(x)`: 1, -1, +0 for either zero, NaN for NaN (the reference's definition).
    pub fn sign(&mut self, x: Value) -> Value {
        let zero = self.c(0.0);
        let one = self.c(1.0);
        let minus_one = self.c(-1.0);
        let gt = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
        let lt = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        let r = self.select(lt, minus_one, zero);
        let r = self.select(gt, one, r);
        self.select(is_nan, x, r)
    }

    /// `e^x - 1`, accurate near 0: below `ln2/2` in magnitude a Taylor polynomial written as
    /// `x * (1 + x*(1/2 + x*(1/6 + ...)))` (so `-0` stays `-0`), elsewhere `exp(x) - 1`, whose
    /// cancellation costs at most a factor of about 2.4 there. NaN gives NaN, `-inf` gives -1.
    pub fn expm1(&mut self, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        let terms = if f32_lane { 9 } else { 16 };
        // Coefficients of x*(c0 + c1 x + ...) with c_k = 1/(k+1)!.
        let coeffs: Vec<f64> =
            (0..terms).map(|k| 1.0 / (1..=k + 1).map(f64::from).product::<f64>()).collect();
        let p = self.poly(x, &coeffs);
        let small_val = self.b.ins().fmul(x, p);
        let e = self.exp(x);
        let one = self.c(1.0);
        let big_val = self.b.ins().fsub(e, one);
        let ax = self.b.ins().fabs(x);
        let limit = self.c(std::f64::consts::LN_2 / 2.0);
        let small = self.b.ins().fcmp(FloatCC::LessThan, ax, limit);
        self.select(small, small_val, big_val)
    }

    /// `tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|))` with the sign of `x` copied back: no
    /// overflow for large `|x|` (the result goes to exactly ±1), no cancellation near 0.
    pub fn tanh(&mut self, x: Value) -> Value {
        let ax = self.b.ins().fabs(x);
        let m2 = self.c(-2.0);
        let t = self.b.ins().fmul(ax, m2);
        let u = self.expm1(t);
        let two = self.c(2.0);
        let den = self.b.ins().fadd(two, u);
        let num = self.b.ins().fneg(u);
        let r = self.b.ins().fdiv(num, den);
        self.or_sign_of(r, x)
    }

    /// `r` (non-negative) with the sign bit of `x` (x86 has no vector `fcopysign`).
    fn or_sign_of(&mut self, r: Value, x: Value) -> Value {
        let ity = self.int_ty();
        let sign = if self.lane() == types::F32 { i64::from(i32::MIN) } else { i64::MIN };
        let mask = self.ic(sign);
        let xb = self.b.ins().bitcast(ity, MemFlagsData::new(), x);
        let rb = self.b.ins().bitcast(ity, MemFlagsData::new(), r);
        let sx = self.b.ins().band(xb, mask);
        let out = self.b.ins().bor(rb, sx);
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), out)
    }

    /// `1 / (1 + e^-x)`, the reference formula: `-inf` gives 0, `+inf` gives 1.
    pub fn sigmoid(&mut self, x: Value) -> Value {
        let nx = self.b.ins().fneg(x);
        let e = self.exp(nx);
        let one = self.c(1.0);
        let den = self.b.ins().fadd(one, e);
        self.b.ins().fdiv(one, den)
    }

    /// The reference's maximum: `a` where `a >= b` or `a` is NaN, else `b` (so either NaN
    /// gives NaN, and between equal values, `-0` and `+0` included, the first operand wins,
    /// as in NumPy).
    pub fn maximum(&mut self, a: Value, b: Value) -> Value {
        self.first_unless(FloatCC::GreaterThanOrEqual, a, b)
    }

    /// The reference's minimum: `a` where `a <= b` or `a` is NaN, else `b`.
    pub fn minimum(&mut self, a: Value, b: Value) -> Value {
        self.first_unless(FloatCC::LessThanOrEqual, a, b)
    }

    fn first_unless(&mut self, keep: FloatCC, a: Value, b: Value) -> Value {
        let ordered = self.b.ins().fcmp(keep, a, b);
        let a_nan = self.b.ins().fcmp(FloatCC::Unordered, a, a);
        let take_a = self.b.ins().bor(ordered, a_nan);
        self.select(take_a, a, b)
    }
}
