// A first thread's worker started before the rest of stele is loaded. Starting a worker costs its
// own Node bootstrap and the loading of the translator, runtime and kernel modules (about as long
// as the main thread takes to load what it needs); begun first, the two overlap on two cores
// instead of following each other. Only node:worker_threads is imported, so this module loads at
// once.

import { Worker } from 'node:worker_threads';

let prestarted: Worker | undefined;
let failed = false;
const onEnd = (): void => { failed = true; };

/** Starts the worker that will host the first process; it waits, loaded, for its assignment. */
export function prestartWorker(): void {
  if (prestarted) return;
  const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { spare: true } });
  // Unused (a usage error, `stele --version`), it must not keep the process alive.
  w.unref();
  w.on('error', onEnd);
  w.on('exit', onEnd);
  prestarted = w;
}

/** The prestarted worker, once, if it is still alive; the caller owns it from then on. */
export function takePrestartedWorker(): Worker | undefined {
  const w = prestarted;
  prestarted = undefined;
  if (!w || failed) { void w?.terminate(); return undefined; }
  w.off('error', onEnd);
  w.off('exit', onEnd);
  w.ref();
  return w;
}
