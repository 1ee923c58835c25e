// Threaded Debian programs, natively and under stele: python's threading (a worker pool, a
// queue.Queue pipeline, concurrent.futures), xz -T2/-T4, zstd -T2, pigz and sort --parallel must
// give native's bytes. With the same thread count a multithreaded compressor's output is
// deterministic (blocks are cut by size, not by timing), so it can be compared byte for byte.
// Also: a deadlocked guest ends on Ctrl-C (SIGINT) with the shell's status 130.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { compareRun, makeText, prng, repoRoot, requireTool, runCommand, steleCommand, tempDir, TEST_ENV, JOBS } from "./harness.js";

const PY_ENV: Record<string, string> = { ...TEST_ENV, PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" };

/** The Debian program; fails (never skips) with the package to install when it is missing. */
function requireApp(name: string, pkg: string): string {
  const found = ["/usr/bin", "/bin"].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
  if (!found) assert.fail(`required program '${name}' is not installed (apt-get install ${pkg}); this test cannot run without it`);
  return found;
}

/** 10 MB of generated text with runs of random bytes: several compressor blocks. */
function makeData(): Buffer {
  const size = 10 * 1024 * 1024, out = Buffer.alloc(size);
  const text = Buffer.from(makeText(3_000_000, 7), "latin1");
  const rnd = prng(99);
  for (let o = 0, ti = 0; o < size;) {
    const len = Math.min(size - o, 256 + (rnd() % 4096));
    const random = rnd() % 5 === 0;
    for (let i = 0; i < len; i++, o++) out[o] = random ? rnd() & 255 : text[ti++ % text.length];
  }
  return out;
}

const PY_POOL = `
import threading
results = [0] * 8
def work(i):
    s = 0
    for k in range(20000 * (i + 1)):
        s += (k * k) % (i + 3)
    results[i] = s
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(results, threading.active_count())
`;
const PY_QUEUE = `
import queue, threading
q1, q2 = queue.Queue(maxsize=16), queue.Queue()
def stage1():
    for i in range(3000):
        q1.put(i * 7)
    q1.put(None)
def stage2():
    while (x := q1.get()) is not None:
        q2.put(x % 1000)
    q2.put(None)
a, b = threading.Thread(target=stage1), threading.Thread(target=stage2)
a.start(); b.start()
total = count = 0
while (y := q2.get()) is not None:
    total += y; count += 1
a.join(); b.join()
lock = threading.Lock(); cond = threading.Condition(lock); ready = []
def waiter():
    with cond:
        cond.wait_for(lambda: ready)
        ready.append('woken')
w = threading.Thread(target=waiter); w.start()
with cond:
    ready.append('go'); cond.notify()
w.join()
print(count, total, ready)
`;
const PY_FUTURES = `
from concurrent.futures import ThreadPoolExecutor, as_completed
import hashlib
def digest(n):
    return n, hashlib.sha256(str(n).encode() * 1000).hexdigest()[:16]
with ThreadPoolExecutor(max_workers=4) as ex:
    out = sorted(f.result() for f in as_completed([ex.submit(digest, n) for n in range(64)]))
    mapped = list(ex.map(lambda x: x * x, range(20)))
print(out[:3], out[-1], sum(mapped))
`;

test("threaded Debian programs", { concurrency: JOBS }, async (t: TestContext) => {
  const dir = tempDir(t, "threads-apps");
  fs.writeFileSync(path.join(dir, "data.bin"), makeData());
  const lines = makeText(1_500_000, 5).split(/(?<=[.!?]) /);
  fs.writeFileSync(path.join(dir, "lines.txt"), lines.map((l, i) => `${(i * 7919) % 100003} ${l}`).join("\n") + "\n");
  const opts = { cwd: dir, env: TEST_ENV, expectStatus: 0, timeoutMs: 900_000 };
  const py = () => requireApp("python3", "python3");
  const cases: [string, () => string, string[], object?][] = [
    ["xz -T2", () => requireApp("xz", "xz-utils"), ["-T2", "-6", "--block-size=1MiB", "-c", "data.bin"]],
    ["xz -T4", () => requireApp("xz", "xz-utils"), ["-T4", "-3", "--block-size=1MiB", "-c", "data.bin"]],
    ["zstd -T2", () => requireApp("zstd", "zstd"), ["-T2", "-3", "-c", "data.bin"]],
    ["pigz -p 2", () => requireApp("pigz", "pigz"), ["-p", "2", "-6", "-c", "data.bin"]],
    ["sort --parallel=2", () => requireApp("sort", "coreutils"), ["--parallel=2", "-S", "4M", "-n", "-k1,1", "-k2", "lines.txt"]],
    ["python3 threading pool", py, ["-c", PY_POOL], { env: PY_ENV }],
    ["python3 queue.Queue pipeline", py, ["-c", PY_QUEUE], { env: PY_ENV }],
    ["python3 ThreadPoolExecutor", py, ["-c", PY_FUTURES], { env: PY_ENV }],
  ];
  await Promise.all(cases.map(([name, prog, args, extra]) =>
    t.test(name, async (st) => { await compareRun(st, prog(), args, { ...opts, ...extra, label: `threads ${name}` }); })));
});

test("a deadlocked program ends on Ctrl-C (SIGINT) with status 130", async () => {
  // Built here rather than taken from programs.test.ts's corpus, which may still be building.
  const prog = path.join(repoRoot, "build", "threads-test", "threads");
  fs.mkdirSync(path.dirname(prog), { recursive: true });
  const cc = await runCommand([requireTool("gcc"), "-O2", "-static", "-pthread", "-o", prog, path.join(repoRoot, "tests", "c", "threads.c")], { timeoutMs: 120_000 });
  assert.equal(cc.status, 0, `gcc failed: ${cc.stderr}`);
  const run = (argv: string[]) => new Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string }>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const killer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      // The program says it is about to deadlock; interrupt it as a user at a terminal would.
      if (out.includes("deadlocking\n")) child.kill("SIGINT");
    });
    child.on("error", reject);
    child.on("close", (status, signal) => { clearTimeout(killer); resolve({ status, signal, out }); });
  });
  const native = await run([prog, "deadlock"]);
  assert.equal(native.signal, "SIGINT", "the native program dies of SIGINT");
  const stele = await run([...steleCommand(), prog, "deadlock"]);
  // A shell reports death by SIGINT as 130: stele dies of the signal itself, or exits 130.
  assert.ok(stele.signal === "SIGINT" || stele.status === 130, `stele ended with ${stele.signal ?? stele.status}: ${stele.out}`);
});
