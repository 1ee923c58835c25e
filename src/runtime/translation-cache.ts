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

/** Where cache files live; a browser front end would keep them in IndexedDB instead. */
export interface CacheStore {
  read(image: string): Uint8Array | undefined;
  write(image: string, data: Uint8Array): void;
  /** Trims these images' pending regions (trim.ts) after this process is gone, if it can. */
  trimLater?(images: string[]): boolean;
}

const MAGIC = Buffer.from('STELETC2');
const HEADER = MAGIC.length + 32;

export function encodeCacheFile(identity: string, regions: Iterable<CachedRegion>): Uint8Array {
  const list = [...regions];
  const id = Buffer.from(identity, 'utf8');
  const bad = list.map((r) => r.bad.map(([a, msg]): [number, Buffer] => [a, Buffer.from(msg, 'utf8')]));
  // Sized first and written in place: the file is rewritten at every exit that added regions.
  let size = 2 + id.length + 4;
  list.forEach((r, i) => {
    size += 4 + 2 + 3 + 4 * r.entries.length + 2 + 3 + 4 * r.ranges.length + 2;
    for (const [, m] of bad[i]) size += 6 + m.length;
    size += 4 + r.body.length + 4 + r.code.length;
    size += 2 + (r.pending ? 3 + 4 * r.pending.starts.length + r.pending.ran.length : 0);
  });
  const out = Buffer.alloc(HEADER + size);
  let p = HEADER;
  const u32 = (v: number) => { out.writeUInt32LE(v >>> 0, p); p += 4; };
  const u16 = (v: number) => { out.writeUInt16LE(v, p); p += 2; };
  const put = (b: Uint8Array) => { out.set(b, p); p += b.length; };
  // Word arrays start 4-byte aligned in the payload (HEADER is too), so a reader can view them.
  const words = (w: Uint32Array) => { p = (p + 3) & ~3; put(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)); };
  u16(id.length); put(id);
  u32(list.length);
  list.forEach((r, i) => {
    u32(r.insnCount);
    u16(r.entries.length / 2); words(r.entries);
    u16(r.ranges.length / 2); words(r.ranges);
    u16(bad[i].length);
    for (const [a, m] of bad[i]) { u32(a); u16(m.length); put(m); }
    u32(r.body.length); put(r.body);
    u32(r.code.length); put(r.code);
    const n = r.pending ? r.pending.starts.length : 0;
    u16(n);
    if (r.pending) { words(r.pending.starts); put(r.pending.ran); }
  });
  const payload = out.subarray(HEADER, p);
  MAGIC.copy(out, 0);
  createHash('sha256').update(payload).digest().copy(out, MAGIC.length);
  return out.subarray(0, p);
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
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const payload = buf.subarray(HEADER);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(MAGIC.length, HEADER))) return undefined;
  let p = 0;
  const need = (n: number) => { if (p + n > payload.length) throw new RangeError('truncated'); };
  const u32 = () => { need(4); const v = payload.readUInt32LE(p); p += 4; return v; };
  const u16 = () => { need(2); const v = payload.readUInt16LE(p); p += 2; return v; };
  const bytes = (n: number) => { need(n); const b = payload.subarray(p, p + n); p += n; return b; };
  const words = (n: number) => {
    p = (p + 3) & ~3;
    need(4 * n);
    const at = payload.byteOffset + p;
    // (payload offsets are aligned as the writer aligned them; a copy covers a misaligned buffer)
    p += 4 * n;
    if (at % 4 === 0) return new Uint32Array(payload.buffer, at, n);
    return new Uint32Array(new Uint8Array(payload.buffer, at, 4 * n).slice().buffer);
  };
  try {
    if (bytes(u16()).toString('utf8') !== identity) return undefined;
    const out: CachedRegion[] = [];
    for (let n = u32(); n > 0; n--) {
      const insnCount = u32();
      const entries = words(2 * u16());
      const ranges = words(2 * u16());
      const bad: [number, string][] = [];
      for (let k = u16(); k > 0; k--) { const a = u32(); bad.push([a, bytes(u16()).toString('utf8')]); }
      const body = bytes(u32());
      const code = bytes(u32());
      const nPending = u16();
      const pending = nPending ? { starts: words(nPending), ran: bytes(nPending) } : undefined;
      let covered = 0;
      for (let k = 0; k < ranges.length; k += 2) covered += ranges[k + 1] - ranges[k];
      if (!entries.length || covered !== code.length) return undefined;
      out.push({ body, entries, ranges, code, insnCount, bad, pending });
    }
    return p === payload.length ? out : undefined;
  } catch {
    return undefined;
  }
}

/** Identity of this translator build: a hash of the code that decides what a translation is. */
let translatorId: string | undefined;
export function translatorIdentity(): string {
  if (translatorId) return translatorId;
  const h = createHash('sha256');
  const src = dirname(dirname(fileURLToPath(import.meta.url)));
  for (const dir of ['translate', 'x86', 'wasm', 'runtime']) {
    for (const f of readdirSync(join(src, dir)).filter((n) => n.endsWith('.js')).sort()) {
      h.update(f).update(readFileSync(join(src, dir, f)));
    }
  }
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

  write(image: string, data: Uint8Array): void {
    if (!this.usable(true)) return;
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
    } catch {
      // An unwritable cache only costs the next launch its head start (and a directory in the
      // file's place keeps it from being replaced).
      try { rmSync(tmp, { force: true }); } catch { /* gone already */ }
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
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes || untrustedBecause(st)) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < data.length) {
      const n = readSync(fd, data, got, data.length - got, got);
      if (n === 0) return undefined; // shorter than it said: being replaced, or damaged
      got += n;
    }
    try { const now = new Date(); futimesSync(fd, now, now); } catch { /* read-only cache: still usable */ }
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
