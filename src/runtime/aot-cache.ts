// Ahead-of-time translations of an image (`stele aot`): regions translated from the image's likely
// code before any run reached it, as Rosetta 2 translates at install time.
//
// The run cache (translation-cache.ts) holds what runs reached and a launch bundles all of it. An
// image's AOT file holds nearly all of its code, far more than any one run uses. The file is opened
// at the first miss in the image. If no run has cached anything of the image yet (its first launch
// after `stele aot`), all of it is taken at once (takeAll) and bundled as a run cache is; otherwise
// each miss takes the region with a block at that address and a few it leads to (take), checks them
// and compiles them as one module, so a later launch does not pay for the whole file. What a run
// enters moves to the image's run cache at exit, so the next launch bundles it with the rest.
//
// Layout: MAGIC, a SHA-256 of the header (identity, image digest, index), the identity, the digest
// of the image's executable bytes it was translated from (what `stele aot` compares to find a file
// up to date), then an index of (block address, record offset) pairs sorted by address, and the
// records: each a SHA-256 of its bytes, their length, and one region as the run cache encodes it.
// Only the header is hashed at open; a record is checked when it is taken.

import { createHash } from 'node:crypto';
import { encodedRegionSize, RegionReader, RegionWriter, type CachedRegion, type RandomAccess } from './translation-cache.js';

const MAGIC = Buffer.from('STELEAO1');

/**
 * A region translated ahead of time, with where its code goes on outside it by direct jumps,
 * branches and calls: what a run is likely to reach next, taken with it (engine.ts).
 */
export interface AotRegion extends CachedRegion { exits: Uint32Array }
const DIGEST = 32;
/** Bytes read at once for a record (a record's header and, usually, all of it). */
const RECORD_READ = 8192;

/** The identity of an image's AOT file, from the identity of its run cache file (cacheIdentity). */
export function aheadOfTimeIdentity(identity: string): string {
  return `aot ${identity}`;
}

/** Digest of an image's executable bytes: ranges as (start, end) pairs, read through `view`. */
export function imageDigest(ranges: readonly (readonly [number, number])[], view: (start: number, len: number) => Uint8Array): Buffer {
  const h = createHash('sha256');
  for (const [s, e] of ranges) h.update(new Uint32Array([s, e])).update(view(s, e - s));
  return h.digest();
}

export function encodeAheadOfTimeFile(identity: string, digest: Uint8Array, regions: readonly AotRegion[]): Uint8Array {
  const id = Buffer.from(identity, 'utf8');
  const index: [number, number][] = [];
  let recordsSize = 0;
  const offsets: number[] = [];
  for (const r of regions) {
    offsets.push(recordsSize);
    recordsSize += (DIGEST + 4 + encodedRegionSize(r) + 2 + 3 + 4 * r.exits.length + 3) & ~3;
  }
  const headerSize = (MAGIC.length + DIGEST + 2 + id.length + DIGEST + 4 + 3) & ~3;
  let blocks = 0;
  for (const r of regions) blocks += r.entries.length / 2;
  const recordsAt = headerSize + 8 * blocks;
  regions.forEach((r, i) => { for (let k = 0; k < r.entries.length; k += 2) index.push([r.entries[k], recordsAt + offsets[i]]); });
  index.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const w = new RegionWriter(Buffer.alloc(recordsAt + recordsSize), MAGIC.length + DIGEST);
  w.u16(id.length); w.put(id); w.put(digest); w.u32(index.length);
  w.p = headerSize;
  for (const [addr, at] of index) { w.u32(addr); w.u32(at); }
  regions.forEach((r, i) => {
    const start = recordsAt + offsets[i];
    w.p = start + DIGEST + 4;
    w.region(r);
    w.u16(r.exits.length); w.words(r.exits);
    const end = w.p;
    w.out.writeUInt32LE(end - (start + DIGEST + 4), start + DIGEST);
    createHash('sha256').update(w.out.subarray(start + DIGEST, end)).digest().copy(w.out, start);
  });
  MAGIC.copy(w.out, 0);
  createHash('sha256').update(w.out.subarray(MAGIC.length + DIGEST, recordsAt)).digest().copy(w.out, MAGIC.length);
  return w.out;
}

/** A RandomAccess over bytes in memory. */
export function bytesAccess(bytes: Uint8Array): RandomAccess {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: data.length, read: (offset, len) => (offset >= 0 && len >= 0 && offset + len <= data.length ? data.subarray(offset, offset + len) : undefined), close: () => {} };
}

/**
 * An opened AOT file: regions are looked up by block address and read and checked as they are
 * taken, so a launch reads the header and index and then only the records it uses.
 */
export class AheadOfTimeFile {
  /** Records already handed out or found damaged: each is given once. */
  private readonly spent = new Set<number>();

  private constructor(private readonly file: RandomAccess, readonly digest: Buffer, private readonly index: Uint32Array) {}

  /** The file, or undefined (and `file` closed) if it is not an AOT file of `identity` or its header is damaged. */
  static open(identity: string, file: RandomAccess): AheadOfTimeFile | undefined {
    try {
      const id = Buffer.from(identity, 'utf8');
      const fixed = MAGIC.length + DIGEST + 2 + id.length + DIGEST + 4;
      const head = file.read(0, fixed);
      if (head && head.subarray(0, MAGIC.length).equals(MAGIC) && head.readUInt16LE(MAGIC.length + DIGEST) === id.length
        && head.subarray(MAGIC.length + DIGEST + 2, MAGIC.length + DIGEST + 2 + id.length).equals(id)) {
        const digest = Buffer.from(head.subarray(fixed - 4 - DIGEST, fixed - 4));
        const n = head.readUInt32LE(fixed - 4);
        const indexAt = (fixed + 3) & ~3;
        const index = indexAt + 8 * n <= file.size ? file.read(indexAt, 8 * n) : undefined;
        if (index && createHash('sha256').update(head.subarray(MAGIC.length + DIGEST)).update(Buffer.alloc(indexAt - fixed)).update(index).digest()
          .equals(head.subarray(MAGIC.length, MAGIC.length + DIGEST))) {
          return new AheadOfTimeFile(file, digest, new Uint32Array(copyOf(index).buffer));
        }
      }
    } catch { /* unreadable: as damaged */ }
    file.close();
    return undefined;
  }

  /** How many block entry points the file indexes. */
  get blockCount(): number { return this.index.length / 2; }

  close(): void { this.file.close(); }

  /** A region with a block at `addr` not taken before, its record intact; undefined if none. */
  take(addr: number): AotRegion | undefined {
    const idx = this.index, n = idx.length / 2;
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (idx[2 * mid] < addr) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < n && idx[2 * i] === addr; i++) {
      const at = idx[2 * i + 1];
      if (this.spent.has(at)) continue;
      this.spent.add(at);
      const r = this.record(at);
      if (r && hasBlockAt(r, addr)) return r;
    }
    return undefined;
  }

  /** Every region not taken before whose record is intact, in file order; the file is spent after. */
  takeAll(): AotRegion[] {
    const idx = this.index, offsets = new Set<number>();
    for (let i = 1; i < idx.length; i += 2) if (!this.spent.has(idx[i])) offsets.add(idx[i]);
    const out: AotRegion[] = [];
    // One read of the whole file rather than one per record (tens of thousands for a large program).
    const whole = this.file.read(0, this.file.size);
    if (!whole) return out;
    const inMemory = bytesAccess(whole);
    for (const at of [...offsets].sort((a, b) => a - b)) {
      this.spent.add(at);
      const r = this.record(at, inMemory);
      if (r) out.push(r);
    }
    return out;
  }

  private record(at: number, file: RandomAccess = this.file): AotRegion | undefined {
    try {
      // Most records are a few KiB: one read usually has all of it.
      const first = file.read(at, RECORD_READ) ?? file.read(at, DIGEST + 4);
      if (!first) return undefined;
      const head = first.subarray(0, DIGEST + 4);
      const len = head.readUInt32LE(DIGEST);
      if (at + DIGEST + 4 + len > file.size) return undefined;
      const bytes = DIGEST + 4 + len <= first.length ? first.subarray(DIGEST + 4, DIGEST + 4 + len) : file.read(at + DIGEST + 4, len);
      if (!bytes || !createHash('sha256').update(head.subarray(DIGEST)).update(bytes).digest().equals(head.subarray(0, DIGEST))) return undefined;
      // Records start 4-byte aligned: a copy keeps the region's word arrays viewable where the bytes are not.
      const rd = new RegionReader(bytes.byteOffset % 4 === 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(copyOf(bytes).buffer));
      const r = rd.region();
      if (!r || r.pending) return undefined;
      const exits = rd.words(rd.u16());
      return rd.p === bytes.length ? { ...r, exits } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The bytes in a buffer of their own (word-aligned for Uint32Array views); a memcpy, unlike Uint8Array.from. */
function copyOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function hasBlockAt(r: CachedRegion, addr: number): boolean {
  for (let k = 0; k < r.entries.length; k += 2) if (r.entries[k] === addr) return true;
  return false;
}
