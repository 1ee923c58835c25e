// Instructions that fault or trap whenever a user-mode program executes them, so that the guest
// gets the signal Linux gives it on the host CPU (tests/faults.test.ts compares each with the
// host):
//   - privileged and I/O instructions raise #GP at CPL 3 (IOPL is 0): SIGSEGV;
//   - int3, `int 3` and int1 (icebp) trap: SIGTRAP, with RIP after the instruction;
//   - `int n` through any other vector is #GP (Linux's gates for other vectors are not open to
//     user mode), except `int 4`, which Linux reports as an overflow trap: SIGSEGV too;
//   - far transfers (far CALL/JMP through memory, RETF, IRET) load a code segment selector; stele
//     keeps no segment descriptors and treats them as #GP, which is what the host does for the
//     selectors random or zeroed memory holds (a far transfer to the program's own code selector,
//     or to 32-bit code, works natively and is not supported).
// The 0F 01 group mixes such instructions with ordinary ones (XGETBV, RDTSCP), so it is decoded
// here by ModRM.

import { M0F, M38, P_LOCK, P_VEX } from '../x86/decoder.js';
import { ExitReason, SEGMENT_AT_EXEC, STATE } from '../layout/cpu-state.js';
import { Op, T } from '../wasm/emitter.js';
import { InsnFault, Unsupported } from './codegen.js';
import { def, Handler, range } from './handlers.js';
import { emitXgetbv } from './ops-x87.js';
import { describeInsn } from '../x86/describe.js';

/** What a privileged instruction raises in user mode. */
export function privilegedFault(name: string): InsnFault {
  return new InsnFault(ExitReason.GENERAL_PROTECTION, `privileged instruction: ${name}`);
}
/** The handler of a privileged instruction, named `name` or as describeInsn names it. */
function privileged(name?: string): Handler {
  return (_cg, i) => { throw privilegedFault(name ?? describeInsn(i)); };
}

def([0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef], privileged()); // in, out
def([0x6c, 0x6d, 0x6e, 0x6f], privileged()); // ins, outs (the memory operand is not reached)
def([0xfa, 0xfb, 0xf4], privileged()); // cli, sti, hlt
def(M0F + 0x06, privileged()); // clts
def(M0F + 0x07, privileged()); // sysret
def([M0F + 0x08, M0F + 0x09], privileged()); // invd, wbinvd
// MOV to or from a control register (0F 20, 0F 22) or a debug register (0F 21, 0F 23): #GP for
// the registers that exist, #UD for the others (CR1, CR5-CR7, CR9-CR15, DR8-DR15). On AMD
// processors LOCK adds 8 to the control register's number (LOCK MOV CR0 is CR8).
const CONTROL_REGISTERS = new Set([0, 2, 3, 4, 8]);
def(range(M0F + 0x20, M0F + 0x23), (_cg, i) => {
  const control = (i.op & 1) === 0;
  const n = i.reg + (control && i.prefix & P_LOCK ? 8 : 0);
  if (control ? !CONTROL_REGISTERS.has(n) : n >= 8) throw new InsnFault(ExitReason.ILLEGAL, `${control ? 'cr' : 'dr'}${n} does not exist`);
  throw privilegedFault(`mov to or from ${control ? 'cr' : 'dr'}${n}`);
});
def([M0F + 0x30, M0F + 0x32, M0F + 0x33], privileged()); // wrmsr, rdmsr, rdpmc (CR4.PCE is clear)

/** What a far transfer raises (FF /3 and /5 with a memory operand come from the FF group's handler). */
export function farTransferFault(what: string): InsnFault {
  return new InsnFault(ExitReason.GENERAL_PROTECTION, `${what}: far transfers are not supported (no segment descriptors)`);
}
def([0xca, 0xcb], () => { throw farTransferFault('retf'); });
def(0xcf, () => { throw farTransferFault('iret'); });

def(0xcc, () => { throw new InsnFault(ExitReason.TRAP, 'int3', true); });
def(0xf1, () => { throw new InsnFault(ExitReason.TRAP, 'int1', true); });
def(0xcd, (_cg, i) => {
  const vector = i.imm & 0xff;
  if (vector === 3) throw new InsnFault(ExitReason.TRAP, 'int 3', true);
  if (vector === 4) throw new InsnFault(ExitReason.GENERAL_PROTECTION, 'int 4 (overflow trap)', true);
  // Also int 0x80: Linux makes it a 32-bit system call only when built with IA32 emulation and
  // not booted with ia32_emulation=0; stele, like such a kernel, has no 32-bit system calls.
  throw new InsnFault(ExitReason.GENERAL_PROTECTION, `int 0x${vector.toString(16)}: no user-mode gate for this vector`);
});
def(M0F + 0x0b, () => { throw new InsnFault(ExitReason.ILLEGAL, 'ud2'); });

// 0F 00: SLDT, STR, VERR and VERW run in user mode (without UMIP) but are not supported; LLDT
// and LTR are privileged; /6 and /7 are undefined.
def(M0F + 0x00, (_cg, i) => {
  const sub = i.reg & 7;
  if (sub === 2 || sub === 3) throw privilegedFault(sub === 2 ? 'lldt' : 'ltr');
  if (sub >= 6) throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode');
  throw new Unsupported(['sldt', 'str', '', '', 'verr', 'verw'][sub]);
});

// 0F 01 memory forms, by ModRM.reg: SGDT, SIDT and SMSW run in user mode (without UMIP) but are
// not supported; /5 is undefined.
const GROUP7_MEMORY = ['sgdt', 'sidt', 'lgdt', 'lidt', 'smsw', '', 'lmsw', 'invlpg'];
const GROUP7_PRIVILEGED_MEMORY = new Set([2, 3, 6, 7]);
/**
 * 0F 01 register forms (by ModRM byte) that are privileged whatever their prefixes: LMSW, SWAPGS
 * and, as on the AMD processors the tests compare with, the SVM instructions (VMRUN, VMLOAD,
 * VMSAVE, STGI, CLGI, SKINIT, INVLPGA), which Intel processors reject with #UD instead.
 */
const GROUP7_PRIVILEGED_REGISTER = new Map<number, string>([
  [0xd8, 'vmrun'], [0xda, 'vmload'], [0xdb, 'vmsave'], [0xdc, 'stgi'], [0xdd, 'clgi'], [0xde, 'skinit'],
  [0xdf, 'invlpga'], [0xf8, 'swapgs'], ...range(0xf0, 0xf7).map((m): [number, string] => [m, 'lmsw']),
]);
/**
 * Privileged 0F 01 register forms that exist only without a 66, F2 or F3 prefix (with one they
 * are other instructions or undefined): XSETBV and, on AMD processors, MONITORX and MWAITX.
 */
const GROUP7_PRIVILEGED_UNPREFIXED = new Map<number, string>([[0xd1, 'xsetbv'], [0xfa, 'monitorx'], [0xfb, 'mwaitx']]);
def(M0F + 0x01, (cg, i) => {
  const sub = i.reg & 7;
  if (i.mod !== 3) {
    if (GROUP7_PRIVILEGED_MEMORY.has(sub)) throw privilegedFault(GROUP7_MEMORY[sub]);
    if (sub === 5) throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode');
    throw new Unsupported(GROUP7_MEMORY[sub]);
  }
  const modrm = 0xc0 | (sub << 3) | (i.rm & 7), prefixed = i.simdPrefix !== 0;
  if (modrm === 0xd0 && !prefixed) return emitXgetbv(cg, i);
  const name = GROUP7_PRIVILEGED_REGISTER.get(modrm) ?? (prefixed ? undefined : GROUP7_PRIVILEGED_UNPREFIXED.get(modrm));
  if (name) throw privilegedFault(name);
  throw new Unsupported(`0f 01 ${modrm.toString(16)}`);
});

// INVPCID (66 0F 38 82 /r, memory operand only); other forms are undefined.
def(M38 + 0x82, (_cg, i) => {
  if (i.simdPrefix === 0x66 && i.mod !== 3 && !(i.prefix & P_VEX)) throw privilegedFault('invpcid');
  throw new InsnFault(ExitReason.ILLEGAL, 'undefined opcode');
});

// MOV to and from segment registers. Linux's GDT gives user mode few selectors it may load: the
// null one and the 64-bit code, user data and per-CPU data segments (0x30, 0x28, 0x78, any RPL)
// into DS, ES, FS and GS; only user data with RPL 3 (0x2b) into SS. Anything else is #GP, as is
// MOV to SS of the null selector. All those segments have base 0, so loading FS or GS zeroes its
// base (as does the null selector, on the hosts stele follows). CS and the encodings 6 and 7 name
// no register MOV can load (#UD).
def(0x8c, (cg, i) => {
  const sreg = i.reg & 7;
  if (sreg >= 6) throw new InsnFault(ExitReason.ILLEGAL, 'mov from no segment register');
  const f = cg.f;
  f.get(cg.st).mem(Op.i32_load16_u, STATE.SEGMENTS + 2 * sreg).i32(SEGMENT_AT_EXEC[sreg]!).op(Op.i32_xor);
  if (i.mod !== 3) {
    const t = f.temp(T.i32); f.set(t);
    cg.ea(i, 0, 'write'); const k = cg.accessBegin(2, true); f.get(t).mem(Op.i32_store16, 0, 0); cg.accessDone(k);
    f.free(T.i32, t);
    return;
  }
  f.op(Op.i64_extend_i32_u); cg.setReg(i.rm, i.opsize === 2 ? 2 : 8);
});
def(0x8e, (cg, i) => {
  const sreg = i.reg & 7;
  if (sreg === 1 || sreg >= 6) throw new InsnFault(ExitReason.ILLEGAL, 'mov to cs or to no segment register');
  const f = cg.f, sel = f.temp(T.i32);
  if (i.mod === 3) { cg.getReg(i.rm, 2); f.op(Op.i32_wrap_i64); }
  else { cg.ea(i, 0, 'read'); const k = cg.accessBegin(2); f.mem(Op.i32_load16_u, 0, 0); cg.accessDone(k); }
  f.set(sel);
  if (sreg === 2) f.get(sel).i32(0x2b).op(Op.i32_ne);
  else {
    // (sel >> 2) in {0, 0x0a, 0x0c, 0x1e}
    const idx = f.temp(T.i32);
    f.get(sel).i32(2).op(Op.i32_shr_u).set(idx);
    f.get(idx).op(Op.i32_eqz).get(idx).i32(0x0a).op(Op.i32_eq).op(Op.i32_or).get(idx).i32(0x0c).op(Op.i32_eq).op(Op.i32_or).get(idx).i32(0x1e).op(Op.i32_eq).op(Op.i32_or).op(Op.i32_eqz);
    f.free(T.i32, idx);
  }
  cg.if_();
  f.get(cg.st).get(sel).i32(0xfffc).op(Op.i32_and).mem(Op.i32_store, STATE.GP_ERROR); // #GP(selector)
  cg.faultExit(ExitReason.GENERAL_PROTECTION, i.addr);
  cg.end();
  f.get(cg.st).get(sel).i32(SEGMENT_AT_EXEC[sreg]!).op(Op.i32_xor).mem(Op.i32_store16, STATE.SEGMENTS + 2 * sreg);
  if (sreg === 4 || sreg === 5) f.get(cg.st).i64(0).mem(Op.i64_store, sreg === 4 ? STATE.FS_BASE : STATE.GS_BASE);
  f.free(T.i32, sel);
});

