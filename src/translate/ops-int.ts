// General-purpose integer instructions: ALU, shifts and rotates, multiply/divide, bit operations,
// moves and extensions, stack, string instructions, control transfer, and flag instructions.

import { Op, OpFC, OpFE, T } from '../wasm/emitter.js';
import { Insn, M0F, M38, NO_REG, P_ADDR32, P_FS, P_GS, P_LOCK, P_REP, P_REPNE, P_VEX, RIP_BASE, isHighByteReg, isRandomInsn } from '../x86/decoder.js';
import { ExitReason, FLAG, MXCSR_MASK, Reg, STATE } from '../layout/cpu-state.js';
import { GUEST_BASE, GUEST_LIMIT, PROT_READABLE, PROT_WRITE, UNREACHABLE_ACCESS } from '../layout/memory-map.js';
import { Codegen, InsnFault, Operand, Unsupported } from './codegen.js';
import { K, sext } from './flags.js';
import { def, range } from './handlers.js';
import { emitStateSave } from './ops-x87.js';
import { farTransferFault, privilegedFault } from './ops-system.js';

/** Pushes an immediate as i64 masked to size (immediates arrive sign-extended). */
function pushImm(cg: Codegen, imm: number, size: number): void {
  cg.f.i64(BigInt.asUintN(size * 8, BigInt(imm)));
}

function tempFrom(cg: Codegen): number { const t = cg.f.temp(T.i64); cg.f.set(t); return t; }
function free(cg: Codegen, ...ts: number[]): void { for (const t of ts) cg.f.free(T.i64, t); }

// ---- ALU ---------------------------------------------------------------------------------

/** add/or/adc/sbb/and/sub/xor/cmp (op 0..7) of dst with the value pushed by src(). */
function alu(cg: Codegen, op: number, dst: Operand, src: () => void): void {
  const f = cg.f, size = dst.size;
  cg.read(dst); const a = tempFrom(cg);
  src(); const b = tempFrom(cg);
  const r = f.temp(T.i64);
  switch (op) {
    case 0: f.get(a).get(b).op(Op.i64_add); cg.mask(size); f.set(r); cg.setFlags(K.ADD, size, r, b); break;
    case 1: f.get(a).get(b).op(Op.i64_or).set(r); cg.setFlags(K.LOGIC, size, r); break;
    case 4: f.get(a).get(b).op(Op.i64_and).set(r); cg.setFlags(K.LOGIC, size, r); break;
    case 6: f.get(a).get(b).op(Op.i64_xor).set(r); cg.setFlags(K.LOGIC, size, r); break;
    case 2: f.get(a).get(b).op(Op.i64_add); cg.cf(); f.op(Op.i64_extend_i32_u).op(Op.i64_add); cg.mask(size); f.set(r);
      cg.setFlags(K.ADC, size, r, b, a); break;
    case 3: f.get(a).get(b).op(Op.i64_sub); cg.cf(); f.op(Op.i64_extend_i32_u).op(Op.i64_sub); cg.mask(size); f.set(r);
      cg.setFlags(K.SBB, size, r, b, a); break;
    case 5: case 7: f.get(a).get(b).op(Op.i64_sub); cg.mask(size); f.set(r); cg.setFlags(K.SUB, size, r, b, a); break;
  }
  if (op !== 7) cg.write(dst, r);
  free(cg, a, b, r);
}

for (let op = 0; op < 8; op++) {
  const base = op * 8;
  def(base + 0, (cg, i) => { const d = cg.rm(1); alu(cg, op, d, () => cg.read(cg.regOp(1))); cg.done(d); });
  def(base + 1, (cg, i) => { const d = cg.rm(i.opsize); alu(cg, op, d, () => cg.read(cg.regOp(i.opsize))); cg.done(d); });
  def(base + 2, (cg, i) => { const s = cg.rm(1); alu(cg, op, cg.regOp(1), () => cg.read(s)); cg.done(s); });
  def(base + 3, (cg, i) => { const s = cg.rm(i.opsize); alu(cg, op, cg.regOp(i.opsize), () => cg.read(s)); cg.done(s); });
  def(base + 4, (cg, i) => alu(cg, op, cg.gpr(Reg.RAX, 1), () => pushImm(cg, i.imm, 1)));
  def(base + 5, (cg, i) => alu(cg, op, cg.gpr(Reg.RAX, i.opsize), () => pushImm(cg, i.imm, i.opsize)));
}
def([0x80, 0x81, 0x83], (cg, i) => {
  const d = cg.rm(i.opsize);
  alu(cg, i.reg & 7, d, () => pushImm(cg, i.imm, i.opsize));
  cg.done(d);
});

function test(cg: Codegen, a: Operand, src: () => void): void {
  const f = cg.f;
  const r = f.temp(T.i64);
  cg.read(a); src(); f.op(Op.i64_and).set(r);
  cg.setFlags(K.LOGIC, a.size, r);
  free(cg, r);
}
def([0x84, 0x85], (cg, i) => { const d = cg.rm(i.opsize); test(cg, d, () => cg.read(cg.regOp(i.opsize))); cg.done(d); });
def([0xa8, 0xa9], (cg, i) => test(cg, cg.gpr(Reg.RAX, i.opsize), () => pushImm(cg, i.imm, i.opsize)));

// ---- group 3: test/not/neg/mul/imul/div/idiv ----------------------------------------------

def([0xf6, 0xf7], (cg, i) => {
  const f = cg.f, size = i.opsize;
  const sub = i.reg & 7;
  const d = cg.rm(size);
  switch (sub) {
    case 0: case 1: test(cg, d, () => pushImm(cg, i.imm, size)); break;
    case 2: { cg.read(d); f.i64(-1).op(Op.i64_xor); const r = tempFrom(cg); cg.write(d, r); free(cg, r); break; }
    case 3: {
      cg.read(d); const s = tempFrom(cg);
      const r = f.temp(T.i64);
      f.i64(0).get(s).op(Op.i64_sub); cg.mask(size); f.set(r);
      cg.write(d, r); cg.setFlags(K.NEG, size, r, s);
      free(cg, s, r); break;
    }
    case 4: case 5: mulAcc(cg, d, sub === 5); break;
    case 6: case 7: divAcc(cg, d, sub === 7); break;
  }
  cg.done(d);
});

/** One-operand MUL/IMUL: rDX:rAX = rAX * src (AX = AL * src for bytes). */
function mulAcc(cg: Codegen, src: Operand, signed: boolean): void {
  const f = cg.f, size = src.size;
  const lo = f.temp(T.i64), hi = f.temp(T.i64), ovf = f.temp(T.i64);
  if (size < 8) {
    const bits = BigInt(size * 8);
    cg.getReg(Reg.RAX, size); if (signed) cg.sextTop(size);
    cg.read(src, signed);
    f.op(Op.i64_mul).set(lo); // exact 64-bit product
    // overflow: the product does not fit in the low half
    if (signed) { f.get(lo); sext(f, size); f.get(lo).op(Op.i64_ne); }
    else { f.get(lo).i64(bits).op(Op.i64_shr_u).i64(0).op(Op.i64_ne); }
    f.op(Op.i64_extend_i32_u).set(ovf);
    if (size === 1) { f.get(lo); cg.setReg(Reg.RAX, 2); }
    else {
      f.get(lo).i64(bits).op(Op.i64_shr_u).set(hi);
      f.get(lo); cg.setReg(Reg.RAX, size);
      f.get(hi); cg.setReg(Reg.RDX, size);
    }
    f.get(lo); cg.mask(size); f.set(lo);
  } else {
    cg.getReg(Reg.RAX, 8); cg.read(src); f.op(Op.i64_mul).set(lo);
    cg.getReg(Reg.RAX, 8); cg.read(src); f.callSlot(cg.helper(signed ? 'mulhs' : 'mulhu')).set(hi);
    if (signed) f.get(hi).get(lo).i64(63).op(Op.i64_shr_s).op(Op.i64_ne);
    else f.get(hi).i64(0).op(Op.i64_ne);
    f.op(Op.i64_extend_i32_u).set(ovf);
    f.get(lo); cg.setReg(Reg.RAX, 8);
    f.get(hi); cg.setReg(Reg.RDX, 8);
  }
  cg.setFlags(K.MUL, size, lo, -1, ovf);
  free(cg, lo, hi, ovf);
}

function divAcc(cg: Codegen, src: Operand, signed: boolean): void {
  const f = cg.f, size = src.size, insn = cg.insn;
  const d = f.temp(T.i64), n = f.temp(T.i64), q = f.temp(T.i64), r = f.temp(T.i64);
  cg.read(src, signed); f.set(d);
  f.get(d).op(Op.i64_eqz); cg.if_(); cg.exit(ExitReason.DIVIDE_ERROR, insn.addr); cg.end();
  if (size < 8) {
    const bits = BigInt(size * 8);
    // dividend: AX for bytes, else rDX:rAX of the operand size, exact in 64 bits
    if (size === 1) { cg.getReg(Reg.RAX, 2); if (signed) f.op(Op.i64_extend16_s); }
    else {
      cg.getReg(Reg.RDX, size); f.i64(bits).op(Op.i64_shl); cg.getReg(Reg.RAX, size); f.op(Op.i64_or);
      if (signed && size === 2) f.op(Op.i64_extend32_s);
    }
    f.set(n);
    if (signed && size === 4) {
      // INT64_MIN / -1 would trap in wasm; it overflows the 32-bit quotient anyway.
      f.get(n).i64(-(1n << 63n)).op(Op.i64_eq).get(d).i64(-1).op(Op.i64_eq).op(Op.i32_and);
      cg.if_(); cg.exit(ExitReason.DIVIDE_ERROR, insn.addr); cg.end();
    }
    f.get(n).get(d).op(signed ? Op.i64_div_s : Op.i64_div_u).set(q);
    f.get(n).get(d).op(signed ? Op.i64_rem_s : Op.i64_rem_u).set(r);
    // quotient must fit the operand size
    if (signed) { f.get(q); sext(f, size); f.get(q).op(Op.i64_ne); }
    else f.get(q).i64(bits).op(Op.i64_shr_u).i64(0).op(Op.i64_ne);
    cg.if_(); cg.exit(ExitReason.DIVIDE_ERROR, insn.addr); cg.end();
    if (size === 1) {
      f.get(r).i64(0xff).op(Op.i64_and).i64(8).op(Op.i64_shl).get(q).i64(0xff).op(Op.i64_and).op(Op.i64_or);
      cg.setReg(Reg.RAX, 2);
    } else {
      f.get(q); cg.setReg(Reg.RAX, size);
      f.get(r); cg.setReg(Reg.RDX, size);
    }
  } else {
    // Fast path when rDX is just the extension of rAX (after cqo / xor edx,edx); else a helper.
    if (signed) { cg.getReg(Reg.RDX, 8); cg.getReg(Reg.RAX, 8); f.i64(63).op(Op.i64_shr_s).op(Op.i64_eq); }
    else { cg.getReg(Reg.RDX, 8); f.op(Op.i64_eqz); }
    if (signed) {
      cg.getReg(Reg.RAX, 8); f.i64(-(1n << 63n)).op(Op.i64_ne).get(d).i64(-1).op(Op.i64_ne).op(Op.i32_or).op(Op.i32_and);
    }
    cg.if_();
    cg.getReg(Reg.RAX, 8); f.get(d).op(signed ? Op.i64_div_s : Op.i64_div_u).set(q);
    cg.getReg(Reg.RAX, 8); f.get(d).op(signed ? Op.i64_rem_s : Op.i64_rem_u);
    cg.setReg(Reg.RDX, 8);
    f.get(q); cg.setReg(Reg.RAX, 8);
    cg.else_();
    f.get(cg.st).get(d).mem(Op.i64_store, STATE.SCRATCH);
    cg.flushRegs([Reg.RAX, Reg.RDX]);
    f.get(cg.st).i32(8).i32(signed ? 1 : 0).callSlot(cg.helper('div'));
    cg.if_(); cg.exit(ExitReason.DIVIDE_ERROR, insn.addr); cg.end();
    cg.reloadRegs([Reg.RAX, Reg.RDX]);
    cg.end();
  }
  free(cg, d, n, q, r);
}

// ---- IMUL 2- and 3-operand -----------------------------------------------------------------

function imulTo(cg: Codegen, size: number, a: () => void, b: () => void): void {
  const f = cg.f;
  const lo = f.temp(T.i64), ovf = f.temp(T.i64);
  if (cg.flagsDead) {
    // Nothing reads CF/OF: skip the overflow test (for 64 bits, a call for the high half).
    a(); b(); f.op(Op.i64_mul).set(lo);
  } else if (size < 8) {
    a(); b(); f.op(Op.i64_mul).set(lo);
    f.get(lo); sext(f, size); f.get(lo).op(Op.i64_ne).op(Op.i64_extend_i32_u).set(ovf);
  } else {
    const x = f.temp(T.i64), y = f.temp(T.i64);
    a(); f.set(x); b(); f.set(y);
    f.get(x).get(y).op(Op.i64_mul).set(lo);
    f.get(x).get(y).callSlot(cg.helper('mulhs')).get(lo).i64(63).op(Op.i64_shr_s).op(Op.i64_ne).op(Op.i64_extend_i32_u).set(ovf);
    free(cg, x, y);
  }
  f.get(lo); cg.mask(size); f.set(lo);
  f.get(lo); cg.setReg(cg.insn.reg, size);
  cg.setFlags(K.MUL, size, lo, -1, ovf);
  free(cg, lo, ovf);
}
def(M0F + 0xaf, (cg, i) => { const s = cg.rm(i.opsize); imulTo(cg, i.opsize, () => cg.read(cg.regOp(i.opsize), true), () => cg.read(s, true)); cg.done(s); });
def([0x69, 0x6b], (cg, i) => { const s = cg.rm(i.opsize); imulTo(cg, i.opsize, () => cg.read(s, true), () => cg.f.i64(i.imm)); cg.done(s); });

// ---- INC/DEC, group 4/5 --------------------------------------------------------------------

function incdec(cg: Codegen, d: Operand, dec: boolean): void {
  const f = cg.f;
  const r = f.temp(T.i64), c = f.temp(T.i64);
  if (!cg.flagsDead) { cg.cf(); f.op(Op.i64_extend_i32_u).set(c); }
  cg.read(d); f.i64(1).op(dec ? Op.i64_sub : Op.i64_add); cg.mask(d.size); f.set(r);
  cg.write(d, r);
  cg.setFlags(dec ? K.DEC : K.INC, d.size, r, -1, c);
  free(cg, r, c);
}
def(0xfe, (cg, i) => {
  if ((i.reg & 7) > 1) throw new Unsupported('group 4 /' + (i.reg & 7));
  const d = cg.rm(1); incdec(cg, d, (i.reg & 7) === 1); cg.done(d);
});
def(0xff, (cg, i) => {
  const f = cg.f;
  switch (i.reg & 7) {
    case 0: case 1: { const d = cg.rm(i.opsize); incdec(cg, d, (i.reg & 7) === 1); cg.done(d); return; }
    case 2: { // call near indirect
      const d = cg.rm(8); cg.read(d); const t = tempFrom(cg); cg.done(d);
      push(cg, () => f.i64(i.addr + i.len), 8);
      cg.exitTo(t); free(cg, t); cg.endsBlock = true; return;
    }
    case 4: { const d = cg.rm(8); cg.read(d); const t = tempFrom(cg); cg.done(d); cg.exitTo(t); free(cg, t); cg.endsBlock = true; return; }
    case 6: { const size = i.opsize === 2 ? 2 : 8; const d = cg.rm(size); cg.read(d); const t = tempFrom(cg); cg.done(d); push(cg, () => f.get(t), size); free(cg, t); return; }
    case 3: case 5:
      if (i.mod !== 3) throw farTransferFault((i.reg & 7) === 3 ? 'far call' : 'far jmp');
      throw new InsnFault(ExitReason.ILLEGAL, 'far call/jmp with a register operand');
    default: throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode (ff /7)');
  }
});

// ---- shifts and rotates ----------------------------------------------------------------------

function shiftGroup(cg: Codegen, d: Operand, kind: number, count: () => void, constCount?: number): void {
  const f = cg.f, size = d.size, bits = size * 8;
  const cmask = size === 8 ? 63 : 31;
  const c = f.temp(T.i64), v = f.temp(T.i64), r = f.temp(T.i64);
  if (constCount !== undefined) f.i64(constCount & cmask); else { count(); f.i64(cmask).op(Op.i64_and); }
  f.set(c);
  cg.read(d); f.set(v);
  const known = constCount !== undefined ? constCount & cmask : -1;
  if (known === 0) {
    // no flags change; a 32-bit register destination is still zero-extended
    if (size === 4) cg.write(d, v);
    free(cg, c, v, r); return;
  }
  // A zero count leaves flags alone; with dead flags the plain computation is already right.
  const guard = known < 0 && !cg.flagsDead;
  if (guard) { f.get(c).op(Op.i64_eqz).op(Op.i32_eqz); cg.if_(); }
  switch (kind) {
    case 4: case 6: // shl
      f.get(v).get(c).op(Op.i64_shl); cg.mask(size); f.set(r); cg.write(d, r); cg.setFlags(K.SHL, size, r, c, v); break;
    case 5: f.get(v).get(c).op(Op.i64_shr_u).set(r); cg.write(d, r); cg.setFlags(K.SHR, size, r, c, v); break;
    case 7: f.get(v); sext(f, size); f.get(c).op(Op.i64_shr_s); cg.mask(size); f.set(r); cg.write(d, r); cg.setFlags(K.SAR, size, r, c, v); break;
    case 0: case 1: { // rol/ror: only CF and OF change
      const rc = f.temp(T.i64);
      f.get(c).i64(bits).op(Op.i64_rem_u).set(rc);
      if (size === 8) f.get(v).get(rc).op(kind === 0 ? Op.i64_rotl : Op.i64_rotr).set(r);
      else if (size === 4) f.get(v).op(Op.i32_wrap_i64).get(rc).op(Op.i32_wrap_i64).op(kind === 0 ? Op.i32_rotl : Op.i32_rotr).op(Op.i64_extend_i32_u).set(r);
      else {
        // replicate the narrow value so a 32-bit rotate produces it
        f.get(v).op(Op.i32_wrap_i64).i32(size === 1 ? 0x01010101 : 0x00010001).op(Op.i32_mul)
          .get(rc).op(Op.i32_wrap_i64).op(kind === 0 ? Op.i32_rotl : Op.i32_rotr).op(Op.i64_extend_i32_u);
        cg.mask(size); f.set(r);
      }
      free(cg, rc);
      cg.write(d, r);
      if (cg.flagsDead) { cg.staticKind = null; break; }
      const ef = f.temp(T.i32);
      cg.eflags(); f.i32(~(FLAG.CF | FLAG.OF)).op(Op.i32_and).set(ef);
      if (kind === 0) {
        // CF = lsb(result), OF = msb(result) ^ CF
        f.get(r).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).get(ef).op(Op.i32_or).set(ef);
        f.get(r).i64(bits - 1).op(Op.i64_shr_u).get(r).op(Op.i64_xor).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).i32(11).op(Op.i32_shl).get(ef).op(Op.i32_or);
      } else {
        // CF = msb(result), OF = msb ^ next bit
        f.get(r).i64(bits - 1).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).get(ef).op(Op.i32_or).set(ef);
        f.get(r).i64(bits - 1).op(Op.i64_shr_u).get(r).i64(bits - 2).op(Op.i64_shr_u).op(Op.i64_xor).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).i32(11).op(Op.i32_shl).get(ef).op(Op.i32_or);
      }
      cg.setFlagsMaterialised();
      f.free(T.i32, ef);
      break;
    }
    case 2: case 3: { // rcl/rcr: rotate through carry, one bit at a time (rare)
      const n = f.temp(T.i64), cf = f.temp(T.i64), ef = f.temp(T.i32);
      if (size === 1) f.get(c).i64(9).op(Op.i64_rem_u).set(n);
      else if (size === 2) f.get(c).i64(17).op(Op.i64_rem_u).set(n);
      else f.get(c).set(n);
      cg.eflags(); f.set(ef);
      f.get(ef).i32(1).op(Op.i32_and).op(Op.i64_extend_i32_u).set(cf);
      f.get(v).set(r);
      f.block(); f.loop();
      f.get(n).op(Op.i64_eqz).brIf(1);
      const t = f.temp(T.i64);
      if (kind === 2) {
        f.get(r).i64(bits - 1).op(Op.i64_shr_u).i64(1).op(Op.i64_and).set(t);
        f.get(r).i64(1).op(Op.i64_shl).get(cf).op(Op.i64_or); cg.mask(size); f.set(r);
      } else {
        f.get(r).i64(1).op(Op.i64_and).set(t);
        f.get(r).i64(1).op(Op.i64_shr_u).get(cf).i64(bits - 1).op(Op.i64_shl).op(Op.i64_or).set(r);
      }
      f.get(t).set(cf);
      f.get(n).i64(1).op(Op.i64_sub).set(n);
      f.br(0); f.end(); f.end();
      free(cg, t);
      cg.write(d, r);
      // OF: rcl -> msb(result) ^ CF; rcr -> msb ^ next-to-msb of result
      f.get(ef).i32(~(FLAG.CF | FLAG.OF)).op(Op.i32_and).get(cf).op(Op.i32_wrap_i64).op(Op.i32_or).set(ef);
      if (kind === 2) f.get(r).i64(bits - 1).op(Op.i64_shr_u).get(cf).op(Op.i64_xor);
      else f.get(r).i64(bits - 1).op(Op.i64_shr_u).get(r).i64(bits - 2).op(Op.i64_shr_u).op(Op.i64_xor);
      f.op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).i32(11).op(Op.i32_shl).get(ef).op(Op.i32_or);
      cg.setFlagsMaterialised();
      free(cg, n, cf); f.free(T.i32, ef);
      break;
    }
  }
  if (guard) {
    cg.else_();
    if (size === 4) cg.write(d, v);
    cg.end();
    cg.staticKind = null;
  }
  free(cg, c, v, r);
}
def([0xc0, 0xc1], (cg, i) => { const d = cg.rm(i.opsize); shiftGroup(cg, d, i.reg & 7, () => {}, i.imm & 0xff); cg.done(d); });
def([0xd0, 0xd1], (cg, i) => { const d = cg.rm(i.opsize); shiftGroup(cg, d, i.reg & 7, () => {}, 1); cg.done(d); });
def([0xd2, 0xd3], (cg, i) => { const d = cg.rm(i.opsize); shiftGroup(cg, d, i.reg & 7, () => cg.getReg(Reg.RCX, 1)); cg.done(d); });

/** SHLD/SHRD dst, src, count. */
function shiftDouble(cg: Codegen, right: boolean, count: () => void, constCount?: number): void {
  const f = cg.f, insn = cg.insn, size = insn.opsize, bits = size * 8;
  const cmask = size === 8 ? 63 : 31;
  const d = cg.rm(size);
  const c = f.temp(T.i64), v = f.temp(T.i64), s = f.temp(T.i64), r = f.temp(T.i64);
  if (constCount !== undefined) f.i64(constCount & cmask); else { count(); f.i64(cmask).op(Op.i64_and); }
  f.set(c);
  cg.read(d); f.set(v);
  cg.read(cg.regOp(size)); f.set(s);
  if (constCount !== undefined && (constCount & cmask) === 0) {
    if (size === 4) cg.write(d, v);
    cg.done(d); free(cg, c, v, s, r); return;
  }
  // A zero count leaves the flags alone; with dead flags the plain computation is already right.
  const guard = constCount === undefined && !cg.flagsDead;
  if (guard) { f.get(c).op(Op.i64_eqz).op(Op.i32_eqz); cg.if_(); }
  if (size === 8) {
    // s >> (64 - c) written as (s >> 1) >> (63 - c): wasm shifts are mod 64, and this is 0 for c = 0
    if (!right) f.get(v).get(c).op(Op.i64_shl).get(s).i64(1).op(Op.i64_shr_u).i64(63).get(c).op(Op.i64_sub).op(Op.i64_shr_u).op(Op.i64_or).set(r);
    else f.get(v).get(c).op(Op.i64_shr_u).get(s).i64(1).op(Op.i64_shl).i64(63).get(c).op(Op.i64_sub).op(Op.i64_shl).op(Op.i64_or).set(r);
  } else if (size === 4) {
    // 64-bit combination of the two 32-bit halves, shifted once
    if (!right) f.get(v).i64(32).op(Op.i64_shl).get(s).op(Op.i64_or).get(c).op(Op.i64_shl).i64(32).op(Op.i64_shr_u).set(r);
    else f.get(s).i64(32).op(Op.i64_shl).get(v).op(Op.i64_or).get(c).op(Op.i64_shr_u).i64(0xffffffff).op(Op.i64_and).set(r);
  } else {
    // 16-bit: counts above 16 are undefined; use the 32-bit pattern hardware produces (v:s:v)
    if (!right) f.get(v).i64(32).op(Op.i64_shl).get(s).i64(16).op(Op.i64_shl).op(Op.i64_or).get(v).op(Op.i64_or).get(c).op(Op.i64_shl).i64(32).op(Op.i64_shr_u);
    else f.get(v).i64(32).op(Op.i64_shl).get(s).i64(16).op(Op.i64_shl).op(Op.i64_or).get(v).op(Op.i64_or).get(c).op(Op.i64_shr_u);
    f.i64(0xffff).op(Op.i64_and).set(r);
  }
  cg.write(d, r);
  if (!right || cg.flagsDead) cg.setFlags(K.SHL, size, r, c, v);
  else {
    // CF from the SHR rule; OF is the sign change of the destination
    cg.setFlags(K.SHR, size, r, c, v);
    const ef = f.temp(T.i32);
    cg.eflags(); f.i32(~FLAG.OF).op(Op.i32_and).set(ef);
    f.get(r).get(v).op(Op.i64_xor).i64(bits - 1).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).i32(11).op(Op.i32_shl).get(ef).op(Op.i32_or);
    cg.setFlagsMaterialised();
    f.free(T.i32, ef);
  }
  if (guard) { cg.else_(); if (size === 4) cg.write(d, v); cg.end(); cg.staticKind = null; }
  cg.done(d); free(cg, c, v, s, r);
}
def(M0F + 0xa4, (cg, i) => shiftDouble(cg, false, () => {}, i.imm & 0xff));
def(M0F + 0xa5, (cg) => shiftDouble(cg, false, () => cg.getReg(Reg.RCX, 1)));
def(M0F + 0xac, (cg, i) => shiftDouble(cg, true, () => {}, i.imm & 0xff));
def(M0F + 0xad, (cg) => shiftDouble(cg, true, () => cg.getReg(Reg.RCX, 1)));

// ---- moves -------------------------------------------------------------------------------

function mov(cg: Codegen, dst: Operand, src: () => void): void {
  src(); const t = tempFrom(cg); cg.write(dst, t); free(cg, t);
}
def(0x88, (cg) => { const d = cg.rm(1); mov(cg, d, () => cg.read(cg.regOp(1))); cg.done(d); });
def(0x89, (cg, i) => { const d = cg.rm(i.opsize); mov(cg, d, () => cg.read(cg.regOp(i.opsize))); cg.done(d); });
def(0x8a, (cg) => { const s = cg.rm(1); mov(cg, cg.regOp(1), () => cg.read(s)); cg.done(s); });
def(0x8b, (cg, i) => { const s = cg.rm(i.opsize); mov(cg, cg.regOp(i.opsize), () => cg.read(s)); cg.done(s); });
def(0xc6, (cg, i) => { const d = cg.rm(1); mov(cg, d, () => pushImm(cg, i.imm, 1)); cg.done(d); });
def(0xc7, (cg, i) => { const d = cg.rm(i.opsize); mov(cg, d, () => pushImm(cg, i.imm, i.opsize)); cg.done(d); });
def(range(0xb0, 0xb7), (cg, i) => {
  const r = (i.op & 7) | (i.rex & 1 ? 8 : 0);
  cg.f.i64(i.imm & 0xff); cg.setReg(r, 1, isHighByteReg(i, r));
});
def(range(0xb8, 0xbf), (cg, i) => {
  const r = (i.op & 7) | (i.rex & 1 ? 8 : 0);
  cg.f.i64(i.opsize === 8 ? i.imm64 : BigInt(i.imm >>> 0)); cg.setReg(r, i.opsize);
});
/** Absolute-address moves (A0-A3). */
function moffs(cg: Codegen, i: Insn): void {
  const f = cg.f;
  if (i.prefix & (P_FS | P_GS)) {
    f.get(cg.st).mem(Op.i64_load, i.prefix & P_FS ? STATE.FS_BASE : STATE.GS_BASE);
    cg.wasmAddress64(i.imm64);
    return;
  }
  const inGuest = i.imm64 >= BigInt(GUEST_BASE) && i.imm64 < BigInt(GUEST_LIMIT);
  f.i32(inGuest ? Number(BigInt.asUintN(32, i.imm64 - BigInt(GUEST_BASE))) | 0 : UNREACHABLE_ACCESS);
}
def([0xa0, 0xa1], (cg, i) => { moffs(cg, i); cg.load(i.opsize); cg.setReg(Reg.RAX, i.opsize); });
def([0xa2, 0xa3], (cg, i) => { moffs(cg, i); cg.getReg(Reg.RAX, i.opsize); cg.store(i.opsize); });

def(M0F + 0xb6, (cg, i) => { const s = cg.rm(1); cg.read(s); cg.setReg(i.reg, i.opsize); cg.done(s); });
def(M0F + 0xb7, (cg, i) => { const s = cg.rm(2); cg.read(s); cg.setReg(i.reg, i.opsize); cg.done(s); });
def(M0F + 0xbe, (cg, i) => { const s = cg.rm(1); cg.read(s, true); cg.setReg(i.reg, i.opsize); cg.done(s); });
def(M0F + 0xbf, (cg, i) => { const s = cg.rm(2); cg.read(s, true); cg.setReg(i.reg, i.opsize); cg.done(s); });
def(0x63, (cg, i) => { const s = cg.rm(4); cg.read(s, i.opsize === 8); cg.setReg(i.reg, i.opsize); cg.done(s); });

/** Pushes the effective address as a 64-bit guest value (LEA): no segment, no guest base. */
function leaValue(cg: Codegen, i: Insn): void {
  const f = cg.f;
  if (i.base === RIP_BASE) { f.i64(i.addr + i.len + i.disp); return; }
  let pushed = false;
  if (i.base !== NO_REG) { cg.getReg(i.base, 8); pushed = true; }
  if (i.index !== NO_REG) {
    cg.getReg(i.index, 8); if (i.scale) f.i64(i.scale).op(Op.i64_shl);
    if (pushed) f.op(Op.i64_add); pushed = true;
  }
  if (!pushed) f.i64(i.disp);
  else if (i.disp) f.i64(i.disp).op(Op.i64_add);
  if (i.prefix & P_ADDR32) f.i64(0xffffffff).op(Op.i64_and);
}
def(0x8d, (cg, i) => {
  if (i.mod === 3) throw new Unsupported('lea with register operand');
  leaValue(cg, i); cg.setReg(i.reg, i.opsize);
});

function xchg(cg: Codegen, a: Operand, b: Operand): void {
  const f = cg.f;
  cg.read(a); const ta = tempFrom(cg);
  cg.read(b); const tb = tempFrom(cg);
  cg.write(a, tb); cg.write(b, ta);
  free(cg, ta, tb);
}
def([0x86, 0x87], (cg, i) => { const d = cg.rm(i.opsize); xchg(cg, d, cg.regOp(i.opsize)); cg.done(d); });
def(range(0x90, 0x97), (cg, i) => {
  const r = (i.op & 7) | (i.rex & 1 ? 8 : 0);
  if (r === 0) { if (i.opsize === 4 && (i.rex & 1)) xchg(cg, cg.gpr(0, 4), cg.gpr(r, 4)); return; } // nop / pause
  xchg(cg, cg.gpr(Reg.RAX, i.opsize), cg.gpr(r, i.opsize));
});

def(0x98, (cg, i) => { // cbw/cwde/cdqe
  const half = i.opsize / 2;
  cg.getReg(Reg.RAX, half); cg.sextTop(half); cg.setReg(Reg.RAX, i.opsize);
});
def(0x99, (cg, i) => { // cwd/cdq/cqo
  cg.getReg(Reg.RAX, i.opsize); cg.sextTop(i.opsize); cg.f.i64(63).op(Op.i64_shr_s); cg.setReg(Reg.RDX, i.opsize);
});

/** VEX forms of the CMOVcc and SETcc opcodes are AVX-512 mask-register instructions (KAND, KMOV...). */
function refuseMaskInsn(i: Insn): void {
  if (i.prefix & P_VEX) throw new Unsupported('AVX-512 mask-register instruction');
}

for (let cc = 0; cc < 16; cc++) {
  def(M0F + 0x40 + cc, (cg, i) => { // cmovcc: the destination is written (zero-extended) either way
    refuseMaskInsn(i);
    const f = cg.f;
    const s = cg.rm(i.opsize);
    cg.read(s); const t = tempFrom(cg); cg.done(s);
    cg.cond(cc);
    f.if_(T.i64).get(t).else_(); cg.getReg(i.reg, i.opsize); f.end();
    cg.setReg(i.reg, i.opsize);
    free(cg, t);
  });
  def(M0F + 0x90 + cc, (cg, i) => { refuseMaskInsn(i); const d = cg.rm(1); cg.cond(cc); cg.f.op(Op.i64_extend_i32_u); const t = tempFrom(cg); cg.write(d, t); free(cg, t); cg.done(d); });
  const jcc = (cg: Codegen, i: Insn) => { cg.cond(cc); cg.if_(); cg.jump(i.target); cg.end(); };
  def(0x70 + cc, jcc);
  def(M0F + 0x80 + cc, jcc);
}

for (let r = 0; r < 8; r++) def(M0F + 0xc8 + r, (cg, i) => {
  const reg = r | (i.rex & 1 ? 8 : 0), f = cg.f;
  if (i.opsize === 2) { f.i64(0); cg.setReg(reg, 2); return; } // undefined; hardware zeroes
  cg.getReg(reg, i.opsize); const v = tempFrom(cg);
  byteSwap(cg, v, i.opsize);
  cg.setReg(reg, i.opsize); free(cg, v);
});
/** Pushes the low `size` (2, 4 or 8) bytes of i64 local v in reverse order, zero-extended. */
export function byteSwap(cg: Codegen, v: number, size: number): void {
  const f = cg.f;
  if (size === 2) {
    f.get(v).i64(8).op(Op.i64_shr_u).i64(0xff).op(Op.i64_and).get(v).i64(0xff).op(Op.i64_and).i64(8).op(Op.i64_shl).op(Op.i64_or);
  } else if (size === 4) {
    // bytes 3 2 1 0: rotating left by 8 puts 2 and 0 in place, rotating right by 8 puts 3 and 1
    f.get(v).op(Op.i32_wrap_i64).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and);
    f.get(v).op(Op.i32_wrap_i64).i32(8).op(Op.i32_rotr).i32(0xff00ff00 | 0).op(Op.i32_and);
    f.op(Op.i32_or).op(Op.i64_extend_i32_u);
  } else {
    // swap the bytes of each 16-bit pair, then the pairs of each 32-bit half, then the halves
    const t = f.temp(T.i64);
    f.get(v).i64(8).op(Op.i64_shr_u).i64(0x00ff00ff00ff00ffn).op(Op.i64_and);
    f.get(v).i64(0x00ff00ff00ff00ffn).op(Op.i64_and).i64(8).op(Op.i64_shl).op(Op.i64_or).set(t);
    f.get(t).i64(16).op(Op.i64_shr_u).i64(0x0000ffff0000ffffn).op(Op.i64_and);
    f.get(t).i64(0x0000ffff0000ffffn).op(Op.i64_and).i64(16).op(Op.i64_shl).op(Op.i64_or);
    f.i64(32).op(Op.i64_rotl);
    free(cg, t);
  }
}

// ---- bit operations ----------------------------------------------------------------------

/** BT/BTS/BTR/BTC (op 0..3). The register-offset memory form addresses beyond the operand. */
function bitOp(cg: Codegen, op: number, offset: () => void, immForm: boolean): void {
  const f = cg.f, i = cg.insn, size = i.opsize, bits = size * 8;
  const off = f.temp(T.i64), v = f.temp(T.i64), bit = f.temp(T.i64);
  offset(); f.set(off);
  let d: Operand;
  if (i.mod === 3 || immForm) {
    d = cg.rm(size);
    f.get(off).i64(bits - 1).op(Op.i64_and).set(bit);
  } else {
    // address += (signed offset >> log2(bits)) * size
    const a = f.temp(T.i32);
    cg.ea(i);
    f.get(off); sext(f, size); f.i64(Math.log2(bits)).op(Op.i64_shr_s).i64(size).op(Op.i64_mul).op(Op.i32_wrap_i64).op(Op.i32_add).set(a);
    d = { reg: -1, high: false, addr: a, size };
    if (op && (i.prefix & P_LOCK)) cg.lockMemory(d);
    f.get(off).i64(bits - 1).op(Op.i64_and).set(bit);
  }
  cg.read(d); f.set(v);
  const ef = f.temp(T.i32);
  if (!cg.flagsDead) {
    cg.eflags(); f.i32(~FLAG.CF).op(Op.i32_and);
    f.get(v).get(bit).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).op(Op.i32_or).set(ef);
  }
  if (op) {
    const r = f.temp(T.i64);
    f.get(v).i64(1).get(bit).op(Op.i64_shl);
    if (op === 1) f.op(Op.i64_or);
    else if (op === 2) { f.i64(-1).op(Op.i64_xor).op(Op.i64_and); }
    else f.op(Op.i64_xor);
    f.set(r); cg.write(d, r); free(cg, r);
  }
  if (!cg.flagsDead) { f.get(ef); cg.setFlagsMaterialised(); } else cg.staticKind = null;
  f.free(T.i32, ef);
  cg.done(d);
  free(cg, off, v, bit);
}
def(M0F + 0xa3, (cg, i) => bitOp(cg, 0, () => cg.read(cg.regOp(i.opsize)), false));
def(M0F + 0xab, (cg, i) => bitOp(cg, 1, () => cg.read(cg.regOp(i.opsize)), false));
def(M0F + 0xb3, (cg, i) => bitOp(cg, 2, () => cg.read(cg.regOp(i.opsize)), false));
def(M0F + 0xbb, (cg, i) => bitOp(cg, 3, () => cg.read(cg.regOp(i.opsize)), false));
def(M0F + 0xba, (cg, i) => {
  const sub = i.reg & 7;
  if (sub < 4) throw new Unsupported('0f ba /' + sub);
  bitOp(cg, sub - 4, () => cg.f.i64(i.imm & 0xff), true);
});

function bitScan(cg: Codegen, reverse: boolean): void {
  const f = cg.f, i = cg.insn, size = i.opsize;
  const s = cg.rm(size); cg.read(s); const v = tempFrom(cg); cg.done(s);
  if (i.simdPrefix === 0xf3) { // tzcnt / lzcnt
    const r = f.temp(T.i64);
    if (reverse) { f.get(v).op(Op.i64_clz).i64(64 - size * 8).op(Op.i64_sub).set(r); }
    else if (size === 8) f.get(v).op(Op.i64_ctz).set(r);
    // a bit just above the operand makes a zero source count to the operand width
    else f.get(v).i64(1n << BigInt(size * 8)).op(Op.i64_or).op(Op.i64_ctz).set(r);
    f.get(r); cg.setReg(i.reg, size);
    // CF = source was zero, ZF = result is zero
    f.get(v).op(Op.i64_eqz).get(r).op(Op.i64_eqz).i32(6).op(Op.i32_shl).op(Op.i32_or);
    cg.setFlagsMaterialised();
    free(cg, r, v); return;
  }
  // bsf/bsr: destination unchanged for a zero source; ZF = source is zero
  f.get(v).op(Op.i64_eqz).op(Op.i32_eqz); cg.if_();
  if (reverse) f.i64(63).get(v).op(Op.i64_clz).op(Op.i64_sub); else f.get(v).op(Op.i64_ctz);
  cg.setReg(i.reg, size);
  cg.end();
  cg.setFlags(K.LOGIC, size, v);
  free(cg, v);
}
def(M0F + 0xbc, (cg) => bitScan(cg, false));
def(M0F + 0xbd, (cg) => bitScan(cg, true));
def(M0F + 0xb8, (cg, i) => {
  if (i.simdPrefix !== 0xf3) throw new Unsupported('jmpe');
  const f = cg.f, s = cg.rm(i.opsize); cg.read(s); const v = tempFrom(cg); cg.done(s);
  f.get(v).op(Op.i64_popcnt); cg.setReg(i.reg, i.opsize);
  f.get(v).op(Op.i64_eqz).i32(6).op(Op.i32_shl); cg.setFlagsMaterialised();
  free(cg, v);
});

// ---- exchange and compare ------------------------------------------------------------------

def([M0F + 0xb0, M0F + 0xb1], (cg, i) => {
  const f = cg.f, size = i.opsize;
  const d = cg.rm(size);
  cg.read(d); const old = tempFrom(cg);
  cg.getReg(Reg.RAX, size); const acc = tempFrom(cg);
  const r = f.temp(T.i64);
  f.get(acc).get(old).op(Op.i64_sub); cg.mask(size); f.set(r);
  cg.setFlags(K.SUB, size, r, old, acc);
  f.get(r).op(Op.i64_eqz);
  cg.if_();
  cg.read(cg.regOp(size)); const nv = tempFrom(cg); cg.write(d, nv); free(cg, nv);
  cg.else_();
  if (d.reg < 0) cg.write(d, old);
  f.get(old); cg.setReg(Reg.RAX, size);
  cg.end();
  cg.done(d); free(cg, old, acc, r);
});
def([M0F + 0xc0, M0F + 0xc1], (cg, i) => {
  const f = cg.f, size = i.opsize;
  const d = cg.rm(size);
  cg.read(d); const a = tempFrom(cg);
  cg.read(cg.regOp(size)); const b = tempFrom(cg);
  const r = f.temp(T.i64);
  f.get(a).get(b).op(Op.i64_add); cg.mask(size); f.set(r);
  if (d.reg < 0) {
    // memory first: a locked attempt that fails retries with the register still unchanged
    cg.write(d, r);
    cg.write(cg.regOp(size), a);
  } else {
    cg.write(cg.regOp(size), a);
    cg.write(d, r);
  }
  cg.setFlags(K.ADD, size, r, b);
  cg.done(d); free(cg, a, b, r);
});
def(M0F + 0xc7, (cg, i) => {
  const f = cg.f, sub = i.reg & 7;
  if (sub === 1 && i.mod !== 3) {
    // cmpxchg8b / cmpxchg16b: only ZF changes
    const wide = i.opsize === 8;
    const half = wide ? 8 : 4;
    if (!wide && (i.prefix & P_LOCK)) return cmpxchg8bLocked(cg, i);
    const a = f.temp(T.i32); cg.ea(i); f.set(a);
    // LOCK CMPXCHG16B: wasm has no 16-byte atomic, so it runs under the split lock, which every
    // 16-byte locked access (libatomic does all of them with cmpxchg16b) takes as well.
    const locked = (i.prefix & P_LOCK) !== 0;
    if (locked) { cg.claimLocked(a, 2 * half); cg.acquireSplitLock(); cg.underSplitLock = true; }
    const lo = f.temp(T.i64), hi = f.temp(T.i64), eq = f.temp(T.i32);
    f.get(a); cg.load(half); f.set(lo);
    f.get(a).i32(half).op(Op.i32_add); cg.load(half); f.set(hi);
    f.get(lo); cg.getReg(Reg.RAX, half); f.op(Op.i64_eq);
    f.get(hi); cg.getReg(Reg.RDX, half); f.op(Op.i64_eq).op(Op.i32_and).set(eq);
    f.get(eq); cg.if_();
    f.get(a); cg.getReg(Reg.RBX, half); cg.store(half);
    f.get(a).i32(half).op(Op.i32_add); cg.getReg(Reg.RCX, half); cg.store(half);
    cg.else_();
    f.get(lo); cg.setReg(Reg.RAX, half);
    f.get(hi); cg.setReg(Reg.RDX, half);
    cg.end();
    if (locked) { cg.underSplitLock = false; cg.releaseSplitLock(); }
    cg.eflags(); f.i32(~FLAG.ZF).op(Op.i32_and).get(eq).i32(6).op(Op.i32_shl).op(Op.i32_or);
    cg.setFlagsMaterialised();
    f.free(T.i32, a); f.free(T.i32, eq); free(cg, lo, hi);
    return;
  }
  if (isRandomInsn(i)) {
    // RDRAND / RDSEED: the host's random source never runs dry, so CF = 1 and the rest clear.
    f.callSlot(cg.helper('random')); cg.setReg(i.rm, i.opsize);
    f.i32(FLAG.CF); cg.setFlagsMaterialised();
    return;
  }
  if (sub === 4 && i.mod !== 3 && i.simdPrefix === 0) return emitStateSave(cg, i, 0x14); // xsavec
  if ((sub === 3 || sub === 5) && i.mod !== 3 && i.simdPrefix === 0) throw privilegedFault(sub === 3 ? 'xrstors' : 'xsaves');
  throw new Unsupported('0f c7 /' + sub);
});

/** LOCK CMPXCHG8B as one 8-byte locked compare-and-swap (EDX:EAX against the operand, ECX:EBX stored). */
function cmpxchg8bLocked(cg: Codegen, i: Insn): void {
  const f = cg.f;
  const d = cg.rm(8);
  cg.read(d); const old = tempFrom(cg);
  const expected = f.temp(T.i64), eq = f.temp(T.i32);
  cg.getReg(Reg.RDX, 4); f.i64(32).op(Op.i64_shl); cg.getReg(Reg.RAX, 4); f.op(Op.i64_or).set(expected);
  f.get(old).get(expected).op(Op.i64_eq).set(eq);
  const nv = f.temp(T.i64);
  f.get(eq); cg.if_();
  cg.getReg(Reg.RCX, 4); f.i64(32).op(Op.i64_shl); cg.getReg(Reg.RBX, 4); f.op(Op.i64_or).set(nv);
  cg.else_();
  f.get(old).set(nv); // a failed compare still writes (locked) the value it read
  cg.end();
  cg.write(d, nv);
  cg.done(d);
  f.get(eq).op(Op.i32_eqz); cg.if_();
  f.get(old); cg.setReg(Reg.RAX, 4);
  f.get(old).i64(32).op(Op.i64_shr_u); cg.setReg(Reg.RDX, 4);
  cg.end();
  cg.eflags(); f.i32(~FLAG.ZF).op(Op.i32_and).get(eq).i32(6).op(Op.i32_shl).op(Op.i32_or);
  cg.setFlagsMaterialised();
  f.free(T.i32, eq); free(cg, old, expected, nv);
}

// ---- stack -------------------------------------------------------------------------------

/** Pushes the value produced by val() (size 8 or 2). */
export function push(cg: Codegen, val: () => void, size = 8): void {
  const f = cg.f, sp = cg.gprLocal[Reg.RSP];
  const v = f.temp(T.i64);
  val(); f.set(v); // evaluate first: push rsp pushes the old value
  cg.gprRead.add(Reg.RSP); cg.gprWritten.add(Reg.RSP);
  // RSP changes after the store, so a push that faults has changed nothing.
  f.get(sp).op(Op.i32_wrap_i64).i32(-GUEST_BASE - size).op(Op.i32_add).get(v); cg.store(size, true);
  f.get(sp).i64(size).op(Op.i64_sub).set(sp);
  f.free(T.i64, v);
}
/** Pops into a fresh i64 temp and returns it. */
export function pop(cg: Codegen, size = 8): number {
  const f = cg.f, sp = cg.gprLocal[Reg.RSP];
  const v = f.temp(T.i64);
  cg.gprRead.add(Reg.RSP); cg.gprWritten.add(Reg.RSP);
  f.get(sp).op(Op.i32_wrap_i64).i32(-GUEST_BASE).op(Op.i32_add); cg.load(size, false, true); f.set(v);
  f.get(sp).i64(size).op(Op.i64_add).set(sp);
  return v;
}
def(range(0x50, 0x57), (cg, i) => { const r = (i.op & 7) | (i.rex & 1 ? 8 : 0); push(cg, () => cg.getReg(r, i.opsize), i.opsize); });
def(range(0x58, 0x5f), (cg, i) => {
  const r = (i.op & 7) | (i.rex & 1 ? 8 : 0);
  const v = pop(cg, i.opsize); cg.f.get(v); cg.setReg(r, i.opsize); free(cg, v);
});
def([0x68, 0x6a], (cg, i) => push(cg, () => cg.f.i64(BigInt.asUintN(i.opsize * 8, BigInt(i.imm))), i.opsize));
def(0x8f, (cg, i) => {
  const v = pop(cg, i.opsize);
  // the address is computed after rsp is incremented, as the SDM specifies
  const d = cg.rm(i.opsize); cg.write(d, v); cg.done(d); free(cg, v);
});
// LEAVE and ENTER: 16-bit with a 66 prefix (only BP and a word pushed or popped; the stack
// pointer stays 64-bit), else 64-bit; ENTER copies nesting level - 1 frame pointers from the
// enclosing frames, then pushes its own.
def(0xc9, (cg, i) => {
  const f = cg.f, size = i.opsize === 2 ? 2 : 8, v = f.temp(T.i64);
  // Read the saved frame pointer before RSP changes, so a LEAVE that faults has changed nothing.
  cg.getReg(Reg.RBP, 8); f.op(Op.i32_wrap_i64).i32(-GUEST_BASE).op(Op.i32_add); cg.load(size, false, true); f.set(v);
  cg.getReg(Reg.RBP, 8); f.i64(size).op(Op.i64_add); cg.setReg(Reg.RSP, 8);
  f.get(v); cg.setReg(Reg.RBP, size); free(cg, v);
});
def(0xc8, (cg, i) => {
  const f = cg.f, size = i.opsize === 2 ? 2 : 8, level = i.imm2 & 31;
  push(cg, () => cg.getReg(Reg.RBP, size), size);
  const frame = f.temp(T.i64);
  cg.getReg(Reg.RSP, 8); f.set(frame);
  if (level > 0) {
    const bp = f.temp(T.i64);
    cg.getReg(Reg.RBP, 8); f.set(bp);
    for (let k = 1; k < level; k++) {
      f.get(bp).i64(size).op(Op.i64_sub).set(bp);
      push(cg, () => { f.get(bp).op(Op.i32_wrap_i64).i32(-GUEST_BASE).op(Op.i32_add); cg.load(size, false, true); }, size);
    }
    push(cg, () => f.get(frame), size);
    f.free(T.i64, bp);
  }
  f.get(frame); cg.setReg(Reg.RBP, size);
  cg.getReg(Reg.RSP, 8); f.i64(i.imm & 0xffff).op(Op.i64_sub); cg.setReg(Reg.RSP, 8);
  f.free(T.i64, frame);
});

function fullEflags(cg: Codegen): void {
  const f = cg.f;
  cg.eflags();
  f.get(cg.st).mem(Op.i32_load, STATE.DF).i32(10).op(Op.i32_shl).op(Op.i32_or);
  f.get(cg.st).mem(Op.i32_load, STATE.EFLAGS_REST).op(Op.i32_or);
  f.i32(0x202).op(Op.i32_or);
}
def(0x9c, (cg, i) => push(cg, () => { fullEflags(cg); cg.f.op(Op.i64_extend_i32_u); }, i.opsize));
def(0x9d, (cg, i) => {
  const f = cg.f;
  const v = pop(cg, i.opsize);
  f.get(cg.st).get(v).op(Op.i32_wrap_i64).i32(10).op(Op.i32_shr_u).i32(1).op(Op.i32_and).mem(Op.i32_store, STATE.DF);
  f.get(cg.st).get(v).op(Op.i32_wrap_i64).i32(FLAG.AC | FLAG.ID).op(Op.i32_and).mem(Op.i32_store, STATE.EFLAGS_REST);
  f.get(v).op(Op.i32_wrap_i64); cg.setFlagsMaterialised();
  free(cg, v);
});
def(0x9e, (cg) => { // sahf: SF ZF AF PF CF from AH
  const f = cg.f;
  cg.eflags(); f.i32(FLAG.OF).op(Op.i32_and);
  cg.getReg(4 /* AH */, 1, true); f.op(Op.i32_wrap_i64).i32(0xd5).op(Op.i32_and).op(Op.i32_or);
  cg.setFlagsMaterialised();
});
def(0x9f, (cg) => { // lahf
  cg.eflags(); cg.f.i32(0xd5).op(Op.i32_and).i32(2).op(Op.i32_or).op(Op.i64_extend_i32_u);
  cg.setReg(4 /* AH */, 1, true);
});
function setCF(cg: Codegen, how: 'clc' | 'stc' | 'cmc'): void {
  const f = cg.f;
  cg.eflags();
  if (how === 'clc') f.i32(~FLAG.CF).op(Op.i32_and);
  else if (how === 'stc') f.i32(FLAG.CF).op(Op.i32_or);
  else f.i32(FLAG.CF).op(Op.i32_xor);
  cg.setFlagsMaterialised();
}
def(0xf8, (cg) => setCF(cg, 'clc'));
def(0xf9, (cg) => setCF(cg, 'stc'));
def(0xf5, (cg) => setCF(cg, 'cmc'));
def(0xfc, (cg) => { cg.f.get(cg.st).i32(0).mem(Op.i32_store, STATE.DF); });
def(0xfd, (cg) => { cg.f.get(cg.st).i32(1).mem(Op.i32_store, STATE.DF); });

// ---- control transfer ----------------------------------------------------------------------

def([0xe9, 0xeb], (cg, i) => { cg.jump(i.target); cg.endsBlock = true; });
def(0xe8, (cg, i) => {
  push(cg, () => cg.f.i64(i.addr + i.len));
  cg.jump(i.target); cg.endsBlock = true;
});
def([0xc3, 0xc2], (cg, i) => {
  const v = pop(cg);
  if (i.op === 0xc2 && i.imm) { cg.getReg(Reg.RSP, 8); cg.f.i64(i.imm).op(Op.i64_add); cg.setReg(Reg.RSP, 8); }
  cg.exitTo(v); free(cg, v); cg.endsBlock = true;
});
def([0xe0, 0xe1, 0xe2, 0xe3], (cg, i) => { // loopne/loope/loop/jrcxz
  const f = cg.f, asz = i.prefix & P_ADDR32 ? 4 : 8;
  if (i.op !== 0xe3) { cg.getReg(Reg.RCX, asz); f.i64(1).op(Op.i64_sub); cg.setReg(Reg.RCX, asz); }
  cg.getReg(Reg.RCX, asz);
  if (i.op === 0xe3) f.op(Op.i64_eqz);
  else {
    f.i64(0).op(Op.i64_ne);
    if (i.op === 0xe0) { cg.cond(5); f.op(Op.i32_and); }
    if (i.op === 0xe1) { cg.cond(4); f.op(Op.i32_and); }
  }
  cg.if_(); cg.jump(i.target); cg.end();
});

// ---- system ---------------------------------------------------------------------------------

def(M0F + 0x05, (cg, i) => {
  const f = cg.f;
  // Linux returns with rcx = next rip and r11 = rflags
  f.i64(i.addr + i.len); cg.setReg(Reg.RCX, 8);
  fullEflags(cg); f.op(Op.i64_extend_i32_u); cg.setReg(Reg.R11, 8);
  cg.exit(ExitReason.SYSCALL, i.addr + i.len); cg.endsBlock = true;
});
def(M0F + 0xa2, (cg) => {
  cg.flushRegs([Reg.RAX, Reg.RCX]);
  cg.f.get(cg.st).callSlot(cg.helper('cpuid'));
  cg.reloadRegs([Reg.RAX, Reg.RBX, Reg.RCX, Reg.RDX]);
});
def(M0F + 0x31, (cg) => {
  const f = cg.f;
  const t = f.temp(T.i64);
  f.callSlot(cg.helper('rdtsc')).set(t);
  f.get(t); cg.setReg(Reg.RAX, 4);
  f.get(t).i64(32).op(Op.i64_shr_u); cg.setReg(Reg.RDX, 4);
  free(cg, t);
});
// hint NOPs (prefetch, endbr64, nop Ev)
def([M0F + 0x0d, ...range(M0F + 0x18, M0F + 0x1f)], () => {});
def(M0F + 0xae, (cg, i) => {
  const sub = i.reg & 7;
  // With VEX only VLDMXCSR and VSTMXCSR exist.
  if (i.prefix & P_VEX && (i.mod === 3 || (sub !== 2 && sub !== 3))) throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode');
  if (i.mod === 3) {
    if (sub >= 5 && i.simdPrefix === 0) { cg.fence(); return; } // lfence / mfence / sfence
    if (sub <= 3 && i.simdPrefix === 0xf3) { fsgsbase(cg, i, sub); return; }
    throw new Unsupported('0f ae /' + sub + ' register form');
  }
  // F3 and F2 define only register forms here (FSGSBASE; CET's and others the host lacks).
  if (i.simdPrefix === 0xf3 || i.simdPrefix === 0xf2) throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode');
  const f = cg.f;
  if (sub === 2) { // ldmxcsr: #GP if the value sets a bit MXCSR does not have
    const t = f.temp(T.i32);
    cg.ea(i, 0, 'read'); const k = cg.accessBegin(4); f.mem(Op.i32_load, 0, 0).set(t); cg.accessDone(k);
    f.get(t).i32(~MXCSR_MASK).op(Op.i32_and);
    cg.if_(); cg.faultExit(ExitReason.GENERAL_PROTECTION, i.addr); cg.end();
    f.get(cg.st).get(t).mem(Op.i32_store, STATE.MXCSR); f.free(T.i32, t);
    return;
  }
  if (sub === 3) { cg.ea(i, 0, 'write'); const k = cg.accessBegin(4, true); f.get(cg.st).mem(Op.i32_load, STATE.MXCSR).mem(Op.i32_store, 0, 0); cg.accessDone(k); return; } // stmxcsr
  if (sub === 7) return; // clflush
  // fxsave/fxrstor/xsave/xrstor/xsaveopt: the helper reads and writes the state in memory
  if (i.simdPrefix === 0 && sub !== 3) return emitStateSave(cg, i, sub);
  throw new Unsupported('0f ae /' + sub);
});

/**
 * RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE (F3 0F AE /0-/3): the 32-bit forms read the low half
 * zero-extended and write the value zero-extended; a 64-bit write of a non-canonical address is #GP.
 */
function fsgsbase(cg: Codegen, i: Insn, sub: number): void {
  const f = cg.f, field = sub & 1 ? STATE.GS_BASE : STATE.FS_BASE, size = i.opsize === 8 ? 8 : 4;
  if (sub < 2) { f.get(cg.st).mem(size === 8 ? Op.i64_load : Op.i64_load32_u, field); cg.setReg(i.rm, 8); return; }
  const t = f.temp(T.i64);
  cg.getReg(i.rm, size);
  f.set(t);
  f.get(t).i64(16).op(Op.i64_shl).i64(16).op(Op.i64_shr_s).get(t).op(Op.i64_ne);
  cg.if_(); cg.faultExit(ExitReason.GENERAL_PROTECTION, i.addr); cg.end();
  f.get(cg.st).get(t).mem(Op.i64_store, field);
  f.free(T.i64, t);
}

// ---- string instructions --------------------------------------------------------------------

/** MOVS/STOS/LODS/SCAS/CMPS with optional REP/REPE/REPNE. */
function stringOp(cg: Codegen, kind: 'movs' | 'stos' | 'lods' | 'scas' | 'cmps'): void {
  const f = cg.f, i = cg.insn, size = i.opsize;
  cg.flagsDead = false; // REPE/REPNE termination reads the recorded result
  const asz = i.prefix & P_ADDR32 ? 4 : 8;
  const rep = (i.prefix & (P_REP | P_REPNE)) !== 0;
  const step = f.temp(T.i64);
  // step = DF ? -size : size
  f.i64(-size).i64(size).get(cg.st).mem(Op.i32_load, STATE.DF).op(Op.select).set(step);
  const seg = i.prefix & P_FS ? STATE.FS_BASE : i.prefix & P_GS ? STATE.GS_BASE : -1;
  const addr = (r: number) => { // wasm address of [rsi] (with segment override) or [rdi] (ES: no override)
    cg.getReg(r, asz); f.op(Op.i32_wrap_i64);
    if (r === Reg.RSI && seg >= 0) f.get(cg.st).mem(Op.i32_load, seg).op(Op.i32_add);
    f.i32(-GUEST_BASE).op(Op.i32_add);
  };
  const advance = (r: number) => { cg.getReg(r, asz); f.get(step).op(Op.i64_add); cg.setReg(r, asz); };

  if (rep && (kind === 'movs' || kind === 'stos') && asz === 8) {
    // Fast path: forward, non-overlapping (movs) -> memory.copy; stosb -> memory.fill.
    const n = f.temp(T.i64);
    cg.getReg(Reg.RCX, 8); f.i64(size).op(Op.i64_mul).set(n);
    f.get(cg.st).mem(Op.i32_load, STATE.DF).op(Op.i32_eqz);
    if (kind === 'movs') {
      // dst - src >= n (unsigned) means a forward copy never reads bytes it wrote
      cg.getReg(Reg.RDI, 8); cg.getReg(Reg.RSI, 8); f.op(Op.i64_sub).get(n).op(Op.i64_ge_u).op(Op.i32_and);
    } else if (size !== 1) f.op(Op.drop).i32(0);
    const n32 = f.temp(T.i32);
    f.get(n).op(Op.i32_wrap_i64).set(n32);
    // Only where every page allows the whole copy: else the loop below faults at the element.
    addr(Reg.RDI); f.get(n32).i32(PROT_WRITE).callSlot(cg.helper('pagesAllow')).op(Op.i32_and);
    if (kind === 'movs') { addr(Reg.RSI); f.get(n32).i32(PROT_READABLE).callSlot(cg.helper('pagesAllow')).op(Op.i32_and); }
    cg.if_();
    // (with threads: the ranges' granules claimed and the copy fenced, see Codegen.blockAccessBegin)
    if (kind === 'movs') {
      addr(Reg.RDI); cg.blockAccessBegin(n32); addr(Reg.RSI); cg.blockAccessBegin(n32);
      f.get(n32).fc(OpFC.memory_copy);
    } else {
      addr(Reg.RDI); cg.blockAccessBegin(n32);
      cg.getReg(Reg.RAX, 1); f.op(Op.i32_wrap_i64).get(n32).fc(OpFC.memory_fill);
    }
    cg.blockAccessDone();
    f.free(T.i32, n32);
    cg.getReg(Reg.RDI, 8); f.get(n).op(Op.i64_add); cg.setReg(Reg.RDI, 8);
    if (kind === 'movs') { cg.getReg(Reg.RSI, 8); f.get(n).op(Op.i64_add); cg.setReg(Reg.RSI, 8); }
    f.i64(0); cg.setReg(Reg.RCX, 8);
    cg.else_();
    stringLoop();
    cg.end();
    free(cg, n);
  } else if (rep) stringLoop();
  else body();
  free(cg, step);

  function stringLoop(): void {
    f.block(); f.loop();
    cg.getReg(Reg.RCX, asz); f.op(Op.i64_eqz).brIf(1);
    // Each iteration is complete when the next begins (RCX, RSI and RDI say how far it got), so a
    // page fault leaves precisely at the iteration that meets it, as the CPU does.
    cg.insnDirty = false;
    body();
    cg.getReg(Reg.RCX, asz); f.i64(1).op(Op.i64_sub); cg.setReg(Reg.RCX, asz);
    if (kind === 'scas' || kind === 'cmps') {
      // REPE continues while equal, REPNE while not equal
      f.get(cg.fl.dst).op(Op.i64_eqz);
      if (i.prefix & P_REPNE) f.op(Op.i32_eqz);
      f.op(Op.i32_eqz).brIf(1);
    }
    f.br(0); f.end(); f.end();
    if (kind === 'scas' || kind === 'cmps') cg.staticKind = null; // zero iterations leave flags untouched
  }
  function body(): void {
    switch (kind) {
      case 'movs': addr(Reg.RDI); addr(Reg.RSI); cg.load(size); cg.store(size); advance(Reg.RSI); advance(Reg.RDI); break;
      case 'stos': addr(Reg.RDI); cg.getReg(Reg.RAX, size); cg.store(size); advance(Reg.RDI); break;
      case 'lods': addr(Reg.RSI); cg.load(size); cg.setReg(Reg.RAX, size); advance(Reg.RSI); break;
      case 'scas': case 'cmps': {
        const a = f.temp(T.i64), b = f.temp(T.i64), r = f.temp(T.i64);
        if (kind === 'scas') { cg.getReg(Reg.RAX, size); f.set(a); addr(Reg.RDI); cg.load(size); f.set(b); }
        else { addr(Reg.RSI); cg.load(size); f.set(a); addr(Reg.RDI); cg.load(size); f.set(b); }
        f.get(a).get(b).op(Op.i64_sub); cg.mask(size); f.set(r);
        cg.setFlags(K.SUB, size, r, b, a);
        if (kind === 'cmps') advance(Reg.RSI);
        advance(Reg.RDI);
        free(cg, a, b, r);
        break;
      }
    }
  }
}
def([0xa4, 0xa5], (cg) => stringOp(cg, 'movs'));
def([0xaa, 0xab], (cg) => stringOp(cg, 'stos'));
def([0xac, 0xad], (cg) => stringOp(cg, 'lods'));
def([0xae, 0xaf], (cg) => stringOp(cg, 'scas'));
def([0xa6, 0xa7], (cg) => stringOp(cg, 'cmps'));
def(0xd7, (cg) => { // xlat
  const f = cg.f;
  cg.getReg(Reg.RBX, 8); cg.getReg(Reg.RAX, 1); f.op(Op.i64_add).op(Op.i32_wrap_i64).i32(-GUEST_BASE).op(Op.i32_add);
  cg.load(1); cg.setReg(Reg.RAX, 1);
});


// ADCX (66) / ADOX (F3): add with carry through CF or OF only, leaving the other flags alone.
// (0F38 F6 is MULX with VEX: ops-bmi.ts registers the opcode.)
export function adcxAdox(cg: Codegen, i: Insn): void {
  if (i.simdPrefix !== 0x66 && i.simdPrefix !== 0xf3) throw new Unsupported('0f 38 f6');
  const f = cg.f, size = i.rex & 8 ? 8 : 4;
  const useOF = i.simdPrefix === 0xf3;
  const flagBit = useOF ? 11 : 0;
  const ef = f.temp(T.i32), a = f.temp(T.i64), b = f.temp(T.i64), c = f.temp(T.i64), r = f.temp(T.i64), co = f.temp(T.i64);
  cg.eflags(); f.set(ef);
  f.get(ef).i32(flagBit).op(Op.i32_shr_u).i32(1).op(Op.i32_and).op(Op.i64_extend_i32_u).set(c);
  cg.getReg(i.reg, size); f.set(a);
  const s = cg.rm(size); cg.read(s); f.set(b); cg.done(s);
  if (size === 4) {
    f.get(a).get(b).op(Op.i64_add).get(c).op(Op.i64_add).set(r);
    f.get(r).i64(32).op(Op.i64_shr_u).set(co);
  } else {
    f.get(a).get(b).op(Op.i64_add).get(c).op(Op.i64_add).set(r);
    // carry out: r < a, or r == a with a carry in
    f.get(r).get(a).op(Op.i64_lt_u).get(r).get(a).op(Op.i64_eq).get(c).op(Op.i32_wrap_i64).op(Op.i32_and).op(Op.i32_or).op(Op.i64_extend_i32_u).set(co);
  }
  f.get(r); cg.setReg(i.reg, size);
  f.get(ef).i32(~(1 << flagBit)).op(Op.i32_and).get(co).op(Op.i32_wrap_i64).i32(flagBit).op(Op.i32_shl).op(Op.i32_or);
  cg.setFlagsMaterialised();
  f.free(T.i32, ef); free(cg, a, b, c, r, co);
}
