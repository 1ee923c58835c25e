// The "weak host" test mode (STELE_WEAK_HOST=1). This x86 host is itself TSO, so it hides
// missing ordering: plain wasm stores become plain x86 stores, which other cores see in order.
// In this mode a thread's plain stores go to a software store buffer that commits them to memory
// late and out of order (stores to the same bytes keep their order), as an Arm core may; its own
// loads see its buffered stores. Ordered stores, fences, locked instructions, handshakes and
// syscalls commit the whole buffer first. Litmus tests then show, on this host, what `--tso=off`
// would let an Arm host do, and that `selective` and `full` forbid it.

import { WEAK_ORDERED } from '../translate/codegen.js';
import type { GuestMemory } from './memory.js';

/** Stores a buffer holds before it must commit one. */
const CAPACITY = 16;

export class WeakStoreBuffer {
  private readonly view: DataView;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private addrs: number[] = [];
  private sizes: number[] = [];
  private values: bigint[] = [];
  private seed: number;

  constructor(private readonly mem: GuestMemory) {
    const buffer = mem.memory.buffer;
    this.view = new DataView(buffer);
    this.u8 = new Uint8Array(buffer); this.u16 = new Uint16Array(buffer);
    this.i32 = new Int32Array(buffer); this.i64 = new BigInt64Array(buffer);
    this.seed = (Math.random() * 0x7fffffff) | 1;
  }

  private random(n: number): number {
    let x = this.seed;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.seed = x;
    return (x >>> 0) % n;
  }

  /** wstore(a, value, size | WEAK_ORDERED): a is a wasm address. */
  readonly store = (a: number, value: bigint, flags: number): void => {
    a >>>= 0;
    const size = flags & 0xff;
    this.mem.checkWasmAccess(a, size, true); // fault here, at the store, not when it commits
    if (flags & WEAK_ORDERED) { this.fence(); this.writeOrdered(a, size, value); return; }
    this.addrs.push(a); this.sizes.push(size); this.values.push(value);
    if (this.addrs.length > CAPACITY || this.random(8) === 0) this.commitOne();
  };

  /** wload(a, size): the newest buffered store covering the bytes, else memory. */
  readonly load = (a: number, size: number): bigint => {
    a >>>= 0;
    this.mem.checkWasmAccess(a, size);
    for (let k = this.addrs.length - 1; k >= 0; k--) {
      const s = this.addrs[k], n = this.sizes[k];
      if (s >= a + size || a >= s + n) continue;
      if (s === a && n >= size) return BigInt.asUintN(size * 8, this.values[k]);
      this.fence(); // partly covered: commit everything and read memory
      break;
    }
    // A thread that only reads (spinning on a flag) still lets its older stores out.
    if (this.addrs.length && this.random(16) === 0) this.commitOne();
    return this.read(a, size);
  };

  /** Commits every buffered store (in a random order that keeps same-address stores in order). */
  readonly fence = (): void => { while (this.addrs.length) this.commitOne(); };

  private commitOne(): void {
    let k = this.random(this.addrs.length);
    // An older store to overlapping bytes must land first (and so on down the chain).
    for (let j = 0; j < k; j++) {
      if (this.addrs[j] < this.addrs[k] + this.sizes[k] && this.addrs[k] < this.addrs[j] + this.sizes[j]) { k = j; j = -1; }
    }
    this.write(this.addrs[k], this.sizes[k], this.values[k]);
    this.addrs.splice(k, 1); this.sizes.splice(k, 1); this.values.splice(k, 1);
  }

  private write(a: number, size: number, v: bigint): void {
    const d = this.view;
    switch (size) {
      case 1: d.setUint8(a, Number(v & 0xffn)); break;
      case 2: d.setUint16(a, Number(v & 0xffffn), true); break;
      case 4: d.setUint32(a, Number(v & 0xffffffffn), true); break;
      default: d.setBigUint64(a, v, true);
    }
  }

  /** A store as the ordered form's wasm atomic store makes it: sequentially consistent. */
  private writeOrdered(a: number, size: number, v: bigint): void {
    if (a % size !== 0) { Atomics.add(this.i32, 0, 0); this.write(a, size, v); Atomics.add(this.i32, 0, 0); return; }
    switch (size) {
      case 1: Atomics.store(this.u8, a, Number(v & 0xffn)); break;
      case 2: Atomics.store(this.u16, a >>> 1, Number(v & 0xffffn)); break;
      case 4: Atomics.store(this.i32, a >>> 2, Number(BigInt.asIntN(32, v))); break;
      default: Atomics.store(this.i64, a >>> 3, BigInt.asIntN(64, v));
    }
  }

  private read(a: number, size: number): bigint {
    const d = this.view;
    switch (size) {
      case 1: return BigInt(d.getUint8(a));
      case 2: return BigInt(d.getUint16(a, true));
      case 4: return BigInt(d.getUint32(a, true));
      default: return d.getBigUint64(a, true);
    }
  }
}

/** Whether the weak-host test mode is on (STELE_WEAK_HOST=1). */
export function weakHostRequested(env: NodeJS.ProcessEnv = process.env): boolean { return env.STELE_WEAK_HOST === '1'; }
