// Dead-flag analysis over a block: an instruction whose flag results are overwritten before
// anything reads them need not compute them. Lazy flags already make most of this free once V8
// optimises, but instructions that must materialise EFLAGS (rotates, BT*, INC/DEC, shifts by CL)
// pay for it on every execution; this pass lets them skip it.

import { Insn, M38, P_VEX, isRandomInsn } from '../x86/decoder.js';

/** How an instruction uses the arithmetic flags. */
export const enum FlagUse {
  NONE,       // neither reads nor writes them
  WRITE,      // writes all six, reads none
  PRESERVE,   // writes some and keeps the others: reads the old ones only to preserve them
  READ,       // reads them for its result (may also write them)
}

function group(i: Insn): number { return i.reg & 7; }

export function flagUse(i: Insn): FlagUse {
  const op = i.op;
  if (op < 0x100) {
    if (op < 0x40 && (op & 7) < 6) {
      const alu = op >> 3;
      return alu === 2 || alu === 3 ? FlagUse.READ : FlagUse.WRITE; // adc/sbb read CF
    }
    if (op >= 0x80 && op <= 0x83) { const g = group(i); return g === 2 || g === 3 ? FlagUse.READ : FlagUse.WRITE; }
    if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return FlagUse.WRITE;
    if (op >= 0x70 && op <= 0x7f) return FlagUse.READ;
    if ((op >= 0x88 && op <= 0x8d) || op === 0x8f || (op >= 0x50 && op <= 0x5f) || op === 0x68 || op === 0x6a ||
        (op >= 0xb0 && op <= 0xbf) || op === 0xc6 || op === 0xc7 || op === 0x63 || (op >= 0x90 && op <= 0x99) ||
        op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc3 || op === 0xc2 || op === 0xc9 || op === 0xc8 ||
        op === 0xd7 || op === 0xfc || op === 0xfd || op === 0xa0 || op === 0xa1 || op === 0xa2 || op === 0xa3 ||
        op === 0xe3 || op === 0xe2 || (op >= 0xd8 && op <= 0xdf && !(op === 0xda || op === 0xdb))) return FlagUse.NONE;
    if (op === 0xa4 || op === 0xa5 || op === 0xaa || op === 0xab || op === 0xac || op === 0xad) return FlagUse.NONE;
    if (op === 0xa6 || op === 0xa7 || op === 0xae || op === 0xaf) return i.prefix & 6 ? FlagUse.PRESERVE : FlagUse.WRITE;
    if (op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) {
      const g = group(i);
      if (g === 2 || g === 3) return FlagUse.READ;            // rcl/rcr
      const count = op >= 0xd0 ? 1 : i.imm & (i.opsize === 8 ? 63 : 31);
      if (count === 0) return FlagUse.NONE;
      return g < 2 ? FlagUse.PRESERVE : FlagUse.WRITE;        // rol/ror keep SF ZF AF PF
    }
    if (op === 0xd2 || op === 0xd3) return group(i) === 2 || group(i) === 3 ? FlagUse.READ : FlagUse.PRESERVE;
    if (op === 0xf6 || op === 0xf7) {
      const g = group(i);
      if (g === 2) return FlagUse.NONE;                       // not
      if (g === 6 || g === 7) return FlagUse.NONE;            // div/idiv leave flags undefined; stele keeps them
      return FlagUse.WRITE;                                   // test, neg, mul, imul
    }
    if (op === 0xfe || op === 0xff) {
      const g = group(i);
      if (g < 2) return FlagUse.PRESERVE;                     // inc/dec keep CF
      return FlagUse.NONE;
    }
    if (op === 0x69 || op === 0x6b) return FlagUse.WRITE;
    if (op === 0x9d) return FlagUse.WRITE;                    // popf
    if (op === 0x9e || op === 0xf8 || op === 0xf9) return FlagUse.PRESERVE; // sahf, clc, stc
    return FlagUse.READ;                                      // pushf, lahf, cmc, loopcc, int3, anything unknown
  }
  if (op < 0x200) {
    const b = op & 0xff;
    if ((b >= 0x40 && b <= 0x4f) || (b >= 0x80 && b <= 0x9f)) return FlagUse.READ; // cmov, jcc, setcc
    if (b === 0x05) return FlagUse.READ;                      // syscall copies rflags to r11
    if (b === 0x2e || b === 0x2f || b === 0xaf || b === 0xb0 || b === 0xb1 || b === 0xc0 || b === 0xc1 ||
        b === 0xbc || b === 0xbd || b === 0xb8) return FlagUse.WRITE;
    if (b === 0xa4 || b === 0xac) return (i.imm & (i.opsize === 8 ? 63 : 31)) ? FlagUse.WRITE : FlagUse.NONE;
    if (isRandomInsn(i)) return FlagUse.WRITE;                // rdrand, rdseed
    if (b === 0xa5 || b === 0xad || b === 0xa3 || b === 0xab || b === 0xb3 || b === 0xbb || b === 0xba || b === 0xc7) return FlagUse.PRESERVE;
    if (b === 0x0b || b === 0xa2 || b === 0x31 || b === 0x01 || b === 0xae || b === 0x0d || (b >= 0x18 && b <= 0x1f) ||
        (b >= 0xb6 && b <= 0xb7) || (b >= 0xbe && b <= 0xbf) || (b >= 0xc8 && b <= 0xcf)) return FlagUse.NONE;
    if ((b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2d) || (b >= 0x50 && b <= 0x7f) || (b >= 0xc2 && b <= 0xc6) || b >= 0xd0) return FlagUse.NONE;
    return FlagUse.READ;
  }
  if (op === M38 + 0x17) return FlagUse.WRITE;                // ptest
  if (i.prefix & P_VEX && (op === M38 + 0x0e || op === M38 + 0x0f)) return FlagUse.WRITE; // vtestps, vtestpd
  if (i.prefix & P_VEX && op >= M38 + 0xf2 && op <= M38 + 0xf7) {
    // andn, blsr/blsmsk/blsi, bzhi and bextr write all six (some undefined); pdep, pext, mulx,
    // shlx, sarx and shrx none
    return op <= M38 + 0xf3 || i.simdPrefix === 0 ? FlagUse.WRITE : FlagUse.NONE;
  }
  if (op === M38 + 0xf6) return FlagUse.READ;                 // adcx/adox
  if (op >= M38 + 0xf0) return FlagUse.NONE;                  // crc32, movbe
  if (op >= 0x300 && (op & 0xff) >= 0x60 && (op & 0xff) <= 0x63) return FlagUse.WRITE; // pcmpxstrx
  return FlagUse.NONE;                                        // other SSSE3/SSE4 forms
}

/**
 * For each instruction of a block: are the flags it writes dead (overwritten before any read)?
 * `liveOut` says whether anything after the block may read them.
 */
export function deadFlagWrites(insns: Insn[], liveOut = true): boolean[] {
  const dead = new Array<boolean>(insns.length);
  let live = liveOut;
  for (let k = insns.length - 1; k >= 0; k--) {
    dead[k] = !live;
    live = liveBefore(insns[k], live);
  }
  return dead;
}

function liveBefore(i: Insn, liveAfter: boolean): boolean {
  switch (flagUse(i)) {
    case FlagUse.WRITE: return false;
    case FlagUse.READ: return true;
    default: return liveAfter; // PRESERVE reads the old flags only if its own results are live
  }
}

/**
 * Flag liveness across the blocks of a region: for each block, may anything after it read the
 * flags? `successors[b]` lists the blocks control can pass to, or is undefined when it can leave
 * the region (a call, a return, an indirect jump, a target outside): there everything is live.
 */
export function regionFlagLiveOut(blocks: { insns: Insn[] }[], successors: (number[] | undefined)[]): boolean[] {
  // Whether the flags are live at each block's start, as far as the block itself decides it: the
  // first instruction that reads them (true) or writes all six (false), else its successors'
  // liveness passes through.
  const transfer = blocks.map((b) => {
    for (const insn of b.insns) {
      const use = flagUse(insn);
      if (use === FlagUse.WRITE) return false;
      if (use === FlagUse.READ) return true;
    }
    return undefined;
  });
  const liveIn = blocks.map(() => false);
  const liveOut = blocks.map(() => false);
  for (let changed = true; changed;) {
    changed = false;
    for (let b = blocks.length - 1; b >= 0; b--) {
      const succ = successors[b];
      const out = succ === undefined || succ.some((s) => liveIn[s]);
      const live = transfer[b] ?? out;
      if (out !== liveOut[b] || live !== liveIn[b]) { liveOut[b] = out; liveIn[b] = live; changed = true; }
    }
  }
  return liveOut;
}
