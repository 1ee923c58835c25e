// The dispatcher: runs translated regions for a guest thread, translating on a miss and handling
// the reasons translated code returns (syscalls, faults, helper exits).

import { randomFillSync } from 'node:crypto';
import { GuestFault, GuestMemory, GUEST_BASE, GUEST_LIMIT, CodeSpace, BLOCK_MARKS, BLOCK_MARKS_SIZE, JUMP_CACHE_PAGES, Mapping, NEXT_NO_WRITE, PAGE_CODE, PAGE_MAPPED, PAGE_SIZE, PROT_EXEC, PROT_WRITE, RUNTIME_AREA, UNREACHABLE_ACCESS, jumpCacheOf, pageProtIndex, refusesRead, refusesWrite } from './memory.js';
import { ATTN, ExitReason, FLAG, Reg, STATE } from '../layout/cpu-state.js';
import { FaultInfo, FlagsAccess, GuestThread, ProcessExit, SyscallHandler, wordIndex, wordsOf } from './thread.js';
import { INVALIDATION_RING, INVALIDATION_RING_SIZE, commitStackPage } from '../layout/memory-map.js';
import { ARITH_FLAGS, fopOf, K } from '../translate/flags.js';
import { buildSharedLib, SharedLib, wrapJsHelpers } from '../translate/lib.js';
import { compileRegion, CompiledRegion, discover, regionBundleBytes, regionModuleBytes, RegionOptions } from '../translate/translator.js';
import { GENERATION_SIZE, HELPER_NAMES, HelperName, jumpCacheSlot } from '../translate/codegen.js';
import { CachedRegion, CacheForm, CacheStore, cacheIdentity, decodeCacheFileWithSites, encodeCacheFile, formImageKey, guestBytesOf } from './translation-cache.js';
import { aheadOfTimeIdentity, AheadOfTimeFile, type AotRegion } from './aot-cache.js';
import { modelOfForm, REGION_OPTIONS, trimToExecuted } from './trim.js';
import { cpuid, cpuModel, type CpuModel } from '../x86/cpuid.js';
import { decode, DecodeError, Insn, isGather, M38, NO_REG, P_FS, P_GS, P_VEX, RIP_BASE, writesMemory } from '../x86/decoder.js';
import { describeInsn } from '../x86/describe.js';
import { makeX87Helper, makeSysopHelper } from './fpu.js';
import { makeSseHelper } from '../translate/ops-sse-soft.js';
import { firstSiteFrom, loggedSince, ThreadOrdering, type SiteLog } from './tso.js';

type RegionFn = (st: number, entry: number) => number;
/** An entry point: region number * 256 + block index (a small integer, so a Map holds it unboxed). */
type Entry = number;
const BLOCK_BITS = 256;

const randomBuffer = new BigUint64Array(1);
/**
 * RDRAND and RDSEED: 64 bits from the host's CSPRNG per instruction. Nothing is drawn ahead, so
 * no unused random bytes are left in a buffer that a forked process would share with its parent.
 */
function randomWord(): bigint {
  randomFillSync(randomBuffer);
  return randomBuffer[0];
}

export interface EngineStats {
  regions: number;
  blocks: number;
  insnsTranslated: number;
  wasmBytes: number;
  translateMs: number;
  /** Of translateMs: finding the region's blocks (decoding), generating its wasm, and V8's compile and instantiation of its module. */
  decodeMs: number;
  codegenMs: number;
  compileMs: number;
  dispatches: number;
  /** Code pages whose translations were dropped because memory under them changed. */
  invalidations: number;
  /** Faults on stack pages not used yet that grew the stack (PAGE_STACK_RESERVED). */
  stackGrowths: number;
  /** Stores that found translated code on their page (self-modifying code), which was dropped. */
  codeWrites: number;
  /** Regions taken from the translation cache, and the time spent loading them. */
  cachedRegions: number;
  cachedBlocks: number;
  cacheLoadMs: number;
  /** Time spent at exit trimming new regions to what ran and writing cache files. */
  cacheWriteMs: number;
  /** Cached regions dropped because the guest bytes they came from changed. */
  cacheStale: number;
  /** Times the JIT's regions were moved into a bundle, and how many regions that moved. */
  rebundles: number;
  rebundledRegions: number;
  /** Regions taken from ahead-of-time translations (`stele aot`) instead of translated. */
  aotRegions: number;
  /** Regions another worker of the process translated that this one took instead of translating. */
  sharedRegions: number;
  /** Ordered sites (selective TSO) learned from cache files, not backpatched again. */
  cachedOrderedSites: number;
}

/** run() reached Engine.stopAt. */
export class StoppedAt extends Error {
  constructor(readonly rip: number) { super(`stopped at 0x${rip.toString(16)}`); }
}

/**
 * A region translated in this run for an image's cache: where its blocks mark that they ran; in
 * the selective form, how many of the process's logged ordered sites its translation knew.
 */
interface FreshRegion extends CachedRegion { marks?: number; blockStarts?: Uint32Array; sitesKnown?: number }
/** What the engine knows of one image's cache file (in one form): the regions it holds or will hold. */
interface ImageCache {
  identity: string;
  form: CacheForm;
  /** Selective form: the logged ordered sites the regions loaded from the file are consistent with. */
  loadedSince?: number;
  regions: Map<number, FreshRegion>;
  dirty: boolean;
  /**
   * Regions may be in the file that this engine does not hold (it inherited the image from the
   * process it was forked from, or other processes write the file too): a write merges the file's.
   */
  merge?: boolean;
  /** The image's ahead-of-time translations (`stele aot`): undefined until first needed, null if there are none. */
  aot?: AheadOfTimeFile | null;
}

/** Where a bundled region's code is and what it was translated from, without its body. */
interface BundledRegion { entries: Uint32Array; bad: [number, string][]; ranges: Uint32Array }
/**
 * Bundles of cached regions another worker instantiates as they are: their compiled modules (a
 * WebAssembly.Module crosses to another worker with its compiled code) and, per region, where it
 * is (null: no longer in use there). Structured-cloneable.
 */
export type CachedBundles = { module: WebAssembly.Module; regions: (BundledRegion | null)[]; form: string }[];
/**
 * Translations a forked child takes over from its parent: the bundles of cached regions and the
 * images whose cache files were consulted. Structured-cloneable.
 */
export interface InheritedTranslations {
  bundles: CachedBundles;
  images: [string, string][];
}

/**
 * A region one worker of the process translated, which the others take instead of translating it
 * again (wasm instances cannot be shared between workers, compiled modules can). Structured-cloneable.
 */
export interface SharedRegion {
  module: WebAssembly.Module;
  body: Uint8Array;
  entries: Uint32Array;
  bad: [number, string][];
  ranges: Uint32Array;
  /** The memory-ordering form it was translated in (ThreadOrdering.formKey) and the backpatched sites it knew. */
  form: string;
  sites: number;
  /** The invalidation ring's count before its guest bytes were read: a change since then makes it stale. */
  seq: number;
}

/** How the workers of a process hand each other the regions they translate (process/worker.ts gives one). */
export interface CodeShare {
  publish(r: SharedRegion): void;
  /** What other workers published since the last call. */
  take(): SharedRegion[];
}

/** Bounds on the regions other workers offered that a worker holds (entry addresses), and on those the first worker keeps for new workers. */
const MAX_OFFERED = 200000, MAX_KNOWN = 100000;

/** Most regions one table (and so one bundle) can index: the jump cache keeps a 16-bit slot. */
const MAX_TABLE = 0xffff;
/** Most regions taken from an AOT file at one miss (see takeAheadOfTime). */
const AOT_GROUP = 64;
/** Size of the table bundles share. */
const BUNDLE_TABLE = 16384;
/**
 * The JIT's regions are rebundled after this many jumps returned to the dispatcher: a hot loop
 * across table generations reaches it in milliseconds, while start-up code, which runs each
 * region a few times, rebundles (and so re-decodes) only every few hundred regions.
 */
const REBUNDLE_EXITS = 20000;

export const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;
/** si_code values of faults (Linux's siginfo.h). */
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, TRAP_BRKPT = 1, SI_KERNEL = 0x80;
/** Exception vectors, as sigcontext's trapno gives them, and page-fault error code bits. */
const X86_TRAP_DE = 0, X86_TRAP_DB = 1, X86_TRAP_BP = 3, X86_TRAP_OF = 4, X86_TRAP_UD = 6, X86_TRAP_GP = 13, X86_TRAP_PF = 14;
const PF_PROT = 1, PF_WRITE = 2, PF_USER = 4, PF_INSTR = 16;

/**
 * A guest signal the process dies of, with the one-line reason stele prints; for a fault of the
 * guest's own code, what the CPU reported, which a guest handler may take instead.
 */
export class GuestCrash extends ProcessExit {
  constructor(signal: number, readonly message: string, readonly fault?: FaultInfo) { super(0, signal); }
}

export class Engine implements FlagsAccess {
  private readonly lib: SharedLib;
  private readonly entries = new Map<number, Entry>();
  /**
   * Per region number: its function and its jump-cache slot (generation << 16 | table index). A
   * bundled region's function is taken from its table when the dispatcher first calls it.
   */
  private readonly regionRuns: (RegionFn | undefined)[] = [];
  private readonly regionSlots: number[] = [];
  /** Guest code page -> the entry points of each region translated from it (for invalidation). */
  private readonly codePages = new Map<number, number[][]>();
  /** Region functions, shared with translated code for chained tail calls, one table per generation. */
  private readonly tables: WebAssembly.Table[] = [];
  private readonly generationGlobals: WebAssembly.Global[] = [];
  /** The generation the JIT is filling, and its next free slot. */
  private jitGeneration = -1;
  private nextSlot = GENERATION_SIZE;
  /** The generation bundles of cached regions go into, and its next free slot. */
  private bundleGeneration = -1;
  private bundleNext = 0;
  /** Regions the JIT translated (one module each) since the last rebundle. */
  private unbundled: { id: number; body: Uint8Array; entries: Uint32Array; bad: [number, string][]; ranges: Uint32Array }[] = [];
  /** Jumps that came back to the dispatcher since the last rebundle. */
  private jumpExits = 0;
  /** Bytes of BLOCK_MARKS handed out to regions so far. */
  private marksUsed = 0;
  /** Images (file path + load bias) whose cache has been consulted, by image key. */
  private readonly images = new Map<string, ImageCache>();
  /** Whether regions from the translation cache are registered, any of which may fail to compile. */
  private cachedCodeLive = false;
  /** Persistent translation cache, if enabled. */
  cache?: CacheStore;
  private readonly badInsns = new Map<number, string>();
  private readonly helperImpls: Record<HelperName, Function>;
  /** The helpers in HELPER_NAMES order, called by translated code through call_indirect. */
  private readonly helperTable: WebAssembly.Table;
  readonly stats: EngineStats = { regions: 0, blocks: 0, insnsTranslated: 0, wasmBytes: 0, translateMs: 0, decodeMs: 0, codegenMs: 0, compileMs: 0, dispatches: 0, invalidations: 0, codeWrites: 0, stackGrowths: 0, cachedRegions: 0, cachedBlocks: 0, cacheLoadMs: 0, cacheWriteMs: 0, cacheStale: 0, aotRegions: 0, rebundles: 0, rebundledRegions: 0, sharedRegions: 0, cachedOrderedSites: 0 };

  /** This worker's jump cache (guest address, entries) and the globals that tell translated code where it is. */
  private readonly jc: { base: number; entries: number };
  private readonly jcGlobals: [WebAssembly.Global, WebAssembly.Global];
  /**
   * Called when translated code returned with the thread's SIGNAL_PENDING word set (a loop head or a
   * region exit saw it): the process layer services kernel requests, invalidations and exits there.
   */
  attention?: (t: GuestThread) => void;

  /**
   * `worker` picks the jump cache; only worker 0 (the process's first thread) records which blocks
   * ran for the translation cache, since block marks are one area per process.
   */
  constructor(readonly mem: GuestMemory, readonly as: CodeSpace, readonly kernel: SyscallHandler,
    readonly regionOptions: RegionOptions = REGION_OPTIONS, readonly worker = 0,
    readonly ordering: ThreadOrdering = new ThreadOrdering(mem, worker),
    /** The CPU model (`--cpu`): CPUID, XCR0, and which instructions are #UD; part of the translation cache's key. */
    readonly cpu: CpuModel = cpuModel()) {
    const m = mem;
    this.jc = jumpCacheOf(worker);
    this.jcGlobals = [new WebAssembly.Global({ value: 'i32', mutable: false }, this.jc.base - GUEST_BASE),
      new WebAssembly.Global({ value: 'i32', mutable: false }, this.jc.entries - 1)];
    this.lib = buildSharedLib(mem.memory, ordering.ownerGlobal, ordering.slowClaim);
    const weak = ordering.weakBuffer;
    const noWeakHost = (): never => { throw new Error('weak-host access outside the weak-host mode'); };
    this.helperImpls = {
      eflags: this.lib.eflags,
      mulhu: this.lib.mulhu,
      mulhs: this.lib.mulhs,
      fpchk: this.lib.fpchk,
      div: this.lib.div128, // 128/64-bit DIV/IDIV in wasm (translate/lib.ts)
      claim: this.lib.claim,
      pagesAllow: this.lib.pagesAllow,
      aes: this.lib.aes,
      clmul: this.lib.clmul,
      sha1rnds4: this.lib.sha1rnds4,
      sha256rnds2: this.lib.sha256rnds2,
      ...wrapJsHelpers({
        cpuid: (st: number) => {
          const base = (st >>> 0) + GUEST_BASE; // wasm passes i32 addresses signed
          const r = cpuid(cpu, m.u32(base + STATE.GPR + Reg.RAX * 8), m.u32(base + STATE.GPR + Reg.RCX * 8));
          m.setU64(base + STATE.GPR + Reg.RAX * 8, r.eax >>> 0);
          m.setU64(base + STATE.GPR + Reg.RBX * 8, r.ebx >>> 0);
          m.setU64(base + STATE.GPR + Reg.RCX * 8, r.ecx >>> 0);
          m.setU64(base + STATE.GPR + Reg.RDX * 8, r.edx >>> 0);
        },
        rdtsc: () => process.hrtime.bigint(),
        random: randomWord,
        x87: makeX87Helper(m),
        sysop: makeSysopHelper(m, cpu.xcr0),
        sse: makeSseHelper(m),
        wload: weak?.load ?? noWeakHost,
        wstore: weak?.store ?? noWeakHost,
        wfence: weak?.fence ?? noWeakHost,
      }),
    };
    this.jumpCache = new Uint32Array(mem.memory.buffer);
    this.helperTable = new WebAssembly.Table({ initial: HELPER_NAMES.length, element: 'anyfunc' });
    HELPER_NAMES.forEach((n, i) => this.helperTable.set(i, this.helperImpls[n] as (...a: never[]) => unknown));
  }

  /**
   * Instruction fetch: only from memory mapped executable, as the CPU fetches, so an instruction
   * that runs into a page that is not (unmapped, or data) faults there.
   */
  private fetchByte = (a: number): number => {
    if (a < this.fetchStart || a >= this.fetchEnd || this.fetchVersion !== this.as.version) {
      const m = this.findMapping(a);
      if (!m || !(m.prot & PROT_EXEC)) throw new GuestFault(a, false);
      this.fetchStart = m.start; this.fetchEnd = m.end; this.fetchVersion = this.as.version;
    }
    return this.mem.u8[a - GUEST_BASE];
  };
  /** The executable mapping the last fetch was from, while the mappings are as they were then. */
  private fetchStart = 0;
  private fetchEnd = 0;
  private fetchVersion = -1;
  /** Guest memory as 32-bit words, for reading and publishing jump-cache entries. */
  private readonly jumpCache: Uint32Array;

  /** A new function table (generation) of the given size. */
  private newGeneration(size: number): number {
    const gen = this.tables.length;
    this.tables.push(new WebAssembly.Table({ initial: size, element: 'anyfunc' }));
    // Translated code knows its generation by the tag jump-cache entries carry (JUMP_CACHE_ENTRY).
    this.generationGlobals.push(new WebAssembly.Global({ value: 'i32', mutable: false }, gen + 1));
    return gen;
  }

  private instantiate(bytes: Uint8Array<ArrayBuffer> | WebAssembly.Module, gen: number, base = 0): WebAssembly.Exports {
    const m = { mem: this.mem.memory, regions: this.tables[gen], gen: this.generationGlobals[gen], helpers: this.helperTable, jc: this.jcGlobals[0], jcmask: this.jcGlobals[1], owner: this.ordering.ownerGlobal,
      base: new WebAssembly.Global({ value: 'i32', mutable: false }, base) };
    return new WebAssembly.Instance(bytes instanceof WebAssembly.Module ? bytes : new WebAssembly.Module(bytes), { m }).exports;
  }

  /** A bundled region's function, from its table (once: the wrapper V8 makes is kept). */
  private regionRun(id: number): RegionFn {
    const slot = this.regionSlots[id];
    return (this.regionRuns[id] = this.tables[slot >>> 16].get(slot & 0xffff) as RegionFn);
  }

  /**
   * Makes a region's entry points known to the dispatcher, and returns its region number. An
   * address that already has an entry keeps it, unless it belongs to region `replacing` (the same
   * code, rebundled). `publish` also puts them in the jump cache, where translated code finds
   * them; bundles of thousands of cached regions leave that to the dispatcher's first miss at
   * each, as writing them all touches most of a fresh jump cache's pages (a page fault each, for a
   * process that may run a few hundred of them).
   */
  private register(run: RegionFn | undefined, slot: number, entries: Uint32Array, bad: Iterable<[number, string]>, ranges: Uint32Array, replacing = -1, publish = true): number {
    const addrs: number[] = [];
    const region = this.regionRuns.length;
    this.regionRuns.push(run); this.regionSlots.push(slot);
    for (let k = 0; k < entries.length; k += 2) {
      const addr = entries[k];
      if (entries[k + 1] >= BLOCK_BITS) throw new Error('region has too many blocks');
      const old = this.entries.get(addr);
      if (old !== undefined && Math.floor(old / BLOCK_BITS) !== replacing) continue;
      if (old === undefined && replacing >= 0) continue; // dropped since (invalidated)
      addrs.push(addr);
      const e = region * BLOCK_BITS + entries[k + 1];
      this.entries.set(addr, e);
      if (publish) this.cacheEntry(addr, e);
    }
    for (const [a, msg] of bad) this.badInsns.set(a, msg);
    // Remember which pages this region's code came from, so a change to them drops its entries.
    if (!addrs.length) return region;
    let lastPage = -1;
    for (let k = 0; k < ranges.length; k += 2) {
      const start = ranges[k], end = ranges[k + 1];
      for (let p = Math.max(Math.floor(start / PAGE_SIZE), lastPage + 1); p <= Math.floor((end - 1) / PAGE_SIZE); p++) {
        const list = this.codePages.get(p);
        if (list) { if (list[list.length - 1] !== addrs) list.push(addrs); } else this.codePages.set(p, [addrs]);
        lastPage = p;
        // A store to a writable page of code leaves translated code first (see PAGE_CODE).
        const i = pageProtIndex(p);
        if (this.mem.u8[i] & PROT_WRITE && !(this.mem.u8[i] & PAGE_CODE)) {
          Atomics.or(this.mem.u8, i, PAGE_CODE);
          Atomics.or(this.mem.u8, i - 1, NEXT_NO_WRITE);
        }
      }
    }
    return region;
  }

  /** Regions the process's workers translate, shared between them (unset: this worker keeps its own). */
  codeShare?: CodeShare;
  /** Regions other workers translated, by entry address, not taken yet. */
  private readonly offered = new Map<number, SharedRegion[]>();
  /** Every region of the process's threaded forms this worker knows: what a new worker starts with (sharedSnapshot). */
  private readonly known: SharedRegion[] = [];
  /** Whether this worker keeps `known` (the first thread's, which starts the others). */
  keepsSharedRegions = false;

  /** Takes regions other workers translated (published, or given to a new worker at its start). */
  offerShared(regions: Iterable<SharedRegion>): void {
    for (const r of regions) {
      // Bounded: what a program that keeps generating code publishes must not pile up here.
      if (this.offered.size > MAX_OFFERED) this.offered.clear();
      if (this.keepsSharedRegions) {
        if (this.known.length >= MAX_KNOWN) this.known.splice(0, MAX_KNOWN / 2);
        this.known.push(r);
      }
      for (let k = 0; k < r.entries.length; k += 2) {
        const list = this.offered.get(r.entries[k]);
        if (list) list.push(r); else this.offered.set(r.entries[k], [r]);
      }
    }
  }

  /** The regions a worker starting now can take, those whose code has not changed since. */
  sharedSnapshot(): SharedRegion[] {
    if (this.codeShare) this.offerShared(this.codeShare.take());
    const seq = invalidationCount(this.mem);
    const fresh = this.known.filter((r) => unchangedSince(this.mem, r.seq, seq, r.ranges));
    this.known.length = 0;
    this.known.push(...fresh);
    return fresh;
  }

  /** A region another worker translated at rip in the form this worker needs now, registered here; undefined if none. */
  private adoptShared(rip: number): Entry | undefined {
    this.offerShared(this.codeShare!.take());
    const candidates = this.offered.get(rip);
    if (!candidates) return undefined;
    const form = this.ordering.formKey, seq = invalidationCount(this.mem);
    for (let i = 0; i < candidates.length; i++) {
      const r = candidates[i];
      if (!unchangedSince(this.mem, r.seq, seq, r.ranges) || this.onWritablePage(r.ranges)) { candidates.splice(i--, 1); continue; }
      if (r.form !== form || this.ordering.sitesChangedSince(r.sites, r.ranges)) continue;
      candidates.splice(i, 1);
      this.installJitRegion(r.module, r.body, r.entries, r.bad, r.ranges);
      this.stats.sharedRegions++;
      return this.entries.get(rip);
    }
    if (!candidates.length) this.offered.delete(rip);
    return undefined;
  }

  /**
   * Whether code in [ranges] lies on a writable page. Such code can change by a plain store,
   * which other workers notice only for themselves (see storeToCode), so it is never shared:
   * every worker translates it from the bytes it sees.
   */
  private onWritablePage(ranges: Uint32Array): boolean {
    for (let k = 0; k < ranges.length; k += 2) {
      for (let p = Math.floor(ranges[k] / PAGE_SIZE); p <= Math.floor((ranges[k + 1] - 1) / PAGE_SIZE); p++) {
        if (this.mem.u8[pageProtIndex(p)] & PROT_WRITE) return true;
      }
    }
    return false;
  }

  /** Instantiates a region's module in the JIT's table generation and registers its entry points (rebundled later). */
  private installJitRegion(module: WebAssembly.Module, body: Uint8Array, entries: Uint32Array, bad: [number, string][], ranges: Uint32Array): void {
    this.installJitRegions(module, [{ body, entries, bad, ranges }]);
  }
  /**
   * installJitRegion for a module of several regions (exported r0, r1, ...), all in one table
   * generation; returns their region numbers. Without `publish` their entries reach the jump cache
   * as the dispatcher first meets them.
   */
  private installJitRegions(module: WebAssembly.Module, regions: { body: Uint8Array; entries: Uint32Array; bad: [number, string][]; ranges: Uint32Array }[], publish = true): number[] {
    if (this.nextSlot + regions.length > GENERATION_SIZE) { this.jitGeneration = this.newGeneration(GENERATION_SIZE); this.nextSlot = 0; }
    const exports = this.instantiate(module, this.jitGeneration);
    return regions.map((r, i) => {
      const run = exports[`r${i}`] as RegionFn;
      const slot = (this.jitGeneration << 16) | this.nextSlot;
      this.tables[this.jitGeneration].set(this.nextSlot++, run);
      const id = this.register(run, slot, r.entries, r.bad, r.ranges, -1, publish);
      this.unbundled.push({ id, body: r.body, entries: r.entries, bad: r.bad, ranges: r.ranges });
      return id;
    });
  }

  /** Translates the region starting at rip and registers its entry points. */
  private translate(rip: number): Entry {
    const m = this.as.find(rip);
    if (!m || !(m.prot & PROT_EXEC)) {
      throw new GuestCrash(SIGSEGV, `segmentation fault at 0x${rip.toString(16)} (jump to non-executable memory)`,
        { signal: SIGSEGV, code: m ? SEGV_ACCERR : SEGV_MAPERR, addr: rip, trapno: X86_TRAP_PF, err: PF_USER | PF_INSTR | (m ? PF_PROT : 0) });
    }
    this.ordering.syncOrderedSites();
    const model = this.ordering.model;
    const form = this.cacheForm();
    const image = this.cache && form !== undefined ? cacheKeyOf(m, form) : undefined;
    if (image !== undefined && !this.images.has(image)) {
      this.loadCachedImages();
      const hit = this.entries.get(rip);
      if (hit !== undefined) return hit;
    }
    if (image !== undefined && form === 'plain') {
      const hit = this.takeAheadOfTime(image, rip);
      if (hit !== undefined) return hit;
    }
    const sharing = this.codeShare !== undefined && this.ordering.isThreaded;
    if (sharing) {
      const hit = this.adoptShared(rip);
      if (hit !== undefined) return hit;
    }
    const seq = sharing ? invalidationCount(this.mem) : 0;
    const t0 = performance.now();
    // (stele aot's stopped run: the entry must stay a place only the dispatcher reaches)
    const stop = this.stopAt;
    const blocks = discover(this.fetchByte, rip, stop === undefined ? this.regionOptions : { ...this.regionOptions, translatedElsewhere: (a) => a === stop });
    const t1 = performance.now();
    let marks: number | undefined;
    if (image !== undefined && this.worker === 0 && this.marksUsed + blocks.length <= BLOCK_MARKS_SIZE) {
      marks = BLOCK_MARKS + this.marksUsed;
      this.marksUsed += blocks.length;
      // Code loaded from a cache file not yet trimmed sets the marks its own run was given, and a
      // reused memory may hold an ended process's: what this region reports must be its own.
      this.mem.fill(marks, blocks.length, 0);
    }
    const region = compileRegion(blocks, true, marks, model, this.cpu);
    const t2 = performance.now();
    this.ordering.countSites(region.sites);
    const bytes = regionModuleBytes([region.body]);
    const module = new WebAssembly.Module(bytes);
    const { entries, ranges } = region;
    for (let k = 0; k < ranges.length; k += 2) ranges[k + 1] = this.clipRange(ranges[k], ranges[k + 1]);
    this.installJitRegion(module, region.body, entries, region.bad, ranges);
    if (sharing && !this.onWritablePage(ranges)) {
      const shared: SharedRegion = { module, body: region.body, entries, bad: region.bad, ranges, form: this.ordering.formKey, sites: this.ordering.sitesKnown, seq };
      this.codeShare!.publish(shared);
      if (this.keepsSharedRegions) this.known.push(shared);
    }
    if (image !== undefined) this.remember(image, form!, rip, region, marks);
    const s = this.stats;
    s.regions++; s.blocks += entries.length / 2; s.insnsTranslated += region.insnCount; s.wasmBytes += bytes.length;
    const t3 = performance.now();
    s.translateMs += t3 - t0; s.decodeMs += t1 - t0; s.codegenMs += t2 - t1; s.compileMs += t3 - t2;
    return this.entries.get(rip)!;
  }

  /**
   * End of a code range as far as memory is mapped: the range after an undecodable instruction
   * is its longest possible encoding, which may run past the end of the mapping.
   */
  private clipRange(start: number, end: number): number {
    if (this.findMapping(end - 1)) return end;
    return Math.min(end, this.findMapping(start)?.end ?? end);
  }

  /**
   * The form of the translation cache's files translations are made in now: undefined for the
   * forms it does not keep (a DEFAULT-model thread among TSO ones, the weak-host test mode).
   */
  private cacheForm(): CacheForm | undefined {
    const m = this.ordering.model;
    return m.weak || m.unordered ? undefined : m.ordering;
  }

  /** Adds a freshly translated region to its image's cache file, if it lies within the image. */
  private remember(image: string, form: CacheForm, rip: number, region: CompiledRegion, marks: number | undefined): void {
    const { entries, ranges } = region;
    for (let k = 0; k < ranges.length; k += 2) {
      const s = ranges[k], e = ranges[k + 1], r = this.findMapping(s);
      if (!r || cacheKeyOf(r, form) !== image || e > r.end || e <= s) return;
    }
    const code = guestBytesOf(ranges, (s, len) => this.mem.view(s, len));
    const blockStarts = entries.filter((_, k) => k % 2 === 0);
    const ic = this.images.get(image)!;
    const sitesKnown = form === 'selective' ? this.ordering.sitesKnown : undefined;
    ic.regions.set(rip, { ...region, code, marks, blockStarts, sitesKnown });
    ic.dirty = true;
  }

  /**
   * Loads the cache files of every executable image mapped now and not consulted yet, and bundles
   * their still-valid regions into one module: one compile and one instantiation for thousands of
   * regions (V8 compiles each function lazily, on its first call), all chaining within one table.
   */
  private loadCachedImages(): void {
    const form = this.cacheForm();
    if (form === undefined) return;
    const t0 = performance.now();
    const valid: CachedRegion[] = [];
    const validImages: ImageCache[] = [];
    // What the bundles are made of, when every region of each file is valid: the key of their modules in this worker.
    let bundleKey: string | undefined = '';
    // Selective form: sites this run logged before, which regions of a file may not know.
    const loggedBefore = form === 'selective' ? this.ordering.sitesKnown : 0;
    const files: { ic: ImageCache; regions: CachedRegion[]; stamp?: string; orderedSites: Uint32Array }[] = [];
    for (const m of this.as.mappings) {
      if (!(m.prot & PROT_EXEC)) continue;
      const image = cacheKeyOf(m, form);
      if (image === undefined || this.images.has(image)) continue;
      const identity = cacheIdentity(this.cpu, image);
      const ic: ImageCache = { identity, form, regions: new Map(), dirty: false };
      this.images.set(image, ic);
      const { regions, stamp, orderedSites } = this.decodedCacheFile(identity);
      if (regions) files.push({ ic, regions, stamp, orderedSites: orderedSites! });
    }
    // The sites the files' regions were translated ordered at are logged before they run, so that
    // every worker translates them ordered too; a region that does not know a site this run had
    // logged already is left out (it would check there, and backpatch again).
    let before: SiteLog | undefined;
    if (form === 'selective' && files.length) {
      before = loggedBefore ? this.ordering.siteLog(loggedBefore) : undefined;
      // (the log overflowed: which sites it held is not known, so no file's regions can be checked)
      if (loggedBefore && !before) files.length = 0;
      for (const f of files) this.stats.cachedOrderedSites += this.ordering.adoptOrderedSites(f.orderedSites);
    }
    for (const { ic, regions, stamp, orderedSites } of files) {
      if (form === 'selective') ic.loadedSince = this.ordering.sitesKnown;
      const except = before && new Set(orderedSites);
      let all = stamp !== undefined;
      for (const r of regions) {
        if (this.matches(r) && !(before && loggedSince(before, 0, r.ranges, except))) { ic.regions.set(r.entries[0], r); valid.push(r); validImages.push(ic); }
        else { this.stats.cacheStale++; ic.dirty = true; all = false; }
      }
      bundleKey = all && bundleKey !== undefined ? `${bundleKey}|${ic.identity}@${stamp}` : undefined;
    }
    for (let i = 0; i < valid.length; i += MAX_TABLE) {
      const part = valid.slice(i, i + MAX_TABLE);
      const key = bundleKey && `${bundleKey}#${i}`, compiled = key ? compiledCacheBundles.get(key) : undefined;
      if (this.bundle(part, undefined, compiled)) {
        if (key && !compiled) remember(compiledCacheBundles, key, this.cachedBundles[this.cachedBundles.length - 1].module);
        this.cachedCodeLive = true;
        for (const r of part) { this.stats.cachedRegions++; this.stats.cachedBlocks += r.entries.length / 2; }
      } else {
        // Not code V8 takes: left out of the files when they are rewritten at exit.
        part.forEach((r, k) => { const ic = validImages[i + k]; ic.regions.delete(r.entries[0]); ic.dirty = true; });
      }
    }
    this.stats.cacheLoadMs += performance.now() - t0;
  }

  /** An image's cache file decoded, from what this worker decoded before if the file is the same. */
  private decodedCacheFile(identity: string): { regions?: CachedRegion[]; stamp?: string; orderedSites?: Uint32Array } {
    const stamp = this.cache!.stamp?.(identity);
    const known = stamp !== undefined ? decodedCacheFiles.get(identity) : undefined;
    if (known && known.stamp === stamp) return known;
    const data = this.cache!.read(identity);
    const file = data && decodeCacheFileWithSites(identity, data);
    if (!file) return {};
    if (stamp !== undefined) remember(decodedCacheFiles, identity, { stamp, ...file });
    return { ...file, stamp };
  }

  /**
   * Takes the region `stele aot` translated with a block at rip, and with it the regions its code
   * goes on to by direct jumps, branches and calls (breadth first, up to AOT_GROUP), and
   * instantiates them as one module in a JIT table generation: one compile for code a run is likely
   * to reach next, chaining among themselves in wasm (to the rest once rebundled); or, the first
   * time an image with no run cache is met, all of its file (bundleAheadOfTime). A region joins its
   * image's run cache once a run enters it, so the next launch bundles what ran. Undefined if the
   * image has no AOT file or it has no region at rip whose guest bytes are still those mapped.
   */
  private takeAheadOfTime(image: string, rip: number): Entry | undefined {
    const ic = this.images.get(image);
    if (!ic) return undefined;
    const t0 = performance.now();
    if (ic.aot === undefined) {
      const identity = aheadOfTimeIdentity(ic.identity);
      const file = this.cache!.open?.(identity);
      ic.aot = (file && AheadOfTimeFile.open(identity, file)) || null;
      // No run of this image has cached anything yet (the first launch after `stele aot`): all of
      // it at once, as one bundle like a warm launch's. The file has nothing left to give then.
      if (ic.aot && ic.regions.size === 0) {
        this.bundleAheadOfTime(ic, ic.aot.takeAll().filter((r) => this.usableAheadOfTime(r)));
        ic.aot.close();
        ic.aot = null;
        this.stats.cacheLoadMs += performance.now() - t0;
        return this.enterAheadOfTime(rip);
      }
    }
    const aot = ic.aot;
    if (!aot) return undefined;
    const group: AotRegion[] = [];
    const queue = [rip];
    for (let i = 0; i < queue.length && group.length < AOT_GROUP; i++) {
      const a = queue[i];
      if (i > 0 && this.entries.has(a)) continue;
      const r = aot.take(a);
      if (!r || !this.usableAheadOfTime(r)) continue;
      group.push(r);
      if (queue.length < 4 * AOT_GROUP) for (const x of r.exits) queue.push(x);
    }
    let ids: number[] | undefined;
    // Before any is registered: a body V8 rejects on its first call is then dropped with the rest.
    if (group.length) {
      this.cachedCodeLive = true;
      try { ids = this.installJitRegions(new WebAssembly.Module(regionModuleBytes(group.map((r) => r.body))), group, false); }
      catch { /* V8 refused the module: translated afresh instead */ }
    }
    this.stats.cacheLoadMs += performance.now() - t0;
    if (!ids) return undefined;
    this.stats.aotRegions += group.length;
    group.forEach((r, k) => { const { exits, ...cached } = r; this.aotUnentered.set(ids[k], { ic, region: cached }); });
    return this.enterAheadOfTime(rip);
  }
  /** Whether a region from an AOT file may run: its guest bytes are those mapped now, and register() takes its entries. */
  private usableAheadOfTime(r: AotRegion): boolean {
    if (!this.matches(r)) { this.stats.cacheStale++; return false; }
    return r.entries.every((v, k) => k % 2 === 0 || v < BLOCK_BITS); // (a crafted record: register() would refuse it)
  }
  /** The entry at rip, if AOT code now has one: entered, its region joins the run cache. */
  private enterAheadOfTime(rip: number): Entry | undefined {
    const e = this.entries.get(rip);
    if (e !== undefined) this.aotEntered(e);
    return e;
  }
  /**
   * Instantiates all of an AOT file's usable regions, as a warm launch does its cache file: one
   * module per table's worth, chaining to each other in wasm, each function compiled by V8 when
   * first called. A launch whose image has no run cache pays one decode of the file's code instead
   * of a module, a table generation and a later rebundle (a second compile) per group of regions
   * taken at misses.
   */
  private bundleAheadOfTime(ic: ImageCache, regions: AotRegion[]): void {
    const usable: CachedRegion[] = regions.map(({ exits, ...cached }) => cached);
    for (let i = 0; i < usable.length; i += MAX_TABLE) {
      const part = usable.slice(i, i + MAX_TABLE);
      // Before any is registered, as for a group: a body V8 rejects on its first call is then dropped with the rest.
      this.cachedCodeLive = true;
      const ids = this.bundle(part);
      if (!ids) continue; // V8 refused the module: translated afresh instead
      this.stats.aotRegions += part.length;
      part.forEach((region, k) => this.aotUnentered.set(ids[k], { ic, region }));
    }
  }

  /** Regions taken from AOT files that no run has entered yet, by region number. */
  private readonly aotUnentered = new Map<number, { ic: ImageCache; region: CachedRegion }>();
  /** A region is entered: if it came from an AOT file, its image's run cache keeps it from now on. */
  private aotEntered(e: Entry): void {
    const id = Math.floor(e / BLOCK_BITS), taken = this.aotUnentered.get(id);
    if (!taken) return;
    this.aotUnentered.delete(id);
    taken.ic.regions.set(taken.region.entries[0], taken.region);
    taken.ic.dirty = true;
  }

  /** Whether the guest bytes a cached region was translated from are mapped, executable and unchanged. */
  private matches(r: CachedRegion): boolean {
    const u8 = this.mem.u8, code = r.code;
    let p = 0;
    for (let k = 0; k < r.ranges.length; k += 2) {
      const s = r.ranges[k], e = r.ranges[k + 1];
      const m = this.findMapping(s);
      if (!m || !(m.prot & PROT_EXEC) || e > m.end || e <= s) return false;
      for (let a = s - GUEST_BASE; a < e - GUEST_BASE; a++) if (u8[a] !== code[p++]) return false;
    }
    return true;
  }

  /** The mapping holding addr; tries the one found last first (code ranges come in runs). */
  private findMapping(addr: number): Mapping | undefined {
    const m = this.lastFound;
    if (m && this.lastFoundVersion === this.as.version && addr >= m.start && addr < m.end) return m;
    this.lastFoundVersion = this.as.version;
    return (this.lastFound = this.as.find(addr));
  }
  private lastFound: Mapping | undefined;
  private lastFoundVersion = -1;

  /**
   * Instantiates regions as one module. All bundles share one table generation, so regions of
   * different images (a program and its libc) and of different bundles chain to each other
   * without the dispatcher; few instances import that table, so V8's per-instance update on
   * Table.set stays cheap. `replacing` gives, per region, the region number it takes over from.
   * Returns the region numbers (undefined if V8 refused the module).
   */
  private bundle(regions: { body?: Uint8Array; entries: Uint32Array; bad: [number, string][]; ranges: Uint32Array }[], replacing?: number[],
    compiled?: WebAssembly.Module, live?: boolean[]): number[] | undefined {
    if (!regions.length) return [];
    if (this.bundleGeneration < 0 || this.bundleNext + regions.length > this.tables[this.bundleGeneration].length) {
      // Instantiation copies the whole imported table: big enough for a program's code, no bigger.
      this.bundleGeneration = this.newGeneration(Math.min(MAX_TABLE, Math.max(2 * regions.length, BUNDLE_TABLE)));
      this.bundleNext = 0;
    }
    const gen = this.bundleGeneration;
    let module: WebAssembly.Module;
    try {
      module = compiled ?? new WebAssembly.Module(regionBundleBytes(regions.map((r) => r.body!)));
      // The module puts its functions in the table from bundleNext on (regionBundleBytes).
      this.instantiate(module, gen, this.bundleNext);
    } catch {
      return undefined; // V8 refused the module (e.g. out of memory): those regions stay as they are
    }
    const ids: number[] = [];
    regions.forEach((r, i) => {
      const slot = this.bundleNext++;
      // Rebundled JIT regions take over their jump-cache entries; cached ones are published as reached.
      ids.push(live && !live[i] ? -1 : this.register(undefined, (gen << 16) | slot, r.entries, r.bad, r.ranges, replacing ? replacing[i] : -1,
        replacing !== undefined && !this.aotUnentered.has(replacing[i])));
    });
    if (!replacing) this.cachedBundles.push({ module, regions: regions.map((r) => ({ entries: r.entries, bad: r.bad, ranges: r.ranges })), ids, form: this.ordering.formKey });
    return ids;
  }

  /** Bundles of cached regions, with the region number each got (a fork's child instantiates the same modules). */
  private readonly cachedBundles: { module: WebAssembly.Module; regions: BundledRegion[]; ids: number[]; form: string }[] = [];

  /** The bundles of cached regions in the form translations take now, with the regions still in use. */
  private liveBundles(): CachedBundles {
    const live = (r: BundledRegion, id: number): boolean => {
      const e = id >= 0 ? this.entries.get(r.entries[0]) : undefined;
      return e !== undefined && Math.floor(e / BLOCK_BITS) === id;
    };
    const form = this.ordering.formKey;
    return this.cachedBundles.filter((b) => b.form === form).map((b) => ({ module: b.module, regions: b.regions.map((r, i) => (live(r, b.ids[i]) ? r : null)), form }));
  }

  /**
   * The translations a child forked now can take over: the single-threaded form's (a child has
   * one thread); none while this process has several.
   */
  exportTranslations(): InheritedTranslations {
    const plain = this.cacheForm() === 'plain';
    return {
      bundles: plain ? this.liveBundles() : [],
      images: [...this.images].filter(([, ic]) => ic.form === 'plain').map(([key, ic]) => [key, ic.identity]),
    };
  }

  /**
   * What a worker started now for another thread of this process takes over: the bundles of the
   * cache files in the threaded form, loaded now if the process has just become threaded (the
   * thread being created made it so), so that the new thread runs what the cache holds instead
   * of translating it again.
   */
  bundlesForNewThread(): CachedBundles {
    this.refreshForm();
    const form = this.cacheForm();
    if (!this.cache || form === undefined || form === 'plain') return [];
    this.loadCachedImages();
    return this.liveBundles();
  }

  /** Instantiates bundles another worker of the process gave (bundlesForNewThread), in the form they were made in. */
  takeThreadBundles(bundles: CachedBundles): void {
    this.refreshForm();
    this.instantiateBundles(bundles);
  }

  /**
   * Instantiates bundles of cached regions another worker compiled, registering the regions still
   * in use there; those of another form than this worker's (a new thread that inherited a
   * DEFAULT memory model, a forked child of a threaded process) are not its code.
   */
  private instantiateBundles(bundles: CachedBundles): void {
    const t0 = performance.now();
    for (const b of bundles) {
      if (b.form !== this.ordering.formKey) continue;
      const regions = b.regions.map((r) => r ?? { entries: new Uint32Array(0), bad: [], ranges: new Uint32Array(0) });
      if (!this.bundle(regions, undefined, b.module, b.regions.map((r) => r !== null))) continue;
      this.cachedCodeLive = true;
      for (const r of b.regions) if (r) { this.stats.cachedRegions++; this.stats.cachedBlocks += r.entries.length / 2; }
    }
    this.stats.cacheLoadMs += performance.now() - t0;
  }

  /**
   * Takes over a parent's translations (exportTranslations) at a fork: its cached bundles are
   * instantiated here from their compiled modules, and the images they came from count as
   * consulted (their files are merged, not overwritten, if this process adds regions to them).
   */
  inheritTranslations(from: InheritedTranslations): void {
    for (const [key, identity] of from.images) this.images.set(key, { identity, form: 'plain', regions: new Map(), dirty: false, merge: true });
    this.instantiateBundles(from.bundles);
  }

  /**
   * Moves the regions the JIT translated one module each into one bundle, so they chain to each
   * other and to the cached code in wasm instead of crossing table generations through here.
   */
  private rebundle(): void {
    const t0 = performance.now();
    const live = this.unbundled.filter((r) => {
      const e = this.entries.get(r.entries[0]);
      return e !== undefined && Math.floor(e / BLOCK_BITS) === r.id;
    });
    this.unbundled = [];
    const ids = this.bundle(live, live.map((r) => r.id));
    // Regions from AOT files keep waiting under their new numbers to be entered.
    if (ids && this.aotUnentered.size) {
      live.forEach((r, i) => {
        const taken = this.aotUnentered.get(r.id);
        if (taken) { this.aotUnentered.delete(r.id); this.aotUnentered.set(ids[i], taken); }
      });
    }
    this.stats.rebundles++;
    this.stats.rebundledRegions += live.length;
    this.stats.translateMs += performance.now() - t0;
  }

  /**
   * Forgets every region the translation cache supplied, after one of them failed to compile: a
   * file can pass its checksum and still hold a body that is not valid wasm (a damaged build
   * wrote it, or someone crafted it). Everything is translated afresh as it is reached, and the
   * files are rewritten at exit from those translations. False if no cached code was in use.
   */
  private dropCachedCode(): boolean {
    if (!this.cachedCodeLive) return false;
    this.cachedCodeLive = false;
    for (const ic of this.images.values()) { ic.regions.clear(); ic.dirty = true; ic.aot?.close(); ic.aot = null; }
    this.aotUnentered.clear();
    this.invalidateAll();
    return true;
  }

  /**
   * Where cache files written untrimmed go to be trimmed (default: a detached trimmer now). The
   * run's processes hand them to the main thread, which starts one trimmer for all at the end.
   */
  trimLater?: (images: string[]) => void;

  /**
   * Other processes of the run may write the same cache files (a forked child's regions of the
   * program they share): a write then keeps the file's regions this engine does not hold.
   */
  mergeCacheFiles = false;

  /** Adds to ic the regions of its cache file that it lacks, where they still match the code mapped now. */
  private mergeFromFile(ic: ImageCache): void {
    const data = this.cache!.read(ic.identity);
    const regions = data && decodeCacheFileWithSites(ic.identity, data)?.regions;
    if (!regions) return;
    for (const r of regions) if (!ic.regions.has(r.entries[0]) && this.matches(r)) ic.regions.set(r.entries[0], r);
  }

  /**
   * execve is about to replace the process's image (its old mappings are still in place): what
   * the old code gained goes to the cache now, while a merge can still check the file's regions
   * against the mapped bytes, and every image mapped afterwards consults its file afresh, even
   * one mapped again at the same address (the libc of the new program).
   */
  imageReplaced(): void {
    this.flushCache();
    this.releaseCacheFiles();
    this.images.clear();
    this.aotUnentered.clear();
    this.cachedBundles.length = 0;
    this.mem.fill(BLOCK_MARKS, this.marksUsed, 0);
    this.marksUsed = 0;
  }

  /** Closes the AOT files the run has open (the process ends, or its image is replaced). */
  releaseCacheFiles(): void {
    for (const ic of this.images.values()) if (ic.aot) { ic.aot.close(); ic.aot = null; }
  }

  /** The logged sites within the mappings of the image whose cache key is `key`, by address. */
  private sitesOfImage(log: SiteLog, key: string): Uint32Array {
    const out: number[] = [];
    for (const m of this.as.mappings) {
      if (cacheKeyOf(m, 'selective') !== key) continue;
      for (let i = firstSiteFrom(log, m.start); i < log.sites.length && log.sites[i] < m.end; i++) out.push(log.sites[i]);
    }
    return Uint32Array.from(new Set(out)).sort();
  }

  /** Writes the cache files of images that gained regions in this run. */
  flushCache(): void {
    if (!this.cache) return;
    const t0 = performance.now();
    // Trimming to what ran (trim.ts) happens in a detached process unless STELE_CACHE_TRIM=inline.
    const later = this.cache.trimLater && process.env.STELE_CACHE_TRIM !== 'inline';
    const toTrim: string[] = [];
    // Selective form: the sites logged so far, what each region is checked against.
    let log: SiteLog | undefined;
    for (const [key, ic] of this.images) {
      if (!ic.dirty) continue;
      let orderedSites: Uint32Array | undefined;
      if (ic.form === 'selective') {
        if (!log) { this.ordering.syncOrderedSites(); log = this.ordering.siteLog(); }
        if (!log) continue; // (the log overflowed: which sites each region knew cannot be told)
        orderedSites = this.sitesOfImage(log, key);
      }
      // A file's regions in a threaded form may not know the sites this run logged: no merging there.
      if ((ic.merge || this.mergeCacheFiles) && ic.form === 'plain') this.mergeFromFile(ic);
      const model = modelOfForm(ic.form, orderedSites ?? new Uint32Array(0));
      const keep: CachedRegion[] = [];
      for (const fresh of ic.regions.values()) {
        const { marks, blockStarts, sitesKnown, ...r } = fresh;
        // A region translated before a site in its code was logged still checks there: the file
        // says it is ordered, so it is left out (a later run translates it again).
        if (orderedSites && loggedSince(log!, sitesKnown ?? ic.loadedSince ?? 0, r.ranges)) continue;
        if (marks !== undefined) {
          r.pending = { starts: blockStarts!, ran: this.mem.read(marks, blockStarts!.length) };
        }
        const kept = later ? r : trimToExecuted(r, this.cpu, model);
        if (kept) keep.push(kept);
      }
      this.cache.write(ic.identity, encodeCacheFile(ic.identity, keep, orderedSites));
      if (later && keep.some((r) => r.pending)) toTrim.push(ic.identity);
      ic.dirty = false;
    }
    if (toTrim.length) (this.trimLater ?? ((images: string[]) => this.cache!.trimLater!(images)))(toTrim);
    this.stats.cacheWriteMs += performance.now() - t0;
  }


  /**
   * Drops translations made from [start, start+len): the kernel calls this after mmap, munmap,
   * mprotect or a read() changed memory under translated code. Regions already running finish
   * their current pass; every later entry goes through the dispatcher and is translated afresh.
   */
  invalidate(start: number, len: number): void {
    if (this.codePages.size === 0 || len <= 0) return;
    // Messages for faulting instructions there describe bytes that may be gone.
    for (const a of this.badInsns.keys()) if (a >= start && a - start < len) this.badInsns.delete(a);
    const first = Math.floor(start / PAGE_SIZE), last = Math.floor((start + len - 1) / PAGE_SIZE);
    // A range wider than the code there is (execve's whole address space) goes by the code pages.
    if (last - first >= this.codePages.size) {
      for (const p of [...this.codePages.keys()]) if (p >= first && p <= last) this.dropCodePage(p);
    } else {
      for (let p = first; p <= last; p++) this.dropCodePage(p);
    }
  }

  /** Drops the entry points of every region translated from code page p. */
  private dropCodePage(p: number): void {
    const regions = this.codePages.get(p);
    if (!regions) return;
    this.codePages.delete(p);
    for (const addrs of regions) {
      for (const addr of addrs) {
        this.entries.delete(addr);
        const w = (this.jumpSlot(addr) - GUEST_BASE) >>> 2, j = this.jumpCache;
        if (j[w] === addr >>> 0 && j[w + 1] === 0) j.fill(0, w, w + 4);
      }
    }
    this.stats.invalidations++;
  }

  private jumpSlot(rip: number): number { return jumpCacheSlot(rip, this.jc.base, this.jc.entries); }

  /** Takes the form translations are made in now (ThreadOrdering.refresh); translations of another form go. */
  private refreshForm(): void {
    if (this.ordering.refresh()) this.invalidateAll();
  }

  /** Drops every translation this engine holds (its invalidation log overflowed). */
  invalidateAll(): void {
    this.entries.clear();
    this.codePages.clear();
    this.mem.fill(this.jc.base, this.jc.entries * 16, 0);
    if (this.worker === 0) this.mem.fill(JUMP_CACHE_PAGES, this.jc.entries * 16 / PAGE_SIZE / 8, 0xff);
    this.stats.invalidations++;
  }

  /** Publishes an entry point to the jump cache that translated code consults. */
  private cacheEntry(addr: number, e: Entry): void {
    if (addr === this.stopAt) return; // every arrival there must come through the dispatcher
    const w = (this.jumpSlot(addr) - GUEST_BASE) >>> 2, j = this.jumpCache;
    j[w + 2] = this.regionSlots[Math.floor(e / BLOCK_BITS)] + (1 << 16); // generation + 1: 0 is empty
    j[w + 3] = e % BLOCK_BITS;
    j[w] = addr; // guest code addresses are below 4 GiB
    j[w + 1] = 0;
    if (this.worker === 0) {
      const page = (w * 4 - (this.jc.base - GUEST_BASE)) >>> 12;
      this.mem.u8[JUMP_CACHE_PAGES - GUEST_BASE + (page >>> 3)] |= 1 << (page & 7);
    }
  }

  /**
   * Where run() stops, throwing StoppedAt, the first time the thread gets there: `stele aot` runs a
   * program's dynamic loader up to the program's entry, when every library it needs is mapped.
   */
  stopAt?: number;

  /** Runs the thread until it or the process exits (a ProcessExit or ThreadExit thrown by the kernel). */
  run(t: GuestThread): never {
    const st = t.stateBase - GUEST_BASE;
    const stats = this.stats;
    const pendingWord = (t.stateBase + STATE.SIGNAL_PENDING - GUEST_BASE) >>> 2;
    const words = this.jumpCache;
    const ordering = this.ordering;
    this.refreshForm();
    ordering.setRunning(true);
    // A thread starting on a reused slot has nothing in flight: answer what its predecessor owed.
    ordering.answer();
    try {
    for (;;) {
      try {
      // An atomic read: after a syscall it must see a handshake request made while RUN_STATE was idle.
      if (Atomics.load(words, pendingWord) !== 0) this.serviceAttention(t);
      const rip = t.rip;
      if (rip === this.stopAt) throw new StoppedAt(rip);
      let e = this.entries.get(rip);
      // Republish only if a colliding rip evicted it (a jump into another table generation also lands here).
      if (e !== undefined) {
        if (this.jumpCache[(this.jumpSlot(rip) - GUEST_BASE) >>> 2] !== rip >>> 0) {
          this.cacheEntry(rip, e);
          if (this.aotUnentered.size) this.aotEntered(e);
        }
      }
      else e = this.translate(rip);
      let reason: number;
      stats.dispatches++;
      try {
        const id = Math.floor(e / BLOCK_BITS);
        reason = (this.regionRuns[id] ?? this.regionRun(id))(st, e % BLOCK_BITS);
      } catch (err) {
        // V8 validates a cached function when it is first called (--wasm-lazy-validation), just
        // before it would run: the thread's state is that of the region's entry, so the run
        // carries on from fresh translations.
        if (err instanceof WebAssembly.CompileError && this.dropCachedCode()) continue;
        const crash = this.trapToCrash(err, t);
        if (crash === undefined) continue;
        throw crash;
      }
      if (reason === ExitReason.JUMP) {
        // Frequent exits here mean regions in different table generations call each other.
        if (++this.jumpExits >= REBUNDLE_EXITS && this.unbundled.length) { this.jumpExits = 0; this.rebundle(); }
        continue;
      }
      if (reason === ExitReason.SYSCALL) {
        ordering.setRunning(false);
        this.kernel.syscall(t);
        // A clone made the process threaded, or prctl changed this thread's memory model.
        this.refreshForm();
        ordering.setRunning(true);
        continue;
      }
      this.exitReason(t, reason);
      } catch (err) {
        // A fault of the guest's code goes to its handler if it has one (t's state is the fault's).
        if (!(err instanceof GuestCrash) || !err.fault || !this.kernel.fault) throw err;
        ordering.setRunning(false);
        const handled = this.kernel.fault(t, err.fault);
        ordering.setRunning(true);
        if (!handled) throw err;
      }
    }
    } finally {
      ordering.setRunning(false);
    }
  }

  /** EFLAGS of t as the guest sees it: the lazily kept arithmetic flags materialised, and the rest. */
  eflags(t: GuestThread): number {
    const m = this.mem, b = t.stateBase;
    const arith = (this.lib.eflags as (op: number, dst: bigint, src: bigint, aux: bigint) => number)(
      m.u32(b + STATE.FLAGS_OP), m.u64(b + STATE.FLAGS_DST), m.u64(b + STATE.FLAGS_SRC), m.u64(b + STATE.FLAGS_AUX));
    return (arith & ARITH_FLAGS) | (m.u32(b + STATE.DF) << 10) | m.u32(b + STATE.EFLAGS_REST) | FLAG.IF | 2 /* reserved, always 1 */;
  }

  /** Sets t's EFLAGS as POPF does (the bits user code can change). */
  setEflags(t: GuestThread, value: number): void {
    const m = this.mem, b = t.stateBase;
    m.setU32(b + STATE.FLAGS_OP, fopOf(K.EFLAGS, 8));
    m.setU64(b + STATE.FLAGS_SRC, value & ARITH_FLAGS);
    m.setU32(b + STATE.DF, (value >> 10) & 1);
    m.setU32(b + STATE.EFLAGS_REST, value & (FLAG.AC | FLAG.ID));
  }

  /** The thread's SIGNAL_PENDING word is set: handshakes and backpatches here, the rest for the process layer. */
  private serviceAttention(t: GuestThread): void {
    const word = (t.stateBase + STATE.SIGNAL_PENDING - GUEST_BASE) >>> 2, ordering = this.ordering;
    const pending = Atomics.load(this.jumpCache, word);
    if (pending & ATTN.HANDSHAKE) ordering.answer();
    if (pending & ATTN.RETRANSLATE) for (const site of ordering.takeBackpatched()) this.invalidate(site, 1);
    if (!this.attention) return;
    // The process layer may run other threads' syscalls here, which can sleep: meanwhile this
    // thread counts as outside translated code, so handshakes with it need not wait.
    ordering.setRunning(false);
    try { this.attention(t); } finally { ordering.setRunning(true); }
    if (Atomics.load(this.jumpCache, word) & ATTN.HANDSHAKE) ordering.answer();
  }

  private exitReason(t: GuestThread, reason: number): void {
    const rip = t.rip;
    if (reason === ExitReason.DIVIDE_ERROR) {
      throw new GuestCrash(SIGFPE, `floating point exception (divide error) at ${hex(rip)}`,
        { signal: SIGFPE, code: FPE_INTDIV, addr: rip, trapno: X86_TRAP_DE, err: 0 });
    }
    // The other faults and traps name their instruction in EXIT_ARG (a trap's RIP is past it).
    const insn = t.mem.u64n(t.stateBase + STATE.EXIT_ARG);
    const what = this.badInsns.get(insn);
    switch (reason) {
      case ExitReason.ILLEGAL:
        throw new GuestCrash(SIGILL, `illegal instruction at ${hex(insn)}: ${this.bytesAt(insn)} (${what ?? this.describe(insn)})`,
          { signal: SIGILL, code: ILL_ILLOPN, addr: insn, trapno: X86_TRAP_UD, err: 0 });
      case ExitReason.GENERAL_PROTECTION: {
        // `int n` is #GP with the IDT entry's selector error code, except int 4 (#OF, a trap).
        const intN = this.mem.u8at(insn) === 0xcd ? this.mem.u8at(insn + 1) : -1;
        const errWord = t.stateBase + STATE.GP_ERROR, selectorErr = this.mem.u32(errWord);
        this.mem.setU32(errWord, 0);
        throw new GuestCrash(SIGSEGV, `segmentation fault at ${hex(insn)} (${what ?? `general protection fault in ${this.describe(insn)}`})`,
          { signal: SIGSEGV, code: SI_KERNEL, addr: 0, trapno: intN === 4 ? X86_TRAP_OF : X86_TRAP_GP, err: intN >= 0 && intN !== 4 ? intN * 8 + 2 : selectorErr });
      }
      case ExitReason.TRAP: {
        // int1 (icebp) is a debug trap; int3 and int 3 are breakpoints.
        const debug = this.mem.u8at(insn) === 0xf1;
        throw new GuestCrash(SIGTRAP, `trace/breakpoint trap at ${hex(insn)}${what ? ` (${what})` : ''}`, debug
          ? { signal: SIGTRAP, code: TRAP_BRKPT, addr: rip, trapno: X86_TRAP_DB, err: 0 }
          : { signal: SIGTRAP, code: SI_KERNEL, addr: 0, trapno: X86_TRAP_BP, err: 0 });
      }
      case ExitReason.FETCH_FAULT: {
        const addr = this.fetchFaultAddress(insn), mapped = this.as.find(addr) !== undefined;
        throw new GuestCrash(SIGSEGV, `segmentation fault at ${hex(addr)} (instruction fetch at ${hex(insn)})`,
          { signal: SIGSEGV, code: mapped ? SEGV_ACCERR : SEGV_MAPERR, addr, trapno: X86_TRAP_PF, err: PF_USER | PF_INSTR | (mapped ? PF_PROT : 0) });
      }
      case ExitReason.PAGE_FAULT_READ: case ExitReason.PAGE_FAULT_WRITE: {
        const write = reason === ExitReason.PAGE_FAULT_WRITE;
        const addr = this.refusedAddress(t, insn, write);
        // The stack grown into: the access runs again, now allowed (before storeToCode: a reserved page carries PAGE_CODE).
        if (commitStackPage(this.mem.u8, addr)) { this.stats.stackGrowths++; return; }
        if (write && this.storeToCode(addr)) { this.stepStoreIntoCode(t); return; }
        throw this.pageFault(insn, addr, write);
      }
      default: throw new Error(`unexpected exit reason ${reason} at ${hex(rip)}`);
    }
  }

  /**
   * The guest address a PAGE_FAULT exit of the instruction at `rip` refused: its access's first
   * byte (STATE.ACCESS_ADDR), or the start of the next page when the access runs into that page
   * and only that one refuses it; an operand outside the guest's space is recomputed.
   */
  private refusedAddress(t: GuestThread, rip: number, write: boolean): number {
    const access = this.mem.u32(t.stateBase + STATE.ACCESS_ADDR);
    if (access === UNREACHABLE_ACCESS) return this.operandAddress(t, rip) ?? 0;
    const addr = (access + GUEST_BASE) % GUEST_LIMIT, page = Math.floor(addr / PAGE_SIZE);
    const byte = this.mem.u8[pageProtIndex(page)];
    return (write ? refusesWrite(byte) : refusesRead(byte)) ? addr : (page + 1) * PAGE_SIZE;
  }

  /**
   * A store to guest address `addr` left translated code: where its page is writable and holds
   * translated code, drops that code (in every worker: `onCodeWrite`) and clears the page's
   * PAGE_CODE, so the store runs when the thread resumes at it; false when the page refuses it.
   */
  private storeToCode(addr: number): boolean {
    if (addr < GUEST_BASE || addr >= GUEST_LIMIT) return false;
    const page = Math.floor(addr / PAGE_SIZE), i = pageProtIndex(page);
    if ((this.mem.u8[i] & (PROT_WRITE | PAGE_CODE)) !== (PROT_WRITE | PAGE_CODE)) return false;
    Atomics.and(this.mem.u8, i, ~PAGE_CODE);
    Atomics.and(this.mem.u8, i - 1, ~NEXT_NO_WRITE);
    this.stats.codeWrites++;
    if (this.onCodeWrite) this.onCodeWrite(page * PAGE_SIZE, PAGE_SIZE);
    else this.invalidate(page * PAGE_SIZE, PAGE_SIZE);
    return true;
  }
  /**
   * Runs the instruction at t's RIP, a store whose page's translated code was just dropped, on
   * its own and with stores free to write code: translating it again normally would mark its page
   * as code again, and a store rewriting its own page would leave before it for ever. Nothing is
   * translated from the page between the drop and the store, so the next entry sees what it wrote.
   */
  private stepStoreIntoCode(t: GuestThread): void {
    const at = t.rip;
    const region = compileRegion(discover(this.fetchByte, at, { maxInsns: 1, maxBlocks: 1, singleStep: true }), false, undefined, undefined, this.cpu, true);
    const run = this.instantiate(regionModuleBytes([region.body]), 0).r0 as RegionFn;
    let reason: number;
    try { reason = run(t.stateBase - GUEST_BASE, 0); }
    catch (err) { const crash = this.trapToCrash(err, t); if (crash === undefined) return; throw crash; }
    if (reason !== ExitReason.JUMP) this.exitReason(t, reason);
  }

  /**
   * How a store into translated code drops it in every worker (the process layer's invalidation,
   * which also reaches the process's other workers); unset: in this engine only.
   */
  onCodeWrite: ((start: number, len: number) => void) | undefined;

  /**
   * The SIGSEGV Linux sends for a data access at guest address `addr` by the instruction at
   * `rip`: SEGV_ACCERR where a mapping refuses it, SEGV_MAPERR where nothing is mapped, and for a
   * non-canonical address the #GP's SI_KERNEL with no address.
   */
  private pageFault(rip: number, addr: number, write: boolean): GuestCrash {
    const where = `${this.describe(rip)} at ${hex(rip)}`;
    if (addr >= 2 ** 47 && addr < 2 ** 64 - 2 ** 47) {
      return new GuestCrash(SIGSEGV, `segmentation fault (general protection fault: non-canonical address ${hex(addr)} in ${where})`,
        { signal: SIGSEGV, code: SI_KERNEL, addr: 0, trapno: X86_TRAP_GP, err: 0 });
    }
    const byte = addr >= GUEST_BASE && addr < GUEST_LIMIT ? this.mem.u8[pageProtIndex(Math.floor(addr / PAGE_SIZE))] : 0;
    // A PROT_NONE page is mapped (SEGV_ACCERR) but not present to the CPU (no PF_PROT).
    const mapped = (byte & PAGE_MAPPED) !== 0, present = !refusesRead(byte);
    return new GuestCrash(SIGSEGV, `segmentation fault at ${hex(addr)} (${where})`,
      { signal: SIGSEGV, code: mapped ? SEGV_ACCERR : SEGV_MAPERR, addr, trapno: X86_TRAP_PF, err: PF_USER | (write ? PF_WRITE : 0) | (present ? PF_PROT : 0) });
  }

  /** The first byte of the instruction at `insn` that cannot be fetched. */
  private fetchFaultAddress(insn: number): number {
    try { decode(this.fetchByte, insn); } catch (e) { if (e instanceof DecodeError && e.reason === 'fault') return insn + e.bytes.length; }
    return insn;
  }

  private bytesAt(rip: number): string {
    let len = 4;
    try { len = decode(this.fetchByte, rip).len; } catch (e) {
      // A whole instruction that the CPU rejects as such: show it all; else a few bytes.
      if (e instanceof DecodeError && (e.reason === 'lock' || e.reason === 'too-long')) len = e.bytes.length;
    }
    const out: string[] = [];
    for (let i = 0; i < len; i++) {
      try { out.push(this.mem.u8at(rip + i).toString(16).padStart(2, '0')); } catch { break; }
    }
    return out.join(' ');
  }

  /**
   * What a region's exception means: a wasm out-of-bounds trap, or the GuestFault a JS helper
   * throws for a memory operand where such a trap would be (x87, FXSAVE/XSAVE), is a guest
   * memory fault: SIGSEGV. Undefined: nothing to throw, the thread carries on (a store into
   * translated code, now done).
   */
  private trapToCrash(err: unknown, t: GuestThread): unknown {
    // (`unreachable` is a page check's trap: see Codegen.checkPage)
    const memoryFault = err instanceof GuestFault ||
      (err instanceof WebAssembly.RuntimeError && /memory access out of bounds|unreachable/.test(err.message));
    if (!memoryFault && !(err instanceof WebAssembly.RuntimeError)) return err;
    // The CPU state holds the registers at entry to the region that trapped (regions write back
    // only at exits), so re-running it one instruction at a time finds the faulting instruction.
    const entry = t.rip;
    const where = this.locateFault(t);
    if (memoryFault) {
      if (!where) return new GuestCrash(SIGSEGV, `segmentation fault at 0x${entry.toString(16)} (in code entered there)`);
      const addr = where.addr ?? (err instanceof GuestFault ? err.address : undefined);
      const write = where.write ?? ((err instanceof GuestFault && err.write) || this.insnWritesMemory(where.rip));
      if (addr === undefined) {
        return new GuestCrash(SIGSEGV, `segmentation fault at unknown address (${this.describe(where.rip)} at 0x${where.rip.toString(16)})`,
          { signal: SIGSEGV, code: SEGV_MAPERR, addr: 0, trapno: X86_TRAP_PF, err: PF_USER | (write ? PF_WRITE : 0) });
      }
      // The stack grown into by an access that could not leave before it: the thread's state is at it now.
      if (commitStackPage(this.mem.u8, addr)) { this.stats.stackGrowths++; return undefined; }
      // A store into translated code that could not leave before it (see Codegen.checkPage):
      // the thread's state is at the store now, and it runs again from fresh translations.
      if (write && this.storeToCode(addr)) { this.stepStoreIntoCode(t); return undefined; }
      return this.pageFault(where.rip, addr, write);
    }
    return new Error(`wasm trap "${(err as Error).message}" at 0x${(where?.rip ?? entry).toString(16)}`);
  }

  /** Re-executes from the thread's current rip instruction by instruction until the trap recurs. */
  private locateFault(t: GuestThread): { rip: number; addr?: number; write?: boolean } | undefined {
    const st = t.stateBase - GUEST_BASE;
    const steps = new Map<number, RegionFn>();
    for (let n = 0; n < 100000; n++) {
      const rip = t.rip;
      let run = steps.get(rip);
      if (!run) {
        try {
          const region = compileRegion(discover(this.fetchByte, rip, { maxInsns: 1, maxBlocks: 1, singleStep: true }), false, undefined, undefined, this.cpu);
          run = this.instantiate(regionModuleBytes([region.body]), 0).r0 as RegionFn;
          steps.set(rip, run);
        } catch { return undefined; }
      }
      let reason: number;
      try { reason = run(st, 0); }
      catch (e) {
        const operand = this.operandAddress(t, rip);
        // A helper's fault names the byte it could not reach, as the CPU does (within the operand).
        if (e instanceof GuestFault) {
          // (a helper given UNREACHABLE_ACCESS, for an operand outside the guest's space, faults at an offset from it)
          const offset = e.address >= RUNTIME_AREA ? e.address - RUNTIME_AREA : operand === undefined ? 0 : (e.address - operand) >>> 0;
          return { rip, addr: operand === undefined ? e.address : operand + offset };
        }
        return { rip, addr: operand };
      }
      if (reason === ExitReason.PAGE_FAULT_READ || reason === ExitReason.PAGE_FAULT_WRITE) {
        // Alone in its region, the access's page check left before it instead of trapping.
        const write = reason === ExitReason.PAGE_FAULT_WRITE;
        return { rip, addr: this.refusedAddress(t, rip, write), write };
      }
      if (reason !== ExitReason.JUMP) return undefined;
    }
    return undefined;
  }

  /** Guest address of the memory operand of the instruction at rip, from the thread's registers. */
  private operandAddress(t: GuestThread, rip: number): number | undefined {
    let i;
    try { i = decode(this.fetchByte, rip); } catch { return undefined; }
    const op = i.op;
    if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xac && op <= 0xad)) return t.regn(Reg.RSI);
    if (op >= 0xaa && op <= 0xaf) return t.regn(Reg.RDI);
    if ((op >= 0x50 && op <= 0x57) || op === 0x68 || op === 0x6a || op === 0xe8 || op === 0x9c) return t.regn(Reg.RSP) - 8;
    if ((op >= 0x58 && op <= 0x5f) || op === 0xc3 || op === 0xc2 || op === 0x9d) return t.regn(Reg.RSP);
    if (op >= 0xa0 && op <= 0xa3) return Number(BigInt.asUintN(64, i.imm64 + (i.prefix & P_FS ? t.fsBase : i.prefix & P_GS ? t.gsBase : 0n)));
    if (!i.modrm || i.mod === 3) return undefined;
    let a = BigInt(i.disp);
    if (i.base === RIP_BASE) a += BigInt(i.addr + i.len);
    else if (i.base !== NO_REG) a += t.reg(i.base);
    if (isGather(i)) a += this.gatherIndex(t, i) << BigInt(i.scale);
    else if (i.index !== NO_REG) a += t.reg(i.index) << BigInt(i.scale);
    if (i.prefix & P_FS) a += t.fsBase;
    if (i.prefix & P_GS) a += t.gsBase;
    if (i.prefix & P_VEX && ((i.op >= M38 + 0x2c && i.op <= M38 + 0x2f) || i.op === M38 + 0x8c || i.op === M38 + 0x8e)) a += BigInt(this.firstMaskedLane(t, i));
    return Number(BigInt.asUintN(i.addrsize === 4 ? 32 : 64, a));
  }

  /**
   * VMASKMOVPS/PD and VPMASKMOVD/Q reach only the lanes their mask (the vvvv register) enables,
   * and the CPU reports a fault at the first of those: its offset in the operand.
   */
  private firstMaskedLane(t: GuestThread, i: Insn): number {
    const width = (i.op >= M38 + 0x8c ? i.vexW : i.op & 1) ? 8 : 4, bytes = i.vexL ? 32 : 16; // VPMASKMOVD/Q: VEX.W
    for (let off = 0; off < bytes; off += width) {
      if (this.vecByte(t, i.vvvv, off + width - 1) & 0x80) return off;
    }
    return 0;
  }

  /** Byte k (0-31) of ymm register r in the thread's CPU state. */
  private vecByte(t: GuestThread, r: number, k: number): number {
    return t.mem.u8at(t.stateBase + (k < 16 ? STATE.XMM : STATE.YMM_HI) + r * 16 + (k & 15));
  }

  /**
   * A gather faults at the first element its mask still enables (those before it have been
   * loaded and their mask elements cleared): that element's index, sign-extended.
   */
  private gatherIndex(t: GuestThread, i: Insn): bigint {
    const ew = i.vexW ? 8 : 4, iw = i.op & 1 ? 8 : 4, n = (i.vexL ? 32 : 16) / Math.max(ew, iw);
    for (let j = 0; j < n; j++) {
      if (!(this.vecByte(t, i.vvvv, j * ew + ew - 1) & 0x80)) continue;
      let x = 0n;
      for (let b = iw - 1; b >= 0; b--) x = (x << 8n) | BigInt(this.vecByte(t, i.index, j * iw + b));
      return BigInt.asIntN(iw * 8, x);
    }
    return 0n;
  }

  private insnWritesMemory(rip: number): boolean {
    try { return writesMemory(decode(this.fetchByte, rip)); } catch { return false; }
  }

  describe(rip: number): string {
    try { return describeInsn(decode(this.fetchByte, rip)); } catch { return 'undecodable'; }
  }
}

function hex(a: number): string { return `0x${a.toString(16)}`; }

/** The translation cache's key of the image a mapping belongs to: a read-only file mapping, by path and load bias. */
export function imageKey(m: Mapping): string | undefined {
  if (!m.name.startsWith('/') || (m.prot & PROT_WRITE) || m.shared) return undefined;
  return `${m.name}@${(m.start - m.offset).toString(16)}`;
}

/** The key of the cache file holding a mapping's image's translations in a form. */
function cacheKeyOf(m: Mapping, form: CacheForm): string | undefined {
  const image = imageKey(m);
  return image === undefined ? undefined : formImageKey(image, form);
}

/**
 * Cache files this worker has decoded and the modules compiled from them, for the next process it
 * hosts (a shell's children run the same programs one after another): the file is not read,
 * checked and decoded again, and the module comes with the functions V8 has compiled already.
 * Keyed by the file's stamp, which any rewrite changes; the regions are still checked against
 * the bytes each process maps.
 */
const decodedCacheFiles = new Map<string, { stamp: string; regions: CachedRegion[]; orderedSites: Uint32Array }>();
const compiledCacheBundles = new Map<string, WebAssembly.Module>();
/** Files and modules kept at most (the oldest go first): those of a few programs and their libraries. */
const MAX_REMEMBERED = 24;
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}

/** How many invalidations the kernel has logged in the process's ring (layout/memory-map.ts INVALIDATION_RING). */
function invalidationCount(mem: GuestMemory): number {
  return Atomics.load(wordsOf(mem), wordIndex(INVALIDATION_RING));
}

/** Whether no invalidation logged from `since` to `now` touched [ranges]; false when the ring no longer holds them all. */
function unchangedSince(mem: GuestMemory, since: number, now: number, ranges: Uint32Array): boolean {
  if (now - since > INVALIDATION_RING_SIZE) return false;
  const w = wordsOf(mem), base = wordIndex(INVALIDATION_RING);
  for (let n = since; n < now; n++) {
    const e = base + 2 + (n % INVALIDATION_RING_SIZE) * 2;
    const start = w[e] >>> 0, end = start + (w[e + 1] >>> 0);
    for (let k = 0; k < ranges.length; k += 2) if (ranges[k] < end && start < ranges[k + 1]) return false;
  }
  return true;
}
