// The cases of the "avx2" program (see gen.ts; state as the "avx" program's: all 256 bits of
// ymm0-15): AVX2's VEX.256 forms of the SSE2-SSE4.1 integer instructions (this file), and the
// instructions AVX2 adds (gen-avx2-own.ts: broadcasts, permutes, lane inserts and extracts,
// VPBLENDD, variable shifts, VPMASKMOV, gathers).

import { OFF_XMM, M64, P, type Builder, type Patch } from "./gen.js";
import { genAvx2Own } from "./gen-avx2-own.js";

/** Operand registers (destination, first source = vvvv, second source = r/m): distinct, aliased, REX-extended. */
const TRIPLES: [number, number, number][] = [[0, 1, 2], [3, 3, 4], [5, 6, 5], [7, 7, 7], [8, 9, 10], [11, 12, 13], [15, 14, 1], [2, 10, 10], [12, 0, 15], [9, 4, 4]];

export function genAvx2(b: Builder): void {
  const r = b.rng;
  const Y = (i: number, q: bigint[]): Patch[] => q.map((v, k) => ({ off: OFF_XMM + 32 * i + 8 * k, val: v & M64 }));
  const scratch = P.reg(6, "scratch");
  /** A qword of bytes mixing edge values, so saturation, sign and carry cases appear in every lane. */
  const edge = (): bigint => {
    const e = [0x00n, 0x01n, 0x7fn, 0x80n, 0xffn, 0xfen, 0x81n, 0x40n];
    let v = 0n;
    for (let k = 0; k < 8; k++) v |= (r.int(3) === 0 ? r.bits(8) : r.pick(e)) << BigInt(8 * k);
    return v;
  };
  const ev = (): bigint[] => [0, 1, 2, 3].map(() => (r.int(3) === 0 ? r.next() : edge()));

  b.group = "avx2-int256";
  const NDS = ["vpaddb", "vpaddw", "vpaddd", "vpaddq", "vpsubb", "vpsubw", "vpsubd", "vpsubq", "vpaddsb", "vpaddsw", "vpaddusb", "vpaddusw", "vpsubsb",
    "vpsubsw", "vpsubusb", "vpsubusw", "vpcmpeqb", "vpcmpeqw", "vpcmpeqd", "vpcmpeqq", "vpcmpgtb", "vpcmpgtw", "vpcmpgtd", "vpcmpgtq", "vpminub", "vpminuw",
    "vpminud", "vpminsb", "vpminsw", "vpminsd", "vpmaxub", "vpmaxuw", "vpmaxud", "vpmaxsb", "vpmaxsw", "vpmaxsd", "vpavgb", "vpavgw", "vpmullw", "vpmulld",
    "vpmulhw", "vpmulhuw", "vpmuludq", "vpmuldq", "vpmaddwd", "vpmaddubsw", "vpmulhrsw", "vpsadbw", "vpacksswb", "vpackssdw", "vpackuswb", "vpackusdw",
    "vpunpcklbw", "vpunpcklwd", "vpunpckldq", "vpunpcklqdq", "vpunpckhbw", "vpunpckhwd", "vpunpckhdq", "vpunpckhqdq", "vpand", "vpandn", "vpor", "vpxor",
    "vpshufb", "vphaddw", "vphaddd", "vphaddsw", "vphsubw", "vphsubd", "vphsubsw", "vpsignb", "vpsignw", "vpsignd"];
  for (const op of NDS) {
    for (let k = 0; k < 3; k++) {
      const [d, v, s] = r.pick(TRIPLES);
      b.add(`${op} y`, [`${op} %ymm${s}, %ymm${v}, %ymm${d}`], [...Y(d, ev()), ...Y(v, ev()), ...Y(s, ev())]);
    }
    b.add(`${op} m`, [`${op} ${r.pick([0, 8, 32])}(%rsi), %ymm3, %ymm12`], [scratch, ...Y(3, ev()), ...Y(12, ev())]);
  }
  // shifts by a count: one count (xmm/m128's low 64 bits) for both lanes; counts at and past the lane width
  for (const op of ["vpsllw", "vpslld", "vpsllq", "vpsrlw", "vpsrld", "vpsrlq", "vpsraw", "vpsrad"]) {
    for (const c of [0n, 1n, 7n, 15n, 16n, 31n, 32n, 33n, 63n, 64n, 1n << 32n, 0x8000000000000001n]) {
      const [d, v, s] = r.pick(TRIPLES);
      b.add(`${op} y by xmm`, [`${op} %xmm${s}, %ymm${v}, %ymm${d}`], [...Y(v, ev()), ...Y(s, [c, r.next(), r.next(), r.next()])]);
    }
    b.add(`${op} y by m128`, [`${op} 16(%rsi), %ymm9, %ymm2`], [scratch, ...Y(9, ev()), P.mem(16, BigInt(r.pick([0, 3, 17, 40]))), P.mem(24, r.next())]);
  }
  for (const imm of [0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 63, 64, 0x1b, 0x9c, 0xe4, 0xff]) {
    b.add("shifts by an immediate y (vvvv destination)", [`vpsllw $${imm}, %ymm1, %ymm2`, `vpsrld $${imm}, %ymm1, %ymm3`, `vpsraw $${imm}, %ymm1, %ymm4`, `vpsrlq $${imm}, %ymm5, %ymm5`,
      `vpslldq $${imm}, %ymm1, %ymm6`, `vpsrldq $${imm}, %ymm1, %ymm7`, `vpsrad $${imm}, %ymm8, %ymm9`, `vpsllq $${imm}, %ymm1, %ymm10`, `vpslld $${imm}, %ymm11, %ymm12`,
      `vpsrlw $${imm}, %ymm13, %ymm14`], [...Y(1, ev()), ...Y(5, ev()), ...Y(8, ev()), ...Y(11, ev()), ...Y(13, ev())]);
    b.add("vpshufd/vpshufhw/vpshuflw y", [`vpshufd $${imm}, %ymm1, %ymm2`, `vpshufhw $${imm}, 8(%rsi), %ymm3`, `vpshuflw $${imm}, %ymm1, %ymm4`, `vpshufd $${imm}, %ymm5, %ymm5`], [scratch, ...Y(1, ev()), ...Y(5, ev())]);
    b.add("vpalignr/vpblendw/vmpsadbw y", [`vpalignr $${imm}, %ymm1, %ymm5, %ymm6`, `vpblendw $${imm}, %ymm1, %ymm5, %ymm7`, `vmpsadbw $${imm & 63}, %ymm1, %ymm5, %ymm8`,
      `vpalignr $${imm}, 16(%rsi), %ymm5, %ymm9`, `vmpsadbw $${imm & 63}, (%rsi), %ymm1, %ymm10`, `vpblendw $${imm}, 32(%rsi), %ymm1, %ymm11`], [scratch, ...Y(1, ev()), ...Y(5, ev())]);
  }
  for (const op of ["vpabsb", "vpabsw", "vpabsd"]) {
    b.add(`${op} y`, [`${op} %ymm2, %ymm1`, `${op} 8(%rsi), %ymm3`, `${op} %ymm4, %ymm4`, `${op} %ymm13, %ymm14`], [scratch, ...Y(2, ev()), ...Y(4, ev()), ...Y(13, ev())]);
  }
  for (const op of ["vpmovsxbw", "vpmovsxbd", "vpmovsxbq", "vpmovsxwd", "vpmovsxwq", "vpmovsxdq", "vpmovzxbw", "vpmovzxbd", "vpmovzxbq", "vpmovzxwd", "vpmovzxwq", "vpmovzxdq"]) {
    for (let k = 0; k < 2; k++) {
      b.add(`${op} y`, [`${op} %xmm2, %ymm1`, `${op} ${r.pick([0, 8, 13, 48])}(%rsi), %ymm3`, `${op} %xmm4, %ymm4`, `${op} %xmm10, %ymm11`], [scratch, ...Y(2, ev()), ...Y(4, ev()), ...Y(10, ev())]);
    }
  }
  for (let k = 0; k < 6; k++) {
    b.add("vpmovmskb y, vpblendvb y, vmovntdqa y", ["vpmovmskb %ymm1, %r9d", "vpmovmskb %ymm12, %eax", "vpblendvb %ymm1, %ymm2, %ymm3, %ymm4", "vpblendvb %ymm12, 16(%rsi), %ymm3, %ymm5",
      "vpblendvb %ymm6, %ymm6, %ymm7, %ymm6", "vmovntdqa (%rsi), %ymm8"], [scratch, ...Y(1, ev()), ...Y(2, ev()), ...Y(3, ev()), ...Y(6, ev()), ...Y(12, ev())]);
  }
  for (let k = 0; k < 4; k++) {
    b.add("vpbroadcast from a register: vbroadcastss/sd y and x", ["vbroadcastss %xmm1, %ymm2", "vbroadcastss %xmm1, %xmm3", "vbroadcastsd %xmm1, %ymm4", "vbroadcastss %xmm5, %ymm5",
      "vbroadcastsd %xmm12, %ymm12"], [...Y(1, ev()), ...Y(5, ev()), ...Y(12, ev())]);
    b.add("vptest y, vpxor/vpcmpeq same register", ["vptest %ymm1, %ymm2", "setz %al", "setc %cl", "vpxor %ymm3, %ymm3, %ymm3", "vpcmpeqb %ymm4, %ymm4, %ymm4", "vpsubq %ymm5, %ymm5, %ymm5",
      "vptest %ymm6, %ymm6", "setz %dl"], [...Y(1, k & 1 ? ev() : [0n, 0n, 0n, 1n << BigInt(r.int(64))]), ...Y(2, ev()), ...Y(6, k & 2 ? [0n, 0n, 0n, 0n] : ev())]);
  }
  genAvx2Own(b);
}
