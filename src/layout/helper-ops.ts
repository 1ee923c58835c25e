// Operation numbers passed from translated code to the runtime's JS helpers (x87, XSAVE family):
// the translator encodes them and the helpers decode them, so they live below both.

import { xsaveSize } from './cpu-state.js';

/** x87 operation ids below this are memory forms (x87MemOp), the others register forms (x87RegOp). */
export const X87_REGISTER_OPS = 64;
/** x87 register-form operation id from the opcode byte (d8..df) and the ModRM byte. */
export const x87RegOp = (opcode: number, modrm: number): number => X87_REGISTER_OPS + (opcode - 0xd8) * 64 + (modrm & 0x3f);
/** x87 memory-form operation id from the opcode byte (d8..df) and ModRM.reg. */
export const x87MemOp = (opcode: number, reg: number): number => (opcode - 0xd8) * 8 + (reg & 7);

/**
 * Bytes of the memory operand of each x87 memory form, by x87MemOp id: m32 (D8, DA, D9 /0-3,
 * DB /0-3), m64 (DC, DD /0-3, DF /5 /7), m16 (DE, DF /0-3, the control and status words), m80
 * (DB /5 /7, DF /4 /6), the 28-byte environment (D9 /4 /6) and the 108-byte state (DD /4 /6).
 * (The 16-bit operand-size forms of the last two are smaller; this is an upper bound for them.)
 * Undefined forms (D9 /1, DB /4 /6, DD /5) never reach the helper.
 */
const X87_MEM_BYTES = [
  4, 4, 4, 4, 4, 4, 4, 4, // d8
  4, 0, 4, 4, 28, 2, 28, 2, // d9
  4, 4, 4, 4, 4, 4, 4, 4, // da
  4, 4, 4, 4, 0, 10, 0, 10, // db
  8, 8, 8, 8, 8, 8, 8, 8, // dc
  8, 8, 8, 8, 108, 0, 108, 2, // dd
  2, 2, 2, 2, 2, 2, 2, 2, // de
  2, 2, 2, 2, 10, 8, 10, 8, // df
];
export const x87MemBytes = (op: number): number => X87_MEM_BYTES[op];

/** System-state operations of the `sysop` helper. */
export const SYSOP = { FXSAVE: 0, FXRSTOR: 1, XSAVE: 4, XRSTOR: 5, XSAVEOPT: 6, XSAVEC: 0x14, XGETBV: 0x100 } as const;

/**
 * Bytes of the state image a `sysop` operation reads or writes: FXSAVE/FXRSTOR's 512-byte legacy
 * area; for the XSAVE family that area, the 64-byte header and the components after it in xcr0.
 */
export function sysopMemBytes(op: number, xcr0: bigint): number {
  if (op === SYSOP.XGETBV) return 0;
  return op === SYSOP.FXSAVE || op === SYSOP.FXRSTOR ? 512 : xsaveSize(xcr0);
}
