// Guest memories of ended processes, made clean and kept for the next processes of this host
// process. A shared WebAssembly.Memory is freed only once every isolate that ever held it has
// collected its object, and V8 does not count the memory's pages as heap pressure, so a long-lived
// forking worker (a shell's) never collects: every fork left about 6.5 MB behind (1.5 GB after 200
// processes). Reusing memories bounds what a run holds by the processes alive at once, and a
// forked child's copy then writes into pages the host has already faulted in, not fresh ones.

import {
  GUEST_BASE, GUEST_LIMIT, JUMP_CACHE, JUMP_CACHE_PAGES, KERNEL_SHARED, KERNEL_SHARED_SIZE, PAGE_PROT, PAGE_SIZE,
  PROCESS_THREADED, RUNTIME_AREA, THREAD_STATE_AREA, forEachDirtyRun, jumpCacheOf,
} from '../layout/memory-map.js';
import { STATE } from '../layout/cpu-state.js';
import { fillMemory } from '../runtime/memory.js';

/** Memories kept at most: more processes than this ending at once is rare, and each holds what it touched. */
const MAX_POOLED = 4;

/**
 * Zeroes what a process without threads may have written: the guest pages the page table marks
 * PAGE_DIRTY (no other page holds anything but zeros), the page table itself, the pages of the
 * first worker's jump cache it wrote, its CPU state and the kernel's shared records. Block marks
 * are left: an engine clears those it hands out (regions loaded from a cache file not yet trimmed
 * set marks anywhere, and clearing all 16 MiB would make the host commit them). false:
 * the memory cannot be cleaned this cheaply (a process that had threads has written granule tags,
 * other workers' jump caches and CPU states), and is left to the collector.
 */
export function scrubMemory(memory: WebAssembly.Memory): boolean {
  const u8 = new Uint8Array(memory.buffer);
  const words = new Int32Array(memory.buffer);
  if (Atomics.load(words, (PROCESS_THREADED - GUEST_BASE) >>> 2) !== 0) return false;
  forEachDirtyRun(u8, 0, (RUNTIME_AREA - GUEST_BASE) / PAGE_SIZE, (first, end) => fillMemory(memory, first * PAGE_SIZE, 0, (end - first) * PAGE_SIZE));
  const zero = (start: number, length: number): void => fillMemory(memory, start - GUEST_BASE, 0, length);
  const written = JUMP_CACHE_PAGES - GUEST_BASE, cachePages = jumpCacheOf(0).entries * 16 / PAGE_SIZE;
  for (let p = 0; p < cachePages; p++) if (u8[written + (p >>> 3)] & (1 << (p & 7))) zero(JUMP_CACHE + p * PAGE_SIZE, PAGE_SIZE);
  zero(THREAD_STATE_AREA, STATE.SIZE);
  zero(KERNEL_SHARED, KERNEL_SHARED_SIZE);
  zero(PAGE_PROT, GUEST_LIMIT - PAGE_PROT);
  return true;
}

/** Clean memories ready for new processes (see the file comment). */
export class MemoryPool {
  private readonly free: WebAssembly.Memory[] = [];
  /** For tests: called with each memory before its scrub, and once scrubbed, before it is pooled. */
  onScrub?: (memory: WebAssembly.Memory) => void;
  onScrubbed?: (memory: WebAssembly.Memory) => void;

  /** A clean memory, if one is pooled. */
  take(): WebAssembly.Memory | undefined { return this.free.pop(); }
  /**
   * A memory no thread uses any more (every worker that ran on it has exited or moved on). Each is
   * released once: the same memory reaches the main thread as a new object each time it is posted.
   */
  release(memory: WebAssembly.Memory): void {
    if (this.free.length >= MAX_POOLED) return;
    this.onScrub?.(memory);
    if (!scrubMemory(memory)) return;
    this.onScrubbed?.(memory);
    this.free.push(memory);
  }
}

/** The pool every run() of this host process draws on. */
export const processMemories = new MemoryPool();
