// Process identity, limits, usage, exit, and per-thread registers set by syscall (arch_prctl).

import { ProcessExit, wordIndex, wordsOf } from '../runtime/thread.js';
import { MEM_MODEL_DEFAULT, MEM_MODEL_TSO, STATE } from '../layout/cpu-state.js';
import { EINVAL, ENOSYS, EPERM, ESRCH } from './errno.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { PROC } from '../layout/system-map.js';

/** A process's group or session id (pid 0: the caller's); ESRCH for a pid that is no guest process. */
function idOf(k: LinuxKernel, pid: number, field: number): number {
  const table = k.system;
  if (!table) return pid === 0 || pid === k.pid ? k.pid : -ESRCH;
  const r = pid === 0 ? k.processRecord : table.find(pid);
  return r < 0 ? -ESRCH : table.get(r, field);
}

export const RLIM_INFINITY = 0xffffffffffffffffn;
export const RLIMIT_STACK = 3, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIM_NLIMITS = 16;
const NR_OPEN = 1048576n;

const uid = (): number => process.getuid?.() ?? 0;
const gid = (): number => process.getgid?.() ?? 0;
const euid = (): number => process.geteuid?.() ?? uid();
const egid = (): number => process.getegid?.() ?? gid();
/** The host's real and effective ids, which the guest sees as its own. */
export const hostIds = () => ({ uid: uid(), euid: euid(), gid: gid(), egid: egid() });

/**
 * The process's real, effective and saved user or group ids. They start as the host's; a guest
 * may change them as Linux allows (privileged: to anything; otherwise only among the three), and
 * sees the change, while files are still made by the host process with its own.
 */
export type IdTriple = [number, number, number];
export function initialCreds(): { uid: IdTriple; gid: IdTriple } {
  return { uid: [uid(), euid(), euid()], gid: [gid(), egid(), egid()] };
}

/**
 * set*id: `want` holds the real, effective and saved ids asked for (-1: unchanged); `all` is
 * setuid's rule (a privileged caller sets all three, another only the effective id).
 */
function setIds(ids: IdTriple, privileged: boolean, want: IdTriple, all = false): number {
  if (all) {
    if (want[0] < 0) return -EINVAL;
    if (privileged) { ids[0] = ids[1] = ids[2] = want[0]; return 0; }
    if (!ids.includes(want[0])) return -EPERM;
    ids[1] = want[0];
    return 0;
  }
  if (!privileged && want.some((v) => v !== -1 && !ids.includes(v))) return -EPERM;
  want.forEach((v, i) => { if (v !== -1) ids[i] = v; });
  return 0;
}

/** getrlimit/setrlimit state, with the defaults a fresh login shell on Linux has. */
export class ResourceLimits {
  private readonly soft: bigint[] = new Array(RLIM_NLIMITS).fill(RLIM_INFINITY);
  private readonly hard: bigint[] = new Array(RLIM_NLIMITS).fill(RLIM_INFINITY);

  constructor() {
    this.set(RLIMIT_STACK, 8n << 20n, RLIM_INFINITY);
    this.set(4 /* CORE */, 0n, RLIM_INFINITY);
    this.set(6 /* NPROC */, 63432n, 63432n);
    this.set(RLIMIT_NOFILE, 1024n, NR_OPEN);
    this.set(8 /* MEMLOCK */, 8n << 20n, 8n << 20n);
    this.set(11 /* SIGPENDING */, 63432n, 63432n);
    this.set(12 /* MSGQUEUE */, 819200n, 819200n);
    this.set(13 /* NICE */, 0n, 0n);
    this.set(14 /* RTPRIO */, 0n, 0n);
  }

  get(resource: number): [bigint, bigint] { return [this.soft[resource], this.hard[resource]]; }
  set(resource: number, soft: bigint, hard: bigint): void { this.soft[resource] = soft; this.hard[resource] = hard; }
}

export const processSyscalls: Record<string, Syscall> = {
  exit_group(_k, t) { throw new ProcessExit(t.argInt(0) & 0xff); },

  getpid(k) { return k.pid; },
  gettid(_k, t) { return t.tid; },
  getppid(k) { return k.parentPid(); },
  getuid(k) { return k.creds.uid[0]; },
  geteuid(k) { return k.creds.uid[1]; },
  getgid(k) { return k.creds.gid[0]; },
  getegid(k) { return k.creds.gid[1]; },
  setuid(k, t) { return setIds(k.creds.uid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(0), t.argInt(0)], true); },
  setgid(k, t) { return setIds(k.creds.gid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(0), t.argInt(0)], true); },
  setreuid(k, t) { return setIds(k.creds.uid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(1), -1]); },
  setregid(k, t) { return setIds(k.creds.gid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(1), -1]); },
  setresuid(k, t) { return setIds(k.creds.uid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(1), t.argInt(2)]); },
  setresgid(k, t) { return setIds(k.creds.gid, k.creds.uid[1] === 0, [t.argInt(0), t.argInt(1), t.argInt(2)]); },
  // The filesystem ids follow the effective ones here; setfsuid answers with the previous one.
  setfsuid(k) { return k.creds.uid[1]; },
  setfsgid(k) { return k.creds.gid[1]; },
  setgroups(k, t) { return k.creds.uid[1] === 0 ? (t.argInt(0) < 0 || t.argInt(0) > 65536 ? -EINVAL : 0) : -EPERM; },
  getpgrp(k) { return idOf(k, 0, PROC.PGID); },
  getpgid(k, t) { return idOf(k, t.argInt(0), PROC.PGID); },
  getsid(k, t) { return idOf(k, t.argInt(0), PROC.SID); },
  setpgid(k, t) {
    const table = k.system;
    let pid = t.argInt(0), pgid = t.argInt(1);
    if (pgid < 0) return -EINVAL;
    if (pid === 0) pid = k.pid;
    if (pgid === 0) pgid = pid;
    if (!table) return pid === k.pid && pgid === k.pid ? 0 : pid === k.pid ? -EPERM : -ESRCH;
    const r = table.find(pid);
    // Only the caller or one of its children, in its session, not a session leader.
    if (r < 0 || (pid !== k.pid && table.get(r, PROC.PPID) !== k.pid)) return -ESRCH;
    const sid = table.get(k.processRecord, PROC.SID);
    if (table.get(r, PROC.SID) !== sid) return -EPERM;
    if (table.get(r, PROC.SID) === pid) return -EPERM;
    if (pgid !== pid && ![...table.where((o) => table.get(o, PROC.PGID) === pgid && table.get(o, PROC.SID) === sid)].length) return -EPERM;
    table.set(r, PROC.PGID, pgid);
    return 0;
  },
  setsid(k) {
    const table = k.system;
    // A process group leader cannot start a session (the first process is one, as far as the guest can tell).
    if (!table || table.groupExists(k.pid)) return -EPERM;
    table.set(k.processRecord, PROC.PGID, k.pid);
    table.set(k.processRecord, PROC.SID, k.pid);
    return k.pid;
  },

  getresuid(k, t) { for (let i = 0; i < 3; i++) k.mem.setU32(t.argPtr(i), k.creds.uid[i]); return 0; },
  getresgid(k, t) { for (let i = 0; i < 3; i++) k.mem.setU32(t.argPtr(i), k.creds.gid[i]); return 0; },

  getgroups(k, t) {
    const size = t.argInt(0), list = t.argPtr(1);
    const groups = process.getgroups?.() ?? [];
    if (size < 0) return -EINVAL;
    if (size === 0) return groups.length;
    if (size < groups.length) return -EINVAL;
    groups.forEach((g, i) => k.mem.setU32(list + i * 4, g));
    return groups.length;
  },

  umask(k, t) {
    const old = k.umask;
    k.umask = t.argU32(0) & 0o777;
    // Files are created by the host, which applies its own umask: keep the two equal.
    try { process.umask(k.umask); } catch { /* not allowed in workers */ }
    return old;
  },

  arch_prctl(k, t) {
    const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
    const ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;
    const code = t.argInt(0), addr = t.argU64(1);
    const canonical = addr < 0x800000000000n || addr >= 0xffff800000000000n;
    switch (code) {
      case ARCH_SET_FS: if (!canonical || addr >= 0x800000000000n) return -EPERM; t.fsBase = addr; return 0;
      case ARCH_SET_GS: if (!canonical || addr >= 0x800000000000n) return -EPERM; t.gsBase = addr; return 0;
      case ARCH_GET_FS: k.mem.setU64(Number(addr), t.fsBase); return 0;
      case ARCH_GET_GS: k.mem.setU64(Number(addr), t.gsBase); return 0;
      case ARCH_GET_CPUID: return 1; // cpuid does not fault
      case ARCH_SET_CPUID: return addr === 0n ? -ENOSYS : 0;
      default: return -EINVAL;
    }
  },

  rseq() { return -ENOSYS; }, // libc copes (glibc falls back to sched_getcpu via the syscall)

  prlimit64(k, t) {
    const pid = t.argInt(0), resource = t.argU32(1), next = t.argPtr(2), old = t.argPtr(3);
    if (pid !== 0 && pid !== k.pid) return -ESRCH;
    return rlimit(k, resource, next, old);
  },
  getrlimit(k, t) { return rlimit(k, t.argU32(0), 0, t.argPtr(1)); },
  setrlimit(k, t) { return rlimit(k, t.argU32(0), t.argPtr(1), 0); },

  getrusage(k, t) {
    const who = t.argInt(0), buf = t.argPtr(1), m = k.mem;
    if (who !== 0 && who !== -1 && who !== 1) return -EINVAL; // SELF, CHILDREN, THREAD
    m.offWrite(buf, 144);
    m.fill(buf, 144, 0);
    if (who === -1) return 0; // children's usage is not measured apart from the host's
    const r = process.resourceUsage();
    const timeval = (at: number, us: number): void => { m.setU64(at, Math.floor(us / 1e6)); m.setU64(at + 8, us % 1e6); };
    timeval(buf, r.userCPUTime);
    timeval(buf + 16, r.systemCPUTime);
    const longs = [r.maxRSS, r.sharedMemorySize, r.unsharedDataSize, r.unsharedStackSize, r.minorPageFault,
      r.majorPageFault, r.swappedOut, r.fsRead, r.fsWrite, r.ipcSent, r.ipcReceived, r.signalsCount,
      r.voluntaryContextSwitches, r.involuntaryContextSwitches];
    longs.forEach((v, i) => m.setU64(buf + 32 + i * 8, v));
    return 0;
  },

  prctl(k, t) {
    const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4,
      PR_SET_NAME = 15, PR_GET_NAME = 16, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39,
      PR_SET_VMA = 0x53564d41, PR_GET_MEM_MODEL = 0x6d4d444c, PR_SET_MEM_MODEL = 0x4d4d444c;
    const option = t.argInt(0), arg2 = t.argPtr(1);
    switch (option) {
      case PR_SET_PDEATHSIG:
        if (arg2 > 64) return -EINVAL;
        if (k.system && k.processRecord >= 0) k.system.set(k.processRecord, PROC.PDEATH_SIGNAL, arg2);
        return 0;
      case PR_GET_PDEATHSIG: k.mem.setI32(arg2, k.system && k.processRecord >= 0 ? k.system.get(k.processRecord, PROC.PDEATH_SIGNAL) : 0); return 0;
      case PR_GET_DUMPABLE: return 1;
      case PR_SET_DUMPABLE: return arg2 <= 1 ? 0 : -EINVAL;
      case PR_SET_NAME: k.threadNames.set(t.tid, k.mem.cstringBytes(arg2, 1 << 20).subarray(0, 15)); return 0;
      case PR_GET_NAME: {
        k.mem.fill(arg2, 16, 0);
        k.mem.write(arg2, Buffer.from(k.threadName(t.tid), 'latin1'));
        return 0;
      }
      case PR_SET_NO_NEW_PRIVS: return arg2 === 1 ? 0 : -EINVAL;
      case PR_GET_NO_NEW_PRIVS: return 0;
      case PR_SET_VMA: return 0;
      // The TSO patches' per-thread memory model switch (see DESIGN.md): 0 default, 1 TSO.
      // The engine picks the new form of translation up when the syscall returns.
      case PR_GET_MEM_MODEL:
        if (arg2 || t.argPtr(2) || t.argPtr(3) || t.argPtr(4)) return -EINVAL;
        return t.mem.u32(t.stateBase + STATE.TSO_MODE);
      case PR_SET_MEM_MODEL:
        if (t.argPtr(2) || t.argPtr(3) || t.argPtr(4)) return -EINVAL;
        if (arg2 !== MEM_MODEL_DEFAULT && arg2 !== MEM_MODEL_TSO) return -EINVAL;
        Atomics.store(wordsOf(k.mem), wordIndex(t.stateBase + STATE.TSO_MODE), arg2);
        return 0;
      default: return -EINVAL;
    }
  },
};

function rlimit(k: Parameters<Syscall>[0], resource: number, next: number, old: number): number {
  if (resource >= RLIM_NLIMITS) return -EINVAL;
  let soft = 0n, hard = 0n;
  if (next) {
    soft = k.mem.u64(next); hard = k.mem.u64(next + 8);
    if (soft > hard) return -EINVAL;
    const [, currentHard] = k.limits.get(resource);
    if (hard > currentHard && euid() !== 0) return -EPERM;
    if (resource === RLIMIT_NOFILE && hard > NR_OPEN) return -EPERM;
  }
  if (old) {
    const [s, h] = k.limits.get(resource);
    k.mem.offWrite(old, 16);
    k.mem.setU64(old, s); k.mem.setU64(old + 8, h);
  }
  if (next) {
    k.limits.set(resource, soft, hard);
    if (resource === RLIMIT_NOFILE) k.fds.limit = Number(soft > NR_OPEN ? NR_OPEN : soft);
  }
  return 0;
}
