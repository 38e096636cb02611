// exp(x*2+1)*y - x, f32: wgsl, 256 threads/workgroup, fused 5 ops
// gpu.cubecl Map kernel, rank 2, views [Linear, Strided]
// inputs [F, F], outputs [F], constants f32 [2.0, 1.0] i32 []
//   0: ConstF(0)
//   1: ConstF(1)
//   2: LoadF { slot: 0, view: 0 }
//   3: BinaryF(Mul, 2, 0)
//   4: Opaque(3)
//   5: BinaryF(Add, 4, 1)
//   6: Opaque(5)
//   7: UnaryF(Exp, 6)
//   8: Opaque(7)
//   9: LoadF { slot: 1, view: 1 }
//  10: BinaryF(Mul, 8, 9)
//  11: Opaque(10)
//  12: BinaryF(Sub, 11, 2)
//  13: StoreF { reg: 12, slot: 0 }
@group(0)
@binding(0)
var<storage, read_write> buffer_0_global: array<f32>;

@group(0)
@binding(1)
var<storage, read_write> buffer_1_global: array<f32>;

@group(0)
@binding(2)
var<storage, read_write> buffer_2_global: array<f32>;

struct info_st {
   scalars_f32: array<f32, 2>,
   scalars_u32: array<u32, 10>,
   static_meta: array<u32, 6>,
}

@group(0)
@binding(3)
var<storage, read> info: info_st;

const WORKGROUP_SIZE_X = 256u;
const WORKGROUP_SIZE_Y = 1u;
const WORKGROUP_SIZE_Z = 1u;

@compute
@workgroup_size(256, 1, 1)
fn map_kernel(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
let id = (u32(global_id.z) * u32(num_workgroups.x) * u32(WORKGROUP_SIZE_X) * u32(num_workgroups.y) * u32(WORKGROUP_SIZE_Y)) + (u32(global_id.y) * u32(num_workgroups.x) * u32(WORKGROUP_SIZE_X)) + u32(global_id.x);

var l_mut_1: u32;
var l_mut_42: f32;
var l_mut_52: u32;
let l_0 = id >= info.scalars_u32[8];
if l_0 {
return;
}
l_mut_1 = id;
let l_2 = l_mut_1 % info.scalars_u32[1];
l_mut_1 = l_mut_1 / info.scalars_u32[1];
let l_3 = buffer_0_global[id];
let l_4 = l_3 * info.scalars_f32[0];
let l_5 = info.scalars_u32[9] * u32(5);
let l_6 = bitcast<u32>(l_4);
let l_7 = l_6 ^ l_5;
let l_8 = bitcast<f32>(l_7);
let l_9 = l_8 + info.scalars_f32[1];
let l_10 = info.scalars_u32[9] * u32(7);
let l_11 = bitcast<u32>(l_9);
let l_12 = l_11 ^ l_10;
let l_13 = bitcast<f32>(l_12);
let l_14 = l_13 * f32(1.4426950216293335);
let l_15 = round(l_14);
let l_16 = l_15 * f32(0.693359375);
let l_17 = l_13 - l_16;
let l_18 = bitcast<u32>(l_17);
let l_19 = l_18 ^ info.scalars_u32[9];
let l_20 = bitcast<f32>(l_19);
let l_21 = l_15 * f32(-0.00021219444170128554);
let l_22 = l_20 - l_21;
let l_23 = l_22 * f32(1.4426950216293335);
let l_24 = powf_scalar_1_f32(f32(2.0), l_23);let l_25 = clamp(l_15, f32(-200.0), f32(200.0));
let l_26 = i32(l_25);
let l_27 = l_26 / i32(2);
let l_28 = l_27 + i32(127);
let l_29 = u32(l_28);
let l_30 = l_29 << u32(23);
let l_31 = bitcast<f32>(l_30);
let l_32 = l_24 * l_31;
let l_33 = bitcast<u32>(l_32);
let l_34 = l_33 ^ info.scalars_u32[9];
let l_35 = bitcast<f32>(l_34);
let l_36 = l_26 - l_27;
let l_37 = l_36 + i32(127);
let l_38 = u32(l_37);
let l_39 = l_38 << u32(23);
let l_40 = bitcast<f32>(l_39);
let l_41 = l_35 * l_40;
l_mut_42 = l_41;
let l_43 = l_13 > f32(89.0);
if l_43 {
let l_44 = bitcast<f32>(u32(2139095040));
l_mut_42 = l_44;
}
let l_45 = l_13 < f32(-104.0);
if l_45 {
l_mut_42 = f32(0.0);
}
let l_46 = is_nan_1_f32(l_13);let l_47 = select(l_mut_42, l_13, l_46);
let l_48 = info.scalars_u32[9] * u32(9);
let l_49 = bitcast<u32>(l_47);
let l_50 = l_49 ^ l_48;
let l_51 = bitcast<f32>(l_50);
l_mut_52 = info.scalars_u32[7];
let l_53 = l_mut_1 * info.scalars_u32[4];
l_mut_52 = l_mut_52 + l_53;
let l_54 = l_2 * info.scalars_u32[5];
l_mut_52 = l_mut_52 + l_54;
let l_55 = buffer_1_global[l_mut_52];
let l_56 = l_51 * l_55;
let l_57 = info.scalars_u32[9] * u32(12);
let l_58 = bitcast<u32>(l_56);
let l_59 = l_58 ^ l_57;
let l_60 = bitcast<f32>(l_59);
let l_61 = l_60 - l_3;
buffer_2_global[id] = l_61;
}
fn powf_primitive_f32(lhs: f32, rhs: f32) -> f32 {
    let modulo = rhs % 2.0;
    if rhs == 0.0 {
        return 1.0;
    }
    if (modulo == 0.0) {
        // Even number
        return pow(abs(lhs), rhs);
    } else if (modulo == 1.0 && lhs < 0.0) {
        // Odd number
        return -1.0 * pow(-1.0 * lhs, rhs);
    } else {
        // Float number
        return pow(lhs, rhs);
    }
}


fn powf_scalar_1_f32(lhs: f32, rhs: f32, ) -> f32{
    return powf_primitive_f32(lhs, rhs, );
}



fn is_nan_primitive_f32(x: f32) -> bool {
    let bits = bitcast<u32>(x);
    let abs_bits = bits & 0x7fffffffu;
    return abs_bits > 0x7f800000u;
}


fn is_nan_1_f32(x: f32, ) -> bool{
    return is_nan_primitive_f32(x, );
}


