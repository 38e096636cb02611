//! `sin`, `cos`, `tan`.
//!
//! Range reduction `|x| = n*pi/2 + r`, `|r| <= pi/4`, by Cody-Waite with pi/2 split into four
//! parts whose products with `n` are exact, then minimax polynomials for `sin r` and `cos r` on
//! `[-pi/4, pi/4]` and the quadrant `n mod 4` picking and negating them. Beyond
//! [`reduce_limit`] (6000 for `f32`, 1.6e6 for `f64`) the split stops being exact: a vector
//! with such a lane (or an infinity) takes a slow path that calls the platform's
//! `sin`/`cos`/`tan` lane by lane, so huge arguments stay correct.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Signature, Value};

use super::Emitter;

/// Largest `|x|` the inline reduction handles: `n < 2^12` for `f32`, `n < 2^20` for `f64`.
fn reduce_limit(f32_lane: bool) -> f64 {
    if f32_lane {
        6000.0
    } else {
        1.6e6
    }
}

const S_F32: [f64; 3] = [-1.666_665_461_1e-1, 8.332_160_873_6e-3, -1.951_529_589_1e-4];
const C_F32: [f64; 3] = [4.166_664_568_298_827e-2, -1.388_731_625_493_765e-3, 2.443_315_711_809_948e-5];
const S_F64: [f64; 6] = [
    -1.666_666_666_666_663_2e-1,
    8.333_333_333_322_49e-3,
    -1.984_126_982_985_795e-4,
    2.755_731_370_707_006_8e-6,
    -2.505_076_025_340_686_3e-8,
    1.589_690_995_211_55e-10,
];
const C_F64: [f64; 6] = [
    4.166_666_666_666_66e-2,
    -1.388_888_888_887_411e-3,
    2.480_158_728_947_673e-5,
    -2.755_731_435_139_066_3e-7,
    2.087_572_321_298_175e-9,
    -1.135_964_755_778_819_5e-11,
];

/// Which function of the reduced argument is wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trig {
    Sin,
    Cos,
    Tan,
}

extern "C" fn sin_f32(x: f32) -> f32 {
    x.sin()
}
extern "C" fn cos_f32(x: f32) -> f32 {
    x.cos()
}
extern "C" fn tan_f32(x: f32) -> f32 {
    x.tan()
}
extern "C" fn sin_f64(x: f64) -> f64 {
    x.sin()
}
extern "C" fn cos_f64(x: f64) -> f64 {
    x.cos()
}
extern "C" fn tan_f64(x: f64) -> f64 {
    x.tan()
}

impl Emitter<'_, '_> {
    /// `sin x`; odd, so `-0` stays `-0`; NaN and `±inf` give NaN.
    pub fn sin(&mut self, x: Value) -> Value {
        self.trig(Trig::Sin, x)
    }

    /// `cos x`; NaN and `±inf` give NaN.
    pub fn cos(&mut self, x: Value) -> Value {
        self.trig(Trig::Cos, x)
    }

    /// `tan x` as `sin r / cos r` (or `-cos r / sin r` in odd quadrants); odd.
    pub fn tan(&mut self, x: Value) -> Value {
        self.trig(Trig::Tan, x)
    }

    fn trig(&mut self, which: Trig, x: Value) -> Value {
        let f32_lane = self.lane() == types::F32;
        let ity = self.int_ty();
        let flags = MemFlagsData::new();
        let ax = self.b.ins().fabs(x);
        let (n, r) = self.reduce_pio2(ax);
        // n mod 4 from the low bits of n + 1.5*2^mantissa_bits (n is a small integer).
        let magic = self.c(if f32_lane { 12_582_912.0 } else { 6_755_399_441_055_744.0 });
        let nm = self.b.ins().fadd(n, magic);
        let q = self.b.ins().bitcast(ity, flags, nm);
        let q = if which == Trig::Cos {
            let one = self.ic(1);
            self.b.ins().iadd(q, one)
        } else {
            q
        };
        let (s_r, c_r) = self.sincos_poly(r);
        let one_i = self.ic(1);
        let zero_i = self.ic(0);
        let odd_bit = self.b.ins().band(q, one_i);
        let odd = self.b.ins().icmp(IntCC::NotEqual, odd_bit, zero_i);
        let v = if which == Trig::Tan {
            let num = self.select(odd, c_r, s_r);
            let den = self.select(odd, s_r, c_r);
            let t = self.b.ins().fdiv(num, den);
            let nt = self.b.ins().fneg(t);
            self.select(odd, nt, t)
        } else {
            self.select(odd, c_r, s_r)
        };
        // Sign: bit 1 of the quadrant (sin and cos), and for the odd functions the sign of x.
        let lane_bits = if f32_lane { 32 } else { 64 };
        let two_i = self.ic(2);
        let mut sign = if which == Trig::Tan {
            zero_i
        } else {
            let q2 = self.b.ins().band(q, two_i);
            self.b.ins().ishl_imm_s(q2, lane_bits - 2)
        };
        if which != Trig::Cos {
            let sign_mask = self.ic(if f32_lane { i64::from(i32::MIN) } else { i64::MIN });
            let xb = self.b.ins().bitcast(ity, flags, x);
            let sx = self.b.ins().band(xb, sign_mask);
            sign = self.b.ins().bxor(sign, sx);
        }
        let vb = self.b.ins().bitcast(ity, flags, v);
        let vb = self.b.ins().bxor(vb, sign);
        let fast = self.b.ins().bitcast(self.ty, flags, vb);
        self.huge_argument_fallback(which, x, ax, fast)
    }

    /// `(n, r)` with `|x| = n*pi/2 + r` for `0 <= ax <=` [`reduce_limit`], in the emitter's
    /// type. Every product `n * part` is exact: `f32` parts have 12 significant bits (and
    /// `n < 2^12`), `f64` parts 33 (and `n < 2^20`).
    fn reduce_pio2(&mut self, ax: Value) -> (Value, Value) {
        let parts: &[f64] = if self.lane() == types::F64 {
            &[
                1.570_796_326_734_125_6,
                6.077_100_506_303_966e-11,
                2.022_266_248_711_166_5e-21,
                8.478_427_660_368_9e-32,
            ]
        } else {
            &[
                1.570_800_781_25,
                -4.453_584_551_811_218e-6,
                -8.706_138_032_721_356e-10,
                6.223_371_969_669_989e-14,
            ]
        };
        let two_over_pi = self.c(std::f64::consts::FRAC_2_PI);
        let t = self.b.ins().fmul(ax, two_over_pi);
        let n = self.b.ins().nearest(t);
        let mut r = ax;
        for &p in parts {
            let pc = self.c(p);
            let np = self.b.ins().fmul(n, pc);
            r = self.b.ins().fsub(r, np);
        }
        (n, r)
    }

    /// `(sin r, cos r)` for `|r| <= pi/4`; `cos` with the compensated `1 - r^2/2` step.
    fn sincos_poly(&mut self, r: Value) -> (Value, Value) {
        let f32_lane = self.lane() == types::F32;
        let (s, c): (&[f64], &[f64]) = if f32_lane { (&S_F32, &C_F32) } else { (&S_F64, &C_F64) };
        let z = self.b.ins().fmul(r, r);
        let ps = self.poly(z, s);
        let rz = self.b.ins().fmul(r, z);
        let t = self.b.ins().fmul(rz, ps);
        let sin_r = self.b.ins().fadd(r, t);
        let pc = self.poly(z, c);
        let zz = self.b.ins().fmul(z, z);
        let tail = self.b.ins().fmul(zz, pc);
        let half = self.c(0.5);
        let hz = self.b.ins().fmul(z, half);
        let one = self.c(1.0);
        let w = self.b.ins().fsub(one, hz);
        let lost = self.b.ins().fsub(one, w);
        let lost = self.b.ins().fsub(lost, hz);
        let corr = self.b.ins().fadd(lost, tail);
        let cos_r = self.b.ins().fadd(w, corr);
        (sin_r, cos_r)
    }

    /// Where any lane of `ax` is beyond the inline reduction (or infinite), recomputes the
    /// whole vector lane by lane with the platform's function; otherwise `fast`.
    fn huge_argument_fallback(&mut self, which: Trig, x: Value, ax: Value, fast: Value) -> Value {
        let limit = self.c(reduce_limit(self.lane() == types::F32));
        let huge = self.b.ins().fcmp(FloatCC::GreaterThan, ax, limit);
        self.unless_any(huge, fast, |e| e.call_lanewise(which, x, fast))
    }

    /// `which(x)` lane by lane through the platform's function (`fast` supplies the vector
    /// the lanes are inserted into).
    fn call_lanewise(&mut self, which: Trig, x: Value, fast: Value) -> Value {
        let lane = self.lane();
        let mut sig = Signature::new(self.b.func.signature.call_conv);
        sig.params.push(AbiParam::new(lane));
        sig.returns.push(AbiParam::new(lane));
        let sig = self.b.import_signature(sig);
        let f32_lane = lane == types::F32;
        let addr = match (which, f32_lane) {
            (Trig::Sin, true) => sin_f32 as extern "C" fn(f32) -> f32 as usize,
            (Trig::Cos, true) => cos_f32 as extern "C" fn(f32) -> f32 as usize,
            (Trig::Tan, true) => tan_f32 as extern "C" fn(f32) -> f32 as usize,
            (Trig::Sin, false) => sin_f64 as extern "C" fn(f64) -> f64 as usize,
            (Trig::Cos, false) => cos_f64 as extern "C" fn(f64) -> f64 as usize,
            (Trig::Tan, false) => tan_f64 as extern "C" fn(f64) -> f64 as usize,
        };
        let callee = self.b.ins().iconst(types::I64, addr as i64);
        if self.ty.is_vector() {
            let mut acc = fast;
            for k in 0..self.ty.lane_count() as u8 {
                let xl = self.b.ins().extractlane(x, k);
                let call = self.b.ins().call_indirect(sig, callee, &[xl]);
                let yl = self.b.inst_results(call)[0];
                acc = self.b.ins().insertlane(acc, yl, k);
            }
            acc
        } else {
            let call = self.b.ins().call_indirect(sig, callee, &[x]);
            self.b.inst_results(call)[0]
        }
    }
}
