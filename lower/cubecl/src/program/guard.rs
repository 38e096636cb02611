//! The `guard_arithmetic` pass: barriers that keep the driver from rewriting the user's float
//! arithmetic (Vulkan's float rules allow reassociation and identities that IEEE does not).
//! It runs on every program the builder finishes; safe on any instruction list, since a
//! barrier returns its operand unchanged.

use switchyard_ir::BinaryOp;

use super::ir::{Bank, Inst};

impl Inst {
    /// The instruction with each f32 register it reads renamed by `f` (other banks kept).
    fn rename_f(&self, f: impl Fn(usize) -> usize) -> Inst {
        use Inst::*;
        match *self {
            UnaryF(op, a) => UnaryF(op, f(a)),
            TestF(op, a) => TestF(op, f(a)),
            FloatToInt(a) => FloatToInt(f(a)),
            FloatToBool(a) => FloatToBool(f(a)),
            Opaque(a) => Opaque(f(a)),
            BinaryF(op, a, b) => BinaryF(op, f(a), f(b)),
            CompareF(op, a, b) => CompareF(op, f(a), f(b)),
            SelectF(c, a, b) => SelectF(c, f(a), f(b)),
            StoreF { reg, slot } => StoreF { reg: f(reg), slot },
            ref other => other.clone(),
        }
    }

    /// Whether its f32 result is computed by arithmetic the driver could rewrite together
    /// with an instruction that reads it (loads, constants and barriers are not).
    fn computes_f(&self) -> bool {
        matches!(
            self,
            Inst::UnaryF(..)
                | Inst::BinaryF(..)
                | Inst::SelectF(..)
                | Inst::IotaF { .. }
                | Inst::IntToFloat(_)
                | Inst::BoolToFloat(_)
        )
    }
}

/// Puts the user's float arithmetic out of the driver's reach, so that it keeps IEEE
/// semantics: the driver compiles under Vulkan's float rules, which allow it to reassociate
/// and to fold identities that are false for infinities, NaN or signed zeros (lavapipe
/// turns `x - x` into 0 and `(a + b) - b` into `a`, and merges `a + b` with `b + a`).
/// Returns `insts` with an [`Inst::Opaque`] barrier
/// - after every f32 value computed by arithmetic (see [`Inst::computes_f`]) that another
///   instruction reads, or that is the reduced register `reduced`; what reads it then reads
///   the barrier (stores and the bit tests `isnan`/`isinf`/`isfinite` read the value itself:
///   a store cannot be simplified, and the tests read bits);
/// - in front of the second operand of a binary op or comparison whose two operands are the
///   same register (`x - x`, `x / x`, `x == x`), except where the identity is IEEE's own
///   (`x + x`, `x * x`, `maximum(x, x)`, `minimum(x, x)`).
///
/// Each barrier is a distinct operation (its salt is its position, see `fused::evaluate`),
/// so the driver cannot merge two of them into one value either. Also returns `reduced`
/// renamed.
pub(super) fn guard_arithmetic(insts: Vec<Inst>, reduced: Option<usize>) -> (Vec<Inst>, Option<usize>) {
    let count = insts.iter().filter(|i| i.result() == Some(Bank::F)).count();
    let mut read = vec![false; count];
    for inst in &insts {
        if matches!(inst, Inst::StoreF { .. } | Inst::TestF(..)) {
            continue;
        }
        for (bank, reg) in inst.reads() {
            if bank == Bank::F && reg < count {
                read[reg] = true;
            }
        }
    }
    if let Some(r) = reduced.filter(|&r| r < count) {
        read[r] = true;
    }
    // `rename[old]`: the register that readers of f32 register `old` read now.
    let mut rename: Vec<usize> = Vec::with_capacity(count);
    let mut next = 0usize;
    let mut out = Vec::with_capacity(insts.len() * 2);
    for inst in insts {
        let mut inst = inst.rename_f(|r| rename.get(r).copied().unwrap_or(r));
        let twin = match inst {
            Inst::BinaryF(op, a, b)
                if a == b
                    && !matches!(
                        op,
                        BinaryOp::Add | BinaryOp::Mul | BinaryOp::Maximum | BinaryOp::Minimum
                    ) =>
            {
                Some(a)
            }
            Inst::CompareF(_, a, b) if a == b => Some(a),
            _ => None,
        };
        if let Some(a) = twin {
            out.push(Inst::Opaque(a));
            let other = next;
            next += 1;
            inst = match inst {
                Inst::BinaryF(op, a, _) => Inst::BinaryF(op, a, other),
                Inst::CompareF(op, a, _) => Inst::CompareF(op, a, other),
                keep => keep,
            };
        }
        let computes = inst.computes_f();
        let is_f = inst.result() == Some(Bank::F);
        out.push(inst);
        if !is_f {
            continue;
        }
        let old = rename.len();
        let value = next;
        next += 1;
        if computes && read.get(old).copied().unwrap_or(false) {
            out.push(Inst::Opaque(value));
            rename.push(next);
            next += 1;
        } else {
            rename.push(value);
        }
    }
    let reduced = reduced.map(|r| rename.get(r).copied().unwrap_or(r));
    (out, reduced)
}
