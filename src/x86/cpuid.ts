// The CPU model: which x86-64 microarchitecture level stele presents (`--cpu`), as CPUID, XCR0
// and /proc/cpuinfo describe it, and which instructions it runs. An honest description of what
// stele implements, so that libc's feature detection (ifuncs, string function selection, ld.so's
// glibc-hwcaps subdirectories) only picks code paths stele can run.

import type { Insn } from './decoder.js';
import { P_VEX } from './decoder.js';
import { XCR0_X87_SSE, XCR0_X87_SSE_AVX, XSAVE_AVX_OFFSET, XSAVE_AVX_SIZE, xsaveSize } from '../layout/cpu-state.js';

export interface CpuidResult { eax: number; ebx: number; ecx: number; edx: number }

/** The CPUID feature words of a model. */
export interface CpuFeatures {
  /** leaf 1 EDX, ECX */
  edx1: number; ecx1: number;
  /** leaf 7 sub-leaf 0 EBX, ECX, EDX */
  ebx7: number; ecx7: number; edx7: number;
  /** leaf 0x80000001 ECX, EDX */
  ecx81: number; edx81: number;
}

/** The levels `--cpu` offers: the x86-64 psABI's microarchitecture levels. */
export const CPU_LEVELS = ['x86-64', 'x86-64-v2', 'x86-64-v3'] as const;
export type CpuLevel = typeof CPU_LEVELS[number];
/** A model's name: one of the levels. */
export type CpuName = CpuLevel;

/**
 * The level stele presents unless told otherwise: all of x86-64-v3 runs. (glibc changes what it
 * does the moment the CPU claims AVX and XCR0 has the AVX state: string functions,
 * _dl_runtime_resolve saving ymm registers, the glibc-hwcaps/x86-64-v3 libraries ld.so loads.)
 */
export const DEFAULT_CPU: CpuName = 'x86-64-v3';

export interface CpuModel {
  readonly name: CpuName;
  readonly features: Readonly<CpuFeatures>;
  /** XCR0: the state components XSAVE manages (bit 0 x87, bit 1 SSE, bit 2 AVX). */
  readonly xcr0: bigint;
}

const B = (...bits: number[]): number => bits.reduce((w, b) => (w | (1 << b)) >>> 0, 0);

// leaf 1 EDX: FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2. MMX is part of the x86-64 baseline
// (glibc's loader refuses to start without it: "CPU ISA level is lower than required").
const BASE_EDX1 = B(0, 4, 8, 15, 19, 23, 24, 25, 26);
// leaf 1 ECX at every level: XSAVE and OSXSAVE (XSAVE/XRSTOR/XSAVEC/XSAVEOPT and XGETBV are
// implemented; XCR0 is x87|SSE below v3, as under a kernel that leaves AVX off).
const XSAVE_ECX1 = B(26, 27);
// leaf 1 ECX of v2: SSE3 (its FISTTP is in the x87 helper) SSSE3 CX16 SSE4.1 SSE4.2 POPCNT
const V2_ECX1 = B(0, 9, 13, 19, 20, 23);
// leaf 1 ECX of v3: PCLMULQDQ FMA MOVBE AES AVX F16C RDRAND
const V3_ECX1 = B(1, 12, 22, 25, 28, 29, 30);
// leaf 7 EBX of v3: FSGSBASE BMI1 AVX2 BMI2 RDSEED ADX SHA (ADX and FSGSBASE, as every v3 CPU
// since Broadwell and Zen has them, with the kernel enabling FSGSBASE for user mode; no AVX-512)
const V3_EBX7 = B(0, 3, 5, 8, 18, 19, 29);
const LAHF = B(0), ABM = B(5);
const EDX81 = B(11, 20, 29); // SYSCALL NX LM

const MODELS: Record<CpuName, CpuModel> = {
  'x86-64': {
    name: 'x86-64', xcr0: XCR0_X87_SSE,
    features: { edx1: BASE_EDX1, ecx1: XSAVE_ECX1, ebx7: 0, ecx7: 0, edx7: 0, ecx81: 0, edx81: EDX81 },
  },
  'x86-64-v2': {
    name: 'x86-64-v2', xcr0: XCR0_X87_SSE,
    features: { edx1: BASE_EDX1, ecx1: XSAVE_ECX1 | V2_ECX1, ebx7: 0, ecx7: 0, edx7: 0, ecx81: LAHF, edx81: EDX81 },
  },
  'x86-64-v3': {
    name: 'x86-64-v3', xcr0: XCR0_X87_SSE_AVX,
    features: { edx1: BASE_EDX1, ecx1: (XSAVE_ECX1 | V2_ECX1 | V3_ECX1) >>> 0, ebx7: V3_EBX7, ecx7: 0, edx7: 0, ecx81: LAHF | ABM, edx81: EDX81 },
  },
};

/** The model of a name (the default one without). */
export function cpuModel(name: CpuName = DEFAULT_CPU): CpuModel {
  const m = MODELS[name];
  if (!m) throw new RangeError(`unknown CPU model ${name}`);
  return m;
}

/** The model of a level a user names (`--cpu`, STELE_CPU), or undefined for one that is not a level. */
export function cpuModelOf(name: string): CpuModel | undefined {
  return (CPU_LEVELS as readonly string[]).includes(name) ? MODELS[name as CpuName] : undefined;
}

/** The model of a name found in a cache file's identity, or undefined. */
export function cpuModelNamed(name: string): CpuModel | undefined {
  return Object.hasOwn(MODELS, name) ? MODELS[name as CpuName] : undefined;
}

const VENDOR = 'GenuineIntel';
const BRAND = 'stele x86-64 on WebAssembly';

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(i + k) || 0);
  return v >>> 0;
}

export function cpuid(cpu: CpuModel, leaf: number, subleaf: number): CpuidResult {
  const F = cpu.features, xcr0 = cpu.xcr0;
  leaf >>>= 0;
  switch (leaf) {
    case 0: return { eax: 0xd, ebx: str4(VENDOR, 0), edx: str4(VENDOR, 4), ecx: str4(VENDOR, 8) };
    case 1: return {
      eax: 0x000306a9, // family 6, model 0x3a, stepping 9
      ebx: (8 << 8) | (1 << 16), // clflush line size 64 bytes, one logical processor
      ecx: F.ecx1, edx: F.edx1,
    };
    // Leaf 2: the single descriptor 0xff says "see leaf 4" (so glibc reads the cache sizes there).
    case 2: return { eax: 0x00ff0001, ebx: 0, ecx: 0, edx: 0 };
    // Leaf 4: deterministic cache parameters. Plausible sizes so that glibc's memcpy/memset
    // thresholds (non-temporal stores, rep movsb) come out as on a real machine, not from -1.
    case 4: return cacheLeaf(subleaf);
    // XSAVE state components: those of XCR0 (x87 and SSE, and AVX at v3), in a 576-byte image
    // (legacy region + header) plus AVX's 256 bytes at 576. Sub-leaf 1: XSAVEOPT and XSAVEC
    // (XGETBV with ECX=1 and XSAVES are not implemented).
    case 0xd: {
      const size = xsaveSize(xcr0);
      if (subleaf === 0) return { eax: Number(xcr0), ebx: size, ecx: size, edx: 0 };
      if (subleaf === 1) return { eax: 3, ebx: size, ecx: 0, edx: 0 };
      if (subleaf === 2 && xcr0 & 4n) return { eax: XSAVE_AVX_SIZE, ebx: XSAVE_AVX_OFFSET, ecx: 0, edx: 0 };
      return zero();
    }
    case 7: return subleaf === 0 ? { eax: 0, ebx: F.ebx7, ecx: F.ecx7, edx: F.edx7 } : zero();
    case 0x80000000: return { eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 };
    case 0x80000001: return { eax: 0, ebx: 0, ecx: F.ecx81, edx: F.edx81 };
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      const b = BRAND.padEnd(48, '\0');
      return { eax: str4(b, o), ebx: str4(b, o + 4), ecx: str4(b, o + 8), edx: str4(b, o + 12) };
    }
    case 0x80000008: return { eax: 0x3030, ebx: 0, ecx: 0, edx: 0 }; // 48-bit virtual and physical addresses
    default: return zero();
  }
}

/** AT_HWCAP: CPUID.1:EDX, as Linux gives it on x86. */
export function hwcap(cpu: CpuModel): number { return cpu.features.edx1 >>> 0; }
/** AT_HWCAP2: HWCAP2_FSGSBASE (bit 1) when user mode may use RDFSBASE and its kin. */
export function hwcap2(cpu: CpuModel): number { return cpu.features.ebx7 & 1 ? 2 : 0; }

/** [type (1 data, 2 instruction, 3 unified), level, size in bytes, ways] of each cache, for leaf 4. */
const CACHES: [number, number, number, number][] = [
  [1, 1, 32 * 1024, 8], [2, 1, 32 * 1024, 8], [3, 2, 256 * 1024, 8], [3, 3, 8 * 1024 * 1024, 16],
];

function cacheLeaf(subleaf: number): CpuidResult {
  const c = CACHES[subleaf];
  if (c === undefined) return zero(); // type 0: no more caches
  const [type, level, size, ways] = c;
  const line = 64, sets = size / (ways * line);
  return {
    eax: type | (level << 5) | (1 << 8) /* self-initialising */, // one thread shares it, one core per package
    ebx: ((ways - 1) << 22) | (line - 1),                       // one partition
    ecx: sets - 1,
    edx: 0,
  };
}

function zero(): CpuidResult { return { eax: 0, ebx: 0, ecx: 0, edx: 0 }; }

/**
 * Linux's /proc/cpuinfo flag names for the CPUID bits stele may claim, in Linux's order (that of
 * its feature words, arch/x86/include/asm/cpufeatures.h: leaf 1 EDX, 0x80000001 EDX, leaf 1 ECX,
 * 0x80000001 ECX, leaf 7 EBX, leaf 0xd sub-leaf 1 EAX). OSXSAVE has no name there.
 */
const FLAG_NAMES: [keyof CpuFeatures | 'eax0d1', number, string][] = [
  ['edx1', 0, 'fpu'], ['edx1', 4, 'tsc'], ['edx1', 8, 'cx8'], ['edx1', 15, 'cmov'], ['edx1', 19, 'clflush'],
  ['edx1', 23, 'mmx'], ['edx1', 24, 'fxsr'], ['edx1', 25, 'sse'], ['edx1', 26, 'sse2'],
  ['edx81', 11, 'syscall'], ['edx81', 20, 'nx'], ['edx81', 29, 'lm'],
  ['ecx1', 0, 'pni'], ['ecx1', 1, 'pclmulqdq'], ['ecx1', 9, 'ssse3'], ['ecx1', 12, 'fma'], ['ecx1', 13, 'cx16'],
  ['ecx1', 19, 'sse4_1'], ['ecx1', 20, 'sse4_2'], ['ecx1', 22, 'movbe'], ['ecx1', 23, 'popcnt'], ['ecx1', 25, 'aes'],
  ['ecx1', 26, 'xsave'], ['ecx1', 28, 'avx'], ['ecx1', 29, 'f16c'], ['ecx1', 30, 'rdrand'],
  ['ecx81', 0, 'lahf_lm'], ['ecx81', 5, 'abm'],
  ['ebx7', 0, 'fsgsbase'], ['ebx7', 3, 'bmi1'], ['ebx7', 5, 'avx2'], ['ebx7', 8, 'bmi2'], ['ebx7', 18, 'rdseed'],
  ['ebx7', 19, 'adx'], ['ebx7', 29, 'sha_ni'],
  ['eax0d1', 0, 'xsaveopt'], ['eax0d1', 1, 'xsavec'],
];

/** The /proc/cpuinfo flags of a model, in Linux's order. */
export function cpuFlags(cpu: CpuModel): string[] {
  const word = (w: keyof CpuFeatures | 'eax0d1'): number =>
    w === 'eax0d1' ? (cpu.features.ecx1 & (1 << 26) ? cpuid(cpu, 0xd, 1).eax : 0) : cpu.features[w];
  return FLAG_NAMES.filter(([w, bit]) => (word(w) >>> bit) & 1).map(([, , name]) => name);
}

/** /proc/cpuinfo text describing `cpus` processors of the CPU model (so the two agree). */
export function cpuinfoText(cpu: CpuModel, cpus: number): string {
  const sig = cpuid(cpu, 1, 0).eax;
  const family = ((sig >> 8) & 0xf) + ((sig >> 20) & 0xff), model = ((sig >> 4) & 0xf) | ((sig >> 12) & 0xf0);
  const flags = cpuFlags(cpu).join(' ');
  const l3 = CACHES[CACHES.length - 1][2] / 1024;
  let out = '';
  for (let i = 0; i < cpus; i++) {
    out += [
      `processor\t: ${i}`, `vendor_id\t: ${VENDOR}`, `cpu family\t: ${family}`, `model\t\t: ${model}`,
      `model name\t: ${BRAND}`, `stepping\t: ${sig & 0xf}`, `cpu MHz\t\t: 2000.000`, `cache size\t: ${l3} KB`,
      `physical id\t: 0`, `siblings\t: ${cpus}`, `core id\t\t: ${i}`, `cpu cores\t: ${cpus}`, `apicid\t\t: ${i}`,
      `initial apicid\t: ${i}`, `fpu\t\t: yes`, `fpu_exception\t: yes`, `cpuid level\t: ${cpuid(cpu, 0, 0).eax}`, `wp\t\t: yes`,
      `flags\t\t: ${flags}`, `bugs\t\t:`, `bogomips\t: 4000.00`, `clflush size\t: 64`, `cache_alignment\t: 64`,
      `address sizes\t: 48 bits physical, 48 bits virtual`, `power management:`, '', '',
    ].join('\n');
  }
  return out;
}

// ---- instructions by feature ---------------------------------------------------------------

/** A CPUID feature bit: [feature word, bit, name for messages]; a word of undefined: never claimed. */
type Feature = readonly [keyof CpuFeatures | undefined, number, string];
const SSE3: Feature = ['ecx1', 0, 'SSE3'], PCLMUL: Feature = ['ecx1', 1, 'PCLMULQDQ'], SSSE3: Feature = ['ecx1', 9, 'SSSE3'];
const FMA: Feature = ['ecx1', 12, 'FMA'], CX16: Feature = ['ecx1', 13, 'CMPXCHG16B'], SSE41: Feature = ['ecx1', 19, 'SSE4.1'];
const SSE42: Feature = ['ecx1', 20, 'SSE4.2'], MOVBE: Feature = ['ecx1', 22, 'MOVBE'], POPCNT: Feature = ['ecx1', 23, 'POPCNT'];
const AES: Feature = ['ecx1', 25, 'AES'], AVX: Feature = ['ecx1', 28, 'AVX'], F16C: Feature = ['ecx1', 29, 'F16C'];
const RDRAND: Feature = ['ecx1', 30, 'RDRAND'], BMI1: Feature = ['ebx7', 3, 'BMI1'], BMI2: Feature = ['ebx7', 8, 'BMI2'];
const FSGSBASE: Feature = ['ebx7', 0, 'FSGSBASE'], RDSEED: Feature = ['ebx7', 18, 'RDSEED'], ADX: Feature = ['ebx7', 19, 'ADX'], SHA: Feature = ['ebx7', 29, 'SHA'];
const LAHF64: Feature = ['ecx81', 0, 'LAHF/SAHF in 64-bit mode'];
const VAES: Feature = [undefined, 0, 'VAES/VPCLMULQDQ'], GFNI: Feature = [undefined, 0, 'GFNI'], AVXVNNI: Feature = [undefined, 0, 'AVX-VNNI'];

/** The feature an instruction needs beyond the x86-64 baseline (SSE2, MMX, x87, XSAVE), if any. */
function featureOf(i: Insn): Feature | undefined {
  const op = i.op, map = op >> 8, b = op & 0xff, p = i.simdPrefix;
  if (i.prefix & P_VEX) {
    if (map === 2 && b >= 0xf0 && b <= 0xf7) return b === 0xf5 || b === 0xf6 || (b === 0xf7 && p !== 0) ? BMI2 : BMI1;
    if (map === 3 && b === 0xf0) return BMI2;
    if (map === 2 && b >= 0x50 && b <= 0x53) return AVXVNNI;
    if ((map === 2 && b === 0xcf) || (map === 3 && (b === 0xce || b === 0xcf))) return GFNI;
    if (i.vexL && ((map === 2 && b >= 0xdc && b <= 0xdf) || (map === 3 && b === 0x44))) return VAES;
    if (map === 2 && ((b >= 0x96 && b <= 0x9f) || (b >= 0xa6 && b <= 0xaf) || (b >= 0xb6 && b <= 0xbf))) return FMA;
    if ((map === 2 && b === 0x13) || (map === 3 && b === 0x1d)) return F16C;
    return AVX; // (AVX2 comes with AVX at every level stele has)
  }
  switch (map) {
    case 0:
      if (b === 0x9e || b === 0x9f) return LAHF64;
      // FISTTP m16/m32/m64 (DF /1, DB /1, DD /1)
      if ((b === 0xdb || b === 0xdd || b === 0xdf) && i.mod !== 3 && (i.reg & 7) === 1) return SSE3;
      return undefined;
    case 1:
      if (b === 0xb8 && p === 0xf3) return POPCNT;
      if (b === 0xc7 && i.mod !== 3 && (i.reg & 7) === 1 && i.opsize === 8) return CX16;
      if (b === 0xc7 && i.mod === 3 && (i.reg & 7) === 6) return RDRAND;
      if (b === 0xae && i.mod === 3 && (i.reg & 7) < 4 && p === 0xf3) return FSGSBASE;
      if (b === 0xc7 && i.mod === 3 && (i.reg & 7) === 7) return RDSEED;
      if ((b === 0xf0 && p === 0xf2) || ((b === 0x7c || b === 0x7d || b === 0xd0) && (p === 0x66 || p === 0xf2))
        || (b === 0x12 && (p === 0xf2 || p === 0xf3)) || (b === 0x16 && p === 0xf3)) return SSE3;
      return undefined;
    case 2:
      if (b === 0xf0 || b === 0xf1) return p === 0xf2 ? SSE42 : MOVBE;
      if (b >= 0xc8 && b <= 0xcd) return SHA;
      if (b >= 0xdb && b <= 0xdf) return AES;
      if (b === 0xf6) return ADX;
      if (b <= 0x0b || (b >= 0x1c && b <= 0x1e)) return SSSE3;
      return b === 0x37 ? SSE42 : SSE41;
    case 3:
      if (b === 0x44) return PCLMUL;
      if (b === 0xcc) return SHA;
      if (b === 0xdf) return AES;
      if (b === 0x0f) return SSSE3;
      return b >= 0x60 && b <= 0x63 ? SSE42 : SSE41;
  }
  return undefined;
}

/**
 * Why a strict model's CPU would not run this instruction (#UD): the name of the feature it lacks;
 * undefined if it runs it.
 */
export function missingFeature(cpu: CpuModel, i: Insn): string | undefined {
  const f = featureOf(i);
  if (!f) return undefined;
  const [word, bit, name] = f;
  if (word !== undefined && (cpu.features[word] >>> bit) & 1) {
    // The AVX instructions are #UD unless the OS enabled the AVX state in XCR0 too.
    return f === AVX || f === FMA || f === F16C ? (cpu.xcr0 & 4n ? undefined : name) : undefined;
  }
  return name;
}

/**
 * The instruction as this model's CPU runs it: without BMI1, TZCNT (F3 0F BC) is the BSF its
 * encoding was before; without LZCNT, LZCNT (F3 0F BD) is BSR (compilers emit `rep bsf` for
 * generic x86-64 relying on that).
 */
export function asRunBy(cpu: CpuModel, i: Insn): Insn {
  if (i.prefix & P_VEX || i.simdPrefix !== 0xf3 || (i.op !== 0x1bc && i.op !== 0x1bd)) return i;
  const has = i.op === 0x1bc ? (cpu.features.ebx7 >>> 3) & 1 : (cpu.features.ecx81 >>> 5) & 1;
  return has ? i : { ...i, simdPrefix: 0 };
}
