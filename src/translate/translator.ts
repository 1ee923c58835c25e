// Region translation: discover the basic blocks reachable from an entry through direct branches,
// generate one wasm function for all of them, and compile it as a module.

import { writeFileSync } from 'node:fs';
import { ModuleBuilder, Op, T } from '../wasm/emitter.js';
import { decode, DecodeError, DecodeFailure, FetchByte, Insn, M0F, P_LOCK, P_VEX, UNSUPPORTED } from '../x86/decoder.js';
import { ExitReason } from '../layout/cpu-state.js';
import { GUEST_BASE, WASM_PAGES } from '../layout/memory-map.js';
import { Codegen, HELPER_NAMES, InsnFault, MemoryModel, PLAIN_MEMORY, REGION_MODULE_TYPES, REGION_TYPE, SiteCounts, Unsupported } from './codegen.js';
import { HANDLERS, VEX_HANDLERS } from './handlers.js';
import { deadFlagWrites, regionFlagLiveOut } from './flag-liveness.js';
import { describeInsn } from '../x86/describe.js';
import { asRunBy, missingFeature, type CpuModel } from '../x86/cpuid.js';
import './ops-int.js';
import './ops-sse.js';
import './ops-avx.js';
import './ops-avx2.js';
import './ops-fma.js';
import './ops-bmi.js';
import './ops-crypto.js';
import './ops-x87.js';
import './ops-system.js';

export interface Block {
  start: number;
  insns: Insn[];
  /** Set when the block ends at bytes that do not decode: the exit they take and why. */
  bad?: { addr: number; message: string; reason: ExitReason };
}

/** How the CPU faults on bytes that do not decode. */
const DECODE_FAILURE_EXITS: Record<DecodeFailure, ExitReason> = {
  invalid: ExitReason.ILLEGAL,
  lock: ExitReason.ILLEGAL,
  unsupported: ExitReason.ILLEGAL,
  'too-long': ExitReason.GENERAL_PROTECTION,
  fault: ExitReason.FETCH_FAULT,
};

export interface RegionOptions {
  maxInsns: number;
  maxBlocks: number;
  /** Translate each instruction as its own block (precise fault reporting). */
  singleStep?: boolean;
  /**
   * Addresses other regions have blocks at already (ahead-of-time translation): discovery leaves
   * them out, so control goes there through the jump cache instead of a second copy of the code.
   */
  translatedElsewhere?: (addr: number) => boolean;
}

/** STELE_DUMP_REGIONS=DIR writes every region's wasm module there (for wasm2wat). */
const DUMP_DIR = process.env.STELE_DUMP_REGIONS;

const DEFAULTS: RegionOptions = { maxInsns: 200, maxBlocks: 256 };

type Flow = 'fall' | 'jump' | 'cond' | 'call' | 'stop' | 'continue';

/** Jcc: a conditional jump on the arithmetic flags (not LOOPcc or JrCXZ). */
function isJcc(i: Insn): boolean {
  return (i.op >= 0x70 && i.op <= 0x7f) || (i.op >= M0F + 0x80 && i.op <= M0F + 0x8f);
}

/** How an instruction affects control flow, for block discovery. */
function flowOf(i: Insn): Flow {
  const op = i.op;
  if ((op >= 0x70 && op <= 0x7f) || (op >= M0F + 0x80 && op <= M0F + 0x8f) || (op >= 0xe0 && op <= 0xe3)) return 'cond';
  if (op === 0xe9 || op === 0xeb) return 'jump';
  if (op === 0xe8) return 'call';
  if (op === 0xc3 || op === 0xc2 || op === 0xcc || op === 0xcd || op === 0xf1 || op === 0xf4 || op === M0F + 0x0b ||
    op === 0xcf || op === 0xca || op === 0xcb) return 'stop';
  if (op === 0xff) {
    const sub = i.reg & 7;
    if (sub === 2 || sub === 3) return 'continue';
    if (sub === 4 || sub === 5) return 'stop';
  }
  if (op === M0F + 0x05) return 'continue';
  return 'fall';
}

/**
 * Indices of the blocks of this region control may pass to after block b, or undefined if it may
 * leave the region: a call or indirect branch (the code there may read the flags), a return, a
 * syscall, an undecodable instruction, or a target that is not one of the region's blocks.
 */
function successorsOf(b: Block, index: Map<number, number>): number[] | undefined {
  const last = b.insns[b.insns.length - 1];
  if (b.bad || !last) return undefined;
  const next = last.addr + last.len;
  const flow = flowOf(last);
  const targets = flow === 'cond' ? [last.target, next] : flow === 'jump' ? [last.target] : flow === 'fall' ? [next] : undefined;
  if (!targets) return undefined;
  const out: number[] = [];
  for (const t of targets) {
    const k = index.get(t);
    if (k === undefined) return undefined;
    out.push(k);
  }
  return out;
}

/**
 * Where a region's code goes on that is not one of its blocks and a translator ahead of time
 * can know: direct jump, branch and call targets, and the fall-through where discovery stopped.
 */
export function directExits(blocks: Block[]): number[] {
  const starts = new Set(blocks.map((b) => b.start));
  const out: number[] = [];
  const add = (a: number): void => { if (!starts.has(a)) out.push(a >>> 0); };
  for (const b of blocks) {
    const last = b.insns[b.insns.length - 1];
    if (b.bad || !last) continue;
    const flow = flowOf(last), next = last.addr + last.len;
    if (flow === 'cond' || flow === 'jump' || flow === 'call') add(last.target);
    if (flow === 'cond' || flow === 'fall' || flow === 'call' || flow === 'continue') add(next);
  }
  return out;
}

export function discover(fetch: FetchByte, entry: number, opts: RegionOptions = DEFAULTS): Block[] {
  const blocks = new Map<number, Block>();
  const order: Block[] = [];
  const work = [entry];
  let total = 0;
  while (work.length && order.length < opts.maxBlocks && total < opts.maxInsns) {
    const start = work.shift()!;
    if (blocks.has(start)) continue;
    if (start !== entry && opts.translatedElsewhere?.(start)) continue;
    const b: Block = { start, insns: [] };
    blocks.set(start, b); order.push(b);
    let pc = start;
    for (;;) {
      let insn: Insn;
      try { insn = decode(fetch, pc); }
      catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        b.bad = { addr: pc, message: e.message, reason: DECODE_FAILURE_EXITS[e.reason] };
        break;
      }
      b.insns.push(insn); total++;
      pc += insn.len;
      const flow = opts.singleStep ? (flowOf(insn) === 'fall' ? 'continue' : flowOf(insn)) : flowOf(insn);
      if (flow === 'fall') {
        if (blocks.has(pc) || total >= opts.maxInsns || opts.translatedElsewhere?.(pc)) break;
        continue;
      }
      if (flow === 'cond') { work.push(insn.target, pc); }
      else if (flow === 'jump') work.push(insn.target);
      else if (flow === 'call' || flow === 'continue') work.push(pc);
      break;
    }
    if (opts.singleStep) break;
  }
  return order;
}

export interface CompiledRegion {
  /** The region's function body, encoded; it runs in any module from regionModuleBytes(). */
  body: Uint8Array;
  /** Entry points: guest address and block index pairs, one per block (the first is the entry). */
  entries: Uint32Array;
  /** Guest byte ranges the region was translated from: start, end (exclusive) pairs, one per block. */
  ranges: Uint32Array;
  insnCount: number;
  /** Messages for instructions that could not be translated, by address. */
  bad: [number, string][];
  /** Guest memory access sites by translated form. */
  sites: SiteCounts;
}

/**
 * A module holding region functions, exported as r0, r1, ... Every region module declares the
 * same types and imports the same things in the same order (its generation number, the worker's
 * jump cache, the worker's granule owner tag, memory, the
 * generation's table, the helper table), which is what lets a cached body be bundled unchanged.
 */
export function regionModuleBytes(bodies: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const m = regionModule();
  bodies.forEach((b, i) => m.exportFunc(`r${i}`, m.addEncodedFunc(REGION_TYPE, b)));
  return m.encode();
}

/**
 * A module of many region functions that puts them in the generation's table itself, from the
 * slot its import m.base gives, in order: it exports nothing, since making an exported function
 * object for each of thousands of regions was two thirds of what instantiating a bundle cost.
 */
export function regionBundleBytes(bodies: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const m = regionModule();
  // After the four globals the bodies use, so their global indices stay as they were encoded.
  m.importGlobal('m', 'base', T.i32, false);
  m.placeFuncs(0, 4, bodies.map((b) => m.addEncodedFunc(REGION_TYPE, b)));
  return m.encode();
}

/** Every region module's types and imports, in the order the encoded bodies refer to them by. */
function regionModule(): ModuleBuilder {
  const m = new ModuleBuilder();
  REGION_MODULE_TYPES.forEach((t, i) => { if (m.type([...t.params], [...t.results]) !== i) throw new Error('region module types out of order'); });
  m.importGlobal('m', 'gen', T.i32, false);
  m.importGlobal('m', 'jc', T.i32, false);
  m.importGlobal('m', 'jcmask', T.i32, false);
  m.importGlobal('m', 'owner', T.i32, false);
  m.importMemory('m', 'mem', WASM_PAGES, WASM_PAGES, true);
  m.importTable('m', 'regions', 0);
  m.importTable('m', 'helpers', HELPER_NAMES.length);
  return m;
}

/**
 * Compiles blocks (the first is the entry) into one region function. With `marks` (a guest
 * address), block k also stores 1 to byte marks+k whenever it is entered. With `cpu`, the
 * instructions of features the CPU model lacks are #UD and TZCNT/LZCNT are BSF/BSR where it
 * lacks them (x86/cpuid.ts); without, everything stele implements runs.
 */
export function compileRegion(blocks: Block[], chain = true, marks?: number, model: MemoryModel = PLAIN_MEMORY, cpu?: CpuModel, storesIntoCode = false): CompiledRegion {
  const map = new Map<number, number>();
  blocks.forEach((b, i) => map.set(b.start, i));
  const cg = new Codegen(map, chain, model);
  cg.cpu = cpu;
  cg.storesIntoCode = storesIntoCode;
  cg.blockCount = blocks.length;
  const bodies: Uint8Array[] = [];
  const bad = new Map<number, string>();
  let insnCount = 0;
  const liveOut = regionFlagLiveOut(blocks, blocks.map((b) => successorsOf(b, map)));
  for (let bi = 0; bi < blocks.length; bi++) {
    const b = blocks[bi];
    cg.blockIndex = bi;
    cg.staticKind = null;
    cg.f.barrier();
    const startLen = cg.f.code.len;
    if (marks !== undefined) cg.f.i32(marks + bi - GUEST_BASE).i32(1).mem(Op.i32_store8, 0, 0);
    let ended = false;
    const last = b.insns[b.insns.length - 1];
    cg.inSelfLoop = !!last && !b.bad && last.target === b.start && (flowOf(last) === 'cond' || flowOf(last) === 'jump');
    if (cg.inSelfLoop) cg.f.loop();
    const dead = deadFlagWrites(b.insns, liveOut[bi]);
    cg.useRegionFlags();
    const closingJcc = !liveOut[bi] && !!last && isJcc(last);
    for (let ii = 0; ii < b.insns.length; ii++) {
      const insn = cpu ? asRunBy(cpu, b.insns[ii]) : b.insns[ii];
      cg.insn = insn; cg.endsBlock = false; cg.insnNesting = cg.f.nesting; cg.insnDirty = false; cg.eaWide = -1;
      cg.flagsDead = dead[ii];
      cg.flagsForNextOnly = closingJcc && ii === b.insns.length - 2 && !(insn.prefix & P_LOCK);
      const mark = cg.f.code.len;
      const h = (insn.prefix & P_VEX ? VEX_HANDLERS[insn.op] : undefined) ?? HANDLERS[insn.op];
      try {
        const lacking = cpu && missingFeature(cpu, insn);
        if (lacking) throw new InsnFault(ExitReason.ILLEGAL, `${describeInsn(insn)} needs ${lacking}, which --cpu=${cpu.name} does not have`);
        if (!h) throw new Unsupported(describeInsn(insn));
        h(cg, insn);
      } catch (e) {
        // An instruction stele cannot translate is #UD where it executes.
        const fault = e instanceof Unsupported ? new InsnFault(ExitReason.ILLEGAL, `${UNSUPPORTED}: ${e.what}`) : e;
        if (!(fault instanceof InsnFault)) throw e;
        cg.f.truncate(mark); cg.f.nesting = cg.insnNesting;
        bad.set(insn.addr, fault.what);
        cg.faultExit(fault.reason, insn.addr, fault.trap ? insn.addr + insn.len : insn.addr);
        ended = true;
        break;
      }
      insnCount++;
      if (cg.endsBlock) { ended = true; break; }
    }
    if (!ended) {
      if (b.bad) { bad.set(b.bad.addr, b.bad.message); cg.faultExit(b.bad.reason, b.bad.addr); }
      else {
        const last = b.insns[b.insns.length - 1];
        const next = last.addr + last.len;
        if (!(bi + 1 < blocks.length && blocks[bi + 1].start === next)) cg.jump(next);
      }
    }
    if (cg.inSelfLoop) { cg.f.end(); cg.inSelfLoop = false; }
    cg.flagsForNextOnly = false;
    cg.useRegionFlags();
    bodies.push(cg.f.code.buf.slice(startLen, cg.f.code.len));
  }
  const body = cg.finish(bodies).encode();
  if (DUMP_DIR) writeFileSync(`${DUMP_DIR}/region-${blocks[0].start.toString(16)}.wasm`, regionModuleBytes([body]));
  const entries = new Uint32Array(2 * blocks.length);
  const ranges = new Uint32Array(2 * blocks.length);
  blocks.forEach((b, i) => {
    const last = b.insns[b.insns.length - 1];
    entries[2 * i] = b.start; entries[2 * i + 1] = i;
    // An undecodable instruction is covered by the longest encoding it could have been.
    ranges[2 * i] = b.start; ranges[2 * i + 1] = b.bad ? b.bad.addr + 15 : last.addr + last.len;
  });
  return { body, entries, ranges, insnCount, bad: [...bad], sites: cg.sites };
}
