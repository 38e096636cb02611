// [2,5,3] @ [3,4], f32: wgsl, 16x16 tiles in shared memory
// gpu.cubecl Matmul { batch: 1, operands: (0, 1) } kernel, rank 1, views []
// inputs [F, F], outputs [F], constants f32 [] i32 []
// m, k, n = [5, 3, 4], batch [2]
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
   scalars_u32: array<u32, 6>,
   static_meta: array<u32, 6>,
}

@group(0)
@binding(3)
var<storage, read> info: info_st;

var<workgroup> shared_memory_13: array<f32, 256>;

var<workgroup> shared_memory_14: array<f32, 256>;

const WORKGROUP_SIZE_X = 16u;
const WORKGROUP_SIZE_Y = 16u;
const WORKGROUP_SIZE_Z = 1u;

@compute
@workgroup_size(16, 16, 1)
fn matmul_kernel(
    @builtin(local_invocation_id) local_invocation_id: vec3<u32>,
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
) {
var l_mut_4: u32;
var l_mut_5: u32;
var l_mut_6: u32;
var l_mut_15: f32;
var l_mut_22: f32;
var l_mut_150: f32;
let l_0 = workgroup_id.y * u32(16);
let l_1 = l_0 + local_invocation_id.y;
let l_2 = workgroup_id.x * u32(16);
let l_3 = l_2 + local_invocation_id.x;
l_mut_4 = workgroup_id.z;
l_mut_5 = u32(0);
l_mut_6 = u32(0);
let l_7 = l_mut_4 * info.scalars_u32[1];
l_mut_5 = l_mut_5 + l_7;
let l_8 = l_mut_4 * info.scalars_u32[2];
l_mut_6 = l_mut_6 + l_8;
let l_9 = l_mut_5 * info.scalars_u32[3];
let l_10 = l_9 * info.scalars_u32[4];
let l_11 = l_mut_6 * info.scalars_u32[4];
let l_12 = l_11 * info.scalars_u32[5];
l_mut_15 = f32(0.0);
let l_16 = info.scalars_u32[4] + u32(16);
let l_17 = l_16 - u32(1);
let l_18 = l_17 / u32(16);

for (var l_mut_19: u32 = u32(0); l_mut_19 < l_18; l_mut_19++) {
let l_20 = l_mut_19 * u32(16);
let l_21 = l_20 + local_invocation_id.x;
l_mut_22 = f32(0.0);
let l_23 = l_1 < info.scalars_u32[3];
let l_24 = l_21 < info.scalars_u32[4];
let l_25 = l_23 && l_24;
if l_25 {
let l_26 = l_1 * info.scalars_u32[4];
let l_27 = l_10 + l_26;
let l_28 = l_27 + l_21;
let l_29 = buffer_0_global[l_28];
l_mut_22 = l_29;
}
let l_30 = local_invocation_id.y * u32(16);
let l_31 = l_30 + local_invocation_id.x;
shared_memory_13[l_31] = l_mut_22;
let l_32 = l_mut_19 * u32(16);
let l_33 = l_32 + local_invocation_id.y;
l_mut_22 = f32(0.0);
let l_34 = l_33 < info.scalars_u32[4];
let l_35 = l_3 < info.scalars_u32[5];
let l_36 = l_34 && l_35;
if l_36 {
let l_37 = l_33 * info.scalars_u32[5];
let l_38 = l_12 + l_37;
let l_39 = l_38 + l_3;
let l_40 = buffer_1_global[l_39];
l_mut_22 = l_40;
}
let l_41 = local_invocation_id.y * u32(16);
let l_42 = l_41 + local_invocation_id.x;
shared_memory_14[l_42] = l_mut_22;
workgroupBarrier();
let l_43 = local_invocation_id.y * u32(16);
let l_44 = l_43 + u32(0);
let l_45 = shared_memory_13[l_44];
let l_46 = u32(0) + local_invocation_id.x;
let l_47 = shared_memory_14[l_46];
let l_48 = fma(l_45, l_47, l_mut_15);
l_mut_15 = l_48;
let l_49 = local_invocation_id.y * u32(16);
let l_50 = l_49 + u32(1);
let l_51 = shared_memory_13[l_50];
let l_52 = u32(16) + local_invocation_id.x;
let l_53 = shared_memory_14[l_52];
let l_54 = fma(l_51, l_53, l_mut_15);
l_mut_15 = l_54;
let l_55 = local_invocation_id.y * u32(16);
let l_56 = l_55 + u32(2);
let l_57 = shared_memory_13[l_56];
let l_58 = u32(32) + local_invocation_id.x;
let l_59 = shared_memory_14[l_58];
let l_60 = fma(l_57, l_59, l_mut_15);
l_mut_15 = l_60;
let l_61 = local_invocation_id.y * u32(16);
let l_62 = l_61 + u32(3);
let l_63 = shared_memory_13[l_62];
let l_64 = u32(48) + local_invocation_id.x;
let l_65 = shared_memory_14[l_64];
let l_66 = fma(l_63, l_65, l_mut_15);
l_mut_15 = l_66;
let l_67 = local_invocation_id.y * u32(16);
let l_68 = l_67 + u32(4);
let l_69 = shared_memory_13[l_68];
let l_70 = u32(64) + local_invocation_id.x;
let l_71 = shared_memory_14[l_70];
let l_72 = fma(l_69, l_71, l_mut_15);
l_mut_15 = l_72;
let l_73 = local_invocation_id.y * u32(16);
let l_74 = l_73 + u32(5);
let l_75 = shared_memory_13[l_74];
let l_76 = u32(80) + local_invocation_id.x;
let l_77 = shared_memory_14[l_76];
let l_78 = fma(l_75, l_77, l_mut_15);
l_mut_15 = l_78;
let l_79 = local_invocation_id.y * u32(16);
let l_80 = l_79 + u32(6);
let l_81 = shared_memory_13[l_80];
let l_82 = u32(96) + local_invocation_id.x;
let l_83 = shared_memory_14[l_82];
let l_84 = fma(l_81, l_83, l_mut_15);
l_mut_15 = l_84;
let l_85 = local_invocation_id.y * u32(16);
let l_86 = l_85 + u32(7);
let l_87 = shared_memory_13[l_86];
let l_88 = u32(112) + local_invocation_id.x;
let l_89 = shared_memory_14[l_88];
let l_90 = fma(l_87, l_89, l_mut_15);
l_mut_15 = l_90;
let l_91 = local_invocation_id.y * u32(16);
let l_92 = l_91 + u32(8);
let l_93 = shared_memory_13[l_92];
let l_94 = u32(128) + local_invocation_id.x;
let l_95 = shared_memory_14[l_94];
let l_96 = fma(l_93, l_95, l_mut_15);
l_mut_15 = l_96;
let l_97 = local_invocation_id.y * u32(16);
let l_98 = l_97 + u32(9);
let l_99 = shared_memory_13[l_98];
let l_100 = u32(144) + local_invocation_id.x;
let l_101 = shared_memory_14[l_100];
let l_102 = fma(l_99, l_101, l_mut_15);
l_mut_15 = l_102;
let l_103 = local_invocation_id.y * u32(16);
let l_104 = l_103 + u32(10);
let l_105 = shared_memory_13[l_104];
let l_106 = u32(160) + local_invocation_id.x;
let l_107 = shared_memory_14[l_106];
let l_108 = fma(l_105, l_107, l_mut_15);
l_mut_15 = l_108;
let l_109 = local_invocation_id.y * u32(16);
let l_110 = l_109 + u32(11);
let l_111 = shared_memory_13[l_110];
let l_112 = u32(176) + local_invocation_id.x;
let l_113 = shared_memory_14[l_112];
let l_114 = fma(l_111, l_113, l_mut_15);
l_mut_15 = l_114;
let l_115 = local_invocation_id.y * u32(16);
let l_116 = l_115 + u32(12);
let l_117 = shared_memory_13[l_116];
let l_118 = u32(192) + local_invocation_id.x;
let l_119 = shared_memory_14[l_118];
let l_120 = fma(l_117, l_119, l_mut_15);
l_mut_15 = l_120;
let l_121 = local_invocation_id.y * u32(16);
let l_122 = l_121 + u32(13);
let l_123 = shared_memory_13[l_122];
let l_124 = u32(208) + local_invocation_id.x;
let l_125 = shared_memory_14[l_124];
let l_126 = fma(l_123, l_125, l_mut_15);
l_mut_15 = l_126;
let l_127 = local_invocation_id.y * u32(16);
let l_128 = l_127 + u32(14);
let l_129 = shared_memory_13[l_128];
let l_130 = u32(224) + local_invocation_id.x;
let l_131 = shared_memory_14[l_130];
let l_132 = fma(l_129, l_131, l_mut_15);
l_mut_15 = l_132;
let l_133 = local_invocation_id.y * u32(16);
let l_134 = l_133 + u32(15);
let l_135 = shared_memory_13[l_134];
let l_136 = u32(240) + local_invocation_id.x;
let l_137 = shared_memory_14[l_136];
let l_138 = fma(l_135, l_137, l_mut_15);
l_mut_15 = l_138;
workgroupBarrier();
}
let l_139 = l_1 < info.scalars_u32[3];
let l_140 = l_3 < info.scalars_u32[5];
let l_141 = l_139 && l_140;
if l_141 {
l_mut_22 = l_mut_15;
let l_142 = is_nan_1_f32(l_mut_15);let l_143 = is_inf_1_f32(l_mut_15);let l_144 = l_142 || l_143;
let l_145 = !l_144;
let l_146 = !l_145;
if l_146 {
let l_147 = l_1 * info.scalars_u32[4];
let l_148 = l_10 + l_147;
let l_149 = l_12 + l_3;
l_mut_15 = f32(0.0);
l_mut_150 = f32(0.0);
let l_151 = info.scalars_u32[4] + u32(16);
let l_152 = l_151 - u32(1);
let l_153 = l_152 / u32(16);

for (var l_mut_154: u32 = u32(0); l_mut_154 < l_153; l_mut_154++) {
let l_155 = l_mut_154 * u32(16);
let l_156 = l_155 + u32(0);
let l_157 = l_156 < info.scalars_u32[4];
if l_157 {
let l_158 = l_148 + l_156;
let l_159 = buffer_0_global[l_158];
let l_160 = l_156 * info.scalars_u32[5];
let l_161 = l_149 + l_160;
let l_162 = buffer_1_global[l_161];
let l_163 = is_nan_1_f32(l_159);let l_164 = is_inf_1_f32(l_159);let l_165 = l_163 || l_164;
let l_166 = !l_165;
let l_167 = is_nan_1_f32(l_162);let l_168 = is_inf_1_f32(l_162);let l_169 = l_167 || l_168;
let l_170 = !l_169;
let l_171 = l_166 && l_170;
if l_171 {
let l_172 = l_159 * info.scalars_f32[0];
let l_173 = l_162 * info.scalars_f32[0];
let l_174 = l_172 * l_173;
l_mut_150 = l_mut_150 + l_174;
} else {
let l_175 = l_159 * l_162;
l_mut_15 = l_mut_15 + l_175;
}
}
let l_176 = l_mut_154 * u32(16);
let l_177 = l_176 + u32(1);
let l_178 = l_177 < info.scalars_u32[4];
if l_178 {
let l_179 = l_148 + l_177;
let l_180 = buffer_0_global[l_179];
let l_181 = l_177 * info.scalars_u32[5];
let l_182 = l_149 + l_181;
let l_183 = buffer_1_global[l_182];
let l_184 = is_nan_1_f32(l_180);let l_185 = is_inf_1_f32(l_180);let l_186 = l_184 || l_185;
let l_187 = !l_186;
let l_188 = is_nan_1_f32(l_183);let l_189 = is_inf_1_f32(l_183);let l_190 = l_188 || l_189;
let l_191 = !l_190;
let l_192 = l_187 && l_191;
if l_192 {
let l_193 = l_180 * info.scalars_f32[0];
let l_194 = l_183 * info.scalars_f32[0];
let l_195 = l_193 * l_194;
l_mut_150 = l_mut_150 + l_195;
} else {
let l_196 = l_180 * l_183;
l_mut_15 = l_mut_15 + l_196;
}
}
let l_197 = l_mut_154 * u32(16);
let l_198 = l_197 + u32(2);
let l_199 = l_198 < info.scalars_u32[4];
if l_199 {
let l_200 = l_148 + l_198;
let l_201 = buffer_0_global[l_200];
let l_202 = l_198 * info.scalars_u32[5];
let l_203 = l_149 + l_202;
let l_204 = buffer_1_global[l_203];
let l_205 = is_nan_1_f32(l_201);let l_206 = is_inf_1_f32(l_201);let l_207 = l_205 || l_206;
let l_208 = !l_207;
let l_209 = is_nan_1_f32(l_204);let l_210 = is_inf_1_f32(l_204);let l_211 = l_209 || l_210;
let l_212 = !l_211;
let l_213 = l_208 && l_212;
if l_213 {
let l_214 = l_201 * info.scalars_f32[0];
let l_215 = l_204 * info.scalars_f32[0];
let l_216 = l_214 * l_215;
l_mut_150 = l_mut_150 + l_216;
} else {
let l_217 = l_201 * l_204;
l_mut_15 = l_mut_15 + l_217;
}
}
let l_218 = l_mut_154 * u32(16);
let l_219 = l_218 + u32(3);
let l_220 = l_219 < info.scalars_u32[4];
if l_220 {
let l_221 = l_148 + l_219;
let l_222 = buffer_0_global[l_221];
let l_223 = l_219 * info.scalars_u32[5];
let l_224 = l_149 + l_223;
let l_225 = buffer_1_global[l_224];
let l_226 = is_nan_1_f32(l_222);let l_227 = is_inf_1_f32(l_222);let l_228 = l_226 || l_227;
let l_229 = !l_228;
let l_230 = is_nan_1_f32(l_225);let l_231 = is_inf_1_f32(l_225);let l_232 = l_230 || l_231;
let l_233 = !l_232;
let l_234 = l_229 && l_233;
if l_234 {
let l_235 = l_222 * info.scalars_f32[0];
let l_236 = l_225 * info.scalars_f32[0];
let l_237 = l_235 * l_236;
l_mut_150 = l_mut_150 + l_237;
} else {
let l_238 = l_222 * l_225;
l_mut_15 = l_mut_15 + l_238;
}
}
let l_239 = l_mut_154 * u32(16);
let l_240 = l_239 + u32(4);
let l_241 = l_240 < info.scalars_u32[4];
if l_241 {
let l_242 = l_148 + l_240;
let l_243 = buffer_0_global[l_242];
let l_244 = l_240 * info.scalars_u32[5];
let l_245 = l_149 + l_244;
let l_246 = buffer_1_global[l_245];
let l_247 = is_nan_1_f32(l_243);let l_248 = is_inf_1_f32(l_243);let l_249 = l_247 || l_248;
let l_250 = !l_249;
let l_251 = is_nan_1_f32(l_246);let l_252 = is_inf_1_f32(l_246);let l_253 = l_251 || l_252;
let l_254 = !l_253;
let l_255 = l_250 && l_254;
if l_255 {
let l_256 = l_243 * info.scalars_f32[0];
let l_257 = l_246 * info.scalars_f32[0];
let l_258 = l_256 * l_257;
l_mut_150 = l_mut_150 + l_258;
} else {
let l_259 = l_243 * l_246;
l_mut_15 = l_mut_15 + l_259;
}
}
let l_260 = l_mut_154 * u32(16);
let l_261 = l_260 + u32(5);
let l_262 = l_261 < info.scalars_u32[4];
if l_262 {
let l_263 = l_148 + l_261;
let l_264 = buffer_0_global[l_263];
let l_265 = l_261 * info.scalars_u32[5];
let l_266 = l_149 + l_265;
let l_267 = buffer_1_global[l_266];
let l_268 = is_nan_1_f32(l_264);let l_269 = is_inf_1_f32(l_264);let l_270 = l_268 || l_269;
let l_271 = !l_270;
let l_272 = is_nan_1_f32(l_267);let l_273 = is_inf_1_f32(l_267);let l_274 = l_272 || l_273;
let l_275 = !l_274;
let l_276 = l_271 && l_275;
if l_276 {
let l_277 = l_264 * info.scalars_f32[0];
let l_278 = l_267 * info.scalars_f32[0];
let l_279 = l_277 * l_278;
l_mut_150 = l_mut_150 + l_279;
} else {
let l_280 = l_264 * l_267;
l_mut_15 = l_mut_15 + l_280;
}
}
let l_281 = l_mut_154 * u32(16);
let l_282 = l_281 + u32(6);
let l_283 = l_282 < info.scalars_u32[4];
if l_283 {
let l_284 = l_148 + l_282;
let l_285 = buffer_0_global[l_284];
let l_286 = l_282 * info.scalars_u32[5];
let l_287 = l_149 + l_286;
let l_288 = buffer_1_global[l_287];
let l_289 = is_nan_1_f32(l_285);let l_290 = is_inf_1_f32(l_285);let l_291 = l_289 || l_290;
let l_292 = !l_291;
let l_293 = is_nan_1_f32(l_288);let l_294 = is_inf_1_f32(l_288);let l_295 = l_293 || l_294;
let l_296 = !l_295;
let l_297 = l_292 && l_296;
if l_297 {
let l_298 = l_285 * info.scalars_f32[0];
let l_299 = l_288 * info.scalars_f32[0];
let l_300 = l_298 * l_299;
l_mut_150 = l_mut_150 + l_300;
} else {
let l_301 = l_285 * l_288;
l_mut_15 = l_mut_15 + l_301;
}
}
let l_302 = l_mut_154 * u32(16);
let l_303 = l_302 + u32(7);
let l_304 = l_303 < info.scalars_u32[4];
if l_304 {
let l_305 = l_148 + l_303;
let l_306 = buffer_0_global[l_305];
let l_307 = l_303 * info.scalars_u32[5];
let l_308 = l_149 + l_307;
let l_309 = buffer_1_global[l_308];
let l_310 = is_nan_1_f32(l_306);let l_311 = is_inf_1_f32(l_306);let l_312 = l_310 || l_311;
let l_313 = !l_312;
let l_314 = is_nan_1_f32(l_309);let l_315 = is_inf_1_f32(l_309);let l_316 = l_314 || l_315;
let l_317 = !l_316;
let l_318 = l_313 && l_317;
if l_318 {
let l_319 = l_306 * info.scalars_f32[0];
let l_320 = l_309 * info.scalars_f32[0];
let l_321 = l_319 * l_320;
l_mut_150 = l_mut_150 + l_321;
} else {
let l_322 = l_306 * l_309;
l_mut_15 = l_mut_15 + l_322;
}
}
let l_323 = l_mut_154 * u32(16);
let l_324 = l_323 + u32(8);
let l_325 = l_324 < info.scalars_u32[4];
if l_325 {
let l_326 = l_148 + l_324;
let l_327 = buffer_0_global[l_326];
let l_328 = l_324 * info.scalars_u32[5];
let l_329 = l_149 + l_328;
let l_330 = buffer_1_global[l_329];
let l_331 = is_nan_1_f32(l_327);let l_332 = is_inf_1_f32(l_327);let l_333 = l_331 || l_332;
let l_334 = !l_333;
let l_335 = is_nan_1_f32(l_330);let l_336 = is_inf_1_f32(l_330);let l_337 = l_335 || l_336;
let l_338 = !l_337;
let l_339 = l_334 && l_338;
if l_339 {
let l_340 = l_327 * info.scalars_f32[0];
let l_341 = l_330 * info.scalars_f32[0];
let l_342 = l_340 * l_341;
l_mut_150 = l_mut_150 + l_342;
} else {
let l_343 = l_327 * l_330;
l_mut_15 = l_mut_15 + l_343;
}
}
let l_344 = l_mut_154 * u32(16);
let l_345 = l_344 + u32(9);
let l_346 = l_345 < info.scalars_u32[4];
if l_346 {
let l_347 = l_148 + l_345;
let l_348 = buffer_0_global[l_347];
let l_349 = l_345 * info.scalars_u32[5];
let l_350 = l_149 + l_349;
let l_351 = buffer_1_global[l_350];
let l_352 = is_nan_1_f32(l_348);let l_353 = is_inf_1_f32(l_348);let l_354 = l_352 || l_353;
let l_355 = !l_354;
let l_356 = is_nan_1_f32(l_351);let l_357 = is_inf_1_f32(l_351);let l_358 = l_356 || l_357;
let l_359 = !l_358;
let l_360 = l_355 && l_359;
if l_360 {
let l_361 = l_348 * info.scalars_f32[0];
let l_362 = l_351 * info.scalars_f32[0];
let l_363 = l_361 * l_362;
l_mut_150 = l_mut_150 + l_363;
} else {
let l_364 = l_348 * l_351;
l_mut_15 = l_mut_15 + l_364;
}
}
let l_365 = l_mut_154 * u32(16);
let l_366 = l_365 + u32(10);
let l_367 = l_366 < info.scalars_u32[4];
if l_367 {
let l_368 = l_148 + l_366;
let l_369 = buffer_0_global[l_368];
let l_370 = l_366 * info.scalars_u32[5];
let l_371 = l_149 + l_370;
let l_372 = buffer_1_global[l_371];
let l_373 = is_nan_1_f32(l_369);let l_374 = is_inf_1_f32(l_369);let l_375 = l_373 || l_374;
let l_376 = !l_375;
let l_377 = is_nan_1_f32(l_372);let l_378 = is_inf_1_f32(l_372);let l_379 = l_377 || l_378;
let l_380 = !l_379;
let l_381 = l_376 && l_380;
if l_381 {
let l_382 = l_369 * info.scalars_f32[0];
let l_383 = l_372 * info.scalars_f32[0];
let l_384 = l_382 * l_383;
l_mut_150 = l_mut_150 + l_384;
} else {
let l_385 = l_369 * l_372;
l_mut_15 = l_mut_15 + l_385;
}
}
let l_386 = l_mut_154 * u32(16);
let l_387 = l_386 + u32(11);
let l_388 = l_387 < info.scalars_u32[4];
if l_388 {
let l_389 = l_148 + l_387;
let l_390 = buffer_0_global[l_389];
let l_391 = l_387 * info.scalars_u32[5];
let l_392 = l_149 + l_391;
let l_393 = buffer_1_global[l_392];
let l_394 = is_nan_1_f32(l_390);let l_395 = is_inf_1_f32(l_390);let l_396 = l_394 || l_395;
let l_397 = !l_396;
let l_398 = is_nan_1_f32(l_393);let l_399 = is_inf_1_f32(l_393);let l_400 = l_398 || l_399;
let l_401 = !l_400;
let l_402 = l_397 && l_401;
if l_402 {
let l_403 = l_390 * info.scalars_f32[0];
let l_404 = l_393 * info.scalars_f32[0];
let l_405 = l_403 * l_404;
l_mut_150 = l_mut_150 + l_405;
} else {
let l_406 = l_390 * l_393;
l_mut_15 = l_mut_15 + l_406;
}
}
let l_407 = l_mut_154 * u32(16);
let l_408 = l_407 + u32(12);
let l_409 = l_408 < info.scalars_u32[4];
if l_409 {
let l_410 = l_148 + l_408;
let l_411 = buffer_0_global[l_410];
let l_412 = l_408 * info.scalars_u32[5];
let l_413 = l_149 + l_412;
let l_414 = buffer_1_global[l_413];
let l_415 = is_nan_1_f32(l_411);let l_416 = is_inf_1_f32(l_411);let l_417 = l_415 || l_416;
let l_418 = !l_417;
let l_419 = is_nan_1_f32(l_414);let l_420 = is_inf_1_f32(l_414);let l_421 = l_419 || l_420;
let l_422 = !l_421;
let l_423 = l_418 && l_422;
if l_423 {
let l_424 = l_411 * info.scalars_f32[0];
let l_425 = l_414 * info.scalars_f32[0];
let l_426 = l_424 * l_425;
l_mut_150 = l_mut_150 + l_426;
} else {
let l_427 = l_411 * l_414;
l_mut_15 = l_mut_15 + l_427;
}
}
let l_428 = l_mut_154 * u32(16);
let l_429 = l_428 + u32(13);
let l_430 = l_429 < info.scalars_u32[4];
if l_430 {
let l_431 = l_148 + l_429;
let l_432 = buffer_0_global[l_431];
let l_433 = l_429 * info.scalars_u32[5];
let l_434 = l_149 + l_433;
let l_435 = buffer_1_global[l_434];
let l_436 = is_nan_1_f32(l_432);let l_437 = is_inf_1_f32(l_432);let l_438 = l_436 || l_437;
let l_439 = !l_438;
let l_440 = is_nan_1_f32(l_435);let l_441 = is_inf_1_f32(l_435);let l_442 = l_440 || l_441;
let l_443 = !l_442;
let l_444 = l_439 && l_443;
if l_444 {
let l_445 = l_432 * info.scalars_f32[0];
let l_446 = l_435 * info.scalars_f32[0];
let l_447 = l_445 * l_446;
l_mut_150 = l_mut_150 + l_447;
} else {
let l_448 = l_432 * l_435;
l_mut_15 = l_mut_15 + l_448;
}
}
let l_449 = l_mut_154 * u32(16);
let l_450 = l_449 + u32(14);
let l_451 = l_450 < info.scalars_u32[4];
if l_451 {
let l_452 = l_148 + l_450;
let l_453 = buffer_0_global[l_452];
let l_454 = l_450 * info.scalars_u32[5];
let l_455 = l_149 + l_454;
let l_456 = buffer_1_global[l_455];
let l_457 = is_nan_1_f32(l_453);let l_458 = is_inf_1_f32(l_453);let l_459 = l_457 || l_458;
let l_460 = !l_459;
let l_461 = is_nan_1_f32(l_456);let l_462 = is_inf_1_f32(l_456);let l_463 = l_461 || l_462;
let l_464 = !l_463;
let l_465 = l_460 && l_464;
if l_465 {
let l_466 = l_453 * info.scalars_f32[0];
let l_467 = l_456 * info.scalars_f32[0];
let l_468 = l_466 * l_467;
l_mut_150 = l_mut_150 + l_468;
} else {
let l_469 = l_453 * l_456;
l_mut_15 = l_mut_15 + l_469;
}
}
let l_470 = l_mut_154 * u32(16);
let l_471 = l_470 + u32(15);
let l_472 = l_471 < info.scalars_u32[4];
if l_472 {
let l_473 = l_148 + l_471;
let l_474 = buffer_0_global[l_473];
let l_475 = l_471 * info.scalars_u32[5];
let l_476 = l_149 + l_475;
let l_477 = buffer_1_global[l_476];
let l_478 = is_nan_1_f32(l_474);let l_479 = is_inf_1_f32(l_474);let l_480 = l_478 || l_479;
let l_481 = !l_480;
let l_482 = is_nan_1_f32(l_477);let l_483 = is_inf_1_f32(l_477);let l_484 = l_482 || l_483;
let l_485 = !l_484;
let l_486 = l_481 && l_485;
if l_486 {
let l_487 = l_474 * info.scalars_f32[0];
let l_488 = l_477 * info.scalars_f32[0];
let l_489 = l_487 * l_488;
l_mut_150 = l_mut_150 + l_489;
} else {
let l_490 = l_474 * l_477;
l_mut_15 = l_mut_15 + l_490;
}
}
}
let l_491 = l_mut_150 * info.scalars_f32[1];
let l_492 = l_491 * info.scalars_f32[1];
l_mut_150 = l_492;
let l_493 = is_nan_1_f32(l_mut_15);let l_494 = is_inf_1_f32(l_mut_15);let l_495 = l_493 || l_494;
let l_496 = !l_495;
let l_497 = !l_496;
if l_497 {
l_mut_150 = l_mut_15;
}
l_mut_22 = l_mut_150;
}
let l_498 = workgroup_id.z * info.scalars_u32[3];
let l_499 = l_498 * info.scalars_u32[5];
let l_500 = l_1 * info.scalars_u32[5];
let l_501 = l_499 + l_500;
let l_502 = l_501 + l_3;
buffer_2_global[l_502] = l_mut_22;
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


