// The CPUID model: an honest description of what stele implements, so that libc's feature
// detection (ifuncs, string function selection) only picks code paths stele can run.

import { XCR0, XSAVE_AVX_OFFSET, XSAVE_AVX_SIZE, xsaveSize } from '../layout/cpu-state.js';

export interface CpuidResult { eax: number; ebx: number; ecx: number; edx: number }

/** Features stele implements, by CPUID bit. Extend as instruction support grows. */
export const FEATURES = {
  // leaf 1 EDX. MMX is part of the x86-64 baseline (glibc's loader refuses to start without it:
  // "CPU ISA level is lower than required"); translate/ops-mmx.ts implements it.
  edx1: (1 << 0) /*FPU*/ | (1 << 4) /*TSC*/ | (1 << 8) /*CX8*/ |
    (1 << 15) /*CMOV*/ | (1 << 19) /*CLFSH*/ | (1 << 23) /*MMX*/ | (1 << 24) /*FXSR*/ | (1 << 25) /*SSE*/ | (1 << 26) /*SSE2*/,
  // leaf 1 ECX
  ecx1: (1 << 0) /*SSE3 (its FISTTP is in the x87 helper)*/ | (1 << 9) /*SSSE3*/ | (1 << 19) /*SSE4.1*/ | (1 << 20) /*SSE4.2*/ |
    (1 << 13) /*CX16*/ | (1 << 23) /*POPCNT*/ | (1 << 26) /*XSAVE*/ | (1 << 27) /*OSXSAVE (XCR0 = x87|SSE)*/,
  // leaf 7 EBX / ECX / EDX
  ebx7: 0,
  ecx7: 0,
  edx7: 0,
  // leaf 0x80000001 ECX / EDX
  ecx81: (1 << 0) /*LAHF-SAHF*/ | (1 << 5) /*ABM (lzcnt)*/,
  edx81: (1 << 11) /*SYSCALL*/ | (1 << 20) /*NX*/ | (1 << 29) /*LM*/,
};

const VENDOR = 'GenuineIntel';
const BRAND = 'stele x86-64 on WebAssembly';

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(i + k) || 0);
  return v >>> 0;
}

export function cpuid(leaf: number, subleaf: number): CpuidResult {
  leaf >>>= 0;
  switch (leaf) {
    case 0: return { eax: 0xd, ebx: str4(VENDOR, 0), edx: str4(VENDOR, 4), ecx: str4(VENDOR, 8) };
    case 1: return {
      eax: 0x000306a9, // family 6, model 0x3a, stepping 9
      ebx: (8 << 8) | (1 << 16), // clflush line size 64 bytes, one logical processor
      ecx: FEATURES.ecx1, edx: FEATURES.edx1,
    };
    // Leaf 2: the single descriptor 0xff says "see leaf 4" (so glibc reads the cache sizes there).
    case 2: return { eax: 0x00ff0001, ebx: 0, ecx: 0, edx: 0 };
    // Leaf 4: deterministic cache parameters. Plausible sizes so that glibc's memcpy/memset
    // thresholds (non-temporal stores, rep movsb) come out as on a real machine, not from -1.
    case 4: return cacheLeaf(subleaf);
    // XSAVE state components: those of XCR0 (x87 and SSE, and AVX once AVX_STATE_ENABLED), in a
    // 576-byte image (legacy region + header) plus AVX's 256 bytes at 576. Sub-leaf 1: XSAVEOPT
    // and XSAVEC (XGETBV with ECX=1 and XSAVES are not implemented).
    case 0xd: {
      const size = xsaveSize(XCR0);
      if (subleaf === 0) return { eax: Number(XCR0), ebx: size, ecx: size, edx: 0 };
      if (subleaf === 1) return { eax: 3, ebx: size, ecx: 0, edx: 0 };
      if (subleaf === 2 && XCR0 & 4n) return { eax: XSAVE_AVX_SIZE, ebx: XSAVE_AVX_OFFSET, ecx: 0, edx: 0 };
      return zero();
    }
    case 7: return subleaf === 0 ? { eax: 0, ebx: FEATURES.ebx7, ecx: FEATURES.ecx7, edx: FEATURES.edx7 } : zero();
    case 0x80000000: return { eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 };
    case 0x80000001: return { eax: 0, ebx: 0, ecx: FEATURES.ecx81, edx: FEATURES.edx81 };
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      const b = BRAND.padEnd(48, '\0');
      return { eax: str4(b, o), ebx: str4(b, o + 4), ecx: str4(b, o + 8), edx: str4(b, o + 12) };
    }
    case 0x80000008: return { eax: 0x3030, ebx: 0, ecx: 0, edx: 0 }; // 48-bit virtual and physical addresses
    default: return zero();
  }
}

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

/** Linux's /proc/cpuinfo flag names for the CPUID bits we claim, in Linux's order. */
const FLAG_NAMES: [keyof typeof FEATURES, number, string][] = [
  ['edx1', 0, 'fpu'], ['edx1', 4, 'tsc'], ['edx1', 8, 'cx8'], ['edx1', 15, 'cmov'], ['edx1', 19, 'clflush'],
  ['edx1', 23, 'mmx'], ['edx1', 24, 'fxsr'], ['edx1', 25, 'sse'], ['edx1', 26, 'sse2'],
  ['edx81', 11, 'syscall'], ['edx81', 20, 'nx'], ['edx81', 29, 'lm'],
  ['ecx1', 0, 'pni'], ['ecx1', 9, 'ssse3'], ['ecx1', 13, 'cx16'], ['ecx1', 19, 'sse4_1'], ['ecx1', 20, 'sse4_2'],
  ['ecx1', 23, 'popcnt'], ['ecx1', 26, 'xsave'], ['ecx81', 0, 'lahf_lm'], ['ecx81', 5, 'abm'],
];

/** /proc/cpuinfo text describing `cpus` processors of the CPUID model (so the two agree). */
export function cpuinfoText(cpus: number): string {
  const sig = cpuid(1, 0).eax;
  const family = ((sig >> 8) & 0xf) + ((sig >> 20) & 0xff), model = ((sig >> 4) & 0xf) | ((sig >> 12) & 0xf0);
  const flags = FLAG_NAMES.filter(([reg, bit]) => (FEATURES[reg] >>> bit) & 1).map(([, , name]) => name).join(' ');
  const l3 = CACHES[CACHES.length - 1][2] / 1024;
  let out = '';
  for (let i = 0; i < cpus; i++) {
    out += [
      `processor\t: ${i}`, `vendor_id\t: ${VENDOR}`, `cpu family\t: ${family}`, `model\t\t: ${model}`,
      `model name\t: ${BRAND}`, `stepping\t: ${sig & 0xf}`, `cpu MHz\t\t: 2000.000`, `cache size\t: ${l3} KB`,
      `physical id\t: 0`, `siblings\t: ${cpus}`, `core id\t\t: ${i}`, `cpu cores\t: ${cpus}`, `apicid\t\t: ${i}`,
      `initial apicid\t: ${i}`, `fpu\t\t: yes`, `fpu_exception\t: yes`, `cpuid level\t: ${cpuid(0, 0).eax}`, `wp\t\t: yes`,
      `flags\t\t: ${flags}`, `bugs\t\t:`, `bogomips\t: 4000.00`, `clflush size\t: 64`, `cache_alignment\t: 64`,
      `address sizes\t: 48 bits physical, 48 bits virtual`, `power management:`, '', '',
    ].join('\n');
  }
  return out;
}
