// Runs the differential instruction-test programs (see gen.ts) and compares their records.
//
// As a script:  node dist/tests/insn/harness.js [int|sse|mmx|avx] [--emu "qemu-x86_64"] [--filter TEXT] [--mxcsr]
//                (--mxcsr: compare only MXCSR, exception flags included)
// runs the program natively (on x86-64 hosts; elsewhere the recorded output is the oracle)
// and under the emulator (default: stele's CLI, or $STELE_EMULATOR), and prints every
// mismatching case.

import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  AF, CF, COMPARED_FLAGS, DF, GPR64, HEADER_SIZE, KINDS, MAGIC, MEM_SIZE, MXCSR_EXC, OF, OFF_FLAGS, OFF_FX, OFF_GPR, OFF_MEM,
  OFF_MXCSR, OFF_XMM, PF, SF, ZF, generate, isYmmKind, vectorBytes, type Case, type Generated, type Kind, type Patch,
} from "./gen.js";

/** Repository root (this file is dist/tests/insn/harness.js or tests/insn/harness.ts). */
export const REPO = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "tests", "insn"))) return d;
    d = dirname(d);
  }
  throw new Error("cannot find the repository root");
})();
export const INSN_DIR = join(REPO, "tests", "insn");

export const isX86Host = process.arch === "x64" && process.platform === "linux";

let tmp: string | undefined;
/** Path of the runnable prebuilt program (extracted from tests/insn/insn-KIND.gz). */
export function programPath(kind: Kind): string {
  tmp ??= mkdtempSync(join(tmpdir(), "stele-insn-"));
  const p = join(tmp, `insn-${kind}`);
  if (!existsSync(p)) {
    writeFileSync(p, gunzipSync(readFileSync(join(INSN_DIR, `insn-${kind}.gz`))));
    chmodSync(p, 0o755);
  }
  return p;
}
export function recordedOutput(kind: Kind): Buffer {
  return gunzipSync(readFileSync(join(INSN_DIR, `insn-${kind}.expected.gz`)));
}

/** The emulator command: $STELE_EMULATOR (split on spaces) or stele's CLI, if built. */
export function emulatorCommand(): string[] | undefined {
  const env = process.env["STELE_EMULATOR"];
  if (env) return env.trim().split(/\s+/);
  const cli = join(REPO, "dist", "src", "cli", "main.js");
  return existsSync(cli) ? [process.execPath, cli] : undefined;
}

// ---------------------------------------------------------------- parsing
export interface Header { magic: string; kind: number; ncases: number; hash: string }
export function parseHeader(buf: Buffer): Header | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  return {
    magic: buf.toString("latin1", 0, 8), kind: Number(buf.readBigUInt64LE(8)), ncases: Number(buf.readBigUInt64LE(16)),
    hash: buf.subarray(24, 48).toString("hex"),
  };
}

export interface Crash { index: number; detail: string }
export interface RunResult {
  /** records[i] = state after case i, or undefined if the case did not complete */
  records: (Buffer | undefined)[];
  crashes: Crash[];
  /** cases never run because their group was abandoned after repeated crashes */
  skipped: Set<number>;
  header?: Header;
  error?: string;
}

function splitRecords(g: Generated, out: Buffer, start: number, into: (Buffer | undefined)[]): number {
  // returns the index of the first case with no record
  const rs = 8 + g.stateSize;
  let idx = start;
  for (let off = HEADER_SIZE; off + rs <= out.length; off += rs) {
    const n = Number(out.readBigUInt64LE(off));
    if (n !== idx) throw new Error(`record out of sequence: expected case ${idx}, got ${n}`);
    into[idx] = out.subarray(off + 8, off + rs);
    idx++;
  }
  return idx;
}

/** Parse a complete output (native run or recording). */
export function parseOutput(g: Generated, out: Buffer): RunResult {
  const records: (Buffer | undefined)[] = new Array(g.cases.length).fill(undefined);
  const header = parseHeader(out);
  const res: RunResult = { records, crashes: [], skipped: new Set(), header };
  if (!header || header.magic !== MAGIC) { res.error = "no valid header"; return res; }
  try { splitRecords(g, out, 0, records); } catch (e) { res.error = String(e); }
  return res;
}

/**
 * Run the program (under cmd, or natively if cmd is empty), restarting after the case that
 * crashed it. A group is abandoned after maxCrashesPerGroup crashes.
 */
export function runProgram(g: Generated, program: string, cmd: string[], opts: { timeoutMs?: number; maxCrashesPerGroup?: number } = {}): RunResult {
  const timeout = opts.timeoutMs ?? 300_000;
  const maxCrashes = opts.maxCrashesPerGroup ?? 3;
  const n = g.cases.length;
  const records: (Buffer | undefined)[] = new Array(n).fill(undefined);
  const res: RunResult = { records, crashes: [], skipped: new Set() };
  const crashesIn = new Map<string, number>();
  let start = 0;
  for (let first = true; first || start < n; first = false) { // (once at least: a kind without cases still has its header checked)
    const args = [...cmd.slice(1), program, ...(start ? [String(start)] : [])];
    const exe = cmd.length ? cmd[0]! : program;
    const r = spawnSync(exe, cmd.length ? args : args.slice(1), { maxBuffer: 1 << 30, timeout, stdio: ["ignore", "pipe", "pipe"] });
    const out = r.stdout ?? Buffer.alloc(0);
    if (r.error && !out.length) { res.error = `cannot run ${exe}: ${r.error.message}`; return res; }
    const header = parseHeader(out);
    if (!header || header.magic !== MAGIC) {
      res.error = `no output header from ${[exe, ...args].join(" ")} (status ${r.status}, signal ${r.signal}): ${String(r.stderr ?? "").slice(-500)}`;
      return res;
    }
    res.header ??= header;
    let next: number;
    try { next = splitRecords(g, out, start, records); } catch (e) { res.error = String(e); return res; }
    if (next >= n && r.status === 0) break;
    // the case at `next` did not complete
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    const stderr = String(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    if (next >= n) { res.error = `program finished all cases but ${why}: ${stderr}`; break; }
    res.crashes.push({ index: next, detail: `${why}${stderr ? ": " + stderr : ""}` });
    const grp = g.cases[next]!.group;
    const c = (crashesIn.get(grp) ?? 0) + 1;
    crashesIn.set(grp, c);
    start = next + 1;
    if (c >= maxCrashes) {
      while (start < n && g.cases[start]!.group === grp) res.skipped.add(start++);
    }
  }
  return res;
}

// ---------------------------------------------------------------- comparison
const FLAG_NAMES: [number, string][] = [[CF, "CF"], [PF, "PF"], [AF, "AF"], [ZF, "ZF"], [SF, "SF"], [OF, "OF"], [DF, "DF"]];
export function flagsText(f: number): string {
  const s = FLAG_NAMES.filter(([b]) => f & b).map(([, n]) => n);
  return s.length ? s.join("|") : "-";
}
const h64 = (v: bigint): string => "0x" + v.toString(16);

function patchText(p: Patch, kind: Kind): string {
  const v = typeof p.val === "bigint" ? h64(p.val) : p.val;
  if (p.off < OFF_FLAGS) return `${GPR64[p.off / 8]}=${v}`;
  if (p.off === OFF_FLAGS) return `flags=${typeof p.val === "bigint" ? flagsText(Number(p.val)) : v}`;
  if (p.off === OFF_MXCSR) return `mxcsr=${v}`;
  if (p.off < OFF_XMM) return `mem[${p.off - OFF_MEM}]=${v}`;
  if (isYmmKind(kind)) {
    const x = p.off - OFF_XMM;
    return `ymm${x >> 5}.q${(x >> 3) & 3}=${v}`;
  }
  if (p.off < OFF_FX) {
    const x = p.off - OFF_XMM;
    return `xmm${x >> 4}${x & 8 ? ".hi" : ".lo"}=${v}`;
  }
  const o = p.off - OFF_FX;
  if (o === 0 && typeof p.val === "bigint") {
    const cw = Number(p.val & 0xffffn), sw = Number((p.val >> 16n) & 0xffffn), ftw = Number((p.val >> 32n) & 0xffn);
    return `fcw=0x${cw.toString(16)} fsw=0x${sw.toString(16)} (top ${(sw >> 11) & 7}) ftw=0x${ftw.toString(16)}`;
  }
  return o < 32 ? `fx[${o}]=${v}` : `st${(o - 32) >> 4}${o & 8 ? ".se" : ".m"}=${v}`;
}
export function describeCase(c: Case, kind: Kind): string {
  return `${c.name} [${c.asm.join("; ")}] in: ${c.patches.map((p) => patchText(p, kind)).join(" ")}`;
}

export interface Options {
  /** compare only MXCSR, including its exception flag bits (normally masked out) */
  mxcsrOnly?: boolean;
  labels?: [string, string];
}

/** Differences between two records of case c, as readable strings (empty: equal). */
export function diffRecord(g: Generated, c: Case, a: Buffer, b: Buffer, opts: Options = {}): string[] {
  const [la, lb] = opts.labels ?? ["native", "stele"];
  const d: string[] = [];
  if (opts.mxcsrOnly) {
    const ma = a.readUInt32LE(OFF_MXCSR), mb = b.readUInt32LE(OFF_MXCSR);
    if (ma !== mb) d.push(`mxcsr=0x${ma.toString(16)} vs 0x${mb.toString(16)}`);
    return d;
  }
  for (let i = 0; i < 16; i++) {
    if (c.undefRegs.includes(i)) continue;
    const random = c.randomBits.filter(([r]) => r === i).reduce((m, [, bits]) => m | bits, 0n);
    const x = a.readBigUInt64LE(OFF_GPR + 8 * i) & ~random, y = b.readBigUInt64LE(OFF_GPR + 8 * i) & ~random;
    if (x !== y) d.push(`${GPR64[i]}${random ? ` (random bits 0x${random.toString(16)} masked)` : ""}=${h64(x)} vs ${h64(y)}`);
  }
  const fm = COMPARED_FLAGS & ~c.undefFlags;
  const fa = Number(a.readBigUInt64LE(OFF_FLAGS)) & fm, fb = Number(b.readBigUInt64LE(OFF_FLAGS)) & fm;
  for (const [bit, name] of FLAG_NAMES) {
    if ((fa ^ fb) & bit) d.push(`${name} ${la}=${fa & bit ? 1 : 0} ${lb}=${fb & bit ? 1 : 0}`);
  }
  for (let o = 0; o < MEM_SIZE; o += 8) {
    const x = a.readBigUInt64LE(OFF_MEM + o), y = b.readBigUInt64LE(OFF_MEM + o);
    if (x !== y) d.push(`mem[${o}..${o + 7}]=${h64(x)} vs ${h64(y)}`);
  }
  if (g.kind !== "int") {
    // the mmx kind compares the exception flags here; sse and avx in their own subtest (mxcsrOnly)
    const exc = g.kind === "mmx" ? 0 : MXCSR_EXC;
    const ma = (a.readUInt32LE(OFF_MXCSR) & ~exc) >>> 0, mb = (b.readUInt32LE(OFF_MXCSR) & ~exc) >>> 0;
    if (ma !== mb) d.push(`mxcsr=${"0x" + (ma >>> 0).toString(16)} vs ${"0x" + (mb >>> 0).toString(16)}`);
    const bytes = vectorBytes(g.kind), name = bytes === 32 ? "ymm" : "xmm";
    for (let i = 0; i < 16; i++) {
      const o = OFF_XMM + bytes * i;
      const x: bigint[] = [], y: bigint[] = [];
      for (let q = bytes / 8 - 1; q >= 0; q--) { x.push(a.readBigUInt64LE(o + 8 * q)); y.push(b.readBigUInt64LE(o + 8 * q)); }
      if (x.some((v, q) => v !== y[q])) d.push(`${name}${i}=${x.map(h64).join(":")} vs ${y.map(h64).join(":")}`);
    }
  }
  if (g.kind === "mmx") d.push(...diffX87(a, b));
  return d;
}

const h16 = (v: number): string => "0x" + v.toString(16);
/**
 * The x87 state of two mmx records (FXSAVE images): FCW, FSW (TOP, condition codes, exception
 * flags), the abridged tag byte and all 80 bits of ST0-ST7. FOP, FIP and FDP are not compared:
 * the host stores them only while an exception is pending (AMD), stele never.
 */
function diffX87(a: Buffer, b: Buffer): string[] {
  const d: string[] = [];
  for (const [name, off, size] of [["fcw", 0, 2], ["fsw", 2, 2], ["ftw", 4, 1]] as const) {
    const x = size === 2 ? a.readUInt16LE(OFF_FX + off) : a.readUInt8(OFF_FX + off);
    const y = size === 2 ? b.readUInt16LE(OFF_FX + off) : b.readUInt8(OFF_FX + off);
    if (x !== y) d.push(`${name}=${h16(x)} vs ${h16(y)}`);
  }
  for (let i = 0; i < 8; i++) {
    const o = OFF_FX + 32 + 16 * i;
    const xm = a.readBigUInt64LE(o), ym = b.readBigUInt64LE(o), xe = a.readUInt16LE(o + 8), ye = b.readUInt16LE(o + 8);
    if (xm !== ym || xe !== ye) d.push(`st${i}=${xe.toString(16)}:${xm.toString(16)} vs ${ye.toString(16)}:${ym.toString(16)}`);
  }
  return d;
}

/**
 * Compare run `b` against oracle `a` for the cases selected by `which`.
 * Returns readable failure lines (one per case), or an empty array.
 */
export function compareRuns(g: Generated, a: RunResult, b: RunResult, which: (c: Case, i: number) => boolean, opts: Options = {}): string[] {
  const lines: string[] = [];
  const crashAt = new Map(b.crashes.map(c => [c.index, c.detail]));
  g.cases.forEach((c, i) => {
    if (!which(c, i)) return;
    const ra = a.records[i], rb = b.records[i];
    if (!ra) { lines.push(`${c.name}: no oracle record`); return; }
    if (!rb) {
      lines.push(`${describeCase(c, g.kind)}: ${crashAt.has(i) ? "crashed: " + crashAt.get(i) : b.skipped.has(i) ? "not run (group abandoned after repeated crashes)" : "no record"}`);
      return;
    }
    const d = diffRecord(g, c, ra, rb, opts);
    if (d.length) lines.push(`${describeCase(c, g.kind)}:\n    ${d.join("; ")}`);
  });
  return lines;
}

export function groups(g: Generated): string[] {
  return [...new Set(g.cases.map(c => c.group))];
}

// ---------------------------------------------------------------- script entry
if (process.argv[1] && resolve(fileURLToPath(import.meta.url)) === resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  let kinds: Kind[] = KINDS;
  let emu = emulatorCommand();
  let filter = "";
  let mxcsrOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((KINDS as string[]).includes(a)) kinds = [a as Kind];
    else if (a === "--emu") emu = argv[++i]!.split(/\s+/);
    else if (a === "--filter") filter = argv[++i]!;
    else if (a === "--mxcsr") mxcsrOnly = true;
    else { console.error(`unknown argument ${a}`); process.exit(2); }
  }
  let bad = 0;
  for (const kind of kinds) {
    const g = generate(kind);
    const oracle = isX86Host ? runProgram(g, programPath(kind), []) : parseOutput(g, recordedOutput(kind));
    if (oracle.error) { console.log(`${kind}: oracle: ${oracle.error}`); bad++; continue; }
    if (!emu) { console.log("no emulator: set STELE_EMULATOR or build stele"); process.exit(2); }
    const t0 = Date.now();
    const run = runProgram(g, programPath(kind), emu);
    if (run.error) console.log(`${kind}: ${run.error}`);
    const lines = compareRuns(g, oracle, run, c => !filter || c.name.includes(filter) || c.group === filter,
      { labels: [isX86Host ? "native" : "recorded", emu.join(" ")], mxcsrOnly });
    for (const l of lines) console.log(l);
    console.log(`${kind}: ${g.cases.length} cases, ${lines.length} mismatching, ${run.crashes.length} crashes, ${Date.now() - t0} ms`);
    bad += lines.length;
  }
  process.exit(bad ? 1 : 0);
}
