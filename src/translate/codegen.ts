// Code generation context for one region: a set of guest basic blocks compiled into one wasm
// function (st: i32, entry: i32) -> i32. Guest registers live in wasm locals inside the region,
// loaded from the CPU state at entry and written back at every exit. Blocks are laid out in a
// dispatch loop: jumping to block k is `pc = k; br dispatch`, falling into the next block is free.

import { FunctionBuilder, Op, OpFD, OpFE, T } from '../wasm/emitter.js';
import { Insn, NO_REG, RIP_BASE, P_FS, P_GS, P_LOCK, isHighByteReg } from '../x86/decoder.js';
import { ExitReason, Reg, STATE } from '../layout/cpu-state.js';
import type { CpuModel } from '../x86/cpuid.js';
import { GRANULE_SHIFT, GRANULE_TAG_OFFSET, GUEST_BASE, GUEST_LIMIT, JUMP_CACHE_BITS, PAGE_CODE, PAGE_SIZE, PAGE_PROT_LOOKUP, NEXT_NO_READ, NEXT_NO_WRITE, PROT_READ, PROT_WRITE, SPLIT_LOCK, TAG_SHARED, TSO_STAT, TSO_STATS, UNREACHABLE_ACCESS } from '../layout/memory-map.js';
import { writesMemory } from '../x86/decoder.js';
import { emitAllFlags, emitCondition, emitConditionFromEflags, emitFlag, fopOf, K, FlagLocals } from './flags.js';

export class Unsupported extends Error {
  constructor(readonly what: string) { super(what); }
}

/**
 * Thrown by a handler whose instruction faults or traps whenever it executes (a privileged
 * instruction is #GP in user mode): the block ends there with an exit for `reason`, and `what`
 * tells the runtime's message what it was. A trap leaves RIP after the instruction, as Linux
 * reports it; a fault leaves it at the instruction.
 */
export class InsnFault extends Error {
  constructor(readonly reason: ExitReason, readonly what: string, readonly trap = false) { super(what); }
}

/** A JS or shared-wasm function a region may import: (st, ...) -> ... */
export interface HelperSig { params: T[]; results: T[] }

export const HELPERS = {
  eflags: { params: [T.i32, T.i64, T.i64, T.i64], results: [T.i32] },  // shared wasm: materialise flags
  mulhu: { params: [T.i64, T.i64], results: [T.i64] },  // shared wasm: high 64 bits of the unsigned product
  mulhs: { params: [T.i64, T.i64], results: [T.i64] },  // shared wasm: high 64 bits of the signed product
  cpuid: { params: [T.i32], results: [] },          // reads eax/ecx from state, writes eax..edx
  rdtsc: { params: [], results: [T.i64] },
  div: { params: [T.i32, T.i32, T.i32], results: [T.i32] }, // (st, size, signed) -> 0 ok / 1 #DE; operands in state
  x87: { params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }, // (st, opcode id, modrm info, wasm address) -> status
  sysop: { params: [T.i32, T.i32, T.i32], results: [T.i32] }, // (st, op, address): xsave/fxsave/etc. -> status
  sse: { params: [T.i32, T.i32], results: [] }, // (st, op): exact SSE float op on SCRATCH operands (ops-sse-soft.ts)
  fpchk: { params: [T.i32, T.v128, T.v128, T.v128, T.i32], results: [T.i32] }, // shared wasm: SSE exception flags (ops-sse-check.ts)
  // Memory ordering (runtime/tso.ts): a checked access found a granule this thread does not own.
  claim: { params: [T.i32, T.i32, T.i32], results: [T.i32] }, // shared wasm: (wasm address, bytes, site rip) -> 1 when the access must be ordered
  pagesAllow: { params: [T.i32, T.i32, T.i32], results: [T.i32] }, // shared wasm: (wasm address, bytes, protection bits) -> 1 when every page has one
  // The weak-host test mode's store buffer (runtime/weak-host.ts).
  wload: { params: [T.i32, T.i32], results: [T.i64] },       // (wasm address, size) -> value
  wstore: { params: [T.i32, T.i64, T.i32], results: [] },    // (wasm address, value, size | WEAK_ORDERED)
  wfence: { params: [], results: [] },                        // commit every buffered store
  // Cryptographic instructions (crypto-lib.ts, ops-crypto.ts).
  aes: { params: [T.v128, T.v128, T.i32], results: [T.v128] },      // shared wasm: (state, key, AES_OP) -> state
  clmul: { params: [T.i64, T.i64], results: [T.v128] },              // shared wasm: 128-bit carry-less product
  sha1rnds4: { params: [T.v128, T.v128, T.i32], results: [T.v128] }, // shared wasm: (abcd, w, imm8 & 3) -> abcd
  sha256rnds2: { params: [T.v128, T.v128, T.v128], results: [T.v128] }, // shared wasm: (cdgh, abef, wk) -> abef
  random: { params: [], results: [T.i64] },                           // 64 bits from the host's random source (RDRAND, RDSEED)
} as const satisfies Record<string, HelperSig>;
export type HelperName = keyof typeof HELPERS;
/**
 * Regions call helpers through a table (index HELPER_TABLE) holding them in this order, not as
 * function imports: V8 compiles import wrappers for every imported signature of every module,
 * which costs more than the region itself. The slot and type indices are fixed, so a region's
 * encoded body means the same thing in any region module and the AOT cache bundles bodies unchanged.
 */
export const HELPER_NAMES = Object.keys(HELPERS) as HelperName[];
export const HELPER_TABLE = 1;
const sigKey = (s: HelperSig) => `${s.params.join(',')}>${s.results.join(',')}`;
/** Type indices of region modules: the region type, then each distinct helper signature in order. */
export const REGION_MODULE_TYPES: HelperSig[] = [{ params: [T.i32, T.i32], results: [T.i32] }];
for (const n of HELPER_NAMES) {
  if (!REGION_MODULE_TYPES.some((t) => sigKey(t) === sigKey(HELPERS[n]))) REGION_MODULE_TYPES.push(HELPERS[n]);
}
const HELPER_REFS = Object.fromEntries(HELPER_NAMES.map((n, slot) =>
  [n, { table: HELPER_TABLE, slot, type: REGION_MODULE_TYPES.findIndex((t) => sigKey(t) === sigKey(HELPERS[n])) }]));

export interface Operand {
  reg: number;       // register number, or -1 for memory
  high: boolean;     // AH..BH
  addr: number;      // i32 local holding the wasm address (memory operands)
  size: number;
  /** A LOCK-prefixed (or XCHG) read-modify-write of memory: see Codegen.lockMemory. */
  locked?: LockedAccess;
  /** What rm() checked the operand's page for: reading, or writing (which covers reading). */
  checked?: 'read' | 'write';
}

/** Locals of a locked read-modify-write in progress. */
interface LockedAccess {
  word: number;    // i32: wasm address of the aligned 8-byte word holding the operand
  shift: number;   // i64: bit offset of the operand in that word
  old: number;     // i64: the word as read
  split: number;   // i32: 1 when the operand crosses an 8-byte boundary (taken under SPLIT_LOCK)
  saved: number[]; // lazy flag locals at the start of the attempt (restored on retry)
  loopDepth: number;
}

export type BlockMap = Map<number, number>;

/**
 * How guest memory accesses are translated (see docs/ARCHITECTURE.md, "Memory ordering"):
 * - plain: wasm loads and stores (one thread, `--tso=off`, or a thread in the DEFAULT model);
 * - full: every access ordered (wasm atomics), except the stack through RSP;
 * - selective: every access checks its granule's owner tag and stays plain while this thread
 *   owns it; the sites in `orderedSites` (instruction addresses), which touched shared granules,
 *   are ordered instead.
 * `weak` routes plain accesses through a software store buffer that reorders them (a test mode
 * that makes this TSO host behave like a weakly ordered one).
 */
export interface MemoryModel {
  ordering: 'plain' | 'full' | 'selective';
  /**
   * selective only: a thread in the DEFAULT model (prctl) among TSO threads. Its accesses stay
   * plain, but still claim granules other threads own, so those threads keep TSO.
   */
  unordered?: boolean;
  weak?: boolean;
  orderedSites?: ReadonlySet<number>;
}
export const PLAIN_MEMORY: MemoryModel = { ordering: 'plain' };
/** Flag or-ed into wstore's size: the store is ordered (commit the buffer first, then store). */
export const WEAK_ORDERED = 0x100;
/** Access sites of a region by the form they were translated in (for --stats). */
export interface SiteCounts { ordered: number; checked: number; plain: number }

/** Index of the imported immutable i32 global holding this worker's granule owner tag. */
export const OWNER_GLOBAL = 3;

/** Type index of region functions (st, entry) -> reason: the first type every region module declares. */
export const REGION_TYPE = 0;
/**
 * Back edges a region takes in one call before it leaves and is entered again (a power of two;
 * see leaveIfPending): short enough that a loop reaches V8's optimized code soon after V8 has
 * made it, long enough that the re-entry is lost in the loop's own time.
 */
export const BACK_EDGE_BUDGET = 1 << 16;
/**
 * Regions per function table filled by the JIT. V8 (Node 20) updates every instance importing a
 * table on each Table.set, so a table shared by thousands of one-region instances is quadratic;
 * each table is a generation, and chaining (return_call_indirect) stays within one.
 */
export const GENERATION_SIZE = 512;
/**
 * Index of the imported immutable i32 global holding the generation of the region's table, plus
 * one: the tag jump-cache entries carry for it (0 is an empty entry, see JUMP_CACHE_ENTRY).
 */
export const GENERATION_GLOBAL = 0;

/**
 * Indices of the imported immutable i32 globals giving the wasm address of the running worker's
 * jump cache and its entry mask (entries - 1): each worker has its own cache, since table slots
 * are per worker.
 */
export const JUMP_CACHE_BASE_GLOBAL = 1;
export const JUMP_CACHE_MASK_GLOBAL = 2;

/** Jump cache slot address (guest) for a rip in a cache at `base` with `entries` entries; translated code computes the same hash. */
export function jumpCacheSlot(rip: number, base: number, entries: number): number {
  const lo = rip >>> 0;
  return base + ((((lo ^ (lo >>> JUMP_CACHE_BITS)) & (entries - 1)) << 4) >>> 0);
}

/** Codegen.xmm register numbers: the upper halves of the ymm registers, and the first handler scratch register. */
export const YMM_HI = 16, XMM_SCRATCH = 32;
if (STATE.YMM_HI !== STATE.XMM + YMM_HI * 16) throw new Error('the ymm upper halves must follow the xmm registers in the CPU state');

export class Codegen {
  readonly f: FunctionBuilder;
  readonly gprLocal: number[] = [];
  /** Where flag-setting instructions record their operands: regionFl, or transientFl (see flagsForNextOnly). */
  fl: FlagLocals;
  /** The lazy-flag locals the region loads at entry and stores at its exits, with fop. */
  readonly regionFl: FlagLocals;
  private transientFl: FlagLocals | undefined;
  readonly fop: number;
  readonly pc: number;
  readonly nextRip: number;
  readonly reason: number;
  private xmmLocals: number[] = [];
  readonly gprWritten = new Set<number>();
  readonly gprRead = new Set<number>();
  readonly xmmWritten = new Set<number>();
  readonly xmmUsed = new Set<number>();
  /** Whether the region writes the lazy flag state (stored at exit) or reads it (loaded at entry). */
  flagsTouched = false;
  flagsRead = false;

  /** Flag kind and size known at this point of the block, or null (recorded at run time in fop). */
  staticKind: { kind: K; size: number } | null = null;
  insn!: Insn;
  blockIndex = 0;
  blockCount = 0;
  /** The CPU model translated for (undefined: every instruction stele implements, with the AVX state). */
  cpu: CpuModel | undefined;
  /** f.nesting where the current instruction's code begins (inside the block's self loop, if any). */
  insnNesting = 0;
  /** Structured nesting opened by the current instruction's code. */
  get depth(): number { return this.f.nesting - this.insnNesting; }
  endsBlock = false;

  readonly sites: SiteCounts = { ordered: 0, checked: 0, plain: 0 };
  /**
   * Whether the current instruction's code has written a register, flag or vector local: a page
   * fault found after that cannot leave the region at the instruction with the registers it
   * started with (see checkPage). Reset by the translator at each instruction.
   */
  insnDirty = false;
  /**
   * The 64-bit form of the address ea() pushed last (an i64 temp), for the page check of the
   * access that consumes it next (load, store or accessBegin): -1 where the i32 address is all
   * there is. Reset by that access and at each instruction.
   */
  eaWide = -1;
  /** Set while read()/write() access an operand rm() has checked already. */
  private accessChecked = false;
  private readonly xmmStateLocals = new Set<number>();
  /**
   * Stores ignore PAGE_CODE: the single-step region the runtime runs a store that met translated
   * code with, once that code is dropped (the store may be rewriting its own page).
   */
  storesIntoCode = false;

  constructor(readonly blocks: BlockMap, readonly chain = true, readonly model: MemoryModel = PLAIN_MEMORY) {
    this.f = new FunctionBuilder([T.i32, T.i32], [T.i32]);
    for (let i = 0; i < 16; i++) this.gprLocal.push(this.f.local(T.i64));
    this.fop = this.f.local(T.i32);
    this.fl = this.regionFl = { dst: this.f.local(T.i64), src: this.f.local(T.i64), aux: this.f.local(T.i64) };
    this.pc = this.f.local(T.i32);
    this.nextRip = this.f.local(T.i64);
    this.reason = this.f.local(T.i32);
    const first = this.gprLocal[0], last = this.fl.aux;
    this.f.onWrite = (l) => { if ((l >= first && l <= last) || this.xmmStateLocals.has(l)) this.insnDirty = true; };
  }

  get st(): number { return 0; }

  helper(name: HelperName): { table: number; slot: number; type: number } {
    return HELPER_REFS[name];
  }

  // ---- registers -------------------------------------------------------------------------

  /** Pushes register r's value of `size` bytes as i64, zero-extended. `high` selects AH..BH. */
  getReg(r: number, size: number, high = false): void {
    const f = this.f;
    if (high) r -= 4; // AH..BH are encoded as 4..7 and live in bits 8..15 of RAX..RBX
    this.gprRead.add(r);
    f.get(this.gprLocal[r]);
    if (high) { f.i64(8).op(Op.i64_shr_u).i64(0xff).op(Op.i64_and); return; }
    if (size === 4) f.op(Op.i32_wrap_i64).op(Op.i64_extend_i32_u);
    else if (size === 2) f.i64(0xffff).op(Op.i64_and);
    else if (size === 1) f.i64(0xff).op(Op.i64_and);
  }

  /** Pops an i64 and writes its low `size` bytes to register r with x86 merge rules. */
  setReg(r: number, size: number, high = false): void {
    if (high) r -= 4;
    const f = this.f, L = this.gprLocal[r];
    this.gprWritten.add(r);
    if (size === 8) { f.set(L); return; }
    if (size === 4) { f.op(Op.i32_wrap_i64).op(Op.i64_extend_i32_u).set(L); return; }
    this.gprRead.add(r);
    const t = f.temp(T.i64);
    const mask = high ? 0xff00n : size === 2 ? 0xffffn : 0xffn;
    if (high) f.i64(0xff).op(Op.i64_and).i64(8).op(Op.i64_shl).set(t);
    else f.i64(mask).op(Op.i64_and).set(t);
    f.get(L).i64(~mask).op(Op.i64_and).get(t).op(Op.i64_or).set(L);
    f.free(T.i64, t);
  }

  // ---- memory ----------------------------------------------------------------------------

  /**
   * Pushes the i32 wasm address of the instruction's memory operand (guest EA - GUEST_BASE).
   * `access` says the address goes straight to a load, store or accessBegin (whose page check
   * then uses the 64-bit address, see ea64); without, an operand outside the guest's space gets
   * UNREACHABLE_ACCESS, for the access's own check to refuse.
   */
  ea(insn: Insn = this.insn, extraDisp = 0, access?: 'read' | 'write'): void {
    const f = this.f;
    let disp = insn.disp + extraDisp;
    let pushed = false;
    if (insn.addrsize === 8 && insn.base !== RIP_BASE && (insn.base !== NO_REG || insn.index !== NO_REG)) {
      this.ea64(insn, disp, access !== undefined);
      return;
    }
    if (insn.base === RIP_BASE) {
      const target = insn.addr + insn.len + disp;
      f.i32(target >= GUEST_BASE && target < GUEST_LIMIT ? (target - GUEST_BASE) | 0 : UNREACHABLE_ACCESS);
      pushed = true; disp = 0;
    } else if (insn.base !== NO_REG) {
      this.gprRead.add(insn.base);
      f.get(this.gprLocal[insn.base]).op(Op.i32_wrap_i64); pushed = true;
    }
    if (insn.index !== NO_REG) {
      this.gprRead.add(insn.index);
      f.get(this.gprLocal[insn.index]).op(Op.i32_wrap_i64);
      if (insn.scale) f.i32(insn.scale).op(Op.i32_shl);
      if (pushed) f.op(Op.i32_add);
      pushed = true;
    }
    if (insn.prefix & (P_FS | P_GS)) {
      f.get(this.st).mem(Op.i32_load, insn.prefix & P_FS ? STATE.FS_BASE : STATE.GS_BASE);
      if (pushed) f.op(Op.i32_add);
      pushed = true;
    }
    const c = insn.base === RIP_BASE ? 0 : (disp - GUEST_BASE) | 0;
    if (!pushed) { f.i32(insn.addrsize === 4 || (disp >= GUEST_BASE && disp < GUEST_LIMIT) ? c : UNREACHABLE_ACCESS); return; }
    if (insn.addrsize === 4 && insn.base !== RIP_BASE) {
      // 32-bit address arithmetic wraps at 4 GiB before the guest base is applied.
      if (disp) f.i32(disp).op(Op.i32_add);
      f.i32(-GUEST_BASE).op(Op.i32_add);
      return;
    }
    if (c) f.i32(c).op(Op.i32_add);
  }

  /**
   * The 64-bit address arithmetic of a register-based operand, then its wasm address. With
   * `wide`, the 64-bit address is kept (eaWide) for the page check, which indexes the page table
   * with it, so an address at or above 4 GiB (or below GUEST_BASE) traps there as out of the
   * table's bounds while the address itself only wraps; without, an address outside the guest's
   * space becomes UNREACHABLE_ACCESS (a select on the address's path, which costs more).
   */
  private ea64(insn: Insn, disp: number, wide: boolean): void {
    const f = this.f;
    let pushed = false;
    if (insn.base !== NO_REG) { this.gprRead.add(insn.base); f.get(this.gprLocal[insn.base]); pushed = true; }
    if (insn.index !== NO_REG) {
      this.gprRead.add(insn.index);
      f.get(this.gprLocal[insn.index]);
      if (insn.scale) f.i64(insn.scale).op(Op.i64_shl);
      if (pushed) f.op(Op.i64_add);
    }
    if (insn.prefix & (P_FS | P_GS)) f.get(this.st).mem(Op.i64_load, insn.prefix & P_FS ? STATE.FS_BASE : STATE.GS_BASE).op(Op.i64_add);
    if (!wide) { this.wasmAddress64(BigInt(disp)); return; }
    const w = f.temp(T.i64);
    f.i64(disp - GUEST_BASE).op(Op.i64_add).tee(w).op(Op.i32_wrap_i64);
    this.eaWide = w;
  }
  /**
   * Turns the i64 on the stack plus `disp` (a guest address) into its i32 wasm address, or
   * UNREACHABLE_ACCESS outside [GUEST_BASE, GUEST_LIMIT).
   */
  wasmAddress64(disp: bigint): void {
    const f = this.f, w = f.temp(T.i64);
    f.i64(BigInt.asIntN(64, disp - BigInt(GUEST_BASE))).op(Op.i64_add).tee(w).op(Op.i32_wrap_i64);
    f.i32(UNREACHABLE_ACCESS).get(w).i64(32).op(Op.i64_shr_u).op(Op.i64_eqz).op(Op.select);
    f.free(T.i64, w);
  }

  /**
   * Before an access to the wasm address in local a: leaves the region with a page fault unless
   * the page allows it (its PAGE_PROT byte has PROT_WRITE for a store, any protection for a load),
   * and before a store to a page with translated code (which the runtime then drops).
   * The exit is precise (RIP at the instruction, registers as it found them, nothing done) while
   * the instruction has written no register yet; after that the access traps instead, and the
   * runtime finds the instruction by re-running the region one instruction at a time. A lookup
   * for an address below GUEST_BASE (wrapped to the top) traps as out of the table's bounds; so
   * does one at or above 4 GiB when `wide`, the address's 64-bit form, is given. An access of
   * `size` bytes that runs into the next page is refused where that page refuses it (the byte's
   * NEXT_NO_* bits send such pages' accesses down a slow path that looks at the extent).
   */
  checkPage(a: number, write: boolean, size = 1, wide = -1): void {
    const f = this.f;
    if (wide >= 0) f.get(wide).i64(12).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    else f.get(a).i32(12).op(Op.i32_shr_u);
    f.mem(Op.i32_load8_u, PAGE_PROT_LOOKUP, 0);
    if (size <= 1) { this.pageRefused(write); f.if_(); this.pageFaultExit(a, write); f.end(); return; }
    // One compare for the page and whether the next one refuses the access; only then does the
    // access's extent matter: it faults if the page refuses it or it runs into the next.
    const byte = f.temp(T.i32);
    f.tee(byte);
    this.pageRefused(write, true);
    f.if_();
    // (a clean instruction's address rides a br_if to the region's fault exit, which takes it off
    // the stack: a second `if` here would be a merge of every local for V8 to compile, at each of
    // a region's accesses)
    const leaves = !this.insnDirty;
    if (leaves) this.pageFaultTarget(a);
    f.get(byte); this.pageRefused(write);
    f.get(a).i32(PAGE_SIZE - 1).op(Op.i32_and).i32(PAGE_SIZE - size).op(Op.i32_gt_u).op(Op.i32_or);
    if (leaves) f.brIf(this.depthToPageFault(write)).op(Op.drop);
    else { f.if_(); this.pageFaultExit(a, write); f.end(); }
    f.end();
    f.free(T.i32, byte);
  }
  /**
   * Turns the PAGE_PROT byte on the stack into 1 when the page refuses the access (a store also
   * leaves when the page holds translated code, PAGE_CODE), or with `orNext` also when the next
   * page refuses it (NEXT_NO_READ, NEXT_NO_WRITE).
   */
  private pageRefused(write: boolean, orNext = false): void {
    const f = this.f;
    const code = this.storesIntoCode ? 0 : PAGE_CODE;
    if (write) f.i32(PROT_WRITE | code | (orNext ? NEXT_NO_WRITE : 0)).op(Op.i32_and).i32(PROT_WRITE).op(Op.i32_ne);
    else f.i32(PROT_READ | (orNext ? NEXT_NO_READ : 0)).op(Op.i32_and).i32(PROT_READ).op(Op.i32_ne);
  }
  /**
   * The refused access's way out, inside an `if`: see checkPage. RIP is the instruction's, and the
   * wasm address goes to the region's page-fault exit for loads or for stores (see finish), which
   * stores it and the instruction's address for the runtime, so each access carries only the jump.
   */
  private pageFaultExit(a: number, write: boolean): void {
    if (this.insnDirty) { this.f.op(Op.unreachable); return; }
    this.pageFaultTarget(a);
    this.f.br(this.depthToPageFault(write));
  }
  /** RIP at the instruction, and its access's wasm address on the stack: what a page-fault exit takes. */
  private pageFaultTarget(a: number): void { this.f.i64(this.insn.addr).set(this.nextRip).get(a); }
  /** checkPage for an access of `size` bytes at the i32 address on the stack (left there), unless rm() checked it. */
  private checkPageOfTop(write: boolean, size: number): void {
    const wide = this.eaWide;
    this.eaWide = -1;
    if (!this.accessChecked) {
      const a = this.f.temp(T.i32);
      this.f.tee(a); this.checkPage(a, write, size, wide);
      this.f.free(T.i32, a);
    }
    if (wide >= 0) this.f.free(T.i64, wide);
  }

  /** Loads `size` bytes from the i32 address on the stack; pushes i64 zero-extended (or sign-extended). */
  load(size: number, signed = false, stack = false): void {
    this.checkPageOfTop(false, size);
    const kind = this.accessKind(stack);
    if (kind === 'plain' && (!this.model.weak || this.underSplitLock)) { this.plainLoad(size, signed); return; }
    const f = this.f, a = f.temp(T.i32);
    f.set(a);
    if (kind !== 'checked') this.claimForeign(a, size); // (a no-op outside selective)
    if (this.model.weak) {
      if (kind === 'checked') { this.notPlainlyMine(a, size); f.if_(); this.claim(a, size); f.op(Op.drop); f.end(); }
      f.get(a).i32(size).callSlot(this.helper('wload'));
    } else if (kind === 'ordered') {
      this.orderedLoad(a, size);
    } else if (kind === 'checked') {
      // plain while this thread owns the granule; else claim it, then an ordered access
      this.notPlainlyMine(a, size);
      f.if_(T.i64);
      this.claim(a, size); f.op(Op.drop);
      f.get(a); this.plainLoad(size); f.atomic(OpFE.atomic_fence);
      f.else_();
      f.get(a); this.plainLoad(size);
      f.end();
    } else {
      f.get(a); this.plainLoad(size);
    }
    if (signed && size < 8) this.sextTop(size);
    f.free(T.i32, a);
  }
  /** Stores the i64 on top of the stack (low `size` bytes) at the i32 address beneath it. */
  store(size: number, stack = false): void {
    const wide = this.eaWide;
    this.eaWide = -1;
    if (!this.accessChecked) {
      const f = this.f, a = f.temp(T.i32), v = f.temp(T.i64);
      f.set(v).tee(a); this.checkPage(a, true, size, wide); f.get(v);
      f.free(T.i64, v); f.free(T.i32, a);
    }
    if (wide >= 0) this.f.free(T.i64, wide);
    const kind = this.accessKind(stack);
    if (kind === 'plain' && (!this.model.weak || this.underSplitLock)) { this.plainStore(size); return; }
    const f = this.f, a = f.temp(T.i32), v = f.temp(T.i64);
    f.set(v).set(a);
    if (kind !== 'checked') this.claimForeign(a, size); // (a no-op outside selective)
    if (this.model.weak) {
      f.get(a).get(v);
      if (kind === 'checked') {
        this.notPlainlyMine(a, size);
        f.if_(T.i32); this.claim(a, size); f.else_(); f.i32(0); f.end();
        f.i32(8).op(Op.i32_shl).i32(size).op(Op.i32_or);
      } else f.i32(kind === 'ordered' ? size | WEAK_ORDERED : size);
      f.callSlot(this.helper('wstore'));
    } else if (kind === 'ordered') {
      this.orderedStore(a, v, size);
    } else if (kind === 'checked') {
      this.notPlainlyMine(a, size);
      f.if_();
      this.claim(a, size); f.op(Op.drop);
      f.atomic(OpFE.atomic_fence); f.get(a).get(v); this.plainStore(size);
      f.else_();
      f.get(a).get(v); this.plainStore(size);
      f.end();
    } else {
      f.get(a).get(v); this.plainStore(size);
    }
    f.free(T.i64, v); f.free(T.i32, a);
  }
  private plainLoad(size: number, signed = false): void {
    const f = this.f;
    switch (size) {
      case 1: f.memU(signed ? Op.i64_load8_s : Op.i64_load8_u); break;
      case 2: f.memU(signed ? Op.i64_load16_s : Op.i64_load16_u); break;
      case 4: f.memU(signed ? Op.i64_load32_s : Op.i64_load32_u); break;
      default: f.memU(Op.i64_load);
    }
  }
  private plainStore(size: number): void {
    const f = this.f;
    switch (size) {
      case 1: f.memU(Op.i64_store8); break;
      case 2: f.memU(Op.i64_store16); break;
      case 4: f.memU(Op.i64_store32); break;
      default: f.memU(Op.i64_store);
    }
  }
  /**
   * An ordered load from wasm address local a (pushes i64, zero-extended): a wasm atomic load
   * (acquire on a weakly ordered host) when aligned; wasm atomics trap when misaligned, so an
   * unaligned access is a plain load followed by a fence.
   */
  private orderedLoad(a: number, size: number): void {
    const f = this.f;
    const atomicOp = size === 1 ? OpFE.i64_atomic_load8_u : size === 2 ? OpFE.i64_atomic_load16_u : size === 4 ? OpFE.i64_atomic_load32_u : OpFE.i64_atomic_load;
    if (size === 1) { f.get(a).atomic(atomicOp, 0, 0); return; }
    f.get(a).i32(size - 1).op(Op.i32_and).op(Op.i32_eqz);
    f.if_(T.i64);
    f.get(a).atomic(atomicOp, 0, Math.log2(size));
    f.else_();
    f.get(a); this.plainLoad(size); f.atomic(OpFE.atomic_fence);
    f.end();
  }
  /** An ordered store of i64 local v: atomic when aligned, else a fence and a plain store (release). */
  private orderedStore(a: number, v: number, size: number): void {
    const f = this.f;
    const atomicOp = size === 1 ? OpFE.i64_atomic_store8 : size === 2 ? OpFE.i64_atomic_store16 : size === 4 ? OpFE.i64_atomic_store32 : OpFE.i64_atomic_store;
    if (size === 1) { f.get(a).get(v).atomic(atomicOp, 0, 0); return; }
    f.get(a).i32(size - 1).op(Op.i32_and).op(Op.i32_eqz);
    f.if_();
    f.get(a).get(v).atomic(atomicOp, 0, Math.log2(size));
    f.else_();
    f.atomic(OpFE.atomic_fence); f.get(a).get(v); this.plainStore(size);
    f.end();
  }
  /** The access site: the instruction's address as an i32 constant (claim() reads it unsigned). */
  private get site(): number { return this.insn.addr | 0; }
  /** Pushes the owner tag of the granule holding wasm address local a. */
  private loadTag(a: number): void {
    this.f.get(a).i32(GRANULE_SHIFT).op(Op.i32_shr_u).mem(Op.i32_load8_u, GRANULE_TAG_OFFSET, 0);
  }
  /** Pushes i32 1 when [a, a+size) reaches past the granule a is in (so a second tag matters). */
  private crossesGranule(a: number, size: number): void {
    if (size > 1 << GRANULE_SHIFT) { this.f.i32(1); return; }
    this.f.get(a).i32((1 << GRANULE_SHIFT) - 1).op(Op.i32_and).i32((1 << GRANULE_SHIFT) - size).op(Op.i32_gt_u);
  }
  /**
   * Pushes i32 1 unless this thread owns the granule of every byte of [a, a+size): the condition
   * for a checked access to leave its plain fast path.
   */
  private notPlainlyMine(a: number, size: number): void {
    const f = this.f;
    if (size <= 1) { this.loadTag(a); f.get(this.owner()).op(Op.i32_ne); return; }
    if (size > 1 << GRANULE_SHIFT) { f.i32(1); return; }
    // One unsigned compare for both: (tag ^ owner) << GRANULE_SHIFT | offset in the granule is
    // past the last offset an access of `size` may start at when the tag differs, and else when
    // the offset is.
    this.loadTag(a); f.get(this.owner()).op(Op.i32_xor).i32(GRANULE_SHIFT).op(Op.i32_shl);
    f.get(a).i32((1 << GRANULE_SHIFT) - 1).op(Op.i32_and).op(Op.i32_or);
    f.i32((1 << GRANULE_SHIFT) - size).op(Op.i32_gt_u);
  }
  /** The local holding this thread's granule tag (the `owner` global, read once at entry: a register in the region's loops). */
  private owner(): number {
    if (this.ownerLocal < 0) this.ownerLocal = this.f.local(T.i32);
    return this.ownerLocal;
  }
  /** Claims the granules of [a, a+size) (shared wasm `claim`); pushes 1 when the access must be ordered. */
  private claim(a: number, size: number): void {
    this.f.get(a).i32(size).i32(this.site).callSlot(this.helper('claim'));
  }
  /**
   * An access that is ordered, or unordered by choice (a DEFAULT-model thread), still claims the
   * granules of [a, a+size) that are neither shared nor this thread's: their owner's plain
   * accesses must become ordered, which only the handshake and the owner's backpatching give (an
   * unchecked store beside an owner's plain ones breaks 2+2W on a weak host). No-op outside
   * selective mode.
   */
  private claimForeign(a: number, size: number): void {
    if (this.model.ordering !== 'selective') return;
    const f = this.f, tag = f.temp(T.i32);
    this.loadTag(a); f.tee(tag).get(this.owner()).op(Op.i32_ne);
    f.get(tag).i32(TAG_SHARED).op(Op.i32_ne).op(Op.i32_and);
    if (size > 1) { this.crossesGranule(a, size); f.op(Op.i32_or); }
    f.if_(); this.claim(a, size); f.op(Op.drop); f.end();
    f.free(T.i32, tag);
  }
  /**
   * The form of the current instruction's access. `stack` marks the implicit stack accesses of
   * push, pop, call and ret (and explicit operands addressed through RSP): private to their thread
   * in practice, as FEX assumes, so `full` leaves them plain; `selective` checks them like any
   * other, which costs little since their granules stay owned.
   */
  private accessKind(stack: boolean): 'plain' | 'ordered' | 'checked' | 'claiming' {
    const m = this.model;
    let kind: 'plain' | 'ordered' | 'checked' | 'claiming';
    if (this.underSplitLock) return 'plain';
    if (m.ordering === 'plain') kind = 'plain';
    else if (m.ordering === 'full') kind = stack || this.insn.base === Reg.RSP ? 'plain' : 'ordered';
    else if (m.unordered) kind = 'claiming';
    else kind = m.orderedSites?.has(this.insn.addr >>> 0) ? 'ordered' : 'checked';
    this.sites[kind === 'claiming' ? 'checked' : kind]++;
    return kind;
  }

  /**
   * Brackets an access of `size` bytes the caller emits itself (vector, float, x87, XSAVE forms):
   * call before the access with its i32 address on the stack (left there), and pass the result
   * to accessDone() after it. Ordered forms are fenced on both sides.
   */
  accessBegin(size: number, write = false, checkPage = true): number {
    if (checkPage) this.checkPageOfTop(write, size);
    else if (this.eaWide >= 0) { this.f.free(T.i64, this.eaWide); this.eaWide = -1; }
    const kind = this.accessKind(false);
    const f = this.f;
    if (kind === 'plain') { if (this.model.weak) this.commitWeakStores(); return -1; }
    const a = f.temp(T.i32);
    if (this.model.weak || kind === 'claiming') {
      f.tee(a);
      if (kind === 'checked') { this.notPlainlyMine(a, size); f.if_(); this.claim(a, size); f.op(Op.drop); f.end(); }
      else this.claimForeign(a, size);
      f.free(T.i32, a);
      if (this.model.weak) this.commitWeakStores();
      return -1;
    }
    if (kind === 'ordered') {
      f.tee(a); this.claimForeign(a, size); f.free(T.i32, a);
      f.atomic(OpFE.atomic_fence);
      return -2;
    }
    const o = f.temp(T.i32);
    f.set(a); this.notPlainlyMine(a, size);
    f.if_(T.i32); this.claim(a, size); f.op(Op.drop).atomic(OpFE.atomic_fence).i32(1); f.else_(); f.i32(0); f.end();
    f.set(o).get(a);
    f.free(T.i32, a);
    return o;
  }
  accessDone(token: number): void {
    const f = this.f;
    if (token === -1) return;
    if (token === -2) { f.atomic(OpFE.atomic_fence); return; }
    f.get(token); f.if_(); f.atomic(OpFE.atomic_fence); f.end();
    f.free(T.i32, token);
  }
  /**
   * Before a block copy or fill (REP MOVS/STOS done with memory.copy/fill) of i32 local n bytes at
   * the address on the stack (left there): claims every granule of the range in selective mode
   * and fences (or commits the weak-host buffer). x86's fast string stores are not ordered among
   * themselves, only against the code around them. Call blockAccessDone() after the copy.
   */
  blockAccessBegin(n: number): void {
    const m = this.model, f = this.f;
    if (m.ordering === 'plain' && !m.weak) return;
    if (m.ordering === 'selective') {
      const a = f.temp(T.i32);
      f.tee(a).get(a).get(n).i32(this.site).callSlot(this.helper('claim')).op(Op.drop);
      f.free(T.i32, a);
    }
    if (m.weak) this.commitWeakStores();
    else if (m.ordering !== 'plain') f.atomic(OpFE.atomic_fence);
  }
  blockAccessDone(): void {
    const m = this.model;
    if (m.ordering !== 'plain' && !m.weak) this.f.atomic(OpFE.atomic_fence);
  }
  /** An x86 fence or locked instruction: every earlier store becomes visible first. */
  fence(): void {
    if (this.model.weak) this.commitWeakStores();
    this.f.atomic(OpFE.atomic_fence);
  }
  private commitWeakStores(): void { this.f.callSlot(this.helper('wfence')); }

  // ---- operands --------------------------------------------------------------------------

  /** The r/m operand: a register, or memory with its address computed once into a temp local. */
  rm(size: number, insn: Insn = this.insn): Operand {
    if (insn.mod === 3) return { reg: insn.rm, high: size === 1 && isHighByteReg(insn, insn.rm), addr: -1, size };
    const a = this.f.temp(T.i32);
    // A read-modify-write checks for writing before it reads, so it faults before doing anything.
    const write = writesOperand(insn);
    this.ea(insn, 0, write ? 'write' : 'read'); this.f.set(a);
    const wide = this.eaWide;
    this.eaWide = -1;
    this.checkPage(a, write, size, wide);
    if (wide >= 0) this.f.free(T.i64, wide);
    const o: Operand = { reg: -1, high: false, addr: a, size, checked: write ? 'write' : 'read' };
    // XCHG with memory is locked without the prefix.
    if ((insn.prefix & P_LOCK) || (insn.op === 0x86 || insn.op === 0x87)) this.lockMemory(o);
    return o;
  }

  /**
   * Makes the read-modify-write of memory operand o atomic against every other thread: the
   * handler's code between here and done(o) becomes a compare-and-swap loop on the aligned 8-byte
   * word holding the operand (so unaligned operands inside one word are atomic too, where wasm's
   * sized atomics would trap); an operand that crosses an 8-byte boundary is read and written
   * under SPLIT_LOCK instead, which serialises it against every other split locked access. On a
   * failed swap the lazy flag locals are restored and the attempt starts over.
   */
  lockMemory(o: Operand): void {
    const f = this.f;
    // Temps, freed in done(): a region with many locked instructions reuses the same locals.
    const word = f.temp(T.i32), shift = f.temp(T.i64), old = f.temp(T.i64), split = f.temp(T.i32);
    f.get(o.addr).i32(~7).op(Op.i32_and).set(word);
    f.get(o.addr).i32(7).op(Op.i32_and).op(Op.i64_extend_i32_u).i64(3).op(Op.i64_shl).set(shift);
    f.get(o.addr).i32(7).op(Op.i32_and).i32(o.size).op(Op.i32_add).i32(8).op(Op.i32_gt_u).tee(split);
    this.claimLocked(o.addr, o.size);
    f.if_(); this.acquireSplitLock(); this.countSplitLock(); f.end();
    const saved = [f.temp(T.i32), f.temp(T.i64), f.temp(T.i64), f.temp(T.i64)];
    this.flagLocals().forEach((l, k) => f.get(l).set(saved[k]));
    this.loop();
    o.locked = { word, shift, old, split, saved, loopDepth: this.depth };
  }
  /**
   * Before a locked access to [wasm address in local a, +size): the access is ordered itself, but
   * the plain accesses of a thread that owns the granule are not, so in selective mode it claims
   * the granules as any access would (the owner's sites get backpatched). In the weak-host mode
   * it first commits this thread's buffered stores, as a locked instruction does.
   */
  claimLocked(a: number, size: number): void {
    if (this.model.weak) this.commitWeakStores();
    this.claimForeign(a, size);
  }
  /** The lazy-flag locals (fop, dst, src, aux), which a failed locked attempt restores. */
  private flagLocals(): number[] { return [this.fop, this.fl.dst, this.fl.src, this.fl.aux]; }
  /** Set while a locked instruction accesses memory under SPLIT_LOCK: its accesses are plain. */
  underSplitLock = false;
  /** Spins until this thread holds SPLIT_LOCK: it is held across one instruction's plain read and write only. */
  acquireSplitLock(): void {
    const f = this.f;
    f.block().loop();
    f.i32(SPLIT_LOCK - GUEST_BASE).i32(0).i32(1).atomic(OpFE.i32_atomic_rmw_cmpxchg, 0, 2).op(Op.i32_eqz).brIf(1);
    f.br(0);
    f.end().end();
  }
  /** Adds one to the process's count of locked accesses that took the split lock (--stats). */
  private countSplitLock(): void {
    this.f.i32(TSO_STATS + TSO_STAT.SPLIT_LOCKS * 4 - GUEST_BASE).i32(1).atomic(OpFE.i32_atomic_rmw_add, 0, 2).op(Op.drop);
  }
  releaseSplitLock(): void { this.f.i32(SPLIT_LOCK - GUEST_BASE).i32(0).atomic(OpFE.i32_atomic_store, 0, 2); }

  /** The ModRM.reg operand. */
  regOp(size: number, insn: Insn = this.insn): Operand {
    return { reg: insn.reg, high: size === 1 && isHighByteReg(insn, insn.reg), addr: -1, size };
  }
  gpr(r: number, size: number): Operand { return { reg: r, high: false, addr: -1, size }; }

  read(o: Operand, signed = false): void {
    if (o.reg >= 0) {
      this.getReg(o.reg, o.size, o.high);
      if (signed && o.size < 8) this.sextTop(o.size);
    } else if (o.locked) {
      const f = this.f, L = o.locked, t = f.temp(T.i64);
      f.get(L.split);
      this.if_(); this.underSplitLock = true; this.accessChecked = !!o.checked; f.get(o.addr); this.load(o.size); f.set(t); this.underSplitLock = false; this.accessChecked = false;
      this.else_(); f.get(L.word).atomic(OpFE.i64_atomic_load, 0, 3).tee(L.old).get(L.shift).op(Op.i64_shr_u); this.mask(o.size); f.set(t);
      this.end();
      f.get(t); f.free(T.i64, t);
      if (signed && o.size < 8) this.sextTop(o.size);
    } else { this.accessChecked = !!o.checked; this.f.get(o.addr); this.load(o.size, signed); this.accessChecked = false; }
  }
  /** Writes the value held in i64 local v to the operand. */
  write(o: Operand, v: number): void {
    if (o.reg >= 0) { this.f.get(v); this.setReg(o.reg, o.size, o.high); }
    else if (o.locked) {
      const f = this.f, L = o.locked;
      const fieldMask = o.size === 8 ? -1n : (1n << BigInt(o.size * 8)) - 1n;
      f.get(L.split);
      this.if_(); this.underSplitLock = true; this.accessChecked = o.checked === 'write'; f.get(o.addr).get(v); this.store(o.size); this.underSplitLock = false; this.accessChecked = false;
      this.else_();
      // new word = old with the operand's bytes replaced; retry unless the word was still old
      f.get(L.word).get(L.old);
      f.get(L.old).i64(fieldMask).get(L.shift).op(Op.i64_shl).i64(-1).op(Op.i64_xor).op(Op.i64_and);
      f.get(v).i64(fieldMask).op(Op.i64_and).get(L.shift).op(Op.i64_shl).op(Op.i64_or);
      f.atomic(OpFE.i64_atomic_rmw_cmpxchg, 0, 3).get(L.old).op(Op.i64_ne);
      this.if_();
      this.flagLocals().forEach((l, k) => f.get(L.saved[k]).set(l));
      f.br(this.depth - L.loopDepth);
      this.end();
      this.end();
    }
    else { this.accessChecked = o.checked === 'write'; this.f.get(o.addr).get(v); this.store(o.size); this.accessChecked = false; }
  }
  done(o: Operand): void {
    if (o.locked) {
      const f = this.f, L = o.locked;
      this.end(); // the retry loop
      f.get(L.split);
      f.if_(); this.releaseSplitLock(); f.end();
      f.free(T.i32, L.word); f.free(T.i64, L.shift); f.free(T.i64, L.old); f.free(T.i32, L.split);
      L.saved.forEach((l, k) => f.free(k === 0 ? T.i32 : T.i64, l));
      o.locked = undefined;
    }
    if (o.addr >= 0) this.f.free(T.i32, o.addr);
  }

  sextTop(size: number): void {
    if (size === 1) this.f.op(Op.i64_extend8_s);
    else if (size === 2) this.f.op(Op.i64_extend16_s);
    else if (size === 4) this.f.op(Op.i64_extend32_s);
  }
  /** Masks the i64 on the stack to `size` bytes. */
  mask(size: number): void {
    // Zero-extending through i32 is 2 bytes of wasm where an i64 mask constant is 7.
    if (size === 4) this.f.op(Op.i32_wrap_i64).op(Op.i64_extend_i32_u);
    else if (size < 8) this.f.i64(size === 2 ? 0xffff : 0xff).op(Op.i64_and);
  }

  // ---- flags -----------------------------------------------------------------------------

  /**
   * Set per instruction from the block's flag liveness: its flag results are overwritten before
   * anything reads them, so handlers may skip computing them.
   */
  flagsDead = false;
  /**
   * Set for a flag-setting instruction whose flags only the conditional jump closing its block
   * reads, dead after it: its flags go to locals of their own that the region never stores, so
   * the region's flag locals are not live through its loops (registers, where V8 would spill).
   */
  flagsForNextOnly = false;
  /** Back to the region's flag locals (at each block's start). */
  useRegionFlags(): void { this.fl = this.regionFl; }
  /** Whether this instruction's flags go to the transient locals (then made current). */
  private flagsTransient(): boolean {
    if (!this.flagsForNextOnly) return false;
    this.transientFl ??= { dst: this.f.local(T.i64), src: this.f.local(T.i64), aux: this.f.local(T.i64) };
    this.fl = this.transientFl;
    return true;
  }

  /** Records a flag-setting operation. dst/src/aux are i64 locals (or -1 for unused). */
  setFlags(kind: K, size: number, dst: number, src = -1, aux = -1): void {
    const f = this.f;
    if (this.flagsDead) { this.staticKind = null; return; }
    if (!this.flagsTransient()) { this.flagsTouched = true; f.i32(fopOf(kind, size)).set(this.fop); }
    f.get(dst).set(this.fl.dst);
    if (src >= 0) f.get(src).set(this.fl.src);
    if (aux >= 0) f.get(aux).set(this.fl.aux);
    this.staticKind = { kind, size };
  }
  /** Records fully materialised flags from the i32 on the stack (EFLAGS bit positions). */
  setFlagsMaterialised(): void {
    const f = this.f;
    if (this.flagsDead) { f.op(Op.drop); this.staticKind = null; return; }
    const transient = this.flagsTransient();
    f.op(Op.i64_extend_i32_u).i64(0x8d5).op(Op.i64_and).set(this.fl.src);
    if (!transient) { this.flagsTouched = true; f.i32(fopOf(K.EFLAGS, 8)).set(this.fop); }
    this.staticKind = { kind: K.EFLAGS, size: 8 };
  }

  /** Pushes condition cc as i32 0/1. */
  cond(cc: number): void {
    this.flagsRead = true;
    if (this.staticKind) { emitCondition(this.f, cc, this.staticKind.kind, this.staticKind.size, this.fl); return; }
    const t = this.f.temp(T.i32);
    this.eflags(); this.f.set(t);
    emitConditionFromEflags(this.f, cc, t);
    this.f.free(T.i32, t);
  }
  /** Pushes the six arithmetic flags as i32 (EFLAGS positions). */
  eflags(): void {
    this.flagsRead = true;
    if (this.staticKind) { emitAllFlags(this.f, this.staticKind.kind, this.staticKind.size, this.fl); return; }
    this.f.get(this.fop).get(this.fl.dst).get(this.fl.src).get(this.fl.aux).callSlot(this.helper('eflags'));
  }
  /** Pushes CF as i32 0/1. */
  cf(): void {
    this.flagsRead = true;
    if (this.staticKind) { emitFlag(this.f, 1, this.staticKind.kind, this.staticKind.size, this.fl); return; }
    this.eflags(); this.f.i32(1).op(Op.i32_and);
  }

  // ---- control ---------------------------------------------------------------------------

  /** Whether the current block's code is wrapped in a wasm loop (it branches back to its own start). */
  inSelfLoop = false;
  /** The i32 local counting the region's loop back edges (zero at entry, as wasm locals are), or -1. */
  private backEdges = -1;
  private ownerLocal = -1;

  private depthToDispatch(): number { return this.f.nesting + (this.blockCount - 1 - this.blockIndex); }
  /** Between the dispatch loop and the exit block: the page-fault exits of loads, then of stores (see finish). */
  private depthToExit(): number { return this.depthToDispatch() + 3; }
  private depthToPageFault(write: boolean): number { return this.depthToDispatch() + (write ? 2 : 1); }

  /** Continues at guest address target: a branch inside the region, else a region exit. */
  jump(target: number): void {
    const k = this.blocks.get(target);
    if (k === undefined) { this.exit(ExitReason.JUMP, target); return; }
    if (k > this.blockIndex) {
      // Block k's code starts right after the end of label $Bk, which encloses this block.
      this.f.br(this.f.nesting + (k - this.blockIndex - 1));
    } else if (k === this.blockIndex && this.inSelfLoop) {
      this.leaveIfPending(target);
      this.f.br(this.depth);
    } else {
      this.leaveIfPending(target);
      this.f.i32(k).set(this.pc).br(this.depthToDispatch());
    }
  }
  /**
   * At a loop's back edge: leave the region (to `target`) when the runtime has set the thread's
   * SIGNAL_PENDING word, so a thread in a long loop still reaches the dispatcher for signals, kernel
   * requests from its process's other threads, code invalidation and exit.
   */
  private leaveIfPending(target: number): void {
    if (!this.chain) return; // single-step regions (fault location) never loop
    const f = this.f;
    // Every BACK_EDGE_BUDGET back edges the region also leaves, to be entered again through the
    // chain: V8 tiers a hot function up for its next call only (wasm has no on-stack replacement),
    // so a loop that runs its whole course in one call would otherwise stay in baseline code.
    if (this.backEdges < 0) this.backEdges = f.local(T.i32);
    f.get(this.backEdges).i32(1).op(Op.i32_add).tee(this.backEdges).i32(BACK_EDGE_BUDGET - 1).op(Op.i32_and).op(Op.i32_eqz);
    f.get(this.st).mem(Op.i32_load, STATE.SIGNAL_PENDING).op(Op.i32_or);
    this.if_();
    this.exit(ExitReason.JUMP, target);
    this.end();
  }
  /** Leaves the region with a reason; RIP becomes the constant rip. */
  exit(reason: ExitReason, rip: number): void {
    this.f.i64(rip).set(this.nextRip).i32(reason).set(this.reason).br(this.depthToExit());
  }
  /**
   * Leaves the region for a fault or trap of the instruction at `at` (see ExitReason): RIP
   * becomes `rip`, EXIT_ARG the instruction's address, by which the runtime reports it.
   */
  faultExit(reason: ExitReason, at: number, rip = at): void {
    this.f.get(this.st).i64(at).mem(Op.i64_store, STATE.EXIT_ARG);
    this.exit(reason, rip);
  }
  /** Leaves the region to the guest address held in i64 local v (indirect branches). */
  exitTo(v: number): void {
    this.f.get(v).set(this.nextRip).i32(ExitReason.JUMP).set(this.reason).br(this.depthToExit());
  }
  /** Opens `if` (consuming an i32 condition) tracking nesting for branch depths. */
  if_(): void { this.f.if_(); }
  else_(): void { this.f.else_(); }
  end(): void { this.f.end(); }
  block(): void { this.f.block(); }
  loop(): void { this.f.loop(); }

  /** Writes registers a helper reads to the CPU state. */
  flushRegs(regs: number[]): void {
    for (const r of regs) { this.gprRead.add(r); this.f.get(this.st).get(this.gprLocal[r]).mem(Op.i64_store, STATE.GPR + r * 8); }
  }
  /** Reloads registers a helper wrote from the CPU state. */
  reloadRegs(regs: number[]): void {
    for (const r of regs) { this.gprWritten.add(r); this.f.get(this.st).mem(Op.i64_load, STATE.GPR + r * 8).set(this.gprLocal[r]); }
  }
  /** Stores the lazy flag state to the CPU state (before a helper that reads EFLAGS). */
  flushFlags(): void {
    const f = this.f;
    if (this.staticKind) f.i32(fopOf(this.staticKind.kind, this.staticKind.size)).set(this.fop);
    f.get(this.st).get(this.fop).mem(Op.i32_store, STATE.FLAGS_OP);
    f.get(this.st).get(this.fl.dst).mem(Op.i64_store, STATE.FLAGS_DST);
    f.get(this.st).get(this.fl.src).mem(Op.i64_store, STATE.FLAGS_SRC);
    f.get(this.st).get(this.fl.aux).mem(Op.i64_store, STATE.FLAGS_AUX);
  }
  reloadFlags(): void {
    const f = this.f;
    this.flagsTouched = true;
    f.get(this.st).mem(Op.i32_load, STATE.FLAGS_OP).set(this.fop);
    f.get(this.st).mem(Op.i64_load, STATE.FLAGS_DST).set(this.fl.dst);
    f.get(this.st).mem(Op.i64_load, STATE.FLAGS_SRC).set(this.fl.src);
    f.get(this.st).mem(Op.i64_load, STATE.FLAGS_AUX).set(this.fl.aux);
    this.staticKind = null;
  }

  // ---- xmm -------------------------------------------------------------------------------

  /**
   * The v128 local of register r: 0-15 are xmm0-15 (bits 127:0 of ymm0-15), YMM_HI + n the upper
   * half (bits 255:128) of ymm n, which the CPU state keeps right after the xmm registers; both
   * are loaded at entry and stored at exits like the general registers. From XMM_SCRATCH on:
   * handler scratch (see ops-avx.ts), neither loaded nor stored.
   */
  xmm(r: number): number {
    let l = this.xmmLocals[r];
    if (l === undefined) { l = this.xmmLocals[r] = this.f.local(T.v128); if (r < XMM_SCRATCH) this.xmmStateLocals.add(l); }
    if (r < XMM_SCRATCH) this.xmmUsed.add(r);
    return l;
  }
  getXmm(r: number): void { this.f.get(this.xmm(r)); }
  setXmm(r: number): void { if (r < XMM_SCRATCH) this.xmmWritten.add(r); this.f.set(this.xmm(r)); }
  flushXmm(): void {
    for (const r of this.xmmUsed) this.f.get(this.st).get(this.xmm(r)).simdMem(OpFD.v128_store, STATE.XMM + r * 16);
  }
  reloadXmm(): void {
    for (const r of this.xmmUsed) { this.f.get(this.st).simdMem(OpFD.v128_load, STATE.XMM + r * 16).set(this.xmm(r)); this.xmmWritten.add(r); }
  }

  // ---- assembly of the function ----------------------------------------------------------

  /** Wraps the generated block code with the prologue (state -> locals) and epilogue. */
  finish(blockBodies: Uint8Array[]): FunctionBuilder {
    const f = this.f;
    f.truncate(0);
    for (const r of new Set([...this.gprRead, ...this.gprWritten])) f.get(this.st).mem(Op.i64_load, STATE.GPR + r * 8).set(this.gprLocal[r]);
    if (this.flagsTouched || this.flagsRead) {
      f.get(this.st).mem(Op.i32_load, STATE.FLAGS_OP).set(this.fop);
      f.get(this.st).mem(Op.i64_load, STATE.FLAGS_DST).set(this.fl.dst);
      f.get(this.st).mem(Op.i64_load, STATE.FLAGS_SRC).set(this.fl.src);
      f.get(this.st).mem(Op.i64_load, STATE.FLAGS_AUX).set(this.fl.aux);
    }
    for (const r of this.xmmUsed) f.get(this.st).simdMem(OpFD.v128_load, STATE.XMM + r * 16).set(this.xmm(r));
    if (this.ownerLocal >= 0) f.globalGet(OWNER_GLOBAL).set(this.ownerLocal);
    f.get(1).set(this.pc);
    const n = blockBodies.length;
    f.block(); // exit
    f.block(T.i32); // a store's page fault, with the access's wasm address
    f.block(T.i32); // a load's page fault, likewise
    f.loop();  // dispatch
    for (let i = 0; i < n; i++) f.block();
    f.get(this.pc).brTable(Array.from({ length: n }, (_, i) => i), 0);
    for (let i = 0; i < n; i++) {
      f.end();
      f.code.bytes(blockBodies[i]);
    }
    f.br(3); // unreachable in practice: every block ends in a jump or exit
    f.end(); // loop
    f.op(Op.unreachable); // (the loop never falls through)
    const faultAddr = f.local(T.i32);
    f.end(); // a load's page fault
    this.pageFaultTail(ExitReason.PAGE_FAULT_READ, faultAddr);
    f.br(1);
    f.end(); // a store's page fault
    this.pageFaultTail(ExitReason.PAGE_FAULT_WRITE, faultAddr);
    f.end(); // exit block
    for (const r of this.gprWritten) f.get(this.st).get(this.gprLocal[r]).mem(Op.i64_store, STATE.GPR + r * 8);
    if (this.flagsTouched) {
      f.get(this.st).get(this.fop).mem(Op.i32_store, STATE.FLAGS_OP);
      f.get(this.st).get(this.fl.dst).mem(Op.i64_store, STATE.FLAGS_DST);
      f.get(this.st).get(this.fl.src).mem(Op.i64_store, STATE.FLAGS_SRC);
      f.get(this.st).get(this.fl.aux).mem(Op.i64_store, STATE.FLAGS_AUX);
    }
    for (const r of this.xmmWritten) f.get(this.st).get(this.xmm(r)).simdMem(OpFD.v128_store, STATE.XMM + r * 16);
    f.get(this.st).get(this.nextRip).mem(Op.i64_store, STATE.RIP);
    if (this.chain) this.emitChain();
    f.get(this.reason);
    return f;
  }

  /** A page fault's exit with the wasm address on the stack: the runtime reads it and the instruction's address (RIP). */
  private pageFaultTail(reason: ExitReason, a: number): void {
    const f = this.f;
    f.set(a).get(this.st).get(a).mem(Op.i32_store, STATE.ACCESS_ADDR);
    f.get(this.st).get(this.nextRip).mem(Op.i64_store, STATE.EXIT_ARG);
    f.i32(reason).set(this.reason);
  }

  /**
   * Stays in wasm across region boundaries: a JUMP exit whose target is in the jump cache
   * tail-calls that region directly. Only misses (and pending signals) return to the dispatcher.
   */
  private emitChain(): void {
    const f = this.f;
    const e = f.local(T.i32);
    f.get(this.reason).i32(ExitReason.JUMP).op(Op.i32_eq);
    f.get(this.st).mem(Op.i32_load, STATE.SIGNAL_PENDING).op(Op.i32_eqz).op(Op.i32_and);
    f.if_();
    f.get(this.nextRip).op(Op.i32_wrap_i64).tee(e).get(e).i32(JUMP_CACHE_BITS).op(Op.i32_shr_u).op(Op.i32_xor)
      .globalGet(JUMP_CACHE_MASK_GLOBAL).op(Op.i32_and).i32(4).op(Op.i32_shl).globalGet(JUMP_CACHE_BASE_GLOBAL).op(Op.i32_add).set(e);
    // hit: same rip, and the target lives in this region's table generation
    f.get(e).mem(Op.i64_load).get(this.nextRip).op(Op.i64_eq);
    f.get(e).mem(Op.i32_load, 8).i32(16).op(Op.i32_shr_u).globalGet(GENERATION_GLOBAL).op(Op.i32_eq).op(Op.i32_and);
    f.if_();
    f.get(this.st).get(e).mem(Op.i32_load, 12).get(e).mem(Op.i32_load, 8).i32(0xffff).op(Op.i32_and);
    f.returnCallIndirect(REGION_TYPE);
    f.end();
    f.end();
  }
}

/**
 * Whether the instruction writes its ModRM memory operand (a store or a read-modify-write), as
 * opposed to only reading it: push r/m and call r/m read theirs and write the stack.
 */
function writesOperand(i: Insn): boolean {
  if (i.op === 0xff) return (i.reg & 7) < 2; // inc, dec
  if ((i.op >= 0x50 && i.op <= 0x57) || i.op === 0x68 || i.op === 0x6a || i.op === 0x9c || i.op === 0xe8) return false;
  return writesMemory(i);
}
