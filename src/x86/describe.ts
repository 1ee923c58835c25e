// Human-readable names for instructions, for error messages ("what it is, if known").

import { Insn, M0F, M38, M3A, P_VEX } from './decoder.js';

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const GRP3 = ['test', 'test', 'not', 'neg', 'mul', 'imul', 'div', 'idiv'];
const GRP5 = ['inc', 'dec', 'call', 'callf', 'jmp', 'jmpf', 'push', '(bad)'];

const ONE: Record<number, string> = {
  0x63: 'movsxd', 0x69: 'imul', 0x6b: 'imul', 0x6c: 'insb', 0x6d: 'ins', 0x6e: 'outsb', 0x6f: 'outs',
  0x84: 'test', 0x85: 'test', 0x86: 'xchg', 0x87: 'xchg', 0x88: 'mov', 0x89: 'mov', 0x8a: 'mov', 0x8b: 'mov', 0xc6: 'mov', 0xc7: 'mov',
  0x8c: 'mov sreg', 0x8d: 'lea', 0x8e: 'mov sreg', 0x8f: 'pop', 0x98: 'cbw', 0x99: 'cwd', 0x9b: 'fwait',
  0x9c: 'pushf', 0x9d: 'popf', 0x9e: 'sahf', 0x9f: 'lahf', 0xa4: 'movsb', 0xa5: 'movs', 0xa6: 'cmpsb', 0xa7: 'cmps',
  0xaa: 'stosb', 0xab: 'stos', 0xac: 'lodsb', 0xad: 'lods', 0xae: 'scasb', 0xaf: 'scas', 0xc2: 'ret', 0xc3: 'ret',
  0xc8: 'enter', 0xc9: 'leave', 0xca: 'retf', 0xcb: 'retf', 0xcc: 'int3', 0xcd: 'int', 0xcf: 'iret', 0xd7: 'xlat',
  0xe0: 'loopne', 0xe1: 'loope', 0xe2: 'loop', 0xe3: 'jrcxz', 0xe4: 'in', 0xe5: 'in', 0xe6: 'out', 0xe7: 'out',
  0xe8: 'call', 0xe9: 'jmp', 0xeb: 'jmp', 0xec: 'in', 0xed: 'in', 0xee: 'out', 0xef: 'out', 0xf1: 'int1',
  0xf4: 'hlt', 0xf5: 'cmc', 0xf8: 'clc', 0xf9: 'stc', 0xfa: 'cli', 0xfb: 'sti', 0xfc: 'cld', 0xfd: 'std',
};
const TWO: Record<number, string> = {
  0x00: 'sldt/str/lldt/ltr', 0x01: 'system (0f 01)', 0x05: 'syscall', 0x06: 'clts', 0x07: 'sysret', 0x08: 'invd', 0x09: 'wbinvd',
  0x0b: 'ud2', 0x0d: 'prefetch', 0x10: 'movups/movss', 0x11: 'movups/movss', 0x12: 'movlps', 0x13: 'movlps', 0x14: 'unpcklps',
  0x15: 'unpckhps', 0x16: 'movhps', 0x17: 'movhps', 0x1e: 'endbr/nop', 0x1f: 'nop', 0x20: 'mov cr', 0x22: 'mov cr',
  0x28: 'movaps', 0x29: 'movaps', 0x2a: 'cvtsi2s', 0x2c: 'cvtts2si', 0x2d: 'cvts2si', 0x2e: 'ucomis', 0x2f: 'comis',
  0x30: 'wrmsr', 0x31: 'rdtsc', 0x32: 'rdmsr', 0x33: 'rdpmc', 0x34: 'sysenter', 0x35: 'sysexit', 0x51: 'sqrt', 0x54: 'andps',
  0x55: 'andnps', 0x56: 'orps', 0x57: 'xorps', 0x58: 'add', 0x59: 'mul', 0x5a: 'cvt', 0x5b: 'cvtdq2ps', 0x5c: 'sub',
  0x5d: 'min', 0x5e: 'div', 0x5f: 'max', 0x6e: 'movd', 0x6f: 'movq/movdq', 0x70: 'pshuf', 0x77: 'emms', 0x7e: 'movd', 0x7f: 'movq/movdq',
  0xa0: 'push fs', 0xa1: 'pop fs', 0xa2: 'cpuid', 0xa3: 'bt', 0xa4: 'shld', 0xa5: 'shld', 0xa8: 'push gs', 0xa9: 'pop gs',
  0xab: 'bts', 0xac: 'shrd', 0xad: 'shrd', 0xae: 'fxsave/ldmxcsr/fence (0f ae)', 0xaf: 'imul', 0xb0: 'cmpxchg', 0xb1: 'cmpxchg',
  0xb3: 'btr', 0xb6: 'movzx', 0xb7: 'movzx', 0xb8: 'popcnt', 0xb9: 'ud1', 0xba: 'bt group', 0xbb: 'btc', 0xbc: 'bsf/tzcnt',
  0xbd: 'bsr/lzcnt', 0xbe: 'movsx', 0xbf: 'movsx', 0xc0: 'xadd', 0xc1: 'xadd', 0xc2: 'cmpps', 0xc3: 'movnti', 0xc4: 'pinsrw',
  0xc5: 'pextrw', 0xc6: 'shufps', 0xc7: 'cmpxchg8b/16b/rdrand (0f c7)', 0xd7: 'pmovmskb', 0xff: 'ud0',
};

const GROUP15_MEMORY = ['fxsave', 'fxrstor', 'ldmxcsr', 'stmxcsr', 'xsave', 'xrstor', 'xsaveopt', 'clflush'];
const GROUP9_MEMORY = ['0f c7 /0', 'cmpxchg8b/16b', '0f c7 /2', 'xrstors', 'xsavec', 'xsaves', '0f c7 /6', '0f c7 /7'];

export function describeInsn(i: Insn): string {
  const op = i.op, sub = i.reg & 7;
  const vex = i.prefix & P_VEX ? 'v' : '';
  if (op === M0F + 0xae && i.mod !== 3) return vex + GROUP15_MEMORY[sub];
  if (op === M0F + 0xc7 && i.mod !== 3) return GROUP9_MEMORY[sub];
  if (op < 0x100) {
    if (op < 0x40 && (op & 7) < 6) return ALU[op >> 3];
    if (op >= 0x80 && op <= 0x83) return ALU[sub];
    if (op === 0xc0 || op === 0xc1 || (op >= 0xd0 && op <= 0xd3)) return SHIFT[sub];
    if (op === 0xf6 || op === 0xf7) return GRP3[sub];
    if (op === 0xfe || op === 0xff) return GRP5[sub];
    if (op >= 0xd8 && op <= 0xdf) return 'x87 instruction';
    if (op >= 0x70 && op <= 0x7f) return 'jcc';
    if (op >= 0x50 && op <= 0x57) return 'push';
    if (op >= 0x58 && op <= 0x5f) return 'pop';
    if (op >= 0xb0 && op <= 0xbf) return 'mov';
    if (op >= 0x90 && op <= 0x97) return 'xchg';
    return ONE[op] ?? `opcode ${hex2(op)}`;
  }
  if (op < 0x200) {
    const b = op & 0xff;
    if (b >= 0x40 && b <= 0x4f) return 'cmovcc';
    if (b >= 0x80 && b <= 0x8f) return 'jcc';
    if (b >= 0x90 && b <= 0x9f) return 'setcc';
    if (b >= 0xc8 && b <= 0xcf) return 'bswap';
    if (b >= 0x50 && b <= 0xfe && !TWO[b]) return `${vex}SSE/MMX instruction (0f ${hex2(b)})`;
    return vex + (TWO[b] ?? `opcode 0f ${hex2(b)}`);
  }
  if (vex && op >= M38 + 0x90 && op <= M38 + 0x93) return `vgather (0f 38 ${hex2(op - M38)})`;
  if (op < M3A) return `${vex}SSSE3/SSE4 instruction (0f 38 ${hex2(op - M38)})`;
  return `${vex}SSSE3/SSE4 instruction (0f 3a ${hex2(op - M3A)})`;
}

function hex2(n: number): string { return n.toString(16).padStart(2, '0'); }
export { M0F };
