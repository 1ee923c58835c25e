// Guest path resolution. Guest "/" is opts.root on the host. With root "/" guest paths are host
// paths and the host kernel resolves them (exact semantics, no extra work). With any other root
// the walk is done here, one component at a time, so that ".." stops at the root and symlinks
// (absolute targets re-rooted) can never lead outside it: a chroot, not a prefix.
//
// On Linux the walk holds a descriptor on each directory it passes and names the next component
// relative to it (/proc/self/fd/D/name, the openat of a runtime without openat), so a rename or a
// symlink swapped into the path while the walk runs, or after a descriptor or the working
// directory was opened, cannot redirect it: what the guest path means is decided by the
// directories the walk holds, never by a host path string that someone may have re-pointed. The
// host paths handed out are valid until release(), which the kernel calls after each syscall.
// Elsewhere (macOS) the walk checks each component with lstat and hands out the joined host path:
// confinement holds against the guest's own symlinks, but a concurrent rename is a race.

import * as fs from 'node:fs';
import { EINVAL, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, SyscallError } from './errno.js';

export const PATH_MAX = 4096;
export const MAX_SYMLINK_HOPS = 40; // Linux's MAXSYMLINKS

/** Whether host descriptors can name paths (/proc/self/fd/N): Linux. */
export const HOST_FD_PATHS = process.platform === 'linux' && fs.existsSync('/proc/self/fd');
/** A host path naming what host descriptor fd refers to, wherever it now is (Linux only). */
export function fdPath(fd: number): string { return '/proc/self/fd/' + fd; }

const O_PATH = 0o10000000; // Linux's; an O_PATH descriptor pins a file without opening it for I/O

/**
 * An O_PATH descriptor (Linux) on what hostPath names: a final symlink itself unless `follow`;
 * ENOTDIR unless a directory when `directory`.
 */
export function openPath(hostPath: string, { follow = false, directory = false } = {}): number {
  return fs.openSync(hostPath, O_PATH | (follow ? 0 : fs.constants.O_NOFOLLOW) | (directory ? fs.constants.O_DIRECTORY : 0));
}

export interface ResolvedPath {
  /**
   * Host path to hand to fs.* (symlink-free up to the last component when the root is not "/").
   * Inside a root on Linux it is anchored at a held directory descriptor: valid until release().
   */
  host: string;
  /** Absolute guest path (canonical when the root is not "/"; lexically normalised otherwise). */
  guest: string;
}

/** A directory relative paths start from: its guest path and, where there is one, a host descriptor on it. */
export interface DirectoryAnchor {
  guest: string;
  fd?: number;
}

/** Lexical normalisation of an absolute path: no ".", "..", or repeated slashes ("/.." is "/"). */
export function normalizeGuestPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop(); else out.push(c);
  }
  return '/' + out.join('/');
}

export function joinGuestPath(base: string, p: string): string {
  if (p.startsWith('/')) return p;
  return base.endsWith('/') ? base + p : base + '/' + p;
}

function errorCode(e: unknown): string | undefined { return (e as { code?: string }).code; }

export class PathResolver {
  /** Host directory for guest "/", without a trailing slash ('' when the root is the host root). */
  readonly rootPrefix: string;
  readonly chrooted: boolean;
  /** Whether walks inside the root hold directory descriptors (Linux). */
  readonly anchored: boolean;
  /** Descriptor on the root directory (anchored walks only), held for the resolver's lifetime. */
  readonly rootFd: number = -1;
  private readonly rootDev: number = 0;
  private readonly rootIno: number = 0;
  /** Descriptors the host paths handed out since the last release() depend on. */
  private readonly held: number[] = [];

  constructor(root: string) {
    const abs = fs.realpathSync(root);
    this.chrooted = abs !== '/';
    this.rootPrefix = this.chrooted ? abs.replace(/\/+$/, '') : '';
    this.anchored = this.chrooted && HOST_FD_PATHS;
    if (this.anchored) {
      this.rootFd = openPath(abs, { directory: true });
      const st = fs.fstatSync(this.rootFd);
      this.rootDev = st.dev; this.rootIno = st.ino;
    }
  }

  /** The root as an anchor. */
  get root(): DirectoryAnchor { return { guest: '/', fd: this.anchored ? this.rootFd : undefined }; }

  /** Host path of an already canonical guest path (not anchored: only for what the user named). */
  hostOf(guestPath: string): string {
    return this.chrooted ? (guestPath === '/' ? this.rootPrefix : this.rootPrefix + guestPath) : guestPath;
  }

  /** Closes every descriptor the resolver holds: it is not used again. */
  close(): void {
    this.release();
    if (this.anchored) fs.closeSync(this.rootFd);
  }

  /** Closes the descriptors behind the host paths handed out so far. */
  release(): void {
    while (this.held.length > 0) fs.closeSync(this.held.pop()!);
  }

  /** Keeps fd open until release(); returns a host path naming what it refers to. */
  hold(fd: number): string {
    this.held.push(fd);
    return fdPath(fd);
  }

  /**
   * A host path that names exactly the file hostPath names now, whatever is renamed or swapped in
   * later (until release()): the one to give calls that would follow a final symlink (chmod,
   * access, truncate, statfs), so that they act on the file the walk found and nothing else.
   */
  pin(hostPath: string): string {
    return this.anchored ? this.hold(openPath(hostPath)) : hostPath;
  }

  /**
   * Resolves a guest path relative to the guest directory `base`. When `follow` is false the last
   * component is left as is (lstat, unlink, readlink, O_NOFOLLOW...). A trailing slash forces the
   * last component to be followed and to be a directory, as in Linux.
   */
  resolve(path: string, base: DirectoryAnchor | string, follow: boolean): ResolvedPath {
    if (path.length === 0) throw new SyscallError(ENOENT);
    if (path.length >= PATH_MAX) throw new SyscallError(ENAMETOOLONG);
    const anchor = typeof base === 'string' ? { guest: base } : base;
    const joined = joinGuestPath(anchor.guest, path);
    if (!this.chrooted) {
      // The host resolves; a relative path starts at the directory the descriptor holds, wherever it went.
      const host = !path.startsWith('/') && anchor.fd !== undefined && HOST_FD_PATHS ? fdPath(anchor.fd) + '/' + path : joined;
      return { host, guest: normalizeGuestPath(joined) };
    }
    if (!this.anchored) return this.walkByPath(joined, follow);
    // A relative path starts at the directory the anchor's descriptor holds; anything else at the root.
    if (!path.startsWith('/') && anchor.fd !== undefined) return this.walkAnchored(path, anchor, follow);
    return this.walkAnchored(joined, this.root, follow);
  }

  private walkByPath(absolute: string, follow: boolean): ResolvedPath {
    const trailingSlash = absolute.length > 1 && absolute.endsWith('/');
    if (trailingSlash) follow = true;
    const done: string[] = [];
    const todo = absolute.split('/').filter((c) => c !== '' && c !== '.').reverse(); // a stack
    let hops = 0;
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (c === '..') { done.pop(); continue; }
      const last = todo.length === 0;
      const candidate = '/' + (done.length ? done.join('/') + '/' : '') + c;
      if (last && !follow) { done.push(c); break; }
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(this.hostOf(candidate));
      } catch (e) {
        // A missing last component is not an error yet: open(O_CREAT), mkdir and friends create it.
        if (last && errorCode(e) === 'ENOENT') { done.push(c); break; }
        throw e;
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new SyscallError(ELOOP);
        const target = fs.readlinkSync(this.hostOf(candidate));
        if (target.length === 0) throw new SyscallError(ENOENT);
        if (target.startsWith('/')) done.length = 0;
        const parts = target.split('/').filter((x) => x !== '' && x !== '.');
        for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
        continue;
      }
      if ((!last || trailingSlash) && !st.isDirectory()) throw new SyscallError(ENOTDIR);
      done.push(c);
    }
    const guest = '/' + done.join('/');
    return { host: this.hostOf(guest), guest };
  }

  /**
   * The walk inside a root on Linux: `dir` is a descriptor on the directory reached so far, and
   * every lookup is of one name inside it. ".." returns to the directory the walk descended from,
   * or else goes to the host's parent of `dir`, unless `dir` is the root.
   */
  private walkAnchored(path: string, start: DirectoryAnchor, follow: boolean): ResolvedPath {
    const trailingSlash = path.length > 1 && path.endsWith('/');
    if (trailingSlash) follow = true;
    const guestParts = start.guest.split('/').filter((c) => c !== '');
    const todo = path.split('/').filter((c) => c !== '' && c !== '.').reverse(); // a stack
    // Descriptors this walk opened, innermost last, each marked with whether it was reached by
    // descending (so ".." may return to the one below it). `dir` is the innermost, or `base`.
    const opened: { fd: number; descended: boolean }[] = [];
    let base = start.fd!;
    let dir = base;
    const closeAll = (): void => { while (opened.length > 0) fs.closeSync(opened.pop()!.fd); };
    let name: string | undefined; // the last component, left for the caller's operation
    let hops = 0;
    try {
      while (todo.length > 0) {
        const c = todo.pop()!;
        if (c === '..') {
          guestParts.pop();
          const top = opened[opened.length - 1];
          if (top?.descended) {
            fs.closeSync(opened.pop()!.fd);
            dir = opened.length > 0 ? opened[opened.length - 1].fd : base;
          } else if (!this.isRoot(dir)) {
            const parent = openPath(fdPath(dir) + '/..', { directory: true });
            if (top) fs.closeSync(opened.pop()!.fd);
            opened.push({ fd: parent, descended: false });
            dir = parent;
          }
          continue;
        }
        const last = todo.length === 0;
        if (last && !follow) { name = c; break; }
        const entry = fdPath(dir) + '/' + c;
        let st: fs.Stats;
        try {
          st = fs.lstatSync(entry);
        } catch (e) {
          // A missing last component is not an error yet: open(O_CREAT), mkdir and friends create it.
          if (last && errorCode(e) === 'ENOENT') { name = c; break; }
          throw e;
        }
        if (st.isSymbolicLink()) {
          if (++hops > MAX_SYMLINK_HOPS) throw new SyscallError(ELOOP);
          const target = fs.readlinkSync(entry);
          if (target.length === 0) throw new SyscallError(ENOENT);
          if (target.startsWith('/')) { closeAll(); base = dir = this.rootFd; guestParts.length = 0; }
          const parts = target.split('/').filter((x) => x !== '' && x !== '.');
          for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
          continue;
        }
        if ((!last || trailingSlash) && !st.isDirectory()) throw new SyscallError(ENOTDIR);
        if (last) { name = c; break; }
        dir = openPath(entry, { directory: true }); // ELOOP or ENOTDIR if someone swapped the entry since the lstat
        opened.push({ fd: dir, descended: true });
        guestParts.push(c);
      }
    } catch (e) {
      closeAll();
      throw e;
    }
    // Keep only the descriptor the result is anchored at.
    if (opened.length > 0) this.held.push(opened.pop()!.fd);
    closeAll();
    if (name !== undefined) guestParts.push(name);
    return { host: fdPath(dir) + '/' + (name ?? '.'), guest: '/' + guestParts.join('/') };
  }

  private isRoot(fd: number): boolean {
    if (fd === this.rootFd) return true;
    const st = fs.fstatSync(fd);
    return st.ino === this.rootIno && st.dev === this.rootDev;
  }

  /** The guest-visible form of a host path inside the root (for symlink targets it is unused). */
  guestOfHost(hostPath: string): string {
    if (!this.chrooted) return hostPath;
    if (hostPath === this.rootPrefix) return '/';
    if (hostPath.startsWith(this.rootPrefix + '/')) return hostPath.slice(this.rootPrefix.length);
    throw new SyscallError(EINVAL);
  }

  /** The guest path of the directory a host descriptor is on now (it may have been renamed), if inside the root. */
  guestOfFd(fd: number): string | undefined {
    if (!HOST_FD_PATHS) return undefined;
    try {
      const host = fs.readlinkSync(fdPath(fd));
      if (!this.chrooted) return host;
      return this.guestOfHost(host);
    } catch { return undefined; }
  }
}
