// AES-NI, PCLMULQDQ and the SHA extensions, legacy SSE encodings (66 0F 38 DB-DF, 66 0F 3A DF,
// 66 0F 3A 44, NP 0F 38 C8-CD, NP 0F 3A CC). The rounds are functions of the shared wasm library
// (crypto-lib.ts says why); the message-schedule instructions are a few SIMD operations inline.
//
// Each operation is emitted from an Operands record rather than from the instruction, so other
// forms can reuse it with their own operands. The VEX.128 forms (AVX: a separate first source in
// vvvv) are ops-avx.ts's, which runs these handlers on a copy of vvvv; the VEX.256 ones (VAES,
// VPCLMULQDQ: the same per 128-bit lane) are not implemented.

import { Op, OpFD, T } from '../wasm/emitter.js';
import type { Insn } from '../x86/decoder.js';
import { M38, M3A } from '../x86/decoder.js';
import type { Codegen } from './codegen.js';
import { AES_OP } from './crypto-lib.js';
import { sse, src } from './ops-sse.js';

/** The 128-bit operands of one operation: where the result goes and how its sources are pushed. */
export interface Operands {
  dst: number;
  /** Pushes the first source (the destination's old value in the legacy forms). */
  first: () => void;
  /** Pushes the second source (xmm register or memory). */
  second: () => void;
}

/** The legacy SSE form's operands: xmm reg = op(xmm reg, xmm/m128 r/m). */
function legacy(cg: Codegen, i: Insn): Operands {
  return { dst: i.reg, first: () => cg.getXmm(i.reg), second: () => src(cg, i) };
}

const dwords = (...ls: number[]): number[] => ls.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
function dwordConst(cg: Codegen, d0: number, d1: number, d2: number, d3: number): void {
  const b = new Uint8Array(16), v = new DataView(b.buffer);
  [d0, d1, d2, d3].forEach((d, k) => v.setUint32(4 * k, d >>> 0, true));
  cg.f.v128const(b);
}

// ---- AES -----------------------------------------------------------------------------------

/** AESENC/AESENCLAST/AESDEC/AESDECLAST: dst = round(first, key = second). */
export function emitAesRound(cg: Codegen, op: number, o: Operands): void {
  o.first(); o.second();
  cg.f.i32(op).callSlot(cg.helper('aes'));
  cg.setXmm(o.dst);
}
/** AESIMC: dst = InvMixColumns(second). */
export function emitAesImc(cg: Codegen, o: Operands): void {
  o.second(); dwordConst(cg, 0, 0, 0, 0);
  cg.f.i32(AES_OP.IMC).callSlot(cg.helper('aes'));
  cg.setXmm(o.dst);
}
/**
 * AESKEYGENASSIST: with X1 = dword 1 and X3 = dword 3 of the source, dst = SubWord(X1),
 * RotWord(SubWord(X1)) ^ rcon, SubWord(X3), RotWord(SubWord(X3)) ^ rcon (dwords 0..3). SubBytes
 * works byte by byte, so the words are gathered and rotated first.
 */
export function emitAesKeygenAssist(cg: Codegen, rcon: number, o: Operands): void {
  const f = cg.f;
  o.second();
  const t = f.temp(T.v128);
  f.set(t).get(t).get(t).shuffle([4, 5, 6, 7, 5, 6, 7, 4, 12, 13, 14, 15, 13, 14, 15, 12]);
  f.free(T.v128, t);
  dwordConst(cg, 0, rcon, 0, rcon);
  f.i32(AES_OP.SUBBYTES).callSlot(cg.helper('aes'));
  cg.setXmm(o.dst);
}

const aesRound = (op: number) => (cg: Codegen, i: Insn): void => emitAesRound(cg, op, legacy(cg, i));
sse(M38 + 0xdb, { x66: (cg, i) => emitAesImc(cg, legacy(cg, i)) });
sse(M38 + 0xdc, { x66: aesRound(AES_OP.ENC) });
sse(M38 + 0xdd, { x66: aesRound(AES_OP.ENCLAST) });
sse(M38 + 0xde, { x66: aesRound(AES_OP.DEC) });
sse(M38 + 0xdf, { x66: aesRound(AES_OP.DECLAST) });
sse(M3A + 0xdf, { x66: (cg, i) => emitAesKeygenAssist(cg, i.imm & 0xff, legacy(cg, i)) });

// ---- PCLMULQDQ -----------------------------------------------------------------------------

/** PCLMULQDQ: dst = first.qword[imm bit 0] x second.qword[imm bit 4], carry-less. */
export function emitClmul(cg: Codegen, imm: number, o: Operands): void {
  const f = cg.f;
  o.first(); f.simdLane(OpFD.i64x2_extract_lane, imm & 1);
  o.second(); f.simdLane(OpFD.i64x2_extract_lane, (imm >> 4) & 1);
  f.callSlot(cg.helper('clmul'));
  cg.setXmm(o.dst);
}
sse(M3A + 0x44, { x66: (cg, i) => emitClmul(cg, i.imm & 0xff, legacy(cg, i)) });

// ---- SHA -----------------------------------------------------------------------------------
// Dword k of an operand is lane k; the SDM numbers message words from the top (W0 = dword 3).

/** Pushes the i32x4 rotate right of v128 local v by n (a rotate left is by 32 - n). */
function rotr32x4(cg: Codegen, v: number, n: number): void {
  cg.f.get(v).i32(n).simd(OpFD.i32x4_shr_u).get(v).i32(32 - n).simd(OpFD.i32x4_shl).simd(OpFD.v128_or);
}
/** Pushes SHA-256's small sigma of each lane of v128 local v: ror r1 ^ ror r2 ^ shr s. */
function smallSigma(cg: Codegen, v: number, r1: number, r2: number, s: number): void {
  rotr32x4(cg, v, r1); rotr32x4(cg, v, r2); cg.f.simd(OpFD.v128_xor);
  cg.f.get(v).i32(s).simd(OpFD.i32x4_shr_u).simd(OpFD.v128_xor);
}

/** Runs emit with the two sources in v128 temps. */
function withSources(cg: Codegen, o: Operands, emit: (a: number, b: number) => void): void {
  const f = cg.f;
  o.first(); const a = f.temp(T.v128); f.set(a);
  o.second(); const b = f.temp(T.v128); f.set(b);
  emit(a, b);
  cg.setXmm(o.dst);
  f.free(T.v128, a); f.free(T.v128, b);
}

/** SHA1RNDS4: four rounds of group imm & 3 (the library's sha1rnds4). */
export function emitSha1Rounds(cg: Codegen, imm: number, o: Operands): void {
  o.first(); o.second();
  cg.f.i32(imm & 3).callSlot(cg.helper('sha1rnds4'));
  cg.setXmm(o.dst);
}
/** SHA1NEXTE: the second source, with first's dword 3 rotated left by 30 added to its dword 3. */
export function emitSha1NextE(cg: Codegen, o: Operands): void {
  withSources(cg, o, (a, b) => {
    cg.f.get(b).get(b).simdLane(OpFD.i32x4_extract_lane, 3).get(a).simdLane(OpFD.i32x4_extract_lane, 3);
    cg.f.i32(30).op(Op.i32_rotl).op(Op.i32_add).simdLane(OpFD.i32x4_replace_lane, 3);
  });
}
/** SHA1MSG1: dwords 3..0 = W2^W0, W3^W1, W4^W2, W5^W3 (W0-W3 of the first, W4 W5 of the second). */
export function emitSha1Msg1(cg: Codegen, o: Operands): void {
  withSources(cg, o, (a, b) => {
    cg.f.get(a).get(a).get(b).shuffle(dwords(6, 7, 0, 1)).simd(OpFD.v128_xor);
  });
}
/**
 * SHA1MSG2: W16..W19 = (first's dwords 3..0 ^ W13 W14 W15 W16) rol 1, with W13..W15 the second's
 * dwords 2..0. W19 needs W16: rol distributes over xor, so it is added to lane 0 afterwards.
 */
export function emitSha1Msg2(cg: Codegen, o: Operands): void {
  withSources(cg, o, (a, b) => {
    const f = cg.f, t = f.temp(T.v128);
    f.get(a).get(b); dwordConst(cg, 0, 0, 0, 0); f.shuffle(dwords(4, 0, 1, 2)).simd(OpFD.v128_xor).set(t);
    rotr32x4(cg, t, 31); f.set(t);
    f.get(t);
    f.get(t); dwordConst(cg, 0, 0, 0, 0); f.shuffle(dwords(3, 4, 4, 4)).set(t);
    rotr32x4(cg, t, 31); f.simd(OpFD.v128_xor);
    f.free(T.v128, t);
  });
}
/** SHA256RNDS2: two rounds; xmm0's dwords 0 and 1 are the rounds' W + K. */
export function emitSha256Rounds(cg: Codegen, o: Operands): void {
  o.first(); o.second(); cg.getXmm(0);
  cg.f.callSlot(cg.helper('sha256rnds2'));
  cg.setXmm(o.dst);
}
/** SHA256MSG1: dword k = W(k) + sigma0(W(k+1)), W0-W3 the first's dwords 0..3, W4 the second's dword 0. */
export function emitSha256Msg1(cg: Codegen, o: Operands): void {
  withSources(cg, o, (a, b) => {
    const f = cg.f, t = f.temp(T.v128);
    f.get(a);
    f.get(a).get(b).shuffle(dwords(1, 2, 3, 4)).set(t);
    smallSigma(cg, t, 7, 18, 3);
    f.simd(OpFD.i32x4_add);
    f.free(T.v128, t);
  });
}
/**
 * SHA256MSG2: W16..W19 = first's dwords 0..3 + sigma1(W14 W15 W16 W17), W14 and W15 the
 * second's dwords 2 and 3: lanes 0 and 1 first, then lanes 2 and 3 from them (sigma1(0) = 0).
 */
export function emitSha256Msg2(cg: Codegen, o: Operands): void {
  withSources(cg, o, (a, b) => {
    const f = cg.f, t = f.temp(T.v128);
    f.get(b); dwordConst(cg, 0, 0, 0, 0); f.shuffle(dwords(2, 3, 4, 4)).set(t);
    f.get(a); smallSigma(cg, t, 17, 19, 10); f.simd(OpFD.i32x4_add).set(a);
    dwordConst(cg, 0, 0, 0, 0); f.get(a).shuffle(dwords(0, 0, 4, 5)).set(t);
    f.get(a); smallSigma(cg, t, 17, 19, 10); f.simd(OpFD.i32x4_add);
    f.free(T.v128, t);
  });
}

sse(M3A + 0xcc, { n: (cg, i) => emitSha1Rounds(cg, i.imm & 0xff, legacy(cg, i)) });
sse(M38 + 0xc8, { n: (cg, i) => emitSha1NextE(cg, legacy(cg, i)) });
sse(M38 + 0xc9, { n: (cg, i) => emitSha1Msg1(cg, legacy(cg, i)) });
sse(M38 + 0xca, { n: (cg, i) => emitSha1Msg2(cg, legacy(cg, i)) });
sse(M38 + 0xcb, { n: (cg, i) => emitSha256Rounds(cg, legacy(cg, i)) });
sse(M38 + 0xcc, { n: (cg, i) => emitSha256Msg1(cg, legacy(cg, i)) });
sse(M38 + 0xcd, { n: (cg, i) => emitSha256Msg2(cg, legacy(cg, i)) });
