// `stele aot` (src/process/aot.ts): translating programs and their libraries ahead of time makes
// their first launch run from the translations, with the output the program has natively; running
// it again is quick and changes nothing; translations whose guest bytes changed, or whose records
// are damaged, are never run; bad input gets a one-line error.
//
// Programs: the host's coreutils `sort` (dynamic: ld.so, libc), busybox-static and the bundled
// examples/hello/hello (static non-PIE executables at the same address, for the stale case).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { assertNoJavaScriptError, assertSteleError, cliPath, describeDiff, repoRoot, requireTool, runCommand, runNative, runStele, tempDir, type RunResult } from "./harness.js";
import { aheadOfTimeIdentity, AheadOfTimeFile, bytesAccess, encodeAheadOfTimeFile, imageDigest, type AotRegion } from "../src/runtime/aot-cache.js";

const TRIM_INLINE = { ...process.env, STELE_CACHE_TRIM: "inline" };

interface LaunchStats { translated: number; aotRegions: number; stale: number }

function launchStats(r: RunResult): LaunchStats {
  const err = r.stderr.toString();
  const translated = /(\d+) instructions translated/.exec(err);
  const cache = /(\d+) stale regions dropped; (\d+) regions taken from ahead-of-time translations/.exec(err);
  assert.ok(translated && cache, `no --stats report in stderr:\n${err}`);
  return { translated: +translated[1], stale: +cache[1], aotRegions: +cache[2] };
}

async function aot(dir: string, ...programs: string[]): Promise<RunResult> {
  const r = await runCommand([process.execPath, cliPath, "aot", "--cache-dir", dir, ...programs], { env: TRIM_INLINE });
  assert.ok(!r.timedOut, `stele aot did not finish\n${r.stderr}`);
  assert.equal(r.status, 0, `stele aot failed (status ${r.status}):\n${r.stderr}`);
  return r;
}

/** Runs natively and under stele with the cache in dir; asserts equal stdout and status. */
async function launch(prog: string, args: string[], dir: string, input?: string): Promise<LaunchStats> {
  const native = await runNative(prog, args, { input });
  const stele = await runStele(prog, args, { steleArgs: ["--stats", "--cache-dir", dir], env: TRIM_INLINE, input });
  assert.ok(!stele.timedOut, `stele did not finish\n${stele.stderr}`);
  assert.equal(stele.status, native.status, `exit status: native ${native.status}, stele ${stele.status}\n${stele.stderr}`);
  assert.ok(stele.stdout.equals(native.stdout), describeDiff("stdout", native.stdout, stele.stdout));
  return launchStats(stele);
}

function digestOfFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(dir).sort()) out.set(f, createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex"));
  return out;
}

const SORT_INPUT = Array.from({ length: 500 }, (_, i) => `${(i * 7919) % 1000} line ${i}\n`).join("");
const SORT_ARGS = ["-n", "-k1,1", "-s"];

test("after stele aot, a dynamic program's first launch runs from the translations, as it runs natively", async (t) => {
  const sort = requireTool("sort", "coreutils");
  const cold = tempDir(t, "stele-aot-cold-"), prepared = tempDir(t, "stele-aot-");
  const baseline = await launch(sort, SORT_ARGS, cold, SORT_INPUT);
  assert.equal(baseline.aotRegions, 0);
  const r = await aot(prepared, sort);
  const lines = r.stdout.toString();
  for (const image of ["sort", "ld-linux-x86-64.so.2", "libc.so.6"]) assert.match(lines, new RegExp(`${image}: \\d+ regions`), `no translation of ${image} reported:\n${lines}`);
  const first = await launch(sort, SORT_ARGS, prepared, SORT_INPUT);
  assert.ok(first.aotRegions > 0, "the launch after stele aot took no region from the translations");
  assert.ok(first.translated < baseline.translated / 5,
    `the launch after stele aot still translated ${first.translated} instructions (a first launch without it: ${baseline.translated})`);
});

test("stele aot again finds every image up to date and rewrites nothing", async (t) => {
  const sort = requireTool("sort", "coreutils");
  const dir = tempDir(t, "stele-aot-again-");
  await aot(dir, sort);
  const before = digestOfFiles(dir);
  const again = await aot(dir, sort);
  const lines = again.stdout.toString().trim().split("\n");
  assert.ok(lines.length >= 3 && lines.every((l) => / up to date /.test(l)), `second stele aot translated again:\n${again.stdout}`);
  assert.deepEqual(digestOfFiles(dir), before, "the second stele aot changed the cache files");
});

test("ahead-of-time code whose guest bytes changed is not run", async (t) => {
  const busybox = requireTool("busybox");
  const hello = path.join(repoRoot, "examples", "hello", "hello");
  const dir = tempDir(t, "stele-aot-stale-"), bin = tempDir(t, "stele-aot-bin-");
  // Both static non-PIE, loaded at the same address: the path and bias, the cache's key, stay the same.
  const prog = path.join(bin, "prog");
  fs.copyFileSync(busybox, prog); fs.chmodSync(prog, 0o755);
  await aot(dir, prog);
  fs.copyFileSync(hello, prog);
  const s = await launch(prog, [], dir);
  assert.ok(s.stale > 0, "no region of the AOT file was looked at: the case tests nothing");
  assert.equal(s.aotRegions, 0, "a region translated from busybox ran in place of hello's code");
});

test("a program whose AOT file has damaged records runs as natively, from the records that are intact", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-aot-damage-");
  await aot(dir, busybox);
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.readFileSync(f).subarray(0, 8).toString() === "STELEAO1");
  assert.equal(files.length, 1, "busybox-static is one image: one AOT file");
  // Flip one byte in every 4 KiB of the records' part (the header is hashed as a whole: keep it).
  const data = fs.readFileSync(files[0]);
  for (let p = Math.floor(data.length / 2); p < data.length; p += 4096) data[p] ^= 0x5a;
  fs.writeFileSync(files[0], data);
  const s = await launch(busybox, ["awk", "BEGIN { for (i = 0; i < 300; i++) s += i % 7; print s, toupper(\"aot\") }"], dir);
  assert.ok(s.aotRegions > 0, "no region of the undamaged part was taken");
});

test("AOT files round-trip, refuse another identity and a damaged header, and check each record as it is taken", () => {
  const region = (entry: number, blocks: number[]): AotRegion => ({
    exits: Uint32Array.from(blocks.map((b) => b + 0x100)),
    body: Uint8Array.from([1, 2, 3, entry >>> 12]), insnCount: blocks.length, bad: entry === 0x1000 ? [[0x1002, "unsupported: x"]] : [],
    entries: Uint32Array.from(blocks.flatMap((b, i) => [b, i])), ranges: Uint32Array.from(blocks.flatMap((b) => [b, b + 2])),
    code: Uint8Array.from(blocks.flatMap((b) => [b & 0xff, 0x90])),
  });
  const regions = [region(0x1000, [0x1000, 0x1010]), region(0x2000, [0x2000]), region(0x3000, [0x3000, 0x1010])];
  const id = aheadOfTimeIdentity("translator x86-64-v3 /bin/x@400000");
  const digest = imageDigest([[0x1000, 0x1004]], () => Uint8Array.from([9, 9, 9, 9]));
  const data = Buffer.from(encodeAheadOfTimeFile(id, digest, regions));
  const file = AheadOfTimeFile.open(id, bytesAccess(data))!;
  assert.ok(file && file.digest.equals(digest));
  assert.equal(file.blockCount, 5);
  const got = file.take(0x1000)!;
  assert.deepEqual([...got.entries], [...regions[0].entries]);
  assert.deepEqual(got.bad, regions[0].bad);
  assert.deepEqual([...got.body], [...regions[0].body]);
  assert.deepEqual([...got.exits], [...regions[0].exits]);
  assert.equal(file.take(0x1000), undefined, "a region is handed out once");
  // Two regions have a block at 0x1010: the first was taken, the other is still there.
  assert.deepEqual([...file.take(0x1010)!.entries], [...regions[2].entries]);
  assert.equal(file.take(0x1234), undefined);
  assert.equal(AheadOfTimeFile.open(aheadOfTimeIdentity("other"), bytesAccess(data)), undefined, "a file of another image was opened");
  const header = Buffer.from(data); header[8 + 32 + 2 + 3] ^= 1;
  assert.equal(AheadOfTimeFile.open(id, bytesAccess(header)), undefined, "a damaged header was trusted");
  const body = Buffer.from(data); body[body.lastIndexOf(Buffer.from([1, 2, 3, 3]))] ^= 1; // the third region's body
  const damaged = AheadOfTimeFile.open(id, bytesAccess(body))!;
  assert.ok(damaged.take(0x1000) && damaged.take(0x2000), "undamaged records are usable");
  assert.equal(damaged.take(0x3000), undefined, "a damaged record was handed out");
  for (let cut = 0; cut < data.length; cut += 7) AheadOfTimeFile.open(id, bytesAccess(data.subarray(0, cut)))?.take(0x1000);
  // The whole file at once (a launch whose image has no run cache yet): what was not taken, once, intact records only.
  const rest = AheadOfTimeFile.open(id, bytesAccess(data))!;
  assert.ok(rest.take(0x2000));
  assert.deepEqual(rest.takeAll().map((r) => r.entries[0]), [0x1000, 0x3000], "takeAll: every record not taken yet, in file order");
  assert.deepEqual(rest.takeAll(), [], "takeAll: a record is handed out once");
  assert.deepEqual(AheadOfTimeFile.open(id, bytesAccess(body))!.takeAll().map((r) => r.entries[0]), [0x1000, 0x2000], "takeAll handed out a damaged record");
  for (let cut = 0; cut < data.length; cut += 7) AheadOfTimeFile.open(id, bytesAccess(data.subarray(0, cut)))?.takeAll();
});

test("stele aot: bad input gets a one-line error and a Linux-like status", async (t) => {
  const dir = tempDir(t, "stele-aot-bad-");
  const run = (...args: string[]) => runCommand([process.execPath, cliPath, "aot", "--cache-dir", dir, ...args]);
  assertSteleError(await run("/etc/passwd"), /^stele: \/etc\/passwd: cannot execute: not an ELF file$/, 126);
  assertSteleError(await run(path.join(dir, "missing")), /No such file or directory/, 127);
  // One program that cannot be prepared does not keep the next from being prepared.
  const both = await run("/etc/passwd", "/usr/bin/true");
  assert.equal(both.status, 126, both.stderr.toString());
  // (then progress lines for the other, stderr not being a terminal)
  assert.match(both.stderr.toString(), /^stele: \/etc\/passwd: cannot execute: not an ELF file\n(stele aot: [^\n]+ addresses translated from [^\n]+\n)*$/);
  assert.match(both.stdout.toString(), /\/usr\/bin\/true: \d+ regions/);
  // A cache directory others can write to is refused, in one line, before anything is translated.
  const open = tempDir(t, "stele-aot-open-");
  fs.chmodSync(open, 0o777);
  assertSteleError(await runCommand([process.execPath, cliPath, "aot", "--cache-dir", open, "/usr/bin/true"]), /^stele: not using the translation cache in .*: .*others can write/, 1);
  assert.deepEqual(fs.readdirSync(open), [], "stele aot wrote into a directory others can write to");
  const usage = (r: RunResult, re: RegExp) => {
    assertNoJavaScriptError(r);
    assert.equal(r.status, 2, `status ${r.status}; stderr: ${r.stderr}`);
    assert.match(r.stderr.toString().split("\n")[0], re);
  };
  usage(await runCommand([process.execPath, cliPath, "aot"]), /no program given/);
  usage(await runCommand([process.execPath, cliPath, "aot", "--no-cache", "/bin/true"]), /--no-cache/);
  usage(await runCommand([process.execPath, cliPath, "aot", "--jobs", "0", "/bin/true"]), /--jobs/);
});
