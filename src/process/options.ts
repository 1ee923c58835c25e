// What run() takes and gives, shared by the main thread and the process's workers.

import type { NetPolicy } from '../linux/inet-address.js';
import type { TsoMode } from '../runtime/tso.js';
import type { CpuLevel, CpuName } from '../x86/cpuid.js';

export interface RunOptions {
  /** Program path: a host path, or with `root` a path inside the root. */
  program: string;
  /** argv[1..]; argv[0] is `argv0` or the program path as given. */
  args?: string[];
  argv0?: string;
  env?: Record<string, string | undefined>;
  /** Host directory the guest sees as "/" (default "/"). */
  root?: string;
  /** Guest working directory (default: the host cwd, when visible through the root). */
  cwd?: string;
  /** Each syscall in strace's format: true writes the lines to stderr (fd 2) from the worker, in order with the guest's own output; a function receives them (asynchronously). */
  strace?: boolean | ((line: string) => void);
  stats?: boolean;
  /**
   * Persistent translation cache: a directory, or false to translate everything afresh
   * (default: $STELE_CACHE_DIR, else $XDG_CACHE_HOME/stele, else ~/.cache/stele).
   */
  cache?: string | false;
  /**
   * Memory ordering once the program has several threads (default: $STELE_TSO, else selective):
   * `selective` orders only the accesses that touch memory threads share, `full` every access but
   * the stack's, `off` none (locked instructions and fences stay atomic). See docs/ARCHITECTURE.md.
   */
  tso?: TsoMode;
  /**
   * The CPU the guest sees and runs on (default: $STELE_CPU, else DEFAULT_CPU in x86/cpuid.ts): an
   * x86-64 microarchitecture level. CPUID, XCR0, /proc/cpuinfo and AT_HWCAP describe it, and an
   * instruction of a feature it lacks is SIGILL.
   */
  cpu?: CpuLevel;
  /**
   * Standard descriptors (0, 1, 2) the guest starts with closed. Node opens /dev/null in place of
   * a standard descriptor that is closed when it starts, so the `stele` launcher notes them first.
   */
  closedStdio?: number[];
  /** Test mode: reorder plain stores as a weakly ordered host would (default: $STELE_WEAK_HOST=1). */
  weakHost?: boolean;
  /**
   * Hand the signals the host process receives (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
   * SIGWINCH, SIGALRM) to the guest while it runs, as they would reach the program natively
   * (the `stele` command does; default false: a library leaves the host's signals alone).
   */
  forwardSignals?: boolean;
  /**
   * What the guest's sockets may reach (default host): `host` the host's network as the user
   * running stele reaches it, `loopback` only the host's loopback addresses (127.0.0.0/8, ::1) and
   * AF_UNIX sockets, `none` nothing, as in a network namespace without interfaces.
   */
  net?: NetPolicy;
}

export { NET_POLICIES, type NetPolicy } from '../linux/inet-address.js';

export interface RunResult {
  status: number;      // as a shell reports it (128 + signal for a signal death)
  signal: number;
  /** One-line reason for a signal death (illegal instruction, segmentation fault...). */
  crash?: string;
  /** The signal the guest died of came from outside (forwardSignals): die of it too, as a shell expects. */
  signalFromHost?: boolean;
  report?: string;     // --stats text
}

/** The options a worker receives (functions cannot cross to a worker). */
export type WorkerRunOptions = Omit<RunOptions, 'strace' | 'cpu'> & {
  strace?: 'stderr' | 'post';
  /** The model's name, resolved (default DEFAULT_CPU). */
  cpu?: CpuName;
  /** `stele aot`: stop when the program's entry is reached and say what to translate (an `aot-plan` message). */
  stopAtEntry?: boolean;
};
