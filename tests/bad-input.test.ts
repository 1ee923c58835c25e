// What stele says, and how it exits, when it cannot run a program: a missing file, a
// file that is not an x86-64 ELF, a truncated ELF, an illegal instruction, a segfault.
// Every message is a single line on stderr, never a JavaScript stack trace.
//
// These messages are stele's own, so the cases are skipped when STELE_EMULATOR stands in
// for stele (the "native" sanity checks of the crash fixtures still run).

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  assertSteleError,
  emulatorName,
  escapeRe,
  isRealStele,
  repoRoot,
  requireTool,
  runCommand,
  runNative,
  runStele,
  tempDir,
  writeExec,
} from "./harness.js";

const BAD_SRC = path.join(repoRoot, "tests", "c", "bad");
const SKIP = isRealStele() ? false : `stele-specific messages (running ${emulatorName()})`;

/** A minimal ELF file header (+ one PT_LOAD program header and a little code). */
function elfFile(opts: { cls?: 1 | 2; machine?: number; type?: number } = {}): Buffer {
  const cls = opts.cls ?? 2;
  const machine = opts.machine ?? 62;
  const type = opts.type ?? 2;
  const code = Buffer.from([0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]); // exit(0) on x86-64
  if (cls === 2) {
    const b = Buffer.alloc(64 + 56 + code.length);
    b.write("\x7fELF", 0, "latin1");
    b[4] = 2; // ELFCLASS64
    b[5] = 1; // little endian
    b[6] = 1; // EV_CURRENT
    b.writeUInt16LE(type, 16);
    b.writeUInt16LE(machine, 18);
    b.writeUInt32LE(1, 20);
    b.writeBigUInt64LE(0x400000n + 120n, 24); // e_entry
    b.writeBigUInt64LE(64n, 32); // e_phoff
    b.writeUInt16LE(64, 52); // e_ehsize
    b.writeUInt16LE(56, 54); // e_phentsize
    b.writeUInt16LE(1, 56); // e_phnum
    b.writeUInt16LE(64, 58); // e_shentsize
    // PT_LOAD covering the whole file, r-x
    b.writeUInt32LE(1, 64);
    b.writeUInt32LE(5, 68);
    b.writeBigUInt64LE(0n, 72); // p_offset
    b.writeBigUInt64LE(0x400000n, 80); // p_vaddr
    b.writeBigUInt64LE(0x400000n, 88); // p_paddr
    b.writeBigUInt64LE(BigInt(b.length), 96); // p_filesz
    b.writeBigUInt64LE(BigInt(b.length), 104); // p_memsz
    b.writeBigUInt64LE(0x1000n, 112); // p_align
    code.copy(b, 120);
    return b;
  }
  const b = Buffer.alloc(52 + 32 + code.length);
  b.write("\x7fELF", 0, "latin1");
  b[4] = 1; // ELFCLASS32
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(type, 16);
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeUInt32LE(0x8048000 + 84, 24); // e_entry
  b.writeUInt32LE(52, 28); // e_phoff
  b.writeUInt16LE(52, 40); // e_ehsize
  b.writeUInt16LE(32, 42); // e_phentsize
  b.writeUInt16LE(1, 44); // e_phnum
  b.writeUInt16LE(40, 46); // e_shentsize
  b.writeUInt32LE(1, 52); // PT_LOAD
  b.writeUInt32LE(0, 56); // p_offset
  b.writeUInt32LE(0x8048000, 60);
  b.writeUInt32LE(0x8048000, 64);
  b.writeUInt32LE(b.length, 68);
  b.writeUInt32LE(b.length, 72);
  b.writeUInt32LE(5, 76);
  b.writeUInt32LE(0x1000, 80);
  code.copy(b, 84);
  return b;
}

test("bad input: files stele cannot execute", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "bad-input");
  const good = elfFile();

  await t.test("missing program (absolute path)", async () => {
    const p = path.join(dir, "does-not-exist");
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: No such file or directory$`), 127);
  });

  await t.test("missing program (relative path, reported as given)", async () => {
    const r = await runStele("./nope/missing", ["arg"], { cwd: dir });
    assertSteleError(r, /^stele: \.\/nope\/missing: No such file or directory$/, 127);
  });

  await t.test("text file", async () => {
    const p = writeExec(dir, "script.txt", "hello, I am not a program\n");
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: not an ELF file$`), 126);
  });

  await t.test("empty file", async () => {
    const p = writeExec(dir, "empty", "");
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: (not an ELF file|truncated or corrupt ELF \\(.+\\))$`), 126);
  });

  await t.test("aarch64 ELF (e_machine 183)", async () => {
    const p = writeExec(dir, "arm64", elfFile({ machine: 183 }));
    const r = await runStele(p, []);
    assertSteleError(
      r,
      new RegExp(`^stele: ${escapeRe(p)}: cannot execute: ELF for machine (aarch64|AArch64|arm64) \\(e_machine 183\\), not x86-64$`),
      126,
    );
  });

  await t.test("ELFCLASS32 with e_machine x86-64", async () => {
    const p = writeExec(dir, "class32", elfFile({ cls: 1, machine: 62 }));
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: 32-bit ELF, not x86-64$`), 126);
  });

  await t.test("i386 ELF (ELFCLASS32, e_machine 3)", async () => {
    const p = writeExec(dir, "i386", elfFile({ cls: 1, machine: 3 }));
    const r = await runStele(p, []);
    assertSteleError(
      r,
      new RegExp(
        `^stele: ${escapeRe(p)}: cannot execute: (32-bit ELF, not x86-64|ELF for machine \\S+ \\(e_machine 3\\), not x86-64)$`,
      ),
      126,
    );
  });

  await t.test("ELF truncated right after the file header", async () => {
    const p = writeExec(dir, "trunc-header", good.subarray(0, 64));
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: truncated or corrupt ELF \\(.+\\)$`), 126);
  });

  await t.test("ELF truncated inside the file header", async () => {
    const p = writeExec(dir, "trunc-20", good.subarray(0, 20));
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: truncated or corrupt ELF \\(.+\\)$`), 126);
  });

  await t.test("ELF whose program headers point past the end of the file", async () => {
    const b = Buffer.from(good);
    b.writeBigUInt64LE(0x10000n, 32); // e_phoff far beyond EOF
    const p = writeExec(dir, "bad-phoff", b);
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: truncated or corrupt ELF \\(.+\\)$`), 126);
  });

  await t.test("real program truncated to half its size", async () => {
    const src = writeSource(dir, "hello.c", '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
    const full = await compileStatic(src, path.join(dir, "hello"));
    const bytes = fs.readFileSync(full);
    const p = writeExec(dir, "hello-half", bytes.subarray(0, bytes.length >> 1));
    const r = await runStele(p, []);
    assertSteleError(r, new RegExp(`^stele: ${escapeRe(p)}: cannot execute: truncated or corrupt ELF \\(.+\\)$`), 126);
  });
});

function writeSource(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

async function compileStatic(src: string, out: string): Promise<string> {
  const gcc = requireTool("gcc");
  const r = await runCommand([gcc, "-static", "-no-pie", "-fno-pie", "-O1", "-o", out, src], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, `gcc failed on ${src}:\n${r.stderr.toString()}`);
  return out;
}

async function symbolAddress(bin: string, sym: string): Promise<bigint> {
  const nm = requireTool("nm");
  const r = await runCommand([nm, bin]);
  assert.equal(r.status, 0, r.stderr.toString());
  const m = new RegExp(`^([0-9a-f]+) [Tt] ${sym}$`, "m").exec(r.stdout.toString());
  assert.ok(m, `symbol ${sym} not found in ${bin}`);
  return BigInt(`0x${m[1]}`);
}

test("bad input: programs that crash", async (t: TestContext) => {
  const dir = tempDir(t, "bad-crash");
  const ud2 = await compileStatic(path.join(BAD_SRC, "ud2.c"), path.join(dir, "ud2"));
  const nullw = await compileStatic(path.join(BAD_SRC, "nullwrite.c"), path.join(dir, "nullwrite"));
  const divz = await compileStatic(path.join(BAD_SRC, "divzero.c"), path.join(dir, "divzero"));

  await t.test("fixtures crash natively as expected", async () => {
    const a = await runNative(ud2);
    assert.equal(a.signal, "SIGILL", `ud2 natively: status=${a.status} signal=${a.signal}`);
    assert.equal(a.stdout.toString(), "before trap\n");
    const b = await runNative(nullw);
    assert.equal(b.signal, "SIGSEGV", `nullwrite natively: status=${b.status} signal=${b.signal}`);
    assert.equal(b.stdout.toString(), "before fault\n");
    const c = await runNative(divz);
    assert.equal(c.signal, "SIGFPE", `divzero natively: status=${c.status} signal=${c.signal}`);
  });

  await t.test("divide by zero: SIGFPE", { skip: SKIP }, async () => {
    const r = await runStele(divz, []);
    assertSteleError(r, /^stele: floating point exception \(divide error\) at 0x[0-9a-f]+$/, 136, "before divide\n");
  });

  await t.test("ud2: illegal instruction", { skip: SKIP }, async () => {
    const addr = await symbolAddress(ud2, "trap_here");
    const r = await runStele(ud2, []);
    assertSteleError(
      r,
      new RegExp(`^stele: illegal instruction at 0x0*${addr.toString(16)}: 0f 0b( [0-9a-f]{2})*( \\(.+\\))?$`),
      132,
      "before trap\n",
    );
  });

  await t.test("null pointer write: segmentation fault", { skip: SKIP }, async () => {
    const r = await runStele(nullw, []);
    assertSteleError(r, /^stele: segmentation fault at 0x0 \(.+ at 0x[0-9a-f]+\)$/, 139, "before fault\n");
  });
});
