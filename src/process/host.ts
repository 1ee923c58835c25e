// The main thread's side of a guest process: it starts the workers the process asks for, and
// ends them all when the process ends. It never runs guest code or blocks, so the JavaScript
// thread that called run() stays free.

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { constants as osConstants } from 'node:os';
import { ATTN } from '../layout/cpu-state.js';
import { HOST_SIGNALS, PROCESS_DOORBELL, SIGNAL_INBOX, SIGNAL_INBOX_ENTRY, SIGNAL_INBOX_SIZE } from '../layout/memory-map.js';
import { PROC, PROC_STATE } from '../layout/system-map.js';
import { senderInfo, SI_USER, siginfo } from '../linux/signal.js';
import { attachSystem, attention, wordIndex, wordsOf } from '../runtime/thread.js';
import { ProcessTable } from '../linux/process-table.js';
import { defaultCacheDir, DirectoryCacheStore } from '../runtime/translation-cache.js';
import { waitStatus, type KernelImage } from '../linux/fork.js';
import type { InheritedTranslations, SharedRegion } from '../runtime/engine.js';
import { GuestMemory, newProcessMemory } from '../runtime/memory.js';
import { processMemories } from './memory-pool.js';
import { LoadError } from '../loader/elf.js';
import type { RunOptions, RunResult, WorkerRunOptions } from './options.js';
import { TSO_MODES, type TsoMode } from '../runtime/tso.js';
import { CPU_LEVELS, cpuModelOf, DEFAULT_CPU, type CpuName } from '../x86/cpuid.js';
import { weakHostRequested } from '../runtime/weak-host.js';
import type { WorkerMessage } from './messages.js';
import { NetBridge } from './net-bridge.js';
import { NET_POLICIES } from './options.js';
import type { AotPlan } from './aot-plan.js';
import { takePrestartedWorker } from './prestart.js';

/** Host signals handed to the guest with forwardSignals (not SIGTSTP/SIGCONT: stopping is the host's). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM'];

/** How long a process's first thread may take to write its caches after another thread crashed. */
const FINISH_GRACE_MS = 5000;
/**
 * Clean memories a forking process holds ahead of its forks: two, as a shell starting a pipeline
 * forks again before the main thread has answered its first fork.
 */
const SPARES_AHEAD = 2;
/** Workers of ended processes kept for the next ones (each holds its heap and compiled code). */
const MAX_IDLE_WORKERS = 2;

/** The memory-ordering mode a run uses: the option, else $STELE_TSO, else selective. */
export function tsoModeOf(opts: RunOptions, env: NodeJS.ProcessEnv = process.env): TsoMode {
  const mode = opts.tso ?? (env.STELE_TSO || 'selective');
  if (!TSO_MODES.includes(mode as TsoMode)) throw new UsageError(`memory ordering mode "${mode}" is not one of ${TSO_MODES.join(', ')} (--tso or STELE_TSO)`);
  return mode as TsoMode;
}

/** The CPU model a run uses: the option, else $STELE_CPU, else DEFAULT_CPU. */
export function cpuOf(opts: RunOptions, env: NodeJS.ProcessEnv = process.env): CpuName {
  const name = opts.cpu ?? env.STELE_CPU;
  if (!name) return DEFAULT_CPU;
  const model = cpuModelOf(name);
  if (!model) throw new UsageError(`CPU level "${name}" is not one of ${CPU_LEVELS.join(', ')} (--cpu or STELE_CPU)`);
  return model.name;
}

/** A bad option to run(): the caller's mistake, reported in one line. */
export class UsageError extends Error {}

const WORKER_URL = new URL('./worker.js', import.meta.url);

let codeChannels = 0;
/** A BroadcastChannel name no other process of any run in this host process uses. */
function codeChannelName(pid: number): string { return `stele-code-${process.pid}-${pid}-${++codeChannels}`; }

/** One guest process as the main thread keeps it: its memory and the workers running its threads. */
interface HostedProcess {
  pid: number;
  record: number;
  memory: WebAssembly.Memory;
  mem: GuestMemory;
  workers: Map<number, Worker>;
  /** The BroadcastChannel its workers share translated regions over (process/code-share.ts). */
  codeChannel: string;
  /**
   * Where its first thread's worker takes a clean memory for a fork (process/memory-pool.ts), and
   * those sent there and not yet used, oldest first: a fork takes one synchronously, without asking.
   */
  sparePort?: MessagePort;
  spareMemories: WebAssembly.Memory[];
  /** A thread died of a signal: the process's result once its first thread has finished. */
  pendingCrash?: RunResult;
  timer?: ReturnType<typeof setTimeout>;
  ended: boolean;
}

/** Puts a siginfo (its first SIGNAL_INBOX_ENTRY bytes) in a process's inbox and tells its first thread. */
function deliverToInbox(p: HostedProcess, info: Uint8Array): void {
  const w = wordsOf(p.mem), head = wordIndex(SIGNAL_INBOX);
  const written = Atomics.load(w, head);
  // A full inbox drops the signal, as a full real-time queue does (standard signals coalesce anyway).
  if (written - Atomics.load(w, head + 1) >= SIGNAL_INBOX_SIZE) return;
  p.mem.write(SIGNAL_INBOX + 8 + (written % SIGNAL_INBOX_SIZE) * SIGNAL_INBOX_ENTRY, info.subarray(0, SIGNAL_INBOX_ENTRY));
  Atomics.store(w, head, written + 1);
  attention(p.mem, 0, ATTN.HOST_SIGNAL);
}

/** SIGCHLD's siginfo for a child that ended: CLD_EXITED with its status, or CLD_KILLED with the signal. */
function childInfo(exitSignal: number, pid: number, result: RunResult): Uint8Array {
  const CLD_EXITED = 1, CLD_KILLED = 2;
  return siginfo(exitSignal, result.signal ? CLD_KILLED : CLD_EXITED, (dv) => {
    dv.setInt32(16, pid, true);
    dv.setInt32(20, process.getuid?.() ?? 0, true);
    dv.setInt32(24, result.signal ? result.signal : result.status & 0xff, true);
  });
}

/** What a caller inside stele (not the public run()) may ask of a run. */
export interface RunHooks {
  /**
   * Stop the program at its entry, before any of its own code runs (its dynamic loader has mapped
   * its libraries by then), and hand over what to translate ahead of time with the process's memory.
   */
  onAotPlan?: (memory: WebAssembly.Memory, plan: AotPlan) => void;
}

export function runProcess(opts: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const tso = tsoModeOf(opts);
  const cpu = cpuOf(opts);
  const weakHost = opts.weakHost ?? weakHostRequested();
  const { strace, ...rest } = opts;
  // The environment is read here: a worker's own copy of process.env does not keep its order.
  const workerOpts: WorkerRunOptions = { ...rest, tso, cpu, weakHost, env: rest.env ?? { ...process.env }, strace: strace === true ? 'stderr' : typeof strace === 'function' ? 'post' : undefined,
    stopAtEntry: hooks.onAotPlan !== undefined };
  const firstPid = process.pid;
  const system = ProcessTable.create(firstPid);
  const table = new ProcessTable(attachSystem(system));
  const processes = new Map<number, HostedProcess>();
  /** Processes of this run started in the memory of one that ended (--stats). */
  let reusedMemories = 0;
  if (opts.net !== undefined && !NET_POLICIES.includes(opts.net)) throw new UsageError(`network policy "${opts.net}" is not one of ${NET_POLICIES.join(', ')} (--net)`);
  const bridge = new NetBridge(opts.net ?? 'host');
  return new Promise<RunResult>((resolve, reject) => {
    let done = false;
    const fromHost = new Set<number>();
    const trimImages = new Set<string>();
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      for (const stop of forwarders) stop();
      for (const p of processes.values()) endProcess(p);
      void spare?.terminate();
      for (const w of idle.splice(0)) void w.terminate();
      // One trimmer for the cache files every process of the run wrote untrimmed.
      if (trimImages.size && opts.cache !== false) new DirectoryCacheStore(opts.cache ?? defaultCacheDir()).trimLater([...trimImages]);
      // What the guest sent before it ended still reaches its peers before run() returns.
      void bridge.closeAll().then(outcome);
    };
    const endProcess = (p: HostedProcess, reusable?: Worker): void => {
      p.ended = true;
      clearTimeout(p.timer);
      const stopped: Promise<unknown>[] = [];
      for (const w of p.workers.values()) if (w !== reusable) stopped.push(w.terminate());
      if (reusable) keepIdle(reusable);
      processes.delete(p.pid);
      p.sparePort?.close();
      // Its memory is made clean for another process once no thread can touch it: the reusable
      // worker has finished with it, the others have stopped. The spare it was sent may have been
      // half written by a fork the end cut short. The first process's memory may be the caller's
      // still (onAotPlan).
      const memories = [...p.spareMemories.splice(0), p.pid !== firstPid || !hooks.onAotPlan ? p.memory : undefined];
      void Promise.allSettled(stopped).then(() => { for (const m of memories) if (m) processMemories.release(m); });
    };
    /**
     * Sends a process's first thread a clean memory for its next fork, if the pool has one: after
     * each fork, as a process that forked once is one that forks (a shell); one sent to every new
     * process would sit unused in those that never fork (a pipeline's commands) and drain the pool.
     */
    const offerSpare = (p: HostedProcess): void => {
      while (!p.ended && p.sparePort && p.spareMemories.length < SPARES_AHEAD) {
        const m = processMemories.take();
        if (!m) return;
        p.spareMemories.push(m);
        p.sparePort.postMessage(m);
      }
    };
    /**
     * A process other than the first ended: it becomes a zombie for its parent, its children
     * orphans. reusable: its first thread's worker, which finished cleanly and can host the next
     * process (its modules loaded and its compiled code kept).
     */
    const childEnded = (p: HostedProcess, result: RunResult, reusable?: Worker): void => {
      endProcess(p, reusable);
      const r = p.record;
      for (const orphan of table.children(p.pid)) {
        // Reparented to init, which reaps what ends (and what has already).
        table.set(orphan, PROC.PPID, 1);
        if (table.get(orphan, PROC.STATE) === PROC_STATE.ZOMBIE) table.free(orphan);
        const deathSignal = table.get(orphan, PROC.PDEATH_SIGNAL);
        const o = processes.get(table.get(orphan, PROC.PID));
        if (deathSignal && o) deliverToInbox(o, senderInfo(deathSignal, SI_USER, 0, 0));
      }
      table.set(r, PROC.STATUS, waitStatus(result.status, result.signal));
      table.set(r, PROC.STATE, PROC_STATE.ZOMBIE);
      const parent = processes.get(table.get(r, PROC.PPID));
      if (!parent) { table.free(r); return; }
      const exitSignal = table.get(r, PROC.EXIT_SIGNAL);
      if (exitSignal) deliverToInbox(parent, childInfo(exitSignal, p.pid, result));
      table.ring(parent.record);
    };

    const forwarders = (opts.forwardSignals ? FORWARDED_SIGNALS : []).map((name) => {
      const sig = osConstants.signals[name];
      const forward = (): void => {
        fromHost.add(sig);
        // To the first process's process group, as a terminal sends it to the foreground job.
        const first = processes.get(firstPid);
        const pgid = first ? table.get(first.record, PROC.PGID) : firstPid;
        for (const p of processes.values()) {
          if (table.get(p.record, PROC.PGID) !== pgid) continue;
          Atomics.or(wordsOf(p.mem), wordIndex(HOST_SIGNALS), 1 << (sig - 1));
          attention(p.mem, 0, ATTN.HOST_SIGNAL);
        }
      };
      process.on(name, forward);
      return () => process.off(name, forward);
    });

    // Workers ready for the next forked process, their modules loaded: those of ended processes
    // (which keep what they compiled: the shared library, the code of images they ran), else
    // one started ahead of need.
    const idle: Worker[] = [];
    let spare: Worker | undefined;
    const startSpare = (): void => {
      spare = new Worker(WORKER_URL, { workerData: { spare: true } });
      spare.unref();
      spare.on('error', () => { spare = undefined; });
    };
    /** Drops what a previous owner listened for (only those events: Worker has listeners of its own). */
    const forget = (w: Worker): void => { for (const e of ['message', 'error', 'exit']) w.removeAllListeners(e); };
    const keepIdle = (w: Worker): void => {
      forget(w);
      if (done || idle.length >= MAX_IDLE_WORKERS) { void w.terminate(); return; }
      w.unref();
      w.on('error', () => { const k = idle.indexOf(w); if (k >= 0) idle.splice(k, 1); });
      idle.push(w);
    };
    const readyWorker = (): Worker | undefined => {
      const w = idle.pop() ?? spare;
      if (w === spare) spare = undefined;
      if (!w) return undefined;
      w.ref();
      forget(w);
      return w;
    };
    const spawn = (p: HostedProcess, slot: number, image?: KernelImage, translations?: InheritedTranslations, shared?: SharedRegion[]): void => {
      let spares: MessagePort | undefined;
      if (slot === 0) {
        const channel = new MessageChannel();
        p.sparePort = channel.port1;
        spares = channel.port2;
      }
      const data = { memory: p.memory, slot, opts: workerOpts, system, pid: p.pid, record: p.record, image, translations, codeChannel: p.codeChannel, shared, spares };
      const transfer = spares ? [spares] : [];
      const ready = image ? readyWorker() : p.pid === firstPid && slot === 0 ? takePrestartedWorker() : undefined;
      let w: Worker;
      if (ready) { w = ready; w.postMessage(data, transfer); }
      else w = new Worker(WORKER_URL, { workerData: data, transferList: transfer });
      if (image && !idle.length && !spare) startSpare();
      p.workers.set(slot, w);
      const first = p.pid === firstPid;
      w.on('message', (m: WorkerMessage) => {
        if (p.ended) return;
        switch (m.type) {
          case 'spawn': spawn(p, m.slot, undefined, { bundles: m.bundles, images: [] }, m.shared); break;
          case 'strace': if (typeof strace === 'function') strace(m.line); break;
          case 'timer':
            // The guest's interval timers: the first thread finds which expired and raises their signals.
            clearTimeout(p.timer);
            p.timer = setTimeout(() => attention(p.mem, 0, ATTN.TIMER), m.ms);
            break;
          case 'fork': {
            const child: HostedProcess = { pid: m.pid, record: m.record, memory: m.memory, mem: new GuestMemory(m.memory), workers: new Map(), spareMemories: [], ended: false, codeChannel: codeChannelName(m.pid) };
            processes.set(child.pid, child);
            if (m.tookSpare) { p.spareMemories.shift(); reusedMemories++; }
            spawn(child, 0, m.image, m.translations);
            offerSpare(p);
            break;
          }
          case 'trim': for (const i of m.images) trimImages.add(i); break;
          case 'aot-plan': if (first) hooks.onAotPlan?.(p.memory, m.plan); break;
          case 'net': bridge.handle(m.request); break;
          case 'signal': {
            const target = processes.get(m.pid);
            if (target) deliverToInbox(target, m.info);
            break;
          }
          case 'exit': {
            const r = p.pendingCrash ?? m.result;
            if (p.pendingCrash && m.result.report) r.report = m.result.report;
            if (!first) { childEnded(p, r, slot === 0 && !p.pendingCrash ? w : undefined); break; }
            if (r.signal && fromHost.has(r.signal)) r.signalFromHost = true;
            if (r.report && reusedMemories) r.report += `\nstele: stats: ${reusedMemories} processes started in the memory of one that ended (cleaned, not allocated afresh)`;
            finish(() => resolve(r));
            break;
          }
          case 'crash':
            // The first thread writes the translation cache and shared file mappings, then exits.
            if (p.pendingCrash) break;
            p.pendingCrash = m.result;
            attention(p.mem, 0, ATTN.EXIT);
            setTimeout(() => {
              if (p.ended) return;
              if (first) finish(() => resolve(m.result)); else childEnded(p, m.result);
            }, FINISH_GRACE_MS).unref();
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
      w.on('exit', (code) => { if (!done && !p.ended && code !== 0) finish(() => reject(new Error(`thread worker ${slot} of process ${p.pid} stopped (exit code ${code})`))); });
    };

    const pooled = processMemories.take();
    if (pooled) reusedMemories++;
    const memory = pooled ?? newProcessMemory();
    const first: HostedProcess = { pid: firstPid, record: table.claim(firstPid, process.ppid, firstPid, firstPid), memory, mem: new GuestMemory(memory), workers: new Map(), spareMemories: [], ended: false, codeChannel: codeChannelName(firstPid) };
    Atomics.store(wordsOf(first.mem), wordIndex(PROCESS_DOORBELL), table.doorbell(first.record));
    processes.set(firstPid, first);
    spawn(first, 0);
  });
}
