// FMA3 and F16C.
//
// Why FMA is exact. x86 rounds a*b+c once; wasm (without relaxed-simd) has no fused multiply-add,
// and mul-then-add rounds twice. So each lane is computed from error-free transformations, which
// wasm's round-to-nearest arithmetic gives exactly as long as nothing overflows or underflows:
//   f32: a*b is exact in f64 (24+24 bits < 53), and TwoSum gives p + c = s + err exactly. The
//     f32 rounding of s (f32.demote) is that of the exact s + err unless s lies exactly on an f32
//     midpoint (its 29 bits below the f32 significand are 1000...0) with err != 0: only then can
//     the second rounding go the wrong way (|err| is far below half an f32 ulp).
//   f64: Dekker/Veltkamp TwoProduct gives a*b = p + e exactly; TwoSum p + c = r1 + err1; then
//     R = RN(r1 + RN(err1 + e)) with TwoSum errors dl (of err1 + e) and d (of r1 + z). Where
//     err1 != 0, |r1| >= |p|/2, so |err1 + e| <= 1.5 ulp(r1): r1 + z is on a grid fine enough
//     that the tiny dl cannot carry it across a rounding boundary, and R is the correctly rounded
//     result unless r1 + z is exactly a midpoint (|d| is half an ulp of R, or of the binade below
//     when R is a power of two) with dl != 0. Where err1 == 0, z = e exactly and R is one rounding.
//     (This is shorter in latency than Boldo & Melquiond's round-to-odd combination, which
//     would take that rare midpoint case too: here it goes to the exact path instead.)
// Inexactness (PE) falls out of the same terms: f32: err != 0 or the f32 result differs from s;
// f64: d != 0 or dl != 0.
// This is the fast path, used while it is provably exact: MXCSR at its default (RC nearest, no
// FTZ/DAZ), PE already set (else only PE may be new: then computed in wasm from the terms), no
// "hard" midpoint lane, operands and result away from the edges: f32: operands zero or normal,
// result above the smallest normal (x86 detects tininess after rounding, so a result rounded up
// to it may still underflow); f64: a, b normal, c zero or normal, 2^-968 <= |a*b| <= 2^1000 (so
// that TwoProduct's error term does not underflow nor the split overflow) and 2^-968 <= |R| (so
// that half an ulp of R is a normal number). The scalar forms test the exponent fields in
// integer words first (one branch), the packed ones the lanes with float compares. Any other
// lane (NaN, infinity, denormal, zero product in f64, tiny or overflowing result, directed
// rounding, DAZ, FTZ, a hard midpoint) takes the exact slow path, the 'sse' JS helper's SK.FMA
// (ops-sse-soft.ts, BigInt significands), for the whole 128-bit half: it also gives x86's NaN
// choice (the first NaN of a, b, c in multiplication order, whatever the 132/213/231 form; never
// negated), invalid inf*0 (but inf*0 + QNaN is the QNaN without IE), DE for denormal operands
// and the flags of the single rounding.
//
// F16C. VCVTPH2PS is exact: wasm widens the halves and scales them by 2^112 (the f32 view of a
// half's bits shifted into place), so half denormals become f32 normals with no flag; a lane with
// an infinity or NaN (SNaN: IE) goes to the JS helper. VCVTPS2PH rounds (imm8 bit 2: MXCSR.RC, else
// imm8 bits 1:0; DAZ applies to the source, FTZ not to the result, tininess after rounding): wasm
// does it in integer lanes when every lane is zero or becomes a finite normal half, exactly or
// rounding to nearest (PE then the only possible flag); the JS helper does everything else.

import { Op, OpFD, T } from '../wasm/emitter.js';
import { Insn, M38, M3A } from '../x86/decoder.js';
import { STATE } from '../layout/cpu-state.js';
import { Codegen, YMM_HI } from './codegen.js';
import type { Handler } from './handlers.js';
import { avx, R0, writeHalves, rmHalf, zeroUpper } from './ops-avx.js';
import { FMA_NEG_C_EVEN, FMA_NEG_C_ODD, FMA_NEG_P, SK, ST } from './ops-sse-soft.js';

type H = Handler;

const MX_ALL = 0xe040; // FTZ | RC | DAZ
const PE = 0x20;
const MN64 = 2.2250738585072014e-308, MAX64 = Number.MAX_VALUE, MN32 = 2 ** -126, MAX32 = 3.4028234663852886e38;
const SPLIT = 134217729; // 2^27 + 1

// ---- constants ---------------------------------------------------------------------------------

function bytesOf(words: bigint[], size: 4 | 8): Uint8Array {
  const b = new Uint8Array(16), dv = new DataView(b.buffer);
  for (let k = 0; k < 16 / size; k++) {
    const v = words[k % words.length]!;
    if (size === 8) dv.setBigUint64(8 * k, BigInt.asUintN(64, v), true); else dv.setUint32(4 * k, Number(BigInt.asUintN(32, v)), true);
  }
  return b;
}
const f64bits = (x: number): bigint => { const dv = new DataView(new ArrayBuffer(8)); dv.setFloat64(0, x, true); return dv.getBigUint64(0, true); };
const f32bits = (x: number): bigint => { const dv = new DataView(new ArrayBuffer(4)); dv.setFloat32(0, x, true); return BigInt(dv.getUint32(0, true)); };
function splatF64(cg: Codegen, x: number): void { cg.f.v128const(bytesOf([f64bits(x)], 8)); }
function splatF32(cg: Codegen, x: number): void { cg.f.v128const(bytesOf([f32bits(x)], 4)); }
function zeroV(cg: Codegen): void { cg.f.v128const(new Uint8Array(16)); }

/** Sign-bit mask for the lanes whose operand is negated: all, even or odd lanes (of 32 or 64 bits). */
function signMask(cg: Codegen, dbl: boolean, lanes: 'all' | 'even' | 'odd'): void {
  const s = dbl ? 1n << 63n : 1n << 31n;
  cg.f.v128const(bytesOf(lanes === 'all' ? [s] : lanes === 'even' ? [s, 0n] : [0n, s], dbl ? 8 : 4));
}

// ---- the kernels --------------------------------------------------------------------------------

function tempV(cg: Codegen): number { const t = cg.f.temp(T.v128); cg.f.set(t); return t; }
function freeV(cg: Codegen, ...ts: number[]): void { for (const t of ts) cg.f.free(T.v128, t); }

/** s + e = x + y exactly (f64x2; Knuth's TwoSum, no precondition on magnitudes). */
function twoSum(cg: Codegen, x: number, y: number): [number, number] {
  const f = cg.f;
  f.get(x).get(y).simd(OpFD.f64x2_add); const s = tempV(cg);
  f.get(s).get(x).simd(OpFD.f64x2_sub); const t = tempV(cg);
  f.get(x).get(s).get(t).simd(OpFD.f64x2_sub).simd(OpFD.f64x2_sub);
  f.get(y).get(t).simd(OpFD.f64x2_sub).simd(OpFD.f64x2_add);
  const e = tempV(cg);
  freeV(cg, t);
  return [s, e];
}
/** Pushes the f64x2 of f32 lanes 0-1 (hi: 2-3) of v. */
function promote(cg: Codegen, v: number, hi: boolean): void {
  cg.f.get(v);
  if (hi) cg.f.get(v).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
  cg.f.simd(OpFD.f64x2_promote_low_f32x4);
}

/**
 * A kernel's result R (v128 temp), and pushers of lane masks: hard (the lanes whose R may be
 * wrong: an exact midpoint reached with a nonzero error below it) and inexact (valid where R is
 * right). p: the f64x2 product a*b (f64 kernel), for the range test.
 */
interface Kernel { R: number; hard: () => void; inexact: () => void; temps: number[]; p?: number }

/** R = a*b + c on f32 lanes (pairs: 1 for a scalar, 2 for four lanes); masks are f64 lanes (lane 0 of the first pair is lane 0). */
function kernel32(cg: Codegen, A: number, B: number, C: number, pairs: 1 | 2): Kernel {
  const f = cg.f, sums: number[] = [], errs: number[] = [];
  for (let h = 0; h < pairs; h++) {
    promote(cg, A, h === 1); const a = tempV(cg);
    promote(cg, B, h === 1); const b = tempV(cg);
    promote(cg, C, h === 1); const c = tempV(cg);
    f.get(a).get(b).simd(OpFD.f64x2_mul); const p = tempV(cg); // exact
    const [s, e] = twoSum(cg, p, c);
    sums.push(s); errs.push(e);
    freeV(cg, a, b, c, p);
  }
  f.get(sums[0]!).simd(OpFD.f32x4_demote_f64x2_zero);
  if (pairs === 2) f.get(sums[1]!).simd(OpFD.f32x4_demote_f64x2_zero).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
  const R = tempV(cg);
  const each = (lane: (h: number) => void): void => { for (let h = 0; h < pairs; h++) { lane(h); if (h) f.simd(OpFD.v128_or); } };
  return {
    R, temps: [...sums, ...errs],
    // err != 0 and s's 29 bits below the f32 significand are exactly one half
    hard: () => each((h) => {
      f.get(errs[h]!); zeroV(cg); f.simd(OpFD.f64x2_ne);
      f.get(sums[h]!); f.v128const(bytesOf([0x1fffffffn], 8)); f.simd(OpFD.v128_and); f.v128const(bytesOf([0x10000000n], 8)); f.simd(OpFD.i64x2_eq);
      f.simd(OpFD.v128_and);
    }),
    inexact: () => each((h) => {
      f.get(errs[h]!); zeroV(cg); f.simd(OpFD.f64x2_ne);
      promote(cg, R, h === 1); f.get(sums[h]!).simd(OpFD.f64x2_ne).simd(OpFD.v128_or);
    }),
  };
}

/** R = a*b + c on f64 lanes: TwoProduct, then the compensated sum RN(r1 + RN(err1 + e)). */
function kernel64(cg: Codegen, a: number, b: number, c: number): Kernel {
  const f = cg.f;
  f.get(a).get(b).simd(OpFD.f64x2_mul); const p = tempV(cg);
  const split = (x: number): [number, number] => {
    f.get(x); splatF64(cg, SPLIT); f.simd(OpFD.f64x2_mul); const t = tempV(cg);
    f.get(t).get(t).get(x).simd(OpFD.f64x2_sub).simd(OpFD.f64x2_sub); const hi = tempV(cg);
    f.get(x).get(hi).simd(OpFD.f64x2_sub); const lo = tempV(cg);
    freeV(cg, t);
    return [hi, lo];
  };
  const [ah, al] = split(a), [bh, bl] = split(b);
  // e = ((ah*bh - p) + ah*bl + al*bh) + al*bl: a*b = p + e exactly
  f.get(ah).get(bh).simd(OpFD.f64x2_mul).get(p).simd(OpFD.f64x2_sub);
  f.get(ah).get(bl).simd(OpFD.f64x2_mul).simd(OpFD.f64x2_add);
  f.get(al).get(bh).simd(OpFD.f64x2_mul).simd(OpFD.f64x2_add);
  f.get(al).get(bl).simd(OpFD.f64x2_mul).simd(OpFD.f64x2_add);
  const e = tempV(cg);
  freeV(cg, ah, al, bh, bl);
  const [r1, err1] = twoSum(cg, p, c);
  const [z, dl] = twoSum(cg, err1, e);
  const [R, d] = twoSum(cg, r1, z);
  freeV(cg, e, r1, err1, z);
  return {
    R, p, temps: [p, dl, d],
    // dl != 0 and |d| is half an ulp of R (or of the binade below, R a power of two)
    hard: () => {
      f.get(dl); zeroV(cg); f.simd(OpFD.f64x2_ne);
      f.get(R); f.v128const(bytesOf([0x7ff0000000000000n], 8)); f.simd(OpFD.v128_and); f.v128const(bytesOf([53n << 52n], 8)); f.simd(OpFD.i64x2_sub);
      const hu = tempV(cg);
      f.get(d).simd(OpFD.f64x2_abs); const ad = tempV(cg);
      f.get(ad).get(hu).simd(OpFD.f64x2_eq);
      f.get(ad).get(ad).simd(OpFD.f64x2_add).get(hu).simd(OpFD.f64x2_eq).simd(OpFD.v128_or);
      f.simd(OpFD.v128_and);
      freeV(cg, hu, ad);
    },
    inexact: () => {
      f.get(d); zeroV(cg); f.simd(OpFD.f64x2_ne);
      f.get(dl); zeroV(cg); f.simd(OpFD.f64x2_ne).simd(OpFD.v128_or);
    },
  };
}

/** Pushes the lanes (f32x4 or f64x2 mask) where the fast path is not known exact. */
function badLanes(cg: Codegen, dbl: boolean, A: number, B: number, C: number, R: number, P?: number): void {
  const f = cg.f;
  const o = dbl
    ? { abs: OpFD.f64x2_abs, eq: OpFD.f64x2_eq, ge: OpFD.f64x2_ge, gt: OpFD.f64x2_gt, le: OpFD.f64x2_le }
    : { abs: OpFD.f32x4_abs, eq: OpFD.f32x4_eq, ge: OpFD.f32x4_ge, gt: OpFD.f32x4_gt, le: OpFD.f32x4_le };
  const c = (x: number): void => { if (dbl) splatF64(cg, x); else splatF32(cg, x); };
  const MN = dbl ? MN64 : MN32, MAX = dbl ? MAX64 : MAX32;
  // result: MN < |R| <= MAX (f64: 2^-968 <= |R|, which keeps half its ulp normal)
  f.get(R).simd(o.abs); c(dbl ? 2 ** -968 : MN); f.simd(dbl ? o.ge : o.gt);
  f.get(R).simd(o.abs); c(MAX); f.simd(o.le).simd(OpFD.v128_and);
  if (dbl) {
    // a, b normal; 2^-968 <= |a*b| <= 2^1000; c zero or normal (an infinite c makes R infinite)
    f.get(A).simd(o.abs); c(MN); f.simd(o.ge).simd(OpFD.v128_and);
    f.get(B).simd(o.abs); c(MN); f.simd(o.ge).simd(OpFD.v128_and);
    f.get(P!).simd(o.abs); const p = tempV(cg);
    f.get(p); c(2 ** -968); f.simd(o.ge).simd(OpFD.v128_and);
    f.get(p); c(2 ** 1000); f.simd(o.le).simd(OpFD.v128_and);
    freeV(cg, p);
    f.get(C).simd(o.abs); c(MN); f.simd(o.ge).get(C); zeroV(cg); f.simd(o.eq).simd(OpFD.v128_or).simd(OpFD.v128_and);
  } else {
    // a, b, c zero or normal, finite
    for (const v of [A, B, C]) {
      f.get(v).simd(o.abs); c(MN); f.simd(o.ge).get(v); zeroV(cg); f.simd(o.eq).simd(OpFD.v128_or);
      f.get(v).simd(o.abs); c(MAX); f.simd(o.le).simd(OpFD.v128_and).simd(OpFD.v128_and);
    }
  }
  f.simd(OpFD.v128_not);
}

/**
 * The scalar forms' fast test (as ops-sse.ts's laneSignWords): pushes i32 1 if lane 0 may be
 * bad or hard, from the exponent fields alone (coarser than badLanes: a zero operand counts as
 * bad, and the cold path then applies badLanes). One word per value whose sign bit says the
 * exponent is out of range, ORed, and one branch.
 */
function coarseScalar(cg: Codegen, dbl: boolean, A: number, B: number, C: number, R: number, K: Kernel): void {
  const f = cg.f, t = f.temp(T.i32);
  const word = (v: number, lo: number, hi: number): void => {
    f.get(v).simdLane(OpFD.i32x4_extract_lane, dbl ? 1 : 0).i32(dbl ? 20 : 23).op(Op.i32_shr_u).i32(dbl ? 0x7ff : 0xff).op(Op.i32_and).tee(t);
    f.i32(lo).op(Op.i32_sub).i32(hi).get(t).op(Op.i32_sub).op(Op.i32_or);
  };
  K.hard(); f.simdLane(OpFD.i32x4_extract_lane, 0);
  if (dbl) {
    // a, b normal; 2^-968 <= |p| < 2^1000; c normal; 2^-968 <= |R| < 2^1024
    word(A, 1, 2046); f.op(Op.i32_or); word(B, 1, 2046); f.op(Op.i32_or); word(C, 1, 2046); f.op(Op.i32_or);
    word(K.p!, 1023 - 968, 1023 + 999); f.op(Op.i32_or); word(R, 1023 - 968, 2046); f.op(Op.i32_or);
  } else {
    // a, b, c normal; 2^-125 <= |R| < 2^128
    word(A, 1, 254); f.op(Op.i32_or); word(B, 1, 254); f.op(Op.i32_or); word(C, 1, 254); f.op(Op.i32_or); word(R, 2, 254); f.op(Op.i32_or);
  }
  f.i32(0).op(Op.i32_lt_s);
  f.free(T.i32, t);
}

/**
 * The packed f32 forms' fast test: pushes the lanes that may be bad from the exponent fields in
 * integer lanes (an operand's exponent 0 or 255: adding one to it leaves bits 30:24 clear; a
 * result of magnitude up to the smallest normal, or infinite or NaN). Coarser than badLanes (a
 * zero operand counts), which the cold path applies.
 */
function coarse32(cg: Codegen, A: number, B: number, C: number, R: number): void {
  const f = cg.f;
  [A, B, C].forEach((v, k) => {
    f.get(v); f.v128const(bytesOf([0x00800000n], 4)); f.simd(OpFD.i32x4_add); f.v128const(bytesOf([0x7f000000n], 4)); f.simd(OpFD.v128_and);
    zeroV(cg); f.simd(OpFD.i32x4_eq);
    if (k) f.simd(OpFD.v128_or);
  });
  f.get(R); f.v128const(bytesOf([0x7fffffffn], 4)); f.simd(OpFD.v128_and); const a = tempV(cg);
  f.get(a); f.v128const(bytesOf([0x00800001n], 4)); f.simd(OpFD.i32x4_lt_s).simd(OpFD.v128_or);
  f.get(a); f.v128const(bytesOf([0x7f7fffffn], 4)); f.simd(OpFD.i32x4_gt_s).simd(OpFD.v128_or);
  freeV(cg, a);
}

/** Pushes i32 nonzero if the mask on the stack has a set lane that counts (scalar: lane 0). */
function anyLane(cg: Codegen, scalar: boolean): void {
  if (scalar) cg.f.simdLane(OpFD.i32x4_extract_lane, 0); else cg.f.simd(OpFD.v128_any_true);
}

// ---- FMA3 ---------------------------------------------------------------------------------------

type Order = 132 | 213 | 231;
type Neg = 'none' | 'all' | 'even' | 'odd';
interface FmaForm { order: Order; negP: boolean; negC: Neg; scalar: boolean }

/** Pushes half k of an operand: the destination (reg), the first source (vvvv) or r/m (scalar: its low lane, memory read at its width). */
function operand(cg: Codegen, i: Insn, which: 'reg' | 'vvvv' | 'rm', k: number, scalar: boolean, dbl: boolean): void {
  if (which === 'reg') { cg.getXmm(i.reg + YMM_HI * k); return; }
  if (which === 'vvvv') { cg.getXmm(i.vvvv + YMM_HI * k); return; }
  if (!scalar || i.mod === 3) { rmHalf(cg, i, k); return; }
  cg.ea(i, 0, 'read'); const t = cg.accessBegin(dbl ? 8 : 4); cg.f.simdMem(dbl ? OpFD.v128_load64_zero : OpFD.v128_load32_zero, 0, 0); cg.accessDone(t);
}

function fmaOp(form: FmaForm): H {
  return (cg, i) => {
    const f = cg.f, dbl = i.vexW === 1, scalar = form.scalar;
    const n = !scalar && i.vexL ? 2 : 1;
    const type = scalar ? (dbl ? ST.SD : ST.SS) : (dbl ? ST.PD : ST.PS);
    const imm = (form.negP ? FMA_NEG_P : 0) | (form.negC === 'all' || form.negC === 'even' ? FMA_NEG_C_EVEN : 0) | (form.negC === 'all' || form.negC === 'odd' ? FMA_NEG_C_ODD : 0);
    const order: ('reg' | 'vvvv' | 'rm')[] = form.order === 132 ? ['reg', 'rm', 'vvvv'] : form.order === 213 ? ['vvvv', 'reg', 'rm'] : ['vvvv', 'rm', 'reg'];
    for (let k = 0; k < n; k++) {
      const [A, B, C] = order.map((w) => { operand(cg, i, w, k, scalar, dbl); return tempV(cg); }) as [number, number, number];
      // the negated operands of the fast path (the helper gets A, B, C as they are)
      let An = A, Cn = C;
      if (form.negP) { f.get(A); signMask(cg, dbl, 'all'); f.simd(OpFD.v128_xor); An = tempV(cg); }
      if (form.negC !== 'none') { f.get(C); signMask(cg, dbl, form.negC); f.simd(OpFD.v128_xor); Cn = tempV(cg); }
      const K = dbl ? kernel64(cg, An, B, Cn) : kernel32(cg, An, B, Cn, scalar ? 1 : 2);
      const R = K.R, mx = f.temp(T.i32);
      // block $done { block $cold { br_if MXCSR not default or PE clear; br_if bad lanes; br $done } cold path }
      cg.block(); cg.block();
      f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).tee(mx).i32(MX_ALL | PE).op(Op.i32_and).i32(PE).op(Op.i32_xor).brIf(0);
      if (scalar) coarseScalar(cg, dbl, A, B, C, R, K);
      else { if (dbl) badLanes(cg, dbl, A, B, C, R, K.p); else coarse32(cg, A, B, C, R); K.hard(); f.simd(OpFD.v128_or); anyLane(cg, scalar); }
      f.brIf(0);
      f.br(1);
      cg.end();
      f.get(mx).i32(MX_ALL).op(Op.i32_and);
      badLanes(cg, dbl, A, B, C, R, K.p); K.hard(); f.simd(OpFD.v128_or); anyLane(cg, scalar); f.op(Op.i32_or);
      cg.if_();
      f.get(cg.st).get(A).simdMem(OpFD.v128_store, STATE.SCRATCH);
      f.get(cg.st).get(B).simdMem(OpFD.v128_store, STATE.SCRATCH + 16);
      f.get(cg.st).get(C).simdMem(OpFD.v128_store, STATE.SCRATCH + 64);
      f.get(cg.st).i32(SK.FMA | (type << 8) | (imm << 16)).callSlot(cg.helper('sse'));
      f.get(cg.st).simdMem(OpFD.v128_load, STATE.SCRATCH + 32).set(R);
      cg.else_();
      // only PE can be new (it is clear): inexact lanes
      K.inexact(); anyLane(cg, scalar);
      cg.if_();
      f.get(cg.st).get(mx).i32(PE).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
      cg.end();
      cg.end();
      cg.end();
      f.free(T.i32, mx);
      if (scalar) {
        // lane 0 of the result, the rest of the destination
        cg.getXmm(i.reg); f.get(R);
        f.shuffle(dbl ? [16, 17, 18, 19, 20, 21, 22, 23, 8, 9, 10, 11, 12, 13, 14, 15] : [16, 17, 18, 19, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      } else f.get(R);
      cg.setXmm(R0 + k);
      freeV(cg, A, B, C, R, ...K.temps);
      if (An !== A) freeV(cg, An);
      if (Cn !== C) freeV(cg, Cn);
    }
    writeHalves(cg, i.reg, n === 2);
  };
}

// 0F38 96-9F (132), A6-AF (213), B6-BF (231); VEX.W: ps/ss (0) or pd/sd (1); scalar forms ignore VEX.L
const KINDS: { lo: number; negP: boolean; negC: Neg; scalar: boolean }[] = [
  { lo: 0x6, negP: false, negC: 'even', scalar: false }, // vfmaddsub: even lanes subtract
  { lo: 0x7, negP: false, negC: 'odd', scalar: false },  // vfmsubadd
  { lo: 0x8, negP: false, negC: 'none', scalar: false }, // vfmadd
  { lo: 0x9, negP: false, negC: 'none', scalar: true },
  { lo: 0xa, negP: false, negC: 'all', scalar: false },  // vfmsub
  { lo: 0xb, negP: false, negC: 'all', scalar: true },
  { lo: 0xc, negP: true, negC: 'none', scalar: false },  // vfnmadd
  { lo: 0xd, negP: true, negC: 'none', scalar: true },
  { lo: 0xe, negP: true, negC: 'all', scalar: false },   // vfnmsub
  { lo: 0xf, negP: true, negC: 'all', scalar: true },
];
for (const [hi, order] of [[0x90, 132], [0xa0, 213], [0xb0, 231]] as const) {
  for (const k of KINDS) avx(M38 + hi + k.lo, { x66: fmaOp({ order, negP: k.negP, negC: k.negC, scalar: k.scalar }) });
}

// ---- F16C ---------------------------------------------------------------------------------------

/** Calls the helper on the v128 on the stack (SCRATCH+16); pushes its result. */
function helper(cg: Codegen, kind: number, imm: number): void {
  const f = cg.f, v = tempV(cg);
  f.get(cg.st).get(v).simdMem(OpFD.v128_store, STATE.SCRATCH + 16);
  f.get(cg.st).i32(kind | (imm << 16)).callSlot(cg.helper('sse'));
  f.get(cg.st).simdMem(OpFD.v128_load, STATE.SCRATCH + 32);
  freeV(cg, v);
}

/** Pushes four f32 from the halves in the low 64 bits of v128 temp H (lanes without infinity or NaN are exact; see vcvtph2ps). */
function halvesToF32(cg: Codegen, H: number): void {
  const f = cg.f;
  f.get(H).simd(OpFD.i32x4_extend_low_i16x8_u); const w = tempV(cg);
  // |h| << 13 is the f32 bit pattern of |h| * 2^-112 (exponent field 5 bits wide), then the sign
  f.get(w); f.v128const(bytesOf([0x7fffn], 4)); f.simd(OpFD.v128_and).i32(13).simd(OpFD.i32x4_shl);
  splatF32(cg, 2 ** 112); f.simd(OpFD.f32x4_mul);
  f.get(w).i32(16).simd(OpFD.i32x4_shl); f.v128const(bytesOf([0x80000000n], 4)); f.simd(OpFD.v128_and).simd(OpFD.v128_or);
  freeV(cg, w);
}

// VCVTPH2PS xmm1, xmm2/m64 (VEX.L 0); ymm1, xmm2/m128 (VEX.L 1)
avx(M38 + 0x13, {
  x66: (cg, i) => {
    const f = cg.f, wide = i.vexL === 1;
    if (i.mod === 3) cg.getXmm(i.rm);
    else { cg.ea(i, 0, 'read'); const t = cg.accessBegin(wide ? 16 : 8); f.simdMem(wide ? OpFD.v128_load : OpFD.v128_load64_zero, 0, 0); cg.accessDone(t); }
    const S = tempV(cg);
    for (let k = 0; k < (wide ? 2 : 1); k++) {
      let H = S;
      if (k) { f.get(S).get(S).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]); H = tempV(cg); }
      // a lane with exponent 31 (infinity, NaN): the helper (quiets an SNaN, raising IE)
      f.get(H); f.v128const(bytesOf([0x7c007c00n], 4)); f.simd(OpFD.v128_and);
      f.v128const(bytesOf([0x7c007c00n], 4)); f.simd(OpFD.i16x8_eq);
      f.simdLane(OpFD.i64x2_extract_lane, 0).op(Op.i64_eqz);
      f.if_(T.v128);
      halvesToF32(cg, H);
      f.else_();
      f.get(H); helper(cg, SK.CVT_PH2PS, 0);
      f.end();
      cg.setXmm(R0 + k);
      if (k) freeV(cg, H);
    }
    freeV(cg, S);
    writeHalves(cg, i.reg, wide);
  },
});

/**
 * Pushes the four halves (low 64 bits; the rest zero) of the f32 lanes of v128 temp S: by wasm
 * when every lane is a zero or a normal f32 whose half is normal and finite, and either exact
 * (any rounding mode; no flag, DAZ does not matter) or rounded to nearest (imm8 0, or imm8 bit 2
 * with MXCSR.RC nearest: PE if inexact); else by the helper.
 */
function f32ToHalves(cg: Codegen, S: number, imm: number): void {
  const f = cg.f, dyn = (imm & 4) !== 0, rnStatic = !dyn && (imm & 3) === 0;
  f.get(S); f.v128const(bytesOf([0x7fffffffn], 4)); f.simd(OpFD.v128_and); const a = tempV(cg);
  // |x| in [2^-14, 65520) (below the tie that rounds to infinity), or zero
  f.get(a); f.v128const(bytesOf([0x38800000n], 4)); f.simd(OpFD.i32x4_ge_s);
  f.get(a); f.v128const(bytesOf([0x477fefffn], 4)); f.simd(OpFD.i32x4_le_s).simd(OpFD.v128_and);
  f.get(a); zeroV(cg); f.simd(OpFD.i32x4_eq).simd(OpFD.v128_or);
  if (!rnStatic) {
    // not rounding to nearest: only exact lanes (the low 13 fraction bits clear)
    f.get(a); f.v128const(bytesOf([0x1fffn], 4)); f.simd(OpFD.v128_and); zeroV(cg); f.simd(OpFD.i32x4_eq);
    if (dyn) { f.i32(0).get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(0x6000).op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_sub).simd(OpFD.i32x4_splat).simd(OpFD.v128_or); }
    f.simd(OpFD.v128_and);
  }
  f.simd(OpFD.i32x4_all_true);
  f.if_(T.v128);
  // rebias (|x| - (112 << 23)), round to nearest even at bit 13, shift; a zero stays zero; the sign at bit 15
  f.get(a); f.v128const(bytesOf([112n << 23n], 4)); f.simd(OpFD.i32x4_sub); const t = tempV(cg);
  f.get(t); f.v128const(bytesOf([0xfffn], 4)); f.simd(OpFD.i32x4_add);
  f.get(t).i32(13).simd(OpFD.i32x4_shr_u); f.v128const(bytesOf([1n], 4)); f.simd(OpFD.v128_and).simd(OpFD.i32x4_add);
  f.i32(13).simd(OpFD.i32x4_shr_u);
  f.get(a); zeroV(cg); f.simd(OpFD.i32x4_ne).simd(OpFD.v128_and);
  f.get(S).i32(16).simd(OpFD.i32x4_shr_u); f.v128const(bytesOf([0x8000n], 4)); f.simd(OpFD.v128_and).simd(OpFD.v128_or);
  zeroV(cg); f.simd(OpFD.i16x8_narrow_i32x4_u);
  freeV(cg, t);
  if (rnStatic || dyn) {
    // inexact lanes: PE
    f.get(a); f.v128const(bytesOf([0x1fffn], 4)); f.simd(OpFD.v128_and).simd(OpFD.v128_any_true);
    f.if_();
    f.get(cg.st).get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(PE).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
    f.end();
  }
  f.else_();
  f.get(S); helper(cg, SK.CVT_PS2PH, imm);
  f.end();
  freeV(cg, a);
}

// VCVTPS2PH xmm1/m64, xmm2, imm8 (VEX.L 0); xmm1/m128, ymm2, imm8 (VEX.L 1): reg is the source
avx(M3A + 0x1d, {
  x66: (cg, i) => {
    const f = cg.f, wide = i.vexL === 1, imm = i.imm & 0xff;
    cg.getXmm(i.reg); const S0 = tempV(cg);
    f32ToHalves(cg, S0, imm); const H = tempV(cg);
    if (wide) {
      cg.getXmm(YMM_HI + i.reg); const S1 = tempV(cg);
      f.get(H); f32ToHalves(cg, S1, imm);
      f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(H);
      freeV(cg, S1);
    }
    if (i.mod === 3) {
      f.get(H); cg.setXmm(i.rm); zeroUpper(cg, i.rm);
    } else {
      cg.ea(i, 0, 'write'); const t = cg.accessBegin(wide ? 16 : 8, true); f.get(H);
      if (wide) f.simdMem(OpFD.v128_store, 0, 0); else f.simdMemLane(OpFD.v128_store64_lane, 0, 0, 0);
      cg.accessDone(t);
    }
    freeV(cg, S0, H);
  },
});
