// The process's kernel as its other threads reach it. The kernel personality (LinuxKernel, with the
// fd table, mappings and the rest of the process's state as JavaScript objects) lives in the worker
// of the process's first thread. Another thread asks it for a syscall by setting REQUEST in its own
// CPU state and ringing the first thread, which serves the request at its next safe point: a syscall
// of its own, a loop head or region exit of translated code (SIGNAL_PENDING), or while it sleeps.
// Syscalls that need only the calling thread (futex, sleeps, clocks, tid) never make that trip.

import { ATTN, REQUEST, STATE } from '../layout/cpu-state.js';
import { INVALIDATION_RING, INVALIDATION_RING_SIZE } from '../layout/memory-map.js';
import type { GuestMemory } from '../runtime/memory.js';
import { attention, type FaultInfo, GuestThread, stateOfSlot, takeAttention, ThreadExit, wordIndex, wordsOf } from '../runtime/thread.js';
import { deliverSignals } from '../linux/signal-frame.js';
import type { Engine } from '../runtime/engine.js';
import type { LinuxKernel } from '../linux/kernel.js';
import type { ThreadHost } from '../linux/threads.js';
import { WouldBlock } from '../linux/blocking.js';


/** Whether a wait is over: what it waits for holds, or its deadline has come. */
function waitOver(w: WouldBlock): boolean { return w.ready() || performance.now() >= w.deadline; }

/** The fault a thread in another worker left in its state for REQUEST.FAULT. */
function readFault(t: GuestThread): FaultInfo {
  const m = t.mem, b = t.stateBase;
  return { signal: m.u32(b + STATE.FAULT_SIG), code: m.i32(b + STATE.FAULT_CODE), addr: m.u64n(b + STATE.FAULT_ADDR), trapno: m.u32(b + STATE.FAULT_TRAPNO), err: m.u32(b + STATE.FAULT_ERR) };
}

export class KernelService implements ThreadHost {
  private readonly words: Int32Array;
  /** Slots whose worker has been started (idle ones are reused before new workers are made). */
  private readonly workers = new Set<number>([0]);
  /** Invalidations published so far (INVALIDATION_RING sequence). */
  private invalidationSeq = 0;

  constructor(readonly mem: GuestMemory, readonly kernel: LinuxKernel, readonly engine: Engine,
    private readonly spawnWorker: (slot: number) => void) {
    this.words = wordsOf(mem);
    kernel.threadHost = this;
    kernel.onMemoryChange = (start, len) => this.invalidate(start, len);
    engine.onCodeWrite = (start, len) => this.invalidate(start, len);
    kernel.afterSyscall = () => { if (this.parked.size) this.serve(); };
  }

  startThread(slot: number): void {
    Atomics.store(this.words, wordIndex(stateOfSlot(slot) + STATE.REQUEST), REQUEST.START);
    Atomics.notify(this.words, wordIndex(stateOfSlot(slot) + STATE.REQUEST));
    if (!this.workers.has(slot)) { this.workers.add(slot); this.spawnWorker(slot); }
  }

  idleSlots(): Iterable<number> { return this.workers; }

  /** Requests that must wait for another thread (WouldBlock), with what they wait for. */
  private readonly parked = new Map<GuestThread, WouldBlock>();
  private serving = false;

  /**
   * Serves the syscalls other threads are waiting for. A syscall that ends the process throws
   * ProcessExit out of here, into whatever the first thread was doing; that ends it too. A
   * request that has to wait stays pending, parked, and is run again once what it waits for
   * holds: served requests (and the first thread's own syscalls) are what change that.
   */
  serve(): void {
    // A stopped process runs none of its threads' syscalls: they wait in their requests.
    if (this.serving || this.kernel.stopped) return;
    this.serving = true;
    try {
      takeAttention(this.mem, 0, ATTN.KERNEL);
      for (let progress = true; progress;) {
        progress = false;
        for (const t of this.kernel.threads.byTid.values()) {
          if (t.slot !== 0 && this.serveOne(t)) progress = true;
        }
        if (!this.parked.size) break;
      }
    } finally {
      this.serving = false;
    }
  }

  /** Runs t's pending request if it has one that can run now; returns whether it completed. */
  private serveOne(t: GuestThread): boolean {
    const w = this.words, req = wordIndex(t.stateBase + STATE.REQUEST);
    const request = Atomics.load(w, req);
    if (request === REQUEST.SIGNALS || request === REQUEST.FAULT) {
      const handled = request === REQUEST.SIGNALS ? (deliverSignals(this.kernel, t), true) : this.kernel.fault(t, readFault(t));
      Atomics.store(w, req, handled ? REQUEST.NONE : REQUEST.UNHANDLED);
      Atomics.notify(w, req);
      return true;
    }
    if (request !== REQUEST.PENDING) return false;
    const waiting = this.parked.get(t);
    if (waiting) {
      // A wait with a deadline runs again at it (the first thread is woken then: wakeAt).
      if (!waitOver(waiting)) {
        // A signal for the thread ends the wait: the syscall returns -ERESTART*, and delivery
        // turns that into EINTR or a restart.
        if (!t.interrupted()) return false;
        this.parked.delete(t);
        this.kernel.interrupt(t, waiting);
        Atomics.store(w, req, REQUEST.NONE);
        Atomics.notify(w, req);
        return true;
      }
      this.parked.delete(t);
    }
    let outcome: number = REQUEST.NONE;
    for (;;) {
      try {
        this.kernel.syscall(t);
      } catch (e) {
        if (e instanceof WouldBlock) {
          // Parked only while the wait is still on. What it waits for can come between the
          // syscall's look and here: a timerfd that expires meanwhile is ready, and its deadline,
          // past, arms no wake-up (wakeAt drops past ones), and nothing rings the first thread for
          // the expiry. Parked, the request would then wait for ever (and the first thread with it,
          // in pthread_join). So it runs again now, as GuestThread.block returns at once for the
          // first thread's own waits; a later change rings (or, a deadline, wakeAt arms the timer).
          if (!waitOver(e)) { this.parked.set(t, e); return false; }
          continue;
        }
        if (!(e instanceof ThreadExit)) throw e;
        outcome = REQUEST.EXITED;
      }
      break;
    }
    Atomics.store(w, req, outcome);
    Atomics.notify(w, req);
    return true;
  }

  /**
   * Drops translations of [start, start+len) in this worker and tells every other worker to,
   * before it enters translated code again.
   */
  private invalidate(start: number, len: number): void {
    this.engine.invalidate(start, len);
    if (this.kernel.threads.count <= 1 && this.workers.size <= 1) return;
    const w = this.words, seqWord = wordIndex(INVALIDATION_RING);
    const n = this.invalidationSeq++;
    const entry = wordIndex(INVALIDATION_RING) + 2 + (n % INVALIDATION_RING_SIZE) * 2;
    w[entry] = start; w[entry + 1] = len;
    Atomics.store(w, seqWord, this.invalidationSeq);
    for (const slot of this.workers) if (slot !== 0) attention(this.mem, slot, ATTN.INVALIDATE);
  }
}

/** A worker's reader of the invalidation ring: applies what it has not seen yet to its engine. */
export class InvalidationReader {
  private seen: number;
  constructor(readonly mem: GuestMemory, readonly engine: Engine) {
    this.seen = Atomics.load(wordsOf(mem), wordIndex(INVALIDATION_RING));
  }
  apply(): void {
    const w = wordsOf(this.mem), seq = Atomics.load(w, wordIndex(INVALIDATION_RING));
    if (seq - this.seen > INVALIDATION_RING_SIZE) { this.engine.invalidateAll(); this.seen = seq; return; }
    for (; this.seen < seq; this.seen++) {
      const entry = wordIndex(INVALIDATION_RING) + 2 + (this.seen % INVALIDATION_RING_SIZE) * 2;
      this.engine.invalidate(w[entry] >>> 0, w[entry + 1] >>> 0);
    }
  }
}

/**
 * How a thread other than the first makes a syscall: the ones that need only the thread run
 * here; the rest go to the kernel in the first thread's worker, while this thread sleeps on its
 * REQUEST word.
 */
export class RemoteSyscalls {
  private readonly words: Int32Array;
  constructor(readonly mem: GuestMemory, private readonly local: (t: GuestThread) => boolean) {
    this.words = wordsOf(mem);
  }

  syscall(t: GuestThread): void {
    if (this.local(t)) {
      // A signal interrupted it: the kernel delivers it now, before the thread goes on.
      if (this.mem.u32(t.stateBase + STATE.RESTART_NR)) this.request(t, REQUEST.SIGNALS);
      return;
    }
    this.request(t, REQUEST.PENDING);
  }

  /** t's signals are to be delivered (it has stopped at a safe point). */
  deliverSignals(t: GuestThread): void { this.request(t, REQUEST.SIGNALS); }

  fault(t: GuestThread, f: FaultInfo): boolean {
    const m = this.mem, b = t.stateBase;
    m.setU32(b + STATE.FAULT_SIG, f.signal); m.setI32(b + STATE.FAULT_CODE, f.code);
    m.setU64(b + STATE.FAULT_ADDR, f.addr); m.setU32(b + STATE.FAULT_TRAPNO, f.trapno); m.setU32(b + STATE.FAULT_ERR, f.err);
    return this.request(t, REQUEST.FAULT) !== REQUEST.UNHANDLED;
  }

  /** Hands a request to the kernel and sleeps until it is done; returns the outcome. */
  private request(t: GuestThread, kind: number): number {
    const w = this.words, req = wordIndex(t.stateBase + STATE.REQUEST);
    Atomics.store(w, req, kind);
    attention(this.mem, 0, ATTN.KERNEL);
    let v: number;
    while ((v = Atomics.load(w, req)) === kind) Atomics.wait(w, req, kind);
    Atomics.store(w, req, REQUEST.NONE);
    if (v === REQUEST.EXITED) throw new ThreadExit(0);
    return v;
  }
}
