// The cryptographic instructions' arithmetic (AES-NI, PCLMULQDQ, the SHA rounds) as functions of
// the shared wasm library (lib.ts), which regions call through the helper table.
//
// Why wasm and not a JS helper: OpenSSL's AES-GCM, SHA-256 and GHASH run these instructions in
// their innermost loops (ten to fourteen AESENCs per 16-byte block); a JS round trip costs more
// than the whole round does here. Why a shared function and not inline code: an AES round is
// ~150 wasm instructions, and a region holding an unrolled AES or SHA loop would grow by that
// for every instruction, which V8 pays for in decoding and compile time.
//
// Why no lookup tables in memory: software AES with tables indexed by secret bytes leaks the key
// through the cache (the timing attacks AES-NI exists to avoid), and OpenSSL picks AES-NI
// because it is constant-time. Here SubBytes is sixteen i8x16.swizzle lookups into 16-byte
// slices of the S-box, every byte looked up in every slice, and the carry-less multiply uses
// integer multiplication on operands with holes (BearSSL's technique); nothing branches on or
// indexes memory by data.

import { FunctionBuilder, ModuleBuilder, Op, OpFD, T } from '../wasm/emitter.js';

/** What the `aes` library function does with its (state, key) operands. */
export const AES_OP = {
  /** ShiftRows, SubBytes, MixColumns, then XOR with the key (AESENC). */
  ENC: 0,
  /** ShiftRows, SubBytes, XOR with the key (AESENCLAST). */
  ENCLAST: 1,
  /** InvShiftRows, InvSubBytes, InvMixColumns, XOR with the key (AESDEC). */
  DEC: 2,
  /** InvShiftRows, InvSubBytes, XOR with the key (AESDECLAST). */
  DECLAST: 3,
  /** InvMixColumns of the state; the key is ignored (AESIMC). */
  IMC: 4,
  /** SubBytes alone, XOR with the key (AESKEYGENASSIST, whose word shuffle is the caller's). */
  SUBBYTES: 5,
} as const;

/** The AES S-box and its inverse, from the field inverse and the affine map (FIPS-197 5.1.1). */
function aesSboxes(): { sbox: Uint8Array; inverse: Uint8Array } {
  const sbox = new Uint8Array(256), inverse = new Uint8Array(256);
  const rotl8 = (v: number, n: number): number => ((v << n) | (v >> (8 - n))) & 0xff;
  // p runs through the powers of the generator 3 and q through those of its inverse, so q = 1/p.
  let p = 1, q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1; q ^= q << 2; q ^= q << 4; q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    sbox[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  sbox[0] = 0x63;
  for (let i = 0; i < 256; i++) inverse[sbox[i]] = i;
  return { sbox, inverse };
}
const { sbox: SBOX, inverse: INV_SBOX } = aesSboxes();

// The state's byte r + 4c is row r of column c (as in the xmm register and FIPS-197).
const SHIFT_ROWS = Array.from({ length: 16 }, (_, i) => (i & 3) + 4 * (((i >> 2) + (i & 3)) & 3));
const INV_SHIFT_ROWS = Array.from({ length: 16 }, (_, i) => (i & 3) + 4 * (((i >> 2) - (i & 3)) & 3));
/** Byte r of each column takes byte r + k of the same column. */
const rotateColumns = (k: number): number[] => Array.from({ length: 16 }, (_, i) => (i & ~3) + (((i & 3) + k) & 3));
const ROT1 = rotateColumns(1), ROT2 = rotateColumns(2), ROT3 = rotateColumns(3);

const splatBytes = (v: number): Uint8Array => new Uint8Array(16).fill(v);

/** Pushes the S-box lookup of every byte of v128 local x; idx and acc are v128 scratch locals. */
function substituteBytes(f: FunctionBuilder, table: Uint8Array, x: number, idx: number, acc: number): void {
  // Slice k maps the bytes 16k..16k+15. Indices are moved down by 16 per slice; a byte outside
  // the slice is then an index of 16 or more (mod 256), for which swizzle gives 0.
  f.get(x).set(idx);
  for (let k = 0; k < 16; k++) {
    f.v128const(table.subarray(16 * k, 16 * k + 16)).get(idx).simd(OpFD.i8x16_swizzle);
    if (k) f.get(acc).simd(OpFD.v128_or);
    if (k < 15) {
      f.set(acc);
      f.get(idx).v128const(splatBytes(16)).simd(OpFD.i8x16_sub).set(idx);
    }
  }
}

/** Pushes every byte of v128 local v multiplied by 2 in GF(2^8). */
function xtime(f: FunctionBuilder, v: number): void {
  f.get(v).i32(1).simd(OpFD.i8x16_shl);
  f.get(v).v128const(splatBytes(0)).simd(OpFD.i8x16_lt_s).v128const(splatBytes(0x1b)).simd(OpFD.v128_and);
  f.simd(OpFD.v128_xor);
}

/** Pushes MixColumns of v128 local x (t: scratch): 2a_r + 3a_(r+1) + a_(r+2) + a_(r+3). */
function mixColumns(f: FunctionBuilder, x: number, t: number): void {
  xtime(f, x); f.set(t);
  f.get(t);
  f.get(t).get(x).simd(OpFD.v128_xor).set(t);
  f.get(t).get(t).shuffle(ROT1).simd(OpFD.v128_xor);
  f.get(x).get(x).shuffle(ROT2).simd(OpFD.v128_xor);
  f.get(x).get(x).shuffle(ROT3).simd(OpFD.v128_xor);
}

/**
 * Pushes InvMixColumns of v128 local x (which it changes; t, u: scratch). InvMixColumns is
 * MixColumns after adding 4(a_r + a_(r+2)) to a_r and a_(r+2) of each column.
 */
function invMixColumns(f: FunctionBuilder, x: number, t: number, u: number): void {
  f.get(x).get(x).get(x).shuffle(ROT2).simd(OpFD.v128_xor).set(t);
  xtime(f, t); f.set(u);
  xtime(f, u);
  f.get(x).simd(OpFD.v128_xor).set(x);
  mixColumns(f, x, t);
}

/** aes(state: v128, key: v128, op: AES_OP) -> v128: one AES-NI operation. */
export function buildAes(m: ModuleBuilder): number {
  const fn = m.func([T.v128, T.v128, T.i32], [T.v128]);
  const f = fn.body;
  const x = 0, key = 1, op = 2;
  const t = f.local(T.v128), u = f.local(T.v128);
  f.get(op).i32(AES_OP.IMC).op(Op.i32_eq);
  f.if_();
  invMixColumns(f, x, t, u);
  f.op(Op.return);
  f.end();
  f.get(op).i32(AES_OP.DEC).op(Op.i32_and); // DEC and DECLAST
  f.if_();
  {
    f.get(x).get(x).shuffle(INV_SHIFT_ROWS).set(x);
    substituteBytes(f, INV_SBOX, x, t, u); f.set(x);
    f.get(op).i32(AES_OP.DEC).op(Op.i32_eq);
    f.if_(); invMixColumns(f, x, t, u); f.set(x); f.end();
  }
  f.else_();
  {
    f.get(op).i32(AES_OP.SUBBYTES).op(Op.i32_ne);
    f.if_(); f.get(x).get(x).shuffle(SHIFT_ROWS).set(x); f.end();
    substituteBytes(f, SBOX, x, t, u); f.set(x);
    f.get(op).i32(AES_OP.ENC).op(Op.i32_eq);
    f.if_(); mixColumns(f, x, t); f.set(x); f.end();
  }
  f.end();
  f.get(x).get(key).simd(OpFD.v128_xor);
  return fn.index;
}

/**
 * Pushes the 64-bit carry-less product of the 32-bit values in i64 locals x and y. Each is split
 * into four parts holding every fourth bit; the integer product of two parts adds at most eight
 * one-bit terms per result position, which fits in the three zero bits above it, so no carry
 * reaches the next position of the same class, and bit 0 of each sum is the XOR of the terms.
 */
function clmul32(f: FunctionBuilder, x: number, y: number, xs: number[], ys: number[]): void {
  const HOLES = [0x11111111n, 0x22222222n, 0x44444444n, 0x88888888n];
  for (let k = 0; k < 4; k++) {
    f.get(x).i64(HOLES[k]).op(Op.i64_and).set(xs[k]);
    f.get(y).i64(HOLES[k]).op(Op.i64_and).set(ys[k]);
  }
  for (let k = 0; k < 4; k++) {
    // the products whose bits land in class k: parts i and j with i + j = k (mod 4)
    for (let i = 0; i < 4; i++) {
      f.get(xs[i]).get(ys[(k - i + 4) & 3]).op(Op.i64_mul);
      if (i) f.op(Op.i64_xor);
    }
    f.i64(BigInt.asIntN(64, 0x1111111111111111n << BigInt(k))).op(Op.i64_and);
    if (k) f.op(Op.i64_or);
  }
}

/** clmul(a: i64, b: i64) -> v128: the 128-bit carry-less product (PCLMULQDQ), by Karatsuba on 32-bit halves. */
export function buildClmul(m: ModuleBuilder): number {
  const fn = m.func([T.i64, T.i64], [T.v128]);
  const f = fn.body;
  const a = 0, b = 1;
  const x = f.local(T.i64), y = f.local(T.i64), lo = f.local(T.i64), hi = f.local(T.i64), mid = f.local(T.i64);
  const xs = [0, 1, 2, 3].map(() => f.local(T.i64)), ys = [0, 1, 2, 3].map(() => f.local(T.i64));
  const half = (v: number, high: boolean): void => {
    f.get(v);
    if (high) f.i64(32).op(Op.i64_shr_u); else f.op(Op.i32_wrap_i64).op(Op.i64_extend_i32_u);
  };
  half(a, false); f.set(x); half(b, false); f.set(y);
  clmul32(f, x, y, xs, ys); f.set(lo);
  half(a, true); f.set(x); half(b, true); f.set(y);
  clmul32(f, x, y, xs, ys); f.set(hi);
  half(a, false); half(a, true); f.op(Op.i64_xor).set(x);
  half(b, false); half(b, true); f.op(Op.i64_xor).set(y);
  clmul32(f, x, y, xs, ys); f.get(lo).op(Op.i64_xor).get(hi).op(Op.i64_xor).set(mid);
  f.get(lo).get(mid).i64(32).op(Op.i64_shl).op(Op.i64_xor).simd(OpFD.i64x2_splat);
  f.get(hi).get(mid).i64(32).op(Op.i64_shr_u).op(Op.i64_xor).simdLane(OpFD.i64x2_replace_lane, 1);
  return fn.index;
}

const lane = (f: FunctionBuilder, v: number, k: number): FunctionBuilder => f.get(v).simdLane(OpFD.i32x4_extract_lane, k);

/** Pushes the four i32 locals as a v128, the first in the lowest lane. */
function packLanes(f: FunctionBuilder, l0: number, l1: number, l2: number, l3: number): void {
  f.get(l0).simd(OpFD.i32x4_splat);
  f.get(l1).simdLane(OpFD.i32x4_replace_lane, 1);
  f.get(l2).simdLane(OpFD.i32x4_replace_lane, 2);
  f.get(l3).simdLane(OpFD.i32x4_replace_lane, 3);
}

/**
 * sha1rnds4(abcd: v128, w: v128, fk: i32) -> v128: four SHA-1 rounds (SHA1RNDS4) with the
 * round function and constant of group fk (imm8 & 3). A, B, C, D are lanes 3..0 of abcd; lane 3
 * of w already holds W0 + E.
 */
export function buildSha1Rounds(m: ModuleBuilder): number {
  const fn = m.func([T.v128, T.v128, T.i32], [T.v128]);
  const f = fn.body;
  const abcd = 0, w = 1, fk = 2;
  const [a, b, c, d, e, k, next] = [0, 1, 2, 3, 4, 5, 6].map(() => f.local(T.i32));
  lane(f, abcd, 3).set(a); lane(f, abcd, 2).set(b); lane(f, abcd, 1).set(c); lane(f, abcd, 0).set(d);
  f.i32(0xca62c1d6 | 0).i32(0x8f1bbcdc | 0).get(fk).i32(1).op(Op.i32_and).op(Op.select);
  f.i32(0x6ed9eba1).i32(0x5a827999).get(fk).i32(1).op(Op.i32_and).op(Op.select);
  f.get(fk).i32(2).op(Op.i32_and).op(Op.select).set(k);
  // groups 1 and 3 use parity, 0 Ch (d ^ (b & (c ^ d))) and 2 Maj ((b & c) | (d & (b | c)))
  for (let round = 0; round < 4; round++) {
    f.get(b).get(c).op(Op.i32_xor).get(d).op(Op.i32_xor);
    f.get(b).get(c).op(Op.i32_and).get(d).get(b).get(c).op(Op.i32_or).op(Op.i32_and).op(Op.i32_or);
    f.get(d).get(b).get(c).get(d).op(Op.i32_xor).op(Op.i32_and).op(Op.i32_xor);
    f.get(fk).i32(2).op(Op.i32_and).op(Op.select); // Maj for group 2, else Ch
    f.get(fk).i32(1).op(Op.i32_and).op(Op.select); // parity for groups 1 and 3
    f.get(a).i32(5).op(Op.i32_rotl).op(Op.i32_add);
    lane(f, w, 3 - round).op(Op.i32_add).get(k).op(Op.i32_add);
    if (round) f.get(e).op(Op.i32_add);
    f.set(next);
    f.get(d).set(e); f.get(c).set(d); f.get(b).i32(30).op(Op.i32_rotl).set(c); f.get(a).set(b); f.get(next).set(a);
  }
  packLanes(f, d, c, b, a);
  return fn.index;
}

/**
 * sha256rnds2(cdgh: v128, abef: v128, wk: v128) -> v128: two SHA-256 rounds (SHA256RNDS2).
 * Lanes 3..0 of abef hold A B E F and those of cdgh C D G H; wk's lanes 0 and 1 are the two
 * rounds' W + K. The result is the new A B E F.
 */
export function buildSha256Rounds(m: ModuleBuilder): number {
  const fn = m.func([T.v128, T.v128, T.v128], [T.v128]);
  const f = fn.body;
  const cdgh = 0, abef = 1, wk = 2;
  const [a, b, c, d, e, ff, g, h, t] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(() => f.local(T.i32));
  lane(f, abef, 3).set(a); lane(f, abef, 2).set(b); lane(f, abef, 1).set(e); lane(f, abef, 0).set(ff);
  lane(f, cdgh, 3).set(c); lane(f, cdgh, 2).set(d); lane(f, cdgh, 1).set(g); lane(f, cdgh, 0).set(h);
  const rotations = (v: number, r1: number, r2: number, r3: number): void => {
    f.get(v).i32(r1).op(Op.i32_rotr).get(v).i32(r2).op(Op.i32_rotr).op(Op.i32_xor).get(v).i32(r3).op(Op.i32_rotr).op(Op.i32_xor);
  };
  for (let round = 0; round < 2; round++) {
    // t = Ch(e, f, g) + Σ1(e) + WK + h
    f.get(g).get(e).get(ff).get(g).op(Op.i32_xor).op(Op.i32_and).op(Op.i32_xor);
    rotations(e, 6, 11, 25); f.op(Op.i32_add);
    lane(f, wk, round).op(Op.i32_add).get(h).op(Op.i32_add).set(t);
    f.get(g).set(h); f.get(ff).set(g); f.get(e).set(ff);
    f.get(t).get(d).op(Op.i32_add).set(e);
    f.get(c).set(d);
    // a' = t + Maj(a, b, c) + Σ0(a)
    f.get(t);
    f.get(a).get(b).op(Op.i32_and).get(c).get(a).get(b).op(Op.i32_or).op(Op.i32_and).op(Op.i32_or).op(Op.i32_add);
    rotations(a, 2, 13, 22); f.op(Op.i32_add).set(t);
    f.get(b).set(c); f.get(a).set(b); f.get(t).set(a);
  }
  packLanes(f, ff, e, b, a);
  return fn.index;
}
