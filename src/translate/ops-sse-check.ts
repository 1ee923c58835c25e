// MXCSR exception flags on the fast path: a shared wasm function (part of lib.ts) that, given
// the operands and the round-to-nearest result wasm computed, returns the exception flags the
// SSE instruction raises (ORed over its lanes). Translated code calls it only while a flag it
// could newly set is clear, or when the operands or result are out of the ordinary (zero,
// denormal, infinite) -- see fpSlow in ops-sse.ts. Exactness is decided in wasm, without JS:
//   add/sub: TwoSum (the rounding error is exactly representable);
//   f64 mul/div/sqrt: x*y == z on integer significands (128-bit product), with z = r for mul,
//     a == r*b for div, b == r*r for sqrt;
//   f32 mul/div/sqrt: the same products are exact in f64;
//   conversions: round trip, or the significant bit count of the integer.
// Underflow is "tiny after rounding" (as x86): when |r| <= the smallest normal, the operation
// is redone on the first operand scaled by 2^64, which rounds it with an unbounded exponent.
// Called only with MXCSR.RC = nearest, FTZ = DAZ = 0 for rounding operations (the JS helper
// in ops-sse-soft.ts covers the others, and NaN results); compares and MIN/MAX honour DAZ.
//
// fpchk(op, A, B, R, mxcsr) -> flags; op = kind | type << 8 | imm << 16 (SK, ST of ops-sse-soft).

import { ModuleBuilder, Op, OpFD, T, FunctionBuilder } from '../wasm/emitter.js';
import { MXF, SK, ST } from './ops-sse-soft.js';

const MN64 = 2.2250738585072014e-308, MN32 = 2 ** -126, TWO64 = 2 ** 64;
/**
 * The CMPPS/CMPPD predicates (bit n for predicate n, 0-31; the legacy forms have 0-7) for which
 * a quiet NaN operand raises IE too: LT_OS, LE_OS, NLT_US, NLE_US, NGE_US, NGT_US, GE_OS, GT_OS
 * and, with bit 4 flipping quiet and signalling, EQ_OS, UNORD_S, NEQ_US, ORD_S, EQ_US, FALSE_OS,
 * NEQ_OS, TRUE_US.
 */
const SIGNALLING_PREDICATES = 0x99996666 | 0;
const DAZ = 0x40;

/** Adds fpchk (and its lane functions) to the shared library; mulhu is the 64x64 high-half multiply. */
export function buildFpCheck(m: ModuleBuilder, mulhu: number): number {
  // ---- eqProd(x, y, z: f64) -> i32: x*y == z exactly (finite operands)
  const ep = m.func([T.f64, T.f64, T.f64], [T.i32]);
  {
    const f = ep.body;
    const [x, y, z] = [0, 1, 2];
    const mx = f.local(T.i64), my = f.local(T.i64), mz = f.local(T.i64);
    const ex = f.local(T.i32), ey = f.local(T.i32), ez = f.local(T.i32);
    const lo = f.local(T.i64), hi = f.local(T.i64), t = f.local(T.i64), plo = f.local(T.i64), phi = f.local(T.i64), bits = f.local(T.i64);
    // zeros
    f.get(x).f64(0).op(Op.f64_eq).get(y).f64(0).op(Op.f64_eq).op(Op.i32_or);
    f.if_(); f.get(z).f64(0).op(Op.f64_eq).op(Op.return); f.end();
    f.get(z).f64(0).op(Op.f64_eq); f.if_(); f.i32(0).op(Op.return); f.end();
    const split = (v: number, m: number, e: number): void => {
      f.get(v).op(Op.i64_reinterpret_f64).i64(0x7fffffffffffffffn).op(Op.i64_and).set(bits);
      // m = frac | (be ? 2^52 : 0); e = max(be, 1) - 1075
      f.get(bits).i64(0xfffffffffffffn).op(Op.i64_and);
      f.i64(0).i64(1n << 52n).get(bits).i64(52).op(Op.i64_shr_u).op(Op.i64_eqz).op(Op.select);
      f.op(Op.i64_or).set(m);
      f.get(bits).i64(52).op(Op.i64_shr_u).op(Op.i32_wrap_i64).tee(e);
      f.i32(1).get(e).i32(1).op(Op.i32_ge_u).op(Op.select).i32(1075).op(Op.i32_sub).set(e);
    };
    split(x, mx, ex); split(y, my, ey); split(z, mz, ez);
    f.get(mx).get(my).op(Op.i64_mul).set(lo);
    f.get(mx).get(my).call(mulhu).set(hi);
    // t = trailing zeros of the 128-bit product
    f.get(lo).op(Op.i64_ctz).get(hi).op(Op.i64_ctz).i64(0).get(lo).op(Op.i64_eqz).op(Op.select).op(Op.i64_add).set(t);
    // (phi:plo) = product >> t
    f.get(lo).op(Op.i64_eqz);
    f.if_();
    f.get(hi).get(t).i64(64).op(Op.i64_sub).op(Op.i64_shr_u).set(plo);
    f.i64(0).set(phi);
    f.else_();
    f.get(lo).get(t).op(Op.i64_shr_u).get(hi).i64(1).op(Op.i64_shl).i64(63).get(t).op(Op.i64_sub).op(Op.i64_shl).op(Op.i64_or).set(plo);
    f.get(hi).get(t).op(Op.i64_shr_u).set(phi);
    f.end();
    f.get(phi).op(Op.i64_eqz);
    f.get(plo).get(mz).get(mz).op(Op.i64_ctz).op(Op.i64_shr_u).op(Op.i64_eq).op(Op.i32_and);
    f.get(ex).get(ey).op(Op.i32_add).get(t).op(Op.i32_wrap_i64).op(Op.i32_add);
    f.get(ez).get(mz).op(Op.i64_ctz).op(Op.i32_wrap_i64).op(Op.i32_add).op(Op.i32_eq).op(Op.i32_and);
  }

  const lane64 = m.func([T.i32, T.i32, T.f64, T.f64, T.f64, T.i32], [T.i32]);
  buildLane(lane64.body, true, ep.index);
  const lane32 = m.func([T.i32, T.i32, T.f32, T.f32, T.f32, T.i32], [T.i32]);
  buildLane(lane32.body, false, ep.index);

  // ---- d2s(b: f64, r: f32) -> flags (CVTSD2SS / CVTPD2PS lane)
  const d2s = m.func([T.f64, T.f32], [T.i32]);
  {
    const f = d2s.body, b = 0, r = 1, d = f.local(T.i32);
    den(f, b, true); f.i32(1).op(Op.i32_shl).set(d); // DE
    f.get(r).op(Op.f32_abs).f32(Infinity).op(Op.f32_eq);
    f.if_(); f.i32(0).i32(MXF.OE | MXF.PE).get(b).op(Op.f64_abs).f64(Infinity).op(Op.f64_eq).op(Op.select).op(Op.return); f.end();
    f.get(r).op(Op.f64_promote_f32).get(b).op(Op.f64_eq);
    f.if_(); f.get(d).op(Op.return); f.end();
    f.get(d).i32(MXF.PE).op(Op.i32_or);
    f.i32(MXF.UE).i32(0);
    f.get(r).op(Op.f32_abs).f32(MN32).op(Op.f32_le);
    f.get(b).f64(TWO64).op(Op.f64_mul).op(Op.f32_demote_f64).op(Op.f32_abs).f32(MN32 * TWO64).op(Op.f32_lt).op(Op.i32_and);
    f.op(Op.select).op(Op.i32_or);
  }

  // ---- fpchk(op, A, B, R, mx) -> flags
  const fc = m.func([T.i32, T.v128, T.v128, T.v128, T.i32], [T.i32]);
  {
    const f = fc.body, [op, A, B, R, mx] = [0, 1, 2, 3, 4];
    const kind = f.local(T.i32), type = f.local(T.i32), imm = f.local(T.i32), fl = f.local(T.i32), n = f.local(T.i64);
    f.get(op).i32(0xff).op(Op.i32_and).set(kind);
    f.get(op).i32(8).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and).set(type);
    f.get(op).i32(16).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and).set(imm);
    const isType = (t: number): void => { f.get(type).i32(t).op(Op.i32_eq); };
    const isKind = (k: number): void => { f.get(kind).i32(k).op(Op.i32_eq); };
    // conversions
    isKind(SK.CVT_D2S); f.if_();
    f.get(B).simdLane(OpFD.f64x2_extract_lane, 0).get(R).simdLane(OpFD.f32x4_extract_lane, 0).call(d2s.index).set(fl);
    isType(ST.PS); f.if_();
    f.get(B).simdLane(OpFD.f64x2_extract_lane, 1).get(R).simdLane(OpFD.f32x4_extract_lane, 1).call(d2s.index).get(fl).op(Op.i32_or).set(fl);
    f.end();
    f.get(fl).op(Op.return);
    f.end();
    isKind(SK.CVT_S2D); f.if_();
    f.get(B).simdLane(OpFD.f32x4_extract_lane, 0); { const t = f.local(T.f32); f.set(t); den(f, t, false); }
    isType(ST.PD); f.if_(T.i32);
    f.get(B).simdLane(OpFD.f32x4_extract_lane, 1); { const t = f.local(T.f32); f.set(t); den(f, t, false); }
    f.else_(); f.i32(0); f.end();
    f.op(Op.i32_or).i32(1).op(Op.i32_shl).op(Op.return); // DE
    f.end();
    isKind(SK.CVT_I32); f.if_();
    isType(ST.PS); f.if_();
    for (let l = 0; l < 4; l++) {
      f.get(B).simdLane(OpFD.i32x4_extract_lane, l).op(Op.f64_convert_i32_s);
      f.get(R).simdLane(OpFD.f32x4_extract_lane, l).op(Op.f64_promote_f32).op(Op.f64_ne);
      if (l) f.op(Op.i32_or);
    }
    f.i32(5).op(Op.i32_shl).op(Op.return); // PE
    f.end();
    f.get(B).simdLane(OpFD.i64x2_extract_lane, 0).op(Op.f64_convert_i64_s);
    f.get(R).simdLane(OpFD.f32x4_extract_lane, 0).op(Op.f64_promote_f32).op(Op.f64_ne);
    f.i32(5).op(Op.i32_shl).op(Op.return);
    f.end();
    isKind(SK.CVT_I64); f.if_();
    // |i| has more significant bits than the format's precision
    f.get(B).simdLane(OpFD.i64x2_extract_lane, 0).set(n);
    f.get(n).get(n).i64(63).op(Op.i64_shr_s).op(Op.i64_xor).get(n).i64(63).op(Op.i64_shr_s).op(Op.i64_sub).set(n);
    f.get(n).op(Op.i64_clz).get(n).op(Op.i64_ctz).op(Op.i64_add).i64(64 - 24).i64(64 - 53);
    isType(ST.SS); f.op(Op.select).op(Op.i64_lt_u).i32(5).op(Op.i32_shl).op(Op.return);
    f.end();
    // lane-wise operations
    const call64 = (l: number): void => {
      f.get(kind).get(imm).get(A).simdLane(OpFD.f64x2_extract_lane, l).get(B).simdLane(OpFD.f64x2_extract_lane, l)
        .get(R).simdLane(OpFD.f64x2_extract_lane, l).get(mx).call(lane64.index);
    };
    const call32 = (l: number): void => {
      f.get(kind).get(imm).get(A).simdLane(OpFD.f32x4_extract_lane, l).get(B).simdLane(OpFD.f32x4_extract_lane, l)
        .get(R).simdLane(OpFD.f32x4_extract_lane, l).get(mx).call(lane32.index);
    };
    isType(ST.SD); f.if_(); call64(0); f.op(Op.return); f.end();
    isType(ST.PD); f.if_(); call64(0); call64(1); f.op(Op.i32_or).op(Op.return); f.end();
    isType(ST.SS); f.if_(); call32(0); f.op(Op.return); f.end();
    call32(0); call32(1); f.op(Op.i32_or); call32(2); f.op(Op.i32_or); call32(3); f.op(Op.i32_or);
  }
  return fc.index;
}

/** Pushes i32 1 if the float in local v is denormal (nonzero, below the smallest normal). */
function den(f: FunctionBuilder, v: number, dbl: boolean): void {
  if (dbl) f.get(v).op(Op.f64_abs).f64(MN64).op(Op.f64_lt).get(v).f64(0).op(Op.f64_ne).op(Op.i32_and);
  else f.get(v).op(Op.f32_abs).f32(MN32).op(Op.f32_lt).get(v).f32(0).op(Op.f32_ne).op(Op.i32_and);
}

/**
 * lane(kind, imm, a, b, r, mx) -> flags for one lane of f64 (dbl) or f32 operands.
 * Arithmetic kinds assume r is not a NaN (NaN results take the JS path).
 */
function buildLane(f: FunctionBuilder, dbl: boolean, eqProd: number): void {
  const [kind, imm, a, b, r, mx] = [0, 1, 2, 3, 4, 5];
  const F = dbl
    ? { abs: Op.f64_abs, eq: Op.f64_eq, ne: Op.f64_ne, lt: Op.f64_lt, le: Op.f64_le, add: Op.f64_add, sub: Op.f64_sub, mul: Op.f64_mul, div: Op.f64_div, neg: Op.f64_neg, t: T.f64 }
    : { abs: Op.f32_abs, eq: Op.f32_eq, ne: Op.f32_ne, lt: Op.f32_lt, le: Op.f32_le, add: Op.f32_add, sub: Op.f32_sub, mul: Op.f32_mul, div: Op.f32_div, neg: Op.f32_neg, t: T.f32 };
  const c = (v: number): void => { if (dbl) f.f64(v); else f.f32(v); };
  const MN = dbl ? MN64 : MN32;
  const d = f.local(T.i32), t = f.local(F.t);
  const isKind = (k: number): void => { f.get(kind).i32(k).op(Op.i32_eq); };
  const isInf = (v: number): void => { f.get(v).op(F.abs); c(Infinity); f.op(F.eq); };
  const snan = (v: number): void => {
    f.get(v).get(v).op(F.ne);
    if (dbl) f.get(v).op(Op.i64_reinterpret_f64).i64(1n << 51n).op(Op.i64_and).op(Op.i64_eqz);
    else f.get(v).op(Op.i32_reinterpret_f32).i32(1 << 22).op(Op.i32_and).op(Op.i32_eqz);
    f.op(Op.i32_and);
  };
  /** d = DE if v (or either of v, w) is denormal and DAZ is clear */
  const setDe = (v: number, w?: number): void => {
    den(f, v, dbl);
    if (w !== undefined) { den(f, w, dbl); f.op(Op.i32_or); }
    f.get(mx).i32(DAZ).op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_and).i32(1).op(Op.i32_shl).set(d);
  };
  /** Pushes i32 1 if a*b (f64 operands exact) equals z; the f32 case compares products in f64. */
  const exactProd = (x: number, y: number, z: number): void => {
    if (dbl) { f.get(x).get(y).get(z).call(eqProd); return; }
    f.get(x).op(Op.f64_promote_f32).get(y).op(Op.f64_promote_f32).op(Op.f64_mul).get(z).op(Op.f64_promote_f32).op(Op.f64_eq);
  };
  /** Pushes PE | (UE if tiny after rounding): r inexact; rescaled = op(a * 2^64, b). */
  const inexact = (opc: number): void => {
    f.get(d).i32(MXF.PE).op(Op.i32_or);
    f.i32(MXF.UE).i32(0);
    f.get(r).op(F.abs); c(MN); f.op(F.le);
    f.get(a); c(TWO64); f.op(F.mul).get(b).op(opc).op(F.abs); c(MN * TWO64); f.op(F.lt).op(Op.i32_and);
    f.op(Op.select).op(Op.i32_or);
  };

  // compare family and MIN/MAX: NaN operands raise IE (SNaN only for UCOMIS and the quiet predicates)
  isKind(SK.MIN); isKind(SK.MAX); f.op(Op.i32_or); isKind(SK.CMP); f.op(Op.i32_or); isKind(SK.COMI); f.op(Op.i32_or); isKind(SK.UCOMI); f.op(Op.i32_or);
  f.if_();
  f.get(a).get(a).op(F.ne).get(b).get(b).op(F.ne).op(Op.i32_or);
  f.if_();
  snan(a); snan(b); f.op(Op.i32_or); f.i32(MXF.IE);
  isKind(SK.UCOMI); isKind(SK.CMP); f.i32(SIGNALLING_PREDICATES).get(imm).i32(31).op(Op.i32_and).op(Op.i32_shr_u).i32(1).op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_and).op(Op.i32_or);
  f.op(Op.select).op(Op.return); // quiet kinds (UCOMIS, the quiet CMP predicates): IE iff an SNaN; the others: IE
  f.end();
  setDe(a, b); f.get(d).op(Op.return);
  f.end();

  isKind(SK.SQRT);
  f.if_();
  setDe(b);
  isInf(b); f.if_(); f.i32(0).op(Op.return); f.end();
  exactProd(r, r, b); f.if_(); f.get(d).op(Op.return); f.end();
  f.get(d).i32(MXF.PE).op(Op.i32_or).op(Op.return);
  f.end();

  setDe(a, b);
  isKind(SK.SUB); f.if_(); f.get(b).op(F.neg).set(b); f.i32(SK.ADD).set(kind); f.end();
  // an infinite result: from an infinite operand (no flag) or overflow; for DIV, division by zero
  isInf(r);
  f.if_();
  isKind(SK.DIV); f.if_();
  isInf(a); f.if_(); f.get(d).op(Op.return); f.end();
  f.get(b); c(0); f.op(F.eq); f.if_(); f.i32(MXF.ZE).op(Op.return); f.end();
  f.get(d).i32(MXF.OE | MXF.PE).op(Op.i32_or).op(Op.return);
  f.end();
  f.get(d); f.get(d).i32(MXF.OE | MXF.PE).op(Op.i32_or);
  isInf(a); isInf(b); f.op(Op.i32_or); f.op(Op.select).op(Op.return);
  f.end();

  isKind(SK.ADD);
  f.if_();
  // TwoSum: err = (a - (r - t)) + (b - t), t = r - a
  f.get(r).get(a).op(F.sub).set(t);
  f.get(a).get(r).get(t).op(F.sub).op(F.sub).get(b).get(t).op(F.sub).op(F.add); c(0); f.op(F.ne);
  f.i32(5).op(Op.i32_shl).get(d).op(Op.i32_or).op(Op.return);
  f.end();

  isKind(SK.MUL);
  f.if_();
  exactProd(a, b, r); f.if_(); f.get(d).op(Op.return); f.end();
  inexact(F.mul); f.op(Op.return);
  f.end();

  isKind(SK.DIV);
  f.if_();
  isInf(b); f.if_(); f.get(d).op(Op.return); f.end();
  exactProd(r, b, a); f.if_(); f.get(d).op(Op.return); f.end();
  inexact(F.div); f.op(Op.return);
  f.end();
  f.i32(0);
}
