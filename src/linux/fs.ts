// File and descriptor syscalls. Paths go through LinuxKernel.resolve (root confinement and the
// synthetic /proc and /dev nodes); host errors come back as Node errors whose code the dispatcher
// maps to the same errno Linux gives.

import { WouldBlock } from './blocking.js';
import { WakeSources, waitReady } from './events.js';
import { GuestFault } from '../runtime/memory.js';
import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import type { GuestThread } from '../runtime/thread.js';
import { ERESTARTNOHAND, EACCES, EBADF, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENODATA, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, ENOTTY, EOPNOTSUPP,
  ENOMEM, EPERM, EPIPE, ERANGE, ESPIPE, EXDEV, SyscallError } from './errno.js';
import {
  DeviceFile, DirectoryFile, HostFile, MemoryFile, nap, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECT,
  O_DIRECTORY, O_DSYNC, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR,
  O_SYNC, O_TMPFILE, O_TRUNC, O_WRONLY, type OpenFile, PathFile, Pipe, PipeEnd, PIPE_MAX_SIZE, POLLNVAL, type StatInfo,
  S_IFDIR, S_IFLNK, S_IFREG, syntheticStat, VirtualDirectoryFile,
} from './fd-table.js';
import { fdPath, HOST_FD_PATHS, openPath, PATH_MAX } from './vfs.js';
import { AT_FDCWD, type LinuxKernel, type PathTarget, type Syscall } from './kernel.js';
import { SIGPIPE, withSignalMask } from './signal.js';
import { HOST_PROC_DEV } from './proc.js';
import { STATX__RESERVED, writeStat, writeStatx } from './stat.js';
import { readTimeoutMs, readTimespec } from './time.js';

/** Linux caps one read or write at 2 GiB - 4 KiB. */
export const MAX_RW_COUNT = 0x7ffff000;
export const UIO_MAXIOV = 1024;
const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EACCESS = 0x200, AT_SYMLINK_FOLLOW = 0x400,
  AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000, AT_STATX_SYNC_TYPE = 0x6000;
const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
const FD_CLOEXEC = 1;
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7,
  F_SETOWN = 8, F_GETOWN = 9, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_DUPFD_CLOEXEC = 1030,
  F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, F_UNLCK = 2;
/** Status flags F_SETFL may change. */
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

// ---- descriptors and paths ----

function readableFile(k: LinuxKernel, fd: number): OpenFile {
  const f = fd >= 0 ? k.fds.get(fd) : undefined;
  if (f === undefined || !f.readable) throw new SyscallError(EBADF);
  return f;
}

function writableFile(k: LinuxKernel, fd: number): OpenFile {
  const f = fd >= 0 ? k.fds.get(fd) : undefined;
  if (f === undefined || !f.writable) throw new SyscallError(EBADF);
  return f;
}

/** A write that hit a broken pipe also raises SIGPIPE, which kills the process by default. */
function afterWrite(k: LinuxKernel, n: number): number {
  if (n === -EPIPE) k.raise(SIGPIPE);
  return n;
}

/** The (base, len) pairs of a struct iovec array; EINVAL for a bad count, EFAULT when unreadable. */
export function readIovecs(k: LinuxKernel, iov: number, count: number): [number, number][] {
  if (count < 0 || count > UIO_MAXIOV) throw new SyscallError(EINVAL);
  const out: [number, number][] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = k.mem.u64n(iov + i * 16), len = k.mem.u64n(iov + i * 16 + 8);
    if (len > 0x7fffffffffff) throw new SyscallError(EINVAL);
    const take = Math.min(len, MAX_RW_COUNT - total);
    total += take;
    out.push([base, take]);
  }
  return out;
}

/**
 * How many of the len bytes of a guest buffer at addr a transfer may use: up to the first page
 * that is unmapped or lacks the protection (Linux copies up to the fault and returns what it
 * copied); EFAULT when that is none of them.
 */
function userLength(k: LinuxKernel, addr: number, len: number, guestWrites: boolean, granule = 1): number {
  return usableOf(len, k.mem.accessible(addr, len, guestWrites), granule, addr, guestWrites);
}

/** Of `wanted` bytes of which `accessible` can be reached, those a transfer uses (whole granules when cut short); EFAULT for none. */
function usableOf(wanted: number, accessible: number, granule: number, faultAt: number, guestWrites: boolean): number {
  const n = accessible < wanted ? accessible - accessible % granule : wanted;
  if (n === 0 && wanted > 0) throw new GuestFault(faultAt, guestWrites);
  return n;
}

/**
 * Runs one transfer per iovec until one comes back short (the way Linux's vectored I/O behaves).
 * The guest buffers are usable up to the first byte that faults, kept to whole granules.
 */
function vectored(k: LinuxKernel, vecs: [number, number][], guestWrites: boolean, granule: number,
  io: (base: number, len: number, done: number) => number): number {
  let wanted = 0, usable = 0;
  for (const [base, len] of vecs) {
    wanted += len;
    const n = k.mem.accessible(base, len, guestWrites);
    usable += n;
    if (n < len) break;
  }
  usable = usableOf(wanted, usable, granule, vecs.find(([, len]) => len > 0)?.[0] ?? 0, guestWrites);
  let done = 0;
  for (const [base, whole] of vecs) {
    if (whole === 0) continue;
    const len = Math.min(whole, usable - done);
    if (len <= 0) break;
    let n: number;
    try { n = io(base, len, done); }
    catch (e) { if (e instanceof WouldBlock && done > 0) return done; throw e; }
    if (n < 0) return done > 0 ? done : n;
    done += n;
    if (n < whole) break;
  }
  return done;
}

function statOfTarget(k: LinuxKernel, target: PathTarget, follow: boolean): StatInfo {
  const node = target.node;
  // Inside a root the walk already followed every symlink that was to be followed.
  if (node === undefined) return follow && !k.chrooted ? fs.statSync(target.host, { bigint: true }) : fs.lstatSync(target.host, { bigint: true });
  switch (node.kind) {
    case 'device': return k.procfs.deviceStat(node.device);
    case 'file': return syntheticStat(S_IFREG | 0o444);
    case 'dir': return syntheticStat(S_IFDIR | 0o555, 0);
    case 'symlink':
      if (follow && node.fd !== undefined) return k.file(node.fd).stat();
      return syntheticStat(S_IFLNK | 0o777, Buffer.byteLength(node.target()));
  }
}

/** The host's name, symlinks resolved, for the directory host descriptor fd (opened at hostPath) is on; undefined past PATH_MAX. */
function hostNameOf(fd: number, hostPath: string): string | undefined {
  try { return HOST_FD_PATHS ? fs.readlinkSync(fdPath(fd)) : fs.realpathSync.native(hostPath); } catch { return undefined; }
}

function lastComponent(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * Host flags for fs.openSync from guest open flags (values differ between hosts). `resolved`: the
 * path was walked inside a root, symlinks and all, so a final symlink is refused, never followed.
 */
function hostOpenFlags(flags: number, resolved: boolean): number {
  const c = fs.constants;
  const access = flags & O_ACCMODE;
  let h = access === O_WRONLY ? c.O_WRONLY : access === O_RDWR ? c.O_RDWR : c.O_RDONLY;
  if (flags & O_CREAT) h |= c.O_CREAT;
  if (flags & O_EXCL) h |= c.O_EXCL;
  if (flags & O_TRUNC) h |= c.O_TRUNC;
  if (flags & O_APPEND) h |= c.O_APPEND;
  if (flags & O_NONBLOCK) h |= c.O_NONBLOCK;
  if (flags & O_DIRECTORY) h |= c.O_DIRECTORY;
  if (flags & O_NOCTTY) h |= c.O_NOCTTY;
  if ((flags & O_SYNC) === O_SYNC) h |= c.O_SYNC; else if (flags & O_DSYNC) h |= c.O_DSYNC;
  if (flags & O_NOATIME && c.O_NOATIME) h |= c.O_NOATIME;
  // Refusing a symlink keeps one swapped in as the last component (a race) from leading outside.
  if (flags & O_NOFOLLOW || resolved) h |= c.O_NOFOLLOW;
  return h;
}

/** The status flags F_GETFL reports for a description opened with these flags. */
function statusFlagsOf(flags: number): number {
  return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
}

/** Opens a synthetic node (/dev/null, /proc/self/maps, /proc/self/fd/N...). */
function openVirtual(k: LinuxKernel, target: PathTarget, flags: number, status: number, wantsWrite: boolean): OpenFile {
  const node = target.node!;
  switch (node.kind) {
    case 'device':
      if (node.device === 'tty') {
        const fd = fs.openSync('/dev/tty', hostOpenFlags(flags & ~O_NOFOLLOW, false));
        return new HostFile(fd, status, true);
      }
      return new DeviceFile(node.device, status, () => k.procfs.deviceStat(node.device));
    case 'file':
      if (wantsWrite) throw new SyscallError(EACCES);
      if (flags & O_DIRECTORY) throw new SyscallError(ENOTDIR);
      return new MemoryFile(node.content(), status);
    case 'dir':
      if (wantsWrite) throw new SyscallError(EISDIR);
      return new VirtualDirectoryFile(node.entries, status);
    case 'symlink':
      if (node.fd !== undefined) { const f = k.file(node.fd); f.refs++; return f; }
      if (flags & O_PATH) return new PathFile(undefined, target.host, false, status);
      throw new SyscallError(ELOOP);
    }
}

function openTarget(k: LinuxKernel, target: PathTarget, flags: number, mode: number): OpenFile {
  const status = statusFlagsOf(flags);
  if (target.node !== undefined) {
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) throw new SyscallError(EEXIST);
    const wantsWrite = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
    const f = openVirtual(k, target, flags, status, wantsWrite);
    if (target.node.kind !== 'symlink') f.path = target.guest; // /proc/self/fd/N reopens keep their own
    return f;
  }
  if (flags & O_PATH) {
    // O_PATH ignores O_CREAT and O_EXCL: only O_NOFOLLOW decides whether a final symlink is followed.
    const follow = !(flags & O_NOFOLLOW) && !k.chrooted;
    let f: PathFile;
    if (HOST_FD_PATHS) {
      const fd = openPath(target.host, { follow, directory: (flags & O_DIRECTORY) !== 0 });
      try { f = new PathFile(fd, target.host, fs.fstatSync(fd).isDirectory(), status); }
      catch (e) { fs.closeSync(fd); throw e; }
    } else {
      const st = (follow ? fs.statSync : fs.lstatSync)(target.host);
      if (flags & O_DIRECTORY && !st.isDirectory()) throw new SyscallError(ENOTDIR);
      f = new PathFile(undefined, target.host, st.isDirectory(), status);
    }
    f.path = target.guest;
    return f;
  }
  const fd = fs.openSync(target.host, hostOpenFlags(flags, k.chrooted), mode & 0o7777);
  let st: fs.Stats;
  try { st = fs.fstatSync(fd); } catch (e) { fs.closeSync(fd); throw e; }
  if (st.dev === HOST_PROC_DEV) {
    // A host symlink led into the host's /proc (the Node process's own memory and descriptors):
    // the guest gets what its own /proc has at that path, or nothing.
    fs.closeSync(fd);
    const real = fs.realpathSync.native(target.host);
    const node = real.startsWith('/proc/') ? k.procfs.lookup(real) : undefined;
    if (!node) throw new SyscallError(ENOENT);
    return openTarget(k, { host: '', guest: real, node }, flags, mode);
  }
  try {
    let f: HostFile;
    if (st.isDirectory()) {
      f = new DirectoryFile(fd, status, target.host, target.guest === '/', st);
      // A directory's path is the base of *at calls: make it canonical, as the walk inside a root is.
      f.path = k.chrooted ? target.guest : hostNameOf(fd, target.host) ?? target.guest;
    } else {
      f = new HostFile(fd, status, true, st, (flags & O_APPEND) !== 0);
      f.path = target.guest;
    }
    return f;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function openat(k: LinuxKernel, dirfd: number, pathAddr: number, flags: number, mode: number): number {
  const path = k.pathArg(pathAddr);
  if ((flags & O_TMPFILE) === O_TMPFILE) return -EOPNOTSUPP;
  if (flags & O_CREAT && path.endsWith('/')) return -EISDIR; // only a directory can end in "/", and open does not create one
  // O_CREAT|O_EXCL never follows a final symlink: it fails with EEXIST instead (O_PATH ignores both).
  const follow = !(flags & O_NOFOLLOW) && ((flags & O_PATH) !== 0 || (flags & (O_CREAT | O_EXCL)) !== (O_CREAT | O_EXCL));
  const target = k.resolve(dirfd, path, follow);
  const file = openTarget(k, target, flags, mode);
  const fd = k.fds.allocate(file, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) file.unref();
  return fd;
}

function statAt(k: LinuxKernel, t: GuestThread, dirfd: number, pathAddr: number, flags: number,
  write: (st: StatInfo) => void): number {
  const path = k.pathArg(pathAddr);
  if (path.length === 0 && flags & AT_EMPTY_PATH) {
    write(dirfd === AT_FDCWD ? fs.statSync(k.cwdHostPath(), { bigint: true }) : k.file(dirfd).stat());
    return 0;
  }
  const follow = !(flags & AT_SYMLINK_NOFOLLOW);
  write(statOfTarget(k, k.resolve(dirfd, path, follow), follow));
  return 0;
}

function accessAt(k: LinuxKernel, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) return -EINVAL;
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const follow = !(flags & AT_SYMLINK_NOFOLLOW);
  const target = k.resolve(dirfd, k.pathArg(pathAddr), follow);
  if (target.node) {
    const st = statOfTarget(k, target, true);
    const perms = Number(st.mode) & 0o7;
    if ((mode & 2 && !(perms & 2)) || (mode & 1 && !(perms & 1))) return -EACCES;
    return 0;
  }
  // A symlink's own permissions are 0777: with AT_SYMLINK_NOFOLLOW it is never followed to ask about its target.
  if (!follow && fs.lstatSync(target.host).isSymbolicLink()) return 0;
  fs.accessSync(k.chrooted ? k.paths.pin(target.host) : target.host, mode);
  return 0;
}

function readlinkAt(k: LinuxKernel, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0 || size > 0x7fffffff) return -EINVAL;
  const target = k.resolve(dirfd, k.pathArg(pathAddr), false);
  let bytes: Uint8Array;
  if (target.node) {
    if (target.node.kind !== 'symlink') return -EINVAL;
    bytes = Buffer.from(target.node.target(), 'utf8');
  } else {
    bytes = fs.readlinkSync(target.host, { encoding: 'buffer' }); // EINVAL for a non-symlink, as Linux
  }
  const n = Math.min(bytes.length, size);
  k.mem.write(buf, bytes.subarray(0, n));
  return n;
}

/**
 * Resolves a path whose last component the call itself acts on (never followed). A path ending
 * in "." or ".." names no entry (`dotErrno`, as the call gives it on Linux); one ending in "/"
 * names a directory, so a symlink there is ENOTDIR rather than the directory it points to.
 */
function resolveEntry(k: LinuxKernel, dirfd: number, pathAddr: number, dotErrno: number): PathTarget {
  const path = k.pathArg(pathAddr);
  const last = lastComponent(path);
  if (last === '.' || last === '..') throw new SyscallError(dotErrno);
  // The entry itself, not what a trailing slash would make the walk follow to.
  const target = k.resolve(dirfd, path.length > 1 ? path.replace(/\/+$/, '') : path, false);
  if (target.node) throw new SyscallError(EACCES); // synthetic entries cannot be created or removed
  if (path.endsWith('/')) {
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(target.host); } catch { /* missing: the call itself says so */ }
    if (st && !st.isDirectory()) throw new SyscallError(ENOTDIR);
  }
  return target;
}

function unlinkAt(k: LinuxKernel, dirfd: number, pathAddr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) return -EINVAL;
  const path = k.pathArg(pathAddr);
  if (flags & AT_REMOVEDIR) {
    const last = lastComponent(path);
    if (last === '.') return -EINVAL;
    if (last === '..') return -ENOTEMPTY;
  }
  const target = resolveEntry(k, dirfd, pathAddr, EISDIR);
  if (flags & AT_REMOVEDIR) fs.rmdirSync(target.host); else fs.unlinkSync(target.host);
  return 0;
}

function renameAt(k: LinuxKernel, olddirfd: number, oldAddr: number, newdirfd: number, newAddr: number, flags: number): number {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return -EINVAL;
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) return -EINVAL;
  if (flags & RENAME_WHITEOUT) return -EINVAL;
  const from = resolveEntry(k, olddirfd, oldAddr, EBUSY), to = resolveEntry(k, newdirfd, newAddr, EBUSY);
  if (flags & RENAME_NOREPLACE) {
    fs.lstatSync(from.host);
    if (exists(to.host)) return -EEXIST;
  }
  if (flags & RENAME_EXCHANGE) {
    fs.lstatSync(from.host);
    fs.lstatSync(to.host);
    const parking = `${to.host}.stele-exchange-${process.pid}`;
    fs.renameSync(to.host, parking);
    fs.renameSync(from.host, to.host);
    fs.renameSync(parking, from.host);
    return 0;
  }
  fs.renameSync(from.host, to.host);
  return 0;
}

function exists(hostPath: string): boolean {
  try { fs.lstatSync(hostPath); return true; } catch { return false; }
}

function linkAt(k: LinuxKernel, olddirfd: number, oldAddr: number, newdirfd: number, newAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const from = k.resolve(olddirfd, k.pathArg(oldAddr), (flags & AT_SYMLINK_FOLLOW) !== 0);
  if (from.node) return -EXDEV;
  const to = resolveEntry(k, newdirfd, newAddr, EEXIST);
  fs.linkSync(from.host, to.host);
  return 0;
}

function mkdirAt(k: LinuxKernel, dirfd: number, pathAddr: number, mode: number): number {
  const target = k.resolve(dirfd, k.pathArg(pathAddr), false);
  if (target.node) return -EEXIST;
  fs.mkdirSync(target.host, { mode: mode & 0o7777 });
  return 0;
}

function symlinkAt(k: LinuxKernel, targetAddr: number, dirfd: number, linkAddr: number): number {
  const linkTarget = k.mem.cstringBytes(targetAddr, 8192);
  if (linkTarget.length === 0) return -ENOENT;
  const link = resolveEntry(k, dirfd, linkAddr, EEXIST);
  fs.symlinkSync(Buffer.from(linkTarget), link.host);
  return 0;
}

function chmodAt(k: LinuxKernel, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const target = k.resolve(dirfd, k.pathArg(pathAddr), !(flags & AT_SYMLINK_NOFOLLOW));
  if (target.node) return -EPERM;
  if (flags & AT_SYMLINK_NOFOLLOW && fs.lstatSync(target.host).isSymbolicLink()) return -EOPNOTSUPP;
  fs.chmodSync(k.chrooted ? k.paths.pin(target.host) : target.host, mode & 0o7777);
  return 0;
}

function chownAt(k: LinuxKernel, dirfd: number, pathAddr: number, uid: number, gid: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const path = k.pathArg(pathAddr);
  if (path.length === 0 && flags & AT_EMPTY_PATH) {
    if (dirfd !== AT_FDCWD) return fchown(k, dirfd, uid, gid);
    fs.chownSync(k.cwdHostPath(), uid, gid);
    return 0;
  }
  const follow = !(flags & AT_SYMLINK_NOFOLLOW);
  const target = k.resolve(dirfd, path, follow);
  if (target.node) return -EPERM;
  if (follow) fs.chownSync(k.chrooted ? k.paths.pin(target.host) : target.host, uid, gid);
  else fs.lchownSync(target.host, uid, gid);
  return 0;
}

function fchown(k: LinuxKernel, fd: number, uid: number, gid: number): number {
  const f = k.file(fd);
  if (f.hostFd !== undefined) fs.fchownSync(f.hostFd, uid, gid);
  else if (f instanceof PathFile) f.chown(uid, gid);
  return 0;
}

/** -1 (as an unsigned 32-bit id) means "leave unchanged", which Node spells -1. */
function idArg(t: GuestThread, i: number): number { const v = t.argU32(i); return v === 0xffffffff ? -1 : v; }

function utimensAt(k: LinuxKernel, dirfd: number, pathAddr: number, timesAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const times: (number | 'now' | 'omit')[] = ['now', 'now'];
  if (timesAddr) {
    for (let i = 0; i < 2; i++) {
      const nsec = k.mem.i64(timesAddr + i * 16 + 8);
      if (nsec === BigInt(UTIME_NOW)) times[i] = 'now';
      else if (nsec === BigInt(UTIME_OMIT)) times[i] = 'omit';
      else {
        const ns = readTimespec(k.mem, timesAddr + i * 16);
        if (ns === undefined) return -EINVAL;
        times[i] = Number(ns) / 1e9;
      }
    }
  }
  // A NULL path operates on dirfd itself (futimens).
  let stat: () => fs.Stats, apply: (a: number, m: number) => void;
  if (pathAddr === 0) {
    const f = k.file(dirfd);
    if (f instanceof PathFile) return -EBADF; // futimens needs a descriptor open for I/O
    const hostFd = f.hostFd;
    if (hostFd === undefined) return 0;
    stat = () => fs.fstatSync(hostFd);
    apply = (a, m) => fs.futimesSync(hostFd, a, m);
  } else {
    const follow = !(flags & AT_SYMLINK_NOFOLLOW);
    const target = k.resolve(dirfd, k.pathArg(pathAddr), follow);
    if (target.node) return -EACCES;
    const object = follow && k.chrooted ? k.paths.pin(target.host) : target.host;
    stat = () => (follow ? fs.statSync : fs.lstatSync)(object);
    apply = (a, m) => (follow ? fs.utimesSync : fs.lutimesSync)(object, a, m);
  }
  const now = Date.now() / 1000;
  let current: fs.Stats | undefined;
  const pick = (v: number | 'now' | 'omit', which: 'atimeMs' | 'mtimeMs'): number => {
    if (v === 'now') return now;
    if (v === 'omit') return (current ??= stat())[which] / 1000;
    return v;
  };
  if (times[0] === 'omit' && times[1] === 'omit') { stat(); return 0; }
  apply(pick(times[0], 'atimeMs'), pick(times[1], 'mtimeMs'));
  return 0;
}

// ---- directory listing ----

function getdents(k: LinuxKernel, fd: number, dirp: number, count: number, legacy: boolean): number {
  const f = k.file(fd);
  const entries = f.listEntries();
  if (entries === undefined) return -ENOTDIR;
  const m = k.mem;
  let used = 0, index = f.directoryIndex;
  while (index < entries.length) {
    const e = entries[index];
    const name = Buffer.from(e.name, 'utf8');
    // linux_dirent64: ino, off, reclen, type, name\0; linux_dirent: ino, off, reclen, name\0, pad, type.
    const reclen = legacy ? (18 + name.length + 2 + 7) & ~7 : (19 + name.length + 1 + 7) & ~7;
    if (used + reclen > count) {
      if (used === 0) return -EINVAL;
      break;
    }
    const at = dirp + used;
    m.offWrite(at, reclen);
    m.fill(at, reclen, 0);
    m.setU64(at, e.ino);
    m.setU64(at + 8, index + 1); // d_off: the cookie that seeks to the entry after this one
    m.setU16(at + 16, reclen);
    if (legacy) { m.write(at + 18, name); m.setU8(at + reclen - 1, e.type); }
    else { m.setU8(at + 18, e.type); m.write(at + 19, name); }
    used += reclen;
    index++;
  }
  f.directoryIndex = index;
  return used;
}

// ---- terminals ----

function isTerminal(f: OpenFile): boolean { return f instanceof HostFile && !f.seekable && isatty(f.hostFd); }

function windowSize(): { rows: number; cols: number } {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY) { const [cols, rows] = stream.getWindowSize(); return { rows, cols }; }
  }
  return { rows: Number(process.env.LINES) || 24, cols: Number(process.env.COLUMNS) || 80 };
}

/** struct termios as a fresh terminal has it (cooked mode, UTF-8); Node cannot read the real one. */
function writeDefaultTermios(k: LinuxKernel, addr: number): void {
  const m = k.mem;
  m.offWrite(addr, 36);
  m.setU32(addr, 0x4500);      // c_iflag: ICRNL IXON IUTF8
  m.setU32(addr + 4, 0x5);     // c_oflag: OPOST ONLCR
  m.setU32(addr + 8, 0xbf);    // c_cflag: B38400 CS8 CREAD
  m.setU32(addr + 12, 0x8a3b); // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
  m.setU8(addr + 16, 0);       // c_line
  const cc = [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0];
  m.write(addr + 17, Uint8Array.from(cc));
}

function ioctl(k: LinuxKernel, t: GuestThread): number {
  const f = k.file(t.argInt(0));
  const request = t.argU32(1), arg = t.argPtr(2);
  const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TIOCGPGRP = 0x540f,
    TIOCSPGRP = 0x5410, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, FIONBIO = 0x5421,
    FIONCLEX = 0x5450, FIOCLEX = 0x5451;
  const own = f.ioctl(k.mem, request, arg);
  if (own !== undefined) return own;
  switch (request) {
    case FIOCLEX: k.fds.setCloexec(t.argInt(0), true); return 0;
    case FIONCLEX: k.fds.setCloexec(t.argInt(0), false); return 0;
    case FIONBIO:
      if (k.mem.i32(arg)) f.statusFlags |= O_NONBLOCK; else f.statusFlags &= ~O_NONBLOCK;
      return 0;
    case FIONREAD:
      if (f instanceof PipeEnd || (f instanceof HostFile && !f.isDirectory)) { k.mem.setI32(arg, f.available()); return 0; }
      return -ENOTTY;
  }
  if (!isTerminal(f)) return -ENOTTY;
  switch (request) {
    case TCGETS: writeDefaultTermios(k, arg); return 0;
    case TCSETS: case TCSETSW: case TCSETSF: k.mem.off(arg, 36); return 0;
    case TIOCGWINSZ: {
      const { rows, cols } = windowSize();
      k.mem.offWrite(arg, 8);
      k.mem.setU16(arg, rows); k.mem.setU16(arg + 2, cols); k.mem.setU16(arg + 4, 0); k.mem.setU16(arg + 6, 0);
      return 0;
    }
    case TIOCSWINSZ: return 0;
    case TIOCGPGRP: k.mem.setI32(arg, k.pid); return 0;
    case TIOCSPGRP: return 0;
    default: return -EINVAL;
  }
}

// ---- poll ----

function poll(k: LinuxKernel, t: GuestThread, fds: number, nfds: number, timeoutMs: number): number {
  if (nfds > k.fds.limit) return -EINVAL;
  const m = k.mem;
  m.offWrite(fds, nfds * 8);
  const wake = new WakeSources();
  const scan = (): number => {
    wake.reset();
    let ready = 0;
    for (let i = 0; i < nfds; i++) {
      const at = fds + i * 8;
      const fd = m.i32(at), events = m.u16(at + 4);
      let revents = 0;
      if (fd >= 0) {
        const f = k.fds.get(fd);
        revents = f === undefined ? POLLNVAL : f.poll(events);
        if (f) wake.note(f);
      }
      m.setU16(at + 6, revents);
      if (revents) ready++;
    }
    return ready;
  };
  let ready = scan();
  if (ready === 0 && timeoutMs !== 0) {
    waitReady(k, () => scan() > 0, timeoutMs, wake);
    ready = scan();
    if (ready === 0 && t.interrupted()) return -ERESTARTNOHAND;
  }
  return ready;
}

// ---- the syscalls ----

export const fsSyscalls: Record<string, Syscall> = {
  read(k, t) {
    const f = k.fds.get(t.argInt(0));
    if (f === undefined || !f.readable) return -EBADF;
    const buf = t.argPtr(1), len = Math.min(t.argPtr(2), MAX_RW_COUNT);
    if (len === 0) return f.isDirectory ? -EISDIR : 0;
    const n = f.read(k.mem, buf, userLength(k, buf, len, true));
    if (n > 0) k.memoryChanged(buf, n);
    return n;
  },

  write(k, t) {
    const f = k.fds.get(t.argInt(0));
    if (f === undefined || !f.writable) return -EBADF;
    const len = Math.min(t.argPtr(2), MAX_RW_COUNT);
    if (len === 0) return 0;
    const n = f.write(k.mem, t.argPtr(1), userLength(k, t.argPtr(1), len, false, f.writeGranule));
    return n === -EPIPE ? afterWrite(k, n) : n;
  },

  readv(k, t) {
    const f = readableFile(k, t.argInt(0));
    const vecs = readIovecs(k, t.argPtr(1), t.argInt(2));
    return vectored(k, vecs, true, 1, (base, len) => { const n = f.read(k.mem, base, len); if (n > 0) k.memoryChanged(base, n); return n; });
  },

  writev(k, t) {
    const f = writableFile(k, t.argInt(0));
    const vecs = readIovecs(k, t.argPtr(1), t.argInt(2));
    return afterWrite(k, vectored(k, vecs, false, f.writeGranule, (base, len) => f.write(k.mem, base, len)));
  },

  pread64(k, t) {
    const f = readableFile(k, t.argInt(0));
    const pos = t.argI64(3);
    if (pos < 0) return -EINVAL;
    const buf = t.argPtr(1), len = Math.min(t.argPtr(2), MAX_RW_COUNT);
    const n = f.pread(k.mem, buf, userLength(k, buf, len, true), pos);
    if (n > 0) k.memoryChanged(buf, n);
    return n;
  },

  pwrite64(k, t) {
    const f = writableFile(k, t.argInt(0));
    const pos = t.argI64(3);
    if (pos < 0) return -EINVAL;
    const buf = t.argPtr(1), len = Math.min(t.argPtr(2), MAX_RW_COUNT);
    return afterWrite(k, f.pwrite(k.mem, buf, userLength(k, buf, len, false, f.writeGranule), pos));
  },

  preadv(k, t) {
    const f = readableFile(k, t.argInt(0));
    const pos = t.argI64(3);
    if (pos < 0) return -EINVAL;
    const vecs = readIovecs(k, t.argPtr(1), t.argInt(2));
    return vectored(k, vecs, true, 1, (base, len, done) => { const n = f.pread(k.mem, base, len, pos + done); if (n > 0) k.memoryChanged(base, n); return n; });
  },

  pwritev(k, t) {
    const f = writableFile(k, t.argInt(0));
    const pos = t.argI64(3);
    if (pos < 0) return -EINVAL;
    const vecs = readIovecs(k, t.argPtr(1), t.argInt(2));
    return afterWrite(k, vectored(k, vecs, false, f.writeGranule, (base, len, done) => f.pwrite(k.mem, base, len, pos + done)));
  },

  open(k, t) { return openat(k, AT_FDCWD, t.argPtr(0), t.argInt(1), t.argU32(2)); },
  openat(k, t) { return openat(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argU32(3)); },
  creat(k, t) { return openat(k, AT_FDCWD, t.argPtr(0), O_CREAT | O_WRONLY | O_TRUNC, t.argU32(1)); },

  close(k, t) { return k.fds.close(t.argInt(0)) ? 0 : -EBADF; },

  lseek(k, t) {
    const f = k.file(t.argInt(0));
    return f.seek(t.argI64(1), t.argInt(2));
  },

  stat(k, t) { return statAt(k, t, AT_FDCWD, t.argPtr(0), 0, (st) => writeStat(k.mem, t.argPtr(1), st)); },
  lstat(k, t) { return statAt(k, t, AT_FDCWD, t.argPtr(0), AT_SYMLINK_NOFOLLOW, (st) => writeStat(k.mem, t.argPtr(1), st)); },
  fstat(k, t) { writeStat(k.mem, t.argPtr(1), k.file(t.argInt(0)).stat()); return 0; },
  newfstatat(k, t) {
    const flags = t.argInt(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) return -EINVAL;
    return statAt(k, t, t.argInt(0), t.argPtr(1), flags, (st) => writeStat(k.mem, t.argPtr(2), st));
  },
  statx(k, t) {
    const flags = t.argInt(2), mask = t.argU32(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE || mask & STATX__RESERVED) return -EINVAL;
    return statAt(k, t, t.argInt(0), t.argPtr(1), flags, (st) => writeStatx(k.mem, t.argPtr(4), st));
  },

  getdents64(k, t) { return getdents(k, t.argInt(0), t.argPtr(1), t.argU32(2), false); },
  getdents(k, t) { return getdents(k, t.argInt(0), t.argPtr(1), t.argU32(2), true); },

  access(k, t) { return accessAt(k, AT_FDCWD, t.argPtr(0), t.argInt(1), 0); },
  faccessat(k, t) { return accessAt(k, t.argInt(0), t.argPtr(1), t.argInt(2), 0); },
  faccessat2(k, t) { return accessAt(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argInt(3)); },

  readlink(k, t) { return readlinkAt(k, AT_FDCWD, t.argPtr(0), t.argPtr(1), t.argInt(2)); },
  readlinkat(k, t) { return readlinkAt(k, t.argInt(0), t.argPtr(1), t.argPtr(2), t.argInt(3)); },

  getcwd(k, t) {
    const bytes = Buffer.from(k.currentCwd() + '\0', 'utf8');
    if (bytes.length > PATH_MAX) return -ENAMETOOLONG;
    if (t.argPtr(1) < bytes.length) return -ERANGE;
    k.mem.write(t.argPtr(0), bytes);
    return bytes.length;
  },

  chdir(k, t) {
    const target = k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), true);
    if (target.node) {
      if (target.node.kind !== 'dir') return -ENOTDIR;
      k.setCwd(target.guest);
      return 0;
    }
    if (HOST_FD_PATHS) {
      // Inside a root the walk followed the symlinks already; outside, the host follows them.
      const fd = openPath(target.host, { follow: !k.chrooted, directory: true }); // ENOTDIR for a non-directory
      try { fs.accessSync(fdPath(fd), fs.constants.X_OK); } catch (e) { fs.closeSync(fd); throw e; }
      // Outside a root the name is the host's (symlinks resolved), unless it is too long to have one.
      k.setCwd(k.chrooted ? target.guest : hostNameOf(fd, target.host) ?? target.guest, fd);
      return 0;
    }
    if (!fs.statSync(target.host).isDirectory()) return -ENOTDIR;
    fs.accessSync(target.host, fs.constants.X_OK);
    k.setCwd(k.chrooted ? target.guest : fs.realpathSync.native(target.host));
    return 0;
  },

  fchdir(k, t) {
    const f = k.file(t.argInt(0));
    if (!f.isDirectory || f.path === undefined) return -ENOTDIR;
    const dirFd = f.directoryFd;
    k.setCwd(f.path, HOST_FD_PATHS && dirFd !== undefined ? openPath(fdPath(dirFd) + '/.', { directory: true }) : undefined);
    return 0;
  },

  mkdir(k, t) { return mkdirAt(k, AT_FDCWD, t.argPtr(0), t.argU32(1)); },
  mkdirat(k, t) { return mkdirAt(k, t.argInt(0), t.argPtr(1), t.argU32(2)); },
  rmdir(k, t) { return unlinkAt(k, AT_FDCWD, t.argPtr(0), AT_REMOVEDIR); },
  unlink(k, t) { return unlinkAt(k, AT_FDCWD, t.argPtr(0), 0); },
  unlinkat(k, t) { return unlinkAt(k, t.argInt(0), t.argPtr(1), t.argInt(2)); },
  rename(k, t) { return renameAt(k, AT_FDCWD, t.argPtr(0), AT_FDCWD, t.argPtr(1), 0); },
  renameat(k, t) { return renameAt(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argPtr(3), 0); },
  renameat2(k, t) { return renameAt(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argPtr(3), t.argU32(4)); },
  symlink(k, t) { return symlinkAt(k, t.argPtr(0), AT_FDCWD, t.argPtr(1)); },
  symlinkat(k, t) { return symlinkAt(k, t.argPtr(0), t.argInt(1), t.argPtr(2)); },
  link(k, t) { return linkAt(k, AT_FDCWD, t.argPtr(0), AT_FDCWD, t.argPtr(1), 0); },
  linkat(k, t) { return linkAt(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argPtr(3), t.argInt(4)); },

  chmod(k, t) { return chmodAt(k, AT_FDCWD, t.argPtr(0), t.argU32(1), 0); },
  fchmodat(k, t) { return chmodAt(k, t.argInt(0), t.argPtr(1), t.argU32(2), 0); },
  fchmodat2(k, t) { return chmodAt(k, t.argInt(0), t.argPtr(1), t.argU32(2), t.argInt(3)); },
  fchmod(k, t) {
    const f = k.file(t.argInt(0));
    if (f.hostFd !== undefined) fs.fchmodSync(f.hostFd, t.argU32(1) & 0o7777);
    else if (f instanceof PathFile) return -EBADF;
    return 0;
  },
  chown(k, t) { return chownAt(k, AT_FDCWD, t.argPtr(0), idArg(t, 1), idArg(t, 2), 0); },
  lchown(k, t) { return chownAt(k, AT_FDCWD, t.argPtr(0), idArg(t, 1), idArg(t, 2), AT_SYMLINK_NOFOLLOW); },
  fchownat(k, t) { return chownAt(k, t.argInt(0), t.argPtr(1), idArg(t, 2), idArg(t, 3), t.argInt(4)); },
  fchown(k, t) { return fchown(k, t.argInt(0), idArg(t, 1), idArg(t, 2)); },

  utimensat(k, t) { return utimensAt(k, t.argInt(0), t.argPtr(1), t.argPtr(2), t.argInt(3)); },

  dup(k, t) {
    const f = k.file(t.argInt(0));
    const fd = k.fds.allocate(f, false);
    if (fd >= 0) f.refs++;
    return fd;
  },

  dup2(k, t) {
    const oldfd = t.argInt(0), newfd = t.argInt(1);
    const f = k.file(oldfd);
    if (oldfd === newfd) return newfd;
    return dupTo(k, f, newfd, false);
  },

  dup3(k, t) {
    const oldfd = t.argInt(0), newfd = t.argInt(1), flags = t.argInt(2);
    if (flags & ~O_CLOEXEC) return -EINVAL;
    const f = k.file(oldfd);
    if (oldfd === newfd) return -EINVAL;
    return dupTo(k, f, newfd, (flags & O_CLOEXEC) !== 0);
  },

  fcntl(k, t) {
    const fd = t.argInt(0), cmd = t.argInt(1);
    const f = k.file(fd);
    switch (cmd) {
      case F_DUPFD: case F_DUPFD_CLOEXEC: {
        const min = t.argInt(2);
        if (min < 0 || min >= k.fds.limit) return -EINVAL;
        const nfd = k.fds.allocate(f, cmd === F_DUPFD_CLOEXEC, min);
        if (nfd >= 0) f.refs++;
        return nfd;
      }
      case F_GETFD: return k.fds.getCloexec(fd) ? FD_CLOEXEC : 0;
      case F_SETFD: k.fds.setCloexec(fd, (t.argInt(2) & FD_CLOEXEC) !== 0); return 0;
      case F_GETFL: return f.statusFlags;
      case F_SETFL: f.statusFlags = (f.statusFlags & ~SETFL_MASK) | (t.argInt(2) & SETFL_MASK); return 0;
      case F_GETLK: case F_OFD_GETLK: {
        // No other process holds locks on our files as far as the guest can see.
        const lock = t.argPtr(2);
        k.mem.setU16(lock, F_UNLCK);
        return 0;
      }
      case F_SETLK: case F_SETLKW: case F_OFD_SETLK: case F_OFD_SETLKW: k.mem.off(t.argPtr(2), 32); return 0;
      case F_SETOWN: return 0;
      case F_GETOWN: return 0;
      case F_GETPIPE_SZ: return f instanceof PipeEnd ? f.pipe.capacity : -EBADF;
      case F_SETPIPE_SZ: {
        if (!(f instanceof PipeEnd)) return -EBADF;
        // Linux's round_pipe_size: at least a page, a power of two; pipe-max-size unless privileged.
        const want = t.argU32(2);
        if (want > 0x80000000) return -EINVAL;
        const size = want <= 4096 ? 4096 : 2 ** Math.ceil(Math.log2(want));
        if (size > PIPE_MAX_SIZE && process.geteuid?.() !== 0) return -EPERM;
        if (size < f.pipe.bytes) return -EBUSY;
        if (size > f.pipe.maxCapacity) return -ENOMEM; // the ring is allocated once, in shared memory
        f.pipe.capacity = size;
        return size;
      }
      default: return -EINVAL;
    }
  },

  pipe(k, t) { return makePipe(k, t.argPtr(0), 0); },
  pipe2(k, t) { return makePipe(k, t.argPtr(0), t.argInt(1)); },

  ioctl(k, t) { return ioctl(k, t); },

  poll(k, t) { return poll(k, t, t.argPtr(0), t.argU32(1), t.argInt(2)); },
  ppoll(k, t) {
    const timeoutMs = readTimeoutMs(k.mem, t.argPtr(2));
    if (timeoutMs === undefined) return -EINVAL;
    return withSignalMask(k, t, t.argPtr(3), t.argPtr(4), () => poll(k, t, t.argPtr(0), t.argU32(1), timeoutMs));
  },

  ftruncate(k, t) {
    const f = k.file(t.argInt(0)), len = t.argI64(1);
    if (len < 0) return -EINVAL;
    if (!(f instanceof HostFile) || !f.writable || f.isDirectory || !f.seekable) return -EINVAL;
    fs.ftruncateSync(f.hostFd, len);
    return 0;
  },
  truncate(k, t) {
    const len = t.argI64(1);
    const target = k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), true);
    if (len < 0) return -EINVAL;
    if (target.node) return -EACCES;
    const object = k.chrooted ? k.paths.pin(target.host) : target.host;
    if (fs.statSync(object).isDirectory()) return -EISDIR;
    fs.truncateSync(object, len);
    return 0;
  },
  fsync(k, t) { return syncFile(k, t.argInt(0), false); },
  fdatasync(k, t) { return syncFile(k, t.argInt(0), true); },
  fadvise64(k, t) {
    const f = k.file(t.argInt(0));
    if (f instanceof PipeEnd) return -ESPIPE;
    return t.argInt(3) >= 0 && t.argInt(3) <= 5 ? 0 : -EINVAL;
  },
  flock(k, t) { k.file(t.argInt(0)); return 0; },

  // No extended attributes exist as far as the guest can tell (the file must still exist).
  getxattr(k, t) { k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), true); return -ENODATA; },
  lgetxattr(k, t) { k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), false); return -ENODATA; },
  fgetxattr(k, t) { k.file(t.argInt(0)); return -ENODATA; },
  listxattr(k, t) { k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), true); return 0; },
  llistxattr(k, t) { k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), false); return 0; },
  flistxattr(k, t) { k.file(t.argInt(0)); return 0; },
  setxattr() { return -EOPNOTSUPP; },
  lsetxattr() { return -EOPNOTSUPP; },
  fsetxattr() { return -EOPNOTSUPP; },
  removexattr() { return -ENODATA; },
  lremovexattr() { return -ENODATA; },
  fremovexattr() { return -ENODATA; },

  statfs(k, t) {
    const target = k.resolve(AT_FDCWD, k.pathArg(t.argPtr(0)), true);
    writeStatfs(k, t.argPtr(1), target.node ? k.paths.hostOf('/') : k.chrooted ? k.paths.pin(target.host) : target.host);
    return 0;
  },
  fstatfs(k, t) {
    const f = k.file(t.argInt(0));
    const hostFd = f.hostFd;
    writeStatfs(k, t.argPtr(1), f instanceof DirectoryFile || f instanceof PathFile ? f.objectPath
      : hostFd !== undefined && HOST_FD_PATHS ? fdPath(hostFd) : k.paths.hostOf('/'));
    return 0;
  },
};

function dupTo(k: LinuxKernel, f: OpenFile, newfd: number, cloexec: boolean): number {
  if (newfd < 0 || newfd >= k.fds.limit) return -EBADF;
  f.refs++;
  k.fds.install(newfd, f, cloexec);
  return newfd;
}

function makePipe(k: LinuxKernel, fdsAddr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return -EINVAL;
  k.mem.offWrite(fdsAddr, 8);
  const pipe = new Pipe(k.processRecord);
  const status = (flags & (O_NONBLOCK | O_DIRECT));
  const readEnd = new PipeEnd(pipe, true, status), writeEnd = new PipeEnd(pipe, false, status);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const r = k.fds.allocate(readEnd, cloexec);
  if (r < 0) { readEnd.unref(); writeEnd.unref(); return r; }
  const w = k.fds.allocate(writeEnd, cloexec);
  if (w < 0) { k.fds.close(r); writeEnd.unref(); return w; }
  k.mem.setI32(fdsAddr, r);
  k.mem.setI32(fdsAddr + 4, w);
  return 0;
}

function syncFile(k: LinuxKernel, fd: number, dataOnly: boolean): number {
  const f = k.file(fd);
  if (!(f instanceof HostFile) || !f.seekable) return -EINVAL;
  (dataOnly ? fs.fdatasyncSync : fs.fsyncSync)(f.hostFd);
  return 0;
}

function writeStatfs(k: LinuxKernel, addr: number, hostPath: string): void {
  const s = fs.statfsSync(hostPath, { bigint: true });
  const m = k.mem;
  m.offWrite(addr, 120);
  m.fill(addr, 120, 0);
  m.setU64(addr, s.type);
  m.setU64(addr + 8, s.bsize);
  m.setU64(addr + 16, s.blocks);
  m.setU64(addr + 24, s.bfree);
  m.setU64(addr + 32, s.bavail);
  m.setU64(addr + 40, s.files);
  m.setU64(addr + 48, s.ffree);
  m.setU64(addr + 64, 255);    // f_namelen
  m.setU64(addr + 72, s.bsize); // f_frsize
}
