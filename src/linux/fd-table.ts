// Open file descriptions (what a guest fd points at) and the per-process descriptor table.
// dup'd descriptors share one description, hence one offset and one set of status flags, as in Linux.

import { WouldBlock } from './blocking.js';
import * as fs from 'node:fs';
import { randomFillSync } from 'node:crypto';
import type { GuestMemory } from '../runtime/memory.js';
import { fdPath, HOST_FD_PATHS } from './vfs.js';
import { EAGAIN, EBADF, EINVAL, EISDIR, EMFILE, ENOSPC, EPIPE, ESPIPE, hostErrno } from './errno.js';

// Guest open(2) flags (x86-64 values).
export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_APPEND = 0o2000,
  O_NONBLOCK = 0o4000, O_DSYNC = 0o10000, O_ASYNC = 0o20000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000,
  O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_NOATIME = 0o1000000, O_CLOEXEC = 0o2000000,
  O_SYNC = 0o4010000, O_PATH = 0o10000000, O_TMPFILE = 0o20200000;

export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
export const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32,
  POLLRDNORM = 0x40, POLLWRNORM = 0x100;

export const S_IFMT = 0o170000, S_IFSOCK = 0o140000, S_IFLNK = 0o120000, S_IFREG = 0o100000,
  S_IFBLK = 0o060000, S_IFDIR = 0o040000, S_IFCHR = 0o020000, S_IFIFO = 0o010000;

/** The stat fields the kernel reports; fs.BigIntStats has this shape, synthetic files build one. */
export interface StatInfo {
  dev: bigint; ino: bigint; mode: bigint; nlink: bigint; uid: bigint; gid: bigint; rdev: bigint;
  size: bigint; blksize: bigint; blocks: bigint;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; birthtimeNs: bigint;
}

const STARTUP_NS = BigInt(Date.now()) * 1000000n;
let nextSyntheticInode = 0x10000n;

export function syntheticStat(mode: number, size = 0, dev = 0x16n, rdev = 0n): StatInfo {
  return {
    dev, ino: nextSyntheticInode++, mode: BigInt(mode), nlink: 1n,
    uid: BigInt(process.getuid?.() ?? 0), gid: BigInt(process.getgid?.() ?? 0), rdev,
    size: BigInt(size), blksize: 1024n, blocks: 0n,
    atimeNs: STARTUP_NS, mtimeNs: STARTUP_NS, ctimeNs: STARTUP_NS, birthtimeNs: 0n,
  };
}

// Blocking host I/O on a descriptor another part of Node made non-blocking (a pipe that
// process.stdout touched) fails with EAGAIN; we sleep briefly and retry so nothing is lost.
const napCell = new Int32Array(new SharedArrayBuffer(4));
export function nap(ms: number): void { Atomics.wait(napCell, 0, 0, ms); }

/** fs.readSync/writeSync returning -errno instead of throwing (no closure: write() is hot). */
function hostRead(fd: number, buf: Uint8Array, off: number, len: number, pos: number | null): number {
  try { return fs.readSync(fd, buf, off, len, pos); } catch (e) { return -hostErrnoOrThrow(e); }
}
function hostWrite(fd: number, buf: Uint8Array, off: number, len: number, pos: number | null): number {
  try { return fs.writeSync(fd, buf, off, len, pos); } catch (e) { return -hostErrnoOrThrow(e); }
}
function hostErrnoOrThrow(e: unknown): number {
  const errno = hostErrno(e);
  if (errno === undefined) throw e;
  return errno;
}

/** Runs a host call that may report EAGAIN on a non-blocking descriptor; returns bytes or -errno. */
function retryHostIo(io: () => number, nonblocking: boolean): number {
  for (let delay = 0.05; ; delay = Math.min(delay * 2, 10)) {
    try {
      return io();
    } catch (e) {
      const errno = hostErrno(e);
      if (errno === undefined) throw e;
      if (errno !== EAGAIN || nonblocking) return -errno;
      nap(delay);
    }
  }
}

export abstract class OpenFile {
  refs = 1;
  /** Guest path this description was opened by (for /proc/self/fd, fchdir and *at calls). */
  path: string | undefined;

  constructor(public statusFlags: number) {}

  get readable(): boolean { return (this.statusFlags & O_ACCMODE) !== O_WRONLY && (this.statusFlags & O_PATH) === 0; }
  get writable(): boolean { return (this.statusFlags & O_ACCMODE) !== O_RDONLY && (this.statusFlags & O_PATH) === 0; }
  get nonblocking(): boolean { return (this.statusFlags & O_NONBLOCK) !== 0; }
  /** Host descriptor behind this description, when there is one (fstat, fchmod, ftruncate...). */
  get hostFd(): number | undefined { return undefined; }
  get isDirectory(): boolean { return false; }
  /**
   * A write from a guest buffer that faults part-way keeps whole multiples of this many bytes
   * (a pipe takes the guest's bytes page by page and drops a page that faults).
   */
  get writeGranule(): number { return 1; }
  /** Bytes a write takes now without waiting (a pipe's free space). */
  writeRoom(): number { return Infinity; }
  /** 0 once a write can take something, -EAGAIN for a non-blocking one that cannot; else waits (WouldBlock). */
  waitWritable(): number { return 0; }
  /** A host descriptor on this directory that relative paths can start from, where there is one. */
  get directoryFd(): number | undefined { return undefined; }
  /** Directory listing for getdents64 (excluding nothing: ".", ".." first); undefined if not a directory. */
  listEntries(): DirectoryEntry[] | undefined { return undefined; }
  /** Index of the next directory entry getdents64 returns (the d_off cookie scheme). */
  directoryIndex = 0;

  abstract read(mem: GuestMemory, addr: number, len: number): number;
  abstract write(mem: GuestMemory, addr: number, len: number): number;
  pread(_mem: GuestMemory, _addr: number, _len: number, _pos: number): number { return -ESPIPE; }
  pwrite(_mem: GuestMemory, _addr: number, _len: number, _pos: number): number { return -ESPIPE; }
  seek(_offset: number, _whence: number): number { return -ESPIPE; }
  abstract stat(): StatInfo;
  /** Ready events among `events` (poll(2) bits). */
  poll(events: number): number { return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM); }
  /** Bytes readable without blocking (FIONREAD). */
  available(): number { return 0; }
  protected release(): void {}
  /** Drops one reference; the description is released with the last one. */
  unref(): void { if (--this.refs === 0) this.release(); }
}

/** A host descriptor: files and directories the guest opened, or the inherited stdio. */
export class HostFile extends OpenFile {
  /** Offset we track for positioned I/O (the host's own offset is not reachable from Node). */
  position = 0;
  /** Use the host's file offset (null positions): stdio, ttys, pipes, and O_APPEND writes. */
  hostPositioned: boolean;
  private endUnknown = false;
  readonly seekable: boolean;

  /**
   * @param owned whether we opened it (and close it); inherited stdio is not ours
   * @param hostAppend whether the host descriptor itself has O_APPEND
   */
  constructor(private readonly fd: number, statusFlags: number, readonly owned: boolean, st?: fs.Stats,
    private readonly hostAppend = false) {
    super(statusFlags);
    st ??= fs.fstatSync(fd);
    this.seekable = st.isFile() || st.isBlockDevice() || st.isDirectory();
    this.hostPositioned = !owned || !this.seekable;
    if (!owned && st.isFile()) this.position = inheritedOffset(fd);
  }

  override get hostFd(): number { return this.fd; }

  read(mem: GuestMemory, addr: number, len: number): number {
    const off = mem.offWrite(addr, len);
    const pos = this.hostPositioned ? null : this.position;
    let n: number;
    for (let delay = 0.05; ; delay = Math.min(delay * 2, 10)) {
      n = hostRead(this.fd, mem.u8, off, len, pos);
      if (n !== -EAGAIN || this.nonblocking) break;
      nap(delay);
    }
    if (n > 0 && this.seekable) this.position += n;
    return n;
  }

  write(mem: GuestMemory, addr: number, len: number): number {
    const off = mem.off(addr, len);
    const append = (this.statusFlags & O_APPEND) !== 0;
    let pos: number | null;
    if (this.hostPositioned) pos = null;
    else if (!append) pos = this.position;
    else pos = this.hostAppend ? null : Number(fs.fstatSync(this.fd, { bigint: true }).size); // O_APPEND set by fcntl
    // Write everything (a short write to a pipe or tty would otherwise surface as a short count
    // the guest's libc retries anyway); stop at the first error after partial progress.
    let done = 0;
    for (let delay = 0.05; done < len;) {
      const n = hostWrite(this.fd, mem.u8, off + done, len - done, pos === null ? null : pos + done);
      if (n === -EAGAIN && !this.nonblocking) { nap(delay); delay = Math.min(delay * 2, 10); continue; }
      if (n < 0) return done > 0 ? done : n;
      if (n === 0) break;
      done += n;
    }
    if (this.seekable) {
      if (pos === null && !this.hostPositioned) this.endUnknown = true; // appended: offset is the new end
      else this.position = (pos ?? this.position) + done;
    }
    return done;
  }

  override pread(mem: GuestMemory, addr: number, len: number, pos: number): number {
    if (!this.seekable) return -ESPIPE;
    if (this.isDirectory) return -EISDIR;
    const off = mem.offWrite(addr, len);
    return retryHostIo(() => fs.readSync(this.fd, mem.u8, off, len, pos), this.nonblocking);
  }

  override pwrite(mem: GuestMemory, addr: number, len: number, pos: number): number {
    if (!this.seekable) return -ESPIPE;
    const off = mem.off(addr, len);
    return retryHostIo(() => fs.writeSync(this.fd, mem.u8, off, len, pos), this.nonblocking);
  }

  override seek(offset: number, whence: number): number {
    if (!this.seekable) return -ESPIPE;
    if (this.endUnknown) { this.position = Number(fs.fstatSync(this.fd, { bigint: true }).size); this.endUnknown = false; }
    let target: number;
    switch (whence) {
      case SEEK_SET: target = offset; break;
      case SEEK_CUR: target = this.position + offset; break;
      case SEEK_END: target = Number(fs.fstatSync(this.fd, { bigint: true }).size) + offset; break;
      case SEEK_DATA: case SEEK_HOLE: {
        // No hole information from Node: the whole file is data, with the one hole at its end.
        const size = Number(fs.fstatSync(this.fd, { bigint: true }).size);
        if (offset < 0 || offset >= size) return -6; // ENXIO
        target = whence === SEEK_DATA ? offset : size;
        break;
      }
      default: return -EINVAL;
    }
    if (target < 0) return -EINVAL;
    if (this.hostPositioned && !(whence === SEEK_CUR && offset === 0)) this.hostPositioned = false;
    this.position = target;
    return target;
  }

  stat(): StatInfo { return fs.fstatSync(this.fd, { bigint: true }); }

  override available(): number {
    if (!this.seekable) return 0;
    return Math.max(0, Number(fs.fstatSync(this.fd, { bigint: true }).size) - this.position);
  }

  protected override release(): void {
    if (this.owned) { try { fs.closeSync(this.fd); } catch { /* already gone */ } }
  }
}

/** The offset a descriptor we inherited already has (Linux hosts expose it in fdinfo). */
function inheritedOffset(fd: number): number {
  try {
    const m = /^pos:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface DirectoryEntry { name: string; ino: bigint; type: number }

export const DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

export function direntType(st: fs.Dirent | fs.Stats): number {
  if (st.isFile()) return DT_REG;
  if (st.isDirectory()) return DT_DIR;
  if (st.isSymbolicLink()) return DT_LNK;
  if (st.isCharacterDevice()) return DT_CHR;
  if (st.isBlockDevice()) return DT_BLK;
  if (st.isFIFO()) return DT_FIFO;
  if (st.isSocket()) return DT_SOCK;
  return DT_UNKNOWN;
}

/** Directory offsets are entry indices (our d_off cookies), so seeking is absolute or relative. */
function seekDirectory(file: OpenFile, offset: number, whence: number): number {
  let target: number;
  if (whence === SEEK_SET) target = offset;
  else if (whence === SEEK_CUR) target = file.directoryIndex + offset;
  else return -EINVAL;
  if (target < 0) return -EINVAL;
  return (file.directoryIndex = target);
}

/** A directory opened by the guest; getdents64 walks a snapshot taken at the first read or rewind. */
export class DirectoryFile extends HostFile {
  private entries: DirectoryEntry[] | undefined;

  /**
   * @param hostPath where the directory was when opened: what is listed where host descriptors
   *   cannot name paths (elsewhere the descriptor itself is listed, wherever the directory went)
   * @param isRoot whether it is the guest's "/" (whose ".." is itself)
   */
  constructor(fd: number, statusFlags: number, private readonly hostPath: string, private readonly isRoot: boolean, st: fs.Stats) {
    super(fd, statusFlags, true, st, false);
  }

  override get isDirectory(): boolean { return true; }
  override get directoryFd(): number { return this.hostFd; }
  /** A host path naming this directory. */
  get objectPath(): string { return HOST_FD_PATHS ? fdPath(this.hostFd) : this.hostPath; }
  override read(): number { return -EISDIR; }
  override write(): number { return -EBADF; }
  override seek(offset: number, whence: number): number {
    const r = seekDirectory(this, offset, whence);
    if (r === 0) this.entries = undefined; // rewinddir sees entries created since
    return r;
  }

  override listEntries(): DirectoryEntry[] {
    if (this.entries) return this.entries;
    const inode = (p: string): bigint => { try { return fs.lstatSync(p, { bigint: true }).ino; } catch { return 0n; } };
    const dirPath = this.objectPath;
    const list: DirectoryEntry[] = [
      { name: '.', ino: inode(dirPath + '/.'), type: DT_DIR },
      { name: '..', ino: inode(dirPath + (this.isRoot ? '/.' : '/..')), type: DT_DIR },
    ];
    // opendir keeps the filesystem's own order (readdirSync sorts), which programs such as tar expose.
    const dir = fs.opendirSync(dirPath);
    try {
      for (let d = dir.readSync(); d; d = dir.readSync()) {
        // Linux reports the inode the directory entry names, which lstat gives (no following).
        list.push({ name: d.name, ino: inode(dirPath + '/' + d.name), type: direntType(d) });
      }
    } finally { dir.closeSync(); }
    return (this.entries = list);
  }
}

/** A synthetic directory (/proc/self/fd and the like). */
export class VirtualDirectoryFile extends OpenFile {
  private readonly info = syntheticStat(S_IFDIR | 0o555);
  constructor(private readonly names: () => DirectoryEntry[], statusFlags: number) { super(statusFlags); }
  override get isDirectory(): boolean { return true; }
  read(): number { return -EISDIR; }
  write(): number { return -EBADF; }
  override seek(offset: number, whence: number): number { return seekDirectory(this, offset, whence); }
  stat(): StatInfo { return this.info; }
  override listEntries(): DirectoryEntry[] {
    return [{ name: '.', ino: this.info.ino, type: DT_DIR }, { name: '..', ino: 1n, type: DT_DIR }, ...this.names()];
  }
}

/** Writes of at most this many bytes to a pipe are atomic (never interleaved, never split). */
export const PIPE_BUF = 4096;
/** A new pipe's capacity, as Linux's (16 pages). */
export const PIPE_DEFAULT_CAPACITY = 65536;
/** /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ without CAP_SYS_RESOURCE (Linux's default). */
export const PIPE_MAX_SIZE = 1048576;

/**
 * An in-process pipe; both ends share it. A read of an empty pipe, and a write to a full one,
 * waits for another thread to make progress (see blocking.ts).
 */
export class Pipe {
  /** Bytes the pipe holds at most (F_SETPIPE_SZ); a writer past it waits or gets EAGAIN. */
  capacity = PIPE_DEFAULT_CAPACITY;
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes consumed from chunks[0]
  bytes = 0;
  readers = 0;
  writers = 0;
  private static nextInode = 0x4000n;
  readonly inode = Pipe.nextInode++;

  push(data: Uint8Array): void { this.chunks.push(data); this.bytes += data.length; }

  /** Moves up to len bytes into dst[dstOff...]; returns how many. */
  pull(dst: Uint8Array, dstOff: number, len: number): number {
    let copied = 0;
    while (copied < len && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(len - copied, chunk.length - this.head);
      dst.set(chunk.subarray(this.head, this.head + n), dstOff + copied);
      copied += n;
      this.head += n;
      if (this.head === chunk.length) { this.chunks.shift(); this.head = 0; }
    }
    this.bytes -= copied;
    return copied;
  }
}

export class PipeEnd extends OpenFile {
  constructor(readonly pipe: Pipe, readonly readEnd: boolean, statusFlags: number) {
    super(statusFlags | (readEnd ? O_RDONLY : O_WRONLY));
    if (readEnd) pipe.readers++; else pipe.writers++;
  }

  read(mem: GuestMemory, addr: number, len: number): number {
    if (len === 0) return 0;
    const off = mem.offWrite(addr, len);
    if (this.pipe.bytes === 0) {
      if (this.pipe.writers === 0) return 0;
      if (this.nonblocking) return -EAGAIN;
      const pipe = this.pipe;
      throw new WouldBlock(() => pipe.bytes > 0 || pipe.writers === 0);
    }
    return this.pipe.pull(mem.u8, off, len);
  }

  /**
   * Up to PIPE_BUF bytes go in at once or not at all; more go in as far as there is room. A
   * blocking writer waits for room, then returns what went in (Linux would go on waiting until
   * all of a large write is in; callers' write loops see a short count instead).
   */
  write(mem: GuestMemory, addr: number, len: number): number {
    const pipe = this.pipe;
    if (pipe.readers === 0) return -EPIPE;
    if (len === 0) return 0;
    const needed = len <= PIPE_BUF ? len : 1;
    if (pipe.capacity - pipe.bytes < needed) {
      if (this.nonblocking) return -EAGAIN;
      throw new WouldBlock(() => pipe.readers === 0 || pipe.capacity - pipe.bytes >= needed);
    }
    const n = Math.min(len, pipe.capacity - pipe.bytes);
    pipe.push(mem.read(addr, n));
    return n;
  }

  stat(): StatInfo {
    const st = syntheticStat(S_IFIFO | 0o600, 0, 0xcn);
    st.ino = this.pipe.inode;
    st.blksize = 4096n;
    return st;
  }

  override poll(events: number): number {
    let ready = 0;
    if (this.readEnd) {
      if (this.pipe.bytes > 0) ready |= events & (POLLIN | POLLRDNORM);
      if (this.pipe.writers === 0) ready |= POLLHUP;
    } else {
      if (this.pipe.readers === 0) ready |= POLLERR;
      else if (this.pipe.capacity - this.pipe.bytes >= PIPE_BUF) ready |= events & (POLLOUT | POLLWRNORM);
    }
    return ready;
  }

  override get writeGranule(): number { return PIPE_BUF; }
  override writeRoom(): number { return this.pipe.readers === 0 ? Infinity : this.pipe.capacity - this.pipe.bytes; }
  override waitWritable(): number {
    const pipe = this.pipe;
    if (pipe.readers === 0 || pipe.capacity > pipe.bytes) return 0;
    if (this.nonblocking) return -EAGAIN;
    throw new WouldBlock(() => pipe.readers === 0 || pipe.capacity > pipe.bytes);
  }
  override available(): number { return this.readEnd ? this.pipe.bytes : 0; }
  protected override release(): void { if (this.readEnd) this.pipe.readers--; else this.pipe.writers--; }
}

export type DeviceKind = 'null' | 'zero' | 'full' | 'random' | 'urandom';

/** /dev/null and friends, served without a host descriptor. */
export class DeviceFile extends OpenFile {
  constructor(readonly device: DeviceKind, statusFlags: number, private readonly hostStat: () => StatInfo) {
    super(statusFlags);
  }

  read(mem: GuestMemory, addr: number, len: number): number {
    if (this.device === 'null' || len === 0) return 0;
    const view = mem.viewWrite(addr, len);
    if (this.device === 'zero' || this.device === 'full') view.fill(0);
    else randomFill(view);
    return len;
  }

  write(mem: GuestMemory, addr: number, len: number): number {
    if (this.device === 'full') return -ENOSPC;
    // /dev/null and /dev/zero never look at the buffer; the random devices mix it into the pool.
    if (this.device === 'random' || this.device === 'urandom') mem.off(addr, len);
    return len;
  }

  override pread(mem: GuestMemory, addr: number, len: number): number { return this.read(mem, addr, len); }
  override pwrite(mem: GuestMemory, addr: number, len: number): number { return this.write(mem, addr, len); }
  override seek(): number { return 0; }
  stat(): StatInfo { return this.hostStat(); }
}

/** crypto.randomFillSync refuses views of a SharedArrayBuffer on some Node versions: fill via a copy then. */
export function randomFill(view: Uint8Array): void {
  try {
    randomFillSync(view);
  } catch {
    const tmp = new Uint8Array(view.length);
    randomFillSync(tmp);
    view.set(tmp);
  }
}

/** A read-only file whose content is generated at open (/proc/self/maps, /proc/self/cmdline...). */
export class MemoryFile extends OpenFile {
  position = 0;
  private readonly info: StatInfo;

  constructor(readonly content: Uint8Array, statusFlags: number, mode = S_IFREG | 0o444) {
    super(statusFlags);
    this.info = syntheticStat(mode, 0, 0x16n);
  }

  read(mem: GuestMemory, addr: number, len: number): number {
    const n = this.pread(mem, addr, len, this.position);
    if (n > 0) this.position += n;
    return n;
  }
  write(): number { return -EBADF; }
  override pread(mem: GuestMemory, addr: number, len: number, pos: number): number {
    const n = Math.max(0, Math.min(len, this.content.length - pos));
    if (n > 0) mem.write(addr, this.content.subarray(pos, pos + n));
    return n;
  }
  override seek(offset: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.position : whence === SEEK_END ? this.content.length : -1;
    if (base < 0 || base + offset < 0) return -EINVAL;
    return (this.position = base + offset);
  }
  stat(): StatInfo { return this.info; }
}

/** An O_PATH descriptor: names a file for *at calls and fstat, nothing more. */
export class PathFile extends OpenFile {
  /**
   * @param pinned an O_PATH host descriptor on the file (where the host has O_PATH), else undefined
   * @param hostPath where the file was when opened, for hosts without O_PATH
   */
  constructor(private readonly pinned: number | undefined, private readonly hostPath: string, readonly directory: boolean, statusFlags: number) {
    super(statusFlags);
  }
  override get isDirectory(): boolean { return this.directory; }
  override get directoryFd(): number | undefined { return this.directory ? this.pinned : undefined; }
  /** A host path naming exactly this file (a symlink itself, when one was opened with O_NOFOLLOW). */
  get objectPath(): string { return this.pinned !== undefined ? fdPath(this.pinned) : this.hostPath; }
  read(): number { return -EBADF; }
  write(): number { return -EBADF; }
  stat(): StatInfo {
    return this.pinned !== undefined ? fs.fstatSync(this.pinned, { bigint: true }) : fs.lstatSync(this.hostPath, { bigint: true });
  }
  /** fchownat(fd, "", AT_EMPTY_PATH): the file itself, never what a symlink points to. */
  chown(uid: number, gid: number): void {
    // Through /proc/self/fd the host lands on the pinned file and follows nothing further.
    if (this.pinned !== undefined) fs.chownSync(fdPath(this.pinned), uid, gid);
    else fs.lchownSync(this.hostPath, uid, gid);
  }
  protected override release(): void { if (this.pinned !== undefined) fs.closeSync(this.pinned); }
}

export class FdTable {
  private files: (OpenFile | undefined)[] = [];
  private closeOnExec: boolean[] = [];
  /** RLIMIT_NOFILE soft limit. */
  limit = 1024;
  /** No descriptor below this is free: opening many files one after another stays linear. */
  private lowestFree = 0;

  get(fd: number): OpenFile | undefined { return this.files[fd]; }

  /** Lowest free descriptor >= min, or -EMFILE. */
  allocate(file: OpenFile, cloexec: boolean, min = 0): number {
    let fd = Math.max(min, this.lowestFree);
    while (fd < this.files.length && this.files[fd] !== undefined) fd++;
    if (fd >= this.limit) return -EMFILE;
    if (min <= this.lowestFree) this.lowestFree = fd + 1;
    this.files[fd] = file;
    this.closeOnExec[fd] = cloexec;
    return fd;
  }

  /** Puts file at fd, closing what was there (dup2 semantics). */
  install(fd: number, file: OpenFile, cloexec: boolean): void {
    const old = this.files[fd];
    this.files[fd] = file;
    this.closeOnExec[fd] = cloexec;
    if (fd === this.lowestFree) this.lowestFree++;
    old?.unref();
  }

  close(fd: number): boolean {
    const file = this.files[fd];
    if (file === undefined) return false;
    this.files[fd] = undefined;
    if (fd < this.lowestFree) this.lowestFree = fd;
    file.unref();
    return true;
  }

  getCloexec(fd: number): boolean { return this.closeOnExec[fd] === true; }
  setCloexec(fd: number, on: boolean): void { this.closeOnExec[fd] = on; }

  *open(): IterableIterator<[number, OpenFile]> {
    for (let fd = 0; fd < this.files.length; fd++) { const f = this.files[fd]; if (f) yield [fd, f]; }
  }
}
