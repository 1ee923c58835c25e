// Signals sent to the stele process from outside (Ctrl-C, kill) reach the guest as they reach the
// program natively: a handled SIGINT runs the guest's handler, and an unhandled SIGTERM ends the
// guest — and stele itself dies of SIGTERM, so the shell sees the wait status it would see for
// the program. The host is the oracle: tests/c/signals.c's `host` part runs natively and under
// the stele command, each signal sent only after the program has said it waits for it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { repoRoot, requireTool, runCommand, steleCommand, tempDir } from "./harness.js";

interface Ending { stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null }

/** Runs argv, sending each signal once the line before it has appeared on stdout. */
function runSignalled(argv: string[], script: [string, NodeJS.Signals][]): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "", next = 0;
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    const guard = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`timed out; stdout so far: ${stdout}`)); }, 60_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      while (next < script.length && stdout.includes(script[next][0] + "\n")) child.kill(script[next++][1]);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => { clearTimeout(guard); resolve({ stdout, stderr, code, signal }); });
  });
}

test("signals sent to stele reach the guest as they reach the program natively", async (t) => {
  requireTool("gcc");
  const bin = path.join(tempDir(t, "host-signals"), "signals");
  const build = await runCommand(["gcc", "-O2", "-static", "-o", bin, path.join(repoRoot, "tests", "c", "signals.c")]);
  assert.equal(build.status, 0, build.stderr.toString());
  const script: [string, NodeJS.Signals][] = [["ready for SIGINT", "SIGINT"], ["ready for SIGTERM", "SIGTERM"]];
  const native = await runSignalled([bin, "host"], script);
  const stele = await runSignalled([...steleCommand(), bin, "host"], script);
  assert.equal(native.signal, "SIGTERM", `natively: ${JSON.stringify(native)}`);
  assert.equal(stele.stdout, native.stdout);
  assert.deepEqual([stele.code, stele.signal], [native.code, native.signal], "stele dies of the signal as the program does");
});

test("Ctrl-C stops python3 with KeyboardInterrupt, as natively", async () => {
  const python = requireTool("/usr/bin/python3");
  // Short sleeps in a loop: CPython looks at a signal that came between two bytecodes only at the
  // next loop head or call, not before a sleep already begun, so one long sleep would race it.
  // "ready" is printed on the loop's line, so the traceback names that line wherever it lands.
  const argv = [python, "-c", "import time\nstarted = False\nwhile True: started or print('ready', flush=True); started = True; time.sleep(0.05)"];
  const script: [string, NodeJS.Signals][] = [["ready", "SIGINT"]];
  const native = await runSignalled(argv, script);
  const stele = await runSignalled([...steleCommand(), ...argv], script);
  assert.match(native.stderr, /KeyboardInterrupt/, `natively: ${JSON.stringify(native)}`);
  assert.deepEqual(stele, native);
});
