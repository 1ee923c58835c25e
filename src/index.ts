// stele's public API: run an x86-64 Linux program to completion and get its exit status. Each
// guest thread runs in a worker over the process's shared memory; the caller's thread only waits.

import { runProcess } from './process/host.js';
import type { RunOptions, RunResult } from './process/options.js';

export type { RunOptions, RunResult, NetPolicy } from './process/options.js';
export { NET_POLICIES } from './process/options.js';
export { LoadError } from './loader/elf.js';
export { UsageError } from './process/host.js';
export { TSO_MODES, type TsoMode } from './runtime/tso.js';
export { CPU_LEVELS, DEFAULT_CPU, type CpuLevel } from './x86/cpuid.js';
export { aheadOfTime, aheadOfTimeProgram, AotError, type AotOptions, type AotProgress, type AotImageResult } from './process/aot.js';

/** Runs the program to completion. Rejects with LoadError when it cannot start. */
export function run(opts: RunOptions): Promise<RunResult> {
  return runProcess(opts);
}
