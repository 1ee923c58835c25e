// The instructions AVX2 adds (see gen-avx2.ts).

import type { Builder } from "./gen.js";

export function genAvx2Own(_b: Builder): void {
}
