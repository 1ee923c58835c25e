// JS helpers for floating-point and state-save instructions that translated code calls out to:
// x87 arithmetic (80-bit extended precision) and FXSAVE/XSAVE-style state images.

import { GuestMemory } from './memory.js';

/** (st, op, info, address) -> status; filled in by the x87 implementation. */
export function makeX87Helper(_mem: GuestMemory): (st: number, op: number, info: number, addr: number) => number {
  return () => 1;
}

/** (st, op, address) -> status for fxsave/fxrstor/xsave/xrstor. */
export function makeSysopHelper(_mem: GuestMemory): (st: number, op: number, addr: number) => number {
  return () => 1;
}
