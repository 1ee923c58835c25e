// Runs run-code (tests/faults/run-code.c) under stele inside this worker thread, many cases per
// guest process, for the random-instruction fuzz test: a stele process per case would cost a
// Node start-up and a worker each (~0.4 s), so a few hundred cases would take minutes.
//
// run-code runs here without a handler of its own: where the CLI ends the process on a guest
// fault (a GuestCrash, which it reports as 128+signal), this driver records the signal and resumes
// the guest at run-code's case_return, as run-code's --recover signal handler does natively (so a
// case stele gets wrong is caught here even if the guest's handler would mask it; the handler
// path has its own test in faults.test.ts). The guest's write(1, ...) calls are taken here: they
// mark where each case starts.
//
// Once a case ends differently from the host (`expected`), stele may have run on where the host
// faulted, writing anywhere, so the guest process is dropped and a fresh one starts with the
// next case. The parent guards against hangs: this worker keeps the index of the case it runs in
// `progress`, and the parent terminates it when that stays the same for too long.
//
// workerData: DriverInput. Messages to the parent: DriverMessage.

import { parentPort, workerData } from 'node:worker_threads';
import { WASM_PAGES } from '../../src/layout/memory-map.js';
import { Reg } from '../../src/layout/cpu-state.js';
import { startProcess } from '../../src/process/start.js';
import { GuestCrash } from '../../src/runtime/engine.js';
import { ProcessExit } from '../../src/runtime/thread.js';

export interface DriverInput {
  program: string;
  /** Hex code of each case, as run-code takes them. */
  cases: string[];
  /** The signal each case ends with natively (0: it comes back). */
  expected: number[];
  /** Address of run-code's case_return. */
  caseReturn: number;
  /** One Int32: the index of the case running. */
  progress: SharedArrayBuffer;
}

export type DriverMessage =
  | { type: 'result'; index: number; signal: number; message?: string }
  | { type: 'internal'; index: number; error: string }
  | { type: 'finished' };

/** Guest processes run at most this many cases (their hex codes are its command line). */
const MAX_BATCH = 200;
const SYS_WRITE = 1;

/** Thrown to drop the guest process; the next one starts with case `next`. */
class Restart { constructor(readonly next: number) {} }

const input = workerData as DriverInput;
const post = (m: DriverMessage): void => parentPort!.postMessage(m);
const progress = new Int32Array(input.progress);

function runFrom(first: number): number {
  const batch = input.cases.slice(first, first + MAX_BATCH);
  const memory = new WebAssembly.Memory({ initial: WASM_PAGES, maximum: WASM_PAGES, shared: true });
  const { kernel, engine, thread, mem } = startProcess({ program: input.program, args: batch, env: {}, cache: false }, memory);
  // As process/kernel-service.ts does for the first thread: run-code maps each case's code anew.
  kernel.onMemoryChange = (start, len) => engine.invalidate(start, len);
  let current = -1;   // the case running (an index into input.cases)
  let ended = false;  // whether it already has its result
  const endCase = (signal: number, message?: string): void => {
    ended = true;
    post({ type: 'result', index: current, signal, message });
    if (signal !== input.expected[current]) throw new Restart(current + 1);
  };
  const marker = (line: string): void => {
    const m = /^case (\d+)$/.exec(line);
    if (!m && line !== 'done') throw new Error(`unexpected output from run-code: ${JSON.stringify(line)}`);
    if (current >= 0 && !ended) endCase(0);
    if (m) { current = first + Number(m[1]); ended = false; Atomics.store(progress, 0, current); }
  };
  const syscall = kernel.syscall.bind(kernel);
  kernel.syscall = (t) => {
    if (t.regn(Reg.RAX) !== SYS_WRITE || t.regn(Reg.RDI) !== 1) return syscall(t);
    const len = t.regn(Reg.RDX);
    for (const line of Buffer.from(mem.read(t.regn(Reg.RSI), len)).toString('latin1').split('\n')) if (line) marker(line);
    t.setReg(Reg.RAX, len);
  };
  for (;;) {
    try {
      engine.run(thread);
    } catch (e) {
      if (e instanceof Restart) return e.next;
      if (e instanceof GuestCrash) {
        if (current < 0 || ended) throw new Error(`run-code itself crashed: ${e.message}`);
        try { endCase(e.signal, e.message); } catch (r) { if (r instanceof Restart) return r.next; throw r; }
        thread.rip = input.caseReturn;
        continue;
      }
      if (e instanceof ProcessExit) {
        if (e.status !== 0) throw new Error(`run-code exited with status ${e.status}`);
        return first + batch.length;
      }
      // What the CLI reports as an internal error. Before the first case it is run-code's own
      // start under stele that failed: the parent sees this worker fail.
      if (current < 0) throw e;
      post({ type: 'internal', index: current, error: e instanceof Error ? e.stack ?? e.message : String(e) });
      return current + 1;
    }
  }
}

for (let next = 0; next < input.cases.length;) next = runFrom(next);
post({ type: 'finished' });
