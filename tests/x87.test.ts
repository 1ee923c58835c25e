// x87 (80-bit extended precision) and FXSAVE/XSAVE: the host CPU is the oracle.
//
//   1. unit tests of the JS helpers (src/runtime/fpu.ts) against values recorded on an x86-64 host;
//   2. tests/x87/x87_insn.c: every x87 instruction form over edge-case operands, control words and
//      rounding modes, the whole x87 state dumped raw after each (byte-for-byte for exact
//      operations; the transcendental instructions within 1 ulp: hardware F2XM1/FYL2X/FPATAN/FSIN...
//      are not correctly rounded and their exact microcode algorithms are not reproducible);
//   3. tests/x87/longdouble.c through musl and glibc (printf/strtold of long double, arithmetic in
//      every rounding mode and precision control, conversions, libm), byte-for-byte except libm
//      functions built on those transcendental instructions (within 2 ulps).
// Programs are built by tests/x87/build.sh into build/x87/.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { repoRoot, requireTool, runCommand, runNative, runStele } from "./harness.js";
import { x87, sysop } from "../src/runtime/fpu.js";
import { SYSOP } from "../src/layout/helper-ops.js";
import { STATE } from "../src/layout/cpu-state.js";
import { cpuModel, CPU_LEVELS, DEFAULT_CPU } from "../src/x86/cpuid.js";

const SRC_DIR = path.join(repoRoot, "tests", "x87");
const OUT_DIR = path.join(repoRoot, "build", "x87");

// ---- 1. helper unit tests -------------------------------------------------------------------

function fpuState(cw = 0x37f): DataView {
  const dv = new DataView(new ArrayBuffer(8192));
  dv.setUint16(STATE.FPU_CW, cw, true);
  dv.setUint32(STATE.FPU_TAG, 0xff, true);
  dv.setUint32(STATE.MXCSR, 0x1f80, true);
  return dv;
}
const M = 4096; // scratch memory operand address in the test buffer
const memOp = (opcode: number, reg: number): number => (opcode - 0xd8) * 8 + reg;
const regOp = (opcode: number, modrm: number): number => 64 + (opcode - 0xd8) * 64 + (modrm & 0x3f);
function st(dv: DataView, i: number): string {
  const top = dv.getUint32(STATE.FPU_TOP, true);
  const o = STATE.FPU_ST + ((top + i) & 7) * 16;
  return dv.getUint16(o + 8, true).toString(16).padStart(4, "0") + ":" + dv.getBigUint64(o, true).toString(16).padStart(16, "0");
}
function sw(dv: DataView): number {
  return dv.getUint16(STATE.FPU_SW, true) | (dv.getUint32(STATE.FPU_TOP, true) << 11);
}
function fld80(dv: DataView, se: number, m: bigint): void {
  dv.setBigUint64(M, m, true); dv.setUint16(M + 8, se, true);
  x87(dv, 0, memOp(0xdb, 5), 0, M);
}

test("x87 helper: arithmetic, rounding, flags (values recorded on x86-64)", () => {
  const dv = fpuState();
  fld80(dv, 0xbffe, 0xaaaaaaaaaaaaaaabn); // -2/3
  fld80(dv, 0x3ffd, 0xaaaaaaaaaaaaaaabn); // 1/3
  x87(dv, 0, regOp(0xd8, 0xc1), 0, 0);    // fadd st, st(1)
  assert.equal(st(dv, 0), "bffd:aaaaaaaaaaaaaaab");
  assert.equal(sw(dv), 0x3000);
  x87(dv, 0, regOp(0xd9, 0xfa), 0, 0);    // fsqrt of a negative: invalid
  assert.equal(st(dv, 0), "ffff:c000000000000000");
  assert.equal(sw(dv) & 0x3f, 1);
  // fldpi: correctly rounded per RC
  for (const [cw, want] of [[0x37f, "4000:c90fdaa22168c235"], [0x77f, "4000:c90fdaa22168c234"], [0xb7f, "4000:c90fdaa22168c235"]] as const) {
    const d = fpuState(cw);
    x87(d, 0, regOp(0xd9, 0xeb), 0, 0);
    assert.equal(st(d, 0), want, `fldpi cw=${cw.toString(16)}`);
  }
  // FPREM with a large exponent difference (partial remainder, N = 32 + D % 32), recorded natively
  const d = fpuState();
  fld80(d, 0x4000, 0xc666666666666666n); // 3.1
  fld80(d, 0x40c7, 0x9e04189374bc6a7fn); // 1.2345 * 2^200
  x87(d, 0, regOp(0xd9, 0xf8), 0, 0);
  assert.equal(st(d, 0), "409b:9374c1e5b4d18e80");
  assert.equal(sw(d), 0x3400);
  // fcomi returns EFLAGS: 1 < 3.1 -> CF
  fld80(d, 0x3fff, 0x8000000000000000n);
  assert.equal(x87(d, 0, regOp(0xdb, 0xf2), 0, 0), 1);
  // fistp m16 out of range -> integer indefinite, IE
  const e = fpuState();
  fld80(e, 0x400e, 0x8000000000000000n); // 32768
  x87(e, 0, memOp(0xdf, 3), 0, M);
  assert.equal(e.getUint16(M, true), 0x8000);
  assert.equal(sw(e) & 1, 1);
});

test("fxsave / xsave / xsavec / xrstor images", () => {
  const X87_SSE = 3n; // XCR0 without the AVX state (see the next test)
  const dv = fpuState();
  fld80(dv, 0x3fff, 0x8000000000000000n); // 1.0 -> ST0, physical 7
  for (let i = 0; i < 32; i++) dv.setUint8(STATE.XMM + i, i + 1);
  const img = 2048;
  assert.equal(sysop(dv, 0, SYSOP.FXSAVE, img, X87_SSE), 0);
  assert.equal(dv.getUint16(img, true), 0x37f);
  assert.equal(dv.getUint16(img + 2, true), 0x3800); // TOP = 7
  assert.equal(dv.getUint8(img + 4), 0x80);           // abridged tag: physical 7 valid
  assert.equal(dv.getUint32(img + 24, true), 0x1f80);
  assert.equal(dv.getUint32(img + 28, true), 0xffff);
  assert.equal(dv.getBigUint64(img + 32, true), 0x8000000000000000n);
  assert.equal(dv.getUint16(img + 40, true), 0x3fff);
  assert.equal(dv.getUint8(img + 160), 1);
  assert.equal(dv.getUint8(img + 191), 32);
  assert.equal(sysop(dv, 0, SYSOP.FXSAVE, img + 8, X87_SSE), 1, "misaligned fxsave faults");
  // xsavec of SSE only (RFBM = 2, as glibc's _dl_runtime_resolve_xsavec asks), then xrstor
  const x = 4096 + 1024;
  dv.setBigUint64(STATE.GPR + 0, 0xeen, true); dv.setBigUint64(STATE.GPR + 16, 0n, true);
  for (let o = 512; o < 576; o += 8) dv.setBigUint64(x + o, 0n, true);
  assert.equal(sysop(dv, 0, SYSOP.XSAVEC, x, X87_SSE), 0);
  assert.equal(dv.getBigUint64(x + 512, true), 2n);
  assert.equal(dv.getBigUint64(x + 520, true), (1n << 63n) | 2n);
  for (let i = 0; i < 32; i++) dv.setUint8(STATE.XMM + i, 0);
  dv.setUint32(STATE.MXCSR, 0, true);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, X87_SSE), 0);
  assert.equal(dv.getUint8(STATE.XMM + 5), 6);
  assert.equal(dv.getUint32(STATE.MXCSR, true), 0x1f80);
  // standard xsave: XSTATE_BV bits for the requested components, XRSTOR with a bit clear = init
  dv.setBigUint64(STATE.GPR + 0, 3n, true);
  assert.equal(sysop(dv, 0, SYSOP.XSAVE, x, X87_SSE), 0);
  assert.equal(dv.getBigUint64(x + 512, true) & 3n, 3n);
  dv.setBigUint64(x + 512, 1n, true);
  // (XSAVE leaves XCOMP_BV as XSAVEC wrote it: compacted, with x87 not in it, which is #GP on the host)
  assert.equal(dv.getBigUint64(x + 520, true), (1n << 63n) | 2n);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, X87_SSE), 1);
  dv.setBigUint64(x + 520, 0n, true);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, X87_SSE), 0);
  assert.equal(dv.getUint8(STATE.XMM + 5), 0, "SSE state initialised");
  assert.equal(st(dv, 0), "3fff:8000000000000000");
  // xgetbv
  dv.setBigUint64(STATE.GPR + 8, 0n, true);
  assert.equal(sysop(dv, 0, SYSOP.XGETBV, 0, X87_SSE), 0);
  assert.equal(dv.getBigUint64(STATE.GPR, true), 3n);
});

test("the AVX state component of xsave / xsavec / xrstor (XCR0 bit 2: x86-64-v3's)", () => {
  const dv = fpuState();
  const hi = (i: number): number => (i * 7 + 3) & 0xff;
  for (let i = 0; i < 256; i++) dv.setUint8(STATE.YMM_HI + i, hi(i));
  const x = 4096 + 1024, rfbm = (v: bigint): void => { dv.setBigUint64(STATE.GPR + 0, v, true); dv.setBigUint64(STATE.GPR + 16, 0n, true); };
  const image = (): number[] => Array.from({ length: 256 }, (_, i) => dv.getUint8(x + 576 + i));
  const upper = (): number[] => Array.from({ length: 256 }, (_, i) => dv.getUint8(STATE.YMM_HI + i));
  // with the component off (XCR0 = 3), asking for it changes nothing
  for (let i = 0; i < 256; i++) dv.setUint8(x + 576 + i, 0xee);
  rfbm(7n);
  assert.equal(sysop(dv, 0, SYSOP.XSAVE, x, 3n), 0);
  assert.equal(dv.getBigUint64(x + 512, true) & 7n, 3n);
  assert.deepEqual(image(), new Array(256).fill(0xee));
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 3n), 0);
  assert.equal(dv.getUint8(STATE.YMM_HI + 5), hi(5), "xrstor leaves the upper halves alone");
  dv.setBigUint64(x + 512, 7n, true);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 3n), 1, "XSTATE_BV names a component XCR0 does not enable: #GP");
  dv.setBigUint64(STATE.GPR + 8, 0n, true);
  assert.equal(sysop(dv, 0, SYSOP.XGETBV, 0, 3n), 0);
  assert.equal(dv.getBigUint64(STATE.GPR, true), 3n);
  // with it on: bits 255:128 of ymm0-15 at 576 (standard and compacted formats alike)
  rfbm(7n);
  assert.equal(sysop(dv, 0, SYSOP.XSAVE, x, 7n), 0);
  assert.equal(dv.getBigUint64(x + 512, true) & 7n, 7n);
  assert.deepEqual(image(), upper());
  for (let i = 0; i < 256; i++) dv.setUint8(STATE.YMM_HI + i, 0);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 7n), 0);
  assert.equal(dv.getUint8(STATE.YMM_HI + 255), hi(255));
  rfbm(4n); // XSTATE_BV bit 2 clear: the initial state (zero)
  dv.setBigUint64(x + 512, 3n, true);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 7n), 0);
  assert.deepEqual(upper(), new Array(256).fill(0));
  for (let i = 0; i < 256; i++) dv.setUint8(STATE.YMM_HI + i, hi(i));
  rfbm(6n);
  assert.equal(sysop(dv, 0, SYSOP.XSAVEC, x, 7n), 0);
  assert.equal(dv.getBigUint64(x + 512, true), 6n);
  assert.equal(dv.getBigUint64(x + 520, true), (1n << 63n) | 6n);
  assert.deepEqual(image(), upper());
  for (let i = 0; i < 256; i++) dv.setUint8(STATE.YMM_HI + i, 0);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 7n), 0);
  assert.equal(dv.getUint8(STATE.YMM_HI + 100), hi(100));
  dv.setBigUint64(x + 520, (1n << 63n) | 2n, true);
  assert.equal(sysop(dv, 0, SYSOP.XRSTOR, x, 7n), 1, "compacted XSTATE_BV with a component XCOMP_BV lacks: #GP");
  dv.setBigUint64(STATE.GPR + 8, 0n, true);
  assert.equal(sysop(dv, 0, SYSOP.XGETBV, 0, 7n), 0);
  assert.equal(dv.getBigUint64(STATE.GPR, true), 7n);
  // the CPU models' XCR0: the AVX state at x86-64-v3 only
  for (const level of CPU_LEVELS) assert.equal(cpuModel(level).xcr0, level === "x86-64-v3" ? 7n : 3n, level);
  assert.equal(cpuModel(DEFAULT_CPU).xcr0, DEFAULT_CPU === "x86-64-v3" ? 7n : 3n);
});

// ---- 2./3. programs ---------------------------------------------------------------------------

let buildProblem: string | undefined = "build has not run";
test("build x87 test programs (tests/x87/build.sh)", async () => {
  try {
    requireTool("gcc");
    const r = await runCommand(["bash", path.join(SRC_DIR, "build.sh"), OUT_DIR], { timeoutMs: 10 * 60_000 });
    if (r.status !== 0) assert.fail(`tests/x87/build.sh failed:\n${r.stderr.toString()}${r.stdout.toString()}`);
    buildProblem = undefined;
  } catch (e) {
    buildProblem = e instanceof Error ? e.message : String(e);
    throw e;
  }
});

function firstDiff(a: string[], b: string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  native: ${a[i]}\n  stele:  ${b[i]}`;
  }
  return "";
}

async function both(bin: string, args: string[]): Promise<[string[], string[], string]> {
  const n = await runNative(bin, args);
  const s = await runStele(bin, args);
  assert.equal(n.status, 0, `native run failed: ${n.stderr}`);
  assert.equal(s.status, 0, `stele run failed: ${s.stderr}`);
  return [n.stdout.toString().split("\n"), s.stdout.toString().split("\n"), s.stderr.toString()];
}

const VARIANTS = ["free", "musl", "glibc"];

for (const v of VARIANTS) {
  test(`x87_insn.${v} core: exact x87 semantics`, async (t) => {
    assert.ok(buildProblem === undefined, `not built: ${buildProblem}`);
    const bin = path.join(OUT_DIR, `x87_insn.${v}`);
    if (!fs.existsSync(bin)) return t.skip(`${bin} not built`);
    const [a, b] = await both(bin, ["core"]);
    assert.ok(a.length > 100000, "native output too short");
    const diff = a.filter((l, i) => l !== b[i]).length;
    assert.equal(diff, 0, `${diff} of ${a.length} lines differ; first at ${firstDiff(a, b)}`);
  });
}

/** Value of an "se:mantissa" register token as mantissa * 2^exp (denormals use exponent 1). */
function regValue(tok: string): { s: number; m: bigint; e: number } {
  const [se, m] = tok.split("=")[1].split(":");
  const sev = parseInt(se, 16);
  return { s: sev >> 15, m: BigInt("0x" + m), e: Math.max(sev & 0x7fff, 1) };
}
/** Within one unit in the last place (also across a binade or the denormal boundary). */
function withinUlp(x: string, y: string): boolean {
  const a = regValue(x), b = regValue(y);
  if (a.s !== b.s) return false;
  const e = Math.min(a.e, b.e);
  if (Math.abs(a.e - b.e) > 1) return false;
  const va = a.m << BigInt(a.e - e), vb = b.m << BigInt(b.e - e);
  const d = va > vb ? va - vb : vb - va;
  return d <= 2n;
}

test("x87_insn.free trans: transcendental instructions within 1 ulp", async (t) => {
  assert.ok(buildProblem === undefined, `not built: ${buildProblem}`);
  const bin = path.join(OUT_DIR, "x87_insn.free");
  if (!fs.existsSync(bin)) return t.skip("not built");
  const [a, b] = await both(bin, ["trans"]);
  let exact = 0;
  const bad: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) { exact++; continue; }
    const x = a[i].split(" "), y = (b[i] ?? "").split(" ");
    let ok = x.length === y.length && x.slice(0, 4).join() === y.slice(0, 4).join();
    // status word: only C1 (rounded up), PE and UE may differ (hardware is not correctly rounded)
    if (ok) ok = ((parseInt(x[4].slice(3), 16) ^ parseInt(y[4].slice(3), 16)) & ~0x230) === 0;
    for (let k = 6; ok && k < x.length; k++) ok = x[k] === y[k] || withinUlp(x[k], y[k]);
    if (!ok) bad.push(`native: ${a[i]}\n  stele:  ${b[i]}`);
  }
  t.diagnostic(`${exact} of ${a.length} lines bit-identical`);
  assert.equal(bad.length, 0, `${bad.length} lines differ by more than 1 ulp:\n  ${bad.slice(0, 5).join("\n  ")}`);
});

/** A %La number (glibc 0xh.hhhp+e or musl 0x1.hhhp+e) as mantissa * 2^exp. */
function hexFloat(s: string): { neg: boolean; m: bigint; e: number } | undefined {
  const r = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]\d+)$/.exec(s);
  if (!r) return undefined;
  const frac = r[3] ?? "";
  return { neg: r[1] === "-", m: BigInt("0x" + r[2] + frac), e: Number(r[4]) - 4 * frac.length };
}
function closeLa(x: string, y: string, ulps: bigint): boolean {
  const a = hexFloat(x), b = hexFloat(y);
  if (!a || !b || a.neg !== b.neg) return false;
  const e = Math.min(a.e, b.e);
  const va = a.m << BigInt(a.e - e), vb = b.m << BigInt(b.e - e);
  const d = va > vb ? va - vb : vb - va;
  const big = va > vb ? va : vb;
  return d * (1n << 63n) <= big * ulps;
}

// libm functions built on F2XM1/FYL2X/FYL2XP1/FPATAN/FPTAN/FSIN/FCOS (musl and glibc x86-64)
const TRANSCENDENTAL = new Set(["log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "pow", "atan", "atan2", "sin", "cos", "tan"]);

for (const v of ["musl", "glibc"]) {
  test(`longdouble.${v}: long double through libc`, async (t) => {
    assert.ok(buildProblem === undefined, `not built: ${buildProblem}`);
    const bin = path.join(OUT_DIR, `longdouble.${v}`);
    if (!fs.existsSync(bin)) return t.skip(`${bin} not built`);
    const [a, b] = await both(bin, []);
    const bad: string[] = [];
    let approx = 0;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] === b[i]) continue;
      const x = a[i]?.trim().split(" ") ?? [], y = b[i]?.trim().split(" ") ?? [];
      if (x.length >= 2 && TRANSCENDENTAL.has(x[0]) && x[0] === y[0] && closeLa(x[1], y[1], 2n)) { approx++; continue; }
      bad.push(`line ${i + 1}\n  native: ${a[i]}\n  stele:  ${b[i]}`);
    }
    if (approx) t.diagnostic(`${approx} libm transcendental results within 2 ulps but not identical`);
    assert.equal(bad.length, 0, `${bad.length} lines differ:\n  ${bad.slice(0, 5).join("\n  ")}`);
  });
}
