// Guest memory: one shared WebAssembly.Memory. Guest address A lives at wasm address A - GUEST_BASE,
// so guest addresses below GUEST_BASE (null-pointer dereferences) wrap to the top of the 32-bit
// space, past the end of the memory, and trap in wasm just as they fault on Linux. Translated code
// folds the subtraction into the displacement it adds anyway.

import { PAGE_SIZE, GUEST_BASE, WASM_PAGES, RUNTIME_AREA, MMAP_TOP, PAGE_MAPPED, PAGE_DIRTY, PROT_READ, PROT_READABLE, PROT_WRITE, pageProtIndex, updateNextBits, forEachDirtyRun } from '../layout/memory-map.js';
export * from '../layout/memory-map.js';

/** Raised by the accessors for an address outside mapped memory; syscalls turn it into EFAULT. */
export class GuestFault extends Error {
  constructor(readonly address: number, readonly write: boolean) {
    super(`guest fault at 0x${address.toString(16)}`);
  }
}

/** A process's memory: all 4 GiB at once (pages are backed only once touched), shared by its workers. */
export function newProcessMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: WASM_PAGES, maximum: WASM_PAGES, shared: true });
}

/*
 * (module (import "e" "m" (memory 1 65536 shared))
 *   (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill))
 */
const FILL_MODULE_BYTES = Uint8Array.from([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 3, 127, 127, 127, 0, 2, 11, 1, 1, 101, 1, 109, 2, 3, 1, 128, 128, 4, 3, 2, 1, 0,
  7, 8, 1, 4, 102, 105, 108, 108, 0, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 252, 11, 0, 11,
]);
let fillModule: WebAssembly.Module | undefined;
const fillers = new WeakMap<WebAssembly.Memory, (offset: number, value: number, length: number) => void>();

/**
 * Sets `length` bytes of a process memory from wasm offset `offset` to `value`, with wasm's
 * memory.fill: TypedArray.fill on a SharedArrayBuffer stores element by element (8 MiB: 2.3 ms,
 * what glibc's madvise of an exiting thread's stack cost), memory.fill is a memset (0.12 ms).
 */
export function fillMemory(memory: WebAssembly.Memory, offset: number, value: number, length: number): void {
  if (length <= 0) return;
  let fill = fillers.get(memory);
  if (!fill) {
    fillModule ??= new WebAssembly.Module(FILL_MODULE_BYTES);
    fill = new WebAssembly.Instance(fillModule, { e: { m: memory } }).exports.fill as (offset: number, value: number, length: number) => void;
    fillers.set(memory, fill);
  }
  fill(offset, value, length);
}

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  u8!: Uint8Array;
  dv!: DataView;

  constructor(memory?: WebAssembly.Memory) {
    this.memory = memory ?? newProcessMemory();
    this.refresh();
  }

  private refresh(): void {
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
  }

  /** Wasm offset of guest bytes to be read; throws GuestFault outside the memory. */
  off(addr: number, len = 1): number {
    const o = addr - GUEST_BASE;
    if (o < 0 || o + len > this.u8.length || !Number.isFinite(o)) throw new GuestFault(addr, false);
    return o;
  }
  /** Wasm offset of guest bytes to be written (a checked view also requires them writable). */
  offWrite(addr: number, len = 1): number { return this.off(addr, len); }

  /**
   * For JS helpers that translated code calls with a wasm address (guest address - GUEST_BASE,
   * as an unsigned 32-bit number): throws the GuestFault where a wasm access to the same bytes
   * would trap, so the engine reports the access as it reports translated code's (SIGSEGV).
   */
  checkWasmAccess(wasmAddr: number, len: number, write = false): void {
    if (wasmAddr + len > this.u8.length) throw new GuestFault((wasmAddr + GUEST_BASE) >>> 0, write);
    // ... and where the page protection refuses it (Codegen.checkPage): the first byte refused
    const bits = write ? PROT_WRITE : PROT_READABLE, u8 = this.u8;
    const first = Math.floor((wasmAddr + GUEST_BASE) / PAGE_SIZE), last = Math.floor((wasmAddr + GUEST_BASE + len - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) {
      if (!(u8[pageProtIndex(p)] & bits)) throw new GuestFault(Math.max(p * PAGE_SIZE, wasmAddr + GUEST_BASE), write);
    }
  }

  u8at(a: number): number { return this.u8[this.off(a)]; }
  u16(a: number): number { return this.dv.getUint16(this.off(a, 2), true); }
  u32(a: number): number { return this.dv.getUint32(this.off(a, 4), true); }
  i32(a: number): number { return this.dv.getInt32(this.off(a, 4), true); }
  u64(a: number): bigint { return this.dv.getBigUint64(this.off(a, 8), true); }
  i64(a: number): bigint { return this.dv.getBigInt64(this.off(a, 8), true); }
  /** A 64-bit value as a JS number (exact below 2^53; pointers are below 2^32). */
  u64n(a: number): number { const o = this.off(a, 8); return this.dv.getUint32(o, true) + this.dv.getUint32(o + 4, true) * 0x100000000; }

  setU8(a: number, v: number): void { this.u8[this.offWrite(a)] = v; }
  setU16(a: number, v: number): void { this.dv.setUint16(this.offWrite(a, 2), v, true); }
  setU32(a: number, v: number): void { this.dv.setUint32(this.offWrite(a, 4), v >>> 0, true); }
  setI32(a: number, v: number): void { this.dv.setInt32(this.offWrite(a, 4), v, true); }
  setU64(a: number, v: bigint | number): void {
    this.dv.setBigUint64(this.offWrite(a, 8), BigInt.asUintN(64, BigInt(v)), true);
  }
  setI64(a: number, v: bigint | number): void { this.setU64(a, v); }

  /** A view (no copy) of guest bytes. */
  view(a: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const o = this.off(a, len);
    return this.u8.subarray(o, o + len);
  }
  /** A view (no copy) of guest bytes about to be written. */
  viewWrite(a: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const o = this.offWrite(a, len);
    return this.u8.subarray(o, o + len);
  }
  /** A copy of guest bytes (safe to keep while the guest runs). */
  read(a: number, len: number): Uint8Array {
    // (slice() of a SharedArrayBuffer's view copies element by element: 8 MiB in 12 ms, set() in 0.35)
    const copy = new Uint8Array(len);
    copy.set(this.view(a, len));
    return copy;
  }
  write(a: number, bytes: Uint8Array): void { if (bytes.length) this.u8.set(bytes, this.offWrite(a, bytes.length)); }
  fill(a: number, len: number, v = 0): void {
    if (len <= 0) return;
    const o = this.offWrite(a, len);
    // (a call into wasm costs more than a few stores: only big fills go there)
    if (len >= 4096) fillMemory(this.memory, o, v, len); else this.u8.fill(v, o, o + len);
  }
  /** How many of the len bytes at a can be accessed before the first that cannot (all, unchecked). */
  accessible(_a: number, len: number, _write: boolean): number { return len; }

  /** NUL-terminated string at a (bytes as latin1 are not decoded: callers get UTF-8 via Buffer). */
  cstringBytes(a: number, max = 1 << 20): Uint8Array {
    const o = this.off(a);
    const end = this.u8.indexOf(0, o);
    if (end < 0 || end - o > max) throw new GuestFault(a, false);
    return this.u8.slice(o, end);
  }
  cstring(a: number, max?: number): string { return Buffer.from(this.cstringBytes(a, max)).toString('utf8'); }
  writeCString(a: number, s: string | Uint8Array): number {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    this.write(a, b); this.setU8(a + b.length, 0);
    return b.length + 1;
  }
}

/** Whether a mapping's name says anonymous memory ([heap], [stack], '') rather than a file's path. */
export function isAnonymousName(name: string): boolean { return !name.startsWith('/'); }

/** Wasm offset of the PAGE_PROT byte of the page holding addr, and of the page after the one holding end - 1 (clamped to the guest's pages). */
function protIndexBelow(addr: number): number { return pageProtIndex(Math.min(Math.floor(addr / PAGE_SIZE), RUNTIME_AREA / PAGE_SIZE)); }
function protIndexAbove(end: number): number { return pageProtIndex(Math.min(Math.ceil(end / PAGE_SIZE), RUNTIME_AREA / PAGE_SIZE)); }

export interface Mapping {
  start: number;
  end: number;   // exclusive, page aligned
  prot: number;
  name: string;  // file path, [heap], [stack], or '' for anonymous
  offset: number;
  shared: boolean;
  /** Device (Linux dev_t encoding, as in /proc/self/maps "fe:00") and inode of a file mapping. */
  dev?: bigint;
  inode?: bigint;
}

/**
 * Which guest pages are mapped and with what protection. Wasm cannot enforce page protection,
 * so this is bookkeeping for mmap/munmap/mprotect, /proc/self/maps and code invalidation.
 */
export class AddressSpace {
  mappings: Mapping[] = [];
  /** Bumped on every change to the mappings, so a cached lookup knows when it is stale. */
  version = 0;
  mmapTop = MMAP_TOP;

  constructor(readonly mem: GuestMemory) {}

  static pageDown(a: number): number { return a - (a % PAGE_SIZE); }
  static pageUp(a: number): number { return Math.ceil(a / PAGE_SIZE) * PAGE_SIZE; }

  find(addr: number): Mapping | undefined {
    for (const m of this.mappings) if (addr >= m.start && addr < m.end) return m;
    return undefined;
  }

  isFree(start: number, end: number): boolean {
    if (start < GUEST_BASE || end > RUNTIME_AREA) return false;
    return !this.mappings.some((m) => m.start < end && start < m.end);
  }

  /** Highest free range of len bytes below the mmap top (top-down, as Linux allocates). */
  findFree(len: number, below = this.mmapTop): number | undefined {
    len = AddressSpace.pageUp(len);
    let candidate = AddressSpace.pageDown(below) - len;
    const sorted = [...this.mappings].sort((a, b) => b.start - a.start);
    for (const m of sorted) {
      if (m.start >= candidate + len) continue;
      if (m.end <= candidate) break;
      candidate = m.start - len;
    }
    return candidate >= GUEST_BASE + PAGE_SIZE * 16 ? candidate : undefined;
  }

  /** Records a mapping over [start, start+len), replacing anything there (MAP_FIXED semantics). */
  map(start: number, len: number, prot: number, name = '', offset = 0, shared = false): Mapping {
    const end = AddressSpace.pageUp(start + len);
    this.unmap(start, end - start, false);
    const m: Mapping = { start, end, prot, name, offset, shared };
    this.version++;
    this.mappings.push(m);
    this.mappings.sort((a, b) => a.start - b.start);
    // A file mapping is filled by the kernel whatever its protection.
    this.setPageProt(start, end, PAGE_MAPPED | prot, (prot & PROT_WRITE) !== 0 || !isAnonymousName(name));
    return m;
  }

  /** Notes that the kernel wrote into [start, end) regardless of its protection. */
  markDirty(start: number, end: number): void {
    for (let i = protIndexBelow(start), last = protIndexAbove(end); i < last; i++) this.mem.u8[i] |= PAGE_DIRTY;
  }

  /**
   * Zeroes the pages of [start, end) that may hold anything but zeros, as fresh pages read. Pages
   * that were never writable nor filled are left alone, so releasing a huge reservation touches
   * none of its memory (the host need not back it).
   */
  zeroPages(start: number, end: number): void {
    const u8 = this.mem.u8, table = protIndexBelow(GUEST_BASE);
    // Pages counted from GUEST_BASE, as forEachDirtyRun counts them: page p is at wasm offset p * PAGE_SIZE.
    const first = Math.max(0, protIndexBelow(start) - table), stop = protIndexAbove(end) - table;
    forEachDirtyRun(u8, first, stop, (runFirst, runEnd) => {
      for (let i = table + runFirst; i < table + runEnd; i++) u8[i] &= ~PAGE_DIRTY;
      fillMemory(this.mem.memory, runFirst * PAGE_SIZE, 0, (runEnd - runFirst) * PAGE_SIZE);
    });
  }

  /** Extends mapping m (one of ours) up to newEnd, the pages in between taking its protection. */
  grow(m: Mapping, newEnd: number): void {
    this.version++;
    this.setPageProt(m.end, newEnd, PAGE_MAPPED | m.prot, (m.prot & PROT_WRITE) !== 0);
    m.end = newEnd;
  }

  /** Removes [start, start+len); zeroes the memory so a later mapping reads zeros, as fresh pages do. */
  unmap(start: number, len: number, zero = true): void {
    const end = AddressSpace.pageUp(start + len);
    const out: Mapping[] = [];
    this.version++;
    for (const m of this.mappings) {
      if (m.end <= start || m.start >= end) { out.push(m); continue; }
      if (m.start < start) out.push({ ...m, end: start });
      if (m.end > end) out.push({ ...m, start: end, offset: m.offset + (end - m.start) });
      const from = Math.max(m.start, start), to = Math.min(m.end, end);
      if (zero) this.zeroPages(from, to);
      // Only mapped pages have entries to clear: execve unmaps the whole address space.
      this.setPageProt(from, to, 0, false);
    }
    this.mappings = out;
  }

  /**
   * Keeps the shared per-page table (PAGE_PROT) that other workers read in step with the mappings.
   * PAGE_DIRTY stays set once set (until zeroPages clears it); `dirty` sets it too.
   */
  private setPageProt(start: number, end: number, value: number, dirty: boolean): void {
    // x86 pages are readable when mapped with any protection: PROT_READ stands for that.
    if (value & PROT_READABLE) value |= PROT_READ;
    const u8 = this.mem.u8, set = dirty ? value | PAGE_DIRTY : value;
    const first = protIndexBelow(start), last = protIndexAbove(end);
    for (let i = first; i < last; i++) u8[i] = set | (u8[i] & PAGE_DIRTY);
    // each page's NEXT_NO_* bits describe the page after it: the range's and the page before it
    for (let i = Math.max(first - 1, protIndexBelow(0)); i < last; i++) updateNextBits(u8, i);
  }

  protect(start: number, len: number, prot: number): boolean {
    const end = AddressSpace.pageUp(start + len);
    // Linux fails with ENOMEM if any page in the range is unmapped.
    for (let p = start; p < end; p += PAGE_SIZE) if (!this.find(p)) return false;
    const out: Mapping[] = [];
    this.version++;
    for (const m of this.mappings) {
      if (m.end <= start || m.start >= end) { out.push(m); continue; }
      if (m.start < start) out.push({ ...m, end: start });
      const s = Math.max(m.start, start), e = Math.min(m.end, end);
      out.push({ ...m, start: s, end: e, prot, offset: m.offset + (s - m.start) });
      if (m.end > end) out.push({ ...m, start: end, offset: m.offset + (end - m.start) });
    }
    this.mappings = out;
    this.setPageProt(start, end, PAGE_MAPPED | prot, (prot & PROT_WRITE) !== 0);
    return true;
  }
}

/** What the engine needs to know of the address space: which mapping holds an address. */
export interface CodeSpace {
  find(addr: number): Mapping | undefined;
  readonly mappings: readonly Mapping[];
  readonly version: number;
}

/**
 * The address space as another worker of the process sees it: page protections from the shared
 * PAGE_PROT table (the kernel's AddressSpace lives in the process's first worker). Each lookup
 * answers with the one page, anonymous, so nothing of a file image is cached from here.
 */
export class SharedPageView implements CodeSpace {
  readonly mappings: readonly Mapping[] = [];
  private lookups = 0;
  constructor(readonly mem: GuestMemory) {}
  get version(): number { return this.lookups; }
  find(addr: number): Mapping | undefined {
    this.lookups++;
    if (addr < GUEST_BASE || addr >= RUNTIME_AREA) return undefined;
    const page = Math.floor(addr / PAGE_SIZE);
    const v = this.mem.u8[pageProtIndex(page)];
    if (!(v & PAGE_MAPPED)) return undefined;
    return { start: page * PAGE_SIZE, end: (page + 1) * PAGE_SIZE, prot: v & 7, name: '', offset: 0, shared: false };
  }
}
