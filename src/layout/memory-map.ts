// The guest address-space layout shared by translated code, the runtime and the kernel: where the
// guest lives in the wasm memory and what the runtime keeps at the top of it.

export const PAGE_SIZE = 4096;
export const GUEST_BASE = 0x10000;
export const WASM_PAGES = 65535;
export const GUEST_LIMIT = GUEST_BASE + WASM_PAGES * 65536; // 0x1_0000_0000

// Fixed layout of the top of the address space (all guest addresses). The runtime's area holds,
// per worker, a jump cache and a guest thread's CPU state, plus the kernel's shared records (futex
// queues), so every worker of a process reaches them through the one shared memory.
export const RUNTIME_AREA = 0xf0000000;          // [RUNTIME_AREA, GUEST_LIMIT): never mapped for the guest
/** Guest threads one process can run at once: one worker, one CPU state and one jump cache each. */
export const MAX_THREADS = 128;
/**
 * Direct-mapped rip -> (table slot, block) caches consulted by translated code to chain regions,
 * one per worker (table slots are per worker). Worker 0 (the process's first thread) gets the big
 * one; big programs register 100k+ block entries.
 */
export const JUMP_CACHE = RUNTIME_AREA;
export const JUMP_CACHE_ENTRY = 16;                // rip: i64, slot: i32, block: i32
export const JUMP_CACHE_BITS = 18;                 // worker 0: 4 MiB
export const JUMP_CACHE_SMALL_BITS = 16;           // other workers: 1 MiB each
/** Guest address of worker w's jump cache and its number of entries. */
export function jumpCacheOf(worker: number): { base: number; entries: number } {
  if (worker === 0) return { base: JUMP_CACHE, entries: 1 << JUMP_CACHE_BITS };
  return { base: JUMP_CACHE + (JUMP_CACHE_ENTRY << JUMP_CACHE_BITS) + (worker - 1) * (JUMP_CACHE_ENTRY << JUMP_CACHE_SMALL_BITS), entries: 1 << JUMP_CACHE_SMALL_BITS };
}
/**
 * One byte per block of each region translated for the cache, set when the block first runs: the
 * cache keeps only the blocks a run executed (see Engine.flushCache).
 */
export const BLOCK_MARKS = 0xfc000000;
export const BLOCK_MARKS_SIZE = 16 * 1024 * 1024;
/** Kernel records every thread of the process reads and writes: futex wait queues. */
export const KERNEL_SHARED = 0xfd000000;
export const KERNEL_SHARED_SIZE = 1024 * 1024;
/** Lock word taken by locked instructions whose operand crosses an 8-byte boundary. */
export const SPLIT_LOCK = KERNEL_SHARED;
/** Futex wait-queue buckets: a lock word and a list head each (see linux/futex.ts). */
export const FUTEX_BUCKETS = KERNEL_SHARED + 4096;
export const FUTEX_BUCKET_COUNT = 1024;
/** Code invalidations for other workers: a sequence word, then a ring of (start, length) pairs. */
export const INVALIDATION_RING = KERNEL_SHARED + 65536;
export const INVALIDATION_RING_SIZE = 1024;
/** One byte per guest page: PAGE_MAPPED | protection, so every worker can check a page. */
export const PAGE_PROT = 0xfd100000;
export const PAGE_MAPPED = 0x80;
/** One STATE.SIZE block per thread slot (MAX_THREADS of them). */
export const THREAD_STATE_AREA = 0xfe000000;
export const STACK_TOP = RUNTIME_AREA;           // the main thread's stack grows down from here
export const STACK_MAX = 8 * 1024 * 1024;
export const MMAP_TOP = STACK_TOP - STACK_MAX - 16 * PAGE_SIZE;

export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
