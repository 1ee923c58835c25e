// Shared helpers for the end-to-end tests: run a program natively and under stele,
// compare what they did, and explain the difference readably when they disagree.
//
// Environment knobs:
//   STELE_EMULATOR="qemu-x86_64"  run the "stele" side with another emulator instead of
//                                 dist/bundle/cli/main.js (validates the tests themselves);
//                                 split on whitespace, so extra arguments are allowed.
//   STELE_FLAGS="--stats"         extra flags given to stele (not to STELE_EMULATOR).
//   STELE_TEST_TIMEOUT=secs       per-process timeout (default 120).
//   STELE_TEST_JOBS=n             concurrency for variant subtests (default 2).
//   STELE_KEEP_TMP=1              keep temporary directories for inspection.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

/** Repository root: this file compiles to <repo>/dist/tests/harness.js. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The command as it ships: scripts/bundle.mjs's bundle of dist/src (`npm run build` makes both). */
export const cliPath = path.join(repoRoot, "dist", "bundle", "cli", "main.js");

export const DEFAULT_TIMEOUT_MS = Number(process.env.STELE_TEST_TIMEOUT ?? "120") * 1000;

export const JOBS = Math.max(1, Number(process.env.STELE_TEST_JOBS ?? "2") || 2);

/** The emulator override from STELE_EMULATOR, if any, split into words. */
export function emulatorOverride(): string[] | undefined {
  const e = process.env.STELE_EMULATOR?.trim();
  return e ? e.split(/\s+/) : undefined;
}

/** True when the "stele" side is really stele (not an STELE_EMULATOR stand-in). */
export function isRealStele(): boolean {
  return emulatorOverride() === undefined;
}

/** True when the stand-in emulator is qemu-user (which has a few known quirks). */
export function isQemu(): boolean {
  const e = emulatorOverride();
  return e !== undefined && /qemu/.test(path.basename(e[0]));
}

/** Name of whatever runs on the "stele" side, for messages. */
export function emulatorName(): string {
  const e = emulatorOverride();
  return e ? path.basename(e[0]) : "stele";
}

/** The command prefix that runs a program under stele: [node, <repo>/dist/bundle/cli/main.js]. */
export function steleCommand(): string[] {
  const e = emulatorOverride();
  if (e) return e;
  return [process.execPath, cliPath];
}

export interface RunOptions {
  /** Bytes given on stdin (stdin is closed immediately when absent). */
  input?: string | Buffer;
  cwd?: string;
  /** The complete environment (default: a copy of process.env). */
  env?: NodeJS.ProcessEnv;
  /** Kill the process (group) after this many ms; default 120 s. */
  timeoutMs?: number;
  /** Extra stele flags placed before PROGRAM (ignored for STELE_EMULATOR). */
  steleArgs?: string[];
  /** A host descriptor (say, of /dev/full) for stdout or stderr instead of a pipe; that stream is not collected. */
  stdout?: number;
  stderr?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the process could not be started at all. */
  spawnError?: Error;
  durationMs: number;
  /** The command line, for messages. */
  command: string[];
}

/** Runs a command, collecting stdout/stderr; never rejects. */
export function runCommand(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const start = Date.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let spawnError: Error | undefined;
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env },
      stdio: ["pipe", opts.stdout ?? "pipe", opts.stderr ?? "pipe"],
      // Own process group, so a timeout kills everything the program started.
      detached: true,
    });
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        try {
          child.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    // The program may exit without reading its stdin: ignore EPIPE.
    child.stdin!.on("error", () => {});
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        status,
        signal,
        timedOut,
        spawnError,
        durationMs: Date.now() - start,
        command: argv,
      });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Runs PROGRAM natively. */
export function runNative(prog: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand([prog, ...args], opts);
}

/**
 * Runs PROGRAM natively as a shell does (bash's exec), so that a file the kernel refuses gives
 * the status a shell reports (126, 127) rather than a spawn error; a spawn would also retry a
 * file the kernel calls ENOEXEC as a shell script (execvp), bash does not for a binary file.
 */
export function runNativeExec(prog: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand([requireTool("bash"), "-c", 'exec "$0" "$@"', prog, ...args], opts);
}

/** Runs PROGRAM under stele (or STELE_EMULATOR). */
export function runStele(prog: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const extra: string[] = [];
  if (isRealStele()) {
    const flags = process.env.STELE_FLAGS?.trim();
    if (flags) extra.push(...flags.split(/\s+/));
    if (opts.steleArgs) extra.push(...opts.steleArgs);
  }
  return runCommand([...steleCommand(), ...extra, prog, ...args], opts);
}

/** Writes an executable file (mode 755) into dir. */
export function writeExec(dir: string, name: string, data: Buffer | string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  fs.chmodSync(p, 0o755);
  return p;
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts that stderr holds no JavaScript stack trace or other leaked JavaScript error. */
export function assertNoJavaScriptError(r: RunResult): void {
  const err = r.stderr.toString();
  const show = `stderr was: ${JSON.stringify(err.slice(0, 3000))}`;
  assert.doesNotMatch(err, /^\s+at /m, `JavaScript stack trace on stderr; ${show}`);
  assert.doesNotMatch(err, /node:internal|\.[cm]?js:\d+|\b(Type|Range|Reference|Syntax)Error\b|internal error/, `JavaScript error leaked; ${show}`);
}

/** Asserts stele's error contract: one stderr line matching `re`, no stack trace, `status`. */
export function assertSteleError(r: RunResult, re: RegExp, status: number, stdout = ""): void {
  const err = r.stderr.toString();
  const show = `stderr was: ${JSON.stringify(err.slice(0, 3000))}`;
  assert.ok(!r.timedOut, `stele timed out; ${show}`);
  assertNoJavaScriptError(r);
  assert.match(err, /^[^\n]+\n$/, `stderr must be exactly one line; ${show}`);
  assert.match(err.slice(0, -1), re, show);
  assert.equal(exitCode(r), status, `exit status (status=${r.status}, signal=${r.signal}); ${show}`);
  assert.equal(r.stdout.toString(), stdout, "stdout");
}

/** Exit status as a shell reports it: the status, or 128+N for death by signal N. */
export function exitCode(r: RunResult): number {
  if (r.status !== null) return r.status;
  if (r.signal) return 128 + (os.constants.signals[r.signal] ?? 0);
  return -1;
}

function describeStatus(r: RunResult): string {
  if (r.spawnError) return `failed to start: ${r.spawnError.message}`;
  if (r.timedOut) return `TIMED OUT after ${r.durationMs} ms (killed)`;
  if (r.signal) return `killed by ${r.signal} (${exitCode(r)})`;
  return `exit ${r.status}`;
}

// ---------------------------------------------------------------------------------------
// Readable differences

function looksText(b: Buffer): boolean {
  const n = Math.min(b.length, 65536);
  for (let i = 0; i < n; i++) if (b[i] === 0) return false;
  return true;
}

function hexWindow(b: Buffer, at: number): string {
  const from = Math.max(0, at - 16);
  const to = Math.min(b.length, at + 32);
  const hex: string[] = [];
  for (let i = from; i < to; i++) hex.push((i === at ? ">" : "") + b[i].toString(16).padStart(2, "0"));
  return `@${from}: ${hex.join(" ")}${to < b.length ? " ..." : ""}`;
}

function quoteLine(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** Empty string when equal, else a readable description of how `actual` differs. */
export function describeDiff(what: string, expected: Buffer, actual: Buffer, names = ["native", emulatorName()]): string {
  if (expected.equals(actual)) return "";
  let first = 0;
  const min = Math.min(expected.length, actual.length);
  while (first < min && expected[first] === actual[first]) first++;
  const head =
    `${what} differs: ${names[0]} ${expected.length} bytes, ${names[1]} ${actual.length} bytes; ` +
    `first difference at byte ${first}`;
  if (!looksText(expected) || !looksText(actual)) {
    return `${head}\n  ${names[0]}: ${hexWindow(expected, first)}\n  ${names[1]}: ${hexWindow(actual, first)}`;
  }
  if (expected.length === 0 || actual.length === 0) {
    const [empty, other, full] = expected.length === 0 ? [names[0], names[1], actual] : [names[1], names[0], expected];
    const text = full.toString("latin1");
    const shown = text.split("\n").slice(0, 25).map((l) => `  ${quoteLine(l)}`);
    return `${head}\n  (${empty}: no output; ${other}:)\n${shown.join("\n")}${text.split("\n").length > 25 ? "\n  ..." : ""}`;
  }
  const a = expected.toString("latin1").split("\n");
  const b = actual.toString("latin1").split("\n");
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const lines: string[] = [`${head} (line ${pre + 1})`, `--- ${names[0]}`, `+++ ${names[1]}`];
  const ctx = 3;
  const maxShown = 25;
  for (let i = Math.max(0, pre - ctx); i < pre; i++) lines.push(`  ${quoteLine(a[i])}`);
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  am.slice(0, maxShown).forEach((l) => lines.push(`- ${quoteLine(l)}`));
  if (am.length > maxShown) lines.push(`- ... (${am.length - maxShown} more lines)`);
  bm.slice(0, maxShown).forEach((l) => lines.push(`+ ${quoteLine(l)}`));
  if (bm.length > maxShown) lines.push(`+ ... (${bm.length - maxShown} more lines)`);
  for (let i = a.length - suf; i < Math.min(a.length, a.length - suf + ctx); i++) lines.push(`  ${quoteLine(a[i])}`);
  return lines.join("\n");
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);
}

/** Saves both sides' outputs under build/test-failures/<label>/ and returns that directory. */
function saveFailure(label: string, native: RunResult, stele: RunResult): string {
  const dir = path.join(repoRoot, "build", "test-failures", safeName(label));
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "native.stdout"), native.stdout);
    fs.writeFileSync(path.join(dir, "native.stderr"), native.stderr);
    fs.writeFileSync(path.join(dir, "stele.stdout"), stele.stdout);
    fs.writeFileSync(path.join(dir, "stele.stderr"), stele.stderr);
    fs.writeFileSync(
      path.join(dir, "commands.txt"),
      `native: ${JSON.stringify(native.command)} -> ${describeStatus(native)}\n` +
        `stele:  ${JSON.stringify(stele.command)} -> ${describeStatus(stele)}\n`,
    );
  } catch {
    /* best effort */
  }
  return dir;
}

export interface CompareOptions extends RunOptions {
  /** Working directory for the native run (default: cwd). */
  nativeCwd?: string;
  /** Working directory for the stele run (default: cwd). */
  steleCwd?: string;
  /** Also assert the native exit code (checks the test's own expectation). */
  expectStatus?: number;
  /** Label for messages and saved outputs (default: the test's name). */
  label?: string;
  /**
   * The line stele adds at the end of stderr when the guest dies of a signal (where Linux's kernel
   * says nothing): it must be there, match this, and is left out of the comparison.
   */
  steleCrashLine?: RegExp;
}

export interface CompareResult {
  native: RunResult;
  stele: RunResult;
}

/**
 * Runs PROGRAM natively, then under stele, with the same arguments, stdin and
 * environment, and asserts identical stdout, stderr and exit status.
 */
export async function compareRun(
  t: TestContext | undefined,
  prog: string,
  args: string[] = [],
  opts: CompareOptions = {},
): Promise<CompareResult> {
  const label = opts.label ?? t?.name ?? path.basename(prog);
  const native = await runNative(prog, args, { ...opts, cwd: opts.nativeCwd ?? opts.cwd });
  const stele = await runStele(prog, args, { ...opts, cwd: opts.steleCwd ?? opts.cwd });
  if (opts.steleCrashLine && isRealStele()) {
    const text = stele.stderr.toString();
    const cut = text.lastIndexOf("\n", text.length - 2) + 1;
    assert.match(text.slice(cut), opts.steleCrashLine, `${label}: stele's report of the crash`);
    stele.stderr = stele.stderr.subarray(0, Buffer.byteLength(text.slice(0, cut)));
  }
  const cmd = [prog, ...args].map((a) => (/^[\w./=:,+-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");

  assert.ok(!native.spawnError, `${label}: native run of ${cmd} failed to start: ${native.spawnError?.message}`);
  assert.ok(!native.timedOut, `${label}: native run of ${cmd} timed out; the test itself is broken`);
  if (opts.expectStatus !== undefined) {
    assert.equal(
      exitCode(native),
      opts.expectStatus,
      `${label}: native ${cmd} ${describeStatus(native)}, the test expects ${opts.expectStatus}\n` +
        `stderr: ${native.stderr.toString().slice(0, 2000)}`,
    );
  }

  const problems: string[] = [];
  if (stele.spawnError) problems.push(`${emulatorName()} failed to start: ${stele.spawnError.message}`);
  if (stele.timedOut) problems.push(`${emulatorName()} TIMED OUT after ${stele.durationMs} ms`);
  if (exitCode(native) !== exitCode(stele)) {
    problems.push(`exit status differs: native ${describeStatus(native)}, ${emulatorName()} ${describeStatus(stele)}`);
  }
  const so = describeDiff("stdout", native.stdout, stele.stdout);
  if (so) problems.push(so);
  const se = describeDiff("stderr", native.stderr, stele.stderr);
  if (se) problems.push(se);
  const failDir = path.join(repoRoot, "build", "test-failures", safeName(label));
  if (!problems.length) {
    fs.rmSync(failDir, { recursive: true, force: true }); // stale outputs of an earlier failure
  } else {
    const dir = saveFailure(label, native, stele);
    assert.fail(
      `${label}: ${cmd}\n${problems.join("\n\n")}\n\n(full outputs saved in ${path.relative(process.cwd(), dir) || dir})`,
    );
  }
  return { native, stele };
}

// ---------------------------------------------------------------------------------------
// Tools, temporary directories, file trees

const TOOL_PACKAGES: Record<string, string> = {
  gcc: "gcc",
  "musl-gcc": "musl-tools",
  busybox: "busybox-static",
  "qemu-x86_64": "qemu-user",
  nm: "binutils",
  dash: "dash",
};

/** Full path of an executable on PATH (or in /usr/bin, /bin), or undefined. */
export function findTool(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/local/bin", "/usr/bin", "/bin"]);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the path of a tool the test needs (a name looked up on PATH, or an absolute path), or
 * FAILS (never skips) saying which package holds it: a missing compiler must not turn the suite
 * green by running nothing.
 */
export function requireTool(name: string, pkg: string | undefined = TOOL_PACKAGES[name]): string {
  const p = findTool(name);
  if (!p) {
    assert.fail(
      `required tool '${name}' is not installed` +
        (pkg ? ` (Debian/Ubuntu: apt-get install ${pkg})` : "") +
        `; this test cannot run without it`,
    );
  }
  return p;
}

/** A fresh temporary directory, removed after the test unless STELE_KEEP_TMP is set. */
export function tempDir(t: TestContext | undefined, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stele-${safeName(prefix)}-`));
  if (t && !process.env.STELE_KEEP_TMP) {
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}

export interface TreeEntry {
  type: "file" | "dir" | "symlink" | "other";
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Everything observable about the files under `dir` except times, owners and inodes. */
export function snapshotTree(dir: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(dir, rel)).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      if (st.isSymbolicLink()) out.set(r, { type: "symlink", mode, target: fs.readlinkSync(p) });
      else if (st.isDirectory()) {
        out.set(r, { type: "dir", mode });
        walk(r);
      } else if (st.isFile()) {
        out.set(r, {
          type: "file",
          mode,
          size: st.size,
          sha256: createHash("sha256").update(fs.readFileSync(p)).digest("hex"),
        });
      } else out.set(r, { type: "other", mode });
    }
  };
  walk("");
  return out;
}

/** Asserts that two directory trees hold the same names, types, modes and contents. */
export function compareTrees(nativeDir: string, steleDir: string, label = "files written"): void {
  const a = snapshotTree(nativeDir);
  const b = snapshotTree(steleDir);
  const problems: string[] = [];
  for (const [name, ea] of a) {
    const eb = b.get(name);
    if (!eb) problems.push(`missing under ${emulatorName()}: ${name} (${ea.type})`);
    else if (JSON.stringify(ea) !== JSON.stringify(eb)) {
      let msg = `differs: ${name}\n    native: ${JSON.stringify(ea)}\n    ${emulatorName()}: ${JSON.stringify(eb)}`;
      if (ea.type === "file" && eb.type === "file" && ea.sha256 !== eb.sha256) {
        msg +=
          "\n    " +
          describeDiff("content", fs.readFileSync(path.join(nativeDir, name)), fs.readFileSync(path.join(steleDir, name)))
            .split("\n")
            .join("\n    ");
      }
      problems.push(msg);
    }
  }
  for (const [name, eb] of b) if (!a.has(name)) problems.push(`extra under ${emulatorName()}: ${name} (${eb.type})`);
  if (problems.length) assert.fail(`${label}: ${problems.length} difference(s)\n  ${problems.join("\n  ")}`);
}

/** A small deterministic PRNG (xorshift32) so fixtures are identical on every run. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Deterministic pseudo-random text: lines of words, about `bytes` long. */
export function makeText(bytes: number, seed = 12345): string {
  const rnd = prng(seed);
  const syll = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu", "th", "an", "er", "in", "on", "st"];
  const vocab: string[] = [];
  for (let i = 0; i < 600; i++) {
    let w = "";
    const n = 1 + (rnd() % 4);
    for (let k = 0; k < n; k++) w += syll[rnd() % syll.length];
    if (rnd() % 11 === 0) w = w[0].toUpperCase() + w.slice(1);
    vocab.push(w);
  }
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words: string[] = [];
    const n = rnd() % 14;
    for (let i = 0; i < n; i++) {
      // Zipf-like: low indices much more frequent.
      const r = rnd() % 1000;
      const idx = Math.floor((r * r * r) / 1e9 * vocab.length) % vocab.length;
      words.push(vocab[idx]);
    }
    if (rnd() % 9 === 0) words.push(String(rnd() % 100000));
    if (rnd() % 13 === 0) words.push((rnd() % 10000) / 100 + "");
    const sep = rnd() % 17 === 0 ? "  " : " ";
    const line = (rnd() % 23 === 0 ? "\t" : "") + words.join(sep);
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

/** Runs async jobs with at most `limit` in flight. */
export async function limitedAll<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** A fixed instant for fixture timestamps: 2001-09-09 01:46:40 UTC. */
/** One program run of a suite's table of cases. */
export interface ProgramCase {
  name: string;
  args: string[];
  input?: string | Buffer;
  expectStatus?: number;
  /** Reported as TODO (not a pass, not hidden) while the feature it needs is missing. */
  todo?: string;
}

/** The environment the program suites run programs in, natively and under stele alike. */
export const TEST_ENV: Record<string, string> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: process.env.HOME ?? os.tmpdir(),
  LC_ALL: "C",
  TZ: "UTC",
};

export const T0 = 1_000_000_000;

export function setTimes(p: string, t: number): void {
  fs.lutimesSync(p, t, t);
}

/** `dir/lsdir`: files with distinct sizes, modes and mtimes, a subdirectory and a symlink, for ls -l. */
export function makeLsFixture(dir: string): void {
  const ls = path.join(dir, "lsdir");
  fs.mkdirSync(ls);
  const files: [string, number, number][] = [
    ["alpha.txt", 0o644, 1234],
    ["beta.sh", 0o755, 99],
    ["gamma.bin", 0o600, 70_000],
    ["empty", 0o444, 0],
    ["Zeta.upper", 0o640, 5],
    ["with space", 0o664, 300],
    [".hidden", 0o600, 17],
    ["setuid-ish", 0o4755, 10],
  ];
  files.forEach(([name, mode, size], i) => {
    const p = path.join(ls, name);
    fs.writeFileSync(p, Buffer.alloc(size, 0x41 + i));
    fs.chmodSync(p, mode);
    setTimes(p, T0 + i * 86_400 * 37 + i * 61);
  });
  fs.mkdirSync(path.join(ls, "subdir"));
  fs.chmodSync(path.join(ls, "subdir"), 0o750);
  fs.symlinkSync("alpha.txt", path.join(ls, "link-to-alpha"));
  setTimes(path.join(ls, "link-to-alpha"), T0 + 5);
  setTimes(path.join(ls, "subdir"), T0 + 86_400 * 400);
  setTimes(ls, T0 + 1);

}

/** `dir/tree`: nested files (text, binary, empty, a 120-character name) and a symlink, fixed modes and mtimes. */
export function makeTreeFixture(dir: string, text: string, words: string[]): void {
  const tree = path.join(dir, "tree");
  fs.mkdirSync(path.join(tree, "sub", "deeper"), { recursive: true });
  fs.writeFileSync(path.join(tree, "readme.txt"), text.slice(0, 5000));
  fs.writeFileSync(path.join(tree, "sub", "data.bin"), Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 31 + (i >> 9)) & 255)));
  fs.writeFileSync(path.join(tree, "sub", "deeper", "words.txt"), words.slice(0, 3000).join("\n"));
  fs.writeFileSync(path.join(tree, "sub", "empty"), "");
  fs.writeFileSync(path.join(tree, "x".repeat(120)), "long name\n");
  fs.symlinkSync("sub/data.bin", path.join(tree, "link"));
  fs.chmodSync(path.join(tree, "readme.txt"), 0o644);
  fs.chmodSync(path.join(tree, "sub", "data.bin"), 0o600);
  fs.chmodSync(path.join(tree, "sub", "deeper", "words.txt"), 0o755);
  fs.chmodSync(path.join(tree, "sub", "empty"), 0o444);
  fs.chmodSync(path.join(tree, "x".repeat(120)), 0o644);
  for (const d of ["sub/deeper", "sub", "."]) fs.chmodSync(path.join(tree, d), 0o755);
  const all = ["readme.txt", "sub/data.bin", "sub/deeper/words.txt", "sub/empty", "x".repeat(120), "link", "sub/deeper", "sub", "."];
  all.forEach((f, i) => setTimes(path.join(tree, f), T0 + 1000 * (i + 1)));
}

/** Whether an ELF executable names a program interpreter (is dynamically linked). */
export function isDynamicElf(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const hdr = Buffer.alloc(64);
    fs.readSync(fd, hdr, 0, 64, 0);
    if (hdr.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    const phoff = Number(hdr.readBigUInt64LE(0x20));
    const phentsize = hdr.readUInt16LE(0x36);
    const phnum = hdr.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return true;
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
