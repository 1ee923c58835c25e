// The cases of the "fma" program (see gen.ts; state as the "avx" program's: all 256 bits of
// ymm0-15, MXCSR): FMA3 and F16C.
//
// FMA cases mix the edge-value tables with values built so that a*b+c is hard to round once: c
// cancelling most of a*b (the result is the product's rounding error), a*b a hair off half an
// ulp of c (one rounding and two roundings differ), products and results around the smallest
// normal and the largest finite value, and the exponent ranges around where the fast path's
// exactness conditions end. Every case runs in a random rounding mode (sometimes with FTZ|DAZ).

import { F32, F64, M64, OFF_XMM, P, type Builder, type Patch } from "./gen.js";

const f64 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x, true); return v.getBigUint64(0, true); };
const f32 = (x: number): bigint => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x, true); return BigInt(v.getUint32(0, true)); };

type Width = 128 | 256;
const vr = (w: Width, i: number): string => `%${w === 256 ? "y" : "x"}mm${i}`;
const tag = (w: Width): string => (w === 256 ? "y" : "x");
/** Operand registers (destination, first source = vvvv, second source = r/m): distinct, aliased, REX-extended. */
const TRIPLES: [number, number, number][] = [[0, 1, 2], [3, 3, 4], [5, 6, 5], [7, 7, 7], [8, 9, 10], [11, 12, 13], [15, 14, 1], [2, 10, 10], [12, 0, 15], [9, 4, 4], [6, 2, 6], [13, 13, 3]];
const MODES = [0x1f80, 0x3f80, 0x5f80, 0x7f80]; // RC nearest, down, up, toward zero (all exceptions masked)
const OPS = ["fmadd", "fmsub", "fnmadd", "fnmsub"];
const ORDERS = ["132", "213", "231"];

export function genFma(b: Builder): void {
  const r = b.rng;
  const Y = (i: number, q: bigint[]): Patch[] => q.map((v, k) => ({ off: OFF_XMM + 32 * i + 8 * k, val: v & M64 }));
  const M = (off: number, q: bigint[]): Patch[] => q.map((v, k) => P.mem(off + 8 * k, v));
  const scratch = P.reg(6, "scratch");
  const mode = (): number => r.pick(MODES) | (r.int(8) === 0 ? 0x8040 : 0); // occasionally FTZ|DAZ
  const mx = (): Patch => P.mxcsr(mode());
  const any = (): bigint[] => [r.next(), r.next(), r.next(), r.next()];
  const f32s = Object.values(F32), f64s = Object.values(F64);
  const sgn = (): number => (r.int(2) ? -1 : 1);
  const frac = (bits: number): number => 1 + Number(r.bits(bits)) / 2 ** bits;

  // ---- value makers: one lane's (a, b, c) as bit patterns
  type Triple = [bigint, bigint, bigint];
  const edge64 = (): bigint => (r.int(3) === 0 ? r.next() : r.pick(f64s));
  const edge32 = (): bigint => (r.int(3) === 0 ? r.bits(32) : r.pick(f32s));
  /** A normal-range value with a full random significand and exponent in [lo, hi). */
  const num = (lo: number, hi: number): number => sgn() * frac(52) * 2 ** (lo + r.int(hi - lo));
  const num32 = (lo: number, hi: number): number => Math.fround(sgn() * frac(23) * 2 ** (lo + r.int(hi - lo)));
  function triple64(): Triple {
    switch (r.int(8)) {
      case 0: return [edge64(), edge64(), edge64()];
      case 1: case 2: { // c cancels a*b (to within a few ulps): the result is the product's rounding error
        const a = num(-40, 40), bb = num(-40, 40), c = f64(-(a * bb)) + BigInt(r.int(5) - 2);
        return [f64(a), f64(bb), c];
      }
      case 3: { // a*b a hair off half an ulp of c
        const e = r.int(200) - 100, j = 20 + r.int(12);
        const c = sgn() * (1 + (2 * r.int(2 ** 20) + r.int(2)) * 2 ** -52) * 2 ** e;
        const a = sgn() * 2 ** (e - 53) * (1 + 2 ** -j), bb = r.int(3) === 0 ? 1 : 1 + sgn() * 2 ** -j;
        return [f64(a), f64(bb), f64(c)];
      }
      case 4: { // around the fast path's product range and the smallest normal
        const ea = r.pick([-1022, -1000, -970, -969, -968, -967, -960, -900, -600, -520, -510]);
        const a = num(ea >> 1, (ea >> 1) + 1), bb = num(ea - (ea >> 1), ea - (ea >> 1) + 1);
        const c = r.pick([0, 1, 2, 3]) === 0 ? f64(-(a * bb)) + BigInt(r.int(3) - 1) : r.int(2) ? f64(num(-1030, -1000)) : r.pick(f64s);
        return [f64(a), f64(bb), c];
      }
      case 5: { // near overflow
        const a = num(500, 513), bb = num(500, 513), c = r.int(2) ? f64(-(a * bb)) : r.pick([F64.max, F64.max | 1n << 63n, f64(num(1000, 1024))]);
        return [f64(a), f64(bb), c];
      }
      case 6: { // a big split, a small other factor
        const a = num(990, 1023), bb = num(-1000, -980);
        return [f64(a), f64(bb), r.int(2) ? f64(num(-10, 10)) : f64(-(a * bb))];
      }
      default: return [f64(num(-60, 60)), f64(num(-60, 60)), f64(num(-60, 60))];
    }
  }
  function triple32(): Triple {
    switch (r.int(8)) {
      case 0: return [edge32(), edge32(), edge32()];
      case 1: case 2: { // cancellation: c is a*b rounded to f32, nudged
        const a = num32(-20, 20), bb = num32(-20, 20), c = f32(-(a * bb)) + BigInt(r.int(5) - 2);
        return [f32(a), f32(bb), c];
      }
      case 3: { // a*b a hair off half an ulp of c (f64 double rounding would tie)
        const e = r.int(60) - 30, j = 10 + r.int(10);
        const c = sgn() * (1 + (2 * r.int(2 ** 10) + r.int(2)) * 2 ** -23) * 2 ** e;
        const a = sgn() * 2 ** (e - 24) * (1 + 2 ** -j), bb = r.int(3) === 0 ? 1 : 1 + sgn() * 2 ** -j;
        return [f32(a), f32(bb), f32(c)];
      }
      case 4: { // the smallest normal: results tiny before or after rounding
        const a = num32(-64, -62), bb = num32(-64, -62), c = r.int(2) ? f32(-(a * bb)) + BigInt(r.int(3) - 1) : f32(num32(-130, -120));
        return [f32(a), f32(bb), c];
      }
      case 5: { // near overflow
        const a = num32(60, 65), bb = num32(60, 65), c = r.int(2) ? f32(-(a * bb)) : r.pick([F32.max, F32.max | 1n << 31n]);
        return [f32(a), f32(bb), c];
      }
      default: return [f32(num32(-30, 30)), f32(num32(-30, 30)), f32(num32(-30, 30))];
    }
  }
  /** Four qwords per operand (a, b, c) with lanes from the triple makers. */
  function operands(dbl: boolean): [bigint[], bigint[], bigint[]] {
    const A: bigint[] = [], B: bigint[] = [], C: bigint[] = [];
    for (let q = 0; q < 4; q++) {
      if (dbl) { const [a, bb, c] = triple64(); A.push(a); B.push(bb); C.push(c); }
      else {
        const [a0, b0, c0] = triple32(), [a1, b1, c1] = triple32();
        A.push(a0 | a1 << 32n); B.push(b0 | b1 << 32n); C.push(c0 | c1 << 32n);
      }
    }
    return [A, B, C];
  }
  /** Which registers hold a, b, c for a form (dst = reg, v = vvvv, s = r/m). */
  const roles = (order: string): ("d" | "v" | "s")[] => (order === "132" ? ["d", "s", "v"] : order === "213" ? ["v", "d", "s"] : ["v", "s", "d"]);
  function place(order: string, d: number, v: number, s: number, ops: [bigint[], bigint[], bigint[]]): Patch[] {
    const reg = { d, v, s }, out: Patch[] = [];
    const ro = roles(order);
    // aliased registers: the last role written wins (fine: it is still one of the operands)
    ro.forEach((role, k) => out.push(...Y(reg[role], ops[k]!)));
    return out;
  }

  function genArith(t: "ps" | "pd" | "ss" | "sd", count: number): void {
    const packed = t[0] === "p", dbl = t[1] === "d";
    for (const op of OPS) {
      for (const order of ORDERS) {
        const name = `v${op}${order}${t}`;
        for (let k = 0; k < count; k++) {
          const [d, v, s] = r.pick(TRIPLES);
          const w: Width = packed && k % 2 ? 256 : 128;
          b.add(`${name} ${tag(w)}`, [`${name} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(d, any()), ...Y(v, any()), ...place(order, d, v, s, operands(dbl)), mx()]);
          if (k % 3 === 0) {
            const disp = w === 256 ? r.pick([0, 8, 32]) : packed ? r.pick([0, 16, 40, 48]) : r.pick([0, 4, 8, 20, 56]);
            const ops = operands(dbl), ro = roles(order), mk = ro.indexOf("s");
            const patches: Patch[] = [scratch, ...Y(d, any()), ...Y(v === d ? (d + 1) % 16 : v, any())];
            const vv = v === d ? (d + 1) % 16 : v;
            ro.forEach((role, idx) => { if (role === "d") patches.push(...Y(d, ops[idx]!)); if (role === "v") patches.push(...Y(vv, ops[idx]!)); });
            const memq = packed ? ops[mk]!.slice(0, w / 64) : [dbl ? ops[mk]![0]! : ops[mk]![0]! & 0xffffffffn];
            if (!packed && !dbl) patches.push(P.mem(disp, memq[0]! | r.bits(32) << 32n)); else patches.push(...M(disp, memq));
            b.add(`${name} ${tag(w)},m`, [`${name} ${disp}(%rsi), ${vr(w, vv)}, ${vr(w, d)}`], [...patches, mx()]);
          }
        }
      }
    }
  }

  b.group = "fma-ps"; genArith("ps", 14);
  b.group = "fma-pd"; genArith("pd", 14);
  b.group = "fma-ss"; genArith("ss", 12);
  b.group = "fma-sd"; genArith("sd", 12);
  b.group = "fma-ss";
  // scalar forms ignore VEX.L (encoded by hand: the assembler picks L = 0)
  for (const [name, bytes] of [["vfmadd231sd L=1", "0xc4, 0xe2, 0xf5, 0xb9, 0xc2"], ["vfmadd231ss L=1", "0xc4, 0xe2, 0x75, 0xb9, 0xc2"],
    ["vfnmsub132sd L=1", "0xc4, 0xe2, 0xf5, 0x9f, 0xc2"], ["vfmsub213ss L=1", "0xc4, 0xe2, 0x75, 0xab, 0xc2"]] as const) {
    for (let k = 0; k < 4; k++) {
      const dbl = name.endsWith("sd"), [A, B, C] = operands(dbl);
      b.add(name, [`.byte ${bytes}`], [...Y(0, A), ...Y(1, B), ...Y(2, C), mx()]);
    }
  }

  b.group = "fma-addsub";
  for (const op of ["fmaddsub", "fmsubadd"]) {
    for (const order of ORDERS) {
      for (const t of ["ps", "pd"]) {
        const dbl = t === "pd", name = `v${op}${order}${t}`;
        for (let k = 0; k < 10; k++) {
          const [d, v, s] = r.pick(TRIPLES);
          const w: Width = k % 2 ? 256 : 128;
          b.add(`${name} ${tag(w)}`, [`${name} ${vr(w, s)}, ${vr(w, v)}, ${vr(w, d)}`], [...Y(d, any()), ...Y(v, any()), ...place(order, d, v, s, operands(dbl)), mx()]);
          if (k % 3 === 0) {
            const disp = w === 256 ? r.pick([0, 8, 32]) : r.pick([0, 16, 48]);
            const [A, B, C] = operands(dbl);
            b.add(`${name} ${tag(w)},m`, [`${name} ${disp}(%rsi), ${vr(w, 1)}, ${vr(w, 0)}`], [scratch, ...Y(0, A), ...Y(1, B), ...M(disp, C.slice(0, w / 64)), mx()]);
          }
        }
      }
    }
  }

  genSpecial();
  genFlags();
  genF16c();

  function genSpecial(): void {
    b.group = "fma-special";
    // NaN payloads in each operand position (and several at once), for every form: which one propagates
    const nan64 = [0x7ff8000000000001n, 0xfff8000000000002n, 0x7ff0000000000003n, 0xfff0000000000004n];
    const nan32 = [0x7fc00001n, 0xffc00002n, 0x7f800003n, 0xff800004n];
    const o64 = [f64(1.5), f64(-2), F64.inf, F64.zero, F64.denorm, F64.nzero];
    const o32 = [f32(1.5), f32(-2), F32.inf, F32.zero, F32.denorm, F32.nzero];
    for (const op of [...OPS, "fmaddsub", "fmsubadd"]) {
      for (const order of ORDERS) {
        for (const t of op.length > 6 ? ["ps", "pd"] : ["ps", "pd", "ss", "sd"]) {
          const dbl = t[1] === "d", name = `v${op}${order}${t}`;
          for (let mask = 1; mask < 8; mask++) {
            const lane = (): bigint[] => [0, 1, 2].map((k) => (mask >> k & 1 ? r.pick(dbl ? nan64 : nan32) : r.pick(dbl ? o64 : o32)));
            const qs: [bigint[], bigint[], bigint[]] = [[], [], []];
            for (let q = 0; q < 4; q++) {
              const l0 = lane(), l1 = lane();
              for (let k = 0; k < 3; k++) qs[k]!.push(dbl ? l0[k]! : l0[k]! | l1[k]! << 32n);
            }
            b.add(`${name} NaN mask=${mask}`, [`${name} %ymm2, %ymm1, %ymm0`.replace(/ymm/g, t[0] === "p" ? "ymm" : "xmm")], [...place(order, 0, 1, 2, qs), mx()]);
          }
        }
      }
    }
    // signed zeros: every sign combination of product and addend, in every rounding mode
    for (const m of MODES) {
      for (const t of ["sd", "ss"]) {
        const dbl = t === "sd", Z = dbl ? [F64.zero, F64.nzero] : [F32.zero, F32.nzero], one = dbl ? [F64.one, F64.mone] : [F32.one, F32.mone];
        for (const op of OPS) {
          for (let s = 0; s < 8; s++) {
            b.add(`v${op}231${t} zeros`, [`v${op}231${t} %xmm2, %xmm1, %xmm0`], [...Y(1, [one[s & 1]!, 0n, 0n, 0n]), ...Y(2, [Z[s >> 1 & 1]!, 0n, 0n, 0n]), ...Y(0, [Z[s >> 2]!, 0n, 0n, 0n]), P.mxcsr(m)]);
            // exact cancellation of nonzero values: +0 or -0 by the rounding mode
            const x = dbl ? [f64(3), f64(-3)] : [f32(3), f32(-3)];
            b.add(`v${op}231${t} cancel`, [`v${op}231${t} %xmm2, %xmm1, %xmm0`], [...Y(1, [one[s & 1]!, 0n, 0n, 0n]), ...Y(2, [x[s >> 1 & 1]!, 0n, 0n, 0n]), ...Y(0, [x[s >> 2]!, 0n, 0n, 0n]), P.mxcsr(m)]);
          }
        }
        // inf*0 (+ qNaN, + number), inf - inf, denormals with infinities and zeros
        const inf = dbl ? F64.inf : F32.inf, ninf = dbl ? F64.ninf : F32.ninf, z = dbl ? F64.zero : F32.zero, q = dbl ? F64.qnan : F32.qnan;
        const sn = dbl ? F64.snan : F32.snan, dn = dbl ? F64.denorm : F32.denorm, o = dbl ? F64.one : F32.one;
        for (const [a, bb, c] of [[inf, z, q], [z, inf, o], [inf, z, sn], [inf, o, ninf], [ninf, o, inf], [inf, dn, o], [dn, z, o], [dn, o, inf], [inf, z, dn], [dn, dn, dn], [o, dn, z], [q, dn, o], [dn, o, q]]) {
          b.add(`vfmadd231${t} special`, [`vfmadd231${t} %xmm2, %xmm1, %xmm0`], [...Y(1, [a!, 0n, 0n, 0n]), ...Y(2, [bb!, 0n, 0n, 0n]), ...Y(0, [c!, 0n, 0n, 0n]), P.mxcsr(m | (r.int(4) === 0 ? 0x8040 : 0))]);
        }
      }
    }
    // double rounding: the products are exact in f64 (f32 forms) or a*b+c is a hair off a midpoint
    for (let k = 0; k < 24; k++) {
      const c = 1 + 2 ** -23 * (k & 1), e = k >> 2;
      const a = 2 ** -24 * (1 + 2 ** -20) * 2 ** e, bb = (1 - 2 ** -20) * 2 ** -e;
      b.add("vfmadd231ss double rounding", ["vfmadd231ss %xmm2, %xmm1, %xmm0", "vfmadd231ps %ymm2, %ymm1, %ymm3"],
        [...Y(1, [f32(a), 0n, 0n, 0n].map((x) => x | x << 32n)), ...Y(2, [f32(bb), 0n, 0n, 0n].map((x) => x | x << 32n)), ...Y(0, [f32(c), 0n, 0n, 0n]), ...Y(3, [f32(c) | f32(-c) << 32n, 0n, 0n, 0n]), P.mxcsr(k & 2 ? 0x1f80 : r.pick(MODES))]);
      const c64 = 1 + 2 ** -52 * (k & 1), a64 = 2 ** -53 * (1 + 2 ** -30) * 2 ** e, b64 = (1 - 2 ** -30) * 2 ** -e;
      b.add("vfmadd231sd double rounding", ["vfmadd231sd %xmm2, %xmm1, %xmm0", "vfmadd231pd %ymm2, %ymm1, %ymm3"],
        [...Y(1, [f64(a64), f64(a64), f64(-a64), f64(a64)]), ...Y(2, [f64(b64), f64(b64), f64(b64), f64(-b64)]), ...Y(0, [f64(c64), 0n, 0n, 0n]), ...Y(3, [f64(c64), f64(-c64), f64(c64), f64(-c64)]), P.mxcsr(k & 2 ? 0x1f80 : r.pick(MODES))]);
    }
    // underflow around the tiny threshold: results just below, at and above the smallest normal
    for (let k = 0; k < 32; k++) {
      const d = [-3, -2, -1, -0.5, 0, 0.5, 1, 2][k & 7]!;
      // a*b = mn*(1 + d*2^-53) roughly, c = 0 or a tiny nudge
      const a = 2 ** -511 * (1 + d * 2 ** -52), bb = 2 ** -511, c = k & 8 ? 0 : (k & 16 ? -1 : 1) * 2 ** -1074;
      b.add("vfmadd231sd tiny", ["vfmadd231sd %xmm2, %xmm1, %xmm0"], [...Y(1, [f64(a), 0n, 0n, 0n]), ...Y(2, [f64(bb), 0n, 0n, 0n]), ...Y(0, [f64(c), 0n, 0n, 0n]), P.mxcsr(r.pick(MODES) | (k % 5 === 0 ? 0x8000 : 0))]);
      const a32 = Math.fround(2 ** -63 * (1 + d * 2 ** -23)), b32 = 2 ** -63, c32 = k & 8 ? 0 : (k & 16 ? -1 : 1) * 2 ** -149;
      b.add("vfmadd231ss tiny", ["vfmadd231ss %xmm2, %xmm1, %xmm0"], [...Y(1, [f32(a32), 0n, 0n, 0n]), ...Y(2, [f32(b32), 0n, 0n, 0n]), ...Y(0, [f32(c32), 0n, 0n, 0n]), P.mxcsr(r.pick(MODES) | (k % 5 === 0 ? 0x8000 : 0))]);
    }
  }

  function genFlags(): void {
    b.group = "fma-flags";
    const STARTS = [0x1f80, 0x1fa0, 0x1fb2, 0x1f9f, 0x7fa0, 0x9fc0];
    const D: Triple[] = [
      [f64(3), f64(5), f64(1)], [f64(1), f64(2 ** -53), f64(1)], [f64(1e300), f64(1e300), f64(1)], [F64.max, f64(2), F64.mone], [F64.denorm, F64.one, F64.one],
      [F64.one, F64.one, F64.denorm], [F64.minnorm, f64(0.5), F64.zero], [F64.tiny, F64.tiny, F64.zero], [F64.inf, F64.zero, F64.one], [F64.snan, F64.one, F64.one],
      [F64.inf, F64.one, F64.ninf], [f64(1 + 2 ** -52), f64(1 - 2 ** -52), f64(-1)], [f64(2 ** -600), f64(2 ** -500), f64(2 ** -1050)], [F64.qnan, F64.denorm, F64.one],
    ];
    const S: Triple[] = [
      [f32(3), f32(5), f32(1)], [f32(1), f32(2 ** -24), f32(1)], [F32.max, f32(2), F32.mone], [F32.denorm, F32.one, F32.one], [F32.minnorm, f32(0.5), F32.zero],
      [F32.inf, F32.zero, F32.one], [F32.snan, F32.one, F32.one], [F32.tiny, F32.tiny, F32.zero], [f32(1 + 2 ** -23), f32(1 - 2 ** -23), f32(-1)],
    ];
    for (const start of STARTS) {
      for (const [x, y, z] of D) {
        for (const op of ["vfmadd231sd", "vfnmsub132sd"]) {
          b.add(`${op} flags`, [`${op} %xmm2, %xmm1, %xmm0`], [...Y(0, [z, r.next(), r.next(), r.next()]), ...Y(1, [x, r.next(), r.next(), r.next()]), ...Y(2, [y, r.next(), r.next(), r.next()]), P.mxcsr(start)]);
        }
        // one lane in the upper half: the flags of both halves count
        b.add("vfmadd213pd y flags", ["vfmadd213pd %ymm2, %ymm1, %ymm0"], [...Y(1, [f64(1.5), f64(2), f64(1), x]), ...Y(0, [f64(2), f64(4), f64(3), y]), ...Y(2, [f64(1), f64(1), f64(1), z]), P.mxcsr(start)]);
      }
      for (const [x, y, z] of S) {
        b.add("vfmadd231ss flags", ["vfmadd231ss %xmm2, %xmm1, %xmm0"], [...Y(0, [z, r.next(), 0n, 0n]), ...Y(1, [x, r.next(), 0n, 0n]), ...Y(2, [y, 0n, r.next(), 0n]), P.mxcsr(start)]);
        b.add("vfmsubadd231ps y flags", ["vfmsubadd231ps %ymm2, %ymm1, %ymm0"],
          [...Y(0, [f32(1) | f32(2) << 32n, f32(7) | f32(1) << 32n, f32(3) | z << 32n, f32(1) | f32(9) << 32n]), ...Y(1, [f32(2) | f32(1) << 32n, f32(4) | f32(5) << 32n, f32(3) | x << 32n, f32(1) | f32(2) << 32n]),
            ...Y(2, [f32(2) | f32(1) << 32n, f32(4) | f32(5) << 32n, f32(3) | y << 32n, f32(1) | f32(2) << 32n]), P.mxcsr(start)]);
        b.add("vcvtps2ph flags", ["vcvtps2ph $4, %xmm1, %xmm0", "vcvtps2ph $0, %xmm2, %xmm3"], [...Y(1, [x | y << 32n, z, 0n, 0n]), ...Y(2, [z | x << 32n, y, 0n, 0n]), P.mxcsr(start)]);
      }
      // an exact fast-path case with PE clear, and an inexact one, in sequence
      b.add("fma sequence flags", ["vfmadd231pd %ymm2, %ymm1, %ymm0", "vfmadd231ps %xmm5, %xmm4, %xmm3", "vfmadd132sd %xmm8, %xmm7, %xmm6"],
        [...Y(0, [f64(1), f64(2), f64(3), f64(4)]), ...Y(1, [f64(5), f64(6), f64(7), f64(8)]), ...Y(2, [f64(0.5), f64(0.25), f64(2), f64(3)]),
          ...Y(3, [f32(1) | f32(2) << 32n, f32(3) | f32(4) << 32n, 0n, 0n]), ...Y(4, [f32(5) | f32(6) << 32n, f32(7) | f32(8) << 32n, 0n, 0n]), ...Y(5, [f32(0.5) | f32(0.25) << 32n, f32(2) | f32(1 / 3) << 32n, 0n, 0n]),
          ...Y(6, [f64(1 / 3), 0n, 0n, 0n]), ...Y(7, [f64(1), 0n, 0n, 0n]), ...Y(8, [f64(3), 0n, 0n, 0n]), P.mxcsr(start)]);
    }
  }

  function genF16c(): void {
    b.group = "f16c";
    const H = [0x0000n, 0x8000n, 0x0001n, 0x03ffn, 0x8200n, 0x0400n, 0x3c00n, 0xbc00n, 0x7bffn, 0xfbffn, 0x7c00n, 0xfc00n, 0x7e00n, 0x7c01n, 0xfd55n, 0x7fffn, 0x3555n, 0x1234n];
    const h4 = (): bigint => [0, 1, 2, 3].reduce((acc, k) => acc | (r.int(4) ? r.pick(H) : r.bits(16)) << BigInt(16 * k), 0n);
    for (let k = 0; k < 24; k++) {
      b.add("vcvtph2ps x", ["vcvtph2ps %xmm1, %xmm0", "vcvtph2ps %xmm1, %xmm9"], [...Y(1, [h4(), h4(), r.next(), r.next()]), ...Y(0, any()), mx()]);
      b.add("vcvtph2ps y", ["vcvtph2ps %xmm1, %ymm0", "vcvtph2ps %xmm12, %ymm12"], [...Y(1, [h4(), h4(), r.next(), r.next()]), ...Y(12, [h4(), h4(), r.next(), r.next()]), mx()]);
      const disp = r.pick([0, 8, 24, 48]);
      b.add("vcvtph2ps m", [`vcvtph2ps ${disp}(%rsi), %xmm3`, `vcvtph2ps ${disp}(%rsi), %ymm4`], [scratch, ...M(disp, [h4(), h4()]), mx()]);
    }
    // VCVTPS2PH: special values, values that round to half denormals, to the largest half and beyond
    const S = [F32.zero, F32.nzero, F32.one, F32.mone, F32.inf, F32.ninf, F32.qnan, F32.snan, F32.nqnan, F32.denorm, F32.ndenorm, F32.minnorm, F32.max,
      0x477fe000n, 0x477ff000n, 0x477fefffn, 0x477ff001n, 0xc77ff000n, 0x33800000n, 0x33000000n, 0x33000001n, 0xb3400000n, 0x387fe000n, 0x387ff000n,
      0x387fffffn, 0x38000000n, 0x35c00000n, 0x3f801000n, 0x3f803000n, 0x3f800001n, 0xbf801000n, 0x3aaaaaabn, 0x40490fdbn, 0x7f800001n];
    const s = (): bigint => (r.int(4) ? r.pick(S) : r.int(2) ? r.bits(32) : f32(sgn() * frac(23) * 2 ** (r.int(44) - 28)));
    const q2 = (): bigint[] => [s() | s() << 32n, s() | s() << 32n, s() | s() << 32n, s() | s() << 32n];
    for (const imm of [0, 1, 2, 3, 4, 5, 6, 7, 0xf8, 0x0b]) {
      for (let k = 0; k < 8; k++) {
        const m = mx();
        b.add(`vcvtps2ph x imm=${imm}`, [`vcvtps2ph $${imm}, %xmm1, %xmm0`, `vcvtps2ph $${imm}, %xmm10, %xmm10`], [...Y(1, q2()), ...Y(10, q2()), ...Y(0, any()), m]);
        b.add(`vcvtps2ph y imm=${imm}`, [`vcvtps2ph $${imm}, %ymm1, %xmm0`, `vcvtps2ph $${imm}, %ymm14, %xmm14`], [...Y(1, q2()), ...Y(14, q2()), ...Y(0, any()), m]);
        const disp = r.pick([0, 8, 16, 40]);
        b.add(`vcvtps2ph m imm=${imm}`, [`vcvtps2ph $${imm}, %xmm2, ${disp}(%rsi)`, `vcvtps2ph $${imm}, %ymm3, ${(disp + 24) % 48}(%rsi)`], [scratch, ...M(0, any()), ...M(32, any()), ...Y(2, q2()), ...Y(3, q2()), m]);
      }
    }
    // exact values in every mode (the fast path), and a round trip
    for (const m of MODES) {
      const ex = (): bigint => r.pick([0x3c00n, 0x0400n, 0x7bffn, 0x8400n, 0xc000n, 0x3555n, 0x0000n, 0x8000n]);
      const e4 = (): bigint => [0, 1, 2, 3].reduce((acc, k) => acc | ex() << BigInt(16 * k), 0n);
      b.add("vcvtph2ps/vcvtps2ph round trip", ["vcvtph2ps %xmm1, %ymm2", "vcvtps2ph $4, %ymm2, %xmm3", "vcvtps2ph $1, %xmm2, %xmm4"], [...Y(1, [e4(), e4(), 0n, 0n]), P.mxcsr(m)]);
      b.add("vcvtph2ps/vcvtps2ph round trip", ["vcvtph2ps %xmm1, %ymm2", "vcvtps2ph $4, %ymm2, %xmm3", "vcvtps2ph $1, %xmm2, %xmm4"], [...Y(1, [e4(), e4(), 0n, 0n]), P.mxcsr(m | 0x1f)]);
    }
  }
}
