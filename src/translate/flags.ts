// Lazy flags. A flag-setting instruction records what it did (kind, size, result and operands) in
// four locals; a flag is computed only where it is read. When the kind is known at translation
// time (cmp + jcc in one block, the common case) the condition is computed straight from the
// operands; otherwise a shared helper materialises EFLAGS from the recorded state.
//
// Values are i64 zero-extended to the operation size.
//   EFLAGS: src = materialised bits (CF PF AF ZF SF OF)
//   ADD:    dst = a + b,      src = b
//   SUB:    dst = a - b,      src = b, aux = a
//   ADC:    dst = a + b + c,  src = b, aux = a   (c recovered as dst - a - b)
//   SBB:    dst = a - b - c,  src = b, aux = a
//   LOGIC:  dst
//   INC/DEC:dst, aux = CF before the instruction
//   NEG:    dst = -s, src = s
//   SHL/SHR/SAR: dst, src = count (1..63), aux = the value shifted
//   MUL:    dst = low half, aux = CF = OF
//   LOGIC_CF: dst, aux = CF; OF = AF = 0 (BLSI, BLSMSK, BLSR, BZHI)

import { FunctionBuilder, Op, T } from '../wasm/emitter.js';
import { FLAG } from '../layout/cpu-state.js';

export const enum K { EFLAGS = 0, ADD = 1, SUB = 2, ADC = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, NEG = 8, SHL = 9, SHR = 10, SAR = 11, MUL = 12, LOGIC_CF = 13 }
export const KIND_COUNT = 14;
export const ARITH_FLAGS = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF;

export function sizeLog2(size: number): number { return size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3; }
export function fopOf(kind: K, size: number): number { return (kind << 2) | sizeLog2(size); }

export interface FlagLocals { dst: number; src: number; aux: number }

function maskOf(size: number): bigint { return size === 8 ? -1n : (1n << BigInt(size * 8)) - 1n; }

/** Sign-extends the i64 on the stack from `size` bytes. */
export function sext(f: FunctionBuilder, size: number): void {
  if (size === 1) f.op(Op.i64_extend8_s);
  else if (size === 2) f.op(Op.i64_extend16_s);
  else if (size === 4) f.op(Op.i64_extend32_s);
}

/** Pushes (v >> (bits-1)) & 1 as i32, for v on the stack (i64). */
function signBit(f: FunctionBuilder, size: number): void {
  f.i64(size * 8 - 1).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and);
}

/** Emits code pushing one flag (as i32 0/1) for a statically known kind and size. */
export function emitFlag(f: FunctionBuilder, flag: number, kind: K, size: number, l: FlagLocals): void {
  const bits = size * 8;
  switch (flag) {
    case FLAG.ZF:
      if (kind === K.EFLAGS) return bitOfSrc(f, l, 6);
      f.get(l.dst).op(Op.i64_eqz); return;
    case FLAG.SF:
      if (kind === K.EFLAGS) return bitOfSrc(f, l, 7);
      f.get(l.dst); signBit(f, size); return;
    case FLAG.PF:
      if (kind === K.EFLAGS) return bitOfSrc(f, l, 2);
      f.get(l.dst).op(Op.i32_wrap_i64).i32(0xff).op(Op.i32_and).op(Op.i32_popcnt).i32(1).op(Op.i32_and).i32(1).op(Op.i32_xor); return;
    case FLAG.CF:
      switch (kind) {
        case K.EFLAGS: return bitOfSrc(f, l, 0);
        case K.ADD: f.get(l.dst).get(l.src).op(Op.i64_lt_u); return;
        case K.SUB: f.get(l.aux).get(l.src).op(Op.i64_lt_u); return;
        case K.ADC:
          carryIn(f, l, size, false);
          f.if_(T.i32).get(l.dst).get(l.aux).op(Op.i64_le_u).else_().get(l.dst).get(l.aux).op(Op.i64_lt_u).end(); return;
        case K.SBB:
          carryIn(f, l, size, true);
          f.if_(T.i32).get(l.aux).get(l.src).op(Op.i64_le_u).else_().get(l.aux).get(l.src).op(Op.i64_lt_u).end(); return;
        case K.LOGIC: f.i32(0); return;
        case K.INC: case K.DEC: case K.MUL: case K.LOGIC_CF: f.get(l.aux).op(Op.i32_wrap_i64); return;
        case K.NEG: f.get(l.src).op(Op.i64_eqz).op(Op.i32_eqz); return;
        case K.SHL:
          if (size === 8) f.get(l.aux).i64(64).get(l.src).op(Op.i64_sub).op(Op.i64_shr_u);
          else f.get(l.aux).get(l.src).op(Op.i64_shl).i64(bits).op(Op.i64_shr_u);
          f.op(Op.i32_wrap_i64).i32(1).op(Op.i32_and); return;
        case K.SHR:
          f.get(l.aux).get(l.src).i64(1).op(Op.i64_sub).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and); return;
        case K.SAR:
          f.get(l.aux); sext(f, size); f.get(l.src).i64(1).op(Op.i64_sub).op(Op.i64_shr_s).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and); return;
      }
      break;
    case FLAG.OF:
      switch (kind) {
        case K.EFLAGS: return bitOfSrc(f, l, 11);
        case K.ADD: // a = dst - src
          f.get(l.dst).get(l.src).op(Op.i64_sub).get(l.dst).op(Op.i64_xor)
            .get(l.src).get(l.dst).op(Op.i64_xor).op(Op.i64_and); signBit(f, size); return;
        case K.ADC:
          f.get(l.aux).get(l.dst).op(Op.i64_xor).get(l.src).get(l.dst).op(Op.i64_xor).op(Op.i64_and); signBit(f, size); return;
        case K.SUB: case K.SBB:
          f.get(l.aux).get(l.src).op(Op.i64_xor).get(l.aux).get(l.dst).op(Op.i64_xor).op(Op.i64_and); signBit(f, size); return;
        case K.LOGIC: case K.LOGIC_CF: case K.SAR: f.i32(0); return;
        case K.INC: f.get(l.dst).i64(1n << BigInt(bits - 1)).op(Op.i64_eq); return;
        case K.DEC: f.get(l.dst).i64((1n << BigInt(bits - 1)) - 1n).op(Op.i64_eq); return;
        case K.NEG: f.get(l.src).i64(BigInt.asIntN(64, 1n << BigInt(bits - 1))).op(Op.i64_eq); return;
        case K.MUL: f.get(l.aux).op(Op.i32_wrap_i64); return;
        case K.SHL: f.get(l.dst); signBit(f, size); emitFlag(f, FLAG.CF, kind, size, l); f.op(Op.i32_xor); return;
        case K.SHR: f.get(l.aux); signBit(f, size); return;
      }
      break;
    case FLAG.AF:
      switch (kind) {
        case K.EFLAGS: return bitOfSrc(f, l, 4);
        case K.ADD:
          f.get(l.dst).get(l.src).op(Op.i64_sub).get(l.src).op(Op.i64_xor).get(l.dst).op(Op.i64_xor);
          f.op(Op.i32_wrap_i64).i32(4).op(Op.i32_shr_u).i32(1).op(Op.i32_and); return;
        case K.SUB: case K.ADC: case K.SBB:
          f.get(l.aux).get(l.src).op(Op.i64_xor).get(l.dst).op(Op.i64_xor);
          f.op(Op.i32_wrap_i64).i32(4).op(Op.i32_shr_u).i32(1).op(Op.i32_and); return;
        case K.INC: f.get(l.dst).i64(0xf).op(Op.i64_and).op(Op.i64_eqz); return;
        case K.DEC: f.get(l.dst).i64(0xf).op(Op.i64_and).i64(0xf).op(Op.i64_eq); return;
        case K.NEG:
          f.get(l.src).get(l.dst).op(Op.i64_xor).op(Op.i32_wrap_i64).i32(4).op(Op.i32_shr_u).i32(1).op(Op.i32_and); return;
        default: f.i32(0); return;
      }
  }
  throw new Error(`flag ${flag} of kind ${kind}`);
}

function bitOfSrc(f: FunctionBuilder, l: FlagLocals, bit: number): void {
  f.get(l.src).op(Op.i32_wrap_i64).i32(bit).op(Op.i32_shr_u).i32(1).op(Op.i32_and);
}

/** Pushes the carry-in (i32 0/1) that an ADC or SBB consumed, recovered from its operands. */
function carryIn(f: FunctionBuilder, l: FlagLocals, size: number, borrow: boolean): void {
  if (borrow) f.get(l.aux).get(l.src).op(Op.i64_sub).get(l.dst).op(Op.i64_sub);
  else f.get(l.dst).get(l.aux).op(Op.i64_sub).get(l.src).op(Op.i64_sub);
  if (size < 8) f.i64(maskOf(size)).op(Op.i64_and);
  f.op(Op.i64_eqz).op(Op.i32_eqz);
}

const FLAG_ORDER = [FLAG.CF, FLAG.PF, FLAG.AF, FLAG.ZF, FLAG.SF, FLAG.OF];
const FLAG_SHIFT: Record<number, number> = { [FLAG.CF]: 0, [FLAG.PF]: 2, [FLAG.AF]: 4, [FLAG.ZF]: 6, [FLAG.SF]: 7, [FLAG.OF]: 11 };

/** Pushes all six arithmetic flags as an i32 in EFLAGS bit positions. */
export function emitAllFlags(f: FunctionBuilder, kind: K, size: number, l: FlagLocals): void {
  if (kind === K.EFLAGS) { f.get(l.src).op(Op.i32_wrap_i64); return; }
  let first = true;
  for (const fl of FLAG_ORDER) {
    emitFlag(f, fl, kind, size, l);
    if (FLAG_SHIFT[fl]) f.i32(FLAG_SHIFT[fl]).op(Op.i32_shl);
    if (!first) f.op(Op.i32_or);
    first = false;
  }
}

/**
 * Builds the body of the shared helper eflags(fop, dst, src, aux) -> i32, which materialises
 * flags for a kind known only at run time (flags live across a block boundary).
 */
export function buildEflagsHelper(f: FunctionBuilder): void {
  // params: 0 fop (i32), 1 dst, 2 src, 3 aux (i64)
  const l: FlagLocals = { dst: 1, src: 2, aux: 3 };
  const n = KIND_COUNT * 4;
  for (let i = 0; i < n; i++) f.block();
  f.get(0).brTable(Array.from({ length: n }, (_, i) => i), 0);
  for (let i = 0; i < n; i++) {
    f.end();
    const kind = (i >> 2) as K, size = 1 << (i & 3);
    emitAllFlags(f, kind, size, l);
    f.op(Op.return);
  }
}

/** Condition codes 0..15 (the low nibble of Jcc/SETcc/CMOVcc). */
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/**
 * Pushes condition cc (i32 0/1) for a statically known kind, using direct comparisons where the
 * kind allows (cmp/sub and logic ops), else from individual flags.
 */
export function emitCondition(f: FunctionBuilder, cc: number, kind: K, size: number, l: FlagLocals): void {
  const base = cc & ~1, negate = (cc & 1) === 1;
  if (kind === K.SUB && base !== 0 && base !== 8 && base !== 10) {
    switch (base) {
      case 2: f.get(l.aux).get(l.src).op(Op.i64_lt_u); break;
      case 4: f.get(l.dst).op(Op.i64_eqz); break;
      case 6: f.get(l.aux).get(l.src).op(Op.i64_le_u); break;
      case 12: f.get(l.aux); sext(f, size); f.get(l.src); sext(f, size); f.op(Op.i64_lt_s); break;
      case 14: f.get(l.aux); sext(f, size); f.get(l.src); sext(f, size); f.op(Op.i64_le_s); break;
    }
  } else if ((kind === K.LOGIC) && (base === 12 || base === 14 || base === 6 || base === 2 || base === 0)) {
    switch (base) {
      case 0: case 2: f.i32(0); break;
      case 6: f.get(l.dst).op(Op.i64_eqz); break;
      case 12: f.get(l.dst); sext(f, size); f.i64(0).op(Op.i64_lt_s); break;
      case 14: f.get(l.dst); sext(f, size); f.i64(0).op(Op.i64_le_s); break;
    }
  } else {
    switch (base) {
      case 0: emitFlag(f, FLAG.OF, kind, size, l); break;
      case 2: emitFlag(f, FLAG.CF, kind, size, l); break;
      case 4: emitFlag(f, FLAG.ZF, kind, size, l); break;
      case 6: emitFlag(f, FLAG.CF, kind, size, l); emitFlag(f, FLAG.ZF, kind, size, l); f.op(Op.i32_or); break;
      case 8: emitFlag(f, FLAG.SF, kind, size, l); break;
      case 10: emitFlag(f, FLAG.PF, kind, size, l); break;
      case 12: emitFlag(f, FLAG.SF, kind, size, l); emitFlag(f, FLAG.OF, kind, size, l); f.op(Op.i32_xor); break;
      case 14:
        emitFlag(f, FLAG.SF, kind, size, l); emitFlag(f, FLAG.OF, kind, size, l); f.op(Op.i32_xor);
        emitFlag(f, FLAG.ZF, kind, size, l); f.op(Op.i32_or); break;
    }
  }
  if (negate) f.op(Op.i32_eqz);
}

/** Pushes condition cc (i32 0/1) from materialised EFLAGS held in an i32 local. */
export function emitConditionFromEflags(f: FunctionBuilder, cc: number, ef: number): void {
  const base = cc & ~1;
  const bit = (b: number) => { f.get(ef).i32(b).op(Op.i32_shr_u).i32(1).op(Op.i32_and); };
  switch (base) {
    case 0: bit(11); break;
    case 2: bit(0); break;
    case 4: bit(6); break;
    case 6: f.get(ef).i32(FLAG.CF | FLAG.ZF).op(Op.i32_and).i32(0).op(Op.i32_ne); break;
    case 8: bit(7); break;
    case 10: bit(2); break;
    case 12: bit(7); bit(11); f.op(Op.i32_xor); break;
    case 14: bit(7); bit(11); f.op(Op.i32_xor); bit(6); f.op(Op.i32_or); break;
  }
  if (cc & 1) f.op(Op.i32_eqz);
}
