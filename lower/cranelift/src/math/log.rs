//! Logarithms: `log`, `log2`, `log1p`.
//!
//! `x = 2^k * m` with `m` in `[sqrt(2)/2, sqrt(2))` (subnormals are scaled up first), then
//! `log(m) = f - hfsq + s*(hfsq + R(s^2))` with `f = m - 1`, `s = f/(2+f)`, `hfsq = f^2/2`
//! and `R` a minimax polynomial (the classic fdlibm/musl decomposition, so the rounding
//! errors of `s` only touch a small correction term).

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};

use super::Emitter;

/// Minimax coefficients of `R(z) = z*(Lg1 + z*(Lg2 + ...))` for `|s| <= 0.1716`.
const LG_F32: [f64; 4] = [0.666_666_626_93, 0.400_009_721_52, 0.284_987_866_88, 0.242_790_788_41];
const LG_F64: [f64; 7] = [
    6.666_666_666_666_735e-1,
    3.999_999_999_940_942e-1,
    2.857_142_874_366_239e-1,
    2.222_219_843_214_978_4e-1,
    1.818_357_216_161_805e-1,
    1.531_383_769_920_937_3e-1,
    1.479_819_860_511_658_6e-1,
];

/// The pieces of `log(x)` for a positive, finite `x`: `log(x) = k*ln2 + f - hfsq + s_r`.
struct LogParts {
    k: Value,
    f: Value,
    hfsq: Value,
    s_r: Value,
}

impl Emitter<'_, '_> {
    fn log_parts(&mut self, x: Value) -> LogParts {
        let f32_lane = self.lane() == types::F32;
        let ity = self.int_ty();
        let flags = MemFlagsData::new();
        // (scale for subnormals, mantissa bits, exponent bias, offset that moves the split
        // point to sqrt(2)/2, bits of sqrt(2)/2, mantissa mask, bits of 2^mantissa_bits)
        let (up_k, mant, bias, offset, base, mask, magic): (f64, i64, f64, i64, i64, i64, i64) = if f32_lane {
            (25.0, 23, 127.0, 0x3f80_0000 - 0x3f35_04f3, 0x3f35_04f3, 0x007f_ffff, 0x4b00_0000)
        } else {
            (
                54.0,
                52,
                1023.0,
                (0x3ff0_0000 - 0x3fe6_a09e) << 32,
                0x3fe6_a09e << 32,
                0x000f_ffff_ffff_ffff,
                0x4330_0000_0000_0000,
            )
        };
        let min_normal = if f32_lane { f64::from(f32::MIN_POSITIVE) } else { f64::MIN_POSITIVE };
        let mn = self.c(min_normal);
        let sub = self.b.ins().fcmp(FloatCC::LessThan, x, mn);
        let up = self.c(2f64.powf(up_k));
        let xu = self.b.ins().fmul(x, up);
        let xs = self.select(sub, xu, x);
        let kneg = self.c(-up_k);
        let zero = self.c(0.0);
        let kadj = self.select(sub, kneg, zero);

        let bits = self.b.ins().bitcast(ity, flags, xs);
        let off = self.ic(offset);
        let bits = self.b.ins().iadd(bits, off);
        // The biased exponent as a float: OR it into the mantissa of 2^mant, subtract 2^mant.
        let e = self.b.ins().ushr_imm_s(bits, mant);
        let magic_bits = self.ic(magic);
        let e = self.b.ins().bor(e, magic_bits);
        let e = self.b.ins().bitcast(self.ty, flags, e);
        let two_mant = self.c(2f64.powi(mant as i32));
        let e = self.b.ins().fsub(e, two_mant);
        let biasc = self.c(bias);
        let k = self.b.ins().fsub(e, biasc);
        let k = self.b.ins().fadd(k, kadj);

        let maskc = self.ic(mask);
        let m = self.b.ins().band(bits, maskc);
        let basec = self.ic(base);
        let m = self.b.ins().iadd(m, basec);
        let m = self.b.ins().bitcast(self.ty, flags, m);
        let one = self.c(1.0);
        let f = self.b.ins().fsub(m, one);
        let two = self.c(2.0);
        let den = self.b.ins().fadd(two, f);
        let s = self.b.ins().fdiv(f, den);
        let z = self.b.ins().fmul(s, s);
        let coeffs: &[f64] = if f32_lane { &LG_F32 } else { &LG_F64 };
        let p = self.poly(z, coeffs);
        let r = self.b.ins().fmul(z, p);
        let half = self.c(0.5);
        let hf = self.b.ins().fmul(f, half);
        let hfsq = self.b.ins().fmul(hf, f);
        let t = self.b.ins().fadd(hfsq, r);
        let s_r = self.b.ins().fmul(s, t);
        LogParts { k, f, hfsq, s_r }
    }

    /// The IEEE results of a logarithm at the edges of its domain: NaN below zero and for
    /// NaN, `-inf` at `±0`, `+inf` at `+inf`; `r` elsewhere.
    fn log_specials(&mut self, x: Value, r: Value) -> Value {
        let zero = self.c(0.0);
        let nan = self.c(f64::NAN);
        let inf = self.c(f64::INFINITY);
        let ninf = self.c(f64::NEG_INFINITY);
        let neg = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
        let r = self.select(neg, nan, r);
        let is_zero = self.b.ins().fcmp(FloatCC::Equal, x, zero);
        let r = self.select(is_zero, ninf, r);
        let is_inf = self.b.ins().fcmp(FloatCC::Equal, x, inf);
        let r = self.select(is_inf, inf, r);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.select(is_nan, x, r)
    }

    /// Natural logarithm: `k*ln2_hi - ((hfsq - (s_r + k*ln2_lo)) - f)`, with `ln2_hi` short
    /// enough that `k*ln2_hi` is exact.
    pub fn log(&mut self, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        let p = self.log_parts(x);
        let (hi, lo) = if f32_lane {
            (6.931_381_225_6e-1, 9.058_000_614_5e-6)
        } else {
            (6.931_471_803_691_238e-1, 1.908_214_929_270_587_7e-10)
        };
        let hic = self.c(hi);
        let loc = self.c(lo);
        let klo = self.b.ins().fmul(p.k, loc);
        let a = self.b.ins().fadd(p.s_r, klo);
        let a = self.b.ins().fsub(p.hfsq, a);
        let a = self.b.ins().fsub(a, p.f);
        let khi = self.b.ins().fmul(p.k, hic);
        let r = self.b.ins().fsub(khi, a);
        self.log_specials(x, r)
    }

    /// Base-2 logarithm: `k + log(m)*log2(e)`; exact for powers of two.
    pub fn log2(&mut self, x: Value) -> Value {
        let p = self.log_parts(x);
        let a = self.b.ins().fsub(p.hfsq, p.s_r);
        let lm = self.b.ins().fsub(p.f, a);
        let log2e = self.c(std::f64::consts::LOG2_E);
        let t = self.b.ins().fmul(lm, log2e);
        let r = self.b.ins().fadd(p.k, t);
        self.log_specials(x, r)
    }

    /// `log(1 + x)`, accurate near 0, by Goldberg's correction: with `u = 1 + x` rounded,
    /// `log1p(x) = log(u) * x / (u - 1)` (and `x` itself where `u == 1`, which keeps `-0`).
    /// `-1` gives `-inf`, below `-1` NaN, `+inf` gives `+inf`.
    pub fn log1p(&mut self, x: Value) -> Value {
        let one = self.c(1.0);
        let u = self.b.ins().fadd(one, x);
        let lu = self.log(u);
        let d = self.b.ins().fsub(u, one);
        let q = self.b.ins().fdiv(x, d);
        let r = self.b.ins().fmul(lu, q);
        let exact = self.b.ins().fcmp(FloatCC::Equal, u, one);
        let r = self.select(exact, x, r);
        let inf = self.c(f64::INFINITY);
        let is_inf = self.b.ins().fcmp(FloatCC::Equal, x, inf);
        self.select(is_inf, inf, r)
    }
}
