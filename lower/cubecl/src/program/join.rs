//! Joins: `concat`, `stack` and `pad` read each operand through a view that is valid inside a
//! window of the result (a coordinate range test, [`Inst::InRange`], and a guarded load),
//! selecting between the parts, and the pad value outside them.

use switchyard_ir::{BinaryOp, Op};

use super::builder::{Builder, Value};
use super::compile_error;
use super::ir::{Bank, Inst};
use super::view::View;
use switchyard_lower::LowerError;

/// Where a join's part is read: `(axis, lo, len)` per windowed axis of the iteration space.
type Window = Vec<(usize, usize, usize)>;

/// The value of a join node, or why it cannot be generated.
type JoinResult = Result<Value, LowerError>;

fn fits_u32(n: usize) -> Result<u32, LowerError> {
    u32::try_from(n).map_err(|_| compile_error(format!("{n} elements exceed 2^32")))
}

impl<'a> Builder<'a> {
    /// A bool register: whether iteration-space axis `axis` (unpermuted) is in
    /// `[lo, lo + len)`.
    fn in_range(&mut self, axis: usize, lo: usize, len: usize) -> Result<usize, LowerError> {
        let axis =
            self.perm.iter().position(|&p| p == axis).ok_or_else(|| {
                compile_error(format!("a window on axis {axis} of rank {}", self.perm.len()))
            })?;
        let (lo, len) = (fits_u32(lo)?, fits_u32(len)?);
        // Read back as u32 by the kernel: two's complement keeps every u32.
        self.data.consts_i.extend([lo as i32, len as i32]);
        let n = self.data.consts_i.len();
        self.push_reg(Inst::InRange { axis, lo: n - 2, len: n - 1 })
    }

    /// The value of a join (`concat`, `stack`, `pad`): each part is a view of an argument
    /// over the iteration space read only inside its window (`(axis, lo, len)` per windowed
    /// axis); elsewhere the value is `fill` (or, without one, the parts' windows cover the
    /// space). Windows must not overlap.
    fn join(&mut self, bank: Bank, parts: Vec<(View, Window)>, fill: Option<Value>) -> JoinResult {
        let mut acc = match fill {
            Some(v) => Some(self.reg(&v)?),
            None => None,
        };
        for (view, window) in parts.into_iter().rev() {
            if window.iter().any(|&(_, _, len)| len == 0) {
                continue;
            }
            // A window over a whole axis tests nothing.
            let space = &self.space;
            let window: Vec<_> =
                window.into_iter().filter(|&(a, lo, len)| !(lo == 0 && space.get(a) == Some(&len))).collect();
            if self.input_banks.get(view.arg) != Some(&bank) {
                return Err(compile_error("the operands of a join must have its dtype"));
            }
            let mut cond = None;
            for (axis, lo, len) in window {
                let r = self.in_range(axis, lo, len)?;
                cond = Some(match cond {
                    None => r,
                    Some(c) => self.push_reg(Inst::BinaryB(BinaryOp::LogicalAnd, c, r))?,
                });
            }
            let Some(cond) = cond else {
                acc = Some(self.reg(&Value::View(view))?);
                continue;
            };
            let key = self.load_key(&view);
            let idx = self.add_view(&key);
            let slot = self.input_slots[view.arg];
            let load = self.push_reg(match bank {
                Bank::F => Inst::GuardedLoadF { slot, view: idx, cond },
                Bank::I => Inst::GuardedLoadI { slot, view: idx, cond },
                Bank::B => Inst::GuardedLoadB { slot, view: idx, cond },
            })?;
            acc = Some(match acc {
                None => (bank, load),
                Some((_, other)) => (
                    bank,
                    self.push_reg(match bank {
                        Bank::F => Inst::SelectF(cond, load, other),
                        Bank::I => Inst::SelectI(cond, load, other),
                        Bank::B => Inst::SelectB(cond, load, other),
                    })?,
                ),
            });
        }
        match acc {
            Some((b, r)) => Ok(Value::Reg(b, r)),
            // Every part is empty, so is the result: any value will do.
            None => Ok(self.constant(switchyard_ir::Scalar::I32(0), bank)),
        }
    }

    /// The value of a `concat`, `stack` or `pad` of `views` (the operands) with result
    /// dims `out`: each operand becomes a view over the result, read inside its window.
    pub(super) fn join_node(&mut self, op: &Op, views: Vec<View>, out: &[usize], bank: Bank) -> JoinResult {
        let axis_of = |v: &View, axis: usize| -> Result<(usize, isize), LowerError> {
            match (v.at.dims.get(axis), v.at.strides.get(axis)) {
                (Some(&d), Some(&s)) => Ok((d, s)),
                _ => Err(compile_error(format!("{}: axis {axis} out of range", op.name()))),
            }
        };
        match op {
            Op::Concat(axis) => {
                let mut parts = Vec::with_capacity(views.len());
                let mut start = 0usize;
                for mut v in views {
                    let (len, stride) = axis_of(&v, *axis)?;
                    v.at.offset -= start as isize * stride;
                    v.at.dims = out.iter().copied().collect();
                    parts.push((v, vec![(*axis, start, len)]));
                    start += len;
                }
                self.join(bank, parts, None)
            }
            Op::Stack(axis) => {
                let mut parts = Vec::with_capacity(views.len());
                for (i, mut v) in views.into_iter().enumerate() {
                    if *axis > v.at.strides.len() {
                        return Err(compile_error(format!("stack: axis {axis} out of range")));
                    }
                    v.at.strides.insert(*axis, 0);
                    v.at.dims = out.iter().copied().collect();
                    parts.push((v, vec![(*axis, i, 1)]));
                }
                self.join(bank, parts, None)
            }
            Op::Pad { widths, value } => {
                let Some(mut v) = views.into_iter().next() else {
                    return Err(compile_error("pad without an operand"));
                };
                let mut window = Vec::new();
                for (axis, &(before, _)) in widths.iter().enumerate() {
                    let (len, stride) = axis_of(&v, axis)?;
                    v.at.offset -= before as isize * stride;
                    window.push((axis, before, len));
                }
                v.at.dims = out.iter().copied().collect();
                let fill = self.constant(*value, bank);
                self.join(bank, vec![(v, window)], Some(fill))
            }
            other => Err(compile_error(format!("{} is not a join", other.name()))),
        }
    }
}
