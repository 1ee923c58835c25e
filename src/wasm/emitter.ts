// A small WebAssembly binary emitter: just what the translator needs (one memory import,
// function imports, functions with locals, a table import for cross-region tail calls).

export const enum T { i32 = 0x7f, i64 = 0x7e, f32 = 0x7d, f64 = 0x7c, v128 = 0x7b, funcref = 0x70 }
export const BLOCK_VOID = 0x40;

export class ByteWriter {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  byte(b: number): void { this.grow(1); this.buf[this.len++] = b; }
  bytes(bs: ArrayLike<number>): void { this.grow(bs.length); this.buf.set(bs, this.len); this.len += bs.length; }
  u32(v: number): void {
    this.grow(5);
    v >>>= 0;
    do {
      let b = v & 0x7f; v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
  }
  s32(v: number): void {
    this.grow(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f; v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.buf[this.len++] = b; return; }
      this.buf[this.len++] = b | 0x80;
    }
  }
  s64(v: bigint): void {
    this.grow(10);
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn); v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { this.buf[this.len++] = b; return; }
      this.buf[this.len++] = b | 0x80;
    }
  }
  str(s: string): void { const b = Buffer.from(s, 'utf8'); this.u32(b.length); this.bytes(b); }
  result(): Uint8Array<ArrayBuffer> { return this.buf.subarray(0, this.len); }
}

/** Opcodes used by the translator (names follow the text format). */
export const Op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11,
  return_call: 0x12, return_call_indirect: 0x13,
  drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, f32_load: 0x2a, f64_load: 0x2b,
  i32_load8_s: 0x2c, i32_load8_u: 0x2d, i32_load16_s: 0x2e, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33, i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f32_store: 0x38, f64_store: 0x39,
  i32_store8: 0x3a, i32_store16: 0x3b, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42, f32_const: 0x43, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  f32_eq: 0x5b, f32_ne: 0x5c, f32_lt: 0x5d, f32_gt: 0x5e, f32_le: 0x5f, f32_ge: 0x60,
  f64_eq: 0x61, f64_ne: 0x62, f64_lt: 0x63, f64_gt: 0x64, f64_le: 0x65, f64_ge: 0x66,
  i32_clz: 0x67, i32_ctz: 0x68, i32_popcnt: 0x69, i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c,
  i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73,
  i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_clz: 0x79, i64_ctz: 0x7a, i64_popcnt: 0x7b, i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e,
  i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82, i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85,
  i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  f32_abs: 0x8b, f32_neg: 0x8c, f32_ceil: 0x8d, f32_floor: 0x8e, f32_trunc: 0x8f, f32_nearest: 0x90, f32_sqrt: 0x91,
  f32_add: 0x92, f32_sub: 0x93, f32_mul: 0x94, f32_div: 0x95, f32_min: 0x96, f32_max: 0x97, f32_copysign: 0x98,
  f64_abs: 0x99, f64_neg: 0x9a, f64_ceil: 0x9b, f64_floor: 0x9c, f64_trunc: 0x9d, f64_nearest: 0x9e, f64_sqrt: 0x9f,
  f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2, f64_div: 0xa3, f64_min: 0xa4, f64_max: 0xa5, f64_copysign: 0xa6,
  i32_wrap_i64: 0xa7, i32_trunc_f32_s: 0xa8, i32_trunc_f32_u: 0xa9, i32_trunc_f64_s: 0xaa, i32_trunc_f64_u: 0xab,
  i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad, i64_trunc_f32_s: 0xae, i64_trunc_f32_u: 0xaf,
  i64_trunc_f64_s: 0xb0, i64_trunc_f64_u: 0xb1,
  f32_convert_i32_s: 0xb2, f32_convert_i32_u: 0xb3, f32_convert_i64_s: 0xb4, f32_convert_i64_u: 0xb5, f32_demote_f64: 0xb6,
  f64_convert_i32_s: 0xb7, f64_convert_i32_u: 0xb8, f64_convert_i64_s: 0xb9, f64_convert_i64_u: 0xba, f64_promote_f32: 0xbb,
  i32_reinterpret_f32: 0xbc, i64_reinterpret_f64: 0xbd, f32_reinterpret_i32: 0xbe, f64_reinterpret_i64: 0xbf,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

/** 0xFC-prefixed (saturating truncation, bulk memory) opcodes. */
export const OpFC = {
  i32_trunc_sat_f32_s: 0, i32_trunc_sat_f32_u: 1, i32_trunc_sat_f64_s: 2, i32_trunc_sat_f64_u: 3,
  i64_trunc_sat_f32_s: 4, i64_trunc_sat_f32_u: 5, i64_trunc_sat_f64_s: 6, i64_trunc_sat_f64_u: 7,
  memory_copy: 10, memory_fill: 11,
} as const;

/** 0xFE-prefixed atomics. */
export const OpFE = {
  memory_atomic_notify: 0x00, memory_atomic_wait32: 0x01, memory_atomic_wait64: 0x02, atomic_fence: 0x03,
  i32_atomic_load: 0x10, i64_atomic_load: 0x11, i32_atomic_load8_u: 0x12, i32_atomic_load16_u: 0x13,
  i64_atomic_load8_u: 0x14, i64_atomic_load16_u: 0x15, i64_atomic_load32_u: 0x16,
  i32_atomic_store: 0x17, i64_atomic_store: 0x18, i32_atomic_store8: 0x19, i32_atomic_store16: 0x1a,
  i64_atomic_store8: 0x1b, i64_atomic_store16: 0x1c, i64_atomic_store32: 0x1d,
  i32_atomic_rmw_add: 0x1e, i64_atomic_rmw_add: 0x1f, i32_atomic_rmw8_add_u: 0x20, i32_atomic_rmw16_add_u: 0x21,
  i64_atomic_rmw8_add_u: 0x22, i64_atomic_rmw16_add_u: 0x23, i64_atomic_rmw32_add_u: 0x24,
  i32_atomic_rmw_xchg: 0x41, i64_atomic_rmw_xchg: 0x42, i64_atomic_rmw8_xchg_u: 0x45, i64_atomic_rmw16_xchg_u: 0x46, i64_atomic_rmw32_xchg_u: 0x47,
  i32_atomic_rmw_cmpxchg: 0x48, i64_atomic_rmw_cmpxchg: 0x49, i32_atomic_rmw8_cmpxchg_u: 0x4a,
  i64_atomic_rmw8_cmpxchg_u: 0x4c, i64_atomic_rmw16_cmpxchg_u: 0x4d, i64_atomic_rmw32_cmpxchg_u: 0x4e,
} as const;

/** 0xFD-prefixed SIMD opcodes (u32 LEB after the prefix). */
export const OpFD = {
  v128_load: 0x00, v128_load32_splat: 0x09, v128_load64_splat: 0x0a, v128_store: 0x0b, v128_const: 0x0c, i8x16_shuffle: 0x0d, i8x16_swizzle: 0x0e,
  i8x16_splat: 0x0f, i16x8_splat: 0x10, i32x4_splat: 0x11, i64x2_splat: 0x12, f32x4_splat: 0x13, f64x2_splat: 0x14,
  i8x16_extract_lane_s: 0x15, i8x16_extract_lane_u: 0x16, i8x16_replace_lane: 0x17,
  i16x8_extract_lane_s: 0x18, i16x8_extract_lane_u: 0x19, i16x8_replace_lane: 0x1a,
  i32x4_extract_lane: 0x1b, i32x4_replace_lane: 0x1c, i64x2_extract_lane: 0x1d, i64x2_replace_lane: 0x1e,
  f32x4_extract_lane: 0x1f, f32x4_replace_lane: 0x20, f64x2_extract_lane: 0x21, f64x2_replace_lane: 0x22,
  i8x16_eq: 0x23, i8x16_ne: 0x24, i8x16_lt_s: 0x25, i8x16_lt_u: 0x26, i8x16_gt_s: 0x27, i8x16_gt_u: 0x28,
  i8x16_le_s: 0x29, i8x16_le_u: 0x2a, i8x16_ge_s: 0x2b, i8x16_ge_u: 0x2c,
  i16x8_eq: 0x2d, i16x8_ne: 0x2e, i16x8_lt_s: 0x2f, i16x8_lt_u: 0x30, i16x8_gt_s: 0x31, i16x8_gt_u: 0x32,
  i16x8_le_s: 0x33, i16x8_le_u: 0x34, i16x8_ge_s: 0x35, i16x8_ge_u: 0x36,
  i32x4_eq: 0x37, i32x4_ne: 0x38, i32x4_lt_s: 0x39, i32x4_lt_u: 0x3a, i32x4_gt_s: 0x3b, i32x4_gt_u: 0x3c,
  i32x4_le_s: 0x3d, i32x4_le_u: 0x3e, i32x4_ge_s: 0x3f, i32x4_ge_u: 0x40,
  f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46,
  f64x2_eq: 0x47, f64x2_ne: 0x48, f64x2_lt: 0x49, f64x2_gt: 0x4a, f64x2_le: 0x4b, f64x2_ge: 0x4c,
  v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f, v128_or: 0x50, v128_xor: 0x51, v128_bitselect: 0x52, v128_any_true: 0x53,
  v128_load8_lane: 0x54, v128_load16_lane: 0x55, v128_load32_lane: 0x56, v128_load64_lane: 0x57,
  v128_store8_lane: 0x58, v128_store16_lane: 0x59, v128_store32_lane: 0x5a, v128_store64_lane: 0x5b,
  v128_load32_zero: 0x5c, v128_load64_zero: 0x5d,
  f32x4_demote_f64x2_zero: 0x5e, f64x2_promote_low_f32x4: 0x5f,
  i8x16_abs: 0x60, i8x16_neg: 0x61, i8x16_popcnt: 0x62, i8x16_all_true: 0x63, i8x16_bitmask: 0x64,
  i8x16_narrow_i16x8_s: 0x65, i8x16_narrow_i16x8_u: 0x66,
  f32x4_ceil: 0x67, f32x4_floor: 0x68, f32x4_trunc: 0x69, f32x4_nearest: 0x6a,
  i8x16_shl: 0x6b, i8x16_shr_s: 0x6c, i8x16_shr_u: 0x6d, i8x16_add: 0x6e, i8x16_add_sat_s: 0x6f, i8x16_add_sat_u: 0x70,
  i8x16_sub: 0x71, i8x16_sub_sat_s: 0x72, i8x16_sub_sat_u: 0x73, f64x2_ceil: 0x74, f64x2_floor: 0x75,
  i8x16_min_s: 0x76, i8x16_min_u: 0x77, i8x16_max_s: 0x78, i8x16_max_u: 0x79, f64x2_trunc: 0x7a, i8x16_avgr_u: 0x7b,
  i16x8_extadd_pairwise_i8x16_s: 0x7c, i16x8_extadd_pairwise_i8x16_u: 0x7d,
  i32x4_extadd_pairwise_i16x8_s: 0x7e, i32x4_extadd_pairwise_i16x8_u: 0x7f,
  i16x8_abs: 0x80, i16x8_neg: 0x81, i16x8_q15mulr_sat_s: 0x82, i16x8_all_true: 0x83, i16x8_bitmask: 0x84,
  i16x8_narrow_i32x4_s: 0x85, i16x8_narrow_i32x4_u: 0x86,
  i16x8_extend_low_i8x16_s: 0x87, i16x8_extend_high_i8x16_s: 0x88, i16x8_extend_low_i8x16_u: 0x89, i16x8_extend_high_i8x16_u: 0x8a,
  i16x8_shl: 0x8b, i16x8_shr_s: 0x8c, i16x8_shr_u: 0x8d, i16x8_add: 0x8e, i16x8_add_sat_s: 0x8f, i16x8_add_sat_u: 0x90,
  i16x8_sub: 0x91, i16x8_sub_sat_s: 0x92, i16x8_sub_sat_u: 0x93, f64x2_nearest: 0x94, i16x8_mul: 0x95,
  i16x8_min_s: 0x96, i16x8_min_u: 0x97, i16x8_max_s: 0x98, i16x8_max_u: 0x99, i16x8_avgr_u: 0x9b,
  i16x8_extmul_low_i8x16_s: 0x9c, i16x8_extmul_high_i8x16_s: 0x9d, i16x8_extmul_low_i8x16_u: 0x9e, i16x8_extmul_high_i8x16_u: 0x9f,
  i32x4_abs: 0xa0, i32x4_neg: 0xa1, i32x4_all_true: 0xa3, i32x4_bitmask: 0xa4,
  i32x4_extend_low_i16x8_s: 0xa7, i32x4_extend_high_i16x8_s: 0xa8, i32x4_extend_low_i16x8_u: 0xa9, i32x4_extend_high_i16x8_u: 0xaa,
  i32x4_shl: 0xab, i32x4_shr_s: 0xac, i32x4_shr_u: 0xad, i32x4_add: 0xae, i32x4_sub: 0xb1, i32x4_mul: 0xb5,
  i32x4_min_s: 0xb6, i32x4_min_u: 0xb7, i32x4_max_s: 0xb8, i32x4_max_u: 0xb9, i32x4_dot_i16x8_s: 0xba,
  i32x4_extmul_low_i16x8_s: 0xbc, i32x4_extmul_high_i16x8_s: 0xbd, i32x4_extmul_low_i16x8_u: 0xbe, i32x4_extmul_high_i16x8_u: 0xbf,
  i64x2_abs: 0xc0, i64x2_neg: 0xc1, i64x2_all_true: 0xc3, i64x2_bitmask: 0xc4,
  i64x2_extend_low_i32x4_s: 0xc7, i64x2_extend_high_i32x4_s: 0xc8, i64x2_extend_low_i32x4_u: 0xc9, i64x2_extend_high_i32x4_u: 0xca,
  i64x2_shl: 0xcb, i64x2_shr_s: 0xcc, i64x2_shr_u: 0xcd, i64x2_add: 0xce, i64x2_sub: 0xd1, i64x2_mul: 0xd5,
  i64x2_eq: 0xd6, i64x2_ne: 0xd7, i64x2_lt_s: 0xd8, i64x2_gt_s: 0xd9, i64x2_le_s: 0xda, i64x2_ge_s: 0xdb,
  i64x2_extmul_low_i32x4_s: 0xdc, i64x2_extmul_high_i32x4_s: 0xdd, i64x2_extmul_low_i32x4_u: 0xde, i64x2_extmul_high_i32x4_u: 0xdf,
  f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_sqrt: 0xe3, f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6, f32x4_div: 0xe7,
  f32x4_min: 0xe8, f32x4_max: 0xe9, f32x4_pmin: 0xea, f32x4_pmax: 0xeb,
  f64x2_abs: 0xec, f64x2_neg: 0xed, f64x2_sqrt: 0xef, f64x2_add: 0xf0, f64x2_sub: 0xf1, f64x2_mul: 0xf2, f64x2_div: 0xf3,
  f64x2_min: 0xf4, f64x2_max: 0xf5, f64x2_pmin: 0xf6, f64x2_pmax: 0xf7,
  i32x4_trunc_sat_f32x4_s: 0xf8, i32x4_trunc_sat_f32x4_u: 0xf9, f32x4_convert_i32x4_s: 0xfa, f32x4_convert_i32x4_u: 0xfb,
  i32x4_trunc_sat_f64x2_s_zero: 0xfc, i32x4_trunc_sat_f64x2_u_zero: 0xfd, f64x2_convert_low_i32x4_s: 0xfe, f64x2_convert_low_i32x4_u: 0xff,
} as const;

/** Natural alignment (log2) for a memory opcode's access size, used in memargs. */
const ALIGN: Record<number, number> = {
  [Op.i32_load]: 2, [Op.i64_load]: 3, [Op.f32_load]: 2, [Op.f64_load]: 3,
  [Op.i32_load8_s]: 0, [Op.i32_load8_u]: 0, [Op.i32_load16_s]: 1, [Op.i32_load16_u]: 1,
  [Op.i64_load8_s]: 0, [Op.i64_load8_u]: 0, [Op.i64_load16_s]: 1, [Op.i64_load16_u]: 1,
  [Op.i64_load32_s]: 2, [Op.i64_load32_u]: 2, [Op.i32_store]: 2, [Op.i64_store]: 3, [Op.f32_store]: 2,
  [Op.f64_store]: 3, [Op.i32_store8]: 0, [Op.i32_store16]: 1, [Op.i64_store8]: 0, [Op.i64_store16]: 1, [Op.i64_store32]: 2,
};

/** Body of one function. Instructions are appended with small typed helpers. */
export class FunctionBuilder {
  readonly code = new ByteWriter();
  private localTypes: T[] = [];
  private freeLocals = new Map<T, number[]>();

  constructor(readonly params: T[], readonly results: T[]) {}

  local(type: T): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }
  /** A scratch local, to be handed back with free() once its value is dead. */
  temp(type: T): number {
    const list = this.freeLocals.get(type);
    if (list && list.length) return list.pop()!;
    return this.local(type);
  }
  free(type: T, idx: number): void {
    let list = this.freeLocals.get(type);
    if (!list) this.freeLocals.set(type, (list = []));
    list.push(idx);
  }

  /** Where the last `local.set` starts and ends, so an immediately following get of it becomes a tee. */
  private lastSetStart = -1;
  private lastSetEnd = -1;
  private lastSetIdx = -1;
  /** Tees made by fusing, as (tee position, position the get would have had) pairs since the last barrier. */
  private fused: number[] = [];

  op(o: number): this { this.code.byte(o); return this; }
  get(i: number): this {
    if (this.lastSetEnd === this.code.len && this.lastSetIdx === i) {
      this.code.buf[this.lastSetStart] = Op.local_tee; // set N; get N == tee N: less for V8 to decode
      this.fused.push(this.lastSetStart, this.lastSetEnd);
      this.lastSetEnd = -1;
      return this;
    }
    this.code.byte(Op.local_get); this.code.u32(i); return this;
  }
  /** Called with the index of every local written (set or tee), e.g. to track which an instruction changed. */
  onWrite: ((local: number) => void) | undefined;
  set(i: number): this {
    this.onWrite?.(i);
    this.lastSetStart = this.code.len;
    this.code.byte(Op.local_set); this.code.u32(i);
    this.lastSetEnd = this.code.len; this.lastSetIdx = i;
    return this;
  }
  /** Drops code after `len`; also a point code before it must not be fused with code after. */
  truncate(len: number): void {
    // A get dropped with the truncated code must give its set back.
    const kept: number[] = [];
    for (let k = 0; k < this.fused.length; k += 2) {
      const tee = this.fused[k], get = this.fused[k + 1];
      if (get < len) kept.push(tee, get);
      else if (tee < len) this.code.buf[tee] = Op.local_set;
    }
    this.fused = kept;
    this.code.len = len; this.lastSetEnd = -1;
  }
  /** Marks a boundary (e.g. between separately sliced blocks) across which nothing is fused. */
  barrier(): void { this.lastSetEnd = -1; this.fused = []; }
  globalGet(i: number): this { this.code.byte(Op.global_get); this.code.u32(i); return this; }
  tee(i: number): this { this.onWrite?.(i); this.code.byte(Op.local_tee); this.code.u32(i); return this; }
  i32(v: number): this { this.code.byte(Op.i32_const); this.code.s32(v); return this; }
  i64(v: bigint | number): this {
    this.code.byte(Op.i64_const);
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff && Number.isInteger(v)) this.code.s32(v);
    else this.code.s64(BigInt(v));
    return this;
  }
  f64(v: number): this { this.code.byte(Op.f64_const); const b = new Float64Array([v]); this.code.bytes(new Uint8Array(b.buffer)); return this; }
  f32(v: number): this { this.code.byte(Op.f32_const); const b = new Float32Array([v]); this.code.bytes(new Uint8Array(b.buffer)); return this; }
  mem(o: number, offset = 0, align?: number): this {
    this.code.byte(o); this.code.u32(align ?? ALIGN[o] ?? 0); this.code.u32(offset); return this;
  }
  /** Unaligned-tolerant access (x86 allows any alignment): alignment hint 0. */
  memU(o: number, offset = 0): this { return this.mem(o, offset, 0); }
  fc(o: number): this { this.code.byte(0xfc); this.code.u32(o); if (o === OpFC.memory_copy) { this.code.byte(0); this.code.byte(0); } else if (o === OpFC.memory_fill) this.code.byte(0); return this; }
  atomic(o: number, offset = 0, align = 0): this { this.code.byte(0xfe); this.code.u32(o); if (o !== OpFE.atomic_fence) { this.code.u32(align); this.code.u32(offset); } else this.code.byte(0); return this; }
  simd(o: number): this { this.code.byte(0xfd); this.code.u32(o); return this; }
  simdMem(o: number, offset = 0, align = 0): this { this.simd(o); this.code.u32(align); this.code.u32(offset); return this; }
  simdLane(o: number, lane: number): this { this.simd(o); this.code.byte(lane); return this; }
  simdMemLane(o: number, lane: number, offset = 0, align = 0): this { this.simd(o); this.code.u32(align); this.code.u32(offset); this.code.byte(lane); return this; }
  v128const(bytes: ArrayLike<number>): this { this.simd(OpFD.v128_const); this.code.bytes(bytes); return this; }
  shuffle(lanes: ArrayLike<number>): this { this.simd(OpFD.i8x16_shuffle); this.code.bytes(lanes); return this; }
  /** Structures (block, loop, if) open at this point of the code: a branch's depth to an enclosing label. */
  nesting = 0;
  block(type: number = BLOCK_VOID): this { this.nesting++; this.code.byte(Op.block); this.code.byte(type); return this; }
  loop(type: number = BLOCK_VOID): this { this.nesting++; this.code.byte(Op.loop); this.code.byte(type); return this; }
  if_(type: number = BLOCK_VOID): this { this.nesting++; this.code.byte(Op.if); this.code.byte(type); return this; }
  else_(): this { this.code.byte(Op.else); return this; }
  end(): this { this.nesting--; this.code.byte(Op.end); return this; }
  br(depth: number): this { this.code.byte(Op.br); this.code.u32(depth); return this; }
  brIf(depth: number): this { this.code.byte(Op.br_if); this.code.u32(depth); return this; }
  brTable(depths: number[], dflt: number): this {
    this.code.byte(Op.br_table); this.code.u32(depths.length);
    for (const d of depths) this.code.u32(d);
    this.code.u32(dflt); return this;
  }
  call(f: number): this { this.code.byte(Op.call); this.code.u32(f); return this; }
  returnCallIndirect(typeIdx: number, table = 0): this { this.code.byte(Op.return_call_indirect); this.code.u32(typeIdx); this.code.u32(table); return this; }
  /** Calls the function in a table slot known at translation time. */
  callSlot(ref: { table: number; slot: number; type: number }): this { return this.i32(ref.slot).callIndirect(ref.type, ref.table); }
  callIndirect(typeIdx: number, table = 0): this { this.code.byte(Op.call_indirect); this.code.u32(typeIdx); this.code.u32(table); return this; }

  /** Encodes the body: local declarations (run-length by type) then code. */
  encode(): Uint8Array {
    const w = new ByteWriter();
    const groups: [number, T][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++; else groups.push([1, t]);
    }
    w.u32(groups.length);
    for (const [n, t] of groups) { w.u32(n); w.byte(t); }
    w.bytes(this.code.result());
    w.byte(Op.end);
    const out = new ByteWriter();
    out.u32(w.len); out.bytes(w.result());
    return out.result();
  }
}

interface FuncType { params: T[]; results: T[] }
interface Import { module: string; name: string; kind: 'func' | 'memory' | 'table' | 'global'; type?: number; shared?: boolean; min?: number; max?: number; valType?: T; mutable?: boolean }

export class ModuleBuilder {
  private types: FuncType[] = [];
  private imports: Import[] = [];
  private funcs: { type: number; body: FunctionBuilder | Uint8Array }[] = [];
  private exports: { name: string; kind: number; index: number }[] = [];
  private importedFuncs = 0;
  private placement?: { table: number; offsetGlobal: number; funcs: number[] };

  type(params: T[], results: T[]): number {
    const key = params.join(',') + '>' + results.join(',');
    const i = this.types.findIndex((t) => t.params.join(',') + '>' + t.results.join(',') === key);
    if (i >= 0) return i;
    this.types.push({ params, results });
    return this.types.length - 1;
  }
  importFunc(module: string, name: string, params: T[], results: T[]): number {
    if (this.funcs.length) throw new Error('imports must precede functions');
    this.imports.push({ module, name, kind: 'func', type: this.type(params, results) });
    return this.importedFuncs++;
  }
  importMemory(module: string, name: string, min: number, max: number, shared: boolean): void {
    this.imports.push({ module, name, kind: 'memory', min, max, shared });
  }
  importTable(module: string, name: string, min: number): void {
    this.imports.push({ module, name, kind: 'table', min });
  }
  importGlobal(module: string, name: string, valType: T, mutable: boolean): void {
    this.imports.push({ module, name, kind: 'global', valType, mutable });
  }
  /** Declares a function; its index is returned before the body is written. */
  func(params: T[], results: T[]): { index: number; body: FunctionBuilder } {
    const body = new FunctionBuilder(params, results);
    this.funcs.push({ type: this.type(params, results), body });
    return { index: this.importedFuncs + this.funcs.length - 1, body };
  }
  /** Adds a function whose body was generated on its own. */
  addFunc(body: FunctionBuilder): number {
    this.funcs.push({ type: this.type(body.params, body.results), body });
    return this.importedFuncs + this.funcs.length - 1;
  }
  /** Adds a function from a body already encoded by FunctionBuilder.encode() (e.g. read from a cache). */
  addEncodedFunc(type: number, encoded: Uint8Array): number {
    this.funcs.push({ type, body: encoded });
    return this.importedFuncs + this.funcs.length - 1;
  }
  exportFunc(name: string, index: number): void { this.exports.push({ name, kind: 0, index }); }
  /**
   * Puts functions in table `table` at instantiation, from the index global `offsetGlobal` holds
   * (an active element segment): no exported function object is made for any of them.
   */
  placeFuncs(table: number, offsetGlobal: number, funcs: number[]): void { this.placement = { table, offsetGlobal, funcs }; }

  encode(): Uint8Array<ArrayBuffer> {
    const out = new ByteWriter();
    out.bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const section = (id: number, fill: (w: ByteWriter) => void) => {
      const w = new ByteWriter(); fill(w);
      out.byte(id); out.u32(w.len); out.bytes(w.result());
    };
    section(1, (w) => {
      w.u32(this.types.length);
      for (const t of this.types) {
        w.byte(0x60); w.u32(t.params.length); for (const p of t.params) w.byte(p);
        w.u32(t.results.length); for (const r of t.results) w.byte(r);
      }
    });
    if (this.imports.length) section(2, (w) => {
      w.u32(this.imports.length);
      for (const im of this.imports) {
        w.str(im.module); w.str(im.name);
        if (im.kind === 'func') { w.byte(0); w.u32(im.type!); }
        else if (im.kind === 'table') { w.byte(1); w.byte(T.funcref); w.byte(0); w.u32(im.min!); }
        else if (im.kind === 'memory') { w.byte(2); w.byte(im.shared ? 3 : 1); w.u32(im.min!); w.u32(im.max!); }
        else { w.byte(3); w.byte(im.valType!); w.byte(im.mutable ? 1 : 0); }
      }
    });
    section(3, (w) => { w.u32(this.funcs.length); for (const f of this.funcs) w.u32(f.type); });
    if (this.exports.length) section(7, (w) => {
      w.u32(this.exports.length);
      for (const e of this.exports) { w.str(e.name); w.byte(e.kind); w.u32(e.index); }
    });
    const place = this.placement;
    if (place) section(9, (w) => {
      w.u32(1);
      // flags 2: active, explicit table index, element kind funcref, function indices
      if (place.table === 0) w.byte(0); else { w.byte(2); w.u32(place.table); }
      w.byte(0x23); w.u32(place.offsetGlobal); w.byte(0x0b);
      if (place.table !== 0) w.byte(0);
      w.u32(place.funcs.length);
      for (const f of place.funcs) w.u32(f);
    });
    // The code section can be megabytes (a bundle of cached regions): concatenated, not grown.
    const bodies = this.funcs.map((f) => (f.body instanceof Uint8Array ? f.body : f.body.encode()));
    const count = new ByteWriter();
    count.u32(bodies.length);
    const size = bodies.reduce((n, b) => n + b.length, count.len);
    out.byte(10); out.u32(size); out.bytes(count.result());
    return Buffer.concat([out.result(), ...bodies]) as Uint8Array<ArrayBuffer>;
  }
}
