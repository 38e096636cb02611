// sum(x*x, axis=-1), f32: wgsl, one 256-thread workgroup per output element (long rows in parts), fused 2 ops
// gpu.cubecl Reduce { reduction: Sum, reg: 2, kept: 1 } kernel, rank 2, views [Linear]
// inputs [F], outputs [F], constants f32 [] i32 []
//   0: LoadF { slot: 0, view: 0 }
//   1: BinaryF(Mul, 0, 0)
//   2: Opaque(1)
@group(0)
@binding(0)
var<storage, read_write> buffer_0_global: array<f32>;

@group(0)
@binding(1)
var<storage, read_write> buffer_1_global: array<f32>;

struct info_st {
   scalars_f32: array<f32, 2>,
   scalars_u32: array<u32, 10>,
   static_meta: array<u32, 4>,
}

@group(0)
@binding(2)
var<storage, read> info: info_st;

var<workgroup> shared_memory_48: array<f32, 256>;

const WORKGROUP_SIZE_X = 256u;
const WORKGROUP_SIZE_Y = 1u;
const WORKGROUP_SIZE_Z = 1u;

@compute
@workgroup_size(256, 1, 1)
fn reduce_kernel(
    @builtin(local_invocation_index) local_idx: u32,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
) {
let workgroup_id_no_axis = (u32(num_workgroups.y) * u32(num_workgroups.x) * u32(workgroup_id.z)) + (u32(num_workgroups.x) * u32(workgroup_id.y)) + u32(workgroup_id.x);
var l_mut_22: f32;
var l_mut_23: f32;
var l_mut_24: u32;
var l_mut_27: u32;
var l_mut_28: u32;
let l_0 = info.scalars_u32[5] * info.scalars_u32[7];
let l_1 = workgroup_id_no_axis >= l_0;
if l_1 {
return;
}
let l_2 = workgroup_id_no_axis / info.scalars_u32[7];
let l_3 = l_2 * info.scalars_u32[7];
let l_4 = workgroup_id_no_axis - l_3;
let l_5 = l_4 * info.scalars_u32[8];
let l_6 = info.scalars_u32[6] - l_5;
let l_7 = info.scalars_u32[8] < l_6;
let l_8 = info.scalars_u32[6] - l_5;
let l_9 = select(l_8, info.scalars_u32[8], l_7);
let l_10 = l_9 + u32(256);
let l_11 = l_10 - u32(1);
let l_12 = l_11 / u32(256);
let l_13 = local_idx * l_12;
let l_14 = l_5 + l_13;
let l_15 = local_idx * l_12;
let l_16 = l_15 + l_12;
let l_17 = l_16 < l_9;
let l_18 = local_idx * l_12;
let l_19 = l_18 + l_12;
let l_20 = select(l_9, l_19, l_17);
let l_21 = l_5 + l_20;
l_mut_22 = f32(0.0);
l_mut_23 = f32(0.0);
l_mut_24 = l_14;
loop {
let l_25 = l_mut_24 < l_21;
let l_26 = !l_25;
if l_26 {
break;
}
l_mut_27 = l_mut_24;
l_mut_28 = l_2;
let l_29 = l_2 * info.scalars_u32[6];
let l_30 = l_29 + l_mut_24;
let l_31 = buffer_0_global[l_30];
let l_32 = l_31 * l_31;
let l_33 = info.scalars_u32[9] * u32(3);
let l_34 = bitcast<u32>(l_32);
let l_35 = l_34 ^ l_33;
let l_36 = bitcast<f32>(l_35);
let l_37 = l_36 - l_mut_23;
let l_38 = l_mut_22 + l_37;
let l_39 = bitcast<u32>(l_38);
let l_40 = l_39 ^ info.scalars_u32[9];
let l_41 = bitcast<f32>(l_40);
let l_42 = l_41 - l_mut_22;
let l_43 = l_42 - l_37;
let l_44 = is_nan_1_f32(l_38);let l_45 = is_inf_1_f32(l_38);let l_46 = l_44 || l_45;
let l_47 = select(l_43, f32(0.0), l_46);
l_mut_23 = l_47;
l_mut_22 = l_38;
l_mut_24 = l_mut_24 + u32(1);
}
let l_49 = l_mut_22 - l_mut_23;
shared_memory_48[local_idx] = l_49;
workgroupBarrier();
let l_50 = local_idx & u32(1);
let l_51 = l_50 == u32(0);
if l_51 {
let l_52 = shared_memory_48[local_idx];
let l_53 = local_idx + u32(1);
let l_54 = shared_memory_48[l_53];
let l_55 = l_52 + l_54;
shared_memory_48[local_idx] = l_55;
}
workgroupBarrier();
let l_56 = local_idx & u32(3);
let l_57 = l_56 == u32(0);
if l_57 {
let l_58 = shared_memory_48[local_idx];
let l_59 = local_idx + u32(2);
let l_60 = shared_memory_48[l_59];
let l_61 = l_58 + l_60;
shared_memory_48[local_idx] = l_61;
}
workgroupBarrier();
let l_62 = local_idx & u32(7);
let l_63 = l_62 == u32(0);
if l_63 {
let l_64 = shared_memory_48[local_idx];
let l_65 = local_idx + u32(4);
let l_66 = shared_memory_48[l_65];
let l_67 = l_64 + l_66;
shared_memory_48[local_idx] = l_67;
}
workgroupBarrier();
let l_68 = local_idx & u32(15);
let l_69 = l_68 == u32(0);
if l_69 {
let l_70 = shared_memory_48[local_idx];
let l_71 = local_idx + u32(8);
let l_72 = shared_memory_48[l_71];
let l_73 = l_70 + l_72;
shared_memory_48[local_idx] = l_73;
}
workgroupBarrier();
let l_74 = local_idx & u32(31);
let l_75 = l_74 == u32(0);
if l_75 {
let l_76 = shared_memory_48[local_idx];
let l_77 = local_idx + u32(16);
let l_78 = shared_memory_48[l_77];
let l_79 = l_76 + l_78;
shared_memory_48[local_idx] = l_79;
}
workgroupBarrier();
let l_80 = local_idx & u32(63);
let l_81 = l_80 == u32(0);
if l_81 {
let l_82 = shared_memory_48[local_idx];
let l_83 = local_idx + u32(32);
let l_84 = shared_memory_48[l_83];
let l_85 = l_82 + l_84;
shared_memory_48[local_idx] = l_85;
}
workgroupBarrier();
let l_86 = local_idx & u32(127);
let l_87 = l_86 == u32(0);
if l_87 {
let l_88 = shared_memory_48[local_idx];
let l_89 = local_idx + u32(64);
let l_90 = shared_memory_48[l_89];
let l_91 = l_88 + l_90;
shared_memory_48[local_idx] = l_91;
}
workgroupBarrier();
let l_92 = local_idx & u32(255);
let l_93 = l_92 == u32(0);
if l_93 {
let l_94 = shared_memory_48[local_idx];
let l_95 = local_idx + u32(128);
let l_96 = shared_memory_48[l_95];
let l_97 = l_94 + l_96;
shared_memory_48[local_idx] = l_97;
}
workgroupBarrier();
let l_98 = local_idx == u32(0);
if l_98 {
let l_99 = shared_memory_48[u32(0)];
l_mut_23 = l_99;
buffer_1_global[workgroup_id_no_axis] = l_mut_23;
}
}
fn is_nan_primitive_f32(x: f32) -> bool {
    let bits = bitcast<u32>(x);
    let abs_bits = bits & 0x7fffffffu;
    return abs_bits > 0x7f800000u;
}


fn is_nan_1_f32(x: f32, ) -> bool{
    return is_nan_primitive_f32(x, );
}



fn is_inf_primitive_f32(x: f32) -> bool {
    let bits = bitcast<u32>(x);
    let abs_bits = bits & 0x7fffffffu;
    return abs_bits == 0x7f800000u;
}


fn is_inf_1_f32(x: f32, ) -> bool{
    return is_inf_primitive_f32(x, );
}


