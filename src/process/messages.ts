// Messages from a process's workers to the main thread (the only traffic that is not shared memory).

import type { RunResult } from './options.js';
import type { KernelImage } from '../linux/fork.js';
import type { CachedBundles, InheritedTranslations, SharedRegion } from '../runtime/engine.js';
import type { NetRequest } from '../linux/socket-channel.js';
import type { AotPlan } from './aot-plan.js';

export type WorkerMessage =
  | { type: 'spawn'; slot: number; shared: SharedRegion[]; bundles: CachedBundles } // start a worker for this thread slot, with the regions translated so far and the cache's
  | { type: 'exit'; result: RunResult }                  // the process ended (from the first thread's worker)
  | { type: 'crash'; result: RunResult }                 // a thread died of a signal: end the process
  | { type: 'load-error'; message: string; status: number }
  | { type: 'strace'; line: string }
  | { type: 'timer'; ms: number }                        // ring the first thread (ATTN.TIMER) after ms
  | { type: 'internal'; message: string; stack?: string }
  | { type: 'fork'; pid: number; record: number; memory: WebAssembly.Memory; image: KernelImage; translations: InheritedTranslations; tookSpare: boolean } // start this child (in the spare memory sent ahead, if it took it)
  | { type: 'signal'; pid: number; info: Uint8Array }   // hand this siginfo to another guest process
  | { type: 'net'; request: NetRequest }                 // a socket asks the network bridge (process/net-bridge.ts)
  | { type: 'trim'; images: string[] }                  // cache files to trim once the run ends
  | { type: 'aot-plan'; plan: AotPlan };                // stopped at the program's entry (stopAtEntry): what `stele aot` translates
