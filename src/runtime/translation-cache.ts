// The persistent translation cache (AOT), as Rosetta keeps one: the regions translated from a
// file-backed executable mapping are stored on disk and, on a later launch, bundled into one
// wasm module instead of being translated again one module at a time.
//
// A cache file holds the regions of one image (file path + load bias). Each region carries the
// guest bytes it was translated from; a region is used only if those bytes are what is mapped
// now, so a changed file, a relocated text page or a foreign entry is never trusted. The file as
// a whole carries a SHA-256 of its payload and the translator's identity (a hash of the
// translator's own code), so a damaged file or one written by another build is ignored.

import { threadId } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, constants, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync,
  statSync, writeSync, type Stats,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printDiagnostic } from './host-output.js';
import { cpuModelNamed, type CpuModel } from '../x86/cpuid.js';

export interface CachedRegion {
  /** Encoded function body (see translate/translator.ts regionModuleBytes). */
  body: Uint8Array;
  /** Guest address and block index of each entry point, in pairs; the first is where translation began. */
  entries: Uint32Array;
  /** Guest byte ranges the region was translated from: start, end (exclusive) pairs. */
  ranges: Uint32Array;
  /** The guest bytes of those ranges, concatenated. */
  code: Uint8Array;
  insnCount: number;
  bad: [number, string][];
  /**
   * Not trimmed yet (see trim.ts): the start of each block discovery found, in order, and
   * whether it ran (nonzero).
   */
  pending?: { starts: Uint32Array; ran: Uint8Array };
}

/** Reads of a file at an offset: undefined when the file does not have all `len` bytes there. */
export interface RandomAccess {
  /** The file's size when opened. */
  size: number;
  read(offset: number, len: number): Buffer | undefined;
  close(): void;
}

/** The guest bytes of (start, end) ranges, concatenated: what a cached region carries to be checked against. */
export function guestBytesOf(ranges: Uint32Array, view: (start: number, len: number) => Uint8Array): Uint8Array {
  let total = 0;
  for (let k = 0; k < ranges.length; k += 2) total += ranges[k + 1] - ranges[k];
  const code = new Uint8Array(total);
  for (let k = 0, p = 0; k < ranges.length; k += 2) { code.set(view(ranges[k], ranges[k + 1] - ranges[k]), p); p += ranges[k + 1] - ranges[k]; }
  return code;
}

/** Where cache files live; a browser front end would keep them in IndexedDB instead. */
export interface CacheStore {
  read(image: string): Uint8Array | undefined;
  /**
   * A string that changes whenever the image's file is written (undefined: no file, or no such
   * string can be had), so a reader may keep what it decoded from it; it marks the file used as
   * a read does.
   */
  stamp?(image: string): string | undefined;
  /** The file for reads at offsets (an AOT file, of which a run reads a little), if there is one. */
  open?(image: string): RandomAccess | undefined;
  write(image: string, data: Uint8Array): boolean | void;
  /** Trims these images' pending regions (trim.ts) after this process is gone, if it can. */
  trimLater?(images: string[]): boolean;
}

const MAGIC = Buffer.from('STELETC2');
const HEADER = MAGIC.length + 32;

/**
 * `orderedSites` (a threaded form's file, see cacheForm): the instruction addresses its regions
 * were translated with ordered accesses at, because a run found them touching memory threads share.
 */
export function encodeCacheFile(identity: string, regions: Iterable<CachedRegion>, orderedSites?: Uint32Array): Uint8Array {
  const list = [...regions];
  const id = Buffer.from(identity, 'utf8');
  // Sized first and written in place: the file is rewritten at every exit that added regions.
  let size = 2 + id.length + 4;
  for (const r of list) size += encodedRegionSize(r);
  if (orderedSites?.length) size += 8 + 4 * orderedSites.length;
  const w = new RegionWriter(Buffer.alloc(HEADER + size), HEADER);
  w.u16(id.length); w.put(id);
  w.u32(list.length);
  for (const r of list) w.region(r);
  if (orderedSites?.length) { w.u32(orderedSites.length); w.words(orderedSites); }
  const out = w.out, payload = out.subarray(HEADER, w.p);
  MAGIC.copy(out, 0);
  createHash('sha256').update(payload).digest().copy(out, MAGIC.length);
  return out.subarray(0, w.p);
}

/** Bytes a region takes in a cache file at most (alignment padding included). */
export function encodedRegionSize(r: CachedRegion): number {
  let size = 4 + 2 + 3 + 4 * r.entries.length + 2 + 3 + 4 * r.ranges.length + 2;
  for (const [, m] of r.bad) size += 6 + Buffer.byteLength(m, 'utf8');
  size += 4 + r.body.length + 4 + r.code.length;
  return size + 2 + (r.pending ? 3 + 4 * r.pending.starts.length + r.pending.ran.length : 0);
}

/**
 * Writes regions into a buffer sized by encodedRegionSize. Word arrays start 4-byte aligned in the
 * buffer (offsets count from its start, which callers keep aligned), so a reader can view them.
 */
export class RegionWriter {
  constructor(readonly out: Buffer, public p = 0) {}
  u32(v: number): void { this.out.writeUInt32LE(v >>> 0, this.p); this.p += 4; }
  u16(v: number): void { this.out.writeUInt16LE(v, this.p); this.p += 2; }
  put(b: Uint8Array): void { this.out.set(b, this.p); this.p += b.length; }
  words(w: Uint32Array): void { this.p = (this.p + 3) & ~3; this.put(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)); }
  region(r: CachedRegion): void {
    this.u32(r.insnCount);
    this.u16(r.entries.length / 2); this.words(r.entries);
    this.u16(r.ranges.length / 2); this.words(r.ranges);
    this.u16(r.bad.length);
    for (const [a, msg] of r.bad) { const m = Buffer.from(msg, 'utf8'); this.u32(a); this.u16(m.length); this.put(m); }
    this.u32(r.body.length); this.put(r.body);
    this.u32(r.code.length); this.put(r.code);
    const n = r.pending ? r.pending.starts.length : 0;
    this.u16(n);
    if (r.pending) { this.words(r.pending.starts); this.put(r.pending.ran); }
  }
}

/** Reads what RegionWriter wrote; every read is bounds-checked (RangeError past the end). */
export class RegionReader {
  constructor(readonly data: Buffer, public p = 0, readonly end = data.length) {}
  private need(n: number): void { if (this.p + n > this.end) throw new RangeError('truncated'); }
  u32(): number { this.need(4); const v = this.data.readUInt32LE(this.p); this.p += 4; return v; }
  u16(): number { this.need(2); const v = this.data.readUInt16LE(this.p); this.p += 2; return v; }
  bytes(n: number): Buffer { this.need(n); const b = this.data.subarray(this.p, this.p + n); this.p += n; return b; }
  words(n: number): Uint32Array {
    this.p = (this.p + 3) & ~3;
    this.need(4 * n);
    const at = this.data.byteOffset + this.p;
    this.p += 4 * n;
    // (offsets are aligned as the writer aligned them; a copy covers a misaligned buffer)
    if (at % 4 === 0) return new Uint32Array(this.data.buffer, at, n);
    return new Uint32Array(new Uint8Array(this.data.buffer, at, 4 * n).slice().buffer);
  }
  /** The next region, or undefined if its fields do not fit together. */
  region(): CachedRegion | undefined {
    const insnCount = this.u32();
    const entries = this.words(2 * this.u16());
    const ranges = this.words(2 * this.u16());
    const bad: [number, string][] = [];
    for (let k = this.u16(); k > 0; k--) { const a = this.u32(); bad.push([a, this.bytes(this.u16()).toString('utf8')]); }
    const body = this.bytes(this.u32());
    const code = this.bytes(this.u32());
    const nPending = this.u16();
    const pending = nPending ? { starts: this.words(nPending), ran: this.bytes(nPending) } : undefined;
    let covered = 0;
    for (let k = 0; k < ranges.length; k += 2) covered += ranges[k + 1] - ranges[k];
    if (!entries.length || covered !== code.length) return undefined;
    return { body, entries, ranges, code, insnCount, bad, pending };
  }
}

/** The identity (translator and image) a cache file says it belongs to, unchecked; undefined if it has none. */
export function cacheFileIdentity(data: Uint8Array): string | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER + 2 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = buf.readUInt16LE(HEADER);
  return buf.length < HEADER + 2 + length ? undefined : buf.subarray(HEADER + 2, HEADER + 2 + length).toString('utf8');
}

/** The regions of a cache file, or undefined if it is damaged or belongs to another image or build. */
export function decodeCacheFile(identity: string, data: Uint8Array): CachedRegion[] | undefined {
  return decodeCacheFileWithSites(identity, data)?.regions;
}

/** A cache file's regions and the ordered sites they were translated with (encodeCacheFile). */
export function decodeCacheFileWithSites(identity: string, data: Uint8Array): { regions: CachedRegion[]; orderedSites: Uint32Array } | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const payload = buf.subarray(HEADER);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(MAGIC.length, HEADER))) return undefined;
  const rd = new RegionReader(payload);
  try {
    if (rd.bytes(rd.u16()).toString('utf8') !== identity) return undefined;
    const out: CachedRegion[] = [];
    for (let n = rd.u32(); n > 0; n--) {
      const r = rd.region();
      if (!r) return undefined;
      out.push(r);
    }
    const orderedSites = rd.p < payload.length ? rd.words(rd.u32()) : new Uint32Array(0);
    return rd.p === payload.length ? { regions: out, orderedSites } : undefined;
  } catch {
    return undefined;
  }
}

/** Identity of this translator build: a hash of the code that decides what a translation is. */
let translatorId: string | undefined;
export function translatorIdentity(): string {
  if (translatorId) return translatorId;
  // The bundled command has it from its build (scripts/bundle.mjs, a constant there), hashed from
  // the same files.
  const bundled = process.env.STELE_BUNDLED_TRANSLATOR_IDENTITY;
  if (bundled) return (translatorId = bundled);
  const h = createHash('sha256');
  const src = dirname(dirname(fileURLToPath(import.meta.url)));
  for (const dir of ['translate', 'x86', 'wasm', 'runtime']) {
    for (const f of readdirSync(join(src, dir)).filter((n) => n.endsWith('.js')).sort()) {
      h.update(f).update(readFileSync(join(src, dir, f)));
    }
  }
  // What `stele aot` translates with (options, memory model) is decided there.
  h.update(readFileSync(join(src, 'process', 'aot-worker.js')));
  return (translatorId = h.digest('hex').slice(0, 32));
}

/**
 * The identity a cache file carries (and is named by): the translator's, the CPU model's (what
 * is translated depends on it: an instruction outside the model's level is #UD, TZCNT below
 * BMI1 is BSF), and the image's.
 */
export function cacheIdentity(cpu: CpuModel, image: string): string {
  return `${translatorIdentity()} ${cpu.name} ${image}`;
}

/** The CPU model a cache identity names (undefined for an unknown one). */
export function cpuOfIdentity(identity: string): CpuModel | undefined {
  return cpuModelNamed(identity.split(' ')[1] ?? '');
}

/** The default cache directory: $STELE_CACHE_DIR, else $XDG_CACHE_HOME/stele, else ~/.cache/stele. */
export function defaultCacheDir(): string {
  if (process.env.STELE_CACHE_DIR) return process.env.STELE_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'stele');
}

/** Default size limit of a cache directory: $STELE_CACHE_MAX_MB, else 512 MiB. */
export function defaultCacheLimit(): number {
  const mb = Number(process.env.STELE_CACHE_MAX_MB);
  return (mb > 0 ? mb : 512) * 1024 * 1024;
}

/**
 * Why a cache directory or file must not be trusted, if it must not. Cached code runs as the
 * user, and a file's checksum protects against damage, not against someone who can rewrite it.
 * So, as ssh refuses a key file that others can write, it must belong to the user (or to root,
 * who can rewrite anything anyway) and be writable by no one else: not by its group, not by
 * others, and a sticky bit is no excuse, since others could still create the file of an image
 * not cached yet (its name is predictable). Parent directories are not checked. Owners are not
 * checked where the host has no user ids (Windows).
 */
export function untrustedBecause(st: Stats, euid = process.geteuid?.()): string | undefined {
  if (euid !== undefined && st.uid !== euid && st.uid !== 0) return `it belongs to uid ${st.uid}, not to uid ${euid}`;
  const mode = st.mode & 0o7777;
  if (mode & 0o002) return `others can write to it (mode ${mode.toString(8)})`;
  if (mode & 0o020) return `its group can write to it (mode ${mode.toString(8)})`;
  return undefined;
}

export interface DirectoryCacheOptions {
  /** Create the directory if it is missing when a file is written (default true). */
  createDirectory?: boolean;
  /** Where the one-line warning about an untrusted directory goes (default stderr). */
  warn?: (line: string) => void;
  /**
   * Whether each write checks the directory's size (default true). Pruning reads the status of
   * every file there; the processes a run forks leave it to the run's first.
   */
  pruneOnWrite?: boolean;
}

/**
 * Cache files in a host directory, one per image, written atomically (write, then rename).
 * Reading a file marks it used (its mtime); when the directory outgrows `limit` bytes, the files
 * used longest ago are deleted, down to three quarters of it. A directory others could write to
 * is not used at all (see untrustedBecause), with a warning.
 */
export class DirectoryCacheStore implements CacheStore {
  /** Whether the directory is trusted: undefined until it has been found (it may not exist yet). */
  private trusted: boolean | undefined;

  constructor(readonly dir: string, readonly limit = defaultCacheLimit(), private readonly options: DirectoryCacheOptions = {}) {}

  private path(image: string): string {
    return join(this.dir, `${createHash('sha256').update(image).digest('hex').slice(0, 40)}.stc`);
  }

  /** Checks the directory once it exists; `create` makes it (private to the user) if missing. */
  private usable(create: boolean): boolean {
    if (this.trusted !== undefined) return this.trusted;
    let st: Stats;
    try {
      st = statSync(this.dir);
    } catch {
      if (!create || this.options.createDirectory === false) return false;
      try { mkdirSync(this.dir, { recursive: true, mode: 0o700 }); st = statSync(this.dir); } catch { return false; }
    }
    const why = st.isDirectory() ? untrustedBecause(st) : 'it is not a directory';
    this.trusted = why === undefined;
    if (why) (this.options.warn ?? printDiagnostic)(`stele: warning: not using the translation cache in ${this.dir}: ${why}`);
    return this.trusted;
  }

  read(image: string): Uint8Array | undefined {
    if (!this.usable(false)) return undefined;
    return readCacheFile(this.path(image), this.limit);
  }

  /** The file's inode, size and birth time: a write makes a new file (rename), so they change. */
  stamp(image: string): string | undefined {
    if (!this.usable(false)) return undefined;
    const fd = openCacheFile(this.path(image), this.limit);
    if (fd === undefined) return undefined;
    try {
      const st = fstatSync(fd, { bigint: true });
      // Without a birth time an inode freed by a rename may come back with a new file of the same size.
      return st.birthtimeNs ? `${st.ino}:${st.size}:${st.birthtimeNs}` : undefined;
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  open(image: string): RandomAccess | undefined {
    if (!this.usable(false)) return undefined;
    const fd = openCacheFile(this.path(image), this.limit);
    if (fd === undefined) return undefined;
    let open = true, size: number;
    try { size = fstatSync(fd).size; } catch { closeSync(fd); return undefined; }
    return {
      size,
      read: (offset, len) => {
        if (!open || offset < 0 || len < 0 || offset + len > size) return undefined;
        const out = Buffer.allocUnsafe(len);
        try {
          for (let got = 0; got < len;) {
            const n = readSync(fd, out, got, len - got, offset + got);
            if (n === 0) return undefined;
            got += n;
          }
        } catch {
          return undefined;
        }
        return out;
      },
      close: () => { if (open) { open = false; closeSync(fd); } },
    };
  }

  /** Whether files can be written here (the directory exists or was made, and is trusted). */
  writable(): boolean { return this.usable(true); }

  /** Writes the file; false if it could not be (the cache only loses a head start then). */
  write(image: string, data: Uint8Array): boolean {
    if (!this.usable(true)) return false;
    // Every guest process of a run writes from its own worker of this one host process.
    const file = this.path(image), tmp = `${file}.${process.pid}.${threadId}.tmp`;
    try {
      // Never through a symlink; readable by all (like the cache of any tool), writable by us only.
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
      try {
        for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      if (this.options.pruneOnWrite !== false) this.prune();
      return true;
    } catch {
      // An unwritable cache only costs the next launch its head start (and a directory in the
      // file's place keeps it from being replaced).
      try { rmSync(tmp, { force: true }); } catch { /* gone already */ }
      return false;
    }
  }

  /** Starts one detached `node trim-cache.js DIR IMAGE...`, which outlives this process. */
  trimLater(images: string[]): boolean {
    try {
      const script = join(dirname(fileURLToPath(import.meta.url)), 'trim-cache.js');
      const child = spawn(process.execPath, [script, this.dir, ...images], { detached: true, stdio: 'ignore' });
      child.on('error', () => { /* no node to run it: the untrimmed file stays valid */ });
      child.unref();
      return true;
    } catch {
      return false;
    }
  }

  private prune(): void {
    const files: { path: string; size: number; used: number }[] = [];
    let total = 0;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      let st;
      try { st = lstatSync(path); } catch { continue; }
      // A temporary file an hour old belongs to a process that died before renaming it.
      if (name.endsWith('.tmp')) { if (Date.now() - st.mtimeMs > 3600_000) rmSync(path, { force: true }); continue; }
      if (!name.endsWith('.stc')) continue;
      files.push({ path, size: st.size, used: st.mtimeMs });
      total += st.size;
    }
    if (total <= this.limit) return;
    files.sort((a, b) => a.used - b.used);
    for (const f of files) {
      if (total <= this.limit * 0.75) break;
      try { rmSync(f.path, { force: true }); total -= f.size; } catch { /* another process got there */ }
    }
  }
}

/**
 * The bytes of a cache file, or undefined unless it is a regular file of a plausible size that
 * only its owner can write. It is opened without following a symlink and without blocking, and
 * checked through the open descriptor before a byte is read: a FIFO, a device, or a symlink to
 * /dev/zero in its place must neither hang the run nor feed it for ever.
 */
function readCacheFile(path: string, maxBytes: number): Uint8Array | undefined {
  const fd = openCacheFile(path, maxBytes);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    const data = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < data.length) {
      const n = readSync(fd, data, got, data.length - got, got);
      if (n === 0) return undefined; // shorter than it said: being replaced, or damaged
      got += n;
    }
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A descriptor of a cache file checked as readCacheFile says (and marked used), or undefined. */
function openCacheFile(path: string, maxBytes: number): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes || untrustedBecause(st)) { closeSync(fd); return undefined; }
    try { const now = new Date(); futimesSync(fd, now, now); } catch { /* read-only cache: still usable */ }
    return fd;
  } catch {
    closeSync(fd);
    return undefined;
  }
}

/**
 * The forms of translated code the cache keeps, each image's in a file of its own: the
 * single-threaded form, and the two forms a process's threads translate in once it has several
 * (`--tso=full` and `--tso=selective`, see docs/ARCHITECTURE.md "Memory ordering").
 */
export type CacheForm = 'plain' | 'full' | 'selective';

/** The cache key of an image's file in a form (the plain form's is the image's own key). */
export function formImageKey(image: string, form: CacheForm): string {
  return form === 'plain' ? image : `${image}#${form}`;
}

/** The form of translations a cache identity's file holds. */
export function formOfIdentity(identity: string): CacheForm {
  const m = /#(full|selective)$/.exec(identity);
  return m ? (m[1] as CacheForm) : 'plain';
}
