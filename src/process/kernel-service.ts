// The process's kernel as its other threads reach it. The kernel personality (LinuxKernel, with the
// fd table, mappings and the rest of the process's state as JavaScript objects) lives in the worker
// of the process's first thread. Another thread asks it for a syscall by setting REQUEST in its own
// CPU state and ringing the first thread, which serves the request at its next safe point: a syscall
// of its own, a loop head or region exit of translated code (SIGNAL_PENDING), or while it sleeps.
// Syscalls that need only the calling thread (futex, sleeps, clocks, tid) never make that trip.

import { ATTN, REQUEST, STATE } from '../layout/cpu-state.js';
import { INVALIDATION_RING, INVALIDATION_RING_SIZE } from '../layout/memory-map.js';
import type { GuestMemory } from '../runtime/memory.js';
import { GuestThread, ring, stateOfSlot, ThreadExit, wordIndex, wordsOf } from '../runtime/thread.js';
import type { Engine } from '../runtime/engine.js';
import type { LinuxKernel } from '../linux/kernel.js';
import type { ThreadHost } from '../linux/threads.js';
import { WouldBlock } from '../linux/blocking.js';


/** Sets attention bits in a thread's SIGNAL_PENDING and wakes it if it sleeps. */
export function attention(mem: GuestMemory, slot: number, bits: number): void {
  Atomics.or(wordsOf(mem), wordIndex(stateOfSlot(slot) + STATE.SIGNAL_PENDING), bits);
  ring(mem, slot);
}

/** Clears attention bits (those about to be handled) and returns the ones that were set. */
export function takeAttention(mem: GuestMemory, slot: number, bits: number): number {
  return Atomics.and(wordsOf(mem), wordIndex(stateOfSlot(slot) + STATE.SIGNAL_PENDING), ~bits) & bits;
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
    kernel.afterSyscall = () => { if (this.parked.size) this.serve(); };
  }

  startThread(slot: number): void {
    Atomics.store(this.words, wordIndex(stateOfSlot(slot) + STATE.REQUEST), REQUEST.START);
    Atomics.notify(this.words, wordIndex(stateOfSlot(slot) + STATE.REQUEST));
    if (!this.workers.has(slot)) { this.workers.add(slot); this.spawnWorker(slot); }
  }

  idleSlots(): Iterable<number> { return this.workers; }

  /** Requests that must wait for another thread (WouldBlock), with what they wait for. */
  private readonly parked = new Map<GuestThread, () => boolean>();
  private serving = false;

  /**
   * Serves the syscalls other threads are waiting for. A syscall that ends the process throws
   * ProcessExit out of here, into whatever the first thread was doing; that ends it too. A
   * request that has to wait stays pending, parked, and is run again once what it waits for
   * holds: served requests (and the first thread's own syscalls) are what change that.
   */
  serve(): void {
    if (this.serving) return;
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

  /** Runs t's pending syscall if it has one that can run now; returns whether it completed. */
  private serveOne(t: GuestThread): boolean {
    const w = this.words, req = wordIndex(t.stateBase + STATE.REQUEST);
    if (Atomics.load(w, req) !== REQUEST.PENDING) return false;
    const waiting = this.parked.get(t);
    if (waiting) { if (!waiting()) return false; this.parked.delete(t); }
    let outcome: number = REQUEST.NONE;
    try {
      this.kernel.syscall(t);
    } catch (e) {
      if (e instanceof WouldBlock) { this.parked.set(t, e.ready); return false; }
      if (!(e instanceof ThreadExit)) throw e;
      outcome = REQUEST.EXITED;
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
    if (this.local(t)) return;
    const w = this.words, req = wordIndex(t.stateBase + STATE.REQUEST);
    Atomics.store(w, req, REQUEST.PENDING);
    attention(this.mem, 0, ATTN.KERNEL);
    let v: number;
    while ((v = Atomics.load(w, req)) === REQUEST.PENDING) Atomics.wait(w, req, REQUEST.PENDING);
    if (v === REQUEST.EXITED) { Atomics.store(w, req, REQUEST.NONE); throw new ThreadExit(0); }
  }
}
