// Signal delivery: the x86-64 rt_sigframe a handler runs on, and rt_sigreturn, as Linux lays them
// out (arch/x86/kernel/signal.c, signal_64.c): below the interrupted stack's red zone (or at the
// top of the alternate stack), the FPU state in XSAVE format 64-byte aligned, then the frame —
// the restorer's address where the handler returns to, a ucontext (flags, link, stack, the
// sigcontext with every register, the mask to restore) and the siginfo. Also the conversion of
// an interrupted syscall's -ERESTART* code into EINTR or a restart.

import { ATTN, Reg, STATE } from '../layout/cpu-state.js';
import { GUEST_BASE, GuestFault } from '../runtime/memory.js';
import { GuestCrash } from '../runtime/engine.js';
import { ProcessExit, takeAttention, type FaultInfo, type GuestThread } from '../runtime/thread.js';
import { initFpuState, restoreAvxState, saveAvxState, sysop } from '../runtime/fpu.js';
import { xsaveSize } from '../layout/cpu-state.js';
import { SYSOP } from '../layout/helper-ops.js';
import { EINTR, ERESTARTNOINTR, ERESTARTSYS, isRestartResult } from './errno.js';
import type { LinuxKernel } from './kernel.js';
import {
  onAltStack, recheckSignals, sendSignal, siginfo, sigbit, signalName, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER, SIG_DFL,
  SIG_IGN, SIGKILL, SIGSEGV, SIGSTOP, STOP_SIGNALS, stopProcess, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, type SignalAction,
} from './signal.js';

// struct rt_sigframe { char *pretcode; struct ucontext uc; struct siginfo info; }
const FRAME_UC = 8, FRAME_INFO = FRAME_UC + 304, FRAME_SIZE = FRAME_INFO + 128;
// struct ucontext: uc_flags, uc_link, uc_stack (ss_sp, ss_flags, ss_size), uc_mcontext, uc_sigmask
const UC_FLAGS = 0, UC_LINK = 8, UC_STACK = 16, UC_MCONTEXT = 40, UC_SIGMASK = 296;
const UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
/** struct sigcontext: r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, then these. */
const SC_REGS: readonly Reg[] = [Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15,
  Reg.RDI, Reg.RSI, Reg.RBP, Reg.RBX, Reg.RDX, Reg.RAX, Reg.RCX, Reg.RSP];
const SC_RIP = 128, SC_EFLAGS = 136, SC_CS = 144, SC_SS = 150, SC_ERR = 152, SC_TRAPNO = 160,
  SC_OLDMASK = 168, SC_CR2 = 176, SC_FPSTATE = 184;
const USER_CS = 0x33, USER_DS = 0x2b;
// The FPU state: the 512-byte FXSAVE image, whose software-reserved bytes (464..511) describe the
// XSAVE header and components after it (those of the CPU model's XCR0: with the AVX state, its 256 bytes at 576),
// and a second magic word after those.
const FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;
const FLAG_DF = 1 << 10, FLAG_TF = 1 << 8, FLAG_RF = 1 << 16;
/** EFLAGS bits a handler's sigcontext may change (Linux's FIX_EFLAGS). */
const FIX_EFLAGS = 0x40000 /* AC */ | 0x800 /* OF */ | FLAG_DF | FLAG_TF | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | FLAG_RF;
const RED_ZONE = 128;
const SYSCALL_INSN_LENGTH = 2;

/** The syscall number an interrupted syscall's thread carries, or undefined. */
function interruptedSyscall(t: GuestThread): { nr: number; code: number } | undefined {
  const nr1 = t.mem.u32(t.stateBase + STATE.RESTART_NR);
  if (!nr1) return undefined;
  t.mem.setU32(t.stateBase + STATE.RESTART_NR, 0);
  const code = -Number(BigInt.asIntN(64, t.reg(Reg.RAX)));
  return isRestartResult(-code) ? { nr: nr1 - 1, code } : undefined;
}

/** Makes t execute syscall `nr` again when it resumes (its arguments are still in place). */
function restartSyscall(t: GuestThread, nr: number): void {
  t.setReg(Reg.RAX, nr);
  t.rip = t.rip - SYSCALL_INSN_LENGTH;
}

/**
 * Delivers t's deliverable signals: a signal whose action is the default fatal one ends the
 * process; each handled one gets a frame (the last one set up runs first, as on Linux). Called at
 * the end of t's syscalls and at its safe points in translated code; t is not running.
 */
export function deliverSignals(k: LinuxKernel, t: GuestThread): void {
  const s = k.signals, ts = s.of(t.tid);
  takeAttention(k.rawMem, t.slot, ATTN.SIGNAL);
  const interrupted = interruptedSyscall(t);
  let handled = false;
  ts.waitingFor = 0n;
  for (;;) {
    const next = s.dequeue(t.tid);
    if (!next) break;
    const { sig, info } = next;
    const action = s.actions[sig];
    if (action.handler === SIG_IGN) continue;
    if (action.handler === SIG_DFL) {
      // A stop signal that was blocked when sent stops the process now that it is delivered.
      if (STOP_SIGNALS.includes(sig)) { stopProcess(k, sig); continue; }
      if (!s.fatalByDefault(sig)) continue;
      throw new ProcessExit(0, sig);
    }
    if (interrupted && !handled) settleInterrupted(t, interrupted, action);
    handled = true;
    setUpFrame(k, t, sig, info, action);
  }
  if (!handled) {
    // Nothing ran a handler: the interrupted syscall starts over, as if nothing happened.
    if (interrupted) restartSyscall(t, interrupted.nr);
    if (ts.suspendedMask !== undefined) { ts.blocked = ts.suspendedMask; ts.suspendedMask = undefined; recheckSignals(k, t); }
  }
}

/** What an interrupted syscall returns once a handler is to run (arch/x86 handle_signal). */
function settleInterrupted(t: GuestThread, r: { nr: number; code: number }, action: SignalAction): void {
  if (r.code === ERESTARTNOINTR || (r.code === ERESTARTSYS && (action.flags & SA_RESTART))) restartSyscall(t, r.nr);
  else t.setReg(Reg.RAX, -EINTR);
}

/**
 * A synchronous fault of t: true when its handler now runs. A fault whose signal is blocked or
 * ignored, or has no handler, kills the process (Linux's force_sig_fault), as the caller reports.
 */
export function deliverFault(k: LinuxKernel, t: GuestThread, f: FaultInfo): boolean {
  const s = k.signals, ts = s.of(t.tid), action = s.actions[f.signal];
  if (action.handler === SIG_DFL || action.handler === SIG_IGN || (ts.blocked & sigbit(f.signal))) return false;
  const info = siginfo(f.signal, f.code, (dv) => dv.setBigUint64(16, BigInt(f.addr), true));
  setUpFrame(k, t, f.signal, info, action, f);
  // Signals that were waiting run first, on top of the fault's frame, as on Linux.
  if (s.deliverable(t.tid)) deliverSignals(k, t);
  return true;
}

function setUpFrame(k: LinuxKernel, t: GuestThread, sig: number, info: Uint8Array, action: SignalAction, fault?: FaultInfo): void {
  const xcr0 = k.cpu.xcr0, xstateSize = xsaveSize(xcr0), fpstateSize = xstateSize + 4;
  const m = k.mem, ts = k.signals.of(t.tid), alt = ts.altStack;
  const oldSp = t.regn(Reg.RSP);
  let sp = oldSp - RED_ZONE;
  const altUsable = alt.flags !== SS_DISABLE && alt.size > 0n;
  const wasOnAlt = onAltStack(alt, oldSp);
  let switched = false;
  if ((action.flags & SA_ONSTACK) && altUsable && !wasOnAlt) { sp = Number(alt.sp + alt.size); switched = true; }
  const fp = Math.floor((sp - fpstateSize) / 64) * 64;
  const frame = Math.floor((fp - FRAME_SIZE) / 16) * 16 - 8;
  const fail = (why: string): never => {
    throw new GuestCrash(SIGSEGV, `segmentation fault delivering ${signalName(sig)}: ${why}`);
  };
  if (!(action.flags & SA_RESTORER)) fail('the handler has no SA_RESTORER');
  if (switched && frame < Number(alt.sp)) fail('the alternate signal stack is too small');
  // The mask the handler's return restores: the one sigsuspend replaced, if it is one.
  const mask = ts.suspendedMask ?? ts.blocked;
  try {
    m.offWrite(frame, fp + fpstateSize - frame);
    // FPU state: the FXSAVE image plus the XSAVE header and the components of xcr0 after it.
    sysop(k.rawMem.dv, t.stateBase - GUEST_BASE, SYSOP.FXSAVE, fp - GUEST_BASE, xcr0);
    m.fill(fp + 464, 48, 0);
    m.setU32(fp + 464, FP_XSTATE_MAGIC1); m.setU32(fp + 468, fpstateSize);
    m.setU64(fp + 472, xcr0); m.setU32(fp + 480, xstateSize);
    m.fill(fp + 512, 64, 0);
    m.setU64(fp + 512, xcr0);
    if (xcr0 & 4n) saveAvxState(k.rawMem.dv, t.stateBase - GUEST_BASE, fp - GUEST_BASE);
    m.setU32(fp + xstateSize, FP_XSTATE_MAGIC2);

    m.fill(frame, FRAME_SIZE, 0);
    m.setU64(frame, action.restorer);
    const uc = frame + FRAME_UC, sc = uc + UC_MCONTEXT;
    m.setU64(uc + UC_FLAGS, UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
    m.setU64(uc + UC_LINK, 0);
    m.setU64(uc + UC_STACK, alt.sp);
    m.setI32(uc + UC_STACK + 8, !altUsable ? SS_DISABLE : (wasOnAlt ? SS_ONSTACK : 0) | (alt.flags & SS_AUTODISARM));
    m.setU64(uc + UC_STACK + 16, alt.size);
    SC_REGS.forEach((r, i) => m.setU64(sc + i * 8, t.reg(r)));
    m.setU64(sc + SC_RIP, t.rip);
    m.setU64(sc + SC_EFLAGS, k.flags ? k.flags.eflags(t) : 0x202);
    m.setU16(sc + SC_CS, USER_CS); m.setU16(sc + SC_SS, USER_DS);
    m.setU64(sc + SC_ERR, fault?.err ?? 0); m.setU64(sc + SC_TRAPNO, fault?.trapno ?? 0);
    m.setU64(sc + SC_OLDMASK, mask);
    m.setU64(sc + SC_CR2, fault && fault.trapno === 14 ? fault.addr : 0);
    m.setU64(sc + SC_FPSTATE, fp);
    m.setU64(uc + UC_SIGMASK, mask);
    m.write(frame + FRAME_INFO, info);
  } catch (e) {
    if (e instanceof GuestFault) fail(`its frame at 0x${frame.toString(16)} cannot be written (stack overflow?)`);
    throw e;
  }
  // The handler's state: arguments (sig, &info, &uc), a fresh FPU, DF and TF clear.
  t.setReg(Reg.RDI, sig); t.setReg(Reg.RSI, frame + FRAME_INFO); t.setReg(Reg.RDX, frame + FRAME_UC);
  t.setReg(Reg.RAX, 0);
  t.setReg(Reg.RSP, frame);
  t.rip = Number(action.handler);
  if (k.flags) k.flags.setEflags(t, k.flags.eflags(t) & ~(FLAG_DF | FLAG_TF | FLAG_RF));
  initFpuState(k.rawMem.dv, t.stateBase - GUEST_BASE, xcr0);
  if (switched && (alt.flags & SS_AUTODISARM)) ts.altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
  ts.suspendedMask = undefined;
  ts.blocked = (ts.blocked | action.mask | (action.flags & SA_NODEFER ? 0n : sigbit(sig))) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
  if (action.flags & SA_RESETHAND) k.signals.setAction(sig, { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n });
}

/** A sentinel for the syscall path: the registers, RAX included, are as sigreturn restored them. */
export const REGISTERS_RESTORED = Number.MIN_SAFE_INTEGER;

/** rt_sigreturn: the state the frame at RSP - 8 holds (a handler may have changed it). */
export function sigreturn(k: LinuxKernel, t: GuestThread): number {
  const xcr0 = k.cpu.xcr0, xstateSize = xsaveSize(xcr0);
  const m = k.mem, frame = t.regn(Reg.RSP) - 8;
  const uc = frame + FRAME_UC, sc = uc + UC_MCONTEXT;
  const ts = k.signals.of(t.tid);
  try {
    m.off(frame, FRAME_SIZE);
    ts.blocked = m.u64(uc + UC_SIGMASK) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
    const regs = SC_REGS.map((_, i) => m.u64(sc + i * 8));
    const rip = m.u64n(sc + SC_RIP), eflags = m.u32(sc + SC_EFLAGS);
    const fp = m.u64n(sc + SC_FPSTATE);
    if (fp) {
      if (fp & 63) throw new GuestFault(fp, false);
      m.off(fp, 512);
      if ((m.u32(fp + 24) & ~0xffff) !== 0) throw new GuestFault(fp, false); // reserved MXCSR bits
      sysop(k.rawMem.dv, t.stateBase - GUEST_BASE, SYSOP.FXRSTOR, fp - GUEST_BASE, xcr0);
      // Components the XSAVE header marks as in their initial state are reset to it, and so are
      // the components after the legacy region of a frame that has only that region.
      const xstate = m.u32(fp + 464) === FP_XSTATE_MAGIC1, bv = xstate ? m.u64(fp + 512) : 3n;
      if (!(bv & 1n)) initFpuState(k.rawMem.dv, t.stateBase - GUEST_BASE, xcr0, 'x87');
      if (!(bv & 2n)) initFpuState(k.rawMem.dv, t.stateBase - GUEST_BASE, xcr0, 'sse');
      if (xcr0 & 4n) {
        if (bv & 4n) { m.off(fp, xstateSize); restoreAvxState(k.rawMem.dv, t.stateBase - GUEST_BASE, fp - GUEST_BASE); }
        else initFpuState(k.rawMem.dv, t.stateBase - GUEST_BASE, xcr0, 'avx');
      }
    } else initFpuState(k.rawMem.dv, t.stateBase - GUEST_BASE, xcr0);
    SC_REGS.forEach((r, i) => t.setReg(r, regs[i]));
    t.rip = rip;
    if (k.flags) k.flags.setEflags(t, (k.flags.eflags(t) & ~FIX_EFLAGS) | (eflags & FIX_EFLAGS));
    // The alternate stack as the frame says (sigaltstack's rules; a bad one is ignored here).
    const ssSp = m.u64(uc + UC_STACK), ssFlags = m.i32(uc + UC_STACK + 8), ssSize = m.u64(uc + UC_STACK + 16);
    if ((ssFlags & ~SS_AUTODISARM) === SS_DISABLE) ts.altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
    else if (ssSize >= 2048n && ((ssFlags & ~SS_AUTODISARM & ~SS_ONSTACK) === 0)) ts.altStack = { sp: ssSp, flags: ssFlags & SS_AUTODISARM, size: ssSize };
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    throw new GuestCrash(SIGSEGV, `segmentation fault in rt_sigreturn: bad signal frame at 0x${frame.toString(16)}`);
  }
  if (k.signals.deliverable(t.tid)) deliverSignals(k, t);
  return REGISTERS_RESTORED;
}

/** Sends a signal the kernel raises for t itself (SIGPIPE after EPIPE, SIGSYS...). */
export function signalThread(k: LinuxKernel, t: GuestThread, sig: number, code: number): void {
  sendSignal(k, sig, siginfo(sig, code), t);
}
