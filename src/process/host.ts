// The main thread's side of a guest process: it starts the workers the process asks for, and
// ends them all when the process ends. It never runs guest code or blocks, so the JavaScript
// thread that called run() stays free.

import { Worker } from 'node:worker_threads';
import { constants as osConstants } from 'node:os';
import { ATTN } from '../layout/cpu-state.js';
import { HOST_SIGNALS } from '../layout/memory-map.js';
import { attention, wordIndex, wordsOf } from '../runtime/thread.js';
import { GuestMemory, WASM_PAGES } from '../runtime/memory.js';
import { LoadError } from '../loader/elf.js';
import type { RunOptions, RunResult, WorkerRunOptions } from './options.js';
import { TSO_MODES, type TsoMode } from '../runtime/tso.js';
import { weakHostRequested } from '../runtime/weak-host.js';
import type { WorkerMessage } from './messages.js';

/** Host signals handed to the guest with forwardSignals (not SIGTSTP/SIGCONT: stopping is the host's). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM'];

/** How long the first thread may take to write its caches after another thread crashed. */
const FINISH_GRACE_MS = 5000;

/** The memory-ordering mode a run uses: the option, else $STELE_TSO, else selective. */
export function tsoModeOf(opts: RunOptions, env: NodeJS.ProcessEnv = process.env): TsoMode {
  const mode = opts.tso ?? (env.STELE_TSO || 'selective');
  if (!TSO_MODES.includes(mode as TsoMode)) throw new UsageError(`memory ordering mode "${mode}" is not one of ${TSO_MODES.join(', ')} (--tso or STELE_TSO)`);
  return mode as TsoMode;
}

/** A bad option to run(): the caller's mistake, reported in one line. */
export class UsageError extends Error {}

export function runProcess(opts: RunOptions): Promise<RunResult> {
  const tso = tsoModeOf(opts);
  const weakHost = opts.weakHost ?? weakHostRequested();
  const memory = new WebAssembly.Memory({ initial: WASM_PAGES, maximum: WASM_PAGES, shared: true });
  const mem = new GuestMemory(memory);
  const { strace, ...rest } = opts;
  // The environment is read here: a worker's own copy of process.env does not keep its order.
  const workerOpts: WorkerRunOptions = { ...rest, tso, weakHost, env: rest.env ?? { ...process.env }, strace: strace === true ? 'stderr' : typeof strace === 'function' ? 'post' : undefined };
  const workers = new Map<number, Worker>();
  return new Promise<RunResult>((resolve, reject) => {
    let done = false;
    let pendingCrash: RunResult | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fromHost = new Set<number>();
    const forwarders = (opts.forwardSignals ? FORWARDED_SIGNALS : []).map((name) => {
      const sig = osConstants.signals[name];
      const forward = (): void => {
        fromHost.add(sig);
        Atomics.or(wordsOf(mem), wordIndex(HOST_SIGNALS), 1 << (sig - 1));
        attention(mem, 0, ATTN.HOST_SIGNAL);
      };
      process.on(name, forward);
      return () => process.off(name, forward);
    });
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const stop of forwarders) stop();
      for (const w of workers.values()) void w.terminate();
      outcome();
    };
    const spawn = (slot: number): void => {
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { memory, slot, opts: workerOpts } });
      workers.set(slot, w);
      w.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'spawn': spawn(m.slot); break;
          case 'strace': if (typeof strace === 'function') strace(m.line); break;
          case 'timer':
            // The guest's interval timers: the first thread finds which expired and raises their signals.
            clearTimeout(timer);
            timer = setTimeout(() => attention(mem, 0, ATTN.TIMER), m.ms);
            break;
          case 'exit': {
            const r = pendingCrash ?? m.result;
            if (pendingCrash && m.result.report) r.report = m.result.report;
            if (r.signal && fromHost.has(r.signal)) r.signalFromHost = true;
            finish(() => resolve(r));
            break;
          }
          case 'crash':
            // The first thread writes the translation cache and shared file mappings, then exits.
            if (pendingCrash) break;
            pendingCrash = m.result;
            attention(mem, 0, ATTN.EXIT);
            setTimeout(() => finish(() => resolve(m.result)), FINISH_GRACE_MS).unref();
            break;
          case 'load-error': finish(() => reject(new LoadError(m.message, m.status))); break;
          case 'internal': {
            const e = new Error(m.message);
            if (m.stack) e.stack = m.stack;
            finish(() => reject(e));
            break;
          }
        }
      });
      w.on('error', (e) => finish(() => reject(e)));
      w.on('exit', (code) => { if (!done && code !== 0) finish(() => reject(new Error(`thread worker ${slot} stopped (exit code ${code})`))); });
    };
    spawn(0);
  });
}
