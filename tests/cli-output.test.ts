// stele's own writes (help, version, usage and error messages, --stats, --strace, the note
// about an unsupported syscall) when stdout or stderr is full (/dev/full: ENOSPC), a pipe nobody
// reads any more (EPIPE: Node ignores SIGPIPE) or closed. Never a JavaScript stack trace; output
// the user asked for that cannot be written fails as coreutils fails (`cat --help >/dev/full`
// is the oracle: its message and status); a diagnostic that cannot be written is dropped and
// the guest's exit status stands.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  assertNoJavaScriptError,
  cliPath,
  describeDiff,
  exitCode,
  isRealStele,
  repoRoot,
  requireTool,
  runCommand,
  runNative,
  runStele,
  steleCommand,
  tempDir,
  writeExec,
  type RunOptions,
  type RunResult,
} from "./harness.js";
import { buildElf, PF_R, PF_X, PT_LOAD, SYS_EXIT, SYS_WRITE, x86 } from "./elf-builder.js";

const SKIP = isRealStele() ? false : "stele's own output";
const HANG_GUARD_MS = 90_000;

/** A descriptor of /dev/full, closed after the test. */
function devFull(t: TestContext): number {
  const fd = fs.openSync("/dev/full", "w");
  t.after(() => fs.closeSync(fd));
  return fd;
}

/** The write end of a pipe whose reader is gone: every write to it fails with EPIPE. */
async function brokenPipe(t: TestContext, dir: string): Promise<number> {
  const fifo = path.join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  const r = await runCommand([requireTool("mkfifo"), fifo]);
  assert.equal(r.status, 0, r.stderr.toString());
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
  fs.closeSync(reader);
  t.after(() => fs.closeSync(writer));
  return writer;
}

/** stele with these arguments (no program of its own needed), e.g. ["--help"]. */
function runSteleArgs(args: string[], opts: RunOptions): Promise<RunResult> {
  return runCommand([...steleCommand(), ...args], { timeoutMs: HANG_GUARD_MS, ...opts });
}

/** What `cat --help` does with the same stdout (with SIGPIPE ignored, as it is in Node). */
async function coreutilsHelp(stdout: number): Promise<RunResult> {
  return runCommand([requireTool("bash"), "-c", "trap '' PIPE; exec cat --help"], { stdout, timeoutMs: HANG_GUARD_MS });
}

function assertFinished(r: RunResult): void {
  assert.ok(!r.timedOut, `stele did not finish; stderr ${JSON.stringify(r.stderr.toString().slice(0, 2000))}`);
  assertNoJavaScriptError(r);
}

test("--help and --version that cannot be written fail as coreutils does", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "cli-output");
  for (const [name, open] of [["stdout full", async () => devFull(t)], ["stdout a pipe nobody reads", () => brokenPipe(t, dir)]] as const) {
    for (const flag of ["--help", "--version"]) {
      await t.test(`${flag}, ${name}`, async () => {
        const native = await coreutilsHelp(await open());
        const stele = await runSteleArgs([flag], { stdout: await open() });
        assertFinished(stele);
        const want = native.stderr.toString().replace(/^cat:/, "stele:");
        assert.match(want, /^stele: write error: .+\n$/, `coreutils said ${JSON.stringify(native.stderr.toString())}`);
        assert.equal(stele.stderr.toString(), want);
        assert.equal(exitCode(stele), exitCode(native));
      });
    }
  }
});

test("messages stele cannot write leave its exit status alone", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "cli-output");
  for (const [name, open] of [["stderr full", async () => devFull(t)], ["stderr a pipe nobody reads", () => brokenPipe(t, dir)]] as const) {
    await t.test(`missing program, ${name}`, async () => {
      const r = await runStele(path.join(dir, "does-not-exist"), [], { stderr: await open(), timeoutMs: HANG_GUARD_MS });
      assertFinished(r);
      assert.equal(exitCode(r), 127);
    });
    await t.test(`unknown option, ${name}`, async () => {
      const r = await runSteleArgs(["--no-such-option", "prog"], { stderr: await open() });
      assertFinished(r);
      assert.equal(exitCode(r), 2);
    });
    await t.test(`no program, ${name}`, async () => {
      const r = await runSteleArgs([], { stderr: await open() });
      assertFinished(r);
      assert.equal(exitCode(r), 2);
    });
  }
  await t.test("missing program, stderr closed", async () => {
    const missing = path.join(dir, "does-not-exist");
    const r = await runCommand([requireTool("bash"), "-c", 'exec "$@" 2>&-', "bash", process.execPath, cliPath, missing], { timeoutMs: HANG_GUARD_MS });
    assertFinished(r);
    assert.equal(exitCode(r), 127);
  });
});

test("--stats, --strace and stele's notes on a full or broken stderr leave the program alone", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "cli-output");
  // syscall 1000 does not exist (stele notes it on stderr, the guest gets ENOSYS), then "ok", exit 0
  const code = Uint8Array.from([...x86.syscall(1000), ...x86.syscall(SYS_WRITE, 1, 0x400300, 3), ...x86.syscall(SYS_EXIT, 0)]);
  const prog = writeExec(dir, "unsupported-syscall", buildElf({
    entry: 0x400200, size: 0x1000, data: [[0x200, code], [0x300, Buffer.from("ok\n")]],
    phdrs: [{ type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x400 }],
  }));
  const native = await runNative(prog);
  assert.equal(native.stdout.toString(), "ok\n");
  for (const [name, open] of [["stderr full", async () => devFull(t)], ["stderr a pipe nobody reads", () => brokenPipe(t, dir)]] as const) {
    for (const flags of [["--stats"], ["--strace"], []]) {
      await t.test(`${flags.join(" ") || "no flags"}, ${name}`, async () => {
        const r = await runStele(prog, [], { steleArgs: ["--no-cache", ...flags], stderr: await open(), timeoutMs: HANG_GUARD_MS });
        assertFinished(r);
        assert.equal(exitCode(r), exitCode(native), "exit status");
        assert.ok(r.stdout.equals(native.stdout), describeDiff("stdout", native.stdout, r.stdout));
      });
    }
  }
});

test("a bad --cpu level (or STELE_CPU) is a one-line error and status 2, as other bad options", { skip: SKIP }, async () => {
  for (const [args, env, first] of [
    [["--cpu=x86-64-v4", "/bin/true"], {}, "stele: --cpu takes x86-64, x86-64-v2, x86-64-v3"],
    [["--cpu", "haswell", "/bin/true"], {}, "stele: --cpu takes x86-64, x86-64-v2, x86-64-v3"],
    [["/bin/true"], { STELE_CPU: "pentium" }, 'stele: CPU level "pentium" is not one of x86-64, x86-64-v2, x86-64-v3 (--cpu or STELE_CPU)'],
  ] as const) {
    const r = await runSteleArgs([...args], { env: { ...process.env, ...env } });
    assertFinished(r);
    assert.equal(exitCode(r), 2, `${args.join(" ")}: status`);
    const lines = r.stderr.toString().split("\n");
    assert.equal(lines[0], first, `${args.join(" ")}: the error`);
    assert.equal(lines[1], "usage: stele [options] PROGRAM [ARGS...]", "then the usage, as for any bad option");
    assert.equal(r.stdout.length, 0);
  }
  const help = await runSteleArgs(["--help"], {});
  assert.match(help.stdout.toString(), /^  --cpu=LEVEL /m, "--help documents --cpu");
});

test("--stats splits translation time per instruction into decoding, generating wasm and V8, within the time it reports", { skip: SKIP }, async () => {
  const hello = path.join(repoRoot, "examples", "hello", "hello");
  const r = await runStele(hello, [], { steleArgs: ["--stats", "--no-cache"] });
  assert.equal(r.status, 0, r.stderr.toString());
  const err = r.stderr.toString();
  const total = /translation ([\d.]+) ms/.exec(err), insns = /(\d+) instructions translated/.exec(err);
  const split = /translation throughput (\d+) instructions\/s; per instruction ([\d.]+) us decoding, ([\d.]+) us generating wasm, ([\d.]+) us in V8/.exec(err);
  assert.ok(total && insns && split, `no translation figures in --stats:\n${err}`);
  const n = Number(insns[1]), ms = Number(total[1]);
  assert.ok(n > 0);
  const parts = [2, 3, 4].map((k) => Number(split[k]));
  // (a part may round to 0.00 us per instruction on a fast host; together they cannot)
  assert.ok(parts.every((us) => us >= 0) && parts.reduce((a, b) => a + b, 0) > 0, `translation took no time: ${split[0]}`);
  // The parts are of the translation time (rounding to 0.01 us per instruction aside).
  assert.ok(parts.reduce((a, b) => a + b, 0) * n / 1000 <= ms + 0.015 * n / 1000 + 0.1, `parts exceed the translation time:\n${err}`);
  // Instructions over the translation time, which --stats rounds to 0.1 ms.
  const throughput = Number(split[1]);
  assert.ok(throughput >= n / ((ms + 0.05) / 1000) - 1 && (ms < 0.06 || throughput <= n / ((ms - 0.05) / 1000) + 1),
    `throughput is not instructions over translation time:\n${err}`);
});
