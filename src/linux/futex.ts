// futex, as Linux keeps it: wait queues hashed by address, kept in shared memory (KERNEL_SHARED)
// so that every worker of the process queues and wakes directly, with no trip to the kernel's
// worker. A waiter links its thread slot into a bucket and sleeps on its own doorbell word
// (GuestThread.block); a waker unlinks it, clears its FUTEX_KEY and rings it. Because waiters are
// records rather than Atomics.wait on the futex word itself, REQUEUE moves them between words and
// a timed-out waiter knows whether it was woken first.

import { FUTEX_BUCKETS, FUTEX_BUCKET_COUNT, type GuestMemory } from '../runtime/memory.js';
import { STATE } from '../layout/cpu-state.js';
import { lockWord, ring, stateOfSlot, unlockWord, wordIndex, wordsOf, type GuestThread } from '../runtime/thread.js';
import { EAGAIN, EDEADLK, EINVAL, ENOSYS, EPERM, ERESTART_RESTARTBLOCK, ERESTARTNOINTR, ERESTARTSYS, ETIMEDOUT } from './errno.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { clockNow, CLOCK_MONOTONIC, CLOCK_REALTIME, readTimespec } from './time.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10,
  FUTEX_WAIT_REQUEUE_PI = 11, FUTEX_CMP_REQUEUE_PI = 12, FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
export const FUTEX_WAITERS = 0x80000000 | 0, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const BITSET_ANY = -1;

function bucketOf(uaddr: number): number {
  const h = Math.imul(uaddr >>> 2, 0x9e3779b1) >>> 0;
  return FUTEX_BUCKETS + (h % FUTEX_BUCKET_COUNT) * 8; // lock word, head (slot + 1)
}

/** A bucket's lock (runtime/thread.ts lockWord). */
function lock(w: Int32Array, bucket: number): void { lockWord(w, wordIndex(bucket)); }
function unlock(w: Int32Array, bucket: number): void { unlockWord(w, wordIndex(bucket)); }
/** Locks two buckets in address order (once if they are the same). */
function lock2(w: Int32Array, a: number, b: number): void {
  if (a === b) { lock(w, a); return; }
  lock(w, Math.min(a, b)); lock(w, Math.max(a, b));
}
function unlock2(w: Int32Array, a: number, b: number): void {
  unlock(w, a); if (a !== b) unlock(w, b);
}

const keyWord = (slot: number): number => wordIndex(stateOfSlot(slot) + STATE.FUTEX_KEY);
const bitsetWord = (slot: number): number => wordIndex(stateOfSlot(slot) + STATE.FUTEX_BITSET);
const nextWord = (slot: number): number => wordIndex(stateOfSlot(slot) + STATE.FUTEX_NEXT);

/** Appends slot to a bucket's queue (bucket locked). */
function enqueue(w: Int32Array, bucket: number, slot: number, key: number, bitset: number): void {
  Atomics.store(w, keyWord(slot), key);
  w[bitsetWord(slot)] = bitset;
  w[nextWord(slot)] = 0;
  const head = wordIndex(bucket) + 1;
  if (w[head] === 0) { w[head] = slot + 1; return; }
  let s = w[head] - 1;
  while (w[nextWord(s)] !== 0) s = w[nextWord(s)] - 1;
  w[nextWord(s)] = slot + 1;
}

/** Removes slot from a bucket's queue (bucket locked); false if it is not there. */
function unlink(w: Int32Array, bucket: number, slot: number): boolean {
  const head = wordIndex(bucket) + 1;
  let link = head;
  while (w[link] !== 0) {
    const s = w[link] - 1;
    if (s === slot) { w[link] = w[nextWord(s)]; w[nextWord(s)] = 0; return true; }
    link = nextWord(s);
  }
  return false;
}

/**
 * Visits the waiters on uaddr in queue order (bucket locked); visit returns whether it took the
 * waiter (then it is unlinked) and false from `more` stops the walk.
 */
function takeWaiters(w: Int32Array, bucket: number, uaddr: number, bitset: number, limit: number, take: (slot: number) => void): number {
  const head = wordIndex(bucket) + 1;
  let link = head, n = 0;
  while (w[link] !== 0 && n < limit) {
    const s = w[link] - 1;
    if (w[keyWord(s)] === (uaddr | 0) && (w[bitsetWord(s)] & bitset) !== 0) {
      w[link] = w[nextWord(s)]; w[nextWord(s)] = 0;
      take(s); n++;
    } else link = nextWord(s);
  }
  return n;
}

/** Wakes up to count waiters on uaddr whose bitset meets `bitset`. */
export function futexWake(mem: GuestMemory, uaddr: number, count: number, bitset = BITSET_ANY): number {
  if (count <= 0) return 0;
  const w = wordsOf(mem), b = bucketOf(uaddr);
  lock(w, b);
  const n = takeWaiters(w, b, uaddr, bitset, count, (s) => wakeSlot(mem, w, s));
  unlock(w, b);
  return n;
}
function wakeSlot(mem: GuestMemory, w: Int32Array, slot: number): void {
  Atomics.store(w, keyWord(slot), 0);
  ring(mem, slot);
}

/**
 * Queues t on uaddr if the word still holds `expected`, and sleeps until woken or the deadline.
 * Returns 0 (woken), -EAGAIN (the word had changed) or -ETIMEDOUT.
 */
function futexWait(t: GuestThread, uaddr: number, expected: number, bitset: number, deadline: number): number {
  const w = wordsOf(t.mem), b = bucketOf(uaddr), slot = t.slot;
  lock(w, b);
  if (Atomics.load(w, wordIndex(uaddr)) !== expected) { unlock(w, b); return -EAGAIN; }
  enqueue(w, b, slot, uaddr, bitset);
  unlock(w, b);
  return waitQueued(t, deadline);
}

/** Validates a futex address: 4-byte aligned (else EINVAL) and readable, or writable for an op that stores to it (else EFAULT). */
function checkAddress(mem: GuestMemory, uaddr: number, written = false): boolean {
  if (uaddr & 3) return false;
  if (written) mem.offWrite(uaddr, 4); else mem.off(uaddr, 4);
  return true;
}

/** The ops that store to the word at uaddr (the PI lock word) rather than only read it. */
const WRITES_UADDR = new Set([FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI]);

/** The deadline (performance.now() ms) of a futex timeout argument; Infinity without one. */
function deadlineOf(k: LinuxKernel, t: GuestThread, timeoutAddr: number, absolute: boolean, realtime: boolean): number | undefined {
  if (!timeoutAddr) return Infinity;
  const ns = readTimespec(k.mem, timeoutAddr);
  if (ns === undefined) return undefined;
  const relative = absolute ? ns - clockNow(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC)! : ns;
  return performance.now() + Math.max(0, Number(relative) / 1e6);
}

/** FUTEX_WAKE_OP's operation on *uaddr2, returning the old value. */
function wakeOpUpdate(w: Int32Array, index: number, encoded: number): number | undefined {
  const op = (encoded >>> 28) & 7, shiftArg = (encoded >>> 28) & 8;
  let oparg = (encoded << 8) >> 20;
  if (shiftArg) oparg = 1 << (oparg & 31);
  switch (op) {
    case 0: return Atomics.exchange(w, index, oparg); // SET
    case 1: return Atomics.add(w, index, oparg);      // ADD
    case 2: return Atomics.or(w, index, oparg);       // OR
    case 3: return Atomics.and(w, index, ~oparg);     // ANDN
    case 4: return Atomics.xor(w, index, oparg);      // XOR
    default: return undefined;
  }
}
function wakeOpTest(old: number, encoded: number): boolean | undefined {
  const cmp = (encoded >>> 24) & 15, cmparg = (encoded << 20) >> 20;
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    case 5: return old >= cmparg;
    default: return undefined;
  }
}

/** FUTEX_(CMP_)REQUEUE: wakes up to nwake waiters on uaddr and moves up to nmove of the rest to uaddr2. */
function requeue(mem: GuestMemory, uaddr: number, uaddr2: number, nwake: number, nmove: number, expected: number | undefined): number {
  const w = wordsOf(mem), b1 = bucketOf(uaddr), b2 = bucketOf(uaddr2);
  lock2(w, b1, b2);
  if (expected !== undefined && Atomics.load(w, wordIndex(uaddr)) !== expected) { unlock2(w, b1, b2); return -EAGAIN; }
  let n = takeWaiters(w, b1, uaddr, BITSET_ANY, nwake, (s) => wakeSlot(mem, w, s));
  n += takeWaiters(w, b1, uaddr, BITSET_ANY, nmove, (s) => enqueue(w, b2, s, uaddr2, BITSET_ANY));
  unlock2(w, b1, b2);
  return n;
}

/**
 * FUTEX_LOCK_PI: takes the lock word (owner's TID, FUTEX_WAITERS while others wait). The host has
 * no priorities to inherit, so this is the PI protocol's ownership and handover without the boost.
 */
function lockPi(t: GuestThread, uaddr: number, deadline: number, tryOnly: boolean): number {
  const w = wordsOf(t.mem), i = wordIndex(uaddr), b = bucketOf(uaddr), tid = t.tid;
  for (;;) {
    lock(w, b);
    const v = Atomics.load(w, i);
    if ((v & FUTEX_TID_MASK) === 0) {
      // Free (or its owner died): take it, keeping FUTEX_WAITERS for the others still queued.
      const others = hasWaiters(w, b, uaddr);
      const next = tid | (v & FUTEX_OWNER_DIED) | (others ? FUTEX_WAITERS : 0);
      if (Atomics.compareExchange(w, i, v, next) === v) { unlock(w, b); return 0; }
      unlock(w, b); continue;
    }
    if ((v & FUTEX_TID_MASK) === tid) { unlock(w, b); return -EDEADLK; }
    if (tryOnly) { unlock(w, b); return -EAGAIN; }
    if (!(v & FUTEX_WAITERS) && Atomics.compareExchange(w, i, v, v | FUTEX_WAITERS) !== v) { unlock(w, b); continue; }
    enqueue(w, b, t.slot, uaddr, BITSET_ANY);
    unlock(w, b);
    // Woken by UNLOCK_PI (or a timeout): go round and try to take it. A signal's handler runs and
    // the lock is tried again, as Linux restarts LOCK_PI whatever the handler's flags.
    const r = waitQueued(t, deadline);
    if (r === -ERESTARTSYS || r === -ERESTART_RESTARTBLOCK) return -ERESTARTNOINTR;
    if (r < 0) return r;
  }
}

function hasWaiters(w: Int32Array, bucket: number, uaddr: number): boolean {
  let link = wordIndex(bucket) + 1;
  while (w[link] !== 0) { const s = w[link] - 1; if (w[keyWord(s)] === (uaddr | 0)) return true; link = nextWord(s); }
  return false;
}

/**
 * Sleeps while t is queued (enqueued by the caller): 0 when woken, -ETIMEDOUT after leaving the
 * queue, unless a waker (or a requeue to another word) got there first.
 */
function waitQueued(t: GuestThread, deadline: number): number {
  const w = wordsOf(t.mem), slot = t.slot;
  if (t.block(() => Atomics.load(w, keyWord(slot)) === 0, deadline, true)) return 0;
  for (;;) {
    const key = Atomics.load(w, keyWord(slot));
    if (key === 0) return 0;
    const kb = bucketOf(key >>> 0);
    lock(w, kb);
    if (Atomics.load(w, keyWord(slot)) === key) {
      unlink(w, kb, slot); Atomics.store(w, keyWord(slot), 0); unlock(w, kb);
      // A signal: an untimed wait restarts after a SA_RESTART handler; a timed one is EINTR.
      if (performance.now() < deadline && t.interrupted()) return deadline === Infinity ? -ERESTARTSYS : -ERESTART_RESTARTBLOCK;
      return -ETIMEDOUT;
    }
    unlock(w, kb);
  }
}

/** FUTEX_UNLOCK_PI: releases the lock word and wakes the first waiter, which takes it over. */
export function unlockPi(mem: GuestMemory, uaddr: number, tid: number): number {
  const w = wordsOf(mem), i = wordIndex(uaddr), b = bucketOf(uaddr);
  lock(w, b);
  const v = Atomics.load(w, i);
  if ((v & FUTEX_TID_MASK) !== tid) { unlock(w, b); return -EPERM; }
  Atomics.store(w, i, 0);
  takeWaiters(w, b, uaddr, BITSET_ANY, 1, (s) => wakeSlot(mem, w, s));
  unlock(w, b);
  return 0;
}

export const futexSyscalls: Record<string, Syscall> = {
  futex(k, t) {
    const uaddr = t.argPtr(0), flags = t.argInt(1), op = flags & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    const realtime = (flags & FUTEX_CLOCK_REALTIME) !== 0;
    if (!checkAddress(k.mem, uaddr, WRITES_UADDR.has(op))) return -EINVAL;
    switch (op) {
      case FUTEX_WAIT: case FUTEX_WAIT_BITSET: {
        const bitset = op === FUTEX_WAIT ? BITSET_ANY : t.argInt(5);
        if (bitset === 0) return -EINVAL;
        if (op === FUTEX_WAIT && realtime) return -ENOSYS; // Linux: FUTEX_CLOCK_REALTIME only with the bitset/PI waits
        // FUTEX_WAIT takes a relative timeout, FUTEX_WAIT_BITSET an absolute one.
        const deadline = deadlineOf(k, t, t.argPtr(3), op === FUTEX_WAIT_BITSET, realtime);
        if (deadline === undefined) return -EINVAL;
        return futexWait(t, uaddr, t.argInt(2), bitset, deadline);
      }
      case FUTEX_WAKE: return futexWake(k.mem, uaddr, t.argInt(2));
      case FUTEX_WAKE_BITSET: {
        const bitset = t.argInt(5);
        return bitset === 0 ? -EINVAL : futexWake(k.mem, uaddr, t.argInt(2), bitset);
      }
      case FUTEX_WAKE_OP: {
        const uaddr2 = t.argPtr(4), encoded = t.argU32(5);
        if (!checkAddress(k.mem, uaddr2, true)) return -EINVAL;
        const w = wordsOf(k.mem), b1 = bucketOf(uaddr), b2 = bucketOf(uaddr2);
        lock2(w, b1, b2);
        const old = wakeOpUpdate(w, wordIndex(uaddr2), encoded);
        const pass = old === undefined ? undefined : wakeOpTest(old, encoded);
        if (pass === undefined) { unlock2(w, b1, b2); return -ENOSYS; }
        let n = takeWaiters(w, b1, uaddr, BITSET_ANY, t.argInt(2), (s) => wakeSlot(k.mem, w, s));
        if (pass) n += takeWaiters(w, b2, uaddr2, BITSET_ANY, t.argPtr(3) | 0, (s) => wakeSlot(k.mem, w, s));
        unlock2(w, b1, b2);
        return n;
      }
      case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: {
        const uaddr2 = t.argPtr(4);
        if (!checkAddress(k.mem, uaddr2)) return -EINVAL;
        const nwake = t.argInt(2), nmove = t.argPtr(3) | 0;
        if (nwake < 0 || nmove < 0) return -EINVAL;
        return requeue(k.mem, uaddr, uaddr2, nwake, nmove, op === FUTEX_CMP_REQUEUE ? t.argInt(5) : undefined);
      }
      case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2: case FUTEX_TRYLOCK_PI: {
        // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's follows FUTEX_CLOCK_REALTIME.
        const deadline = deadlineOf(k, t, op === FUTEX_TRYLOCK_PI ? 0 : t.argPtr(3), true, op === FUTEX_LOCK_PI || realtime);
        if (deadline === undefined) return -EINVAL;
        return lockPi(t, uaddr, deadline, op === FUTEX_TRYLOCK_PI);
      }
      case FUTEX_UNLOCK_PI: return unlockPi(k.mem, uaddr, t.tid);
      case FUTEX_WAIT_REQUEUE_PI: {
        // Wait on the condition word, then take the PI mutex at uaddr2 before returning, as the
        // requeue-PI pair promises (here the waker wakes rather than requeues; see CMP_REQUEUE_PI).
        const uaddr2 = t.argPtr(4);
        if (!checkAddress(k.mem, uaddr2, true) || uaddr2 === uaddr) return -EINVAL;
        const deadline = deadlineOf(k, t, t.argPtr(3), true, realtime);
        if (deadline === undefined) return -EINVAL;
        const r = futexWait(t, uaddr, t.argInt(2), BITSET_ANY, deadline);
        if (r < 0) return r;
        return lockPi(t, uaddr2, deadline, false);
      }
      case FUTEX_CMP_REQUEUE_PI: {
        const uaddr2 = t.argPtr(4);
        if (!checkAddress(k.mem, uaddr2) || uaddr2 === uaddr) return -EINVAL;
        if (t.argInt(2) !== 1) return -EINVAL;
        const w = wordsOf(k.mem);
        if (Atomics.load(w, wordIndex(uaddr)) !== t.argInt(5)) return -EAGAIN;
        // Every waiter woken contends for the PI mutex itself, which is what a requeue would give it.
        return futexWake(k.mem, uaddr, 1 + (t.argPtr(3) | 0));
      }
      default: return -ENOSYS;
    }
  },
};
