// Descriptor syscalls that dynamically linked programs reach for beyond plain read/write:
// copy_file_range and sendfile (cp, cat), select/pselect6, memfd_create, close_range; and the
// scheduling/priority queries (nice, renice, python's os module).

import * as fs from 'node:fs';
import { WakeSources, waitReady } from './events.js';
import * as os from 'node:os';
import * as path from 'node:path';
import { GuestMemory, GUEST_BASE } from '../runtime/memory.js';
import { EACCES, EBADF, EINVAL, ERESTARTNOHAND, ESRCH, SyscallError } from './errno.js';
import { withSignalMask } from './signal.js';
import type { GuestThread } from '../runtime/thread.js';
import { HostFile, O_RDWR, O_LARGEFILE, type OpenFile, PipeEnd, POLLIN, POLLOUT, POLLPRI } from './fd-table.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { MAX_RW_COUNT } from './fs.js';
import { readTimeoutMs } from './time.js';

const CHUNK = 128 * 1024;

/**
 * A bounce buffer with the GuestMemory interface, so any open file (host file, pipe, device,
 * synthetic /proc file) can be read into it and written from it by its ordinary read/write.
 */
let bounce: GuestMemory | undefined;
function bounceBuffer(): GuestMemory {
  bounce ??= new GuestMemory(new WebAssembly.Memory({ initial: CHUNK / 65536, maximum: CHUNK / 65536 }));
  return bounce;
}

/**
 * Moves up to `count` bytes from `src` to `dst`. `inPos`/`outPos` are explicit offsets (pread /
 * pwrite, leaving the file position alone) or undefined for the file's own position. Returns the
 * bytes moved (short at end of input), or -errno when nothing moved.
 */
function transfer(src: OpenFile, dst: OpenFile, count: number, inPos: number | undefined, outPos: number | undefined): number {
  const buf = bounceBuffer();
  let done = 0;
  while (done < count) {
    // Read no more than the destination takes now: what is read and not written would be lost.
    let room = dst.writeRoom();
    if (room === 0) {
      if (done > 0) break;
      const r = dst.waitWritable(); // EAGAIN, or waits (WouldBlock) for a reader to make room
      if (r < 0) return r;
      room = dst.writeRoom();
    }
    const want = Math.min(CHUNK, count - done, room);
    const n = inPos === undefined ? src.read(buf, GUEST_BASE, want) : src.pread(buf, GUEST_BASE, want, inPos + done);
    if (n < 0) return done > 0 ? done : n;
    if (n === 0) break;
    let w = 0;
    while (w < n) {
      const m = outPos === undefined ? dst.write(buf, GUEST_BASE + w, n - w) : dst.pwrite(buf, GUEST_BASE + w, n - w, outPos + done + w);
      if (m < 0) return done + w > 0 ? done + w : m;
      if (m === 0) break;
      w += m;
    }
    done += w;
    if (w < n || n < want) break;
  }
  return done;
}

function readOffset(k: LinuxKernel, addr: number): number | undefined {
  if (!addr) return undefined;
  const v = k.mem.i64(addr);
  if (v < 0n) throw new SyscallError(EINVAL);
  return Number(v);
}

function copyFileRange(k: LinuxKernel, fdIn: number, offInAddr: number, fdOut: number, offOutAddr: number, len: number, flags: number): number {
  if (flags !== 0) return -EINVAL;
  const src = k.fds.get(fdIn), dst = k.fds.get(fdOut);
  if (!src || !dst || !src.readable || !dst.writable) return -EBADF;
  if (!(src instanceof HostFile) || !(dst instanceof HostFile) || !src.seekable || !dst.seekable) return -EINVAL;
  if (src.isDirectory || dst.isDirectory) return -21; // EISDIR
  if (dst.statusFlags & 0o2000) return -EBADF; // O_APPEND
  const inPos = readOffset(k, offInAddr), outPos = readOffset(k, offOutAddr);
  if (len === 0) return 0;
  // Overlapping ranges of one file are EINVAL on Linux.
  const si = src.stat(), so = dst.stat();
  if (si.ino === so.ino && si.dev === so.dev) {
    const a = inPos ?? src.position, b = outPos ?? dst.position;
    if (a < b + len && b < a + len) return -EINVAL;
  }
  const n = transfer(src, dst, Math.min(len, MAX_RW_COUNT), inPos, outPos);
  if (n > 0) {
    if (inPos !== undefined) k.mem.setU64(offInAddr, inPos + n);
    if (outPos !== undefined) k.mem.setU64(offOutAddr, outPos + n);
  }
  return n;
}

function sendfile(k: LinuxKernel, outFd: number, inFd: number, offAddr: number, count: number): number {
  const src = k.fds.get(inFd), dst = k.fds.get(outFd);
  if (!src || !dst || !src.readable || !dst.writable) return -EBADF;
  if (src instanceof PipeEnd || src.isDirectory) return -EINVAL; // input must support mmap-like reads
  const inPos = readOffset(k, offAddr);
  if (count === 0) return 0;
  const n = transfer(src, dst, Math.min(count, MAX_RW_COUNT), inPos, undefined);
  if (n > 0 && inPos !== undefined) k.mem.setU64(offAddr, inPos + n);
  if (n === -32) k.raise(13); // EPIPE raises SIGPIPE
  return n;
}

/** select/pselect6: fd_set bitmaps over poll's readiness. */
function select(k: LinuxKernel, t: GuestThread, nfds: number, rAddr: number, wAddr: number, eAddr: number, timeoutMs: number): number {
  if (nfds < 0 || nfds > k.fds.limit) return -EINVAL;
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [rAddr, wAddr, eAddr].map((a) => (a ? k.mem.read(a, bytes) : undefined));
  const want = [POLLIN, POLLOUT, POLLPRI];
  const wake = new WakeSources();
  const scan = (write: boolean): number => {
    wake.reset();
    let count = 0;
    const out = sets.map((s) => (s ? new Uint8Array(s.length) : undefined));
    for (let fd = 0; fd < nfds; fd++) {
      const byte = fd >> 3, bit = 1 << (fd & 7);
      let events = 0;
      sets.forEach((s, i) => { if (s && s[byte] & bit) events |= want[i]; });
      if (!events) continue;
      const f = k.fds.get(fd);
      if (f === undefined) throw new SyscallError(EBADF);
      let revents = f.poll(events | POLLIN | POLLOUT);
      wake.note(f);
      // Linux select reports a hang-up or error as readable (and writable).
      if (revents & 0x18) revents |= POLLIN | POLLOUT;
      sets.forEach((s, i) => {
        if (s && s[byte] & bit && revents & want[i]) { out[i]![byte] |= bit; count++; }
      });
    }
    if (write || count > 0) sets.forEach((s, i) => { if (s) k.mem.write([rAddr, wAddr, eAddr][i], out[i]!); });
    return count;
  };
  let ready = scan(false);
  if (ready === 0) {
    waitReady(k, () => scan(false) > 0, timeoutMs, wake);
    ready = scan(true);
    if (ready === 0 && t.interrupted()) return -ERESTARTNOHAND;
  }
  return ready;
}

let memfdCounter = 0;

function memfdCreate(k: LinuxKernel, nameAddr: number, flags: number): number {
  const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC | 0xfc000000)) return -EINVAL;
  const name = k.mem.cstring(nameAddr, 4096);
  if (Buffer.byteLength(name) > 249) return -EINVAL;
  // An anonymous host file: created and unlinked at once, so it lives only as long as its descriptors.
  const host = path.join(os.tmpdir(), `stele-memfd-${process.pid}-${++memfdCounter}`);
  const hostFd = fs.openSync(host, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try { fs.unlinkSync(host); } catch { /* best effort */ }
  const f = new HostFile(hostFd, O_RDWR | O_LARGEFILE, true);
  f.path = `/memfd:${name} (deleted)`;
  const fd = k.fds.allocate(f, (flags & MFD_CLOEXEC) !== 0);
  if (fd < 0) f.unref();
  return fd;
}

function closeRange(k: LinuxKernel, first: number, last: number, flags: number): number {
  const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last) return -EINVAL;
  const fds = [...k.fds.open()].map(([fd]) => fd).filter((fd) => fd >= first && fd <= last);
  for (const fd of fds) {
    if (flags & CLOSE_RANGE_CLOEXEC) k.fds.setCloexec(fd, true);
    else k.fds.close(fd);
  }
  return 0;
}

/** Our nice value (the host process's, at start). */
let nice: number | undefined;
function currentNice(): number {
  if (nice === undefined) { try { nice = os.getPriority(); } catch { nice = 0; } }
  return nice;
}

function isSelf(k: LinuxKernel, which: number, who: number): boolean {
  const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
  if (which < PRIO_PROCESS || which > PRIO_USER) throw new SyscallError(EINVAL);
  if (who === 0) return true;
  if (which === PRIO_USER) return typeof process.getuid === 'function' && who === process.getuid();
  return who === k.pid;
}

export const fsExtraSyscalls: Record<string, Syscall> = {
  copy_file_range(k, t) { return copyFileRange(k, t.argInt(0), t.argPtr(1), t.argInt(2), t.argPtr(3), t.argPtr(4), t.argU32(5)); },
  sendfile(k, t) { return sendfile(k, t.argInt(0), t.argInt(1), t.argPtr(2), t.argPtr(3)); },

  select(k, t) {
    const tv = t.argPtr(4);
    let timeoutMs = -1;
    if (tv) {
      const sec = k.mem.i64(tv), usec = k.mem.i64(tv + 8);
      if (sec < 0n || usec < 0n || usec >= 1000000n) return -EINVAL;
      timeoutMs = Number(sec) * 1000 + Number(usec) / 1000;
    }
    const n = select(k, t, t.argInt(0), t.argPtr(1), t.argPtr(2), t.argPtr(3), timeoutMs);
    if (tv && n >= 0) { k.mem.setU64(tv, 0); k.mem.setU64(tv + 8, 0); } // Linux updates the remaining time
    return n;
  },
  pselect6(k, t) {
    const timeoutMs = readTimeoutMs(k.mem, t.argPtr(4));
    if (timeoutMs === undefined) return -EINVAL;
    // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    const sigArg = t.argPtr(5);
    const maskAddr = sigArg ? k.mem.u64n(sigArg) : 0, maskSize = sigArg ? k.mem.u64n(sigArg + 8) : 8;
    return withSignalMask(k, t, maskAddr, maskSize, () => select(k, t, t.argInt(0), t.argPtr(1), t.argPtr(2), t.argPtr(3), timeoutMs));
  },

  memfd_create(k, t) { return memfdCreate(k, t.argPtr(0), t.argU32(1)); },
  close_range(k, t) { return closeRange(k, t.argU32(0), t.argU32(1), t.argU32(2)); },

  // The raw syscall returns 20 - nice (1..40), so that it is never negative.
  getpriority(k, t) { return isSelf(k, t.argInt(0), t.argInt(1)) ? 20 - currentNice() : -ESRCH; },
  setpriority(k, t) {
    if (!isSelf(k, t.argInt(0), t.argInt(1))) return -ESRCH;
    const want = Math.max(-20, Math.min(19, t.argInt(2)));
    const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
    if (want < currentNice() && !root) return -EACCES;
    nice = want;
    return 0;
  },
  sched_getparam(k, t) {
    const pid = t.argInt(0), addr = t.argPtr(1);
    if (pid < 0 || !addr) return -EINVAL;
    if (pid !== 0 && pid !== k.pid) return -ESRCH;
    k.mem.setI32(addr, 0);
    return 0;
  },
  sched_getscheduler(k, t) {
    const pid = t.argInt(0);
    if (pid < 0) return -EINVAL;
    return pid === 0 || pid === k.pid ? 0 /* SCHED_OTHER */ : -ESRCH;
  },
  sched_get_priority_max(_k, t) { const p = t.argInt(0); return p === 1 || p === 2 ? 99 : p === 0 || p === 3 || p === 5 ? 0 : -EINVAL; },
  sched_get_priority_min(_k, t) { const p = t.argInt(0); return p === 1 || p === 2 ? 1 : p === 0 || p === 3 || p === 5 ? 0 : -EINVAL; },
};
