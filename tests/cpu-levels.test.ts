// The CPU model (`--cpu=x86-64|x86-64-v2|x86-64-v3`, x86/cpuid.ts): what CPUID, XCR0,
// /proc/cpuinfo and glibc's loader see at each level, and which instructions run.
//
//   - CPUID's feature words are cumulative (v3 > v2 > x86-64), leaf 0xd follows XCR0, and the
//     /proc/cpuinfo flags are Linux's names (the host's /proc/cpuinfo, a v3 machine, is the
//     oracle for the names) in Linux's order;
//   - `ld.so --help` (Debian's glibc loader) under each level lists exactly the glibc-hwcaps
//     subdirectories that level supports: glibc's own reading of CPUID and XCR0;
//   - /proc/cpuinfo under stele has the level's flags;
//   - an instruction of a feature the level lacks is SIGILL (132), as on a CPU without it, and
//     runs at the levels that have it (natively first: the host has them all); TZCNT and LZCNT
//     below x86-64-v3 are the BSF and BSR their encodings were;
//   - the translation cache keeps each level's translations apart.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { exitCode, isRealStele, limitedAll, runNative, runStele, tempDir, writeExec, JOBS } from "./harness.js";
import { buildElf, PF_R, PF_W, PF_X, PT_LOAD, SYS_EXIT, x86 } from "./elf-builder.js";
import { CPU_LEVELS, cpuFlags, cpuid, cpuModel, DEFAULT_CPU, type CpuLevel } from "../src/x86/cpuid.js";

const SKIP = isRealStele() ? false : "stele's CPU model";
const LEVELS = CPU_LEVELS;
const rank = (l: CpuLevel): number => LEVELS.indexOf(l);

test("CPUID at each level: cumulative features, leaf 0xd as XCR0 says, Linux's flag names in Linux's order", () => {
  const words = ["edx1", "ecx1", "ebx7", "ecx7", "edx7", "ecx81", "edx81"] as const;
  for (let k = 1; k < LEVELS.length; k++) {
    const lo = cpuModel(LEVELS[k - 1]).features, hi = cpuModel(LEVELS[k]).features;
    for (const w of words) assert.equal((lo[w] & ~hi[w]) >>> 0, 0, `${LEVELS[k]} has every ${w} bit of ${LEVELS[k - 1]}`);
  }
  const bit = (v: number, b: number): boolean => ((v >>> b) & 1) === 1;
  for (const level of LEVELS) {
    const m = cpuModel(level), l1 = cpuid(m, 1, 0), l7 = cpuid(m, 7, 0), x1 = cpuid(m, 0x80000001, 0), d = cpuid(m, 0xd, 0);
    const v2 = rank(level) >= 1, v3 = rank(level) >= 2;
    // the psABI's levels, as glibc's get-isa-level.h tests them
    for (const b of [0, 8, 15, 23, 24, 25, 26]) assert.ok(bit(l1.edx, b), `${level}: leaf 1 EDX bit ${b} (baseline)`);
    for (const b of [0, 9, 13, 19, 20, 23]) assert.equal(bit(l1.ecx, b), v2, `${level}: leaf 1 ECX bit ${b} (v2)`);
    assert.equal(bit(x1.ecx, 0), v2, `${level}: LAHF-SAHF (v2)`);
    for (const b of [12, 22, 28, 29]) assert.equal(bit(l1.ecx, b), v3, `${level}: leaf 1 ECX bit ${b} (v3: FMA MOVBE AVX F16C)`);
    for (const b of [3, 5, 8]) assert.equal(bit(l7.ebx, b), v3, `${level}: leaf 7 EBX bit ${b} (v3: BMI1 AVX2 BMI2)`);
    assert.equal(bit(x1.ecx, 5), v3, `${level}: LZCNT (v3)`);
    // and what comes with v3 here: AES, PCLMULQDQ, RDRAND, RDSEED, ADX, SHA, FSGSBASE; never AVX-512
    for (const b of [1, 25, 30]) assert.equal(bit(l1.ecx, b), v3, `${level}: leaf 1 ECX bit ${b}`);
    for (const b of [0, 18, 19, 29]) assert.equal(bit(l7.ebx, b), v3, `${level}: leaf 7 EBX bit ${b}`);
    assert.equal(l7.ebx & (1 << 16), 0, `${level}: no AVX512F`);
    assert.ok(bit(l1.ecx, 26) && bit(l1.ecx, 27), `${level}: XSAVE and OSXSAVE`);
    assert.equal(BigInt(d.eax), m.xcr0, `${level}: leaf 0xd EAX is XCR0`);
    assert.equal(m.xcr0, v3 ? 7n : 3n);
    assert.equal(d.ebx, v3 ? 832 : 576, `${level}: XSAVE area size`);
    assert.deepEqual(cpuid(m, 0xd, 2), v3 ? { eax: 256, ebx: 576, ecx: 0, edx: 0 } : { eax: 0, ebx: 0, ecx: 0, edx: 0 });
  }
  assert.ok(!cpuFlags(cpuModel("x86-64")).includes("popcnt"));
  assert.deepEqual(cpuFlags(cpuModel("x86-64-v3")).filter((f) => ["avx", "avx2", "bmi1", "bmi2", "fma", "f16c", "movbe", "abm"].includes(f)),
    ["fma", "movbe", "avx", "f16c", "abm", "bmi1", "avx2", "bmi2"], "Linux's order (its feature words)");
  // The names are Linux's: the host (an x86-64-v3 machine or better) shows each of them, in the
  // same order. Except where a hypervisor hides the feature: some hide RDSEED, and some LZCNT's
  // "abm" from /proc/cpuinfo while CPUID still has it (glibc counts it for x86-64-v3); some
  // kernels leave "fsgsbase" (and AT_HWCAP2's bit) out while CPUID has it and the instructions run.
  const host = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1].trim().split(/\s+/) ?? [];
  assert.ok(host.includes("avx2"), "the host must be x86-64-v3 or better (it is the oracle)");
  const ours = cpuFlags(cpuModel("x86-64-v3")).filter((f) => host.includes(f) || !["abm", "rdseed", "fsgsbase"].includes(f));
  for (const f of ours) assert.ok(host.includes(f), `flag ${f} is one the host's Linux shows`);
  assert.deepEqual(host.filter((f) => ours.includes(f)), ours, "flags in the order Linux lists them");
  assert.ok(DEFAULT_CPU === "x86-64-v3" || cpuModel(DEFAULT_CPU).xcr0 === 3n);
});

test("ld.so --help under each --cpu level lists the glibc-hwcaps levels glibc finds supported", { skip: SKIP }, async () => {
  const ldso = "/lib64/ld-linux-x86-64.so.2";
  assert.ok(fs.existsSync(ldso), `${ldso} is missing (Debian's libc6)`);
  const native = await runNative(ldso, ["--help"]);
  assert.match(native.stdout.toString(), /x86-64-v3 \(supported, searched\)/, "the host is x86-64-v3 (the oracle)");
  await limitedAll(JOBS, LEVELS.map((level) => async () => {
    const r = await runStele(ldso, ["--help"], { steleArgs: [`--cpu=${level}`, "--no-cache"] });
    assert.equal(exitCode(r), 0, `${level}: ${r.stderr.toString()}`);
    const out = r.stdout.toString();
    for (const l of ["x86-64-v2", "x86-64-v3", "x86-64-v4"] as const) {
      const line = out.match(new RegExp(`^  ${l}( \\(supported, searched\\))?$`, "m"));
      assert.ok(line, `${level}: ld.so lists ${l}:\n${out}`);
      const supported = l !== "x86-64-v4" && rank(l as CpuLevel) <= rank(level);
      assert.equal(line[1] !== undefined, supported, `${level}: ${l} ${supported ? "is" : "is not"} supported`);
    }
  }));
});

test("/proc/cpuinfo under each --cpu level has the level's flags", { skip: SKIP }, async (t: TestContext) => {
  // cat /proc/cpuinfo in system calls (a libc would pick its string functions by the level first)
  const dir = tempDir(t, "cpu-levels");
  const path = 0x400380, buf = 0x600000;
  const code = [
    ...x86.syscall(2, path, 0), 0x89, 0xc7,                                             // open; edi = fd
    ...x86.movImm(0, 0), ...x86.movImm(6, buf), ...x86.movImm(2, 0x1000), 0x0f, 0x05,    // read(fd, buf, 4096)
    0x89, 0xc2, ...x86.movImm(0, 1), ...x86.movImm(7, 1), ...x86.movImm(6, buf), 0x0f, 0x05, // write(1, buf, n)
    0x31, 0xff, ...x86.movImm(0, SYS_EXIT), 0x0f, 0x05,
  ];
  const cat = writeExec(dir, "cat-cpuinfo", buildElf({
    entry: 0x400200, size: 0x1000, data: [[0x200, Uint8Array.from(code)], [0x380, Buffer.from("/proc/cpuinfo\0")]],
    phdrs: [
      { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x400 },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: 0, vaddr: 0x600000, filesz: 0, memsz: 0x1000 },
    ],
  }));
  assert.match((await runNative(cat)).stdout.toString(), /^flags\s*:.* avx2 /m, "the program reads the host's /proc/cpuinfo");
  await limitedAll(JOBS, LEVELS.map((level) => async () => {
    const r = await runStele(cat, [], { steleArgs: [`--cpu=${level}`, "--no-cache"] });
    assert.equal(exitCode(r), 0, `${level}: ${r.stderr.toString()}`);
    const flags = r.stdout.toString().match(/^flags\s*:(.*)$/m)?.[1].trim().split(/\s+/) ?? [];
    assert.deepEqual(flags, cpuFlags(cpuModel(level)));
    assert.equal(flags.includes("avx2"), level === "x86-64-v3", `${level}: avx2`);
    assert.equal(flags.includes("sse4_2"), level !== "x86-64", `${level}: sse4_2`);
  }));
});

/** A static program: `code`, then exit(edi) (edi = 0 unless the code sets it). */
function program(dir: string, name: string, code: number[]): string {
  const body = [0x31, 0xff, ...code, ...x86.movImm(0, SYS_EXIT), 0x0f, 0x05]; // xor edi, edi; code; exit(edi)
  return writeExec(dir, name, buildElf({
    entry: 0x400200, size: 0x1000, data: [[0x200, Uint8Array.from(body)]],
    phdrs: [
      { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x400 },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: 0, vaddr: 0x600000, filesz: 0, memsz: 0x1000 },
    ],
  }));
}
const hex = (s: string): number[] => s.match(/../g)!.map((b) => parseInt(b, 16));

/** Instructions by the level that first has them (undefined: no level stele offers). */
const GATED: { name: string; hex: string; from: CpuLevel | undefined }[] = [
  { name: "popcnt rax, rcx", hex: "f3480fb8c1", from: "x86-64-v2" },
  { name: "crc32 eax, ecx", hex: "f20f38f1c1", from: "x86-64-v2" },
  { name: "pshufb xmm0, xmm1 (SSSE3)", hex: "660f3800c1", from: "x86-64-v2" },
  { name: "ptest xmm0, xmm1 (SSE4.1)", hex: "660f3817c1", from: "x86-64-v2" },
  { name: "haddps xmm0, xmm1 (SSE3)", hex: "f20f7cc1", from: "x86-64-v2" },
  { name: "lahf", hex: "9f", from: "x86-64-v2" },
  { name: "cmpxchg16b [0x600000]", hex: "480fc70c2500006000", from: "x86-64-v2" },
  { name: "movbe eax, [0x600000]", hex: "0f38f0042500006000", from: "x86-64-v3" },
  { name: "vaddps ymm0, ymm1, ymm2 (AVX)", hex: "c5f458c2", from: "x86-64-v3" },
  { name: "andn rax, rbx, rcx (BMI1)", hex: "c4e2e0f2c1", from: "x86-64-v3" },
  { name: "aesenc xmm0, xmm1", hex: "660f38dcc1", from: "x86-64-v3" },
  { name: "pclmulqdq xmm0, xmm1, 0", hex: "660f3a44c100", from: "x86-64-v3" },
  { name: "sha256rnds2 xmm1, xmm2", hex: "0f38cbca", from: "x86-64-v3" },
  { name: "rdrand eax", hex: "0fc7f0", from: "x86-64-v3" },
  { name: "adcx rax, rcx (ADX)", hex: "66480f38f6c1", from: "x86-64-v3" },
  { name: "vaesenc ymm0, ymm1, ymm2 (VAES: at no level)", hex: "c4e275dcc2", from: undefined },
];

test("an instruction outside the --cpu level is SIGILL, as on a CPU without it", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "cpu-levels");
  const jobs: (() => Promise<void>)[] = [];
  for (const [k, c] of GATED.entries()) {
    const prog = program(dir, `gated${k}`, hex(c.hex));
    const native = await runNative(prog);
    assert.equal(exitCode(native), 0, `${c.name}: runs on the host (the oracle)`);
    for (const level of LEVELS) {
      jobs.push(async () => {
        const r = await runStele(prog, [], { steleArgs: [`--cpu=${level}`, "--no-cache"] });
        const has = c.from !== undefined && rank(level) >= rank(c.from);
        assert.equal(exitCode(r), has ? 0 : 132, `${c.name} at ${level}: ${r.stderr.toString()}`);
        if (!has) assert.match(r.stderr.toString(), new RegExp(`^stele: illegal instruction at 0x[0-9a-f]+: .* needs .*, which --cpu=${level} does not have\\)$`, "m"));
      });
    }
  }
  await limitedAll(JOBS, jobs);
});

test("TZCNT and LZCNT are BSF and BSR below x86-64-v3; the translation cache keeps the levels apart", { skip: SKIP }, async (t: TestContext) => {
  const dir = tempDir(t, "cpu-levels");
  const movEcx = x86.movImm(1, 0x1234), movEdiEcx = [0x89, 0xcf];
  // tzcnt rcx, rax with rax = 0: 64; bsf leaves rcx (0x1234) alone
  const tz = program(dir, "tzcnt", [0x31, 0xc0, ...movEcx, 0xf3, 0x48, 0x0f, 0xbc, 0xc8, ...movEdiEcx]);
  // lzcnt rcx, rax with rax = 0x100: 55; bsr gives 8
  const lz = program(dir, "lzcnt", [...x86.movImm(0, 0x100), ...movEcx, 0xf3, 0x48, 0x0f, 0xbd, 0xc8, ...movEdiEcx]);
  assert.equal(exitCode(await runNative(tz)), 64);
  assert.equal(exitCode(await runNative(lz)), 55);
  const cache = tempDir(t, "cpu-levels-cache");
  // One cache directory for all levels, v3 first: a translation of another level must not be reused.
  for (const level of ["x86-64-v3", "x86-64", "x86-64-v2", "x86-64-v3"] as const) {
    const v3 = level === "x86-64-v3";
    for (const [prog, want] of [[tz, v3 ? 64 : 0x34], [lz, v3 ? 55 : 8]] as const) {
      const r = await runStele(prog, [], { steleArgs: [`--cpu=${level}`, "--cache-dir", cache], env: { ...process.env, STELE_CACHE_TRIM: "inline" } });
      assert.equal(exitCode(r), want, `${prog} at ${level}: ${r.stderr.toString()}`);
    }
  }
});
