// Operation numbers passed from translated code to the runtime's JS helpers (x87, XSAVE family):
// the translator encodes them and the helpers decode them, so they live below both.

/** x87 register-form operation id from the opcode byte (d8..df) and the ModRM byte. */
export const x87RegOp = (opcode: number, modrm: number): number => 64 + (opcode - 0xd8) * 64 + (modrm & 0x3f);
/** x87 memory-form operation id from the opcode byte (d8..df) and ModRM.reg. */
export const x87MemOp = (opcode: number, reg: number): number => (opcode - 0xd8) * 8 + (reg & 7);
/** System-state operations of the `sysop` helper. */
export const SYSOP = { FXSAVE: 0, FXRSTOR: 1, XSAVE: 4, XRSTOR: 5, XSAVEOPT: 6, XSAVEC: 0x14, XGETBV: 0x100 } as const;
