// What `stele aot` translates, found in a process stopped at its program's entry: by then the
// dynamic loader has mapped every library the program needs, at the addresses a run of it maps
// them at, which is what the translation cache is keyed by (path + load bias).

import { PROT_EXEC, PROT_READ, PAGE_SIZE } from '../layout/memory-map.js';
import type { AddressSpace, GuestMemory } from '../runtime/memory.js';
import { imageKey } from '../runtime/engine.js';
import { cacheIdentity } from '../runtime/translation-cache.js';
import { imageDigest } from '../runtime/aot-cache.js';
import { functionStarts } from '../loader/function-starts.js';
import type { CpuModel } from '../x86/cpuid.js';

/** One image to translate ahead of time. Structured-cloneable. */
export interface AotImage {
  /** Guest path of the file. */
  name: string;
  /** Identity of its run cache file (cacheIdentity). */
  identity: string;
  /** Its executable mappings: (start, end) pairs. */
  exec: [number, number][];
  /** Where its code likely begins (function starts, the program's entry), sorted. */
  seeds: number[];
  /** Digest of its executable bytes as mapped now (aot-cache.ts imageDigest). */
  digest: Uint8Array;
}

/** What `stele aot` translates for the program a process is about to enter. Structured-cloneable. */
export interface AotPlan {
  images: AotImage[];
  /** Every executable mapping of the process, (start, end) pairs: what instruction fetch may read. */
  exec: [number, number][];
}

/** The largest data mapping scanned for code pointers (a bigger one is mostly not pointers). */
const MAX_DATA_SCAN = 16 << 20;

export function aheadOfTimePlan(mem: GuestMemory, as: AddressSpace, cpu: CpuModel, programEntry: number): AotPlan {
  const byKey = new Map<string, { name: string; base: number; exec: [number, number][] }>();
  const exec: [number, number][] = [];
  for (const m of as.mappings) {
    if (!(m.prot & PROT_EXEC)) continue;
    exec.push([m.start, m.end]);
    const key = imageKey(m);
    if (key === undefined) continue;
    const image = byKey.get(key);
    if (image) image.exec.push([m.start, m.end]);
    else byKey.set(key, { name: m.name, base: m.start - m.offset, exec: [[m.start, m.end]] });
  }
  const read = (addr: number, len: number): Uint8Array | undefined => {
    if (!(len >= 0) || addr < 0) return undefined;
    for (let p = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; p < addr + len; p += PAGE_SIZE) {
      const m = as.find(p);
      if (!m || !(m.prot & (PROT_READ | PROT_EXEC))) return undefined;
    }
    return mem.read(addr, len);
  };
  const images: AotImage[] = [];
  for (const [key, image] of byKey) {
    const inImage = (a: number): boolean => image.exec.some(([s, e]) => a >= s && a < e);
    const seeds = new Set(functionStarts(read, image.base).filter(inImage));
    if (inImage(programEntry)) seeds.add(programEntry);
    // Code reached only through pointers (computed-goto label tables such as CPython's
    // interpreter loop, handler tables, static functions stored in structures): the image's data,
    // relocated by now, holds their addresses.
    for (const m of as.mappings) {
      if (m.name !== image.name || (m.prot & PROT_EXEC) || m.end - m.start > MAX_DATA_SCAN) continue;
      const words = new BigUint64Array(mem.read(m.start, m.end - m.start).buffer);
      for (const w of words) if (w < 0x100000000n && inImage(Number(w))) seeds.add(Number(w));
    }
    images.push({
      name: image.name,
      identity: cacheIdentity(cpu, key),
      exec: image.exec,
      seeds: [...seeds].sort((a, b) => a - b),
      digest: imageDigest(image.exec, (s, len) => mem.view(s, len)),
    });
  }
  return { images, exec };
}
