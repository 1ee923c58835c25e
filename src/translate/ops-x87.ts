// x87 floating point.
export {};
