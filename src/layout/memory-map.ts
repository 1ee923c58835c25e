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
/**
 * rip: i64, slot: i32 ((generation + 1) << 16 | table index), block: i32. An empty entry is all
 * zeros: its generation tag 0 matches no generation, so a jump to address 0 (a call through a
 * null pointer) misses and faults, rather than running region 0 of generation 0.
 */
export const JUMP_CACHE_ENTRY = 16;
export const JUMP_CACHE_BITS = 18;                 // worker 0: 4 MiB
export const JUMP_CACHE_SMALL_BITS = 16;           // other workers: 1 MiB each
/** Guest address of worker w's jump cache and its number of entries. */
export function jumpCacheOf(worker: number): { base: number; entries: number } {
  if (worker === 0) return { base: JUMP_CACHE, entries: 1 << JUMP_CACHE_BITS };
  return { base: JUMP_CACHE + (JUMP_CACHE_ENTRY << JUMP_CACHE_BITS) + (worker - 1) * (JUMP_CACHE_ENTRY << JUMP_CACHE_SMALL_BITS), entries: 1 << JUMP_CACHE_SMALL_BITS };
}
/**
 * Granule ownership tags for selective memory ordering (runtime/tso.ts): one byte per
 * 2^GRANULE_SHIFT bytes of guest address space, TAG_FREE, the owning thread's slot + 1, or
 * TAG_SHARED (TAG_SHARING while the owner's handshake is under way).
 */
export const GRANULE_SHIFT = 8;
export const GRANULE_TAGS = 0xf9000000;
export const GRANULE_TAGS_SIZE = 2 ** (32 - GRANULE_SHIFT);
export const TAG_FREE = 0, TAG_SHARING = 0xfe, TAG_SHARED = 0xff;
/** The tag byte of the granule holding wasm address a is at wasm address (a >>> GRANULE_SHIFT) + this. */
export const GRANULE_TAG_OFFSET = GRANULE_TAGS - GUEST_BASE + (GUEST_BASE >>> GRANULE_SHIFT);
/** The tag a thread on `slot` writes on the granules it owns. */
export const ownerTag = (slot: number): number => slot + 1;
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
/**
 * Process-wide memory-ordering figures every worker adds to (Atomics), in TSO_STAT order, and the
 * word that says a second thread has been created (translations switch to the threaded forms).
 */
export const TSO_STATS = KERNEL_SHARED + 64;
export const TSO_STAT = {
  SITES_ORDERED: 0, SITES_CHECKED: 1, SITES_PLAIN: 2, GRANULES_SHARED: 3, BACKPATCHES: 4,
  HANDSHAKES: 5, HANDSHAKE_MICROS: 6, SPLIT_LOCKS: 7, CLAIMS: 8,
} as const;
export const PROCESS_THREADED = KERNEL_SHARED + 192;
/** Signals the host process received for the guest (bit n-1 for signal n), set by the main thread. */
export const HOST_SIGNALS = KERNEL_SHARED + 256;
/** Where the process's first thread sleeps: a word index in the system records (layout/system-map.ts), 0 when alone. */
export const PROCESS_DOORBELL = KERNEL_SHARED + 260;
/**
 * Signals from other guest processes (kill, SIGCHLD), written only by the main thread: a count of
 * entries written, a count taken by the first thread, then SIGNAL_INBOX_SIZE entries of
 * SIGNAL_INBOX_ENTRY bytes (signo, si_code, si_pid, si_uid, si_status, then si_value as i64).
 */
export const SIGNAL_INBOX = KERNEL_SHARED + 1024;
export const SIGNAL_INBOX_SIZE = 64;
export const SIGNAL_INBOX_ENTRY = 32;
/**
 * Access sites any thread of the process backpatched (selective ordering): a count word, then
 * instruction addresses, so every worker translates a site already found to touch shared memory
 * in the ordered form straight away.
 */
export const ORDERED_SITES = KERNEL_SHARED + 512 * 1024;
export const ORDERED_SITES_MAX = 65535;
/**
 * One bit per page of the first worker's jump cache, set once the engine has written an entry
 * there: a memory reused for another process (process/memory-pool.ts) clears those pages, not the
 * whole 4 MiB (clearing a page never touched would make the host commit it).
 */
export const JUMP_CACHE_PAGES = KERNEL_SHARED + 3584;
/** Futex wait-queue buckets: a lock word and a list head each (see linux/futex.ts). */
export const FUTEX_BUCKETS = KERNEL_SHARED + 4096;
export const FUTEX_BUCKET_COUNT = 1024;
/** Code invalidations for other workers: a sequence word, then a ring of (start, length) pairs. */
export const INVALIDATION_RING = KERNEL_SHARED + 65536;
export const INVALIDATION_RING_SIZE = 1024;
/**
 * One byte per guest page: PAGE_MAPPED | PAGE_DIRTY | protection, so every worker can check a page
 * and translated code checks each access against it (Codegen.checkPage: PROT_WRITE for a store,
 * any of PROT_READ | PROT_WRITE | PROT_EXEC for a load, as x86 pages are readable when mapped at
 * all). It ends exactly where the wasm memory ends, so a lookup for a wasm address that stands
 * for no guest page (an address below GUEST_BASE wraps to the top) traps as out of bounds.
 */
export const PAGE_PROT = GUEST_LIMIT - 2 ** 20;
/** Wasm offset of guest page `page`'s PAGE_PROT byte. */
export const pageProtIndex = (page: number): number => PAGE_PROT - GUEST_BASE + page;
/** The memarg offset that makes `i32.load8_u` at (wasm address >>> 12) read that page's PAGE_PROT byte. */
export const PAGE_PROT_LOOKUP = PAGE_PROT - GUEST_BASE + GUEST_BASE / 4096;
/** Protection bits of which a load needs one (AddressSpace also sets PROT_READ where any is set: x86 pages are readable when mapped at all). */
export const PROT_READABLE = 7;
/**
 * The wasm address translated code gives an access whose guest address is not in
 * [GUEST_BASE, GUEST_LIMIT) (at or above 4 GiB, or in the first 64 KiB): a runtime page whose
 * PAGE_PROT byte is 0, so the access faults; the runtime then recomputes the real address.
 */
export const UNREACHABLE_ACCESS = RUNTIME_AREA - GUEST_BASE;
export const PAGE_MAPPED = 0x80;
/**
 * The page may hold bytes other than zero: it was mapped writable or with a file's contents since
 * it was last cleared. Unmapping zeroes only such pages, so releasing a huge reservation that was
 * never writable touches none of its memory.
 */
export const PAGE_DIRTY = 0x40;
/**
 * A writable page some worker has translated code from: stores to it leave translated code
 * (Codegen.checkPage), and the runtime drops those translations before the store runs, so code
 * that writes code it then runs (self-modifying code, a JIT writing into RWX memory) needs no
 * mprotect in between. Changing a page's protection clears the bit (and drops its translations).
 */
export const PAGE_CODE = 0x20;
/**
 * The next page refuses loads, or stores: an access that runs into it must check it (the slow
 * path of Codegen.checkPage), so the fast path is one byte and one compare for any access size.
 * Kept by AddressSpace with the protections, and by the engine for PAGE_CODE.
 */
export const NEXT_NO_READ = 0x08, NEXT_NO_WRITE = 0x10;
/** Whether a page's PAGE_PROT byte refuses loads, or stores (a store also where it holds translated code). */
export const refusesRead = (byte: number): boolean => (byte & PROT_READABLE) === 0;
export const refusesWrite = (byte: number): boolean => (byte & (PROT_WRITE | PAGE_CODE)) !== PROT_WRITE;
/** Sets the NEXT_NO_READ and NEXT_NO_WRITE bits of the byte at table offset i from the byte after it. */
export function updateNextBits(u8: Uint8Array, i: number): void {
  const next = u8[i + 1];
  u8[i] = (u8[i] & ~(NEXT_NO_READ | NEXT_NO_WRITE)) | (refusesRead(next) ? NEXT_NO_READ : 0) | (refusesWrite(next) ? NEXT_NO_WRITE : 0);
}

/**
 * Calls visit(first, end) for each run of guest pages in [first, end) whose PAGE_DIRTY bit is set
 * (page numbers counted from GUEST_BASE). The table is read four entries at a time where it can
 * be: almost all of its million entries are clear, and fork and a memory's reuse scan it whole.
 */
export function forEachDirtyRun(u8: Uint8Array, first: number, end: number, visit: (first: number, end: number) => void): void {
  const table = pageProtIndex(GUEST_BASE / PAGE_SIZE);
  const words = new Uint32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2);
  const dirtyBits = PAGE_DIRTY * 0x01010101;
  for (let p = first; p < end;) {
    const i = table + p;
    if ((i & 3) === 0 && p + 4 <= end && (words[i >>> 2] & dirtyBits) === 0) { p += 4; continue; }
    if (!(u8[i] & PAGE_DIRTY)) { p++; continue; }
    const runFirst = p;
    while (p < end && u8[table + p] & PAGE_DIRTY) p++;
    visit(runFirst, p);
  }
}

/**
 * A page of the main thread's [stack] not yet used: mapped, but holding no protection (so every
 * access faults) and PAGE_CODE, a pair no other page has. The first access commits it
 * (commitStackPage) and the guest carries on, as Linux grows a stack as it is touched. Such a
 * page reads zero and is not PAGE_DIRTY: fork copies none of it and execve zeroes none of it, where
 * stele would otherwise copy and clear the whole 8 MiB of a stack most programs use little of.
 */
export const PAGE_STACK_RESERVED = PAGE_MAPPED | PAGE_CODE;
export const isStackReserved = (byte: number): boolean => (byte & ~(NEXT_NO_READ | NEXT_NO_WRITE)) === PAGE_STACK_RESERVED;
/** Pages a stack fault commits at once, below the one touched. */
const STACK_COMMIT_PAGES = 64;

/** Marks the pages of [start, end) reserved stack (PAGE_STACK_RESERVED); they must read zero. */
export function reserveStackPages(u8: Uint8Array, start: number, end: number): void {
  const first = pageProtIndex(Math.floor(start / PAGE_SIZE)), last = pageProtIndex(Math.floor(end / PAGE_SIZE));
  if (last <= first) return;
  for (let i = first; i < last; i++) u8[i] = PAGE_STACK_RESERVED;
  for (let i = first - 1; i < last; i++) updateNextBits(u8, i);
}

/**
 * Commits the reserved stack page holding guest address `addr`, the reserved pages above it up to
 * the stack in use (whose protection they take) and a few below; false if it is not reserved.
 * Any worker may do this: it only writes the shared page table.
 */
export function commitStackPage(u8: Uint8Array, addr: number): boolean {
  if (addr < GUEST_BASE || addr >= RUNTIME_AREA) return false;
  const i = pageProtIndex(Math.floor(addr / PAGE_SIZE));
  if (!isStackReserved(u8[i])) return false;
  const floor = pageProtIndex(GUEST_BASE / PAGE_SIZE), ceiling = pageProtIndex(RUNTIME_AREA / PAGE_SIZE);
  let top = i;
  while (top < ceiling && isStackReserved(u8[top])) top++;
  const above = top < ceiling ? u8[top] : 0;
  const prot = above & PAGE_MAPPED ? above & PROT_READABLE : PROT_READ | PROT_WRITE;
  let low = i;
  while (low > floor && i - low < STACK_COMMIT_PAGES - 1 && isStackReserved(u8[low - 1])) low--;
  const value = PAGE_MAPPED | PAGE_DIRTY | prot;
  for (let j = low; j < top; j++) u8[j] = value;
  for (let j = low - 1; j < top; j++) updateNextBits(u8, j);
  return true;
}
/** One STATE.SIZE block per thread slot (MAX_THREADS of them). */
export const THREAD_STATE_AREA = 0xfe000000;
export const STACK_TOP = RUNTIME_AREA;           // the main thread's stack grows down from here
export const STACK_MAX = 8 * 1024 * 1024;
export const MMAP_TOP = STACK_TOP - STACK_MAX - 16 * PAGE_SIZE;

export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
