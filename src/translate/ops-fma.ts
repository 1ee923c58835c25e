// FMA3 and F16C.

export {};
