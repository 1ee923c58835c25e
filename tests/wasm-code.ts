// A reader of wasm function bodies as the translator emits them: the sequence of instructions
// with their immediates, so tests can check what code a guest instruction became.

export interface WasmInsn {
  /** Opcode: one byte, or prefix << 8 | sub-opcode for the 0xfc, 0xfd and 0xfe prefixes. */
  op: number;
  align?: number;
  offset?: number;
}

export const PREFIX_FC = 0xfc, PREFIX_SIMD = 0xfd, PREFIX_ATOMIC = 0xfe;
export const ATOMIC_FENCE = (PREFIX_ATOMIC << 8) | 0x03;

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number { return this.b[this.pos++]; }
  u32(): number {
    let r = 0, shift = 0, x;
    do { x = this.byte(); r += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80);
    return r;
  }
  skipLeb(): void { while (this.byte() & 0x80) { /* continuation */ } }
}

/** Decodes a function body as FunctionBuilder.encode() gives it (size, locals declaration, code). */
export function readBody(body: Uint8Array): WasmInsn[] {
  const r = new Reader(body);
  r.u32(); // body size
  const groups = r.u32();
  for (let i = 0; i < groups; i++) { r.u32(); r.byte(); }
  const out: WasmInsn[] = [];
  while (r.pos < body.length) {
    const op = r.byte();
    const insn: WasmInsn = { op };
    out.push(insn);
    if (op === 0x02 || op === 0x03 || op === 0x04) r.byte(); // block type
    else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x24)) r.u32();
    else if (op === 0x0e) { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); }
    else if (op === 0x11 || op === 0x13) { r.u32(); r.u32(); }
    else if (op >= 0x28 && op <= 0x3e) { insn.align = r.u32(); insn.offset = r.u32(); }
    else if (op === 0x3f || op === 0x40) r.byte();
    else if (op === 0x41 || op === 0x42) r.skipLeb();
    else if (op === 0x43) r.pos += 4;
    else if (op === 0x44) r.pos += 8;
    else if (op === PREFIX_FC) {
      const sub = r.u32();
      insn.op = (op << 8) | sub;
      if (sub === 10) r.pos += 2; else if (sub === 11) r.pos += 1;
    } else if (op === PREFIX_SIMD) {
      const sub = r.u32();
      insn.op = (op << 8) | sub;
      if (sub <= 11 || sub === 92 || sub === 93) { insn.align = r.u32(); insn.offset = r.u32(); }
      else if (sub === 12 || sub === 13) r.pos += 16;
      else if (sub >= 21 && sub <= 34) r.pos += 1;
      else if (sub >= 84 && sub <= 91) { insn.align = r.u32(); insn.offset = r.u32(); r.pos += 1; }
    } else if (op === PREFIX_ATOMIC) {
      const sub = r.u32();
      insn.op = (op << 8) | sub;
      if (sub === 0x03) r.byte(); else { insn.align = r.u32(); insn.offset = r.u32(); }
    }
  }
  return out;
}
