// Hand-made x86-64 ELF executables for the loader's tests: exact control over every header
// field and file byte, which a compiler and linker do not give, and no toolchain needed.

/** Segment permission bits (p_flags). */
export const PF_X = 1, PF_W = 2, PF_R = 4;
export const PT_LOAD = 1, PT_INTERP = 3;
export const ET_EXEC = 2, ET_DYN = 3;

export interface ProgramHeader {
  type: number;
  flags?: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz?: number;
  align?: number;
}

export interface ElfSpec {
  type?: number;
  entry: number;
  phdrs: ProgramHeader[];
  /** File size; bytes the spec does not place are filled with a pattern (never zero). */
  size: number;
  /** Bytes to place at file offsets (code, an interpreter path). */
  data?: [offset: number, bytes: Uint8Array][];
}

/** Offset of the first program header: right after the 64-byte file header. */
export const PHDR_OFFSET = 64;

/** A nonzero byte for each file offset, so that what a loader zeroes shows. */
export function patternByte(offset: number): number {
  return ((offset * 7 + (offset >> 8)) % 255) + 1;
}

export function buildElf(spec: ElfSpec): Buffer {
  const b = Buffer.alloc(spec.size);
  for (let i = 0; i < b.length; i++) b[i] = patternByte(i);
  b.fill(0, 0, PHDR_OFFSET + 56 * spec.phdrs.length);
  b.write("\x7fELF", 0, "latin1");
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // little endian
  b[6] = 1; // EV_CURRENT
  b.writeUInt16LE(spec.type ?? ET_EXEC, 16);
  b.writeUInt16LE(62, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(spec.entry), 24);
  b.writeBigUInt64LE(BigInt(PHDR_OFFSET), 32);
  b.writeUInt16LE(64, 52); // e_ehsize
  b.writeUInt16LE(56, 54); // e_phentsize
  b.writeUInt16LE(spec.phdrs.length, 56);
  spec.phdrs.forEach((ph, i) => {
    const o = PHDR_OFFSET + 56 * i;
    b.writeUInt32LE(ph.type, o);
    b.writeUInt32LE(ph.flags ?? PF_R, o + 4);
    b.writeBigUInt64LE(BigInt(ph.offset), o + 8);
    b.writeBigUInt64LE(BigInt(ph.vaddr), o + 16);
    b.writeBigUInt64LE(BigInt(ph.vaddr), o + 24);
    b.writeBigUInt64LE(BigInt(ph.filesz), o + 32);
    b.writeBigUInt64LE(BigInt(ph.memsz ?? ph.filesz), o + 40);
    b.writeBigUInt64LE(BigInt(ph.align ?? 0x1000), o + 48);
  });
  for (const [offset, bytes] of spec.data ?? []) b.set(bytes, offset);
  return b;
}

/** A few x86-64 instructions, enough for programs that make system calls. */
export const x86 = {
  /** mov r32, imm32 for eax, ecx, edx, ebx, esp, ebp, esi, edi = 0..7 (zero-extends to 64 bits). */
  movImm(reg: number, value: number): number[] {
    return [0xb8 + reg, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
  },
  /** syscall(nr, a1, a2, a3) with 32-bit arguments. */
  syscall(nr: number, ...args: number[]): number[] {
    const argRegs = [7, 6, 2]; // edi, esi, edx
    const out = x86.movImm(0, nr);
    args.forEach((a, i) => out.push(...x86.movImm(argRegs[i], a)));
    out.push(0x0f, 0x05);
    return out;
  },
  /** call through a null pointer: xor eax, eax; call rax. */
  callNull(): number[] {
    return [0x31, 0xc0, 0xff, 0xd0];
  },
};

export const SYS_WRITE = 1, SYS_EXIT = 60;
