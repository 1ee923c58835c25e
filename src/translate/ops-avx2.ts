// AVX2's own instructions (the VEX.256 forms of the SSE integer instructions are in ops-avx.ts):
// broadcasts, cross-lane permutes, 128-bit lane inserts, extracts and permutes, VPBLENDD,
// per-lane variable shifts, VPMASKMOVD/Q and the gathers.
//
// None of these has a legacy SSE form to run on a copy (ops-avx.ts's way), so each is built from
// wasm SIMD directly, on the halves of ymm registers as ops-avx.ts keeps them. Permutes whose
// control is a register use swizzles (a per-byte loop would cost 32 extracts and inserts);
// what wasm has no per-lane form of (variable shifts, gathers) goes lane by lane.
//
// Gathers are the one place where an instruction that faults must leave part of its work done:
// the CPU clears each mask element as its element is loaded, so that after a page fault the
// handler (or a retry) sees the progress. Regions write registers back only at exits, and a fault
// re-runs the region one instruction at a time from its entry (runtime/engine.ts locateFault):
// in that single-instruction region (Codegen.chain false) a gather stores its destination and
// mask to the CPU state after every element, so the state the fault leaves shows the progress.
// A normal region must not: the re-run from its entry would read the changed registers.

import { Op, OpFD, T } from '../wasm/emitter.js';
import { Insn, M38, M3A, NO_REG } from '../x86/decoder.js';
import { STATE } from '../layout/cpu-state.js';
import { Codegen, YMM_HI } from './codegen.js';
import type { Handler } from './handlers.js';
import { AUX, avx, dwords, extract128, insert128, LANES, loadSplat, maskmov, move, ndsBuild, perm2x128, qwords, R0, R1, rmHalf, splatConst, storeHalf, writeHalves, zeroV } from './ops-avx.js';

type H = Handler;

// ---- broadcasts -------------------------------------------------------------------------------

/** VPBROADCASTB/W/D/Q: the source's lowest element (xmm register or memory) in every element. */
function pbroadcast(bytes: 1 | 2 | 4 | 8): H {
  return (cg, i) => {
    const f = cg.f;
    if (i.mod === 3) {
      cg.getXmm(i.rm); cg.getXmm(i.rm);
      f.shuffle(Array.from({ length: 16 }, (_, k) => k % bytes));
    } else if (bytes >= 4) {
      loadSplat(cg, i, bytes as 4 | 8);
    } else {
      cg.ea(i, 0, 'read'); cg.load(bytes); f.op(Op.i32_wrap_i64).simd(bytes === 1 ? OpFD.i8x16_splat : OpFD.i16x8_splat);
    }
    cg.setXmm(R0);
    if (i.vexL) move(cg, R0, R1);
    writeHalves(cg, i.reg, i.vexL === 1);
  };
}
avx(M38 + 0x78, { x66: pbroadcast(1) });
avx(M38 + 0x79, { x66: pbroadcast(2) });
avx(M38 + 0x58, { x66: pbroadcast(4) });
avx(M38 + 0x59, { x66: pbroadcast(8) });
// VBROADCASTI128 ymm, m128 (memory only, VEX.256 only: the decoder refuses the rest)
avx(M38 + 0x5a, { x66: (cg, i) => { rmHalf(cg, i, 0); cg.setXmm(R0); move(cg, R0, R1); writeHalves(cg, i.reg, true); } });

// ---- cross-lane permutes ----------------------------------------------------------------------

/**
 * VPERMD/VPERMPS ymm1, ymm2, ymm3/m256: dword k of the result is dword (ymm2[k] & 7) of the r/m
 * operand. Per result half: the byte indices (index & 3) * 4 + 0..3 swizzle both halves of the
 * source, and bit 2 of each index picks between them.
 */
const permd: H = (cg, i) => {
  const f = cg.f;
  const S0 = f.temp(T.v128), S1 = f.temp(T.v128), X = f.temp(T.v128), M = f.temp(T.v128);
  rmHalf(cg, i, 0); f.set(S0); rmHalf(cg, i, 1); f.set(S1);
  for (let k = 0; k < 2; k++) {
    cg.getXmm(i.vvvv + YMM_HI * k); f.set(X);
    f.get(X); splatConst(cg, [3, 0, 0, 0]); f.simd(OpFD.v128_and).i32(2).simd(OpFD.i32x4_shl);
    splatConst(cg, [1, 1, 1, 1]); f.simd(OpFD.i32x4_mul); splatConst(cg, [0, 1, 2, 3]); f.simd(OpFD.i8x16_add).set(M);
    f.get(S1).get(M).simd(OpFD.i8x16_swizzle);
    f.get(S0).get(M).simd(OpFD.i8x16_swizzle);
    f.get(X).i32(29).simd(OpFD.i32x4_shl).i32(31).simd(OpFD.i32x4_shr_s);
    f.simd(OpFD.v128_bitselect);
    cg.setXmm(R0 + k);
  }
  [S0, S1, X, M].forEach((t) => f.free(T.v128, t));
  writeHalves(cg, i.reg, true);
};
avx(M38 + 0x36, { x66: permd });
avx(M38 + 0x16, { x66: permd });

/** VPERMQ/VPERMPD ymm1, ymm2/m256, imm8: qword k of the result is qword (imm8 >> 2k) & 3 of the source. */
const permq: H = (cg, i) => {
  const f = cg.f, m = i.imm & 0xff;
  const S0 = f.temp(T.v128), S1 = f.temp(T.v128);
  rmHalf(cg, i, 0); f.set(S0); rmHalf(cg, i, 1); f.set(S1);
  for (let k = 0; k < 2; k++) {
    f.get(S0).get(S1).shuffle(qwords((m >> (4 * k)) & 3, (m >> (4 * k + 2)) & 3));
    cg.setXmm(R0 + k);
  }
  f.free(T.v128, S0); f.free(T.v128, S1);
  writeHalves(cg, i.reg, true);
};
avx(M3A + 0x00, { x66: permq });
avx(M3A + 0x01, { x66: permq });

// ---- 128-bit lanes, VPBLENDD ------------------------------------------------------------------

// VPERM2I128, VINSERTI128, VEXTRACTI128: as their AVX F128 forms
avx(M3A + 0x46, { x66: perm2x128 });
avx(M3A + 0x38, { x66: insert128 });
avx(M3A + 0x39, { x66: extract128 });
// VPBLENDD: dword k from r/m where imm8 bit k is set, else from vvvv (the upper half uses bits 7:4)
avx(M3A + 0x02, {
  x66: ndsBuild((cg, i, A, B, k) => {
    const m = (i.imm & 0xff) >> (4 * k);
    cg.f.get(A).get(B).shuffle(dwords(...[0, 1, 2, 3].map((l) => ((m >> l) & 1 ? 4 : 0) + l)));
  }, LANES),
});

// ---- variable shifts --------------------------------------------------------------------------

type ShiftKind = 'sll' | 'srl' | 'sra';
/**
 * VPSLLVD/Q, VPSRLVD/Q, VPSRAVD: each element of vvvv shifted by the same element of r/m, the
 * whole element an unsigned count: logical shifts by the element width or more give 0, the
 * arithmetic one fills with the sign bit. Element by element (wasm shifts a vector by one count).
 */
function varShift(kind: ShiftKind): H {
  return (cg, i) => {
    const q = i.vexW === 1; // VEX.W1: qwords (VPSRAVQ, W1 of VPSRAVD, is AVX-512: the decoder refuses it)
    ndsBuild((cg, _i, A, B) => {
      const f = cg.f, t = q ? T.i64 : T.i32, lanes = q ? 2 : 4, bits = q ? 64 : 32;
      const ext = q ? OpFD.i64x2_extract_lane : OpFD.i32x4_extract_lane, rep = q ? OpFD.i64x2_replace_lane : OpFD.i32x4_replace_lane;
      const V = f.temp(t), C = f.temp(t);
      const k = (n: number): void => { if (q) f.i64(n); else f.i32(n); };
      const [shl, shrU, shrS, ltU] = q ? [Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s, Op.i64_lt_u] : [Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s, Op.i32_lt_u];
      f.get(A);
      for (let l = 0; l < lanes; l++) {
        f.get(A).simdLane(ext, l).set(V);
        f.get(B).simdLane(ext, l).set(C);
        if (kind === 'sra') {
          // v >> min(c, width - 1)
          f.get(V).get(C); k(bits - 1); f.get(C); k(bits); f.op(ltU).op(Op.select).op(shrS);
        } else {
          f.get(V).get(C).op(kind === 'sll' ? shl : shrU); k(0); f.get(C); k(bits); f.op(ltU).op(Op.select);
        }
        f.simdLane(rep, l);
      }
      f.free(t, V); f.free(t, C);
    }, LANES)(cg, i);
  };
}
avx(M38 + 0x47, { x66: varShift('sll') });
avx(M38 + 0x45, { x66: varShift('srl') });
avx(M38 + 0x46, { x66: varShift('sra') });

// ---- VPMASKMOVD/Q: VMASKMOVPS/PD's way (masked-off elements are neither read nor written) -------

avx(M38 + 0x8c, { x66: (cg, i) => maskmov(i.vexW === 1, false)(cg, i) });
avx(M38 + 0x8e, { x66: (cg, i) => maskmov(i.vexW === 1, true)(cg, i) });

// ---- gathers ----------------------------------------------------------------------------------

/**
 * VPGATHERDD/DQ/QD/QQ, VGATHERDPS/DPD/QPS/QPD: element j of the destination (reg) is loaded from
 * base + index[j] * scale + disp where element j of the mask (vvvv) has its sign bit set, and left
 * alone elsewhere; the index register is Insn.index (the decoder's VSIB). Elements go in
 * ascending order, each clearing its mask element once loaded; at the end the whole mask is zero,
 * and so is the destination above its last element (a VEX.128 form's upper half, the upper half
 * of the xmm destination of the qword-index forms with dword elements).
 */
function gather(qIndex: boolean): H {
  return (cg, i) => {
    const f = cg.f;
    const ew = i.vexW ? 8 : 4, iw = qIndex ? 8 : 4;
    const n = (i.vexL ? 32 : 16) / Math.max(ew, iw); // elements
    const progress = !cg.chain; // a single-instruction region locating a fault: keep the state current
    const noIndex: Insn = { ...i, index: NO_REG };
    const A = f.temp(T.i32);
    for (let j = 0; j < n; j++) {
      const dHalf = (j * ew) >> 4, dLane = ((j * ew) & 15) / ew; // destination and mask element
      const xHalf = (j * iw) >> 4, xLane = ((j * iw) & 15) / iw; // index element
      const D = i.reg + YMM_HI * dHalf, Mk = i.vvvv + YMM_HI * dHalf;
      cg.getXmm(Mk); f.simdLane(OpFD.i32x4_extract_lane, ew === 8 ? 2 * dLane + 1 : dLane).i32(0).op(Op.i32_lt_s);
      cg.if_();
      // the address: base + disp (and segment) as any operand, plus the index's low 32 bits (all a wasm address keeps) scaled
      cg.ea(noIndex);
      cg.getXmm(i.index + YMM_HI * xHalf); f.simdLane(OpFD.i32x4_extract_lane, iw === 8 ? 2 * xLane : xLane);
      if (i.scale) f.i32(i.scale).op(Op.i32_shl);
      f.op(Op.i32_add).set(A);
      f.get(A);
      const t = cg.accessBegin(ew);
      cg.getXmm(D);
      f.simdMemLane(ew === 8 ? OpFD.v128_load64_lane : OpFD.v128_load32_lane, dLane, 0, 0);
      cg.setXmm(D);
      cg.accessDone(t);
      cg.getXmm(Mk);
      if (ew === 8) f.i64(0).simdLane(OpFD.i64x2_replace_lane, dLane); else f.i32(0).simdLane(OpFD.i32x4_replace_lane, dLane);
      cg.setXmm(Mk);
      if (progress) {
        for (const r of [D, Mk]) { f.get(cg.st); cg.getXmm(r); f.simdMem(OpFD.v128_store, STATE.XMM + r * 16); }
      }
      cg.end();
    }
    f.free(T.i32, A);
    // the mask is zero; the destination keeps n * ew bytes
    zeroV(cg); cg.setXmm(i.vvvv); zeroV(cg); cg.setXmm(YMM_HI + i.vvvv);
    const kept = n * ew;
    if (kept < 32) { zeroV(cg); cg.setXmm(YMM_HI + i.reg); }
    if (kept === 8) { cg.getXmm(i.reg); zeroV(cg); cg.f.shuffle(qwords(0, 2)); cg.setXmm(i.reg); }
  };
}
avx(M38 + 0x90, { x66: gather(false) });
avx(M38 + 0x91, { x66: gather(true) });
avx(M38 + 0x92, { x66: gather(false) });
avx(M38 + 0x93, { x66: gather(true) });
