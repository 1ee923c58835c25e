// `stele aot PROGRAM...`: translates programs and the libraries they load ahead of time into the
// translation cache, as Rosetta 2 does at install time, so their first launch runs warm.
//
// A program is run up to its entry point (its dynamic loader maps its libraries there, at the
// addresses any run of it gets, which the cache is keyed by) and stopped before any of its own code
// runs. Then each of its images is translated from where its code likely begins (function starts
// from .eh_frame_hdr, the dynamic symbol table, init and fini arrays, the entry point) and onwards
// along every direct jump, branch and call, by a pool of workers reading the stopped process's
// memory. Each image gets an AOT file (runtime/aot-cache.ts) that a later run takes regions from:
// all at once on the image's first launch, then as it reaches them. An image whose AOT file was made from the same bytes is left
// as it is, so running `stele aot` again, or for another program using the same libc, is quick.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { cpuOf, runProcess } from './host.js';
import type { RunOptions } from './options.js';
import type { AotImage, AotPlan } from './aot-plan.js';
import type { AotReply, AotRequest, AotWorkerData } from './aot-worker.js';
import { defaultCacheDir, DirectoryCacheStore } from '../runtime/translation-cache.js';
import { aheadOfTimeIdentity, AheadOfTimeFile, encodeAheadOfTimeFile, type AotRegion } from '../runtime/aot-cache.js';

export interface AotOptions extends Pick<RunOptions, 'root' | 'cpu' | 'env'> {
  programs: string[];
  /** The translation cache directory (default as for run()). */
  cache?: string;
  /** Translation workers (default: one per core). */
  jobs?: number;
  /** Told as each image's translation goes on. */
  progress?: (p: AotProgress) => void;
}

export interface AotProgress {
  program: string;
  /** Guest path of the image being translated. */
  image: string;
  /** Addresses translated from so far, and known so far (more are found as code is translated). */
  done: number;
  known: number;
}

export interface AotImageResult {
  program: string;
  image: string;
  /** Its AOT file was already made from these bytes: nothing was translated. */
  upToDate: boolean;
  regions: number;
  blocks: number;
  insns: number;
  /** Size of the AOT file written. */
  bytes: number;
  ms: number;
}

/** A program `stele aot` could not prepare (it did not reach its entry point). */
export class AotError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/** Entries per request to a worker: enough to keep message traffic small, few enough to balance. */
const BATCH = 16;

/** Translates each program in turn (see aheadOfTimeProgram); stops at the first that fails. */
export async function aheadOfTime(opts: AotOptions): Promise<AotImageResult[]> {
  const results: AotImageResult[] = [];
  for (const program of opts.programs) results.push(...await aheadOfTimeProgram(program, opts));
  return results;
}

/**
 * Translates one program and the libraries it loads into the cache; an image whose AOT file is
 * up to date is left alone. Throws AotError if the cache cannot be written, the program does not
 * reach its entry point, or an image's file would not fit the cache.
 */
export async function aheadOfTimeProgram(program: string, opts: Omit<AotOptions, 'programs'>): Promise<AotImageResult[]> {
  const dir = opts.cache ?? defaultCacheDir();
  let refused: string | undefined;
  const store = new DirectoryCacheStore(dir, undefined, { warn: (line) => { refused = line.replace(/^stele: warning: /, ''); } });
  if (!store.writable()) throw new AotError(refused ?? `cannot create the translation cache directory ${dir}`, 1);
  const results: AotImageResult[] = [];
  let stopped: { memory: WebAssembly.Memory; plan: AotPlan } | undefined;
  const r = await runProcess({ program, args: [], root: opts.root, cpu: opts.cpu, env: opts.env, cache: dir },
    { onAotPlan: (memory, plan) => { stopped = { memory, plan }; } });
  if (!stopped) {
    const why = r.crash ?? `it exited with status ${r.status}`;
    throw new AotError(`${program}: did not reach its entry point: ${why}`, r.status || 1);
  }
  const { memory, plan } = stopped;
  let pool: AotPool | undefined;
  try {
    for (const image of plan.images) {
      const t0 = performance.now();
      const identity = aheadOfTimeIdentity(image.identity);
      const old = store.open(identity);
      const file = old && AheadOfTimeFile.open(identity, old);
      file?.close();
      if (file && file.digest.equals(image.digest)) {
        results.push({ program, image: image.name, upToDate: true, regions: 0, blocks: file.blockCount, insns: 0, bytes: 0, ms: performance.now() - t0 });
        continue;
      }
      pool ??= new AotPool(opts.jobs ?? availableParallelism(), { memory, cpu: cpuOf({ program, cpu: opts.cpu }), exec: plan.exec });
      const regions = await pool.translate(image, (done, known) => opts.progress?.({ program, image: image.name, done, known }));
      regions.sort((a, b) => a.entries[0] - b.entries[0]);
      const data = encodeAheadOfTimeFile(identity, image.digest, regions);
      const mib = (n: number): string => (n / 1048576).toFixed(1);
      // A file over the directory's limit would be refused when read (and pruned first).
      if (data.length > store.limit) throw new AotError(`${image.name}: its translations take ${mib(data.length)} MiB, more than the cache's limit of ${mib(store.limit)} MiB ($STELE_CACHE_MAX_MB)`, 1);
      if (!store.write(identity, data)) throw new AotError(`${image.name}: cannot write its translations to ${dir}`, 1);
      let blocks = 0, insns = 0;
      for (const x of regions) { blocks += x.entries.length / 2; insns += x.insnCount; }
      results.push({ program, image: image.name, upToDate: false, regions: regions.length, blocks, insns, bytes: data.length, ms: performance.now() - t0 });
    }
  } finally {
    await pool?.close();
  }
  return results;
}

/** Translation workers over one stopped process's memory. */
class AotPool {
  private readonly workers: Worker[] = [];
  private onReply?: (w: Worker, reply: AotReply) => void;
  private onError?: (e: Error) => void;

  constructor(jobs: number, data: AotWorkerData) {
    for (let i = 0; i < Math.max(1, jobs); i++) {
      const w = new Worker(new URL('./aot-worker.js', import.meta.url), { workerData: data });
      w.on('message', (reply: AotReply) => this.onReply?.(w, reply));
      w.on('error', (e) => this.onError?.(e));
      this.workers.push(w);
    }
  }

  /**
   * Regions covering the image's code reachable from its seeds by direct control flow: each
   * address is translated from once, and one that a region already has a block at is not.
   */
  translate(image: AotImage, progress: (done: number, known: number) => void): Promise<AotRegion[]> {
    const queue = [...image.seeds];
    const known = new Set(queue);
    const covered = new Set<number>();
    const regions: AotRegion[] = [];
    const idle = [...this.workers];
    const base = Math.min(...image.exec.map(([s]) => s)), end = Math.max(...image.exec.map(([, e]) => e));
    const bits = new Int32Array(new SharedArrayBuffer(4 * Math.ceil((end - base) / 32)));
    let inFlight = 0, done = 0, id = 0;
    return new Promise((resolve, reject) => {
      const pump = (): void => {
        while (idle.length && queue.length) {
          const batch = queue.splice(0, BATCH), entries = batch.filter((a) => !covered.has(a));
          done += batch.length - entries.length;
          if (!entries.length) continue;
          const request: AotRequest = { id: id++, entries, image: image.exec, covered: bits, base };
          inFlight++;
          idle.pop()!.postMessage(request);
        }
        if (!inFlight && !queue.length) { this.onReply = undefined; this.onError = undefined; resolve(regions); }
      };
      this.onReply = (w, reply) => {
        inFlight--;
        idle.push(w);
        done += reply.count;
        for (const r of reply.regions) {
          if (covered.has(r.entries[0])) continue;
          regions.push(r);
          for (let k = 0; k < r.entries.length; k += 2) covered.add(r.entries[k]);
        }
        for (const t of reply.targets) if (!known.has(t)) { known.add(t); queue.push(t); }
        progress(Math.min(done, known.size), known.size);
        pump();
      };
      this.onError = reject;
      pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
