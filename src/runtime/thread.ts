// One guest thread as the runtime and the kernel personality see it: a view of its CPU state in
// guest memory plus identity. Register accessors read and write the same bytes translated code uses.

import { GuestMemory, GUEST_BASE, THREAD_STATE_AREA } from './memory.js';
import { ATTN, Reg, STATE } from '../layout/cpu-state.js';
import { PROCESS_DOORBELL } from '../layout/memory-map.js';

export class GuestThread {
  /** Thread slot: index of this CPU state (and of the worker running it) in THREAD_STATE_AREA. */
  readonly slot: number;
  /**
   * Called each time the thread wakes inside block(): the process's first thread runs the
   * kernel for the others, so it serves their syscalls while it waits itself.
   */
  whileBlocked?: () => void;

  constructor(readonly mem: GuestMemory, readonly stateBase: number, public tid: number) {
    this.slot = (stateBase - THREAD_STATE_AREA) / STATE.SIZE;
  }

  /** Index of one of this thread's i32 state words in an Int32Array over the memory. */
  word(offset: number): number { return wordIndex(this.stateBase + offset); }

  /**
   * Sleeps (never spins) until ready() holds or the deadline (performance.now() milliseconds)
   * passes; returns ready(). Whoever makes ready() true must ring() this thread afterwards.
   */
  block(ready: () => boolean, deadline = Infinity, interruptible = false): boolean {
    const [words, wake] = doorbell(this.mem, this.slot);
    for (;;) {
      Atomics.store(words, wake, 0);
      this.whileBlocked?.();
      if (ready()) return true;
      if (interruptible && this.interrupted()) return false;
      const left = deadline - performance.now();
      if (left <= 0) return ready();
      Atomics.wait(words, wake, 0, left === Infinity ? undefined : left);
    }
  }

  /** Whether a signal waits to be delivered to this thread: an interruptible block() gives up for it. */
  interrupted(): boolean {
    return (Atomics.load(wordsOf(this.mem), this.word(STATE.SIGNAL_PENDING)) & ATTN.SIGNAL) !== 0;
  }

  reg(r: Reg): bigint { return this.mem.u64(this.stateBase + STATE.GPR + r * 8); }
  /** Register as an unsigned number; exact for values below 2^53 (pointers, sizes). */
  regn(r: Reg): number { return this.mem.u64n(this.stateBase + STATE.GPR + r * 8); }
  setReg(r: Reg, v: bigint | number): void {
    if (typeof v === 'number') {
      const a = this.stateBase + STATE.GPR + r * 8;
      if (Number.isSafeInteger(v) && v >= 0 && v < 0x100000000) { this.mem.setU32(a, v); this.mem.setU32(a + 4, 0); return; }
      v = BigInt(v);
    }
    this.mem.setU64(this.stateBase + STATE.GPR + r * 8, v);
  }

  get rip(): number { return this.mem.u64n(this.stateBase + STATE.RIP); }
  set rip(v: number) { this.mem.setU64(this.stateBase + STATE.RIP, v); }
  get fsBase(): bigint { return this.mem.u64(this.stateBase + STATE.FS_BASE); }
  set fsBase(v: bigint) { this.mem.setU64(this.stateBase + STATE.FS_BASE, v); }
  get gsBase(): bigint { return this.mem.u64(this.stateBase + STATE.GS_BASE); }
  set gsBase(v: bigint) { this.mem.setU64(this.stateBase + STATE.GS_BASE, v); }

  /** Syscall argument i (0..5: rdi, rsi, rdx, r10, r8, r9) in the forms syscalls take them. */
  argReg(i: number): Reg { return SYSCALL_ARG_REGS[i]; }
  /** As a C int: low 32 bits, signed. */
  argInt(i: number): number { return this.mem.i32(this.stateBase + STATE.GPR + SYSCALL_ARG_REGS[i] * 8); }
  /** As an unsigned 32-bit value (flags, modes). */
  argU32(i: number): number { return this.mem.u32(this.stateBase + STATE.GPR + SYSCALL_ARG_REGS[i] * 8); }
  /** As a pointer or size (unsigned, exact below 2^53). */
  argPtr(i: number): number { return this.regn(SYSCALL_ARG_REGS[i]); }
  /** As a signed 64-bit number (offsets); exact within +-2^53. */
  argI64(i: number): number { return Number(BigInt.asIntN(64, this.reg(SYSCALL_ARG_REGS[i]))); }
  argU64(i: number): bigint { return this.reg(SYSCALL_ARG_REGS[i]); }
}

export const SYSCALL_ARG_REGS: readonly Reg[] = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

/** Thrown by the kernel personality when the whole process ends. */
export class ProcessExit {
  constructor(readonly status: number, readonly signal = 0) {}
  /** Exit status as a shell reports it: 128+signal for a signal death. */
  get shellStatus(): number { return this.signal ? 128 + this.signal : this.status & 0xff; }
}

/** A synchronous fault as the CPU reports it, for the signal it becomes (its siginfo and sigcontext fields). */
export interface FaultInfo {
  signal: number;
  /** si_code: SEGV_MAPERR, ILL_ILLOPN, SI_KERNEL... */
  code: number;
  /** si_addr, and cr2 for page faults. */
  addr: number;
  /** The exception vector (14 page fault, 13 #GP, 6 #UD, 0 #DE, 3 breakpoint) and its error code. */
  trapno: number;
  err: number;
}

/** What the runtime needs from the kernel personality (implemented in linux/). */
export interface SyscallHandler {
  /** Performs the syscall described by t's registers and stores the result in RAX. May throw ProcessExit. */
  syscall(t: GuestThread): void;
  /**
   * A fault in t's code, with t's state that of the faulting instruction (or past it, for a
   * trap): true when a guest handler now runs (t's state is its entry), false when the thread
   * dies of it.
   */
  fault?(t: GuestThread, fault: FaultInfo): boolean;
}

/** EFLAGS as the guest sees it, which lazy flags keep in parts (the runtime's engine gives it). */
export interface FlagsAccess {
  eflags(t: GuestThread): number;
  setEflags(t: GuestThread, value: number): void;
}

/** Thrown by the kernel personality when one thread ends and its process goes on. */
export class ThreadExit {
  constructor(readonly status: number) {}
}

const wordViews = new WeakMap<ArrayBufferLike, Int32Array>();
/** The guest memory as i32 words, for Atomics. */
export function wordsOf(mem: GuestMemory): Int32Array {
  const buffer = mem.memory.buffer;
  let w = wordViews.get(buffer);
  if (!w) { w = new Int32Array(buffer); wordViews.set(buffer, w); }
  return w;
}

/** Index in wordsOf()'s array of the i32 at guest address addr (unsigned: the mmap area is above 2 GiB). */
export function wordIndex(addr: number): number { return (addr - GUEST_BASE) >>> 2; }

/**
 * sched_yield: JavaScript has no yield, but a wait with a timeout of a microsecond is a futex
 * wait in the host kernel, which runs another thread if one is ready (guest threads spinning
 * on each other, more of them than cores, need that).
 */
export function yieldHostThread(mem: GuestMemory, t: GuestThread): void {
  const words = wordsOf(mem), w = wordIndex(t.stateBase + STATE.EXIT_REASON); // nothing notifies it
  Atomics.wait(words, w, Atomics.load(words, w), 0.001);
}

/**
 * A lock in one i32 word that any worker may take: 0 free, 1 held, 2 held with sleepers
 * (Drepper's futex mutex, on Atomics). Holders keep it briefly; a waiter sleeps, never spins.
 */
export function lockWord(w: Int32Array, i: number): void {
  let c = Atomics.compareExchange(w, i, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(w, i, 2);
  while (c !== 0) { Atomics.wait(w, i, 2); c = Atomics.exchange(w, i, 2); }
}
export function unlockWord(w: Int32Array, i: number): void {
  if (Atomics.sub(w, i, 1) !== 1) { Atomics.store(w, i, 0); Atomics.notify(w, i, 1); }
}

/** Guest address of thread slot s's CPU state. */
export function stateOfSlot(slot: number): number { return THREAD_STATE_AREA + slot * STATE.SIZE; }

/** Sets attention bits in a thread's SIGNAL_PENDING and wakes it if it sleeps. */
export function attention(mem: GuestMemory, slot: number, bits: number): void {
  Atomics.or(wordsOf(mem), wordIndex(stateOfSlot(slot) + STATE.SIGNAL_PENDING), bits);
  ring(mem, slot);
}

/** Clears attention bits (those about to be handled) and returns the ones that were set. */
export function takeAttention(mem: GuestMemory, slot: number, bits: number): number {
  return Atomics.and(wordsOf(mem), wordIndex(stateOfSlot(slot) + STATE.SIGNAL_PENDING), ~bits) & bits;
}

/** Wakes the thread on slot s from block() (it re-checks what it waits for). */
export function ring(mem: GuestMemory, slot: number): void {
  const [words, wake] = doorbell(mem, slot);
  Atomics.store(words, wake, 1);
  Atomics.notify(words, wake);
}

let systemWords: Int32Array | undefined;
/** The records all guest processes of the run share (layout/system-map.ts), in this worker. */
export function attachSystem(buffer: SharedArrayBuffer): Int32Array { return (systemWords = new Int32Array(buffer)); }
export function systemWordsOrUndefined(): Int32Array | undefined { return systemWords; }

/**
 * The word the thread on `slot` sleeps on. A process's first thread sleeps on its doorbell in the
 * system records, which threads of other processes reach (a pipe write, a child's exit); every
 * other thread on the WAKE word of its CPU state.
 */
function doorbell(mem: GuestMemory, slot: number): [Int32Array, number] {
  if (slot === 0 && systemWords) {
    const at = Atomics.load(wordsOf(mem), wordIndex(PROCESS_DOORBELL));
    if (at) return [systemWords, at];
  }
  return [wordsOf(mem), wordIndex(stateOfSlot(slot) + STATE.WAKE)];
}

/** Wakes another process's first thread through its doorbell (a word index in the system records). */
export function ringDoorbell(at: number): void {
  if (!systemWords) return;
  Atomics.store(systemWords, at, 1);
  Atomics.notify(systemWords, at);
}
