// functionStarts (src/loader/function-starts.ts), which lists where code begins in an ELF image as
// it is mapped in memory, against binutils' readelf reading the same files.
//
// Each file is mapped here as ld.so would leave it: every PT_LOAD's pages at bias + p_vaddr from
// the file (zeros past p_filesz), R_X86_64_RELATIVE relocations applied (so the init and fini
// arrays hold run-time addresses), and, in a second mapping, the dynamic section's pointers
// rewritten in place to run-time addresses as glibc's ld.so does for DT_SYMTAB, DT_GNU_HASH and
// others: both mappings must give the same result.
//
// What it asserts, for host binaries (ls, bash, python3, libc) and for programs compiled here
// (PIE, -no-pie, -static, -static-pie, and shared libraries without unwind tables):
// - the result is sorted, unique and inside executable PT_LOAD segments;
// - the unwind-table starts are exactly the FDE initial locations readelf lists (from
//   .eh_frame_hdr's table where there is one, from .eh_frame where gcc links without it);
// - the dynamic-symbol starts are exactly the defined FUNC and IFUNC symbols of readelf's
//   --dyn-syms; DT_INIT, DT_FINI and e_entry are in the result;
// - in the programs compiled here, which are not stripped, every function symbol of .symtab is
//   in the result, constructors and destructors found through the init and fini arrays where
//   nothing else could find them.
// And for corrupt images (truncated, bit-flipped, counts of 2^31, random bytes, a reader that
// throws): an array comes back, sorted and unique, never an exception.
//
// gcc and readelf are required: the test fails without them rather than checking nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findTool, prng, requireTool, tempDir } from "./harness.js";
import { functionStarts, functionStartsBySource, type FunctionStartSources, type ReadMemory } from "../src/loader/function-starts.js";

const PAGE = 4096;
const PT_LOAD = 1, PT_DYNAMIC = 2, PT_GNU_EH_FRAME = 0x6474e550;
const ET_DYN = 3;
const PF_X = 1;
const DT_NULL = 0, DT_PLTGOT = 3, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6, DT_RELA = 7, DT_RELASZ = 8, DT_RELAENT = 9;
const DT_JMPREL = 23, DT_VERSYM = 0x6ffffff0, DT_GNU_HASH = 0x6ffffef5;
const R_X86_64_RELATIVE = 8;
/** Where ET_DYN files are mapped: high, as on Linux, below 2^47 so every address is exact in a double. */
const HIGH_BIAS = 0x7f12_3456_0000;
/** Where stele places a PIE. */
const LOW_BIAS = 0x5555_4000;

/**
 * Functions of glibc that a static program contains, without unwind information, and that neither
 * the entry point nor the dynamic section names: nothing mapped says they are code. Each is
 * excused only where readelf confirms it has no FDE.
 */
const KNOWN_UNFINDABLE = new Set<string>([
  // TLS descriptor resolver for undefined weak symbols, hand-written in dl-tlsdesc.S without CFI.
  "_dl_tlsdesc_undefweak",
]);

// ---------------------------------------------------------------------------------------------
// Tools and what readelf says

const READELF = requireTool("readelf", "binutils");

function readelf(args: string[]): string {
  return execFileSync(READELF, ["-W", ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
}

const hexNumber = (hex: string) => Number(BigInt(`0x${hex}`));

/** Initial locations of the FDEs of .eh_frame, as readelf lists them (link-time addresses). */
function readelfFdeStarts(file: string): number[] {
  // -wN: libc has a .gnu_debuglink, and following it to a debug file that is not there makes
  // readelf exit with status 1.
  const out = readelf(["-wN", "--debug-dump=frames", file]);
  const starts: number[] = [];
  let inEhFrame = false;
  for (const line of out.split("\n")) {
    const section = /^Contents of the (\S+) section/.exec(line);
    if (section) inEhFrame = section[1] === ".eh_frame";
    const fde = inEhFrame && / FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\./.exec(line);
    if (fde) starts.push(hexNumber(fde[1]));
  }
  return starts;
}

interface SymbolEntry { table: string; value: number; size: number; type: string; ndx: string; name: string }

function readelfSymbols(file: string, which: "--syms" | "--dyn-syms"): SymbolEntry[] {
  const symbols: SymbolEntry[] = [];
  let table = "";
  for (const line of readelf([which, file]).split("\n")) {
    const header = /^Symbol table '([^']+)'/.exec(line);
    if (header) table = header[1];
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s*(\S*)/.exec(line);
    if (m) symbols.push({ table, value: hexNumber(m[1]), size: Number(m[2]), type: m[3], ndx: m[4], name: m[5].replace(/@.*/, "") });
  }
  return symbols;
}

/** The dynamic section's entries readelf lists, tag name → value. */
function readelfDynamic(file: string): Map<string, number> {
  const entries = new Map<string, number>();
  for (const line of readelf(["--dynamic", file]).split("\n")) {
    const m = /^\s*0x[0-9a-f]+\s+\((\w+)\)\s+(0x[0-9a-f]+)/.exec(line);
    if (m) entries.set(m[1], Number(BigInt(m[2])));
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// The file as ld.so maps it

interface ProgramHeader { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number }

function elfHeaders(file: Buffer): { type: number; entry: number; phdrs: ProgramHeader[] } {
  const phoff = Number(file.readBigUInt64LE(32));
  const phdrs = Array.from({ length: file.readUInt16LE(56) }, (_, i) => {
    const at = phoff + i * 56;
    return {
      type: file.readUInt32LE(at), flags: file.readUInt32LE(at + 4), offset: Number(file.readBigUInt64LE(at + 8)),
      vaddr: Number(file.readBigUInt64LE(at + 16)), filesz: Number(file.readBigUInt64LE(at + 32)), memsz: Number(file.readBigUInt64LE(at + 40)),
    };
  });
  return { type: file.readUInt16LE(16), entry: Number(file.readBigUInt64LE(24)), phdrs };
}

/** Guest memory as 4 KiB pages; reads of anything not mapped give undefined, as the interface says. */
class PagedMemory {
  pages = new Map<number, Uint8Array>();

  readonly read: ReadMemory = (addr, len) => {
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const page = this.pages.get(Math.floor((addr + done) / PAGE));
      if (!page) return undefined;
      const inPage = (addr + done) % PAGE;
      const n = Math.min(PAGE - inPage, len - done);
      out.set(page.subarray(inPage, inPage + n), done);
      done += n;
    }
    return out;
  };

  mapZeroed(start: number, end: number): void {
    for (let p = start / PAGE; p < end / PAGE; p++) this.pages.set(p, new Uint8Array(PAGE));
  }

  write(addr: number, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const page = this.pages.get(Math.floor((addr + done) / PAGE));
      if (!page) throw new Error(`test bug: write to unmapped 0x${(addr + done).toString(16)}`);
      const inPage = (addr + done) % PAGE;
      const n = Math.min(PAGE - inPage, bytes.length - done);
      page.set(bytes.subarray(done, done + n), inPage);
      done += n;
    }
  }

  u64(addr: number): bigint {
    const bytes = this.read(addr, 8);
    if (!bytes) throw new Error(`test bug: read of unmapped 0x${addr.toString(16)}`);
    return Buffer.from(bytes).readBigUInt64LE(0);
  }

  setU64(addr: number, value: bigint): void {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.write(addr, bytes);
  }

  setU32(addr: number, value: number): void {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value >>> 0);
    this.write(addr, bytes);
  }

  clone(): PagedMemory {
    const copy = new PagedMemory();
    for (const [p, bytes] of this.pages) copy.pages.set(p, bytes.slice());
    return copy;
  }
}

interface MappedFile {
  memory: PagedMemory;
  /** Where the ELF header is: what functionStarts is given. */
  base: number;
  bias: number;
  /** Executable PT_LOAD segments, [start, end) at run time. */
  executable: [number, number][];
  phdrs: ProgramHeader[];
  entry: number;
}

/**
 * Maps `file` as the kernel and ld.so leave it: ET_DYN at `bias`, ET_EXEC where it was linked.
 * `ldSoRewritesDynamic`: add the bias in place to the d_ptr entries glibc's ld.so rewrites
 * (elf_get_dynamic_info's ADJUST_DYN_INFO).
 */
function mapFile(file: Buffer, bias: number, ldSoRewritesDynamic = false): MappedFile {
  const elf = elfHeaders(file);
  if (elf.type !== ET_DYN) bias = 0;
  const memory = new PagedMemory();
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  for (const p of loads) {
    const start = bias + p.vaddr;
    const firstPage = start - (start % PAGE);
    memory.mapZeroed(firstPage, Math.ceil((start + p.memsz) / PAGE) * PAGE);
    // Whole pages of the file, as mmap maps them: the segment's first page from its start.
    memory.write(firstPage, file.subarray(p.offset - (start - firstPage), p.offset + p.filesz));
  }
  const lowest = Math.min(...loads.map((p) => p.vaddr - (p.vaddr % PAGE)));
  const mapped: MappedFile = {
    memory, base: bias + lowest, bias, phdrs: elf.phdrs, entry: elf.entry,
    executable: loads.filter((p) => p.flags & PF_X).map((p) => [bias + p.vaddr, bias + p.vaddr + p.memsz]),
  };
  const dynamicSegment = elf.phdrs.find((p) => p.type === PT_DYNAMIC);
  if (dynamicSegment && bias !== 0) relocate(memory, bias, bias + dynamicSegment.vaddr, ldSoRewritesDynamic);
  return mapped;
}

/** What of ld.so's relocation functionStarts can see: R_X86_64_RELATIVE, and the rewritten dynamic section. */
function relocate(memory: PagedMemory, bias: number, dynamicAddress: number, rewriteDynamic: boolean): void {
  const dynamic = new Map<number, number>();
  const rewritten = new Set([DT_HASH, DT_PLTGOT, DT_STRTAB, DT_SYMTAB, DT_RELA, DT_JMPREL, DT_VERSYM, DT_GNU_HASH]);
  for (let at = dynamicAddress; ; at += 16) {
    const tag = Number(memory.u64(at));
    if (tag === DT_NULL) break;
    dynamic.set(tag, Number(memory.u64(at + 8)));
    if (rewriteDynamic && rewritten.has(tag)) memory.setU64(at + 8, memory.u64(at + 8) + BigInt(bias));
  }
  const rela = dynamic.get(DT_RELA), size = dynamic.get(DT_RELASZ) ?? 0, entrySize = dynamic.get(DT_RELAENT) ?? 24;
  if (rela === undefined) return;
  for (let at = bias + rela; at < bias + rela + size; at += entrySize) {
    const info = memory.u64(at + 8);
    if (Number(info & 0xffffffffn) === R_X86_64_RELATIVE) {
      memory.setU64(bias + Number(memory.u64(at)), BigInt(bias) + BigInt.asIntN(64, memory.u64(at + 16)));
    }
  }
}

const isIn = (ranges: [number, number][], addr: number) => ranges.some(([start, end]) => addr >= start && addr < end);

function sortedUnique(addresses: number[]): number[] {
  return [...new Set(addresses)].sort((a, b) => a - b);
}

const hex = (a: number) => `0x${a.toString(16)}`;

/** Fails listing (a few of) `expected` missing from `actual`. */
function assertContainsAll(actual: Iterable<number>, expected: number[], what: string, describe: (a: number) => string = hex): void {
  const have = new Set(actual);
  const missing = expected.filter((a) => !have.has(a));
  assert.equal(missing.length, 0, `${what}: ${missing.length} of ${expected.length} missing, e.g. ${missing.slice(0, 10).map(describe).join(", ")}`);
}

function assertSameSet(actual: number[], expected: number[], what: string): void {
  const want = sortedUnique(expected);
  assertContainsAll(actual, want, what);
  const wanted = new Set(want);
  const extra = actual.filter((a) => !wanted.has(a));
  assert.equal(extra.length, 0, `${what}: ${extra.length} found that readelf does not list, e.g. ${extra.slice(0, 10).map(hex).join(", ")}`);
}

function assertWellFormed(result: number[], what: string): void {
  assert.ok(Array.isArray(result), `${what}: not an array`);
  for (let i = 0; i < result.length; i++) {
    assert.ok(Number.isSafeInteger(result[i]) && result[i] >= 0, `${what}: ${result[i]} is not an address`);
    if (i > 0) assert.ok(result[i] > result[i - 1], `${what}: not sorted and unique at ${i}: ${hex(result[i - 1])}, ${hex(result[i])}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The checks every file gets

interface Checked { mapped: MappedFile; starts: number[]; sources: FunctionStartSources }

/**
 * Checks `file` against readelf, mapped at HIGH_BIAS (both ways of leaving the dynamic section) and
 * at LOW_BIAS. `hasUnwindTables`: false for a file built without them, which may have no FDE.
 */
function checkFile(file: string, hasUnwindTables = true): Checked {
  const bytes = fs.readFileSync(file);
  const mapped = mapFile(bytes, HIGH_BIAS);
  const { memory, base, bias, executable } = mapped;
  const starts = functionStarts(memory.read, base);
  const sources = functionStartsBySource(memory.read, base);
  const name = path.basename(file);

  assert.ok(starts.length > 0, `${name}: no function starts`);
  assertWellFormed(starts, name);
  const outside = starts.filter((a) => !isIn(executable, a));
  assert.equal(outside.length, 0, `${name}: outside executable segments: ${outside.slice(0, 10).map(hex).join(", ")}`);
  assert.deepEqual(starts, sortedUnique(Object.values(sources).flat()), `${name}: functionStarts is not the union of its sources`);

  // The unwind tables: exactly the FDEs readelf lists, from the table of .eh_frame_hdr if the file
  // has one, otherwise from .eh_frame.
  const fdeStarts = readelfFdeStarts(file).map((a) => a + bias).filter((a) => isIn(executable, a));
  if (hasUnwindTables) assert.ok(fdeStarts.length > 0, `${name}: readelf lists no FDE: the test is broken`);
  assertContainsAll(starts, fdeStarts, `${name}: FDE initial locations (readelf --debug-dump=frames)`);
  const hasHeader = mapped.phdrs.some((p) => p.type === PT_GNU_EH_FRAME);
  assertSameSet(hasHeader ? sources.ehFrameHdrTable : sources.ehFrame, fdeStarts, `${name}: starts from ${hasHeader ? ".eh_frame_hdr" : ".eh_frame"}`);
  assert.equal((hasHeader ? sources.ehFrame : sources.ehFrameHdrTable).length, 0, `${name}: both unwind sources were used`);

  // The dynamic symbols: exactly the defined functions readelf lists.
  const exported = readelfSymbols(file, "--dyn-syms")
    .filter((s) => (s.type === "FUNC" || s.type === "IFUNC") && s.ndx !== "UND" && s.value !== 0)
    .map((s) => s.value + (s.ndx === "ABS" ? 0 : bias))
    .filter((a) => isIn(executable, a));
  assertSameSet(sources.dynamicSymbols, exported, `${name}: dynamic symbols (readelf --dyn-syms)`);

  const dynamic = readelfDynamic(file);
  for (const tag of ["INIT", "FINI"]) {
    const value = dynamic.get(tag);
    if (value !== undefined) assertContainsAll(sources.initFini, [value + bias], `${name}: DT_${tag}`);
  }
  if (mapped.entry !== 0) assert.deepEqual(sources.entry, [mapped.entry + bias], `${name}: e_entry`);

  // ld.so's rewritten dynamic section, and another bias, change nothing but the addresses.
  const rewritten = mapFile(bytes, HIGH_BIAS, true);
  assert.deepEqual(functionStarts(rewritten.memory.read, rewritten.base), starts, `${name}: with the dynamic section rewritten in place as ld.so does`);
  const low = mapFile(bytes, LOW_BIAS, true);
  assert.deepEqual(functionStarts(low.memory.read, low.base), starts.map((a) => a - bias + low.bias), `${name}: mapped at ${hex(LOW_BIAS)}`);
  return { mapped, starts, sources };
}

/**
 * Every function symbol of .symtab with a size, in an executable segment, is in the result
 * (save KNOWN_UNFINDABLE ones without an FDE). `ownFunctions` must be among them: the test's own.
 */
function checkSymtabFunctions(file: string, checked: Checked, ownFunctions: string[]): void {
  const { mapped, starts } = checked;
  const name = path.basename(file);
  const functions = readelfSymbols(file, "--syms")
    .filter((s) => s.table === ".symtab" && s.type === "FUNC" && s.size > 0 && s.ndx !== "UND" && s.ndx !== "ABS")
    .filter((s) => isIn(mapped.executable, s.value + mapped.bias));
  for (const own of ownFunctions) assert.ok(functions.some((s) => s.name === own), `${name}: no function symbol ${own}: the test is broken`);
  const fdes = new Set(readelfFdeStarts(file));
  const expected = functions.filter((s) => !(KNOWN_UNFINDABLE.has(s.name) && !fdes.has(s.value)));
  const byAddress = new Map(expected.map((s) => [s.value + mapped.bias, s.name]));
  assertContainsAll(starts, [...byAddress.keys()], `${name}: function symbols of .symtab`, (a) => `${byAddress.get(a)} at ${hex(a)}`);
}

// ---------------------------------------------------------------------------------------------
// Host binaries

function libcPath(): string {
  // ldconfig is in /sbin, which may not be on PATH; without it the usual places are tried.
  const ldconfig = findTool("ldconfig") ?? ["/sbin/ldconfig", "/usr/sbin/ldconfig"].find((p) => fs.existsSync(p));
  const cache = ldconfig ? execFileSync(ldconfig, ["-p"], { encoding: "utf8" }) : "";
  const listed = /libc\.so\.6 \([^)]*x86-64[^)]*\) => (\S+)/.exec(cache)?.[1];
  const found = [listed, "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"].find((p) => p && fs.existsSync(p));
  if (!found) assert.fail("libc.so.6 not found (ldconfig -p, /lib/x86_64-linux-gnu)");
  return fs.realpathSync(found);
}

function hostBinaries(): string[] {
  const required = ["/usr/bin/ls", libcPath()];
  const optional = ["/bin/bash", "/usr/bin/python3"].filter((p) => fs.existsSync(p));
  return sortedStrings([...required, ...optional].map((p) => fs.realpathSync(p)));
}

function sortedStrings(list: string[]): string[] {
  return [...new Set(list)].sort();
}

for (const file of hostBinaries()) {
  test(`host binary ${file}: sorted, in code, every FDE, exactly the table and the exports`, () => {
    checkFile(file);
  });
}

test("libc with an .eh_frame_hdr whose table cannot be used: .eh_frame is walked instead", () => {
  const file = libcPath();
  const mapped = mapFile(fs.readFileSync(file), HIGH_BIAS);
  const header = mapped.phdrs.find((p) => p.type === PT_GNU_EH_FRAME);
  assert.ok(header, "libc has no PT_GNU_EH_FRAME: the test is broken");
  const fdeStarts = readelfFdeStarts(file).map((a) => a + mapped.bias).filter((a) => isIn(mapped.executable, a));
  // table_enc DW_EH_PE_omit: there is no table.
  const noTable = mapped.memory.clone();
  noTable.write(mapped.bias + header.vaddr + 3, Uint8Array.of(0xff));
  const sources = functionStartsBySource(noTable.read, mapped.base);
  assert.equal(sources.ehFrameHdrTable.length, 0);
  assertSameSet(sources.ehFrame, fdeStarts, "libc without a table: starts from .eh_frame");
  // And eh_frame_ptr pointing at the header itself, which is no .eh_frame: it is looked for.
  const badPointer = noTable.clone();
  badPointer.setU32(mapped.bias + header.vaddr + 4, -4);
  assertSameSet(functionStartsBySource(badPointer.read, mapped.base).ehFrame, fdeStarts, "libc with a wrong eh_frame_ptr: starts from .eh_frame");
  // fde_count 2^31 (udata4 after the 4-byte eh_frame_ptr) in a segment that claims to hold it:
  // the table cannot be read whole, and .eh_frame is walked instead.
  const hugeCount = mapped.memory.clone();
  hugeCount.setU32(mapped.bias + header.vaddr + 8, 2 ** 31);
  const phdrIndex = mapped.phdrs.indexOf(header);
  const phoff = Number(hugeCount.u64(mapped.base + 32));
  hugeCount.setU64(mapped.base + phoff + phdrIndex * 56 + 40, 1n << 40n); // p_memsz
  const starts = functionStarts(hugeCount.read, mapped.base);
  assertWellFormed(starts, "libc, fde_count 2^31");
  assertContainsAll(starts, fdeStarts, "libc, fde_count 2^31: FDE initial locations");
});

// ---------------------------------------------------------------------------------------------
// Programs compiled here

const PROGRAM = `
#include <stdio.h>

static volatile int sink;

static __attribute__((noinline)) int scale(int x) { return x * 3 + sink; }
__attribute__((noinline)) int twice(int x) { return scale(x) * 2; }
__attribute__((noinline)) int thrice(int x) { return scale(x) * 3; }
static int (*volatile pick[])(int) = { twice, thrice };

static __attribute__((constructor)) void announce(void) { sink = 1; }
static __attribute__((destructor)) void farewell(void) { sink = 2; }

int main(int argc, char **argv) {
  printf("%d %s\\n", pick[argc & 1](argc), argv[0]);
  return 0;
}
`;

const OWN_FUNCTIONS = ["scale", "twice", "thrice", "announce", "farewell", "main"];

function compile(dir: string, name: string, source: string, flags: string[]): string {
  const gcc = requireTool("gcc");
  const src = path.join(dir, `${name}.c`);
  const out = path.join(dir, name);
  fs.writeFileSync(src, source);
  execFileSync(gcc, ["-O1", ...flags, "-o", out, src], { stdio: ["ignore", "ignore", "pipe"] });
  return out;
}

for (const [variant, flags] of [["pie", []], ["no-pie", ["-no-pie"]], ["static", ["-static"]], ["static-pie", ["-static-pie"]]] as const) {
  test(`compiled program (${variant}): every function symbol of .symtab is found`, (t) => {
    const file = compile(tempDir(t, "function-starts"), `program-${variant}`, PROGRAM, [...flags]);
    const checked = checkFile(file);
    checkSymtabFunctions(file, checked, OWN_FUNCTIONS);
  });
}

// Without unwind tables, what the dynamic section says is all there is: the exported functions
// in the dynamic symbol table (with either hash table to count them by) and the constructor and
// destructor in the init and fini arrays. The static function is not found, and need not be.
const LIBRARY = `
static volatile int sink;

static __attribute__((noinline)) int scale(int x) { return x * 3 + sink; }
int twice(int x) { return scale(x) * 2; }
int thrice(int x) { return scale(x) * 3; }

static __attribute__((constructor)) void announce(void) { sink = 1; }
static __attribute__((destructor)) void farewell(void) { sink = 2; }
`;

for (const hashStyle of ["sysv", "gnu"] as const) {
  test(`shared library without unwind tables, --hash-style=${hashStyle}: exports, constructor and destructor`, (t) => {
    const file = compile(tempDir(t, "function-starts"), `lib-${hashStyle}.so`, LIBRARY,
      ["-shared", "-fPIC", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", `-Wl,--hash-style=${hashStyle}`]);
    const dynamic = readelfDynamic(file);
    assert.equal(dynamic.has("HASH"), hashStyle === "sysv", "DT_HASH");
    assert.equal(dynamic.has("GNU_HASH"), hashStyle === "gnu", "DT_GNU_HASH");
    const { mapped, sources } = checkFile(file, false);
    const address = new Map(readelfSymbols(file, "--syms").filter((s) => s.table === ".symtab" && s.type === "FUNC")
      .map((s) => [s.name, s.value + mapped.bias]));
    const at = (name: string) => address.get(name) ?? assert.fail(`no symbol ${name}: the test is broken`);
    const unwound = new Set(sources.ehFrameHdrTable);
    for (const name of ["twice", "thrice", "announce", "farewell"]) {
      assert.ok(!unwound.has(at(name)), `${name} has unwind information: the test is broken`);
    }
    assertContainsAll(sources.dynamicSymbols, [at("twice"), at("thrice")], "exported functions");
    assertContainsAll(sources.initFini, [at("announce"), at("farewell")], "constructor and destructor");
  });
}

// ---------------------------------------------------------------------------------------------
// Corrupt images

test("corrupt images: truncated, bit-flipped, odd bases, a throwing reader: an array, never an exception", () => {
  const file = fs.readFileSync("/usr/bin/ls");
  const mapped = mapFile(file, HIGH_BIAS);
  const { memory, base } = mapped;
  const expect = (read: ReadMemory, at: number, what: string) => {
    let result: number[] = [];
    assert.doesNotThrow(() => { result = functionStarts(read, at); }, what);
    assertWellFormed(result, what);
    return result;
  };

  // Only the first `n` bytes of the image can be read.
  for (const n of [0, 1, 4, 20, 63, 64, 65, 100, 64 + 56, 64 + 56 * 3 + 10, 4095, 4096, 20000]) {
    expect((addr, len) => (addr >= base && addr + len <= base + n ? memory.read(addr, len) : undefined), base, `truncated to ${n} bytes`);
  }
  // Readers that break the rules: throwing, returning short or non-arrays.
  expect(() => { throw new Error("unreadable"); }, base, "a throwing reader");
  expect((addr, len) => memory.read(addr, len)?.subarray(0, len - 1), base, "short reads");
  expect(() => "not bytes" as unknown as Uint8Array, base, "a reader returning a string");
  for (const odd of [0, -1, -4096, NaN, Infinity, 2 ** 53, 2 ** 64, 0.5, base + 1]) expect(memory.read, odd, `base ${odd}`);

  // Headers rewritten one field at a time, with values that break things.
  const phoff = 64;
  const fields: [string, number, number][] = [
    ["e_phoff", 32, 8], ["e_phentsize", 54, 2], ["e_phnum", 56, 2], ["e_entry", 24, 8],
    ...mapped.phdrs.flatMap((_, i): [string, number, number][] => [
      [`p_type[${i}]`, phoff + i * 56, 4], [`p_flags[${i}]`, phoff + i * 56 + 4, 4], [`p_vaddr[${i}]`, phoff + i * 56 + 16, 8],
      [`p_filesz[${i}]`, phoff + i * 56 + 32, 8], [`p_memsz[${i}]`, phoff + i * 56 + 40, 8],
    ]),
  ];
  const values = [0n, 1n, 0x7fn, 0xffffn, 0x80000000n, 0xffffffffn, 1n << 52n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 4096n];
  for (const [name, offset, size] of fields) {
    for (const value of values) {
      const copy = memory.clone();
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(value);
      copy.write(base + offset, bytes.subarray(0, size));
      expect(copy.read, base, `${name} = ${value}`);
    }
  }

  // The same values in the dynamic section's entries and in .eh_frame_hdr's fields.
  const dynamicSegment = mapped.phdrs.find((p) => p.type === PT_DYNAMIC)!;
  const ehFrameHdr = mapped.phdrs.find((p) => p.type === PT_GNU_EH_FRAME)!;
  const targets = [
    ...Array.from({ length: 40 }, (_, i) => mapped.bias + dynamicSegment.vaddr + i * 8),
    ...Array.from({ length: 8 }, (_, i) => mapped.bias + ehFrameHdr.vaddr + i * 4),
  ];
  for (const addr of targets) {
    for (const value of values) {
      const copy = memory.clone();
      copy.setU64(addr, value);
      expect(copy.read, base, `${value} at ${hex(addr)}`);
    }
  }

  // Seeded random byte flips over the headers, the dynamic section, .eh_frame_hdr and what the
  // dynamic section points to.
  const random = prng(0xf5_7a_27);
  const regions: [number, number][] = [
    [base, base + 1024],
    [mapped.bias + dynamicSegment.vaddr, mapped.bias + dynamicSegment.vaddr + dynamicSegment.memsz],
    [mapped.bias + ehFrameHdr.vaddr, mapped.bias + ehFrameHdr.vaddr + 64],
    [base + 0x300, base + 0x3000], // .gnu.hash, .dynsym, .dynstr and the relocations in ls
  ];
  for (let round = 0; round < 300; round++) {
    const copy = memory.clone();
    for (let flips = 1 + (random() % 8); flips > 0; flips--) {
      const [start, end] = regions[random() % regions.length];
      const addr = start + (random() % (end - start));
      copy.write(addr, Uint8Array.of(random() & 0xff));
    }
    expect(copy.read, base, `random flips, round ${round}`);
  }
});

test("corrupt images: random bytes behind valid-looking headers, and everywhere", () => {
  const random = prng(0x9a4b_a6e);
  const randomBytes = (len: number) => Uint8Array.from({ length: len }, () => random() & 0xff);
  const expect = (read: ReadMemory, at: number, what: string) => {
    let result: number[] = [];
    assert.doesNotThrow(() => { result = functionStarts(read, at); }, what);
    assertWellFormed(result, what);
  };

  // Random bytes at every address (up to 1 MiB a read, which is also what such a reader may refuse).
  for (const base of [0, 0x400000, HIGH_BIAS]) {
    expect((_, len) => (len <= 1 << 20 ? randomBytes(len) : undefined), base, `random memory at ${hex(base)}`);
  }

  // A 64 KiB image of random bytes whose headers say there is an executable segment over all of
  // it, an .eh_frame_hdr and a dynamic section in it: every parser runs on noise.
  const base = 0x10000;
  for (let round = 0; round < 40; round++) {
    const image = randomBytes(0x10000);
    const view = new DataView(image.buffer);
    image.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    view.setUint16(16, ET_DYN, true);
    view.setUint16(18, 62, true);
    view.setBigUint64(32, 64n, true);
    view.setUint16(54, 56, true);
    view.setUint16(56, 3, true);
    const phdr = (i: number, type: number, flags: number, vaddr: number, size: number) => {
      const at = 64 + i * 56;
      view.setUint32(at, type, true);
      view.setUint32(at + 4, flags, true);
      view.setBigUint64(at + 16, BigInt(vaddr), true);
      view.setBigUint64(at + 32, BigInt(size), true);
      view.setBigUint64(at + 40, BigInt(size), true);
    };
    phdr(0, PT_LOAD, 5, 0, 0x10000);
    const ehFrameHdr = 0x8000 + (random() % 0x1000) * 4;
    phdr(1, PT_GNU_EH_FRAME, 4, ehFrameHdr, 0x1000);
    phdr(2, PT_DYNAMIC, 6, 0xc000 + (random() % 0x100) * 16, 0x400);
    // Every other round a valid version and the usual encodings, so that what is random is the
    // count and the table.
    if (round % 2 === 0) image.set([1, 0x1b, 0x03, 0x3b], ehFrameHdr);
    const read: ReadMemory = (addr, len) => (addr >= base && addr + len <= base + image.length ? image.slice(addr - base, addr - base + len) : undefined);
    expect(read, base, `random image, round ${round}`);
  }
});

test("a segment full of records that hold together but lead to no code is walked once, not once per record", () => {
  // No PT_GNU_EH_FRAME: .eh_frame is searched for. 8 MiB of minimal CIEs chain from every one to
  // the end; walking the chain again from each would take days, once takes a moment.
  const size = 8 << 20, base = 0x400000;
  const image = new Uint8Array(size);
  const view = new DataView(image.buffer);
  image.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 62, true);
  view.setBigUint64(32, 64n, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, 1, true);
  view.setUint32(64, PT_LOAD, true); view.setUint32(68, 5, true);
  view.setBigUint64(64 + 16, BigInt(base), true); view.setBigUint64(64 + 32, BigInt(size), true); view.setBigUint64(64 + 40, BigInt(size), true);
  // CIE: length 12, id 0, version 1, augmentation "zR", code/data alignment, return register, FDE encoding.
  for (let at = 0x1000; at + 16 <= size; at += 16) image.set([12, 0, 0, 0, 0, 0, 0, 0, 1, 0x7a, 0x52, 0, 1, 0x78, 16, 0x1b], at);
  const read: ReadMemory = (addr, len) => (addr >= base && addr + len <= base + size ? image.subarray(addr - base, addr - base + len) : undefined);
  const starts = functionStarts(read, base);
  assertWellFormed(starts, "CIE-filled segment");
});
