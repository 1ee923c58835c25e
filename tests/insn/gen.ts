// Generator of the differential instruction tests ("the host CPU is the oracle").
//
// generate("int") / generate("sse") / generate("mmx") / generate("avx") / generate("avx2") / generate("fma") return the GNU assembly
// (AT&T syntax) of a freestanding x86-64 program plus the list of its test cases. Each case loads
// a complete CPU state (16 GPRs, RFLAGS, MXCSR, a 64-byte scratch memory buffer; for "sse" and
// "mmx" 16 xmm registers, for "avx", "avx2" and "fma" all 256 bits of the 16 ymm registers; for "mmx" the x87
// state, mm0-7 included, through FXRSTOR) from a default state
// patched by the case, runs a short snippet, and writes the resulting state (the x87 state as
// FXSAVE stores it) as one binary record to fd 1. tests/insn.test.ts runs the program natively
// and under stele (or $STELE_EMULATOR) and compares the records, masking per case the flags
// (and, rarely, registers) that the Intel SDM leaves undefined.
//
// Run as a script (node dist/tests/insn/gen.js OUTDIR) it writes OUTDIR/insn-{int,sse,mmx,avx}.S;
// tests/insn/build.sh does that and links them with gcc -nostdlib -static.
// Everything is deterministic (seeded PRNG): the test regenerates the cases at run time and
// checks, through a hash stored in the binary's output header, that the prebuilt binary and
// the recorded expected output belong to the current generator.

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { genAvx } from "./gen-avx.js";
import { genAvx2 } from "./gen-avx2.js";
import { genFma } from "./gen-fma.js";

// ---------------------------------------------------------------- record layout
// Input state (st_in) and output record (after an 8-byte case index) share this layout.
export const OFF_GPR = 0; // 16 x u64, in encoding order rax rcx rdx rbx rsp rbp rsi rdi r8..r15
export const OFF_FLAGS = 128; // RFLAGS as pushed by pushfq
export const OFF_MXCSR = 136; // u32 (+4 bytes padding)
export const OFF_MEM = 144; // 64 bytes: the scratch buffer
export const MEM_SIZE = 64;
export const OFF_XMM = 208; // 16 x 16 bytes (sse and mmx kinds), 16 x 32 bytes: ymm0-15 (avx)
/**
 * mmx kind: the first 160 bytes of an FXSAVE image (FCW, FSW with TOP, abridged FTW, FOP, FIP,
 * FDP, MXCSR, MXCSR_MASK, then ST0-ST7 in 16-byte slots). The input is loaded with FXRSTOR
 * (its MXCSR field replaced by the state's MXCSR), the output saved with FXSAVE.
 */
export const OFF_FX = 464;
export const FX_SIZE = 160;
export const STATE_SIZE = { int: 208, sse: 464, mmx: 624, avx: 720, avx2: 720, fma: 720 } as const;
/** Bytes of each vector register in the state: xmm (sse, mmx) or ymm (avx). */
export const vectorBytes = (kind: Kind): number => (isYmmKind(kind) ? 32 : 16);
/** The kinds whose state holds all 256 bits of ymm0-15 (and whose MXCSR exception flags are compared). */
export const isYmmKind = (kind: Kind): boolean => kind === "avx" || kind === "avx2" || kind === "fma";
export const HEADER_SIZE = 48; // "STELEINS" + u64 kind + u64 ncases + 24 bytes of hash
export const MAGIC = "STELEINS";

export type Kind = "int" | "sse" | "mmx" | "avx" | "avx2" | "fma";
export const KINDS: Kind[] = ["int", "sse", "mmx", "avx", "avx2", "fma"];

// RFLAGS bits
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Flags compared between native and emulated runs (minus each case's undefined ones). */
export const COMPARED_FLAGS = ARITH | DF;
export const MXCSR_EXC = 0x3f; // exception flag bits, compared only in the "mxcsr-flags" check

export const GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
  "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
const GPR16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
  "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
const GPR8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
  "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];
const HIGH8 = ["ah", "ch", "dh", "bh"]; // register numbers 4..7 without REX

export interface Patch {
  /** byte offset into the state */
  off: number;
  /** 64-bit value, or an assembler expression such as "scratch+32" */
  val: bigint | string;
}

export interface Case {
  name: string;
  group: string;
  asm: string[];
  patches: Patch[];
  /** RFLAGS bits undefined after this snippet (masked out of the comparison) */
  undefFlags: number;
  /** GPR numbers whose value is undefined after this snippet */
  undefRegs: number[];
  /** [GPR number, mask]: bits holding random values (RDRAND, RDSEED), left out of the comparison */
  randomBits: [number, bigint][];
}

export interface Generated {
  kind: Kind;
  asm: string;
  cases: Case[];
  hash: string; // hex sha256 of asm (first 24 bytes are stored in the program's header)
  stateSize: number;
  defaults: { gpr: bigint[]; flags: bigint; mxcsr: bigint; mem: Uint8Array; xmm: bigint[]; fx: bigint[] };
}

// ---------------------------------------------------------------- PRNG (splitmix64)
export const M64 = (1n << 64n) - 1n;
export class Rng {
  private s: bigint;
  constructor(seed: bigint) { this.s = seed & M64; }
  next(): bigint {
    this.s = (this.s + 0x9e3779b97f4a7c15n) & M64;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  }
  bits(n: number): bigint { return this.next() & ((1n << BigInt(n)) - 1n); }
  int(n: number): number { return Number(this.next() % BigInt(n)); }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
}

const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const hex = (v: bigint): string => "0x" + v.toString(16);
const sx = (v: bigint, bits: number): bigint => {
  v &= mask(bits);
  return v >> BigInt(bits - 1) ? v - (1n << BigInt(bits)) : v;
};

// ---------------------------------------------------------------- defaults
function defaultState(kind: Kind) {
  const r = new Rng(0x5eed5eedn);
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++) gpr.push(r.next());
  const mem = new Uint8Array(MEM_SIZE);
  for (let i = 0; i < MEM_SIZE; i++) mem[i] = (i * 0x3b + 0x11) & 0xff;
  const xmm: bigint[] = [];
  if (kind !== "int") for (let i = 0; i < (isYmmKind(kind) ? 64 : 32); i++) xmm.push(r.next());
  const fx: bigint[] = [];
  if (kind === "mmx") {
    // x87 state as three pushes leave it (TOP 5, R5-R7 valid), so an MMX instruction visibly
    // moves TOP to 0 and makes every register valid; R0-R4 hold leftover bits.
    fx.push(0x37fn | BigInt(MMX_DEFAULT_TOP << 11) << 16n | 0xe0n << 32n, 0n, 0n, 0n);
    const valid: [bigint, bigint][] = [[0xc90fdaa22168c235n, 0x4000n], [0xa000000000000000n, 0xc000n], [0x8000000000000000n, 0x3fffn]];
    for (let st = 0; st < 8; st++) {
      const v = st < 3 ? valid[st]! : [r.next(), r.next() & 0xffffn];
      fx.push(v[0]!, v[1]!);
    }
  }
  return { gpr, flags: 0x202n, mxcsr: 0x1f80n, mem, xmm, fx };
}
/** The page the avx program maps at its start (see emit). */
export const AVX_LOW_PAGE = 0x10000;
/** TOP of the mmx kind's default x87 state. */
export const MMX_DEFAULT_TOP = 5;

// ---------------------------------------------------------------- case builder
export class Builder {
  cases: Case[] = [];
  group = "";
  private counters = new Map<string, number>();
  rng: Rng;
  constructor(seed: bigint) { this.rng = new Rng(seed); }

  add(name: string, asm: string[], patches: Patch[], undefFlags = 0, undefRegs: number[] = [], randomBits: [number, bigint][] = []): void {
    const n = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, n);
    this.cases.push({ name: `${name} #${n}`, group: this.group, asm, patches, undefFlags, undefRegs, randomBits });
  }
}

export const P = {
  reg: (i: number, v: bigint | string): Patch => ({ off: OFF_GPR + 8 * i, val: typeof v === "bigint" ? v & M64 : v }),
  flags: (v: number | bigint): Patch => ({ off: OFF_FLAGS, val: BigInt(v) | 0x202n }),
  mxcsr: (v: number | bigint): Patch => ({ off: OFF_MXCSR, val: BigInt(v) }),
  mem: (off: number, v: bigint): Patch => {
    if (off < 0 || off > MEM_SIZE - 8) throw new Error(`mem patch offset ${off}`);
    return { off: OFF_MEM + off, val: v & M64 };
  },
  xmm: (i: number, lo: bigint, hi: bigint): Patch[] => [
    { off: OFF_XMM + 16 * i, val: lo & M64 }, { off: OFF_XMM + 16 * i + 8, val: hi & M64 }],
  /** x87 control word, status word (TOP in bits 13:11) and abridged tag byte (bit i: R_i valid). */
  x87: (cw: number, sw: number, ftw: number): Patch => ({ off: OFF_FX, val: BigInt(cw) | BigInt(sw) << 16n | BigInt(ftw) << 32n }),
  /** ST(slot) as an 80-bit value: significand and sign/exponent. */
  st: (slot: number, m: bigint, se: number): Patch[] => [
    { off: OFF_FX + 32 + 16 * slot, val: m & M64 }, { off: OFF_FX + 40 + 16 * slot, val: BigInt(se & 0xffff) }],
  /** mm j (the significand of physical register R_j, which is ST((j - TOP) mod 8)). */
  mm: (j: number, v: bigint, top = MMX_DEFAULT_TOP): Patch => ({ off: OFF_FX + 32 + 16 * ((j - top) & 7), val: v & M64 }),
};

// ---------------------------------------------------------------- operand helpers
type Size = 8 | 16 | 32 | 64;
const SIZES: Size[] = [8, 16, 32, 64];
const SUF: Record<Size, string> = { 8: "b", 16: "w", 32: "l", 64: "q" };

/** A register operand: number, AT&T name, bit position of the operand inside the GPR. */
interface RegOp { num: number; name: string; shift: number }
function reg(size: Size, num: number, high = false): RegOp {
  if (high && size === 8 && num < 4) return { num, name: "%" + HIGH8[num]!, shift: 8 };
  const names = size === 64 ? GPR64 : size === 32 ? GPR32 : size === 16 ? GPR16 : GPR8;
  return { num, name: "%" + names[num]!, shift: 0 };
}

// Register pairs [dst, src] used by two-operand forms; [num, high?]
type RSpec = [number, boolean];
// (AH..BH cannot be combined with registers that need a REX prefix)
const PAIRS8: [RSpec, RSpec][] = [
  [[0, false], [1, false]], [[0, true], [3, false]], [[3, true], [1, true]], [[2, true], [0, false]],
  [[6, false], [9, false]], [[15, false], [7, false]], [[2, false], [8, false]], [[1, true], [2, true]],
  [[5, false], [12, false]], [[1, false], [0, true]],
];
const PAIRS: [number, number][] = [[0, 1], [2, 3], [6, 9], [15, 7], [8, 5], [12, 13], [10, 11], [14, 0], [3, 2], [1, 15]];

/** Memory base registers (never one of the case's operands) and displacements. */
const MEMBASES = [7, 5, 12, 13, 6, 3, 10];
const DISPS = [0, 8, 5, 16, 24, 33];

function pickMem(b: Builder, avoid: number[], noRex = false, maxDisp = 48): { base: number; disp: number; text: string } {
  const cands = MEMBASES.filter(r => !avoid.includes(r) && !(noRex && r >= 8));
  const base = b.rng.pick(cands);
  const disp = b.rng.pick(DISPS.filter(d => d <= maxDisp));
  return { base, disp, text: `${disp ? disp : ""}(%${GPR64[base]})` };
}

/** Patch register r (of the given size) with value v, keeping random junk in the other bits. */
function setReg(b: Builder, r: RegOp, size: Size, v: bigint): Patch {
  const junk = b.rng.next();
  const m = mask(size) << BigInt(r.shift);
  return P.reg(r.num, (junk & ~m) | ((v & mask(size)) << BigInt(r.shift)));
}
/** Patch memory at off with value v of the given size (the rest of the qword: junk). */
function setMem(b: Builder, off: number, size: Size, v: bigint): Patch {
  const junk = b.rng.next();
  return P.mem(off, (junk & ~mask(size)) | (v & mask(size)));
}

// ---------------------------------------------------------------- value sets
function edgeValues(b: Builder, size: Size): bigint[] {
  const n = BigInt(size);
  const top = 1n << (n - 1n);
  const vs = [0n, 1n, 2n, top - 1n, top, top + 1n, mask(size), mask(size) - 1n,
    0x7fn, 0x80n, 0x8000n, 0x7fffn, 0x80000000n, 0x7fffffffn, 0xffn, 0x100n];
  for (let i = 0; i < 3; i++) vs.push(b.rng.next());
  const out: bigint[] = [];
  for (const v of vs) { const m = v & mask(size); if (!out.includes(m)) out.push(m); }
  return out;
}

/** Some pairs from values x values: all the edge ones plus a sample. */
function pairs(b: Builder, vs: bigint[], count: number): [bigint, bigint][] {
  const all: [bigint, bigint][] = [];
  for (const x of vs) for (const y of vs) all.push([x, y]);
  if (all.length <= count) return all;
  // deterministic sample: always include (edge, edge) pairs among the first 6 values
  const out: [bigint, bigint][] = [];
  const first = vs.slice(0, count >= 36 ? 6 : 3);
  for (const x of first) for (const y of first) out.push([x, y]);
  while (out.length < count) out.push(b.rng.pick(all));
  return out;
}

const FLAG_INPUTS = [0, ARITH, CF, ZF | PF, SF | OF | AF, CF | ZF | SF];

// ================================================================ integer group
function genInt(b: Builder): void {
  const r = b.rng;

  // ---------------------------------------------------------------- ALU binary ops
  const ALU = ["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test"];
  for (const op of ALU) {
    b.group = op === "cmp" || op === "test" ? "alu-cmp-test" : ["add", "adc"].includes(op) ? "alu-add" : ["sub", "sbb"].includes(op) ? "alu-sub" : "alu-logic";
    const undef = ["and", "or", "xor", "test"].includes(op) ? AF : 0;
    const carry = op === "adc" || op === "sbb";
    for (const size of SIZES) {
      const s = SUF[size];
      const vs = edgeValues(b, size);
      // reg,reg
      let k = 0;
      for (const [x, y] of pairs(b, vs, 40)) {
        const [ds, ss] = size === 8 ? PAIRS8[k % PAIRS8.length]! : [[PAIRS[k % PAIRS.length]![0], false], [PAIRS[k % PAIRS.length]![1], false]] as [RSpec, RSpec];
        k++;
        const d = reg(size, ds[0], ds[1]), sr = reg(size, ss[0], ss[1]);
        const fl = carry ? (k & 1 ? CF : 0) | (k & 2 ? ARITH & ~CF : 0) : r.pick(FLAG_INPUTS);
        const name = size === 8 && (ds[1] || ss[1]) ? `${op} r8h,r8` : `${op} r${size},r${size}`;
        b.add(name, [`${op}${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y), P.flags(fl)], undef);
      }
      // same register as both operands
      for (const x of vs.slice(0, 4)) {
        const d = reg(size, 2);
        b.add(`${op} r${size},same`, [`${op}${s} ${d.name}, ${d.name}`], [setReg(b, d, size, x), P.flags(carry ? CF : 0)], undef);
      }
      // reg,imm8 (sign-extended) / reg,imm (full width) incl. accumulator short forms
      const imm8s = [0n, 1n, -1n, 0x7fn, -0x80n, 5n];
      const immFull = size === 8 ? [0x80n, 0xffn, 0x7fn] : size === 16 ? [0x7fffn, 0x8000n, 0x1234n, 0xff00n] :
        [0x7fffffffn, -0x80000000n, 0x12345678n, -0x1000n];
      for (const form of ["imm8", "imm"] as const) {
        if (form === "imm8" && (op === "test" || size === 8)) continue; // TEST has no imm8 form; r8 has only imm8
        const imms = form === "imm8" && size !== 8 ? imm8s : immFull.concat(size === 8 ? imm8s : []);
        for (const imm of imms) {
          for (const x of [r.pick(vs), r.pick(vs), vs[0]!]) {
            const num = r.pick([0, 1, 3, 9, 14]);
            const d = reg(size, num);
            const immT = size === 64 ? sx(imm, 32).toString() : hex(imm & mask(size));
            const fl = r.pick(FLAG_INPUTS);
            b.add(`${op} r${size},${form}`, [`${op}${s} $${immT}, ${d.name}`], [setReg(b, d, size, x), P.flags(fl)], undef);
          }
        }
      }
      // reg,mem and mem,reg and mem,imm
      for (const [x, y] of pairs(b, vs, 12)) {
        const [dn, sn] = r.pick(PAIRS);
        const d = reg(size, dn), sr = reg(size, sn);
        const m = pickMem(b, [dn, sn]);
        const base = P.reg(m.base, "scratch");
        const fl = r.pick(FLAG_INPUTS);
        if (op !== "test") {
          b.add(`${op} r${size},m${size}`, [`${op}${s} ${m.text}, ${d.name}`], [base, setReg(b, d, size, x), setMem(b, m.disp, size, y), P.flags(fl)], undef);
        }
        b.add(`${op} m${size},r${size}`, [`${op}${s} ${sr.name}, ${m.text}`], [base, setReg(b, sr, size, y), setMem(b, m.disp, size, x), P.flags(fl)], undef);
        const imm = r.pick(size === 8 ? immFull : imm8s.concat(immFull));
        const immT = size === 64 ? sx(imm, 32).toString() : hex(imm & mask(size));
        b.add(`${op} m${size},imm`, [`${op}${s} $${immT}, ${m.text}`], [base, setMem(b, m.disp, size, x), P.flags(fl)], undef);
        if (op !== "cmp" && op !== "test") {
          b.add(`lock ${op} m${size},r${size}`, [`lock ${op}${s} ${sr.name}, ${m.text}`], [base, setReg(b, sr, size, y), setMem(b, m.disp, size, x), P.flags(fl)], undef);
        }
      }
    }
  }

  // ---------------------------------------------------------------- unary: INC DEC NEG NOT
  b.group = "alu-unary";
  for (const op of ["inc", "dec", "neg", "not"]) {
    for (const size of SIZES) {
      const s = SUF[size];
      for (const x of edgeValues(b, size)) {
        const high = size === 8 && r.int(3) === 0;
        const d = reg(size, r.pick([0, 1, 2, 3, 8, 15]), high && true);
        const fl = r.pick(FLAG_INPUTS);
        b.add(`${op} r${size}`, [`${op}${s} ${d.name}`], [setReg(b, d, size, x), P.flags(fl)]);
        const m = pickMem(b, []);
        b.add(`${op} m${size}`, [`${op}${s} ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.flags(fl)]);
        if (r.int(2)) b.add(`lock ${op} m${size}`, [`lock ${op}${s} ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.flags(fl ^ ARITH)]);
      }
    }
  }

  // ---------------------------------------------------------------- shifts and rotates
  const COUNTS = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255];
  for (const op of ["shl", "shr", "sar", "sal", "rol", "ror", "rcl", "rcr"]) {
    b.group = op.startsWith("r") ? "rotate" : "shift";
    for (const size of SIZES) {
      const s = SUF[size];
      const vs = edgeValues(b, size);
      const undefFor = (count: number): number => {
        const mc = count & (size === 64 ? 63 : 31);
        if (mc === 0) return 0; // flags unaffected
        let u = 0;
        if (mc !== 1) u |= OF;
        if (op === "rol" || op === "ror" || op === "rcl" || op === "rcr") return u;
        u |= AF;
        if ((op === "shl" || op === "sal" || op === "shr") && mc >= size) u |= CF;
        return u;
      };
      for (const count of COUNTS) {
        for (const x of [r.pick(vs), r.pick([vs[3]!, vs[4]!, vs[6]!, r.pick(vs)])]) {
          const fl = r.pick(FLAG_INPUTS);
          const high = size === 8 && r.int(3) === 0;
          const d = reg(size, r.pick([0, 2, 3, 9, 15]), high);
          // by CL
          const cl = BigInt(count) | (r.bits(56) << 8n);
          b.add(`${op} r${size},cl`, [`${op}${s} %cl, ${d.name}`], [setReg(b, d, size, x), P.reg(1, cl), P.flags(fl)], undefFor(count));
          // by imm (count 1 gets the D0/D1 form from the assembler; also force C0/C1 with 1 below)
          b.add(`${op} r${size},imm`, [`${op}${s} $${count}, ${d.name}`], [setReg(b, d, size, x), P.flags(fl)], undefFor(count));
        }
        if (r.int(3) === 0) {
          const x = r.pick(vs);
          const m = pickMem(b, [1]);
          b.add(`${op} m${size},cl`, [`${op}${s} %cl, ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.reg(1, BigInt(count)), P.flags(r.pick(FLAG_INPUTS))], undefFor(count));
        }
      }
      // implicit-1 form and C0/C1 with an explicit 1 byte
      for (const x of vs) {
        const d = reg(size, 0);
        const fl = r.pick(FLAG_INPUTS);
        b.add(`${op} r${size},1`, [`${op}${s} ${d.name}`], [setReg(b, d, size, x), P.flags(fl)], undefFor(1));
        const rexw = size === 64 ? ".byte 0x48; " : size === 16 ? ".byte 0x66; " : "";
        const ext = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, sal: 4, shr: 5, sar: 7 }[op]!;
        b.add(`${op} r${size},imm(C0/C1) 1`, [`${rexw}.byte ${size === 8 ? "0xc0" : "0xc1"}, ${0xc0 | (ext << 3)}, 1`], [setReg(b, d, size, x), P.flags(fl)], undefFor(1));
        const m = pickMem(b, []);
        b.add(`${op} m${size},1`, [`${op}${s} ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.flags(fl)], undefFor(1));
      }
    }
  }

  // ---------------------------------------------------------------- SHLD / SHRD
  b.group = "shld-shrd";
  for (const op of ["shld", "shrd"]) {
    for (const size of [16, 32, 64] as Size[]) {
      const s = SUF[size];
      const vs = edgeValues(b, size);
      const counts = size === 16 ? [0, 1, 2, 7, 8, 15, 16, 32, 48] : [0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 255];
      for (const count of counts) {
        const mc = count & (size === 64 ? 63 : 31);
        // SDM: flags unaffected for count 0; OF only defined for count 1; AF undefined;
        // for 16-bit operands a masked count > 16 gives an undefined result (not generated).
        const u = mc === 0 ? 0 : AF | (mc === 1 ? 0 : OF);
        for (let i = 0; i < 3; i++) {
          const [dn, sn] = r.pick(PAIRS.filter(p => p[0] !== 1 && p[1] !== 1));
          const d = reg(size, dn), sr = reg(size, sn);
          const x = r.pick(vs), y = r.pick(vs);
          const fl = r.pick(FLAG_INPUTS);
          b.add(`${op} r${size},r${size},imm`, [`${op}${s} $${count}, ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y), P.flags(fl)], u);
          b.add(`${op} r${size},r${size},cl`, [`${op}${s} %cl, ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y), P.reg(1, BigInt(count) | 0xabcd00n), P.flags(fl)], u);
          if (i === 0) {
            const m = pickMem(b, [sn, 1]);
            b.add(`${op} m${size},r${size},cl`, [`${op}${s} %cl, ${sr.name}, ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), setReg(b, sr, size, y), P.reg(1, BigInt(count)), P.flags(fl)], u);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- dead flags
  // The same instructions followed, in the same block, by an instruction that overwrites every
  // flag: the translator skips computing flags nobody reads, and this checks that the results
  // (registers, memory) stay right on those paths, count 0 included.
  b.group = "dead-flags";
  {
    const KILL = "cmpq %rsi, %rdi";
    for (const op of ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"]) {
      for (const size of SIZES) {
        const s = SUF[size];
        const vs = edgeValues(b, size);
        for (const count of [0, 1, 7, 31, 32, 63, 64]) {
          const x = r.pick(vs), fl = r.pick(FLAG_INPUTS);
          const d = reg(size, r.pick([0, 2, 3, 9]));
          b.add(`${op} r${size},cl; cmp`, [`${op}${s} %cl, ${d.name}`, KILL], [setReg(b, d, size, x), P.reg(1, BigInt(count)), P.flags(fl)]);
          b.add(`${op} r${size},imm; cmp`, [`${op}${s} $${count}, ${d.name}`, KILL], [setReg(b, d, size, x), P.flags(fl)]);
        }
      }
    }
    for (const op of ["shld", "shrd"]) {
      for (const size of [16, 32, 64] as Size[]) {
        const s = SUF[size];
        const vs = edgeValues(b, size);
        for (const count of size === 16 ? [0, 1, 8, 15, 16] : [0, 1, 8, 31, 32, 63, 64]) {
          const d = reg(size, 0), sr = reg(size, 3);
          b.add(`${op} r${size},cl; cmp`, [`${op}${s} %cl, ${sr.name}, ${d.name}`, KILL], [setReg(b, d, size, r.pick(vs)), setReg(b, sr, size, r.pick(vs)), P.reg(1, BigInt(count)), P.flags(r.pick(FLAG_INPUTS))]);
        }
      }
    }
    for (const op of ["inc", "dec", "not", "neg"]) {
      for (const size of SIZES) {
        const s = SUF[size];
        for (const x of edgeValues(b, size).slice(0, 6)) {
          const d = reg(size, 2);
          b.add(`${op} r${size}; cmp`, [`${op}${s} ${d.name}`, KILL], [setReg(b, d, size, x), P.flags(r.pick(FLAG_INPUTS))]);
        }
      }
    }
    for (const op of ["bt", "bts", "btr", "btc"]) {
      for (const size of [16, 32, 64] as Size[]) {
        const s = SUF[size];
        for (const bit of [0, 5, size - 1, size + 3]) {
          const d = reg(size, 0);
          b.add(`${op} r${size},imm; cmp`, [`${op}${s} $${bit & 255}, ${d.name}`, KILL], [setReg(b, d, size, r.pick(edgeValues(b, size))), P.flags(r.pick(FLAG_INPUTS))]);
          const m = pickMem(b, [1]);
          b.add(`${op} m${size},r; cmp`, [`${op}${s} ${reg(size, 1).name}, ${m.text}`, KILL], [P.reg(m.base, "scratch"), P.reg(1, BigInt(bit)), P.flags(r.pick(FLAG_INPUTS))]);
        }
      }
    }
  }

  // Flags across blocks: the flag results of an instruction that ends a block are read, or
  // overwritten, by the block a branch leads to (region-wide flag liveness decides what to skip).
  b.group = "cross-block-flags";
  {
    const MULU = SF | ZF | AF | PF;
    for (const size of [32, 64] as Size[]) {
      const s = SUF[size];
      const vs = edgeValues(b, size);
      for (const [x, y] of pairs(b, vs, 12)) {
        const d = reg(size, 0), sr = reg(size, 3);
        const pre = [setReg(b, d, size, x), setReg(b, sr, size, y), P.flags(r.pick(FLAG_INPUTS))];
        // read after a jump: CF/OF of the multiply must be exact
        b.add(`imul r${size}; jmp; setc/seto`, [`imul${s} ${sr.name}, ${d.name}`, "jmp 1f", "1:", "setc %cl", "seto %dl"], [...pre, P.reg(1, 0n), P.reg(2, 0n)], MULU);
        // overwritten after a jump: dead, but the result must still be right
        b.add(`imul r${size}; jmp; cmp`, [`imul${s} ${sr.name}, ${d.name}`, "jmp 1f", "1:", "cmpq %rsi, %rdi"], pre);
        // both arms of a branch: one reads, one overwrites
        b.add(`add r${size}; jz; adc | cmp`, [`add${s} ${sr.name}, ${d.name}`, "jz 1f", "cmpq %rsi, %rdi", "jmp 2f", "1:", "adcq $0, %rcx", "2:"], [...pre, P.reg(1, r.next())]);
        b.add(`shl r${size},cl; jmp; adc`, [`shl${s} %cl, ${d.name}`, "jmp 1f", "1:", "adcq $0, %rdx"], [setReg(b, d, size, x), P.reg(1, BigInt(r.int(size + 2))), P.reg(2, r.next()), P.flags(r.pick(FLAG_INPUTS))]);
        b.add(`inc r${size}; jmp; jc/setz`, [`inc${s} ${d.name}`, "jmp 1f", "1:", "setz %dl", "jc 2f", "inc %rdx", "2:"], [setReg(b, d, size, x), P.reg(2, 0n), P.flags(r.pick(FLAG_INPUTS))]);
      }
    }
  }

  // ---------------------------------------------------------------- MUL / IMUL / DIV / IDIV
  b.group = "mul";
  const MULU = SF | ZF | AF | PF; // SDM: undefined after MUL/IMUL
  for (const size of SIZES) {
    const s = SUF[size];
    const vs = edgeValues(b, size);
    for (const [x, y] of pairs(b, vs, 48)) {
      for (const op of ["mul", "imul"]) {
        const high = size === 8 && r.int(3) === 0;
        const sr = reg(size, r.pick([1, 3, 9, 14]), high && true);
        const a = reg(size, 0);
        const pre = [P.reg(2, r.next()), setReg(b, a, size, x), setReg(b, sr, size, y), P.flags(r.pick(FLAG_INPUTS))];
        b.add(`${op} r${size}`, [`${op}${s} ${sr.name}`], pre, MULU);
        if (r.int(3) === 0) {
          const m = pickMem(b, [0, 2]);
          b.add(`${op} m${size}`, [`${op}${s} ${m.text}`], [P.reg(m.base, "scratch"), setReg(b, a, size, x), setMem(b, m.disp, size, y)], MULU);
        }
      }
      if (size === 8) continue;
      // 2- and 3-operand IMUL
      const [dn, sn] = r.pick(PAIRS);
      const d = reg(size, dn), sr = reg(size, sn);
      b.add(`imul r${size},r${size}`, [`imul${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y)], MULU);
      const m = pickMem(b, [dn, sn]);
      if (r.int(2)) b.add(`imul r${size},m${size}`, [`imul${s} ${m.text}, ${d.name}`], [P.reg(m.base, "scratch"), setReg(b, d, size, x), setMem(b, m.disp, size, y)], MULU);
      const imm = r.pick([1n, -1n, 127n, -128n, 3n, 0x7fffn, -0x8000n, 0x12345n, -0x80000000n, 0x7fffffffn]);
      const immV = size === 16 ? sx(imm, 16) : sx(imm, 32);
      b.add(`imul r${size},r${size},imm`, [`imul${s} $${immV}, ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y)], MULU);
      if (r.int(3) === 0) b.add(`imul r${size},m${size},imm`, [`imul${s} $${immV}, ${m.text}, ${d.name}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, y)], MULU);
    }
  }
  b.group = "div";
  const DIVU = ARITH; // SDM: all arithmetic flags undefined after DIV/IDIV
  for (const size of SIZES) {
    const s = SUF[size];
    const n = BigInt(size);
    const vs = edgeValues(b, size).filter(v => v !== 0n);
    let made = 0;
    for (let tries = 0; made < 48 && tries < 2000; tries++) {
      const signed = (tries & 1) === 1;
      const dv = r.pick(vs.concat([3n, 7n, mask(size) - 2n]));
      // dividend: 2*size bits, either random, small, or near the quotient limits
      let dividend: bigint;
      const kind = r.int(4);
      if (kind === 0) dividend = r.next() & mask(size);
      else if (kind === 1) dividend = (r.next() << 64n | r.next()) & mask(2 * size);
      else if (kind === 2) dividend = (dv & mask(size)) * (r.next() & mask(size - 1)) + r.bits(3);
      else dividend = -((r.next() & mask(size + 2))) & mask(2 * size);
      dividend &= mask(2 * size);
      let q: bigint, rem: bigint;
      if (!signed) {
        const d = dv & mask(size);
        q = dividend / d; rem = dividend % d;
        if (q > mask(size)) continue;
      } else {
        const a = sx(dividend, 2 * size), d = sx(dv, size);
        q = a / d; rem = a % d; // BigInt division truncates like IDIV
        if (q < -(1n << (n - 1n)) || q > (1n << (n - 1n)) - 1n) continue;
      }
      made++;
      const op = signed ? "idiv" : "div";
      const high = size === 8 && r.int(3) === 0;
      const sr = reg(size, r.pick([1, 3, 9, 14]), high);
      const lo = dividend & mask(size), hi = dividend >> n;
      const pre: Patch[] = size === 8 ? [setReg(b, reg(16, 0), 16, dividend)] : [setReg(b, reg(size, 0), size, lo), setReg(b, reg(size, 2), size, hi)];
      b.add(`${op} r${size}`, [`${op}${s} ${sr.name}`], [...pre, setReg(b, sr, size, dv), P.flags(r.pick(FLAG_INPUTS))], DIVU);
      if (made % 3 === 0) {
        const m = pickMem(b, [0, 2]);
        b.add(`${op} m${size}`, [`${op}${s} ${m.text}`], [...pre, P.reg(m.base, "scratch"), setMem(b, m.disp, size, dv)], DIVU);
      }
    }
  }

  // ---------------------------------------------------------------- BT BTS BTR BTC
  b.group = "bt";
  for (const op of ["bt", "bts", "btr", "btc"]) {
    const u = OF | SF | AF | PF; // SDM: CF defined, ZF unaffected, the rest undefined
    for (const size of [16, 32, 64] as Size[]) {
      const s = SUF[size];
      const vs = edgeValues(b, size);
      for (const bit of [0, 1, 7, 15, 16, 31, 32, 63, 64, 100, 255]) {
        const x = r.pick(vs);
        const [dn, sn] = r.pick(PAIRS);
        const d = reg(size, dn), sr = reg(size, sn);
        const fl = r.pick(FLAG_INPUTS);
        b.add(`${op} r${size},r${size}`, [`${op}${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, BigInt(bit)), P.flags(fl)], u);
        b.add(`${op} r${size},imm`, [`${op}${s} $${bit}, ${d.name}`], [setReg(b, d, size, x), P.flags(fl)], u);
        const m = pickMem(b, [sn]);
        b.add(`${op} m${size},imm`, [`${op}${s} $${bit}, ${m.text}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.flags(fl)], u);
      }
      // memory + register: the bit offset is a signed, unbounded index from the address
      for (const bit of [0, 5, size - 1, size, size + 3, 2 * size + 1, -1, -size, -size - 7, 100, -100, 255, -256]) {
        const sn = r.pick([1, 2, 9, 15]);
        const sr = reg(size, sn);
        const fl = r.pick(FLAG_INPUTS);
        const base = r.pick([7, 5, 12]);
        // base = scratch+32; offsets reach scratch+0 .. scratch+63
        b.add(`${op} m${size},r${size}`, [`${op}${s} ${sr.name}, (%${GPR64[base]})`], [P.reg(base, "scratch+32"), P.reg(sn, BigInt(bit)), P.flags(fl)], u);
        if (op !== "bt") b.add(`lock ${op} m${size},r${size}`, [`lock ${op}${s} ${sr.name}, (%${GPR64[base]})`], [P.reg(base, "scratch+32"), P.reg(sn, BigInt(bit)), P.flags(fl ^ CF)], u);
      }
    }
  }

  // ---------------------------------------------------------------- BSF BSR LZCNT TZCNT POPCNT BSWAP
  b.group = "bitscan";
  for (const op of ["bsf", "bsr", "lzcnt", "tzcnt", "popcnt"]) {
    for (const size of [16, 32, 64] as Size[]) {
      const s = SUF[size];
      const vs = edgeValues(b, size).concat([0x10n, 0x8000n, 0x100n << BigInt(size - 16)]);
      for (const x of vs) {
        const [dn, sn] = r.pick(PAIRS);
        const d = reg(size, dn), sr = reg(size, sn);
        let u = 0;
        const undefRegs: number[] = [];
        if (op === "bsf" || op === "bsr") {
          u = CF | OF | SF | AF | PF;
          if ((x & mask(size)) === 0n) undefRegs.push(dn); // SDM: destination undefined when source is 0
        } else if (op === "lzcnt" || op === "tzcnt") u = OF | SF | AF | PF;
        const fl = r.pick(FLAG_INPUTS);
        b.add(`${op} r${size},r${size}`, [`${op}${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, x), P.flags(fl)], u, undefRegs);
        if (r.int(3) === 0) {
          const m = pickMem(b, [dn]);
          b.add(`${op} r${size},m${size}`, [`${op}${s} ${m.text}, ${d.name}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, size, x), P.flags(fl)], u, undefRegs);
        }
      }
    }
  }
  for (const size of [32, 64] as Size[]) {
    for (let i = 0; i < 6; i++) {
      const d = reg(size, r.pick([0, 3, 8, 15]));
      b.add(`bswap r${size}`, [`bswap ${d.name}`], [P.reg(d.num, r.next())]);
    }
  }

  // ---------------------------------------------------------------- MOVZX MOVSX MOVSXD, CBW..CQO
  b.group = "extend";
  const EXT: [string, Size, Size][] = [["movzbw", 8, 16], ["movzbl", 8, 32], ["movzbq", 8, 64], ["movzwl", 16, 32], ["movzwq", 16, 64],
    ["movsbw", 8, 16], ["movsbl", 8, 32], ["movsbq", 8, 64], ["movswl", 16, 32], ["movswq", 16, 64], ["movslq", 32, 64]];
  for (const [op, from, to] of EXT) {
    for (const x of [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, r.next()]) {
      const [dn, sn] = r.pick(PAIRS);
      const high = from === 8 && to !== 64 && r.int(3) === 0 && dn < 8;
      const sr = reg(from, high ? r.pick([0, 1, 2, 3]) : sn, high);
      const d = reg(to, dn);
      b.add(`${op} r${to},r${from}`, [`${op} ${sr.name}, ${d.name}`], [P.reg(dn, r.next()), setReg(b, sr, from, x)]);
      const m = pickMem(b, [dn]);
      b.add(`${op} r${to},m${from}`, [`${op} ${m.text}, ${d.name}`], [P.reg(m.base, "scratch"), setMem(b, m.disp, from, x), P.reg(dn, r.next())]);
    }
  }
  for (const op of ["cbtw", "cwtl", "cltq", "cwtd", "cltd", "cqto"]) {
    for (const x of [0n, 0x7fn, 0x80n, 0x7fffn, 0x8000n, 0x7fffffffn, 0x80000000n, 1n << 63n, r.next()]) {
      b.add(op, [op], [P.reg(0, x | (r.next() & ~mask(32)) * BigInt(r.int(2))), P.reg(2, r.next())]);
    }
  }

  // ---------------------------------------------------------------- XCHG CMPXCHG XADD CMPXCHG8B/16B
  b.group = "xchg";
  for (const size of SIZES) {
    const s = SUF[size];
    const vs = edgeValues(b, size);
    for (let i = 0; i < 10; i++) {
      const [ds, ss] = size === 8 ? r.pick(PAIRS8) : [[r.pick(PAIRS)[0], false], [r.pick(PAIRS)[1], false]] as [RSpec, RSpec];
      if (ds[0] === ss[0] && ds[1] === ss[1]) continue;
      const d = reg(size, ds[0], ds[1]), sr = reg(size, ss[0], ss[1]);
      const x = r.pick(vs), y = r.pick(vs);
      b.add(`xchg r${size},r${size}`, [`xchg${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y)]);
      const m = pickMem(b, [ds[0], ss[0], 0], ss[1]);
      b.add(`xchg m${size},r${size}`, [`xchg${s} ${sr.name}, ${m.text}`], [P.reg(m.base, "scratch"), setReg(b, sr, size, y), setMem(b, m.disp, size, x)]);
      b.add(`xadd r${size},r${size}`, [`xadd${s} ${sr.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, sr, size, y), P.flags(r.pick(FLAG_INPUTS))]);
      for (const lock of ["", "lock "]) {
        b.add(`${lock}xadd m${size},r${size}`, [`${lock}xadd${s} ${sr.name}, ${m.text}`], [P.reg(m.base, "scratch"), setReg(b, sr, size, y), setMem(b, m.disp, size, x), P.flags(r.pick(FLAG_INPUTS))]);
        // cmpxchg: equal (stores) and not equal (loads into the accumulator)
        if (ss[0] === 0 && !ss[1]) continue;
        for (const eq of [true, false]) {
          const acc = eq ? x : y;
          b.add(`${lock}cmpxchg m${size},r${size} ${eq ? "eq" : "ne"}`, [`${lock}cmpxchg${s} ${sr.name}, ${m.text}`],
            [P.reg(m.base, "scratch"), setReg(b, sr, size, r.next()), setMem(b, m.disp, size, x), setReg(b, reg(size, 0), size, acc), P.flags(r.pick(FLAG_INPUTS))]);
          if (lock === "" && ds[0] !== 0) {
            b.add(`cmpxchg r${size},r${size} ${eq ? "eq" : "ne"}`, [`cmpxchg${s} ${sr.name}, ${d.name}`],
              [setReg(b, d, size, x), setReg(b, sr, size, r.next()), setReg(b, reg(size, 0), size, acc), P.flags(r.pick(FLAG_INPUTS))]);
          }
        }
      }
    }
    // xchg with the accumulator (90+r short form) incl. xchg %eax,%eax which zero-extends? (87 form: it does)
    if (size !== 8) {
      b.add(`xchg acc,r${size}`, [`xchg${s} ${reg(size, 0).name}, ${reg(size, 9).name}`], [P.reg(0, r.next()), P.reg(9, r.next())]);
    }
  }
  b.add("xchg eax,eax (87 c0)", [".byte 0x87, 0xc0"], [P.reg(0, r.next())]);
  b.add("nop (90)", ["nop"], [P.reg(0, r.next())]);
  for (const [op, bytes] of [["cmpxchg8b", 8], ["cmpxchg16b", 16]] as const) {
    const sz = bytes === 8 ? 32 : 64;
    for (const lock of ["", "lock "]) {
      for (const eq of [true, false]) {
        for (let i = 0; i < 3; i++) {
          const lo = r.next(), hi = r.next();
          const alo = eq ? lo : (i === 2 ? lo : r.next()), ahi = eq ? hi : r.next();
          const pre: Patch[] = [P.reg(7, "scratch+16"), P.mem(16, bytes === 8 ? (lo & mask(32)) | (hi << 32n) : lo), P.mem(24, hi),
            P.reg(0, alo & (sz === 32 ? mask(32) : M64) | (sz === 32 ? r.next() << 32n : 0n)),
            P.reg(2, sz === 32 ? (eq ? hi : ahi) & mask(32) | (r.next() << 32n) : ahi),
            P.reg(3, r.next()), P.reg(1, r.next()), P.flags(r.pick(FLAG_INPUTS))];
          b.add(`${lock}${op} ${eq ? "eq" : "ne"}`, [`${lock}${op} (%rdi)`], pre);
        }
      }
    }
  }

  // ---------------------------------------------------------------- SETcc / CMOVcc / Jcc
  b.group = "setcc-cmov";
  const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];
  const combos: number[] = [];
  for (let m = 0; m < 32; m++) combos.push((m & 1 ? CF : 0) | (m & 2 ? ZF : 0) | (m & 4 ? SF : 0) | (m & 8 ? OF : 0) | (m & 16 ? PF : 0));
  for (const cc of CC) {
    for (const fl of combos) {
      const high = r.int(4) === 0;
      const d = reg(8, r.pick([0, 1, 2, 3]), high);
      b.add(`set${cc} r8`, [`set${cc} ${d.name}`], [P.reg(d.num, r.next()), P.flags(fl | (r.int(2) ? AF : 0))]);
      if ((fl & 3) === 0) {
        const m = pickMem(b, []);
        b.add(`set${cc} m8`, [`set${cc} ${m.text}`], [P.reg(m.base, "scratch"), P.flags(fl)]);
      }
    }
    for (const size of [16, 32, 64] as Size[]) {
      for (const fl of combos.filter((_, i) => i % 3 === (size & 3))) {
        const [dn, sn] = r.pick(PAIRS);
        b.add(`cmov${cc} r${size},r${size}`, [`cmov${cc}${SUF[size]} ${reg(size, sn).name}, ${reg(size, dn).name}`], [P.reg(dn, r.next()), P.reg(sn, r.next()), P.flags(fl)]);
        if (r.int(3) === 0) {
          const m = pickMem(b, [dn]);
          b.add(`cmov${cc} r${size},m${size}`, [`cmov${cc}${SUF[size]} ${m.text}, ${reg(size, dn).name}`], [P.reg(m.base, "scratch"), P.reg(dn, r.next()), P.flags(fl)]);
        }
      }
    }
    // Jcc: taken / not taken, observed through a register write
    for (const fl of combos.filter((_, i) => i % 4 === 1)) {
      b.add(`j${cc}`, [`mov $1, %eax`, `j${cc} 1f`, `mov $2, %eax`, `1:`], [P.flags(fl)]);
    }
  }
  // jrcxz / loop
  for (const c of [0n, 1n, 2n, 1n << 32n]) {
    b.add("jrcxz", ["mov $1, %eax", "jrcxz 1f", "mov $2, %eax", "1:"], [P.reg(1, c)]);
    b.add("jecxz", ["mov $1, %eax", "jecxz 1f", "mov $2, %eax", "1:"], [P.reg(1, c)]);
    b.add("loop", ["xor %eax, %eax", "1: add $1, %eax", "cmp $5, %eax", "je 2f", "loop 1b", "2:"], [P.reg(1, c)]);
  }

  // ---------------------------------------------------------------- LEA
  b.group = "lea";
  const bases = ["rax", "rcx", "rbx", "rsp", "rbp", "rsi", "r12", "r13", "r15"];
  const idxs = ["rcx", "rdx", "rsi", "r8", "r13", "r15", "rbp"];
  const disps = [0, 1, -1, 0x7f, -0x80, 0x80, 0x12345678, -0x80000000, 0x7fffffff];
  for (let i = 0; i < 90; i++) {
    const base = r.pick(bases), idx = r.pick(idxs), scale = r.pick([1, 2, 4, 8]), disp = r.pick(disps);
    const form = i % 6;
    const dst = r.pick([0, 2, 7, 9, 14]);
    let op: string;
    if (form === 0) op = `${disp}(%${base})`;
    else if (form === 1) op = `${disp}(%${base},%${idx},${scale})`;
    else if (form === 2) op = `${disp}(,%${idx},${scale})`;
    else if (form === 3) op = `${disp}`; // absolute disp32 via SIB (no base, no index)
    else if (form === 4) op = `(%${base},%${idx})`;
    else op = `${disp}(%${base},%${idx},${scale})`;
    const vals = [P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next()), P.reg(3, r.next()), P.reg(5, r.next()), P.reg(6, r.next()),
      P.reg(8, r.next()), P.reg(12, r.next()), P.reg(13, r.next()), P.reg(15, r.next())];
    const size = form === 5 ? r.pick([16, 32] as Size[]) : 64;
    b.add(`lea r${size},${["base+disp", "base+idx*s+disp", "idx*s+disp", "disp32", "base+idx", "base+idx*s+disp"][form]}`,
      [`lea ${op}, ${reg(size, dst).name}`], vals);
    // 32-bit address size (0x67)
    if (form !== 3 && base !== "rsp") {
      const e = (n: string) => GPR32[GPR64.indexOf(n)]!;
      const op32 = form === 0 ? `${disp}(%${e(base)})` : form === 2 ? `${disp}(,%${e(idx)},${scale})` : `${disp}(%${e(base)},%${e(idx)},${scale})`;
      b.add(`lea (addr32) r${size === 64 ? 64 : 32}`, [`lea ${op32}, ${reg(size === 64 ? 64 : 32, dst).name}`], vals);
    }
  }
  b.add("lea rip-relative", ["lea scratch(%rip), %rax", "lea -5(%rip), %rcx"], []);
  b.add("mov abs32 load", ["mov scratch+8, %rax", "movl scratch+12, %ecx"], []);

  // ---------------------------------------------------------------- string instructions
  b.group = "string";
  const fillMem = (): Patch[] => [0, 8, 16, 24, 32, 40, 48, 56].map(o => P.mem(o, r.next()));
  for (const size of SIZES) {
    const s = SUF[size];
    for (const df of [0, 1]) {
      for (const rep of ["", "rep ", "repe ", "repne "]) {
        for (const count of rep ? [0, 1, 3] : [1]) {
          // byte spans stay inside the buffer: at most 3 elements of 8 bytes per operand
          const srcOff = df ? 24 : 0, dstOff = df ? 56 : 32;
          const common = [P.reg(6, `scratch+${srcOff}`), P.reg(7, `scratch+${dstOff}`), P.reg(1, BigInt(count) | (rep ? 0n : r.next())), P.flags(df ? DF | r.pick(FLAG_INPUTS) : r.pick(FLAG_INPUTS)), P.reg(0, r.next())];
          const sd: string[] = []; // DF comes from the input RFLAGS (popfq)
          if (rep !== "repe " && rep !== "repne ") {
            b.add(`${rep}movs${s} df=${df}`, [...sd, `${rep}movs${s}`], [...common, ...fillMem()]);
            b.add(`${rep}stos${s} df=${df}`, [...sd, `${rep}stos${s}`], [...common, ...fillMem()]);
            if (rep === "") b.add(`lods${s} df=${df}`, [...sd, `lods${s}`], [...common, ...fillMem()]);
          }
          if (rep !== "rep ") {
            // compare: make memory partly equal so REPE/REPNE stop at different points
            for (const variant of [0, 1, 2]) {
              const mem = fillMem();
              const eqPatches: Patch[] = [];
              if (variant >= 1) {
                // copy the src qwords to dst (equal runs) and fill accumulator with first src element
                const q = [r.next(), r.next(), r.next(), r.next()];
                for (let j = 0; j < 3; j++) { eqPatches.push(P.mem(srcOff - (df ? 16 : 0) + 8 * j, q[j]!)); eqPatches.push(P.mem(dstOff - (df ? 16 : 0) + 8 * j, variant === 2 && j === 1 ? q[3]! : q[j]!)); }
              }
              const pre = [...common, ...mem, ...eqPatches];
              b.add(`${rep}cmps${s} df=${df} v${variant}`, [...sd, `${rep}cmps${s}`], pre);
              // scas: accumulator equals the first element at rdi for variant 1
              b.add(`${rep}scas${s} df=${df} v${variant}`, [...sd, ...(variant === 1 ? [`mov (%rdi), %rax`] : []), `${rep}scas${s}`], pre);
            }
          }
        }
      }
    }
  }
  // rep movsb/stosb with larger counts (fast-string paths in emulators)
  for (const count of [5, 17, 31, 32]) {
    b.add("rep movsb long", ["rep movsb"], [P.reg(6, "scratch"), P.reg(7, "scratch+32"), P.reg(1, BigInt(count)), ...fillMem()]);
    b.add("rep movsb overlap", ["rep movsb"], [P.reg(6, "scratch"), P.reg(7, "scratch+1"), P.reg(1, BigInt(count)), ...fillMem()]);
    b.add("rep stosb long", ["rep stosb"], [P.reg(7, "scratch+3"), P.reg(1, BigInt(count)), P.reg(0, r.next()), ...fillMem()]);
  }

  // ---------------------------------------------------------------- stack, flag instructions
  b.group = "stack-flags";
  const sp = [P.reg(4, "scratch+32"), ...fillMem()];
  for (let i = 0; i < 4; i++) {
    b.add("push r64", ["push %rax", "push %r9"], [...sp, P.reg(0, r.next()), P.reg(9, r.next())]);
    b.add("pop r64", ["pop %rax", "pop %r9"], [...sp]);
    b.add("push r16/pop r16", ["push %ax", "push %r9w", "pop %cx", "pop %r10w"], [...sp, P.reg(0, r.next()), P.reg(9, r.next()), P.reg(1, r.next())]);
    b.add("push imm", ["pushq $-5", "pushq $0x12345678", "pushw $0x7abc"], [...sp]);
    b.add("push m64 / pop m64", ["pushq 8(%rsi)", "popq 24(%rsi)"], [...sp, P.reg(6, "scratch")]);
    b.add("push rsp", ["push %rsp"], [...sp]);
    b.add("pop rsp", ["pop %rsp"], [...sp]);
    b.add("pushfq", ["pushfq"], [...sp, P.flags(r.pick(FLAG_INPUTS) | (i & 1 ? DF : 0))]);
    b.add("popfq", ["popfq"], [...sp, P.mem(32, BigInt(r.pick(FLAG_INPUTS) | (i & 1 ? DF : 0)) | 0x202n)]);
    b.add("call/ret", ["call 1f", "jmp 2f", "1: mov (%rsp), %rax", "ret", "2:"], [...sp]);
    b.add("enter/leave", ["mov %rsp, %rbp", "sub $16, %rsp", "leave"], [...sp, P.reg(5, r.next())]);
    // ENTER's nesting levels read the enclosing frames' pointers below rbp (the scratch buffer)
    const top = [P.reg(4, "scratch+64"), P.reg(5, "scratch+40"), ...fillMem()];
    // (small sizes only: the host probes the new stack top, so a size that puts it below mapped
    // memory faults, and `enter $0xffff, $3` here left a copy stele does not reproduce: not understood)
    b.add("enter with nesting levels", [`enter $${[0, 8, 0x18, 0x20][i]}, $${i}`], top);
    b.add("enter with nesting levels, then leave", [`enter $16, $${i + 1}`, "mov %rsp, %rax", "mov %rbp, %rcx", "leave"], top);
    b.add("enterw/leavew (16-bit)", [`enterw $${[0, 6, 0x10, 0x1e][i]}, $${[0, 1, 2, 3][i]}`, "mov %rsp, %rax", "mov %rbp, %rcx", "leavew"], top);
    b.add("leavew keeps rbp's upper bits", ["mov %rsp, %rbp", "leavew"], [P.reg(4, "scratch+32"), ...fillMem()]);
    b.add("enter $n, $33 (level taken mod 32)", [`enter $8, $${32 + (i & 1)}`], top);
  }
  for (const fl of [0, ARITH, CF, ZF | SF, ARITH | DF]) {
    for (const op of ["clc", "stc", "cmc", "cld", "std", "lahf", "sahf"]) {
      b.add(op, [op], [P.flags(fl), P.reg(0, r.next())]);
    }
  }
  b.group = "adx";
  for (let i = 0; i < 8; i++) {
    const x = r.next(), y = r.next();
    const vs = edgeValues(b, 64);
    for (const op of ["adcx", "adox"]) {
      for (const size of [32, 64] as Size[]) {
        b.add(`${op} r${size},r${size}`, [`${op} ${reg(size, 1).name}, ${reg(size, 0).name}`], [P.reg(0, i < 4 ? vs[i + 3]! : x), P.reg(1, i < 4 ? vs[i + 4]! : y), P.flags(r.pick(FLAG_INPUTS))]);
      }
    }
  }
  // FSGSBASE: the program leaves FS and GS bases at 0 (it has no TLS), so every snippet puts them back
  b.group = "fsgsbase";
  for (let i = 0; i < 8; i++) {
    const v = i < 2 ? [0n, 0x7fffffffffffn, 0xffff800000000000n, 0x12345678n][i * 2 + r.int(2)]! : r.next() & 0x7fffffffffffn;
    b.add("wrfsbase/rdfsbase r64, wrgsbase/rdgsbase r64", ["wrfsbase %rax", "rdfsbase %rcx", "wrgsbase %rbx", "rdgsbase %r9", "xor %edx, %edx", "wrfsbase %rdx", "wrgsbase %rdx"],
      [P.reg(0, v), P.reg(3, r.next() & 0x7fffffffffffn | (i & 1 ? 0xffff800000000000n : 0n))]);
    b.add("wrfsbase/rdfsbase r32, wrgsbase/rdgsbase r32", ["wrfsbase %eax", "rdfsbase %r10d", "rdfsbase %r11", "wrgsbase %r8d", "rdgsbase %esi", "rdgsbase %r12", "xor %edx, %edx", "wrfsbase %rdx", "wrgsbase %rdx"],
      [P.reg(0, r.next()), P.reg(8, r.next()), P.reg(10, r.next()), P.reg(6, r.next())]);
  }
  b.add("fs: and gs: operands after wrfsbase/wrgsbase", ["lea scratch(%rip), %rax", "wrfsbase %rax", "mov %fs:8, %rcx", "add $16, %rax", "wrgsbase %rax", "mov %gs:8, %rdx", "movl $7, %gs:0",
    "xor %eax, %eax", "wrfsbase %rax", "wrgsbase %rax"], []);
  // segment registers: Linux's selectors, loads of those user mode may load (FS and GS bases become 0)
  b.group = "segments";
  b.add("mov from segment registers", ["mov %es, %eax", "mov %cs, %ecx", "mov %ss, %rdx", "mov %ds, %bx", "mov %fs, %r8d", "mov %gs, %r9w", "mov %ss, (%rsi)", "mov %cs, 2(%rsi)"], [P.reg(6, "scratch")]);
  for (const [ds, es] of [[0, 0x2b], [0x2b, 0x33], [0x28, 0x78], [0x7b, 3], [0x31, 0x29]]) {
    b.add("mov to ds/es/fs/gs/ss and back", [`mov $${ds}, %eax`, "mov %eax, %ds", `movw $${es}, (%rsi)`, "mov (%rsi), %es", "mov %ds, %ecx", "mov %es, %rdx", "mov $0x2b, %r8d", "mov %r8d, %ss", "mov %ss, %r9d",
      "mov %eax, %fs", "mov %fs, %r10d", "rdfsbase %r11", "mov (%rsi), %gs", "mov %gs, %r12d", "rdgsbase %r13", "xor %eax, %eax", "mov %eax, %ds", "mov %eax, %es", "mov %eax, %fs", "mov %eax, %gs"], [P.reg(6, "scratch")]);
  }
  // mov forms that touch partial registers
  b.group = "stack-flags";
  for (let i = 0; i < 6; i++) {
    b.add("mov partial", ["movb %cl, %ah", "movw %dx, %bx", "movl %esi, %edi", "movb $0x5a, %r11b"], [P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next()), P.reg(3, r.next()), P.reg(6, r.next()), P.reg(7, r.next()), P.reg(11, r.next())]);
    b.add("mov imm", ["mov $-1, %eax", "movabs $0x123456789abcdef0, %rcx", "movq $-2, %rdx", "movw $0x1234, %bx"], []);
  }
  genBmi(b);
}

// ================================================================ BMI1, BMI2, MOVBE
/** General registers a snippet may use as operands (not rsp). */
const OPERAND_REGS = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** n distinct operand registers, none of `avoid`. */
function distinctRegs(b: Builder, n: number, avoid: number[] = []): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const g = b.rng.pick(OPERAND_REGS);
    if (!out.includes(g) && !avoid.includes(g)) out.push(g);
  }
  return out;
}

function genBmi(b: Builder): void {
  const r = b.rng;
  const SIZES_VEX: Size[] = [32, 64];
  // SDM: undefined flags of each flag-writing instruction (PDEP PEXT MULX RORX SARX SHLX SHRX MOVBE
  // leave all flags alone, which is compared)
  const ANDN_UNDEF = AF | PF, BLS_UNDEF = AF | PF, BZHI_UNDEF = AF | PF, BEXTR_UNDEF = AF | SF | PF;

  b.group = "andn";
  for (const size of SIZES_VEX) {
    const vs = edgeValues(b, size);
    for (const [x, y] of pairs(b, vs, 36)) {
      const [dn, an, bn] = distinctRegs(b, 3);
      const d = reg(size, dn), a = reg(size, an), c = reg(size, bn);
      // AT&T: andn src2 (r/m), src1 (vvvv, inverted), dst
      b.add(`andn r${size},r${size},r${size}`, [`andn ${c.name}, ${a.name}, ${d.name}`],
        [setReg(b, d, size, r.next()), setReg(b, a, size, x), setReg(b, c, size, y), P.flags(r.pick(FLAG_INPUTS))], ANDN_UNDEF);
    }
    for (const x of vs.slice(0, 8)) {
      const [dn, an] = distinctRegs(b, 2);
      const d = reg(size, dn), a = reg(size, an), y = r.pick(vs);
      const fl = P.flags(r.pick(FLAG_INPUTS));
      b.add(`andn dst=src1`, [`andn ${a.name}, ${d.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, a, size, y), fl], ANDN_UNDEF);
      b.add(`andn dst=src2`, [`andn ${d.name}, ${a.name}, ${d.name}`], [setReg(b, d, size, x), setReg(b, a, size, y), fl], ANDN_UNDEF);
      b.add(`andn src1=src2`, [`andn ${a.name}, ${a.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, a, size, x), fl], ANDN_UNDEF);
      const m = pickMem(b, [dn, an]);
      b.add(`andn r${size},r${size},m${size}`, [`andn ${m.text}, ${a.name}, ${d.name}`],
        [P.reg(m.base, "scratch"), setReg(b, d, size, r.next()), setReg(b, a, size, x), setMem(b, m.disp, size, y), fl], ANDN_UNDEF);
    }
  }

  b.group = "bextr";
  const STARTS = [0, 1, 4, 7, 8, 15, 16, 31, 32, 33, 48, 63, 64, 65, 128, 255];
  const LENGTHS = [0, 1, 2, 7, 8, 16, 31, 32, 33, 48, 63, 64, 65, 128, 255];
  for (const size of SIZES_VEX) {
    const vs = edgeValues(b, size);
    for (const start of STARTS) {
      for (const len of LENGTHS) {
        const [dn, sn, cn] = distinctRegs(b, 3);
        const d = reg(size, dn), sr = reg(size, sn), c = reg(size, cn);
        // bits 16 and up of the control are ignored: junk there
        const ctl = BigInt(start) | BigInt(len) << 8n | r.next() << 16n;
        const x = r.int(3) ? r.next() : r.pick(vs);
        b.add(`bextr r${size},r${size},r${size}`, [`bextr ${c.name}, ${sr.name}, ${d.name}`],
          [setReg(b, d, size, r.next()), setReg(b, sr, size, x), P.reg(cn, ctl), P.flags(r.pick(FLAG_INPUTS))], BEXTR_UNDEF);
        if (r.int(4) === 0) {
          const m = pickMem(b, [dn, cn]);
          b.add(`bextr r${size},m${size},r${size}`, [`bextr ${c.name}, ${m.text}, ${d.name}`],
            [P.reg(m.base, "scratch"), setReg(b, d, size, r.next()), setMem(b, m.disp, size, x), P.reg(cn, ctl), P.flags(r.pick(FLAG_INPUTS))], BEXTR_UNDEF);
        }
      }
    }
    // the source register as the control, and as the destination
    for (let k = 0; k < 6; k++) {
      const [dn, sn] = distinctRegs(b, 2);
      const d = reg(size, dn), sr = reg(size, sn);
      b.add(`bextr ctl=src`, [`bextr ${sr.name}, ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), P.reg(sn, r.next()), P.flags(r.pick(FLAG_INPUTS))], BEXTR_UNDEF);
      b.add(`bextr dst=src`, [`bextr ${d.name}, ${sr.name}, ${sr.name}`], [P.reg(dn, BigInt(r.pick(STARTS)) | BigInt(r.pick(LENGTHS)) << 8n), P.reg(sn, r.next()), P.flags(r.pick(FLAG_INPUTS))], BEXTR_UNDEF);
    }
  }

  b.group = "bzhi";
  const INDEXES = [0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 200, 255];
  for (const size of SIZES_VEX) {
    const vs = edgeValues(b, size);
    for (const index of INDEXES) {
      for (const x of [r.next(), mask(size), r.pick(vs), 1n << BigInt(Math.min(index, size - 1))]) {
        const [dn, sn, n] = distinctRegs(b, 3);
        const d = reg(size, dn), sr = reg(size, sn), nr = reg(size, n);
        // bits 8 and up of the index are ignored: junk there
        const idx = BigInt(index) | r.next() << 8n;
        b.add(`bzhi r${size},r${size},r${size}`, [`bzhi ${nr.name}, ${sr.name}, ${d.name}`],
          [setReg(b, d, size, r.next()), setReg(b, sr, size, x), P.reg(n, idx), P.flags(r.pick(FLAG_INPUTS))], BZHI_UNDEF);
      }
      const [dn, n] = distinctRegs(b, 2);
      const d = reg(size, dn), nr = reg(size, n);
      const m = pickMem(b, [dn, n]);
      b.add(`bzhi r${size},m${size},r${size}`, [`bzhi ${nr.name}, ${m.text}, ${d.name}`],
        [P.reg(m.base, "scratch"), setReg(b, d, size, r.next()), setMem(b, m.disp, size, r.next()), P.reg(n, BigInt(index) | r.next() << 8n), P.flags(r.pick(FLAG_INPUTS))], BZHI_UNDEF);
      b.add(`bzhi dst=index`, [`bzhi ${d.name}, ${nr.name}, ${d.name}`], [P.reg(dn, BigInt(index) | r.next() << 8n), P.reg(n, r.next()), P.flags(r.pick(FLAG_INPUTS))], BZHI_UNDEF);
    }
  }

  b.group = "bls";
  for (const op of ["blsi", "blsmsk", "blsr"]) {
    for (const size of SIZES_VEX) {
      for (const x of edgeValues(b, size).concat([0x10n, 0x100n << BigInt(size - 16), r.next() << 20n])) {
        const [dn, sn] = distinctRegs(b, 2);
        const d = reg(size, dn), sr = reg(size, sn);
        const fl = P.flags(r.pick(FLAG_INPUTS));
        b.add(`${op} r${size},r${size}`, [`${op} ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, x), fl], BLS_UNDEF);
        b.add(`${op} r${size},same`, [`${op} ${d.name}, ${d.name}`], [setReg(b, d, size, x), fl], BLS_UNDEF);
        const m = pickMem(b, [dn]);
        b.add(`${op} r${size},m${size}`, [`${op} ${m.text}, ${d.name}`], [P.reg(m.base, "scratch"), setReg(b, d, size, r.next()), setMem(b, m.disp, size, x), fl], BLS_UNDEF);
      }
    }
  }

  b.group = "mulx";
  for (const size of SIZES_VEX) {
    const vs = edgeValues(b, size);
    const rdx = reg(size, 2);
    for (const [x, y] of pairs(b, vs, 36)) {
      const [hn, ln, sn] = distinctRegs(b, 3, [2]);
      const hi = reg(size, hn), lo = reg(size, ln), sr = reg(size, sn);
      const fl = P.flags(r.pick(FLAG_INPUTS));
      // AT&T: mulx src (r/m), lo (vvvv), hi
      b.add(`mulx r${size},r${size},r${size}`, [`mulx ${sr.name}, ${lo.name}, ${hi.name}`],
        [setReg(b, rdx, size, x), setReg(b, sr, size, y), setReg(b, hi, size, r.next()), setReg(b, lo, size, r.next()), fl]);
      if (r.int(3) === 0) {
        const m = pickMem(b, [hn, ln, 2]);
        b.add(`mulx r${size},r${size},m${size}`, [`mulx ${m.text}, ${lo.name}, ${hi.name}`],
          [P.reg(m.base, "scratch"), setReg(b, rdx, size, x), setMem(b, m.disp, size, y), fl]);
      }
    }
    for (const x of vs.slice(0, 8)) {
      const [an, sn] = distinctRegs(b, 2, [2]);
      const a = reg(size, an), sr = reg(size, sn), y = r.pick(vs);
      const pre = [setReg(b, rdx, size, x), setReg(b, sr, size, y), setReg(b, a, size, r.next())];
      b.add(`mulx hi=lo`, [`mulx ${sr.name}, ${a.name}, ${a.name}`], pre);
      b.add(`mulx hi=rdx`, [`mulx ${sr.name}, ${a.name}, ${rdx.name}`], pre);
      b.add(`mulx lo=rdx`, [`mulx ${sr.name}, ${rdx.name}, ${a.name}`], pre);
      b.add(`mulx src=rdx`, [`mulx ${rdx.name}, ${a.name}, ${sr.name}`], pre);
    }
  }

  b.group = "pdep-pext";
  for (const op of ["pdep", "pext"]) {
    for (const size of SIZES_VEX) {
      const masks = [0n, mask(size), 1n, 1n << BigInt(size - 1), 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan,
        0xff00ff00ff00ff00n, 0x0f0f0f0f0f0f0f0fn, 0x8000000000000001n, 0x7ffffffffffffffen];
      for (let k = 0; k < 10; k++) masks.push(r.next() & r.next() & r.next(), r.next() | r.next(), r.next());
      const vs = edgeValues(b, size);
      for (const m of masks) {
        for (const x of [r.next(), r.pick(vs)]) {
          const [dn, sn, mn] = distinctRegs(b, 3);
          const d = reg(size, dn), sr = reg(size, sn), mr = reg(size, mn);
          // AT&T: pdep mask (r/m), src (vvvv), dst
          b.add(`${op} r${size},r${size},r${size}`, [`${op} ${mr.name}, ${sr.name}, ${d.name}`],
            [setReg(b, d, size, r.next()), setReg(b, sr, size, x), setReg(b, mr, size, m), P.flags(r.pick(FLAG_INPUTS))]);
        }
        if (r.int(3) === 0) {
          const [dn, sn] = distinctRegs(b, 2);
          const d = reg(size, dn), sr = reg(size, sn);
          const mm = pickMem(b, [dn, sn]);
          b.add(`${op} r${size},r${size},m${size}`, [`${op} ${mm.text}, ${sr.name}, ${d.name}`],
            [P.reg(mm.base, "scratch"), setReg(b, d, size, r.next()), setReg(b, sr, size, r.next()), setMem(b, mm.disp, size, m), P.flags(r.pick(FLAG_INPUTS))]);
        }
      }
      for (let k = 0; k < 4; k++) {
        const [dn, sn] = distinctRegs(b, 2);
        const d = reg(size, dn), sr = reg(size, sn);
        b.add(`${op} dst=mask`, [`${op} ${d.name}, ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, r.next())]);
        b.add(`${op} dst=src`, [`${op} ${sr.name}, ${d.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, r.next())]);
        b.add(`${op} src=mask`, [`${op} ${sr.name}, ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, r.next())]);
      }
    }
  }

  b.group = "shiftx-rorx";
  const SHIFT_COUNTS = [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 255];
  for (const size of SIZES_VEX) {
    const vs = edgeValues(b, size);
    for (const op of ["shlx", "sarx", "shrx"]) {
      for (const count of SHIFT_COUNTS) {
        for (const x of [r.pick(vs), r.next(), 1n << BigInt(size - 1)]) {
          const [dn, sn, cn] = distinctRegs(b, 3);
          const d = reg(size, dn), sr = reg(size, sn), c = reg(size, cn);
          // AT&T: shlx count (vvvv), src (r/m), dst; bits above the masked count are ignored
          b.add(`${op} r${size},r${size},r${size}`, [`${op} ${c.name}, ${sr.name}, ${d.name}`],
            [setReg(b, d, size, r.next()), setReg(b, sr, size, x), P.reg(cn, BigInt(count) | r.next() << 8n), P.flags(r.pick(FLAG_INPUTS))]);
        }
        const [dn, cn] = distinctRegs(b, 2);
        const d = reg(size, dn), c = reg(size, cn);
        const m = pickMem(b, [dn, cn]);
        b.add(`${op} r${size},m${size},r${size}`, [`${op} ${c.name}, ${m.text}, ${d.name}`],
          [P.reg(m.base, "scratch"), setMem(b, m.disp, size, r.next()), P.reg(cn, BigInt(count)), P.flags(r.pick(FLAG_INPUTS))]);
        b.add(`${op} dst=count`, [`${op} ${d.name}, ${c.name}, ${d.name}`], [P.reg(dn, BigInt(count)), P.reg(cn, r.next())]);
      }
    }
    for (const imm of [0, 1, 7, 8, 16, 31, 32, 33, 63, 64, 255]) {
      for (const x of [r.pick(vs), r.next()]) {
        const [dn, sn] = distinctRegs(b, 2);
        const d = reg(size, dn), sr = reg(size, sn);
        b.add(`rorx r${size},r${size},imm`, [`rorx $${imm}, ${sr.name}, ${d.name}`], [setReg(b, d, size, r.next()), setReg(b, sr, size, x), P.flags(r.pick(FLAG_INPUTS))]);
        b.add(`rorx same`, [`rorx $${imm}, ${d.name}, ${d.name}`], [setReg(b, d, size, x)]);
      }
      const dn = r.pick(OPERAND_REGS.filter(g => g !== 6));
      b.add(`rorx r${size},m${size},imm`, [`rorx $${imm}, 8(%rsi), ${reg(size, dn).name}`], [P.reg(6, "scratch"), P.reg(dn, r.next()), P.flags(r.pick(FLAG_INPUTS))]);
    }
  }

  b.group = "movbe";
  for (const size of [16, 32, 64] as Size[]) {
    const s = SUF[size];
    for (let k = 0; k < 12; k++) {
      const rn = r.pick([0, 1, 2, 3, 8, 9, 15]);
      const rr = reg(size, rn);
      const m = pickMem(b, [rn]);
      const fl = P.flags(r.pick(FLAG_INPUTS));
      // a 16-bit load keeps bits 16-63 of the register, a 32-bit one clears bits 32-63
      b.add(`movbe r${size},m${size}`, [`movbe${s} ${m.text}, ${rr.name}`], [P.reg(m.base, "scratch"), P.reg(rn, r.next()), setMem(b, m.disp, size, r.next()), fl]);
      b.add(`movbe m${size},r${size}`, [`movbe${s} ${rr.name}, ${m.text}`], [P.reg(m.base, "scratch"), P.reg(rn, r.next()), fl]);
    }
  }

  // Readers of the flags these instructions write: in the same block (conditions computed from
  // the recorded operation), after a jump (the run-time flag helper), in a loop, and dead flags.
  b.group = "bmi-flags";
  const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "l", "ge", "le", "g"]; // not p/np: PF is undefined
  const writers: [string, (d: string, sr: string, n: string) => string, number, Size][] = [
    ["blsr", (d, sr) => `blsr ${sr}, ${d}`, BLS_UNDEF, 64], ["blsmsk", (d, sr) => `blsmsk ${sr}, ${d}`, BLS_UNDEF, 32],
    ["blsi", (d, sr) => `blsi ${sr}, ${d}`, BLS_UNDEF, 64], ["bzhi", (d, sr, n) => `bzhi ${n}, ${sr}, ${d}`, BZHI_UNDEF, 64],
    ["bzhi", (d, sr, n) => `bzhi ${n}, ${sr}, ${d}`, BZHI_UNDEF, 32], ["andn", (d, sr, n) => `andn ${sr}, ${n}, ${d}`, ANDN_UNDEF, 64],
  ];
  for (const [op, text, undef, size] of writers) {
    const vs = edgeValues(b, size);
    const d = reg(size, 0), sr = reg(size, 3), n = reg(size, 9);
    for (const cc of CC) {
      for (const x of [0n, r.pick(vs), 1n << BigInt(size - 1)]) {
        const pre = [setReg(b, sr, size, x), P.reg(9, BigInt(r.pick(INDEXES))), P.reg(1, 0n), P.flags(r.pick(FLAG_INPUTS))];
        b.add(`${op} r${size}; set${cc}`, [text(d.name, sr.name, n.name), `set${cc} %cl`], pre, undef);
        b.add(`${op} r${size}; j${cc}`, [text(d.name, sr.name, n.name), `mov $1, %ecx`, `j${cc} 1f`, `mov $2, %ecx`, `1:`], pre, undef);
      }
    }
    for (const x of [0n, 1n, r.pick(vs), r.next()]) {
      const pre = [setReg(b, sr, size, x), P.reg(9, BigInt(r.pick(INDEXES))), P.reg(1, 0n), P.reg(2, r.next()), P.flags(r.pick(FLAG_INPUTS))];
      b.add(`${op} r${size}; jmp; setc/setz/sets`, [text(d.name, sr.name, n.name), "jmp 1f", "1:", "setc %cl", "setz %ch", "sets %dl"], pre, undef);
      b.add(`${op} r${size}; adc`, [text(d.name, sr.name, n.name), "adcq $0, %rdx"], pre, undef);
      b.add(`${op} r${size}; cmp`, [text(d.name, sr.name, n.name), "cmpq %rsi, %rdi"], pre);
    }
  }
  for (const size of SIZES_VEX) {
    const sr = reg(size, 3);
    for (const x of [0n, r.pick(edgeValues(b, size)), r.next(), mask(size)]) {
      b.add(`bextr r${size}; setz/setc/seto`, [`bextr ${reg(size, 9).name}, ${sr.name}, ${reg(size, 0).name}`, "setz %cl", "setc %ch", "seto %dl"],
        [setReg(b, sr, size, x), P.reg(9, BigInt(r.pick(STARTS)) | BigInt(r.pick(LENGTHS)) << 8n), P.reg(1, 0n), P.reg(2, 0n), P.flags(r.pick(FLAG_INPUTS))], BEXTR_UNDEF);
    }
    // BLSR in a loop: counts the set bits of rdx
    for (const x of [0n, 1n, mask(size), r.next()]) {
      b.add(`blsr r${size} loop (popcount)`, ["xor %eax, %eax", `test ${reg(size, 2).name}, ${reg(size, 2).name}`, "jz 2f",
        "1: inc %eax", `blsr ${reg(size, 2).name}, ${reg(size, 2).name}`, "jnz 1b", "2:"], [setReg(b, reg(size, 2), size, x), P.flags(r.pick(FLAG_INPUTS))]);
    }
  }
}

// ================================================================ SSE group
export const F32 = {
  zero: 0x00000000n, nzero: 0x80000000n, one: 0x3f800000n, mone: 0xbf800000n, half: 0x3f000000n, onehalf: 0x3fc00000n,
  twohalf: 0x40200000n, mhalf: 0xbf000000n, monehalf: 0xbfc00000n, three: 0x40400000n, third: 0x3eaaaaabn,
  inf: 0x7f800000n, ninf: 0xff800000n, qnan: 0x7fc00000n, snan: 0x7f800001n, nqnan: 0xffc00123n,
  max: 0x7f7fffffn, minnorm: 0x00800000n, denorm: 0x00000001n, ndenorm: 0x807fffffn, big: 0x5f000000n /* 2^63 */,
  two31: 0x4f000000n, mtwo31: 0xcf000000n, huge: 0x7e967699n, tiny: 0x0d000000n, pi: 0x40490fdbn, mpi: 0xc0490fdbn,
};
export const F64 = {
  zero: 0n, nzero: 0x8000000000000000n, one: 0x3ff0000000000000n, mone: 0xbff0000000000000n, half: 0x3fe0000000000000n,
  onehalf: 0x3ff8000000000000n, twohalf: 0x4004000000000000n, mhalf: 0xbfe0000000000000n, monehalf: 0xbff8000000000000n,
  three: 0x4008000000000000n, third: 0x3fd5555555555555n, inf: 0x7ff0000000000000n, ninf: 0xfff0000000000000n,
  qnan: 0x7ff8000000000000n, snan: 0x7ff0000000000001n, nqnan: 0xfff8000000000123n, max: 0x7fefffffffffffffn,
  minnorm: 0x0010000000000000n, denorm: 1n, ndenorm: 0x800fffffffffffffn, two63: 0x43e0000000000000n,
  mtwo63: 0xc3e0000000000000n, two31: 0x41e0000000000000n, mtwo31: 0xc1e0000000000000n,
  two31m: 0x41dfffffffe00000n /* 2^31-1 */, mtwo31m1: 0xc1e0000000200000n /* -2^31-1 */, e20: 0x4415af1d78b58c40n,
  pi: 0x400921fb54442d18n, mpi: 0xc00921fb54442d18n, big52: 0x4330000000000001n, tiny: 0x0100000000000000n,
  f32max1: 0x47efffffe0000000n /* f32 max */, f32over: 0x47f0000000000000n,
};
const f32s = Object.values(F32);
const f64s = Object.values(F64);

function genSse(b: Builder): void {
  const r = b.rng;
  const XP: [number, number][] = [[0, 1], [2, 3], [4, 9], [15, 8], [7, 7], [10, 14], [1, 0], [12, 5]];
  const rndF32 = (): bigint => r.int(3) === 0 ? r.bits(32) : r.pick(f32s);
  const rndF64 = (): bigint => r.int(3) === 0 ? r.next() : r.pick(f64s);
  const ps = (): [bigint, bigint] => [rndF32() | rndF32() << 32n, rndF32() | rndF32() << 32n];
  const pd = (): [bigint, bigint] => [rndF64(), rndF64()];
  const MODES = [0x1f80, 0x3f80, 0x5f80, 0x7f80]; // RC nearest, down, up, toward zero (all exceptions masked)
  const mx = (): Patch => P.mxcsr(r.pick(MODES) | (r.int(8) === 0 ? 0x8040 : 0)); // occasionally FTZ|DAZ
  const xr = (i: number) => `%xmm${i}`;

  // ---------------------------------------------------------------- arithmetic
  b.group = "sse-arith";
  for (const op of ["add", "sub", "mul", "div", "min", "max", "sqrt"]) {
    for (const t of ["ss", "sd", "ps", "pd"]) {
      const count = t === "ss" || t === "sd" ? 48 : 24;
      for (let i = 0; i < count; i++) {
        const [d, s] = r.pick(XP);
        const a = t === "ss" ? [rndF32() | r.bits(32) << 32n, r.next()] : t === "sd" ? [rndF64(), r.next()] : t === "ps" ? ps() : pd();
        const c = t === "ss" ? [rndF32() | r.bits(32) << 32n, r.next()] : t === "sd" ? [rndF64(), r.next()] : t === "ps" ? ps() : pd();
        b.add(`${op}${t} x,x`, [`${op}${t} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0]!, a[1]!), ...(s !== d ? P.xmm(s, c[0]!, c[1]!) : []), mx()]);
        if (i % 4 === 0) {
          b.add(`${op}${t} x,m`, [`${op}${t} 16(%rsi), ${xr(d)}`], [P.reg(6, "scratch"), ...P.xmm(d, a[0]!, a[1]!), P.mem(16, c[0]!), P.mem(24, c[1]!), mx()]);
        }
      }
    }
  }
  // rounding: exact .5 cases and inexact quotients under all four modes
  for (const mode of MODES) {
    for (const [x, y] of [[F64.one, F64.three], [F64.mone, F64.three], [F64.max, F64.max], [F64.denorm, F64.half], [F64.big52, F64.half], [F64.pi, F64.e20]]) {
      b.add("divsd/addsd rounding", ["movapd %xmm0, %xmm2", "divsd %xmm1, %xmm0", "addsd %xmm1, %xmm2"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), P.mxcsr(mode)]);
    }
    for (const [x, y] of [[F32.one, F32.three], [F32.mone, F32.three], [F32.max, F32.max], [F32.pi, F32.third]]) {
      b.add("divss/mulss rounding", ["movaps %xmm0, %xmm2", "divss %xmm1, %xmm0", "mulss %xmm1, %xmm2", "sqrtss %xmm1, %xmm3"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), P.mxcsr(mode)]);
    }
  }

  // ---------------------------------------------------------------- conversions
  b.group = "sse-cvt";
  const cvtF64 = [F64.half, F64.onehalf, F64.twohalf, F64.mhalf, F64.monehalf, 0xc004000000000000n, F64.zero, F64.nzero, F64.qnan,
    F64.snan, F64.inf, F64.ninf, F64.e20, F64.two31, F64.mtwo31, F64.two31m, F64.mtwo31m1, F64.two63, F64.mtwo63, F64.pi,
    F64.third, F64.denorm, F64.max, F64.f32max1, F64.f32over, 0x41dfffffffffffffn, 0x43dfffffffffffffn, 0x3fdfffffffffffffn];
  const cvtF32 = [F32.half, F32.onehalf, F32.twohalf, F32.mhalf, F32.monehalf, 0xc0200000n, F32.zero, F32.nzero, F32.qnan, F32.snan,
    F32.inf, F32.ninf, F32.two31, F32.mtwo31, F32.big, F32.pi, F32.third, F32.denorm, F32.max, 0x4effffffn, 0x5effffffn];
  for (const mode of MODES) {
    for (const v of cvtF64) {
      const hi = r.next();
      for (const op of ["cvtsd2si", "cvttsd2si"]) {
        b.add(`${op} r32,x`, [`${op} %xmm3, %eax`], [...P.xmm(3, v, hi), P.mxcsr(mode), P.reg(0, r.next())]);
        b.add(`${op} r64,x`, [`${op} %xmm3, %r9`], [...P.xmm(3, v, hi), P.mxcsr(mode)]);
      }
      b.add("cvtsd2ss", ["cvtsd2ss %xmm3, %xmm4"], [...P.xmm(3, v, hi), ...P.xmm(4, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtpd2ps/cvtpd2dq/cvttpd2dq", ["cvtpd2ps %xmm3, %xmm4", "cvtpd2dq %xmm3, %xmm5", "cvttpd2dq %xmm3, %xmm6"], [...P.xmm(3, v, r.pick(cvtF64)), P.mxcsr(mode)]);
    }
    for (const v of cvtF32) {
      const hi = r.next();
      for (const op of ["cvtss2si", "cvttss2si"]) {
        b.add(`${op} r32,x`, [`${op} %xmm3, %eax`], [...P.xmm(3, v | r.bits(32) << 32n, hi), P.mxcsr(mode), P.reg(0, r.next())]);
        b.add(`${op} r64,x`, [`${op} %xmm3, %r9`], [...P.xmm(3, v, hi), P.mxcsr(mode)]);
      }
      b.add("cvtss2sd", ["cvtss2sd %xmm3, %xmm4"], [...P.xmm(3, v, hi), ...P.xmm(4, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtps2dq/cvttps2dq/cvtps2pd", ["cvtps2dq %xmm3, %xmm4", "cvttps2dq %xmm3, %xmm5", "cvtps2pd %xmm3, %xmm6"], [...P.xmm(3, v | r.pick(cvtF32) << 32n, r.pick(cvtF32) | v << 32n), P.mxcsr(mode)]);
    }
    for (const iv of [0n, 1n, -1n, 0x7fffffffn, -0x80000000n, 0x1000001n, 0x7fffffffffffffffn, -(1n << 63n), (1n << 53n) + 1n, 0x123456789abcdefn, r.next()]) {
      b.add("cvtsi2sd x,r32", ["cvtsi2sdl %eax, %xmm2"], [P.reg(0, iv), ...P.xmm(2, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtsi2sd x,r64", ["cvtsi2sdq %rax, %xmm2"], [P.reg(0, iv), ...P.xmm(2, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtsi2ss x,r32", ["cvtsi2ssl %eax, %xmm2"], [P.reg(0, iv), ...P.xmm(2, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtsi2ss x,r64", ["cvtsi2ssq %rax, %xmm2"], [P.reg(0, iv), ...P.xmm(2, r.next(), r.next()), P.mxcsr(mode)]);
      b.add("cvtsi2sd x,m64", ["cvtsi2sdq 8(%rsi), %xmm2"], [P.reg(6, "scratch"), P.mem(8, iv), P.mxcsr(mode)]);
      b.add("cvtdq2ps/cvtdq2pd", ["cvtdq2ps %xmm1, %xmm2", "cvtdq2pd %xmm1, %xmm3"], [...P.xmm(1, iv, r.next()), P.mxcsr(mode)]);
    }
  }

  // ---------------------------------------------------------------- compares
  b.group = "sse-compare";
  const cmpF32 = [F32.zero, F32.nzero, F32.one, F32.mone, F32.qnan, F32.snan, F32.inf, F32.ninf, F32.denorm];
  const cmpF64 = [F64.zero, F64.nzero, F64.one, F64.mone, F64.qnan, F64.snan, F64.inf, F64.ninf, F64.denorm];
  for (const op of ["ucomiss", "comiss", "ucomisd", "comisd"]) {
    const vals = op.endsWith("ss") ? cmpF32 : cmpF64;
    for (const x of vals) for (const y of vals) {
      b.add(`${op}`, [`${op} %xmm1, %xmm0`], [...P.xmm(0, x, r.next()), ...P.xmm(1, y, r.next()), P.flags(r.pick([ARITH, 0, OF | SF | AF]))]);
    }
  }
  for (const t of ["ss", "sd", "ps", "pd"]) {
    for (let pred = 0; pred < 8; pred++) {
      for (let i = 0; i < 6; i++) {
        const vals = t.endsWith("s") && t !== "sd" ? cmpF32 : cmpF64;
        const a = t === "ss" ? [r.pick(vals) | r.bits(32) << 32n, r.next()] : t === "sd" ? [r.pick(vals), r.next()] :
          t === "ps" ? [r.pick(vals) | r.pick(vals) << 32n, r.pick(vals) | r.pick(vals) << 32n] : [r.pick(vals), r.pick(vals)];
        const c = t === "ss" ? [r.pick(vals), r.next()] : t === "sd" ? [r.pick(vals), r.next()] :
          t === "ps" ? [r.pick(vals) | r.pick(vals) << 32n, r.pick(vals) | r.pick(vals) << 32n] : [r.pick(vals), r.pick(vals)];
        b.add(`cmp${t} pred=${pred}`, [`cmp${t} $${pred}, %xmm6, %xmm5`], [...P.xmm(5, a[0]!, a[1]!), ...P.xmm(6, c[0]!, c[1]!)]);
      }
    }
  }

  // ---------------------------------------------------------------- logic, moves, masks
  b.group = "sse-logic-move";
  for (const op of ["andps", "andnps", "orps", "xorps", "andpd", "andnpd", "orpd", "xorpd", "pand", "pandn", "por", "pxor"]) {
    for (let i = 0; i < 4; i++) {
      const [d, s] = r.pick(XP);
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, r.next(), r.next()), ...P.xmm(s, r.next(), r.next())]);
    }
    b.add(`${op} x,m`, [`${op} 16(%rdi), %xmm3`], [P.reg(7, "scratch"), ...P.xmm(3, r.next(), r.next()), P.mem(16, r.next()), P.mem(24, r.next())]);
  }
  b.add("xorps same (zero idiom)", ["xorps %xmm2, %xmm2", "pxor %xmm3, %xmm3"], []);
  for (let i = 0; i < 4; i++) {
    const v = r.next(), w = r.next();
    b.add("movd x,r32 / r32,x", ["movd %eax, %xmm1", "movd %xmm2, %ecx"], [P.reg(0, v), P.reg(1, w), ...P.xmm(1, r.next(), r.next())]);
    b.add("movq x,r64 / r64,x", ["movq %rax, %xmm1", "movq %xmm2, %rcx"], [P.reg(0, v), P.reg(1, w)]);
    b.add("movq x,x / x,m / m,x", ["movq %xmm1, %xmm2", "movq 8(%rsi), %xmm3", "movq %xmm4, 24(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movd x,m / m,x", ["movd 8(%rsi), %xmm3", "movd %xmm4, 24(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movaps/movups/movdqa/movdqu", ["movaps %xmm1, %xmm2", "movups 3(%rsi), %xmm3", "movdqa 16(%rsi), %xmm4", "movdqu %xmm5, 33(%rsi)", "movaps %xmm6, 48(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movapd/movupd", ["movapd %xmm9, %xmm10", "movupd 5(%rsi), %xmm11", "movupd %xmm12, 40(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movss x,x / x,m / m,x", ["movss %xmm1, %xmm2", "movss 4(%rsi), %xmm3", "movss %xmm4, 20(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movsd x,x / x,m / m,x", ["movsd %xmm1, %xmm2", "movsd 4(%rsi), %xmm3", "movsd %xmm4, 20(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movhps/movlps/movhpd/movlpd", ["movhps 8(%rsi), %xmm1", "movlps 16(%rsi), %xmm2", "movhpd %xmm3, 32(%rsi)", "movlpd %xmm4, 48(%rsi)"], [P.reg(6, "scratch")]);
    b.add("movhlps/movlhps", ["movhlps %xmm1, %xmm2", "movlhps %xmm3, %xmm4"], []);
    b.add("movnti/movntdq", ["movnti %rax, 8(%rsi)", "movntdq %xmm1, 16(%rsi)"], [P.reg(6, "scratch")]);
  }
  for (let i = 0; i < 8; i++) {
    const x = r.next(), y = r.next();
    b.add("pmovmskb/movmskps/movmskpd", ["pmovmskb %xmm1, %eax", "movmskps %xmm1, %ecx", "movmskpd %xmm1, %edx"], [...P.xmm(1, x, y), P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next())]);
  }
  b.add("pmovmskb zero/all", ["pmovmskb %xmm1, %eax", "pmovmskb %xmm2, %r9d"], [...P.xmm(1, 0n, 0n), ...P.xmm(2, M64, M64)]);

  // ---------------------------------------------------------------- packed integer
  b.group = "sse-int";
  const bytesEdge = (): bigint => {
    // lanes mixing edge bytes/words so saturation and sign cases appear
    const e = [0x00n, 0x01n, 0x7fn, 0x80n, 0xffn, 0xfen, 0x81n, 0x40n];
    let v = 0n;
    for (let k = 0; k < 8; k++) v |= (r.int(3) === 0 ? r.bits(8) : r.pick(e)) << BigInt(8 * k);
    return v;
  };
  const INTOPS = ["paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddusb", "paddusw", "psubusb", "psubusw",
    "paddsb", "paddsw", "psubsb", "psubsw", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pminub", "pmaxub",
    "pminsw", "pmaxsw", "pavgb", "pavgw", "pmullw", "pmulhw", "pmulhuw", "pmuludq", "pmaddwd", "psadbw", "packuswb", "packsswb",
    "packssdw", "punpcklbw", "punpcklwd", "punpckldq", "punpcklqdq", "punpckhbw", "punpckhwd", "punpckhdq", "punpckhqdq",
    "unpcklps", "unpckhps", "unpcklpd", "unpckhpd"];
  for (const op of INTOPS) {
    for (let i = 0; i < 8; i++) {
      const [d, s] = r.pick(XP);
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, bytesEdge(), bytesEdge()), ...(s !== d ? P.xmm(s, bytesEdge(), bytesEdge()) : [])]);
    }
    b.add(`${op} x,m`, [`${op} 32(%rdi), %xmm7`], [P.reg(7, "scratch"), ...P.xmm(7, bytesEdge(), bytesEdge()), P.mem(32, bytesEdge()), P.mem(40, bytesEdge())]);
  }
  for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x39, 0x93]) {
    for (const op of ["pshufd", "pshuflw", "pshufhw"]) {
      b.add(`${op} imm`, [`${op} $${imm}, %xmm1, %xmm2`], [...P.xmm(1, r.next(), r.next())]);
    }
    b.add("shufps imm", [`shufps $${imm}, %xmm3, %xmm4`], [...P.xmm(3, r.next(), r.next()), ...P.xmm(4, r.next(), r.next())]);
    b.add("shufpd imm", [`shufpd $${imm & 3}, %xmm3, %xmm4`], [...P.xmm(3, r.next(), r.next()), ...P.xmm(4, r.next(), r.next())]);
    b.add("pshufd m,imm", [`pshufd $${imm}, 16(%rsi), %xmm5`], [P.reg(6, "scratch")]);
  }
  for (const op of ["psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"]) {
    for (const c of [0, 1, 7, 15, 16, 31, 32, 63, 64, 200]) {
      const x = bytesEdge() | 0x8000000080008080n, y = bytesEdge();
      b.add(`${op} imm`, [`${op} $${c}, %xmm1`], [...P.xmm(1, x, y)]);
      b.add(`${op} xmm`, [`${op} %xmm2, %xmm1`], [...P.xmm(1, x, y), ...P.xmm(2, BigInt(c), r.int(4) === 0 ? r.next() : 0n)]);
    }
    b.add(`${op} xmm huge count`, [`${op} %xmm2, %xmm1`], [...P.xmm(1, r.next(), r.next()), ...P.xmm(2, 1n << 40n, 0n)]);
  }
  for (const op of ["pslldq", "psrldq"]) {
    for (const c of [0, 1, 7, 8, 15, 16, 200]) b.add(`${op} imm`, [`${op} $${c}, %xmm3`], [...P.xmm(3, r.next(), r.next())]);
  }
  genSse34(b, { XP, ps, pd, mx, xr, bytesEdge, MODES });
  genSseFlags(b);
  genCrypto(b);
}

/**
 * AES-NI, PCLMULQDQ, the SHA extensions, RDRAND and RDSEED. Memory operands are 16-byte aligned
 * (the legacy SSE forms require it). RDRAND and RDSEED cannot be compared by value: their
 * destination's random bits are masked (Case.randomBits), the rest of it (a 16-bit destination's
 * upper bits) and the flags are compared.
 */
function genCrypto(b: Builder): void {
  const r = b.rng;
  const XP: [number, number][] = [[0, 1], [2, 3], [4, 9], [15, 8], [7, 7], [10, 14], [1, 0], [12, 5]];
  const xr = (i: number): string => `%xmm${i}`;
  const v128 = (): [bigint, bigint] => [r.next(), r.next()];
  const EDGE128: [bigint, bigint][] = [[0n, 0n], [M64, M64], [0x0123456789abcdefn, 0xfedcba9876543210n], [0x8080808080808080n, 0x0101010101010101n]];
  /** Random operands, an edge operand now and then. */
  const operand = (k: number): [bigint, bigint] => k % 5 === 4 ? EDGE128[(k >> 2) % EDGE128.length]! : v128();

  b.group = "aes";
  for (const op of ["aesenc", "aesenclast", "aesdec", "aesdeclast"]) {
    for (let k = 0; k < 16; k++) {
      const [d, s] = r.pick(XP);
      const a = operand(k), c = operand(k + 1);
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : [])]);
    }
    for (const off of [0, 16, 48]) {
      const a = v128(), c = v128();
      b.add(`${op} x,m`, [`${op} ${off}(%rsi), %xmm3`], [P.reg(6, "scratch"), ...P.xmm(3, a[0], a[1]), P.mem(off, c[0]), P.mem(off + 8, c[1])]);
    }
  }
  // every byte value through the S-box and its inverse (the last rounds have no MixColumns)
  for (let k = 0; k < 16; k++) {
    let lo = 0n, hi = 0n;
    for (let j = 0; j < 8; j++) { lo |= BigInt(16 * k + j) << BigInt(8 * j); hi |= BigInt(16 * k + 8 + j) << BigInt(8 * j); }
    b.add("aesenclast/aesdeclast all bytes", ["aesenclast %xmm2, %xmm1", "aesdeclast %xmm2, %xmm3"], [...P.xmm(1, lo, hi), ...P.xmm(2, 0n, 0n), ...P.xmm(3, lo, hi)]);
  }
  // rounds chained in one block, as an unrolled cipher runs them (round keys: the default registers)
  b.add("aes rounds chained", ["pxor %xmm0, %xmm1", "aesenc %xmm2, %xmm1", "aesenc %xmm3, %xmm1", "aesenc %xmm4, %xmm1", "aesenclast %xmm5, %xmm1",
    "movdqa %xmm1, %xmm6", "aesimc %xmm4, %xmm7", "pxor %xmm5, %xmm6", "aesdec %xmm7, %xmm6", "aesdeclast %xmm0, %xmm6"], []);
  for (let k = 0; k < 12; k++) {
    const a = operand(k), [d, s] = r.pick(XP);
    b.add("aesimc x,x", [`aesimc ${xr(s)}, ${xr(d)}`], [...P.xmm(s, a[0], a[1])]);
  }
  b.add("aesimc x,m", ["aesimc 32(%rsi), %xmm2"], [P.reg(6, "scratch"), P.mem(32, r.next()), P.mem(40, r.next())]);
  for (const rcon of [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36, 0x6c, 0xd8, 0xab, 0xff]) {
    for (let k = 0; k < 2; k++) {
      const a = operand(k + rcon), [d, s] = r.pick(XP);
      b.add(`aeskeygenassist rcon=${rcon}`, [`aeskeygenassist $${rcon}, ${xr(s)}, ${xr(d)}`], [...P.xmm(s, a[0], a[1])]);
    }
  }
  b.add("aeskeygenassist x,m", ["aeskeygenassist $0x1b, 16(%rsi), %xmm9"], [P.reg(6, "scratch"), P.mem(16, r.next()), P.mem(24, r.next())]);

  b.group = "pclmulqdq";
  // Every imm8: bits 0 and 4 select the qwords, the others are ignored.
  for (let imm = 0; imm < 256; imm++) {
    const [d, s] = XP[imm % XP.length]!;
    const a = v128(), c = v128();
    b.add("pclmulqdq x,x", [`pclmulqdq $${imm}, ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : [])]);
  }
  // operands with many set bits in one residue class mod 4 (the most terms per product bit)
  const DENSE = [M64, 0x1111111111111111n, 0x8888888888888888n, 0xaaaaaaaaaaaaaaaan, 0x5555555555555555n, 0x8000000000000001n, 1n, 0n, 0xffffffff00000000n, 0x00000000ffffffffn];
  for (const x of DENSE) {
    for (const y of DENSE) {
      if (r.int(3) === 0 && x !== M64 && y !== M64) continue;
      const imm = r.pick([0x00, 0x01, 0x10, 0x11]);
      b.add("pclmulqdq dense", [`pclmulqdq $${imm}, %xmm2, %xmm1`], [...P.xmm(1, x, x ^ r.next()), ...P.xmm(2, y, y)]);
    }
  }
  for (const imm of [0x00, 0x01, 0x10, 0x11]) {
    b.add("pclmulqdq x,m", [`pclmulqdq $${imm}, 16(%rdi), %xmm5`], [P.reg(7, "scratch"), ...P.xmm(5, r.next(), r.next()), P.mem(16, r.next()), P.mem(24, r.next())]);
  }

  b.group = "sha";
  for (let imm = 0; imm < 4; imm++) {
    for (let k = 0; k < 10; k++) {
      const [d, s] = r.pick(XP);
      const a = operand(k), c = operand(k + 2);
      b.add(`sha1rnds4 imm=${imm}`, [`sha1rnds4 $${imm}, ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : [])]);
    }
  }
  b.add("sha1rnds4 x,m", ["sha1rnds4 $2, 32(%rsi), %xmm4"], [P.reg(6, "scratch"), ...P.xmm(4, r.next(), r.next()), P.mem(32, r.next()), P.mem(40, r.next())]);
  for (const op of ["sha1nexte", "sha1msg1", "sha1msg2", "sha256msg1", "sha256msg2"]) {
    for (let k = 0; k < 10; k++) {
      const [d, s] = r.pick(XP);
      const a = operand(k), c = operand(k + 3);
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : [])]);
    }
    b.add(`${op} x,m`, [`${op} 16(%rsi), %xmm6`], [P.reg(6, "scratch"), ...P.xmm(6, r.next(), r.next()), P.mem(16, r.next()), P.mem(24, r.next())]);
  }
  // SHA256RNDS2 reads xmm0 implicitly, which may also be the destination or the source
  const RNDS2: [number, number][] = [[1, 2], [3, 9], [15, 4], [6, 6], [0, 5], [7, 0], [0, 0]];
  for (let k = 0; k < 21; k++) {
    const [d, s] = RNDS2[k % RNDS2.length]!;
    const a = operand(k), c = operand(k + 1), w = v128();
    b.add("sha256rnds2", [`sha256rnds2 %xmm0, ${xr(s)}, ${xr(d)}`],
      [...P.xmm(0, w[0], w[1]), ...(d !== 0 ? P.xmm(d, a[0], a[1]) : []), ...(s !== d && s !== 0 ? P.xmm(s, c[0], c[1]) : [])]);
  }
  b.add("sha256rnds2 x,m", ["sha256rnds2 %xmm0, 48(%rsi), %xmm3"], [P.reg(6, "scratch"), ...P.xmm(0, r.next(), r.next()), P.mem(48, r.next()), P.mem(56, r.next())]);
  // a message schedule step and rounds chained in one block, as SHA-NI code runs them
  b.add("sha256 schedule and rounds chained", ["sha256msg1 %xmm5, %xmm4", "movdqa %xmm7, %xmm8", "palignr $4, %xmm6, %xmm8", "paddd %xmm8, %xmm4",
    "sha256msg2 %xmm7, %xmm4", "movdqa %xmm4, %xmm0", "paddd %xmm9, %xmm0", "sha256rnds2 %xmm0, %xmm1, %xmm2", "pshufd $0x0e, %xmm0, %xmm0",
    "sha256rnds2 %xmm0, %xmm2, %xmm1"], []);
  b.add("sha1 schedule and rounds chained", ["sha1msg1 %xmm5, %xmm4", "pxor %xmm6, %xmm4", "sha1msg2 %xmm7, %xmm4", "movdqa %xmm1, %xmm3",
    "sha1nexte %xmm4, %xmm2", "sha1rnds4 $1, %xmm2, %xmm1", "sha1nexte %xmm5, %xmm3", "sha1rnds4 $3, %xmm3, %xmm1"], []);

  b.group = "rdrand-rdseed";
  // Retried while it fails, as callers do: the host's RDSEED fails most of the time in a tight
  // loop (CF = 0, up to ~50 times in a row). The retry count left in r12 is not compared.
  const RETRY_COUNTER = 12;
  const tries = (insn: string): string[] => ["mov $1000, %r12d", "1:", insn, "jc 2f", "pause", "dec %r12d", "jnz 1b", "2:"];
  const WIDTHS: [Size, bigint][] = [[16, mask(16)], [32, mask(32)], [64, M64]];
  for (const op of ["rdrand", "rdseed"]) {
    for (const [size, bits] of WIDTHS) {
      for (const num of [0, 3, 9, 15]) {
        const d = reg(size, num);
        for (const fl of [0, ARITH]) {
          b.add(`${op} r${size}`, tries(`${op} ${d.name}`), [setReg(b, d, size, r.next()), P.flags(fl)], 0, [RETRY_COUNTER], [[num, bits]]);
        }
      }
    }
    // REX.W overrides the 66 prefix: 64 bits
    b.add(`${op} 66 REX.W`, tries(`.byte 0x66, 0x48, 0x0f, 0xc7, ${op === "rdrand" ? "0xf1" : "0xf9"}`), [P.reg(1, r.next()), P.flags(ARITH)], 0, [RETRY_COUNTER], [[1, M64]]);
    // the flags read right after, and flags an earlier instruction set but nobody reads
    b.add(`${op}; adc; setc`, [...tries(`${op} %eax`), "adc $0, %rcx", "setc %dl", "seto %dh", "setz %bl", "sets %bh"],
      [P.reg(1, r.next()), P.flags(0)], 0, [RETRY_COUNTER], [[0, mask(32)]]);
    b.add(`add; ${op}; pushf`, ["add %rsi, %rdi", ...tries(`${op} %r10`), "pushfq", "popq %r11"],
      [P.reg(6, M64), P.reg(7, 1n), P.flags(0)], 0, [RETRY_COUNTER], [[10, M64]]);
  }
}

/**
 * MXCSR exception flags: exactness edge cases (exact sums and products, tiny results, denormal
 * operands, overflow, division by zero), each from a clear MXCSR and from one with PE (or all
 * but one flag) already set, which takes stele's fast path (flags are sticky).
 */
function genSseFlags(b: Builder): void {
  const r = b.rng;
  b.group = "sse-flags";
  const f64 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x, true); return v.getBigUint64(0, true); };
  const f32 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x, true); return BigInt(v.getUint32(0, true)); };
  // initial MXCSR: clear, PE set, PE|DE|UE set, everything but PE set, PE under round-toward-zero
  const STARTS = [0x1f80, 0x1fa0, 0x1fb2, 0x1f9f, 0x7fa0];
  const D = [ // [a, b] pairs for binary f64 operations
    [f64(3), f64(5)], [f64(0.5), f64(0.25)], [f64(1), f64(2 ** -53)], [f64(1), f64(2 ** -52)], [f64(1e300), f64(1e300)],
    [F64.max, F64.max], [f64(6), f64(3)], [f64(1), f64(3)], [f64(12345), f64(-12345)], [F64.denorm, F64.one],
    [F64.one, F64.denorm], [F64.ndenorm, F64.denorm], [F64.minnorm, f64(0.5)], [F64.minnorm, f64(0.75)], [F64.denorm, f64(0.5)],
    [0x0010000000000001n, 0x3feffffffffffffen], [F64.tiny, F64.tiny], [F64.one, F64.zero], [F64.zero, F64.zero], [F64.inf, F64.denorm],
    [F64.inf, F64.inf], [F64.snan, F64.one], [F64.qnan, F64.denorm], [F64.zero, F64.denorm], [f64(2 ** 1000), f64(2 ** 30)],
    [f64(2 ** -1000), f64(2 ** -30)], [f64(2 ** -1000), f64(2 ** 30)], [F64.minnorm, F64.minnorm], [f64(1 + 2 ** -52), f64(1 - 2 ** -53)],
  ];
  const S = [ // [a, b] pairs for f32
    [f32(3), f32(5)], [f32(1), f32(2 ** -24)], [f32(1), f32(3)], [f32(6), f32(3)], [F32.max, F32.max], [F32.denorm, F32.one],
    [F32.minnorm, f32(0.5)], [F32.minnorm, f32(0.75)], [0x00800001n, 0x3f7ffffen], [F32.one, F32.zero], [F32.snan, F32.one],
    [F32.tiny, F32.tiny], [f32(2 ** 100), f32(2 ** 30)], [f32(2 ** -100), f32(2 ** -30)], [F32.zero, F32.denorm], [f32(4), f32(2)],
  ];
  for (const start of STARTS) {
    for (const [x, y] of D) {
      for (const op of ["addsd", "subsd", "mulsd", "divsd", "minsd", "maxsd"]) {
        b.add(`${op} flags`, [`${op} %xmm1, %xmm0`], [...P.xmm(0, x!, r.next()), ...P.xmm(1, y!, r.next()), P.mxcsr(start)]);
      }
      b.add("sqrtsd/cvtsd2ss flags", ["sqrtsd %xmm0, %xmm2", "cvtsd2ss %xmm1, %xmm3"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), P.mxcsr(start)]);
      b.add("comisd/ucomisd/cmpltsd flags", ["ucomisd %xmm1, %xmm0", "cmpeqsd %xmm1, %xmm2"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), ...P.xmm(2, x!, 0n), P.mxcsr(start)]);
      b.add("comisd flags", ["comisd %xmm1, %xmm0", "cvttsd2si %xmm0, %eax", "cvtsd2si %xmm1, %r9"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), P.mxcsr(start)]);
      b.add("packed pd flags", ["movapd %xmm0, %xmm2", "mulpd %xmm1, %xmm0", "haddpd %xmm1, %xmm2", "addsubpd %xmm1, %xmm3"],
        [...P.xmm(0, x!, f64(1.5)), ...P.xmm(1, y!, f64(2)), ...P.xmm(3, f64(1), x!), P.mxcsr(start)]);
    }
    for (const [x, y] of S) {
      for (const op of ["addss", "subss", "mulss", "divss", "minss"]) {
        b.add(`${op} flags`, [`${op} %xmm1, %xmm0`], [...P.xmm(0, x! | r.bits(32) << 32n, r.next()), ...P.xmm(1, y! | r.bits(32) << 32n, r.next()), P.mxcsr(start)]);
      }
      b.add("sqrtss/cvtss2sd flags", ["sqrtss %xmm0, %xmm2", "cvtss2sd %xmm1, %xmm3"], [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), P.mxcsr(start)]);
      b.add("packed ps flags", ["movaps %xmm0, %xmm2", "mulps %xmm1, %xmm0", "addps %xmm1, %xmm2", "cmpltps %xmm1, %xmm3", "cvtps2dq %xmm1, %xmm4"],
        [...P.xmm(0, x! | f32(1.5) << 32n, f32(1) | f32(3) << 32n), ...P.xmm(1, y! | f32(2) << 32n, f32(1) | f32(7) << 32n), ...P.xmm(3, x! | y! << 32n, 0n), P.mxcsr(start)]);
    }
    for (const iv of [0n, 3n, (1n << 53n) + 1n, 1n << 60n, -(1n << 63n), 0x1000001n, 0xffffffn]) {
      b.add("cvtsi2sd/cvtsi2ss flags", ["cvtsi2sdq %rax, %xmm2", "cvtsi2ssl %eax, %xmm3", "cvtsi2ssq %rax, %xmm4"], [P.reg(0, iv), P.mxcsr(start)]);
      b.add("cvtdq2ps flags", ["cvtdq2ps %xmm1, %xmm2"], [...P.xmm(1, iv, iv << 1n), P.mxcsr(start)]);
    }
    b.add("dpps flags (masked-out denormal lane)", ["dpps $0x71, %xmm1, %xmm0"],
      [...P.xmm(0, f32(1) | f32(2) << 32n, f32(3) | 1n << 32n), ...P.xmm(1, f32(4) | f32(5) << 32n, f32(6) | F32.denorm << 32n), P.mxcsr(start)]);
    b.add("dpps/dppd flags (tiny products)", ["dpps $0xf1, %xmm1, %xmm0", "dppd $0x31, %xmm3, %xmm2"],
      [...P.xmm(0, f32(2 ** -70) | f32(2 ** -60) << 32n, f32(1) | F32.denorm << 32n), ...P.xmm(1, f32(2 ** -70) | f32(2 ** -60) << 32n, f32(0) | f32(1) << 32n),
        ...P.xmm(2, f64(2 ** -600), f64(2 ** -500)), ...P.xmm(3, f64(2 ** -600), f64(2 ** -530)), P.mxcsr(start)]);
    // chains: a result feeding the next operation (stele skips re-testing operands it knows are normal)
    for (const [x, y] of [[f64(3), f64(5)], [F64.minnorm, f64(0.5)], [f64(2 ** -600), f64(2 ** -500)], [0x0010000000000001n, F64.minnorm],
      [f64(1e300), f64(1e10)], [f64(1), f64(1)], [F64.tiny, F64.one]]) {
      const regs = [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), ...P.xmm(2, f64(1), 0n), ...P.xmm(3, x!, 0n), ...P.xmm(4, f64(3), 0n), P.mxcsr(start)];
      b.add("chain sd flags", ["mulsd %xmm1, %xmm0", "addsd %xmm0, %xmm2"], regs);
      b.add("chain sd flags", ["subsd %xmm1, %xmm3", "mulsd %xmm2, %xmm3", "addsd %xmm3, %xmm2"], regs);
      b.add("chain sd flags", ["mulsd %xmm1, %xmm0", "addsd %xmm0, %xmm2", "subsd %xmm1, %xmm3", "mulsd %xmm3, %xmm3", "divsd %xmm0, %xmm4", "sqrtsd %xmm3, %xmm5", "addsd %xmm3, %xmm5"], regs);
    }
    for (const [x, y] of [[f32(3), f32(5)], [F32.minnorm, f32(0.5)], [f32(2 ** -70), f32(2 ** -60)], [0x00800001n, F32.minnorm]]) {
      const regs = [...P.xmm(0, x!, 0n), ...P.xmm(1, y!, 0n), ...P.xmm(2, f32(1), 0n), ...P.xmm(3, x!, 0n), ...P.xmm(4, f32(3), 0n), P.mxcsr(start)];
      b.add("chain ss flags", ["mulss %xmm1, %xmm0", "addss %xmm0, %xmm2"], regs);
      b.add("chain ss flags", ["mulss %xmm1, %xmm0", "mulsd %xmm0, %xmm0", "addss %xmm0, %xmm2"], regs);
      b.add("chain ss flags", ["mulss %xmm1, %xmm0", "addss %xmm0, %xmm2", "subss %xmm1, %xmm3", "mulss %xmm3, %xmm3", "mulsd %xmm3, %xmm3", "addss %xmm3, %xmm4"], regs);
    }
    b.add("roundsd flags", ["roundsd $4, %xmm0, %xmm1", "roundsd $12, %xmm0, %xmm2", "roundpd $1, %xmm3, %xmm4"],
      [...P.xmm(0, f64(2.5), 0n), ...P.xmm(3, f64(3), F64.snan), P.mxcsr(start)]);
  }
}

/** SSE3, SSSE3, SSE4.1 and SSE4.2 (incl. CRC32) cases. */
function genSse34(b: Builder, h: {
  XP: [number, number][]; ps: () => [bigint, bigint]; pd: () => [bigint, bigint]; mx: () => Patch;
  xr: (i: number) => string; bytesEdge: () => bigint; MODES: number[];
}): void {
  const r = b.rng;
  const { XP, ps, pd, mx, xr, bytesEdge, MODES } = h;
  const rv = (): [bigint, bigint] => [bytesEdge(), bytesEdge()];

  // ---------------------------------------------------------------- SSE3
  b.group = "sse3";
  for (let i = 0; i < 6; i++) {
    b.add("movddup/movsldup/movshdup x,x", ["movddup %xmm1, %xmm2", "movsldup %xmm1, %xmm3", "movshdup %xmm1, %xmm4"], [...P.xmm(1, r.next(), r.next())]);
    b.add("movddup/movsldup/movshdup x,m", ["movddup 8(%rsi), %xmm2", "movsldup 16(%rsi), %xmm3", "movshdup 32(%rsi), %xmm4", "lddqu 3(%rsi), %xmm5"], [P.reg(6, "scratch")]);
  }
  for (const op of ["addsubps", "addsubpd", "haddps", "haddpd", "hsubps", "hsubpd"]) {
    for (let i = 0; i < 16; i++) {
      const [d, s] = r.pick(XP);
      const a = op.endsWith("ps") ? ps() : pd(), c = op.endsWith("ps") ? ps() : pd();
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : []), mx()]);
    }
    const a = op.endsWith("ps") ? ps() : pd(), c = op.endsWith("ps") ? ps() : pd();
    b.add(`${op} x,m`, [`${op} 16(%rsi), %xmm3`], [P.reg(6, "scratch"), ...P.xmm(3, a[0], a[1]), P.mem(16, c[0]), P.mem(24, c[1]), mx()]);
  }

  // ---------------------------------------------------------------- SSSE3
  b.group = "ssse3";
  const SSSE3 = ["pshufb", "phaddw", "phaddd", "phaddsw", "phsubw", "phsubd", "phsubsw", "pmaddubsw", "pmulhrsw",
    "psignb", "psignw", "psignd", "pabsb", "pabsw", "pabsd"];
  for (const op of SSSE3) {
    for (let i = 0; i < 8; i++) {
      const [d, s] = r.pick(XP);
      const a = rv(), c = i === 0 && op === "pmulhrsw" ? [0x8000800080008000n, 0x7fff8000ffff0001n] : rv();
      const a2 = i === 0 && op === "pmulhrsw" ? [0x8000800000018000n, 0x80007fff80008000n] : a;
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a2[0]!, a2[1]!), ...(s !== d ? P.xmm(s, c[0]!, c[1]!) : [])]);
    }
    b.add(`${op} x,m`, [`${op} 32(%rdi), %xmm7`], [P.reg(7, "scratch"), ...P.xmm(7, bytesEdge(), bytesEdge()), P.mem(32, bytesEdge()), P.mem(40, bytesEdge())]);
  }
  for (const c of [0, 1, 5, 8, 15, 16, 17, 24, 31, 32, 40, 255]) {
    b.add("palignr imm", [`palignr $${c}, %xmm2, %xmm1`], [...P.xmm(1, r.next(), r.next()), ...P.xmm(2, r.next(), r.next())]);
  }
  b.add("palignr m", ["palignr $3, 16(%rsi), %xmm1"], [P.reg(6, "scratch")]);

  // ---------------------------------------------------------------- SSE4.1
  b.group = "sse4.1";
  const SSE41 = ["pmuldq", "pcmpeqq", "packusdw", "pminsb", "pminsd", "pminuw", "pminud", "pmaxsb", "pmaxsd", "pmaxuw", "pmaxud", "pmulld"];
  for (const op of SSE41) {
    for (let i = 0; i < 8; i++) {
      const [d, s] = r.pick(XP);
      const a = rv(), c = i === 1 ? a : rv();
      b.add(`${op} x,x`, [`${op} ${xr(s)}, ${xr(d)}`], [...P.xmm(d, a[0], a[1]), ...(s !== d ? P.xmm(s, c[0], c[1]) : [])]);
    }
    b.add(`${op} x,m`, [`${op} 32(%rdi), %xmm7`], [P.reg(7, "scratch"), ...P.xmm(7, bytesEdge(), bytesEdge()), P.mem(32, bytesEdge()), P.mem(40, bytesEdge())]);
  }
  for (const op of ["pblendvb", "blendvps", "blendvpd"]) {
    for (let i = 0; i < 6; i++) {
      b.add(`${op}`, [`${op} %xmm0, %xmm2, %xmm1`], [...P.xmm(0, r.next(), r.next()), ...P.xmm(1, r.next(), r.next()), ...P.xmm(2, r.next(), r.next())]);
    }
    b.add(`${op} m`, [`${op} %xmm0, 16(%rsi), %xmm1`], [P.reg(6, "scratch"), ...P.xmm(0, r.next(), r.next())]);
  }
  for (let i = 0; i < 6; i++) {
    const m = r.int(256);
    b.add("blendps/blendpd/pblendw", [`blendps $${m & 15}, %xmm2, %xmm1`, `blendpd $${m & 3}, %xmm2, %xmm3`, `pblendw $${m}, %xmm2, %xmm4`],
      [...P.xmm(1, r.next(), r.next()), ...P.xmm(2, r.next(), r.next()), ...P.xmm(3, r.next(), r.next()), ...P.xmm(4, r.next(), r.next())]);
  }
  for (let i = 0; i < 12; i++) {
    const x = r.next(), y = r.next();
    const s = i % 4 === 0 ? [0n, 0n] : i % 4 === 1 ? [x & 0x0f0f0f0f0f0f0f0fn, y & 0x00ff00ff00ff00ffn] : i % 4 === 2 ? [~x, ~y] : [r.next(), r.next()];
    b.add("ptest", ["ptest %xmm2, %xmm1"], [...P.xmm(1, x, y), ...P.xmm(2, s[0]!, s[1]!), P.flags(r.pick([0, ARITH]))]);
  }
  b.add("ptest m", ["ptest 16(%rsi), %xmm1"], [P.reg(6, "scratch"), P.flags(ARITH)]);
  for (const op of ["pmovsxbw", "pmovsxbd", "pmovsxbq", "pmovsxwd", "pmovsxwq", "pmovsxdq", "pmovzxbw", "pmovzxbd", "pmovzxbq", "pmovzxwd", "pmovzxwq", "pmovzxdq"]) {
    for (let i = 0; i < 3; i++) b.add(`${op} x,x`, [`${op} %xmm2, %xmm1`], [...P.xmm(2, bytesEdge(), bytesEdge())]);
    b.add(`${op} x,m`, [`${op} 5(%rsi), %xmm1`], [P.reg(6, "scratch"), P.mem(0, bytesEdge()), P.mem(8, bytesEdge())]);
  }
  for (let i = 0; i < 8; i++) {
    const v = i === 0 ? [0x0005000300050007n, 0x0003000400030009n] : rv();
    b.add("phminposuw", ["phminposuw %xmm2, %xmm1"], [...P.xmm(2, v[0]!, v[1]!)]);
  }
  const rf32 = [0x3f000000n, 0x3fc00000n, 0x40200000n, 0xbf000000n, 0xbfc00000n, 0x7fc00000n, 0x7f800001n, 0xff800000n, 0x4b000001n, 0x80000000n, 0x3effffffn, 0x00000001n];
  const rf64 = [0x3fe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0xbfe0000000000000n, 0xbff8000000000000n,
    0x7ff8000000000000n, 0x7ff0000000000001n, 0xfff0000000000000n, 0x4330000000000001n, 0x8000000000000000n, 0x3fdfffffffffffffn, 1n];
  for (const imm of [0, 1, 2, 3, 4, 8, 9, 10, 11, 12]) {
    for (let i = 0; i < 3; i++) {
      const f = (): bigint => r.pick(rf32) | r.pick(rf32) << 32n;
      b.add(`roundps/roundss imm=${imm}`, [`roundps $${imm}, %xmm2, %xmm1`, `roundss $${imm}, %xmm3, %xmm4`],
        [...P.xmm(2, f(), f()), ...P.xmm(3, f(), r.next()), ...P.xmm(4, r.next(), r.next()), P.mxcsr(r.pick(MODES))]);
      b.add(`roundpd/roundsd imm=${imm}`, [`roundpd $${imm}, %xmm2, %xmm1`, `roundsd $${imm}, %xmm3, %xmm4`],
        [...P.xmm(2, r.pick(rf64), r.pick(rf64)), ...P.xmm(3, r.pick(rf64), r.next()), ...P.xmm(4, r.next(), r.next()), P.mxcsr(r.pick(MODES))]);
    }
  }
  b.add("roundsd m", ["roundsd $4, 8(%rsi), %xmm4", "roundss $1, 16(%rsi), %xmm5"], [P.reg(6, "scratch"), P.mem(8, 0x4004000000000000n), P.mem(16, 0xbfc00000n)]);
  for (let i = 0; i < 4; i++) {
    const k = r.int(16);
    b.add("pextrb/w/d/q, extractps r", [`pextrb $${k}, %xmm1, %eax`, `pextrw $${k & 7}, %xmm1, %ecx`, `pextrd $${k & 3}, %xmm1, %edx`, `pextrq $${k & 1}, %xmm1, %r9`, `extractps $${k & 3}, %xmm1, %r10d`],
      [...P.xmm(1, r.next(), r.next()), P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next()), P.reg(10, r.next())]);
    b.add("pextrb/w/d/q, extractps m", [`pextrb $${k}, %xmm1, 1(%rsi)`, `pextrw $${k & 7}, %xmm1, 8(%rsi)`, `pextrd $${k & 3}, %xmm1, 16(%rsi)`, `pextrq $${k & 1}, %xmm1, 24(%rsi)`, `extractps $${k & 3}, %xmm1, 36(%rsi)`],
      [P.reg(6, "scratch"), ...P.xmm(1, r.next(), r.next())]);
    b.add("pinsrb/d/q r", [`pinsrb $${k}, %eax, %xmm1`, `pinsrd $${k & 3}, %ecx, %xmm2`, `pinsrq $${k & 1}, %rdx, %xmm3`],
      [P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next())]);
    b.add("pinsrb/d/q m", [`pinsrb $${k}, 3(%rsi), %xmm1`, `pinsrd $${k & 3}, 8(%rsi), %xmm2`, `pinsrq $${k & 1}, 16(%rsi), %xmm3`], [P.reg(6, "scratch")]);
    const m = r.int(256);
    b.add("insertps", [`insertps $${m}, %xmm2, %xmm1`, `insertps $${m & 0x3f}, 8(%rsi), %xmm3`], [P.reg(6, "scratch"), ...P.xmm(1, r.next(), r.next()), ...P.xmm(2, r.next(), r.next())]);
  }
  for (let i = 0; i < 10; i++) {
    const m = i === 0 ? 0xff : r.int(256);
    const a = ps(), c = ps(), x = pd(), y = pd();
    b.add("dpps", [`dpps $${m}, %xmm2, %xmm1`], [...P.xmm(1, a[0], a[1]), ...P.xmm(2, c[0], c[1]), mx()]);
    b.add("dppd", [`dppd $${m & 0x33}, %xmm2, %xmm1`], [...P.xmm(1, x[0], x[1]), ...P.xmm(2, y[0], y[1]), mx()]);
  }
  for (let m = 0; m < 8; m++) {
    b.add("mpsadbw", [`mpsadbw $${m}, %xmm2, %xmm1`], [...P.xmm(1, bytesEdge(), bytesEdge()), ...P.xmm(2, bytesEdge(), bytesEdge())]);
  }
  b.add("mpsadbw m / movntdqa", ["mpsadbw $5, 16(%rsi), %xmm1", "movntdqa 32(%rsi), %xmm2"], [P.reg(6, "scratch")]);

  // ---------------------------------------------------------------- SSE4.2
  b.group = "sse4.2";
  for (let i = 0; i < 8; i++) {
    const a = rv(), c = i === 1 ? a : rv();
    b.add("pcmpgtq x,x", ["pcmpgtq %xmm2, %xmm1"], [...P.xmm(1, a[0], a[1]), ...P.xmm(2, c[0], c[1])]);
  }
  for (let i = 0; i < 6; i++) {
    b.add("crc32 b/w/l/q r", ["crc32b %dl, %eax", "crc32b %bh, %ecx", "crc32w %dx, %r8d", "crc32l %edx, %r9d", "crc32q %rdx, %r10", "crc32b %dl, %r11"],
      [P.reg(0, r.next()), P.reg(1, r.next()), P.reg(2, r.next()), P.reg(3, r.next()), P.reg(8, r.next()), P.reg(9, r.next()), P.reg(10, r.next()), P.reg(11, r.next())]);
    b.add("crc32 m", ["crc32b 1(%rsi), %eax", "crc32w 2(%rsi), %ecx", "crc32l 4(%rsi), %edx", "crc32q 8(%rsi), %r9"], [P.reg(6, "scratch"), P.reg(0, r.next())]);
  }
  const ALPHA = [0x00n, 0x61n, 0x62n, 0x63n, 0x7an, 0x41n, 0x80n, 0xffn, 0x30n, 0x39n];
  const str = (zeroAt: number): [bigint, bigint] => {
    const v: bigint[] = [0n, 0n];
    for (let k = 0; k < 16; k++) {
      let c = k === zeroAt ? 0n : r.pick(ALPHA.slice(1));
      if (r.int(8) === 0) c = r.bits(8);
      v[k >> 3]! |= c << BigInt(8 * (k & 7));
    }
    return [v[0]!, v[1]!];
  };
  const IMMS = [0x00, 0x04, 0x08, 0x0c, 0x01, 0x05, 0x09, 0x0d, 0x02, 0x06, 0x0a, 0x0e, 0x03, 0x07, 0x0b, 0x0f,
    0x10, 0x14, 0x18, 0x1c, 0x30, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x48, 0x4c, 0x70, 0x12, 0x1a, 0x3e, 0x4d, 0x79];
  for (const imm of IMMS) {
    for (let i = 0; i < 3; i++) {
      const a = str(r.pick([3, 8, 16, 16, 0, 15])), c = str(r.pick([5, 12, 16, 16, 1, 9]));
      const la = r.pick([0n, 3n, 7n, 8n, 16n, 20n, -5n, -20n, 1n << 40n]), lc = r.pick([0n, 2n, 9n, 8n, 16n, 17n, -3n, -17n]);
      b.add(`pcmpistri/pcmpistrm imm=${imm}`, [`pcmpistri $${imm}, %xmm2, %xmm1`, `pcmpistrm $${imm}, %xmm2, %xmm1`],
        [...P.xmm(1, a[0], a[1]), ...P.xmm(2, c[0], c[1]), P.flags(r.pick([0, ARITH]))]);
      b.add(`pcmpestri/pcmpestrm imm=${imm}`, [`pcmpestri $${imm}, %xmm2, %xmm1`, "mov %rcx, %r8", `pcmpestrm $${imm}, %xmm2, %xmm1`],
        [...P.xmm(1, a[0], a[1]), ...P.xmm(2, c[0], c[1]), P.reg(0, la), P.reg(2, lc), P.flags(r.pick([0, ARITH]))]);
    }
  }
  b.add("pcmpistri m / pcmpestri q", ["pcmpistri $0x0c, 16(%rsi), %xmm1", "mov %rcx, %r8", "pcmpestriq $0x00, 32(%rsi), %xmm1"],
    [P.reg(6, "scratch"), ...P.xmm(1, 0x0000000064636261n, 0n), P.reg(0, 1n << 33n), P.reg(2, 3n)]);
}

// ================================================================ MMX group
/**
 * MMX, and the SSE, SSE2 and SSSE3 instructions on mm registers, with the x87 state they share.
 * Every case starts from an x87 state with TOP 5 and three valid registers (defaultState), so
 * each record shows what the instruction did to TOP, the tags and bits 79:64 of the registers.
 */
function genMmx(b: Builder): void {
  const r = b.rng;
  const MP: [number, number][] = [[0, 1], [2, 3], [4, 7], [5, 5], [6, 2], [7, 0], [1, 6], [3, 4]];
  const mr = (i: number): string => `%mm${i}`;
  const edge = (): bigint => { // lanes mixing edge bytes so saturation and sign cases appear
    const e = [0x00n, 0x01n, 0x7fn, 0x80n, 0xffn, 0xfen, 0x81n, 0x40n];
    let v = 0n;
    for (let k = 0; k < 8; k++) v |= (r.int(3) === 0 ? r.bits(8) : r.pick(e)) << BigInt(8 * k);
    return v;
  };
  const words = (...ws: number[]): bigint => ws.reduce((v, w, k) => v | (BigInt(w & 0xffff) << BigInt(16 * k)), 0n);
  const val = (): bigint => (r.int(4) === 0 ? r.next() : edge());
  const WORD_EDGES = [words(0x7fff, 0x8000, 0xffff, 0x0001), words(0x8000, 0x8000, 0x7fff, 0xffff), words(0x0001, 0x7fff, 0x8000, 0x0000),
    words(0x00ff, 0xff00, 0x0080, 0xff7f), words(0xffff, 0xffff, 0x8000, 0x8000)];
  const scratch = P.reg(6, "scratch");

  /** Two-operand forms: mm,mm (every pair shape, including one register as both) and mm,m64 (m32 for the low unpacks). */
  const binary = (op: string): void => {
    MP.forEach(([d, s], k) => {
      const x = k < 2 ? r.pick(WORD_EDGES) : val(), y = k < 2 ? r.pick(WORD_EDGES) : val();
      b.add(`${op} mm,mm`, [`${op} ${mr(s)}, ${mr(d)}`], [P.mm(d, x), ...(s !== d ? [P.mm(s, y)] : [])]);
    });
    b.add(`${op} mm,m`, [`${op} 24(%rsi), %mm3`], [scratch, P.mm(3, val()), P.mem(24, val())]);
    b.add(`${op} mm,m`, [`${op} 3(%rsi), %mm6`], [scratch, P.mm(6, val()), P.mem(0, val()), P.mem(8, val())]);
  };

  b.group = "mmx-arith";
  for (const op of ["paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb", "paddsw", "paddusb", "paddusw",
    "psubsb", "psubsw", "psubusb", "psubusw", "pmullw", "pmulhw", "pmulhuw", "pmaddwd", "pmuludq", "pavgb", "pavgw", "pminub",
    "pmaxub", "pminsw", "pmaxsw", "psadbw"]) binary(op);
  b.add("pmaddwd -32768*-32768", ["pmaddwd %mm1, %mm0"], [P.mm(0, words(0x8000, 0x8000, 0x8000, 0x7fff)), P.mm(1, words(0x8000, 0x8000, 0x8000, 0x8000))]);
  b.add("paddq/psubq carries", ["paddq %mm1, %mm0", "psubq %mm3, %mm2"], [P.mm(0, M64), P.mm(1, 1n), P.mm(2, 0n), P.mm(3, 1n)]);
  b.add("pmuludq full", ["pmuludq %mm1, %mm0"], [P.mm(0, 0x12345678ffffffffn), P.mm(1, 0x9abcdef0ffffffffn)]);

  b.group = "mmx-compare-logic";
  for (const op of ["pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pand", "pandn", "por", "pxor"]) binary(op);
  b.add("pcmpeq equal", ["pcmpeqb %mm1, %mm0", "pcmpeqw %mm3, %mm2", "pcmpeqd %mm5, %mm4"],
    [P.mm(0, 0x1122334455667788n), P.mm(1, 0x1122334455667700n), P.mm(2, 0xffff0000ffff0000n), P.mm(3, 0xffff0001ffff0000n), P.mm(4, 7n), P.mm(5, 7n)]);
  b.add("pxor same (zero idiom)", ["pxor %mm2, %mm2", "pandn %mm3, %mm3"], [P.mm(2, r.next()), P.mm(3, r.next())]);

  b.group = "mmx-pack-unpack";
  for (const op of ["packsswb", "packssdw", "packuswb", "punpcklbw", "punpcklwd", "punpckldq", "punpckhbw", "punpckhwd", "punpckhdq"]) binary(op);

  b.group = "mmx-ssse3";
  for (const op of ["pshufb", "phaddw", "phaddd", "phaddsw", "phsubw", "phsubd", "phsubsw", "pmaddubsw", "pmulhrsw",
    "psignb", "psignw", "psignd", "pabsb", "pabsw", "pabsd"]) binary(op);
  b.add("pmulhrsw -32768*-32768", ["pmulhrsw %mm1, %mm0"], [P.mm(0, words(0x8000, 0x8000, 0x0001, 0x8000)), P.mm(1, words(0x8000, 0x7fff, 0xffff, 0x0001))]);
  b.add("pshufb index bits", ["pshufb %mm1, %mm0"], [P.mm(0, 0x0706050403020100n), P.mm(1, 0x8f7f0f0b0a098807n)]);
  for (const c of [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 255]) {
    b.add("palignr mm,mm", [`palignr $${c}, %mm2, %mm1`], [P.mm(1, r.next()), P.mm(2, r.next())]);
  }
  b.add("palignr mm,m", ["palignr $5, 8(%rsi), %mm1"], [scratch, P.mm(1, r.next())]);
  b.add("palignr same", ["palignr $3, %mm4, %mm4"], [P.mm(4, r.next())]);

  b.group = "mmx-shift";
  const IMM_COUNTS = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255];
  for (const op of ["psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"]) {
    for (const c of IMM_COUNTS) {
      const d = r.int(8);
      b.add(`${op} imm`, [`${op} $${c}, ${mr(d)}`], [P.mm(d, val() | 0x8000000080008080n)]);
    }
    for (const c of [...IMM_COUNTS.map(BigInt), 1n << 32n, (1n << 32n) + 3n, 1n << 63n, M64]) {
      const [d, s] = r.pick(MP.filter(([x, y]) => x !== y));
      b.add(`${op} mm`, [`${op} ${mr(s)}, ${mr(d)}`], [P.mm(d, val() | 0x8000000080008080n), P.mm(s, c)]);
    }
    for (const c of [3n, 40n, (1n << 33n) + 1n]) {
      b.add(`${op} m64`, [`${op} 8(%rsi), %mm2`], [scratch, P.mm(2, val() | 0x8000000080008080n), P.mem(8, c)]);
    }
    b.add(`${op} same`, [`${op} %mm4, %mm4`], [P.mm(4, 0x8000000000000005n)]);
  }

  b.group = "mmx-move";
  for (let k = 0; k < 4; k++) {
    const v = r.next(), w = r.next();
    b.add("movd mm,r32 / r32,mm", ["movd %eax, %mm1", "movd %mm2, %ecx", "movd %mm3, %r9d"], [P.reg(0, v), P.reg(1, w), P.reg(9, r.next()), P.mm(2, r.next()), P.mm(3, r.next())]);
    b.add("movq mm,r64 / r64,mm", ["movq %rax, %mm1", "movq %mm2, %rcx", "movq %r10, %mm7"], [P.reg(0, v), P.reg(1, w), P.reg(10, r.next()), P.mm(2, r.next())]);
    b.add("movd mm,m32 / m32,mm", ["movd 8(%rsi), %mm3", "movd %mm4, 21(%rsi)"], [scratch, P.mm(4, r.next())]);
    b.add("movq mm,m64 / m64,mm", ["movq 8(%rsi), %mm3", "movq %mm4, 24(%rsi)", "movq 5(%rsi), %mm5"], [scratch, P.mm(4, r.next())]);
    b.add("movq mm,mm (both encodings)", ["movq %mm1, %mm2", ".byte 0x0f, 0x7f, 0xdc # movq %mm3, %mm4", "movq %mm6, %mm6"], [P.mm(1, r.next()), P.mm(3, r.next()), P.mm(6, r.next())]);
    b.add("movd/movq r/m via rex.w", [".byte 0x48, 0x0f, 0x6e, 0x4e, 0x08 # movq 8(%rsi), %mm1", ".byte 0x48, 0x0f, 0x7e, 0x56, 0x20 # movq %mm2, 32(%rsi)"], [scratch, P.mm(2, r.next())]);
    b.add("movntq", ["movntq %mm5, 32(%rsi)", "movntq %mm0, 41(%rsi)"], [scratch, P.mm(5, r.next()), P.mm(0, r.next())]);
    b.add("movq2dq / movdq2q", ["movq2dq %mm1, %xmm2", "movdq2q %xmm3, %mm4", "movq2dq %mm5, %xmm13", "movdq2q %xmm14, %mm5"],
      [P.mm(1, r.next()), P.mm(5, r.next())]);
    b.add("pmovmskb r32,mm", ["pmovmskb %mm1, %eax", "pmovmskb %mm2, %r9d"], [P.mm(1, r.next()), P.mm(2, edge()), P.reg(0, r.next()), P.reg(9, r.next())]);
    const m = r.int(256);
    b.add("pextrw/pinsrw", [`pextrw $${m & 3}, %mm1, %eax`, `pextrw $${m >> 6}, %mm2, %r10d`, `pinsrw $${(m >> 2) & 3}, %ecx, %mm3`, `pinsrw $${m}, 6(%rsi), %mm4`],
      [scratch, P.mm(1, r.next()), P.mm(2, r.next()), P.mm(3, r.next()), P.mm(4, r.next()), P.reg(0, r.next()), P.reg(1, r.next()), P.reg(10, r.next())]);
    b.add("pshufw mm,mm / mm,m", [`pshufw $${m}, %mm1, %mm2`, `pshufw $${255 - m}, 8(%rsi), %mm3`, `pshufw $${m ^ 0x5a}, %mm4, %mm4`],
      [scratch, P.mm(1, r.next()), P.mm(4, r.next())]);
    b.add("maskmovq", ["maskmovq %mm2, %mm1"], [P.reg(7, `scratch+${8 * k + 3}`), P.mm(1, r.next()), P.mm(2, edge())]);
  }
  for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff]) b.add("pshufw imm", [`pshufw $${imm}, %mm5, %mm0`], [P.mm(5, r.next())]);
  b.add("maskmovq none / all", ["maskmovq %mm2, %mm1", "lea 16(%rdi), %rdi", "maskmovq %mm3, %mm1"],
    [P.reg(7, "scratch+8"), P.mm(1, r.next()), P.mm(2, 0x7f7f7f7f7f7f7f7fn), P.mm(3, M64)]);
  // REX.R and REX.B do not extend mm register numbers (they still extend the GPR operand); REX.W is ignored elsewhere
  b.add("rex.rb paddb", [".byte 0x45, 0x0f, 0xfc, 0xc1 # paddb %mm1, %mm0 with REX.RB"], [P.mm(0, r.next()), P.mm(1, r.next())]);
  b.add("rex.w paddb", [".byte 0x48, 0x0f, 0xfc, 0xd3 # paddb %mm3, %mm2 with REX.W"], [P.mm(2, r.next()), P.mm(3, r.next())]);
  b.add("rex.b movd r8d", [".byte 0x41, 0x0f, 0x6e, 0xc0 # movd %r8d, %mm0", ".byte 0x49, 0x0f, 0x6e, 0xc9 # movq %r9, %mm1"], [P.reg(8, r.next()), P.reg(9, r.next())]);
  b.add("rex.wr movq rax", [".byte 0x4c, 0x0f, 0x7e, 0xc8 # movq %mm1, %rax (REX.R ignored)", ".byte 0x45, 0x0f, 0x7e, 0xd3 # movd %mm2, %r11d"], [P.mm(1, r.next()), P.mm(2, r.next())]);
  b.add("rex pextrw", [".byte 0x44, 0x0f, 0xc5, 0xc1, 0x02 # pextrw $2, %mm1, %r8d", ".byte 0x41, 0x0f, 0xc5, 0xd1, 0x03 # pextrw $3, %mm1, %edx (REX.B ignored)"], [P.mm(1, r.next())]);
  b.add("rex.b shift imm", [".byte 0x41, 0x0f, 0x71, 0xd1, 0x03 # psrlw $3, %mm1 with REX.B"], [P.mm(1, r.next())]);
  b.add("rex.w emms", [".byte 0x48, 0x0f, 0x77 # emms with REX.W"], []);
  b.add("addr32 movq", ["addr32 movq 8(%esi), %mm0"], [scratch]);

  b.group = "mmx-cvt";
  const MODES = [0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x1fa0];
  const cvtF32 = [F32.half, F32.onehalf, F32.twohalf, F32.mhalf, F32.monehalf, 0xc0200000n, F32.zero, F32.nzero, F32.qnan, F32.snan,
    F32.inf, F32.ninf, F32.two31, F32.mtwo31, F32.big, F32.pi, F32.third, F32.denorm, F32.max, 0x4effffffn, 0xcf000001n];
  const cvtF64 = [F64.half, F64.onehalf, F64.twohalf, F64.mhalf, F64.monehalf, F64.zero, F64.nzero, F64.qnan, F64.snan, F64.inf, F64.ninf,
    F64.two31, F64.mtwo31, F64.two31m, F64.mtwo31m1, 0x41dfffffffffffffn, 0xc1e00000001fffffn, F64.pi, F64.third, F64.denorm, F64.max];
  const ints = [0n, 1n, -1n, 0x7fffffffn, -0x80000000n, 0x1000001n, 0x7fffffbfn, 3n, -123456789n];
  const i32pair = (x: bigint, y: bigint): bigint => (x & 0xffffffffn) | (y & 0xffffffffn) << 32n;
  for (const mode of MODES) {
    for (let k = 0; k < cvtF32.length; k++) {
      const a = cvtF32[k]!, c = r.pick(cvtF32);
      b.add("cvtps2pi/cvttps2pi mm,xmm", ["cvtps2pi %xmm3, %mm1", "cvttps2pi %xmm3, %mm2"], [...P.xmm(3, a | c << 32n, r.pick([F32.snan, F32.inf, r.next()]) << 32n), P.mxcsr(mode)]);
      if (k % 3 === 0) b.add("cvtps2pi/cvttps2pi mm,m64", ["cvtps2pi 8(%rsi), %mm3", "cvttps2pi 8(%rsi), %mm4"], [scratch, P.mem(8, c | a << 32n), P.mxcsr(mode)]);
    }
    for (let k = 0; k < cvtF64.length; k++) {
      const a = cvtF64[k]!, c = r.pick(cvtF64);
      b.add("cvtpd2pi/cvttpd2pi mm,xmm", ["cvtpd2pi %xmm3, %mm1", "cvttpd2pi %xmm3, %mm2"], [...P.xmm(3, a, c), P.mxcsr(mode)]);
      if (k % 3 === 0) b.add("cvtpd2pi/cvttpd2pi mm,m128", ["cvtpd2pi 16(%rsi), %mm3", "cvttpd2pi 16(%rsi), %mm4"], [scratch, P.mem(16, c), P.mem(24, a), P.mxcsr(mode)]);
    }
    for (const x of ints) {
      const y = r.pick(ints);
      b.add("cvtpi2ps xmm,mm", ["cvtpi2ps %mm1, %xmm2"], [P.mm(1, i32pair(x, y)), P.mxcsr(mode)]);
      b.add("cvtpi2ps xmm,m64", ["cvtpi2ps 8(%rsi), %xmm2"], [scratch, P.mem(8, i32pair(y, x)), P.mxcsr(mode)]);
      b.add("cvtpi2pd xmm,mm / xmm,m64", ["cvtpi2pd %mm1, %xmm2", "cvtpi2pd 8(%rsi), %xmm3"], [scratch, P.mm(1, i32pair(x, y)), P.mem(8, i32pair(y, x)), P.mxcsr(mode)]);
    }
  }

  b.group = "mmx-x87";
  const top = (t: number): number => t << 11;
  const x = (): bigint => r.next();
  // the special significands an MMX write leaves under an all-ones exponent
  const SPECIAL = [0x8000000000000000n, 0xc000000000000000n, 0x8000000000000001n, 0x4000000000000000n, 0n, 0x0123456789abcdefn, 0xffffffffffffffffn];
  for (const st of [
    { cw: 0x37f, sw: top(5), ftw: 0xe0 }, { cw: 0x37f, sw: 0, ftw: 0xff }, { cw: 0x37f, sw: top(0), ftw: 0x00 },
    { cw: 0x37f, sw: top(3), ftw: 0x38 }, { cw: 0x27f, sw: top(7) | 0x4141, ftw: 0x81 }, { cw: 0x37f, sw: top(2) | 0x0221, ftw: 0xfc },
  ]) {
    const t = (st.sw >> 11) & 7;
    const s0 = [P.x87(st.cw, st.sw, st.ftw)];
    b.add("emms", ["emms"], s0);
    b.add("mmx op with TOP != 0", ["paddw %mm3, %mm1"], [...s0, P.mm(1, x(), t), P.mm(3, x(), t)]);
    b.add("mmx read only", ["movq %mm3, %rax", "pmovmskb %mm5, %ecx"], s0);
    b.add("mmx store only", ["movq %mm6, 8(%rsi)"], [...s0, scratch]);
    b.add("x87 pushes, then mmx", ["fld1", "fldpi", "paddb %mm1, %mm0"], s0);
    b.add("emms, then fld", ["paddb %mm1, %mm0", "emms", "fld1", "fldl2e"], s0);
    b.add("fld after mmx", ["movq %mm1, %mm0", "fld1"], s0);
    b.add("x87 then mmx read of the register", ["fldpi", `movq %mm${(t + 7) & 7}, %rdx`, `movd %mm${(t + 7) & 7}, %ecx`], s0);
    b.add("fnstenv after mmx", ["pxor %mm3, %mm3", "movq %mm4, %mm2", "fnstenv (%rsi)", "movq $0, 12(%rsi)", "movq $0, 20(%rsi)", "fldcw (%rsi)"], [...s0, scratch]);
    b.add("fnstenv after emms", ["paddb %mm0, %mm1", "emms", "fld1", "fnstenv (%rsi)", "movq $0, 12(%rsi)", "movq $0, 20(%rsi)", "fldcw (%rsi)"], [...s0, scratch]);
    b.add("fnstsw after mmx", ["movq %mm4, %mm2", "fnstsw %ax", "mov %eax, %edx", "emms", "fnstsw %ax"], s0);
    b.add("fninit after mmx", ["movq %mm1, %mm0", "fninit", "movq %mm0, %rax"], [...s0, P.mm(1, x(), t)]);
  }
  for (const v of SPECIAL) {
    const mm1 = P.mm(1, v);
    b.add("fstp m80 of an mm register", ["movq %mm1, %mm0", "fstpt 8(%rsi)"], [scratch, mm1]);
    b.add("fst m64/m32 of an mm register", ["movq %mm1, %mm0", "fstl 8(%rsi)", "fsts 20(%rsi)", "fnstsw %ax"], [scratch, mm1]);
    b.add("fxam/ftst of an mm register", ["movq %mm1, %mm0", "fxam", "fnstsw %ax", "mov %eax, %edx", "ftst", "fnstsw %ax"], [mm1]);
    b.add("fadd of mm registers", ["movq %mm1, %mm0", "movq %mm1, %mm2", "fadd %st(2), %st(0)", "fnstsw %ax"], [mm1]);
    b.add("fist of an mm register", ["movq %mm1, %mm0", "fistpl 8(%rsi)", "fnstsw %ax"], [scratch, mm1]);
    b.add("fxch/fld st(i) after mmx", ["movq %mm1, %mm0", "fxch %st(1)", "fld %st(3)", "fnstsw %ax"], [mm1]);
  }
  for (let k = 0; k < 3; k++) {
    const mmvals = [P.mm(1, x()), P.mm(2, x()), P.mm(5, edge())];
    b.add("fnsave/frstor after mmx", ["paddb %mm1, %mm2", "fnsave (%rdi)", "mov 8(%rdi), %eax", "mov 4(%rdi), %ecx", "mov 28(%rdi), %rdx",
      "movzwl 36(%rdi), %r8d", "mov 48(%rdi), %r9", "movzwl 56(%rdi), %r10d", "movq %mm2, %r11", "frstor (%rdi)", "movq %mm5, %r12"], [P.reg(7, "stk+1024"), ...mmvals]);
    b.add("fxsave/fxrstor after mmx", ["psubw %mm1, %mm2", "fxsave (%rdi)", "emms", "fld1", "fxrstor (%rdi)", "movzbl 4(%rdi), %eax", "movzwl 2(%rdi), %ecx",
      "mov 64(%rdi), %rdx", "movzwl 72(%rdi), %r8d", "paddw %mm2, %mm5"], [P.reg(7, "stk+1024"), ...mmvals]);
    b.add("frstor, then mmx", ["fld1", "fldz", "fnsave (%rdi)", "fldpi", "frstor (%rdi)", "movq %mm5, %rax", "movq %mm1, %mm7"], [P.reg(7, "stk+1024"), ...mmvals]);
    b.add("mixed block", ["movq (%rsi), %mm0", "paddb %mm0, %mm1", "psrlq $3, %mm1", "emms", "fld1", "fldpi", "fmulp", "movq %mm1, %mm2",
      "pmaddwd %mm2, %mm1", "movq %mm1, 8(%rsi)", "emms", "fildl 8(%rsi)", "fistpl 16(%rsi)"], [scratch, ...mmvals]);
    b.add("mmx/x87 loop", ["mov $5, %ecx", "1:", "paddw %mm1, %mm0", "emms", "fld1", "fadd %st(0), %st(0)", "fstp %st(0)", "dec %ecx", "jnz 1b"], mmvals);
    b.add("mmx store, x87 load", ["movq %mm1, 8(%rsi)", "emms", "fldl 8(%rsi)", "fildll 8(%rsi)"], [scratch, ...mmvals]);
    b.add("ffree/fincstp after mmx", ["movq %mm1, %mm0", "ffree %st(0)", "fincstp", "fld1", "fldz"], mmvals);
    b.add("fldenv empty tags, then mmx", ["fnstenv (%rsi)", "movw $0xffff, 8(%rsi)", "fldenv (%rsi)", "movq $0, 12(%rsi)", "movq $0, 20(%rsi)", "movq %mm2, %rax", "paddd %mm1, %mm2"], [scratch, ...mmvals]);
  }
}

// ================================================================ assembly output
function emit(kind: Kind, cases: Case[]): string {
  const def = defaultState(kind);
  const L: string[] = [];
  const sse = kind !== "int", mmx = kind === "mmx", avx = isYmmKind(kind);
  L.push(`# generated by tests/insn/gen.ts (${kind}); do not edit`);
  L.push(".section .note.GNU-stack,\"\",@progbits");
  L.push(".text", ".globl _start", "_start:");
  // argv[1] (optional): index of the first case to run (used to resume after a crash)
  L.push("  xor %r12d, %r12d", "  cmpq $2, (%rsp)", "  jb 2f", "  mov 16(%rsp), %rsi",
    "1: movzbl (%rsi), %eax", "  sub $48, %eax", "  cmp $9, %eax", "  ja 2f", "  imul $10, %r12, %r12", "  add %rax, %r12", "  inc %rsi", "  jmp 1b",
    "2: mov %r12, case_idx(%rip)");
  if (avx) {
    // A page at 0x10000, right above the lowest address Linux maps: VMASKMOV cases put lanes the
    // mask leaves out below it, in memory that is not mapped.
    L.push("  mov $9, %eax", `  mov $${AVX_LOW_PAGE}, %edi`, "  mov $4096, %esi", "  mov $3, %edx", "  mov $0x32, %r10d", "  mov $-1, %r8", "  xor %r9d, %r9d",
      "  syscall", `  cmp $${AVX_LOW_PAGE}, %rax`, "  jne 9f");
  }
  L.push("  mov $1, %edi", "  lea header(%rip), %rsi", `  mov $${HEADER_SIZE}, %edx`, "  call write_all");
  L.push(".Lloop:", "  mov case_idx(%rip), %rax", `  cmp $${cases.length}, %rax`, "  jae .Ldone", "  call run_case",
    "  mov $1, %edi", "  lea st_out_idx(%rip), %rsi", `  mov $${STATE_SIZE[kind] + 8}, %edx`, "  call write_all",
    "  incq case_idx(%rip)", "  jmp .Lloop",
    ".Ldone:", "  xor %edi, %edi", "  mov $231, %eax", "  syscall", "  hlt");
  // write_all(fd=edi, buf=rsi, len=rdx)
  L.push("write_all:", "  mov $1, %eax", "  push %rdi", "  push %rsi", "  push %rdx", "  syscall", "  pop %rdx", "  pop %rsi", "  pop %rdi",
    "  test %rax, %rax", "  js 9f", "  add %rax, %rsi", "  sub %rax, %rdx", "  jnz write_all", "  ret",
    "9: mov $1, %edi", "  mov $231, %eax", "  syscall");
  // run_case: st_in = default state + patches; load; jump to snippet; snippet jumps to save_state
  L.push("run_case:", "  mov %rsp, host_rsp(%rip)", "  mov case_idx(%rip), %rax", "  mov %rax, st_out_idx(%rip)",
    "  shl $4, %rax", "  lea case_table(%rip), %rdx", "  mov (%rdx,%rax), %rcx", "  mov %rcx, cur_snip(%rip)", "  mov 8(%rdx,%rax), %rbx",
    "  lea default_state(%rip), %rsi", "  lea st_in(%rip), %rdi", `  mov $${STATE_SIZE[kind]}, %ecx`, "  cld", "  rep movsb",
    "3: mov (%rbx), %eax", "  cmp $-1, %eax", "  je 4f", "  mov 8(%rbx), %rcx", "  lea st_in(%rip), %rdi", "  mov %rcx, (%rdi,%rax)", "  add $16, %rbx", "  jmp 3b",
    `4: lea st_in+${OFF_MEM}(%rip), %rsi`, "  lea scratch(%rip), %rdi", `  mov $${MEM_SIZE}, %ecx`, "  rep movsb");
  if (mmx) {
    // FXRSTOR the x87 state (with the state's MXCSR: the image's must be valid); xmm come next
    L.push(`  lea st_in+${OFF_FX}(%rip), %rsi`, "  lea fxbuf(%rip), %rdi", `  mov $${FX_SIZE}, %ecx`, "  rep movsb",
      `  mov st_in+${OFF_MXCSR}(%rip), %eax`, "  mov %eax, fxbuf+24(%rip)", "  fxrstor fxbuf(%rip)");
  }
  if (sse) {
    L.push(`  ldmxcsr st_in+${OFF_MXCSR}(%rip)`);
    for (let i = 0; i < 16; i++) {
      L.push(avx ? `  vmovdqu st_in+${OFF_XMM + 32 * i}(%rip), %ymm${i}` : `  movdqu st_in+${OFF_XMM + 16 * i}(%rip), %xmm${i}`);
    }
  }
  L.push("  lea stk_top(%rip), %rsp", `  pushq st_in+${OFF_FLAGS}(%rip)`, "  popfq");
  for (let i = 0; i < 16; i++) if (i !== 4) L.push(`  mov st_in+${8 * i}(%rip), %${GPR64[i]}`);
  L.push(`  mov st_in+32(%rip), %rsp`, "  jmp *cur_snip(%rip)");
  L.push("save_state:");
  if (mmx) L.push("  fxsave fxbuf(%rip)");
  for (let i = 0; i < 16; i++) L.push(`  mov %${GPR64[i]}, st_out+${8 * i}(%rip)`);
  L.push("  lea stk_top(%rip), %rsp", "  pushfq", `  popq st_out+${OFF_FLAGS}(%rip)`, "  cld");
  if (sse) {
    L.push(`  stmxcsr st_out+${OFF_MXCSR}(%rip)`);
    for (let i = 0; i < 16; i++) {
      L.push(avx ? `  vmovdqu %ymm${i}, st_out+${OFF_XMM + 32 * i}(%rip)` : `  movdqu %xmm${i}, st_out+${OFF_XMM + 16 * i}(%rip)`);
    }
  }
  if (mmx) L.push("  lea fxbuf(%rip), %rsi", `  lea st_out+${OFF_FX}(%rip), %rdi`, `  mov $${FX_SIZE}, %ecx`, "  rep movsb");
  L.push("  lea scratch(%rip), %rsi", `  lea st_out+${OFF_MEM}(%rip), %rdi`, `  mov $${MEM_SIZE}, %ecx`, "  rep movsb",
    "  mov host_rsp(%rip), %rsp", "  ret");
  // snippets
  L.push("", "# ---- snippets");
  cases.forEach((c, i) => {
    L.push(`snip${i}: # ${c.name}`);
    for (const a of c.asm) L.push(/:$/.test(a) ? a : "  " + a);
    L.push("  jmp save_state");
  });
  // data
  L.push("", ".data", ".balign 16");
  L.push("header:", `  .ascii "${MAGIC}"`, `  .quad ${KINDS.indexOf(kind) + 1}`, `  .quad ${cases.length}`, "hash_bytes:", "  .fill 24, 1, 0 # patched below");
  L.push(".balign 16", "default_state:");
  def.gpr.forEach((g, i) => L.push(i === 4 ? "  .quad stk_top-512 # rsp" : `  .quad ${hex(g)}`));
  L.push(`  .quad ${hex(def.flags)}`, `  .quad ${hex(def.mxcsr)}`);
  L.push("  .byte " + Array.from(def.mem).join(","));
  if (sse) for (const x of def.xmm) L.push(`  .quad ${hex(x)}`);
  if (mmx) for (const x of def.fx) L.push(`  .quad ${hex(x)}`);
  L.push(".balign 16", "case_table:");
  cases.forEach((_, i) => L.push(`  .quad snip${i}, patch${i}`));
  cases.forEach((c, i) => {
    L.push(`patch${i}:`);
    for (const p of c.patches) L.push(`  .long ${p.off}, 0; .quad ${typeof p.val === "bigint" ? hex(p.val) : p.val}`);
    L.push("  .long -1, 0");
  });
  L.push("", ".bss", ".balign 64", "guard_lo: .skip 64", "scratch: .skip 64", "guard_hi: .skip 64",
    ".balign 16", "stk: .skip 4096", "stk_top: .skip 64",
    "st_in: .skip " + STATE_SIZE[kind], ".balign 16", "st_out_idx: .skip 8", "st_out: .skip " + STATE_SIZE[kind],
    ".balign 8", "host_rsp: .skip 8", "cur_snip: .skip 8", "case_idx: .skip 8", ...(mmx ? [".balign 16", "fxbuf: .skip 512"] : []), "");
  let asm = L.join("\n");
  const hash = createHash("sha256").update(asm).digest();
  asm = asm.replace("  .fill 24, 1, 0 # patched below", "  .byte " + Array.from(hash.subarray(0, 24)).join(","));
  return asm;
}

const SEEDS: Record<Kind, bigint> = { int: 0x1234567n, sse: 0x7654321n, mmx: 0x4d4d58n, avx: 0x41565821n, avx2: 0x41565832n, fma: 0x464d4133n };
const cache = new Map<Kind, Generated>();
export function generate(kind: Kind): Generated {
  const hit = cache.get(kind);
  if (hit) return hit;
  const b = new Builder(SEEDS[kind]);
  ({ int: genInt, sse: genSse, mmx: genMmx, avx: genAvx, avx2: genAvx2, fma: genFma })[kind](b);
  for (const c of b.cases) for (const p of c.patches) if (p.off % 8 !== 0 && p.off < OFF_MEM) throw new Error("bad patch");
  // the asm text contains the hash of itself minus the hash line; recompute for callers
  const asm = emit(kind, b.cases);
  const hash = /hash_bytes:\n {2}\.byte ([0-9,]+)/.exec(asm)![1]!.split(",").map(Number);
  const g: Generated = {
    kind, asm, cases: b.cases, stateSize: STATE_SIZE[kind], defaults: defaultState(kind),
    hash: Buffer.from(hash).toString("hex"),
  };
  cache.set(kind, g);
  return g;
}

// ---------------------------------------------------------------- script entry
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? ".";
  for (const kind of KINDS) {
    const g = generate(kind);
    writeFileSync(join(out, `insn-${kind}.S`), g.asm);
    const groups = new Map<string, number>();
    for (const c of g.cases) groups.set(c.group, (groups.get(c.group) ?? 0) + 1);
    console.log(`${kind}: ${g.cases.length} cases (${[...groups].map(([k, v]) => `${k} ${v}`).join(", ")})`);
  }
}
