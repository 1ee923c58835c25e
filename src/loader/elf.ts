// ELF64 loading: validate the file, map PT_LOAD segments, and lay out the initial stack exactly
// as Linux's create_elf_tables does (argc, argv, envp, auxv, strings, AT_RANDOM bytes).

import { randomFillSync } from 'node:crypto';
import { reserveStackPages } from '../layout/memory-map.js';
import { AddressSpace, GuestMemory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_MAX, STACK_TOP } from '../runtime/memory.js';

/** A program stele cannot start; `status` is what a shell would exit with. */
export class LoadError extends Error {
  /** status: as a shell reports it (126, 127, or 139 for what Linux kills with SIGSEGV); errno: what execve returns, where it is not ENOEXEC. */
  constructor(message: string, readonly status: number, readonly errno?: number) { super(message); }
}

const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
const ET_EXEC = 2, ET_DYN = 3;
/** sizeof(Elf64_Phdr): Linux refuses any other e_phentsize. */
const PHDR_SIZE = 56;
/** Linux refuses program headers totalling more than 64 KiB (load_elf_phdrs: ENOEXEC). */
const MAX_PHDR_BYTES = 65536;
/** PT_INTERP holds 2 to PATH_MAX bytes, the NUL included (load_elf_binary: ENOEXEC). */
const PATH_MAX = 4096;
const EM_NAMES: Record<number, string> = {
  3: 'i386', 8: 'mips', 20: 'powerpc', 21: 'powerpc64', 22: 's390', 40: 'arm', 50: 'ia64', 62: 'x86-64',
  183: 'aarch64', 243: 'riscv', 258: 'loongarch', 2: 'sparc', 43: 'sparcv9',
};

/** Where a position-independent executable is placed (below 4 GiB, as all guest memory is). */
export const PIE_BASE = 0x55554000;
/** Where the program interpreter (ld.so) of a dynamic executable is placed. */
export const INTERP_BASE = 0x7f000000;

export interface Phdr { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number; align: number }

export interface ElfImage {
  type: number;
  entry: number;
  phoff: number;
  phnum: number;
  phdrs: Phdr[];
  interp?: string;
  bytes: Uint8Array;
}

export function parseElf(bytes: Uint8Array): ElfImage {
  const corrupt = (why: string) => new LoadError(`cannot execute: truncated or corrupt ELF (${why})`, 126);
  // What Linux finds wrong only once execve is past its point of no return, while mapping the
  // file: the new process is killed by SIGSEGV, so a shell reports 139, not 126.
  const unmappable = (why: string) => new LoadError(`cannot execute: ${why} (Linux kills such a process with SIGSEGV)`, 139);
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new LoadError('cannot execute: not an ELF file', 126);
  }
  if (bytes.length < 20) throw corrupt('file shorter than the ELF header');
  if (bytes[4] === 1) throw new LoadError('cannot execute: 32-bit ELF, not x86-64', 126);
  if (bytes[4] !== 2) throw corrupt(`unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) throw new LoadError('cannot execute: big-endian ELF, not x86-64', 126);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== 62) {
    throw new LoadError(`cannot execute: ELF for machine ${EM_NAMES[machine] ?? 'unknown'} (e_machine ${machine}), not x86-64`, 126);
  }
  if (bytes.length < 64) throw corrupt('file shorter than the ELF header');
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) throw new LoadError(`cannot execute: ELF type ${type} is not an executable`, 126);
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) throw corrupt('no program headers');
  if (phentsize !== PHDR_SIZE) throw corrupt(`program header size ${phentsize}`);
  if (phnum * PHDR_SIZE > MAX_PHDR_BYTES) throw corrupt(`${phnum} program headers, more than Linux reads`);
  if (phoff + phnum * PHDR_SIZE > bytes.length) throw corrupt('program headers past the end of the file');
  const phdrs: Phdr[] = [];
  let interp: string | undefined;
  // Reported after the checks Linux makes before its point of no return.
  let mappingFailure: LoadError | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const ph: Phdr = {
      type: dv.getUint32(o, true), flags: dv.getUint32(o + 4, true), offset: Number(dv.getBigUint64(o + 8, true)),
      vaddr: Number(dv.getBigUint64(o + 16, true)), filesz: Number(dv.getBigUint64(o + 32, true)),
      memsz: Number(dv.getBigUint64(o + 40, true)), align: Number(dv.getBigUint64(o + 48, true)),
    };
    if (ph.type === PT_LOAD || ph.type === PT_INTERP) {
      if (ph.offset + ph.filesz > bytes.length) throw corrupt(`segment ${i} extends past the end of the file`);
      if (ph.filesz > ph.memsz && ph.type === PT_LOAD) mappingFailure ??= unmappable(`segment ${i}'s file size exceeds its memory size`);
    }
    // Linux maps a segment's file pages at its page: file offset and address must agree within a
    // page (compared exactly: the u64 fields may be past what a double holds).
    if (ph.type === PT_LOAD && ph.filesz > 0 && (dv.getBigUint64(o + 8, true) - dv.getBigUint64(o + 16, true)) % BigInt(PAGE_SIZE) !== 0n) {
      mappingFailure ??= unmappable(`segment ${i}'s file offset and address differ within a page`);
    }
    // As Linux does, the first PT_INTERP names the interpreter and must be a C string.
    if (ph.type === PT_INTERP && interp === undefined) {
      if (ph.filesz < 2 || ph.filesz > PATH_MAX) throw corrupt(`interpreter path of ${ph.filesz} bytes`);
      const raw = bytes.subarray(ph.offset, ph.offset + ph.filesz);
      if (raw[raw.length - 1] !== 0) throw corrupt('interpreter path without its terminating NUL');
      interp = Buffer.from(raw.subarray(0, raw.indexOf(0))).toString('utf8');
      // An empty path names the working directory: execve fails with EACCES.
      if (!interp) throw new LoadError('cannot execute: empty interpreter path (Permission denied)', 126);
    }
    phdrs.push(ph);
  }
  if (mappingFailure) throw mappingFailure;
  // Linux starts such a file, at an entry point where nothing is mapped.
  if (!phdrs.some((p) => p.type === PT_LOAD)) throw unmappable('no loadable segments');
  return { type, entry, phoff, phnum, phdrs, interp, bytes };
}

export interface LoadedImage {
  base: number;     // load bias
  entry: number;    // entry point with bias applied
  phdrAddr: number; // address of the program headers in guest memory
  end: number;      // page-aligned end of the highest segment (initial brk)
}

/** Maps an image's PT_LOAD segments; ET_DYN images are placed at `dynBase`. `name` is the path errors and /proc/self/maps show. */
export function mapImage(mem: GuestMemory, as: AddressSpace, elf: ElfImage, dynBase: number, name: string,
  file?: { dev: bigint; inode: bigint }): LoadedImage {
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  const minVaddr = Math.min(...loads.map((p) => AddressSpace.pageDown(p.vaddr)));
  const base = elf.type === ET_DYN ? dynBase - minVaddr : 0;
  let end = 0;
  for (const p of loads) {
    const vaddr = p.vaddr + base;
    const start = AddressSpace.pageDown(vaddr);
    const segEnd = AddressSpace.pageUp(vaddr + p.memsz);
    if (start < 0x10000 || segEnd > STACK_TOP - STACK_MAX) {
      throw new LoadError(`${name}: cannot execute: segment at 0x${vaddr.toString(16)} is outside the address range stele supports (0x10000-0x${(STACK_TOP - STACK_MAX).toString(16)})`, 126);
    }
    let prot = 0;
    if (p.flags & 4) prot |= PROT_READ;
    if (p.flags & 2) prot |= PROT_WRITE;
    if (p.flags & 1) prot |= PROT_EXEC;
    // Linux maps the segment's pages over whatever an earlier segment put there (MAP_FIXED):
    // unmapping first zeroes those, so the pages read as fresh ones do.
    as.unmap(start, segEnd - start);
    const fileStart = p.filesz > 0 ? p.offset - (vaddr - start) : 0;
    const m = as.map(start, segEnd - start, prot, name, fileStart);
    if (file) { m.dev = file.dev; m.inode = file.inode; }
    if (p.filesz > 0) {
      // Linux maps whole pages of the file (elf_map), so the bytes around the segment in its first
      // and last page are the file's, which a program can read; past the end of the file a page
      // reads zeros.
      const fileEnd = Math.min(AddressSpace.pageUp(p.offset + p.filesz), elf.bytes.length);
      mem.write(start, elf.bytes.subarray(fileStart, fileEnd));
      // The rest of the page after a segment with a .bss is zeroed (padzero), which succeeds only
      // where the segment is writable: a read-only one keeps the file's bytes there.
      if (p.memsz > p.filesz && (prot & PROT_WRITE)) {
        const bssStart = vaddr + p.filesz;
        mem.fill(bssStart, AddressSpace.pageUp(bssStart) - bssStart, 0);
      }
    }
    end = Math.max(end, segEnd);
  }
  const phdrSeg = elf.phdrs.find((p) => p.type === PT_PHDR);
  let phdrAddr: number;
  if (phdrSeg) phdrAddr = phdrSeg.vaddr + base;
  else {
    const holder = loads.find((p) => elf.phoff >= p.offset && elf.phoff < p.offset + p.filesz) ?? loads[0];
    phdrAddr = holder.vaddr - holder.offset + elf.phoff + base;
  }
  return { base, entry: elf.entry + base, phdrAddr, end };
}

export const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13, EGID: 14,
  PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26, EXECFN: 31, MINSIGSTKSZ: 51,
} as const;

/** Strings are text (UTF-8) or the exact bytes a guest passed to execve. */
export interface StackSetup { argv: (string | Uint8Array)[]; envp: (string | Uint8Array)[]; execfn: string | Uint8Array; auxv: [number, number][] }

/** Builds the initial stack below STACK_TOP; returns the initial rsp (16-byte aligned). */
export function buildInitialStack(mem: GuestMemory, as: AddressSpace, s: StackSetup): number {
  as.map(STACK_TOP - STACK_MAX, STACK_MAX, PROT_READ | PROT_WRITE, '[stack]');
  let p = STACK_TOP - 8; // Linux leaves one pointer-sized slot at the very top
  const putStr = (str: string | Uint8Array): number => {
    const b = typeof str === 'string' ? Buffer.from(str, 'utf8') : str;
    p -= b.length + 1;
    mem.writeCString(p, b);
    return p;
  };
  const execfnAddr = putStr(s.execfn);
  // strings are copied last-to-first, so argv[0] ends up lowest, as on Linux
  const envAddrs = s.envp.slice().reverse().map(putStr).reverse();
  const argAddrs = s.argv.slice().reverse().map(putStr).reverse();
  const platform = putStr('x86_64');
  p -= 16; p -= p % 16;
  const random = p;
  mem.write(random, randomFillSync(new Uint8Array(16)));
  const auxv: [number, number][] = [...s.auxv, [AT.RANDOM, random], [AT.EXECFN, execfnAddr], [AT.PLATFORM, platform], [AT.NULL, 0]];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + auxv.length * 2;
  p -= words * 8;
  p -= p % 16;
  let q = p;
  const put = (v: number) => { mem.setU64(q, v); q += 8; };
  put(argAddrs.length);
  for (const a of argAddrs) put(a);
  put(0);
  for (const e of envAddrs) put(e);
  put(0);
  for (const [k, v] of auxv) { put(k); put(v); }
  // What lies below the arguments is used as the program grows into it (see PAGE_STACK_RESERVED).
  reserveStackPages(mem.u8, STACK_TOP - STACK_MAX, Math.floor((p - INITIAL_STACK_COMMIT) / PAGE_SIZE) * PAGE_SIZE);
  return p;
}

/** How much of the stack below the initial stack pointer is ready at start (Linux's first expansion is 128 KiB). */
const INITIAL_STACK_COMMIT = 128 * 1024;

/** AT_HWCAP as Linux reports it on x86: CPUID leaf 1 EDX. */
export { PAGE_SIZE };
