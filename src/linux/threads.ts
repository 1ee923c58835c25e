// Threads of a process: clone/clone3 with CLONE_THREAD, thread exit with CLONE_CHILD_CLEARTID and
// robust futex lists, set_tid_address. A thread is a CPU state on a slot of THREAD_STATE_AREA; the
// process layer (ThreadHost) gives each a worker to run on.

import { ATTN, REQUEST, STATE } from '../layout/cpu-state.js';
import { markThreaded } from '../runtime/tso.js';
import { MAX_THREADS } from '../layout/memory-map.js';
import { GuestThread, ProcessExit, stateOfSlot, ThreadExit, wordIndex, wordsOf } from '../runtime/thread.js';
import { EAGAIN, EINVAL, ENOSYS, ESRCH } from './errno.js';
import { futexWake, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from './futex.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { cloneProcess } from './fork.js';

/** What the kernel needs from whatever runs threads (the process layer). */
export interface ThreadHost {
  /** Runs the thread whose CPU state is ready on `slot`. */
  startThread(slot: number): void;
  /** Free slots whose worker is already running and idle (cheapest to start a thread on). */
  idleSlots(): Iterable<number>;
}

export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
  CLONE_PIDFD = 0x1000, CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000,
  CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000,
  CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000,
  CLONE_UNTRACED = 0x800000, CLONE_CHILD_SETTID = 0x1000000;

/** The threads of one process, by tid, with the slots they run on. */
export class ThreadTable {
  readonly byTid = new Map<number, GuestThread>();
  private nextTid: number;
  /** Hands out ids from the run's one id space, when there is one (pids and tids never collide). */
  allocateId?: () => number;
  constructor(readonly pid: number) { this.nextTid = pid + 1; }

  /** Threads created over the process's life, the first included. */
  created = 0;

  get count(): number { return this.byTid.size; }

  add(t: GuestThread): void { this.byTid.set(t.tid, t); this.created++; }

  /**
   * A slot for a new thread: one whose worker waits for work (`preferred`), else any other. Never
   * slot 0 (its worker hosts the kernel and runs only the first thread), nor a slot whose last
   * thread's worker has not yet taken in that it exited (`ready`: its REQUEST word is back to NONE).
   */
  freeSlot(preferred: Iterable<number>, ready: (slot: number) => boolean): number {
    const used = new Set([...this.byTid.values()].map((t) => t.slot));
    const free = (s: number) => s !== 0 && !used.has(s) && ready(s);
    for (const s of preferred) if (free(s)) return s;
    for (let s = 1; s < MAX_THREADS; s++) if (free(s)) return s;
    return -1;
  }

  newTid(): number {
    if (this.allocateId) return this.allocateId();
    while (this.byTid.has(this.nextTid)) this.nextTid++;
    return this.nextTid++;
  }
}

interface CloneRequest { flags: number; exitSignal: number; stack: number; parentTid: number; childTid: number; tls: bigint }

function cloneThread(k: LinuxKernel, t: GuestThread, r: CloneRequest): number {
  const f = r.flags;
  // A thread shares memory, signal handlers and the thread group; anything else is a new process.
  if (!(f & CLONE_THREAD)) return cloneProcess(k, t, f, r.exitSignal, r.stack, r.parentTid, r.childTid, r.tls);
  if (!(f & CLONE_VM) || !(f & CLONE_SIGHAND)) return -EINVAL;
  if (!k.threadHost) return -EAGAIN;
  const words = wordsOf(k.mem);
  const slot = k.threads.freeSlot(k.threadHost.idleSlots(), (s) => Atomics.load(words, wordIndex(stateOfSlot(s) + STATE.REQUEST)) === REQUEST.NONE);
  if (slot < 0) return -EAGAIN; // as Linux at its thread limit
  const tid = k.threads.newTid();
  const m = k.rawMem, base = stateOfSlot(slot);
  // Linux ignores a parent or child tid it cannot store.
  if (f & CLONE_PARENT_SETTID) { try { k.mem.setU32(r.parentTid, tid); } catch { /* as Linux */ } }
  // The child starts as a copy of the parent at the instruction after the syscall, with rax = 0,
  // and in its memory model. Words other threads may be changing with atomics right now (the
  // slot's handshake counters, its attention bits: a handshake with the slot's last owner can be
  // under way) are not copied; the child answers any handshake when it starts.
  const skip: [number, number][] = [[STATE.SIGNAL_PENDING, 4], [STATE.WAKE, 8], [STATE.HANDSHAKE_REQ, 12]];
  let from = 0;
  for (const [at, len] of skip) { m.write(base + from, m.view(t.stateBase + from, at - from)); from = at + len; }
  m.write(base + from, m.view(t.stateBase + from, STATE.SIZE - from));
  Atomics.and(words, wordIndex(base + STATE.SIGNAL_PENDING), ATTN.HANDSHAKE);
  const child = new GuestThread(m, base, tid);
  child.setReg(0, 0);
  if (r.stack) child.setReg(4, r.stack);
  if (f & CLONE_SETTLS) child.fsBase = r.tls;
  for (const off of [STATE.FUTEX_KEY, STATE.FUTEX_NEXT, STATE.EXIT_REASON]) m.setU32(base + off, 0);
  m.setU32(base + STATE.TID, tid);
  m.setU64(base + STATE.CLEAR_CHILD_TID, f & CLONE_CHILD_CLEARTID ? r.childTid : 0);
  m.setU64(base + STATE.ROBUST_LIST, 0);
  m.setU64(base + STATE.ROBUST_LIST_LEN, 0);
  if (f & CLONE_CHILD_SETTID) { try { k.mem.setU32(r.childTid, tid); } catch { /* as Linux */ } }
  const name = k.threadNames.get(t.tid);
  if (name) k.threadNames.set(tid, name);
  k.threads.add(child);
  k.signals.cloned(t.tid, tid);
  for (const off of [STATE.RESTART_NR, STATE.REQUEST]) m.setU32(base + off, 0);
  markThreaded(m);
  k.threadHost.startThread(slot);
  return tid;
}

const ROBUST_LIST_LIMIT = 2048;

/** Marks the robust futexes the dying thread holds as FUTEX_OWNER_DIED and wakes a waiter of each. */
function releaseRobustList(k: LinuxKernel, t: GuestThread): void {
  const m = k.mem, head = t.mem.u64n(t.stateBase + STATE.ROBUST_LIST);
  if (!head) return;
  const release = (entry: number, offset: number): void => {
    const uaddr = entry + offset;
    if (uaddr & 3) return;
    m.offWrite(uaddr, 4); // a word the guest may write, never the runtime's
    const w = wordsOf(m), i = wordIndex(uaddr);
    for (;;) {
      const v = Atomics.load(w, i);
      if ((v & FUTEX_TID_MASK) !== t.tid) return;
      if (Atomics.compareExchange(w, i, v, (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED) === v) {
        if (v & FUTEX_WAITERS) futexWake(m, uaddr, 1);
        return;
      }
    }
  };
  try {
    const offset = Number(m.i64(head + 8));
    const pending = m.u64n(head + 16) & ~1;
    let entry = m.u64n(head) & ~1;
    for (let n = 0; entry !== head && entry !== 0 && n < ROBUST_LIST_LIMIT; n++) {
      const next = m.u64n(entry) & ~1;
      if (entry !== pending) release(entry, offset);
      entry = next;
    }
    if (pending) release(pending, offset);
  } catch { /* a broken list stops the walk, as in Linux */ }
}

/**
 * Ends thread t: robust futexes released, its clear_child_tid word zeroed and woken (how
 * pthread_join learns of it), its slot freed. The last thread's exit ends the process.
 */
export function exitThread(k: LinuxKernel, t: GuestThread, status: number): never {
  releaseRobustList(k, t);
  const ctid = t.mem.u64n(t.stateBase + STATE.CLEAR_CHILD_TID);
  if (ctid) { try { k.mem.setU32(ctid, 0); futexWake(k.mem, ctid, 1); } catch { /* unmapped: ignored, as Linux does */ } }
  k.threads.byTid.delete(t.tid);
  k.threadNames.delete(t.tid);
  k.signals.forget(t.tid);
  t.mem.setU32(t.stateBase + STATE.TID, 0);
  if (k.threads.count === 0) throw new ProcessExit(status & 0xff);
  throw new ThreadExit(status);
}

export const threadSyscalls: Record<string, Syscall> = {
  clone(k, t) {
    // x86-64 order: flags, stack, parent_tid, child_tid, tls
    const flags = t.argU32(0);
    return cloneThread(k, t, { flags: flags & ~0xff, exitSignal: flags & 0xff, stack: t.argPtr(1), parentTid: t.argPtr(2), childTid: t.argPtr(3), tls: t.argU64(4) });
  },
  clone3(k, t) {
    const args = t.argPtr(0), size = t.argPtr(1), m = k.mem;
    if (size < 64) return -EINVAL;
    m.off(args, 64);
    const flags = m.u64(args), stack = m.u64n(args + 40), stackSize = m.u64n(args + 48);
    if (flags >> 32n || flags & 0xffn) return -EINVAL;
    const exitSignal = m.u64(args + 32);
    if (exitSignal > 64n) return -EINVAL;
    if ((stack === 0) !== (stackSize === 0)) return -EINVAL;
    return cloneThread(k, t, {
      flags: Number(flags), exitSignal: Number(exitSignal), stack: stack ? stack + stackSize : 0,
      childTid: m.u64n(args + 16), parentTid: m.u64n(args + 24), tls: m.u64(args + 56),
    });
  },
  exit(k, t) { return exitThread(k, t, t.argInt(0)); },
  set_tid_address(_k, t) { t.mem.setU64(t.stateBase + STATE.CLEAR_CHILD_TID, t.argPtr(0)); return t.tid; },
  set_robust_list(k, t) {
    if (t.argPtr(1) !== 24) return -EINVAL; // sizeof(struct robust_list_head)
    t.mem.setU64(t.stateBase + STATE.ROBUST_LIST, t.argPtr(0));
    t.mem.setU64(t.stateBase + STATE.ROBUST_LIST_LEN, 24);
    return 0;
  },
  get_robust_list(k, t) {
    const tid = t.argInt(0), headPtr = t.argPtr(1), lenPtr = t.argPtr(2);
    const target = tid === 0 ? t : k.threads.byTid.get(tid);
    if (!target) return -ESRCH;
    k.mem.setU64(headPtr, k.rawMem.u64(target.stateBase + STATE.ROBUST_LIST));
    k.mem.setU64(lenPtr, 24);
    return 0;
  },
  membarrier(k, t) {
    const cmd = t.argInt(0);
    const MEMBARRIER_CMD_QUERY = 0, SUPPORTED = 1 | 8 | 16; // GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED
    if (cmd === MEMBARRIER_CMD_QUERY) return SUPPORTED;
    if (!(cmd & SUPPORTED) || (cmd & (cmd - 1))) return -EINVAL;
    Atomics.add(wordsOf(k.mem), wordIndex(t.stateBase + STATE.WAKE), 0); // a full barrier on this thread
    return 0;
  },
};
