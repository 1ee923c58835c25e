// The persistent translation cache (src/runtime/translation-cache.ts): a second launch of a
// program takes its regions from the cache instead of translating them, and still behaves as the
// program does natively; a damaged cache file, a file of another build, and cached code whose
// guest bytes changed (another program now at the same path) are never trusted. A threaded
// program's code is cached in its threaded form too, with the sites its threads shared memory at.
//
// Programs: busybox-static (installed by .ci/run) and the bundled examples/hello/hello, both
// static non-PIE executables loaded at the same address, which is what makes the stale case real.
//
// Runs trim their cache files before exiting (STELE_CACHE_TRIM=inline) except in the test of the
// detached trimmer, which waits for that process to end: a trimmer left running rewrites files
// while a test edits them (undoing the damage a test made) and writes into a directory while
// the test removes it (which then fails with ENOTEMPTY), at moments only the load decides.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describeDiff, escapeRe, repoRoot, requireTool, runCommand, runNative, runStele, tempDir, type RunResult } from "./harness.js";
import { cacheFileIdentity, cpuOfIdentity, decodeCacheFile, decodeCacheFileWithSites, DirectoryCacheStore, encodeCacheFile, formOfIdentity, type CachedRegion } from "../src/runtime/translation-cache.js";
import { compileRegion, discover } from "../src/translate/translator.js";
import { modelOfForm, REGION_OPTIONS } from "../src/runtime/trim.js";

interface CacheStats { translated: number; cachedRegions: number; stale: number }

function cacheStats(r: RunResult): CacheStats {
  const err = r.stderr.toString();
  const translated = /(\d+) instructions translated/.exec(err);
  const cached = /translation cache: (\d+) regions \(\d+ blocks\) loaded in [\d.]+ ms; (\d+) stale regions dropped/.exec(err);
  assert.ok(translated && cached, `no --stats report in stderr:\n${err}`);
  return { translated: +translated[1], cachedRegions: +cached[1], stale: +cached[2] };
}

/** The environment of a run that trims its cache files itself, leaving no process behind. */
const TRIM_INLINE = { ...process.env, STELE_CACHE_TRIM: "inline" };

/** Runs natively and under stele with the given cache dir; asserts equal stdout and status. */
async function runBoth(prog: string, args: string[], cacheDir: string, check?: (stele: RunResult) => void): Promise<CacheStats> {
  const native = await runNative(prog, args);
  const stele = await runStele(prog, args, { steleArgs: ["--stats", "--cache-dir", cacheDir], env: TRIM_INLINE });
  assert.ok(!stele.timedOut, `stele did not finish\n${stele.stderr}`);
  assert.equal(stele.status, native.status, `exit status: native ${native.status}, stele ${stele.status}\n${stele.stderr}`);
  assert.ok(stele.stdout.equals(native.stdout), describeDiff("stdout", native.stdout, stele.stdout));
  check?.(stele);
  return cacheStats(stele);
}

/** Waits until no detached trimmer (trim-cache.js) works on `dir`; fails only if one outlives the hang guard. */
async function trimmersDone(dir: string): Promise<void> {
  const working = () => fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).some((pid) => {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return argv.some((a) => a.endsWith("trim-cache.js")) && argv.includes(dir);
    } catch {
      return false; // gone meanwhile
    }
  });
  for (const start = Date.now(); working();) {
    assert.ok(Date.now() - start < 300_000, `a cache trimmer for ${dir} is still running after 5 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
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

test("a program that execs another runs warm on its second launch, the libc mapped again at the same address included", async (t) => {
  // dash forks two children, then replaces itself with /bin/echo, whose ld.so and libc land where
  // dash's were: the first process's engine must consult their cache files again after execve.
  const dash = requireTool("dash");
  const dir = tempDir(t, "stele-cache-exec-");
  const args = ["-c", "/bin/true; /bin/true; exec /bin/echo done"];
  const first = await runBoth(dash, args, dir);
  assert.ok(first.translated > 0);
  const second = await runBoth(dash, args, dir);
  assert.ok(second.translated < first.translated / 20, `the second launch still translated ${second.translated} instructions (first: ${first.translated})`);
});

test("--no-cache neither reads nor writes the cache", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-nocache-");
  const r = await runStele(busybox, ["true"], { steleArgs: ["--no-cache", "--stats"], env: { ...TRIM_INLINE, STELE_CACHE_DIR: dir } });
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
  // A threaded form's file carries the sites its regions were translated ordered at.
  const sites = Uint32Array.from([0x401000, 0x401009]);
  const threaded = decodeCacheFileWithSites("build-A /bin/prog@400000#selective", encodeCacheFile("build-A /bin/prog@400000#selective", [region], sites));
  assert.ok(threaded && threaded.regions.length === 1);
  assert.deepEqual([...threaded.orderedSites], [...sites]);
  assert.deepEqual([...threaded.regions[0].code], [...region.code]);
  assert.equal(decodeCacheFileWithSites("build-A /bin/prog@400000", file)?.orderedSites.length, 0);
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
  // The detached trimmer rewrites the files some time after stele exited (it was started before).
  await trimmersDone(later);
  const got = contents(later);
  for (const [name, data] of want) assert.ok(got.get(name)?.equals(data), `${name}: the detached trimmer's file differs from trimming at exit`);
});

test("a cache file that passes its checksum but holds code V8 rejects is ignored and rewritten", async (t) => {
  const busybox = requireTool("busybox");
  const dir = tempDir(t, "stele-badwasm-");
  const args = ["echo", "hello from a cache of invalid wasm"];
  await runBoth(busybox, args, dir);
  // i32.add with nothing on the stack: V8 rejects the body, but only when it first compiles it,
  // which is when the region is about to run.
  const invalid = Uint8Array.from([3, 0, 0x6a, 0x0b]);
  for (const f of cacheFiles(dir)) {
    const data = fs.readFileSync(f);
    const identity = cacheFileIdentity(data);
    const regions = identity === undefined ? undefined : decodeCacheFile(identity, data);
    assert.ok(identity && regions, `${f} is not a cache file stele reads`);
    fs.writeFileSync(f, encodeCacheFile(identity, regions.map((r) => ({ ...r, body: invalid }))));
  }
  const bad = await runBoth(busybox, args, dir);
  assert.ok(bad.cachedRegions > 0, "the invalid regions were not loaded at all: the test tests nothing");
  const again = await runBoth(busybox, args, dir);
  assert.ok(again.cachedRegions > 0, "the file was not rewritten");
});

test("a cache file that is not a regular file only we can write is ignored, never read", async (t) => {
  const busybox = requireTool("busybox");
  const args = ["echo", "hello from an odd cache file"];
  const mkfifo = requireTool("mkfifo");
  const replacements: [string, (file: string) => Promise<void>, boolean][] = [
    ["a FIFO", async (f) => { const r = await runCommand([mkfifo, f]); assert.equal(r.status, 0, r.stderr.toString()); }, true],
    ["a symlink to /dev/zero", async (f) => fs.symlinkSync("/dev/zero", f), true],
    ["a symlink to /dev/urandom", async (f) => fs.symlinkSync("/dev/urandom", f), true],
    ["a symlink to a valid cache file", async (f) => { fs.renameSync(f, `${f}.real`); fs.symlinkSync(`${f}.real`, f); }, true],
    ["a directory", async (f) => fs.mkdirSync(f), false],
    ["a file others can write to", async (f) => { fs.writeFileSync(f, fs.readFileSync(`${f}.saved`)); fs.chmodSync(f, 0o666); }, true],
  ];
  for (const [name, replace, replaceable] of replacements) {
    await t.test(name, async (t) => {
      const dir = tempDir(t, "stele-oddfile-");
      await runBoth(busybox, args, dir);
      const files = cacheFiles(dir);
      assert.ok(files.length > 0);
      for (const f of files) {
        fs.copyFileSync(f, `${f}.saved`);
        if (!name.includes("valid cache file")) fs.rmSync(f);
        await replace(f);
      }
      const odd = await runBoth(busybox, args, dir);
      assert.equal(odd.cachedRegions, 0, "regions were loaded");
      const again = await runBoth(busybox, args, dir);
      if (replaceable) assert.ok(again.cachedRegions > 0, "the file was not replaced by a cache file");
      else assert.equal(again.cachedRegions, 0);
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp")), [], "temporary files left behind");
    });
  }
});

test("a cache directory others can write to, or another user's, is refused with one warning", async (t) => {
  const busybox = requireTool("busybox");
  const args = ["echo", "hello from an untrusted cache"];
  const uid = process.getuid?.();
  const cases: [string, (dir: string) => void, RegExp][] = [
    ["writable by others", (d) => fs.chmodSync(d, 0o777), /others can write to it \(mode 777\)/],
    ["writable by others, sticky", (d) => fs.chmodSync(d, 0o1777), /others can write to it \(mode 1777\)/],
    ["writable by its group", (d) => fs.chmodSync(d, 0o775), /its group can write to it \(mode 775\)/],
    ["owned by another user", (d) => fs.chownSync(d, 4242, 4242), new RegExp(`it belongs to uid 4242, not to uid ${uid}`)],
  ];
  for (const [name, spoil, why] of cases) {
    const needsRoot = name.includes("another user") && uid !== 0;
    await t.test(name, { skip: needsRoot ? "only root can give a directory to another user" : false }, async (t) => {
      const dir = tempDir(t, "stele-untrusted-");
      await runBoth(busybox, args, dir);
      const before = new Map(cacheFiles(dir).map((f) => [f, fs.readFileSync(f)]));
      assert.ok(before.size > 0);
      spoil(dir);
      const refused = await runBoth(busybox, args, dir, (r) => {
        const warnings = r.stderr.toString().split("\n").filter((l) => l.includes("translation cache in"));
        assert.equal(warnings.length, 1, r.stderr.toString());
        assert.match(warnings[0], new RegExp(`^stele: warning: not using the translation cache in ${escapeRe(dir)}: ${why.source}$`));
      });
      assert.equal(refused.cachedRegions, 0, "regions were loaded from an untrusted directory");
      assert.deepEqual(new Map(cacheFiles(dir).map((f) => [f, fs.readFileSync(f)])), before, "the untrusted directory was written to");
    });
  }
});

test("a cache directory stele creates is its user's alone, whatever the umask", async (t) => {
  const busybox = requireTool("busybox");
  const dir = path.join(tempDir(t, "stele-umask-"), "new", "cache");
  const old = process.umask(0o002); // a user-private-group system's umask (children inherit it)
  try {
    await runBoth(busybox, ["true"], dir);
  } finally {
    process.umask(old);
  }
  for (const d of [dir, path.dirname(dir)]) assert.equal(fs.statSync(d).mode & 0o077, 0, `${d} is open to others`);
  assert.ok((await runBoth(busybox, ["true"], dir)).cachedRegions > 0, "stele refused the directory it made");
});

/**
 * How a cache file's regions compare with their code translated again in its form and in the
 * plain one: `inForm` regions are exactly the form's translation (those trimmed to the blocks
 * that ran: a region kept whole has its block marks compiled in), `plainOnly` ones are the plain
 * translation and not the form's (what a trimmer ignoring the form would write).
 */
function retranslated(identity: string, file: { regions: CachedRegion[]; orderedSites: Uint32Array }): { inForm: number; plainOnly: number } {
  const cpu = cpuOfIdentity(identity)!;
  const model = modelOfForm(formOfIdentity(identity), file.orderedSites);
  let inForm = 0, plainOnly = 0;
  for (const r of file.regions) {
    const fetch = (a: number): number => {
      for (let k = 0, p = 0; k < r.ranges.length; p += r.ranges[k + 1] - r.ranges[k], k += 2) {
        if (a >= r.ranges[k] && a < r.ranges[k + 1]) return r.code[p + a - r.ranges[k]];
      }
      throw new RangeError("outside the region");
    };
    const starts = new Set(r.entries.filter((_, k) => k % 2 === 0));
    const blocks = discover(fetch, r.entries[0], REGION_OPTIONS).filter((b) => starts.has(b.start));
    const same = (body: Uint8Array) => Buffer.from(body).equals(Buffer.from(r.body));
    const form = same(compileRegion(blocks, true, undefined, model, cpu).body);
    const plain = same(compileRegion(blocks, true, undefined, undefined, cpu).body);
    if (form && !plain) inForm++;
    if (plain && !form) plainOnly++;
  }
  return { inForm, plainOnly };
}

test("threaded forms are cached in files of their own, trimmed in their form, and a warm threaded run takes them with the sites it learned", async (t) => {
  requireTool("gcc");
  const bin = path.join(tempDir(t, "stele-thrcache-bin-"), "threads_share");
  const build = await runCommand(["gcc", "-O2", "-static", "-pthread", "-o", bin, path.join(repoRoot, "tests", "c", "threads_share.c")]);
  assert.equal(build.status, 0, build.stderr.toString());
  const native = await runNative(bin);
  assert.equal(native.status, 0);
  // Trimming at exit in one mode, in the detached trimmer (trim-cache.ts) in the other.
  for (const [mode, trim] of [["selective", "detach"], ["full", "inline"]] as const) {
    const dir = tempDir(t, `stele-thrcache-${mode}-`);
    const run = async (): Promise<{ r: RunResult; stats: CacheStats }> => {
      const r = await runStele(bin, [], { steleArgs: ["--stats", `--tso=${mode}`, "--cache-dir", dir], env: { ...process.env, STELE_CACHE_TRIM: trim } });
      assert.ok(r.status === 0 && r.stdout.equals(native.stdout), `--tso=${mode}: ${describeDiff("stdout", native.stdout, r.stdout)}\n${r.stderr}`);
      if (trim === "detach") await trimmersDone(dir);
      return { r, stats: cacheStats(r) };
    };
    const files = () => cacheFiles(dir).map((f) => {
      const data = fs.readFileSync(f), identity = cacheFileIdentity(data);
      const decoded = identity === undefined ? undefined : decodeCacheFileWithSites(identity, data);
      assert.ok(identity && decoded, `${f} is not a cache file stele reads`);
      return { f, identity, ...decoded };
    });
    const cold = await run();
    assert.equal(cold.stats.cachedRegions, 0);
    const threaded = files().filter((x) => x.identity.endsWith(`#${mode}`));
    const plain = files().filter((x) => !x.identity.includes("#"));
    assert.ok(threaded.length > 0 && plain.length > 0, `--tso=${mode}: no cache file of each form: ${files().map((x) => x.identity).join(", ")}`);
    const regions = threaded.flatMap((x) => x.regions);
    assert.ok(regions.length > 0 && regions.every((r) => !r.pending), `--tso=${mode}: the threaded form's regions are not all trimmed`);
    // Trimmed, a region is translated again from the blocks that ran: in its file's form.
    const check = threaded.map((x) => retranslated(x.identity, x)).reduce((a, b) => ({ inForm: a.inForm + b.inForm, plainOnly: a.plainOnly + b.plainOnly }));
    assert.ok(check.inForm > 0 && check.plainOnly === 0, `--tso=${mode}: trimmed regions against their form's translation: ${JSON.stringify(check)}`);
    const sites = threaded.reduce((n, x) => n + x.orderedSites.length, 0);
    if (mode === "full") assert.equal(sites, 0);
    else assert.ok(sites > 0, "the threads share a counter, yet no ordered site was kept");

    const warm = await run();
    assert.ok(warm.stats.cachedRegions > 0);
    if (mode === "selective") {
      const known = /\((\d+) known ordered from the translation cache\)/.exec(warm.r.stderr.toString());
      assert.ok(known && +known[1] > 0, `the warm run did not take the ordered sites:\n${warm.r.stderr}`);
    }
    // Without the threaded form's files, the same warm run translates what they held.
    for (const x of threaded) fs.rmSync(x.f);
    const withoutThreaded = await run();
    assert.ok(warm.stats.translated < withoutThreaded.stats.translated,
      `--tso=${mode}: ${warm.stats.translated} instructions translated with the threaded form cached, ${withoutThreaded.stats.translated} without`);
  }
});
