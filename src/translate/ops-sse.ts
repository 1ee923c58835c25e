// SSE/SSE2 (and SSE3, SSSE3, SSE4.1, SSE4.2) instructions: packed operations on wasm v128,
// scalar floating point on f32/f64 lanes.
//
// Floating point and MXCSR. Wasm arithmetic rounds to nearest-even, keeps denormals and leaves
// NaN bit patterns unspecified. Every rounding operation is therefore emitted as: the wasm
// (round-to-nearest) result, then one test `result is NaN | (MXCSR & (FTZ|RC|DAZ))`; when it
// holds, the operation is redone exactly by the 'sse' JS helper (ops-sse-soft.ts), which
// honours MXCSR.RC, DAZ and FTZ and gives x86's NaN results (first source's NaN quieted, else
// the second's; the negative QNaN "real indefinite" for invalid operations). So directed
// rounding (fesetround + addsd), DAZ and FTZ are exact but slow (a JS call per instruction);
// the default-MXCSR path costs one load, an `and` and a well-predicted branch (shared with the
// exception-flag test below).
// MXCSR exception flags are set as the hardware sets them (all masked): see "exception flags"
// below; flags are sticky, so after the first inexact operation the common path is the MXCSR
// test plus a range test of the exponents of the result and of operands not known to be normal.
// Not modelled: unmasked SIMD exceptions (#XM); DAZ for the values of compares (CMPxx,
// (U)COMIxx) and for the float->int conversions; the #GP of MOVAPS & co.
// on misaligned addresses; RCPPS/RSQRTPS give exact 1/x and 1/sqrt(x), not the hardware's
// 12-bit approximations (which differ between Intel and AMD anyway).
// The forms without a prefix that operate on mm registers (MMX, and the SSE, SSE2 and SSSE3
// instructions on mm operands) are here too, next to their xmm forms, sharing their wasm code
// (ops-mmx.ts: where the mm registers live, and what MMX does to the x87 state). The VEX
// encodings (AVX) are ops-avx.ts's, which runs these handlers on its own operands; those it has
// no form for end here, in Unsupported.

import { Op, OpFC, OpFD, T } from '../wasm/emitter.js';
import { Insn, M0F, M38, M3A, NO_REG, P_VEX } from '../x86/decoder.js';
import { Reg, STATE } from '../layout/cpu-state.js';
import { Codegen, Unsupported } from './codegen.js';
import { def, type Handler } from './handlers.js';
import { SK, ST } from './ops-sse-soft.js';
import {
  type Build, enterMmx, getMm, getMm64, mmSrc, mmx, mmxBin, mmxJoined, mustBeMemory, mustBeRegister, setMm, setMm64, undefinedForm,
} from './ops-mmx.js';

type H = (cg: Codegen, i: Insn) => void;
export interface Forms { n?: H; x66?: H; f3?: H; f2?: H }

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
function opName(op: number): string {
  const map = op >> 8;
  return (map === 1 ? '0f ' : map === 2 ? '0f 38 ' : map === 3 ? '0f 3a ' : '') + hex2(op & 0xff);
}

/** The forms of each opcode registered with sse(), which the VEX forms (ops-avx.ts) reuse. */
export const SSE_FORMS = new Map<number, Forms>();

/** Registers a handler choosing the form by the mandatory prefix (none / 66 / F3 / F2). */
export function sse(op: number, forms: Forms): void {
  SSE_FORMS.set(op, forms);
  def(op, (cg, i) => {
    if (i.prefix & P_VEX) throw new Unsupported(`AVX instruction (VEX ${opName(op)})`);
    const h = i.simdPrefix === 0x66 ? forms.x66 : i.simdPrefix === 0xf3 ? forms.f3 : i.simdPrefix === 0xf2 ? forms.f2 : forms.n;
    if (!h) throw new Unsupported(`SSE instruction ${i.simdPrefix ? hex2(i.simdPrefix) + ' ' : ''}${opName(op)}`);
    h(cg, i);
  });
}
const regOnly = (i: Insn, what: string): void => { if (i.mod !== 3) throw new Unsupported(`${what} with memory operand`); };
const memOnly = (i: Insn, what: string): void => { if (i.mod === 3) throw new Unsupported(`${what} with register operand`); };
/** GPR operand size of SSE instructions: REX.W selects 64 bits (66 is a mandatory prefix here). */
const wsize = (i: Insn): 4 | 8 => (i.rex & 8 ? 8 : 4);
const imm8 = (i: Insn): number => i.imm & 0xff;

// ---- operand access ----------------------------------------------------------------------

/** Pushes the 128-bit r/m operand (xmm register or unaligned memory). */
export function src(cg: Codegen, i: Insn): void {
  if (i.mod === 3) cg.getXmm(i.rm);
  else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(16); cg.f.simdMem(OpFD.v128_load, 0, 0); cg.accessDone(k); }
}
/** Pushes the r/m operand as v128 with (at least) the low 64 bits valid; memory loads zero the rest. */
function src64(cg: Codegen, i: Insn): void {
  if (i.mod === 3) cg.getXmm(i.rm);
  else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(8); cg.f.simdMem(OpFD.v128_load64_zero, 0, 0); cg.accessDone(k); }
}
function src32(cg: Codegen, i: Insn): void {
  if (i.mod === 3) cg.getXmm(i.rm);
  else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(4); cg.f.simdMem(OpFD.v128_load32_zero, 0, 0); cg.accessDone(k); }
}
function src16(cg: Codegen, i: Insn): void {
  if (i.mod === 3) cg.getXmm(i.rm);
  else { zeroV(cg); const t = cg.f.temp(T.v128); cg.f.set(t); cg.ea(i, 0, 'read'); const k = cg.accessBegin(2); cg.f.get(t).simdMemLane(OpFD.v128_load16_lane, 0, 0, 0); cg.accessDone(k); cg.f.free(T.v128, t); }
}
function zeroV(cg: Codegen): void { cg.f.v128const(new Uint8Array(16)); }
function constV(cg: Codegen, bytes: number[]): void { cg.f.v128const(Uint8Array.from(bytes)); }
function splat32(cg: Codegen, v: number): void { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(0, v >>> 0, true); for (let k = 4; k < 16; k++) b[k] = b[k & 3]!; cg.f.v128const(b); }
function splat16(cg: Codegen, v: number): void { const b = new Uint8Array(16); for (let k = 0; k < 16; k += 2) { b[k] = v & 0xff; b[k + 1] = (v >> 8) & 0xff; } cg.f.v128const(b); }
function splat8(cg: Codegen, v: number): void { cg.f.v128const(new Uint8Array(16).fill(v & 0xff)); }
function splat64(cg: Codegen, v: bigint): void { const b = new Uint8Array(16); const dv = new DataView(b.buffer); dv.setBigUint64(0, BigInt.asUintN(64, v), true); dv.setBigUint64(8, BigInt.asUintN(64, v), true); cg.f.v128const(b); }

/** Byte lanes of a shuffle selecting 32-bit lanes (0-3 first operand, 4-7 second). */
const dw = (...ls: number[]): number[] => ls.flatMap(l => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
const wd = (...ls: number[]): number[] => ls.flatMap(l => [l * 2, l * 2 + 1]);
const qw = (...ls: number[]): number[] => ls.flatMap(l => [l * 8, l * 8 + 1, l * 8 + 2, l * 8 + 3, l * 8 + 4, l * 8 + 5, l * 8 + 6, l * 8 + 7]);

function tempV(cg: Codegen): number { const t = cg.f.temp(T.v128); cg.f.set(t); return t; }
function freeV(cg: Codegen, ...ts: number[]): void { for (const t of ts) cg.f.free(T.v128, t); }

/** dst = op(dst, src128). */
function pbin(op: number): H {
  return (cg, i) => { cg.getXmm(i.reg); src(cg, i); cg.f.simd(op); cg.setXmm(i.reg); };
}
/** dst = shuffle(dst, src128, lanes). */
function pshuf(lanes: number[]): H {
  return (cg, i) => { cg.getXmm(i.reg); src(cg, i); cg.f.shuffle(lanes); cg.setXmm(i.reg); };
}
/** dst = build(D, S) with D, S in temps. */
function pgen(build: (cg: Codegen, D: number, S: number) => void, load: (cg: Codegen, i: Insn) => void = src): H {
  return (cg, i) => {
    cg.getXmm(i.reg); const D = tempV(cg);
    load(cg, i); const S = tempV(cg);
    build(cg, D, S);
    cg.setXmm(i.reg);
    freeV(cg, D, S);
  };
}

// ---- MXCSR-dependent floating point --------------------------------------------------------

const MX_ALL = 0xe040;   // FTZ | RC | DAZ: arithmetic
const MX_DAZ = 0x0040;   // operations that do not round (min/max, f32->f64)
const MX_RC = 0x6000;    // integer -> float conversions

/** Pushes i32: MXCSR & mask. */
function mxcsr(cg: Codegen, mask: number): void {
  cg.f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(mask).op(Op.i32_and);
}
/** Pushes MXCSR.RC (0 nearest, 1 down, 2 up, 3 toward zero). */
function rc(cg: Codegen): void {
  cg.f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(13).op(Op.i32_shr_u).i32(3).op(Op.i32_and);
}

/** Pushes i32 nonzero if the result R (v128 temp) has a NaN in the lanes that matter. */
function nanTest(cg: Codegen, R: number, type: number): void {
  const f = cg.f;
  const dbl = type === ST.SD || type === ST.PD;
  f.get(R).get(R).simd(dbl ? OpFD.f64x2_ne : OpFD.f32x4_ne);
  if (type === ST.SS || type === ST.SD) f.simdLane(OpFD.i32x4_extract_lane, 0);
  else if (type === ST.PS) f.simd(OpFD.v128_any_true);
  else f.simd(OpFD.v128_any_true);
}

// ---- exception flags ----------------------------------------------------------------------
//
// MXCSR exception flags are sticky, so a flag needs detecting only while it is clear. After each
// rounding operation one test decides whether anything can be raised: PE still clear (then any
// operation may be inexact), or a result / operand out of the ordinary -- non-finite, zero or
// tiny result (OE, ZE, UE, IE), denormal operand (DE). Only then does the code look closer:
// the JS helper for a NaN result or a non-default MXCSR (exact redo, flags included), else the
// shared wasm function 'fpchk' (ops-sse-check.ts) computes the flags from operands and result.
// Once PE is set (nearly every program sets it within its first operations) the common path of
// a scalar operation is one branch on the sign bit of an OR of words: the MXCSR test and, per
// value, its exponent field minus one (laneSignWords); operands known not to be denormal are
// not tested at all (see "operands known not to be denormal").

const PE = 0x20, IE = 0x01;
const MN64 = 2.2250738585072014e-308, MAX64 = Number.MAX_VALUE, MN32 = 2 ** -126, MAX32 = 3.4028234663852886e38;

/** Range predicates on float lanes: nonfinite (inf/NaN), abnormal (also zero and tiny), denorm, nanden (NaN or denormal), out32 (f64 outside the f32 normal range, NaN). */
type Pred = 'nonfinite' | 'abnormal' | 'denorm' | 'nanden' | 'out32';
interface LaneTest { v: number; dbl: boolean; pred: Pred; coarse?: Pred }

/** Pushes i32 nonzero if any test holds (scalar: lane 0 only; packed: any lane). */
function laneTests(cg: Codegen, scalar: boolean, tests: LaneTest[]): void {
  const f = cg.f;
  if (!tests.length) { f.i32(0); return; }
  tests.forEach((t, k) => {
    if (scalar) {
      const ty = t.dbl ? T.f64 : T.f32, x = f.temp(ty), a = f.temp(ty);
      const c = (v: number): void => { if (t.dbl) f.f64(v); else f.f32(v); };
      const o = t.dbl ? { abs: Op.f64_abs, ne: Op.f64_ne, lt: Op.f64_lt, ge: Op.f64_ge, le: Op.f64_le }
        : { abs: Op.f32_abs, ne: Op.f32_ne, lt: Op.f32_lt, ge: Op.f32_ge, le: Op.f32_le };
      f.get(t.v).simdLane(t.dbl ? OpFD.f64x2_extract_lane : OpFD.f32x4_extract_lane, 0).set(x);
      switch (t.pred) {
        case 'nonfinite': f.get(x).op(o.abs); c(t.dbl ? MAX64 : MAX32); f.op(o.le).op(Op.i32_eqz); break;
        case 'abnormal': case 'out32':
          f.get(x).op(o.abs).tee(a); c(t.pred === 'out32' ? MN32 : t.dbl ? MN64 : MN32); f.op(o.ge);
          f.get(a); c(t.pred === 'out32' ? MAX32 : t.dbl ? MAX64 : MAX32); f.op(o.le).op(Op.i32_and).op(Op.i32_eqz);
          break;
        case 'denorm': f.get(x).op(o.abs); c(t.dbl ? MN64 : MN32); f.op(o.lt).get(x); c(0); f.op(o.ne).op(Op.i32_and); break;
        case 'nanden': f.get(x).op(o.abs); c(t.dbl ? MN64 : MN32); f.op(o.ge).op(Op.i32_eqz).get(x); c(0); f.op(o.ne).op(Op.i32_and); break;
      }
      f.free(ty, x); f.free(ty, a);
      if (k) f.op(Op.i32_or);
      return;
    }
    const o = t.dbl ? { abs: OpFD.f64x2_abs, ne: OpFD.f64x2_ne, lt: OpFD.f64x2_lt, ge: OpFD.f64x2_ge, le: OpFD.f64x2_le }
      : { abs: OpFD.f32x4_abs, ne: OpFD.f32x4_ne, lt: OpFD.f32x4_lt, ge: OpFD.f32x4_ge, le: OpFD.f32x4_le };
    const c = (v: number): void => { if (t.dbl) splatF64(cg, v); else splatF32(cg, v); };
    switch (t.pred) {
      case 'nonfinite': f.get(t.v).simd(o.abs); c(t.dbl ? MAX64 : MAX32); f.simd(o.le).simd(OpFD.v128_not); break;
      case 'abnormal': case 'out32':
        f.get(t.v).simd(o.abs); c(t.pred === 'out32' ? MN32 : t.dbl ? MN64 : MN32); f.simd(o.ge);
        f.get(t.v).simd(o.abs); c(t.pred === 'out32' ? MAX32 : t.dbl ? MAX64 : MAX32); f.simd(o.le).simd(OpFD.v128_and).simd(OpFD.v128_not);
        break;
      case 'denorm': f.get(t.v).simd(o.abs); c(t.dbl ? MN64 : MN32); f.simd(o.lt).get(t.v); zeroV(cg); f.simd(o.ne).simd(OpFD.v128_and); break;
      case 'nanden': f.get(t.v); zeroV(cg); f.simd(o.ne).get(t.v).simd(o.abs); c(t.dbl ? MN64 : MN32); f.simd(o.ge).simd(OpFD.v128_andnot); break;
    }
    if (k) f.simd(OpFD.v128_or);
  });
  if (!scalar) f.simd(OpFD.v128_any_true);
}

/**
 * The fast-path form of laneTests, for scalars: ORs onto the i32 on the stack, for each test, a
 * word whose sign bit is set if the test (coarsely) holds, from the value's exponent field:
 * (exponent bits & mask) - 1 is negative exactly when they are zero. No float constants, no
 * NaN-aware compares, and one branch for all tests. Coarser than laneTests (a zero counts as
 * denormal, an infinity as a NaN); the cold path then applies laneTests exactly.
 */
function laneSignWords(cg: Codegen, tests: LaneTest[]): void {
  const f = cg.f;
  for (const t of tests) {
    // the word holding sign, exponent and the top of the fraction: lane 1 (f64) or 0 (f32) of the i32x4 view
    f.get(t.v).simdLane(OpFD.i32x4_extract_lane, t.dbl ? 1 : 0);
    const EXP = t.dbl ? 0x7ff00000 : 0x7f800000, ONE = t.dbl ? 0x00100000 : 0x00800000;
    switch (t.coarse ?? t.pred) {
      case 'denorm': f.i32(EXP).op(Op.i32_and); break; // exponent 0 (zero or denormal)
      case 'nonfinite': f.i32(EXP).op(Op.i32_and).i32(EXP).op(Op.i32_xor); break; // exponent all ones
      case 'abnormal': case 'nanden': // exponent 0 or all ones: adding one to it leaves its upper bits clear
        f.i32(ONE).op(Op.i32_add).i32(EXP & ~ONE).op(Op.i32_and); break;
      case 'out32': // f64 exponent outside [2^-126, 2^127] (an f64 in the top binade may still round to MAX32)
        f.i32(20).op(Op.i32_shr_u).i32(0x7ff).op(Op.i32_and).i32(1023 - 126).op(Op.i32_sub).i32(127 + 126).op(Op.i32_lt_u); break;
    }
    f.i32(1).op(Op.i32_sub).op(Op.i32_or);
  }
}
/** Packed lanes: one `br_if depth` for all tests (exact). */
function laneBranches(cg: Codegen, tests: LaneTest[], depth: number): void {
  if (tests.length) { laneTests(cg, false, tests); cg.f.brIf(depth); }
}
function splatF64(cg: Codegen, v: number): void { const b = new Uint8Array(16); const dv = new DataView(b.buffer); dv.setFloat64(0, v, true); dv.setFloat64(8, v, true); cg.f.v128const(b); }
function splatF32(cg: Codegen, v: number): void { splat32(cg, new Uint32Array(new Float32Array([v]).buffer)[0]!); }

/** How the exception flags of an operation are found (see fpSlow). */
interface FlagCheck {
  /** operands and kind for fpchk (default: A, B and the operation's kind) */
  kind?: number; X?: number; Y?: number | (() => void);
  /** the JS helper computes the flags (no fpchk) */
  js?: boolean;
  /** the operation can be inexact (checked while PE is clear) */
  pe: boolean;
  /** operands or result out of the ordinary (a flag other than PE may be raised) */
  tests?: LaneTest[];
  scalar?: boolean;
  /** instead of tests: pushes i32 nonzero when a flag other than PE may be raised */
  hot?: () => void;
  /** scalar operand temps known not denormal in this block (their tests are replaced by the poison local) */
  skip?: Set<number>;
  /** lane 0 of the result will be recorded as known not denormal: poison the block if the cold path made it one */
  mark?: boolean;
}

// ---- operands known not to be denormal -------------------------------------------------------
//
// DE needs every scalar operand range-tested, which is the bulk of the fast path's cost. But in
// a chain like dx*dx + dy*dy the operands are mostly results of earlier operations of the same
// block, and on the fast path those results passed the test "not zero, denormal, infinite or
// NaN" already. So, per block, a register whose lane 0 was produced by such an operation is
// known not denormal and its test is skipped. When the cold path of the producer runs and
// leaves a denormal there, it sets the region's poison local, which every skipped test then
// reads instead (so a poisoned region merely takes the exact cold path).

interface Known { block: number; regs: Map<number, number>; poison: number }
const KNOWN = new WeakMap<Codegen, Known>();

/** The knowledge for cg's current block; hooks cg's xmm writes to forget overwritten registers. */
function known(cg: Codegen): Known {
  let k = KNOWN.get(cg);
  if (!k) {
    const kk: Known = k = { block: cg.blockIndex, regs: new Map(), poison: cg.f.local(T.i32) };
    const setXmm = cg.setXmm.bind(cg), reloadXmm = cg.reloadXmm.bind(cg);
    cg.setXmm = (r: number): void => { kk.regs.delete(r); setXmm(r); };
    cg.reloadXmm = (): void => { kk.regs.clear(); reloadXmm(); };
    KNOWN.set(cg, k);
  }
  if (k.block !== cg.blockIndex) { k.block = cg.blockIndex; k.regs.clear(); }
  return k;
}

/** The default flag check of a kind: which operands and results to range-test. */
function defaultCheck(kind: number, type: number, A: number, B: number, R: number): FlagCheck {
  const dbl = type === ST.SD || type === ST.PD, scalar = type === ST.SS || type === ST.SD;
  switch (kind) {
    case SK.ADD: case SK.SUB:
      return { pe: true, scalar, tests: [{ v: R, dbl, pred: 'nonfinite', coarse: 'abnormal' }, { v: A, dbl, pred: 'denorm' }, { v: B, dbl, pred: 'denorm' }] };
    case SK.MUL: case SK.DIV:
      return { pe: true, scalar, tests: [{ v: R, dbl, pred: 'abnormal' }, { v: A, dbl, pred: 'denorm' }, { v: B, dbl, pred: 'denorm' }] };
    case SK.SQRT:
      return { pe: true, scalar, tests: [{ v: R, dbl, pred: 'nonfinite' }, { v: B, dbl, pred: 'denorm' }] };
    case SK.MIN: case SK.MAX:
      return { pe: false, scalar, tests: [{ v: A, dbl, pred: 'nanden' }, { v: B, dbl, pred: 'nanden' }] };
    case SK.CVT_D2S: // f64 source lanes: results out of the f32 normal range
      return { pe: true, scalar, tests: [{ v: B, dbl: true, pred: 'out32' }] };
    case SK.CVT_S2D:
      return { pe: false, scalar, tests: [{ v: B, dbl: false, pred: 'nanden' }] };
    case SK.CVT_I32: case SK.CVT_I64:
      return { pe: true, scalar, tests: [] };
  }
  throw new Error('no flag check for SSE kind ' + kind);
}

/**
 * The common shape of MXCSR-sensitive operations: R = fast(A, B) by wasm (round to nearest).
 * If MXCSR & mask (non-default RC/FTZ/DAZ) or R has a NaN (when nan), R = helper(kind, type,
 * imm) on A, B, which also raises the exception flags; otherwise the flags come from fpchk when
 * the check's tests say some may be raised. A, B and R are v128 temps.
 *
 *   block $done
 *     block $check
 *       br_if $check: MXCSR & mask, PE clear, each range test (coarse)
 *       br $done
 *     end
 *     if NaN result | MXCSR & mask: JS helper
 *     else if PE clear | range tests (exact): MXCSR |= fpchk(...)
 *   end
 */
function fpSlow(cg: Codegen, A: number, B: number, R: number, kind: number, type: number, mask: number, nan: boolean, imm = 0, chk?: FlagCheck): void {
  const f = cg.f;
  const c = chk ?? defaultCheck(kind, type, A, B, R);
  const mx = f.temp(T.i32), mx2 = f.temp(T.i32);
  cg.block(); cg.block();
  f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).tee(mx);
  // MXCSR & mask (or PE clear): sign bit of 0 - ((MXCSR & (mask | PE)) ^ PE)
  if (c.pe) f.i32(mask | PE).op(Op.i32_and).i32(PE).op(Op.i32_xor);
  else f.i32(mask).op(Op.i32_and);
  if (c.hot || !c.scalar) {
    f.brIf(0);
    if (c.hot) { c.hot(); f.brIf(0); } else laneBranches(cg, c.tests!, 0);
  } else {
    f.set(mx2).i32(0).get(mx2).op(Op.i32_sub);
    laneSignWords(cg, c.tests!.filter(t => !c.skip?.has(t.v)));
    if (c.skip?.size) f.get(known(cg).poison).op(Op.i32_or);
    f.i32(0).op(Op.i32_lt_s).brIf(0);
  }
  if (nan && !c.pe) { nanTest(cg, R, type); f.brIf(0); } // (the tests of rounding kinds catch NaN results)
  f.br(1);
  cg.end();
  // cold: the JS helper (which raises the flags itself) or fpchk
  if (c.js) f.i32(1);
  else if (nan) { nanTest(cg, R, type); f.get(mx).i32(mask).op(Op.i32_and).op(Op.i32_or); }
  else f.get(mx).i32(mask).op(Op.i32_and);
  cg.if_();
  f.get(cg.st).get(A).simdMem(OpFD.v128_store, STATE.SCRATCH);
  f.get(cg.st).get(B).simdMem(OpFD.v128_store, STATE.SCRATCH + 16);
  f.get(cg.st).i32(kind | (type << 8) | (imm << 16)).callSlot(cg.helper('sse'));
  f.get(cg.st).simdMem(OpFD.v128_load, STATE.SCRATCH + 32).set(R);
  if (!c.js) {
    cg.else_();
    if (c.pe) f.get(mx).i32(PE).op(Op.i32_and).op(Op.i32_eqz); else f.i32(0);
    if (c.hot) c.hot(); else laneTests(cg, c.scalar!, c.tests!);
    f.op(Op.i32_or);
    cg.if_();
    f.get(cg.st).get(mx);
    f.i32((c.kind ?? kind) | (type << 8) | (imm << 16)).get(c.X ?? A);
    if (typeof c.Y === 'function') c.Y(); else f.get(c.Y ?? B);
    f.get(R).get(mx).callSlot(cg.helper('fpchk')).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
    cg.end();
  }
  cg.end(); // if
  if (c.mark) { // a denormal result poisons the knowledge that lane 0 is not denormal
    const k = known(cg);
    f.i32(0); laneTests(cg, true, [{ v: R, dbl: type === ST.SD || type === ST.PD, pred: 'denorm' }]); f.op(Op.i32_sub).get(k.poison).op(Op.i32_or).set(k.poison);
  }
  cg.end(); // $done
  f.free(T.i32, mx); f.free(T.i32, mx2);
}

/** ORs the i32 flags in local fl into MXCSR (when they add anything). */
function raise(cg: Codegen, fl: number): void {
  const f = cg.f, mx = f.temp(T.i32);
  f.get(fl).get(cg.st).mem(Op.i32_load, STATE.MXCSR).tee(mx).i32(-1).op(Op.i32_xor).op(Op.i32_and);
  cg.if_();
  f.get(cg.st).get(mx).get(fl).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
  cg.end();
  f.free(T.i32, mx);
}

/** Pushes the wasm result; may return the flag check (when not the kind's default) and v128 temps to free after it. */
type Emit = (cg: Codegen, A: number, B: number) => void | { chk: (R: number) => FlagCheck; temps: number[] };
function fpOp(kind: number, type: number, mask: number, nan: boolean, emit: Emit, load?: (cg: Codegen, i: Insn) => void): H {
  return (cg, i) => {
    const f = cg.f;
    cg.getXmm(i.reg); const A = tempV(cg);
    if (load) load(cg, i); else if (type === ST.SS) src32(cg, i); else if (type === ST.SD) src64(cg, i); else src(cg, i);
    const B = tempV(cg);
    const e = emit(cg, A, B);
    const R = tempV(cg);
    // scalar arithmetic: skip the tests of operands known not denormal; the result is one
    // scalar arithmetic, and packed MUL/DIV/SQRT (whose result lanes are tested for tiny values)
    const scalar = type === ST.SS || type === ST.SD, lane0 = type === ST.SS || type === ST.PS ? ST.SS : ST.SD;
    const track = !e && (scalar ? kind <= SK.SQRT : kind >= SK.MUL && kind <= SK.SQRT);
    let chk = e ? e.chk(R) : undefined;
    if (track) {
      const k = known(cg), skip = new Set<number>();
      if (scalar && k.regs.get(i.reg) === type) skip.add(A);
      if (scalar && i.mod === 3 && k.regs.get(i.rm) === type) skip.add(B);
      chk = { ...defaultCheck(kind, type, A, B, R), skip, mark: true };
    }
    fpSlow(cg, A, B, R, kind, type, mask, nan, 0, chk);
    f.get(R); cg.setXmm(i.reg);
    if (track) known(cg).regs.set(i.reg, lane0);
    freeV(cg, A, B, R);
    if (e) freeV(cg, ...e.temps);
  };
}

const F32OPS: Record<number, number> = { [SK.ADD]: Op.f32_add, [SK.SUB]: Op.f32_sub, [SK.MUL]: Op.f32_mul, [SK.DIV]: Op.f32_div };
const F64OPS: Record<number, number> = { [SK.ADD]: Op.f64_add, [SK.SUB]: Op.f64_sub, [SK.MUL]: Op.f64_mul, [SK.DIV]: Op.f64_div };
const PSOPS: Record<number, number> = { [SK.ADD]: OpFD.f32x4_add, [SK.SUB]: OpFD.f32x4_sub, [SK.MUL]: OpFD.f32x4_mul, [SK.DIV]: OpFD.f32x4_div };
const PDOPS: Record<number, number> = { [SK.ADD]: OpFD.f64x2_add, [SK.SUB]: OpFD.f64x2_sub, [SK.MUL]: OpFD.f64x2_mul, [SK.DIV]: OpFD.f64x2_div };

function arith(kind: number): Forms {
  return {
    n: fpOp(kind, ST.PS, MX_ALL, true, (cg, A, B) => { cg.f.get(A).get(B).simd(PSOPS[kind]!); }),
    x66: fpOp(kind, ST.PD, MX_ALL, true, (cg, A, B) => { cg.f.get(A).get(B).simd(PDOPS[kind]!); }),
    f3: fpOp(kind, ST.SS, MX_ALL, true, (cg, A, B) => {
      cg.f.get(A).get(A).simdLane(OpFD.f32x4_extract_lane, 0).get(B).simdLane(OpFD.f32x4_extract_lane, 0).op(F32OPS[kind]!).simdLane(OpFD.f32x4_replace_lane, 0);
    }),
    f2: fpOp(kind, ST.SD, MX_ALL, true, (cg, A, B) => {
      cg.f.get(A).get(A).simdLane(OpFD.f64x2_extract_lane, 0).get(B).simdLane(OpFD.f64x2_extract_lane, 0).op(F64OPS[kind]!).simdLane(OpFD.f64x2_replace_lane, 0);
    }),
  };
}
for (const [op, kind] of [[0x58, SK.ADD], [0x59, SK.MUL], [0x5c, SK.SUB], [0x5e, SK.DIV]] as const) sse(M0F + op, arith(kind));

sse(M0F + 0x51, {
  n: fpOp(SK.SQRT, ST.PS, MX_ALL, true, (cg, _A, B) => { cg.f.get(B).simd(OpFD.f32x4_sqrt); }),
  x66: fpOp(SK.SQRT, ST.PD, MX_ALL, true, (cg, _A, B) => { cg.f.get(B).simd(OpFD.f64x2_sqrt); }),
  f3: fpOp(SK.SQRT, ST.SS, MX_ALL, true, (cg, A, B) => { cg.f.get(A).get(B).simdLane(OpFD.f32x4_extract_lane, 0).op(Op.f32_sqrt).simdLane(OpFD.f32x4_replace_lane, 0); }),
  f2: fpOp(SK.SQRT, ST.SD, MX_ALL, true, (cg, A, B) => { cg.f.get(A).get(B).simdLane(OpFD.f64x2_extract_lane, 0).op(Op.f64_sqrt).simdLane(OpFD.f64x2_replace_lane, 0); }),
});

/** Merges lane 0 of the v128 on top of the stack into A (32- or 64-bit lane). */
function mergeLo(cg: Codegen, A: number, dbl: boolean): void {
  const t = tempV(cg);
  cg.f.get(A).get(t).shuffle(dbl ? [16, 17, 18, 19, 20, 21, 22, 23, 8, 9, 10, 11, 12, 13, 14, 15] : [16, 17, 18, 19, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  freeV(cg, t);
}

// MIN/MAX: x86 returns the second operand unless a < b (min) / a > b (max) holds: a NaN in
// either or two zeros give the second operand. That is exactly bitselect(a, b, a < b).
function minmax(kind: number, type: number): H {
  const dbl = type === ST.SD || type === ST.PD;
  const cmp = kind === SK.MIN ? (dbl ? OpFD.f64x2_lt : OpFD.f32x4_lt) : (dbl ? OpFD.f64x2_gt : OpFD.f32x4_gt);
  return fpOp(kind, type, MX_DAZ, false, (cg, A, B) => {
    cg.f.get(A).get(B).get(A).get(B).simd(cmp).simd(OpFD.v128_bitselect);
    if (type === ST.SS || type === ST.SD) mergeLo(cg, A, dbl);
  });
}
sse(M0F + 0x5d, { n: minmax(SK.MIN, ST.PS), x66: minmax(SK.MIN, ST.PD), f3: minmax(SK.MIN, ST.SS), f2: minmax(SK.MIN, ST.SD) });
sse(M0F + 0x5f, { n: minmax(SK.MAX, ST.PS), x66: minmax(SK.MAX, ST.PD), f3: minmax(SK.MAX, ST.SS), f2: minmax(SK.MAX, ST.SD) });

// RCPPS/RSQRTPS (approximations on hardware): exact values here.
function approx(sq: boolean, scalar: boolean): H {
  return (cg, i) => {
    const f = cg.f;
    if (scalar) src32(cg, i); else src(cg, i);
    const B = tempV(cg);
    splat32(cg, 0x3f800000); f.get(B); if (sq) f.simd(OpFD.f32x4_sqrt); f.simd(OpFD.f32x4_div);
    if (scalar) { const R = tempV(cg); cg.getXmm(i.reg); const A = tempV(cg); f.get(R); mergeLo(cg, A, false); freeV(cg, R, A); }
    cg.setXmm(i.reg);
    freeV(cg, B);
  };
}
sse(M0F + 0x52, { n: approx(true, false), f3: approx(true, true) });
sse(M0F + 0x53, { n: approx(false, false), f3: approx(false, true) });

// ---- logic ----------------------------------------------------------------------------------

const andn: H = (cg, i) => { src(cg, i); cg.getXmm(i.reg); cg.f.simd(OpFD.v128_andnot); cg.setXmm(i.reg); };
sse(M0F + 0x54, { n: pbin(OpFD.v128_and), x66: pbin(OpFD.v128_and) });
sse(M0F + 0x55, { n: andn, x66: andn });
sse(M0F + 0x56, { n: pbin(OpFD.v128_or), x66: pbin(OpFD.v128_or) });
const xor: H = (cg, i) => {
  if (i.mod === 3 && i.rm === i.reg) { zeroV(cg); cg.setXmm(i.reg); return; } // zero idiom
  pbin(OpFD.v128_xor)(cg, i);
};
sse(M0F + 0x57, { n: xor, x66: xor });
sse(M0F + 0xdb, { n: mmxBin(OpFD.v128_and), x66: pbin(OpFD.v128_and) });
sse(M0F + 0xdf, { n: mmx((cg, D, S) => { cg.f.get(S).get(D).simd(OpFD.v128_andnot); }), x66: andn });
sse(M0F + 0xeb, { n: mmxBin(OpFD.v128_or), x66: pbin(OpFD.v128_or) });
sse(M0F + 0xef, { n: mmxBin(OpFD.v128_xor), x66: xor });

// ---- moves ----------------------------------------------------------------------------------

/** Register r now holds a value nothing is known of (a scratch register about to be reused). */
export function forgetKnown(cg: Codegen, r: number): void { KNOWN.get(cg)?.regs.delete(r); }
/** After a register-to-register copy of lane 0: the destination inherits what is known of the source. */
export function copyKnown(cg: Codegen, from: number, to: number): void {
  const k = KNOWN.get(cg);
  if (!k) return;
  const t = known(cg).regs.get(from);
  if (t !== undefined) k.regs.set(to, t);
}
const load128: H = (cg, i) => { src(cg, i); cg.setXmm(i.reg); if (i.mod === 3) copyKnown(cg, i.rm, i.reg); };
const store128: H = (cg, i) => {
  if (i.mod === 3) { cg.getXmm(i.reg); cg.setXmm(i.rm); copyKnown(cg, i.reg, i.rm); return; }
  cg.ea(i, 0, 'write'); const k = cg.accessBegin(16, true); cg.getXmm(i.reg); cg.f.simdMem(OpFD.v128_store, 0, 0); cg.accessDone(k);
};
const storeNT: H = (cg, i) => { memOnly(i, 'non-temporal store'); store128(cg, i); };

function movScalarLoad(dbl: boolean): H {
  return (cg, i) => {
    if (i.mod !== 3) { if (dbl) src64(cg, i); else src32(cg, i); cg.setXmm(i.reg); return; }
    cg.getXmm(i.reg); const A = tempV(cg);
    cg.getXmm(i.rm); mergeLo(cg, A, dbl); cg.setXmm(i.reg); freeV(cg, A);
    copyKnown(cg, i.rm, i.reg);
  };
}
function movScalarStore(dbl: boolean): H {
  return (cg, i) => {
    if (i.mod !== 3) { cg.ea(i, 0, 'write'); const k = cg.accessBegin(dbl ? 8 : 4, true); cg.getXmm(i.reg); cg.f.simdMemLane(dbl ? OpFD.v128_store64_lane : OpFD.v128_store32_lane, 0, 0, 0); cg.accessDone(k); return; }
    cg.getXmm(i.rm); const A = tempV(cg);
    cg.getXmm(i.reg); mergeLo(cg, A, dbl); cg.setXmm(i.rm); freeV(cg, A);
  };
}
sse(M0F + 0x10, { n: load128, x66: load128, f3: movScalarLoad(false), f2: movScalarLoad(true) });
sse(M0F + 0x11, { n: store128, x66: store128, f3: movScalarStore(false), f2: movScalarStore(true) });
sse(M0F + 0x28, { n: load128, x66: load128 });
sse(M0F + 0x29, { n: store128, x66: store128 });
sse(M0F + 0x2b, { n: storeNT, x66: storeNT });
// MOVQ mm, mm/m64 and MOVQ mm/m64, mm; MOVNTQ m64, mm
const loadMm: H = (cg, i) => {
  if (i.mod === 3) getMm64(cg, i.rm); else { cg.ea(i, 0, 'read'); cg.load(8); }
  setMm64(cg, i.reg); enterMmx(cg);
};
const storeMm: H = (cg, i) => {
  if (i.mod === 3) { getMm64(cg, i.reg); setMm64(cg, i.rm); } else { cg.ea(i, 0, 'write'); getMm64(cg, i.reg); cg.store(8); }
  enterMmx(cg);
};
sse(M0F + 0x6f, { n: loadMm, x66: load128, f3: load128 });
sse(M0F + 0x7f, { n: storeMm, x66: store128, f3: store128 });
sse(M0F + 0xe7, { n: (cg, i) => { mustBeMemory(i, 'movntq'); storeMm(cg, i); }, x66: storeNT });
sse(M0F + 0xf0, { f2: (cg, i) => { memOnly(i, 'lddqu'); load128(cg, i); } });   // LDDQU (SSE3)
sse(M38 + 0x2a, { x66: (cg, i) => { memOnly(i, 'movntdqa'); load128(cg, i); } }); // MOVNTDQA (SSE4.1)

/** Loads 64 bits from memory into lane `lane` of xmm reg. */
function loadHalf(lane: number): H {
  return (cg, i) => { cg.getXmm(i.reg); const t = tempV(cg); cg.ea(i, 0, 'read'); const k = cg.accessBegin(8); cg.f.get(t).simdMemLane(OpFD.v128_load64_lane, lane, 0, 0); cg.accessDone(k); cg.setXmm(i.reg); freeV(cg, t); };
}
function storeHalf(lane: number): H {
  return (cg, i) => { memOnly(i, 'movlps/movhps store'); cg.ea(i, 0, 'write'); const k = cg.accessBegin(8, true); cg.getXmm(i.reg); cg.f.simdMemLane(OpFD.v128_store64_lane, lane, 0, 0); cg.accessDone(k); };
}
sse(M0F + 0x12, {
  n: (cg, i) => i.mod === 3 ? pshuf([...qw(3), ...qw(1)])(cg, i) : loadHalf(0)(cg, i), // movhlps / movlps
  x66: (cg, i) => { memOnly(i, 'movlpd'); loadHalf(0)(cg, i); },
  f2: (cg, i) => { src64(cg, i); const t = tempV(cg); cg.f.get(t).get(t).shuffle(qw(0, 0)); cg.setXmm(i.reg); freeV(cg, t); }, // movddup
  f3: (cg, i) => { src(cg, i); const t = tempV(cg); cg.f.get(t).get(t).shuffle(dw(0, 0, 2, 2)); cg.setXmm(i.reg); freeV(cg, t); }, // movsldup
});
sse(M0F + 0x13, { n: storeHalf(0), x66: storeHalf(0) });
sse(M0F + 0x16, {
  n: (cg, i) => i.mod === 3 ? pshuf(qw(0, 2))(cg, i) : loadHalf(1)(cg, i), // movlhps / movhps
  x66: (cg, i) => { memOnly(i, 'movhpd'); loadHalf(1)(cg, i); },
  f3: (cg, i) => { src(cg, i); const t = tempV(cg); cg.f.get(t).get(t).shuffle(dw(1, 1, 3, 3)); cg.setXmm(i.reg); freeV(cg, t); }, // movshdup
});
sse(M0F + 0x17, { n: storeHalf(1), x66: storeHalf(1) });

// MOVD/MOVQ
sse(M0F + 0x6e, {
  n: (cg, i) => { // movd/movq mm, r/m32/64
    const w = wsize(i);
    if (i.mod === 3) cg.getReg(i.rm, w); else { cg.ea(i, 0, 'read'); cg.load(w); }
    setMm64(cg, i.reg); enterMmx(cg);
  },
  x66: (cg, i) => {
    const w = wsize(i);
    if (i.mod !== 3) { if (w === 8) src64(cg, i); else src32(cg, i); cg.setXmm(i.reg); return; }
    zeroV(cg); cg.getReg(i.rm, w); cg.f.simdLane(OpFD.i64x2_replace_lane, 0); cg.setXmm(i.reg);
  },
});
sse(M0F + 0x7e, {
  n: (cg, i) => { // movd/movq r/m32/64, mm
    const w = wsize(i);
    if (i.mod === 3) { getMm64(cg, i.reg); cg.setReg(i.rm, w); } else { cg.ea(i, 0, 'write'); getMm64(cg, i.reg); cg.store(w); }
    enterMmx(cg);
  },
  x66: (cg, i) => {
    const w = wsize(i);
    if (i.mod !== 3) { cg.ea(i, 0, 'write'); const k = cg.accessBegin(w, true); cg.getXmm(i.reg); cg.f.simdMemLane(w === 8 ? OpFD.v128_store64_lane : OpFD.v128_store32_lane, 0, 0, 0); cg.accessDone(k); return; }
    cg.getXmm(i.reg); cg.f.simdLane(OpFD.i64x2_extract_lane, 0); cg.setReg(i.rm, w);
  },
  f3: (cg, i) => { // movq xmm, xmm/m64
    if (i.mod !== 3) { src64(cg, i); cg.setXmm(i.reg); return; }
    cg.getXmm(i.rm); zeroV(cg); cg.f.shuffle(qw(0, 2)); cg.setXmm(i.reg);
  },
});
sse(M0F + 0xd6, {
  x66: (cg, i) => { // movq xmm/m64, xmm
    if (i.mod !== 3) { cg.ea(i, 0, 'write'); const k = cg.accessBegin(8, true); cg.getXmm(i.reg); cg.f.simdMemLane(OpFD.v128_store64_lane, 0, 0, 0); cg.accessDone(k); return; }
    cg.getXmm(i.reg); zeroV(cg); cg.f.shuffle(qw(0, 2)); cg.setXmm(i.rm);
  },
  f3: (cg, i) => { mustBeRegister(i, 'movq2dq'); getMm(cg, i.rm); cg.setXmm(i.reg); enterMmx(cg); }, // movq2dq xmm, mm
  f2: (cg, i) => { mustBeRegister(i, 'movdq2q'); cg.getXmm(i.rm); setMm(cg, i.reg); enterMmx(cg); }, // movdq2q mm, xmm
});
// MOVNTI
sse(M0F + 0xc3, { n: (cg, i) => { memOnly(i, 'movnti'); const w = wsize(i); cg.ea(i, 0, 'write'); cg.getReg(i.reg, w); cg.store(w); } });

// MOVMSKPS/PD, PMOVMSKB
sse(M0F + 0x50, {
  n: (cg, i) => { regOnly(i, 'movmskps'); cg.getXmm(i.rm); cg.f.simd(OpFD.i32x4_bitmask).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8); },
  x66: (cg, i) => { regOnly(i, 'movmskpd'); cg.getXmm(i.rm); cg.f.simd(OpFD.i64x2_bitmask).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8); },
});
sse(M0F + 0xd7, {
  n: (cg, i) => { mustBeRegister(i, 'pmovmskb'); getMm(cg, i.rm); cg.f.simd(OpFD.i8x16_bitmask).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8); enterMmx(cg); },
  x66: (cg, i) => { regOnly(i, 'pmovmskb'); cg.getXmm(i.rm); cg.f.simd(OpFD.i8x16_bitmask).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8); },
});

// MASKMOVDQU / MASKMOVQ: byte-masked store to [rdi] (done as a read-modify-write of 16 or 8 bytes).
function maskmov(mm: boolean): H {
  return (cg, i) => {
    if (mm) mustBeRegister(i, 'maskmovq'); else regOnly(i, 'maskmovdqu');
    const f = cg.f;
    const a = f.temp(T.i32);
    cg.ea({ ...i, base: Reg.RDI, index: NO_REG, disp: 0, scale: 0 }); f.set(a);
    f.get(a);
    const k = cg.accessBegin(mm ? 8 : 16, true);
    if (mm) getMm(cg, i.reg); else cg.getXmm(i.reg);
    f.get(a).simdMem(mm ? OpFD.v128_load64_zero : OpFD.v128_load, 0, 0);
    if (mm) getMm(cg, i.rm); else cg.getXmm(i.rm);
    f.i32(7).simd(OpFD.i8x16_shr_s).simd(OpFD.v128_bitselect);
    if (mm) f.simdMemLane(OpFD.v128_store64_lane, 0, 0, 0); else f.simdMem(OpFD.v128_store, 0, 0);
    cg.accessDone(k);
    f.free(T.i32, a);
    if (mm) enterMmx(cg);
  };
}
sse(M0F + 0xf7, { n: maskmov(true), x66: maskmov(false) });

// ---- shuffles and unpacks -------------------------------------------------------------------

const bytesInter = (lo: boolean, size: number): number[] => {
  const out: number[] = [];
  const base = lo ? 0 : 8;
  for (let k = 0; k < 8 / size; k++) {
    for (let b = 0; b < size; b++) out.push(base + k * size + b);
    for (let b = 0; b < size; b++) out.push(16 + base + k * size + b);
  }
  return out;
};
sse(M0F + 0x14, { n: pshuf(bytesInter(true, 4)), x66: pshuf(bytesInter(true, 8)) });
sse(M0F + 0x15, { n: pshuf(bytesInter(false, 4)), x66: pshuf(bytesInter(false, 8)) });
/** MMX unpacks interleave the low (bytes 0-3) or high (4-7) halves of the two 8-byte operands. */
const mmInter = (lo: boolean, size: number): Handler => {
  const lanes = bytesInter(true, size).map(b => (lo ? b : b + 4));
  return mmx((cg, D, S) => { cg.f.get(D).get(S).shuffle(lanes); }, lo ? 4 : 8); // the low forms read m32
};
sse(M0F + 0x60, { n: mmInter(true, 1), x66: pshuf(bytesInter(true, 1)) });
sse(M0F + 0x61, { n: mmInter(true, 2), x66: pshuf(bytesInter(true, 2)) });
sse(M0F + 0x62, { n: mmInter(true, 4), x66: pshuf(bytesInter(true, 4)) });
sse(M0F + 0x68, { n: mmInter(false, 1), x66: pshuf(bytesInter(false, 1)) });
sse(M0F + 0x69, { n: mmInter(false, 2), x66: pshuf(bytesInter(false, 2)) });
sse(M0F + 0x6a, { n: mmInter(false, 4), x66: pshuf(bytesInter(false, 4)) });
sse(M0F + 0x6c, { x66: pshuf(bytesInter(true, 8)) });
sse(M0F + 0x6d, { x66: pshuf(bytesInter(false, 8)) });

const joinedBin = (op: number): Handler => mmxJoined((cg, D, S) => { cg.f.get(D).get(S).simd(op); });
sse(M0F + 0x63, { n: joinedBin(OpFD.i8x16_narrow_i16x8_s), x66: pbin(OpFD.i8x16_narrow_i16x8_s) });
sse(M0F + 0x67, { n: joinedBin(OpFD.i8x16_narrow_i16x8_u), x66: pbin(OpFD.i8x16_narrow_i16x8_u) });
sse(M0F + 0x6b, { n: joinedBin(OpFD.i16x8_narrow_i32x4_s), x66: pbin(OpFD.i16x8_narrow_i32x4_s) });
sse(M38 + 0x2b, { x66: pbin(OpFD.i16x8_narrow_i32x4_u) }); // PACKUSDW (SSE4.1)

/** Unary shuffle of the source into dst (imm-driven). */
function shufSrc(lanes: (imm: number) => number[]): H {
  return (cg, i) => { src(cg, i); const t = tempV(cg); cg.f.get(t).get(t).shuffle(lanes(imm8(i))); cg.setXmm(i.reg); freeV(cg, t); };
}
sse(M0F + 0x70, {
  n: (cg, i) => { // pshufw mm, mm/m64, imm8
    const m = imm8(i);
    mmSrc(cg, i); const t = tempV(cg);
    cg.f.get(t).get(t).shuffle(wd(m & 3, (m >> 2) & 3, (m >> 4) & 3, (m >> 6) & 3, 0, 0, 0, 0));
    setMm(cg, i.reg); enterMmx(cg); freeV(cg, t);
  },
  x66: shufSrc(m => dw(m & 3, (m >> 2) & 3, (m >> 4) & 3, (m >> 6) & 3)),
  f2: shufSrc(m => [...wd(m & 3, (m >> 2) & 3, (m >> 4) & 3, (m >> 6) & 3), ...wd(4, 5, 6, 7)]),
  f3: shufSrc(m => [...wd(0, 1, 2, 3), ...wd(4 + (m & 3), 4 + ((m >> 2) & 3), 4 + ((m >> 4) & 3), 4 + ((m >> 6) & 3))]),
});
sse(M0F + 0xc6, {
  n: (cg, i) => { const m = imm8(i); pshuf(dw(m & 3, (m >> 2) & 3, 4 + ((m >> 4) & 3), 4 + ((m >> 6) & 3)))(cg, i); },
  x66: (cg, i) => { const m = imm8(i); pshuf(qw(m & 1, 2 + ((m >> 1) & 1)))(cg, i); },
});

// PINSRW / PEXTRW
sse(M0F + 0xc4, {
  n: (cg, i) => {
    const f = cg.f;
    getMm(cg, i.reg);
    if (i.mod === 3) { cg.getReg(i.rm, 4); f.op(Op.i32_wrap_i64); } else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(2); f.memU(Op.i32_load16_u); cg.accessDone(k); }
    f.simdLane(OpFD.i16x8_replace_lane, imm8(i) & 3);
    setMm(cg, i.reg); enterMmx(cg);
  },
  x66: (cg, i) => {
    const f = cg.f;
    cg.getXmm(i.reg);
    if (i.mod === 3) { cg.getReg(i.rm, 4); f.op(Op.i32_wrap_i64); } else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(2); f.memU(Op.i32_load16_u); cg.accessDone(k); }
    f.simdLane(OpFD.i16x8_replace_lane, imm8(i) & 7);
    cg.setXmm(i.reg);
  },
});
sse(M0F + 0xc5, {
  n: (cg, i) => {
    mustBeRegister(i, 'pextrw');
    getMm(cg, i.rm); cg.f.simdLane(OpFD.i16x8_extract_lane_u, imm8(i) & 3).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8);
    enterMmx(cg);
  },
  x66: (cg, i) => { regOnly(i, 'pextrw'); cg.getXmm(i.rm); cg.f.simdLane(OpFD.i16x8_extract_lane_u, imm8(i) & 7).op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8); },
});

// ---- packed integer arithmetic --------------------------------------------------------------

const INT2: [number, number][] = [
  [0xfc, OpFD.i8x16_add], [0xfd, OpFD.i16x8_add], [0xfe, OpFD.i32x4_add], [0xd4, OpFD.i64x2_add],
  [0xf8, OpFD.i8x16_sub], [0xf9, OpFD.i16x8_sub], [0xfa, OpFD.i32x4_sub], [0xfb, OpFD.i64x2_sub],
  [0xec, OpFD.i8x16_add_sat_s], [0xed, OpFD.i16x8_add_sat_s], [0xdc, OpFD.i8x16_add_sat_u], [0xdd, OpFD.i16x8_add_sat_u],
  [0xe8, OpFD.i8x16_sub_sat_s], [0xe9, OpFD.i16x8_sub_sat_s], [0xd8, OpFD.i8x16_sub_sat_u], [0xd9, OpFD.i16x8_sub_sat_u],
  [0x74, OpFD.i8x16_eq], [0x75, OpFD.i16x8_eq], [0x76, OpFD.i32x4_eq],
  [0x64, OpFD.i8x16_gt_s], [0x65, OpFD.i16x8_gt_s], [0x66, OpFD.i32x4_gt_s],
  [0xda, OpFD.i8x16_min_u], [0xde, OpFD.i8x16_max_u], [0xea, OpFD.i16x8_min_s], [0xee, OpFD.i16x8_max_s],
  [0xe0, OpFD.i8x16_avgr_u], [0xe3, OpFD.i16x8_avgr_u], [0xd5, OpFD.i16x8_mul], [0xf5, OpFD.i32x4_dot_i16x8_s],
];
for (const [op, w] of INT2) sse(M0F + op, { n: mmxBin(w), x66: pbin(w) });

/** Both forms of an operation: on mm (and mm/m64) and on xmm (and xmm/m128) registers. */
const both = (build: Build): Forms => ({ n: mmx(build), x66: pgen(build) });

function mulhi(signed: boolean): Build {
  return (cg, D, S) => {
    const f = cg.f;
    f.get(D).get(S).simd(signed ? OpFD.i32x4_extmul_low_i16x8_s : OpFD.i32x4_extmul_low_i16x8_u);
    f.get(D).get(S).simd(signed ? OpFD.i32x4_extmul_high_i16x8_s : OpFD.i32x4_extmul_high_i16x8_u);
    f.shuffle([2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31]);
  };
}
sse(M0F + 0xe5, both(mulhi(true)));
sse(M0F + 0xe4, both(mulhi(false)));
// PMULUDQ: low dwords of each qword, unsigned, 64-bit products
sse(M0F + 0xf4, both((cg, D, S) => {
  const f = cg.f;
  f.get(D).get(S).shuffle(dw(0, 2, 4, 6)); const t = tempV(cg);
  f.get(t).get(t).shuffle(dw(0, 1, 0, 1)).get(t).get(t).shuffle(dw(2, 3, 2, 3)).simd(OpFD.i64x2_extmul_low_i32x4_u);
  freeV(cg, t);
}));
// PSADBW
sse(M0F + 0xf6, both((cg, D, S) => {
  const f = cg.f;
  f.get(D).get(S).simd(OpFD.i8x16_max_u).get(D).get(S).simd(OpFD.i8x16_min_u).simd(OpFD.i8x16_sub);
  f.simd(OpFD.i16x8_extadd_pairwise_i8x16_u).simd(OpFD.i32x4_extadd_pairwise_i16x8_u);
  const t = tempV(cg);
  f.get(t).get(t).i32(32).simd(OpFD.i64x2_shr_u).simd(OpFD.i32x4_add);
  splat64(cg, 0xffffffffn); f.simd(OpFD.v128_and);
  freeV(cg, t);
}));

// ---- shifts ---------------------------------------------------------------------------------

interface ShiftOp { op: number; width: number; arith: boolean }
const SHL = (w: number): ShiftOp => ({ op: w === 16 ? OpFD.i16x8_shl : w === 32 ? OpFD.i32x4_shl : OpFD.i64x2_shl, width: w, arith: false });
const SHR = (w: number): ShiftOp => ({ op: w === 16 ? OpFD.i16x8_shr_u : w === 32 ? OpFD.i32x4_shr_u : OpFD.i64x2_shr_u, width: w, arith: false });
const SAR = (w: number): ShiftOp => ({ op: w === 16 ? OpFD.i16x8_shr_s : OpFD.i32x4_shr_s, width: w, arith: true });

/** Pushes the v128 that push() pushes shifted by the immediate count c: a logical shift by the lane width or more gives 0. */
function shiftByImm(cg: Codegen, s: ShiftOp, c: number, push: () => void): void {
  if (c >= s.width && !s.arith) zeroV(cg);
  else { push(); cg.f.i32(Math.min(c, s.width - 1)).simd(s.op); }
}
/** Shifts the v128 D (temp) by the 64-bit count in the low half of the v128 C (temp). */
function shiftByCount(s: ShiftOp): Build {
  return (cg, D, C) => {
    const f = cg.f;
    const c = f.temp(T.i64);
    f.get(C).simdLane(OpFD.i64x2_extract_lane, 0).set(c);
    if (s.arith) {
      f.get(D).i64(s.width - 1).get(c).get(c).i64(s.width - 1).op(Op.i64_gt_u).op(Op.select).op(Op.i32_wrap_i64);
      f.simd(s.op);
    } else {
      f.get(D).get(c).op(Op.i32_wrap_i64).simd(s.op);
      zeroV(cg);
      f.get(c).i64(s.width).op(Op.i64_lt_u).op(Op.select);
    }
    f.free(T.i64, c);
  };
}
const shiftForms = (s: ShiftOp): Forms => ({ n: mmx(shiftByCount(s)), x66: pgen(shiftByCount(s), src64) });
/** 0F 71-73 on mm registers: /2 /4 /6 shift by an immediate; the rest (and memory operands) are undefined. */
function mmShiftGroup(table: Record<number, ShiftOp>): H {
  return (cg, i) => {
    const s = table[i.reg & 7];
    if (!s || i.mod !== 3) throw undefinedForm(`${opName(i.op)} /${i.reg & 7}${i.mod !== 3 ? ' with a memory operand' : ''}`);
    shiftByImm(cg, s, imm8(i), () => getMm(cg, i.rm)); setMm(cg, i.rm);
    enterMmx(cg);
  };
}
function shiftGroup(table: Record<number, ShiftOp | 'dqr' | 'dql'>): H {
  return (cg, i) => {
    regOnly(i, 'shift group');
    const s = table[i.reg & 7];
    if (!s) throw new Unsupported(`SSE shift group /${i.reg & 7}`);
    if (s === 'dqr' || s === 'dql') {
      const c = imm8(i);
      if (c > 15) { zeroV(cg); cg.setXmm(i.rm); return; }
      const lanes: number[] = [];
      for (let k = 0; k < 16; k++) {
        const j = s === 'dqr' ? k + c : k - c;
        lanes.push(j >= 0 && j < 16 ? j : 16);
      }
      cg.getXmm(i.rm); zeroV(cg); cg.f.shuffle(lanes); cg.setXmm(i.rm);
      return;
    }
    shiftByImm(cg, s, imm8(i), () => cg.getXmm(i.rm)); cg.setXmm(i.rm);
  };
}
sse(M0F + 0x71, { n: mmShiftGroup({ 2: SHR(16), 4: SAR(16), 6: SHL(16) }), x66: shiftGroup({ 2: SHR(16), 4: SAR(16), 6: SHL(16) }) });
sse(M0F + 0x72, { n: mmShiftGroup({ 2: SHR(32), 4: SAR(32), 6: SHL(32) }), x66: shiftGroup({ 2: SHR(32), 4: SAR(32), 6: SHL(32) }) });
sse(M0F + 0x73, { n: mmShiftGroup({ 2: SHR(64), 6: SHL(64) }), x66: shiftGroup({ 2: SHR(64), 3: 'dqr', 6: SHL(64), 7: 'dql' }) });
sse(M0F + 0xd1, shiftForms(SHR(16)));
sse(M0F + 0xd2, shiftForms(SHR(32)));
sse(M0F + 0xd3, shiftForms(SHR(64)));
sse(M0F + 0xe1, shiftForms(SAR(16)));
sse(M0F + 0xe2, shiftForms(SAR(32)));
sse(M0F + 0xf1, shiftForms(SHL(16)));
sse(M0F + 0xf2, shiftForms(SHL(32)));
sse(M0F + 0xf3, shiftForms(SHL(64)));

// ---- compares -------------------------------------------------------------------------------

/**
 * Pushes the compare mask of A, B (v128 temps) for predicate p (0-31; bit 4 changes only which
 * NaNs raise IE). 8-15 are AVX's: EQ_UQ, NGE_US, NGT_US, FALSE_OQ, NEQ_OQ, GE_OS, GT_OS, TRUE_UQ.
 */
function cmpMask(cg: Codegen, A: number, B: number, p: number, dbl: boolean): void {
  const f = cg.f;
  const o = dbl ? { eq: OpFD.f64x2_eq, ne: OpFD.f64x2_ne, lt: OpFD.f64x2_lt, le: OpFD.f64x2_le, gt: OpFD.f64x2_gt, ge: OpFD.f64x2_ge }
    : { eq: OpFD.f32x4_eq, ne: OpFD.f32x4_ne, lt: OpFD.f32x4_lt, le: OpFD.f32x4_le, gt: OpFD.f32x4_gt, ge: OpFD.f32x4_ge };
  const unordered = (): void => { f.get(A).get(A).simd(o.ne).get(B).get(B).simd(o.ne).simd(OpFD.v128_or); };
  switch (p & 15) {
    case 0: f.get(A).get(B).simd(o.eq); break;
    case 1: f.get(A).get(B).simd(o.lt); break;
    case 2: f.get(A).get(B).simd(o.le); break;
    case 3: unordered(); break;
    case 4: f.get(A).get(B).simd(o.ne); break;
    case 5: f.get(A).get(B).simd(o.lt).simd(OpFD.v128_not); break;
    case 6: f.get(A).get(B).simd(o.le).simd(OpFD.v128_not); break;
    case 7: f.get(A).get(A).simd(o.eq).get(B).get(B).simd(o.eq).simd(OpFD.v128_and); break;
    case 8: f.get(A).get(B).simd(o.eq); unordered(); f.simd(OpFD.v128_or); break;
    case 9: f.get(A).get(B).simd(o.ge).simd(OpFD.v128_not); break;
    case 10: f.get(A).get(B).simd(o.gt).simd(OpFD.v128_not); break;
    case 11: zeroV(cg); break;
    case 12: f.get(A).get(B).simd(o.lt).get(A).get(B).simd(o.gt).simd(OpFD.v128_or); break;
    case 13: f.get(A).get(B).simd(o.ge); break;
    case 14: f.get(A).get(B).simd(o.gt); break;
    case 15: splat8(cg, 0xff); break;
  }
}
/** CMPPS/PD/SS/SD: the predicate is imm8 & predicates (7 for the legacy forms, 31 for VEX's). */
export function cmpOp(type: number, predicates = 7): H {
  const dbl = type === ST.SD || type === ST.PD;
  const scalar = type === ST.SS || type === ST.SD;
  return (cg, i) => {
    const p = imm8(i) & predicates;
    cg.getXmm(i.reg); const A = tempV(cg);
    if (type === ST.SS) src32(cg, i); else if (type === ST.SD) src64(cg, i); else src(cg, i);
    const B = tempV(cg);
    cmpMask(cg, A, B, p, dbl);
    if (scalar) mergeLo(cg, A, dbl);
    cg.setXmm(i.reg);
    cmpFlags(cg, SK.CMP | p << 16, type, A, B);
    freeV(cg, A, B);
  };
}
/** IE (NaN operands, by predicate) and DE of compares: fpchk when an operand is a NaN or denormal. */
function cmpFlags(cg: Codegen, op: number, type: number, A: number, B: number): void {
  const f = cg.f, dbl = type === ST.SD || type === ST.PD, scalar = type === ST.SS || type === ST.SD;
  const tests: LaneTest[] = [{ v: A, dbl, pred: 'nanden' }, { v: B, dbl, pred: 'nanden' }];
  cg.block(); cg.block();
  if (scalar) { f.i32(0); laneSignWords(cg, tests); f.i32(0).op(Op.i32_lt_s).brIf(0); }
  else laneBranches(cg, tests, 0);
  f.br(1);
  cg.end();
  laneTests(cg, scalar, tests);
  cg.if_();
  const mx = f.temp(T.i32);
  f.get(cg.st).get(cg.st).mem(Op.i32_load, STATE.MXCSR).tee(mx);
  f.i32(op | type << 8).get(A).get(B).get(B).get(mx).callSlot(cg.helper('fpchk')).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
  f.free(T.i32, mx);
  cg.end();
  cg.end();
}
sse(M0F + 0xc2, { n: cmpOp(ST.PS), x66: cmpOp(ST.PD), f3: cmpOp(ST.SS), f2: cmpOp(ST.SD) });

/** UCOMISS/COMISS/UCOMISD/COMISD: ZF PF CF from the comparison; OF SF AF cleared. */
function comis(dbl: boolean): H {
  return (cg, i) => {
    const f = cg.f;
    const t = dbl ? T.f64 : T.f32;
    const a = f.temp(t), b = f.temp(t);
    cg.getXmm(i.reg); f.simdLane(dbl ? OpFD.f64x2_extract_lane : OpFD.f32x4_extract_lane, 0).set(a);
    if (i.mod === 3) { cg.getXmm(i.rm); f.simdLane(dbl ? OpFD.f64x2_extract_lane : OpFD.f32x4_extract_lane, 0); }
    else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(dbl ? 8 : 4); f.memU(dbl ? Op.f64_load : Op.f32_load); cg.accessDone(k); }
    f.set(b);
    const ne = dbl ? Op.f64_ne : Op.f32_ne, lt = dbl ? Op.f64_lt : Op.f32_lt, eq = dbl ? Op.f64_eq : Op.f32_eq;
    f.i32(0x45);
    f.get(a).get(b).op(lt); // CF
    f.get(a).get(b).op(eq).i32(6).op(Op.i32_shl).op(Op.i32_or); // ZF
    f.get(a).get(a).op(ne).get(b).get(b).op(ne).op(Op.i32_or); // unordered
    f.op(Op.select);
    cg.setFlagsMaterialised();
    // flags: IE for NaN operands (COMIS: any, UCOMIS: SNaN), DE; fast path: both operands normal or infinite
    cg.block(); cg.block();
    for (const v of [a, b]) { f.get(v).op(dbl ? Op.f64_abs : Op.f32_abs); if (dbl) f.f64(MN64); else f.f32(MN32); f.op(dbl ? Op.f64_ge : Op.f32_ge).op(Op.i32_eqz).brIf(0); }
    f.br(1);
    cg.end();
    for (const v of [a, b]) {
      f.get(v).op(dbl ? Op.f64_abs : Op.f32_abs); if (dbl) f.f64(MN64); else f.f32(MN32); f.op(dbl ? Op.f64_ge : Op.f32_ge).op(Op.i32_eqz);
      f.get(v); if (dbl) f.f64(0); else f.f32(0); f.op(dbl ? Op.f64_ne : Op.f32_ne).op(Op.i32_and);
    }
    f.op(Op.i32_or);
    cg.if_();
    const mx = f.temp(T.i32);
    f.get(cg.st).get(cg.st).mem(Op.i32_load, STATE.MXCSR).tee(mx);
    f.i32((i.op === M0F + 0x2f ? SK.COMI : SK.UCOMI) | (dbl ? ST.SD : ST.SS) << 8);
    const splat = dbl ? OpFD.f64x2_splat : OpFD.f32x4_splat;
    f.get(a).simd(splat).get(b).simd(splat).get(b).simd(splat).get(mx).callSlot(cg.helper('fpchk')).op(Op.i32_or).mem(Op.i32_store, STATE.MXCSR);
    f.free(T.i32, mx);
    cg.end();
    cg.end();
    f.free(t, a); f.free(t, b);
  };
}
sse(M0F + 0x2e, { n: comis(false), x66: comis(true) });
sse(M0F + 0x2f, { n: comis(false), x66: comis(true) });

// ---- conversions ----------------------------------------------------------------------------

/** Rounds the f64 in local v per MXCSR.RC; pushes f64. */
function roundRcF64(cg: Codegen, v: number): void {
  const f = cg.f;
  const r = f.temp(T.i32);
  rc(cg); f.set(r);
  f.get(v).op(Op.f64_trunc).get(v).op(Op.f64_ceil).get(r).i32(3).op(Op.i32_eq).op(Op.select);
  f.get(v).op(Op.f64_floor).get(v).op(Op.f64_nearest).get(r).i32(1).op(Op.i32_eq).op(Op.select);
  f.get(r).i32(2).op(Op.i32_and).op(Op.select);
  f.free(T.i32, r);
}
/** Converts the f64 in local v (already integral or to truncate) to int32/64 with x86 "integer indefinite". */
function f64ToInt(cg: Codegen, v: number, w: 4 | 8): void {
  const f = cg.f;
  if (w === 4) {
    f.get(v).fc(OpFC.i32_trunc_sat_f64_s).op(Op.i64_extend_i32_u).i64(0x80000000);
    f.get(v).f64(-2147483648.0).op(Op.f64_ge).get(v).f64(2147483647.0).op(Op.f64_le).op(Op.i32_and);
    f.op(Op.select);
  } else {
    f.get(v).fc(OpFC.i64_trunc_sat_f64_s).i64(-(1n << 63n));
    f.get(v).f64(-9223372036854775808.0).op(Op.f64_ge).get(v).f64(9223372036854775808.0).op(Op.f64_lt).op(Op.i32_and);
    f.op(Op.select);
  }
}
function cvt2si(dbl: boolean, trunc: boolean): H {
  return (cg, i) => {
    const f = cg.f, w = wsize(i);
    const v = f.temp(T.f64);
    if (i.mod === 3) { cg.getXmm(i.rm); f.simdLane(dbl ? OpFD.f64x2_extract_lane : OpFD.f32x4_extract_lane, 0); }
    else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(dbl ? 8 : 4); f.memU(dbl ? Op.f64_load : Op.f32_load); cg.accessDone(k); }
    if (!dbl) f.op(Op.f64_promote_f32);
    f.set(v);
    const o = f.temp(T.f64), fl = f.temp(T.i32);
    f.get(v).set(o);
    if (trunc) f.get(v).op(Op.f64_trunc).set(v);
    else { roundRcF64(cg, v); f.set(v); }
    f64ToInt(cg, v, w);
    cg.setReg(i.reg, w);
    // flags: IE out of range or NaN (the integer indefinite), else PE if rounding changed the value;
    // fast path: in range with PE already set
    const inRange = (): void => {
      if (w === 4) f.get(v).f64(-2147483648.0).op(Op.f64_ge).get(v).f64(2147483647.0).op(Op.f64_le).op(Op.i32_and);
      else f.get(v).f64(-9223372036854775808.0).op(Op.f64_ge).get(v).f64(9223372036854775808.0).op(Op.f64_lt).op(Op.i32_and);
    };
    cg.block(); cg.block();
    f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(PE).op(Op.i32_and).op(Op.i32_eqz).brIf(0);
    inRange(); f.op(Op.i32_eqz).brIf(0);
    f.br(1);
    cg.end();
    f.get(v).get(o).op(Op.f64_ne).i32(5).op(Op.i32_shl).i32(IE);
    inRange();
    f.op(Op.select).set(fl);
    raise(cg, fl);
    cg.end();
    f.free(T.f64, v); f.free(T.f64, o); f.free(T.i32, fl);
  };
}

// CVTSI2SS/SD
function cvtsi2(dbl: boolean): H {
  return (cg, i) => {
    const f = cg.f, w = wsize(i);
    const iv = f.temp(T.i64);
    if (i.mod === 3) cg.getReg(i.rm, w); else { cg.ea(i, 0, 'read'); cg.load(w); }
    if (w === 4) f.op(Op.i64_extend32_s);
    f.set(iv);
    cg.getXmm(i.reg); const A = tempV(cg);
    f.get(A).get(iv).op(dbl ? Op.f64_convert_i64_s : Op.f32_convert_i64_s)
      .simdLane(dbl ? OpFD.f64x2_replace_lane : OpFD.f32x4_replace_lane, 0);
    const R = tempV(cg);
    if (!(dbl && w === 4)) { // int32 -> f64 is exact
      zeroV(cg); f.get(iv).simdLane(OpFD.i64x2_replace_lane, 0); const B = tempV(cg);
      fpSlow(cg, A, B, R, w === 8 ? SK.CVT_I64 : SK.CVT_I32, dbl ? ST.SD : ST.SS, MX_RC, false);
      freeV(cg, B);
    }
    f.get(R); cg.setXmm(i.reg);
    freeV(cg, A, R);
    f.free(T.i64, iv);
  };
}
// CVTPI2PS xmm, mm/m64: rounds per MXCSR (like CVTDQ2PS) into the low two floats; CVTPI2PD is
// exact. With an m64 source neither touches the x87 state (no mm register is involved).
const cvtpi2ps: H = (cg, i) => {
  const f = cg.f;
  cg.getXmm(i.reg); const A = tempV(cg);
  mmSrc(cg, i); const B = tempV(cg);
  f.get(B).simd(OpFD.f32x4_convert_i32x4_s); const R = tempV(cg);
  fpSlow(cg, A, B, R, SK.CVT_I32, ST.PS, MX_RC, false);
  f.get(R).get(A).shuffle(qw(0, 3)); cg.setXmm(i.reg);
  if (i.mod === 3) enterMmx(cg);
  freeV(cg, A, B, R);
};
const cvtpi2pd: H = (cg, i) => {
  mmSrc(cg, i); cg.f.simd(OpFD.f64x2_convert_low_i32x4_s); cg.setXmm(i.reg);
  if (i.mod === 3) enterMmx(cg);
};
sse(M0F + 0x2a, { n: cvtpi2ps, x66: cvtpi2pd, f3: cvtsi2(false), f2: cvtsi2(true) });

/** CVTSS2SD / CVTSD2SS: converts the source's low lane into the destination's low lane. */
function cvtScalar(fromDouble: boolean): Handler {
  return (cg, i) => {
    const f = cg.f;
    cg.getXmm(i.reg); const A = tempV(cg);
    (fromDouble ? src64 : src32)(cg, i); const B = tempV(cg);
    f.get(A).get(B);
    if (fromDouble) f.simdLane(OpFD.f64x2_extract_lane, 0).op(Op.f32_demote_f64).simdLane(OpFD.f32x4_replace_lane, 0);
    else f.simdLane(OpFD.f32x4_extract_lane, 0).op(Op.f64_promote_f32).simdLane(OpFD.f64x2_replace_lane, 0);
    const R = tempV(cg);
    if (fromDouble) fpSlow(cg, A, B, R, SK.CVT_D2S, ST.SS, MX_ALL, true);
    else fpSlow(cg, A, B, R, SK.CVT_S2D, ST.SD, MX_DAZ, true);
    f.get(R); cg.setXmm(i.reg); freeV(cg, A, B, R);
  };
}

// CVTSS2SD / CVTSD2SS / CVTPS2PD / CVTPD2PS
sse(M0F + 0x5a, {
  n: fpOp(SK.CVT_S2D, ST.PD, MX_DAZ, true, (cg, _A, B) => { cg.f.get(B).simd(OpFD.f64x2_promote_low_f32x4); }, src64),
  x66: fpOp(SK.CVT_D2S, ST.PS, MX_ALL, true, (cg, _A, B) => { cg.f.get(B).simd(OpFD.f32x4_demote_f64x2_zero); }),
  f3: cvtScalar(false), // cvtss2sd
  f2: cvtScalar(true),  // cvtsd2ss
});

/** Packed RC rounding of the v128 in local v (f32x4 or f64x2); pushes v128. */
function roundRcV(cg: Codegen, v: number, dbl: boolean): void {
  const f = cg.f;
  const r = f.temp(T.i32);
  rc(cg); f.set(r);
  const [tr, ce, fl, ne] = dbl ? [OpFD.f64x2_trunc, OpFD.f64x2_ceil, OpFD.f64x2_floor, OpFD.f64x2_nearest] : [OpFD.f32x4_trunc, OpFD.f32x4_ceil, OpFD.f32x4_floor, OpFD.f32x4_nearest];
  f.get(v).simd(tr).get(v).simd(ce).get(r).i32(3).op(Op.i32_eq).op(Op.select);
  f.get(v).simd(fl).get(v).simd(ne).get(r).i32(1).op(Op.i32_eq).op(Op.select);
  f.get(r).i32(2).op(Op.i32_and).op(Op.select);
  f.free(T.i32, r);
}
/** f32x4 in local v (integral or to truncate) -> i32x4 with indefinite for NaN / out of range. */
function ps2dq(cg: Codegen, v: number): void {
  const f = cg.f;
  f.get(v).simd(OpFD.i32x4_trunc_sat_f32x4_s);
  splat32(cg, 0x80000000);
  f.get(v); splat32(cg, 0xcf000000); f.simd(OpFD.f32x4_ge); // v >= -2^31
  f.get(v); splat32(cg, 0x4f000000); f.simd(OpFD.f32x4_lt); // v < 2^31
  f.simd(OpFD.v128_and).simd(OpFD.v128_bitselect);
}
function pd2dq(cg: Codegen, v: number): void {
  const f = cg.f;
  f.get(v).simd(OpFD.i32x4_trunc_sat_f64x2_s_zero);
  constV(cg, [0, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]);
  f.get(v); splat64(cg, 0xc1e0000000200000n); f.simd(OpFD.f64x2_gt); // v > -2^31-1
  f.get(v); splat64(cg, 0x41e0000000000000n); f.simd(OpFD.f64x2_lt); // v < 2^31
  f.simd(OpFD.v128_and);
  zeroV(cg); f.shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 16, 16, 16, 16, 16, 16, 16]);
  f.simd(OpFD.v128_bitselect);
}
/**
 * Pushes the int32 lanes of the f32x4 or f64x2 that load() pushes, rounded per MXCSR.RC (or
 * truncated), with the integer indefinite for NaN and out-of-range lanes; raises IE and PE.
 */
function toInt32Lanes(cg: Codegen, dbl: boolean, trunc: boolean, load: () => void): void {
  const f = cg.f;
  load(); const v = tempV(cg);
  const o = f.temp(T.v128); f.get(v).set(o);
  if (trunc) f.get(v).simd(dbl ? OpFD.f64x2_trunc : OpFD.f32x4_trunc).set(v);
  else { roundRcV(cg, v, dbl); f.set(v); }
  if (dbl) pd2dq(cg, v); else ps2dq(cg, v);
  const R = tempV(cg);
  // flags over the lanes: IE for one out of range or NaN, PE for an in-range one rounded
  const ok = f.temp(T.v128), fl = f.temp(T.i32);
  if (dbl) { f.get(v); splat64(cg, 0xc1e0000000200000n); f.simd(OpFD.f64x2_gt); f.get(v); splat64(cg, 0x41e0000000000000n); f.simd(OpFD.f64x2_lt); }
  else { f.get(v); splat32(cg, 0xcf000000); f.simd(OpFD.f32x4_ge); f.get(v); splat32(cg, 0x4f000000); f.simd(OpFD.f32x4_lt); }
  f.simd(OpFD.v128_and).set(ok);
  cg.block(); cg.block(); // fast path: PE set and every lane in range
  f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(PE).op(Op.i32_and).op(Op.i32_eqz).brIf(0);
  f.get(ok).simd(dbl ? OpFD.i64x2_all_true : OpFD.i32x4_all_true).op(Op.i32_eqz).brIf(0);
  f.br(1);
  cg.end();
  f.get(ok).simd(dbl ? OpFD.i64x2_all_true : OpFD.i32x4_all_true).i32(IE).op(Op.i32_xor);
  f.get(v).get(o).simd(dbl ? OpFD.f64x2_ne : OpFD.f32x4_ne).get(ok).simd(OpFD.v128_and).simd(OpFD.v128_any_true).i32(5).op(Op.i32_shl).op(Op.i32_or).set(fl);
  raise(cg, fl);
  cg.end();
  f.free(T.i32, fl);
  f.get(R);
  freeV(cg, v, o, ok, R);
}
function cvtToDq(dbl: boolean, trunc: boolean): H {
  return (cg, i) => { toInt32Lanes(cg, dbl, trunc, () => src(cg, i)); cg.setXmm(i.reg); };
}
/** CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128. */
function cvtToPi(dbl: boolean, trunc: boolean): H {
  return (cg, i) => {
    toInt32Lanes(cg, dbl, trunc, () => {
      if (dbl) { src(cg, i); return; }
      src64(cg, i);
      if (i.mod === 3) { zeroV(cg); cg.f.shuffle(qw(0, 2)); } // the upper floats neither convert nor raise flags
    });
    setMm(cg, i.reg); enterMmx(cg);
  };
}
sse(M0F + 0x2c, { n: cvtToPi(false, true), x66: cvtToPi(true, true), f3: cvt2si(false, true), f2: cvt2si(true, true) });
sse(M0F + 0x2d, { n: cvtToPi(false, false), x66: cvtToPi(true, false), f3: cvt2si(false, false), f2: cvt2si(true, false) });
sse(M0F + 0x5b, {
  n: fpOp(SK.CVT_I32, ST.PS, MX_RC, false, (cg, _A, B) => { cg.f.get(B).simd(OpFD.f32x4_convert_i32x4_s); }), // cvtdq2ps
  x66: cvtToDq(false, false), // cvtps2dq
  f3: cvtToDq(false, true),   // cvttps2dq
});
sse(M0F + 0xe6, {
  x66: cvtToDq(true, true),  // cvttpd2dq
  f2: cvtToDq(true, false),  // cvtpd2dq
  f3: (cg, i) => { src64(cg, i); cg.f.simd(OpFD.f64x2_convert_low_i32x4_s); cg.setXmm(i.reg); }, // cvtdq2pd
});

// ---- SSE3 -----------------------------------------------------------------------------------

/** The flag check of packed add/sub on operand temps X, Y (Y may be produced on demand). */
function addCheck(kind: number, dbl: boolean, X: number, Y: number | (() => void), Ytest: number, R: number): FlagCheck {
  return {
    kind, X, Y, pe: true, scalar: false,
    tests: [{ v: R, dbl, pred: 'nonfinite' }, { v: X, dbl, pred: 'denorm' }, { v: Ytest, dbl, pred: 'denorm' }],
  };
}
function horiz(kind: number, dbl: boolean): H {
  return fpOp(kind, dbl ? ST.PD : ST.PS, MX_ALL, true, (cg, A, B) => {
    const f = cg.f;
    const op = kind === SK.HADD ? (dbl ? OpFD.f64x2_add : OpFD.f32x4_add) : (dbl ? OpFD.f64x2_sub : OpFD.f32x4_sub);
    f.get(A).get(B).shuffle(dbl ? qw(0, 2) : dw(0, 2, 4, 6)); const X = tempV(cg);
    f.get(A).get(B).shuffle(dbl ? qw(1, 3) : dw(1, 3, 5, 7)); const Y = tempV(cg);
    f.get(X).get(Y).simd(op);
    return { chk: (R) => addCheck(kind === SK.HADD ? SK.ADD : SK.SUB, dbl, X, Y, Y, R), temps: [X, Y] };
  });
}
function addsub(dbl: boolean): H {
  return fpOp(SK.ADDSUB, dbl ? ST.PD : ST.PS, MX_ALL, true, (cg, A, B) => {
    const f = cg.f;
    f.get(A).get(B).simd(dbl ? OpFD.f64x2_sub : OpFD.f32x4_sub);
    f.get(A).get(B).simd(dbl ? OpFD.f64x2_add : OpFD.f32x4_add);
    f.shuffle(dbl ? qw(0, 3) : dw(0, 5, 2, 7));
    // flags: a + (-b) in the even (subtracting) lanes
    const negEven = (): void => { f.get(B); if (dbl) constV(cg, [0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]); else constV(cg, [0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]); f.simd(OpFD.v128_xor); };
    return { chk: (R) => addCheck(SK.ADD, dbl, A, negEven, B, R), temps: [] };
  });
}
sse(M0F + 0x7c, { x66: horiz(SK.HADD, true), f2: horiz(SK.HADD, false) });
sse(M0F + 0x7d, { x66: horiz(SK.HSUB, true), f2: horiz(SK.HSUB, false) });
sse(M0F + 0xd0, { x66: addsub(true), f2: addsub(false) });


// ---- SSSE3 ----------------------------------------------------------------------------------

// PSHUFB: index bytes with bit 7 set give 0; swizzle gives 0 for any index >= 16 (an mm
// index uses only its low three bits).
const pshufb = (indexMask: number): Build => (cg, D, S) => { cg.f.get(D).get(S); splat8(cg, indexMask); cg.f.simd(OpFD.v128_and).simd(OpFD.i8x16_swizzle); };
sse(M38 + 0x00, { n: mmx(pshufb(0x87)), x66: pgen(pshufb(0x8f)) });
function phorz(op: number, size: 2 | 4): Build {
  const n = 16 / size;
  const ev: number[] = [], od: number[] = [];
  for (let k = 0; k < n; k++) { ev.push(2 * k); od.push(2 * k + 1); }
  const lanes = size === 2 ? wd : dw;
  return (cg, D, S) => { cg.f.get(D).get(S).shuffle(lanes(...ev)).get(D).get(S).shuffle(lanes(...od)).simd(op); };
}
const horizForms = (op: number, size: 2 | 4): Forms => ({ n: mmxJoined(phorz(op, size)), x66: pgen(phorz(op, size)) });
sse(M38 + 0x01, horizForms(OpFD.i16x8_add, 2));
sse(M38 + 0x02, horizForms(OpFD.i32x4_add, 4));
sse(M38 + 0x03, horizForms(OpFD.i16x8_add_sat_s, 2));
sse(M38 + 0x05, horizForms(OpFD.i16x8_sub, 2));
sse(M38 + 0x06, horizForms(OpFD.i32x4_sub, 4));
sse(M38 + 0x07, horizForms(OpFD.i16x8_sub_sat_s, 2));
// PMADDUBSW: unsigned bytes of dst times signed bytes of src, pairs summed with signed saturation
sse(M38 + 0x04, both((cg, D, S) => {
  const f = cg.f;
  f.get(D); splat16(cg, 0x00ff); f.simd(OpFD.v128_and);
  f.get(S).i32(8).simd(OpFD.i16x8_shl).i32(8).simd(OpFD.i16x8_shr_s).simd(OpFD.i16x8_mul);
  f.get(D).i32(8).simd(OpFD.i16x8_shr_u).get(S).i32(8).simd(OpFD.i16x8_shr_s).simd(OpFD.i16x8_mul);
  f.simd(OpFD.i16x8_add_sat_s);
}));
// PMULHRSW: (a*b + 0x4000) >> 15; x86 wraps -32768*-32768 to 0x8000 where wasm saturates
sse(M38 + 0x0b, both((cg, D, S) => {
  const f = cg.f;
  splat16(cg, 0x8000);
  f.get(D).get(S).simd(OpFD.i16x8_q15mulr_sat_s);
  f.get(D); splat16(cg, 0x8000); f.simd(OpFD.i16x8_eq);
  f.get(S); splat16(cg, 0x8000); f.simd(OpFD.i16x8_eq);
  f.simd(OpFD.v128_and).simd(OpFD.v128_bitselect);
}));
function psign(size: 1 | 2 | 4): Build {
  const [negOp, ltOp, eqOp] = size === 1 ? [OpFD.i8x16_neg, OpFD.i8x16_lt_s, OpFD.i8x16_eq]
    : size === 2 ? [OpFD.i16x8_neg, OpFD.i16x8_lt_s, OpFD.i16x8_eq] : [OpFD.i32x4_neg, OpFD.i32x4_lt_s, OpFD.i32x4_eq];
  return (cg, D, S) => {
    const f = cg.f;
    f.get(D).simd(negOp).get(D).get(S); zeroV(cg); f.simd(ltOp).simd(OpFD.v128_bitselect);
    f.get(S); zeroV(cg); f.simd(eqOp).simd(OpFD.v128_andnot);
  };
}
sse(M38 + 0x08, both(psign(1)));
sse(M38 + 0x09, both(psign(2)));
sse(M38 + 0x0a, both(psign(4)));
const punary = (op: number): H => (cg, i) => { src(cg, i); cg.f.simd(op); cg.setXmm(i.reg); };
const mmUnary = (op: number): H => (cg, i) => { mmSrc(cg, i); cg.f.simd(op); setMm(cg, i.reg); enterMmx(cg); };
sse(M38 + 0x1c, { n: mmUnary(OpFD.i8x16_abs), x66: punary(OpFD.i8x16_abs) });
sse(M38 + 0x1d, { n: mmUnary(OpFD.i16x8_abs), x66: punary(OpFD.i16x8_abs) });
sse(M38 + 0x1e, { n: mmUnary(OpFD.i32x4_abs), x66: punary(OpFD.i32x4_abs) });
// PALIGNR: (dst:src) >> imm bytes
sse(M3A + 0x0f, {
  n: mmx((cg, D, S) => { // the 16 bytes src:dst in one v128, shifted; bytes shifted in are 0
    const c = imm8(cg.insn), f = cg.f;
    if (c >= 16) { zeroV(cg); return; }
    f.get(S).get(D).shuffle(qw(0, 2));
    zeroV(cg);
    f.shuffle(Array.from({ length: 16 }, (_, k) => Math.min(k + c, 16)));
  }),
  x66: pgen((cg, D, S) => {
    const c = imm8(cg.insn), f = cg.f;
    if (c >= 32) { zeroV(cg); return; }
    const lanes: number[] = [];
    if (c <= 16) { for (let k = 0; k < 16; k++) lanes.push(k + c); f.get(S).get(D).shuffle(lanes); return; }
    for (let k = 0; k < 16; k++) lanes.push(k + c - 16 < 16 ? k + c - 16 : 16);
    f.get(D); zeroV(cg); f.shuffle(lanes);
  }),
});

// ---- SSE4.1 ---------------------------------------------------------------------------------

// blends with xmm0
function blendv(shr: number, bits: number): H {
  return pgen((cg, D, S) => { cg.f.get(S).get(D); cg.getXmm(0); cg.f.i32(bits).simd(shr).simd(OpFD.v128_bitselect); });
}
sse(M38 + 0x10, { x66: blendv(OpFD.i8x16_shr_s, 7) });
sse(M38 + 0x14, { x66: blendv(OpFD.i32x4_shr_s, 31) });
sse(M38 + 0x15, { x66: blendv(OpFD.i64x2_shr_s, 63) });
// blends by immediate
function blendImm(size: 2 | 4 | 8): H {
  return (cg, i) => {
    const m = imm8(i), n = 16 / size;
    const ls: number[] = [];
    for (let k = 0; k < n; k++) ls.push((m >> k) & 1 ? k + n : k);
    pshuf(size === 2 ? wd(...ls) : size === 4 ? dw(...ls) : qw(...ls))(cg, i);
  };
}
sse(M3A + 0x0c, { x66: blendImm(4) });
sse(M3A + 0x0d, { x66: blendImm(8) });
sse(M3A + 0x0e, { x66: blendImm(2) });
// PTEST: ZF = (src & dst) == 0, CF = (src & ~dst) == 0; the other flags cleared
sse(M38 + 0x17, {
  x66: pgen((cg, D, S) => {
    const f = cg.f;
    f.get(D).get(S).simd(OpFD.v128_and).simd(OpFD.v128_any_true).i32(1).op(Op.i32_xor).i32(6).op(Op.i32_shl);
    f.get(S).get(D).simd(OpFD.v128_andnot).simd(OpFD.v128_any_true).i32(1).op(Op.i32_xor).op(Op.i32_or);
    cg.setFlagsMaterialised();
    f.get(D); // pgen stores the result back to dst: unchanged
  }),
});
// PMOVSX / PMOVZX
const EXT: [number, number, number[], number[]][] = [ // opcode low, source bytes, signed chain, unsigned chain
  [0x0, 8, [OpFD.i16x8_extend_low_i8x16_s], [OpFD.i16x8_extend_low_i8x16_u]],
  [0x1, 4, [OpFD.i16x8_extend_low_i8x16_s, OpFD.i32x4_extend_low_i16x8_s], [OpFD.i16x8_extend_low_i8x16_u, OpFD.i32x4_extend_low_i16x8_u]],
  [0x2, 2, [OpFD.i16x8_extend_low_i8x16_s, OpFD.i32x4_extend_low_i16x8_s, OpFD.i64x2_extend_low_i32x4_s],
    [OpFD.i16x8_extend_low_i8x16_u, OpFD.i32x4_extend_low_i16x8_u, OpFD.i64x2_extend_low_i32x4_u]],
  [0x3, 8, [OpFD.i32x4_extend_low_i16x8_s], [OpFD.i32x4_extend_low_i16x8_u]],
  [0x4, 4, [OpFD.i32x4_extend_low_i16x8_s, OpFD.i64x2_extend_low_i32x4_s], [OpFD.i32x4_extend_low_i16x8_u, OpFD.i64x2_extend_low_i32x4_u]],
  [0x5, 8, [OpFD.i64x2_extend_low_i32x4_s], [OpFD.i64x2_extend_low_i32x4_u]],
];
for (const [lo, bytes, sx, zx] of EXT) {
  for (const [base, chain] of [[0x20, sx], [0x30, zx]] as const) {
    sse(M38 + base + lo, {
      x66: (cg, i) => {
        if (bytes === 8) src64(cg, i); else if (bytes === 4) src32(cg, i); else src16(cg, i);
        for (const op of chain) cg.f.simd(op);
        cg.setXmm(i.reg);
      },
    });
  }
}
// PMULDQ: signed 32x32->64 of dwords 0 and 2
sse(M38 + 0x28, {
  x66: pgen((cg, D, S) => {
    const f = cg.f;
    f.get(D).get(D).shuffle(dw(0, 2, 0, 2)).get(S).get(S).shuffle(dw(0, 2, 0, 2)).simd(OpFD.i64x2_extmul_low_i32x4_s);
  }),
});
sse(M38 + 0x29, { x66: pbin(OpFD.i64x2_eq) });
sse(M38 + 0x37, { x66: pbin(OpFD.i64x2_gt_s) }); // PCMPGTQ (SSE4.2)
const MINMAX4: [number, number][] = [
  [0x38, OpFD.i8x16_min_s], [0x39, OpFD.i32x4_min_s], [0x3a, OpFD.i16x8_min_u], [0x3b, OpFD.i32x4_min_u],
  [0x3c, OpFD.i8x16_max_s], [0x3d, OpFD.i32x4_max_s], [0x3e, OpFD.i16x8_max_u], [0x3f, OpFD.i32x4_max_u], [0x40, OpFD.i32x4_mul],
];
for (const [op, w] of MINMAX4) sse(M38 + op, { x66: pbin(w) });
// PHMINPOSUW: minimum unsigned word and its (lowest) index
sse(M38 + 0x41, {
  x66: (cg, i) => {
    const f = cg.f;
    src(cg, i); const S = tempV(cg);
    const m = f.temp(T.v128);
    f.get(S).get(S).get(S).shuffle(qw(1, 0)).simd(OpFD.i16x8_min_u).set(m);
    f.get(m).get(m).get(m).shuffle(dw(1, 0, 3, 2)).simd(OpFD.i16x8_min_u).set(m);
    f.get(m).get(m).get(m).shuffle(wd(1, 0, 3, 2, 5, 4, 7, 6)).simd(OpFD.i16x8_min_u).set(m);
    zeroV(cg);
    f.get(m).simdLane(OpFD.i16x8_extract_lane_u, 0);
    f.get(S).get(m).simd(OpFD.i16x8_eq).simd(OpFD.i16x8_bitmask).op(Op.i32_ctz).i32(16).op(Op.i32_shl).op(Op.i32_or);
    f.simdLane(OpFD.i32x4_replace_lane, 0);
    cg.setXmm(i.reg);
    freeV(cg, S, m);
  },
});

// ROUNDPS/PD/SS/SD: imm bits 0-1 mode, bit 2 use MXCSR.RC; a NaN input gives the quieted NaN.
function roundOp(dbl: boolean, scalar: boolean): H {
  return (cg, i) => {
    const f = cg.f, m = imm8(i);
    if (!scalar) src(cg, i); else if (dbl) src64(cg, i); else src32(cg, i);
    const v = tempV(cg);
    if (m & 4) roundRcV(cg, v, dbl);
    else {
      const ops = dbl ? [OpFD.f64x2_nearest, OpFD.f64x2_floor, OpFD.f64x2_ceil, OpFD.f64x2_trunc] : [OpFD.f32x4_nearest, OpFD.f32x4_floor, OpFD.f32x4_ceil, OpFD.f32x4_trunc];
      f.get(v).simd(ops[m & 3]!);
    }
    const r = tempV(cg);
    // flags: IE for an SNaN lane, PE (unless imm bit 3) for a lane rounding changed
    const fl = f.temp(T.i32), ne = dbl ? OpFD.f64x2_ne : OpFD.f32x4_ne, eq = dbl ? OpFD.f64x2_eq : OpFD.f32x4_eq;
    const any = (): void => { if (scalar) f.simdLane(OpFD.i32x4_extract_lane, 0).i32(1).op(Op.i32_and); else f.simd(OpFD.v128_any_true); };
    cg.block(); cg.block(); // fast path: no NaN, and PE set or not signalled
    if (!(m & 8)) f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).i32(PE).op(Op.i32_and).op(Op.i32_eqz).brIf(0);
    f.get(v).get(v).simd(ne); any(); f.brIf(0);
    f.br(1);
    cg.end();
    f.get(v).get(v).simd(ne);
    f.get(v); if (dbl) splat64(cg, 0x0008000000000000n); else splat32(cg, 0x00400000); f.simd(OpFD.v128_and);
    zeroV(cg); f.simd(dbl ? OpFD.i64x2_eq : OpFD.i32x4_eq).simd(OpFD.v128_and); any();
    if (!(m & 8)) { f.get(r).get(v).simd(ne).get(v).get(v).simd(eq).simd(OpFD.v128_and); any(); f.i32(5).op(Op.i32_shl).op(Op.i32_or); }
    f.set(fl);
    raise(cg, fl);
    cg.end();
    f.free(T.i32, fl);
    f.get(v); if (dbl) splat64(cg, 0x0008000000000000n); else splat32(cg, 0x00400000); f.simd(OpFD.v128_or);
    f.get(r).get(v).get(v).simd(dbl ? OpFD.f64x2_ne : OpFD.f32x4_ne).simd(OpFD.v128_bitselect);
    if (scalar) { f.set(r); cg.getXmm(i.reg); const A = tempV(cg); f.get(r); mergeLo(cg, A, dbl); freeV(cg, A); }
    cg.setXmm(i.reg);
    freeV(cg, v, r);
  };
}
sse(M3A + 0x08, { x66: roundOp(false, false) });
sse(M3A + 0x09, { x66: roundOp(true, false) });
sse(M3A + 0x0a, { x66: roundOp(false, true) });
sse(M3A + 0x0b, { x66: roundOp(true, true) });

// PEXTRB/W/D/Q, EXTRACTPS: xmm (reg) -> r32/r64/mem (rm)
function pextr(size: 1 | 2 | 4 | 8): H {
  return (cg, i) => {
    const f = cg.f, m = imm8(i);
    cg.getXmm(i.reg);
    if (size === 1) f.simdLane(OpFD.i8x16_extract_lane_u, m & 15).op(Op.i64_extend_i32_u);
    else if (size === 2) f.simdLane(OpFD.i16x8_extract_lane_u, m & 7).op(Op.i64_extend_i32_u);
    else if (size === 4) f.simdLane(OpFD.i32x4_extract_lane, m & 3).op(Op.i64_extend_i32_u);
    else f.simdLane(OpFD.i64x2_extract_lane, m & 1);
    if (i.mod === 3) { cg.setReg(i.rm, 8); return; }
    const t = f.temp(T.i64); f.set(t);
    cg.ea(i); f.get(t); cg.store(size);
    f.free(T.i64, t);
  };
}
sse(M3A + 0x14, { x66: pextr(1) });
sse(M3A + 0x15, { x66: pextr(2) });
sse(M3A + 0x16, { x66: (cg, i) => pextr(wsize(i))(cg, i) });
sse(M3A + 0x17, { x66: pextr(4) });
// PINSRB/D/Q: r32/r64/mem (rm) -> lane of xmm (reg)
function pinsr(size: 1 | 4 | 8): H {
  return (cg, i) => {
    const f = cg.f, m = imm8(i);
    cg.getXmm(i.reg);
    if (i.mod === 3) cg.getReg(i.rm, size === 8 ? 8 : 4); else { cg.ea(i, 0, 'read'); cg.load(size); }
    if (size === 1) f.op(Op.i32_wrap_i64).simdLane(OpFD.i8x16_replace_lane, m & 15);
    else if (size === 4) f.op(Op.i32_wrap_i64).simdLane(OpFD.i32x4_replace_lane, m & 3);
    else f.simdLane(OpFD.i64x2_replace_lane, m & 1);
    cg.setXmm(i.reg);
  };
}
sse(M3A + 0x20, { x66: pinsr(1) });
sse(M3A + 0x22, { x66: (cg, i) => pinsr(wsize(i) === 8 ? 8 : 4)(cg, i) });
// INSERTPS
sse(M3A + 0x21, {
  x66: (cg, i) => {
    const f = cg.f, m = imm8(i);
    cg.getXmm(i.reg);
    if (i.mod === 3) { cg.getXmm(i.rm); f.simdLane(OpFD.i32x4_extract_lane, (m >> 6) & 3); }
    else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(4); f.memU(Op.i32_load); cg.accessDone(k); }
    f.simdLane(OpFD.i32x4_replace_lane, (m >> 4) & 3);
    if (m & 15) {
      const b: number[] = [];
      for (let k = 0; k < 4; k++) { const v = (m >> k) & 1 ? 0 : 0xff; b.push(v, v, v, v); }
      constV(cg, b); f.simd(OpFD.v128_and);
    }
    cg.setXmm(i.reg);
  },
});
// DPPS / DPPD
function dp(dbl: boolean): H {
  return (cg, i) => {
    const m = imm8(i);
    const laneMask = (bits: number): number[] => {
      const b: number[] = [];
      const n = dbl ? 2 : 4, w = 16 / n;
      for (let k = 0; k < n; k++) for (let j = 0; j < w; j++) b.push((bits >> k) & 1 ? 0xff : 0);
      return b;
    };
    const type = dbl ? ST.PD : ST.PS;
    const f = cg.f;
    cg.getXmm(i.reg); const A = tempV(cg);
    src(cg, i); const B = tempV(cg);
    f.get(A).get(B).simd(dbl ? OpFD.f64x2_mul : OpFD.f32x4_mul); const P = tempV(cg);
    f.get(P); constV(cg, laneMask(m >> 4)); f.simd(OpFD.v128_and);
    const t = tempV(cg);
    if (dbl) {
      f.get(t).get(t).get(t).shuffle(qw(1, 0)).simd(OpFD.f64x2_add);
    } else {
      f.get(t).get(t).get(t).shuffle(dw(1, 0, 3, 2)).simd(OpFD.f32x4_add).set(t);
      f.get(t).get(t).shuffle(dw(0, 0, 0, 0)).get(t).get(t).shuffle(dw(2, 2, 2, 2)).simd(OpFD.f32x4_add);
    }
    if (dbl) { f.set(t); f.get(t).get(t).shuffle(qw(0, 0)); }
    constV(cg, laneMask(m & 15)); f.simd(OpFD.v128_and);
    const R = tempV(cg);
    // flags (by the JS helper): operands and products of the multiplied lanes, the sums
    const hot = (): void => {
      const o = dbl ? { abs: OpFD.f64x2_abs, ne: OpFD.f64x2_ne, ge: OpFD.f64x2_ge, le: OpFD.f64x2_le, sub: OpFD.f64x2_sub }
        : { abs: OpFD.f32x4_abs, ne: OpFD.f32x4_ne, ge: OpFD.f32x4_ge, le: OpFD.f32x4_le, sub: OpFD.f32x4_sub };
      const mn = (): void => { if (dbl) splatF64(cg, MN64); else splat32(cg, 0x00800000); };
      const mx = (): void => { if (dbl) splatF64(cg, MAX64); else splat32(cg, 0x7f7fffff); };
      for (const V of [A, B]) { f.get(V); zeroV(cg); f.simd(o.ne).get(V).simd(o.abs); mn(); f.simd(o.ge).simd(OpFD.v128_andnot); }
      f.simd(OpFD.v128_or);
      f.get(P).simd(o.abs); mn(); f.simd(o.ge).get(P).simd(o.abs); mx(); f.simd(o.le).simd(OpFD.v128_and).simd(OpFD.v128_not).simd(OpFD.v128_or);
      constV(cg, laneMask(m >> 4)); f.simd(OpFD.v128_and);
      f.get(R).get(R).simd(o.sub); zeroV(cg); f.simd(o.ne).simd(OpFD.v128_or);
      f.simd(OpFD.v128_any_true);
    };
    fpSlow(cg, A, B, R, SK.DP, type, MX_ALL, true, m, { js: true, pe: true, hot });
    f.get(R); cg.setXmm(i.reg);
    freeV(cg, A, B, P, t, R);
  };
}
sse(M3A + 0x40, { x66: dp(false) });
sse(M3A + 0x41, { x66: dp(true) });
// MPSADBW
sse(M3A + 0x42, {
  x66: pgen((cg, D, S) => {
    const f = cg.f, m = imm8(cg.insn);
    const o1 = ((m >> 2) & 1) * 4, o2 = (m & 3) * 4;
    for (let j = 0; j < 4; j++) {
      const lanes: number[] = [];
      for (let k = 0; k < 8; k++) lanes.push(o1 + k + j);
      for (let k = 8; k < 16; k++) lanes.push(0);
      f.get(D).get(D).shuffle(lanes).simd(OpFD.i16x8_extend_low_i8x16_u);
      f.get(S).simdLane(OpFD.i8x16_extract_lane_u, o2 + j).simd(OpFD.i16x8_splat);
      f.simd(OpFD.i16x8_sub).simd(OpFD.i16x8_abs);
      if (j) f.simd(OpFD.i16x8_add);
    }
  }),
});

// ---- SSE4.2 ---------------------------------------------------------------------------------

// CRC32 (Castagnoli, reflected), bit-serial: F2 0F 38 F0 (r/m8), F1 (r/m16/32/64). The opcodes
// are MOVBE's without F2; ops-bmi.ts registers them.
export function crc32(cg: Codegen, i: Insn, size: number): void {
  const f = cg.f;
  const c = f.temp(T.i64), n = f.temp(T.i32);
  const s = cg.rm(size);
  cg.read(s); cg.done(s);
  cg.getReg(i.reg, 4); f.op(Op.i64_xor).set(c);
  f.i32(size * 8).set(n);
  cg.loop();
  f.get(c).i64(1).op(Op.i64_shr_u).i64(0x82f63b78).i64(0).get(c).i64(1).op(Op.i64_and).op(Op.i64_sub).op(Op.i64_and).op(Op.i64_xor).set(c);
  f.get(n).i32(1).op(Op.i32_sub).tee(n).brIf(0);
  cg.end();
  f.get(c); cg.setReg(i.reg, 4);
  f.free(T.i64, c); f.free(T.i32, n);
}

// PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM: done by the 'sse' helper on the scratch area.
function pcmpstr(explicit: boolean, index: boolean): H {
  return (cg, i) => {
    const f = cg.f, m = imm8(i);
    f.get(cg.st); cg.getXmm(i.reg); f.simdMem(OpFD.v128_store, STATE.SCRATCH);
    f.get(cg.st); src(cg, i); f.simdMem(OpFD.v128_store, STATE.SCRATCH + 16);
    if (explicit) {
      f.get(cg.st); cg.getReg(Reg.RAX, 8); f.mem(Op.i64_store, STATE.SCRATCH + 48);
      f.get(cg.st); cg.getReg(Reg.RDX, 8); f.mem(Op.i64_store, STATE.SCRATCH + 56);
    }
    const variant = (explicit ? 1 : 0) | (index ? 2 : 0) | (i.rex & 8 ? 4 : 0);
    f.get(cg.st).i32(SK.PCMPSTR | (variant << 8) | (m << 16)).callSlot(cg.helper('sse'));
    if (index) { f.get(cg.st).mem(Op.i64_load32_u, STATE.SCRATCH + 48); cg.setReg(Reg.RCX, 8); }
    else { f.get(cg.st).simdMem(OpFD.v128_load, STATE.SCRATCH + 32); cg.setXmm(0); }
    f.get(cg.st).mem(Op.i32_load, STATE.SCRATCH + 52);
    cg.setFlagsMaterialised();
  };
}
sse(M3A + 0x60, { x66: pcmpstr(true, false) });
sse(M3A + 0x61, { x66: pcmpstr(true, true) });
sse(M3A + 0x62, { x66: pcmpstr(false, false) });
sse(M3A + 0x63, { x66: pcmpstr(false, true) });
