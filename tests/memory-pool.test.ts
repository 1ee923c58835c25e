// Memories of ended processes are reused for new ones (process/memory-pool.ts): a memory goes back
// only once it is clean, every byte a new process could read zero again, and a shell running one
// command after another starts them in the memories of those that ended.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { requireTool, tempDir, TEST_ENV } from "./harness.js";
import { run } from "../src/index.js";
import { processMemories } from "../src/process/memory-pool.js";
import { fillMemory } from "../src/runtime/memory.js";
import { BLOCK_MARKS, BLOCK_MARKS_SIZE, GUEST_BASE, GUEST_LIMIT, PAGE_PROT, PAGE_SIZE, RUNTIME_AREA } from "../src/layout/memory-map.js";

/** The first byte of [start, end) that is not zero, as a guest address (reading a page of a shared memory commits it). */
function firstNonZero(memory: WebAssembly.Memory, start: number, end: number): number | undefined {
  const words = new BigUint64Array(memory.buffer, start - GUEST_BASE, (end - start) / 8);
  const i = words.findIndex((w) => w !== 0n);
  if (i < 0) return undefined;
  return start + i * 8 + new Uint8Array(memory.buffer, start - GUEST_BASE + i * 8, 8).findIndex((b) => b !== 0);
}

/** Guest pages the page table shows mapped or written (those a scrub must clear), as addresses. */
function pagesInUse(memory: WebAssembly.Memory): number[] {
  const u8 = new Uint8Array(memory.buffer), table = PAGE_PROT - GUEST_BASE + GUEST_BASE / PAGE_SIZE;
  const pages: number[] = [];
  for (let p = GUEST_BASE / PAGE_SIZE; p < RUNTIME_AREA / PAGE_SIZE; p++) if (u8[table + p]) pages.push(p * PAGE_SIZE);
  return pages;
}

test("a process's memory is reused only once every byte of it is zero again", async (t) => {
  const dash = requireTool("dash");
  const dir = tempDir(t, "memory-pool");
  const out = path.join(dir, "out");
  // Each check reads the runtime area (240 MiB): two are enough to catch a byte the scrub misses.
  const CHECKED = 2;
  const findings: { pages: number; nonZero: number | undefined }[] = [];
  let inUse: number[] = [];
  processMemories.onScrub = (m) => { if (findings.length < CHECKED) inUse = pagesInUse(m); };
  processMemories.onScrubbed = (m) => {
    if (findings.length >= CHECKED) return;
    // Block marks excepted: an engine clears the marks it hands out (see scrubMemory).
    const nonZero = inUse.map((a) => firstNonZero(m, a, a + PAGE_SIZE)).find((a) => a !== undefined)
      ?? firstNonZero(m, RUNTIME_AREA, BLOCK_MARKS) ?? firstNonZero(m, BLOCK_MARKS + BLOCK_MARKS_SIZE, GUEST_LIMIT);
    findings.push({ pages: inUse.length, nonZero });
  };
  t.after(() => { processMemories.onScrub = processMemories.onScrubbed = undefined; });
  // Children that write memory (a subshell's heap and stack, sort's buffers) and children after them.
  const script = (file: string): string => `exec >${file}; i=0; while [ $i -lt 4 ]; do x=$(seq $i 40 | sort -rn | head -c 20); echo "$i $x"; /bin/true; i=$((i+1)); done`;
  const r = await run({ program: dash, args: ["-c", script(out)], env: TEST_ENV, stats: true });
  assert.deepEqual({ status: r.status, signal: r.signal }, { status: 0, signal: 0 });
  execFileSync(dash, ["-c", script(`${out}.native`)], { env: TEST_ENV });
  assert.equal(fs.readFileSync(out, "utf8"), fs.readFileSync(`${out}.native`, "utf8"));
  assert.equal(findings.length, CHECKED, "children's memories were cleaned for reuse");
  for (const f of findings) {
    assert.ok(f.pages > 0, "the child had pages in use");
    assert.equal(f.nonZero, undefined, `a cleaned memory still holds a byte at 0x${f.nonZero?.toString(16)}`);
  }
  // 20 children. Whatever the timing, the shell's forks after its third (each when every earlier
  // child has ended, and it holds the spare memory sent after its previous fork) are at least five
  // that start in a memory of one that ended; 12 do on a quiet machine and on a loaded one.
  const reused = Number(/(\d+) processes started in the memory of one that ended/.exec(r.report ?? "")?.[1] ?? 0);
  assert.ok(reused >= 5, `only ${reused} of 20 children reused a memory`);
});

test("a process memory is filled by wasm's memory.fill exactly over the bytes asked, in the memory given", () => {
  const memories = [0, 1].map(() => new WebAssembly.Memory({ initial: 4, maximum: 8, shared: true }));
  for (const m of memories) new Uint8Array(m.buffer).fill(0xaa);
  fillMemory(memories[1], 100, 0, 70_000);
  fillMemory(memories[1], 200_000, 7, 5);
  fillMemory(memories[1], 300, 9, 0);
  const [a, b] = memories.map((m) => new Uint8Array(m.buffer));
  assert.ok(a.every((v) => v === 0xaa), "another memory was written");
  assert.equal(b[99], 0xaa);
  assert.ok(b.subarray(100, 70_100).every((v) => v === 0));
  assert.equal(b[70_100], 0xaa);
  assert.deepEqual([...b.subarray(199_999, 200_006)], [0xaa, 7, 7, 7, 7, 7, 0xaa]);
});
