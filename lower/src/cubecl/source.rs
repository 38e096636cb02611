//! What `plan --code` shows for a `gpu.cubecl` kernel: its program, one instruction a line.

use std::fmt::Write as _;

use super::program::{Kind, LaunchData, Program};

/// The program as text, one instruction a line.
pub fn describe(program: &Program, data: &LaunchData) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; gpu.cubecl {:?} kernel, rank {}, views {:?}",
        program.kind, program.rank, program.views
    );
    let _ = writeln!(
        out,
        "; inputs {:?}, outputs {:?}, constants f32 {:?} i32 {:?}",
        program.inputs, program.outputs, data.consts_f, data.consts_i
    );
    for (pc, inst) in program.insts.iter().enumerate() {
        let _ = writeln!(out, "{pc:3}: {inst:?}");
    }
    if let Kind::Matmul { .. } = program.kind {
        let _ = writeln!(out, "; m, k, n = {:?}, batch {:?}", data.mkn, data.shape);
    }
    out
}
