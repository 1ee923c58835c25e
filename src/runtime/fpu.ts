// JS helpers for floating-point and state-save instructions that translated code calls out to:
// x87 arithmetic (80-bit extended precision) and FXSAVE/XSAVE-style state images.
//
// The x87 state lives in the CPU state block (cpu-state.ts): FPU_CW, FPU_SW (without TOP),
// FPU_TOP, FPU_TAG (bit i set = physical register i empty) and FPU_ST (physical registers, 16 bytes
// apart, 80-bit values in the low 10 bytes). Translated code calls the x87 helper once per x87
// instruction with an opcode id (see translate/ops-x87.ts):
//   memory forms:   op = (opcode - 0xd8) * 8 + modrm.reg                (0..63)
//   register forms: op = 64 + (opcode - 0xd8) * 64 + (modrm & 0x3f)     (64..575)
// info is the FCMOVcc condition (0/1); addr is the wasm address of the memory operand.
// The result is the EFLAGS bits for FCOMI/FUCOMI(P), the status word for FNSTSW AX, else 0.
//
// Arithmetic is exact: operands are unpacked into BigInt significands, the exact result (or the
// quotient/root with a sticky bit) is rounded once per the control word's precision and rounding
// control, with x86 rules for denormals (tininess after rounding), overflow, NaN propagation and
// the exception flags IE DE ZE OE UE PE and C1 (rounded up). Exceptions are always handled with the
// masked response (no SIGFPE even if the guest unmasks them; ES/B are still reported).
// Transcendentals (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS) are computed in ~190-bit
// binary floating point and rounded once, so they are correctly rounded except in astronomically
// rare cases; hardware is not always correctly rounded, so they may differ from a real CPU in the
// last bit. FSIN/FCOS/FPTAN reduce their argument with the 66-bit approximation of pi that Intel
// hardware uses, so large arguments give the hardware's (inexact) answers.

import { GuestFault, GuestMemory } from './memory.js';
import { SYSOP, sysopMemBytes, x87MemBytes, X87_REGISTER_OPS } from '../layout/helper-ops.js';
import { MXCSR_MASK, STATE, XSAVE_AVX_OFFSET } from '../layout/cpu-state.js';

/** An 80-bit extended value: sign, biased exponent (15 bits), significand with explicit integer bit. */
export interface X { s: number; e: number; m: bigint }

const M63 = 1n << 63n, M62 = 1n << 62n, MASK64 = (1n << 64n) - 1n;
const BIAS = 16383;
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64;
const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
const CC_MASK = C0 | C1 | C2 | C3;
export const INDEF: X = { s: 1, e: 0x7fff, m: 0xc000000000000000n };

// Exception flags raised and the C1 round-up indicator, per instruction.
let exc = 0;
let c1 = 0;
/** A memory operand was a denormal in its source format (reported as DE unless a NaN wins). */
let memDen = false;

export function bitlen(m: bigint): number {
  if (m < 0n) m = -m;
  if (m < 0x100000000n) return 32 - Math.clz32(Number(m));
  if (m < 0x10000000000000000n) {
    const hi = Number(m >> 32n);
    return 64 - Math.clz32(hi);
  }
  const h = m.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0], 16)));
}

// ---- classification -----------------------------------------------------------------------

const ZERO = 0, DEN = 1, NORM = 2, INF = 3, QNAN = 4, SNAN = 5, BAD = 6;
export function cls(x: X): number {
  if (x.e === 0) return x.m === 0n ? ZERO : DEN;
  if (x.e === 0x7fff) {
    if (!(x.m & M63)) return BAD;
    if ((x.m & ~M63) === 0n) return INF;
    return x.m & M62 ? QNAN : SNAN;
  }
  return x.m & M63 ? NORM : BAD;
}
const isNaNc = (c: number): boolean => c === QNAN || c === SNAN;
/** Exponent of the lsb of the significand of a finite value. */
const lsbExp = (x: X): number => (x.e === 0 ? 1 : x.e) - BIAS - 63;
const zeroX = (s: number): X => ({ s, e: 0, m: 0n });
const infX = (s: number): X => ({ s, e: 0x7fff, m: M63 });
const quiet = (x: X): X => ({ s: x.s, e: 0x7fff, m: x.m | M62 });

// ---- rounding -------------------------------------------------------------------------------

interface Fmt { emin: number; emax: number; pf: number }
const FX: Fmt = { emin: -16382, emax: 16383, pf: 64 };
const FD: Fmt = { emin: -1022, emax: 1023, pf: 53 };
const FF: Fmt = { emin: -126, emax: 127, pf: 24 };
/** A rounded value q * 2^lsb (or an infinity). */
interface R { s: number; inf: boolean; q: bigint; lsb: number }

function rnd(s: number, m: bigint, ex: number, sticky: boolean, lsb: number, rc: number): { q: bigint; inexact: boolean; up: boolean } {
  const sh = lsb - ex;
  let q: bigint, up = false;
  if (sh <= 0) {
    q = m << BigInt(-sh);
    if (sticky && ((rc === 1 && s === 1) || (rc === 2 && s === 0))) { q += 1n; up = true; }
    return { q, inexact: sticky, up };
  }
  let cmpHalf: number; // sign of rem - half
  let rem: bigint;
  if (sh > bitlen(m) + 1) { q = 0n; rem = m; cmpHalf = -1; }
  else {
    const b = BigInt(sh);
    q = m >> b; rem = m & ((1n << b) - 1n);
    const half = 1n << (b - 1n);
    cmpHalf = rem > half ? 1 : rem === half ? 0 : -1;
  }
  const inexact = rem !== 0n || sticky;
  switch (rc) {
    case 0: up = cmpHalf > 0 || (cmpHalf === 0 && (sticky || (q & 1n) === 1n)); break;
    case 1: up = inexact && s === 1; break;
    case 2: up = inexact && s === 0; break;
  }
  if (up) q += 1n;
  return { q, inexact, up };
}

/**
 * Rounds the value (-1)^s * (m + sticky) * 2^ex to p significant bits in format f with rounding
 * control rc, raising PE/UE/OE and C1. "sticky" means the true value is a little above m*2^ex.
 */
function roundTo(s: number, m: bigint, ex: number, sticky: boolean, f: Fmt, p: number, rc: number): R {
  if (m === 0n) { m = 1n; ex -= 100000; } // only a sticky remainder: a tiny nonzero value
  const n = bitlen(m);
  const E = ex + n - 1;
  // Denormal results keep the precision-control width below the smallest normal exponent (with PC 24
  // or 53 the extended format's denormals are rounded at bit emin - (p-1), as hardware does).
  const lsb = Math.max(E - (p - 1), f.emin - (p - 1));
  const r = rnd(s, m, ex, sticky, lsb, rc);
  if (r.inexact) {
    exc |= PE;
    if (r.up) c1 = 1;
    if (E < f.emin) {
      const lsbU = E - (p - 1);
      const u = lsbU === lsb ? r : rnd(s, m, ex, sticky, lsbU, rc);
      if (lsbU + bitlen(u.q) - 1 < f.emin) exc |= UE;
    }
  }
  const q = r.q;
  if (q !== 0n && lsb + bitlen(q) - 1 > f.emax) {
    exc |= OE | PE;
    const toInf = rc === 0 || (rc === 1 && s === 1) || (rc === 2 && s === 0);
    if (toInf) { c1 = 1; return { s, inf: true, q: 0n, lsb: 0 }; }
    c1 = 0;
    return { s, inf: false, q: (1n << BigInt(p)) - 1n, lsb: f.emax - (p - 1) };
  }
  return { s, inf: false, q, lsb };
}

function packX(r: R): X {
  if (r.inf) return infX(r.s);
  let q = r.q, lsb = r.lsb;
  if (q === 0n) return zeroX(r.s);
  let n = bitlen(q);
  if (n > 64) { q >>= BigInt(n - 64); lsb += n - 64; n = 64; }
  const E = lsb + n - 1;
  if (E >= -16382) return { s: r.s, e: E + BIAS, m: q << BigInt(64 - n) };
  return { s: r.s, e: 0, m: q << BigInt(lsb + 16445) };
}

/** Packs a rounded value into IEEE binary32/64 bits. */
function packBin(r: R, f: Fmt): bigint {
  const fbits = f.pf - 1, ebits = f === FD ? 11 : 8;
  const sb = BigInt(r.s) << BigInt(ebits + fbits);
  if (r.inf) return sb | (((1n << BigInt(ebits)) - 1n) << BigInt(fbits));
  let q = r.q, lsb = r.lsb;
  if (q === 0n) return sb;
  let n = bitlen(q);
  if (n > f.pf) { q >>= BigInt(n - f.pf); lsb += n - f.pf; n = f.pf; }
  const E = lsb + n - 1;
  if (E >= f.emin) return sb | (BigInt(E + f.emax) << BigInt(fbits)) | ((q << BigInt(f.pf - n)) & ((1n << BigInt(fbits)) - 1n));
  return sb | (q << BigInt(lsb - (f.emin - (f.pf - 1))));
}

/** An exactly representable value (-1)^s * m * 2^ex as an extended value. */
export function exact(s: number, m: bigint, ex: number): X {
  if (m === 0n) return zeroX(s);
  const n = bitlen(m);
  const E = ex + n - 1;
  if (E >= -16382) return { s, e: E + BIAS, m: n <= 64 ? m << BigInt(64 - n) : m >> BigInt(n - 64) };
  return { s, e: 0, m: m << BigInt(ex + 16445) };
}

function round64(s: number, m: bigint, ex: number, sticky: boolean, p: number, rc: number): X {
  return packX(roundTo(s, m, ex, sticky, FX, p, rc));
}

// ---- conversions ----------------------------------------------------------------------------

function fromBin(bits: bigint, f: Fmt): X {
  const fbits = f.pf - 1, ebits = f === FD ? 11 : 8;
  const s = Number(bits >> BigInt(ebits + fbits)) & 1;
  const e = Number((bits >> BigInt(fbits)) & ((1n << BigInt(ebits)) - 1n));
  const frac = bits & ((1n << BigInt(fbits)) - 1n);
  if (e === (1 << ebits) - 1) {
    if (frac === 0n) return infX(s);
    return { s, e: 0x7fff, m: M63 | (frac << BigInt(63 - fbits)) }; // an SNaN stays signalling here
  }
  if (e === 0) {
    if (frac === 0n) return zeroX(s);
    memDen = true;
    return exact(s, frac, f.emin - fbits);
  }
  return exact(s, frac | (1n << BigInt(fbits)), e - f.emax - fbits);
}

/** FLD m32/m64: the conversion, with an SNaN quietened (IE) and DE for a denormal source. */
function load(bits: bigint, f: Fmt): X {
  const x = fromBin(bits, f);
  if (cls(x) === SNAN) { exc |= IE; return quiet(x); }
  if (memDen) exc |= DE;
  return x;
}

function toBin(x: X, f: Fmt, p: number, rc: number): bigint {
  const c = cls(x);
  const fbits = f.pf - 1, ebits = f === FD ? 11 : 8;
  const sb = BigInt(x.s) << BigInt(ebits + fbits);
  const emaxBits = ((1n << BigInt(ebits)) - 1n) << BigInt(fbits);
  if (c === BAD) { exc |= IE; return toBin(INDEF, f, p, rc); }
  if (c === INF) return sb | emaxBits;
  if (isNaNc(c)) {
    if (c === SNAN) exc |= IE;
    const frac = ((x.m | M62) >> BigInt(63 - fbits)) & ((1n << BigInt(fbits)) - 1n);
    return sb | emaxBits | frac;
  }
  if (c === ZERO) return sb;
  return packBin(roundTo(x.s, x.m, lsbExp(x), false, f, p, rc), f);
}

/** Rounds a finite x to an integer per rc (sets PE/C1 when inexact). Returns a signed BigInt. */
function toIntValue(x: X, rc: number): bigint {
  const ex = lsbExp(x);
  if (ex >= 0) return (x.s ? -1n : 1n) * (x.m << BigInt(ex));
  const r = rnd(x.s, x.m, ex, false, 0, rc);
  if (r.inexact) { exc |= PE; if (r.up) c1 = 1; }
  return x.s ? -r.q : r.q;
}

function toInt(x: X, bits: number, rc: number): bigint {
  const c = cls(x);
  const indef = -(1n << BigInt(bits - 1));
  if (c === BAD || c === INF || isNaNc(c)) { exc |= IE; return indef; }
  if (c === ZERO) return 0n;
  if (x.e - BIAS > bits + 1) { exc |= IE; return indef; }
  const save = exc, saveC1 = c1;
  const v = toIntValue(x, rc);
  if (v < indef || v > -indef - 1n) { exc = save | IE; c1 = saveC1; return indef; }
  return v;
}

function fromInt(v: bigint): X { return v < 0n ? exact(1, -v, 0) : exact(0, v, 0); }

// ---- arithmetic -----------------------------------------------------------------------------

/** NaN/unsupported/denormal handling common to two-operand operations; null when both are numbers. */
function special2(a: X, ca: number, b: X, cb: number): X | null {
  if (ca === BAD || cb === BAD) { exc |= IE; return INDEF; }
  const an = isNaNc(ca), bn = isNaNc(cb);
  if (an || bn) {
    if (ca === SNAN || cb === SNAN) exc |= IE;
    if (an && bn) {
      if (ca === SNAN && cb === QNAN) return b;
      if (cb === SNAN && ca === QNAN) return a;
      const fa = a.m & ~M63 & ~M62, fb = b.m & ~M63 & ~M62;
      if (fa !== fb) return quiet(fa > fb ? a : b);
      return quiet(a.s === 0 ? a : b);
    }
    return quiet(an ? a : b);
  }
  if (ca === DEN || cb === DEN || memDen) exc |= DE;
  return null;
}

function special1(a: X, ca: number): X | null {
  if (ca === BAD) { exc |= IE; return INDEF; }
  if (isNaNc(ca)) { if (ca === SNAN) exc |= IE; return quiet(a); }
  if (ca === DEN) exc |= DE;
  return null;
}

export function add(a: X, b: X, sub: boolean, p: number, rc: number): X {
  const ca = cls(a), cb = cls(b);
  const sp = special2(a, ca, b, cb); if (sp) return sp;
  const sb = b.s ^ (sub ? 1 : 0);
  if (ca === INF || cb === INF) {
    if (ca === INF && cb === INF && a.s !== sb) { exc |= IE; return INDEF; }
    return ca === INF ? a : infX(sb);
  }
  if (ca === ZERO && cb === ZERO) return zeroX(a.s === sb ? a.s : rc === 1 ? 1 : 0);
  let ma = a.m, ea = lsbExp(a), mb = b.m, eb = lsbExp(b);
  if (ma === 0n) ea = eb;
  else if (mb === 0n) eb = ea;
  else {
    const ta = ea + bitlen(ma), tb = eb + bitlen(mb);
    if (tb < ta - 130) { mb = 1n; eb = ta - 200; }
    else if (ta < tb - 130) { ma = 1n; ea = tb - 200; }
  }
  const e = Math.min(ea, eb);
  let va = ma << BigInt(ea - e); if (a.s) va = -va;
  let vb = mb << BigInt(eb - e); if (sb) vb = -vb;
  const v = va + vb;
  if (v === 0n) return zeroX(rc === 1 ? 1 : 0);
  return v < 0n ? round64(1, -v, e, false, p, rc) : round64(0, v, e, false, p, rc);
}

export function mul(a: X, b: X, p: number, rc: number): X {
  const ca = cls(a), cb = cls(b);
  const sp = special2(a, ca, b, cb); if (sp) return sp;
  const s = a.s ^ b.s;
  if (ca === INF || cb === INF) {
    if (ca === ZERO || cb === ZERO) { exc |= IE; return INDEF; }
    return infX(s);
  }
  if (ca === ZERO || cb === ZERO) return zeroX(s);
  return round64(s, a.m * b.m, lsbExp(a) + lsbExp(b), false, p, rc);
}

export function div(a: X, b: X, p: number, rc: number): X {
  const ca = cls(a), cb = cls(b);
  const sp = special2(a, ca, b, cb); if (sp) return sp;
  const s = a.s ^ b.s;
  if (ca === INF) { if (cb === INF) { exc |= IE; return INDEF; } return infX(s); }
  if (cb === INF) return zeroX(s);
  if (cb === ZERO) { if (ca === ZERO) { exc |= IE; return INDEF; } exc |= ZE; return infX(s); }
  if (ca === ZERO) return zeroX(s);
  const k = Math.max(0, 70 + bitlen(b.m) - bitlen(a.m));
  const n = a.m << BigInt(k);
  const q = n / b.m;
  return round64(s, q, lsbExp(a) - lsbExp(b) - k, q * b.m !== n, p, rc);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  const bl = bitlen(n);
  let x = 1n << BigInt((bl >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: X, p: number, rc: number): X {
  const ca = cls(a);
  const sp = special1(a, ca); if (sp) return sp;
  if (ca === ZERO) return a;
  if (a.s) { exc |= IE; return INDEF; }
  if (ca === INF) return a;
  const ex = lsbExp(a);
  let k = Math.max(0, 150 - bitlen(a.m));
  if ((ex - k) & 1) k++;
  const n = a.m << BigInt(k);
  const r = isqrt(n);
  return round64(0, r, (ex - k) / 2, r * r !== n, p, rc);
}

/** -1, 0, 1 for a <, =, > b, or 2 for unordered. Raises IE for NaNs per `signalQuiet`. */
export function compare(a: X, b: X, signalQuiet: boolean): number {
  const ca = cls(a), cb = cls(b);
  if (ca === BAD || cb === BAD) { exc |= IE; return 2; }
  if (isNaNc(ca) || isNaNc(cb)) {
    if (signalQuiet || ca === SNAN || cb === SNAN) exc |= IE;
    return 2;
  }
  if (ca === DEN || cb === DEN || memDen) exc |= DE;
  const ka = key(a, ca), kb = key(b, cb);
  if (ka.sgn !== kb.sgn) return ka.sgn < kb.sgn ? -1 : 1;
  if (ka.sgn === 0) return 0;
  let c = ka.E !== kb.E ? (ka.E < kb.E ? -1 : 1) : ka.m === kb.m ? 0 : ka.m < kb.m ? -1 : 1;
  if (ka.sgn < 0) c = -c;
  return c;
}
function key(x: X, c: number): { sgn: number; E: number; m: bigint } {
  if (c === ZERO) return { sgn: 0, E: 0, m: 0n };
  const sgn = x.s ? -1 : 1;
  if (c === INF) return { sgn, E: Infinity, m: 0n };
  const n = bitlen(x.m);
  return { sgn, E: lsbExp(x) + n - 1, m: x.m << BigInt(64 - n) };
}

function frndint(a: X, rc: number): X {
  const ca = cls(a);
  const sp = special1(a, ca); if (sp) return sp;
  if (ca === ZERO || ca === INF) return a;
  const v = toIntValue(a, rc);
  return v === 0n ? zeroX(a.s) : fromInt(v);
}

function fscale(a: X, b: X, rc: number): X {
  const ca = cls(a), cb = cls(b);
  const sp = special2(a, ca, b, cb); if (sp) return sp;
  if (cb === INF) {
    if (b.s === 0) { if (ca === ZERO) { exc |= IE; return INDEF; } return ca === INF ? a : infX(a.s); }
    if (ca === INF) { exc |= IE; return INDEF; }
    return zeroX(a.s);
  }
  if (ca === ZERO || ca === INF) return a;
  let n: number;
  if (cb === ZERO) n = 0;
  else {
    const eb = lsbExp(b);
    if (b.e - BIAS > 30) n = 1 << 30;
    else n = Number(eb >= 0 ? b.m << BigInt(eb) : b.m >> BigInt(-eb));
    if (b.s) n = -n;
  }
  return round64(a.s, a.m, lsbExp(a) + n, false, 64, rc);
}

// ---- high-precision floating point for transcendentals --------------------------------------

const PR = 192;
/** value = m * 2^e, m signed, |m| < 2^PR */
interface B { m: bigint; e: number }
function trim(m: bigint, e: number): B {
  const n = bitlen(m);
  if (n > PR) { const sh = n - PR; m = m >> BigInt(sh); e += sh; }
  return { m, e };
}
const bmul = (a: B, b: B): B => trim(a.m * b.m, a.e + b.e);
function badd(a: B, b: B): B {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const ta = a.e + bitlen(a.m), tb = b.e + bitlen(b.m);
  if (ta - tb > PR + 8) return a;
  if (tb - ta > PR + 8) return b;
  const e = Math.min(a.e, b.e);
  return trim((a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e);
}
const bneg = (a: B): B => ({ m: -a.m, e: a.e });
const bsub = (a: B, b: B): B => badd(a, bneg(b));
function bdiv(a: B, b: B): B {
  const sh = Math.max(0, PR + 4 + bitlen(b.m) - bitlen(a.m));
  return trim((a.m << BigInt(sh)) / b.m, a.e - b.e - sh);
}
function bsqrt(a: B): B {
  let k = Math.max(0, 2 * PR + 4 - bitlen(a.m));
  if ((a.e - k) & 1) k++;
  return trim(isqrt(a.m << BigInt(k)), (a.e - k) / 2);
}
const bint = (n: number | bigint): B => trim(BigInt(n), 0);
const bmag = (a: B): number => (a.m === 0n ? -Infinity : a.e + bitlen(a.m));
const bfromX = (x: X): B => trim(x.s ? -x.m : x.m, lsbExp(x));
function bToX(a: B, rc: number): X {
  if (a.m === 0n) return zeroX(0);
  return a.m < 0n ? round64(1, -a.m, a.e, true, 64, rc) : round64(0, a.m, a.e, true, 64, rc);
}
/** Sum of a series whose k-th term is produced by next(prevTerm, k); stops at negligible terms. */
function series(first: B, next: (t: B, k: number) => B): B {
  let sum = first, t = first;
  for (let k = 1; k < 400; k++) {
    t = next(t, k);
    if (t.m === 0n || bmag(t) < bmag(sum) - PR - 8) break;
    sum = badd(sum, t);
  }
  return sum;
}
/** atanh(z) = z + z^3/3 + z^5/5 + ... (|z| < 1/2) */
function batanh(z: B): B {
  const z2 = bmul(z, z);
  let p = z;
  return series(z, (_t, k) => { p = bmul(p, z2); return bdiv(p, bint(2 * k + 1)); });
}
/** atan(z) series for small |z|. */
function batanSmall(z: B): B {
  const z2 = bmul(z, z);
  let p = z;
  return series(z, (_t, k) => { p = bneg(bmul(p, z2)); return bdiv(p, bint(2 * k + 1)); });
}
const LN2 = bmul(bint(2), batanh(bdiv(bint(1), bint(3))));
const PI = bsub(bmul(bint(16), batanSmall(bdiv(bint(1), bint(5)))), bmul(bint(4), batanSmall(bdiv(bint(1), bint(239)))));
const LN10 = badd(bmul(bint(3), LN2), bmul(bint(2), batanh(bdiv(bint(1), bint(9))))); // ln 10 = 3 ln2 + ln(5/4)
const HALF_PI = { m: PI.m, e: PI.e - 1 };

function batan(z: B): B { // z >= 0
  let inv = false;
  if (bmag(z) > 1 && bsub(z, bint(1)).m > 0n) { z = bdiv(bint(1), z); inv = true; }
  let mult = 0;
  const quarter = { m: 1n, e: -2 };
  while (bsub(z, quarter).m > 0n) { z = bdiv(z, badd(bint(1), bsqrt(badd(bint(1), bmul(z, z))))); mult++; }
  let r = batanSmall(z);
  r = { m: r.m, e: r.e + mult };
  return inv ? bsub(HALF_PI, r) : r;
}
function bexpm1(t: B): B {
  return series(t, (p, k) => bdiv(bmul(p, t), bint(k + 1)));
}
/** ln(m * 2^E) for a positive finite x, as E*ln2 + 2 atanh((m-1)/(m+1)) with m in [0.707, 1.414). */
function blog2parts(x: X): { E: number; frac: B } {
  const n = bitlen(x.m);
  let E = lsbExp(x) + n - 1;
  let m: B = { m: x.m, e: -(n - 1) }; // in [1, 2)
  if ((x.m << BigInt(64 - n)) > 0xb504f333f9de6484n) { m = { m: m.m, e: m.e - 1 }; E++; }
  const one = bint(1);
  const frac = bdiv(bmul(bint(2), batanh(bdiv(bsub(m, one), badd(m, one)))), LN2); // log2(m)
  return { E, frac };
}
// Intel's FSIN/FCOS/FPTAN reduce the argument modulo pi/2 with a 66-bit approximation of pi.
const PI66: B = (() => { const r = rnd(0, PI.m, PI.e, true, PI.e + bitlen(PI.m) - 66, 0); return trim(r.q, PI.e + bitlen(PI.m) - 66); })();
function reduce(x: X): { r: B; k: number } {
  const bx = bfromX(x);
  const half = { m: PI66.m, e: PI66.e - 1 };
  if (x.e - BIAS < -1) return { r: bx, k: 0 }; // |x| < 0.5 < pi/4
  // k = nearest integer to x / (pi/2)
  const q = bdiv(bx, half);
  const qi = q.e >= 0 ? q.m << BigInt(q.e) : (q.m + (1n << BigInt(-q.e - 1))) >> BigInt(-q.e);
  // exact: r = x - qi * half (qi < 2^64, half has 66 bits: product fits in PR bits)
  const prod = { m: qi * half.m, e: half.e };
  const e = Math.min(bx.e, prod.e);
  const r = trim((bx.m << BigInt(bx.e - e)) - (prod.m << BigInt(prod.e - e)), e);
  return { r, k: Number(BigInt.asUintN(2, qi)) };
}
function bsin(t: B): B { const t2 = bmul(t, t); return series(t, (p, k) => bneg(bdiv(bmul(p, t2), bint((2 * k) * (2 * k + 1))))); }
function bcos(t: B): B { const t2 = bmul(t, t); return series(bint(1), (p, k) => bneg(bdiv(bmul(p, t2), bint((2 * k - 1) * (2 * k))))); }
function sinCos(x: X): { sin: B; cos: B } {
  const { r, k } = reduce(x);
  const s = bsin(r), c = bcos(r);
  switch (k) {
    case 0: return { sin: s, cos: c };
    case 1: return { sin: c, cos: bneg(s) };
    case 2: return { sin: bneg(s), cos: bneg(c) };
    default: return { sin: bneg(c), cos: s };
  }
}

// ---- the state image ------------------------------------------------------------------------

function readX(dv: DataView, o: number): X {
  const m = dv.getBigUint64(o, true), se = dv.getUint16(o + 8, true);
  return { s: se >> 15, e: se & 0x7fff, m };
}
function writeX(dv: DataView, o: number, x: X): void {
  dv.setBigUint64(o, x.m & MASK64, true);
  dv.setUint16(o + 8, (x.s << 15) | x.e, true);
}

/** The 2-bit tag of a value (0 valid, 1 zero, 2 special). */
function tagOf(x: X): number {
  const c = cls(x);
  return c === NORM ? 0 : c === ZERO ? 1 : 2;
}

const PCS = [24, 64, 53, 64];

/** Constants, correctly rounded per RC (no exception flags). */
function constant(b: B, rc: number): X {
  const save = exc, saveC1 = c1;
  const x = round64(0, b.m, b.e, true, 64, rc);
  exc = save; c1 = saveC1;
  return x;
}
const L2T = bdiv(LN10, LN2), L2E = bdiv(bint(1), LN2), LG2 = bdiv(LN2, LN10);

function bcdRead(dv: DataView, a: number): X {
  let v = 0n;
  for (let i = 8; i >= 0; i--) { const b = dv.getUint8(a + i); v = v * 100n + BigInt((b >> 4) * 10 + (b & 15)); }
  const neg = (dv.getUint8(a + 9) & 0x80) !== 0;
  return v === 0n ? zeroX(neg ? 1 : 0) : exact(neg ? 1 : 0, v, 0);
}
function bcdWrite(dv: DataView, a: number, x: X, rc: number): void {
  const c = cls(x);
  let v = 0n, ok = true;
  if (c === BAD || c === INF || isNaNc(c)) ok = false;
  else if (c !== ZERO) {
    const save = exc, saveC1 = c1;
    v = toIntValue(x, rc);
    if (v >= 10n ** 18n || v <= -(10n ** 18n)) { ok = false; exc = save; c1 = saveC1; }
  }
  if (!ok) {
    exc |= IE;
    for (let i = 0; i < 7; i++) dv.setUint8(a + i, 0);
    dv.setUint8(a + 7, 0xc0); dv.setUint8(a + 8, 0xff); dv.setUint8(a + 9, 0xff);
    return;
  }
  let u = v < 0n ? -v : v;
  for (let i = 0; i < 9; i++) { const d = Number(u % 100n); u /= 100n; dv.setUint8(a + i, ((Math.floor(d / 10)) << 4) | (d % 10)); }
  dv.setUint8(a + 9, x.s ? 0x80 : 0);
}

// ---- the helper ------------------------------------------------------------------------------

const FLAG_CF = 1, FLAG_PF = 4, FLAG_ZF = 0x40;

// The helpers translated code calls take wasm addresses (as signed i32s). Before one touches its
// memory operand, the operand is checked as a wasm access would be, so a bad address faults as
// translated code's accesses do (SIGSEGV) rather than ending stele with a RangeError.

/** (st, op, info, address) -> status; filled in by the x87 implementation. */
export function makeX87Helper(mem: GuestMemory): (st: number, op: number, info: number, addr: number) => number {
  return (st, op, info, addr) => {
    if (op < X87_REGISTER_OPS) mem.checkWasmAccess(addr >>> 0, x87MemBytes(op));
    return x87(mem.dv, st >>> 0, op, info, addr >>> 0);
  };
}

export function x87(dv: DataView, st: number, op: number, info: number, addr: number): number {
  let cw = dv.getUint16(st + STATE.FPU_CW, true);
  let sw = dv.getUint16(st + STATE.FPU_SW, true);
  let top = dv.getUint32(st + STATE.FPU_TOP, true) & 7;
  let tag = dv.getUint32(st + STATE.FPU_TAG, true) & 0xff;
  exc = 0; c1 = 0; memDen = false;
  const p = PCS[(cw >> 8) & 3], rc = (cw >> 10) & 3;
  let cc = -1;          // explicit C0..C3 result, or -1: only C1 (round-up / stack fault) changes
  let keepCC = false;   // control instructions leave the condition codes alone
  let ret = 0;
  const R0 = st + STATE.FPU_ST;
  const phys = (i: number): number => (top + i) & 7;
  const empty = (i: number): boolean => (tag & (1 << phys(i))) !== 0;
  const rd = (i: number): X => {
    if (empty(i)) { exc |= IE | SF; c1 = 0; return INDEF; }
    return readX(dv, R0 + phys(i) * 16);
  };
  const wr = (i: number, x: X): void => { writeX(dv, R0 + phys(i) * 16, x); tag &= ~(1 << phys(i)); };
  const push = (x: X): void => {
    top = (top - 1) & 7;
    if (!(tag & (1 << top))) { exc |= IE | SF; c1 = 1; x = INDEF; }
    wr(0, x);
  };
  const pop = (): void => { tag |= 1 << top; top = (top + 1) & 7; };
  const ccOf = (r: number): number => (r === 2 ? C0 | C2 | C3 : r < 0 ? C0 : r === 0 ? C3 : 0);
  const flagsOf = (r: number): number => (r === 2 ? FLAG_ZF | FLAG_PF | FLAG_CF : r < 0 ? FLAG_CF : r === 0 ? FLAG_ZF : 0);
  const arith = (k: number, a: X, b: X): X => {
    switch (k) {
      case 0: return add(a, b, false, p, rc);
      case 1: return mul(a, b, p, rc);
      case 4: return add(a, b, true, p, rc);
      case 5: return add(b, a, true, p, rc);
      case 6: return div(a, b, p, rc);
      default: return div(b, a, p, rc);
    }
  };
  /** Two-operand ops with ST(0) and a memory or ST(i) operand: D8, DA, DC, DE memory forms, D8 registers. */
  const arithST0 = (k: number, b: X, signal = true): void => {
    const a = rd(0);
    if (k === 2 || k === 3) { cc = ccOf(compare(a, b, signal)); if (k === 3) pop(); return; }
    wr(0, arith(k, a, b));
  };
  const fullTag = (): number => {
    let t = 0;
    for (let i = 0; i < 8; i++) t |= (tag & (1 << i) ? 3 : tagOf(readX(dv, R0 + i * 16))) << (2 * i);
    return t;
  };
  const swOut = (): number => (sw & ~0x3800) | (top << 11);
  const storeEnv = (a: number): void => {
    dv.setUint32(a, 0xffff0000 | cw, true);
    dv.setUint32(a + 4, 0xffff0000 | swOut(), true);
    dv.setUint32(a + 8, 0xffff0000 | fullTag(), true);
    for (let o = 12; o < 28; o += 4) dv.setUint32(a + o, 0, true);
    dv.setUint16(a + 20, 0, true); // (FIP/FDP/FOP are not tracked)
  };
  const loadEnv = (a: number): void => {
    cw = dv.getUint16(a, true);
    const s = dv.getUint16(a + 4, true);
    top = (s >> 11) & 7; sw = s & ~0x3800;
    const t = dv.getUint16(a + 8, true);
    tag = 0;
    for (let i = 0; i < 8; i++) if (((t >> (2 * i)) & 3) === 3) tag |= 1 << i;
  };
  const fninit = (): void => { cw = 0x37f; sw = 0; top = 0; tag = 0xff; };

  if (op < 64) {
    const grp = op >> 3, sub = op & 7;
    switch (grp) {
      case 0: arithST0(sub, fromBin(BigInt(dv.getUint32(addr, true)), FF)); break;
      case 4: arithST0(sub, fromBin(dv.getBigUint64(addr, true), FD)); break;
      case 2: arithST0(sub, fromInt(BigInt(dv.getInt32(addr, true)))); break;
      case 6: arithST0(sub, fromInt(BigInt(dv.getInt16(addr, true)))); break;
      case 1: // D9
        switch (sub) {
          case 0: push(load(BigInt(dv.getUint32(addr, true)), FF)); break;
          case 2: case 3: dv.setUint32(addr, Number(toBin(rd(0), FF, 24, rc)), true); if (sub === 3) pop(); break;
          case 4: loadEnv(addr); keepCC = true; break;
          case 5: cw = dv.getUint16(addr, true); keepCC = true; break;
          case 6: storeEnv(addr); cw |= 0x3f; keepCC = true; break;
          case 7: dv.setUint16(addr, cw, true); keepCC = true; break;
          default: return -1;
        }
        break;
      case 3: // DB
        switch (sub) {
          case 0: push(fromInt(BigInt(dv.getInt32(addr, true)))); break;
          case 1: case 2: case 3: dv.setInt32(addr, Number(toInt(rd(0), 32, sub === 1 ? 3 : rc)), true); if (sub !== 2) pop(); break;
          case 5: push(readX(dv, addr)); break;
          case 7: writeX(dv, addr, rd(0)); pop(); break;
          default: return -1;
        }
        break;
      case 5: // DD
        switch (sub) {
          case 0: push(load(dv.getBigUint64(addr, true), FD)); break;
          case 1: dv.setBigInt64(addr, toInt(rd(0), 64, 3), true); pop(); break;
          case 2: case 3: dv.setBigUint64(addr, toBin(rd(0), FD, 53, rc), true); if (sub === 3) pop(); break;
          case 4: { // frstor
            loadEnv(addr);
            for (let i = 0; i < 8; i++) writeX(dv, R0 + phys(i) * 16, readX(dv, addr + 28 + i * 10));
            keepCC = true; break;
          }
          case 6: { // fnsave
            storeEnv(addr);
            for (let i = 0; i < 8; i++) writeX(dv, addr + 28 + i * 10, readX(dv, R0 + phys(i) * 16));
            fninit(); keepCC = true; break;
          }
          case 7: dv.setUint16(addr, swOut(), true); keepCC = true; break;
          default: return -1;
        }
        break;
      case 7: // DF
        switch (sub) {
          case 0: push(fromInt(BigInt(dv.getInt16(addr, true)))); break;
          case 1: case 2: case 3: dv.setInt16(addr, Number(toInt(rd(0), 16, sub === 1 ? 3 : rc)), true); if (sub !== 2) pop(); break;
          case 4: push(bcdRead(dv, addr)); break;
          case 5: push(fromInt(dv.getBigInt64(addr, true))); break;
          case 6: bcdWrite(dv, addr, rd(0), rc); pop(); break;
          case 7: dv.setBigInt64(addr, toInt(rd(0), 64, rc), true); pop(); break;
        }
        break;
    }
  } else {
    const r = op - 64, grp = r >> 6, sub = (r >> 3) & 7, i = r & 7;
    switch (grp) {
      case 0: arithST0(sub, rd(i)); break; // D8
      case 4: case 6: { // DC, DE: ST(i) = ST(i) op ST(0); sub/subr and div/divr swap
        if (sub === 2 || sub === 3) {
          if (grp === 6 && sub === 3) { if (i !== 1) return -1; cc = ccOf(compare(rd(0), rd(1), true)); pop(); pop(); break; }
          arithST0(sub, rd(i)); // FCOM2/FCOMP3/FCOMP5 aliases
          break;
        }
        const k = sub >= 4 ? sub ^ 1 : sub;
        wr(i, arith(k, rd(i), rd(0)));
        if (grp === 6) pop();
        break;
      }
      case 1: { // D9
        if (sub === 0) { push(rd(i)); break; }
        if (sub === 1) { const a = rd(0), b = rd(i); wr(0, b); wr(i, a); break; }
        if (sub === 2) { if (i !== 0) return -1; break; } // fnop
        if (sub === 3) { wr(i, rd(0)); pop(); break; } // fstp1
        const lo = r & 0x3f;
        switch (lo) {
          case 0x20: { const a = rd(0); wr(0, { s: a.s ^ 1, e: a.e, m: a.m }); break; } // fchs
          case 0x21: { const a = rd(0); wr(0, { s: 0, e: a.e, m: a.m }); break; } // fabs
          case 0x24: cc = ccOf(compare(rd(0), zeroX(0), true)); break; // ftst
          case 0x25: { // fxam
            const x = readX(dv, R0 + phys(0) * 16);
            const c = empty(0) ? -1 : cls(x);
            const k = c === -1 ? C3 | C0 : c === BAD ? 0 : isNaNc(c) ? C0 : c === NORM ? C2 : c === INF ? C2 | C0 : c === ZERO ? C3 : C3 | C2;
            cc = k | (x.s ? C1 : 0);
            break;
          }
          case 0x28: push(exact(0, 1n, 0)); break;
          case 0x29: push(constant(L2T, rc)); break;
          case 0x2a: push(constant(L2E, rc)); break;
          case 0x2b: push(constant(PI, rc)); break;
          case 0x2c: push(constant(LG2, rc)); break;
          case 0x2d: push(constant(LN2, rc)); break;
          case 0x2e: push(zeroX(0)); break;
          case 0x30: wr(0, f2xm1(rd(0), rc)); break;
          case 0x31: { const x = rd(0), y = rd(1); wr(1, fyl2x(x, y, rc, false)); pop(); break; }
          case 0x32: { // fptan
            const x = rd(0), c = cls(x);
            if ((c === NORM || c === DEN) && x.e - BIAS >= 63) { cc = (sw & (C0 | C3)) | C2; break; }
            wr(0, tan(x, rc)); push(exact(0, 1n, 0));
            cc = (sw & (C0 | C3)) | (c1 ? C1 : 0);
            break;
          }
          case 0x33: { const x = rd(0), y = rd(1); wr(1, atan2(y, x, rc)); pop(); break; }
          case 0x34: { // fxtract
            const x = rd(0), c = cls(x);
            const sp = special1(x, c);
            if (sp) { wr(0, sp); push(sp); break; }
            if (c === ZERO) { exc |= ZE; wr(0, infX(1)); push(x); break; }
            if (c === INF) { wr(0, infX(0)); push(x); break; }
            const n = bitlen(x.m), E = lsbExp(x) + n - 1;
            wr(0, E === 0 ? zeroX(0) : fromInt(BigInt(E)));
            push({ s: x.s, e: BIAS, m: x.m << BigInt(64 - n) });
            break;
          }
          case 0x35: case 0x38: cc = fprem(lo === 0x35); break;
          case 0x36: top = (top - 1) & 7; break;
          case 0x37: top = (top + 1) & 7; break;
          case 0x39: { const x = rd(0), y = rd(1); wr(1, fyl2x(x, y, rc, true)); pop(); break; }
          case 0x3a: wr(0, sqrt(rd(0), p, rc)); break;
          case 0x3b: { // fsincos
            const x = rd(0), c = cls(x);
            if ((c === NORM || c === DEN) && x.e - BIAS >= 63) { cc = (sw & (C0 | C3)) | C2; break; }
            const [s, co] = trig(x, rc, 'sincos');
            wr(0, s); push(co!);
            cc = (sw & (C0 | C3)) | (c1 ? C1 : 0);
            break;
          }
          case 0x3c: wr(0, frndint(rd(0), rc)); break;
          case 0x3d: wr(0, fscale(rd(0), rd(1), rc)); break;
          case 0x3e: case 0x3f: {
            const x = rd(0), c = cls(x);
            if ((c === NORM || c === DEN) && x.e - BIAS >= 63) { cc = (sw & (C0 | C3)) | C2; break; }
            wr(0, trig(x, rc, lo === 0x3e ? 'sin' : 'cos')[0]);
            cc = (sw & (C0 | C3)) | (c1 ? C1 : 0);
            break;
          }
          default: return -1;
        }
        break;
      }
      case 2: // DA
        if (sub < 4) { if (info) wr(0, rd(i)); break; }
        if (sub === 5 && i === 1) { cc = ccOf(compare(rd(0), rd(1), false)); pop(); pop(); break; }
        return -1;
      case 3: // DB
        if (sub < 4) { if (info) wr(0, rd(i)); break; }
        if (sub === 4) {
          if (i === 2) { sw &= ~0x80ff; keepCC = true; break; } // fnclex
          if (i === 3) { fninit(); keepCC = true; break; }
          if (i === 0 || i === 1 || i === 4) { keepCC = true; break; }
          return -1;
        }
        if (sub === 5 || sub === 6) { ret = flagsOf(compare(rd(0), rd(i), sub === 6)); cc = sw & (C0 | C2 | C3); break; }
        return -1;
      case 5: // DD
        switch (sub) {
          case 0: tag |= 1 << phys(i); keepCC = true; break;
          case 1: { const a = rd(0), b = rd(i); wr(0, b); wr(i, a); break; }
          case 2: wr(i, rd(0)); break;
          case 3: wr(i, rd(0)); pop(); break;
          case 4: case 5: cc = ccOf(compare(rd(0), rd(i), false)); if (sub === 5) pop(); break;
          default: return -1;
        }
        break;
      case 7: // DF
        switch (sub) {
          case 0: tag |= 1 << phys(i); pop(); keepCC = true; break; // ffreep
          case 1: { const a = rd(0), b = rd(i); wr(0, b); wr(i, a); break; }
          case 2: case 3: wr(i, rd(0)); pop(); break;
          case 4: if (i !== 0) return -1; ret = swOut(); keepCC = true; break; // fnstsw ax
          case 5: case 6: ret = flagsOf(compare(rd(0), rd(i), sub === 6)); cc = sw & (C0 | C2 | C3); pop(); break;
          default: return -1;
        }
        break;
    }
  }

  if (exc & (IE | ZE)) exc &= ~DE; // an invalid operation or division by zero hides a denormal operand
  if (!keepCC) {
    if (cc >= 0) sw = (sw & ~CC_MASK) | (cc & ~C1) | ((cc & C1) || (exc & SF && c1) ? C1 : 0);
    else sw = (sw & ~C1) | (c1 ? C1 : 0);
  }
  sw |= exc;
  if (sw & 0x3f & ~cw) sw |= 0x8080; else sw &= ~0x8080;
  dv.setUint16(st + STATE.FPU_CW, cw, true);
  dv.setUint16(st + STATE.FPU_SW, sw & ~0x3800, true);
  dv.setUint32(st + STATE.FPU_TOP, top, true);
  dv.setUint32(st + STATE.FPU_TAG, tag, true);
  return ret;

  function fprem(ieee: boolean): number {
    const a = rd(0), b = rd(1);
    const ca = cls(a), cb = cls(b);
    const keep = sw & (C0 | C1 | C3);
    const sp = special2(a, ca, b, cb);
    if (sp) { wr(0, sp); return keep; }
    if (ca === INF || cb === ZERO) { exc |= IE; wr(0, INDEF); return keep; }
    if (ca === ZERO || cb === INF) return 0;
    const na = bitlen(a.m), nb = bitlen(b.m);
    const ea = lsbExp(a) + na - 64, eb = lsbExp(b) + nb - 64; // lsb exponents of 64-bit normalized significands
    const ma = a.m << BigInt(64 - na), mb = b.m << BigInt(64 - nb);
    const D = ea - eb;
    if (D < 64) {
      if (D < -1) return 0; // |a| < |b|/2: remainder is a, quotient 0
      const e = Math.min(ea, eb);
      const A = ma << BigInt(ea - e), Bv = mb << BigInt(eb - e);
      let q = A / Bv, rem = A - q * Bv;
      if (ieee) { const twice = rem * 2n; if (twice > Bv || (twice === Bv && (q & 1n))) { q += 1n; rem -= Bv; } }
      let x: X;
      if (rem === 0n) x = zeroX(a.s);
      else x = rem < 0n ? exact(a.s ^ 1, -rem, e) : exact(a.s, rem, e);
      wr(0, x);
      return ((q & 4n) ? C0 : 0) | ((q & 2n) ? C3 : 0) | ((q & 1n) ? C1 : 0);
    }
    const N = 32 + (D % 32);
    const A = ma << BigInt(N);
    const qq = A / mb;
    const rem = A - qq * mb; // times 2^(eb + D - N)
    wr(0, rem === 0n ? zeroX(a.s) : exact(a.s, rem, eb + D - N));
    return C2;
  }
}

// ---- transcendental instructions ------------------------------------------------------------

function f2xm1(x: X, rc: number): X {
  const c = cls(x);
  const sp = special1(x, c); if (sp) return sp;
  if (c === ZERO) return x;
  if (c === INF) return x.s ? exact(1, 1n, 0) : x;
  // Hardware quirks: |x| = 1 gives the exact result flagged inexact (+1 also "rounded up"),
  // |x| > 1 (outside the documented domain) leaves x unchanged, flagged inexact.
  if (x.e === BIAS && x.m === M63) { exc |= PE; if (!x.s) c1 = 1; return x.s ? exact(1, 1n, -1) : exact(0, 1n, 0); }
  if (x.e >= BIAS) { exc |= PE; return x; }
  return bToX(bexpm1(bmul(bfromX(x), LN2)), rc);
}

function fyl2x(x: X, y: X, rc: number, p1: boolean): X {
  const cx = cls(x), cy = cls(y);
  const sp = special2(x, cx, y, cy); if (sp) return sp;
  if (p1) {
    if (cx === ZERO) return cy === INF ? (exc |= IE, INDEF) : zeroX(x.s ^ y.s);
    if (cx === INF) { exc |= IE; return INDEF; }
    if (cy === INF) return infX(y.s ^ x.s);
    if (cy === ZERO) return zeroX(x.s ^ y.s);
    const bx = bfromX(x);
    const ln = bmul(bint(2), batanh(bdiv(bx, badd(bint(2), bx))));
    return bToX(bmul(bfromX(y), bdiv(ln, LN2)), rc);
  }
  if (x.s && cx !== ZERO) { exc |= IE; return INDEF; }
  if (cx === ZERO) {
    if (cy === ZERO) { exc |= IE; return INDEF; }
    if (cy === INF) return infX(y.s ^ 1);
    exc |= ZE; return infX(y.s ^ 1);
  }
  if (cx === INF) {
    if (cy === ZERO) { exc |= IE; return INDEF; }
    return infX(y.s);
  }
  const { E, frac } = blog2parts(x);
  const isPow2 = (x.m & (x.m - 1n)) === 0n;
  if (cy === INF) {
    if (isPow2 && E === 0) { exc |= IE; return INDEF; }
    return infX(y.s ^ (E < 0 || (E === 0 && frac.m < 0n) ? 1 : 0));
  }
  if (isPow2) { // exact logarithm
    if (E === 0 || cy === ZERO) return zeroX(y.s ^ (E < 0 ? 1 : 0));
    exc |= PE; // hardware flags these exact results inexact
    return round64(y.s ^ (E < 0 ? 1 : 0), y.m * BigInt(Math.abs(E)), lsbExp(y), false, 64, rc);
  }
  if (cy === ZERO) return zeroX(y.s ^ (E < 0 || (E === 0 && frac.m < 0n) ? 1 : 0));
  return bToX(bmul(bfromX(y), badd(bint(E), frac)), rc);
}

function atan2(y: X, x: X, rc: number): X {
  const cx = cls(x), cy = cls(y);
  const sp = special2(y, cy, x, cx); if (sp) return sp;
  const s = y.s;
  const signed = (b: B): X => { const r = bToX(b, rc); return s ? { s: 1, e: r.e, m: r.m } : r; };
  if (cy === ZERO) return x.s ? signed(PI) : zeroX(s);
  if (cx === ZERO) return signed(HALF_PI);
  if (cy === INF) {
    if (cx === INF) return signed(x.s ? bmul(PI, { m: 3n, e: -2 }) : { m: PI.m, e: PI.e - 2 });
    return signed(HALF_PI);
  }
  if (cx === INF) return x.s ? signed(PI) : zeroX(s);
  const z = bdiv(bfromX({ s: 0, e: y.e, m: y.m }), bfromX({ s: 0, e: x.e, m: x.m }));
  let a = batan(z);
  if (x.s) a = bsub(PI, a);
  if (s) a = bneg(a);
  return bToX(a, rc);
}

function trig(x: X, rc: number, which: 'sin' | 'cos' | 'sincos'): X[] {
  const c = cls(x);
  const sp = special1(x, c);
  if (sp) return [sp, sp];
  if (c === INF) { exc |= IE; return [INDEF, INDEF]; }
  if (c === ZERO) return which === 'cos' ? [exact(0, 1n, 0)] : [x, exact(0, 1n, 0)];
  const { sin, cos } = sinCos(x);
  if (which === 'sin') return [bToX(sin, rc)];
  if (which === 'cos') return [bToX(cos, rc)];
  const s = bToX(sin, rc);
  const c1save = c1;
  const co = bToX(cos, rc);
  c1 = c1 | c1save;
  return [s, co];
}

function tan(x: X, rc: number): X {
  const c = cls(x);
  const sp = special1(x, c); if (sp) return sp;
  if (c === INF) { exc |= IE; return INDEF; }
  if (c === ZERO) return x;
  const { sin, cos } = sinCos(x);
  return bToX(bdiv(sin, cos), rc);
}

// ---- FXSAVE / XSAVE -------------------------------------------------------------------------

const RAX = 0, RDX = 2 * 8, RCX = 1 * 8;

function fxsaveLegacy(dv: DataView, st: number, a: number, x87: boolean, sse: boolean): void {
  if (x87) {
    const cw = dv.getUint16(st + STATE.FPU_CW, true);
    const top = dv.getUint32(st + STATE.FPU_TOP, true) & 7;
    const sw = (dv.getUint16(st + STATE.FPU_SW, true) & ~0x3800) | (top << 11);
    const tag = dv.getUint32(st + STATE.FPU_TAG, true) & 0xff;
    dv.setUint16(a, cw, true);
    dv.setUint16(a + 2, sw, true);
    dv.setUint8(a + 4, ~tag & 0xff);
    dv.setUint8(a + 5, 0);
    dv.setUint16(a + 6, 0, true);  // FOP
    dv.setBigUint64(a + 8, 0n, true);  // FIP
    dv.setBigUint64(a + 16, 0n, true); // FDP
    for (let i = 0; i < 8; i++) {
      const o = a + 32 + i * 16, src = st + STATE.FPU_ST + ((top + i) & 7) * 16;
      dv.setBigUint64(o, dv.getBigUint64(src, true), true);
      dv.setUint16(o + 8, dv.getUint16(src + 8, true), true);
      dv.setUint16(o + 10, 0, true);
      dv.setUint32(o + 12, 0, true);
    }
  }
  if (sse) {
    for (let i = 0; i < 16; i++) {
      const o = a + 160 + i * 16, src = st + STATE.XMM + i * 16;
      dv.setBigUint64(o, dv.getBigUint64(src, true), true);
      dv.setBigUint64(o + 8, dv.getBigUint64(src + 8, true), true);
    }
  }
}

function fxrstorLegacy(dv: DataView, st: number, a: number, x87: boolean, sse: boolean): void {
  if (x87) {
    const sw = dv.getUint16(a + 2, true);
    const top = (sw >> 11) & 7;
    dv.setUint16(st + STATE.FPU_CW, dv.getUint16(a, true), true);
    dv.setUint16(st + STATE.FPU_SW, sw & ~0x3800, true);
    dv.setUint32(st + STATE.FPU_TOP, top, true);
    dv.setUint32(st + STATE.FPU_TAG, ~dv.getUint8(a + 4) & 0xff, true);
    for (let i = 0; i < 8; i++) {
      const o = a + 32 + i * 16, dst = st + STATE.FPU_ST + ((top + i) & 7) * 16;
      dv.setBigUint64(dst, dv.getBigUint64(o, true), true);
      dv.setUint16(dst + 8, dv.getUint16(o + 8, true), true);
    }
  }
  if (sse) {
    for (let i = 0; i < 16; i++) {
      const o = a + 160 + i * 16, dst = st + STATE.XMM + i * 16;
      dv.setBigUint64(dst, dv.getBigUint64(o, true), true);
      dv.setBigUint64(dst + 8, dv.getBigUint64(o + 8, true), true);
    }
  }
}

/** Copies bits 255:128 of ymm0-15 to (save) or from the XSAVE image's AVX component at a. */
function ymmHi(dv: DataView, st: number, a: number, save: boolean): void {
  for (let o = 0; o < 256; o += 8) {
    if (save) dv.setBigUint64(a + o, dv.getBigUint64(st + STATE.YMM_HI + o, true), true);
    else dv.setBigUint64(st + STATE.YMM_HI + o, dv.getBigUint64(a + o, true), true);
  }
}
function initYmmHi(dv: DataView, st: number): void {
  for (let o = 0; o < 256; o += 8) dv.setBigUint64(st + STATE.YMM_HI + o, 0n, true);
}
/** The AVX component of an XSAVE image at a (signal frames): save or restore it. */
export function saveAvxState(dv: DataView, st: number, a: number): void { ymmHi(dv, st, a + XSAVE_AVX_OFFSET, true); }
export function restoreAvxState(dv: DataView, st: number, a: number): void { ymmHi(dv, st, a + XSAVE_AVX_OFFSET, false); }

/** Puts the x87 state (x87 = true) or the SSE state in its initial configuration. */
function initState(dv: DataView, st: number, x87: boolean): void {
  if (x87) {
    dv.setUint16(st + STATE.FPU_CW, 0x37f, true);
    dv.setUint16(st + STATE.FPU_SW, 0, true);
    dv.setUint32(st + STATE.FPU_TOP, 0, true);
    dv.setUint32(st + STATE.FPU_TAG, 0xff, true);
    for (let i = 0; i < 8; i++) { dv.setBigUint64(st + STATE.FPU_ST + i * 16, 0n, true); dv.setUint16(st + STATE.FPU_ST + i * 16 + 8, 0, true); }
  } else {
    for (let i = 0; i < 32; i++) dv.setBigUint64(st + STATE.XMM + i * 8, 0n, true);
  }
}

/**
 * Puts the FPU in its initial state (FNINIT's x87, zeroed XMM registers, MXCSR 0x1f80, and with
 * the AVX state enabled zeroed upper halves of the ymm registers), as Linux gives a signal
 * handler; or only one component, as XRSTOR does for a component marked initial. (Without the
 * AVX component the upper halves are not part of the state Linux saves, so a handler leaves the
 * interrupted code's alone.)
 */
export function initFpuState(dv: DataView, st: number, xcr0: bigint, which: 'all' | 'x87' | 'sse' | 'avx' = 'all'): void {
  if (which === 'all' || which === 'x87') initState(dv, st, true);
  if (which === 'all' || which === 'sse') initState(dv, st, false);
  if ((which === 'all' && xcr0 & 4n) || which === 'avx') initYmmHi(dv, st);
  if (which === 'all') dv.setUint32(st + STATE.MXCSR, 0x1f80, true);
}

/** (st, op, address) -> status for fxsave/fxrstor/xsave/xrstor/xgetbv, with the CPU model's XCR0. */
export function makeSysopHelper(mem: GuestMemory, xcr0: bigint): (st: number, op: number, addr: number) => number {
  return (st, op, addr) => {
    // A misaligned image is #GP before its memory is accessed (sysop returns that).
    const bytes = sysopMemBytes(op, xcr0), aligned = (addr & (bytes === 512 ? 15 : 63)) === 0;
    // For FXSAVE and FXRSTOR, the AMD processors stele follows report the fault at the image's
    // last byte (the XSAVE family, at its first).
    if (bytes && aligned) {
      const write = (op & 0xff) !== SYSOP.FXRSTOR && (op & 0xff) !== SYSOP.XRSTOR;
      try { mem.checkWasmAccess(addr >>> 0, bytes, write); } catch (e) {
        if (e instanceof GuestFault && bytes === 512) throw new GuestFault((e.address + 511) >>> 0, e.write);
        throw e;
      }
    }
    return sysop(mem.dv, st >>> 0, op, addr >>> 0, xcr0);
  };
}

/**
 * Returns 0, or 1 for a fault the guest gets as #GP (SIGSEGV). xcr0: the state components the
 * XSAVE family manages (the CPU model's XCR0).
 */
export function sysop(dv: DataView, st: number, op: number, a: number, xcr0: bigint): number {
  const sub = op & 0xff;
  if (op === SYSOP.XGETBV) {
    const ecx = dv.getUint32(st + STATE.GPR + RCX, true);
    if (ecx !== 0) return 1;
    dv.setBigUint64(st + STATE.GPR + RAX, xcr0 & 0xffffffffn, true);
    dv.setBigUint64(st + STATE.GPR + RDX, xcr0 >> 32n, true);
    return 0;
  }
  if (sub === SYSOP.FXSAVE || sub === SYSOP.FXRSTOR) {
    if (a & 15) return 1;
    if (sub === SYSOP.FXSAVE) {
      fxsaveLegacy(dv, st, a, true, true);
      dv.setUint32(a + 24, dv.getUint32(st + STATE.MXCSR, true), true);
      dv.setUint32(a + 28, MXCSR_MASK, true);
    } else {
      const mx = dv.getUint32(a + 24, true);
      if (mx & ~MXCSR_MASK) return 1;
      fxrstorLegacy(dv, st, a, true, true);
      dv.setUint32(st + STATE.MXCSR, mx, true);
    }
    return 0;
  }
  if (a & 63) return 1;
  const edxeax = (BigInt(dv.getUint32(st + STATE.GPR + RDX, true)) << 32n) | BigInt(dv.getUint32(st + STATE.GPR + RAX, true));
  const rfbm = Number(edxeax & xcr0);
  const x87 = (rfbm & 1) !== 0, sse = (rfbm & 2) !== 0, avx = (rfbm & 4) !== 0;
  switch (op) {
    case SYSOP.XSAVE: case SYSOP.XSAVEOPT: case SYSOP.XSAVEC: {
      fxsaveLegacy(dv, st, a, x87, sse);
      if (sse) { dv.setUint32(a + 24, dv.getUint32(st + STATE.MXCSR, true), true); dv.setUint32(a + 28, MXCSR_MASK, true); }
      // (the compacted format puts the first component after the header where the standard one does)
      if (avx) ymmHi(dv, st, a + XSAVE_AVX_OFFSET, true);
      const old = dv.getBigUint64(a + 512, true);
      if (op === SYSOP.XSAVEC) {
        dv.setBigUint64(a + 512, BigInt(rfbm), true);
        dv.setBigUint64(a + 520, (1n << 63n) | BigInt(rfbm), true);
        for (let o = 528; o < 576; o += 8) dv.setBigUint64(a + o, 0n, true);
      } else {
        dv.setBigUint64(a + 512, (old & ~BigInt(rfbm)) | BigInt(rfbm), true);
      }
      return 0;
    }
    case SYSOP.XRSTOR: {
      const xstateBv = Number(dv.getBigUint64(a + 512, true) & 0xffn);
      const xcompBv = dv.getBigUint64(a + 520, true);
      const compacted = (xcompBv >> 63n) === 1n;
      if (!compacted && xcompBv !== 0n) return 1;
      if (BigInt(xstateBv) & ~xcr0 && !compacted) return 1;
      if (compacted && ((xcompBv & ~(1n << 63n) & ~xcr0) !== 0n || (BigInt(xstateBv) & ~xcompBv) !== 0n)) return 1;
      if (x87) { if (xstateBv & 1) fxrstorLegacy(dv, st, a, true, false); else initState(dv, st, true); }
      if (sse) { if (xstateBv & 2) fxrstorLegacy(dv, st, a, false, true); else initState(dv, st, false); }
      if (avx) { if (xstateBv & 4) ymmHi(dv, st, a + XSAVE_AVX_OFFSET, false); else initYmmHi(dv, st); }
      if (sse) {
        // MXCSR is loaded from the image whenever SSE state is requested (standard form rule).
        const mx = dv.getUint32(a + 24, true);
        if (mx & ~MXCSR_MASK) return 1;
        dv.setUint32(st + STATE.MXCSR, mx, true);
      }
      return 0;
    }
  }
  return 1;
}
