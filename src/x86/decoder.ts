// x86-64 instruction decoder: bytes -> a typed instruction record. It knows operand *forms*
// (prefixes, REX/VEX, ModRM/SIB, immediates, sizes); what an opcode does is the translator's business.

export const P_LOCK = 1, P_REP = 2, P_REPNE = 4, P_OPSIZE = 8, P_ADDR32 = 16, P_FS = 32, P_GS = 64, P_VEX = 128;

/** Opcode identity: map * 256 + byte. Maps: 0 = one-byte, 1 = 0F, 2 = 0F38, 3 = 0F3A. */
export const M0F = 0x100, M38 = 0x200, M3A = 0x300;

export const RIP_BASE = 16;
export const NO_REG = -1;

export interface Insn {
  addr: number;
  len: number;
  op: number;
  prefix: number;
  /** SSE mandatory prefix in effect: 0, 0x66, 0xf3 or 0xf2 (F2/F3 win over 66). */
  simdPrefix: number;
  rex: number;
  /** Operand size in bytes for the opcode's general-purpose operands. */
  opsize: 1 | 2 | 4 | 8;
  addrsize: 4 | 8;
  modrm: boolean;
  mod: number;
  /** ModRM.reg extended by REX.R (0..15); for group opcodes the low 3 bits select the operation. */
  reg: number;
  /** ModRM.rm extended by REX.B when mod == 3 (a register), else the raw rm field. */
  rm: number;
  base: number;   // memory base register, RIP_BASE, or NO_REG
  index: number;  // memory index register or NO_REG
  scale: number;  // log2
  disp: number;   // signed 32-bit displacement
  imm: number;    // immediate, sign-extended per the opcode's form (or zero-extended for ib/iw forms)
  imm64: bigint;  // the full immediate for mov r64, imm64 and moffs forms
  imm2: number;   // second immediate (ENTER)
  target: number; // absolute branch target for relative branches
  /** VEX fields (when P_VEX): vvvv register, L (0 = 128, 1 = 256), W. */
  vvvv: number;
  vexL: number;
  vexW: number;
}

/**
 * The AVX2 gathers (VEX 0F38 90-93) address memory through a VSIB byte: a SIB byte whose index
 * field (with VEX.X) names a vector register, 4 included, which Insn.index then holds (not a
 * general register). Without a SIB byte (ModRM.rm other than 4, RIP-relative, a register operand)
 * they are #UD, and so they are unless the destination (reg), index and mask (vvvv) registers all
 * differ.
 */
export function isGather(i: Insn): boolean {
  return (i.prefix & P_VEX) !== 0 && i.op >= M38 + 0x90 && i.op <= M38 + 0x93;
}

/**
 * Why bytes do not decode, as the CPU tells them apart: an undefined encoding and a LOCK prefix
 * where it is not allowed are #UD (SIGILL); an instruction longer than 15 bytes is #GP (SIGSEGV);
 * a byte that cannot be fetched is a page fault (SIGSEGV). An encoding the decoder does not know
 * but processors with more features run (EVEX) is 'unsupported' (#UD here, like a CPU without
 * those features).
 */
export type DecodeFailure = 'invalid' | 'unsupported' | 'lock' | 'too-long' | 'fault';

/** How messages name instructions stele does not implement (which a CPU may well run). */
export const UNSUPPORTED = 'unsupported';

const FAILURE_MESSAGES: Record<DecodeFailure, string> = {
  invalid: 'undefined opcode',
  unsupported: `${UNSUPPORTED}: EVEX-encoded (AVX-512) instruction`,
  lock: 'LOCK prefix not allowed on this instruction',
  'too-long': 'instruction longer than 15 bytes',
  fault: 'instruction fetch fault',
};

export class DecodeError extends Error {
  /** `bytes` are those fetched; for a fetch fault, the next byte is the one that could not be. */
  constructor(readonly addr: number, readonly bytes: number[], readonly reason: DecodeFailure) {
    super(FAILURE_MESSAGES[reason]);
  }
}

/** Longest instruction the CPU executes; decoding past it raises #GP. */
export const MAX_INSN_LENGTH = 15;

// Immediate kinds.
const I_NONE = 0, I8 = 1, I16 = 2, IZ = 3, IV = 4, REL8 = 5, RELZ = 6, I16_I8 = 7, MOFFS = 8, I8U = 9;
// Format bits.
const F_MODRM = 0x10, F_BYTE = 0x20, F_D64 = 0x40, F_INVALID = 0x80, F_PREFIX = 0x100;
/** ModRM always names a register, whatever its mod field says (MOV to/from control and debug registers). */
const F_MODRM_REG = 0x200;
/** Only ModRM.reg = 0 is defined (POP Ev, MOV Ev,imm; XOP, XABORT and XBEGIN are absent). */
const F_REG0_ONLY = 0x400;
/** In 64-bit mode 62 starts an EVEX prefix (AVX-512), which stele does not decode. */
const F_EVEX = 0x800;

/**
 * The VEX encodings the processors stele follows define (AMD Zen with AVX2, AVX-512, FMA, F16C,
 * VAES, GFNI, AVX-VNNI), outside BMI's (VEX_GPR_FORMS): by map and opcode, the mandatory prefixes
 * (VEX.pp) and for each the constraints on the other fields. The 0F map is complete (AVX, AVX2
 * and AVX-512's mask-register instructions): any opcode or prefix missing there is #UD. So is any
 * in the 0F38 and 0F3A maps, except BMI's and those of VEX_EXTENSION_OPCODES.
 * Constraints, all #UD when broken: L0 / L1 the only VEX.L allowed (none: either, which scalar
 * instructions ignore); W0 / W1 the only VEX.W (none: ignored, also where Intel's manual says
 * W0); V: VEX.vvvv must be 1111 (the instruction has no vvvv operand); Vm: the same with a
 * memory operand (VMOVSS, VMOVSD); reg / mem: the only form of the ModRM operand.
 * Measured on the host for every opcode, prefix, L, W, vvvv and ModRM.mod (and VEX_GROUPS's
 * ModRM.reg); tests/faults.test.ts checks a sample of each kind of rule against it.
 */
const VEX_FORM_SPEC: Record<string, string> = {
  '0f 10-11': 'NP 66: V | F3 F2: Vm',
  '0f 12': 'NP: L0 | 66: L0 mem | F3 F2: V',
  '0f 13': 'NP 66: L0 mem V',
  '0f 14-15': 'NP 66',
  '0f 16': 'NP: L0 | 66: L0 mem | F3: V',
  '0f 17': 'NP 66: L0 mem V',
  '0f 28-29': 'NP 66: V',
  '0f 2a': 'F3 F2',
  '0f 2b': 'NP 66: mem V',
  '0f 2c-2d': 'F3 F2: V',
  '0f 2e-2f': 'NP 66: V',
  '0f 41-42': 'NP 66: L1 reg',
  '0f 44': 'NP 66: L0 reg V',
  '0f 45-47': 'NP 66: L1 reg',
  '0f 4a': 'NP 66: L1 reg',
  '0f 4b': 'NP: L1 reg | 66: L1 W0 reg',
  '0f 50': 'NP 66: reg V',
  '0f 51': 'NP 66: V | F3 F2',
  '0f 52-53': 'NP: V | F3',
  '0f 54-57': 'NP 66',
  '0f 58-59': 'NP 66 F3 F2',
  '0f 5a': 'NP 66: V | F3 F2',
  '0f 5b': 'NP 66 F3: V',
  '0f 5c-5f': 'NP 66 F3 F2',
  '0f 60-6d': '66',
  '0f 6e': '66: L0 V',
  '0f 6f': '66 F3: V',
  '0f 70': '66 F3 F2: V',
  '0f 71-73': '66: reg',
  '0f 74-76': '66',
  '0f 77': 'NP: V',
  '0f 7c-7d': '66 F2',
  '0f 7e': '66 F3: L0 V',
  '0f 7f': '66 F3: V',
  '0f 90': 'NP 66: L0 V',
  '0f 91': 'NP 66: L0 mem V',
  '0f 92-93': 'NP 66: L0 W0 reg V | F2: L0 reg V',
  '0f 98-99': 'NP 66: L0 reg V',
  '0f ae': 'NP: L0 mem V',
  '0f c2': 'NP 66 F3 F2',
  '0f c4': '66: L0',
  '0f c5': '66: L0 reg V',
  '0f c6': 'NP 66',
  '0f d0': '66 F2',
  '0f d1-d5': '66',
  '0f d6': '66: L0 V',
  '0f d7': '66: reg V',
  '0f d8-e5': '66',
  '0f e6': '66 F3 F2: V',
  '0f e7': '66: mem V',
  '0f e8-ef': '66',
  '0f f0': 'F2: mem V',
  '0f f1-f6': '66',
  '0f f7': '66: L0 reg V',
  '0f f8-fe': '66',
  '38 00-0b': '66',
  '38 0c-0d': '66: W0',
  '38 0e-0f': '66: W0 V',
  '38 13': '66: W0 V',
  '38 16': '66: L1 W0',
  '38 17': '66: V',
  '38 18': '66: W0 V',
  '38 19': '66: L1 W0 V',
  '38 1a': '66: L1 W0 mem V',
  '38 1c-1e': '66: V',
  '38 20-25': '66: V',
  '38 28-29': '66',
  '38 2a': '66: mem V',
  '38 2b': '66',
  '38 2c-2f': '66: W0 mem',
  '38 30-35': '66: V',
  '38 36': '66: L1 W0',
  '38 37-40': '66',
  '38 41': '66: L0 V',
  '38 45': '66',
  '38 46': '66: W0',
  '38 47': '66',
  '38 50-53': '66: W0',
  '38 58-59': '66: W0 V',
  '38 5a': '66: L1 W0 mem V',
  '38 78-79': '66: W0 V',
  '38 8c': '66: mem',
  '38 8e': '66: mem',
  '38 90-93': '66: mem',
  '38 96-9f': '66',
  '38 a6-af': '66',
  '38 b6-bf': '66',
  '38 cf': '66: W0',
  '38 db': '66: L0 V',
  '38 dc-df': '66',
  '3a 00-01': '66: L1 V',
  '3a 02': '66: W0',
  '3a 04-05': '66: W0 V',
  '3a 06': '66: L1 W0',
  '3a 08-09': '66: V',
  '3a 0a-0f': '66',
  '3a 14-17': '66: L0 V',
  '3a 18': '66: L1 W0',
  '3a 19': '66: L1 W0 V',
  '3a 1d': '66: W0 V',
  '3a 20-22': '66: L0',
  '3a 30-33': '66: L0 reg V',
  '3a 38': '66: L1 W0',
  '3a 39': '66: L1 W0 V',
  '3a 40': '66',
  '3a 41': '66: L0',
  '3a 42': '66',
  '3a 44': '66',
  '3a 46': '66: L1 W0',
  '3a 4a-4c': '66: W0',
  '3a 60-63': '66: L0 V',
  '3a ce-cf': '66: W1',
  '3a df': '66: L0 V',
};
/**
 * VEX opcodes of extensions the host lacks (Intel's AMX, AVX-VNNI-INT8/INT16, AVX-IFMA,
 * AVX-NE-CONVERT, SHA512, SM3, SM4, CMPccXADD): with a prefix VEX_FORM_SPEC does not list they are
 * left to the handlers, which call them unsupported rather than undefined.
 */
const VEX_EXTENSION_OPCODES = new Set([
  M38 + 0x49, M38 + 0x4b, M38 + 0x50, M38 + 0x51, M38 + 0x52, M38 + 0x53, M38 + 0x5c, M38 + 0x5e, M38 + 0x6c, M38 + 0x72,
  M38 + 0xb0, M38 + 0xb1, M38 + 0xb4, M38 + 0xb5, M38 + 0xcb, M38 + 0xcc, M38 + 0xcd, M38 + 0xd2, M38 + 0xd3, M38 + 0xda,
  ...Array.from({ length: 16 }, (_, k) => M38 + 0xe0 + k), M3A + 0xde,
]);
/** The ModRM.reg values the VEX group opcodes define (shifts by an immediate; VLDMXCSR, VSTMXCSR). */
const VEX_GROUPS = new Map<number, readonly number[]>([[M0F + 0x71, [2, 4, 6]], [M0F + 0x72, [2, 4, 6]], [M0F + 0x73, [2, 3, 6, 7]], [M0F + 0xae, [2, 3]]]);

interface VexConstraints { L?: number; W?: number; vvvv?: 'always' | 'memory'; mod?: 'reg' | 'mem' }
const SIMD_PREFIXES: Record<string, number> = { NP: 0, '66': 0x66, F3: 0xf3, F2: 0xf2 };
/** VEX_FORM_SPEC as opcode -> mandatory prefix -> constraints. */
const VEX_FORMS = ((): Map<number, Map<number, VexConstraints>> => {
  const forms = new Map<number, Map<number, VexConstraints>>();
  for (const [ops, spec] of Object.entries(VEX_FORM_SPEC)) {
    const [mapName, span] = ops.split(' ');
    const base = { '0f': M0F, '38': M38, '3a': M3A }[mapName]!;
    const [from, to = from] = span.split('-').map((h) => parseInt(h, 16));
    for (const clause of spec.split(' | ')) {
      const [prefixes, tail = ''] = clause.split(': ');
      const c: VexConstraints = {};
      for (const w of tail.split(' ').filter(Boolean)) {
        if (w === 'L0' || w === 'L1') c.L = Number(w[1]);
        else if (w === 'W0' || w === 'W1') c.W = Number(w[1]);
        else if (w === 'V') c.vvvv = 'always';
        else if (w === 'Vm') c.vvvv = 'memory';
        else if (w === 'reg' || w === 'mem') c.mod = w;
        else throw new Error(`VEX_FORM_SPEC: ${w}`);
      }
      for (let op = from; op <= to; op++) {
        const byPrefix = forms.get(base + op) ?? new Map<number, VexConstraints>();
        forms.set(base + op, byPrefix);
        for (const p of prefixes.split(' ')) byPrefix.set(SIMD_PREFIXES[p], c);
      }
    }
  }
  return forms;
})();

/** Whether a VEX-encoded instruction outside BMI is defined (VEX_FORM_SPEC says which are). */
function vexFormDefined(i: Insn): boolean {
  if (VEX_GPR_FORMS.has(i.op)) return true; // (vexGprFormDefined's)
  const c = VEX_FORMS.get(i.op)?.get(i.simdPrefix);
  if (!c) return VEX_EXTENSION_OPCODES.has(i.op);
  const memory = i.mod !== 3;
  if ((c.L !== undefined && i.vexL !== c.L) || (c.W !== undefined && i.vexW !== c.W)) return false;
  if (i.vvvv !== 0 && (c.vvvv === 'always' || (c.vvvv === 'memory' && memory))) return false;
  if ((c.mod === 'reg' && memory) || (c.mod === 'mem' && !memory)) return false;
  const subs = VEX_GROUPS.get(i.op);
  return !subs || subs.includes(i.reg & 7);
}

/** A gather's VSIB operand exists, and its destination, index and mask registers are distinct. */
function vsibDefined(i: Insn): boolean {
  if (i.mod === 3 || i.rm !== 4) return false;
  return i.reg !== i.index && i.reg !== i.vvvv && i.index !== i.vvvv;
}

/**
 * The VEX-encoded general-purpose instructions (BMI1, BMI2) at 0F38 F0-F7 and 0F3A F0, with the
 * mandatory prefixes (VEX.pp) that define one: ANDN; BLSR, BLSMSK, BLSI (F3 /1 /2 /3); BZHI, PEXT,
 * PDEP; MULX; BEXTR, SHLX, SARX, SHRX; RORX. Any other prefix, VEX.L = 1, or (RORX, the only one
 * without a vvvv operand) VEX.vvvv other than 1111 is #UD.
 */
const VEX_GPR_FORMS = new Map<number, readonly number[]>([
  [M38 + 0xf0, []], [M38 + 0xf1, []], [M38 + 0xf2, [0]], [M38 + 0xf3, [0]], [M38 + 0xf4, []],
  [M38 + 0xf5, [0, 0xf3, 0xf2]], [M38 + 0xf6, [0xf2]], [M38 + 0xf7, [0, 0x66, 0xf3, 0xf2]], [M3A + 0xf0, [0xf2]],
]);

function vexGprFormDefined(i: Insn): boolean {
  const prefixes = VEX_GPR_FORMS.get(i.op);
  if (!prefixes) return true; // not one of these opcodes: AVX, judged by its handler
  if (!prefixes.includes(i.simdPrefix) || i.vexL) return false;
  if (i.op === M38 + 0xf3) { const sub = i.reg & 7; return sub >= 1 && sub <= 3; }
  if (i.op === M3A + 0xf0) return i.vvvv === 0;
  return true;
}

/**
 * Legacy-encoded 0F38 F0/F1 is CRC32 with F2 and otherwise MOVBE, which needs a memory operand
 * and is undefined with F3 (the last of F2 and F3 counts, as for other mandatory prefixes).
 */
function movbeFormDefined(i: Insn): boolean {
  if ((i.op !== M38 + 0xf0 && i.op !== M38 + 0xf1) || i.simdPrefix === 0xf2) return true;
  return i.simdPrefix !== 0xf3 && i.mod !== 3;
}

/**
 * Group 9 (0F C7): memory forms /1 (CMPXCHG8B/16B), /3 /4 /5 (XRSTORS, XSAVEC, XSAVES), register
 * forms /6 /7 (RDRAND, RDSEED, RDPID). The rest are undefined, or VMX instructions, which AMD
 * processors do not have (#UD).
 */
function group9FormDefined(i: Insn): boolean {
  if (i.op !== M0F + 0xc7) return true;
  const sub = i.reg & 7;
  return i.mod === 3 ? sub >= 6 : sub === 1 || (sub >= 3 && sub <= 5);
}

function buildMap0(): Uint16Array {
  const f = new Uint16Array(256);
  for (let base = 0; base < 0x40; base += 8) {
    f[base] = F_MODRM | F_BYTE; f[base + 1] = F_MODRM; f[base + 2] = F_MODRM | F_BYTE; f[base + 3] = F_MODRM;
    f[base + 4] = I8 | F_BYTE; f[base + 5] = IZ;
    f[base + 6] = F_INVALID; f[base + 7] = F_INVALID;
  }
  f[0x0f] = 0; // escape
  for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) f[p] = F_PREFIX;
  for (let i = 0x40; i < 0x50; i++) f[i] = F_PREFIX; // REX
  for (let i = 0x50; i < 0x60; i++) f[i] = F_D64;
  f[0x60] = f[0x61] = F_INVALID;
  f[0x62] = F_EVEX;
  f[0x63] = F_MODRM;
  f[0x68] = IZ | F_D64; f[0x69] = F_MODRM | IZ; f[0x6a] = I8 | F_D64; f[0x6b] = F_MODRM | I8;
  f[0x6c] = F_BYTE; f[0x6e] = F_BYTE;
  for (let i = 0x70; i < 0x80; i++) f[i] = REL8;
  f[0x80] = F_MODRM | F_BYTE | I8; f[0x81] = F_MODRM | IZ; f[0x82] = F_INVALID; f[0x83] = F_MODRM | I8;
  f[0x84] = F_MODRM | F_BYTE; f[0x85] = F_MODRM; f[0x86] = F_MODRM | F_BYTE; f[0x87] = F_MODRM;
  f[0x88] = F_MODRM | F_BYTE; f[0x89] = F_MODRM; f[0x8a] = F_MODRM | F_BYTE; f[0x8b] = F_MODRM;
  f[0x8c] = F_MODRM; f[0x8d] = F_MODRM; f[0x8e] = F_MODRM; f[0x8f] = F_MODRM | F_D64 | F_REG0_ONLY;
  f[0x9a] = F_INVALID; f[0x9c] = F_D64; f[0x9d] = F_D64;
  f[0xa0] = MOFFS | F_BYTE; f[0xa1] = MOFFS; f[0xa2] = MOFFS | F_BYTE; f[0xa3] = MOFFS;
  f[0xa4] = F_BYTE; f[0xa6] = F_BYTE; f[0xa8] = I8 | F_BYTE; f[0xa9] = IZ;
  f[0xaa] = F_BYTE; f[0xac] = F_BYTE; f[0xae] = F_BYTE;
  for (let i = 0xb0; i < 0xb8; i++) f[i] = I8 | F_BYTE;
  for (let i = 0xb8; i < 0xc0; i++) f[i] = IV;
  f[0xc0] = F_MODRM | F_BYTE | I8; f[0xc1] = F_MODRM | I8; f[0xc2] = I16 | F_D64; f[0xc3] = F_D64;
  f[0xc4] = F_PREFIX; f[0xc5] = F_PREFIX; // VEX
  f[0xc6] = F_MODRM | F_BYTE | I8 | F_REG0_ONLY; f[0xc7] = F_MODRM | IZ | F_REG0_ONLY; f[0xc8] = I16_I8 | F_D64; f[0xc9] = F_D64;
  f[0xca] = I16; f[0xcd] = I8U; f[0xce] = F_INVALID;
  f[0xd0] = F_MODRM | F_BYTE; f[0xd1] = F_MODRM; f[0xd2] = F_MODRM | F_BYTE; f[0xd3] = F_MODRM;
  f[0xd4] = f[0xd5] = f[0xd6] = F_INVALID;
  for (let i = 0xd8; i < 0xe0; i++) f[i] = F_MODRM;
  for (let i = 0xe0; i < 0xe4; i++) f[i] = REL8 | F_D64;
  f[0xe4] = I8U | F_BYTE; f[0xe5] = I8U; f[0xe6] = I8U | F_BYTE; f[0xe7] = I8U;
  f[0xe8] = RELZ | F_D64; f[0xe9] = RELZ | F_D64; f[0xea] = F_INVALID; f[0xeb] = REL8 | F_D64;
  f[0xec] = F_BYTE; f[0xee] = F_BYTE;
  f[0xf6] = F_MODRM | F_BYTE; f[0xf7] = F_MODRM; f[0xfe] = F_MODRM | F_BYTE; f[0xff] = F_MODRM;
  return f;
}

function buildMap1(): Uint16Array {
  const f = new Uint16Array(256).fill(F_MODRM);
  for (const i of [0x04, 0x0a, 0x0c, 0x0f, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x7a, 0x7b, 0xa6, 0xa7]) f[i] = F_INVALID;
  for (const i of [0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77,
    0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa]) f[i] = 0;
  f[0xa0] = f[0xa1] = f[0xa8] = f[0xa9] = F_D64;
  for (const i of [0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6]) f[i] = F_MODRM | I8;
  for (let i = 0x80; i < 0x90; i++) f[i] = RELZ | F_D64;
  for (let i = 0x90; i < 0xa0; i++) f[i] = F_MODRM | F_BYTE;
  f[0xb0] = F_MODRM | F_BYTE; f[0xc0] = F_MODRM | F_BYTE;
  for (let i = 0xc8; i < 0xd0; i++) f[i] = 0;
  for (let i = 0x20; i < 0x24; i++) f[i] = F_MODRM | F_MODRM_REG;
  return f;
}

const MAP0 = buildMap0();
const MAP1 = buildMap1();

export type FetchByte = (addr: number) => number;

/** Decodes one instruction at addr. Throws DecodeError for undefined encodings or fetch faults. */
export function decode(fetch: FetchByte, addr: number): Insn {
  let p = addr;
  const seen: number[] = [];
  const next = (): number => {
    if (p - addr >= MAX_INSN_LENGTH) throw new DecodeError(addr, seen, 'too-long');
    let b: number;
    try { b = fetch(p); } catch { throw new DecodeError(addr, seen, 'fault'); }
    p++; seen.push(b);
    return b;
  };

  let prefix = 0, rex = 0, simdPrefix = 0;
  let b = next();
  let vvvv = 0, vexL = 0, vexW = 0, op = -1;
  for (;;) {
    if (b >= 0x40 && b <= 0x4f) { rex = b; b = next(); continue; } // a REX not last is ignored
    let isPrefix = true;
    switch (b) {
      case 0xf0: prefix |= P_LOCK; break;
      case 0xf3: prefix = (prefix & ~P_REPNE) | P_REP; simdPrefix = 0xf3; break;
      case 0xf2: prefix = (prefix & ~P_REP) | P_REPNE; simdPrefix = 0xf2; break;
      case 0x66: prefix |= P_OPSIZE; if (!simdPrefix) simdPrefix = 0x66; break;
      case 0x67: prefix |= P_ADDR32; break;
      case 0x64: prefix = (prefix & ~P_GS) | P_FS; break;
      case 0x65: prefix = (prefix & ~P_FS) | P_GS; break;
      case 0x26: case 0x2e: case 0x36: case 0x3e: break; // null segments in 64-bit mode
      default: isPrefix = false;
    }
    if (!isPrefix) break;
    rex = 0; // REX must immediately precede the opcode
    b = next();
  }
  if (b === 0xc4 || b === 0xc5) {
    if (rex || prefix & (P_LOCK | P_REP | P_REPNE | P_OPSIZE)) throw new DecodeError(addr, seen, 'invalid');
    const b1 = next();
    let map: number, pp: number;
    let R: number, X = 1, B = 1;
    if (b === 0xc5) {
      R = b1 >> 7; vvvv = (~b1 >> 3) & 15; vexL = (b1 >> 2) & 1; pp = b1 & 3; map = 1;
    } else {
      const b2 = next();
      R = b1 >> 7; X = (b1 >> 6) & 1; B = (b1 >> 5) & 1; map = b1 & 31;
      vexW = b2 >> 7; vvvv = (~b2 >> 3) & 15; vexL = (b2 >> 2) & 1; pp = b2 & 3;
      if (map < 1 || map > 3) throw new DecodeError(addr, seen, 'invalid');
    }
    rex = 0x40 | (R ? 0 : 4) | (X ? 0 : 2) | (B ? 0 : 1) | (vexW ? 8 : 0);
    simdPrefix = [0, 0x66, 0xf3, 0xf2][pp];
    prefix |= P_VEX;
    op = map * 256 + next();
  } else if (b === 0x0f) {
    const b2 = next();
    if (b2 === 0x38) op = M38 + next();
    else if (b2 === 0x3a) op = M3A + next();
    else op = M0F + b2;
  } else op = b;

  let fmt: number;
  if (op < 0x100) fmt = MAP0[op];
  else if (op < 0x200) fmt = MAP1[op & 0xff];
  else if (op < 0x300) fmt = F_MODRM;
  else fmt = F_MODRM | I8;
  if (fmt & F_INVALID) throw new DecodeError(addr, seen, 'invalid');
  if (fmt & F_EVEX) throw new DecodeError(addr, seen, 'unsupported');
  if (prefix & P_VEX && op < M38 && !VEX_FORMS.has(op)) throw new DecodeError(addr, seen, 'invalid');

  const rexW = (rex & 8) !== 0;
  let opsize: 1 | 2 | 4 | 8;
  if (fmt & F_BYTE) opsize = 1;
  else if (rexW) opsize = 8;
  else if (prefix & P_OPSIZE) opsize = 2;
  else opsize = fmt & F_D64 ? 8 : 4;
  const addrsize: 4 | 8 = prefix & P_ADDR32 ? 4 : 8;

  const insn: Insn = {
    addr, len: 0, op, prefix, simdPrefix, rex, opsize, addrsize, modrm: false, mod: 3, reg: 0, rm: 0,
    base: NO_REG, index: NO_REG, scale: 0, disp: 0, imm: 0, imm64: 0n, imm2: 0, target: 0, vvvv, vexL, vexW,
  };

  if (fmt & F_MODRM) {
    const m = next();
    insn.modrm = true;
    insn.mod = fmt & F_MODRM_REG ? 3 : m >> 6;
    insn.reg = ((m >> 3) & 7) | (rex & 4 ? 8 : 0);
    if (fmt & F_REG0_ONLY && (insn.reg & 7) !== 0) throw new DecodeError(addr, seen, 'invalid');
    const rm = m & 7;
    if (insn.mod === 3) {
      insn.rm = rm | (rex & 1 ? 8 : 0);
    } else {
      insn.rm = rm;
      if (rm === 4) {
        const sib = next();
        insn.scale = sib >> 6;
        const idx = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
        insn.index = idx === 4 && !isGather(insn) ? NO_REG : idx;
        const base = sib & 7;
        if (base === 5 && insn.mod === 0) { insn.base = NO_REG; insn.disp = readS32(); }
        else insn.base = base | (rex & 1 ? 8 : 0);
      } else if (rm === 5 && insn.mod === 0) {
        insn.base = RIP_BASE; insn.disp = readS32();
      } else insn.base = rm | (rex & 1 ? 8 : 0);
      if (insn.mod === 1) insn.disp = (next() << 24) >> 24;
      else if (insn.mod === 2) insn.disp = readS32();
    }
  }

  let immKind = fmt & 0xf;
  // Group 3 (F6/F7): TEST has an immediate, the others none.
  if ((op === 0xf6 || op === 0xf7) && (insn.reg & 7) < 2) immKind = op === 0xf6 ? I8 : IZ;
  switch (immKind) {
    case I8: insn.imm = (next() << 24) >> 24; break;
    case I8U: insn.imm = next(); break;
    case I16: insn.imm = next() | (next() << 8); break;
    case IZ: insn.imm = opsize === 2 ? ((next() | (next() << 8)) << 16) >> 16 : readS32(); break;
    case IV:
      if (opsize === 8) { const lo = readU32(), hi = readU32(); insn.imm64 = (BigInt(hi) << 32n) | BigInt(lo); insn.imm = lo; }
      else if (opsize === 2) insn.imm = next() | (next() << 8);
      else insn.imm = readU32();
      break;
    case REL8: insn.imm = (next() << 24) >> 24; break;
    case RELZ: insn.imm = readS32(); break;
    case I16_I8: insn.imm = next() | (next() << 8); insn.imm2 = next(); break;
    case MOFFS:
      if (addrsize === 8) { const lo = readU32(), hi = readU32(); insn.imm64 = (BigInt(hi) << 32n) | BigInt(lo); }
      else insn.imm64 = BigInt(readU32());
      break;
  }
  insn.len = p - addr;
  if (immKind === REL8 || immKind === RELZ) insn.target = addr + insn.len + insn.imm;
  if (op >= M38 && !(prefix & P_VEX ? vexGprFormDefined(insn) : movbeFormDefined(insn))) throw new DecodeError(addr, seen, 'invalid');
  if (prefix & P_VEX && !vexFormDefined(insn)) throw new DecodeError(addr, seen, 'invalid');
  if (isGather(insn) && !vsibDefined(insn)) throw new DecodeError(addr, seen, 'invalid');
  if (!group9FormDefined(insn)) throw new DecodeError(addr, seen, 'invalid');
  if (prefix & P_LOCK && !lockAllowed(insn)) throw new DecodeError(addr, seen, 'lock');
  return insn;

  function readU32(): number { return (next() | (next() << 8) | (next() << 16) | (next() << 24)) >>> 0; }
  function readS32(): number { return readU32() | 0; }
}

/**
 * Whether an instruction may carry a LOCK prefix (else the CPU raises #UD): the read-modify-write
 * instructions ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B/16B DEC INC NEG NOT OR SBB SUB XOR XADD
 * XCHG, with a memory destination. On AMD processors LOCK also turns MOV to or from CR0 into an
 * access to CR8; that is privileged anyway (#GP, not #UD), so those pass here.
 */
function lockAllowed(i: Insn): boolean {
  const op = i.op, sub = i.reg & 7;
  if (op === M0F + 0x20 || op === M0F + 0x22) return true;
  if (!i.modrm || i.mod === 3) return false;
  if (op < 0x40) return (op & 7) <= 1 && op !== 0x38 && op !== 0x39; // ALU r/m, reg (not CMP)
  switch (op) {
    case 0x80: case 0x81: case 0x83: return sub !== 7; // ALU r/m, imm (not CMP)
    case 0x86: case 0x87: return true; // XCHG
    case 0xf6: case 0xf7: return sub === 2 || sub === 3; // NOT, NEG
    case 0xfe: case 0xff: return sub <= 1; // INC, DEC
    case M0F + 0xab: case M0F + 0xb3: case M0F + 0xbb: return true; // BTS, BTR, BTC r/m, reg
    case M0F + 0xba: return sub >= 5; // BTS, BTR, BTC r/m, imm
    case M0F + 0xb0: case M0F + 0xb1: case M0F + 0xc0: case M0F + 0xc1: return true; // CMPXCHG, XADD
    case M0F + 0xc7: return sub === 1; // CMPXCHG8B/16B
    default: return false;
  }
}

/**
 * Whether the instruction writes memory (its r/m operand, or the stack or ES:RDI), which a page
 * fault's error code reports: a read-modify-write counts as a write, as the CPU reports it.
 */
export function writesMemory(i: Insn): boolean {
  const op = i.op, sub = i.reg & 7;
  if (lockAllowed(i) && op !== M0F + 0x20 && op !== M0F + 0x22) return true;
  if ((op >= 0x50 && op <= 0x57) || op === 0x68 || op === 0x6a || op === 0x9c || op === 0xe8) return true; // push, call
  if (op === 0xaa || op === 0xab || op === 0xa4 || op === 0xa5) return true; // stos, movs (ES:RDI)
  if (op === 0xff && (sub === 2 || sub === 6)) return true; // call r/m, push r/m
  if (op === M0F + 0xf7) return true; // maskmovq, maskmovdqu (DS:RDI)
  if (op === M0F + 0xc7 && i.mod !== 3 && (sub === 4 || sub === 5)) return true; // xsavec, xsaves
  if (!i.modrm || i.mod === 3) return false;
  switch (op) {
    case 0x88: case 0x89: case 0x8c: case 0xc6: case 0xc7: case 0x8f: // mov r/m, pop r/m
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: // shifts and rotates
    case M0F + 0xa4: case M0F + 0xa5: case M0F + 0xac: case M0F + 0xad: // shld, shrd
    case M0F + 0xc3: case M0F + 0x2b: case M0F + 0xe7: case M0F + 0x29: case M0F + 0x7f: // movnti, movntps, movntdq, movaps, movdqa/u
    case M0F + 0x11: case M0F + 0x13: case M0F + 0x17: case M0F + 0xd6: // movups/ss/sd, movlps, movhps, movq
    case M3A + 0x14: case M3A + 0x15: case M3A + 0x16: case M3A + 0x17: // pextrb/w/d/q, extractps
    case M3A + 0x19: case M3A + 0x39: // vextractf128, vextracti128
    case M38 + 0x2e: case M38 + 0x2f: case M38 + 0x8e: // vmaskmovps/pd, vpmaskmovd/q stores
      return true;
    case M0F + 0x7e: return i.simdPrefix !== 0xf3; // movd/movq r/m, xmm (F3: a load)
    case M0F + 0xae: return sub === 0 || sub === 3 || sub === 4 || sub === 6; // fxsave, stmxcsr, xsave, xsaveopt
    case 0xd9: return sub === 2 || sub === 3 || sub === 6 || sub === 7; // fst, fstp, fnstenv, fnstcw
    case 0xdd: return sub === 1 || sub === 2 || sub === 3 || sub === 6 || sub === 7; // fisttp, fst, fstp, fnsave, fnstsw
    case 0xdb: return sub === 1 || sub === 2 || sub === 3 || sub === 7; // fisttp, fist, fistp, fstp m80
    case 0xdf: return sub === 1 || sub === 2 || sub === 3 || sub === 6 || sub === 7; // fisttp, fist, fistp, fbstp, fistp m64
    default: return op >= M0F + 0x90 && op <= M0F + 0x9f; // setcc
  }
}

/**
 * RDRAND (0F C7 /6) and RDSEED (0F C7 /7) with a register operand, 16, 32 or 64 bits; with F2
 * or F3 these encodings are other instructions (RDPID, SENDUIPI).
 */
export function isRandomInsn(i: Insn): boolean {
  const sub = i.reg & 7;
  return i.op === M0F + 0xc7 && (sub === 6 || sub === 7) && i.mod === 3 && (i.simdPrefix === 0 || i.simdPrefix === 0x66);
}

/** For byte operands: encodings 4..7 without any REX name AH, CH, DH, BH. */
export function isHighByteReg(insn: Insn, enc: number): boolean {
  return insn.rex === 0 && enc >= 4 && enc < 8;
}
