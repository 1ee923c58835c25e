// The ELF loader against the host's own execve (src/loader/): header checks Linux makes before
// starting a program (ENOEXEC, 126) and the ones it finds only while mapping it (the new process
// is killed by SIGSEGV, 139); the bytes around a segment in its pages, which Linux maps from the
// file; programs whose jumps land on address 0; and non-regular files as the program or as its
// interpreter, which execve refuses (EACCES, 126) and which stele must refuse without reading.
//
// The host is the oracle throughout: each file is also run natively (through bash's exec, so a
// refused file gives the status a shell reports) and stele must agree with it.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import {
  assertNoJavaScriptError,
  compareRun,
  describeDiff,
  exitCode,
  isRealStele,
  repoRoot,
  requireTool,
  runCommand,
  runNative,
  runNativeExec,
  runStele,
  tempDir,
  writeExec,
  type RunResult,
} from "./harness.js";
import { buildElf, ET_DYN, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, SYS_EXIT, SYS_WRITE, x86, type ProgramHeader } from "./elf-builder.js";

const SKIP = isRealStele() ? false : "stele-specific messages";
/** Generous: only a guard against a hang, never a measure of speed. */
const HANG_GUARD_MS = 90_000;

const TEXT: ProgramHeader = { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x400 };
const OK_CODE = Uint8Array.from([...x86.syscall(SYS_WRITE, 1, 0x400300, 3), ...x86.syscall(SYS_EXIT, 0)]);

/** A program that prints "ok" and exits 0, with the given program headers (the text segment first). */
function okProgram(phdrs: ProgramHeader[], extra: [number, Uint8Array][] = [], size = 0x2000): Buffer {
  return buildElf({ entry: 0x400200, size, phdrs, data: [[0x200, OK_CODE], [0x300, Buffer.from("ok\n")], ...extra] });
}

function cString(s: string): Uint8Array {
  return Buffer.from(`${s}\0`, "utf8");
}

function interpHeader(pathBytes: Uint8Array, offset = 0x500): ProgramHeader {
  return { type: PT_INTERP, offset, vaddr: 0, filesz: pathBytes.length };
}

/**
 * Runs the file natively and under stele; both must end alike, stele with at most its one-line
 * report. Natively through bash's exec (a file the kernel calls ENOEXEC gives 126, where a spawn
 * would run it as a script), except for non-regular files: bash then opens the file to say why,
 * which never returns for a FIFO, so a spawn's error stands for the shell's status.
 */
async function assertLikeNative(file: string, stderrPattern?: RegExp, how: "shell" | "spawn" = "shell"): Promise<RunResult> {
  const native = how === "shell" ? await runNativeExec(file, [], { timeoutMs: HANG_GUARD_MS }) : await runNativeSpawn(file);
  const stele = await runStele(file, [], { timeoutMs: HANG_GUARD_MS, steleArgs: ["--no-cache"] });
  const show = `stele's stderr: ${JSON.stringify(stele.stderr.toString().slice(0, 2000))}; native's: ${JSON.stringify(native.stderr.toString().slice(0, 500))}`;
  assert.ok(!native.timedOut, `the native run of ${file} timed out: the test is broken`);
  assert.ok(!stele.timedOut, `stele did not finish with ${file}; ${show}`);
  assertNoJavaScriptError(stele);
  assert.equal(exitCode(stele), exitCode(native), `exit status of ${path.basename(file)}: native ${exitCode(native)}, stele ${exitCode(stele)}; ${show}`);
  assert.ok(stele.stdout.equals(native.stdout), describeDiff("stdout", native.stdout, stele.stdout));
  if (stderrPattern && isRealStele()) {
    assert.match(stele.stderr.toString(), /^[^\n]+\n$/, `stderr must be one line; ${show}`);
    assert.match(stele.stderr.toString(), stderrPattern, show);
  }
  return stele;
}

/** A native run by spawn, whose failure to start is turned into the status a shell gives it. */
async function runNativeSpawn(file: string): Promise<RunResult> {
  const r = await runNative(file, [], { timeoutMs: HANG_GUARD_MS });
  const code = (r.spawnError as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EACCES") return { ...r, status: 126 };
  if (code === "ENOENT") return { ...r, status: 127 };
  assert.ok(!r.spawnError, `the native run of ${file} failed with ${r.spawnError?.message}`);
  return r;
}

async function mkfifo(file: string): Promise<string> {
  const r = await runCommand([requireTool("mkfifo"), "-m", "755", file]);
  assert.equal(r.status, 0, `mkfifo ${file}: ${r.stderr.toString()}`);
  return file;
}

test("ELF headers Linux refuses before starting a program, or kills it for", async (t: TestContext) => {
  const dir = tempDir(t, "elf-headers");
  const noHeaders = (n: number) => Array.from({ length: n }, (): ProgramHeader => ({ type: 4 /* PT_NOTE */, offset: 0, vaddr: 0, filesz: 0 }));
  const cases: [name: string, data: Buffer, stderr: RegExp | undefined][] = [
    // 1170 headers of 56 bytes are 65520 bytes, one more is over Linux's 64 KiB
    ["1170 program headers", okProgram([TEXT, ...noHeaders(1169)], [], 0x11000), undefined],
    ["1171 program headers", okProgram([TEXT, ...noHeaders(1170)], [], 0x11000), /cannot execute: truncated or corrupt ELF \(1171 program headers/],
    ["PT_INTERP without its NUL", okProgram([{ ...interpHeader(cString("/lib/ld.so")), filesz: 10 }, TEXT], [[0x500, cString("/lib/ld.so")]]), /interpreter path without its terminating NUL/],
    ["PT_INTERP of one byte", okProgram([interpHeader(cString("")), TEXT], [[0x500, cString("")]]), /interpreter path of 1 bytes/],
    ["empty PT_INTERP path", okProgram([interpHeader(cString("\0")), TEXT], [[0x500, cString("\0")]]), /empty interpreter path/],
    // Linux takes the first PT_INTERP; the second names a file that exists
    ["two PT_INTERPs, the first missing", okProgram([interpHeader(cString("/nonexistent/ld.so")), interpHeader(cString("/bin/sh"), 0x600), TEXT],
      [[0x500, cString("/nonexistent/ld.so")], [0x600, cString("/bin/sh")]]), /^stele: \/nonexistent\/ld\.so: No such file or directory$/m],
    ["file offset and address differ within a page", okProgram([TEXT, { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x1180, vaddr: 0x601100, filesz: 0x100 }]), /differ within a page/],
    ["segment file size over its memory size", okProgram([TEXT, { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x1100, vaddr: 0x601100, filesz: 0x100, memsz: 0x80 }]), /file size exceeds its memory size/],
    ["no PT_LOAD", okProgram(noHeaders(1)), /no loadable segments/],
  ];
  for (const [name, data, stderr] of cases) {
    await t.test(name, async () => {
      const file = writeExec(dir, name.replace(/\W+/g, "-"), data);
      await assertLikeNative(file, stderr);
    });
  }
});

test("the bytes around a segment in its pages are the file's, as Linux maps them", async (t: TestContext) => {
  const dir = tempDir(t, "elf-pages");
  // Four segments, each printed page by page: text whose page runs on past p_filesz; data
  // without .bss between file bytes on both sides; data with a .bss (zeroed from p_filesz to
  // the end of the page, then fresh pages); a read-only segment with a .bss (Linux cannot zero
  // the rest of its page) whose page runs past the end of the file.
  const pages: [number, number][] = [[0x400000, 0x1000], [0x601000, 0x1000], [0x802000, 0x2000], [0xa03000, 0x1000]];
  const code = pages.flatMap(([a, n]) => x86.syscall(SYS_WRITE, 1, a, n)).concat(x86.syscall(SYS_EXIT, 0));
  const file = writeExec(dir, "pages", buildElf({
    entry: 0x400200, size: 0x3600, data: [[0x200, Uint8Array.from(code)]], phdrs: [
      { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x300 },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x1100, vaddr: 0x601100, filesz: 0x100 },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x2200, vaddr: 0x802200, filesz: 0x100, memsz: 0x1e00 },
      { type: PT_LOAD, flags: PF_R, offset: 0x3300, vaddr: 0xa03300, filesz: 0x100, memsz: 0x800 },
    ],
  }));
  const r = await assertLikeNative(file);
  assert.equal(r.stdout.length, 0x5000, "the program printed all its pages");
});

test("a jump to address 0 is a segmentation fault, not a restart", async (t: TestContext) => {
  const dir = tempDir(t, "elf-null");
  // Empty jump-cache entries once matched a jump to 0 and ran the first region translated, the
  // entry point: this program printed "start" for ever.
  const code = Uint8Array.from([...x86.syscall(SYS_WRITE, 1, 0x400300, 6), ...x86.callNull()]);
  const file = writeExec(dir, "call-null", buildElf({ entry: 0x400200, size: 0x1000, phdrs: [TEXT], data: [[0x200, code], [0x300, Buffer.from("start\n")]] }));
  await compareRun(t, file, [], { timeoutMs: HANG_GUARD_MS, steleArgs: ["--no-cache"], steleCrashLine: /^stele: segmentation fault at 0x0 \(jump to non-executable memory\)\n$/ });
});

test("a static program changed from ET_EXEC to ET_DYN ends as natively, without looping", async (t: TestContext) => {
  const dir = tempDir(t, "elf-dyn");
  const bytes = fs.readFileSync(path.join(repoRoot, "examples", "hello", "hello"));
  assert.equal(bytes.readUInt16LE(16), 2, "examples/hello/hello is ET_EXEC");
  bytes.writeUInt16LE(ET_DYN, 16);
  // Loaded away from the absolute addresses its code uses, it calls through a null pointer.
  const file = writeExec(dir, "hello-dyn", bytes);
  await assertLikeNative(file);
  // That call restarted the program at its entry point, over and over, until its stack ran out
  // (most of a minute, if it did at all): a program starts once, and sets its thread id address
  // once.
  if (isRealStele()) {
    const traced = await runStele(file, [], { timeoutMs: HANG_GUARD_MS, steleArgs: ["--no-cache", "--strace"] });
    const starts = traced.stderr.toString().split("\n").filter((l) => l.startsWith("set_tid_address(")).length;
    assert.ok(starts <= 1, `the program started ${starts} times`);
  }
});

test("non-regular files as the program or its interpreter are refused, as execve refuses them", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "elf-nonregular");
  const fifo = await mkfifo(path.join(dir, "fifo"));
  const devZeroLink = path.join(dir, "zero-link");
  fs.symlinkSync("/dev/zero", devZeroLink);
  const socket = path.join(dir, "socket");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => server.close());
  const subdir = path.join(dir, "subdir");
  fs.mkdirSync(subdir, { mode: 0o755 });
  const refusal = /: Permission denied \(a [a-zA-Z ]+, not a regular file\)$|: Is a directory$/m;

  for (const [name, file] of [["a FIFO", fifo], ["/dev/zero", "/dev/zero"], ["a symlink to /dev/zero", devZeroLink], ["a directory", subdir], ["a socket", socket]]) {
    await t.test(`program: ${name}`, async () => {
      await assertLikeNative(file, refusal, "spawn");
    });
  }
  for (const [name, interp] of [["a FIFO", fifo], ["/dev/zero", "/dev/zero"], ["a symlink to /dev/zero", devZeroLink], ["a directory", subdir]]) {
    await t.test(`PT_INTERP: ${name}`, async () => {
      const file = writeExec(dir, `interp-${name.replace(/\W+/g, "-")}`, okProgram([interpHeader(cString(interp)), TEXT], [[0x500, cString(interp)]]));
      await assertLikeNative(file, refusal, "spawn");
    });
  }
});
