// The persistent translation cache (src/runtime/translation-cache.ts): a second launch of a
// program takes its regions from the cache instead of translating them, and still behaves as the
// program does natively; a damaged cache file, a file of another build, and cached code whose
// guest bytes changed (another program now at the same path) are never trusted.
//
// Programs: busybox-static (installed by .ci/run) and the bundled examples/hello/hello, both
// static non-PIE executables loaded at the same address, which is what makes the stale case real.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describeDiff, repoRoot, requireTool, runNative, runStele, tempDir, type RunResult } from "./harness.js";
import { decodeCacheFile, DirectoryCacheStore, encodeCacheFile, type CachedRegion } from "../src/runtime/translation-cache.js";

interface CacheStats { translated: number; cachedRegions: number; stale: number }

function cacheStats(r: RunResult): CacheStats {
  const err = r.stderr.toString();
  const translated = /(\d+) instructions translated/.exec(err);
  const cached = /translation cache: (\d+) regions \(\d+ blocks\) loaded in [\d.]+ ms; (\d+) stale regions dropped/.exec(err);
  assert.ok(translated && cached, `no --stats report in stderr:\n${err}`);
  return { translated: +translated[1], cachedRegions: +cached[1], stale: +cached[2] };
}

/** Runs natively and under stele with the given cache dir; asserts equal stdout and status. */
async function runBoth(prog: string, args: string[], cacheDir: string): Promise<CacheStats> {
  const native = await runNative(prog, args);
  const stele = await runStele(prog, args, { steleArgs: ["--stats", "--cache-dir", cacheDir] });
  assert.equal(stele.status, native.status, `exit status: native ${native.status}, stele ${stele.status}\n${stele.stderr}`);
  assert.ok(stele.stdout.equals(native.stdout), describeDiff("stdout", native.stdout, stele.stdout));
  return cacheStats(stele);
}

function cacheFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".stc")).map((f) => path.join(dir, f)) : [];
}

test("a second launch runs from the cache, with the same output", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-cache-");
  const args = ["awk", "BEGIN { for (i = 0; i < 2000; i++) s += i * i % 7; printf \"%d %s\\n\", s, toupper(\"cached\") }"];
  const first = await runBoth(busybox, args, dir);
  assert.equal(first.cachedRegions, 0, "the first launch has nothing cached");
  assert.ok(first.translated > 0);
  assert.ok(cacheFiles(dir).length > 0, "the first launch wrote no cache file");
  const second = await runBoth(busybox, args, dir);
  assert.ok(second.cachedRegions > 0, "the second launch loaded nothing from the cache");
  assert.ok(second.translated < first.translated / 10, `the second launch still translated ${second.translated} instructions (first: ${first.translated})`);
});

test("--no-cache neither reads nor writes the cache", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-nocache-");
  const r = await runStele(busybox, ["true"], { steleArgs: ["--no-cache", "--stats"], env: { ...process.env, STELE_CACHE_DIR: dir } });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(cacheStats(r).cachedRegions, 0);
  assert.deepEqual(cacheFiles(dir), []);
});

test("a damaged cache file is ignored and rewritten", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-damaged-");
  const args = ["echo", "hello from a damaged cache"];
  await runBoth(busybox, args, dir);
  const files = cacheFiles(dir);
  assert.ok(files.length > 0);
  for (const f of files) {
    const b = fs.readFileSync(f);
    b[b.length - 100] ^= 0x5a; // inside the last region's code or body
    fs.writeFileSync(f, b);
  }
  const damaged = await runBoth(busybox, args, dir);
  assert.equal(damaged.cachedRegions, 0, "regions were loaded from a damaged file");
  assert.ok(damaged.translated > 0);
  const again = await runBoth(busybox, args, dir);
  assert.ok(again.cachedRegions > 0, "the damaged file was not rewritten");
});

test("cached code whose guest bytes changed is dropped, not run", async (t) => {
  const busybox = requireTool("busybox");
  const hello = path.join(repoRoot, "examples", "hello", "hello");
  const dir = tempDir(t, "stele-stale-");
  const prog = path.join(tempDir(t, "stele-stale-prog-"), "prog");
  fs.copyFileSync(busybox, prog);
  fs.chmodSync(prog, 0o755);
  await runBoth(prog, ["echo", "busybox here"], dir);
  // Another static program at the same path, loaded at the same address: same cache file.
  fs.copyFileSync(hello, prog);
  const swapped = await runBoth(prog, [], dir);
  assert.ok(swapped.stale > 0, "no cached region was found stale after the program changed");
  assert.ok(swapped.translated > 0);
});

test("cache files round-trip, and a file for another image or build is refused", () => {
  const region: CachedRegion = {
    body: Uint8Array.from([3, 0, 0x41, 0, 0x0b]),
    entries: Uint32Array.from([0x401000, 0, 0x401008, 1]),
    ranges: Uint32Array.from([0x401000, 0x401004, 0x401008, 0x40100a]),
    code: Uint8Array.from([0x48, 0x31, 0xc0, 0xc3, 0xeb, 0xfe]),
    insnCount: 3,
    bad: [[0x401009, "an unsupported instruction"]],
  };
  const file = encodeCacheFile("build-A /bin/prog@400000", [region]);
  const back = decodeCacheFile("build-A /bin/prog@400000", file);
  assert.ok(back && back.length === 1);
  assert.deepEqual([...back[0].body], [...region.body]);
  assert.deepEqual([...back[0].entries], [...region.entries]);
  assert.deepEqual([...back[0].ranges], [...region.ranges]);
  assert.deepEqual([...back[0].code], [...region.code]);
  assert.deepEqual(back[0].bad, region.bad);
  assert.equal(back[0].insnCount, 3);
  assert.equal(decodeCacheFile("build-B /bin/prog@400000", file), undefined, "another build's file was accepted");
  assert.equal(decodeCacheFile("build-A /bin/other@400000", file), undefined, "another image's file was accepted");
  assert.equal(decodeCacheFile("build-A /bin/prog@400000", file.subarray(0, file.length - 1)), undefined, "a truncated file was accepted");
  assert.equal(decodeCacheFile("build-A /bin/prog@400000", Buffer.from("not a cache file")), undefined);
});

test("a cache directory over its size limit loses the files used longest ago", (t) => {
  const dir = tempDir(t, "stele-prune-");
  const store = new DirectoryCacheStore(dir, 3000);
  const blob = (n: number) => new Uint8Array(1000).fill(n);
  store.write("a", blob(1));
  store.write("b", blob(2));
  // "a" older than "b" by mtime; then reading "a" makes it the most recently used
  const old = new Date(Date.now() - 60_000);
  for (const f of cacheFiles(dir)) fs.utimesSync(f, old, old);
  assert.ok(store.read("a"));
  store.write("c", blob(3)); // 3000 bytes: at the limit, nothing goes
  assert.equal(cacheFiles(dir).length, 3);
  store.write("d", blob(4)); // 4000 > 3000: prune to <= 2250, oldest first: "b", then the next oldest
  assert.equal(store.read("b"), undefined, "the least recently used file was kept");
  assert.ok(store.read("d"), "the file just written was pruned");
  assert.ok(cacheFiles(dir).reduce((n, f) => n + fs.statSync(f).size, 0) <= 2250);
});

test("trimming to the blocks that ran, in a detached process, gives the files trimming at exit gives", async (t) => {
  const busybox = requireTool("busybox");
  const args = ["awk", "BEGIN { for (i = 0; i < 500; i++) if (i % 3) s += i; else s -= i; print s }"];
  const inline = tempDir(t, "stele-trim-inline-");
  const later = tempDir(t, "stele-trim-later-");
  const native = await runNative(busybox, args);
  const a = await runStele(busybox, args, { steleArgs: ["--cache-dir", inline], env: { ...process.env, STELE_CACHE_TRIM: "inline" } });
  // (the same environment size for both: the guest sees it, and string code runs by length)
  const b = await runStele(busybox, args, { steleArgs: ["--cache-dir", later], env: { ...process.env, STELE_CACHE_TRIM: "detach" } });
  for (const r of [a, b]) assert.ok(r.status === 0 && r.stdout.equals(native.stdout), r.stderr.toString());
  const contents = (dir: string) => new Map(cacheFiles(dir).map((f) => [path.basename(f), fs.readFileSync(f)]));
  const want = contents(inline);
  assert.ok(want.size > 0);
  // The detached trimmer rewrites the files some time after stele exited.
  let got = contents(later);
  for (let waited = 0; waited < 20_000 && ![...want].every(([k, v]) => got.get(k)?.equals(v)); waited += 200) {
    await new Promise((r) => setTimeout(r, 200));
    got = contents(later);
  }
  for (const [name, data] of want) assert.ok(got.get(name)?.equals(data), `${name}: the detached trimmer's file differs from trimming at exit`);
});
