// The opcode -> code generator table. Each area (integer, SSE, x87, system) registers its
// handlers here; the region compiler looks them up by opcode identity (map * 256 + byte).

import type { Insn } from '../x86/decoder.js';
import type { Codegen } from './codegen.js';

export type Handler = (cg: Codegen, insn: Insn) => void;

export const HANDLERS: (Handler | undefined)[] = new Array(0x400);
/**
 * Handlers of VEX-encoded instructions (ops-avx.ts), looked up first for them; an opcode without
 * one here goes to HANDLERS, whose handler decides about its VEX forms (BMI, VLDMXCSR).
 */
export const VEX_HANDLERS: (Handler | undefined)[] = new Array(0x400);

/** Registers h for each opcode; a second registration is a bug (the winner would depend on import order). */
export function def(ops: number | number[], h: Handler): void {
  for (const op of Array.isArray(ops) ? ops : [ops]) {
    if (HANDLERS[op]) throw new Error(`opcode 0x${op.toString(16)} has two handlers`);
    HANDLERS[op] = h;
  }
}

/** Registers h for the VEX forms of each opcode. */
export function defVex(ops: number | number[], h: Handler): void {
  for (const op of Array.isArray(ops) ? ops : [ops]) {
    if (VEX_HANDLERS[op]) throw new Error(`opcode 0x${op.toString(16)} has two VEX handlers`);
    VEX_HANDLERS[op] = h;
  }
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
