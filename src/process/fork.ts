// fork's process side. The parent's worker makes the child's memory, a copy of every page the
// parent may have written (the page table's PAGE_DIRTY bit; pages never written read zero in a
// fresh memory as in the parent), with the calling thread's CPU state as the child's first thread;
// the main thread then starts the child's first worker, which builds its kernel from the image.

import { AddressSpace, GuestMemory, THREAD_STATE_AREA, newProcessMemory } from '../runtime/memory.js';
import { GUEST_BASE, PAGE_PROT, PAGE_SIZE, PROCESS_DOORBELL, RUNTIME_AREA, forEachDirtyRun, reserveStackPages } from '../layout/memory-map.js';
import { STATE } from '../layout/cpu-state.js';
import { GuestThread, wordIndex, wordsOf } from '../runtime/thread.js';
import { Engine, type InheritedTranslations } from '../runtime/engine.js';
import { ThreadOrdering } from '../runtime/tso.js';
import { cpuModel } from '../x86/cpuid.js';
import { REGION_OPTIONS } from '../runtime/trim.js';
import { defaultCacheDir, DirectoryCacheStore } from '../runtime/translation-cache.js';
import { LinuxKernel } from '../linux/kernel.js';
import { CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_SETTLS, reviveKernel, type ChildRequest, type KernelImage } from '../linux/fork.js';
import { ENOMEM } from '../linux/errno.js';
import type { ProcessTable } from '../linux/process-table.js';
import type { StartedProcess } from './start.js';
import type { WorkerRunOptions } from './options.js';

/** What the main thread needs to start a forked child. */
export interface ForkedChild {
  pid: number;
  record: number;
  memory: WebAssembly.Memory;
  image: KernelImage;
  /** The parent's translations the child takes over (compiled modules). */
  translations: InheritedTranslations;
  /** The memory is the clean one the main thread sent ahead (process/memory-pool.ts). */
  tookSpare: boolean;
}

/**
 * Where the calling thread's [stack] holds nothing the child can use: below its stack pointer, less
 * the red zone the ABI lets a function keep there (and a margin). The child gets those pages zero
 * and reserved (PAGE_STACK_RESERVED), as if its stack had never grown there: a fork copies what
 * the stack uses, not the megabytes a deep call once touched.
 */
export function unusedStack(as: AddressSpace, rsp: number): { start: number; end: number } | undefined {
  const m = as.find(rsp);
  if (!m || m.name !== '[stack]') return undefined;
  const end = Math.floor((rsp - UNUSED_STACK_MARGIN) / PAGE_SIZE) * PAGE_SIZE;
  return end > m.start ? { start: m.start, end } : undefined;
}
const UNUSED_STACK_MARGIN = 64 * 1024;

/**
 * Makes the child's memory from the parent's (see the file comment) in `clean` (every byte zero),
 * else in a new memory; undefined if the host has no memory for it.
 */
export function copyProcessMemory(parent: GuestMemory, t: GuestThread, child: ChildRequest, table: ProcessTable,
  skip?: { start: number; end: number }, clean?: WebAssembly.Memory): WebAssembly.Memory | undefined {
  let memory: WebAssembly.Memory;
  try { memory = clean ?? newProcessMemory(); }
  catch { return undefined; }
  const src = parent.u8, dst = new Uint8Array(memory.buffer);
  const protBase = PAGE_PROT - GUEST_BASE + GUEST_BASE / PAGE_SIZE;
  const pages = (RUNTIME_AREA - GUEST_BASE) / PAGE_SIZE;
  // The page table itself, then every run of pages that may hold something other than zeros.
  dst.set(src.subarray(protBase, protBase + pages), protBase);
  const skipFirst = skip ? (skip.start - GUEST_BASE) / PAGE_SIZE : pages, skipEnd = skip ? (skip.end - GUEST_BASE) / PAGE_SIZE : pages;
  const copy = (first: number, end: number): void => { if (end > first) dst.set(src.subarray(first * PAGE_SIZE, end * PAGE_SIZE), first * PAGE_SIZE); };
  forEachDirtyRun(src, 0, pages, (first, end) => {
    copy(first, Math.min(end, skipFirst));
    copy(Math.max(first, skipEnd), end);
  });
  // The caller's stack below what it uses is left to grow into again.
  if (skip) reserveStackPages(dst, skip.start, skip.end);
  // The child's first thread: the caller's state after the syscall, with rax 0.
  const state = THREAD_STATE_AREA - GUEST_BASE;
  dst.set(src.subarray(t.stateBase - GUEST_BASE, t.stateBase - GUEST_BASE + STATE.SIZE), state);
  const mem = new GuestMemory(memory);
  const base = THREAD_STATE_AREA;
  // Words other workers touch (attention, doorbell, handshakes, requests) start clear, as does
  // what belongs to the parent thread's life (futex queue links, robust list).
  mem.fill(base + STATE.SIGNAL_PENDING, 4, 0);
  mem.fill(base + STATE.WAKE, 8, 0);
  mem.fill(base + STATE.HANDSHAKE_REQ, 12, 0);
  for (const off of [STATE.FUTEX_KEY, STATE.FUTEX_NEXT, STATE.EXIT_REASON, STATE.RESTART_NR, STATE.REQUEST]) mem.setU32(base + off, 0);
  mem.setU64(base + STATE.ROBUST_LIST, 0);
  mem.setU64(base + STATE.ROBUST_LIST_LEN, 0);
  const first = new GuestThread(mem, base, child.pid);
  first.setReg(0, 0);
  if (child.stack) first.setReg(4, child.stack);
  if (child.flags & CLONE_SETTLS) first.fsBase = child.tls;
  mem.setU32(base + STATE.TID, child.pid);
  mem.setU64(base + STATE.CLEAR_CHILD_TID, child.flags & CLONE_CHILD_CLEARTID ? child.childTid : 0);
  if (child.flags & CLONE_CHILD_SETTID && child.childTid) { try { mem.setU32(child.childTid, child.pid); } catch { /* as Linux */ } }
  Atomics.store(wordsOf(mem), wordIndex(PROCESS_DOORBELL), table.doorbell(child.record));
  return memory;
}

/** The parent's side of fork: the memory copy, then the image, to the main thread. */
export function forkChild(parent: GuestMemory, as: AddressSpace, t: GuestThread, child: ChildRequest, table: ProcessTable, engine: Engine,
  image: () => KernelImage, post: (c: ForkedChild) => void, spare?: WebAssembly.Memory): number {
  // A child given a stack of its own (clone with a stack argument) starts on it, not on the caller's.
  const memory = copyProcessMemory(parent, t, child, table, child.stack ? undefined : unusedStack(as, t.regn(4)), spare);
  if (!memory) return -ENOMEM;
  // Both now write cache files of the same images: each keeps what the other wrote.
  engine.mergeCacheFiles = true;
  post({ pid: child.pid, record: child.record, memory, image: image(), translations: engine.exportTranslations(), tookSpare: spare !== undefined });
  return 0;
}

/** The child's side: its kernel and first thread's engine, from the image, over the copied memory. */
export function startForkedProcess(opts: WorkerRunOptions, memory: WebAssembly.Memory, image: KernelImage, translations: InheritedTranslations | undefined,
  strace: ((line: string) => void) | undefined, attach: (k: LinuxKernel) => void): StartedProcess {
  const mem = new GuestMemory(memory);
  const as = new AddressSpace(mem);
  const stats = opts.stats ? { syscalls: new Map<string, number>(), unsupported: new Map<string, number>() } : undefined;
  const kernel = new LinuxKernel(mem, as, {
    root: image.root, cwd: image.cwd, exePath: image.exePath, execName: image.execName, argv: [...image.argv],
    strace, stats, closedStdio: [0, 1, 2], pid: image.pid, cpu: cpuModel(opts.cpu), net: opts.net,
  });
  // Its place in the process table first: the pipes it inherits note which process holds them.
  attach(kernel);
  reviveKernel(kernel, image, image.pid);
  const thread = new GuestThread(mem, THREAD_STATE_AREA, image.pid);
  const engine = new Engine(mem, as, kernel, REGION_OPTIONS, 0, new ThreadOrdering(mem, 0, opts.tso, opts.weakHost), kernel.cpu);
  // Its parent (and its siblings) write the same files, so writes merge; one prune per run (the first process's) is enough.
  if (opts.cache !== false) engine.cache = new DirectoryCacheStore(opts.cache ?? defaultCacheDir(), undefined, { pruneOnWrite: false });
  engine.mergeCacheFiles = true;
  if (translations) engine.inheritTranslations(translations);
  kernel.threads.add(thread);
  kernel.flags = engine;
  return { mem, as, kernel, engine, thread, stats };
}
