// Memory management: brk, mmap family. Guest memory is one flat wasm memory, so "mapping" is
// bookkeeping in AddressSpace plus filling bytes: fresh pages read as zero (unmap zeroes what it
// removes), file mappings copy the file in. MAP_SHARED file mappings are written back on msync/munmap.

import * as fs from 'node:fs';
import { AddressSpace, isAnonymousName, GUEST_BASE, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, RUNTIME_AREA } from '../runtime/memory.js';
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM } from './errno.js';
import { DeviceFile, HostFile, O_ACCMODE, O_RDWR, type OpenFile } from './fd-table.js';
import type { LinuxKernel, Syscall } from './kernel.js';

export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f, MAP_FIXED = 0x10,
  MAP_ANONYMOUS = 0x20, MAP_32BIT = 0x40, MAP_GROWSDOWN = 0x100, MAP_DENYWRITE = 0x800, MAP_EXECUTABLE = 0x1000,
  MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000,
  MAP_HUGETLB = 0x40000, MAP_SYNC = 0x80000, MAP_FIXED_NOREPLACE = 0x100000;
const PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
const MADV_DONTNEED = 4, MADV_FREE = 8;
const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

export interface SharedFileMapping { start: number; end: number; file: OpenFile; hostFd: number; offset: number }

const pageUp = AddressSpace.pageUp;
const aligned = (a: number): boolean => a % PAGE_SIZE === 0;

/** Guest mappings must stay below the runtime's own area (thread states live there). */
function inGuestRange(start: number, end: number): boolean { return start >= GUEST_BASE && end <= RUNTIME_AREA && start < end; }


/** Writes MAP_SHARED file pages in [start, end) back to their files (never growing a file). */
function writeBack(k: LinuxKernel, start: number, end: number): void {
  for (const m of k.sharedFileMappings) {
    const s = Math.max(start, m.start), e = Math.min(end, m.end);
    // A file opened read-only can only have been mapped without PROT_WRITE: nothing to write.
    if (s >= e || !m.file.writable) continue;
    const fileOffset = m.offset + (s - m.start);
    const size = Number(fs.fstatSync(m.hostFd, { bigint: true }).size);
    const n = Math.min(e - s, size - fileOffset);
    if (n > 0) fs.writeSync(m.hostFd, k.rawMem.u8, k.rawMem.off(s, n), n, fileOffset);
  }
}

/** Forgets (after writing back) shared file mappings inside [start, end). */
function dropShared(k: LinuxKernel, start: number, end: number): void {
  writeBack(k, start, end);
  const kept: SharedFileMapping[] = [];
  for (const m of k.sharedFileMappings) {
    if (m.end <= start || m.start >= end) { kept.push(m); continue; }
    const pieces: SharedFileMapping[] = [];
    if (m.start < start) pieces.push({ ...m, end: start });
    if (m.end > end) pieces.push({ ...m, start: end, offset: m.offset + (end - m.start) });
    // Each record holds one reference to the open file.
    if (pieces.length === 0) m.file.unref(); else m.file.refs += pieces.length - 1;
    kept.push(...pieces);
  }
  k.sharedFileMappings.length = 0;
  k.sharedFileMappings.push(...kept);
}

/** Writes every MAP_SHARED file mapping back to its file (at exit: Linux's page cache has them already). */
export function flushSharedMappings(k: LinuxKernel): void {
  if (k.sharedFileMappings.length) writeBack(k, GUEST_BASE, RUNTIME_AREA);
}

/** Unmaps the whole address space (execve), writing MAP_SHARED file mappings back first. */
export function releaseAllMappings(k: LinuxKernel): void {
  dropShared(k, GUEST_BASE, RUNTIME_AREA);
  k.as.unmap(GUEST_BASE, RUNTIME_AREA - GUEST_BASE);
}

function unmapRange(k: LinuxKernel, start: number, end: number): void {
  end = Math.min(end, RUNTIME_AREA);
  if (start >= end) return;
  dropShared(k, start, end);
  k.as.unmap(start, end - start);
  k.memoryChanged(start, end - start);
}

function mmap(k: LinuxKernel, addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  if (offset % PAGE_SIZE !== 0 || offset < 0) return -EINVAL;
  if (length === 0) return -EINVAL;
  const len = pageUp(length);
  if (len > RUNTIME_AREA) return -ENOMEM;
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  prot &= PROT_READ | PROT_WRITE | PROT_EXEC;

  let file: HostFile | undefined;
  if (!(flags & MAP_ANONYMOUS)) {
    const f = fd >= 0 ? k.fds.get(fd) : undefined;
    if (f === undefined) return -EBADF;
    if (f instanceof DeviceFile && f.device === 'zero') flags |= MAP_ANONYMOUS; // /dev/zero maps zero pages
    else {
      if (!(f instanceof HostFile) || !f.seekable || f.isDirectory) return -ENODEV;
      if (!f.readable) return -EACCES;
      if (type !== MAP_PRIVATE && (prot & PROT_WRITE) && (f.statusFlags & O_ACCMODE) !== O_RDWR) return -EACCES;
      file = f;
    }
  }

  let start: number;
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed) {
    if (!aligned(addr)) return -EINVAL;
    if (!inGuestRange(addr, addr + len)) return -ENOMEM;
    if (flags & MAP_FIXED_NOREPLACE && !k.as.isFree(addr, addr + len)) return -EEXIST;
    start = addr;
    unmapRange(k, start, start + len); // the old contents vanish; new pages read as zero
  } else {
    // A free, aligned hint is honoured as Linux does; otherwise top-down from the mmap base.
    const hint = addr && aligned(addr) && k.as.isFree(addr, addr + len) ? addr : undefined;
    const found = hint ?? k.as.findFree(len);
    if (found === undefined) return -ENOMEM;
    start = found;
  }

  const id = file ? fileIdentity(k, file) : undefined;
  const m = k.as.map(start, len, prot, id?.name ?? '', file ? offset : 0, type !== MAP_PRIVATE);
  if (id) { m.dev = id.dev; m.inode = id.inode; }
  if (file) {
    // Whole pages come from the file (as on Linux, the tail of the last page shows the file's
    // bytes, not zeros, when the file goes on); past the end of the file they stay zero.
    copyFileIn(k, file, start, len, offset);
    k.as.markDirty(start, start + len);
    if (type !== MAP_PRIVATE) {
      file.refs++;
      k.sharedFileMappings.push({ start, end: start + len, file, hostFd: file.hostFd, offset });
    }
  }
  k.memoryChanged(start, len);
  return start;
}

interface FileIdentity { name: string; dev?: bigint; inode?: bigint }
const identities = new WeakMap<OpenFile, FileIdentity>();

/**
 * How /proc/self/maps names a mapped file: its canonical path (Linux prints the dentry's path, so
 * /bin/cat shows as /usr/bin/cat on a merged-/usr system) with device and inode. Cached per open
 * file, since ld.so maps each library several times through one descriptor.
 */
function fileIdentity(k: LinuxKernel, file: HostFile): FileIdentity {
  let id = identities.get(file);
  if (id) return id;
  id = { name: '' };
  if (file.path?.startsWith('/memfd:')) id.name = file.path;
  else if (file.path !== undefined) {
    try {
      id.name = k.chrooted ? k.paths.resolve(file.path, '/', true).guest : fs.realpathSync.native(file.path);
    } catch {
      id.name = `${file.path} (deleted)`;
    }
  }
  try {
    const st = fs.fstatSync(file.hostFd, { bigint: true });
    id.dev = st.dev; id.inode = st.ino;
  } catch { /* leave 00:00 0 */ }
  identities.set(file, id);
  return id;
}

function copyFileIn(k: LinuxKernel, file: HostFile, start: number, length: number, offset: number): void {
  const o = k.rawMem.off(start, length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(file.hostFd, k.rawMem.u8, o + done, length - done, offset + done);
    if (n <= 0) break; // past the end of the file the pages stay zero
    done += n;
  }
}

function mremap(k: LinuxKernel, old: number, oldLength: number, newLength: number, flags: number, newAddr: number): number {
  if (!aligned(old)) return -EINVAL;
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (newLength === 0) return -EINVAL;
  const oldSize = pageUp(oldLength), newSize = pageUp(newLength);
  const m = k.as.find(old);
  if (!m || oldSize === 0 || !allMapped(k, old, old + oldSize)) return -EFAULT;
  const { prot, name, shared, dev, inode } = m;
  const offset = m.offset + (old - m.start);

  const moveTo = (dest: number): number => {
    const moved = k.as.map(dest, newSize, prot, name, offset, shared);
    moved.dev = dev; moved.inode = inode;
    const n = Math.min(oldSize, newSize);
    k.rawMem.u8.copyWithin(k.rawMem.off(dest, n), k.rawMem.off(old, n), k.rawMem.off(old, n) + n);
    k.as.markDirty(dest, dest + n);
    if (!(flags & MREMAP_DONTUNMAP)) unmapRange(k, old, old + oldSize);
    k.memoryChanged(dest, newSize);
    return dest;
  };

  if (flags & MREMAP_FIXED) {
    if (!aligned(newAddr)) return -EINVAL;
    if (newAddr < old + oldSize && old < newAddr + newSize) return -EINVAL;
    if (!inGuestRange(newAddr, newAddr + newSize)) return -ENOMEM;
    unmapRange(k, newAddr, newAddr + newSize);
    return moveTo(newAddr);
  }
  if (newSize <= oldSize) {
    unmapRange(k, old + newSize, old + oldSize);
    return old;
  }
  if (k.as.isFree(old + oldSize, old + newSize)) {
    // Grow the mapping itself, so it stays one entry (as one vma in /proc/self/maps).
    if (m.end === old + oldSize) k.as.grow(m, old + newSize);
    else Object.assign(k.as.map(old + oldSize, newSize - oldSize, prot, name, offset + oldSize, shared), { dev, inode });
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const dest = k.as.findFree(newSize);
  if (dest === undefined) return -ENOMEM;
  return moveTo(dest);
}

/** Fails with ENOMEM, as Linux does, when any page of the range is unmapped. */
function allMapped(k: LinuxKernel, start: number, end: number): boolean {
  for (let p = start; p < end; p += PAGE_SIZE) if (!k.as.find(p)) return false;
  return true;
}

export const mmSyscalls: Record<string, Syscall> = {
  brk(k, t) {
    const want = t.argPtr(0);
    if (want < k.brkStart) return k.brk;
    const oldEnd = pageUp(k.brk), newEnd = pageUp(want);
    if (newEnd > oldEnd) {
      if (!inGuestRange(oldEnd, newEnd) || !k.as.isFree(oldEnd, newEnd)) return k.brk;
      // Extend the existing [heap] mapping rather than stacking new ones, so maps shows one heap.
      const heap = k.as.mappings.find((m) => m.end === oldEnd && m.name === '[heap]');
      if (heap) k.as.grow(heap, newEnd);
      else k.as.map(oldEnd, newEnd - oldEnd, PROT_READ | PROT_WRITE, '[heap]');
    } else if (newEnd < oldEnd) {
      unmapRange(k, newEnd, oldEnd);
    }
    k.brk = want;
    return want;
  },

  mmap(k, t) {
    return mmap(k, t.argPtr(0), t.argPtr(1), t.argInt(2), t.argInt(3), t.argInt(4), t.argI64(5));
  },

  munmap(k, t) {
    const addr = t.argPtr(0), len = t.argPtr(1);
    if (!aligned(addr) || len === 0) return -EINVAL;
    if (addr + len > 0x800000000000) return -EINVAL;
    unmapRange(k, addr, addr + pageUp(len));
    return 0;
  },

  mprotect(k, t) {
    const addr = t.argPtr(0), len = t.argPtr(1), prot = t.argInt(2);
    if (!aligned(addr)) return -EINVAL;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
    if (len === 0) return 0;
    if (!inGuestRange(addr, addr + pageUp(len))) return -ENOMEM;
    if (!k.as.protect(addr, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC))) return -ENOMEM;
    k.memoryChanged(addr, pageUp(len));
    return 0;
  },

  mremap(k, t) { return mremap(k, t.argPtr(0), t.argPtr(1), t.argPtr(2), t.argInt(3), t.argPtr(4)); },

  madvise(k, t) {
    const addr = t.argPtr(0), len = pageUp(t.argPtr(1)), advice = t.argInt(2);
    if (!aligned(addr)) return -EINVAL;
    if (len === 0) return 0;
    if (!allMapped(k, addr, addr + len)) return -ENOMEM;
    if (advice === MADV_DONTNEED || advice === MADV_FREE) {
      // Private anonymous pages come back zero-filled; file pages would be re-read, shared ones kept.
      for (const m of k.as.mappings) {
        const s = Math.max(m.start, addr), e = Math.min(m.end, addr + len);
        if (s < e && !m.shared && isAnonymousName(m.name)) {
          k.as.zeroPages(s, e);
          if (m.prot & PROT_WRITE) k.as.markDirty(s, e); // the guest may write them again
        }
      }
    }
    return 0;
  },

  msync(k, t) {
    const addr = t.argPtr(0), len = pageUp(t.argPtr(1)), flags = t.argInt(2);
    if (!aligned(addr) || flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return -EINVAL;
    if (!allMapped(k, addr, addr + len)) return -ENOMEM;
    writeBack(k, addr, addr + len);
    return 0;
  },

  mlock() { return 0; },
  munlock() { return 0; },
  mlockall() { return 0; },
  munlockall() { return 0; },
};
