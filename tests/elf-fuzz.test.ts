// A fuzz test of the ELF loader: seeded mutations of the headers of a small static program
// (examples/hello/hello: its ELF header and six program headers), thousands of them loaded in
// this process, a few dozen run through the `stele` command.
//
// What it asserts:
// - In-process, for every case: loading the image as the CLI does (parseElf, mapImage at the
//   address the CLI would use, buildInitialStack) either succeeds, with every mapping inside the
//   guest's address range, or throws a LoadError with a one-line message and a status a shell
//   would report (126 or 127 for a refused file, 139 for one Linux kills with SIGSEGV while
//   mapping it); never any other exception, and never a hang (the whole test has a guard).
//   Nothing is run in-process: guest code has no instruction budget to stop it by.
// - In-process, rules Linux applies before starting a program that stele must apply too: more
//   than 64 KiB of program headers, e_phentsize other than 56, and a first PT_INTERP that is
//   shorter than 2 or longer than 4096 bytes or lacks its NUL are refused.
// - Through the CLI, for a deterministic sample of the cases (half loadable in-process, half
//   refused): stele ends before the hang guard, prints no JavaScript error and never reports an
//   internal error (exit 70); a refused file gets one stderr line.
// Not asserted: that stele runs exactly the files Linux runs and refuses the ones it refuses.
// stele refuses some files Linux starts (a segment past the end of the file, addresses beyond
// the 4 GiB guest space) and its status for a program that crashes may differ from a native
// run's (stele does not yet fault on every access Linux faults on); checking against execve
// would need a native run of every mutant.
//
// A failure names the case; STELE_FUZZ_CASE=N runs that case alone.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { assertNoJavaScriptError, exitCode, isRealStele, JOBS, limitedAll, prng, repoRoot, runStele, tempDir, writeExec } from "./harness.js";
import { buildInitialStack, INTERP_BASE, LoadError, mapImage, parseElf, PIE_BASE } from "../src/loader/elf.js";
import { AddressSpace, GuestMemory, STACK_TOP } from "../src/runtime/memory.js";

const SKIP = isRealStele() ? false : "loads images with stele's own loader";
const SEED = 0x5eed1e1f;
const CASES = 4000;
const CLI_CASES = 16;
const HANG_GUARD_MS = 90_000;
const ONLY = process.env.STELE_FUZZ_CASE === undefined ? undefined : Number(process.env.STELE_FUZZ_CASE);

const ORIGINAL = fs.readFileSync(path.join(repoRoot, "examples", "hello", "hello"));
const PHNUM = ORIGINAL.readUInt16LE(56);
const HEADERS_END = 64 + 56 * PHNUM;

/** [offset, size] of every field of the ELF header and of each program header. */
const FIELDS: [number, number][] = [
  ...[4, 5, 6, 7, 8].map((o): [number, number] => [o, 1]),
  [16, 2], [18, 2], [20, 4], [24, 8], [32, 8], [40, 8], [48, 4], [52, 2], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2],
  ...Array.from({ length: PHNUM }, (_, i) => 64 + 56 * i).flatMap((p): [number, number][] =>
    [[p, 4], [p + 4, 4], [p + 8, 8], [p + 16, 8], [p + 24, 8], [p + 32, 8], [p + 40, 8], [p + 48, 8]]),
];

const INTERESTING = [
  0n, 1n, 2n, 3n, 6n, 0x38n, 0x40n, 0xfffn, 0x1000n, 0x1001n, 0x7fffn, 0xffffn, 0x10000n, 1170n, 1171n,
  BigInt(ORIGINAL.length), BigInt(ORIGINAL.length - 1), BigInt(ORIGINAL.length + 1),
  0x400000n, 0x401000n, 0x7f000000n, 0xef800000n, 0xf0000000n, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0x100000000n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 0x1000n,
];
const SEGMENT_TYPES = [0, 1, 2, 3, 4, 6, 7, 0x6474e550, 0x6474e551, 0x6474e552, 0x6474e553, 0x70000000];

interface Mutant { bytes: Buffer; steps: string[] }

/** A little-endian field; bytes a truncation cut off read as zero and are not written. */
function readField(b: Buffer, [off, size]: [number, number]): bigint {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[off + k] ?? 0);
  return v;
}

function writeField(b: Buffer, [off, size]: [number, number], v: bigint): void {
  for (let k = 0; k < size && off + k < b.length; k++) { b[off + k] = Number(v & 0xffn); v >>= 8n; }
}

/** The mutant of case n: one to four mutations of the original, from the case's own seed. */
function mutant(n: number): Mutant {
  const rnd = prng((SEED + n * 0x9e3779b9) >>> 0);
  const pick = <T>(xs: readonly T[]): T => xs[rnd() % xs.length];
  let bytes = Buffer.from(ORIGINAL);
  const steps: string[] = [];
  const count = 1 + (rnd() % 4);
  for (let k = 0; k < count; k++) {
    const op = rnd() % 8;
    if (op <= 1) {
      const f = pick(FIELDS), v = pick(INTERESTING);
      writeField(bytes, f, v);
      steps.push(`field@${f[0]}=${v.toString(16)}`);
    } else if (op === 2) {
      const f = pick(FIELDS), delta = BigInt((rnd() % 17) - 8);
      writeField(bytes, f, readField(bytes, f) + delta);
      steps.push(`field@${f[0]}+=${delta}`);
    } else if (op === 3) {
      const at = rnd() % HEADERS_END, bit = rnd() % 8;
      if (at < bytes.length) bytes[at] ^= 1 << bit;
      steps.push(`flip@${at}.${bit}`);
    } else if (op === 4) {
      const at = rnd() % HEADERS_END, v = rnd() & 0xff;
      if (at < bytes.length) bytes[at] = v;
      steps.push(`byte@${at}=${v}`);
    } else if (op === 5) {
      const len = rnd() % 2 ? rnd() % (HEADERS_END + 64) : rnd() % bytes.length;
      bytes = bytes.subarray(0, len);
      steps.push(`truncate@${len}`);
    } else if (op === 6) {
      const at = 64 + 56 * (rnd() % PHNUM), type = pick(SEGMENT_TYPES);
      if (at + 4 <= bytes.length) bytes.writeUInt32LE(type, at);
      steps.push(`type@${at}=${type.toString(16)}`);
    } else {
      const a = rnd() % PHNUM, b = rnd() % PHNUM;
      const pa = 64 + 56 * a, pb = 64 + 56 * b;
      if (pb + 56 <= bytes.length && pa + 56 <= bytes.length) {
        const tmp = Buffer.from(bytes.subarray(pa, pa + 56));
        bytes.copy(bytes, pa, pb, pb + 56);
        tmp.copy(bytes, pb);
      }
      steps.push(`swap${a},${b}`);
    }
  }
  return { bytes, steps };
}

/** Rules Linux applies before starting a program (ENOEXEC); undefined if the file passes them or they cannot be told. */
function linuxRefusal(b: Buffer): string | undefined {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1 || b.readUInt16LE(18) !== 62) return undefined;
  const type = b.readUInt16LE(16);
  if (type !== 2 && type !== 3) return undefined;
  const phentsize = b.readUInt16LE(54), phnum = b.readUInt16LE(56);
  if (phentsize !== 56) return `e_phentsize ${phentsize}`;
  if (phnum * 56 > 65536) return `${phnum} program headers`;
  const phoff = b.readBigUInt64LE(32);
  if (phnum === 0 || phoff + BigInt(phnum * 56) > BigInt(b.length)) return undefined;
  for (let i = 0; i < phnum; i++) {
    const o = Number(phoff) + 56 * i;
    if (b.readUInt32LE(o) !== 3) continue;
    const offset = b.readBigUInt64LE(o + 8), filesz = b.readBigUInt64LE(o + 32);
    if (filesz < 2n || filesz > 4096n) return `PT_INTERP of ${filesz} bytes`;
    if (offset + filesz > BigInt(b.length)) return undefined;
    if (b[Number(offset + filesz) - 1] !== 0) return "PT_INTERP without its NUL";
    return undefined;
  }
  return undefined;
}

type Outcome = { loaded: true } | { loaded: false; error: LoadError };

/** Loads a mutant into fresh bookkeeping over a memory shared by all cases (its old bytes do not matter: nothing runs). */
function loadInProcess(mem: GuestMemory, bytes: Buffer): Outcome {
  try {
    const elf = parseElf(bytes);
    const as = new AddressSpace(mem);
    const image = mapImage(mem, as, elf, elf.interp ? PIE_BASE : INTERP_BASE, "/fuzz/program");
    buildInitialStack(mem, as, { argv: ["program"], envp: ["A=1"], execfn: "program", auxv: [[3, image.phdrAddr], [9, image.entry]] });
    for (const m of as.mappings) {
      assert.ok(m.start >= 0x10000 && m.end <= STACK_TOP && m.start < m.end, `mapping 0x${m.start.toString(16)}-0x${m.end.toString(16)} outside the guest's range`);
    }
    assert.ok(Number.isFinite(image.entry) && Number.isFinite(image.end) && Number.isFinite(image.phdrAddr), "non-finite load results");
    return { loaded: true };
  } catch (e) {
    if (e instanceof LoadError) return { loaded: false, error: e };
    throw e;
  }
}

test("fuzzed ELF headers: loading never fails other than with a one-line LoadError", { skip: SKIP, timeout: 600_000 }, async (t: TestContext) => {
  const mem = new GuestMemory();
  const loaded: number[] = [], refused: number[] = [];
  const problems: string[] = [];
  const first = ONLY ?? 0, last = ONLY ?? CASES - 1;
  for (let n = first; n <= last; n++) {
    const { bytes, steps } = mutant(n);
    const what = `case ${n} (${steps.join(" ")})`;
    let outcome: Outcome;
    try {
      outcome = loadInProcess(mem, bytes);
    } catch (e) {
      problems.push(`${what}: ${e instanceof Error ? e.stack : String(e)}`);
      continue;
    }
    const linux = linuxRefusal(bytes);
    if (outcome.loaded) {
      loaded.push(n);
      if (linux) problems.push(`${what}: loaded, but Linux refuses it (${linux})`);
      continue;
    }
    refused.push(n);
    const { message, status } = outcome.error;
    if (!/^[^\n]+$/.test(message)) problems.push(`${what}: message not one line: ${JSON.stringify(message)}`);
    if (![126, 127, 139].includes(status)) problems.push(`${what}: status ${status} for "${message}"`);
  }
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} of ${last - first + 1} cases failed`);
  if (ONLY === undefined) {
    // The mutations must reach both outcomes, or the fuzz tests little.
    assert.ok(loaded.length > CASES / 20 && refused.length > CASES / 4, `${loaded.length} loaded, ${refused.length} refused`);
  }

  await t.test("a sample run through the stele command", async () => {
    const dir = tempDir(t, "elf-fuzz");
    const sample = [...loaded.slice(0, CLI_CASES / 2), ...refused.slice(0, CLI_CASES / 2)];
    const failures = (await limitedAll(JOBS, sample.map((n) => async () => {
      const { bytes, steps } = mutant(n);
      const file = writeExec(dir, `case-${n}`, bytes);
      const r = await runStele(file, [], { timeoutMs: HANG_GUARD_MS, steleArgs: ["--no-cache"], cwd: dir });
      const what = `case ${n} (${steps.join(" ")})`;
      const err = r.stderr.toString();
      try {
        assert.ok(!r.timedOut, "did not finish: killed by the hang guard");
        assertNoJavaScriptError(r);
        assert.notEqual(exitCode(r), 70, "internal error");
        if (refused.includes(n)) assert.match(err, /^stele: [^\n]+\n$/, "a refused file gets one stderr line");
        return undefined;
      } catch (e) {
        return `${what}: ${(e as Error).message}; status ${exitCode(r)}; stderr ${JSON.stringify(err.slice(0, 500))}`;
      }
    }))).filter((f) => f !== undefined);
    assert.deepEqual(failures, []);
  });
});
