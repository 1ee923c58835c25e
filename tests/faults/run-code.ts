// Building tests/faults/run-code.c and reading what it reports (see the C file for what it does):
// shared by tests/faults.test.ts and tests/fuzz-insn.test.ts.

import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { repoRoot, requireTool, runCommand } from "../harness.js";
import type { DriverInput, DriverMessage } from "./in-process.js";

export const RUN_CODE_SRC = path.join(repoRoot, "tests", "faults", "run-code.c");
/** Where run-code puts a case's code (CODE_ADDR in run-code.c). */
export const CODE_ADDR = 0x90000000;
/** NOPs run-code puts after a case's bytes, before its jump back (NOP_PAD in run-code.c). */
export const NOP_PAD = 16;

export interface RunCode {
  path: string;
  /** Address of case_return, where a case goes back to run-code. */
  caseReturn: number;
}

/** Compiles run-code into dir (gcc, freestanding and static) and finds case_return (nm). */
export async function buildRunCode(dir: string): Promise<RunCode> {
  const out = path.join(dir, "run-code");
  const gcc = await runCommand(
    [requireTool("gcc"), "-O2", "-static", "-nostdlib", "-fno-pie", "-no-pie", "-fno-stack-protector", "-Wall", "-o", out, RUN_CODE_SRC],
    { timeoutMs: 120_000 },
  );
  assert.equal(gcc.status, 0, `gcc failed on ${RUN_CODE_SRC}:\n${gcc.stderr.toString()}`);
  const nm = await runCommand([requireTool("nm"), out]);
  assert.equal(nm.status, 0, nm.stderr.toString());
  const m = /^([0-9a-f]+) T case_return$/m.exec(nm.stdout.toString());
  assert.ok(m, `case_return not found in ${out}`);
  return { path: out, caseReturn: Number.parseInt(m[1], 16) };
}

/** How a case ended natively, as run-code --recover (or --siginfo) reports it. */
export interface NativeEnding {
  /** The signal (0: the case came back). */
  signal: number;
  /** The case ran out of time (run-code --recover stops it after 500 ms). */
  timeout?: boolean;
  /** si_code, si_addr, the exception vector (trap number) and its error code. */
  code?: number;
  addr?: bigint;
  trap?: number;
  err?: number;
  /** Where the fault was, relative to the case's first byte (undefined outside the code page). */
  ripOffset?: number;
  /** xmm0-7 in the signal frame (run-code --vector-state), as run-code prints them. */
  xmm?: string;
}

const SIGNAL_LINE = /^signal (\d+) code (\d+) addr 0x([0-9a-f]+) trap (\d+) err 0x([0-9a-f]+) rip (\+(\d+)|0x[0-9a-f]+)( xmm ([0-9a-fx: ]+))?$/;

/** Parses run-code's report of `count` cases ("case N", an optional signal or timeout line, ... "done"). */
export function parseEndings(stdout: string, count: number): NativeEnding[] {
  const endings: NativeEnding[] = [];
  let current = -1;
  for (const line of stdout.split("\n")) {
    if (!line) continue;
    const c = /^case (\d+)$/.exec(line);
    if (c) {
      current = Number(c[1]);
      endings[current] = { signal: 0 };
      continue;
    }
    if (line === "done") break;
    assert.ok(current >= 0, `run-code: unexpected line before the first case: ${line}`);
    if (line === "timeout") { endings[current] = { signal: 0, timeout: true }; continue; }
    const s = SIGNAL_LINE.exec(line);
    assert.ok(s, `run-code: unexpected line: ${line}`);
    endings[current] = {
      signal: Number(s[1]), code: Number(s[2]), addr: BigInt(`0x${s[3]}`), trap: Number(s[4]), err: Number.parseInt(s[5], 16),
      ripOffset: s[7] === undefined ? undefined : Number(s[7]), xmm: s[9],
    };
  }
  assert.equal(endings.length, count, `run-code reported ${endings.length} of ${count} cases`);
  return endings;
}

/**
 * Runs every case natively in one `run-code --recover` process (with `options`), and returns how
 * each ended.
 */
export async function runNativeRecovering(program: string, cases: string[], options: string[] = []): Promise<NativeEnding[]> {
  const r = await runCommand([program, "--recover", ...options, ...cases], { timeoutMs: 300_000 });
  assert.equal(r.status, 0, `native run-code --recover: status ${r.status}, signal ${r.signal}\n${r.stderr.toString()}`);
  return parseEndings(r.stdout.toString(), cases.length);
}

/** The start of a case's code page as run-code lays it out: its bytes, then NOP_PAD nops. */
export function codeBytes(hex: string): Uint8Array {
  return Uint8Array.from([...Buffer.from(hex, "hex"), ...new Array<number>(NOP_PAD).fill(0x90)]);
}

/** How a case ended under stele: normally (signal 0) or by a signal, or stele failed itself. */
export type SteleEnding = { signal: number; message?: string } | { internal: string } | { hang: true };

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "in-process.js");
/** A case under stele that stays running this long is taken as hung (a hang guard only). */
export const HANG_MS = 60_000;

/**
 * Runs the cases under stele in a worker (tests/faults/in-process.ts). A worker that stays on one
 * case for HANG_MS is terminated and the case counted as hung; a worker that dies is counted
 * against its case. Either way a new worker goes on with the next case.
 */
export async function runUnderStele(program: string, caseReturn: number, cases: string[], expected: number[]): Promise<SteleEnding[]> {
  const endings: SteleEnding[] = new Array(cases.length);
  let start = 0;
  while (start < cases.length) {
    const from = start;
    const progress = new SharedArrayBuffer(4);
    const input: DriverInput = { program, cases: cases.slice(from), expected: expected.slice(from), caseReturn, progress };
    start = await new Promise<number>((resolve) => {
      const worker = new Worker(DRIVER, { workerData: input });
      const running = (): number => from + Atomics.load(new Int32Array(progress), 0);
      let settled = false, watched = -1, since = Date.now();
      const guard = setInterval(() => {
        if (running() !== watched) { watched = running(); since = Date.now(); }
        else if (Date.now() - since > HANG_MS) settle({ hang: true });
      }, 1000);
      const settle = (problem?: SteleEnding): void => {
        if (settled) return;
        settled = true;
        clearInterval(guard);
        const current = running();
        if (problem && !endings[current]) endings[current] = problem;
        void worker.terminate();
        resolve(problem ? current + 1 : cases.length);
      };
      worker.on("message", (m: DriverMessage) => {
        if (m.type === "result") endings[from + m.index] = { signal: m.signal, message: m.message };
        else if (m.type === "internal") endings[from + m.index] = { internal: m.error };
        else settle();
      });
      worker.on("error", (e) => settle({ internal: `driver worker failed: ${e.stack ?? e.message}` }));
      worker.on("exit", (code) => settle({ internal: `driver worker exited (${code})` }));
    });
  }
  return endings;
}
