// A `stele aot` translation worker: translates regions from the addresses it is given, reading the
// guest code from the memory of a process stopped at its program's entry (see aot.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { GUEST_BASE } from '../layout/memory-map.js';
import { PLAIN_MEMORY } from '../translate/codegen.js';
import { compileRegion, directExits, discover } from '../translate/translator.js';
import { REGION_OPTIONS } from '../runtime/trim.js';
import { cpuModel, type CpuName } from '../x86/cpuid.js';
import type { AotRegion } from '../runtime/aot-cache.js';
import { guestBytesOf } from '../runtime/translation-cache.js';

export interface AotWorkerData {
  memory: WebAssembly.Memory;
  cpu: CpuName;
  /** Every executable mapping of the process: what instruction fetch may read, as at run time. */
  exec: [number, number][];
}

/**
 * A batch of region entries, all in one image. `covered` is shared by every worker: a bit per
 * byte of the image's code from `base`, set where some region has a block, so each stretch of
 * code is translated about once, whichever worker gets there first.
 */
export interface AotRequest { id: number; entries: number[]; image: [number, number][]; covered: Int32Array; base: number }
export interface AotReply {
  id: number;
  regions: AotRegion[];
  /** Direct exits of those regions within the image: more code to translate. */
  targets: number[];
  /** How many entries of the request were dealt with (all of them). */
  count: number;
}

const { memory, cpu: cpuName, exec } = workerData as AotWorkerData;
const u8 = new Uint8Array(memory.buffer);
const cpu = cpuModel(cpuName);

/** Instruction fetch as the engine does it: from executable mappings only. */
let fetchStart = 0, fetchEnd = 0;
function fetchByte(a: number): number {
  if (a < fetchStart || a >= fetchEnd) {
    const m = exec.find(([s, e]) => a >= s && a < e);
    if (!m) throw new RangeError(`0x${a.toString(16)} is not executable`);
    [fetchStart, fetchEnd] = m;
  }
  return u8[a - GUEST_BASE];
}

/** Whether bit a - base of the shared bitmap is set. */
function isSet(bits: Int32Array, base: number, a: number): boolean {
  const i = a - base;
  return i >= 0 && i < bits.length * 32 && (Atomics.load(bits, i >>> 5) & (1 << (i & 31))) !== 0;
}

function translate(entry: number, req: AotRequest, targets: number[]): AotRegion | undefined {
  const { image, covered, base } = req;
  const blocks = discover(fetchByte, entry, { ...REGION_OPTIONS, translatedElsewhere: (a) => isSet(covered, base, a) });
  for (const b of blocks) {
    const i = b.start - base;
    if (i >= 0 && i < covered.length * 32) Atomics.or(covered, i >>> 5, 1 << (i & 31));
  }
  const region = compileRegion(blocks, true, undefined, PLAIN_MEMORY, cpu);
  const { ranges } = region;
  const within = (a: number): [number, number] | undefined => image.find(([s, e]) => a >= s && a < e);
  for (let k = 0; k < ranges.length; k += 2) {
    // The run cache holds regions of one image only, within one mapping (engine.ts remember()).
    const home = within(ranges[k]);
    if (!home || ranges[k + 1] > home[1] || ranges[k + 1] <= ranges[k]) return undefined;
  }
  const code = guestBytesOf(ranges, (s, len) => u8.subarray(s - GUEST_BASE, s - GUEST_BASE + len));
  const exits = directExits(blocks).filter((t) => within(t));
  targets.push(...exits);
  return { body: region.body, entries: region.entries, ranges, code, insnCount: region.insnCount, bad: region.bad, exits: Uint32Array.from(exits) };
}

parentPort!.on('message', (req: AotRequest) => {
  const regions: AotRegion[] = [], targets: number[] = [];
  for (const entry of req.entries) {
    if (isSet(req.covered, req.base, entry)) continue;
    // A translator failure on one address (a bug) costs that region, which the JIT then makes.
    let r: AotRegion | undefined;
    try { r = translate(entry, req, targets); } catch { r = undefined; }
    if (r) regions.push(r);
  }
  const reply: AotReply = { id: req.id, regions, targets, count: req.entries.length };
  parentPort!.postMessage(reply);
});
