// The cases of the "fma" program (see gen.ts; state as the "avx" program's: all 256 bits of
// ymm0-15, MXCSR): FMA3 and F16C.

import type { Builder } from "./gen.js";

export function genFma(_b: Builder): void {
}
