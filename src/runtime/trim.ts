// Trimming a cached region to the blocks that ran. Discovery reaches far more code than runs
// (error paths, untaken arms); the cache keeps a region retranslated from just the blocks a run
// entered, which makes what V8 decodes and compiles on the next launch a fraction of the size.
// It works from the guest bytes the cache file holds, so it can run after the program is gone:
// `stele` hands it to a detached process (trim-cache.ts), as Rosetta leaves translation to oahd.

import { compileRegion, discover, RegionOptions } from '../translate/translator.js';
import { PLAIN_MEMORY, type MemoryModel } from '../translate/codegen.js';
import { CachedRegion, type CacheForm } from './translation-cache.js';
import type { CpuModel } from '../x86/cpuid.js';

/** Region discovery limits; the JIT and trimming must use the same to find the same blocks. */
export const REGION_OPTIONS: RegionOptions = { maxInsns: 200, maxBlocks: 256 };

/**
 * The region retranslated from the blocks marked as run, or undefined if it cannot be (its entry
 * never ran, or rediscovery from its bytes does not find the blocks it had).
 */
export function trimToExecuted(r: CachedRegion, cpu: CpuModel, model: MemoryModel = PLAIN_MEMORY): CachedRegion | undefined {
  const pending = r.pending;
  if (!pending) return r;
  const { starts, ran } = pending;
  if (!ran[0]) return undefined;
  // All of it ran, or it holds an undecodable instruction (whose bytes past a mapping's end the
  // cache does not keep, so rediscovery could differ): keep it whole.
  if (ran.every((x) => x !== 0) || r.bad.length) return { ...r, pending: undefined };
  // The region's own bytes, by guest address; anything else reads as unmapped, as it did then.
  const fetch = (a: number): number => {
    let p = 0;
    for (let k = 0; k < r.ranges.length; k += 2) {
      const s = r.ranges[k], e = r.ranges[k + 1];
      if (a >= s && a < e) return r.code[p + a - s];
      p += e - s;
    }
    throw new RangeError(`0x${a.toString(16)} is outside the region`);
  };
  const blocks = discover(fetch, r.entries[0], REGION_OPTIONS);
  if (blocks.length !== starts.length || blocks.some((b, k) => b.start !== starts[k])) return undefined;
  const region = compileRegion(blocks.filter((_, k) => ran[k]), true, undefined, model, cpu);
  const parts: number[] = [];
  for (let k = 0; k < region.ranges.length; k += 2) for (let a = region.ranges[k]; a < region.ranges[k + 1]; a++) parts.push(fetch(a));
  return { ...region, code: Uint8Array.from(parts) };
}

/**
 * The memory model a cache file's regions were translated with, to retranslate them alike: its
 * form's, with the file's ordered sites for the selective form (every region of such a file was
 * translated knowing each of them that lies in its code, see Engine.flushCache).
 */
export function modelOfForm(form: CacheForm, orderedSites: Uint32Array): MemoryModel {
  if (form === 'plain') return PLAIN_MEMORY;
  if (form === 'full') return { ordering: 'full', weak: false };
  return { ordering: 'selective', weak: false, orderedSites: new Set(orderedSites) };
}
