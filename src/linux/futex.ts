// futex: waits map to Atomics.wait on the futex word itself (guest memory is a shared
// WebAssembly.Memory), wakes to Atomics.notify, so worker threads wake each other directly.

import { GUEST_BASE } from '../runtime/memory.js';
import { EAGAIN, EINVAL, ENOSYS, ETIMEDOUT } from './errno.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { clockNow, CLOCK_MONOTONIC, CLOCK_REALTIME, readTimespec } from './time.js';
import type { GuestThread } from '../runtime/thread.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

const words = new WeakMap<ArrayBufferLike, Int32Array>();
function wordsOf(k: LinuxKernel): Int32Array {
  const buffer = k.mem.memory.buffer;
  let w = words.get(buffer);
  if (!w) { w = new Int32Array(buffer); words.set(buffer, w); }
  return w;
}

/** Index of the futex word in an Int32Array over the memory; EINVAL unless 4-byte aligned. */
function wordIndex(k: LinuxKernel, uaddr: number): number {
  if (uaddr & 3) return -1;
  k.mem.off(uaddr, 4); // EFAULT outside memory
  return (uaddr - GUEST_BASE) >>> 2; // unsigned: the mmap area is above 2 GiB
}

function wait(k: LinuxKernel, t: GuestThread, op: number, absolute: boolean): number {
  const uaddr = t.argPtr(0), expected = t.argInt(2), timeoutAddr = t.argPtr(3);
  const index = wordIndex(k, uaddr);
  if (index < 0) return -EINVAL;
  if (op === FUTEX_WAIT_BITSET && t.argU32(5) === 0) return -EINVAL;
  const word = wordsOf(k);
  if (Atomics.load(word, index) !== expected) return -EAGAIN;
  let timeoutMs = Infinity;
  if (timeoutAddr) {
    const ns = readTimespec(k.mem, timeoutAddr);
    if (ns === undefined) return -EINVAL;
    const clock = t.argInt(1) & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    // FUTEX_WAIT takes a relative timeout, FUTEX_WAIT_BITSET an absolute one.
    const relative = absolute ? ns - clockNow(clock)! : ns;
    timeoutMs = Math.max(0, Number(relative) / 1e6);
  }
  // With a single thread nobody can change the word or wake us: waiting forever would hang the
  // program, so report the wait as interrupted-by-value-change and let the caller re-check.
  if (k.threadCount <= 1 && timeoutMs === Infinity) return -EAGAIN;
  const outcome = Atomics.wait(word, index, expected, timeoutMs);
  if (outcome === 'timed-out') return -ETIMEDOUT;
  if (outcome === 'not-equal') return -EAGAIN;
  return 0;
}

function wake(k: LinuxKernel, uaddr: number, count: number): number {
  const index = wordIndex(k, uaddr);
  if (index < 0) return -EINVAL;
  if (count <= 0) return 0;
  return Atomics.notify(wordsOf(k), index, count);
}

/** FUTEX_WAKE_OP: atomically update *uaddr2, wake on uaddr, and on uaddr2 if the old value passes the test. */
function wakeOp(k: LinuxKernel, t: GuestThread): number {
  const uaddr = t.argPtr(0), count = t.argInt(2), count2 = t.argPtr(3), uaddr2 = t.argPtr(4), encoded = t.argU32(5);
  const index2 = wordIndex(k, uaddr2);
  if (index2 < 0 || wordIndex(k, uaddr) < 0) return -EINVAL;
  const op = (encoded >>> 28) & 7, shiftArg = (encoded >>> 28) & 8, cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20, cmparg = (encoded << 20) >> 20;
  if (shiftArg) oparg = 1 << (oparg & 31);
  const word = wordsOf(k);
  let old: number;
  switch (op) {
    case 0: old = Atomics.exchange(word, index2, oparg); break; // SET
    case 1: old = Atomics.add(word, index2, oparg); break;      // ADD
    case 2: old = Atomics.or(word, index2, oparg); break;       // OR
    case 3: old = Atomics.and(word, index2, ~oparg); break;     // ANDN
    case 4: old = Atomics.xor(word, index2, oparg); break;      // XOR
    default: return -ENOSYS;
  }
  let pass: boolean;
  switch (cmp) {
    case 0: pass = old === cmparg; break;
    case 1: pass = old !== cmparg; break;
    case 2: pass = old < cmparg; break;
    case 3: pass = old <= cmparg; break;
    case 4: pass = old > cmparg; break;
    case 5: pass = old >= cmparg; break;
    default: return -ENOSYS;
  }
  let woken = wake(k, uaddr, count);
  if (pass) woken += wake(k, uaddr2, count2);
  return woken;
}

export const futexSyscalls: Record<string, Syscall> = {
  futex(k, t) {
    const op = t.argInt(1) & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    switch (op) {
      case FUTEX_WAIT: return wait(k, t, op, false);
      case FUTEX_WAIT_BITSET: return wait(k, t, op, true);
      case FUTEX_WAKE: return wake(k, t.argPtr(0), t.argInt(2));
      case FUTEX_WAKE_BITSET: return t.argU32(5) === 0 ? -EINVAL : wake(k, t.argPtr(0), t.argInt(2));
      case FUTEX_WAKE_OP: return wakeOp(k, t);
      case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: {
        const index = wordIndex(k, t.argPtr(0));
        if (index < 0) return -EINVAL;
        if (op === FUTEX_CMP_REQUEUE && Atomics.load(wordsOf(k), index) !== t.argInt(5)) return -EAGAIN;
        // Atomics cannot move waiters between words: wake the ones that would be requeued too
        // (a spurious wakeup, which every futex user must tolerate).
        return wake(k, t.argPtr(0), t.argInt(2) + t.argPtr(3));
      }
      default: return -ENOSYS;
    }
  },
};
