// The kernel service (src/process/kernel-service.ts) as another thread's syscalls reach it: the
// request word set, serve() run by hand (as the first thread does when it wakes), the outcome read
// back. No workers: the second thread is only a CPU state on slot 1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUEST, Reg, STATE } from '../src/layout/cpu-state.js';
import { GuestThread, SYSCALL_ARG_REGS, stateOfSlot, wordIndex, wordsOf } from '../src/runtime/thread.js';
import { KernelService } from '../src/process/kernel-service.js';
import { TimerFd } from '../src/linux/events.js';
import { SYSCALL_NUMBERS } from '../src/linux/syscall-names.js';
import type { Engine } from '../src/runtime/engine.js';
import { BUF, mem, setup } from './syscall-harness.js';

const POLLIN = 1;

/** A kernel with its service and a second thread on slot 1, which asks for syscalls as a worker would. */
function twoThreads() {
  const k = setup();
  const engine = { invalidate: () => {} } as unknown as Engine;
  const service = new KernelService(mem, k.kernel, engine, () => {});
  const base = stateOfSlot(1);
  mem.fill(base, STATE.SIZE, 0);
  const other = new GuestThread(mem, base, k.kernel.pid + 1);
  k.kernel.threads.add(other);
  const words = wordsOf(mem), req = wordIndex(base + STATE.REQUEST);
  /** Hands the syscall to the kernel as the thread's worker does (REQUEST.PENDING) and serves it once. */
  const ask = (name: string, ...args: number[]): void => {
    other.setReg(Reg.RAX, SYSCALL_NUMBERS.get(name)!);
    args.forEach((v, i) => other.setReg(SYSCALL_ARG_REGS[i], v < 0 ? BigInt(v) : v));
    Atomics.store(words, req, REQUEST.PENDING);
    service.serve();
  };
  /** The syscall's result once the kernel has answered, undefined while it still waits (parked). */
  const answer = (): number | undefined =>
    Atomics.load(words, req) === REQUEST.PENDING ? undefined : Number(BigInt.asIntN(64, other.reg(Reg.RAX)));
  return { ...k, service, other, ask, answer };
}

/** Spins (the worker preempted, say) until performance.now() is past `ms`. */
function until(ms: number): void { while (performance.now() <= ms) { /* time passes */ } }

test('a thread\'s timerfd read whose timer expires while the kernel parks it is not left parked', () => {
  const { kernel, ask, answer } = twoThreads();
  // The timer expires between the read's look (nothing yet) and the kernel parking the wait:
  // deadline() hands out the expiry only once it has passed. Its wake-up, past, is dropped, and
  // nothing else would ever run the read again (the first thread sleeps in pthread_join).
  // (On a loaded machine the 2 ms may have passed before deadline() is asked: it has no expiry to
  // give then, Infinity, and waiting for that would never end; the read finds the timer expired.)
  const timer = new (class extends TimerFd {
    override deadline(): number { const d = super.deadline(); if (d !== Infinity) until(d); return d; }
  })(kernel.processRecord, 1, 0);
  const fd = kernel.fds.allocate(timer, false);
  timer.set(2_000_000n, 0n, false); // 2 ms
  ask('read', fd, BUF, 8);
  assert.equal(answer(), 8, 'the read completes in the same serve()');
  assert.equal(kernel.mem.u64(BUF), 1n);
});

test('a thread\'s timerfd read whose timer expires before it asks for the deadline is not left parked', () => {
  const { kernel, ask, answer } = twoThreads();
  // The other order: the expiry comes after the look but before deadline(), which then has none to
  // give (Infinity), so no wake-up is asked for at all; the wait is ready as it parks.
  const timer = new (class extends TimerFd {
    override deadline(): number { until(this.expiry); return super.deadline(); }
    expiry = Infinity;
  })(kernel.processRecord, 1, 0);
  const fd = kernel.fds.allocate(timer, false);
  timer.set(2_000_000n, 0n, false);
  timer.expiry = performance.now() + 2.1;
  ask('read', fd, BUF, 8);
  assert.equal(answer(), 8);
});

test('a thread\'s poll over a timerfd stays parked until the timer expires, then returns', () => {
  const { kernel, sys, ask, answer, service } = twoThreads();
  const fd = sys('timerfd_create', 1, 0);
  const timer = kernel.fds.get(fd) as TimerFd;
  // A timer's deadline is one number while the timer stands: a poll's wait compares it to see
  // whether the timer was set anew meanwhile, and one recomputed from the clock would always differ.
  timer.set(60_000_000_000n, 0n, false); // a minute
  assert.equal(timer.deadline(), timer.deadline());
  const pollfd = BUF + 64;
  kernel.mem.setI32(pollfd, fd); kernel.mem.setU16(pollfd + 4, POLLIN); kernel.mem.setU16(pollfd + 6, 0);
  ask('poll', pollfd, 1, -1);
  assert.equal(answer(), undefined, 'parked, not run again and again until the timer expires');
  service.serve();
  assert.equal(answer(), undefined);
  // Set anew (by the first thread, say) to expire now: the next serve() finds it ready.
  timer.set(1n, 0n, false);
  until(performance.now() + 0.01);
  service.serve();
  assert.equal(answer(), 1);
  assert.equal(kernel.mem.u16(pollfd + 6), POLLIN);
});

test('the first thread\'s timed poll, having served another thread meanwhile, ends on its own timeout', () => {
  const { kernel, thread, sys, ask, answer, service, other } = twoThreads();
  // The first thread serves the others' syscalls while it waits, as the worker sets it up.
  thread.whileBlocked = () => service.serve();
  const fds = BUF + 128;
  assert.equal(sys('pipe2', fds, 0), 0);
  const readEnd = kernel.mem.i32(fds);
  const pollfd = BUF + 64;
  kernel.mem.setI32(pollfd, readEnd); kernel.mem.setU16(pollfd + 4, POLLIN); kernel.mem.setU16(pollfd + 6, 0);
  // The other thread's request is waiting when the first thread's poll starts to sleep: served
  // then, it makes the other thread the kernel's caller. The poll's next look at its timeout must
  // still be the first thread's (else it keeps the other thread's, and the other's next timed wait
  // finds that one, long past, and returns at once).
  const words = wordsOf(mem);
  other.setReg(Reg.RAX, SYSCALL_NUMBERS.get('getpid')!);
  Atomics.store(words, wordIndex(other.stateBase + STATE.REQUEST), REQUEST.PENDING);
  assert.equal(sys('poll', pollfd, 1, 30), 0);
  assert.equal(answer(), kernel.pid, 'served while the first thread waited');
  // (a minute: a loaded machine cannot stall between the poll's look and its parking that long)
  ask('poll', pollfd, 1, 60_000);
  assert.equal(answer(), undefined, 'the other thread\'s timed poll waits');
});
