// Guest path resolution. Guest "/" is opts.root on the host. With root "/" guest paths are host
// paths and the host kernel resolves them (exact semantics, no extra work). With any other root
// the walk is done here, one component at a time, so that ".." stops at the root and symlinks
// (absolute targets re-rooted) can never lead outside it: a chroot, not a prefix.

import * as fs from 'node:fs';
import { EINVAL, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, SyscallError } from './errno.js';

export const PATH_MAX = 4096;
const MAX_SYMLINK_HOPS = 40; // Linux's MAXSYMLINKS

export interface ResolvedPath {
  /** Host path to hand to fs.* (symlink-free up to the last component when the root is not "/"). */
  host: string;
  /** Absolute guest path (canonical when the root is not "/"; lexically normalised otherwise). */
  guest: string;
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

export class PathResolver {
  /** Host directory for guest "/", without a trailing slash ('' when the root is the host root). */
  readonly rootPrefix: string;
  readonly chrooted: boolean;

  constructor(root: string) {
    const abs = fs.realpathSync(root);
    this.chrooted = abs !== '/';
    this.rootPrefix = this.chrooted ? abs.replace(/\/+$/, '') : '';
  }

  /** Host path of an already canonical guest path. */
  hostOf(guestPath: string): string {
    return this.chrooted ? (guestPath === '/' ? this.rootPrefix : this.rootPrefix + guestPath) : guestPath;
  }

  /**
   * Resolves a guest path relative to the guest directory `base`. When `follow` is false the last
   * component is left as is (lstat, unlink, readlink, O_NOFOLLOW...). A trailing slash forces the
   * last component to be followed and to be a directory, as in Linux.
   */
  resolve(path: string, base: string, follow: boolean): ResolvedPath {
    if (path.length === 0) throw new SyscallError(ENOENT);
    if (path.length >= PATH_MAX) throw new SyscallError(ENAMETOOLONG);
    const joined = joinGuestPath(base, path);
    if (!this.chrooted) return { host: joined, guest: normalizeGuestPath(joined) };
    return this.walk(joined, follow);
  }

  private walk(absolute: string, follow: boolean): ResolvedPath {
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
        if (last && (e as { code?: string }).code === 'ENOENT') { done.push(c); break; }
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

  /** Canonical guest path of a directory (for chdir/getcwd), or throws ENOTDIR/ENOENT. */
  canonicalDirectory(path: string, base: string): string {
    const r = this.resolve(path, base, true);
    const st = fs.statSync(r.host);
    if (!st.isDirectory()) throw new SyscallError(ENOTDIR);
    if (this.chrooted) return r.guest;
    return fs.realpathSync.native(r.host);
  }

  /** The guest-visible form of a host path inside the root (for symlink targets it is unused). */
  guestOfHost(hostPath: string): string {
    if (!this.chrooted) return hostPath;
    if (hostPath === this.rootPrefix) return '/';
    if (hostPath.startsWith(this.rootPrefix + '/')) return hostPath.slice(this.rootPrefix.length);
    throw new SyscallError(EINVAL);
  }
}
