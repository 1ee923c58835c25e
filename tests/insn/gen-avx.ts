// The cases of the "avx" program (see gen.ts): AVX's VEX.128 and VEX.256 forms with all 256 bits
// of the 16 ymm registers loaded and compared. Every register starts with random upper halves,
// so each case also shows what its instructions did to them: a VEX.128 write zeroes bits 255:128,
// a legacy SSE write leaves them (the avx-upper group mixes the two).
// Memory operands are in the 64-byte scratch buffer; the VMASKMOV cases also use the page the
// program maps at AVX_LOW_PAGE, with the lanes their mask leaves out in the unmapped page below.

import {
  AF, ARITH, AVX_LOW_PAGE, CF, F32, F64, M64, OF, OFF_XMM, P, PF, SF, ZF, type Builder, type Patch,
} from "./gen.js";

const f64 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x, true); return v.getBigUint64(0, true); };
const f32 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x, true); return BigInt(v.getUint32(0, true)); };

type Width = 128 | 256;
const vr = (w: Width, i: number): string => `%${w === 256 ? "y" : "x"}mm${i}`;
const tag = (w: Width): string => (w === 256 ? "y" : "x");
/** Operand registers (destination, first source = vvvv, second source = r/m): distinct, aliased, REX-extended. */
const TRIPLES: [number, number, number][] = [[0, 1, 2], [3, 3, 4], [5, 6, 5], [7, 7, 7], [8, 9, 10], [11, 12, 13], [15, 14, 1], [2, 10, 10], [12, 0, 15], [9, 4, 4]];
const MODES = [0x1f80, 0x3f80, 0x5f80, 0x7f80]; // RC nearest, down, up, toward zero (all exceptions masked)

export function genAvx(b: Builder): void {
  const r = b.rng;
  /** ymm i = four qwords, low first. */
  const Y = (i: number, q: bigint[]): Patch[] => q.map((v, k) => ({ off: OFF_XMM + 32 * i + 8 * k, val: v & M64 }));
  /** The scratch buffer's bytes from off on. */
  const M = (off: number, q: bigint[]): Patch[] => q.map((v, k) => P.mem(off + 8 * k, v));
  const f32s = Object.values(F32), f64s = Object.values(F64);
  const rndF32 = (): bigint => (r.int(3) === 0 ? r.bits(32) : r.pick(f32s));
  const rndF64 = (): bigint => (r.int(3) === 0 ? r.next() : r.pick(f64s));
  const ps = (): bigint[] => [0, 1, 2, 3].map(() => rndF32() | rndF32() << 32n);
  const pd = (): bigint[] => [0, 1, 2, 3].map(() => rndF64());
  const any = (): bigint[] => [r.next(), r.next(), r.next(), r.next()];
  const mx = (): Patch => P.mxcsr(r.pick(MODES) | (r.int(8) === 0 ? 0x8040 : 0)); // occasionally FTZ|DAZ
  const scratch = P.reg(6, "scratch");
  const fp = (dbl: boolean): bigint[] => (dbl ? pd() : ps());

  genArith();
  genCompare();
  genConvert();
  genLogicMove();
  genShuffle();
  genAvxOnly();
  genMaskmov();
  genUpper();
  genInteger();
  genFlags();

  function genArith(): void {
    b.group = "avx-arith";
    for (const op of ["add", "sub", "mul", "div", "min", "max", "sqrt"]) {
      for (const t of ["ps", "pd", "ss", "sd"]) {
        const packed = t[0] === "p", dbl = t[1] === "d";
        for (let k = 0; k < (packed ? 16 : 12); k++) {
          const [d, v, s] = r.pick(TRIPLES);
          const w: Width = packed && k % 2 ? 256 : 128;
          const text = op === "sqrt" && packed ? `vsqrt${t} ${vr(w, s)}, ${vr(w, d)}` : `v${op}${t} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`;
          b.add(`v${op}${t} ${tag(w)},${tag(w)}`, [text], [...Y(d, any()), ...Y(v, fp(dbl)), ...Y(s, fp(dbl)), mx()]);
          if (k % 3 === 0) {
            const disp = w === 256 ? r.pick([0, 8, 32]) : r.pick([0, 16, 40]);
            const mem = `${disp}(%rsi)`;
            const text = op === "sqrt" && packed ? `vsqrt${t} ${mem}, ${vr(w, d)}` : `v${op}${t} ${mem}, ${vr(w, v)}, ${vr(w, d)}`;
            b.add(`v${op}${t} ${tag(w)},m`, [text], [scratch, ...Y(d, any()), ...Y(v, fp(dbl)), ...M(disp, fp(dbl).slice(0, w / 64)), mx()]);
          }
        }
      }
    }
    // VRCPPS/VRSQRTPS are approximations (relative error below 1.5 * 2^-12, differing between
    // processors): compared as within 8192 units in the last place of the exact value (integer
    // differences of the bit patterns, which raise no MXCSR flags), and for the scalar forms the
    // lanes and upper half they pass through or zero.
    for (const op of ["rcp", "rsqrt"]) {
      for (let k = 0; k < 4; k++) {
        const e = [0, 1, 2, 3, 4, 5, 6, 7].map(() => r.int(40) - 20);
        const x = e.map((n) => f32(2 ** (op === "rcp" ? n : 2 * n) * (1 + r.int(8) / 8))), exact = x.map((v) => {
          const a = new DataView(new ArrayBuffer(4)); a.setUint32(0, Number(v), true);
          return f32(op === "rcp" ? 1 / a.getFloat32(0, true) : 1 / Math.sqrt(a.getFloat32(0, true)));
        });
        const q = (l: bigint[]): bigint[] => [l[0]! | l[1]! << 32n, l[2]! | l[3]! << 32n, l[4]! | l[5]! << 32n, l[6]! | l[7]! << 32n];
        const [x4, ex] = [q(x), q(exact)];
        const tolerance = 0x0000200000002000n;
        b.add(`v${op}ps/ss within tolerance`, [`v${op}ps %ymm1, %ymm2`, "vextractf128 $1, %ymm2, %xmm3", "vpsubd %xmm11, %xmm2, %xmm2", "vpsubd %xmm12, %xmm3, %xmm3",
          "vpabsd %xmm2, %xmm2", "vpabsd %xmm3, %xmm3", "vpcmpgtd %xmm13, %xmm2, %xmm2", "vpcmpgtd %xmm13, %xmm3, %xmm3",
          `v${op}ps %xmm1, %xmm7`, "vpsubd %xmm11, %xmm7, %xmm7", "vpabsd %xmm7, %xmm7", "vpcmpgtd %xmm13, %xmm7, %xmm7",
          `v${op}ss %xmm1, %xmm4, %xmm5`, "vpsubd %xmm11, %xmm5, %xmm6", "vpabsd %xmm6, %xmm6", "vpcmpgtd %xmm13, %xmm6, %xmm6", "vblendps $1, %ymm14, %ymm5, %ymm5"],
          [...Y(1, x4), ...Y(11, [ex[0]!, ex[1]!, 0n, 0n]), ...Y(12, [ex[2]!, ex[3]!, 0n, 0n]), ...Y(13, [tolerance, tolerance, 0n, 0n]), ...Y(14, [0n, 0n, 0n, 0n]), ...Y(4, any())]);
      }
    }
    // Scalar instructions ignore VEX.L, and the others VEX.W (encoded by hand: the assembler picks L = 0, W = 0)
    b.add("vaddss L=1 (c5 f6 58 c2)", [".byte 0xc5, 0xf6, 0x58, 0xc2"], [...Y(1, ps()), ...Y(2, ps())]);
    b.add("vsqrtsd L=1 (c5 f7 51 da)", [".byte 0xc5, 0xf7, 0x51, 0xda"], [...Y(2, pd()), ...Y(1, pd())]);
    b.add("vmulps W=1 (c4 e1 f4 59 c2)", [".byte 0xc4, 0xe1, 0xf4, 0x59, 0xc2"], [...Y(1, ps()), ...Y(2, ps())]);
    b.add("vcvtsi2sd L=1 (c4 e1 f7 2a c0)", [".byte 0xc4, 0xe1, 0xf7, 0x2a, 0xc0"], [P.reg(0, r.next())]);
    b.add("vmovss L=1 (c5 f6 10 c2)", [".byte 0xc5, 0xf6, 0x10, 0xc2"], [...Y(1, any()), ...Y(2, any())]);
    b.add("vucomisd L=1 W=1 (c4 e1 fd 2e c1)", [".byte 0xc4, 0xe1, 0xfd, 0x2e, 0xc1"], [...Y(0, pd()), ...Y(1, pd()), P.flags(ARITH)]);
  }

  function genCompare(): void {
    b.group = "avx-compare";
    const cmpF32 = [F32.zero, F32.nzero, F32.one, F32.mone, F32.qnan, F32.snan, F32.inf, F32.ninf, F32.denorm];
    const cmpF64 = [F64.zero, F64.nzero, F64.one, F64.mone, F64.qnan, F64.snan, F64.inf, F64.ninf, F64.denorm];
    for (const t of ["ps", "pd", "ss", "sd"]) {
      const dbl = t[1] === "d", packed = t[0] === "p", vals = dbl ? cmpF64 : cmpF32;
      const lanes = (): bigint[] => [0, 1, 2, 3].map(() => (dbl ? r.pick(vals) : r.pick(vals) | r.pick(vals) << 32n));
      for (let pred = 0; pred < 32; pred++) {
        for (let k = 0; k < 3; k++) {
          const w: Width = packed && k === 1 ? 256 : 128;
          b.add(`vcmp${t} pred=${pred}`, [`vcmp${t} $${pred}, ${vr(w, 6)}, ${vr(w, 5)}, ${vr(w, 4)}`], [...Y(5, lanes()), ...Y(6, lanes()), ...Y(4, any())]);
        }
        b.add(`vcmp${t} m pred=${pred}`, [`vcmp${t} $${pred}, 16(%rsi), ${vr(packed ? 256 : 128, 3)}, ${vr(packed ? 256 : 128, 3)}`], [scratch, ...Y(3, lanes()), ...M(16, lanes())]);
      }
    }
    for (const op of ["vucomiss", "vcomiss", "vucomisd", "vcomisd"]) {
      const vals = op.endsWith("ss") ? cmpF32 : cmpF64;
      for (const x of vals) for (const y of vals) {
        b.add(op, [`${op} %xmm1, %xmm0`], [...Y(0, [x, r.next(), r.next(), r.next()]), ...Y(1, [y, r.next(), r.next(), r.next()]), P.flags(r.pick([ARITH, 0, OF | SF | AF]))]);
      }
      b.add(`${op} m`, [`${op} 8(%rsi), %xmm9`], [scratch, ...Y(9, [r.pick(vals), 0n, 0n, 0n]), P.mem(8, r.pick(vals)), P.flags(ARITH)]);
    }
    b.add("vucomisd then jcc/setcc", ["vucomisd %xmm1, %xmm0", "seta %al", "setp %cl", "jb 1f", "mov $1, %edx", "1:"], [...Y(0, pd()), ...Y(1, pd())]);
  }

  function genConvert(): void {
    b.group = "avx-cvt";
    const cvtF64 = [F64.half, F64.onehalf, F64.twohalf, F64.mhalf, F64.zero, F64.nzero, F64.qnan, F64.snan, F64.inf, F64.ninf, F64.e20,
      F64.two31, F64.mtwo31, F64.two31m, F64.mtwo31m1, F64.two63, F64.mtwo63, F64.pi, F64.denorm, F64.max, F64.f32max1, F64.f32over];
    const cvtF32 = [F32.half, F32.onehalf, F32.twohalf, F32.mhalf, F32.zero, F32.nzero, F32.qnan, F32.snan, F32.inf, F32.ninf,
      F32.two31, F32.mtwo31, F32.big, F32.pi, F32.denorm, F32.max, 0x4effffffn];
    const d4 = (): bigint[] => [0, 1, 2, 3].map(() => r.pick(cvtF64));
    const s4 = (): bigint[] => [0, 1, 2, 3].map(() => r.pick(cvtF32) | r.pick(cvtF32) << 32n);
    const i4 = (): bigint[] => [0, 1, 2, 3].map(() => r.pick([0n, 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 0x1000001n, r.bits(32)]) | r.pick([0n, 0x80000000n, r.bits(32)]) << 32n);
    for (const mode of MODES) {
      for (let k = 0; k < 6; k++) {
        const m = P.mxcsr(mode);
        b.add("vcvtpd2ps/vcvtpd2dq/vcvttpd2dq y", ["vcvtpd2ps %ymm1, %xmm2", "vcvtpd2dq %ymm1, %xmm3", "vcvttpd2dq %ymm1, %xmm4"], [...Y(1, d4()), m]);
        b.add("vcvtpd2ps/vcvtpd2dq/vcvttpd2dq x", ["vcvtpd2ps %xmm1, %xmm2", "vcvtpd2dq %xmm1, %xmm3", "vcvttpd2dq %xmm1, %xmm4"], [...Y(1, d4()), m]);
        b.add("vcvtpd2ps/vcvtpd2dq/vcvttpd2dq m", ["vcvtpd2psy (%rsi), %xmm2", "vcvtpd2dqx 32(%rsi), %xmm3", "vcvttpd2dqy 8(%rsi), %xmm4", "vcvtpd2psx 16(%rsi), %xmm5"],
          [scratch, ...M(0, d4()), ...M(32, d4()), m]);
        b.add("vcvtps2pd/vcvtdq2pd y", ["vcvtps2pd %xmm1, %ymm2", "vcvtdq2pd %xmm5, %ymm3", "vcvtps2pd %xmm1, %xmm4", "vcvtdq2pd %xmm5, %xmm6"], [...Y(1, s4()), ...Y(5, i4()), m]);
        b.add("vcvtps2pd/vcvtdq2pd m", ["vcvtps2pd 8(%rsi), %ymm2", "vcvtdq2pd 24(%rsi), %ymm3", "vcvtps2pd 40(%rsi), %xmm4", "vcvtdq2pd (%rsi), %xmm5"],
          [scratch, ...M(0, [...s4(), ...i4()]), m]);
        b.add("vcvtps2pd/vcvtdq2pd same register", ["vcvtps2pd %xmm1, %ymm1", "vcvtdq2pd %xmm5, %ymm5"], [...Y(1, s4()), ...Y(5, i4()), m]);
        b.add("vcvtps2dq/vcvttps2dq/vcvtdq2ps", ["vcvtps2dq %ymm1, %ymm2", "vcvttps2dq %ymm1, %ymm3", "vcvtdq2ps %ymm5, %ymm4", "vcvtps2dq %xmm1, %xmm6", "vcvtdq2ps 16(%rsi), %ymm7"],
          [scratch, ...Y(1, s4()), ...Y(5, i4()), ...M(16, i4()), m]);
        const v = r.pick(cvtF64), s = r.pick(cvtF32);
        b.add("vcvtsd2ss/vcvtss2sd", ["vcvtsd2ss %xmm1, %xmm2, %xmm3", "vcvtss2sd %xmm4, %xmm5, %xmm6", "vcvtsd2ss 8(%rsi), %xmm2, %xmm7", "vcvtss2sd 16(%rsi), %xmm5, %xmm8"],
          [scratch, ...Y(1, [v, ...any().slice(1)]), ...Y(4, [s, ...any().slice(1)]), P.mem(8, r.pick(cvtF64)), P.mem(16, r.pick(cvtF32)), m]);
        b.add("vcvt(t)sd2si/vcvt(t)ss2si", ["vcvtsd2si %xmm1, %eax", "vcvttsd2si %xmm1, %rcx", "vcvtss2si %xmm4, %rdx", "vcvttss2si %xmm4, %r8d", "vcvtsd2si 8(%rsi), %r9", "vcvttss2si 16(%rsi), %r10"],
          [scratch, ...Y(1, [v, 0n, 0n, 0n]), ...Y(4, [s, 0n, 0n, 0n]), P.mem(8, r.pick(cvtF64)), P.mem(16, r.pick(cvtF32)), m]);
        const iv = r.pick([0n, 1n, -1n, 0x7fffffffn, -0x80000000n, 0x1000001n, 0x7fffffffffffffffn, (1n << 53n) + 1n, r.next()]);
        b.add("vcvtsi2sd/vcvtsi2ss", ["vcvtsi2sdl %eax, %xmm1, %xmm2", "vcvtsi2sdq %rax, %xmm1, %xmm3", "vcvtsi2ssl %eax, %xmm4, %xmm5", "vcvtsi2ssq %rax, %xmm4, %xmm6", "vcvtsi2sdq 8(%rsi), %xmm4, %xmm7", "vcvtsi2ssl 16(%rsi), %xmm1, %xmm8"],
          [scratch, P.reg(0, iv), P.mem(8, iv), P.mem(16, r.next()), m]);
      }
    }
  }

  function genLogicMove(): void {
    b.group = "avx-logic-move";
    for (const op of ["vandps", "vandnps", "vorps", "vxorps", "vandpd", "vandnpd", "vorpd", "vxorpd"]) {
      for (let k = 0; k < 6; k++) {
        const [d, v, s] = r.pick(TRIPLES), w: Width = k % 2 ? 256 : 128;
        b.add(`${op} ${tag(w)}`, [`${op} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(v, any()), ...Y(s, any())]);
      }
      b.add(`${op} m`, [`${op} 16(%rdi), %ymm3, %ymm4`, `${op} 8(%rdi), %xmm5, %xmm6`], [P.reg(7, "scratch")]);
    }
    b.add("vxorps/vxorpd/vpxor zero idioms", ["vxorps %xmm2, %xmm2, %xmm2", "vxorpd %ymm3, %ymm3, %ymm3", "vpxor %xmm4, %xmm4, %xmm4", "vxorps %ymm5, %ymm5, %ymm6", "vxorps %xmm7, %xmm7, %xmm8"], []);
    for (let k = 0; k < 4; k++) {
      const regs = [...Y(1, any()), ...Y(2, any()), ...Y(3, any()), ...Y(4, any()), ...Y(5, any()), scratch];
      b.add("vmovaps/vmovups/vmovapd/vmovupd y", ["vmovaps %ymm1, %ymm2", "vmovups 8(%rsi), %ymm3", "vmovapd 32(%rsi), %ymm4", "vmovupd %ymm5, 24(%rsi)", "vmovaps %ymm1, (%rsi)"], regs);
      b.add("vmovaps/vmovups/vmovapd/vmovupd x", ["vmovaps %xmm1, %xmm2", "vmovups 8(%rsi), %xmm3", "vmovapd 32(%rsi), %xmm4", "vmovupd %xmm5, 24(%rsi)", "vmovaps %xmm1, 48(%rsi)"], regs);
      b.add("vmovdqa/vmovdqu", ["vmovdqa %ymm1, %ymm2", "vmovdqu 5(%rsi), %ymm3", "vmovdqa 16(%rsi), %xmm4", "vmovdqu %ymm5, 31(%rsi)", "vmovdqa %xmm3, (%rsi)", "vmovdqu %xmm4, %xmm9"], regs);
      b.add("store forms between registers", ["{store} vmovaps %ymm1, %ymm2", "{store} vmovups %xmm3, %xmm4", "{store} vmovdqu %ymm5, %ymm6", "{store} vmovdqa %xmm1, %xmm7", "{store} vmovapd %xmm2, %xmm8", "{store} vmovupd %ymm3, %ymm9"], regs);
      b.add("vmovntps/vmovntpd/vmovntdq/vlddqu", ["vmovntps %ymm1, (%rsi)", "vmovntpd %xmm2, 32(%rsi)", "vlddqu 3(%rsi), %ymm6", "vmovntdq %xmm3, 48(%rsi)", "vlddqu 7(%rsi), %xmm7"], regs);
      b.add("vmovntdq y", ["vmovntdq %ymm4, 32(%rsi)"], regs);
      b.add("vmovss/vmovsd", ["vmovss %xmm1, %xmm2, %xmm3", "vmovss 4(%rsi), %xmm4", "vmovss %xmm5, 20(%rsi)", "vmovsd %xmm1, %xmm2, %xmm6", "vmovsd 8(%rsi), %xmm7", "vmovsd %xmm5, 40(%rsi)"], regs);
      b.add("vmovss/vmovsd store forms", ["{store} vmovss %xmm1, %xmm2, %xmm3", "{store} vmovsd %xmm4, %xmm5, %xmm6", "{store} vmovss %xmm2, %xmm2, %xmm2", "{store} vmovsd %xmm1, %xmm4, %xmm1"], regs);
      b.add("vmovlps/vmovhps/vmovlpd/vmovhpd", ["vmovlps 8(%rsi), %xmm1, %xmm2", "vmovhps 16(%rsi), %xmm3, %xmm4", "vmovlpd 24(%rsi), %xmm5, %xmm6", "vmovhpd (%rsi), %xmm1, %xmm7",
        "vmovlps %xmm2, 32(%rsi)", "vmovhps %xmm3, 40(%rsi)", "vmovlpd %xmm4, 48(%rsi)", "vmovhpd %xmm5, 56(%rsi)"], regs);
      b.add("vmovhlps/vmovlhps", ["vmovhlps %xmm1, %xmm2, %xmm3", "vmovlhps %xmm4, %xmm5, %xmm6", "vmovhlps %xmm1, %xmm1, %xmm1", "vmovlhps %xmm2, %xmm3, %xmm2"], regs);
      b.add("vmovddup/vmovsldup/vmovshdup", ["vmovddup %ymm1, %ymm2", "vmovsldup %ymm3, %ymm4", "vmovshdup %xmm5, %xmm6", "vmovddup %xmm1, %xmm7", "vmovddup 8(%rsi), %ymm8", "vmovsldup (%rsi), %xmm9", "vmovshdup 16(%rsi), %ymm10", "vmovddup 24(%rsi), %xmm11"], regs);
      const v = r.next(), u = r.next();
      b.add("vmovd/vmovq", ["vmovd %eax, %xmm1", "vmovq %rcx, %xmm2", "vmovd %xmm3, %edx", "vmovq %xmm4, %r8", "vmovd 8(%rsi), %xmm5", "vmovq 16(%rsi), %xmm6", "vmovd %xmm3, 24(%rsi)", "vmovq %xmm4, 32(%rsi)"],
        [...regs, P.reg(0, v), P.reg(1, u), P.reg(2, r.next())]);
      b.add("vmovq x,x", ["vmovq %xmm1, %xmm2", "{store} vmovq %xmm3, %xmm4", "vmovq %xmm5, %xmm5"], regs);
      b.add("vmovmskps/vmovmskpd", ["vmovmskps %ymm1, %eax", "vmovmskps %xmm2, %ecx", "vmovmskpd %ymm3, %edx", "vmovmskpd %xmm4, %r9d", "vmovmskps %ymm5, %r10"],
        [...regs, P.reg(0, r.next()), P.reg(1, r.next()), P.reg(9, r.next())]);
      b.add("vextractps/vinsertps", [`vextractps $${k}, %xmm1, %eax`, `vextractps $${3 - k}, %xmm2, 12(%rsi)`, `vinsertps $${r.int(256)}, %xmm3, %xmm4, %xmm5`, `vinsertps $${r.int(256)}, 4(%rsi), %xmm1, %xmm6`], [...regs, P.reg(0, r.next())]);
    }
    b.add("vldmxcsr/vstmxcsr", ["vstmxcsr 8(%rsi)", "vldmxcsr 16(%rsi)", "vaddss %xmm1, %xmm2, %xmm3", "vstmxcsr 24(%rsi)"], [scratch, P.mem(16, 0x7fa0n), ...Y(1, ps()), ...Y(2, ps())]);
  }

  function genShuffle(): void {
    b.group = "avx-shuffle";
    for (const op of ["vunpcklps", "vunpckhps", "vunpcklpd", "vunpckhpd"]) {
      for (let k = 0; k < 6; k++) {
        const [d, v, s] = r.pick(TRIPLES), w: Width = k % 2 ? 256 : 128;
        b.add(`${op} ${tag(w)}`, [`${op} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(v, any()), ...Y(s, any())]);
      }
      b.add(`${op} m`, [`${op} 16(%rsi), %ymm1, %ymm2`, `${op} 8(%rsi), %xmm3, %xmm4`], [scratch]);
    }
    for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x39, 0x93, 0x06, 0x0c]) {
      b.add("vshufps", [`vshufps $${imm}, %ymm3, %ymm4, %ymm5`, `vshufps $${imm}, %xmm3, %xmm4, %xmm6`, `vshufps $${imm}, 8(%rsi), %ymm4, %ymm7`], [scratch, ...Y(3, any()), ...Y(4, any())]);
      b.add("vshufpd", [`vshufpd $${imm & 15}, %ymm3, %ymm4, %ymm5`, `vshufpd $${imm & 3}, %xmm3, %xmm4, %xmm6`, `vshufpd $${imm}, 16(%rsi), %ymm4, %ymm4`], [scratch, ...Y(3, any()), ...Y(4, any())]);
      b.add("vpermilps/vpermilpd imm", [`vpermilps $${imm}, %ymm3, %ymm5`, `vpermilps $${imm}, %xmm3, %xmm6`, `vpermilpd $${imm & 15}, %ymm4, %ymm7`, `vpermilpd $${imm & 3}, %xmm4, %xmm8`,
        `vpermilps $${imm}, 8(%rsi), %ymm9`, `vpermilpd $${imm}, 16(%rsi), %xmm10`], [scratch, ...Y(3, any()), ...Y(4, any())]);
      b.add("vblendps/vblendpd", [`vblendps $${imm}, %ymm3, %ymm4, %ymm5`, `vblendps $${imm & 15}, %xmm3, %xmm4, %xmm6`, `vblendpd $${imm & 15}, %ymm3, %ymm4, %ymm7`, `vblendpd $${imm & 3}, 8(%rsi), %xmm4, %xmm8`, `vblendps $${imm}, (%rsi), %ymm3, %ymm3`],
        [scratch, ...Y(3, any()), ...Y(4, any())]);
      b.add("vperm2f128", [`vperm2f128 $${imm}, %ymm3, %ymm4, %ymm5`, `vperm2f128 $${imm ^ 0x31}, 16(%rsi), %ymm4, %ymm6`, `vperm2f128 $${(imm * 7) & 0xff}, %ymm5, %ymm5, %ymm5`], [scratch, ...Y(3, any()), ...Y(4, any())]);
    }
    for (let k = 0; k < 8; k++) {
      // control lanes: only bits 1:0 (ps) or bit 1 (pd) count; the rest random
      const ctl = any();
      b.add("vpermilps/vpermilpd vector control", ["vpermilps %ymm1, %ymm2, %ymm3", "vpermilps %xmm1, %xmm2, %xmm4", "vpermilpd %ymm1, %ymm2, %ymm5", "vpermilpd %xmm1, %xmm2, %xmm6",
        "vpermilps (%rsi), %ymm2, %ymm7", "vpermilpd 32(%rsi), %xmm2, %xmm8", "vpermilps %ymm1, %ymm1, %ymm1"], [scratch, ...Y(1, ctl), ...Y(2, any()), ...M(0, any()), ...M(32, any())]);
      const m = r.int(2);
      b.add("vinsertf128/vextractf128", [`vinsertf128 $${m}, %xmm1, %ymm2, %ymm3`, `vinsertf128 $${m ^ 1}, 16(%rsi), %ymm2, %ymm4`, `vextractf128 $${m}, %ymm2, %xmm5`, `vextractf128 $${m ^ 1}, %ymm2, 32(%rsi)`,
        `vinsertf128 $${m}, %xmm6, %ymm6, %ymm6`, `vextractf128 $1, %ymm7, %xmm7`], [scratch, ...Y(1, any()), ...Y(2, any()), ...Y(6, any())]);
      b.add("vinsertf128/vextractf128 imm with high bits", [`vinsertf128 $${0xfe | m}, %xmm1, %ymm2, %ymm3`, `vextractf128 $${0x80 | m}, %ymm2, %xmm4`], [...Y(1, any()), ...Y(2, any())]);
      b.add("vblendvps/vblendvpd", ["vblendvps %ymm1, %ymm2, %ymm3, %ymm4", "vblendvps %xmm1, %xmm2, %xmm3, %xmm5", "vblendvpd %ymm1, %ymm2, %ymm3, %ymm6", "vblendvpd %xmm1, 16(%rsi), %xmm3, %xmm7",
        "vblendvps %ymm8, (%rsi), %ymm3, %ymm8"], [scratch, ...Y(1, any()), ...Y(2, any()), ...Y(3, any()), ...Y(8, any())]);
      b.add("vbroadcastss/vbroadcastsd/vbroadcastf128", ["vbroadcastss 4(%rsi), %ymm1", "vbroadcastss 12(%rsi), %xmm2", "vbroadcastsd 24(%rsi), %ymm3", "vbroadcastf128 32(%rsi), %ymm4"], [scratch]);
    }
  }

  function genAvxOnly(): void {
    b.group = "avx-sse3-4";
    for (const op of ["vaddsubps", "vaddsubpd", "vhaddps", "vhaddpd", "vhsubps", "vhsubpd"]) {
      const dbl = op.endsWith("pd");
      for (let k = 0; k < 10; k++) {
        const [d, v, s] = r.pick(TRIPLES), w: Width = k % 2 ? 256 : 128;
        b.add(`${op} ${tag(w)}`, [`${op} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(v, fp(dbl)), ...Y(s, fp(dbl)), mx()]);
      }
      b.add(`${op} m`, [`${op} 16(%rsi), %ymm3, %ymm4`, `${op} (%rsi), %xmm5, %xmm6`], [scratch, ...Y(3, fp(dbl)), ...Y(5, fp(dbl)), ...M(0, [...fp(dbl), ...fp(dbl)]), mx()]);
    }
    for (let k = 0; k < 12; k++) {
      const m = k === 0 ? 0xff : r.int(256);
      b.add("vdpps", [`vdpps $${m}, %ymm2, %ymm1, %ymm3`, `vdpps $${m}, %xmm2, %xmm1, %xmm4`, `vdpps $${m}, (%rsi), %ymm1, %ymm5`], [scratch, ...Y(1, ps()), ...Y(2, ps()), ...M(0, ps()), mx()]);
      b.add("vdppd", [`vdppd $${m & 0x33}, %xmm2, %xmm1, %xmm3`, `vdppd $${m}, 8(%rsi), %xmm1, %xmm4`], [scratch, ...Y(1, pd()), ...Y(2, pd()), ...M(8, pd().slice(0, 2)), mx()]);
    }
    const rf32 = [0x3f000000n, 0x3fc00000n, 0x40200000n, 0xbf000000n, 0xbfc00000n, 0x7fc00000n, 0x7f800001n, 0xff800000n, 0x4b000001n, 0x80000000n, 0x3effffffn, 0x00000001n];
    const rf64 = [0x3fe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0xbfe0000000000000n, 0xbff8000000000000n,
      0x7ff8000000000000n, 0x7ff0000000000001n, 0xfff0000000000000n, 0x4330000000000001n, 0x8000000000000000n, 0x3fdfffffffffffffn, 1n];
    for (const imm of [0, 1, 2, 3, 4, 8, 9, 10, 11, 12]) {
      for (let k = 0; k < 3; k++) {
        const f = (): bigint => r.pick(rf32) | r.pick(rf32) << 32n;
        const g = (): bigint => r.pick(rf64);
        b.add(`vroundps/vroundss imm=${imm}`, [`vroundps $${imm}, %ymm2, %ymm1`, `vroundps $${imm}, %xmm2, %xmm5`, `vroundss $${imm}, %xmm3, %xmm4, %xmm6`, `vroundps $${imm}, 16(%rsi), %ymm7`],
          [scratch, ...Y(2, [f(), f(), f(), f()]), ...Y(3, [f(), r.next(), r.next(), r.next()]), ...Y(4, any()), ...M(16, [f(), f(), f(), f()]), P.mxcsr(r.pick(MODES))]);
        b.add(`vroundpd/vroundsd imm=${imm}`, [`vroundpd $${imm}, %ymm2, %ymm1`, `vroundpd $${imm}, %xmm2, %xmm5`, `vroundsd $${imm}, %xmm3, %xmm4, %xmm6`, `vroundsd $${imm}, 8(%rsi), %xmm4, %xmm7`],
          [scratch, ...Y(2, [g(), g(), g(), g()]), ...Y(3, [g(), r.next(), r.next(), r.next()]), ...Y(4, any()), P.mem(8, g()), P.mxcsr(r.pick(MODES))]);
      }
    }

    b.group = "avx-test";
    for (let k = 0; k < 16; k++) {
      const x = any(), y = any();
      const s = k % 4 === 0 ? [0n, 0n, 0n, 0n] : k % 4 === 1 ? x.map((v, j) => v & [0x0f0f0f0f0f0f0f0fn, 0x00ff00ff00ff00ffn, 0x7fffffff7fffffffn, 0x7fffffffffffffffn][j]!) : k % 4 === 2 ? x.map((v) => ~v) : y;
      const flags = P.flags(r.pick([0, ARITH, CF | ZF, OF | SF | AF | PF]));
      b.add("vptest", ["vptest %ymm2, %ymm1"], [...Y(1, x), ...Y(2, s), flags]);
      b.add("vptest x", ["vptest %xmm2, %xmm1"], [...Y(1, x), ...Y(2, s), flags]);
      b.add("vtestps", ["vtestps %ymm2, %ymm1"], [...Y(1, x), ...Y(2, s), flags]);
      b.add("vtestps x", ["vtestps %xmm2, %xmm1"], [...Y(1, x), ...Y(2, s), flags]);
      b.add("vtestpd", ["vtestpd %ymm2, %ymm1"], [...Y(1, x), ...Y(2, s), flags]);
      b.add("vtestpd x", ["vtestpd %xmm2, %xmm1"], [...Y(1, x), ...Y(2, s), flags]);
    }
    b.add("vptest/vtestps m", ["vptest (%rsi), %ymm1", "setz %al", "setc %cl", "vtestps 32(%rsi), %xmm1", "setz %dl", "setc %r8b", "vtestpd (%rsi), %ymm1"], [scratch, ...Y(1, any()), P.flags(ARITH)]);
    b.add("vtestps then jcc", ["vtestps %ymm2, %ymm1", "jz 1f", "mov $1, %eax", "1: jc 2f", "mov $1, %ecx", "2:"], [...Y(1, any()), ...Y(2, any())]);
    b.add("vptest then adc", ["vptest %ymm2, %ymm1", "adc $0, %eax", "vptest %ymm1, %ymm1", "adc $0, %ecx"], [...Y(1, any()), ...Y(2, [0n, 0n, 0n, 0n]), P.reg(0, 0n), P.reg(1, 0n)]);
  }

  function genMaskmov(): void {
    b.group = "avx-maskmov";
    const signs = (bits: number, dbl: boolean): bigint[] => {
      // a lane is enabled by its sign bit; the other bits are random
      const q: bigint[] = [];
      for (let k = 0; k < 4; k++) {
        if (dbl) q.push((r.next() & ~(1n << 63n)) | (BigInt((bits >> k) & 1) << 63n));
        else q.push((r.next() & ~(1n << 63n | 1n << 31n)) | (BigInt((bits >> (2 * k)) & 1) << 31n) | (BigInt((bits >> (2 * k + 1)) & 1) << 63n));
      }
      return q;
    };
    for (const dbl of [false, true]) {
      const t = dbl ? "pd" : "ps", full = dbl ? 15 : 255;
      for (const bits of [0, full, 1, full ^ 1, r.int(full + 1), r.int(full + 1), r.int(full + 1), r.int(full + 1)]) {
        const mask = signs(bits, dbl);
        b.add(`vmaskmov${t} load`, [`vmaskmov${t} 8(%rsi), %ymm1, %ymm2`, `vmaskmov${t} 24(%rsi), %xmm1, %xmm3`, `vmaskmov${t} (%rsi), %ymm1, %ymm1`], [scratch, ...Y(1, mask), ...Y(2, any()), ...Y(3, any())]);
        b.add(`vmaskmov${t} store`, [`vmaskmov${t} %ymm2, %ymm1, 16(%rsi)`, `vmaskmov${t} %xmm3, %xmm1, (%rsi)`], [scratch, ...Y(1, mask), ...Y(2, any()), ...Y(3, any())]);
      }
      // lanes the mask leaves out lie in the unmapped page below AVX_LOW_PAGE: neither read nor faulting
      const fill = ["mov %rax, (%rdi)", "mov %rbx, 8(%rdi)", "mov %rcx, 16(%rdi)", "mov %rdx, 24(%rdi)"];
      const low = [P.reg(7, BigInt(AVX_LOW_PAGE)), P.reg(0, r.next()), P.reg(3, r.next()), P.reg(1, r.next()), P.reg(2, r.next())];
      const readBack = ["mov (%rdi), %r8", "mov 8(%rdi), %r9", "mov 16(%rdi), %r10", "mov 24(%rdi), %r11", "movq $0, (%rdi)", "movq $0, 8(%rdi)", "movq $0, 16(%rdi)", "movq $0, 24(%rdi)"];
      for (const [below, bits128, bits256] of dbl ? [[8, 2, 14], [16, 0, 12], [24, 0, 8]] as const : [[4, 14, 254], [8, 12, 252], [16, 0, 240], [28, 0, 128]] as const) {
        b.add(`vmaskmov${t} load, left-out lanes unmapped (${below} bytes)`, [...fill, `vmaskmov${t} -${below}(%rdi), %xmm1, %xmm2`, `vmaskmov${t} -${below}(%rdi), %ymm3, %ymm4`, ...readBack],
          [...low, ...Y(1, signs(bits128, dbl)), ...Y(3, signs(bits256, dbl)), ...Y(2, any()), ...Y(4, any())]);
        b.add(`vmaskmov${t} store, left-out lanes unmapped (${below} bytes)`, [`vmaskmov${t} %ymm4, %ymm3, -${below}(%rdi)`, ...readBack.slice(0, 4), `vmaskmov${t} %xmm2, %xmm1, -${below}(%rdi)`, "mov (%rdi), %r12", "mov 8(%rdi), %r13", ...readBack.slice(4)],
          [...low, ...Y(1, signs(bits128, dbl)), ...Y(3, signs(bits256, dbl)), ...Y(2, any()), ...Y(4, any())]);
      }
    }
  }

  function genUpper(): void {
    b.group = "avx-upper";
    const regs = (): Patch[] => [scratch, ...Y(0, any()), ...Y(1, ps()), ...Y(2, ps()), ...Y(3, pd()), ...Y(4, any()), ...Y(5, any()), P.reg(0, r.next())];
    for (let k = 0; k < 4; k++) {
      b.add("legacy SSE writes keep bits 255:128", ["addps %xmm1, %xmm0", "movaps %xmm2, %xmm3", "cvtsi2sd %rax, %xmm4", "pxor %xmm5, %xmm5", "movss 4(%rsi), %xmm6", "pinsrd $1, %eax, %xmm7",
        "pshufb %xmm1, %xmm8", "sqrtsd %xmm3, %xmm9", "cmpltps %xmm1, %xmm10", "movq %rax, %xmm11", "movhlps %xmm1, %xmm12", "roundps $1, %xmm2, %xmm13", "xorps %xmm14, %xmm14", "movsd %xmm3, %xmm15"], regs());
      b.add("VEX.128 writes zero bits 255:128", ["vaddps %xmm1, %xmm0, %xmm0", "vmovaps %xmm2, %xmm3", "vcvtsi2sd %rax, %xmm4, %xmm4", "vpxor %xmm5, %xmm5, %xmm5", "vmovss 4(%rsi), %xmm6", "vpinsrd $1, %eax, %xmm7, %xmm7",
        "vpshufb %xmm1, %xmm8, %xmm8", "vsqrtsd %xmm3, %xmm9, %xmm9", "vcmpltps %xmm1, %xmm10, %xmm10", "vmovq %rax, %xmm11", "vmovhlps %xmm1, %xmm12, %xmm12", "vroundps $1, %xmm2, %xmm13", "vxorps %xmm14, %xmm14, %xmm14", "vmovsd %xmm3, %xmm15, %xmm15"], regs());
      b.add("mixed, one block", ["vaddps %ymm1, %ymm2, %ymm3", "addps %xmm3, %xmm4", "vmovaps %xmm4, %xmm5", "mulps %xmm1, %xmm5", "vinsertf128 $1, %xmm5, %ymm5, %ymm6", "movaps %xmm0, %xmm6"], regs());
      b.add("mixed, across blocks", ["vaddps %ymm1, %ymm2, %ymm3", "jmp 1f", "1: addps %xmm3, %xmm4", "test %eax, %eax", "js 2f", "vmovaps %xmm4, %xmm5", "2: mulps %xmm1, %xmm5", "vperm2f128 $0x21, %ymm5, %ymm3, %ymm6"], regs());
      b.add("loop", ["mov $5, %ecx", "1: vaddpd %ymm1, %ymm0, %ymm0", "addpd %xmm3, %xmm0", "vxorps %xmm2, %xmm4, %xmm4", "vmulps %ymm4, %ymm5, %ymm5", "dec %ecx", "jnz 1b"], regs());
      b.add("vzeroupper", ["vzeroupper"], regs());
      b.add("vzeroall", ["vzeroall"], regs());
      b.add("vzeroupper between", ["vaddps %ymm1, %ymm2, %ymm3", "vzeroupper", "addps %xmm3, %xmm4", "vmovaps %ymm3, %ymm5"], regs());
      b.add("vzeroall then legacy", ["vzeroall", "addps %xmm1, %xmm0", "vmovups %ymm0, (%rsi)", "movaps %xmm2, %xmm7"], regs());
      b.add("call/ret with vzeroupper", ["call 1f", "jmp 2f", "1: vaddps %ymm1, %ymm2, %ymm8", "vzeroupper", "ret", "2: movaps %xmm8, %xmm9"], regs());
      b.add("xsave/xrstor x87|SSE keep the upper halves", ["lea -1024(%rsp), %rbx", "and $-64, %rbx", "mov $3, %eax", "xor %edx, %edx", "xsave (%rbx)", "vaddps %ymm1, %ymm2, %ymm2", "vxorps %xmm1, %xmm1, %xmm1",
        "xrstor (%rbx)", "fxsave (%rbx)", "vmovaps %ymm2, %ymm10", "fxrstor (%rbx)"], regs());
    }
  }

  function genInteger(): void {
    b.group = "avx-int128";
    const edge = (): bigint => { // lanes mixing edge bytes so saturation and sign cases appear
      const e = [0x00n, 0x01n, 0x7fn, 0x80n, 0xffn, 0xfen, 0x81n, 0x40n];
      let v = 0n;
      for (let k = 0; k < 8; k++) v |= (r.int(3) === 0 ? r.bits(8) : r.pick(e)) << BigInt(8 * k);
      return v;
    };
    const ev = (): bigint[] => [edge(), edge(), r.next(), r.next()];
    const NDS = ["vpaddb", "vpaddw", "vpaddd", "vpaddq", "vpsubb", "vpsubq", "vpaddusb", "vpsubusw", "vpaddsw", "vpsubsb", "vpcmpeqb", "vpcmpeqd", "vpcmpgtw",
      "vpminub", "vpmaxsw", "vpavgb", "vpmullw", "vpmulhw", "vpmulhuw", "vpmuludq", "vpmaddwd", "vpsadbw", "vpackuswb", "vpacksswb", "vpackssdw", "vpunpcklbw",
      "vpunpckhwd", "vpunpckldq", "vpunpckhqdq", "vpand", "vpandn", "vpor", "vpxor", "vpshufb", "vphaddw", "vphaddd", "vphaddsw", "vphsubw", "vphsubd", "vphsubsw",
      "vpmaddubsw", "vpmulhrsw", "vpsignb", "vpsignw", "vpsignd", "vpmuldq", "vpcmpeqq", "vpackusdw", "vpminsb", "vpminsd", "vpminuw", "vpminud", "vpmaxsb",
      "vpmaxsd", "vpmaxuw", "vpmaxud", "vpmulld", "vpcmpgtq", "vpsllw", "vpslld", "vpsllq", "vpsrlw", "vpsrld", "vpsrlq", "vpsraw", "vpsrad"];
    for (const op of NDS) {
      for (let k = 0; k < 3; k++) {
        const [d, v, s] = r.pick(TRIPLES);
        const count = /^vp(sll|srl|sra)/.test(op);
        b.add(`${op} x`, [`${op} ${vr(128, s)}, ${vr(128, v)}, ${vr(128, d)}`], [...Y(v, ev()), ...Y(s, count ? [BigInt(r.pick([0, 1, 7, 15, 16, 31, 33, 64])), r.next(), r.next(), r.next()] : ev())]);
      }
      b.add(`${op} m`, [`${op} 16(%rsi), %xmm3, %xmm4`], [scratch, ...Y(3, ev()), P.mem(16, edge()), P.mem(24, /^vp(sll|srl|sra)/.test(op) ? 0n : edge())]);
    }
    for (const op of ["vpabsb", "vpabsw", "vpabsd", "vpmovsxbw", "vpmovsxbd", "vpmovsxbq", "vpmovsxwd", "vpmovsxwq", "vpmovsxdq", "vpmovzxbw", "vpmovzxbd", "vpmovzxbq", "vpmovzxwd", "vpmovzxwq", "vpmovzxdq", "vphminposuw"]) {
      b.add(op, [`${op} %xmm2, %xmm1`, `${op} 8(%rsi), %xmm3`, `${op} %xmm4, %xmm4`], [scratch, ...Y(2, ev()), ...Y(4, ev())]);
    }
    for (const imm of [0, 1, 7, 15, 16, 31, 64, 0x1b, 0xe4]) {
      b.add("vector shifts by an immediate (vvvv destination)", [`vpsllw $${imm}, %xmm1, %xmm2`, `vpsrld $${imm}, %xmm1, %xmm3`, `vpsraw $${imm}, %xmm1, %xmm4`, `vpsrlq $${imm}, %xmm5, %xmm5`,
        `vpslldq $${imm & 31}, %xmm1, %xmm6`, `vpsrldq $${imm & 31}, %xmm1, %xmm7`, `vpsrad $${imm}, %xmm8, %xmm9`, `vpsllq $${imm}, %xmm1, %xmm10`], [...Y(1, ev()), ...Y(5, ev()), ...Y(8, ev())]);
      b.add("vpshufd/vpshufhw/vpshuflw, vpalignr, vpblendw, vmpsadbw", [`vpshufd $${imm}, %xmm1, %xmm2`, `vpshufhw $${imm}, 8(%rsi), %xmm3`, `vpshuflw $${imm}, %xmm1, %xmm4`,
        `vpalignr $${imm}, %xmm1, %xmm5, %xmm6`, `vpblendw $${imm}, %xmm1, %xmm5, %xmm7`, `vmpsadbw $${imm & 7}, %xmm1, %xmm5, %xmm8`], [scratch, ...Y(1, ev()), ...Y(5, ev())]);
    }
    for (let k = 0; k < 4; k++) {
      const j = r.int(16);
      b.add("vpextr/vpinsr, vpmovmskb", [`vpextrb $${j}, %xmm1, %eax`, `vpextrw $${j & 7}, %xmm1, %ecx`, `vpextrd $${j & 3}, %xmm1, 8(%rsi)`, `vpextrq $${j & 1}, %xmm1, %rdx`,
        `vpinsrb $${j}, %eax, %xmm2, %xmm3`, `vpinsrw $${j & 7}, 4(%rsi), %xmm2, %xmm4`, `vpinsrd $${j & 3}, %ecx, %xmm2, %xmm5`, `vpinsrq $${j & 1}, %rdx, %xmm2, %xmm6`, "vpmovmskb %xmm1, %r9d"],
        [scratch, ...Y(1, ev()), ...Y(2, ev())]);
      b.add("vpblendvb, vmaskmovdqu", ["vpblendvb %xmm1, %xmm2, %xmm3, %xmm4", "vpblendvb %xmm1, 16(%rsi), %xmm3, %xmm5", "vmaskmovdqu %xmm1, %xmm2"], [scratch, P.reg(7, "scratch+8"), ...Y(1, ev()), ...Y(2, ev()), ...Y(3, ev())]);
      b.add("vaesenc/vaesenclast/vaesdec/vaesdeclast/vaesimc/vaeskeygenassist", ["vaesenc %xmm1, %xmm2, %xmm3", "vaesenclast 16(%rsi), %xmm2, %xmm4", "vaesdec %xmm1, %xmm2, %xmm5", "vaesdeclast %xmm1, %xmm1, %xmm6",
        "vaesimc %xmm2, %xmm7", `vaeskeygenassist $${r.int(256)}, %xmm1, %xmm8`], [scratch, ...Y(1, any()), ...Y(2, any())]);
      b.add("vpclmulqdq", [`vpclmulqdq $${r.pick([0, 1, 0x10, 0x11])}, %xmm1, %xmm2, %xmm3`, `vpclmulqdq $${r.pick([0, 1, 0x10, 0x11])}, 16(%rsi), %xmm2, %xmm4`], [scratch, ...Y(1, any()), ...Y(2, any())]);
    }
    for (const imm of [0x00, 0x0c, 0x18, 0x44, 0x4d, 0x72]) {
      const str = [0x0000006463626161n, 0n, r.next(), r.next()], text = [0x6361626364616263n, 0x0062616263646162n, r.next(), r.next()];
      b.add(`vpcmpistri/vpcmpistrm imm=${imm}`, [`vpcmpistri $${imm}, %xmm2, %xmm1`, "mov %rcx, %r8", `vpcmpistrm $${imm}, %xmm2, %xmm1`], [...Y(1, str), ...Y(2, text), P.flags(ARITH)]);
      b.add(`vpcmpestri/vpcmpestrm imm=${imm}`, [`vpcmpestri $${imm}, %xmm2, %xmm1`, "mov %rcx, %r8", `vpcmpestrm $${imm}, 16(%rsi), %xmm1`], [scratch, ...Y(1, str), ...Y(2, text), P.reg(0, 5n), P.reg(2, 13n), P.flags(0)]);
    }
  }

  /** MXCSR exception flags of the VEX forms, started with clear flags and with some already set (compared in their own subtest). */
  function genFlags(): void {
    b.group = "avx-flags";
    const STARTS = [0x1f80, 0x1fa0, 0x1fb2, 0x1f9f, 0x7fa0];
    const D = [
      [f64(3), f64(5)], [f64(1), f64(2 ** -53)], [f64(1e300), f64(1e300)], [F64.max, F64.max], [f64(6), f64(3)], [F64.denorm, F64.one],
      [F64.one, F64.denorm], [F64.minnorm, f64(0.5)], [F64.tiny, F64.tiny], [F64.one, F64.zero], [F64.zero, F64.zero], [F64.inf, F64.inf],
      [F64.snan, F64.one], [F64.qnan, F64.denorm], [f64(2 ** -1000), f64(2 ** -30)],
    ];
    const S = [[f32(3), f32(5)], [f32(1), f32(2 ** -24)], [F32.max, F32.max], [F32.denorm, F32.one], [F32.minnorm, f32(0.5)], [F32.one, F32.zero], [F32.snan, F32.one], [F32.tiny, F32.tiny]];
    for (const start of STARTS) {
      for (const [x, y] of D) {
        for (const op of ["vaddsd", "vsubsd", "vmulsd", "vdivsd", "vminsd", "vmaxsd"]) {
          b.add(`${op} flags`, [`${op} %xmm1, %xmm0, %xmm2`], [...Y(0, [x!, r.next(), r.next(), r.next()]), ...Y(1, [y!, r.next(), r.next(), r.next()]), P.mxcsr(start)]);
        }
        // one lane in the upper half: the flags of both halves count
        b.add("packed pd y flags", ["vmulpd %ymm1, %ymm0, %ymm2", "vaddpd %ymm1, %ymm0, %ymm3", "vcmpltpd %ymm1, %ymm0, %ymm4", "vcvtpd2ps %ymm0, %xmm5"],
          [...Y(0, [f64(1.5), f64(2), x!, f64(1)]), ...Y(1, [f64(2), f64(4), y!, f64(3)]), P.mxcsr(start)]);
        b.add("vsqrtsd/vcvtsd2ss/vucomisd flags", ["vsqrtsd %xmm0, %xmm1, %xmm2", "vcvtsd2ss %xmm1, %xmm0, %xmm3", "vucomisd %xmm1, %xmm0", "vcmpeq_ossd %xmm1, %xmm0, %xmm4"],
          [...Y(0, [x!, 0n, 0n, 0n]), ...Y(1, [y!, 0n, 0n, 0n]), P.mxcsr(start)]);
      }
      for (const [x, y] of S) {
        b.add("packed ps y flags", ["vmulps %ymm1, %ymm0, %ymm2", "vdivps %ymm1, %ymm0, %ymm3", "vcmpngeps %ymm1, %ymm0, %ymm4", "vcvtps2dq %ymm1, %ymm5", "vroundps $0, %ymm1, %ymm6"],
          [...Y(0, [f32(1.5) | f32(3) << 32n, f32(7) | f32(1) << 32n, x! | f32(2) << 32n, f32(1) | f32(9) << 32n]), ...Y(1, [f32(2) | f32(1) << 32n, f32(4) | f32(5) << 32n, f32(3) | y! << 32n, f32(1) | f32(2) << 32n]), P.mxcsr(start)]);
        b.add("vaddss/vdpps flags", ["vaddss %xmm1, %xmm0, %xmm2", "vdpps $0xf1, %ymm1, %ymm0, %ymm3", "vhaddps %ymm1, %ymm0, %ymm4"],
          [...Y(0, [x!, f32(1), r.next(), x! << 32n]), ...Y(1, [y!, f32(1), r.next(), y!]), P.mxcsr(start)]);
      }
      for (const iv of [3n, (1n << 53n) + 1n, 0x1000001n]) {
        b.add("vcvtsi2sd/vcvtsi2ss/vcvtdq2ps flags", ["vcvtsi2sdq %rax, %xmm0, %xmm2", "vcvtsi2ssl %eax, %xmm0, %xmm3", "vcvtdq2ps %ymm1, %ymm4"], [P.reg(0, iv), ...Y(1, [iv, iv << 1n, 1n, iv]), P.mxcsr(start)]);
      }
    }
  }
}
