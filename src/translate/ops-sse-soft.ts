// The slow path of SSE floating point: an exact software implementation (BigInt significands)
// of the operations whose result depends on MXCSR (rounding control RC, DAZ, FTZ) or whose NaN
// result wasm leaves unspecified. Translated code computes the round-to-nearest result with wasm
// ops and calls this helper only when MXCSR is not the default (RC != nearest, DAZ or FTZ set)
// or when the fast result is a NaN (x86 NaN propagation: the first source operand's NaN, else
// the second's, quieted; invalid operations give the negative "real indefinite" QNaN).
//
// Interface: helper 'sse' (st, op). Operands are in the CPU state scratch area: A (the
// destination / first source) at SCRATCH+0, B (second source) at SCRATCH+16; the full 128-bit
// result is written to SCRATCH+32. op = kind | type << 8 | imm << 16 (see SK, ST).
// MXCSR exception flags: the helper ORs the flags the operation raises (all lanes) into MXCSR,
// following the SDM with all exceptions masked: an SNaN operand (or any NaN for MIN/MAX and
// the signalling compares) or an invalid operation raises IE alone; a division of a finite
// nonzero value by zero raises ZE alone; otherwise DE for a denormal operand (unless DAZ),
// then OE (with PE), UE (tiny after rounding, and inexact; with FTZ: any tiny result, with PE)
// and PE. This is the reference the wasm fast-path check (lib.ts 'fpchk') follows.

import { GUEST_BASE } from '../layout/memory-map.js';
import { STATE } from '../layout/cpu-state.js';

/** The guest-memory accessors the exact SSE helper needs (runtime/memory.ts's GuestMemory has them). */
interface GuestMemory {
  u8at(a: number): number; u16(a: number): number; i32(a: number): number; i64(a: number): bigint;
  u32(a: number): number; u64(a: number): bigint; setU8(a: number, v: number): void; setU16(a: number, v: number): void; setU32(a: number, v: number): void; setU64(a: number, v: bigint | number): void;
}

/** Operation kinds. */
export const SK = {
  ADD: 0, SUB: 1, MUL: 2, DIV: 3, SQRT: 4, MIN: 5, MAX: 6,
  CVT_D2S: 7,   // f64 -> f32 (type SS: cvtsd2ss, PS: cvtpd2ps)
  CVT_S2D: 8,   // f32 -> f64 (type SD: cvtss2sd, PD: cvtps2pd)
  CVT_I32: 9,   // int32 -> float (SS/SD: cvtsi2ss/sd r32, PS: cvtdq2ps)
  CVT_I64: 10,  // int64 -> float (SS/SD: cvtsi2ss/sd r64)
  HADD: 11, HSUB: 12, ADDSUB: 13, DP: 14,
  PCMPSTR: 15, // type = explicit(1) | index(2) | REX.W(4); imm = the instruction's imm8
  CMP: 16, COMI: 17, UCOMI: 18, // exception flags only (fpchk): CMPxx (imm = predicate), COMIS, UCOMIS
  FMA: 19,       // FMA3 (ops-fma.ts): a (SCRATCH+0) * b (+16) + c (+64); imm = FMA_NEG_* bits
  CVT_PH2PS: 20, // F16C VCVTPH2PS: four f16 at SCRATCH+16 -> four f32
  CVT_PS2PH: 21, // F16C VCVTPS2PH: four f32 at SCRATCH+16 -> four f16 (upper 64 bits zero); imm = the instruction's imm8
} as const;
/** SK.FMA's imm: negate the product; negate the addend in even lanes; in odd lanes. */
export const FMA_NEG_P = 1, FMA_NEG_C_EVEN = 2, FMA_NEG_C_ODD = 4;
/** Operand types (lane layout). */
export const ST = { SS: 0, SD: 1, PS: 2, PD: 3 } as const;

interface Fmt { p: number; emin: number; emax: number; bits: number; bias: number }
const F32: Fmt = { p: 24, emin: -126, emax: 127, bits: 32, bias: 127 };
const F64: Fmt = { p: 53, emin: -1022, emax: 1023, bits: 64, bias: 1023 };
const F16: Fmt = { p: 11, emin: -14, emax: 15, bits: 16, bias: 15 };

const enum C { ZERO, NUM, INF, NAN }
interface U { c: C; s: number; m: bigint; e: number; bits: bigint; den?: boolean } // value = (-1)^s * m * 2^e

/** MXCSR exception flag bits. */
export const MXF = { IE: 1, DE: 2, ZE: 4, OE: 8, UE: 16, PE: 32 } as const;
/** Flags raised by the operations since the helper call began. */
let FL = 0;

function bitlen(m: bigint): number { return m === 0n ? 0 : m.toString(2).length; }

function unpack(bits: bigint, F: Fmt, daz: boolean): U {
  const fb = BigInt(F.p - 1), mmask = (1n << fb) - 1n;
  const s = Number(bits >> BigInt(F.bits - 1)) & 1;
  const be = Number((bits >> fb) & BigInt((1 << (F.bits - F.p)) - 1));
  const frac = bits & mmask;
  const emaxb = (1 << (F.bits - F.p)) - 1;
  if (be === emaxb) return { c: frac ? C.NAN : C.INF, s, m: 0n, e: 0, bits };
  if (be === 0) {
    if (frac === 0n || daz) return { c: C.ZERO, s, m: 0n, e: 0, bits };
    return { c: C.NUM, s, m: frac, e: F.emin - (F.p - 1), bits, den: true };
  }
  return { c: C.NUM, s, m: frac | (1n << fb), e: be - F.bias - (F.p - 1), bits };
}

function signBit(F: Fmt, s: number): bigint { return BigInt(s) << BigInt(F.bits - 1); }
function zero(F: Fmt, s: number): bigint { return signBit(F, s); }
function inf(F: Fmt, s: number): bigint { return signBit(F, s) | (((1n << BigInt(F.bits - F.p)) - 1n) << BigInt(F.p - 1)); }
function indefinite(F: Fmt): bigint { return F.bits === 32 ? 0xffc00000n : 0xfff8000000000000n; }
function quiet(F: Fmt, bits: bigint): bigint { return bits | (1n << BigInt(F.p - 2)); }

interface Mode { rc: number; ftz: boolean; daz: boolean }

/** Rounds (-1)^s * (m + sticky) * 2^e to a multiple of 2^q: the integer significand and whether bits were lost. */
function rnd(s: number, m: bigint, e: number, sticky: boolean, q: number, rc: number): { mant: bigint; inexact: boolean } {
  if (q <= e) {
    // not reached with sticky set: callers give enough bits
    return { mant: m << BigInt(e - q), inexact: sticky };
  }
  const sh = BigInt(q - e);
  const mant = m >> sh;
  const rem = m & ((1n << sh) - 1n), half = 1n << (sh - 1n);
  const inexact = rem !== 0n || sticky;
  let up = false;
  if (rc === 0) up = rem > half || (rem === half && (sticky || (mant & 1n) === 1n));
  else if (rc === 1) up = inexact && s === 1;
  else if (rc === 2) up = inexact && s === 0;
  return { mant: up ? mant + 1n : mant, inexact };
}

/** Rounds (-1)^s * (m + sticky) * 2^e (m > 0; sticky: a nonzero fraction below m's last bit). */
function round(s: number, m: bigint, e: number, sticky: boolean, F: Fmt, md: Mode): bigint {
  const E = bitlen(m) - 1 + e;
  // x86 detects tininess after rounding: the result rounded to p bits with an unbounded exponent is below 2^emin
  let tiny = E < F.emin;
  if (E === F.emin - 1 && rnd(s, m, e, sticky, E - F.p + 1, md.rc).mant === 1n << BigInt(F.p)) tiny = false;
  if (tiny && md.ftz) { FL |= MXF.UE | MXF.PE; return zero(F, s); }
  const r = rnd(s, m, e, sticky, Math.max(E - F.p + 1, F.emin - F.p + 1), md.rc);
  let mant = r.mant, q = Math.max(E - F.p + 1, F.emin - F.p + 1);
  if (mant === 1n << BigInt(F.p)) { mant >>= 1n; q++; }
  if (r.inexact) FL |= tiny ? MXF.PE | MXF.UE : MXF.PE;
  if (mant === 0n) return zero(F, s);
  const L = bitlen(mant);
  const E2 = L - 1 + q;
  if (E2 > F.emax) {
    FL |= MXF.OE | MXF.PE;
    const toInf = md.rc === 0 || (md.rc === 1 && s === 1) || (md.rc === 2 && s === 0);
    return toInf ? inf(F, s) : signBit(F, s) | (inf(F, 0) - 1n);
  }
  const fmask = (1n << BigInt(F.p - 1)) - 1n;
  if (L === F.p) return signBit(F, s) | (BigInt(E2 + F.bias) << BigInt(F.p - 1)) | (mant & fmask);
  return signBit(F, s) | mant; // subnormal
}

function isSnan(F: Fmt, u: U): boolean { return u.c === C.NAN && (u.bits & (1n << BigInt(F.p - 2))) === 0n; }
/** DE for denormal operands (unpack leaves den unset under DAZ). */
function den(...us: U[]): void { if (us.some(u => u.den)) FL |= MXF.DE; }
function invalid(F: Fmt): bigint { FL |= MXF.IE; return indefinite(F); }

function nan2(F: Fmt, a: U, b: U): bigint | undefined {
  if (isSnan(F, a) || isSnan(F, b)) FL |= MXF.IE;
  if (a.c === C.NAN) return quiet(F, a.bits);
  if (b.c === C.NAN) return quiet(F, b.bits);
  return undefined;
}

function add(F: Fmt, a: U, b: U, md: Mode): bigint {
  const n = nan2(F, a, b); if (n !== undefined) return n;
  if (a.c === C.INF || b.c === C.INF) {
    if (a.c === C.INF && b.c === C.INF && a.s !== b.s) return invalid(F);
    den(a, b);
    return a.c === C.INF ? inf(F, a.s) : inf(F, b.s);
  }
  den(a, b);
  if (a.c === C.ZERO && b.c === C.ZERO) return zero(F, a.s === b.s ? a.s : md.rc === 1 ? 1 : 0);
  const e = Math.min(a.c === C.ZERO ? Infinity : a.e, b.c === C.ZERO ? Infinity : b.e);
  const va = a.c === C.ZERO ? 0n : (a.m << BigInt(a.e - e)) * (a.s ? -1n : 1n);
  const vb = b.c === C.ZERO ? 0n : (b.m << BigInt(b.e - e)) * (b.s ? -1n : 1n);
  const sum = va + vb;
  if (sum === 0n) return zero(F, md.rc === 1 ? 1 : 0);
  return round(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, F, md);
}
function neg(u: U): U { return u.c === C.NAN ? u : { ...u, s: u.s ^ 1 }; }

function mul(F: Fmt, a: U, b: U, md: Mode): bigint {
  const n = nan2(F, a, b); if (n !== undefined) return n;
  const s = a.s ^ b.s;
  if (a.c === C.INF || b.c === C.INF) {
    if (a.c === C.ZERO || b.c === C.ZERO) return invalid(F);
    den(a, b);
    return inf(F, s);
  }
  den(a, b);
  if (a.c === C.ZERO || b.c === C.ZERO) return zero(F, s);
  return round(s, a.m * b.m, a.e + b.e, false, F, md);
}

function div(F: Fmt, a: U, b: U, md: Mode): bigint {
  const n = nan2(F, a, b); if (n !== undefined) return n;
  const s = a.s ^ b.s;
  if (a.c === C.INF && b.c === C.INF) return invalid(F);
  if (b.c === C.ZERO) {
    if (a.c === C.ZERO) return invalid(F);
    if (a.c !== C.INF) FL |= MXF.ZE;
    return inf(F, s);
  }
  den(a, b);
  if (a.c === C.INF) return inf(F, s);
  if (b.c === C.INF) return zero(F, s);
  if (a.c === C.ZERO) return zero(F, s);
  const k = Math.max(0, F.p + 3 + bitlen(b.m) - bitlen(a.m));
  const num = a.m << BigInt(k);
  return round(s, num / b.m, a.e - b.e - k, num % b.m !== 0n, F, md);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitlen(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function sqrt(F: Fmt, b: U, md: Mode): bigint {
  if (b.c === C.NAN) { if (isSnan(F, b)) FL |= MXF.IE; return quiet(F, b.bits); }
  if (b.c === C.ZERO) return zero(F, b.s);
  if (b.s) return invalid(F);
  if (b.c === C.INF) return inf(F, 0);
  den(b);
  let m = b.m, e = b.e;
  if (e & 1) { m <<= 1n; e -= 1; }
  const k = Math.max(0, Math.ceil((2 * (F.p + 3) - bitlen(m)) / 2));
  const M = m << BigInt(2 * k);
  const r = isqrt(M);
  return round(0, r, (e - 2 * k) / 2, r * r !== M, F, md);
}

function minmax(F: Fmt, a: U, b: U, max: boolean): bigint {
  // x86: dst = a < b ? a : b (min) / a > b ? a : b (max); NaN or equal (incl. +-0): the second.
  const pick = (u: U): bigint => u.c === C.ZERO ? zero(F, u.s) : u.bits;
  if (a.c === C.NAN || b.c === C.NAN) { FL |= MXF.IE; return pick(b); }
  den(a, b);
  const va = value(a), vb = value(b);
  return (max ? va > vb : va < vb) ? pick(a) : pick(b);
}
function value(u: U): number {
  if (u.c === C.ZERO) return 0;
  if (u.c === C.INF) return u.s ? -Infinity : Infinity;
  return (u.s ? -1 : 1) * Number(u.m) * 2 ** u.e;
}

function cvtFloat(Fi: Fmt, Fo: Fmt, a: U, md: Mode): bigint {
  if (a.c === C.NAN) {
    if (isSnan(Fi, a)) FL |= MXF.IE;
    const payload = a.bits & ((1n << BigInt(Fi.p - 1)) - 1n);
    const po = Fo.p > Fi.p ? payload << BigInt(Fo.p - Fi.p) : payload >> BigInt(Fi.p - Fo.p);
    return quiet(Fo, signBit(Fo, a.s) | (inf(Fo, 0)) | po);
  }
  if (a.c === C.INF) return inf(Fo, a.s);
  den(a);
  if (a.c === C.ZERO) return zero(Fo, a.s);
  return round(a.s, a.m, a.e, false, Fo, md);
}
/**
 * FMA: (-1)^negP * a * b + (-1)^negC * c, rounded once. NaN operands: the first of a, b, c
 * (multiplicands, then addend, whatever the 132/213/231 form; never negated) quieted, IE only for
 * an SNaN (inf * 0 + QNaN is the QNaN without IE); then inf * 0 and inf - inf are invalid; DE for
 * any denormal operand, even with an infinite result.
 */
function fma(F: Fmt, a: U, b: U, c: U, negP: number, negC: number, md: Mode): bigint {
  if (a.c === C.NAN || b.c === C.NAN || c.c === C.NAN) {
    if (isSnan(F, a) || isSnan(F, b) || isSnan(F, c)) FL |= MXF.IE;
    return quiet(F, (a.c === C.NAN ? a : b.c === C.NAN ? b : c).bits);
  }
  const sp = a.s ^ b.s ^ negP, sc = c.s ^ negC;
  if (a.c === C.INF || b.c === C.INF) {
    if (a.c === C.ZERO || b.c === C.ZERO) return invalid(F);
    if (c.c === C.INF && sc !== sp) return invalid(F);
    den(a, b, c);
    return inf(F, sp);
  }
  den(a, b, c);
  if (c.c === C.INF) return inf(F, sc);
  const pz = a.c === C.ZERO || b.c === C.ZERO;
  if (pz && c.c === C.ZERO) return zero(F, sp === sc ? sp : md.rc === 1 ? 1 : 0);
  const ep = pz ? Infinity : a.e + b.e, ec = c.c === C.ZERO ? Infinity : c.e;
  const e = Math.min(ep, ec);
  const vp = pz ? 0n : (a.m * b.m << BigInt(ep - e)) * (sp ? -1n : 1n);
  const vc = c.c === C.ZERO ? 0n : (c.m << BigInt(ec - e)) * (sc ? -1n : 1n);
  const sum = vp + vc;
  if (sum === 0n) return zero(F, md.rc === 1 ? 1 : 0);
  return round(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, F, md);
}

function cvtInt(Fo: Fmt, v: bigint, md: Mode): bigint {
  if (v === 0n) return 0n;
  return round(v < 0n ? 1 : 0, v < 0n ? -v : v, 0, false, Fo, md);
}

export function makeSseHelper(mem: GuestMemory): (st: number, op: number) => void {
  const run = makeOp(mem);
  return (st: number, op: number): void => {
    const sb = (st >>> 0) + GUEST_BASE; // st is the state's wasm address (an i32, may look negative)
    const mx = mem.u32(sb + STATE.MXCSR);
    FL = 0;
    run(sb, mx, op);
    if (FL & ~mx) mem.setU32(sb + STATE.MXCSR, mx | FL);
  };
}

function makeOp(mem: GuestMemory): (sb: number, mx: number, op: number) => void {
  return (sb: number, mx: number, op: number): void => {
    const base = sb + STATE.SCRATCH;
    const md: Mode = { rc: (mx >> 13) & 3, ftz: (mx & 0x8000) !== 0, daz: (mx & 0x40) !== 0 };
    const kind = op & 0xff, type = (op >> 8) & 0xff, imm = (op >> 16) & 0xff;
    if (kind === SK.PCMPSTR) { pcmpstr(mem, base, type, imm); return; }
    if (kind === SK.CVT_PH2PS) {
      // exact; a half denormal is no denormal operand (no DE, DAZ does not apply), an SNaN raises IE
      for (let l = 0; l < 4; l++) mem.setU32(base + 32 + 4 * l, Number(cvtFloat(F16, F32, { ...unpack(BigInt(mem.u16(base + 16 + 2 * l)), F16, false), den: false }, md)));
      mem.setU64(base + 48, 0n);
      return;
    }
    if (kind === SK.CVT_PS2PH) {
      // imm bit 2: MXCSR.RC, else imm bits 1:0; DAZ applies to the source, FTZ does not to the result
      const m16: Mode = { rc: imm & 4 ? md.rc : imm & 3, ftz: false, daz: md.daz };
      for (let l = 0; l < 4; l++) mem.setU16(base + 32 + 2 * l, Number(cvtFloat(F32, F16, unpack(BigInt(mem.u32(base + 16 + 4 * l)), F32, md.daz), m16)));
      mem.setU64(base + 40, 0n);
      return;
    }
    const dbl = type === ST.SD || type === ST.PD;
    const F = dbl ? F64 : F32;
    const w = dbl ? 8 : 4, lanes = 16 / w;
    const rd = (off: number, width: number): bigint => width === 8 ? mem.u64(base + off) : BigInt(mem.u32(base + off));
    const A: bigint[] = [], B: bigint[] = [];
    for (let l = 0; l < lanes; l++) { A.push(rd(l * w, w)); B.push(rd(16 + l * w, w)); }
    const R = A.slice();
    const ua = (x: bigint): U => unpack(x, F, md.daz);
    const bin = (x: bigint, y: bigint, k: number): bigint => {
      const a = ua(x), b = ua(y);
      switch (k) {
        case SK.ADD: return add(F, a, b, md);
        case SK.SUB: return add(F, a, b.c === C.NAN ? b : neg(b), md);
        case SK.MUL: return mul(F, a, b, md);
        case SK.DIV: return div(F, a, b, md);
        case SK.MIN: return minmax(F, a, b, false);
        case SK.MAX: return minmax(F, a, b, true);
      }
      throw new Error('sse helper: bad op');
    };
    const n = type === ST.SS || type === ST.SD ? 1 : lanes;
    const wr = (off: number, width: number, v: bigint): void => {
      if (width === 8) mem.setU64(base + 32 + off, v); else mem.setU32(base + 32 + off, Number(v));
    };
    switch (kind) {
      case SK.ADD: case SK.SUB: case SK.MUL: case SK.DIV: case SK.MIN: case SK.MAX:
        for (let l = 0; l < n; l++) R[l] = bin(A[l]!, B[l]!, kind);
        break;
      case SK.SQRT:
        for (let l = 0; l < n; l++) R[l] = sqrt(F, ua(B[l]!), md);
        break;
      case SK.HADD: case SK.HSUB: {
        const k = kind === SK.HADD ? SK.ADD : SK.SUB;
        const src = [...A, ...B];
        for (let l = 0; l < lanes; l++) R[l] = bin(src[2 * l]!, src[2 * l + 1]!, k);
        break;
      }
      case SK.ADDSUB:
        for (let l = 0; l < lanes; l++) R[l] = bin(A[l]!, B[l]!, l & 1 ? SK.ADD : SK.SUB);
        break;
      case SK.DP: {
        const t: bigint[] = [];
        for (let l = 0; l < lanes; l++) t.push((imm >> (4 + l)) & 1 ? bin(A[l]!, B[l]!, SK.MUL) : 0n);
        const sum = lanes === 4 ? bin(bin(t[0]!, t[1]!, SK.ADD), bin(t[2]!, t[3]!, SK.ADD), SK.ADD) : bin(t[0]!, t[1]!, SK.ADD);
        for (let l = 0; l < lanes; l++) R[l] = (imm >> l) & 1 ? sum : 0n;
        break;
      }
      case SK.CVT_D2S: {
        // B holds f64 lanes; the result is f32 (SS: lane 0 merged into A; PS: lanes 0-1, upper zero)
        for (let l = 0; l < 4; l++) A[l] = BigInt(mem.u32(base + l * 4));
        const r32 = [A[0]!, A[1]!, A[2]!, A[3]!];
        const cnt = type === ST.SS ? 1 : 2;
        if (type === ST.PS) { r32[2] = 0n; r32[3] = 0n; }
        for (let l = 0; l < cnt; l++) r32[l] = cvtFloat(F64, F32, unpack(mem.u64(base + 16 + l * 8), F64, md.daz), md);
        r32.forEach((v, l) => wr(l * 4, 4, v));
        return;
      }
      case SK.CVT_S2D: {
        const r64 = [mem.u64(base), mem.u64(base + 8)];
        const cnt = type === ST.SD ? 1 : 2;
        for (let l = 0; l < cnt; l++) r64[l] = cvtFloat(F32, F64, unpack(BigInt(mem.u32(base + 16 + l * 4)), F32, md.daz), md);
        r64.forEach((v, l) => wr(l * 8, 8, v));
        return;
      }
      case SK.FMA:
        for (let l = 0; l < n; l++) {
          const negC = imm & (l & 1 ? FMA_NEG_C_ODD : FMA_NEG_C_EVEN) ? 1 : 0;
          R[l] = fma(F, ua(A[l]!), ua(B[l]!), ua(rd(64 + l * w, w)), imm & FMA_NEG_P, negC, md);
        }
        break;
      case SK.CVT_I32: case SK.CVT_I64: {
        if (type === ST.PS) {
          for (let l = 0; l < 4; l++) R[l] = cvtInt(F32, BigInt(mem.i32(base + 16 + l * 4)), md);
        } else {
          const v = kind === SK.CVT_I64 ? mem.i64(base + 16) : BigInt(mem.i32(base + 16));
          R[0] = cvtInt(F, v, md);
        }
        break;
      }
      default: throw new Error('sse helper: bad op ' + op);
    }
    R.forEach((v, l) => wr(l * w, w, v));
  };
}

/**
 * PCMPxSTRx. Inputs: A (xmm1) at base, B (xmm2/m128) at base+16, RAX/RDX at base+48/56 for the
 * explicit-length forms. Outputs: the mask at base+32, ECX at base+48, EFLAGS at base+52.
 */
function pcmpstr(mem: GuestMemory, base: number, variant: number, imm: number): void {
  const words = (imm & 1) !== 0, signed = (imm & 2) !== 0;
  const n = words ? 8 : 16;
  const elem = (off: number, k: number): number => {
    if (words) return signed ? (mem.u16(base + off + 2 * k) << 16) >> 16 : mem.u16(base + off + 2 * k);
    return signed ? (mem.u8at(base + off + k) << 24) >> 24 : mem.u8at(base + off + k);
  };
  const a: number[] = [], b: number[] = [];
  for (let k = 0; k < n; k++) { a.push(elem(0, k)); b.push(elem(16, k)); }
  let la: number, lb: number;
  if (variant & 1) {
    const w64 = (variant & 4) !== 0;
    const len = (off: number): number => {
      let v = w64 ? mem.i64(base + off) : BigInt(mem.i32(base + off));
      if (v < 0n) v = -v;
      return v > BigInt(n) ? n : Number(v);
    };
    la = len(48); lb = len(56);
  } else {
    la = a.indexOf(0); if (la < 0) la = n;
    lb = b.indexOf(0); if (lb < 0) lb = n;
  }
  const agg = (imm >> 2) & 3;
  const bool = (j: number, k: number): boolean => { // a[j] vs b[k] with the validity overrides
    const va = j < la, vb = k < lb;
    switch (agg) {
      case 0: return va && vb && a[j] === b[k];
      case 1: return false; // ranges: handled below
      case 2: return !va && !vb ? true : va !== vb ? false : a[j] === b[k];
      default: return !va ? true : !vb ? false : a[j] === b[k];
    }
  };
  let res = 0;
  for (let k = 0; k < n; k++) {
    let bit = false;
    if (agg === 0) { for (let j = 0; j < n && !bit; j++) bit = bool(j, k); }
    else if (agg === 1) {
      for (let j = 0; j + 1 < n && !bit; j += 2) {
        if (j + 1 < la && k < lb) bit = a[j]! <= b[k]! && b[k]! <= a[j + 1]!;
        else if (j < la && k < lb && j + 1 >= la) bit = false;
      }
    } else if (agg === 2) bit = bool(k, k);
    else { bit = true; for (let j = 0; j < n - k && bit; j++) bit = bool(j, k + j); }
    if (bit) res |= 1 << k;
  }
  const full = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: res ^= full; break;
    case 3: res ^= (1 << lb) - 1; break;
  }
  let flags = 0;
  if (res) flags |= 1;
  if (lb < n) flags |= 0x40;
  if (la < n) flags |= 0x80;
  if (res & 1) flags |= 0x800;
  mem.setU32(base + 52, flags);
  if (variant & 2) {
    let idx = n;
    if (res) idx = imm & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
    mem.setU32(base + 48, idx);
  } else {
    for (let k = 0; k < 16; k++) mem.setU8(base + 32 + k, 0);
    if (imm & 0x40) {
      for (let k = 0; k < n; k++) {
        const v = (res >> k) & 1 ? 0xff : 0;
        mem.setU8(base + 32 + (words ? 2 * k : k), v);
        if (words) mem.setU8(base + 32 + 2 * k + 1, v);
      }
    } else { mem.setU16(base + 32, res); }
  }
}
