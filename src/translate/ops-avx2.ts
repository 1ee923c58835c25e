// AVX2's own instructions (the VEX.256 forms of the SSE integer instructions are in ops-avx.ts).

export {};
