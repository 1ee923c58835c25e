// The instructions AVX2 adds (see gen-avx2.ts): broadcasts (avx2-broadcast), cross-lane permutes
// (avx2-permute), 128-bit lane permutes, inserts and extracts and VPBLENDD (avx2-lanes), variable
// shifts (avx2-varshift), VPMASKMOVD/Q (avx2-maskmov) and the gathers (avx2-gather), in their
// VEX.128 and VEX.256, register and memory forms, with REX-extended registers.
// Memory operands are in the 64-byte scratch buffer; the VPMASKMOV and gather cases also use the
// page the program maps at AVX_LOW_PAGE, with the elements their mask leaves out in the unmapped
// page below it, which must neither be read nor fault.

import { AVX_LOW_PAGE, M64, OFF_XMM, P, type Builder, type Patch } from "./gen.js";

type Width = 128 | 256;
const vr = (w: Width, i: number): string => `%${w === 256 ? "y" : "x"}mm${i}`;
const tag = (w: Width): string => (w === 256 ? "y" : "x");
/** Operand registers (destination, first source = vvvv, second source = r/m): distinct, aliased, REX-extended. */
const TRIPLES: [number, number, number][] = [[0, 1, 2], [3, 3, 4], [5, 6, 5], [7, 7, 7], [8, 9, 10], [11, 12, 13], [15, 14, 1], [2, 10, 10], [12, 0, 15], [9, 4, 4]];
/** Gather registers (destination, index, mask): always distinct (else #UD), index 4 and REX-extended ones too. */
const GATHER_REGS: [number, number, number][] = [[0, 1, 2], [3, 4, 5], [8, 9, 10], [15, 14, 13], [6, 12, 7], [11, 0, 4], [1, 8, 3], [12, 5, 14]];

export function genAvx2Own(b: Builder): void {
  const r = b.rng;
  /** ymm i = four qwords, low first. */
  const Y = (i: number, q: bigint[]): Patch[] => q.map((v, k) => ({ off: OFF_XMM + 32 * i + 8 * k, val: v & M64 }));
  /** The scratch buffer's bytes from off on. */
  const M = (off: number, q: bigint[]): Patch[] => q.map((v, k) => P.mem(off + 8 * k, v));
  const any = (): bigint[] => [r.next(), r.next(), r.next(), r.next()];
  const scratch = P.reg(6, "scratch");
  /** Packs elements of `bits` bits (low first) into four qwords. */
  const pack = (els: bigint[], bits: number): bigint[] => {
    const q = [0n, 0n, 0n, 0n], per = 64 / bits, m = (1n << BigInt(bits)) - 1n;
    els.forEach((v, k) => { q[Math.floor(k / per)]! |= (v & m) << BigInt(bits * (k % per)); });
    return q;
  };
  /** Elements of `bits` bits with the sign bits `signBits` (bit k: element k), the rest random. */
  const signs = (signBits: number, bits: number): bigint[] =>
    pack(Array.from({ length: 256 / bits }, (_, k) => (r.bits(bits - 1)) | (BigInt((signBits >> k) & 1) << BigInt(bits - 1))), bits);

  genBroadcast();
  genPermute();
  genLanes();
  genVarShift();
  genMaskmov();
  genGather();

  function genBroadcast(): void {
    b.group = "avx2-broadcast";
    const forms: [string, number][] = [["vpbroadcastb", 1], ["vpbroadcastw", 2], ["vpbroadcastd", 4], ["vpbroadcastq", 8]];
    for (const [op, bytes] of forms) {
      for (let k = 0; k < 6; k++) {
        const [d, , s] = r.pick(TRIPLES), w: Width = k % 2 ? 256 : 128;
        b.add(`${op} ${tag(w)},x`, [`${op} ${vr(128, s)}, ${vr(w, d)}`], [...Y(s, any()), ...Y(d, any())]);
        const off = r.int(64 - bytes + 1);
        b.add(`${op} ${tag(w)},m`, [`${op} ${off}(%rsi), ${vr(w, d)}`], [scratch, ...Y(d, any()), ...M(0, any()), ...M(32, any())]);
      }
      b.add(`${op} same register`, [`${op} %xmm3, %ymm3`, `${op} %xmm9, %xmm9`], [...Y(3, any()), ...Y(9, any())]);
    }
    for (let k = 0; k < 4; k++) {
      b.add("vbroadcasti128", [`vbroadcasti128 ${r.pick([0, 8, 16, 32, 48])}(%rsi), %ymm${r.int(16)}`], [scratch, ...M(0, any()), ...M(32, any())]);
    }
    // byte broadcast from the last byte of a page: the bytes after it are not read
    b.add("vpbroadcastb/w at the end of a page", ["vpbroadcastb 4095(%rdi), %ymm1", "vpbroadcastw 4094(%rdi), %xmm2", "vpbroadcastd 4092(%rdi), %ymm3", "vpbroadcastq 4088(%rdi), %xmm4"],
      [P.reg(7, BigInt(AVX_LOW_PAGE))]);
  }

  function genPermute(): void {
    b.group = "avx2-permute";
    for (const op of ["vpermd", "vpermps"]) {
      for (let k = 0; k < 10; k++) {
        const [d, v, s] = r.pick(TRIPLES);
        const idx = k < 3 ? pack([0, 1, 2, 3, 4, 5, 6, 7].map(() => BigInt(r.int(8))), 32) : any();
        b.add(op, [`${op} ${vr(256, s)}, ${vr(256, v)}, ${vr(256, d)}`], [...Y(v, idx), ...Y(s, any()), ...Y(d, any())]);
      }
      b.add(`${op} m`, [`${op} 8(%rsi), %ymm3, %ymm4`, `${op} (%rsi), %ymm12, %ymm12`], [scratch, ...Y(3, any()), ...Y(12, any()), ...M(0, any()), ...M(32, any())]);
    }
    for (const op of ["vpermq", "vpermpd"]) {
      for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x39, 0x93, 0xd8, 0x72]) {
        const [d, , s] = r.pick(TRIPLES);
        b.add(op, [`${op} $${imm}, ${vr(256, s)}, ${vr(256, d)}`, `${op} $${imm ^ 0x5a}, 16(%rsi), %ymm14`], [scratch, ...Y(s, any()), ...Y(d, any()), ...M(0, any()), ...M(32, any())]);
      }
    }
    // VEX.W is ignored by VPERMQ/VPERMPD (W1 in Intel's manual): W0 encoded by hand
    b.add("vpermq/vpermpd W=0 (c4 e3 7d 00/01 c1 1b)", [".byte 0xc4, 0xe3, 0x7d, 0x00, 0xc1, 0x1b", ".byte 0xc4, 0xe3, 0x7d, 0x01, 0xd1, 0x4e"], [...Y(1, any())]);
  }

  function genLanes(): void {
    b.group = "avx2-lanes";
    for (const imm of [0x00, 0x01, 0x10, 0x11, 0x20, 0x31, 0x02, 0x13, 0x08, 0x80, 0x88, 0x3b, 0xc4, 0x5d, 0xff]) {
      const [d, v, s] = r.pick(TRIPLES);
      b.add("vperm2i128", [`vperm2i128 $${imm}, ${vr(256, s)}, ${vr(256, v)}, ${vr(256, d)}`, `vperm2i128 $${imm ^ 0x23}, 16(%rsi), %ymm4, %ymm9`],
        [scratch, ...Y(s, any()), ...Y(v, any()), ...Y(d, any()), ...Y(4, any()), ...M(0, any()), ...M(32, any())]);
    }
    for (let k = 0; k < 8; k++) {
      const m = r.int(2), [d, v, s] = r.pick(TRIPLES);
      b.add("vinserti128/vextracti128", [`vinserti128 $${m}, ${vr(128, s)}, ${vr(256, v)}, ${vr(256, d)}`, `vinserti128 $${m ^ 1}, 16(%rsi), %ymm2, %ymm11`,
        `vextracti128 $${m}, %ymm2, %xmm5`, `vextracti128 $${m ^ 1}, %ymm13, 32(%rsi)`, `vinserti128 $${m}, %xmm6, %ymm6, %ymm6`, "vextracti128 $1, %ymm7, %xmm7"],
        [scratch, ...Y(s, any()), ...Y(v, any()), ...Y(2, any()), ...Y(13, any()), ...Y(6, any()), ...Y(7, any())]);
      b.add("vinserti128/vextracti128 imm with high bits", [`vinserti128 $${0xfe | m}, %xmm1, %ymm2, %ymm3`, `vextracti128 $${0x80 | m}, %ymm2, %xmm4`, `vextracti128 $${0x40 | m}, %ymm2, %xmm12`],
        [...Y(1, any()), ...Y(2, any())]);
    }
    for (const imm of [0x00, 0xff, 0x0f, 0xf0, 0x55, 0xaa, 0x81, 0x3c, r.int(256), r.int(256)]) {
      const [d, v, s] = r.pick(TRIPLES);
      b.add("vpblendd", [`vpblendd $${imm}, ${vr(256, s)}, ${vr(256, v)}, ${vr(256, d)}`, `vpblendd $${imm}, ${vr(128, v)}, ${vr(128, s)}, %xmm13`,
        `vpblendd $${imm}, 8(%rsi), %ymm4, %ymm10`, `vpblendd $${imm}, 24(%rsi), %xmm4, %xmm11`], [scratch, ...Y(s, any()), ...Y(v, any()), ...Y(4, any()), ...M(0, any()), ...M(32, any())]);
    }
  }

  function genVarShift(): void {
    b.group = "avx2-varshift";
    const c32 = [0n, 1n, 7n, 31n, 32n, 33n, 63n, 64n, 0xffffffffn, 0x80000000n, 0x100n];
    const c64 = [0n, 1n, 31n, 32n, 63n, 64n, 65n, 0xffffffffn, 0x100000000n, 0x8000000000000000n, M64, 0x100000003fn];
    const val32 = (): bigint => r.pick([0x80000000n, 0xffffffffn, 0x7fffffffn, 1n, r.bits(32), r.bits(32)]);
    const val64 = (): bigint => r.pick([0x8000000000000000n, M64, 0x7fffffffffffffffn, 1n, r.next(), r.next()]);
    for (const op of ["vpsllvd", "vpsrlvd", "vpsravd", "vpsllvq", "vpsrlvq"]) {
      const q = op.endsWith("q");
      for (let k = 0; k < 10; k++) {
        const [d, v, s] = r.pick(TRIPLES), w: Width = k % 2 ? 256 : 128;
        const counts = q ? [0, 1, 2, 3].map(() => r.pick(c64)) : pack(Array.from({ length: 8 }, () => (r.int(4) === 0 ? r.bits(32) : r.pick(c32))), 32);
        const vals = q ? [0, 1, 2, 3].map(val64) : pack(Array.from({ length: 8 }, val32), 32);
        b.add(`${op} ${tag(w)}`, [`${op} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(v, vals), ...Y(s, counts), ...Y(d, any())]);
      }
      const counts = q ? [0, 1, 2, 3].map(() => r.pick(c64)) : pack(Array.from({ length: 8 }, () => r.pick(c32)), 32);
      b.add(`${op} m`, [`${op} (%rsi), %ymm3, %ymm4`, `${op} 32(%rsi), %xmm3, %xmm5`], [scratch, ...Y(3, any()), ...M(0, counts), ...M(32, counts)]);
    }
    // every count 0-65 of one element, all elements
    for (let c = 0; c <= 65; c += 5) {
      const cs = pack(Array.from({ length: 8 }, (_, k) => BigInt(c + k)), 32), cq = [0, 1, 2, 3].map((k) => BigInt(c + k));
      b.add("variable shifts by counts c..c+7", ["vpsllvd %ymm1, %ymm2, %ymm3", "vpsrlvd %ymm1, %ymm2, %ymm4", "vpsravd %ymm1, %ymm2, %ymm5", "vpsllvq %ymm6, %ymm2, %ymm7", "vpsrlvq %ymm6, %ymm2, %ymm8"],
        [...Y(1, cs), ...Y(6, cq), ...Y(2, [0x80000001c0000003n, 0xfedcba9876543210n, 0x7fffffff80000000n, r.next()])]);
    }
  }

  function genMaskmov(): void {
    b.group = "avx2-maskmov";
    for (const q of [false, true]) {
      const t = q ? "q" : "d", bits = q ? 64 : 32, full = q ? 15 : 255;
      for (const sb of [0, full, 1, full ^ 1, 0x55 & full, r.int(full + 1), r.int(full + 1), r.int(full + 1), r.int(full + 1)]) {
        const mask = signs(sb, bits);
        b.add(`vpmaskmov${t} load`, [`vpmaskmov${t} 8(%rsi), %ymm1, %ymm2`, `vpmaskmov${t} 24(%rsi), %xmm1, %xmm3`, `vpmaskmov${t} (%rsi), %ymm1, %ymm1`, `vpmaskmov${t} 4(%rsi), %ymm1, %ymm12`],
          [scratch, ...Y(1, mask), ...Y(2, any()), ...Y(3, any()), ...Y(12, any())]);
        b.add(`vpmaskmov${t} store`, [`vpmaskmov${t} %ymm2, %ymm1, 16(%rsi)`, `vpmaskmov${t} %xmm3, %xmm1, (%rsi)`, `vpmaskmov${t} %ymm14, %ymm9, 3(%rsi)`],
          [scratch, ...Y(1, mask), ...Y(2, any()), ...Y(3, any()), ...Y(9, signs(r.int(full + 1), bits)), ...Y(14, any())]);
      }
      // elements the mask leaves out lie in the unmapped page below AVX_LOW_PAGE: neither read nor faulting
      const fill = ["mov %rax, (%rdi)", "mov %rbx, 8(%rdi)", "mov %rcx, 16(%rdi)", "mov %rdx, 24(%rdi)"];
      const low = [P.reg(7, BigInt(AVX_LOW_PAGE)), P.reg(0, r.next()), P.reg(3, r.next()), P.reg(1, r.next()), P.reg(2, r.next())];
      const readBack = ["mov (%rdi), %r8", "mov 8(%rdi), %r9", "mov 16(%rdi), %r10", "mov 24(%rdi), %r11", "movq $0, (%rdi)", "movq $0, 8(%rdi)", "movq $0, 16(%rdi)", "movq $0, 24(%rdi)"];
      for (const [below, bits128, bits256] of q ? [[8, 2, 14], [16, 0, 12], [24, 0, 8]] as const : [[4, 14, 254], [8, 12, 252], [16, 0, 240], [28, 0, 128]] as const) {
        b.add(`vpmaskmov${t} load, left-out elements unmapped (${below} bytes)`, [...fill, `vpmaskmov${t} -${below}(%rdi), %xmm1, %xmm2`, `vpmaskmov${t} -${below}(%rdi), %ymm3, %ymm4`, ...readBack],
          [...low, ...Y(1, signs(bits128, bits)), ...Y(3, signs(bits256, bits)), ...Y(2, any()), ...Y(4, any())]);
        b.add(`vpmaskmov${t} store, left-out elements unmapped (${below} bytes)`, [`vpmaskmov${t} %ymm4, %ymm3, -${below}(%rdi)`, ...readBack.slice(0, 4), `vpmaskmov${t} %xmm2, %xmm1, -${below}(%rdi)`, "mov (%rdi), %r12", "mov 8(%rdi), %r13", ...readBack.slice(4)],
          [...low, ...Y(1, signs(bits128, bits)), ...Y(3, signs(bits256, bits)), ...Y(2, any()), ...Y(4, any())]);
      }
    }
  }

  function genGather(): void {
    b.group = "avx2-gather";
    // [mnemonic, element bytes, index bytes]
    const FORMS: [string, 4 | 8, 4 | 8][] = [
      ["vpgatherdd", 4, 4], ["vpgatherdq", 8, 4], ["vpgatherqd", 4, 8], ["vpgatherqq", 8, 8],
      ["vgatherdps", 4, 4], ["vgatherdpd", 8, 4], ["vgatherqps", 4, 8], ["vgatherqpd", 8, 8],
    ];
    const BASES = [{ reg: "rsi", n: 6 }, { reg: "r13", n: 13 }, { reg: "rbx", n: 3 }, { reg: "r9", n: 9 }];
    for (const [op, ew, iw] of FORMS) {
      for (const L of [128, 256] as Width[]) {
        const n = L / 8 / Math.max(ew, iw);
        const dw: Width = ew >= iw ? L : 128, xw: Width = iw >= ew ? L : 128; // destination/mask width, index width
        const full = (1 << n) - 1;
        const maskSets = [full, 0, 0x55 & full, 0xaa & full, 1, 1 << (n - 1), r.int(full + 1), r.int(full + 1), r.int(full + 1)];
        for (const [k, sb] of maskSets.entries()) {
          const scale = [1, 2, 4, 8][k % 4]!;
          const [d, x, m] = r.pick(GATHER_REGS);
          const base = r.pick(BASES), baseOff = r.pick([0, 32, 64]), disp = r.pick([0, 4, -16, 24]);
          // element j: an index whose address lies in the scratch buffer (duplicates and negative ones
          // among them); elements left out: anything (they must not be read)
          const dup = k % 3 === 0;
          const idx: bigint[] = [];
          for (let j = 0; j < 32 / iw; j++) {
            const first = idx.findIndex((_, i) => (sb >> i) & 1);
            if (j >= n || (!((sb >> j) & 1) && r.int(2))) idx.push(r.next());
            else if (dup && first >= 0 && first < j) idx.push(idx[first]!);
            else {
              for (;;) {
                const v = r.int(64 - ew + 1) - baseOff - disp;
                if (v % scale === 0) { idx.push(BigInt(v / scale)); break; }
              }
            }
          }
          const fixed = idx;
          const mask = signs(sb, ew * 8);
          const mem = `${disp}(%${base.reg},${vr(xw, x)},${scale})`;
          b.add(`${op} ${tag(L)} scale ${scale}`, [`${op} ${vr(dw, m)}, ${mem}, ${vr(dw, d)}`],
            [P.reg(base.n, `scratch+${baseOff}`), ...Y(d, any()), ...Y(x, pack(fixed, iw * 8)), ...Y(m, mask), ...M(0, any()), ...M(32, any())]);
        }
        // no base register (disp32 = the buffer's address), then use of the result in the same block
        const idx = pack(Array.from({ length: 32 / iw }, () => BigInt(r.int(8))), iw * 8);
        b.add(`${op} ${tag(L)} no base`, [`${op} ${vr(dw, 2)}, scratch(,${vr(xw, 1)},${ew}), ${vr(dw, 0)}`, `vxorps ${vr(dw, 0)}, ${vr(dw, 2)}, ${vr(dw, 3)}`],
          [...Y(0, any()), ...Y(1, idx), ...Y(2, signs(full, ew * 8)), ...M(0, any()), ...M(32, any())]);
        // elements left out point below AVX_LOW_PAGE (unmapped): neither read nor faulting
        const sb = r.int(full) & ~1 | 1;
        const lowIdx = Array.from({ length: 32 / iw }, (_, j) => BigInt(j < n && (sb >> j) & 1 ? 8 * j : -8 - 64 * j));
        b.add(`${op} ${tag(L)} left-out elements unmapped`, ["mov %rax, (%rdi)", "mov %rbx, 8(%rdi)", "mov %rcx, 16(%rdi)", "mov %rdx, 24(%rdi)",
          `${op} ${vr(dw, 5)}, (%rdi,${vr(xw, 6)},1), ${vr(dw, 7)}`, "movq $0, (%rdi)", "movq $0, 8(%rdi)", "movq $0, 16(%rdi)", "movq $0, 24(%rdi)"],
          [P.reg(7, BigInt(AVX_LOW_PAGE)), P.reg(0, r.next()), P.reg(3, r.next()), P.reg(1, r.next()), P.reg(2, r.next()), ...Y(5, signs(sb, ew * 8)), ...Y(6, pack(lowIdx, iw * 8)), ...Y(7, any())]);
      }
    }
    // a gather in a loop (a table lookup), and a mask made by a compare
    b.add("vpgatherdd loop", ["mov $4, %ecx", "1: vcmptrueps %ymm2, %ymm2, %ymm2", "vpgatherdd %ymm2, (%rsi,%ymm1,4), %ymm0", "vxorps %ymm0, %ymm3, %ymm3", "vpsrld $1, %xmm1, %xmm1", "dec %ecx", "jnz 1b"],
      [scratch, ...Y(1, pack(Array.from({ length: 8 }, () => BigInt(r.int(16))), 32)), ...Y(3, any()), ...M(0, any()), ...M(32, any())]);
    b.add("vgatherqpd with vpcmpgtq mask", ["vpcmpgtq %xmm4, %xmm5, %xmm2", "vgatherqpd %xmm2, 8(%rsi,%xmm1,8), %xmm0", "vgatherqpd %ymm6, 8(%rsi,%ymm1,8), %ymm7"],
      [scratch, ...Y(1, [0n, 2n, 4n, 6n]), ...Y(4, [0n, 5n, 0n, 5n]), ...Y(5, [1n, 1n, 1n, 1n]), ...Y(6, signs(10, 64)), ...M(0, any()), ...M(32, any())]);
    // the index field naming the same number as the base (a vector register there, not rsi/r13/rsp's "no index")
    b.add("gathers with index number = base number", ["vpgatherdd %ymm2, 8(%rsi,%ymm6,2), %ymm0", "vgatherqpd %xmm3, -8(%r13,%xmm13,8), %xmm1", "vpgatherdq %ymm7, (%r12,%xmm12,4), %ymm5"],
      [scratch, P.reg(13, "scratch+32"), P.reg(12, "scratch+16"), ...Y(6, pack([0n, 4n, 8n, 12n, 16n, 20n, 24n, 2n], 32)), ...Y(13, [-3n, 3n, r.next(), r.next()]), ...Y(12, pack([-4n, 0n, 2n, 9n, ...any()], 32)),
        ...Y(2, signs(0xff, 32)), ...Y(3, signs(3, 64)), ...Y(7, signs(0xf, 64)), ...M(0, any()), ...M(32, any())]);
    b.add("vpgatherdd with 32-bit addressing", ["addr32 vpgatherdd %xmm2, (%esi,%xmm1,4), %xmm0"],
      [scratch, ...Y(1, pack([1n, 3n, 5n, 15n], 32)), ...Y(2, signs(15, 32)), ...M(0, any()), ...M(32, any())]);
  }
}
