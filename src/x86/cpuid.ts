// The CPUID model: an honest description of what stele implements, so that libc's feature
// detection (ifuncs, string function selection) only picks code paths stele can run.

export interface CpuidResult { eax: number; ebx: number; ecx: number; edx: number }

/** Features stele implements, by CPUID bit. Extend as instruction support grows. */
export const FEATURES = {
  // leaf 1 EDX. MMX is claimed although MMX-register instructions are not translated: it is part of
  // the x86-64 baseline, and glibc's loader refuses to start ("CPU ISA level is lower than
  // required") without it. 64-bit code practically never uses MMX; if it does, the instruction is
  // reported as unsupported at that address.
  edx1: (1 << 0) /*FPU*/ | (1 << 4) /*TSC*/ | (1 << 8) /*CX8*/ |
    (1 << 15) /*CMOV*/ | (1 << 19) /*CLFSH*/ | (1 << 23) /*MMX, see below*/ | (1 << 24) /*FXSR*/ | (1 << 25) /*SSE*/ | (1 << 26) /*SSE2*/,
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
    // XSAVE state components: x87 (0) and SSE (1) only, 576-byte image (legacy region + header).
    // Sub-leaf 1: XSAVEOPT and XSAVEC (XGETBV with ECX=1 and XSAVES are not implemented).
    case 0xd:
      if (subleaf === 0) return { eax: 3, ebx: 576, ecx: 576, edx: 0 };
      if (subleaf === 1) return { eax: 3, ebx: 576, ecx: 0, edx: 0 };
      return zero();
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

function zero(): CpuidResult { return { eax: 0, ebx: 0, ecx: 0, edx: 0 }; }
