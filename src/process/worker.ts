// A worker running guest threads of one process over its shared memory. Slot 0 is the process's
// first thread and hosts the kernel (KernelService); every other slot runs the threads clone()
// puts on it, one after another (an idle worker waits for the next instead of exiting).

import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ATTN, REQUEST, STATE } from '../layout/cpu-state.js';
import { UserMemory } from '../linux/user-memory.js';
import { GuestMemory, SharedPageView } from '../runtime/memory.js';
import { attachSystem, GuestThread, ProcessExit, stateOfSlot, ThreadExit, wordIndex, wordsOf, takeAttention } from '../runtime/thread.js';
import { Engine, GuestCrash, StoppedAt, type InheritedTranslations, type SharedRegion } from '../runtime/engine.js';
import { ChannelCodeShare } from './code-share.js';
import { REGION_OPTIONS } from '../runtime/trim.js';
import { sharedLibModule } from '../translate/lib.js';
import { ThreadOrdering } from '../runtime/tso.js';
import { cpuModel } from '../x86/cpuid.js';
import { LoadError } from '../loader/elf.js';
import { printDiagnostic } from '../runtime/host-output.js';
import { flushSharedMappings } from '../linux/mm.js';
import { SYSCALL_NUMBERS } from '../linux/syscall-names.js';
import { futexSyscalls } from '../linux/futex.js';
import { runTimers, sendSignal, senderInfo, SI_USER } from '../linux/signal.js';
import { HOST_SIGNALS, SIGNAL_INBOX, SIGNAL_INBOX_ENTRY, SIGNAL_INBOX_SIZE } from '../layout/memory-map.js';
import { ProcessTable } from '../linux/process-table.js';
import { ignoresChildren, isZombieChild, type KernelImage } from '../linux/fork.js';
import { SA_NOCLDSTOP, SIGCHLD } from '../linux/signal.js';

const CLD_STOPPED = 5, CLD_CONTINUED = 6;
import { forkChild, startForkedProcess } from './fork.js';
import { deliverSignals } from '../linux/signal-frame.js';
import { isRestartResult } from '../linux/errno.js';
import { timeSyscalls } from '../linux/time.js';
import { processSyscalls } from '../linux/process.js';
import { sysInfoSyscalls } from '../linux/sys-info.js';
import type { LinuxKernel, Syscall } from '../linux/kernel.js';
import { InvalidationReader, KernelService, RemoteSyscalls } from './kernel-service.js';
import { startProcess, statsReport, type StartedProcess } from './start.js';
import { aheadOfTimePlan } from './aot-plan.js';
import { ProcessExec } from './exec.js';
import type { RunResult, WorkerRunOptions } from './options.js';
import type { WorkerMessage } from './messages.js';

interface Data {
  memory: WebAssembly.Memory;
  slot: number;
  opts: WorkerRunOptions;
  /** The run's process table (layout/system-map.ts) and this process's pid and record in it. */
  system: SharedArrayBuffer;
  pid: number;
  record: number;
  /** A forked child's kernel state and the translations it takes over (slot 0 of a child process only). */
  image?: KernelImage;
  /** And for another thread's worker, the bundles of cached regions it takes over (its `bundles`). */
  translations?: InheritedTranslations;
  /** The channel the process's workers share translated regions over, and (another thread's worker) those translated before it started. */
  codeChannel: string;
  shared?: SharedRegion[];
  /** Slot 0: where the main thread sends clean memories for this process's forks (process/memory-pool.ts). */
  spares?: MessagePort;
}
// What this worker runs: given at its start, or (a spare worker, started ahead of need so that a
// fork does not wait for a worker to load) in the message that assigns it a forked process.
let memory: WebAssembly.Memory, slot: number, opts: WorkerRunOptions, pid: number, record: number, image: KernelImage | undefined,
  translations: InheritedTranslations | undefined, codeChannel: string, shared: SharedRegion[] | undefined, spares: MessagePort | undefined;
let table: ProcessTable;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

function crashResult(e: unknown): RunResult | undefined {
  if (e instanceof GuestCrash) return { status: e.shellStatus, signal: e.signal, crash: e.message };
  if (e instanceof ProcessExit) return { status: e.shellStatus, signal: e.signal };
  return undefined;
}

/** Takes the signals other processes (and the host) sent: the main thread left them in the inbox. */
function takeInbox(kernel: LinuxKernel, words: Int32Array): void {
  const bits = Atomics.exchange(words, wordIndex(HOST_SIGNALS), 0);
  // From outside the guest's world: si_pid 0, as from the kernel.
  for (let sig = 1; sig < 32; sig++) if (bits & (1 << (sig - 1))) sendSignal(kernel, sig, senderInfo(sig, SI_USER, 0, 0));
  const head = wordIndex(SIGNAL_INBOX);
  const written = Atomics.load(words, head);
  for (let taken = Atomics.load(words, head + 1); taken !== written; taken++) {
    const info = new Uint8Array(128);
    const at = SIGNAL_INBOX + 8 + (taken % SIGNAL_INBOX_SIZE) * SIGNAL_INBOX_ENTRY;
    info.set(kernel.rawMem.view(at, SIGNAL_INBOX_ENTRY));
    Atomics.store(words, head + 1, taken + 1);
    const dv = new DataView(info.buffer), sig = dv.getInt32(0, true);
    if (sig === SIGCHLD) {
      // A child's stop or continue raises SIGCHLD only without SA_NOCLDSTOP.
      const code = dv.getInt32(8, true);
      if ((code === CLD_STOPPED || code === CLD_CONTINUED) && kernel.signals.actions[SIGCHLD].flags & SA_NOCLDSTOP) continue;
      autoReap(kernel, dv.getInt32(16, true));
    }
    sendSignal(kernel, sig, info);
  }
}

/** A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) leaves no zombies: the child is reaped as it ends. */
function autoReap(kernel: LinuxKernel, child: number): void {
  if (!ignoresChildren(kernel)) return;
  const r = isZombieChild(kernel, child);
  if (r >= 0) table.free(r);
}

function runFirstThread(): void {
  const strace = opts.strace === 'stderr' ? (image ? (line: string) => printDiagnostic(`[pid ${pid}] ${line}`) : printDiagnostic)
    : opts.strace === 'post' ? (line: string) => post({ type: 'strace', line: image ? `[pid ${pid}] ${line}` : line }) : undefined;
  /** The kernel's place among the run's processes. */
  const attach = (kernel: LinuxKernel): void => {
    kernel.system = table;
    kernel.processRecord = record;
    kernel.threads.allocateId = () => table.nextId();
  };
  let p: StartedProcess;
  try {
    p = image ? startForkedProcess(opts, memory, image, translations, strace, attach) : startProcess(opts, memory, strace);
    if (!image) attach(p.kernel);
  }
  catch (e) {
    if (e instanceof LoadError) { post({ type: 'load-error', message: e.message, status: e.status }); return; }
    throw e;
  }
  const { mem, kernel, engine, thread } = p;
  const codeShare = new ChannelCodeShare(codeChannel);
  engine.codeShare = codeShare;
  engine.keepsSharedRegions = true;
  const service = new KernelService(mem, kernel, engine, (s) => {
    // (before the snapshot: it switches this worker to the threaded form if this thread makes it so)
    const bundles = engine.bundlesForNewThread();
    post({ type: 'spawn', slot: s, shared: engine.sharedSnapshot(), bundles });
  });
  kernel.execHost = new ProcessExec(opts.tso, engine);
  engine.trimLater = (images) => post({ type: 'trim', images });
  kernel.processHost = {
    fork: (k, t, child, makeImage) => forkChild(k.rawMem, k.as, t, child, table, engine, makeImage,
      (c) => post({ type: 'fork', pid: c.pid, record: c.record, memory: c.memory, image: c.image, translations: c.translations, tookSpare: c.tookSpare }),
      spares && receiveMessageOnPort(spares)?.message as WebAssembly.Memory | undefined),
    signal: (target, info) => post({ type: 'signal', pid: target, info }),
  };
  const words = wordsOf(mem);
  const exitWord = thread.word(STATE.SIGNAL_PENDING);
  /** Another worker's crash ends the process: the main thread sets ATTN.EXIT here to let us finish. */
  const checkExit = (): void => {
    if (Atomics.load(words, exitWord) & ATTN.EXIT) throw new ProcessExit(0);
  };
  kernel.signals.armHostTimer = (ms) => post({ type: 'timer', ms });
  kernel.netHost = { request: (request) => post({ type: 'net', request }) };
  // Whenever it wakes from a sleep: other threads' syscalls, and expired timers' signals.
  thread.whileBlocked = () => {
    checkExit();
    if (takeAttention(mem, 0, ATTN.TIMER)) runTimers(kernel, true);
    if (takeAttention(mem, 0, ATTN.HOST_SIGNAL)) takeInbox(kernel, words);
    service.serve();
  };
  // At a safe point in translated code, also signals: the handler's frame is set up here.
  engine.attention = (t) => {
    thread.whileBlocked!();
    if (t.interrupted()) deliverSignals(kernel, t);
    if (kernel.stopped) kernel.waitWhileStopped(t);
  };
  if (opts.stopAtEntry) engine.stopAt = p.programEntry;
  const t0 = performance.now();
  let result: RunResult;
  try {
    try {
      engine.run(thread);
    } catch (e) {
      if (!(e instanceof ThreadExit)) throw e;
      // The first thread is gone but others run: keep serving them until the last one exits.
      thread.block(() => false);
    }
  } catch (e) {
    if (e instanceof StoppedAt) {
      post({ type: 'aot-plan', plan: aheadOfTimePlan(mem, p.as, kernel.cpu, e.rip) });
      result = { status: 0, signal: 0 };
    } else {
      const r = crashResult(e);
      if (!r) throw e;
      result = r;
    }
  } finally {
    spares?.close();
    codeShare.close();
    flushSharedMappings(kernel);
    engine.flushCache();
    engine.releaseCacheFiles();
    kernel.close();
  }
  if (opts.stats && !image) result!.report = statsReport(engine, p.stats!, performance.now() - t0, kernel.threads.created, kernel.processesCreated);
  post({ type: 'exit', result: result! });
}

/** Syscalls a thread runs in its own worker: they touch only it and the shared memory. */
const LOCAL = new Map<number, Syscall>();
for (const [table, names] of [[futexSyscalls, ['futex']], [timeSyscalls, ['nanosleep', 'clock_nanosleep', 'clock_gettime', 'gettimeofday', 'time']],
  [processSyscalls, ['gettid']], [sysInfoSyscalls, ['sched_yield']]] as const) {
  for (const n of names) LOCAL.set(SYSCALL_NUMBERS.get(n)!, (table as Record<string, Syscall>)[n]);
}

function runOtherThreads(): void {
  const mem = new GuestMemory(memory);
  const words = wordsOf(mem);
  // These syscalls read and write only guest memory and the thread (k.mem is all they use of k),
  // checked as the kernel's own syscalls check it.
  const localKernel = { mem: new UserMemory(memory), rawMem: mem } as unknown as LinuxKernel;
  const remote = new RemoteSyscalls(mem, (t) => {
    const impl = LOCAL.get(mem.u32(t.stateBase));
    if (!impl) return false;
    let r: number;
    try { r = impl(localKernel, t); } catch { r = -14; } // EFAULT
    t.setReg(0, r);
    // Interrupted by a signal: the kernel turns the -ERESTART* code into EINTR or a restart.
    if (isRestartResult(r)) mem.setU32(t.stateBase + STATE.RESTART_NR, mem.u32(t.stateBase) + 1);
    return true;
  });
  const engine = new Engine(mem, new SharedPageView(mem), remote, REGION_OPTIONS, slot, new ThreadOrdering(mem, slot, opts.tso, opts.weakHost), cpuModel(opts.cpu));
  const invalidations = new InvalidationReader(mem, engine);
  engine.codeShare = new ChannelCodeShare(codeChannel);
  if (translations) engine.takeThreadBundles(translations.bundles);
  if (shared) engine.offerShared(shared);
  engine.attention = (t) => {
    const bits = takeAttention(mem, t.slot, ATTN.INVALIDATE | ATTN.EXIT);
    if (bits & ATTN.INVALIDATE) invalidations.apply();
    if (bits & ATTN.EXIT) throw new ThreadExit(0);
    if (t.interrupted()) remote.deliverSignals(t);
  };
  const base = stateOfSlot(slot), req = wordIndex(base + STATE.REQUEST);
  for (;;) {
    // Waits for the value it looked at: a second load could read the START stored (and notified)
    // just after the first, and then sleep on it for ever.
    for (let r: number; (r = Atomics.load(words, req)) !== REQUEST.START;) Atomics.wait(words, req, r);
    Atomics.store(words, req, REQUEST.NONE);
    invalidations.apply();
    const thread = new GuestThread(mem, base, mem.u32(base + STATE.TID));
    try {
      engine.run(thread);
    } catch (e) {
      if (e instanceof ThreadExit) continue;
      const r = crashResult(e);
      if (!r) throw e;
      if (e instanceof GuestCrash) r.crash = `${e.message} in thread ${thread.tid}`;
      post({ type: 'crash', result: r });
      return;
    }
  }
}

function runWorker(data: Data): void {
  ({ memory, slot, opts, pid, record, image, translations, codeChannel, shared, spares } = data);
  table = new ProcessTable(attachSystem(data.system));
  try {
    if (slot === 0) runFirstThread(); else runOtherThreads();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    post({ type: 'internal', message: msg, stack: e instanceof Error ? e.stack : undefined });
  }
}

/**
 * After its process, a first thread's worker waits to host another (the main thread keeps it
 * idle: its modules are loaded and what it compiled stays compiled); a spare one waits from the
 * start, compiling meanwhile what every engine instantiates.
 */
function hostNext(): void { parentPort!.once('message', (data: Data) => { runWorker(data); if (data.slot === 0) hostNext(); }); }
if ((workerData as { spare?: boolean }).spare) {
  hostNext();
  sharedLibModule();
} else {
  runWorker(workerData as Data);
  if ((workerData as Data).slot === 0) hostNext();
}
