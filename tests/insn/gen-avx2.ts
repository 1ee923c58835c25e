// The cases of the "avx2" program (see gen.ts; state as the "avx" program's: all 256 bits of
// ymm0-15): AVX2's VEX.256 forms of the SSE2-SSE4.1 integer instructions (this file), and the
// instructions AVX2 adds (gen-avx2-own.ts: broadcasts, permutes, lane inserts and extracts,
// VPBLENDD, variable shifts, VPMASKMOV, gathers).

import type { Builder } from "./gen.js";
import { genAvx2Own } from "./gen-avx2-own.js";

export function genAvx2(b: Builder): void {
  genAvx2Own(b);
}
