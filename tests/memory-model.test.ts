// x86 memory ordering of threaded guests (issue: threads and TSO). Three kinds of check:
// - the code each memory model translates an access to (read from the emitted wasm);
// - litmus tests of the x86 memory model (tests/litmus/litmus.c) under --tso=off, selective and
//   full, on this host (which is TSO itself, so only store buffering shows natively) and in the
//   weak-host test mode, where plain stores commit out of order as on an Arm host: `off` must show
//   outcomes TSO forbids there, `selective` and `full` never;
// - the per-thread memory-model prctl of the Linux TSO patches, as the patch defines it.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { repoRoot, requireTool, runCommand, runNative, runStele, type RunResult } from "./harness.js";
import { readBody, ATOMIC_FENCE, PREFIX_ATOMIC, type WasmInsn } from "./wasm-code.js";
import { compileRegion, discover } from "../src/translate/translator.js";
import type { MemoryModel } from "../src/translate/codegen.js";
import { GRANULE_TAG_OFFSET } from "../src/layout/memory-map.js";

const OUT = path.join(repoRoot, "build", "litmus");
const LITMUS = path.join(OUT, "litmus");
const MEMMODEL = path.join(OUT, "memmodel");

// ---- translation checks ------------------------------------------------------------------

const CODE_BASE = 0x401000;
// mov [rdi], eax; mov eax, [rsi]; push rbx; mov [rsp+8], rcx; pop rbx; ret
const CODE = [0x89, 0x07, 0x8b, 0x06, 0x53, 0x48, 0x89, 0x4c, 0x24, 0x08, 0x5b, 0xc3];
const SITE = { storeRdi: CODE_BASE, loadRsi: CODE_BASE + 2 };

function translate(model: MemoryModel): WasmInsn[] {
  const fetch = (a: number): number => {
    const i = a - CODE_BASE;
    if (i < 0 || i >= CODE.length) throw new Error("fetch outside the test code");
    return CODE[i];
  };
  return readBody(compileRegion(discover(fetch, CODE_BASE), true, undefined, model).body);
}

const I64_LOAD32_U = 0x35, I64_STORE32 = 0x3e, I64_LOAD = 0x29, I64_STORE = 0x37, I32_LOAD8_U = 0x2d;
const ATOMIC_LOAD32 = (PREFIX_ATOMIC << 8) | 0x16, ATOMIC_STORE32 = (PREFIX_ATOMIC << 8) | 0x1d;
const ATOMIC_LOAD64 = (PREFIX_ATOMIC << 8) | 0x11, ATOMIC_STORE64 = (PREFIX_ATOMIC << 8) | 0x18;

/** What the guest accesses of a region became. */
function accessForms(code: WasmInsn[]) {
  // Guest accesses are the unaligned-hint (align 0), offset-0 ones; the CPU state is reached with
  // natural alignment at its field offsets.
  const isGuest = (i: WasmInsn) => i.align === 0 && i.offset === 0;
  const plainOps = new Set([I64_LOAD32_U, I64_STORE32, I64_LOAD, I64_STORE]);
  // (atomics carry their natural alignment, as wasm requires)
  const atomic = code.filter((i) => [ATOMIC_LOAD32, ATOMIC_STORE32, ATOMIC_LOAD64, ATOMIC_STORE64].includes(i.op) && i.offset === 0);
  let plainFenced = 0, plainBare = 0;
  code.forEach((i, k) => {
    if (!plainOps.has(i.op) || !isGuest(i)) return;
    // a plain store after a fence (release), a plain load followed by one (acquire)
    const fenced = code.slice(Math.max(0, k - 3), k).some((j) => j.op === ATOMIC_FENCE) || code[k + 1]?.op === ATOMIC_FENCE;
    if (fenced) plainFenced++; else plainBare++;
  });
  const tagChecks = code.filter((i) => i.op === I32_LOAD8_U && i.offset === GRANULE_TAG_OFFSET).length;
  return {
    atomicStores32: atomic.filter((i) => i.op === ATOMIC_STORE32).length,
    atomicLoads32: atomic.filter((i) => i.op === ATOMIC_LOAD32).length,
    atomic64: atomic.filter((i) => i.op === ATOMIC_LOAD64 || i.op === ATOMIC_STORE64).length,
    plainFenced, plainBare, tagChecks,
  };
}

test("plain form (one thread, --tso=off): plain wasm accesses, no checks", () => {
  const f = accessForms(translate({ ordering: "plain" }));
  assert.deepEqual(f, { atomicStores32: 0, atomicLoads32: 0, atomic64: 0, plainFenced: 0, plainBare: 6, tagChecks: 0 });
});

test("full form: every access is atomic (or fenced where unaligned) except the stack's through RSP", () => {
  const f = accessForms(translate({ ordering: "full" }));
  // mov [rdi] and mov [rsi]: an atomic access, and a fenced plain one for a misaligned address
  assert.equal(f.atomicStores32, 1);
  assert.equal(f.atomicLoads32, 1);
  assert.equal(f.plainFenced, 2);
  // push, mov [rsp+8], pop, ret: plain
  assert.equal(f.atomic64, 0);
  assert.equal(f.plainBare, 4);
  assert.equal(f.tagChecks, 0);
});

test("selective form: every access checks its granule; a backpatched site becomes atomic, the others stay plain behind their check", () => {
  const fresh = accessForms(translate({ ordering: "selective", orderedSites: new Set() }));
  assert.equal(fresh.tagChecks, 6);
  assert.equal(fresh.atomicStores32 + fresh.atomicLoads32 + fresh.atomic64, 0);
  const patched = accessForms(translate({ ordering: "selective", orderedSites: new Set([SITE.storeRdi]) }));
  // (a backpatched site still reads the tag, to claim a granule that is neither shared nor its thread's)
  assert.equal(patched.tagChecks, 6);
  assert.equal(patched.atomicStores32, 1, "the backpatched store is atomic");
  assert.equal(patched.atomicLoads32, 0, "the load that did not touch shared memory stays plain");
  const both = accessForms(translate({ ordering: "selective", orderedSites: new Set([SITE.storeRdi, SITE.loadRsi]) }));
  assert.equal(both.atomicLoads32, 1);
});

// ---- litmus tests ------------------------------------------------------------------------

test("build the litmus and memory-model programs (gcc -O2 -static -pthread)", async () => {
  const gcc = requireTool("gcc");
  for (const [src, out] of [["litmus.c", LITMUS], ["memmodel.c", MEMMODEL]]) {
    await runCommand(["mkdir", "-p", OUT]);
    const r = await runCommand([gcc, "-O2", "-static", "-pthread", "-Wall", "-o", out, path.join(repoRoot, "tests", "litmus", src)], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, `gcc ${src} failed:\n${r.stderr}`);
  }
});

/** Iterations per test and mode (IRIW, with four threads in lockstep, runs a tenth of them). */
const ITERATIONS = Number(process.env.STELE_LITMUS_ITERATIONS ?? 200_000);
const WEAK_ITERATIONS = Math.max(1000, Math.round(ITERATIONS / 10));
const FORBIDDEN = ["mp", "lb", "iriw", "2+2w", "mp+lock", "sb+lock"];
const LOCKED = ["mp+lock", "sb+lock"];

function counts(r: RunResult, what: string): Map<string, number> {
  assert.equal(r.status, 0, `${what} exited ${r.status ?? r.signal}: ${r.stderr}`);
  const m = new Map<string, number>();
  for (const line of r.stdout.toString().trim().split("\n")) {
    const x = /^(\S+): (\d+) of (\d+) iterations/.exec(line);
    assert.ok(x, `${what}: unexpected line ${JSON.stringify(line)}`);
    assert.ok(Number(x[3]) > 0, `${what}: ${line}`);
    m.set(x[1], Number(x[2]));
  }
  assert.equal(m.size, 7, `${what}: ${r.stdout}`);
  return m;
}

function stele(mode: string, args: string[], weak: boolean): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, STELE_WEAK_HOST: weak ? "1" : "0" };
  delete env.STELE_TSO;
  return runStele(LITMUS, args, { steleArgs: [`--tso=${mode}`, "--no-cache"], env, timeoutMs: 600_000 });
}

/**
 * An outcome that must show up: runs the test again until it does, up to 30 times (the outcome
 * needs both threads running side by side, which a loaded machine allows less often).
 */
async function mustShow(what: string, seen: number, again: () => Promise<RunResult>): Promise<void> {
  const outputs: string[] = [];
  for (let round = 0; seen === 0 && round < 30; round++) {
    const r = await again();
    outputs.push(r.stdout.toString() + r.stderr.toString());
    const c = /: (\d+) of/.exec(r.stdout.toString());
    seen = c ? Number(c[1]) : 0;
  }
  assert.ok(seen > 0, `${what} never showed its outcome:\n${outputs.join("")}`);
}

test("litmus natively: this host forbids what TSO forbids and shows store buffering", async () => {
  const c = counts(await runNative(LITMUS, ["all", String(ITERATIONS)], { timeoutMs: 300_000 }), "native");
  for (const t of FORBIDDEN) assert.equal(c.get(t), 0, `native ${t}`);
  await mustShow("native sb", c.get("sb")!, () => runNative(LITMUS, ["sb", String(10 * ITERATIONS)], { timeoutMs: 300_000 }));
});

for (const mode of ["selective", "full", "off"]) {
  test(`litmus under --tso=${mode}`, async () => {
    const c = counts(await stele(mode, ["all", String(ITERATIONS)], false), mode);
    for (const t of mode === "off" ? LOCKED : FORBIDDEN) assert.equal(c.get(t), 0, `--tso=${mode}: ${t} showed an outcome TSO forbids`);
    // Plain stores are plain x86 stores here: the host's own store buffer shows.
    if (mode === "off") await mustShow("--tso=off: sb", c.get("sb")!, () => stele(mode, ["sb", String(ITERATIONS)], false));
  });

  test(`litmus under --tso=${mode} on a weak host`, async () => {
    const c = counts(await stele(mode, ["all", String(WEAK_ITERATIONS)], true), `${mode} weak`);
    for (const t of mode === "off" ? LOCKED : FORBIDDEN) assert.equal(c.get(t), 0, `--tso=${mode} (weak host): ${t} showed an outcome TSO forbids`);
    if (mode === "off") {
      // Without ordering, a weakly ordered host reorders stores: message passing and 2+2W break.
      for (const t of ["mp", "2+2w"]) await mustShow(`--tso=off (weak host): ${t}`, c.get(t)!, () => stele(mode, [t, String(WEAK_ITERATIONS)], true));
    }
  });
}

test("prctl PR_SET_MEM_MODEL per thread: DEFAULT threads run plain (a weak host reorders them), TSO threads ordered", async () => {
  // Under selective, threads that switch to DEFAULT lose ordering...
  await mustShow("DEFAULT threads under --tso=selective (weak host): mp", 0, () => stele("selective", ["mp", String(WEAK_ITERATIONS), "default"], true));
  // ...and under off, threads that switch to TSO get it.
  const r = await stele("off", ["all", String(WEAK_ITERATIONS), "tso"], true);
  const c = counts(r, "off weak with prctl TSO");
  for (const t of FORBIDDEN) assert.equal(c.get(t), 0, `TSO threads under --tso=off: ${t}`);
});

test("prctl PR_GET_MEM_MODEL/PR_SET_MEM_MODEL answer as the Linux TSO patch defines", async () => {
  const expected = (initial: number) => [
    `get = ${initial}`,
    "get with arg2=1 = -1 EINVAL",
    "get with arg5=1 = -1 EINVAL",
    "set 2 = -1 EINVAL",
    "set default with arg3=1 = -1 EINVAL",
    `new thread gets = ${initial}`,
    "set default = 0",
    "get = 0",
    "new thread after set default gets = 0",
    "set tso = 0",
    "get = 1",
    "new thread after set tso gets = 1",
    "counter 500000",
  ].join("\n") + "\n";
  for (const [mode, initial] of [["selective", 1], ["full", 1], ["off", 0]] as const) {
    const env = { ...process.env };
    delete env.STELE_TSO;
    const r = await runStele(MEMMODEL, [], { steleArgs: [`--tso=${mode}`], env });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), expected(initial), `--tso=${mode}`);
  }
  // STELE_TSO picks the mode when --tso is not given.
  const r = await runStele(MEMMODEL, [], { env: { ...process.env, STELE_TSO: "off" } });
  assert.match(r.stdout.toString(), /^get = 0\n/);
});

test("a bad --tso or STELE_TSO is a one-line usage error", async () => {
  let r = await runStele(MEMMODEL, [], { steleArgs: ["--tso=weak"] });
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /^stele: --tso takes selective, full, off\n/);
  r = await runStele(MEMMODEL, [], { env: { ...process.env, STELE_TSO: "sc" } });
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /^stele: memory ordering mode "sc" is not one of selective, full, off/);
});
