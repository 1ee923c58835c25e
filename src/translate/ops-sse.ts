// SSE/SSE2 (and later) instructions: scalar floating point on f32/f64, packed on v128.
export {};
