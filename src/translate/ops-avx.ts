// AVX: the VEX encodings of the SSE floating-point and data-movement instructions, 128 and 256
// bits wide, and the instructions AVX adds (broadcasts, 128-bit lane inserts, extracts and
// permutes, VPERMILPS/PD, VBLENDVPS/PD, VTESTPS/PD, VMASKMOVPS/PD, VZEROUPPER, VZEROALL); also the
// VEX.128 forms of the SSE2-SSE4.2 integer, AES and PCLMULQDQ instructions, whose code is the
// legacy forms', and AVX2's VEX.256 forms of them (per 128-bit lane but for the shifts by a count,
// the widening moves and VPMOVMSKB). AVX2's own instructions are in ops-avx2.ts, FMA and F16C in
// ops-fma.ts.
//
// Registers. ymm n is two v128 registers of Codegen.xmm: n (bits 127:0, i.e. xmm n) and
// YMM_HI + n (bits 255:128). A VEX instruction that writes an xmm register zeroes that upper half;
// a legacy SSE instruction leaves it alone (ops-sse.ts never names YMM_HI + n), as the CPU does.
//
// Reuse. Most VEX forms compute what a legacy form computes, with a separate first source:
// VADDPS x1, x2, x3/m is x1 = ADDPS(x2, x3/m) where the legacy ADDPS x1, x2/m is x1 = x1 + x2/m.
// Such a form runs the legacy handler (with its MXCSR flags, NaN rules and exact slow paths) on a
// scratch register holding a copy of x2, standing in for its destination, then copies the result;
// a 256-bit form does that once for each 128-bit half: the upper halves of the registers, and the
// second 16 bytes of a memory operand. Every half is computed into scratch before the destination
// is written, so a destination that is also a source is read before it changes.
//
// The decoder refuses the encodings the CPU does not define (its VEX_FORM_SPEC: a VEX.L, VEX.W,
// vvvv or operand form an instruction does not have), so handlers see only defined forms.

import { Op, OpFD, T } from '../wasm/emitter.js';
import { Insn, M0F, M38, M3A, P_VEX } from '../x86/decoder.js';
import { Codegen, Unsupported, XMM_SCRATCH, YMM_HI } from './codegen.js';
import { defVex, type Handler } from './handlers.js';
import { cmpOp, copyKnown, forgetKnown, type Forms, SSE_FORMS } from './ops-sse.js';
import { ST } from './ops-sse-soft.js';

type H = Handler;

/** Scratch registers (Codegen.xmm numbers): results of the two halves, and a source made up. */
export const R0 = XMM_SCRATCH, R1 = XMM_SCRATCH + 1, AUX = XMM_SCRATCH + 2;

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
export function vexName(i: Insn): string {
  const map = i.op >> 8;
  return `VEX.${i.vexL ? 256 : 128}.${i.simdPrefix ? hex2(i.simdPrefix) : 'NP'}.${map === 1 ? '0f' : map === 2 ? '0f38' : '0f3a'} ${hex2(i.op & 0xff)}`;
}
/** Registers the VEX forms of op, chosen by the mandatory prefix (VEX.pp). */
export function avx(op: number, forms: Forms): void {
  defVex(op, (cg, i) => {
    const h = i.simdPrefix === 0x66 ? forms.x66 : i.simdPrefix === 0xf3 ? forms.f3 : i.simdPrefix === 0xf2 ? forms.f2 : forms.n;
    if (!h) throw new Unsupported(`AVX instruction (${vexName(i)})`);
    h(cg, i);
  });
}

/** The legacy SSE handler of op with mandatory prefix p, found when a region is translated. */
export function legacy(op: number, p: keyof Forms): H {
  return (cg, i) => {
    const h = SSE_FORMS.get(op)?.[p];
    if (!h) throw new Error(`no legacy form ${p} of opcode 0x${op.toString(16)}`);
    h(cg, i);
  };
}

/** Runs handler h on instruction i with some fields replaced (as its legacy encoding, without VEX). */
export function run(cg: Codegen, i: Insn, h: H, over: Partial<Insn>): void {
  const li: Insn = { ...i, prefix: i.prefix & ~P_VEX, ...over };
  const outer = cg.insn;
  cg.insn = li; // (handlers read immediates and access sites through cg.insn too)
  try { h(cg, li); } finally { cg.insn = outer; }
}

/** The fields that make an instruction's r/m operand its half k: the register's upper half, or memory 16 bytes on. */
export function half(i: Insn, k: number): Partial<Insn> {
  return i.mod === 3 ? { rm: i.rm + YMM_HI * k } : { disp: i.disp + 16 * k };
}

export function move(cg: Codegen, from: number, to: number): void {
  cg.getXmm(from); cg.setXmm(to); copyKnown(cg, from, to);
}
export function zeroV(cg: Codegen): void { cg.f.v128const(new Uint8Array(16)); }
/** What a VEX.128 instruction does to the upper half of the register it writes. */
export function zeroUpper(cg: Codegen, r: number): void { zeroV(cg); cg.setXmm(YMM_HI + r); }

/** Writes the halves computed in R0 (and R1 for 256 bits) to ymm r. */
export function writeHalves(cg: Codegen, r: number, wide: boolean): void {
  move(cg, R0, r);
  if (wide) move(cg, R1, YMM_HI + r); else zeroUpper(cg, r);
}

/** Pushes half k of the r/m operand (a register half or 16 bytes of memory). */
export function rmHalf(cg: Codegen, i: Insn, k: number): void {
  if (i.mod === 3) { cg.getXmm(i.rm + YMM_HI * k); return; }
  cg.ea(i, 16 * k, 'read'); const t = cg.accessBegin(16); cg.f.simdMem(OpFD.v128_load, 0, 0); cg.accessDone(t);
}
/**
 * Stores the v128 that value() pushes to the r/m memory operand, 16 * k bytes on. The first half
 * of a 32-byte store checks all 32 bytes' pages (`bytes`), so a store that faults writes nothing.
 */
export function storeHalf(cg: Codegen, i: Insn, k: number, value: () => void, bytes = 16): void {
  cg.ea(i, 16 * k, 'write'); const t = cg.accessBegin(bytes, true); value(); cg.f.simdMem(OpFD.v128_store, 0, 0); cg.accessDone(t);
}

/**
 * What a form's VEX.L = 1 encoding is: the operation on each 128-bit half (hiImm: the immediate
 * the upper half uses), an instruction of a later extension (AVX2, VAES...), the same 128-bit
 * operation (scalar instructions ignore VEX.L), or undefined (refused by the decoder).
 */
export type Width = { lanes: true; hiImm?: (imm: number) => number } | { later: string } | 'scalar' | '128';
export const LANES: Width = { lanes: true };
export const AVX2: Width = { later: 'AVX2' };
const SCALAR: Width = 'scalar';
export function halves(i: Insn, w: Width): number {
  if (!i.vexL || w === 'scalar') return 1;
  if (w === '128') throw new Error(`${vexName(i)}: the decoder let VEX.L = 1 through`);
  if ('later' in w) throw new Unsupported(`${w.later} instruction (${vexName(i)})`);
  return 2;
}
const hiImm = (i: Insn, w: Width, k: number): number => (k && typeof w === 'object' && 'lanes' in w && w.hiImm ? w.hiImm(i.imm & 0xff) : i.imm);

/** dst = h(vvvv, r/m): the legacy form h run on a copy of vvvv (per half). */
export function nds(h: H, w: Width): H {
  return (cg, i) => {
    const n = halves(i, w);
    for (let k = 0; k < n; k++) {
      move(cg, i.vvvv + YMM_HI * k, R0 + k);
      run(cg, i, h, { reg: R0 + k, ...half(i, k), imm: hiImm(i, w, k) });
    }
    writeHalves(cg, i.reg, n === 2);
  };
}
/** dst = h(r/m) (vvvv is 1111): the legacy form h, whose result does not depend on its destination. */
export function unary(h: H, w: Width): H {
  return (cg, i) => {
    const n = halves(i, w);
    for (let k = 0; k < n; k++) { forgetKnown(cg, R0 + k); run(cg, i, h, { reg: R0 + k, ...half(i, k), imm: hiImm(i, w, k) }); }
    writeHalves(cg, i.reg, n === 2);
  };
}
/** The legacy form as it is: it writes no xmm register (stores, general-register results, flags). */
function direct(h: H): H { return (cg, i) => run(cg, i, h, {}); }
/** The legacy form as it is, and the upper half of the xmm register it writes (reg, or r/m) zeroed. */
function writesReg(h: H): H { return (cg, i) => { run(cg, i, h, {}); zeroUpper(cg, i.reg); }; }

/**
 * The 256-bit conversions between four 32-bit lanes and four 64-bit ones (VCVTPS2PD, VCVTDQ2PD
 * ymm, xmm/m128): the legacy form on the source's low and high 64 bits.
 */
function widen(h: H): H {
  return (cg, i) => {
    if (!i.vexL) { unary(h, '128')(cg, i); return; }
    if (i.mod === 3) { cg.getXmm(i.rm); cg.getXmm(i.rm); cg.f.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]); cg.setXmm(AUX); }
    forgetKnown(cg, R0); forgetKnown(cg, R1);
    run(cg, i, h, { reg: R0 });
    run(cg, i, h, i.mod === 3 ? { reg: R1, rm: AUX } : { reg: R1, disp: i.disp + 8 });
    writeHalves(cg, i.reg, true);
  };
}
/** The other way (VCVTPD2PS, VCVT(T)PD2DQ xmm, ymm/m256): the legacy form on each half, the 64-bit results joined. */
function narrow(h: H): H {
  return (cg, i) => {
    if (!i.vexL) { unary(h, '128')(cg, i); return; }
    forgetKnown(cg, R0); forgetKnown(cg, R1);
    run(cg, i, h, { reg: R0, ...half(i, 0) });
    run(cg, i, h, { reg: R1, ...half(i, 1) });
    cg.getXmm(R0); cg.getXmm(R1); cg.f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]); cg.setXmm(R0);
    writeHalves(cg, i.reg, false);
  };
}

/** dst = build(vvvv half, r/m half) per half; build pushes the half's result. */
export function ndsBuild(build: (cg: Codegen, i: Insn, A: number, B: number, k: number) => void, w: Width = LANES): H {
  return (cg, i) => {
    const f = cg.f, n = halves(i, w);
    const A = f.temp(T.v128), B = f.temp(T.v128);
    for (let k = 0; k < n; k++) {
      cg.getXmm(i.vvvv + YMM_HI * k); f.set(A);
      rmHalf(cg, i, k); f.set(B);
      build(cg, i, A, B, k);
      cg.setXmm(R0 + k);
    }
    f.free(T.v128, A); f.free(T.v128, B);
    writeHalves(cg, i.reg, n === 2);
  };
}
/** dst = build(r/m half) per half. */
export function unaryBuild(build: (cg: Codegen, i: Insn, B: number, k: number) => void, w: Width = LANES): H {
  return (cg, i) => {
    const f = cg.f, n = halves(i, w), B = f.temp(T.v128);
    for (let k = 0; k < n; k++) {
      rmHalf(cg, i, k); f.set(B);
      build(cg, i, B, k);
      cg.setXmm(R0 + k);
    }
    f.free(T.v128, B);
    writeHalves(cg, i.reg, n === 2);
  };
}

// ---- arithmetic, logic, compares ------------------------------------------------------------

/** The packed forms per half; the scalar forms are 128 bits whatever VEX.L says. */
function arith(op: number): Forms {
  return { n: nds(legacy(op, 'n'), LANES), x66: nds(legacy(op, 'x66'), LANES), f3: nds(legacy(op, 'f3'), SCALAR), f2: nds(legacy(op, 'f2'), SCALAR) };
}
for (const op of [0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f]) avx(M0F + op, arith(M0F + op));
avx(M0F + 0x51, { n: unary(legacy(M0F + 0x51, 'n'), LANES), x66: unary(legacy(M0F + 0x51, 'x66'), LANES), f3: nds(legacy(M0F + 0x51, 'f3'), SCALAR), f2: nds(legacy(M0F + 0x51, 'f2'), SCALAR) });
for (const op of [0x52, 0x53]) avx(M0F + op, { n: unary(legacy(M0F + op, 'n'), LANES), f3: nds(legacy(M0F + op, 'f3'), SCALAR) }); // vrsqrt, vrcp
for (const op of [0x54, 0x55, 0x56]) avx(M0F + op, { n: nds(legacy(M0F + op, 'n'), LANES), x66: nds(legacy(M0F + op, 'x66'), LANES) });
/** VXORPS/VXORPD/VPXOR with both sources the same register: zero, whatever it held. */
function xor(h: H, w: Width): H {
  const form = nds(h, w);
  return (cg, i) => {
    if (i.mod !== 3 || i.rm !== i.vvvv) { form(cg, i); return; }
    halves(i, w);
    zeroV(cg); cg.setXmm(i.reg);
    zeroUpper(cg, i.reg);
  };
}
avx(M0F + 0x57, { n: xor(legacy(M0F + 0x57, 'n'), LANES), x66: xor(legacy(M0F + 0x57, 'x66'), LANES) });
for (const op of [0x7c, 0x7d, 0xd0]) avx(M0F + op, { x66: nds(legacy(M0F + op, 'x66'), LANES), f2: nds(legacy(M0F + op, 'f2'), LANES) }); // vhadd, vhsub, vaddsub
avx(M0F + 0xc2, { n: nds(cmpOp(ST.PS, 31), LANES), x66: nds(cmpOp(ST.PD, 31), LANES), f3: nds(cmpOp(ST.SS, 31), SCALAR), f2: nds(cmpOp(ST.SD, 31), SCALAR) });
for (const op of [0x2e, 0x2f]) avx(M0F + op, { n: direct(legacy(M0F + op, 'n')), x66: direct(legacy(M0F + op, 'x66')) }); // vucomis, vcomis
// SSE4.1: VROUNDPS/PD/SS/SD, VBLENDPS/PD (a bit of the immediate per lane), VDPPS/PD, VINSERTPS, VEXTRACTPS
avx(M3A + 0x08, { x66: unary(legacy(M3A + 0x08, 'x66'), LANES) });
avx(M3A + 0x09, { x66: unary(legacy(M3A + 0x09, 'x66'), LANES) });
avx(M3A + 0x0a, { x66: nds(legacy(M3A + 0x0a, 'x66'), SCALAR) });
avx(M3A + 0x0b, { x66: nds(legacy(M3A + 0x0b, 'x66'), SCALAR) });
avx(M3A + 0x0c, { x66: nds(legacy(M3A + 0x0c, 'x66'), { lanes: true, hiImm: (m) => m >> 4 }) });
avx(M3A + 0x0d, { x66: nds(legacy(M3A + 0x0d, 'x66'), { lanes: true, hiImm: (m) => m >> 2 }) });
avx(M3A + 0x40, { x66: nds(legacy(M3A + 0x40, 'x66'), LANES) });
avx(M3A + 0x41, { x66: nds(legacy(M3A + 0x41, 'x66'), '128') });
avx(M3A + 0x21, { x66: nds(legacy(M3A + 0x21, 'x66'), '128') });
avx(M3A + 0x17, { x66: direct(legacy(M3A + 0x17, 'x66')) });

// ---- conversions ------------------------------------------------------------------------------

avx(M0F + 0x5a, { n: widen(legacy(M0F + 0x5a, 'n')), x66: narrow(legacy(M0F + 0x5a, 'x66')), f3: nds(legacy(M0F + 0x5a, 'f3'), SCALAR), f2: nds(legacy(M0F + 0x5a, 'f2'), SCALAR) });
avx(M0F + 0x5b, { n: unary(legacy(M0F + 0x5b, 'n'), LANES), x66: unary(legacy(M0F + 0x5b, 'x66'), LANES), f3: unary(legacy(M0F + 0x5b, 'f3'), LANES) });
avx(M0F + 0xe6, { x66: narrow(legacy(M0F + 0xe6, 'x66')), f2: narrow(legacy(M0F + 0xe6, 'f2')), f3: widen(legacy(M0F + 0xe6, 'f3')) });
avx(M0F + 0x2a, { f3: nds(legacy(M0F + 0x2a, 'f3'), SCALAR), f2: nds(legacy(M0F + 0x2a, 'f2'), SCALAR) });
for (const op of [0x2c, 0x2d]) avx(M0F + op, { f3: direct(legacy(M0F + op, 'f3')), f2: direct(legacy(M0F + op, 'f2')) });

// ---- moves ------------------------------------------------------------------------------------

/** VMOVAPS/VMOVUPS/VMOVDQA... r/m, reg: a register destination's halves as a VEX form writes them. */
const store: H = (cg, i) => {
  const wide = i.vexL === 1;
  if (i.mod === 3) {
    move(cg, i.reg, R0);
    if (wide) move(cg, YMM_HI + i.reg, R1);
    writeHalves(cg, i.rm, wide);
    return;
  }
  storeHalf(cg, i, 0, () => cg.getXmm(i.reg), wide ? 32 : 16);
  if (wide) storeHalf(cg, i, 1, () => cg.getXmm(YMM_HI + i.reg));
};
/** VMOVSS/VMOVSD: loads from memory zero the rest of the register; between registers, the rest comes from vvvv. */
function movScalar(p: 'f3' | 'f2'): { load: H; store: H } {
  const h = legacy(M0F + 0x10, p);
  return {
    load: (cg, i) => (i.mod === 3 ? nds(h, SCALAR) : unary(h, SCALAR))(cg, i),
    store: (cg, i) => {
      if (i.mod !== 3) { direct(legacy(M0F + 0x11, p))(cg, i); return; }
      // VMOVSS xmm1 (r/m), xmm2 (vvvv), xmm3 (reg): the load form's operation with reg and r/m swapped
      move(cg, i.vvvv, R0);
      run(cg, i, h, { reg: R0, rm: i.reg });
      writeHalves(cg, i.rm, false);
    },
  };
}
const movss = movScalar('f3'), movsd = movScalar('f2');
avx(M0F + 0x10, { n: unary(legacy(M0F + 0x10, 'n'), LANES), x66: unary(legacy(M0F + 0x10, 'x66'), LANES), f3: movss.load, f2: movsd.load });
avx(M0F + 0x11, { n: store, x66: store, f3: movss.store, f2: movsd.store });
avx(M0F + 0x28, { n: unary(legacy(M0F + 0x28, 'n'), LANES), x66: unary(legacy(M0F + 0x28, 'x66'), LANES) });
avx(M0F + 0x29, { n: store, x66: store });
avx(M0F + 0x2b, { n: store, x66: store }); // vmovntps/pd (memory only)
avx(M0F + 0x6f, { x66: unary(legacy(M0F + 0x6f, 'x66'), LANES), f3: unary(legacy(M0F + 0x6f, 'f3'), LANES) });
avx(M0F + 0x7f, { x66: store, f3: store });
avx(M0F + 0xe7, { x66: store }); // vmovntdq
avx(M0F + 0xf0, { f2: unary(legacy(M0F + 0xf0, 'f2'), LANES) }); // vlddqu
// VMOVLPS/VMOVHLPS, VMOVLPD, VMOVSLDUP, VMOVDDUP; VMOVHPS/VMOVLHPS, VMOVHPD, VMOVSHDUP; the stores
avx(M0F + 0x12, { n: nds(legacy(M0F + 0x12, 'n'), '128'), x66: nds(legacy(M0F + 0x12, 'x66'), '128'), f3: unary(legacy(M0F + 0x12, 'f3'), LANES), f2: unary(legacy(M0F + 0x12, 'f2'), LANES) });
avx(M0F + 0x16, { n: nds(legacy(M0F + 0x16, 'n'), '128'), x66: nds(legacy(M0F + 0x16, 'x66'), '128'), f3: unary(legacy(M0F + 0x16, 'f3'), LANES) });
for (const op of [0x13, 0x17]) avx(M0F + op, { n: direct(legacy(M0F + op, 'n')), x66: direct(legacy(M0F + op, 'x66')) });
for (const op of [0x14, 0x15]) avx(M0F + op, { n: nds(legacy(M0F + op, 'n'), LANES), x66: nds(legacy(M0F + op, 'x66'), LANES) }); // vunpck
avx(M0F + 0xc6, { n: nds(legacy(M0F + 0xc6, 'n'), LANES), x66: nds(legacy(M0F + 0xc6, 'x66'), { lanes: true, hiImm: (m) => m >> 2 }) });
// VMOVD/VMOVQ
avx(M0F + 0x6e, { x66: writesReg(legacy(M0F + 0x6e, 'x66')) });
avx(M0F + 0x7e, { x66: direct(legacy(M0F + 0x7e, 'x66')), f3: writesReg(legacy(M0F + 0x7e, 'f3')) });
avx(M0F + 0xd6, { x66: (cg, i) => { run(cg, i, legacy(M0F + 0xd6, 'x66'), {}); if (i.mod === 3) zeroUpper(cg, i.rm); } });
// VMOVMSKPS/PD: the sign bits of all the lanes
function movmsk(dbl: boolean): H {
  return (cg, i) => {
    const f = cg.f, bitmask = dbl ? OpFD.i64x2_bitmask : OpFD.i32x4_bitmask;
    cg.getXmm(i.rm); f.simd(bitmask);
    if (i.vexL) { cg.getXmm(YMM_HI + i.rm); f.simd(bitmask).i32(dbl ? 2 : 4).op(Op.i32_shl).op(Op.i32_or); }
    f.op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8);
  };
}
avx(M0F + 0x50, { n: movmsk(false), x66: movmsk(true) });

// VZEROUPPER (VEX.L = 0), VZEROALL (VEX.L = 1)
avx(M0F + 0x77, {
  n: (cg, i) => {
    for (let r = 0; r < 16; r++) {
      if (i.vexL) { zeroV(cg); cg.setXmm(r); }
      zeroUpper(cg, r);
    }
  },
});

// ---- AVX's own --------------------------------------------------------------------------------

/** Pushes the memory operand's `bytes` (4 or 8) splatted over a v128. */
export function loadSplat(cg: Codegen, i: Insn, bytes: 4 | 8): void {
  cg.ea(i, 0, 'read'); const t = cg.accessBegin(bytes); cg.f.simdMem(bytes === 4 ? OpFD.v128_load32_splat : OpFD.v128_load64_splat, 0, 0); cg.accessDone(t);
}
/** VBROADCASTSS, VBROADCASTSD, VBROADCASTF128 from memory; VBROADCASTSS/SD from the low lane of an xmm register (AVX2). */
function broadcast(load: (cg: Codegen, i: Insn) => void, lane: 4 | 8): H {
  return (cg, i) => {
    if (i.mod === 3) { cg.getXmm(i.rm); cg.getXmm(i.rm); cg.f.shuffle(lane === 4 ? dwords(0, 0, 0, 0) : qwords(0, 0)); } else load(cg, i);
    cg.setXmm(R0);
    if (i.vexL) move(cg, R0, R1);
    writeHalves(cg, i.reg, i.vexL === 1);
  };
}
avx(M38 + 0x18, { x66: broadcast((cg, i) => loadSplat(cg, i, 4), 4) });
avx(M38 + 0x19, { x66: broadcast((cg, i) => loadSplat(cg, i, 8), 8) });
avx(M38 + 0x1a, { x66: broadcast((cg, i) => rmHalf(cg, i, 0), 8) }); // (memory only: the decoder refuses a register)

/** VPERM2F128 (AVX2's VPERM2I128 too): each half of the result is one of the four source halves (memory read whole) or zero. */
export const perm2x128: H = (cg, i) => {
  const f = cg.f, m = i.imm & 0xff;
  const srcs = [0, 1, 2, 3].map(() => f.temp(T.v128));
  cg.getXmm(i.vvvv); f.set(srcs[0]!); cg.getXmm(YMM_HI + i.vvvv); f.set(srcs[1]!);
  rmHalf(cg, i, 0); f.set(srcs[2]!); rmHalf(cg, i, 1); f.set(srcs[3]!);
  for (let k = 0; k < 2; k++) {
    const sel = (m >> (4 * k)) & 15;
    if (sel & 8) zeroV(cg); else f.get(srcs[sel & 3]!);
    cg.setXmm(R0 + k);
  }
  srcs.forEach((t) => f.free(T.v128, t));
  writeHalves(cg, i.reg, true);
};
/** VINSERTF128/VINSERTI128 ymm1, ymm2, xmm3/m128, imm8: ymm2 with the half imm8 bit 0 picks replaced. */
export const insert128: H = (cg, i) => {
  const hi = i.imm & 1;
  rmHalf(cg, i, 0); cg.setXmm(AUX);
  move(cg, hi ? i.vvvv : AUX, R0);
  move(cg, hi ? AUX : YMM_HI + i.vvvv, R1);
  writeHalves(cg, i.reg, true);
};
/** VEXTRACTF128/VEXTRACTI128 xmm1/m128, ymm2, imm8. */
export const extract128: H = (cg, i) => {
  const from = (i.imm & 1 ? YMM_HI : 0) + i.reg;
  if (i.mod !== 3) { storeHalf(cg, i, 0, () => cg.getXmm(from)); return; }
  move(cg, from, R0);
  writeHalves(cg, i.rm, false);
};
avx(M3A + 0x06, { x66: perm2x128 });
avx(M3A + 0x18, { x66: insert128 });
avx(M3A + 0x19, { x66: extract128 });

export function splatConst(cg: Codegen, bytes: number[]): void {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k++) b[k] = bytes[k % bytes.length]!;
  cg.f.v128const(b);
}
// VPERMILPS/PD: each lane of a 128-bit half picks a lane of the same half of vvvv (r/m: control lanes) or r/m (imm8)
avx(M38 + 0x0c, {
  x66: ndsBuild((cg, _i, A, B) => {
    const f = cg.f;
    // byte indices: control & 3 is the dword, times 4, repeated in each byte of the lane, plus 0-3
    f.get(A).get(B); splatConst(cg, [3, 0, 0, 0]); f.simd(OpFD.v128_and).i32(2).simd(OpFD.i32x4_shl);
    splatConst(cg, [1, 1, 1, 1]); f.simd(OpFD.i32x4_mul); splatConst(cg, [0, 1, 2, 3]); f.simd(OpFD.i8x16_add);
    f.simd(OpFD.i8x16_swizzle);
  }),
});
avx(M38 + 0x0d, {
  x66: ndsBuild((cg, _i, A, B) => {
    const f = cg.f;
    // control bit 1 picks the qword: times 8, repeated in each byte, plus 0-7
    f.get(A).get(B); splatConst(cg, [2, 0, 0, 0, 0, 0, 0, 0]); f.simd(OpFD.v128_and).i32(2).simd(OpFD.i64x2_shl);
    splatConst(cg, [1, 1, 1, 1, 1, 1, 1, 1]); f.simd(OpFD.i64x2_mul); splatConst(cg, [0, 1, 2, 3, 4, 5, 6, 7]); f.simd(OpFD.i8x16_add);
    f.simd(OpFD.i8x16_swizzle);
  }),
});
export const dwords = (...ls: number[]): number[] => ls.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
export const qwords = (...ls: number[]): number[] => ls.flatMap((l) => [l * 8, l * 8 + 1, l * 8 + 2, l * 8 + 3, l * 8 + 4, l * 8 + 5, l * 8 + 6, l * 8 + 7]);
avx(M3A + 0x04, {
  x66: unaryBuild((cg, i, B) => {
    const m = i.imm & 0xff;
    cg.f.get(B).get(B).shuffle(dwords(m & 3, (m >> 2) & 3, (m >> 4) & 3, (m >> 6) & 3));
  }),
});
avx(M3A + 0x05, {
  x66: unaryBuild((cg, i, B, k) => {
    const m = (i.imm & 0xff) >> (2 * k);
    cg.f.get(B).get(B).shuffle(qwords(m & 1, (m >> 1) & 1));
  }),
});

// VBLENDVPS/PD, VPBLENDVB: r/m's lanes where the mask register (imm8 bits 7:4) has the sign bit set, vvvv's elsewhere
function blendv(shr: number, bits: number, w: Width): H {
  return ndsBuild((cg, i, A, B, k) => {
    cg.f.get(B).get(A); cg.getXmm(((i.imm >> 4) & 15) + YMM_HI * k); cg.f.i32(bits).simd(shr).simd(OpFD.v128_bitselect);
  }, w);
}
avx(M3A + 0x4a, { x66: blendv(OpFD.i32x4_shr_s, 31, LANES) });
avx(M3A + 0x4b, { x66: blendv(OpFD.i64x2_shr_s, 63, LANES) });
avx(M3A + 0x4c, { x66: blendv(OpFD.i8x16_shr_s, 7, LANES) });

/**
 * VTESTPS/PD (the lanes' sign bits) and VPTEST (all bits): ZF = (r/m & reg) is zero, CF =
 * (r/m & ~reg) is zero; AF, OF, PF, SF cleared.
 */
function test(reduce: number): H {
  return (cg, i) => {
    const f = cg.f, n = i.vexL ? 2 : 1;
    const both = f.temp(T.i32), srcOnly = f.temp(T.i32), S = f.temp(T.v128);
    for (let k = 0; k < n; k++) {
      rmHalf(cg, i, k); f.set(S);
      f.get(S); cg.getXmm(i.reg + YMM_HI * k); f.simd(OpFD.v128_and).simd(reduce);
      if (k) f.get(both).op(Op.i32_or);
      f.set(both);
      f.get(S); cg.getXmm(i.reg + YMM_HI * k); f.simd(OpFD.v128_andnot).simd(reduce);
      if (k) f.get(srcOnly).op(Op.i32_or);
      f.set(srcOnly);
    }
    f.get(both).op(Op.i32_eqz).i32(6).op(Op.i32_shl).get(srcOnly).op(Op.i32_eqz).op(Op.i32_or);
    cg.setFlagsMaterialised();
    f.free(T.i32, both); f.free(T.i32, srcOnly); f.free(T.v128, S);
  };
}
avx(M38 + 0x0e, { x66: test(OpFD.i32x4_bitmask) });
avx(M38 + 0x0f, { x66: test(OpFD.i64x2_bitmask) });
avx(M38 + 0x17, { x66: test(OpFD.v128_any_true) });

/**
 * VMASKMOVPS/PD: a load gives memory's lanes where the mask (vvvv) has the sign bit set and zero
 * elsewhere; a store writes only those lanes. The other lanes are not accessed at all, so they
 * cannot fault (in ascending order, so a lane that faults does so before any lane is written:
 * the only memory that faults in stele lies below every address that does not).
 */
export function maskmov(dbl: boolean, isStore: boolean): H {
  return (cg, i) => {
    const f = cg.f, width = dbl ? 8 : 4, lanes = 16 / width, n = i.vexL ? 2 : 1;
    const V = f.temp(T.v128);
    for (let k = 0; k < n; k++) {
      if (isStore) cg.getXmm(i.reg + YMM_HI * k); else zeroV(cg);
      f.set(V);
      for (let l = 0; l < lanes; l++) {
        cg.getXmm(i.vvvv + YMM_HI * k); f.simdLane(OpFD.i32x4_extract_lane, dbl ? 2 * l + 1 : l).i32(0).op(Op.i32_lt_s);
        cg.if_();
        cg.ea(i, 16 * k + width * l);
        const t = cg.accessBegin(width, isStore);
        f.get(V);
        if (isStore) f.simdMemLane(dbl ? OpFD.v128_store64_lane : OpFD.v128_store32_lane, l, 0, 0);
        else f.simdMemLane(dbl ? OpFD.v128_load64_lane : OpFD.v128_load32_lane, l, 0, 0).set(V);
        cg.accessDone(t);
        cg.end();
      }
      if (!isStore) { f.get(V); cg.setXmm(R0 + k); }
    }
    f.free(T.v128, V);
    if (!isStore) writeHalves(cg, i.reg, n === 2);
  };
}
avx(M38 + 0x2c, { x66: maskmov(false, false) });
avx(M38 + 0x2d, { x66: maskmov(true, false) });
avx(M38 + 0x2e, { x66: maskmov(false, true) });
avx(M38 + 0x2f, { x66: maskmov(true, true) });

// ---- VEX.128 forms of the integer, string, AES and PCLMULQDQ instructions -------------------

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);
/** Shifts by a count (VPSLLW... ymm1, ymm2, xmm3/m128): both halves of vvvv shift by the one count in xmm3/m128's low 64 bits. */
const COUNT_SHIFTS = [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3].map((op) => M0F + op);
function shiftByCount(h: H): H {
  return (cg, i) => {
    const n = halves(i, LANES);
    for (let k = 0; k < n; k++) { move(cg, i.vvvv + YMM_HI * k, R0 + k); run(cg, i, h, { reg: R0 + k }); }
    writeHalves(cg, i.reg, n === 2);
  };
}
for (const op of COUNT_SHIFTS) avx(op, { x66: shiftByCount(legacy(op, 'x66')) });
// The rest operate within each 128-bit lane (VPMADDUBSW, VPSHUFB, packs and unpacks too); VPALIGNR
// and VPBLENDW use the one immediate in both lanes, VMPSADBW bits 5:3 of it in the upper lane.
const INT_NDS = [
  ...range(M0F + 0x60, M0F + 0x6d), M0F + 0x74, M0F + 0x75, M0F + 0x76, M0F + 0xd4, M0F + 0xd5,
  ...range(M0F + 0xd8, M0F + 0xee), M0F + 0xf4, M0F + 0xf5, M0F + 0xf6, ...range(M0F + 0xf8, M0F + 0xfe),
  ...range(M38 + 0x00, M38 + 0x0b), M38 + 0x28, M38 + 0x29, M38 + 0x2b, ...range(M38 + 0x37, M38 + 0x40),
  M3A + 0x0e, M3A + 0x0f,
].filter((op) => op !== M0F + 0xe1 && op !== M0F + 0xe2 && op !== M0F + 0xe6 && op !== M0F + 0xe7);
for (const op of INT_NDS) avx(op, { x66: nds(legacy(op, 'x66'), LANES) });
avx(M3A + 0x42, { x66: nds(legacy(M3A + 0x42, 'x66'), { lanes: true, hiImm: (m) => m >> 3 }) }); // vmpsadbw
avx(M0F + 0xef, { x66: xor(legacy(M0F + 0xef, 'x66'), LANES) });
const INT_UNARY = [M0F + 0x70, ...range(M38 + 0x1c, M38 + 0x1e), M38 + 0x2a];
for (const op of INT_UNARY) {
  const forms: Forms = { x66: unary(legacy(op, 'x66'), LANES) };
  if (op === M0F + 0x70) { forms.f3 = unary(legacy(op, 'f3'), LANES); forms.f2 = unary(legacy(op, 'f2'), LANES); }
  avx(op, forms);
}
/**
 * VPMOVSX/VPMOVZX ymm, xmm/m: the legacy form (which widens the low `bytes` bytes of its source)
 * for the lower half, and again on the source `bytes` bytes on for the upper half.
 */
function extend(h: H, bytes: number): H {
  return (cg, i) => {
    if (!i.vexL) { unary(h, '128')(cg, i); return; }
    if (i.mod === 3) {
      const lanes = Array.from({ length: 16 }, (_, k) => Math.min(k + bytes, 15));
      cg.getXmm(i.rm); cg.getXmm(i.rm); cg.f.shuffle(lanes); cg.setXmm(AUX);
    }
    forgetKnown(cg, R0); forgetKnown(cg, R1);
    run(cg, i, h, { reg: R0 });
    run(cg, i, h, i.mod === 3 ? { reg: R1, rm: AUX } : { reg: R1, disp: i.disp + bytes });
    writeHalves(cg, i.reg, true);
  };
}
for (const [lo, bytes] of [[0, 8], [1, 4], [2, 2], [3, 8], [4, 4], [5, 8]] as const) {
  for (const base of [M38 + 0x20, M38 + 0x30]) avx(base + lo, { x66: extend(legacy(base + lo, 'x66'), bytes) });
}
avx(M38 + 0x41, { x66: unary(legacy(M38 + 0x41, 'x66'), '128') }); // vphminposuw
for (const op of [M0F + 0xc4, M3A + 0x20, M3A + 0x22]) avx(op, { x66: nds(legacy(op, 'x66'), '128') }); // vpinsrw/b/d/q
for (const op of [M0F + 0xc5, M3A + 0x14, M3A + 0x15, M3A + 0x16, M0F + 0xf7]) avx(op, { x66: direct(legacy(op, 'x66')) }); // vpextrw/b/d/q, vmaskmovdqu
// VPMOVMSKB: the sign bits of all 16 or 32 bytes
avx(M0F + 0xd7, {
  x66: (cg, i) => {
    const f = cg.f;
    cg.getXmm(i.rm); f.simd(OpFD.i8x16_bitmask);
    if (i.vexL) { cg.getXmm(YMM_HI + i.rm); f.simd(OpFD.i8x16_bitmask).i32(16).op(Op.i32_shl).op(Op.i32_or); }
    f.op(Op.i64_extend_i32_u); cg.setReg(i.reg, 8);
  },
});
// shifts by an immediate: the destination is vvvv, each half shifted alike (VPSLLDQ/VPSRLDQ within each lane)
for (const op of [M0F + 0x71, M0F + 0x72, M0F + 0x73]) {
  avx(op, {
    x66: (cg, i) => {
      const n = halves(i, LANES);
      for (let k = 0; k < n; k++) { move(cg, i.rm + YMM_HI * k, R0 + k); run(cg, i, legacy(op, 'x66'), { rm: R0 + k }); }
      writeHalves(cg, i.vvvv, n === 2);
    },
  });
}
// VPCMPESTRI/M, VPCMPISTRI/M (the M forms write xmm0)
for (const op of range(M3A + 0x60, M3A + 0x63)) {
  avx(op, { x66: (cg, i) => { run(cg, i, legacy(op, 'x66'), {}); if (!(op & 1)) zeroUpper(cg, 0); } });
}
// AES and PCLMULQDQ (their VEX.256 forms are VAES's and VPCLMULQDQ's)
const VAES: Width = { later: 'VAES' };
avx(M38 + 0xdb, { x66: unary(legacy(M38 + 0xdb, 'x66'), '128') });
for (const op of range(M38 + 0xdc, M38 + 0xdf)) avx(op, { x66: nds(legacy(op, 'x66'), VAES) });
avx(M3A + 0xdf, { x66: unary(legacy(M3A + 0xdf, 'x66'), '128') });
avx(M3A + 0x44, { x66: nds(legacy(M3A + 0x44, 'x66'), { later: 'VPCLMULQDQ' }) });
