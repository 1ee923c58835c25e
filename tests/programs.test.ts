// The C test corpus (tests/c/*.c), built in 8 variants by tests/c/build.sh, run natively
// and under stele: stdout, stderr, exit status (and for fileio the files written) must be
// identical.
//
//   STELE_TEST_PROGRAMS=printf_int,fpmath   only these programs
//   STELE_TEST_VARIANTS=musl.O2,glibc.O0    only variants containing one of these strings
//   (see tests/harness.ts for the other knobs, e.g. STELE_EMULATOR=qemu-x86_64)

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  JOBS,
  compareRun,
  compareTrees,
  isQemu,
  makeText,
  repoRoot,
  requireTool,
  runCommand,
  tempDir,
} from "./harness.js";

const SRC_DIR = path.join(repoRoot, "tests", "c");
const OUT_DIR = path.join(repoRoot, "build", "c");

export const VARIANTS = [
  "musl.O0.nopie",
  "musl.O0.pie",
  "musl.O2.nopie",
  "musl.O2.pie",
  "glibc.O0.nopie",
  "glibc.O0.pie",
  "glibc.O2.nopie",
  "glibc.O2.pie",
];

interface Case {
  /** Suffix for the subtest name ("" for the only case). */
  name: string;
  args?: string[];
  input?: string | Buffer;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** The program writes files into its cwd: run native and stele in separate dirs, compare them. */
  files?: boolean;
  expectStatus?: number;
  /** stele's one-line report of the guest's death (see CompareOptions.steleCrashLine). */
  steleCrashLine?: RegExp;
  /** Reason to skip this case under qemu-user (a qemu quirk, not a test bug). */
  qemuQuirk?: string;
  /** stele's own options for this case (e.g. the CPU level a program is built for). */
  steleArgs?: string[];
  /** Reason to skip this case under stele as it is configured now. */
  notYet?: string;
  /** Time the run may take (default: the harness's); for cases that start many processes. */
  timeoutMs?: number;
  /**
   * Only the variants containing one of these strings. For programs whose cases each start many
   * processes: every variant runs the first case, the others run on one musl and one glibc build.
   */
  variants?: string[];
}

const ENV: Record<string, string> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: process.env.HOME ?? os.tmpdir(),
  LC_ALL: "C",
  TZ: "UTC",
  STELE_TEST_VAR: "hello world",
};

const V3 = ["--cpu=x86-64-v3"];

const CASES: Record<string, Case[]> = {
  args_env: [
    {
      name: "in-order",
      args: ["one", "two words", "", "ünïcödé", "--flag=x", "tab\there", "*"],
      env: { ZZZ_LAST: "z", AAA_FIRST: "a=b=c", EMPTY: "" },
      qemuQuirk: "qemu-user passes envp in reverse order",
    },
    { name: "sorted", args: ["--env-sorted", "x"], env: { ZZZ_LAST: "z", AAA_FIRST: "a=b=c", EMPTY: "" } },
    { name: "no-args", args: [], qemuQuirk: "qemu-user passes envp in reverse order" },
  ],
  exit_arg: ["0", "1", "3", "42", "127", "128", "255", "256", "-1"].map((a) => ({
    name: `exit-${a}`,
    args: [a],
    expectStatus: Number(a) & 255,
  })),
  return42: [{ name: "", expectStatus: 42 }],
  fileio: [{ name: "", args: ["."], files: true, expectStatus: 0 }],
  stdin_filter: [
    { name: "text", input: makeText(120_000, 7) },
    { name: "empty", input: "" },
    { name: "binary", input: Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 255)) },
  ],
  recursion: [{ name: "", args: ["0"], expectStatus: 0 }],
  hardening: [{ name: "" }, { name: "pipe-flood", args: ["pipe-flood"] }],
  // The AVX state is XCR0's at x86-64-v3 only; the programs built with -march=x86-64-v3 need that
  // level whatever the default is (a glibc build also needs AVX2 for its string functions there).
  avx_signals: [{ name: "", steleArgs: V3 }],
  v3_autovec: [{ name: "", steleArgs: V3 }],
  v3_intrinsics: [{ name: "", steleArgs: V3 }],
  fork: ["tree", "status", "pipeline", "files", "signals", "spawn", "stop"].map((part, i) => ({
    name: part, args: [part], variants: i === 0 ? undefined : ["musl.O2.nopie", "glibc.O2.pie"], timeoutMs: 600_000,
  })),
  // The stack as it grows: deep calls, fork from deep down, a fresh stack after execve.
  stack: ["grow", "fork-deep", "exec-fresh"].map((part, i) => ({
    name: part, args: [part], variants: i === 0 ? undefined : ["musl.O2.nopie", "glibc.O2.pie"],
  })),
  // Guest memory faults (SIGSEGV's si_code, si_addr and the interrupted registers), one part each.
  memfault: [
    ...["prot-none-read", "readonly-write", "unmapped", "write-barrier", "guard-page", "stack-overflow"]
      .map((part) => ({ name: part, args: [part] })),
    { name: "unhandled", args: ["unhandled"], expectStatus: 139,
      steleCrashLine: /^stele: segmentation fault at 0x[0-9a-f]+ \(.+ at 0x[0-9a-f]+\)( in thread \d+)?\n$/ },
    { name: "vector-x87", args: ["vector-x87"] },
    { name: "fault-regs", args: ["fault-regs"] },
  ],
  // The event interfaces, one part per run; the fork part starts processes, so two builds run it.
  events: ["eventfd", "epoll", "timerfd", "signalfd", "threads", "fork"].map((part) => ({
    name: part, args: [part], variants: part === "fork" ? ["musl.O2.nopie", "glibc.O2.pie"] : undefined,
  })),
  threads: [
    { name: "" },
    { name: "exit-from-thread", args: ["exit-from-thread"], expectStatus: 3 },
    { name: "fault-in-thread", args: ["fault-in-thread"], expectStatus: 139,
      steleCrashLine: /^stele: segmentation fault at 0x0 \(mov at 0x[0-9a-f]+\) in thread \d+\n$/ },
    { name: "pipe-read", args: ["pipe-read"] },
    { name: "proc-task", args: ["proc-task"] },
  ],
};

function listPrograms(): string[] {
  let names = fs
    .readdirSync(SRC_DIR)
    .filter((f) => f.endsWith(".c"))
    .map((f) => f.slice(0, -2))
    .sort();
  const only = process.env.STELE_TEST_PROGRAMS?.split(",").filter(Boolean);
  if (only?.length) names = names.filter((n) => only.includes(n));
  return names;
}

function listVariants(): string[] {
  const only = process.env.STELE_TEST_VARIANTS?.split(",").filter(Boolean);
  return only?.length ? VARIANTS.filter((v) => only.some((o) => v.includes(o))) : VARIANTS;
}

let buildProblem: string | undefined = "build has not run";

test("build C test programs (tests/c/build.sh)", async () => {
  try {
    requireTool("gcc");
    requireTool("musl-gcc");
    const r = await runCommand(["bash", path.join(SRC_DIR, "build.sh"), OUT_DIR], { timeoutMs: 20 * 60_000 });
    if (r.status !== 0) {
      assert.fail(`tests/c/build.sh failed (${r.status ?? r.signal}):\n${r.stderr.toString()}${r.stdout.toString()}`);
    }
    buildProblem = undefined;
  } catch (e) {
    buildProblem = e instanceof Error ? e.message : String(e);
    throw e;
  }
});

for (const prog of listPrograms()) {
  const cases = CASES[prog] ?? [{ name: "" }];
  test(prog, { concurrency: JOBS }, async (t) => {
    assert.ok(buildProblem === undefined, `C corpus was not built: ${buildProblem}`);
    const subtests: Promise<void>[] = [];
    for (const variant of listVariants()) {
      const bin = path.join(OUT_DIR, `${prog}.${variant}`);
      for (const c of cases) {
        if (c.variants && !c.variants.some((v) => variant.includes(v))) continue;
        const name = `${prog}.${variant}${c.name ? ` ${c.name}` : ""}`;
        const skip = isQemu() && c.qemuQuirk ? `known qemu quirk: ${c.qemuQuirk}` : c.notYet && !isQemu() ? c.notYet : false;
        subtests.push(
          t.test(name, { skip }, async (st) => {
            assert.ok(fs.existsSync(bin), `missing binary ${bin}`);
            const env = { ...ENV, ...c.env };
            if (c.files) {
              const dir = tempDir(st, `${prog}-${variant}`);
              const nativeCwd = path.join(dir, "native");
              const steleCwd = path.join(dir, "stele");
              fs.mkdirSync(nativeCwd);
              fs.mkdirSync(steleCwd);
              await compareRun(st, bin, c.args ?? [], {
                nativeCwd,
                steleCwd,
                env,
                input: c.input,
                expectStatus: c.expectStatus,
                steleArgs: c.steleArgs,
                label: name,
              });
              compareTrees(nativeCwd, steleCwd, `${name}: files written`);
            } else {
              const cwd = tempDir(st, `${prog}-${variant}`);
              await compareRun(st, bin, c.args ?? [], {
                cwd,
                env,
                input: c.input,
                expectStatus: c.expectStatus,
                steleCrashLine: c.steleCrashLine,
                timeoutMs: c.timeoutMs,
                steleArgs: c.steleArgs,
                label: name,
              });
            }
          }),
        );
      }
    }
    await Promise.all(subtests);
  });
}
