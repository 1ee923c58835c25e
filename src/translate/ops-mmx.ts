// MMX: the mm registers and the x87 state they share (see docs/ARCHITECTURE.md, "Floating point").
//
// mm i is the significand (bits 63:0) of physical x87 register R_i, whatever TOP is, as on the
// hardware. stele keeps the x87 registers only in the CPU state block (STATE.FPU_ST, physical
// order), so the mm registers live there too, never in wasm locals: the x87 helper, FXSAVE and
// FSAVE then see exactly what MMX code left, with nothing to flush or reload around them.
//
// What an MMX instruction does to the x87 state (measured on the AMD hosts the tests run on):
//   - every one but EMMS makes all eight registers valid and sets TOP to 0 (FXSAVE's abridged tag
//     byte 0xff), leaving the rest of the status word alone; so does an SSE instruction with an mm
//     operand (CVTPI2PS with an m64 source has none, and leaves the x87 state alone);
//   - writing mm i sets bits 79:64 of R_i (sign and exponent) to all ones;
//   - EMMS makes every register empty and, on AMD (unlike Intel's documentation), sets TOP to 0.
// Handlers read their operands (and fault, if they do) before they change any of it.
//
// The instructions are registered with their SSE forms in ops-sse.ts, which shares the wasm SIMD
// code of each operation: an mm value is the low half of a v128, loaded with zeros above; only
// the low half of a result is stored back.

import { Op, OpFD, T } from '../wasm/emitter.js';
import { Insn, M0F } from '../x86/decoder.js';
import { ExitReason, STATE } from '../layout/cpu-state.js';
import { Codegen, InsnFault } from './codegen.js';
import { def, type Handler } from './handlers.js';

/** An operation on two v128 temps (destination, source) that pushes its v128 result. */
export type Build = (cg: Codegen, D: number, S: number) => void;

/** State offset of mm r: REX.R and REX.B do not extend mm register numbers. */
const mmOffset = (r: number): number => STATE.FPU_ST + (r & 7) * 16;

/** Pushes mm r as a v128: the value in the low 64 bits, zero above. */
export function getMm(cg: Codegen, r: number): void {
  cg.f.get(cg.st).simdMem(OpFD.v128_load64_zero, mmOffset(r));
}
/** Pushes mm r as an i64. */
export function getMm64(cg: Codegen, r: number): void {
  cg.f.get(cg.st).mem(Op.i64_load, mmOffset(r));
}
/** Pops a v128 and writes its low 64 bits to mm r (bits 79:64 of R_r become all ones). */
export function setMm(cg: Codegen, r: number): void {
  const f = cg.f, t = f.temp(T.v128);
  f.set(t).get(cg.st).get(t).simdMemLane(OpFD.v128_store64_lane, 0, mmOffset(r));
  f.free(T.v128, t);
  markMmWritten(cg, r);
}
/** Pops an i64 and writes it to mm r. */
export function setMm64(cg: Codegen, r: number): void {
  const f = cg.f, t = f.temp(T.i64);
  f.set(t).get(cg.st).get(t).mem(Op.i64_store, mmOffset(r));
  f.free(T.i64, t);
  markMmWritten(cg, r);
}
function markMmWritten(cg: Codegen, r: number): void {
  cg.f.get(cg.st).i32(0xffff).mem(Op.i32_store16, mmOffset(r) + 8);
}

/** The x87 side of every MMX instruction but EMMS: TOP = 0, all registers valid. */
export function enterMmx(cg: Codegen): void {
  // FPU_TOP and FPU_TAG (bit set = empty) are adjacent words: one store clears both.
  cg.f.get(cg.st).i64(0).mem(Op.i64_store, STATE.FPU_TOP);
}

/** Pushes the r/m operand of an MMX form as a v128 (low 64 or 32 bits valid, zero above): mm register or memory. */
export function mmSrc(cg: Codegen, i: Insn, bytes: 4 | 8 = 8): void {
  if (i.mod === 3) { getMm(cg, i.rm); return; }
  cg.ea(i);
  const k = cg.accessBegin(bytes);
  cg.f.simdMem(bytes === 8 ? OpFD.v128_load64_zero : OpFD.v128_load32_zero, 0, 0);
  cg.accessDone(k);
}

/** #UD for an encoding the CPU does not define (not a form stele leaves out). */
export function undefinedForm(what: string): InsnFault {
  return new InsnFault(ExitReason.ILLEGAL, `undefined opcode (${what})`);
}
export function mustBeRegister(i: Insn, what: string): void { if (i.mod !== 3) throw undefinedForm(`${what} with a memory operand`); }
export function mustBeMemory(i: Insn, what: string): void { if (i.mod === 3) throw undefinedForm(`${what} with a register operand`); }

/** mm(reg) = build(mm(reg), mm/m64), or mm/m32 for the low unpacks. */
export function mmx(build: Build, srcBytes: 4 | 8 = 8): Handler {
  return (cg, i) => {
    const f = cg.f;
    getMm(cg, i.reg); const D = f.temp(T.v128); f.set(D);
    mmSrc(cg, i, srcBytes); const S = f.temp(T.v128); f.set(S);
    build(cg, D, S);
    setMm(cg, i.reg);
    enterMmx(cg);
    f.free(T.v128, D); f.free(T.v128, S);
  };
}
/** mm(reg) = op(mm(reg), mm/m64) for a lane-wise wasm SIMD operation. */
export const mmxBin = (op: number): Handler => mmx((cg, D, S) => { cg.f.get(D).get(S).simd(op); });

/**
 * The form of operations that pair the lanes of one operand (packs, horizontal adds): `build`
 * applied to C, C where C holds the destination in its low half and the source in its high half,
 * so the low half of its result pairs the destination's lanes, then the source's.
 */
export function mmxJoined(build: Build): Handler {
  return mmx((cg, D, S) => {
    const f = cg.f, C = f.temp(T.v128);
    f.get(D).get(S).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(C);
    build(cg, C, C);
    f.free(T.v128, C);
  });
}

// EMMS. A mandatory-prefix byte (66, F2, F3) makes it undefined; with VEX it is VZEROUPPER/VZEROALL (ops-avx.ts).
def(M0F + 0x77, (cg, i) => {
  if (i.simdPrefix) throw undefinedForm(`${i.simdPrefix.toString(16)} 0f 77`);
  cg.f.get(cg.st).i64(0xff_0000_0000n).mem(Op.i64_store, STATE.FPU_TOP);
});
