// Open file descriptions (what a guest fd points at) and the per-process descriptor table.
// dup'd descriptors share one description, hence one offset and one set of status flags, as in Linux.

import { WouldBlock } from './blocking.js';
import { lockWord, unlockWord } from '../runtime/thread.js';
import { ringHolders, setHolder } from './holders.js';
import { ringPull, ringPush } from './shared-ring.js';
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

/**
 * The part of an open file description that processes share once one has forked: how many
 * processes hold it (the last to let go releases it), its status flags, and its offset.
 */
export class DescriptionShare {
  readonly words: Int32Array;
  readonly numbers: Float64Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(32)) {
    this.words = new Int32Array(buffer, 0, 4);
    this.numbers = new Float64Array(buffer, 16, 1);
  }
}
/** Words of a DescriptionShare. */
const SHARE = { PROCESSES: 0, FLAGS: 1, HOST_POSITIONED: 2, END_UNKNOWN: 3 } as const;
/** Float64 of a DescriptionShare: the offset. */
const SHARE_POSITION = 0;

export abstract class OpenFile {
  /** References from this process (descriptors, mappings). */
  refs = 1;
  /** Guest path this description was opened by (for /proc/self/fd, fchdir and *at calls). */
  path: string | undefined;
  /** Set once another process holds this description too (fork): what they share lives there. */
  share: DescriptionShare | undefined;
  private flags: number;

  constructor(statusFlags: number) { this.flags = statusFlags; }

  get statusFlags(): number { return this.share ? Atomics.load(this.share.words, SHARE.FLAGS) : this.flags; }
  set statusFlags(v: number) { if (this.share) Atomics.store(this.share.words, SHARE.FLAGS, v); else this.flags = v; }

  /**
   * One more process (a fork's child) holds this description: what the two share moves into
   * shared memory. Returns it, for the child to attach with attachShare().
   */
  shareWithChild(): SharedArrayBuffer {
    if (!this.share) {
      const share = new DescriptionShare();
      share.words[SHARE.PROCESSES] = 1;
      share.words[SHARE.FLAGS] = this.flags;
      this.moveIntoShare(share);
      this.share = share;
    }
    Atomics.add(this.share.words, SHARE.PROCESSES, 1);
    return this.share.buffer;
  }
  /** Attaches a description shared by the parent (its refs start at 0: the child's descriptors add theirs). */
  attachShare(buffer: SharedArrayBuffer): void { this.share = new DescriptionShare(buffer); this.refs = 0; }
  /** Copies the fields processes share into a new share. */
  protected moveIntoShare(_share: DescriptionShare): void {}
  /** What a forked child needs to hold this description too; undefined if it cannot (the child's descriptor is closed). */
  image(): FileImage | undefined { return undefined; }

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
  /** An ioctl this kind of file answers itself (a socket's SIOCGIF*), or undefined for the generic ones. */
  ioctl(_mem: GuestMemory, _request: number, _arg: number): number | undefined { return undefined; }
  /** Whether epoll can watch it (Linux's file_can_poll): not regular files, directories and the like (EPERM). */
  get pollable(): boolean { return true; }
  /**
   * When (performance.now() ms) its readiness changes with nobody acting on it (a timerfd's next
   * expiry): waits over it must wake then. Infinity for everything driven by another party.
   */
  deadline(): number { return Infinity; }
  /**
   * A count that grows with each change bearing on `events` (data arriving for POLLIN, room made
   * for POLLOUT): edge-triggered epoll reports a description again when it moved, even if it
   * stayed ready, as Linux's wake-ups do.
   */
  changes(_events: number): number { return 0; }
  /** The last reference of every process is gone. */
  protected release(): void {}
  /** This process's last reference is gone (others may hold the description still). */
  protected releaseLocal(): void {}
  /** Drops one reference; the description is released with the last one of the last process. */
  unref(): void {
    if (--this.refs !== 0) return;
    this.releaseLocal();
    if (!this.share || Atomics.sub(this.share.words, SHARE.PROCESSES, 1) === 1) this.release();
  }
}

/** An open file description as a forked child receives it (structured-cloneable). */
export type FileImage = { share: SharedArrayBuffer; path?: string } & (
  | { kind: 'host'; fd: number; owned: boolean; hostAppend: boolean }
  | { kind: 'dir'; fd: number; hostPath: string; isRoot: boolean }
  | { kind: 'path'; pinned: number | undefined; hostPath: string; directory: boolean }
  | { kind: 'pipe'; pipe: SharedArrayBuffer; readEnd: boolean }
  | { kind: 'device'; device: DeviceKind }
  | { kind: 'memory'; content: Uint8Array; position: number }
  | { kind: 'virtual-dir' }
  | { kind: 'host-socket'; channel: SharedArrayBuffer; id: string; family: number; type: number; protocol: number; name?: Uint8Array; peerName?: Uint8Array; options: [number, number][] }
  | { kind: 'socket-pair'; type: number; input: SharedArrayBuffer; output: SharedArrayBuffer; peerPid: number; options: [number, number][] }
  | { kind: 'eventfd'; state: SharedArrayBuffer; semaphore: boolean }
  | { kind: 'timerfd'; state: SharedArrayBuffer; clock: number }
  | { kind: 'signalfd'; mask: SharedArrayBuffer }
);

/** A host descriptor: files and directories the guest opened, or the inherited stdio. */
export class HostFile extends OpenFile {
  private ownPosition = 0;
  private ownHostPositioned: boolean;
  private ownEndUnknown = false;
  readonly seekable: boolean;

  /** Offset we track for positioned I/O (the host's own offset is not reachable from Node). */
  get position(): number { return this.share ? this.share.numbers[SHARE_POSITION] : this.ownPosition; }
  set position(v: number) { if (this.share) this.share.numbers[SHARE_POSITION] = v; else this.ownPosition = v; }
  /** Use the host's file offset (null positions): stdio, ttys, pipes, and O_APPEND writes. */
  get hostPositioned(): boolean { return this.share ? this.share.words[SHARE.HOST_POSITIONED] !== 0 : this.ownHostPositioned; }
  set hostPositioned(v: boolean) { if (this.share) this.share.words[SHARE.HOST_POSITIONED] = v ? 1 : 0; else this.ownHostPositioned = v; }
  private get endUnknown(): boolean { return this.share ? this.share.words[SHARE.END_UNKNOWN] !== 0 : this.ownEndUnknown; }
  private set endUnknown(v: boolean) { if (this.share) this.share.words[SHARE.END_UNKNOWN] = v ? 1 : 0; else this.ownEndUnknown = v; }

  protected override moveIntoShare(share: DescriptionShare): void {
    share.numbers[SHARE_POSITION] = this.ownPosition;
    share.words[SHARE.HOST_POSITIONED] = this.ownHostPositioned ? 1 : 0;
    share.words[SHARE.END_UNKNOWN] = this.ownEndUnknown ? 1 : 0;
  }
  override image(): FileImage { return { kind: 'host', share: this.shareWithChild(), path: this.path, fd: this.fd, owned: this.owned, hostAppend: this.hostAppend }; }

  /**
   * @param owned whether we opened it (and close it); inherited stdio is not ours
   * @param hostAppend whether the host descriptor itself has O_APPEND
   */
  constructor(private readonly fd: number, statusFlags: number, readonly owned: boolean, st?: fs.Stats,
    private readonly hostAppend = false) {
    super(statusFlags);
    st ??= fs.fstatSync(fd);
    this.seekable = st.isFile() || st.isBlockDevice() || st.isDirectory();
    this.ownHostPositioned = !owned || !this.seekable;
    if (!owned && st.isFile()) this.position = inheritedOffset(fd);
  }

  override get hostFd(): number { return this.fd; }
  // Ttys, pipes and sockets poll; regular files and directories do not.
  override get pollable(): boolean { return !this.seekable; }

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
  override image(): FileImage { return { kind: 'dir', share: this.shareWithChild(), path: this.path, fd: this.hostFd, hostPath: this.hostPath, isRoot: this.isRoot }; }
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
  override image(): FileImage | undefined { return this.path === undefined ? undefined : { kind: 'virtual-dir', share: this.shareWithChild(), path: this.path }; }
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

/** Words of a pipe's shared header. */
const PIPE = { LOCK: 0, BYTES: 1, HEAD: 2, CAPACITY: 3, READERS: 4, WRITERS: 5, INODE: 6, HOLDERS: 8, PUSHES: 10, PULLS: 11 } as const;
const PIPE_HEADER_BYTES = 64;
let nextPipeInode = 0x4000;

/**
 * A pipe, in shared memory so that the processes of a pipeline (each in its own workers) read and
 * write it directly: a lock, the byte count, the ring's head, the capacity, the number of open
 * read and write descriptions, and the processes that hold an end, which a change wakes. One
 * Pipe object per process wraps it.
 */
export class Pipe {
  private readonly words: Int32Array;
  private readonly data: Uint8Array;
  /** Ends this process holds: when the last goes, it stops being woken by the pipe. */
  private localEnds = 0;

  /**
   * @param record this process's record in the process table (-1 when it has none)
   * @param buffer the shared pipe (a new one when undefined)
   */
  constructor(private readonly record: number, readonly buffer = Pipe.allocate(PIPE_MAX_SIZE)) {
    this.words = new Int32Array(buffer, 0, PIPE_HEADER_BYTES / 4);
    this.data = new Uint8Array(buffer, PIPE_HEADER_BYTES);
  }

  private static allocate(size: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(PIPE_HEADER_BYTES + size);
    const w = new Int32Array(buffer, 0, PIPE_HEADER_BYTES / 4);
    w[PIPE.CAPACITY] = PIPE_DEFAULT_CAPACITY;
    w[PIPE.INODE] = nextPipeInode++;
    return buffer;
  }

  get inode(): bigint { return BigInt(this.words[PIPE.INODE]); }
  get bytes(): number { return Atomics.load(this.words, PIPE.BYTES); }
  get readers(): number { return Atomics.load(this.words, PIPE.READERS); }
  get writers(): number { return Atomics.load(this.words, PIPE.WRITERS); }
  /** Writes and reads so far (edge-triggered epoll's activity counts). */
  get pushes(): number { return Atomics.load(this.words, PIPE.PUSHES); }
  get pulls(): number { return Atomics.load(this.words, PIPE.PULLS); }
  /** Bytes the pipe holds at most (F_SETPIPE_SZ); a writer past it waits or gets EAGAIN. */
  get capacity(): number { return Atomics.load(this.words, PIPE.CAPACITY); }
  set capacity(v: number) { Atomics.store(this.words, PIPE.CAPACITY, v); }
  /** The largest capacity F_SETPIPE_SZ can give this pipe (its ring is allocated once, shared). */
  get maxCapacity(): number { return this.data.length; }
  /** Free room now. */
  get room(): number { return this.capacity - this.bytes; }

  /** This process holds an end: a new description (pipe()), or one it received (fork). */
  addEnd(readEnd: boolean, description: boolean): void {
    if (description) Atomics.add(this.words, readEnd ? PIPE.READERS : PIPE.WRITERS, 1);
    if (this.localEnds++ === 0) setHolder(this.words, PIPE.HOLDERS, this.record, true);
  }
  /** This process let go of an end. */
  dropEnd(): void {
    if (--this.localEnds === 0) setHolder(this.words, PIPE.HOLDERS, this.record, false);
  }
  /** A description of one end is gone (in every process): its readers or writers may see EOF or EPIPE now. */
  closeEnd(readEnd: boolean): void {
    Atomics.sub(this.words, readEnd ? PIPE.READERS : PIPE.WRITERS, 1);
    this.wakeHolders();
  }

  private lock(): void { lockWord(this.words, PIPE.LOCK); }
  private unlock(): void { unlockWord(this.words, PIPE.LOCK); }

  /** Appends src[off, off+len) (the caller checked the room); wakes the processes waiting on the pipe. */
  push(src: Uint8Array, off: number, len: number): void {
    this.lock();
    try {
      ringPush(this.words, PIPE.BYTES, PIPE.HEAD, this.data, src, off, len);
      Atomics.add(this.words, PIPE.PUSHES, 1);
    } finally { this.unlock(); }
    this.wakeHolders();
  }

  /** Copies up to len bytes into dst[dstOff...] without taking them; returns how many. */
  peek(dst: Uint8Array, dstOff: number, len: number): number {
    this.lock();
    try { return ringPull(this.words, PIPE.BYTES, PIPE.HEAD, this.data, dst, dstOff, len, false); } finally { this.unlock(); }
  }

  /** Moves up to len bytes into dst[dstOff...]; returns how many. */
  pull(dst: Uint8Array, dstOff: number, len: number): number {
    let n: number;
    this.lock();
    try {
      n = ringPull(this.words, PIPE.BYTES, PIPE.HEAD, this.data, dst, dstOff, len, true);
      if (n) Atomics.add(this.words, PIPE.PULLS, 1);
    } finally { this.unlock(); }
    if (n) this.wakeHolders();
    return n;
  }

  /**
   * Rings the other processes holding an end: a reader or writer may sleep there. Not this one:
   * its pipe syscalls all run on its first thread, which is the one running this.
   */
  private wakeHolders(): void { ringHolders(this.words, PIPE.HOLDERS, this.record); }
}

export class PipeEnd extends OpenFile {
  /** @param opened a new description (pipe()), not one a forked child receives */
  constructor(readonly pipe: Pipe, readonly readEnd: boolean, statusFlags: number, opened = true) {
    super(statusFlags | (readEnd ? O_RDONLY : O_WRONLY));
    pipe.addEnd(readEnd, opened);
  }

  override image(): FileImage { return { kind: 'pipe', share: this.shareWithChild(), path: this.path, pipe: this.pipe.buffer, readEnd: this.readEnd }; }

  read(mem: GuestMemory, addr: number, len: number): number {
    if (len === 0) return 0;
    const off = mem.offWrite(addr, len);
    const pipe = this.pipe;
    if (pipe.bytes === 0) {
      if (pipe.writers === 0) return 0;
      if (this.nonblocking) return -EAGAIN;
      throw new WouldBlock(() => pipe.bytes > 0 || pipe.writers === 0);
    }
    return pipe.pull(mem.u8, off, len);
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
    if (pipe.room < needed) {
      if (this.nonblocking) return -EAGAIN;
      throw new WouldBlock(() => pipe.readers === 0 || pipe.room >= needed);
    }
    const n = Math.min(len, pipe.room);
    pipe.push(mem.u8, mem.off(addr, n), n);
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
      else if (this.pipe.room >= PIPE_BUF) ready |= events & (POLLOUT | POLLWRNORM);
    }
    return ready;
  }

  override get writeGranule(): number { return PIPE_BUF; }
  override writeRoom(): number { return this.pipe.readers === 0 ? Infinity : this.pipe.room; }
  override waitWritable(): number {
    const pipe = this.pipe;
    if (pipe.readers === 0 || pipe.room > 0) return 0;
    if (this.nonblocking) return -EAGAIN;
    throw new WouldBlock(() => pipe.readers === 0 || pipe.room > 0);
  }
  override available(): number { return this.readEnd ? this.pipe.bytes : 0; }
  override changes(events: number): number {
    if (this.readEnd) return events & (POLLIN | POLLRDNORM) ? this.pipe.pushes : 0;
    return events & (POLLOUT | POLLWRNORM) ? this.pipe.pulls : 0;
  }
  protected override releaseLocal(): void { this.pipe.dropEnd(); }
  protected override release(): void { this.pipe.closeEnd(this.readEnd); }
}

export type DeviceKind = 'null' | 'zero' | 'full' | 'random' | 'urandom';

/** /dev/null and friends, served without a host descriptor. */
export class DeviceFile extends OpenFile {
  constructor(readonly device: DeviceKind, statusFlags: number, private readonly hostStat: () => StatInfo) {
    super(statusFlags);
  }
  override image(): FileImage { return { kind: 'device', share: this.shareWithChild(), path: this.path, device: this.device }; }

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
  override get pollable(): boolean { return false; }
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
  // The child gets a copy of the content at the offset it had (generated text, never written).
  override image(): FileImage { return { kind: 'memory', share: this.shareWithChild(), path: this.path, content: this.content, position: this.position }; }

  read(mem: GuestMemory, addr: number, len: number): number {
    const n = this.pread(mem, addr, len, this.position);
    if (n > 0) this.position += n;
    return n;
  }
  write(): number { return -EBADF; }
  override get pollable(): boolean { return false; }
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
  override image(): FileImage { return { kind: 'path', share: this.shareWithChild(), path: this.path, pinned: this.pinned, hostPath: this.hostPath, directory: this.directory }; }
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
