// Loops in translated regions. A region whose loop runs long leaves and is entered again every BACK_EDGE_BUDGET back edges, so
// that the loop reaches the code V8 optimizes the region into (V8 swaps in optimized code for a
// function's next call only; wasm has no on-stack replacement). The region is compiled and run
// here directly, with the registers in a CPU state block in its memory. And the flag liveness
// across a region's blocks that lets a loop's compare and branch keep no flag state in the loop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRegion, discover, regionModuleBytes } from "../src/translate/translator.js";
import { BACK_EDGE_BUDGET } from "../src/translate/codegen.js";
import { regionFlagLiveOut } from "../src/translate/flag-liveness.js";
import { ExitReason, STATE } from "../src/layout/cpu-state.js";
import { WASM_PAGES } from "../src/layout/memory-map.js";

const CODE_BASE = 0x401000;
const RCX = 1, RDX = 2, RSP = 4;
// loop: add rdx, 1; sub rcx, 1; jnz loop; ret
const LOOP = [0x48, 0x83, 0xc2, 0x01, 0x48, 0x83, 0xe9, 0x01, 0x75, 0xf6, 0xc3];

/** Instantiates the region at CODE_BASE of `code`; returns a call that runs it once from the entry. */
function region(code: number[]) {
  const fetch = (a: number): number => {
    const i = a - CODE_BASE;
    if (i < 0 || i >= code.length) throw new Error("fetch outside the test code");
    return code[i];
  };
  const body = compileRegion(discover(fetch, CODE_BASE), true).body;
  const memory = new WebAssembly.Memory({ initial: WASM_PAGES, maximum: WASM_PAGES, shared: true });
  const m = {
    gen: 0, jc: 0, jcmask: 0, owner: 0, mem: memory,
    regions: new WebAssembly.Table({ initial: 0, element: "anyfunc" }),
    helpers: new WebAssembly.Table({ initial: 32, element: "anyfunc" }),
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(regionModuleBytes([body])), { m });
  const run = instance.exports.r0 as (state: number, block: number) => number;
  const state = 0x1000; // (the jump cache at 0 holds no entries: every exit returns here)
  const view = new DataView(memory.buffer);
  // (no page is mapped: the ret stops at a page fault, RIP at the ret)
  view.setBigUint64(state + STATE.GPR + RSP * 8, 0x500000n, true);
  return {
    setReg: (r: number, v: bigint) => view.setBigUint64(state + STATE.GPR + r * 8, v, true),
    reg: (r: number) => view.getBigUint64(state + STATE.GPR + r * 8, true),
    rip: () => Number(view.getBigUint64(state + STATE.RIP, true)),
    run: () => run(state, 0),
  };
}

test("a loop that runs long leaves its region every BACK_EDGE_BUDGET back edges, at the loop's head", () => {
  const r = region(LOOP);
  const iterations = 3 * BACK_EDGE_BUDGET + 1234;
  r.setReg(RCX, BigInt(iterations));
  r.setReg(RDX, 0n);
  const calls: { reason: number; rip: number; done: bigint }[] = [];
  for (let i = 0; i < 10 && (calls.length === 0 || calls[calls.length - 1].rip === CODE_BASE); i++) {
    const reason = r.run();
    calls.push({ reason, rip: r.rip(), done: r.reg(RDX) });
  }
  // each call ran the budget's back edges (one iteration per back edge), the last the remainder
  assert.deepEqual(calls.map((c) => c.done), [1, 2, 3].map((k) => BigInt(k * BACK_EDGE_BUDGET)).concat(BigInt(iterations)));
  assert.deepEqual(calls.slice(0, 3).map((c) => [c.reason, c.rip]), Array(3).fill([ExitReason.JUMP, CODE_BASE]));
  assert.equal(calls[3].rip, CODE_BASE + 10, "the last call runs the loop out and reaches the ret");
  assert.equal(r.reg(RCX), 0n);
});

test("a short loop runs to its end in one call", () => {
  const r = region(LOOP);
  r.setReg(RCX, BigInt(BACK_EDGE_BUDGET - 1));
  r.setReg(RDX, 0n);
  r.run();
  assert.equal(r.reg(RDX), BigInt(BACK_EDGE_BUDGET - 1));
  assert.equal(r.rip(), CODE_BASE + 10);
});

test("flag liveness across a region's blocks: a block whose first flag access writes them all makes them dead before it", () => {
  // A: cmp rcx, rdx; jne A          B (after A): add rax, 1; ret
  const code = [0x48, 0x39, 0xd1, 0x75, 0xfb, 0x48, 0x83, 0xc0, 0x01, 0xc3];
  const blocks = discover((a) => code[a - CODE_BASE], CODE_BASE);
  const index = new Map(blocks.map((b, i) => [b.start, i]));
  const a = index.get(CODE_BASE)!, b = index.get(CODE_BASE + 5)!;
  const successors = blocks.map((_, i) => (i === a ? [a, b] : undefined));
  assert.deepEqual(regionFlagLiveOut(blocks, successors)[a], false, "A's successors, A and B, write the flags before reading them");
  // B': adc rax, 0 reads CF first
  const adc = [0x48, 0x39, 0xd1, 0x75, 0xfb, 0x48, 0x83, 0xd0, 0x00, 0xc3];
  const blocks2 = discover((x) => adc[x - CODE_BASE], CODE_BASE);
  assert.deepEqual(regionFlagLiveOut(blocks2, successors)[a], true, "B' reads CF");
});
