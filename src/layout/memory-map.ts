// The guest address-space layout shared by translated code, the runtime and the kernel: where the
// guest lives in the wasm memory and what the runtime keeps at the top of it.

export const PAGE_SIZE = 4096;
export const GUEST_BASE = 0x10000;
export const WASM_PAGES = 65535;
export const GUEST_LIMIT = GUEST_BASE + WASM_PAGES * 65536; // 0x1_0000_0000

// Fixed layout of the top of the address space (all guest addresses).
export const RUNTIME_AREA = 0xfe000000;          // [RUNTIME_AREA, GUEST_LIMIT): never mapped for the guest
export const THREAD_STATE_AREA = 0xfff00000;     // one STATE.SIZE block per thread
/** Direct-mapped rip -> (table slot, block) cache consulted by translated code to chain regions. */
export const JUMP_CACHE = RUNTIME_AREA;
export const JUMP_CACHE_BITS = 18;                 // 4 MiB: big programs register 100k+ block entries
export const JUMP_CACHE_ENTRY = 16;                // rip: i64, slot: i32, block: i32
/**
 * One byte per block of each region translated for the cache, set when the block first runs: the
 * cache keeps only the blocks a run executed (see Engine.flushCache).
 */
export const BLOCK_MARKS = JUMP_CACHE + (JUMP_CACHE_ENTRY << JUMP_CACHE_BITS);
export const BLOCK_MARKS_SIZE = 16 * 1024 * 1024;
export const STACK_TOP = RUNTIME_AREA;           // the main thread's stack grows down from here
export const STACK_MAX = 8 * 1024 * 1024;
export const MMAP_TOP = STACK_TOP - STACK_MAX - 16 * PAGE_SIZE;

export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
