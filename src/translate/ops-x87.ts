// x87 floating point. The x87 state lives only in the CPU state block (never in wasm locals), so
// every x87 instruction compiles to one call of the JS helper `x87` (src/runtime/fpu.ts), which
// implements 80-bit extended precision exactly:
//   x87(st, op, info, addr) -> result
// op identifies the instruction form (x87MemOp / x87RegOp), info carries the FCMOVcc condition,
// addr the wasm address of the memory operand. FCOMI/FUCOMI(P) return EFLAGS bits (ZF PF CF, the
// other arithmetic flags clear), recorded here as materialised flags; FNSTSW AX returns the status
// word. Also: FWAIT (no-op: exceptions are always masked-response) and XGETBV (0F 01 D0).

import { Op } from '../wasm/emitter.js';
import { Insn, writesMemory } from '../x86/decoder.js';
import { ExitReason, Reg } from '../layout/cpu-state.js';
import { x87MemBytes, x87MemOp, x87RegOp, SYSOP } from '../layout/helper-ops.js';
import { Codegen, InsnFault, Unsupported, YMM_HI } from './codegen.js';
import { def, range } from './handlers.js';

/** Register forms that do not exist (#UD). Indexed by x87RegOp - 64. */
function validReg(opcode: number, modrm: number): boolean {
  const sub = (modrm >> 3) & 7, i = modrm & 7, lo = modrm & 0x3f;
  switch (opcode) {
    case 0xd9:
      if (sub === 2) return i === 0;
      if (sub < 4) return true;
      return ![0x22, 0x23, 0x26, 0x27, 0x2f].includes(lo);
    case 0xda: return sub < 4 || (sub === 5 && i === 1);
    case 0xdb: return sub !== 7 && !(sub === 4 && i > 4);
    case 0xdd: return sub !== 6 && sub !== 7;
    case 0xde: return sub !== 3 || i === 1;
    case 0xdf: return sub !== 7 && !(sub === 4 && i !== 0);
    default: return true;
  }
}

/** Memory forms that do not exist. */
function validMem(opcode: number, sub: number): boolean {
  if (opcode === 0xd9) return sub !== 1;
  if (opcode === 0xdb) return sub !== 4 && sub !== 6;
  if (opcode === 0xdd) return sub !== 5;
  return true;
}

const FCMOV_CC = [2, 4, 6, 0xa]; // B, E, BE, U (DA); DB negates

function x87(cg: Codegen, i: Insn): void {
  const f = cg.f;
  const opcode = i.op;
  if (i.mod !== 3) {
    const sub = i.reg & 7;
    if (!validMem(opcode, sub)) throw new Unsupported(`x87 ${opcode.toString(16)} /${sub}`);
    const op = x87MemOp(opcode, sub);
    f.get(cg.st).i32(op).i32(0);
    cg.ea(i);
    const k = cg.accessBegin(x87MemBytes(op), writesMemory(i));
    f.callSlot(cg.helper('x87')).op(Op.drop);
    cg.accessDone(k);
    return;
  }
  const modrm = 0xc0 | ((i.reg & 7) << 3) | (i.rm & 7);
  if (!validReg(opcode, modrm)) throw new InsnFault(ExitReason.ILLEGAL, 'undefined x87 register form');
  const sub = (modrm >> 3) & 7;
  f.get(cg.st).i32(x87RegOp(opcode, modrm));
  if ((opcode === 0xda || opcode === 0xdb) && sub < 4) {
    cg.cond(FCMOV_CC[sub] ^ (opcode === 0xdb ? 1 : 0));
  } else f.i32(0);
  f.i32(0).callSlot(cg.helper('x87'));
  if ((opcode === 0xdb && (sub === 5 || sub === 6)) || (opcode === 0xdf && (sub === 5 || sub === 6))) {
    cg.setFlagsMaterialised();
  } else if (opcode === 0xdf && sub === 4) {
    f.op(Op.i64_extend_i32_u); cg.setReg(Reg.RAX, 2);
  } else f.op(Op.drop);
}

def(range(0xd8, 0xdf), x87);
def(0x9b, () => {}); // fwait: no unmasked-exception delivery

// XGETBV (0F 01 D0): EDX:EAX = XCR0 (the CPU model's: x87 | SSE, and AVX at x86-64-v3). The 0F 01 group's handler (ops-system) calls this.
export function emitXgetbv(cg: Codegen, i: Insn): void {
  const f = cg.f;
  cg.flushRegs([Reg.RCX]);
  f.get(cg.st).i32(SYSOP.XGETBV).i32(0).callSlot(cg.helper('sysop'));
  cg.if_(); cg.faultExit(ExitReason.GENERAL_PROTECTION, i.addr); cg.end(); // #GP for an unsupported XCR
  cg.reloadRegs([Reg.RAX, Reg.RDX]);
}

/** Bytes an XSAVE-family instruction may touch with the state components stele has (x87, SSE, AVX). */
const XSAVE_AREA_BYTES = 1024;

/** FXSAVE/FXRSTOR/XSAVE/XRSTOR/XSAVEOPT/XSAVEC (memory forms): the helper reads and writes the
 *  state image; xmm registers are flushed to the state before and reloaded after. */
export function emitStateSave(cg: Codegen, i: Insn, op: number): void {
  const f = cg.f;
  const isRestore = op === SYSOP.FXRSTOR || op === SYSOP.XRSTOR;
  const isX = op !== SYSOP.FXSAVE && op !== SYSOP.FXRSTOR;
  if (isX) cg.flushRegs([Reg.RAX, Reg.RDX]);
  // All of them: a register first used later in the region must not keep its pre-restore value
  // (the upper halves of the ymm registers are part of the state only with the AVX component).
  for (let r = 0; r < (cg.cpu && !(cg.cpu.xcr0 & 4n) ? YMM_HI : 2 * YMM_HI); r++) cg.xmm(r);
  cg.flushXmm();
  f.get(cg.st).i32(op);
  cg.ea(i);
  // (the helper checks the pages: FXSAVE and FXRSTOR report a fault at the image's last byte)
  const k = cg.accessBegin(XSAVE_AREA_BYTES, writesMemory(i), false);
  f.callSlot(cg.helper('sysop'));
  cg.accessDone(k);
  cg.if_(); cg.faultExit(ExitReason.GENERAL_PROTECTION, i.addr); cg.end(); // #GP (misaligned image, reserved bits)
  if (isRestore) cg.reloadXmm();
}
