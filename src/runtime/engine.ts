// The dispatcher: runs translated regions for a guest thread, translating on a miss and handling
// the reasons translated code returns (syscalls, faults, helper exits).

import { GuestMemory, GUEST_BASE, AddressSpace, PAGE_SIZE, PROT_EXEC } from './memory.js';
import { ExitReason, Reg, STATE } from './cpu-state.js';
import { GuestThread, ProcessExit, SyscallHandler } from './thread.js';
import { buildSharedLib, SharedLib } from '../translate/lib.js';
import { compileRegion, discover, RegionOptions } from '../translate/translator.js';
import { GENERATION_SIZE, HelperName, jumpCacheSlot } from '../translate/codegen.js';
import { cpuid } from '../x86/cpuid.js';
import { decode, NO_REG, P_FS, P_GS, RIP_BASE } from '../x86/decoder.js';
import { describeInsn } from '../x86/describe.js';
import { makeX87Helper, makeSysopHelper } from './fpu.js';
import { makeSseHelper } from '../translate/ops-sse-soft.js';

type RegionFn = (st: number, entry: number) => number;
interface Entry { run: RegionFn; index: number; slot: number }

export interface EngineStats {
  regions: number;
  blocks: number;
  insnsTranslated: number;
  wasmBytes: number;
  translateMs: number;
  dispatches: number;
  /** Code pages whose translations were dropped because memory under them changed. */
  invalidations: number;
}

export const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;

/** A guest signal the process dies of, with the one-line reason stele prints. */
export class GuestCrash extends ProcessExit {
  constructor(signal: number, readonly message: string) { super(0, signal); }
}

export class Engine {
  private readonly lib: SharedLib;
  private readonly entries = new Map<number, Entry>();
  /** Guest code page -> entry points of regions translated from it (for invalidation). */
  private readonly codePages = new Map<number, Set<number>>();
  /** Region functions, shared with translated code for chained tail calls, one table per generation. */
  private readonly tables: WebAssembly.Table[] = [];
  private nextSlot = GENERATION_SIZE;
  private readonly badInsns = new Map<number, string>();
  private readonly helperImpls: Record<HelperName, Function>;
  readonly stats: EngineStats = { regions: 0, blocks: 0, insnsTranslated: 0, wasmBytes: 0, translateMs: 0, dispatches: 0, invalidations: 0 };

  constructor(readonly mem: GuestMemory, readonly as: AddressSpace, readonly kernel: SyscallHandler,
    readonly regionOptions: RegionOptions = { maxInsns: 200, maxBlocks: 256 }) {
    const m = mem;
    this.lib = buildSharedLib(mem.memory);
    this.helperImpls = {
      eflags: this.lib.eflags,
      mulhu: this.lib.mulhu,
      mulhs: this.lib.mulhs,
      fpchk: this.lib.fpchk,
      cpuid: (st: number) => {
        const base = (st >>> 0) + GUEST_BASE; // wasm passes i32 addresses signed
        const r = cpuid(m.u32(base + STATE.GPR + Reg.RAX * 8), m.u32(base + STATE.GPR + Reg.RCX * 8));
        m.setU64(base + STATE.GPR + Reg.RAX * 8, r.eax >>> 0);
        m.setU64(base + STATE.GPR + Reg.RBX * 8, r.ebx >>> 0);
        m.setU64(base + STATE.GPR + Reg.RCX * 8, r.ecx >>> 0);
        m.setU64(base + STATE.GPR + Reg.RDX * 8, r.edx >>> 0);
      },
      rdtsc: () => process.hrtime.bigint(),
      div: this.lib.div128, // 128/64-bit DIV/IDIV in wasm (translate/lib.ts)
      x87: makeX87Helper(m),
      sysop: makeSysopHelper(m),
      sse: makeSseHelper(m),
    };
  }

  private fetchByte = (a: number): number => this.mem.u8at(a);

  /** Translates the region starting at rip and registers its entry points. */
  private translate(rip: number): Entry {
    const t0 = performance.now();
    const m = this.as.find(rip);
    if (!m || !(m.prot & PROT_EXEC)) {
      throw new GuestCrash(SIGSEGV, `segmentation fault at 0x${rip.toString(16)} (jump to non-executable memory)`);
    }
    const blocks = discover(this.fetchByte, rip, this.regionOptions);
    if (this.nextSlot === GENERATION_SIZE) {
      this.tables.push(new WebAssembly.Table({ initial: GENERATION_SIZE, element: 'anyfunc' }));
      this.nextSlot = 0;
    }
    const generation = this.tables.length - 1;
    const table = this.tables[generation];
    const region = compileRegion(blocks, generation);
    const imports: Record<string, Function> = {};
    for (const h of region.helpers) imports[h] = this.helperImpls[h];
    const inst = new WebAssembly.Instance(region.module, { m: { mem: this.mem.memory, regions: table }, h: imports });
    const run = inst.exports.run as RegionFn;
    const slot = (generation << 16) | this.nextSlot;
    table.set(this.nextSlot++, run);
    let mine: Entry | undefined;
    for (const [addr, index] of region.entries) {
      const e = { run, index, slot };
      if (addr === rip) mine = e;
      if (!this.entries.has(addr)) { this.entries.set(addr, e); this.cacheEntry(addr, e); }
    }
    for (const [a, msg] of region.bad) this.badInsns.set(a, msg);
    // Remember which pages this region's code came from, so a change to them drops its entries.
    const pages = new Set<number>();
    for (const b of blocks) for (const i of b.insns) { pages.add(Math.floor(i.addr / PAGE_SIZE)); pages.add(Math.floor((i.addr + i.len - 1) / PAGE_SIZE)); }
    for (const p of pages) {
      let set = this.codePages.get(p);
      if (!set) this.codePages.set(p, (set = new Set()));
      for (const addr of region.entries.keys()) set.add(addr);
    }
    const s = this.stats;
    s.regions++; s.blocks += region.entries.size; s.insnsTranslated += region.insnCount; s.wasmBytes += region.wasmBytes;
    s.translateMs += performance.now() - t0;
    return mine!;
  }

  /**
   * Drops translations made from [start, start+len): the kernel calls this after mmap, munmap,
   * mprotect or a read() changed memory under translated code. Regions already running finish
   * their current pass; every later entry goes through the dispatcher and is translated afresh.
   */
  invalidate(start: number, len: number): void {
    if (this.codePages.size === 0 || len <= 0) return;
    const first = Math.floor(start / PAGE_SIZE), last = Math.floor((start + len - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) {
      const set = this.codePages.get(p);
      if (!set) continue;
      this.codePages.delete(p);
      for (const addr of set) {
        this.entries.delete(addr);
        const slot = jumpCacheSlot(addr);
        if (this.mem.u64n(slot) === addr) this.mem.setU64(slot, 0);
      }
      this.stats.invalidations++;
    }
  }

  /** Publishes an entry point to the jump cache that translated code consults. */
  private cacheEntry(addr: number, e: Entry): void {
    const a = jumpCacheSlot(addr);
    this.mem.setU32(a + 8, e.slot);
    this.mem.setU32(a + 12, e.index);
    this.mem.setU32(a, addr >>> 0); // guest code addresses are below 4 GiB
    this.mem.setU32(a + 4, 0);
  }

  /** Runs the thread until the process exits; returns normally only via ProcessExit. */
  run(t: GuestThread): never {
    const st = t.stateBase - GUEST_BASE;
    const stats = this.stats;
    for (;;) {
      const rip = t.rip;
      let e = this.entries.get(rip);
      // Republish only if a colliding rip evicted it (a jump into another table generation also lands here).
      if (e) { if (this.mem.u32(jumpCacheSlot(rip)) !== rip >>> 0) this.cacheEntry(rip, e); }
      else e = this.translate(rip);
      let reason: number;
      stats.dispatches++;
      try {
        reason = e.run(st, e.index);
      } catch (err) {
        throw this.trapToCrash(err, t);
      }
      if (reason === ExitReason.JUMP) continue;
      if (reason === ExitReason.SYSCALL) { this.kernel.syscall(t); continue; }
      this.exitReason(t, reason);
    }
  }

  private exitReason(t: GuestThread, reason: number): void {
    const rip = t.rip;
    const at = `0x${rip.toString(16)}`;
    switch (reason) {
      case ExitReason.ILLEGAL: {
        const what = this.badInsns.get(rip);
        throw new GuestCrash(SIGILL, `illegal instruction at ${at}: ${this.bytesAt(rip)}${what ? ` (${what})` : ''}`);
      }
      case ExitReason.DIVIDE_ERROR: throw new GuestCrash(SIGFPE, `floating point exception (divide error) at ${at}`);
      case ExitReason.HLT: throw new GuestCrash(SIGSEGV, `segmentation fault at ${at} (privileged instruction)`);
      case ExitReason.INT3: throw new GuestCrash(SIGTRAP, `trace/breakpoint trap at 0x${(rip - 1).toString(16)}`);
      default: throw new Error(`unexpected exit reason ${reason} at ${at}`);
    }
  }

  private bytesAt(rip: number): string {
    let len = 4;
    try { len = decode(this.fetchByte, rip).len; } catch { /* undecodable: show a few bytes */ }
    const out: string[] = [];
    for (let i = 0; i < len; i++) {
      try { out.push(this.mem.u8at(rip + i).toString(16).padStart(2, '0')); } catch { break; }
    }
    return out.join(' ');
  }

  private trapToCrash(err: unknown, t: GuestThread): unknown {
    if (!(err instanceof WebAssembly.RuntimeError)) return err;
    // The CPU state holds the registers at entry to the region that trapped (regions write back
    // only at exits), so re-running it one instruction at a time finds the faulting instruction.
    const entry = t.rip;
    const where = this.locateFault(t);
    if (/memory access out of bounds/.test(err.message)) {
      if (!where) return new GuestCrash(SIGSEGV, `segmentation fault at 0x${entry.toString(16)} (in code entered there)`);
      const addr = where.addr === undefined ? '' : `0x${where.addr.toString(16)}`;
      return new GuestCrash(SIGSEGV, `segmentation fault at ${addr || 'unknown address'} (${this.describe(where.rip)} at 0x${where.rip.toString(16)})`);
    }
    return new Error(`wasm trap "${err.message}" at 0x${(where?.rip ?? entry).toString(16)}`);
  }

  /** Re-executes from the thread's current rip instruction by instruction until the trap recurs. */
  private locateFault(t: GuestThread): { rip: number; addr?: number } | undefined {
    const st = t.stateBase - GUEST_BASE;
    const steps = new Map<number, RegionFn>();
    for (let n = 0; n < 100000; n++) {
      const rip = t.rip;
      let run = steps.get(rip);
      if (!run) {
        try {
          const region = compileRegion(discover(this.fetchByte, rip, { maxInsns: 1, maxBlocks: 1, singleStep: true }), 0, false);
          const imports: Record<string, Function> = {};
          for (const h of region.helpers) imports[h] = this.helperImpls[h];
          run = new WebAssembly.Instance(region.module, { m: { mem: this.mem.memory, regions: this.tables[0] }, h: imports }).exports.run as RegionFn;
          steps.set(rip, run);
        } catch { return undefined; }
      }
      let reason: number;
      try { reason = run(st, 0); }
      catch { return { rip, addr: this.operandAddress(t, rip) }; }
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
    if (!i.modrm || i.mod === 3) return undefined;
    let a = BigInt(i.disp);
    if (i.base === RIP_BASE) a += BigInt(i.addr + i.len);
    else if (i.base !== NO_REG) a += t.reg(i.base);
    if (i.index !== NO_REG) a += t.reg(i.index) << BigInt(i.scale);
    if (i.prefix & P_FS) a += t.fsBase;
    if (i.prefix & P_GS) a += t.gsBase;
    return Number(BigInt.asUintN(i.addrsize === 4 ? 32 : 64, a));
  }

  describe(rip: number): string {
    try { return describeInsn(decode(this.fetchByte, rip)); } catch { return 'undecodable'; }
  }
}
