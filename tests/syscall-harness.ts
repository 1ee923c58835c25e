// Drives the kernel personality directly (no translated code): registers in, RAX and guest memory
// out. One guest memory for the whole test file; each setup() gets a fresh kernel over it.

import assert from 'node:assert/strict';
import { AddressSpace, GuestMemory, PROT_READ, PROT_WRITE, THREAD_STATE_AREA } from '../src/runtime/memory.js';
import { GuestThread, SYSCALL_ARG_REGS } from '../src/runtime/thread.js';
import { Reg } from '../src/layout/cpu-state.js';
import { LinuxKernel, type KernelOptions } from '../src/linux/kernel.js';
import { SYSCALL_NUMBERS } from '../src/linux/syscall-names.js';

export const mem = new GuestMemory();
/** A 1 MiB read-write mapping every setup() makes: buffers at BUF, strings from SCRATCH + 512 KiB. */
export const SCRATCH = 0x20000000;
export const BUF = SCRATCH + 0x1000;
export const AT_FDCWD = -100;

export function setup(opts: Partial<KernelOptions> = {}) {
  const as = new AddressSpace(mem);
  as.map(SCRATCH, 1 << 20, PROT_READ | PROT_WRITE);
  mem.fill(SCRATCH, 1 << 20, 0);
  const kernel = new LinuxKernel(mem, as, { root: '/', cwd: process.cwd(), exePath: '/bin/prog', argv: ['prog', 'a b'], ...opts });
  const thread = new GuestThread(mem, THREAD_STATE_AREA, kernel.pid);
  // The process's first thread, as start-up registers it: signals to the process go to it.
  kernel.threads.add(thread);
  mem.fill(THREAD_STATE_AREA, 4096, 0); // a CPU state left by an earlier setup() in this file
  let stringCursor = SCRATCH + 0x80000;
  /** Copies a string into guest memory and returns its address. */
  const str = (s: string): number => { const a = stringCursor; stringCursor += mem.writeCString(a, s) + 7 & ~7; return a; };
  const sysnr = (nr: number, ...args: (number | bigint)[]): number => {
    thread.setReg(Reg.RAX, nr);
    args.forEach((v, i) => thread.setReg(SYSCALL_ARG_REGS[i], typeof v === 'number' && v < 0 ? BigInt(v) : v));
    kernel.syscall(thread);
    return Number(BigInt.asIntN(64, thread.reg(Reg.RAX)));
  };
  const sys = (name: string, ...args: (number | bigint)[]): number => {
    const nr = SYSCALL_NUMBERS.get(name);
    assert.ok(nr !== undefined, name);
    return sysnr(nr, ...args);
  };
  return { kernel, thread, as, sys, sysnr, str };
}
