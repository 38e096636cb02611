//! From a [`KernelSpec`] to a program: the builder that walks a spec's nodes, keeps shape
//! ops on arguments as views (loaded where they are used, once per distinct view; a view that
//! walks the iteration space in row-major order is [`LoadAddressing::Linear`], no index math), emits
//! one instruction per elementwise op, and finishes with the `guard_arithmetic` pass and
//! [`Program::validate`]; and the map and reduction programs built with it.

use switchyard_ir::{BinaryOp, Op, UnaryOp};

use super::compile_error;
use super::guard::guard_arithmetic;
use super::ir::{slots, Bank, Inst, Kind, LaunchData, LoadAddressing, Program, Reduction};
use super::view::{is_join_op, is_view_op, View};
use switchyard_lower::layout::{broadcast_strides, row_major_strides};
use switchyard_lower::LowerError;
use switchyard_lower::{KernelOperand, KernelSpec};

/// What a node of the spec is, while the program is built.
#[derive(Clone, Debug)]
pub(super) enum Value {
    /// In a register.
    Reg(Bank, usize),
    /// An argument seen through a view (not loaded yet: it is loaded where it is used).
    View(View),
}

/// A load's identity: argument, offset and strides in iteration order.
type LoadKey = (usize, i64, Vec<i64>);

/// Builds a program and its launch data.
pub(super) struct Builder<'a> {
    spec: &'a KernelSpec,
    /// Iteration dims (unpermuted) and the permutation into iteration order.
    pub(super) space: Vec<usize>,
    pub(super) perm: Vec<usize>,
    insts: Vec<Inst>,
    regs: [usize; 3],
    views: Vec<LoadAddressing>,
    view_data: Vec<(i64, Vec<i64>)>,
    loads: Vec<(LoadKey, Value)>,
    pub(super) input_banks: Vec<Bank>,
    pub(super) input_slots: Vec<usize>,
    pub(super) data: LaunchData,
}

impl<'a> Builder<'a> {
    fn new(spec: &'a KernelSpec, space: Vec<usize>, perm: Vec<usize>) -> Result<Builder<'a>, LowerError> {
        let input_banks = spec
            .inputs
            .iter()
            .map(|t| {
                Bank::of(t.dtype)
                    .ok_or_else(|| compile_error(format!("input of {}: dtype unsupported", t.dtype)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let input_slots = slots(&input_banks);
        Ok(Builder {
            spec,
            space,
            perm,
            insts: Vec::new(),
            regs: [0; 3],
            views: Vec::new(),
            view_data: Vec::new(),
            loads: Vec::new(),
            input_banks,
            input_slots,
            data: LaunchData::default(),
        })
    }

    fn push(&mut self, inst: Inst) -> Value {
        let bank = inst.result().unwrap_or(Bank::F);
        let reg = self.regs[bank.index()];
        self.regs[bank.index()] += 1;
        self.insts.push(inst);
        Value::Reg(bank, reg)
    }

    /// The register holding `value` at each iteration element, loading views as needed.
    pub(super) fn reg(&mut self, value: &Value) -> Result<(Bank, usize), LowerError> {
        let view = match value {
            Value::Reg(b, r) => return Ok((*b, *r)),
            Value::View(v) => v,
        };
        let key = self.load_key(view);
        if let Some((_, v)) = self.loads.iter().find(|(k, _)| *k == key) {
            return self.reg(&v.clone());
        }
        let idx = self.add_view(&key);
        let (bank, slot) = (self.input_banks[view.arg], self.input_slots[view.arg]);
        let inst = match bank {
            Bank::F => Inst::LoadF { slot, view: idx },
            Bank::I => Inst::LoadI { slot, view: idx },
            Bank::B => Inst::LoadB { slot, view: idx },
        };
        let v = self.push(inst);
        self.loads.push((key, v.clone()));
        self.reg(&v)
    }

    /// A view's identity in the iteration space: broadcast to it, axes in iteration order.
    pub(super) fn load_key(&self, view: &View) -> LoadKey {
        let strides = broadcast_strides(&view.at.dims, &view.at.strides, &self.space);
        let strides: Vec<i64> = self.perm.iter().map(|&p| strides[p] as i64).collect();
        (view.arg, view.at.offset as i64, strides)
    }

    /// Declares a view (its layout and launch data) and returns its number.
    pub(super) fn add_view(&mut self, (_, offset, strides): &LoadKey) -> usize {
        let iter_dims: Vec<usize> = self.perm.iter().map(|&p| self.space[p]).collect();
        let linear = *offset == 0
            && iter_dims
                .iter()
                .zip(strides.iter().zip(row_major_strides(&iter_dims)))
                .all(|(&d, (&s, w))| d <= 1 || s == w as i64);
        self.views.push(if linear { LoadAddressing::Linear } else { LoadAddressing::Strided });
        self.view_data.push((*offset, strides.clone()));
        self.views.len() - 1
    }

    /// Pushes `inst` and returns its register number.
    pub(super) fn push_reg(&mut self, inst: Inst) -> Result<usize, LowerError> {
        match self.push(inst) {
            Value::Reg(_, r) => Ok(r),
            Value::View(_) => Err(compile_error("internal: an instruction without a register")),
        }
    }

    pub(super) fn constant(&mut self, value: switchyard_ir::Scalar, bank: Bank) -> Value {
        match bank {
            Bank::F => {
                self.data.consts_f.push(value.to_f64() as f32);
                self.push(Inst::ConstF(self.data.consts_f.len() - 1))
            }
            Bank::I => {
                self.data.consts_i.push(value.to_f64() as i32);
                self.push(Inst::ConstI(self.data.consts_i.len() - 1))
            }
            Bank::B => self.push(Inst::ConstB(value.to_f64() != 0.0)),
        }
    }

    /// The value of node `i`.
    fn node(&mut self, i: usize, values: &[Value]) -> Result<Value, LowerError> {
        let node = &self.spec.nodes[i];
        let bank = Bank::of(node.ty.dtype)
            .ok_or_else(|| compile_error(format!("node {i} ({}): {} unsupported", node.op, node.ty.dtype)))?;
        let operand = |k: usize| -> Result<Value, LowerError> {
            match node.operands.get(k) {
                Some(KernelOperand::Arg(a)) => self
                    .spec
                    .inputs
                    .get(*a)
                    .map(|t| Value::View(View::of_arg(*a, &t.shape)))
                    .ok_or_else(|| compile_error(format!("node {i} reads missing argument {a}"))),
                Some(KernelOperand::Node(n)) if *n < i => Ok(values[*n].clone()),
                _ => Err(compile_error(format!("node {i} ({}) has a bad operand {k}", node.op))),
            }
        };
        if is_join_op(&node.op) {
            let mut views = Vec::with_capacity(node.operands.len());
            for k in 0..node.operands.len() {
                match operand(k)? {
                    Value::View(v) => views.push(v),
                    Value::Reg(..) => {
                        return Err(compile_error(format!(
                            "{} of a computed value is not generated inside a kernel",
                            node.op.name()
                        )))
                    }
                }
            }
            return self.join_node(&node.op, views, node.ty.shape.dims(), bank);
        }
        if is_view_op(&node.op) {
            return match operand(0)? {
                Value::View(v) => Ok(Value::View(v.apply(&node.op, &node.ty.shape)?)),
                Value::Reg(..) => Err(compile_error(format!(
                    "{} of a computed value is not generated inside a kernel",
                    node.op.name()
                ))),
            };
        }
        let elementwise = node.op.is_elementwise();
        if elementwise && node.ty.shape.dims() != self.space.as_slice() {
            return Err(compile_error(format!(
                "node {i} ({}) has shape {}, not the kernel's iteration shape",
                node.op, node.ty.shape
            )));
        }
        let mut regs = Vec::new();
        for k in 0..node.operands.len() {
            let v = operand(k)?;
            regs.push(self.reg(&v)?);
        }
        let r = |k: usize| regs.get(k).map_or(0, |&(_, r)| r);
        let b0 = regs.first().map_or(bank, |&(b, _)| b);
        let inst = match (&node.op, bank) {
            (Op::Full { value, .. }, _) => return Ok(self.constant(*value, bank)),
            (Op::Arange { start, step, .. }, Bank::F | Bank::I) => {
                if node.ty.shape.dims() != self.space.as_slice() || self.perm.len() != 1 {
                    return Err(compile_error("arange is generated only as its own kernel"));
                }
                let (s, t) = match bank {
                    Bank::F => {
                        self.data.consts_f.extend([start.to_f64() as f32, step.to_f64() as f32]);
                        (self.data.consts_f.len() - 2, self.data.consts_f.len() - 1)
                    }
                    _ => {
                        self.data.consts_i.extend([start.to_f64() as i32, step.to_f64() as i32]);
                        (self.data.consts_i.len() - 2, self.data.consts_i.len() - 1)
                    }
                };
                return Ok(self.push(if bank == Bank::F {
                    Inst::IotaF { start: s, step: t }
                } else {
                    Inst::IotaI { start: s, step: t }
                }));
            }
            (Op::Unary(u), _) => match (u, b0) {
                (UnaryOp::LogicalNot, Bank::B) => Inst::Not(r(0)),
                (UnaryOp::IsNan | UnaryOp::IsInf | UnaryOp::IsFinite, Bank::F) => Inst::TestF(*u, r(0)),
                (UnaryOp::IsNan | UnaryOp::IsInf, Bank::I) => Inst::ConstB(false),
                (UnaryOp::IsFinite, Bank::I) => Inst::ConstB(true),
                // Integers are their own floor, ceiling and rounding.
                (UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round, Bank::I) => {
                    return Ok(Value::Reg(Bank::I, r(0)))
                }
                (_, Bank::F) => Inst::UnaryF(*u, r(0)),
                (_, Bank::I) => Inst::UnaryI(*u, r(0)),
                _ => return Err(compile_error(format!("{} on {}", u.name(), b0.name()))),
            },
            (Op::Binary(b), _) => {
                let cmp = switchyard_ir::elementwise::is_comparison(*b);
                match (b0, cmp) {
                    (Bank::F, false) => Inst::BinaryF(*b, r(0), r(1)),
                    (Bank::I, false) => Inst::BinaryI(*b, r(0), r(1)),
                    (Bank::F, true) => Inst::CompareF(*b, r(0), r(1)),
                    (Bank::I, true) => Inst::CompareI(*b, r(0), r(1)),
                    (Bank::B, _) => Inst::BinaryB(*b, r(0), r(1)),
                }
            }
            (Op::Where, Bank::F) => Inst::SelectF(r(0), r(1), r(2)),
            (Op::Where, Bank::I) => Inst::SelectI(r(0), r(1), r(2)),
            (Op::Where, Bank::B) => Inst::SelectB(r(0), r(1), r(2)),
            (Op::Clip, Bank::F | Bank::I) => {
                let max = if bank == Bank::F { Inst::BinaryF } else { Inst::BinaryI };
                let Value::Reg(_, lo) = self.push(max(BinaryOp::Maximum, r(0), r(1))) else {
                    return Err(compile_error("clip"));
                };
                max(BinaryOp::Minimum, lo, r(2))
            }
            (Op::Cast(_), _) => match (b0, bank) {
                (from, to) if from == to => return Ok(Value::Reg(from, r(0))),
                (Bank::F, Bank::I) => Inst::FloatToInt(r(0)),
                (Bank::F, Bank::B) => Inst::FloatToBool(r(0)),
                (Bank::I, Bank::F) => Inst::IntToFloat(r(0)),
                (Bank::I, Bank::B) => Inst::IntToBool(r(0)),
                (Bank::B, Bank::F) => Inst::BoolToFloat(r(0)),
                _ => Inst::BoolToInt(r(0)),
            },
            (op, _) => return Err(compile_error(format!("{} is not generated", op.name()))),
        };
        Ok(self.push(inst))
    }

    /// Evaluates nodes `0..end` (the reduction, if any, is left out).
    fn nodes(&mut self, end: usize) -> Result<Vec<Value>, LowerError> {
        let mut values: Vec<Value> = Vec::with_capacity(end);
        for i in 0..end {
            let v = self.node(i, &values)?;
            values.push(v);
        }
        Ok(values)
    }

    fn finish(mut self, kind: Kind, outputs: Vec<Bank>) -> Result<(Program, LaunchData), LowerError> {
        let iter_dims: Vec<usize> = self.perm.iter().map(|&p| self.space[p]).collect();
        let fits =
            |n: usize| u32::try_from(n).map_err(|_| compile_error(format!("{n} elements exceed 2^32")));
        self.data.shape = iter_dims.iter().map(|&d| fits(d)).collect::<Result<_, _>>()?;
        for (offset, strides) in &self.view_data {
            // Two's complement in 32 bits: the kernel's index math wraps the same way, and a
            // valid element offset is below 2^32.
            self.data.offsets.push(*offset as u32);
            self.data.strides.extend(strides.iter().map(|&s| s as u32));
        }
        self.data.numel = fits(iter_dims.iter().product())? as usize;
        for t in &self.spec.inputs {
            fits(t.shape.numel())?;
        }
        // The user's float arithmetic behind barriers (the reduced register of a float
        // reduction included: the accumulation reads it).
        let (insts, kind) = match kind {
            Kind::Reduce { reduction, reg, kept } if reduction.bank() == Bank::F => {
                let (insts, reg) = guard_arithmetic(self.insts, Some(reg));
                (insts, Kind::Reduce { reduction, reg: reg.unwrap_or(0), kept })
            }
            kind => (guard_arithmetic(self.insts, None).0, kind),
        };
        let program = Program {
            kind,
            insts,
            views: self.views,
            rank: iter_dims.len(),
            inputs: self.input_banks,
            outputs,
            consts: (self.data.consts_f.len(), self.data.consts_i.len()),
        };
        program.validate()?;
        Ok((program, self.data))
    }
}

/// The program of an elementwise (or shape-op, or constant) kernel.
pub fn map_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let mut shapes = spec.output_types().map(|t| t.shape.clone());
    let shape = shapes.next().ok_or_else(|| compile_error("a kernel without outputs"))?;
    if shapes.any(|s| s != shape) {
        return Err(compile_error("outputs of different shapes in one kernel"));
    }
    let space = shape.dims().to_vec();
    let perm: Vec<usize> = (0..space.len()).collect();
    let mut b = Builder::new(spec, space, perm)?;
    let values = b.nodes(spec.nodes.len())?;
    let out_banks: Vec<Bank> = spec
        .output_types()
        .map(|t| Bank::of(t.dtype).ok_or_else(|| compile_error(format!("output of {}", t.dtype))))
        .collect::<Result<_, _>>()?;
    let out_slots = slots(&out_banks);
    for (k, &o) in spec.outputs.iter().enumerate() {
        let value = values.get(o).ok_or_else(|| compile_error(format!("output {o} names no node")))?.clone();
        let (bank, reg) = b.reg(&value)?;
        if bank != out_banks[k] {
            return Err(compile_error(format!(
                "output {k} is {} but its node computes {}",
                out_banks[k].name(),
                bank.name()
            )));
        }
        let slot = out_slots[k];
        b.insts.push(match bank {
            Bank::F => Inst::StoreF { reg, slot },
            Bank::I => Inst::StoreI { reg, slot },
            Bank::B => Inst::StoreB { reg, slot },
        });
    }
    b.finish(Kind::Map, out_banks)
}

/// The program of a reduction kernel: its last node is the reduction, the nodes before it
/// compute its operand element by element.
pub fn reduce_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let last = spec.nodes.len().checked_sub(1).ok_or_else(|| compile_error("an empty kernel"))?;
    let node = &spec.nodes[last];
    let Op::Reduce { op, axes, correction, .. } = &node.op else {
        return Err(compile_error("not a reduction kernel"));
    };
    if spec.outputs != [last] {
        return Err(compile_error("a reduction kernel writes only the reduced value"));
    }
    let operand_ty = match node.operands.first() {
        Some(KernelOperand::Arg(a)) => spec.inputs.get(*a),
        Some(KernelOperand::Node(n)) if *n < last => spec.nodes.get(*n).map(|n| &n.ty),
        _ => None,
    }
    .ok_or_else(|| compile_error("the reduction's operand is missing"))?;
    let bank = Bank::of(operand_ty.dtype)
        .ok_or_else(|| compile_error(format!("{} unsupported", operand_ty.dtype)))?;
    let reduction = Reduction::of(*op, bank)
        .ok_or_else(|| compile_error(format!("{} of {} is not generated", op.name(), operand_ty.dtype)))?;
    let space = operand_ty.shape.dims().to_vec();
    if axes.iter().any(|&a| a >= space.len()) {
        return Err(compile_error(format!("axes {axes:?} out of range for rank {}", space.len())));
    }
    let mut perm: Vec<usize> = (0..space.len()).filter(|a| !axes.contains(a)).collect();
    let kept = perm.len();
    perm.extend(axes.iter().copied());
    let mut b = Builder::new(spec, space.clone(), perm.clone())?;
    let values = b.nodes(last)?;
    let value = match node.operands.first() {
        Some(KernelOperand::Node(n)) => values[*n].clone(),
        Some(KernelOperand::Arg(a)) => Value::View(View::of_arg(*a, &operand_ty.shape)),
        None => return Err(compile_error("the reduction's operand is missing")),
    };
    let (_, reg) = b.reg(&value)?;
    let (program, mut data) = b.finish(Kind::Reduce { reduction, reg, kept }, vec![reduction.bank()])?;
    data.rows = perm[..kept].iter().map(|&p| space[p]).product();
    data.cols = perm[kept..].iter().map(|&p| space[p]).product();
    data.correction = *correction as usize;
    Ok((program, data))
}
