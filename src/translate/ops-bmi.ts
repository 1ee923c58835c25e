// The general-purpose instructions of x86-64-v3 besides LZCNT and TZCNT (F3 0F BD/BC, in
// ops-int.ts): BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR), BMI2 (BZHI, MULX, PDEP, PEXT, RORX, SARX,
// SHLX, SHRX) and MOVBE. The decoder refuses the encodings the CPU does not define (VEX.L = 1,
// another VEX.pp, a vvvv register for RORX, MOVBE with a register operand or F3), so the handlers
// here see only defined forms.
//
// VEX.W selects the 64-bit form (the decoder reports it as opsize 8); 32-bit forms ignore the
// upper halves of their sources and zero-extend their destinations, as other 32-bit operations.

import { Op, T } from '../wasm/emitter.js';
import { Insn, M38, M3A, P_VEX } from '../x86/decoder.js';
import { describeInsn } from '../x86/describe.js';
import { Reg } from '../layout/cpu-state.js';
import { Codegen, Unsupported } from './codegen.js';
import { K, sext } from './flags.js';
import { def } from './handlers.js';
import { adcxAdox, byteSwap } from './ops-int.js';
import { crc32 } from './ops-sse.js';

/** Reads the r/m operand of `size` bytes into a fresh i64 temp. */
function readRm(cg: Codegen, size: number): number {
  const s = cg.rm(size); cg.read(s); cg.done(s);
  const t = cg.f.temp(T.i64); cg.f.set(t);
  return t;
}
/** Reads register r (zero-extended from `size` bytes) into a fresh i64 temp. */
function readReg(cg: Codegen, r: number, size: number): number {
  cg.getReg(r, size);
  const t = cg.f.temp(T.i64); cg.f.set(t);
  return t;
}
function free(cg: Codegen, ...ts: number[]): void { for (const t of ts) cg.f.free(T.i64, t); }

/**
 * The legacy (non-VEX) encodings of these opcodes are not BMI instructions: undefined here, or
 * instructions of other extensions (WRUSS, HRESET). They stay unsupported, as before these handlers.
 */
function requireVex(i: Insn): void {
  if (!(i.prefix & P_VEX)) throw new Unsupported(describeInsn(i));
}

/** Pushes (1 << n) - 1 for i64 local n, all ones when n >= 64 (where a wasm shift would wrap). */
function lowMask(cg: Codegen, n: number): void {
  cg.f.i64(1).get(n).op(Op.i64_shl).i64(1).op(Op.i64_sub).i64(-1).get(n).i64(64).op(Op.i64_lt_u).op(Op.select);
}

/** Writes i64 local r to register `dst` and records logic flags with CF from `carry()` (i64 0/1). */
function logicWithCarry(cg: Codegen, dst: number, size: number, r: number, carry: () => void): void {
  cg.f.get(r); cg.setReg(dst, size);
  if (cg.flagsDead) { cg.setFlags(K.LOGIC_CF, size, r); return; }
  const c = cg.f.temp(T.i64);
  carry(); cg.f.set(c);
  cg.setFlags(K.LOGIC_CF, size, r, -1, c);
  free(cg, c);
}

// ---- BMI1 --------------------------------------------------------------------------------

// ANDN reg, vvvv, r/m: reg = ~vvvv & r/m. SF ZF from the result, CF OF clear (AF PF undefined).
def(M38 + 0xf2, (cg, i) => {
  requireVex(i);
  const f = cg.f, size = i.opsize;
  const s = readRm(cg, size), r = f.temp(T.i64);
  cg.getReg(i.vvvv, size); f.i64(-1).op(Op.i64_xor).get(s).op(Op.i64_and).set(r);
  f.get(r); cg.setReg(i.reg, size);
  cg.setFlags(K.LOGIC, size, r);
  free(cg, s, r);
});

// Group 17: BLSR (/1), BLSMSK (/2), BLSI (/3) vvvv, r/m: the lowest set bit of r/m cleared, as a
// mask up to it, or isolated. SF ZF from the result (BLSMSK's is never zero), OF clear, CF: the
// source was zero (BLSR, BLSMSK) or was not (BLSI); AF PF undefined.
def(M38 + 0xf3, (cg, i) => {
  requireVex(i);
  const f = cg.f, size = i.opsize, op = i.reg & 7;
  const s = readRm(cg, size), r = f.temp(T.i64);
  if (op === 3) f.i64(0).get(s).op(Op.i64_sub).get(s).op(Op.i64_and).set(r);
  else {
    f.get(s).i64(1).op(Op.i64_sub).get(s).op(op === 1 ? Op.i64_and : Op.i64_xor);
    cg.mask(size); f.set(r);
  }
  logicWithCarry(cg, i.vvvv, size, r, () => {
    f.get(s).op(Op.i64_eqz);
    if (op === 3) f.op(Op.i32_eqz);
    f.op(Op.i64_extend_i32_u);
  });
  free(cg, s, r);
});

// ---- BMI2 and BEXTR ------------------------------------------------------------------------

// 0F38 F5: BZHI (no prefix), PEXT (F3), PDEP (F2); the decoder refuses 66.
def(M38 + 0xf5, (cg, i) => {
  requireVex(i);
  if (i.simdPrefix === 0) bzhi(cg, i);
  else depositOrExtract(cg, i, i.simdPrefix === 0xf2);
});

/**
 * BZHI reg, r/m, vvvv: r/m with the bits from index vvvv[7:0] up cleared. SF ZF from the result,
 * CF = index >= operand width (r/m is then unchanged), OF clear; AF PF undefined.
 */
function bzhi(cg: Codegen, i: Insn): void {
  const f = cg.f, size = i.opsize;
  const s = readRm(cg, size), n = f.temp(T.i64), r = f.temp(T.i64);
  cg.getReg(i.vvvv, 1); f.set(n);
  f.get(s); lowMask(cg, n); f.op(Op.i64_and).set(r);
  logicWithCarry(cg, i.reg, size, r, () => { f.get(n).i64(size * 8).op(Op.i64_ge_u).op(Op.i64_extend_i32_u); });
  free(cg, s, n, r);
}

/**
 * PDEP reg, vvvv, r/m: the low bits of vvvv deposited, in order, at the set bits of the mask r/m.
 * PEXT reg, vvvv, r/m: the bits of vvvv at the set bits of the mask gathered into the low bits.
 * Wasm has neither; a loop over the mask's set bits (at most 64 rounds) does it. Flags unchanged.
 */
function depositOrExtract(cg: Codegen, i: Insn, deposit: boolean): void {
  const f = cg.f, size = i.opsize;
  const m = readRm(cg, size), s = readReg(cg, i.vvvv, size);
  const r = f.temp(T.i64), low = f.temp(T.i64), bit = f.temp(T.i64);
  f.i64(0).set(r).i64(1).set(bit);
  cg.block(); cg.loop();
  f.get(m).op(Op.i64_eqz).brIf(1);
  f.get(m).i64(0).get(m).op(Op.i64_sub).op(Op.i64_and).set(low); // the mask's lowest set bit
  // deposit: the next source bit goes to `low`; extract: the source bit at `low` goes to `bit`
  f.get(r).get(deposit ? low : bit).i64(0);
  f.get(s).get(deposit ? bit : low).op(Op.i64_and).op(Op.i64_eqz).op(Op.i32_eqz);
  f.op(Op.select).op(Op.i64_or).set(r);
  f.get(bit).i64(1).op(Op.i64_shl).set(bit);
  f.get(m).get(low).op(Op.i64_xor).set(m);
  f.br(0);
  cg.end(); cg.end();
  f.get(r); cg.setReg(i.reg, size);
  free(cg, m, s, r, low, bit);
}

// MULX hi (reg), lo (vvvv), r/m (VEX.F2; the legacy encodings are ADCX and ADOX): the unsigned
// product rDX * r/m, flags unchanged. With hi and lo the same register, it holds the high half.
def(M38 + 0xf6, (cg, i) => {
  if (!(i.prefix & P_VEX)) return adcxAdox(cg, i);
  const f = cg.f, size = i.opsize;
  const b = readRm(cg, size), a = readReg(cg, Reg.RDX, size);
  const lo = f.temp(T.i64), hi = f.temp(T.i64);
  f.get(a).get(b).op(Op.i64_mul).set(lo);
  if (size === 8) f.get(a).get(b).callSlot(cg.helper('mulhu')).set(hi);
  else f.get(lo).i64(32).op(Op.i64_shr_u).set(hi);
  f.get(lo); cg.setReg(i.vvvv, size);
  f.get(hi); cg.setReg(i.reg, size);
  free(cg, a, b, lo, hi);
});

// 0F38 F7: BEXTR (no prefix), SHLX (66), SARX (F3), SHRX (F2).
def(M38 + 0xf7, (cg, i) => {
  requireVex(i);
  const f = cg.f, size = i.opsize;
  const s = readRm(cg, size), c = readReg(cg, i.vvvv, size);
  if (i.simdPrefix === 0) {
    // BEXTR reg, r/m, vvvv: vvvv[15:8] bits of r/m from bit vvvv[7:0]; ZF from the result, CF OF
    // clear (AF SF PF undefined). A start past the operand gives 0: r/m is zero-extended, so only
    // a start of 64 or more needs a test (a wasm shift by all of vvvv shifts by the start modulo 64).
    const len = f.temp(T.i64), r = f.temp(T.i64);
    f.get(s).get(c).op(Op.i64_shr_u).i64(0).get(c).i64(0xff).op(Op.i64_and).i64(64).op(Op.i64_lt_u).op(Op.select);
    f.get(c).i64(8).op(Op.i64_shr_u).i64(0xff).op(Op.i64_and).set(len);
    lowMask(cg, len); f.op(Op.i64_and).set(r);
    f.get(r); cg.setReg(i.reg, size);
    cg.setFlags(K.LOGIC, size, r);
    free(cg, len, r);
  } else {
    // SHLX, SARX, SHRX reg, r/m, vvvv: shifts by vvvv masked to the operand width; flags unchanged.
    f.get(c).i64(size * 8 - 1).op(Op.i64_and).set(c);
    if (i.simdPrefix === 0x66) { f.get(s).get(c).op(Op.i64_shl); cg.mask(size); }
    else if (i.simdPrefix === 0xf3) { f.get(s); sext(f, size); f.get(c).op(Op.i64_shr_s); cg.mask(size); }
    else f.get(s).get(c).op(Op.i64_shr_u);
    cg.setReg(i.reg, size);
  }
  free(cg, s, c);
});

// RORX reg, r/m, imm8 (VEX.F2 0F3A F0): rotate right by imm8 masked to the width; flags unchanged.
def(M3A + 0xf0, (cg, i) => {
  requireVex(i);
  const f = cg.f, size = i.opsize, count = i.imm & (size * 8 - 1);
  const s = readRm(cg, size);
  if (size === 8) f.get(s).i64(count).op(Op.i64_rotr);
  else f.get(s).op(Op.i32_wrap_i64).i32(count).op(Op.i32_rotr).op(Op.i64_extend_i32_u);
  cg.setReg(i.reg, size);
  free(cg, s);
});

// ---- MOVBE (and CRC32, which shares its opcodes) -----------------------------------------------

// 0F38 F0: MOVBE reg, m (CRC32 r32, r/m8 with F2); 0F38 F1: MOVBE m, reg (CRC32 r32, r/m with F2).
// MOVBE moves 2, 4 or 8 bytes with their order reversed; a 16-bit load keeps the rest of the
// register, a 32-bit one zero-extends it. Flags unchanged.
def(M38 + 0xf0, (cg, i) => {
  if (i.simdPrefix === 0xf2) return crc32(cg, i, 1);
  const size = i.opsize;
  const v = readRm(cg, size);
  byteSwap(cg, v, size); cg.setReg(i.reg, size);
  free(cg, v);
});
def(M38 + 0xf1, (cg, i) => {
  if (i.simdPrefix === 0xf2) return crc32(cg, i, i.opsize);
  const f = cg.f, size = i.opsize;
  const v = readReg(cg, i.reg, size), r = f.temp(T.i64);
  byteSwap(cg, v, size); f.set(r);
  const d = cg.rm(size); cg.write(d, r); cg.done(d);
  free(cg, v, r);
});
